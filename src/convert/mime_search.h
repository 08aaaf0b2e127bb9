/* Text search in a MIME message as IMAP SEARCH needs it (RFC 3501 6.4.4,
 * RFC 9051 6.4.4): the search string, given in any charset iconv knows,
 * is taken to UTF-8 and matched as a substring, case-insensitively
 * (Unicode case folding after NFKC normalization, so "STRASSE" finds
 * "Straße" and a decomposed "é" finds a precomposed one), against
 * - header field values with RFC 2047 encoded words decoded (and raw
 *   8-bit text read as UTF-8, else windows-1252);
 * - the text of every text/ part (embedded messages included) with its
 *   Content-Transfer-Encoding undone and its charset converted to UTF-8.
 *
 * A message's folded text is made once per message and kept in the
 * struct mime_search_msg, so several keys on one message cost one
 * decoding. Text that is ASCII in an ASCII-based form is matched in place
 * without copying (the common case). Requires GMime (initialised on first
 * use). Thread-safe; no global state. */
#ifndef CONVERT_MIME_SEARCH_H
#define CONVERT_MIME_SEARCH_H

#include <stdbool.h>
#include <stddef.h>

#include "convert/mime_struct.h"
#include "core/buf.h"
#include "core/pool.h"

/* A search string, folded. */
struct mime_search_key {
	const char *folded; /* NFKC, case-folded UTF-8 */
	size_t len;
	bool ascii; /* folded is all ASCII */
};

/* Is charset one iconv (through GMime's aliases) converts from? */
bool mime_search_charset_known(const char *charset);

/* Folds the search string s[0..len) given in charset (NULL: UTF-8, with
 * windows-1252 for bytes that are not UTF-8) into *key (pool). Returns
 * 0, or -1 when the charset is unknown (IMAP's [BADCHARSET]). */
int mime_search_key_init(
        pool_t *pool, const char *charset, const void *s, size_t len, struct mime_search_key *key);

/* The searchable text of one message, made as keys need it. */
struct mime_search_msg {
	pool_t *pool; /* the caller's, for this message */
	const unsigned char *data;
	size_t len;
	struct mime_part *root;       /* parsed on first use */
	struct buf header;            /* the top header, decoded and folded */
	bool header_done, header_raw; /* header_raw: match data's header in place */
	size_t header_end;
	struct mime_search_part *parts; /* the text parts */
	size_t nparts;
	bool parts_done;
};

/* Starts on the message data[0..len) (must stay valid while searched);
 * scratch from pool. */
void mime_search_msg_init(
        struct mime_search_msg *m, pool_t *pool, const unsigned char *data, size_t len);

/* Does the value of any header field called name (of the top-level
 * header) contain key? An empty key matches any message that has the
 * field. */
bool mime_search_header(
        struct mime_search_msg *m, const char *name, const struct mime_search_key *key);
/* Does the text of any text part contain key (BODY)? */
bool mime_search_body(struct mime_search_msg *m, const struct mime_search_key *key);
/* Does the header or the text contain key (TEXT)? */
bool mime_search_text(struct mime_search_msg *m, const struct mime_search_key *key);

/* Appends text (UTF-8) NFKC-normalized and case-folded; what keys and
 * texts are compared in. Invalid UTF-8 is sanitized first. */
void mime_search_fold(const char *text, size_t len, struct buf *out);

#endif
