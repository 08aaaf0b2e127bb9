/* Password authentication against the directory, with throttling.
 *
 * Every protocol's PLAIN, LOGIN and Basic end here. The answer separates
 * what a protocol must answer differently: wrong credentials, a disabled
 * account, a throttled client (SMTP 454 4.7.0 rather than 535, IMAP
 * [UNAVAILABLE] rather than [AUTHENTICATIONFAILED], HTTP 429 rather than
 * 401) and an internal error (a temporary failure). */
#ifndef DIRECTORY_AUTH_H
#define DIRECTORY_AUTH_H

#include "core/pool.h"
#include "directory/directory.h"
#include "directory/throttle.h"

enum directory_auth_result {
	DIRECTORY_AUTH_ERROR = -1,    /* database trouble: try again later */
	DIRECTORY_AUTH_FAILED = 0,    /* unknown user, no password or a wrong one */
	DIRECTORY_AUTH_OK = 1,        /* *user_r is the user */
	DIRECTORY_AUTH_DISABLED = 2,  /* right password, account disabled */
	DIRECTORY_AUTH_THROTTLED = 3, /* too many failures: refused unchecked */
};

/* Checks username (primary address or alias, any case) and password.
 *
 * throttle may be NULL (no throttling), client_ip NULL (no per-address
 * counting). A throttled attempt is refused before the password is looked
 * at, and an attempt in flight when its allowance ran out is answered
 * THROTTLED whatever its outcome (directory/throttle.h). Otherwise the
 * password is always hashed, for unknown users against a dummy hash, so
 * the time taken does not tell whether a user exists; the hash comparison
 * is constant-time. DISABLED is only reported when the
 * password was right (a protocol may still prefer to answer it like
 * FAILED) and does not count as a failure.
 *
 * On DIRECTORY_AUTH_OK, *user_r (from pool) is the user. *error_r is set
 * for every result but OK: a description for the log, never for the
 * client. */
enum directory_auth_result directory_auth_plain(struct directory *dir,
	struct directory_throttle *throttle, const char *username, const char *password,
	const char *client_ip, pool_t *pool, struct directory_user **user_r, const char **error_r);

/* Static name of a result ("ok", "failed", ...), for logs. */
const char *directory_auth_result_name(enum directory_auth_result r);

#endif
