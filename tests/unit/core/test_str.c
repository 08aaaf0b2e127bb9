#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/str.h"

static void test_case(void **state)
{
	assert_true(str_case_eq("INBOX", "inbox"));
	assert_false(str_case_eq("INBOX", "inbo"));
	assert_true(str_casecmp("a", "B") < 0);
	assert_int_equal(str_ncasecmp("HELLOx", "helloy", 5), 0);
	assert_true(str_starts_with("hello", "he"));
	assert_false(str_starts_with("he", "hello"));
	assert_true(str_case_starts_with("Hello", "HE"));
	assert_true(str_ends_with("file.eml", ".eml"));
	assert_false(str_ends_with("l", ".eml"));
	char s[] = "MiXeD";
	assert_string_equal(str_lower(s), "mixed");
	/* Non-ASCII bytes are not folded (no locale surprises). */
	assert_false(str_case_eq("\xc3\x84", "\xc3\xa4"));
}

static void test_numbers(void **state)
{
	uint64_t v;
	int64_t i;
	assert_int_equal(str_to_u64("0", 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(str_to_u64("18446744073709551615", UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(str_to_u64("18446744073709551616", UINT64_MAX, &v), -1);
	assert_int_equal(str_to_u64("11", 10, &v), -1);
	assert_int_equal(str_to_u64("10", 10, &v), 0);
	assert_int_equal(str_to_u64("", 10, &v), -1);
	assert_int_equal(str_to_u64("+1", 10, &v), -1);
	assert_int_equal(str_to_u64(" 1", 10, &v), -1);
	assert_int_equal(str_to_u64("1a", 10, &v), -1);
	assert_int_equal(str_to_u64_n("123xyz", 3, 1000, &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(str_to_i64("-9223372036854775808", &i), 0);
	assert_true(i == INT64_MIN);
	assert_int_equal(str_to_i64("9223372036854775808", &i), -1);
	assert_int_equal(str_to_i64("-", &i), -1);
}

static void test_lcpy_consteq(void **state)
{
	char d[4];
	assert_int_equal(str_lcpy(d, "abcdef", sizeof(d)), 6);
	assert_string_equal(d, "abc");
	assert_true(str_const_eq("abc", "abc", 3));
	assert_false(str_const_eq("abc", "abd", 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_case),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_lcpy_consteq),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
