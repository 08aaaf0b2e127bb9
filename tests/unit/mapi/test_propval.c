/* Property values: copy, compare (table order), size, format, value sets. */
/* Tests assign string literals to value unions (char *) for brevity. */
#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "mapi/namedprop.h"
#include "mapi/propval.h"
#include "mapi/restriction.h"
#include "mapi/tags.h"

static pool_t *pool;

static int setup(void **state)
{
	pool = pool_new("test", 0);
	return 0;
}

static int teardown(void **state)
{
	pool_free(&pool);
	return 0;
}

static void test_copy_is_deep(void **state)
{
	char text[] = "hello";
	uint8_t bytes[] = {1, 2, 3};
	char *strs[] = {text, NULL};
	struct mapi_binary bins[] = {{3, bytes}, {0, NULL}};
	struct guid g;
	union mapi_pvalue src, dst;

	src.str = text;
	assert_int_equal(mapi_pvalue_copy(pool, PT_UNICODE, &dst, &src), 0);
	text[0] = 'j';
	assert_string_equal(dst.str, "hello");
	src.bin = (struct mapi_binary){3, bytes};
	assert_int_equal(mapi_pvalue_copy(pool, PT_BINARY, &dst, &src), 0);
	bytes[0] = 9;
	assert_int_equal(dst.bin.pb[0], 1);
	assert_int_equal(dst.bin.cb, 3);
	src.mv.count = 2;
	src.mv.str = strs;
	assert_int_equal(mapi_pvalue_copy(pool, PT_MV_UNICODE, &dst, &src), 0);
	assert_ptr_not_equal(dst.mv.str, strs);
	assert_string_equal(dst.mv.str[0], "jello");
	assert_null(dst.mv.str[1]);
	src.mv.count = 2;
	src.mv.bin = bins;
	assert_int_equal(mapi_pvalue_copy(pool, PT_MV_BINARY, &dst, &src), 0);
	assert_ptr_not_equal(dst.mv.bin[0].pb, bytes);
	assert_int_equal(dst.mv.bin[1].cb, 0);
	guid_generate(&g);
	src.guid = &g;
	assert_int_equal(mapi_pvalue_copy(pool, PT_CLSID, &dst, &src), 0);
	assert_ptr_not_equal(dst.guid, &g);
	assert_true(guid_eq(dst.guid, &g));
	/* Empty MV arrays and zero-length binaries copy to empty values. */
	src.mv.count = 0;
	src.mv.l = NULL;
	assert_int_equal(mapi_pvalue_copy(pool, PT_MV_LONG, &dst, &src), 0);
	assert_int_equal(dst.mv.count, 0);
	/* No value representation: refused, zeroed. */
	assert_int_equal(mapi_pvalue_copy(pool, PT_UNSPECIFIED, &dst, &src), -1);
	assert_int_equal(mapi_pvalue_copy(pool, 0x0099, &dst, &src), -1);
	assert_int_equal(mapi_pvalue_copy(pool, PT_NULL, &dst, &src), 0);
}

static void test_copy_restriction_value(void **state)
{
	struct mapi_restriction child = {.type = RES_EXIST, .exist = {PR_SUBJECT}};
	struct mapi_restriction top = {.type = RES_NOT, .not_ = {&child}};
	union mapi_pvalue src = {.res = &top}, dst;
	struct buf b;

	assert_int_equal(mapi_pvalue_copy(pool, PT_SRESTRICTION, &dst, &src), 0);
	assert_ptr_not_equal(dst.res, &top);
	assert_ptr_not_equal(dst.res->not_.res, &child);
	buf_init(&b, NULL);
	mapi_pvalue_format(PT_SRESTRICTION, &dst, 0, &b);
	assert_string_equal(buf_cstr(&b), "(NOT (EXIST PR_SUBJECT))");
	buf_deinit(&b);
}

static int cmp(uint16_t type, union mapi_pvalue a, union mapi_pvalue b, unsigned flags)
{
	return mapi_pvalue_compare(type, &a, &b, flags);
}

static void test_compare(void **state)
{
	union mapi_pvalue a, b;

	assert_true(cmp(PT_LONG, (union mapi_pvalue){.l = -5}, (union mapi_pvalue){.l = 3}, 0) < 0);
	assert_true(cmp(PT_SHORT, (union mapi_pvalue){.i = 7}, (union mapi_pvalue){.i = 7}, 0) == 0);
	assert_true(cmp(PT_I8, (union mapi_pvalue){.li = INT64_MAX},
			    (union mapi_pvalue){.li = INT64_MIN}, 0) > 0);
	assert_true(cmp(PT_SYSTIME, (union mapi_pvalue){.ft = 1}, (union mapi_pvalue){.ft = 2}, 0) < 0);
	assert_true(cmp(PT_BOOLEAN, (union mapi_pvalue){.b = false}, (union mapi_pvalue){.b = true},
			    0) < 0);
	assert_true(cmp(PT_CURRENCY, (union mapi_pvalue){.cur = -1}, (union mapi_pvalue){.cur = 0},
			    0) < 0);
	/* NaN sorts after every number and equals itself. */
	assert_true(cmp(PT_DOUBLE, (union mapi_pvalue){.dbl = NAN}, (union mapi_pvalue){.dbl = 1e300},
			    0) > 0);
	assert_true(cmp(PT_DOUBLE, (union mapi_pvalue){.dbl = NAN}, (union mapi_pvalue){.dbl = NAN},
			    0) == 0);
	assert_true(cmp(PT_FLOAT, (union mapi_pvalue){.flt = -0.5f}, (union mapi_pvalue){.flt = 0.25f},
			    0) < 0);
	/* Strings: code point order; case folding optional, also beyond ASCII. */
	a.str = "apple";
	b.str = "Banana";
	assert_true(cmp(PT_UNICODE, a, b, 0) > 0);
	assert_true(cmp(PT_UNICODE, a, b, MAPI_CMP_IGNORECASE) < 0);
	a.str = "ÄRGER";
	b.str = "ärger";
	assert_true(cmp(PT_UNICODE, a, b, 0) != 0);
	assert_true(cmp(PT_UNICODE, a, b, MAPI_CMP_IGNORECASE) == 0);
	a.str = "Ωmega";
	b.str = "ωMEGA";
	assert_true(cmp(PT_STRING8, a, b, MAPI_CMP_IGNORECASE) == 0);
	a.str = "ab";
	b.str = "abc";
	assert_true(cmp(PT_UNICODE, a, b, 0) < 0);
	a.str = NULL;
	b.str = "";
	assert_true(cmp(PT_UNICODE, a, b, 0) == 0);
	/* Invalid UTF-8 does not crash and orders after valid text. */
	a.str = "\xff";
	b.str = "z";
	assert_true(cmp(PT_UNICODE, a, b, MAPI_CMP_IGNORECASE) > 0);
	/* Binaries: bytes, then length. */
	a.bin = (struct mapi_binary){2, (uint8_t *)"\x01\x02"};
	b.bin = (struct mapi_binary){3, (uint8_t *)"\x01\x02\x00"};
	assert_true(cmp(PT_BINARY, a, b, 0) < 0);
	b.bin = (struct mapi_binary){1, (uint8_t *)"\x02"};
	assert_true(cmp(PT_BINARY, a, b, 0) < 0);
	b.bin = (struct mapi_binary){0, NULL};
	assert_true(cmp(PT_BINARY, a, b, 0) > 0);
	/* Multi-valued: element-wise, then count. */
	int32_t l1[] = {1, 2}, l2[] = {1, 2, 0}, l3[] = {1, 3};
	a.mv = (struct mapi_mv){.count = 2, .l = l1};
	b.mv = (struct mapi_mv){.count = 3, .l = l2};
	assert_true(cmp(PT_MV_LONG, a, b, 0) < 0);
	b.mv = (struct mapi_mv){.count = 2, .l = l3};
	assert_true(cmp(PT_MV_LONG, a, b, 0) < 0);
	assert_true(mapi_pvalue_equal(PT_MV_LONG, &a, &a, 0));
	/* GUIDs byte-wise. */
	struct guid g1, g2;
	assert_int_equal(guid_parse("00000001-0000-0000-0000-000000000000", &g1), 0);
	assert_int_equal(guid_parse("00000000-0000-0000-0000-000000000001", &g2), 0);
	a.guid = &g1;
	b.guid = &g2;
	assert_true(cmp(PT_CLSID, a, b, 0) > 0);
}

static void test_size(void **state)
{
	union mapi_pvalue v;

	v.l = 1;
	assert_int_equal(mapi_pvalue_size(PT_LONG, &v), 4);
	assert_int_equal(mapi_pvalue_size(PT_I8, &v), 8);
	assert_int_equal(mapi_pvalue_size(PT_BOOLEAN, &v), 1);
	assert_int_equal(mapi_pvalue_size(PT_SHORT, &v), 2);
	v.str = "abc";
	assert_int_equal(mapi_pvalue_size(PT_UNICODE, &v), 8);
	assert_int_equal(mapi_pvalue_size(PT_STRING8, &v), 4);
	v.str = "\xf0\x9f\x98\x80"; /* U+1F600: a surrogate pair */
	assert_int_equal(mapi_pvalue_size(PT_UNICODE, &v), 6);
	v.bin = (struct mapi_binary){5, (uint8_t *)"12345"};
	assert_int_equal(mapi_pvalue_size(PT_BINARY, &v), 5);
	char *strs[] = {"a", "bc"};
	v.mv = (struct mapi_mv){.count = 2, .str = strs};
	assert_int_equal(mapi_pvalue_size(PT_MV_UNICODE, &v), 4 + 6);
}

static void test_format(void **state)
{
	struct buf b;
	union mapi_pvalue v;

	buf_init(&b, NULL);
	v.str = "a\"b\n";
	mapi_pvalue_format(PT_UNICODE, &v, 0, &b);
	assert_string_equal(buf_cstr(&b), "\"a\\\"b\\n\"");
	buf_reset(&b);
	v.bin = (struct mapi_binary){4, (uint8_t *)"\xde\xad\xbe\xef"};
	mapi_pvalue_format(PT_BINARY, &v, 2, &b);
	assert_string_equal(buf_cstr(&b), "[4] dead...");
	buf_reset(&b);
	v.ft = 116444736000000000ULL; /* the Unix epoch */
	mapi_pvalue_format(PT_SYSTIME, &v, 0, &b);
	assert_string_equal(buf_cstr(&b), "1970-01-01T00:00:00.000Z");
	buf_reset(&b);
	v.err = ecNotFound;
	mapi_pvalue_format(PT_ERROR, &v, 0, &b);
	assert_string_equal(buf_cstr(&b), "ecNotFound (0x8004010f)");
	buf_reset(&b);
	v.cur = -12345;
	mapi_pvalue_format(PT_CURRENCY, &v, 0, &b);
	assert_string_equal(buf_cstr(&b), "-1.2345");
	buf_reset(&b);
	int16_t s[] = {1, -2};
	v.mv = (struct mapi_mv){.count = 2, .i = s};
	mapi_pvalue_format(PT_MV_SHORT, &v, 0, &b);
	assert_string_equal(buf_cstr(&b), "{1, -2}");
	buf_reset(&b);
	struct mapi_propval pv = {.tag = PR_SUBJECT, .v.str = "hi"};
	mapi_propval_format(&pv, 0, &b);
	assert_string_equal(buf_cstr(&b), "PR_SUBJECT = \"hi\"");
	buf_reset(&b);
	mapi_pvalue_format(0x0099, &v, 0, &b);
	assert_string_equal(buf_cstr(&b), "(type 0x0099)");
	buf_deinit(&b);
}

static void test_propvals(void **state)
{
	struct mapi_propvals set = {0}, copy;
	union mapi_pvalue v;

	mapi_propvals_set_str(pool, &set, PR_SUBJECT, "one");
	mapi_propvals_set_long(pool, &set, PR_MESSAGE_FLAGS, 4);
	mapi_propvals_set_bool(pool, &set, PR_READ, true);
	mapi_propvals_set_i8(pool, &set, PidTagMid, 77);
	mapi_propvals_set_bin(pool, &set, PR_SOURCE_KEY, "\x01\x02", 2);
	mapi_propvals_set_systime(pool, &set, PR_CREATION_TIME, 42);
	assert_int_equal(set.count, 6);
	assert_string_equal(mapi_propvals_get_str(&set, PR_SUBJECT), "one");
	/* The 8-bit tag finds the Unicode value. */
	assert_non_null(mapi_propvals_get(&set, PR_SUBJECT_A));
	assert_non_null(mapi_propvals_get(&set, PROP_TAG(PT_UNSPECIFIED, 0x0037)));
	assert_null(mapi_propvals_get(&set, PROP_TAG(PT_LONG, 0x0037)));
	assert_int_equal(mapi_propvals_get_long(&set, PR_MESSAGE_FLAGS, -1), 4);
	assert_int_equal(mapi_propvals_get_long(&set, PR_IMPORTANCE, -1), -1);
	assert_true(mapi_propvals_get_bool(&set, PR_READ, false));
	assert_int_equal(mapi_propvals_get_i8(&set, PidTagMid, 0), 77);
	assert_int_equal(mapi_propvals_get_bin(&set, PR_SOURCE_KEY)->cb, 2);
	/* Replacing by ID keeps one value, even with another type. */
	v.str = "two";
	assert_int_equal(mapi_propvals_set(pool, &set, PR_SUBJECT_A, &v), 0);
	assert_int_equal(set.count, 6);
	assert_string_equal(mapi_propvals_get_str(&set, PR_SUBJECT), "two");
	assert_int_equal(mapi_propvals_get(&set, PR_SUBJECT)->tag, PR_SUBJECT_A);
	/* Growth past the initial capacity. */
	for (uint16_t i = 0; i < 100; i++)
		mapi_propvals_set_long(pool, &set, PROP_TAG(PT_LONG, 0x8000 + i), i);
	assert_int_equal(set.count, 106);
	assert_int_equal(mapi_propvals_get_long(&set, PROP_TAG(PT_LONG, 0x8063), 0), 99);
	mapi_propvals_copy(pool, &copy, &set);
	assert_true(mapi_propvals_delete(&set, PR_SUBJECT));
	assert_false(mapi_propvals_delete(&set, PR_SUBJECT));
	assert_int_equal(set.count, 105);
	assert_null(mapi_propvals_get(&set, PR_SUBJECT));
	assert_int_equal(mapi_propvals_get_long(&set, PR_MESSAGE_FLAGS, -1), 4);
	assert_int_equal(copy.count, 106);
	assert_string_equal(mapi_propvals_get_str(&copy, PR_SUBJECT), "two");
	assert_int_equal(mapi_propvals_find_id(&copy, 0x0e07), 1);
	/* Unknown types cannot be set. */
	assert_int_equal(mapi_propvals_set(pool, &set, PROP_TAG(0x0099, 0x1234), &v), -1);
}

static void test_fold(void **state)
{
	struct buf b;

	buf_init(&b, NULL);
	mapi_utf8_fold("ÀÉÎ Straße ΣΑΣ \xff", strlen("ÀÉÎ Straße ΣΑΣ \xff"), &b);
	assert_string_equal(buf_cstr(&b), "àéî straße σασ \xff");
	buf_deinit(&b);
}

static void test_propnames(void **state)
{
	struct mapi_propname a = {.guid = PS_INTERNET_HEADERS, .kind = MNID_STRING,
		.name = "Content-Type"};
	struct mapi_propname b = {.guid = PS_INTERNET_HEADERS, .kind = MNID_STRING,
		.name = "content-type"};
	struct mapi_propname c = {.guid = PS_PUBLIC_STRINGS, .kind = MNID_STRING,
		.name = "Keywords"};
	struct mapi_propname d = {.guid = PS_PUBLIC_STRINGS, .kind = MNID_STRING,
		.name = "keywords"};
	struct mapi_propname l1 = {.guid = PSETID_Appointment, .kind = MNID_ID, .lid = 0x820d};
	struct mapi_propname l2 = {.guid = PSETID_Appointment, .kind = MNID_ID, .lid = 0x820e};
	struct buf k1, k2;

	/* Internet header names ignore case; others do not. */
	assert_true(mapi_propname_equal(&a, &b));
	assert_false(mapi_propname_equal(&c, &d));
	assert_true(mapi_propname_compare(&l1, &l2) < 0);
	assert_false(mapi_propname_equal(&l1, &c));
	buf_init(&k1, NULL);
	buf_init(&k2, NULL);
	mapi_propname_key(&a, &k1);
	mapi_propname_key(&b, &k2);
	assert_true(slice_eq(buf_slice(&k1), buf_slice(&k2)));
	buf_reset(&k1);
	buf_reset(&k2);
	mapi_propname_key(&c, &k1);
	mapi_propname_key(&d, &k2);
	assert_false(slice_eq(buf_slice(&k1), buf_slice(&k2)));
	buf_reset(&k1);
	mapi_propname_format(&l1, &k1);
	assert_string_equal(buf_cstr(&k1), "PSETID_Appointment:0x820d");
	buf_deinit(&k1);
	buf_deinit(&k2);
	const struct mapi_named_prop_def *def = mapi_np_lookup(&l1);
	assert_non_null(def);
	assert_string_equal(def->canonical, "PidLidAppointmentStartWhole");
	/* Lookup in the internet header set ignores case too. */
	struct mapi_propname hdr = {.guid = PS_INTERNET_HEADERS, .kind = MNID_STRING,
		.name = "CONTENT-TYPE"};
	assert_string_equal(mapi_np_lookup(&hdr)->canonical, "PidNameContentType");
	struct mapi_propname np = mapi_np_name(MAPI_NP_PidLidTaskDueDate);
	assert_true(guid_eq(&np.guid, &PSETID_Task));
	assert_int_equal(np.lid, 0x8105);
	/* Set names and GUIDs ([MS-OXPROPS] 1.3.2). */
	struct guid g;
	assert_int_equal(guid_parse("{6ED8DA90-450B-101B-98DA-00AA003F1305}", &g), 0);
	assert_string_equal(mapi_propset_name(&g), "PSETID_Meeting");
	assert_int_equal(guid_parse("{00020386-0000-0000-C000-000000000046}", &g), 0);
	assert_string_equal(mapi_propset_name(&g), "PS_INTERNET_HEADERS");
	assert_int_equal(guid_parse("{71035549-0739-4DCB-9163-00F0580DBBDF}", &g), 0);
	assert_ptr_equal(mapi_propset_by_name("PSETID_AirSync"), &PSETID_AirSync);
	assert_true(guid_eq(&g, &PSETID_AirSync));
	assert_int_equal(guid_parse("{41F28F13-83F4-4114-A584-EEDB5A6B0BFF}", &g), 0);
	assert_true(guid_eq(&g, &PSETID_Messaging));
	assert_int_equal(guid_parse("{4442858E-A9E3-4E80-B900-317A210CC15B}", &g), 0);
	assert_true(guid_eq(&g, &PSETID_UnifiedMessaging));
	assert_null(mapi_propset_by_name("PSETID_Nope"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_is_deep),
		cmocka_unit_test(test_copy_restriction_value),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_propvals),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_propnames),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
