/* The IMAP service of `hermod serve`: [imap] settings, listeners on
 * [imap] listen (STARTTLS) and listen_tls (implicit TLS). */
#include "cmd/serve.h"
#include "proto/imap/imap.h"

static struct imap_server imap_srv;

static int serve_imap_start(struct serve_ctx *sc, const char **error_r)
{
	const struct config *cfg = sc->cfg;
	struct imap_server *srv = &imap_srv;
	imap_settings_default(&srv->set);
	srv->set.limits.max_line = config_get_size(cfg, "imap", "max_line");
	srv->set.limits.max_literal = config_get_size(cfg, "imap", "max_literal");
	srv->set.limits.max_append = config_get_size(cfg, "imap", "max_append");
	srv->set.limits.max_depth = (unsigned)config_get_int(cfg, "imap", "max_depth");
	srv->set.max_bad_commands = (unsigned)config_get_int(cfg, "imap", "max_bad_commands");
	srv->set.idle_timeout_s = (unsigned)config_get_time(cfg, "imap", "idle_timeout");
	srv->set.preauth_timeout_s = (unsigned)config_get_time(cfg, "imap", "preauth_timeout");
	srv->set.loopback_secure = config_get_bool(cfg, "imap", "loopback_secure");
	srv->set.ntlm = config_get_bool(cfg, "imap", "ntlm");
	srv->set.allow_plaintext = config_get_bool(cfg, "auth", "allow_plaintext");
	srv->set.hostname = config_get_str(cfg, "server", "hostname");
	srv->store = sc->store;
	srv->dir = sc->dir;
	srv->throttle = sc->throttle;
	/* The framer raises the limit per command for literals. */
	struct net_listener_config lc = {
		.protocol = &imap_protocol,
		.protocol_ctx = srv,
		.tls = sc->tls,
		.max_command = srv->set.limits.max_line + 1024,
		.idle_timeout_s = srv->set.preauth_timeout_s,
	};
	if (serve_listen(sc, "imap", "listen", "imap", &lc, error_r) < 0)
		return -1;
	lc.implicit_tls = true;
	return serve_listen(sc, "imap", "listen_tls", "imaps", &lc, error_r);
}

const struct serve_service serve_imap = {"imap", serve_imap_start, NULL};
