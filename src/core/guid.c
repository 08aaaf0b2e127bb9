#include "core/guid.h"

#include <string.h>
#include <sys/random.h>

#include "core/hex.h"
#include "core/log.h"

void guid_generate(struct guid *g)
{
	size_t got = 0;
	while (got < sizeof(g->b)) {
		ssize_t n = getrandom(g->b + got, sizeof(g->b) - got, 0);
		if (n < 0)
			log_panic(NULL, "getrandom failed");
		got += (size_t)n;
	}
	/* RFC 4122 version 4: Data3's high nibble (byte 7 on the wire, since
	 * Data3 is little-endian) and the variant bits of Data4[0]. */
	g->b[7] = (uint8_t)((g->b[7] & 0x0f) | 0x40);
	g->b[8] = (uint8_t)((g->b[8] & 0x3f) | 0x80);
}

/* Textual order of the wire bytes: Data1 (LE), Data2 (LE), Data3 (LE), Data4. */
static const int guid_text_order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};

char *guid_format(const struct guid *g, char *out)
{
	static const char d[] = "0123456789abcdef";
	int o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		uint8_t v = g->b[guid_text_order[i]];
		out[o++] = d[v >> 4];
		out[o++] = d[v & 15];
	}
	out[o] = '\0';
	return out;
}

int guid_parse(const char *s, struct guid *g)
{
	size_t len = strlen(s);
	if (len == GUID_STR_LEN + 2 && s[0] == '{' && s[len - 1] == '}')
		s++, len -= 2;
	if (len != GUID_STR_LEN)
		return -1;
	int bi = 0;
	for (size_t i = 0; i < len;) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -1;
			i++;
			continue;
		}
		int hi = hex_digit((unsigned char)s[i]), lo = hex_digit((unsigned char)s[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		g->b[guid_text_order[bi++]] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return 0;
}

bool guid_eq(const struct guid *a, const struct guid *b)
{
	return memcmp(a->b, b->b, 16) == 0;
}

bool guid_is_null(const struct guid *g)
{
	static const struct guid zero;
	return guid_eq(g, &zero);
}

struct guid guid_make(uint32_t d1, uint16_t d2, uint16_t d3, const uint8_t d4[8])
{
	struct guid g;
	for (int i = 0; i < 4; i++)
		g.b[i] = (uint8_t)(d1 >> (8 * i));
	g.b[4] = (uint8_t)d2;
	g.b[5] = (uint8_t)(d2 >> 8);
	g.b[6] = (uint8_t)d3;
	g.b[7] = (uint8_t)(d3 >> 8);
	memcpy(g.b + 8, d4, 8);
	return g;
}
