/* Users, their credentials and aliases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/array.h"
#include "core/str.h"
#include "directory/directory_private.h"

struct directory_user *directory_user_from_row(sqlite3_stmt *st, pool_t *pool)
{
	struct directory_user *u = pool_alloc(pool, sizeof(*u));
	u->id = sqlite3_column_int64(st, 0);
	u->address = directory_column_text(st, 1, pool);
	u->domain = directory_column_text(st, 2, pool);
	u->display_name = directory_column_text(st, 3, pool);
	u->legacy_dn = directory_column_text(st, 4, pool);
	u->quota = (uint64_t)sqlite3_column_int64(st, 5);
	u->enabled = sqlite3_column_int(st, 6) != 0;
	u->has_password = sqlite3_column_int(st, 7) != 0;
	u->has_nt_hash = sqlite3_column_int(st, 8) != 0;
	u->created = sqlite3_column_int64(st, 9);
	if (sqlite3_column_bytes(st, 10) == 16)
		memcpy(u->mailbox_guid.b, sqlite3_column_blob(st, 10), 16);
	return u;
}

int directory_user_add(struct directory *dir, const struct directory_user_spec *spec, pool_t *pool,
	struct directory_user **user_r, const char **error_r)
{
	struct directory_address addr;
	const char *display = spec->display_name != NULL ? spec->display_name : "";
	if (directory_new_address_parse(spec->address, &addr, error_r) < 0 ||
		directory_display_name_check(display, error_r) < 0)
		return -1;
	if (spec->nt_hash && spec->password == NULL)
		return directory_error(error_r, "an NT hash needs a password");

	/* Hash before taking the write lock: yescrypt is slow on purpose. */
	char *hash = NULL;
	uint8_t nt[DIRECTORY_NT_HASH_LEN];
	if (spec->password != NULL) {
		const char *err;
		if (directory_password_check(spec->password, &err) < 0)
			return directory_error(error_r, "%s", err);
		hash = directory_password_hash(spec->password, dir->set.password_hash_cost, &err);
		if (hash == NULL)
			return directory_error(error_r, "%s", err);
		if (spec->nt_hash &&
			directory_nt_hash_compute(dir, spec->password, nt, error_r) < 0) {
			free(hash);
			return -1;
		}
	}

	struct directory_new_recipient n = {
		.kind = DIRECTORY_KIND_USER,
		.addr = &addr,
		.display_name = display,
		.created = (int64_t)time(NULL),
		.quota = spec->quota,
		.enabled = !spec->disabled,
		.password_hash = hash,
		.nt_hash = spec->nt_hash ? nt : NULL,
	};
	struct guid guid;
	guid_generate(&guid);
	n.mailbox_guid = &guid;

	sqlite3 *db = directory_write_begin(dir, error_r);
	int ret = -1;
	int64_t id = 0;
	const char *dn = NULL;
	if (db != NULL) {
		/* Also the pool the DN is built in; the temporary pool keeps
		 * user_r == NULL callers from needing one. */
		pool_t *p = pool != NULL ? pool : pool_new("directory_user_add", 0);
		ret = directory_recipient_insert(db, &n, p, &id, &dn, error_r);
		if (directory_write_end(dir, db, ret == 0, ret == 0 ? error_r : NULL) < 0)
			ret = -1;
		if (ret == 0 && user_r != NULL) {
			struct directory_user *u = pool_alloc(p, sizeof(*u));
			u->id = id;
			u->address = pool_strdup(p, addr.address);
			u->domain = pool_strdup(p, directory_address_domain(&addr));
			u->display_name = pool_strdup(p, display);
			u->legacy_dn = dn;
			u->quota = spec->quota;
			u->enabled = !spec->disabled;
			u->has_password = hash != NULL;
			u->has_nt_hash = spec->nt_hash;
			u->created = n.created;
			u->mailbox_guid = guid;
			*user_r = u;
		}
		if (p != pool)
			pool_free(&p);
	}
	explicit_bzero(nt, sizeof(nt));
	free(hash);
	return ret;
}

/* Runs a user query with one text or integer parameter. */
static int user_query_one(struct directory *dir, const char *where, const char *text, int64_t num,
	pool_t *pool, struct directory_user **user_r, const char **error_r)
{
	sqlite3 *db = directory_db_get(dir, error_r);
	if (db == NULL)
		return -1;
	char sql[512];
	snprintf(sql, sizeof(sql), "SELECT " DIRECTORY_USER_COLUMNS " FROM " DIRECTORY_USER_FROM
				   " WHERE r.kind = 1 AND %s",
		where);
	sqlite3_stmt *st = directory_prepare(db, sql, error_r);
	int ret = -1;
	if (st != NULL) {
		if (text != NULL)
			sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(st, 1, num);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*user_r = directory_user_from_row(st, pool);
			ret = 1;
		} else if (rc == SQLITE_DONE) {
			ret = 0;
		} else {
			directory_db_error(db, error_r, "user lookup failed");
		}
		sqlite3_finalize(st);
	}
	directory_db_put(dir, db);
	return ret;
}

int directory_user_get(struct directory *dir, const char *address, pool_t *pool,
	struct directory_user **user_r, const char **error_r)
{
	struct directory_address a;
	const char *err;
	if (directory_address_parse(address, strlen(address), &a, &err) < 0)
		return 0;
	return user_query_one(dir,
		"r.id = (SELECT recipient_id FROM addresses WHERE key = ?1)", a.key, 0, pool,
		user_r, error_r);
}

int directory_user_get_by_id(struct directory *dir, int64_t id, pool_t *pool,
	struct directory_user **user_r, const char **error_r)
{
	return user_query_one(dir, "r.id = ?1", NULL, id, pool, user_r, error_r);
}

int directory_user_get_by_legacy_dn(struct directory *dir, const char *dn, pool_t *pool,
	struct directory_user **user_r, const char **error_r)
{
	/* legacy_dn is declared COLLATE NOCASE: the comparison ignores case. */
	return user_query_one(dir, "r.legacy_dn = ?1", dn, 0, pool, user_r, error_r);
}

int directory_list_kind(struct directory *dir, int kind, const char *columns,
	const char *domain, const char *what, pool_t *pool,
	void (*row)(sqlite3_stmt *st, pool_t *pool, void *ctx), void *ctx, const char **error_r)
{
	char dom[DIRECTORY_DOMAIN_MAX + 1];
	if (domain != NULL) {
		const char *err;
		if (directory_domain_parse(domain, strlen(domain), dom, &err) < 0)
			return directory_error(error_r, "invalid domain '%.300s': %s", domain, err);
	}
	char sql[1024];
	snprintf(sql, sizeof(sql),
		"SELECT %s FROM " DIRECTORY_USER_FROM " WHERE r.kind = %d"
		" AND (?1 IS NULL OR d.name = ?1) ORDER BY r.address COLLATE NOCASE",
		columns, kind);
	sqlite3 *db = directory_db_get(dir, error_r);
	if (db == NULL)
		return -1;
	sqlite3_stmt *st = directory_prepare(db, sql, error_r);
	int ret = st == NULL ? -1 : 0;
	if (st != NULL) {
		if (domain != NULL)
			sqlite3_bind_text(st, 1, dom, -1, SQLITE_STATIC);
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			row(st, pool, ctx);
		if (rc != SQLITE_DONE) {
			char msg[64];
			snprintf(msg, sizeof(msg), "cannot list %s", what);
			ret = directory_db_error(db, error_r, msg);
		}
		sqlite3_finalize(st);
	}
	directory_db_put(dir, db);
	return ret;
}

/* One named type for the list and its row callback. */
typedef ARRAY(struct directory_user) user_array;

static void user_list_row(sqlite3_stmt *st, pool_t *pool, void *ctx)
{
	user_array *a = ctx;
	array_push(a, *directory_user_from_row(st, pool));
}

int directory_user_list(struct directory *dir, const char *domain, pool_t *pool,
	struct directory_user **users_r, size_t *count_r, const char **error_r)
{
	user_array a;
	array_init(&a, pool);
	int ret = directory_list_kind(dir, 1, DIRECTORY_USER_COLUMNS, domain, "users", pool,
		user_list_row, &a, error_r);
	*users_r = ret < 0 ? NULL : a.v;
	*count_r = ret < 0 ? 0 : a.n;
	return ret;
}

/* One UPDATE or DELETE on the user with id (bound as ?1), the other
 * parameters bound by bind. 1 changed, 0 no such user, -1 error. */
static int user_update(struct directory *dir, int64_t id, const char *sql,
	void (*bind)(sqlite3_stmt *st, const void *ctx), const void *ctx, const char **error_r)
{
	sqlite3 *db = directory_write_begin(dir, error_r);
	if (db == NULL)
		return -1;
	sqlite3_stmt *st = directory_prepare(db, sql, error_r);
	int ret = -1;
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, id);
		if (bind != NULL)
			bind(st, ctx);
		if (sqlite3_step(st) == SQLITE_DONE)
			ret = sqlite3_changes(db) > 0 ? 1 : 0;
		else
			directory_db_error(db, error_r, "cannot update the user");
		sqlite3_finalize(st);
	}
	if (directory_write_end(dir, db, ret > 0, ret > 0 ? error_r : NULL) < 0)
		ret = -1;
	return ret;
}

int directory_user_del(struct directory *dir, int64_t id, const char **error_r)
{
	/* addresses and group_members rows cascade. */
	return user_update(dir, id, "DELETE FROM recipients WHERE id = ?1 AND kind = 1", NULL, NULL,
		error_r);
}

struct user_password_update {
	const char *hash;
	const uint8_t *nt;
	enum directory_nt_hash mode;
};

static void user_bind_password(sqlite3_stmt *st, const void *ctx)
{
	const struct user_password_update *u = ctx;
	sqlite3_bind_text(st, 2, u->hash, -1, SQLITE_STATIC);
	if (u->nt != NULL)
		sqlite3_bind_blob(st, 3, u->nt, DIRECTORY_NT_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, (int)u->mode);
}

int directory_user_set_password(struct directory *dir, int64_t id, const char *password,
	enum directory_nt_hash nt, const char **error_r)
{
	const char *err;
	if (directory_password_check(password, &err) < 0)
		return directory_error(error_r, "%s", err);
	uint8_t nt_hash[DIRECTORY_NT_HASH_LEN];
	bool want_nt = nt == DIRECTORY_NT_HASH_STORE;
	if (nt == DIRECTORY_NT_HASH_KEEP) {
		/* Computing MD4 only when there is one to keep spares users
		 * who never opted in from needing the legacy provider. */
		pool_t *p = pool_new("directory_user_set_password", 0);
		struct directory_user *u;
		int rc = directory_user_get_by_id(dir, id, p, &u, error_r);
		want_nt = rc > 0 && u->has_nt_hash;
		pool_free(&p);
		if (rc <= 0)
			return rc;
	}
	if (want_nt && directory_nt_hash_compute(dir, password, nt_hash, error_r) < 0)
		return -1;
	char *hash = directory_password_hash(password, dir->set.password_hash_cost, &err);
	if (hash == NULL)
		return directory_error(error_r, "%s", err);
	struct user_password_update u = {hash, want_nt ? nt_hash : NULL, nt};
	/* ?4: 0 keep, 1 store, 2 remove (enum directory_nt_hash). */
	int ret = user_update(dir, id,
		"UPDATE recipients SET password_hash = ?2, nt_hash = CASE ?4 "
		"WHEN 1 THEN ?3 WHEN 2 THEN NULL "
		"ELSE CASE WHEN nt_hash IS NULL THEN NULL ELSE ?3 END END "
		"WHERE id = ?1 AND kind = 1",
		user_bind_password, &u, error_r);
	explicit_bzero(nt_hash, sizeof(nt_hash));
	free(hash);
	return ret;
}

int directory_user_clear_password(struct directory *dir, int64_t id, const char **error_r)
{
	return user_update(dir, id,
		"UPDATE recipients SET password_hash = NULL, nt_hash = NULL "
		"WHERE id = ?1 AND kind = 1",
		NULL, NULL, error_r);
}

static void user_bind_text(sqlite3_stmt *st, const void *ctx)
{
	sqlite3_bind_text(st, 2, ctx, -1, SQLITE_STATIC);
}

static void user_bind_int(sqlite3_stmt *st, const void *ctx)
{
	sqlite3_bind_int64(st, 2, *(const int64_t *)ctx);
}

int directory_user_set_display_name(struct directory *dir, int64_t id, const char *name,
	const char **error_r)
{
	if (directory_display_name_check(name, error_r) < 0)
		return -1;
	return user_update(dir, id,
		"UPDATE recipients SET display_name = ?2 WHERE id = ?1 AND kind = 1",
		user_bind_text, name, error_r);
}

int directory_user_set_quota(struct directory *dir, int64_t id, uint64_t quota,
	const char **error_r)
{
	if (quota > INT64_MAX)
		return directory_error(error_r, "quota too large");
	int64_t q = (int64_t)quota;
	return user_update(dir, id, "UPDATE recipients SET quota = ?2 WHERE id = ?1 AND kind = 1",
		user_bind_int, &q, error_r);
}

int directory_user_set_enabled(struct directory *dir, int64_t id, bool enabled,
	const char **error_r)
{
	int64_t e = enabled;
	return user_update(dir, id,
		"UPDATE recipients SET enabled = ?2 WHERE id = ?1 AND kind = 1", user_bind_int, &e,
		error_r);
}

int directory_user_nt_hash(struct directory *dir, int64_t id, uint8_t out[DIRECTORY_NT_HASH_LEN],
	const char **error_r)
{
	sqlite3 *db = directory_db_get(dir, error_r);
	if (db == NULL)
		return -1;
	sqlite3_stmt *st = directory_prepare(db,
		"SELECT nt_hash FROM recipients WHERE id = ? AND kind = 1", error_r);
	int ret = -1;
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, id);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			ret = 0;
			if (sqlite3_column_bytes(st, 0) == DIRECTORY_NT_HASH_LEN) {
				memcpy(out, sqlite3_column_blob(st, 0), DIRECTORY_NT_HASH_LEN);
				ret = 1;
			}
		} else if (rc == SQLITE_DONE) {
			ret = 0;
		} else {
			directory_db_error(db, error_r, "cannot read the NT hash");
		}
		sqlite3_finalize(st);
	}
	directory_db_put(dir, db);
	return ret;
}

int directory_user_password_hash(struct directory *dir, int64_t id, pool_t *pool, char **hash_r,
	const char **error_r)
{
	sqlite3 *db = directory_db_get(dir, error_r);
	if (db == NULL)
		return -1;
	sqlite3_stmt *st = directory_prepare(db,
		"SELECT password_hash FROM recipients WHERE id = ? AND kind = 1 "
		"AND password_hash IS NOT NULL",
		error_r);
	int ret = -1;
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, id);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*hash_r = pool_strdup(pool, (const char *)sqlite3_column_text(st, 0));
			ret = 1;
		} else if (rc == SQLITE_DONE) {
			ret = 0;
		} else {
			directory_db_error(db, error_r, "cannot read the password hash");
		}
		sqlite3_finalize(st);
	}
	directory_db_put(dir, db);
	return ret;
}

/* --- Aliases --- */

int directory_alias_add(struct directory *dir, int64_t user_id, const char *alias,
	const char **error_r)
{
	struct directory_address a;
	if (directory_new_address_parse(alias, &a, error_r) < 0)
		return -1;
	sqlite3 *db = directory_write_begin(dir, error_r);
	if (db == NULL)
		return -1;
	int ret = directory_recipient_exists(db, user_id, DIRECTORY_KIND_USER, error_r);
	if (ret > 0 && directory_recipient_add_address(db, user_id, &a, false, error_r) < 0)
		ret = -1;
	if (directory_write_end(dir, db, ret > 0, ret > 0 ? error_r : NULL) < 0)
		ret = -1;
	return ret;
}

int directory_alias_del(struct directory *dir, int64_t user_id, const char *alias,
	const char **error_r)
{
	struct directory_address a;
	const char *err;
	if (directory_address_parse(alias, strlen(alias), &a, &err) < 0)
		return directory_error(error_r, "invalid address '%.300s': %s", alias, err);
	/* is_primary = 0: the primary address is not an alias to remove. */
	return user_update(dir, user_id,
		"DELETE FROM addresses WHERE recipient_id = ?1 AND key = ?2 AND is_primary = 0 "
		"AND (SELECT kind FROM recipients WHERE id = ?1) = 1",
		user_bind_text, a.key, error_r);
}

int directory_alias_list(struct directory *dir, int64_t user_id, pool_t *pool,
	const char ***aliases_r, size_t *count_r, const char **error_r)
{
	*aliases_r = NULL;
	*count_r = 0;
	sqlite3 *db = directory_db_get(dir, error_r);
	if (db == NULL)
		return -1;
	sqlite3_stmt *st = directory_prepare(db,
		"SELECT address FROM addresses WHERE recipient_id = ? AND is_primary = 0 "
		"ORDER BY key",
		error_r);
	int ret = st == NULL ? -1 : 0;
	ARRAY(const char *) a;
	array_init(&a, pool);
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, user_id);
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			array_push(&a, directory_column_text(st, 0, pool));
		if (rc != SQLITE_DONE)
			ret = directory_db_error(db, error_r, "cannot list aliases");
		sqlite3_finalize(st);
	}
	directory_db_put(dir, db);
	*aliases_r = a.v;
	*count_r = a.n;
	return ret;
}
