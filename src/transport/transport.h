/* Message processing (ARCHITECTURE.md section 1): what happens to a message
 * once a protocol has accepted it. Local delivery into the store, the
 * persistent outbound queue, relay to other servers, delivery status
 * notifications, and the submit path for messages written in a mailbox.
 *
 * One struct transport per process, shared by every thread. Protocols
 * (SMTP DATA, EWS SendItem, ActiveSync SendMail, RopSubmitMessage) hand it
 * an envelope and the message's MIME; the transport answers per recipient
 * and says when the message is durable (docs/transport.md: the durable
 * point is the mailbox databases for local recipients and the queue
 * database for everything else; the caller acknowledges only after both).
 *
 * Threads: every function may be called from any thread. The delivery
 * committer and the queue runner have threads of their own (started by
 * transport_new and transport_queue_start). */
#ifndef TRANSPORT_TRANSPORT_H
#define TRANSPORT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/array.h"
#include "core/guid.h"
#include "core/pool.h"
#include "directory/directory.h"
#include "store/store.h"

struct transport;

/* RFC 3461 4.1 NOTIFY bits; 0 means the default (FAILURE, and DELAY at the
 * sender's site's discretion). */
#define TRANSPORT_NOTIFY_NEVER 0x1u
#define TRANSPORT_NOTIFY_SUCCESS 0x2u
#define TRANSPORT_NOTIFY_FAILURE 0x4u
#define TRANSPORT_NOTIFY_DELAY 0x8u

struct transport_settings {
	const char *data_dir;   /* the queue lives in data_dir/queue/ */
	const char *hostname;   /* Received headers, HELO, DSN Reporting-MTA */
	/* Local delivery: how many deliveries one durable commit may carry. */
	unsigned max_batch;      /* 0: 256 */
	/* Committer threads; mailboxes are partitioned among them, so this
	 * many mailbox commits (fsyncs) can be in flight at once. 0: 4. */
	unsigned delivery_threads;
	/* The outbound queue (transport_queue_start). */
	int64_t queue_lifetime;  /* seconds before a temporary failure becomes a bounce; 0: 5 days */
	int64_t retry_min;       /* first retry after this many seconds; 0: 60 */
	int64_t retry_max;       /* back-off doubles up to this; 0: 3600 */
	unsigned relay_threads;  /* concurrent outbound deliveries; 0: 4 */
	int64_t connect_timeout; /* seconds; 0: 30 */
	int64_t command_timeout; /* seconds per reply of the peer; 0: 300 */
	/* "domain=host:port" entries consulted before DNS ("*" matches every
	 * domain). Tests and split setups point domains at fixed hosts. */
	const char *const *routes;
	/* host:port of an SMTP server that gets every remote message instead
	 * of the MX hosts (NULL: DNS). */
	const char *smarthost;
	const char *smarthost_user;     /* AUTH PLAIN to the smarthost when set */
	const char *smarthost_password;
	bool smarthost_tls;             /* implicit TLS (port 465 style) */
	bool require_tls;               /* refuse to relay when STARTTLS is not offered */
	/* DNS: "ip" or "ip:port" of the resolver c-ares asks (NULL: the
	 * system's /etc/resolv.conf). */
	const char *resolver;
	uint16_t mx_port; /* port used for MX/A hosts; 0: 25 */
	uint64_t max_message_size; /* for DSNs that return content; 0: 35 MiB */
};

void transport_settings_default(struct transport_settings *s);

/* Creates the transport over store and dir (which must outlive it) and
 * starts the delivery committer thread. s is copied. 0, or -1 with
 * *error_r (static or thread-local). */
int transport_new(const struct transport_settings *s, struct store *store, struct directory *dir,
	struct transport **t_r, const char **error_r);
/* Stops the threads (waiting for deliveries in flight) and frees. Accepts
 * NULL. */
void transport_free(struct transport **t);
const struct transport_settings *transport_get_settings(const struct transport *t);

/* --- Recipients --- */

enum transport_rcpt_kind {
	TRANSPORT_RCPT_LOCAL = 1,  /* a user of ours: delivered into the store */
	TRANSPORT_RCPT_REMOTE,     /* another domain: queued for relay */
};

/* What an RCPT TO (or a message recipient) resolves to. A group becomes
 * several recipients. */
enum transport_lookup {
	TRANSPORT_LOOKUP_OK = 0,
	TRANSPORT_LOOKUP_NOT_LOCAL, /* not one of our domains */
	TRANSPORT_LOOKUP_UNKNOWN,   /* our domain, no such user or group */
	TRANSPORT_LOOKUP_DISABLED,  /* the user is disabled */
	TRANSPORT_LOOKUP_FULL,      /* over quota */
	TRANSPORT_LOOKUP_BAD_SYNTAX,
	TRANSPORT_LOOKUP_TEMPFAIL,  /* database trouble */
};

struct transport_rcpt {
	enum transport_rcpt_kind kind;
	const char *address; /* the address to deliver to (a local user's primary address) */
	const char *orig;    /* as the sender wrote it (RCPT TO, the group's address) */
	const char *orcpt;   /* RFC 3461 ORCPT parameter ("rfc822;x@y"), or NULL */
	unsigned notify;     /* TRANSPORT_NOTIFY_* */
	/* local only */
	struct guid mailbox_guid;
	uint64_t quota;
	int64_t user_id;
};

/* A growable list of recipients; the core/array.h macros work on it. */
struct transport_rcpt_list {
	struct transport_rcpt *v;
	size_t n;
	size_t cap;
	pool_t *pool;
};

/* Resolves address (an RFC 5321 Mailbox without angle brackets) into
 * recipients appended to out (allocated from pool): a local user, every
 * member of a local group (expanded through nested groups; disabled
 * members skipped), or, for a domain that is not ours, one remote
 * recipient. With quota_need > 0 a local user whose mailbox cannot take
 * that many more bytes is FULL (the SMTP SIZE, or a minimum).
 * Returns the result; out is unchanged unless it is OK or NOT_LOCAL (then
 * it got the remote recipient, which a caller that does not relay for
 * this client removes again). */
enum transport_lookup transport_rcpt_lookup(struct transport *t, const char *address,
	uint64_t quota_need, pool_t *pool, struct transport_rcpt_list *out, const char **error_r);

/* 1 if domain is one of ours, 0 if not, -1 on error. */
int transport_domain_is_local(struct transport *t, const char *domain);

/* --- Messages --- */

struct transport_envelope {
	const char *id;        /* the message's id (transport_new_id); NULL: a new one */
	const char *mail_from; /* "" for the null reverse-path */
	const char *envid;     /* RFC 3461 ENVID (xtext as received), or NULL */
	bool ret_hdrs;         /* RFC 3461 RET=HDRS */
	bool smtputf8;         /* RFC 6531 */
	bool body_8bit;        /* BODY=8BITMIME */
	const struct transport_rcpt *rcpts;
	size_t rcpt_count;
	/* For the queue's records and logs: who handed the message in. */
	const char *received_from; /* "smtp 127.0.0.1", "submit alice@x" */
};

/* Per-recipient outcome of transport_deliver. */
enum transport_result {
	TRANSPORT_RESULT_OK = 0,    /* stored (local) or queued (remote) durably */
	TRANSPORT_RESULT_TEMPFAIL,  /* nothing durable: the caller answers 4xx */
	TRANSPORT_RESULT_BOUNCED,   /* failed for good after acceptance; a DSN was queued */
};

/* Called once when every recipient of a delivery is settled (on the
 * committer's thread: must not block for long). results has rcpt_count
 * entries; overall is TEMPFAIL if nothing at all was made durable (the
 * caller should answer 4xx), otherwise OK. id names the message in logs. */
typedef void transport_done_fn(void *ctx, enum transport_result overall,
	const enum transport_result *results, const char *id);

/* Delivers a message: local recipients into their Inbox (one blob for all,
 * committed durably in a batch shared with concurrent deliveries, a
 * new-mail notification each), remote recipients into the outbound queue.
 * A local delivery that fails for good (over quota) produces a DSN to the
 * sender unless NOTIFY=NEVER. mime (the whole message, CRLF lines) is
 * copied: the caller may free it when this returns. done is called exactly
 * once, possibly before this returns. */
void transport_deliver(struct transport *t, const struct transport_envelope *env,
	const void *mime, size_t len, transport_done_fn *done, void *ctx);

/* The same, waiting for the outcome. Returns the overall result; per
 * recipient results in results_r (rcpt_count entries) when not NULL; the
 * id (from pool) in *id_r when not NULL. */
enum transport_result transport_deliver_wait(struct transport *t,
	const struct transport_envelope *env, const void *mime, size_t len,
	enum transport_result *results_r, pool_t *pool, const char **id_r);

/* A new message id: 16 hex digits, unique within this data directory
 * (time and a counter). */
void transport_new_id(struct transport *t, char out[17]);

#endif
