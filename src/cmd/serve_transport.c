/* The "transport" service of `hermod serve`: local delivery, the outbound
 * queue runner and the submit path, shared by the protocols started after
 * it (sc->transport). Settings: [transport]. */
#include <string.h>

#include "cmd/serve.h"
#include "core/config.h"
#include "transport/queue.h"
#include "transport/transport.h"

static const char *opt_str(const struct config *cfg, const char *name)
{
	const char *v = config_get_str(cfg, "transport", name);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Fills s from [transport] and [server]; used by serve and `hermod send`. */
void serve_transport_settings(const struct cmd_ctx *ctx, struct transport_settings *s);
void serve_transport_settings(const struct cmd_ctx *ctx, struct transport_settings *s)
{
	const struct config *cfg = ctx->cfg;
	transport_settings_default(s);
	s->data_dir = ctx->data_dir;
	s->hostname = config_get_str(cfg, "server", "hostname");
	s->max_batch = (unsigned)config_get_int(cfg, "transport", "max_batch");
	s->delivery_threads = (unsigned)config_get_int(cfg, "transport", "delivery_threads");
	s->queue_lifetime = config_get_time(cfg, "transport", "queue_lifetime");
	s->retry_min = config_get_time(cfg, "transport", "retry_min");
	s->retry_max = config_get_time(cfg, "transport", "retry_max");
	s->relay_threads = (unsigned)config_get_int(cfg, "transport", "relay_threads");
	s->connect_timeout = config_get_time(cfg, "transport", "connect_timeout");
	s->command_timeout = config_get_time(cfg, "transport", "command_timeout");
	s->routes = (const char *const *)config_get_list(cfg, "transport", "routes");
	s->smarthost = opt_str(cfg, "smarthost");
	s->smarthost_user = opt_str(cfg, "smarthost_user");
	s->smarthost_password = opt_str(cfg, "smarthost_password");
	s->smarthost_tls = config_get_bool(cfg, "transport", "smarthost_tls");
	s->require_tls = config_get_bool(cfg, "transport", "require_tls");
	s->resolver = opt_str(cfg, "resolver");
	s->mx_port = (uint16_t)config_get_int(cfg, "transport", "mx_port");
	s->max_message_size = config_get_size(cfg, "smtp", "max_message_size");
}

static int transport_start(struct serve_ctx *sc, const char **error_r)
{
	struct transport_settings s;
	serve_transport_settings(sc->cmd, &s);
	if (transport_new(&s, sc->store, sc->dir, &sc->transport, error_r) < 0)
		return -1;
	return transport_queue_start(sc->transport, error_r);
}

static void transport_stop(struct serve_ctx *sc)
{
	transport_free(&sc->transport);
}

const struct serve_service serve_transport = {"transport", transport_start, transport_stop};
