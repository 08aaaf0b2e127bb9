/* The store benchmark (`make bench-store`): builds a mailbox of 100,000
 * messages with realistic properties (about 25 each, 1-3 recipients, 10%
 * with an attachment of 8 KiB - 512 KiB), then measures:
 *   insert_per_s   messages inserted per second, in batches of 1,000 with
 *                  durability FULL (fsync at every commit, as deliveries)
 *   first_page_ms  open the mailbox and the Inbox contents table, sort by
 *                  delivery time descending, read the first 50 rows
 *   restrict_ms    a subject-substring restriction over the folder (row
 *                  count and first page)
 *   changes_ms     the changes since a state 100 changes old
 * and prints one line per figure, then
 *   store: insert_per_s=N first_page_ms=N restrict_ms=N changes_ms=N
 *
 * usage: bench-store [--messages N] [--dir DIR] [--keep] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/hm_time.h"
#include "core/pool.h"
#include "mapi/propval.h"
#include "mapi/proptags.h"
#include "store/changes.h"
#include "store/store.h"
#include "store/table.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	/* xorshift64*: deterministic data, no dedup between attachments. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static const char *words[] = {"meeting", "report", "quarterly", "project", "update", "invoice",
	"review", "schedule", "lunch", "budget", "proposal", "draft", "deadline", "travel",
	"contract", "customer", "release", "status", "plan", "question"};
#define N_WORDS (sizeof(words) / sizeof(words[0]))

static void text(struct buf *b, size_t len)
{
	while (b->len < len) {
		buf_append_str(b, words[next() % N_WORDS]);
		buf_append_byte(b, (next() % 12) == 0 ? '\n' : ' ');
	}
}

/* CPU seconds of this process (user + system): the machine may be
 * shared, and wall time then says more about the neighbours. */
static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		(double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double now_ms(void)
{
	return (double)time_mono_us() / 1000.0;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_d);
	return v[n / 2];
}

static void die(const char *what, uint32_t ec)
{
	fprintf(stderr, "bench-store: %s: 0x%08x\n", what, ec);
	exit(1);
}

#define CHECK(x, what)                                                                             \
	do {                                                                                       \
		uint32_t ec_ = (x);                                                                \
		if (ec_ != 0)                                                                      \
			die(what, ec_);                                                            \
	} while (0)

static uint64_t attach_bytes, n_attach;

static void make_message(struct store_mailbox *mb, mapi_id_t inbox, uint32_t i, pool_t *pool)
{
	struct store_message *msg;
	CHECK(store_message_create(mb, inbox, 0, &msg), "create");
	struct mapi_propvals v = {0};
	char subj[128], from[64], addr[64], mid[96];
	snprintf(subj, sizeof(subj), "%s %s %s #%u%s", words[next() % N_WORDS],
		words[next() % N_WORDS], words[next() % N_WORDS], i,
		i % 100 == 7 ? " needle" : "");
	snprintf(from, sizeof(from), "Sender %u", (uint32_t)(next() % 500));
	snprintf(addr, sizeof(addr), "sender%u@example.org", (uint32_t)(next() % 500));
	snprintf(mid, sizeof(mid), "<%016llx.%u@example.org>", (unsigned long long)next(), i);
	uint64_t t0 = 133400000000000000ULL + (uint64_t)i * 600000000ULL + next() % 600000000ULL;
	mapi_propvals_set_str(pool, &v, PR_MESSAGE_CLASS, "IPM.Note");
	mapi_propvals_set_str(pool, &v, PR_SUBJECT, subj);
	mapi_propvals_set_str(pool, &v, PR_CONVERSATION_TOPIC, subj);
	uint8_t ci[22];
	for (int k = 0; k < 22; k++)
		ci[k] = (uint8_t)next();
	mapi_propvals_set_bin(pool, &v, PR_CONVERSATION_INDEX, ci, 22);
	mapi_propvals_set_str(pool, &v, PR_INTERNET_MESSAGE_ID, mid);
	mapi_propvals_set_str(pool, &v, PR_SENDER_NAME, from);
	mapi_propvals_set_str(pool, &v, PR_SENDER_EMAIL_ADDRESS, addr);
	mapi_propvals_set_str(pool, &v, PR_SENDER_ADDRTYPE, "SMTP");
	mapi_propvals_set_str(pool, &v, PR_SENT_REPRESENTING_NAME, from);
	mapi_propvals_set_str(pool, &v, PR_SENT_REPRESENTING_EMAIL_ADDRESS, addr);
	mapi_propvals_set_str(pool, &v, PR_RECEIVED_BY_NAME, "Alice Example");
	mapi_propvals_set_str(pool, &v, PR_RECEIVED_BY_EMAIL_ADDRESS, "alice@example.test");
	mapi_propvals_set_str(pool, &v, PR_DISPLAY_TO, "Alice Example");
	mapi_propvals_set_str(pool, &v, PR_DISPLAY_CC, i % 3 == 0 ? "Bob Example" : "");
	mapi_propvals_set_systime(pool, &v, PR_MESSAGE_DELIVERY_TIME, t0);
	mapi_propvals_set_systime(pool, &v, PR_CLIENT_SUBMIT_TIME, t0 - 30000000ULL);
	mapi_propvals_set_long(pool, &v, PR_MESSAGE_FLAGS, i % 4 == 0 ? 0 : 1);
	mapi_propvals_set_long(pool, &v, PR_IMPORTANCE, (int32_t)(next() % 3));
	mapi_propvals_set_long(pool, &v, PR_PRIORITY, 0);
	mapi_propvals_set_long(pool, &v, PR_SENSITIVITY, 0);
	mapi_propvals_set_long(pool, &v, PR_INTERNET_CPID, 65001);
	mapi_propvals_set_long(pool, &v, PR_MESSAGE_LOCALE_ID, 1033);
	if (i % 20 == 0)
		mapi_propvals_set_long(pool, &v, PR_FLAG_STATUS, 2);
	struct buf body, hdr;
	buf_init(&body, pool);
	buf_init(&hdr, pool);
	text(&body, 500 + next() % 3500);
	buf_printf(&hdr, "Received: from mx.example.org by mail.example.test; %u\r\n"
			 "From: %s <%s>\r\nTo: Alice Example <alice@example.test>\r\n"
			 "Subject: %s\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\n"
			 "Content-Type: text/plain; charset=utf-8\r\n",
		i, from, addr, subj, mid);
	text(&hdr, hdr.len + 300 + next() % 600);
	mapi_propvals_set_str(pool, &v, PR_BODY, buf_cstr(&body));
	mapi_propvals_set_str(pool, &v, PR_TRANSPORT_MESSAGE_HEADERS, buf_cstr(&hdr));
	CHECK(store_message_set_props(msg, &v, NULL), "set props");
	struct mapi_propvals rows[3];
	uint32_t nr = 1 + (uint32_t)(next() % 3);
	for (uint32_t k = 0; k < nr; k++) {
		memset(&rows[k], 0, sizeof(rows[k]));
		char name[32], email[48];
		snprintf(name, sizeof(name), "Recipient %u", k);
		snprintf(email, sizeof(email), "r%u@example.test", k);
		mapi_propvals_set_long(pool, &rows[k], PR_ROWID, (int32_t)k);
		mapi_propvals_set_long(pool, &rows[k], PR_RECIPIENT_TYPE, k == 0 ? 1 : 2);
		mapi_propvals_set_str(pool, &rows[k], PR_DISPLAY_NAME, name);
		mapi_propvals_set_str(pool, &rows[k], PR_EMAIL_ADDRESS, email);
		mapi_propvals_set_str(pool, &rows[k], PR_ADDRTYPE, "SMTP");
		mapi_propvals_set_str(pool, &rows[k], PR_SMTP_ADDRESS, email);
	}
	CHECK(store_message_modify_recipients(msg, rows, nr), "recipients");
	if (getenv("BENCH_NO_ATTACH") == NULL && i % 10 == 3) {
		struct store_attach *att;
		CHECK(store_message_create_attach(msg, &att), "attach");
		/* Log-uniform 8 KiB .. 512 KiB: 8 KiB * 64^u. */
		double u = (double)(next() % 1000000) / 1000000.0;
		size_t sz = (size_t)(8192.0 * exp(u * log(64.0)));
		uint8_t *data = pool_alloc(pool, sz);
		for (size_t k = 0; k + 8 <= sz; k += 8) {
			uint64_t r = next();
			memcpy(data + k, &r, 8);
		}
		struct mapi_propvals av = {0};
		mapi_propvals_set_long(pool, &av, PR_ATTACH_METHOD, 1);
		mapi_propvals_set_str(pool, &av, PR_ATTACH_LONG_FILENAME, "document.pdf");
		mapi_propvals_set_str(pool, &av, PR_ATTACH_EXTENSION, ".pdf");
		mapi_propvals_set_str(pool, &av, PR_ATTACH_MIME_TAG, "application/pdf");
		mapi_propvals_set_bin(pool, &av, PR_ATTACH_DATA_BIN, data, (uint32_t)sz);
		CHECK(store_attach_set_props(att, &av, NULL), "attach props");
		CHECK(store_attach_save(att), "attach save");
		store_attach_close(&att);
		attach_bytes += sz;
		n_attach++;
	}
	CHECK(store_message_save(msg, STORE_SAVE_DELIVERY), "save");
	store_message_close(&msg);
}

static uint32_t columns[] = {PR_MID, PR_SUBJECT, PR_SENDER_NAME, PR_MESSAGE_DELIVERY_TIME,
	PR_MESSAGE_SIZE, PR_MESSAGE_FLAGS, PR_IMPORTANCE, PR_HASATTACH};

/* Open the mailbox and the Inbox, sort, read 50 rows; returns ms. */
static double first_page(struct store *store, const struct guid *g, struct mapi_restriction *res,
	uint32_t *count_r)
{
	pool_t *pool = pool_new("page", 0);
	double t = now_ms();
	struct store_logon logon = {.principal = "alice@example.test"};
	struct store_mailbox *mb;
	CHECK(store_mailbox_open(store, g, &logon, &mb), "open");
	mapi_id_t inbox = store_mailbox_special_fid(mb, STORE_SPECIAL_INBOX);
	struct store_table *tb;
	CHECK(store_table_open_contents(mb, inbox, false, &tb), "table");
	struct mapi_tags ct = {sizeof(columns) / sizeof(columns[0]), columns};
	CHECK(store_table_set_columns(tb, &ct), "columns");
	struct mapi_sort s = {PR_MESSAGE_DELIVERY_TIME, TABLE_SORT_DESCEND};
	struct mapi_sort_order so = {1, 0, 0, &s};
	CHECK(store_table_sort(tb, &so), "sort");
	if (res != NULL) {
		CHECK(store_table_restrict(tb, res), "restrict");
		CHECK(store_table_row_count(tb, count_r), "count");
	}
	struct store_rows rows;
	CHECK(store_table_query_rows(tb, 50, true, 0, pool, &rows, NULL), "query");
	double ms = now_ms() - t;
	if (rows.count != 50)
		die("first page rows", rows.count);
	store_table_close(&tb);
	store_mailbox_close(&mb);
	pool_free(&pool);
	return ms;
}

int main(int argc, char **argv)
{
	uint32_t n = 100000;
	const char *dir = NULL;
	bool keep = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--messages") == 0 && i + 1 < argc)
			n = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--keep") == 0)
			keep = true;
		else {
			fprintf(stderr, "usage: bench-store [--messages N] [--dir DIR] [--keep]\n");
			return 2;
		}
	}
	if (n < 1000)
		n = 1000;
	char tmpl[] = "/tmp/hermod-store-bench-XXXXXX";
	if (dir == NULL && (dir = mkdtemp(tmpl)) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	struct store_settings set;
	store_settings_default(&set);
	set.data_dir = dir;
	set.default_durability = STORE_DURABILITY_FULL;
	struct store *store;
	const char *error;
	if (store_new(&set, &store, &error) < 0) {
		fprintf(stderr, "bench-store: %s\n", error);
		return 1;
	}
	struct guid g;
	guid_generate(&g);
	CHECK(store_mailbox_create(store, &g, "alice@example.test", "Alice", &error), "mailbox");
	struct store_logon logon = {.principal = "alice@example.test"};
	struct store_mailbox *mb;
	CHECK(store_mailbox_open(store, &g, &logon, &mb), "open");
	mapi_id_t inbox = store_mailbox_special_fid(mb, STORE_SPECIAL_INBOX);

	/* Inserts, in batches of 1,000 (one fsync'd commit each). */
	pool_t *pool = pool_new("bench", 0);
	double t0 = now_ms(), c0 = cpu_s();
	for (uint32_t i = 0; i < n; i += 1000) {
		struct store_batch *b = store_batch_new(store, getenv("BENCH_NORMAL") ? STORE_DURABILITY_NORMAL : STORE_DURABILITY_FULL);
		CHECK(store_batch_join(b, mb), "join");
		for (uint32_t k = i; k < i + 1000 && k < n; k++) {
			make_message(mb, inbox, k, pool);
			pool_clear(pool);
		}
		CHECK(store_batch_commit(&b), "commit");
	}
	double insert_ms = now_ms() - t0, insert_cpu = cpu_s() - c0;
	double insert_per_s = (double)n * 1000.0 / insert_ms;
	uint64_t size = 0;
	store_mailbox_size(mb, &size, NULL, NULL);
	printf("store: built a mailbox of %u messages (%llu attachments, %.1f MiB of them), %.1f MiB "
	       "of messages\n",
		n, (unsigned long long)n_attach, (double)attach_bytes / 1048576.0,
		(double)size / 1048576.0);
	printf("store: inserted %u messages in %.1f s in batches of 1000 (durability full): %.0f "
	       "messages/s (%.1f s of CPU: %.0f messages per CPU second)\n",
		n, insert_ms / 1000.0, insert_per_s, insert_cpu, (double)n / insert_cpu);

	/* The state 100 changes before the end. */
	uint64_t state;
	CHECK(store_changes_state(mb, &state), "state");
	struct store_table *tb;
	CHECK(store_table_open_contents(mb, inbox, false, &tb), "table");
	struct store_rows rows;
	CHECK(store_table_query_rows(tb, 100, true, 0, pool, &rows, NULL), "query");
	store_table_close(&tb);
	uint64_t ids[100];
	memcpy(ids, rows.ids, sizeof(ids));
	for (int k = 0; k < 40; k++) /* read-state changes */
		CHECK(store_messages_set_read(mb, inbox, &ids[k], 1, k % 4 == 0, NULL), "read");
	for (int k = 40; k < 70; k++) { /* edits */
		struct store_message *msg;
		CHECK(store_message_open(mb, inbox, ids[k], STORE_OPEN_READ_WRITE, &msg), "open msg");
		struct mapi_propvals v = {0};
		mapi_propvals_set_str(pool, &v, PR_SUBJECT, "edited");
		CHECK(store_message_set_props(msg, &v, NULL), "edit");
		CHECK(store_message_save(msg, 0), "save edit");
		store_message_close(&msg);
	}
	for (int k = 70; k < 90; k++) /* deletions */
		CHECK(store_messages_delete(mb, inbox, &ids[k], 1, NULL), "delete");
	for (uint32_t k = 0; k < 10; k++) /* new mail */
		make_message(mb, inbox, n + k, pool);
	pool_clear(pool);
	double ch[7];
	struct store_changes c;
	for (int k = 0; k < 7; k++) {
		double t = now_ms();
		CHECK(store_changes_folder(mb, inbox, state, STORE_SYNC_NORMAL | STORE_SYNC_READ, 0,
			      pool, &c),
			"changes");
		ch[k] = now_ms() - t;
		pool_clear(pool);
	}
	if (c.n_changed != 40 || c.n_deleted != 20 || c.n_read != 40)
		die("changes counts", c.n_changed * 10000 + c.n_deleted * 100 + c.n_read);
	double changes_ms = median(ch, 7);
	printf("store: changes since a state 100 changes old (%u changed, %u read, %u deleted): "
	       "%.2f ms\n",
		c.n_changed, c.n_read, c.n_deleted, changes_ms);
	store_mailbox_close(&mb);

	/* First page, through a fresh store (no open mailbox, no cached
	 * statements). */
	store_free(&store);
	if (store_new(&set, &store, &error) < 0) {
		fprintf(stderr, "bench-store: %s\n", error);
		return 1;
	}
	double fp[7];
	for (int k = 0; k < 7; k++)
		fp[k] = first_page(store, &g, NULL, NULL);
	double first_ms = fp[0];
	double first_med = median(fp, 7);
	printf("store: open the mailbox and the Inbox, first 50 rows by delivery time descending: "
	       "%.2f ms (first), %.2f ms (median of 7)\n",
		first_ms, first_med);

	char needle[] = "needle";
	struct mapi_restriction r = {.type = RES_CONTENT};
	r.content.fuzzy_level = FL_SUBSTRING | FL_IGNORECASE;
	r.content.proptag = PR_SUBJECT;
	r.content.prop.tag = PR_SUBJECT;
	r.content.prop.v.str = needle;
	double rs[5];
	uint32_t matches = 0;
	for (int k = 0; k < 5; k++)
		rs[k] = first_page(store, &g, &r, &matches);
	double restrict_ms = median(rs, 5);
	printf("store: subject substring restriction over %u messages (%u matches, count and first "
	       "page): %.1f ms\n",
		n, matches, restrict_ms);
	printf("store: insert_per_s=%.0f first_page_ms=%.2f restrict_ms=%.1f changes_ms=%.2f\n",
		insert_per_s, first_med, restrict_ms, changes_ms);
	store_free(&store);
	pool_free(&pool);
	if (!keep && strncmp(dir, "/tmp/hermod-store-bench-", 24) == 0) {
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "bench-store: could not remove %s\n", dir);
	}
	return 0;
}
