/* The worker pool: threads that run jobs from one FIFO queue. Connection
 * jobs embed their struct net_job (a connection has at most one in
 * flight), background jobs allocate theirs. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "net/net_private.h"

struct net_workers {
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	struct net_job *head, *tail;
	bool stopping, stopped;
	unsigned n, n_started;
	pthread_t *threads;
};

struct net_workers *net_workers_new(unsigned n)
{
	struct net_workers *w = xcalloc(1, sizeof(*w));
	pthread_mutex_init(&w->mtx, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->n = n;
	w->threads = xcalloc(n, sizeof(*w->threads));
	return w;
}

static void *net_worker_main(void *arg)
{
	struct net_workers *w = arg;
	pthread_mutex_lock(&w->mtx);
	for (;;) {
		while (w->head == NULL && !w->stopping)
			pthread_cond_wait(&w->cond, &w->mtx);
		struct net_job *job = w->head;
		if (job == NULL)
			break; /* stopping and drained */
		w->head = job->next;
		if (w->head == NULL)
			w->tail = NULL;
		pthread_mutex_unlock(&w->mtx);
		job->next = NULL;
		job->run(job);
		pthread_mutex_lock(&w->mtx);
	}
	pthread_mutex_unlock(&w->mtx);
	return NULL;
}

int net_workers_start(struct net_workers *w, const char **error_r)
{
	for (; w->n_started < w->n; w->n_started++) {
		int err = pthread_create(&w->threads[w->n_started], NULL, net_worker_main, w);
		if (err != 0) {
			static __thread char msg[128];
			snprintf(msg, sizeof(msg), "cannot start worker thread: %s", strerror(err));
			*error_r = msg;
			return -1;
		}
	}
	return 0;
}

void net_workers_submit(struct net_workers *w, struct net_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&w->mtx);
	if (w->stopped) {
		pthread_mutex_unlock(&w->mtx);
		job->run(job);
		return;
	}
	if (w->tail != NULL)
		w->tail->next = job;
	else
		w->head = job;
	w->tail = job;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mtx);
}

void net_workers_stop(struct net_workers *w)
{
	pthread_mutex_lock(&w->mtx);
	w->stopping = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->mtx);
	for (unsigned i = 0; i < w->n_started; i++)
		pthread_join(w->threads[i], NULL);
	w->n_started = 0;
	/* Jobs queued before any thread ran (or after the last one left) run
	 * here, so that nothing submitted is silently dropped. */
	pthread_mutex_lock(&w->mtx);
	w->stopped = true;
	struct net_job *job = w->head;
	w->head = w->tail = NULL;
	pthread_mutex_unlock(&w->mtx);
	while (job != NULL) {
		struct net_job *next = job->next;
		job->run(job);
		job = next;
	}
}

void net_workers_free(struct net_workers **wp)
{
	struct net_workers *w = *wp;
	if (w == NULL)
		return;
	*wp = NULL;
	if (!w->stopped)
		net_workers_stop(w);
	pthread_mutex_destroy(&w->mtx);
	pthread_cond_destroy(&w->cond);
	free(w->threads);
	free(w);
}
