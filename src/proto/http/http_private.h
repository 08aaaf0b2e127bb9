/* Internal to src/proto/http: the server, the connection state, the framer
 * and the request parser (exposed to the unit tests and the fuzz target). */
#ifndef PROTO_HTTP_HTTP_PRIVATE_H
#define PROTO_HTTP_HTTP_PRIVATE_H

#include <http_parser.h>
#include <pthread.h>
#include <sys/types.h>

#include "core/array.h"
#include "proto/http/http.h"

struct http_server {
	struct http_settings set;
	struct directory *dir;
	struct directory_throttle *throttle;
	ARRAY(struct http_route) routes;
	pool_t *pool;
};

/* The framer: finds where the next complete request ends in the input
 * (net_protocol.frame), resumable across calls over a growing prefix. */
struct http_framer {
	http_parser parser;
	size_t fed;           /* bytes of the current request already parsed */
	size_t url_start, url_end; /* offsets of the request target */
	bool have_url;
	bool head_done;
	bool complete;
	bool continue_sent;   /* 100 Continue written */
	bool expect_continue; /* Expect: 100-continue */
	uint64_t body_seen;   /* decoded body bytes (chunked) */
	size_t body_limit;
	uint64_t started_ms;  /* first byte of the request */
	unsigned nheaders;
	int error_status;     /* after -1: 400, 408, 413, 417, 431, 501 */
	/* the header field being read, to spot Expect */
	char field[16];
	size_t field_len;
	size_t field_end; /* offset after the last field callback */
	bool field_is_expect;
	bool saw_expect;
	bool in_value;
	char value[16];
	size_t value_len;
	const struct http_server *srv;
	const unsigned char *base; /* the data of the current feed call */
};

void http_framer_init(struct http_framer *f, const struct http_server *srv);
/* Parses the bytes of data[0..len) not yet seen (data is the same request
 * prefix, grown). Returns the request's length when it is complete, 0
 * when more is needed, -1 with f->error_status on a bad or too large
 * request. now_ms is for the request timeout. After a result other than 0
 * the framer must be re-initialized. */
ssize_t http_framer_feed(struct http_framer *f, const unsigned char *data, size_t len,
	uint64_t now_ms);
/* True when a 100 Continue should be written now (once). */
bool http_framer_want_continue(struct http_framer *f);

struct http_header {
	const char *name;
	const char *value;
};

struct http_park {
	pthread_mutex_t mtx;
	unsigned refs;           /* the request's and the waker's */
	struct net_conn *conn;   /* referenced */
	struct http_request *req; /* NULL once the request has ended */
	http_wake_fn *fn;
	void *arg;
	unsigned timeout_ms;
	uint64_t timer_gen;      /* a timeout post whose generation differs is stale */
	bool wake_pending;
};

struct http_conn;

struct http_request {
	pool_t *pool;
	struct http_server *srv;
	struct http_conn *hc;
	struct net_conn *conn;
	const char *method;
	unsigned method_bit;
	const char *target;
	const char *path;
	const char *query;
	const char *host;
	bool host_done;
	int minor;
	bool keep_alive;
	ARRAY(struct http_header) headers;
	struct slice body;
	struct buf chunked; /* the decoded body of a chunked request */
	const struct directory_user *user;
	const struct http_route *route;
	struct log_ctx log;
	char session[48];
	/* response */
	int status;
	struct buf head_extra; /* headers the handler added */
	bool started;
	bool finished;
	bool chunked_out;
	bool close_after;
	bool head_only;
	struct buf out; /* body bytes not yet sent */
	uint64_t bytes_out;
	uint64_t t0_us;
	struct http_park *park;
};

/* Parses one complete request as the framer delimited it into req (from
 * pool). Returns 0, or -1 for a malformed one (the framer would have said
 * so first). */
int http_request_parse(struct http_request *req, pool_t *pool, const unsigned char *data,
	size_t len);
/* The route for path and whether the method is allowed; NULL if none. */
const struct http_route *http_server_route(const struct http_server *srv, const char *path,
	size_t path_len);
/* HTTP_M_* bit for a method name. */
unsigned http_method_bit(const char *name);

/* Authentication (auth.c). Returns 1 with req->user set, 0 when a 401 or
 * 429 has been written, -1 on an internal error (503 written). */
int http_auth_check(struct http_request *req);
void http_auth_conn_free(struct http_conn *hc);

/* The per-connection state (server.c). */
struct http_conn {
	struct http_server *srv;
	struct net_conn *conn;
	struct http_framer framer;
	bool framer_ready;
	/* Basic: the header value last verified on this connection and its
	 * user, so a keep-alive client is not hashed on every request. */
	char *auth_cache;
	pool_t *auth_pool;
	const struct directory_user *auth_user;
	/* NTLM (MS-NTHT): the exchange in progress (a CHALLENGE sent, the
	 * AUTHENTICATE awaited) and, once it succeeded, the connection is
	 * the user's: later requests need no Authorization header. */
	struct directory_ntlm *ntlm;
	char ntlm_scheme[10];      /* "NTLM" or "Negotiate", as the client said */
	bool auth_conn;            /* auth_user holds for the connection (NTLM) */
	struct http_request *parked;
	uint64_t requests;
	char session_user[DIRECTORY_DISPLAY_NAME_MAX];
};

/* Ends a request (frees its pool unless parked). */
void http_request_end(struct http_request *req);

#endif
