/* The verified-password cache (directory/auth_cache.h) alone and inside
 * directory_auth_plain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "directory/auth.h"
#include "directory/auth_cache.h"
#include "testdir.h"

static int64_t fake_now;
static int64_t fake_clock(void *ctx)
{
	return fake_now;
}

static void test_cache_alone(void **state)
{
	assert_null(directory_auth_cache_new(0, 60, NULL, NULL));
	assert_null(directory_auth_cache_new(100, 0, NULL, NULL));
	assert_false(directory_auth_cache_check(NULL, "$y$h", "pw"));
	directory_auth_cache_add(NULL, "$y$h", "pw");
	assert_int_equal(directory_auth_cache_count(NULL), 0);
	directory_auth_cache_free(&(struct directory_auth_cache *){NULL});

	fake_now = 1000;
	struct directory_auth_cache *c = directory_auth_cache_new(64, 60, fake_clock, NULL);
	assert_non_null(c);
	assert_false(directory_auth_cache_check(c, "$y$h1", "pw"));
	directory_auth_cache_add(c, "$y$h1", "pw");
	assert_true(directory_auth_cache_check(c, "$y$h1", "pw"));
	/* Another password, another hash, a NULL hash, or the separator
	 * moved between them: all miss. */
	assert_false(directory_auth_cache_check(c, "$y$h1", "pW"));
	assert_false(directory_auth_cache_check(c, "$y$h1", "pw "));
	assert_false(directory_auth_cache_check(c, "$y$h2", "pw"));
	assert_false(directory_auth_cache_check(c, NULL, "pw"));
	directory_auth_cache_add(c, "a", "bc");
	assert_false(directory_auth_cache_check(c, "ab", "c"));
	assert_int_equal(directory_auth_cache_count(c), 2);
	/* Adding again renews, without a second entry. */
	fake_now = 1050;
	directory_auth_cache_add(c, "$y$h1", "pw");
	assert_int_equal(directory_auth_cache_count(c), 2);
	fake_now = 1061;
	assert_true(directory_auth_cache_check(c, "$y$h1", "pw"));
	assert_false(directory_auth_cache_check(c, "a", "bc"));
	fake_now = 1110;
	assert_false(directory_auth_cache_check(c, "$y$h1", "pw"));
	assert_int_equal(directory_auth_cache_count(c), 0);
	directory_auth_cache_free(&c);
	assert_null(c);
}

static void test_cache_bounded(void **state)
{
	fake_now = 1;
	struct directory_auth_cache *c = directory_auth_cache_new(8, 60, fake_clock, NULL);
	char pw[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(pw, sizeof(pw), "pw%d", i);
		directory_auth_cache_add(c, "$y$h", pw);
		/* The newest entry is always there. */
		assert_true(directory_auth_cache_check(c, "$y$h", pw));
		assert_true(directory_auth_cache_count(c) <= 8);
	}
	assert_int_equal(directory_auth_cache_count(c), 8);
	directory_auth_cache_free(&c);
	/* One bucket: the four newest survive. */
	c = directory_auth_cache_new(4, 60, fake_clock, NULL);
	for (int i = 0; i < 10; i++) {
		snprintf(pw, sizeof(pw), "p%d", i);
		directory_auth_cache_add(c, "h", pw);
	}
	for (int i = 0; i < 10; i++) {
		snprintf(pw, sizeof(pw), "p%d", i);
		assert_int_equal(directory_auth_cache_check(c, "h", pw), i >= 6);
	}
	directory_auth_cache_free(&c);
}

struct fixture {
	char *tmp;
	struct directory *dir;
	pool_t *pool;
	int64_t alice;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->tmp = testdir_new();
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", f->tmp, DIRECTORY_DB_NAME);
	/* The default cost, so that a verification is measurably slower
	 * than a cache hit. */
	const struct directory_settings set = {.auth_cache_entries = 100, .auth_cache_ttl_s = 60};
	const char *err = NULL;
	if (directory_open(path, &set, &f->dir, &err) < 0 ||
		directory_domain_add(f->dir, "example.com", &err) < 0)
		return -1;
	f->pool = pool_new("test", 0);
	struct directory_user_spec spec = {.address = "alice@example.com", .password = "wonderland"};
	struct directory_user *u;
	if (directory_user_add(f->dir, &spec, f->pool, &u, &err) < 0)
		return -1;
	f->alice = u->id;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	directory_close(&f->dir);
	pool_free(&f->pool);
	testdir_free(f->tmp);
	free(f);
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static enum directory_auth_result auth(struct fixture *f, struct directory_throttle *t,
	const char *pw, const char *ip, double *ms_r)
{
	struct directory_user *u;
	const char *err;
	double t0 = now_ms();
	enum directory_auth_result r = directory_auth_plain(f->dir, t, "Alice@example.com", pw,
		ip, f->pool, &u, &err);
	if (ms_r != NULL)
		*ms_r = now_ms() - t0;
	if (r == DIRECTORY_AUTH_OK)
		assert_int_equal(u->id, f->alice);
	return r;
}

static void test_cache_in_auth(void **state)
{
	struct fixture *f = *state;
	double first, second, wrong;
	assert_int_equal(auth(f, NULL, "wonderland", NULL, &first), DIRECTORY_AUTH_OK);
	assert_int_equal(auth(f, NULL, "wonderland", NULL, &second), DIRECTORY_AUTH_OK);
	/* yescrypt at the default cost takes tens of milliseconds; a hit is
	 * an HMAC and a lookup. */
	assert_true(second * 4 < first);
	/* Wrong passwords are never cached: each pays the hash. */
	assert_int_equal(auth(f, NULL, "wonderlan", NULL, &wrong), DIRECTORY_AUTH_FAILED);
	assert_int_equal(auth(f, NULL, "wonderlan", NULL, &wrong), DIRECTORY_AUTH_FAILED);
	assert_true(wrong * 4 > first);
	/* A changed password misses at once: the old one fails, the new one
	 * works. */
	assert_int_equal(directory_user_set_password(f->dir, f->alice, "looking glass",
				 DIRECTORY_NT_HASH_KEEP, NULL),
		1);
	assert_int_equal(auth(f, NULL, "wonderland", NULL, NULL), DIRECTORY_AUTH_FAILED);
	assert_int_equal(auth(f, NULL, "looking glass", NULL, NULL), DIRECTORY_AUTH_OK);
	assert_int_equal(auth(f, NULL, "looking glass", NULL, NULL), DIRECTORY_AUTH_OK);
	/* Disabling applies to cached passwords too. */
	assert_int_equal(directory_user_set_enabled(f->dir, f->alice, false, NULL), 1);
	assert_int_equal(auth(f, NULL, "looking glass", NULL, NULL), DIRECTORY_AUTH_DISABLED);
	assert_int_equal(directory_user_set_enabled(f->dir, f->alice, true, NULL), 1);
	assert_int_equal(auth(f, NULL, "looking glass", NULL, NULL), DIRECTORY_AUTH_OK);
	/* The throttle still refuses a cached right password once spent. */
	struct directory_throttle_settings ts = {.max_failures_per_ip = 2, .window_secs = 900};
	struct directory_throttle *t = directory_throttle_new(&ts);
	assert_int_equal(auth(f, t, "x", "192.0.2.7", NULL), DIRECTORY_AUTH_FAILED);
	assert_int_equal(auth(f, t, "y", "192.0.2.7", NULL), DIRECTORY_AUTH_FAILED);
	assert_int_equal(auth(f, t, "looking glass", "192.0.2.7", NULL), DIRECTORY_AUTH_THROTTLED);
	assert_int_equal(auth(f, t, "looking glass", "192.0.2.8", NULL), DIRECTORY_AUTH_OK);
	directory_throttle_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_alone),
		cmocka_unit_test(test_cache_bounded),
		cmocka_unit_test_setup_teardown(test_cache_in_auth, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
