/* SMTP command lines (RFC 5321 4.1), written by hand: no Debian library
 * parses the server side of SMTP. Everything here is bounded and works on
 * one complete line without its CRLF; nothing is allocated except from
 * the pool passed in.
 *
 * The DATA scanner below finds the end of the message for the framer and
 * checks each line (RFC 5321 2.3.8, 4.1.1.4, 4.5.2, 4.5.3.1.6). */
#ifndef PROTO_SMTP_SMTP_PARSE_H
#define PROTO_SMTP_SMTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/pool.h"

enum smtp_verb {
	SMTP_VERB_UNKNOWN = 0,
	SMTP_VERB_HELO,
	SMTP_VERB_EHLO,
	SMTP_VERB_MAIL,
	SMTP_VERB_RCPT,
	SMTP_VERB_DATA,
	SMTP_VERB_BDAT,
	SMTP_VERB_RSET,
	SMTP_VERB_NOOP,
	SMTP_VERB_QUIT,
	SMTP_VERB_VRFY,
	SMTP_VERB_EXPN,
	SMTP_VERB_HELP,
	SMTP_VERB_STARTTLS,
	SMTP_VERB_AUTH,
};

/* RFC 5321 4.5.3.1.4 allows 512 octets; extensions make lines longer
 * (RFC 1869 4.1.2 adds room per parameter). */
#define SMTP_COMMAND_MAX 2048
/* Parameters per MAIL or RCPT command. */
#define SMTP_PARAMS_MAX 16

/* Splits "VERB[ args]": the verb (case-insensitive) and the rest after one
 * space. line has no CRLF. Unknown verbs are SMTP_VERB_UNKNOWN (not an
 * error). */
enum smtp_verb smtp_verb_parse(const char *line, size_t len, struct slice *args_r);
const char *smtp_verb_name(enum smtp_verb verb);

struct smtp_param {
	char *keyword; /* upper-cased */
	char *value;   /* NULL when the parameter has no "=value" */
};

struct smtp_path {
	/* The mailbox "local@domain" ("" for the null path <>; for a bare
	 * "<Postmaster>" RCPT, "Postmaster"). Source routes (RFC 5321 C:
	 * "@a,@b:") are parsed and dropped. */
	char *address;
	char *domain;    /* after the last "@" ("" for <> and <Postmaster>) */
	bool null_path;  /* <> */
	bool postmaster; /* <Postmaster> without a domain (RCPT only) */
	bool utf8;       /* contains octets >= 0x80 (needs SMTPUTF8) */
	bool had_route;  /* an RFC 5321 source route was given (and ignored) */
	struct smtp_param params[SMTP_PARAMS_MAX];
	unsigned param_count;
};

/* Parses the arguments of MAIL ("FROM:<path> params") or RCPT ("TO:<path>
 * params"): prefix is "FROM:" or "TO:" (matched case-insensitively; a
 * space after the colon is tolerated, as many clients send it). The path
 * must be in angle brackets; the local part may be a dot-string or a
 * quoted string (kept quoted in address), the domain a domain name or an
 * address literal ([192.0.2.1], [IPv6:...]). UTF-8 is accepted in local
 * part and domain when allow_utf8 (SMTPUTF8); *utf8 tells. Returns 0, -1
 * for a bad path or -2 for bad parameters, with *error_r (static text, for
 * the reply). */
int smtp_path_parse(pool_t *pool, struct slice args, const char *prefix, bool is_rcpt,
	bool allow_utf8, struct smtp_path *path_r, const char **error_r);

/* The value of parameter keyword (upper case) in path; *found_r tells
 * whether it is present (its value may be NULL). */
const char *smtp_path_param(const struct smtp_path *path, const char *keyword, bool *found_r);

/* RFC 3461 4: xtext is printable ASCII except "+" and "=", with "+XX"
 * hex escapes. true if s is valid xtext of at most max octets. */
bool smtp_xtext_valid(const char *s, size_t max);
/* Decodes xtext into pool; NULL if invalid. */
char *smtp_xtext_decode(pool_t *pool, const char *s);
/* Encodes s as xtext (appended to out). */
void smtp_xtext_encode(struct buf *out, const char *s);

/* --- DATA --- */

/* What the DATA scanner found in the message so far. */
#define SMTP_DATA_BARE_LF 0x01u   /* LF not preceded by CR */
#define SMTP_DATA_BARE_CR 0x02u   /* CR not followed by LF */
#define SMTP_DATA_NUL 0x04u       /* a NUL octet */
#define SMTP_DATA_LONG_LINE 0x08u /* a line longer than max_line (with CRLF) */
#define SMTP_DATA_TOO_BIG 0x10u   /* more than max_size octets */
#define SMTP_DATA_8BIT 0x20u      /* octets >= 0x80 */

/* The scanner's state between chunks; zero it (then set the limits) when
 * DATA starts. */
struct smtp_data_scan {
	size_t max_line; /* octets per line including CRLF (RFC 5321: 1000) */
	uint64_t max_size;
	/* state */
	bool mid_line;    /* the last chunk ended inside a line */
	bool last_cr;     /* ... and its last octet was CR */
	bool prev_crlf;   /* the last complete line ended in CRLF (true at start) */
	size_t line_len;  /* octets of the current line so far */
	uint64_t size;    /* message octets after dot-unstuffing */
	unsigned flags;   /* SMTP_DATA_* */
	bool done;        /* the end of data was seen */
};

void smtp_data_scan_init(struct smtp_data_scan *s, size_t max_line, uint64_t max_size);

/* The framer's half: how many octets of data (the input after the DATA
 * reply, from where the previous chunk ended) form the next chunk, given
 * the scanner's state. A chunk is whole lines, ending with the end-of-data
 * line ".<CRLF>" if it is among them; only when max_chunk octets hold no
 * line end is a partial line returned. Returns 0 when more input is
 * needed. Pure: it does not change s.
 *
 * RFC 5321 4.1.1.4: the end of data is <CRLF>.<CRLF> exactly: "." alone on
 * a line that follows a line ended by CRLF, itself ended by CRLF. <LF>.<LF>,
 * <CR>.<CR>, <LF>.<CRLF> and <CRLF>.<LF> are not (SMTP smuggling). */
size_t smtp_data_frame(const struct smtp_data_scan *s, const unsigned char *data, size_t len,
	size_t max_chunk);

/* The handler's half: consumes a chunk returned by smtp_data_frame,
 * appending the message octets (dot-unstuffed, without the end-of-data
 * line) to out while the size is within max_size, and updating the flags.
 * out may be NULL (discarding). Sets s->done at the end of data. */
void smtp_data_consume(struct smtp_data_scan *s, const unsigned char *chunk, size_t len,
	struct buf *out);

#endif
