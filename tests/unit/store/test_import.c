/* struct mapi_message in and out of the store: named properties mapped
 * both ways, recipients, attachments (large ones through the blob store),
 * embedded messages, computed properties left to the store, bad input. */
#include "store_test.h"

#include <string.h>

#include "mapi/namedprop.h"
#include "mapi/propval.h"
#include "store/message_import.h"
#include "store/ptags.h"

typedef __typeof__(*((struct mapi_message *)0)->names) names_t;

static struct mapi_message *new_msg(pool_t *pool, names_t *names)
{
	struct mapi_message *m = pool_alloc(pool, sizeof(*m));
	m->pool = pool;
	m->names = names;
	array_init(&m->recipients, pool);
	array_init(&m->attachments, pool);
	return m;
}

static void test_round_trip(void **state)
{
	struct tstore *t = tstore_new();
	struct guid g;
	struct store_mailbox *mb = tstore_mailbox(t, &g, "alice@example.test");
	mapi_id_t inbox = store_mailbox_special_fid(mb, STORE_SPECIAL_INBOX);
	pool_t *pool = t->pool;
	names_t *names = pool_alloc(pool, sizeof(*names));
	array_init(names, pool);
	array_push(names, mapi_np_name(MAPI_NP_PidNameKeywords));
	struct mapi_propname lid = {.guid = PSETID_Common, .kind = MNID_ID, .lid = 0x8503};
	array_push(names, lid);

	struct mapi_message *m = new_msg(pool, names);
	mapi_propvals_set_str(pool, &m->props, PR_SUBJECT, "imported");
	mapi_propvals_set_str(pool, &m->props, PR_MESSAGE_CLASS, "IPM.Note");
	mapi_propvals_set_long(pool, &m->props, PR_MESSAGE_FLAGS, 0);
	/* Computed ones are ignored, not refused. */
	mapi_propvals_set_long(pool, &m->props, PR_MESSAGE_SIZE, 12345);
	mapi_propvals_set_bool(pool, &m->props, PR_HASATTACH, false);
	char s1[] = "work", s2[] = "home";
	char *kw[] = {s1, s2};
	union mapi_pvalue kv = {.mv = {.count = 2, .str = kw}};
	mapi_propvals_set(pool, &m->props, PROP_TAG(PT_MV_UNICODE, 0x8000), &kv);
	mapi_propvals_set_bool(pool, &m->props, PROP_TAG(PT_BOOLEAN, 0x8001), true);
	for (int i = 0; i < 2; i++) {
		struct mapi_recipient *r = array_push_new(&m->recipients);
		mapi_propvals_set_str(pool, &r->props, PR_DISPLAY_NAME, i ? "Bob" : "Ann");
		mapi_propvals_set_long(pool, &r->props, PR_RECIPIENT_TYPE, 1);
	}
	struct mapi_attachment *a = array_push_new(&m->attachments);
	size_t big = t->set.max_inline_get + 100; /* larger than get_props returns */
	uint8_t *data = pool_alloc(pool, big);
	for (size_t i = 0; i < big; i++)
		data[i] = (uint8_t)(i * 13);
	mapi_propvals_set_long(pool, &a->props, PR_ATTACH_METHOD, ATTACH_BY_VALUE);
	mapi_propvals_set_bin(pool, &a->props, PR_ATTACH_DATA_BIN, data, (uint32_t)big);
	mapi_propvals_set_long(pool, &a->props, PR_ATTACH_NUM, 77);
	struct mapi_attachment *e = array_push_new(&m->attachments);
	mapi_propvals_set_long(pool, &e->props, PR_ATTACH_METHOD, ATTACH_EMBEDDED_MSG);
	e->embedded = new_msg(pool, names);
	mapi_propvals_set_str(pool, &e->embedded->props, PR_SUBJECT, "inner");
	mapi_propvals_set_bool(pool, &e->embedded->props, PROP_TAG(PT_BOOLEAN, 0x8001), false);

	struct store_blob_ref mime;
	assert_ok(store_blob_put(t->store, "MIME", 4, &mime));
	mapi_id_t mid;
	assert_ok(store_message_import(mb, inbox, m, &mime, STORE_SAVE_DELIVERY, &mid));
	assert_int_equal(tfolder_prop(mb, inbox, PR_CONTENT_UNREAD, pool)->v.l, 1);

	struct store_message *msg;
	assert_ok(store_message_open(mb, inbox, mid, 0, &msg));
	struct store_blob_ref got;
	assert_ok(store_message_get_mime(msg, &got));
	assert_int_equal(got.size, 4);
	struct mapi_message *x;
	assert_ok(store_message_export(msg, pool, &x));
	assert_string_equal(mapi_propvals_get_str(&x->props, PR_SUBJECT), "imported");
	assert_true(mapi_propvals_get_long(&x->props, PR_MESSAGE_SIZE, 0) != 12345);
	assert_true(mapi_propvals_get_bool(&x->props, PR_HASATTACH, false));
	assert_non_null(mapi_propvals_get(&x->props, PR_ENTRYID));
	/* Named properties come back through the exported name table. */
	assert_int_equal(x->names->n, 2);
	int kwi = -1, lidi = -1;
	for (size_t i = 0; i < x->names->n; i++) {
		if (mapi_propname_equal(&x->names->v[i], &names->v[0]))
			kwi = (int)i;
		if (mapi_propname_equal(&x->names->v[i], &lid))
			lidi = (int)i;
	}
	assert_true(kwi >= 0 && lidi >= 0);
	const struct mapi_propval *xk =
		mapi_propvals_get(&x->props, PROP_TAG(PT_MV_UNICODE, 0x8000 + kwi));
	assert_non_null(xk);
	assert_int_equal(xk->v.mv.count, 2);
	assert_string_equal(xk->v.mv.str[1], "home");
	assert_true(mapi_propvals_get_bool(&x->props, PROP_TAG(PT_BOOLEAN, 0x8000 + lidi), false));
	assert_int_equal(x->recipients.n, 2);
	assert_string_equal(mapi_propvals_get_str(&x->recipients.v[1].props, PR_DISPLAY_NAME), "Bob");
	assert_int_equal(mapi_propvals_get_long(&x->recipients.v[1].props, PR_ROWID, -1), 1);
	assert_int_equal(x->attachments.n, 2);
	const struct mapi_binary *bin = mapi_propvals_get_bin(&x->attachments.v[0].props,
		PR_ATTACH_DATA_BIN);
	assert_non_null(bin);
	assert_int_equal(bin->cb, big);
	assert_memory_equal(bin->pb, data, big);
	assert_int_equal(mapi_propvals_get_long(&x->attachments.v[0].props, PR_ATTACH_NUM, -1), 0);
	assert_non_null(x->attachments.v[1].embedded);
	struct mapi_message *inner = x->attachments.v[1].embedded;
	assert_string_equal(mapi_propvals_get_str(&inner->props, PR_SUBJECT), "inner");
	assert_false(mapi_propvals_get_bool(&inner->props, PROP_TAG(PT_BOOLEAN, 0x8000 + lidi),
		true));
	store_message_close(&msg);

	/* The export imports again (into another mailbox, with its own IDs). */
	struct guid g2;
	struct store_mailbox *bob = tstore_mailbox(t, &g2, "bob@example.test");
	mapi_id_t mid2;
	assert_ok(store_message_import(bob, store_mailbox_special_fid(bob, STORE_SPECIAL_INBOX), x,
		NULL, 0, &mid2));
	assert_ok(store_message_open(bob, store_mailbox_special_fid(bob, STORE_SPECIAL_INBOX), mid2,
		0, &msg));
	struct mapi_message *y;
	assert_ok(store_message_export(msg, pool, &y));
	assert_int_equal(y->attachments.n, 2);
	assert_int_equal(y->recipients.n, 2);
	assert_string_equal(mapi_propvals_get_str(&y->attachments.v[1].embedded->props, PR_SUBJECT),
		"inner");
	store_message_close(&msg);
	store_mailbox_close(&bob);

	/* Bad input: a named ID past the name table, a bad string; nothing
	 * is left behind. */
	struct mapi_message *bad = new_msg(pool, names);
	mapi_propvals_set_long(pool, &bad->props, PROP_TAG(PT_LONG, 0x8005), 1);
	assert_ec(store_message_import(mb, inbox, bad, NULL, 0, NULL), ecInvalidParam);
	bad = new_msg(pool, names);
	char notutf[] = "\xc0\x80";
	union mapi_pvalue sv = {.str = notutf};
	mapi_propvals_set_nocopy(pool, &bad->props, PR_SUBJECT, sv);
	assert_ec(store_message_import(mb, inbox, bad, NULL, 0, NULL), ecInvalidParam);
	assert_int_equal(tfolder_prop(mb, inbox, PR_CONTENT_COUNT, pool)->v.l, 1);
	assert_ec(store_message_import(mb, inbox, NULL, NULL, 0, NULL), ecInvalidParam);
	store_mailbox_close(&mb);
	tstore_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
