#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"

static const struct config_setting settings[] = {
	{"server", "hostname", CONFIG_TYPE_STRING, "localhost", 0, 0, "host name"},
	{"server", "workers", CONFIG_TYPE_INT, "4", 1, 256, "worker threads"},
	{"server", "debug", CONFIG_TYPE_BOOL, "no", 0, 0, "debug logging"},
	{"imap", "max_literal", CONFIG_TYPE_SIZE, "50m", 1, 1LL << 40, "largest literal"},
	{"imap", "idle_timeout", CONFIG_TYPE_TIME, "30m", 0, 0, "autologout"},
	{"imap", "listen", CONFIG_TYPE_LIST, "127.0.0.1:1143", 0, 0, "addresses"},
	{"imap", "banner", CONFIG_TYPE_STRING, NULL, 0, 0, "greeting"},
	{NULL, NULL, 0, NULL, 0, 0, NULL},
};

static void test_defaults(void **state)
{
	struct config *c = config_new(settings);
	assert_string_equal(config_get_str(c, "server", "hostname"), "localhost");
	assert_int_equal(config_get_int(c, "server", "workers"), 4);
	assert_false(config_get_bool(c, "server", "debug"));
	assert_int_equal(config_get_size(c, "imap", "max_literal"), 50 * 1024 * 1024);
	assert_int_equal(config_get_time(c, "imap", "idle_timeout"), 1800);
	const char *const *l = config_get_list(c, "imap", "listen");
	assert_string_equal(l[0], "127.0.0.1:1143");
	assert_null(l[1]);
	assert_null(config_get_str(c, "imap", "banner"));
	config_free(&c);
	assert_null(c);
}

static void test_load_string(void **state)
{
	struct config *c = config_new(settings);
	const char *error = NULL;
	const char *text = "; comment\n"
			   "[server]\n"
			   "hostname = mail.example.test\n"
			   "workers=16\n"
			   "debug = YES\n"
			   "\n"
			   "[IMAP]\n"
			   "listen = 127.0.0.1:143, [::1]:143\n"
			   "max_literal = 1k\n"
			   "idle_timeout = 2h\n";
	assert_int_equal(config_load_string(c, "t.ini", text, &error), 0);
	assert_string_equal(config_get_str(c, "server", "hostname"), "mail.example.test");
	assert_int_equal(config_get_int(c, "server", "workers"), 16);
	assert_true(config_get_bool(c, "server", "debug"));
	assert_int_equal(config_get_size(c, "imap", "max_literal"), 1024);
	assert_int_equal(config_get_time(c, "imap", "idle_timeout"), 7200);
	const char *const *l = config_get_list(c, "imap", "listen");
	assert_string_equal(l[0], "127.0.0.1:143");
	assert_string_equal(l[1], "[::1]:143");
	assert_null(l[2]);
	config_free(&c);
}

static void expect_error(const char *text, const char *want)
{
	struct config *c = config_new(settings);
	const char *error = NULL;
	assert_int_equal(config_load_string(c, "bad.ini", text, &error), -1);
	assert_non_null(error);
	if (strstr(error, want) == NULL)
		fail_msg("error '%s' lacks '%s'", error, want);
	config_free(&c);
}

static void test_errors_name_file_line_reason(void **state)
{
	expect_error("[server]\nworkers = 0\n", "bad.ini:2: workers: 0 is out of range [1, 256]");
	expect_error("[server]\n\nworkers = many\n", "bad.ini:3: workers: 'many' is not an integer");
	expect_error("[server]\ndebug = perhaps\n", "bad.ini:2: debug: 'perhaps' is not yes or no");
	expect_error("[server]\nnope = 1\n", "bad.ini:2: unknown setting 'nope' in [server]");
	expect_error("[nosuch]\nx = 1\n", "bad.ini:2: unknown section [nosuch]");
	expect_error("[server]\njust words\n", "bad.ini:2: syntax error");
	expect_error("[server\nworkers = 2\n", "bad.ini:1: syntax error");
	expect_error("workers = 2\n", "bad.ini:1: 'workers' is outside any [section]");
	expect_error("[imap]\nmax_literal = 12q\n", "bad.ini:2: max_literal");
	expect_error("[imap]\nmax_literal = 99999999999999999999g\n", "bad.ini:2: max_literal");
	expect_error("[imap]\nidle_timeout = -5\n", "bad.ini:2: idle_timeout");
	/* The first error is the one reported, even when a later line is also bad. */
	expect_error("[server]\nworkers = 1\nworkers = x\nbogus\n", "bad.ini:3:");
}

static void test_file(void **state)
{
	char path[] = "/tmp/hermod-test-cfg-XXXXXX";
	int fd = mkstemp(path);
	assert_true(write(fd, "[server]\nworkers = 8\n", 21) == 21);
	close(fd);
	struct config *c = config_new(settings);
	const char *error;
	assert_int_equal(config_load_file(c, path, &error), 0);
	assert_int_equal(config_get_int(c, "server", "workers"), 8);
	unlink(path);
	assert_int_equal(config_load_file(c, path, &error), -1);
	assert_non_null(strstr(error, "cannot open"));
	assert_int_equal(config_set(c, "server", "workers", "300", &error), -1);
	assert_int_equal(config_set(c, "server", "workers", "3", &error), 0);
	assert_int_equal(config_get_int(c, "server", "workers"), 3);
	config_free(&c);
}

static void test_parsers(void **state)
{
	uint64_t u;
	int64_t t;
	bool b;
	assert_int_equal(config_parse_size("10", &u), 0);
	assert_int_equal(u, 10);
	assert_int_equal(config_parse_size("2G", &u), 0);
	assert_true(u == 2ULL << 30);
	assert_int_equal(config_parse_size("k", &u), -1);
	assert_int_equal(config_parse_size("", &u), -1);
	assert_int_equal(config_parse_time("5d", &t), 0);
	assert_int_equal(t, 5 * 86400);
	assert_int_equal(config_parse_time("90s", &t), 0);
	assert_int_equal(t, 90);
	assert_int_equal(config_parse_bool("off", &b), 0);
	assert_false(b);
	assert_int_equal(config_parse_bool("2", &b), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_load_string),
		cmocka_unit_test(test_errors_name_file_line_reason),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_parsers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
