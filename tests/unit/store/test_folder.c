/* Folders: create, find, properties, rename, move, copy, delete, empty,
 * counts. */
#include "store_test.h"

#include <string.h>

#include "mapi/propval.h"

struct fx {
	struct tstore *t;
	struct guid g;
	struct store_mailbox *mb;
	mapi_id_t ipm, inbox;
	pool_t *pool;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->t = tstore_new();
	f->mb = tstore_mailbox(f->t, &f->g, "alice@example.test");
	f->ipm = store_mailbox_special_fid(f->mb, STORE_SPECIAL_IPM_SUBTREE);
	f->inbox = store_mailbox_special_fid(f->mb, STORE_SPECIAL_INBOX);
	f->pool = f->t->pool;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_mailbox_close(&f->mb);
	tstore_free(&f->t);
	free(f);
	return 0;
}

static void test_create_unique(void **state)
{
	struct fx *f = *state;
	mapi_id_t a, b, c;
	assert_ok(store_folder_create(f->mb, f->ipm, "Projects", STORE_FOLDER_GENERIC, NULL, 0, &a));
	assert_ec(store_folder_create(f->mb, f->ipm, "projects", STORE_FOLDER_GENERIC, NULL, 0, &b),
		ecDuplicateName);
	assert_ok(store_folder_create(f->mb, f->ipm, "PROJECTS", STORE_FOLDER_GENERIC, NULL,
		STORE_CREATE_OPEN_IF_EXISTS, &b));
	assert_int_equal(a, b);
	/* The same name under another parent is fine. */
	assert_ok(store_folder_create(f->mb, a, "Projects", STORE_FOLDER_GENERIC, NULL, 0, &c));
	assert_true(c != a);
	/* Bad names and flags. */
	assert_ec(store_folder_create(f->mb, f->ipm, "", STORE_FOLDER_GENERIC, NULL, 0, &b),
		ecInvalidParam);
	assert_ec(store_folder_create(f->mb, f->ipm, NULL, STORE_FOLDER_GENERIC, NULL, 0, &b),
		ecInvalidParam);
	assert_ec(store_folder_create(f->mb, f->ipm, "bad\xff", STORE_FOLDER_GENERIC, NULL, 0, &b),
		ecInvalidParam);
	char longname[2000];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_ec(store_folder_create(f->mb, f->ipm, longname, STORE_FOLDER_GENERIC, NULL, 0, &b),
		ecInvalidParam);
	assert_ec(store_folder_create(f->mb, f->ipm, "x", STORE_FOLDER_ROOT, NULL, 0, &b),
		ecInvalidParam);
	assert_ec(store_folder_create(f->mb, f->ipm, "x", STORE_FOLDER_GENERIC, NULL, 0x80, &b),
		ecUnknownFlags);
	assert_ec(store_folder_create(f->mb, mapi_id_make(1, 0xabcdef), "x", STORE_FOLDER_GENERIC,
			  NULL, 0, &b),
		ecNotFound);
	/* A bad property fails the whole create: nothing is left. */
	struct mapi_propvals v = {0};
	mapi_propvals_set_str(f->pool, &v, PR_CONTAINER_CLASS, "IPF.Note");
	mapi_propvals_set_long(f->pool, &v, PR_CONTENT_COUNT, 5);
	assert_ec(store_folder_create(f->mb, f->ipm, "WithProps", STORE_FOLDER_GENERIC, &v, 0, &b),
		ecComputed);
	assert_ec(store_folder_find(f->mb, f->ipm, "WithProps", &b), ecNotFound);
	mapi_propvals_delete(&v, PR_CONTENT_COUNT);
	assert_ok(store_folder_create(f->mb, f->ipm, "WithProps", STORE_FOLDER_GENERIC, &v, 0, &b));
	assert_string_equal(tfolder_prop(f->mb, b, PR_CONTAINER_CLASS, f->pool)->v.str, "IPF.Note");
	/* No subfolders in search folders. */
	mapi_id_t s;
	assert_ok(store_folder_create(f->mb, f->ipm, "Search", STORE_FOLDER_SEARCH, NULL, 0, &s));
	assert_ec(store_folder_create(f->mb, s, "sub", STORE_FOLDER_GENERIC, NULL, 0, &b),
		ecNotSupported);
}

static void test_props(void **state)
{
	struct fx *f = *state;
	mapi_id_t a, b;
	assert_ok(store_folder_create(f->mb, f->ipm, "A", STORE_FOLDER_GENERIC, NULL, 0, &a));
	assert_ok(store_folder_create(f->mb, f->ipm, "B", STORE_FOLDER_GENERIC, NULL, 0, &b));
	const struct mapi_propval *cn0 = tfolder_prop(f->mb, a, PR_CHANGE_NUMBER, f->pool);
	int64_t cn_before = cn0->v.li;
	struct mapi_propvals v = {0};
	mapi_propvals_set_str(f->pool, &v, PR_COMMENT, "a comment");
	mapi_propvals_set_long(f->pool, &v, PROP_TAG(PT_LONG, 0x6700), 42);
	uint32_t mv[] = {1, 2, 3};
	union mapi_pvalue mvv = {.mv = {.count = 3, .l = (int32_t *)mv}};
	mapi_propvals_set(f->pool, &v, PROP_TAG(PT_MV_LONG, 0x6701), &mvv);
	assert_ok(store_folder_set_props(f->mb, a, &v, NULL));
	assert_string_equal(tfolder_prop(f->mb, a, PR_COMMENT, f->pool)->v.str, "a comment");
	/* PT_STRING8 reads the same property. */
	assert_string_equal(tfolder_prop(f->mb, a, PR_COMMENT_A, f->pool)->v.str, "a comment");
	assert_int_equal(tfolder_prop(f->mb, a, PROP_TAG(PT_LONG, 0x6700), f->pool)->v.l, 42);
	const struct mapi_propval *m = tfolder_prop(f->mb, a, PROP_TAG(PT_MV_LONG, 0x6701), f->pool);
	assert_int_equal(m->v.mv.count, 3);
	assert_int_equal(m->v.mv.l[2], 3);
	/* Asked with another type: not found. */
	assert_null(tfolder_prop(f->mb, a, PROP_TAG(PT_UNICODE, 0x6700), f->pool));
	/* PT_UNSPECIFIED gets whatever type it has. */
	const struct mapi_propval *u = tfolder_prop(f->mb, a, PROP_TAG(PT_UNSPECIFIED, 0x6700),
		f->pool);
	assert_int_equal(u->tag, PROP_TAG(PT_LONG, 0x6700));
	/* The change number moved, the change key follows it. */
	assert_true(tfolder_prop(f->mb, a, PR_CHANGE_NUMBER, f->pool)->v.li != cn_before);
	const struct mapi_propval *ck = tfolder_prop(f->mb, a, PR_CHANGE_KEY, f->pool);
	assert_int_equal(ck->v.bin.cb, 22);
	const struct mapi_propval *pcl = tfolder_prop(f->mb, a, PR_PREDECESSOR_CHANGE_LIST, f->pool);
	assert_int_equal(pcl->v.bin.cb, 23);
	assert_memory_equal(pcl->v.bin.pb + 1, ck->v.bin.pb, 22);
	const struct mapi_propval *sk = tfolder_prop(f->mb, a, PR_SOURCE_KEY, f->pool);
	assert_int_equal(sk->v.bin.cb, 22);
	assert_memory_equal(sk->v.bin.pb, store_mailbox_replica_guid(f->mb)->b, 16);

	/* Every property at once includes stored and computed ones. */
	struct mapi_propvals all;
	assert_ok(store_folder_get_props(f->mb, a, NULL, f->pool, &all));
	assert_non_null(tprop(&all, PR_COMMENT));
	assert_non_null(tprop(&all, PR_FOLDER_ID));
	assert_non_null(tprop(&all, PR_ENTRYID));
	assert_non_null(tprop(&all, PR_DISPLAY_NAME));

	/* Bad values: with no problem list the whole set fails. */
	struct mapi_propvals bad = {0};
	mapi_propvals_set_str(f->pool, &bad, PR_COMMENT, "new comment");
	mapi_propvals_set_long(f->pool, &bad, PR_FOLDER_CHILD_COUNT, 3);
	assert_ec(store_folder_set_props(f->mb, a, &bad, NULL), ecComputed);
	assert_string_equal(tfolder_prop(f->mb, a, PR_COMMENT, f->pool)->v.str, "a comment");
	/* With a problem list the good ones are written. */
	struct store_problems probs = {.pool = f->pool};
	assert_ok(store_folder_set_props(f->mb, a, &bad, &probs));
	assert_int_equal(probs.count, 1);
	assert_int_equal(probs.v[0].index, 1);
	assert_int_equal(probs.v[0].err, ecComputed);
	assert_string_equal(tfolder_prop(f->mb, a, PR_COMMENT, f->pool)->v.str, "new comment");
	/* Invalid UTF-8, unsupported types, PR_NULL. */
	char badstr[] = "bad \xc3\x28";
	struct mapi_propval pv = {.tag = PR_COMMENT, .v.str = badstr};
	struct mapi_propvals one = {1, &pv, 1};
	assert_ec(store_folder_set_props(f->mb, a, &one, NULL), ecInvalidParam);
	pv.tag = PROP_TAG(PT_OBJECT, 0x6702);
	assert_ec(store_folder_set_props(f->mb, a, &one, NULL), ecInvalidParam);
	pv.tag = PROP_TAG(PT_ERROR, 0x6702);
	assert_ec(store_folder_set_props(f->mb, a, &one, NULL), ecInvalidParam);
	pv.tag = PROP_TAG(PT_LONG, 0);
	assert_ec(store_folder_set_props(f->mb, a, &one, NULL), ecInvalidParam);
	pv.tag = PROP_TAG(PT_BINARY, 0x6702);
	pv.v.bin.cb = 5;
	pv.v.bin.pb = NULL;
	assert_ec(store_folder_set_props(f->mb, a, &one, NULL), ecInvalidParam);

	/* Rename through PR_DISPLAY_NAME: unique among siblings. */
	struct mapi_propvals ren = {0};
	mapi_propvals_set_str(f->pool, &ren, PR_DISPLAY_NAME, "b");
	assert_ec(store_folder_set_props(f->mb, a, &ren, NULL), ecDuplicateName);
	mapi_propvals_set_str(f->pool, &ren, PR_DISPLAY_NAME, "Renamed");
	assert_ok(store_folder_set_props(f->mb, a, &ren, NULL));
	assert_string_equal(tfolder_prop(f->mb, a, PR_DISPLAY_NAME, f->pool)->v.str, "Renamed");
	mapi_id_t x;
	assert_ok(store_folder_find(f->mb, f->ipm, "renamed", &x));
	assert_int_equal(x, a);
	/* The root cannot be renamed. */
	assert_ec(store_folder_set_props(f->mb,
			  store_mailbox_special_fid(f->mb, STORE_SPECIAL_ROOT), &ren, NULL),
		ecAccessDenied);

	/* Delete properties. */
	uint32_t del[] = {PR_COMMENT, PROP_TAG(PT_LONG, 0x6700)};
	struct mapi_tags dt = {2, del};
	assert_ok(store_folder_delete_props(f->mb, a, &dt, NULL));
	assert_null(tfolder_prop(f->mb, a, PR_COMMENT, f->pool));
	assert_null(tfolder_prop(f->mb, a, PROP_TAG(PT_LONG, 0x6700), f->pool));
	uint32_t del2[] = {PR_CONTENT_COUNT};
	struct mapi_tags dt2 = {1, del2};
	assert_ec(store_folder_delete_props(f->mb, a, &dt2, NULL), ecComputed);
}

static void test_large_value_in_blob(void **state)
{
	struct fx *f = *state;
	mapi_id_t a;
	assert_ok(store_folder_create(f->mb, f->ipm, "Big", STORE_FOLDER_GENERIC, NULL, 0, &a));
	size_t n = f->t->set.blob_threshold + 10;
	uint8_t *data = malloc(n);
	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 7);
	struct mapi_propvals v = {0};
	mapi_propvals_set_bin(f->pool, &v, PROP_TAG(PT_BINARY, 0x6703), data, (uint32_t)n);
	assert_ok(store_folder_set_props(f->mb, a, &v, NULL));
	const struct mapi_propval *pv = tfolder_prop(f->mb, a, PROP_TAG(PT_BINARY, 0x6703), f->pool);
	assert_non_null(pv);
	assert_int_equal(pv->v.bin.cb, n);
	assert_memory_equal(pv->v.bin.pb, data, n);
	free(data);
}

static void test_move_copy(void **state)
{
	struct fx *f = *state;
	mapi_id_t a, a1, a11, b;
	assert_ok(store_folder_create(f->mb, f->ipm, "A", STORE_FOLDER_GENERIC, NULL, 0, &a));
	assert_ok(store_folder_create(f->mb, a, "A1", STORE_FOLDER_GENERIC, NULL, 0, &a1));
	assert_ok(store_folder_create(f->mb, a1, "A11", STORE_FOLDER_GENERIC, NULL, 0, &a11));
	assert_ok(store_folder_create(f->mb, f->ipm, "B", STORE_FOLDER_GENERIC, NULL, 0, &b));
	tstore_add_message(f->mb, a1, "m1", 1, false);
	tstore_add_message(f->mb, a11, "m2", 2, true);

	/* Cycles. */
	assert_ec(store_folder_move(f->mb, a, a11, NULL), ecFolderCycle);
	assert_ec(store_folder_move(f->mb, a, a, NULL), ecFolderCycle);
	/* Special folders stay put. */
	assert_ec(store_folder_move(f->mb, f->inbox, b, NULL), ecAccessDenied);
	/* Move keeps the FID. */
	assert_ok(store_folder_move(f->mb, a1, b, "Moved"));
	assert_int_equal((mapi_id_t)tfolder_prop(f->mb, a1, PR_PARENT_FOLDER_ID, f->pool)->v.li, b);
	assert_string_equal(tfolder_prop(f->mb, a1, PR_DISPLAY_NAME, f->pool)->v.str, "Moved");
	assert_false(tfolder_prop(f->mb, a, PR_SUBFOLDERS, f->pool)->v.b);
	/* Name clash at the destination. */
	mapi_id_t dup;
	assert_ok(store_folder_create(f->mb, a, "Moved", STORE_FOLDER_GENERIC, NULL, 0, &dup));
	assert_ec(store_folder_move(f->mb, a1, a, NULL), ecDuplicateName);

	/* Deep copy: new FIDs, same names, messages copied with new MIDs. */
	mapi_id_t cp;
	assert_ok(store_folder_copy(f->mb, a1, f->ipm, "Copy", true, &cp));
	assert_true(cp != a1);
	mapi_id_t cp11;
	assert_ok(store_folder_find(f->mb, cp, "A11", &cp11));
	assert_true(cp11 != a11);
	assert_int_equal(tfolder_prop(f->mb, cp, PR_CONTENT_COUNT, f->pool)->v.l, 1);
	assert_int_equal(tfolder_prop(f->mb, cp, PR_CONTENT_UNREAD, f->pool)->v.l, 1);
	assert_int_equal(tfolder_prop(f->mb, cp11, PR_CONTENT_COUNT, f->pool)->v.l, 1);
	assert_int_equal(tfolder_prop(f->mb, cp11, PR_CONTENT_UNREAD, f->pool)->v.l, 0);
	/* The originals are untouched. */
	assert_int_equal(tfolder_prop(f->mb, a1, PR_CONTENT_COUNT, f->pool)->v.l, 1);
	/* Shallow copy: no subfolders. */
	mapi_id_t sh;
	assert_ok(store_folder_copy(f->mb, a1, f->ipm, "Shallow", false, &sh));
	assert_false(tfolder_prop(f->mb, sh, PR_SUBFOLDERS, f->pool)->v.b);
	assert_int_equal(tfolder_prop(f->mb, sh, PR_CONTENT_COUNT, f->pool)->v.l, 1);
	/* Copy into itself (recursively) would never end. */
	assert_ec(store_folder_copy(f->mb, a1, a11, NULL, true, &sh), ecFolderCycle);
}

static void test_delete_empty(void **state)
{
	struct fx *f = *state;
	mapi_id_t a, a1;
	assert_ok(store_folder_create(f->mb, f->ipm, "A", STORE_FOLDER_GENERIC, NULL, 0, &a));
	assert_ok(store_folder_create(f->mb, a, "A1", STORE_FOLDER_GENERIC, NULL, 0, &a1));
	mapi_id_t m1 = tstore_add_message(f->mb, a, "m1", 1, false);
	tstore_add_message(f->mb, a1, "m2", 2, false);
	/* FAI message. */
	struct store_message *msg;
	assert_ok(store_message_create(f->mb, a, STORE_MSG_ASSOCIATED, &msg));
	assert_ok(store_message_save(msg, 0));
	store_message_close(&msg);
	assert_int_equal(tfolder_prop(f->mb, a, PR_ASSOC_CONTENT_COUNT, f->pool)->v.l, 1);
	assert_int_equal(tfolder_prop(f->mb, a, PR_FOLDER_CHILD_COUNT, f->pool)->v.l, 1);

	assert_ec(store_folder_delete(f->mb, a, 0), ecFolderHasContents);
	assert_ec(store_folder_delete(f->mb, a, STORE_DEL_MESSAGES), ecFolderHasChildren);
	assert_ec(store_folder_delete(f->mb, f->inbox, STORE_DEL_MESSAGES | STORE_DEL_FOLDERS),
		ecAccessDenied);
	assert_ec(store_folder_delete(f->mb, a, 0x100), ecUnknownFlags);

	/* Empty: normal messages and subfolders go, FAI stays unless asked. */
	assert_ok(store_folder_empty(f->mb, a, false));
	assert_int_equal(tfolder_prop(f->mb, a, PR_CONTENT_COUNT, f->pool)->v.l, 0);
	assert_int_equal(tfolder_prop(f->mb, a, PR_ASSOC_CONTENT_COUNT, f->pool)->v.l, 1);
	assert_int_equal(tfolder_prop(f->mb, a, PR_FOLDER_CHILD_COUNT, f->pool)->v.l, 0);
	assert_ec(store_folder_open(f->mb, a1), ecNotFound);
	assert_ec(store_message_open(f->mb, a, m1, 0, &msg), ecNotFound);
	assert_ok(store_folder_empty(f->mb, a, true));
	assert_int_equal(tfolder_prop(f->mb, a, PR_ASSOC_CONTENT_COUNT, f->pool)->v.l, 0);

	/* Hard delete with everything. */
	mapi_id_t b, b1;
	assert_ok(store_folder_create(f->mb, a, "B", STORE_FOLDER_GENERIC, NULL, 0, &b));
	assert_ok(store_folder_create(f->mb, b, "B1", STORE_FOLDER_GENERIC, NULL, 0, &b1));
	tstore_add_message(f->mb, b1, "deep", 3, false);
	assert_ec(store_folder_delete(f->mb, a, STORE_DEL_FOLDERS), ecFolderHasContents);
	assert_ok(store_folder_delete(f->mb, a, STORE_DEL_FOLDERS | STORE_DEL_MESSAGES));
	assert_ec(store_folder_open(f->mb, a), ecNotFound);
	assert_ec(store_folder_open(f->mb, b1), ecNotFound);
	assert_ec(store_folder_delete(f->mb, a, 0), ecNotFound);
	/* The mailbox size went back to nothing. */
	uint64_t size;
	assert_ok(store_mailbox_size(f->mb, &size, NULL, NULL));
	assert_int_equal(size, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_unique, setup, teardown),
		cmocka_unit_test_setup_teardown(test_props, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_value_in_blob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_empty, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
