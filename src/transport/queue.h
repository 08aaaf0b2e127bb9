/* The outbound queue: messages for other servers (and delivery status
 * notifications) kept until they are delivered, bounced or expire.
 *
 * One SQLite database, data_dir/queue/queue.db (WAL, synchronous=FULL),
 * holds the envelopes and the per-recipient state; the message contents
 * are files beside it (data_dir/queue/msg/<id>), written and fsynced
 * before the row that names them is committed. A message is durable in
 * the queue once transport_queue_add returns 0. Nothing about delivery
 * attempts in progress is stored: after a restart every recipient still
 * in the database is simply tried again.
 *
 * The runner (transport_queue_start) delivers due recipients on its own
 * threads: remote ones to the MX hosts of their domain or the smarthost
 * (transport/relay.h), local ones (bounces to our own users) into the
 * store. Temporary failures are retried with exponential back-off from
 * retry_min to retry_max until queue_lifetime; permanent failures and
 * expiry produce a DSN (RFC 3464) to the sender unless the sender is
 * the null path or NOTIFY=NEVER. */
#ifndef TRANSPORT_QUEUE_H
#define TRANSPORT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pool.h"
#include "transport/transport.h"

/* Starts the runner threads. 0, or -1 with *error_r. */
int transport_queue_start(struct transport *t, const char **error_r);
/* Stops them, waiting for deliveries in progress. Idempotent. */
void transport_queue_stop(struct transport *t);
/* Makes every queued recipient due now and wakes the runner. */
void transport_queue_wake(struct transport *t);

/* Queues the remote recipients of env (kind TRANSPORT_RCPT_REMOTE) for
 * relay, durably. Returns 0, or -1 (nothing queued). */
int transport_queue_add(struct transport *t, const char *id, const struct transport_envelope *env,
	const void *mime, size_t len, const enum transport_result *results);
/* Queues a DSN to env->mail_from reporting the recipients whose result is
 * TRANSPORT_RESULT_BOUNCED (failed: over quota, no mailbox) as failed.
 * The original comes from mime, or when mime is NULL from blob (the
 * store's copy). Returns 0 (also when no DSN is due: null sender,
 * NOTIFY=NEVER), or -1. */
int transport_queue_bounce(struct transport *t, const char *id,
	const struct transport_envelope *env, const enum transport_result *results,
	const struct store_blob_ref *blob, const void *mime, size_t len);

/* --- Administration (`hermod queue`), usable with or without a running
 * server: these open data_dir/queue/queue.db themselves. --- */

struct transport_queue_entry {
	const char *id;
	const char *mail_from;
	const char *rcpt;
	int64_t created;      /* Unix seconds */
	int64_t next_attempt; /* Unix seconds */
	unsigned attempts;
	uint64_t size;
	const char *last_error; /* "" when none */
	bool is_dsn;
};

/* Every queued recipient, oldest message first, into pool. 0 or -1. */
int transport_queue_list(const char *data_dir, pool_t *pool,
	struct transport_queue_entry **entries_r, size_t *count_r, const char **error_r);
/* Makes every recipient (id NULL) or those of message id due now; a
 * running server picks them up within its poll interval. Returns the
 * number of recipients changed, or -1. */
long transport_queue_flush(const char *data_dir, const char *id, const char **error_r);
/* Removes message id (no DSN is sent). 1 removed, 0 no such message, -1. */
int transport_queue_delete(const char *data_dir, const char *id, const char **error_r);

/* Internal to src/transport. */
int transport_queue_open(struct transport *t, const char **error_r);
void transport_queue_close(struct transport *t);

#endif
