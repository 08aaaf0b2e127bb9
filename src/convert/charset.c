/* Charset conversion for mail over GMime's iconv wrappers. The replacement
 * loop (U+FFFD for each invalid sequence, never an error) and the code
 * page table are ours: iconv stops at the first bad byte and GMime's
 * converters drop them silently. */
#include "convert/charset.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <iconv.h>
#include <string.h>

#include "core/str.h"
#include "core/utf.h"

struct cs_alias {
	const char *declared;
	const char *effective;
};

/* What browsers and mail readers decode these labels as (WHATWG
 * Encoding's label table makes the same choices). */
static const struct cs_alias cs_aliases[] = {
	{"us-ascii", "windows-1252"},
	{"ascii", "windows-1252"},
	{"iso-8859-1", "windows-1252"},
	{"iso8859-1", "windows-1252"},
	{"iso_8859-1", "windows-1252"},
	{"latin1", "windows-1252"},
	{"l1", "windows-1252"},
	{"gb2312", "GB18030"},
	{"gbk", "GB18030"},
	{"x-gbk", "GB18030"},
	{"cp936", "GB18030"},
	{"euc-cn", "GB18030"},
	{"ks_c_5601-1987", "CP949"},
	{"euc-kr", "CP949"},
	{"shift_jis", "CP932"},
	{"shift-jis", "CP932"},
	{"sjis", "CP932"},
	{"x-sjis", "CP932"},
	{"iso-8859-9", "windows-1254"},
	{"tis-620", "CP874"},
	{"iso-8859-11", "CP874"},
	{"big5", "BIG5-HKSCS"},
	{"utf8", "UTF-8"},
	{"unicode-1-1-utf-8", "UTF-8"},
	{"x-unknown", NULL},
	{"unknown-8bit", NULL},
	{"x-user-defined", NULL},
};

const char *convert_charset_effective(const char *charset)
{
	if (charset == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(cs_aliases) / sizeof(cs_aliases[0]); i++)
		if (str_case_eq(charset, cs_aliases[i].declared))
			return cs_aliases[i].effective;
	return charset;
}

static bool is_utf8_name(const char *cs)
{
	return str_case_eq(cs, "utf-8") || str_case_eq(cs, "utf8");
}

/* iconv from "from" to UTF-8 with U+FFFD for bad input. Returns false if
 * the converter cannot be opened. */
static bool iconv_lossy(const char *from, const void *data, size_t len, struct buf *out)
{
	iconv_t cd = g_mime_iconv_open("UTF-8", from);
	if (cd == (iconv_t)-1)
		return false;
	char *in = (char *)data;
	size_t inleft = len;
	size_t start = out->len;
	while (inleft > 0) {
		size_t room = inleft * 4 + 16;
		buf_reserve(out, room);
		char *o = (char *)out->data + out->len;
		size_t oleft = room;
		size_t r = iconv(cd, &in, &inleft, &o, &oleft);
		out->len = (size_t)(o - (char *)out->data);
		if (r != (size_t)-1)
			break;
		if (errno == E2BIG)
			continue;
		/* EILSEQ or EINVAL (truncated at the end): replace one byte and
		 * carry on from a clean state. */
		buf_append_str(out, "\xef\xbf\xbd");
		in++;
		inleft--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	/* Flush any shift state (ISO-2022-JP). */
	char tail[16];
	char *o = tail;
	size_t oleft = sizeof(tail);
	if (iconv(cd, NULL, NULL, &o, &oleft) != (size_t)-1)
		buf_append(out, tail, (size_t)(o - tail));
	g_mime_iconv_close(cd);
	/* iconv implementations differ on what they let through: make sure. */
	if (!utf8_valid(out->data + start, out->len - start)) {
		struct buf fixed;
		buf_init(&fixed, NULL);
		utf8_sanitize(out->data + start, out->len - start, &fixed);
		buf_truncate(out, start);
		buf_append(out, fixed.data, fixed.len);
		buf_deinit(&fixed);
	}
	out->data[out->len] = '\0';
	return true;
}

static bool all_ascii(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] >= 0x80)
			return false;
	return true;
}

bool convert_to_utf8(const char *charset, const void *data, size_t len, struct buf *out)
{
	const char *eff = convert_charset_effective(charset);
	if (eff != NULL && all_ascii(data, len) && !str_case_starts_with(eff, "utf-16") &&
		!str_case_starts_with(eff, "utf-32") && !str_case_starts_with(eff, "utf-7") &&
		!str_case_starts_with(eff, "ucs") && !str_case_starts_with(eff, "iso-2022") &&
		!str_case_starts_with(eff, "hz")) {
		/* Fast path: ASCII is the same in every ASCII-based charset. */
		buf_append(out, data, len);
		return true;
	}
	if (eff != NULL && is_utf8_name(eff)) {
		utf8_sanitize(data, len, out);
		return true;
	}
	if (eff != NULL && iconv_lossy(eff, data, len, out))
		return charset != NULL;
	/* No or unknown charset: UTF-8 if it is, else windows-1252. */
	if (utf8_valid(data, len)) {
		buf_append(out, data, len);
		return false;
	}
	if (!iconv_lossy("windows-1252", data, len, out))
		utf8_sanitize(data, len, out);
	return false;
}

int convert_from_utf8(const char *charset, const void *text, size_t len, struct buf *out)
{
	if (charset == NULL)
		return 0;
	if (is_utf8_name(charset)) {
		buf_append(out, text, len);
		return 1;
	}
	iconv_t cd = g_mime_iconv_open(charset, "UTF-8");
	if (cd == (iconv_t)-1)
		return 0;
	size_t start = out->len;
	char *in = (char *)text;
	size_t inleft = len;
	int ok = 1;
	while (inleft > 0) {
		size_t room = inleft * 4 + 32;
		buf_reserve(out, room);
		char *o = (char *)out->data + out->len;
		size_t oleft = room;
		size_t r = iconv(cd, &in, &inleft, &o, &oleft);
		out->len = (size_t)(o - (char *)out->data);
		if (r == (size_t)-1 && errno != E2BIG) {
			ok = 0;
			break;
		}
	}
	if (ok) {
		/* Return to the initial shift state (ISO-2022-JP's ESC ( B). */
		buf_reserve(out, 32);
		char *o = (char *)out->data + out->len;
		size_t oleft = 32;
		if (iconv(cd, NULL, NULL, &o, &oleft) != (size_t)-1)
			out->len = (size_t)(o - (char *)out->data);
	}
	g_mime_iconv_close(cd);
	if (!ok)
		buf_truncate(out, start);
	else
		out->data[out->len] = '\0';
	return ok;
}

struct cpid_name {
	uint32_t cpid;
	const char *name;
};

/* Code page identifiers (Windows) and their MIME names; the first name of
 * a code page is the one written on export. */
static const struct cpid_name cpids[] = {
	{65001, "utf-8"},
	{1252, "windows-1252"},
	{28591, "iso-8859-1"},
	{20127, "us-ascii"},
	{28592, "iso-8859-2"},
	{28593, "iso-8859-3"},
	{28594, "iso-8859-4"},
	{28595, "iso-8859-5"},
	{28596, "iso-8859-6"},
	{28597, "iso-8859-7"},
	{28598, "iso-8859-8"},
	{28599, "iso-8859-9"},
	{28603, "iso-8859-13"},
	{28605, "iso-8859-15"},
	{1250, "windows-1250"},
	{1251, "windows-1251"},
	{1253, "windows-1253"},
	{1254, "windows-1254"},
	{1255, "windows-1255"},
	{1256, "windows-1256"},
	{1257, "windows-1257"},
	{1258, "windows-1258"},
	{874, "windows-874"},
	{20866, "koi8-r"},
	{21866, "koi8-u"},
	{50220, "iso-2022-jp"},
	{51932, "euc-jp"},
	{932, "shift_jis"},
	{936, "gb2312"},
	{54936, "gb18030"},
	{936, "gbk"},
	{950, "big5"},
	{949, "ks_c_5601-1987"},
	{51949, "euc-kr"},
	{50225, "iso-2022-kr"},
	{1200, "utf-16"},
	{65000, "utf-7"},
};

uint32_t convert_charset_to_cpid(const char *charset)
{
	if (charset == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(cpids) / sizeof(cpids[0]); i++)
		if (str_case_eq(charset, cpids[i].name))
			return cpids[i].cpid;
	if (is_utf8_name(charset))
		return CONVERT_CPID_UTF8;
	const char *canon = g_mime_charset_canon_name(charset);
	if (canon != NULL && canon != charset && !str_case_eq(canon, charset))
		for (size_t i = 0; i < sizeof(cpids) / sizeof(cpids[0]); i++)
			if (str_case_eq(canon, cpids[i].name))
				return cpids[i].cpid;
	return 0;
}

const char *convert_cpid_to_charset(uint32_t cpid)
{
	for (size_t i = 0; i < sizeof(cpids) / sizeof(cpids[0]); i++)
		if (cpids[i].cpid == cpid)
			return cpids[i].name;
	return NULL;
}
