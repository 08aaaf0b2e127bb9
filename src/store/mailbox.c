/* The store, mailboxes, transactions, batches and ID allocation.
 *
 * Concurrency: one struct mailbox per open mailbox database, shared by
 * every handle. Writes are serialized by the mailbox's write lock and run
 * on its one write connection (WAL allows readers meanwhile); reads take a
 * connection from a small pool, each read in its own snapshot. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/hm_time.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "store/store_int.h"

void store_settings_default(struct store_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->data_dir = "./var";
	s->max_value_size = 64ull << 20;
	s->max_props_per_object = 4096;
	s->max_recipients = 10000;
	s->max_attachments = 1000;
	s->max_embed_depth = 10;
	s->max_restriction_depth = 32;
	s->max_mv_count = 65536;
	s->blob_threshold = 64 << 10;
	s->max_inline_get = 1 << 20;
	s->read_connections = 4;
	s->tombstone_days = 60;
	s->default_durability = STORE_DURABILITY_FULL;
}

const struct store_settings *store_get_settings(const struct store *store)
{
	return &store->set;
}

uint64_t store_now_filetime(void)
{
	return time_filetime_now();
}

static int mkdir_p(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);
	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] == '/' || tmp[i] == '\0') {
			char c = tmp[i];
			tmp[i] = '\0';
			if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
				return -1;
			tmp[i] = c;
		}
	}
	return 0;
}

void store_process_init(void)
{
	/* SQLITE_MISUSE after sqlite3_initialize: nothing to undo then. */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int store_new(const struct store_settings *s, struct store **store_r, const char **error_r)
{
	if (sqlite3_threadsafe() == 0) {
		*error_r = "SQLite was built without thread support";
		return -1;
	}
	struct store *store = xcalloc(1, sizeof(*store));
	store->blob_dir_fd = -1;
	store->set = *s;
	store->data_dir = xstrdup(s->data_dir);
	store->set.data_dir = store->data_dir;
	store->mbox_dir = xasprintf("%s/mailboxes", s->data_dir);
	store->blob_dir = xasprintf("%s/blobs", s->data_dir);
	store->blob_tmp_dir = xasprintf("%s/blobs/tmp", s->data_dir);
	if (mkdir_p(store->mbox_dir) < 0 || mkdir_p(store->blob_tmp_dir) < 0) {
		static __thread char msg[512];
		snprintf(msg, sizeof(msg), "%s: %s", s->data_dir, strerror(errno));
		*error_r = msg;
		store_free(&store);
		return -1;
	}
	store->blob_sync_dirs = !store_blob_fs_orders_entries(store->blob_dir);
	store->blob_dir_fd = open(store->blob_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (store->blob_dir_fd < 0) {
		static __thread char msg[512];
		snprintf(msg, sizeof(msg), "%s: %s", store->blob_dir, strerror(errno));
		*error_r = msg;
		store_free(&store);
		return -1;
	}
	pthread_mutex_init(&store->lock, NULL);
	pthread_mutex_init(&store->blob_lock, NULL);
	pthread_mutex_init(&store->blob_sync_lock, NULL);
	array_init(&store->blob_pending, NULL);
	store->blob_inflight = hash_new(16);
	store->mailboxes = hash_new(64);
	*store_r = store;
	return 0;
}

void store_free(struct store **sp)
{
	struct store *store = *sp;
	if (store == NULL)
		return;
	*sp = NULL;
	if (store->mailboxes != NULL) {
		if (hash_count(store->mailboxes) > 0) {
			/* A caller's bug: handles or subscriptions still open.
			 * Leave their mailboxes (and the store) alive rather than
			 * free memory they use. */
			log_error(NULL, "store: freed with %zu mailboxes still open",
				hash_count(store->mailboxes));
			return;
		}
		hash_free(&store->mailboxes);
		pthread_mutex_destroy(&store->lock);
		/* Nothing committed refers to unsynced blobs; sync anyway. */
		store_blob_sync(store);
		array_free(&store->blob_pending);
		hash_free(&store->blob_inflight);
		pthread_mutex_destroy(&store->blob_lock);
		pthread_mutex_destroy(&store->blob_sync_lock);
	}
	if (store->blob_dir_fd >= 0)
		close(store->blob_dir_fd);
	free(store->mbox_dir);
	free(store->blob_dir);
	free(store->blob_tmp_dir);
	free(store->data_dir);
	free(store);
}

char *store_mailbox_path(struct store *store, const struct guid *g)
{
	char gs[GUID_STR_LEN + 1];
	guid_format(g, gs);
	return xasprintf("%s/%s.db", store->mbox_dir, gs);
}

int store_mailbox_exists(struct store *store, const struct guid *g)
{
	char *path = store_mailbox_path(store, g);
	int r = access(path, F_OK) == 0;
	free(path);
	return r;
}

/* --- Loading a mailbox --- */

static void mailbox_free(struct mailbox *m)
{
	for (size_t i = 0; i < m->idle.n; i++)
		store_db_close(&m->idle.v[i]);
	array_free(&m->idle);
	array_free(&m->pending);
	pool_free(&m->pending_pool);
	store_db_close(&m->w);
	store_notify_hub_free(&m->hub);
	pthread_mutex_destroy(&m->wlock);
	pthread_mutex_destroy(&m->rlock);
	free(m->owner);
	free(m->path);
	free(m);
}

/* Reads what a mailbox keeps in memory. */
static uint32_t mailbox_read_meta(struct mailbox *m)
{
	struct dbconn *c = m->w;
	sqlite3_stmt *st = store_db_prep(c, "SELECT key, value FROM meta");
	int rc;
	int have = 0;
	int64_t version = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(st, 0);
		if (strcmp(key, "replica_guid") == 0 && sqlite3_column_bytes(st, 1) == 16) {
			memcpy(m->replica_guid.b, sqlite3_column_blob(st, 1), 16);
			have |= 1;
		} else if (strcmp(key, "owner") == 0) {
			free(m->owner);
			m->owner = xstrdup((const char *)sqlite3_column_text(st, 1));
			have |= 2;
		} else if (strcmp(key, "id_hwm") == 0) {
			m->gc_next = m->gc_limit = (uint64_t)sqlite3_column_int64(st, 1);
			have |= 4;
		} else if (strcmp(key, "last_cn") == 0) {
			m->last_cn = (uint64_t)sqlite3_column_int64(st, 1);
		} else if (strcmp(key, "schema_version") == 0) {
			version = sqlite3_column_int64(st, 1);
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_ec(c, rc, "read meta");
	if (have != 7 || version != STORE_SCHEMA_VERSION)
		return ecCorruptData;
	st = store_db_prep(c, "SELECT which, fid FROM special_folders");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t which = sqlite3_column_int64(st, 0);
		if (which >= 0 && which < STORE_SPECIAL_COUNT)
			m->special[which] = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ecSuccess : store_db_ec(c, rc, "read special folders");
}

static uint32_t mailbox_load(struct store *store, const struct guid *g, const char *path,
	bool create, struct mailbox **m_r)
{
	const char *error;
	struct dbconn *w = store_db_open(path, create, &error);
	if (w == NULL) {
		if (!create && access(path, F_OK) != 0)
			return ecNotFound;
		log_error(NULL, "store: %s", error);
		return ecCorruptData;
	}
	struct mailbox *m = xcalloc(1, sizeof(*m));
	m->store = store;
	m->guid = *g;
	m->path = xstrdup(path);
	m->w = w;
	pthread_mutex_init(&m->wlock, NULL);
	pthread_mutex_init(&m->rlock, NULL);
	array_init(&m->idle, NULL);
	array_init(&m->pending, NULL);
	m->pending_pool = pool_new("store events", 0);
	m->hub = store_notify_hub_new();
	m->data_version = -1;
	if (!create) {
		uint32_t ec = store_db_migrate(m->w);
		if (ec == ecSuccess)
			ec = mailbox_read_meta(m);
		if (ec != ecSuccess) {
			log_error(NULL, "store: %s: not a readable mailbox", path);
			mailbox_free(m);
			return ec;
		}
	}
	*m_r = m;
	return ecSuccess;
}

/* Takes a reference on the shared mailbox, loading it if needed. */
static uint32_t mailbox_get(struct store *store, const struct guid *g, struct mailbox **m_r)
{
	pthread_mutex_lock(&store->lock);
	struct mailbox *m = hash_get(store->mailboxes, g->b, 16, NULL);
	if (m != NULL) {
		m->refs++;
		pthread_mutex_unlock(&store->lock);
		*m_r = m;
		return ecSuccess;
	}
	/* Loading under the store lock keeps two threads from loading the
	 * same mailbox; opening a database is quick. */
	char *path = store_mailbox_path(store, g);
	uint32_t ec = mailbox_load(store, g, path, false, &m);
	free(path);
	if (ec == ecSuccess) {
		m->refs = 1;
		hash_put(store->mailboxes, g->b, 16, m, NULL);
		*m_r = m;
	}
	pthread_mutex_unlock(&store->lock);
	return ec;
}

static void mailbox_put(struct mailbox *m)
{
	struct store *store = m->store;
	pthread_mutex_lock(&store->lock);
	if (--m->refs == 0) {
		hash_del(store->mailboxes, m->guid.b, 16, NULL);
		pthread_mutex_unlock(&store->lock);
		mailbox_free(m);
		return;
	}
	pthread_mutex_unlock(&store->lock);
}

/* Exported for notify.c: subscriptions hold a mailbox reference. */
void store_mailbox_ref(struct mailbox *m);
void store_mailbox_unref(struct mailbox *m);
void store_mailbox_ref(struct mailbox *m)
{
	pthread_mutex_lock(&m->store->lock);
	m->refs++;
	pthread_mutex_unlock(&m->store->lock);
}
void store_mailbox_unref(struct mailbox *m)
{
	mailbox_put(m);
}

/* --- Handles --- */

uint32_t store_mailbox_open(struct store *store, const struct guid *g,
	const struct store_logon *logon, struct store_mailbox **mb_r)
{
	struct mailbox *m;
	uint32_t ec = mailbox_get(store, g, &m);
	if (ec != ecSuccess)
		return ec;
	struct store_mailbox *mb = xcalloc(1, sizeof(*mb));
	mb->store = store;
	mb->m = m;
	mb->principal = logon->principal != NULL ? xstrdup(logon->principal) : NULL;
	mb->logon_flags = logon->flags;
	mb->quota_hard = logon->quota_hard;
	mb->quota_warn = logon->quota_warn;
	mb->owner = (logon->flags & STORE_LOGON_SYSTEM) != 0 ||
		(mb->principal != NULL && strcmp(mb->principal, m->owner) == 0);
	*mb_r = mb;
	return ecSuccess;
}

void store_mailbox_close(struct store_mailbox **mbp)
{
	struct store_mailbox *mb = *mbp;
	if (mb == NULL)
		return;
	*mbp = NULL;
	HERMOD_ASSERT(mb->batch == NULL);
	mailbox_put(mb->m);
	free(mb->principal);
	free(mb);
}

const struct guid *store_mailbox_guid(const struct store_mailbox *mb)
{
	return &mb->m->guid;
}

const struct guid *store_mailbox_replica_guid(const struct store_mailbox *mb)
{
	return &mb->m->replica_guid;
}

bool store_mailbox_is_owner(const struct store_mailbox *mb)
{
	return mb->owner;
}

struct store *store_mailbox_store(const struct store_mailbox *mb)
{
	return mb->store;
}

uint64_t store_mailbox_commits(const struct store_mailbox *mb)
{
	return atomic_load(&mb->m->commits);
}

mapi_id_t store_mailbox_special_fid(const struct store_mailbox *mb, enum store_special which)
{
	if ((int)which < 0 || which >= STORE_SPECIAL_COUNT || mb->m->special[which] == 0)
		return 0;
	return store_id(mb->m->special[which]);
}

/* --- Transactions --- */

static void set_sync(struct dbconn *c, enum store_durability d)
{
	int want = d == STORE_DURABILITY_NORMAL ? 1 : 2;
	if (c->sync == want)
		return;
	store_db_exec(c, want == 1 ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL");
	c->sync = want;
}

static enum store_durability effective(struct store *store, enum store_durability d)
{
	if (d == STORE_DURABILITY_DEFAULT)
		d = store->set.default_durability;
	return d == STORE_DURABILITY_DEFAULT ? STORE_DURABILITY_FULL : d;
}

/* Called with the write lock held, outside any transaction: opens one and
 * notices whether another process changed the database (then the
 * in-memory counters are reloaded). */
static uint32_t txn_open(struct mailbox *m, enum store_durability d)
{
	set_sync(m->w, effective(m->store, d));
	uint32_t ec = store_db_exec(m->w, "BEGIN IMMEDIATE");
	if (ec != ecSuccess)
		return ec;
	sqlite3_stmt *st = store_db_prep(m->w, "PRAGMA data_version");
	int64_t dv = -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		dv = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (dv != m->data_version) {
		int64_t v;
		if (store_meta_get_int(m->w, "id_hwm", &v) == ecSuccess && (uint64_t)v > m->gc_next)
			m->gc_next = m->gc_limit = (uint64_t)v;
		if (store_meta_get_int(m->w, "last_cn", &v) == ecSuccess)
			m->last_cn = (uint64_t)v;
		m->data_version = dv;
	}
	m->last_cn_saved = m->last_cn;
	m->size_loaded = m->size_dirty = false;
	return ecSuccess;
}

static void txn_rollback(struct mailbox *m)
{
	store_db_exec(m->w, "ROLLBACK");
	/* Reserved ranges may have been rolled back: reserve again next time. */
	m->gc_limit = m->gc_next;
	array_clear(&m->pending);
	pool_clear(m->pending_pool);
	int64_t v;
	if (store_meta_get_int(m->w, "last_cn", &v) == ecSuccess)
		m->last_cn = (uint64_t)v;
	m->size_loaded = m->size_dirty = false;
}

/* The counters kept in memory during a transaction go to meta once, just
 * before the commit. */
static uint32_t txn_flush_meta(struct mailbox *m)
{
	uint32_t ec = ecSuccess;
	if (m->last_cn != m->last_cn_saved)
		ec = store_meta_set_int(m->w, "last_cn", (int64_t)m->last_cn);
	if (ec == ecSuccess && m->size_dirty)
		ec = store_meta_set_int(m->w, "size", m->size);
	return ec;
}

/* Commits; on success the events to publish are moved to *evs_r (heap,
 * caller frees) and the data_version remembered. */
static uint32_t txn_commit(struct mailbox *m, struct store_event **evs_r, size_t *n_r)
{
	/* Blobs first: a committed row never names a blob a crash lost. */
	uint32_t ec = txn_flush_meta(m);
	if (ec == ecSuccess)
		ec = store_blob_sync(m->store);
	if (ec == ecSuccess)
		ec = store_db_exec(m->w, "COMMIT");
	if (ec != ecSuccess) {
		txn_rollback(m);
		return ec;
	}
	/* Counted only now that the commit is visible: a reader that sees
	 * the new count also sees the change (store_mailbox_commits). */
	atomic_fetch_add(&m->commits, 1);
	sqlite3_stmt *st = store_db_prep(m->w, "PRAGMA data_version");
	if (sqlite3_step(st) == SQLITE_ROW)
		m->data_version = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	m->last_cn_saved = m->last_cn;
	m->size_dirty = false;
	*n_r = m->pending.n;
	*evs_r = m->pending.n > 0 ? xmemdup(m->pending.v, m->pending.n * sizeof(*m->pending.v))
				  : NULL;
	array_clear(&m->pending);
	pool_clear(m->pending_pool);
	return ecSuccess;
}

static void publish(struct mailbox *m, struct store_event *evs, size_t n)
{
	if (n > 0)
		store_notify_publish(m->hub, evs, n);
	free(evs);
}

/* Commits and unlocks every mailbox the batch holds. */
static uint32_t batch_flush(struct store_batch *b)
{
	uint32_t first = ecSuccess;
	for (size_t i = 0; i < b->held.n; i++) {
		struct mailbox *m = b->held.v[i];
		struct store_event *evs = NULL;
		size_t n = 0;
		uint32_t ec = txn_commit(m, &evs, &n);
		atomic_store(&m->wbatch, NULL);
		pthread_mutex_unlock(&m->wlock);
		if (ec == ecSuccess)
			publish(m, evs, n);
		else if (first == ecSuccess)
			first = ec;
	}
	array_clear(&b->held);
	if (first != ecSuccess && b->error == ecSuccess)
		b->error = first;
	return first;
}

static void savepoint_marks(struct wtx *t)
{
	struct mailbox *m = t->mb->m;
	t->ev_mark = m->pending.n;
	t->last_cn_mark = m->last_cn;
	t->size_mark = m->size;
	t->size_loaded_mark = m->size_loaded;
	t->size_dirty_mark = m->size_dirty;
}

uint32_t store_wtx_begin(struct store_mailbox *mb, struct wtx *t)
{
	struct mailbox *m = mb->m;
	struct store_batch *b = mb->batch;
	memset(t, 0, sizeof(*t));
	t->mb = mb;
	t->c = m->w;
	if (b != NULL && atomic_load(&m->wbatch) == b) {
		/* The batch's transaction is open: a savepoint inside it. */
		savepoint_marks(t);
		return store_db_exec(m->w, "SAVEPOINT op");
	}
	if (b != NULL) {
		/* Never wait for a lock while holding others (deadlock): commit
		 * what the batch holds first. */
		if (b->held.n > 0 && pthread_mutex_trylock(&m->wlock) != 0) {
			batch_flush(b);
			pthread_mutex_lock(&m->wlock);
		} else if (b->held.n == 0) {
			pthread_mutex_lock(&m->wlock);
		}
		uint32_t ec = txn_open(m, b->durability);
		if (ec != ecSuccess) {
			pthread_mutex_unlock(&m->wlock);
			return ec;
		}
		atomic_store(&m->wbatch, b);
		array_push(&b->held, m);
		savepoint_marks(t);
		return store_db_exec(m->w, "SAVEPOINT op");
	}
	pthread_mutex_lock(&m->wlock);
	uint32_t ec = txn_open(m, STORE_DURABILITY_DEFAULT);
	if (ec != ecSuccess) {
		pthread_mutex_unlock(&m->wlock);
		return ec;
	}
	t->autocommit = true;
	t->ev_mark = 0;
	return ecSuccess;
}

uint32_t store_wtx_end(struct wtx *t, uint32_t ec)
{
	struct mailbox *m = t->mb->m;
	if (t->autocommit) {
		if (ec != ecSuccess) {
			txn_rollback(m);
			pthread_mutex_unlock(&m->wlock);
			return ec;
		}
		struct store_event *evs = NULL;
		size_t n = 0;
		ec = txn_commit(m, &evs, &n);
		pthread_mutex_unlock(&m->wlock);
		if (ec == ecSuccess)
			publish(m, evs, n);
		return ec;
	}
	if (ec != ecSuccess) {
		store_db_exec(m->w, "ROLLBACK TO op");
		m->gc_limit = m->gc_next;
		m->pending.n = t->ev_mark;
		/* The in-memory counters as they were before this write. */
		m->last_cn = t->last_cn_mark;
		m->size = t->size_mark;
		m->size_loaded = t->size_loaded_mark;
		m->size_dirty = t->size_dirty_mark;
	}
	store_db_exec(m->w, "RELEASE op");
	return ec;
}

uint32_t store_rtx_begin(struct store_mailbox *mb, struct rtx *t)
{
	struct mailbox *m = mb->m;
	t->mb = mb;
	if (mb->batch != NULL && atomic_load(&m->wbatch) == mb->batch) {
		t->c = m->w;
		t->pooled = false;
		return ecSuccess;
	}
	pthread_mutex_lock(&m->rlock);
	struct dbconn *c = NULL;
	if (m->idle.n > 0)
		c = m->idle.v[--m->idle.n];
	pthread_mutex_unlock(&m->rlock);
	if (c == NULL) {
		const char *error;
		c = store_db_open(m->path, false, &error);
		if (c == NULL) {
			log_error(NULL, "store: %s", error);
			return ecError;
		}
	}
	t->c = c;
	t->pooled = true;
	uint32_t ec = store_db_exec(c, "BEGIN");
	if (ec != ecSuccess) {
		store_db_close(&t->c);
		return ec;
	}
	return ecSuccess;
}

void store_rtx_end(struct rtx *t)
{
	if (!t->pooled || t->c == NULL)
		return;
	struct mailbox *m = t->mb->m;
	store_db_exec(t->c, "COMMIT");
	pthread_mutex_lock(&m->rlock);
	if (m->idle.n < m->store->set.read_connections) {
		array_push(&m->idle, t->c);
		t->c = NULL;
	}
	pthread_mutex_unlock(&m->rlock);
	store_db_close(&t->c);
}

uint32_t store_alloc_ids(struct wtx *t, uint32_t n, uint64_t *first_r)
{
	struct mailbox *m = t->mb->m;
	if (m->gc_next == 0)
		m->gc_next = 1;
	if (m->gc_next + n > STORE_GLOBCNT_MAX)
		return ecNotEnoughResources;
	if (m->gc_next + n > m->gc_limit) {
		/* MS-OXCDATA 2.2.1.1: a counter value is never reused; the
		 * persisted high-water mark moves in the same transaction as the
		 * first use of a new range, so a crash cannot rewind it. */
		uint64_t limit = m->gc_next + n + STORE_ID_RANGE;
		if (limit > STORE_GLOBCNT_MAX + 1)
			limit = STORE_GLOBCNT_MAX + 1;
		uint32_t ec = store_meta_set_int(t->c, "id_hwm", (int64_t)limit);
		if (ec != ecSuccess)
			return ec;
		m->gc_limit = limit;
	}
	*first_r = m->gc_next;
	m->gc_next += n;
	return ecSuccess;
}

uint32_t store_alloc_cn(struct wtx *t, uint64_t *cn_r)
{
	uint32_t ec = store_alloc_ids(t, 1, cn_r);
	if (ec == ecSuccess)
		t->mb->m->last_cn = *cn_r;
	return ec;
}

void store_event_queue(struct wtx *t, const struct store_event *ev)
{
	array_push(&t->mb->m->pending, *ev);
}

/* --- Batches --- */

struct store_batch *store_batch_new(struct store *store, enum store_durability durability)
{
	struct store_batch *b = xcalloc(1, sizeof(*b));
	b->store = store;
	b->durability = durability;
	array_init(&b->held, NULL);
	array_init(&b->members, NULL);
	return b;
}

uint32_t store_batch_join(struct store_batch *b, struct store_mailbox *mb)
{
	if (mb->batch == b)
		return ecSuccess;
	if (mb->batch != NULL)
		return ecInvalidParam;
	mb->batch = b;
	array_push(&b->members, mb);
	return ecSuccess;
}

static void batch_detach(struct store_batch *b)
{
	for (size_t i = 0; i < b->members.n; i++)
		b->members.v[i]->batch = NULL;
	array_free(&b->members);
	array_free(&b->held);
	free(b);
}

uint32_t store_batch_commit(struct store_batch **bp)
{
	struct store_batch *b = *bp;
	if (b == NULL)
		return ecSuccess;
	*bp = NULL;
	batch_flush(b);
	uint32_t ec = b->error;
	batch_detach(b);
	return ec;
}

void store_batch_abort(struct store_batch **bp)
{
	struct store_batch *b = *bp;
	if (b == NULL)
		return;
	*bp = NULL;
	for (size_t i = 0; i < b->held.n; i++) {
		struct mailbox *m = b->held.v[i];
		txn_rollback(m);
		atomic_store(&m->wbatch, NULL);
		pthread_mutex_unlock(&m->wlock);
	}
	array_clear(&b->held);
	batch_detach(b);
}

/* --- Creation --- */

uint32_t store_special_create_all(struct store_mailbox *mb, struct wtx *t, const char *owner_name);

uint32_t store_mailbox_create(struct store *store, const struct guid *g, const char *owner,
	const char *display_name, const char **error_r)
{
	if (owner == NULL || owner[0] == '\0' || guid_is_null(g)) {
		store_ec_error(error_r, "a mailbox needs a GUID and an owner");
		return ecInvalidParam;
	}
	char *path = store_mailbox_path(store, g);
	if (access(path, F_OK) == 0) {
		free(path);
		store_ec_error(error_r, "the mailbox exists");
		return ecDuplicateName;
	}
	/* Built under a temporary name and renamed into place when complete:
	 * a crash leaves no half-made mailbox under the real name. */
	char *tmp = xasprintf("%s.new", path);
	unlink(tmp);
	char *wal = xasprintf("%s-wal", tmp), *shm = xasprintf("%s-shm", tmp);
	unlink(wal);
	unlink(shm);
	/* Mail is private: the database (and the WAL and shared-memory files
	 * SQLite creates with the same mode) readable by the server only. */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	struct mailbox *m = NULL;
	uint32_t ec = mailbox_load(store, g, tmp, true, &m);
	if (ec != ecSuccess) {
		store_ec_error(error_r, "cannot create the mailbox database");
		goto out;
	}
	struct guid replica;
	guid_generate(&replica);
	ec = store_db_exec(m->w, "BEGIN IMMEDIATE");
	if (ec == ecSuccess)
		ec = store_db_create_schema(m->w);
	if (ec == ecSuccess)
		ec = store_meta_set_blob(m->w, "mailbox_guid", g->b, 16);
	if (ec == ecSuccess)
		ec = store_meta_set_blob(m->w, "replica_guid", replica.b, 16);
	if (ec == ecSuccess)
		ec = store_meta_set_text(m->w, "owner", owner);
	if (ec == ecSuccess)
		ec = store_meta_set_text(m->w, "display_name",
			display_name != NULL ? display_name : owner);
	if (ec == ecSuccess)
		ec = store_meta_set_int(m->w, "created", (int64_t)store_now_filetime());
	if (ec == ecSuccess)
		ec = store_meta_set_int(m->w, "id_hwm", 1);
	if (ec == ecSuccess)
		ec = store_meta_set_int(m->w, "last_cn", 0);
	if (ec == ecSuccess)
		ec = store_meta_set_int(m->w, "size", 0);
	if (ec == ecSuccess)
		ec = store_db_exec(m->w, "COMMIT");
	else
		store_db_exec(m->w, "ROLLBACK");
	if (ec == ecSuccess)
		ec = mailbox_read_meta(m);
	if (ec != ecSuccess) {
		store_ec_error(error_r, "cannot write the mailbox schema");
		goto out;
	}
	m->refs = 1;
	struct store_mailbox mb = {
		.store = store, .m = m, .logon_flags = STORE_LOGON_SYSTEM, .owner = true};
	struct wtx t;
	ec = store_wtx_begin(&mb, &t);
	if (ec == ecSuccess)
		ec = store_wtx_end(&t, store_special_create_all(&mb, &t,
					       display_name != NULL ? display_name : owner));
	if (ec != ecSuccess) {
		store_ec_error(error_r, "cannot create the special folders");
		goto out;
	}
	/* Closing the last connection checkpoints the WAL into the file. */
	store_db_exec(m->w, "PRAGMA wal_checkpoint(TRUNCATE)");
	mailbox_free(m);
	m = NULL;
	if (rename(tmp, path) < 0) {
		store_ec_error(error_r, "cannot rename the new mailbox into place");
		ec = ecError;
		goto out;
	}
	int dfd = open(store->mbox_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
out:
	if (m != NULL)
		mailbox_free(m);
	if (ec != ecSuccess) {
		unlink(tmp);
		unlink(wal);
		unlink(shm);
	}
	free(wal);
	free(shm);
	free(tmp);
	free(path);
	return ec;
}

uint32_t store_mailbox_destroy(struct store *store, const struct guid *g)
{
	pthread_mutex_lock(&store->lock);
	bool open = hash_get(store->mailboxes, g->b, 16, NULL) != NULL;
	pthread_mutex_unlock(&store->lock);
	if (open)
		return ecBusy;
	char *path = store_mailbox_path(store, g);
	uint32_t ec = ecSuccess;
	if (unlink(path) < 0)
		ec = errno == ENOENT ? ecNotFound : ecError;
	char *p2 = xasprintf("%s-wal", path);
	unlink(p2);
	free(p2);
	p2 = xasprintf("%s-shm", path);
	unlink(p2);
	free(p2);
	free(path);
	return ec;
}

void store_ec_error(const char **error_r, const char *msg)
{
	if (error_r != NULL)
		*error_r = msg;
}

uint32_t store_mailbox_size(struct store_mailbox *mb, uint64_t *size_r, bool *over_warn_r,
	bool *over_hard_r)
{
	struct rtx t;
	uint32_t ec = store_rtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	int64_t v = 0;
	ec = store_meta_get_int(t.c, "size", &v);
	store_rtx_end(&t);
	if (ec != ecSuccess)
		return ec;
	*size_r = (uint64_t)v;
	if (over_warn_r != NULL)
		*over_warn_r = mb->quota_warn > 0 && (uint64_t)v > mb->quota_warn;
	if (over_hard_r != NULL)
		*over_hard_r = mb->quota_hard > 0 && (uint64_t)v > mb->quota_hard;
	return ecSuccess;
}
