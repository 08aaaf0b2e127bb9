#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

static void test_heap_append(void **state)
{
	struct buf b;
	buf_init(&b, NULL);
	assert_string_equal(buf_cstr(&b), "");
	buf_append_str(&b, "abc");
	buf_append(&b, "\0x", 2);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "abc\0x", 5);
	assert_int_equal(b.data[5], 0); /* terminator kept */
	buf_printf(&b, "%d", 12345);
	assert_int_equal(b.len, 10);
	buf_consume(&b, 4);
	assert_memory_equal(b.data, "x12345", 6);
	buf_truncate(&b, 100);
	assert_int_equal(b.len, 6);
	buf_truncate(&b, 1);
	assert_string_equal(buf_cstr(&b), "x");
	char *s = buf_steal(&b);
	assert_string_equal(s, "x");
	free(s);
	assert_int_equal(b.len, 0);
	buf_deinit(&b);
}

static void test_pool_buf_large_printf(void **state)
{
	pool_t *p = pool_new("t", 0);
	struct buf *b = buf_new(p, 0);
	for (int i = 0; i < 1000; i++)
		buf_printf(b, "%04d,", i);
	assert_int_equal(b->len, 5000);
	assert_memory_equal(b->data + 4995, "0999,", 5);
	buf_printf(b, "%3000s", "");
	assert_int_equal(b->len, 8000);
	pool_free(&p);
}

static void test_le_ints(void **state)
{
	struct buf b;
	buf_init(&b, NULL);
	buf_append_u16le(&b, 0x0102);
	buf_append_u32le(&b, 0x03040506);
	buf_append_u64le(&b, 0x0708090a0b0c0d0eULL);
	static const unsigned char want[] = {2, 1, 6, 5, 4, 3, 0xe, 0xd, 0xc, 0xb, 0xa, 9, 8, 7};
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	unsigned char *sp = buf_append_space(&b, 3);
	assert_int_equal(sp[0] | sp[1] | sp[2], 0);
	buf_append_fill(&b, 'z', 4);
	assert_memory_equal(b.data + b.len - 4, "zzzz", 4);
	buf_deinit(&b);
}

static void test_self_append(void **state)
{
	/* Appending a buffer's own bytes while it grows must not read freed memory. */
	struct buf b;
	buf_init(&b, NULL);
	buf_append_str(&b, "0123456789");
	for (int i = 0; i < 10; i++)
		buf_append(&b, b.data, b.len);
	assert_int_equal(b.len, 10 * 1024);
	assert_memory_equal(b.data + 10230, "0123456789", 10);
	buf_deinit(&b);
}

static void test_slices(void **state)
{
	pool_t *p = pool_new("t", 0);
	struct slice s = SLICE_LIT("  Hello World \r\n");
	struct slice t = slice_trim(s);
	assert_true(slice_eq_str(t, "Hello World"));
	assert_true(slice_case_eq_str(t, "hello world"));
	assert_false(slice_case_eq_str(t, "hello worl"));
	assert_true(slice_starts_with(t, "Hello"));
	assert_true(slice_case_starts_with(t, "HELLO"));
	assert_false(slice_starts_with(SLICE_LIT("He"), "Hello"));
	assert_int_equal(slice_find(t, SLICE_LIT("World")), 6);
	assert_int_equal(slice_find(t, SLICE_LIT("xyz")), -1);
	assert_int_equal(slice_find(SLICE_LIT("ab"), SLICE_LIT("abc")), -1);
	assert_string_equal(slice_dup(p, t), "Hello World");
	assert_true(slice_eq(SLICE_LIT(""), SLICE(NULL, 0)));
	assert_true(slice_trim(SLICE_LIT("   ")).len == 0);
	pool_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heap_append),
		cmocka_unit_test(test_pool_buf_large_printf),
		cmocka_unit_test(test_le_ints),
		cmocka_unit_test(test_self_append),
		cmocka_unit_test(test_slices),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
