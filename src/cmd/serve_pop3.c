/* The POP3 service of `hermod serve`: [pop3] settings, listeners on
 * [pop3] listen (STLS offered) and listen_tls (implicit TLS). */
#include <stdlib.h>
#include <string.h>

#include "cmd/serve.h"
#include "core/str.h"
#include "proto/pop3/pop3.h"

static struct pop3_server pop3_srv;

static int serve_pop3_start(struct serve_ctx *sc, const char **error_r)
{
	const struct config *cfg = sc->cfg;
	struct pop3_server *srv = &pop3_srv;
	memset(srv, 0, sizeof(*srv));
	struct pop3_settings *set = &srv->set;
	pop3_settings_default(set);
	set->hostname = config_get_str(cfg, "server", "hostname");
	set->max_line = (size_t)config_get_size(cfg, "pop3", "max_line");
	set->max_bad_commands = (unsigned)config_get_int(cfg, "pop3", "max_bad_commands");
	set->max_auth_failures = (unsigned)config_get_int(cfg, "pop3", "max_auth_failures");
	set->idle_timeout_s = (unsigned)config_get_time(cfg, "pop3", "idle_timeout");
	set->preauth_timeout_s = (unsigned)config_get_time(cfg, "pop3", "preauth_timeout");
	set->loopback_secure = config_get_bool(cfg, "pop3", "loopback_secure");
	set->allow_plaintext = config_get_bool(cfg, "auth", "allow_plaintext");
	set->login_delay_s = (unsigned)config_get_time(cfg, "pop3", "login_delay");
	set->ntlm = config_get_bool(cfg, "pop3", "ntlm");
	const char *expire = config_get_str(cfg, "pop3", "expire");
	uint64_t days;
	if (str_case_eq(expire, "never")) {
		set->expire_days = POP3_EXPIRE_NEVER;
	} else if (str_to_u64(expire, 36500, &days) == 0) {
		set->expire_days = (int)days;
	} else {
		*error_r = "[pop3] expire must be never or a number of days (0..36500)";
		return -1;
	}
	srv->store = sc->store;
	srv->dir = sc->dir;
	srv->throttle = sc->throttle;
	pop3_server_init(srv);
	struct net_listener_config lc = {
		.protocol = &pop3_protocol,
		.protocol_ctx = srv,
		.tls = sc->tls,
		.max_command = pop3_max_command(set),
		.idle_timeout_s = set->preauth_timeout_s,
	};
	if (serve_listen(sc, "pop3", "listen", "pop3", &lc, error_r) < 0)
		return -1;
	lc.implicit_tls = true;
	return serve_listen(sc, "pop3", "listen_tls", "pop3s", &lc, error_r);
}

static void serve_pop3_stop(struct serve_ctx *sc)
{
	pop3_server_deinit(&pop3_srv);
}

const struct serve_service serve_pop3 = {"pop3", serve_pop3_start, serve_pop3_stop};
