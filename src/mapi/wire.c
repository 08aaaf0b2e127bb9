/* Wire encodings of [MS-OXCDATA] 2.6.1, 2.8, 2.11, 2.12, 2.13 (see
 * mapi/wire.h). Written by hand: no Debian library speaks these formats. */
#include <glib.h>
#include <string.h>

#include "core/utf.h"
#include "core/xalloc.h"
#include "mapi/restriction.h"
#include "mapi/wire.h"

/* Smallest encoded restriction: AND/OR with no children in a ROP buffer
 * (type + 16-bit count). Bounds child counts before allocating. */
#define MIN_RES_BYTES 3

void mapi_reader_init(struct mapi_reader *r, const void *data, size_t len, pool_t *pool,
	enum mapi_wire_width width)
{
	memset(r, 0, sizeof(*r));
	r->data = data;
	r->len = len;
	r->pool = pool;
	r->width = width;
}

static int fail(struct mapi_reader *r, const char *why)
{
	if (r->error == NULL)
		r->error = why;
	return -1;
}

static int wfail(struct mapi_writer *w, const char *why)
{
	if (w->error == NULL)
		w->error = why;
	return -1;
}

int mapi_read_bytes(struct mapi_reader *r, size_t n, const uint8_t **p_r)
{
	if (n > mapi_reader_left(r))
		return fail(r, "truncated");
	*p_r = r->data + r->pos;
	r->pos += n;
	return 0;
}

int mapi_read_u8(struct mapi_reader *r, uint8_t *v)
{
	const uint8_t *p;

	if (mapi_read_bytes(r, 1, &p) < 0)
		return -1;
	*v = p[0];
	return 0;
}

int mapi_read_u16(struct mapi_reader *r, uint16_t *v)
{
	const uint8_t *p;

	if (mapi_read_bytes(r, 2, &p) < 0)
		return -1;
	*v = (uint16_t)(p[0] | (p[1] << 8));
	return 0;
}

int mapi_read_u32(struct mapi_reader *r, uint32_t *v)
{
	const uint8_t *p;

	if (mapi_read_bytes(r, 4, &p) < 0)
		return -1;
	*v = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
	return 0;
}

int mapi_read_u64(struct mapi_reader *r, uint64_t *v)
{
	uint32_t lo, hi;

	if (mapi_read_u32(r, &lo) < 0 || mapi_read_u32(r, &hi) < 0)
		return -1;
	*v = ((uint64_t)hi << 32) | lo;
	return 0;
}

int mapi_read_guid(struct mapi_reader *r, struct guid *g)
{
	const uint8_t *p;

	if (mapi_read_bytes(r, 16, &p) < 0)
		return -1;
	memcpy(g->b, p, 16);
	return 0;
}

/* A COUNT field (2.11.1.1): 16 or 32 bits by context. */
static int read_count(struct mapi_reader *r, uint32_t *v)
{
	uint16_t s;

	if (r->width == MAPI_WIRE_EXT)
		return mapi_read_u32(r, v);
	if (mapi_read_u16(r, &s) < 0)
		return -1;
	*v = s;
	return 0;
}

static int put_count(struct mapi_writer *w, uint32_t n)
{
	if (w->width == MAPI_WIRE_EXT) {
		buf_append_u32le(w->out, n);
		return 0;
	}
	if (n > 0xffff)
		return wfail(w, "count too large for a 16-bit field");
	buf_append_u16le(w->out, (uint16_t)n);
	return 0;
}

static bool codepage_is_utf8(uint32_t cp)
{
	return cp == 0 || cp == 65001;
}

/* 8-bit text in the session's code page to UTF-8 (pool). Unknown code
 * pages and undecodable bytes degrade to U+FFFD rather than failing: a
 * string value is never a reason to drop a whole request. */
static char *cp_to_utf8(pool_t *pool, uint32_t cp, const uint8_t *s, size_t len)
{
	struct buf b;
	char *res;

	buf_init(&b, NULL);
	if (!codepage_is_utf8(cp)) {
		char charset[16];
		gsize out_len = 0;
		gchar *conv;

		g_snprintf(charset, sizeof(charset), "CP%u", cp);
		conv = g_convert((const gchar *)s, (gssize)len, "UTF-8", charset, NULL, &out_len, NULL);
		if (conv != NULL) {
			res = pool_strndup(pool, conv, out_len);
			g_free(conv);
			return res;
		}
	}
	utf8_sanitize(s, len, &b);
	res = pool_strndup(pool, buf_cstr(&b), b.len);
	buf_deinit(&b);
	return res;
}

static void utf8_to_cp(struct buf *out, uint32_t cp, const char *s)
{
	size_t len = strlen(s);

	if (!codepage_is_utf8(cp)) {
		char charset[16];
		gsize out_len = 0;
		gchar *conv;

		g_snprintf(charset, sizeof(charset), "CP%u", cp);
		conv = g_convert_with_fallback(s, (gssize)len, charset, "UTF-8", "?", NULL, &out_len,
			NULL);
		if (conv != NULL) {
			buf_append(out, conv, out_len);
			g_free(conv);
			return;
		}
	}
	buf_append(out, s, len);
}

static int get_string8(struct mapi_reader *r, char **s_r)
{
	const uint8_t *p = r->data + r->pos;
	const uint8_t *nul = memchr(p, 0, mapi_reader_left(r));

	if (nul == NULL)
		return fail(r, "unterminated 8-bit string");
	*s_r = cp_to_utf8(r->pool, r->codepage, p, (size_t)(nul - p));
	r->pos += (size_t)(nul - p) + 1;
	return 0;
}

static int get_unicode(struct mapi_reader *r, char **s_r)
{
	const uint8_t *p = r->data + r->pos;
	size_t left = mapi_reader_left(r), n;
	struct buf b;

	for (n = 0; n + 1 < left; n += 2)
		if (p[n] == 0 && p[n + 1] == 0)
			break;
	if (n + 1 >= left)
		return fail(r, "unterminated UTF-16 string");
	buf_init(&b, NULL);
	utf16le_to_utf8_lossy(p, n, &b);
	*s_r = pool_strndup(r->pool, buf_cstr(&b), b.len);
	buf_deinit(&b);
	r->pos += n + 2;
	return 0;
}

static void put_unicode(struct buf *out, const char *s)
{
	utf8_to_utf16le_lossy(s, strlen(s), out);
	buf_append_u16le(out, 0);
}

static int get_binary(struct mapi_reader *r, struct mapi_binary *bin)
{
	uint32_t n;
	const uint8_t *p;

	if (read_count(r, &n) < 0 || mapi_read_bytes(r, n, &p) < 0)
		return fail(r, "truncated binary");
	bin->cb = n;
	bin->pb = n > 0 ? pool_memdup(r->pool, p, n) : NULL;
	return 0;
}

static int put_binary(struct mapi_writer *w, const struct mapi_binary *bin)
{
	if (put_count(w, bin->cb) < 0)
		return -1;
	if (bin->cb > 0)
		buf_append(w->out, bin->pb, bin->cb);
	return 0;
}

/* [MS-OXORULE] 2.2.5 RuleAction framing: NoOfActions then ActionBlocks,
 * each with a leading ActionLength (both COUNT-wide). The content stays
 * raw; only the framing is checked so the value has a length. */
static int get_actions(struct mapi_reader *r, struct mapi_binary *bin)
{
	size_t start = r->pos;
	uint32_t n, len;
	const uint8_t *p;

	if (read_count(r, &n) < 0)
		return -1;
	if (n > mapi_reader_left(r) / (r->width == MAPI_WIRE_EXT ? 4 : 2))
		return fail(r, "rule action count exceeds the buffer");
	for (uint32_t i = 0; i < n; i++)
		if (read_count(r, &len) < 0 || mapi_read_bytes(r, len, &p) < 0)
			return fail(r, "truncated rule action");
	bin->cb = (uint32_t)(r->pos - start);
	bin->pb = pool_memdup(r->pool, r->data + start, bin->cb);
	return 0;
}

/* Smallest encoding of one element of a multi-valued type, to bound
 * counts against the bytes left before allocating. */
static size_t mv_min_bytes(uint16_t base, enum mapi_wire_width width)
{
	switch (base) {
	case PT_SHORT: return 2;
	case PT_LONG: case PT_FLOAT: return 4;
	case PT_DOUBLE: case PT_APPTIME: case PT_CURRENCY: case PT_I8: case PT_SYSTIME: return 8;
	case PT_CLSID: return 16;
	case PT_STRING8: return 1;
	case PT_UNICODE: return 2;
	case PT_BINARY: return width == MAPI_WIRE_EXT ? 4 : 2;
	default: return 0;
	}
}

static size_t mv_elem_size(uint16_t base)
{
	switch (base) {
	case PT_SHORT: return sizeof(int16_t);
	case PT_LONG: return sizeof(int32_t);
	case PT_FLOAT: return sizeof(float);
	case PT_DOUBLE: case PT_APPTIME: return sizeof(double);
	case PT_CURRENCY: case PT_I8: case PT_SYSTIME: return sizeof(int64_t);
	case PT_STRING8: case PT_UNICODE: return sizeof(char *);
	case PT_CLSID: return sizeof(struct guid);
	case PT_BINARY: return sizeof(struct mapi_binary);
	default: return 0;
	}
}

static int get_fixed(struct mapi_reader *r, uint16_t type, union mapi_pvalue *v)
{
	uint8_t b8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (type) {
	case PT_SHORT:
		if (mapi_read_u16(r, &u16) < 0)
			return -1;
		v->i = (int16_t)u16;
		return 0;
	case PT_LONG: case PT_ERROR:
		if (mapi_read_u32(r, &u32) < 0)
			return -1;
		if (type == PT_LONG)
			v->l = (int32_t)u32;
		else
			v->err = u32;
		return 0;
	case PT_FLOAT:
		if (mapi_read_u32(r, &u32) < 0)
			return -1;
		memcpy(&v->flt, &u32, 4);
		return 0;
	case PT_DOUBLE: case PT_APPTIME:
		if (mapi_read_u64(r, &u64) < 0)
			return -1;
		memcpy(type == PT_DOUBLE ? &v->dbl : &v->at, &u64, 8);
		return 0;
	case PT_CURRENCY: case PT_I8: case PT_SYSTIME:
		if (mapi_read_u64(r, &u64) < 0)
			return -1;
		if (type == PT_SYSTIME)
			v->ft = u64;
		else if (type == PT_I8)
			v->li = (int64_t)u64;
		else
			v->cur = (int64_t)u64;
		return 0;
	case PT_BOOLEAN:
		if (mapi_read_u8(r, &b8) < 0)
			return -1;
		v->b = b8 != 0;
		return 0;
	default:
		return fail(r, "not a fixed-size type");
	}
}

/* Element i of a multi-valued array as a single value. */
static int get_mv_elem(struct mapi_reader *r, uint16_t base, struct mapi_mv *mv, uint32_t i)
{
	union mapi_pvalue e;

	memset(&e, 0, sizeof(e));
	switch (base) {
	case PT_STRING8:
		return get_string8(r, &mv->str[i]);
	case PT_UNICODE:
		return get_unicode(r, &mv->str[i]);
	case PT_BINARY:
		return get_binary(r, &mv->bin[i]);
	case PT_CLSID:
		return mapi_read_guid(r, &mv->guid[i]);
	default:
		break;
	}
	if (get_fixed(r, base, &e) < 0)
		return -1;
	switch (base) {
	case PT_SHORT: mv->i[i] = e.i; break;
	case PT_LONG: mv->l[i] = e.l; break;
	case PT_FLOAT: mv->flt[i] = e.flt; break;
	case PT_DOUBLE: mv->dbl[i] = e.dbl; break;
	case PT_APPTIME: mv->at[i] = e.at; break;
	case PT_CURRENCY: mv->cur[i] = e.cur; break;
	case PT_I8: mv->li[i] = e.li; break;
	case PT_SYSTIME: mv->ft[i] = e.ft; break;
	default: return fail(r, "bad multi-valued type");
	}
	return 0;
}

int mapi_get_value(struct mapi_reader *r, uint16_t type, union mapi_pvalue *v)
{
	memset(v, 0, sizeof(*v));
	type &= (uint16_t)~PT_MV_INSTANCE;
	switch (type) {
	case PT_NULL:
		return 0;
	case PT_SHORT: case PT_LONG: case PT_ERROR: case PT_FLOAT: case PT_DOUBLE:
	case PT_APPTIME: case PT_CURRENCY: case PT_I8: case PT_SYSTIME: case PT_BOOLEAN:
		return get_fixed(r, type, v);
	case PT_STRING8:
		return get_string8(r, &v->str);
	case PT_UNICODE:
		return get_unicode(r, &v->str);
	case PT_CLSID:
		v->guid = pool_alloc(r->pool, sizeof(struct guid));
		return mapi_read_guid(r, v->guid);
	case PT_BINARY: case PT_SVREID:
		return get_binary(r, &v->bin);
	case PT_SRESTRICTION:
		return mapi_get_restriction(r, &v->res);
	case PT_ACTIONS:
		return get_actions(r, &v->bin);
	default:
		break;
	}
	uint16_t base = type & (uint16_t)~PT_MV_FLAG;
	size_t minb = mv_min_bytes(base, r->width);
	uint32_t n;

	if (!mapi_ptype_is_mv(type) || minb == 0)
		return fail(r, "property type without a wire form");
	if (mapi_read_u32(r, &n) < 0)
		return -1;
	if (n > mapi_reader_left(r) / minb)
		return fail(r, "value count exceeds the buffer");
	v->mv.count = n;
	if (n == 0)
		return 0;
	v->mv.bin = pool_calloc(r->pool, n, mv_elem_size(base));
	for (uint32_t i = 0; i < n; i++)
		if (get_mv_elem(r, base, &v->mv, i) < 0)
			return -1;
	return 0;
}

static void put_fixed(struct buf *out, uint16_t type, const union mapi_pvalue *v)
{
	uint32_t u32;
	uint64_t u64;

	switch (type) {
	case PT_SHORT: buf_append_u16le(out, (uint16_t)v->i); break;
	case PT_LONG: buf_append_u32le(out, (uint32_t)v->l); break;
	case PT_ERROR: buf_append_u32le(out, v->err); break;
	case PT_FLOAT:
		memcpy(&u32, &v->flt, 4);
		buf_append_u32le(out, u32);
		break;
	case PT_DOUBLE: case PT_APPTIME:
		memcpy(&u64, type == PT_DOUBLE ? &v->dbl : &v->at, 8);
		buf_append_u64le(out, u64);
		break;
	case PT_CURRENCY: buf_append_u64le(out, (uint64_t)v->cur); break;
	case PT_I8: buf_append_u64le(out, (uint64_t)v->li); break;
	case PT_SYSTIME: buf_append_u64le(out, v->ft); break;
	case PT_BOOLEAN: buf_append_byte(out, v->b ? 1 : 0); break;
	default: break;
	}
}

static int put_scalar(struct mapi_writer *w, uint16_t type, const union mapi_pvalue *v)
{
	static const struct guid zero;

	switch (type) {
	case PT_SHORT: case PT_LONG: case PT_ERROR: case PT_FLOAT: case PT_DOUBLE:
	case PT_APPTIME: case PT_CURRENCY: case PT_I8: case PT_SYSTIME: case PT_BOOLEAN:
		put_fixed(w->out, type, v);
		return 0;
	case PT_STRING8:
		utf8_to_cp(w->out, w->codepage, v->str != NULL ? v->str : "");
		buf_append_byte(w->out, 0);
		return 0;
	case PT_UNICODE:
		put_unicode(w->out, v->str != NULL ? v->str : "");
		return 0;
	case PT_CLSID:
		buf_append(w->out, (v->guid != NULL ? v->guid : &zero)->b, 16);
		return 0;
	case PT_BINARY: case PT_SVREID:
		return put_binary(w, &v->bin);
	default:
		return wfail(w, "property type without a wire form");
	}
}

int mapi_put_value(struct mapi_writer *w, uint16_t type, const union mapi_pvalue *v)
{
	type &= (uint16_t)~PT_MV_INSTANCE;
	switch (type) {
	case PT_NULL:
		return 0;
	case PT_SRESTRICTION:
		if (v->res == NULL)
			return wfail(w, "missing restriction");
		return mapi_put_restriction(w, v->res);
	case PT_ACTIONS:
		/* Raw RuleAction bytes, already framed for this context. */
		buf_append(w->out, v->bin.pb, v->bin.cb);
		return 0;
	default:
		break;
	}
	if (!mapi_ptype_is_mv(type))
		return put_scalar(w, type, v);
	uint16_t base = type & (uint16_t)~PT_MV_FLAG;

	if (mv_elem_size(base) == 0)
		return wfail(w, "property type without a wire form");
	buf_append_u32le(w->out, v->mv.count);
	for (uint32_t i = 0; i < v->mv.count; i++) {
		union mapi_pvalue e;

		memset(&e, 0, sizeof(e));
		switch (base) {
		case PT_SHORT: e.i = v->mv.i[i]; break;
		case PT_LONG: e.l = v->mv.l[i]; break;
		case PT_FLOAT: e.flt = v->mv.flt[i]; break;
		case PT_DOUBLE: e.dbl = v->mv.dbl[i]; break;
		case PT_APPTIME: e.at = v->mv.at[i]; break;
		case PT_CURRENCY: e.cur = v->mv.cur[i]; break;
		case PT_I8: e.li = v->mv.li[i]; break;
		case PT_SYSTIME: e.ft = v->mv.ft[i]; break;
		case PT_STRING8: case PT_UNICODE: e.str = v->mv.str[i]; break;
		case PT_CLSID: e.guid = &v->mv.guid[i]; break;
		case PT_BINARY: e.bin = v->mv.bin[i]; break;
		default: break;
		}
		if (put_scalar(w, base, &e) < 0)
			return -1;
	}
	return 0;
}

int mapi_put_tagged(struct mapi_writer *w, const struct mapi_propval *pv)
{
	buf_append_u32le(w->out, pv->tag);
	return mapi_put_value(w, PROP_TYPE(pv->tag), &pv->v);
}

int mapi_get_tagged(struct mapi_reader *r, struct mapi_propval *pv)
{
	if (mapi_read_u32(r, &pv->tag) < 0)
		return -1;
	return mapi_get_value(r, PROP_TYPE(pv->tag), &pv->v);
}

int mapi_put_typed(struct mapi_writer *w, const struct mapi_propval *pv)
{
	buf_append_u16le(w->out, PROP_TYPE(pv->tag));
	return mapi_put_value(w, PROP_TYPE(pv->tag), &pv->v);
}

int mapi_get_typed(struct mapi_reader *r, struct mapi_propval *pv)
{
	uint16_t type;

	if (mapi_read_u16(r, &type) < 0)
		return -1;
	pv->tag = PROP_TAG(type, 0);
	return mapi_get_value(r, type, &pv->v);
}

int mapi_put_flagged(struct mapi_writer *w, uint32_t column_tag, const struct mapi_propval *pv)
{
	if (pv == NULL) {
		buf_append_byte(w->out, MAPI_FLAG_ABSENT);
		return 0;
	}
	if (PROP_TYPE(pv->tag) == PT_ERROR && PROP_TYPE(column_tag) != PT_ERROR) {
		buf_append_byte(w->out, MAPI_FLAG_ERROR);
		buf_append_u32le(w->out, pv->v.err);
		return 0;
	}
	buf_append_byte(w->out, MAPI_FLAG_VALUE);
	if (PROP_TYPE(column_tag) == PT_UNSPECIFIED)
		return mapi_put_typed(w, pv);
	return mapi_put_value(w, PROP_TYPE(column_tag), &pv->v);
}

int mapi_get_flagged(struct mapi_reader *r, uint32_t column_tag, struct mapi_propval *pv)
{
	uint8_t flag;

	memset(pv, 0, sizeof(*pv));
	if (mapi_read_u8(r, &flag) < 0)
		return -1;
	switch (flag) {
	case MAPI_FLAG_VALUE:
		if (PROP_TYPE(column_tag) == PT_UNSPECIFIED) {
			if (mapi_get_typed(r, pv) < 0)
				return -1;
			pv->tag = CHANGE_PROP_TYPE(column_tag, PROP_TYPE(pv->tag));
			return 0;
		}
		pv->tag = column_tag;
		return mapi_get_value(r, PROP_TYPE(column_tag), &pv->v);
	case MAPI_FLAG_ABSENT:
		pv->tag = CHANGE_PROP_TYPE(column_tag, PT_NULL);
		return 0;
	case MAPI_FLAG_ERROR:
		pv->tag = CHANGE_PROP_TYPE(column_tag, PT_ERROR);
		return mapi_read_u32(r, &pv->v.err);
	default:
		return fail(r, "bad FlaggedPropertyValue flag");
	}
}

int mapi_put_flagged_typed(struct mapi_writer *w, const struct mapi_propval *pv)
{
	buf_append_u16le(w->out, PROP_TYPE(pv->tag));
	if (PROP_TYPE(pv->tag) == PT_ERROR) {
		buf_append_byte(w->out, MAPI_FLAG_ERROR);
		buf_append_u32le(w->out, pv->v.err);
		return 0;
	}
	buf_append_byte(w->out, MAPI_FLAG_VALUE);
	return mapi_put_value(w, PROP_TYPE(pv->tag), &pv->v);
}

int mapi_get_flagged_typed(struct mapi_reader *r, struct mapi_propval *pv)
{
	uint16_t type;

	if (mapi_read_u16(r, &type) < 0)
		return -1;
	return mapi_get_flagged(r, PROP_TAG(type, 0), pv);
}

int mapi_put_typed_string(struct mapi_writer *w, const char *s)
{
	if (s == NULL) {
		buf_append_byte(w->out, 0x00);
	} else if (*s == '\0') {
		buf_append_byte(w->out, 0x01);
	} else {
		buf_append_byte(w->out, 0x04);
		put_unicode(w->out, s);
	}
	return 0;
}

int mapi_get_typed_string(struct mapi_reader *r, char **s_r)
{
	uint8_t t;

	*s_r = NULL;
	if (mapi_read_u8(r, &t) < 0)
		return -1;
	switch (t) {
	case 0x00:
		return 0;
	case 0x01:
		*s_r = pool_strdup(r->pool, "");
		return 0;
	case 0x02:
		return get_string8(r, s_r);
	case 0x03: {
		/* Reduced Unicode: UTF-16 code units below U+0100, one byte each. */
		const uint8_t *p = r->data + r->pos;
		const uint8_t *nul = memchr(p, 0, mapi_reader_left(r));
		struct buf b;

		if (nul == NULL)
			return fail(r, "unterminated reduced-Unicode string");
		buf_init(&b, NULL);
		for (const uint8_t *q = p; q < nul; q++) {
			unsigned char enc[4];

			buf_append(&b, enc, (size_t)utf8_encode(*q, enc));
		}
		*s_r = pool_strndup(r->pool, buf_cstr(&b), b.len);
		buf_deinit(&b);
		r->pos += (size_t)(nul - p) + 1;
		return 0;
	}
	case 0x04:
		return get_unicode(r, s_r);
	default:
		return fail(r, "bad TypedString type");
	}
}

int mapi_put_row(struct mapi_writer *w, const struct mapi_tags *columns,
	const struct mapi_propval *const *values)
{
	bool flagged = false;

	for (uint32_t i = 0; i < columns->count; i++)
		if (values[i] == NULL || (PROP_TYPE(values[i]->tag) == PT_ERROR &&
						 PROP_TYPE(columns->tags[i]) != PT_ERROR))
			flagged = true;
	buf_append_byte(w->out, flagged ? 0x01 : 0x00);
	for (uint32_t i = 0; i < columns->count; i++) {
		uint32_t col = columns->tags[i];
		int ret;

		if (flagged)
			ret = mapi_put_flagged(w, col, values[i]);
		else if (PROP_TYPE(col) == PT_UNSPECIFIED)
			ret = mapi_put_typed(w, values[i]);
		else
			ret = mapi_put_value(w, PROP_TYPE(col), &values[i]->v);
		if (ret < 0)
			return -1;
	}
	return 0;
}

int mapi_get_row(struct mapi_reader *r, const struct mapi_tags *columns,
	struct mapi_propvals *row)
{
	uint8_t flag;

	memset(row, 0, sizeof(*row));
	if (mapi_read_u8(r, &flag) < 0)
		return -1;
	if (flag > 0x01)
		return fail(r, "bad PropertyRow flag");
	row->vals = columns->count > 0 ? pool_calloc(r->pool, columns->count, sizeof(*row->vals))
				       : NULL;
	row->cap = columns->count;
	for (uint32_t i = 0; i < columns->count; i++) {
		struct mapi_propval *pv = &row->vals[i];
		uint32_t col = columns->tags[i];

		if (flag == 0x01) {
			if (mapi_get_flagged(r, col, pv) < 0)
				return -1;
		} else if (PROP_TYPE(col) == PT_UNSPECIFIED) {
			if (mapi_get_typed(r, pv) < 0)
				return -1;
			pv->tag = CHANGE_PROP_TYPE(col, PROP_TYPE(pv->tag));
		} else {
			pv->tag = col;
			if (mapi_get_value(r, PROP_TYPE(col), &pv->v) < 0)
				return -1;
		}
		row->count++;
	}
	return 0;
}

int mapi_put_tags(struct mapi_writer *w, const struct mapi_tags *tags)
{
	if (tags->count > 0xffff)
		return wfail(w, "too many property tags");
	buf_append_u16le(w->out, (uint16_t)tags->count);
	for (uint32_t i = 0; i < tags->count; i++)
		buf_append_u32le(w->out, tags->tags[i]);
	return 0;
}

int mapi_get_tags(struct mapi_reader *r, struct mapi_tags *tags)
{
	uint16_t n;

	memset(tags, 0, sizeof(*tags));
	if (mapi_read_u16(r, &n) < 0)
		return -1;
	if (n > mapi_reader_left(r) / 4)
		return fail(r, "tag count exceeds the buffer");
	tags->tags = n > 0 ? pool_calloc(r->pool, n, sizeof(uint32_t)) : NULL;
	for (uint16_t i = 0; i < n; i++)
		if (mapi_read_u32(r, &tags->tags[i]) < 0)
			return -1;
	tags->count = n;
	return 0;
}

int mapi_put_propvals(struct mapi_writer *w, const struct mapi_propvals *vals)
{
	if (vals->count > 0xffff)
		return wfail(w, "too many property values");
	buf_append_u16le(w->out, (uint16_t)vals->count);
	for (uint32_t i = 0; i < vals->count; i++)
		if (mapi_put_tagged(w, &vals->vals[i]) < 0)
			return -1;
	return 0;
}

int mapi_get_propvals(struct mapi_reader *r, struct mapi_propvals *vals)
{
	uint16_t n;

	memset(vals, 0, sizeof(*vals));
	if (mapi_read_u16(r, &n) < 0)
		return -1;
	/* A TaggedPropertyValue is at least its 4-byte tag. */
	if (n > mapi_reader_left(r) / 4)
		return fail(r, "value count exceeds the buffer");
	vals->vals = n > 0 ? pool_calloc(r->pool, n, sizeof(*vals->vals)) : NULL;
	vals->cap = n;
	for (uint16_t i = 0; i < n; i++) {
		if (mapi_get_tagged(r, &vals->vals[i]) < 0)
			return -1;
		vals->count++;
	}
	return 0;
}

/* --- restrictions --- */

struct put_state {
	unsigned depth;
	uint32_t nodes;
};

static int put_res(struct mapi_writer *w, const struct mapi_restriction *res,
	struct put_state *st)
{
	int ret = 0;

	if (res == NULL)
		return wfail(w, "missing restriction");
	if (st->depth >= MAPI_RES_MAX_DEPTH || ++st->nodes > MAPI_RES_MAX_NODES)
		return wfail(w, "restriction over the limits");
	st->depth++;
	buf_append_byte(w->out, (uint8_t)res->type);
	switch (res->type) {
	case RES_AND:
	case RES_OR:
		if (put_count(w, res->and_or.count) < 0) {
			ret = -1;
			break;
		}
		for (uint32_t i = 0; i < res->and_or.count && ret == 0; i++)
			ret = put_res(w, &res->and_or.res[i], st);
		break;
	case RES_NOT:
		ret = put_res(w, res->not_.res, st);
		break;
	case RES_CONTENT:
		buf_append_u32le(w->out, res->content.fuzzy_level);
		buf_append_u32le(w->out, res->content.proptag);
		ret = mapi_put_tagged(w, &res->content.prop);
		break;
	case RES_PROPERTY:
		buf_append_byte(w->out, (uint8_t)res->property.relop);
		buf_append_u32le(w->out, res->property.proptag);
		ret = mapi_put_tagged(w, &res->property.prop);
		break;
	case RES_COMPAREPROPS:
		buf_append_byte(w->out, (uint8_t)res->compare_props.relop);
		buf_append_u32le(w->out, res->compare_props.proptag1);
		buf_append_u32le(w->out, res->compare_props.proptag2);
		break;
	case RES_BITMASK:
		buf_append_byte(w->out, res->bitmask.relop);
		buf_append_u32le(w->out, res->bitmask.proptag);
		buf_append_u32le(w->out, res->bitmask.mask);
		break;
	case RES_SIZE:
		buf_append_byte(w->out, (uint8_t)res->size.relop);
		buf_append_u32le(w->out, res->size.proptag);
		buf_append_u32le(w->out, res->size.size);
		break;
	case RES_EXIST:
		buf_append_u32le(w->out, res->exist.proptag);
		break;
	case RES_SUBRESTRICTION:
		buf_append_u32le(w->out, res->sub.subobject);
		ret = put_res(w, res->sub.res, st);
		break;
	case RES_COMMENT:
		buf_append_byte(w->out, res->comment.count);
		for (unsigned i = 0; i < res->comment.count && ret == 0; i++)
			ret = mapi_put_tagged(w, &res->comment.props[i]);
		if (ret == 0) {
			buf_append_byte(w->out, res->comment.res != NULL ? 1 : 0);
			if (res->comment.res != NULL)
				ret = put_res(w, res->comment.res, st);
		}
		break;
	case RES_COUNT:
		buf_append_u32le(w->out, res->count.count);
		ret = put_res(w, res->count.res, st);
		break;
	default:
		ret = wfail(w, "unknown restriction type");
		break;
	}
	st->depth--;
	return ret;
}

int mapi_put_restriction(struct mapi_writer *w, const struct mapi_restriction *res)
{
	struct put_state st = {0};

	return put_res(w, res, &st);
}

static int get_res(struct mapi_reader *r, struct mapi_restriction *res);

static int get_child(struct mapi_reader *r, struct mapi_restriction **res_r)
{
	*res_r = pool_alloc(r->pool, sizeof(**res_r));
	return get_res(r, *res_r);
}

static int get_res(struct mapi_reader *r, struct mapi_restriction *res)
{
	uint8_t type, u8;
	uint32_t n;
	int ret = 0;

	if (r->depth >= MAPI_RES_MAX_DEPTH)
		return fail(r, "restriction nested too deeply");
	if (++r->nodes > MAPI_RES_MAX_NODES)
		return fail(r, "restriction has too many nodes");
	if (mapi_read_u8(r, &type) < 0)
		return -1;
	memset(res, 0, sizeof(*res));
	res->type = (enum mapi_res_type)type;
	r->depth++;
	switch (type) {
	case RES_AND:
	case RES_OR:
		if (read_count(r, &n) < 0) {
			ret = -1;
			break;
		}
		if (n > mapi_reader_left(r) / MIN_RES_BYTES) {
			ret = fail(r, "restriction count exceeds the buffer");
			break;
		}
		res->and_or.count = n;
		res->and_or.res = n > 0 ? pool_calloc(r->pool, n, sizeof(*res->and_or.res)) : NULL;
		for (uint32_t i = 0; i < n && ret == 0; i++)
			ret = get_res(r, &res->and_or.res[i]);
		break;
	case RES_NOT:
		ret = get_child(r, &res->not_.res);
		break;
	case RES_CONTENT:
		if (mapi_read_u32(r, &res->content.fuzzy_level) < 0 ||
			mapi_read_u32(r, &res->content.proptag) < 0 ||
			mapi_get_tagged(r, &res->content.prop) < 0)
			ret = -1;
		break;
	case RES_PROPERTY:
		if (mapi_read_u8(r, &u8) < 0 || mapi_read_u32(r, &res->property.proptag) < 0 ||
			mapi_get_tagged(r, &res->property.prop) < 0)
			ret = -1;
		res->property.relop = (enum mapi_relop)u8;
		break;
	case RES_COMPAREPROPS:
		if (mapi_read_u8(r, &u8) < 0 || mapi_read_u32(r, &res->compare_props.proptag1) < 0 ||
			mapi_read_u32(r, &res->compare_props.proptag2) < 0)
			ret = -1;
		res->compare_props.relop = (enum mapi_relop)u8;
		break;
	case RES_BITMASK:
		if (mapi_read_u8(r, &res->bitmask.relop) < 0 ||
			mapi_read_u32(r, &res->bitmask.proptag) < 0 ||
			mapi_read_u32(r, &res->bitmask.mask) < 0)
			ret = -1;
		break;
	case RES_SIZE:
		if (mapi_read_u8(r, &u8) < 0 || mapi_read_u32(r, &res->size.proptag) < 0 ||
			mapi_read_u32(r, &res->size.size) < 0)
			ret = -1;
		res->size.relop = (enum mapi_relop)u8;
		break;
	case RES_EXIST:
		ret = mapi_read_u32(r, &res->exist.proptag);
		break;
	case RES_SUBRESTRICTION:
		if (mapi_read_u32(r, &res->sub.subobject) < 0)
			ret = -1;
		else
			ret = get_child(r, &res->sub.res);
		break;
	case RES_COMMENT:
		if (mapi_read_u8(r, &res->comment.count) < 0) {
			ret = -1;
			break;
		}
		res->comment.props = res->comment.count > 0
			? pool_calloc(r->pool, res->comment.count, sizeof(*res->comment.props)) : NULL;
		for (unsigned i = 0; i < res->comment.count && ret == 0; i++)
			ret = mapi_get_tagged(r, &res->comment.props[i]);
		if (ret == 0 && mapi_read_u8(r, &u8) < 0)
			ret = -1;
		if (ret == 0 && u8 != 0)
			ret = get_child(r, &res->comment.res);
		break;
	case RES_COUNT:
		if (mapi_read_u32(r, &res->count.count) < 0)
			ret = -1;
		else
			ret = get_child(r, &res->count.res);
		break;
	default:
		ret = fail(r, "unknown restriction type");
		break;
	}
	r->depth--;
	return ret;
}

int mapi_get_restriction(struct mapi_reader *r, struct mapi_restriction **res_r)
{
	return get_child(r, res_r);
}

int mapi_put_sort_order(struct mapi_writer *w, const struct mapi_sort_order *so)
{
	buf_append_u16le(w->out, so->count);
	buf_append_u16le(w->out, so->categories);
	buf_append_u16le(w->out, so->expanded);
	for (uint16_t i = 0; i < so->count; i++) {
		/* PropertyType(2) then PropertyId(2): the tag, little-endian. */
		buf_append_u32le(w->out, so->sorts[i].proptag);
		buf_append_byte(w->out, so->sorts[i].order);
	}
	return 0;
}

int mapi_get_sort_order(struct mapi_reader *r, struct mapi_sort_order *so)
{
	memset(so, 0, sizeof(*so));
	if (mapi_read_u16(r, &so->count) < 0 || mapi_read_u16(r, &so->categories) < 0 ||
		mapi_read_u16(r, &so->expanded) < 0)
		return -1;
	if (so->count > mapi_reader_left(r) / 5)
		return fail(r, "sort order count exceeds the buffer");
	so->sorts = so->count > 0 ? pool_calloc(r->pool, so->count, sizeof(*so->sorts)) : NULL;
	for (uint16_t i = 0; i < so->count; i++)
		if (mapi_read_u32(r, &so->sorts[i].proptag) < 0 ||
			mapi_read_u8(r, &so->sorts[i].order) < 0)
			return -1;
	return 0;
}

int mapi_put_propname(struct mapi_writer *w, const struct mapi_propname *n)
{
	buf_append_byte(w->out, n->kind);
	buf_append(w->out, n->guid.b, 16);
	if (n->kind == MNID_ID) {
		buf_append_u32le(w->out, n->lid);
		return 0;
	}
	if (n->kind != MNID_STRING)
		return 0; /* MNID_NONE: kind and GUID only */
	struct buf tmp;

	buf_init(&tmp, NULL);
	put_unicode(&tmp, n->name != NULL ? n->name : "");
	if (tmp.len > 0xff) {
		buf_deinit(&tmp);
		return wfail(w, "property name longer than 255 bytes");
	}
	buf_append_byte(w->out, (uint8_t)tmp.len);
	buf_append(w->out, tmp.data, tmp.len);
	buf_deinit(&tmp);
	return 0;
}

int mapi_get_propname(struct mapi_reader *r, struct mapi_propname *n)
{
	uint8_t size;
	const uint8_t *p;
	struct buf b;

	memset(n, 0, sizeof(*n));
	if (mapi_read_u8(r, &n->kind) < 0 || mapi_read_guid(r, &n->guid) < 0)
		return -1;
	switch (n->kind) {
	case MNID_ID:
		return mapi_read_u32(r, &n->lid);
	case MNID_STRING:
		break;
	case MNID_NONE:
		return 0;
	default:
		return fail(r, "bad PropertyName kind");
	}
	if (mapi_read_u8(r, &size) < 0 || mapi_read_bytes(r, size, &p) < 0)
		return -1;
	if (size % 2 != 0)
		return fail(r, "odd UTF-16 name length");
	/* The terminator, when present, is not part of the name. */
	while (size >= 2 && p[size - 2] == 0 && p[size - 1] == 0)
		size -= 2;
	buf_init(&b, NULL);
	utf16le_to_utf8_lossy(p, size, &b);
	bool embedded_nul = memchr(b.data, 0, b.len) != NULL;

	n->name = pool_strndup(r->pool, buf_cstr(&b), b.len);
	buf_deinit(&b);
	if (embedded_nul)
		return fail(r, "NUL inside a property name");
	return 0;
}
