#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "directory/password.h"

static void test_hash_verify(void **state)
{
	const char *err = NULL;
	char *h = directory_password_hash("correct horse", 1, &err);
	assert_non_null(h);
	assert_true(strncmp(h, "$y$", 3) == 0);
	assert_null(strstr(h, "correct"));
	assert_int_equal(directory_password_verify("correct horse", h), 1);
	assert_int_equal(directory_password_verify("correct horsE", h), 0);
	assert_int_equal(directory_password_verify("correct hors", h), 0);
	assert_int_equal(directory_password_verify("", h), 0);
	/* A fresh salt each time. */
	char *h2 = directory_password_hash("correct horse", 1, &err);
	assert_string_not_equal(h, h2);
	assert_int_equal(directory_password_verify("correct horse", h2), 1);
	free(h2);
	/* Cost 0 is the default cost. */
	h2 = directory_password_hash("x", 0, &err);
	assert_non_null(h2);
	assert_int_equal(directory_password_verify("x", h2), 1);
	free(h2);
	assert_null(directory_password_hash("x", DIRECTORY_HASH_COST_MAX + 1, &err));
	/* UTF-8 passwords hash as their bytes. */
	h2 = directory_password_hash("p\xc3\xa4ss", 1, &err);
	assert_int_equal(directory_password_verify("p\xc3\xa4ss", h2), 1);
	assert_int_equal(directory_password_verify("pass", h2), 0);
	free(h2);
	free(h);
}

static void test_verify_bad_hash(void **state)
{
	assert_int_equal(directory_password_verify("x", NULL), -1);
	assert_int_equal(directory_password_verify("x", ""), -1);
	assert_int_equal(directory_password_verify("x", "plaintext"), -1);
	assert_int_equal(directory_password_verify("x", "$y$"), -1);
	assert_int_equal(directory_password_verify("x", "$nonsense$abc"), -1);
	/* A truncated yescrypt hash must not match anything. */
	const char *err;
	char *h = directory_password_hash("x", 1, &err);
	h[strlen(h) - 5] = '\0';
	assert_true(directory_password_verify("x", h) <= 0);
	free(h);
}

static void test_check(void **state)
{
	const char *err;
	assert_int_equal(directory_password_check("a", &err), 0);
	assert_int_equal(directory_password_check("", &err), -1);
	assert_string_equal(err, "empty password");
	assert_int_equal(directory_password_check("\xff", &err), -1);
	char *big = malloc(DIRECTORY_PASSWORD_MAX + 2);
	memset(big, 'p', DIRECTORY_PASSWORD_MAX);
	big[DIRECTORY_PASSWORD_MAX] = '\0';
	assert_int_equal(directory_password_check(big, &err), 0);
	big[DIRECTORY_PASSWORD_MAX] = 'p';
	big[DIRECTORY_PASSWORD_MAX + 1] = '\0';
	assert_int_equal(directory_password_check(big, &err), -1);
	free(big);
}

static void test_generate(void **state)
{
	char a[21], b[21];
	directory_password_generate(a, 20);
	directory_password_generate(b, 20);
	assert_int_equal(strlen(a), 20);
	assert_string_not_equal(a, b);
	for (int i = 0; i < 20; i++) {
		assert_non_null(strchr("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789",
			a[i]));
	}
	/* Every symbol shows up over many draws (rejection sampling bias
	 * would not hide one, but a wrong alphabet bound would). */
	char big[4001];
	directory_password_generate(big, 4000);
	const char *alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	for (const char *p = alphabet; *p; p++)
		assert_non_null(strchr(big, *p));
	char one[2];
	directory_password_generate(one, 1);
	assert_int_equal(strlen(one), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_verify),
		cmocka_unit_test(test_verify_bad_hash),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_generate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
