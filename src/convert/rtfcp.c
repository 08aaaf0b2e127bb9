/* Compressed RTF, MS-OXRTFCP. Written by hand: no Debian library implements
 * this format (zlib provides only the CRC table we reuse). */
#include "convert/rtfcp.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/xalloc.h"

#define DICT_SIZE 4096u
#define DICT_MASK (DICT_SIZE - 1)
#define MATCH_MIN 2
#define MATCH_MAX 17 /* 4-bit length field + 2 */
/* How many earlier occurrences of a 2-byte prefix the compressor examines.
 * The spec's search (2.3.3.2.1) scans the whole dictionary; for real bodies
 * the chains are short and the result is identical, but a pathological
 * input (4 KiB of one byte) must not cost 4096 comparisons per byte. */
#define CHAIN_MAX 512

/* MS-OXRTFCP 2.1.2.1: the dictionary's initial contents (207 bytes). */
static const char rtfcp_prebuf[] =
	"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss "
	"\\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier"
	"{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx";
#define PREBUF_LEN (sizeof(rtfcp_prebuf) - 1)

_Static_assert(PREBUF_LEN == 207, "MS-OXRTFCP 2.1.2.1 dictionary is 207 bytes");

static uint32_t get_u32le(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t rtfcp_crc(uint32_t crc, const void *data, size_t len)
{
	/* zlib's crc32() pre- and post-inverts; undo both so that the result
	 * is the plain table-driven CRC starting at crc. */
	const unsigned char *p = data;
	uLong c = ~(uLong)crc & 0xffffffffu;
	while (len > 0) {
		uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;
		c = crc32(c, p, n);
		p += n;
		len -= n;
	}
	return (uint32_t)(~c & 0xffffffffu);
}

bool rtfcp_is_compressed(const void *data, size_t len)
{
	if (len < RTFCP_HEADER_SIZE)
		return false;
	uint32_t type = get_u32le((const unsigned char *)data + 8);
	return type == RTFCP_MAGIC_COMPRESSED || type == RTFCP_MAGIC_UNCOMPRESSED;
}

int rtfcp_decompress(const void *data, size_t len, size_t max_out, unsigned flags,
	struct buf *out, const char **error_r)
{
	const unsigned char *p = data;
	if (len < RTFCP_HEADER_SIZE) {
		*error_r = "compressed RTF: shorter than its header";
		return -1;
	}
	/* 2.1.3.1.1: COMPSIZE counts the contents plus the 12 header bytes after it. */
	uint32_t compsize = get_u32le(p);
	uint32_t rawsize = get_u32le(p + 4);
	uint32_t type = get_u32le(p + 8);
	uint32_t crc = get_u32le(p + 12);
	if (compsize < RTFCP_HEADER_SIZE - 4) {
		*error_r = "compressed RTF: COMPSIZE smaller than the header";
		return -1;
	}
	if ((size_t)compsize > len - 4) {
		*error_r = "compressed RTF: truncated (COMPSIZE beyond the data)";
		return -1;
	}
	if (rawsize > max_out) {
		*error_r = "compressed RTF: RAWSIZE above the limit";
		return -1;
	}
	const unsigned char *in = p + RTFCP_HEADER_SIZE;
	size_t in_len = (size_t)compsize - (RTFCP_HEADER_SIZE - 4);

	if (type == RTFCP_MAGIC_UNCOMPRESSED) {
		/* 2.1.3.1.1: RAWDATA; the CRC is zero and not checked by readers. */
		if (rawsize > in_len) {
			*error_r = "compressed RTF: uncompressed data shorter than RAWSIZE";
			return -1;
		}
		buf_append(out, in, rawsize);
		return 1;
	}
	if (type != RTFCP_MAGIC_COMPRESSED) {
		*error_r = "compressed RTF: unknown COMPTYPE";
		return -1;
	}
	if ((flags & RTFCP_IGNORE_CRC) == 0 && rtfcp_crc(0, in, in_len) != crc) {
		*error_r = "compressed RTF: CRC mismatch";
		return -1;
	}

	/* 2.2.1 / 2.3.1: runs of a control byte and up to 8 tokens. */
	unsigned char dict[DICT_SIZE];
	memset(dict, 0, sizeof(dict));
	memcpy(dict, rtfcp_prebuf, PREBUF_LEN);
	unsigned wpos = PREBUF_LEN;
	size_t produced = 0;
	size_t i = 0;
	buf_reserve(out, rawsize);
	while (i < in_len) {
		unsigned control = in[i++];
		for (unsigned bit = 0; bit < 8; bit++) {
			if (i >= in_len)
				goto no_end;
			if ((control & (1u << bit)) == 0) {
				if (produced >= rawsize)
					goto too_long;
				unsigned char c = in[i++];
				buf_append_byte(out, c);
				produced++;
				dict[wpos] = c;
				wpos = (wpos + 1) & DICT_MASK;
				continue;
			}
			if (i + 2 > in_len)
				goto no_end;
			unsigned ref = (unsigned)in[i] << 8 | in[i + 1];
			i += 2;
			unsigned off = ref >> 4;
			unsigned n = (ref & 0xf) + MATCH_MIN;
			if (off == wpos) {
				/* 2.1.3.1.5: the end of the compressed data. */
				if (produced != rawsize) {
					*error_r = "compressed RTF: output size differs from RAWSIZE";
					return -1;
				}
				return 1;
			}
			if (produced + n > rawsize)
				goto too_long;
			/* Byte by byte: a reference may overlap what it writes. */
			for (unsigned k = 0; k < n; k++) {
				unsigned char c = dict[(off + k) & DICT_MASK];
				buf_append_byte(out, c);
				dict[wpos] = c;
				wpos = (wpos + 1) & DICT_MASK;
			}
			produced += n;
		}
	}
no_end:
	*error_r = "compressed RTF: data ends without the end marker";
	return -1;
too_long:
	*error_r = "compressed RTF: output longer than RAWSIZE";
	return -1;
}

static void put_u32le_at(struct buf *b, size_t at, uint32_t v)
{
	b->data[at] = (unsigned char)v;
	b->data[at + 1] = (unsigned char)(v >> 8);
	b->data[at + 2] = (unsigned char)(v >> 16);
	b->data[at + 3] = (unsigned char)(v >> 24);
}

/* The compressor's dictionary with hash chains over 2-byte prefixes.
 * Positions are absolute (bytes ever written, the preload included) so that
 * an entry is known to be overwritten when it is 4096 or more behind. */
struct rtfcp_enc {
	unsigned char dict[DICT_SIZE];
	uint64_t wabs; /* absolute write position */
	int64_t head[65536];
	int64_t prev[DICT_SIZE];
};

static unsigned enc_key(const struct rtfcp_enc *e, uint64_t a)
{
	return (unsigned)e->dict[a & DICT_MASK] << 8 | e->dict[(a + 1) & DICT_MASK];
}

static void enc_insert(struct rtfcp_enc *e, uint64_t a)
{
	unsigned k = enc_key(e, a);
	e->prev[a & DICT_MASK] = e->head[k];
	e->head[k] = (int64_t)a;
}

static void enc_put(struct rtfcp_enc *e, unsigned char c)
{
	e->dict[e->wabs & DICT_MASK] = c;
	/* The prefix starting one byte back is now complete. */
	if (e->wabs >= 1)
		enc_insert(e, e->wabs - 1);
	e->wabs++;
}

/* Length of the match at absolute position a against in[0..max), reading
 * the bytes a decoder would see: the dictionary, and past the write
 * position the bytes this very reference writes. */
static unsigned enc_match_len(const struct rtfcp_enc *e, uint64_t a, const unsigned char *in,
	unsigned max)
{
	unsigned n = 0;
	while (n < max) {
		uint64_t pos = a + n;
		unsigned char c = pos < e->wabs ? e->dict[pos & DICT_MASK] : in[pos - e->wabs];
		if (c != in[n])
			break;
		n++;
	}
	return n;
}

static bool enc_usable(const struct rtfcp_enc *e, uint64_t a)
{
	/* Not yet overwritten, and not the write position itself (which is
	 * the end marker's offset, 2.1.3.1.5). */
	return a < e->wabs && e->wabs - a < DICT_SIZE;
}

/* 2.3.3.2.1: the longest match; among equal lengths the oldest position,
 * as the spec's scan from the start of the dictionary finds first. */
static unsigned enc_find(const struct rtfcp_enc *e, const unsigned char *in, size_t avail,
	unsigned *off_r)
{
	unsigned max = avail < MATCH_MAX ? (unsigned)avail : MATCH_MAX;
	unsigned best = 0;
	uint64_t best_at = 0;
	if (max < MATCH_MIN)
		return 0;
	unsigned key = (unsigned)in[0] << 8 | in[1];
	int64_t a = e->head[key];
	for (unsigned steps = 0; a >= 0 && steps < CHAIN_MAX; steps++) {
		uint64_t ua = (uint64_t)a;
		if (!enc_usable(e, ua))
			break; /* older entries are gone too */
		if (enc_key(e, ua) == key) {
			unsigned n = enc_match_len(e, ua, in, max);
			if (n >= best && n >= MATCH_MIN) {
				best = n;
				best_at = ua;
			}
		}
		int64_t next = e->prev[ua & DICT_MASK];
		if (next >= a)
			break; /* the slot was reused: the chain is stale */
		a = next;
	}
	/* The byte just before the write position has no complete prefix in
	 * the chains yet; a match there runs into the bytes being written. */
	if (e->wabs >= 1 && enc_usable(e, e->wabs - 1)) {
		uint64_t ua = e->wabs - 1;
		unsigned n = enc_match_len(e, ua, in, max);
		if (n > best || (n == best && n >= MATCH_MIN && ua < best_at)) {
			best = n;
			best_at = ua;
		}
	}
	if (best < MATCH_MIN)
		return 0;
	*off_r = (unsigned)(best_at & DICT_MASK);
	return best;
}

int rtfcp_compress(const void *rtf, size_t len, struct buf *out, const char **error_r)
{
	if (len > UINT32_MAX - 64) {
		*error_r = "compressed RTF: input too large";
		return -1;
	}
	const unsigned char *in = rtf;
	struct rtfcp_enc *e = xmalloc(sizeof(*e));
	memset(e->dict, 0, sizeof(e->dict));
	memcpy(e->dict, rtfcp_prebuf, PREBUF_LEN);
	for (size_t k = 0; k < 65536; k++)
		e->head[k] = -1;
	for (size_t k = 0; k < DICT_SIZE; k++)
		e->prev[k] = -1;
	e->wabs = 0;
	for (size_t k = 0; k < PREBUF_LEN; k++)
		enc_put(e, (unsigned char)rtfcp_prebuf[k]);

	size_t hdr = out->len;
	buf_append_space(out, RTFCP_HEADER_SIZE);
	size_t body = out->len;
	size_t pos = 0;
	bool done = false;
	/* 2.3.3.2: runs of up to 8 tokens; the end marker closes the last. */
	while (!done) {
		size_t ctl_at = out->len;
		unsigned control = 0;
		buf_append_byte(out, 0);
		for (unsigned bit = 0; bit < 8; bit++) {
			if (pos >= len) {
				unsigned ref = (unsigned)(e->wabs & DICT_MASK) << 4;
				control |= 1u << bit;
				buf_append_byte(out, (unsigned char)(ref >> 8));
				buf_append_byte(out, (unsigned char)ref);
				done = true;
				break;
			}
			unsigned off = 0;
			unsigned n = enc_find(e, in + pos, len - pos, &off);
			if (n == 0) {
				buf_append_byte(out, in[pos]);
				enc_put(e, in[pos]);
				pos++;
				continue;
			}
			unsigned ref = off << 4 | (n - MATCH_MIN);
			control |= 1u << bit;
			buf_append_byte(out, (unsigned char)(ref >> 8));
			buf_append_byte(out, (unsigned char)ref);
			for (unsigned k = 0; k < n; k++)
				enc_put(e, in[pos + k]);
			pos += n;
		}
		out->data[ctl_at] = (unsigned char)control;
	}
	free(e);
	size_t clen = out->len - body;
	put_u32le_at(out, hdr, (uint32_t)(clen + 12));
	put_u32le_at(out, hdr + 4, (uint32_t)len);
	put_u32le_at(out, hdr + 8, RTFCP_MAGIC_COMPRESSED);
	put_u32le_at(out, hdr + 12, rtfcp_crc(0, out->data + body, clen));
	return 1;
}

int rtfcp_wrap_uncompressed(const void *rtf, size_t len, struct buf *out,
	const char **error_r)
{
	if (len > UINT32_MAX - 64) {
		*error_r = "compressed RTF: input too large";
		return -1;
	}
	buf_append_u32le(out, (uint32_t)(len + 12));
	buf_append_u32le(out, (uint32_t)len);
	buf_append_u32le(out, RTFCP_MAGIC_UNCOMPRESSED);
	buf_append_u32le(out, 0);
	buf_append(out, rtf, len);
	return 1;
}
