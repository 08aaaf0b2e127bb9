/* The "smtp" service of `hermod serve`: the inbound MTA ([smtp] listen)
 * and submission with STARTTLS (listen_submission) and implicit TLS
 * (listen_submissions). Needs the transport service before it. */
#include "cmd/serve.h"
#include "convert/convert.h"
#include "core/config.h"
#include "proto/smtp/smtp.h"

static struct smtp_config smtp_mta, smtp_sub;

static void smtp_settings(struct serve_ctx *sc, struct smtp_config *c, enum smtp_mode mode)
{
	const struct config *cfg = sc->cfg;
	smtp_config_default(c);
	c->mode = mode;
	c->hostname = config_get_str(cfg, "server", "hostname");
	c->default_domain = config_get_str(cfg, "server", "default_domain");
	c->transport = sc->transport;
	c->dir = sc->dir;
	c->throttle = sc->throttle;
	c->max_message_size = config_get_size(cfg, "smtp", "max_message_size");
	c->max_recipients = (unsigned)config_get_int(cfg, "smtp", "max_recipients");
	c->max_line_length = (size_t)config_get_int(cfg, "smtp", "max_line_length");
	c->max_errors = (unsigned)config_get_int(cfg, "smtp", "max_errors");
	c->max_auth_failures = (unsigned)config_get_int(cfg, "smtp", "max_auth_failures");
	c->command_timeout_s = (unsigned)config_get_time(cfg, "smtp", "command_timeout");
	c->data_timeout_s = (unsigned)config_get_time(cfg, "smtp", "data_timeout");
	c->allow_plaintext_auth = config_get_bool(cfg, "auth", "allow_plaintext");
	c->allow_plaintext_loopback = config_get_bool(cfg, "smtp", "allow_plaintext_loopback");
	c->enable_ntlm = config_get_bool(cfg, "smtp", "ntlm");
}

static int smtp_start(struct serve_ctx *sc, const char **error_r)
{
	if (sc->transport == NULL) {
		*error_r = "the smtp service needs the transport service";
		return -1;
	}
	/* GMime parses From: headers on submission (main.c has done it
	 * already; this keeps the service self-contained). */
	convert_init();
	smtp_settings(sc, &smtp_mta, SMTP_MODE_MTA);
	smtp_settings(sc, &smtp_sub, SMTP_MODE_SUBMISSION);
	struct net_listener_config lc = {
		.protocol = &smtp_protocol,
		.protocol_ctx = &smtp_mta,
		.tls = sc->tls,
		/* A DATA chunk (32 KiB) plus a line; command lines are
		 * limited by the framer itself. */
		.max_command = 64 * 1024,
		.idle_timeout_s = (unsigned)config_get_time(sc->cfg, "smtp", "idle_timeout"),
	};
	if (serve_listen(sc, "smtp", "listen", "smtp", &lc, error_r) < 0)
		return -1;
	lc.protocol_ctx = &smtp_sub;
	if (serve_listen(sc, "smtp", "listen_submission", "submission", &lc, error_r) < 0)
		return -1;
	lc.implicit_tls = true;
	if (serve_listen(sc, "smtp", "listen_submissions", "submissions", &lc, error_r) < 0)
		return -1;
	return 0;
}

const struct serve_service serve_smtp = {"smtp", smtp_start, NULL};
