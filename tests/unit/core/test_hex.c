#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/hex.h"

static void test_hex(void **state)
{
	struct buf b;
	buf_init(&b, NULL);
	hex_encode("\x00\xab\xff", 3, 0, &b);
	assert_string_equal(buf_cstr(&b), "00abff");
	buf_reset(&b);
	hex_encode("\x00\xab\xff", 3, 1, &b);
	assert_string_equal(buf_cstr(&b), "00ABFF");
	buf_reset(&b);
	assert_int_equal(hex_decode("00aBfF", 6, &b), 0);
	assert_memory_equal(b.data, "\x00\xab\xff", 3);
	assert_int_equal(hex_decode("abc", 3, &b), -1);
	assert_int_equal(hex_decode("zz", 2, &b), -1);
	assert_int_equal(hex_decode("0g", 2, &b), -1);
	assert_int_equal(hex_digit('F'), 15);
	assert_int_equal(hex_digit('/'), -1);
	buf_deinit(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
