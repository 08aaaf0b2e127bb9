#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lineproto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "core/xalloc.h"

/* --- Protocol --- */

struct lp_conn {
	atomic_int active;
	struct lp_stats *st;
	bool pinged; /* a PING was handled: a STORM stops */
	unsigned long storm;
};

static struct lp_stats *lp_st(struct net_conn *conn)
{
	return net_conn_protocol_ctx(conn);
}

static void lp_bump(struct lp_stats *st, int *field)
{
	pthread_mutex_lock(&st->mtx);
	(*field)++;
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->mtx);
}

/* Every job enters and leaves through these: a second job of the same
 * connection running at the same time is a violation. */
void lp_enter(struct net_conn *conn)
{
	struct lp_conn *lc = net_conn_ctx(conn);
	if (lc != NULL && atomic_fetch_add(&lc->active, 1) != 0)
		lp_bump(lc->st, &lc->st->violations);
}

void lp_leave(struct net_conn *conn)
{
	struct lp_conn *lc = net_conn_ctx(conn);
	if (lc != NULL)
		atomic_fetch_sub(&lc->active, 1);
}

static void lp_sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
}

static int lp_on_connect(struct net_conn *conn)
{
	struct lp_stats *st = lp_st(conn);
	struct lp_conn *lc = xcalloc(1, sizeof(*lc));
	lc->st = st;
	net_conn_set_ctx(conn, lc);
	lp_enter(conn);
	lp_bump(st, &st->connects);
	int r = 0;
	if (st->reject) {
		net_conn_write_str(conn, "REJECT\n");
		r = -1;
	} else {
		net_conn_printf(conn, "HELLO %llu\n", (unsigned long long)net_conn_id(conn));
	}
	lp_leave(conn);
	return r;
}

static ssize_t lp_frame(struct net_conn *conn, const unsigned char *data, size_t len)
{
	if (len > 0 && data[0] == 0xFF)
		return -1;
	return net_frame_line(data, len);
}

struct lp_post {
	char text[64];
	struct lp_stats *st;
};

static void lp_post_fn(struct net_conn *conn, void *arg)
{
	struct lp_post *p = arg;
	lp_enter(conn);
	lp_bump(p->st, &p->st->posts_run);
	net_conn_printf(conn, "%s\n", p->text);
	lp_leave(conn);
	free(p);
}

static void lp_post_free(void *arg)
{
	struct lp_post *p = arg;
	lp_bump(p->st, &p->st->posts_freed);
	free(p);
}

static void lp_resume_fn(struct net_conn *conn, void *arg)
{
	lp_enter(conn);
	net_conn_write_str(conn, "RESUMED\n");
	net_conn_resume(conn);
	lp_leave(conn);
	free(arg);
}

/* Re-posts itself at once until a PING has been handled: only a fair
 * choice between posted events and commands ever ends it. */
static void lp_storm_fn(struct net_conn *conn, void *arg)
{
	struct lp_conn *lc = net_conn_ctx(conn);
	lp_enter(conn);
	lc->storm++;
	if (!lc->pinged)
		net_conn_post(conn, 0, lp_storm_fn, NULL, NULL);
	else
		net_conn_printf(conn, "STORM over after %lu\n", lc->storm);
	lp_leave(conn);
}

static void lp_big(struct net_conn *conn, size_t n)
{
	struct lp_stats *st = lp_st(conn);
	unsigned char chunk[16384];
	size_t off = 0;
	bool ok = true;
	while (off < n) {
		size_t k = n - off < sizeof(chunk) ? n - off : sizeof(chunk);
		for (size_t i = 0; i < k; i++)
			chunk[i] = (unsigned char)('a' + (off + i) % 26);
		if (net_conn_write(conn, chunk, k) < 0) {
			ok = false;
			break;
		}
		off += k;
		size_t pending = net_conn_output_pending(conn);
		pthread_mutex_lock(&st->mtx);
		if (pending > st->peak_pending)
			st->peak_pending = pending;
		pthread_mutex_unlock(&st->mtx);
	}
	if (ok && net_conn_write_str(conn, "\nBIG done\n") == 0)
		lp_bump(st, &st->big_done);
	else
		lp_bump(st, &st->big_failed);
}

uint64_t lp_noise_next(uint64_t *x)
{
	/* xorshift64: incompressible test data both sides can regenerate. */
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void lp_noise(struct net_conn *conn, size_t n)
{
	struct lp_stats *st = lp_st(conn);
	unsigned char chunk[16384];
	uint64_t x = LP_NOISE_SEED;
	size_t off = 0;
	bool ok = true;
	while (off < n) {
		size_t k = n - off < sizeof(chunk) ? n - off : sizeof(chunk);
		for (size_t i = 0; i < k; i++)
			chunk[i] = (unsigned char)lp_noise_next(&x);
		if (net_conn_write(conn, chunk, k) < 0) {
			ok = false;
			break;
		}
		off += k;
		size_t pending = net_conn_output_pending(conn);
		pthread_mutex_lock(&st->mtx);
		if (pending > st->peak_pending)
			st->peak_pending = pending;
		pthread_mutex_unlock(&st->mtx);
	}
	if (ok && net_conn_write_str(conn, "\nNOISE done\n") == 0)
		lp_bump(st, &st->big_done);
	else
		lp_bump(st, &st->big_failed);
}

static int lp_on_command(struct net_conn *conn, const unsigned char *data, size_t len)
{
	struct lp_stats *st = lp_st(conn);
	char line[256];
	size_t n = len;
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
		n--;
	lp_enter(conn);
	int ret = 0;
	/* Long lines are echoed whole (ECHO of a raised max_command). */
	if (n >= 5 && memcmp(data, "ECHO ", 5) == 0) {
		if (net_conn_write(conn, data + 5, n - 5) < 0 || net_conn_write_str(conn, "\n") < 0)
			lp_bump(st, &st->write_failures);
		lp_leave(conn);
		return 0;
	}
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	memcpy(line, data, n);
	line[n] = '\0';
	unsigned long arg = 0;
	const char *sp = strchr(line, ' ');
	if (sp != NULL)
		arg = strtoul(sp + 1, NULL, 10);

	if (strcmp(line, "PING") == 0) {
		((struct lp_conn *)net_conn_ctx(conn))->pinged = true;
		net_conn_write_str(conn, "PONG\n");
	} else if (strcmp(line, "STORM") == 0) {
		((struct lp_conn *)net_conn_ctx(conn))->pinged = false;
		net_conn_write_str(conn, "STORMING\n");
		net_conn_post(conn, 0, lp_storm_fn, NULL, NULL);
	} else if (strncmp(line, "SLOW ", 5) == 0) {
		lp_bump(st, &st->slow_started);
		lp_sleep_ms((unsigned)arg);
		if (net_conn_write_str(conn, "SLOW done\n") < 0)
			lp_bump(st, &st->write_failures);
		lp_bump(st, &st->slow_finished);
	} else if (strncmp(line, "BIG ", 4) == 0) {
		lp_big(conn, arg);
	} else if (strncmp(line, "STARTTLS_SLOW ", 14) == 0) {
		/* The reply, the request, then a while before the job ends. */
		net_conn_write_str(conn, "OK begin TLS\n");
		if (net_conn_starttls(conn) != 0)
			lp_bump(st, &st->violations);
		lp_sleep_ms((unsigned)arg);
	} else if (strcmp(line, "STARTTLS") == 0) {
		if (net_conn_tls_available(conn) && !net_conn_is_tls(conn)) {
			net_conn_write_str(conn, "OK begin TLS\n");
			/* cmocka asserts belong to the main thread: count instead. */
			if (net_conn_starttls(conn) != 0)
				lp_bump(st, &st->violations);
		} else {
			net_conn_write_str(conn, "NO\n");
			if (net_conn_starttls(conn) != -1)
				lp_bump(st, &st->violations);
		}
	} else if (strcmp(line, "COMPRESS") == 0) {
		if (!net_conn_is_compressed(conn)) {
			net_conn_write_str(conn, "OK compress\n");
			if (net_conn_compress(conn, 6) != 0 || !net_conn_is_compressed(conn))
				lp_bump(st, &st->violations);
		} else {
			net_conn_write_str(conn, "NO\n");
			if (net_conn_compress(conn, 6) != -1)
				lp_bump(st, &st->violations);
		}
	} else if (strncmp(line, "NOISE ", 6) == 0) {
		lp_noise(conn, arg);
	} else if (strcmp(line, "ISTLS") == 0) {
		net_conn_printf(conn, "tls=%d\n", net_conn_is_tls(conn) ? 1 : 0);
	} else if (strncmp(line, "POST ", 5) == 0) {
		struct lp_post *p = xcalloc(1, sizeof(*p));
		snprintf(p->text, sizeof(p->text), "EVENT %lu", arg);
		p->st = st;
		net_conn_write_str(conn, "POSTED\n");
		net_conn_post(conn, (unsigned)arg, lp_post_fn, p, lp_post_free);
	} else if (strncmp(line, "PAUSE ", 6) == 0) {
		net_conn_pause(conn);
		net_conn_write_str(conn, "PAUSED\n");
		net_conn_post(conn, (unsigned)arg, lp_resume_fn, xcalloc(1, 1), free);
	} else if (strcmp(line, "CLOSE") == 0) {
		net_conn_write_str(conn, "CLOSING\n");
		net_conn_close(conn);
	} else if (strcmp(line, "QUIT") == 0) {
		net_conn_write_str(conn, "BYE\n");
		ret = -1;
	} else if (strcmp(line, "INFO") == 0) {
		net_conn_printf(conn, "id=%llu ip=%s peer=%s local=%s session=%s\n",
			(unsigned long long)net_conn_id(conn), net_conn_peer_ip(conn),
			net_conn_peer(conn), net_conn_local(conn), net_conn_log(conn)->session);
		net_conn_ref(conn);
		pthread_mutex_lock(&st->mtx);
		struct net_conn *old = st->last_conn;
		st->last_conn = conn;
		pthread_mutex_unlock(&st->mtx);
		net_conn_unref(&old);
	} else if (strncmp(line, "MAX ", 4) == 0) {
		net_conn_set_max_command(conn, arg);
		net_conn_write_str(conn, "OK\n");
	} else if (strncmp(line, "TIMEOUT ", 8) == 0) {
		net_conn_set_idle_timeout(conn, (unsigned)arg);
		net_conn_write_str(conn, "OK\n");
	} else if (strncmp(line, "FLUSH ", 6) == 0) {
		net_conn_write_str(conn, "FIRST\n");
		net_conn_flush(conn);
		lp_sleep_ms((unsigned)arg);
		net_conn_write_str(conn, "SECOND\n");
	} else {
		net_conn_write_str(conn, "ERR unknown\n");
	}
	lp_leave(conn);
	return ret;
}

static void lp_on_overflow(struct net_conn *conn)
{
	struct lp_stats *st = lp_st(conn);
	lp_enter(conn);
	net_conn_write_str(conn, "ERR too long\n");
	lp_bump(st, &st->overflows);
	lp_leave(conn);
}

static void lp_on_timeout(struct net_conn *conn)
{
	struct lp_stats *st = lp_st(conn);
	lp_enter(conn);
	net_conn_write_str(conn, "ERR idle timeout\n");
	lp_bump(st, &st->timeouts);
	lp_leave(conn);
}

static void lp_on_shutdown(struct net_conn *conn)
{
	struct lp_stats *st = lp_st(conn);
	lp_enter(conn);
	net_conn_write_str(conn, "BYE shutting down\n");
	lp_bump(st, &st->shutdowns);
	lp_leave(conn);
}

static void lp_on_close(struct net_conn *conn)
{
	struct lp_stats *st = lp_st(conn);
	struct lp_conn *lc = net_conn_ctx(conn);
	if (lc != NULL && atomic_load(&lc->active) != 0)
		lp_bump(st, &st->violations);
	free(lc);
	net_conn_set_ctx(conn, NULL);
	lp_bump(st, &st->closes);
}

const struct net_protocol lp_protocol = {
	.name = "line",
	.on_connect = lp_on_connect,
	.frame = lp_frame,
	.on_command = lp_on_command,
	.on_overflow = lp_on_overflow,
	.on_timeout = lp_on_timeout,
	.on_shutdown = lp_on_shutdown,
	.on_close = lp_on_close,
};

void lp_stats_init(struct lp_stats *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_init(&st->mtx, NULL);
	pthread_cond_init(&st->cond, NULL);
}

void lp_stats_deinit(struct lp_stats *st)
{
	net_conn_unref(&st->last_conn);
	pthread_mutex_destroy(&st->mtx);
	pthread_cond_destroy(&st->cond);
}

int lp_wait(struct lp_stats *st, const int *field, int value, int timeout_ms)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&st->mtx);
	while (*field < value) {
		if (pthread_cond_timedwait(&st->cond, &st->mtx, &deadline) == ETIMEDOUT)
			break;
	}
	int v = *field;
	pthread_mutex_unlock(&st->mtx);
	return v;
}

int lp_get(struct lp_stats *st, const int *field)
{
	pthread_mutex_lock(&st->mtx);
	int v = *field;
	pthread_mutex_unlock(&st->mtx);
	return v;
}

/* --- Server harness --- */

static void *ts_main(void *arg)
{
	struct ts *ts = arg;
	ts->result = net_server_run(ts->srv, ts->catch_signals);
	return NULL;
}

void ts_start(struct ts *ts, const struct net_server_config *cfg, const char *address,
	const struct net_listener_config *lcfg)
{
	ts->catch_signals = false;
	ts_start_ex(ts, cfg, address, lcfg);
}

void ts_start_ex(struct ts *ts, const struct net_server_config *cfg, const char *address,
	const struct net_listener_config *lcfg)
{
	struct net_server_config def = {.event_threads = 2, .worker_threads = 4};
	const char *error = NULL;
	bool catch_signals = ts->catch_signals;
	memset(ts, 0, sizeof(*ts));
	ts->catch_signals = catch_signals;
	lp_stats_init(&ts->st);
	ts->srv = net_server_new(cfg != NULL ? cfg : &def, &error);
	assert_non_null(ts->srv);
	struct net_listener_config l = {0};
	if (lcfg != NULL)
		l = *lcfg;
	l.address = address;
	l.protocol = &lp_protocol;
	l.protocol_ctx = &ts->st;
	if (net_server_listen(ts->srv, &l, &error) < 0)
		fail_msg("listen %s: %s", address, error);
	assert_int_equal(pthread_create(&ts->thread, NULL, ts_main, ts), 0);
	ts->running = true;
}

int ts_port(struct ts *ts, unsigned n)
{
	int port = net_server_listener_port(ts->srv, n);
	assert_true(port > 0);
	return port;
}

void ts_stop(struct ts *ts)
{
	if (ts->running) {
		net_server_shutdown(ts->srv);
		pthread_join(ts->thread, NULL);
		ts->running = false;
		assert_int_equal(ts->result, 0);
	}
	/* Every connection that was set up got its on_close. */
	assert_int_equal(lp_get(&ts->st, &ts->st.closes), lp_get(&ts->st, &ts->st.connects));
	assert_int_equal(lp_get(&ts->st, &ts->st.violations), 0);
	net_server_free(&ts->srv);
	lp_stats_deinit(&ts->st);
}

/* --- Client --- */

int lc_connect(struct lc *c, const char *ip, int port)
{
	memset(c, 0, offsetof(struct lc, buf));
	c->len = 0;
	c->fd = -1;
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, ip, &s6->sin6_addr) != 1)
			return -1;
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, ip, &s4->sin_addr) != 1)
			return -1;
		sl = sizeof(*s4);
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = {10, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		close(fd);
		return -1;
	}
	c->fd = fd;
	return 0;
}

int lc_tls(struct lc *c, SSL_CTX *cctx)
{
	c->ssl = SSL_new(cctx);
	SSL_set_fd(c->ssl, c->fd);
	SSL_set_tlsext_host_name(c->ssl, "localhost");
	if (SSL_connect(c->ssl) != 1) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

int lc_send_raw(struct lc *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	while (len > 0) {
		ssize_t n;
		if (c->ssl != NULL) {
			int r = SSL_write(c->ssl, p, len > INT32_MAX ? INT32_MAX : (int)len);
			n = r > 0 ? r : -1;
		} else {
			n = send(c->fd, p, len, MSG_NOSIGNAL);
		}
		if (n < 0 && errno == EINTR && c->ssl == NULL)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int lc_send(struct lc *c, const char *s)
{
	return lc_send_raw(c, s, strlen(s));
}

/* Reads more into buf; returns bytes read, 0 at EOF, -1 on error (a
 * reset counts as the server closing), -2 when the receive timeout (10 s)
 * passed: the server did not answer and did not close. */
static ssize_t lc_fill(struct lc *c)
{
	if (c->len == sizeof(c->buf))
		return -1;
	for (;;) {
		ssize_t n;
		errno = 0;
		if (c->ssl != NULL) {
			int r = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len));
			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);
				ERR_clear_error();
				if (e == SSL_ERROR_ZERO_RETURN)
					return 0;
				if ((e == SSL_ERROR_SYSCALL || e == SSL_ERROR_WANT_READ) &&
					(errno == EAGAIN || errno == EWOULDBLOCK))
					return -2;
				return -1;
			}
			n = r;
		} else {
			n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return -2;
		}
		if (n > 0)
			c->len += (size_t)n;
		return n;
	}
}

const char *lc_line(struct lc *c)
{
	for (;;) {
		unsigned char *lf = memchr(c->buf, '\n', c->len);
		if (lf != NULL) {
			size_t n = (size_t)(lf - c->buf);
			memcpy(c->line, c->buf, n);
			c->line[n] = '\0';
			memmove(c->buf, lf + 1, c->len - n - 1);
			c->len -= n + 1;
			return c->line;
		}
		if (lc_fill(c) <= 0)
			return NULL;
	}
}

int lc_read_exact(struct lc *c, void *dst, size_t n)
{
	unsigned char *d = dst;
	while (n > 0) {
		if (c->len == 0 && lc_fill(c) <= 0)
			return -1;
		size_t k = c->len < n ? c->len : n;
		if (d != NULL) {
			memcpy(d, c->buf, k);
			d += k;
		}
		memmove(c->buf, c->buf + k, c->len - k);
		c->len -= k;
		n -= k;
	}
	return 0;
}

bool lc_closed(struct lc *c)
{
	if (c->len > 0)
		return false;
	ssize_t r = lc_fill(c);
	return r == 0 || r == -1;
}

void lc_close(struct lc *c)
{
	if (c->ssl != NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

SSL_CTX *lc_tls_ctx(void)
{
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(cctx);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
	return cctx;
}

SSL_CTX *tls_test_ctx(char *dir, size_t dir_size)
{
	snprintf(dir, dir_size, "/tmp/hermod-net-tls-XXXXXX");
	assert_non_null(mkdtemp(dir));
	char cert[512], key[512];
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	const char *error = NULL;
	if (net_tls_selfsigned_ensure(cert, key, "mail.example.test", &error) < 0)
		fail_msg("selfsigned: %s", error);
	SSL_CTX *ctx = net_tls_server_ctx(cert, key, &error);
	if (ctx == NULL)
		fail_msg("server ctx: %s", error);
	return ctx;
}

static int tls_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

void tls_test_cleanup(const char *dir)
{
	nftw(dir, tls_rm, 8, FTW_DEPTH | FTW_PHYS);
}

size_t proc_rss(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	if (f == NULL)
		return 0;
	unsigned long size = 0, resident = 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

size_t proc_heap(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}
