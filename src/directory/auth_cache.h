/* The verified-password cache: remembers, for a short time, that a
 * password was verified against a stored password hash, so that a client
 * logging in again and again (a POP3 poller, a phone opening IMAP
 * connections, a benchmark) does not pay yescrypt (~80 ms of CPU) each
 * time. Dovecot's auth cache serves the same purpose.
 *
 * An entry is HMAC-SHA256(secret, stored_hash || NUL || password), the
 * secret random per process and never stored. Looking up with the hash
 * the directory holds now makes the cache exact: a changed password (a
 * new stored hash) misses at once, and only right passwords are ever
 * added, so a hit reveals nothing the answer does not. Wrong passwords
 * are never cached: each one pays the full hash and the throttle counts
 * it. The price: while an entry lives, someone who can read the server's
 * memory could test guesses at HMAC speed instead of yescrypt speed
 * ([auth] cache_size = 0 turns the cache off).
 *
 * Bounded: a fixed table of 4-way buckets; the oldest entry of a bucket
 * makes room. Thread-safe (one mutex, held for a few comparisons). */
#ifndef DIRECTORY_AUTH_CACHE_H
#define DIRECTORY_AUTH_CACHE_H

#include <stdbool.h>
#include <stdint.h>

struct directory_auth_cache;

/* A cache of at least entries entries (rounded up to a multiple of 4),
 * each valid ttl_s seconds. NULL (no cache) when entries or ttl_s is 0.
 * clock (NULL: CLOCK_MONOTONIC seconds) is for tests. */
struct directory_auth_cache *directory_auth_cache_new(unsigned entries, unsigned ttl_s,
	int64_t (*clock)(void *clock_ctx), void *clock_ctx);
/* Accepts NULL; sets *c to NULL. */
void directory_auth_cache_free(struct directory_auth_cache **c);

/* True when password was verified against stored_hash (the user's
 * current hash string) within the TTL. False for a NULL cache. */
bool directory_auth_cache_check(struct directory_auth_cache *c, const char *stored_hash,
	const char *password);
/* Records that password verified against stored_hash. No-op for NULL. */
void directory_auth_cache_add(struct directory_auth_cache *c, const char *stored_hash,
	const char *password);
/* Entries currently valid; for tests and statistics. */
unsigned directory_auth_cache_count(struct directory_auth_cache *c);

#endif
