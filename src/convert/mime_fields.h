/* Header fields that IMAP sorts, threads and searches on (RFC 5256, RFC
 * 5957, RFC 3501 6.4.4), read from a message's header with GMime: the
 * first address of From, To and Cc (display name decoded from RFC 2047,
 * local part and domain), the Message-ID and the message IDs of
 * References (or In-Reply-To), and unstructured text decoded from RFC
 * 2047 encoded words into UTF-8.
 *
 * Thread-safe; no global state besides GMime's initialisation (done on
 * first use). */
#ifndef CONVERT_MIME_FIELDS_H
#define CONVERT_MIME_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/pool.h"

/* References kept per message: the last ones (the nearest ancestors). */
#define MIME_FIELDS_MAX_REFS 100

struct mime_addr {
	const char *name;    /* display name, UTF-8, "" when none */
	const char *mailbox; /* local part, "" when none */
	const char *host;    /* domain, "" when none */
};

struct mime_fields {
	bool has_from, has_to, has_cc;
	struct mime_addr from, to, cc; /* the first mailbox of each field */
	const char *message_id;        /* without <>, NULL when missing or invalid */
	const char **refs;             /* References' message IDs, oldest first; else the
	                                  first of In-Reply-To */
	size_t nrefs;
};

#define MIME_FIELDS_ADDRS  0x1u /* from, to, cc */
#define MIME_FIELDS_THREAD 0x2u /* message_id, refs */

/* Reads the fields named by what from the header hdr[0..len) (a header
 * block; anything after its blank line is ignored) into *out, strings
 * from pool. Never fails: missing or malformed fields are left empty. */
void mime_fields_parse(
        pool_t *pool, const unsigned char *hdr, size_t len, unsigned what, struct mime_fields *out);

/* An unstructured header value (raw, as unfolded by mime_struct_header)
 * with RFC 2047 encoded words decoded into UTF-8 (charsets GMime does
 * not know, and invalid bytes, as readers do: UTF-8, else
 * windows-1252). NULL gives NULL. */
const char *mime_fields_decode_text(pool_t *pool, const char *raw);

#endif
