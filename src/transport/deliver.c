/* Local delivery with group commit.
 *
 * A delivery is prepared on the caller's thread (the MIME blob is written
 * and fsynced there, so concurrent deliveries fsync their blobs in
 * parallel; the message object is built there too), then handed to the
 * committer threads: mailboxes are partitioned among them by GUID, and a
 * delivery becomes one part per committer that owns some of its
 * recipients. A committer takes every part waiting, writes each local copy
 * into its mailbox inside one store batch (a savepoint per message) and
 * commits the batch with STORE_DURABILITY_FULL: deliveries that arrived
 * together share each mailbox's fsync, different mailboxes commit in
 * parallel on different committers, and every caller is told only after
 * the commits that cover its message (docs/transport.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ares.h>

#include "core/hm_time.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "convert/mime.h"
#include "mapi/propval.h"
#include "mapi/proptags.h"
#include "transport/queue.h"
#include "transport/transport_int.h"

#define MBOX_IDLE_MS 60000

void transport_settings_default(struct transport_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->data_dir = ".";
	s->hostname = "localhost";
	s->max_batch = 256;
	s->queue_lifetime = 5 * 86400;
	s->retry_min = 60;
	s->retry_max = 3600;
	s->relay_threads = 4;
	s->connect_timeout = 30;
	s->command_timeout = 300;
	s->mx_port = 25;
	s->max_message_size = 35 * 1024 * 1024;
}

const struct transport_settings *transport_get_settings(const struct transport *t)
{
	return &t->set;
}

void transport_new_id(struct transport *t, char out[17])
{
	/* Seconds in the high bits keep ids sortable by time; the counter
	 * (seeded from the clock's nanoseconds and the pid) keeps them
	 * distinct within a second and across restarts. */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t c = atomic_fetch_add(&t->id_counter, 1);
	uint64_t v = ((uint64_t)ts.tv_sec << 24) ^ (c & 0xffffff);
	snprintf(out, 17, "%016llx", (unsigned long long)v);
}

/* --- MIME -> message object (MS-OXCMAIL 2.2, src/convert) --- */

int transport_mime_to_message(pool_t *pool, const void *mime, size_t len,
	struct mapi_message **msg_r, const char **error_r)
{
	struct mime_import_opts opts = {.max_size = len + 1};
	if (mime_to_message(pool, mime, len, &opts, msg_r, NULL, error_r) == 1)
		return 1;
	/* Not a message at all (no header block): it is still delivered,
	 * with its MIME kept and the properties every delivery has. Mail is
	 * never refused after the 250 because it does not parse. */
	struct mapi_message *m = pool_alloc(pool, sizeof(*m));
	m->pool = pool;
	array_init(&m->recipients, pool);
	array_init(&m->attachments, pool);
	mapi_propvals_set_str(pool, &m->props, PR_MESSAGE_CLASS, "IPM.Note");
	*msg_r = m;
	return 0;
}

/* --- Writing a message object into the store --- */

static uint32_t remap_tag(uint32_t tag, const uint16_t *ids, size_t n)
{
	uint16_t id = PROP_ID(tag);
	if (id < PROP_ID_NAMED_MIN)
		return tag;
	if (ids == NULL || (size_t)(id - PROP_ID_NAMED_MIN) >= n || ids[id - PROP_ID_NAMED_MIN] == 0)
		return 0;
	return PROP_TAG(PROP_TYPE(tag), ids[id - PROP_ID_NAMED_MIN]);
}

static void remap_props(pool_t *pool, const struct mapi_propvals *in, const uint16_t *ids,
	size_t n, struct mapi_propvals *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < in->count; i++) {
		uint32_t tag = remap_tag(in->vals[i].tag, ids, n);
		if (tag == 0)
			continue;
		mapi_propvals_set_nocopy(pool, out, tag, in->vals[i].v);
	}
}

static uint32_t write_tree(struct store_message *m, const struct mapi_message *msg,
	const uint16_t *ids, size_t n, pool_t *pool)
{
	struct mapi_propvals props;
	remap_props(pool, &msg->props, ids, n, &props);
	/* Computed properties and values the store refuses are listed as
	 * problems and skipped: a delivery never fails for one property. */
	struct store_problems probs = {.pool = pool};
	uint32_t ec = store_message_set_props(m, &props, &probs);
	if (ec != ecSuccess)
		return ec;
	if (msg->recipients.n > 0) {
		struct mapi_propvals *rows = pool_calloc(pool, msg->recipients.n, sizeof(*rows));
		for (size_t i = 0; i < msg->recipients.n; i++) {
			remap_props(pool, &msg->recipients.v[i].props, ids, n, &rows[i]);
			mapi_propvals_delete(&rows[i], PR_ROWID);
			mapi_propvals_set_long(pool, &rows[i], PR_ROWID, (int32_t)i);
		}
		ec = store_message_modify_recipients(m, rows, (uint32_t)msg->recipients.n);
		if (ec != ecSuccess)
			return ec;
	}
	for (size_t i = 0; i < msg->attachments.n; i++) {
		const struct mapi_attachment *a = &msg->attachments.v[i];
		struct store_attach *att;
		ec = store_message_create_attach(m, &att);
		if (ec != ecSuccess)
			return ec;
		remap_props(pool, &a->props, ids, n, &props);
		mapi_propvals_delete(&props, PR_ATTACH_NUM);
		probs.count = 0;
		ec = store_attach_set_props(att, &props, &probs);
		if (ec == ecSuccess && a->embedded != NULL) {
			struct store_message *emb;
			ec = store_attach_open_embedded(att, true, &emb);
			if (ec == ecSuccess) {
				ec = write_tree(emb, a->embedded, ids, n, pool);
				if (ec == ecSuccess)
					ec = store_message_save(emb, 0);
				store_message_close(&emb);
			}
		}
		if (ec == ecSuccess)
			ec = store_attach_save(att);
		store_attach_close(&att);
		if (ec != ecSuccess)
			return ec;
	}
	return ecSuccess;
}

uint32_t transport_message_write(struct store_mailbox *mb, struct store_message *m,
	const struct mapi_message *msg)
{
	pool_t *pool = pool_new("msgwrite", 0);
	uint16_t *ids = NULL;
	size_t n = msg->names != NULL ? msg->names->n : 0;
	uint32_t ec = ecSuccess;
	if (n > 0) {
		/* The message's own name table -> this mailbox's IDs. */
		ids = pool_calloc(pool, n, sizeof(*ids));
		ec = store_named_to_ids(mb, msg->names->v, (uint32_t)n, true, ids);
	}
	if (ec == ecSuccess)
		ec = write_tree(m, msg, ids, n, pool);
	pool_free(&pool);
	return ec;
}

/* --- The mailbox handle cache (committer thread only) --- */

static void mbox_entry_free(struct mbox_cache_entry *e)
{
	store_mailbox_close(&e->mb);
	free(e);
}

static struct store_mailbox *mbox_get(struct committer *c, const struct transport_rcpt *r,
	uint64_t now, uint32_t *ec_r)
{
	struct transport *t = c->t;
	struct mbox_cache_entry *e = hash_get(c->mboxes, &r->mailbox_guid, sizeof(r->mailbox_guid),
		NULL);
	if (e != NULL && e->quota != r->quota) {
		/* The quota changed since the handle was opened: reopen. */
		hash_del(c->mboxes, &r->mailbox_guid, sizeof(r->mailbox_guid), NULL);
		mbox_entry_free(e);
		e = NULL;
	}
	if (e == NULL) {
		struct store_logon logon = {.principal = NULL,
			.flags = STORE_LOGON_SYSTEM,
			.quota_hard = r->quota};
		struct store_mailbox *mb;
		uint32_t ec = store_mailbox_open(t->store, &r->mailbox_guid, &logon, &mb);
		if (ec != ecSuccess) {
			*ec_r = ec;
			return NULL;
		}
		e = xcalloc(1, sizeof(*e));
		e->guid = r->mailbox_guid;
		e->mb = mb;
		e->quota = r->quota;
		hash_put(c->mboxes, &e->guid, sizeof(e->guid), e, NULL);
	}
	e->last_used_ms = now;
	return e->mb;
}

static void mbox_expire(struct committer *c, uint64_t now, bool all)
{
	struct hash_iter it;
	for (;;) {
		bool again = false;
		hash_iter_init(&it);
		while (hash_iter_next(c->mboxes, &it)) {
			struct mbox_cache_entry *e = it.value;
			if (all || now - e->last_used_ms > MBOX_IDLE_MS) {
				hash_del(c->mboxes, &e->guid, sizeof(e->guid), NULL);
				mbox_entry_free(e);
				again = true;
				break;
			}
		}
		if (!again)
			return;
	}
}

/* --- Finishing a delivery --- */

static void job_free(struct deliver_job *job)
{
	pool_free(&job->pool);
	free(job);
}

static void job_finish(struct transport *t, struct deliver_job *job, const void *mime, size_t len)
{
	/* Local copies that failed for good (over quota, no mailbox) turn
	 * into a bounce to the sender; if the bounce cannot be queued the
	 * recipient stays a temporary failure for the client to retry. */
	for (size_t i = 0; i < job->env.rcpt_count; i++) {
		if (job->env.rcpts[i].kind != 0)
			continue;
		/* A duplicate of an earlier local recipient shares its fate. */
		for (size_t j = 0; j < i; j++)
			if (job->env.rcpts[j].kind == TRANSPORT_RCPT_LOCAL &&
				guid_eq(&job->env.rcpts[j].mailbox_guid,
					&job->env.rcpts[i].mailbox_guid)) {
				job->results[i] = job->results[j];
				break;
			}
	}
	size_t nbounce = 0;
	for (size_t i = 0; i < job->env.rcpt_count; i++)
		if (job->results[i] == TRANSPORT_RESULT_BOUNCED && job->env.rcpts[i].kind != 0)
			nbounce++;
	if (nbounce > 0) {
		if (transport_queue_bounce(t, job->id, &job->env, job->results, &job->blob, mime,
			    len) < 0) {
			for (size_t i = 0; i < job->env.rcpt_count; i++)
				if (job->results[i] == TRANSPORT_RESULT_BOUNCED)
					job->results[i] = TRANSPORT_RESULT_TEMPFAIL;
		}
	}
	enum transport_result overall = TRANSPORT_RESULT_TEMPFAIL;
	for (size_t i = 0; i < job->env.rcpt_count; i++)
		if (job->results[i] != TRANSPORT_RESULT_TEMPFAIL)
			overall = TRANSPORT_RESULT_OK;
	job->done(job->done_ctx, overall, job->results, job->id);
	job_free(job);
}

/* Writes every local copy of the parts in one batch and commits it; a job
 * whose last part this was is finished here. */
static void commit_batch(struct committer *c, struct deliver_part *parts)
{
	struct transport *t = c->t;
	uint64_t now = time_mono_ms();
	uint64_t t_start = time_mono_us();
	struct store_batch *batch = store_batch_new(t->store, STORE_DURABILITY_FULL);
	size_t copies = 0;
	for (struct deliver_part *part = parts; part != NULL; part = part->next) {
		struct deliver_job *job = part->job;
		for (size_t k = 0; k < part->n; k++) {
			size_t i = part->idx[k];
			const struct transport_rcpt *r = &job->env.rcpts[i];
			if (!job->blob_ok) {
				job->results[i] = TRANSPORT_RESULT_TEMPFAIL;
				continue;
			}
			uint32_t ec = ecSuccess;
			struct store_mailbox *mb = mbox_get(c, r, now, &ec);
			if (mb != NULL)
				ec = store_batch_join(batch, mb);
			struct store_message *m = NULL;
			if (ec == ecSuccess)
				ec = store_message_create(mb,
					store_mailbox_special_fid(mb, STORE_SPECIAL_INBOX), 0, &m);
			if (ec == ecSuccess)
				ec = transport_message_write(mb, m, job->msg);
			if (ec == ecSuccess)
				ec = store_message_set_mime(m, &job->blob);
			if (ec == ecSuccess)
				ec = store_message_save(m, STORE_SAVE_DELIVERY);
			store_message_close(&m);
			if (ec == ecSuccess) {
				copies++;
				continue;
			}
			log_warning(NULL, "transport %s: delivery to %s failed: %s", job->id,
				r->address, mapi_ec_name(ec));
			/* Over quota or no mailbox at all will not heal by
			 * retrying soon: bounce. Anything else is temporary. */
			job->results[i] = ec == ecQuotaExceeded || ec == ecNotFound
				? TRANSPORT_RESULT_BOUNCED
				: TRANSPORT_RESULT_TEMPFAIL;
		}
	}
	uint64_t t_write = time_mono_us();
	uint32_t ec = store_batch_commit(&batch);
	uint64_t t_end = time_mono_us();
	log_debug(NULL, "transport: batch of %zu copies written in %llu us, committed in %llu us",
		copies, (unsigned long long)(t_write - t_start),
		(unsigned long long)(t_end - t_write));
	if (ec != ecSuccess) {
		/* Some mailboxes of the batch may have committed; we cannot
		 * tell which, so every copy is reported temporary and the
		 * client retries (a duplicate is better than a loss). */
		log_error(NULL, "transport: committing %zu deliveries failed: %s", copies,
			mapi_ec_name(ec));
		for (struct deliver_part *part = parts; part != NULL; part = part->next)
			for (size_t k = 0; k < part->n; k++)
				if (part->job->results[part->idx[k]] == TRANSPORT_RESULT_OK)
					part->job->results[part->idx[k]] = TRANSPORT_RESULT_TEMPFAIL;
	}
	for (struct deliver_part *part = parts, *next; part != NULL; part = next) {
		next = part->next;
		struct deliver_job *job = part->job;
		for (size_t k = 0; k < part->n; k++) {
			size_t i = part->idx[k];
			log_info(NULL, "transport %s: to=<%s> %s", job->id, job->env.rcpts[i].address,
				job->results[i] == TRANSPORT_RESULT_OK        ? "delivered"
				: job->results[i] == TRANSPORT_RESULT_BOUNCED ? "bounced"
									      : "deferred");
		}
		/* The job's pool is not touched by committers: parts are heap. */
		free(part);
		if (atomic_fetch_sub(&job->parts_left, 1) == 1)
			job_finish(t, job, NULL, 0);
	}
}

static void *committer_main(void *arg)
{
	struct committer *c = arg;
	uint64_t last_expire = time_mono_ms();
	pthread_mutex_lock(&c->mtx);
	for (;;) {
		while (c->pending == NULL && !c->stopping)
			pthread_cond_wait(&c->cond, &c->mtx);
		if (c->pending == NULL)
			break;
		/* Take up to max_batch parts; the rest waits for the next round. */
		struct deliver_part *parts = c->pending, **tail = &parts;
		size_t n = 0;
		while (*tail != NULL && n < c->t->set.max_batch) {
			tail = &(*tail)->next;
			n++;
		}
		c->pending = *tail;
		*tail = NULL;
		if (c->pending == NULL)
			c->pending_tail = &c->pending;
		pthread_mutex_unlock(&c->mtx);
		commit_batch(c, parts);
		uint64_t now = time_mono_ms();
		if (now - last_expire > 5000) {
			mbox_expire(c, now, false);
			last_expire = now;
		}
		pthread_mutex_lock(&c->mtx);
	}
	pthread_mutex_unlock(&c->mtx);
	mbox_expire(c, 0, true);
	return NULL;
}

int transport_new(const struct transport_settings *s, struct store *store, struct directory *dir,
	struct transport **t_r, const char **error_r)
{
	/* c-ares' global state (a no-op on Linux, required by its API). */
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		*error_r = "cannot initialize c-ares";
		return -1;
	}
	struct transport *t = xcalloc(1, sizeof(*t));
	t->pool = pool_new("transport", 0);
	t->set = *s;
	t->set.data_dir = pool_strdup(t->pool, s->data_dir);
	t->set.hostname = pool_strdup(t->pool, s->hostname);
	t->set.smarthost = s->smarthost ? pool_strdup(t->pool, s->smarthost) : NULL;
	t->set.smarthost_user = s->smarthost_user ? pool_strdup(t->pool, s->smarthost_user) : NULL;
	t->set.smarthost_password =
		s->smarthost_password ? pool_strdup(t->pool, s->smarthost_password) : NULL;
	t->set.resolver = s->resolver ? pool_strdup(t->pool, s->resolver) : NULL;
	if (s->routes != NULL) {
		size_t n = 0;
		while (s->routes[n] != NULL)
			n++;
		const char **r = pool_calloc(t->pool, n + 1, sizeof(*r));
		for (size_t i = 0; i < n; i++)
			r[i] = pool_strdup(t->pool, s->routes[i]);
		t->set.routes = r;
	}
	if (t->set.max_batch == 0)
		t->set.max_batch = 256;
	t->store = store;
	t->dir = dir;
	if (t->set.delivery_threads == 0)
		t->set.delivery_threads = 4;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	atomic_init(&t->id_counter, ((uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 8)) & 0xffffff);
	if (transport_queue_open(t, error_r) < 0) {
		transport_free(&t);
		return -1;
	}
	t->committers = xcalloc(t->set.delivery_threads, sizeof(*t->committers));
	for (unsigned i = 0; i < t->set.delivery_threads; i++) {
		struct committer *c = &t->committers[i];
		c->t = t;
		pthread_mutex_init(&c->mtx, NULL);
		pthread_cond_init(&c->cond, NULL);
		c->pending_tail = &c->pending;
		c->mboxes = hash_new(64);
		t->ncommitters++;
		if (pthread_create(&c->thread, NULL, committer_main, c) != 0) {
			*error_r = "cannot start the delivery threads";
			transport_free(&t);
			return -1;
		}
		c->started = true;
	}
	*t_r = t;
	return 0;
}

void transport_free(struct transport **tp)
{
	struct transport *t = *tp;
	if (t == NULL)
		return;
	transport_queue_stop(t);
	/* Committers finish what is queued before they exit. */
	for (unsigned i = 0; i < t->ncommitters; i++) {
		struct committer *c = &t->committers[i];
		pthread_mutex_lock(&c->mtx);
		c->stopping = true;
		pthread_cond_broadcast(&c->cond);
		pthread_mutex_unlock(&c->mtx);
	}
	for (unsigned i = 0; i < t->ncommitters; i++) {
		struct committer *c = &t->committers[i];
		if (c->started)
			pthread_join(c->thread, NULL);
		hash_free(&c->mboxes);
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->mtx);
	}
	free(t->committers);
	transport_queue_close(t);
	pool_free(&t->pool);
	free(t);
	*tp = NULL;
	ares_library_cleanup();
}

/* --- Handing a message in --- */

static void copy_envelope(pool_t *pool, struct transport_envelope *dst,
	const struct transport_envelope *src)
{
	*dst = *src;
	dst->mail_from = pool_strdup(pool, src->mail_from != NULL ? src->mail_from : "");
	dst->id = NULL;
	dst->envid = src->envid != NULL ? pool_strdup(pool, src->envid) : NULL;
	dst->received_from = src->received_from != NULL ? pool_strdup(pool, src->received_from)
							: NULL;
	struct transport_rcpt *r = pool_calloc(pool, src->rcpt_count ? src->rcpt_count : 1,
		sizeof(*r));
	for (size_t i = 0; i < src->rcpt_count; i++) {
		r[i] = src->rcpts[i];
		r[i].address = pool_strdup(pool, src->rcpts[i].address);
		r[i].orig = src->rcpts[i].orig != NULL ? pool_strdup(pool, src->rcpts[i].orig)
						       : r[i].address;
		r[i].orcpt = src->rcpts[i].orcpt != NULL ? pool_strdup(pool, src->rcpts[i].orcpt)
							 : NULL;
	}
	dst->rcpts = r;
}

void transport_deliver(struct transport *t, const struct transport_envelope *env,
	const void *mime, size_t len, transport_done_fn *done, void *ctx)
{
	struct deliver_job *job = xcalloc(1, sizeof(*job));
	job->pool = pool_new("deliver", 0);
	copy_envelope(job->pool, &job->env, env);
	job->done = done;
	job->done_ctx = ctx;
	if (env->id != NULL && strlen(env->id) == 16)
		memcpy(job->id, env->id, 17);
	else
		transport_new_id(t, job->id);
	size_t n = env->rcpt_count;
	job->results = pool_calloc(job->pool, n ? n : 1, sizeof(*job->results));

	size_t nlocal = 0, nremote = 0;
	for (size_t i = 0; i < n; i++) {
		const struct transport_rcpt *r = &job->env.rcpts[i];
		if (r->kind == TRANSPORT_RCPT_REMOTE) {
			nremote++;
			continue;
		}
		/* The same mailbox twice (named directly and through a
		 * group): one copy. */
		bool dup = false;
		for (size_t j = 0; j < i && !dup; j++)
			dup = job->env.rcpts[j].kind == TRANSPORT_RCPT_LOCAL &&
				guid_eq(&job->env.rcpts[j].mailbox_guid, &r->mailbox_guid);
		if (dup) {
			/* Reported like the first copy: rewrite its kind so the
			 * committer skips it, results are copied at the end. */
			((struct transport_rcpt *)job->env.rcpts)[i].kind = 0;
			continue;
		}
		nlocal++;
	}
	log_info(NULL, "transport %s: from=<%s> size=%zu rcpts=%zu (%zu local, %zu remote)%s%s",
		job->id, job->env.mail_from, len, n, nlocal, nremote,
		env->received_from ? " via " : "", env->received_from ? env->received_from : "");

	if (nremote > 0) {
		int r = transport_queue_add(t, job->id, &job->env, mime, len, job->results);
		for (size_t i = 0; i < n; i++)
			if (job->env.rcpts[i].kind == TRANSPORT_RCPT_REMOTE)
				job->results[i] = r < 0 ? TRANSPORT_RESULT_TEMPFAIL
							: TRANSPORT_RESULT_OK;
	}
	if (nlocal > 0) {
		const char *error = NULL;
		job->blob_ok = store_blob_put(t->store, mime, len, &job->blob) == ecSuccess;
		if (!job->blob_ok)
			log_error(NULL, "transport %s: cannot write the message blob", job->id);
		else {
			if (transport_mime_to_message(job->pool, mime, len, &job->msg, &error) == 0)
				log_info(NULL, "transport %s: not MIME (%s); delivered as it is",
					job->id, error);
			mapi_propvals_set_systime(job->pool, &job->msg->props,
				PR_MESSAGE_DELIVERY_TIME, time_filetime_now());
		}
		/* One part per committer that owns some of the mailboxes:
		 * mailboxes are partitioned by GUID, so each mailbox is only
		 * ever written by one committer and different mailboxes
		 * commit (and fsync) in parallel. */
		unsigned k = t->ncommitters;
		struct deliver_part **by = xcalloc(k, sizeof(*by));
		unsigned nparts = 0;
		for (size_t i = 0; i < n; i++) {
			const struct transport_rcpt *r = &job->env.rcpts[i];
			if (r->kind != TRANSPORT_RCPT_LOCAL)
				continue;
			unsigned w = (unsigned)(hash_bytes(&r->mailbox_guid,
							sizeof(r->mailbox_guid)) % k);
			if (by[w] == NULL) {
				by[w] = xcalloc(1, sizeof(*by[w]) + nlocal * sizeof(size_t));
				by[w]->job = job;
				by[w]->idx = (size_t *)(by[w] + 1);
				nparts++;
			}
			by[w]->idx[by[w]->n++] = i;
		}
		atomic_init(&job->parts_left, nparts);
		for (unsigned w = 0; w < k; w++) {
			if (by[w] == NULL)
				continue;
			struct committer *c = &t->committers[w];
			pthread_mutex_lock(&c->mtx);
			*c->pending_tail = by[w];
			c->pending_tail = &by[w]->next;
			pthread_cond_signal(&c->cond);
			pthread_mutex_unlock(&c->mtx);
		}
		free(by);
		return;
	}
	job_finish(t, job, mime, len);
}

struct deliver_wait {
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	bool done;
	enum transport_result overall;
	enum transport_result *results;
	size_t n;
	char id[17];
};

static void deliver_wait_done(void *ctx, enum transport_result overall,
	const enum transport_result *results, const char *id)
{
	struct deliver_wait *w = ctx;
	pthread_mutex_lock(&w->mtx);
	w->overall = overall;
	memcpy(w->results, results, w->n * sizeof(*results));
	snprintf(w->id, sizeof(w->id), "%s", id);
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mtx);
}

enum transport_result transport_deliver_wait(struct transport *t,
	const struct transport_envelope *env, const void *mime, size_t len,
	enum transport_result *results_r, pool_t *pool, const char **id_r)
{
	struct deliver_wait w = {.n = env->rcpt_count};
	pthread_mutex_init(&w.mtx, NULL);
	pthread_cond_init(&w.cond, NULL);
	w.results = xcalloc(w.n ? w.n : 1, sizeof(*w.results));
	transport_deliver(t, env, mime, len, deliver_wait_done, &w);
	pthread_mutex_lock(&w.mtx);
	while (!w.done)
		pthread_cond_wait(&w.cond, &w.mtx);
	pthread_mutex_unlock(&w.mtx);
	if (results_r != NULL)
		memcpy(results_r, w.results, w.n * sizeof(*w.results));
	if (id_r != NULL)
		*id_r = pool_strdup(pool, w.id);
	free(w.results);
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.mtx);
	return w.overall;
}
