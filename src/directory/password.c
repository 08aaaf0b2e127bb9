#include "directory/password.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/log.h"
#include "core/str.h"
#include "core/utf.h"
#include "core/xalloc.h"

int directory_password_check(const char *password, const char **error_r)
{
	size_t len = strlen(password);
	if (len == 0) {
		*error_r = "empty password";
		return -1;
	}
	if (len > DIRECTORY_PASSWORD_MAX) {
		*error_r = "password longer than 1024 bytes";
		return -1;
	}
	if (!utf8_valid(password, len)) {
		*error_r = "password is not valid UTF-8";
		return -1;
	}
	return 0;
}

char *directory_password_hash(const char *password, unsigned cost, const char **error_r)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	if (cost > DIRECTORY_HASH_COST_MAX) {
		*error_r = "yescrypt cost out of range";
		return NULL;
	}
	if (cost == 0)
		cost = DIRECTORY_HASH_COST_DEFAULT;
	/* rbytes NULL: libxcrypt draws the salt from the kernel. */
	if (crypt_gensalt_rn("$y$", cost, NULL, 0, setting, sizeof(setting)) == NULL) {
		*error_r = "crypt_gensalt failed (yescrypt unavailable?)";
		return NULL;
	}
	/* struct crypt_data is 32 KiB: too big for a worker's stack. */
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	char *h = crypt_r(password, setting, cd);
	char *r = NULL;
	/* Failure is NULL or a string starting with '*' (libxcrypt). */
	if (h == NULL || h[0] != '$' || strncmp(h, "$y$", 3) != 0)
		*error_r = "crypt failed";
	else
		r = xstrdup(h);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return r;
}

int directory_password_verify(const char *password, const char *hash)
{
	if (hash == NULL || hash[0] != '$')
		return -1;
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	const char *h = crypt_r(password, hash, cd);
	int rc;
	size_t len = strlen(hash);
	if (h == NULL || h[0] == '*')
		rc = -1;
	else if (strlen(h) != len)
		rc = 0;
	else
		rc = str_const_eq(h, hash, len) ? 1 : 0;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return rc;
}

void directory_password_generate(char *out, size_t len)
{
	/* 57 symbols: no 0/O, 1/l/I. */
	static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	const size_t n = sizeof(alphabet) - 1;
	/* Rejection sampling keeps every symbol equally likely. */
	const unsigned limit = 256 - 256 % n;
	size_t o = 0;
	while (o < len) {
		unsigned char rnd[64];
		ssize_t got = getrandom(rnd, sizeof(rnd), 0);
		if (got <= 0)
			log_panic(NULL, "getrandom failed");
		for (ssize_t i = 0; i < got && o < len; i++)
			if (rnd[i] < limit)
				out[o++] = alphabet[rnd[i] % n];
		explicit_bzero(rnd, sizeof(rnd));
	}
	out[len] = '\0';
}
