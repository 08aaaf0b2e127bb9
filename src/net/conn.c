/* Connections: the state machine that runs on a connection's event loop,
 * the jobs that run on workers, and the calls a protocol makes.
 *
 * A connection moves HANDSHAKE (implicit TLS) -> OPEN -> CLOSING (flush
 * what was written) -> CLOSED (on_close, maybe a lingering close) ->
 * DESTROYED. Every change of state happens in net_conn_process() on the
 * loop thread; bufferevent callbacks and other threads only set flags and
 * queue the connection (net_loop_wake_conn). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "core/str.h"
#include "core/xalloc.h"
#include "net/net_private.h"

/* The connection whose job this thread runs (NULL on loops and idle
 * workers): net_conn_write may block only there. */
static __thread struct net_conn *net_current_conn;

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);
static void conn_out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg);
static void conn_timer_cb(evutil_socket_t fd, short what, void *arg);
static void conn_post_timer_cb(evutil_socket_t fd, short what, void *arg);
static void conn_job_run(struct net_job *job);

/* --- References --- */

static void conn_free(struct net_conn *conn)
{
	HERMOD_ASSERT(conn->phase == NET_PHASE_DESTROYED);
	evbuffer_free(conn->out);
	pthread_mutex_destroy(&conn->mtx);
	pthread_cond_destroy(&conn->cond);
	free(conn);
}

void net_conn_ref(struct net_conn *conn)
{
	atomic_fetch_add(&conn->refs, 1);
}

void net_conn_unref(struct net_conn **connp)
{
	struct net_conn *conn = *connp;
	if (conn == NULL)
		return;
	*connp = NULL;
	if (atomic_fetch_sub(&conn->refs, 1) == 1)
		conn_free(conn);
}

void net_conn_queue_unref(struct net_conn *conn)
{
	net_conn_unref(&conn);
}

static void conn_wake(struct net_conn *conn)
{
	net_loop_wake_conn(conn->loop, conn);
}

/* --- Accessors --- */

void net_conn_set_ctx(struct net_conn *conn, void *ctx)
{
	conn->ctx = ctx;
}

void *net_conn_ctx(struct net_conn *conn)
{
	return conn->ctx;
}

void *net_conn_protocol_ctx(struct net_conn *conn)
{
	return conn->listener->protocol_ctx;
}

pool_t *net_conn_pool(struct net_conn *conn)
{
	/* Created on first use: an idle connection should not hold a block. */
	if (conn->pool == NULL)
		conn->pool = pool_new(conn->session, 0);
	return conn->pool;
}

struct log_ctx *net_conn_log(struct net_conn *conn)
{
	return &conn->log;
}

uint64_t net_conn_id(struct net_conn *conn)
{
	return conn->id;
}

const char *net_conn_peer(struct net_conn *conn)
{
	return conn->peer;
}

const char *net_conn_peer_ip(struct net_conn *conn)
{
	return conn->peer_ip;
}

const char *net_conn_local(struct net_conn *conn)
{
	return conn->local;
}

bool net_conn_is_tls(struct net_conn *conn)
{
	return conn->is_tls;
}

bool net_conn_tls_available(struct net_conn *conn)
{
	return conn->listener->tls != NULL;
}

/* --- Output --- */

/* Bytes in the bufferevents (the loop's side). Loop thread. */
static size_t conn_bev_out_len(struct net_conn *conn)
{
	size_t n = 0;
	if (conn->bev != NULL)
		n += evbuffer_get_length(bufferevent_get_output(conn->bev));
	if (conn->under != NULL)
		n += evbuffer_get_length(bufferevent_get_output(conn->under));
	return n;
}

static bool conn_in_job(struct net_conn *conn)
{
	return net_current_conn == conn;
}

int net_conn_write(struct net_conn *conn, const void *data, size_t len)
{
	const unsigned char *p = data;
	bool in_job = conn_in_job(conn);
	size_t high = conn->srv->cfg.output_high_water;
	pthread_mutex_lock(&conn->mtx);
	do {
		if (conn->dead || conn->gone) {
			pthread_mutex_unlock(&conn->mtx);
			return -1;
		}
		size_t n = len;
		if (in_job) {
			/* Back-pressure: wait for the loop to drain the output. */
			while (evbuffer_get_length(conn->out) + conn->loop_out > high && !conn->dead) {
				conn->writers_waiting++;
				pthread_mutex_unlock(&conn->mtx);
				conn_wake(conn);
				pthread_mutex_lock(&conn->mtx);
				if (evbuffer_get_length(conn->out) + conn->loop_out > high && !conn->dead)
					pthread_cond_wait(&conn->cond, &conn->mtx);
				conn->writers_waiting--;
			}
			if (conn->dead) {
				pthread_mutex_unlock(&conn->mtx);
				return -1;
			}
			if (n > NET_WRITE_CHUNK)
				n = NET_WRITE_CHUNK;
		}
		if (n > 0)
			evbuffer_add(conn->out, p, n);
		p += n;
		len -= n;
		bool push = !in_job || evbuffer_get_length(conn->out) >= NET_CORK_BYTES;
		if (push) {
			pthread_mutex_unlock(&conn->mtx);
			conn_wake(conn);
			pthread_mutex_lock(&conn->mtx);
		}
	} while (len > 0);
	pthread_mutex_unlock(&conn->mtx);
	return 0;
}

int net_conn_write_str(struct net_conn *conn, const char *s)
{
	return net_conn_write(conn, s, strlen(s));
}

int net_conn_printf(struct net_conn *conn, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return net_conn_write(conn, small, (size_t)n);
	char *big = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int ret = net_conn_write(conn, big, (size_t)n);
	free(big);
	return ret;
}

void net_conn_flush(struct net_conn *conn)
{
	pthread_mutex_lock(&conn->mtx);
	conn->flush_req = true;
	bool gone = conn->gone;
	pthread_mutex_unlock(&conn->mtx);
	if (!gone)
		conn_wake(conn);
}

size_t net_conn_output_pending(struct net_conn *conn)
{
	pthread_mutex_lock(&conn->mtx);
	size_t n = evbuffer_get_length(conn->out) + conn->loop_out;
	pthread_mutex_unlock(&conn->mtx);
	return n;
}

/* Loop: hands what the jobs wrote to the bufferevent. The data is moved
 * out under the lock and into the bufferevent outside it, because adding
 * to the bufferevent runs conn_out_cb, which takes the lock. */
static void conn_flush_out(struct net_conn *conn)
{
	struct evbuffer *tmp = conn->loop->tmp;
	pthread_mutex_lock(&conn->mtx);
	size_t n = evbuffer_get_length(conn->out);
	if (n == 0) {
		pthread_mutex_unlock(&conn->mtx);
		return;
	}
	if (conn->bev == NULL || conn->dead) {
		evbuffer_drain(conn->out, n);
		pthread_mutex_unlock(&conn->mtx);
		return;
	}
	evbuffer_add_buffer(tmp, conn->out);
	conn->loop_out += n;
	pthread_mutex_unlock(&conn->mtx);
	if (conn->z == NULL) {
		evbuffer_add_buffer(bufferevent_get_output(conn->bev), tmp);
		return;
	}
	/* Compressed: what the socket takes is the deflated form, so that is
	 * what the back-pressure counts. */
	if (net_zstream_deflate(conn->z, tmp, conn->zbuf) < 0) {
		evbuffer_drain(tmp, evbuffer_get_length(tmp));
		evbuffer_drain(conn->zbuf, evbuffer_get_length(conn->zbuf));
		net_conn_kill(conn, "compression failed");
		return;
	}
	evbuffer_add_buffer(bufferevent_get_output(conn->bev), conn->zbuf);
	size_t total = conn_bev_out_len(conn);
	pthread_mutex_lock(&conn->mtx);
	conn->loop_out = total;
	if (conn->writers_waiting > 0 &&
		total + evbuffer_get_length(conn->out) <= conn->srv->cfg.output_high_water / 2)
		pthread_cond_broadcast(&conn->cond);
	pthread_mutex_unlock(&conn->mtx);
}

/* Loop: conn_flush_out, except for the output of a job still running,
 * which stays corked until the job ends unless the job pushed it
 * (NET_CORK_BYTES), flushed it (net_conn_flush) or waits for room (net.h:
 * "Output written during a job is corked"). Flushed early, a reply written just
 * before net_conn_starttls could leave before the TLS filter is in place:
 * the client's ClientHello would then reach the plaintext side and the
 * handshake stall (and a reply could overtake the end of its job). */
static void conn_flush_out_uncorked(struct net_conn *conn)
{
	pthread_mutex_lock(&conn->mtx);
	bool corked = conn->job_running && !conn->flush_req && conn->writers_waiting == 0 &&
		evbuffer_get_length(conn->out) < NET_CORK_BYTES;
	conn->flush_req = false;
	pthread_mutex_unlock(&conn->mtx);
	if (!corked)
		conn_flush_out(conn);
}

/* Loop: an output buffer changed (we added, or the socket took data). */
static void conn_out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct net_conn *conn = arg;
	size_t total = conn_bev_out_len(conn);
	if (info->n_deleted > 0 || info->orig_size == 0)
		conn->last_output_ms = net_now_ms();
	pthread_mutex_lock(&conn->mtx);
	conn->loop_out = total;
	size_t pending = total + evbuffer_get_length(conn->out);
	if (conn->writers_waiting > 0 && pending <= conn->srv->cfg.output_high_water / 2)
		pthread_cond_broadcast(&conn->cond);
	pthread_mutex_unlock(&conn->mtx);
	if (total == 0 && conn->phase == NET_PHASE_CLOSING)
		conn_wake(conn);
}

/* --- Socket setup --- */

static void conn_setup_bev(struct net_conn *conn, struct bufferevent *bev)
{
	bufferevent_setcb(bev, conn_read_cb, NULL, conn_event_cb, conn);
	bufferevent_setwatermark(bev, EV_READ, 0, conn->applied_max);
	conn->out_cb = evbuffer_add_cb(bufferevent_get_output(bev), conn_out_cb, conn);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void conn_release_socket(struct net_conn *conn)
{
	if (conn->bev == NULL)
		return;
	if (conn->out_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_output(conn->bev), conn->out_cb);
	if (conn->under_out_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_output(conn->under), conn->under_out_cb);
	conn->out_cb = conn->under_out_cb = NULL;
	/* A worker writes to conn->fd only under the lock and while it is
	 * not -1: take it away before the descriptor can be closed and
	 * reused by another connection. */
	pthread_mutex_lock(&conn->mtx);
	conn->fd = -1;
	conn->dead = true;
	pthread_mutex_unlock(&conn->mtx);
	/* BEV_OPT_CLOSE_ON_FREE: frees the SSL, a STARTTLS filter's
	 * underlying bufferevent, and closes the socket. */
	bufferevent_free(conn->bev);
	conn->bev = conn->under = NULL;
	conn->ssl = NULL;
	pthread_mutex_lock(&conn->mtx);
	conn->dead = true;
	conn->loop_out = 0;
	evbuffer_drain(conn->out, evbuffer_get_length(conn->out));
	pthread_cond_broadcast(&conn->cond);
	pthread_mutex_unlock(&conn->mtx);
}

static void conn_arm_timer(struct net_conn *conn, uint64_t ms)
{
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	event_add(conn->timer, &tv);
}

static void conn_format_addr(const struct sockaddr_storage *sa, char *addr, size_t addr_size,
	char *ip, size_t ip_size)
{
	char tmp[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, tmp, sizeof(tmp));
		port = ntohs(sin->sin_port);
		snprintf(addr, addr_size, "%s:%u", tmp, port);
	} else if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, tmp, sizeof(tmp));
		port = ntohs(sin6->sin6_port);
		snprintf(addr, addr_size, "[%s]:%u", tmp, port);
	} else {
		snprintf(addr, addr_size, "?");
	}
	if (ip != NULL)
		str_lcpy(ip, tmp, ip_size);
}

static void conn_start_job(struct net_conn *conn, enum net_job_kind kind);

void net_conn_accept(struct net_loop *loop, struct net_incoming *inc)
{
	struct net_listener *lst = inc->listener;
	struct net_server *srv = loop->srv;
	struct net_conn *conn = xcalloc(1, sizeof(*conn));
	conn->srv = srv;
	conn->loop = loop;
	conn->listener = lst;
	conn->proto = lst->protocol;
	atomic_init(&conn->refs, 1); /* the loop's */
	conn->id = atomic_fetch_add(&srv->next_id, 1);
	snprintf(conn->session, sizeof(conn->session), "%s-%llu",
		conn->proto->name ? conn->proto->name : "conn", (unsigned long long)conn->id);
	conn_format_addr(&inc->addr, conn->peer, sizeof(conn->peer),
		conn->peer_ip, sizeof(conn->peer_ip));
	struct sockaddr_storage local;
	socklen_t local_len = sizeof(local);
	if (getsockname(inc->fd, (struct sockaddr *)&local, &local_len) == 0)
		conn_format_addr(&local, conn->local, sizeof(conn->local), NULL, 0);
	str_lcpy(conn->ip_key, inc->ip_key, sizeof(conn->ip_key));
	conn->log.session = conn->session;
	conn->log.peer = conn->peer;
	conn->net_log.session = conn->session;
	conn->net_log.peer = conn->peer;
	pthread_mutex_init(&conn->mtx, NULL);
	pthread_cond_init(&conn->cond, NULL);
	conn->out = evbuffer_new();
	conn->max_command = lst->max_command;
	conn->applied_max = lst->max_command;
	conn->idle_timeout_s = lst->idle_timeout_s;
	conn->in_framed = SIZE_MAX;
	conn->fd = lst->implicit_tls ? -1 : inc->fd;
	buf_init(&conn->in, NULL);
	conn->created_ms = conn->last_input_ms = conn->last_output_ms = net_now_ms();

	if (lst->implicit_tls) {
		conn->ssl = SSL_new(lst->tls);
		if (conn->ssl != NULL) {
			SSL_set_mode(conn->ssl, SSL_MODE_RELEASE_BUFFERS);
			conn->bev = bufferevent_openssl_socket_new(loop->base, inc->fd, conn->ssl,
				BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
		}
		if (conn->bev != NULL)
			/* A client that closes without close_notify only ends
			 * its input; our framing never depends on EOF. */
			bufferevent_openssl_set_allow_dirty_shutdown(conn->bev, 1);
		conn->is_tls = true;
		conn->phase = NET_PHASE_HANDSHAKE;
	} else {
		conn->bev = bufferevent_socket_new(loop->base, inc->fd, BEV_OPT_CLOSE_ON_FREE);
		conn->phase = NET_PHASE_OPEN;
	}
	conn->prev = NULL;
	conn->next = loop->conns;
	if (loop->conns != NULL)
		loop->conns->prev = conn;
	loop->conns = conn;
	loop->n_conns++;
	conn->timer = evtimer_new(loop->base, conn_timer_cb, conn);
	if (conn->bev == NULL) {
		log_error(&conn->net_log, "net: cannot set up the connection");
		if (conn->ssl != NULL)
			SSL_free(conn->ssl);
		conn->ssl = NULL;
		close(inc->fd);
		conn->fd = -1;
		conn->dead = true;
		conn->phase = NET_PHASE_CLOSED;
		net_loop_wake_conn(loop, conn);
		return;
	}
	conn_setup_bev(conn, conn->bev);
	conn_arm_timer(conn, (uint64_t)conn->idle_timeout_s * 1000);
	log_debug(&conn->net_log, "net: connected to %s", conn->local);
	if (conn->phase == NET_PHASE_OPEN) {
		conn->connected = true;
		conn_start_job(conn, NET_JOB_CONNECT);
	}
}

/* --- Bufferevent callbacks: set flags, queue the connection --- */

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct net_conn *conn = arg;
	conn->last_input_ms = net_now_ms();
	if (conn->phase >= NET_PHASE_CLOSING) {
		/* Closing: input is discarded (and drained, so that the peer
		 * does not get a reset while our last reply is on its way). */
		struct evbuffer *in = bufferevent_get_input(bev);
		size_t n = evbuffer_get_length(in);
		if (n > 0) {
			conn->discarded_input = true;
			evbuffer_drain(in, n);
		}
		return;
	}
	conn_wake(conn);
}

static void conn_log_tls_errors(struct net_conn *conn, struct bufferevent *bev, const char *what)
{
	unsigned long err;
	bool any = false;
	while ((err = bufferevent_get_openssl_error(bev)) != 0) {
		char msg[256];
		ERR_error_string_n(err, msg, sizeof(msg));
		log_info(&conn->net_log, "net: %s: %s", what, msg);
		any = true;
	}
	if (!any)
		log_debug(&conn->net_log, "net: %s", what);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct net_conn *conn = arg;
	if (what & BEV_EVENT_CONNECTED) {
		conn->handshake_done = true;
		log_debug(&conn->net_log, "net: TLS handshake done (%s)", SSL_get_version(conn->ssl));
	} else if ((what & BEV_EVENT_EOF) && conn->phase != NET_PHASE_HANDSHAKE) {
		conn->peer_eof = true;
	} else if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF | BEV_EVENT_TIMEOUT)) {
		if (conn->ssl != NULL && (what & BEV_EVENT_ERROR))
			conn_log_tls_errors(conn, bev,
				conn->handshake_done || conn->phase == NET_PHASE_OPEN ?
					"TLS error" : "TLS handshake failed");
		else if (what & BEV_EVENT_ERROR)
			log_debug(&conn->net_log, "net: socket error: %s",
				strerror(EVUTIL_SOCKET_ERROR()));
		pthread_mutex_lock(&conn->mtx);
		conn->dead = true;
		pthread_cond_broadcast(&conn->cond);
		pthread_mutex_unlock(&conn->mtx);
	}
	conn_wake(conn);
}

/* --- Timers --- */

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_conn *conn = arg;
	uint64_t now = net_now_ms();
	pthread_mutex_lock(&conn->mtx);
	bool busy = conn->job_running || conn->paused;
	bool job_done = conn->job_done;
	size_t pending = evbuffer_get_length(conn->out) + conn->loop_out;
	uint64_t timeout = (uint64_t)conn->idle_timeout_s * 1000;
	pthread_mutex_unlock(&conn->mtx);

	uint64_t next = timeout;
	if (conn->lingering) {
		if (now >= conn->linger_until_ms) {
			conn->linger_over = true;
			conn_wake(conn);
			return;
		}
		next = conn->linger_until_ms - now;
	} else if (pending > 0 && conn->bev != NULL) {
		/* The peer does not read: give up on it, which also releases
		 * a writer blocked on back-pressure. */
		if (now - conn->last_output_ms >= timeout) {
			net_conn_kill(conn, "write timeout");
			return;
		}
		next = timeout - (now - conn->last_output_ms);
	} else if (conn->phase == NET_PHASE_HANDSHAKE) {
		if (now - conn->created_ms >= timeout) {
			net_conn_kill(conn, "TLS handshake timeout");
			return;
		}
		next = timeout - (now - conn->created_ms);
	} else if (conn->phase == NET_PHASE_OPEN && job_done) {
		/* A job ended without waking the loop (conn_job_run):
		 * account for it first; that re-arms this timer. */
		conn_wake(conn);
		return;
	} else if (conn->phase == NET_PHASE_OPEN && !busy) {
		if (now - conn->last_input_ms >= timeout) {
			pthread_mutex_lock(&conn->mtx);
			conn->timed_out = true;
			pthread_mutex_unlock(&conn->mtx);
			conn_wake(conn);
			return;
		}
		next = timeout - (now - conn->last_input_ms);
	}
	if (next == 0)
		next = 1;
	conn_arm_timer(conn, next);
}

static void conn_post_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_wake(arg);
}

/* --- Jobs --- */

static void conn_start_job(struct net_conn *conn, enum net_job_kind kind)
{
	conn->job_kind = kind;
	conn->job.run = conn_job_run;
	/* What the loop already knows it must act on when the job ends:
	 * input beyond this command (pipelined, or held in the bufferevent)
	 * to frame, or the peer's EOF to close on. Nothing else will wake
	 * it for these. */
	size_t buffered = conn->in.len - conn->in_off;
	size_t mine = kind == NET_JOB_COMMAND ? conn->job_len : 0;
	conn->job_needs_loop = buffered > mine || conn->peer_eof ||
		(conn->bev != NULL && evbuffer_get_length(bufferevent_get_input(conn->bev)) > 0) ||
		(conn->z != NULL && net_zstream_inflate_pending(conn->z));
	pthread_mutex_lock(&conn->mtx);
	HERMOD_ASSERT(!conn->job_running);
	conn->job_running = true;
	conn->job_done = false;
	conn->missed = false;
	conn->flush_req = false;
	pthread_mutex_unlock(&conn->mtx);
	net_conn_ref(conn); /* the job's */
	net_workers_submit(conn->srv->workers, &conn->job);
}

/* Worker, under conn->mtx, at the end of a job: true when the loop has
 * nothing to do about it until the next thing happens on the connection
 * (input, a post, a timer), so the job need not wake it. The loop then
 * accounts for the job when it next processes the connection. This and
 * conn_write_direct save the worker-to-loop hand-off of a request/reply
 * exchange, which profiles showed to be most of a small command's cost. */
static bool conn_job_end_quiet(struct net_conn *conn)
{
	switch (conn->job_kind) {
	case NET_JOB_CONNECT:
	case NET_JOB_COMMAND:
	case NET_JOB_POST:
		break;
	default:
		return false;
	}
	return !conn->close_req && !conn->dead && !conn->starttls_req && !conn->compress_req &&
		!conn->shutdown_req &&
		!conn->timed_out && !conn->missed && !conn->job_needs_loop &&
		conn->posts == NULL && conn->writers_waiting == 0;
}

/* Worker, under conn->mtx: writes the job's corked output straight to a
 * plain socket when nothing is queued ahead of it on the loop's side.
 * Returns true when all of it went (or there was none); what the socket
 * does not take at once stays for the loop. */
static bool conn_write_direct(struct net_conn *conn)
{
	size_t len = evbuffer_get_length(conn->out);
	if (len == 0)
		return true;
	if (conn->fd < 0 || conn->loop_out > 0)
		return false;
	struct iovec iov[16];
	int n = evbuffer_peek(conn->out, -1, NULL, iov, 16);
	if (n <= 0)
		return false;
	if (n > 16)
		n = 16; /* the rest goes through the loop */
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
	ssize_t w = sendmsg(conn->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w <= 0)
		return false; /* EAGAIN or an error: the loop sees it */
	evbuffer_drain(conn->out, (size_t)w);
	return evbuffer_get_length(conn->out) == 0;
}

static void conn_job_run(struct net_job *job)
{
	/* container_of: the job is embedded in its connection. */
	struct net_conn *conn = (struct net_conn *)(void *)((char *)job - offsetof(struct net_conn, job));
	const struct net_protocol *proto = conn->proto;
	int r = 0;
	bool close_after = false;
	net_current_conn = conn;
	switch (conn->job_kind) {
	case NET_JOB_CONNECT:
		if (proto->on_connect != NULL)
			r = proto->on_connect(conn);
		break;
	case NET_JOB_COMMAND:
		r = proto->on_command(conn, conn->in.data + conn->in_off, conn->job_len);
		break;
	case NET_JOB_POST:
		conn->job_post->fn(conn, conn->job_post->arg);
		break;
	case NET_JOB_OVERFLOW:
		if (proto->on_overflow != NULL)
			proto->on_overflow(conn);
		close_after = true;
		break;
	case NET_JOB_TIMEOUT:
		if (proto->on_timeout != NULL)
			proto->on_timeout(conn);
		close_after = true;
		break;
	case NET_JOB_SHUTDOWN:
		if (proto->on_shutdown != NULL)
			proto->on_shutdown(conn);
		close_after = true;
		break;
	case NET_JOB_CLOSE:
		if (proto->on_close != NULL)
			proto->on_close(conn);
		break;
	}
	net_current_conn = NULL;
	pthread_mutex_lock(&conn->mtx);
	if (r < 0 || close_after)
		conn->close_req = true;
	bool wake = !conn_job_end_quiet(conn) || !conn_write_direct(conn);
	conn->job_running = false;
	conn->job_done = true;
	conn->job_end_ms = net_now_ms();
	pthread_mutex_unlock(&conn->mtx);
	if (wake)
		conn_wake(conn);
	net_conn_unref(&conn);
}

/* --- Input --- */

static void conn_apply_max(struct net_conn *conn, size_t max)
{
	if (conn->applied_max == max || conn->bev == NULL)
		return;
	conn->applied_max = max;
	bufferevent_setwatermark(conn->bev, EV_READ, 0, max);
}

/* Drops consumed input; frees a large buffer once it is empty, so that
 * an idle connection holds little. */
static void conn_in_consume(struct net_conn *conn, size_t n)
{
	conn->in_off += n;
	if (conn->in_off >= conn->in.len) {
		conn->in_off = 0;
		buf_truncate(&conn->in, 0);
		if (conn->in.cap > 4096)
			buf_deinit(&conn->in);
	}
	conn->in_framed = SIZE_MAX;
}

static void conn_in_discard(struct net_conn *conn)
{
	if (conn->in.len > conn->in_off)
		conn->discarded_input = true;
	conn->in_off = 0;
	buf_deinit(&conn->in);
	conn->in_framed = SIZE_MAX;
	if (conn->bev != NULL) {
		struct evbuffer *in = bufferevent_get_input(conn->bev);
		size_t n = evbuffer_get_length(in);
		if (n > 0) {
			conn->discarded_input = true;
			evbuffer_drain(in, n);
		}
	}
}

/* Compressed input: inflates from bevin into conn->in until *avail
 * reaches max or no more comes out, a slice at a time (max can be an
 * APPEND literal's size). The limit applies to the inflated bytes, so a
 * small compressed input cannot grow past it. -1 (and the connection is
 * killed) for corrupt input. */
#define NET_INFLATE_STEP (256 * 1024)
static int conn_inflate(struct net_conn *conn, struct evbuffer *bevin, size_t max, size_t *avail)
{
	while (*avail < max) {
		size_t room = max - *avail;
		if (room > NET_INFLATE_STEP)
			room = NET_INFLATE_STEP;
		size_t old = conn->in.len;
		unsigned char *dst = buf_append_space(&conn->in, room);
		ssize_t got = net_zstream_inflate(conn->z, bevin, dst, room);
		buf_truncate(&conn->in, old + (got > 0 ? (size_t)got : 0));
		if (got < 0) {
			log_info(&conn->net_log, "net: corrupt compressed input, closing");
			net_conn_kill(conn, "corrupt compressed input");
			return -1;
		}
		*avail += (size_t)got;
		if ((size_t)got < room)
			break;
	}
	return 0;
}

/* Finds the next command. Returns its length, 0 when more input is
 * needed, or -1 when the input can never become a valid command. */
static ssize_t conn_frame(struct net_conn *conn)
{
	if (conn->bev == NULL)
		return 0;
	struct evbuffer *bevin = bufferevent_get_input(conn->bev);
	for (;;) {
		pthread_mutex_lock(&conn->mtx);
		size_t max = conn->max_command;
		pthread_mutex_unlock(&conn->mtx);
		conn_apply_max(conn, max);
		size_t avail = conn->in.len - conn->in_off;
		size_t more = evbuffer_get_length(bevin);
		bool held = conn->z != NULL && net_zstream_inflate_pending(conn->z);
		if (avail < max && (more > 0 || held)) {
			if (conn->in_off > 0 && conn->in_off >= conn->in.len / 2) {
				buf_consume(&conn->in, conn->in_off);
				conn->in_off = 0;
			}
			if (conn->z != NULL) {
				if (conn_inflate(conn, bevin, max, &avail) < 0)
					return 0;
			} else {
				if (more > max - avail)
					more = max - avail;
				unsigned char *dst = buf_append_space(&conn->in, more);
				evbuffer_remove(bevin, dst, more);
				avail += more;
			}
		}
		if (avail == 0 || avail == conn->in_framed)
			return 0;
		ssize_t r = conn->proto->frame(conn, conn->in.data + conn->in_off, avail);
		if (r < 0)
			return -1;
		pthread_mutex_lock(&conn->mtx);
		size_t max_now = conn->max_command;
		pthread_mutex_unlock(&conn->mtx);
		if (r > 0) {
			if ((size_t)r > avail) {
				log_error(&conn->net_log, "net: frame() returned %zd of %zu bytes", r, avail);
				return -1;
			}
			/* Input buffered before the limit was lowered can hold a
			 * command longer than the limit now is. */
			if ((size_t)r > max_now)
				return -1;
			conn->in_framed = SIZE_MAX;
			return r;
		}
		conn->in_framed = avail;
		if (avail >= max_now)
			return -1;
		/* frame() may have raised the limit (a literal was announced):
		 * pull in what the old limit held back. */
		if (max_now > max && (evbuffer_get_length(bevin) > 0 ||
					     (conn->z != NULL && net_zstream_inflate_pending(conn->z))))
			continue;
		return 0;
	}
}

/* --- STARTTLS --- */

static void conn_starttls(struct net_conn *conn)
{
	/* The positive reply goes out in plaintext ahead of the handshake:
	 * flush it into the socket bufferevent before the filter sits on
	 * top. */
	conn_flush_out(conn);
	/* RFC 3207 4.2, RFC 3501 6.2.1: what the client sent after STARTTLS
	 * was sent in the clear and must not be acted on. */
	conn_in_discard(conn);
	conn->discarded_input = false;
	SSL *ssl = SSL_new(conn->listener->tls);
	struct bufferevent *filter = NULL;
	if (ssl != NULL) {
		SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
		filter = bufferevent_openssl_filter_new(conn->loop->base, conn->bev, ssl,
			BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	}
	if (filter != NULL)
		bufferevent_openssl_set_allow_dirty_shutdown(filter, 1);
	if (filter == NULL) {
		if (ssl != NULL)
			SSL_free(ssl);
		log_error(&conn->net_log, "net: cannot start TLS");
		net_conn_kill(conn, "STARTTLS failed");
		return;
	}
	/* The socket bufferevent now belongs to the filter; our callbacks on
	 * it are replaced by the filter's, except the output counter. */
	pthread_mutex_lock(&conn->mtx);
	conn->fd = -1;
	pthread_mutex_unlock(&conn->mtx);
	conn->under = conn->bev;
	conn->under_out_cb = conn->out_cb;
	conn->bev = filter;
	conn->ssl = ssl;
	conn->is_tls = true;
	conn->handshake_done = false;
	/* The filter writes into the socket bufferevent only up to its
	 * high-water mark, so encrypted output is bounded too. */
	bufferevent_setwatermark(conn->under, EV_WRITE, 0, conn->srv->cfg.output_high_water);
	bufferevent_setwatermark(conn->under, EV_READ, 0, NET_TLS_RAW_INPUT_MAX);
	conn_setup_bev(conn, filter);
	log_debug(&conn->net_log, "net: STARTTLS");
}

/* --- Compression --- */

static void conn_compress_start(struct net_conn *conn, int level)
{
	/* The positive reply goes out uncompressed (RFC 4978 3). */
	conn_flush_out(conn);
	conn->z = net_zstream_new(level);
	conn->zbuf = evbuffer_new();
	/* Jobs may no longer write to the socket themselves
	 * (conn_write_direct): everything goes through the deflater. */
	pthread_mutex_lock(&conn->mtx);
	conn->fd = -1;
	pthread_mutex_unlock(&conn->mtx);
	if (conn->z == NULL || conn->zbuf == NULL) {
		log_error(&conn->net_log, "net: cannot start compression");
		net_conn_kill(conn, "compression failed");
		return;
	}
	/* What the client sent after the command is compressed already: it
	 * goes back in front of the input, to be inflated. */
	size_t rest = conn->in.len - conn->in_off;
	if (rest > 0)
		evbuffer_prepend(bufferevent_get_input(conn->bev), conn->in.data + conn->in_off,
			rest);
	conn->in_off = 0;
	buf_truncate(&conn->in, 0);
	conn->in_framed = SIZE_MAX;
	log_debug(&conn->net_log, "net: compression on (deflate level %d)", level);
}

/* --- The state machine --- */

static void conn_free_posts(struct net_post *p)
{
	while (p != NULL) {
		struct net_post *next = p->next;
		if (p->free_arg != NULL)
			p->free_arg(p->arg);
		free(p);
		p = next;
	}
}

/* Takes the first post that is due; arms the post timer for the next. */
static struct net_post *conn_take_post(struct net_conn *conn)
{
	uint64_t now = net_now_ms();
	uint64_t next_due = UINT64_MAX;
	struct net_post *found = NULL;
	pthread_mutex_lock(&conn->mtx);
	struct net_post **pp = &conn->posts, *prev = NULL;
	while (*pp != NULL) {
		struct net_post *p = *pp;
		if (p->due_ms <= now) {
			*pp = p->next;
			if (conn->posts_tail == p)
				conn->posts_tail = prev;
			found = p;
			break;
		}
		if (p->due_ms < next_due)
			next_due = p->due_ms;
		prev = p;
		pp = &p->next;
	}
	if (found == NULL) {
		for (struct net_post *p = conn->posts; p != NULL; p = p->next)
			if (p->due_ms < next_due)
				next_due = p->due_ms;
	}
	pthread_mutex_unlock(&conn->mtx);
	if (found == NULL && next_due != UINT64_MAX) {
		if (conn->post_timer == NULL)
			conn->post_timer = evtimer_new(conn->loop->base, conn_post_timer_cb, conn);
		uint64_t ms = next_due > now ? next_due - now : 0;
		struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
			.tv_usec = (suseconds_t)(ms % 1000) * 1000};
		event_add(conn->post_timer, &tv);
	}
	return found;
}

static void conn_destroy(struct net_conn *conn)
{
	conn->phase = NET_PHASE_DESTROYED;
	conn_release_socket(conn);
	event_free(conn->timer);
	conn->timer = NULL;
	if (conn->post_timer != NULL)
		event_free(conn->post_timer);
	conn->post_timer = NULL;
	buf_deinit(&conn->in);
	net_zstream_free(&conn->z);
	if (conn->zbuf != NULL)
		evbuffer_free(conn->zbuf);
	conn->zbuf = NULL;
	pthread_mutex_lock(&conn->mtx);
	conn->gone = true;
	conn->dead = true;
	struct net_post *posts = conn->posts;
	conn->posts = conn->posts_tail = NULL;
	pthread_mutex_unlock(&conn->mtx);
	conn_free_posts(posts);
	pool_free(&conn->pool);
	log_debug(&conn->net_log, "net: closed");
	net_server_uncount(conn->srv, conn->ip_key);
	net_loop_conn_gone(conn->loop, conn);
	net_conn_unref(&conn);
}

/* After a job: account for what it did. */
static void conn_job_finished(struct net_conn *conn)
{
	pthread_mutex_lock(&conn->mtx);
	uint64_t end_ms = conn->job_end_ms;
	pthread_mutex_unlock(&conn->mtx);
	/* The idle clock restarts when the job returned, which may be a while
	 * before the loop learns of it. */
	conn->last_input_ms = end_ms;
	switch (conn->job_kind) {
	case NET_JOB_COMMAND:
		conn_in_consume(conn, conn->job_len);
		break;
	case NET_JOB_POST:
		free(conn->job_post);
		conn->job_post = NULL;
		break;
	case NET_JOB_CLOSE:
		conn->phase = NET_PHASE_CLOSED;
		break;
	default:
		break;
	}
	pthread_mutex_lock(&conn->mtx);
	bool starttls = conn->starttls_req;
	conn->starttls_req = false;
	int compress = conn->compress_req;
	conn->compress_req = 0;
	bool closing = conn->close_req || conn->dead;
	unsigned timeout_s = conn->idle_timeout_s;
	pthread_mutex_unlock(&conn->mtx);
	if (starttls && !closing && conn->bev != NULL)
		conn_starttls(conn);
	if (compress > 0 && !closing && conn->bev != NULL)
		conn_compress_start(conn, compress - 1);
	if (conn->phase < NET_PHASE_CLOSING && conn->timer != NULL) {
		uint64_t timeout = (uint64_t)timeout_s * 1000, now = net_now_ms();
		uint64_t idle = now > end_ms ? now - end_ms : 0;
		conn_arm_timer(conn, idle < timeout ? timeout - idle : 1);
	}
}

static void conn_enter_closing(struct net_conn *conn)
{
	conn->phase = NET_PHASE_CLOSING;
	pthread_mutex_lock(&conn->mtx);
	struct net_post *posts = conn->posts;
	conn->posts = conn->posts_tail = NULL;
	pthread_mutex_unlock(&conn->mtx);
	conn_free_posts(posts);
	conn_in_discard(conn);
}

/* Server-initiated close while the peer may still be sending: half-close
 * and drain its input for a while instead of resetting the connection,
 * which could destroy our last reply in flight. */
static void conn_maybe_linger(struct net_conn *conn)
{
	if (conn->bev == NULL || conn->peer_eof)
		return;
	int fd = bufferevent_getfd(conn->under != NULL ? conn->under : conn->bev);
	int unread = 0;
	if (fd >= 0 && ioctl(fd, FIONREAD, &unread) < 0)
		unread = 0;
	if (!conn->discarded_input && unread == 0)
		return;
	if (fd < 0 || shutdown(fd, SHUT_WR) < 0)
		return;
	conn->lingering = true;
	conn->linger_until_ms = net_now_ms() + NET_LINGER_MS;
	conn_arm_timer(conn, NET_LINGER_MS);
}

static void conn_step_open(struct net_conn *conn)
{
	pthread_mutex_lock(&conn->mtx);
	bool closing = conn->dead || conn->close_req;
	bool shutdown = conn->shutdown_req && !conn->shutdown_started;
	bool timed_out = conn->timed_out;
	bool paused = conn->paused;
	pthread_mutex_unlock(&conn->mtx);
	if (closing) {
		conn_enter_closing(conn);
		return;
	}
	if (shutdown) {
		conn->shutdown_started = true;
		conn_start_job(conn, NET_JOB_SHUTDOWN);
		return;
	}
	if (timed_out) {
		log_debug(&conn->net_log, "net: idle timeout");
		conn_start_job(conn, NET_JOB_TIMEOUT);
		return;
	}
	/* Posted events and commands take turns when both are ready, so a
	 * stream of notifications cannot starve the client's commands. */
	ssize_t r = 0;
	if (!paused && conn->last_was_post) {
		r = conn_frame(conn);
		if (r != 0)
			goto frame_result;
	}
	struct net_post *post = conn_take_post(conn);
	if (post != NULL) {
		conn->job_post = post;
		conn->last_was_post = true;
		conn_start_job(conn, NET_JOB_POST);
		return;
	}
	if (paused)
		return;
	r = conn_frame(conn);
frame_result:
	conn->last_was_post = false;
	if (r > 0) {
		conn->job_len = (size_t)r;
		conn_start_job(conn, NET_JOB_COMMAND);
	} else if (r < 0) {
		log_info(&conn->net_log, "net: command too long or invalid, closing");
		conn_start_job(conn, NET_JOB_OVERFLOW);
	} else if (conn->peer_eof) {
		conn_enter_closing(conn);
	}
}

/* Returns true when the connection may be destroyed. */
static bool conn_step_closing(struct net_conn *conn)
{
	if (conn->bev != NULL) {
		struct evbuffer *in = bufferevent_get_input(conn->bev);
		size_t n = evbuffer_get_length(in);
		if (n > 0) {
			conn->discarded_input = true;
			evbuffer_drain(in, n);
		}
	}
	pthread_mutex_lock(&conn->mtx);
	bool dead = conn->dead;
	size_t pending = evbuffer_get_length(conn->out) + conn->loop_out;
	pthread_mutex_unlock(&conn->mtx);
	if (!dead && conn->bev != NULL) {
		if (pending > 0)
			return false; /* conn_out_cb queues us when it drains */
		if (conn->ssl != NULL && !conn->notify_sent && conn->handshake_done) {
			/* close_notify (RFC 8446 6.1); for a filter it lands in the
			 * socket bufferevent and is flushed like any output. */
			conn->notify_sent = true;
			(void)SSL_shutdown(conn->ssl);
			ERR_clear_error();
			if (conn_bev_out_len(conn) > 0)
				return false;
		}
		conn_maybe_linger(conn);
	}
	if (conn->connected && conn->proto->on_close != NULL) {
		conn_start_job(conn, NET_JOB_CLOSE);
		return false;
	}
	conn->phase = NET_PHASE_CLOSED;
	return true;
}

void net_conn_process(struct net_conn *conn)
{
	if (conn->phase == NET_PHASE_DESTROYED)
		return;
	conn_flush_out_uncorked(conn);
	pthread_mutex_lock(&conn->mtx);
	bool running = conn->job_running;
	bool done = conn->job_done;
	conn->job_done = false;
	if (running)
		conn->missed = true;
	bool dead = conn->dead;
	pthread_mutex_unlock(&conn->mtx);
	if (dead && conn->bev != NULL)
		conn_release_socket(conn); /* close the socket now, not after the job */
	if (running)
		return;
	if (done)
		conn_job_finished(conn);

	switch (conn->phase) {
	case NET_PHASE_HANDSHAKE:
		if (dead) {
			conn->phase = NET_PHASE_CLOSED;
			conn_destroy(conn);
		} else if (conn->handshake_done) {
			conn->phase = NET_PHASE_OPEN;
			conn->last_input_ms = net_now_ms();
			conn->connected = true;
			conn_start_job(conn, NET_JOB_CONNECT);
		}
		return;
	case NET_PHASE_OPEN:
		conn_step_open(conn);
		if (conn->phase != NET_PHASE_CLOSING)
			break;
		__attribute__((fallthrough));
	case NET_PHASE_CLOSING:
		if (conn_step_closing(conn) && !conn->lingering)
			conn_destroy(conn);
		return;
	case NET_PHASE_CLOSED:
		pthread_mutex_lock(&conn->mtx);
		dead = conn->dead;
		pthread_mutex_unlock(&conn->mtx);
		if (conn->lingering && !dead && !conn->peer_eof && !conn->linger_over)
			return;
		conn_destroy(conn);
		return;
	case NET_PHASE_DESTROYED:
		return;
	}
	conn_flush_out_uncorked(conn); /* a job may have started above */
}

/* --- Requests from other code --- */

void net_conn_shutdown_req(struct net_conn *conn)
{
	pthread_mutex_lock(&conn->mtx);
	conn->shutdown_req = true;
	pthread_mutex_unlock(&conn->mtx);
	if (conn->phase == NET_PHASE_HANDSHAKE)
		net_conn_kill(conn, "shutdown");
	else
		conn_wake(conn);
}

void net_conn_kill(struct net_conn *conn, const char *why)
{
	log_debug(&conn->net_log, "net: %s", why);
	pthread_mutex_lock(&conn->mtx);
	conn->dead = true;
	pthread_cond_broadcast(&conn->cond);
	pthread_mutex_unlock(&conn->mtx);
	conn_wake(conn);
}

void net_conn_close(struct net_conn *conn)
{
	pthread_mutex_lock(&conn->mtx);
	conn->close_req = true;
	bool gone = conn->gone;
	pthread_mutex_unlock(&conn->mtx);
	if (!gone)
		conn_wake(conn);
}

void net_conn_set_idle_timeout(struct net_conn *conn, unsigned seconds)
{
	pthread_mutex_lock(&conn->mtx);
	conn->idle_timeout_s = seconds > 0 ? seconds : conn->listener->idle_timeout_s;
	pthread_mutex_unlock(&conn->mtx);
}

void net_conn_set_max_command(struct net_conn *conn, size_t max)
{
	pthread_mutex_lock(&conn->mtx);
	conn->max_command = max > 0 ? max : conn->listener->max_command;
	pthread_mutex_unlock(&conn->mtx);
}

int net_conn_starttls(struct net_conn *conn)
{
	/* conn->z is set only between jobs: a job may read it. */
	if (conn->listener->tls == NULL || conn->is_tls || !conn_in_job(conn) ||
		conn->z != NULL)
		return -1;
	pthread_mutex_lock(&conn->mtx);
	conn->starttls_req = true;
	pthread_mutex_unlock(&conn->mtx);
	return 0;
}

int net_conn_compress(struct net_conn *conn, int level)
{
	if (level < 1 || level > 9 || !conn_in_job(conn) || conn->z != NULL)
		return -1;
	pthread_mutex_lock(&conn->mtx);
	bool busy = conn->compress_req != 0 || conn->starttls_req;
	if (!busy)
		conn->compress_req = level + 1;
	pthread_mutex_unlock(&conn->mtx);
	return busy ? -1 : 0;
}

bool net_conn_is_compressed(struct net_conn *conn)
{
	pthread_mutex_lock(&conn->mtx);
	bool req = conn->compress_req != 0;
	pthread_mutex_unlock(&conn->mtx);
	return req || conn->z != NULL;
}

void net_conn_post(struct net_conn *conn, unsigned delay_ms,
	void (*fn)(struct net_conn *conn, void *arg), void *arg, void (*free_arg)(void *arg))
{
	struct net_post *p = xcalloc(1, sizeof(*p));
	p->fn = fn;
	p->arg = arg;
	p->free_arg = free_arg;
	p->due_ms = net_now_ms() + delay_ms;
	pthread_mutex_lock(&conn->mtx);
	/* Once the connection is closing, posts are dropped like the ones
	 * still queued (conn_enter_closing); close_req covers the window
	 * before the loop has seen the request. */
	if (conn->gone || conn->dead || conn->close_req) {
		pthread_mutex_unlock(&conn->mtx);
		conn_free_posts(p);
		return;
	}
	if (conn->posts_tail != NULL)
		conn->posts_tail->next = p;
	else
		conn->posts = p;
	conn->posts_tail = p;
	pthread_mutex_unlock(&conn->mtx);
	conn_wake(conn);
}

void net_conn_pause(struct net_conn *conn)
{
	pthread_mutex_lock(&conn->mtx);
	conn->paused = true;
	pthread_mutex_unlock(&conn->mtx);
}

void net_conn_resume(struct net_conn *conn)
{
	pthread_mutex_lock(&conn->mtx);
	conn->paused = false;
	bool gone = conn->gone;
	pthread_mutex_unlock(&conn->mtx);
	if (!gone)
		conn_wake(conn);
}

/* --- Framing helpers --- */

ssize_t net_frame_line(const unsigned char *data, size_t len)
{
	const unsigned char *lf = memchr(data, '\n', len);
	return lf == NULL ? 0 : (ssize_t)(lf - data + 1);
}
