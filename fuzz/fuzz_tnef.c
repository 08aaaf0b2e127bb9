/* Fuzzes the TNEF decoder (MS-OXTNEF) under tight limits, and checks that
 * whatever it accepts encodes and decodes again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convert/tnef.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pool_t *pool = pool_new("fuzz", 0);
	struct tnef_limits lim = {.max_attachments = 64, .max_recipients = 64, .max_props = 4096,
		.max_depth = 4};
	struct mapi_message *msg = NULL, *again = NULL;
	struct tnef_info info;
	const char *error = NULL;
	if (tnef_decode(pool, data, size, &lim, &msg, &info, &error) == 1) {
		struct buf out;
		buf_init(&out, NULL);
		if (tnef_encode(msg, info.key, 0, &out, &error) != 1)
			abort();
		if (tnef_decode(pool, out.data, out.len, &lim, &again, NULL, &error) != 1)
			abort();
		if (again->attachments.n != msg->attachments.n ||
			again->recipients.n != msg->recipients.n)
			abort();
		buf_deinit(&out);
	}
	pool_free(&pool);
	return 0;
}
