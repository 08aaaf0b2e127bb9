#include "core/hex.h"

int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void hex_encode(const void *data, size_t len, int upper, struct buf *out)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	const unsigned char *p = data;
	unsigned char *o = buf_append_space(out, len * 2);
	for (size_t i = 0; i < len; i++) {
		o[2 * i] = (unsigned char)digits[p[i] >> 4];
		o[2 * i + 1] = (unsigned char)digits[p[i] & 15];
	}
}

int hex_decode(const void *text, size_t len, struct buf *out)
{
	const unsigned char *p = text;
	if (len % 2 != 0)
		return -1;
	buf_reserve(out, len / 2);
	for (size_t i = 0; i < len; i += 2) {
		int hi = hex_digit(p[i]), lo = hex_digit(p[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		buf_append_byte(out, (unsigned char)(hi << 4 | lo));
	}
	return 0;
}
