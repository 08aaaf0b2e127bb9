/* Fuzzes the MIME structure scanner and its IMAP forms: every range it
 * reports lies inside the input and is ordered; BODYSTRUCTURE, ENVELOPE,
 * sections and BINARY decoding never fail on any input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convert/mime_struct.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct mime_part *p, size_t size, pool_t *pool, const uint8_t *d,
	unsigned depth)
{
	if (depth > 2 * MIME_STRUCT_MAX_DEPTH + 4 || p->hdr_start > p->body_start ||
		p->body_start > p->body_end || p->body_end > size)
		abort();
	struct buf b;
	buf_init(&b, pool);
	if (mime_struct_decode(p, d, &b) == 0 && b.len > p->body_end - p->body_start)
		abort();
	for (size_t i = 0; i < p->nchildren; i++)
		check(&p->children[i], size, pool, d, depth + 1);
	if (p->message)
		check(p->message, size, pool, d, depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pool_t *pool = pool_new("fuzz", 0);
	struct mime_part *root = mime_struct_parse(pool, data, size);
	check(root, size, pool, data, 0);
	struct buf b;
	buf_init(&b, pool);
	mime_struct_write_body(root, data, true, &b);
	mime_struct_write_envelope(root, data, &b);
	static const char *const paths[] = {"", "1", "2", "1.1", "2.3.1", "3"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		for (int k = MIME_SECTION_ALL; k <= MIME_SECTION_MIME; k++) {
			size_t s, e;
			if (mime_struct_section(root, paths[i], (enum mime_section_kind)k, &s, &e,
				    NULL) == 0 &&
				(s > e || e > size))
				abort();
		}
	}
	pool_free(&pool);
	return 0;
}
