/* Charsets for mail: MIME charset names to UTF-8 and back through GMime's
 * iconv wrappers (its alias tables and iconv cache), with the forgiving
 * rules mail readers apply, and the Windows code page numbers that
 * PR_INTERNET_CPID carries (MS-OXCMAIL, character sets).
 *
 * Requires convert_init() (GMime) to have run. */
#ifndef CONVERT_CHARSET_H
#define CONVERT_CHARSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define CONVERT_CPID_UTF8 65001u

/* The charset we actually decode with for a declared MIME charset, as
 * mainstream readers do: ISO-8859-1 and US-ASCII are read as
 * windows-1252 (real mail labelled so is very often windows-1252),
 * GB2312/GBK as GB18030, KS_C_5601-1987/EUC-KR as CP949, Shift_JIS as
 * CP932. Others are returned as given. */
const char *convert_charset_effective(const char *charset);

/* Appends text in charset (NULL or unknown: UTF-8 when the bytes are
 * valid UTF-8, else windows-1252) converted to UTF-8. Bytes that are not
 * valid in the charset become U+FFFD; never fails. Returns true when the
 * declared charset was used as given (false: a fallback was taken). */
bool convert_to_utf8(const char *charset, const void *data, size_t len, struct buf *out);

/* Appends UTF-8 text converted to charset. Returns 1, or 0 (out
 * truncated back to its old length) when some character cannot be
 * represented or the charset is unknown. */
int convert_from_utf8(const char *charset, const void *text, size_t len, struct buf *out);

/* Windows code page of a MIME charset name (65001 for UTF-8, 1252, 932,
 * 50220, 54936, 20866 ...), 0 if unknown. */
uint32_t convert_charset_to_cpid(const char *charset);
/* The MIME charset name for a code page, NULL if unknown. */
const char *convert_cpid_to_charset(uint32_t cpid);

#endif
