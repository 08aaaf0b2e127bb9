/* The persistent outbound queue and its runner (transport/queue.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "transport/queue.h"
#include "transport/relay.h"
#include "transport/transport_int.h"

/* How often an idle runner looks at the database (a `hermod queue flush`
 * from another process is seen within this). */
#define QUEUE_POLL_MS 2000
/* Leftover content files without a row are removed after this. */
#define ORPHAN_AGE_S 3600

struct transport_queue {
	struct transport *t;
	char *dir;      /* data_dir/queue */
	sqlite3 *db;    /* guarded by mtx */
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	bool stopping;
	bool wake;
	pthread_t *threads;
	unsigned nthreads;
};

static const char queue_schema[] =
	"CREATE TABLE IF NOT EXISTS messages("
	" id TEXT PRIMARY KEY, mail_from TEXT NOT NULL, envid TEXT,"
	" ret_hdrs INTEGER NOT NULL DEFAULT 0, smtputf8 INTEGER NOT NULL DEFAULT 0,"
	" body_8bit INTEGER NOT NULL DEFAULT 0, size INTEGER NOT NULL,"
	" created INTEGER NOT NULL, received_from TEXT, is_dsn INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS rcpts("
	" rid INTEGER PRIMARY KEY, msg_id TEXT NOT NULL, address TEXT NOT NULL, orcpt TEXT,"
	" notify INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt INTEGER NOT NULL, last_error TEXT NOT NULL DEFAULT '',"
	" leased INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS rcpts_due ON rcpts(leased, next_attempt);"
	"CREATE INDEX IF NOT EXISTS rcpts_msg ON rcpts(msg_id);";

static __thread char queue_errbuf[512];

static const char *qerr(const char *what, const char *detail)
{
	snprintf(queue_errbuf, sizeof(queue_errbuf), "%s: %s", what, detail);
	return queue_errbuf;
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static int mkdir_p(const char *path)
{
	if (mkdir(path, 0750) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int db_open(const char *data_dir, bool create, sqlite3 **db_r, char **dir_r,
	const char **error_r)
{
	char *dir = xasprintf("%s/queue", data_dir);
	if (create) {
		char *msg = xasprintf("%s/msg", dir), *tmp = xasprintf("%s/tmp", dir);
		int r = mkdir_p(dir) < 0 || mkdir_p(msg) < 0 || mkdir_p(tmp) < 0 ? -1 : 0;
		free(msg);
		free(tmp);
		if (r < 0) {
			*error_r = qerr("cannot create the queue directory", strerror(errno));
			free(dir);
			return -1;
		}
	}
	char *path = xasprintf("%s/queue.db", dir);
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	int rc = sqlite3_open_v2(path, &db, flags, NULL);
	free(path);
	if (rc != SQLITE_OK) {
		*error_r = qerr("cannot open the queue database",
			db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		free(dir);
		return -1;
	}
	sqlite3_busy_timeout(db, 10000);
	char *err = NULL;
	if (sqlite3_exec(db,
		    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;",
		    NULL, NULL, &err) != SQLITE_OK ||
		sqlite3_exec(db, queue_schema, NULL, NULL, &err) != SQLITE_OK) {
		*error_r = qerr("queue database", err ? err : "error");
		sqlite3_free(err);
		sqlite3_close(db);
		free(dir);
		return -1;
	}
	*db_r = db;
	if (dir_r != NULL)
		*dir_r = dir;
	else
		free(dir);
	return 0;
}

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Removes content files that no row names (a crash between writing the
 * file and committing its row). */
static void remove_orphans(struct transport_queue *q)
{
	char *mdir = xasprintf("%s/msg", q->dir);
	DIR *d = opendir(mdir);
	if (d == NULL) {
		free(mdir);
		return;
	}
	sqlite3_stmt *st = NULL;
	sqlite3_prepare_v2(q->db, "SELECT 1 FROM messages WHERE id = ?", -1, &st, NULL);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, e->d_name, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW)
			continue;
		char *p = xasprintf("%s/%s", mdir, e->d_name);
		struct stat sb;
		if (stat(p, &sb) == 0 && sb.st_mtime < now_s() - ORPHAN_AGE_S)
			unlink(p);
		free(p);
	}
	sqlite3_finalize(st);
	closedir(d);
	free(mdir);
}

int transport_queue_open(struct transport *t, const char **error_r)
{
	struct transport_queue *q = xcalloc(1, sizeof(*q));
	q->t = t;
	if (db_open(t->set.data_dir, true, &q->db, &q->dir, error_r) < 0) {
		free(q);
		return -1;
	}
	pthread_mutex_init(&q->mtx, NULL);
	pthread_cond_init(&q->cond, NULL);
	/* Leases are of the process that died: every recipient is free and
	 * due again (docs/transport.md). */
	exec(q->db, "UPDATE rcpts SET leased = 0 WHERE leased != 0");
	remove_orphans(q);
	t->queue = q;
	return 0;
}

void transport_queue_close(struct transport *t)
{
	struct transport_queue *q = t->queue;
	if (q == NULL)
		return;
	sqlite3_close(q->db);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->mtx);
	free(q->dir);
	free(q->threads);
	free(q);
	t->queue = NULL;
}

/* Writes the content file durably: tmp file, fsync, rename, fsync dir. */
static int content_write(struct transport_queue *q, const char *id, const void *data,
	size_t len)
{
	char *tmp = xasprintf("%s/tmp/%s", q->dir, id);
	char *dst = xasprintf("%s/msg/%s", q->dir, id);
	int rc = -1;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd >= 0) {
		const unsigned char *p = data;
		size_t left = len;
		while (left > 0) {
			ssize_t w = write(fd, p, left);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			p += w;
			left -= (size_t)w;
		}
		if (left == 0 && fsync(fd) == 0)
			rc = 0;
		close(fd);
	}
	if (rc == 0 && rename(tmp, dst) < 0)
		rc = -1;
	if (rc == 0) {
		char *mdir = xasprintf("%s/msg", q->dir);
		int dfd = open(mdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || fsync(dfd) < 0)
			rc = -1;
		if (dfd >= 0)
			close(dfd);
		free(mdir);
	}
	if (rc < 0) {
		log_error(NULL, "queue %s: cannot write %s: %s", id, dst, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	free(dst);
	return rc;
}

static int content_read(struct transport_queue *q, const char *id, struct buf *out)
{
	char *path = xasprintf("%s/msg/%s", q->dir, id);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return -1;
	for (;;) {
		unsigned char *p = buf_append_space(out, 65536);
		ssize_t r = read(fd, p, 65536);
		if (r < 0 && errno == EINTR) {
			buf_truncate(out, out->len - 65536);
			continue;
		}
		buf_truncate(out, out->len - 65536 + (r > 0 ? (size_t)r : 0));
		if (r <= 0) {
			close(fd);
			return r < 0 ? -1 : 0;
		}
	}
}

static void content_remove(struct transport_queue *q, const char *id)
{
	char *path = xasprintf("%s/msg/%s", q->dir, id);
	unlink(path);
	free(path);
}

/* Inserts the message row and its recipient rows inside a transaction
 * the caller holds. */
static int insert_message(struct transport_queue *q, const char *id, const char *mail_from,
	const char *envid, bool ret_hdrs, bool smtputf8, bool body_8bit, size_t size,
	const char *received_from, bool is_dsn)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(q->db,
		    "INSERT INTO messages(id, mail_from, envid, ret_hdrs, smtputf8, body_8bit, size,"
		    " created, received_from, is_dsn) VALUES(?,?,?,?,?,?,?,?,?,?)",
		    -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, mail_from, -1, SQLITE_STATIC);
	if (envid != NULL)
		sqlite3_bind_text(st, 3, envid, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, ret_hdrs);
	sqlite3_bind_int(st, 5, smtputf8);
	sqlite3_bind_int(st, 6, body_8bit);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)size);
	sqlite3_bind_int64(st, 8, now_s());
	if (received_from != NULL)
		sqlite3_bind_text(st, 9, received_from, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 10, is_dsn);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

static int insert_rcpt(struct transport_queue *q, const char *id, const char *address,
	const char *orcpt, unsigned notify)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(q->db,
		    "INSERT INTO rcpts(msg_id, address, orcpt, notify, next_attempt)"
		    " VALUES(?,?,?,?,?)",
		    -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, address, -1, SQLITE_STATIC);
	if (orcpt != NULL)
		sqlite3_bind_text(st, 3, orcpt, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, (int)notify);
	sqlite3_bind_int64(st, 5, now_s());
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

int transport_queue_add(struct transport *t, const char *id, const struct transport_envelope *env,
	const void *mime, size_t len, const enum transport_result *results)
{
	struct transport_queue *q = t->queue;
	(void)results;
	if (content_write(q, id, mime, len) < 0)
		return -1;
	pthread_mutex_lock(&q->mtx);
	int rc = exec(q->db, "BEGIN IMMEDIATE");
	if (rc == 0)
		rc = insert_message(q, id, env->mail_from, env->envid, env->ret_hdrs, env->smtputf8,
			env->body_8bit, len, env->received_from, false);
	for (size_t i = 0; rc == 0 && i < env->rcpt_count; i++)
		if (env->rcpts[i].kind == TRANSPORT_RCPT_REMOTE)
			rc = insert_rcpt(q, id, env->rcpts[i].address, env->rcpts[i].orcpt,
				env->rcpts[i].notify);
	if (rc == 0)
		rc = exec(q->db, "COMMIT");
	if (rc < 0) {
		log_error(NULL, "queue %s: cannot queue: %s", id, sqlite3_errmsg(q->db));
		exec(q->db, "ROLLBACK");
	}
	q->wake = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->mtx);
	if (rc < 0)
		content_remove(q, id);
	return rc;
}

/* Queues a DSN message to sender (inside no transaction; takes the lock). */
static int queue_dsn(struct transport_queue *q, const char *orig_id, const char *sender,
	const struct buf *dsn)
{
	char id[17];
	transport_new_id(q->t, id);
	if (content_write(q, id, dsn->data, dsn->len) < 0)
		return -1;
	pthread_mutex_lock(&q->mtx);
	int rc = exec(q->db, "BEGIN IMMEDIATE");
	if (rc == 0)
		rc = insert_message(q, id, "", NULL, false, false, true, dsn->len,
			orig_id, true);
	if (rc == 0)
		rc = insert_rcpt(q, id, sender, NULL, TRANSPORT_NOTIFY_NEVER);
	if (rc == 0)
		rc = exec(q->db, "COMMIT");
	if (rc < 0)
		exec(q->db, "ROLLBACK");
	q->wake = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->mtx);
	if (rc < 0)
		content_remove(q, id);
	else
		log_info(NULL, "queue %s: DSN %s to <%s> queued", orig_id, id, sender);
	return rc;
}

/* RFC 3461 4.1: failures are reported unless NOTIFY says otherwise; a
 * message from the null sender (a bounce itself) is never bounced. */
static bool wants_failure_dsn(const char *sender, unsigned notify)
{
	if (sender == NULL || sender[0] == '\0')
		return false;
	if (notify == 0)
		return true;
	return (notify & TRANSPORT_NOTIFY_FAILURE) != 0;
}

int transport_queue_bounce(struct transport *t, const char *id,
	const struct transport_envelope *env, const enum transport_result *results,
	const struct store_blob_ref *blob, const void *mime, size_t len)
{
	struct transport_queue *q = t->queue;
	pool_t *pool = pool_new("bounce", 0);
	struct dsn_rcpt *dr = pool_calloc(pool, env->rcpt_count + 1, sizeof(*dr));
	size_t n = 0;
	for (size_t i = 0; i < env->rcpt_count; i++) {
		if (results[i] != TRANSPORT_RESULT_BOUNCED || env->rcpts[i].kind == 0 ||
			!wants_failure_dsn(env->mail_from, env->rcpts[i].notify))
			continue;
		dr[n++] = (struct dsn_rcpt){
			.address = env->rcpts[i].address,
			.orcpt = env->rcpts[i].orcpt,
			.action = "failed",
			.status = "5.2.2",
			.diagnostic = "x-hermod; mailbox full or unavailable",
		};
	}
	int rc = 0;
	if (n > 0) {
		struct buf orig, dsn;
		buf_init(&orig, pool);
		buf_init(&dsn, pool);
		if (mime == NULL && blob != NULL) {
			if (store_blob_read(t->store, blob, 0, (size_t)blob->size, &orig) == ecSuccess) {
				mime = orig.data;
				len = orig.len;
			}
		}
		transport_dsn_write(&dsn, t->set.hostname, id, env->mail_from, env->envid, now_s(),
			dr, n, mime, mime ? len : 0, env->ret_hdrs, t->set.max_message_size);
		rc = queue_dsn(q, id, env->mail_from, &dsn);
	}
	pool_free(&pool);
	return rc;
}

/* --- The runner --- */

struct work_rcpt {
	int64_t rid;
	char *address;
	char *orcpt;
	unsigned notify;
	unsigned attempts;
};

struct work {
	pool_t *pool;
	char *id;
	char *mail_from;
	char *envid;
	bool ret_hdrs, smtputf8, body_8bit, is_dsn;
	int64_t created;
	char *domain;
	ARRAY(struct work_rcpt) rcpts;
};

static const char *domain_of(const char *address)
{
	const char *at = strrchr(address, '@');
	return at != NULL ? at + 1 : "";
}

/* Picks the next due recipient and every other due recipient of the same
 * message in the same domain, and leases them. 1 found, 0 none. Called
 * with the lock held. */
static int pick_work(struct transport_queue *q, struct work *w, int64_t *next_due_r)
{
	sqlite3_stmt *st;
	int64_t now = now_s();
	*next_due_r = 0;
	if (sqlite3_prepare_v2(q->db,
		    "SELECT rid, msg_id, address, next_attempt FROM rcpts WHERE leased = 0"
		    " ORDER BY next_attempt LIMIT 1",
		    -1, &st, NULL) != SQLITE_OK)
		return 0;
	int found = 0;
	char *msg_id = NULL;
	if (sqlite3_step(st) == SQLITE_ROW) {
		int64_t due = sqlite3_column_int64(st, 3);
		if (due <= now) {
			msg_id = pool_strdup(w->pool, (const char *)sqlite3_column_text(st, 1));
			w->domain = pool_strdup(w->pool, domain_of((const char *)sqlite3_column_text(st, 2)));
			found = 1;
		} else {
			*next_due_r = due;
		}
	}
	sqlite3_finalize(st);
	if (!found)
		return 0;
	w->id = msg_id;
	if (sqlite3_prepare_v2(q->db,
		    "SELECT mail_from, envid, ret_hdrs, smtputf8, body_8bit, created, is_dsn"
		    " FROM messages WHERE id = ?",
		    -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, msg_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		/* Rows of a deleted message: drop them. */
		sqlite3_prepare_v2(q->db, "DELETE FROM rcpts WHERE msg_id = ?", -1, &st, NULL);
		sqlite3_bind_text(st, 1, msg_id, -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_finalize(st);
		return 0;
	}
	w->mail_from = pool_strdup(w->pool, (const char *)sqlite3_column_text(st, 0));
	if (sqlite3_column_type(st, 1) != SQLITE_NULL)
		w->envid = pool_strdup(w->pool, (const char *)sqlite3_column_text(st, 1));
	w->ret_hdrs = sqlite3_column_int(st, 2);
	w->smtputf8 = sqlite3_column_int(st, 3);
	w->body_8bit = sqlite3_column_int(st, 4);
	w->created = sqlite3_column_int64(st, 5);
	w->is_dsn = sqlite3_column_int(st, 6);
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(q->db,
		    "SELECT rid, address, orcpt, notify, attempts FROM rcpts"
		    " WHERE msg_id = ? AND leased = 0 AND next_attempt <= ?",
		    -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, msg_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *addr = (const char *)sqlite3_column_text(st, 1);
		if (!str_case_eq(domain_of(addr), w->domain))
			continue;
		struct work_rcpt *r = array_push_new(&w->rcpts);
		r->rid = sqlite3_column_int64(st, 0);
		r->address = pool_strdup(w->pool, addr);
		if (sqlite3_column_type(st, 2) != SQLITE_NULL)
			r->orcpt = pool_strdup(w->pool, (const char *)sqlite3_column_text(st, 2));
		r->notify = (unsigned)sqlite3_column_int(st, 3);
		r->attempts = (unsigned)sqlite3_column_int(st, 4);
	}
	sqlite3_finalize(st);
	sqlite3_prepare_v2(q->db, "UPDATE rcpts SET leased = 1 WHERE rid = ?", -1, &st, NULL);
	for (size_t i = 0; i < w->rcpts.n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, w->rcpts.v[i].rid);
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return w->rcpts.n > 0;
}

/* Delivers a local recipient (a bounce to one of our users, or mail for a
 * domain that became ours) through local delivery. */
static void deliver_local(struct transport *t, struct work *w, struct relay_rcpt *r,
	const struct buf *content)
{
	struct transport_rcpt_list list;
	array_init(&list, w->pool);
	const char *error;
	enum transport_lookup lk = transport_rcpt_lookup(t, r->address, 0, w->pool, &list,
		&error);
	if (lk != TRANSPORT_LOOKUP_OK) {
		bool temp = lk == TRANSPORT_LOOKUP_TEMPFAIL;
		r->status = temp ? RELAY_TEMP : RELAY_PERM;
		snprintf(r->status_code, sizeof(r->status_code), "%s",
			temp ? "4.3.0" : lk == TRANSPORT_LOOKUP_DISABLED ? "5.2.1" : "5.1.1");
		r->reply = pool_printf(w->pool, "%s local recipient %s",
			temp ? "cannot look up" : "unknown or disabled", r->address);
		return;
	}
	struct transport_envelope env = {
		.id = w->id,
		.mail_from = w->mail_from,
		.envid = w->envid,
		.ret_hdrs = w->ret_hdrs,
		.smtputf8 = w->smtputf8,
		.body_8bit = w->body_8bit,
		.rcpts = list.v,
		.rcpt_count = list.n,
		.received_from = "queue",
	};
	for (size_t i = 0; i < list.n; i++)
		list.v[i].notify = TRANSPORT_NOTIFY_NEVER; /* the queue reports, not the store */
	enum transport_result res = transport_deliver_wait(t, &env, content->data, content->len,
		NULL, NULL, NULL);
	r->status = res == TRANSPORT_RESULT_OK ? RELAY_OK : RELAY_TEMP;
	snprintf(r->status_code, sizeof(r->status_code), "%s",
		res == TRANSPORT_RESULT_OK ? "2.0.0" : "4.3.0");
	r->reply = pool_strdup(w->pool, res == TRANSPORT_RESULT_OK ? "delivered locally"
								   : "local delivery failed");
}

static int64_t backoff(const struct transport_settings *s, unsigned attempts)
{
	int64_t d = s->retry_min > 0 ? s->retry_min : 60;
	for (unsigned i = 1; i < attempts && d < s->retry_max; i++)
		d *= 2;
	return d > s->retry_max ? s->retry_max : d;
}

static void process_work(struct transport_queue *q, struct work *w)
{
	struct transport *t = q->t;
	struct buf content;
	buf_init(&content, w->pool);
	struct relay_rcpt *rr = pool_calloc(w->pool, w->rcpts.n, sizeof(*rr));
	for (size_t i = 0; i < w->rcpts.n; i++) {
		rr[i].address = w->rcpts.v[i].address;
		rr[i].orcpt = w->rcpts.v[i].orcpt;
		rr[i].notify = w->rcpts.v[i].notify;
	}
	if (content_read(q, w->id, &content) < 0) {
		log_error(NULL, "queue %s: content file missing; dropping it", w->id);
		for (size_t i = 0; i < w->rcpts.n; i++) {
			rr[i].status = RELAY_PERM;
			snprintf(rr[i].status_code, sizeof(rr[i].status_code), "5.3.0");
			rr[i].reply = pool_strdup(w->pool, "queued content lost");
		}
	} else if (transport_domain_is_local(t, w->domain) == 1) {
		for (size_t i = 0; i < w->rcpts.n; i++)
			deliver_local(t, w, &rr[i], &content);
	} else {
		struct relay_msg m = {
			.id = w->id,
			.mail_from = w->mail_from,
			.envid = w->envid,
			.ret_hdrs = w->ret_hdrs,
			.smtputf8 = w->smtputf8,
			.body_8bit = w->body_8bit,
			.data = content.data,
			.len = content.len,
		};
		transport_relay(t, &m, w->domain, rr, w->rcpts.n, w->pool);
	}

	/* Settle: delivered rows go, permanent failures and expired ones go
	 * with a DSN, the rest wait for their next attempt. */
	int64_t now = now_s();
	bool expired = now - w->created >= t->set.queue_lifetime;
	struct dsn_rcpt *dsn = pool_calloc(w->pool, w->rcpts.n, sizeof(*dsn));
	size_t ndsn = 0;
	for (size_t i = 0; i < w->rcpts.n; i++) {
		struct relay_rcpt *r = &rr[i];
		if (r->status == RELAY_TEMP && expired) {
			r->status = RELAY_PERM;
			snprintf(r->status_code, sizeof(r->status_code), "4.4.7");
			r->reply = pool_printf(w->pool, "delivery time expired; last error: %s",
				r->reply ? r->reply : "none");
		}
		log_info(NULL, "queue %s: to=<%s> %s (%s)", w->id, r->address,
			r->status == RELAY_OK ? "sent" : r->status == RELAY_TEMP ? "deferred" : "bounced",
			r->reply ? r->reply : "");
		if (r->status == RELAY_PERM && !w->is_dsn &&
			wants_failure_dsn(w->mail_from, r->notify))
			dsn[ndsn++] = (struct dsn_rcpt){
				.address = r->address,
				.orcpt = r->orcpt,
				.action = "failed",
				.status = r->status_code[0] ? r->status_code : "5.0.0",
				.diagnostic = r->reply ? pool_printf(w->pool, "smtp; %s", r->reply) : NULL,
				.remote_mta = r->remote_mta,
			};
		if (r->status == RELAY_OK && !w->is_dsn && (r->notify & TRANSPORT_NOTIFY_SUCCESS) &&
			w->mail_from[0] != '\0')
			dsn[ndsn++] = (struct dsn_rcpt){
				.address = r->address,
				.orcpt = r->orcpt,
				.action = "relayed",
				.status = "2.0.0",
				.diagnostic = r->reply ? pool_printf(w->pool, "smtp; %s", r->reply) : NULL,
				.remote_mta = r->remote_mta,
			};
	}
	if (ndsn > 0) {
		struct buf out;
		buf_init(&out, w->pool);
		transport_dsn_write(&out, t->set.hostname, w->id, w->mail_from, w->envid, w->created,
			dsn, ndsn, content.data, content.len, w->ret_hdrs, t->set.max_message_size);
		if (queue_dsn(q, w->id, w->mail_from, &out) < 0) {
			/* Keep the recipients: retried (and reported) later. */
			for (size_t i = 0; i < w->rcpts.n; i++)
				if (rr[i].status == RELAY_PERM)
					rr[i].status = RELAY_TEMP;
		}
	}
	pthread_mutex_lock(&q->mtx);
	exec(q->db, "BEGIN IMMEDIATE");
	sqlite3_stmt *del, *upd;
	sqlite3_prepare_v2(q->db, "DELETE FROM rcpts WHERE rid = ?", -1, &del, NULL);
	sqlite3_prepare_v2(q->db,
		"UPDATE rcpts SET leased = 0, attempts = attempts + 1, next_attempt = ?,"
		" last_error = ? WHERE rid = ?",
		-1, &upd, NULL);
	for (size_t i = 0; i < w->rcpts.n; i++) {
		if (rr[i].status == RELAY_TEMP) {
			sqlite3_reset(upd);
			sqlite3_bind_int64(upd, 1, now + backoff(&t->set, w->rcpts.v[i].attempts + 1));
			sqlite3_bind_text(upd, 2, rr[i].reply ? rr[i].reply : "", -1, SQLITE_STATIC);
			sqlite3_bind_int64(upd, 3, w->rcpts.v[i].rid);
			sqlite3_step(upd);
		} else {
			sqlite3_reset(del);
			sqlite3_bind_int64(del, 1, w->rcpts.v[i].rid);
			sqlite3_step(del);
		}
	}
	sqlite3_finalize(del);
	sqlite3_finalize(upd);
	sqlite3_stmt *left;
	sqlite3_prepare_v2(q->db, "SELECT count(*) FROM rcpts WHERE msg_id = ?", -1, &left, NULL);
	sqlite3_bind_text(left, 1, w->id, -1, SQLITE_STATIC);
	bool empty = sqlite3_step(left) == SQLITE_ROW && sqlite3_column_int(left, 0) == 0;
	sqlite3_finalize(left);
	if (empty) {
		sqlite3_stmt *dm;
		sqlite3_prepare_v2(q->db, "DELETE FROM messages WHERE id = ?", -1, &dm, NULL);
		sqlite3_bind_text(dm, 1, w->id, -1, SQLITE_STATIC);
		sqlite3_step(dm);
		sqlite3_finalize(dm);
	}
	if (exec(q->db, "COMMIT") < 0) {
		log_error(NULL, "queue %s: cannot record the outcome: %s", w->id,
			sqlite3_errmsg(q->db));
		exec(q->db, "ROLLBACK");
		empty = false;
	}
	pthread_mutex_unlock(&q->mtx);
	if (empty)
		content_remove(q, w->id);
}

static void *runner_main(void *arg)
{
	struct transport_queue *q = arg;
	pthread_mutex_lock(&q->mtx);
	while (!q->stopping) {
		struct work w = {.pool = pool_new("queue-work", 0)};
		array_init(&w.rcpts, w.pool);
		int64_t next_due = 0;
		int found = pick_work(q, &w, &next_due);
		if (found) {
			pthread_mutex_unlock(&q->mtx);
			process_work(q, &w);
			pool_free(&w.pool);
			pthread_mutex_lock(&q->mtx);
			continue;
		}
		pool_free(&w.pool);
		if (q->wake) {
			q->wake = false;
			continue;
		}
		/* Sleep until the next due recipient, a wake-up, or the poll. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t wait_ms = QUEUE_POLL_MS;
		if (next_due > 0 && (next_due - ts.tv_sec) * 1000 < wait_ms)
			wait_ms = (next_due - ts.tv_sec) * 1000;
		if (wait_ms < 50)
			wait_ms = 50;
		ts.tv_sec += wait_ms / 1000;
		ts.tv_nsec += (wait_ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&q->cond, &q->mtx, &ts);
		q->wake = false;
	}
	pthread_mutex_unlock(&q->mtx);
	return NULL;
}

int transport_queue_start(struct transport *t, const char **error_r)
{
	struct transport_queue *q = t->queue;
	if (q->threads != NULL)
		return 0;
	unsigned n = t->set.relay_threads ? t->set.relay_threads : 4;
	q->threads = xcalloc(n, sizeof(*q->threads));
	for (unsigned i = 0; i < n; i++) {
		if (pthread_create(&q->threads[i], NULL, runner_main, q) != 0) {
			*error_r = "cannot start the queue threads";
			q->nthreads = i;
			transport_queue_stop(t);
			return -1;
		}
	}
	q->nthreads = n;
	return 0;
}

void transport_queue_stop(struct transport *t)
{
	struct transport_queue *q = t->queue;
	if (q == NULL || q->nthreads == 0)
		return;
	pthread_mutex_lock(&q->mtx);
	q->stopping = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->mtx);
	for (unsigned i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
	q->nthreads = 0;
}

void transport_queue_wake(struct transport *t)
{
	struct transport_queue *q = t->queue;
	pthread_mutex_lock(&q->mtx);
	exec(q->db, "UPDATE rcpts SET next_attempt = 0 WHERE leased = 0");
	q->wake = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->mtx);
}

/* --- Administration --- */

int transport_queue_list(const char *data_dir, pool_t *pool,
	struct transport_queue_entry **entries_r, size_t *count_r, const char **error_r)
{
	sqlite3 *db;
	if (db_open(data_dir, false, &db, NULL, error_r) < 0)
		return -1;
	sqlite3_stmt *st;
	ARRAY(struct transport_queue_entry) a;
	array_init(&a, pool);
	int rc = -1;
	if (sqlite3_prepare_v2(db,
		    "SELECT m.id, m.mail_from, r.address, m.created, r.next_attempt, r.attempts,"
		    " m.size, r.last_error, m.is_dsn FROM rcpts r JOIN messages m ON m.id = r.msg_id"
		    " ORDER BY m.created, m.id, r.rid",
		    -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			struct transport_queue_entry *e = array_push_new(&a);
			e->id = pool_strdup(pool, (const char *)sqlite3_column_text(st, 0));
			e->mail_from = pool_strdup(pool, (const char *)sqlite3_column_text(st, 1));
			e->rcpt = pool_strdup(pool, (const char *)sqlite3_column_text(st, 2));
			e->created = sqlite3_column_int64(st, 3);
			e->next_attempt = sqlite3_column_int64(st, 4);
			e->attempts = (unsigned)sqlite3_column_int(st, 5);
			e->size = (uint64_t)sqlite3_column_int64(st, 6);
			e->last_error = pool_strdup(pool, (const char *)sqlite3_column_text(st, 7));
			e->is_dsn = sqlite3_column_int(st, 8);
		}
		sqlite3_finalize(st);
		rc = 0;
	} else {
		*error_r = qerr("queue database", sqlite3_errmsg(db));
	}
	sqlite3_close(db);
	*entries_r = a.v;
	*count_r = a.n;
	return rc;
}

long transport_queue_flush(const char *data_dir, const char *id, const char **error_r)
{
	sqlite3 *db;
	if (db_open(data_dir, false, &db, NULL, error_r) < 0)
		return -1;
	sqlite3_stmt *st;
	long n = -1;
	if (sqlite3_prepare_v2(db,
		    id ? "UPDATE rcpts SET next_attempt = 0 WHERE msg_id = ?"
		       : "UPDATE rcpts SET next_attempt = 0",
		    -1, &st, NULL) == SQLITE_OK) {
		if (id)
			sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_DONE)
			n = sqlite3_changes(db);
		sqlite3_finalize(st);
	}
	if (n < 0)
		*error_r = qerr("queue database", sqlite3_errmsg(db));
	sqlite3_close(db);
	return n;
}

int transport_queue_delete(const char *data_dir, const char *id, const char **error_r)
{
	sqlite3 *db;
	char *dir;
	if (db_open(data_dir, false, &db, &dir, error_r) < 0)
		return -1;
	int rc = -1;
	sqlite3_stmt *st;
	if (exec(db, "BEGIN IMMEDIATE") == 0 &&
		sqlite3_prepare_v2(db, "DELETE FROM messages WHERE id = ?", -1, &st, NULL) ==
			SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? (sqlite3_changes(db) > 0 ? 1 : 0) : -1;
		sqlite3_finalize(st);
		if (rc >= 0 &&
			sqlite3_prepare_v2(db, "DELETE FROM rcpts WHERE msg_id = ?", -1, &st, NULL) ==
				SQLITE_OK) {
			sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
			if (sqlite3_step(st) != SQLITE_DONE)
				rc = -1;
			else if (sqlite3_changes(db) > 0)
				rc = 1;
			sqlite3_finalize(st);
		}
	}
	if (rc >= 0 && exec(db, "COMMIT") == 0) {
		if (rc == 1 && strchr(id, '/') == NULL && strchr(id, '.') == NULL) {
			char *p = xasprintf("%s/msg/%s", dir, id);
			unlink(p);
			free(p);
		}
	} else {
		*error_r = qerr("queue database", sqlite3_errmsg(db));
		exec(db, "ROLLBACK");
		rc = -1;
	}
	sqlite3_close(db);
	free(dir);
	return rc;
}
