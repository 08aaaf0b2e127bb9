/* The SASL PLAIN mechanism's message (RFC 4616 section 2), which every
 * protocol (SMTP AUTH, IMAP AUTHENTICATE, POP3 AUTH, HTTP via Basic's
 * equivalent) hands to the directory. It lives here rather than in core
 * because it is authentication, and every protocol already depends on
 * the directory to check the credentials it carries.
 *
 *   message = [authzid] UTF8NUL authcid UTF8NUL passwd
 *
 * The parser is bounded: each field at most DIRECTORY_SASL_FIELD_MAX
 * octets (RFC 4616 requires accepting 255), valid UTF-8, no further NUL.
 * Checking authzid (who the client wants to act as) against authcid is
 * the caller's policy: until impersonation exists, a protocol accepts an
 * empty authzid or one equal to authcid. */
#ifndef DIRECTORY_SASL_H
#define DIRECTORY_SASL_H

#include <stddef.h>

#include "core/buf.h"
#include "core/pool.h"

#define DIRECTORY_SASL_FIELD_MAX 1024
/* The largest decoded message: three fields and two NULs. */
#define DIRECTORY_SASL_PLAIN_MAX (3 * DIRECTORY_SASL_FIELD_MAX + 2)

struct directory_sasl_plain {
	struct slice authzid; /* empty when absent */
	struct slice authcid;
	struct slice passwd;
};

/* Splits a decoded PLAIN message. The slices point into msg. Returns 0, or
 * -1 with a static *error_r (missing NUL, empty authcid or passwd, a field
 * too long, invalid UTF-8, a third NUL). */
int directory_sasl_plain_parse(const void *msg, size_t len, struct directory_sasl_plain *r,
	const char **error_r);

/* The same for the base64 text a client sends (RFC 4648; whitespace is
 * tolerated as core/base64 does). The fields are copied into pool as
 * NUL-terminated strings (*authzid_r is "" when absent); the decoded
 * password is wiped from the temporary buffer. Returns 0 or -1 with a
 * static *error_r. */
int directory_sasl_plain_decode(pool_t *pool, const char *b64, size_t len, char **authzid_r,
	char **authcid_r, char **passwd_r, const char **error_r);

#endif
