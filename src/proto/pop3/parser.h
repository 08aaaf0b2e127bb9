/* POP3 command lines and message output (RFC 1939, RFC 2449), without I/O:
 * the parts of the POP3 front-end that see raw bytes, so that they can be
 * tested one byte at a time and fuzzed (fuzz/fuzz_pop3.c).
 *
 * Written by hand: POP3 is a line protocol no Debian library serves. */
#ifndef PROTO_POP3_PARSER_H
#define PROTO_POP3_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* RFC 2449 section 4: keywords are at most 4 characters for the base
 * commands and at most 40 for any, arguments at most 40 characters
 * (passwords and SASL responses excepted: they are taken whole). */
#define POP3_KEYWORD_MAX 40
#define POP3_ARG_MAX 40
/* More arguments than any command takes (TOP n m, AUTH mech resp). */
#define POP3_MAX_ARGS 3

enum pop3_cmd {
	POP3_CMD_UNKNOWN = 0,
	POP3_CMD_USER,
	POP3_CMD_PASS,
	POP3_CMD_APOP,
	POP3_CMD_AUTH,
	POP3_CMD_STLS,
	POP3_CMD_CAPA,
	POP3_CMD_QUIT,
	POP3_CMD_STAT,
	POP3_CMD_LIST,
	POP3_CMD_RETR,
	POP3_CMD_DELE,
	POP3_CMD_NOOP,
	POP3_CMD_RSET,
	POP3_CMD_TOP,
	POP3_CMD_UIDL,
	POP3_CMD_LAST, /* RFC 1460's LAST, withdrawn by RFC 1725: refused by name */
};

struct pop3_command {
	enum pop3_cmd cmd;
	struct slice keyword; /* as sent */
	/* Everything after the keyword and one space, line end removed (PASS
	 * takes it whole: RFC 1939 section 7 lets passwords hold spaces). */
	struct slice rest;
	/* rest split on runs of spaces; argc counts every argument, even past
	 * POP3_MAX_ARGS (only the first POP3_MAX_ARGS are in argv). */
	unsigned argc;
	struct slice argv[POP3_MAX_ARGS];
};

/* Parses one line (with its CRLF or bare LF, or none) into cmd. The
 * slices point into line. Returns 0, or -1 with a static *error_r (the
 * text a client may see) for an empty line, a keyword that is not 1..40
 * printable characters, or a control character (NUL included) in the
 * line. Unknown keywords parse: cmd->cmd is POP3_CMD_UNKNOWN. */
int pop3_command_parse(const void *line, size_t len, struct pop3_command *cmd,
	const char **error_r);

/* The line without its line end (CRLF or LF). */
struct slice pop3_line_strip(const void *line, size_t len);

/* A decimal number of 1..10 digits without sign, at most max. Returns 0
 * with *r, or -1. */
int pop3_parse_number(struct slice s, uint32_t max, uint32_t *r);

/* Turns stored MIME into a POP3 multi-line response body (RFC 1939
 * section 3): lines starting with "." get another "." (dot-stuffing), a
 * bare LF becomes CRLF, and pop3_msgout_finish ends the message with CRLF
 * (if its last line had none) and the terminating ".". For TOP (RFC 1939
 * section 7) it stops after the header, the blank line and body_lines
 * lines of the body. Resumable over any split of the input: feed the
 * blob in chunks as it is read. */
struct pop3_msgout {
	bool bol;          /* at the beginning of a line */
	bool in_body;      /* the blank line after the header was passed */
	bool limited;      /* TOP */
	bool done;         /* TOP: everything asked for was written */
	uint64_t lines_left;
	uint64_t line_len; /* bytes of the current line so far */
	unsigned char last; /* its last byte */
};

/* top: false for RETR; true for TOP with body_lines. */
void pop3_msgout_init(struct pop3_msgout *m, bool top, uint64_t body_lines);
/* Appends the converted form of in[0..len) to out. Returns true while it
 * wants more input, false once a TOP is complete (the rest of the input,
 * and of the message, is not needed). */
bool pop3_msgout_feed(struct pop3_msgout *m, const void *in, size_t len, struct buf *out);
/* Appends the end: CRLF if the last line had no line end, then ".\r\n". */
void pop3_msgout_finish(struct pop3_msgout *m, struct buf *out);

#endif
