/* Internal to src/transport. */
#ifndef TRANSPORT_TRANSPORT_INT_H
#define TRANSPORT_TRANSPORT_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "core/hash.h"
#include "mapi/message.h"
#include "transport/submit.h"
#include "transport/transport.h"

struct transport_queue;

/* One delivery in flight. */
struct deliver_job {
	pool_t *pool;
	atomic_uint parts_left; /* committers still writing copies of it */
	char id[17];
	struct transport_envelope env; /* copied into pool */
	struct store_blob_ref blob;
	bool blob_ok;
	struct mapi_message *msg; /* the properties every local copy gets */
	enum transport_result *results;
	transport_done_fn *done;
	void *done_ctx;
};

/* The copies of one delivery that belong to one committer (heap). */
struct deliver_part {
	struct deliver_part *next;
	struct deliver_job *job;
	size_t *idx; /* indexes into job->env.rcpts */
	size_t n;
};

/* A committer thread and the mailboxes it owns (docs/transport.md). */
struct committer {
	struct transport *t;
	pthread_t thread;
	bool started;
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	struct deliver_part *pending, **pending_tail;
	bool stopping;
	struct hash *mboxes; /* guid bytes -> struct mbox_cache_entry * (its thread only) */
};

struct mbox_cache_entry {
	struct guid guid;
	struct store_mailbox *mb;
	uint64_t quota;
	uint64_t last_used_ms;
};

struct transport {
	struct transport_settings set;
	pool_t *pool;
	struct store *store;
	struct directory *dir;

	/* The committers (group commit, docs/transport.md). */
	struct committer *committers;
	unsigned ncommitters;

	atomic_uint_fast64_t id_counter;
	struct transport_queue *queue;
};

/* Builds the message object of a received message from its MIME
 * (convert/mime.h). Returns 1, or 0 when the input is not a message (then
 * *msg_r is a minimal IPM.Note and *error_r says why). Never fails. */
int transport_mime_to_message(pool_t *pool, const void *mime, size_t len,
	struct mapi_message **msg_r, const char **error_r);
#endif
