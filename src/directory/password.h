/* Passwords: yescrypt hashes through libcrypt (libxcrypt), random
 * password generation, and the NT hash (MD4 of the UTF-16LE password,
 * MS-NLMP 3.3.1 NTOWFv1) kept for users who opt in to NTLM. */
#ifndef DIRECTORY_PASSWORD_H
#define DIRECTORY_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest password accepted, in octets (the SASL field limit). */
#define DIRECTORY_PASSWORD_MAX 1024
/* yescrypt cost range of crypt_gensalt ("$y$" count): each step doubles
 * time and memory. 5 is libxcrypt's default (about 80 ms here). */
#define DIRECTORY_HASH_COST_MIN 1
#define DIRECTORY_HASH_COST_MAX 11
#define DIRECTORY_HASH_COST_DEFAULT 5
#define DIRECTORY_NT_HASH_LEN 16

/* Checks that a password can be stored: not empty, at most
 * DIRECTORY_PASSWORD_MAX octets, valid UTF-8 (the NT hash needs UTF-16).
 * 0, or -1 with a static *error_r. */
int directory_password_check(const char *password, const char **error_r);

/* Hashes password with yescrypt at cost (0: the default) and a fresh
 * random salt. Returns a heap string "$y$..." the caller frees, or NULL
 * with a static *error_r. */
char *directory_password_hash(const char *password, unsigned cost, const char **error_r);

/* Checks password against a stored crypt hash, comparing the result in
 * constant time. Returns 1 on a match, 0 on a mismatch, -1 when the hash
 * is unusable (not a crypt string libcrypt knows). */
int directory_password_verify(const char *password, const char *hash);

/* Writes a random password of len characters (from an alphabet without
 * look-alike characters, about 5.8 bits each) and a NUL into out[len + 1],
 * from the kernel's CSPRNG. len must be at least 1. */
void directory_password_generate(char *out, size_t len);

#endif
