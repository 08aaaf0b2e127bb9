/* The network runtime (ARCHITECTURE.md section 2).
 *
 * A few event-loop threads (libevent, one event_base each) own every socket:
 * they accept, run TLS, read input and frame it into complete commands,
 * write output and wait while idle. Command handlers run on a worker pool
 * and may block (on the store, on fsync); a connection has at most one job
 * (command or posted event) running at a time, so handler code is plain
 * sequential C. Idle connections hold no thread.
 *
 * A protocol plugs in with a struct net_protocol: a framer that finds the
 * end of the next complete command in the buffered input (called on the
 * event loop, must be cheap and never block), and handlers for connect,
 * command, overflow, timeout and close (called on workers).
 *
 * Threads: every net_conn_* function may be called from any thread unless
 * it says otherwise.
 *
 * Output written during a job is corked: it goes to the socket when the
 * job returns, when 64 KiB are pending, or on net_conn_flush.
 *
 * Closing: when the server closes a connection whose client is still
 * sending (an endless line, garbage, input discarded at close), the socket
 * is half-closed and drained for up to 2 s before it is closed, so the last
 * reply is not destroyed by a TCP reset. See docs/net.md. */
#ifndef NET_NET_H
#define NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/log.h"
#include "core/pool.h"

struct net_server;
struct net_conn;
typedef struct ssl_ctx_st SSL_CTX;

/* What a protocol front-end provides. Only frame and on_command are
 * required. */
struct net_protocol {
	const char *name; /* "imap", used in session ids and logs */

	/* Worker: a new connection (after the implicit-TLS handshake, if
	 * any). Typically allocates protocol state (net_conn_set_ctx) and
	 * writes the greeting. Return 0, or -1 to close after flushing. */
	int (*on_connect)(struct net_conn *conn);

	/* Event loop: finds the first complete command in the buffered input.
	 * Returns its length in bytes (> 0), 0 when more input is needed, or
	 * -1 when the input can never become a valid command (the connection
	 * is then closed after on_overflow, if set, has written an error).
	 * May keep resumable state in the protocol context, and may write
	 * (e.g. an IMAP "+ Ready" continuation for a synchronizing literal).
	 * Never runs while a job of the connection runs, so it may read
	 * state the jobs set (SMTP's "in DATA"); it is called again only when
	 * more input has arrived. */
	ssize_t (*frame)(struct net_conn *conn, const unsigned char *data, size_t len);

	/* Worker: one complete command, exactly the bytes frame() delimited.
	 * The bytes stay valid until the handler returns. Return 0 to go on,
	 * -1 to close the connection after flushing what was written. */
	int (*on_command)(struct net_conn *conn, const unsigned char *data, size_t len);

	/* Worker: the buffered input reached the listener's max_command
	 * without a complete command (an endless line), or frame() returned
	 * -1. The protocol writes its error reply; the connection is closed
	 * after the output is flushed. */
	void (*on_overflow)(struct net_conn *conn);

	/* Worker: nothing arrived for the connection's idle timeout. The
	 * protocol may write a last reply; the connection is then closed. */
	void (*on_timeout)(struct net_conn *conn);

	/* Worker: the server is shutting down; write a last reply (e.g.
	 * "* BYE"). The connection is closed after flushing. */
	void (*on_shutdown)(struct net_conn *conn);

	/* Worker: the connection is gone (peer closed, error, timeout,
	 * shutdown or -1 from a handler). Release protocol state here. No
	 * other callback runs after it and none runs concurrently with it. */
	void (*on_close)(struct net_conn *conn);
};

struct net_server_config {
	unsigned event_threads;      /* 0: one per core, at least 1 */
	unsigned worker_threads;     /* 0: 4 per core, at least 4 */
	unsigned max_connections;    /* across all listeners; 0: 10000 */
	/* 0: unlimited. IPv6 clients are counted by /64 (RFC 6177: one site
	 * gets a whole /64), IPv4 clients by address. Connections over a
	 * limit are closed right after accept(), before any callback, and
	 * logged (at most one line a second). */
	unsigned max_conns_per_ip;
	size_t output_high_water;    /* a writer blocks above this; 0: 1 MiB */
	unsigned shutdown_grace_ms;  /* how long in-flight commands may finish; 0: 10 s */
};

struct net_listener_config {
	/* "127.0.0.1:1143", "[::1]:1143", "0.0.0.0:25", "[::]:25", "*:25"
	 * ("*": all IPv4 and IPv6 addresses; "[::]" is IPv6 only, so it can
	 * be combined with "0.0.0.0"). A host name binds every address it
	 * resolves to ("localhost:1143"). Port 0 picks a free port, the same
	 * for all the listener's sockets. */
	const char *address;
	const struct net_protocol *protocol;
	void *protocol_ctx;   /* shared by all its connections: net_conn_protocol_ctx */
	bool implicit_tls;    /* TLS from the first byte (IMAPS, POP3S, submissions, HTTPS) */
	SSL_CTX *tls;         /* for implicit TLS and STARTTLS; NULL: no TLS offered.
			       * The server keeps a reference of its own. */
	size_t max_command;   /* largest complete command frame() may return; 0: 64 KiB */
	unsigned idle_timeout_s; /* 0: 300 */
};

/* A server with its threads not yet started. Returns NULL with *error_r set
 * if threads or event bases cannot be created. */
struct net_server *net_server_new(const struct net_server_config *cfg, const char **error_r);
/* Binds and listens (before or after net_server_run has started). Returns
 * 0, or -1 with *error_r naming the address and the reason. */
int net_server_listen(struct net_server *srv, const struct net_listener_config *cfg,
	const char **error_r);
/* The port actually bound by the n-th successful net_server_listen (from
 * 0; useful with port 0), or -1. */
int net_server_listener_port(struct net_server *srv, unsigned n);
/* Runs until net_server_shutdown or SIGTERM/SIGINT (when catch_signals),
 * on the calling thread (the loops and workers get threads of their own);
 * once per server. Ignores SIGPIPE for the whole process. Shutting down:
 * the listeners close; idle connections get on_shutdown; a job in flight
 * finishes, its reply is flushed, then on_shutdown; pipelined input is
 * dropped. After shutdown_grace_ms the sockets still open are cut (a
 * blocked net_conn_write returns -1) and run waits for the jobs still
 * running to return. Returns 0 after a clean shutdown (every connection
 * closed, every on_close run, every queued background job run), -1 if
 * threads could not be started. */
int net_server_run(struct net_server *srv, bool catch_signals);
/* Asks a server to shut down; async-signal-safe, callable from any
 * thread, also before run (which then returns at once). */
void net_server_shutdown(struct net_server *srv);
/* Frees a server that is not running (never run, or run returned).
 * Connection references still held stay valid: net_conn_* calls on them
 * return -1 or do nothing. */
void net_server_free(struct net_server **srv);
/* Runs fn(ctx) on a worker thread (background work not tied to a
 * connection: queue runs, cleanup). Callable before run; jobs still queued
 * at shutdown run before net_server_run returns; after that, fn runs on
 * the calling thread. */
void net_server_submit(struct net_server *srv, void (*fn)(void *ctx), void *ctx);
/* Raises the soft RLIMIT_NOFILE to the hard limit (each connection is a
 * descriptor). Returns 0 and the new limit in *limit_r (optional), or -1. */
int net_raise_fd_limit(unsigned long *limit_r);

/* --- Connections --- */

/* Protocol state. */
void net_conn_set_ctx(struct net_conn *conn, void *ctx);
void *net_conn_ctx(struct net_conn *conn);
void *net_conn_protocol_ctx(struct net_conn *conn);
/* A pool that lives as long as the connection (use from the thread that
 * runs the connection's jobs only). */
pool_t *net_conn_pool(struct net_conn *conn);
/* The log context: session "<proto>-<id>", peer; set user and action on it
 * (from the connection's jobs; the strings must live until on_close
 * returns). */
struct log_ctx *net_conn_log(struct net_conn *conn);
uint64_t net_conn_id(struct net_conn *conn);
/* "127.0.0.1:51234" / "[::1]:51234"; and the address alone. */
const char *net_conn_peer(struct net_conn *conn);
const char *net_conn_peer_ip(struct net_conn *conn);
/* The local address and port the client connected to. */
const char *net_conn_local(struct net_conn *conn);
bool net_conn_is_tls(struct net_conn *conn);
/* True when the listener has a TLS context (STARTTLS can be offered). */
bool net_conn_tls_available(struct net_conn *conn);

/* Queues bytes for the client. From the thread running this connection's
 * job, blocks while the output is above output_high_water until the
 * socket has taken half of it (back-pressure for huge responses; the
 * output then stays within output_high_water + 64 KiB); from any other
 * thread (including frame() on the event loop) it never blocks. Returns 0,
 * or -1 when the connection is gone (the handler should stop producing
 * output). */
int net_conn_write(struct net_conn *conn, const void *data, size_t len);
int net_conn_write_str(struct net_conn *conn, const char *s);
int net_conn_printf(struct net_conn *conn, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Sends what this job wrote so far now rather than when it returns (for a
 * handler that writes a progress line, then works on). */
void net_conn_flush(struct net_conn *conn);
/* Bytes written and not yet taken by the socket (including TLS records
 * not yet sent). */
size_t net_conn_output_pending(struct net_conn *conn);

/* Closes the connection after the output is flushed (once the current job,
 * if any, has returned). Input already buffered is discarded. */
void net_conn_close(struct net_conn *conn);
/* Sets the idle timeout in seconds (IMAP's 30 minutes after login, SMTP's
 * 5 minutes); 0 restores the listener's. The idle clock runs while the
 * connection waits for a command (not while a job runs or it is paused);
 * a peer that takes no output for this long is cut off as well. From a
 * job: it takes effect when the job returns. */
void net_conn_set_idle_timeout(struct net_conn *conn, unsigned seconds);
/* Sets the largest command frame() may return from now on (e.g. after an
 * IMAP APPEND literal is announced, or for an HTTP body); 0 restores the
 * listener's. Input beyond it is not read from the socket until a command
 * has been taken, so a flooding client is throttled by TCP. */
void net_conn_set_max_command(struct net_conn *conn, size_t max);

/* From the handler of the command that accepted STARTTLS (after writing
 * its positive reply): when the handler returns, the reply is flushed,
 * input the client sent after the command is discarded (RFC 3207 4.2:
 * no pipelining across STARTTLS) and the TLS handshake starts. Returns 0,
 * or -1 if the listener has no TLS context, TLS is already on,
 * compression is on, or the caller is not this connection's job. */
int net_conn_starttls(struct net_conn *conn);

/* From the handler of the command that accepted compression (IMAP
 * COMPRESS=DEFLATE, RFC 4978), after writing its positive reply: when the
 * handler returns, the reply is flushed uncompressed; from then on every
 * byte written is compressed with raw deflate (RFC 1951; level 1-9) and
 * flushed with a sync flush each time output is handed to the socket,
 * and every byte read is inflated, including what the client sent after
 * the command. Over TLS, compression sits above it. Back-pressure and
 * the command limit count compressed output and inflated input. Corrupt
 * compressed input closes the connection. Returns 0, or -1 if
 * compression is already on or requested, the level is invalid, or the
 * caller is not this connection's job. */
int net_conn_compress(struct net_conn *conn, int level);
/* True once compression is on (or requested by the running job). */
bool net_conn_is_compressed(struct net_conn *conn);

/* Runs fn(conn, arg) as a job of this connection on a worker, serialized
 * with its commands (never concurrently with another job of it). Used by
 * store notifications to wake an IMAP IDLE or an ActiveSync Ping. If the
 * connection closes first, fn is not run and free_arg (if set) is called.
 * delay_ms > 0 runs it no sooner than that (tarpits, login delays). */
void net_conn_post(struct net_conn *conn, unsigned delay_ms,
	void (*fn)(struct net_conn *conn, void *arg), void *arg, void (*free_arg)(void *arg));

/* Reference counting for code that keeps a connection pointer outside its
 * jobs (a store subscription). A reference keeps the memory valid, not
 * the connection open. */
void net_conn_ref(struct net_conn *conn);
void net_conn_unref(struct net_conn **conn);

/* Pauses framing of further commands until net_conn_resume (e.g. SMTP
 * while a message is being committed by another thread). From a job. */
void net_conn_pause(struct net_conn *conn);
void net_conn_resume(struct net_conn *conn);

/* --- Framing helpers for line protocols --- */

/* Length up to and including the first LF, 0 if none yet. */
ssize_t net_frame_line(const unsigned char *data, size_t len);

/* --- TLS --- */

/* A server TLS context (TLS 1.2+) from PEM certificate chain and key files.
 * NULL with *error_r on failure. */
SSL_CTX *net_tls_server_ctx(const char *cert_file, const char *key_file, const char **error_r);
/* Writes a self-signed certificate and its key for hostname (and
 * localhost, 127.0.0.1, ::1) unless both files exist already. 0 or -1. */
int net_tls_selfsigned_ensure(const char *cert_file, const char *key_file, const char *hostname,
	const char **error_r);

#endif
