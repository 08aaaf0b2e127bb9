/* The submit path (MS-OXOMSG 3.2.4.1, 3.3.4.1: a message in the Outbox
 * is sent): read the message object from the user's mailbox, write its
 * MIME (convert/mime.h, MS-OXCMAIL 2.1), resolve and route its
 * recipients, hand it to transport_deliver, then move the original to
 * Sent Items (or delete it with PR_DELETE_AFTER_SUBMIT). EWS SendItem /
 * CreateItem SendAndSaveCopy, ActiveSync SendMail, RopSubmitMessage and
 * `hermod send` all end here. */
#include <stdio.h>
#include <string.h>

#include "convert/mime.h"
#include "core/hm_time.h"
#include "core/log.h"
#include "core/str.h"
#include "mapi/namedprop.h"
#include "mapi/propval.h"
#include "mapi/proptags.h"
#include "store/changes.h"
#include "store/imap_flags.h"
#include "transport/queue.h"
#include "transport/submit.h"
#include "transport/transport_int.h"

#define MSGFLAG_READ 0x1
#define ATTACH_EMBEDDED_MSG 5

/* --- Reading a message object out of the store --- */

struct reader {
	struct store_mailbox *mb;
	pool_t *pool;
	struct mapi_message *top;
	uint64_t max_size;
};

/* Maps a mailbox named-property tag into the message's own name table
 * (mapi/message.h); 0 if the ID has no name. */
static uint32_t name_tag(struct reader *rd, uint32_t tag)
{
	uint16_t id = PROP_ID(tag);
	if (id < PROP_ID_NAMED_MIN)
		return tag;
	struct mapi_propname name;
	if (store_id_to_named(rd->mb, id, rd->pool, &name) != ecSuccess)
		return 0;
	ARRAY(struct mapi_propname) *names = (void *)rd->top->names;
	for (size_t i = 0; i < names->n; i++)
		if (mapi_propname_equal(&names->v[i], &name))
			return PROP_TAG(PROP_TYPE(tag), PROP_ID_NAMED_MIN + i);
	if (names->n >= PROP_ID_NAMED_MAX - PROP_ID_NAMED_MIN)
		return 0;
	array_push(names, name);
	return PROP_TAG(PROP_TYPE(tag), PROP_ID_NAMED_MIN + names->n - 1);
}

/* Values too large for get_props (PT_ERROR ecMAPIOOM) are read with a
 * stream, up to max_size. */
typedef uint32_t open_stream_fn(void *obj, uint32_t tag, struct store_stream **st_r);

static uint32_t msg_stream(void *obj, uint32_t tag, struct store_stream **st_r)
{
	return store_message_open_stream(obj, tag, STORE_STREAM_READ, st_r);
}

static uint32_t att_stream(void *obj, uint32_t tag, struct store_stream **st_r)
{
	return store_attach_open_stream(obj, tag, STORE_STREAM_READ, st_r);
}

static uint32_t copy_props(struct reader *rd, const struct mapi_propvals *in, void *obj,
	open_stream_fn *open, struct mapi_propvals *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < in->count; i++) {
		struct mapi_propval pv = in->vals[i];
		if (PROP_TYPE(pv.tag) == PT_ERROR) {
			if (pv.v.err != ecMAPIOOM || open == NULL)
				continue;
			/* Which type? Binary and string values are streamable. */
			uint32_t want = 0;
			static const uint16_t types[] = {PT_BINARY, PT_UNICODE};
			struct store_stream *st = NULL;
			for (size_t k = 0; k < 2 && st == NULL; k++) {
				want = PROP_TAG(types[k], PROP_ID(pv.tag));
				if (open(obj, want, &st) != ecSuccess)
					st = NULL;
			}
			if (st == NULL)
				continue;
			if (store_stream_size(st) > rd->max_size) {
				store_stream_close(&st);
				return ecTooBig;
			}
			struct buf b;
			buf_init(&b, rd->pool);
			size_t got;
			do {
				if (store_stream_read(st, 65536, &b, &got) != ecSuccess) {
					store_stream_close(&st);
					return ecError;
				}
			} while (got > 0);
			store_stream_close(&st);
			pv.tag = want;
			if (PROP_TYPE(want) == PT_UNICODE)
				pv.v.str = (char *)buf_cstr(&b);
			else
				pv.v.bin = (struct mapi_binary){.cb = (uint32_t)b.len, .pb = b.data};
		}
		uint32_t tag = name_tag(rd, pv.tag);
		if (tag == 0)
			continue;
		pv.tag = tag;
		mapi_propvals_set_nocopy(rd->pool, out, tag, pv.v);
	}
	return ecSuccess;
}

static uint32_t read_tree(struct reader *rd, struct store_message *m, struct mapi_message *msg,
	unsigned depth)
{
	struct mapi_propvals props;
	uint32_t ec = store_message_get_props(m, NULL, rd->pool, &props);
	if (ec == ecSuccess)
		ec = copy_props(rd, &props, m, msg_stream, &msg->props);
	if (ec != ecSuccess)
		return ec;
	struct mapi_propvals *rows;
	uint32_t nrows;
	ec = store_message_get_recipients(m, rd->pool, &rows, &nrows);
	if (ec != ecSuccess)
		return ec;
	for (uint32_t i = 0; i < nrows; i++) {
		struct mapi_recipient *r = array_push_new(&msg->recipients);
		copy_props(rd, &rows[i], NULL, NULL, &r->props);
	}
	uint32_t *nums, n;
	ec = store_message_attach_nums(m, rd->pool, &nums, &n);
	for (uint32_t i = 0; ec == ecSuccess && i < n; i++) {
		struct store_attach *att;
		ec = store_message_open_attach(m, nums[i], 0, &att);
		if (ec != ecSuccess)
			break;
		struct mapi_attachment *a = array_push_new(&msg->attachments);
		ec = store_attach_get_props(att, NULL, rd->pool, &props);
		if (ec == ecSuccess)
			ec = copy_props(rd, &props, att, att_stream, &a->props);
		if (ec == ecSuccess &&
			mapi_propvals_get_long(&a->props, PR_ATTACH_METHOD, 0) == ATTACH_EMBEDDED_MSG &&
			depth < 16) {
			struct store_message *emb;
			if (store_attach_open_embedded(att, false, &emb) == ecSuccess) {
				a->embedded = pool_alloc(rd->pool, sizeof(*a->embedded));
				a->embedded->pool = rd->pool;
				a->embedded->names = rd->top->names;
				array_init(&a->embedded->recipients, rd->pool);
				array_init(&a->embedded->attachments, rd->pool);
				ec = read_tree(rd, emb, a->embedded, depth + 1);
				store_message_close(&emb);
			}
		}
		store_attach_close(&att);
	}
	return ec;
}

uint32_t transport_message_read(struct store_mailbox *mb, struct store_message *m, pool_t *pool,
	uint64_t max_size, struct mapi_message **msg_r)
{
	struct mapi_message *msg = pool_alloc(pool, sizeof(*msg));
	msg->pool = pool;
	array_init(&msg->recipients, pool);
	array_init(&msg->attachments, pool);
	ARRAY(struct mapi_propname) *names = pool_alloc(pool, sizeof(*names));
	array_init(names, pool);
	msg->names = (void *)names;
	struct reader rd = {.mb = mb, .pool = pool, .top = msg, .max_size = max_size};
	uint32_t ec = read_tree(&rd, m, msg, 0);
	if (ec == ecSuccess)
		*msg_r = msg;
	return ec;
}

/* --- Submitting --- */

/* Where an address is kept: a recipient row's PR_SMTP_ADDRESS,
 * PR_ADDRTYPE and PR_EMAIL_ADDRESS, or their PR_SENT_REPRESENTING_*
 * counterparts (the From). */
struct submit_addr_tags {
	uint32_t smtp, addrtype, email;
};
static const struct submit_addr_tags submit_rcpt_tags = {
	PR_SMTP_ADDRESS, PR_ADDRTYPE, PR_EMAIL_ADDRESS};
static const struct submit_addr_tags submit_from_tags = {PR_SENT_REPRESENTING_SMTP_ADDRESS,
	PR_SENT_REPRESENTING_ADDRTYPE, PR_SENT_REPRESENTING_EMAIL_ADDRESS};

/* The SMTP address in p under tags: the SMTP address property, an SMTP
 * email address, or an EX address (legacy DN) of one of our users. NULL
 * when there is none to be read. */
static const char *prop_address(struct transport *t, const struct mapi_propvals *p,
	const struct submit_addr_tags *tags, pool_t *pool)
{
	const char *smtp = mapi_propvals_get_str(p, tags->smtp);
	if (smtp != NULL && smtp[0] != '\0')
		return smtp;
	const char *type = mapi_propvals_get_str(p, tags->addrtype);
	const char *email = mapi_propvals_get_str(p, tags->email);
	if (email == NULL || email[0] == '\0')
		return NULL;
	if (type == NULL || str_case_eq(type, "SMTP"))
		return email;
	if (str_case_eq(type, "EX")) {
		struct directory_user *u;
		const char *err;
		if (directory_user_get_by_legacy_dn(t->dir, email, pool, &u, &err) == 1)
			return u->address;
	}
	return NULL;
}

static const char *resolve_ex(void *ctx, const char *addrtype, const char *address)
{
	struct transport *t = ((void **)ctx)[0];
	pool_t *pool = ((void **)ctx)[1];
	if (!str_case_eq(addrtype, "EX"))
		return NULL;
	struct directory_user *u;
	const char *err;
	return directory_user_get_by_legacy_dn(t->dir, address, pool, &u, &err) == 1 ? u->address
										       : NULL;
}

/* Who the message is from (MS-OXOMSG 2.2.1.51 PidTagSentRepresenting*,
 * 2.2.1.45 PidTagSender*): the From the client set when the user may send
 * as it (their own addresses and their Send As grants: the one check,
 * directory_send_as_allowed), the user when none is set or none can be
 * read. 1 with *addr_r and *name_r, 0 the user may not send as it, -1
 * directory error (*error_r). */
static int submit_from(struct transport *t, const struct directory_user *user,
	const struct mapi_propvals *props, pool_t *pool, const char **addr_r, const char **name_r,
	const char **error_r)
{
	*addr_r = user->address;
	*name_r = user->display_name[0] ? user->display_name : user->address;
	const char *addr = prop_address(t, props, &submit_from_tags, pool);
	if (addr == NULL)
		return 1;
	int r = directory_send_as_allowed(t->dir, user->id, addr, error_r);
	if (r <= 0)
		return r;
	/* No name, or the address for one (a MIME From: without a phrase):
	 * the directory's display name. */
	const char *name = mapi_propvals_get_str(props, PR_SENT_REPRESENTING_NAME);
	struct directory_recipient rcpt;
	if (name == NULL || name[0] == '\0' || str_case_eq(name, addr))
		name = directory_resolve(t->dir, addr, pool, &rcpt, error_r) == 1 &&
				       rcpt.display_name[0] != '\0'
			       ? rcpt.display_name
			       : addr;
	*addr_r = addr;
	*name_r = name;
	return 1;
}

/* A submitted message is no longer unsent (MS-OXCMSG 2.2.1.6: the server
 * clears mfUnsent when it accepts the submission). PR_MESSAGE_FLAGS is
 * settable only before the first save, so through the store's IMAP flags,
 * where \Draft is mfUnsent; the copy was just moved in, so its UID is
 * among the folder's newest. */
static void submit_clear_unsent(struct store_mailbox *mb, mapi_id_t fid, mapi_id_t mid,
	pool_t *pool)
{
	struct store_imap_folder st;
	struct store_imap_msg *v = NULL;
	uint32_t n = 0;
	if (store_imap_folder(mb, fid, &st) != ecSuccess ||
		store_imap_list(mb, fid, st.uidnext > 64 ? st.uidnext - 64 : 1, 0, 0, pool, &v, &n) !=
			ecSuccess)
		return;
	for (uint32_t i = 0; i < n; i++) {
		if (v[i].mid != mid)
			continue;
		uint32_t *modified = NULL, n_modified = 0;
		store_imap_store(mb, fid, &v[i].uid, 1, STORE_IMAP_REMOVE, STORE_IMAP_DRAFT, NULL, 0,
			0, pool, &modified, &n_modified);
		return;
	}
}

int transport_submit(struct transport *t, struct store_mailbox *mb,
	const struct directory_user *user, mapi_id_t fid, mapi_id_t mid,
	struct transport_submit_result *res, pool_t *pool, const char **error_r)
{
	memset(res, 0, sizeof(*res));
	struct store_message *m;
	uint32_t ec = store_message_open(mb, fid, mid, STORE_OPEN_READ_WRITE, &m);
	if (ec != ecSuccess) {
		*error_r = "no such message";
		return -1;
	}
	struct mapi_message *msg;
	ec = transport_message_read(mb, m, pool, t->set.max_message_size, &msg);
	if (ec != ecSuccess) {
		store_message_close(&m);
		*error_r = ec == ecTooBig ? "message too large" : "cannot read the message";
		return -1;
	}
	/* MS-OXOMSG 2.2.1.45 / 2.2.1.51: Sender and From both name whom the
	 * message is from (Send As: no "on behalf of"). */
	const char *from, *name, *derr = NULL;
	int fr = submit_from(t, user, &msg->props, pool, &from, &name, &derr);
	if (fr <= 0) {
		store_message_close(&m);
		res->send_as_denied = fr == 0;
		if (fr < 0)
			log_error(NULL, "transport: sender check for %s: %s", user->address, derr);
		*error_r = fr == 0 ? "the user may not send as the From address"
				   : "the sender check failed";
		return -1;
	}
	uint64_t now = time_filetime_now();
	mapi_propvals_set_str(pool, &msg->props, PR_SENDER_NAME, name);
	mapi_propvals_set_str(pool, &msg->props, PR_SENDER_ADDRTYPE, "SMTP");
	mapi_propvals_set_str(pool, &msg->props, PR_SENDER_EMAIL_ADDRESS, from);
	mapi_propvals_set_str(pool, &msg->props, PR_SENDER_SMTP_ADDRESS, from);
	mapi_propvals_set_str(pool, &msg->props, PR_SENT_REPRESENTING_NAME, name);
	mapi_propvals_set_str(pool, &msg->props, PR_SENT_REPRESENTING_ADDRTYPE, "SMTP");
	mapi_propvals_set_str(pool, &msg->props, PR_SENT_REPRESENTING_EMAIL_ADDRESS, from);
	mapi_propvals_set_str(pool, &msg->props, PR_SENT_REPRESENTING_SMTP_ADDRESS, from);
	mapi_propvals_set_systime(pool, &msg->props, PR_CLIENT_SUBMIT_TIME, now);

	/* Recipients: every To/Cc/Bcc row; groups expand, our users resolve,
	 * other domains are relayed. */
	struct transport_rcpt_list rcpts, bad;
	array_init(&rcpts, pool);
	array_init(&bad, pool);
	for (size_t i = 0; i < msg->recipients.n; i++) {
		const char *addr =
			prop_address(t, &msg->recipients.v[i].props, &submit_rcpt_tags, pool);
		const char *err = NULL;
		size_t before = rcpts.n;
		enum transport_lookup lk = addr != NULL
			? transport_rcpt_lookup(t, addr, 0, pool, &rcpts, &err)
			: TRANSPORT_LOOKUP_BAD_SYNTAX;
		if (lk == TRANSPORT_LOOKUP_OK || lk == TRANSPORT_LOOKUP_NOT_LOCAL)
			continue;
		rcpts.n = before;
		if (lk == TRANSPORT_LOOKUP_TEMPFAIL) {
			store_message_close(&m);
			*error_r = "recipient lookup failed";
			return -1;
		}
		struct transport_rcpt *b = array_push_new(&bad);
		b->kind = TRANSPORT_RCPT_LOCAL;
		b->address = addr != NULL ? addr
			: pool_strdup(pool, mapi_propvals_get_str(&msg->recipients.v[i].props,
						    PR_DISPLAY_NAME) ?: "(no address)");
		b->orig = b->address;
	}
	if (rcpts.n == 0 && bad.n == 0) {
		store_message_close(&m);
		*error_r = "the message has no recipients";
		return -1;
	}
	/* MS-OXCMAIL 2.1: Bcc recipients travel in the envelope only. */
	void *rctx[2] = {t, pool};
	struct mime_export_opts opts = {
		.domain = user->domain, .now = now, .resolve = resolve_ex, .resolve_ctx = rctx};
	struct buf mime;
	buf_init(&mime, NULL);
	if (message_to_mime(msg, &opts, &mime, error_r) < 0) {
		buf_deinit(&mime);
		store_message_close(&m);
		return -1;
	}
	char id[17];
	transport_new_id(t, id);
	struct transport_envelope env = {
		.id = id,
		.mail_from = from,
		.body_8bit = true,
		.rcpts = rcpts.v,
		.rcpt_count = rcpts.n,
		.received_from = pool_printf(pool, "submit %s", user->address),
	};
	enum transport_result overall = TRANSPORT_RESULT_OK;
	if (rcpts.n > 0)
		overall = transport_deliver_wait(t, &env, mime.data, mime.len, NULL, NULL, NULL);
	if (overall != TRANSPORT_RESULT_OK) {
		buf_deinit(&mime);
		store_message_close(&m);
		*error_r = "the message could not be stored or queued; try again";
		return -1;
	}
	/* Recipients nobody has: a non-delivery report to the user. */
	if (bad.n > 0) {
		enum transport_result *r = pool_calloc(pool, bad.n, sizeof(*r));
		for (size_t i = 0; i < bad.n; i++)
			r[i] = TRANSPORT_RESULT_BOUNCED;
		struct transport_envelope benv = {.mail_from = from,
			.rcpts = bad.v,
			.rcpt_count = bad.n};
		if (transport_queue_bounce(t, id, &benv, r, NULL, mime.data, mime.len) < 0)
			log_error(NULL, "transport %s: cannot queue the report about %zu unknown "
					"recipients", id, bad.n);
	}
	buf_deinit(&mime);
	res->delivered = rcpts.n;
	res->undeliverable = bad.n;
	snprintf(res->id, sizeof(res->id), "%s", id);

	/* MS-OXOMSG 3.2.4.1.1: the original goes to Sent Items (or away). */
	bool del = mapi_propvals_get_bool(&msg->props, PR_DELETE_AFTER_SUBMIT, false);
	struct mapi_propvals upd = {0};
	mapi_propvals_set_systime(pool, &upd, PR_CLIENT_SUBMIT_TIME, now);
	mapi_propvals_set_systime(pool, &upd, PR_MESSAGE_DELIVERY_TIME, now);
	mapi_propvals_set_str(pool, &upd, PR_SENDER_EMAIL_ADDRESS, from);
	mapi_propvals_set_str(pool, &upd, PR_SENDER_SMTP_ADDRESS, from);
	mapi_propvals_set_str(pool, &upd, PR_SENDER_NAME, name);
	mapi_propvals_set_str(pool, &upd, PR_SENT_REPRESENTING_EMAIL_ADDRESS, from);
	mapi_propvals_set_str(pool, &upd, PR_SENT_REPRESENTING_NAME, name);
	struct store_problems probs = {.pool = pool};
	(void)store_message_set_props(m, &upd, &probs);
	ec = store_message_save(m, STORE_SAVE_FORCE);
	if (ec == ecSuccess)
		ec = store_message_set_read(m, true);
	store_message_close(&m);
	mapi_id_t sent = store_mailbox_special_fid(mb, STORE_SPECIAL_SENT_ITEMS);
	if (del)
		ec = store_messages_delete(mb, fid, &mid, 1, NULL);
	else if (fid != sent)
		ec = store_messages_move(mb, fid, sent, &mid, 1, false, &res->sent_mid, NULL);
	else
		res->sent_mid = mid;
	if (ec != ecSuccess)
		log_warning(NULL, "transport %s: sent, but the original stays in its folder: %s", id,
			mapi_ec_name(ec));
	else if (!del && res->sent_mid != 0)
		submit_clear_unsent(mb, sent, res->sent_mid, pool);
	bool as = !str_case_eq(from, user->address);
	log_info(NULL, "transport %s: submitted by %s%s%s, %zu recipients%s", id, user->address,
		as ? " as " : "", as ? from : "", rcpts.n,
		bad.n ? " (and unknown ones reported)" : "");
	return 0;
}
