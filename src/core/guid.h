/* GUIDs as MAPI puts them on the wire (MS-DTYP 2.3.4.2): Data1, Data2 and
 * Data3 little-endian, then Data4's eight bytes. */
#ifndef CORE_GUID_H
#define CORE_GUID_H

#include <stdbool.h>
#include <stdint.h>

struct guid {
	uint8_t b[16]; /* wire order */
};

#define GUID_STR_LEN 36 /* without braces and NUL */

/* A random (version 4) GUID from the kernel's CSPRNG. */
void guid_generate(struct guid *g);
/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", lower case, into out[37]. */
char *guid_format(const struct guid *g, char *out);
/* Accepts the canonical form with or without braces, any case. 0 or -1. */
int guid_parse(const char *s, struct guid *g);
bool guid_eq(const struct guid *a, const struct guid *b);
bool guid_is_null(const struct guid *g);
/* Builds a GUID from its textual fields (for constant tables). */
struct guid guid_make(uint32_t d1, uint16_t d2, uint16_t d3, const uint8_t d4[8]);

#endif
