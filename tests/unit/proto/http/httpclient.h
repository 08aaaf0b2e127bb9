/* A blocking HTTP/1.1 test client for the HTTP server tests: sends raw
 * bytes and reads responses with http_parser in response mode (an
 * implementation independent of the server's framing code). */
#ifndef TESTS_UNIT_PROTO_HTTPCLIENT_H
#define TESTS_UNIT_PROTO_HTTPCLIENT_H

#include <arpa/inet.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/str.h"

struct hc_resp {
	int status;
	bool chunked;
	bool complete;
	bool eof;
	struct buf headers; /* "name: value\n" lines, names lower-cased */
	struct buf body;
	struct buf field;
	bool in_value;
	bool head_only;
};

struct hc {
	int fd;
	struct buf in; /* unparsed bytes */
};

static inline int hc_connect(struct hc *c, int port, int timeout_ms)
{
	memset(c, 0, sizeof(*c));
	buf_init(&c->in, NULL);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return connect(c->fd, (struct sockaddr *)&sa, sizeof(sa));
}

static inline void hc_close(struct hc *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	buf_deinit(&c->in);
}

static inline int hc_send(struct hc *c, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static inline int hc_send_str(struct hc *c, const char *s)
{
	return hc_send(c, s, strlen(s));
}

static int hc_on_status(http_parser *p, const char *at, size_t len)
{
	(void)at;
	(void)len;
	struct hc_resp *r = p->data;
	r->status = p->status_code;
	return 0;
}

static int hc_on_hfield(http_parser *p, const char *at, size_t len)
{
	struct hc_resp *r = p->data;
	if (r->in_value) {
		buf_append_byte(&r->headers, '\n');
		r->in_value = false;
	}
	for (size_t i = 0; i < len; i++)
		buf_append_byte(&r->headers, (unsigned char)ascii_tolower((unsigned char)at[i]));
	return 0;
}

static int hc_on_hvalue(http_parser *p, const char *at, size_t len)
{
	struct hc_resp *r = p->data;
	if (!r->in_value) {
		buf_append_str(&r->headers, ": ");
		r->in_value = true;
	}
	buf_append(&r->headers, at, len);
	return 0;
}

static int hc_on_hdone(http_parser *p)
{
	struct hc_resp *r = p->data;
	if (r->in_value)
		buf_append_byte(&r->headers, '\n');
	r->chunked = (p->flags & F_CHUNKED) != 0;
	r->status = p->status_code;
	/* A HEAD response has no body whatever its Content-Length. */
	return r->head_only ? 1 : 0;
}

static int hc_on_body(http_parser *p, const char *at, size_t len)
{
	struct hc_resp *r = p->data;
	buf_append(&r->body, at, len);
	return 0;
}

static int hc_on_done(http_parser *p)
{
	struct hc_resp *r = p->data;
	r->complete = true;
	http_parser_pause(p, 1);
	return 0;
}

/* Reads one response (head_only: for a HEAD request). Returns 0 when a
 * complete response was read, -1 otherwise (timeout, EOF, garbage). */
static inline int hc_read(struct hc *c, struct hc_resp *r, bool head_only)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->headers, NULL);
	buf_init(&r->body, NULL);
	http_parser_settings s = {.on_status = hc_on_status,
		.on_header_field = hc_on_hfield,
		.on_header_value = hc_on_hvalue,
		.on_headers_complete = hc_on_hdone,
		.on_body = hc_on_body,
		.on_message_complete = hc_on_done};
	http_parser p;
	http_parser_init(&p, HTTP_RESPONSE);
	p.data = r;
	r->head_only = head_only;
	for (;;) {
		if (c->in.len > 0) {
			size_t n = http_parser_execute(&p, &s, (const char *)c->in.data, c->in.len);
			buf_consume(&c->in, n);
			if (r->complete)
				return 0;
			if (HTTP_PARSER_ERRNO(&p) != HPE_OK)
				return -1;
		}
		char tmp[65536];
		ssize_t n = recv(c->fd, tmp, sizeof(tmp), 0);
		if (n <= 0) {
			r->eof = true;
			/* close-delimited body */
			http_parser_execute(&p, &s, NULL, 0);
			return r->complete ? 0 : -1;
		}
		buf_append(&c->in, tmp, (size_t)n);
	}
}

static inline void hc_resp_free(struct hc_resp *r)
{
	buf_deinit(&r->headers);
	buf_deinit(&r->body);
	buf_deinit(&r->field);
}

/* The value of header name (lower case) or NULL; into a static buffer. */
static inline const char *hc_header(struct hc_resp *r, const char *name)
{
	static __thread char v[1024];
	const char *h = buf_cstr(&r->headers);
	size_t nl = strlen(name);
	while (*h != '\0') {
		const char *e = strchr(h, '\n');
		size_t ll = e != NULL ? (size_t)(e - h) : strlen(h);
		if (ll > nl + 1 && strncmp(h, name, nl) == 0 && h[nl] == ':') {
			size_t vl = ll - nl - 2;
			if (vl >= sizeof(v))
				vl = sizeof(v) - 1;
			memcpy(v, h + nl + 2, vl);
			v[vl] = '\0';
			return v;
		}
		h += ll + (e != NULL);
	}
	return NULL;
}

/* True once the peer has closed (a read returns 0 before the timeout). */
static inline bool hc_peer_closed(struct hc *c)
{
	char tmp[4096];
	for (;;) {
		ssize_t n = recv(c->fd, tmp, sizeof(tmp), 0);
		if (n == 0)
			return true;
		if (n < 0)
			return false;
	}
}

#endif
