/* Body coherence (MS-OXBBODY): a message's text (PR_BODY), HTML (PR_HTML)
 * and compressed RTF (PR_RTF_COMPRESSED) bodies, with PR_NATIVE_BODY_INFO
 * naming the one the others were derived from, stay consistent whichever
 * one a client wrote. The store and the protocols call convert_body_sync
 * when a message is saved; MIME import and export call it themselves.
 *
 * Encodings: PR_BODY is UTF-8 in memory like every string; PR_HTML is
 * binary in the code page of PR_INTERNET_CPID (UTF-8 when absent, as
 * this module always writes it); PR_RTF_COMPRESSED is MS-OXRTFCP. RTF
 * that encapsulates HTML or text (MS-OXRTFEX) gives back the original. */
#ifndef CONVERT_BODY_H
#define CONVERT_BODY_H

#include "core/buf.h"
#include "core/pool.h"
#include "mapi/mapi.h"

/* Body kinds, as bits. */
enum convert_body {
	CONVERT_BODY_TEXT = 0x1,
	CONVERT_BODY_HTML = 0x2,
	CONVERT_BODY_RTF = 0x4,
	CONVERT_BODY_ALL = 0x7,
};

/* Limit on a derived body (bytes of UTF-8 or RTF). */
#define CONVERT_BODY_MAX (64u * 1024u * 1024u)

/* The best body of props by MS-OXBBODY 2.1.3.1: PR_NATIVE_BODY_INFO
 * when set, else from which bodies exist and PR_RTF_IN_SYNC. Returns a
 * NATIVE_BODY_* value (mapi/flags.h); NATIVE_BODY_UNDEFINED
 * when there is no body. */
int convert_body_best(const struct mapi_propvals *props);

/* Makes the bodies of props coherent:
 * - written: the CONVERT_BODY_* bits of the bodies the client has just
 *   set (0: none in particular; the best body is the source). With one
 *   bit, that body is the source; with several, the best body among
 *   them. Bodies that were neither written nor derived now are stale
 *   and deleted.
 * - want: the bodies to make present (derived from the source when
 *   missing or stale). Already present, non-stale bodies are kept.
 * Sets PR_NATIVE_BODY_INFO to the source's kind and PR_RTF_IN_SYNC to
 * true when an RTF body is present (false when RTF is stale but kept).
 * Values are allocated from pool. With no body at all, nothing changes.
 * Returns 1, or -1 with *error_r when the source cannot be read (RTF that
 * does not decompress, a body above CONVERT_BODY_MAX): props are then
 * unchanged. */
int convert_body_sync(pool_t *pool, struct mapi_propvals *props, unsigned written, unsigned want,
	const char **error_r);

/* Appends the HTML body of props as UTF-8: PR_HTML decoded from its code
 * page, or HTML extracted from encapsulating RTF, or derived from the
 * text or native RTF. Returns 1, 0 when the message has no body, -1 with
 * *error_r. */
int convert_body_html(const struct mapi_propvals *props, struct buf *out, const char **error_r);
/* Appends the text body of props (UTF-8), derived when PR_BODY is absent.
 * Returns 1, 0 when the message has no body, -1 with *error_r. */
int convert_body_text(const struct mapi_propvals *props, struct buf *out, const char **error_r);

#endif
