/* HTTP authentication: Basic (RFC 7617) against the directory with its
 * throttling, and the challenge a route without credentials answers.
 * A keep-alive connection remembers the credentials it last proved, so a
 * client sending the same Authorization header on every request pays the
 * password hash once per connection, not per request. */
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "directory/auth.h"
#include "proto/http/http_private.h"

/* Longest Authorization value looked at: a Basic header carries at most a
 * 1 KiB name and password (base64: 4/3) plus the scheme. */
#define HTTP_AUTH_MAX 4096

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
		log_info(&req->log, "http: login throttled: %s", error != NULL ? error : "");
		http_response_header(req, "Retry-After", "60");
		http_response_error(req, 429, false);
		return 0;
	case DIRECTORY_AUTH_ERROR:
		log_error(&req->log, "http: authentication error: %s", error != NULL ? error : "");
		http_response_header(req, "Retry-After", "10");
		http_response_error(req, 503, false);
		return 0;
	default:
		log_info(&req->log, "http: login failed (%s): %s", directory_auth_result_name(r),
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
	const char *cred = http_request_header(req, "Authorization");
	if (cred == NULL) {
		http_unauthorized(req);
		return 0;
	}
	if (strlen(cred) > HTTP_AUTH_MAX) {
		http_unauthorized(req);
		return 0;
	}
	if (str_case_starts_with(cred, "Basic "))
		return http_auth_basic(req, cred);
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
}
