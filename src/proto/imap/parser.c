/* The IMAP command tokenizer and argument builder (see parser.h).
 * Hand-written: no Debian library parses IMAP commands. */
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "core/xalloc.h"
#include "proto/imap/parser.h"

enum {
	ST_BETWEEN = 0, /* at a token start (after SP, "(" or the line start) */
	ST_AFTER,       /* right after a token: SP, ")" or the line end */
	ST_ATOM,
	ST_QUOTED,
	ST_QUOTED_ESC,
	ST_TILDE,      /* "~" at a token start: literal8 or an atom */
	ST_LIT_DIGITS, /* after "{" */
	ST_LIT_PLUS,   /* after "{N+" */
	ST_LIT_CLOSE,  /* after "}" */
	ST_LIT_CR,     /* after "}" CR */
	ST_LIT_DATA,
	ST_CR,      /* CR at a line end */
	ST_RAWSKIP, /* hopeless syntax: skip to LF */
};

#define LIT_SIZE_CAP (UINT64_C(1) << 40) /* digits beyond this are "too big" anyway */

void imap_parser_init(struct imap_parser *p, const struct imap_parser_limits *lim)
{
	memset(p, 0, sizeof(*p));
	p->lim = *lim;
	if (p->lim.max_line == 0)
		p->lim.max_line = IMAP_PARSER_DEFAULT_MAX_LINE;
	if (p->lim.max_depth == 0)
		p->lim.max_depth = IMAP_PARSER_DEFAULT_MAX_DEPTH;
	if (p->lim.max_tokens == 0)
		p->lim.max_tokens = IMAP_PARSER_DEFAULT_MAX_TOKENS;
	if (p->lim.max_literals == 0)
		p->lim.max_literals = IMAP_PARSER_DEFAULT_MAX_LITERALS;
}

void imap_parser_deinit(struct imap_parser *p)
{
	free(p->toks);
	p->toks = NULL;
	p->ntoks = p->captoks = 0;
}

void imap_parser_reset(struct imap_parser *p)
{
	struct imap_tok *toks = p->toks;
	size_t cap = p->captoks;
	struct imap_parser_limits lim = p->lim;
	memset(p, 0, sizeof(*p));
	p->lim = lim;
	p->toks = toks;
	p->captoks = cap;
}

static void parser_error(struct imap_parser *p, enum imap_parse_error e, const char *msg)
{
	if (p->error == IMAP_PARSE_OK) {
		p->error = e;
		p->error_msg = msg;
	}
}

/* Records a token; over max_tokens the command becomes an error. */
static void parser_tok(struct imap_parser *p, uint8_t type, uint8_t flags, uint64_t off,
	uint64_t len)
{
	if (p->error != IMAP_PARSE_OK)
		return;
	if (p->ntoks >= p->lim.max_tokens) {
		parser_error(p, IMAP_PARSE_ETOKENS, "Too many arguments");
		return;
	}
	if (p->ntoks == p->captoks) {
		p->captoks = p->captoks ? p->captoks * 2 : 32;
		p->toks = xrealloc(p->toks, xmul(p->captoks, sizeof(*p->toks)));
	}
	p->toks[p->ntoks++] = (struct imap_tok){type, flags, off, len};
}

static bool tag_char_ok(unsigned char c)
{
	/* RFC 3501 9: tag = 1*<any ASTRING-CHAR except "+"> */
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return strchr("(){%*\"\\+", c) == NULL;
}

/* An atom (off, len) just ended. */
static void parser_atom_done(struct imap_parser *p, const unsigned char *data, uint64_t off,
	uint64_t len)
{
	bool top = p->depth == 0;
	if (top && p->ntok_top == 0) {
		bool ok = len > 0;
		for (uint64_t i = 0; i < len && ok; i++)
			ok = tag_char_ok(data[off + i]);
		if (!ok) {
			parser_error(p, IMAP_PARSE_ENOTAG, "Invalid tag");
		} else {
			p->tag_off = off;
			p->tag_len = len;
			p->tag_ok = true;
		}
	} else if (top && p->ntok_top == 1) {
		p->is_append = len == 6 && str_ncasecmp((const char *)data + off, "APPEND", 6) == 0;
	}
	parser_tok(p, IMAP_TOK_ATOM, 0, off, len);
	if (top)
		p->ntok_top++;
}

/* A token other than an atom starts at the top level. */
static void parser_top_token(struct imap_parser *p)
{
	if (p->depth == 0) {
		if (p->ntok_top == 0)
			parser_error(p, IMAP_PARSE_ENOTAG, "Invalid tag");
		else if (p->ntok_top == 1)
			parser_error(p, IMAP_PARSE_ESYNTAX, "Invalid command name");
		p->ntok_top++;
	}
}

static void parser_syntax(struct imap_parser *p, const char *msg)
{
	if (p->ntok_top == 0 && !p->tag_ok)
		parser_error(p, IMAP_PARSE_ENOTAG, msg);
	else
		parser_error(p, IMAP_PARSE_ESYNTAX, msg);
}

/* LF at the end of a line that is not a literal announcement: the command
 * is complete. */
static int parser_line_end(struct imap_parser *p)
{
	if (p->error == IMAP_PARSE_OK && p->depth > 0)
		parser_syntax(p, "Unclosed parenthesis");
	if (p->error == IMAP_PARSE_OK && p->ntok_top == 0)
		parser_error(p, IMAP_PARSE_ENOTAG, "Empty command");
	return IMAP_PARSE_DONE;
}

/* LF after "{N}" or "{N+}": judge the literal. Returns a feed result, or
 * -2 to go on reading the literal's data. */
static int parser_literal_announced(struct imap_parser *p)
{
	bool sync = !(p->lit_flags & IMAP_TOK_F_NONSYNC);
	uint64_t limit = p->is_append ? p->lim.max_append : p->lim.max_literal;
	if (p->error == IMAP_PARSE_OK && p->literals >= p->lim.max_literals)
		parser_error(p, IMAP_PARSE_ETOKENS, "Too many literals");
	if (p->error == IMAP_PARSE_OK && p->lit_size > limit) {
		if (sync) {
			/* RFC 7888 4 / RFC 9051 7.1: refuse without the "+", so
			 * the client never sends it. */
			parser_error(p, IMAP_PARSE_ETOOBIG, "Literal too big");
			return IMAP_PARSE_DONE;
		}
		p->error_msg = "Literal too big";
		return IMAP_PARSE_FATAL;
	}
	if (p->error != IMAP_PARSE_OK) {
		/* The command is already refused. A synchronizing literal ends
		 * it here (no "+" goes out, so none comes); a
		 * non-synchronizing one is on its way and is skipped, within
		 * the same limit. */
		if (sync)
			return IMAP_PARSE_DONE;
		if (p->lit_size > limit) {
			p->error_msg = "Literal too big";
			return IMAP_PARSE_FATAL;
		}
		p->lit_left = p->lit_size;
		p->line_len = 0;
		p->state = ST_LIT_DATA;
		return -2;
	}
	p->literals++;
	parser_tok(p, IMAP_TOK_LITERAL, p->lit_flags, p->pos, p->lit_size);
	parser_top_token(p);
	p->lit_left = p->lit_size;
	p->line_len = 0;
	p->state = ST_LIT_DATA;
	return sync ? IMAP_PARSE_LITERAL : -2;
}

int imap_parser_feed(struct imap_parser *p, const unsigned char *data, size_t len)
{
	while (p->pos < len) {
		if (p->state == ST_LIT_DATA) {
			uint64_t n = len - p->pos;
			if (n > p->lit_left)
				n = p->lit_left;
			p->pos += n;
			p->lit_left -= n;
			if (p->lit_left > 0)
				return IMAP_PARSE_MORE;
			p->state = ST_AFTER;
			continue;
		}
		unsigned char c = data[p->pos];
		/* Every octet of a line counts once, the line end included (a
		 * byte looked at again in a new state is not counted twice). */
		if (p->line_len + 1 > p->lim.max_line) {
			p->error_msg = "Line too long";
			return IMAP_PARSE_FATAL;
		}
		switch (p->state) {
		case ST_BETWEEN:
			if (c == ' ') {
				/* Liberal: doubled spaces and a trailing space. */
				break;
			}
			if (c == '\r') {
				p->state = ST_CR;
				break;
			}
			if (c == '\n') {
				p->pos++;
				return parser_line_end(p);
			}
			if (c == '"') {
				parser_top_token(p);
				p->tok_open = true;
				p->state = ST_QUOTED;
				p->lit_size = p->pos + 1; /* where the string starts */
				p->lit_flags = 0;
				break;
			}
			if (c == '{') {
				p->lit_flags = 0;
				p->lit_size = 0;
				p->bracket = 0; /* digits seen */
				p->state = ST_LIT_DIGITS;
				break;
			}
			if (c == '~') {
				p->state = ST_TILDE;
				break;
			}
			if (c == '(') {
				if (p->error == IMAP_PARSE_OK && p->depth >= p->lim.max_depth)
					parser_error(p, IMAP_PARSE_EDEPTH, "Too deeply nested");
				parser_top_token(p);
				parser_tok(p, IMAP_TOK_LIST, 0, p->pos, 0);
				p->depth++;
				break;
			}
			if (c == ')') {
				if (p->depth == 0) {
					parser_syntax(p, "Unexpected )");
					p->state = ST_RAWSKIP;
					break;
				}
				p->depth--;
				parser_tok(p, IMAP_TOK_LIST_END, 0, p->pos, 0);
				p->state = ST_AFTER;
				break;
			}
			if (c < 0x20 || c == 0x7f) {
				parser_syntax(p, "Control character");
				p->state = ST_RAWSKIP;
				continue;
			}
			p->state = ST_ATOM;
			p->lit_size = p->pos; /* where the atom starts */
			p->bracket = 0;
			continue;
		case ST_TILDE:
			if (c == '{') {
				p->lit_flags = IMAP_TOK_F_LITERAL8;
				p->lit_size = 0;
				p->bracket = 0;
				p->state = ST_LIT_DIGITS;
				break;
			}
			p->state = ST_ATOM;
			p->lit_size = p->pos - 1;
			p->bracket = 0;
			continue;
		case ST_ATOM:
			if (p->bracket > 0) {
				if (c == '\r' || c == '\n') {
					parser_syntax(p, "Unclosed [");
					p->state = ST_AFTER;
					continue;
				}
				if (c == '[')
					p->bracket++;
				else if (c == ']')
					p->bracket--;
				break;
			}
			if (c == ' ' || c == '(' || c == ')' || c == '\r' || c == '\n') {
				uint64_t start = p->lit_size;
				parser_atom_done(p, data, start, p->pos - start);
				p->state = ST_AFTER;
				continue;
			}
			if (c == '[') {
				p->bracket = 1;
				break;
			}
			if (c < 0x20 || c == 0x7f || c == '"' || c == '{') {
				parser_syntax(p, "Invalid character in atom");
				p->state = ST_RAWSKIP;
				continue;
			}
			break;
		case ST_QUOTED:
			if (c == '"') {
				uint64_t start = p->lit_size;
				parser_tok(p, IMAP_TOK_QUOTED, p->lit_flags, start, p->pos - start);
				p->tok_open = false;
				p->state = ST_AFTER;
				break;
			}
			if (c == '\\') {
				p->lit_flags |= IMAP_TOK_F_ESCAPED;
				p->state = ST_QUOTED_ESC;
				break;
			}
			if (c == '\r' || c == '\n' || c == '\0') {
				parser_syntax(p, "Unterminated quoted string");
				p->state = ST_RAWSKIP;
				continue;
			}
			break;
		case ST_QUOTED_ESC:
			if (c != '"' && c != '\\') {
				parser_syntax(p, "Invalid escape in quoted string");
				p->state = ST_RAWSKIP;
				continue;
			}
			p->state = ST_QUOTED;
			break;
		case ST_LIT_DIGITS:
			if (c >= '0' && c <= '9') {
				if (p->lit_size < LIT_SIZE_CAP)
					p->lit_size = p->lit_size * 10 + (uint64_t)(c - '0');
				p->bracket++;
				break;
			}
			if (p->bracket > 0 && c == '+') {
				p->lit_flags |= IMAP_TOK_F_NONSYNC;
				p->state = ST_LIT_PLUS;
				break;
			}
			if (p->bracket > 0 && c == '}') {
				p->state = ST_LIT_CLOSE;
				break;
			}
			parser_syntax(p, "Invalid literal");
			p->state = ST_RAWSKIP;
			continue;
		case ST_LIT_PLUS:
			if (c == '}') {
				p->state = ST_LIT_CLOSE;
				break;
			}
			parser_syntax(p, "Invalid literal");
			p->state = ST_RAWSKIP;
			continue;
		case ST_LIT_CLOSE:
			if (c == '\r') {
				p->state = ST_LIT_CR;
				break;
			}
			__attribute__((fallthrough));
		case ST_LIT_CR:
			if (c == '\n') {
				p->pos++;
				int r = parser_literal_announced(p);
				if (r != -2)
					return r;
				continue;
			}
			parser_syntax(p, "A literal must end its line");
			p->state = ST_RAWSKIP;
			continue;
		case ST_AFTER:
			if (c == ' ') {
				p->state = ST_BETWEEN;
				break;
			}
			if (c == ')') {
				p->state = ST_BETWEEN;
				continue;
			}
			if (c == '\r') {
				p->state = ST_CR;
				break;
			}
			if (c == '\n') {
				p->pos++;
				return parser_line_end(p);
			}
			parser_syntax(p, "Missing space between arguments");
			p->state = ST_RAWSKIP;
			continue;
		case ST_CR:
			if (c == '\n') {
				p->pos++;
				return parser_line_end(p);
			}
			parser_syntax(p, "CR without LF");
			p->state = ST_RAWSKIP;
			continue;
		case ST_RAWSKIP:
			if (c == '\n') {
				p->pos++;
				return IMAP_PARSE_DONE;
			}
			break;
		}
		p->pos++;
		p->line_len++;
	}
	return IMAP_PARSE_MORE;
}

uint64_t imap_parser_literal_left(const struct imap_parser *p)
{
	return p->state == ST_LIT_DATA ? p->lit_left : 0;
}

/* --- Arguments --- */

static struct slice tok_slice(const unsigned char *data, const struct imap_tok *t)
{
	return SLICE(data + t->off, (size_t)t->len);
}

/* Builds the list starting at toks[*i] up to its LIST_END (or the end). */
static struct imap_arg *args_list(const struct imap_parser *p, const unsigned char *data,
	pool_t *pool, size_t *i, size_t *count_r)
{
	/* Count this level's elements first. */
	size_t n = 0;
	int depth = 0;
	for (size_t j = *i; j < p->ntoks; j++) {
		uint8_t t = p->toks[j].type;
		if (t == IMAP_TOK_LIST_END) {
			if (depth == 0)
				break;
			depth--;
			continue;
		}
		if (depth == 0)
			n++;
		if (t == IMAP_TOK_LIST)
			depth++;
	}
	struct imap_arg *args = pool_calloc(pool, n + 1, sizeof(*args));
	size_t k = 0;
	while (*i < p->ntoks) {
		const struct imap_tok *t = &p->toks[*i];
		(*i)++;
		if (t->type == IMAP_TOK_LIST_END)
			break;
		struct imap_arg *a = &args[k++];
		switch (t->type) {
		case IMAP_TOK_ATOM:
			a->type = IMAP_ARG_ATOM;
			a->s = tok_slice(data, t);
			break;
		case IMAP_TOK_LITERAL:
			a->type = IMAP_ARG_LITERAL;
			a->literal8 = (t->flags & IMAP_TOK_F_LITERAL8) != 0;
			a->s = tok_slice(data, t);
			break;
		case IMAP_TOK_QUOTED:
			a->type = IMAP_ARG_STRING;
			if (t->flags & IMAP_TOK_F_ESCAPED) {
				unsigned char *o = pool_alloc(pool, (size_t)t->len + 1);
				size_t m = 0;
				for (uint64_t x = 0; x < t->len; x++) {
					unsigned char c = data[t->off + x];
					if (c == '\\' && x + 1 < t->len)
						c = data[t->off + ++x];
					o[m++] = c;
				}
				a->s = SLICE(o, m);
			} else {
				a->s = tok_slice(data, t);
			}
			break;
		case IMAP_TOK_LIST:
			a->type = IMAP_ARG_LIST;
			a->list = args_list(p, data, pool, i, &a->list_count);
			break;
		}
	}
	*count_r = k;
	return args;
}

int imap_args_build(const struct imap_parser *p, const unsigned char *data, size_t len,
	pool_t *pool, const char **tag_r, const char **name_r, struct imap_arg **args_r)
{
	(void)len;
	if (p->ntoks < 2 || p->toks[0].type != IMAP_TOK_ATOM || p->toks[1].type != IMAP_TOK_ATOM)
		return -1;
	*tag_r = slice_dup(pool, tok_slice(data, &p->toks[0]));
	char *name = slice_dup(pool, tok_slice(data, &p->toks[1]));
	for (char *c = name; *c; c++)
		*c = (char)ascii_toupper(*c);
	*name_r = name;
	size_t i = 2, n;
	*args_r = args_list(p, data, pool, &i, &n);
	return 0;
}

bool imap_arg_is_nil(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_ATOM && slice_case_eq_str(a->s, "NIL");
}

const char *imap_arg_str(pool_t *pool, const struct imap_arg *a)
{
	if (!imap_arg_is_astring(a) || memchr(a->s.ptr, '\0', a->s.len) != NULL)
		return NULL;
	return slice_dup(pool, a->s);
}

size_t imap_args_count(const struct imap_arg *args)
{
	size_t n = 0;
	while (args[n].type != IMAP_ARG_EOL)
		n++;
	return n;
}

void imap_write_string(struct buf *out, const char *s, size_t len)
{
	if (s == NULL) {
		buf_append_str(out, "NIL");
		return;
	}
	bool quote = len <= 1024;
	for (size_t i = 0; i < len && quote; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' || c == '\n' || c == '\0' || c >= 0x80)
			quote = false;
	}
	if (!quote) {
		buf_printf(out, "{%zu}\r\n", len);
		buf_append(out, s, len);
		return;
	}
	buf_append_byte(out, '"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_append_byte(out, '\\');
		buf_append_byte(out, (unsigned char)s[i]);
	}
	buf_append_byte(out, '"');
}

void imap_write_nstring(struct buf *out, const char *s)
{
	imap_write_string(out, s, s ? strlen(s) : 0);
}
