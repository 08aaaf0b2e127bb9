/* Process-wide setup of the conversion module: GMime (MIME parsing and
 * writing, charsets) is initialised once per process, before any thread
 * converts anything. The binary calls convert_init() at startup. */
#ifndef CONVERT_CONVERT_H
#define CONVERT_CONVERT_H

/* Initialises GMime. Idempotent and thread-safe (a second call does
 * nothing); never fails. */
void convert_init(void);
/* Releases GMime's global state; call once at exit, after every
 * conversion has finished. convert_init() may be called again after. */
void convert_deinit(void);

#endif
