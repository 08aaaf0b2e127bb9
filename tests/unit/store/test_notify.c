/* Notifications, batches (group commit), and concurrent use from threads. */
#include "store_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "mapi/propval.h"
#include "store/notify.h"
#include "store/table.h"

struct fx {
	struct tstore *t;
	struct guid g;
	struct store_mailbox *mb;
	mapi_id_t inbox, ipm;
	pool_t *pool;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->t = tstore_new();
	f->mb = tstore_mailbox(f->t, &f->g, "alice@example.test");
	f->inbox = store_mailbox_special_fid(f->mb, STORE_SPECIAL_INBOX);
	f->ipm = store_mailbox_special_fid(f->mb, STORE_SPECIAL_IPM_SUBTREE);
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

struct sink {
	pthread_mutex_t lock;
	struct store_event ev[256];
	int n;
};

static void sink_fn(void *ctx, const struct store_event *ev)
{
	struct sink *s = ctx;
	pthread_mutex_lock(&s->lock);
	if (s->n < 256)
		s->ev[s->n++] = *ev;
	pthread_mutex_unlock(&s->lock);
}

static int count_type(struct sink *s, enum store_event_type type)
{
	int n = 0;
	for (int i = 0; i < s->n; i++)
		n += s->ev[i].type == type;
	return n;
}

static void test_events(void **state)
{
	struct fx *f = *state;
	struct sink all = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct sink inbox = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct sink newmail = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct store_subscription *s1 = store_subscribe(f->mb, STORE_EVENT_ALL, 0, 0, sink_fn, &all);
	struct store_subscription *s2 =
		store_subscribe(f->mb, STORE_EVENT_ALL, f->inbox, 0, sink_fn, &inbox);
	struct store_subscription *s3 =
		store_subscribe(f->mb, STORE_EVENT_NEW_MAIL, 0, 0, sink_fn, &newmail);
	assert_non_null(s1);
	assert_null(store_subscribe(f->mb, 0, 0, 0, sink_fn, &all));
	assert_null(store_subscribe(f->mb, STORE_EVENT_ALL, 0, 0, NULL, &all));

	/* A delivery: created + new mail, with the IDs. */
	struct store_message *msg;
	assert_ok(store_message_create(f->mb, f->inbox, 0, &msg));
	assert_ok(store_message_save(msg, STORE_SAVE_DELIVERY));
	mapi_id_t mid = store_message_mid(msg);
	store_message_close(&msg);
	assert_int_equal(all.n, 2);
	assert_int_equal(all.ev[0].type, STORE_EVENT_CREATED);
	assert_true(all.ev[0].is_message);
	assert_int_equal(all.ev[0].fid, f->inbox);
	assert_int_equal(all.ev[0].mid, mid);
	assert_int_equal(all.ev[0].uid, 1);
	assert_int_equal(newmail.n, 1);
	assert_int_equal(newmail.ev[0].type, STORE_EVENT_NEW_MAIL);
	assert_int_equal(inbox.n, 2);

	/* Modify, read, copy, move, delete. */
	assert_ok(store_messages_set_read(f->mb, f->inbox, &mid, 1, false, NULL));
	assert_int_equal(count_type(&all, STORE_EVENT_MODIFIED), 1);
	mapi_id_t other;
	assert_ok(store_folder_create(f->mb, f->ipm, "Other", STORE_FOLDER_GENERIC, NULL, 0, &other));
	assert_int_equal(count_type(&all, STORE_EVENT_CREATED), 2);
	assert_int_equal(inbox.n, 3); /* folder events elsewhere do not reach it */
	mapi_id_t copied, moved;
	assert_ok(store_messages_move(f->mb, f->inbox, other, &mid, 1, true, &copied, NULL));
	assert_ok(store_messages_move(f->mb, f->inbox, other, &mid, 1, false, &moved, NULL));
	struct store_event *mv = &all.ev[all.n - 1];
	assert_int_equal(mv->type, STORE_EVENT_MOVED);
	assert_int_equal(mv->old_fid, f->inbox);
	assert_int_equal(mv->old_mid, mid);
	assert_int_equal(mv->fid, other);
	assert_int_equal(mv->mid, moved);
	assert_int_equal(count_type(&all, STORE_EVENT_COPIED), 1);
	/* The inbox subscriber saw the move out (old_fid) and the copy
	 * (old_fid). */
	assert_int_equal(count_type(&inbox, STORE_EVENT_MOVED), 1);
	assert_int_equal(count_type(&inbox, STORE_EVENT_COPIED), 1);
	assert_ok(store_messages_delete(f->mb, other, &copied, 1, NULL));
	assert_int_equal(count_type(&all, STORE_EVENT_DELETED), 1);
	assert_ok(store_folder_move(f->mb, other, f->inbox, NULL));
	assert_int_equal(all.ev[all.n - 1].type, STORE_EVENT_MOVED);
	assert_false(all.ev[all.n - 1].is_message);
	assert_int_equal(all.ev[all.n - 1].parent, f->inbox);
	assert_int_equal(all.ev[all.n - 1].old_parent, f->ipm);
	/* A failed write publishes nothing. */
	int before = all.n;
	mapi_id_t x;
	assert_ec(store_folder_create(f->mb, f->ipm, "Inbox", STORE_FOLDER_GENERIC, NULL, 0, &x),
		ecDuplicateName);
	assert_int_equal(all.n, before);
	/* Unsubscribed: silence; other handles publish to the same hub. */
	store_unsubscribe(&s1);
	assert_null(s1);
	struct store_mailbox *h2 = tstore_open_as(f->t, &f->g, "alice@example.test");
	tstore_add_message(h2, f->inbox, "via h2", 3, false);
	store_mailbox_close(&h2);
	assert_int_equal(all.n, before);
	assert_true(inbox.n > 0 && inbox.ev[inbox.n - 1].type == STORE_EVENT_CREATED);
	store_unsubscribe(&s2);
	store_unsubscribe(&s3);
	store_unsubscribe(&s3);
}

static void test_batch(void **state)
{
	struct fx *f = *state;
	struct guid g2;
	struct store_mailbox *bob = tstore_mailbox(f->t, &g2, "bob@example.test");
	mapi_id_t bob_inbox = store_mailbox_special_fid(bob, STORE_SPECIAL_INBOX);
	struct sink ev = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct store_subscription *sub = store_subscribe(f->mb, STORE_EVENT_ALL, 0, 0, sink_fn, &ev);
	struct store_batch *b = store_batch_new(f->t->store, STORE_DURABILITY_FULL);
	assert_ok(store_batch_join(b, f->mb));
	assert_ok(store_batch_join(b, bob));
	assert_ok(store_batch_join(b, bob));
	struct store_batch *b2 = store_batch_new(f->t->store, STORE_DURABILITY_NORMAL);
	assert_ec(store_batch_join(b2, bob), ecInvalidParam);
	store_batch_abort(&b2);
	for (int i = 0; i < 10; i++) {
		tstore_add_message(f->mb, f->inbox, "a", (uint64_t)i, false);
		tstore_add_message(bob, bob_inbox, "b", (uint64_t)i, false);
	}
	/* Reads through the batch's handle see its writes; others do not. */
	assert_int_equal(tfolder_prop(f->mb, f->inbox, PR_CONTENT_COUNT, f->pool)->v.l, 10);
	struct store_mailbox *other = tstore_open_as(f->t, &f->g, "alice@example.test");
	assert_int_equal(tfolder_prop(other, f->inbox, PR_CONTENT_COUNT, f->pool)->v.l, 0);
	assert_int_equal(ev.n, 0);
	/* A failing write in the batch does not undo the others. */
	mapi_id_t x;
	assert_ec(store_folder_create(f->mb, f->ipm, "Inbox", STORE_FOLDER_GENERIC, NULL, 0, &x),
		ecDuplicateName);
	assert_ok(store_batch_commit(&b));
	assert_null(b);
	assert_int_equal(tfolder_prop(other, f->inbox, PR_CONTENT_COUNT, f->pool)->v.l, 10);
	assert_int_equal(ev.n, 10);
	store_mailbox_close(&other);
	/* Abort rolls everything back. */
	b = store_batch_new(f->t->store, STORE_DURABILITY_DEFAULT);
	assert_ok(store_batch_join(b, bob));
	tstore_add_message(bob, bob_inbox, "lost", 99, false);
	store_batch_abort(&b);
	assert_int_equal(tfolder_prop(bob, bob_inbox, PR_CONTENT_COUNT, f->pool)->v.l, 10);
	/* IDs handed out in the aborted batch are not reused. */
	mapi_id_t after = tstore_add_message(bob, bob_inbox, "after", 100, false);
	assert_int_equal(tfolder_prop(bob, bob_inbox, PR_CONTENT_COUNT, f->pool)->v.l, 11);
	(void)after;
	store_unsubscribe(&sub);
	store_mailbox_close(&bob);
}

/* Two threads batch writes into two mailboxes in opposite orders: a batch
 * never waits while holding a lock, so they cannot deadlock. */
struct crossing {
	struct tstore *t;
	struct guid a, b;
	bool reverse;
	int rounds;
};

static void *cross_thread(void *arg)
{
	struct crossing *c = arg;
	struct store_mailbox *ma = tstore_open_as(c->t, &c->a, NULL);
	struct store_mailbox *mb = tstore_open_as(c->t, &c->b, NULL);
	struct store_logon sys = {.flags = STORE_LOGON_SYSTEM};
	store_mailbox_close(&ma);
	store_mailbox_close(&mb);
	assert_ok(store_mailbox_open(c->t->store, &c->a, &sys, &ma));
	assert_ok(store_mailbox_open(c->t->store, &c->b, &sys, &mb));
	for (int i = 0; i < c->rounds; i++) {
		struct store_batch *b = store_batch_new(c->t->store, STORE_DURABILITY_NORMAL);
		assert_ok(store_batch_join(b, ma));
		assert_ok(store_batch_join(b, mb));
		struct store_mailbox *first = c->reverse ? mb : ma, *second = c->reverse ? ma : mb;
		tstore_add_message(first, store_mailbox_special_fid(first, STORE_SPECIAL_INBOX), "x",
			1, false);
		tstore_add_message(second, store_mailbox_special_fid(second, STORE_SPECIAL_INBOX),
			"y", 1, false);
		assert_ok(store_batch_commit(&b));
	}
	store_mailbox_close(&ma);
	store_mailbox_close(&mb);
	return NULL;
}

static void test_batch_no_deadlock(void **state)
{
	struct fx *f = *state;
	struct guid g2;
	struct store_mailbox *bob = tstore_mailbox(f->t, &g2, "bob@example.test");
	struct crossing c1 = {f->t, f->g, g2, false, 40}, c2 = {f->t, f->g, g2, true, 40};
	pthread_t t1, t2;
	pthread_create(&t1, NULL, cross_thread, &c1);
	pthread_create(&t2, NULL, cross_thread, &c2);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	assert_int_equal(tfolder_prop(f->mb, f->inbox, PR_CONTENT_COUNT, f->pool)->v.l, 80);
	assert_int_equal(tfolder_prop(bob, store_mailbox_special_fid(bob, STORE_SPECIAL_INBOX),
				 PR_CONTENT_COUNT, f->pool)
				 ->v.l,
		80);
	store_mailbox_close(&bob);
}

/* Writers, table readers and subscribers that come and go, all at once. */
struct storm {
	struct tstore *t;
	struct guid g;
	atomic_int stop;
	atomic_int events;
	atomic_int errors;
};

static void count_fn(void *ctx, const struct store_event *ev)
{
	atomic_fetch_add(&((struct storm *)ctx)->events, 1);
}

static void *writer(void *arg)
{
	struct storm *s = arg;
	struct store_mailbox *mb = tstore_open_as(s->t, &s->g, "alice@example.test");
	mapi_id_t inbox = store_mailbox_special_fid(mb, STORE_SPECIAL_INBOX);
	for (int i = 0; i < 150; i++)
		tstore_add_message(mb, inbox, "storm", (uint64_t)i, i % 2);
	store_mailbox_close(&mb);
	return NULL;
}

static void *reader(void *arg)
{
	struct storm *s = arg;
	struct store_mailbox *mb = tstore_open_as(s->t, &s->g, "alice@example.test");
	mapi_id_t inbox = store_mailbox_special_fid(mb, STORE_SPECIAL_INBOX);
	pool_t *pool = pool_new("reader", 0);
	while (!atomic_load(&s->stop)) {
		struct store_table *t;
		if (store_table_open_contents(mb, inbox, false, &t) != ecSuccess) {
			atomic_fetch_add(&s->errors, 1);
			break;
		}
		struct mapi_sort so1 = {PR_MESSAGE_DELIVERY_TIME, TABLE_SORT_DESCEND};
		struct mapi_sort_order so = {1, 0, 0, &so1};
		store_table_sort(t, &so);
		uint32_t n = 0, seen = 0;
		store_table_row_count(t, &n);
		for (;;) {
			struct store_rows rows;
			if (store_table_query_rows(t, 25, true, 0, pool, &rows, NULL) != ecSuccess) {
				atomic_fetch_add(&s->errors, 1);
				break;
			}
			if (rows.count == 0)
				break;
			seen += rows.count;
		}
		/* Rows only get added: a walk sees at least what was counted. */
		if (seen < n)
			atomic_fetch_add(&s->errors, 1);
		store_table_close(&t);
		pool_clear(pool);
	}
	pool_free(&pool);
	store_mailbox_close(&mb);
	return NULL;
}

static void *subscriber(void *arg)
{
	struct storm *s = arg;
	struct store_mailbox *mb = tstore_open_as(s->t, &s->g, "alice@example.test");
	while (!atomic_load(&s->stop)) {
		struct store_subscription *sub =
			store_subscribe(mb, STORE_EVENT_ALL, 0, 0, count_fn, s);
		usleep(100);
		store_unsubscribe(&sub);
	}
	store_mailbox_close(&mb);
	return NULL;
}

static void test_concurrency(void **state)
{
	struct fx *f = *state;
	struct storm s = {.t = f->t, .g = f->g};
	pthread_t w[3], r[2], sub;
	for (int i = 0; i < 3; i++)
		pthread_create(&w[i], NULL, writer, &s);
	for (int i = 0; i < 2; i++)
		pthread_create(&r[i], NULL, reader, &s);
	pthread_create(&sub, NULL, subscriber, &s);
	for (int i = 0; i < 3; i++)
		pthread_join(w[i], NULL);
	atomic_store(&s.stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(r[i], NULL);
	pthread_join(sub, NULL);
	assert_int_equal(atomic_load(&s.errors), 0);
	assert_int_equal(tfolder_prop(f->mb, f->inbox, PR_CONTENT_COUNT, f->pool)->v.l, 450);
	assert_int_equal(tfolder_prop(f->mb, f->inbox, PR_CONTENT_UNREAD, f->pool)->v.l, 225);
	/* UIDs are unique and dense. */
	struct store_table *t;
	assert_ok(store_table_open_contents(f->mb, f->inbox, false, &t));
	uint32_t col = PR_INTERNET_ARTICLE_NUMBER;
	struct mapi_tags ct = {1, &col};
	assert_ok(store_table_set_columns(t, &ct));
	struct store_rows rows;
	assert_ok(store_table_query_rows(t, 1000, true, 0, f->pool, &rows, NULL));
	assert_int_equal(rows.count, 450);
	bool seen[451] = {false};
	for (uint32_t i = 0; i < rows.count; i++) {
		int32_t uid = rows.rows[i].vals[0].v.l;
		assert_true(uid >= 1 && uid <= 450);
		assert_false(seen[uid]);
		seen[uid] = true;
	}
	store_table_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_no_deadlock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrency, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
