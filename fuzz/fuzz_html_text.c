/* Fuzzes the HTML -> text renderer (libxml2's parser plus our walk) and
 * text -> HTML, checking output limits and UTF-8 cuts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convert/html_text.h"
#include "core/utf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out, html;
	const char *error = NULL;
	buf_init(&out, NULL);
	buf_init(&html, NULL);
	size_t max = size > 0 ? data[0] * 16u : 0;
	int rc = html_to_text(data, size, max, size & 1 ? HTML_TEXT_CRLF : 0, &out, &error);
	if (rc >= 0 && out.len > max)
		abort();
	/* A cut never leaves half a character behind valid UTF-8 text. */
	if (rc == 0 && utf8_valid(data, size) && !utf8_valid(out.data, out.len))
		abort();
	buf_reset(&out);
	text_to_html(data, size, TEXT_HTML_LINKIFY, &html);
	if (html_to_text(html.data, html.len, 1 << 20, 0, &out, &error) < 0 &&
		html.len <= HTML_TEXT_MAX_INPUT)
		abort();
	buf_deinit(&out);
	buf_deinit(&html);
	return 0;
}
