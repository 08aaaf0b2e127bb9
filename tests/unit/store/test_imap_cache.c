/* The IMAP structure cache: kept per message and MIME blob, refused to
 * other principals, gone with the message, stale after a new MIME. */
#include "store_test.h"

#include "store/changes.h"
#include "store/imap_cache.h"

static void test_cache(void **state)
{
	(void)state;
	struct tstore *t = tstore_new();
	struct guid g;
	struct store_mailbox *mb = tstore_mailbox(t, &g, "alice@example.test");
	mapi_id_t inbox = store_mailbox_special_fid(mb, STORE_SPECIAL_INBOX);
	mapi_id_t mid = tstore_add_message(mb, inbox, "s", 0, false);
	struct store_message *msg;
	assert_ok(store_message_open(mb, inbox, mid, STORE_OPEN_READ_WRITE, &msg));
	struct store_blob_ref ref, ref2;
	assert_ok(store_blob_put(t->store, "Subject: a\r\n\r\nx", 15, &ref));
	assert_ok(store_blob_put(t->store, "Subject: b\r\n\r\ny", 15, &ref2));
	assert_ok(store_message_set_mime(msg, &ref));
	assert_ok(store_message_save(msg, 0));
	uint8_t sha[1][32];
	memcpy(sha[0], ref.sha256, 32);
	struct store_imap_cached out;
	assert_ok(store_imap_cache_get(mb, inbox, &mid, (const uint8_t(*)[32])sha, 1, t->pool, &out));
	assert_null(out.envelope);
	struct store_imap_cached v = {"(env)", "(body)", "(bs)"};
	uint64_t before;
	assert_ok(store_changes_state(mb, &before));
	assert_ok(store_imap_cache_put(mb, inbox, &mid, (const uint8_t(*)[32])sha, &v, 1));
	/* Not a change of the message. */
	uint64_t after;
	assert_ok(store_changes_state(mb, &after));
	assert_int_equal(before, after);
	assert_ok(store_imap_cache_get(mb, inbox, &mid, (const uint8_t(*)[32])sha, 1, t->pool, &out));
	assert_string_equal(out.envelope, "(env)");
	assert_string_equal(out.body, "(body)");
	assert_string_equal(out.bodystructure, "(bs)");
	/* Another blob: not this entry. */
	uint8_t sha2[1][32];
	memcpy(sha2[0], ref2.sha256, 32);
	assert_ok(store_imap_cache_get(mb, inbox, &mid, (const uint8_t(*)[32])sha2, 1, t->pool, &out));
	assert_null(out.envelope);
	/* Another principal without rights. */
	struct store_mailbox *bob = tstore_open_as(t, &g, "bob@example.test");
	assert_ec(store_imap_cache_get(bob, inbox, &mid, (const uint8_t(*)[32])sha, 1, t->pool, &out),
		ecAccessDenied);
	assert_ec(store_imap_cache_put(bob, inbox, &mid, (const uint8_t(*)[32])sha, &v, 1),
		ecAccessDenied);
	store_mailbox_close(&bob);
	/* Wrong folder: nothing. */
	mapi_id_t sent = store_mailbox_special_fid(mb, STORE_SPECIAL_SENT_ITEMS);
	assert_ok(store_imap_cache_get(mb, sent, &mid, (const uint8_t(*)[32])sha, 1, t->pool, &out));
	assert_null(out.envelope);
	/* Gone with the message. */
	store_message_close(&msg);
	assert_ok(store_messages_delete(mb, inbox, &mid, 1, NULL));
	assert_ok(store_imap_cache_get(mb, inbox, &mid, (const uint8_t(*)[32])sha, 1, t->pool, &out));
	assert_null(out.envelope);
	/* A put for a message that does not exist is skipped. */
	assert_ok(store_imap_cache_put(mb, inbox, &mid, (const uint8_t(*)[32])sha, &v, 1));
	assert_ok(store_imap_cache_get(mb, inbox, &mid, (const uint8_t(*)[32])sha, 1, t->pool, &out));
	assert_null(out.envelope);
	store_mailbox_close(&mb);
	tstore_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
