/* SMTP AUTH (RFC 4954) on the submission ports: PLAIN (RFC 4616), LOGIN
 * (MS-XLOGIN) and NTLM (MS-OXSMTP 2.2.1.4, verified by
 * directory/ntlm.h), and the submission sender checks (RFC 6409 8.1: the
 * envelope sender and the From: addresses must be the user's, or ones the
 * user has Send As on). */
#include <string.h>

#include <gmime/gmime.h>

#include "core/base64.h"
#include "core/log.h"
#include "core/str.h"
#include "directory/auth.h"
#include "directory/ntlm.h"
#include "directory/sasl.h"
#include "proto/smtp/smtp_int.h"

void smtp_auth_abort(struct smtp_session *s)
{
	s->auth_mech = SMTP_AUTH_NONE;
	s->auth_user = NULL;
	directory_ntlm_free(&s->ntlm);
	s->ntlm_challenged = false;
	if (s->fmode == SMTP_FRAME_AUTH)
		s->fmode = SMTP_FRAME_COMMAND;
}

static const char *smtp_auth_mech_name(enum smtp_auth_mech m)
{
	switch (m) {
	case SMTP_AUTH_PLAIN:
		return "PLAIN";
	case SMTP_AUTH_LOGIN_USER:
	case SMTP_AUTH_LOGIN_PASS:
		return "LOGIN";
	case SMTP_AUTH_NTLM:
		return "NTLM";
	case SMTP_AUTH_NONE:
	default:
		return "?";
	}
}

static int auth_result(struct smtp_session *s, enum directory_auth_result r,
	struct directory_user *user, const char *who, const char *error)
{
	const char *mech = smtp_auth_mech_name(s->auth_mech);
	smtp_auth_abort(s);
	switch (r) {
	case DIRECTORY_AUTH_OK:
		s->user = user;
		s->log->user = user->address;
		log_info(s->log, "smtp: authenticated as %s (%s)", user->address, mech);
		smtp_reply(s, "235 2.7.0 Authentication successful");
		return 0;
	case DIRECTORY_AUTH_THROTTLED:
		log_info(s->log, "smtp: AUTH for %s throttled", who);
		smtp_reply(s, "454 4.7.0 Temporary authentication failure");
		return smtp_error(s);
	case DIRECTORY_AUTH_ERROR:
		log_warning(s->log, "smtp: AUTH for %s: %s", who, error ? error : "error");
		smtp_reply(s, "454 4.7.0 Temporary authentication failure");
		return 0;
	case DIRECTORY_AUTH_FAILED:
	case DIRECTORY_AUTH_DISABLED:
	default:
		log_info(s->log, "smtp: AUTH %s failed for %s: %s", mech, who,
			error ? error : "failed");
		smtp_reply(s, "535 5.7.8 Authentication credentials invalid");
		if (++s->auth_failures >= s->cfg->max_auth_failures) {
			smtp_reply(s, "421 4.7.0 %s Error: too many failed authentications",
				s->cfg->hostname);
			return -1;
		}
		return smtp_error(s);
	}
}

static int auth_password(struct smtp_session *s, const char *user, const char *password)
{
	struct directory_user *u = NULL;
	const char *error = NULL;
	enum directory_auth_result r = directory_auth_plain(s->cfg->dir, s->cfg->throttle, user,
		password, net_conn_peer_ip(s->conn), s->pool, &u, &error);
	return auth_result(s, r, u, user, error);
}

static int auth_plain(struct smtp_session *s, const char *b64, size_t len)
{
	char *authzid, *authcid, *passwd;
	const char *error;
	if (directory_sasl_plain_decode(s->tx_pool, b64, len, &authzid, &authcid, &passwd,
		    &error) < 0) {
		smtp_auth_abort(s);
		smtp_reply(s, "501 5.5.2 Cannot decode the PLAIN response");
		return smtp_error(s);
	}
	/* Acting as somebody else is not offered (directory/sasl.h). */
	if (authzid[0] != '\0' && !str_case_eq(authzid, authcid))
		return auth_result(s, DIRECTORY_AUTH_FAILED, NULL, authcid, "authzid differs");
	int r = auth_password(s, authcid, passwd);
	explicit_bzero(passwd, strlen(passwd));
	return r;
}

static char *b64_decode_str(pool_t *pool, const char *b64, size_t len)
{
	struct buf out;
	buf_init(&out, pool);
	if (base64_decode(b64, len, &out) < 0 || memchr(out.data, 0, out.len) != NULL ||
		out.len > DIRECTORY_SASL_FIELD_MAX)
		return NULL;
	return (char *)buf_cstr(&out);
}

static int auth_ntlm_step(struct smtp_session *s, const char *b64, size_t len)
{
	struct buf in, out;
	buf_init(&in, s->tx_pool);
	buf_init(&out, s->tx_pool);
	const char *error = NULL;
	if (base64_decode(b64, len, &in) < 0) {
		smtp_auth_abort(s);
		smtp_reply(s, "501 5.5.2 Cannot decode the NTLM message");
		return smtp_error(s);
	}
	if (!s->ntlm_challenged) {
		if (directory_ntlm_challenge(s->ntlm, in.data, in.len, &out, &error) < 0) {
			log_info(s->log, "smtp: bad NTLM NEGOTIATE_MESSAGE: %s", error);
			smtp_auth_abort(s);
			smtp_reply(s, "501 5.5.2 Malformed NTLM message");
			return smtp_error(s);
		}
		s->ntlm_challenged = true;
		/* MS-OXSMTP 3.1.5.1: the CHALLENGE_MESSAGE in a 334 line. */
		struct buf b;
		buf_init(&b, s->tx_pool);
		base64_encode(out.data, out.len, &b);
		smtp_reply(s, "334 %s", buf_cstr(&b));
		return 0;
	}
	struct directory_user *u = NULL;
	const char *who = NULL;
	enum directory_auth_result r = directory_ntlm_authenticate(s->ntlm, s->cfg->dir,
		s->cfg->throttle, net_conn_peer_ip(s->conn), in.data, in.len, s->pool, &u, &who,
		&error);
	return auth_result(s, r, u, who != NULL ? who : "(ntlm)", error);
}

int smtp_cmd_auth(struct smtp_session *s, struct slice args)
{
	if (s->cfg->mode != SMTP_MODE_SUBMISSION) {
		smtp_reply(s, "503 5.5.1 AUTH not available on this port; use submission");
		return smtp_error(s);
	}
	if (s->helo == NULL || !s->esmtp) {
		smtp_reply(s, "503 5.5.1 Send EHLO first");
		return smtp_error(s);
	}
	if (s->user != NULL) {
		smtp_reply(s, "503 5.5.1 Already authenticated");
		return smtp_error(s);
	}
	if (s->in_tx) {
		smtp_reply(s, "503 5.5.1 AUTH not allowed during a mail transaction");
		return smtp_error(s);
	}
	if (!smtp_auth_allowed_here(s)) {
		/* RFC 4954 6; the LOGINDISABLED of IMAP, in SMTP terms. */
		smtp_reply(s, "538 5.7.11 Encryption required for requested authentication mechanism");
		return smtp_error(s);
	}
	const char *p = (const char *)args.ptr, *end = p + args.len;
	const char *sp = memchr(p, ' ', args.len);
	size_t mlen = sp != NULL ? (size_t)(sp - p) : args.len;
	const char *initial = sp != NULL ? sp + 1 : NULL;
	size_t ilen = initial != NULL ? (size_t)(end - initial) : 0;
	/* RFC 4954 4: "=" is an empty initial response. */
	bool empty_initial = initial != NULL && ilen == 1 && initial[0] == '=';
	if (mlen == 5 && str_ncasecmp(p, "PLAIN", 5) == 0) {
		s->auth_mech = SMTP_AUTH_PLAIN;
		if (initial != NULL && !empty_initial)
			return auth_plain(s, initial, ilen);
		s->fmode = SMTP_FRAME_AUTH;
		smtp_reply(s, "334 ");
		return 0;
	}
	if (mlen == 5 && str_ncasecmp(p, "LOGIN", 5) == 0) {
		s->fmode = SMTP_FRAME_AUTH;
		if (initial != NULL && !empty_initial) {
			s->auth_user = b64_decode_str(s->pool, initial, ilen);
			if (s->auth_user == NULL) {
				smtp_auth_abort(s);
				smtp_reply(s, "501 5.5.2 Cannot decode the user name");
				return smtp_error(s);
			}
			s->auth_mech = SMTP_AUTH_LOGIN_PASS;
			smtp_reply(s, "334 UGFzc3dvcmQ6"); /* "Password:" (MS-XLOGIN 2.2.1) */
			return 0;
		}
		s->auth_mech = SMTP_AUTH_LOGIN_USER;
		smtp_reply(s, "334 VXNlcm5hbWU6"); /* "Username:" */
		return 0;
	}
	if (mlen == 4 && str_ncasecmp(p, "NTLM", 4) == 0 && s->cfg->enable_ntlm) {
		s->ntlm = directory_ntlm_new(s->cfg->hostname);
		s->auth_mech = SMTP_AUTH_NTLM;
		s->fmode = SMTP_FRAME_AUTH;
		if (initial != NULL && !empty_initial)
			return auth_ntlm_step(s, initial, ilen);
		/* MS-OXSMTP 3.1.5.1: an empty challenge asks for the
		 * NEGOTIATE_MESSAGE. */
		smtp_reply(s, "334 ");
		return 0;
	}
	smtp_reply(s, "504 5.5.4 Unrecognized authentication type");
	return smtp_error(s);
}

int smtp_auth_continue(struct smtp_session *s, const char *line, size_t len)
{
	if (len == 1 && line[0] == '*') {
		smtp_auth_abort(s);
		smtp_reply(s, "501 5.0.0 Authentication cancelled");
		return smtp_error(s);
	}
	switch (s->auth_mech) {
	case SMTP_AUTH_PLAIN:
		return auth_plain(s, line, len);
	case SMTP_AUTH_LOGIN_USER:
		s->auth_user = b64_decode_str(s->pool, line, len);
		if (s->auth_user == NULL) {
			smtp_auth_abort(s);
			smtp_reply(s, "501 5.5.2 Cannot decode the user name");
			return smtp_error(s);
		}
		s->auth_mech = SMTP_AUTH_LOGIN_PASS;
		smtp_reply(s, "334 UGFzc3dvcmQ6");
		return 0;
	case SMTP_AUTH_LOGIN_PASS: {
		char *pw = b64_decode_str(s->tx_pool, line, len);
		if (pw == NULL) {
			smtp_auth_abort(s);
			smtp_reply(s, "501 5.5.2 Cannot decode the password");
			return smtp_error(s);
		}
		int r = auth_password(s, s->auth_user, pw);
		explicit_bzero(pw, strlen(pw));
		return r;
	}
	case SMTP_AUTH_NTLM:
		return auth_ntlm_step(s, line, len);
	case SMTP_AUTH_NONE:
	default:
		smtp_auth_abort(s);
		smtp_reply(s, "503 5.5.1 No AUTH in progress");
		return smtp_error(s);
	}
}

/* 1 if the authenticated user may send as address: one of their own, or
 * one they have Send As on (directory_send_as_allowed). 0 no, -1 error. */
static int user_owns(struct smtp_session *s, const char *address)
{
	const char *error;
	int r = directory_send_as_allowed(s->cfg->dir, s->user->id, address, &error);
	if (r < 0)
		log_warning(s->log, "smtp: sender check for %s: %s", address, error);
	return r;
}

int smtp_auth_sender_allowed(struct smtp_session *s, const struct smtp_path *p)
{
	if (s->user == NULL || p->null_path)
		return 0;
	return user_owns(s, p->address);
}

/* The unfolded value of the first From: field of the header block. */
static char *header_from(pool_t *pool, const unsigned char *d, size_t len)
{
	size_t i = 0;
	while (i < len) {
		if (d[i] == '\r' || d[i] == '\n')
			return NULL; /* the end of the header block */
		const unsigned char *lf = memchr(d + i, '\n', len - i);
		size_t end = lf ? (size_t)(lf - d) + 1 : len;
		if (end - i >= 5 && str_ncasecmp((const char *)d + i, "From:", 5) == 0) {
			struct buf v;
			buf_init(&v, pool);
			size_t k = i + 5;
			for (;;) {
				for (; k < end; k++)
					if (d[k] != '\r' && d[k] != '\n')
						buf_append_byte(&v, d[k]);
				if (end < len && (d[end] == ' ' || d[end] == '\t')) {
					lf = memchr(d + end, '\n', len - end);
					k = end;
					end = lf ? (size_t)(lf - d) + 1 : len;
					continue;
				}
				break;
			}
			return (char *)buf_cstr(&v);
		}
		i = end;
	}
	return NULL;
}

int smtp_auth_from_allowed(struct smtp_session *s)
{
	if (s->user == NULL)
		return 0;
	char *from = header_from(s->tx_pool, s->body.data, s->body.len);
	if (from == NULL)
		return 1; /* RFC 6409 8.1: nothing to check (an MSA may add one) */
	InternetAddressList *list = internet_address_list_parse(NULL, from);
	if (list == NULL)
		return 0;
	int ok = internet_address_list_length(list) > 0 ? 1 : 0;
	for (int i = 0; ok == 1 && i < internet_address_list_length(list); i++) {
		InternetAddress *a = internet_address_list_get_address(list, i);
		if (!INTERNET_ADDRESS_IS_MAILBOX(a)) {
			ok = 0;
			break;
		}
		const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
		ok = addr != NULL ? user_owns(s, addr) : 0;
	}
	g_object_unref(list);
	return ok;
}
