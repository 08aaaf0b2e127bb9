/* LOGIN (RFC 3501 6.2.3, with the MS-OXIMAP4 2.2.2 delegate form
 * "delegate/principal"), AUTHENTICATE PLAIN (RFC 4616, authzid names the
 * mailbox to open), LOGIN (draft-murchison-sasl-login) and NTLM
 * (MS-OXIMAP4 2.2.1, verified by directory/ntlm.h), with SASL-IR (RFC
 * 4959). */
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "directory/auth.h"
#include "directory/ntlm.h"
#include "directory/sasl.h"
#include "mapi/errors.h"
#include "proto/imap/imap_int.h"
#include "store/table.h"

enum { MECH_PLAIN = 1, MECH_LOGIN, MECH_NTLM };

/* Opens the mailbox of owner (the user's own, or another's they were
 * given rights to) for user and enters the authenticated state. */
int imap_login_done(struct imap_session *s, const struct directory_user *user,
	const char *mailbox_owner)
{
	const struct directory_user *target = user;
	const char *error;
	struct directory_user *other = NULL;
	if (mailbox_owner != NULL && str_casecmp(mailbox_owner, user->address) != 0) {
		int r = directory_user_get(s->srv->dir, mailbox_owner, s->cmd_pool, &other, &error);
		if (r <= 0 || !other->enabled) {
			imap_no(s, "[AUTHORIZATIONFAILED] No such mailbox");
			return -1;
		}
		target = other;
	}
	struct store_logon logon = {
		.principal = user->address,
		.quota_hard = target->quota,
	};
	struct store_mailbox *mb;
	uint32_t ec = store_mailbox_open(s->srv->store, &target->mailbox_guid, &logon, &mb);
	if (ec != ecSuccess) {
		log_warning(net_conn_log(s->conn), "cannot open the mailbox of %s: %s",
			target->address, mapi_ec_name(ec));
		imap_no(s, "[UNAVAILABLE] The mailbox cannot be opened now");
		return -1;
	}
	if (target != user) {
		/* MS-OXIMAP4 2.2.2: a delegate needs rights on the principal's
		 * mailbox; with none visible, the logon is refused. */
		struct store_table *t;
		uint32_t n = 0;
		ec = store_table_open_hierarchy(mb,
			store_mailbox_special_fid(mb, STORE_SPECIAL_IPM_SUBTREE), true, &t);
		if (ec == ecSuccess) {
			ec = store_table_row_count(t, &n);
			store_table_close(&t);
		}
		if (ec != ecSuccess || n == 0) {
			store_mailbox_close(&mb);
			imap_no(s, "[AUTHORIZATIONFAILED] Not allowed to open this mailbox");
			return -1;
		}
	}
	s->mb = mb;
	s->user = pool_strdup(s->pool, user->address);
	s->mailbox_owner = pool_strdup(s->pool, target->address);
	s->quota = target->quota;
	s->state = IMAP_STATE_AUTH;
	net_conn_log(s->conn)->user = s->user;
	net_conn_set_idle_timeout(s->conn, s->srv->set.idle_timeout_s);
	log_info(net_conn_log(s->conn), "logged in%s%s", target != user ? " to the mailbox of " : "",
		target != user ? target->address : "");
	return 0;
}

/* Answers the outcome of a login (any mechanism) and, when it succeeded,
 * opens the mailbox. Writes the tagged reply. */
static int imap_auth_result(struct imap_session *s, enum directory_auth_result r,
	struct directory_user *user, const char *authcid, const char *error,
	const char *mailbox_owner)
{
	switch (r) {
	case DIRECTORY_AUTH_OK:
		break;
	case DIRECTORY_AUTH_THROTTLED:
		log_info(net_conn_log(s->conn), "login throttled for %.100s", authcid);
		imap_no(s, "[UNAVAILABLE] Too many failed logins; try again later");
		return 0;
	case DIRECTORY_AUTH_ERROR:
		log_warning(net_conn_log(s->conn), "login: %s", error ? error : "error");
		imap_no(s, "[UNAVAILABLE] Temporary failure; try again later");
		return 0;
	default:
		log_info(net_conn_log(s->conn), "login failed for %.100s: %s", authcid,
			directory_auth_result_name(r));
		imap_no(s, "[AUTHENTICATIONFAILED] Invalid credentials");
		return 0;
	}
	if (imap_login_done(s, user, mailbox_owner) < 0)
		return 0;
	imap_ok(s, "[CAPABILITY %s] Logged in", imap_capabilities(s));
	return 0;
}

/* Checks a password; on success logs in. Writes the tagged reply. */
static int imap_auth_password(struct imap_session *s, const char *authcid, const char *password,
	const char *mailbox_owner)
{
	struct directory_user *user = NULL;
	const char *error = NULL;
	enum directory_auth_result r = directory_auth_plain(s->srv->dir, s->srv->throttle, authcid,
		password, net_conn_peer_ip(s->conn), s->cmd_pool, &user, &error);
	return imap_auth_result(s, r, user, authcid, error, mailbox_owner);
}

/* MS-OXIMAP4 2.2.2: "domain/delegate/principal" or "delegate@dom/principal";
 * the principal is an alias (in the delegate's domain) or an address. */
static void imap_split_delegate(pool_t *pool, const char *name, const char **authcid_r,
	const char **owner_r)
{
	*authcid_r = name;
	*owner_r = NULL;
	const char *slash = strrchr(name, '/');
	if (slash == NULL || slash == name || slash[1] == '\0')
		return;
	char *delegate = pool_strndup(pool, name, (size_t)(slash - name));
	const char *principal = slash + 1;
	char *dslash = strchr(delegate, '/');
	if (dslash != NULL) {
		*dslash = '\0';
		delegate = pool_printf(pool, "%s@%s", dslash + 1, delegate);
	}
	const char *at = strchr(delegate, '@');
	if (strchr(principal, '@') == NULL && at != NULL)
		principal = pool_printf(pool, "%s%s", principal, at);
	*authcid_r = delegate;
	*owner_r = principal;
}

int imap_cmd_login(struct imap_session *s, struct imap_arg *args)
{
	if (!imap_arg_is_astring(&args[0]) || !imap_arg_is_astring(&args[1]) ||
		args[2].type != IMAP_ARG_EOL) {
		imap_bad(s, "LOGIN needs a user name and a password");
		return 0;
	}
	if (!imap_plaintext_ok(s)) {
		/* RFC 3501 6.2.3, RFC 9051 6.2.3 */
		imap_no(s, "[PRIVACYREQUIRED] LOGIN is disabled before STARTTLS");
		return 0;
	}
	const char *name = imap_arg_str(s->cmd_pool, &args[0]);
	const char *pw = imap_arg_str(s->cmd_pool, &args[1]);
	if (name == NULL || pw == NULL || name[0] == '\0' || strlen(name) > 512) {
		imap_no(s, "[AUTHENTICATIONFAILED] Invalid credentials");
		return 0;
	}
	const char *authcid, *owner;
	imap_split_delegate(s->cmd_pool, name, &authcid, &owner);
	return imap_auth_password(s, authcid, pw, owner);
}

static void imap_auth_end(struct imap_session *s)
{
	s->frame_mode = IMAP_FRAME_COMMAND;
	s->line_fn = NULL;
	directory_ntlm_free(&s->ntlm);
	if (s->auth_user != NULL) {
		explicit_bzero(s->auth_user, strlen(s->auth_user));
		free(s->auth_user);
		s->auth_user = NULL;
	}
	if (s->line_tag != NULL) {
		/* The reply still needs the tag. */
		s->tag = pool_strdup(s->cmd_pool, s->line_tag);
		free((char *)s->line_tag);
		s->line_tag = NULL;
	}
}

/* One NTLMSSP message (MS-OXIMAP4 3.1.5.1.1): the NEGOTIATE_MESSAGE is
 * answered with "+ " and the CHALLENGE_MESSAGE, the AUTHENTICATE_MESSAGE
 * with the outcome. The user logs on to their own mailbox (NTLM names no
 * other). */
static int imap_auth_ntlm(struct imap_session *s, const struct buf *msg)
{
	const char *error = NULL;
	if (msg->len > DIRECTORY_NTLM_MESSAGE_MAX) {
		imap_auth_end(s);
		imap_no(s, "[AUTHENTICATIONFAILED] Invalid NTLM message");
		return 0;
	}
	if (s->auth_step == 0) {
		struct buf out;
		buf_init(&out, s->cmd_pool);
		if (directory_ntlm_challenge(s->ntlm, msg->data, msg->len, &out, &error) < 0) {
			log_info(net_conn_log(s->conn), "bad NTLM NEGOTIATE_MESSAGE: %s", error);
			imap_auth_end(s);
			imap_no(s, "[AUTHENTICATIONFAILED] Invalid NTLM message");
			return 0;
		}
		s->auth_step = 1;
		buf_append_str(&s->out, "+ ");
		base64_encode(out.data, out.len, &s->out);
		buf_append_str(&s->out, "\r\n");
		return 0;
	}
	struct directory_user *user = NULL;
	const char *who = NULL;
	enum directory_auth_result r = directory_ntlm_authenticate(s->ntlm, s->srv->dir,
		s->srv->throttle, net_conn_peer_ip(s->conn), msg->data, msg->len, s->cmd_pool, &user,
		&who, &error);
	imap_auth_end(s);
	return imap_auth_result(s, r, user, who != NULL ? who : "(ntlm)", error, NULL);
}

/* One base64 response (from SASL-IR or a continuation line). */
static int imap_auth_step(struct imap_session *s, const unsigned char *b64, size_t len)
{
	if (len == 1 && b64[0] == '*') {
		imap_auth_end(s);
		imap_bad(s, "AUTHENTICATE cancelled");
		return 0;
	}
	struct buf dec;
	buf_init(&dec, s->cmd_pool);
	/* RFC 4959: "=" is an empty initial response. */
	if (!(len == 1 && b64[0] == '=') && base64_decode(b64, len, &dec) < 0) {
		imap_auth_end(s);
		imap_bad(s, "Invalid base64");
		return 0;
	}
	if (s->auth_mech == MECH_NTLM)
		return imap_auth_ntlm(s, &dec);
	if (s->auth_mech == MECH_PLAIN) {
		struct directory_sasl_plain m;
		const char *err;
		if (directory_sasl_plain_parse(dec.data, dec.len, &m, &err) < 0) {
			explicit_bzero(dec.data, dec.len);
			imap_auth_end(s);
			imap_no(s, "[AUTHENTICATIONFAILED] Invalid credentials");
			return 0;
		}
		const char *authcid = slice_dup(s->cmd_pool, m.authcid);
		const char *pw = slice_dup(s->cmd_pool, m.passwd);
		const char *authz = m.authzid.len ? slice_dup(s->cmd_pool, m.authzid) : NULL;
		explicit_bzero(dec.data, dec.len);
		imap_auth_end(s);
		return imap_auth_password(s, authcid, pw, authz);
	}
	/* LOGIN: user name, then password. */
	if (memchr(dec.data, '\0', dec.len) != NULL || dec.len > 1024) {
		imap_auth_end(s);
		imap_no(s, "[AUTHENTICATIONFAILED] Invalid credentials");
		return 0;
	}
	if (s->auth_step == 0) {
		s->auth_user = xstrdup(buf_cstr(&dec));
		s->auth_step = 1;
		buf_append_str(&s->out, "+ UGFzc3dvcmQ6\r\n"); /* "Password:" */
		return 0;
	}
	const char *pw = pool_strdup(s->cmd_pool, buf_cstr(&dec));
	explicit_bzero(dec.data, dec.len);
	const char *authcid, *owner;
	imap_split_delegate(s->cmd_pool, pool_strdup(s->cmd_pool, s->auth_user), &authcid, &owner);
	imap_auth_end(s);
	return imap_auth_password(s, authcid, pw, owner);
}

static int imap_auth_line(struct imap_session *s, const unsigned char *line, size_t len)
{
	return imap_auth_step(s, line, len);
}

int imap_cmd_authenticate(struct imap_session *s, struct imap_arg *args)
{
	if (args[0].type != IMAP_ARG_ATOM ||
		(args[1].type != IMAP_ARG_EOL &&
			(args[1].type != IMAP_ARG_ATOM || args[2].type != IMAP_ARG_EOL))) {
		imap_bad(s, "AUTHENTICATE needs a mechanism");
		return 0;
	}
	if (slice_case_eq_str(args[0].s, "PLAIN"))
		s->auth_mech = MECH_PLAIN;
	else if (slice_case_eq_str(args[0].s, "LOGIN"))
		s->auth_mech = MECH_LOGIN;
	else if (slice_case_eq_str(args[0].s, "NTLM") && s->srv->set.ntlm)
		s->auth_mech = MECH_NTLM;
	else {
		imap_no(s, "Unsupported authentication mechanism");
		return 0;
	}
	/* NTLM sends no password: it is allowed before TLS. */
	if (s->auth_mech != MECH_NTLM && !imap_plaintext_ok(s)) {
		imap_no(s, "[PRIVACYREQUIRED] Authentication is disabled before STARTTLS");
		return 0;
	}
	s->auth_step = 0;
	if (s->auth_mech == MECH_NTLM)
		s->ntlm = directory_ntlm_new(s->srv->set.hostname);
	s->line_tag = xstrdup(s->tag);
	s->line_fn = imap_auth_line;
	s->frame_mode = IMAP_FRAME_LINE;
	if (args[1].type == IMAP_ARG_ATOM)
		return imap_auth_step(s, args[1].s.ptr, args[1].s.len);
	buf_append_str(&s->out, s->auth_mech == MECH_LOGIN ? "+ VXNlcm5hbWU6\r\n" : "+ \r\n");
	return 0;
}
