/* HTML <-> plain text, for PR_BODY when a message carries only HTML, for
 * previews, and for PR_HTML when it carries only text.
 *
 * HTML is parsed with libxml2's forgiving HTML parser (no network, no
 * external entities, errors silenced, recovery on) and rendered roughly as a
 * text browser would: block elements break lines, whitespace collapses,
 * lists get bullets, links keep their targets, tables go row by row, and
 * script, style and head are skipped. Inputs and outputs are UTF-8; the
 * caller converts other charsets before calling.
 *
 * Threads: libxml2 wants xmlInitParser() called once before threads use
 * it; a multi-threaded program calls it at startup. */
#ifndef CONVERT_HTML_TEXT_H
#define CONVERT_HTML_TEXT_H

#include <stddef.h>

#include "core/buf.h"

enum html_text_flags {
	/* Lines end with CRLF (PR_BODY) instead of LF. */
	HTML_TEXT_CRLF = 0x1,
	/* Leave out link targets ("text <url>"): for one-line previews. */
	HTML_TEXT_NO_LINKS = 0x2,
};

/* Upper bounds that keep a hostile document cheap. */
#define HTML_TEXT_MAX_INPUT (64u * 1024u * 1024u)
#define HTML_TEXT_MAX_DEPTH 256

/* Renders UTF-8 HTML as plain UTF-8 text appended to out, at most max_out
 * bytes (cut at a character boundary). Elements nested deeper than
 * HTML_TEXT_MAX_DEPTH are ignored.
 * Returns 1 when the whole text fitted, 0 when it was cut at max_out, -1
 * (with *error_r, static text) when the input is larger than
 * HTML_TEXT_MAX_INPUT or libxml2 could not build a document. */
int html_to_text(const void *html, size_t len, size_t max_out, unsigned flags, struct buf *out,
	const char **error_r);

enum text_html_flags {
	/* Turn http://, https://, mailto: and www. addresses into links. */
	TEXT_HTML_LINKIFY = 0x1,
	/* Only the body's content, without <html><head>...<body>. */
	TEXT_HTML_FRAGMENT = 0x2,
};

/* Appends an HTML rendering of UTF-8 plain text to out: characters
 * escaped, line breaks kept as <br>, runs of spaces and tabs kept with
 * &nbsp;, no <pre> so that long lines wrap. A complete document declares
 * charset=utf-8. Never fails. */
void text_to_html(const void *text, size_t len, unsigned flags, struct buf *out);

#endif
