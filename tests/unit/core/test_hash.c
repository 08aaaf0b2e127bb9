#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/hash.h"

static void test_put_get_del(void **state)
{
	struct hash *h = hash_new(0);
	char key[32];
	for (intptr_t i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "key-%ld", (long)i);
		assert_true(hash_put_str(h, key, (void *)(i + 1)));
	}
	assert_int_equal(hash_count(h), 20000);
	for (intptr_t i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "key-%ld", (long)i);
		assert_ptr_equal(hash_get_str(h, key), (void *)(i + 1));
	}
	/* Delete every other key; the rest must stay reachable (backward shift). */
	for (intptr_t i = 0; i < 20000; i += 2) {
		snprintf(key, sizeof(key), "key-%ld", (long)i);
		void *v;
		assert_true(hash_del(h, key, strlen(key), &v));
		assert_ptr_equal(v, (void *)(i + 1));
	}
	assert_int_equal(hash_count(h), 10000);
	for (intptr_t i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "key-%ld", (long)i);
		bool found;
		void *v = hash_get(h, key, strlen(key), &found);
		assert_int_equal(found, i % 2 == 1);
		if (found)
			assert_ptr_equal(v, (void *)(i + 1));
	}
	assert_false(hash_del(h, "nope", 4, NULL));
	hash_free(&h);
	assert_null(h);
}

static void test_replace_and_binary_keys(void **state)
{
	struct hash *h = hash_new(4);
	void *old = NULL;
	assert_true(hash_put(h, "a\0b", 3, (void *)1, NULL));
	assert_true(hash_put(h, "a\0c", 3, (void *)2, NULL));
	assert_false(hash_put(h, "a\0b", 3, (void *)3, &old));
	assert_ptr_equal(old, (void *)1);
	assert_ptr_equal(hash_get(h, "a\0b", 3, NULL), (void *)3);
	assert_null(hash_get(h, "a", 1, NULL));
	/* NULL values are distinguishable from missing keys. */
	bool found;
	hash_put(h, "", 0, NULL, NULL);
	assert_null(hash_get(h, "", 0, &found));
	assert_true(found);
	hash_free(&h);
}

static void test_iterate(void **state)
{
	struct hash *h = hash_new(0);
	for (intptr_t i = 0; i < 100; i++) {
		char k[8];
		snprintf(k, sizeof(k), "%ld", (long)i);
		hash_put_str(h, k, (void *)i);
	}
	struct hash_iter it;
	hash_iter_init(&it);
	intptr_t sum = 0;
	int n = 0;
	while (hash_iter_next(h, &it)) {
		sum += (intptr_t)it.value;
		n++;
	}
	assert_int_equal(n, 100);
	assert_int_equal(sum, 4950);
	hash_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_del),
		cmocka_unit_test(test_replace_and_binary_keys),
		cmocka_unit_test(test_iterate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
