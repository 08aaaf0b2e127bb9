/* A test-only line protocol for src/net, plus client helpers and a server
 * harness shared by the net test programs.
 *
 * Commands (one per line; replies are lines):
 *   PING            -> PONG
 *   ECHO <text>     -> <text>
 *   SLOW <ms>       -> (sleeps) SLOW done            (or nothing if cut off)
 *   BIG <n>         -> n bytes of a pattern, then "\nBIG done"
 *   STARTTLS        -> OK begin TLS | NO
 *   ISTLS           -> tls=0|1
 *   POST <ms>       -> POSTED, and later EVENT <ms> (a posted job)
 *   PAUSE <ms>      -> PAUSED, and after <ms> RESUMED (then framing resumes)
 *   CLOSE           -> CLOSING, then the connection closes
 *   QUIT            -> BYE, handler returns -1
 *   INFO            -> id=<id> ip=<ip> peer=<peer> local=<local> session=<s>
 *   MAX <n>         -> OK (net_conn_set_max_command)
 *   TIMEOUT <s>     -> OK (net_conn_set_idle_timeout)
 *   FLUSH <ms>      -> FIRST (flushed), sleeps, then SECOND
 *   STORM           -> STORMING; a posted event re-posts itself until a
 *                      PING has been handled, then says STORM over
 *   COMPRESS        -> OK compress, then raw deflate both ways
 *                      (net_conn_compress); NO when it is on already
 *   NOISE <n>       -> n bytes of lp_noise_next() from LP_NOISE_SEED
 *                      (incompressible), then "\nNOISE done"
 * A line starting with 0xFF is garbage (frame() returns -1). */
#ifndef TESTS_NET_LINEPROTO_H
#define TESTS_NET_LINEPROTO_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "net/net.h"

/* The protocol context of a listener: counters the tests wait on. */
struct lp_stats {
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	int connects, closes, overflows, timeouts, shutdowns;
	int violations; /* two jobs of one connection at once */
	int slow_started, slow_finished;
	int posts_run, posts_freed;
	int big_done, big_failed;
	int write_failures;
	size_t peak_pending;
	bool reject; /* on_connect writes REJECT and returns -1 */
	struct net_conn *last_conn; /* a reference, set by INFO */
};

extern const struct net_protocol lp_protocol;

#define LP_NOISE_SEED 0x9e3779b97f4a7c15ull
/* The next byte source of NOISE (xorshift64 on *x). */
uint64_t lp_noise_next(uint64_t *x);

void lp_stats_init(struct lp_stats *st);
void lp_stats_deinit(struct lp_stats *st);
/* Brackets every job of the protocol: a second job of the same connection
 * entering before the first left counts as a violation. */
void lp_enter(struct net_conn *conn);
void lp_leave(struct net_conn *conn);
/* Waits until *field >= value (up to timeout_ms); returns the field. */
int lp_wait(struct lp_stats *st, const int *field, int value, int timeout_ms);
int lp_get(struct lp_stats *st, const int *field);

/* --- A running server --- */

struct ts {
	struct net_server *srv;
	pthread_t thread;
	int result;
	bool running;
	bool catch_signals; /* set before ts_start_ex */
	struct lp_stats st;
};

/* Starts a server with one listener on address (port 0 usually) using
 * lp_protocol and &ts->st. cfg and lcfg may be NULL for defaults. */
void ts_start(struct ts *ts, const struct net_server_config *cfg, const char *address,
	const struct net_listener_config *lcfg);
/* Same, keeping ts->catch_signals (which ts_start clears). */
void ts_start_ex(struct ts *ts, const struct net_server_config *cfg, const char *address,
	const struct net_listener_config *lcfg);
int ts_port(struct ts *ts, unsigned n);
/* Shuts down, joins, asserts a clean result, frees. */
void ts_stop(struct ts *ts);

/* --- A client --- */

struct lc {
	int fd;
	SSL *ssl;
	unsigned char buf[256 * 1024];
	size_t len;
	char line[256 * 1024];
};

/* Connects to ip:port (IPv4 or IPv6 literal); 10 s receive timeout.
 * Returns 0 or -1. */
int lc_connect(struct lc *c, const char *ip, int port);
/* TLS handshake over the connection; 0 or -1. */
int lc_tls(struct lc *c, SSL_CTX *cctx);
int lc_send(struct lc *c, const char *s);
int lc_send_raw(struct lc *c, const void *data, size_t len);
/* The next line without its LF, or NULL at EOF or error. */
const char *lc_line(struct lc *c);
/* Reads exactly n bytes into dst (NULL: discard); 0 or -1. */
int lc_read_exact(struct lc *c, void *dst, size_t n);
/* True when the server closed the connection (EOF or reset) with no more
 * data (a pending line counts as data); false if it sent more, or neither
 * sent nor closed within the 10 s receive timeout. */
bool lc_closed(struct lc *c);
void lc_close(struct lc *c);

/* A client TLS context that trusts nothing in particular (tests verify
 * explicitly where they care). */
SSL_CTX *lc_tls_ctx(void);

/* Writes a self-signed certificate into a fresh temporary directory and
 * returns a server context for it; *dir_r names the directory (remove
 * with tls_test_cleanup). */
SSL_CTX *tls_test_ctx(char *dir, size_t dir_size);
void tls_test_cleanup(const char *dir);

/* Resident set size and malloc'ed bytes of this process. */
size_t proc_rss(void);
size_t proc_heap(void);

#endif
