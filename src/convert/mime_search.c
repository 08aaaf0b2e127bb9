/* Text search in MIME messages (mime_search.h). Decoding is GMime's (RFC
 * 2047 words, transfer encodings, iconv); folding is GLib's
 * (g_utf8_normalize NFKC, g_utf8_casefold). */
#include <glib.h>
#include <gmime/gmime.h>
#include <pthread.h>
#include <string.h>

#include "convert/charset.h"
#include "convert/mime_fields.h"
#include "convert/mime_search.h"
#include "core/str.h"
#include "core/utf.h"

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;
static void gmime_init_once(void)
{
	g_mime_init();
}

struct mime_search_part {
	/* ASCII text matched in place, or the folded text. */
	const unsigned char *raw;
	size_t raw_len;
	struct buf folded;
};

/* Folding works on pieces of at most this much (GLib's normalization
 * makes a UCS-4 copy), cut before an ASCII byte: an ASCII character
 * never combines with what precedes it, so a cut there changes nothing. */
#define FOLD_PIECE (64 * 1024)

static bool all_ascii(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] >= 0x80)
			return false;
	return true;
}

static void fold_piece(const char *text, size_t len, struct buf *out)
{
	if (all_ascii((const unsigned char *)text, len)) {
		unsigned char *d = buf_append_space(out, len);
		for (size_t i = 0; i < len; i++)
			d[i] = (unsigned char)ascii_tolower((unsigned char)text[i]);
		return;
	}
	/* GLib stops at a NUL: none may be inside. */
	gchar *copy = g_malloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (copy[i] == '\0')
			copy[i] = ' ';
	gchar *norm = g_utf8_normalize(copy, (gssize)len, G_NORMALIZE_NFKC);
	gchar *fold = norm != NULL ? g_utf8_casefold(norm, -1) : NULL;
	if (fold != NULL)
		buf_append_str(out, fold);
	else
		buf_append(out, copy, len);
	g_free(fold);
	g_free(norm);
	g_free(copy);
}

void mime_search_fold(const char *text, size_t len, struct buf *out)
{
	struct buf clean;
	buf_init(&clean, NULL);
	if (!utf8_valid(text, len)) {
		utf8_sanitize(text, len, &clean);
		text = (const char *)clean.data;
		len = clean.len;
	}
	size_t off = 0;
	while (off < len) {
		size_t n = len - off;
		if (n > FOLD_PIECE) {
			n = FOLD_PIECE;
			while (n > FOLD_PIECE / 2 && (unsigned char)text[off + n] >= 0x80)
				n--;
			if ((unsigned char)text[off + n] >= 0x80) {
				/* No ASCII byte near: cut at a character start. */
				n = FOLD_PIECE;
				while (n > 0 && ((unsigned char)text[off + n] & 0xc0) == 0x80)
					n--;
			}
		}
		fold_piece(text + off, n, out);
		off += n;
	}
	buf_deinit(&clean);
}

bool mime_search_charset_known(const char *charset)
{
	pthread_once(&gmime_once, gmime_init_once);
	if (charset == NULL || *charset == '\0')
		return false;
	struct buf b;
	buf_init(&b, NULL);
	int r = convert_from_utf8(charset, "", 0, &b);
	buf_deinit(&b);
	return r == 1;
}

int mime_search_key_init(
        pool_t *pool, const char *charset, const void *s, size_t len, struct mime_search_key *key)
{
	pthread_once(&gmime_once, gmime_init_once);
	if (charset != NULL && !mime_search_charset_known(charset))
		return -1;
	struct buf utf8, folded;
	buf_init(&utf8, NULL);
	buf_init(&folded, pool);
	convert_to_utf8(charset, s, len, &utf8);
	mime_search_fold((const char *)utf8.data, utf8.len, &folded);
	buf_deinit(&utf8);
	key->folded = buf_cstr(&folded);
	key->len = folded.len;
	key->ascii = all_ascii(folded.data, folded.len);
	return 0;
}

/* ASCII case-insensitive substring search of a folded (lower-case) key. */
static bool ascii_find(const unsigned char *hay, size_t hlen, const struct mime_search_key *key)
{
	if (key->len == 0)
		return true;
	if (key->len > hlen)
		return false;
	const unsigned char *k = (const unsigned char *)key->folded;
	unsigned char f = k[0], F = (unsigned char)ascii_toupper(f);
	for (size_t i = 0; i + key->len <= hlen; i++) {
		if (hay[i] != f && hay[i] != F)
			continue;
		size_t j = 1;
		while (j < key->len && ascii_tolower(hay[i + j]) == k[j])
			j++;
		if (j == key->len)
			return true;
	}
	return false;
}

static bool folded_find(const struct buf *text, const struct mime_search_key *key)
{
	if (key->len == 0)
		return true;
	if (text->len < key->len)
		return false;
	return memmem(text->data, text->len, key->folded, key->len) != NULL;
}

void mime_search_msg_init(
        struct mime_search_msg *m, pool_t *pool, const unsigned char *data, size_t len)
{
	memset(m, 0, sizeof(*m));
	m->pool = pool;
	m->data = data != NULL ? data : (const unsigned char *)"";
	m->len = data != NULL ? len : 0;
	m->header_end = mime_struct_header_end(m->data, m->len);
	buf_init(&m->header, pool);
}

/* The unfolded header fields of data[start, end): calls fn(name, nlen,
 * value) for each, value raw (unfolded, CR and LF removed). */
typedef bool field_fn(void *ctx, const char *name, size_t nlen, const char *value, size_t vlen);

static bool each_field(
        pool_t *pool, const unsigned char *d, size_t start, size_t end, field_fn *fn, void *ctx)
{
	struct buf v;
	buf_init(&v, pool);
	size_t i = start;
	while (i < end) {
		const unsigned char *nl = memchr(d + i, '\n', end - i);
		size_t e = nl ? (size_t)(nl - d) + 1 : end;
		if (e - i <= 2 && (d[i] == '\n' || d[i] == '\r'))
			break; /* the blank line */
		const unsigned char *colon = memchr(d + i, ':', e - i);
		if (colon == NULL || d[i] == ' ' || d[i] == '\t') {
			i = e;
			continue;
		}
		size_t nlen = (size_t)(colon - (d + i));
		buf_reset(&v);
		buf_append(&v, colon + 1, e - (size_t)(colon + 1 - d));
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
		struct slice val = slice_trim(buf_slice(&v));
		if (fn(ctx, (const char *)d + i, nlen, (const char *)val.ptr, val.len))
			return true;
		i = e;
	}
	return false;
}

/* Does a raw header value contain key once decoded? */
static bool value_has(
        pool_t *pool, const char *value, size_t vlen, const struct mime_search_key *key)
{
	if (key->len == 0)
		return true;
	if (all_ascii((const unsigned char *)value, vlen) && memmem(value, vlen, "=?", 2) == NULL)
		return key->ascii && ascii_find((const unsigned char *)value, vlen, key);
	const char *dec = mime_fields_decode_text(pool, pool_strndup(pool, value, vlen));
	struct buf f;
	buf_init(&f, pool);
	mime_search_fold(dec, strlen(dec), &f);
	return folded_find(&f, key);
}

struct header_ctx {
	pool_t *pool;
	const char *name;
	const struct mime_search_key *key;
};

static bool header_cb(void *ctx, const char *name, size_t nlen, const char *value, size_t vlen)
{
	struct header_ctx *h = ctx;
	size_t n = nlen;
	while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t'))
		n--;
	if (n != strlen(h->name) || str_ncasecmp(name, h->name, n) != 0)
		return false;
	return value_has(h->pool, value, vlen, h->key);
}

bool mime_search_header(
        struct mime_search_msg *m, const char *name, const struct mime_search_key *key)
{
	pthread_once(&gmime_once, gmime_init_once);
	struct header_ctx h = {m->pool, name, key};
	return each_field(m->pool, m->data, 0, m->header_end, header_cb, &h);
}

/* Appends a header block decoded and folded: "name: value\n" per field. */
static bool fold_field_cb(void *ctx, const char *name, size_t nlen, const char *value, size_t vlen)
{
	struct mime_search_msg *m = ctx;
	struct buf line;
	buf_init(&line, m->pool);
	buf_append(&line, name, nlen);
	buf_append_str(&line, ": ");
	buf_append_str(&line, mime_fields_decode_text(m->pool, pool_strndup(m->pool, value, vlen)));
	buf_append_byte(&line, '\n');
	mime_search_fold((const char *)line.data, line.len, &m->header);
	return false;
}

static void header_prepare(struct mime_search_msg *m)
{
	if (m->header_done)
		return;
	m->header_done = true;
	const unsigned char *h = m->data;
	if (all_ascii(h, m->header_end) && memmem(h, m->header_end, "=?", 2) == NULL) {
		m->header_raw = true;
		return;
	}
	each_field(m->pool, m->data, 0, m->header_end, fold_field_cb, m);
}

/* Is charset one where ASCII bytes are ASCII characters? */
static bool ascii_based(const char *charset)
{
	if (charset == NULL)
		return true;
	static const char *const not [] = {"utf-16", "utf-32", "utf-7", "ucs", "iso-2022", "hz"};
	for (size_t i = 0; i < sizeof(not ) / sizeof(not [0]); i++)
		if (str_case_starts_with(charset, not [i]))
			return false;
	return true;
}

static const char *param(const struct mime_part *p, const char *name)
{
	for (size_t i = 0; i < p->nparams; i++)
		if (str_case_eq(p->params[i].name, name))
			return p->params[i].value;
	return NULL;
}

struct parts {
	struct mime_search_msg *m;
	struct mime_search_part *v;
	size_t n, cap;
};

static struct mime_search_part *part_add(struct parts *ps)
{
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 8;
		ps->v = pool_realloc(
		        ps->m->pool, ps->v, ps->cap * sizeof(*ps->v), cap * sizeof(*ps->v));
		ps->cap = cap;
	}
	struct mime_search_part *sp = &ps->v[ps->n++];
	memset(sp, 0, sizeof(*sp));
	buf_init(&sp->folded, ps->m->pool);
	return sp;
}

static void add_leaf(struct parts *ps, const struct mime_part *p)
{
	struct mime_search_msg *m = ps->m;
	if (p->type != NULL && !str_case_eq(p->type, "text"))
		return;
	const char *charset = param(p, "charset");
	const unsigned char *body = m->data + p->body_start;
	size_t blen = p->body_end - p->body_start;
	const char *enc = p->encoding;
	bool identity = enc == NULL || str_case_eq(enc, "7bit") || str_case_eq(enc, "8bit") ||
	                str_case_eq(enc, "binary");
	struct mime_search_part *sp = part_add(ps);
	if (identity && ascii_based(charset) && all_ascii(body, blen)) {
		sp->raw = body;
		sp->raw_len = blen;
		return;
	}
	struct buf dec, utf8;
	buf_init(&dec, NULL);
	buf_init(&utf8, NULL);
	if (identity || mime_struct_decode(p, m->data, &dec) < 0) {
		/* An unknown encoding is searched as it stands. */
		buf_reset(&dec);
		buf_append(&dec, body, blen);
	}
	convert_to_utf8(charset, dec.data, dec.len, &utf8);
	mime_search_fold((const char *)utf8.data, utf8.len, &sp->folded);
	buf_deinit(&dec);
	buf_deinit(&utf8);
}

/* The text parts in order; an embedded message's header counts as text. */
static void collect(struct parts *ps, const struct mime_part *root)
{
	/* Iterative: nesting is bounded by the parser, but a stack of our own
	 * keeps this independent of it. */
	const struct mime_part *stack[MIME_STRUCT_MAX_DEPTH * 2 + 2];
	size_t sp = 0;
	stack[sp++] = root;
	while (sp > 0) {
		const struct mime_part *p = stack[--sp];
		if (p->multipart) {
			for (size_t i = p->nchildren; i-- > 0;) {
				if (sp < sizeof(stack) / sizeof(stack[0]))
					stack[sp++] = &p->children[i];
				else
					break;
			}
		} else if (p->message != NULL) {
			const struct mime_part *em = p->message;
			struct mime_search_part *hp = part_add(ps);
			struct mime_search_msg sub;
			mime_search_msg_init(&sub, ps->m->pool, ps->m->data + em->hdr_start,
			        em->body_start - em->hdr_start);
			header_prepare(&sub);
			if (sub.header_raw) {
				hp->raw = sub.data;
				hp->raw_len = sub.header_end;
			} else {
				hp->folded = sub.header;
			}
			if (sp < sizeof(stack) / sizeof(stack[0]))
				stack[sp++] = em;
		} else {
			add_leaf(ps, p);
		}
	}
}

static void parts_prepare(struct mime_search_msg *m)
{
	if (m->parts_done)
		return;
	m->parts_done = true;
	pthread_once(&gmime_once, gmime_init_once);
	if (m->root == NULL)
		m->root = mime_struct_parse(m->pool, m->data, m->len);
	struct parts ps = {.m = m};
	collect(&ps, m->root);
	m->parts = ps.v;
	m->nparts = ps.n;
}

bool mime_search_body(struct mime_search_msg *m, const struct mime_search_key *key)
{
	parts_prepare(m);
	if (key->len == 0)
		return true;
	for (size_t i = 0; i < m->nparts; i++) {
		const struct mime_search_part *sp = &m->parts[i];
		if (sp->raw != NULL) {
			if (key->ascii && ascii_find(sp->raw, sp->raw_len, key))
				return true;
		} else if (folded_find(&sp->folded, key)) {
			return true;
		}
	}
	return false;
}

bool mime_search_text(struct mime_search_msg *m, const struct mime_search_key *key)
{
	pthread_once(&gmime_once, gmime_init_once);
	header_prepare(m);
	if (m->header_raw) {
		if (key->ascii && ascii_find(m->data, m->header_end, key))
			return true;
	} else if (folded_find(&m->header, key)) {
		return true;
	}
	return mime_search_body(m, key);
}
