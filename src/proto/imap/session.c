/* The IMAP session: the net_protocol callbacks, the framer (the parser on
 * the event loop, with "+" continuations for synchronizing literals), the
 * dispatcher (state checks, UID prefix, error counting) and the reply
 * helpers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "directory/ntlm.h"
#include "mapi/errors.h"
#include "proto/imap/imap_int.h"

void imap_settings_default(struct imap_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->limits = (struct imap_parser_limits){
		.max_line = IMAP_PARSER_DEFAULT_MAX_LINE,
		.max_literal = IMAP_PARSER_DEFAULT_MAX_LITERAL,
		.max_append = IMAP_PARSER_DEFAULT_MAX_APPEND,
		.max_depth = IMAP_PARSER_DEFAULT_MAX_DEPTH,
		.max_tokens = IMAP_PARSER_DEFAULT_MAX_TOKENS,
		.max_literals = IMAP_PARSER_DEFAULT_MAX_LITERALS,
	};
	s->max_bad_commands = 20;
	s->idle_timeout_s = 1800;
	s->preauth_timeout_s = 60;
	s->hostname = "localhost";
	s->loopback_secure = true;
}

/* --- Replies --- */

int imap_flush_out(struct imap_session *s)
{
	if (s->out.len == 0)
		return 0;
	int r = net_conn_write(s->conn, s->out.data, s->out.len);
	buf_reset(&s->out);
	return r;
}

__attribute__((format(printf, 3, 0))) static void imap_tagged(struct imap_session *s,
	const char *status, const char *fmt, va_list ap)
{
	buf_printf(&s->out, "%s %s ", s->tag ? s->tag : "*", status);
	buf_vprintf(&s->out, fmt, ap);
	buf_append_str(&s->out, "\r\n");
}

void imap_ok(struct imap_session *s, const char *fmt, ...)
{
	if (s->sel != NULL && s->state == IMAP_STATE_SELECTED)
		imap_sync(s, !s->no_expunge);
	va_list ap;
	va_start(ap, fmt);
	imap_tagged(s, "OK", fmt, ap);
	va_end(ap);
}

void imap_no(struct imap_session *s, const char *fmt, ...)
{
	if (s->sel != NULL && s->state == IMAP_STATE_SELECTED)
		imap_sync(s, !s->no_expunge);
	va_list ap;
	va_start(ap, fmt);
	imap_tagged(s, "NO", fmt, ap);
	va_end(ap);
}

void imap_bad(struct imap_session *s, const char *fmt, ...)
{
	s->was_bad = true;
	va_list ap;
	va_start(ap, fmt);
	imap_tagged(s, "BAD", fmt, ap);
	va_end(ap);
}

void imap_untagged(struct imap_session *s, const char *fmt, ...)
{
	buf_append_str(&s->out, "* ");
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&s->out, fmt, ap);
	va_end(ap);
	buf_append_str(&s->out, "\r\n");
}

void imap_no_ec(struct imap_session *s, uint32_t ec, const char *what)
{
	switch (ec) {
	case ecNotFound:
		imap_no(s, "[NONEXISTENT] %s: no such mailbox or message", what);
		break;
	case ecAccessDenied:
		imap_no(s, "[NOPERM] %s: permission denied", what);
		break;
	case ecDuplicateName:
		imap_no(s, "[ALREADYEXISTS] %s: the mailbox exists already", what);
		break;
	case ecQuotaExceeded:
		imap_no(s, "[OVERQUOTA] %s: over quota", what);
		break;
	case ecFolderHasChildren:
		imap_no(s, "[INUSE] %s: the mailbox has children", what);
		break;
	case ecInvalidParam:
		imap_no(s, "[CANNOT] %s: invalid", what);
		break;
	default:
		log_warning(net_conn_log(s->conn), "%s: store error %s", what, mapi_ec_name(ec));
		imap_no(s, "[SERVERBUG] %s failed; try again later", what);
		break;
	}
}

/* --- Capabilities --- */

bool imap_peer_is_loopback(struct imap_session *s)
{
	const char *ip = net_conn_peer_ip(s->conn);
	return ip != NULL && (strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0);
}

bool imap_plaintext_ok(struct imap_session *s)
{
	return net_conn_is_tls(s->conn) || s->srv->set.allow_plaintext ||
		(s->srv->set.loopback_secure && imap_peer_is_loopback(s));
}

const char *imap_capabilities(struct imap_session *s)
{
	if (s->state == IMAP_STATE_NOAUTH) {
		bool starttls = net_conn_tls_available(s->conn) && !net_conn_is_tls(s->conn);
		/* RFC 3501 6.2.3: LOGINDISABLED until the connection is safe.
		 * NTLM sends no password: it stays on offer before TLS. */
		return pool_printf(s->cmd_pool, "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ENABLE ID%s%s%s",
			starttls ? " STARTTLS" : "",
			imap_plaintext_ok(s) ? " AUTH=PLAIN AUTH=LOGIN" : " LOGINDISABLED",
			s->srv->set.ntlm ? " AUTH=NTLM" : "");
	}
	return pool_printf(s->cmd_pool,
		"IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ENABLE ID IDLE NAMESPACE UIDPLUS MOVE"
		" UNSELECT CHILDREN SPECIAL-USE LIST-EXTENDED LIST-STATUS CONDSTORE QRESYNC"
		" ESEARCH SEARCHRES SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES"
		" UTF8=ACCEPT APPENDLIMIT=%llu COMPRESS=DEFLATE QUOTA QUOTA=RES-STORAGE",
		(unsigned long long)s->srv->set.limits.max_append);
}

/* --- The protocol callbacks --- */

static int imap_on_connect(struct net_conn *conn)
{
	struct imap_server *srv = net_conn_protocol_ctx(conn);
	struct imap_session *s = xcalloc(1, sizeof(*s));
	s->conn = conn;
	s->srv = srv;
	s->pool = pool_new("imap-session", 0);
	s->cmd_pool = pool_new("imap-cmd", 0);
	imap_parser_init(&s->parser, &srv->set.limits);
	s->max_line = srv->set.limits.max_line;
	buf_init(&s->out, NULL);
	atomic_init(&s->change_posted, false);
	atomic_init(&s->idling, false);
	net_conn_set_ctx(conn, s);
	net_conn_set_idle_timeout(conn, srv->set.preauth_timeout_s);
	buf_printf(&s->out, "* OK [CAPABILITY %s] %s IMAP4rev1 server ready\r\n",
		imap_capabilities(s), srv->set.hostname);
	pool_clear(s->cmd_pool);
	return imap_flush_out(s);
}

/* Event loop: the parser delimits the next command. */
static ssize_t imap_frame(struct net_conn *conn, const unsigned char *data, size_t len)
{
	struct imap_session *s = net_conn_ctx(conn);
	if (s == NULL)
		return 0;
	if (s->frame_mode == IMAP_FRAME_LINE) {
		ssize_t r = net_frame_line(data, len);
		if (r == 0 && len > s->max_line) {
			s->fatal_msg = "Line too long";
			return -1;
		}
		return r;
	}
	for (;;) {
		int r = imap_parser_feed(&s->parser, data, len);
		if (r == IMAP_PARSE_FATAL) {
			s->fatal_msg = s->parser.error_msg;
			return -1;
		}
		uint64_t left = imap_parser_literal_left(&s->parser);
		if (left > 0) {
			/* Room for the literal and the rest of its line; the
			 * parser has already judged the size against its limit. */
			size_t need = (size_t)(imap_parser_length(&s->parser) + left + s->max_line);
			if (need > s->raised_max) {
				net_conn_set_max_command(conn, need);
				s->raised_max = need;
			}
		}
		if (r == IMAP_PARSE_LITERAL) {
			/* RFC 3501 7.5: the client may send the literal now. */
			net_conn_write(conn, "+ OK\r\n", 6);
			continue;
		}
		if (r == IMAP_PARSE_DONE)
			return (ssize_t)imap_parser_length(&s->parser);
		return 0;
	}
}

static void imap_command_done(struct imap_session *s)
{
	pool_clear(s->cmd_pool);
	imap_parser_reset(&s->parser);
	if (s->raised_max > 0) {
		net_conn_set_max_command(s->conn, 0);
		s->raised_max = 0;
	}
	s->tag = NULL;
	s->name = NULL;
}

/* Runs one delimited command. */
static int imap_dispatch(struct imap_session *s, const unsigned char *data, size_t len)
{
	struct imap_parser *p = &s->parser;
	s->was_bad = false;
	s->no_expunge = false;
	s->uid_cmd = false;
	if (p->error == IMAP_PARSE_ENOTAG) {
		s->tag = NULL;
		imap_bad(s, "%s", p->error_msg ? p->error_msg : "Invalid tag");
		return 0;
	}
	s->tag = p->tag_ok ? pool_strndup(s->cmd_pool, (const char *)data + p->tag_off,
				     (size_t)p->tag_len)
			   : NULL;
	if (p->error == IMAP_PARSE_ETOOBIG) {
		/* RFC 7888 4, RFC 4469: the literal was refused unsent. */
		imap_no(s, "[TOOBIG] Literal too big");
		return 0;
	}
	if (p->error != IMAP_PARSE_OK) {
		imap_bad(s, "%s", p->error_msg ? p->error_msg : "Syntax error");
		return 0;
	}
	const char *tag, *name;
	struct imap_arg *args;
	if (imap_args_build(p, data, len, s->cmd_pool, &tag, &name, &args) < 0) {
		imap_bad(s, "Missing command");
		return 0;
	}
	if (strcmp(name, "UID") == 0) {
		if (args[0].type != IMAP_ARG_ATOM) {
			imap_bad(s, "UID needs a command");
			return 0;
		}
		char *sub = slice_dup(s->cmd_pool, args[0].s);
		for (char *c = sub; *c; c++)
			*c = (char)ascii_toupper(*c);
		const struct imap_command *cmd = imap_command_find(sub);
		if (cmd == NULL || !(cmd->flags & IMAP_CMD_UID)) {
			imap_bad(s, "Unknown UID command");
			return 0;
		}
		s->uid_cmd = true;
		name = sub;
		args++;
	}
	s->name = name;
	const struct imap_command *cmd = imap_command_find(name);
	if (cmd == NULL) {
		imap_bad(s, "Unknown command %.40s", name);
		return 0;
	}
	unsigned need = s->state == IMAP_STATE_NOAUTH ? IMAP_CMD_NOAUTH
		: s->state == IMAP_STATE_AUTH          ? IMAP_CMD_AUTH
						       : IMAP_CMD_SELECTED;
	if (!(cmd->flags & need)) {
		/* RFC 3501 6: a command in the wrong state is BAD (before
		 * login) or NO (a mailbox command without a mailbox). */
		if (s->state == IMAP_STATE_NOAUTH)
			imap_bad(s, "Log in first");
		else if (cmd->flags & IMAP_CMD_SELECTED)
			imap_bad(s, "No mailbox selected");
		else
			imap_bad(s, "Already logged in");
		return 0;
	}
	s->no_expunge = (cmd->flags & IMAP_CMD_NO_EXPUNGE) && !s->uid_cmd;
	struct log_ctx *lc = net_conn_log(s->conn);
	lc->action = cmd->name;
	int r = cmd->fn(s, args);
	lc->action = NULL;
	return r;
}

static int imap_on_command(struct net_conn *conn, const unsigned char *data, size_t len)
{
	struct imap_session *s = net_conn_ctx(conn);
	int r;
	bool was_command = s->frame_mode == IMAP_FRAME_COMMAND;
	if (!was_command) {
		size_t n = len;
		if (n > 0 && data[n - 1] == '\n')
			n--;
		if (n > 0 && data[n - 1] == '\r')
			n--;
		s->tag = s->line_tag;
		r = s->line_fn(s, data, n);
	} else {
		r = imap_dispatch(s, data, len);
	}
	if (r == 0 && was_command) {
		if (s->was_bad) {
			if (++s->bad_count >= s->srv->set.max_bad_commands) {
				imap_untagged(s, "BYE Too many invalid commands");
				r = -1;
			}
		} else {
			s->bad_count = 0;
		}
	}
	if (imap_flush_out(s) < 0)
		r = -1;
	if (was_command)
		imap_command_done(s);
	else
		pool_clear(s->cmd_pool);
	if (s->state == IMAP_STATE_LOGOUT)
		r = -1;
	return r;
}

static void imap_on_overflow(struct net_conn *conn)
{
	struct imap_session *s = net_conn_ctx(conn);
	buf_printf(&s->out, "* BYE %s\r\n", s->fatal_msg ? s->fatal_msg : "Command too long");
	imap_flush_out(s);
}

static void imap_on_timeout(struct net_conn *conn)
{
	struct imap_session *s = net_conn_ctx(conn);
	buf_append_str(&s->out, "* BYE Autologout; idle for too long\r\n");
	imap_flush_out(s);
}

static void imap_on_shutdown(struct net_conn *conn)
{
	struct imap_session *s = net_conn_ctx(conn);
	buf_append_str(&s->out, "* BYE [UNAVAILABLE] Server shutting down\r\n");
	imap_flush_out(s);
}

static void imap_on_close(struct net_conn *conn)
{
	struct imap_session *s = net_conn_ctx(conn);
	if (s == NULL)
		return;
	imap_unselect(s);
	imap_mailbox_cache_free(s);
	store_mailbox_close(&s->mb);
	directory_ntlm_free(&s->ntlm);
	imap_parser_deinit(&s->parser);
	buf_deinit(&s->out);
	pool_free(&s->cmd_pool);
	pool_free(&s->pool);
	net_conn_set_ctx(conn, NULL);
	free(s);
}

/* --- Store notifications --- */

static void imap_change_job(struct net_conn *conn, void *arg)
{
	struct imap_session *s = arg;
	(void)conn;
	atomic_store(&s->change_posted, false);
	/* RFC 2177: while idling, changes are reported as they happen;
	 * otherwise they wait for the next command. */
	if (atomic_load(&s->idling) && s->sel != NULL) {
		imap_sync(s, true);
		imap_flush_out(s);
		pool_clear(s->cmd_pool);
	}
}

void imap_session_notify(void *ctx, const struct store_event *ev)
{
	struct imap_session *s = ctx;
	(void)ev;
	/* Outside IDLE the next command's sync finds the change (the
	 * mailbox's commit count moved): posting would only cost a wake-up. */
	if (!atomic_load(&s->idling))
		return;
	if (!atomic_exchange(&s->change_posted, true))
		net_conn_post(s->conn, 0, imap_change_job, s, NULL);
}

const struct net_protocol imap_protocol = {
	.name = "imap",
	.on_connect = imap_on_connect,
	.frame = imap_frame,
	.on_command = imap_on_command,
	.on_overflow = imap_on_overflow,
	.on_timeout = imap_on_timeout,
	.on_shutdown = imap_on_shutdown,
	.on_close = imap_on_close,
};
