/* The IMAP command parser (RFC 3501 section 9, RFC 7888 LITERAL+, RFC 3516
 * literal8).
 *
 * Two halves. The tokenizer is a resumable state machine that runs as the
 * connection's framer on the event loop: it is handed the buffered input
 * of the command so far (the same bytes again, plus more, on each call),
 * carries on where it stopped, and finds the end of the command, literals
 * included. It enforces every limit before the bytes are read: a line
 * longer than max_line, a literal larger than allowed (announced sizes are
 * judged when announced, so a synchronizing literal over the limit is
 * refused without its "+" and never sent), nesting deeper than max_depth,
 * more than max_tokens tokens. It records tokens as offsets into the
 * command (the input buffer may move between calls). imap_args_build then
 * turns the tokens of a complete command into an argument tree for the
 * handlers, on the worker.
 *
 * Syntax accepted for atoms is liberal, as deployed clients need: an atom
 * runs to SP, "(", ")" or the line end; "[" inside an atom opens a section
 * that runs to its "]" and may hold SP and parentheses (BODY[HEADER.FIELDS
 * (From To)]<0.100>, [Gmail]/Sent). Quoted strings take "\"" and "\\"
 * escapes only and any octet but CR, LF and NUL (UTF-8 for IMAP4rev2).
 *
 * Hand-written: no Debian library parses IMAP commands. */
#ifndef PROTO_IMAP_PARSER_H
#define PROTO_IMAP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/pool.h"

struct imap_parser_limits {
	size_t max_line;       /* octets of one line, literals not counted */
	uint64_t max_literal;  /* a literal in any command but APPEND */
	uint64_t max_append;   /* a literal in APPEND (the message) */
	unsigned max_depth;    /* nesting of parenthesized lists */
	unsigned max_tokens;   /* tokens in one command */
	unsigned max_literals; /* literals in one command (MULTIAPPEND) */
};

/* Defaults of the [imap] settings. */
#define IMAP_PARSER_DEFAULT_MAX_LINE (64u * 1024u)
#define IMAP_PARSER_DEFAULT_MAX_LITERAL (64u * 1024u)
#define IMAP_PARSER_DEFAULT_MAX_APPEND (64u * 1024u * 1024u)
#define IMAP_PARSER_DEFAULT_MAX_DEPTH 16u
#define IMAP_PARSER_DEFAULT_MAX_TOKENS 100000u
#define IMAP_PARSER_DEFAULT_MAX_LITERALS 1000u

enum imap_tok_type {
	IMAP_TOK_ATOM = 1,
	IMAP_TOK_QUOTED,   /* off/len: between the quotes, escapes not yet removed */
	IMAP_TOK_LITERAL,  /* off/len: the literal's octets */
	IMAP_TOK_LIST,     /* "(" */
	IMAP_TOK_LIST_END, /* ")" */
};

#define IMAP_TOK_F_ESCAPED 0x1u  /* a quoted string with backslash escapes */
#define IMAP_TOK_F_LITERAL8 0x2u /* ~{N} */
#define IMAP_TOK_F_NONSYNC 0x4u  /* {N+} */

struct imap_tok {
	uint8_t type;
	uint8_t flags;
	uint64_t off; /* from the start of the command */
	uint64_t len;
};

/* Why a command cannot be run (it is still delimited, so the session can
 * answer it and go on). */
enum imap_parse_error {
	IMAP_PARSE_OK = 0,
	IMAP_PARSE_ESYNTAX,  /* tagged BAD */
	IMAP_PARSE_ENOTAG,   /* no usable tag: untagged BAD */
	IMAP_PARSE_ETOOBIG,  /* a synchronizing literal over the limit: refused */
	IMAP_PARSE_EDEPTH,   /* lists nested too deep */
	IMAP_PARSE_ETOKENS,  /* too many tokens or literals */
};

/* Results of imap_parser_feed. */
#define IMAP_PARSE_FATAL (-1) /* close the connection (see p->error_msg) */
#define IMAP_PARSE_MORE 0     /* need more input */
#define IMAP_PARSE_DONE 1     /* a command of imap_parser_length() octets */
#define IMAP_PARSE_LITERAL 2  /* a synchronizing literal was accepted: send "+ " */

struct imap_parser {
	struct imap_parser_limits lim;
	int state;
	uint64_t pos;      /* octets of the command consumed */
	uint64_t line_len; /* octets of the current line */
	uint64_t lit_left; /* octets of literal data still to come */
	uint64_t lit_size; /* the announced size while reading digits */
	unsigned depth;
	unsigned literals;
	unsigned ntok_top; /* top-level tokens so far (tag, name, ...) */
	uint8_t lit_flags;
	bool is_append;
	bool tok_open; /* an atom or quoted token is being read */
	unsigned bracket;
	enum imap_parse_error error;
	const char *error_msg; /* static text for a BAD or BYE */
	struct imap_tok *toks; /* heap */
	size_t ntoks, captoks;
	/* The tag, once read (offsets into the command). */
	uint64_t tag_off, tag_len;
	bool tag_ok;
};

/* Initializes with limits (copied). */
void imap_parser_init(struct imap_parser *p, const struct imap_parser_limits *lim);
void imap_parser_deinit(struct imap_parser *p);
/* Forgets the current command (after DONE, or to start over). */
void imap_parser_reset(struct imap_parser *p);

/* Carries on over data[0..len), which is everything the command has so
 * far (earlier bytes unchanged since the last call). Returns
 * IMAP_PARSE_MORE, IMAP_PARSE_DONE (the command is imap_parser_length()
 * octets; p->error tells whether it can run), IMAP_PARSE_LITERAL (a
 * synchronizing literal of acceptable size was announced: write a
 * continuation request, then call again) or IMAP_PARSE_FATAL (the input
 * can never become a command: a line over max_line, a non-synchronizing
 * literal over the limit; p->error_msg says why). */
int imap_parser_feed(struct imap_parser *p, const unsigned char *data, size_t len);
static inline size_t imap_parser_length(const struct imap_parser *p)
{
	return (size_t)p->pos;
}
/* Octets of literal data still to come (0 when not inside a literal): the
 * framer raises the connection's command limit to make room for them. */
uint64_t imap_parser_literal_left(const struct imap_parser *p);

/* --- The argument tree of a complete command --- */

enum imap_arg_type {
	IMAP_ARG_EOL = 0, /* ends every argument array */
	IMAP_ARG_ATOM,
	IMAP_ARG_STRING,  /* quoted */
	IMAP_ARG_LITERAL,
	IMAP_ARG_LIST,
};

struct imap_arg {
	enum imap_arg_type type;
	bool literal8;
	struct slice s;         /* atoms and strings (escapes removed) */
	struct imap_arg *list;  /* IMAP_ARG_LIST: the elements, EOL-terminated */
	size_t list_count;
};

/* Builds the arguments of the complete command data[0..len) that p has
 * just delimited (DONE with IMAP_PARSE_OK): *tag_r, *name_r (upper-case
 * copy) and the arguments after the command name, EOL-terminated. All from
 * pool; slices of atoms and literals point into data. Returns 0, or -1
 * when the command has no name (a tag alone). */
int imap_args_build(const struct imap_parser *p, const unsigned char *data, size_t len,
	pool_t *pool, const char **tag_r, const char **name_r, struct imap_arg **args_r);

/* Helpers for handlers. */
static inline bool imap_arg_is_astring(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_STRING ||
		a->type == IMAP_ARG_LITERAL;
}
static inline bool imap_arg_is_string(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_STRING || a->type == IMAP_ARG_LITERAL;
}
/* True for the atom NIL (any case). */
bool imap_arg_is_nil(const struct imap_arg *a);
/* A NUL-terminated copy of an astring (atom, quoted or literal) in pool,
 * or NULL if a is not one or holds a NUL. */
const char *imap_arg_str(pool_t *pool, const struct imap_arg *a);
/* Number of arguments before the EOL. */
size_t imap_args_count(const struct imap_arg *args);

/* Appends s as an IMAP string: an atom-safe quoted string when it can be,
 * else a literal ({N}CRLF...). NULL gives NIL. */
void imap_write_string(struct buf *out, const char *s, size_t len);
void imap_write_nstring(struct buf *out, const char *s);

#endif
