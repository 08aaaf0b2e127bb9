/* Internal to src/transport: the SMTP client that relays queued messages
 * to other servers (RFC 5321 section 5 for finding them), and the DSN
 * writer (RFC 3464). */
#ifndef TRANSPORT_RELAY_H
#define TRANSPORT_RELAY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/pool.h"
#include "transport/transport.h"

enum relay_status {
	RELAY_OK = 0,
	RELAY_TEMP, /* try again later */
	RELAY_PERM, /* will never work: bounce */
};

struct relay_rcpt {
	const char *address;
	const char *orcpt;
	unsigned notify;
	/* out */
	enum relay_status status;
	char *reply;       /* the peer's reply or our diagnosis, for logs and DSNs */
	char status_code[12]; /* enhanced status "5.1.1" */
	const char *remote_mta; /* the host that answered, or NULL */
};

struct relay_msg {
	const char *id;
	const char *mail_from;
	const char *envid;
	bool ret_hdrs, smtputf8, body_8bit;
	const unsigned char *data;
	size_t len;
};

/* Delivers msg to the rcpts (all in domain) through the route, the
 * smarthost or the domain's MX hosts, setting each rcpt's outcome.
 * Blocking (on a queue runner thread), bounded by the connect and command
 * timeouts. */
void transport_relay(struct transport *t, const struct relay_msg *msg, const char *domain,
	struct relay_rcpt *rcpts, size_t count, pool_t *pool);

/* Writes a DSN (RFC 3464 multipart/report) to sender about rcpts whose
 * action is "failed" (or "delayed" / "delivered" / "relayed" as given)
 * into out. original (len octets) is returned whole, or only its header
 * when ret_hdrs or when it is larger than max_return. */
struct dsn_rcpt {
	const char *address;
	const char *orcpt;
	const char *action;  /* "failed", "delayed", "delivered", "relayed" */
	const char *status;  /* "5.2.2" */
	const char *diagnostic; /* "smtp; 552 5.2.2 Mailbox full" or NULL */
	const char *remote_mta; /* or NULL */
};
void transport_dsn_write(struct buf *out, const char *hostname, const char *id,
	const char *sender, const char *envid, int64_t arrival, const struct dsn_rcpt *rcpts,
	size_t count, const unsigned char *original, size_t len, bool ret_hdrs, size_t max_return);

#endif
