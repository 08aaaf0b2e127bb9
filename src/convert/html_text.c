/* HTML <-> plain text. Parsing is libxml2's; the rendering walk over the
 * tree (what a text browser does with block elements, whitespace, lists,
 * links and tables) is written here because no Debian library offers it
 * as a C API. */
#include "convert/html_text.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "core/str.h"

struct html_render {
	struct buf *out;
	size_t start;  /* out->len when rendering began */
	size_t max;    /* bytes we may add */
	bool cut;      /* max reached */
	unsigned flags;
	const char *nl;
	unsigned want_nl;     /* newlines wanted before the next visible text */
	unsigned trailing_nl; /* newlines at the end of the output */
	bool want_space;
	bool empty;      /* nothing visible yet: no leading breaks */
	bool line_start; /* the next character starts a line */
	unsigned quote;  /* blockquote depth: "> " per level at line starts */
	unsigned pre;    /* inside <pre>/<textarea>: whitespace is kept */
	unsigned lists;  /* list nesting, for indentation */
};

static void r_emit(struct html_render *r, const char *s, size_t n)
{
	if (r->cut || n == 0)
		return;
	size_t used = r->out->len - r->start;
	if (used + n > r->max) {
		n = r->max - used;
		/* Never split a UTF-8 sequence. */
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		r->cut = true;
	}
	buf_append(r->out, s, n);
	for (size_t i = 0; i < n; i++)
		r->trailing_nl = s[i] == '\n' ? r->trailing_nl + 1 : (s[i] == '\r' ? r->trailing_nl : 0);
}

static void r_newline(struct html_render *r)
{
	r_emit(r, r->nl, strlen(r->nl));
	r->line_start = true;
}

/* Settles pending breaks and spaces before visible content. */
static void r_flush(struct html_render *r)
{
	if (!r->empty && r->want_nl > r->trailing_nl) {
		for (unsigned k = r->trailing_nl; k < r->want_nl; k++)
			r_newline(r);
	} else if (r->want_space && !r->line_start && !r->empty) {
		r_emit(r, " ", 1);
	}
	r->want_nl = 0;
	r->want_space = false;
	if (r->line_start) {
		for (unsigned q = 0; q < r->quote; q++)
			r_emit(r, "> ", 2);
		r->line_start = false;
	}
	r->empty = false;
}

static void r_break(struct html_render *r, unsigned n)
{
	if (r->want_nl < n)
		r->want_nl = n;
	r->want_space = false;
}

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static void r_text(struct html_render *r, const char *s, size_t n)
{
	size_t i = 0;
	if (r->pre > 0) {
		while (i < n) {
			if (s[i] == '\r' || s[i] == '\n') {
				r_flush(r);
				r_newline(r);
				i += (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
				continue;
			}
			size_t j = i;
			while (j < n && s[j] != '\r' && s[j] != '\n')
				j++;
			r_flush(r);
			r_emit(r, s + i, j - i);
			i = j;
		}
		return;
	}
	while (i < n) {
		if (is_ws((unsigned char)s[i])) {
			r->want_space = true;
			i++;
			continue;
		}
		/* U+00A0 NO-BREAK SPACE: a space that does not collapse. */
		if ((unsigned char)s[i] == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] == 0xa0) {
			r_flush(r);
			r_emit(r, " ", 1);
			i += 2;
			continue;
		}
		size_t j = i;
		while (j < n && !is_ws((unsigned char)s[j]) &&
			!((unsigned char)s[j] == 0xc2 && j + 1 < n && (unsigned char)s[j + 1] == 0xa0))
			j++;
		r_flush(r);
		r_emit(r, s + i, j - i);
		i = j;
	}
}

static bool name_in(const xmlChar *name, const char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (xmlStrcasecmp(name, (const xmlChar *)list[i]) == 0)
			return true;
	return false;
}

static bool name_is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && xmlStrcasecmp(n->name, (const xmlChar *)name) == 0;
}

static const char *const skip_elems[] = {"script", "style", "head", "title", "template", "noembed",
	"iframe", "select", "svg", "math", "object", "applet", "frameset", NULL};
static const char *const para_elems[] = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre",
	"blockquote", "hr", "table", "dl", "xmp", "listing", "plaintext", NULL};
static const char *const block_elems[] = {"address", "article", "aside", "center", "dd",
	"details", "dialog", "div", "dt", "fieldset", "figcaption", "figure", "footer", "form",
	"header", "hgroup", "legend", "main", "menu", "nav", "section", "summary", "tr", "caption",
	"textarea", "option", "li", "ul", "ol", "dir", "body", "html", NULL};

static void r_walk(struct html_render *r, xmlNode *n, unsigned depth);

static void r_children(struct html_render *r, xmlNode *n, unsigned depth)
{
	for (xmlNode *c = n->children; c != NULL && !r->cut; c = c->next)
		r_walk(r, c, depth + 1);
}

static xmlChar *attr_trimmed(xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	if (v == NULL)
		return NULL;
	size_t len = (size_t)xmlStrlen(v), a = 0;
	while (a < len && is_ws(v[a]))
		a++;
	while (len > a && is_ws(v[len - 1]))
		len--;
	memmove(v, v + a, len - a);
	v[len - a] = '\0';
	return v;
}

static void r_list(struct html_render *r, xmlNode *n, unsigned depth, bool ordered)
{
	long counter = 1;
	if (ordered) {
		xmlChar *start = attr_trimmed(n, "start");
		if (start != NULL) {
			int64_t v;
			if (str_to_i64((const char *)start, &v) == 0 && v > -1000000 && v < 1000000)
				counter = v;
			xmlFree(start);
		}
	}
	r_break(r, 1);
	r->lists++;
	for (xmlNode *c = n->children; c != NULL && !r->cut; c = c->next) {
		if (!name_is(c, "li")) {
			r_walk(r, c, depth + 1);
			continue;
		}
		r_break(r, 1);
		r_flush(r);
		for (unsigned k = 1; k < r->lists; k++)
			r_emit(r, "  ", 2);
		if (ordered) {
			char num[32];
			int len = snprintf(num, sizeof(num), "%ld. ", counter++);
			r_emit(r, num, (size_t)len);
		} else {
			r_emit(r, "* ", 2);
		}
		r_children(r, c, depth + 1);
		r_break(r, 1);
	}
	r->lists--;
	r_break(r, 1);
}

static void r_row(struct html_render *r, xmlNode *n, unsigned depth)
{
	unsigned cells = 0;
	r_break(r, 1);
	for (xmlNode *c = n->children; c != NULL && !r->cut; c = c->next) {
		if (name_is(c, "td") || name_is(c, "th")) {
			if (cells++ > 0) {
				r->want_space = false;
				r_flush(r);
				r_emit(r, "\t", 1);
			}
			r_children(r, c, depth + 1);
		} else {
			r_walk(r, c, depth + 1);
		}
	}
	r_break(r, 1);
}

static bool link_shown_in(const char *text, size_t tlen, const char *href)
{
	while (tlen > 0 && is_ws((unsigned char)*text)) {
		text++;
		tlen--;
	}
	while (tlen > 0 && is_ws((unsigned char)text[tlen - 1]))
		tlen--;
	const char *h = href;
	if (str_case_starts_with(h, "mailto:") && strlen(h + 7) == tlen &&
		str_ncasecmp(h + 7, text, tlen) == 0)
		return true;
	/* "example.com" for "http://example.com/" reads the same. */
	for (int pass = 0; pass < 2; pass++) {
		size_t hl = strlen(h);
		if (pass == 1 && hl > 0 && h[hl - 1] == '/')
			hl--;
		if (hl == tlen && str_ncasecmp(h, text, tlen) == 0)
			return true;
		if (str_case_starts_with(h, "http://") || str_case_starts_with(h, "https://")) {
			const char *rest = strstr(h, "//") + 2;
			size_t rl = strlen(rest);
			if (pass == 1 && rl > 0 && rest[rl - 1] == '/')
				rl--;
			if (rl == tlen && str_ncasecmp(rest, text, tlen) == 0)
				return true;
		}
	}
	return false;
}

static void r_link(struct html_render *r, xmlNode *n, unsigned depth)
{
	xmlChar *href = (r->flags & HTML_TEXT_NO_LINKS) ? NULL : attr_trimmed(n, "href");
	size_t mark = r->out->len;
	r_children(r, n, depth + 1);
	if (href == NULL)
		return;
	const char *h = (const char *)href;
	if (h[0] != '\0' && h[0] != '#' && !str_case_starts_with(h, "javascript:") &&
		!str_case_starts_with(h, "cid:")) {
		const char *text = (const char *)r->out->data + mark;
		size_t tlen = r->out->len - mark;
		bool has_text = false;
		for (size_t i = 0; i < tlen; i++)
			if (!is_ws((unsigned char)text[i]))
				has_text = true;
		if (!has_text || !link_shown_in(text, tlen, h)) {
			if (has_text)
				r->want_space = true;
			r_flush(r);
			r_emit(r, "<", 1);
			r_emit(r, h, strlen(h));
			r_emit(r, ">", 1);
		}
	}
	xmlFree(href);
}

static void r_walk(struct html_render *r, xmlNode *n, unsigned depth)
{
	if (depth > HTML_TEXT_MAX_DEPTH || r->cut)
		return;
	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
		if (n->content != NULL)
			r_text(r, (const char *)n->content, (size_t)xmlStrlen(n->content));
		return;
	}
	if (n->type != XML_ELEMENT_NODE || n->name == NULL)
		return;
	const xmlChar *name = n->name;
	if (name_in(name, skip_elems))
		return;
	if (xmlStrcasecmp(name, (const xmlChar *)"br") == 0) {
		/* A forced line break: settle pending breaks, then one more. */
		if (!r->empty && r->want_nl > r->trailing_nl)
			for (unsigned k = r->trailing_nl; k < r->want_nl; k++)
				r_newline(r);
		r->want_nl = 0;
		r->want_space = false;
		if (r->line_start && r->quote > 0)
			r_flush(r);
		r->empty = false;
		r_newline(r);
		return;
	}
	if (xmlStrcasecmp(name, (const xmlChar *)"img") == 0) {
		xmlChar *alt = attr_trimmed(n, "alt");
		if (alt != NULL) {
			r_text(r, (const char *)alt, (size_t)xmlStrlen(alt));
			xmlFree(alt);
		}
		return;
	}
	if (xmlStrcasecmp(name, (const xmlChar *)"ul") == 0 ||
		xmlStrcasecmp(name, (const xmlChar *)"dir") == 0 ||
		xmlStrcasecmp(name, (const xmlChar *)"menu") == 0) {
		r_list(r, n, depth, false);
		return;
	}
	if (xmlStrcasecmp(name, (const xmlChar *)"ol") == 0) {
		r_list(r, n, depth, true);
		return;
	}
	if (xmlStrcasecmp(name, (const xmlChar *)"li") == 0) {
		/* An item outside a list still gets its bullet. */
		r_break(r, 1);
		r_flush(r);
		r_emit(r, "* ", 2);
		r_children(r, n, depth);
		r_break(r, 1);
		return;
	}
	if (xmlStrcasecmp(name, (const xmlChar *)"tr") == 0) {
		r_row(r, n, depth);
		return;
	}
	if (xmlStrcasecmp(name, (const xmlChar *)"a") == 0) {
		r_link(r, n, depth);
		return;
	}
	unsigned brk = name_in(name, para_elems) ? 2 : name_in(name, block_elems) ? 1 : 0;
	bool is_pre = xmlStrcasecmp(name, (const xmlChar *)"pre") == 0 ||
		      xmlStrcasecmp(name, (const xmlChar *)"textarea") == 0 ||
		      xmlStrcasecmp(name, (const xmlChar *)"xmp") == 0 ||
		      xmlStrcasecmp(name, (const xmlChar *)"listing") == 0 ||
		      xmlStrcasecmp(name, (const xmlChar *)"plaintext") == 0;
	bool is_quote = xmlStrcasecmp(name, (const xmlChar *)"blockquote") == 0;
	if (brk)
		r_break(r, brk);
	if (is_pre)
		r->pre++;
	if (is_quote)
		r->quote++;
	r_children(r, n, depth);
	if (is_pre)
		r->pre--;
	if (is_quote) {
		r->quote--;
		/* The quoted block ends its line before the prefix changes. */
		r_break(r, brk);
	}
	if (brk)
		r_break(r, brk);
}

int html_to_text(const void *html, size_t len, size_t max_out, unsigned flags, struct buf *out,
	const char **error_r)
{
	if (len > HTML_TEXT_MAX_INPUT || len > INT_MAX) {
		*error_r = "HTML input above the size limit";
		return -1;
	}
	if (len == 0)
		return 1;
	/* The caller hands us UTF-8: say so, and ignore any <meta charset>. */
	int opts = HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
		   HTML_PARSE_RECOVER | HTML_PARSE_IGNORE_ENC |
		   HTML_PARSE_COMPACT;
	htmlDocPtr doc = htmlReadMemory(html, (int)len, NULL, "UTF-8", opts);
	if (doc == NULL) {
		*error_r = "HTML could not be parsed";
		return -1;
	}
	struct html_render r = {
		.out = out,
		.start = out->len,
		.max = max_out,
		.flags = flags,
		.nl = (flags & HTML_TEXT_CRLF) ? "\r\n" : "\n",
		.empty = true,
		.line_start = true,
	};
	xmlNode *root = xmlDocGetRootElement(doc);
	if (root != NULL)
		r_walk(&r, root, 0);
	xmlFreeDoc(doc);
	/* No trailing whitespace. */
	size_t end = out->len;
	while (end > r.start && is_ws(out->data[end - 1]))
		end--;
	buf_truncate(out, end);
	return r.cut ? 0 : 1;
}

/* --- text -> HTML --- */

static void html_escape_byte(struct buf *out, unsigned char c)
{
	switch (c) {
	case '&': buf_append_str(out, "&amp;"); break;
	case '<': buf_append_str(out, "&lt;"); break;
	case '>': buf_append_str(out, "&gt;"); break;
	case '"': buf_append_str(out, "&quot;"); break;
	default: buf_append_byte(out, c); break;
	}
}

static size_t url_length(const unsigned char *s, size_t n)
{
	static const char *const schemes[] = {"https://", "http://", "mailto:", "www.", NULL};
	size_t k;
	for (k = 0; schemes[k] != NULL; k++) {
		size_t sl = strlen(schemes[k]);
		if (n > sl && str_ncasecmp((const char *)s, schemes[k], sl) == 0)
			break;
	}
	if (schemes[k] == NULL)
		return 0;
	size_t sl = strlen(schemes[k]), i = sl;
	while (i < n && s[i] > ' ' && s[i] != '<' && s[i] != '>' && s[i] != '"' && s[i] != 0x7f)
		i++;
	/* Sentence punctuation after a URL is not part of it. */
	while (i > sl && strchr(".,;:!?)]}'", s[i - 1]) != NULL)
		i--;
	return i > sl ? i : 0;
}

void text_to_html(const void *text, size_t len, unsigned flags, struct buf *out)
{
	const unsigned char *s = text;
	if ((flags & TEXT_HTML_FRAGMENT) == 0)
		buf_append_str(out, "<html><head><meta http-equiv=\"Content-Type\" "
				    "content=\"text/html; charset=utf-8\"></head><body>\n");
	bool line_start = true;
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		if (c == '\r' || c == '\n') {
			buf_append_str(out, "<br>\n");
			i += (c == '\r' && i + 1 < len && s[i + 1] == '\n') ? 2 : 1;
			line_start = true;
			continue;
		}
		if (c == ' ' || c == '\t') {
			/* A single space between words stays a space; runs, tabs
			 * and spaces at line starts alternate with &nbsp; so that
			 * the browser keeps them but may still wrap. */
			size_t j = i;
			size_t cols = 0;
			while (j < len && (s[j] == ' ' || s[j] == '\t')) {
				cols += s[j] == '\t' ? 8 - (cols % 8) : 1;
				j++;
			}
			bool at_end = j >= len || s[j] == '\r' || s[j] == '\n';
			if (cols == 1 && !line_start && !at_end) {
				buf_append_byte(out, ' ');
			} else {
				for (size_t k = 0; k < cols; k++)
					buf_append_str(out, (k % 2 == 0) ? "&nbsp;" : " ");
				if (cols % 2 == 0 && !at_end) {
					/* A run ending in a plain space could collapse
					 * with nothing; end it on &nbsp;. */
					out->len--;
					buf_append_str(out, "&nbsp;");
				}
			}
			i = j;
			line_start = false;
			continue;
		}
		line_start = false;
		size_t ul = (flags & TEXT_HTML_LINKIFY) ? url_length(s + i, len - i) : 0;
		if (ul > 0) {
			buf_append_str(out, "<a href=\"");
			if (str_case_starts_with((const char *)s + i, "www."))
				buf_append_str(out, "http://");
			for (size_t k = 0; k < ul; k++)
				html_escape_byte(out, s[i + k]);
			buf_append_str(out, "\">");
			for (size_t k = 0; k < ul; k++)
				html_escape_byte(out, s[i + k]);
			buf_append_str(out, "</a>");
			i += ul;
			continue;
		}
		html_escape_byte(out, c);
		i++;
	}
	if ((flags & TEXT_HTML_FRAGMENT) == 0)
		buf_append_str(out, "\n</body></html>\n");
}
