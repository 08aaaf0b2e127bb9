#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/base64.h"

/* RFC 4648 section 10 test vectors. */
static const char *const vec[][2] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
	{"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};

static void test_vectors(void **state)
{
	struct buf b;
	buf_init(&b, NULL);
	for (size_t i = 0; i < 7; i++) {
		buf_reset(&b);
		base64_encode(vec[i][0], strlen(vec[i][0]), &b);
		assert_string_equal(buf_cstr(&b), vec[i][1]);
		assert_int_equal(b.len, base64_encoded_len(strlen(vec[i][0])));
		buf_reset(&b);
		assert_int_equal(base64_decode(vec[i][1], strlen(vec[i][1]), &b), 0);
		assert_int_equal(b.len, strlen(vec[i][0]));
		assert_memory_equal(b.data, vec[i][0], b.len);
	}
	buf_deinit(&b);
}

static void test_whitespace_and_binary(void **state)
{
	struct buf b;
	buf_init(&b, NULL);
	assert_int_equal(base64_decode("Zm9v\r\nYmFy\n", 11, &b), 0);
	assert_string_equal(buf_cstr(&b), "foobar");
	unsigned char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	struct buf e;
	buf_init(&e, NULL);
	base64_encode(all, 256, &e);
	buf_reset(&b);
	assert_int_equal(base64_decode(e.data, e.len, &b), 0);
	assert_memory_equal(b.data, all, 256);
	buf_deinit(&b);
	buf_deinit(&e);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {"Zg", "Zg=", "Z===", "Zm9v=", "Zg==Zg==", "Zm9*",
		"Zh==", /* non-zero padding bits */
		"Zm9=", /* non-zero padding bits */
		"=", "Zm\x80v"};
	struct buf b;
	buf_init(&b, NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&b);
		if (base64_decode(bad[i], strlen(bad[i]), &b) == 0)
			fail_msg("accepted %s", bad[i]);
	}
	buf_deinit(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_whitespace_and_binary),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
