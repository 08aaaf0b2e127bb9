/* Helpers shared by the convert unit tests. */
#ifndef TEST_CONVERT_UTIL_H
#define TEST_CONVERT_UTIL_H

#include <stdio.h>
#include <stdlib.h>

#include "core/buf.h"

#ifndef TEST_DATA_DIR
#error "TEST_DATA_DIR must be defined by the build"
#endif

/* Reads tests/data/<rel> into b (heap); aborts the test run if missing. */
static inline void test_read_data(const char *rel, struct buf *b)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", TEST_DATA_DIR, rel);
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "missing test data %s\n", path);
		abort();
	}
	buf_init(b, NULL);
	unsigned char tmp[65536];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_append(b, tmp, n);
	fclose(f);
}

#endif
