/* kill -9 during a write storm: a child process writes messages (single
 * saves and batches, with bodies in the blob store, attachments and
 * recipients) and reports each MID on a pipe once its commit returned;
 * the parent kills it at a random moment, then checks that every reported
 * message is there and whole, that the database passes integrity_check,
 * that the maintained counts match the rows, and that the mailbox takes
 * new writes. */
#include "store_test.h"

#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mapi/propval.h"
#include "store/ptags.h"
#include "store/store_int.h"
#include "store/table.h"

struct report {
	uint64_t mid;
	uint32_t n; /* the message's number: subject "storm n", n recipients */
};

/* Values of report.n for deletions: announced before the delete (the
 * child may be killed between its commit and the confirmation, so then
 * either outcome is right), confirmed after it (must be gone). */
#define REPORT_DELETING (UINT32_MAX - 1)
#define REPORT_DELETED UINT32_MAX

static void write_msg(struct store_mailbox *mb, mapi_id_t fid, uint32_t n, pool_t *pool,
	size_t big)
{
	struct store_message *msg;
	assert_ok(store_message_create(mb, fid, 0, &msg));
	struct mapi_propvals v = {0};
	char subj[64];
	snprintf(subj, sizeof(subj), "storm %u", n);
	mapi_propvals_set_str(pool, &v, PR_SUBJECT, subj);
	mapi_propvals_set_long(pool, &v, PROP_TAG(PT_LONG, 0x6640), (int32_t)n);
	if (n % 3 == 0) {
		/* Big enough for the blob store; its content depends on n. */
		char *body = malloc(big + 1);
		memset(body, 'a' + (int)(n % 26), big);
		body[big] = '\0';
		mapi_propvals_set_str(pool, &v, PR_BODY, body);
		free(body);
	}
	assert_ok(store_message_set_props(msg, &v, NULL));
	struct mapi_propvals rows[3] = {{0}};
	for (uint32_t i = 0; i < n % 4; i++) {
		mapi_propvals_set_long(pool, &rows[i], PR_ROWID, (int32_t)i);
		mapi_propvals_set_str(pool, &rows[i], PR_DISPLAY_NAME, "rcpt");
	}
	if (n % 4 > 0)
		assert_ok(store_message_modify_recipients(msg, rows, n % 4));
	if (n % 5 == 0) {
		struct store_attach *att;
		assert_ok(store_message_create_attach(msg, &att));
		struct mapi_propvals av = {0};
		mapi_propvals_set_bin(pool, &av, PR_ATTACH_DATA_BIN, subj, (uint32_t)strlen(subj));
		assert_ok(store_attach_set_props(att, &av, NULL));
		assert_ok(store_attach_save(att));
		store_attach_close(&att);
	}
	assert_ok(store_message_save(msg, STORE_SAVE_DELIVERY));
	store_message_close(&msg);
}

static void child(const char *dir, const struct guid *g, int fd, bool full)
{
	struct store_settings s;
	store_settings_default(&s);
	s.data_dir = dir;
	s.default_durability = full ? STORE_DURABILITY_FULL : STORE_DURABILITY_NORMAL;
	struct store *store;
	const char *error;
	if (store_new(&s, &store, &error) < 0)
		_exit(3);
	struct store_logon logon = {.flags = STORE_LOGON_SYSTEM};
	struct store_mailbox *mb;
	if (store_mailbox_open(store, g, &logon, &mb) != ecSuccess)
		_exit(4);
	mapi_id_t inbox = store_mailbox_special_fid(mb, STORE_SPECIAL_INBOX);
	pool_t *pool = pool_new("child", 0);
	for (uint32_t n = 0;; n++) {
		if (n % 7 == 6) {
			/* A batch of three. */
			struct store_batch *b = store_batch_new(store, s.default_durability);
			store_batch_join(b, mb);
			mapi_id_t mids[3];
			for (int k = 0; k < 3; k++) {
				struct store_message *msg;
				if (store_message_create(mb, inbox, 0, &msg) != ecSuccess)
					_exit(5);
				struct mapi_propvals v = {0};
				char subj[64];
				snprintf(subj, sizeof(subj), "storm %u", n + (uint32_t)k * 1000000);
				mapi_propvals_set_str(pool, &v, PR_SUBJECT, subj);
				mapi_propvals_set_long(pool, &v, PROP_TAG(PT_LONG, 0x6640),
					(int32_t)(n + (uint32_t)k * 1000000));
				store_message_set_props(msg, &v, NULL);
				if (store_message_save(msg, 0) != ecSuccess)
					_exit(6);
				mids[k] = store_message_mid(msg);
				store_message_close(&msg);
			}
			if (store_batch_commit(&b) != ecSuccess)
				_exit(7);
			for (int k = 0; k < 3; k++) {
				struct report r = {mids[k], n + (uint32_t)k * 1000000};
				if (write(fd, &r, sizeof(r)) != sizeof(r))
					_exit(8);
			}
		} else {
			write_msg(mb, inbox, n, pool, s.blob_threshold + 100);
			/* The MID of what was just committed: the highest UID. */
			struct store_table *t;
			if (store_table_open_contents(mb, inbox, false, &t) != ecSuccess)
				_exit(9);
			struct mapi_sort so1 = {PR_INTERNET_ARTICLE_NUMBER, TABLE_SORT_DESCEND};
			struct mapi_sort_order so = {1, 0, 0, &so1};
			store_table_sort(t, &so);
			struct store_rows rows;
			if (store_table_query_rows(t, 1, true, 0, pool, &rows, NULL) != ecSuccess ||
				rows.count != 1)
				_exit(10);
			store_table_close(&t);
			struct report r = {rows.ids[0], n};
			if (write(fd, &r, sizeof(r)) != sizeof(r))
				_exit(11);
		}
		if (n % 50 == 49) {
			/* Deletions in the storm too: the oldest few. */
			struct store_table *t;
			if (store_table_open_contents(mb, inbox, false, &t) == ecSuccess) {
				struct store_rows rows;
				if (store_table_query_rows(t, 2, true, 0, pool, &rows, NULL) == ecSuccess &&
					rows.count > 0) {
					for (uint32_t k = 0; k < rows.count; k++) {
						struct report r = {rows.ids[k], REPORT_DELETING};
						if (write(fd, &r, sizeof(r)) != sizeof(r))
							_exit(12);
					}
					store_messages_delete(mb, inbox, rows.ids, rows.count, NULL);
					for (uint32_t k = 0; k < rows.count; k++) {
						struct report r = {rows.ids[k], REPORT_DELETED};
						if (write(fd, &r, sizeof(r)) != sizeof(r))
							_exit(12);
					}
				}
				store_table_close(&t);
			}
		}
		pool_clear(pool);
	}
}

static void check_counts(const char *path)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	/* Maintained counts equal the rows. */
	const char *q = "SELECT count(*) FROM folders f WHERE n_msgs != (SELECT count(*) FROM"
			" messages m WHERE m.fid = f.fid AND m.fai = 0) OR n_unread != (SELECT"
			" count(*) FROM messages m WHERE m.fid = f.fid AND m.fai = 0 AND"
			" (m.flags & 1) = 0) OR size != (SELECT coalesce(sum(size), 0) FROM"
			" messages m WHERE m.fid = f.fid)";
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	q = "SELECT (SELECT value FROM meta WHERE key = 'size') = (SELECT coalesce(sum(size), 0)"
	    " FROM messages WHERE fid IS NOT NULL)";
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 1);
	sqlite3_finalize(st);
	/* No ID at or above the persisted high-water mark. */
	q = "SELECT max(max(coalesce((SELECT max(id) FROM messages), 0), coalesce((SELECT max(cn)"
	    " FROM messages), 0), coalesce((SELECT max(fid) FROM folders), 0)) <"
	    " (SELECT value FROM meta WHERE key = 'id_hwm'), 1)";
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_kill9(void **state)
{
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (int round = 0; round < 6; round++) {
		struct tstore *t = tstore_new();
		struct guid g;
		struct store_mailbox *mb = tstore_mailbox(t, &g, "alice@example.test");
		mapi_id_t inbox = store_mailbox_special_fid(mb, STORE_SPECIAL_INBOX);
		store_mailbox_close(&mb);
		store_free(&t->store);
		int fds[2];
		assert_int_equal(pipe(fds), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			child(t->dir, &g, fds[1], round % 2 == 0);
			_exit(0);
		}
		close(fds[1]);
		/* Let it write for a while (and at least a few messages), then
		 * kill it mid-write. */
		struct report *reps = calloc(200000, sizeof(*reps));
		size_t n = 0;
		int target = 20 + rand() % 200;
		while ((int)n < target) {
			ssize_t r = read(fds[0], &reps[n], sizeof(reps[n]));
			if (r <= 0)
				break;
			assert_int_equal(r, sizeof(reps[n]));
			n++;
		}
		usleep((useconds_t)(rand() % 20000));
		kill(pid, SIGKILL);
		int status;
		waitpid(pid, &status, 0);
		assert_true(WIFSIGNALED(status));
		/* Reports already in the pipe are committed messages too. */
		for (;;) {
			ssize_t r = read(fds[0], &reps[n], sizeof(reps[n]));
			if (r != sizeof(reps[n]))
				break;
			n++;
		}
		close(fds[0]);
		assert_true(n >= 20);

		tstore_reopen(t);
		char *path = store_mailbox_path(t->store, &g);
		mb = tstore_open_as(t, &g, "alice@example.test");
		pool_t *pool = pool_new("check", 0);
		for (size_t i = 0; i < n; i++) {
			struct store_message *msg;
			uint32_t ec = store_message_open(mb, inbox, reps[i].mid, 0, &msg);
			bool deleted_later = false, maybe_deleted = false;
			for (size_t k = i + 1; k < n; k++) {
				deleted_later |= reps[k].mid == reps[i].mid && reps[k].n == REPORT_DELETED;
				maybe_deleted |= reps[k].mid == reps[i].mid && reps[k].n == REPORT_DELETING;
			}
			if (reps[i].n == REPORT_DELETING) {
				if (ec == ecSuccess)
					store_message_close(&msg);
				continue;
			}
			if (reps[i].n == REPORT_DELETED || deleted_later) {
				assert_ec(ec, ecNotFound);
				continue;
			}
			if (maybe_deleted && ec == ecNotFound)
				continue; /* killed between the delete's commit and its report */
			assert_ok(ec);
			char subj[64];
			snprintf(subj, sizeof(subj), "storm %u", reps[i].n);
			assert_string_equal(tmsg_prop(msg, PR_SUBJECT, pool)->v.str, subj);
			uint32_t n0 = reps[i].n;
			if (n0 < 1000000 && n0 % 7 != 6) {
				if (n0 % 3 == 0) {
					const struct mapi_propval *b = tmsg_prop(msg, PR_BODY, pool);
					assert_non_null(b);
					assert_int_equal(strlen(b->v.str), t->set.blob_threshold + 100);
					assert_int_equal(b->v.str[0], 'a' + (int)(n0 % 26));
				}
				struct mapi_propvals *rows;
				uint32_t nr;
				assert_ok(store_message_get_recipients(msg, pool, &rows, &nr));
				assert_int_equal(nr, n0 % 4);
				uint32_t *nums, na;
				assert_ok(store_message_attach_nums(msg, pool, &nums, &na));
				assert_int_equal(na, n0 % 5 == 0 ? 1 : 0);
			}
			store_message_close(&msg);
			pool_clear(pool);
		}
		/* Whatever the child was in the middle of is all or nothing: no
		 * message without its subject. */
		struct store_table *tb;
		assert_ok(store_table_open_contents(mb, inbox, false, &tb));
		struct mapi_restriction noex = {.type = RES_EXIST, .exist = {PR_SUBJECT}};
		struct mapi_restriction nots = {.type = RES_NOT, .not_ = {&noex}};
		assert_ok(store_table_restrict(tb, &nots));
		uint32_t bad;
		assert_ok(store_table_row_count(tb, &bad));
		assert_int_equal(bad, 0);
		store_table_close(&tb);
		/* The mailbox takes new writes, with IDs above everything. */
		mapi_id_t fresh = tstore_add_message(mb, inbox, "after the crash", 1, false);
		for (size_t i = 0; i < n; i++)
			assert_true(mapi_id_globcnt(fresh) > mapi_id_globcnt(reps[i].mid));
		store_mailbox_close(&mb);
		check_counts(path);
		free(path);
		pool_free(&pool);
		free(reps);
		tstore_free(&t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill9),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
