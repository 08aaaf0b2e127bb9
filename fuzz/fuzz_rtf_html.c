/* Fuzzes RTF reading: encapsulation detection, HTML de-encapsulation and
 * text extraction (MS-OXRTFEX), and checks that encapsulating valid UTF-8
 * as HTML gives back exactly the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convert/rtf_html.h"
#include "core/utf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out, rtf;
	const char *error = NULL;
	buf_init(&out, NULL);
	buf_init(&rtf, NULL);
	(void)rtf_encapsulation(data, size);
	size_t max = 1 << 16;
	if (rtf_extract_html(data, size, max, &out, &error) > 0 && out.len > max)
		abort();
	buf_reset(&out);
	if (rtf_to_text(data, size, max, &out, &error) > 0 && out.len > max)
		abort();
	if (utf8_valid(data, size)) {
		buf_reset(&out);
		if (rtf_encapsulate_html(data, size, &rtf, &error) != 1)
			abort();
		if (rtf_extract_html(rtf.data, rtf.len, 4 * size + 64, &out, &error) != 1)
			abort();
		if (out.len != size || (size && memcmp(out.data, data, size) != 0))
			abort();
		buf_reset(&rtf);
		if (rtf_encapsulate_text(data, size, &rtf, &error) != 1)
			abort();
		buf_reset(&out);
		if (rtf_to_text(rtf.data, rtf.len, 4 * size + 64, &out, &error) != 1)
			abort();
	}
	buf_deinit(&out);
	buf_deinit(&rtf);
	return 0;
}
