/* The IMAP tokenizer, fed one byte at a time and all at once, and the
 * argument builder: atoms, sections, quoted strings, literals (sync,
 * LITERAL+, literal8), lists, every limit and every kind of bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/imap/parser.h"

static const struct imap_parser_limits lim = {
	.max_line = 200,
	.max_literal = 100,
	.max_append = 1000,
	.max_depth = 3,
	.max_tokens = 50,
	.max_literals = 3,
};

struct run {
	int result;        /* last feed result */
	size_t length;     /* command length when DONE */
	int continuations; /* IMAP_PARSE_LITERAL answers */
	enum imap_parse_error error;
	const char *error_msg;
};

/* Feeds input[0..len) to a fresh parser, one byte more each call when
 * bytewise, until DONE or FATAL. */
static struct run feed(struct imap_parser *p, const char *input, size_t len, bool bytewise)
{
	struct run r = {0};
	imap_parser_init(p, &lim);
	size_t have = bytewise ? 0 : len;
	for (;;) {
		if (bytewise && have < len)
			have++;
		r.result = imap_parser_feed(p, (const unsigned char *)input, have);
		if (r.result == IMAP_PARSE_LITERAL) {
			r.continuations++;
			continue;
		}
		if (r.result != IMAP_PARSE_MORE || have == len)
			break;
	}
	r.length = imap_parser_length(p);
	r.error = p->error;
	r.error_msg = p->error_msg;
	return r;
}

/* Both ways must agree. */
static struct run run(struct imap_parser *p, const char *input, size_t len)
{
	struct imap_parser q;
	struct run a = feed(&q, input, len, false);
	imap_parser_deinit(&q);
	struct run b = feed(p, input, len, true);
	assert_int_equal(a.result, b.result);
	assert_int_equal(a.length, b.length);
	assert_int_equal(a.error, b.error);
	assert_int_equal(a.continuations, b.continuations);
	return b;
}

#define RUN(p, s) run((p), (s), sizeof(s) - 1)

static void test_simple(void **state)
{
	(void)state;
	struct imap_parser p;
	struct run r = RUN(&p, "a1 NOOP\r\nnext");
	assert_int_equal(r.result, IMAP_PARSE_DONE);
	assert_int_equal(r.length, 9);
	assert_int_equal(r.error, IMAP_PARSE_OK);
	pool_t *pool = pool_new("t", 0);
	const char *tag, *name;
	struct imap_arg *args;
	assert_int_equal(imap_args_build(&p, (const unsigned char *)"a1 NOOP\r\n", 9, pool, &tag,
				 &name, &args), 0);
	assert_string_equal(tag, "a1");
	assert_string_equal(name, "NOOP");
	assert_int_equal(args[0].type, IMAP_ARG_EOL);
	imap_parser_deinit(&p);
	/* Bare LF and lower-case names. */
	r = RUN(&p, "x login a b\n");
	assert_int_equal(r.result, IMAP_PARSE_DONE);
	assert_int_equal(r.error, IMAP_PARSE_OK);
	imap_parser_deinit(&p);
	/* Incomplete. */
	r = RUN(&p, "a1 NOOP");
	assert_int_equal(r.result, IMAP_PARSE_MORE);
	imap_parser_deinit(&p);
	pool_free(&pool);
}

static void test_args(void **state)
{
	(void)state;
	static const char cmd[] =
		"A003 FETCH 1:*,7 (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100> "
		"\"q\\\"uo\\\\te\" () NIL (a (b)))\r\n";
	struct imap_parser p;
	struct run r = RUN(&p, cmd);
	assert_int_equal(r.result, IMAP_PARSE_DONE);
	assert_int_equal(r.error, IMAP_PARSE_OK);
	pool_t *pool = pool_new("t", 0);
	const char *tag, *name;
	struct imap_arg *a;
	assert_int_equal(imap_args_build(&p, (const unsigned char *)cmd, r.length, pool, &tag,
				 &name, &a), 0);
	assert_string_equal(name, "FETCH");
	assert_int_equal(imap_args_count(a), 2);
	assert_int_equal(a[0].type, IMAP_ARG_ATOM);
	assert_true(slice_eq_str(a[0].s, "1:*,7"));
	assert_int_equal(a[1].type, IMAP_ARG_LIST);
	struct imap_arg *l = a[1].list;
	assert_int_equal(a[1].list_count, 6);
	assert_true(slice_eq_str(l[0].s, "FLAGS"));
	assert_true(slice_eq_str(l[1].s, "BODY.PEEK[HEADER.FIELDS (From To)]<0.100>"));
	assert_int_equal(l[2].type, IMAP_ARG_STRING);
	assert_true(slice_eq_str(l[2].s, "q\"uo\\te"));
	assert_int_equal(l[3].type, IMAP_ARG_LIST);
	assert_int_equal(l[3].list_count, 0);
	assert_true(imap_arg_is_nil(&l[4]));
	assert_int_equal(l[5].list[1].type, IMAP_ARG_LIST);
	assert_true(slice_eq_str(l[5].list[1].list[0].s, "b"));
	assert_int_equal(l[6].type, IMAP_ARG_EOL);
	imap_parser_deinit(&p);
	pool_free(&pool);
}

static void test_literals(void **state)
{
	(void)state;
	static const char cmd[] = "a LOGIN {5}\r\nalice {3+}\r\npw!\r\n";
	struct imap_parser p;
	struct run r = RUN(&p, cmd);
	assert_int_equal(r.result, IMAP_PARSE_DONE);
	assert_int_equal(r.error, IMAP_PARSE_OK);
	assert_int_equal(r.continuations, 1); /* only the synchronizing one */
	assert_int_equal(r.length, sizeof(cmd) - 1);
	pool_t *pool = pool_new("t", 0);
	const char *tag, *name;
	struct imap_arg *a;
	assert_int_equal(imap_args_build(&p, (const unsigned char *)cmd, r.length, pool, &tag,
				 &name, &a), 0);
	assert_int_equal(a[0].type, IMAP_ARG_LITERAL);
	assert_true(slice_eq_str(a[0].s, "alice"));
	assert_int_equal(a[1].type, IMAP_ARG_LITERAL);
	assert_true(slice_eq_str(a[1].s, "pw!"));
	assert_string_equal(imap_arg_str(pool, &a[1]), "pw!");
	imap_parser_deinit(&p);
	/* A literal holding CRLF, parentheses and quotes, and an empty one. */
	static const char c2[] = "b APPEND box (\\Seen) ~{8}\r\n(\")\r\n{x} {0}\r\n\r\n";
	r = RUN(&p, c2);
	assert_int_equal(r.result, IMAP_PARSE_DONE);
	assert_int_equal(r.error, IMAP_PARSE_OK);
	assert_int_equal(r.continuations, 2);
	assert_int_equal(imap_args_build(&p, (const unsigned char *)c2, r.length, pool, &tag,
				 &name, &a), 0);
	assert_true(a[2].literal8);
	assert_int_equal(a[2].s.len, 8);
	assert_int_equal(memcmp(a[2].s.ptr, "(\")\r\n{x}", 8), 0);
	assert_int_equal(a[3].type, IMAP_ARG_LITERAL);
	assert_int_equal(a[3].s.len, 0);
	assert_true(slice_eq_str(a[1].list[0].s, "\\Seen"));
	imap_parser_deinit(&p);
	pool_free(&pool);
}

static void test_literal_limits(void **state)
{
	(void)state;
	struct imap_parser p;
	/* Over max_literal, synchronizing: refused at once, no "+", and the
	 * command ends with the line (the client sends no data). */
	struct run r = RUN(&p, "a LOGIN {101}\r\nxyz");
	assert_int_equal(r.result, IMAP_PARSE_DONE);
	assert_int_equal(r.error, IMAP_PARSE_ETOOBIG);
	assert_int_equal(r.continuations, 0);
	assert_int_equal(r.length, strlen("a LOGIN {101}\r\n"));
	imap_parser_deinit(&p);
	/* At the limit: accepted. */
	char big[300];
	int n = snprintf(big, sizeof(big), "a LOGIN {100}\r\n%0100d\r\n", 0);
	r = run(&p, big, (size_t)n);
	assert_int_equal(r.result, IMAP_PARSE_DONE);
	assert_int_equal(r.error, IMAP_PARSE_OK);
	imap_parser_deinit(&p);
	/* APPEND has its own, larger limit. */
	r = RUN(&p, "a APPEND INBOX {1000}\r\n");
	assert_int_equal(r.result, IMAP_PARSE_MORE);
	assert_int_equal(r.continuations, 1);
	imap_parser_deinit(&p);
	r = RUN(&p, "a APPEND INBOX {1001}\r\n");
	assert_int_equal(r.result, IMAP_PARSE_DONE);
	assert_int_equal(r.error, IMAP_PARSE_ETOOBIG);
	imap_parser_deinit(&p);
	/* A non-synchronizing literal over the limit cannot be refused: its
	 * bytes are on their way. Fatal. */
	r = RUN(&p, "a LOGIN {101+}\r\n");
	assert_int_equal(r.result, IMAP_PARSE_FATAL);
	imap_parser_deinit(&p);
	/* Absurd sizes do not overflow. */
	r = RUN(&p, "a LOGIN {99999999999999999999999999}\r\n");
	assert_int_equal(r.result, IMAP_PARSE_DONE);
	assert_int_equal(r.error, IMAP_PARSE_ETOOBIG);
	imap_parser_deinit(&p);
	/* Too many literals. */
	r = RUN(&p, "a X {1+}\r\na {1+}\r\nb {1+}\r\nc {1+}\r\nd\r\n");
	assert_int_equal(r.result, IMAP_PARSE_DONE);
	assert_int_equal(r.error, IMAP_PARSE_ETOKENS);
	assert_int_equal(r.length, strlen("a X {1+}\r\na {1+}\r\nb {1+}\r\nc {1+}\r\nd\r\n"));
	imap_parser_deinit(&p);
	/* After an error a synchronizing literal ends the command. */
	r = RUN(&p, "a X \"bad\\q\" {5}\r\nhello\r\n");
	assert_int_equal(r.result, IMAP_PARSE_DONE);
	assert_int_equal(r.error, IMAP_PARSE_ESYNTAX);
	assert_int_equal(r.continuations, 0);
	imap_parser_deinit(&p);
}

static void test_limits(void **state)
{
	(void)state;
	struct imap_parser p;
	char line[400];
	memset(line, 'a', sizeof(line));
	memcpy(line, "a NOOP ", 7);
	struct run r = run(&p, line, sizeof(line));
	assert_int_equal(r.result, IMAP_PARSE_FATAL);
	assert_string_equal(r.error_msg, "Line too long");
	imap_parser_deinit(&p);
	/* 200 octets is the limit: 198 + CRLF = 200 passes. */
	memset(line, 'a', 198);
	memcpy(line, "a NOOP ", 7);
	memcpy(line + 198, "\r\n", 2);
	r = run(&p, line, 200);
	assert_int_equal(r.result, IMAP_PARSE_DONE);
	imap_parser_deinit(&p);
	/* Depth. */
	r = RUN(&p, "a X (((1)))\r\n");
	assert_int_equal(r.error, IMAP_PARSE_OK);
	imap_parser_deinit(&p);
	r = RUN(&p, "a X ((((1))))\r\n");
	assert_int_equal(r.result, IMAP_PARSE_DONE);
	assert_int_equal(r.error, IMAP_PARSE_EDEPTH);
	imap_parser_deinit(&p);
	/* Tokens. */
	char many[200];
	size_t m = (size_t)snprintf(many, sizeof(many), "a X");
	for (int i = 0; i < 60; i++)
		many[m++] = ' ', many[m++] = 'x';
	many[m++] = '\r', many[m++] = '\n';
	r = run(&p, many, m);
	assert_int_equal(r.result, IMAP_PARSE_DONE);
	assert_int_equal(r.error, IMAP_PARSE_ETOKENS);
	imap_parser_deinit(&p);
}

static void test_bad_input(void **state)
{
	(void)state;
	struct imap_parser p;
	static const struct {
		const char *in;
		enum imap_parse_error err;
	} cases[] = {
		{"\r\n", IMAP_PARSE_ENOTAG},
		{"a+b NOOP\r\n", IMAP_PARSE_ENOTAG},
		{"\"a\" NOOP\r\n", IMAP_PARSE_ENOTAG},
		{"(a) NOOP\r\n", IMAP_PARSE_ENOTAG},
		{"a (NOOP)\r\n", IMAP_PARSE_ESYNTAX},
		{"a X (b\r\n", IMAP_PARSE_ESYNTAX},
		{"a X b)\r\n", IMAP_PARSE_ESYNTAX},
		{"a X \"b\r\n", IMAP_PARSE_ESYNTAX},
		{"a X \"b\\x\"\r\n", IMAP_PARSE_ESYNTAX},
		{"a X {5\r\n", IMAP_PARSE_ESYNTAX},
		{"a X {}\r\n", IMAP_PARSE_ESYNTAX},
		{"a X {5} b\r\n", IMAP_PARSE_ESYNTAX},
		{"a X b\"c\r\n", IMAP_PARSE_ESYNTAX},
		{"a X BODY[1\r\n", IMAP_PARSE_ESYNTAX},
		{"a X \"b\"c\r\n", IMAP_PARSE_ESYNTAX},
		{"a X b\rc\r\n", IMAP_PARSE_ESYNTAX},
		{"a X \x01\r\n", IMAP_PARSE_ESYNTAX},
		{"a X \"nul\0\"\r\n", IMAP_PARSE_ESYNTAX},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].in);
		if (strstr(cases[i].in, "nul") != NULL)
			len = 12;
		struct run r = run(&p, cases[i].in, len);
		if (r.result != IMAP_PARSE_DONE || r.error != cases[i].err)
			fail_msg("case %zu (%s): result %d error %d", i, cases[i].in, r.result,
				r.error);
		/* The command still ends with its line, so the session goes on
		 * with the next one. */
		assert_int_equal(r.length, len);
		imap_parser_deinit(&p);
	}
	/* A tag alone is delimited but has no command name. */
	struct run r = RUN(&p, "a\r\n");
	assert_int_equal(r.error, IMAP_PARSE_OK);
	pool_t *pool = pool_new("t", 0);
	const char *tag, *name;
	struct imap_arg *a;
	assert_int_equal(imap_args_build(&p, (const unsigned char *)"a\r\n", 3, pool, &tag, &name,
				 &a), -1);
	imap_parser_deinit(&p);
	pool_free(&pool);
}

static void test_reset_reuse(void **state)
{
	(void)state;
	struct imap_parser p;
	imap_parser_init(&p, &lim);
	const char *two = "a NOOP\r\nb CHECK\r\n";
	assert_int_equal(imap_parser_feed(&p, (const unsigned char *)two, strlen(two)),
		IMAP_PARSE_DONE);
	size_t n = imap_parser_length(&p);
	assert_int_equal(n, 8);
	imap_parser_reset(&p);
	assert_int_equal(imap_parser_feed(&p, (const unsigned char *)two + n, strlen(two) - n),
		IMAP_PARSE_DONE);
	assert_int_equal(imap_parser_length(&p), 9);
	assert_int_equal(p.error, IMAP_PARSE_OK);
	imap_parser_deinit(&p);
}

static void test_write_string(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, NULL);
	imap_write_nstring(&b, "a\"b\\c");
	buf_append_byte(&b, ' ');
	imap_write_nstring(&b, NULL);
	buf_append_byte(&b, ' ');
	imap_write_nstring(&b, "line\r\nbreak");
	buf_append_byte(&b, ' ');
	imap_write_nstring(&b, "caf\xc3\xa9");
	assert_string_equal(buf_cstr(&b),
		"\"a\\\"b\\\\c\" NIL {11}\r\nline\r\nbreak {5}\r\ncaf\xc3\xa9");
	buf_deinit(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_literal_limits),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_reset_reuse),
		cmocka_unit_test(test_write_string),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
