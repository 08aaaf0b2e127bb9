/* Messages: properties, recipients, attachments (by value, embedded,
 * recursively), save and conflicts, streams and blobs, read flags, move,
 * copy, delete, FAI, quota, bad input. */
#include "store_test.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "mapi/propval.h"
#include "store/ptags.h"
#include "store/store_int.h"

struct fx {
	struct tstore *t;
	struct guid g;
	struct store_mailbox *mb;
	mapi_id_t inbox, drafts;
	pool_t *pool;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->t = tstore_new();
	f->mb = tstore_mailbox(f->t, &f->g, "alice@example.test");
	f->inbox = store_mailbox_special_fid(f->mb, STORE_SPECIAL_INBOX);
	f->drafts = store_mailbox_special_fid(f->mb, STORE_SPECIAL_DRAFTS);
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

/* Files below blobs/<sub> at depth mindepth or more. */
static int count_files(const char *dir, const char *sub, int mindepth)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "find '%s/blobs/%s' -mindepth %d -type f | wc -l", dir, sub,
		mindepth);
	FILE *p = popen(cmd, "r");
	int n = -1;
	if (fscanf(p, "%d", &n) != 1)
		n = -1;
	pclose(p);
	return n;
}

static int count_blobs(const char *dir)
{
	return count_files(dir, "", 3);
}

static void test_create_save_open(void **state)
{
	struct fx *f = *state;
	struct store_message *msg;
	assert_ok(store_message_create(f->mb, f->inbox, 0, &msg));
	assert_int_equal(store_message_mid(msg), 0);
	struct mapi_propvals v = {0};
	mapi_propvals_set_str(f->pool, &v, PR_SUBJECT, "RE: Hello world");
	mapi_propvals_set_str(f->pool, &v, PR_MESSAGE_CLASS_A, "IPM.Note");
	mapi_propvals_set_systime(f->pool, &v, PR_MESSAGE_DELIVERY_TIME, 133000000000000000ULL);
	mapi_propvals_set_long(f->pool, &v, PR_IMPORTANCE, 2);
	mapi_propvals_set_str(f->pool, &v, PR_BODY, "body text");
	mapi_propvals_set_long(f->pool, &v, PR_MESSAGE_FLAGS, 0);
	mapi_propvals_set_long(f->pool, &v, PROP_TAG(PT_LONG, 0x6601), -5);
	mapi_propvals_set_i8(f->pool, &v, PROP_TAG(PT_I8, 0x6602), 1LL << 40);
	mapi_propvals_set_bool(f->pool, &v, PROP_TAG(PT_BOOLEAN, 0x6603), true);
	union mapi_pvalue d = {.dbl = 2.5};
	mapi_propvals_set(f->pool, &v, PROP_TAG(PT_DOUBLE, 0x6604), &d);
	struct guid gg;
	guid_generate(&gg);
	union mapi_pvalue gv = {.guid = &gg};
	mapi_propvals_set(f->pool, &v, PROP_TAG(PT_CLSID, 0x6605), &gv);
	char s1[] = "one", s2[] = "zwei", s3[] = "trois";
	char *strs[] = {s1, s2, s3};
	union mapi_pvalue mv = {.mv = {.count = 3, .str = strs}};
	mapi_propvals_set(f->pool, &v, PROP_TAG(PT_MV_UNICODE, 0x6606), &mv);
	struct mapi_binary bins[] = {{3, (uint8_t *)"abc"}, {0, NULL}};
	union mapi_pvalue mb2 = {.mv = {.count = 2, .bin = bins}};
	mapi_propvals_set(f->pool, &v, PROP_TAG(PT_MV_BINARY, 0x6607), &mb2);
	assert_ok(store_message_set_props(msg, &v, NULL));
	/* Before the first save: unsent-and-read cleared by the client, and
	 * unmodified reported. */
	assert_int_equal(tmsg_prop(msg, PR_MESSAGE_FLAGS, f->pool)->v.l, MSGFLAG_UNMODIFIED);
	assert_ok(store_message_save(msg, 0));
	mapi_id_t mid = store_message_mid(msg);
	assert_true(mid != 0);
	assert_int_equal(store_message_fid(msg), f->inbox);
	assert_int_equal(tmsg_prop(msg, PR_INTERNET_ARTICLE_NUMBER, f->pool)->v.l, 1);
	store_message_close(&msg);

	assert_ok(store_message_open(f->mb, f->inbox, mid, 0, &msg));
	assert_string_equal(tmsg_prop(msg, PR_SUBJECT, f->pool)->v.str, "RE: Hello world");
	/* MS-OXCMSG: the normalized subject drops the prefix. */
	assert_string_equal(tmsg_prop(msg, PR_NORMALIZED_SUBJECT, f->pool)->v.str, "Hello world");
	assert_string_equal(tmsg_prop(msg, PR_MESSAGE_CLASS, f->pool)->v.str, "IPM.Note");
	assert_int_equal(tmsg_prop(msg, PR_MESSAGE_DELIVERY_TIME, f->pool)->v.ft,
		133000000000000000ULL);
	assert_int_equal(tmsg_prop(msg, PR_IMPORTANCE, f->pool)->v.l, 2);
	assert_string_equal(tmsg_prop(msg, PR_BODY, f->pool)->v.str, "body text");
	assert_int_equal(tmsg_prop(msg, PROP_TAG(PT_LONG, 0x6601), f->pool)->v.l, -5);
	assert_int_equal(tmsg_prop(msg, PROP_TAG(PT_I8, 0x6602), f->pool)->v.li, 1LL << 40);
	assert_true(tmsg_prop(msg, PROP_TAG(PT_BOOLEAN, 0x6603), f->pool)->v.b);
	assert_true(tmsg_prop(msg, PROP_TAG(PT_DOUBLE, 0x6604), f->pool)->v.dbl == 2.5);
	assert_true(guid_eq(tmsg_prop(msg, PROP_TAG(PT_CLSID, 0x6605), f->pool)->v.guid, &gg));
	const struct mapi_propval *m = tmsg_prop(msg, PROP_TAG(PT_MV_UNICODE, 0x6606), f->pool);
	assert_int_equal(m->v.mv.count, 3);
	assert_string_equal(m->v.mv.str[1], "zwei");
	m = tmsg_prop(msg, PROP_TAG(PT_MV_STRING8, 0x6606), f->pool);
	assert_string_equal(m->v.mv.str[2], "trois");
	m = tmsg_prop(msg, PROP_TAG(PT_MV_BINARY, 0x6607), f->pool);
	assert_int_equal(m->v.mv.count, 2);
	assert_memory_equal(m->v.mv.bin[0].pb, "abc", 3);
	assert_int_equal(m->v.mv.bin[1].cb, 0);
	assert_int_equal(tmsg_prop(msg, PR_MESSAGE_FLAGS, f->pool)->v.l, 0);
	assert_false(tmsg_prop(msg, PR_HASATTACH, f->pool)->v.b);
	assert_false(tmsg_prop(msg, PR_ASSOCIATED, f->pool)->v.b);
	assert_int_equal(tmsg_prop(msg, PR_MID, f->pool)->v.li, (int64_t)mid);
	assert_true(tmsg_prop(msg, PR_MESSAGE_SIZE, f->pool)->v.l > 0);
	assert_non_null(tmsg_prop(msg, PR_CREATION_TIME, f->pool));
	assert_non_null(tmsg_prop(msg, PR_LAST_MODIFICATION_TIME, f->pool));
	/* The EntryID resolves to this message in this folder. */
	const struct mapi_propval *eid = tmsg_prop(msg, PR_ENTRYID, f->pool);
	assert_int_equal(eid->v.bin.cb, 70);
	mapi_id_t rf, rm;
	assert_ok(store_entryid_resolve(f->mb, eid->v.bin.pb, eid->v.bin.cb, &rf, &rm));
	assert_int_equal(rf, f->inbox);
	assert_int_equal(rm, mid);
	/* Change key = XID of the change number; PCL holds it. */
	const struct mapi_propval *ck = tmsg_prop(msg, PR_CHANGE_KEY, f->pool);
	const struct mapi_propval *pcl = tmsg_prop(msg, PR_PREDECESSOR_CHANGE_LIST, f->pool);
	assert_int_equal(ck->v.bin.cb, 22);
	assert_int_equal(pcl->v.bin.cb, 23);
	assert_memory_equal(pcl->v.bin.pb + 1, ck->v.bin.pb, 22);
	/* Read-only handle. */
	assert_ec(store_message_set_props(msg, &v, NULL), ecAccessDenied);
	assert_ec(store_message_save(msg, 0), ecAccessDenied);
	store_message_close(&msg);

	/* Modify: new change number and change key, same MID, PCL keeps one
	 * entry for our namespace. */
	assert_ok(store_message_open(f->mb, f->inbox, mid, STORE_OPEN_READ_WRITE, &msg));
	struct mapi_propvals v2 = {0};
	mapi_propvals_set_str(f->pool, &v2, PR_SUBJECT, "Changed");
	assert_ok(store_message_set_props(msg, &v2, NULL));
	uint32_t del[] = {PROP_TAG(PT_LONG, 0x6601), PR_BODY};
	struct mapi_tags dt = {2, del};
	assert_ok(store_message_delete_props(msg, &dt, NULL));
	assert_ok(store_message_save(msg, 0));
	const struct mapi_propval *ck2 = tmsg_prop(msg, PR_CHANGE_KEY, f->pool);
	assert_memory_not_equal(ck2->v.bin.pb, ck->v.bin.pb, 22);
	assert_int_equal(store_message_mid(msg), mid);
	assert_int_equal(tmsg_prop(msg, PR_PREDECESSOR_CHANGE_LIST, f->pool)->v.bin.cb, 23);
	store_message_close(&msg);
	assert_ok(store_message_open(f->mb, f->inbox, mid, 0, &msg));
	assert_string_equal(tmsg_prop(msg, PR_SUBJECT, f->pool)->v.str, "Changed");
	assert_string_equal(tmsg_prop(msg, PR_NORMALIZED_SUBJECT, f->pool)->v.str, "Changed");
	assert_null(tmsg_prop(msg, PR_BODY, f->pool));
	assert_null(tmsg_prop(msg, PROP_TAG(PT_LONG, 0x6601), f->pool));
	assert_non_null(tmsg_prop(msg, PROP_TAG(PT_I8, 0x6602), f->pool));
	store_message_close(&msg);
	assert_int_equal(tfolder_prop(f->mb, f->inbox, PR_CONTENT_COUNT, f->pool)->v.l, 1);
	assert_int_equal(tfolder_prop(f->mb, f->inbox, PR_CONTENT_UNREAD, f->pool)->v.l, 1);
}

static void test_bad_input(void **state)
{
	struct fx *f = *state;
	struct store_message *msg;
	assert_ok(store_message_create(f->mb, f->inbox, 0, &msg));
	struct store_problems probs = {.pool = f->pool};
	/* Wrong type for an indexed property. */
	struct mapi_propval pv = {.tag = PROP_TAG(PT_LONG, 0x0037), .v.l = 5};
	struct mapi_propvals one = {1, &pv, 1};
	assert_ec(store_message_set_props(msg, &one, NULL), ecInvalidParam);
	assert_ok(store_message_set_props(msg, &one, &probs));
	assert_int_equal(probs.count, 1);
	assert_int_equal(probs.v[0].err, ecInvalidParam);
	/* Not UTF-8. */
	char bad[] = "\xed\xa0\x80 surrogate";
	pv.tag = PR_SUBJECT;
	pv.v.str = bad;
	assert_ec(store_message_set_props(msg, &one, NULL), ecInvalidParam);
	char okstr[] = "ok";
	char *mvbad[] = {okstr, bad};
	pv.tag = PROP_TAG(PT_MV_UNICODE, 0x6610);
	pv.v.mv.count = 2;
	pv.v.mv.str = mvbad;
	assert_ec(store_message_set_props(msg, &one, NULL), ecInvalidParam);
	/* Computed ones. */
	pv.tag = PR_MID;
	pv.v.li = 1;
	assert_ec(store_message_set_props(msg, &one, NULL), ecComputed);
	pv.tag = PR_HASATTACH;
	pv.v.b = true;
	assert_ec(store_message_set_props(msg, &one, NULL), ecComputed);
	/* Nothing got through. */
	assert_null(tmsg_prop(msg, PR_SUBJECT, f->pool));
	assert_ok(store_message_save(msg, 0));
	store_message_close(&msg);

	/* Limits. */
	f->t->set.max_value_size = 100;
	f->t->set.max_props_per_object = 5;
	f->t->set.max_mv_count = 3;
	store_mailbox_close(&f->mb);
	tstore_reopen(f->t);
	f->mb = tstore_open_as(f->t, &f->g, "alice@example.test");
	assert_ok(store_message_create(f->mb, f->inbox, 0, &msg));
	char big[200];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pv.tag = PR_SUBJECT;
	pv.v.str = big;
	assert_ec(store_message_set_props(msg, &one, NULL), ecTooBig);
	int32_t longs[4] = {1, 2, 3, 4};
	pv.tag = PROP_TAG(PT_MV_LONG, 0x6611);
	pv.v.mv.count = 4;
	pv.v.mv.l = longs;
	assert_ec(store_message_set_props(msg, &one, NULL), ecTooBig);
	struct mapi_propvals many = {0};
	for (int i = 0; i < 6; i++)
		mapi_propvals_set_long(f->pool, &many, PROP_TAG(PT_LONG, 0x6620 + i), i);
	assert_ec(store_message_set_props(msg, &many, NULL), ecTooBig);
	store_message_close(&msg);
}

static void test_recipients(void **state)
{
	struct fx *f = *state;
	struct store_message *msg;
	assert_ok(store_message_create(f->mb, f->drafts, 0, &msg));
	struct mapi_propvals rows[3] = {{0}};
	const char *names[] = {"Ann", "Bob", "Cid"};
	for (int i = 0; i < 3; i++) {
		mapi_propvals_set_long(f->pool, &rows[i], PR_ROWID, i);
		mapi_propvals_set_str(f->pool, &rows[i], PR_DISPLAY_NAME, names[i]);
		mapi_propvals_set_long(f->pool, &rows[i], PR_RECIPIENT_TYPE, i == 2 ? 2 : 1);
	}
	assert_ok(store_message_modify_recipients(msg, rows, 3));
	assert_ok(store_message_save(msg, 0));
	mapi_id_t mid = store_message_mid(msg);
	store_message_close(&msg);

	assert_ok(store_message_open(f->mb, f->drafts, mid, STORE_OPEN_READ_WRITE, &msg));
	struct mapi_propvals *got;
	uint32_t n;
	assert_ok(store_message_get_recipients(msg, f->pool, &got, &n));
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(tprop(&got[i], PR_DISPLAY_NAME)->v.str, names[i]);
		assert_int_equal(tprop(&got[i], PR_ROWID)->v.l, i);
	}
	/* Replace row 1, remove row 0 (RowId alone), add row 7. */
	struct mapi_propvals mod[3] = {{0}};
	mapi_propvals_set_long(f->pool, &mod[0], PR_ROWID, 1);
	mapi_propvals_set_str(f->pool, &mod[0], PR_DISPLAY_NAME, "Bobby");
	mapi_propvals_set_long(f->pool, &mod[1], PR_ROWID, 0);
	mapi_propvals_set_long(f->pool, &mod[2], PR_ROWID, 7);
	mapi_propvals_set_str(f->pool, &mod[2], PR_DISPLAY_NAME, "Dee");
	assert_ok(store_message_modify_recipients(msg, mod, 3));
	assert_ok(store_message_save(msg, 0));
	store_message_close(&msg);
	assert_ok(store_message_open(f->mb, f->drafts, mid, STORE_OPEN_READ_WRITE, &msg));
	assert_ok(store_message_get_recipients(msg, f->pool, &got, &n));
	assert_int_equal(n, 3);
	assert_string_equal(tprop(&got[0], PR_DISPLAY_NAME)->v.str, "Bobby");
	assert_null(tprop(&got[0], PR_RECIPIENT_TYPE)); /* replaced whole */
	assert_string_equal(tprop(&got[1], PR_DISPLAY_NAME)->v.str, "Cid");
	assert_int_equal(tprop(&got[2], PR_ROWID)->v.l, 7);
	/* Bad rows: no RowId, bad string. */
	struct mapi_propvals badrow = {0};
	mapi_propvals_set_str(f->pool, &badrow, PR_DISPLAY_NAME, "x");
	assert_ec(store_message_modify_recipients(msg, &badrow, 1), ecInvalidParam);
	mapi_propvals_set_long(f->pool, &badrow, PR_ROWID, 9);
	char bad[] = "\xff";
	mapi_propvals_set_str(f->pool, &badrow, PR_DISPLAY_NAME, bad);
	assert_ec(store_message_modify_recipients(msg, &badrow, 1), ecInvalidParam);
	assert_ok(store_message_remove_all_recipients(msg));
	assert_ok(store_message_save(msg, 0));
	assert_ok(store_message_get_recipients(msg, f->pool, &got, &n));
	assert_int_equal(n, 0);
	store_message_close(&msg);
}

static void test_attachments_embedded(void **state)
{
	struct fx *f = *state;
	struct store_message *msg;
	assert_ok(store_message_create(f->mb, f->drafts, 0, &msg));
	/* By value. */
	struct store_attach *att;
	assert_ok(store_message_create_attach(msg, &att));
	assert_int_equal(store_attach_num(att), 0);
	struct mapi_propvals av = {0};
	mapi_propvals_set_long(f->pool, &av, PR_ATTACH_METHOD, ATTACH_BY_VALUE);
	mapi_propvals_set_str(f->pool, &av, PR_ATTACH_LONG_FILENAME, "a.txt");
	mapi_propvals_set_bin(f->pool, &av, PR_ATTACH_DATA_BIN, "hello", 5);
	assert_ok(store_attach_set_props(att, &av, NULL));
	assert_ok(store_attach_save(att));
	store_attach_close(&att);
	/* Embedded, with an attachment holding another embedded message. */
	assert_ok(store_message_create_attach(msg, &att));
	assert_int_equal(store_attach_num(att), 1);
	struct store_message *emb;
	assert_ok(store_attach_open_embedded(att, true, &emb));
	struct mapi_propvals ev = {0};
	mapi_propvals_set_str(f->pool, &ev, PR_SUBJECT, "level 1");
	assert_ok(store_message_set_props(emb, &ev, NULL));
	struct store_attach *att2;
	assert_ok(store_message_create_attach(emb, &att2));
	struct store_message *emb2;
	assert_ok(store_attach_open_embedded(att2, true, &emb2));
	mapi_propvals_set_str(f->pool, &ev, PR_SUBJECT, "level 2");
	assert_ok(store_message_set_props(emb2, &ev, NULL));
	struct mapi_propvals r = {0};
	mapi_propvals_set_long(f->pool, &r, PR_ROWID, 0);
	mapi_propvals_set_str(f->pool, &r, PR_DISPLAY_NAME, "inner rcpt");
	assert_ok(store_message_modify_recipients(emb2, &r, 1));
	assert_ok(store_message_save(emb2, 0));
	store_message_close(&emb2);
	assert_ok(store_attach_save(att2));
	store_attach_close(&att2);
	assert_ok(store_message_save(emb, 0));
	store_message_close(&emb);
	assert_ok(store_attach_save(att));
	store_attach_close(&att);
	/* Unsaved attachment: lost on close. */
	assert_ok(store_message_create_attach(msg, &att));
	store_attach_close(&att);
	assert_true(tmsg_prop(msg, PR_HASATTACH, f->pool)->v.b);
	assert_ok(store_message_save(msg, 0));
	mapi_id_t mid = store_message_mid(msg);
	store_message_close(&msg);

	assert_ok(store_message_open(f->mb, f->drafts, mid, STORE_OPEN_READ_WRITE, &msg));
	assert_true(tmsg_prop(msg, PR_HASATTACH, f->pool)->v.b);
	assert_true(tmsg_prop(msg, PR_MESSAGE_FLAGS, f->pool)->v.l & MSGFLAG_HASATTACH);
	uint32_t *nums, n;
	assert_ok(store_message_attach_nums(msg, f->pool, &nums, &n));
	assert_int_equal(n, 2);
	assert_ok(store_message_open_attach(msg, 0, 0, &att));
	struct mapi_tags all = {0};
	(void)all;
	const struct mapi_propval *data = NULL;
	struct mapi_propvals got;
	uint32_t want[] = {PR_ATTACH_DATA_BIN, PR_ATTACH_LONG_FILENAME, PR_ATTACH_NUM,
		PR_ATTACH_SIZE};
	struct mapi_tags wt = {4, want};
	assert_ok(store_attach_get_props(att, &wt, f->pool, &got));
	data = tprop(&got, PR_ATTACH_DATA_BIN);
	assert_int_equal(data->v.bin.cb, 5);
	assert_memory_equal(data->v.bin.pb, "hello", 5);
	assert_string_equal(tprop(&got, PR_ATTACH_LONG_FILENAME)->v.str, "a.txt");
	assert_int_equal(tprop(&got, PR_ATTACH_NUM)->v.l, 0);
	assert_true(tprop(&got, PR_ATTACH_SIZE)->v.l >= 5);
	assert_ec(store_attach_open_embedded(att, false, &emb), ecNotFound);
	store_attach_close(&att);
	assert_ok(store_message_open_attach(msg, 1, 0, &att));
	assert_ok(store_attach_get_props(att, &wt, f->pool, &got));
	assert_true(tprop(&got, PR_ATTACH_SIZE)->v.l > 10);
	uint32_t mt = PR_ATTACH_METHOD;
	struct mapi_tags mtt = {1, &mt};
	assert_ok(store_attach_get_props(att, &mtt, f->pool, &got));
	assert_int_equal(got.vals[0].v.l, ATTACH_EMBEDDED_MSG);
	assert_ok(store_attach_open_embedded(att, false, &emb));
	assert_string_equal(tmsg_prop(emb, PR_SUBJECT, f->pool)->v.str, "level 1");
	assert_ok(store_message_open_attach(emb, 0, 0, &att2));
	assert_ok(store_attach_open_embedded(att2, false, &emb2));
	assert_string_equal(tmsg_prop(emb2, PR_SUBJECT, f->pool)->v.str, "level 2");
	struct mapi_propvals *rows;
	uint32_t nr;
	assert_ok(store_message_get_recipients(emb2, f->pool, &rows, &nr));
	assert_int_equal(nr, 1);
	assert_string_equal(tprop(&rows[0], PR_DISPLAY_NAME)->v.str, "inner rcpt");
	store_message_close(&emb2);
	store_attach_close(&att2);
	store_message_close(&emb);
	store_attach_close(&att);
	assert_ec(store_message_open_attach(msg, 5, 0, &att), ecNotFound);

	/* Delete the embedded one; the rows below it go too. */
	assert_ok(store_message_delete_attach(msg, 1));
	assert_ec(store_message_delete_attach(msg, 1), ecNotFound);
	assert_ok(store_message_save(msg, 0));
	store_message_close(&msg);
	assert_ok(store_message_open(f->mb, f->drafts, mid, 0, &msg));
	assert_ok(store_message_attach_nums(msg, f->pool, &nums, &n));
	assert_int_equal(n, 1);
	store_message_close(&msg);

	/* Depth limit. */
	f->t->set.max_embed_depth = 2;
	store_mailbox_close(&f->mb);
	tstore_reopen(f->t);
	f->mb = tstore_open_as(f->t, &f->g, "alice@example.test");
	assert_ok(store_message_create(f->mb, f->drafts, 0, &msg));
	struct store_message *cur = msg;
	struct store_message *chain[4] = {0};
	struct store_attach *achain[4] = {0};
	int depth = 0;
	for (;;) {
		assert_ok(store_message_create_attach(cur, &achain[depth]));
		uint32_t ec = store_attach_open_embedded(achain[depth], true, &chain[depth]);
		if (ec != ecSuccess) {
			assert_ec(ec, ecTooComplex);
			break;
		}
		cur = chain[depth++];
	}
	assert_int_equal(depth, 2);
	store_message_close(&msg); /* closes everything opened below it */
	/* The attachment limit. */
	f->t->set.max_attachments = 2;
	store_mailbox_close(&f->mb);
	tstore_reopen(f->t);
	f->mb = tstore_open_as(f->t, &f->g, "alice@example.test");
	assert_ok(store_message_create(f->mb, f->drafts, 0, &msg));
	for (int i = 0; i < 2; i++) {
		assert_ok(store_message_create_attach(msg, &att));
		assert_ok(store_attach_save(att));
		store_attach_close(&att);
	}
	assert_ec(store_message_create_attach(msg, &att), ecMaxAttachmentExceeded);
	store_message_close(&msg);
}

static void test_conflicts(void **state)
{
	struct fx *f = *state;
	mapi_id_t mid = tstore_add_message(f->mb, f->inbox, "x", 1, false);
	struct store_message *a, *b;
	assert_ok(store_message_open(f->mb, f->inbox, mid, STORE_OPEN_READ_WRITE, &a));
	assert_ok(store_message_open(f->mb, f->inbox, mid, STORE_OPEN_READ_WRITE, &b));
	struct mapi_propvals v = {0};
	mapi_propvals_set_str(f->pool, &v, PR_SUBJECT, "from a");
	assert_ok(store_message_set_props(a, &v, NULL));
	assert_ok(store_message_save(a, 0));
	mapi_propvals_set_str(f->pool, &v, PR_SUBJECT, "from b");
	assert_ok(store_message_set_props(b, &v, NULL));
	assert_ec(store_message_save(b, 0), ecObjectModified);
	assert_ok(store_message_save(b, STORE_SAVE_FORCE));
	/* a is now stale too. */
	assert_ec(store_message_save(a, 0), ecObjectModified);
	uint32_t partial = 0;
	assert_ok(store_messages_delete(f->mb, f->inbox, &mid, 1, &partial));
	assert_int_equal(partial, 0);
	assert_ec(store_message_save(a, STORE_SAVE_FORCE), ecObjectDeleted);
	assert_ec(store_message_save(b, 0), ecObjectDeleted);
	store_message_close(&a);
	store_message_close(&b);
	assert_ok(store_messages_delete(f->mb, f->inbox, &mid, 1, &partial));
	assert_int_equal(partial, 1);
}

static void test_streams_and_blobs(void **state)
{
	struct fx *f = *state;
	int before = count_blobs(f->t->dir);
	struct store_message *msg;
	assert_ok(store_message_create(f->mb, f->drafts, 0, &msg));
	/* A big body set as a property goes to the blob store. */
	size_t n = f->t->set.blob_threshold * 2;
	char *body = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		body[i] = (char)('a' + i % 26);
	body[n] = '\0';
	struct mapi_propvals v = {0};
	mapi_propvals_set_str(f->pool, &v, PR_BODY, body);
	assert_ok(store_message_set_props(msg, &v, NULL));
	assert_int_equal(count_blobs(f->t->dir), before + 1);
	/* Streamed HTML, written in pieces. */
	struct store_stream *st;
	assert_ok(store_message_open_stream(msg, PR_HTML, STORE_STREAM_WRITE, &st));
	for (int i = 0; i < 1000; i++)
		assert_ok(store_stream_write(st, "<p>0123456789</p>", 17));
	assert_int_equal(store_stream_size(st), 17000);
	assert_ok(store_stream_commit(st));
	store_stream_close(&st);
	/* A string stream must be UTF-8 when committed. */
	assert_ok(store_message_open_stream(msg, PR_BODY_HTML, STORE_STREAM_WRITE, &st));
	assert_ok(store_stream_write(st, "ok \xc3", 4));
	assert_ec(store_stream_commit(st), ecInvalidParam);
	store_stream_close(&st);
	assert_ok(store_message_save(msg, 0));
	mapi_id_t mid = store_message_mid(msg);
	store_message_close(&msg);

	assert_ok(store_message_open(f->mb, f->drafts, mid, 0, &msg));
	const struct mapi_propval *pv = tmsg_prop(msg, PR_BODY, f->pool);
	assert_non_null(pv);
	assert_int_equal(strlen(pv->v.str), n);
	assert_memory_equal(pv->v.str, body, n);
	pv = tmsg_prop(msg, PR_HTML, f->pool);
	assert_int_equal(pv->v.bin.cb, 17000);
	assert_memory_equal(pv->v.bin.pb + 16983, "<p>0123456789</p>", 17);
	assert_null(tmsg_prop(msg, PR_BODY_HTML, f->pool));
	/* Read stream in pieces with seek. */
	assert_ok(store_message_open_stream(msg, PR_BODY, STORE_STREAM_READ, &st));
	assert_int_equal(store_stream_size(st), n);
	assert_ok(store_stream_seek(st, n - 3));
	struct buf b;
	buf_init(&b, NULL);
	size_t got;
	assert_ok(store_stream_read(st, 100, &b, &got));
	assert_int_equal(got, 3);
	assert_memory_equal(b.data, body + n - 3, 3);
	assert_ok(store_stream_read(st, 100, &b, &got));
	assert_int_equal(got, 0);
	assert_ec(store_stream_write(st, "x", 1), ecAccessDenied);
	store_stream_close(&st);
	assert_ec(store_message_open_stream(msg, PR_BODY_HTML, STORE_STREAM_READ, &st), ecNotFound);
	assert_ec(store_message_open_stream(msg, PR_MESSAGE_SIZE, STORE_STREAM_READ, &st),
		ecNotSupported);
	buf_deinit(&b);
	store_message_close(&msg);

	/* Oversize stream. */
	f->t->set.max_value_size = 1000;
	store_mailbox_close(&f->mb);
	tstore_reopen(f->t);
	f->mb = tstore_open_as(f->t, &f->g, "alice@example.test");
	assert_ok(store_message_create(f->mb, f->drafts, 0, &msg));
	assert_ok(store_message_open_stream(msg, PR_HTML, STORE_STREAM_WRITE, &st));
	assert_ok(store_stream_write(st, body, 1000));
	assert_ec(store_stream_write(st, body, 1), ecTooBig);
	store_stream_close(&st);
	store_message_close(&msg);
	free(body);
}

static void test_mime_dedup(void **state)
{
	struct fx *f = *state;
	const char *mime = "From: a@b\r\nSubject: hi\r\n\r\nbody\r\n";
	int before = count_blobs(f->t->dir);
	struct store_blob_ref ref, ref2;
	assert_ok(store_blob_put(f->t->store, mime, strlen(mime), &ref));
	assert_ok(store_blob_put(f->t->store, mime, strlen(mime), &ref2));
	assert_memory_equal(ref.sha256, ref2.sha256, 32);
	assert_int_equal(count_blobs(f->t->dir), before + 1);
	/* Two recipients' messages share the one blob. */
	struct guid g2;
	struct store_mailbox *bob = tstore_mailbox(f->t, &g2, "bob@example.test");
	struct store_mailbox *boxes[2] = {f->mb, bob};
	mapi_id_t mids[2];
	for (int i = 0; i < 2; i++) {
		struct store_message *msg;
		assert_ok(store_message_create(boxes[i],
			store_mailbox_special_fid(boxes[i], STORE_SPECIAL_INBOX), 0, &msg));
		assert_ok(store_message_set_mime(msg, &ref));
		assert_ok(store_message_save(msg, STORE_SAVE_DELIVERY));
		mids[i] = store_message_mid(msg);
		store_message_close(&msg);
	}
	assert_int_equal(count_blobs(f->t->dir), before + 1);
	struct store_message *msg;
	assert_ok(store_message_open(bob, store_mailbox_special_fid(bob, STORE_SPECIAL_INBOX), mids[1],
		0, &msg));
	struct store_blob_ref got;
	assert_ok(store_message_get_mime(msg, &got));
	assert_int_equal(got.size, strlen(mime));
	struct buf b;
	buf_init(&b, NULL);
	assert_ok(store_blob_read(f->t->store, &got, 0, (size_t)got.size, &b));
	assert_memory_equal(b.data, mime, strlen(mime));
	buf_deinit(&b);
	store_message_close(&msg);
	/* A reference to a blob that does not exist is refused. */
	struct store_blob_ref nope = {.size = 3};
	memset(nope.sha256, 0x42, 32);
	assert_ok(store_message_create(f->mb, f->inbox, 0, &msg));
	assert_ec(store_message_set_mime(msg, &nope), ecInvalidParam);
	store_message_close(&msg);

	/* GC: referenced blobs stay, unreferenced old ones go. */
	const char *error;
	assert_int_equal(store_blob_gc(f->t->store, -10, &error), 0);
	assert_int_equal(count_blobs(f->t->dir), before + 1);
	assert_ok(store_messages_delete(f->mb, f->inbox, &mids[0], 1, NULL));
	assert_int_equal(store_blob_gc(f->t->store, -10, &error), 0);
	assert_ok(store_messages_delete(bob, store_mailbox_special_fid(bob, STORE_SPECIAL_INBOX),
		&mids[1], 1, NULL));
	/* Within the grace period nothing goes. */
	assert_int_equal(store_blob_gc(f->t->store, 3600, &error), 0);
	assert_int_equal(count_blobs(f->t->dir), before + 1);
	assert_int_equal(store_blob_gc(f->t->store, -10, &error), 1);
	assert_int_equal(count_blobs(f->t->dir), before);
	store_mailbox_close(&bob);
}

static int count_tmp(const char *dir)
{
	return count_files(dir, "tmp", 1);
}

struct putter {
	struct store *store;
	int id;
	uint32_t failures;
};

/* Puts 40 blobs: even ones the same for every thread, odd ones its own. */
static void *putter_main(void *arg)
{
	struct putter *p = arg;
	char data[64];
	for (int i = 0; i < 40; i++) {
		int n = snprintf(data, sizeof(data), "blob %d of %d", i, i % 2 ? p->id : -1);
		struct store_blob_ref ref;
		struct buf b;
		buf_init(&b, NULL);
		if (store_blob_put(p->store, data, (size_t)n, &ref) != ecSuccess ||
			store_blob_read(p->store, &ref, 0, (size_t)n, &b) != ecSuccess ||
			b.len != (size_t)n || memcmp(b.data, data, (size_t)n) != 0)
			p->failures++;
		buf_deinit(&b);
	}
	return NULL;
}

static void test_blob_writers_race(void **state)
{
	struct fx *f = *state;
	int before = count_blobs(f->t->dir);
	/* Two writers of the same content, the second finishing after the
	 * first renamed its file into place: one blob, both references. */
	const char *data = "same content from two writers";
	struct store_blob_writer *a = store_blob_writer_new(f->t->store, NULL);
	struct store_blob_writer *b = store_blob_writer_new(f->t->store, NULL);
	assert_non_null(a);
	assert_non_null(b);
	assert_ok(store_blob_writer_write(a, data, strlen(data)));
	assert_ok(store_blob_writer_write(b, data, strlen(data)));
	struct store_blob_ref ra, rb;
	assert_ok(store_blob_writer_finish(&a, &ra));
	assert_ok(store_blob_writer_finish(&b, &rb));
	assert_memory_equal(ra.sha256, rb.sha256, 32);
	assert_int_equal(count_blobs(f->t->dir), before + 1);
	assert_int_equal(count_tmp(f->t->dir), 0);
	/* Eight threads racing on shared and private contents. */
	pthread_t th[8];
	struct putter p[8];
	for (int i = 0; i < 8; i++) {
		p[i] = (struct putter){f->t->store, i, 0};
		assert_int_equal(pthread_create(&th[i], NULL, putter_main, &p[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(p[i].failures, 0);
	}
	assert_int_equal(count_blobs(f->t->dir), before + 1 + 20 + 8 * 20);
	assert_int_equal(count_tmp(f->t->dir), 0);
}

static void test_read_move_copy_delete(void **state)
{
	struct fx *f = *state;
	mapi_id_t m[4];
	for (int i = 0; i < 4; i++)
		m[i] = tstore_add_message(f->mb, f->inbox, "m", (uint64_t)i, false);
	assert_int_equal(tfolder_prop(f->mb, f->inbox, PR_CONTENT_UNREAD, f->pool)->v.l, 4);
	uint32_t partial;
	mapi_id_t two[] = {m[0], m[1], mapi_id_make(1, 0xfffff)};
	assert_ok(store_messages_set_read(f->mb, f->inbox, two, 3, true, &partial));
	assert_int_equal(partial, 1);
	assert_int_equal(tfolder_prop(f->mb, f->inbox, PR_CONTENT_UNREAD, f->pool)->v.l, 2);
	/* Setting it again changes nothing. */
	assert_ok(store_messages_set_read(f->mb, f->inbox, two, 2, true, &partial));
	assert_int_equal(tfolder_prop(f->mb, f->inbox, PR_CONTENT_UNREAD, f->pool)->v.l, 2);
	struct store_message *msg;
	assert_ok(store_message_open(f->mb, f->inbox, m[2], 0, &msg));
	assert_ok(store_message_set_read(msg, true));
	assert_true(tmsg_prop(msg, PR_READ, f->pool)->v.b);
	assert_ok(store_message_set_read(msg, false));
	assert_false(tmsg_prop(msg, PR_READ, f->pool)->v.b);
	store_message_close(&msg);
	assert_int_equal(tfolder_prop(f->mb, f->inbox, PR_CONTENT_UNREAD, f->pool)->v.l, 2);

	/* Move two (one read, one unread) to a new folder. */
	mapi_id_t dst;
	assert_ok(store_folder_create(f->mb, store_mailbox_special_fid(f->mb,
					       STORE_SPECIAL_IPM_SUBTREE),
		"Dst", STORE_FOLDER_GENERIC, NULL, 0, &dst));
	mapi_id_t mv[] = {m[0], m[2]}, nm[2];
	assert_ok(store_messages_move(f->mb, f->inbox, dst, mv, 2, false, nm, &partial));
	assert_int_equal(partial, 0);
	assert_true(nm[0] != m[0] && nm[0] != 0);
	assert_ec(store_message_open(f->mb, f->inbox, m[0], 0, &msg), ecNotFound);
	assert_ok(store_message_open(f->mb, dst, nm[0], 0, &msg));
	assert_int_equal(tmsg_prop(msg, PR_INTERNET_ARTICLE_NUMBER, f->pool)->v.l, 1);
	store_message_close(&msg);
	assert_ok(store_message_open(f->mb, dst, nm[1], 0, &msg));
	assert_int_equal(tmsg_prop(msg, PR_INTERNET_ARTICLE_NUMBER, f->pool)->v.l, 2);
	store_message_close(&msg);
	assert_int_equal(tfolder_prop(f->mb, f->inbox, PR_CONTENT_COUNT, f->pool)->v.l, 2);
	assert_int_equal(tfolder_prop(f->mb, f->inbox, PR_CONTENT_UNREAD, f->pool)->v.l, 1);
	assert_int_equal(tfolder_prop(f->mb, dst, PR_CONTENT_COUNT, f->pool)->v.l, 2);
	assert_int_equal(tfolder_prop(f->mb, dst, PR_CONTENT_UNREAD, f->pool)->v.l, 1);
	/* Copy back: both exist. */
	mapi_id_t cp[1];
	assert_ok(store_messages_move(f->mb, dst, f->inbox, &nm[0], 1, true, cp, &partial));
	assert_ok(store_message_open(f->mb, dst, nm[0], 0, &msg));
	store_message_close(&msg);
	assert_ok(store_message_open(f->mb, f->inbox, cp[0], 0, &msg));
	/* UIDs keep growing: the inbox had 1..4. */
	assert_int_equal(tmsg_prop(msg, PR_INTERNET_ARTICLE_NUMBER, f->pool)->v.l, 5);
	store_message_close(&msg);
	assert_int_equal(tfolder_prop(f->mb, f->inbox, PR_CONTENT_COUNT, f->pool)->v.l, 3);
	/* Delete. */
	mapi_id_t del[] = {m[1], m[3], m[3]};
	assert_ok(store_messages_delete(f->mb, f->inbox, del, 3, &partial));
	assert_int_equal(partial, 1);
	assert_int_equal(tfolder_prop(f->mb, f->inbox, PR_CONTENT_COUNT, f->pool)->v.l, 1);
	/* Size accounting follows. */
	uint64_t size;
	assert_ok(store_mailbox_size(f->mb, &size, NULL, NULL));
	int64_t expect = tfolder_prop(f->mb, f->inbox, PR_MESSAGE_SIZE_EXTENDED, f->pool)->v.li +
		tfolder_prop(f->mb, dst, PR_MESSAGE_SIZE_EXTENDED, f->pool)->v.li;
	assert_int_equal(size, expect);
}

static void test_fai(void **state)
{
	struct fx *f = *state;
	struct store_message *msg;
	assert_ok(store_message_create(f->mb, f->inbox, STORE_MSG_ASSOCIATED, &msg));
	struct mapi_propvals v = {0};
	mapi_propvals_set_str(f->pool, &v, PR_MESSAGE_CLASS, "IPM.Microsoft.FolderDesign");
	mapi_propvals_set_long(f->pool, &v, PR_MESSAGE_FLAGS, 0);
	assert_ok(store_message_set_props(msg, &v, NULL));
	assert_ok(store_message_save(msg, 0));
	assert_true(tmsg_prop(msg, PR_ASSOCIATED, f->pool)->v.b);
	assert_true(tmsg_prop(msg, PR_MESSAGE_FLAGS, f->pool)->v.l & MSGFLAG_ASSOCIATED);
	store_message_close(&msg);
	assert_int_equal(tfolder_prop(f->mb, f->inbox, PR_CONTENT_COUNT, f->pool)->v.l, 0);
	assert_int_equal(tfolder_prop(f->mb, f->inbox, PR_CONTENT_UNREAD, f->pool)->v.l, 0);
	assert_int_equal(tfolder_prop(f->mb, f->inbox, PR_ASSOC_CONTENT_COUNT, f->pool)->v.l, 1);
	assert_ec(store_message_create(f->mb, f->inbox, 0x8, &msg), ecUnknownFlags);
}

static void test_quota(void **state)
{
	struct fx *f = *state;
	struct store_logon logon = {.principal = "alice@example.test", .quota_hard = 3000,
		.quota_warn = 1000};
	struct store_mailbox *mb;
	assert_ok(store_mailbox_open(f->t->store, &f->g, &logon, &mb));
	char body[1500];
	memset(body, 'q', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	struct mapi_propvals v = {0};
	mapi_propvals_set_str(f->pool, &v, PR_BODY, body);
	int saved = 0;
	uint32_t ec = ecSuccess;
	mapi_id_t first = 0;
	while (ec == ecSuccess && saved < 10) {
		struct store_message *msg;
		assert_ok(store_message_create(mb, f->inbox, 0, &msg));
		assert_ok(store_message_set_props(msg, &v, NULL));
		ec = store_message_save(msg, 0);
		if (ec == ecSuccess) {
			saved++;
			first = store_message_mid(msg);
		}
		store_message_close(&msg);
	}
	assert_ec(ec, ecQuotaExceeded);
	assert_int_equal(saved, 1);
	/* The failed save left nothing behind. */
	assert_int_equal(tfolder_prop(mb, f->inbox, PR_CONTENT_COUNT, f->pool)->v.l, 1);
	uint64_t size;
	bool warn, hard;
	assert_ok(store_mailbox_size(mb, &size, &warn, &hard));
	assert_true(size > 1000 && size <= 3000);
	assert_true(warn);
	assert_false(hard);
	uint32_t tag = PR_STORAGE_QUOTA_LIMIT;
	struct mapi_tags tl = {1, &tag};
	struct mapi_propvals got;
	assert_ok(store_mailbox_get_props(mb, &tl, f->pool, &got));
	assert_int_equal(got.vals[0].v.l, 2); /* KiB */
	/* Copies count too; a move does not grow the mailbox. */
	uint32_t partial;
	mapi_id_t out = 0;
	assert_ec(store_messages_move(mb, f->inbox, f->drafts, &first, 1, true, &out, &partial),
		ecQuotaExceeded);
	assert_int_equal(tfolder_prop(mb, f->drafts, PR_CONTENT_COUNT, f->pool)->v.l, 0);
	assert_ok(store_messages_move(mb, f->inbox, f->drafts, &first, 1, false, &out, &partial));
	assert_int_equal(tfolder_prop(mb, f->drafts, PR_CONTENT_COUNT, f->pool)->v.l, 1);
	store_mailbox_close(&mb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_save_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recipients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attachments_embedded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_streams_and_blobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mime_dedup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blob_writers_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_move_copy_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fai, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quota, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
