#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "directory/throttle.h"

static int64_t fake_now;

static int64_t fake_clock(void *ctx)
{
	return *(int64_t *)ctx;
}

static struct directory_throttle *new_throttle(unsigned per_ip, unsigned per_user,
	unsigned window, size_t entries)
{
	struct directory_throttle_settings s = {
		.max_failures_per_ip = per_ip,
		.max_failures_per_user = per_user,
		.window_secs = window,
		.max_entries = entries,
		.clock = fake_clock,
		.clock_ctx = &fake_now,
	};
	return directory_throttle_new(&s);
}

/* One attempt: begin, and if it may go on, end with its outcome. */
static enum directory_throttle_verdict attempt(struct directory_throttle *t, const char *ip,
	const char *user, bool success)
{
	enum directory_throttle_verdict v = directory_throttle_begin(t, ip, user);
	if (v == DIRECTORY_THROTTLE_PASS)
		v = directory_throttle_end(t, ip, user, success);
	return v;
}

static void test_per_user(void **state)
{
	fake_now = 1000;
	struct directory_throttle *t = new_throttle(100, 3, 60, 0);
	/* Three failures from different addresses: the fourth attempt for
	 * the user is refused, even with the right password. */
	assert_int_equal(attempt(t, "192.0.2.1", "bob", false), DIRECTORY_THROTTLE_PASS);
	assert_int_equal(attempt(t, "192.0.2.2", "bob", false), DIRECTORY_THROTTLE_PASS);
	fake_now += 30;
	assert_int_equal(attempt(t, "192.0.2.3", "bob", false), DIRECTORY_THROTTLE_PASS);
	assert_int_equal(attempt(t, "192.0.2.4", "bob", true), DIRECTORY_THROTTLE_BY_USER);
	assert_int_equal(attempt(t, NULL, "bob", true), DIRECTORY_THROTTLE_BY_USER);
	/* Other users are not affected. */
	assert_int_equal(attempt(t, "192.0.2.4", "alice", true), DIRECTORY_THROTTLE_PASS);
	/* The window opened at the first failure (t=1000) and lasts 60 s. */
	fake_now = 1059;
	assert_int_equal(attempt(t, "192.0.2.4", "bob", true), DIRECTORY_THROTTLE_BY_USER);
	fake_now = 1060;
	assert_int_equal(attempt(t, "192.0.2.4", "bob", false), DIRECTORY_THROTTLE_PASS);
	/* A new window: two more failures allowed, then a success clears. */
	assert_int_equal(attempt(t, "192.0.2.4", "bob", false), DIRECTORY_THROTTLE_PASS);
	assert_int_equal(attempt(t, "192.0.2.4", "bob", true), DIRECTORY_THROTTLE_PASS);
	assert_int_equal(attempt(t, "192.0.2.4", "bob", false), DIRECTORY_THROTTLE_PASS);
	assert_int_equal(attempt(t, "192.0.2.4", "bob", false), DIRECTORY_THROTTLE_PASS);
	assert_int_equal(attempt(t, "192.0.2.4", "bob", false), DIRECTORY_THROTTLE_PASS);
	assert_int_equal(attempt(t, "192.0.2.4", "bob", true), DIRECTORY_THROTTLE_BY_USER);
	directory_throttle_free(&t);
	assert_null(t);
}

static void test_per_ip(void **state)
{
	fake_now = 0;
	struct directory_throttle *t = new_throttle(4, 100, 10, 0);
	/* Four failures against four users from one address. */
	for (int i = 0; i < 4; i++) {
		char user[16];
		snprintf(user, sizeof(user), "u%d", i);
		assert_int_equal(attempt(t, "198.51.100.7", user, false), DIRECTORY_THROTTLE_PASS);
	}
	assert_int_equal(attempt(t, "198.51.100.7", "u9", true), DIRECTORY_THROTTLE_BY_IP);
	assert_int_equal(attempt(t, "198.51.100.7", NULL, true), DIRECTORY_THROTTLE_BY_IP);
	/* Another address is fine. */
	assert_int_equal(attempt(t, "198.51.100.8", "u9", true), DIRECTORY_THROTTLE_PASS);
	/* A success from the address does not clear its failures. */
	fake_now = 10;
	assert_int_equal(attempt(t, "198.51.100.7", "u1", false), DIRECTORY_THROTTLE_PASS);
	assert_int_equal(attempt(t, "198.51.100.7", "u9", true), DIRECTORY_THROTTLE_PASS);
	assert_int_equal(attempt(t, "198.51.100.7", "u2", false), DIRECTORY_THROTTLE_PASS);
	assert_int_equal(attempt(t, "198.51.100.7", "u3", false), DIRECTORY_THROTTLE_PASS);
	assert_int_equal(attempt(t, "198.51.100.7", "u4", false), DIRECTORY_THROTTLE_PASS);
	assert_int_equal(attempt(t, "198.51.100.7", "u9", true), DIRECTORY_THROTTLE_BY_IP);
	/* Address first: both over, the address is named. */
	directory_throttle_free(&t);

	t = new_throttle(1, 1, 10, 0);
	assert_int_equal(attempt(t, "a", "u", false), DIRECTORY_THROTTLE_PASS);
	assert_int_equal(attempt(t, "a", "u", false), DIRECTORY_THROTTLE_BY_IP);
	assert_int_equal(attempt(t, "b", "u", false), DIRECTORY_THROTTLE_BY_USER);
	directory_throttle_free(&t);
}

static void test_unlimited(void **state)
{
	fake_now = 0;
	struct directory_throttle *t = new_throttle(0, 0, 10, 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(attempt(t, "a", "u", false), DIRECTORY_THROTTLE_PASS);
	assert_int_equal(directory_throttle_entries(t), 0);
	directory_throttle_free(&t);
}

static void test_in_flight(void **state)
{
	fake_now = 0;
	struct directory_throttle *t = new_throttle(10, 2, 10, 0);
	/* Many attempts may be in flight at once: none is refused for it. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(directory_throttle_begin(t, "a", "u"), DIRECTORY_THROTTLE_PASS);
	/* Two failures are answered as failures, a third is over the
	 * allowance, and a success after them stays hidden. */
	assert_int_equal(directory_throttle_end(t, "a", "u", false), DIRECTORY_THROTTLE_PASS);
	assert_int_equal(directory_throttle_end(t, "a", "u", false), DIRECTORY_THROTTLE_PASS);
	assert_int_equal(directory_throttle_end(t, "a", "u", false), DIRECTORY_THROTTLE_BY_USER);
	assert_int_equal(directory_throttle_end(t, "a", "u", true), DIRECTORY_THROTTLE_BY_USER);
	assert_int_equal(directory_throttle_begin(t, "b", "u"), DIRECTORY_THROTTLE_BY_USER);
	/* The hidden success did not clear the failures. */
	assert_int_equal(directory_throttle_begin(t, "b", "u"), DIRECTORY_THROTTLE_BY_USER);
	/* The same for an address. */
	struct directory_throttle *t2 = new_throttle(1, 10, 10, 0);
	assert_int_equal(directory_throttle_begin(t2, "a", "u1"), DIRECTORY_THROTTLE_PASS);
	assert_int_equal(directory_throttle_begin(t2, "a", "u2"), DIRECTORY_THROTTLE_PASS);
	assert_int_equal(directory_throttle_end(t2, "a", "u1", false), DIRECTORY_THROTTLE_PASS);
	assert_int_equal(directory_throttle_end(t2, "a", "u2", true), DIRECTORY_THROTTLE_BY_IP);
	directory_throttle_free(&t2);
	directory_throttle_free(&t);
}

static void test_bounded(void **state)
{
	fake_now = 0;
	struct directory_throttle *t = new_throttle(1, 1, 3600, 8);
	char ip[32];
	/* 100 addresses fail once each: only 8 per table are remembered. */
	for (int i = 0; i < 100; i++) {
		snprintf(ip, sizeof(ip), "10.0.0.%d", i);
		fake_now = i;
		assert_int_equal(attempt(t, ip, NULL, false), DIRECTORY_THROTTLE_PASS);
		assert_true(directory_throttle_entries(t) <= 8);
	}
	assert_int_equal(directory_throttle_entries(t), 8);
	/* The most recent are still throttled, the oldest were evicted. */
	assert_int_equal(attempt(t, "10.0.0.99", NULL, false), DIRECTORY_THROTTLE_BY_IP);
	assert_int_equal(attempt(t, "10.0.0.92", NULL, false), DIRECTORY_THROTTLE_BY_IP);
	assert_int_equal(attempt(t, "10.0.0.0", NULL, true), DIRECTORY_THROTTLE_PASS);
	/* Long keys are cut, not stored whole. */
	char longkey[1000];
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	assert_int_equal(attempt(t, NULL, longkey, false), DIRECTORY_THROTTLE_PASS);
	longkey[900] = 'x'; /* differs only after the cut: the same counter */
	assert_int_equal(attempt(t, NULL, longkey, false), DIRECTORY_THROTTLE_BY_USER);
	directory_throttle_free(&t);
}

static void test_expired_entries_dropped(void **state)
{
	fake_now = 0;
	struct directory_throttle *t = new_throttle(5, 5, 10, 0);
	assert_int_equal(attempt(t, "a", "u", false), DIRECTORY_THROTTLE_PASS);
	assert_int_equal(directory_throttle_entries(t), 2);
	fake_now = 10;
	/* The next attempt sees the window over and succeeds: nothing left. */
	assert_int_equal(attempt(t, "a", "u", true), DIRECTORY_THROTTLE_PASS);
	assert_int_equal(directory_throttle_entries(t), 0);
	directory_throttle_free(&t);
	/* Freeing NULL is fine. */
	directory_throttle_free(&t);
}

/* Real clock: the default is used when none is injected. */
static void test_default_clock(void **state)
{
	struct directory_throttle_settings s = {.max_failures_per_user = 1, .window_secs = 3600};
	struct directory_throttle *t = directory_throttle_new(&s);
	assert_int_equal(attempt(t, NULL, "u", false), DIRECTORY_THROTTLE_PASS);
	assert_int_equal(attempt(t, NULL, "u", true), DIRECTORY_THROTTLE_BY_USER);
	directory_throttle_free(&t);
}

struct thread_arg {
	struct directory_throttle *t;
	int passed;
};

static void *hammer(void *p)
{
	struct thread_arg *a = p;
	for (int i = 0; i < 1000; i++) {
		if (directory_throttle_begin(a->t, "203.0.113.1", "victim") ==
				DIRECTORY_THROTTLE_PASS &&
			directory_throttle_end(a->t, "203.0.113.1", "victim", false) ==
				DIRECTORY_THROTTLE_PASS)
			a->passed++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	fake_now = 0;
	struct directory_throttle *t = new_throttle(1000, 25, 60, 0);
	pthread_t th[8];
	struct thread_arg args[8];
	for (int i = 0; i < 8; i++) {
		args[i] = (struct thread_arg){t, 0};
		pthread_create(&th[i], NULL, hammer, &args[i]);
	}
	int total = 0;
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		total += args[i].passed;
	}
	/* Exactly the allowance was answered as failures, however the
	 * threads raced. */
	assert_int_equal(total, 25);
	directory_throttle_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_user),
		cmocka_unit_test(test_per_ip),
		cmocka_unit_test(test_unlimited),
		cmocka_unit_test(test_in_flight),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_expired_entries_dropped),
		cmocka_unit_test(test_default_clock),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
