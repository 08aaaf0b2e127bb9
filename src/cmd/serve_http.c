/* The HTTP service of `hermod serve`: the shared HTTP server ([http]
 * settings, listeners on listen and listen_tls) and the protocols that
 * plug into it as routes (Autodiscover, EWS; ActiveSync, MAPI over HTTP
 * as they land: each adds its registration here). */
#include <stdlib.h>
#include <string.h>

#include "cmd/serve.h"
#include "proto/autodiscover/autodiscover.h"
#include "proto/ews/ews.h"
#include "proto/http/http.h"

static struct http_server *http_srv;

static int serve_http_start(struct serve_ctx *sc, const char **error_r)
{
	const struct config *cfg = sc->cfg;
	struct http_settings hs = {
		.max_header_size = (size_t)config_get_size(cfg, "http", "max_header_size"),
		.max_headers = (unsigned)config_get_int(cfg, "http", "max_headers"),
		.max_body_size = (size_t)config_get_size(cfg, "http", "max_body_size"),
		.request_timeout_s = (unsigned)config_get_time(cfg, "http", "request_timeout"),
		.keepalive_timeout_s = (unsigned)config_get_time(cfg, "http", "keepalive_timeout"),
		.realm = config_get_str(cfg, "server", "hostname"),
		.server_name = "hermod",
		.allow_plaintext = config_get_bool(cfg, "auth", "allow_plaintext"),
		.offer_ntlm = config_get_bool(cfg, "http", "ntlm"),
	};
	http_srv = http_server_new(&hs, sc->dir, sc->throttle);

	struct ews_settings es = {
		.store = sc->store,
		.dir = sc->dir,
		.max_request = (size_t)config_get_size(cfg, "ews", "max_request_size"),
		.max_page = (unsigned)config_get_int(cfg, "ews", "max_page"),
		.dump_dir = config_get_str(cfg, "ews", "dump_dir"),
		.transport = sc->transport,
	};
	ews_register(http_srv, &es);

	struct autodiscover_settings ads = {
		.external_url = config_get_str(cfg, "http", "external_url"),
		.hostname = config_get_str(cfg, "server", "hostname"),
		.ews_path = EWS_PATH,
	};
	autodiscover_register(http_srv, sc->dir, &ads);

	struct net_listener_config lc = {.tls = sc->tls};
	http_listener_config(http_srv, &lc);
	if (serve_listen(sc, "http", "listen", "http", &lc, error_r) < 0)
		return -1;
	lc.implicit_tls = true;
	return serve_listen(sc, "http", "listen_tls", "https", &lc, error_r);
}

static void serve_http_stop(struct serve_ctx *sc)
{
	(void)sc;
	http_server_free(&http_srv);
}

const struct serve_service serve_http = {"http", serve_http_start, serve_http_stop};
