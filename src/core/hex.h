/* Hexadecimal encoding. */
#ifndef CORE_HEX_H
#define CORE_HEX_H

#include <stddef.h>

#include "core/buf.h"

/* Appends lower-case (upper when upper is non-zero) hex digits. */
void hex_encode(const void *data, size_t len, int upper, struct buf *out);
/* Appends decoded bytes; even length of [0-9a-fA-F] only. 0 or -1. */
int hex_decode(const void *text, size_t len, struct buf *out);
/* Value of one hex digit or -1. */
int hex_digit(int c);

#endif
