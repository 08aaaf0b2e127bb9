/* Mailboxes: creation with the special folders, the store object, EntryIDs,
 * opening, bad IDs. */
#include "store_test.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mapi/propval.h"
#include "store/store_int.h"

static void test_create_special_folders(void **state)
{
	struct tstore *t = tstore_new();
	struct guid g;
	struct store_mailbox *mb = tstore_mailbox(t, &g, "alice@example.test");
	assert_true(store_mailbox_is_owner(mb));
	pool_t *pool = t->pool;

	/* Every special folder exists with its name, and the tree is as
	 * MS-OXOSFLD draws it. */
	for (int w = 0; w < STORE_SPECIAL_COUNT; w++) {
		mapi_id_t fid = store_mailbox_special_fid(mb, w);
		assert_true(fid != 0);
		assert_int_equal(mapi_id_replid(fid), 1);
		const struct mapi_propval *pv = tfolder_prop(mb, fid, PR_DISPLAY_NAME, pool);
		assert_non_null(pv);
		assert_string_equal(pv->v.str, store_special_name(w));
	}
	mapi_id_t root = store_mailbox_special_fid(mb, STORE_SPECIAL_ROOT);
	mapi_id_t ipm = store_mailbox_special_fid(mb, STORE_SPECIAL_IPM_SUBTREE);
	mapi_id_t inbox = store_mailbox_special_fid(mb, STORE_SPECIAL_INBOX);
	mapi_id_t cal = store_mailbox_special_fid(mb, STORE_SPECIAL_CALENDAR);
	mapi_id_t conflicts = store_mailbox_special_fid(mb, STORE_SPECIAL_CONFLICTS);
	mapi_id_t sync = store_mailbox_special_fid(mb, STORE_SPECIAL_SYNC_ISSUES);
	assert_int_equal(tfolder_prop(mb, root, PR_PARENT_FOLDER_ID, pool)->v.li, 0);
	assert_int_equal(tfolder_prop(mb, root, PR_FOLDER_TYPE, pool)->v.l, STORE_FOLDER_ROOT);
	assert_int_equal((mapi_id_t)tfolder_prop(mb, ipm, PR_PARENT_FOLDER_ID, pool)->v.li, root);
	assert_int_equal((mapi_id_t)tfolder_prop(mb, inbox, PR_PARENT_FOLDER_ID, pool)->v.li, ipm);
	assert_int_equal((mapi_id_t)tfolder_prop(mb, conflicts, PR_PARENT_FOLDER_ID, pool)->v.li,
		sync);
	assert_string_equal(tfolder_prop(mb, inbox, PR_CONTAINER_CLASS, pool)->v.str, "IPF.Note");
	assert_string_equal(tfolder_prop(mb, cal, PR_CONTAINER_CLASS, pool)->v.str,
		"IPF.Appointment");
	assert_string_equal(tfolder_prop(mb, store_mailbox_special_fid(mb, STORE_SPECIAL_CONTACTS),
				    PR_CONTAINER_CLASS, pool)
				    ->v.str,
		"IPF.Contact");
	assert_int_equal(tfolder_prop(mb, store_mailbox_special_fid(mb, STORE_SPECIAL_REMINDERS),
				 PR_FOLDER_TYPE, pool)
				 ->v.l,
		STORE_FOLDER_SEARCH);
	assert_null(tfolder_prop(mb, ipm, PR_CONTAINER_CLASS, pool));
	assert_true(tfolder_prop(mb, ipm, PR_SUBFOLDERS, pool)->v.b);
	assert_false(tfolder_prop(mb, inbox, PR_SUBFOLDERS, pool)->v.b);
	assert_int_equal(tfolder_prop(mb, inbox, PR_CONTENT_COUNT, pool)->v.l, 0);
	assert_int_equal(tfolder_prop(mb, inbox, PR_CONTENT_UNREAD, pool)->v.l, 0);

	/* Paths resolve. */
	mapi_id_t f;
	assert_ok(store_folder_find_path(mb, root, "Top of Information Store/Sync Issues/Conflicts",
		'/', &f));
	assert_int_equal(f, conflicts);
	assert_ec(store_folder_find_path(mb, root, "Top of Information Store/Nope", '/', &f),
		ecNotFound);
	/* Names are case-insensitive. */
	assert_ok(store_folder_find(mb, ipm, "INBOX", &f));
	assert_int_equal(f, inbox);

	store_mailbox_close(&mb);
	tstore_free(&t);
}

/* The Root and the Inbox carry the special folders' EntryIDs, which
 * resolve back to those folders (MS-OXOSFLD 3.1.4.1). */
static void test_special_entryids(void **state)
{
	struct tstore *t = tstore_new();
	struct guid g;
	struct store_mailbox *mb = tstore_mailbox(t, &g, "alice@example.test");
	pool_t *pool = t->pool;
	mapi_id_t root = store_mailbox_special_fid(mb, STORE_SPECIAL_ROOT);
	mapi_id_t inbox = store_mailbox_special_fid(mb, STORE_SPECIAL_INBOX);
	static const struct {
		uint32_t tag;
		enum store_special which;
	} cases[] = {
		{PR_IPM_APPOINTMENT_ENTRYID, STORE_SPECIAL_CALENDAR},
		{PR_IPM_CONTACT_ENTRYID, STORE_SPECIAL_CONTACTS},
		{PR_IPM_JOURNAL_ENTRYID, STORE_SPECIAL_JOURNAL},
		{PR_IPM_NOTE_ENTRYID, STORE_SPECIAL_NOTES},
		{PR_IPM_TASK_ENTRYID, STORE_SPECIAL_TASKS},
		{PR_IPM_DRAFTS_ENTRYID, STORE_SPECIAL_DRAFTS},
		{PR_REM_ONLINE_ENTRYID, STORE_SPECIAL_REMINDERS},
	};
	mapi_id_t holders[2] = {root, inbox};
	for (int h = 0; h < 2; h++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			const struct mapi_propval *pv = tfolder_prop(mb, holders[h], cases[i].tag, pool);
			assert_non_null(pv);
			assert_int_equal(pv->v.bin.cb, 46);
			mapi_id_t fid, mid;
			assert_ok(store_entryid_resolve(mb, pv->v.bin.pb, pv->v.bin.cb, &fid, &mid));
			assert_int_equal(fid, store_mailbox_special_fid(mb, cases[i].which));
			assert_int_equal(mid, 0);
		}
		const struct mapi_propval *ren =
			tfolder_prop(mb, holders[h], PR_ADDITIONAL_REN_ENTRYIDS, pool);
		assert_non_null(ren);
		assert_int_equal(ren->v.mv.count, 5);
		static const enum store_special order[] = {STORE_SPECIAL_CONFLICTS,
			STORE_SPECIAL_SYNC_ISSUES, STORE_SPECIAL_LOCAL_FAILURES,
			STORE_SPECIAL_SERVER_FAILURES, STORE_SPECIAL_JUNK};
		for (int k = 0; k < 5; k++) {
			mapi_id_t fid, mid;
			assert_ok(store_entryid_resolve(mb, ren->v.mv.bin[k].pb, ren->v.mv.bin[k].cb,
				&fid, &mid));
			assert_int_equal(fid, store_mailbox_special_fid(mb, order[k]));
		}
		/* PersistData blocks then the sentinel (MS-OXOSFLD 2.2.5). */
		const struct mapi_propval *ex =
			tfolder_prop(mb, holders[h], PR_ADDITIONAL_REN_ENTRYIDS_EX, pool);
		assert_non_null(ex);
		const uint8_t *p = ex->v.bin.pb;
		assert_int_equal(p[0] | p[1] << 8, 0x8001);
		assert_int_equal(p[2] | p[3] << 8, 4 + 46);
		assert_int_equal(p[4] | p[5] << 8, 0x0001);
		assert_int_equal(p[6] | p[7] << 8, 46);
		mapi_id_t fid, mid;
		assert_ok(store_entryid_resolve(mb, p + 8, 46, &fid, &mid));
		assert_int_equal(fid, store_mailbox_special_fid(mb, STORE_SPECIAL_RSS_FEEDS));
		assert_int_equal(ex->v.bin.cb, 5 * (8 + 46) + 4);
		assert_memory_equal(p + ex->v.bin.cb - 4, "\0\0\0\0", 4);
		const struct mapi_propval *fb = tfolder_prop(mb, holders[h], PR_FREEBUSY_ENTRYIDS, pool);
		assert_non_null(fb);
		assert_int_equal(fb->v.mv.count, 4);
		assert_ok(store_entryid_resolve(mb, fb->v.mv.bin[3].pb, fb->v.mv.bin[3].cb, &fid, &mid));
		assert_int_equal(fid, store_mailbox_special_fid(mb, STORE_SPECIAL_FREEBUSY_DATA));
	}
	/* The store object's own special-folder EntryIDs (MS-OXCSTOR 2.2.2). */
	uint32_t tags[] = {PR_IPM_SUBTREE_ENTRYID, PR_IPM_OUTBOX_ENTRYID, PR_IPM_WASTEBASKET_ENTRYID,
		PR_IPM_SENTMAIL_ENTRYID, PR_FINDER_ENTRYID, PR_MAILBOX_OWNER_NAME};
	enum store_special which[] = {STORE_SPECIAL_IPM_SUBTREE, STORE_SPECIAL_OUTBOX,
		STORE_SPECIAL_DELETED_ITEMS, STORE_SPECIAL_SENT_ITEMS, STORE_SPECIAL_FINDER};
	struct mapi_tags tl = {6, tags};
	struct mapi_propvals v;
	assert_ok(store_mailbox_get_props(mb, &tl, pool, &v));
	for (int i = 0; i < 5; i++) {
		assert_int_equal(v.vals[i].tag, tags[i]);
		mapi_id_t fid, mid;
		assert_ok(store_entryid_resolve(mb, v.vals[i].v.bin.pb, v.vals[i].v.bin.cb, &fid, &mid));
		assert_int_equal(fid, store_mailbox_special_fid(mb, which[i]));
	}
	assert_string_equal(v.vals[5].v.str, "alice@example.test");
	store_mailbox_close(&mb);
	tstore_free(&t);
}

/* The EntryID layout against the example in MS-OXODLGT 4.1.1 (a folder
 * EntryID with its provider UID, database GUID and global counter). */
static void test_entryid_encoding(void **state)
{
	static const uint8_t expect[46] = {0x00, 0x00, 0x00, 0x00, 0xC3, 0xE1, 0x78, 0x57, 0x96,
		0x52, 0xCE, 0x46, 0xA3, 0x53, 0xB3, 0xE0, 0x7F, 0x9B, 0x97, 0xBC, 0x01, 0x00, 0x8B,
		0x8D, 0xB1, 0x82, 0xAF, 0x2E, 0xD0, 0x48, 0x93, 0x47, 0x07, 0xED, 0x54, 0x48, 0x84,
		0x0F, 0x00, 0x17, 0x4E, 0xA8, 0x9C, 0x98, 0x00, 0x00};
	struct mailbox m = {0};
	memcpy(m.guid.b, expect + 4, 16);
	memcpy(m.replica_guid.b, expect + 22, 16);
	struct buf b;
	buf_init(&b, NULL);
	store_eid_folder(&m, 0x00174EA89C98ULL, &b);
	assert_int_equal(b.len, 46);
	assert_memory_equal(b.data, expect, 46);
	/* The FID of that folder reads "0001-00174ea89c98" in the same
	 * example: replica id 1, global counter big-endian. */
	mapi_id_t fid = store_id(0x00174EA89C98ULL);
	uint8_t wire[8];
	for (int i = 0; i < 8; i++)
		wire[i] = (uint8_t)(fid >> (8 * i));
	static const uint8_t fid_wire[8] = {0x01, 0x00, 0x00, 0x17, 0x4E, 0xA8, 0x9C, 0x98};
	assert_memory_equal(wire, fid_wire, 8);
	/* Message EntryID: 70 bytes, type eitLTPrivateMessage. */
	buf_reset(&b);
	store_eid_message(&m, 0x00174EA89C98ULL, 0x1234, &b);
	assert_int_equal(b.len, 70);
	assert_int_equal(b.data[20], 0x07);
	assert_memory_equal(b.data + 46, expect + 22, 16);
	assert_memory_equal(b.data + 62, "\x00\x00\x00\x00\x12\x34\x00\x00", 8);
	/* XID: replica GUID + 6-byte counter. */
	uint8_t xid[22];
	store_xid(&m, 0x010203040506ULL, xid);
	assert_memory_equal(xid, expect + 22, 16);
	assert_memory_equal(xid + 16, "\x01\x02\x03\x04\x05\x06", 6);
	/* PCL: our namespace replaced, others kept, garbage dropped. */
	uint8_t other[23] = {22};
	memset(other + 1, 0xAA, 22);
	struct buf pcl;
	buf_init(&pcl, NULL);
	uint8_t old[46];
	old[0] = 22;
	store_xid(&m, 5, old + 1);
	memcpy(old + 23, other, 23);
	store_pcl_merge(old, 46, xid, &pcl);
	assert_int_equal(pcl.len, 46);
	assert_int_equal(pcl.data[0], 22);
	assert_memory_equal(pcl.data + 1, xid, 22);
	assert_memory_equal(pcl.data + 23, other, 23);
	buf_reset(&pcl);
	store_pcl_merge("\x30garbage", 8, xid, &pcl);
	assert_int_equal(pcl.len, 23);
	buf_deinit(&pcl);
	buf_deinit(&b);
}

static void test_bad_entryids_and_ids(void **state)
{
	struct tstore *t = tstore_new();
	struct guid g1, g2;
	struct store_mailbox *a = tstore_mailbox(t, &g1, "alice@example.test");
	struct store_mailbox *b = tstore_mailbox(t, &g2, "bob@example.test");
	pool_t *pool = t->pool;
	mapi_id_t inbox_b = store_mailbox_special_fid(b, STORE_SPECIAL_INBOX);
	struct buf eid;
	buf_init(&eid, NULL);
	store_entryid_make(b, inbox_b, 0, &eid);
	mapi_id_t fid, mid;
	/* Bob's EntryID in Alice's mailbox. */
	assert_ec(store_entryid_resolve(a, eid.data, eid.len, &fid, &mid), ecNotFound);
	assert_ok(store_entryid_resolve(b, eid.data, eid.len, &fid, &mid));
	/* Truncated, wrong type, non-zero flags. */
	assert_ec(store_entryid_resolve(b, eid.data, 45, &fid, &mid), ecInvalidEntryId);
	eid.data[20] = 7;
	assert_ec(store_entryid_resolve(b, eid.data, eid.len, &fid, &mid), ecInvalidEntryId);
	eid.data[20] = 1;
	eid.data[0] = 1;
	assert_ec(store_entryid_resolve(b, eid.data, eid.len, &fid, &mid), ecInvalidEntryId);
	assert_ec(store_entryid_resolve(b, NULL, 0, &fid, &mid), ecInvalidEntryId);
	buf_deinit(&eid);
	/* A FID that does not exist, another replica id, zero. */
	struct mapi_propvals v;
	assert_ec(store_folder_get_props(a, mapi_id_make(1, 0x7fffffff), NULL, pool, &v),
		ecNotFound);
	assert_ec(store_folder_get_props(a, mapi_id_make(2, 1), NULL, pool, &v), ecNotFound);
	assert_ec(store_folder_get_props(a, 0, NULL, pool, &v), ecNotFound);
	struct store_message *msg;
	assert_ec(store_message_open(a, store_mailbox_special_fid(a, STORE_SPECIAL_INBOX),
			  mapi_id_make(1, 999999), 0, &msg),
		ecNotFound);
	assert_ec(store_message_create(a, mapi_id_make(1, 999999), 0, &msg), ecNotFound);
	/* A message ID from another mailbox. */
	mapi_id_t mid_b = tstore_add_message(b, inbox_b, "for bob", 1, false);
	assert_ec(store_message_open(a, store_mailbox_special_fid(a, STORE_SPECIAL_INBOX), mid_b, 0,
			  &msg),
		ecNotFound);
	store_mailbox_close(&a);
	store_mailbox_close(&b);
	tstore_free(&t);
}

static void test_create_open_errors(void **state)
{
	struct tstore *t = tstore_new();
	struct guid g;
	struct store_mailbox *mb = tstore_mailbox(t, &g, "alice@example.test");
	store_mailbox_close(&mb);
	const char *error = NULL;
	assert_ec(store_mailbox_create(t->store, &g, "alice@example.test", NULL, &error),
		ecDuplicateName);
	assert_non_null(error);
	assert_ec(store_mailbox_create(t->store, &g, "", NULL, &error), ecInvalidParam);
	struct guid zero = {0};
	assert_ec(store_mailbox_create(t->store, &zero, "x", NULL, &error), ecInvalidParam);
	struct guid other;
	guid_generate(&other);
	struct store_logon logon = {.principal = "alice@example.test"};
	assert_ec(store_mailbox_open(t->store, &other, &logon, &mb), ecNotFound);
	assert_int_equal(store_mailbox_exists(t->store, &g), 1);
	assert_int_equal(store_mailbox_exists(t->store, &other), 0);
	/* A file that is not a mailbox. */
	char *path = store_mailbox_path(t->store, &other);
	FILE *f = fopen(path, "w");
	fputs("not a database", f);
	fclose(f);
	assert_ec(store_mailbox_open(t->store, &other, &logon, &mb), ecCorruptData);
	free(path);
	/* Reopening the store finds the mailbox again with the same FIDs. */
	mb = tstore_open_as(t, &g, "alice@example.test");
	mapi_id_t inbox = store_mailbox_special_fid(mb, STORE_SPECIAL_INBOX);
	struct guid replica = *store_mailbox_replica_guid(mb);
	store_mailbox_close(&mb);
	tstore_reopen(t);
	mb = tstore_open_as(t, &g, "alice@example.test");
	assert_int_equal(store_mailbox_special_fid(mb, STORE_SPECIAL_INBOX), inbox);
	assert_true(guid_eq(&replica, store_mailbox_replica_guid(mb)));
	store_mailbox_close(&mb);
	assert_ok(store_mailbox_destroy(t->store, &g));
	assert_int_equal(store_mailbox_exists(t->store, &g), 0);
	assert_ec(store_mailbox_destroy(t->store, &g), ecNotFound);
	tstore_free(&t);
}

/* IDs are never reused, even after the process forgets its reserved range. */
static void test_ids_monotonic(void **state)
{
	struct tstore *t = tstore_new();
	struct guid g;
	struct store_mailbox *mb = tstore_mailbox(t, &g, "alice@example.test");
	mapi_id_t inbox = store_mailbox_special_fid(mb, STORE_SPECIAL_INBOX);
	mapi_id_t a = tstore_add_message(mb, inbox, "a", 1, false);
	store_mailbox_close(&mb);
	tstore_reopen(t);
	mb = tstore_open_as(t, &g, "alice@example.test");
	mapi_id_t b = tstore_add_message(mb, inbox, "b", 2, false);
	assert_true(mapi_id_globcnt(b) > mapi_id_globcnt(a));
	store_mailbox_close(&mb);
	tstore_free(&t);
}

/* A mailbox of schema version 1 is brought up to date when opened. */
static void test_migration(void **state)
{
	struct tstore *t = tstore_new();
	struct guid g;
	struct store_mailbox *mb = tstore_mailbox(t, &g, "alice@example.test");
	mapi_id_t inbox = store_mailbox_special_fid(mb, STORE_SPECIAL_INBOX);
	mapi_id_t mid = tstore_add_message(mb, inbox, "old", 1, false);
	store_mailbox_close(&mb);
	char *path = store_mailbox_path(t->store, &g);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				 "DROP TRIGGER imap_cache_gone; DROP TABLE imap_cache; DROP INDEX messages_imap_deleted;"
				 " DROP INDEX messages_imap_cn; ALTER TABLE messages DROP COLUMN imap_cn;"
				 " UPDATE meta SET value = 1 WHERE key = 'schema_version'",
				 NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	free(path);
	tstore_reopen(t);
	mb = tstore_open_as(t, &g, "alice@example.test");
	struct store_message *msg;
	assert_ok(store_message_open(mb, inbox, mid, 0, &msg));
	assert_string_equal(tmsg_prop(msg, PR_SUBJECT, t->pool)->v.str, "old");
	store_message_close(&msg);
	tstore_add_message(mb, inbox, "new", 2, false);
	store_mailbox_close(&mb);
	/* A version from the future is refused. */
	path = store_mailbox_path(t->store, &g);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value = 99 WHERE key = 'schema_version'",
				 NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	free(path);
	tstore_reopen(t);
	struct store_logon logon = {.principal = "alice@example.test"};
	assert_int_not_equal(store_mailbox_open(t->store, &g, &logon, &mb), ecSuccess);
	tstore_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_special_folders),
		cmocka_unit_test(test_special_entryids),
		cmocka_unit_test(test_entryid_encoding),
		cmocka_unit_test(test_bad_entryids_and_ids),
		cmocka_unit_test(test_create_open_errors),
		cmocka_unit_test(test_ids_monotonic),
		cmocka_unit_test(test_migration),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
