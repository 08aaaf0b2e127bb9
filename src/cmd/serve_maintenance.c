/* The store's periodic housekeeping while the server runs: removing
 * tombstones older than [store] tombstone_days from every mailbox (so sync
 * states do not grow without bound) and collecting blobs nothing refers to
 * any more (store_blob_gc's mark and sweep, safe against concurrent
 * writers). A thread of its own that sleeps between rounds, so a long
 * sweep never holds a worker that sessions need. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "cmd/serve.h"
#include "core/log.h"
#include "store/changes.h"

struct serve_maintenance {
	struct serve_ctx *sc;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping;
	int64_t interval_s;
	int64_t blob_grace_s;
};

static struct serve_maintenance serve_maintenance_state;

/* One round over every mailbox; returns the tombstones removed. */
static uint64_t serve_maintenance_purge(struct serve_ctx *sc, pool_t *pool)
{
	struct directory_user *users;
	size_t n;
	const char *error;
	uint64_t removed = 0;
	if (directory_user_list(sc->dir, NULL, pool, &users, &n, &error) < 0) {
		log_error(NULL, "maintenance: cannot list users: %s", error);
		return 0;
	}
	struct store_logon logon = {.principal = "hermod-maintenance",
		.flags = STORE_LOGON_SYSTEM};
	for (size_t i = 0; i < n; i++) {
		struct store_mailbox *mb;
		uint32_t ec = store_mailbox_open(sc->store, &users[i].mailbox_guid, &logon, &mb);
		if (ec == ecNotFound)
			continue;
		if (ec != ecSuccess) {
			log_warning(NULL, "maintenance: cannot open the mailbox of %s: %s",
				users[i].address, mapi_ec_name(ec));
			continue;
		}
		uint32_t k = 0;
		ec = store_purge_tombstones(mb, 0, &k);
		if (ec != ecSuccess)
			log_warning(NULL, "maintenance: purging tombstones of %s: %s",
				users[i].address, mapi_ec_name(ec));
		removed += k;
		store_mailbox_close(&mb);
	}
	return removed;
}

static void *serve_maintenance_thread(void *arg)
{
	struct serve_maintenance *m = arg;
	pthread_mutex_lock(&m->lock);
	while (!m->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += m->interval_s;
		while (!m->stopping &&
			pthread_cond_timedwait(&m->cond, &m->lock, &until) != ETIMEDOUT)
			;
		if (m->stopping)
			break;
		pthread_mutex_unlock(&m->lock);

		pool_t *pool = pool_new("maintenance", 0);
		uint64_t purged = serve_maintenance_purge(m->sc, pool);
		const char *error;
		long blobs = store_blob_gc(m->sc->store, m->blob_grace_s, &error);
		if (blobs < 0)
			log_error(NULL, "maintenance: blob collection failed: %s", error);
		log_info(NULL, "maintenance: removed %llu tombstones and %ld blobs",
			(unsigned long long)purged, blobs < 0 ? 0 : blobs);
		pool_free(&pool);

		pthread_mutex_lock(&m->lock);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

static int serve_maintenance_start(struct serve_ctx *sc, const char **error_r)
{
	struct serve_maintenance *m = &serve_maintenance_state;
	memset(m, 0, sizeof(*m));
	m->sc = sc;
	m->interval_s = config_get_time(sc->cfg, "store", "maintenance_interval");
	m->blob_grace_s = config_get_time(sc->cfg, "store", "blob_gc_grace");
	if (m->interval_s == 0)
		return 0; /* off */
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	int err = pthread_create(&m->thread, NULL, serve_maintenance_thread, m);
	if (err != 0) {
		*error_r = strerror(err);
		return -1;
	}
	return 0;
}

static void serve_maintenance_stop(struct serve_ctx *sc)
{
	struct serve_maintenance *m = &serve_maintenance_state;
	if (m->interval_s == 0)
		return;
	pthread_mutex_lock(&m->lock);
	m->stopping = true;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
}

const struct serve_service serve_maintenance = {"maintenance", serve_maintenance_start,
	serve_maintenance_stop};
