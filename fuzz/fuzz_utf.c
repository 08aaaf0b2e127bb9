/* Fuzzes UTF-8 validation and the UTF-8 <-> UTF-16LE converters, checking
 * that strict conversions round-trip exactly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a, b;
	buf_init(&a, NULL);
	buf_init(&b, NULL);
	bool valid = utf8_valid(data, size);
	if (utf8_to_utf16le(data, size, &a) == 0) {
		if (!valid)
			abort();
		if (utf16le_to_utf8(a.data, a.len, &b) != 0 || b.len != size ||
			(size && memcmp(b.data, data, size) != 0))
			abort();
	} else if (valid) {
		abort();
	}
	buf_reset(&a);
	utf16le_to_utf8_lossy(data, size, &a);
	if (!utf8_valid(a.data, a.len))
		abort();
	buf_reset(&a);
	utf8_sanitize(data, size, &a);
	if (!utf8_valid(a.data, a.len))
		abort();
	buf_reset(&b);
	utf8_to_utf16le_lossy(data, size, &b);
	buf_deinit(&a);
	buf_deinit(&b);
	return 0;
}
