/* Raw deflate streams for compressed connections (net_conn_compress,
 * RFC 4978 for IMAP): zlib with no header (windowBits -15, RFC 1951).
 * Loop thread only, like the rest of a connection's socket state. */
#include <string.h>
#include <zlib.h>

#include "core/xalloc.h"
#include "net/net_private.h"

struct net_zstream {
	z_stream out; /* deflate: what we send */
	z_stream in;  /* inflate: what the client sends */
	bool in_full; /* the last inflate stopped for want of room: output may be held */
	bool in_end;  /* the client ended its stream */
};

struct net_zstream *net_zstream_new(int level)
{
	struct net_zstream *z = xcalloc(1, sizeof(*z));
	if (deflateInit2(&z->out, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(z);
		return NULL;
	}
	if (inflateInit2(&z->in, -15) != Z_OK) {
		deflateEnd(&z->out);
		free(z);
		return NULL;
	}
	return z;
}

void net_zstream_free(struct net_zstream **zp)
{
	struct net_zstream *z = *zp;
	if (z == NULL)
		return;
	deflateEnd(&z->out);
	inflateEnd(&z->in);
	free(z);
	*zp = NULL;
}

int net_zstream_deflate(struct net_zstream *z, struct evbuffer *src, struct evbuffer *dst)
{
	unsigned char chunk[16384];
	for (;;) {
		struct evbuffer_iovec v;
		int n = evbuffer_peek(src, -1, NULL, &v, 1);
		bool last = n <= 0 || v.iov_len == evbuffer_get_length(src);
		z->out.next_in = n > 0 ? v.iov_base : (unsigned char *)"";
		z->out.avail_in = n > 0 ? (uInt)v.iov_len : 0;
		size_t fed = z->out.avail_in;
		/* A sync flush after the last byte: the client can decode all
		 * of what it got without waiting for more (RFC 4978 4). */
		int flush = last ? Z_SYNC_FLUSH : Z_NO_FLUSH;
		do {
			z->out.next_out = chunk;
			z->out.avail_out = sizeof(chunk);
			int r = deflate(&z->out, flush);
			if (r != Z_OK && r != Z_BUF_ERROR)
				return -1;
			size_t have = sizeof(chunk) - z->out.avail_out;
			if (have > 0 && evbuffer_add(dst, chunk, have) < 0)
				return -1;
		} while (z->out.avail_out == 0);
		evbuffer_drain(src, fed - z->out.avail_in);
		if (last)
			return 0;
	}
}

ssize_t net_zstream_inflate(
        struct net_zstream *z, struct evbuffer *src, unsigned char *dst, size_t room)
{
	size_t produced = 0;
	if (z->in_end)
		return evbuffer_get_length(src) > 0 ? -1 : 0;
	while (produced < room && !z->in_end) {
		struct evbuffer_iovec v;
		int n = evbuffer_peek(src, -1, NULL, &v, 1);
		if (n <= 0 && !z->in_full)
			break;
		z->in.next_in = n > 0 ? v.iov_base : (unsigned char *)"";
		z->in.avail_in =
		        n > 0 ? (uInt)(v.iov_len > UINT32_MAX ? UINT32_MAX : v.iov_len) : 0;
		size_t fed = z->in.avail_in;
		size_t want = room - produced;
		z->in.next_out = dst + produced;
		z->in.avail_out = want > UINT32_MAX ? UINT32_MAX : (uInt)want;
		size_t out_before = z->in.avail_out;
		int r = inflate(&z->in, Z_SYNC_FLUSH);
		size_t got = out_before - z->in.avail_out, used = fed - z->in.avail_in;
		evbuffer_drain(src, used);
		produced += got;
		z->in_full = z->in.avail_out == 0;
		if (r == Z_STREAM_END) {
			/* RFC 4978 has no end to the client's stream but the
			 * connection's: input after it cannot be read. */
			z->in_end = true;
			break;
		}
		if (r == Z_BUF_ERROR) {
			/* No progress possible: more input needed. */
			z->in_full = false;
			break;
		}
		if (r != Z_OK)
			return -1;
		if (got == 0 && used == 0)
			break;
	}
	return (ssize_t)produced;
}

bool net_zstream_inflate_pending(const struct net_zstream *z)
{
	return z->in_full && !z->in_end;
}
