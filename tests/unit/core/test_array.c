#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/array.h"

struct item {
	int a;
	double b;
};

static void test_heap_array(void **state)
{
	ARRAY(int) a;
	array_init(&a, NULL);
	for (int i = 0; i < 10000; i++)
		array_push(&a, i);
	assert_int_equal(a.n, 10000);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(a.v[i], i);
	array_delete(&a, 0);
	array_delete(&a, a.n - 1);
	assert_int_equal(a.n, 9998);
	assert_int_equal(a.v[0], 1);
	assert_int_equal(a.v[a.n - 1], 9998);
	array_clear(&a);
	assert_int_equal(a.n, 0);
	array_free(&a);
	assert_null(a.v);
}

static void test_pool_array_structs(void **state)
{
	pool_t *p = pool_new("t", 0);
	ARRAY(struct item) a;
	array_init(&a, p);
	for (int i = 0; i < 1000; i++) {
		struct item *it = array_push_new(&a);
		assert_int_equal(it->a, 0);
		it->a = i;
		it->b = i / 2.0;
	}
	assert_int_equal(a.v[999].a, 999);
	assert_true(a.v[10].b == 5.0);
	pool_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heap_array),
		cmocka_unit_test(test_pool_array_structs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
