#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/pool.h"

static void test_alloc_zeroed_aligned(void **state)
{
	pool_t *p = pool_new("t", 64);
	for (int i = 1; i < 200; i++) {
		unsigned char *m = pool_alloc(p, (size_t)i);
		assert_true(((uintptr_t)m % _Alignof(max_align_t)) == 0);
		for (int j = 0; j < i; j++)
			assert_int_equal(m[j], 0);
		memset(m, 0xab, (size_t)i);
	}
	pool_free(&p);
	assert_null(p);
}

static void test_big_alloc(void **state)
{
	pool_t *p = pool_new("t", 128);
	char *small = pool_strdup(p, "before");
	char *big = pool_alloc(p, 1 << 20);
	memset(big, 1, 1 << 20);
	char *after = pool_strdup(p, "after");
	assert_string_equal(small, "before");
	assert_string_equal(after, "after");
	assert_true(pool_used(p) >= (1 << 20));
	pool_free(&p);
}

static void test_strings(void **state)
{
	pool_t *p = pool_new("t", 0);
	assert_string_equal(pool_strndup(p, "abcdef", 3), "abc");
	assert_string_equal(pool_strndup(p, "ab", 10), "ab");
	assert_string_equal(pool_printf(p, "%d-%s", 42, "x"), "42-x");
	assert_null(pool_strdup(p, NULL));
	char *long_s = pool_printf(p, "%5000d", 1);
	assert_int_equal(strlen(long_s), 5000);
	pool_free(&p);
}

static void test_realloc_grows_in_place_and_copies(void **state)
{
	pool_t *p = pool_new("t", 1024);
	char *a = pool_alloc(p, 16);
	strcpy(a, "hello");
	char *b = pool_realloc(p, a, 16, 64);
	assert_ptr_equal(a, b); /* last allocation grows in place */
	assert_string_equal(b, "hello");
	(void)pool_alloc(p, 8);
	char *c = pool_realloc(p, b, 64, 4096);
	assert_ptr_not_equal(b, c);
	assert_string_equal(c, "hello");
	assert_int_equal(c[4000], 0);
	pool_free(&p);
}

static int cleanup_order[4];
static int cleanup_n;
static void record(void *ctx)
{
	cleanup_order[cleanup_n++] = (int)(intptr_t)ctx;
}

static void test_cleanups_reverse_order(void **state)
{
	pool_t *p = pool_new("t", 0);
	cleanup_n = 0;
	pool_add_cleanup(p, record, (void *)1);
	pool_add_cleanup(p, record, (void *)2);
	pool_add_cleanup(p, record, (void *)3);
	assert_int_equal(pool_remove_cleanup(p, record, (void *)2), 1);
	assert_int_equal(pool_remove_cleanup(p, record, (void *)9), 0);
	pool_clear(p);
	assert_int_equal(cleanup_n, 2);
	assert_int_equal(cleanup_order[0], 3);
	assert_int_equal(cleanup_order[1], 1);
	assert_int_equal(pool_used(p), 0);
	pool_add_cleanup(p, record, (void *)4);
	pool_free(&p);
	assert_int_equal(cleanup_n, 3);
	assert_int_equal(cleanup_order[2], 4);
	pool_free(&p); /* NULL is fine */
}

static void test_clear_reuses(void **state)
{
	pool_t *p = pool_new("t", 256);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 1000; i++)
			(void)pool_alloc(p, 100);
		pool_clear(p);
	}
	char *s = pool_strdup(p, "still works");
	assert_string_equal(s, "still works");
	pool_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_zeroed_aligned),
		cmocka_unit_test(test_big_alloc),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_realloc_grows_in_place_and_copies),
		cmocka_unit_test(test_cleanups_reverse_order),
		cmocka_unit_test(test_clear_reuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
