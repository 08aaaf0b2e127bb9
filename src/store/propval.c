/* Property values inside the store: validation of what clients set, the
 * in-memory property set, the byte encoding of values (multi-valued
 * columns, property bags of recipients and attachments) and their SQLite
 * binding.
 *
 * The encoding is ours (no library has one for MAPI values): little-endian
 * fixed-width scalars, strings and binaries as their bytes (length from
 * the container), multi-valued ones as a count then elements, variable
 * elements prefixed by a 32-bit length. Decoding is bounded and never
 * trusts a length (fuzz/fuzz_store_bag.c). */
#include <string.h>

#include "core/utf.h"
#include "core/xalloc.h"
#include "store/store_int.h"

uint32_t store_tag_canon(uint32_t tag)
{
	switch (PROP_TYPE(tag)) {
	case PT_STRING8:
		return CHANGE_PROP_TYPE(tag, PT_UNICODE);
	case PT_MV_STRING8:
		return CHANGE_PROP_TYPE(tag, PT_MV_UNICODE);
	default:
		return tag;
	}
}

bool store_tag_in(uint32_t tag, const uint32_t *tags, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (PROP_ID(tags[i]) == PROP_ID(tag))
			return true;
	return false;
}

void store_problem_add(struct store_problems *probs, uint16_t index, uint32_t tag, uint32_t err)
{
	if (probs == NULL)
		return;
	probs->v = pool_realloc(probs->pool, probs->v, probs->count * sizeof(*probs->v),
		(probs->count + 1) * sizeof(*probs->v));
	probs->v[probs->count++] = (struct store_problem){index, tag, err};
}

struct sprop *store_sprops_find(struct sprops *p, uint32_t tag)
{
	for (size_t i = 0; i < p->a.n; i++)
		if (PROP_ID(p->a.v[i].tag) == PROP_ID(tag))
			return &p->a.v[i];
	return NULL;
}

bool store_sprops_del(struct sprops *p, uint32_t tag)
{
	for (size_t i = 0; i < p->a.n; i++) {
		if (PROP_ID(p->a.v[i].tag) == PROP_ID(tag)) {
			array_delete(&p->a, i);
			return true;
		}
	}
	return false;
}

void store_sprops_set(struct sprops *p, pool_t *pool, const struct sprop *sp)
{
	struct sprop *dst = store_sprops_find(p, sp->tag);
	if (dst == NULL)
		dst = array_push_new(&p->a);
	dst->tag = sp->tag;
	dst->in_blob = sp->in_blob;
	dst->blob = sp->blob;
	if (sp->in_blob)
		memset(&dst->v, 0, sizeof(dst->v));
	else
		store_propval_copy(pool, sp->tag, &sp->v, &dst->v);
}

static size_t fixed_width(uint16_t base)
{
	switch (base) {
	case PT_SHORT:
		return 2;
	case PT_LONG:
	case PT_FLOAT:
	case PT_ERROR:
		return 4;
	case PT_DOUBLE:
	case PT_CURRENCY:
	case PT_APPTIME:
	case PT_I8:
	case PT_SYSTIME:
		return 8;
	case PT_BOOLEAN:
		return 1;
	case PT_CLSID:
		return 16;
	default:
		return 0;
	}
}

static bool type_settable(uint16_t t)
{
	switch (t) {
	case PT_SHORT:
	case PT_LONG:
	case PT_FLOAT:
	case PT_DOUBLE:
	case PT_CURRENCY:
	case PT_APPTIME:
	case PT_BOOLEAN:
	case PT_I8:
	case PT_STRING8:
	case PT_UNICODE:
	case PT_SYSTIME:
	case PT_CLSID:
	case PT_SVREID:
	case PT_BINARY:
	case PT_MV_SHORT:
	case PT_MV_LONG:
	case PT_MV_FLOAT:
	case PT_MV_DOUBLE:
	case PT_MV_CURRENCY:
	case PT_MV_APPTIME:
	case PT_MV_I8:
	case PT_MV_STRING8:
	case PT_MV_UNICODE:
	case PT_MV_SYSTIME:
	case PT_MV_CLSID:
	case PT_MV_BINARY:
		return true;
	default:
		return false;
	}
}

uint32_t store_propval_check(const struct store_settings *s, const struct mapi_propval *pv)
{
	uint16_t t = PROP_TYPE(pv->tag);
	if (PROP_ID(pv->tag) == 0 || !type_settable(t))
		return ecInvalidParam;
	const union mapi_pvalue *v = &pv->v;
	switch (t) {
	case PT_STRING8:
	case PT_UNICODE: {
		if (v->str == NULL)
			return ecInvalidParam;
		size_t n = strlen(v->str);
		if (n > s->max_value_size)
			return ecTooBig;
		return utf8_valid(v->str, n) ? ecSuccess : ecInvalidParam;
	}
	case PT_BINARY:
	case PT_SVREID:
		if (v->bin.cb > 0 && v->bin.pb == NULL)
			return ecInvalidParam;
		return v->bin.cb > s->max_value_size ? ecTooBig : ecSuccess;
	case PT_CLSID:
		return v->guid == NULL ? ecInvalidParam : ecSuccess;
	default:
		break;
	}
	if (!(t & PT_MV_FLAG))
		return ecSuccess;
	if (v->mv.count > s->max_mv_count)
		return ecTooBig;
	uint16_t base = t & ~PT_MV_FLAG;
	size_t w = fixed_width(base);
	if (v->mv.count > 0 && v->mv.str == NULL)
		return ecInvalidParam;
	uint64_t total = 0;
	for (uint32_t i = 0; i < v->mv.count; i++) {
		if (base == PT_STRING8 || base == PT_UNICODE) {
			const char *str = v->mv.str[i];
			if (str == NULL)
				return ecInvalidParam;
			size_t n = strlen(str);
			if (!utf8_valid(str, n))
				return ecInvalidParam;
			total += n + 4;
		} else if (base == PT_BINARY) {
			if (v->mv.bin[i].cb > 0 && v->mv.bin[i].pb == NULL)
				return ecInvalidParam;
			total += v->mv.bin[i].cb + 4;
		} else {
			total += w;
		}
		if (total > s->max_value_size)
			return ecTooBig;
	}
	return ecSuccess;
}

uint64_t store_propval_size(const struct sprop *sp)
{
	if (sp->in_blob)
		return sp->blob.size;
	uint16_t t = PROP_TYPE(sp->tag);
	switch (t) {
	case PT_STRING8:
	case PT_UNICODE:
		return sp->v.str != NULL ? strlen(sp->v.str) : 0;
	case PT_BINARY:
	case PT_SVREID:
	case PT_OBJECT:
		return sp->v.bin.cb;
	default:
		break;
	}
	if (!(t & PT_MV_FLAG))
		return fixed_width(t);
	uint16_t base = t & ~PT_MV_FLAG;
	uint64_t total = 0;
	for (uint32_t i = 0; i < sp->v.mv.count; i++) {
		if (base == PT_STRING8 || base == PT_UNICODE)
			total += strlen(sp->v.mv.str[i]);
		else if (base == PT_BINARY)
			total += sp->v.mv.bin[i].cb;
		else
			total += fixed_width(base);
	}
	return total;
}

void store_propval_copy(pool_t *pool, uint32_t tag, const union mapi_pvalue *src,
	union mapi_pvalue *dst)
{
	uint16_t t = PROP_TYPE(tag);
	*dst = *src;
	switch (t) {
	case PT_STRING8:
	case PT_UNICODE:
		dst->str = pool_strdup(pool, src->str != NULL ? src->str : "");
		return;
	case PT_BINARY:
	case PT_SVREID:
	case PT_OBJECT:
		dst->bin.pb = src->bin.cb > 0 ? pool_memdup(pool, src->bin.pb, src->bin.cb) : NULL;
		return;
	case PT_CLSID:
		dst->guid = pool_memdup(pool, src->guid, sizeof(struct guid));
		return;
	default:
		break;
	}
	if (!(t & PT_MV_FLAG))
		return;
	uint16_t base = t & ~PT_MV_FLAG;
	uint32_t n = src->mv.count;
	if (n == 0) {
		dst->mv.str = NULL;
		return;
	}
	switch (base) {
	case PT_STRING8:
	case PT_UNICODE:
		dst->mv.str = pool_calloc(pool, n, sizeof(char *));
		for (uint32_t i = 0; i < n; i++)
			dst->mv.str[i] = pool_strdup(pool, src->mv.str[i]);
		return;
	case PT_BINARY:
		dst->mv.bin = pool_calloc(pool, n, sizeof(struct mapi_binary));
		for (uint32_t i = 0; i < n; i++) {
			dst->mv.bin[i].cb = src->mv.bin[i].cb;
			dst->mv.bin[i].pb = src->mv.bin[i].cb > 0
				? pool_memdup(pool, src->mv.bin[i].pb, src->mv.bin[i].cb)
				: NULL;
		}
		return;
	default:
		dst->mv.l = pool_memdup(pool, src->mv.l, xmul(n, fixed_width(base)));
		return;
	}
}

/* --- Byte encoding --- */

static void enc_fixed(uint16_t base, const void *elem, struct buf *out)
{
	switch (base) {
	case PT_SHORT:
		buf_append_u16le(out, (uint16_t)*(const int16_t *)elem);
		break;
	case PT_LONG:
	case PT_ERROR:
		buf_append_u32le(out, *(const uint32_t *)elem);
		break;
	case PT_FLOAT: {
		uint32_t u;
		memcpy(&u, elem, 4);
		buf_append_u32le(out, u);
		break;
	}
	case PT_DOUBLE:
	case PT_APPTIME:
	case PT_CURRENCY:
	case PT_I8:
	case PT_SYSTIME: {
		uint64_t u;
		memcpy(&u, elem, 8);
		buf_append_u64le(out, u);
		break;
	}
	case PT_BOOLEAN:
		buf_append_byte(out, *(const bool *)elem ? 1 : 0);
		break;
	case PT_CLSID:
		buf_append(out, elem, 16);
		break;
	}
}

void store_value_encode(uint32_t tag, const union mapi_pvalue *v, struct buf *out)
{
	uint16_t t = PROP_TYPE(tag);
	switch (t) {
	case PT_STRING8:
	case PT_UNICODE:
		buf_append_str(out, v->str != NULL ? v->str : "");
		return;
	case PT_BINARY:
	case PT_SVREID:
	case PT_OBJECT:
		buf_append(out, v->bin.pb, v->bin.cb);
		return;
	case PT_CLSID:
		buf_append(out, v->guid->b, 16);
		return;
	case PT_SHORT:
		enc_fixed(t, &v->i, out);
		return;
	case PT_LONG:
	case PT_ERROR:
		enc_fixed(t, &v->l, out);
		return;
	case PT_FLOAT:
		enc_fixed(t, &v->flt, out);
		return;
	case PT_DOUBLE:
	case PT_APPTIME:
		enc_fixed(t, &v->dbl, out);
		return;
	case PT_CURRENCY:
	case PT_I8:
	case PT_SYSTIME:
		enc_fixed(t, &v->li, out);
		return;
	case PT_BOOLEAN:
		enc_fixed(t, &v->b, out);
		return;
	default:
		break;
	}
	if (!(t & PT_MV_FLAG))
		return;
	uint16_t base = t & ~PT_MV_FLAG;
	buf_append_u32le(out, v->mv.count);
	for (uint32_t i = 0; i < v->mv.count; i++) {
		switch (base) {
		case PT_STRING8:
		case PT_UNICODE: {
			size_t n = strlen(v->mv.str[i]);
			buf_append_u32le(out, (uint32_t)n);
			buf_append(out, v->mv.str[i], n);
			break;
		}
		case PT_BINARY:
			buf_append_u32le(out, v->mv.bin[i].cb);
			buf_append(out, v->mv.bin[i].pb, v->mv.bin[i].cb);
			break;
		case PT_CLSID:
			buf_append(out, v->mv.guid[i].b, 16);
			break;
		default:
			enc_fixed(base, (const uint8_t *)v->mv.l + i * fixed_width(base), out);
			break;
		}
	}
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void dec_fixed(uint16_t base, const uint8_t *p, void *elem)
{
	switch (base) {
	case PT_SHORT: {
		int16_t v = (int16_t)(p[0] | p[1] << 8);
		memcpy(elem, &v, 2);
		break;
	}
	case PT_LONG:
	case PT_ERROR:
	case PT_FLOAT: {
		uint32_t v = rd32(p);
		memcpy(elem, &v, 4);
		break;
	}
	case PT_BOOLEAN:
		*(bool *)elem = p[0] != 0;
		break;
	case PT_CLSID:
		memcpy(elem, p, 16);
		break;
	default: {
		uint64_t v = rd64(p);
		memcpy(elem, &v, 8);
		break;
	}
	}
}

uint32_t store_value_decode(uint32_t tag, const uint8_t *p, size_t len, pool_t *pool,
	union mapi_pvalue *v)
{
	uint16_t t = PROP_TYPE(tag);
	memset(v, 0, sizeof(*v));
	switch (t) {
	case PT_STRING8:
	case PT_UNICODE:
		if (memchr(p, '\0', len) != NULL || !utf8_valid(p, len))
			return ecCorruptData;
		v->str = pool_strndup(pool, (const char *)p, len);
		return ecSuccess;
	case PT_BINARY:
	case PT_SVREID:
	case PT_OBJECT:
		v->bin.cb = (uint32_t)len;
		v->bin.pb = len > 0 ? pool_memdup(pool, p, len) : NULL;
		return len > UINT32_MAX ? ecCorruptData : ecSuccess;
	case PT_CLSID:
		if (len != 16)
			return ecCorruptData;
		v->guid = pool_memdup(pool, p, 16);
		return ecSuccess;
	case PT_SHORT:
		if (len != 2)
			return ecCorruptData;
		dec_fixed(t, p, &v->i);
		return ecSuccess;
	case PT_LONG:
	case PT_ERROR:
		if (len != 4)
			return ecCorruptData;
		dec_fixed(t, p, &v->l);
		return ecSuccess;
	case PT_FLOAT:
		if (len != 4)
			return ecCorruptData;
		dec_fixed(t, p, &v->flt);
		return ecSuccess;
	case PT_BOOLEAN:
		if (len != 1)
			return ecCorruptData;
		v->b = p[0] != 0;
		return ecSuccess;
	case PT_DOUBLE:
	case PT_APPTIME:
	case PT_CURRENCY:
	case PT_I8:
	case PT_SYSTIME:
		if (len != 8)
			return ecCorruptData;
		dec_fixed(t, p, &v->li);
		return ecSuccess;
	default:
		break;
	}
	if (!(t & PT_MV_FLAG) || !type_settable(t))
		return ecCorruptData;
	uint16_t base = t & ~PT_MV_FLAG;
	if (len < 4)
		return ecCorruptData;
	uint32_t n = rd32(p);
	p += 4;
	len -= 4;
	size_t w = fixed_width(base);
	bool var = base == PT_STRING8 || base == PT_UNICODE || base == PT_BINARY;
	/* Every element takes at least 4 (variable) or w bytes: bounds the
	 * allocation by the input size. */
	if ((uint64_t)n * (var ? 4 : w) > len)
		return ecCorruptData;
	v->mv.count = n;
	if (n == 0)
		return ecSuccess;
	if (base == PT_STRING8 || base == PT_UNICODE)
		v->mv.str = pool_calloc(pool, n, sizeof(char *));
	else if (base == PT_BINARY)
		v->mv.bin = pool_calloc(pool, n, sizeof(struct mapi_binary));
	else if (base == PT_BOOLEAN)
		return ecCorruptData; /* no PT_MV_BOOLEAN */
	else
		v->mv.l = pool_calloc(pool, n, w);
	for (uint32_t i = 0; i < n; i++) {
		if (var) {
			if (len < 4)
				return ecCorruptData;
			uint32_t el = rd32(p);
			p += 4;
			len -= 4;
			if (el > len)
				return ecCorruptData;
			if (base == PT_BINARY) {
				v->mv.bin[i].cb = el;
				v->mv.bin[i].pb = el > 0 ? pool_memdup(pool, p, el) : NULL;
			} else {
				if (memchr(p, '\0', el) != NULL || !utf8_valid(p, el))
					return ecCorruptData;
				v->mv.str[i] = pool_strndup(pool, (const char *)p, el);
			}
			p += el;
			len -= el;
		} else {
			if (len < w)
				return ecCorruptData;
			dec_fixed(base, p, (uint8_t *)v->mv.l + i * w);
			p += w;
			len -= w;
		}
	}
	return len == 0 ? ecSuccess : ecCorruptData;
}

/* Bag: u32 count, then per property u32 tag, u8 kind (0 inline, 1 blob),
 * inline: u32 length + value bytes; blob: 32-byte SHA-256 + u64 size. */
void store_bag_encode(const struct sprops *p, struct buf *out)
{
	buf_append_u32le(out, (uint32_t)p->a.n);
	for (size_t i = 0; i < p->a.n; i++) {
		const struct sprop *sp = &p->a.v[i];
		buf_append_u32le(out, sp->tag);
		if (sp->in_blob) {
			buf_append_byte(out, 1);
			buf_append(out, sp->blob.sha256, 32);
			buf_append_u64le(out, sp->blob.size);
			continue;
		}
		buf_append_byte(out, 0);
		size_t at = out->len;
		buf_append_u32le(out, 0);
		store_value_encode(sp->tag, &sp->v, out);
		uint32_t n = (uint32_t)(out->len - at - 4);
		out->data[at] = n & 0xff;
		out->data[at + 1] = (n >> 8) & 0xff;
		out->data[at + 2] = (n >> 16) & 0xff;
		out->data[at + 3] = (n >> 24) & 0xff;
	}
}

uint32_t store_bag_decode(const uint8_t *p, size_t len, pool_t *pool, struct sprops *out)
{
	array_init(&out->a, pool);
	if (len < 4)
		return ecCorruptData;
	uint32_t n = rd32(p);
	p += 4;
	len -= 4;
	if ((uint64_t)n * 9 > len)
		return ecCorruptData;
	for (uint32_t i = 0; i < n; i++) {
		if (len < 5)
			return ecCorruptData;
		struct sprop sp = {.tag = rd32(p)};
		uint8_t kind = p[4];
		p += 5;
		len -= 5;
		if (!type_settable(PROP_TYPE(sp.tag)) && PROP_TYPE(sp.tag) != PT_OBJECT)
			return ecCorruptData;
		if (kind == 1) {
			if (len < 40)
				return ecCorruptData;
			sp.in_blob = true;
			memcpy(sp.blob.sha256, p, 32);
			sp.blob.size = rd64(p + 32);
			p += 40;
			len -= 40;
		} else if (kind == 0) {
			if (len < 4)
				return ecCorruptData;
			uint32_t vl = rd32(p);
			p += 4;
			len -= 4;
			if (vl > len)
				return ecCorruptData;
			uint32_t ec = store_value_decode(sp.tag, p, vl, pool, &sp.v);
			if (ec != ecSuccess)
				return ec;
			p += vl;
			len -= vl;
		} else {
			return ecCorruptData;
		}
		if (store_sprops_find(out, sp.tag) != NULL)
			return ecCorruptData;
		array_push(&out->a, sp);
	}
	return len == 0 ? ecSuccess : ecCorruptData;
}

/* --- SQLite binding --- */

void store_bind_value(sqlite3_stmt *st, int idx, uint32_t tag, const union mapi_pvalue *v,
	struct buf *scratch)
{
	uint16_t t = PROP_TYPE(tag);
	switch (t) {
	case PT_SHORT:
		sqlite3_bind_int64(st, idx, v->i);
		return;
	case PT_LONG:
		sqlite3_bind_int64(st, idx, v->l);
		return;
	case PT_ERROR:
		sqlite3_bind_int64(st, idx, v->err);
		return;
	case PT_BOOLEAN:
		sqlite3_bind_int64(st, idx, v->b ? 1 : 0);
		return;
	case PT_I8:
	case PT_CURRENCY:
	case PT_SYSTIME:
		sqlite3_bind_int64(st, idx, v->li);
		return;
	case PT_FLOAT:
		sqlite3_bind_double(st, idx, v->flt);
		return;
	case PT_DOUBLE:
	case PT_APPTIME:
		sqlite3_bind_double(st, idx, v->dbl);
		return;
	case PT_STRING8:
	case PT_UNICODE:
		sqlite3_bind_text(st, idx, v->str, -1, SQLITE_TRANSIENT);
		return;
	case PT_BINARY:
	case PT_SVREID:
	case PT_OBJECT:
		sqlite3_bind_blob(st, idx, v->bin.cb > 0 ? (const void *)v->bin.pb : "",
			(int)v->bin.cb, SQLITE_TRANSIENT);
		return;
	case PT_CLSID:
		sqlite3_bind_blob(st, idx, v->guid->b, 16, SQLITE_TRANSIENT);
		return;
	default:
		buf_reset(scratch);
		store_value_encode(tag, v, scratch);
		sqlite3_bind_blob(st, idx, scratch->len > 0 ? (const void *)scratch->data : "",
			(int)scratch->len, SQLITE_TRANSIENT);
		return;
	}
}

uint32_t store_column_value(sqlite3_stmt *st, int col, uint32_t tag, pool_t *pool,
	union mapi_pvalue *v)
{
	uint16_t t = PROP_TYPE(tag);
	memset(v, 0, sizeof(*v));
	switch (t) {
	case PT_SHORT:
		v->i = (int16_t)sqlite3_column_int64(st, col);
		return ecSuccess;
	case PT_LONG:
		v->l = (int32_t)sqlite3_column_int64(st, col);
		return ecSuccess;
	case PT_ERROR:
		v->err = (uint32_t)sqlite3_column_int64(st, col);
		return ecSuccess;
	case PT_BOOLEAN:
		v->b = sqlite3_column_int64(st, col) != 0;
		return ecSuccess;
	case PT_I8:
	case PT_CURRENCY:
	case PT_SYSTIME:
		v->li = sqlite3_column_int64(st, col);
		return ecSuccess;
	case PT_FLOAT:
		v->flt = (float)sqlite3_column_double(st, col);
		return ecSuccess;
	case PT_DOUBLE:
	case PT_APPTIME:
		v->dbl = sqlite3_column_double(st, col);
		return ecSuccess;
	case PT_STRING8:
	case PT_UNICODE: {
		const unsigned char *s = sqlite3_column_text(st, col);
		v->str = pool_strdup(pool, s != NULL ? (const char *)s : "");
		return ecSuccess;
	}
	default: {
		const void *b = sqlite3_column_blob(st, col);
		int n = sqlite3_column_bytes(st, col);
		return store_value_decode(tag, b != NULL ? b : "", (size_t)n, pool, v);
	}
	}
}

/* --- get / set / delete over an in-memory set --- */

static void put_error(struct mapi_propval *o, uint32_t tag, uint32_t err)
{
	o->tag = CHANGE_PROP_TYPE(tag, PT_ERROR);
	o->v.err = err;
}

/* One requested tag: the stored value matching tag's type (PT_UNSPECIFIED
 * matches any; PT_STRING8 reads a PT_UNICODE value). */
static void get_one(struct store *store, struct sprops *p, uint32_t tag, store_compute_fn *compute,
	void *ctx, pool_t *pool, struct mapi_propval *o)
{
	uint32_t want = store_tag_canon(tag);
	if (compute != NULL) {
		int r = compute(ctx, PROP_TYPE(want) == PT_UNSPECIFIED ? want : want, pool, o);
		if (r > 0) {
			if (PROP_TYPE(tag) == PT_UNSPECIFIED || PROP_TYPE(o->tag) == PT_ERROR)
				return;
			if (store_tag_canon(o->tag) != want) {
				put_error(o, tag, ecNotFound);
				return;
			}
			o->tag = tag;
			return;
		}
		if (r < 0) {
			put_error(o, tag, ecNotFound);
			return;
		}
	}
	struct sprop *sp = store_sprops_find(p, want);
	if (sp == NULL ||
		(PROP_TYPE(want) != PT_UNSPECIFIED && PROP_TYPE(sp->tag) != PROP_TYPE(want))) {
		put_error(o, tag, ecNotFound);
		return;
	}
	o->tag = PROP_TYPE(tag) == PT_UNSPECIFIED ? sp->tag : tag;
	if (sp->in_blob) {
		if (sp->blob.size > store->set.max_inline_get) {
			put_error(o, o->tag, ecMAPIOOM);
			return;
		}
		uint32_t ec = store_blob_load(store, sp->tag, &sp->blob, pool, &o->v);
		if (ec != ecSuccess)
			put_error(o, o->tag, ec);
		return;
	}
	o->v = sp->v; /* shares the object's memory: the caller copies if it keeps it */
	store_propval_copy(pool, sp->tag, &sp->v, &o->v);
}

uint32_t store_props_get(struct store *store, struct sprops *p, const struct mapi_tags *tags,
	store_compute_fn *compute, void *ctx, const uint32_t *computed_all, uint32_t n_computed,
	pool_t *pool, struct mapi_propvals *out)
{
	if (tags != NULL) {
		out->count = out->cap = tags->count;
		out->vals = pool_calloc(pool, tags->count ? tags->count : 1, sizeof(*out->vals));
		for (uint32_t i = 0; i < tags->count; i++)
			get_one(store, p, tags->tags[i], compute, ctx, pool, &out->vals[i]);
		return ecSuccess;
	}
	out->cap = (uint32_t)(p->a.n + n_computed + 1);
	out->vals = pool_calloc(pool, out->cap, sizeof(*out->vals));
	out->count = 0;
	for (uint32_t i = 0; i < n_computed; i++) {
		struct mapi_propval *o = &out->vals[out->count];
		if (compute(ctx, computed_all[i], pool, o) > 0 && PROP_TYPE(o->tag) != PT_ERROR)
			out->count++;
	}
	for (size_t i = 0; i < p->a.n; i++) {
		if (store_tag_in(p->a.v[i].tag, computed_all, n_computed))
			continue;
		get_one(store, p, p->a.v[i].tag, NULL, NULL, pool, &out->vals[out->count++]);
	}
	return ecSuccess;
}

uint32_t store_props_set(struct store *store, struct sprops *p, pool_t *pool,
	const struct mapi_propvals *vals, const uint32_t *computed, uint32_t n_computed,
	struct store_problems *probs)
{
	const struct store_settings *s = &store->set;
	/* Validate everything first: with probs NULL one bad value changes
	 * nothing. */
	uint32_t *errs = xcalloc(vals->count ? vals->count : 1, sizeof(uint32_t));
	uint32_t first = ecSuccess;
	size_t new_props = 0;
	for (uint32_t i = 0; i < vals->count; i++) {
		const struct mapi_propval *pv = &vals->vals[i];
		uint32_t ec = store_propval_check(s, pv);
		if (ec == ecSuccess && store_tag_in(pv->tag, computed, n_computed))
			ec = ecComputed;
		if (ec == ecSuccess) {
			struct sprop *old = store_sprops_find(p, pv->tag);
			if (old == NULL)
				new_props++;
			if (p->a.n + new_props > s->max_props_per_object)
				ec = ecTooBig;
		}
		errs[i] = ec;
		if (ec != ecSuccess && first == ecSuccess)
			first = ec;
	}
	if (first != ecSuccess && probs == NULL) {
		free(errs);
		return first;
	}
	for (uint32_t i = 0; i < vals->count; i++) {
		const struct mapi_propval *pv = &vals->vals[i];
		if (errs[i] != ecSuccess) {
			store_problem_add(probs, (uint16_t)i, pv->tag, errs[i]);
			continue;
		}
		struct sprop sp = {.tag = store_tag_canon(pv->tag), .v = pv->v};
		uint16_t t = PROP_TYPE(sp.tag);
		/* Large strings and binaries live in the blob store. */
		if ((t == PT_UNICODE || t == PT_BINARY) && store_propval_size(&sp) >= s->blob_threshold) {
			const void *data = t == PT_UNICODE ? (const void *)pv->v.str : pv->v.bin.pb;
			size_t n = (size_t)store_propval_size(&sp);
			uint32_t ec = store_blob_put(store, data, n, &sp.blob);
			if (ec != ecSuccess) {
				if (probs == NULL) {
					free(errs);
					return ec;
				}
				store_problem_add(probs, (uint16_t)i, pv->tag, ec);
				continue;
			}
			sp.in_blob = true;
		}
		store_sprops_set(p, pool, &sp);
	}
	free(errs);
	return ecSuccess;
}

uint32_t store_props_delete(struct sprops *p, const struct mapi_tags *tags,
	const uint32_t *computed, uint32_t n_computed, struct store_problems *probs)
{
	for (uint32_t i = 0; i < tags->count; i++) {
		if (store_tag_in(tags->tags[i], computed, n_computed)) {
			if (probs == NULL)
				return ecComputed;
		}
	}
	for (uint32_t i = 0; i < tags->count; i++) {
		if (store_tag_in(tags->tags[i], computed, n_computed)) {
			store_problem_add(probs, (uint16_t)i, tags->tags[i], ecComputed);
			continue;
		}
		store_sprops_del(p, tags->tags[i]);
	}
	return ecSuccess;
}
