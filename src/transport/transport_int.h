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

/* One delivery waiting for the committer. */
struct deliver_job {
	struct deliver_job *next;
	pool_t *pool;
	char id[17];
	struct transport_envelope env; /* copied into pool */
	struct store_blob_ref blob;
	bool blob_ok;
	struct mapi_message *msg; /* the properties every local copy gets */
	enum transport_result *results;
	transport_done_fn *done;
	void *done_ctx;
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

	/* The delivery committer: jobs are queued here and one thread commits
	 * them in batches (group commit, docs/transport.md). */
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	struct deliver_job *pending, **pending_tail;
	size_t pending_count;
	bool stopping;
	pthread_t committer;
	bool committer_started;
	/* Mailbox handles kept open by the committer (its thread only). */
	struct hash *mboxes; /* guid bytes -> struct mbox_cache_entry * */

	atomic_uint_fast64_t id_counter;
	struct transport_queue *queue;
};

/* Builds the message object of a received message from its MIME
 * (convert/mime.h). Returns 1, or 0 when the input is not a message (then
 * *msg_r is a minimal IPM.Note and *error_r says why). Never fails. */
int transport_mime_to_message(pool_t *pool, const void *mime, size_t len,
	struct mapi_message **msg_r, const char **error_r);
#endif
