/* MimeContent (MS-OXWSCORE 2.2.4.12): a message's MIME out (its original
 * MIME when it came as one, else written by convert/mime.h MS-OXCMAIL from
 * its properties) and in (CreateItem with MimeContent). Also the message
 * object <-> store message copies these need: the whole tree (properties,
 * recipients, attachments, embedded messages) with named properties
 * mapped between the mailbox's ids and the object's own name table. */
#include <string.h>

#include "convert/mime.h"
#include "convert/msgutil.h"
#include "core/base64.h"
#include "mapi/propval.h"
#include "mapi/tags.h"
#include "proto/ews/items.h"

/* Limits on what is read whole into memory. */
#define EWS_MIME_MAX_DEPTH 16

struct loader {
	struct ews_req *r;
	struct store_mailbox *mb;
	struct mapi_message *top;
};

/* A large value's full tag from the PT_ERROR placeholder's ID. */
static uint32_t large_tag(uint32_t err_tag)
{
	const struct mapi_tag_info *ti = mapi_tag_lookup(PROP_TAG(PT_UNSPECIFIED, PROP_ID(err_tag)));
	if (ti == NULL)
		return 0;
	uint16_t t = PROP_TYPE(ti->tag);
	return t == PT_BINARY || mapi_ptype_is_string(t) ? ti->tag : 0;
}

/* Copies props into out, large values read through streams, named
 * properties renamed into the object's name table. */
static void load_props(struct loader *ld, const struct mapi_propvals *props,
	struct store_message *msg, struct store_attach *att, struct mapi_propvals *out)
{
	pool_t *pool = ld->r->pool;
	for (uint32_t i = 0; i < props->count; i++) {
		struct mapi_propval pv = props->vals[i];
		if (PROP_TYPE(pv.tag) == PT_ERROR) {
			if (pv.v.err != ecMAPIOOM)
				continue;
			uint32_t want = large_tag(pv.tag);
			if (want == 0)
				continue;
			struct store_stream *st = NULL;
			uint32_t ec = msg != NULL ?
				store_message_open_stream(msg, want, STORE_STREAM_READ, &st) :
				store_attach_open_stream(att, want, STORE_STREAM_READ, &st);
			if (ec != ecSuccess)
				continue;
			struct buf b;
			buf_init(&b, pool);
			size_t got;
			do {
				ec = store_stream_read(st, 65536, &b, &got);
			} while (ec == ecSuccess && got > 0);
			store_stream_close(&st);
			if (ec != ecSuccess)
				continue;
			pv.tag = want;
			if (mapi_ptype_is_string(PROP_TYPE(want)))
				pv.v.str = (char *)buf_cstr(&b);
			else
				pv.v.bin = (struct mapi_binary){(uint32_t)b.len, b.data};
		}
		if (PROP_ID(pv.tag) >= PROP_ID_NAMED_MIN) {
			struct mapi_propname name;
			if (store_id_to_named(ld->mb, PROP_ID(pv.tag), pool, &name) != ecSuccess)
				continue;
			uint16_t id = convert_named_id(ld->top, &name);
			if (id == 0)
				continue;
			pv.tag = PROP_TAG(PROP_TYPE(pv.tag), id);
		}
		mapi_propvals_set_nocopy(pool, out, pv.tag, pv.v);
	}
}

static uint32_t load_tree(struct loader *ld, struct store_message *m, struct mapi_message *msg,
	unsigned depth)
{
	pool_t *pool = ld->r->pool;
	struct mapi_propvals props = {0};
	uint32_t ec = store_message_get_props(m, NULL, pool, &props);
	if (ec != ecSuccess)
		return ec;
	load_props(ld, &props, m, NULL, &msg->props);
	struct mapi_propvals *rows;
	uint32_t n;
	ec = store_message_get_recipients(m, pool, &rows, &n);
	if (ec != ecSuccess)
		return ec;
	for (uint32_t i = 0; i < n; i++) {
		struct mapi_recipient *rc = array_push_new(&msg->recipients);
		load_props(ld, &rows[i], NULL, NULL, &rc->props);
	}
	uint32_t *nums;
	ec = store_message_attach_nums(m, pool, &nums, &n);
	for (uint32_t i = 0; ec == ecSuccess && i < n; i++) {
		struct store_attach *att;
		ec = store_message_open_attach(m, nums[i], 0, &att);
		if (ec != ecSuccess)
			break;
		struct mapi_attachment *a = array_push_new(&msg->attachments);
		struct mapi_propvals ap = {0};
		ec = store_attach_get_props(att, NULL, pool, &ap);
		if (ec == ecSuccess)
			load_props(ld, &ap, NULL, att, &a->props);
		if (ec == ecSuccess && depth < EWS_MIME_MAX_DEPTH &&
			mapi_propvals_get_long(&a->props, PR_ATTACH_METHOD, 0) ==
				ATTACH_EMBEDDED_MSG) {
			struct store_message *emb;
			if (store_attach_open_embedded(att, false, &emb) == ecSuccess) {
				a->embedded = convert_message_new_embedded(ld->top);
				ec = load_tree(ld, emb, a->embedded, depth + 1);
				store_message_close(&emb);
			}
		}
		store_attach_close(&att);
	}
	return ec;
}

uint32_t ews_message_load(struct ews_req *r, struct store_message *m, struct mapi_message **out)
{
	struct loader ld = {.r = r, .mb = store_message_mailbox(m)};
	ld.top = convert_message_new(r->pool);
	uint32_t ec = load_tree(&ld, m, ld.top, 0);
	if (ec == ecSuccess)
		*out = ld.top;
	return ec;
}

/* --- writing a message object into the store --- */

static uint32_t save_props(struct ews_req *r, const struct mapi_propvals *in,
	const uint16_t *ids, size_t n_ids, struct mapi_propvals *out)
{
	for (uint32_t i = 0; i < in->count; i++) {
		struct mapi_propval pv = in->vals[i];
		uint16_t id = PROP_ID(pv.tag);
		if (id >= PROP_ID_NAMED_MIN) {
			size_t k = (size_t)(id - PROP_ID_NAMED_MIN);
			if (k >= n_ids || ids[k] == 0)
				continue;
			pv.tag = PROP_TAG(PROP_TYPE(pv.tag), ids[k]);
		}
		mapi_propvals_set_nocopy(r->pool, out, pv.tag, pv.v);
	}
	return ecSuccess;
}

static uint32_t save_tree(struct ews_req *r, struct store_message *m,
	const struct mapi_message *msg, const uint16_t *ids, size_t n_ids, unsigned depth);

static uint32_t save_attachments(struct ews_req *r, struct store_message *m,
	const struct mapi_message *msg, const uint16_t *ids, size_t n_ids, unsigned depth)
{
	uint32_t ec;
	for (size_t i = 0; i < msg->attachments.n; i++) {
		const struct mapi_attachment *a = &msg->attachments.v[i];
		struct store_attach *att;
		ec = store_message_create_attach(m, &att);
		if (ec != ecSuccess)
			return ec;
		struct mapi_propvals ap = {0};
		save_props(r, &a->props, ids, n_ids, &ap);
		struct store_problems aprobs = {.pool = r->pool};
		ec = store_attach_set_props(att, &ap, &aprobs);
		if (ec == ecSuccess && a->embedded != NULL && depth < EWS_MIME_MAX_DEPTH) {
			struct store_message *emb;
			ec = store_attach_open_embedded(att, true, &emb);
			if (ec == ecSuccess) {
				ec = save_tree(r, emb, a->embedded, ids, n_ids, depth + 1);
				if (ec == ecSuccess)
					ec = store_message_save(emb, 0);
				store_message_close(&emb);
			}
		}
		if (ec == ecSuccess)
			ec = store_attach_save(att);
		store_attach_close(&att);
		if (ec != ecSuccess)
			return ec;
	}
	return ecSuccess;
}

static uint32_t save_tree(struct ews_req *r, struct store_message *m,
	const struct mapi_message *msg, const uint16_t *ids, size_t n_ids, unsigned depth)
{
	struct mapi_propvals props = {0};
	save_props(r, &msg->props, ids, n_ids, &props);
	struct store_problems probs = {.pool = r->pool};
	/* A value the store refuses (a computed property in the MIME's
	 * mapping) is left out rather than failing the whole message. */
	uint32_t ec = store_message_set_props(m, &props, &probs);
	if (ec != ecSuccess)
		return ec;
	if (msg->recipients.n > 0) {
		struct mapi_propvals *rows =
			pool_calloc(r->pool, msg->recipients.n, sizeof(struct mapi_propvals));
		for (size_t i = 0; i < msg->recipients.n; i++) {
			save_props(r, &msg->recipients.v[i].props, ids, n_ids, &rows[i]);
			mapi_propvals_set_long(r->pool, &rows[i], PR_ROWID, (int32_t)i);
		}
		ec = store_message_modify_recipients(m, rows, (uint32_t)msg->recipients.n);
		if (ec != ecSuccess)
			return ec;
	}
	return save_attachments(r, m, msg, ids, n_ids, depth);
}

uint32_t ews_message_store(struct ews_req *r, struct store_message *m,
	const struct mapi_message *msg)
{
	size_t n = msg->names != NULL ? msg->names->n : 0;
	uint16_t *ids = NULL;
	if (n > 0) {
		ids = pool_calloc(r->pool, n, sizeof(*ids));
		uint32_t ec = store_named_to_ids(
			store_message_mailbox(m), msg->names->v, (uint32_t)n, true, ids);
		if (ec != ecSuccess)
			return ec;
	}
	return save_tree(r, m, msg, ids, n, 0);
}

uint32_t ews_message_add_attachments(struct ews_req *r, struct store_message *m,
	const struct mapi_message *msg, bool replace)
{
	uint32_t *nums, n;
	uint32_t ec = ecSuccess;
	if (replace) {
		ec = store_message_attach_nums(m, r->pool, &nums, &n);
		for (uint32_t i = 0; ec == ecSuccess && i < n; i++)
			ec = store_message_delete_attach(m, nums[i]);
	}
	if (ec != ecSuccess)
		return ec;
	size_t nn = msg->names != NULL ? msg->names->n : 0;
	uint16_t *ids = NULL;
	if (nn > 0) {
		ids = pool_calloc(r->pool, nn, sizeof(*ids));
		ec = store_named_to_ids(
			store_message_mailbox(m), msg->names->v, (uint32_t)nn, true, ids);
		if (ec != ecSuccess)
			return ec;
	}
	return save_attachments(r, m, msg, ids, nn, 0);
}

/* --- MIME --- */

uint32_t ews_message_mime(struct ews_req *r, struct store_message *m, struct buf *out)
{
	struct store_blob_ref ref;
	if (store_message_get_mime(m, &ref) == ecSuccess)
		return store_blob_read(r->ews->set.store, &ref, 0, (size_t)ref.size, out);
	struct mapi_message *msg;
	uint32_t ec = ews_message_load(r, m, &msg);
	if (ec != ecSuccess)
		return ec;
	struct mime_export_opts opts = {.flags = MIME_EXPORT_BCC, .domain = r->user->domain};
	const char *error;
	if (message_to_mime(msg, &opts, out, &error) < 0)
		return ecError;
	return ecSuccess;
}

uint32_t ews_message_set_mime(struct ews_req *r, struct store_message *m,
	const struct mapi_message *msg)
{
	struct buf mime;
	buf_init(&mime, r->pool);
	/* Drafts and Sent Items copies keep their Bcc (MS-OXCMAIL 2.1.3.2.4). */
	struct mime_export_opts opts = {.flags = MIME_EXPORT_BCC, .domain = r->user->domain};
	const char *error;
	if (message_to_mime(msg, &opts, &mime, &error) < 0)
		return ecError;
	struct store_blob_ref ref;
	uint32_t ec = store_blob_put(r->ews->set.store, mime.data, mime.len, &ref);
	if (ec == ecSuccess)
		ec = store_message_set_mime(m, &ref);
	return ec;
}

uint32_t ews_item_write_mime(struct ews_req *r, struct store_message *m)
{
	struct buf mime;
	buf_init(&mime, r->pool);
	uint32_t ec = ews_message_mime(r, m, &mime);
	if (ec != ecSuccess)
		return ec;
	ews_start(r, "t:MimeContent");
	ews_attr(r, "CharacterSet", "UTF-8");
	/* base64 in pieces: a large message is never a second whole copy */
	struct buf chunk;
	buf_init(&chunk, NULL);
	for (size_t off = 0; off < mime.len; off += 48 * 1024) {
		size_t len = mime.len - off < 48 * 1024 ? mime.len - off : 48 * 1024;
		buf_reset(&chunk);
		base64_encode(mime.data + off, len, &chunk);
		xmlTextWriterWriteRawLen(r->w, (const xmlChar *)chunk.data, (int)chunk.len);
	}
	buf_deinit(&chunk);
	ews_end(r);
	return ecSuccess;
}
