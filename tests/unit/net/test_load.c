/* src/net under load: many concurrent idle connections (plain and TLS,
 * with the memory each one costs), back-pressure with a slow reader, and
 * a reader that stops reading altogether.
 *
 * The clients of the idle test run in a forked child so that the parent's
 * memory figures are the server's alone. NET_TEST_CONNS overrides the
 * number of connections (default 1000). Figures are printed as TAP
 * comments ("# net: ..."). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "core/log.h"
#include "core/xalloc.h"
#include "lineproto.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define HIGH_WATER (1024 * 1024)

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
}

static unsigned n_conns(void)
{
	const char *s = getenv("NET_TEST_CONNS");
	unsigned n = s != NULL ? (unsigned)strtoul(s, NULL, 10) : 0;
	return n > 0 ? n : 1000;
}

/* --- The child: many clients holding idle connections --- */

struct cconn {
	int fd;
	SSL *ssl;
};

static int cconn_read_line(struct cconn *c, char *buf, size_t size)
{
	size_t n = 0;
	while (n + 1 < size) {
		int r;
		if (c->ssl != NULL)
			r = SSL_read(c->ssl, buf + n, 1);
		else
			r = (int)recv(c->fd, buf + n, 1, 0);
		if (r <= 0)
			return -1;
		if (buf[n++] == '\n') {
			buf[n] = '\0';
			return 0;
		}
	}
	return -1;
}

static int cconn_write(struct cconn *c, const char *s)
{
	int len = (int)strlen(s);
	if (c->ssl != NULL)
		return SSL_write(c->ssl, s, len) == len ? 0 : -1;
	return send(c->fd, s, (size_t)len, MSG_NOSIGNAL) == len ? 0 : -1;
}

/* Protocol with the parent over two pipes: the child writes 'R' when all
 * connections are greeted, waits for 'G', pings all, writes 'O' (all
 * answered) or 'F', waits for 'X', closes everything. */
static void child_main(int port, unsigned n, bool tls, int rd, int wr)
{
	struct cconn *cs = calloc(n, sizeof(*cs));
	SSL_CTX *cctx = NULL;
	if (tls) {
		cctx = SSL_CTX_new(TLS_client_method());
		SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
	}
	char line[128], c;
	bool ok = cs != NULL;
	for (unsigned i = 0; ok && i < n; i++) {
		struct cconn *cc = &cs[i];
		cc->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
			.sin_addr.s_addr = htonl(0x7f000001)};
		struct timeval tv = {20, 0};
		setsockopt(cc->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (cc->fd < 0 || connect(cc->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
			ok = false;
			break;
		}
		if (tls) {
			cc->ssl = SSL_new(cctx);
			SSL_set_fd(cc->ssl, cc->fd);
			if (SSL_connect(cc->ssl) != 1) {
				ok = false;
				break;
			}
		}
		if (cconn_read_line(cc, line, sizeof(line)) < 0 || strncmp(line, "HELLO ", 6) != 0)
			ok = false;
	}
	if (write(wr, ok ? "R" : "F", 1) != 1 || !ok)
		_exit(1);
	if (read(rd, &c, 1) != 1)
		_exit(1);
	/* Every idle connection is still served. */
	for (unsigned i = 0; ok && i < n; i++)
		ok = cconn_write(&cs[i], "PING\n") == 0;
	for (unsigned i = 0; ok && i < n; i++)
		ok = cconn_read_line(&cs[i], line, sizeof(line)) == 0 && strcmp(line, "PONG\n") == 0;
	if (write(wr, ok ? "O" : "F", 1) != 1)
		_exit(1);
	if (read(rd, &c, 1) != 1)
		_exit(1);
	for (unsigned i = 0; i < n; i++) {
		if (cs[i].ssl != NULL)
			SSL_free(cs[i].ssl);
		if (cs[i].fd > 0)
			close(cs[i].fd);
	}
	_exit(ok ? 0 : 1);
}

static void idle_connections(bool tls)
{
	unsigned long limit = 0;
	assert_int_equal(net_raise_fd_limit(&limit), 0);
	unsigned n = n_conns();
	/* The server's descriptors plus some; the clients are in the child. */
	if (limit < n + 100)
		skip();

	char dir[64];
	SSL_CTX *sctx = tls ? tls_test_ctx(dir, sizeof(dir)) : NULL;
	struct net_server_config cfg = {.event_threads = 2, .worker_threads = 4,
		.max_connections = n + 10};
	struct net_listener_config lcfg = {.implicit_tls = tls, .tls = sctx};
	struct ts ts;
	ts_start(&ts, &cfg, "127.0.0.1:0", &lcfg);
	if (sctx != NULL)
		SSL_CTX_free(sctx);
	int port = ts_port(&ts, 0);

	/* Warm up (threads' first allocations, TLS tables), then measure. */
	struct lc *w = xcalloc(1, sizeof(*w));
	assert_int_equal(lc_connect(w, "127.0.0.1", port), 0);
	SSL_CTX *wctx = tls ? lc_tls_ctx() : NULL;
	if (tls)
		assert_int_equal(lc_tls(w, wctx), 0);
	assert_non_null(lc_line(w));
	assert_int_equal(lc_send(w, "PING\n"), 0);
	assert_non_null(lc_line(w));
	size_t rss0 = proc_rss(), heap0 = proc_heap();

	int to_child[2], from_child[2];
	assert_int_equal(pipe(to_child), 0);
	assert_int_equal(pipe(from_child), 0);
	uint64_t t0 = now_ms();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(to_child[1]);
		close(from_child[0]);
		child_main(port, n, tls, to_child[0], from_child[1]);
	}
	close(to_child[0]);
	close(from_child[1]);
	char c = 0;
	assert_int_equal(read(from_child[0], &c, 1), 1);
	assert_int_equal(c, 'R');
	uint64_t t_connect = now_ms() - t0;
	/* All greeted: the on_connect jobs are done; let the loops settle. */
	assert_int_equal(lp_wait(&ts.st, &ts.st.connects, (int)n + 1, 10000), (int)n + 1);
	size_t rss1 = proc_rss(), heap1 = proc_heap();
	assert_int_equal(write(to_child[1], "G", 1), 1);
	assert_int_equal(read(from_child[0], &c, 1), 1);
	assert_int_equal(c, 'O');
	assert_int_equal(write(to_child[1], "X", 1), 1);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(to_child[1]);
	close(from_child[0]);
	assert_int_equal(lp_wait(&ts.st, &ts.st.closes, (int)n, 20000), (int)n);

	double heap_per = heap1 > heap0 ? (double)(heap1 - heap0) / n : 0;
	double rss_per = rss1 > rss0 ? (double)(rss1 - rss0) / n : 0;
	printf("# net: %u idle %s connections held, connected+greeted in %llu ms; "
	       "per connection: heap %.0f B, RSS %.0f B%s\n",
		n, tls ? "TLS" : "plain", (unsigned long long)t_connect, heap_per, rss_per,
		UNDER_ASAN ? " (ASan build: not representative)" : "");
	if (!UNDER_ASAN) {
		/* Generous ceilings that still catch a per-connection buffer or
		 * pool left allocated while idle. */
		assert_true(heap_per < (tls ? 48.0 : 8.0) * 1024);
	}
	assert_int_equal(lc_send(w, "QUIT\n"), 0);
	lc_close(w);
	free(w);
	if (wctx != NULL)
		SSL_CTX_free(wctx);
	ts_stop(&ts);
	if (tls)
		tls_test_cleanup(dir);
}

static void test_idle_plain(void **state)
{
	idle_connections(false);
}

static void test_idle_tls(void **state)
{
	idle_connections(true);
}

/* --- Back-pressure --- */

enum bp_mode { BP_PLAIN, BP_TLS, BP_STARTTLS };

static void backpressure(enum bp_mode mode, size_t total)
{
	char dir[64];
	SSL_CTX *sctx = mode != BP_PLAIN ? tls_test_ctx(dir, sizeof(dir)) : NULL;
	struct net_server_config cfg = {.event_threads = 1, .worker_threads = 2,
		.output_high_water = HIGH_WATER};
	struct net_listener_config lcfg = {.implicit_tls = mode == BP_TLS, .tls = sctx};
	struct ts ts;
	ts_start(&ts, &cfg, "127.0.0.1:0", &lcfg);
	if (sctx != NULL)
		SSL_CTX_free(sctx);
	SSL_CTX *cctx = lc_tls_ctx();
	struct lc *c = xcalloc(1, sizeof(*c));
	assert_int_equal(lc_connect(c, "127.0.0.1", ts_port(&ts, 0)), 0);
	if (mode == BP_TLS)
		assert_int_equal(lc_tls(c, cctx), 0);
	assert_non_null(lc_line(c));
	if (mode == BP_STARTTLS) {
		assert_int_equal(lc_send(c, "STARTTLS\n"), 0);
		assert_non_null(lc_line(c));
		assert_int_equal(lc_tls(c, cctx), 0);
	}
	size_t rss0 = proc_rss();
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "BIG %zu\n", total);
	assert_int_equal(lc_send(c, cmd), 0);
	/* Not reading at all until the server's output has filled up to the
	 * mark (the kernel's socket buffers, a few MiB, are full by then):
	 * the handler must block there, not buffer the whole response. */
	size_t peak_early = 0;
	for (int i = 0; i < 1000 && peak_early < HIGH_WATER / 2; i++) {
		sleep_ms(10);
		pthread_mutex_lock(&ts.st.mtx);
		peak_early = ts.st.peak_pending;
		pthread_mutex_unlock(&ts.st.mtx);
	}
	sleep_ms(50);
	pthread_mutex_lock(&ts.st.mtx);
	peak_early = ts.st.peak_pending;
	pthread_mutex_unlock(&ts.st.mtx);
	/* Then a slow reader: 32 KiB per millisecond at most. */
	unsigned char *chunk = xmalloc(32768);
	size_t got = 0;
	uint64_t t0 = now_ms();
	while (got < total) {
		size_t k = total - got < 32768 ? total - got : 32768;
		assert_int_equal(lc_read_exact(c, chunk, k), 0);
		for (size_t i = 0; i < k; i += 997)
			assert_int_equal(chunk[i], 'a' + (got + i) % 26);
		got += k;
		sleep_ms(1);
	}
	uint64_t t_read = now_ms() - t0;
	const char *l = lc_line(c);
	assert_non_null(l);
	assert_string_equal(l, "");
	l = lc_line(c);
	assert_non_null(l);
	assert_string_equal(l, "BIG done");
	size_t rss1 = proc_rss();
	pthread_mutex_lock(&ts.st.mtx);
	size_t peak = ts.st.peak_pending;
	pthread_mutex_unlock(&ts.st.mtx);
	const char *names[] = {"plain", "TLS", "STARTTLS"};
	printf("# net: back-pressure %s: %zu MiB to a slow reader in %llu ms, high water %d KiB, "
	       "peak buffered output %zu KiB (%zu KiB before the reader started), RSS +%zu KiB\n",
		names[mode], total >> 20, (unsigned long long)t_read, HIGH_WATER / 1024,
		peak / 1024, peak_early / 1024, rss1 > rss0 ? (rss1 - rss0) / 1024 : 0);
	/* The writer blocked at the mark: the output never grew beyond it by
	 * more than one write (64 KiB) plus TLS framing. */
	assert_true(peak <= HIGH_WATER + 64 * 1024 + 16 * 1024);
	assert_true(peak_early >= HIGH_WATER / 2);
	assert_int_equal(lp_get(&ts.st, &ts.st.big_done), 1);
	free(chunk);
	lc_close(c);
	free(c);
	SSL_CTX_free(cctx);
	ts_stop(&ts);
	if (mode != BP_PLAIN)
		tls_test_cleanup(dir);
}

static void test_backpressure_plain(void **state)
{
	backpressure(BP_PLAIN, 32u << 20);
}

static void test_backpressure_tls(void **state)
{
	backpressure(BP_TLS, 16u << 20);
}

static void test_backpressure_starttls(void **state)
{
	backpressure(BP_STARTTLS, 16u << 20);
}

/* A reader that stops reading: after the idle timeout without progress the
 * connection is cut and the blocked writer gets -1. */
static void test_write_timeout(void **state)
{
	struct net_server_config cfg = {.event_threads = 1, .worker_threads = 2,
		.output_high_water = HIGH_WATER};
	struct net_listener_config lcfg = {.idle_timeout_s = 1};
	struct ts ts;
	ts_start(&ts, &cfg, "127.0.0.1:0", &lcfg);
	struct lc *c = xcalloc(1, sizeof(*c));
	assert_int_equal(lc_connect(c, "127.0.0.1", ts_port(&ts, 0)), 0);
	assert_non_null(lc_line(c));
	struct lc *other = xcalloc(1, sizeof(*other));
	assert_int_equal(lc_connect(other, "127.0.0.1", ts_port(&ts, 0)), 0);
	assert_non_null(lc_line(other));
	assert_int_equal(lc_send(other, "TIMEOUT 60\n"), 0);
	assert_non_null(lc_line(other));
	uint64_t t0 = now_ms();
	assert_int_equal(lc_send(c, "BIG 1000000000\n"), 0);
	assert_int_equal(lp_wait(&ts.st, &ts.st.big_failed, 1, 10000), 1);
	uint64_t t = now_ms() - t0;
	assert_true(t >= 1000 && t < 5000);
	assert_int_equal(lp_get(&ts.st, &ts.st.big_done), 0);
	/* The other connection carries on. */
	assert_int_equal(lc_send(other, "PING\n"), 0);
	const char *l = lc_line(other);
	assert_non_null(l);
	assert_string_equal(l, "PONG");
	lc_close(c);
	lc_close(other);
	free(c);
	free(other);
	ts_stop(&ts);
}

int main(void)
{
	/* NET_TEST_DEBUG=1: the server's debug log on stderr. */
	log_set_level(getenv("NET_TEST_DEBUG") != NULL ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_plain),
		cmocka_unit_test(test_idle_tls),
		cmocka_unit_test(test_backpressure_plain),
		cmocka_unit_test(test_backpressure_tls),
		cmocka_unit_test(test_backpressure_starttls),
		cmocka_unit_test(test_write_timeout),
	};
	return cmocka_run_group_tests_name("net-load", tests, NULL, NULL);
}
