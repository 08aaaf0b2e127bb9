#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "directory/sasl.h"

#define MSG(s) s, sizeof(s) - 1

static void test_parse(void **state)
{
	struct directory_sasl_plain m;
	const char *err;
	/* RFC 4616 section 4 examples. */
	assert_int_equal(directory_sasl_plain_parse(MSG("\0tim\0tanstaaftanstaaf"), &m, &err), 0);
	assert_int_equal(m.authzid.len, 0);
	assert_true(slice_eq_str(m.authcid, "tim"));
	assert_true(slice_eq_str(m.passwd, "tanstaaftanstaaf"));
	assert_int_equal(directory_sasl_plain_parse(MSG("Ursel\0Kurt\0xipj3plmq"), &m, &err), 0);
	assert_true(slice_eq_str(m.authzid, "Ursel"));
	assert_true(slice_eq_str(m.authcid, "Kurt"));
	assert_true(slice_eq_str(m.passwd, "xipj3plmq"));
	/* UTF-8 is fine. */
	assert_int_equal(
		directory_sasl_plain_parse(MSG("\0j\xc3\xb6rg\0p\xc3\xa4ss"), &m, &err), 0);
	assert_int_equal(m.authcid.len, 5);
}

static void expect_bad(const char *msg, size_t len, const char *why)
{
	struct directory_sasl_plain m;
	const char *err = NULL;
	assert_int_equal(directory_sasl_plain_parse(msg, len, &m, &err), -1);
	if (strstr(err, why) == NULL)
		fail_msg("error '%s' lacks '%s'", err, why);
}

static void test_bad(void **state)
{
	expect_bad(MSG(""), "without NUL");
	expect_bad(MSG("timpassword"), "without NUL");
	expect_bad(MSG("\0tim"), "without a password");
	expect_bad(MSG("\0\0pw"), "empty authentication identity");
	expect_bad(MSG("\0tim\0"), "empty password");
	expect_bad(MSG("\0tim\0pw\0"), "NUL in PLAIN password");
	expect_bad(MSG("a\0b\0c\0d"), "NUL in PLAIN password");
	expect_bad(MSG("\0tim\0\xff\xfe"), "UTF-8");
	expect_bad(MSG("\0t\xc0\xafm\0pw"), "UTF-8");
	expect_bad(MSG("\xed\xa0\x80\0tim\0pw"), "UTF-8");
}

static void test_limits(void **state)
{
	size_t max = DIRECTORY_SASL_FIELD_MAX;
	char *msg = malloc(3 * max + 16);
	struct directory_sasl_plain m;
	const char *err;

	/* Every field at the limit. */
	memset(msg, 'z', max);
	msg[max] = '\0';
	memset(msg + max + 1, 'c', max);
	msg[2 * max + 1] = '\0';
	memset(msg + 2 * max + 2, 'p', max);
	assert_int_equal(directory_sasl_plain_parse(msg, DIRECTORY_SASL_PLAIN_MAX, &m, &err), 0);
	assert_int_equal(m.authzid.len, max);
	assert_int_equal(m.authcid.len, max);
	assert_int_equal(m.passwd.len, max);
	/* One more octet anywhere: too long. */
	expect_bad(msg, DIRECTORY_SASL_PLAIN_MAX + 1, "too long");

	/* Each field one over, the others small. */
	memset(msg, 'z', max + 1);
	memcpy(msg + max + 1, "\0c\0p", 4);
	expect_bad(msg, max + 5, "authorization identity too long");
	msg[0] = '\0';
	memset(msg + 1, 'c', max + 1);
	memcpy(msg + max + 2, "\0p", 2);
	expect_bad(msg, max + 4, "authentication identity too long");
	memcpy(msg, "\0c\0", 3);
	memset(msg + 3, 'p', max + 1);
	expect_bad(msg, max + 4, "password too long");
	/* 255 octets, the RFC's minimum, pass. */
	memset(msg + 3, 'p', 255);
	assert_int_equal(directory_sasl_plain_parse(msg, 258, &m, &err), 0);
	free(msg);
}

static void test_decode(void **state)
{
	pool_t *pool = pool_new("test", 0);
	char *zid, *cid, *pw;
	const char *err;
	/* base64("\0tim\0tanstaaftanstaaf") */
	const char *b64 = "AHRpbQB0YW5zdGFhZnRhbnN0YWFm";
	assert_int_equal(directory_sasl_plain_decode(pool, b64, strlen(b64), &zid, &cid, &pw, &err),
		0);
	assert_string_equal(zid, "");
	assert_string_equal(cid, "tim");
	assert_string_equal(pw, "tanstaaftanstaaf");

	assert_int_equal(directory_sasl_plain_decode(pool, "!!!!", 4, &zid, &cid, &pw, &err), -1);
	assert_string_equal(err, "invalid base64 in PLAIN message");
	/* "dGlt" is "tim": no NULs. */
	assert_int_equal(directory_sasl_plain_decode(pool, "dGlt", 4, &zid, &cid, &pw, &err), -1);
	assert_string_equal(err, "PLAIN message without NUL separators");
	assert_int_equal(directory_sasl_plain_decode(pool, "", 0, &zid, &cid, &pw, &err), -1);

	/* Over-long base64 is refused before decoding. */
	size_t big = base64_encoded_len(DIRECTORY_SASL_PLAIN_MAX) + 65;
	char *huge = malloc(big);
	memset(huge, 'A', big);
	assert_int_equal(directory_sasl_plain_decode(pool, huge, big, &zid, &cid, &pw, &err), -1);
	assert_string_equal(err, "PLAIN message too long");
	free(huge);

	/* Round trip through core/base64 of a message at the limit. */
	struct buf raw, enc;
	buf_init(&raw, NULL);
	buf_init(&enc, NULL);
	buf_append_fill(&raw, 'a', DIRECTORY_SASL_FIELD_MAX);
	buf_append_byte(&raw, 0);
	buf_append_fill(&raw, 'b', DIRECTORY_SASL_FIELD_MAX);
	buf_append_byte(&raw, 0);
	buf_append_fill(&raw, 'c', DIRECTORY_SASL_FIELD_MAX);
	base64_encode(raw.data, raw.len, &enc);
	const char *e = buf_cstr(&enc);
	assert_int_equal(directory_sasl_plain_decode(pool, e, enc.len, &zid, &cid, &pw, &err), 0);
	assert_int_equal(strlen(zid), DIRECTORY_SASL_FIELD_MAX);
	assert_int_equal(strlen(pw), DIRECTORY_SASL_FIELD_MAX);
	buf_append_byte(&raw, 'c');
	buf_reset(&enc);
	base64_encode(raw.data, raw.len, &enc);
	e = buf_cstr(&enc);
	assert_int_equal(directory_sasl_plain_decode(pool, e, enc.len, &zid, &cid, &pw, &err), -1);
	buf_deinit(&raw);
	buf_deinit(&enc);
	pool_free(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_decode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
