/* Fuzzes the HTTP request framer and parser (src/proto/http/request.c) the
 * way the net layer drives them: the input is a byte stream of pipelined
 * requests, fed whole and again in pieces whose sizes come from the input
 * itself; each framed request is parsed. Checks the framer's promises:
 * whole and piecewise feeding agree (same length, or both refuse), a framed length never exceeds the
 * input, every framed request parses, error statuses are the documented
 * ones, and decoded bodies stay within the limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "proto/http/http_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct http_server *fuzz_server(void)
{
	static struct http_server *srv;
	if (srv == NULL) {
		struct http_settings s = {.max_header_size = 2048, .max_headers = 20,
			.max_body_size = 4096, .request_timeout_s = 60};
		srv = http_server_new(&s, NULL, NULL);
		struct http_route r = {.path = "/big", .max_body = 16384};
		http_server_add_route(srv, &r);
	}
	return srv;
}

static void check_status(int st)
{
	if (st != 400 && st != 413 && st != 417 && st != 431 && st != 501 && st != 505)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_server *srv = fuzz_server();
	/* The first byte picks the piece size of the piecewise feed. */
	if (size < 1)
		return 0;
	size_t step = (size_t)data[0] % 64 + 1;
	data++;
	size--;
	size_t off = 0;
	while (off < size) {
		struct http_framer f;
		http_framer_init(&f, srv);
		ssize_t whole = http_framer_feed(&f, data + off, size - off, 1);
		int st_whole = f.error_status;
		if (whole > (ssize_t)(size - off))
			abort();
		/* piecewise, from a copy that moves like the net layer's buffer */
		http_framer_init(&f, srv);
		ssize_t r = 0;
		for (size_t n = step < size - off ? step : size - off;; ) {
			unsigned char *copy = xmemdup(data + off, n);
			r = http_framer_feed(&f, copy, n, 1);
			free(copy);
			if (r != 0 || n == size - off)
				break;
			n = n + step < size - off ? n + step : size - off;
		}
		/* Both reject or both frame the same length. Which limit or
		 * syntax error is met first may differ (a bad byte seen in one
		 * call, or a header counted before its bad byte in pieces). */
		if ((r < 0) != (whole < 0) || (r >= 0 && r != whole))
			abort();
		if (r < 0)
			check_status(f.error_status);
		if (whole < 0) {
			check_status(st_whole);
			break;
		}
		if (whole == 0)
			break;
		pool_t *pool = pool_new("fuzz", 0);
		struct http_request req = {0};
		if (http_request_parse(&req, pool, data + off, (size_t)whole) < 0)
			abort();
		if (req.body.len > 16384 || req.path == NULL)
			abort();
		(void)http_request_header(&req, "host");
		pool_free(&pool);
		off += (size_t)whole;
	}
	return 0;
}
