/* Memory pools (arenas): many small allocations freed at once.
 *
 * A pool belongs to one connection, command or request; everything allocated
 * from it dies with it. Cleanup hooks tie other resources (SQLite statements,
 * file descriptors, GMime objects) to the pool's lifetime; they run in reverse
 * order of registration when the pool is cleared or freed.
 *
 * A pool is not thread-safe: one thread uses it at a time. */
#ifndef CORE_POOL_H
#define CORE_POOL_H

#include <stdarg.h>
#include <stddef.h>

typedef struct pool pool_t;

typedef void pool_cleanup_fn(void *ctx);

/* A new pool whose blocks start at block_size bytes (0: a default). Never
 * returns NULL. name appears in debug output only; it is not copied. */
pool_t *pool_new(const char *name, size_t block_size);
/* Runs the cleanups, frees every block and the pool; sets *pool to NULL.
 * Accepts NULL and *pool == NULL. */
void pool_free(pool_t **pool);
/* Runs the cleanups and forgets every allocation, keeping the first block
 * for reuse. Pointers into the pool become invalid. */
void pool_clear(pool_t *pool);

/* Zero-filled memory aligned for any type; aborts on overflow. */
void *pool_alloc(pool_t *pool, size_t size);
/* Like pool_alloc for n elements of size, checking n * size for overflow. */
void *pool_calloc(pool_t *pool, size_t n, size_t size);
/* Grows an allocation made from this pool (cheap when it was the last one);
 * the first old_size bytes are kept, the rest is zeroed. */
void *pool_realloc(pool_t *pool, void *ptr, size_t old_size, size_t new_size);
char *pool_strdup(pool_t *pool, const char *s);
/* Copies at most n bytes of s and NUL-terminates. */
char *pool_strndup(pool_t *pool, const char *s, size_t n);
void *pool_memdup(pool_t *pool, const void *p, size_t n);
char *pool_printf(pool_t *pool, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *pool_vprintf(pool_t *pool, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Runs fn(ctx) when the pool is cleared or freed. */
void pool_add_cleanup(pool_t *pool, pool_cleanup_fn *fn, void *ctx);
/* Removes a cleanup registered with exactly (fn, ctx) without running it;
 * returns 1 if it was found, 0 if not. */
int pool_remove_cleanup(pool_t *pool, pool_cleanup_fn *fn, void *ctx);

/* Bytes handed out since the pool was created or last cleared. */
size_t pool_used(const pool_t *pool);

#endif
