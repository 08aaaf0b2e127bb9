/* The verified-password cache; see auth_cache.h. */
#include "directory/auth_cache.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/log.h"
#include "core/xalloc.h"

#define AUTH_CACHE_WAYS 4

struct auth_cache_entry {
	uint8_t key[32];
	int64_t expires; /* 0: empty */
	uint64_t seq;    /* order of insertion: the older of equal expiries goes */
};

struct directory_auth_cache {
	pthread_mutex_t lock;
	uint8_t secret[32];
	unsigned ttl;
	size_t buckets;
	struct auth_cache_entry *e; /* buckets * AUTH_CACHE_WAYS */
	uint64_t seq;
	int64_t (*clock)(void *ctx);
	void *clock_ctx;
};

static int64_t auth_cache_now(const struct directory_auth_cache *c)
{
	if (c->clock != NULL)
		return c->clock(c->clock_ctx);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

struct directory_auth_cache *directory_auth_cache_new(unsigned entries, unsigned ttl_s,
	int64_t (*clock)(void *clock_ctx), void *clock_ctx)
{
	if (entries == 0 || ttl_s == 0)
		return NULL;
	struct directory_auth_cache *c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	if (RAND_bytes(c->secret, sizeof(c->secret)) != 1)
		log_panic(NULL, "auth cache: no random bytes for the secret");
	c->ttl = ttl_s;
	c->buckets = (entries + AUTH_CACHE_WAYS - 1) / AUTH_CACHE_WAYS;
	c->e = xcalloc(c->buckets * AUTH_CACHE_WAYS, sizeof(*c->e));
	c->clock = clock;
	c->clock_ctx = clock_ctx;
	return c;
}

void directory_auth_cache_free(struct directory_auth_cache **cp)
{
	struct directory_auth_cache *c = *cp;
	if (c == NULL)
		return;
	OPENSSL_cleanse(c->e, c->buckets * AUTH_CACHE_WAYS * sizeof(*c->e));
	OPENSSL_cleanse(c->secret, sizeof(c->secret));
	free(c->e);
	pthread_mutex_destroy(&c->lock);
	free(c);
	*cp = NULL;
}

static void auth_cache_key(const struct directory_auth_cache *c, const char *hash,
	const char *password, uint8_t key[32])
{
	size_t hl = strlen(hash), pl = strlen(password);
	unsigned char *msg = xmalloc(hl + 1 + pl);
	memcpy(msg, hash, hl);
	msg[hl] = '\0';
	memcpy(msg + hl + 1, password, pl);
	unsigned int len = 32;
	if (HMAC(EVP_sha256(), c->secret, sizeof(c->secret), msg, hl + 1 + pl, key, &len) == NULL)
		log_panic(NULL, "auth cache: HMAC-SHA256 failed");
	OPENSSL_cleanse(msg, hl + 1 + pl);
	free(msg);
}

static struct auth_cache_entry *auth_cache_bucket(const struct directory_auth_cache *c,
	const uint8_t key[32])
{
	uint64_t h;
	memcpy(&h, key, sizeof(h));
	return &c->e[(h % c->buckets) * AUTH_CACHE_WAYS];
}

bool directory_auth_cache_check(struct directory_auth_cache *c, const char *stored_hash,
	const char *password)
{
	if (c == NULL || stored_hash == NULL)
		return false;
	uint8_t key[32];
	auth_cache_key(c, stored_hash, password, key);
	bool hit = false;
	pthread_mutex_lock(&c->lock);
	int64_t now = auth_cache_now(c);
	struct auth_cache_entry *b = auth_cache_bucket(c, key);
	for (int i = 0; i < AUTH_CACHE_WAYS; i++) {
		if (b[i].expires > now && CRYPTO_memcmp(b[i].key, key, sizeof(key)) == 0) {
			hit = true;
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

void directory_auth_cache_add(struct directory_auth_cache *c, const char *stored_hash,
	const char *password)
{
	if (c == NULL || stored_hash == NULL)
		return;
	uint8_t key[32];
	auth_cache_key(c, stored_hash, password, key);
	pthread_mutex_lock(&c->lock);
	int64_t now = auth_cache_now(c);
	struct auth_cache_entry *b = auth_cache_bucket(c, key);
	/* The same key again (renewed), else the way that expires first
	 * (empty and expired ways come first). */
	struct auth_cache_entry *slot = NULL;
	for (int i = 0; i < AUTH_CACHE_WAYS && slot == NULL; i++)
		if (b[i].expires > now && memcmp(b[i].key, key, sizeof(key)) == 0)
			slot = &b[i];
	if (slot == NULL) {
		slot = &b[0];
		for (int i = 1; i < AUTH_CACHE_WAYS; i++)
			if (b[i].expires < slot->expires ||
				(b[i].expires == slot->expires && b[i].seq < slot->seq))
				slot = &b[i];
	}
	memcpy(slot->key, key, sizeof(key));
	/* Never 0, which means empty. */
	slot->expires = now + (int64_t)c->ttl > 0 ? now + (int64_t)c->ttl : 1;
	slot->seq = ++c->seq;
	OPENSSL_cleanse(key, sizeof(key));
	pthread_mutex_unlock(&c->lock);
}

unsigned directory_auth_cache_count(struct directory_auth_cache *c)
{
	if (c == NULL)
		return 0;
	unsigned n = 0;
	pthread_mutex_lock(&c->lock);
	int64_t now = auth_cache_now(c);
	for (size_t i = 0; i < c->buckets * AUTH_CACHE_WAYS; i++)
		if (c->e[i].expires > now)
			n++;
	pthread_mutex_unlock(&c->lock);
	return n;
}
