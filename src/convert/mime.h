/* Internet mail (MIME) <-> message object (mapi/message.h), per
 * MS-OXCMAIL: section 2.2 (MIME to message) in mime_to_message and
 * section 2.1 (message to MIME) in message_to_mime. GMime 3 parses and
 * writes the MIME; charsets go through its iconv layer.
 *
 * Both need convert_init() (convert/convert.h) once per process. They
 * keep no global state and may run on several threads at once, each
 * with its own pool. */
#ifndef CONVERT_MIME_H
#define CONVERT_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/pool.h"
#include "mapi/message.h"

/* Defaults of struct mime_import_opts (a zero field takes these). */
#define MIME_IMPORT_DEFAULT_MAX_SIZE (256u * 1024u * 1024u)
#define MIME_IMPORT_DEFAULT_MAX_PARTS 10000u
#define MIME_IMPORT_DEFAULT_MAX_DEPTH 100u
#define MIME_IMPORT_DEFAULT_MAX_EMBEDDED 16u

enum mime_import_flags {
	/* Keep application/ms-tnef parts as plain attachments instead of
	 * merging their properties and attachments (MS-OXCMAIL, TNEF). */
	MIME_IMPORT_NO_TNEF = 0x1,
	/* Do not derive PR_BODY from HTML or RTF when the MIME has no
	 * text/plain (the caller will call convert_body_sync itself). */
	MIME_IMPORT_NO_BODY_DERIVE = 0x2,
	/* Leave uuencoded blocks inside text/plain bodies as they are instead
	 * of turning them into attachments. */
	MIME_IMPORT_NO_UUENCODE = 0x4,
};

struct mime_import_opts {
	size_t max_size;        /* input bytes */
	unsigned max_parts;     /* MIME entities in the whole message */
	unsigned max_depth;     /* multipart nesting; deeper parts are skipped */
	unsigned max_embedded;  /* message/rfc822 nesting; deeper ones stay .eml files */
	unsigned flags;         /* enum mime_import_flags */
	/* FILETIME used where the spec says "the current time" (a missing or
	 * invalid Date); 0 means now. */
	uint64_t now;
};

/* What the reader saw besides the message (for logs and tests). */
struct mime_import_info {
	unsigned parts;          /* MIME entities seen */
	unsigned warnings;       /* GMime parser warnings (malformed input) */
	unsigned skipped;        /* parts dropped: nesting or part limits */
	unsigned charset_fallbacks; /* texts decoded with a fallback charset */
	bool tnef_merged;        /* a winmail.dat was merged */
};

/* Reads one MIME message (RFC 5322 + MIME, CRLF or bare LF) into a new
 * message object allocated from pool, which owns everything reachable
 * from *msg_r. Malformed MIME is read as forgivingly as mainstream
 * clients do; text that is not valid in its declared charset is decoded
 * with replacement characters. The input must stay valid only during the
 * call (attachment data is copied into pool).
 * opts and info_r may be NULL.
 * Input without a header block (empty, a bare body) is a message without
 * headers whose text body is the whole input.
 * Returns 1, or -1 with *error_r (static text) when the input is larger
 * than opts->max_size (or 4 GiB). */
int mime_to_message(pool_t *pool, const void *data, size_t len,
	const struct mime_import_opts *opts, struct mapi_message **msg_r,
	struct mime_import_info *info_r, const char **error_r);

enum mime_export_flags {
	/* Write Bcc recipients in a Bcc header (drafts, Sent Items copies);
	 * by default they exist only in the envelope (MS-OXCMAIL, Bcc). */
	MIME_EXPORT_BCC = 0x1,
	/* Carry the message as TNEF in an application/ms-tnef part
	 * (winmail.dat) beside a text body, for another Exchange-compatible
	 * server (MS-OXCMAIL, PS_INTERNET_HEADERS). */
	MIME_EXPORT_TNEF = 0x2,
	/* Write bare LF line ends instead of CRLF. */
	MIME_EXPORT_LF = 0x4,
};

/* Resolves an address book (EX) address to SMTP when a recipient or
 * sender has no PR_SMTP_ADDRESS; returns NULL if unknown. The string must
 * live until message_to_mime returns. */
typedef const char *mime_resolve_fn(void *ctx, const char *addrtype, const char *address);

struct mime_export_opts {
	unsigned flags;       /* enum mime_export_flags */
	/* Domain for a generated Message-ID when the message has none and its
	 * sender has no domain ("localhost" when NULL). */
	const char *domain;
	/* FILETIME for a missing PR_CLIENT_SUBMIT_TIME; 0 means now. */
	uint64_t now;
	mime_resolve_fn *resolve;
	void *resolve_ctx;
};

/* Writes msg as a MIME message appended to out: headers from its
 * properties and recipients, text and HTML bodies (as
 * multipart/alternative), inline images in multipart/related,
 * attachments, embedded messages as message/rfc822, RFC 2047 headers and
 * RFC 2231 file names, every line at most 998 octets (quoted-printable or
 * base64 where needed), a Message-ID when the message has none. Bodies
 * the message lacks are derived from the ones it has (MS-OXBBODY).
 * opts may be NULL. Returns 1, or -1 with *error_r (static text) when
 * the message cannot be written (TNEF encoding failed). */
int message_to_mime(const struct mapi_message *msg, const struct mime_export_opts *opts,
	struct buf *out, const char **error_r);

#endif
