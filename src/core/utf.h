/* UTF-8 validation and UTF-8 <-> UTF-16LE conversion.
 *
 * Strict functions fail on malformed input (overlong forms, surrogates in
 * UTF-8, unpaired surrogates in UTF-16, code points above U+10FFFF); lossy
 * ones replace each bad sequence with U+FFFD. */
#ifndef CORE_UTF_H
#define CORE_UTF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

bool utf8_valid(const void *s, size_t len);
/* Decodes one code point at s[0..len); returns its length (1-4) and the
 * code point, or -1 for a malformed or truncated sequence. */
int utf8_decode(const unsigned char *s, size_t len, uint32_t *cp_r);
/* Encodes cp (must be a valid scalar value) into out[4]; returns the length. */
int utf8_encode(uint32_t cp, unsigned char *out);
/* Number of code points in valid UTF-8. */
size_t utf8_strlen(const void *s, size_t len);

/* Appends the UTF-16LE form of UTF-8 text to out (no terminator). Returns 0,
 * or -1 on malformed input (out then holds a partial result). */
int utf8_to_utf16le(const void *s, size_t len, struct buf *out);
/* Appends the UTF-8 form of UTF-16LE data (len bytes; odd len is an error). */
int utf16le_to_utf8(const void *s, size_t len, struct buf *out);
/* Lossy versions: never fail; bad sequences become U+FFFD. */
void utf8_to_utf16le_lossy(const void *s, size_t len, struct buf *out);
void utf16le_to_utf8_lossy(const void *s, size_t len, struct buf *out);
/* Appends a lossy copy of UTF-8 text with bad sequences replaced. */
void utf8_sanitize(const void *s, size_t len, struct buf *out);

#endif
