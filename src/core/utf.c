#include "core/utf.h"

int utf8_decode(const unsigned char *s, size_t len, uint32_t *cp_r)
{
	if (len == 0)
		return -1;
	unsigned char c = s[0];
	if (c < 0x80) {
		*cp_r = c;
		return 1;
	}
	int n;
	uint32_t cp, min;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2, cp = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3, cp = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return -1; /* continuation byte, C0/C1 overlong lead, or > U+10FFFF */
	}
	if ((size_t)n > len)
		return -1;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*cp_r = cp;
	return n;
}

int utf8_encode(uint32_t cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | cp >> 12);
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | cp >> 18);
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

bool utf8_valid(const void *s, size_t len)
{
	const unsigned char *p = s;
	size_t i = 0;
	while (i < len) {
		/* Fast path for ASCII runs. */
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		uint32_t cp;
		int n = utf8_decode(p + i, len - i, &cp);
		if (n < 0)
			return false;
		i += (size_t)n;
	}
	return true;
}

size_t utf8_strlen(const void *s, size_t len)
{
	const unsigned char *p = s;
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			n++;
	return n;
}

static void utf16_put(struct buf *out, uint32_t cp)
{
	if (cp < 0x10000) {
		buf_append_u16le(out, (uint16_t)cp);
	} else {
		cp -= 0x10000;
		buf_append_u16le(out, (uint16_t)(0xd800 | (cp >> 10)));
		buf_append_u16le(out, (uint16_t)(0xdc00 | (cp & 0x3ff)));
	}
}

static int utf8_to_utf16le_impl(const void *s, size_t len, struct buf *out, bool lossy)
{
	const unsigned char *p = s;
	buf_reserve(out, len * 2);
	size_t i = 0;
	while (i < len) {
		uint32_t cp;
		int n = utf8_decode(p + i, len - i, &cp);
		if (n < 0) {
			if (!lossy)
				return -1;
			cp = 0xfffd;
			n = 1;
		}
		utf16_put(out, cp);
		i += (size_t)n;
	}
	return 0;
}

int utf8_to_utf16le(const void *s, size_t len, struct buf *out)
{
	return utf8_to_utf16le_impl(s, len, out, false);
}

void utf8_to_utf16le_lossy(const void *s, size_t len, struct buf *out)
{
	(void)utf8_to_utf16le_impl(s, len, out, true);
}

static int utf16le_to_utf8_impl(const void *s, size_t len, struct buf *out, bool lossy)
{
	const unsigned char *p = s;
	if (len % 2 != 0 && !lossy)
		return -1;
	size_t units = len / 2;
	buf_reserve(out, units * 3 / 2 + 1);
	unsigned char enc[4];
	for (size_t i = 0; i < units; i++) {
		uint32_t u = (uint32_t)p[2 * i] | (uint32_t)p[2 * i + 1] << 8;
		uint32_t cp = u;
		if (u >= 0xd800 && u <= 0xdbff) {
			uint32_t lo = 0;
			if (i + 1 < units)
				lo = (uint32_t)p[2 * i + 2] | (uint32_t)p[2 * i + 3] << 8;
			if (lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
				i++;
			} else if (lossy) {
				cp = 0xfffd;
			} else {
				return -1;
			}
		} else if (u >= 0xdc00 && u <= 0xdfff) {
			if (!lossy)
				return -1;
			cp = 0xfffd;
		}
		buf_append(out, enc, (size_t)utf8_encode(cp, enc));
	}
	if (len % 2 != 0) /* lossy: a dangling byte */
		buf_append(out, "\xef\xbf\xbd", 3);
	return 0;
}

int utf16le_to_utf8(const void *s, size_t len, struct buf *out)
{
	return utf16le_to_utf8_impl(s, len, out, false);
}

void utf16le_to_utf8_lossy(const void *s, size_t len, struct buf *out)
{
	(void)utf16le_to_utf8_impl(s, len, out, true);
}

void utf8_sanitize(const void *s, size_t len, struct buf *out)
{
	const unsigned char *p = s;
	size_t i = 0, run = 0;
	buf_reserve(out, len);
	while (i < len) {
		uint32_t cp;
		int n = utf8_decode(p + i, len - i, &cp);
		if (n > 0) {
			i += (size_t)n;
			continue;
		}
		buf_append(out, p + run, i - run);
		buf_append(out, "\xef\xbf\xbd", 3);
		i++;
		run = i;
	}
	buf_append(out, p + run, i - run);
}
