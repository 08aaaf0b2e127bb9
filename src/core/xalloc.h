/* Allocation that never returns NULL: hermod aborts on memory exhaustion
 * rather than branching at every call site (STYLE.md, Memory). */
#ifndef CORE_XALLOC_H
#define CORE_XALLOC_H

#include <stddef.h>

/* Each returns valid memory or aborts the process with a message. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
/* printf into a fresh heap string; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Multiplies two sizes, aborting on overflow. */
size_t xmul(size_t a, size_t b);
/* Adds two sizes, aborting on overflow. */
size_t xadd(size_t a, size_t b);

#endif
