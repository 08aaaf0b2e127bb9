#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "directory/directory.h"
#include "testdir.h"

struct fixture {
	char *tmp;
	char path[4200];
	struct directory *dir;
	pool_t *pool;
};

static const struct directory_settings fast = {.password_hash_cost = 1};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->tmp = testdir_new();
	snprintf(f->path, sizeof(f->path), "%s/%s", f->tmp, DIRECTORY_DB_NAME);
	const char *err = NULL;
	if (directory_open(f->path, &fast, &f->dir, &err) < 0) {
		fprintf(stderr, "open: %s\n", err);
		return -1;
	}
	f->pool = pool_new("test", 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	directory_close(&f->dir);
	assert_null(f->dir);
	pool_free(&f->pool);
	testdir_free(f->tmp);
	free(f);
	return 0;
}

#define OK(call)                                                                                   \
	do {                                                                                       \
		const char *err_ = NULL;                                                           \
		const char **error_r = &err_;                                                      \
		if ((call) < 0)                                                                    \
			fail_msg("%s: %s", #call, err_);                                           \
	} while (0)

/* Expects call to fail with a message containing why. */
#define FAILS(call, why)                                                                           \
	do {                                                                                       \
		const char *err_ = NULL;                                                           \
		const char **error_r = &err_;                                                      \
		if ((call) >= 0)                                                                   \
			fail_msg("%s succeeded", #call);                                           \
		if (err_ == NULL || strstr(err_, (why)) == NULL)                                   \
			fail_msg("%s: error '%s' lacks '%s'", #call, err_ ? err_ : "(null)",       \
				(why));                                                            \
	} while (0)

static struct directory_user *add_user(struct fixture *f, const char *address, const char *pw)
{
	struct directory_user_spec spec = {.address = address, .password = pw};
	struct directory_user *u = NULL;
	OK(directory_user_add(f->dir, &spec, f->pool, &u, error_r));
	return u;
}

static void test_open_schema(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	/* Password hashes inside: private to the owner. */
	assert_int_equal(st.st_mode & 0777, 0600);

	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_stmt *s;
	sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), DIRECTORY_SCHEMA_VERSION);
	sqlite3_finalize(s);
	sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);

	/* Reopening an up-to-date database migrates nothing and works. */
	struct directory *d2;
	OK(directory_open(f->path, NULL, &d2, error_r));
	directory_close(&d2);
	directory_close(&d2); /* NULL is fine */

	/* A database from a newer hermod is refused. */
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	FAILS(directory_open(f->path, NULL, &d2, error_r), "newer");
	char restore[64];
	snprintf(restore, sizeof(restore), "PRAGMA user_version = %d", DIRECTORY_SCHEMA_VERSION);
	sqlite3_exec(db, restore, NULL, NULL, NULL);
	sqlite3_close(db);

	/* Unopenable paths. */
	char bad[4300];
	snprintf(bad, sizeof(bad), "%s/no/such/dir/x.db", f->tmp);
	FAILS(directory_open(bad, NULL, &d2, error_r), "No such file");
	struct directory_settings s2 = {.password_hash_cost = 12};
	FAILS(directory_open(f->path, &s2, &d2, error_r), "cost");
	/* Not a database. */
	snprintf(bad, sizeof(bad), "%s/junk.db", f->tmp);
	FILE *junk = fopen(bad, "w");
	fputs("this is not an SQLite database, not at all, no..........................", junk);
	fclose(junk);
	FAILS(directory_open(bad, NULL, &d2, error_r), "junk.db");
}

static void test_domains(void **state)
{
	struct fixture *f = *state;
	OK(directory_domain_add(f->dir, "Example.ORG", error_r));
	OK(directory_domain_add(f->dir, "a.example", error_r));
	FAILS(directory_domain_add(f->dir, "example.org", error_r), "already exists");
	FAILS(directory_domain_add(f->dir, "EXAMPLE.org", error_r), "already exists");
	FAILS(directory_domain_add(f->dir, "bad..example", error_r), "invalid domain");
	FAILS(directory_domain_add(f->dir, "", error_r), "invalid domain");
	FAILS(directory_domain_add(f->dir, "[127.0.0.1]", error_r), "literal");

	assert_int_equal(directory_domain_exists(f->dir, "EXAMPLE.org", NULL), 1);
	assert_int_equal(directory_domain_exists(f->dir, "other.org", NULL), 0);
	assert_int_equal(directory_domain_exists(f->dir, "not a domain", NULL), 0);

	struct directory_domain *d;
	size_t n;
	OK(directory_domain_list(f->dir, f->pool, &d, &n, error_r));
	assert_int_equal(n, 2);
	assert_string_equal(d[0].name, "a.example");
	assert_string_equal(d[1].name, "example.org");
	assert_int_equal(d[1].users, 0);
	assert_true(d[1].created > 1700000000);

	add_user(f, "u@example.org", NULL);
	OK(directory_domain_list(f->dir, f->pool, &d, &n, error_r));
	assert_int_equal(d[1].users, 1);

	/* In use: refused unless forced. */
	FAILS(directory_domain_del(f->dir, "example.org", false, error_r), "1 user(s)");
	assert_int_equal(directory_domain_del(f->dir, "nope.example", false, NULL), 0);
	FAILS(directory_domain_del(f->dir, "bad domain", false, error_r), "invalid domain");
	assert_int_equal(directory_domain_del(f->dir, "a.example", false, NULL), 1);
	assert_int_equal(directory_domain_exists(f->dir, "a.example", NULL), 0);
	OK(directory_domain_list(f->dir, f->pool, &d, &n, error_r));
	assert_int_equal(n, 1);
}

static void test_domain_del_force(void **state)
{
	struct fixture *f = *state;
	OK(directory_domain_add(f->dir, "one.example", error_r));
	OK(directory_domain_add(f->dir, "two.example", error_r));
	struct directory_user *u1 = add_user(f, "u1@one.example", NULL);
	struct directory_user *u2 = add_user(f, "u2@two.example", NULL);
	OK(directory_alias_add(f->dir, u2->id, "alias@one.example", error_r));
	struct directory_group *g;
	OK(directory_group_add(f->dir, "g@one.example", "G", f->pool, &g, error_r));
	OK(directory_group_add(f->dir, "g2@two.example", "G2", f->pool, &g, error_r));
	OK(directory_group_member_add(f->dir, g->id, "u1@one.example", error_r));

	FAILS(directory_domain_del(f->dir, "one.example", false, error_r),
		"1 user(s), 1 group(s), 1 alias(es)");
	assert_int_equal(directory_domain_del(f->dir, "one.example", true, NULL), 1);
	struct directory_user *u;
	assert_int_equal(directory_user_get_by_id(f->dir, u1->id, f->pool, &u, NULL), 0);
	assert_int_equal(directory_user_get(f->dir, "alias@one.example", f->pool, &u, NULL), 0);
	/* u2 lives on without its alias in the deleted domain, and g2
	 * without its deleted member. */
	assert_int_equal(directory_user_get(f->dir, "u2@two.example", f->pool, &u, NULL), 1);
	const char **aliases;
	size_t n;
	OK(directory_alias_list(f->dir, u2->id, f->pool, &aliases, &n, error_r));
	assert_int_equal(n, 0);
	OK(directory_group_get_by_id(f->dir, g->id, f->pool, &g, error_r));
	assert_int_equal(g->members, 0);
	/* The domain can be added again and its old addresses are free. */
	OK(directory_domain_add(f->dir, "one.example", error_r));
	add_user(f, "alias@one.example", NULL);
}

static void test_user_add_get(void **state)
{
	struct fixture *f = *state;
	OK(directory_domain_add(f->dir, "example.com", error_r));
	struct directory_user_spec spec = {
		.address = "John.Smith@Example.com",
		.display_name = "John Smith",
		.password = "s3cret!",
		.quota = 1024 * 1024,
	};
	struct directory_user *u;
	OK(directory_user_add(f->dir, &spec, f->pool, &u, error_r));
	assert_true(u->id > 0);
	assert_string_equal(u->address, "John.Smith@example.com");
	assert_string_equal(u->domain, "example.com");
	assert_string_equal(u->display_name, "John Smith");
	assert_int_equal(u->quota, 1024 * 1024);
	assert_true(u->enabled);
	assert_true(u->has_password);
	assert_false(u->has_nt_hash);
	assert_false(guid_is_null(&u->mailbox_guid));
	char dn[256];
	snprintf(dn, sizeof(dn), DIRECTORY_LEGACY_DN_PREFIX "%08llx-John.Smith",
		(unsigned long long)u->id);
	assert_string_equal(u->legacy_dn, dn);

	/* Found by any spelling of the address, by id and by legacy DN, with
	 * the same fields. */
	const char *spellings[] = {"John.Smith@example.com", "john.smith@EXAMPLE.COM",
		"\"john.smith\"@example.com"};
	for (size_t i = 0; i < 3; i++) {
		struct directory_user *g = NULL;
		assert_int_equal(directory_user_get(f->dir, spellings[i], f->pool, &g, NULL), 1);
		assert_int_equal(g->id, u->id);
		assert_string_equal(g->address, u->address);
		assert_string_equal(g->legacy_dn, u->legacy_dn);
		assert_true(guid_eq(&g->mailbox_guid, &u->mailbox_guid));
		assert_int_equal(g->created, u->created);
		assert_int_equal(g->quota, u->quota);
		assert_true(g->has_password);
	}
	struct directory_user *g;
	assert_int_equal(directory_user_get_by_id(f->dir, u->id, f->pool, &g, NULL), 1);
	assert_string_equal(g->display_name, "John Smith");
	for (char *p = dn; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	assert_int_equal(directory_user_get_by_legacy_dn(f->dir, dn, f->pool, &g, NULL), 1);
	assert_int_equal(g->id, u->id);
	assert_int_equal(directory_user_get_by_legacy_dn(f->dir, "/o=x", f->pool, &g, NULL), 0);
	assert_int_equal(directory_user_get_by_id(f->dir, u->id + 1000, f->pool, &g, NULL), 0);
	assert_int_equal(directory_user_get(f->dir, "nobody@example.com", f->pool, &g, NULL), 0);
	assert_int_equal(directory_user_get(f->dir, "not an address", f->pool, &g, NULL), 0);

	/* user_r may be NULL; every user gets its own GUID. */
	spec = (struct directory_user_spec){.address = "second@example.com"};
	OK(directory_user_add(f->dir, &spec, NULL, NULL, error_r));
	assert_int_equal(directory_user_get(f->dir, "second@example.com", f->pool, &g, NULL), 1);
	assert_false(g->has_password);
	assert_string_equal(g->display_name, "");
	assert_false(guid_eq(&g->mailbox_guid, &u->mailbox_guid));
	assert_true(g->id > u->id);
}

static void test_user_add_errors(void **state)
{
	struct fixture *f = *state;
	OK(directory_domain_add(f->dir, "example.com", error_r));
	struct directory_user_spec spec = {.address = "taken@example.com"};
	OK(directory_user_add(f->dir, &spec, NULL, NULL, error_r));

	const struct {
		const char *address, *why;
	} bad[] = {
		{"taken@example.com", "already taken by a user"},
		{"TAKEN@Example.Com", "already taken by a user"},
		{"x@unknown.example", "domain unknown.example does not exist"},
		{"no-at-sign", "missing @"},
		{"a b@example.com", "invalid address"},
		{"\"a b\"@example.com", "quoted local parts"},
		{"x@[127.0.0.1]", "literal"},
		{"", "empty address"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		spec = (struct directory_user_spec){.address = bad[i].address};
		FAILS(directory_user_add(f->dir, &spec, NULL, NULL, error_r), bad[i].why);
	}
	spec = (struct directory_user_spec){.address = "x@example.com", .password = ""};
	FAILS(directory_user_add(f->dir, &spec, NULL, NULL, error_r), "empty password");
	spec.password = "\xff\xfe";
	FAILS(directory_user_add(f->dir, &spec, NULL, NULL, error_r), "UTF-8");
	spec = (struct directory_user_spec){.address = "x@example.com", .nt_hash = true};
	FAILS(directory_user_add(f->dir, &spec, NULL, NULL, error_r), "needs a password");
	spec = (struct directory_user_spec){.address = "x@example.com", .display_name = "a\nb"};
	FAILS(directory_user_add(f->dir, &spec, NULL, NULL, error_r), "control character");
	char longname[DIRECTORY_DISPLAY_NAME_MAX + 2];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	spec.display_name = longname;
	FAILS(directory_user_add(f->dir, &spec, NULL, NULL, error_r), "display name longer");
	longname[DIRECTORY_DISPLAY_NAME_MAX] = '\0';
	OK(directory_user_add(f->dir, &spec, NULL, NULL, error_r));
	/* Nothing half-created by the failures. */
	struct directory_user *users;
	size_t n;
	OK(directory_user_list(f->dir, NULL, f->pool, &users, &n, error_r));
	assert_int_equal(n, 2);
}

static void test_user_list_del(void **state)
{
	struct fixture *f = *state;
	OK(directory_domain_add(f->dir, "b.example", error_r));
	OK(directory_domain_add(f->dir, "a.example", error_r));
	add_user(f, "zed@a.example", NULL);
	struct directory_user *bob = add_user(f, "bob@b.example", NULL);
	add_user(f, "amy@a.example", NULL);
	struct directory_user *users;
	size_t n;
	OK(directory_user_list(f->dir, NULL, f->pool, &users, &n, error_r));
	assert_int_equal(n, 3);
	assert_string_equal(users[0].address, "amy@a.example");
	assert_string_equal(users[1].address, "bob@b.example");
	assert_string_equal(users[2].address, "zed@a.example");
	OK(directory_user_list(f->dir, "A.example", f->pool, &users, &n, error_r));
	assert_int_equal(n, 2);
	OK(directory_user_list(f->dir, "none.example", f->pool, &users, &n, error_r));
	assert_int_equal(n, 0);
	FAILS(directory_user_list(f->dir, "bad..domain", f->pool, &users, &n, error_r),
		"invalid domain");

	OK(directory_alias_add(f->dir, bob->id, "robert@a.example", error_r));
	struct directory_group *g;
	OK(directory_group_add(f->dir, "team@a.example", NULL, f->pool, &g, error_r));
	OK(directory_group_member_add(f->dir, g->id, "bob@b.example", error_r));
	assert_int_equal(directory_user_del(f->dir, bob->id, NULL), 1);
	assert_int_equal(directory_user_del(f->dir, bob->id, NULL), 0);
	/* A group id is not a user. */
	assert_int_equal(directory_user_del(f->dir, g->id, NULL), 0);
	struct directory_user *u;
	assert_int_equal(directory_user_get(f->dir, "robert@a.example", f->pool, &u, NULL), 0);
	OK(directory_group_get_by_id(f->dir, g->id, f->pool, &g, error_r));
	assert_int_equal(g->members, 0);
	/* Ids are never reused. */
	struct directory_user *again = add_user(f, "bob@b.example", NULL);
	assert_true(again->id > g->id);
	assert_string_not_equal(again->legacy_dn, bob->legacy_dn);
}

static void test_user_set(void **state)
{
	struct fixture *f = *state;
	OK(directory_domain_add(f->dir, "example.com", error_r));
	struct directory_user *u = add_user(f, "u@example.com", "old password");
	struct directory_user *g;
	char *h1, *h2;
	assert_int_equal(directory_user_password_hash(f->dir, u->id, f->pool, &h1, NULL), 1);
	assert_int_equal(directory_password_verify("old password", h1), 1);

	assert_int_equal(directory_user_set_password(f->dir, u->id, "new password",
				 DIRECTORY_NT_HASH_KEEP, NULL),
		1);
	assert_int_equal(directory_user_password_hash(f->dir, u->id, f->pool, &h2, NULL), 1);
	assert_int_equal(directory_password_verify("new password", h2), 1);
	assert_int_equal(directory_password_verify("old password", h2), 0);
	FAILS(directory_user_set_password(f->dir, u->id, "", DIRECTORY_NT_HASH_KEEP, error_r),
		"empty password");
	assert_int_equal(directory_user_set_password(f->dir, 999999, "x", DIRECTORY_NT_HASH_KEEP,
				 NULL),
		0);
	assert_int_equal(directory_user_set_password(f->dir, 999999, "x", DIRECTORY_NT_HASH_STORE,
				 NULL),
		0);

	assert_int_equal(directory_user_set_display_name(f->dir, u->id, "Ünïcode Name", NULL), 1);
	FAILS(directory_user_set_display_name(f->dir, u->id, "tab\there", error_r), "control");
	FAILS(directory_user_set_display_name(f->dir, u->id, "\xc3", error_r), "UTF-8");
	assert_int_equal(directory_user_set_display_name(f->dir, 999999, "x", NULL), 0);
	assert_int_equal(directory_user_set_quota(f->dir, u->id, 5ULL << 30, NULL), 1);
	FAILS(directory_user_set_quota(f->dir, u->id, UINT64_MAX, error_r), "too large");
	assert_int_equal(directory_user_set_enabled(f->dir, u->id, false, NULL), 1);
	assert_int_equal(directory_user_set_enabled(f->dir, 999999, false, NULL), 0);
	assert_int_equal(directory_user_get_by_id(f->dir, u->id, f->pool, &g, NULL), 1);
	assert_string_equal(g->display_name, "Ünïcode Name");
	assert_int_equal(g->quota, 5ULL << 30);
	assert_false(g->enabled);
	assert_int_equal(directory_user_set_enabled(f->dir, u->id, true, NULL), 1);
	assert_int_equal(directory_user_get_by_id(f->dir, u->id, f->pool, &g, NULL), 1);
	assert_true(g->enabled);

	assert_int_equal(directory_user_clear_password(f->dir, u->id, NULL), 1);
	assert_int_equal(directory_user_password_hash(f->dir, u->id, f->pool, &h2, NULL), 0);
	assert_int_equal(directory_user_get_by_id(f->dir, u->id, f->pool, &g, NULL), 1);
	assert_false(g->has_password);
}

static void test_nt_hash(void **state)
{
	struct fixture *f = *state;
	OK(directory_domain_add(f->dir, "example.com", error_r));
	/* MS-NLMP 4.2.2.1.2 NTOWFv1("Password") = a4f49c406510bdcab6824ee7c30fd852. */
	static const uint8_t password_nt[16] = {0xa4, 0xf4, 0x9c, 0x40, 0x65, 0x10, 0xbd, 0xca,
		0xb6, 0x82, 0x4e, 0xe7, 0xc3, 0x0f, 0xd8, 0x52};
	/* NTOWFv1("test"). */
	static const uint8_t test_nt[16] = {0x0c, 0xb6, 0x94, 0x88, 0x05, 0xf7, 0x97, 0xbf, 0x2a,
		0x82, 0x80, 0x79, 0x73, 0xb8, 0x95, 0x37};
	struct directory_user_spec spec = {
		.address = "nt@example.com", .password = "Password", .nt_hash = true};
	struct directory_user *u;
	OK(directory_user_add(f->dir, &spec, f->pool, &u, error_r));
	assert_true(u->has_nt_hash);
	uint8_t h[16];
	assert_int_equal(directory_user_nt_hash(f->dir, u->id, h, NULL), 1);
	assert_memory_equal(h, password_nt, 16);

	/* KEEP follows the new password. */
	assert_int_equal(directory_user_set_password(f->dir, u->id, "test",
				 DIRECTORY_NT_HASH_KEEP, NULL),
		1);
	assert_int_equal(directory_user_nt_hash(f->dir, u->id, h, NULL), 1);
	assert_memory_equal(h, test_nt, 16);
	/* REMOVE drops it, and KEEP then keeps none. */
	assert_int_equal(directory_user_set_password(f->dir, u->id, "Password",
				 DIRECTORY_NT_HASH_REMOVE, NULL),
		1);
	assert_int_equal(directory_user_nt_hash(f->dir, u->id, h, NULL), 0);
	assert_int_equal(directory_user_set_password(f->dir, u->id, "test",
				 DIRECTORY_NT_HASH_KEEP, NULL),
		1);
	assert_int_equal(directory_user_nt_hash(f->dir, u->id, h, NULL), 0);
	/* STORE opts in. */
	assert_int_equal(directory_user_set_password(f->dir, u->id, "Password",
				 DIRECTORY_NT_HASH_STORE, NULL),
		1);
	assert_int_equal(directory_user_nt_hash(f->dir, u->id, h, NULL), 1);
	assert_memory_equal(h, password_nt, 16);
	struct directory_user *g;
	assert_int_equal(directory_user_get_by_id(f->dir, u->id, f->pool, &g, NULL), 1);
	assert_true(g->has_nt_hash);
	/* Clearing the password clears it too. */
	assert_int_equal(directory_user_clear_password(f->dir, u->id, NULL), 1);
	assert_int_equal(directory_user_nt_hash(f->dir, u->id, h, NULL), 0);

	/* Users without opt-in have none; unknown ids neither. */
	struct directory_user *plain = add_user(f, "plain@example.com", "Password");
	assert_int_equal(directory_user_nt_hash(f->dir, plain->id, h, NULL), 0);
	assert_int_equal(directory_user_nt_hash(f->dir, 999999, h, NULL), 0);
	/* Non-ASCII passwords hash as UTF-16LE. NTOWFv1("\u00e9") is
	 * MD4(e9 00). */
	assert_int_equal(directory_user_set_password(f->dir, plain->id, "\xc3\xa9",
				 DIRECTORY_NT_HASH_STORE, NULL),
		1);
	assert_int_equal(directory_user_nt_hash(f->dir, plain->id, h, NULL), 1);
	/* Cross-check against a second path: "test" differs. */
	assert_memory_not_equal(h, test_nt, 16);
}

static void test_aliases(void **state)
{
	struct fixture *f = *state;
	OK(directory_domain_add(f->dir, "example.com", error_r));
	OK(directory_domain_add(f->dir, "example.net", error_r));
	struct directory_user *a = add_user(f, "alice@example.com", NULL);
	struct directory_user *b = add_user(f, "bob@example.com", NULL);
	struct directory_group *g;
	OK(directory_group_add(f->dir, "list@example.com", NULL, f->pool, &g, error_r));

	assert_int_equal(directory_alias_add(f->dir, a->id, "Ally@Example.NET", NULL), 1);
	assert_int_equal(directory_alias_add(f->dir, a->id, "a@example.com", NULL), 1);
	FAILS(directory_alias_add(f->dir, b->id, "ally@example.net", error_r),
		"already taken by a user");
	FAILS(directory_alias_add(f->dir, a->id, "ALICE@example.com", error_r),
		"already taken by a user");
	FAILS(directory_alias_add(f->dir, b->id, "list@example.com", error_r),
		"already taken by a group");
	FAILS(directory_alias_add(f->dir, a->id, "x@nowhere.example", error_r),
		"domain nowhere.example does not exist");
	FAILS(directory_alias_add(f->dir, a->id, "bad alias@example.com", error_r),
		"invalid address");
	assert_int_equal(directory_alias_add(f->dir, 999999, "z@example.com", NULL), 0);
	/* A group is not a user. */
	assert_int_equal(directory_alias_add(f->dir, g->id, "z@example.com", NULL), 0);

	const char **list;
	size_t n;
	OK(directory_alias_list(f->dir, a->id, f->pool, &list, &n, error_r));
	assert_int_equal(n, 2);
	assert_string_equal(list[0], "a@example.com");
	assert_string_equal(list[1], "Ally@example.net");

	/* The alias finds the user; a user, a group and a new user cannot
	 * take it. */
	struct directory_user *u;
	assert_int_equal(directory_user_get(f->dir, "ALLY@example.net", f->pool, &u, NULL), 1);
	assert_int_equal(u->id, a->id);
	struct directory_user_spec spec = {.address = "ally@example.net"};
	FAILS(directory_user_add(f->dir, &spec, NULL, NULL, error_r), "already taken");
	FAILS(directory_group_add(f->dir, "ally@example.net", NULL, NULL, NULL, error_r),
		"already taken");

	/* Deleting: only the owner's alias, never the primary address. */
	assert_int_equal(directory_alias_del(f->dir, b->id, "ally@example.net", NULL), 0);
	assert_int_equal(directory_alias_del(f->dir, a->id, "alice@example.com", NULL), 0);
	FAILS(directory_alias_del(f->dir, a->id, "not valid", error_r), "invalid address");
	assert_int_equal(directory_alias_del(f->dir, a->id, "ally@EXAMPLE.net", NULL), 1);
	assert_int_equal(directory_alias_del(f->dir, a->id, "ally@example.net", NULL), 0);
	assert_int_equal(directory_user_get(f->dir, "ally@example.net", f->pool, &u, NULL), 0);
	assert_int_equal(directory_user_get(f->dir, "alice@example.com", f->pool, &u, NULL), 1);
	/* Now free for someone else. */
	assert_int_equal(directory_alias_add(f->dir, b->id, "ally@example.net", NULL), 1);
}

static void test_groups(void **state)
{
	struct fixture *f = *state;
	OK(directory_domain_add(f->dir, "example.com", error_r));
	struct directory_user *a = add_user(f, "a@example.com", NULL);
	struct directory_user *b = add_user(f, "b@example.com", NULL);
	struct directory_user *c = add_user(f, "c@example.com", NULL);
	OK(directory_alias_add(f->dir, c->id, "carol@example.com", error_r));
	struct directory_group *all, *sales, *eng;
	OK(directory_group_add(f->dir, "All@example.com", "Everyone", f->pool, &all, error_r));
	OK(directory_group_add(f->dir, "sales@example.com", "Sales", f->pool, &sales, error_r));
	OK(directory_group_add(f->dir, "eng@example.com", "Engineering", f->pool, &eng, error_r));
	assert_string_equal(all->address, "All@example.com");
	assert_true(strncmp(all->legacy_dn, DIRECTORY_LEGACY_DN_PREFIX,
			    strlen(DIRECTORY_LEGACY_DN_PREFIX)) == 0);

	FAILS(directory_group_add(f->dir, "a@example.com", NULL, NULL, NULL, error_r),
		"already taken by a user");
	FAILS(directory_group_add(f->dir, "all@EXAMPLE.com", NULL, NULL, NULL, error_r),
		"already taken by a group");
	FAILS(directory_group_add(f->dir, "g@nowhere.example", NULL, NULL, NULL, error_r),
		"does not exist");
	FAILS(directory_group_add(f->dir, "g@example.com", "x\x01y", NULL, NULL, error_r),
		"control");

	OK(directory_group_member_add(f->dir, sales->id, "a@example.com", error_r));
	OK(directory_group_member_add(f->dir, sales->id, "CAROL@example.com", error_r));
	OK(directory_group_member_add(f->dir, eng->id, "b@example.com", error_r));
	OK(directory_group_member_add(f->dir, all->id, "sales@example.com", error_r));
	OK(directory_group_member_add(f->dir, all->id, "eng@example.com", error_r));
	OK(directory_group_member_add(f->dir, all->id, "a@example.com", error_r));
	FAILS(directory_group_member_add(f->dir, sales->id, "a@example.com", error_r),
		"already a member");
	FAILS(directory_group_member_add(f->dir, sales->id, "c@example.com", error_r),
		"already a member");
	FAILS(directory_group_member_add(f->dir, sales->id, "nobody@example.com", error_r),
		"no user or group");
	FAILS(directory_group_member_add(f->dir, sales->id, "sales@example.com", error_r),
		"itself");
	FAILS(directory_group_member_add(f->dir, sales->id, "bad address", error_r),
		"invalid address");
	assert_int_equal(directory_group_member_add(f->dir, 999999, "a@example.com", NULL), 0);
	/* A user id is not a group. */
	assert_int_equal(directory_group_member_add(f->dir, a->id, "b@example.com", NULL), 0);

	struct directory_recipient *m;
	size_t n;
	OK(directory_group_members(f->dir, all->id, f->pool, &m, &n, error_r));
	assert_int_equal(n, 3);
	assert_string_equal(m[0].address, "a@example.com");
	assert_int_equal(m[0].kind, DIRECTORY_RECIPIENT_USER);
	assert_string_equal(m[1].address, "eng@example.com");
	assert_int_equal(m[1].kind, DIRECTORY_RECIPIENT_GROUP);
	assert_string_equal(m[2].address, "sales@example.com");

	/* Expansion: every user once (a is reached twice). */
	struct directory_user *users;
	OK(directory_group_expand(f->dir, all->id, f->pool, &users, &n, error_r));
	assert_int_equal(n, 3);
	assert_int_equal(users[0].id, a->id);
	assert_int_equal(users[1].id, b->id);
	assert_int_equal(users[2].id, c->id);
	FAILS(directory_group_expand(f->dir, a->id, f->pool, &users, &n, error_r), "no such group");
	FAILS(directory_group_expand(f->dir, 999999, f->pool, &users, &n, error_r),
		"no such group");

	struct directory_group *list;
	OK(directory_group_list(f->dir, NULL, f->pool, &list, &n, error_r));
	assert_int_equal(n, 3);
	assert_string_equal(list[0].address, "All@example.com");
	assert_int_equal(list[0].members, 3);
	assert_string_equal(list[0].display_name, "Everyone");
	OK(directory_group_list(f->dir, "other.example", f->pool, &list, &n, error_r));
	assert_int_equal(n, 0);

	struct directory_group *g;
	assert_int_equal(directory_group_get(f->dir, "ALL@example.com", f->pool, &g, NULL), 1);
	assert_int_equal(g->id, all->id);
	assert_int_equal(directory_group_get(f->dir, "a@example.com", f->pool, &g, NULL), 0);
	assert_int_equal(directory_group_get(f->dir, "junk", f->pool, &g, NULL), 0);

	/* Removing members. */
	assert_int_equal(directory_group_member_del(f->dir, all->id, "A@example.com", NULL), 1);
	assert_int_equal(directory_group_member_del(f->dir, all->id, "a@example.com", NULL), 0);
	assert_int_equal(directory_group_member_del(f->dir, all->id, "nobody@example.com", NULL),
		0);
	assert_int_equal(directory_group_member_del(f->dir, 999999, "a@example.com", NULL), 0);
	FAILS(directory_group_member_del(f->dir, all->id, "bad address", error_r), "invalid");
	/* a is still reached through sales. */
	OK(directory_group_expand(f->dir, all->id, f->pool, &users, &n, error_r));
	assert_int_equal(n, 3);

	/* Deleting a nested group takes it out of its parents. */
	assert_int_equal(directory_group_del(f->dir, sales->id, NULL), 1);
	assert_int_equal(directory_group_del(f->dir, sales->id, NULL), 0);
	assert_int_equal(directory_group_del(f->dir, a->id, NULL), 0);
	OK(directory_group_expand(f->dir, all->id, f->pool, &users, &n, error_r));
	assert_int_equal(n, 1);
	assert_int_equal(users[0].id, b->id);
}

static void test_group_cycles(void **state)
{
	struct fixture *f = *state;
	OK(directory_domain_add(f->dir, "example.com", error_r));
	struct directory_user *u1 = add_user(f, "u1@example.com", NULL);
	struct directory_user *u2 = add_user(f, "u2@example.com", NULL);
	struct directory_user *u3 = add_user(f, "u3@example.com", NULL);
	OK(directory_user_set_enabled(f->dir, u3->id, false, error_r));
	struct directory_group *g1, *g2, *g3;
	OK(directory_group_add(f->dir, "g1@example.com", NULL, f->pool, &g1, error_r));
	OK(directory_group_add(f->dir, "g2@example.com", NULL, f->pool, &g2, error_r));
	OK(directory_group_add(f->dir, "g3@example.com", NULL, f->pool, &g3, error_r));
	/* g1 -> g2 -> g3 -> g1, each with a user. */
	OK(directory_group_member_add(f->dir, g1->id, "g2@example.com", error_r));
	OK(directory_group_member_add(f->dir, g2->id, "g3@example.com", error_r));
	OK(directory_group_member_add(f->dir, g3->id, "g1@example.com", error_r));
	OK(directory_group_member_add(f->dir, g1->id, "u1@example.com", error_r));
	OK(directory_group_member_add(f->dir, g2->id, "u2@example.com", error_r));
	OK(directory_group_member_add(f->dir, g3->id, "u3@example.com", error_r));
	struct directory_group *gs[] = {g1, g2, g3};
	for (int i = 0; i < 3; i++) {
		struct directory_user *users;
		size_t n;
		OK(directory_group_expand(f->dir, gs[i]->id, f->pool, &users, &n, error_r));
		assert_int_equal(n, 3);
		assert_int_equal(users[0].id, u1->id);
		assert_int_equal(users[1].id, u2->id);
		assert_int_equal(users[2].id, u3->id);
		/* Disabled users are included, flagged. */
		assert_false(users[2].enabled);
	}
	/* A long chain with a back edge to the middle. */
	struct directory_group *prev = NULL, *mid = NULL;
	for (int i = 0; i < 60; i++) {
		char addr[64];
		snprintf(addr, sizeof(addr), "chain%d@example.com", i);
		struct directory_group *g;
		OK(directory_group_add(f->dir, addr, NULL, f->pool, &g, error_r));
		if (prev != NULL)
			OK(directory_group_member_add(f->dir, prev->id, addr, error_r));
		if (i == 30)
			mid = g;
		prev = g;
	}
	OK(directory_group_member_add(f->dir, prev->id, mid->address, error_r));
	OK(directory_group_member_add(f->dir, prev->id, "u1@example.com", error_r));
	struct directory_group *first;
	assert_int_equal(directory_group_get(f->dir, "chain0@example.com", f->pool, &first, NULL),
		1);
	struct directory_user *users;
	size_t n;
	OK(directory_group_expand(f->dir, first->id, f->pool, &users, &n, error_r));
	assert_int_equal(n, 1);
	assert_int_equal(users[0].id, u1->id);
}

/* Rows left in the send_as table, straight from the file. */
static int send_as_rows(struct fixture *f)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM send_as", -1, &s, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	int n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

#define ALLOWED(user, addr) directory_send_as_allowed(f->dir, (user)->id, (addr), NULL)

static void test_send_as(void **state)
{
	struct fixture *f = *state;
	OK(directory_domain_add(f->dir, "example.com", error_r));
	struct directory_user *a = add_user(f, "alice@example.com", NULL);
	struct directory_user *b = add_user(f, "bob@example.com", NULL);
	struct directory_user *shared = add_user(f, "shared@example.com", NULL);
	struct directory_group *g;
	OK(directory_group_add(f->dir, "sales@example.com", "Sales", f->pool, &g, error_r));
	OK(directory_alias_add(f->dir, a->id, "ali@example.com", error_r));
	OK(directory_alias_add(f->dir, shared->id, "info@example.com", error_r));
	OK(directory_alias_add(f->dir, b->id, "bobby@example.com", error_r));

	/* Own primary and alias, any case; nothing else without a grant. */
	assert_int_equal(ALLOWED(a, "alice@example.com"), 1);
	assert_int_equal(ALLOWED(a, "ALI@Example.COM"), 1);
	assert_int_equal(ALLOWED(a, "bob@example.com"), 0);
	assert_int_equal(ALLOWED(a, "shared@example.com"), 0);
	assert_int_equal(ALLOWED(a, "info@example.com"), 0);
	assert_int_equal(ALLOWED(a, "sales@example.com"), 0);
	assert_int_equal(ALLOWED(a, "nobody@example.com"), 0);
	assert_int_equal(ALLOWED(a, "alice@elsewhere.test"), 0);
	assert_int_equal(ALLOWED(a, "not an address"), 0);
	assert_int_equal(ALLOWED(a, ""), 0);
	assert_int_equal(directory_send_as_allowed(f->dir, 999999, "alice@example.com", NULL), 0);
	/* A group has no addresses of "its own" to send as. */
	assert_int_equal(directory_send_as_allowed(f->dir, g->id, "sales@example.com", NULL), 0);

	/* Granting, by primary or alias: the target's every address counts. */
	assert_int_equal(directory_send_as_add(f->dir, a->id, "INFO@example.com", NULL), 1);
	assert_int_equal(directory_send_as_add(f->dir, a->id, "sales@example.com", NULL), 1);
	assert_int_equal(ALLOWED(a, "shared@example.com"), 1);
	assert_int_equal(ALLOWED(a, "Info@Example.com"), 1);
	assert_int_equal(ALLOWED(a, "sales@example.com"), 1);
	/* Grants go one way and to one grantee. */
	assert_int_equal(ALLOWED(b, "shared@example.com"), 0);
	assert_int_equal(ALLOWED(shared, "alice@example.com"), 0);
	assert_int_equal(ALLOWED(a, "bob@example.com"), 0);

	/* Refusals. */
	FAILS(directory_send_as_add(f->dir, a->id, "info@example.com", error_r),
		"info@example.com is already granted");
	FAILS(directory_send_as_add(f->dir, a->id, "shared@example.com", error_r),
		"already granted");
	FAILS(directory_send_as_add(f->dir, a->id, "ali@example.com", error_r), "themself");
	FAILS(directory_send_as_add(f->dir, a->id, "ghost@example.com", error_r),
		"no user or group has the address ghost@example.com");
	FAILS(directory_send_as_add(f->dir, a->id, "bad address", error_r), "invalid address");
	assert_int_equal(directory_send_as_add(f->dir, 999999, "bob@example.com", NULL), 0);
	/* A group is not a grantee. */
	assert_int_equal(directory_send_as_add(f->dir, g->id, "bob@example.com", NULL), 0);

	/* The list, sorted by address. */
	struct directory_recipient *t;
	size_t n;
	OK(directory_send_as_list(f->dir, a->id, f->pool, &t, &n, error_r));
	assert_int_equal(n, 2);
	assert_int_equal(t[0].kind, DIRECTORY_RECIPIENT_GROUP);
	assert_string_equal(t[0].address, "sales@example.com");
	assert_string_equal(t[0].display_name, "Sales");
	assert_int_equal(t[1].kind, DIRECTORY_RECIPIENT_USER);
	assert_int_equal(t[1].id, shared->id);
	OK(directory_send_as_list(f->dir, b->id, f->pool, &t, &n, error_r));
	assert_int_equal(n, 0);

	/* A disabled target (a shared mailbox) can still be sent as; a
	 * disabled grantee sends as nobody, not even themself. */
	OK(directory_user_set_enabled(f->dir, shared->id, false, error_r));
	assert_int_equal(ALLOWED(a, "shared@example.com"), 1);
	OK(directory_user_set_enabled(f->dir, a->id, false, error_r));
	assert_int_equal(ALLOWED(a, "shared@example.com"), 0);
	assert_int_equal(ALLOWED(a, "sales@example.com"), 0);
	assert_int_equal(ALLOWED(a, "alice@example.com"), 0);
	OK(directory_user_set_enabled(f->dir, a->id, true, error_r));
	assert_int_equal(ALLOWED(a, "sales@example.com"), 1);

	/* Revoking: by any address of the target; then refused again. */
	FAILS(directory_send_as_del(f->dir, a->id, "bad address", error_r), "invalid address");
	assert_int_equal(directory_send_as_del(f->dir, a->id, "bob@example.com", NULL), 0);
	assert_int_equal(directory_send_as_del(f->dir, a->id, "ghost@example.com", NULL), 0);
	assert_int_equal(directory_send_as_del(f->dir, b->id, "shared@example.com", NULL), 0);
	assert_int_equal(directory_send_as_del(f->dir, 999999, "shared@example.com", NULL), 0);
	assert_int_equal(directory_send_as_del(f->dir, a->id, "SHARED@example.com", NULL), 1);
	assert_int_equal(directory_send_as_del(f->dir, a->id, "info@example.com", NULL), 0);
	assert_int_equal(ALLOWED(a, "shared@example.com"), 0);
	assert_int_equal(ALLOWED(a, "info@example.com"), 0);
	assert_int_equal(ALLOWED(a, "sales@example.com"), 1);

	/* Deleting the target removes the grant; a new recipient that
	 * takes the freed address inherits nothing. */
	assert_int_equal(directory_send_as_add(f->dir, b->id, "alice@example.com", NULL), 1);
	assert_int_equal(send_as_rows(f), 2);
	assert_int_equal(directory_group_del(f->dir, g->id, NULL), 1);
	assert_int_equal(send_as_rows(f), 1);
	assert_int_equal(ALLOWED(a, "sales@example.com"), 0);
	OK(directory_group_add(f->dir, "sales@example.com", NULL, NULL, NULL, error_r));
	assert_int_equal(ALLOWED(a, "sales@example.com"), 0);
	/* Deleting the grantee removes its grants. */
	assert_int_equal(directory_user_del(f->dir, b->id, NULL), 1);
	assert_int_equal(send_as_rows(f), 0);
	assert_int_equal(directory_send_as_add(f->dir, a->id, "shared@example.com", NULL), 1);
	assert_int_equal(directory_user_del(f->dir, shared->id, NULL), 1);
	assert_int_equal(send_as_rows(f), 0);
	OK(directory_send_as_list(f->dir, a->id, f->pool, &t, &n, error_r));
	assert_int_equal(n, 0);
}

/* A forced domain delete takes the grants of and on its recipients. */
static void test_send_as_domain_del(void **state)
{
	struct fixture *f = *state;
	OK(directory_domain_add(f->dir, "example.com", error_r));
	OK(directory_domain_add(f->dir, "example.net", error_r));
	struct directory_user *a = add_user(f, "alice@example.com", NULL);
	struct directory_user *n = add_user(f, "nina@example.net", NULL);
	OK(directory_group_add(f->dir, "list@example.net", NULL, NULL, NULL, error_r));
	assert_int_equal(directory_send_as_add(f->dir, a->id, "nina@example.net", NULL), 1);
	assert_int_equal(directory_send_as_add(f->dir, a->id, "list@example.net", NULL), 1);
	assert_int_equal(directory_send_as_add(f->dir, n->id, "alice@example.com", NULL), 1);
	assert_int_equal(send_as_rows(f), 3);
	assert_int_equal(directory_domain_del(f->dir, "example.net", true, NULL), 1);
	assert_int_equal(send_as_rows(f), 0);
	assert_int_equal(ALLOWED(a, "alice@example.com"), 1);
}

/* A schema 1 database (before Send As) is migrated on open, its data
 * kept. */
static void test_migrate_send_as(void **state)
{
	struct fixture *f = *state;
	OK(directory_domain_add(f->dir, "example.com", error_r));
	struct directory_user *a = add_user(f, "alice@example.com", NULL);
	add_user(f, "bob@example.com", NULL);
	directory_close(&f->dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE send_as; PRAGMA user_version = 1", NULL,
				 NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	OK(directory_open(f->path, &fast, &f->dir, error_r));
	assert_int_equal(ALLOWED(a, "bob@example.com"), 0);
	assert_int_equal(directory_send_as_add(f->dir, a->id, "bob@example.com", NULL), 1);
	assert_int_equal(ALLOWED(a, "bob@example.com"), 1);
	assert_int_equal(send_as_rows(f), 1);
}

static void test_resolve_search(void **state)
{
	struct fixture *f = *state;
	OK(directory_domain_add(f->dir, "example.com", error_r));
	struct directory_user_spec spec = {.address = "jsmith@example.com",
		.display_name = "John Smith"};
	struct directory_user *js;
	OK(directory_user_add(f->dir, &spec, f->pool, &js, error_r));
	OK(directory_alias_add(f->dir, js->id, "john@example.com", error_r));
	spec = (struct directory_user_spec){.address = "smithers@example.com",
		.display_name = "Waylon Smithers", .disabled = true};
	OK(directory_user_add(f->dir, &spec, NULL, NULL, error_r));
	spec = (struct directory_user_spec){.address = "ann@example.com",
		.display_name = "Ann 100%_Done"};
	OK(directory_user_add(f->dir, &spec, NULL, NULL, error_r));
	struct directory_group *g;
	OK(directory_group_add(f->dir, "johnfans@example.com", "Fans of John", f->pool, &g,
		error_r));

	struct directory_recipient r;
	assert_int_equal(directory_resolve(f->dir, "JOHN@example.com", f->pool, &r, NULL), 1);
	assert_int_equal(r.kind, DIRECTORY_RECIPIENT_USER);
	assert_int_equal(r.id, js->id);
	assert_string_equal(r.address, "jsmith@example.com");
	assert_string_equal(r.display_name, "John Smith");
	assert_string_equal(r.legacy_dn, js->legacy_dn);
	assert_true(r.enabled);
	assert_int_equal(directory_resolve(f->dir, "johnfans@example.com", f->pool, &r, NULL), 1);
	assert_int_equal(r.kind, DIRECTORY_RECIPIENT_GROUP);
	assert_int_equal(r.id, g->id);
	assert_int_equal(directory_resolve(f->dir, "smithers@example.com", f->pool, &r, NULL), 1);
	assert_false(r.enabled);
	assert_int_equal(directory_resolve(f->dir, "nobody@example.com", f->pool, &r, NULL), 0);
	assert_int_equal(directory_resolve(f->dir, "john@other.example", f->pool, &r, NULL), 0);
	assert_int_equal(directory_resolve(f->dir, "john", f->pool, &r, NULL), 0);
	assert_int_equal(directory_resolve(f->dir, "", f->pool, &r, NULL), 0);

	struct directory_recipient *res;
	size_t n;
	/* An exact address (here an alias) is found alone. */
	OK(directory_search(f->dir, "john@example.com", 10, f->pool, &res, &n, error_r));
	assert_int_equal(n, 1);
	assert_int_equal(res[0].id, js->id);
	OK(directory_search(f->dir, "JOHN", 10, f->pool, &res, &n, error_r));
	assert_int_equal(n, 2);
	/* Both are prefix matches (rank 1), ordered by display name. */
	assert_string_equal(res[0].display_name, "Fans of John");
	assert_string_equal(res[1].display_name, "John Smith");
	/* "smith": prefix of smithers' address and a word of "John Smith"
	 * (both rank 1), and nothing else. */
	OK(directory_search(f->dir, "smith", 10, f->pool, &res, &n, error_r));
	assert_int_equal(n, 2);
	assert_string_equal(res[0].address, "jsmith@example.com");
	assert_string_equal(res[1].address, "smithers@example.com");
	/* Substring only: rank 2 after rank 1. */
	OK(directory_search(f->dir, "mith", 10, f->pool, &res, &n, error_r));
	assert_int_equal(n, 2);
	/* Bounded. */
	OK(directory_search(f->dir, "example.com", 2, f->pool, &res, &n, error_r));
	assert_int_equal(n, 2);
	OK(directory_search(f->dir, "example.com", 0, f->pool, &res, &n, error_r));
	assert_int_equal(n, 0);
	OK(directory_search(f->dir, "example.com", 100000, f->pool, &res, &n, error_r));
	assert_int_equal(n, 4);
	/* LIKE wildcards in the text are literal. */
	OK(directory_search(f->dir, "%", 10, f->pool, &res, &n, error_r));
	assert_int_equal(n, 1);
	assert_string_equal(res[0].address, "ann@example.com");
	OK(directory_search(f->dir, "_", 10, f->pool, &res, &n, error_r));
	assert_int_equal(n, 1);
	OK(directory_search(f->dir, "\\", 10, f->pool, &res, &n, error_r));
	assert_int_equal(n, 0);
	OK(directory_search(f->dir, "zzz", 10, f->pool, &res, &n, error_r));
	assert_int_equal(n, 0);
	FAILS(directory_search(f->dir, "", 10, f->pool, &res, &n, error_r), "empty");
	FAILS(directory_search(f->dir, "\xff", 10, f->pool, &res, &n, error_r), "UTF-8");
	char longtext[DIRECTORY_SEARCH_TEXT_MAX + 2];
	memset(longtext, 'a', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	FAILS(directory_search(f->dir, longtext, 10, f->pool, &res, &n, error_r), "longer");
	longtext[DIRECTORY_SEARCH_TEXT_MAX] = '\0';
	OK(directory_search(f->dir, longtext, 10, f->pool, &res, &n, error_r));
}

struct writer_arg {
	struct directory *dir;
	int index;
	int failures;
};

static void *writer(void *p)
{
	struct writer_arg *a = p;
	pool_t *pool = pool_new("writer", 0);
	for (int i = 0; i < 25; i++) {
		char addr[64];
		snprintf(addr, sizeof(addr), "t%d-%d@example.com", a->index, i);
		struct directory_user_spec spec = {.address = addr};
		struct directory_user *u;
		const char *err;
		if (directory_user_add(a->dir, &spec, pool, &u, &err) < 0 ||
			directory_user_get(a->dir, addr, pool, &u, &err) != 1 ||
			directory_alias_add(a->dir, u->id, "shared@example.com", &err) != -1)
			a->failures++;
		/* "shared" belongs to owner: every thread must be told so. */
		pool_clear(pool);
	}
	pool_free(&pool);
	return NULL;
}

static void test_threads(void **state)
{
	struct fixture *f = *state;
	OK(directory_domain_add(f->dir, "example.com", error_r));
	struct directory_user *owner = add_user(f, "owner@example.com", NULL);
	OK(directory_alias_add(f->dir, owner->id, "shared@example.com", error_r));
	pthread_t th[6];
	struct writer_arg args[6];
	for (int i = 0; i < 6; i++) {
		args[i] = (struct writer_arg){f->dir, i, 0};
		pthread_create(&th[i], NULL, writer, &args[i]);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].failures, 0);
	}
	struct directory_user *users;
	size_t n;
	OK(directory_user_list(f->dir, NULL, f->pool, &users, &n, error_r));
	assert_int_equal(n, 151);
	/* Ids and GUIDs are all distinct. */
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			assert_int_not_equal(users[i].id, users[j].id);
			assert_false(guid_eq(&users[i].mailbox_guid, &users[j].mailbox_guid));
		}

	/* A second handle on the same file (another process, in effect)
	 * sees the writes and can write. */
	struct directory *d2;
	OK(directory_open(f->path, &fast, &d2, error_r));
	struct directory_user *u;
	assert_int_equal(directory_user_get(d2, "t5-24@example.com", f->pool, &u, NULL), 1);
	struct directory_user_spec spec = {.address = "via-d2@example.com"};
	OK(directory_user_add(d2, &spec, NULL, NULL, error_r));
	directory_close(&d2);
	assert_int_equal(directory_user_get(f->dir, "via-d2@example.com", f->pool, &u, NULL), 1);
}

/* The error buffer is per thread: another thread's failure does not
 * change a message already returned. */
static void *fail_other(void *p)
{
	const char *err;
	directory_domain_add(p, "bad domain!", &err);
	return NULL;
}

static void test_error_per_thread(void **state)
{
	struct fixture *f = *state;
	const char *err = NULL;
	assert_int_equal(directory_domain_add(f->dir, "x..y", &err), -1);
	char copy[256];
	snprintf(copy, sizeof(copy), "%s", err);
	pthread_t th;
	pthread_create(&th, NULL, fail_other, f->dir);
	pthread_join(th, NULL);
	assert_string_equal(err, copy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domain_del_force, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_add_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_add_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_list_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nt_hash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aliases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_cycles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_as, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_as_domain_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_send_as, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_search, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_per_thread, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
