/* HTML and plain text encapsulated in RTF (MS-OXRTFEX), and plain text from
 * any RTF (what the best-body logic of MS-OXBBODY needs).
 *
 * All text in and out is UTF-8: RTF's \'hh escapes are converted from the
 * code page in force (\ansicpgN, or the current font's \fcharsetN / \cpgN)
 * with iconv, and \uN escapes (with their \ucN fallbacks skipped) are
 * decoded. An extracted HTML document is UTF-8 whatever charset its own
 * <meta> says: the caller labels it. */
#ifndef CONVERT_RTF_HTML_H
#define CONVERT_RTF_HTML_H

#include <stddef.h>

#include "core/buf.h"

enum rtf_encap {
	RTF_ENCAP_NONE = 0, /* native RTF (or not RTF at all) */
	RTF_ENCAP_HTML,     /* \fromhtml1 */
	RTF_ENCAP_TEXT,     /* \fromtext */
};

/* Groups nested deeper than this are skipped (their text is lost, the
 * parse goes on). */
#define RTF_MAX_DEPTH 256

/* MS-OXRTFEX 2.2.3.1: looks for \fromhtml1 or \fromtext among the first
 * ten tokens of the RTF header, before any nested group. */
enum rtf_encap rtf_encapsulation(const void *rtf, size_t len);

/* De-encapsulates the original HTML of \fromhtml1 RTF (MS-OXRTFEX 2.2.3.2)
 * and appends it to out as UTF-8, at most max_out bytes.
 * Returns 1 done, 0 when the RTF does not encapsulate HTML (out untouched),
 * -1 with *error_r when the input is not RTF or the output would exceed
 * max_out. */
int rtf_extract_html(const void *rtf, size_t len, size_t max_out, struct buf *out,
	const char **error_r);

/* Appends the plain text of an RTF document to out (UTF-8, CRLF line
 * ends), at most max_out bytes:
 * - \fromtext: the original text exactly (MS-OXRTFEX 2.2.3.3);
 * - \fromhtml1: the de-encapsulated HTML rendered by html_to_text();
 * - native RTF: the visible text, skipping the font, colour and style
 *   tables, pictures, objects' data and every \* destination; paragraphs
 *   and \line become line breaks, \tab a tab, \cell a tab, \row a break.
 * Returns 1, or -1 with *error_r (not RTF, output above max_out). */
int rtf_to_text(const void *rtf, size_t len, size_t max_out, struct buf *out,
	const char **error_r);

/* Encapsulates a UTF-8 HTML document in RTF (\fromhtml1) such that
 * rtf_extract_html() gives back the same bytes, and a plain RTF reader
 * shows the text with paragraph breaks. Returns 1, or -1 with *error_r
 * when html is not valid UTF-8. */
int rtf_encapsulate_html(const void *html, size_t len, struct buf *out, const char **error_r);

/* Encapsulates UTF-8 plain text in RTF (\fromtext). rtf_to_text() gives
 * it back with line ends normalised to CRLF (which MS-OXRTFEX 1.3
 * allows). Returns 1, or -1 with *error_r when text is not valid UTF-8. */
int rtf_encapsulate_text(const void *text, size_t len, struct buf *out, const char **error_r);

#endif
