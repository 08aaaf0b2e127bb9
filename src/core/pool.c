#include "core/pool.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

#define POOL_DEFAULT_BLOCK 4096
#define POOL_ALIGN alignof(max_align_t)

struct pool_block {
	struct pool_block *next;
	size_t size; /* usable bytes after the header */
	size_t used;
	alignas(max_align_t) unsigned char data[];
};

struct pool_cleanup {
	struct pool_cleanup *next;
	pool_cleanup_fn *fn;
	void *ctx;
};

struct pool {
	const char *name;
	size_t block_size;
	struct pool_block *blocks; /* current block first */
	struct pool_cleanup *cleanups;
	size_t used;
	/* The last allocation, so that pool_realloc can grow it in place. */
	void *last;
	size_t last_size;
};

static size_t pool_align_up(size_t n)
{
	return (n + POOL_ALIGN - 1) & ~(POOL_ALIGN - 1);
}

static struct pool_block *pool_block_new(size_t size)
{
	struct pool_block *b = xmalloc(xadd(sizeof(*b), size));
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

pool_t *pool_new(const char *name, size_t block_size)
{
	pool_t *p = xcalloc(1, sizeof(*p));
	p->name = name;
	p->block_size = block_size ? pool_align_up(block_size) : POOL_DEFAULT_BLOCK;
	p->blocks = pool_block_new(p->block_size);
	return p;
}

static void pool_run_cleanups(pool_t *p)
{
	/* Cleanups may register or remove others; take the list each time. */
	while (p->cleanups != NULL) {
		struct pool_cleanup *c = p->cleanups;
		p->cleanups = c->next;
		pool_cleanup_fn *fn = c->fn;
		void *ctx = c->ctx;
		free(c);
		fn(ctx);
	}
}

void pool_clear(pool_t *p)
{
	pool_run_cleanups(p);
	/* Keep the smallest-default block (the last in the list) for reuse. */
	struct pool_block *b = p->blocks;
	while (b->next != NULL) {
		struct pool_block *next = b->next;
		free(b);
		b = next;
	}
	b->used = 0;
	p->blocks = b;
	p->used = 0;
	p->last = NULL;
	p->last_size = 0;
}

void pool_free(pool_t **pp)
{
	if (pp == NULL || *pp == NULL)
		return;
	pool_t *p = *pp;
	*pp = NULL;
	pool_run_cleanups(p);
	struct pool_block *b = p->blocks;
	while (b != NULL) {
		struct pool_block *next = b->next;
		free(b);
		b = next;
	}
	free(p);
}

void *pool_alloc(pool_t *p, size_t size)
{
	size_t need = pool_align_up(size ? size : 1);
	struct pool_block *b = p->blocks;
	if (b->size - b->used < need) {
		/* Big allocations get a block of their own placed behind the
		 * current one, so the current block's free space stays usable. */
		if (need > p->block_size / 2) {
			struct pool_block *big = pool_block_new(need);
			big->used = need;
			big->next = b->next;
			b->next = big;
			p->used += need;
			memset(big->data, 0, need);
			p->last = NULL;
			return big->data;
		}
		size_t bs = p->block_size;
		/* Grow block sizes geometrically up to 1 MiB. */
		if (b->size >= bs && b->size < (1u << 20))
			bs = b->size * 2;
		struct pool_block *nb = pool_block_new(bs);
		nb->next = b;
		p->blocks = b = nb;
	}
	void *r = b->data + b->used;
	b->used += need;
	p->used += need;
	memset(r, 0, need);
	p->last = r;
	p->last_size = need;
	return r;
}

void *pool_calloc(pool_t *p, size_t n, size_t size)
{
	return pool_alloc(p, xmul(n, size));
}

void *pool_realloc(pool_t *p, void *ptr, size_t old_size, size_t new_size)
{
	if (ptr == NULL)
		return pool_alloc(p, new_size);
	if (new_size <= old_size)
		return ptr;
	if (ptr == p->last) {
		struct pool_block *b = p->blocks;
		size_t need = pool_align_up(new_size);
		size_t start = (size_t)((unsigned char *)ptr - b->data);
		if (start + need <= b->size) {
			memset((unsigned char *)ptr + old_size, 0, need - old_size);
			b->used = start + need;
			p->used += need - p->last_size;
			p->last_size = need;
			return ptr;
		}
	}
	void *n = pool_alloc(p, new_size);
	memcpy(n, ptr, old_size);
	return n;
}

char *pool_strdup(pool_t *p, const char *s)
{
	if (s == NULL)
		return NULL;
	return pool_memdup(p, s, strlen(s) + 1);
}

char *pool_strndup(pool_t *p, const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *r = pool_alloc(p, len + 1);
	memcpy(r, s, len);
	return r;
}

void *pool_memdup(pool_t *p, const void *src, size_t n)
{
	void *r = pool_alloc(p, n);
	if (n > 0)
		memcpy(r, src, n);
	return r;
}

char *pool_vprintf(pool_t *p, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		n = 0;
	char *r = pool_alloc(p, (size_t)n + 1);
	vsnprintf(r, (size_t)n + 1, fmt, ap);
	return r;
}

char *pool_printf(pool_t *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *r = pool_vprintf(p, fmt, ap);
	va_end(ap);
	return r;
}

void pool_add_cleanup(pool_t *p, pool_cleanup_fn *fn, void *ctx)
{
	struct pool_cleanup *c = xmalloc(sizeof(*c));
	c->fn = fn;
	c->ctx = ctx;
	c->next = p->cleanups;
	p->cleanups = c;
}

int pool_remove_cleanup(pool_t *p, pool_cleanup_fn *fn, void *ctx)
{
	for (struct pool_cleanup **cp = &p->cleanups; *cp != NULL; cp = &(*cp)->next) {
		if ((*cp)->fn == fn && (*cp)->ctx == ctx) {
			struct pool_cleanup *c = *cp;
			*cp = c->next;
			free(c);
			return 1;
		}
	}
	return 0;
}

size_t pool_used(const pool_t *p)
{
	return p->used;
}
