/* The POP3 front-end (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034
 * SASL, RFC 3206 response codes, MS-OXPOP3 AUTH NTLM): serves each user's
 * Inbox as a maildrop. docs/pop3.md describes the behaviour.
 *
 * `hermod serve` fills a struct pop3_server (src/cmd/serve_pop3.c) and
 * registers listeners with pop3_protocol and the server as protocol_ctx. */
#ifndef PROTO_POP3_POP3_H
#define PROTO_POP3_POP3_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "directory/directory.h"
#include "directory/throttle.h"
#include "net/net.h"
#include "store/store.h"

/* EXPIRE NEVER (RFC 2449 section 6.7). */
#define POP3_EXPIRE_NEVER (-1)

struct pop3_settings {
	const char *hostname;       /* greeting, NTLM target */
	size_t max_line;            /* longest command line, CRLF included */
	unsigned max_bad_commands;  /* invalid commands in a row before disconnect */
	unsigned max_auth_failures; /* failed logins in a session before disconnect */
	unsigned idle_timeout_s;    /* after login (RFC 1939 section 3: at least 10 minutes) */
	unsigned preauth_timeout_s; /* before login */
	bool allow_plaintext;       /* [auth] allow_plaintext: passwords without TLS */
	bool loopback_secure;       /* loopback peers count as secure */
	int expire_days;            /* EXPIRE policy: days, 0, or POP3_EXPIRE_NEVER */
	unsigned login_delay_s;     /* LOGIN-DELAY: minimum seconds between logins; 0: none */
	bool ntlm;                  /* offer AUTH NTLM (MS-OXPOP3) */
};

/* Fills the defaults (the ones src/cmd/settings.c declares). */
void pop3_settings_default(struct pop3_settings *set);

struct pop3_server {
	struct pop3_settings set;
	struct store *store;
	struct directory *dir;
	struct directory_throttle *throttle; /* may be NULL */
	/* LOGIN-DELAY: the last login per user; guarded by lock. */
	pthread_mutex_t lock;
	struct hash *last_login;
};

/* Prepares srv (set, store, dir and throttle are filled by the caller
 * afterwards or before: init does not touch them). */
void pop3_server_init(struct pop3_server *srv);
/* Frees what init allocated. */
void pop3_server_deinit(struct pop3_server *srv);

/* The listener's max_command for these settings (SASL responses may be
 * longer than command lines). */
size_t pop3_max_command(const struct pop3_settings *set);

extern const struct net_protocol pop3_protocol;

#endif
