#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/utf.h"

static void test_valid(void **state)
{
	assert_true(utf8_valid("", 0));
	assert_true(utf8_valid("plain ascii", 11));
	assert_true(utf8_valid("\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80", 9)); /* ä € 😀 */
	assert_true(utf8_valid("\xf4\x8f\xbf\xbf", 4));                   /* U+10FFFF */
	static const char *const bad[] = {
		"\x80",             /* lone continuation */
		"\xc0\xaf",         /* overlong / */
		"\xc1\xbf",         /* overlong */
		"\xe0\x80\xaf",     /* overlong 3-byte */
		"\xf0\x80\x80\xaf", /* overlong 4-byte */
		"\xed\xa0\x80",     /* surrogate D800 */
		"\xf4\x90\x80\x80", /* > U+10FFFF */
		"\xf5\x80\x80\x80", "\xff", "\xc3",  /* truncated */
		"\xe2\x82",         /* truncated */
		"\xc3\x28",         /* bad continuation */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (utf8_valid(bad[i], strlen(bad[i])))
			fail_msg("accepted bad sequence %zu", i);
	assert_int_equal(utf8_strlen("a\xc3\xa4\xf0\x9f\x98\x80", 7), 3);
}

static void test_roundtrip(void **state)
{
	const char *s = "Gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac \xf0\x9f\x98\x80 \xe6\x97\xa5";
	struct buf u16, u8;
	buf_init(&u16, NULL);
	buf_init(&u8, NULL);
	assert_int_equal(utf8_to_utf16le(s, strlen(s), &u16), 0);
	/* 😀 is a surrogate pair D83D DE00. */
	static const unsigned char pair[] = {0x3d, 0xd8, 0x00, 0xde};
	assert_non_null(memmem(u16.data, u16.len, pair, 4));
	assert_int_equal(utf16le_to_utf8(u16.data, u16.len, &u8), 0);
	assert_int_equal(u8.len, strlen(s));
	assert_memory_equal(u8.data, s, u8.len);
	buf_deinit(&u16);
	buf_deinit(&u8);
}

static void test_utf16_malformed(void **state)
{
	struct buf out;
	buf_init(&out, NULL);
	static const unsigned char lone_hi[] = {0x3d, 0xd8, 'a', 0};
	static const unsigned char lone_lo[] = {0x00, 0xde};
	static const unsigned char odd[] = {'a', 0, 'b'};
	assert_int_equal(utf16le_to_utf8(lone_hi, sizeof(lone_hi), &out), -1);
	assert_int_equal(utf16le_to_utf8(lone_lo, sizeof(lone_lo), &out), -1);
	assert_int_equal(utf16le_to_utf8(odd, sizeof(odd), &out), -1);
	buf_reset(&out);
	utf16le_to_utf8_lossy(lone_hi, sizeof(lone_hi), &out);
	assert_string_equal(buf_cstr(&out), "\xef\xbf\xbd" "a");
	buf_reset(&out);
	utf16le_to_utf8_lossy(odd, sizeof(odd), &out);
	assert_string_equal(buf_cstr(&out), "a\xef\xbf\xbd");
	buf_reset(&out);
	assert_int_equal(utf8_to_utf16le("\xff", 1, &out), -1);
	buf_reset(&out);
	utf8_to_utf16le_lossy("a\xffz", 3, &out);
	static const unsigned char want[] = {'a', 0, 0xfd, 0xff, 'z', 0};
	assert_int_equal(out.len, 6);
	assert_memory_equal(out.data, want, 6);
	buf_deinit(&out);
}

static void test_sanitize(void **state)
{
	struct buf out;
	buf_init(&out, NULL);
	utf8_sanitize("ok\xc3\x28 \xc3\xa4\xed\xa0\x80!", 11, &out);
	assert_string_equal(buf_cstr(&out), "ok\xef\xbf\xbd( \xc3\xa4\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!");
	assert_true(utf8_valid(out.data, out.len));
	buf_deinit(&out);
}

static void test_encode_decode(void **state)
{
	unsigned char e[4];
	uint32_t cp;
	for (uint32_t c = 0; c <= 0x10ffff; c += 0x101) {
		if (c >= 0xd800 && c <= 0xdfff)
			continue;
		int n = utf8_encode(c, e);
		assert_int_equal(utf8_decode(e, (size_t)n, &cp), n);
		assert_int_equal(cp, c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_utf16_malformed),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_encode_decode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
