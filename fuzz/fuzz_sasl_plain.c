/* Fuzzes the SASL PLAIN parser (RFC 4616), raw and base64, checking its
 * promises: fields within limits, no NUL inside them, valid UTF-8, and
 * the three fields plus two NULs make up the whole message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf.h"
#include "directory/sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_field(struct slice s)
{
	if (s.len > DIRECTORY_SASL_FIELD_MAX || memchr(s.ptr, '\0', s.len) != NULL ||
		!utf8_valid(s.ptr, s.len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct directory_sasl_plain m;
	const char *err;
	if (directory_sasl_plain_parse(data, size, &m, &err) == 0) {
		check_field(m.authzid);
		check_field(m.authcid);
		check_field(m.passwd);
		if (m.authcid.len == 0 || m.passwd.len == 0 ||
			m.authzid.len + m.authcid.len + m.passwd.len + 2 != size ||
			m.authzid.ptr != data || m.passwd.ptr + m.passwd.len != data + size)
			abort();
	} else if (err == NULL) {
		abort();
	}

	pool_t *pool = pool_new("fuzz", 0);
	char *zid, *cid, *pw;
	if (directory_sasl_plain_decode(pool, (const char *)data, size, &zid, &cid, &pw, &err) ==
		0) {
		size_t max = DIRECTORY_SASL_FIELD_MAX;
		if (strlen(cid) == 0 || strlen(pw) == 0 || strlen(zid) > max || strlen(cid) > max ||
			strlen(pw) > max)
			abort();
	}
	pool_free(&pool);
	return 0;
}
