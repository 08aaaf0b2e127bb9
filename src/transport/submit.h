/* The submit path: sending a message object that is in a user's mailbox
 * (MS-OXOMSG: the Outbox). EWS SendItem and CreateItem with
 * SendAndSaveCopy, ActiveSync SendMail, RopSubmitMessage and
 * `hermod send` call transport_submit. */
#ifndef TRANSPORT_SUBMIT_H
#define TRANSPORT_SUBMIT_H

#include "mapi/message.h"
#include "transport/transport.h"

struct transport_submit_result {
	char id[17];         /* the transport's id for the message */
	size_t delivered;    /* recipients stored or queued (after group expansion) */
	size_t undeliverable; /* recipients nobody has: a DSN went to the user */
	mapi_id_t sent_mid;  /* the original in Sent Items (0 if deleted) */
	/* With -1: the message's From is an address the user may not send
	 * as (Exchange's ErrorSendAsDenied); nothing was sent. */
	bool send_as_denied;
};

/* Sends message mid of folder fid in mb (opened by the caller for user,
 * who must own it): reads it, stamps the sender (PR_SENDER_* and
 * PR_SENT_REPRESENTING_* both: the From the message has when the user may
 * send as it, directory_send_as_allowed: own addresses and Send As
 * grants; the user when it has none; a From the user may not send as is
 * refused, res->send_as_denied) and PR_CLIENT_SUBMIT_TIME, uses the From
 * as the envelope sender, writes its MIME (MS-OXCMAIL 2.1;
 * Bcc in the envelope only), resolves its recipients (SMTP or EX
 * addresses; groups expanded) and delivers (transport_deliver: durable for
 * every recipient before this returns 0). Unknown recipients of our
 * domains get a non-delivery report to the user. Then the original moves
 * to Sent Items, marked read (or is deleted with PR_DELETE_AFTER_SUBMIT).
 * Blocks the calling thread (a worker) until the delivery is durable.
 * Returns 0 with *res filled, or -1 with a static *error_r (nothing was
 * sent: no such message, From denied, no recipients, unreadable, storage
 * trouble). */
int transport_submit(struct transport *t, struct store_mailbox *mb,
	const struct directory_user *user, mapi_id_t fid, mapi_id_t mid,
	struct transport_submit_result *res, pool_t *pool, const char **error_r);

/* Reads a stored message (properties, recipients, attachments, embedded
 * messages; large values through streams up to max_size octets) into a
 * message object from pool, named properties mapped into its own name
 * table. Returns an ec (ecTooBig past max_size). */
uint32_t transport_message_read(struct store_mailbox *mb, struct store_message *m, pool_t *pool,
	uint64_t max_size, struct mapi_message **msg_r);

/* Writes a message object into a new store message (before its first
 * save), named properties mapped into mb. Returns an ec. */
uint32_t transport_message_write(struct store_mailbox *mb, struct store_message *m,
	const struct mapi_message *msg);

#endif
