#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char data[8192];
	size_t n = fread(data, 1, sizeof(data) - 1, f);
	data[n] = '\0';
	fclose(f);
	return data;
}

static void test_context_and_levels(void **state)
{
	char path[] = "/tmp/hermod-test-log-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	const char *error;
	assert_int_equal(log_open(path, LOG_LEVEL_INFO, &error), 0);
	struct log_ctx ctx = {.session = "imap-7", .peer = "127.0.0.1:5000", .user = "alice",
		.action = "FETCH"};
	log_info(&ctx, "hello %d", 42);
	log_debug(&ctx, "not shown");
	log_error(NULL, "bare\ninjected line");
	log_close();
	char *text = read_all(path);
	assert_non_null(strstr(text, "info: [imap-7] peer=127.0.0.1:5000 user=alice (FETCH) hello 42\n"));
	assert_null(strstr(text, "not shown"));
	/* Newlines from data cannot forge a second line. */
	assert_non_null(strstr(text, "error: bare?injected line\n"));
	int lines = 0;
	for (char *p = text; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 2);
	unlink(path);
}

static void test_level_parse_and_bad_path(void **state)
{
	enum log_level l;
	assert_int_equal(log_level_parse("DEBUG", &l), 0);
	assert_int_equal(l, LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("warning", &l), 0);
	assert_int_equal(l, LOG_LEVEL_WARNING);
	assert_int_equal(log_level_parse("loud", &l), -1);
	const char *error = NULL;
	assert_int_equal(log_open("/nonexistent/dir/x.log", LOG_LEVEL_INFO, &error), -1);
	assert_non_null(strstr(error, "/nonexistent/dir/x.log"));
}

static void test_long_line_truncated(void **state)
{
	char path[] = "/tmp/hermod-test-log-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	const char *error;
	assert_int_equal(log_open(path, LOG_LEVEL_DEBUG, &error), 0);
	char big[10000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info(NULL, "%s", big);
	log_close();
	char *text = read_all(path);
	size_t len = strlen(text);
	assert_true(len <= 4096);
	assert_int_equal(text[len - 1], '\n');
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_context_and_levels),
		cmocka_unit_test(test_level_parse_and_bad_path),
		cmocka_unit_test(test_long_line_truncated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
