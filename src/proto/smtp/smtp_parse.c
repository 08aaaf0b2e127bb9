/* SMTP command-line parsing and the DATA scanner, written by hand (no
 * Debian library parses the server side of SMTP). See smtp_parse.h. */
#include <string.h>

#include "core/str.h"
#include "proto/smtp/smtp_parse.h"

/* RFC 5321 4.5.3.1 */
#define LOCAL_MAX 64
#define DOMAIN_MAX 255
#define PATH_MAX_OCTETS 256
#define PARAM_VALUE_MAX 1024

static const struct {
	const char *name;
	enum smtp_verb verb;
} verbs[] = {
	{"HELO", SMTP_VERB_HELO}, {"EHLO", SMTP_VERB_EHLO}, {"MAIL", SMTP_VERB_MAIL},
	{"RCPT", SMTP_VERB_RCPT}, {"DATA", SMTP_VERB_DATA}, {"BDAT", SMTP_VERB_BDAT},
	{"RSET", SMTP_VERB_RSET}, {"NOOP", SMTP_VERB_NOOP}, {"QUIT", SMTP_VERB_QUIT},
	{"VRFY", SMTP_VERB_VRFY}, {"EXPN", SMTP_VERB_EXPN}, {"HELP", SMTP_VERB_HELP},
	{"STARTTLS", SMTP_VERB_STARTTLS}, {"AUTH", SMTP_VERB_AUTH},
};

enum smtp_verb smtp_verb_parse(const char *line, size_t len, struct slice *args_r)
{
	size_t i = 0;
	while (i < len && line[i] != ' ')
		i++;
	*args_r = SLICE(line + (i < len ? i + 1 : len), i < len ? len - i - 1 : 0);
	for (size_t k = 0; k < sizeof(verbs) / sizeof(verbs[0]); k++)
		if (strlen(verbs[k].name) == i && str_ncasecmp(line, verbs[k].name, i) == 0)
			return verbs[k].verb;
	return SMTP_VERB_UNKNOWN;
}

const char *smtp_verb_name(enum smtp_verb verb)
{
	for (size_t k = 0; k < sizeof(verbs) / sizeof(verbs[0]); k++)
		if (verbs[k].verb == verb)
			return verbs[k].name;
	return "UNKNOWN";
}

/* RFC 5322 atext */
static bool is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Length of a valid UTF-8 sequence at p (at most n octets), 0 if invalid.
 * RFC 3629: no overlongs, no surrogates, at most U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		(cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Parses a dot-string local part at p; returns its length or 0. */
static size_t parse_dot_string(const unsigned char *p, size_t n, bool utf8, bool *has_utf8)
{
	size_t i = 0;
	bool need_atom = true;
	while (i < n) {
		if (p[i] == '.') {
			if (need_atom)
				return 0;
			need_atom = true;
			i++;
			continue;
		}
		if (p[i] >= 0x80) {
			size_t l = utf8 ? utf8_seq(p + i, n - i) : 0;
			if (l == 0)
				return 0;
			*has_utf8 = true;
			i += l;
			need_atom = false;
			continue;
		}
		if (!is_atext(p[i]))
			break;
		need_atom = false;
		i++;
	}
	return need_atom ? 0 : i;
}

/* Quoted-string (RFC 5321 4.1.2): returns its length including the quotes
 * or 0. */
static size_t parse_quoted(const unsigned char *p, size_t n, bool utf8, bool *has_utf8)
{
	if (n == 0 || p[0] != '"')
		return 0;
	size_t i = 1;
	while (i < n) {
		unsigned char c = p[i];
		if (c == '"')
			return i + 1;
		if (c == '\\') {
			if (i + 1 >= n || p[i + 1] < 32 || p[i + 1] > 126)
				return 0;
			i += 2;
			continue;
		}
		if (c >= 0x80) {
			size_t l = utf8 ? utf8_seq(p + i, n - i) : 0;
			if (l == 0)
				return 0;
			*has_utf8 = true;
			i += l;
			continue;
		}
		if (c < 32 || c > 126)
			return 0;
		i++;
	}
	return 0;
}

/* Domain (RFC 5321 4.1.2) or, with utf8, U-labels too; returns length. */
static size_t parse_domain(const unsigned char *p, size_t n, bool utf8, bool *has_utf8)
{
	size_t i = 0;
	for (;;) {
		size_t start = i;
		while (i < n) {
			if (is_alnum(p[i]) || p[i] == '-') {
				i++;
			} else if (p[i] >= 0x80 && utf8) {
				size_t l = utf8_seq(p + i, n - i);
				if (l == 0)
					return 0;
				*has_utf8 = true;
				i += l;
			} else {
				break;
			}
		}
		size_t label = i - start;
		if (label == 0 || label > 63 || p[start] == '-' || p[i - 1] == '-')
			return 0;
		if (i < n && p[i] == '.') {
			i++;
			continue;
		}
		return i;
	}
}

/* address-literal: "[" ( IPv4 / "IPv6:" ... / tag ":" dcontent ) "]" */
static size_t parse_literal(const unsigned char *p, size_t n)
{
	if (n < 3 || p[0] != '[')
		return 0;
	size_t i = 1;
	while (i < n && p[i] != ']') {
		/* dcontent: %d33-90 / %d94-126 */
		if (p[i] < 33 || p[i] > 126 || p[i] == '[' || p[i] == '\\')
			return 0;
		i++;
	}
	if (i >= n || i == 1)
		return 0;
	return i + 1;
}

static int parse_params(pool_t *pool, const unsigned char *p, size_t n, bool utf8,
	struct smtp_path *path, const char **error_r)
{
	size_t i = 0;
	while (i < n) {
		if (p[i] == ' ') {
			i++;
			continue;
		}
		size_t ks = i;
		while (i < n && (is_alnum(p[i]) || (i > ks && p[i] == '-')))
			i++;
		if (i == ks || (i < n && p[i] != '=' && p[i] != ' ')) {
			*error_r = "Syntax error in parameters";
			return -1;
		}
		size_t kl = i - ks;
		char *value = NULL;
		if (i < n && p[i] == '=') {
			size_t vs = ++i;
			while (i < n && p[i] != ' ') {
				if (p[i] >= 0x80) {
					size_t l = utf8 ? utf8_seq(p + i, n - i) : 0;
					if (l == 0) {
						*error_r = "Invalid octets in a parameter value";
						return -1;
					}
					i += l;
					continue;
				}
				if (p[i] < 33 || p[i] == '=' || p[i] > 126) {
					*error_r = "Syntax error in parameters";
					return -1;
				}
				i++;
			}
			if (i == vs || i - vs > PARAM_VALUE_MAX) {
				*error_r = "Syntax error in parameters";
				return -1;
			}
			value = pool_strndup(pool, (const char *)p + vs, i - vs);
		}
		if (path->param_count >= SMTP_PARAMS_MAX) {
			*error_r = "Too many parameters";
			return -1;
		}
		char *kw = pool_strndup(pool, (const char *)p + ks, kl);
		for (char *c = kw; *c; c++)
			*c = (char)ascii_toupper(*c);
		for (unsigned k = 0; k < path->param_count; k++)
			if (strcmp(path->params[k].keyword, kw) == 0) {
				*error_r = "Parameter given twice";
				return -1;
			}
		path->params[path->param_count++] = (struct smtp_param){kw, value};
	}
	return 0;
}

int smtp_path_parse(pool_t *pool, struct slice args, const char *prefix, bool is_rcpt,
	bool allow_utf8, struct smtp_path *path, const char **error_r)
{
	memset(path, 0, sizeof(*path));
	const unsigned char *p = args.ptr;
	size_t n = args.len, plen = strlen(prefix);
	if (n < plen || str_ncasecmp((const char *)p, prefix, plen) != 0) {
		*error_r = is_rcpt ? "Syntax: RCPT TO:<address>" : "Syntax: MAIL FROM:<address>";
		return -1;
	}
	size_t i = plen;
	/* Tolerated: "MAIL FROM: <a@b>" (RFC 5321 forbids the space; many
	 * clients send it and every MTA accepts it). */
	while (i < n && p[i] == ' ')
		i++;
	if (i >= n || p[i] != '<') {
		*error_r = "Address must be in angle brackets";
		return -1;
	}
	size_t open = i++;
	/* RFC 5321 4.1.1.3 / C: a source route "@one,@two:" is accepted and
	 * ignored; the mailbox after it is what counts. */
	if (i < n && p[i] == '@') {
		for (;;) {
			if (i >= n || p[i] != '@') {
				*error_r = "Bad source route";
				return -1;
			}
			i++;
			bool u = false;
			size_t d = parse_domain(p + i, n - i, false, &u);
			if (d == 0)
				d = parse_literal(p + i, n - i);
			if (d == 0) {
				*error_r = "Bad source route";
				return -1;
			}
			i += d;
			if (i < n && p[i] == ',') {
				i++;
				continue;
			}
			if (i < n && p[i] == ':') {
				i++;
				break;
			}
			*error_r = "Bad source route";
			return -1;
		}
		path->had_route = true;
	}
	size_t ls = i, local_len;
	if (i < n && p[i] == '>' && !path->had_route) {
		if (is_rcpt) {
			*error_r = "Empty recipient address";
			return -1;
		}
		path->null_path = true;
		path->address = pool_strdup(pool, "");
		path->domain = pool_strdup(pool, "");
		i++;
		goto params;
	}
	if (i < n && p[i] == '"')
		local_len = parse_quoted(p + i, n - i, allow_utf8, &path->utf8);
	else
		local_len = parse_dot_string(p + i, n - i, allow_utf8, &path->utf8);
	if (local_len == 0) {
		*error_r = path->utf8 || (i < n && p[i] >= 0x80)
			? "Non-ASCII address without SMTPUTF8"
			: "Bad address syntax";
		return -1;
	}
	i += local_len;
	if (local_len > LOCAL_MAX) {
		*error_r = "Local part too long";
		return -1;
	}
	if (i < n && p[i] == '>' && is_rcpt && !path->had_route && local_len == 10 &&
		str_ncasecmp((const char *)p + ls, "postmaster", 10) == 0) {
		/* RFC 5321 4.1.1.3: RCPT TO:<Postmaster> with no domain. */
		path->postmaster = true;
		path->address = pool_strndup(pool, (const char *)p + ls, local_len);
		path->domain = pool_strdup(pool, "");
		i++;
		goto params;
	}
	if (i >= n || p[i] != '@') {
		*error_r = "Address needs a domain";
		return -1;
	}
	size_t ds = ++i;
	size_t dl = parse_domain(p + i, n - i, allow_utf8, &path->utf8);
	if (dl == 0)
		dl = parse_literal(p + i, n - i);
	if (dl == 0) {
		*error_r = i < n && p[i] >= 0x80 && !allow_utf8 ? "Non-ASCII address without SMTPUTF8"
								: "Bad domain syntax";
		return -1;
	}
	i += dl;
	if (dl > DOMAIN_MAX) {
		*error_r = "Domain too long";
		return -1;
	}
	if (i >= n || p[i] != '>') {
		*error_r = "Bad address syntax";
		return -1;
	}
	if (i + 1 - open > PATH_MAX_OCTETS) {
		*error_r = "Path too long";
		return -1;
	}
	path->address = pool_strndup(pool, (const char *)p + ls, i - ls);
	path->domain = pool_strndup(pool, (const char *)p + ds, dl);
	i++;
params:
	if (i < n && p[i] != ' ') {
		*error_r = "Syntax error after the address";
		return -1;
	}
	return parse_params(pool, p + i, n - i, allow_utf8, path, error_r) < 0 ? -2 : 0;
}

const char *smtp_path_param(const struct smtp_path *path, const char *keyword, bool *found_r)
{
	for (unsigned k = 0; k < path->param_count; k++)
		if (strcmp(path->params[k].keyword, keyword) == 0) {
			*found_r = true;
			return path->params[k].value;
		}
	*found_r = false;
	return NULL;
}

static int hexval(int c)
{
	/* RFC 3461 4: xtext escapes use upper-case hex digits. */
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool smtp_xtext_valid(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '+') {
			if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
				return false;
			i += 2;
		} else if (c < 33 || c > 126 || c == '=') {
			return false;
		}
	}
	return true;
}

char *smtp_xtext_decode(pool_t *pool, const char *s)
{
	if (!smtp_xtext_valid(s, SIZE_MAX))
		return NULL;
	size_t n = strlen(s), o = 0;
	char *out = pool_alloc(pool, n + 1);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

void smtp_xtext_encode(struct buf *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 33 || *p > 126 || *p == '+' || *p == '=')
			buf_printf(out, "+%02X", *p);
		else
			buf_append_byte(out, *p);
	}
}

/* --- DATA --- */

void smtp_data_scan_init(struct smtp_data_scan *s, size_t max_line, uint64_t max_size)
{
	memset(s, 0, sizeof(*s));
	s->max_line = max_line;
	s->max_size = max_size;
	s->prev_crlf = true;
}

size_t smtp_data_frame(const struct smtp_data_scan *s, const unsigned char *data, size_t len,
	size_t max_chunk)
{
	size_t pos = 0;
	bool line_start = !s->mid_line;
	bool prev_crlf = s->prev_crlf;
	size_t lim = len < max_chunk ? len : max_chunk;
	while (pos < lim) {
		const unsigned char *lf = memchr(data + pos, '\n', lim - pos);
		if (lf == NULL)
			break;
		size_t end = (size_t)(lf - data) + 1;
		/* ".\r\n" alone on a line after a CRLF-ended line. */
		if (line_start && prev_crlf && end - pos == 3 && data[pos] == '.' &&
			data[pos + 1] == '\r')
			return end;
		bool crlf = end - pos >= 2 ? data[end - 2] == '\r'
					   : (pos == 0 && s->mid_line && s->last_cr);
		prev_crlf = crlf;
		line_start = true;
		pos = end;
		if (pos >= max_chunk)
			return pos;
	}
	if (pos > 0)
		return pos;
	/* No line end: hand over a partial line only when the chunk is full
	 * (a line that long is an error the handler reports anyway). */
	return len >= max_chunk ? max_chunk : 0;
}

void smtp_data_consume(struct smtp_data_scan *s, const unsigned char *chunk, size_t len,
	struct buf *out)
{
	size_t i = 0;
	while (i < len && !s->done) {
		bool line_start = !s->mid_line;
		const unsigned char *lf = memchr(chunk + i, '\n', len - i);
		size_t end = lf != NULL ? (size_t)(lf - chunk) + 1 : len;
		const unsigned char *line = chunk + i;
		size_t n = end - i;
		if (line_start && s->prev_crlf && n == 3 && line[0] == '.' && line[1] == '\r' &&
			line[2] == '\n') {
			s->done = true;
			return;
		}
		/* RFC 5321 4.5.2: a leading "." of a line was doubled. */
		size_t skip = line_start && n > 0 && line[0] == '.' ? 1 : 0;
		for (size_t k = 0; k < n; k++) {
			unsigned char c = line[k];
			if (c == '\n') {
				bool cr = k > 0 ? line[k - 1] == '\r' : s->last_cr;
				if (!cr)
					s->flags |= SMTP_DATA_BARE_LF;
			} else if (c == '\r') {
				if (k + 1 < n ? line[k + 1] != '\n' : lf != NULL)
					s->flags |= SMTP_DATA_BARE_CR;
			} else if (c == 0) {
				s->flags |= SMTP_DATA_NUL;
			} else if (c >= 0x80) {
				s->flags |= SMTP_DATA_8BIT;
			}
		}
		/* A CR that ends a chunk is checked when the next one starts. */
		if (!line_start && s->last_cr && n > 0 && line[0] != '\n')
			s->flags |= SMTP_DATA_BARE_CR;
		s->line_len += n;
		if (s->line_len > s->max_line)
			s->flags |= SMTP_DATA_LONG_LINE;
		size_t add = n - skip;
		if (s->size + add > s->max_size) {
			s->flags |= SMTP_DATA_TOO_BIG;
			out = NULL;
		}
		s->size += add;
		if (out != NULL && !(s->flags & SMTP_DATA_TOO_BIG))
			buf_append(out, line + skip, add);
		if (lf != NULL) {
			s->prev_crlf = n >= 2 ? line[n - 2] == '\r' : s->last_cr;
			s->mid_line = false;
			s->last_cr = false;
			s->line_len = 0;
		} else {
			s->mid_line = true;
			s->last_cr = n > 0 && line[n - 1] == '\r';
		}
		i = end;
	}
}
