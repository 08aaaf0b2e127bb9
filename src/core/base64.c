#include "core/base64.h"

static const char base64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encoded_len(size_t len)
{
	return (len + 2) / 3 * 4;
}

void base64_encode(const void *data, size_t len, struct buf *out)
{
	const unsigned char *p = data;
	unsigned char *o = buf_append_space(out, base64_encoded_len(len));
	size_t i = 0, j = 0;
	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		o[j++] = (unsigned char)base64_alphabet[v >> 18];
		o[j++] = (unsigned char)base64_alphabet[(v >> 12) & 63];
		o[j++] = (unsigned char)base64_alphabet[(v >> 6) & 63];
		o[j++] = (unsigned char)base64_alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		o[j++] = (unsigned char)base64_alphabet[v >> 18];
		o[j++] = (unsigned char)base64_alphabet[(v >> 12) & 63];
		o[j++] = i + 1 < len ? (unsigned char)base64_alphabet[(v >> 6) & 63] : '=';
		o[j++] = '=';
	}
}

static int base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(const void *text, size_t len, struct buf *out)
{
	const unsigned char *p = text;
	uint32_t acc = 0;
	int nbits = 0, pad = 0;
	size_t nchars = 0;
	buf_reserve(out, len / 4 * 3);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			nchars++;
			continue;
		}
		if (pad > 0)
			return -1; /* data after padding */
		int v = base64_value(c);
		if (v < 0)
			return -1;
		nchars++;
		acc = acc << 6 | (uint32_t)v;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			buf_append_byte(out, (unsigned char)(acc >> nbits));
		}
	}
	if (pad > 2 || nchars % 4 != 0)
		return -1;
	/* Leftover bits must be the zero padding of the last quantum. */
	if (nbits >= 6 || (acc & ((1u << nbits) - 1)) != 0)
		return -1;
	if ((pad == 1 && nbits != 2) || (pad == 2 && nbits != 4) || (pad == 0 && nbits != 0))
		return -1;
	return 0;
}
