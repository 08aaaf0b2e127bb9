/* The MIME structure of a message as IMAP describes it (RFC 3501 7.4.2):
 * every entity's byte ranges in the original message (headers, body),
 * its content fields, the BODYSTRUCTURE / BODY and ENVELOPE forms, and
 * section lookup ("1.2", "3.HEADER") for BODY[section] and BINARY[].
 *
 * The part boundaries are found by a bounded scanner of our own, because
 * the exact octet ranges of every entity in the original message are what
 * IMAP serves and GMime does not expose them; header field values
 * (Content-Type and Content-Disposition parameters, address lists) are
 * parsed with GMime. Thread-safe; no global state besides GMime's
 * initialisation. */
#ifndef CONVERT_MIME_STRUCT_H
#define CONVERT_MIME_STRUCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/pool.h"

#define MIME_STRUCT_MAX_DEPTH 40     /* nesting of multiparts and messages */
#define MIME_STRUCT_MAX_PARTS 10000  /* entities in one message */

struct mime_param {
	const char *name, *value;
};

struct mime_part {
	/* Octet ranges in the message: [hdr_start, body_start) is the
	 * header with its blank line, [body_start, body_end) the body. */
	size_t hdr_start, body_start, body_end;
	const char *type, *subtype; /* as written (defaults "text" "plain") */
	struct mime_param *params;
	size_t nparams;
	const char *id, *description, *encoding, *md5, *location;
	const char *disposition;
	struct mime_param *disp_params;
	size_t ndisp_params;
	const char *language;
	uint64_t lines; /* body lines (text/ and message/rfc822) */
	bool multipart;
	struct mime_part *children; /* multipart */
	size_t nchildren;
	struct mime_part *message; /* message/rfc822: the embedded message */
};

/* Parses the structure of data[0..len) into pool. Never fails: malformed
 * MIME is read as forgivingly as mainstream servers do (a multipart
 * without its boundary becomes one text part; nesting past the limits is
 * left unparsed). The data must stay valid while the result is used only
 * for mime_struct_write_envelope (which reads header values again). */
struct mime_part *mime_struct_parse(pool_t *pool, const unsigned char *data, size_t len);

/* The octets of the header at the start of data (its blank line
 * included; len when there is no blank line). For ENVELOPE alone, which
 * needs no more than the header. */
size_t mime_struct_header_end(const unsigned char *data, size_t len);

/* Appends BODYSTRUCTURE (extended) or BODY (not extended) for part. */
void mime_struct_write_body(const struct mime_part *part, const unsigned char *data,
	bool extended, struct buf *out);
/* Appends the ENVELOPE of the message whose header is part's. */
void mime_struct_write_envelope(const struct mime_part *part, const unsigned char *data,
	struct buf *out);

enum mime_section_kind {
	MIME_SECTION_ALL,    /* "" or "1.2": the part's body (whole message for "") */
	MIME_SECTION_HEADER, /* HEADER, 1.2.HEADER: a message's header */
	MIME_SECTION_TEXT,   /* TEXT, 1.2.TEXT: a message's body */
	MIME_SECTION_MIME,   /* 1.2.MIME: the part's own MIME header */
};

/* Finds the octet range of a section: part is the numeric path (e.g.
 * "1.2", "" for the message itself), kind what of it. For a part that is
 * a message/rfc822, HEADER and TEXT refer to the embedded message. Returns
 * 0 with *start_r and *end_r set, or -1 if there is no such part (or kind
 * does not apply to it). *part_r (optional) is the entity found. */
int mime_struct_section(const struct mime_part *root, const char *path,
	enum mime_section_kind kind, size_t *start_r, size_t *end_r,
	const struct mime_part **part_r);

/* Appends the part's body with its Content-Transfer-Encoding removed
 * (RFC 3516 BINARY): base64 and quoted-printable are decoded, 7bit, 8bit
 * and binary copied. Returns 0, or -1 for an encoding we do not know
 * (IMAP's [UNKNOWN-CTE]). */
int mime_struct_decode(const struct mime_part *part, const unsigned char *data, struct buf *out);

/* The unfolded value of the first header field called name in
 * data[start, end) (into pool), or NULL. */
const char *mime_struct_header(pool_t *pool, const unsigned char *data, size_t start, size_t end,
	const char *name);

#endif
