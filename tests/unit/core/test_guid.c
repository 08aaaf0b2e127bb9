#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/guid.h"

static void test_wire_order(void **state)
{
	/* PS_PUBLIC_STRINGS {00020329-0000-0000-C000-000000000046} (MS-OXPROPS 1.3.2):
	 * on the wire Data1..Data3 are little-endian. */
	struct guid g;
	assert_int_equal(guid_parse("{00020329-0000-0000-C000-000000000046}", &g), 0);
	static const uint8_t wire[16] = {0x29, 0x03, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};
	assert_memory_equal(g.b, wire, 16);
	char s[GUID_STR_LEN + 1];
	assert_string_equal(guid_format(&g, s), "00020329-0000-0000-c000-000000000046");
	static const uint8_t d4[8] = {0xc0, 0, 0, 0, 0, 0, 0, 0x46};
	struct guid m = guid_make(0x00020329, 0, 0, d4);
	assert_true(guid_eq(&m, &g));
}

static void test_generate_unique_v4(void **state)
{
	struct guid a, b;
	guid_generate(&a);
	guid_generate(&b);
	assert_false(guid_eq(&a, &b));
	assert_false(guid_is_null(&a));
	char s[GUID_STR_LEN + 1];
	guid_format(&a, s);
	assert_int_equal(s[14], '4');
	assert_true(strchr("89ab", s[19]) != NULL);
	struct guid c;
	assert_int_equal(guid_parse(s, &c), 0);
	assert_true(guid_eq(&a, &c));
}

static void test_parse_rejects(void **state)
{
	struct guid g;
	static const char *const bad[] = {"", "{}", "00020329-0000-0000-C000-00000000004",
		"00020329-0000-0000-C000-0000000000467", "00020329x0000-0000-C000-000000000046",
		"0002032g-0000-0000-C000-000000000046", "{00020329-0000-0000-C000-000000000046",
		"00020329-0000-0000-C000-000000000046}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (guid_parse(bad[i], &g) == 0)
			fail_msg("accepted: %s", bad[i]);
	struct guid z = {{0}};
	assert_true(guid_is_null(&z));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_order),
		cmocka_unit_test(test_generate_unique_v4),
		cmocka_unit_test(test_parse_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
