/* net_conn_compress: raw deflate both ways after a command's reply, over
 * plain TCP and TLS; input pipelined after the command is inflated;
 * back-pressure counts compressed output (incompressible data to a slow
 * reader); the command limit counts inflated input (a compression bomb
 * is an overflow, not a big buffer); corrupt input closes; a second
 * COMPRESS and STARTTLS after it are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lineproto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "core/xalloc.h"

#define HIGH_WATER (256 * 1024)

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* A compressing client over struct lc. */
struct zc {
	struct lc c;
	z_stream def, inf;
	unsigned char *in; /* inflated, not yet taken */
	size_t in_len, in_cap;
	char line[65536];
};

static struct zc *zc_new(void)
{
	struct zc *z = xcalloc(1, sizeof(*z));
	assert_int_equal(deflateInit2(&z->def, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	assert_int_equal(inflateInit2(&z->inf, -15), Z_OK);
	z->in_cap = 1 << 20;
	z->in = xmalloc(z->in_cap);
	return z;
}

static void zc_free(struct zc *z)
{
	deflateEnd(&z->def);
	inflateEnd(&z->inf);
	lc_close(&z->c);
	free(z->in);
	free(z);
}

/* The deflated form of data, sync-flushed (into a static buffer). */
static size_t zc_deflate(struct zc *z, const void *data, size_t len, unsigned char **out)
{
	static unsigned char buf[1 << 20];
	z->def.next_in = (unsigned char *)data;
	z->def.avail_in = (uInt)len;
	z->def.next_out = buf;
	z->def.avail_out = sizeof(buf);
	assert_int_equal(deflate(&z->def, Z_SYNC_FLUSH), Z_OK);
	assert_int_equal(z->def.avail_in, 0);
	*out = buf;
	return sizeof(buf) - z->def.avail_out;
}

static int zc_send(struct zc *z, const char *s)
{
	unsigned char *out;
	size_t n = zc_deflate(z, s, strlen(s), &out);
	return lc_send_raw(&z->c, out, n);
}

/* Inflates more input; -1 at EOF or error. */
static int zc_fill(struct zc *z)
{
	unsigned char one;
	unsigned char *raw;
	size_t n;
	if (z->c.len == 0) {
		if (lc_read_exact(&z->c, &one, 1) < 0)
			return -1;
		raw = &one;
		n = 1;
	} else {
		raw = z->c.buf;
		n = z->c.len;
	}
	z->inf.next_in = raw;
	z->inf.avail_in = (uInt)n;
	while (z->inf.avail_in > 0) {
		if (z->in_len == z->in_cap)
			return -1;
		z->inf.next_out = z->in + z->in_len;
		z->inf.avail_out = (uInt)(z->in_cap - z->in_len);
		int r = inflate(&z->inf, Z_SYNC_FLUSH);
		if (r != Z_OK && r != Z_BUF_ERROR)
			return -1;
		z->in_len = z->in_cap - z->inf.avail_out;
		if (r == Z_BUF_ERROR)
			break;
	}
	if (raw == z->c.buf) {
		/* Everything buffered was consumed (the inflater keeps state). */
		z->c.len = 0;
	}
	return 0;
}

static const char *zc_line(struct zc *z)
{
	for (;;) {
		unsigned char *lf = memchr(z->in, '\n', z->in_len);
		if (lf != NULL) {
			size_t n = (size_t)(lf - z->in);
			if (n >= sizeof(z->line))
				n = sizeof(z->line) - 1;
			memcpy(z->line, z->in, n);
			z->line[n] = '\0';
			size_t used = (size_t)(lf - z->in) + 1;
			memmove(z->in, z->in + used, z->in_len - used);
			z->in_len -= used;
			return z->line;
		}
		if (zc_fill(z) < 0)
			return NULL;
	}
}

static int zc_read_exact(struct zc *z, unsigned char *dst, size_t n)
{
	while (n > 0) {
		if (z->in_len == 0 && zc_fill(z) < 0)
			return -1;
		size_t k = z->in_len < n ? z->in_len : n;
		memcpy(dst, z->in, k);
		memmove(z->in, z->in + k, z->in_len - k);
		z->in_len -= k;
		dst += k;
		n -= k;
	}
	return 0;
}

enum mode { M_PLAIN, M_TLS };

struct setup {
	struct ts ts;
	SSL_CTX *sctx, *cctx;
	char dir[256];
};

static void start(struct setup *su, enum mode mode, size_t max_command)
{
	memset(su, 0, sizeof(*su));
	struct net_server_config cfg = {.output_high_water = HIGH_WATER};
	struct net_listener_config lcfg = {.max_command = max_command};
	if (mode == M_TLS) {
		su->sctx = tls_test_ctx(su->dir, sizeof(su->dir));
		lcfg.tls = su->sctx;
		lcfg.implicit_tls = true;
		su->cctx = lc_tls_ctx();
	}
	ts_start(&su->ts, &cfg, "127.0.0.1:0", &lcfg);
}

static void stop(struct setup *su)
{
	ts_stop(&su->ts);
	if (su->sctx != NULL) {
		SSL_CTX_free(su->sctx);
		SSL_CTX_free(su->cctx);
		tls_test_cleanup(su->dir);
	}
}

/* Connects and turns compression on; with pipelined, a compressed PING is
 * sent in the same write as COMPRESS. */
static struct zc *connect_compressed(struct setup *su, bool pipelined)
{
	struct zc *z = zc_new();
	assert_int_equal(lc_connect(&z->c, "127.0.0.1", ts_port(&su->ts, 0)), 0);
	if (su->cctx != NULL)
		assert_int_equal(lc_tls(&z->c, su->cctx), 0);
	const char *hello = lc_line(&z->c);
	assert_non_null(hello);
	assert_memory_equal(hello, "HELLO", 5);
	if (pipelined) {
		unsigned char *out;
		size_t n = zc_deflate(z, "PING\n", 5, &out);
		unsigned char *both = xmalloc(n + 9);
		memcpy(both, "COMPRESS\n", 9);
		memcpy(both + 9, out, n);
		assert_int_equal(lc_send_raw(&z->c, both, n + 9), 0);
		free(both);
	} else {
		assert_int_equal(lc_send(&z->c, "COMPRESS\n"), 0);
	}
	/* The reply to COMPRESS comes uncompressed. */
	const char *l = lc_line(&z->c);
	assert_non_null(l);
	assert_string_equal(l, "OK compress");
	if (pipelined) {
		l = zc_line(z);
		assert_non_null(l);
		assert_string_equal(l, "PONG");
	}
	return z;
}

static void basics(enum mode mode)
{
	struct setup su;
	start(&su, mode, 0);
	for (int pipelined = 0; pipelined < 2; pipelined++) {
		struct zc *z = connect_compressed(&su, pipelined);
		assert_int_equal(zc_send(z, "PING\nECHO hello\n"), 0);
		assert_string_equal(zc_line(z), "PONG");
		assert_string_equal(zc_line(z), "hello");
		assert_int_equal(zc_send(z, "ISTLS\n"), 0);
		assert_string_equal(zc_line(z), mode == M_TLS ? "tls=1" : "tls=0");
		/* Once is enough; STARTTLS is refused under compression. */
		assert_int_equal(zc_send(z, "COMPRESS\n"), 0);
		assert_string_equal(zc_line(z), "NO");
		if (mode == M_PLAIN) {
			assert_int_equal(zc_send(z, "STARTTLS\n"), 0);
			assert_string_equal(zc_line(z), "NO");
		}
		/* A command split across writes, and a long line. */
		char *big = xmalloc(40001);
		memcpy(big, "ECHO ", 5);
		for (int i = 5; i < 40000; i++)
			big[i] = (char)('a' + i % 26);
		big[40000] = '\0';
		assert_int_equal(zc_send(z, big), 0);
		assert_int_equal(zc_send(z, "\n"), 0);
		const char *l = zc_line(z);
		assert_non_null(l);
		assert_string_equal(l, big + 5);
		free(big);
		/* A posted event's output is compressed too. */
		assert_int_equal(zc_send(z, "POST 10\n"), 0);
		assert_string_equal(zc_line(z), "POSTED");
		assert_string_equal(zc_line(z), "EVENT 10");
		zc_free(z);
	}
	assert_int_equal(lp_get(&su.ts.st, &su.ts.st.violations), 0);
	stop(&su);
}

static void test_basics_plain(void **state)
{
	(void)state;
	basics(M_PLAIN);
}

static void test_basics_tls(void **state)
{
	(void)state;
	basics(M_TLS);
}

/* Incompressible output to a reader that does not read, then reads
 * slowly: the writer blocks at the mark, counted in compressed bytes. */
static void backpressure(enum mode mode)
{
	struct setup su;
	start(&su, mode, 0);
	struct zc *z = connect_compressed(&su, false);
	const size_t total = 16u << 20;
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "NOISE %zu\n", total);
	assert_int_equal(zc_send(z, cmd), 0);
	size_t peak_early = 0;
	for (int i = 0; i < 1000 && peak_early < HIGH_WATER / 2; i++) {
		sleep_ms(10);
		pthread_mutex_lock(&su.ts.st.mtx);
		peak_early = su.ts.st.peak_pending;
		pthread_mutex_unlock(&su.ts.st.mtx);
	}
	assert_true(peak_early >= HIGH_WATER / 2);
	uint64_t x = LP_NOISE_SEED;
	unsigned char *chunk = xmalloc(65536);
	size_t got = 0;
	while (got < total) {
		size_t k = total - got < 65536 ? total - got : 65536;
		assert_int_equal(zc_read_exact(z, chunk, k), 0);
		for (size_t i = 0; i < k; i++)
			if (chunk[i] != (unsigned char)lp_noise_next(&x))
				fail_msg("byte %zu differs", got + i);
		got += k;
		if ((got & ((1u << 20) - 1)) == 0)
			sleep_ms(2);
	}
	assert_string_equal(zc_line(z), "");
	assert_string_equal(zc_line(z), "NOISE done");
	pthread_mutex_lock(&su.ts.st.mtx);
	size_t peak = su.ts.st.peak_pending;
	pthread_mutex_unlock(&su.ts.st.mtx);
	printf("# net: compressed back-pressure (%s): peak buffered output %zu KiB, high water "
	       "%d KiB\n",
	        mode == M_TLS ? "TLS" : "plain", peak / 1024, HIGH_WATER / 1024);
	/* One write (64 KiB) past the mark at most, plus deflate's stored
	 * block framing and TLS records. */
	assert_true(peak <= HIGH_WATER + 64 * 1024 + 32 * 1024);
	assert_int_equal(lp_get(&su.ts.st, &su.ts.st.big_done), 1);
	free(chunk);
	zc_free(z);
	stop(&su);
}

static void test_backpressure_plain(void **state)
{
	(void)state;
	backpressure(M_PLAIN);
}

static void test_backpressure_tls(void **state)
{
	(void)state;
	backpressure(M_TLS);
}

/* 64 MiB of 'a' without a line end compress to 64 KiB: the command limit
 * (16 KiB here) applies to the inflated bytes, so it is an overflow. */
static void test_bomb(void **state)
{
	(void)state;
	struct setup su;
	start(&su, M_PLAIN, 16 * 1024);
	struct zc *z = connect_compressed(&su, false);
	size_t rss0 = proc_rss();
	unsigned char *a = xmalloc(1 << 20);
	memset(a, 'a', 1 << 20);
	for (int i = 0; i < 64; i++) {
		unsigned char *out;
		size_t n = zc_deflate(z, a, 1 << 20, &out);
		if (lc_send_raw(&z->c, out, n) < 0)
			break; /* closed already */
	}
	free(a);
	assert_int_equal(lp_wait(&su.ts.st, &su.ts.st.overflows, 1, 10000), 1);
	assert_int_equal(lp_wait(&su.ts.st, &su.ts.st.closes, 1, 10000), 1);
	size_t rss1 = proc_rss();
	/* Nowhere near the 64 MiB the input inflates to. */
	assert_true(rss1 < rss0 + (16u << 20));
	zc_free(z);
	stop(&su);
}

static void test_corrupt(void **state)
{
	(void)state;
	struct setup su;
	start(&su, M_PLAIN, 0);
	struct zc *z = connect_compressed(&su, false);
	/* A reserved block type (BTYPE 11) is an error for inflate. */
	static const unsigned char junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	assert_int_equal(lc_send_raw(&z->c, junk, sizeof(junk)), 0);
	assert_true(lc_closed(&z->c));
	assert_int_equal(lp_wait(&su.ts.st, &su.ts.st.closes, 1, 10000), 1);
	zc_free(z);
	stop(&su);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_basics_plain),
	        cmocka_unit_test(test_basics_tls),
	        cmocka_unit_test(test_backpressure_plain),
	        cmocka_unit_test(test_backpressure_tls),
	        cmocka_unit_test(test_bomb),
	        cmocka_unit_test(test_corrupt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
