/* The store's property bag and value decoders (recipients, attachments and
 * multi-valued columns as stored in a mailbox): they must reject any
 * damage to the bytes without crashing, and what they accept must
 * re-encode stably. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pool_t *pool = pool_new("fuzz", 0);
	struct sprops p;
	if (store_bag_decode(data, size, pool, &p) == ecSuccess) {
		struct buf a, b;
		buf_init(&a, pool);
		buf_init(&b, pool);
		store_bag_encode(&p, &a);
		struct sprops q;
		if (store_bag_decode(a.data, a.len, pool, &q) != ecSuccess)
			abort();
		store_bag_encode(&q, &b);
		if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
			abort();
	}
	if (size >= 2) {
		uint16_t type = (uint16_t)(data[0] | data[1] << 8);
		union mapi_pvalue v;
		uint32_t tag = PROP_TAG(type, 0x6600);
		if (store_value_decode(tag, data + 2, size - 2, pool, &v) == ecSuccess) {
			struct buf a;
			buf_init(&a, pool);
			store_value_encode(tag, &v, &a);
			union mapi_pvalue w;
			if (store_value_decode(tag, a.data != NULL ? a.data : (const uint8_t *)"", a.len,
				    pool, &w) != ecSuccess)
				abort();
		}
	}
	pool_free(&pool);
	return 0;
}
