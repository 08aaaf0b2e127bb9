/* POP3 sessions: the net callbacks, the command table and state checks,
 * CAPA, NOOP and QUIT (RFC 1939, RFC 2449). */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "proto/pop3/pop3_int.h"

/* base64 of the largest SASL message we take (an NTLM AUTHENTICATE of
 * 8 KiB), with its CRLF. */
#define POP3_SASL_LINE_MAX (((8192 + 2) / 3) * 4 + 2)

void pop3_settings_default(struct pop3_settings *set)
{
	memset(set, 0, sizeof(*set));
	set->hostname = "localhost";
	set->max_line = 1024;
	set->max_bad_commands = 10;
	set->max_auth_failures = 3;
	set->idle_timeout_s = 600;
	set->preauth_timeout_s = 60;
	set->loopback_secure = true;
	set->expire_days = POP3_EXPIRE_NEVER;
	set->ntlm = false;
}

size_t pop3_max_command(const struct pop3_settings *set)
{
	return set->max_line > POP3_SASL_LINE_MAX ? set->max_line : POP3_SASL_LINE_MAX;
}

void pop3_server_init(struct pop3_server *srv)
{
	pthread_mutex_init(&srv->lock, NULL);
	srv->last_login = hash_new(64);
}

void pop3_server_deinit(struct pop3_server *srv)
{
	if (srv->last_login != NULL) {
		struct hash_iter it;
		hash_iter_init(&it);
		while (hash_iter_next(srv->last_login, &it))
			free(it.value);
		hash_free(&srv->last_login);
	}
	pthread_mutex_destroy(&srv->lock);
}

/* --- replies --- */

static void pop3_vreply(struct pop3_session *s, const char *status, const char *code,
	const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void pop3_vreply(struct pop3_session *s, const char *status, const char *code,
	const char *fmt, va_list ap)
{
	buf_append_str(&s->out, status);
	if (code != NULL)
		buf_printf(&s->out, " [%s]", code);
	buf_append_byte(&s->out, ' ');
	buf_vprintf(&s->out, fmt, ap);
	buf_append(&s->out, "\r\n", 2);
}

void pop3_ok(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pop3_vreply(s, "+OK", NULL, fmt, ap);
	va_end(ap);
}

void pop3_err(struct pop3_session *s, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pop3_vreply(s, "-ERR", code, fmt, ap);
	va_end(ap);
}

int pop3_flush(struct pop3_session *s)
{
	if (s->out.len == 0)
		return 0;
	int rc = net_conn_write(s->conn, s->out.data, s->out.len);
	buf_reset(&s->out);
	return rc;
}

static bool pop3_is_loopback(const char *ip)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (ip == NULL)
		return false;
	if (inet_pton(AF_INET, ip, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, ip, &a6) == 1) {
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
	}
	return false;
}

bool pop3_plaintext_ok(struct pop3_session *s)
{
	if (net_conn_is_tls(s->conn) || s->srv->set.allow_plaintext)
		return true;
	return s->srv->set.loopback_secure && pop3_is_loopback(net_conn_peer_ip(s->conn));
}

/* --- commands handled here --- */

/* RFC 2449 section 5. */
static void pop3_cmd_capa(struct pop3_session *s, const struct pop3_command *cmd)
{
	const struct pop3_settings *set = &s->srv->set;
	pop3_ok(s, "Capability list follows");
	buf_append_str(&s->out, "CAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
				"PIPELINING\r\n");
	if (s->state == POP3_STATE_AUTHORIZATION) {
		if (pop3_plaintext_ok(s))
			buf_append_str(&s->out, "USER\r\n");
		const char *mechs = pop3_sasl_mechanisms(s);
		if (*mechs != '\0')
			buf_printf(&s->out, "SASL %s\r\n", mechs);
		if (net_conn_tls_available(s->conn) && !net_conn_is_tls(s->conn))
			buf_append_str(&s->out, "STLS\r\n");
	}
	if (set->expire_days == POP3_EXPIRE_NEVER)
		buf_append_str(&s->out, "EXPIRE NEVER\r\n");
	else
		buf_printf(&s->out, "EXPIRE %d\r\n", set->expire_days);
	if (set->login_delay_s > 0)
		buf_printf(&s->out, "LOGIN-DELAY %u\r\n", set->login_delay_s);
	buf_append_str(&s->out, "IMPLEMENTATION hermod\r\n.\r\n");
}

static void pop3_cmd_quit(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (s->state == POP3_STATE_TRANSACTION)
		pop3_update(s);
	else
		pop3_ok(s, "%s POP3 server signing off", s->srv->set.hostname);
	s->closing = true;
}

static void pop3_cmd_noop(struct pop3_session *s, const struct pop3_command *cmd)
{
	buf_append_str(&s->out, "+OK\r\n");
}

static void pop3_cmd_apop(struct pop3_session *s, const struct pop3_command *cmd)
{
	/* APOP needs the plain password on the server (RFC 1939 section
	 * 7); we keep only hashes. The greeting has no timestamp, so
	 * clients do not try it. */
	pop3_err(s, NULL, "APOP is not supported; use USER/PASS or AUTH");
}

/* For the log context's action (static strings). */
static const char *const pop3_cmd_names[] = {
	[POP3_CMD_UNKNOWN] = "?", [POP3_CMD_USER] = "USER", [POP3_CMD_PASS] = "PASS",
	[POP3_CMD_APOP] = "APOP", [POP3_CMD_AUTH] = "AUTH", [POP3_CMD_STLS] = "STLS",
	[POP3_CMD_CAPA] = "CAPA", [POP3_CMD_QUIT] = "QUIT", [POP3_CMD_STAT] = "STAT",
	[POP3_CMD_LIST] = "LIST", [POP3_CMD_RETR] = "RETR", [POP3_CMD_DELE] = "DELE",
	[POP3_CMD_NOOP] = "NOOP", [POP3_CMD_RSET] = "RSET", [POP3_CMD_TOP] = "TOP",
	[POP3_CMD_UIDL] = "UIDL", [POP3_CMD_LAST] = "LAST",
};

enum pop3_when {
	POP3_IN_AUTH = 1,
	POP3_IN_TRANS = 2,
	POP3_IN_ANY = 3,
};

struct pop3_cmd_def {
	void (*fn)(struct pop3_session *s, const struct pop3_command *cmd);
	enum pop3_when when;
	/* arguments taken: min..max (PASS and AUTH check their own) */
	unsigned min_args, max_args;
};

static const struct pop3_cmd_def pop3_cmds[] = {
	[POP3_CMD_USER] = {pop3_cmd_user, POP3_IN_AUTH, 1, 1},
	[POP3_CMD_PASS] = {pop3_cmd_pass, POP3_IN_AUTH, 0, ~0u},
	[POP3_CMD_APOP] = {pop3_cmd_apop, POP3_IN_AUTH, 0, ~0u},
	[POP3_CMD_AUTH] = {pop3_cmd_auth, POP3_IN_AUTH, 0, 2},
	[POP3_CMD_STLS] = {pop3_cmd_stls, POP3_IN_AUTH, 0, 0},
	[POP3_CMD_CAPA] = {pop3_cmd_capa, POP3_IN_ANY, 0, 0},
	[POP3_CMD_QUIT] = {pop3_cmd_quit, POP3_IN_ANY, 0, 0},
	[POP3_CMD_STAT] = {pop3_cmd_stat, POP3_IN_TRANS, 0, 0},
	[POP3_CMD_LIST] = {pop3_cmd_list, POP3_IN_TRANS, 0, 1},
	[POP3_CMD_RETR] = {pop3_cmd_retr, POP3_IN_TRANS, 1, 1},
	[POP3_CMD_DELE] = {pop3_cmd_dele, POP3_IN_TRANS, 1, 1},
	[POP3_CMD_NOOP] = {pop3_cmd_noop, POP3_IN_TRANS, 0, 0},
	[POP3_CMD_RSET] = {pop3_cmd_rset, POP3_IN_TRANS, 0, 0},
	[POP3_CMD_TOP] = {pop3_cmd_top, POP3_IN_TRANS, 2, 2},
	[POP3_CMD_UIDL] = {pop3_cmd_uidl, POP3_IN_TRANS, 0, 1},
};

/* A command that was refused for being malformed, unknown or out of
 * place. Returns -1 when the session has had too many in a row. */
static int pop3_bad(struct pop3_session *s)
{
	if (++s->bad_commands < s->srv->set.max_bad_commands)
		return 0;
	pop3_err(s, NULL, "Too many invalid commands, closing the connection");
	log_info(net_conn_log(s->conn), "closing after %u invalid commands", s->bad_commands);
	return -1;
}

static int pop3_command(struct pop3_session *s, const unsigned char *data, size_t len)
{
	if (s->sasl != POP3_SASL_NONE) {
		if (len > POP3_SASL_LINE_MAX) {
			pop3_sasl_reset(s);
			pop3_err(s, NULL, "Authentication line too long");
			return pop3_bad(s);
		}
		pop3_sasl_continue(s, pop3_line_strip(data, len));
		return 0;
	}
	if (len > s->srv->set.max_line) {
		pop3_err(s, NULL, "Line too long");
		return pop3_bad(s);
	}
	struct pop3_command cmd;
	const char *error;
	if (pop3_command_parse(data, len, &cmd, &error) < 0) {
		pop3_err(s, NULL, "%s", error);
		return pop3_bad(s);
	}
	if (cmd.cmd == POP3_CMD_UNKNOWN || cmd.cmd == POP3_CMD_LAST) {
		pop3_err(s, NULL, "Unknown command");
		return pop3_bad(s);
	}
	const struct pop3_cmd_def *def = &pop3_cmds[cmd.cmd];
	enum pop3_when now = s->state == POP3_STATE_AUTHORIZATION ? POP3_IN_AUTH : POP3_IN_TRANS;
	if ((def->when & now) == 0) {
		pop3_err(s, NULL, "Command not valid in this state");
		return pop3_bad(s);
	}
	if (cmd.argc < def->min_args || cmd.argc > def->max_args) {
		pop3_err(s, NULL, "Wrong number of arguments");
		return pop3_bad(s);
	}
	if (cmd.cmd != POP3_CMD_PASS && cmd.cmd != POP3_CMD_AUTH) {
		for (unsigned i = 0; i < cmd.argc; i++) {
			if (cmd.argv[i].len > POP3_ARG_MAX) {
				pop3_err(s, NULL, "Argument too long");
				return pop3_bad(s);
			}
		}
	}
	net_conn_log(s->conn)->action = pop3_cmd_names[cmd.cmd];
	s->bad = false;
	def->fn(s, &cmd);
	/* Arguments out of range and the like count as invalid too. */
	if (s->bad)
		return pop3_bad(s);
	s->bad_commands = 0;
	return 0;
}

/* --- net callbacks --- */

static int pop3_on_connect(struct net_conn *conn)
{
	pool_t *pool = net_conn_pool(conn);
	struct pop3_session *s = pool_alloc(pool, sizeof(*s));
	s->srv = net_conn_protocol_ctx(conn);
	s->conn = conn;
	s->pool = pool;
	s->cmd_pool = pool_new("pop3 command", 0);
	buf_init(&s->out, NULL);
	net_conn_set_ctx(conn, s);
	/* RFC 1939 section 4. No APOP timestamp: see pop3_cmd_apop. */
	pop3_ok(s, "%s POP3 server ready", s->srv->set.hostname);
	return pop3_flush(s);
}

static ssize_t pop3_frame(struct net_conn *conn, const unsigned char *data, size_t len)
{
	return net_frame_line(data, len);
}

static int pop3_on_command(struct net_conn *conn, const unsigned char *data, size_t len)
{
	struct pop3_session *s = net_conn_ctx(conn);
	int rc = pop3_command(s, data, len);
	pool_clear(s->cmd_pool);
	net_conn_log(conn)->action = NULL;
	if (pop3_flush(s) < 0 || rc < 0 || s->closing)
		return -1;
	return 0;
}

static void pop3_on_overflow(struct net_conn *conn)
{
	struct pop3_session *s = net_conn_ctx(conn);
	pop3_err(s, NULL, "Line too long, closing the connection");
	(void)pop3_flush(s);
}

static void pop3_on_timeout(struct net_conn *conn)
{
	struct pop3_session *s = net_conn_ctx(conn);
	/* RFC 1939 section 3: an autologout does not enter UPDATE. */
	pop3_err(s, NULL, "Autologout; idle for too long");
	(void)pop3_flush(s);
}

static void pop3_on_shutdown(struct net_conn *conn)
{
	struct pop3_session *s = net_conn_ctx(conn);
	pop3_err(s, "SYS/TEMP", "Server shutting down");
	(void)pop3_flush(s);
}

static void pop3_on_close(struct net_conn *conn)
{
	struct pop3_session *s = net_conn_ctx(conn);
	if (s == NULL)
		return;
	/* A session that ends without QUIT deletes nothing. */
	pop3_sasl_reset(s);
	pop3_maildrop_close(s);
	buf_deinit(&s->out);
	free(s->chunk);
	s->chunk = NULL;
	pool_free(&s->cmd_pool);
	net_conn_set_ctx(conn, NULL);
}

const struct net_protocol pop3_protocol = {
	.name = "pop3",
	.on_connect = pop3_on_connect,
	.frame = pop3_frame,
	.on_command = pop3_on_command,
	.on_overflow = pop3_on_overflow,
	.on_timeout = pop3_on_timeout,
	.on_shutdown = pop3_on_shutdown,
	.on_close = pop3_on_close,
};
