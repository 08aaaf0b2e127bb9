#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "directory/auth.h"
#include "testdir.h"

struct fixture {
	char *tmp;
	struct directory *dir;
	pool_t *pool;
	int64_t now;
	struct directory_throttle *throttle;
	int64_t alice_id;
};

static int64_t fixture_clock(void *ctx)
{
	return ((struct fixture *)ctx)->now;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->tmp = testdir_new();
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", f->tmp, DIRECTORY_DB_NAME);
	const struct directory_settings set = {.password_hash_cost = 1};
	const char *err = NULL;
	if (directory_open(path, &set, &f->dir, &err) < 0 ||
		directory_domain_add(f->dir, "example.com", &err) < 0) {
		fprintf(stderr, "setup: %s\n", err);
		return -1;
	}
	f->pool = pool_new("test", 0);
	struct directory_user_spec spec = {
		.address = "alice@example.com", .password = "wonderland"};
	struct directory_user *u;
	if (directory_user_add(f->dir, &spec, f->pool, &u, &err) < 0 ||
		directory_alias_add(f->dir, u->id, "ally@example.com", &err) < 0)
		return -1;
	f->alice_id = u->id;
	spec = (struct directory_user_spec){.address = "off@example.com", .password = "pw",
		.disabled = true};
	if (directory_user_add(f->dir, &spec, NULL, NULL, &err) < 0)
		return -1;
	spec = (struct directory_user_spec){.address = "nopw@example.com"};
	if (directory_user_add(f->dir, &spec, NULL, NULL, &err) < 0)
		return -1;
	f->now = 5000;
	struct directory_throttle_settings ts = {
		.max_failures_per_ip = 5,
		.max_failures_per_user = 3,
		.window_secs = 900,
		.clock = fixture_clock,
		.clock_ctx = f,
	};
	f->throttle = directory_throttle_new(&ts);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	directory_throttle_free(&f->throttle);
	directory_close(&f->dir);
	pool_free(&f->pool);
	testdir_free(f->tmp);
	free(f);
	return 0;
}

static enum directory_auth_result auth(struct fixture *f, const char *user, const char *pw,
	const char *ip)
{
	struct directory_user *u = (void *)1;
	const char *err = NULL;
	enum directory_auth_result r =
		directory_auth_plain(f->dir, f->throttle, user, pw, ip, f->pool, &u, &err);
	if (r == DIRECTORY_AUTH_OK) {
		assert_non_null(u);
		assert_int_equal(u->id, f->alice_id);
	} else {
		assert_null(u);
		assert_non_null(err);
	}
	return r;
}

static void test_basic(void **state)
{
	struct fixture *f = *state;
	/* Many failures below: a throttle that never refuses. */
	directory_throttle_free(&f->throttle);
	struct directory_throttle_settings ts = {.window_secs = 900};
	f->throttle = directory_throttle_new(&ts);
	assert_int_equal(auth(f, "alice@example.com", "wonderland", "192.0.2.1"),
		DIRECTORY_AUTH_OK);
	/* Any case, and the alias. */
	assert_int_equal(auth(f, "ALICE@Example.com", "wonderland", "192.0.2.1"),
		DIRECTORY_AUTH_OK);
	assert_int_equal(auth(f, "ally@example.com", "wonderland", NULL), DIRECTORY_AUTH_OK);
	/* The password is case-sensitive and exact. */
	assert_int_equal(auth(f, "alice@example.com", "Wonderland", NULL), DIRECTORY_AUTH_FAILED);
	assert_int_equal(auth(f, "alice@example.com", "wonderlan", NULL), DIRECTORY_AUTH_FAILED);
	assert_int_equal(auth(f, "alice@example.com", "wonderland ", NULL), DIRECTORY_AUTH_FAILED);
	assert_int_equal(auth(f, "alice@example.com", "", NULL), DIRECTORY_AUTH_FAILED);
	/* Unknown users, bad names, users without a password. */
	assert_int_equal(auth(f, "bob@example.com", "wonderland", NULL), DIRECTORY_AUTH_FAILED);
	assert_int_equal(auth(f, "alice", "wonderland", NULL), DIRECTORY_AUTH_FAILED);
	assert_int_equal(auth(f, "", "", NULL), DIRECTORY_AUTH_FAILED);
	assert_int_equal(auth(f, "nopw@example.com", "", NULL), DIRECTORY_AUTH_FAILED);
	assert_int_equal(auth(f, "nopw@example.com", "x", NULL), DIRECTORY_AUTH_FAILED);
	/* Disabled: told apart only with the right password. */
	assert_int_equal(auth(f, "off@example.com", "pw", NULL), DIRECTORY_AUTH_DISABLED);
	assert_int_equal(auth(f, "off@example.com", "wrong", NULL), DIRECTORY_AUTH_FAILED);
	/* Without a throttle. */
	struct directory_user *u;
	const char *err;
	assert_int_equal(directory_auth_plain(f->dir, NULL, "alice@example.com", "wonderland", NULL,
				 f->pool, &u, &err),
		DIRECTORY_AUTH_OK);
	assert_string_equal(directory_auth_result_name(DIRECTORY_AUTH_THROTTLED), "throttled");
	assert_string_equal(directory_auth_result_name(DIRECTORY_AUTH_OK), "ok");
	/* A changed password takes effect at once. */
	assert_int_equal(directory_user_set_password(f->dir, f->alice_id, "looking glass",
				 DIRECTORY_NT_HASH_KEEP, NULL),
		1);
	assert_int_equal(auth(f, "alice@example.com", "wonderland", "192.0.2.9"),
		DIRECTORY_AUTH_FAILED);
	assert_int_equal(auth(f, "alice@example.com", "looking glass", "192.0.2.9"),
		DIRECTORY_AUTH_OK);
}

static void test_throttle_user(void **state)
{
	struct fixture *f = *state;
	/* Three failures for alice, by every spelling, from three addresses. */
	assert_int_equal(auth(f, "alice@example.com", "x", "192.0.2.1"), DIRECTORY_AUTH_FAILED);
	assert_int_equal(auth(f, "ALLY@example.com", "x", "192.0.2.2"), DIRECTORY_AUTH_FAILED);
	assert_int_equal(auth(f, "Alice@EXAMPLE.com", "x", "192.0.2.3"), DIRECTORY_AUTH_FAILED);
	/* Now even the right password is refused, distinctly. */
	struct directory_user *u;
	const char *err = NULL;
	assert_int_equal(directory_auth_plain(f->dir, f->throttle, "alice@example.com",
				 "wonderland", "192.0.2.4", f->pool, &u, &err),
		DIRECTORY_AUTH_THROTTLED);
	assert_non_null(strstr(err, "user"));
	assert_int_equal(auth(f, "ally@example.com", "wonderland", "192.0.2.4"),
		DIRECTORY_AUTH_THROTTLED);
	/* Other users from the same addresses are fine. */
	assert_int_equal(auth(f, "off@example.com", "pw", "192.0.2.4"), DIRECTORY_AUTH_DISABLED);
	/* Until the window (900 s from the first failure) is over. */
	f->now += 899;
	assert_int_equal(auth(f, "alice@example.com", "wonderland", "192.0.2.4"),
		DIRECTORY_AUTH_THROTTLED);
	f->now += 1;
	assert_int_equal(auth(f, "alice@example.com", "wonderland", "192.0.2.4"),
		DIRECTORY_AUTH_OK);

	/* Unknown users are throttled by name too (lower-cased). */
	for (int i = 0; i < 3; i++)
		assert_int_equal(auth(f, "Ghost@example.com", "x", NULL), DIRECTORY_AUTH_FAILED);
	assert_int_equal(auth(f, "ghost@example.com", "x", NULL), DIRECTORY_AUTH_THROTTLED);
}

static void test_throttle_ip(void **state)
{
	struct fixture *f = *state;
	const char *names[] = {"a@example.com", "b@example.com", "c@example.com",
		"off@example.com", "alice@example.com"};
	for (int i = 0; i < 5; i++)
		assert_int_equal(auth(f, names[i], "guess", "198.51.100.1"), DIRECTORY_AUTH_FAILED);
	/* The address is spent: alice's right password is refused from it. */
	struct directory_user *u;
	const char *err = NULL;
	assert_int_equal(directory_auth_plain(f->dir, f->throttle, "alice@example.com",
				 "wonderland", "198.51.100.1", f->pool, &u, &err),
		DIRECTORY_AUTH_THROTTLED);
	assert_non_null(strstr(err, "address"));
	/* ...but not from elsewhere (alice has 1 failure of 3). */
	assert_int_equal(auth(f, "alice@example.com", "wonderland", "198.51.100.2"),
		DIRECTORY_AUTH_OK);
	f->now += 900;
	assert_int_equal(auth(f, "alice@example.com", "wonderland", "198.51.100.1"),
		DIRECTORY_AUTH_OK);
}

struct auth_thread {
	struct fixture *f;
	int ok, failed, throttled, other;
	bool right;
	char ip[32];
};

static void *auth_worker(void *p)
{
	struct auth_thread *a = p;
	pool_t *pool = pool_new("auth", 0);
	for (int i = 0; i < 20; i++) {
		struct directory_user *u;
		const char *err;
		const char *pw = a->right ? "wonderland" : "nope";
		enum directory_auth_result r = directory_auth_plain(a->f->dir, a->f->throttle,
			"alice@example.com", pw, a->ip, pool, &u, &err);
		if (r == DIRECTORY_AUTH_OK && u != NULL && u->id == a->f->alice_id)
			a->ok++;
		else if (r == DIRECTORY_AUTH_FAILED)
			a->failed++;
		else if (r == DIRECTORY_AUTH_THROTTLED)
			a->throttled++;
		else {
			fprintf(stderr, "# unexpected %s: %s\n", directory_auth_result_name(r),
				err);
			a->other++;
		}
		pool_clear(pool);
	}
	pool_free(&pool);
	return NULL;
}

static void test_concurrent(void **state)
{
	struct fixture *f = *state;
	/* Six threads, each its own address, all logging in right: no
	 * throttling, every attempt succeeds. */
	pthread_t th[6];
	struct auth_thread a[6];
	for (int i = 0; i < 6; i++) {
		a[i] = (struct auth_thread){.f = f, .right = true};
		snprintf(a[i].ip, sizeof(a[i].ip), "10.1.0.%d", i);
		pthread_create(&th[i], NULL, auth_worker, &a[i]);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(a[i].ok, 20);
		assert_int_equal(a[i].other, 0);
	}
	/* Six threads guessing: exactly the per-user allowance (3) of
	 * guesses is judged, everything else throttled. */
	for (int i = 0; i < 6; i++) {
		a[i] = (struct auth_thread){.f = f, .right = false};
		snprintf(a[i].ip, sizeof(a[i].ip), "10.2.0.%d", i);
		pthread_create(&th[i], NULL, auth_worker, &a[i]);
	}
	int failed = 0, throttled = 0;
	for (int i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		failed += a[i].failed;
		throttled += a[i].throttled;
		assert_int_equal(a[i].ok + a[i].other, 0);
	}
	assert_int_equal(failed, 3);
	assert_int_equal(throttled, 6 * 20 - 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throttle_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throttle_ip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
