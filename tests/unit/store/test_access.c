/* Access control: a second user, folder permissions (MS-OXCPERM rights,
 * Default and Anonymous entries), owned-item rights, the system logon. */
#include "store_test.h"

#include <string.h>

#include "mapi/propval.h"
#include "store/acl.h"
#include "store/changes.h"
#include "store/table.h"

struct fx {
	struct tstore *t;
	struct guid g;
	struct store_mailbox *alice, *bob;
	mapi_id_t inbox, ipm;
	pool_t *pool;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->t = tstore_new();
	f->alice = tstore_mailbox(f->t, &f->g, "alice@example.test");
	f->bob = tstore_open_as(f->t, &f->g, "bob@example.test");
	f->inbox = store_mailbox_special_fid(f->alice, STORE_SPECIAL_INBOX);
	f->ipm = store_mailbox_special_fid(f->alice, STORE_SPECIAL_IPM_SUBTREE);
	f->pool = f->t->pool;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_mailbox_close(&f->alice);
	store_mailbox_close(&f->bob);
	tstore_free(&f->t);
	free(f);
	return 0;
}

static void test_denied_for_second_user(void **state)
{
	struct fx *f = *state;
	mapi_id_t mid = tstore_add_message(f->alice, f->inbox, "private", 1, false);
	assert_false(store_mailbox_is_owner(f->bob));
	struct mapi_propvals v;
	assert_ec(store_folder_get_props(f->bob, f->inbox, NULL, f->pool, &v), ecAccessDenied);
	assert_ec(store_folder_open(f->bob, f->inbox), ecAccessDenied);
	struct store_table *t;
	assert_ec(store_table_open_contents(f->bob, f->inbox, false, &t), ecAccessDenied);
	assert_ec(store_table_open_hierarchy(f->bob, f->ipm, false, &t), ecAccessDenied);
	struct store_message *msg;
	assert_ec(store_message_open(f->bob, f->inbox, mid, 0, &msg), ecAccessDenied);
	assert_ec(store_message_create(f->bob, f->inbox, 0, &msg), ecAccessDenied);
	mapi_id_t x;
	assert_ec(store_folder_create(f->bob, f->inbox, "mine", STORE_FOLDER_GENERIC, NULL, 0, &x),
		ecAccessDenied);
	assert_ec(store_folder_find(f->bob, f->ipm, "Inbox", &x), ecAccessDenied);
	uint32_t partial;
	assert_ec(store_messages_delete(f->bob, f->inbox, &mid, 1, &partial), ecAccessDenied);
	assert_ec(store_messages_set_read(f->bob, f->inbox, &mid, 1, true, NULL), ecAccessDenied);
	assert_ec(store_messages_move(f->bob, f->inbox, f->ipm, &mid, 1, false, NULL, NULL),
		ecAccessDenied);
	assert_ec(store_folder_delete(f->bob, f->ipm, 0), ecAccessDenied);
	assert_ec(store_folder_empty(f->bob, f->inbox, true), ecAccessDenied);
	struct store_changes c;
	assert_ec(store_changes_folder(f->bob, f->inbox, 0, 0, 0, f->pool, &c), ecAccessDenied);
	struct store_imap_folder st;
	assert_ec(store_imap_folder(f->bob, f->inbox, &st), ecAccessDenied);
	assert_ec(store_acl_set(f->bob, f->inbox, 0, "bob@example.test", "Bob", rightsAll),
		ecAccessDenied);
	uint32_t rights = 99;
	assert_ok(store_acl_my_rights(f->bob, f->inbox, &rights));
	assert_int_equal(rights, 0);
	assert_ok(store_acl_my_rights(f->alice, f->inbox, &rights));
	assert_int_equal(rights, rightsAll);
	/* The message is still there. */
	assert_ok(store_message_open(f->alice, f->inbox, mid, 0, &msg));
	store_message_close(&msg);
}

static void test_permissions(void **state)
{
	struct fx *f = *state;
	mapi_id_t amid = tstore_add_message(f->alice, f->inbox, "alice's", 1, false);
	/* Read access. */
	assert_ok(store_acl_set(f->alice, f->inbox, 0, "bob@example.test", "Bob",
		frightsReadAny | frightsVisible));
	struct store_message *msg;
	assert_ok(store_message_open(f->bob, f->inbox, amid, 0, &msg));
	assert_string_equal(tmsg_prop(msg, PR_SUBJECT, f->pool)->v.str, "alice's");
	store_message_close(&msg);
	assert_ec(store_message_open(f->bob, f->inbox, amid, STORE_OPEN_READ_WRITE, &msg),
		ecAccessDenied);
	assert_ec(store_message_create(f->bob, f->inbox, 0, &msg), ecAccessDenied);
	struct store_table *t;
	assert_ok(store_table_open_contents(f->bob, f->inbox, false, &t));
	uint32_t n;
	assert_ok(store_table_row_count(t, &n));
	assert_int_equal(n, 1);
	store_table_close(&t);
	assert_int_equal(tfolder_prop(f->bob, f->inbox, PR_RIGHTS, f->pool)->v.l,
		frightsReadAny | frightsVisible);
	assert_int_equal(tfolder_prop(f->bob, f->inbox, PR_ACCESS_LEVEL, f->pool)->v.l, 0);

	/* Create + edit/delete own items. */
	assert_ok(store_acl_set(f->alice, f->inbox, 0, "bob@example.test", "Bob",
		frightsReadAny | frightsVisible | frightsCreate | frightsEditOwned |
			frightsDeleteOwned));
	mapi_id_t bmid = tstore_add_message(f->bob, f->inbox, "bob's", 2, false);
	assert_ok(store_message_open(f->bob, f->inbox, bmid, STORE_OPEN_READ_WRITE, &msg));
	struct mapi_propvals v = {0};
	mapi_propvals_set_str(f->pool, &v, PR_SUBJECT, "bob's edited");
	assert_ok(store_message_set_props(msg, &v, NULL));
	assert_ok(store_message_save(msg, 0));
	store_message_close(&msg);
	assert_ec(store_message_open(f->bob, f->inbox, amid, STORE_OPEN_READ_WRITE, &msg),
		ecAccessDenied);
	mapi_id_t both[] = {amid, bmid};
	uint32_t partial;
	assert_ok(store_messages_delete(f->bob, f->inbox, both, 2, &partial));
	assert_int_equal(partial, 1);
	assert_ok(store_message_open(f->alice, f->inbox, amid, 0, &msg));
	store_message_close(&msg);
	assert_ec(store_message_open(f->alice, f->inbox, bmid, 0, &msg), ecNotFound);
	/* Still no subfolders, no folder properties. */
	mapi_id_t x;
	assert_ec(store_folder_create(f->bob, f->inbox, "sub", STORE_FOLDER_GENERIC, NULL, 0, &x),
		ecAccessDenied);
	assert_ec(store_folder_set_props(f->bob, f->inbox, &v, NULL), ecAccessDenied);

	/* The list: Default, Anonymous, Bob. */
	struct store_permission *perms;
	uint32_t np;
	assert_ok(store_acl_list(f->alice, f->inbox, f->pool, &perms, &np));
	assert_int_equal(np, 3);
	assert_int_equal(perms[0].member_id, STORE_MEMBER_DEFAULT);
	assert_int_equal(perms[0].rights, 0);
	assert_int_equal(perms[1].member_id, STORE_MEMBER_ANONYMOUS);
	assert_string_equal(perms[2].principal, "bob@example.test");
	assert_true(perms[2].member_id > 0);
	assert_true(perms[2].rights & frightsCreate);

	/* Default applies to everybody without an entry. */
	struct store_mailbox *carol = tstore_open_as(f->t, &f->g, "carol@example.test");
	assert_ec(store_folder_open(carol, f->inbox), ecAccessDenied);
	assert_ok(store_acl_set(f->alice, f->inbox, STORE_MEMBER_DEFAULT, NULL, NULL,
		frightsVisible | frightsReadAny));
	assert_ok(store_folder_open(carol, f->inbox));
	assert_ok(store_message_open(carol, f->inbox, amid, 0, &msg));
	store_message_close(&msg);
	/* Bob's own entry still wins; removed, Default applies to him. */
	assert_ok(store_acl_set(f->alice, f->inbox, 0, "bob@example.test", NULL, 0));
	assert_ok(store_acl_list(f->alice, f->inbox, f->pool, &perms, &np));
	assert_int_equal(np, 2);
	assert_ec(store_message_create(f->bob, f->inbox, 0, &msg), ecAccessDenied);
	assert_ok(store_folder_open(f->bob, f->inbox));
	/* Anonymous logons get the Anonymous entry only. */
	struct store_mailbox *anon = tstore_open_as(f->t, &f->g, NULL);
	assert_ec(store_folder_open(anon, f->inbox), ecAccessDenied);
	assert_ok(store_acl_set(f->alice, f->inbox, STORE_MEMBER_ANONYMOUS, NULL, NULL,
		frightsVisible));
	assert_ok(store_folder_open(anon, f->inbox));
	assert_ec(store_message_open(anon, f->inbox, amid, 0, &msg), ecAccessDenied);
	store_mailbox_close(&anon);
	store_mailbox_close(&carol);
	/* Bad arguments. */
	assert_ec(store_acl_set(f->alice, f->inbox, 5, NULL, NULL, 1), ecInvalidParam);
	assert_ec(store_acl_set(f->alice, f->inbox, 0, "", NULL, 1), ecInvalidParam);
	assert_ec(store_acl_set(f->alice, f->inbox, 0, "x@y", NULL, 0x80000000u), ecInvalidParam);

	/* A hierarchy table shows only the folders Bob may see. */
	mapi_id_t vis, hid;
	assert_ok(store_folder_create(f->alice, f->ipm, "Shared", STORE_FOLDER_GENERIC, NULL, 0,
		&vis));
	assert_ok(store_folder_create(f->alice, f->ipm, "Hidden", STORE_FOLDER_GENERIC, NULL, 0,
		&hid));
	assert_ok(store_acl_set(f->alice, f->ipm, 0, "bob@example.test", NULL, frightsVisible));
	assert_ok(store_acl_set(f->alice, vis, 0, "bob@example.test", NULL, frightsVisible));
	assert_ok(store_table_open_hierarchy(f->bob, f->ipm, false, &t));
	struct store_rows rows;
	assert_ok(store_table_query_rows(t, 100, true, 0, f->pool, &rows, NULL));
	bool saw_vis = false, saw_hid = false;
	for (uint32_t i = 0; i < rows.count; i++) {
		saw_vis |= rows.ids[i] == vis;
		saw_hid |= rows.ids[i] == hid;
	}
	assert_true(saw_vis);
	assert_false(saw_hid);
	store_table_close(&t);
}

static void test_system_logon(void **state)
{
	struct fx *f = *state;
	struct store_logon logon = {.principal = "postmaster", .flags = STORE_LOGON_SYSTEM};
	struct store_mailbox *sys;
	assert_ok(store_mailbox_open(f->t->store, &f->g, &logon, &sys));
	assert_true(store_mailbox_is_owner(sys));
	mapi_id_t mid = tstore_add_message(sys, f->inbox, "delivered", 1, false);
	struct store_message *msg;
	assert_ok(store_message_open(f->alice, f->inbox, mid, STORE_OPEN_READ_WRITE, &msg));
	store_message_close(&msg);
	store_mailbox_close(&sys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_denied_for_second_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_system_logon, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
