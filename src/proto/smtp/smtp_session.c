/* SMTP sessions: the framer, the command table and one handler per
 * command (RFC 5321, 6409, 3207, 4954, 1870, 6152, 2920, 2034, 6531, 3461,
 * 3030). AUTH mechanisms live in smtp_auth.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hm_time.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "proto/smtp/smtp.h"
#include "proto/smtp/smtp_int.h"

/* DATA is handed to handlers in chunks of at most this many octets (the
 * listener's max_command must be at least this plus a line). */
#define DATA_CHUNK (32 * 1024)

void smtp_config_default(struct smtp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->hostname = "localhost";
	cfg->default_domain = "localhost";
	cfg->max_message_size = 35 * 1024 * 1024;
	cfg->max_recipients = 1000;
	cfg->max_line_length = 1000;
	cfg->max_errors = 10;
	cfg->max_auth_failures = 3;
	cfg->command_timeout_s = 120;
	cfg->data_timeout_s = 600;
	cfg->allow_plaintext_loopback = true;
}

/* --- Replies --- */

void smtp_reply(struct smtp_session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char line[1024];
	int n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 3)
		n = (int)sizeof(line) - 3;
	line[n++] = '\r';
	line[n++] = '\n';
	if (line[0] == '4' || line[0] == '5')
		log_debug(s->log, "smtp: reply %.*s", n - 2, line);
	net_conn_write(s->conn, line, (size_t)n);
}

/* Counts an error reply; past max_errors the session ends with 421.
 * Returns what the handler should return. */
int smtp_error(struct smtp_session *s)
{
	if (++s->errors < s->cfg->max_errors)
		return 0;
	log_info(s->log, "smtp: too many errors (%u), disconnecting", s->errors);
	smtp_reply(s, "421 4.7.0 %s Error: too many errors", s->cfg->hostname);
	return -1;
}

void smtp_tx_reset(struct smtp_session *s)
{
	s->in_tx = false;
	s->bdat_active = false;
	s->bdat_failed = NULL;
	s->mail_from = NULL;
	s->envid = NULL;
	s->ret_hdrs = false;
	s->smtputf8 = false;
	s->body_8bit = false;
	s->declared_size = 0;
	pool_clear(s->tx_pool);
	array_init(&s->rcpts, s->tx_pool);
	s->rcpt_cmds = 0;
	buf_deinit(&s->body);
	s->fmode = SMTP_FRAME_COMMAND;
}

static bool peer_is_loopback(struct smtp_session *s)
{
	const char *ip = net_conn_peer_ip(s->conn);
	return str_starts_with(ip, "127.") || strcmp(ip, "::1") == 0;
}

bool smtp_auth_allowed_here(struct smtp_session *s)
{
	if (net_conn_is_tls(s->conn) || s->cfg->allow_plaintext_auth)
		return true;
	return s->cfg->allow_plaintext_loopback && peer_is_loopback(s);
}

/* --- Framing (event loop) --- */

static ssize_t smtp_frame(struct net_conn *conn, const unsigned char *data, size_t len)
{
	struct smtp_session *s = net_conn_ctx(conn);
	if (s == NULL)
		return net_frame_line(data, len);
	uint64_t now = time_mono_ms();
	switch (s->fmode) {
	case SMTP_FRAME_DATA:
		if (now - s->data_since_ms > (uint64_t)s->cfg->data_timeout_s * 1000) {
			s->overflow = SMTP_OVERFLOW_TIMEOUT;
			return -1;
		}
		return (ssize_t)smtp_data_frame(&s->scan, data, len, DATA_CHUNK);
	case SMTP_FRAME_BDAT: {
		if (now - s->data_since_ms > (uint64_t)s->cfg->data_timeout_s * 1000) {
			s->overflow = SMTP_OVERFLOW_TIMEOUT;
			return -1;
		}
		uint64_t n = len;
		if (n > s->bdat_remaining)
			n = s->bdat_remaining;
		if (n > DATA_CHUNK)
			n = DATA_CHUNK;
		return (ssize_t)n;
	}
	case SMTP_FRAME_SKIP: {
		const unsigned char *lf = memchr(data, '\n', len);
		return lf != NULL ? lf - data + 1 : (ssize_t)len;
	}
	case SMTP_FRAME_COMMAND:
	case SMTP_FRAME_AUTH:
		break;
	}
	size_t max = SMTP_COMMAND_MAX;
	if (s->fmode == SMTP_FRAME_AUTH || (len >= 5 && str_ncasecmp((const char *)data, "AUTH ", 5) == 0))
		max = SMTP_AUTH_LINE_MAX;
	const unsigned char *lf = memchr(data, '\n', len < max ? len : max);
	if (lf == NULL) {
		if (len >= max) {
			s->partial_since_ms = 0;
			return (ssize_t)max; /* the handler says 500 and skips the rest */
		}
		/* A client that trickles a command byte by byte (or one a
		 * minute) is not idle for the net's idle timer: time it here. */
		if (s->partial_since_ms == 0) {
			s->partial_since_ms = now;
		} else if (now - s->partial_since_ms > (uint64_t)s->cfg->command_timeout_s * 1000) {
			s->overflow = SMTP_OVERFLOW_TIMEOUT;
			return -1;
		}
		return 0;
	}
	s->partial_since_ms = 0;
	size_t n = (size_t)(lf - data) + 1;
	/* RFC 2920: without PIPELINING (no EHLO yet, or HELO) the client must
	 * wait for each reply; DATA followed by the message before the 354
	 * is never allowed. Spamware does both. */
	if (len > n && s->fmode == SMTP_FRAME_COMMAND) {
		if (!s->esmtp)
			s->bad_pipelining = true;
		else if (n >= 6 && str_ncasecmp((const char *)data, "DATA\r\n", 6) == 0)
			s->bad_pipelining = true;
	}
	return (ssize_t)n;
}

/* --- Commands --- */

static int cmd_helo(struct smtp_session *s, struct slice args, bool ehlo)
{
	struct slice a = slice_trim(args);
	if (a.len == 0 || a.len > 255 || memchr(a.ptr, ' ', a.len) != NULL) {
		smtp_reply(s, "501 5.5.4 Syntax: %s hostname", ehlo ? "EHLO" : "HELO");
		return smtp_error(s);
	}
	smtp_tx_reset(s);
	s->helo = pool_strndup(s->pool, (const char *)a.ptr, a.len);
	for (char *c = s->helo; *c; c++)
		if ((unsigned char)*c < 33 || (unsigned char)*c > 126)
			*c = '?';
	s->esmtp = ehlo;
	if (!ehlo) {
		smtp_reply(s, "250 %s", s->cfg->hostname);
		return 0;
	}
	struct buf out;
	buf_init(&out, NULL);
	buf_printf(&out, "250-%s Hello %s [%s]\r\n", s->cfg->hostname, s->helo,
		net_conn_peer_ip(s->conn));
	buf_append_str(&out, "250-PIPELINING\r\n");
	buf_printf(&out, "250-SIZE %llu\r\n", (unsigned long long)s->cfg->max_message_size);
	buf_append_str(&out, "250-8BITMIME\r\n");
	buf_append_str(&out, "250-ENHANCEDSTATUSCODES\r\n");
	if (net_conn_tls_available(s->conn) && !net_conn_is_tls(s->conn))
		buf_append_str(&out, "250-STARTTLS\r\n");
	if (s->cfg->mode == SMTP_MODE_SUBMISSION && s->user == NULL && smtp_auth_allowed_here(s))
		buf_printf(&out, "250-AUTH PLAIN LOGIN%s\r\n", s->cfg->enable_ntlm ? " NTLM" : "");
	buf_append_str(&out, "250-SMTPUTF8\r\n");
	buf_append_str(&out, "250-DSN\r\n");
	buf_append_str(&out, "250 CHUNKING\r\n");
	net_conn_write(s->conn, out.data, out.len);
	buf_deinit(&out);
	return 0;
}

static int cmd_starttls(struct smtp_session *s, struct slice args)
{
	if (args.len > 0) {
		smtp_reply(s, "501 5.5.4 Syntax: STARTTLS");
		return smtp_error(s);
	}
	if (net_conn_is_tls(s->conn)) {
		smtp_reply(s, "503 5.5.1 TLS already active");
		return smtp_error(s);
	}
	if (!net_conn_tls_available(s->conn)) {
		smtp_reply(s, "502 5.5.1 STARTTLS not available");
		return smtp_error(s);
	}
	smtp_reply(s, "220 2.0.0 Ready to start TLS");
	if (net_conn_starttls(s->conn) < 0)
		return -1;
	/* RFC 3207 4.2: forget everything learnt before TLS. */
	smtp_tx_reset(s);
	s->helo = NULL;
	s->esmtp = false;
	s->bad_pipelining = false;
	return 0;
}

static const char *param_check_mail(struct smtp_session *s, const struct smtp_path *p,
	const char **code)
{
	*code = "555 5.5.4";
	for (unsigned i = 0; i < p->param_count; i++) {
		const char *k = p->params[i].keyword, *v = p->params[i].value;
		if (!s->esmtp)
			return "Parameters need EHLO";
		if (strcmp(k, "SIZE") == 0) {
			uint64_t size;
			if (v == NULL || str_to_u64(v, UINT64_MAX, &size) < 0) {
				*code = "501 5.5.4";
				return "Bad SIZE value";
			}
			s->declared_size = size;
			if (size > s->cfg->max_message_size) {
				*code = "552 5.3.4";
				return "Message size exceeds fixed maximum message size";
			}
		} else if (strcmp(k, "BODY") == 0) {
			if (v != NULL && str_case_eq(v, "8BITMIME"))
				s->body_8bit = true;
			else if (v == NULL || !str_case_eq(v, "7BIT")) {
				*code = "501 5.5.4";
				return "Unsupported BODY type";
			}
		} else if (strcmp(k, "SMTPUTF8") == 0) {
			if (v != NULL) {
				*code = "501 5.5.4";
				return "SMTPUTF8 takes no value";
			}
			s->smtputf8 = true;
		} else if (strcmp(k, "RET") == 0) {
			if (v != NULL && str_case_eq(v, "HDRS"))
				s->ret_hdrs = true;
			else if (v == NULL || !str_case_eq(v, "FULL")) {
				*code = "501 5.5.4";
				return "RET must be FULL or HDRS";
			}
		} else if (strcmp(k, "ENVID") == 0) {
			/* RFC 3461 4.4: xtext, at most 100 characters. */
			if (v == NULL || !smtp_xtext_valid(v, 100)) {
				*code = "501 5.5.4";
				return "Bad ENVID";
			}
			s->envid = pool_strdup(s->tx_pool, v);
		} else if (strcmp(k, "AUTH") == 0) {
			/* RFC 4954 5: the submitter's identity as the previous
			 * hop asserts it; we trust only our own AUTH. */
			if (v == NULL || !smtp_xtext_valid(v, 500)) {
				*code = "501 5.5.4";
				return "Bad AUTH parameter";
			}
		} else {
			return "Unsupported parameter";
		}
	}
	return NULL;
}

static int cmd_mail(struct smtp_session *s, struct slice args)
{
	if (s->helo == NULL) {
		smtp_reply(s, "503 5.5.1 Send HELO/EHLO first");
		return smtp_error(s);
	}
	if (s->in_tx) {
		smtp_reply(s, "503 5.5.1 Sender already specified");
		return smtp_error(s);
	}
	if (s->cfg->mode == SMTP_MODE_SUBMISSION && s->user == NULL) {
		smtp_reply(s, "530 5.7.0 Authentication required");
		return smtp_error(s);
	}
	struct smtp_path p;
	const char *error, *code;
	smtp_tx_reset(s);
	int pr = smtp_path_parse(s->tx_pool, args, "FROM:", false, s->esmtp, &p, &error);
	if (pr < 0) {
		smtp_reply(s, "501 %s %s", pr == -2 ? "5.5.4" : "5.1.7", error);
		return smtp_error(s);
	}
	error = param_check_mail(s, &p, &code);
	if (error == NULL && p.utf8 && !s->smtputf8) {
		/* RFC 6531 3.5 */
		code = "553 5.6.7";
		error = "Non-ASCII address needs the SMTPUTF8 parameter";
	}
	if (error == NULL && s->cfg->mode == SMTP_MODE_SUBMISSION &&
		smtp_auth_sender_allowed(s, &p) <= 0) {
		code = "553 5.7.1";
		error = "Client does not have permission to send as this sender";
	}
	if (error != NULL) {
		smtp_tx_reset(s);
		smtp_reply(s, "%s %s", code, error);
		return smtp_error(s);
	}
	s->mail_from = p.address;
	s->in_tx = true;
	smtp_reply(s, "250 2.1.0 Sender <%s> OK", p.address);
	return 0;
}

static int notify_parse(const char *v, unsigned *notify_r)
{
	unsigned n = 0;
	char buf[64];
	if (v == NULL || strlen(v) >= sizeof(buf))
		return -1;
	strcpy(buf, v);
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (str_case_eq(tok, "NEVER"))
			n |= TRANSPORT_NOTIFY_NEVER;
		else if (str_case_eq(tok, "SUCCESS"))
			n |= TRANSPORT_NOTIFY_SUCCESS;
		else if (str_case_eq(tok, "FAILURE"))
			n |= TRANSPORT_NOTIFY_FAILURE;
		else if (str_case_eq(tok, "DELAY"))
			n |= TRANSPORT_NOTIFY_DELAY;
		else
			return -1;
	}
	/* RFC 3461 4.1: NEVER stands alone. */
	if (n == 0 || ((n & TRANSPORT_NOTIFY_NEVER) && n != TRANSPORT_NOTIFY_NEVER))
		return -1;
	*notify_r = n;
	return 0;
}

static int cmd_rcpt(struct smtp_session *s, struct slice args)
{
	if (!s->in_tx) {
		smtp_reply(s, "503 5.5.1 Need MAIL before RCPT");
		return smtp_error(s);
	}
	if (s->bdat_active) {
		smtp_reply(s, "503 5.5.1 RCPT not allowed during BDAT");
		return smtp_error(s);
	}
	if (++s->rcpt_cmds > s->cfg->max_recipients) {
		/* RFC 5321 4.5.3.1.10 */
		smtp_reply(s, "452 4.5.3 Too many recipients");
		return s->rcpt_cmds > s->cfg->max_recipients + 10 ? smtp_error(s) : 0;
	}
	struct smtp_path p;
	const char *error;
	int pr = smtp_path_parse(s->tx_pool, args, "TO:", true, s->esmtp, &p, &error);
	if (pr < 0) {
		smtp_reply(s, "501 %s %s", pr == -2 ? "5.5.4" : "5.1.3", error);
		return smtp_error(s);
	}
	unsigned notify = 0;
	const char *orcpt = NULL;
	for (unsigned i = 0; i < p.param_count; i++) {
		const char *k = p.params[i].keyword, *v = p.params[i].value;
		if (!s->esmtp) {
			smtp_reply(s, "555 5.5.4 Parameters need EHLO");
			return smtp_error(s);
		}
		if (strcmp(k, "NOTIFY") == 0) {
			if (notify_parse(v, &notify) < 0) {
				smtp_reply(s, "501 5.5.4 Bad NOTIFY value");
				return smtp_error(s);
			}
		} else if (strcmp(k, "ORCPT") == 0) {
			/* RFC 3461 4.2: addr-type ";" xtext, at most 500. */
			const char *semi = v != NULL ? strchr(v, ';') : NULL;
			if (semi == NULL || semi == v || strlen(v) > 500 ||
				!smtp_xtext_valid(semi + 1, 500)) {
				smtp_reply(s, "501 5.5.4 Bad ORCPT value");
				return smtp_error(s);
			}
			orcpt = v;
		} else {
			smtp_reply(s, "555 5.5.4 Unsupported parameter %s", k);
			return smtp_error(s);
		}
	}
	if (p.utf8 && !s->smtputf8) {
		smtp_reply(s, "553 5.6.7 Non-ASCII address needs the SMTPUTF8 parameter");
		return smtp_error(s);
	}
	const char *address = p.address;
	if (p.postmaster)
		address = pool_printf(s->tx_pool, "postmaster@%s", s->cfg->default_domain);
	size_t before = s->rcpts.n;
	/* RCPT-time quota check: room for the declared SIZE, or for
	 * anything at all; a copy that does not fit after all bounces. */
	uint64_t need = s->declared_size > 0 ? s->declared_size : 1;
	enum transport_lookup r = transport_rcpt_lookup(s->cfg->transport, address, need,
		s->tx_pool, &s->rcpts, &error);
	switch (r) {
	case TRANSPORT_LOOKUP_OK:
		break;
	case TRANSPORT_LOOKUP_NOT_LOCAL:
		/* Never an open relay: only an authenticated user may send to
		 * other domains. Percent hacks, quoted local parts and source
		 * routes never reach here as remote: they name a local part
		 * of ours that does not exist, or the route was dropped. */
		if (s->user == NULL) {
			s->rcpts.n = before;
			smtp_reply(s, "554 5.7.1 <%s>: Relay access denied", p.address);
			return smtp_error(s);
		}
		break;
	case TRANSPORT_LOOKUP_UNKNOWN:
		smtp_reply(s, "550 5.1.1 <%s>: Recipient address rejected: User unknown", p.address);
		return smtp_error(s);
	case TRANSPORT_LOOKUP_DISABLED:
		smtp_reply(s, "550 5.2.1 <%s>: Mailbox disabled", p.address);
		return smtp_error(s);
	case TRANSPORT_LOOKUP_FULL:
		smtp_reply(s, "452 4.2.2 <%s>: Mailbox full", p.address);
		return 0;
	case TRANSPORT_LOOKUP_BAD_SYNTAX:
		smtp_reply(s, "501 5.1.3 <%s>: Bad recipient address syntax", p.address);
		return smtp_error(s);
	case TRANSPORT_LOOKUP_TEMPFAIL:
	default:
		log_warning(s->log, "smtp: recipient lookup failed: %s", error);
		smtp_reply(s, "451 4.3.0 <%s>: Temporary lookup failure", p.address);
		return 0;
	}
	for (size_t i = before; i < s->rcpts.n; i++) {
		s->rcpts.v[i].notify = notify;
		s->rcpts.v[i].orcpt = orcpt;
		s->rcpts.v[i].orig = p.address;
	}
	smtp_reply(s, "250 2.1.5 Recipient <%s> OK", p.address);
	return 0;
}

static bool tx_ready(struct smtp_session *s, const char *verb)
{
	if (!s->in_tx) {
		smtp_reply(s, "503 5.5.1 Need MAIL before %s", verb);
		return false;
	}
	if (s->rcpts.n == 0) {
		/* RFC 2920 3.1 */
		smtp_reply(s, "554 5.5.1 No valid recipients");
		return false;
	}
	return true;
}

static int cmd_data(struct smtp_session *s, struct slice args)
{
	if (args.len > 0) {
		smtp_reply(s, "501 5.5.4 Syntax: DATA");
		return smtp_error(s);
	}
	if (s->bad_pipelining) {
		log_info(s->log, "smtp: improper command pipelining, disconnecting");
		smtp_reply(s, "554 5.5.0 Improper use of SMTP command pipelining");
		return -1;
	}
	if (s->bdat_active) {
		smtp_reply(s, "503 5.5.1 DATA not allowed after BDAT");
		return smtp_error(s);
	}
	if (!tx_ready(s, "DATA"))
		return smtp_error(s);
	smtp_data_scan_init(&s->scan, s->cfg->max_line_length, s->cfg->max_message_size);
	buf_init(&s->body, NULL);
	s->fmode = SMTP_FRAME_DATA;
	s->data_since_ms = time_mono_ms();
	smtp_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	return 0;
}

static int data_chunk(struct smtp_session *s, const unsigned char *data, size_t len)
{
	smtp_data_consume(&s->scan, data, len, &s->body);
	if (s->scan.flags & (SMTP_DATA_BARE_LF | SMTP_DATA_BARE_CR)) {
		/* RFC 5321 2.3.8: CR and LF only as CRLF. We refuse rather
		 * than normalize: a bare LF or CR is how end-of-data is
		 * smuggled past one MTA into another, and what follows it
		 * could be read as commands; so we stop reading too. */
		log_info(s->log, "smtp: bare LF or CR in DATA, disconnecting");
		smtp_reply(s, "554 5.6.0 Message contains bare <LF> or <CR> (RFC 5321 2.3.8)");
		smtp_tx_reset(s);
		return -1;
	}
	if (!s->scan.done)
		return 0;
	s->fmode = SMTP_FRAME_COMMAND;
	if (s->scan.flags & SMTP_DATA_TOO_BIG) {
		smtp_tx_reset(s);
		smtp_reply(s, "552 5.3.4 Message size exceeds fixed maximum message size");
		return smtp_error(s);
	}
	if (s->scan.flags & SMTP_DATA_NUL) {
		smtp_tx_reset(s);
		smtp_reply(s, "554 5.6.0 Message contains NUL octets");
		return smtp_error(s);
	}
	if (s->scan.flags & SMTP_DATA_LONG_LINE) {
		smtp_tx_reset(s);
		smtp_reply(s, "554 5.6.0 Message has a line longer than %zu octets",
			s->cfg->max_line_length);
		return smtp_error(s);
	}
	return smtp_message_finish(s);
}

static int parse_bdat(struct slice args, uint64_t *size_r, bool *last_r)
{
	size_t i = 0;
	while (i < args.len && args.ptr[i] >= '0' && args.ptr[i] <= '9')
		i++;
	if (i == 0 || i > 19 || str_to_u64_n((const char *)args.ptr, i, UINT64_MAX, size_r) < 0)
		return -1;
	struct slice rest = SLICE(args.ptr + i, args.len - i);
	if (rest.len == 0) {
		*last_r = false;
		return 0;
	}
	if (slice_case_eq_str(rest, " LAST")) {
		*last_r = true;
		return 0;
	}
	return -1;
}

static int bdat_end(struct smtp_session *s)
{
	s->fmode = SMTP_FRAME_COMMAND;
	if (s->bdat_failed != NULL) {
		const char *reply = s->bdat_failed;
		bool was_tx = s->in_tx;
		smtp_tx_reset(s);
		/* A failed chunk ends the transaction (RFC 3030 2: the message
		 * is discarded); later chunks get 503. */
		smtp_reply(s, "%s", reply);
		(void)was_tx;
		return smtp_error(s);
	}
	if (!s->bdat_last) {
		smtp_reply(s, "250 2.0.0 %llu octets received",
			(unsigned long long)s->bdat_chunk_size);
		return 0;
	}
	return smtp_message_finish(s);
}

static int cmd_bdat(struct smtp_session *s, struct slice args)
{
	uint64_t size;
	bool last;
	if (parse_bdat(args, &size, &last) < 0) {
		/* The chunk size is unknown, so its octets cannot be skipped:
		 * the rest of the session is garbage. */
		smtp_reply(s, "501 5.5.4 Syntax: BDAT size [LAST]; closing");
		return -1;
	}
	s->bdat_failed = NULL;
	if (s->bad_pipelining)
		s->bdat_failed = "554 5.5.0 Improper use of SMTP command pipelining";
	else if (!s->in_tx)
		s->bdat_failed = "503 5.5.1 Need MAIL before BDAT";
	else if (s->rcpts.n == 0)
		s->bdat_failed = "554 5.5.1 No valid recipients";
	if (s->bdat_failed == NULL && !s->bdat_active) {
		smtp_data_scan_init(&s->scan, s->cfg->max_line_length, s->cfg->max_message_size);
		buf_init(&s->body, NULL);
		s->bdat_active = true;
		s->data_since_ms = time_mono_ms();
	}
	if (s->bdat_failed == NULL && s->scan.size + size > s->cfg->max_message_size)
		s->bdat_failed = "552 5.3.4 Message size exceeds fixed maximum message size";
	if (s->bdat_failed != NULL && s->data_since_ms == 0)
		s->data_since_ms = time_mono_ms();
	if (!s->bdat_active)
		s->data_since_ms = time_mono_ms();
	s->bdat_remaining = size;
	s->bdat_chunk_size = size;
	s->bdat_last = last;
	if (size == 0)
		return bdat_end(s);
	s->fmode = SMTP_FRAME_BDAT;
	return 0;
}

static int bdat_chunk(struct smtp_session *s, const unsigned char *data, size_t len)
{
	s->bdat_remaining -= len;
	if (s->bdat_failed == NULL) {
		if (memchr(data, 0, len) != NULL)
			s->bdat_failed = "554 5.6.0 Message contains NUL octets";
		else {
			buf_append(&s->body, data, len);
			s->scan.size += len;
		}
	}
	if (s->bdat_remaining > 0)
		return 0;
	return bdat_end(s);
}

static int smtp_on_command(struct net_conn *conn, const unsigned char *data, size_t len)
{
	struct smtp_session *s = net_conn_ctx(conn);
	switch (s->fmode) {
	case SMTP_FRAME_DATA:
		return data_chunk(s, data, len);
	case SMTP_FRAME_BDAT:
		return bdat_chunk(s, data, len);
	case SMTP_FRAME_SKIP:
		if (data[len - 1] == '\n')
			s->fmode = s->skip_return;
		return 0;
	case SMTP_FRAME_AUTH:
	case SMTP_FRAME_COMMAND:
		break;
	}
	if (data[len - 1] != '\n') {
		/* Longer than any command may be: answer once, skip to LF. */
		s->skip_return = SMTP_FRAME_COMMAND;
		s->fmode = SMTP_FRAME_SKIP;
		smtp_auth_abort(s);
		smtp_reply(s, "500 5.5.2 Line too long");
		return smtp_error(s);
	}
	if (len < 2 || data[len - 2] != '\r') {
		if (s->fmode == SMTP_FRAME_AUTH)
			smtp_auth_abort(s);
		smtp_reply(s, "500 5.5.2 Syntax error: lines must end with <CR><LF>");
		return smtp_error(s);
	}
	size_t n = len - 2;
	const char *line = (const char *)data;
	if (memchr(line, 0, n) != NULL || memchr(line, '\r', n) != NULL) {
		if (s->fmode == SMTP_FRAME_AUTH)
			smtp_auth_abort(s);
		smtp_reply(s, "500 5.5.2 Syntax error: NUL or CR in command");
		return smtp_error(s);
	}
	if (s->fmode == SMTP_FRAME_AUTH)
		return smtp_auth_continue(s, line, n);
	struct slice args;
	enum smtp_verb verb = smtp_verb_parse(line, n, &args);
	struct log_ctx *log = s->log;
	log->action = smtp_verb_name(verb);
	int r;
	switch (verb) {
	case SMTP_VERB_EHLO:
		r = cmd_helo(s, args, true);
		break;
	case SMTP_VERB_HELO:
		r = cmd_helo(s, args, false);
		break;
	case SMTP_VERB_STARTTLS:
		r = cmd_starttls(s, args);
		break;
	case SMTP_VERB_AUTH:
		r = smtp_cmd_auth(s, args);
		break;
	case SMTP_VERB_MAIL:
		r = cmd_mail(s, args);
		break;
	case SMTP_VERB_RCPT:
		r = cmd_rcpt(s, args);
		break;
	case SMTP_VERB_DATA:
		r = cmd_data(s, args);
		break;
	case SMTP_VERB_BDAT:
		r = cmd_bdat(s, args);
		break;
	case SMTP_VERB_RSET:
		smtp_tx_reset(s);
		smtp_reply(s, "250 2.0.0 Flushed");
		r = 0;
		break;
	case SMTP_VERB_NOOP:
		smtp_reply(s, "250 2.0.0 OK");
		r = 0;
		break;
	case SMTP_VERB_QUIT:
		smtp_reply(s, "221 2.0.0 %s closing connection", s->cfg->hostname);
		r = -1;
		break;
	case SMTP_VERB_VRFY:
		/* RFC 5321 3.5.3: 252 rather than revealing who exists. */
		smtp_reply(s, "252 2.5.0 Cannot VRFY user, but will accept message and attempt "
			      "delivery");
		r = 0;
		break;
	case SMTP_VERB_EXPN:
		smtp_reply(s, "502 5.5.1 EXPN not available");
		r = smtp_error(s);
		break;
	case SMTP_VERB_HELP:
		smtp_reply(s, "214 2.0.0 See RFC 5321 (hermod)");
		r = 0;
		break;
	case SMTP_VERB_UNKNOWN:
	default:
		smtp_reply(s, "500 5.5.1 Command unrecognized");
		r = smtp_error(s);
		break;
	}
	log->action = NULL;
	return r;
}

/* --- Ending a message --- */

struct delivered_post {
	enum transport_result overall;
	char id[17];
};

static void smtp_delivered_reply(struct net_conn *conn, void *arg)
{
	struct smtp_session *s = net_conn_ctx(conn);
	struct delivered_post *d = arg;
	if (d->overall == TRANSPORT_RESULT_OK)
		smtp_reply(s, "250 2.0.0 OK queued as %s", d->id);
	else
		smtp_reply(s, "451 4.3.0 Temporary failure storing the message, try again later");
	smtp_tx_reset(s);
	s->waiting = false;
	net_conn_resume(conn);
}

static void smtp_delivered(void *ctx, enum transport_result overall,
	const enum transport_result *results, const char *id)
{
	(void)results;
	struct net_conn *conn = ctx;
	struct delivered_post *d = xcalloc(1, sizeof(*d));
	d->overall = overall;
	snprintf(d->id, sizeof(d->id), "%s", id);
	net_conn_post(conn, 0, smtp_delivered_reply, d, free);
	net_conn_unref(&conn);
}

int smtp_message_finish(struct smtp_session *s)
{
	s->fmode = SMTP_FRAME_COMMAND;
	if (s->cfg->mode == SMTP_MODE_SUBMISSION && smtp_auth_from_allowed(s) <= 0) {
		smtp_tx_reset(s);
		smtp_reply(s,
			"550 5.7.1 Client does not have permission to send as this From: address");
		return smtp_error(s);
	}
	/* RFC 5321 4.4: the trace header, prepended. RFC 3848 / RFC 6531
	 * 3.7.3: the "with" keyword. */
	const char *with = s->smtputf8 ? "UTF8SMTP" : s->esmtp ? "ESMTP" : "SMTP";
	bool tls = net_conn_is_tls(s->conn);
	char date[TIME_RFC5322_MAX];
	time_format_rfc5322(time(NULL), 0, date);
	char id[17];
	transport_new_id(s->cfg->transport, id);
	struct buf mime;
	buf_init(&mime, NULL);
	buf_printf(&mime, "Received: from %s ([%s])\r\n\tby %s (hermod) with %s%s%s id %s", s->helo,
		net_conn_peer_ip(s->conn), s->cfg->hostname, with,
		s->esmtp || s->smtputf8 ? (tls ? "S" : "") : "", s->user != NULL && s->esmtp ? "A" : "",
		id);
	if (s->rcpts.n == 1)
		buf_printf(&mime, "\r\n\tfor <%s>", s->rcpts.v[0].orig);
	buf_printf(&mime, ";\r\n\t%s\r\n", date);
	buf_append(&mime, s->body.data, s->body.len);
	buf_deinit(&s->body);

	struct transport_envelope env = {
		.id = id,
		.mail_from = s->mail_from,
		.envid = s->envid,
		.ret_hdrs = s->ret_hdrs,
		.smtputf8 = s->smtputf8,
		.body_8bit = s->body_8bit || (s->scan.flags & SMTP_DATA_8BIT),
		.rcpts = s->rcpts.v,
		.rcpt_count = s->rcpts.n,
		.received_from = pool_printf(s->tx_pool, "smtp %s%s%s", net_conn_peer_ip(s->conn),
			s->user ? " user " : "", s->user ? s->user->address : ""),
	};
	/* The reply waits for the transport: no further command is framed
	 * until the delivery is durable and answered (a pipelining client's
	 * next MAIL waits in the socket). */
	s->waiting = true;
	net_conn_pause(s->conn);
	net_conn_ref(s->conn);
	transport_deliver(s->cfg->transport, &env, mime.data, mime.len, smtp_delivered, s->conn);
	buf_deinit(&mime);
	return 0;
}

/* --- Connection life --- */

static int smtp_on_connect(struct net_conn *conn)
{
	const struct smtp_config *cfg = net_conn_protocol_ctx(conn);
	pool_t *pool = net_conn_pool(conn);
	struct smtp_session *s = pool_alloc(pool, sizeof(*s));
	s->conn = conn;
	s->cfg = cfg;
	s->pool = pool;
	s->tx_pool = pool_new("smtp-tx", 4096);
	s->log = net_conn_log(conn);
	array_init(&s->rcpts, s->tx_pool);
	buf_init(&s->body, NULL);
	net_conn_set_ctx(conn, s);
	smtp_reply(s, "220 %s ESMTP hermod", cfg->hostname);
	return 0;
}

static void smtp_on_overflow(struct net_conn *conn)
{
	struct smtp_session *s = net_conn_ctx(conn);
	if (s != NULL && s->overflow == SMTP_OVERFLOW_TIMEOUT) {
		log_info(s->log, "smtp: command or data took too long, disconnecting");
		smtp_reply(s, "421 4.4.2 %s Error: timeout exceeded", s->cfg->hostname);
	} else {
		net_conn_write_str(conn, "500 5.5.2 Line too long\r\n");
	}
}

static void smtp_on_timeout(struct net_conn *conn)
{
	struct smtp_session *s = net_conn_ctx(conn);
	if (s != NULL)
		smtp_reply(s, "421 4.4.2 %s Error: timeout exceeded", s->cfg->hostname);
}

static void smtp_on_shutdown(struct net_conn *conn)
{
	struct smtp_session *s = net_conn_ctx(conn);
	if (s != NULL)
		smtp_reply(s, "421 4.3.2 %s Service shutting down", s->cfg->hostname);
}

static void smtp_on_close(struct net_conn *conn)
{
	struct smtp_session *s = net_conn_ctx(conn);
	if (s == NULL)
		return;
	smtp_auth_abort(s);
	buf_deinit(&s->body);
	pool_free(&s->tx_pool);
	net_conn_set_ctx(conn, NULL);
}

const struct net_protocol smtp_protocol = {
	.name = "smtp",
	.on_connect = smtp_on_connect,
	.frame = smtp_frame,
	.on_command = smtp_on_command,
	.on_overflow = smtp_on_overflow,
	.on_timeout = smtp_on_timeout,
	.on_shutdown = smtp_on_shutdown,
	.on_close = smtp_on_close,
};
