/* What `hermod serve` hands to each service it starts. Internal to src/cmd.
 *
 * A service (a protocol front-end, the outbound queue...) lives in
 * serve_<name>.c: it reads its settings from cfg, builds its state from the
 * shared handles, and registers its listeners with serve_listen. Services
 * are named in src/cmd/meson.build (hermod_services) and started in that
 * order. */
#ifndef CMD_SERVE_H
#define CMD_SERVE_H

#include <stdbool.h>
#include <stddef.h>

#include "cmd/cmd.h"
#include "core/buf.h"
#include "core/pool.h"
#include "directory/directory.h"
#include "directory/throttle.h"
#include "net/net.h"
#include "store/store.h"

struct transport;

struct serve_ctx {
	struct cmd_ctx *cmd;
	const struct config *cfg;
	pool_t *pool; /* lives until the server exits */
	struct net_server *net;
	SSL_CTX *tls;          /* the server certificate, for implicit TLS and STARTTLS */
	struct directory *dir; /* users, domains, credentials */
	struct directory_throttle *throttle; /* login failures, shared by every protocol */
	/* The one information store of the process (its notifications reach
	 * every session only within one struct store). */
	struct store *store;
	/* Delivery, the outbound queue and submission; set by the
	 * "transport" service (serve_transport.c) for the services after it. */
	struct transport *transport;
	/* "imap 127.0.0.1:1143, imaps 127.0.0.1:1993, ..." for the ready line */
	struct buf listening;
};

struct serve_service {
	const char *name;
	/* Returns 0, or -1 with *error_r set (the server then exits 1). */
	int (*start)(struct serve_ctx *sc, const char **error_r);
	/* After the net server has stopped: release the service's state. */
	void (*stop)(struct serve_ctx *sc);
};

/* Listens on every address of the list setting [section] name (an empty
 * list means "off"); label names it in the ready line ("imaps"). Returns 0,
 * or -1 with *error_r naming the address and the reason. */
int serve_listen(struct serve_ctx *sc, const char *section, const char *name, const char *label,
        const struct net_listener_config *tmpl, const char **error_r);

#endif
