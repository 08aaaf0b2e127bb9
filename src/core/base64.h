/* Base64 (RFC 4648), standard alphabet with padding. */
#ifndef CORE_BASE64_H
#define CORE_BASE64_H

#include <stddef.h>

#include "core/buf.h"

/* Appends the encoding of data; no line breaks. */
void base64_encode(const void *data, size_t len, struct buf *out);
/* Appends the decoded bytes. Whitespace (SP, TAB, CR, LF) is skipped;
 * anything else outside the alphabet, bad padding or a dangling character
 * is an error: returns 0 or -1. */
int base64_decode(const void *text, size_t len, struct buf *out);
size_t base64_encoded_len(size_t len);

#endif
