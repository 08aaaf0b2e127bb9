/* directory_auth_plain: lookup, throttle, verify. */
#include "directory/auth.h"

#include <string.h>

#include "core/str.h"
#include "directory/auth_cache.h"
#include "directory/directory_private.h"

const char *directory_auth_result_name(enum directory_auth_result r)
{
	switch (r) {
	case DIRECTORY_AUTH_ERROR:
		return "error";
	case DIRECTORY_AUTH_FAILED:
		return "failed";
	case DIRECTORY_AUTH_OK:
		return "ok";
	case DIRECTORY_AUTH_DISABLED:
		return "disabled";
	case DIRECTORY_AUTH_THROTTLED:
		return "throttled";
	}
	return "unknown";
}

enum directory_auth_result directory_auth_plain(struct directory *dir,
	struct directory_throttle *throttle, const char *username, const char *password,
	const char *client_ip, pool_t *pool, struct directory_user **user_r, const char **error_r)
{
	*user_r = NULL;
	/* The throttle key: the canonical primary address of a known user
	 * (every alias and spelling shares it), else the lower-cased name. */
	char key[DIRECTORY_THROTTLE_KEY_MAX + 1];
	str_lcpy(key, username, sizeof(key));
	str_lower(key);

	struct directory_user *user = NULL;
	const char *hash = NULL;
	int rc = directory_user_get(dir, username, pool, &user, error_r);
	if (rc < 0)
		return DIRECTORY_AUTH_ERROR;
	if (rc > 0) {
		str_lcpy(key, user->address, sizeof(key));
		str_lower(key);
		char *h = NULL;
		rc = directory_user_password_hash(dir, user->id, pool, &h, error_r);
		if (rc < 0)
			return DIRECTORY_AUTH_ERROR;
		hash = h; /* NULL: no password set, nothing can match */
	}

	if (throttle != NULL) {
		enum directory_throttle_verdict v =
			directory_throttle_begin(throttle, client_ip, key);
		if (v != DIRECTORY_THROTTLE_PASS) {
			directory_error(error_r, "too many failed logins for this %s",
				v == DIRECTORY_THROTTLE_BY_IP ? "address" : "user");
			return DIRECTORY_AUTH_THROTTLED;
		}
	}

	/* Always pay for one hash, so an unknown user costs what a known
	 * one does. */
	int ok;
	if (hash != NULL && directory_auth_cache_check(dir->auth_cache, hash, password)) {
		/* Verified against this very hash a moment ago (a changed
		 * password is a new hash and misses). Only right passwords
		 * are cached, so a fast answer tells nothing more than the
		 * answer itself. */
		ok = 1;
	} else if (hash != NULL && directory_password_check(password, &(const char *){NULL}) == 0) {
		ok = directory_password_verify(password, hash);
		if (ok > 0)
			directory_auth_cache_add(dir->auth_cache, hash, password);
	} else {
		const char *dummy = directory_dummy_hash(dir, error_r);
		if (dummy != NULL)
			(void)directory_password_verify(password, dummy);
		ok = 0;
	}

	if (throttle != NULL) {
		enum directory_throttle_verdict v =
			directory_throttle_end(throttle, client_ip, key, ok > 0);
		if (v != DIRECTORY_THROTTLE_PASS) {
			/* Spent while this attempt was in flight: its outcome,
			 * even a right password, is not told. */
			directory_error(error_r, "too many failed logins for this %s",
				v == DIRECTORY_THROTTLE_BY_IP ? "address" : "user");
			return DIRECTORY_AUTH_THROTTLED;
		}
	}
	if (ok < 0) {
		directory_error(error_r, "stored password hash of %s is unusable", user->address);
		return DIRECTORY_AUTH_ERROR;
	}
	if (ok == 0) {
		directory_error(error_r, user == NULL    ? "unknown user"
					 : hash == NULL ? "user has no password"
							: "wrong password");
		return DIRECTORY_AUTH_FAILED;
	}
	if (!user->enabled) {
		directory_error(error_r, "account disabled");
		return DIRECTORY_AUTH_DISABLED;
	}
	*user_r = user;
	return DIRECTORY_AUTH_OK;
}
