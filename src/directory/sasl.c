/* RFC 4616 PLAIN message parsing (hand-written: libsasl2 would bring its
 * own user database and plugin loading for three NUL-separated fields). */
#include "directory/sasl.h"

#include <string.h>

#include "core/base64.h"
#include "core/utf.h"

static int sasl_field(const unsigned char *p, size_t len, struct slice *r, const char *what_long,
	const char **error_r)
{
	if (len > DIRECTORY_SASL_FIELD_MAX) {
		*error_r = what_long;
		return -1;
	}
	/* RFC 4616: SAFE = UTF8-1..4 without NUL; the NULs were split on. */
	if (!utf8_valid(p, len)) {
		*error_r = "invalid UTF-8 in PLAIN message";
		return -1;
	}
	*r = SLICE(p, len);
	return 0;
}

int directory_sasl_plain_parse(const void *msg, size_t len, struct directory_sasl_plain *r,
	const char **error_r)
{
	const unsigned char *p = msg;
	if (len > DIRECTORY_SASL_PLAIN_MAX) {
		*error_r = "PLAIN message too long";
		return -1;
	}
	const unsigned char *nul1 = memchr(p, '\0', len);
	if (nul1 == NULL) {
		*error_r = "PLAIN message without NUL separators";
		return -1;
	}
	size_t rest = len - (size_t)(nul1 + 1 - p);
	const unsigned char *nul2 = memchr(nul1 + 1, '\0', rest);
	if (nul2 == NULL) {
		*error_r = "PLAIN message without a password";
		return -1;
	}
	size_t pw_len = len - (size_t)(nul2 + 1 - p);
	if (memchr(nul2 + 1, '\0', pw_len) != NULL) {
		*error_r = "NUL in PLAIN password";
		return -1;
	}
	size_t authcid_len = (size_t)(nul2 - nul1 - 1);
	if (authcid_len == 0) {
		*error_r = "empty authentication identity";
		return -1;
	}
	if (pw_len == 0) {
		*error_r = "empty password";
		return -1;
	}
	if (sasl_field(p, (size_t)(nul1 - p), &r->authzid, "authorization identity too long",
		    error_r) < 0 ||
		sasl_field(nul1 + 1, authcid_len, &r->authcid, "authentication identity too long",
			error_r) < 0 ||
		sasl_field(nul2 + 1, pw_len, &r->passwd, "password too long", error_r) < 0)
		return -1;
	return 0;
}

int directory_sasl_plain_decode(pool_t *pool, const char *b64, size_t len, char **authzid_r,
	char **authcid_r, char **passwd_r, const char **error_r)
{
	/* Bound the input before decoding: 4 characters per 3 bytes, plus
	 * slack for the whitespace base64_decode skips. */
	if (len > base64_encoded_len(DIRECTORY_SASL_PLAIN_MAX) + 64) {
		*error_r = "PLAIN message too long";
		return -1;
	}
	struct buf raw;
	buf_init(&raw, NULL);
	/* Reserve once so that no copy of the password is left behind in a
	 * block freed by growing. */
	buf_reserve(&raw, len / 4 * 3 + 3);
	int rc = -1;
	if (base64_decode(b64, len, &raw) < 0) {
		*error_r = "invalid base64 in PLAIN message";
		goto out;
	}
	struct directory_sasl_plain m;
	if (directory_sasl_plain_parse(raw.data, raw.len, &m, error_r) < 0)
		goto out;
	*authzid_r = slice_dup(pool, m.authzid);
	*authcid_r = slice_dup(pool, m.authcid);
	*passwd_r = slice_dup(pool, m.passwd);
	rc = 0;
out:
	if (raw.len > 0)
		explicit_bzero(raw.data, raw.len);
	buf_deinit(&raw);
	return rc;
}
