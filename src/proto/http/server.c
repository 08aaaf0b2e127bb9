/* The HTTP server on the net runtime: connection state, framing, routing,
 * the request's life (handler or park), and access logging. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hm_time.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "proto/http/http_private.h"

#define HTTP_DEFAULT_MAX_HEADER (64 * 1024)
#define HTTP_DEFAULT_MAX_HEADERS 100
#define HTTP_DEFAULT_MAX_BODY (32 * 1024 * 1024)

struct http_server *http_server_new(const struct http_settings *s, struct directory *dir,
	struct directory_throttle *throttle)
{
	struct http_server *srv = xcalloc(1, sizeof(*srv));
	srv->pool = pool_new("http-server", 0);
	srv->set = *s;
	if (srv->set.max_header_size == 0)
		srv->set.max_header_size = HTTP_DEFAULT_MAX_HEADER;
	if (srv->set.max_headers == 0)
		srv->set.max_headers = HTTP_DEFAULT_MAX_HEADERS;
	if (srv->set.max_body_size == 0)
		srv->set.max_body_size = HTTP_DEFAULT_MAX_BODY;
	if (srv->set.request_timeout_s == 0)
		srv->set.request_timeout_s = 60;
	if (srv->set.keepalive_timeout_s == 0)
		srv->set.keepalive_timeout_s = 120;
	srv->set.server_name =
		pool_strdup(srv->pool, s->server_name != NULL ? s->server_name : "hermod");
	srv->set.realm = s->realm != NULL ? pool_strdup(srv->pool, s->realm) : NULL;
	srv->dir = dir;
	srv->throttle = throttle;
	array_init(&srv->routes, srv->pool);
	return srv;
}

void http_server_free(struct http_server **srv)
{
	if (srv == NULL || *srv == NULL)
		return;
	pool_free(&(*srv)->pool);
	free(*srv);
	*srv = NULL;
}

void http_server_add_route(struct http_server *srv, const struct http_route *r)
{
	struct http_route *n = array_push_new(&srv->routes);
	*n = *r;
	n->path = pool_strdup(srv->pool, r->path);
}

const struct http_route *http_server_route(const struct http_server *srv, const char *path,
	size_t path_len)
{
	const struct http_route *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < srv->routes.n; i++) {
		const struct http_route *r = &srv->routes.v[i];
		size_t rl = strlen(r->path);
		if (r->flags & HTTP_ROUTE_PREFIX) {
			if (path_len >= rl && str_ncasecmp(path, r->path, rl) == 0 &&
				(best == NULL || ((best->flags & HTTP_ROUTE_PREFIX) && rl > best_len))) {
				best = r;
				best_len = rl;
			}
		} else if (path_len == rl && str_ncasecmp(path, r->path, rl) == 0) {
			return r;
		}
	}
	return best;
}

/* --- responses --- */

const char *http_status_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 207: return "Multi-Status";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 449: return "Retry With";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	}
	return "Unknown";
}

/* RFC 7231 7.1.1.1 IMF-fixdate, locale-independent. */
static void http_date(char out[40])
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
		"Aug", "Sep", "Oct", "Nov", "Dec"};
	int y, mo, d, h, mi, s, wd;
	time_to_civil((int64_t)time(NULL), &y, &mo, &d, &h, &mi, &s, &wd);
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[wd % 7], d,
		months[(mo - 1) % 12], y, h, mi, s);
}

void http_response_status(struct http_request *req, int status)
{
	if (!req->started)
		req->status = status;
}

void http_response_header(struct http_request *req, const char *name, const char *value)
{
	if (req->started)
		return;
	buf_printf(&req->head_extra, "%s: %s\r\n", name, value);
}

bool http_response_started(const struct http_request *req)
{
	return req->started;
}

void http_response_close(struct http_request *req)
{
	req->close_after = true;
}

/* Writes the status line and headers. length < 0: streamed. */
static int http_write_head(struct http_request *req, long long length)
{
	char date[40];
	http_date(date);
	struct buf h;
	buf_init(&h, req->pool);
	if (req->status == 0)
		req->status = 200;
	buf_printf(&h, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: %s\r\n", req->status,
		http_status_reason(req->status), date, req->srv->set.server_name);
	buf_append_slice(&h, buf_slice(&req->head_extra));
	bool no_body = req->status == 204 || req->status == 304 || req->status < 200;
	if (length >= 0) {
		if (!no_body)
			buf_printf(&h, "Content-Length: %lld\r\n", length);
	} else if (req->minor >= 1) {
		buf_append_str(&h, "Transfer-Encoding: chunked\r\n");
		req->chunked_out = true;
	} else {
		/* HTTP/1.0 has no chunks: the end of the body is the close. */
		req->close_after = true;
	}
	if (req->close_after || !req->keep_alive)
		buf_append_str(&h, "Connection: close\r\n");
	else if (req->minor == 0)
		buf_append_str(&h, "Connection: keep-alive\r\n");
	buf_append_str(&h, "\r\n");
	req->started = true;
	return net_conn_write(req->conn, h.data, h.len);
}

int http_response_send(struct http_request *req, const void *body, size_t len)
{
	if (req->started || req->finished)
		return -1;
	buf_reset(&req->out);
	int rc = http_write_head(req, (long long)len);
	if (rc == 0 && !req->head_only && len > 0)
		rc = net_conn_write(req->conn, body, len);
	req->bytes_out += len;
	req->finished = true;
	return rc;
}

#define HTTP_CHUNK 16384

static int http_flush_out(struct http_request *req)
{
	if (req->out.len == 0)
		return 0;
	int rc = 0;
	if (!req->head_only) {
		if (req->chunked_out) {
			char hdr[24];
			int n = snprintf(hdr, sizeof(hdr), "%zx\r\n", req->out.len);
			rc = net_conn_write(req->conn, hdr, (size_t)n);
			if (rc == 0)
				rc = net_conn_write(req->conn, req->out.data, req->out.len);
			if (rc == 0)
				rc = net_conn_write(req->conn, "\r\n", 2);
		} else {
			rc = net_conn_write(req->conn, req->out.data, req->out.len);
		}
	}
	req->bytes_out += req->out.len;
	buf_reset(&req->out);
	return rc;
}

int http_response_write(struct http_request *req, const void *data, size_t len)
{
	if (req->finished)
		return -1;
	buf_append(&req->out, data, len);
	if (req->out.len < HTTP_CHUNK)
		return 0;
	if (!req->started && http_write_head(req, -1) < 0)
		return -1;
	return http_flush_out(req);
}

int http_response_finish(struct http_request *req)
{
	if (req->finished)
		return 0;
	if (!req->started) {
		struct buf body = req->out;
		buf_init(&req->out, req->pool);
		return http_response_send(req, body.data, body.len);
	}
	int rc = http_flush_out(req);
	if (rc == 0 && req->chunked_out && !req->head_only)
		rc = net_conn_write(req->conn, "0\r\n\r\n", 5);
	req->finished = true;
	return rc;
}

int http_response_error(struct http_request *req, int status, bool close)
{
	if (req->started) {
		/* Too late for a status: cut the stream so the client sees it
		 * incomplete rather than a truncated body that looks whole. */
		req->finished = true;
		req->close_after = true;
		return -1;
	}
	if (close)
		req->close_after = true;
	req->status = status;
	http_response_header(req, "Content-Type", "text/plain; charset=utf-8");
	char body[128];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, http_status_reason(status));
	return http_response_send(req, body, (size_t)n);
}

/* --- request accessors --- */

const char *http_request_method(const struct http_request *req)
{
	return req->method;
}
unsigned http_request_method_bit(const struct http_request *req)
{
	return req->method_bit;
}
const char *http_request_path(const struct http_request *req)
{
	return req->path;
}
const char *http_request_query(const struct http_request *req)
{
	return req->query;
}
const char *http_request_header(const struct http_request *req, const char *name)
{
	for (size_t i = 0; i < req->headers.n; i++)
		if (str_case_eq(req->headers.v[i].name, name))
			return req->headers.v[i].value;
	return NULL;
}
unsigned http_request_header_count(const struct http_request *req)
{
	return (unsigned)req->headers.n;
}
void http_request_header_at(const struct http_request *req, unsigned i, const char **name_r,
	const char **value_r)
{
	*name_r = i < req->headers.n ? req->headers.v[i].name : NULL;
	*value_r = i < req->headers.n ? req->headers.v[i].value : NULL;
}
struct slice http_request_body(const struct http_request *req)
{
	return req->body;
}
int http_request_minor(const struct http_request *req)
{
	return req->minor;
}
const struct directory_user *http_request_user(const struct http_request *req)
{
	return req->user;
}
pool_t *http_request_pool(struct http_request *req)
{
	return req->pool;
}
struct log_ctx *http_request_log(struct http_request *req)
{
	return &req->log;
}
struct net_conn *http_request_conn(struct http_request *req)
{
	return req->conn;
}
struct http_server *http_request_server(struct http_request *req)
{
	return req->srv;
}
bool http_request_is_tls(const struct http_request *req)
{
	return net_conn_is_tls(req->conn);
}

const char *http_request_host(struct http_request *req)
{
	if (req->host_done)
		return req->host;
	req->host_done = true;
	const char *h = http_request_header(req, "Host");
	if (h == NULL || *h == '\0')
		return NULL;
	size_t len = strlen(h);
	if (h[0] == '[') {
		const char *e = strchr(h, ']');
		len = e != NULL ? (size_t)(e - h + 1) : len;
	} else {
		const char *c = strchr(h, ':');
		if (c != NULL)
			len = (size_t)(c - h);
	}
	char *r = pool_strndup(req->pool, h, len);
	req->host = str_lower(r);
	return req->host;
}

/* --- the request's life --- */

static void http_access_log(struct http_request *req)
{
	uint64_t us = time_mono_us() - req->t0_us;
	log_info(&req->log, "http: %s %s %d %llu bytes %llu.%03llu ms%s", req->method,
		req->path != NULL ? req->path : "-", req->status,
		(unsigned long long)req->bytes_out, (unsigned long long)(us / 1000),
		(unsigned long long)(us % 1000), req->park != NULL ? " (parked)" : "");
}

void http_request_end(struct http_request *req)
{
	if (!req->finished)
		http_response_finish(req);
	http_access_log(req);
	if (req->close_after || !req->keep_alive)
		net_conn_close(req->conn);
	pool_t *pool = req->pool;
	pool_free(&pool);
}

static struct http_request *http_request_new(struct http_conn *hc)
{
	pool_t *pool = pool_new("http-request", 8192);
	struct http_request *req = pool_alloc(pool, sizeof(*req));
	req->pool = pool;
	req->srv = hc->srv;
	req->hc = hc;
	req->conn = hc->conn;
	req->keep_alive = true;
	req->t0_us = time_mono_us();
	buf_init(&req->head_extra, pool);
	buf_init(&req->out, pool);
	req->log = *net_conn_log(hc->conn);
	return req;
}

static int http_on_connect(struct net_conn *conn)
{
	struct http_conn *hc = xcalloc(1, sizeof(*hc));
	hc->srv = net_conn_protocol_ctx(conn);
	hc->conn = conn;
	net_conn_set_ctx(conn, hc);
	return 0;
}

static ssize_t http_frame(struct net_conn *conn, const unsigned char *data, size_t len)
{
	struct http_conn *hc = net_conn_ctx(conn);
	if (!hc->framer_ready) {
		http_framer_init(&hc->framer, hc->srv);
		hc->framer_ready = true;
	}
	bool head_was_done = hc->framer.head_done;
	ssize_t r = http_framer_feed(&hc->framer, data, len, time_mono_ms());
	if (r > 0) {
		hc->framer_ready = false;
		return r;
	}
	if (r < 0)
		return -1;
	if (hc->framer.head_done && !head_was_done) {
		/* Room for the body (and chunk framing) now that the route and
		 * its limit are known. */
		net_conn_set_max_command(conn, 2 * hc->framer.body_limit +
				hc->srv->set.max_header_size + 65536 + 1);
	}
	if (http_framer_want_continue(&hc->framer))
		net_conn_write_str(conn, "HTTP/1.1 100 Continue\r\n\r\n");
	return 0;
}

static bool http_method_allowed(const struct http_route *r, unsigned bit)
{
	if (r->methods == 0)
		return true;
	if (r->methods & bit)
		return true;
	/* HEAD is GET without the body (RFC 7231 4.3.2). */
	return bit == HTTP_M_HEAD && (r->methods & HTTP_M_GET);
}

static void http_allow_header(struct http_request *req, unsigned methods)
{
	static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS",
		"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH",
		"PATCH"};
	struct buf b;
	buf_init(&b, req->pool);
	if (methods & HTTP_M_GET)
		methods |= HTTP_M_HEAD;
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (methods & (1u << i))
			buf_printf(&b, "%s%s", b.len ? ", " : "", names[i]);
	http_response_header(req, "Allow", buf_cstr(&b));
}

static int http_on_command(struct net_conn *conn, const unsigned char *data, size_t len)
{
	struct http_conn *hc = net_conn_ctx(conn);
	net_conn_set_max_command(conn, 0);
	net_conn_set_idle_timeout(conn, hc->srv->set.keepalive_timeout_s);
	hc->requests++;
	struct http_request *req = http_request_new(hc);
	snprintf(req->session, sizeof(req->session), "%s",
		req->log.session != NULL ? req->log.session : "http");
	if (http_request_parse(req, req->pool, data, len) < 0) {
		req->method = "-";
		http_response_error(req, 400, true);
		http_request_end(req);
		return 0;
	}
	req->head_only = req->method_bit == HTTP_M_HEAD;
	req->log.action = pool_printf(req->pool, "%s %s", req->method, req->path);
	const struct http_route *r = http_server_route(hc->srv, req->path, strlen(req->path));
	if (r == NULL) {
		http_response_error(req, 404, false);
		http_request_end(req);
		return 0;
	}
	req->route = r;
	if (!http_method_allowed(r, req->method_bit)) {
		http_allow_header(req, r->methods);
		http_response_error(req, 405, false);
		http_request_end(req);
		return 0;
	}
	if (r->flags & HTTP_ROUTE_AUTH) {
		int a = http_auth_check(req);
		if (a <= 0) {
			http_request_end(req);
			return 0;
		}
		req->log.user = req->user->address;
	}
	int rc = r->handler(req, r->ctx);
	if (req->park != NULL && !req->finished) {
		hc->parked = req;
		net_conn_pause(conn);
		return 0;
	}
	if (!req->started && !req->finished) {
		log_error(&req->log, "http: route %s answered nothing", r->path);
		http_response_error(req, 500, false);
	}
	if (rc < 0)
		req->close_after = true;
	http_request_end(req);
	return 0;
}

static void http_on_overflow(struct net_conn *conn)
{
	struct http_conn *hc = net_conn_ctx(conn);
	int status = hc->framer.error_status;
	if (status == 0)
		status = hc->framer.head_done ? 413 : 431;
	log_info(net_conn_log(conn), "http: bad request, answering %d", status);
	char date[40];
	http_date(date);
	net_conn_printf(conn,
		"HTTP/1.1 %d %s\r\nDate: %s\r\nServer: %s\r\nContent-Type: text/plain; "
		"charset=utf-8\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%d %s\n",
		status, http_status_reason(status), date, hc->srv->set.server_name,
		strlen(http_status_reason(status)) + 5, status, http_status_reason(status));
}

static void http_on_timeout(struct net_conn *conn)
{
	struct http_conn *hc = net_conn_ctx(conn);
	/* An idle keep-alive connection just closes; a request that stopped
	 * arriving half-way gets a 408. */
	if (hc->framer_ready && hc->framer.fed > 0) {
		hc->framer.error_status = 408;
		http_on_overflow(conn);
	}
}

static void http_park_unref(struct http_park *p);
static void http_park_end(struct http_park *p, struct http_request *req);

static void http_on_close(struct net_conn *conn)
{
	struct http_conn *hc = net_conn_ctx(conn);
	if (hc == NULL)
		return;
	if (hc->parked != NULL) {
		struct http_request *req = hc->parked;
		struct http_park *p = req->park;
		p->fn(req, p->arg, HTTP_WAKE_CLOSED);
		req->finished = true;
		http_park_end(p, req);
	}
	http_auth_conn_free(hc);
	net_conn_set_ctx(conn, NULL);
	free(hc);
}

static const struct net_protocol http_protocol = {
	.name = "http",
	.on_connect = http_on_connect,
	.frame = http_frame,
	.on_command = http_on_command,
	.on_overflow = http_on_overflow,
	.on_timeout = http_on_timeout,
	.on_close = http_on_close,
};

const struct net_protocol *http_net_protocol(void)
{
	return &http_protocol;
}

void http_listener_config(struct http_server *srv, struct net_listener_config *lc)
{
	lc->protocol = &http_protocol;
	lc->protocol_ctx = srv;
	lc->max_command = srv->set.max_header_size + 1;
	lc->idle_timeout_s = srv->set.keepalive_timeout_s;
}

/* --- parking --- */

struct http_park_timer {
	struct http_park *park;
	uint64_t gen;
};

static void http_park_unref(struct http_park *p)
{
	pthread_mutex_lock(&p->mtx);
	bool last = --p->refs == 0;
	pthread_mutex_unlock(&p->mtx);
	if (!last)
		return;
	net_conn_unref(&p->conn);
	pthread_mutex_destroy(&p->mtx);
	free(p);
}

static void http_park_unref_void(void *arg)
{
	http_park_unref(arg);
}

static void http_park_timer_free(void *arg)
{
	struct http_park_timer *t = arg;
	http_park_unref(t->park);
	free(t);
}

static void http_park_timeout_job(struct net_conn *conn, void *arg);

static void http_park_arm(struct http_park *p)
{
	struct http_park_timer *t = xcalloc(1, sizeof(*t));
	pthread_mutex_lock(&p->mtx);
	t->gen = ++p->timer_gen;
	p->refs++;
	pthread_mutex_unlock(&p->mtx);
	t->park = p;
	net_conn_post(p->conn, p->timeout_ms, http_park_timeout_job, t, http_park_timer_free);
}

/* The request is over: the connection takes its next request. */
static void http_park_end(struct http_park *p, struct http_request *req)
{
	pthread_mutex_lock(&p->mtx);
	p->req = NULL;
	pthread_mutex_unlock(&p->mtx);
	req->hc->parked = NULL;
	struct net_conn *conn = req->conn;
	http_request_end(req);
	net_conn_resume(conn);
	http_park_unref(p); /* the request's reference */
}

static void http_park_run(struct http_park *p, enum http_wake why)
{
	struct http_request *req = p->req; /* only this connection's jobs clear it */
	if (req == NULL)
		return;
	p->fn(req, p->arg, why);
	if (req->finished)
		http_park_end(p, req);
	else
		http_park_arm(p);
}

static void http_park_timeout_job(struct net_conn *conn, void *arg)
{
	struct http_park_timer *t = arg;
	struct http_park *p = t->park;
	(void)conn;
	pthread_mutex_lock(&p->mtx);
	bool live = p->req != NULL && t->gen == p->timer_gen;
	pthread_mutex_unlock(&p->mtx);
	if (live)
		http_park_run(p, HTTP_WAKE_TIMEOUT);
	http_park_timer_free(t);
}

static void http_park_wake_job(struct net_conn *conn, void *arg)
{
	struct http_park *p = arg;
	(void)conn;
	pthread_mutex_lock(&p->mtx);
	p->wake_pending = false;
	bool live = p->req != NULL;
	pthread_mutex_unlock(&p->mtx);
	if (live)
		http_park_run(p, HTTP_WAKE_EVENT);
	http_park_unref(p);
}

struct http_park *http_request_park(struct http_request *req, unsigned timeout_ms,
	http_wake_fn *fn, void *arg)
{
	if (req->finished || req->park != NULL || timeout_ms == 0)
		return NULL;
	struct http_park *p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->mtx, NULL);
	p->refs = 2; /* the request's and the waker's */
	p->conn = req->conn;
	net_conn_ref(p->conn);
	p->req = req;
	p->fn = fn;
	p->arg = arg;
	p->timeout_ms = timeout_ms;
	req->park = p;
	http_park_arm(p);
	return p;
}

void http_park_wake(struct http_park *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mtx);
	bool post = p->req != NULL && !p->wake_pending;
	if (post) {
		p->wake_pending = true;
		p->refs++;
	}
	pthread_mutex_unlock(&p->mtx);
	if (post)
		net_conn_post(p->conn, 0, http_park_wake_job, p, http_park_unref_void);
}

void http_park_release(struct http_park **p)
{
	if (p == NULL || *p == NULL)
		return;
	http_park_unref(*p);
	*p = NULL;
}
