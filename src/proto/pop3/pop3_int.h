/* Internal to src/proto/pop3: the session and what its files share. */
#ifndef PROTO_POP3_POP3_INT_H
#define PROTO_POP3_POP3_INT_H

#include "core/buf.h"
#include "core/pool.h"
#include "directory/auth.h"
#include "proto/pop3/parser.h"
#include "proto/pop3/pop3.h"
#include "store/changes.h"

/* The longest user name taken (RFC 5321 addresses are at most 254). */
#define POP3_USER_NAME_MAX 320

/* RFC 1939 section 3 states; UPDATE is entered and left inside QUIT. */
enum pop3_state {
	POP3_STATE_AUTHORIZATION,
	POP3_STATE_TRANSACTION,
};

/* A SASL exchange in progress (RFC 5034): the next line is a response. */
enum pop3_sasl {
	POP3_SASL_NONE,
	POP3_SASL_PLAIN,      /* waiting for the PLAIN message */
	POP3_SASL_LOGIN_USER, /* LOGIN: waiting for the user name */
	POP3_SASL_LOGIN_PASS, /* LOGIN: waiting for the password */
	POP3_SASL_NTLM,       /* NTLM: waiting for the next NTLMSSP message */
};

/* One message of the maildrop, as it was when the session logged in. */
struct pop3_msg {
	uint32_t uid;
	mapi_id_t mid;
	uint64_t size;
	uint64_t internal_date; /* FILETIME */
	struct store_blob_ref mime;
	bool deleted;
	bool retrieved; /* RETR'd in this session (EXPIRE 0) */
};

struct pop3_session {
	struct pop3_server *srv;
	struct net_conn *conn;
	pool_t *pool;     /* the connection's */
	pool_t *cmd_pool; /* cleared after every command */
	struct buf out;   /* the reply being built (heap) */
	unsigned char *chunk; /* RETR/TOP read buffer (heap), made on first use */
	enum pop3_state state;
	enum pop3_sasl sasl;
	struct directory_ntlm *ntlm;
	bool ntlm_challenged; /* the CHALLENGE_MESSAGE was sent */
	/* USER's argument, or LOGIN's user name; "" when none. Fixed, so
	 * that repeated USER commands cannot grow the connection's pool. */
	char user_name[POP3_USER_NAME_MAX + 1];
	unsigned bad_commands;
	unsigned auth_failures;
	bool closing;
	bool bad; /* set by a handler: the command counts as invalid */

	/* TRANSACTION */
	struct directory_user *user;
	struct store_mailbox *mb;
	mapi_id_t inbox;
	uint32_t uidvalidity;
	struct pop3_msg *msgs;
	uint32_t count;
	uint32_t live_count;  /* not marked deleted */
	uint64_t live_size;
};

/* Replies. pop3_ok/pop3_err write "+OK text" / "-ERR text" and CRLF;
 * code is an RFC 3206 response code without brackets, or NULL. */
void pop3_ok(struct pop3_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pop3_err(struct pop3_session *s, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Sends s->out to the client (back-pressure applies). -1 if the
 * connection is gone. */
int pop3_flush(struct pop3_session *s);

/* True when passwords may be sent on this connection (TLS, loopback
 * when loopback_secure, or allow_plaintext). */
bool pop3_plaintext_ok(struct pop3_session *s);

/* auth.c */
void pop3_cmd_user(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_pass(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_auth(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_stls(struct pop3_session *s, const struct pop3_command *cmd);
/* A line while a SASL exchange is in progress. */
void pop3_sasl_continue(struct pop3_session *s, struct slice line);
/* Ends a SASL exchange (cancel, error, close). */
void pop3_sasl_reset(struct pop3_session *s);
/* The mechanisms offered on this connection, space-separated (may be ""). */
const char *pop3_sasl_mechanisms(struct pop3_session *s);

/* maildrop.c */
/* Opens user's Inbox and takes the maildrop snapshot; writes +OK or
 * -ERR. Returns 0 when the session is in TRANSACTION. */
int pop3_maildrop_open(struct pop3_session *s, struct directory_user *user);
void pop3_maildrop_close(struct pop3_session *s);
void pop3_cmd_stat(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_list(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_uidl(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_retr(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_top(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_dele(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_rset(struct pop3_session *s, const struct pop3_command *cmd);
/* The UPDATE state (RFC 1939 section 6): removes the messages marked
 * deleted through the store. Writes the QUIT reply. */
void pop3_update(struct pop3_session *s);

#endif
