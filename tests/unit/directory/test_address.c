#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "directory/address.h"

static int parse(const char *s, struct directory_address *a, const char **err)
{
	return directory_address_parse(s, strlen(s), a, err);
}

static void expect_ok(const char *in, const char *canonical, const char *key)
{
	struct directory_address a;
	const char *err = NULL;
	if (parse(in, &a, &err) != 0)
		fail_msg("'%s' refused: %s", in, err);
	assert_string_equal(a.address, canonical);
	assert_string_equal(a.key, key);
}

static void expect_bad(const char *in, const char *why)
{
	struct directory_address a;
	const char *err = NULL;
	if (parse(in, &a, &err) == 0)
		fail_msg("'%s' accepted as '%s'", in, a.address);
	assert_non_null(err);
	if (why != NULL && strstr(err, why) == NULL)
		fail_msg("'%s': error '%s' lacks '%s'", in, err, why);
}

static void test_valid(void **state)
{
	expect_ok("john@example.com", "john@example.com", "john@example.com");
	/* The domain is lower-cased; the local part keeps its case for
	 * display but not in the key. */
	expect_ok("John.Smith@Example.COM", "John.Smith@example.com", "john.smith@example.com");
	expect_ok("a@b", "a@b", "a@b");
	expect_ok("x!#$%&'*+-/=?^_`{|}~y@d-1.example", "x!#$%&'*+-/=?^_`{|}~y@d-1.example",
		"x!#$%&'*+-/=?^_`{|}~y@d-1.example");
	expect_ok("user+tag@xn--bcher-kva.example", "user+tag@xn--bcher-kva.example",
		"user+tag@xn--bcher-kva.example");
	expect_ok("1@123.example", "1@123.example", "1@123.example");
}

static void test_quoted(void **state)
{
	struct directory_address a;
	const char *err;
	/* RFC 5321 4.1.2: needless quoting is the same mailbox. */
	expect_ok("\"john\"@example.com", "john@example.com", "john@example.com");
	expect_ok("\"jo\\hn\"@example.com", "john@example.com", "john@example.com");
	assert_int_equal(parse("\"john\"@example.com", &a, &err), 0);
	assert_false(a.quoted);
	/* Needed quoting is kept, minimally escaped. */
	assert_int_equal(parse("\"john doe\"@Example.com", &a, &err), 0);
	assert_true(a.quoted);
	assert_string_equal(a.address, "\"john doe\"@example.com");
	assert_int_equal(a.local_len, 10);
	assert_string_equal(directory_address_domain(&a), "example.com");
	expect_ok("\"a\\\"b\"@x", "\"a\\\"b\"@x", "\"a\\\"b\"@x");
	expect_ok("\"a..b\"@x", "\"a..b\"@x", "\"a..b\"@x");
	expect_ok("\"a@b\"@x", "\"a@b\"@x", "\"a@b\"@x");
	expect_ok("\"\"@x", "\"\"@x", "\"\"@x");
	expect_bad("\"abc@x", "unterminated");
	expect_bad("\"a\tb\"@x", "control");
	expect_bad("\"a\\", "quoted pair");
	expect_bad("\"a\\\x01\"@x", "quoted pair");
	expect_bad("\"ab\"x@y", "missing @");
	expect_bad("\"ab\"", "missing @");
}

static void test_invalid(void **state)
{
	expect_bad("", "empty");
	expect_bad("john", "missing @");
	expect_bad("@example.com", "empty local part");
	expect_bad("john@", "empty domain");
	expect_bad(".john@x", "dot-atom");
	expect_bad("john.@x", "dot-atom");
	expect_bad("jo..hn@x", "dot-atom");
	expect_bad("jo hn@x", "dot-atom");
	expect_bad("jo(hn)@x", "dot-atom");
	expect_bad("john@@x", "invalid character");
	expect_bad("a@b@c", "invalid character");
	expect_bad("<john@x>", "dot-atom");
	expect_bad("john@x.", "ends with a dot");
	expect_bad("john@.x", "empty label");
	expect_bad("john@x..y", "empty label");
	expect_bad("john@-x", "starts with a hyphen");
	expect_bad("john@x-", "ends with a hyphen");
	expect_bad("john@x-.y", "ends with a hyphen");
	expect_bad("john@x_y", "invalid character");
	expect_bad("john@[192.0.2.1]", "address literals");
	expect_bad("j\xc3\xb6rg@x", "non-ASCII");
	expect_bad("jorg@b\xc3\xbc.x", "non-ASCII");
	expect_bad("john@x ", "invalid character");
	/* A NUL inside the given length is not the end. */
	struct directory_address a;
	const char *err;
	assert_int_equal(directory_address_parse("a@b\0c", 5, &a, &err), -1);
}

static void test_limits(void **state)
{
	char buf[2048];
	struct directory_address a;
	const char *err;

	/* Local part: 64 ok, 65 not (RFC 5321 4.5.3.1.1). */
	memset(buf, 'l', 64);
	strcpy(buf + 64, "@x");
	assert_int_equal(parse(buf, &a, &err), 0);
	assert_int_equal(a.local_len, 64);
	memset(buf, 'l', 65);
	strcpy(buf + 65, "@x");
	expect_bad(buf, "64");
	/* Quoted: the canonical form counts, quotes and escapes included. */
	buf[0] = '"';
	memset(buf + 1, 'q', 62);
	strcpy(buf + 63, "\"@x");
	assert_int_equal(parse(buf, &a, &err), 0);
	memset(buf + 1, ' ', 62);
	assert_int_equal(parse(buf, &a, &err), 0);
	assert_int_equal(a.local_len, 64);
	memset(buf + 1, ' ', 63);
	strcpy(buf + 64, "\"@x");
	expect_bad(buf, "64");

	/* Labels: 63 ok, 64 not. */
	strcpy(buf, "a@");
	memset(buf + 2, 'd', 63);
	buf[65] = '\0';
	assert_int_equal(parse(buf, &a, &err), 0);
	memset(buf + 2, 'd', 64);
	buf[66] = '\0';
	expect_bad(buf, "63");

	/* Whole address: 254 ok, 255 not (RFC 5321 4.5.3.1.3). */
	char *p = buf;
	memset(p, 'l', 64);
	p += 64;
	*p++ = '@';
	/* 254 - 65 = 189 octets of domain: three 60-octet labels and dots, then 6. */
	for (int i = 0; i < 3; i++) {
		memset(p, 'a' + i, 60);
		p += 60;
		*p++ = '.';
	}
	memcpy(p, "abcdef", 6);
	p += 6;
	*p = '\0';
	assert_int_equal(strlen(buf), 254);
	assert_int_equal(parse(buf, &a, &err), 0);
	assert_int_equal(strlen(a.address), 254);
	p[0] = 'g';
	p[1] = '\0';
	expect_bad(buf, "254");

	/* Domains alone: 253 ok, 254 not. */
	char dom[DIRECTORY_DOMAIN_MAX + 1];
	p = buf;
	for (int i = 0; i < 4; i++) {
		memset(p, 'a', 62);
		p += 62;
		*p++ = '.';
	}
	memcpy(p, "xy", 2);
	p[2] = '\0';
	assert_int_equal(strlen(buf), 254);
	assert_int_equal(directory_domain_parse(buf, 253, dom, &err), 0);
	assert_int_equal(directory_domain_parse(buf, 254, dom, &err), -1);
	assert_non_null(strstr(err, "253"));

	/* Huge input is refused before it is scanned. */
	memset(buf, 'a', sizeof(buf));
	assert_int_equal(directory_address_parse(buf, sizeof(buf), &a, &err), -1);
	assert_string_equal(err, "address too long");
}

static void test_domain(void **state)
{
	char out[DIRECTORY_DOMAIN_MAX + 1];
	const char *err;
	assert_int_equal(directory_domain_parse("Example.ORG", 11, out, &err), 0);
	assert_string_equal(out, "example.org");
	assert_int_equal(directory_domain_parse("localhost", 9, out, &err), 0);
	assert_int_equal(directory_domain_parse("a-b.c", 5, out, &err), 0);
	assert_int_equal(directory_domain_parse("", 0, out, &err), -1);
	assert_int_equal(directory_domain_parse("a b", 3, out, &err), -1);
	assert_int_equal(directory_domain_parse("a..b", 4, out, &err), -1);
	assert_int_equal(directory_domain_parse("a.b.", 4, out, &err), -1);
	assert_int_equal(directory_domain_parse("-ab", 3, out, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_domain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
