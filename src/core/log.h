/* Logging.
 *
 * Every line names the session it belongs to: a struct log_ctx carries the
 * session id, protocol, peer, user and what the session was doing, and the
 * logger prefixes each line with them. The destination and minimum level are
 * set once at startup (log_open); after that logging is thread-safe and each
 * line is written with a single write(2).
 *
 * Levels (STYLE.md): panic is a bug (abort with a core), fatal is the
 * environment (exit 1), then error, warning, info, debug. */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include <stdarg.h>
#include <stdnoreturn.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_FATAL,
	LOG_LEVEL_PANIC,
};

/* The context a line belongs to. All fields may be NULL. The strings are
 * not copied: they must outlive the context's use. */
struct log_ctx {
	const char *session; /* e.g. "imap-17" */
	const char *peer;    /* e.g. "127.0.0.1:51234" */
	const char *user;
	const char *action; /* what the session was doing, e.g. "FETCH" */
};

/* Sets the destination: path NULL or "-" means stderr; otherwise the file
 * is opened for appending. Returns 0, or -1 with *error_r set. Call before
 * starting threads. */
int log_open(const char *path, enum log_level min_level, const char **error_r);
/* Closes a log file opened by log_open and returns to stderr. */
void log_close(void);
void log_set_level(enum log_level min_level);
/* Parses "debug", "info", "warning", "error"; returns 0 or -1. */
int log_level_parse(const char *name, enum log_level *level_r);
enum log_level log_get_level(void);

void log_msg(const struct log_ctx *ctx, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vmsg(const struct log_ctx *ctx, enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#define log_debug(ctx, ...) log_msg((ctx), LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(ctx, ...) log_msg((ctx), LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warning(ctx, ...) log_msg((ctx), LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_error(ctx, ...) log_msg((ctx), LOG_LEVEL_ERROR, __VA_ARGS__)

/* Logs and exits with status 1. */
noreturn void log_fatal(const struct log_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Logs and aborts (a bug). */
noreturn void log_panic(const struct log_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Assertion that stays on in release builds. */
#define HERMOD_ASSERT(cond)                                                                        \
	do {                                                                                       \
		if (!(cond))                                                                       \
			log_panic(NULL, "assertion failed: %s (%s:%d)", #cond, __FILE__,           \
				__LINE__);                                                         \
	} while (0)

#endif
