#include "core/array.h"

#include <stdlib.h>

#include "core/xalloc.h"

void array_reserve_(void **v, size_t *cap, size_t need, size_t elem_size, pool_t *pool)
{
	if (need <= *cap)
		return;
	size_t ncap = *cap ? *cap : 8;
	while (ncap < need)
		ncap = xmul(ncap, 2);
	if (pool == NULL)
		*v = xrealloc(*v, xmul(ncap, elem_size));
	else
		*v = pool_realloc(pool, *v, xmul(*cap, elem_size), xmul(ncap, elem_size));
	*cap = ncap;
}

void array_free_(void **v, size_t *cap, pool_t *pool)
{
	if (pool == NULL)
		free(*v);
	*v = NULL;
	*cap = 0;
}
