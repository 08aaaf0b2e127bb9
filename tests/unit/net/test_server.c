/* src/net over plain TCP: listeners, framing, serialization, limits,
 * timeouts, shutdown. Driven by the line protocol in lineproto.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "lineproto.h"

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct lc *lc_new(void)
{
	return xcalloc(1, sizeof(struct lc));
}

static void lc_free(struct lc **c)
{
	lc_close(*c);
	free(*c);
	*c = NULL;
}

/* Connects and reads the greeting. */
static struct lc *lc_open(const char *ip, int port)
{
	struct lc *c = lc_new();
	assert_int_equal(lc_connect(c, ip, port), 0);
	const char *l = lc_line(c);
	assert_non_null(l);
	assert_true(strncmp(l, "HELLO ", 6) == 0);
	return c;
}

static void expect_line(struct lc *c, const char *want)
{
	const char *l = lc_line(c);
	if (l == NULL)
		fail_msg("expected \"%s\", got EOF", want);
	if (strcmp(l, want) != 0)
		fail_msg("expected \"%s\", got \"%s\"", want, l);
}

static void ping(struct lc *c)
{
	assert_int_equal(lc_send(c, "PING\n"), 0);
	expect_line(c, "PONG");
}

static void test_ipv4_basics(void **state)
{
	struct ts ts;
	ts_start(&ts, NULL, "127.0.0.1:0", NULL);
	int port = ts_port(&ts, 0);
	assert_int_equal(net_server_listener_port(ts.srv, 1), -1);
	struct lc *c = lc_open("127.0.0.1", port);
	ping(c);
	assert_int_equal(lc_send(c, "ECHO hello world\r\n"), 0);
	expect_line(c, "hello world");
	assert_int_equal(lc_send(c, "INFO\n"), 0);
	const char *l = lc_line(c);
	assert_non_null(l);
	assert_non_null(strstr(l, " ip=127.0.0.1 peer=127.0.0.1:"));
	char local[64];
	snprintf(local, sizeof(local), " local=127.0.0.1:%d ", port);
	assert_non_null(strstr(l, local));
	unsigned long long id = strtoull(l + 3, NULL, 10);
	char session[64];
	snprintf(session, sizeof(session), "session=line-%llu", id);
	assert_non_null(strstr(l, session));
	assert_int_equal(lc_send(c, "ISTLS\n"), 0);
	expect_line(c, "tls=0");
	assert_int_equal(lc_send(c, "QUIT\n"), 0);
	expect_line(c, "BYE");
	assert_true(lc_closed(c));
	assert_int_equal(lp_wait(&ts.st, &ts.st.closes, 1, 5000), 1);
	lc_free(&c);

	/* Connection ids are unique. */
	struct lc *a = lc_open("127.0.0.1", port);
	struct lc *b = lc_open("127.0.0.1", port);
	assert_int_equal(lc_send(a, "INFO\n"), 0);
	unsigned long long ida = strtoull(lc_line(a) + 3, NULL, 10);
	assert_int_equal(lc_send(b, "INFO\n"), 0);
	unsigned long long idb = strtoull(lc_line(b) + 3, NULL, 10);
	assert_true(ida != idb && ida != id && idb != id);
	lc_free(&a);
	lc_free(&b);
	ts_stop(&ts);
}

static void test_ipv6_and_any(void **state)
{
	struct ts ts;
	ts_start(&ts, NULL, "[::1]:0", NULL);
	int port = ts_port(&ts, 0);
	struct lc *c = lc_open("::1", port);
	ping(c);
	assert_int_equal(lc_send(c, "INFO\n"), 0);
	const char *l = lc_line(c);
	assert_non_null(strstr(l, " ip=::1 peer=[::1]:"));
	lc_free(&c);
	/* IPv6 only: nothing on 127.0.0.1 at that port. */
	c = lc_new();
	assert_int_equal(lc_connect(c, "127.0.0.1", port), -1);
	lc_free(&c);
	ts_stop(&ts);

	/* "*": IPv4 and IPv6 on the same port. */
	ts_start(&ts, NULL, "*:0", NULL);
	port = ts_port(&ts, 0);
	struct lc *v4 = lc_open("127.0.0.1", port);
	struct lc *v6 = lc_open("::1", port);
	ping(v4);
	ping(v6);
	lc_free(&v4);
	lc_free(&v6);
	ts_stop(&ts);
}

static void test_listen_errors(void **state)
{
	struct net_server_config cfg = {.event_threads = 1, .worker_threads = 1};
	const char *error = NULL;
	struct net_server *srv = net_server_new(&cfg, &error);
	assert_non_null(srv);
	struct lp_stats st;
	lp_stats_init(&st);
	struct net_listener_config l = {.protocol = &lp_protocol, .protocol_ctx = &st};
	const char *bad[] = {"nonsense", "127.0.0.1", "[::1", "[::1]80", "127.0.0.1:99999",
		"127.0.0.1:http", "::1:80", ":80", "[]:80", "256.1.1.1:0", "127.0.0.1:"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		l.address = bad[i];
		error = NULL;
		if (net_server_listen(srv, &l, &error) != -1)
			fail_msg("%s was accepted", bad[i]);
		assert_non_null(error);
		assert_non_null(strstr(error, bad[i]));
	}
	/* Address in use. */
	l.address = "127.0.0.1:0";
	assert_int_equal(net_server_listen(srv, &l, &error), 0);
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", net_server_listener_port(srv, 0));
	l.address = addr;
	assert_int_equal(net_server_listen(srv, &l, &error), -1);
	assert_non_null(strstr(error, "in use"));
	/* No protocol; implicit TLS without a context. */
	l.address = "127.0.0.1:0";
	l.protocol = NULL;
	assert_int_equal(net_server_listen(srv, &l, &error), -1);
	l.protocol = &lp_protocol;
	l.implicit_tls = true;
	assert_int_equal(net_server_listen(srv, &l, &error), -1);
	/* A host name binds what it resolves to. */
	l.implicit_tls = false;
	l.address = "localhost:0";
	assert_int_equal(net_server_listen(srv, &l, &error), 0);
	assert_true(net_server_listener_port(srv, 1) > 0);
	/* Freed without ever running. */
	net_server_free(&srv);
	assert_null(srv);
	lp_stats_deinit(&st);
}

static void test_shutdown_before_run_and_listen_while_running(void **state)
{
	struct net_server_config cfg = {.event_threads = 2, .worker_threads = 2};
	const char *error = NULL;
	struct net_server *srv = net_server_new(&cfg, &error);
	net_server_shutdown(srv);
	assert_int_equal(net_server_run(srv, false), 0);
	/* Once only. */
	assert_int_equal(net_server_run(srv, false), -1);
	net_server_free(&srv);

	struct ts ts;
	ts_start(&ts, NULL, "127.0.0.1:0", NULL);
	struct net_listener_config l = {.address = "[::1]:0", .protocol = &lp_protocol,
		.protocol_ctx = &ts.st};
	assert_int_equal(net_server_listen(ts.srv, &l, &error), 0);
	struct lc *c = lc_open("::1", ts_port(&ts, 1));
	ping(c);
	lc_free(&c);
	ts_stop(&ts);
}

static void test_pipelining_and_serialization(void **state)
{
	struct ts ts;
	ts_start(&ts, NULL, "127.0.0.1:0", NULL);
	struct lc *c = lc_open("127.0.0.1", ts_port(&ts, 0));
	assert_int_equal(lc_send(c, "INFO\n"), 0);
	assert_non_null(lc_line(c));
	struct net_conn *conn = ts.st.last_conn;
	net_conn_ref(conn);

	/* 300 commands in one write; every 25th sleeps, every 40th posts. */
	struct buf b;
	buf_init(&b, NULL);
	const int n = 300;
	int posts = 0;
	for (int i = 0; i < n; i++) {
		if (i % 25 == 0)
			buf_append_str(&b, "SLOW 2\n");
		if (i % 40 == 0) {
			buf_append_str(&b, "POST 0\n");
			posts++;
		}
		buf_printf(&b, "ECHO %d\n", i);
	}
	assert_int_equal(lc_send_raw(c, b.data, b.len), 0);
	int next = 0, events = 0, slow = 0, posted = 0;
	while (next < n || events < posts) {
		const char *l = lc_line(c);
		assert_non_null(l);
		if (strcmp(l, "EVENT 0") == 0)
			events++;
		else if (strcmp(l, "SLOW done") == 0)
			slow++;
		else if (strcmp(l, "POSTED") == 0)
			posted++;
		else {
			assert_int_equal(atoi(l), next);
			next++;
		}
	}
	assert_int_equal(posted, posts);
	assert_int_equal(slow, (n + 24) / 25);
	assert_int_equal(lp_get(&ts.st, &ts.st.violations), 0);
	buf_deinit(&b);
	net_conn_unref(&conn);
	lc_free(&c);
	ts_stop(&ts);
}

struct ext_post {
	struct lp_stats *st;
	int *counter;
};

static void ext_post_fn(struct net_conn *conn, void *arg)
{
	struct ext_post *p = arg;
	lp_enter(conn);
	net_conn_write_str(conn, "EXT\n");
	lp_leave(conn);
	pthread_mutex_lock(&p->st->mtx);
	(*p->counter)++;
	pthread_cond_broadcast(&p->st->cond);
	pthread_mutex_unlock(&p->st->mtx);
	free(p);
}

static void ext_post_free(void *arg)
{
	struct ext_post *p = arg;
	pthread_mutex_lock(&p->st->mtx);
	p->st->posts_freed++;
	pthread_cond_broadcast(&p->st->cond);
	pthread_mutex_unlock(&p->st->mtx);
	free(p);
}

struct poster {
	struct net_conn *conn;
	struct lp_stats *st;
	int *counter;
	int n;
};

static void *poster_main(void *arg)
{
	struct poster *ps = arg;
	for (int i = 0; i < ps->n; i++) {
		struct ext_post *p = xcalloc(1, sizeof(*p));
		p->st = ps->st;
		p->counter = ps->counter;
		net_conn_post(ps->conn, 0, ext_post_fn, p, ext_post_free);
	}
	return NULL;
}

static void test_posts_from_other_threads(void **state)
{
	struct ts ts;
	ts_start(&ts, NULL, "127.0.0.1:0", NULL);
	struct lc *c = lc_open("127.0.0.1", ts_port(&ts, 0));
	assert_int_equal(lc_send(c, "INFO\n"), 0);
	assert_non_null(lc_line(c));
	int ext_run = 0;
	struct poster ps = {.conn = ts.st.last_conn, .st = &ts.st, .counter = &ext_run, .n = 200};
	pthread_t thr;
	assert_int_equal(pthread_create(&thr, NULL, poster_main, &ps), 0);
	/* Commands while the posts land. */
	struct buf b;
	buf_init(&b, NULL);
	for (int i = 0; i < 200; i++)
		buf_printf(&b, i % 10 == 0 ? "SLOW 1\n" : "ECHO %d\n", i);
	assert_int_equal(lc_send_raw(c, b.data, b.len), 0);
	pthread_join(thr, NULL);
	int next = 0, ext = 0;
	while (next < 200 || ext < 200) {
		const char *l = lc_line(c);
		assert_non_null(l);
		if (strcmp(l, "EXT") == 0) {
			ext++;
		} else if (strcmp(l, "SLOW done") == 0) {
			assert_int_equal(next % 10, 0);
			next++;
		} else {
			assert_int_equal(atoi(l), next);
			next++;
		}
	}
	assert_int_equal(lp_get(&ts.st, &ext_run), 200);
	assert_int_equal(lp_get(&ts.st, &ts.st.violations), 0);

	/* Delayed post: POSTED now, the event no sooner than the delay. */
	uint64_t t0 = now_ms();
	assert_int_equal(lc_send(c, "POST 150\nPING\n"), 0);
	expect_line(c, "POSTED");
	expect_line(c, "PONG");
	expect_line(c, "EVENT 150");
	assert_true(now_ms() - t0 >= 150);

	/* Posted events and commands take turns: a PING gets through an
	 * endless stream of events (and ends it). */
	assert_int_equal(lc_send(c, "STORM\n"), 0);
	expect_line(c, "STORMING");
	assert_int_equal(lc_send(c, "PING\n"), 0);
	expect_line(c, "PONG");
	const char *l = lc_line(c);
	assert_non_null(l);
	assert_true(strncmp(l, "STORM over after ", 17) == 0);

	/* Posts to a connection that has closed are freed, not run; the
	 * connection's memory stays valid while referenced. */
	struct net_conn *conn = ts.st.last_conn;
	net_conn_ref(conn);
	assert_int_equal(lc_send(c, "POST 5000\nQUIT\n"), 0);
	expect_line(c, "POSTED");
	expect_line(c, "BYE");
	assert_true(lc_closed(c));
	assert_int_equal(lp_wait(&ts.st, &ts.st.closes, 1, 5000), 1);
	assert_int_equal(lp_wait(&ts.st, &ts.st.posts_freed, 1, 5000), 1);
	struct ext_post *p = xcalloc(1, sizeof(*p));
	p->st = &ts.st;
	p->counter = &ext_run;
	net_conn_post(conn, 0, ext_post_fn, p, ext_post_free);
	assert_int_equal(lp_get(&ts.st, &ts.st.posts_freed), 2);
	assert_int_equal(net_conn_write_str(conn, "x"), -1);
	net_conn_close(conn);
	net_conn_flush(conn);
	net_conn_resume(conn);
	net_conn_unref(&conn);
	assert_null(conn);
	buf_deinit(&b);
	lc_free(&c);
	ts_stop(&ts);
}

static void test_close_pause_flush_max(void **state)
{
	struct net_listener_config lcfg = {.max_command = 4096};
	struct ts ts;
	ts_start(&ts, NULL, "127.0.0.1:0", &lcfg);
	int port = ts_port(&ts, 0);

	/* CLOSE: pipelined input after it is discarded. */
	struct lc *c = lc_open("127.0.0.1", port);
	assert_int_equal(lc_send(c, "CLOSE\nPING\n"), 0);
	expect_line(c, "CLOSING");
	assert_true(lc_closed(c));
	lc_free(&c);

	/* PAUSE: framing stops until resumed by a posted job. */
	c = lc_open("127.0.0.1", port);
	assert_int_equal(lc_send(c, "PAUSE 100\nPING\n"), 0);
	expect_line(c, "PAUSED");
	expect_line(c, "RESUMED");
	expect_line(c, "PONG");

	/* FLUSH: the first line arrives while the handler still sleeps. */
	assert_int_equal(lc_send(c, "FLUSH 300\n"), 0);
	uint64_t t0 = now_ms();
	expect_line(c, "FIRST");
	uint64_t t1 = now_ms();
	expect_line(c, "SECOND");
	assert_true(t1 - t0 < 250);
	assert_true(now_ms() - t0 >= 300);

	/* MAX: a line beyond the listener's limit once it is raised. */
	assert_int_equal(lc_send(c, "MAX 100000\n"), 0);
	expect_line(c, "OK");
	size_t big = 80000;
	char *line = xmalloc(big + 7);
	memcpy(line, "ECHO ", 5);
	memset(line + 5, 'y', big);
	memcpy(line + 5 + big, "\n", 2);
	assert_int_equal(lc_send(c, line), 0);
	const char *l = lc_line(c);
	assert_non_null(l);
	assert_int_equal(strlen(l), big);
	/* Back to the listener's limit: the same line overflows. */
	assert_int_equal(lc_send(c, "MAX 0\n"), 0);
	expect_line(c, "OK");
	assert_int_equal(lc_send(c, line), 0);
	expect_line(c, "ERR too long");
	assert_true(lc_closed(c));
	free(line);
	lc_free(&c);

	/* A peer that half-closes still gets its answers. */
	c = lc_open("127.0.0.1", port);
	assert_int_equal(lc_send(c, "PING\nECHO last\n"), 0);
	shutdown(c->fd, SHUT_WR);
	expect_line(c, "PONG");
	expect_line(c, "last");
	assert_true(lc_closed(c));
	lc_free(&c);

	/* on_connect returning -1: its reply, then the close. */
	ts.st.reject = true;
	c = lc_new();
	assert_int_equal(lc_connect(c, "127.0.0.1", port), 0);
	expect_line(c, "REJECT");
	assert_true(lc_closed(c));
	lc_free(&c);
	ts.st.reject = false;
	ts_stop(&ts);
}

/* A client that sends one endless line is cut off with the protocol's
 * error; a second client carries on throughout. */
static void test_endless_line_and_garbage(void **state)
{
	struct net_listener_config lcfg = {.max_command = 4096};
	struct ts ts;
	ts_start(&ts, NULL, "127.0.0.1:0", &lcfg);
	int port = ts_port(&ts, 0);
	struct lc *other = lc_open("127.0.0.1", port);
	struct lc *bad = lc_open("127.0.0.1", port);
	ping(other);

	int fd = bad->fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	char junk[16384];
	memset(junk, 'x', sizeof(junk));
	size_t sent = 0;
	char reply[256];
	size_t got = 0;
	bool eof = false;
	uint64_t t0 = now_ms();
	while (!eof && now_ms() - t0 < 10000) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN | POLLOUT};
		assert_true(poll(&pfd, 1, 1000) >= 0);
		if (pfd.revents & POLLIN) {
			ssize_t n = recv(fd, reply + got, sizeof(reply) - 1 - got, 0);
			if (n <= 0)
				eof = true;
			else
				got += (size_t)n;
		}
		if (!eof && (pfd.revents & POLLOUT)) {
			ssize_t n = send(fd, junk, sizeof(junk), MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
		}
		if (pfd.revents & (POLLERR | POLLHUP) && !(pfd.revents & POLLIN))
			eof = true;
	}
	assert_true(eof);
	reply[got] = '\0';
	/* The lingering close delivers the reply despite the flood. */
	assert_string_equal(reply, "ERR too long\n");
	assert_true(sent >= 4096);
	assert_int_equal(lp_wait(&ts.st, &ts.st.overflows, 1, 5000), 1);
	lc_free(&bad);
	ping(other);

	/* Garbage: frame() says the input can never be valid. */
	bad = lc_open("127.0.0.1", port);
	assert_int_equal(lc_send(bad, "\xff\xfe garbage\n"), 0);
	expect_line(bad, "ERR too long");
	assert_true(lc_closed(bad));
	lc_free(&bad);
	ping(other);
	assert_int_equal(lp_get(&ts.st, &ts.st.overflows), 2);
	lc_free(&other);
	ts_stop(&ts);
}

/* While a command runs, pipelined input is not read without bound: the
 * server stops reading at max_command and TCP pushes back on the client. */
static void test_flood_is_throttled(void **state)
{
	struct net_listener_config lcfg = {.max_command = 8192};
	struct ts ts;
	ts_start(&ts, NULL, "127.0.0.1:0", &lcfg);
	struct lc *c = lc_open("127.0.0.1", ts_port(&ts, 0));
	assert_int_equal(lc_send(c, "SLOW 400\n"), 0);
	assert_int_equal(lp_wait(&ts.st, &ts.st.slow_started, 1, 5000), 1);

	size_t cmd_len = 4000;
	char *cmd = xmalloc(cmd_len + 1);
	memcpy(cmd, "ECHO ", 5);
	memset(cmd + 5, 'z', cmd_len - 6);
	cmd[cmd_len - 1] = '\n';
	cmd[cmd_len] = '\0';
	int fd = c->fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	const size_t cap = 64u * 1024 * 1024;
	size_t sent = 0;
	size_t partial = 0; /* bytes of the current command already sent */
	bool blocked = false;
	while (sent < cap) {
		ssize_t n = send(fd, cmd + partial, cmd_len - partial, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			if (poll(&pfd, 1, 100) == 0) {
				blocked = true;
				break;
			}
			continue;
		}
		assert_true(n > 0);
		sent += (size_t)n;
		partial = (partial + (size_t)n) % cmd_len;
	}
	/* Without throttling the server would have swallowed all 64 MiB in
	 * a few milliseconds; kernel buffers hold a few MiB at most. */
	assert_true(blocked);
	assert_true(sent < cap);
	/* Finish the last command, then read every answer. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (partial > 0) {
		assert_int_equal(lc_send_raw(c, cmd + partial, cmd_len - partial), 0);
		sent += cmd_len - partial;
	}
	size_t n_cmds = sent / cmd_len;
	expect_line(c, "SLOW done");
	for (size_t i = 0; i < n_cmds; i++) {
		const char *l = lc_line(c);
		assert_non_null(l);
		assert_int_equal(strlen(l), cmd_len - 6);
	}
	ping(c);
	free(cmd);
	lc_free(&c);
	ts_stop(&ts);
}

static void test_connection_limits(void **state)
{
	struct net_server_config cfg = {.event_threads = 2, .worker_threads = 2,
		.max_conns_per_ip = 3, .max_connections = 5};
	struct ts ts;
	ts_start(&ts, &cfg, "*:0", NULL);
	int port = ts_port(&ts, 0);
	struct lc *c[6];
	for (int i = 0; i < 3; i++)
		c[i] = lc_open("127.0.0.1", port);
	/* The fourth from 127.0.0.1 is closed at once, without a greeting. */
	struct lc *x = lc_new();
	assert_int_equal(lc_connect(x, "127.0.0.1", port), 0);
	assert_true(lc_closed(x));
	lc_free(&x);
	/* ::1 is another client. */
	c[3] = lc_open("::1", port);
	c[4] = lc_open("::1", port);
	/* Five in all: the global limit. */
	x = lc_new();
	assert_int_equal(lc_connect(x, "::1", port), 0);
	assert_true(lc_closed(x));
	lc_free(&x);
	for (int i = 0; i < 5; i++)
		ping(c[i]);
	/* A slot frees when a connection is gone: on_close has run, and the
	 * loop releases the slot right after it. */
	lc_free(&c[0]);
	assert_int_equal(lp_wait(&ts.st, &ts.st.closes, 1, 5000), 1);
	c[0] = NULL;
	for (int tries = 0; tries < 500 && c[0] == NULL; tries++) {
		x = lc_new();
		assert_int_equal(lc_connect(x, "127.0.0.1", port), 0);
		const char *l = lc_line(x);
		if (l != NULL) {
			assert_true(strncmp(l, "HELLO ", 6) == 0);
			c[0] = x;
		} else {
			lc_free(&x);
			usleep(10000);
		}
	}
	assert_non_null(c[0]);
	ping(c[0]);
	for (int i = 0; i < 5; i++)
		lc_free(&c[i]);
	ts_stop(&ts);
}

static void test_idle_timeout(void **state)
{
	struct net_listener_config lcfg = {.idle_timeout_s = 1};
	struct ts ts;
	ts_start(&ts, NULL, "127.0.0.1:0", &lcfg);
	int port = ts_port(&ts, 0);
	uint64_t t0 = now_ms();
	struct lc *idle = lc_open("127.0.0.1", port);
	struct lc *busy = lc_open("127.0.0.1", port);
	struct lc *longer = lc_open("127.0.0.1", port);
	/* A job longer than the timeout does not count as idle. */
	assert_int_equal(lc_send(busy, "SLOW 1500\n"), 0);
	assert_int_equal(lc_send(longer, "TIMEOUT 3\n"), 0);
	expect_line(longer, "OK");
	expect_line(idle, "ERR idle timeout");
	assert_true(lc_closed(idle));
	uint64_t t1 = now_ms() - t0;
	assert_true(t1 >= 900 && t1 < 3000);
	expect_line(busy, "SLOW done");
	ping(busy);
	/* A connection whose timeout was raised outlives the default. */
	ping(longer);
	assert_int_equal(lp_get(&ts.st, &ts.st.timeouts), 1);
	lc_free(&idle);
	lc_free(&busy);
	lc_free(&longer);
	ts_stop(&ts);
}

/* A command in flight at shutdown finishes and its reply arrives before
 * the goodbye and the close; idle connections get the goodbye. */
static void test_shutdown_with_command_in_flight(void **state)
{
	struct ts ts;
	ts_start(&ts, NULL, "127.0.0.1:0", NULL);
	int port = ts_port(&ts, 0);
	struct lc *a = lc_open("127.0.0.1", port);
	struct lc *b = lc_open("127.0.0.1", port);
	assert_int_equal(lc_send(a, "SLOW 300\nPING\n"), 0);
	assert_int_equal(lp_wait(&ts.st, &ts.st.slow_started, 1, 5000), 1);
	net_server_shutdown(ts.srv);
	net_server_shutdown(ts.srv); /* twice is harmless */
	expect_line(b, "BYE shutting down");
	assert_true(lc_closed(b));
	expect_line(a, "SLOW done");
	/* The pipelined PING is dropped: shutdown comes first. */
	expect_line(a, "BYE shutting down");
	assert_true(lc_closed(a));
	/* The dropped PING makes the server linger on a (so that a reset
	 * cannot destroy the replies); clients that close end it. */
	uint64_t t0 = now_ms();
	lc_free(&a);
	lc_free(&b);
	pthread_join(ts.thread, NULL);
	ts.running = false;
	assert_true(now_ms() - t0 < 1000);
	assert_int_equal(ts.result, 0);
	assert_int_equal(lp_get(&ts.st, &ts.st.shutdowns), 2);
	assert_int_equal(lp_get(&ts.st, &ts.st.closes), 2);
	/* Nothing listens any more. */
	struct lc *c = lc_new();
	assert_int_equal(lc_connect(c, "127.0.0.1", port), -1);
	lc_free(&c);
	ts_stop(&ts);
}

/* A command that outlives the grace period: its socket is cut when the
 * period ends, and run returns once the handler has returned. */
static void test_shutdown_grace_period(void **state)
{
	struct net_server_config cfg = {.event_threads = 1, .worker_threads = 2,
		.shutdown_grace_ms = 200};
	struct ts ts;
	ts_start(&ts, &cfg, "127.0.0.1:0", NULL);
	struct lc *a = lc_open("127.0.0.1", ts_port(&ts, 0));
	assert_int_equal(lc_send(a, "SLOW 1200\n"), 0);
	assert_int_equal(lp_wait(&ts.st, &ts.st.slow_started, 1, 5000), 1);
	uint64_t t0 = now_ms();
	net_server_shutdown(ts.srv);
	assert_true(lc_closed(a));
	uint64_t cut = now_ms() - t0;
	assert_true(cut >= 150 && cut < 1000);
	pthread_join(ts.thread, NULL);
	ts.running = false;
	assert_int_equal(ts.result, 0);
	assert_true(now_ms() - t0 >= 1000);
	/* The handler's write after the cut failed. */
	assert_int_equal(lp_get(&ts.st, &ts.st.slow_finished), 1);
	assert_int_equal(lp_get(&ts.st, &ts.st.write_failures), 1);
	lc_free(&a);
	ts_stop(&ts);
}

/* SIGTERM with catch_signals: the same clean shutdown; afterwards the
 * signal's previous disposition is back. */
static void test_sigterm(void **state)
{
	struct ts ts;
	ts.catch_signals = true;
	ts_start_ex(&ts, NULL, "127.0.0.1:0", NULL);
	/* A greeting proves run has installed its handlers (before it
	 * started the threads that greet). */
	struct lc *c = lc_open("127.0.0.1", ts_port(&ts, 0));
	assert_int_equal(lc_send(c, "SLOW 100\n"), 0);
	assert_int_equal(lp_wait(&ts.st, &ts.st.slow_started, 1, 5000), 1);
	assert_int_equal(kill(getpid(), SIGTERM), 0);
	expect_line(c, "SLOW done");
	expect_line(c, "BYE shutting down");
	assert_true(lc_closed(c));
	pthread_join(ts.thread, NULL);
	ts.running = false;
	assert_int_equal(ts.result, 0);
	struct sigaction sa;
	assert_int_equal(sigaction(SIGTERM, NULL, &sa), 0);
	assert_true(sa.sa_handler == SIG_DFL);
	lc_free(&c);
	ts_stop(&ts);
}

static int submitted;
static pthread_mutex_t submitted_mtx = PTHREAD_MUTEX_INITIALIZER;

static void bg_job(void *ctx)
{
	pthread_mutex_lock(&submitted_mtx);
	submitted += *(int *)ctx;
	pthread_mutex_unlock(&submitted_mtx);
}

static void test_submit(void **state)
{
	struct net_server_config cfg = {.event_threads = 1, .worker_threads = 3};
	const char *error;
	struct net_server *srv = net_server_new(&cfg, &error);
	int one = 1, ten = 10;
	submitted = 0;
	/* Before run: queued, run once the workers start or at the stop. */
	for (int i = 0; i < 50; i++)
		net_server_submit(srv, bg_job, &one);
	net_server_shutdown(srv);
	assert_int_equal(net_server_run(srv, false), 0);
	assert_int_equal(submitted, 50);
	/* After run: on the calling thread. */
	net_server_submit(srv, bg_job, &ten);
	assert_int_equal(submitted, 60);
	net_server_free(&srv);
}

static void test_frame_line(void **state)
{
	const unsigned char *d = (const unsigned char *)"ab\ncd\n";
	assert_int_equal(net_frame_line(d, 0), 0);
	assert_int_equal(net_frame_line(d, 2), 0);
	assert_int_equal(net_frame_line(d, 3), 3);
	assert_int_equal(net_frame_line(d, 6), 3);
	assert_int_equal(net_frame_line((const unsigned char *)"\n", 1), 1);
	assert_int_equal(net_frame_line((const unsigned char *)"a\0b\n", 4), 4);
	assert_int_equal(net_frame_line((const unsigned char *)"\r", 1), 0);
}

int main(void)
{
	/* NET_TEST_DEBUG=1: the server's debug log on stderr. */
	log_set_level(getenv("NET_TEST_DEBUG") != NULL ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_line),
		cmocka_unit_test(test_ipv4_basics),
		cmocka_unit_test(test_ipv6_and_any),
		cmocka_unit_test(test_listen_errors),
		cmocka_unit_test(test_shutdown_before_run_and_listen_while_running),
		cmocka_unit_test(test_pipelining_and_serialization),
		cmocka_unit_test(test_posts_from_other_threads),
		cmocka_unit_test(test_close_pause_flush_max),
		cmocka_unit_test(test_endless_line_and_garbage),
		cmocka_unit_test(test_flood_is_throttled),
		cmocka_unit_test(test_connection_limits),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test(test_shutdown_with_command_in_flight),
		cmocka_unit_test(test_shutdown_grace_period),
		cmocka_unit_test(test_sigterm),
		cmocka_unit_test(test_submit),
	};
	return cmocka_run_group_tests_name("net-server", tests, NULL, NULL);
}
