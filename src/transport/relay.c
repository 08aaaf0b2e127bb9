/* The relay client: finds the next hop (a configured route, the
 * smarthost, or the domain's MX hosts through c-ares, RFC 5321 5.1) and
 * speaks SMTP to it with blocking sockets on a queue runner thread
 * (timeouts on every read and write), with STARTTLS when offered
 * (RFC 3207; opportunistic unless require_tls, RFC 7435) and AUTH PLAIN
 * to a smarthost. The client side of SMTP is small enough that no Debian
 * library is worth the dependency (libesmtp is unmaintained). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <ares.h>
#include <arpa/nameser.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/base64.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "transport/relay.h"
#include "transport/transport_int.h"

#define MAX_HOSTS 16
#define MAX_ADDRS 32
#define REPLY_MAX 8192

struct hop {
	char host[256];
	uint16_t port;
	bool implicit_tls;
	bool smarthost;
};

struct addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char host[256];
	bool implicit_tls;
	bool smarthost;
};

/* --- DNS (c-ares) --- */

struct dns_wait {
	bool done;
	int status;
	unsigned char *abuf;
	int alen;
	struct ares_addrinfo *ai;
};

static void on_query(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	(void)timeouts;
	struct dns_wait *w = arg;
	w->done = true;
	w->status = status;
	if (status == ARES_SUCCESS && abuf != NULL && alen > 0) {
		w->abuf = xmemdup(abuf, (size_t)alen);
		w->alen = alen;
	}
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	(void)timeouts;
	struct dns_wait *w = arg;
	w->done = true;
	w->status = status;
	w->ai = ai;
}

/* Runs the channel until w is done (c-ares' own timeouts bound it). */
static void dns_run(ares_channel ch, struct dns_wait *w)
{
	while (!w->done) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		int bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		int n = 0;
		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short ev = 0;
			if (ARES_GETSOCK_READABLE(bits, i))
				ev |= POLLIN;
			if (ARES_GETSOCK_WRITABLE(bits, i))
				ev |= POLLOUT;
			if (ev) {
				pfd[n].fd = socks[i];
				pfd[n].events = ev;
				pfd[n].revents = 0;
				n++;
			}
		}
		if (n == 0) {
			if (!w->done)
				ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
			if (!w->done && ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM) == 0)
				break;
			continue;
		}
		struct timeval tv, *tvp = ares_timeout(ch, NULL, &tv);
		int ms = tvp ? (int)(tvp->tv_sec * 1000 + tvp->tv_usec / 1000) : 1000;
		int r = poll(pfd, (nfds_t)n, ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
			continue;
		}
		for (int i = 0; i < n; i++)
			ares_process_fd(ch, (pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) ? pfd[i].fd
											 : ARES_SOCKET_BAD,
				(pfd[i].revents & POLLOUT) ? pfd[i].fd : ARES_SOCKET_BAD);
	}
}

static int dns_channel(struct transport *t, ares_channel *ch_r)
{
	struct ares_options opts = {.timeout = 3000, .tries = 2};
	if (ares_init_options(ch_r, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) != ARES_SUCCESS)
		return -1;
	if (t->set.resolver != NULL && t->set.resolver[0] != '\0' &&
		ares_set_servers_ports_csv(*ch_r, t->set.resolver) != ARES_SUCCESS) {
		ares_destroy(*ch_r);
		return -1;
	}
	return 0;
}

/* MX hosts of domain in preference order (RFC 5321 5.1). Returns the
 * count; 0 when the domain has no MX (then the domain itself is the
 * host); -1 temporary failure; -2 the domain does not exist; -3 null MX
 * (RFC 7505: the domain accepts no mail). */
static int dns_mx(ares_channel ch, const char *domain, struct hop *hops, int max)
{
	struct dns_wait w = {0};
	ares_query(ch, domain, ns_c_in, ns_t_mx, on_query, &w);
	dns_run(ch, &w);
	if (w.status == ARES_ENOTFOUND)
		return -2;
	if (w.status == ARES_ENODATA)
		return 0;
	if (w.status != ARES_SUCCESS) {
		free(w.abuf);
		return -1;
	}
	struct ares_mx_reply *mx = NULL;
	int rc = ares_parse_mx_reply(w.abuf, w.alen, &mx);
	free(w.abuf);
	if (rc == ARES_ENODATA)
		return 0;
	if (rc != ARES_SUCCESS)
		return -1;
	int n = 0;
	for (struct ares_mx_reply *m = mx; m != NULL && n < max; m = m->next) {
		if (m->host[0] == '\0' || strcmp(m->host, ".") == 0) {
			ares_free_data(mx);
			return -3;
		}
		snprintf(hops[n].host, sizeof(hops[n].host), "%s", m->host);
		hops[n].port = m->priority; /* sorted below, then replaced */
		n++;
	}
	ares_free_data(mx);
	/* Lowest preference first; insertion sort keeps equal ones in
	 * answer order (RFC 5321 5.1 asks to randomize those; the
	 * resolver's order is already arbitrary). */
	for (int i = 1; i < n; i++) {
		struct hop h = hops[i];
		int j = i - 1;
		while (j >= 0 && hops[j].port > h.port) {
			hops[j + 1] = hops[j];
			j--;
		}
		hops[j + 1] = h;
	}
	return n;
}

static int dns_addrs(ares_channel ch, const struct hop *h, struct addr *out, int max)
{
	/* An address literal or an IP given in a route needs no lookup. */
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
		.ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	char port[8];
	snprintf(port, sizeof(port), "%u", h->port);
	const char *host = h->host;
	char lit[256];
	if (host[0] == '[') {
		snprintf(lit, sizeof(lit), "%s", host + 1);
		char *e = strchr(lit, ']');
		if (e)
			*e = '\0';
		host = str_case_starts_with(lit, "IPv6:") ? lit + 5 : lit;
	}
	int n = 0;
	if (getaddrinfo(host, port, &hints, &res) == 0) {
		for (struct addrinfo *a = res; a != NULL && n < max; a = a->ai_next, n++) {
			memcpy(&out[n].ss, a->ai_addr, a->ai_addrlen);
			out[n].len = a->ai_addrlen;
		}
		freeaddrinfo(res);
	} else {
		struct ares_addrinfo_hints ah = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
		struct dns_wait w = {0};
		ares_getaddrinfo(ch, host, port, &ah, on_addrinfo, &w);
		dns_run(ch, &w);
		if (w.status != ARES_SUCCESS || w.ai == NULL) {
			if (w.ai)
				ares_freeaddrinfo(w.ai);
			return w.status == ARES_ENOTFOUND || w.status == ARES_ENODATA ? -2 : -1;
		}
		for (struct ares_addrinfo_node *a = w.ai->nodes; a != NULL && n < max;
			a = a->ai_next, n++) {
			memcpy(&out[n].ss, a->ai_addr, a->ai_addrlen);
			out[n].len = a->ai_addrlen;
		}
		ares_freeaddrinfo(w.ai);
	}
	for (int i = 0; i < n; i++) {
		str_lcpy(out[i].host, h->host, sizeof(out[i].host));
		out[i].implicit_tls = h->implicit_tls;
		out[i].smarthost = h->smarthost;
	}
	return n;
}

static int parse_hostport(const char *s, struct hop *h, uint16_t def_port)
{
	memset(h, 0, sizeof(*h));
	const char *colon = NULL;
	if (s[0] == '[') {
		const char *e = strchr(s, ']');
		if (e == NULL)
			return -1;
		colon = e[1] == ':' ? e + 1 : NULL;
		snprintf(h->host, sizeof(h->host), "%.*s", (int)(e - s + 1), s);
	} else {
		colon = strrchr(s, ':');
		snprintf(h->host, sizeof(h->host), "%.*s",
			(int)(colon ? (size_t)(colon - s) : strlen(s)), s);
	}
	h->port = def_port;
	if (colon != NULL) {
		uint64_t p;
		if (str_to_u64(colon + 1, 65535, &p) < 0 || p == 0)
			return -1;
		h->port = (uint16_t)p;
	}
	return h->host[0] ? 0 : -1;
}

/* The configured route for domain ("domain=host:port", "*" for all). */
static const char *route_for(struct transport *t, const char *domain)
{
	const char *star = NULL;
	for (size_t i = 0; t->set.routes != NULL && t->set.routes[i] != NULL; i++) {
		const char *r = t->set.routes[i];
		const char *eq = strchr(r, '=');
		if (eq == NULL)
			continue;
		size_t dl = (size_t)(eq - r);
		if (dl == 1 && r[0] == '*')
			star = eq + 1;
		else if (dl == strlen(domain) && str_ncasecmp(r, domain, dl) == 0)
			return eq + 1;
	}
	return star;
}

/* --- The connection --- */

struct sconn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	unsigned char in[REPLY_MAX];
	size_t in_len;
	int timeout_ms;
	bool ext_starttls, ext_8bit, ext_smtputf8, ext_dsn, ext_size, ext_pipelining;
	bool ext_auth_plain;
	uint64_t max_size;
};

static int sc_connect(struct sconn *c, const struct addr *a, int timeout_ms, const char **err)
{
	c->fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		*err = strerror(errno);
		return -1;
	}
	int r = connect(c->fd, (const struct sockaddr *)&a->ss, a->len);
	if (r < 0 && errno != EINPROGRESS) {
		*err = strerror(errno);
		return -1;
	}
	if (r < 0) {
		struct pollfd p = {.fd = c->fd, .events = POLLOUT};
		if (poll(&p, 1, timeout_ms) <= 0) {
			*err = "connection timed out";
			return -1;
		}
		int e = 0;
		socklen_t el = sizeof(e);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el);
		if (e != 0) {
			*err = strerror(e);
			return -1;
		}
	}
	int fl = fcntl(c->fd, F_GETFL);
	fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK);
	struct timeval tv = {.tv_sec = c->timeout_ms / 1000, .tv_usec = (c->timeout_ms % 1000) * 1000};
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return 0;
}

static int sc_tls(struct sconn *c, const char *host, bool verify, const char **err)
{
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (c->ctx == NULL) {
		*err = "TLS context";
		return -1;
	}
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	if (verify) {
		SSL_CTX_set_default_verify_paths(c->ctx);
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	}
	c->ssl = SSL_new(c->ctx);
	SSL_set_fd(c->ssl, c->fd);
	if (host[0] != '[')
		SSL_set_tlsext_host_name(c->ssl, host);
	if (verify)
		SSL_set1_host(c->ssl, host);
	if (SSL_connect(c->ssl) != 1) {
		*err = verify ? "TLS handshake or certificate verification failed"
			      : "TLS handshake failed";
		ERR_clear_error();
		return -1;
	}
	return 0;
}

static void sc_close(struct sconn *c)
{
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->ctx)
		SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	ERR_clear_error();
	int t = c->timeout_ms;
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->timeout_ms = t;
}

static int sc_write(struct sconn *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	while (len > 0) {
		ssize_t w;
		if (c->ssl) {
			int r = SSL_write(c->ssl, p, len > INT32_MAX ? INT32_MAX : (int)len);
			w = r > 0 ? r : -1;
		} else {
			w = send(c->fd, p, len, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int sc_printf(struct sconn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sc_printf(struct sconn *c, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -1;
	return sc_write(c, line, (size_t)n);
}

/* Reads one (possibly multi-line) reply. Returns its code (100..599) with
 * the text of all lines in *text (from pool), or -1 on a broken
 * connection or garbage. */
static int sc_reply(struct sconn *c, pool_t *pool, char **text)
{
	struct buf all;
	buf_init(&all, pool);
	for (;;) {
		unsigned char *lf = memchr(c->in, '\n', c->in_len);
		if (lf == NULL) {
			if (c->in_len >= sizeof(c->in))
				return -1;
			ssize_t r;
			if (c->ssl) {
				int k = SSL_read(c->ssl, c->in + c->in_len, (int)(sizeof(c->in) - c->in_len));
				r = k > 0 ? k : -1;
			} else {
				r = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
				if (r < 0 && errno == EINTR)
					continue;
			}
			if (r <= 0)
				return -1;
			c->in_len += (size_t)r;
			continue;
		}
		size_t n = (size_t)(lf - c->in) + 1;
		size_t l = n;
		while (l > 0 && (c->in[l - 1] == '\n' || c->in[l - 1] == '\r'))
			l--;
		if (l < 3 || c->in[0] < '1' || c->in[0] > '5' || c->in[1] < '0' || c->in[1] > '9' ||
			c->in[2] < '0' || c->in[2] > '9' || (l > 3 && c->in[3] != ' ' && c->in[3] != '-'))
			return -1;
		int code = (c->in[0] - '0') * 100 + (c->in[1] - '0') * 10 + (c->in[2] - '0');
		bool more = l > 3 && c->in[3] == '-';
		if (all.len > 0)
			buf_append_str(&all, " / ");
		buf_append(&all, c->in, l);
		memmove(c->in, c->in + n, c->in_len - n);
		c->in_len -= n;
		if (!more) {
			*text = (char *)buf_cstr(&all);
			return code;
		}
		if (all.len > REPLY_MAX)
			return -1;
	}
}

static void parse_ehlo(struct sconn *c, const char *text)
{
	/* text is "250-host / 250-PIPELINING / 250 SIZE 1000": look at the
	 * keyword after each code. */
	c->ext_starttls = c->ext_8bit = c->ext_smtputf8 = c->ext_dsn = false;
	c->ext_size = c->ext_pipelining = c->ext_auth_plain = false;
	for (const char *p = text; p != NULL && *p;) {
		const char *kw = p + 4;
		const char *end = strstr(p, " / ");
		size_t len = end ? (size_t)(end - kw) : strlen(kw);
		if (len >= 8 && str_ncasecmp(kw, "STARTTLS", 8) == 0)
			c->ext_starttls = true;
		else if (len >= 8 && str_ncasecmp(kw, "8BITMIME", 8) == 0)
			c->ext_8bit = true;
		else if (len >= 8 && str_ncasecmp(kw, "SMTPUTF8", 8) == 0)
			c->ext_smtputf8 = true;
		else if (len == 3 && str_ncasecmp(kw, "DSN", 3) == 0)
			c->ext_dsn = true;
		else if (len >= 4 && str_ncasecmp(kw, "SIZE", 4) == 0) {
			c->ext_size = true;
			uint64_t v;
			if (len > 5 && str_to_u64_n(kw + 5, len - 5, UINT64_MAX, &v) == 0)
				c->max_size = v;
		} else if (len >= 4 && str_ncasecmp(kw, "AUTH", 4) == 0) {
			char tmp[256];
			snprintf(tmp, sizeof(tmp), "%.*s", (int)(len < 255 ? len : 255), kw);
			for (char *q = tmp; *q; q++)
				*q = (char)ascii_toupper(*q);
			if (strstr(tmp, " PLAIN") != NULL || strstr(tmp, "=PLAIN") != NULL)
				c->ext_auth_plain = true;
		}
		p = end ? end + 3 : NULL;
	}
}

/* Sets every recipient still undecided (status RELAY_OK and no reply) to
 * status with reply. */
static void set_all(struct relay_rcpt *r, size_t n, bool *decided, enum relay_status st,
	const char *code, const char *reply, const char *mta, pool_t *pool)
{
	for (size_t i = 0; i < n; i++) {
		if (decided[i])
			continue;
		r[i].status = st;
		snprintf(r[i].status_code, sizeof(r[i].status_code), "%s", code);
		r[i].reply = pool_strdup(pool, reply);
		r[i].remote_mta = mta ? pool_strdup(pool, mta) : NULL;
	}
}

/* The enhanced status code in a reply ("250 2.1.5 ok" -> "2.1.5"), or a
 * generic one from the basic code. */
static void enhanced(const char *text, int code, char out[12])
{
	const char *p = text + 4;
	unsigned a, b, c2;
	if (strlen(text) > 4 && sscanf(p, "%1u.%3u.%3u", &a, &b, &c2) == 3 &&
		(int)a == code / 100 && b < 1000 && c2 < 1000) {
		snprintf(out, 12, "%u.%u.%u", a % 10, b % 1000, c2 % 1000);
		return;
	}
	snprintf(out, 12, "%u.0.0", (unsigned)(code / 100) % 10);
}

/* One attempt at one address. Returns 1 when the recipients are decided
 * (delivered, or refused by the server in a way another host of the
 * same domain would repeat), 0 to try the next address. */
static int relay_attempt(struct transport *t, const struct addr *a, const struct relay_msg *m,
	struct relay_rcpt *r, size_t n, bool *decided, pool_t *pool, char **why)
{
	struct sconn c = {.fd = -1,
		.timeout_ms = (int)((t->set.command_timeout ? t->set.command_timeout : 300) * 1000)};
	const char *err = NULL;
	char *text = NULL;
	int code;
	int result = 0;
	int ct = (int)((t->set.connect_timeout ? t->set.connect_timeout : 30) * 1000);
	if (sc_connect(&c, a, ct, &err) < 0) {
		*why = pool_printf(pool, "connect to %s: %s", a->host, err);
		goto out;
	}
	if (a->implicit_tls && sc_tls(&c, a->host, t->set.require_tls, &err) < 0) {
		*why = pool_printf(pool, "%s: %s", a->host, err);
		goto out;
	}
	code = sc_reply(&c, pool, &text);
	if (code != 220) {
		*why = pool_printf(pool, "%s greeted: %s", a->host, code < 0 ? "(nothing)" : text);
		goto out;
	}
	const char *me = t->set.hostname;
	for (int round = 0; round < 2; round++) {
		if (sc_printf(&c, "EHLO %s\r\n", me) < 0 || (code = sc_reply(&c, pool, &text)) < 0) {
			*why = pool_printf(pool, "%s: connection lost after EHLO", a->host);
			goto out;
		}
		if (code != 250) {
			if (sc_printf(&c, "HELO %s\r\n", me) < 0 ||
				(code = sc_reply(&c, pool, &text)) != 250) {
				*why = pool_printf(pool, "%s refused HELO: %s", a->host,
					code < 0 ? "(nothing)" : text);
				goto out;
			}
			c.ext_starttls = false;
			break;
		}
		parse_ehlo(&c, text);
		if (round == 1 || c.ssl != NULL || !c.ext_starttls)
			break;
		if (sc_printf(&c, "STARTTLS\r\n") < 0 || (code = sc_reply(&c, pool, &text)) != 220) {
			*why = pool_printf(pool, "%s: STARTTLS refused", a->host);
			goto out;
		}
		c.in_len = 0; /* nothing read before TLS counts */
		if (sc_tls(&c, a->host, t->set.require_tls, &err) < 0) {
			*why = pool_printf(pool, "%s: %s", a->host, err);
			goto out;
		}
	}
	if (c.ssl == NULL && t->set.require_tls) {
		*why = pool_printf(pool, "%s does not offer STARTTLS and TLS is required", a->host);
		goto out;
	}
	if (a->smarthost && t->set.smarthost_user != NULL && t->set.smarthost_user[0]) {
		struct buf plain, b64;
		buf_init(&plain, pool);
		buf_init(&b64, pool);
		buf_append_byte(&plain, 0);
		buf_append_str(&plain, t->set.smarthost_user);
		buf_append_byte(&plain, 0);
		buf_append_str(&plain, t->set.smarthost_password ? t->set.smarthost_password : "");
		base64_encode(plain.data, plain.len, &b64);
		explicit_bzero(plain.data, plain.len);
		if (sc_printf(&c, "AUTH PLAIN %s\r\n", buf_cstr(&b64)) < 0 ||
			(code = sc_reply(&c, pool, &text)) != 235) {
			*why = pool_printf(pool, "%s: AUTH failed: %s", a->host,
				code < 0 ? "connection closed" : text);
			goto out;
		}
	}
	if (m->smtputf8 && !c.ext_smtputf8) {
		/* RFC 6531 3.5: cannot be downgraded here. */
		set_all(r, n, decided, RELAY_PERM, "5.6.7",
			"the next hop does not support SMTPUTF8", a->host, pool);
		result = 1;
		goto quit;
	}
	if (c.ext_size && c.max_size > 0 && m->len > c.max_size) {
		set_all(r, n, decided, RELAY_PERM, "5.3.4", "message too big for the next hop",
			a->host, pool);
		result = 1;
		goto quit;
	}
	struct buf cmd;
	buf_init(&cmd, pool);
	buf_printf(&cmd, "MAIL FROM:<%s>", m->mail_from);
	if (c.ext_size)
		buf_printf(&cmd, " SIZE=%zu", m->len);
	if (m->body_8bit && c.ext_8bit)
		buf_append_str(&cmd, " BODY=8BITMIME");
	if (m->smtputf8)
		buf_append_str(&cmd, " SMTPUTF8");
	if (c.ext_dsn) {
		buf_printf(&cmd, " RET=%s", m->ret_hdrs ? "HDRS" : "FULL");
		if (m->envid)
			buf_printf(&cmd, " ENVID=%s", m->envid);
	}
	buf_append_str(&cmd, "\r\n");
	if (sc_write(&c, cmd.data, cmd.len) < 0 || (code = sc_reply(&c, pool, &text)) < 0) {
		*why = pool_printf(pool, "%s: connection lost after MAIL", a->host);
		goto out;
	}
	if (code / 100 != 2) {
		set_all(r, n, decided, code / 100 == 5 ? RELAY_PERM : RELAY_TEMP, "", text, a->host,
			pool);
		for (size_t i = 0; i < n; i++)
			if (!decided[i])
				enhanced(text, code, r[i].status_code);
		result = code / 100 == 5 ? 1 : 0;
		*why = pool_printf(pool, "%s", text);
		goto quit;
	}
	size_t accepted = 0;
	bool *ok = pool_calloc(pool, n ? n : 1, sizeof(bool));
	for (size_t i = 0; i < n; i++) {
		if (decided[i])
			continue;
		buf_reset(&cmd);
		buf_printf(&cmd, "RCPT TO:<%s>", r[i].address);
		if (c.ext_dsn) {
			if (r[i].notify) {
				buf_append_str(&cmd, " NOTIFY=");
				const char *sep = "";
				if (r[i].notify & TRANSPORT_NOTIFY_NEVER) {
					buf_append_str(&cmd, "NEVER");
				} else {
					if (r[i].notify & TRANSPORT_NOTIFY_SUCCESS) {
						buf_printf(&cmd, "%sSUCCESS", sep);
						sep = ",";
					}
					if (r[i].notify & TRANSPORT_NOTIFY_FAILURE) {
						buf_printf(&cmd, "%sFAILURE", sep);
						sep = ",";
					}
					if (r[i].notify & TRANSPORT_NOTIFY_DELAY)
						buf_printf(&cmd, "%sDELAY", sep);
				}
			}
			if (r[i].orcpt)
				buf_printf(&cmd, " ORCPT=%s", r[i].orcpt);
		}
		buf_append_str(&cmd, "\r\n");
		if (sc_write(&c, cmd.data, cmd.len) < 0 || (code = sc_reply(&c, pool, &text)) < 0) {
			*why = pool_printf(pool, "%s: connection lost after RCPT", a->host);
			goto out;
		}
		if (code / 100 == 2) {
			ok[i] = true;
			accepted++;
			continue;
		}
		/* Refused by the server that is responsible for it: its
		 * answer stands (another MX would say the same). */
		r[i].status = code / 100 == 5 ? RELAY_PERM : RELAY_TEMP;
		enhanced(text, code, r[i].status_code);
		r[i].reply = pool_strdup(pool, text);
		r[i].remote_mta = pool_strdup(pool, a->host);
		decided[i] = true;
	}
	if (accepted == 0) {
		result = 1;
		goto quit;
	}
	if (sc_printf(&c, "DATA\r\n") < 0 || (code = sc_reply(&c, pool, &text)) < 0) {
		*why = pool_printf(pool, "%s: connection lost after DATA", a->host);
		goto out;
	}
	if (code != 354) {
		for (size_t i = 0; i < n; i++)
			if (ok[i]) {
				r[i].status = code / 100 == 5 ? RELAY_PERM : RELAY_TEMP;
				enhanced(text, code, r[i].status_code);
				r[i].reply = pool_strdup(pool, text);
				r[i].remote_mta = pool_strdup(pool, a->host);
				decided[i] = true;
			}
		result = 1;
		goto quit;
	}
	/* RFC 5321 4.5.2: dot-stuffing; the content is CRLF text. */
	struct buf out;
	buf_init(&out, NULL);
	const unsigned char *d = m->data;
	size_t len = m->len;
	bool bol = true;
	for (size_t i = 0; i < len; i++) {
		if (bol && d[i] == '.')
			buf_append_byte(&out, '.');
		buf_append_byte(&out, d[i]);
		bol = d[i] == '\n';
		if (out.len >= 65536) {
			if (sc_write(&c, out.data, out.len) < 0) {
				buf_deinit(&out);
				*why = pool_printf(pool, "%s: connection lost during DATA", a->host);
				goto out;
			}
			buf_reset(&out);
		}
	}
	if (len > 0 && d[len - 1] != '\n')
		buf_append_str(&out, "\r\n");
	buf_append_str(&out, ".\r\n");
	int wr = sc_write(&c, out.data, out.len);
	buf_deinit(&out);
	if (wr < 0 || (code = sc_reply(&c, pool, &text)) < 0) {
		/* RFC 5321 6.1: the message may have been delivered; a
		 * duplicate is better than a loss, so retry. */
		*why = pool_printf(pool, "%s: connection lost after the message", a->host);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (ok[i]) {
			r[i].status = code / 100 == 2 ? RELAY_OK
				: code / 100 == 5 ? RELAY_PERM
						  : RELAY_TEMP;
			enhanced(text, code, r[i].status_code);
			r[i].reply = pool_strdup(pool, text);
			r[i].remote_mta = pool_strdup(pool, a->host);
			decided[i] = true;
		}
	result = 1;
quit:
	sc_printf(&c, "QUIT\r\n");
	(void)sc_reply(&c, pool, &text);
out:
	sc_close(&c);
	return result;
}

void transport_relay(struct transport *t, const struct relay_msg *m, const char *domain,
	struct relay_rcpt *r, size_t n, pool_t *pool)
{
	struct hop hops[MAX_HOSTS];
	int nh = 0;
	bool *decided = pool_calloc(pool, n ? n : 1, sizeof(bool));
	const char *route = route_for(t, domain);
	uint16_t mx_port = t->set.mx_port ? t->set.mx_port : 25;
	ares_channel ch = NULL;
	char *why = NULL;
	if (dns_channel(t, &ch) < 0) {
		set_all(r, n, decided, RELAY_TEMP, "4.4.3", "cannot set up the DNS resolver", NULL,
			pool);
		return;
	}
	if (route != NULL || (t->set.smarthost != NULL && t->set.smarthost[0])) {
		const char *spec = route != NULL ? route : t->set.smarthost;
		if (parse_hostport(spec, &hops[0], route != NULL ? mx_port : 25) < 0) {
			set_all(r, n, decided, RELAY_TEMP, "4.3.5", "bad route or smarthost setting",
				NULL, pool);
			ares_destroy(ch);
			return;
		}
		hops[0].smarthost = route == NULL;
		hops[0].implicit_tls = route == NULL && t->set.smarthost_tls;
		nh = 1;
	} else {
		nh = dns_mx(ch, domain, hops, MAX_HOSTS);
		if (nh == -2 || nh == -3) {
			set_all(r, n, decided, RELAY_PERM, nh == -2 ? "5.1.2" : "5.1.10",
				nh == -2 ? "domain not found" : "domain accepts no mail (null MX)",
				NULL, pool);
			ares_destroy(ch);
			return;
		}
		if (nh < 0) {
			set_all(r, n, decided, RELAY_TEMP, "4.4.3", "MX lookup failed", NULL, pool);
			ares_destroy(ch);
			return;
		}
		if (nh == 0) {
			/* RFC 5321 5.1: no MX, the domain is its own host. */
			snprintf(hops[0].host, sizeof(hops[0].host), "%s", domain);
			nh = 1;
		}
		for (int i = 0; i < nh; i++)
			hops[i].port = mx_port;
	}
	bool any_host = false;
	for (int i = 0; i < nh; i++) {
		struct addr addrs[MAX_ADDRS];
		int na = dns_addrs(ch, &hops[i], addrs, MAX_ADDRS);
		if (na <= 0) {
			why = pool_printf(pool, "%s: host not found", hops[i].host);
			continue;
		}
		any_host = true;
		for (int k = 0; k < na; k++) {
			if (relay_attempt(t, &addrs[k], m, r, n, decided, pool, &why) == 1)
				goto done;
			bool all = true;
			for (size_t j = 0; j < n; j++)
				all = all && decided[j];
			if (all)
				goto done;
		}
	}
	/* RFC 5321 5.1: an implicit MX that does not resolve is permanent;
	 * otherwise every host failing is temporary. */
	set_all(r, n, decided, !any_host && nh == 1 && route == NULL ? RELAY_TEMP : RELAY_TEMP,
		"4.4.1", why ? why : "no host could be reached", NULL, pool);
done:
	ares_destroy(ch);
}
