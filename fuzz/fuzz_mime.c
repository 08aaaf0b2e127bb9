/* Fuzzes MIME import (MS-OXCMAIL 2.2): any bytes become a message object
 * or a clean error; the object is then written back as MIME (2.1) and
 * read again, which must succeed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convert/convert.h"
#include "convert/mime.h"
#include "convert/msgutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	convert_init();
	pool_t *pool = pool_new("fuzz", 0);
	struct mime_import_opts o;
	memset(&o, 0, sizeof(o));
	o.max_size = 1u << 20;
	o.max_parts = 500;
	o.now = 133000000000000000ull;
	struct mapi_message *msg = NULL;
	const char *err = NULL;
	if (mime_to_message(pool, data, size, &o, &msg, NULL, &err) == 1) {
		struct buf out, dump;
		buf_init(&out, NULL);
		buf_init(&dump, NULL);
		convert_message_dump(msg, 0, &dump);
		struct mime_export_opts eo;
		memset(&eo, 0, sizeof(eo));
		eo.now = o.now;
		if (message_to_mime(msg, &eo, &out, &err) == 1) {
			struct mapi_message *again = NULL;
			o.max_size = 0;
			o.max_parts = 0;
			if (mime_to_message(pool, out.data, out.len, &o, &again, NULL, &err) != 1)
				abort();
		}
		buf_deinit(&out);
		buf_deinit(&dump);
	}
	pool_free(&pool);
	return 0;
}
