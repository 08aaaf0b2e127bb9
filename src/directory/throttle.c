#include "directory/throttle.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/hm_time.h"
#include "core/xalloc.h"

struct throttle_entry {
	struct throttle_entry *prev, *next; /* LRU list: head is the oldest touched */
	int64_t window_start;               /* time of the first failure in the window */
	unsigned failures;
	size_t key_len;
	char key[];
};

struct throttle_table {
	struct hash *hash; /* key -> struct throttle_entry */
	struct throttle_entry *head, *tail;
	unsigned max_failures; /* 0: this table is off */
};

struct directory_throttle {
	pthread_mutex_t lock;
	struct directory_throttle_settings set;
	struct throttle_table ip, user;
};

static int64_t throttle_default_clock(void *ctx)
{
	return (int64_t)(time_mono_ms() / 1000);
}

static void throttle_table_init(struct throttle_table *tab, unsigned max_failures)
{
	tab->hash = hash_new(64);
	tab->head = tab->tail = NULL;
	tab->max_failures = max_failures;
}

static void throttle_unlink(struct throttle_table *tab, struct throttle_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		tab->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		tab->tail = e->prev;
	e->prev = e->next = NULL;
}

static void throttle_append(struct throttle_table *tab, struct throttle_entry *e)
{
	e->prev = tab->tail;
	e->next = NULL;
	if (tab->tail != NULL)
		tab->tail->next = e;
	else
		tab->head = e;
	tab->tail = e;
}

static void throttle_remove(struct throttle_table *tab, struct throttle_entry *e)
{
	throttle_unlink(tab, e);
	hash_del(tab->hash, e->key, e->key_len, NULL);
	free(e);
}

static void throttle_table_deinit(struct throttle_table *tab)
{
	while (tab->head != NULL)
		throttle_remove(tab, tab->head);
	hash_free(&tab->hash);
}

/* The entry for key with its window brought up to date, or NULL when
 * there is none (or it held only an expired window) and create is false.
 * Touching moves it to the LRU tail. */
static struct throttle_entry *throttle_lookup(struct directory_throttle *t,
	struct throttle_table *tab, const char *key, bool create, int64_t now)
{
	size_t len = strnlen(key, DIRECTORY_THROTTLE_KEY_MAX);
	struct throttle_entry *e = hash_get(tab->hash, key, len, NULL);
	if (e != NULL && now - e->window_start >= (int64_t)t->set.window_secs) {
		/* The window is over: forget it. */
		throttle_remove(tab, e);
		e = NULL;
	}
	if (e == NULL) {
		if (!create)
			return NULL;
		/* Full: the least recently touched key goes; its window is
		 * the oldest, the one closest to mattering least. */
		while (hash_count(tab->hash) >= t->set.max_entries && tab->head != NULL)
			throttle_remove(tab, tab->head);
		e = xcalloc(1, sizeof(*e) + len + 1);
		memcpy(e->key, key, len);
		e->key_len = len;
		e->window_start = now;
		hash_put(tab->hash, e->key, len, e, NULL);
		throttle_append(tab, e);
		return e;
	}
	throttle_unlink(tab, e);
	throttle_append(tab, e);
	return e;
}

struct directory_throttle *directory_throttle_new(const struct directory_throttle_settings *set)
{
	struct directory_throttle *t = xcalloc(1, sizeof(*t));
	t->set = *set;
	if (t->set.window_secs == 0)
		t->set.window_secs = 1;
	if (t->set.max_entries == 0)
		t->set.max_entries = DIRECTORY_THROTTLE_DEFAULT_ENTRIES;
	if (t->set.clock == NULL)
		t->set.clock = throttle_default_clock;
	pthread_mutex_init(&t->lock, NULL);
	throttle_table_init(&t->ip, t->set.max_failures_per_ip);
	throttle_table_init(&t->user, t->set.max_failures_per_user);
	return t;
}

void directory_throttle_free(struct directory_throttle **tp)
{
	struct directory_throttle *t = *tp;
	if (t == NULL)
		return;
	throttle_table_deinit(&t->ip);
	throttle_table_deinit(&t->user);
	pthread_mutex_destroy(&t->lock);
	free(t);
	*tp = NULL;
}

/* Failures key has in its current window (0 when the table is off). */
static unsigned throttle_failures(struct directory_throttle *t, struct throttle_table *tab,
	const char *key, int64_t now)
{
	if (key == NULL || tab->max_failures == 0)
		return 0;
	struct throttle_entry *e = throttle_lookup(t, tab, key, false, now);
	return e != NULL ? e->failures : 0;
}

/* Counts a failure; returns the failures now in the window. */
static unsigned throttle_fail(struct directory_throttle *t, struct throttle_table *tab,
	const char *key, int64_t now)
{
	if (key == NULL || tab->max_failures == 0)
		return 0;
	struct throttle_entry *e = throttle_lookup(t, tab, key, true, now);
	if (e->failures < UINT32_MAX)
		e->failures++;
	return e->failures;
}

enum directory_throttle_verdict directory_throttle_begin(struct directory_throttle *t,
	const char *ip, const char *user)
{
	enum directory_throttle_verdict v = DIRECTORY_THROTTLE_PASS;
	pthread_mutex_lock(&t->lock);
	int64_t now = t->set.clock(t->set.clock_ctx);
	if (t->ip.max_failures > 0 && throttle_failures(t, &t->ip, ip, now) >= t->ip.max_failures)
		v = DIRECTORY_THROTTLE_BY_IP;
	else if (t->user.max_failures > 0 &&
		 throttle_failures(t, &t->user, user, now) >= t->user.max_failures)
		v = DIRECTORY_THROTTLE_BY_USER;
	pthread_mutex_unlock(&t->lock);
	return v;
}

enum directory_throttle_verdict directory_throttle_end(struct directory_throttle *t,
	const char *ip, const char *user, bool success)
{
	enum directory_throttle_verdict v = DIRECTORY_THROTTLE_PASS;
	pthread_mutex_lock(&t->lock);
	int64_t now = t->set.clock(t->set.clock_ctx);
	if (!success) {
		/* The first max failures are answered as failures; any that
		 * were in flight beyond them are answered as throttled. */
		unsigned fi = throttle_fail(t, &t->ip, ip, now);
		unsigned fu = throttle_fail(t, &t->user, user, now);
		if (t->ip.max_failures > 0 && fi > t->ip.max_failures)
			v = DIRECTORY_THROTTLE_BY_IP;
		else if (t->user.max_failures > 0 && fu > t->user.max_failures)
			v = DIRECTORY_THROTTLE_BY_USER;
	} else {
		/* A success that raced past a spent allowance stays hidden. */
		if (t->ip.max_failures > 0 &&
			throttle_failures(t, &t->ip, ip, now) >= t->ip.max_failures)
			v = DIRECTORY_THROTTLE_BY_IP;
		else if (t->user.max_failures > 0 &&
			 throttle_failures(t, &t->user, user, now) >= t->user.max_failures)
			v = DIRECTORY_THROTTLE_BY_USER;
		if (v == DIRECTORY_THROTTLE_PASS && user != NULL && t->user.max_failures > 0) {
			struct throttle_entry *e = throttle_lookup(t, &t->user, user, false, now);
			if (e != NULL)
				throttle_remove(&t->user, e);
		}
	}
	pthread_mutex_unlock(&t->lock);
	return v;
}

size_t directory_throttle_entries(struct directory_throttle *t)
{
	pthread_mutex_lock(&t->lock);
	size_t n = hash_count(t->ip.hash) + hash_count(t->user.hash);
	pthread_mutex_unlock(&t->lock);
	return n;
}
