/* The SMTP command parser and the DATA scanner: every limit and boundary,
 * the smuggling variants, and the scanner fed one byte at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/smtp/smtp_parse.h"

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

static void test_verbs(void **state)
{
	struct slice a;
	assert_int_equal(smtp_verb_parse("EHLO x.test", 11, &a), SMTP_VERB_EHLO);
	assert_true(slice_eq_str(a, "x.test"));
	assert_int_equal(smtp_verb_parse("ehlo x", 6, &a), SMTP_VERB_EHLO);
	assert_int_equal(smtp_verb_parse("MaIl FROM:<>", 12, &a), SMTP_VERB_MAIL);
	assert_true(slice_eq_str(a, "FROM:<>"));
	assert_int_equal(smtp_verb_parse("DATA", 4, &a), SMTP_VERB_DATA);
	assert_int_equal(a.len, 0);
	assert_int_equal(smtp_verb_parse("STARTTLS", 8, &a), SMTP_VERB_STARTTLS);
	assert_int_equal(smtp_verb_parse("DATAX", 5, &a), SMTP_VERB_UNKNOWN);
	assert_int_equal(smtp_verb_parse("", 0, &a), SMTP_VERB_UNKNOWN);
	assert_int_equal(smtp_verb_parse("DAT", 3, &a), SMTP_VERB_UNKNOWN);
	assert_string_equal(smtp_verb_name(SMTP_VERB_BDAT), "BDAT");
}

static int parse(const char *args, const char *prefix, bool rcpt, bool utf8, struct smtp_path *p,
	const char **err)
{
	return smtp_path_parse(pool, SLICE_STR(args), prefix, rcpt, utf8, p, err);
}

static void test_paths(void **state)
{
	struct smtp_path p;
	const char *err;
	assert_int_equal(parse("FROM:<a@b.test>", "FROM:", false, false, &p, &err), 0);
	assert_string_equal(p.address, "a@b.test");
	assert_string_equal(p.domain, "b.test");
	assert_int_equal(parse("from: <a@b.test>", "FROM:", false, false, &p, &err), 0);
	assert_int_equal(parse("FROM:<>", "FROM:", false, false, &p, &err), 0);
	assert_true(p.null_path);
	assert_string_equal(p.address, "");
	assert_int_equal(parse("TO:<>", "TO:", true, false, &p, &err), -1);
	assert_int_equal(parse("TO:<Postmaster>", "TO:", true, false, &p, &err), 0);
	assert_true(p.postmaster);
	assert_int_equal(parse("TO:<postmaster>", "TO:", true, false, &p, &err), 0);
	assert_int_equal(parse("FROM:<postmaster>", "FROM:", false, false, &p, &err), -1);
	/* Source routes are dropped (RFC 5321 C). */
	assert_int_equal(parse("TO:<@a.test,@b.test:u@c.test>", "TO:", true, false, &p, &err), 0);
	assert_true(p.had_route);
	assert_string_equal(p.address, "u@c.test");
	assert_int_equal(parse("TO:<@a.test:>", "TO:", true, false, &p, &err), -1);
	assert_int_equal(parse("TO:<@:u@c.test>", "TO:", true, false, &p, &err), -1);
	/* Quoted local parts stay quoted. */
	assert_int_equal(parse("TO:<\"a b@c\"@d.test>", "TO:", true, false, &p, &err), 0);
	assert_string_equal(p.address, "\"a b@c\"@d.test");
	assert_int_equal(parse("TO:<\"a\\\"b\"@d.test>", "TO:", true, false, &p, &err), 0);
	assert_int_equal(parse("TO:<\"unterminated@d.test>", "TO:", true, false, &p, &err), -1);
	/* Address literals. */
	assert_int_equal(parse("TO:<u@[192.0.2.1]>", "TO:", true, false, &p, &err), 0);
	assert_string_equal(p.domain, "[192.0.2.1]");
	assert_int_equal(parse("TO:<u@[IPv6:::1]>", "TO:", true, false, &p, &err), 0);
	assert_int_equal(parse("TO:<u@[]>", "TO:", true, false, &p, &err), -1);
	/* Bad forms. */
	const char *bad[] = {"TO:u@d.test", "TO:<u@d.test", "TO:<u>", "TO:<@d.test>",
		"TO:<u@>", "TO:<.u@d.test>", "TO:<u.@d.test>", "TO:<u..v@d.test>",
		"TO:<u@d..test>", "TO:<u@-d.test>", "TO:<u@d-.test>", "TO:<u@d.test.>",
		"TO:<u@v@d.test>", "TO:<u@d.test>x", "TO:<u d@d.test>", "TO <u@d.test>",
		"TO:<u@d_x.test>", "", "TO:"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], "TO:", true, false, &p, &err) != -1)
			fail_msg("accepted %s", bad[i]);
}

static void test_path_limits(void **state)
{
	struct smtp_path p;
	const char *err;
	char buf[1024], local[80], label[80];
	memset(local, 'l', 64);
	local[64] = '\0';
	snprintf(buf, sizeof(buf), "TO:<%s@d.test>", local);
	assert_int_equal(parse(buf, "TO:", true, false, &p, &err), 0);
	local[64] = 'l';
	local[65] = '\0';
	snprintf(buf, sizeof(buf), "TO:<%s@d.test>", local);
	assert_int_equal(parse(buf, "TO:", true, false, &p, &err), -1);
	memset(label, 'a', 63);
	label[63] = '\0';
	snprintf(buf, sizeof(buf), "TO:<u@%s.test>", label);
	assert_int_equal(parse(buf, "TO:", true, false, &p, &err), 0);
	label[63] = 'a';
	label[64] = '\0';
	snprintf(buf, sizeof(buf), "TO:<u@%s.test>", label);
	assert_int_equal(parse(buf, "TO:", true, false, &p, &err), -1);
	/* A path of 256 octets with brackets is the most (RFC 5321 4.5.3.1.3). */
	memset(label, 'a', 60);
	label[60] = '\0';
	char dom[400];
	snprintf(dom, sizeof(dom), "%s.%s.%s.%s", label, label, label, label); /* 243 */
	snprintf(buf, sizeof(buf), "TO:<%.*s@%s>", 10, "uuuuuuuuuuuu", dom); /* 256 */
	assert_int_equal(parse(buf, "TO:", true, false, &p, &err), 0);
	snprintf(buf, sizeof(buf), "TO:<%.*s@%s>", 11, "uuuuuuuuuuuu", dom); /* 257 */
	assert_int_equal(parse(buf, "TO:", true, false, &p, &err), -1);
}

static void test_utf8(void **state)
{
	struct smtp_path p;
	const char *err;
	assert_int_equal(parse("FROM:<j\xc3\xb6rg@b.test>", "FROM:", false, false, &p, &err), -1);
	assert_int_equal(parse("FROM:<j\xc3\xb6rg@b.test>", "FROM:", false, true, &p, &err), 0);
	assert_true(p.utf8);
	assert_int_equal(parse("FROM:<a@b\xc3\xbc.test>", "FROM:", false, true, &p, &err), 0);
	assert_true(p.utf8);
	/* Invalid UTF-8: overlong, surrogate, truncated. */
	assert_int_equal(parse("FROM:<a\xc0\xafz@b.test>", "FROM:", false, true, &p, &err), -1);
	assert_int_equal(parse("FROM:<a\xed\xa0\x80@b.test>", "FROM:", false, true, &p, &err), -1);
	assert_int_equal(parse("FROM:<a\xe2\x82@b.test>", "FROM:", false, true, &p, &err), -1);
	assert_int_equal(parse("FROM:<a@b.test>", "FROM:", false, true, &p, &err), 0);
	assert_false(p.utf8);
}

static void test_params(void **state)
{
	struct smtp_path p;
	const char *err;
	bool found;
	assert_int_equal(parse("FROM:<a@b.test> SIZE=100 BODY=8BITMIME SMTPUTF8 ret=hdrs",
				 "FROM:", false, false, &p, &err),
		0);
	assert_int_equal(p.param_count, 4);
	assert_string_equal(smtp_path_param(&p, "SIZE", &found), "100");
	assert_true(found);
	assert_null(smtp_path_param(&p, "SMTPUTF8", &found));
	assert_true(found);
	assert_string_equal(smtp_path_param(&p, "RET", &found), "hdrs");
	assert_null(smtp_path_param(&p, "ENVID", &found));
	assert_false(found);
	/* Several spaces between parameters are tolerated. */
	assert_int_equal(parse("FROM:<a@b.test>  SIZE=1", "FROM:", false, false, &p, &err), 0);
	assert_int_equal(parse("FROM:<a@b.test> SIZE=1 SIZE=2", "FROM:", false, false, &p, &err),
		-2);
	assert_int_equal(parse("FROM:<a@b.test> =1", "FROM:", false, false, &p, &err), -2);
	assert_int_equal(parse("FROM:<a@b.test> -X=1", "FROM:", false, false, &p, &err), -2);
	assert_int_equal(parse("FROM:<a@b.test> X=", "FROM:", false, false, &p, &err), -2);
	assert_int_equal(parse("FROM:<a@b.test> X=a=b", "FROM:", false, false, &p, &err), -2);
	assert_int_equal(parse("FROM:<a@b.test> X=\x01", "FROM:", false, false, &p, &err), -2);
	char buf[512] = "FROM:<a@b.test>";
	for (int i = 0; i < SMTP_PARAMS_MAX; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " P%d=1", i);
	assert_int_equal(parse(buf, "FROM:", false, false, &p, &err), 0);
	strcat(buf, " ONEMORE");
	assert_int_equal(parse(buf, "FROM:", false, false, &p, &err), -2);
}

static void test_xtext(void **state)
{
	assert_true(smtp_xtext_valid("abc+2Bdef", 100));
	assert_false(smtp_xtext_valid("abc+2bdef", 100)); /* upper-case hex only */
	assert_false(smtp_xtext_valid("abc+2", 100));
	assert_false(smtp_xtext_valid("abc+", 100));
	assert_false(smtp_xtext_valid("a=b", 100));
	assert_false(smtp_xtext_valid("a b", 100));
	assert_true(smtp_xtext_valid("0123456789", 10));
	assert_false(smtp_xtext_valid("0123456789", 9));
	assert_string_equal(smtp_xtext_decode(pool, "a+2Bb+3Dc"), "a+b=c");
	assert_null(smtp_xtext_decode(pool, "a+zz"));
	struct buf b;
	buf_init(&b, pool);
	smtp_xtext_encode(&b, "a+b=c d");
	assert_string_equal(buf_cstr(&b), "a+2Bb+3Dc+20d");
	assert_string_equal(smtp_xtext_decode(pool, buf_cstr(&b)), "a+b=c d");
}

/* Runs the scanner over input in chunks of at most step octets the way
 * the server does (frame, then consume what was framed). Returns the
 * octets consumed up to the end of data (or everything if none). */
static size_t scan_all(struct smtp_data_scan *s, const char *in, size_t len, size_t step,
	size_t max_chunk, struct buf *out)
{
	size_t consumed = 0, avail = 0;
	while (!s->done && consumed < len) {
		avail = avail + step > len - consumed ? len - consumed : avail + step;
		size_t n = smtp_data_frame(s, (const unsigned char *)in + consumed, avail, max_chunk);
		if (n == 0) {
			if (consumed + avail >= len)
				break;
			continue;
		}
		assert_true(n <= avail);
		smtp_data_consume(s, (const unsigned char *)in + consumed, n, out);
		consumed += n;
		avail -= n;
	}
	return consumed;
}

static void check_message(const char *in, const char *want, unsigned want_flags, bool want_done,
	size_t want_consumed)
{
	size_t len = strlen(in);
	size_t steps[] = {1, 2, 3, 7, 64, 100000};
	size_t chunks[] = {5, 16, 32768};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
			struct smtp_data_scan s;
			smtp_data_scan_init(&s, 1000, 1000000);
			struct buf out;
			buf_init(&out, pool);
			size_t c = scan_all(&s, in, len, steps[i], chunks[k], &out);
			if (s.done != want_done || (want_done && c != want_consumed))
				fail_msg("step %zu chunk %zu: done %d consumed %zu of %s", steps[i],
					chunks[k], s.done, c, in);
			if ((s.flags & ~SMTP_DATA_8BIT) != want_flags)
				fail_msg("step %zu chunk %zu: flags %#x want %#x for %s", steps[i],
					chunks[k], s.flags, want_flags, in);
			if (want != NULL && strcmp(buf_cstr(&out), want) != 0)
				fail_msg("step %zu chunk %zu: got '%s'", steps[i], chunks[k],
					buf_cstr(&out));
		}
	}
}

static void test_data_end(void **state)
{
	check_message("a\r\n.\r\n", "a\r\n", 0, true, 6);
	check_message(".\r\n", "", 0, true, 3);
	check_message("a\r\n.\r\nMAIL FROM:<x>\r\n", "a\r\n", 0, true, 6);
	/* Dot-unstuffing. */
	check_message("..a\r\n.b\r\n. \r\n..\r\n.\r\n", ".a\r\nb\r\n \r\n.\r\n", 0, true, 20);
	/* Not the end: a dot inside a line, a dot line not ended by CRLF. */
	check_message("a.\r\n.\r\n", "a.\r\n", 0, true, 7);
}

static void test_data_smuggling(void **state)
{
	/* None of these end the data; each is flagged. */
	check_message("a\n.\nMAIL FROM:<x>\n", NULL, SMTP_DATA_BARE_LF, false, 0);
	check_message("a\n.\r\nMAIL FROM:<x>\r\n", NULL, SMTP_DATA_BARE_LF, false, 0);
	check_message("a\r\n.\nMAIL FROM:<x>\r\n", NULL, SMTP_DATA_BARE_LF, false, 0);
	check_message("a\r.\rMAIL FROM:<x>\r\n", NULL, SMTP_DATA_BARE_CR, false, 0);
	check_message("a\r\n.\r", NULL, 0, false, 0);
	/* A bare LF before a real <CRLF>.<CRLF>: flagged, and ends there. */
	check_message("a\nb\r\n.\r\n", NULL, SMTP_DATA_BARE_LF, true, 8);
	check_message("a\rb\r\n.\r\n", NULL, SMTP_DATA_BARE_CR, true, 8);
	check_message("a\r\r\n.\r\n", NULL, SMTP_DATA_BARE_CR, true, 7);
}

static void test_data_checks(void **state)
{
	struct smtp_data_scan s;
	struct buf out;
	buf_init(&out, pool);
	for (size_t step = 1; step < 10; step++) {
		smtp_data_scan_init(&s, 1000, 100);
		assert_int_equal(scan_all(&s, "a\0b\r\n.\r\n", 8, step, 100, NULL), 8);
		assert_true(s.done);
		assert_int_equal(s.flags, SMTP_DATA_NUL);
	}
	/* 1000 octets with CRLF is the longest line; 1001 is too long. */
	char line[1100];
	memset(line, 'x', 998);
	strcpy(line + 998, "\r\n.\r\n");
	check_message(line, NULL, 0, true, 1003);
	memset(line, 'x', 999);
	strcpy(line + 999, "\r\n.\r\n");
	check_message(line, NULL, SMTP_DATA_LONG_LINE, true, 1004);
	/* The size limit counts octets after unstuffing. */
	smtp_data_scan_init(&s, 1000, 6);
	scan_all(&s, "..abc\r\n.\r\n", 10, 100, 100, &out);
	assert_true(s.done);
	assert_int_equal(s.flags & SMTP_DATA_TOO_BIG, 0);
	assert_string_equal(buf_cstr(&out), ".abc\r\n");
	smtp_data_scan_init(&s, 1000, 5);
	buf_reset(&out);
	scan_all(&s, "..abc\r\n.\r\n", 10, 100, 100, &out);
	assert_true(s.done);
	assert_true(s.flags & SMTP_DATA_TOO_BIG);
	smtp_data_scan_init(&s, 1000, 100);
	scan_all(&s, "\xc3\xa9\r\n.\r\n", 7, 100, 100, NULL);
	assert_true(s.flags & SMTP_DATA_8BIT);
}

static void test_data_frame_partial(void **state)
{
	struct smtp_data_scan s;
	smtp_data_scan_init(&s, 1000, 1000000);
	/* No LF yet: wait, unless the chunk is full. */
	assert_int_equal(smtp_data_frame(&s, (const unsigned char *)"abc", 3, 10), 0);
	assert_int_equal(smtp_data_frame(&s, (const unsigned char *)"abcdefghijkl", 12, 10), 10);
	/* Whole lines only, up to the chunk size. */
	assert_int_equal(smtp_data_frame(&s, (const unsigned char *)"ab\r\ncd", 6, 100), 4);
	assert_int_equal(smtp_data_frame(&s, (const unsigned char *)"ab\r\ncd\r\nef\r\n", 12, 5), 4);
	assert_int_equal(smtp_data_frame(&s, (const unsigned char *)"ab\r\ncd\r\nef\r\n", 12, 8), 8);
	/* A line longer than the chunk: the chunk is handed over whole. */
	assert_int_equal(smtp_data_frame(&s, (const unsigned char *)"abcdefgh\r\n", 10, 4), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verbs),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_path_limits),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_xtext),
		cmocka_unit_test(test_data_end),
		cmocka_unit_test(test_data_smuggling),
		cmocka_unit_test(test_data_checks),
		cmocka_unit_test(test_data_frame_partial),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
