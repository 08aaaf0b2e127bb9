/* Fuzzes IMAP's text search: the input's first line is the search key
 * (its first byte picks the key's charset), the rest a message. Every
 * kind of search runs on it; the same key must match the folded form of
 * itself when the message is only that text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convert/mime_search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const charsets[] = {NULL, "UTF-8", "ISO-8859-1", "KOI8-R", "UTF-16LE",
	        "SHIFT_JIS", "ISO-2022-JP", "X-UNKNOWN"};
	if (size < 1)
		return 0;
	const char *charset = charsets[data[0] % 8];
	data++;
	size--;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t klen = nl ? (size_t)(nl - data) : size;
	if (klen > 200)
		klen = 200;
	const uint8_t *msg = nl ? nl + 1 : data + size;
	size_t mlen = (size_t)(data + size - msg);
	pool_t *pool = pool_new("fuzz", 0);
	struct mime_search_key key;
	if (mime_search_key_init(pool, charset, data, klen, &key) == 0) {
		struct mime_search_msg m;
		mime_search_msg_init(&m, pool, msg, mlen);
		(void)mime_search_header(&m, "Subject", &key);
		(void)mime_search_header(&m, "From", &key);
		(void)mime_search_body(&m, &key);
		(void)mime_search_text(&m, &key);
		/* A message whose body is the (ASCII) folded key contains it. */
		struct buf b;
		buf_init(&b, pool);
		buf_append_str(&b, "Content-Type: text/plain; charset=utf-8\r\n\r\n");
		buf_append(&b, key.folded, key.len);
		struct mime_search_msg m2;
		mime_search_msg_init(&m2, pool, b.data, b.len);
		if (key.ascii && !mime_search_body(&m2, &key))
			abort();
	} else if (charset == NULL || strcmp(charset, "X-UNKNOWN") != 0) {
		abort();
	}
	pool_free(&pool);
	return 0;
}
