/* Fuzzes the RFC 5322 and ISO 8601 date parsers; a parsed date must format
 * and parse back to the same instant. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/hm_time.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	int64_t t, t2;
	int tz;
	char out[64];
	if (time_parse_rfc5322(s, &t, &tz) == 0) {
		time_format_rfc5322(t, tz, out);
		if (time_parse_rfc5322(out, &t2, NULL) != 0 || t2 != t)
			abort();
	}
	if (time_parse_iso8601(s, &t) == 0) {
		time_format_iso8601(t, -1, out);
		if (time_parse_iso8601(out, &t2) != 0 || t2 != t)
			abort();
	}
	free(s);
	return 0;
}
