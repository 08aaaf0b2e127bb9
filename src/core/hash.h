/* A hash table from byte-string keys to pointers.
 *
 * Keys are copied into the table; values are the caller's. Not thread-safe.
 * Iteration order is unspecified. */
#ifndef CORE_HASH_H
#define CORE_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct hash;

struct hash_iter {
	size_t index;
	const void *key;
	size_t key_len;
	void *value;
};

/* A new empty table (never NULL); free with hash_free. */
struct hash *hash_new(size_t initial_capacity);
void hash_free(struct hash **h);

/* Sets key to value, replacing any previous value (returned through
 * old_r when old_r is not NULL and the key existed). Returns true if the
 * key is new. */
bool hash_put(struct hash *h, const void *key, size_t key_len, void *value, void **old_r);
/* The value for key, or NULL; found_r (optional) tells a stored NULL from
 * a missing key. */
void *hash_get(const struct hash *h, const void *key, size_t key_len, bool *found_r);
/* Removes key; returns true and its value in value_r (optional) if it was there. */
bool hash_del(struct hash *h, const void *key, size_t key_len, void **value_r);
size_t hash_count(const struct hash *h);

/* Iteration: hash_iter_init then while (hash_iter_next(h, &it)) ...
 * The table must not be modified during iteration: collect the keys to
 * delete and delete them afterwards. */
void hash_iter_init(struct hash_iter *it);
bool hash_iter_next(const struct hash *h, struct hash_iter *it);

/* String-key conveniences. */
static inline bool hash_put_str(struct hash *h, const char *key, void *value)
{
	return hash_put(h, key, strlen(key), value, NULL);
}
static inline void *hash_get_str(const struct hash *h, const char *key)
{
	return hash_get(h, key, strlen(key), NULL);
}

/* 64-bit hash of bytes (FNV-1a with a final mix); stable across runs. */
uint64_t hash_bytes(const void *data, size_t len);

#endif
