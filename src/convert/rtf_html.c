/* RTF reading for MS-OXRTFEX de-encapsulation and text extraction, and
 * HTML / text encapsulation. Written by hand: Debian has no C library that
 * parses RTF with the \htmltag / \htmlrtf extensions (code page conversion
 * is iconv's, HTML rendering is libxml2's via html_text.c). */
#include "convert/rtf_html.h"

#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>

#include "convert/html_text.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "core/utf.h"

#define RTF_MAX_FONTS 1024
#define RTF_ICONV_CACHE 4
#define RTF_DEFAULT_CP 1252

enum rtf_mode {
	RTF_MODE_HTML, /* de-encapsulate HTML */
	RTF_MODE_TEXT, /* \fromtext or native: visible text */
};

/* What each group inherits from its parent and restores on exit
 * (MS-OXRTFEX 2.1.3.1.3: \htmlrtf travels with groups as well). */
struct rtf_group {
	bool skip;    /* an ignored destination */
	bool htmlrtf; /* RTF-only text, not part of the original */
	bool htmltag; /* inside {\*\htmltag ...}: HTML to copy */
	bool fonttbl; /* inside the font table */
	uint8_t uc;   /* \ucN: fallback characters after \uN */
	int32_t font; /* \fN in force, -1 none */
};

struct rtf_font {
	int32_t num;
	unsigned cp; /* 0: the document's default */
};

struct rtf_reader {
	enum rtf_mode mode;
	const unsigned char *p, *end;
	struct rtf_group st[RTF_MAX_DEPTH];
	unsigned depth;    /* st[depth - 1] is the current group */
	unsigned overflow; /* groups beyond RTF_MAX_DEPTH, all skipped */
	bool star;         /* the last token was \* */
	unsigned ansicpg;
	int32_t deff;
	struct rtf_font fonts[RTF_MAX_FONTS];
	unsigned nfonts;
	unsigned fallback; /* \uN fallback characters still to skip */
	uint32_t high;     /* a pending high surrogate from \uN, 0 none */

	struct buf *out;
	size_t start, max;
	bool over;
	unsigned char pend[512]; /* bytes in pend_cp waiting for iconv */
	size_t npend;
	unsigned pend_cp;
	struct {
		unsigned cp;
		iconv_t cd;
	} cache[RTF_ICONV_CACHE];
	unsigned ncache;
};

/* \fcharsetN -> Windows code page ([MSFT-RTF] \fcharset table). */
static unsigned rtf_charset_cp(int32_t cs)
{
	switch (cs) {
	case 0: return 1252;
	case 1: return 0; /* default */
	case 2: return 1252; /* Symbol: no code page; bytes kept as Latin-1 */
	case 77: return 10000;
	case 78: return 10001;
	case 128: return 932;
	case 129: return 949;
	case 130: return 1361;
	case 134: return 936;
	case 136: return 950;
	case 161: return 1253;
	case 162: return 1254;
	case 163: return 1258;
	case 177: return 1255;
	case 178: return 1256;
	case 186: return 1257;
	case 204: return 1251;
	case 222: return 874;
	case 238: return 1250;
	case 254: return 437;
	case 255: return 850;
	default: return 0;
	}
}

static void rtf_iconv_name(unsigned cp, char *name, size_t size)
{
	switch (cp) {
	case 10000: snprintf(name, size, "MACINTOSH"); break;
	case 1361: snprintf(name, size, "JOHAB"); break;
	case 20127: snprintf(name, size, "ASCII"); break;
	case 20866: snprintf(name, size, "KOI8-R"); break;
	case 21866: snprintf(name, size, "KOI8-U"); break;
	case 50220: case 50221: case 50222: snprintf(name, size, "ISO-2022-JP"); break;
	case 51932: snprintf(name, size, "EUC-JP"); break;
	case 51936: snprintf(name, size, "GB2312"); break;
	case 51949: snprintf(name, size, "EUC-KR"); break;
	case 54936: snprintf(name, size, "GB18030"); break;
	default:
		if (cp >= 28591 && cp <= 28606)
			snprintf(name, size, "ISO-8859-%u", cp - 28590);
		else
			snprintf(name, size, "CP%u", cp);
	}
}

static iconv_t rtf_iconv(struct rtf_reader *r, unsigned cp)
{
	for (unsigned i = 0; i < r->ncache; i++)
		if (r->cache[i].cp == cp)
			return r->cache[i].cd;
	char name[32];
	rtf_iconv_name(cp, name, sizeof(name));
	iconv_t cd = iconv_open("UTF-8", name);
	if (cd == (iconv_t)-1 && cp != RTF_DEFAULT_CP)
		return rtf_iconv(r, RTF_DEFAULT_CP); /* unknown code page: Latin */
	if (cd == (iconv_t)-1)
		return cd;
	if (r->ncache == RTF_ICONV_CACHE) {
		iconv_close(r->cache[0].cd);
		memmove(&r->cache[0], &r->cache[1], sizeof(r->cache[0]) * (RTF_ICONV_CACHE - 1));
		r->ncache--;
	}
	r->cache[r->ncache].cp = cp;
	r->cache[r->ncache].cd = cd;
	r->ncache++;
	return cd;
}

static void rtf_out(struct rtf_reader *r, const void *data, size_t n)
{
	if (r->over)
		return;
	if (r->out->len - r->start + n > r->max) {
		r->over = true;
		return;
	}
	buf_append(r->out, data, n);
}

static void rtf_out_cp(struct rtf_reader *r, uint32_t c)
{
	unsigned char u[4];
	if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		c = 0xfffd;
	rtf_out(r, u, (size_t)utf8_encode(c, u));
}

static void rtf_flush_bytes(struct rtf_reader *r)
{
	if (r->npend == 0)
		return;
	unsigned cp = r->pend_cp;
	size_t n = r->npend;
	r->npend = 0;
	if (cp == 65001) {
		struct buf tmp;
		buf_init(&tmp, NULL);
		utf8_sanitize(r->pend, n, &tmp);
		rtf_out(r, tmp.data, tmp.len);
		buf_deinit(&tmp);
		return;
	}
	iconv_t cd = rtf_iconv(r, cp);
	if (cd == (iconv_t)-1) {
		for (size_t i = 0; i < n; i++)
			rtf_out_cp(r, r->pend[i]);
		return;
	}
	char *in = (char *)r->pend;
	size_t inleft = n;
	iconv(cd, NULL, NULL, NULL, NULL);
	while (inleft > 0) {
		char obuf[2048];
		char *o = obuf;
		size_t oleft = sizeof(obuf);
		size_t rc = iconv(cd, &in, &inleft, &o, &oleft);
		rtf_out(r, obuf, sizeof(obuf) - oleft);
		if (rc == (size_t)-1 && errno != E2BIG) {
			/* An invalid or incomplete sequence: one replacement
			 * character per bad byte. */
			rtf_out_cp(r, 0xfffd);
			in++;
			inleft--;
			iconv(cd, NULL, NULL, NULL, NULL);
		}
	}
}

static unsigned rtf_current_cp(const struct rtf_reader *r)
{
	const struct rtf_group *g = &r->st[r->depth - 1];
	int32_t f = g->font >= 0 ? g->font : r->deff;
	if (f >= 0) {
		for (unsigned i = 0; i < r->nfonts; i++)
			if (r->fonts[i].num == f && r->fonts[i].cp != 0)
				return r->fonts[i].cp;
	}
	return r->ansicpg;
}

/* Whether text at this point belongs to the output. */
static bool rtf_visible(const struct rtf_reader *r)
{
	if (r->overflow > 0 || r->depth == 0)
		return false;
	const struct rtf_group *g = &r->st[r->depth - 1];
	if (g->skip || g->fonttbl)
		return false;
	if (r->mode == RTF_MODE_TEXT)
		return true; /* a plain RTF reader: \htmlrtf means nothing */
	return g->htmltag || !g->htmlrtf;
}

/* A fallback character after \uN is consumed instead of shown. */
static bool rtf_eat_fallback(struct rtf_reader *r)
{
	if (r->fallback == 0)
		return false;
	r->fallback--;
	return true;
}

static void rtf_settle_high(struct rtf_reader *r);

static void rtf_byte(struct rtf_reader *r, unsigned char c)
{
	if (rtf_eat_fallback(r) || !rtf_visible(r))
		return;
	rtf_settle_high(r);
	unsigned cp = rtf_current_cp(r);
	if (r->npend > 0 && (cp != r->pend_cp || r->npend == sizeof(r->pend)))
		rtf_flush_bytes(r);
	if (c < 0x80 && r->npend == 0) {
		rtf_out(r, &c, 1); /* ASCII is ASCII in every code page we meet */
		return;
	}
	r->pend_cp = cp;
	r->pend[r->npend++] = c;
}

/* A high surrogate from \uN not followed by its low half. */
static void rtf_settle_high(struct rtf_reader *r)
{
	if (r->high == 0)
		return;
	r->high = 0;
	rtf_flush_bytes(r);
	rtf_out_cp(r, 0xfffd);
}

static void rtf_char(struct rtf_reader *r, uint32_t c)
{
	if (!rtf_visible(r))
		return;
	rtf_settle_high(r);
	rtf_flush_bytes(r);
	rtf_out_cp(r, c);
}

static void rtf_str(struct rtf_reader *r, const char *s)
{
	if (!rtf_visible(r))
		return;
	rtf_settle_high(r);
	rtf_flush_bytes(r);
	rtf_out(r, s, strlen(s));
}

static void rtf_unicode(struct rtf_reader *r, int32_t n)
{
	uint32_t c = n < 0 ? (uint32_t)(n + 65536) : (uint32_t)n;
	if (c >= 0xd800 && c <= 0xdbff) {
		rtf_settle_high(r);
		r->high = c;
		return;
	}
	if (c >= 0xdc00 && c <= 0xdfff) {
		if (r->high != 0) {
			c = 0x10000 + ((r->high - 0xd800) << 10) + (c - 0xdc00);
			r->high = 0;
		} else {
			c = 0xfffd;
		}
	}
	rtf_char(r, c);
}

static bool rtf_name_in(const char *name, const char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

/* Destinations whose content is never text, even without \*. */
static const char *const rtf_skip_dests[] = {"colortbl", "stylesheet", "info", "pict", "header",
	"headerl", "headerr", "headerf", "footer", "footerl", "footerr", "footerf", "footnote",
	"objdata", "objclass", "objname", "nonshppict", "fldinst", "listtable",
	"listoverridetable", "revtbl", "rsidtbl", "filetbl", "generator", "xmlnstbl", "themedata",
	"colorschememapping", "latentstyles", "datastore", "pgdsctbl", "pntxta", "pntxtb",
	"template", "userprops", "docvar", "shpinst", "sp", "xe", "tc", "txe", "datafield",
	"mhtmltag", "bkmkstart", "bkmkend", "annotation", "atnid", "atnauthor", "comment",
	"author", "operator", "title", "subject", "keywords", "doccomm", "company", NULL};

struct rtf_special {
	const char *name;
	uint32_t cp;
};

static const struct rtf_special rtf_specials[] = {
	{"lquote", 0x2018}, {"rquote", 0x2019}, {"ldblquote", 0x201c}, {"rdblquote", 0x201d},
	{"bullet", 0x2022}, {"endash", 0x2013}, {"emdash", 0x2014}, {"emspace", 0x2003},
	{"enspace", 0x2002}, {"qmspace", 0x2005}, {"zwj", 0x200d}, {"zwnj", 0x200c},
	{"ltrmark", 0x200e}, {"rtlmark", 0x200f}, {NULL, 0},
};

static void rtf_control_word(struct rtf_reader *r, const char *name, bool has_param, int32_t param)
{
	bool star = r->star;
	r->star = false;
	struct rtf_group *g = &r->st[r->depth - 1];
	/* A control word counts as one fallback character after \uN. */
	if (strcmp(name, "u") != 0 && strcmp(name, "uc") != 0 && rtf_eat_fallback(r))
		return;
	if (strcmp(name, "bin") == 0) {
		/* Binary data follows: never parse it as RTF. */
		size_t n = has_param && param > 0 ? (size_t)param : 0;
		size_t left = (size_t)(r->end - r->p);
		r->p += n < left ? n : left;
		return;
	}
	if (g->skip)
		return;
	if (strcmp(name, "htmltag") == 0 && r->mode == RTF_MODE_HTML) {
		g->htmltag = true;
		return;
	}
	if (star || rtf_name_in(name, rtf_skip_dests)) {
		g->skip = true;
		return;
	}
	if (strcmp(name, "fonttbl") == 0) {
		g->fonttbl = true;
		return;
	}
	if (g->fonttbl) {
		if (strcmp(name, "f") == 0 && has_param && r->nfonts < RTF_MAX_FONTS) {
			r->fonts[r->nfonts].num = param;
			r->fonts[r->nfonts].cp = 0;
			r->nfonts++;
		} else if (strcmp(name, "fcharset") == 0 && r->nfonts > 0) {
			r->fonts[r->nfonts - 1].cp = rtf_charset_cp(param);
		} else if (strcmp(name, "cpg") == 0 && r->nfonts > 0 && param > 0) {
			r->fonts[r->nfonts - 1].cp = (unsigned)param;
		}
		return;
	}
	if (strcmp(name, "htmlrtf") == 0) {
		g->htmlrtf = !(has_param && param == 0);
		return;
	}
	if (strcmp(name, "u") == 0 && has_param) {
		if (!rtf_visible(r)) {
			r->fallback = g->uc;
			return;
		}
		rtf_unicode(r, param);
		r->fallback = g->uc;
		return;
	}
	if (strcmp(name, "uc") == 0) {
		g->uc = has_param && param >= 0 && param <= 16 ? (uint8_t)param : 1;
		return;
	}
	if (strcmp(name, "f") == 0 && has_param) {
		g->font = param;
		return;
	}
	if (strcmp(name, "deff") == 0 && has_param) {
		r->deff = param;
		return;
	}
	if (strcmp(name, "ansicpg") == 0 && has_param && param > 0) {
		r->ansicpg = (unsigned)param;
		return;
	}
	if (strcmp(name, "mac") == 0) {
		r->ansicpg = 10000;
		return;
	}
	if (strcmp(name, "pc") == 0) {
		r->ansicpg = 437;
		return;
	}
	if (strcmp(name, "pca") == 0) {
		r->ansicpg = 850;
		return;
	}
	if (strcmp(name, "par") == 0 || strcmp(name, "line") == 0) {
		rtf_str(r, "\r\n");
		return;
	}
	if (strcmp(name, "tab") == 0) {
		rtf_str(r, "\t");
		return;
	}
	if (r->mode == RTF_MODE_TEXT) {
		if (strcmp(name, "cell") == 0 || strcmp(name, "nestcell") == 0) {
			rtf_str(r, "\t");
			return;
		}
		if (strcmp(name, "row") == 0 || strcmp(name, "nestrow") == 0 ||
			strcmp(name, "sect") == 0 || strcmp(name, "page") == 0) {
			rtf_str(r, "\r\n");
			return;
		}
	}
	for (size_t i = 0; rtf_specials[i].name != NULL; i++) {
		if (strcmp(name, rtf_specials[i].name) == 0) {
			rtf_char(r, rtf_specials[i].cp);
			return;
		}
	}
	/* Anything else is formatting without a textual equivalent. */
}

static int rtf_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void rtf_group_open(struct rtf_reader *r)
{
	r->fallback = 0;
	r->star = false;
	if (r->overflow > 0 || r->depth == RTF_MAX_DEPTH) {
		r->overflow++;
		return;
	}
	r->st[r->depth] = r->st[r->depth - 1];
	r->depth++;
}

static void rtf_group_close(struct rtf_reader *r)
{
	r->fallback = 0;
	r->star = false;
	if (r->overflow > 0) {
		r->overflow--;
		return;
	}
	if (r->depth > 1) {
		/* Leaving a group may change the font and so the code page. */
		rtf_flush_bytes(r);
		r->depth--;
	} else {
		r->depth = 0; /* the document's closing brace */
	}
}

/* The tokenizer ([MSFT-RTF]: groups, control words with an optional
 * signed parameter and one delimiting space, control symbols, text). */
static void rtf_run(struct rtf_reader *r)
{
	while (r->p < r->end && r->depth > 0 && !r->over) {
		unsigned char c = *r->p++;
		if (c == '{') {
			rtf_group_open(r);
		} else if (c == '}') {
			rtf_group_close(r);
		} else if (c == '\\') {
			if (r->p >= r->end)
				break;
			unsigned char d = *r->p;
			if ((d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z')) {
				char name[33];
				size_t n = 0;
				while (r->p < r->end && ((*r->p >= 'a' && *r->p <= 'z') ||
								(*r->p >= 'A' && *r->p <= 'Z'))) {
					if (n < sizeof(name) - 1)
						name[n++] = (char)*r->p;
					r->p++;
				}
				name[n] = '\0';
				bool has_param = false, neg = false;
				int64_t param = 0;
				if (r->p < r->end && *r->p == '-') {
					neg = true;
					r->p++;
				}
				while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
					if (param < 100000000000LL)
						param = param * 10 + (*r->p - '0');
					has_param = true;
					r->p++;
				}
				if (neg)
					param = -param;
				if (param > INT32_MAX)
					param = INT32_MAX;
				if (param < INT32_MIN)
					param = INT32_MIN;
				if (r->p < r->end && *r->p == ' ')
					r->p++;
				if (r->overflow == 0)
					rtf_control_word(r, name, has_param, (int32_t)param);
				continue;
			}
			r->p++;
			if (r->overflow > 0)
				continue;
			switch (d) {
			case '\'': {
				int h1 = r->p < r->end ? rtf_hex(r->p[0]) : -1;
				int h2 = r->p + 1 < r->end ? rtf_hex(r->p[1]) : -1;
				if (h1 < 0 || h2 < 0)
					break; /* malformed escape: dropped */
				r->p += 2;
				r->star = false;
				rtf_byte(r, (unsigned char)(h1 << 4 | h2));
				break;
			}
			case '*':
				r->star = true;
				break;
			case '\\': case '{': case '}':
				r->star = false;
				rtf_byte(r, d);
				break;
			case '~':
				if (!rtf_eat_fallback(r))
					rtf_char(r, 0xa0);
				break;
			case '_':
				if (!rtf_eat_fallback(r))
					rtf_char(r, 0x2011);
				break;
			case '\r': case '\n':
				if (!rtf_eat_fallback(r))
					rtf_str(r, "\r\n");
				break;
			default:
				(void)rtf_eat_fallback(r); /* \- \| \: and unknown symbols */
				break;
			}
		} else if (c == '\r' || c == '\n' || c == '\0') {
			/* Raw line ends are not text in RTF. */
		} else {
			r->star = false;
			if (r->overflow == 0)
				rtf_byte(r, c);
		}
	}
	rtf_settle_high(r);
	rtf_flush_bytes(r);
}

/* Positions r after "{\rtf" or returns false. */
static bool rtf_begin(const unsigned char *p, size_t len, size_t *at_r)
{
	size_t i = 0;
	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	if (len - i < 5 || memcmp(p + i, "{\\rtf", 5) != 0)
		return false;
	*at_r = i + 1;
	return true;
}

static void rtf_reader_init(struct rtf_reader *r, enum rtf_mode mode, const unsigned char *p,
	size_t at, size_t len, struct buf *out, size_t max)
{
	memset(r, 0, offsetof(struct rtf_reader, fonts));
	r->mode = mode;
	r->p = p + at;
	r->end = p + len;
	r->depth = 1;
	r->st[0].uc = 1;
	r->st[0].font = -1;
	r->deff = -1;
	r->ansicpg = RTF_DEFAULT_CP;
	r->nfonts = 0;
	r->fallback = 0;
	r->high = 0;
	r->out = out;
	r->start = out->len;
	r->max = max;
	r->over = false;
	r->npend = 0;
	r->ncache = 0;
}

static void rtf_reader_deinit(struct rtf_reader *r)
{
	for (unsigned i = 0; i < r->ncache; i++)
		iconv_close(r->cache[i].cd);
	r->ncache = 0;
}

enum rtf_encap rtf_encapsulation(const void *rtf, size_t len)
{
	const unsigned char *p = rtf;
	size_t i;
	if (!rtf_begin(p, len, &i))
		return RTF_ENCAP_NONE;
	/* 2.2.3.1: within the first ten tokens, before any nested group. */
	for (unsigned tokens = 0; tokens < 10 && i < len; tokens++) {
		if (p[i] == '{' || p[i] == '}')
			break;
		if (p[i] != '\\') {
			if (p[i] == ' ' || p[i] == '\r' || p[i] == '\n') {
				i++;
				tokens--;
				continue;
			}
			break; /* text: the header is over */
		}
		i++;
		size_t s = i;
		while (i < len && ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')))
			i++;
		size_t nlen = i - s;
		if (nlen == 0) {
			i++;
			continue;
		}
		size_t ps = i;
		if (i < len && p[i] == '-')
			i++;
		while (i < len && p[i] >= '0' && p[i] <= '9')
			i++;
		if (nlen == 8 && memcmp(p + s, "fromhtml", 8) == 0 && i - ps == 1 && p[ps] == '1')
			return RTF_ENCAP_HTML;
		if (nlen == 8 && memcmp(p + s, "fromtext", 8) == 0 && i == ps)
			return RTF_ENCAP_TEXT;
		if (i < len && p[i] == ' ')
			i++;
	}
	return RTF_ENCAP_NONE;
}

static int rtf_extract(enum rtf_mode mode, const void *rtf, size_t len, size_t max_out,
	struct buf *out, const char **error_r)
{
	size_t at;
	if (!rtf_begin(rtf, len, &at)) {
		*error_r = "RTF: does not start with {\\rtf";
		return -1;
	}
	struct rtf_reader *r = xmalloc(sizeof(*r));
	rtf_reader_init(r, mode, rtf, at, len, out, max_out);
	rtf_run(r);
	bool over = r->over;
	rtf_reader_deinit(r);
	free(r);
	if (over) {
		*error_r = "RTF: extracted content above the size limit";
		return -1;
	}
	return 1;
}

int rtf_extract_html(const void *rtf, size_t len, size_t max_out, struct buf *out,
	const char **error_r)
{
	if (rtf_encapsulation(rtf, len) != RTF_ENCAP_HTML) {
		size_t at;
		if (!rtf_begin(rtf, len, &at)) {
			*error_r = "RTF: does not start with {\\rtf";
			return -1;
		}
		return 0;
	}
	return rtf_extract(RTF_MODE_HTML, rtf, len, max_out, out, error_r);
}

int rtf_to_text(const void *rtf, size_t len, size_t max_out, struct buf *out,
	const char **error_r)
{
	if (rtf_encapsulation(rtf, len) != RTF_ENCAP_HTML)
		return rtf_extract(RTF_MODE_TEXT, rtf, len, max_out, out, error_r);
	/* The HTML is at most about twice the RTF (see rtf_out users). */
	struct buf html;
	buf_init(&html, NULL);
	size_t hmax = len > HTML_TEXT_MAX_INPUT / 4 ? HTML_TEXT_MAX_INPUT : len * 4 + 64;
	int rc = rtf_extract(RTF_MODE_HTML, rtf, len, hmax, &html, error_r);
	if (rc == 1) {
		rc = html_to_text(html.data, html.len, max_out, HTML_TEXT_CRLF, out, error_r);
		if (rc == 0) {
			*error_r = "RTF: extracted text above the size limit";
			rc = -1;
		}
	}
	buf_deinit(&html);
	return rc;
}

/* --- encapsulation --- */

/* Appends one character as RTF text: ASCII as is (RTF specials escaped),
 * the rest as \uN with a '?' fallback under \uc1. */
static void rtf_put_char(struct buf *out, uint32_t c)
{
	if (c == '\\' || c == '{' || c == '}') {
		buf_append_byte(out, '\\');
		buf_append_byte(out, (unsigned char)c);
	} else if (c == '\t') {
		buf_append_str(out, "\\tab ");
	} else if (c < 0x20 || c == 0x7f) {
		buf_printf(out, "\\'%02x", c);
	} else if (c < 0x80) {
		buf_append_byte(out, (unsigned char)c);
	} else if (c < 0x10000) {
		buf_printf(out, "\\u%d?", c > 32767 ? (int)c - 65536 : (int)c);
	} else {
		uint32_t v = c - 0x10000;
		uint32_t hi = 0xd800 + (v >> 10), lo = 0xdc00 + (v & 0x3ff);
		buf_printf(out, "\\u%d?\\u%d?", (int)hi - 65536, (int)lo - 65536);
	}
}

/* Text in an HTMLTAG group: line ends must come back byte for byte, so
 * only a CRLF pair is \par (2.2.3.2 turns \par into CRLF); a lone CR or LF
 * is a hex escape. */
static void rtf_put_tag_text(struct buf *out, const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
			buf_append_str(out, "\\par ");
			i += 2;
			continue;
		}
		uint32_t c;
		int l = utf8_decode(s + i, n - i, &c);
		if (l <= 0) { /* validated by the caller */
			c = 0xfffd;
			l = 1;
		}
		rtf_put_char(out, c);
		i += (size_t)l;
	}
}

static void rtf_tag_group(struct buf *out, unsigned param, const unsigned char *s, size_t n)
{
	buf_printf(out, "{\\*\\htmltag%u ", param);
	rtf_put_tag_text(out, s, n);
	buf_append_byte(out, '}');
}

static const char rtf_html_header[] =
	"{\\rtf1\\ansi\\ansicpg1252\\fromhtml1 \\deff0{\\fonttbl\r\n"
	"{\\f0\\fswiss\\fcharset0 Arial;}\r\n"
	"{\\f1\\fmodern\\fcharset0 Courier New;}\r\n"
	"{\\f2\\fnil\\fcharset2 Symbol;}}\r\n"
	"{\\colortbl\\red0\\green0\\blue0;\\red0\\green0\\blue255;}\r\n"
	"\\uc1\\pard\\plain\\deftab360 \\f0\\fs20 ";

/* HTMLTagParameter values (2.1.3.1.4.1 is about flags readers ignore);
 * we mark body markup INBODY and everything else plain. */
#define HTMLTAG_INBODY 64
#define HTMLTAG_TEXT 0

static bool rtf_tag_breaks(const unsigned char *tag, size_t n)
{
	static const char *const names[] = {"br", "/p", "/div", "/li", "/tr", "/h1", "/h2", "/h3",
		"/h4", "/h5", "/h6", "hr", "/table", "/ul", "/ol", "/pre", "/blockquote", "/title",
		"/dt", "/dd", NULL};
	size_t i = 1;
	size_t s = i;
	while (i < n && (tag[i] == '/' || (tag[i] >= 'a' && tag[i] <= 'z') ||
			       (tag[i] >= 'A' && tag[i] <= 'Z') || (tag[i] >= '0' && tag[i] <= '9')))
		i++;
	for (size_t k = 0; names[k] != NULL; k++)
		if (strlen(names[k]) == i - s && str_ncasecmp(names[k], (const char *)tag + s, i - s) == 0)
			return true;
	return false;
}

/* Length of the markup at s[0] == '<', or 0 when '<' is just text. */
static size_t html_markup_len(const unsigned char *s, size_t n)
{
	if (n < 2)
		return 0;
	unsigned char c = s[1];
	if (n >= 4 && memcmp(s, "<!--", 4) == 0) {
		for (size_t i = 4; i + 2 < n; i++)
			if (memcmp(s + i, "-->", 3) == 0)
				return i + 3;
		return n;
	}
	if (!(c == '/' || c == '!' || c == '?' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
		return 0;
	unsigned char quote = 0;
	for (size_t i = 1; i < n; i++) {
		if (quote != 0) {
			if (s[i] == quote)
				quote = 0;
		} else if (s[i] == '"' || s[i] == '\'') {
			if (c != '!' && c != '?' && c != '/')
				quote = s[i];
		} else if (s[i] == '>') {
			return i + 1;
		}
	}
	return n;
}

/* For <script>, <style>, <title>, <textarea>, <xmp>: the raw text up to
 * the matching end tag is markup too. */
static size_t html_raw_text_len(const unsigned char *tag, size_t tlen, const unsigned char *s,
	size_t n)
{
	static const char *const raw[] = {"script", "style", "textarea", "title", "xmp", NULL};
	for (size_t k = 0; raw[k] != NULL; k++) {
		size_t l = strlen(raw[k]);
		if (tlen > l + 1 && str_ncasecmp((const char *)tag + 1, raw[k], l) == 0 &&
			(tag[l + 1] == '>' || tag[l + 1] == ' ' || tag[l + 1] == '\t' ||
				tag[l + 1] == '\r' || tag[l + 1] == '\n' || tag[l + 1] == '/')) {
			for (size_t i = 0; i + l + 2 <= n; i++)
				if (s[i] == '<' && s[i + 1] == '/' &&
					str_ncasecmp((const char *)s + i + 2, raw[k], l) == 0)
					return i;
			return n;
		}
	}
	return 0;
}

/* A character reference "&...;" at s, or 0. */
static size_t html_entity_len(const unsigned char *s, size_t n, uint32_t *cp_r)
{
	size_t i = 1;
	*cp_r = 0;
	if (i < n && s[i] == '#') {
		i++;
		bool hex = i < n && (s[i] == 'x' || s[i] == 'X');
		if (hex)
			i++;
		size_t ds = i;
		uint32_t v = 0;
		while (i < n && i - ds < 8 && (hex ? rtf_hex(s[i]) >= 0 : (s[i] >= '0' && s[i] <= '9'))) {
			v = v * (hex ? 16 : 10) + (uint32_t)(hex ? rtf_hex(s[i]) : s[i] - '0');
			i++;
		}
		if (i == ds || i >= n || s[i] != ';')
			return 0;
		*cp_r = v;
		return i + 1;
	}
	size_t ns = i;
	while (i < n && i - ns < 32 && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
						(s[i] >= '0' && s[i] <= '9')))
		i++;
	if (i == ns || i >= n || s[i] != ';')
		return 0;
	char name[40];
	memcpy(name, s + ns, i - ns);
	name[i - ns] = '\0';
	const htmlEntityDesc *e = htmlEntityLookup((const xmlChar *)name);
	*cp_r = e != NULL ? e->value : 0;
	return i + 1;
}

int rtf_encapsulate_html(const void *html, size_t len, struct buf *out, const char **error_r)
{
	const unsigned char *s = html;
	if (!utf8_valid(s, len)) {
		*error_r = "HTML to encapsulate is not valid UTF-8";
		return -1;
	}
	buf_append_str(out, rtf_html_header);
	/* 2.2.2.1: one empty INBODY P tag before any visible text. */
	buf_append_str(out, "{\\*\\htmltag64}\r\n");
	size_t i = 0;
	bool at_break = true; /* no visible space needed at a line start */
	while (i < len) {
		unsigned char c = s[i];
		if (c == '<') {
			size_t m = html_markup_len(s + i, len - i);
			if (m > 0) {
				rtf_tag_group(out, HTMLTAG_INBODY, s + i, m);
				bool brk = rtf_tag_breaks(s + i, m);
				size_t raw = html_raw_text_len(s + i, m, s + i + m, len - i - m);
				if (raw > 0)
					rtf_tag_group(out, HTMLTAG_TEXT, s + i + m, raw);
				i += m + raw;
				if (brk) {
					buf_append_str(out, "\\htmlrtf \\par\\htmlrtf0 ");
					at_break = true;
				}
				buf_append_str(out, "\r\n");
				continue;
			}
		}
		if (c == '&') {
			uint32_t cp;
			size_t m = html_entity_len(s + i, len - i, &cp);
			if (m > 0) {
				/* The reference is kept verbatim; RTF readers see
				 * the character it stands for. */
				rtf_tag_group(out, HTMLTAG_TEXT, s + i, m);
				if (cp != 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) {
					at_break = false;
					buf_append_str(out, "\\htmlrtf ");
					rtf_put_char(out, cp);
					buf_append_str(out, "\\htmlrtf0 ");
				}
				i += m;
				continue;
			}
		}
		if (c == '\r' || c == '\n') {
			/* Insignificant whitespace with line ends goes into a tag
			 * group verbatim; RTF readers see one space. */
			size_t j = i;
			while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n'))
				j++;
			rtf_tag_group(out, HTMLTAG_TEXT, s + i, j - i);
			buf_append_str(out, at_break ? "\r\n" : "\\htmlrtf  \\htmlrtf0 \r\n");
			at_break = true;
			i = j;
			continue;
		}
		uint32_t cp;
		int l = utf8_decode(s + i, len - i, &cp);
		if (l <= 0) {
			*error_r = "HTML to encapsulate is not valid UTF-8";
			return -1;
		}
		rtf_put_char(out, cp);
		at_break = false;
		i += (size_t)l;
	}
	buf_append_str(out, "}\r\n");
	return 1;
}

int rtf_encapsulate_text(const void *text, size_t len, struct buf *out, const char **error_r)
{
	const unsigned char *s = text;
	if (!utf8_valid(s, len)) {
		*error_r = "text to encapsulate is not valid UTF-8";
		return -1;
	}
	buf_append_str(out, "{\\rtf1\\ansi\\ansicpg1252\\fromtext \\deff0{\\fonttbl\r\n"
			    "{\\f0\\fswiss\\fcharset0 Arial;}}\r\n"
			    "\\uc1\\pard\\plain\\f0\\fs20 ");
	size_t i = 0;
	while (i < len) {
		if (s[i] == '\r' || s[i] == '\n') {
			i += (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') ? 2 : 1;
			buf_append_str(out, "\\par\r\n");
			continue;
		}
		uint32_t cp;
		int l = utf8_decode(s + i, len - i, &cp);
		if (l <= 0) {
			*error_r = "text to encapsulate is not valid UTF-8";
			return -1;
		}
		rtf_put_char(out, cp);
		i += (size_t)l;
	}
	buf_append_str(out, "}\r\n");
	return 1;
}
