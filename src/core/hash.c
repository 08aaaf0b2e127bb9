/* Open addressing with linear probing and backward-shift deletion (no
 * tombstones), so lookups stay short after many deletes. */
#include "core/hash.h"

#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

struct hash_slot {
	void *key; /* NULL: empty */
	size_t key_len;
	uint64_t hv;
	void *value;
};

struct hash {
	struct hash_slot *slots;
	size_t cap; /* power of two */
	size_t count;
};

uint64_t hash_bytes(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	/* Final avalanche (from splitmix64) so low bits are well mixed. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

struct hash *hash_new(size_t initial_capacity)
{
	struct hash *h = xcalloc(1, sizeof(*h));
	size_t cap = 16;
	while (cap < initial_capacity * 2)
		cap = xmul(cap, 2);
	h->slots = xcalloc(cap, sizeof(*h->slots));
	h->cap = cap;
	return h;
}

void hash_free(struct hash **hp)
{
	if (hp == NULL || *hp == NULL)
		return;
	struct hash *h = *hp;
	*hp = NULL;
	for (size_t i = 0; i < h->cap; i++)
		free(h->slots[i].key);
	free(h->slots);
	free(h);
}

static size_t hash_find(const struct hash *h, const void *key, size_t key_len, uint64_t hv,
	bool *found)
{
	size_t mask = h->cap - 1;
	size_t i = (size_t)hv & mask;
	for (;;) {
		const struct hash_slot *s = &h->slots[i];
		if (s->key == NULL) {
			*found = false;
			return i;
		}
		if (s->hv == hv && s->key_len == key_len && memcmp(s->key, key, key_len) == 0) {
			*found = true;
			return i;
		}
		i = (i + 1) & mask;
	}
}

static void hash_grow(struct hash *h)
{
	struct hash_slot *old = h->slots;
	size_t old_cap = h->cap;
	h->cap = xmul(old_cap, 2);
	h->slots = xcalloc(h->cap, sizeof(*h->slots));
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].key == NULL)
			continue;
		bool found;
		size_t j = hash_find(h, old[i].key, old[i].key_len, old[i].hv, &found);
		h->slots[j] = old[i];
	}
	free(old);
}

bool hash_put(struct hash *h, const void *key, size_t key_len, void *value, void **old_r)
{
	uint64_t hv = hash_bytes(key, key_len);
	bool found;
	size_t i = hash_find(h, key, key_len, hv, &found);
	if (found) {
		if (old_r != NULL)
			*old_r = h->slots[i].value;
		h->slots[i].value = value;
		return false;
	}
	if ((h->count + 1) * 4 > h->cap * 3) {
		hash_grow(h);
		i = hash_find(h, key, key_len, hv, &found);
	}
	struct hash_slot *s = &h->slots[i];
	/* One extra byte so that string keys stay NUL-terminated. */
	s->key = xmalloc(key_len + 1);
	memcpy(s->key, key, key_len);
	((char *)s->key)[key_len] = '\0';
	s->key_len = key_len;
	s->hv = hv;
	s->value = value;
	h->count++;
	return true;
}

void *hash_get(const struct hash *h, const void *key, size_t key_len, bool *found_r)
{
	bool found;
	size_t i = hash_find(h, key, key_len, hash_bytes(key, key_len), &found);
	if (found_r != NULL)
		*found_r = found;
	return found ? h->slots[i].value : NULL;
}

bool hash_del(struct hash *h, const void *key, size_t key_len, void **value_r)
{
	bool found;
	size_t i = hash_find(h, key, key_len, hash_bytes(key, key_len), &found);
	if (!found)
		return false;
	if (value_r != NULL)
		*value_r = h->slots[i].value;
	free(h->slots[i].key);
	h->slots[i].key = NULL;
	h->count--;
	/* Backward shift: move later members of the probe run into the hole. */
	size_t mask = h->cap - 1;
	size_t hole = i;
	size_t j = (i + 1) & mask;
	while (h->slots[j].key != NULL) {
		size_t home = (size_t)h->slots[j].hv & mask;
		/* Can slot j move to hole? Only if its home is not in (hole, j]. */
		bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
		if (movable) {
			h->slots[hole] = h->slots[j];
			h->slots[j].key = NULL;
			hole = j;
		}
		j = (j + 1) & mask;
	}
	return true;
}

size_t hash_count(const struct hash *h)
{
	return h->count;
}

void hash_iter_init(struct hash_iter *it)
{
	memset(it, 0, sizeof(*it));
}

bool hash_iter_next(const struct hash *h, struct hash_iter *it)
{
	size_t i = it->index;
	for (; i < h->cap; i++) {
		if (h->slots[i].key != NULL) {
			it->key = h->slots[i].key;
			it->key_len = h->slots[i].key_len;
			it->value = h->slots[i].value;
			it->index = i + 1;
			return true;
		}
	}
	it->index = h->cap;
	return false;
}
