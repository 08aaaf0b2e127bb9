/* The IMAP front-end (RFC 3501, RFC 9051 where asked for, and the
 * extensions listed in docs/imap.md): what `hermod serve` needs to start
 * it. */
#ifndef PROTO_IMAP_IMAP_H
#define PROTO_IMAP_IMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "directory/directory.h"
#include "directory/throttle.h"
#include "net/net.h"
#include "proto/imap/parser.h"
#include "store/store.h"

struct imap_settings {
	struct imap_parser_limits limits;
	bool allow_plaintext;        /* LOGIN / AUTHENTICATE without TLS anywhere */
	bool loopback_secure;        /* ... and from loopback addresses */
	bool ntlm;                   /* offer AUTHENTICATE NTLM (MS-OXIMAP4) */
	unsigned max_bad_commands;   /* errors in a row before the connection is cut */
	unsigned idle_timeout_s;     /* after login (RFC 3501 5.4: at least 30 minutes) */
	unsigned preauth_timeout_s;  /* before login */
	const char *hostname;        /* greeting */
};

/* Defaults (also declared in src/cmd/settings.c [imap]). */
void imap_settings_default(struct imap_settings *s);

/* What every connection of the service shares; owned by the caller, must
 * outlive the net server. */
struct imap_server {
	struct imap_settings set;
	struct store *store;
	struct directory *dir;
	struct directory_throttle *throttle;
};

/* The protocol to hand to net_server_listen (protocol_ctx: the struct
 * imap_server). */
extern const struct net_protocol imap_protocol;

#endif
