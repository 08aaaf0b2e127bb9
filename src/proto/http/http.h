/* The shared HTTP/1.1 server core (ARCHITECTURE.md section 1: every HTTP
 * protocol - Autodiscover, EWS, ActiveSync, MAPI over HTTP, WebDAV - plugs
 * in as a route). See docs/http.md for the design and why it runs on
 * src/net rather than evhttp.
 *
 * The model follows the net runtime: the framer (event loop) finds a
 * complete request - head and whole body, Content-Length or chunked, within
 * the route's body limit - and the request then runs as one job on a
 * worker, where the route's handler may block on the store. A connection
 * has one request in flight; pipelined requests wait their turn.
 *
 * A handler answers with http_response_*: either a whole body at once
 * (Content-Length) or a stream (chunked for HTTP/1.1, close-delimited for
 * HTTP/1.0) whose writes wait on the connection's back-pressure. A handler
 * that has nothing to say yet parks the request (http_request_park): it
 * returns, holds no worker, and is woken from any thread (a store
 * notification) or by its timeout to write the rest.
 *
 * Authentication: a route flagged HTTP_ROUTE_AUTH gets only requests with
 * valid credentials (Basic over TLS or loopback, or NTLM when the directory
 * has a verifier), and the principal is handed to it; everything else gets
 * a 401 with the challenges, 429 when throttled.
 *
 * Threads: the server and its routes are read-only once listening; every
 * http_request_* / http_response_* call is made from the request's job
 * (handler or wake callback), except http_park_wake. */
#ifndef PROTO_HTTP_HTTP_H
#define PROTO_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/pool.h"
#include "directory/directory.h"
#include "directory/throttle.h"
#include "net/net.h"

struct http_server;
struct http_request;
struct http_park;

/* Methods as bits for a route's method mask. */
enum http_method_bits {
	HTTP_M_GET = 0x0001,
	HTTP_M_HEAD = 0x0002,
	HTTP_M_POST = 0x0004,
	HTTP_M_PUT = 0x0008,
	HTTP_M_DELETE = 0x0010,
	HTTP_M_OPTIONS = 0x0020,
	HTTP_M_PROPFIND = 0x0040,
	HTTP_M_PROPPATCH = 0x0080,
	HTTP_M_MKCOL = 0x0100,
	HTTP_M_COPY = 0x0200,
	HTTP_M_MOVE = 0x0400,
	HTTP_M_LOCK = 0x0800,
	HTTP_M_UNLOCK = 0x1000,
	HTTP_M_SEARCH = 0x2000,
	HTTP_M_PATCH = 0x4000,
	HTTP_M_OTHER = 0x8000, /* any method not listed (RPC_IN_DATA, ...) */
};

struct http_settings {
	size_t max_header_size;    /* request line and headers; 0: 64 KiB */
	unsigned max_headers;      /* header fields per request; 0: 100 */
	size_t max_body_size;      /* default for routes that set none; 0: 32 MiB */
	unsigned request_timeout_s; /* first byte to complete request; 0: 60 */
	unsigned keepalive_timeout_s; /* idle between requests; 0: 120 */
	const char *realm;         /* Basic realm; NULL: the host name */
	const char *server_name;   /* Server header token and NTLM target; NULL: "hermod" */
	/* Basic over plaintext from non-loopback clients ([auth] allow_plaintext). */
	bool allow_plaintext;
	bool offer_ntlm;           /* announce and accept NTLM (users with an NT hash) */
};

/* The handler of a route: runs on a worker with the complete request.
 * Writes the response with http_response_* (a handler that returns without
 * having answered gets a 500 written for it) or parks the request. Returns
 * 0, or -1 to close the connection after what was written. */
typedef int http_handler_fn(struct http_request *req, void *ctx);

#define HTTP_ROUTE_AUTH 0x1u   /* only authenticated requests reach it */
#define HTTP_ROUTE_PREFIX 0x2u /* path is a prefix (else the whole path) */

struct http_route {
	/* "/EWS/Exchange.asmx"; compared ASCII case-insensitively, as IIS
	 * does (clients spell Autodiscover paths every way). */
	const char *path;
	unsigned flags;   /* HTTP_ROUTE_* */
	unsigned methods; /* HTTP_M_* mask; 0: any */
	size_t max_body;  /* larger bodies get 413; 0: the server's max_body_size */
	http_handler_fn *handler;
	void *ctx;
};

/* A server with no routes. dir and throttle (either may be NULL: no
 * authentication possible, no throttling) must outlive it. s is copied
 * (strings too). Never NULL. */
struct http_server *http_server_new(const struct http_settings *s, struct directory *dir,
	struct directory_throttle *throttle);
/* Frees the server once every listener using it has stopped. Accepts NULL. */
void http_server_free(struct http_server **srv);
/* Adds a route (copied, path too); before the server listens. The most
 * specific match wins: an exact path before any prefix, a longer prefix
 * before a shorter one. */
void http_server_add_route(struct http_server *srv, const struct http_route *r);
/* The struct net_protocol to listen with; the listener's protocol_ctx must
 * be the server. Its max_command is raised per request as needed. */
const struct net_protocol *http_net_protocol(void);
/* Fills a listener template: protocol, protocol_ctx and timeouts. */
void http_listener_config(struct http_server *srv, struct net_listener_config *lc);

/* --- The request (valid during its job; the strings live in its pool) --- */

const char *http_request_method(const struct http_request *req); /* "POST" */
unsigned http_request_method_bit(const struct http_request *req);  /* HTTP_M_* */
/* The path of the request target, as sent (not percent-decoded). */
const char *http_request_path(const struct http_request *req);
/* The query without '?', or NULL when there is none. */
const char *http_request_query(const struct http_request *req);
/* The value of the first header named name (ASCII case-insensitive), with
 * surrounding whitespace removed, or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);
/* Header fields in order; 0..count-1. */
unsigned http_request_header_count(const struct http_request *req);
void http_request_header_at(const struct http_request *req, unsigned i, const char **name_r,
	const char **value_r);
/* The whole decoded body (chunked encoding removed). Valid until the
 * request ends (after the handler returns, or the parked request is
 * finished). */
struct slice http_request_body(const struct http_request *req);
/* HTTP/1.x minor version. */
int http_request_minor(const struct http_request *req);
/* The authenticated user (routes with HTTP_ROUTE_AUTH), or NULL. From the
 * request's pool. */
const struct directory_user *http_request_user(const struct http_request *req);
pool_t *http_request_pool(struct http_request *req);
struct log_ctx *http_request_log(struct http_request *req);
struct net_conn *http_request_conn(struct http_request *req);
struct http_server *http_request_server(struct http_request *req);
bool http_request_is_tls(const struct http_request *req);
/* The Host header without a port, lower-cased, or NULL. */
const char *http_request_host(struct http_request *req);

/* --- The response --- */

/* Sets the status (default 200) and adds a header (repeatable). Only
 * before the response has started. Connection, Content-Length,
 * Transfer-Encoding, Date and Server are the core's. */
void http_response_status(struct http_request *req, int status);
void http_response_header(struct http_request *req, const char *name, const char *value);
/* The whole response with this body (Content-Length). 0, or -1 when the
 * connection is gone. */
int http_response_send(struct http_request *req, const void *body, size_t len);
/* Streams the body: the first write sends the head (chunked on HTTP/1.1,
 * close-delimited on 1.0). Writes are buffered into chunks of about
 * 16 KiB and wait on back-pressure. 0, or -1 when the connection is gone
 * (stop producing). */
int http_response_write(struct http_request *req, const void *data, size_t len);
/* Ends a streamed response (if nothing was streamed yet, sends what was
 * buffered with a Content-Length). 0 or -1. */
int http_response_finish(struct http_request *req);
/* A short text/plain error page with status; closes the connection
 * afterwards when close is set. */
int http_response_error(struct http_request *req, int status, bool close);
/* True once the head has been written (status and headers are fixed). */
bool http_response_started(const struct http_request *req);
/* Closes the connection after this response. */
void http_response_close(struct http_request *req);
/* Reason phrase of a status code ("Not Found"). */
const char *http_status_reason(int status);

/* --- Parking long-lived requests --- */

enum http_wake {
	HTTP_WAKE_EVENT,   /* http_park_wake was called */
	HTTP_WAKE_TIMEOUT, /* the park's timeout passed */
	HTTP_WAKE_CLOSED,  /* the connection closed: clean up, write nothing */
};

/* Runs as a job of the connection (never concurrently with another). It
 * may write to the response; if it finishes it (http_response_finish or
 * _send), the request ends and the connection takes its next request.
 * Otherwise the request stays parked and the timeout starts again. After
 * HTTP_WAKE_CLOSED it is never called again. */
typedef void http_wake_fn(struct http_request *req, void *arg, enum http_wake why);

/* From a handler: keeps the request open after the handler returns. No
 * worker is held and no further request is read until the request is
 * finished. timeout_ms (> 0) bounds each wait. Returns a reference for the
 * waker (release it with http_park_release), or NULL if the request is
 * already answered or parked. */
struct http_park *http_request_park(struct http_request *req, unsigned timeout_ms,
	http_wake_fn *fn, void *arg);
/* From any thread (a store notification callback): runs the wake function
 * soon, once for any number of wakes before it runs. Harmless after the
 * request has ended. */
void http_park_wake(struct http_park *park);
/* Drops the waker's reference. Accepts NULL; sets *park to NULL. */
void http_park_release(struct http_park **park);

#endif
