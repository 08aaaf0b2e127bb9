/* Change tracking across create/modify/read/move/copy/delete, hierarchy
 * changes, paging of changes, tombstone purge; the IMAP state (UIDs,
 * MODSEQ, STORE, EXPUNGE, VANISHED) and the IMAP flag mapping; named
 * properties. */
#include "store_test.h"

#include <string.h>

#include "mapi/namedprop.h"
#include "mapi/propval.h"
#include "store/changes.h"
#include "store/imap_flags.h"
#include "store/ptags.h"
#include "store/store_int.h"

struct fx {
	struct tstore *t;
	struct guid g;
	struct store_mailbox *mb;
	mapi_id_t inbox, ipm, other;
	pool_t *pool;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->t = tstore_new();
	f->mb = tstore_mailbox(f->t, &f->g, "alice@example.test");
	f->inbox = store_mailbox_special_fid(f->mb, STORE_SPECIAL_INBOX);
	f->ipm = store_mailbox_special_fid(f->mb, STORE_SPECIAL_IPM_SUBTREE);
	assert_ok(store_folder_create(f->mb, f->ipm, "Other", STORE_FOLDER_GENERIC, NULL, 0,
		&f->other));
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

static const struct store_change *find_change(const struct store_changes *c, mapi_id_t id)
{
	for (uint32_t i = 0; i < c->n_changed; i++)
		if (c->changed[i].id == id)
			return &c->changed[i];
	return NULL;
}

static const struct store_change *must_change(const struct store_changes *c, mapi_id_t id)
{
	static const struct store_change none;
	const struct store_change *x = find_change(c, id);
	if (x == NULL)
		fail_msg("no change for 0x%llx", (unsigned long long)id);
	return x != NULL ? x : &none;
}

static bool has_deletion(const struct store_changes *c, mapi_id_t id)
{
	for (uint32_t i = 0; i < c->n_deleted; i++)
		if (c->deleted[i].id == id)
			return true;
	return false;
}

static void test_folder_changes(void **state)
{
	struct fx *f = *state;
	mapi_id_t m[6];
	for (int i = 0; i < 6; i++)
		m[i] = tstore_add_message(f->mb, f->inbox, "m", (uint64_t)i, false);
	struct store_changes c;
	assert_ok(store_changes_folder(f->mb, f->inbox, 0, STORE_SYNC_NORMAL, 0, f->pool, &c));
	assert_int_equal(c.n_changed, 6);
	for (uint32_t i = 0; i < 6; i++)
		assert_true(c.changed[i].created);
	uint64_t s1 = c.state;
	assert_true(s1 > 0);
	/* Nothing since: empty, same state. */
	assert_ok(store_changes_folder(f->mb, f->inbox, s1, STORE_SYNC_NORMAL, 0, f->pool, &c));
	assert_int_equal(c.n_changed + c.n_deleted + c.n_read, 0);
	assert_int_equal(c.state, s1);

	/* Modify m0, read m1, delete m2, move m3 out, move one in, copy one in. */
	struct store_message *msg;
	assert_ok(store_message_open(f->mb, f->inbox, m[0], STORE_OPEN_READ_WRITE, &msg));
	struct mapi_propvals v = {0};
	mapi_propvals_set_str(f->pool, &v, PR_SUBJECT, "changed");
	assert_ok(store_message_set_props(msg, &v, NULL));
	assert_ok(store_message_save(msg, 0));
	store_message_close(&msg);
	assert_ok(store_messages_set_read(f->mb, f->inbox, &m[1], 1, true, NULL));
	assert_ok(store_messages_delete(f->mb, f->inbox, &m[2], 1, NULL));
	mapi_id_t moved_out;
	assert_ok(store_messages_move(f->mb, f->inbox, f->other, &m[3], 1, false, &moved_out, NULL));
	mapi_id_t o = tstore_add_message(f->mb, f->other, "o", 9, false);
	mapi_id_t moved_in, copied_in;
	assert_ok(store_messages_move(f->mb, f->other, f->inbox, &o, 1, false, &moved_in, NULL));
	assert_ok(store_messages_move(f->mb, f->other, f->inbox, &moved_out, 1, true, &copied_in,
		NULL));

	assert_ok(store_changes_folder(f->mb, f->inbox, s1, STORE_SYNC_NORMAL | STORE_SYNC_READ, 0,
		f->pool, &c));
	assert_true(c.state > s1);
	assert_false(c.reset);
	assert_int_equal(c.n_changed, 3);
	const struct store_change *ch = must_change(&c, m[0]);
	assert_non_null(ch);
	assert_false(ch->created);
	assert_memory_not_equal(ch->change_key, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_true(must_change(&c, moved_in)->created);
	assert_true(must_change(&c, copied_in)->created);
	assert_int_equal(c.n_read, 1);
	assert_int_equal(c.read[0].mid, m[1]);
	assert_true(c.read[0].read);
	assert_int_equal(c.n_deleted, 2);
	assert_true(has_deletion(&c, m[2]));
	assert_true(has_deletion(&c, m[3]));
	/* Without STORE_SYNC_READ, the read change is a change. */
	assert_ok(store_changes_folder(f->mb, f->inbox, s1, STORE_SYNC_NORMAL, 0, f->pool, &c));
	assert_int_equal(c.n_changed, 4);
	assert_non_null(find_change(&c, m[1]));
	for (uint32_t i = 1; i < c.n_changed; i++)
		assert_true(c.changed[i - 1].cn <= c.changed[i].cn);
	/* The other folder saw m3 arrive (and leave again? no: moved_out
	 * stays), o leave. */
	struct store_changes co;
	assert_ok(store_changes_folder(f->mb, f->other, s1, STORE_SYNC_NORMAL, 0, f->pool, &co));
	assert_non_null(find_change(&co, moved_out));
	assert_true(has_deletion(&co, o));
	/* The state after is quiet again. */
	assert_ok(store_changes_folder(f->mb, f->inbox, c.state, STORE_SYNC_NORMAL, 0, f->pool, &c));
	assert_int_equal(c.n_changed + c.n_deleted, 0);
	/* FAI messages only with STORE_SYNC_FAI. */
	uint64_t s2 = c.state;
	assert_ok(store_message_create(f->mb, f->inbox, STORE_MSG_ASSOCIATED, &msg));
	assert_ok(store_message_save(msg, 0));
	mapi_id_t fai = store_message_mid(msg);
	store_message_close(&msg);
	assert_ok(store_changes_folder(f->mb, f->inbox, s2, STORE_SYNC_NORMAL, 0, f->pool, &c));
	assert_int_equal(c.n_changed, 0);
	assert_ok(store_changes_folder(f->mb, f->inbox, s2, STORE_SYNC_FAI, 0, f->pool, &c));
	assert_int_equal(c.n_changed, 1);
	assert_int_equal(c.changed[0].id, fai);
	assert_true(c.changed[0].associated);
	assert_ec(store_changes_folder(f->mb, f->inbox, 0, 0x80, 0, f->pool, &c), ecUnknownFlags);
	assert_ec(store_changes_folder(f->mb, mapi_id_make(1, 0x999999), 0, 0, 0, f->pool, &c),
		ecNotFound);
}

static void test_paging_changes(void **state)
{
	struct fx *f = *state;
	struct store_changes c;
	assert_ok(store_changes_folder(f->mb, f->inbox, 0, 0, 0, f->pool, &c));
	uint64_t s0 = c.state;
	mapi_id_t m[10];
	for (int i = 0; i < 10; i++)
		m[i] = tstore_add_message(f->mb, f->inbox, "m", (uint64_t)i, false);
	/* Four deletions with one change number: never split. */
	assert_ok(store_messages_delete(f->mb, f->inbox, m, 4, NULL));
	int seen_changed = 0, seen_deleted = 0, calls = 0;
	uint64_t s = s0;
	do {
		assert_ok(store_changes_folder(f->mb, f->inbox, s, 0, 3, f->pool, &c));
		assert_true(c.n_changed + c.n_deleted <= 4);
		if (c.n_deleted > 0)
			assert_int_equal(c.n_deleted, 4);
		seen_changed += (int)c.n_changed;
		seen_deleted += (int)c.n_deleted;
		assert_true(c.state >= s);
		s = c.state;
		calls++;
	} while (c.more && calls < 20);
	/* The four deleted were created after s0 too: 10 creations (6 still
	 * exist), 4 deletions. */
	assert_int_equal(seen_changed, 6);
	assert_int_equal(seen_deleted, 4);
	assert_true(calls >= 3);
}

static void test_hierarchy_changes(void **state)
{
	struct fx *f = *state;
	struct store_changes c;
	assert_ok(store_changes_hierarchy(f->mb, f->ipm, 0, f->pool, &c));
	assert_true(c.n_changed > 15);
	uint64_t s1 = c.state;
	mapi_id_t a, a1, b;
	assert_ok(store_folder_create(f->mb, f->ipm, "A", STORE_FOLDER_GENERIC, NULL, 0, &a));
	assert_ok(store_folder_create(f->mb, a, "A1", STORE_FOLDER_GENERIC, NULL, 0, &a1));
	assert_ok(store_folder_create(f->mb, f->ipm, "B", STORE_FOLDER_GENERIC, NULL, 0, &b));
	struct mapi_propvals v = {0};
	mapi_propvals_set_str(f->pool, &v, PR_DISPLAY_NAME, "Other renamed");
	assert_ok(store_folder_set_props(f->mb, f->other, &v, NULL));
	/* Message changes are not hierarchy changes. */
	tstore_add_message(f->mb, f->inbox, "m", 1, false);
	assert_ok(store_changes_hierarchy(f->mb, f->ipm, s1, f->pool, &c));
	assert_int_equal(c.n_changed, 4);
	assert_true(must_change(&c, a)->created);
	assert_true(must_change(&c, a1)->created);
	assert_int_equal(must_change(&c, a1)->parent, a);
	assert_false(must_change(&c, f->other)->created);
	uint64_t s2 = c.state;
	assert_ok(store_folder_move(f->mb, b, a, NULL));
	assert_ok(store_folder_delete(f->mb, a, STORE_DEL_FOLDERS | STORE_DEL_MESSAGES));
	assert_ok(store_changes_hierarchy(f->mb, f->ipm, s2, f->pool, &c));
	assert_int_equal(c.n_changed, 0);
	assert_int_equal(c.n_deleted, 3);
	assert_true(has_deletion(&c, a));
	assert_true(has_deletion(&c, a1));
	assert_true(has_deletion(&c, b));
	/* Seen from a folder the deletions were not under: none. */
	assert_ok(store_changes_hierarchy(f->mb, f->other, s2, f->pool, &c));
	assert_int_equal(c.n_deleted, 0);
}

static void test_tombstone_purge(void **state)
{
	struct fx *f = *state;
	mapi_id_t m = tstore_add_message(f->mb, f->inbox, "m", 1, false);
	struct store_changes c;
	assert_ok(store_changes_folder(f->mb, f->inbox, 0, 0, 0, f->pool, &c));
	uint64_t s = c.state;
	assert_ok(store_messages_delete(f->mb, f->inbox, &m, 1, NULL));
	uint32_t n;
	assert_ok(store_purge_tombstones(f->mb, 0, &n));
	assert_int_equal(n, 0); /* fresh ones stay */
	assert_ok(store_changes_folder(f->mb, f->inbox, s, 0, 0, f->pool, &c));
	assert_int_equal(c.n_deleted, 1);
	assert_false(c.reset);
	uint64_t s2 = c.state;
	/* Purge everything up to a day from now. */
	assert_ok(store_purge_tombstones(f->mb, store_now_filetime() + 864000000000ULL, &n));
	assert_int_equal(n, 1);
	/* A state from before the purged deletion cannot be served... */
	assert_ok(store_changes_folder(f->mb, f->inbox, s, 0, 0, f->pool, &c));
	assert_true(c.reset);
	uint32_t *uids, nu;
	bool reset;
	assert_ok(store_imap_vanished(f->mb, f->inbox, s, f->pool, &uids, &nu, &reset));
	assert_true(reset);
	/* ... one from after it can. */
	assert_ok(store_changes_folder(f->mb, f->inbox, s2, 0, 0, f->pool, &c));
	assert_false(c.reset);
	assert_ok(store_changes_folder(f->mb, f->inbox, 0, 0, 0, f->pool, &c));
	assert_false(c.reset);
}

/* --- IMAP --- */

static void test_imap_state(void **state)
{
	struct fx *f = *state;
	struct store_imap_folder st;
	assert_ok(store_imap_folder(f->mb, f->inbox, &st));
	assert_true(st.uidvalidity != 0);
	assert_int_equal(st.uidnext, 1);
	assert_int_equal(st.exists, 0);
	uint64_t h0 = st.highestmodseq;
	assert_true(h0 > 0);
	mapi_id_t m[5];
	for (int i = 0; i < 5; i++)
		m[i] = tstore_add_message(f->mb, f->inbox, "m", (uint64_t)i, i == 0);
	assert_ok(store_imap_folder(f->mb, f->inbox, &st));
	assert_int_equal(st.uidnext, 6);
	assert_int_equal(st.exists, 5);
	assert_int_equal(st.unseen, 4);
	uint64_t h1 = st.highestmodseq;
	assert_true(h1 > h0);
	struct store_imap_msg *msgs;
	uint32_t n;
	assert_ok(store_imap_list(f->mb, f->inbox, 1, 0, 0, f->pool, &msgs, &n));
	assert_int_equal(n, 5);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(msgs[i].uid, i + 1);
		assert_int_equal(msgs[i].mid, m[i]);
		assert_true(msgs[i].modseq <= h1);
	}
	assert_int_equal(msgs[0].flags, STORE_IMAP_SEEN);
	assert_int_equal(msgs[1].flags, 0);
	mapi_id_t mid;
	assert_ok(store_imap_uid_to_mid(f->mb, f->inbox, 3, &mid));
	assert_int_equal(mid, m[2]);
	assert_ec(store_imap_uid_to_mid(f->mb, f->inbox, 99, &mid), ecNotFound);

	/* STORE +FLAGS (\Flagged $Forwarded work) on 2 and 3. */
	uint32_t u23[] = {2, 3};
	const char *kws[] = {"work", "$Important"};
	uint32_t *modified;
	uint32_t nmod;
	assert_ok(store_imap_store(f->mb, f->inbox, u23, 2, STORE_IMAP_ADD,
		STORE_IMAP_FLAGGED | STORE_IMAP_FORWARDED | STORE_IMAP_SEEN, kws, 2, 0, f->pool,
		&modified, &nmod));
	assert_int_equal(nmod, 0);
	assert_ok(store_imap_list(f->mb, f->inbox, 2, 3, 0, f->pool, &msgs, &n));
	assert_int_equal(n, 2);
	for (uint32_t i = 0; i < 2; i++) {
		assert_int_equal(msgs[i].flags,
			STORE_IMAP_FLAGGED | STORE_IMAP_FORWARDED | STORE_IMAP_SEEN);
		assert_int_equal(msgs[i].n_keywords, 2);
		assert_string_equal(msgs[i].keywords[0], "work");
		assert_true(msgs[i].modseq > h1);
	}
	/* The MAPI side sees it. */
	struct store_message *msg;
	assert_ok(store_message_open(f->mb, f->inbox, m[1], 0, &msg));
	assert_int_equal(tmsg_prop(msg, PR_FLAG_STATUS, f->pool)->v.l, 2);
	assert_int_equal(tmsg_prop(msg, PR_LAST_VERB_EXECUTED, f->pool)->v.l, STORE_VERB_FORWARD);
	assert_int_equal(tmsg_prop(msg, PR_ICON_INDEX, f->pool)->v.l, STORE_ICON_FORWARDED);
	assert_true(tmsg_prop(msg, PR_READ, f->pool)->v.b);
	struct mapi_propname kwn = mapi_np_name(MAPI_NP_PidNameKeywords);
	uint16_t kwid;
	assert_ok(store_named_to_ids(f->mb, &kwn, 1, false, &kwid));
	assert_true(kwid >= 0x8000);
	const struct mapi_propval *kv = tmsg_prop(msg, PROP_TAG(PT_MV_UNICODE, kwid), f->pool);
	assert_int_equal(kv->v.mv.count, 2);
	store_message_close(&msg);
	assert_ok(store_imap_folder(f->mb, f->inbox, &st));
	assert_int_equal(st.unseen, 2);
	uint64_t h2 = st.highestmodseq;
	/* CHANGEDSINCE. */
	assert_ok(store_imap_list(f->mb, f->inbox, 1, 0, h1, f->pool, &msgs, &n));
	assert_int_equal(n, 2);
	/* -FLAGS a keyword and \Forwarded; replace on 4. */
	const char *work[] = {"WORK"};
	assert_ok(store_imap_store(f->mb, f->inbox, u23, 1, STORE_IMAP_REMOVE,
		STORE_IMAP_FORWARDED, work, 1, 0, f->pool, &modified, &nmod));
	uint32_t u4 = 4;
	assert_ok(store_imap_store(f->mb, f->inbox, &u4, 1, STORE_IMAP_REPLACE,
		STORE_IMAP_ANSWERED | STORE_IMAP_DRAFT, NULL, 0, 0, f->pool, &modified, &nmod));
	assert_ok(store_imap_list(f->mb, f->inbox, 2, 4, 0, f->pool, &msgs, &n));
	assert_int_equal(msgs[0].flags, STORE_IMAP_FLAGGED | STORE_IMAP_SEEN);
	assert_int_equal(msgs[0].n_keywords, 1);
	assert_string_equal(msgs[0].keywords[0], "$Important");
	assert_int_equal(msgs[2].flags, STORE_IMAP_ANSWERED | STORE_IMAP_DRAFT);
	assert_int_equal(msgs[2].n_keywords, 0);
	/* UNCHANGEDSINCE: 2 changed after h2, 5 did not. */
	uint32_t u25[] = {2, 5};
	uint64_t before_del;
	assert_ok(store_changes_state(f->mb, &before_del));
	assert_ok(store_imap_store(f->mb, f->inbox, u25, 2, STORE_IMAP_ADD, STORE_IMAP_DELETED,
		NULL, 0, h2, f->pool, &modified, &nmod));
	assert_int_equal(nmod, 1);
	assert_int_equal(modified[0], 2);
	/* \Deleted is IMAP-only: it moves MODSEQ but not the change key. */
	struct store_changes c;
	assert_ok(store_imap_folder(f->mb, f->inbox, &st));
	assert_int_equal(st.deleted, 1);
	uint64_t h3 = st.highestmodseq;
	assert_true(h3 > h2);
	assert_ok(store_changes_folder(f->mb, f->inbox, before_del,
		STORE_SYNC_NORMAL | STORE_SYNC_READ, 0, f->pool, &c));
	assert_int_equal(c.n_changed + c.n_read, 0);
	/* Bad flags and keywords. */
	const char *bad[] = {"a b"};
	assert_ec(store_imap_store(f->mb, f->inbox, u25, 2, STORE_IMAP_ADD, 0, bad, 1, 0, f->pool,
			  &modified, &nmod),
		ecInvalidParam);
	assert_ec(store_imap_store(f->mb, f->inbox, u25, 2, STORE_IMAP_ADD, 0x100, NULL, 0, 0,
			  f->pool, &modified, &nmod),
		ecInvalidParam);

	/* EXPUNGE: only \Deleted ones; VANISHED since h2 lists them. */
	uint32_t *gone;
	uint32_t ngone;
	assert_ok(store_imap_expunge(f->mb, f->inbox, NULL, 0, f->pool, &gone, &ngone));
	assert_int_equal(ngone, 1);
	assert_int_equal(gone[0], 5);
	assert_ok(store_imap_folder(f->mb, f->inbox, &st));
	assert_int_equal(st.exists, 4);
	assert_true(st.highestmodseq > h3);
	/* A move out counts as vanished too; UID EXPUNGE of a set. */
	mapi_id_t out;
	assert_ok(store_messages_move(f->mb, f->inbox, f->other, &m[0], 1, false, &out, NULL));
	assert_ok(store_imap_store(f->mb, f->inbox, u23, 2, STORE_IMAP_ADD, STORE_IMAP_DELETED, NULL,
		0, 0, f->pool, &modified, &nmod));
	assert_ok(store_imap_expunge(f->mb, f->inbox, &u23[1], 1, f->pool, &gone, &ngone));
	assert_int_equal(ngone, 1);
	assert_int_equal(gone[0], 3);
	bool reset;
	assert_ok(store_imap_vanished(f->mb, f->inbox, h2, f->pool, &gone, &ngone, &reset));
	assert_false(reset);
	assert_int_equal(ngone, 3);
	assert_int_equal(gone[0], 1);
	assert_int_equal(gone[1], 3);
	assert_int_equal(gone[2], 5);
	/* The moved message has a new UID in the other folder. */
	struct store_imap_folder so;
	assert_ok(store_imap_folder(f->mb, f->other, &so));
	assert_int_equal(so.uidnext, 2);
	assert_true(so.uidvalidity != st.uidvalidity);
}

static void test_imap_flag_mapping(void **state)
{
	/* Every combination survives set then get, from any start. */
	for (uint32_t start = 0; start <= STORE_IMAP_ALL; start++) {
		for (uint32_t fl = 0; fl <= STORE_IMAP_ALL; fl++) {
			struct store_imap_mapi m = {.message_flags = MSGFLAG_HASATTACH,
				.flag_status = -1,
				.last_verb = -1,
				.icon_index = -1};
			store_imap_flags_set(&m, start);
			store_imap_flags_set(&m, fl);
			assert_int_equal(store_imap_flags_get(&m), fl);
			assert_true(m.message_flags & MSGFLAG_HASATTACH);
		}
	}
	/* Outlook replied: IMAP sees \Answered. */
	struct store_imap_mapi o = {.flag_status = 1, .last_verb = STORE_VERB_REPLY_ALL,
		.icon_index = -1};
	assert_int_equal(store_imap_flags_get(&o), STORE_IMAP_ANSWERED);
	/* Follow-up complete (1) is not \Flagged, and unflagging keeps it. */
	store_imap_flags_set(&o, STORE_IMAP_ANSWERED | STORE_IMAP_FLAGGED);
	assert_int_equal(o.flag_status, 2);
	o.flag_status = 1;
	store_imap_flags_set(&o, STORE_IMAP_ANSWERED);
	assert_int_equal(o.flag_status, 1);
	assert_int_equal(o.last_verb, STORE_VERB_REPLY_ALL);
	/* Removing \Answered clears the verb and icon. */
	store_imap_flags_set(&o, 0);
	assert_int_equal(o.last_verb, -1);
	assert_int_equal(o.icon_index, -1);
	/* Names. */
	uint32_t bit;
	assert_int_equal(store_imap_flag_parse("\\SEEN", &bit), 1);
	assert_int_equal(bit, STORE_IMAP_SEEN);
	assert_int_equal(store_imap_flag_parse("$forwarded", &bit), 1);
	assert_int_equal(bit, STORE_IMAP_FORWARDED);
	assert_int_equal(store_imap_flag_parse("\\Recent", &bit), -1);
	assert_int_equal(store_imap_flag_parse("\\Bogus", &bit), -1);
	assert_int_equal(store_imap_flag_parse("$Junk", &bit), 0);
	assert_int_equal(store_imap_flag_parse("a(b", &bit), -1);
	assert_int_equal(store_imap_flag_parse("", &bit), -1);
	assert_string_equal(store_imap_flag_name(STORE_IMAP_DRAFT), "\\Draft");
	assert_null(store_imap_flag_name(0x1000));
}

static void test_named_props(void **state)
{
	struct fx *f = *state;
	struct mapi_propname names[4];
	memset(names, 0, sizeof(names));
	names[0] = mapi_np_name(MAPI_NP_PidNameKeywords);
	names[1].guid = PSETID_Appointment;
	names[1].kind = MNID_ID;
	names[1].lid = 0x820d;
	names[2].guid = PS_INTERNET_HEADERS;
	names[2].kind = MNID_STRING;
	char xh[] = "X-Spam-Score";
	names[2].name = xh;
	names[3] = names[2];
	char xh2[] = "x-spam-score";
	names[3].name = xh2;
	uint16_t ids[4];
	assert_ok(store_named_to_ids(f->mb, names, 4, false, ids));
	assert_int_equal(ids[0] | ids[1] | ids[2] | ids[3], 0);
	assert_ok(store_named_to_ids(f->mb, names, 4, true, ids));
	assert_true(ids[0] >= 0x8000 && ids[1] >= 0x8000 && ids[2] >= 0x8000);
	assert_int_not_equal(ids[0], ids[1]);
	/* Internet header names are case-insensitive. */
	assert_int_equal(ids[2], ids[3]);
	uint16_t again[4];
	assert_ok(store_named_to_ids(f->mb, names, 4, true, again));
	assert_memory_equal(again, ids, sizeof(ids));
	struct mapi_propname back;
	assert_ok(store_id_to_named(f->mb, ids[1], f->pool, &back));
	assert_true(guid_eq(&back.guid, &PSETID_Appointment));
	assert_int_equal(back.lid, 0x820d);
	assert_ok(store_id_to_named(f->mb, ids[2], f->pool, &back));
	assert_string_equal(back.name, "X-Spam-Score");
	assert_ec(store_id_to_named(f->mb, 0x7000, f->pool, &back), ecNotFound);
	assert_ec(store_id_to_named(f->mb, 0xfff0, f->pool, &back), ecNotFound);
	/* Bad names. */
	struct mapi_propname bad = {.kind = MNID_STRING};
	assert_ec(store_named_to_ids(f->mb, &bad, 1, true, ids), ecInvalidParam);
	char notutf[] = "\xff";
	bad.name = notutf;
	assert_ec(store_named_to_ids(f->mb, &bad, 1, true, ids), ecInvalidParam);
	bad.kind = 7;
	assert_ec(store_named_to_ids(f->mb, &bad, 1, true, ids), ecInvalidParam);
	/* A mapped ID can carry values. */
	struct store_message *msg;
	assert_ok(store_message_create(f->mb, f->inbox, 0, &msg));
	struct mapi_propvals v = {0};
	mapi_propvals_set_long(f->pool, &v, PROP_TAG(PT_LONG, ids[1]), 77);
	assert_ok(store_message_set_props(msg, &v, NULL));
	assert_ok(store_message_save(msg, 0));
	assert_int_equal(tmsg_prop(msg, PROP_TAG(PT_LONG, ids[1]), f->pool)->v.l, 77);
	store_message_close(&msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_folder_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paging_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hierarchy_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tombstone_purge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imap_state, setup, teardown),
		cmocka_unit_test(test_imap_flag_mapping),
		cmocka_unit_test_setup_teardown(test_named_props, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
