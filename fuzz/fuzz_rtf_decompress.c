/* Fuzzes the compressed-RTF decoder (MS-OXRTFCP) with and without CRC
 * checking, and checks that whatever it accepts survives a compress /
 * decompress round trip unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convert/rtfcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out, c, back;
	const char *error = NULL;
	buf_init(&out, NULL);
	buf_init(&c, NULL);
	buf_init(&back, NULL);
	(void)rtfcp_decompress(data, size, 1 << 20, 0, &out, &error);
	buf_reset(&out);
	if (rtfcp_decompress(data, size, 1 << 20, RTFCP_IGNORE_CRC, &out, &error) == 1) {
		if (rtfcp_compress(out.data, out.len, &c, &error) != 1)
			abort();
		if (rtfcp_decompress(c.data, c.len, out.len, 0, &back, &error) != 1)
			abort();
		if (back.len != out.len || (out.len && memcmp(back.data, out.data, out.len) != 0))
			abort();
	}
	buf_deinit(&out);
	buf_deinit(&c);
	buf_deinit(&back);
	return 0;
}
