/* HTTP authentication: Basic (RFC 7617) and NTLM (MS-NLMP over HTTP as
 * MS-NTHT describes it) against the directory with its throttling, and the
 * challenges a route without credentials answers.
 * A keep-alive connection remembers the Basic credentials it last proved,
 * so a client sending the same Authorization header on every request pays
 * the password hash once per connection, not per request. NTLM
 * authenticates the connection itself: after the three-leg handshake the
 * following requests on it are the user's without any header (as IIS
 * does), until the client starts a new handshake or sends Basic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "directory/auth.h"
#include "directory/ntlm.h"
#include "proto/http/http_private.h"

/* Longest Authorization value looked at: an NTLM AUTHENTICATE_MESSAGE of
 * DIRECTORY_NTLM_MESSAGE_MAX octets in base64 (4/3) plus the scheme; a
 * Basic header is far shorter. */
#define HTTP_AUTH_MAX (DIRECTORY_NTLM_MESSAGE_MAX / 3 * 4 + 64)

static bool http_is_loopback(const char *ip)
{
	return ip != NULL && (str_starts_with(ip, "127.") || strcmp(ip, "::1") == 0 ||
				     str_starts_with(ip, "::ffff:127."));
}

/* Basic sends the password in the clear: only over TLS, from loopback,
 * or when the administrator allowed it ([auth] allow_plaintext). */
static bool http_basic_allowed(struct http_request *req)
{
	return req->srv->set.allow_plaintext || net_conn_is_tls(req->conn) ||
		http_is_loopback(net_conn_peer_ip(req->conn));
}

static void http_challenge(struct http_request *req)
{
	/* NTLM sends no password: offered on any connection. */
	if (req->srv->set.offer_ntlm)
		http_response_header(req, "WWW-Authenticate", "NTLM");
	if (http_basic_allowed(req)) {
		const char *realm = req->srv->set.realm;
		if (realm == NULL)
			realm = http_request_host(req) != NULL ? http_request_host(req) : "hermod";
		/* The realm is a quoted-string: keep it to safe characters. */
		char safe[128];
		size_t n = 0;
		for (const char *s = realm; *s != '\0' && n < sizeof(safe) - 1; s++)
			if (*s != '"' && *s != '\\' && (unsigned char)*s >= 0x20)
				safe[n++] = *s;
		safe[n] = '\0';
		http_response_header(req, "WWW-Authenticate",
			pool_printf(req->pool, "Basic realm=\"%s\", charset=\"UTF-8\"", safe));
	}
}

static void http_unauthorized(struct http_request *req)
{
	http_challenge(req);
	http_response_error(req, 401, false);
}

static struct directory_user *http_user_copy(pool_t *pool, const struct directory_user *u)
{
	struct directory_user *c = pool_alloc(pool, sizeof(*c));
	*c = *u;
	c->address = pool_strdup(pool, u->address);
	c->domain = pool_strdup(pool, u->domain);
	c->display_name = pool_strdup(pool, u->display_name);
	c->legacy_dn = pool_strdup(pool, u->legacy_dn);
	return c;
}

/* A login that could not be decided: throttled (429) or the directory
 * failing (503), each with the Retry-After a client should honour. */
static void auth_unavailable(struct http_request *req, enum directory_auth_result r,
	const char *error)
{
	bool throttled = r == DIRECTORY_AUTH_THROTTLED;
	if (throttled)
		log_info(&req->log, "http: login throttled: %s", error != NULL ? error : "");
	else
		log_error(&req->log, "http: authentication error: %s", error != NULL ? error : "");
	http_response_header(req, "Retry-After", throttled ? "60" : "10");
	http_response_error(req, throttled ? 429 : 503, false);
}

static int http_auth_basic(struct http_request *req, const char *cred)
{
	struct http_conn *hc = req->hc;
	if (!http_basic_allowed(req)) {
		log_info(&req->log, "http: Basic refused without TLS");
		http_unauthorized(req);
		return 0;
	}
	if (hc->auth_cache != NULL && strcmp(hc->auth_cache, cred) == 0) {
		req->user = http_user_copy(req->pool, hc->auth_user);
		return 1;
	}
	struct buf dec;
	buf_init(&dec, req->pool);
	const char *b64 = cred + 6;
	while (*b64 == ' ')
		b64++;
	if (base64_decode(b64, strlen(b64), &dec) < 0 || memchr(dec.data, '\0', dec.len) != NULL) {
		log_info(&req->log, "http: malformed Basic credentials");
		http_unauthorized(req);
		return 0;
	}
	char *text = (char *)buf_cstr(&dec);
	char *colon = strchr(text, ':');
	if (colon == NULL || colon == text) {
		explicit_bzero(dec.data, dec.len);
		log_info(&req->log, "http: malformed Basic credentials");
		http_unauthorized(req);
		return 0;
	}
	*colon = '\0';
	const char *username = text, *password = colon + 1;
	/* Exchange accepts DOMAIN\user too; our logins are addresses. */
	const char *bs = strchr(username, '\\');
	if (bs != NULL && strchr(bs + 1, '@') != NULL)
		username = bs + 1;
	struct directory_user *user = NULL;
	const char *error = NULL;
	enum directory_auth_result r = directory_auth_plain(req->srv->dir, req->srv->throttle,
		username, password, net_conn_peer_ip(req->conn), req->pool, &user, &error);
	explicit_bzero(dec.data, dec.len);
	switch (r) {
	case DIRECTORY_AUTH_OK:
		req->user = user;
		hc->auth_conn = false;
		free(hc->auth_cache);
		hc->auth_cache = xstrdup(cred);
		if (hc->auth_pool == NULL)
			hc->auth_pool = pool_new("http-auth", 1024);
		else
			pool_clear(hc->auth_pool);
		hc->auth_user = http_user_copy(hc->auth_pool, user);
		log_info(&req->log, "http: Basic login %s", user->address);
		return 1;
	case DIRECTORY_AUTH_THROTTLED:
	case DIRECTORY_AUTH_ERROR:
		auth_unavailable(req, r, error);
		return 0;
	default:
		log_info(&req->log, "http: login failed (%s): %s", directory_auth_result_name(r),
			error != NULL ? error : "");
		http_unauthorized(req);
		return 0;
	}
}

/* The NTLMSSP message type (MS-NLMP 2.2.1: "NTLMSSP\0", then the type as
 * a 32-bit little-endian number), 0 when it is not one. */
static uint32_t http_ntlm_type(const struct buf *m)
{
	if (m->len < 12 || memcmp(m->data, "NTLMSSP\0", 8) != 0)
		return 0;
	return (uint32_t)m->data[8] | (uint32_t)m->data[9] << 8 | (uint32_t)m->data[10] << 16 |
		(uint32_t)m->data[11] << 24;
}

static void http_ntlm_reset(struct http_conn *hc)
{
	directory_ntlm_free(&hc->ntlm);
	hc->auth_conn = false;
}

/* One leg of the NTLM handshake (MS-NTHT 3.2.5.1.1): a NEGOTIATE_MESSAGE
 * is answered 401 with the CHALLENGE_MESSAGE (the connection stays open:
 * the exchange belongs to it); the AUTHENTICATE_MESSAGE that follows on
 * the same connection is verified. "Negotiate" carrying a raw NTLMSSP
 * token is the same exchange under the name Windows clients use. */
static int http_auth_ntlm(struct http_request *req, const char *cred, size_t scheme_len)
{
	struct http_conn *hc = req->hc;
	char scheme[sizeof(hc->ntlm_scheme)];
	memcpy(scheme, cred, scheme_len);
	scheme[scheme_len] = '\0';
	const char *b64 = cred + scheme_len;
	while (*b64 == ' ')
		b64++;
	struct buf msg;
	buf_init(&msg, req->pool);
	uint32_t type = 0;
	if (base64_decode(b64, strlen(b64), &msg) == 0 && msg.len <= DIRECTORY_NTLM_MESSAGE_MAX)
		type = http_ntlm_type(&msg);
	if (type == 1) {
		http_ntlm_reset(hc);
		hc->ntlm = directory_ntlm_new(req->srv->set.server_name != NULL ?
				req->srv->set.server_name :
				"hermod");
		struct buf out, enc;
		buf_init(&out, req->pool);
		buf_init(&enc, req->pool);
		const char *error = NULL;
		if (directory_ntlm_challenge(hc->ntlm, msg.data, msg.len, &out, &error) < 0) {
			log_info(&req->log, "http: bad NTLM NEGOTIATE_MESSAGE: %s", error);
			http_ntlm_reset(hc);
			http_unauthorized(req);
			return 0;
		}
		snprintf(hc->ntlm_scheme, sizeof(hc->ntlm_scheme), "%s", scheme);
		base64_encode(out.data, out.len, &enc);
		http_response_header(req, "WWW-Authenticate",
			pool_printf(req->pool, "%s %s", scheme, buf_cstr(&enc)));
		http_response_error(req, 401, false);
		return 0;
	}
	if (type != 3 || hc->ntlm == NULL || str_casecmp(scheme, hc->ntlm_scheme) != 0) {
		/* an AUTHENTICATE without our CHALLENGE on this connection, or
		 * not an NTLM message at all */
		log_info(&req->log, "http: NTLM message out of sequence or malformed");
		http_ntlm_reset(hc);
		http_unauthorized(req);
		return 0;
	}
	struct directory_user *user = NULL;
	const char *who = NULL, *error = NULL;
	enum directory_auth_result r = directory_ntlm_authenticate(hc->ntlm, req->srv->dir,
		req->srv->throttle, net_conn_peer_ip(req->conn), msg.data, msg.len, req->pool, &user,
		&who, &error);
	directory_ntlm_free(&hc->ntlm);
	switch (r) {
	case DIRECTORY_AUTH_OK:
		req->user = user;
		if (hc->auth_pool == NULL)
			hc->auth_pool = pool_new("http-auth", 1024);
		else
			pool_clear(hc->auth_pool);
		hc->auth_user = http_user_copy(hc->auth_pool, user);
		hc->auth_conn = true;
		if (hc->auth_cache != NULL) {
			explicit_bzero(hc->auth_cache, strlen(hc->auth_cache));
			free(hc->auth_cache);
			hc->auth_cache = NULL;
		}
		log_info(&req->log, "http: NTLM login %s", user->address);
		return 1;
	case DIRECTORY_AUTH_THROTTLED:
	case DIRECTORY_AUTH_ERROR:
		auth_unavailable(req, r, error);
		return 0;
	default:
		log_info(&req->log, "http: NTLM login failed for %s (%s): %s",
			who != NULL ? who : "?", directory_auth_result_name(r),
			error != NULL ? error : "");
		http_unauthorized(req);
		return 0;
	}
}

int http_auth_check(struct http_request *req)
{
	if (req->srv->dir == NULL) {
		http_response_error(req, 503, false);
		return -1;
	}
	struct http_conn *hc = req->hc;
	const char *cred = http_request_header(req, "Authorization");
	if (cred == NULL) {
		if (hc->auth_conn && hc->auth_user != NULL) {
			/* the connection authenticated with NTLM */
			req->user = http_user_copy(req->pool, hc->auth_user);
			return 1;
		}
		http_unauthorized(req);
		return 0;
	}
	if (strlen(cred) > HTTP_AUTH_MAX) {
		http_unauthorized(req);
		return 0;
	}
	if (str_case_starts_with(cred, "Basic "))
		return http_auth_basic(req, cred);
	if (req->srv->set.offer_ntlm) {
		if (str_case_starts_with(cred, "NTLM "))
			return http_auth_ntlm(req, cred, 4);
		if (str_case_starts_with(cred, "Negotiate "))
			return http_auth_ntlm(req, cred, 9);
	}
	log_info(&req->log, "http: unsupported authentication scheme");
	http_unauthorized(req);
	return 0;
}

void http_auth_conn_free(struct http_conn *hc)
{
	if (hc->auth_cache != NULL) {
		explicit_bzero(hc->auth_cache, strlen(hc->auth_cache));
		free(hc->auth_cache);
		hc->auth_cache = NULL;
	}
	pool_free(&hc->auth_pool);
	directory_ntlm_free(&hc->ntlm);
	hc->auth_conn = false;
}
