/* Fuzzes the DATA scanner: whatever the input and however it is split
 * into reads, the framer never returns more than it was given, the end of
 * data is found at the same place, only after <CRLF>.<CRLF>, and the
 * message octets never exceed the limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/smtp/smtp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t run(const uint8_t *data, size_t size, size_t step, size_t chunk, struct buf *out,
	struct smtp_data_scan *s)
{
	smtp_data_scan_init(s, 100, 4096);
	size_t consumed = 0, avail = 0;
	while (!s->done && consumed < size) {
		avail = avail + step > size - consumed ? size - consumed : avail + step;
		size_t n = smtp_data_frame(s, data + consumed, avail, chunk);
		if (n > avail || n > chunk)
			abort();
		if (n == 0) {
			if (consumed + avail >= size)
				break;
			continue;
		}
		smtp_data_consume(s, data + consumed, n, out);
		consumed += n;
		avail -= n;
	}
	return consumed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > 65536)
		return 0;
	size_t step = (size_t)data[0] % 17 + 1, chunk = (size_t)data[1] % 200 + 3;
	data += 2;
	size -= 2;
	struct buf a, b;
	buf_init(&a, NULL);
	buf_init(&b, NULL);
	struct smtp_data_scan sa, sb;
	size_t ca = run(data, size, step, chunk, &a, &sa);
	size_t cb = run(data, size, size ? size : 1, 1 << 20, &b, &sb);
	if (sa.done != sb.done || (sa.done && ca != cb))
		abort();
	if (sa.done) {
		/* Ends with <CRLF>.<CRLF> (the CRLF before the dot may be the
		 * DATA command's, at the very start). */
		if (ca < 3 || memcmp(data + ca - 3, ".\r\n", 3) != 0)
			abort();
		if (ca > 3 && (ca < 5 || memcmp(data + ca - 5, "\r\n", 2) != 0))
			abort();
		if (sa.flags != sb.flags || a.len != b.len ||
			(a.len > 0 && memcmp(a.data, b.data, a.len) != 0))
			abort();
	}
	if (a.len > 4096 || b.len > 4096)
		abort();
	buf_deinit(&a);
	buf_deinit(&b);
	return 0;
}
