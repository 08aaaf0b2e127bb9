/* Property values: deep copy, ordering, size, formatting and value sets
 * (mapi/propval.h). Case folding uses GLib's Unicode tables. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "core/hm_time.h"
#include "core/utf.h"
#include "core/xalloc.h"
#include "mapi/propval.h"
#include "mapi/restriction.h"
#include "mapi/tags.h"

static size_t mv_elem_size(uint16_t base)
{
	switch (base) {
	case PT_SHORT: return sizeof(int16_t);
	case PT_LONG: return sizeof(int32_t);
	case PT_FLOAT: return sizeof(float);
	case PT_DOUBLE: case PT_APPTIME: return sizeof(double);
	case PT_CURRENCY: case PT_I8: return sizeof(int64_t);
	case PT_SYSTIME: return sizeof(uint64_t);
	case PT_STRING8: case PT_UNICODE: return sizeof(char *);
	case PT_CLSID: return sizeof(struct guid);
	case PT_BINARY: return sizeof(struct mapi_binary);
	default: return 0;
	}
}

static void bin_copy(pool_t *pool, struct mapi_binary *dst, const struct mapi_binary *src)
{
	dst->cb = src->cb;
	dst->pb = src->cb > 0 ? pool_memdup(pool, src->pb, src->cb) : NULL;
}

int mapi_pvalue_copy(pool_t *pool, uint16_t type, union mapi_pvalue *dst,
	const union mapi_pvalue *src)
{
	memset(dst, 0, sizeof(*dst));
	type &= (uint16_t)~PT_MV_INSTANCE;
	switch (type) {
	case PT_NULL:
		return 0;
	case PT_SHORT: case PT_LONG: case PT_FLOAT: case PT_DOUBLE: case PT_CURRENCY:
	case PT_APPTIME: case PT_ERROR: case PT_BOOLEAN: case PT_I8: case PT_SYSTIME:
		*dst = *src;
		return 0;
	case PT_STRING8: case PT_UNICODE:
		dst->str = src->str != NULL ? pool_strdup(pool, src->str) : NULL;
		return 0;
	case PT_CLSID:
		dst->guid = src->guid != NULL ? pool_memdup(pool, src->guid, sizeof(struct guid))
					      : NULL;
		return 0;
	case PT_BINARY: case PT_SVREID: case PT_OBJECT: case PT_ACTIONS:
		bin_copy(pool, &dst->bin, &src->bin);
		return 0;
	case PT_SRESTRICTION:
		dst->res = src->res != NULL ? mapi_restriction_copy(pool, src->res) : NULL;
		return 0;
	default:
		break;
	}
	if (!mapi_ptype_is_mv(type))
		return -1;
	uint16_t base = type & (uint16_t)~PT_MV_FLAG;
	size_t esz = mv_elem_size(base);

	if (esz == 0)
		return -1;
	dst->mv.count = src->mv.count;
	if (src->mv.count == 0)
		return 0;
	void *arr = pool_memdup(pool, src->mv.bin, xmul(esz, src->mv.count));

	dst->mv.bin = arr;
	if (base == PT_STRING8 || base == PT_UNICODE) {
		for (uint32_t i = 0; i < src->mv.count; i++)
			dst->mv.str[i] = src->mv.str[i] != NULL
				? pool_strdup(pool, src->mv.str[i]) : NULL;
	} else if (base == PT_BINARY) {
		for (uint32_t i = 0; i < src->mv.count; i++)
			bin_copy(pool, &dst->mv.bin[i], &src->mv.bin[i]);
	}
	return 0;
}

int mapi_propval_copy(pool_t *pool, struct mapi_propval *dst, const struct mapi_propval *src)
{
	dst->tag = src->tag;
	return mapi_pvalue_copy(pool, PROP_TYPE(src->tag), &dst->v, &src->v);
}

void mapi_utf8_fold(const char *s, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	buf_reserve(out, len);
	while (i < len) {
		uint32_t cp;
		int n = utf8_decode(p + i, len - i, &cp);

		if (n < 0) {
			buf_append_byte(out, p[i]);
			i++;
			continue;
		}
		if (cp < 0x80) {
			buf_append_byte(out, (unsigned char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
		} else {
			unsigned char enc[4];
			gunichar low = g_unichar_tolower((gunichar)cp);

			buf_append(out, enc, (size_t)utf8_encode(low, enc));
		}
		i += (size_t)n;
	}
}

/* Compares two UTF-8 strings by code point, optionally lower-casing each
 * code point first; no allocation. Invalid bytes compare as themselves. */
static int str_compare(const char *a, const char *b, unsigned flags)
{
	const unsigned char *pa = (const unsigned char *)(a != NULL ? a : "");
	const unsigned char *pb = (const unsigned char *)(b != NULL ? b : "");
	size_t la = strlen((const char *)pa), lb = strlen((const char *)pb);
	size_t i = 0, j = 0;

	while (i < la && j < lb) {
		uint32_t ca, cb;
		int na = utf8_decode(pa + i, la - i, &ca);
		int nb = utf8_decode(pb + j, lb - j, &cb);

		if (na < 0) {
			ca = 0x110000u + pa[i];
			na = 1;
		}
		if (nb < 0) {
			cb = 0x110000u + pb[j];
			nb = 1;
		}
		if ((flags & MAPI_CMP_IGNORECASE) != 0) {
			if (ca < 0x110000u)
				ca = (uint32_t)g_unichar_tolower((gunichar)ca);
			if (cb < 0x110000u)
				cb = (uint32_t)g_unichar_tolower((gunichar)cb);
		}
		if (ca != cb)
			return ca < cb ? -1 : 1;
		i += (size_t)na;
		j += (size_t)nb;
	}
	if (i < la)
		return 1;
	if (j < lb)
		return -1;
	return 0;
}

static int bin_compare(const struct mapi_binary *a, const struct mapi_binary *b)
{
	uint32_t n = a->cb < b->cb ? a->cb : b->cb;
	int r = n > 0 ? memcmp(a->pb, b->pb, n) : 0;

	if (r != 0)
		return r < 0 ? -1 : 1;
	if (a->cb != b->cb)
		return a->cb < b->cb ? -1 : 1;
	return 0;
}

#define CMP3(x, y) ((x) < (y) ? -1 : (x) > (y) ? 1 : 0)

static int dbl_compare(double a, double b)
{
	bool na = isnan(a), nb = isnan(b);

	if (na || nb)
		return na && nb ? 0 : na ? 1 : -1;
	return CMP3(a, b);
}

static int guid_compare(const struct guid *a, const struct guid *b)
{
	static const struct guid zero;
	int r = memcmp(a != NULL ? a->b : zero.b, b != NULL ? b->b : zero.b, 16);

	return r < 0 ? -1 : r > 0 ? 1 : 0;
}

/* Element i of a multi-valued value as a single value of the base type. */
static union mapi_pvalue mv_elem(uint16_t base, const struct mapi_mv *mv, uint32_t i)
{
	union mapi_pvalue v;

	memset(&v, 0, sizeof(v));
	switch (base) {
	case PT_SHORT: v.i = mv->i[i]; break;
	case PT_LONG: v.l = mv->l[i]; break;
	case PT_FLOAT: v.flt = mv->flt[i]; break;
	case PT_DOUBLE: v.dbl = mv->dbl[i]; break;
	case PT_APPTIME: v.at = mv->at[i]; break;
	case PT_CURRENCY: v.cur = mv->cur[i]; break;
	case PT_I8: v.li = mv->li[i]; break;
	case PT_SYSTIME: v.ft = mv->ft[i]; break;
	case PT_STRING8: case PT_UNICODE: v.str = mv->str[i]; break;
	case PT_CLSID: v.guid = &mv->guid[i]; break;
	case PT_BINARY: v.bin = mv->bin[i]; break;
	default: break;
	}
	return v;
}

union mapi_pvalue mapi_mv_element(uint16_t mv_type, const struct mapi_mv *mv, uint32_t i)
{
	return mv_elem(mv_type & (uint16_t)~(PT_MV_FLAG | PT_MV_INSTANCE), mv, i);
}

int mapi_pvalue_compare(uint16_t type, const union mapi_pvalue *a, const union mapi_pvalue *b,
	unsigned flags)
{
	type &= (uint16_t)~PT_MV_INSTANCE;
	switch (type) {
	case PT_SHORT: return CMP3(a->i, b->i);
	case PT_LONG: return CMP3(a->l, b->l);
	case PT_ERROR: return CMP3(a->err, b->err);
	case PT_FLOAT: return dbl_compare(a->flt, b->flt);
	case PT_DOUBLE: return dbl_compare(a->dbl, b->dbl);
	case PT_APPTIME: return dbl_compare(a->at, b->at);
	case PT_CURRENCY: return CMP3(a->cur, b->cur);
	case PT_I8: return CMP3(a->li, b->li);
	case PT_SYSTIME: return CMP3(a->ft, b->ft);
	case PT_BOOLEAN: return CMP3(a->b ? 1 : 0, b->b ? 1 : 0);
	case PT_STRING8: case PT_UNICODE: return str_compare(a->str, b->str, flags);
	case PT_CLSID: return guid_compare(a->guid, b->guid);
	case PT_BINARY: case PT_SVREID: return bin_compare(&a->bin, &b->bin);
	default: break;
	}
	if (!mapi_ptype_is_mv(type) || mv_elem_size(type & (uint16_t)~PT_MV_FLAG) == 0)
		return 0;
	uint16_t base = type & (uint16_t)~PT_MV_FLAG;
	uint32_t n = a->mv.count < b->mv.count ? a->mv.count : b->mv.count;

	for (uint32_t i = 0; i < n; i++) {
		union mapi_pvalue ea = mv_elem(base, &a->mv, i), eb = mv_elem(base, &b->mv, i);
		int r = mapi_pvalue_compare(base, &ea, &eb, flags);

		if (r != 0)
			return r;
	}
	return CMP3(a->mv.count, b->mv.count);
}

bool mapi_pvalue_equal(uint16_t type, const union mapi_pvalue *a, const union mapi_pvalue *b,
	unsigned flags)
{
	return mapi_pvalue_compare(type, a, b, flags) == 0;
}

static uint32_t str_size(uint16_t type, const char *s)
{
	if (s == NULL)
		s = "";
	size_t len = strlen(s);

	if (type == PT_STRING8)
		return (uint32_t)(len + 1);
	/* UTF-16 code units: one per code point below U+10000, two above. */
	uint64_t units = 0;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		int n = utf8_decode((const unsigned char *)s + i, len - i, &cp);

		if (n < 0) {
			units++;
			i++;
			continue;
		}
		units += cp >= 0x10000 ? 2 : 1;
		i += (size_t)n;
	}
	units = (units + 1) * 2;
	return units > UINT32_MAX ? UINT32_MAX : (uint32_t)units;
}

uint32_t mapi_pvalue_size(uint16_t type, const union mapi_pvalue *v)
{
	type &= (uint16_t)~PT_MV_INSTANCE;
	switch (type) {
	case PT_SHORT: return 2;
	case PT_LONG: case PT_FLOAT: case PT_ERROR: return 4;
	case PT_BOOLEAN: return 1;
	case PT_DOUBLE: case PT_APPTIME: case PT_CURRENCY: case PT_I8: case PT_SYSTIME: return 8;
	case PT_CLSID: return 16;
	case PT_STRING8: case PT_UNICODE: return str_size(type, v->str);
	case PT_BINARY: case PT_SVREID: case PT_OBJECT: case PT_ACTIONS: return v->bin.cb;
	default: break;
	}
	if (!mapi_ptype_is_mv(type))
		return 0;
	uint16_t base = type & (uint16_t)~PT_MV_FLAG;

	if (mv_elem_size(base) == 0)
		return 0;
	uint64_t total = 0;

	for (uint32_t i = 0; i < v->mv.count; i++) {
		union mapi_pvalue e = mv_elem(base, &v->mv, i);

		total += mapi_pvalue_size(base, &e);
	}
	return total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
}

static void format_str(const char *s, struct buf *out)
{
	buf_append_byte(out, '"');
	for (const unsigned char *p = (const unsigned char *)(s != NULL ? s : ""); *p; p++) {
		switch (*p) {
		case '"': buf_append_str(out, "\\\""); break;
		case '\\': buf_append_str(out, "\\\\"); break;
		case '\n': buf_append_str(out, "\\n"); break;
		case '\r': buf_append_str(out, "\\r"); break;
		case '\t': buf_append_str(out, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				buf_printf(out, "\\x%02x", *p);
			else
				buf_append_byte(out, *p);
		}
	}
	buf_append_byte(out, '"');
}

static void format_bin(const struct mapi_binary *b, size_t max_bytes, struct buf *out)
{
	uint32_t n = b->cb;

	if (max_bytes > 0 && n > max_bytes)
		n = (uint32_t)max_bytes;
	buf_printf(out, "[%u] ", b->cb);
	for (uint32_t i = 0; i < n; i++)
		buf_printf(out, "%02x", b->pb[i]);
	if (n < b->cb)
		buf_append_str(out, "...");
}

static void format_time(uint64_t ft, struct buf *out)
{
	char tmp[TIME_ISO8601_MAX];
	uint32_t nsec;
	int64_t t = time_filetime_to_unix(ft, &nsec);

	buf_append_str(out, time_format_iso8601(t, (int)(nsec / 1000000), tmp));
}

void mapi_pvalue_format(uint16_t type, const union mapi_pvalue *v, size_t max_bytes,
	struct buf *out)
{
	char g[GUID_STR_LEN + 1];

	type &= (uint16_t)~PT_MV_INSTANCE;
	switch (type) {
	case PT_NULL: buf_append_str(out, "null"); return;
	case PT_SHORT: buf_printf(out, "%d", v->i); return;
	case PT_LONG: buf_printf(out, "%d", v->l); return;
	case PT_FLOAT: buf_printf(out, "%g", (double)v->flt); return;
	case PT_DOUBLE: buf_printf(out, "%.17g", v->dbl); return;
	case PT_APPTIME: buf_printf(out, "%.17g", v->at); return;
	case PT_CURRENCY: {
		int64_t c = v->cur;
		uint64_t mag = c < 0 ? (uint64_t)0 - (uint64_t)c : (uint64_t)c;

		buf_printf(out, "%s%llu.%04llu", c < 0 ? "-" : "", (unsigned long long)(mag / 10000),
			(unsigned long long)(mag % 10000));
		return;
	}
	case PT_ERROR: {
		const char *name = mapi_ec_name(v->err);

		if (name != NULL)
			buf_printf(out, "%s (0x%08x)", name, v->err);
		else
			buf_printf(out, "error 0x%08x", v->err);
		return;
	}
	case PT_BOOLEAN: buf_append_str(out, v->b ? "true" : "false"); return;
	case PT_I8: buf_printf(out, "%lld", (long long)v->li); return;
	case PT_SYSTIME: format_time(v->ft, out); return;
	case PT_STRING8: case PT_UNICODE: format_str(v->str, out); return;
	case PT_CLSID:
		if (v->guid == NULL)
			buf_append_str(out, "(null)");
		else
			buf_printf(out, "{%s}", guid_format(v->guid, g));
		return;
	case PT_BINARY: case PT_SVREID: case PT_OBJECT: case PT_ACTIONS:
		format_bin(&v->bin, max_bytes, out);
		return;
	case PT_SRESTRICTION:
		if (v->res == NULL)
			buf_append_str(out, "(null)");
		else
			mapi_restriction_format(v->res, out);
		return;
	default:
		break;
	}
	uint16_t base = type & (uint16_t)~PT_MV_FLAG;

	if (!mapi_ptype_is_mv(type) || mv_elem_size(base) == 0) {
		buf_printf(out, "(type 0x%04x)", type);
		return;
	}
	buf_append_byte(out, '{');
	for (uint32_t i = 0; i < v->mv.count; i++) {
		union mapi_pvalue e = mv_elem(base, &v->mv, i);

		if (i > 0)
			buf_append_str(out, ", ");
		mapi_pvalue_format(base, &e, max_bytes, out);
	}
	buf_append_byte(out, '}');
}

void mapi_propval_format(const struct mapi_propval *pv, size_t max_bytes, struct buf *out)
{
	const char *name = mapi_tag_name(pv->tag);

	if (name != NULL)
		buf_append_str(out, name);
	else
		buf_printf(out, "0x%08x", pv->tag);
	buf_append_str(out, " = ");
	mapi_pvalue_format(PROP_TYPE(pv->tag), &pv->v, max_bytes, out);
}

/* --- value sets --- */

static bool tag_matches(uint32_t have, uint32_t want)
{
	if (PROP_ID(have) != PROP_ID(want))
		return false;
	uint16_t th = PROP_TYPE(have), tw = PROP_TYPE(want);

	if (th == tw || tw == PT_UNSPECIFIED)
		return true;
	return mapi_ptype_is_string(th) && mapi_ptype_is_string(tw) &&
		mapi_ptype_is_mv(th) == mapi_ptype_is_mv(tw);
}

struct mapi_propval *mapi_propvals_get(const struct mapi_propvals *set, uint32_t tag)
{
	for (uint32_t i = 0; i < set->count; i++)
		if (tag_matches(set->vals[i].tag, tag))
			return &set->vals[i];
	return NULL;
}

long mapi_propvals_find_id(const struct mapi_propvals *set, uint16_t prop_id)
{
	for (uint32_t i = 0; i < set->count; i++)
		if (PROP_ID(set->vals[i].tag) == prop_id)
			return (long)i;
	return -1;
}

static struct mapi_propval *propvals_slot(pool_t *pool, struct mapi_propvals *set, uint32_t tag)
{
	long i = mapi_propvals_find_id(set, PROP_ID(tag));

	if (i >= 0) {
		set->vals[i].tag = tag;
		return &set->vals[i];
	}
	if (set->count == set->cap) {
		uint32_t ncap = set->cap < 8 ? 8 : set->cap * 2;

		set->vals = pool_realloc(pool, set->vals, xmul(set->cap, sizeof(*set->vals)),
			xmul(ncap, sizeof(*set->vals)));
		set->cap = ncap;
	}
	struct mapi_propval *pv = &set->vals[set->count++];

	pv->tag = tag;
	return pv;
}

int mapi_propvals_set(pool_t *pool, struct mapi_propvals *set, uint32_t tag,
	const union mapi_pvalue *v)
{
	union mapi_pvalue copy;

	if (mapi_pvalue_copy(pool, PROP_TYPE(tag), &copy, v) < 0)
		return -1;
	propvals_slot(pool, set, tag)->v = copy;
	return 0;
}

void mapi_propvals_set_nocopy(pool_t *pool, struct mapi_propvals *set, uint32_t tag,
	union mapi_pvalue v)
{
	propvals_slot(pool, set, tag)->v = v;
}

void mapi_propvals_set_long(pool_t *pool, struct mapi_propvals *set, uint32_t tag, int32_t v)
{
	union mapi_pvalue u = {.l = v};

	mapi_propvals_set_nocopy(pool, set, CHANGE_PROP_TYPE(tag, PT_LONG), u);
}

void mapi_propvals_set_i8(pool_t *pool, struct mapi_propvals *set, uint32_t tag, int64_t v)
{
	union mapi_pvalue u = {.li = v};

	mapi_propvals_set_nocopy(pool, set, CHANGE_PROP_TYPE(tag, PT_I8), u);
}

void mapi_propvals_set_bool(pool_t *pool, struct mapi_propvals *set, uint32_t tag, bool v)
{
	union mapi_pvalue u = {.b = v};

	mapi_propvals_set_nocopy(pool, set, CHANGE_PROP_TYPE(tag, PT_BOOLEAN), u);
}

void mapi_propvals_set_systime(pool_t *pool, struct mapi_propvals *set, uint32_t tag,
	uint64_t filetime)
{
	union mapi_pvalue u = {.ft = filetime};

	mapi_propvals_set_nocopy(pool, set, CHANGE_PROP_TYPE(tag, PT_SYSTIME), u);
}

void mapi_propvals_set_str(pool_t *pool, struct mapi_propvals *set, uint32_t tag,
	const char *utf8)
{
	union mapi_pvalue u = {.str = pool_strdup(pool, utf8 != NULL ? utf8 : "")};
	uint16_t type = PROP_TYPE(tag);

	if (!mapi_ptype_is_string(type) || mapi_ptype_is_mv(type))
		tag = CHANGE_PROP_TYPE(tag, PT_UNICODE);
	mapi_propvals_set_nocopy(pool, set, tag, u);
}

void mapi_propvals_set_bin(pool_t *pool, struct mapi_propvals *set, uint32_t tag,
	const void *data, uint32_t len)
{
	union mapi_pvalue u;

	u.bin.cb = len;
	u.bin.pb = len > 0 ? pool_memdup(pool, data, len) : NULL;
	if (PROP_TYPE(tag) != PT_BINARY && PROP_TYPE(tag) != PT_SVREID)
		tag = CHANGE_PROP_TYPE(tag, PT_BINARY);
	mapi_propvals_set_nocopy(pool, set, tag, u);
}

bool mapi_propvals_delete(struct mapi_propvals *set, uint32_t tag)
{
	long i = mapi_propvals_find_id(set, PROP_ID(tag));

	if (i < 0)
		return false;
	memmove(&set->vals[i], &set->vals[i + 1],
		(set->count - (uint32_t)i - 1) * sizeof(*set->vals));
	set->count--;
	return true;
}

void mapi_propvals_copy(pool_t *pool, struct mapi_propvals *dst, const struct mapi_propvals *src)
{
	dst->count = 0;
	dst->cap = src->count;
	dst->vals = src->count > 0 ? pool_calloc(pool, src->count, sizeof(*dst->vals)) : NULL;
	for (uint32_t i = 0; i < src->count; i++) {
		/* Values of unknown types cannot be copied: keep their tags
		 * with zeroed values rather than dropping them silently. */
		(void)mapi_propval_copy(pool, &dst->vals[i], &src->vals[i]);
		dst->count++;
	}
}

int32_t mapi_propvals_get_long(const struct mapi_propvals *set, uint32_t tag, int32_t def)
{
	const struct mapi_propval *pv = mapi_propvals_get(set, CHANGE_PROP_TYPE(tag, PT_LONG));

	return pv != NULL ? pv->v.l : def;
}

int64_t mapi_propvals_get_i8(const struct mapi_propvals *set, uint32_t tag, int64_t def)
{
	const struct mapi_propval *pv = mapi_propvals_get(set, CHANGE_PROP_TYPE(tag, PT_I8));

	return pv != NULL ? pv->v.li : def;
}

bool mapi_propvals_get_bool(const struct mapi_propvals *set, uint32_t tag, bool def)
{
	const struct mapi_propval *pv = mapi_propvals_get(set, CHANGE_PROP_TYPE(tag, PT_BOOLEAN));

	return pv != NULL ? pv->v.b : def;
}

const char *mapi_propvals_get_str(const struct mapi_propvals *set, uint32_t tag)
{
	const struct mapi_propval *pv = mapi_propvals_get(set, CHANGE_PROP_TYPE(tag, PT_UNICODE));

	return pv != NULL ? pv->v.str : NULL;
}

const struct mapi_binary *mapi_propvals_get_bin(const struct mapi_propvals *set, uint32_t tag)
{
	const struct mapi_propval *pv = mapi_propvals_get(set, CHANGE_PROP_TYPE(tag, PT_BINARY));

	return pv != NULL ? &pv->v.bin : NULL;
}
