/* Fuzzes what THREAD and SORT parse and build: each NUL-separated chunk
 * of the input is a message header, read by mime_fields_parse (From, To,
 * Cc, Message-ID, References, In-Reply-To) and the subject taken to its
 * RFC 5256 base subject; the messages are then threaded both ways. The
 * output must hold every message exactly once in balanced lists. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convert/mime_fields.h"
#include "convert/mime_struct.h"
#include "proto/imap/thread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MSGS 200

static void check(const struct buf *b, size_t n)
{
	unsigned char *seen = calloc(n + 1, 1);
	long depth = 0;
	for (size_t i = 0; i < b->len; i++) {
		unsigned char c = b->data[i];
		if (c == '(') {
			depth++;
		} else if (c == ')') {
			if (--depth < 0)
				abort();
		} else if (c >= '1' && c <= '9' &&
		           (i == 0 || b->data[i - 1] < '0' || b->data[i - 1] > '9')) {
			unsigned long v = strtoul((const char *)b->data + i, NULL, 10);
			if (v == 0 || v > n || seen[v]++)
				abort();
		} else if (c != ' ' && (c < '0' || c > '9')) {
			abort();
		}
	}
	if (depth != 0)
		abort();
	for (size_t i = 1; i <= n; i++)
		if (!seen[i])
			abort();
	free(seen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pool_t *pool = pool_new("fuzz", 0);
	struct imap_thread_msg *m = pool_calloc(pool, MAX_MSGS, sizeof(*m));
	size_t n = 0, off = 0;
	while (off < size && n < MAX_MSGS) {
		const uint8_t *end = memchr(data + off, 0, size - off);
		size_t len = end ? (size_t)(end - (data + off)) : size - off;
		const unsigned char *h = data + off;
		struct mime_fields f;
		mime_fields_parse(pool, h, len, MIME_FIELDS_ADDRS | MIME_FIELDS_THREAD, &f);
		size_t he = mime_struct_header_end(h, len);
		const char *subj = mime_fields_decode_text(
		        pool, mime_struct_header(pool, h, 0, he, "Subject"));
		m[n].id = m[n].seq = (uint32_t)n + 1;
		/* Few distinct dates: ties are what is interesting. */
		m[n].date = len % 4;
		m[n].subject = imap_base_subject(pool, subj, &m[n].reply);
		m[n].message_id = f.message_id;
		m[n].refs = f.refs;
		m[n].nrefs = f.nrefs;
		n++;
		off += len + 1;
	}
	struct buf b;
	buf_init(&b, pool);
	imap_thread_references(pool, m, n, &b);
	check(&b, n);
	buf_reset(&b);
	imap_thread_orderedsubject(pool, m, n, &b);
	check(&b, n);
	pool_free(&pool);
	return 0;
}
