/* HTTP/1.1 request framing and parsing over Node's http_parser (Debian's
 * libhttp-parser): RFC 7230 syntax, Content-Length and chunked bodies, and
 * the request-smuggling checks (conflicting Content-Length headers,
 * Content-Length together with chunked) are the library's. Ours are the
 * limits (head size, header count, body size per route, raw chunked
 * overhead, time) and the bookkeeping that lets the framer resume over a
 * growing buffer whose address may change between calls. */
#include <limits.h>
#include <string.h>

#include "core/str.h"
#include "proto/http/http_private.h"

static const struct {
	const char *name;
	unsigned bit;
} http_methods[] = {
	{"GET", HTTP_M_GET},
	{"HEAD", HTTP_M_HEAD},
	{"POST", HTTP_M_POST},
	{"PUT", HTTP_M_PUT},
	{"DELETE", HTTP_M_DELETE},
	{"OPTIONS", HTTP_M_OPTIONS},
	{"PROPFIND", HTTP_M_PROPFIND},
	{"PROPPATCH", HTTP_M_PROPPATCH},
	{"MKCOL", HTTP_M_MKCOL},
	{"COPY", HTTP_M_COPY},
	{"MOVE", HTTP_M_MOVE},
	{"LOCK", HTTP_M_LOCK},
	{"UNLOCK", HTTP_M_UNLOCK},
	{"SEARCH", HTTP_M_SEARCH},
	{"PATCH", HTTP_M_PATCH},
};

unsigned http_method_bit(const char *name)
{
	for (size_t i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++)
		if (strcmp(http_methods[i].name, name) == 0)
			return http_methods[i].bit;
	return HTTP_M_OTHER;
}

static size_t http_max_header(const struct http_server *srv)
{
	return srv->set.max_header_size;
}

/* --- the framer --- */

/* RFC 7230 3.2.6 tchar */
static bool http_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int framer_on_message_begin(http_parser *p)
{
	(void)p;
	return 0;
}

static int framer_on_url(http_parser *p, const char *at, size_t len)
{
	struct http_framer *f = p->data;
	size_t off = (size_t)((const unsigned char *)at - f->base);
	if (!f->have_url) {
		f->url_start = off;
		f->have_url = true;
	}
	f->url_end = off + len;
	return 0;
}

static int framer_on_header_field(http_parser *p, const char *at, size_t len)
{
	struct http_framer *f = p->data;
	size_t off = (size_t)((const unsigned char *)at - f->base);
	/* A field continues only when its callback was split by the end of
	 * the previous feed; a field after an empty value (for which
	 * http_parser makes no value callback) starts elsewhere. */
	bool cont = !f->in_value && f->nheaders > 0 && off == f->field_end;
	f->field_end = off + len;
	if (!cont) {
		/* a new field begins */
		f->nheaders++;
		if (f->nheaders > f->srv->set.max_headers) {
			f->error_status = 431;
			return -1;
		}
		f->in_value = false;
		f->field_len = 0;
		f->field_is_expect = false;
	}
	for (size_t i = 0; i < len; i++) {
		/* RFC 7230 3.2: a field name is a token. http_parser lets
		 * spaces through ("Transfer-Encoding : chunked" is a classic
		 * smuggling vector); refuse them. */
		if (!http_tchar((unsigned char)at[i])) {
			f->error_status = 400;
			return -1;
		}
		if (f->field_len < sizeof(f->field))
			f->field[f->field_len] = (char)ascii_tolower((unsigned char)at[i]);
		f->field_len++;
	}
	f->field_is_expect = f->field_len == 6 && memcmp(f->field, "expect", 6) == 0;
	return 0;
}

static int framer_on_header_value(http_parser *p, const char *at, size_t len)
{
	struct http_framer *f = p->data;
	if (!f->in_value) {
		f->in_value = true;
		if (f->field_is_expect) {
			f->saw_expect = true;
			f->value_len = 0;
		}
	}
	if (!f->field_is_expect)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (f->value_len < sizeof(f->value))
			f->value[f->value_len] = (char)ascii_tolower((unsigned char)at[i]);
		f->value_len++;
	}
	return 0;
}

static int framer_on_headers_complete(http_parser *p)
{
	struct http_framer *f = p->data;
	f->head_done = true;
	if (p->http_major != 1) {
		f->error_status = 505;
		return -1;
	}
	if (p->method == HTTP_CONNECT) {
		f->error_status = 501;
		return -1;
	}
	if (f->saw_expect) {
		struct slice v = slice_trim(SLICE(f->value,
			f->value_len < sizeof(f->value) ? f->value_len : sizeof(f->value)));
		if (f->value_len <= sizeof(f->value) && slice_eq_str(v, "100-continue")) {
			f->expect_continue = true;
		} else {
			/* RFC 7231 5.1.1: an expectation we cannot meet */
			f->error_status = 417;
			return -1;
		}
	}
	/* The route decides the body limit. */
	f->body_limit = f->srv->set.max_body_size;
	if (f->have_url && f->url_end > f->url_start) {
		struct http_parser_url u;
		http_parser_url_init(&u);
		const char *url = (const char *)f->base + f->url_start;
		size_t ulen = f->url_end - f->url_start;
		if (http_parser_parse_url(url, ulen, 0, &u) == 0 && (u.field_set & (1 << UF_PATH))) {
			const struct http_route *r = http_server_route(
				f->srv, url + u.field_data[UF_PATH].off, u.field_data[UF_PATH].len);
			if (r != NULL && r->max_body > 0)
				f->body_limit = r->max_body;
		}
	}
	if ((p->flags & F_CHUNKED) == 0 && p->content_length != ULLONG_MAX &&
		p->content_length > f->body_limit) {
		f->error_status = 413;
		return -1;
	}
	return 0;
}

static int framer_on_body(http_parser *p, const char *at, size_t len)
{
	struct http_framer *f = p->data;
	(void)at;
	f->body_seen += len;
	if (f->body_seen > f->body_limit) {
		f->error_status = 413;
		return -1;
	}
	return 0;
}

static int framer_on_message_complete(http_parser *p)
{
	struct http_framer *f = p->data;
	f->complete = true;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings framer_settings = {
	.on_message_begin = framer_on_message_begin,
	.on_url = framer_on_url,
	.on_header_field = framer_on_header_field,
	.on_header_value = framer_on_header_value,
	.on_headers_complete = framer_on_headers_complete,
	.on_body = framer_on_body,
	.on_message_complete = framer_on_message_complete,
};

void http_framer_init(struct http_framer *f, const struct http_server *srv)
{
	memset(f, 0, sizeof(*f));
	http_parser_init(&f->parser, HTTP_REQUEST);
	f->parser.data = f;
	f->srv = srv;
	f->body_limit = srv->set.max_body_size;
}

ssize_t http_framer_feed(struct http_framer *f, const unsigned char *data, size_t len,
	uint64_t now_ms)
{
	if (f->error_status != 0)
		return -1;
	if (f->fed == 0 && f->started_ms == 0)
		f->started_ms = now_ms;
	if (f->srv->set.request_timeout_s > 0 &&
		now_ms - f->started_ms > (uint64_t)f->srv->set.request_timeout_s * 1000) {
		f->error_status = 408;
		return -1;
	}
	if (len < f->fed)
		return -1; /* the caller broke the contract */
	if (len == f->fed)
		return 0;
	f->base = data;
	size_t n = http_parser_execute(
		&f->parser, &framer_settings, (const char *)data + f->fed, len - f->fed);
	f->base = NULL;
	if (f->complete) {
		/* Paused at the last byte of the request. */
		return (ssize_t)(f->fed + n);
	}
	if (HTTP_PARSER_ERRNO(&f->parser) != HPE_OK) {
		if (f->error_status == 0)
			f->error_status = 400;
		return -1;
	}
	f->fed += n;
	if (!f->head_done && f->fed > http_max_header(f->srv)) {
		f->error_status = 431;
		return -1;
	}
	/* Chunk framing costs bytes the body limit does not count: a body
	 * sent in tiny chunks with long extensions must not buffer without
	 * bound. */
	if (f->head_done && f->fed > 2 * f->body_limit + http_max_header(f->srv) + 65536) {
		f->error_status = 413;
		return -1;
	}
	return 0;
}

bool http_framer_want_continue(struct http_framer *f)
{
	if (!f->head_done || !f->expect_continue || f->continue_sent || f->complete)
		return false;
	/* HTTP/1.0 clients never get a 100 (RFC 7231 5.1.1). */
	if (f->parser.http_major == 1 && f->parser.http_minor == 0)
		return false;
	f->continue_sent = true;
	return true;
}

/* --- parsing a complete request --- */

struct parse_state {
	struct http_request *req;
	struct buf url;
	bool in_value;
	struct buf field, value;
	bool chunked;
	bool done;
};

static void parse_flush_header(struct parse_state *st)
{
	if (st->field.len == 0)
		return;
	struct http_header *h = array_push_new(&st->req->headers);
	h->name = slice_dup(st->req->pool, buf_slice(&st->field));
	h->value = slice_dup(st->req->pool, slice_trim(buf_slice(&st->value)));
	buf_reset(&st->field);
	buf_reset(&st->value);
}

static int parse_on_url(http_parser *p, const char *at, size_t len)
{
	struct parse_state *st = p->data;
	buf_append(&st->url, at, len);
	return 0;
}

static int parse_on_header_field(http_parser *p, const char *at, size_t len)
{
	struct parse_state *st = p->data;
	/* One execute call over the whole request: every field callback is
	 * a new field (an empty value has no callback of its own). */
	parse_flush_header(st);
	st->in_value = false;
	buf_append(&st->field, at, len);
	return 0;
}

static int parse_on_header_value(http_parser *p, const char *at, size_t len)
{
	struct parse_state *st = p->data;
	st->in_value = true;
	buf_append(&st->value, at, len);
	return 0;
}

static int parse_on_headers_complete(http_parser *p)
{
	struct parse_state *st = p->data;
	parse_flush_header(st);
	st->chunked = (p->flags & F_CHUNKED) != 0;
	return 0;
}

static int parse_on_body(http_parser *p, const char *at, size_t len)
{
	struct parse_state *st = p->data;
	struct http_request *req = st->req;
	if (!st->chunked && req->body.len == 0 && req->chunked.len == 0) {
		req->body = SLICE(at, len);
		return 0;
	}
	if (!st->chunked && req->body.ptr + req->body.len == (const unsigned char *)at) {
		req->body.len += len;
		return 0;
	}
	if (req->chunked.len == 0 && req->body.len > 0)
		buf_append_slice(&req->chunked, req->body);
	buf_append(&req->chunked, at, len);
	req->body = buf_slice(&req->chunked);
	return 0;
}

static int parse_on_message_complete(http_parser *p)
{
	struct parse_state *st = p->data;
	st->done = true;
	st->req->keep_alive = http_should_keep_alive(p) != 0;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings parse_settings = {
	.on_url = parse_on_url,
	.on_header_field = parse_on_header_field,
	.on_header_value = parse_on_header_value,
	.on_headers_complete = parse_on_headers_complete,
	.on_body = parse_on_body,
	.on_message_complete = parse_on_message_complete,
};

int http_request_parse(struct http_request *req, pool_t *pool, const unsigned char *data,
	size_t len)
{
	struct parse_state st = {.req = req};
	req->pool = pool;
	array_init(&req->headers, pool);
	buf_init(&req->chunked, pool);
	buf_init(&st.url, pool);
	buf_init(&st.field, pool);
	buf_init(&st.value, pool);
	req->body = SLICE("", 0);

	http_parser p;
	http_parser_init(&p, HTTP_REQUEST);
	p.data = &st;
	size_t n = http_parser_execute(&p, &parse_settings, (const char *)data, len);
	if (!st.done || n != len)
		return -1;
	req->method = http_method_str((enum http_method)p.method);
	req->method_bit = http_method_bit(req->method);
	req->minor = p.http_minor;
	if (p.http_major != 1)
		return -1;
	req->target = buf_cstr(&st.url);
	if (strcmp(req->target, "*") == 0) {
		req->path = "*";
		return 0;
	}
	struct http_parser_url u;
	http_parser_url_init(&u);
	if (http_parser_parse_url(req->target, st.url.len, 0, &u) != 0 ||
		!(u.field_set & (1 << UF_PATH)))
		return -1;
	req->path = pool_strndup(pool, req->target + u.field_data[UF_PATH].off,
		u.field_data[UF_PATH].len);
	if (u.field_set & (1 << UF_QUERY))
		req->query = pool_strndup(pool, req->target + u.field_data[UF_QUERY].off,
			u.field_data[UF_QUERY].len);
	return 0;
}
