/* Fuzzes the POP3 command parser and the RETR/TOP output converter
 * (src/proto/pop3/parser.c), checking their promises: parsed slices lie
 * inside the line, keywords are 1..40 printable characters, arguments
 * hold no space; converted output is CRLF lines, no line is a lone "."
 * before the terminator, un-stuffing it gives the input back (with bare
 * LFs as CRLF), and any split of the input gives the same output. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/pop3/parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_command(const uint8_t *line, size_t len)
{
	struct pop3_command c;
	const char *err = NULL;
	if (pop3_command_parse(line, len, &c, &err) < 0) {
		if (err == NULL)
			abort();
		return;
	}
	const uint8_t *end = line + len;
	if (c.keyword.len == 0 || c.keyword.len > POP3_KEYWORD_MAX || c.keyword.ptr != line)
		abort();
	for (size_t i = 0; i < c.keyword.len; i++)
		if (c.keyword.ptr[i] <= 0x20 || c.keyword.ptr[i] >= 0x7f)
			abort();
	if (c.rest.ptr < line || c.rest.ptr + c.rest.len > end)
		abort();
	for (unsigned i = 0; i < c.argc && i < POP3_MAX_ARGS; i++) {
		struct slice a = c.argv[i];
		if (a.len == 0 || a.ptr < c.rest.ptr || a.ptr + a.len > c.rest.ptr + c.rest.len ||
			memchr(a.ptr, ' ', a.len) != NULL)
			abort();
		uint32_t n;
		(void)pop3_parse_number(a, UINT32_MAX, &n);
	}
}

static void convert(const uint8_t *data, size_t size, bool top, uint64_t lines, size_t split,
	struct buf *out)
{
	struct pop3_msgout m;
	pop3_msgout_init(&m, top, lines);
	if (pop3_msgout_feed(&m, data, split, out))
		pop3_msgout_feed(&m, data + split, size - split, out);
	pop3_msgout_finish(&m, out);
}

static void check_output(const uint8_t *data, size_t size, bool top, uint64_t lines)
{
	struct buf a, b, unstuffed;
	buf_init(&a, NULL);
	buf_init(&b, NULL);
	buf_init(&unstuffed, NULL);
	convert(data, size, top, lines, size, &a);
	convert(data, size, top, lines, size / 3, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	/* Walk the CRLF lines of the output. */
	if (a.len < 3 || memcmp(a.data + a.len - 3, ".\r\n", 3) != 0)
		abort();
	size_t pos = 0;
	bool terminated = false;
	while (pos < a.len) {
		const unsigned char *nl = memchr(a.data + pos, '\n', a.len - pos);
		if (nl == NULL)
			abort(); /* output ends in CRLF */
		size_t end = (size_t)(nl - a.data);
		if (end == pos || a.data[end - 1] != '\r')
			abort(); /* every LF is part of a CRLF */
		size_t llen = end - 1 - pos;
		if (llen == 1 && a.data[pos] == '.') {
			if (end + 1 != a.len)
				abort(); /* a lone "." only at the end */
			terminated = true;
			break;
		}
		size_t skip = a.data[pos] == '.' ? 1 : 0;
		if (skip && (llen < 2 || a.data[pos + 1] != '.'))
			abort(); /* a leading dot is always doubled */
		buf_append(&unstuffed, a.data + pos + skip, end + 1 - pos - skip);
		pos = end + 1;
	}
	if (!terminated)
		abort();
	if (!top) {
		/* RETR gives the input back, bare LFs turned into CRLF and a
		 * line end added at the end when missing. */
		struct buf want;
		buf_init(&want, NULL);
		for (size_t i = 0; i < size; i++) {
			if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
				buf_append_byte(&want, '\r');
			buf_append_byte(&want, data[i]);
		}
		if (size > 0 && data[size - 1] != '\n')
			buf_append_str(&want, data[size - 1] == '\r' ? "\n" : "\r\n");
		if (want.len != unstuffed.len || memcmp(want.data, unstuffed.data, want.len) != 0)
			abort();
		buf_deinit(&want);
	}
	buf_deinit(&a);
	buf_deinit(&b);
	buf_deinit(&unstuffed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		check_command(p, len);
		p += len;
	}
	check_output(data, size, false, 0);
	check_output(data, size, true, size > 0 ? data[0] % 8 : 0);
	return 0;
}
