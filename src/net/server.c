/* The server: event-loop threads, listeners, accepting and admission
 * (connection limits), shutdown. Connections themselves live in conn.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/thread.h>

#include "core/hash.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "net/net_private.h"

#define NET_DEFAULT_MAX_CONNECTIONS 10000
#define NET_DEFAULT_HIGH_WATER (1024 * 1024)
#define NET_DEFAULT_GRACE_MS 10000
#define NET_DEFAULT_MAX_COMMAND (64 * 1024)
#define NET_DEFAULT_IDLE_TIMEOUT_S 300

static pthread_once_t net_evthread_once = PTHREAD_ONCE_INIT;
static int net_evthread_result;

static void net_evthread_init(void)
{
	/* libevent's locking must be on before the first event_base exists. */
	net_evthread_result = evthread_use_pthreads();
}

uint64_t net_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *net_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *net_error(const char *fmt, ...)
{
	static __thread char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return msg;
}

static unsigned net_ncpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : (unsigned)n;
}

/* --- Loops --- */

static void net_loop_begin_shutdown(struct net_loop *loop);

static void net_loop_check_done(struct net_loop *loop)
{
	if (!loop->shutting_down || loop->n_conns > 0 || loop->done)
		return;
	loop->done = true;
	if (loop->grace_ev != NULL)
		event_del(loop->grace_ev);
	struct net_server *srv = loop->srv;
	pthread_mutex_lock(&srv->mtx);
	srv->loops_done++;
	pthread_cond_broadcast(&srv->cond);
	pthread_mutex_unlock(&srv->mtx);
}

void net_server_uncount(struct net_server *srv, const char *ip_key)
{
	pthread_mutex_lock(&srv->mtx);
	HERMOD_ASSERT(srv->n_conns > 0);
	srv->n_conns--;
	size_t klen = strlen(ip_key);
	uintptr_t n = (uintptr_t)hash_get(srv->ip_counts, ip_key, klen, NULL);
	if (n <= 1)
		hash_del(srv->ip_counts, ip_key, klen, NULL);
	else
		hash_put(srv->ip_counts, ip_key, klen, (void *)(n - 1), NULL);
	pthread_mutex_unlock(&srv->mtx);
}

void net_loop_conn_gone(struct net_loop *loop, struct net_conn *conn)
{
	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		loop->conns = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	conn->prev = conn->next = NULL;
	loop->n_conns--;
	net_loop_check_done(loop);
}

void net_loop_wake_conn(struct net_loop *loop, struct net_conn *conn)
{
	pthread_mutex_lock(&loop->mtx);
	if (!conn->queued) {
		conn->queued = true;
		atomic_fetch_add(&conn->refs, 1);
		conn->queue_next = NULL;
		if (loop->queue_tail != NULL)
			loop->queue_tail->queue_next = conn;
		else
			loop->queue_head = conn;
		loop->queue_tail = conn;
	}
	pthread_mutex_unlock(&loop->mtx);
	/* Thread-safe with evthread: wakes the base if it is in its poll. */
	event_active(loop->wake_ev, EV_READ, 0);
}

static void net_loop_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_loop *loop = arg;
	pthread_mutex_lock(&loop->mtx);
	struct net_incoming *inc = loop->incoming;
	loop->incoming = NULL;
	struct net_conn *queue = loop->queue_head;
	loop->queue_head = loop->queue_tail = NULL;
	bool shutdown = loop->shutdown_req && !loop->shutting_down;
	pthread_mutex_unlock(&loop->mtx);

	/* The accept thread pushes new connections first-in first-out onto
	 * the front of the list; adopt them oldest first. */
	struct net_incoming *rev = NULL;
	while (inc != NULL) {
		struct net_incoming *next = inc->next;
		inc->next = rev;
		rev = inc;
		inc = next;
	}
	while (rev != NULL) {
		struct net_incoming *next = rev->next;
		if (loop->shutting_down || shutdown) {
			close(rev->fd);
			net_server_uncount(loop->srv, rev->ip_key);
		} else {
			net_conn_accept(loop, rev);
		}
		free(rev);
		rev = next;
	}
	while (queue != NULL) {
		/* Once its flag is cleared another thread may queue the
		 * connection again, rewriting queue_next: read it first. */
		pthread_mutex_lock(&loop->mtx);
		struct net_conn *next = queue->queue_next;
		queue->queued = false;
		pthread_mutex_unlock(&loop->mtx);
		net_conn_process(queue);
		net_conn_queue_unref(queue);
		queue = next;
	}
	if (shutdown)
		net_loop_begin_shutdown(loop);
	net_loop_check_done(loop);
}

static void net_loop_grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_loop *loop = arg;
	unsigned n = 0;
	for (struct net_conn *c = loop->conns; c != NULL; c = c->next) {
		net_conn_kill(c, "shutdown grace period over");
		n++;
	}
	if (n > 0)
		log_warning(NULL, "net: shutdown grace period over, %u connection(s) cut off", n);
}

static void net_loop_begin_shutdown(struct net_loop *loop)
{
	loop->shutting_down = true;
	for (struct net_conn *c = loop->conns; c != NULL; c = c->next)
		net_conn_shutdown_req(c);
	unsigned ms = loop->srv->cfg.shutdown_grace_ms;
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	event_add(loop->grace_ev, &tv);
}

static void *net_loop_main(void *arg)
{
	struct net_loop *loop = arg;
	event_base_loop(loop->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

/* --- Accepting --- */

/* The key connection limits count by: the address, or for IPv6 its /64
 * (one end site typically owns a whole /64, RFC 6177). */
static void net_ip_key(const struct sockaddr_storage *sa, char *key, size_t size, char *ip,
	size_t ip_size)
{
	key[0] = ip[0] = '\0';
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, ip, (socklen_t)ip_size);
		str_lcpy(key, ip, size);
	} else if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, (socklen_t)ip_size);
		struct in6_addr prefix = sin6->sin6_addr;
		memset(prefix.s6_addr + 8, 0, 8);
		char tmp[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, &prefix, tmp, sizeof(tmp));
		snprintf(key, size, "%s/64", tmp);
	} else {
		str_lcpy(key, "unknown", size);
		str_lcpy(ip, "unknown", ip_size);
	}
}

static void net_log_refusal(struct net_server *srv, const char *ip, const char *why)
{
	/* One line a second at most: a flood must not flood the log too. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	pthread_mutex_lock(&srv->mtx);
	bool log = srv->refuse_log_sec != (int64_t)ts.tv_sec;
	unsigned suppressed = srv->refuse_suppressed;
	if (log) {
		srv->refuse_log_sec = (int64_t)ts.tv_sec;
		srv->refuse_suppressed = 0;
	} else {
		srv->refuse_suppressed++;
	}
	pthread_mutex_unlock(&srv->mtx);
	if (!log)
		return;
	if (suppressed > 0)
		log_warning(NULL, "net: refused connection from %s: %s (and %u more refused)", ip,
			why, suppressed);
	else
		log_warning(NULL, "net: refused connection from %s: %s", ip, why);
}

static void net_accept_cb(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa,
	int socklen, void *arg)
{
	struct net_listener *lst = arg;
	struct net_server *srv = lst->srv;
	if (atomic_load(&srv->shutting_down)) {
		close(fd);
		return;
	}
	struct net_incoming *inc = xcalloc(1, sizeof(*inc));
	/* Copied first: the storage is aligned for every address type. */
	memcpy(&inc->addr, sa, (size_t)socklen <= sizeof(inc->addr) ? (size_t)socklen : sizeof(inc->addr));
	inc->addr_len = (socklen_t)socklen;
	char ip[INET6_ADDRSTRLEN];
	net_ip_key(&inc->addr, inc->ip_key, sizeof(inc->ip_key), ip, sizeof(ip));

	const char *refused = NULL;
	pthread_mutex_lock(&srv->mtx);
	size_t klen = strlen(inc->ip_key);
	uintptr_t per_ip = (uintptr_t)hash_get(srv->ip_counts, inc->ip_key, klen, NULL);
	if (srv->n_conns >= srv->cfg.max_connections)
		refused = "max_connections reached";
	else if (srv->cfg.max_conns_per_ip > 0 && per_ip >= srv->cfg.max_conns_per_ip)
		refused = "max_connections_per_ip reached";
	else {
		srv->n_conns++;
		hash_put(srv->ip_counts, inc->ip_key, klen, (void *)(per_ip + 1), NULL);
	}
	pthread_mutex_unlock(&srv->mtx);
	if (refused != NULL) {
		net_log_refusal(srv, ip, refused);
		close(fd);
		free(inc);
		return;
	}

	int one = 1;
	/* Replies are corked by us already; Nagle would only add latency. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	inc->fd = fd;
	inc->listener = lst;
	struct net_loop *loop = &srv->loops[srv->next_loop++ % srv->n_loops];
	pthread_mutex_lock(&loop->mtx);
	inc->next = loop->incoming;
	loop->incoming = inc;
	pthread_mutex_unlock(&loop->mtx);
	event_active(loop->wake_ev, EV_READ, 0);
}

static void net_listener_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_listener *lst = arg;
	for (unsigned i = 0; i < lst->n_evl; i++)
		evconnlistener_enable(lst->evl[i]);
}

static void net_accept_error_cb(struct evconnlistener *evl, void *arg)
{
	struct net_listener *lst = arg;
	int err = EVUTIL_SOCKET_ERROR();
	log_error(NULL, "net: accept on %s: %s", lst->address, strerror(err));
	/* Out of descriptors (EMFILE/ENFILE) leaves the listening socket
	 * readable: pause this listener a second instead of spinning. */
	for (unsigned i = 0; i < lst->n_evl; i++)
		evconnlistener_disable(lst->evl[i]);
	struct timeval tv = {1, 0};
	event_add(lst->retry_ev, &tv);
}

/* --- Shutdown --- */

static void net_server_begin_shutdown(struct net_server *srv)
{
	if (atomic_exchange(&srv->shutting_down, true))
		return;
	log_info(NULL, "net: shutting down");
	pthread_mutex_lock(&srv->mtx);
	struct net_listener *lst = srv->listeners;
	pthread_mutex_unlock(&srv->mtx);
	/* Listeners stop first: nothing new arrives while we drain. */
	for (; lst != NULL; lst = lst->next) {
		for (unsigned i = 0; i < lst->n_evl; i++) {
			evconnlistener_free(lst->evl[i]);
			lst->evl[i] = NULL;
		}
		lst->n_evl = 0;
		event_del(lst->retry_ev);
	}
	for (unsigned i = 0; i < srv->n_loops; i++) {
		struct net_loop *loop = &srv->loops[i];
		pthread_mutex_lock(&loop->mtx);
		loop->shutdown_req = true;
		pthread_mutex_unlock(&loop->mtx);
		event_active(loop->wake_ev, EV_READ, 0);
	}
}

static void net_shutdown_pipe_cb(evutil_socket_t fd, short what, void *arg)
{
	char b[64];
	while (read(fd, b, sizeof(b)) > 0) {
	}
	net_server_begin_shutdown(arg);
}

static void net_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	log_info(NULL, "net: caught signal %d", (int)sig);
	net_server_begin_shutdown(arg);
}

void net_server_shutdown(struct net_server *srv)
{
	/* write(2) is async-signal-safe; a full pipe means a wake-up is
	 * pending already. */
	char b = 1;
	ssize_t r = write(srv->shutdown_pipe[1], &b, 1);
	(void)r;
}

/* --- Server --- */

struct net_server *net_server_new(const struct net_server_config *cfg, const char **error_r)
{
	pthread_once(&net_evthread_once, net_evthread_init);
	if (net_evthread_result != 0) {
		*error_r = "libevent has no pthread support";
		return NULL;
	}
	struct net_server *srv = xcalloc(1, sizeof(*srv));
	srv->cfg = *cfg;
	unsigned ncpu = net_ncpu();
	if (srv->cfg.event_threads == 0)
		srv->cfg.event_threads = ncpu;
	if (srv->cfg.worker_threads == 0)
		srv->cfg.worker_threads = 4 * ncpu;
	if (srv->cfg.worker_threads < 4 && cfg->worker_threads == 0)
		srv->cfg.worker_threads = 4;
	if (srv->cfg.max_connections == 0)
		srv->cfg.max_connections = NET_DEFAULT_MAX_CONNECTIONS;
	if (srv->cfg.output_high_water == 0)
		srv->cfg.output_high_water = NET_DEFAULT_HIGH_WATER;
	if (srv->cfg.shutdown_grace_ms == 0)
		srv->cfg.shutdown_grace_ms = NET_DEFAULT_GRACE_MS;
	pthread_mutex_init(&srv->mtx, NULL);
	pthread_cond_init(&srv->cond, NULL);
	srv->ip_counts = hash_new(64);
	atomic_init(&srv->next_id, 1);
	atomic_init(&srv->shutting_down, false);
	srv->shutdown_pipe[0] = srv->shutdown_pipe[1] = -1;
	srv->workers = net_workers_new(srv->cfg.worker_threads);

	srv->n_loops = srv->cfg.event_threads;
	srv->loops = xcalloc(srv->n_loops, sizeof(*srv->loops));
	for (unsigned i = 0; i < srv->n_loops; i++) {
		struct net_loop *loop = &srv->loops[i];
		loop->srv = srv;
		loop->index = i;
		pthread_mutex_init(&loop->mtx, NULL);
		loop->base = event_base_new();
		if (loop->base == NULL) {
			*error_r = "cannot create an event base";
			net_server_free(&srv);
			return NULL;
		}
		loop->wake_ev = event_new(loop->base, -1, 0, net_loop_wake_cb, loop);
		loop->grace_ev = evtimer_new(loop->base, net_loop_grace_cb, loop);
		loop->tmp = evbuffer_new();
	}
	if (pipe2(srv->shutdown_pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		*error_r = net_error("pipe: %s", strerror(errno));
		net_server_free(&srv);
		return NULL;
	}
	srv->shutdown_ev = event_new(srv->loops[0].base, srv->shutdown_pipe[0], EV_READ | EV_PERSIST,
		net_shutdown_pipe_cb, srv);
	event_add(srv->shutdown_ev, NULL);
	return srv;
}

/* Splits "host:port", "[v6]:port" or "*:port". host is NULL for "*". */
static int net_parse_address(const char *address, char *host, size_t host_size, char *port,
	size_t port_size, bool *any_r, const char **error_r)
{
	const char *colon;
	*any_r = false;
	if (address[0] == '[') {
		const char *end = strchr(address, ']');
		if (end == NULL || end[1] != ':') {
			*error_r = net_error("%s: expected [IPv6]:port", address);
			return -1;
		}
		size_t n = (size_t)(end - address - 1);
		if (n == 0 || n >= host_size) {
			*error_r = net_error("%s: bad IPv6 address", address);
			return -1;
		}
		memcpy(host, address + 1, n);
		host[n] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(address, ':');
		if (colon == NULL || colon == address) {
			*error_r = net_error("%s: expected host:port", address);
			return -1;
		}
		size_t n = (size_t)(colon - address);
		if (memchr(address, ':', n) != NULL) {
			*error_r = net_error("%s: write IPv6 addresses as [addr]:port", address);
			return -1;
		}
		if (n >= host_size) {
			*error_r = net_error("%s: host name too long", address);
			return -1;
		}
		memcpy(host, address, n);
		host[n] = '\0';
		if (strcmp(host, "*") == 0)
			*any_r = true;
	}
	uint64_t p;
	if (str_to_u64(colon + 1, 65535, &p) < 0) {
		*error_r = net_error("%s: bad port", address);
		return -1;
	}
	snprintf(port, port_size, "%u", (unsigned)p);
	return 0;
}

static int net_bind_one(const struct addrinfo *ai, int port, const char *address,
	const char **error_r)
{
	/* A copy: the storage is aligned for every address type. */
	struct sockaddr_storage ss = {0};
	socklen_t sl = ai->ai_addrlen <= sizeof(ss) ? ai->ai_addrlen : sizeof(ss);
	memcpy(&ss, ai->ai_addr, sl);
	if (port > 0 && ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	else if (port > 0 && ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		ai->ai_protocol);
	if (fd < 0) {
		*error_r = net_error("%s: socket: %s", address, strerror(errno));
		return -1;
	}
	int one = 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* "[::]" means IPv6 only, so that "0.0.0.0" and "[::]" (or "*")
	 * can both be bound; nginx does the same. */
	if (ai->ai_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, SOMAXCONN) < 0) {
		*error_r = net_error("%s: %s", address, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int net_server_listen(struct net_server *srv, const struct net_listener_config *cfg,
	const char **error_r)
{
	if (cfg->protocol == NULL || cfg->protocol->frame == NULL || cfg->protocol->on_command == NULL) {
		*error_r = "listener without a protocol (frame and on_command are required)";
		return -1;
	}
	if (cfg->implicit_tls && cfg->tls == NULL) {
		*error_r = net_error("%s: implicit TLS without a TLS context", cfg->address);
		return -1;
	}
	if (atomic_load(&srv->shutting_down)) {
		*error_r = "the server is shutting down";
		return -1;
	}
	char host[256], port[8];
	bool any;
	if (net_parse_address(cfg->address, host, sizeof(host), port, sizeof(port), &any,
		    error_r) < 0)
		return -1;
	struct addrinfo hints = {.ai_flags = AI_PASSIVE, .ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM};
	struct addrinfo *res;
	int gai = getaddrinfo(any ? NULL : host, port, &hints, &res);
	if (gai != 0) {
		*error_r = net_error("%s: %s", cfg->address, gai_strerror(gai));
		return -1;
	}
	int fds[NET_LISTENER_MAX_SOCKETS];
	unsigned n = 0;
	int bound_port = -1;
	int ret = 0;
	for (struct addrinfo *ai = res; ai != NULL && n < NET_LISTENER_MAX_SOCKETS; ai = ai->ai_next) {
		/* With port 0, every socket of this listener takes the port the
		 * first one was given. */
		int fd = net_bind_one(ai, bound_port, cfg->address, error_r);
		if (fd < 0) {
			ret = -1;
			break;
		}
		fds[n++] = fd;
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		if (bound_port < 0 && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
			bound_port = ntohs(ss.ss_family == AF_INET ?
					((struct sockaddr_in *)&ss)->sin_port :
					((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	freeaddrinfo(res);
	if (ret == 0 && n == 0) {
		*error_r = net_error("%s: no address to listen on", cfg->address);
		ret = -1;
	}
	if (ret < 0) {
		for (unsigned i = 0; i < n; i++)
			close(fds[i]);
		return -1;
	}

	struct net_listener *lst = xcalloc(1, sizeof(*lst));
	lst->srv = srv;
	lst->address = xstrdup(cfg->address);
	lst->protocol = cfg->protocol;
	lst->protocol_ctx = cfg->protocol_ctx;
	lst->implicit_tls = cfg->implicit_tls;
	if (cfg->tls != NULL) {
		SSL_CTX_up_ref(cfg->tls);
		lst->tls = cfg->tls;
	}
	lst->max_command = cfg->max_command ? cfg->max_command : NET_DEFAULT_MAX_COMMAND;
	lst->idle_timeout_s = cfg->idle_timeout_s ? cfg->idle_timeout_s : NET_DEFAULT_IDLE_TIMEOUT_S;
	lst->port = bound_port;
	struct event_base *base0 = srv->loops[0].base;
	lst->retry_ev = evtimer_new(base0, net_listener_retry_cb, lst);

	pthread_mutex_lock(&srv->mtx);
	lst->index = srv->n_listeners++;
	if (srv->listeners_tail != NULL)
		srv->listeners_tail->next = lst;
	else
		srv->listeners = lst;
	srv->listeners_tail = lst;
	pthread_mutex_unlock(&srv->mtx);

	for (unsigned i = 0; i < n; i++) {
		/* LEV_OPT_THREADSAFE: listen() may be called while loop 0 runs. */
		lst->evl[i] = evconnlistener_new(base0, net_accept_cb, lst,
			LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_THREADSAFE, 0,
			fds[i]);
		if (lst->evl[i] == NULL) {
			close(fds[i]);
			continue;
		}
		evconnlistener_set_error_cb(lst->evl[i], net_accept_error_cb);
		lst->n_evl++;
	}
	log_info(NULL, "net: listening on %s (port %d, %s%s)", cfg->address, bound_port,
		cfg->protocol->name ? cfg->protocol->name : "?", cfg->implicit_tls ? ", TLS" : "");
	return 0;
}

int net_server_listener_port(struct net_server *srv, unsigned n)
{
	pthread_mutex_lock(&srv->mtx);
	struct net_listener *lst = srv->listeners;
	while (lst != NULL && lst->index != n)
		lst = lst->next;
	int port = lst != NULL ? lst->port : -1;
	pthread_mutex_unlock(&srv->mtx);
	return port;
}

int net_server_run(struct net_server *srv, bool catch_signals)
{
	pthread_mutex_lock(&srv->mtx);
	if (srv->ran) {
		pthread_mutex_unlock(&srv->mtx);
		return -1;
	}
	srv->ran = srv->running = true;
	pthread_mutex_unlock(&srv->mtx);

	/* A peer that closes while we write must not kill the process. */
	signal(SIGPIPE, SIG_IGN);
	if (catch_signals) {
		srv->sig_ev[0] = evsignal_new(srv->loops[0].base, SIGTERM, net_signal_cb, srv);
		srv->sig_ev[1] = evsignal_new(srv->loops[0].base, SIGINT, net_signal_cb, srv);
		event_add(srv->sig_ev[0], NULL);
		event_add(srv->sig_ev[1], NULL);
	}
	const char *error;
	int ret = 0;
	if (net_workers_start(srv->workers, &error) < 0) {
		log_error(NULL, "net: %s", error);
		net_server_shutdown(srv);
		ret = -1;
	}
	for (unsigned i = 0; i < srv->n_loops; i++) {
		struct net_loop *loop = &srv->loops[i];
		int err = pthread_create(&loop->thread, NULL, net_loop_main, loop);
		if (err != 0) {
			log_error(NULL, "net: cannot start event loop thread: %s", strerror(err));
			net_server_shutdown(srv);
			ret = -1;
			/* This loop will not run: it has no connections yet, so
			 * count it as drained. */
			loop->done = true;
			pthread_mutex_lock(&srv->mtx);
			srv->loops_done++;
			pthread_mutex_unlock(&srv->mtx);
			continue;
		}
		loop->thread_started = true;
	}
	if (!srv->loops[0].thread_started) {
		/* Nobody would see the shutdown request: drain by hand. */
		for (unsigned i = 0; i < srv->n_loops; i++)
			if (srv->loops[i].thread_started)
				event_base_loopbreak(srv->loops[i].base);
	} else {
		pthread_mutex_lock(&srv->mtx);
		while (srv->loops_done < srv->n_loops)
			pthread_cond_wait(&srv->cond, &srv->mtx);
		pthread_mutex_unlock(&srv->mtx);
	}
	/* Every connection is gone: only background jobs may be left. */
	net_workers_stop(srv->workers);
	for (unsigned i = 0; i < srv->n_loops; i++) {
		struct net_loop *loop = &srv->loops[i];
		if (!loop->thread_started)
			continue;
		/* loopexit, not loopbreak: the callbacks already active run
		 * first, among them the finalizers of the bufferevents freed
		 * last, which close their sockets. */
		event_base_loopexit(loop->base, NULL);
		pthread_join(loop->thread, NULL);
		loop->thread_started = false;
		/* Anything activated by those last callbacks: the thread is
		 * gone, so this thread may run the base. */
		event_base_loop(loop->base, EVLOOP_NONBLOCK);
	}
	for (unsigned i = 0; i < 2; i++) {
		if (srv->sig_ev[i] != NULL)
			event_free(srv->sig_ev[i]);
		srv->sig_ev[i] = NULL;
	}
	pthread_mutex_lock(&srv->mtx);
	srv->running = false;
	pthread_mutex_unlock(&srv->mtx);
	log_info(NULL, "net: stopped");
	return ret;
}

void net_server_free(struct net_server **srvp)
{
	struct net_server *srv = *srvp;
	if (srv == NULL)
		return;
	*srvp = NULL;
	HERMOD_ASSERT(!srv->running);
	net_workers_free(&srv->workers);
	struct net_listener *lst = srv->listeners;
	while (lst != NULL) {
		struct net_listener *next = lst->next;
		for (unsigned i = 0; i < lst->n_evl; i++)
			evconnlistener_free(lst->evl[i]);
		if (lst->retry_ev != NULL)
			event_free(lst->retry_ev);
		if (lst->tls != NULL)
			SSL_CTX_free(lst->tls);
		free(lst->address);
		free(lst);
		lst = next;
	}
	if (srv->shutdown_ev != NULL)
		event_free(srv->shutdown_ev);
	for (unsigned i = 0; i < srv->n_loops; i++) {
		struct net_loop *loop = &srv->loops[i];
		/* Connections exist only while the server runs; what may be
		 * left is queue entries of connections already destroyed and
		 * accepted sockets never adopted. */
		struct net_conn *q = loop->queue_head;
		while (q != NULL) {
			struct net_conn *next = q->queue_next;
			q->queued = false;
			net_conn_queue_unref(q);
			q = next;
		}
		struct net_incoming *inc = loop->incoming;
		while (inc != NULL) {
			struct net_incoming *next = inc->next;
			close(inc->fd);
			free(inc);
			inc = next;
		}
		if (loop->wake_ev != NULL)
			event_free(loop->wake_ev);
		if (loop->grace_ev != NULL)
			event_free(loop->grace_ev);
		if (loop->tmp != NULL)
			evbuffer_free(loop->tmp);
		if (loop->base != NULL)
			event_base_free(loop->base);
		pthread_mutex_destroy(&loop->mtx);
	}
	free(srv->loops);
	if (srv->shutdown_pipe[0] >= 0)
		close(srv->shutdown_pipe[0]);
	if (srv->shutdown_pipe[1] >= 0)
		close(srv->shutdown_pipe[1]);
	hash_free(&srv->ip_counts);
	pthread_mutex_destroy(&srv->mtx);
	pthread_cond_destroy(&srv->cond);
	free(srv);
}

struct net_bg_job {
	struct net_job job;
	void (*fn)(void *ctx);
	void *ctx;
};

static void net_bg_job_run(struct net_job *job)
{
	struct net_bg_job *bg = (struct net_bg_job *)job;
	bg->fn(bg->ctx);
	free(bg);
}

void net_server_submit(struct net_server *srv, void (*fn)(void *ctx), void *ctx)
{
	struct net_bg_job *bg = xcalloc(1, sizeof(*bg));
	bg->job.run = net_bg_job_run;
	bg->fn = fn;
	bg->ctx = ctx;
	net_workers_submit(srv->workers, &bg->job);
}

int net_raise_fd_limit(unsigned long *limit_r)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			return -1;
	}
	if (limit_r != NULL)
		*limit_r = (unsigned long)rl.rlim_cur;
	return 0;
}
