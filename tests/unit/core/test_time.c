#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/hm_time.h"

static void test_filetime(void **state)
{
	assert_true(time_unix_to_filetime(0, 0) == 116444736000000000ULL);
	/* 2026-11-24T00:00:00Z */
	int64_t t = time_from_civil(2026, 11, 24, 0, 0, 0);
	uint64_t ft = time_unix_to_filetime(t, 123456700);
	uint32_t ns;
	assert_true(time_filetime_to_unix(ft, &ns) == t);
	assert_int_equal(ns, 123456700);
	assert_true(time_unix_to_filetime(-11644473600LL - 1, 0) == 0); /* before 1601 */
	assert_true(time_filetime_to_unix(0, NULL) == -11644473600LL);
	assert_true(time_filetime_now() > 133000000000000000ULL);
}

static void test_civil(void **state)
{
	assert_true(time_from_civil(1970, 1, 1, 0, 0, 0) == 0);
	assert_true(time_from_civil(2000, 2, 29, 12, 0, 0) == 951825600);
	assert_true(time_from_civil(1601, 1, 1, 0, 0, 0) == -11644473600LL);
	int y, mo, d, h, mi, s, wd;
	time_to_civil(951825600, &y, &mo, &d, &h, &mi, &s, &wd);
	assert_int_equal(y, 2000);
	assert_int_equal(mo, 2);
	assert_int_equal(d, 29);
	assert_int_equal(h, 12);
	assert_int_equal(wd, 2); /* Tuesday */
	time_to_civil(-1, &y, &mo, &d, &h, &mi, &s, &wd);
	assert_int_equal(y, 1969);
	assert_int_equal(mo, 12);
	assert_int_equal(d, 31);
	assert_int_equal(s, 59);
	assert_int_equal(wd, 3);
}

static void test_rfc5322_format(void **state)
{
	char out[TIME_RFC5322_MAX];
	int64_t t = time_from_civil(2026, 11, 24, 9, 5, 7);
	assert_string_equal(time_format_rfc5322(t, 60, out), "Tue, 24 Nov 2026 10:05:07 +0100");
	assert_string_equal(time_format_rfc5322(t, -330, out), "Tue, 24 Nov 2026 03:35:07 -0530");
}

static void expect_parse(const char *s, int64_t want, int want_tz)
{
	int64_t t;
	int tz;
	if (time_parse_rfc5322(s, &t, &tz) != 0)
		fail_msg("did not parse: %s", s);
	if (t != want)
		fail_msg("%s: got %lld want %lld", s, (long long)t, (long long)want);
	assert_int_equal(tz, want_tz);
}

static void test_rfc5322_parse(void **state)
{
	int64_t base = time_from_civil(2026, 11, 24, 9, 5, 7);
	expect_parse("Tue, 24 Nov 2026 10:05:07 +0100", base, 60);
	expect_parse("24 Nov 2026 09:05:07 +0000", base, 0);
	expect_parse("Tue, 24 Nov 2026 09:05:07 GMT", base, 0);
	expect_parse("Tue, 24 Nov 2026 01:05:07 PST", base, -480);
	expect_parse("  Tue (comment (nested)),  24  Nov  2026  09:05:07  +0000 (UTC)", base, 0);
	expect_parse("Tue, 24 nov 26 09:05:07 +0000", base, 0);           /* 2-digit year */
	expect_parse("Tue, 24 Nov 126 09:05:07 +0000", base - 0, 0);       /* 3-digit year: 2026 */
	expect_parse("Tue, 24 Nov 2026 09:05 +0000", base - 7, 0);        /* no seconds */
	expect_parse("24-Nov-2026 09:05:07 +0000", base, 0);
	expect_parse("Tue, 24 Nov 2026 09:05:07 Z", base, 0);
	expect_parse("Tue, 24 Nov 2026 09:05:07", base, 0); /* no zone */
	expect_parse("1 Jan 99 00:00:00 +0000", time_from_civil(1999, 1, 1, 0, 0, 0), 0);
}

static void test_rfc5322_reject(void **state)
{
	static const char *const bad[] = {"", "garbage", "Tue, 32 Nov 2026 10:00:00 +0000",
		"Tue, 31 Nov 2026 10:00:00 +0000", "Tue, 24 Foo 2026 10:00:00 +0000",
		"Tue, 24 Nov 2026 24:00:00 +0000", "Tue, 24 Nov 2026 10:60:00 +0000",
		"Tue, 24 Nov 2026 10:00:00 +01", "Tue, 24 Nov 2026 10:00:00 +0199",
		"Tue, 24 Nov 2026 10:00:00 Mars", "Tue, 24 Nov 20267 10:00:00 +0000",
		"Tue, 24 Nov 2026 10", "(unterminated comment"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t t;
		if (time_parse_rfc5322(bad[i], &t, NULL) == 0)
			fail_msg("accepted: %s", bad[i]);
	}
}

static void test_iso8601(void **state)
{
	char out[TIME_ISO8601_MAX];
	int64_t t = time_from_civil(2026, 11, 24, 9, 5, 7);
	assert_string_equal(time_format_iso8601(t, -1, out), "2026-11-24T09:05:07Z");
	assert_string_equal(time_format_iso8601(t, 45, out), "2026-11-24T09:05:07.045Z");
	int64_t r;
	assert_int_equal(time_parse_iso8601("2026-11-24T09:05:07Z", &r), 0);
	assert_true(r == t);
	assert_int_equal(time_parse_iso8601("2026-11-24T10:05:07.999+01:00", &r), 0);
	assert_true(r == t);
	assert_int_equal(time_parse_iso8601("2026-11-24T04:05:07-0500", &r), 0);
	assert_true(r == t);
	assert_int_equal(time_parse_iso8601("2026-11-24T09:05:07", &r), 0);
	assert_true(r == t);
	assert_int_equal(time_parse_iso8601("2026-11-24", &r), 0);
	assert_true(r == time_from_civil(2026, 11, 24, 0, 0, 0));
	static const char *const bad[] = {"", "2026", "2026-13-01", "2026-11-24T25:00:00Z",
		"2026-11-24T09:05:07Q", "2026-11-24T09:05:07.Z", "26-11-24", "2026-11-24T09"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (time_parse_iso8601(bad[i], &r) == 0)
			fail_msg("accepted: %s", bad[i]);
}

static void test_mono(void **state)
{
	uint64_t a = time_mono_us();
	uint64_t b = time_mono_us();
	assert_true(b >= a);
	assert_true(time_mono_ms() > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filetime),
		cmocka_unit_test(test_civil),
		cmocka_unit_test(test_rfc5322_format),
		cmocka_unit_test(test_rfc5322_parse),
		cmocka_unit_test(test_rfc5322_reject),
		cmocka_unit_test(test_iso8601),
		cmocka_unit_test(test_mono),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
