/* src/net TLS: the self-signed certificate, server contexts, implicit
 * TLS, STARTTLS (with the pipelined-plaintext injection of RFC 3207 4.2),
 * TLS errors and shutdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/log.h"
#include "core/xalloc.h"
#include "lineproto.h"

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static char *slurp(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *data = xmalloc(65536);
	size_t n = fread(data, 1, 65535, f);
	data[n] = '\0';
	fclose(f);
	if (len_r != NULL)
		*len_r = n;
	return data;
}

static X509 *load_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

static void expect_line(struct lc *c, const char *want)
{
	const char *l = lc_line(c);
	if (l == NULL)
		fail_msg("expected \"%s\", got EOF", want);
	if (strcmp(l, want) != 0)
		fail_msg("expected \"%s\", got \"%s\"", want, l);
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

static void test_selfsigned(void **state)
{
	char dir[] = "/tmp/hermod-net-ss-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cert[256], key[256];
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	const char *error = NULL;
	assert_int_equal(net_tls_selfsigned_ensure(cert, key, "mail.example.test", &error), 0);
	struct stat st;
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(cert, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);

	/* The names a client may use, and a server certificate's usage. */
	X509 *x = load_cert(cert);
	assert_int_equal(X509_check_host(x, "mail.example.test", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);
	assert_int_equal(X509_check_host(x, "other.example.test", 0, 0, NULL), 0);
	assert_int_equal(X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0), 1);
	assert_int_equal(X509_check_ca(x), 0);
	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	assert_true(X509_cmp_current_time(X509_get0_notBefore(x)) < 0);
	assert_true(X509_cmp_current_time(X509_get0_notAfter(x)) > 0);
	/* Self-signed: it verifies with its own key. */
	EVP_PKEY *pub = X509_get0_pubkey(x);
	assert_int_equal(X509_verify(x, pub), 1);
	X509_free(x);

	/* Both exist: nothing is rewritten. */
	size_t len1, len2;
	char *c1 = slurp(cert, &len1);
	char *k1 = slurp(key, NULL);
	assert_int_equal(net_tls_selfsigned_ensure(cert, key, "mail.example.test", &error), 0);
	char *c2 = slurp(cert, &len2);
	assert_int_equal(len1, len2);
	assert_memory_equal(c1, c2, len1);
	free(c2);
	/* The key lost: both are made anew (a fresh key, a matching cert). */
	assert_int_equal(unlink(key), 0);
	assert_int_equal(net_tls_selfsigned_ensure(cert, key, "mail.example.test", &error), 0);
	char *k2 = slurp(key, NULL);
	assert_string_not_equal(k1, k2);
	SSL_CTX *ctx = net_tls_server_ctx(cert, key, &error);
	assert_non_null(ctx);
	SSL_CTX_free(ctx);
	free(c1);
	free(k1);
	free(k2);

	/* An IP literal as the host name; an over-long name (CN limit). */
	unlink(cert);
	unlink(key);
	assert_int_equal(net_tls_selfsigned_ensure(cert, key, "192.0.2.7", &error), 0);
	x = load_cert(cert);
	assert_int_equal(X509_check_ip_asc(x, "192.0.2.7", 0), 1);
	X509_free(x);
	unlink(cert);
	unlink(key);
	char longname[128];
	memset(longname, 'a', 70);
	strcpy(longname + 70, ".example.test");
	assert_int_equal(net_tls_selfsigned_ensure(cert, key, longname, &error), 0);
	x = load_cert(cert);
	assert_int_equal(X509_check_host(x, longname, 0, 0, NULL), 1);
	X509_free(x);
	/* No temporary files left behind. */
	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s/cert.pem.tmp.%ld", dir, (long)getpid());
	assert_int_not_equal(access(tmp, F_OK), 0);

	/* Unwritable place. */
	error = NULL;
	assert_int_equal(net_tls_selfsigned_ensure("/nonexistent/dir/cert.pem",
				 "/nonexistent/dir/key.pem", "x", &error),
		-1);
	assert_non_null(error);
	assert_non_null(strstr(error, "/nonexistent/dir/key.pem"));
	tls_test_cleanup(dir);
}

static void test_server_ctx(void **state)
{
	char d1[64], d2[64];
	SSL_CTX *ctx = tls_test_ctx(d1, sizeof(d1));
	/* TLS 1.2 is the floor. */
	assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
	SSL_CTX_free(ctx);
	ctx = tls_test_ctx(d2, sizeof(d2));
	SSL_CTX_free(ctx);
	char cert1[128], key2[128];
	snprintf(cert1, sizeof(cert1), "%s/cert.pem", d1);
	snprintf(key2, sizeof(key2), "%s/key.pem", d2);
	const char *error = NULL;
	assert_null(net_tls_server_ctx(cert1, key2, &error));
	assert_non_null(strstr(error, key2));
	assert_non_null(strstr(error, "mismatch"));
	assert_null(net_tls_server_ctx("/nonexistent.pem", key2, &error));
	assert_non_null(strstr(error, "/nonexistent.pem"));
	assert_null(net_tls_server_ctx(cert1, "/nonexistent-key.pem", &error));
	assert_non_null(strstr(error, "/nonexistent-key.pem"));
	tls_test_cleanup(d1);
	tls_test_cleanup(d2);
}

static void test_implicit_tls(void **state)
{
	char dir[64];
	SSL_CTX *sctx = tls_test_ctx(dir, sizeof(dir));
	struct net_listener_config lcfg = {.implicit_tls = true, .tls = sctx, .idle_timeout_s = 1};
	struct ts ts;
	ts_start(&ts, NULL, "127.0.0.1:0", &lcfg);
	/* The server holds its own reference. */
	SSL_CTX_free(sctx);
	int port = ts_port(&ts, 0);

	/* A client that verifies the certificate and the name. */
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	char cert[128];
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	assert_int_equal(SSL_CTX_load_verify_locations(cctx, cert, NULL), 1);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
	struct lc *c = lc_new();
	assert_int_equal(lc_connect(c, "127.0.0.1", port), 0);
	c->ssl = SSL_new(cctx);
	SSL_set_fd(c->ssl, c->fd);
	SSL_set1_host(c->ssl, "mail.example.test");
	assert_int_equal(SSL_connect(c->ssl), 1);
	assert_int_equal(SSL_get_verify_result(c->ssl), X509_V_OK);
	assert_true(SSL_version(c->ssl) >= TLS1_2_VERSION);
	const char *l = lc_line(c);
	assert_non_null(l);
	assert_true(strncmp(l, "HELLO ", 6) == 0);
	assert_int_equal(lc_send(c, "TIMEOUT 30\nPING\nISTLS\nSTARTTLS\n"), 0);
	expect_line(c, "OK");
	expect_line(c, "PONG");
	expect_line(c, "tls=1");
	expect_line(c, "NO");

	/* Plaintext on the TLS port, and a TLS 1.1 client: cut off alone. */
	struct lc *bad = lc_new();
	assert_int_equal(lc_connect(bad, "127.0.0.1", port), 0);
	assert_int_equal(lc_send(bad, "PING\nPING\nPING\n"), 0);
	assert_true(lc_closed(bad));
	lc_free(&bad);
	SSL_CTX *old = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_security_level(old, 0);
	SSL_CTX_set_min_proto_version(old, TLS1_VERSION);
	SSL_CTX_set_max_proto_version(old, TLS1_1_VERSION);
	bad = lc_new();
	assert_int_equal(lc_connect(bad, "127.0.0.1", port), 0);
	assert_int_equal(lc_tls(bad, old), -1);
	lc_free(&bad);
	SSL_CTX_free(old);
	/* A client that never starts the handshake is dropped after the
	 * idle timeout, without on_connect. */
	uint64_t t0 = now_ms();
	bad = lc_new();
	assert_int_equal(lc_connect(bad, "127.0.0.1", port), 0);
	assert_true(lc_closed(bad));
	assert_true(now_ms() - t0 >= 900);
	lc_free(&bad);
	assert_int_equal(lp_get(&ts.st, &ts.st.connects), 1);

	/* The first connection carried on. */
	assert_int_equal(lc_send(c, "PING\nQUIT\n"), 0);
	expect_line(c, "PONG");
	expect_line(c, "BYE");
	assert_true(lc_closed(c));
	/* A clean TLS close: the server sent close_notify. */
	assert_true(SSL_get_shutdown(c->ssl) & SSL_RECEIVED_SHUTDOWN);
	lc_free(&c);
	SSL_CTX_free(cctx);
	ts_stop(&ts);
	tls_test_cleanup(dir);
}

static void test_starttls(void **state)
{
	char dir[64];
	SSL_CTX *sctx = tls_test_ctx(dir, sizeof(dir));
	struct net_listener_config lcfg = {.tls = sctx};
	struct ts ts;
	ts_start(&ts, NULL, "127.0.0.1:0", &lcfg);
	SSL_CTX_free(sctx);
	int port = ts_port(&ts, 0);
	SSL_CTX *cctx = lc_tls_ctx();

	struct lc *c = lc_new();
	assert_int_equal(lc_connect(c, "127.0.0.1", port), 0);
	assert_non_null(lc_line(c));
	assert_int_equal(lc_send(c, "ISTLS\n"), 0);
	expect_line(c, "tls=0");
	/* RFC 3207 4.2: a command pipelined after STARTTLS in the clear (the
	 * injection attack) must be discarded, not run inside TLS. */
	assert_int_equal(lc_send(c, "STARTTLS\nECHO injected\nECHO injected2\n"), 0);
	expect_line(c, "OK begin TLS");
	assert_int_equal(c->len, 0);
	assert_int_equal(lc_tls(c, cctx), 0);
	assert_int_equal(lc_send(c, "ISTLS\nPING\n"), 0);
	expect_line(c, "tls=1");
	expect_line(c, "PONG");
	assert_int_equal(lc_send(c, "STARTTLS\n"), 0);
	expect_line(c, "NO");

	/* Output through the TLS filter, several MiB. */
	assert_int_equal(lc_send(c, "BIG 3000000\n"), 0);
	unsigned char *data = xmalloc(3000000);
	assert_int_equal(lc_read_exact(c, data, 3000000), 0);
	for (size_t i = 0; i < 3000000; i += 4099)
		assert_int_equal(data[i], 'a' + i % 26);
	free(data);
	expect_line(c, "");
	expect_line(c, "BIG done");
	assert_int_equal(lc_send(c, "QUIT\n"), 0);
	expect_line(c, "BYE");
	assert_true(lc_closed(c));
	assert_true(SSL_get_shutdown(c->ssl) & SSL_RECEIVED_SHUTDOWN);
	lc_free(&c);

	/* Garbage instead of a ClientHello after STARTTLS: cut off. */
	c = lc_new();
	assert_int_equal(lc_connect(c, "127.0.0.1", port), 0);
	assert_non_null(lc_line(c));
	assert_int_equal(lc_send(c, "STARTTLS\n"), 0);
	expect_line(c, "OK begin TLS");
	assert_int_equal(lc_send(c, "PING\nPING\n"), 0);
	assert_true(lc_closed(c));
	lc_free(&c);
	assert_int_equal(lp_wait(&ts.st, &ts.st.closes, 2, 5000), 2);

	/* Idle TLS connection at shutdown: the goodbye, then close_notify. */
	c = lc_new();
	assert_int_equal(lc_connect(c, "127.0.0.1", port), 0);
	assert_non_null(lc_line(c));
	assert_int_equal(lc_send(c, "STARTTLS\n"), 0);
	expect_line(c, "OK begin TLS");
	assert_int_equal(lc_tls(c, cctx), 0);
	assert_int_equal(lc_send(c, "PING\n"), 0);
	expect_line(c, "PONG");
	net_server_shutdown(ts.srv);
	expect_line(c, "BYE shutting down");
	assert_true(lc_closed(c));
	assert_true(SSL_get_shutdown(c->ssl) & SSL_RECEIVED_SHUTDOWN);
	lc_free(&c);
	SSL_CTX_free(cctx);
	ts_stop(&ts);
	tls_test_cleanup(dir);
}

/* The reply to STARTTLS leaves only when the job that wrote it has ended
 * and the TLS filter is in place, even when the loop handles the
 * connection meanwhile (here: plaintext the client injects after
 * STARTTLS). Were the reply flushed early, the client's ClientHello would
 * reach the plaintext side and the handshake would stall. */
static void test_starttls_reply_waits_for_the_job(void **state)
{
	(void)state;
	char dir[64];
	SSL_CTX *sctx = tls_test_ctx(dir, sizeof(dir));
	struct net_listener_config lcfg = {.tls = sctx};
	struct ts ts;
	ts_start(&ts, NULL, "127.0.0.1:0", &lcfg);
	SSL_CTX_free(sctx);
	SSL_CTX *cctx = lc_tls_ctx();
	for (int round = 0; round < 3; round++) {
		struct lc *c = lc_new();
		assert_int_equal(lc_connect(c, "127.0.0.1", ts_port(&ts, 0)), 0);
		assert_non_null(lc_line(c));
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(lc_send(c, "STARTTLS_SLOW 300\n"), 0);
		usleep(50 * 1000);
		assert_int_equal(lc_send(c, "ECHO injected\n"), 0);
		expect_line(c, "OK begin TLS");
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		assert_true(ms >= 250);
		assert_int_equal(c->len, 0);
		assert_int_equal(lc_tls(c, cctx), 0);
		assert_int_equal(lc_send(c, "ISTLS\n"), 0);
		expect_line(c, "tls=1");
		lc_free(&c);
	}
	assert_int_equal(ts.st.violations, 0);
	SSL_CTX_free(cctx);
	ts_stop(&ts);
	tls_test_cleanup(dir);
}

static void test_starttls_unavailable(void **state)
{
	struct ts ts;
	ts_start(&ts, NULL, "127.0.0.1:0", NULL);
	struct lc *c = lc_new();
	assert_int_equal(lc_connect(c, "127.0.0.1", ts_port(&ts, 0)), 0);
	assert_non_null(lc_line(c));
	assert_int_equal(lc_send(c, "STARTTLS\nPING\n"), 0);
	expect_line(c, "NO");
	expect_line(c, "PONG");
	lc_free(&c);
	ts_stop(&ts);
}

int main(void)
{
	/* NET_TEST_DEBUG=1: the server's debug log on stderr. */
	log_set_level(getenv("NET_TEST_DEBUG") != NULL ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selfsigned),
		cmocka_unit_test(test_server_ctx),
		cmocka_unit_test(test_implicit_tls),
		cmocka_unit_test(test_starttls),
		cmocka_unit_test(test_starttls_reply_waits_for_the_job),
		cmocka_unit_test(test_starttls_unavailable),
	};
	return cmocka_run_group_tests_name("net-tls", tests, NULL, NULL);
}
