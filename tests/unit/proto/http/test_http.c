/* src/proto/http: the framer and request parser (limits, smuggling,
 * resumption byte by byte), and the server over real sockets: routing,
 * keep-alive, pipelining, HEAD, chunked both ways, HTTP/1.0, 100-continue,
 * Basic authentication with throttling, error statuses, and parked
 * requests (woken, timed out, closed, not holding a worker). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/base64.h"
#include "core/hm_time.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "directory/directory.h"
#include "directory/throttle.h"
#include "httpclient.h"
#include "proto/http/http_private.h"
#include "proto/http/xml.h"
#include "../../directory/testdir.h"

/* --- the framer, without sockets --- */

static struct http_server *mk_server(void)
{
	struct http_settings s = {.max_header_size = 1024, .max_headers = 10,
		.max_body_size = 100, .request_timeout_s = 5};
	struct http_server *srv = http_server_new(&s, NULL, NULL);
	struct http_route big = {.path = "/big", .max_body = 5000};
	http_server_add_route(srv, &big);
	return srv;
}

/* Feeds data whole, and again one byte at a time; both must agree. */
static ssize_t frame_all(struct http_server *srv, const char *data, size_t len, int *status_r)
{
	struct http_framer f;
	http_framer_init(&f, srv);
	ssize_t whole = http_framer_feed(&f, (const unsigned char *)data, len, 1000);
	int st_whole = f.error_status;
	http_framer_init(&f, srv);
	ssize_t r = 0;
	/* The buffer moves between calls, as the net layer's may. */
	for (size_t i = 1; i <= len; i++) {
		unsigned char *copy = xmemdup(data, i);
		r = http_framer_feed(&f, copy, i, 1000);
		free(copy);
		if (r != 0)
			break;
	}
	assert_int_equal(r, whole);
	assert_int_equal(f.error_status, st_whole);
	if (status_r != NULL)
		*status_r = st_whole;
	return whole;
}

static void test_framer_basic(void **state)
{
	(void)state;
	struct http_server *srv = mk_server();
	const char *get = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
	assert_int_equal(frame_all(srv, get, strlen(get), NULL), strlen(get));
	/* pipelined: only the first is framed */
	char two[256];
	snprintf(two, sizeof(two), "%s%s", get, get);
	assert_int_equal(frame_all(srv, two, strlen(two), NULL), strlen(get));
	/* incomplete */
	assert_int_equal(frame_all(srv, get, strlen(get) - 1, NULL), 0);
	/* Content-Length body */
	const char *post = "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET";
	assert_int_equal(frame_all(srv, post, strlen(post), NULL), strlen(post) - 3);
	/* chunked body with extensions and trailers */
	const char *ch = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
			 "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n";
	assert_int_equal(frame_all(srv, ch, strlen(ch), NULL), strlen(ch));
	http_server_free(&srv);
}

static void test_framer_limits(void **state)
{
	(void)state;
	struct http_server *srv = mk_server();
	int st;
	/* body over the default limit: 413 as soon as the head is read */
	const char *big = "POST /x HTTP/1.1\r\nContent-Length: 101\r\n\r\n";
	assert_int_equal(frame_all(srv, big, strlen(big), &st), -1);
	assert_int_equal(st, 413);
	/* exactly the limit is fine */
	struct buf b;
	buf_init(&b, NULL);
	buf_printf(&b, "POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\n");
	buf_append_fill(&b, 'x', 100);
	assert_int_equal(frame_all(srv, (char *)b.data, b.len, &st), (ssize_t)b.len);
	/* the route's own limit */
	buf_reset(&b);
	buf_printf(&b, "POST /BIG HTTP/1.1\r\nContent-Length: 5000\r\n\r\n");
	buf_append_fill(&b, 'x', 5000);
	assert_int_equal(frame_all(srv, (char *)b.data, b.len, &st), (ssize_t)b.len);
	buf_reset(&b);
	buf_printf(&b, "POST /big HTTP/1.1\r\nContent-Length: 5001\r\n\r\n");
	assert_int_equal(frame_all(srv, (char *)b.data, b.len, &st), -1);
	assert_int_equal(st, 413);
	/* chunked over the limit */
	buf_reset(&b);
	buf_printf(&b, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n");
	buf_append_fill(&b, 'x', 101);
	buf_append_str(&b, "\r\n0\r\n\r\n");
	assert_int_equal(frame_all(srv, (char *)b.data, b.len, &st), -1);
	assert_int_equal(st, 413);
	/* a head over max_header_size */
	buf_reset(&b);
	buf_printf(&b, "GET /x HTTP/1.1\r\nX-Long: ");
	buf_append_fill(&b, 'a', 1100);
	assert_int_equal(frame_all(srv, (char *)b.data, b.len, &st), -1);
	assert_int_equal(st, 431);
	/* too many header fields */
	buf_reset(&b);
	buf_printf(&b, "GET /x HTTP/1.1\r\n");
	for (int i = 0; i < 11; i++)
		buf_printf(&b, "X-%d: v\r\n", i);
	buf_append_str(&b, "\r\n");
	assert_int_equal(frame_all(srv, (char *)b.data, b.len, &st), -1);
	assert_int_equal(st, 431);
	/* ten are fine */
	buf_reset(&b);
	buf_printf(&b, "GET /x HTTP/1.1\r\n");
	for (int i = 0; i < 10; i++)
		buf_printf(&b, "X-%d: v\r\n", i);
	buf_append_str(&b, "\r\n");
	assert_int_equal(frame_all(srv, (char *)b.data, b.len, &st), (ssize_t)b.len);
	/* tiny chunks with long extensions: the raw size is bounded too */
	buf_reset(&b);
	buf_printf(&b, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (int i = 0; i < 60; i++) {
		buf_append_str(&b, "1;");
		buf_append_fill(&b, 'e', 2000);
		buf_append_str(&b, "\r\nx\r\n");
	}
	assert_int_equal(frame_all(srv, (char *)b.data, b.len, &st), -1);
	assert_int_equal(st, 413);
	buf_deinit(&b);
	http_server_free(&srv);
}

static void test_framer_bad(void **state)
{
	(void)state;
	struct http_server *srv = mk_server();
	int st;
	const char *cases[] = {
		"GARBAGE\r\n\r\n",
		"GET /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
		"POST /x HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"GET /x HTTP/1.1\r\nBad Header: x\r\n\r\n",
		"GET /x\x01 HTTP/1.1\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ssize_t r = frame_all(srv, cases[i], strlen(cases[i]), &st);
		if (r != -1)
			fail_msg("case %zu framed as %zd", i, r);
		assert_int_equal(st, 400);
	}
	const char *v9 = "GET /x HTTP/9.9\r\n\r\n";
	assert_int_equal(frame_all(srv, v9, strlen(v9), &st), -1);
	assert_int_equal(st, 505);
	const char *v2 = "GET /x HTTP/2.0\r\n\r\n";
	assert_int_equal(frame_all(srv, v2, strlen(v2), &st), -1);
	assert_int_equal(st, 505);
	/* CONNECT is not served */
	const char *conn = "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n";
	assert_int_equal(frame_all(srv, conn, strlen(conn), &st), -1);
	assert_int_equal(st, 501);
	/* an unknown expectation */
	const char *exp = "POST /x HTTP/1.1\r\nExpect: teapot\r\nContent-Length: 1\r\n\r\n";
	assert_int_equal(frame_all(srv, exp, strlen(exp), &st), -1);
	assert_int_equal(st, 417);
	/* the request timeout */
	struct http_framer f;
	http_framer_init(&f, srv);
	assert_int_equal(http_framer_feed(&f, (const unsigned char *)"GET", 3, 1000), 0);
	assert_int_equal(http_framer_feed(&f, (const unsigned char *)"GET /", 5, 7000), -1);
	assert_int_equal(f.error_status, 408);
	http_server_free(&srv);
}

static void test_framer_continue(void **state)
{
	(void)state;
	struct http_server *srv = mk_server();
	struct http_framer f;
	http_framer_init(&f, srv);
	const char *h = "POST /x HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n";
	assert_int_equal(http_framer_feed(&f, (const unsigned char *)h, strlen(h), 1), 0);
	assert_true(http_framer_want_continue(&f));
	assert_false(http_framer_want_continue(&f)); /* once */
	/* not for HTTP/1.0 */
	http_framer_init(&f, srv);
	const char *h10 = "POST /x HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
	assert_int_equal(http_framer_feed(&f, (const unsigned char *)h10, strlen(h10), 1), 0);
	assert_false(http_framer_want_continue(&f));
	http_server_free(&srv);
}

static void test_request_parse(void **state)
{
	(void)state;
	pool_t *pool = pool_new("t", 0);
	struct http_request req = {0};
	const char *r = "POST /EWS/Exchange.asmx?a=1&b HTTP/1.1\r\nHost: Mail.Example.TEST:8443\r\n"
			"Content-Type:  text/xml; charset=utf-8  \r\nX-Empty:\r\n"
			"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
	assert_int_equal(http_request_parse(&req, pool, (const unsigned char *)r, strlen(r)), 0);
	assert_string_equal(req.method, "POST");
	assert_int_equal(req.method_bit, HTTP_M_POST);
	assert_string_equal(req.path, "/EWS/Exchange.asmx");
	assert_string_equal(req.query, "a=1&b");
	assert_string_equal(http_request_header(&req, "content-type"), "text/xml; charset=utf-8");
	assert_string_equal(http_request_header(&req, "X-EMPTY"), "");
	assert_null(http_request_header(&req, "X-Missing"));
	assert_int_equal(http_request_header_count(&req), 4);
	assert_int_equal(req.body.len, 11);
	assert_memory_equal(req.body.ptr, "hello world", 11);
	assert_true(req.keep_alive);
	assert_string_equal(http_request_host(&req), "mail.example.test");
	pool_clear(pool);

	struct http_request r10 = {0};
	const char *s10 = "GET http://h/abs/path HTTP/1.0\r\n\r\n";
	assert_int_equal(http_request_parse(&r10, pool, (const unsigned char *)s10, strlen(s10)), 0);
	assert_string_equal(r10.path, "/abs/path");
	assert_null(r10.query);
	assert_false(r10.keep_alive);
	assert_int_equal(r10.minor, 0);
	assert_null(http_request_host(&r10));
	pool_clear(pool);

	struct http_request rk = {0};
	const char *sk = "GET / HTTP/1.0\r\nConnection: keep-alive\r\nHost: [::1]:80\r\n\r\n";
	assert_int_equal(http_request_parse(&rk, pool, (const unsigned char *)sk, strlen(sk)), 0);
	assert_true(rk.keep_alive);
	assert_string_equal(http_request_host(&rk), "[::1]");
	pool_clear(pool);

	struct http_request rc = {0};
	const char *sc = "GET / HTTP/1.1\r\nConnection: close\r\n\r\n";
	assert_int_equal(http_request_parse(&rc, pool, (const unsigned char *)sc, strlen(sc)), 0);
	assert_false(rc.keep_alive);
	pool_free(&pool);
}

static void test_routes(void **state)
{
	(void)state;
	struct http_settings s = {0};
	struct http_server *srv = http_server_new(&s, NULL, NULL);
	struct http_route a = {.path = "/EWS/Exchange.asmx"};
	struct http_route b = {.path = "/ews/", .flags = HTTP_ROUTE_PREFIX};
	struct http_route c = {.path = "/", .flags = HTTP_ROUTE_PREFIX};
	struct http_route d = {.path = "/ews/x/", .flags = HTTP_ROUTE_PREFIX};
	http_server_add_route(srv, &c);
	http_server_add_route(srv, &b);
	http_server_add_route(srv, &a);
	http_server_add_route(srv, &d);
	const char *p = "/ews/exchange.ASMX";
	assert_string_equal(http_server_route(srv, p, strlen(p))->path, "/EWS/Exchange.asmx");
	p = "/EWS/other";
	assert_string_equal(http_server_route(srv, p, strlen(p))->path, "/ews/");
	p = "/ews/x/y";
	assert_string_equal(http_server_route(srv, p, strlen(p))->path, "/ews/x/");
	p = "/else";
	assert_string_equal(http_server_route(srv, p, strlen(p))->path, "/");
	http_server_free(&srv);
	srv = http_server_new(&s, NULL, NULL);
	http_server_add_route(srv, &a);
	p = "/EWS/Exchange.asmx2";
	assert_null(http_server_route(srv, p, strlen(p)));
	http_server_free(&srv);
}


/* --- XML --- */

static void test_xml_parse(void **state)
{
	(void)state;
	const char *error = NULL;
	const char *ok = "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"urn:s\" xmlns:t=\"urn:t\">"
			 "<s:Body><t:A x=\"1\">a&amp;b&#x41;</t:A><t:B/><C xmlns=\"urn:t\">c</C></s:Body>"
			 "</s:Envelope>";
	xmlDocPtr doc = http_xml_parse(ok, strlen(ok), 0, &error);
	assert_non_null(doc);
	xmlNode *root = xmlDocGetRootElement(doc);
	assert_true(http_xml_is(root, "urn:s", "Envelope"));
	assert_false(http_xml_is(root, "urn:t", "Envelope"));
	xmlNode *body = http_xml_child(root, "urn:s", "Body");
	assert_non_null(body);
	pool_t *pool = pool_new("x", 0);
	xmlNode *a = http_xml_first_elem(body);
	assert_true(http_xml_is(a, "urn:t", "A"));
	assert_string_equal(http_xml_text(pool, a), "a&bA");
	assert_string_equal(http_xml_attr(pool, a, "x"), "1");
	assert_null(http_xml_attr(pool, a, "y"));
	xmlNode *b = http_xml_next_elem(a);
	assert_true(http_xml_is(b, "urn:t", "B"));
	/* a default namespace counts like a prefix */
	xmlNode *c = http_xml_child(body, "urn:t", "C");
	assert_non_null(c);
	assert_string_equal(http_xml_ns(c), "urn:t");
	assert_null(http_xml_child(body, "urn:s", "C"));
	xmlFreeDoc(doc);
	pool_free(&pool);

	const char *bad[] = {
		/* XXE */
		"<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
		"<r>&x;</r>",
		/* billion laughs */
		"<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
		"<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
		"<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>"
		"<lolz>&lol3;</lolz>",
		/* an external DTD */
		"<!DOCTYPE r SYSTEM \"http://127.0.0.1:1/x.dtd\"><r/>",
		/* parameter entities */
		"<!DOCTYPE r [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]><r/>",
		/* an undeclared entity */
		"<r>&undeclared;</r>",
		"<r><unclosed></r>",
		"not xml at all",
		"<a:r xmlns:b=\"u\"/>",
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		doc = http_xml_parse(bad[i], strlen(bad[i]), 0, &error);
		if (doc != NULL)
			fail_msg("case %zu parsed", i);
		assert_non_null(error);
	}
	error = NULL;
	assert_null(http_xml_parse(bad[0], strlen(bad[0]), 0, &error));
	assert_string_equal(error, "DTDs are not allowed");

	/* depth: exactly the limit passes, one more fails */
	struct buf x;
	buf_init(&x, NULL);
	for (int i = 0; i < 10; i++)
		buf_append_str(&x, "<a>");
	for (int i = 0; i < 10; i++)
		buf_append_str(&x, "</a>");
	doc = http_xml_parse(x.data, x.len, 10, &error);
	assert_non_null(doc);
	xmlFreeDoc(doc);
	assert_null(http_xml_parse(x.data, x.len, 9, &error));
	assert_string_equal(error, "XML nested too deeply");
	/* far deeper than libxml2 allows: refused, not a crash */
	buf_reset(&x);
	for (int i = 0; i < 100000; i++)
		buf_append_str(&x, "<a>");
	assert_null(http_xml_parse(x.data, x.len, 0, &error));
	buf_deinit(&x);
}

static void test_xml_clean(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, NULL);
	http_xml_clean("a\x01" "b\tc\xff" "d\xef\xbf\xbf" "e", 11, &b);
	assert_string_equal(buf_cstr(&b), "ab\tc\xef\xbf\xbd" "de");
	buf_deinit(&b);
}

static int h_xml(struct http_request *req, void *ctx)
{
	(void)ctx;
	http_response_header(req, "Content-Type", "text/xml; charset=utf-8");
	xmlTextWriterPtr w = http_xml_writer_new(req);
	http_xml_start(w, "root");
	http_xml_write_attr(w, "a", "x\"<\x02y");
	for (int i = 0; i < 3000; i++)
		http_xml_write_elem(w, "item", "text & <more> \x01");
	/* empty text may come from an empty buffer without storage */
	http_xml_start(w, "empty");
	http_xml_write_text(w, NULL, 0);
	http_xml_end(w);
	http_xml_end(w);
	return http_xml_writer_finish(&w, req);
}

/* --- the server over sockets --- */

struct ts {
	struct net_server *net;
	struct http_server *http;
	struct directory *dir;
	struct directory_throttle *throttle;
	char *tmp;
	pthread_t thr;
	int port;
	/* parking */
	pthread_mutex_t mtx;
	struct http_park *park;
	int wakes, timeouts, closes;
};

static struct ts *g_ts;

static int h_hello(struct http_request *req, void *ctx)
{
	(void)ctx;
	const struct directory_user *u = http_request_user(req);
	char body[256];
	int n = snprintf(body, sizeof(body), "hello %s %s", u != NULL ? u->address : "anonymous",
		http_request_method(req));
	http_response_header(req, "Content-Type", "text/plain");
	return http_response_send(req, body, (size_t)n);
}

static int h_echo(struct http_request *req, void *ctx)
{
	(void)ctx;
	struct slice b = http_request_body(req);
	return http_response_send(req, b.ptr, b.len);
}

static int h_stream(struct http_request *req, void *ctx)
{
	(void)ctx;
	const char *q = http_request_query(req);
	int n = q != NULL ? atoi(q) : 0;
	char piece[1000];
	for (int i = 0; i < n; i++) {
		memset(piece, 'a' + i % 26, sizeof(piece));
		if (http_response_write(req, piece, sizeof(piece)) < 0)
			return -1;
	}
	return http_response_finish(req);
}

static int h_silent(struct http_request *req, void *ctx)
{
	(void)req;
	(void)ctx;
	return 0;
}

static void park_wake_fn(struct http_request *req, void *arg, enum http_wake why)
{
	struct ts *ts = arg;
	pthread_mutex_lock(&ts->mtx);
	if (why == HTTP_WAKE_EVENT)
		ts->wakes++;
	else if (why == HTTP_WAKE_TIMEOUT)
		ts->timeouts++;
	else
		ts->closes++;
	struct http_park *p = ts->park;
	ts->park = NULL;
	pthread_mutex_unlock(&ts->mtx);
	http_park_release(&p);
	if (why == HTTP_WAKE_CLOSED)
		return;
	http_response_send(req, why == HTTP_WAKE_EVENT ? "woken" : "timeout", why == HTTP_WAKE_EVENT ? 5 : 7);
}

static int h_park(struct http_request *req, void *ctx)
{
	struct ts *ts = ctx;
	const char *q = http_request_query(req);
	unsigned t = q != NULL ? (unsigned)atoi(q) : 200;
	struct http_park *p = http_request_park(req, t, park_wake_fn, ts);
	assert_non_null(p);
	/* a second park of the same request is refused */
	assert_null(http_request_park(req, t, park_wake_fn, ts));
	pthread_mutex_lock(&ts->mtx);
	ts->park = p;
	pthread_mutex_unlock(&ts->mtx);
	return 0;
}

static void *ts_run(void *arg)
{
	struct ts *ts = arg;
	net_server_run(ts->net, false);
	return NULL;
}

static struct ts *ts_start(unsigned workers, size_t max_body)
{
	struct ts *ts = xcalloc(1, sizeof(*ts));
	pthread_mutex_init(&ts->mtx, NULL);
	ts->tmp = testdir_new();
	char path[4200];
	snprintf(path, sizeof(path), "%s/directory.db", ts->tmp);
	struct directory_settings ds = {.password_hash_cost = 1};
	const char *error;
	assert_int_equal(directory_open(path, &ds, &ts->dir, &error), 0);
	assert_int_equal(directory_domain_add(ts->dir, "example.test", &error), 0);
	struct directory_user_spec us = {.address = "alice@example.test",
		.display_name = "Alice", .password = "s3cret"};
	assert_int_equal(directory_user_add(ts->dir, &us, NULL, NULL, &error), 0);
	struct directory_throttle_settings tset = {.max_failures_per_ip = 3,
		.max_failures_per_user = 3, .window_secs = 60};
	ts->throttle = directory_throttle_new(&tset);
	struct http_settings hs = {.max_body_size = max_body, .keepalive_timeout_s = 5,
		.request_timeout_s = 5, .realm = "test"};
	ts->http = http_server_new(&hs, ts->dir, ts->throttle);
	struct http_route routes[] = {
		{.path = "/hello", .methods = HTTP_M_GET | HTTP_M_POST, .handler = h_hello},
		{.path = "/echo", .methods = HTTP_M_POST, .handler = h_echo},
		{.path = "/stream", .handler = h_stream},
		{.path = "/silent", .handler = h_silent},
		{.path = "/xml", .handler = h_xml},
		{.path = "/auth", .flags = HTTP_ROUTE_AUTH, .handler = h_hello},
		{.path = "/park", .handler = h_park, .ctx = ts},
		{.path = "/authpark", .flags = HTTP_ROUTE_AUTH, .handler = h_park, .ctx = ts},
	};
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		http_server_add_route(ts->http, &routes[i]);
	struct net_server_config nc = {.event_threads = 1, .worker_threads = workers,
		.shutdown_grace_ms = 2000};
	ts->net = net_server_new(&nc, &error);
	assert_non_null(ts->net);
	struct net_listener_config lc = {.address = "127.0.0.1:0"};
	http_listener_config(ts->http, &lc);
	assert_int_equal(net_server_listen(ts->net, &lc, &error), 0);
	ts->port = net_server_listener_port(ts->net, 0);
	pthread_create(&ts->thr, NULL, ts_run, ts);
	g_ts = ts;
	return ts;
}

static void ts_stop(struct ts **tsp)
{
	struct ts *ts = *tsp;
	net_server_shutdown(ts->net);
	pthread_join(ts->thr, NULL);
	net_server_free(&ts->net);
	http_server_free(&ts->http);
	directory_throttle_free(&ts->throttle);
	directory_close(&ts->dir);
	testdir_free(ts->tmp);
	pthread_mutex_destroy(&ts->mtx);
	free(ts);
	*tsp = NULL;
}

static void expect_resp(struct hc *c, int status, const char *body, bool head_only)
{
	struct hc_resp r;
	if (hc_read(c, &r, head_only) < 0)
		fail_msg("no complete response (wanted %d)", status);
	if (r.status != status)
		fail_msg("status %d, wanted %d (%s)", r.status, status, buf_cstr(&r.body));
	if (body != NULL && strcmp(buf_cstr(&r.body), body) != 0)
		fail_msg("body \"%s\", wanted \"%s\"", buf_cstr(&r.body), body);
	hc_resp_free(&r);
}

static void test_server_basics(void **state)
{
	(void)state;
	struct ts *ts = ts_start(2, 0);
	struct hc c;
	assert_int_equal(hc_connect(&c, ts->port, 5000), 0);
	/* keep-alive: several requests on one connection */
	for (int i = 0; i < 3; i++) {
		hc_send_str(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
		struct hc_resp r;
		assert_int_equal(hc_read(&c, &r, false), 0);
		assert_int_equal(r.status, 200);
		assert_string_equal(buf_cstr(&r.body), "hello anonymous GET");
		assert_string_equal(hc_header(&r, "content-length"), "19");
		assert_string_equal(hc_header(&r, "content-type"), "text/plain");
		assert_non_null(hc_header(&r, "date"));
		assert_null(hc_header(&r, "connection"));
		hc_resp_free(&r);
	}
	/* pipelined requests answered in order */
	hc_send_str(&c, "GET /hello HTTP/1.1\r\n\r\nPOST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\n"
			"abcGET /nowhere HTTP/1.1\r\n\r\nDELETE /echo HTTP/1.1\r\n\r\n"
			"HEAD /hello HTTP/1.1\r\n\r\n");
	expect_resp(&c, 200, "hello anonymous GET", false);
	expect_resp(&c, 200, "abc", false);
	expect_resp(&c, 404, NULL, false);
	struct hc_resp r;
	assert_int_equal(hc_read(&c, &r, false), 0);
	assert_int_equal(r.status, 405);
	assert_string_equal(hc_header(&r, "allow"), "POST");
	hc_resp_free(&r);
	/* HEAD: the headers of GET, no body */
	assert_int_equal(hc_read(&c, &r, true), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(hc_header(&r, "content-length"), "20");
	assert_int_equal(r.body.len, 0);
	hc_resp_free(&r);
	/* a handler that answers nothing gets a 500, the connection lives */
	hc_send_str(&c, "GET /silent HTTP/1.1\r\n\r\n");
	expect_resp(&c, 500, NULL, false);
	/* chunked request body */
	hc_send_str(&c, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
			"2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n");
	expect_resp(&c, 200, "abcde", false);
	/* Connection: close is honoured */
	hc_send_str(&c, "GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n");
	assert_int_equal(hc_read(&c, &r, false), 0);
	assert_string_equal(hc_header(&r, "connection"), "close");
	hc_resp_free(&r);
	assert_true(hc_peer_closed(&c));
	hc_close(&c);

	/* HTTP/1.0 without keep-alive closes; with keep-alive stays */
	assert_int_equal(hc_connect(&c, ts->port, 5000), 0);
	hc_send_str(&c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	assert_int_equal(hc_read(&c, &r, false), 0);
	assert_string_equal(hc_header(&r, "connection"), "keep-alive");
	hc_resp_free(&r);
	hc_send_str(&c, "GET /hello HTTP/1.0\r\n\r\n");
	expect_resp(&c, 200, "hello anonymous GET", false);
	assert_true(hc_peer_closed(&c));
	hc_close(&c);
	ts_stop(&ts);
}

static void test_server_streaming(void **state)
{
	(void)state;
	struct ts *ts = ts_start(2, 0);
	struct hc c;
	assert_int_equal(hc_connect(&c, ts->port, 5000), 0);
	/* a small stream fits the buffer: sent with a Content-Length */
	hc_send_str(&c, "GET /stream?3 HTTP/1.1\r\n\r\n");
	struct hc_resp r;
	assert_int_equal(hc_read(&c, &r, false), 0);
	assert_false(r.chunked);
	assert_int_equal(r.body.len, 3000);
	hc_resp_free(&r);
	/* a big one is chunked */
	hc_send_str(&c, "GET /stream?500 HTTP/1.1\r\n\r\n");
	assert_int_equal(hc_read(&c, &r, false), 0);
	assert_true(r.chunked);
	assert_int_equal(r.body.len, 500000);
	for (size_t i = 0; i < r.body.len; i += 1000)
		assert_int_equal(r.body.data[i], 'a' + (i / 1000) % 26);
	hc_resp_free(&r);
	/* and still keeps the connection */
	hc_send_str(&c, "GET /hello HTTP/1.1\r\n\r\n");
	expect_resp(&c, 200, "hello anonymous GET", false);
	/* HTTP/1.0: close-delimited */
	hc_send_str(&c, "GET /stream?100 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	assert_int_equal(hc_read(&c, &r, false), 0);
	assert_false(r.chunked);
	assert_true(r.eof);
	assert_int_equal(r.body.len, 100000);
	hc_resp_free(&r);
	hc_close(&c);
	ts_stop(&ts);
}

static void test_server_xml(void **state)
{
	(void)state;
	struct ts *ts = ts_start(2, 0);
	struct hc c;
	assert_int_equal(hc_connect(&c, ts->port, 5000), 0);
	hc_send_str(&c, "GET /xml HTTP/1.1\r\n\r\n");
	struct hc_resp r;
	assert_int_equal(hc_read(&c, &r, false), 0);
	assert_int_equal(r.status, 200);
	assert_true(r.chunked); /* streamed, not built whole */
	const char *error;
	xmlDocPtr doc = http_xml_parse(r.body.data, r.body.len, 0, &error);
	assert_non_null(doc);
	xmlNode *root = xmlDocGetRootElement(doc);
	pool_t *pool = pool_new("x", 0);
	assert_string_equal(http_xml_attr(pool, root, "a"), "x\"<y");
	int n = 0;
	xmlNode *e = http_xml_first_elem(root);
	for (; e != NULL && http_xml_is(e, NULL, "item"); e = http_xml_next_elem(e), n++)
		assert_string_equal(http_xml_text(pool, e), "text & <more> ");
	assert_int_equal(n, 3000);
	assert_true(http_xml_is(e, NULL, "empty"));
	assert_string_equal(http_xml_text(pool, e), "");
	assert_null(http_xml_next_elem(e));
	pool_free(&pool);
	xmlFreeDoc(doc);
	hc_resp_free(&r);
	hc_close(&c);
	ts_stop(&ts);
}

static void test_server_errors(void **state)
{
	(void)state;
	struct ts *ts = ts_start(2, 1000);
	struct hc c;
	struct hc_resp r;
	/* body over the limit: 413 and close */
	assert_int_equal(hc_connect(&c, ts->port, 5000), 0);
	hc_send_str(&c, "POST /echo HTTP/1.1\r\nContent-Length: 1001\r\n\r\n");
	assert_int_equal(hc_read(&c, &r, false), 0);
	assert_int_equal(r.status, 413);
	assert_string_equal(hc_header(&r, "connection"), "close");
	hc_resp_free(&r);
	assert_true(hc_peer_closed(&c));
	hc_close(&c);
	/* garbage: 400 */
	assert_int_equal(hc_connect(&c, ts->port, 5000), 0);
	hc_send_str(&c, "\x16\x03\x01 hello tls\r\n\r\n");
	expect_resp(&c, 400, NULL, false);
	hc_close(&c);
	/* an endless header: 431 */
	assert_int_equal(hc_connect(&c, ts->port, 5000), 0);
	hc_send_str(&c, "GET / HTTP/1.1\r\nX: ");
	char junk[8192];
	memset(junk, 'x', sizeof(junk));
	for (int i = 0; i < 10; i++)
		if (hc_send(&c, junk, sizeof(junk)) < 0)
			break;
	expect_resp(&c, 431, NULL, false);
	hc_close(&c);
	/* Expect: 100-continue gets a 100 first */
	assert_int_equal(hc_connect(&c, ts->port, 5000), 0);
	hc_send_str(&c, "POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
	expect_resp(&c, 100, NULL, false);
	hc_send_str(&c, "data");
	expect_resp(&c, 200, "data", false);
	/* and a 413 instead of 100 when too large */
	hc_send_str(&c, "POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
	expect_resp(&c, 413, NULL, false);
	hc_close(&c);
	ts_stop(&ts);
}

static char *basic(const char *user, const char *pass)
{
	char raw[256];
	snprintf(raw, sizeof(raw), "%s:%s", user, pass);
	struct buf b;
	buf_init(&b, NULL);
	base64_encode(raw, strlen(raw), &b);
	char *r = xasprintf("Basic %s", buf_cstr(&b));
	buf_deinit(&b);
	return r;
}

static void auth_req(struct hc *c, const char *authz, int status, const char *body)
{
	char req[512];
	if (authz != NULL)
		snprintf(req, sizeof(req), "GET /auth HTTP/1.1\r\nAuthorization: %s\r\n\r\n", authz);
	else
		snprintf(req, sizeof(req), "GET /auth HTTP/1.1\r\n\r\n");
	hc_send_str(c, req);
	struct hc_resp r;
	assert_int_equal(hc_read(c, &r, false), 0);
	if (r.status != status)
		fail_msg("status %d, wanted %d", r.status, status);
	if (status == 401)
		assert_string_equal(hc_header(&r, "www-authenticate"),
			"Basic realm=\"test\", charset=\"UTF-8\"");
	if (body != NULL)
		assert_string_equal(buf_cstr(&r.body), body);
	hc_resp_free(&r);
}

static void test_server_basic_auth(void **state)
{
	(void)state;
	struct ts *ts = ts_start(2, 0);
	struct hc c;
	assert_int_equal(hc_connect(&c, ts->port, 5000), 0);
	auth_req(&c, NULL, 401, NULL);
	char *good = basic("alice@example.test", "s3cret");
	char *upper = basic("ALICE@Example.Test", "s3cret");
	char *bad = basic("alice@example.test", "wrong");
	auth_req(&c, good, 200, "hello alice@example.test GET");
	/* again on the same connection (from the connection's cache) */
	auth_req(&c, good, 200, "hello alice@example.test GET");
	auth_req(&c, upper, 200, "hello alice@example.test GET");
	auth_req(&c, "Basic !!!notbase64", 401, NULL);
	auth_req(&c, "Basic bm9jb2xvbg==", 401, NULL); /* "nocolon" */
	auth_req(&c, "Bearer abc", 401, NULL);
	/* unauthenticated routes still work */
	hc_send_str(&c, "GET /hello HTTP/1.1\r\n\r\n");
	expect_resp(&c, 200, "hello anonymous GET", false);
	/* wrong passwords: 401 until the throttle's limit, then 429 even
	 * with the right one */
	auth_req(&c, bad, 401, NULL);
	auth_req(&c, bad, 401, NULL);
	auth_req(&c, bad, 401, NULL);
	auth_req(&c, bad, 429, NULL);
	hc_close(&c);
	assert_int_equal(hc_connect(&c, ts->port, 5000), 0);
	auth_req(&c, good, 429, NULL);
	hc_close(&c);
	free(good);
	free(upper);
	free(bad);
	ts_stop(&ts);
}

static void *waker(void *arg)
{
	struct ts *ts = arg;
	for (int i = 0; i < 200; i++) {
		usleep(10000);
		pthread_mutex_lock(&ts->mtx);
		struct http_park *p = ts->park;
		if (p != NULL) {
			http_park_wake(p);
			http_park_wake(p); /* coalesced */
		}
		pthread_mutex_unlock(&ts->mtx);
		if (p != NULL)
			return NULL;
	}
	return NULL;
}

static void test_server_park(void **state)
{
	(void)state;
	/* one worker: a parked request must not hold it */
	struct ts *ts = ts_start(1, 0);
	struct hc a, b;
	assert_int_equal(hc_connect(&a, ts->port, 5000), 0);
	assert_int_equal(hc_connect(&b, ts->port, 5000), 0);
	/* A parks for up to 3 s and has a request pipelined behind it */
	hc_send_str(&a, "GET /park?3000 HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\n\r\n");
	usleep(100000);
	uint64_t t0 = time_mono_ms();
	/* B is served meanwhile */
	hc_send_str(&b, "GET /hello HTTP/1.1\r\n\r\n");
	expect_resp(&b, 200, "hello anonymous GET", false);
	assert_true(time_mono_ms() - t0 < 1000);
	/* wake A from another thread */
	pthread_t w;
	pthread_create(&w, NULL, waker, ts);
	expect_resp(&a, 200, "woken", false);
	pthread_join(w, NULL);
	expect_resp(&a, 200, "hello anonymous GET", false);
	pthread_mutex_lock(&ts->mtx);
	assert_int_equal(ts->wakes, 1);
	pthread_mutex_unlock(&ts->mtx);
	/* a timeout */
	t0 = time_mono_ms();
	hc_send_str(&a, "GET /park?300 HTTP/1.1\r\n\r\n");
	expect_resp(&a, 200, "timeout", false);
	uint64_t el = time_mono_ms() - t0;
	assert_true(el >= 250 && el < 2000);
	/* The client goes away while parked: a paused connection does not
	 * read, so the departure is noticed at the park's timeout, whose
	 * answer ends the request; the connection then closes. */
	hc_send_str(&b, "GET /park?400 HTTP/1.1\r\n\r\n");
	usleep(100000);
	hc_close(&b);
	for (int i = 0; i < 150; i++) {
		pthread_mutex_lock(&ts->mtx);
		int n = ts->timeouts;
		pthread_mutex_unlock(&ts->mtx);
		if (n == 2)
			break;
		usleep(20000);
	}
	pthread_mutex_lock(&ts->mtx);
	assert_int_equal(ts->timeouts, 2);
	assert_int_equal(ts->closes, 0);
	pthread_mutex_unlock(&ts->mtx);
	/* the server still serves */
	hc_send_str(&a, "GET /hello HTTP/1.1\r\n\r\n");
	expect_resp(&a, 200, "hello anonymous GET", false);
	hc_close(&a);
	ts_stop(&ts);
}

static void test_server_park_shutdown(void **state)
{
	(void)state;
	struct ts *ts = ts_start(2, 0);
	struct hc a;
	assert_int_equal(hc_connect(&a, ts->port, 5000), 0);
	hc_send_str(&a, "GET /park?10000 HTTP/1.1\r\n\r\n");
	usleep(100000);
	/* shutdown with a parked request: closed, cleaned up, no hang */
	uint64_t t0 = time_mono_ms();
	struct ts *keep = ts;
	net_server_shutdown(ts->net);
	pthread_join(ts->thr, NULL);
	assert_true(time_mono_ms() - t0 < 5000);
	assert_int_equal(keep->closes, 1);
	/* ts_stop's shutdown and join are harmless now */
	net_server_free(&ts->net);
	http_server_free(&ts->http);
	directory_throttle_free(&ts->throttle);
	directory_close(&ts->dir);
	testdir_free(ts->tmp);
	pthread_mutex_destroy(&ts->mtx);
	free(ts);
	hc_close(&a);
}

int main(void)
{
	log_set_level(getenv("HTTP_TEST_DEBUG") != NULL ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_framer_basic),
		cmocka_unit_test(test_framer_limits),
		cmocka_unit_test(test_framer_bad),
		cmocka_unit_test(test_framer_continue),
		cmocka_unit_test(test_request_parse),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_xml_parse),
		cmocka_unit_test(test_xml_clean),
		cmocka_unit_test(test_server_basics),
		cmocka_unit_test(test_server_xml),
		cmocka_unit_test(test_server_streaming),
		cmocka_unit_test(test_server_errors),
		cmocka_unit_test(test_server_basic_auth),
		cmocka_unit_test(test_server_park),
		cmocka_unit_test(test_server_park_shutdown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
