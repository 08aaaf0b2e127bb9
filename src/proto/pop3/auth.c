/* POP3 authentication: USER/PASS (RFC 1939 section 7), AUTH with SASL
 * PLAIN and LOGIN (RFC 5034), STLS (RFC 2595), and the outcomes as RFC
 * 3206 response codes. */
#include <string.h>

#include "core/base64.h"
#include "core/log.h"
#include "directory/ntlm.h"
#include "directory/sasl.h"
#include "proto/pop3/pop3_int.h"

const char *pop3_sasl_mechanisms(struct pop3_session *s)
{
	/* NTLM sends no password, so it is offered before TLS too. */
	bool ntlm = s->srv->set.ntlm;
	if (pop3_plaintext_ok(s))
		return ntlm ? "PLAIN LOGIN NTLM" : "PLAIN LOGIN";
	return ntlm ? "NTLM" : "";
}

void pop3_sasl_reset(struct pop3_session *s)
{
	s->sasl = POP3_SASL_NONE;
	s->ntlm_challenged = false;
	directory_ntlm_free(&s->ntlm);
}

static void pop3_set_user_name(struct pop3_session *s, struct slice name)
{
	size_t n = name.len < POP3_USER_NAME_MAX ? name.len : POP3_USER_NAME_MAX;
	memcpy(s->user_name, name.ptr, n);
	s->user_name[n] = '\0';
}

/* The credentials were refused or could not be checked. Counts the
 * failure; past max_auth_failures the session is closed. */
static void pop3_login_failed(struct pop3_session *s, const char *code, const char *text)
{
	pop3_err(s, code, "%s", text);
	if (++s->auth_failures >= s->srv->set.max_auth_failures) {
		pop3_err(s, NULL, "Too many failed logins, closing the connection");
		s->closing = true;
	}
}

/* Answers the outcome of a login (any mechanism) and, when it succeeded,
 * opens the maildrop. */
static void pop3_auth_result(struct pop3_session *s, enum directory_auth_result r,
	struct directory_user *user, const char *username, const char *error)
{
	struct log_ctx *lc = net_conn_log(s->conn);
	switch (r) {
	case DIRECTORY_AUTH_OK:
		break;
	case DIRECTORY_AUTH_FAILED:
	case DIRECTORY_AUTH_DISABLED:
		/* Disabled accounts are answered like wrong passwords: only
		 * the owner would learn something, and the log says which. */
		log_info(lc, "login failed for %s: %s", username, error);
		pop3_login_failed(s, "AUTH", "Authentication failed");
		return;
	case DIRECTORY_AUTH_THROTTLED:
		log_info(lc, "login refused for %s: %s", username, error);
		pop3_login_failed(s, "SYS/TEMP", "Too many failed logins, try again later");
		return;
	case DIRECTORY_AUTH_ERROR:
	default:
		log_error(lc, "login for %s: %s", username, error);
		pop3_err(s, "SYS/TEMP", "Temporary failure, try again later");
		return;
	}
	/* Kept for the session; what the directory returned dies with the
	 * command (so failed attempts cost the connection nothing). */
	struct directory_user *u = pool_memdup(s->pool, user, sizeof(*user));
	u->address = pool_strdup(s->pool, user->address);
	u->domain = pool_strdup(s->pool, user->domain);
	u->display_name = pool_strdup(s->pool, user->display_name);
	u->legacy_dn = pool_strdup(s->pool, user->legacy_dn);
	user = u;
	if (pop3_maildrop_open(s, user) == 0) {
		lc->user = user->address;
		net_conn_set_idle_timeout(s->conn, s->srv->set.idle_timeout_s);
	}
}

/* Checks a user name and password and, when right, opens the maildrop. */
static void pop3_login(struct pop3_session *s, const char *username, const char *password)
{
	struct directory_user *user = NULL;
	const char *error = NULL;
	enum directory_auth_result r = directory_auth_plain(s->srv->dir, s->srv->throttle,
		username, password, net_conn_peer_ip(s->conn), s->cmd_pool, &user, &error);
	pop3_auth_result(s, r, user, username, error);
}

/* One NTLMSSP message of AUTH NTLM (MS-OXPOP3 2.2.1, 3.2.5): the
 * NEGOTIATE_MESSAGE is answered with "+ " and the CHALLENGE_MESSAGE, the
 * AUTHENTICATE_MESSAGE with the outcome. */
static void pop3_ntlm_step(struct pop3_session *s, struct slice b64)
{
	struct buf in, out;
	buf_init(&in, s->cmd_pool);
	buf_init(&out, s->cmd_pool);
	const char *error = NULL;
	if (base64_decode(b64.ptr, b64.len, &in) < 0 || in.len > DIRECTORY_NTLM_MESSAGE_MAX) {
		pop3_sasl_reset(s);
		pop3_login_failed(s, "AUTH", "Invalid NTLM message");
		return;
	}
	if (!s->ntlm_challenged) {
		if (directory_ntlm_challenge(s->ntlm, in.data, in.len, &out, &error) < 0) {
			log_info(net_conn_log(s->conn), "bad NTLM NEGOTIATE_MESSAGE: %s", error);
			pop3_sasl_reset(s);
			pop3_login_failed(s, "AUTH", "Invalid NTLM message");
			return;
		}
		s->ntlm_challenged = true;
		buf_append_str(&s->out, "+ ");
		base64_encode(out.data, out.len, &s->out);
		buf_append_str(&s->out, "\r\n");
		return;
	}
	struct directory_user *user = NULL;
	const char *who = NULL;
	enum directory_auth_result r = directory_ntlm_authenticate(s->ntlm, s->srv->dir,
		s->srv->throttle, net_conn_peer_ip(s->conn), in.data, in.len, s->cmd_pool, &user, &who,
		&error);
	pop3_sasl_reset(s);
	pop3_auth_result(s, r, user, who != NULL ? who : "(ntlm)", error);
}

void pop3_cmd_user(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (!pop3_plaintext_ok(s)) {
		pop3_err(s, "AUTH", "Plaintext authentication disallowed on non-secure connections; "
				   "use STLS first");
		return;
	}
	pop3_set_user_name(s, cmd->argv[0]);
	pop3_ok(s, "Send your password");
}

void pop3_cmd_pass(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (s->user_name[0] == '\0') {
		pop3_err(s, NULL, "USER first");
		s->bad = true;
		return;
	}
	if (!pop3_plaintext_ok(s)) {
		pop3_err(s, "AUTH", "Plaintext authentication disallowed on non-secure connections");
		return;
	}
	/* RFC 1939 section 7: the password is the rest of the line. */
	char *pw = slice_dup(s->cmd_pool, cmd->rest);
	char *user = pool_strdup(s->cmd_pool, s->user_name);
	s->user_name[0] = '\0';
	pop3_login(s, user, pw);
	explicit_bzero(pw, cmd->rest.len);
}

/* The base64 of one SASL response; "=" is the empty response (RFC 5034
 * section 4). -1 for invalid base64. */
static int pop3_sasl_decode(struct slice b64, struct buf *out)
{
	if (b64.len == 1 && b64.ptr[0] == '=')
		return 0;
	return base64_decode(b64.ptr, b64.len, out);
}

static void pop3_sasl_plain(struct pop3_session *s, struct slice b64)
{
	char *authzid, *authcid, *passwd;
	const char *error;
	s->sasl = POP3_SASL_NONE;
	if (directory_sasl_plain_decode(s->cmd_pool, (const char *)b64.ptr, b64.len, &authzid,
		    &authcid, &passwd, &error) < 0) {
		pop3_login_failed(s, "AUTH", "Invalid PLAIN response");
		return;
	}
	/* Until impersonation exists: no authzid, or the same identity. */
	if (*authzid != '\0' && strcmp(authzid, authcid) != 0) {
		pop3_login_failed(s, "AUTH", "Authorization identity not permitted");
		return;
	}
	pop3_login(s, authcid, passwd);
	explicit_bzero(passwd, strlen(passwd));
}

void pop3_sasl_continue(struct pop3_session *s, struct slice line)
{
	/* RFC 5034 section 4: "*" cancels the exchange. */
	if (line.len == 1 && line.ptr[0] == '*') {
		pop3_sasl_reset(s);
		pop3_err(s, NULL, "Authentication cancelled");
		return;
	}
	struct buf dec;
	switch (s->sasl) {
	case POP3_SASL_PLAIN:
		pop3_sasl_plain(s, line);
		return;
	case POP3_SASL_LOGIN_USER:
		buf_init(&dec, s->cmd_pool);
		if (pop3_sasl_decode(line, &dec) < 0 || dec.len == 0 ||
			memchr(dec.data, '\0', dec.len) != NULL) {
			pop3_sasl_reset(s);
			pop3_login_failed(s, "AUTH", "Invalid LOGIN response");
			return;
		}
		if (dec.len > POP3_USER_NAME_MAX) {
			pop3_sasl_reset(s);
			pop3_login_failed(s, "AUTH", "User name too long");
			return;
		}
		pop3_set_user_name(s, buf_slice(&dec));
		s->sasl = POP3_SASL_LOGIN_PASS;
		/* "Password:" */
		buf_append_str(&s->out, "+ UGFzc3dvcmQ6\r\n");
		return;
	case POP3_SASL_LOGIN_PASS: {
		buf_init(&dec, s->cmd_pool);
		char *user = pool_strdup(s->cmd_pool, s->user_name);
		s->user_name[0] = '\0';
		pop3_sasl_reset(s);
		if (pop3_sasl_decode(line, &dec) < 0 || memchr(dec.data, '\0', dec.len) != NULL) {
			pop3_login_failed(s, "AUTH", "Invalid LOGIN response");
			return;
		}
		pop3_login(s, user, buf_cstr(&dec));
		explicit_bzero(dec.data, dec.len);
		return;
	}
	case POP3_SASL_NTLM:
		pop3_ntlm_step(s, line);
		return;
	case POP3_SASL_NONE:
		break;
	}
	pop3_sasl_reset(s);
	pop3_err(s, NULL, "Authentication failed");
}

void pop3_cmd_auth(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (cmd->argc == 0) {
		/* The mechanism list (RFC 1734 usage, MS-OXPOP3 2.2.1). */
		const char *mechs = pop3_sasl_mechanisms(s);
		pop3_ok(s, "Supported mechanisms follow");
		for (const char *p = mechs; *p != '\0';) {
			const char *sp = strchr(p, ' ');
			size_t n = sp != NULL ? (size_t)(sp - p) : strlen(p);
			buf_append(&s->out, p, n);
			buf_append(&s->out, "\r\n", 2);
			p += n;
			while (*p == ' ')
				p++;
		}
		buf_append_str(&s->out, ".\r\n");
		return;
	}
	struct slice mech = cmd->argv[0];
	bool has_ir = cmd->argc == 2;
	bool plain = slice_case_eq_str(mech, "PLAIN"), login = slice_case_eq_str(mech, "LOGIN");
	if (slice_case_eq_str(mech, "NTLM") && s->srv->set.ntlm) {
		s->sasl = POP3_SASL_NTLM;
		s->ntlm = directory_ntlm_new(s->srv->set.hostname);
		if (has_ir) {
			pop3_ntlm_step(s, cmd->argv[1]);
			return;
		}
		/* MS-OXPOP3 2.2.1: POP3_NTLM_Supported_Response, "+ " */
		buf_append_str(&s->out, "+ \r\n");
		return;
	}
	if (!plain && !login) {
		pop3_err(s, NULL, "Unsupported authentication mechanism");
		s->bad = true;
		return;
	}
	if (!pop3_plaintext_ok(s)) {
		pop3_err(s, "AUTH", "Plaintext authentication disallowed on non-secure connections; "
				   "use STLS first");
		return;
	}
	if (plain) {
		if (has_ir) {
			s->sasl = POP3_SASL_PLAIN;
			pop3_sasl_continue(s, cmd->argv[1]);
			return;
		}
		s->sasl = POP3_SASL_PLAIN;
		buf_append_str(&s->out, "+ \r\n");
		return;
	}
	s->sasl = POP3_SASL_LOGIN_USER;
	if (has_ir) {
		pop3_sasl_continue(s, cmd->argv[1]);
		return;
	}
	/* "Username:" */
	buf_append_str(&s->out, "+ VXNlcm5hbWU6\r\n");
}

void pop3_cmd_stls(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (net_conn_is_tls(s->conn)) {
		pop3_err(s, NULL, "Command not permitted when TLS active");
		s->bad = true;
		return;
	}
	if (!net_conn_tls_available(s->conn)) {
		pop3_err(s, NULL, "TLS is not available");
		s->bad = true;
		return;
	}
	pop3_ok(s, "Begin TLS negotiation");
	if (pop3_flush(s) < 0 || net_conn_starttls(s->conn) < 0) {
		s->closing = true;
		return;
	}
	/* RFC 2595 section 4: forget what was said before TLS. */
	s->user_name[0] = '\0';
}
