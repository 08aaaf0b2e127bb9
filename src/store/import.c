/* struct mapi_message (mapi/message.h) in and out of the store: what
 * content conversion produces (MIME, TNEF, iCalendar, vCard -> message)
 * and what it consumes. Named properties travel with their names: IDs
 * from 0x8000 index the message's name table and are mapped to the
 * mailbox's IDs on the way in, and back on the way out. */
#include <string.h>

#include "core/xalloc.h"
#include "mapi/namedprop.h"
#include "mapi/propval.h"
#include "store/message_import.h"
#include "store/store_int.h"

typedef __typeof__(*((struct mapi_message *)0)->names) store_names_t;

#define MAX_IMPORT_DEPTH 64

/* Sets what the caller may set; problems other than computed properties
 * (which the store gives itself) fail. */
static uint32_t set_lenient(uint32_t (*set)(void *, const struct mapi_propvals *,
				    struct store_problems *),
	void *obj, const struct mapi_propvals *pv, pool_t *pool)
{
	/* With a problem list the good values are set; a failed import
	 * discards the unsaved message anyway. */
	struct store_problems probs = {.pool = pool};
	uint32_t ec = set(obj, pv, &probs);
	if (ec != ecSuccess)
		return ec;
	for (uint32_t i = 0; i < probs.count; i++)
		if (probs.v[i].err != ecComputed)
			return probs.v[i].err;
	return ecSuccess;
}

static uint32_t set_msg(void *obj, const struct mapi_propvals *pv, struct store_problems *p)
{
	return store_message_set_props(obj, pv, p);
}

static uint32_t set_att(void *obj, const struct mapi_propvals *pv, struct store_problems *p)
{
	return store_attach_set_props(obj, pv, p);
}

/* Copies props with named IDs mapped through map (index = ID - 0x8000). */
static uint32_t map_props(const struct mapi_propvals *in, const uint16_t *map, uint32_t n_map,
	pool_t *pool, struct mapi_propvals *out)
{
	memset(out, 0, sizeof(*out));
	out->vals = pool_calloc(pool, in->count + 1, sizeof(*out->vals));
	out->cap = in->count + 1;
	for (uint32_t i = 0; i < in->count; i++) {
		struct mapi_propval pv = in->vals[i];
		uint16_t id = PROP_ID(pv.tag);
		if (id >= PROP_ID_NAMED_MIN) {
			uint32_t k = id - PROP_ID_NAMED_MIN;
			if (k >= n_map || map[k] == 0)
				return ecInvalidParam;
			pv.tag = PROP_TAG(PROP_TYPE(pv.tag), map[k]);
		}
		out->vals[out->count++] = pv;
	}
	return ecSuccess;
}

static uint32_t import_into(struct store_message *msg, const struct mapi_message *m,
	const uint16_t *map, uint32_t n_map, pool_t *pool, int depth)
{
	if (depth > MAX_IMPORT_DEPTH)
		return ecTooComplex;
	struct mapi_propvals pv;
	uint32_t ec = map_props(&m->props, map, n_map, pool, &pv);
	if (ec == ecSuccess)
		ec = set_lenient(set_msg, msg, &pv, pool);
	if (ec == ecSuccess && m->recipients.n > 0) {
		struct mapi_propvals *rows = pool_calloc(pool, m->recipients.n, sizeof(*rows));
		for (size_t i = 0; i < m->recipients.n && ec == ecSuccess; i++) {
			ec = map_props(&m->recipients.v[i].props, map, n_map, pool, &rows[i]);
			/* Rows are numbered in order unless they say otherwise;
			 * instance keys are the table's. */
			if (ec == ecSuccess)
				mapi_propvals_delete(&rows[i], PR_INSTANCE_KEY);
			if (ec == ecSuccess && mapi_propvals_get(&rows[i], PR_ROWID) == NULL)
				mapi_propvals_set_long(pool, &rows[i], PR_ROWID, (int32_t)i);
		}
		if (ec == ecSuccess)
			ec = store_message_modify_recipients(msg, rows, (uint32_t)m->recipients.n);
	}
	for (size_t i = 0; i < m->attachments.n && ec == ecSuccess; i++) {
		const struct mapi_attachment *a = &m->attachments.v[i];
		struct store_attach *att;
		ec = store_message_create_attach(msg, &att);
		if (ec != ecSuccess)
			break;
		struct mapi_propvals ap;
		ec = map_props(&a->props, map, n_map, pool, &ap);
		/* PR_ATTACH_NUM is the store's to give. */
		if (ec == ecSuccess)
			ec = set_lenient(set_att, att, &ap, pool);
		if (ec == ecSuccess && a->embedded != NULL) {
			struct store_message *emb;
			ec = store_attach_open_embedded(att, true, &emb);
			if (ec == ecSuccess) {
				ec = import_into(emb, a->embedded, map, n_map, pool, depth + 1);
				if (ec == ecSuccess)
					ec = store_message_save(emb, 0);
				store_message_close(&emb);
			}
		}
		if (ec == ecSuccess)
			ec = store_attach_save(att);
		store_attach_close(&att);
	}
	return ec;
}

uint32_t store_message_import(struct store_mailbox *mb, mapi_id_t fid,
	const struct mapi_message *m, const struct store_blob_ref *mime, uint32_t flags,
	mapi_id_t *mid_r)
{
	if (m == NULL || (flags & ~(STORE_MSG_ASSOCIATED | STORE_SAVE_DELIVERY)) != 0)
		return m == NULL ? ecInvalidParam : ecUnknownFlags;
	pool_t *pool = pool_new("import", 0);
	uint32_t n_names = m->names != NULL ? (uint32_t)m->names->n : 0;
	if (n_names > PROP_ID_NAMED_MAX - PROP_ID_NAMED_MIN + 1) {
		pool_free(&pool);
		return ecTooBig;
	}
	uint16_t *map = pool_calloc(pool, n_names + 1, sizeof(uint16_t));
	uint32_t ec = ecSuccess;
	if (n_names > 0)
		ec = store_named_to_ids(mb, m->names->v, n_names, true, map);
	struct store_message *msg = NULL;
	if (ec == ecSuccess)
		ec = store_message_create(mb, fid, flags & STORE_MSG_ASSOCIATED, &msg);
	if (ec == ecSuccess)
		ec = import_into(msg, m, map, n_names, pool, 0);
	if (ec == ecSuccess && mime != NULL)
		ec = store_message_set_mime(msg, mime);
	if (ec == ecSuccess)
		ec = store_message_save(msg, flags & STORE_SAVE_DELIVERY);
	if (ec == ecSuccess && mid_r != NULL)
		*mid_r = store_message_mid(msg);
	store_message_close(&msg);
	pool_free(&pool);
	return ec;
}

/* --- export --- */

struct exporter {
	struct store_mailbox *mb;
	pool_t *pool;
	store_names_t *names;
};

/* Replaces values too large for get_props with their full value read
 * through a stream. */
static uint32_t fill_large(struct exporter *x, struct store_message *msg, struct store_attach *att,
	struct mapi_propvals *v)
{
	for (uint32_t i = 0; i < v->count; i++) {
		struct mapi_propval *pv = &v->vals[i];
		if (PROP_TYPE(pv->tag) != PT_ERROR || pv->v.err != ecMAPIOOM)
			continue;
		/* Which type was it? Try the two that can be that large. */
		static const uint16_t types[] = {PT_BINARY, PT_UNICODE};
		for (int k = 0; k < 2; k++) {
			uint32_t tag = CHANGE_PROP_TYPE(pv->tag, types[k]);
			struct store_stream *st;
			uint32_t ec = msg != NULL
				? store_message_open_stream(msg, tag, STORE_STREAM_READ, &st)
				: store_attach_open_stream(att, tag, STORE_STREAM_READ, &st);
			if (ec == ecNotFound)
				continue;
			if (ec != ecSuccess)
				return ec;
			struct buf b;
			buf_init(&b, x->pool);
			size_t got;
			do {
				ec = store_stream_read(st, 1 << 20, &b, &got);
			} while (ec == ecSuccess && got > 0);
			store_stream_close(&st);
			if (ec != ecSuccess)
				return ec;
			pv->tag = tag;
			if (types[k] == PT_UNICODE) {
				pv->v.str = (char *)buf_cstr(&b);
			} else {
				pv->v.bin.cb = (uint32_t)b.len;
				pv->v.bin.pb = b.data;
			}
			break;
		}
	}
	return ecSuccess;
}

/* Maps the mailbox's named IDs in v to indexes in the name table. */
static uint32_t unmap_props(struct exporter *x, struct mapi_propvals *v)
{
	for (uint32_t i = 0; i < v->count; i++) {
		uint16_t id = PROP_ID(v->vals[i].tag);
		if (id < PROP_ID_NAMED_MIN)
			continue;
		struct mapi_propname n;
		uint32_t ec = store_id_to_named(x->mb, id, x->pool, &n);
		if (ec != ecSuccess)
			return ec == ecNotFound ? ecCorruptData : ec;
		size_t k = 0;
		while (k < x->names->n && !mapi_propname_equal(&x->names->v[k], &n))
			k++;
		if (k == x->names->n)
			array_push(x->names, n);
		v->vals[i].tag = PROP_TAG(PROP_TYPE(v->vals[i].tag), PROP_ID_NAMED_MIN + k);
	}
	return ecSuccess;
}

static uint32_t export_from(struct exporter *x, struct store_message *msg,
	struct mapi_message *out, int depth)
{
	if (depth > MAX_IMPORT_DEPTH)
		return ecTooComplex;
	out->pool = x->pool;
	out->names = x->names;
	array_init(&out->recipients, x->pool);
	array_init(&out->attachments, x->pool);
	uint32_t ec = store_message_get_props(msg, NULL, x->pool, &out->props);
	if (ec == ecSuccess)
		ec = fill_large(x, msg, NULL, &out->props);
	if (ec == ecSuccess)
		ec = unmap_props(x, &out->props);
	struct mapi_propvals *rows;
	uint32_t n;
	if (ec == ecSuccess)
		ec = store_message_get_recipients(msg, x->pool, &rows, &n);
	for (uint32_t i = 0; ec == ecSuccess && i < n; i++) {
		struct mapi_recipient *r = array_push_new(&out->recipients);
		r->props = rows[i];
		ec = unmap_props(x, &r->props);
	}
	uint32_t *nums;
	if (ec == ecSuccess)
		ec = store_message_attach_nums(msg, x->pool, &nums, &n);
	for (uint32_t i = 0; ec == ecSuccess && i < n; i++) {
		struct store_attach *att;
		ec = store_message_open_attach(msg, nums[i], 0, &att);
		if (ec != ecSuccess)
			break;
		struct mapi_attachment *a = array_push_new(&out->attachments);
		ec = store_attach_get_props(att, NULL, x->pool, &a->props);
		if (ec == ecSuccess)
			ec = fill_large(x, NULL, att, &a->props);
		if (ec == ecSuccess)
			ec = unmap_props(x, &a->props);
		if (ec == ecSuccess &&
			mapi_propvals_get_long(&a->props, PR_ATTACH_METHOD, 0) == ATTACH_EMBEDDED_MSG) {
			struct store_message *emb;
			ec = store_attach_open_embedded(att, false, &emb);
			if (ec == ecSuccess) {
				a->embedded = pool_alloc(x->pool, sizeof(*a->embedded));
				ec = export_from(x, emb, a->embedded, depth + 1);
				store_message_close(&emb);
			} else if (ec == ecNotFound) {
				ec = ecSuccess;
			}
		}
		store_attach_close(&att);
	}
	return ec;
}

uint32_t store_message_export(struct store_message *msg, pool_t *pool, struct mapi_message **m_r)
{
	struct exporter x = {.mb = store_message_mailbox(msg), .pool = pool};
	x.names = pool_alloc(pool, sizeof(*x.names));
	array_init(x.names, pool);
	struct mapi_message *m = pool_alloc(pool, sizeof(*m));
	uint32_t ec = export_from(&x, msg, m, 0);
	if (ec == ecSuccess)
		*m_r = m;
	return ec;
}
