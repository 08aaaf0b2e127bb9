/* The MIME structure for IMAP (mime_struct.h). The boundary scanner is
 * hand-written (GMime does not expose each entity's octet ranges in the
 * original message); field values are parsed by GMime. */
#include <gmime/gmime.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "convert/mime_struct.h"
#include "core/array.h"
#include "core/str.h"
#include "core/utf.h"

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;
static void gmime_init_once(void)
{
	g_mime_init();
}

/* --- Header fields --- */

/* End of the header starting at start: just after its blank line, or end
 * when there is none. */
static size_t header_end(const unsigned char *d, size_t start, size_t end)
{
	size_t i = start;
	/* No header at all: the entity starts with its blank line. */
	if (i < end && d[i] == '\n')
		return i + 1;
	if (i + 1 < end && d[i] == '\r' && d[i + 1] == '\n')
		return i + 2;
	for (; i < end; i++) {
		if (d[i] != '\n')
			continue;
		if (i + 1 < end && d[i + 1] == '\n')
			return i + 2;
		if (i + 2 < end && d[i + 1] == '\r' && d[i + 2] == '\n')
			return i + 3;
	}
	return end;
}

size_t mime_struct_header_end(const unsigned char *data, size_t len)
{
	return header_end(data, 0, len);
}

const char *mime_struct_header(pool_t *pool, const unsigned char *d, size_t start, size_t end,
	const char *name)
{
	size_t nlen = strlen(name), i = start;
	while (i < end) {
		const unsigned char *nl = memchr(d + i, '\n', end - i);
		size_t e = nl ? (size_t)(nl - d) + 1 : end;
		if (e - i <= 2 && (d[i] == '\n' || d[i] == '\r'))
			return NULL;
		if (e - i > nlen && str_ncasecmp((const char *)d + i, name, nlen) == 0) {
			size_t c = i + nlen;
			while (c < e && (d[c] == ' ' || d[c] == '\t'))
				c++;
			if (c < e && d[c] == ':') {
				struct buf v;
				buf_init(&v, pool);
				buf_append(&v, d + c + 1, e - c - 1);
				while (e < end && (d[e] == ' ' || d[e] == '\t')) {
					const unsigned char *nl2 = memchr(d + e, '\n', end - e);
					size_t e2 = nl2 ? (size_t)(nl2 - d) + 1 : end;
					buf_append(&v, d + e, e2 - e);
					e = e2;
				}
				size_t k = 0;
				for (size_t j = 0; j < v.len; j++)
					if (v.data[j] != '\r' && v.data[j] != '\n')
						v.data[k++] = v.data[j];
				v.len = k;
				return slice_dup(pool, slice_trim(buf_slice(&v)));
			}
		}
		i = e;
	}
	return NULL;
}

static void copy_params(pool_t *pool, GMimeParamList *list, struct mime_param **out, size_t *n)
{
	int len = list ? g_mime_param_list_length(list) : 0;
	*n = 0;
	*out = NULL;
	if (len <= 0)
		return;
	*out = pool_calloc(pool, (size_t)len, sizeof(**out));
	for (int i = 0; i < len; i++) {
		GMimeParam *p = g_mime_param_list_get_parameter_at(list, i);
		const char *name = g_mime_param_get_name(p), *value = g_mime_param_get_value(p);
		if (name == NULL || value == NULL)
			continue;
		(*out)[*n].name = pool_strdup(pool, name);
		(*out)[(*n)++].value = pool_strdup(pool, value);
	}
}

static const char *param_get(const struct mime_part *p, const char *name)
{
	for (size_t i = 0; i < p->nparams; i++)
		if (str_case_eq(p->params[i].name, name))
			return p->params[i].value;
	return NULL;
}

/* --- The scanner --- */

struct scan {
	pool_t *pool;
	const unsigned char *d;
	size_t parts;
};

static void parse_entity(struct scan *s, struct mime_part *p, size_t start, size_t end,
	unsigned depth, bool digest_child);

static uint64_t count_lines(const unsigned char *d, size_t start, size_t end)
{
	uint64_t n = 0;
	for (const unsigned char *q = d + start; q < d + end;) {
		const unsigned char *nl = memchr(q, '\n', (size_t)(d + end - q));
		if (nl == NULL)
			break;
		n++;
		q = nl + 1;
	}
	/* A last line without its line end counts too (as Dovecot counts). */
	if (end > start && d[end - 1] != '\n')
		n++;
	return n;
}

/* Is there a boundary line "--b" (or "--b--") at d[i]? Sets *close. */
static bool is_boundary(const unsigned char *d, size_t i, size_t end, const char *b, size_t blen,
	bool *close_r, size_t *line_end_r)
{
	if (end - i < blen + 2 || d[i] != '-' || d[i + 1] != '-' ||
		memcmp(d + i + 2, b, blen) != 0)
		return false;
	size_t j = i + 2 + blen;
	*close_r = false;
	if (j + 1 < end + 1 && end - j >= 2 && d[j] == '-' && d[j + 1] == '-') {
		*close_r = true;
		j += 2;
	}
	/* Only whitespace may follow on the line (RFC 2046 5.1.1). */
	while (j < end && (d[j] == ' ' || d[j] == '\t'))
		j++;
	if (j < end && d[j] == '\r')
		j++;
	if (j < end && d[j] != '\n')
		return false;
	*line_end_r = j < end ? j + 1 : end;
	return true;
}

static void parse_multipart(struct scan *s, struct mime_part *p, unsigned depth)
{
	const char *b = param_get(p, "boundary");
	size_t blen = b ? strlen(b) : 0;
	ARRAY(struct mime_part) kids;
	array_init(&kids, s->pool);
	if (blen > 0 && blen <= 200 && depth < MIME_STRUCT_MAX_DEPTH) {
		const unsigned char *d = s->d;
		size_t i = p->body_start, end = p->body_end;
		size_t part_start = SIZE_MAX;
		bool digest = str_case_eq(p->subtype, "digest");
		while (i < end) {
			bool close;
			size_t le;
			if (is_boundary(d, i, end, b, blen, &close, &le)) {
				if (part_start != SIZE_MAX) {
					/* The line end before the boundary belongs to it. */
					size_t pe = i;
					if (pe > part_start && d[pe - 1] == '\n')
						pe--;
					if (pe > part_start && d[pe - 1] == '\r')
						pe--;
					if (s->parts >= MIME_STRUCT_MAX_PARTS)
						break;
					struct mime_part *k = array_push_new(&kids);
					parse_entity(s, k, part_start, pe, depth + 1, digest);
				}
				if (close)
					break;
				part_start = le;
				i = le;
				continue;
			}
			const unsigned char *nl = memchr(d + i, '\n', end - i);
			i = nl ? (size_t)(nl - d) + 1 : end;
		}
		/* A last part without its closing boundary runs to the end. */
		if (part_start != SIZE_MAX && part_start < end && kids.n == 0 &&
			s->parts < MIME_STRUCT_MAX_PARTS) {
			struct mime_part *k = array_push_new(&kids);
			parse_entity(s, k, part_start, end, depth + 1, digest);
		}
	}
	if (kids.n == 0) {
		/* RFC 3501 needs at least one part: an empty text/plain one
		 * over the body, as other servers answer broken multiparts. */
		struct mime_part *k = array_push_new(&kids);
		k->hdr_start = k->body_start = p->body_start;
		k->body_end = p->body_end;
		k->type = "text";
		k->subtype = "plain";
		k->encoding = "7bit";
		k->lines = count_lines(s->d, k->body_start, k->body_end);
	}
	p->children = kids.v;
	p->nchildren = kids.n;
}

static void parse_entity(struct scan *s, struct mime_part *p, size_t start, size_t end,
	unsigned depth, bool digest_child)
{
	pool_t *pool = s->pool;
	const unsigned char *d = s->d;
	s->parts++;
	memset(p, 0, sizeof(*p));
	p->hdr_start = start;
	p->body_start = header_end(d, start, end);
	p->body_end = end;
	size_t he = p->body_start;
	const char *ct = mime_struct_header(pool, d, start, he, "Content-Type");
	GMimeParserOptions *opts = g_mime_parser_options_get_default();
	if (ct != NULL) {
		GMimeContentType *t = g_mime_content_type_parse(opts, ct);
		if (t != NULL) {
			const char *ty = g_mime_content_type_get_media_type(t);
			const char *st = g_mime_content_type_get_media_subtype(t);
			if (ty && st && *ty && *st) {
				p->type = pool_strdup(pool, ty);
				p->subtype = pool_strdup(pool, st);
				copy_params(pool, g_mime_content_type_get_parameters(t), &p->params,
					&p->nparams);
			}
			g_object_unref(t);
		}
	}
	if (p->type == NULL) {
		/* RFC 2045 5.2 and RFC 2046 5.1.5 defaults. */
		p->type = digest_child ? "message" : "text";
		p->subtype = digest_child ? "rfc822" : "plain";
		if (!digest_child) {
			p->params = pool_calloc(pool, 1, sizeof(*p->params));
			p->params[0] = (struct mime_param){"charset", "us-ascii"};
			p->nparams = 1;
		}
	}
	p->id = mime_struct_header(pool, d, start, he, "Content-ID");
	p->description = mime_struct_header(pool, d, start, he, "Content-Description");
	p->encoding = mime_struct_header(pool, d, start, he, "Content-Transfer-Encoding");
	p->md5 = mime_struct_header(pool, d, start, he, "Content-MD5");
	p->location = mime_struct_header(pool, d, start, he, "Content-Location");
	p->language = mime_struct_header(pool, d, start, he, "Content-Language");
	const char *cd = mime_struct_header(pool, d, start, he, "Content-Disposition");
	if (cd != NULL) {
		GMimeContentDisposition *disp = g_mime_content_disposition_parse(opts, cd);
		if (disp != NULL) {
			const char *dv = g_mime_content_disposition_get_disposition(disp);
			if (dv && *dv) {
				p->disposition = pool_strdup(pool, dv);
				copy_params(pool, g_mime_content_disposition_get_parameters(disp),
					&p->disp_params, &p->ndisp_params);
			}
			g_object_unref(disp);
		}
	}
	if (str_case_eq(p->type, "multipart")) {
		p->multipart = true;
		parse_multipart(s, p, depth);
	} else if (str_case_eq(p->type, "message") && str_case_eq(p->subtype, "rfc822")) {
		p->lines = count_lines(d, p->body_start, p->body_end);
		if (depth < MIME_STRUCT_MAX_DEPTH && s->parts < MIME_STRUCT_MAX_PARTS) {
			p->message = pool_calloc(pool, 1, sizeof(*p->message));
			parse_entity(s, p->message, p->body_start, p->body_end, depth + 1, false);
		}
	} else if (str_case_eq(p->type, "text")) {
		p->lines = count_lines(d, p->body_start, p->body_end);
	}
}

struct mime_part *mime_struct_parse(pool_t *pool, const unsigned char *data, size_t len)
{
	pthread_once(&gmime_once, gmime_init_once);
	struct scan s = {.pool = pool, .d = data};
	struct mime_part *root = pool_calloc(pool, 1, sizeof(*root));
	parse_entity(&s, root, 0, len, 0, false);
	return root;
}

/* --- Output --- */

/* An IMAP string: quoted when it can be, else a literal. */
static void wstr(struct buf *out, const char *s)
{
	if (s == NULL) {
		buf_append_str(out, "NIL");
		return;
	}
	size_t len = strlen(s);
	bool q = len < 1024;
	for (size_t i = 0; i < len && q; i++)
		q = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f;
	if (!q) {
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

static void wparams(struct buf *out, const struct mime_param *p, size_t n)
{
	if (n == 0) {
		buf_append_str(out, "NIL");
		return;
	}
	buf_append_byte(out, '(');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_append_byte(out, ' ');
		wstr(out, p[i].name);
		buf_append_byte(out, ' ');
		wstr(out, p[i].value);
	}
	buf_append_byte(out, ')');
}

static void wext(const struct mime_part *p, struct buf *out)
{
	/* body-fld-dsp SP body-fld-lang SP body-fld-loc */
	buf_append_byte(out, ' ');
	if (p->disposition != NULL) {
		buf_append_byte(out, '(');
		wstr(out, p->disposition);
		buf_append_byte(out, ' ');
		wparams(out, p->disp_params, p->ndisp_params);
		buf_append_byte(out, ')');
	} else {
		buf_append_str(out, "NIL");
	}
	buf_append_byte(out, ' ');
	wstr(out, p->language);
	buf_append_byte(out, ' ');
	wstr(out, p->location);
}

void mime_struct_write_body(const struct mime_part *p, const unsigned char *data, bool extended,
	struct buf *out)
{
	buf_append_byte(out, '(');
	if (p->multipart) {
		for (size_t i = 0; i < p->nchildren; i++)
			mime_struct_write_body(&p->children[i], data, extended, out);
		buf_append_byte(out, ' ');
		wstr(out, p->subtype);
		if (extended) {
			buf_append_byte(out, ' ');
			wparams(out, p->params, p->nparams);
			wext(p, out);
		}
		buf_append_byte(out, ')');
		return;
	}
	wstr(out, p->type);
	buf_append_byte(out, ' ');
	wstr(out, p->subtype);
	buf_append_byte(out, ' ');
	wparams(out, p->params, p->nparams);
	buf_append_byte(out, ' ');
	wstr(out, p->id);
	buf_append_byte(out, ' ');
	wstr(out, p->description);
	buf_append_byte(out, ' ');
	wstr(out, p->encoding ? p->encoding : "7bit");
	buf_printf(out, " %zu", p->body_end - p->body_start);
	if (p->message != NULL) {
		buf_append_byte(out, ' ');
		mime_struct_write_envelope(p->message, data, out);
		buf_append_byte(out, ' ');
		mime_struct_write_body(p->message, data, extended, out);
		buf_printf(out, " %llu", (unsigned long long)p->lines);
	} else if (str_case_eq(p->type, "text")) {
		buf_printf(out, " %llu", (unsigned long long)p->lines);
	}
	if (extended) {
		buf_append_byte(out, ' ');
		wstr(out, p->md5);
		wext(p, out);
	}
	buf_append_byte(out, ')');
}

static void waddr_one(struct buf *out, InternetAddress *ia, GMimeFormatOptions *fo)
{
	const char *name = internet_address_get_name(ia);
	const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
	buf_append_byte(out, '(');
	if (name != NULL && *name) {
		/* Names go back as the sender wrote them would: RFC 2047 when not
		 * ASCII (GMime decoded them). */
		bool ascii = true;
		for (const char *c = name; *c && ascii; c++)
			ascii = (unsigned char)*c < 0x80;
		if (ascii) {
			wstr(out, name);
		} else {
			char *enc = g_mime_utils_header_encode_phrase(fo, name, "utf-8");
			wstr(out, enc);
			g_free(enc);
		}
	} else {
		buf_append_str(out, "NIL");
	}
	buf_append_str(out, " NIL ");
	const char *at = addr ? strrchr(addr, '@') : NULL;
	if (addr == NULL || *addr == '\0') {
		buf_append_str(out, "NIL NIL");
	} else if (at == NULL) {
		wstr(out, addr);
		buf_append_str(out, " NIL");
	} else {
		char *local = g_strndup(addr, (gsize)(at - addr));
		wstr(out, local);
		g_free(local);
		buf_append_byte(out, ' ');
		wstr(out, at + 1);
	}
	buf_append_byte(out, ')');
}

static void waddrs(struct buf *out, pool_t *pool, const char *value)
{
	if (value == NULL || *value == '\0') {
		buf_append_str(out, "NIL");
		return;
	}
	GMimeParserOptions *po = g_mime_parser_options_get_default();
	GMimeFormatOptions *fo = g_mime_format_options_get_default();
	InternetAddressList *list = internet_address_list_parse(po, value);
	int n = list ? internet_address_list_length(list) : 0;
	if (n <= 0) {
		if (list)
			g_object_unref(list);
		buf_append_str(out, "NIL");
		return;
	}
	(void)pool;
	buf_append_byte(out, '(');
	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			/* RFC 3501 7.4.2: (NIL NIL "group" NIL) members (NIL NIL NIL NIL) */
			buf_append_str(out, "(NIL NIL ");
			wstr(out, internet_address_get_name(ia));
			buf_append_str(out, " NIL)");
			InternetAddressList *m =
				internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));
			int mn = m ? internet_address_list_length(m) : 0;
			for (int j = 0; j < mn; j++) {
				InternetAddress *x = internet_address_list_get_address(m, j);
				if (INTERNET_ADDRESS_IS_MAILBOX(x))
					waddr_one(out, x, fo);
			}
			buf_append_str(out, "(NIL NIL NIL NIL)");
		} else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			waddr_one(out, ia, fo);
		}
	}
	buf_append_byte(out, ')');
	g_object_unref(list);
}

void mime_struct_write_envelope(const struct mime_part *p, const unsigned char *d,
	struct buf *out)
{
	pthread_once(&gmime_once, gmime_init_once);
	pool_t *pool = pool_new("envelope", 0);
	size_t s = p->hdr_start, e = p->body_start;
	const char *from = mime_struct_header(pool, d, s, e, "From");
	const char *sender = mime_struct_header(pool, d, s, e, "Sender");
	const char *reply = mime_struct_header(pool, d, s, e, "Reply-To");
	buf_append_byte(out, '(');
	wstr(out, mime_struct_header(pool, d, s, e, "Date"));
	buf_append_byte(out, ' ');
	wstr(out, mime_struct_header(pool, d, s, e, "Subject"));
	buf_append_byte(out, ' ');
	waddrs(out, pool, from);
	buf_append_byte(out, ' ');
	/* RFC 3501 7.4.2: Sender and Reply-To default to From. */
	waddrs(out, pool, sender && *sender ? sender : from);
	buf_append_byte(out, ' ');
	waddrs(out, pool, reply && *reply ? reply : from);
	buf_append_byte(out, ' ');
	waddrs(out, pool, mime_struct_header(pool, d, s, e, "To"));
	buf_append_byte(out, ' ');
	waddrs(out, pool, mime_struct_header(pool, d, s, e, "Cc"));
	buf_append_byte(out, ' ');
	waddrs(out, pool, mime_struct_header(pool, d, s, e, "Bcc"));
	buf_append_byte(out, ' ');
	wstr(out, mime_struct_header(pool, d, s, e, "In-Reply-To"));
	buf_append_byte(out, ' ');
	wstr(out, mime_struct_header(pool, d, s, e, "Message-ID"));
	buf_append_byte(out, ')');
	pool_free(&pool);
}

/* --- Sections --- */

int mime_struct_section(const struct mime_part *root, const char *path,
	enum mime_section_kind kind, size_t *start_r, size_t *end_r,
	const struct mime_part **part_r)
{
	const struct mime_part *p = root;
	bool top = true;
	/* The message the section's HEADER/TEXT refer to. */
	const struct mime_part *msg = root;
	while (*path) {
		char *endp;
		unsigned long n = strtoul(path, &endp, 10);
		if (endp == path || n == 0 || (*endp != '.' && *endp != '\0'))
			return -1;
		/* Part numbers address the parts of a multipart; a message's
		 * part 1 is its body when that is not multipart (RFC 3501
		 * 6.4.5). */
		const struct mime_part *container = p;
		if (!top && p->message != NULL)
			container = p->message;
		if (container->multipart) {
			if (n > container->nchildren)
				return -1;
			p = &container->children[n - 1];
		} else {
			if (n != 1)
				return -1;
			p = container;
		}
		top = false;
		path = *endp ? endp + 1 : endp;
	}
	if (part_r)
		*part_r = p;
	switch (kind) {
	case MIME_SECTION_ALL:
		if (top) {
			*start_r = root->hdr_start;
			*end_r = root->body_end;
		} else {
			*start_r = p->body_start;
			*end_r = p->body_end;
		}
		return 0;
	case MIME_SECTION_MIME:
		if (top)
			return -1;
		*start_r = p->hdr_start;
		*end_r = p->body_start;
		return 0;
	case MIME_SECTION_HEADER:
	case MIME_SECTION_TEXT:
		if (!top) {
			if (p->message == NULL)
				return -1;
			msg = p->message;
		}
		*start_r = kind == MIME_SECTION_HEADER ? msg->hdr_start : msg->body_start;
		*end_r = kind == MIME_SECTION_HEADER ? msg->body_start : msg->body_end;
		return 0;
	}
	return -1;
}

int mime_struct_decode(const struct mime_part *p, const unsigned char *d, struct buf *out)
{
	pthread_once(&gmime_once, gmime_init_once);
	const unsigned char *src = d + p->body_start;
	size_t len = p->body_end - p->body_start;
	const char *enc = p->encoding;
	if (enc == NULL || str_case_eq(enc, "7bit") || str_case_eq(enc, "8bit") ||
		str_case_eq(enc, "binary")) {
		buf_append(out, src, len);
		return 0;
	}
	GMimeContentEncoding ce = g_mime_content_encoding_from_string(enc);
	if (ce != GMIME_CONTENT_ENCODING_BASE64 && ce != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE &&
		ce != GMIME_CONTENT_ENCODING_UUENCODE)
		return -1;
	GMimeEncoding state;
	g_mime_encoding_init_decode(&state, ce);
	/* Decoding never grows the data; step in bounded chunks. */
	for (size_t off = 0; off < len;) {
		size_t n = len - off > 65536 ? 65536 : len - off;
		size_t room = g_mime_encoding_outlen(&state, n);
		unsigned char *dst = buf_append_space(out, room);
		size_t got = g_mime_encoding_step(&state, (const char *)src + off, n, (char *)dst);
		buf_truncate(out, out->len - room + got);
		off += n;
	}
	size_t room = g_mime_encoding_outlen(&state, 0) + 16;
	unsigned char *dst = buf_append_space(out, room);
	size_t got = g_mime_encoding_flush(&state, "", 0, (char *)dst);
	buf_truncate(out, out->len - room + got);
	return 0;
}
