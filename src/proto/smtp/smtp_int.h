/* Internal to src/proto/smtp: the session shared by the command handlers
 * (smtp_session.c) and the AUTH mechanisms (smtp_auth.c). */
#ifndef PROTO_SMTP_SMTP_INT_H
#define PROTO_SMTP_SMTP_INT_H

#include "core/array.h"
#include "core/buf.h"
#include "core/log.h"
#include "proto/smtp/smtp.h"
#include "proto/smtp/smtp_parse.h"

/* An AUTH exchange's lines may be long (RFC 4954 4: 12288 octets). */
#define SMTP_AUTH_LINE_MAX 12288

enum smtp_frame_mode {
	SMTP_FRAME_COMMAND = 0,
	SMTP_FRAME_DATA,  /* lines of a DATA message */
	SMTP_FRAME_BDAT,  /* the octets of a BDAT chunk */
	SMTP_FRAME_SKIP,  /* the rest of an over-long line */
	SMTP_FRAME_AUTH,  /* AUTH continuation lines */
};

enum smtp_overflow {
	SMTP_OVERFLOW_NONE = 0,
	SMTP_OVERFLOW_TIMEOUT,
};

enum smtp_auth_mech {
	SMTP_AUTH_NONE = 0,
	SMTP_AUTH_PLAIN,
	SMTP_AUTH_LOGIN_USER,
	SMTP_AUTH_LOGIN_PASS,
	SMTP_AUTH_NTLM,
};

struct directory_ntlm;

struct smtp_session {
	struct net_conn *conn;
	const struct smtp_config *cfg;
	pool_t *pool;    /* the connection's */
	pool_t *tx_pool; /* the current transaction's */
	struct log_ctx *log;

	char *helo;
	bool esmtp;
	struct directory_user *user; /* after AUTH */
	unsigned errors, auth_failures;

	/* framing: read by the framer on the event loop, written by the
	 * handlers; the net runtime never runs both at once. */
	enum smtp_frame_mode fmode, skip_return;
	enum smtp_overflow overflow;
	uint64_t partial_since_ms;
	uint64_t data_since_ms;
	bool bad_pipelining;

	/* the transaction */
	bool in_tx;
	const char *mail_from;
	const char *envid;
	bool ret_hdrs, smtputf8, body_8bit;
	uint64_t declared_size; /* MAIL SIZE=, 0 if none */
	struct transport_rcpt_list rcpts;
	unsigned rcpt_cmds;
	struct buf body; /* heap */
	struct smtp_data_scan scan;
	bool bdat_active, bdat_last;
	uint64_t bdat_remaining, bdat_chunk_size;
	const char *bdat_failed; /* the reply for a failed BDAT sequence */
	bool waiting;            /* the transport has the message */

	/* AUTH */
	enum smtp_auth_mech auth_mech;
	char *auth_user; /* LOGIN: the user name given */
	struct directory_ntlm *ntlm;
	bool ntlm_challenged;
};

void smtp_reply(struct smtp_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int smtp_error(struct smtp_session *s);
void smtp_tx_reset(struct smtp_session *s);
bool smtp_auth_allowed_here(struct smtp_session *s);
int smtp_message_finish(struct smtp_session *s);

/* smtp_auth.c */
int smtp_cmd_auth(struct smtp_session *s, struct slice args);
int smtp_auth_continue(struct smtp_session *s, const char *line, size_t len);
/* Ends an AUTH exchange in progress (a bad line, the connection closing). */
void smtp_auth_abort(struct smtp_session *s);
/* Submission: may the authenticated user use this envelope sender / the
 * From: addresses of the message in s->body? 1 yes, 0 no, -1 error. */
int smtp_auth_sender_allowed(struct smtp_session *s, const struct smtp_path *p);
int smtp_auth_from_allowed(struct smtp_session *s);

#endif
