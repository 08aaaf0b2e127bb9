/* POP3 command parser and message output (src/proto/pop3/parser.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/pop3/parser.h"

static int parse(const char *line, struct pop3_command *c)
{
	const char *error = NULL;
	int rc = pop3_command_parse(line, strlen(line), c, &error);
	if (rc < 0)
		assert_non_null(error);
	return rc;
}

static void assert_slice(struct slice s, const char *want)
{
	assert_int_equal(s.len, strlen(want));
	assert_memory_equal(s.ptr, want, s.len);
}

static void test_commands(void **state)
{
	struct pop3_command c;
	assert_int_equal(parse("USER alice@example.test\r\n", &c), 0);
	assert_int_equal(c.cmd, POP3_CMD_USER);
	assert_int_equal(c.argc, 1);
	assert_slice(c.argv[0], "alice@example.test");
	assert_slice(c.keyword, "USER");

	assert_int_equal(parse("retr 7\n", &c), 0); /* bare LF, lower case */
	assert_int_equal(c.cmd, POP3_CMD_RETR);
	assert_slice(c.argv[0], "7");

	assert_int_equal(parse("Top 1 10", &c), 0); /* no line end */
	assert_int_equal(c.cmd, POP3_CMD_TOP);
	assert_int_equal(c.argc, 2);
	assert_slice(c.argv[1], "10");

	assert_int_equal(parse("LIST  2   \r\n", &c), 0); /* runs of spaces */
	assert_int_equal(c.argc, 1);
	assert_slice(c.argv[0], "2");

	assert_int_equal(parse("CAPA\r\n", &c), 0);
	assert_int_equal(c.cmd, POP3_CMD_CAPA);
	assert_int_equal(c.argc, 0);
	assert_int_equal(c.rest.len, 0);

	/* PASS keeps its spaces: the rest of the line is the password. */
	assert_int_equal(parse("PASS  two words \r\n", &c), 0);
	assert_int_equal(c.cmd, POP3_CMD_PASS);
	assert_slice(c.rest, " two words ");

	/* Every argument is counted, only the first few kept. */
	assert_int_equal(parse("TOP 1 2 3 4 5\r\n", &c), 0);
	assert_int_equal(c.argc, 5);
	assert_slice(c.argv[2], "3");

	/* Unknown keywords parse. */
	assert_int_equal(parse("XTND XMIT\r\n", &c), 0);
	assert_int_equal(c.cmd, POP3_CMD_UNKNOWN);
	assert_int_equal(parse("LAST\r\n", &c), 0);
	assert_int_equal(c.cmd, POP3_CMD_LAST);
	assert_int_equal(parse("USERX a\r\n", &c), 0);
	assert_int_equal(c.cmd, POP3_CMD_UNKNOWN);
	assert_int_equal(parse("STL\r\n", &c), 0);
	assert_int_equal(c.cmd, POP3_CMD_UNKNOWN);
	/* 8-bit text in arguments (passwords) is allowed. */
	assert_int_equal(parse("PASS p\xc3\xa4ss\r\n", &c), 0);
}

static void test_bad_lines(void **state)
{
	struct pop3_command c;
	const char *error;
	assert_int_equal(parse("\r\n", &c), -1);
	assert_int_equal(parse("\n", &c), -1);
	assert_int_equal(parse("", &c), -1);
	assert_int_equal(parse(" USER a\r\n", &c), -1); /* empty keyword */
	assert_int_equal(parse("US\tER\r\n", &c), -1);
	assert_int_equal(parse("USER a\rb\r\n", &c), -1);
	assert_int_equal(parse("USER a\x7f\r\n", &c), -1);
	assert_int_equal(parse("\xc3\xa4\r\n", &c), -1); /* 8-bit keyword */
	assert_int_equal(pop3_command_parse("USER a\0b\r\n", 10, &c, &error), -1);
	char kw[64];
	memset(kw, 'A', 40);
	kw[40] = '\0';
	assert_int_equal(parse(kw, &c), 0);
	memset(kw, 'A', 41);
	kw[41] = '\0';
	assert_int_equal(parse(kw, &c), -1);
}

static void test_numbers(void **state)
{
	uint32_t v;
	assert_int_equal(pop3_parse_number(SLICE_STR("1"), UINT32_MAX, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(pop3_parse_number(SLICE_STR("0"), UINT32_MAX, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(pop3_parse_number(SLICE_STR("007"), UINT32_MAX, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(pop3_parse_number(SLICE_STR("4294967295"), UINT32_MAX, &v), 0);
	assert_int_equal(v, 4294967295u);
	assert_int_equal(pop3_parse_number(SLICE_STR("4294967296"), UINT32_MAX, &v), -1);
	assert_int_equal(pop3_parse_number(SLICE_STR("99999999999"), UINT32_MAX, &v), -1);
	assert_int_equal(pop3_parse_number(SLICE_STR("11"), 10, &v), -1);
	assert_int_equal(pop3_parse_number(SLICE_STR("10"), 10, &v), 0);
	assert_int_equal(pop3_parse_number(SLICE_STR(""), UINT32_MAX, &v), -1);
	assert_int_equal(pop3_parse_number(SLICE_STR("+1"), UINT32_MAX, &v), -1);
	assert_int_equal(pop3_parse_number(SLICE_STR("-1"), UINT32_MAX, &v), -1);
	assert_int_equal(pop3_parse_number(SLICE_STR("1a"), UINT32_MAX, &v), -1);
	assert_int_equal(pop3_parse_number(SLICE_STR(" 1"), UINT32_MAX, &v), -1);
}

/* Runs the converter over in, whole and then split at every byte (and
 * one byte at a time), and checks every split gives want. */
static void check_out(const char *in, bool top, uint64_t lines, const char *want)
{
	size_t len = strlen(in);
	for (size_t split = 0; split <= len + 1; split++) {
		struct pop3_msgout m;
		struct buf out;
		buf_init(&out, NULL);
		pop3_msgout_init(&m, top, lines);
		if (split == len + 1) {
			for (size_t i = 0; i < len; i++)
				if (!pop3_msgout_feed(&m, in + i, 1, &out))
					break;
		} else if (pop3_msgout_feed(&m, in, split, &out)) {
			pop3_msgout_feed(&m, in + split, len - split, &out);
		}
		pop3_msgout_finish(&m, &out);
		if (out.len != strlen(want) || memcmp(out.data, want, out.len) != 0)
			fail_msg("split %zu: got [%s] want [%s]", split, buf_cstr(&out), want);
		buf_deinit(&out);
	}
}

static void test_retr_output(void **state)
{
	check_out("", false, 0, ".\r\n");
	check_out("A: b\r\n\r\nbody\r\n", false, 0, "A: b\r\n\r\nbody\r\n.\r\n");
	/* Dot-stuffing: at the start of every line only. */
	check_out(".\r\n..x\r\na.b\r\n.", false, 0, "..\r\n...x\r\na.b\r\n..\r\n.\r\n");
	check_out("A: b\r\n\r\n.\r\n", false, 0, "A: b\r\n\r\n..\r\n.\r\n");
	/* A bare LF becomes CRLF; a bare CR is left alone. */
	check_out("a\nb\r\nc\n", false, 0, "a\r\nb\r\nc\r\n.\r\n");
	check_out("\n\n", false, 0, "\r\n\r\n.\r\n");
	check_out("a\rb\r\n", false, 0, "a\rb\r\n.\r\n");
	/* No line end at the end: one is added before the terminator. */
	check_out("A: b\r\n\r\nno end", false, 0, "A: b\r\n\r\nno end\r\n.\r\n");
	check_out("x\r", false, 0, "x\r\n.\r\n");
}

static void test_top_output(void **state)
{
	const char *msg = "A: 1\r\nB: 2\r\n\r\nl1\r\n.l2\r\nl3\r\n";
	check_out(msg, true, 0, "A: 1\r\nB: 2\r\n\r\n.\r\n");
	check_out(msg, true, 1, "A: 1\r\nB: 2\r\n\r\nl1\r\n.\r\n");
	check_out(msg, true, 2, "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\n.\r\n");
	check_out(msg, true, 3, "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\nl3\r\n.\r\n");
	check_out(msg, true, 100, "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\nl3\r\n.\r\n");
	/* LF-only messages: the blank line is found as well. */
	check_out("A: 1\n\nl1\nl2\n", true, 1, "A: 1\r\n\r\nl1\r\n.\r\n");
	/* A header without body: all of it. */
	check_out("A: 1\r\nB: 2\r\n", true, 0, "A: 1\r\nB: 2\r\n.\r\n");
	check_out("A: 1", true, 5, "A: 1\r\n.\r\n");
	/* Blank lines inside the body count as lines. */
	check_out("A: 1\r\n\r\n\r\n\r\nx\r\n", true, 2, "A: 1\r\n\r\n\r\n\r\n.\r\n");
	/* Without a header at all: the first line is the blank one. */
	check_out("\r\nbody\r\n", true, 0, "\r\n.\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_retr_output),
		cmocka_unit_test(test_top_output),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
