/* Typed dynamic arrays.
 *
 *   ARRAY(struct foo) a;  array_init(&a, pool);  array_push(&a, v);
 *   for (size_t i = 0; i < a.n; i++) use(a.v[i]);
 *
 * With a pool the array's memory comes from the pool (no free needed);
 * with NULL it comes from the heap and array_free releases it. Growing may
 * move the elements: never keep a pointer to one across a push. */
#ifndef CORE_ARRAY_H
#define CORE_ARRAY_H

#include <stddef.h>
#include <string.h>

#include "core/pool.h"

#define ARRAY(T)                                                                                   \
	struct {                                                                                   \
		T *v;                                                                              \
		size_t n;                                                                          \
		size_t cap;                                                                        \
		pool_t *pool;                                                                      \
	}

/* Ensures room for need elements of elem_size bytes; used by the macros. */
void array_reserve_(void **v, size_t *cap, size_t need, size_t elem_size, pool_t *pool);
void array_free_(void **v, size_t *cap, pool_t *pool);

#define array_init(a, p)                                                                           \
	do {                                                                                       \
		(a)->v = NULL;                                                                     \
		(a)->n = 0;                                                                        \
		(a)->cap = 0;                                                                      \
		(a)->pool = (p);                                                                   \
	} while (0)

#define array_reserve(a, need)                                                                     \
	array_reserve_((void **)&(a)->v, &(a)->cap, (need), sizeof(*(a)->v), (a)->pool)

#define array_push(a, x)                                                                           \
	do {                                                                                       \
		array_reserve((a), (a)->n + 1);                                                    \
		(a)->v[(a)->n++] = (x);                                                            \
	} while (0)

/* Appends one zeroed element and evaluates to a pointer to it. */
#define array_push_new(a)                                                                          \
	(array_reserve((a), (a)->n + 1), memset(&(a)->v[(a)->n], 0, sizeof(*(a)->v)),              \
		&(a)->v[(a)->n++])

/* Removes element i, keeping order. */
#define array_delete(a, i)                                                                         \
	do {                                                                                       \
		size_t array_i_ = (i);                                                             \
		memmove(&(a)->v[array_i_], &(a)->v[array_i_ + 1],                                  \
			((a)->n - array_i_ - 1) * sizeof(*(a)->v));                                \
		(a)->n--;                                                                          \
	} while (0)

#define array_clear(a) ((a)->n = 0)
#define array_free(a)                                                                              \
	do {                                                                                       \
		array_free_((void **)&(a)->v, &(a)->cap, (a)->pool);                               \
		(a)->n = 0;                                                                        \
	} while (0)

#endif
