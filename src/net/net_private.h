/* Internals shared by the files of src/net (not part of the contract).
 *
 * Threads and ownership:
 * - An event loop (struct net_loop) owns its connections' bufferevents,
 *   timers and input buffer; only its thread touches them.
 * - Workers run one job per connection at a time; they touch a connection
 *   only through fields guarded by conn->mtx (the output buffer, flags,
 *   posted events) and the protocol state the job owns.
 * - Cross-thread requests go through conn_wake(): the connection is queued
 *   on its loop and the loop's wake event is activated; the loop then runs
 *   conn_process(), outside every bufferevent callback (so nothing is ever
 *   freed inside its own callback).
 * Lock order: conn->mtx before loop->mtx before srv->mtx; never the other
 * way. */
#ifndef NET_NET_PRIVATE_H
#define NET_NET_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "core/buf.h"
#include "core/log.h"
#include "net/net.h"

/* Sockets one listener address may expand to (getaddrinfo results). */
#define NET_LISTENER_MAX_SOCKETS 8
/* How long a connection the server closed while the client was still
 * sending keeps draining input, so that the last reply is not destroyed
 * by a TCP reset (the "lingering close" of Apache and nginx). */
#define NET_LINGER_MS 2000
/* A job's output is corked and handed to the event loop at the end of the
 * job, or whenever this much is pending. */
#define NET_CORK_BYTES (64 * 1024)
/* A writer appends at most this much at once, so the output of a
 * connection stays within output_high_water + NET_WRITE_CHUNK. */
#define NET_WRITE_CHUNK (64 * 1024)
/* Encrypted input a STARTTLS connection buffers before TLS decodes it. */
#define NET_TLS_RAW_INPUT_MAX (64 * 1024)

/* --- Worker pool --- */

struct net_job {
	void (*run)(struct net_job *job);
	struct net_job *next;
};

struct net_workers;

/* A pool of n threads, not started. */
struct net_workers *net_workers_new(unsigned n);
/* Starts the threads; 0 or -1 with *error_r. */
int net_workers_start(struct net_workers *w, const char **error_r);
/* Queues a job (any thread). Once the pool has stopped, runs it on the
 * calling thread instead. */
void net_workers_submit(struct net_workers *w, struct net_job *job);
/* Runs what is queued, then joins the threads. */
void net_workers_stop(struct net_workers *w);
void net_workers_free(struct net_workers **w);

/* --- Server, loops, listeners --- */

struct net_incoming {
	int fd;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	struct net_listener *listener;
	char ip_key[64];
	struct net_incoming *next;
};

struct net_listener {
	struct net_server *srv;
	unsigned index;
	char *address;
	const struct net_protocol *protocol;
	void *protocol_ctx;
	bool implicit_tls;
	SSL_CTX *tls; /* a reference of our own */
	size_t max_command;
	unsigned idle_timeout_s;
	int port;
	struct evconnlistener *evl[NET_LISTENER_MAX_SOCKETS];
	unsigned n_evl;
	struct event *retry_ev; /* re-enables accepting after EMFILE */
	struct net_listener *next;
};

struct net_loop {
	struct net_server *srv;
	unsigned index;
	struct event_base *base;
	pthread_t thread;
	bool thread_started;
	struct event *wake_ev;
	struct event *grace_ev;
	struct evbuffer *tmp; /* moves output out of conn->mtx */

	pthread_mutex_t mtx; /* guards the fields up to the next comment */
	struct net_conn *queue_head, *queue_tail;
	struct net_incoming *incoming;
	bool shutdown_req;

	/* loop thread only */
	struct net_conn *conns;
	unsigned n_conns;
	bool shutting_down;
	bool done;
};

struct net_server {
	struct net_server_config cfg;
	struct net_loop *loops;
	unsigned n_loops;
	struct net_workers *workers;

	pthread_mutex_t mtx; /* guards the fields up to the next comment */
	pthread_cond_t cond;
	struct net_listener *listeners, *listeners_tail;
	unsigned n_listeners;
	struct hash *ip_counts;
	unsigned n_conns;
	unsigned loops_done;
	bool running, ran;
	int64_t refuse_log_sec;
	unsigned refuse_suppressed;

	atomic_uint_fast64_t next_id;
	atomic_bool shutting_down;
	unsigned next_loop; /* loop 0 only */
	int shutdown_pipe[2];
	struct event *shutdown_ev;
	struct event *sig_ev[2];
};

/* --- Compression (zstream.c, net_conn_compress) --- */

struct net_zstream;
/* Raw deflate both ways (RFC 1951, no zlib header) at a deflate level;
 * NULL when zlib cannot set up. */
struct net_zstream *net_zstream_new(int level);
void net_zstream_free(struct net_zstream **z);
/* Compresses all of src into dst, ending with a sync flush so that the
 * peer can decode everything sent. 0 or -1. */
int net_zstream_deflate(struct net_zstream *z, struct evbuffer *src, struct evbuffer *dst);
/* Decompresses from src (consumed as it is used) into dst, at most room
 * bytes. Returns the bytes produced, or -1 for corrupt input (or input
 * after the peer ended its stream). */
ssize_t net_zstream_inflate(struct net_zstream *z, struct evbuffer *src, unsigned char *dst,
	size_t room);
/* True when inflate may hold output that did not fit last time. */
bool net_zstream_inflate_pending(const struct net_zstream *z);

/* --- Connections --- */

enum net_job_kind {
	NET_JOB_CONNECT,
	NET_JOB_COMMAND,
	NET_JOB_POST,
	NET_JOB_OVERFLOW,
	NET_JOB_TIMEOUT,
	NET_JOB_SHUTDOWN,
	NET_JOB_CLOSE,
};

enum net_conn_phase {
	NET_PHASE_HANDSHAKE, /* implicit TLS before on_connect */
	NET_PHASE_OPEN,
	NET_PHASE_CLOSING, /* flushing output; no more commands */
	NET_PHASE_CLOSED,  /* on_close queued or done; maybe lingering */
	NET_PHASE_DESTROYED,
};

struct net_post {
	void (*fn)(struct net_conn *conn, void *arg);
	void *arg;
	void (*free_arg)(void *arg);
	uint64_t due_ms;
	struct net_post *next;
};

struct net_conn {
	struct net_server *srv;
	struct net_loop *loop;
	struct net_listener *listener;
	const struct net_protocol *proto;
	atomic_uint refs;
	uint64_t id;
	char session[48];
	char peer[64];
	char peer_ip[48];
	char local[64];
	char ip_key[64];
	struct log_ctx log;     /* the protocol's: it sets user and action */
	struct log_ctx net_log; /* ours: session and peer only, any thread */
	void *ctx;
	pool_t *pool;

	pthread_mutex_t mtx; /* guards the fields up to the next comment */
	pthread_cond_t cond;
	struct evbuffer *out; /* written by jobs, moved to the bufferevent by the loop */
	size_t loop_out;      /* bytes in the bufferevents' output */
	unsigned writers_waiting;
	bool flush_req; /* net_conn_flush: send the running job's output */
	bool job_running, job_done;
	bool close_req, dead, gone, paused, starttls_req, shutdown_req;
	int compress_req; /* deflate level + 1 requested by net_conn_compress; 0: none */
	bool timed_out;
	/* The loop was woken while a job ran: the job's end must wake it
	 * again (see conn_job_run). */
	bool missed;
	/* The plain socket, for a worker's direct write at the end of a job;
	 * -1 under TLS and once the socket is released. A worker uses it
	 * only while holding mtx, and the loop sets it to -1 under mtx
	 * before closing the socket, so it is never a reused descriptor. */
	int fd;
	uint64_t job_end_ms; /* when the last job returned */
	int job_result;
	struct net_post *posts, *posts_tail;
	size_t max_command;
	unsigned idle_timeout_s;
	bool queued; /* guarded by loop->mtx */
	struct net_conn *queue_next;

	/* loop thread only (and, through the job hand-off, the job) */
	struct bufferevent *bev;   /* what we read and write */
	struct bufferevent *under; /* the plaintext socket under a STARTTLS filter */
	struct evbuffer_cb_entry *out_cb, *under_out_cb;
	SSL *ssl;
	struct net_zstream *z; /* compression on (net_conn_compress) */
	struct evbuffer *zbuf; /* compressed output on its way to the bufferevent */
	enum net_conn_phase phase;
	bool connected;   /* on_connect was scheduled: on_close is owed */
	bool is_tls;
	bool handshake_done;
	bool peer_eof;
	bool notify_sent; /* TLS close_notify */
	bool shutdown_started;
	bool lingering, linger_over;
	bool discarded_input;
	bool last_was_post; /* the last job was a posted event */
	struct buf in;
	size_t in_off;
	size_t in_framed; /* input length frame() last answered 0 for */
	size_t applied_max; /* read watermark in effect */
	struct event *timer;
	struct event *post_timer;
	uint64_t created_ms, last_input_ms, last_output_ms, linger_until_ms;
	struct net_conn *prev, *next;

	/* the job in flight */
	struct net_job job;
	enum net_job_kind job_kind;
	size_t job_len;
	bool job_needs_loop; /* input or the peer's EOF was waiting when the job started */
	struct net_post *job_post;
};

uint64_t net_now_ms(void);

/* conn.c, called by server.c on the loop's thread */
void net_conn_accept(struct net_loop *loop, struct net_incoming *inc);
void net_conn_process(struct net_conn *conn);
void net_conn_shutdown_req(struct net_conn *conn);
void net_conn_kill(struct net_conn *conn, const char *why);
/* Drops a reference taken for the loop queue (any thread). */
void net_conn_queue_unref(struct net_conn *conn);
/* server.c, called by conn.c */
void net_loop_conn_gone(struct net_loop *loop, struct net_conn *conn);
void net_server_uncount(struct net_server *srv, const char *ip_key);
void net_loop_wake_conn(struct net_loop *loop, struct net_conn *conn);

#endif
