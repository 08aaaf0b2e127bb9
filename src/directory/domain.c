/* Domains the directory hosts. */
#include <string.h>
#include <time.h>

#include "core/array.h"
#include "directory/directory_private.h"

/* Validates name into out; -1 with a message naming it. */
static int domain_parse(const char *name, char *out, const char **error_r)
{
	const char *err;
	if (directory_domain_parse(name, strlen(name), out, &err) < 0)
		return directory_error(error_r, "invalid domain '%.300s': %s", name, err);
	return 0;
}

int directory_domain_id(sqlite3 *db, const char *name, int64_t *id_r, const char **error_r)
{
	sqlite3_stmt *st = directory_prepare(db, "SELECT id FROM domains WHERE name = ?", error_r);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st), ret;
	if (rc == SQLITE_ROW) {
		*id_r = sqlite3_column_int64(st, 0);
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		ret = directory_db_error(db, error_r, "domain lookup failed");
	}
	sqlite3_finalize(st);
	return ret;
}

int directory_domain_add(struct directory *dir, const char *name, const char **error_r)
{
	char dom[DIRECTORY_DOMAIN_MAX + 1];
	if (domain_parse(name, dom, error_r) < 0)
		return -1;
	sqlite3 *db = directory_write_begin(dir, error_r);
	if (db == NULL)
		return -1;
	int64_t id;
	int ret = directory_domain_id(db, dom, &id, error_r);
	if (ret > 0)
		ret = directory_error(error_r, "domain %s already exists", dom);
	if (ret == 0) {
		sqlite3_stmt *st = directory_prepare(db,
			"INSERT INTO domains (name, created) VALUES (?, ?)", error_r);
		if (st == NULL) {
			ret = -1;
		} else {
			sqlite3_bind_text(st, 1, dom, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
			if (sqlite3_step(st) != SQLITE_DONE)
				ret = directory_db_error(db, error_r, "cannot add the domain");
			sqlite3_finalize(st);
		}
	}
	if (directory_write_end(dir, db, ret == 0, ret == 0 ? error_r : NULL) < 0)
		ret = -1;
	return ret;
}

int directory_domain_exists(struct directory *dir, const char *name, const char **error_r)
{
	char dom[DIRECTORY_DOMAIN_MAX + 1];
	const char *err;
	if (directory_domain_parse(name, strlen(name), dom, &err) < 0)
		return 0;
	sqlite3 *db = directory_db_get(dir, error_r);
	if (db == NULL)
		return -1;
	int64_t id;
	int ret = directory_domain_id(db, dom, &id, error_r);
	directory_db_put(dir, db);
	return ret;
}

int directory_domain_list(struct directory *dir, pool_t *pool, struct directory_domain **domains_r,
	size_t *count_r, const char **error_r)
{
	sqlite3 *db = directory_db_get(dir, error_r);
	if (db == NULL)
		return -1;
	sqlite3_stmt *st = directory_prepare(db,
		"SELECT d.id, d.name, d.created, (SELECT count(*) FROM recipients r "
		"WHERE r.domain_id = d.id AND r.kind = 1) FROM domains d ORDER BY d.name",
		error_r);
	int ret = st == NULL ? -1 : 0;
	ARRAY(struct directory_domain) a;
	array_init(&a, pool);
	int rc;
	while (st != NULL && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct directory_domain *d = array_push_new(&a);
		d->id = sqlite3_column_int64(st, 0);
		d->name = directory_column_text(st, 1, pool);
		d->created = sqlite3_column_int64(st, 2);
		d->users = (unsigned)sqlite3_column_int64(st, 3);
	}
	if (st != NULL && rc != SQLITE_DONE)
		ret = directory_db_error(db, error_r, "cannot list domains");
	sqlite3_finalize(st);
	directory_db_put(dir, db);
	*domains_r = a.v;
	*count_r = a.n;
	return ret;
}

/* Runs a statement binding one integer; 0 or -1. */
static int domain_exec_id(sqlite3 *db, const char *sql, int64_t id, const char **error_r)
{
	sqlite3_stmt *st = directory_prepare(db, sql, error_r);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int ret = sqlite3_step(st) == SQLITE_DONE
			  ? 0
			  : directory_db_error(db, error_r, "cannot delete");
	sqlite3_finalize(st);
	return ret;
}

int directory_domain_del(struct directory *dir, const char *name, bool force,
	const char **error_r)
{
	char dom[DIRECTORY_DOMAIN_MAX + 1];
	if (domain_parse(name, dom, error_r) < 0)
		return -1;
	sqlite3 *db = directory_write_begin(dir, error_r);
	if (db == NULL)
		return -1;
	int64_t id = 0;
	int ret = directory_domain_id(db, dom, &id, error_r);
	if (ret > 0 && !force) {
		/* What still uses it, for the message. */
		sqlite3_stmt *st = directory_prepare(db,
			"SELECT "
			"(SELECT count(*) FROM recipients WHERE domain_id = ?1 AND kind = 1),"
			"(SELECT count(*) FROM recipients WHERE domain_id = ?1 AND kind = 2),"
			"(SELECT count(*) FROM addresses WHERE domain_id = ?1 AND is_primary = 0)",
			error_r);
		if (st == NULL) {
			ret = -1;
		} else {
			sqlite3_bind_int64(st, 1, id);
			if (sqlite3_step(st) != SQLITE_ROW) {
				ret = directory_db_error(db, error_r, "cannot count users");
			} else {
				int64_t users = sqlite3_column_int64(st, 0);
				int64_t groups = sqlite3_column_int64(st, 1);
				int64_t aliases = sqlite3_column_int64(st, 2);
				if (users + groups + aliases > 0)
					ret = directory_error(error_r,
						"domain %s is still in use: %lld user(s), "
						"%lld group(s), %lld alias(es)",
						dom, (long long)users, (long long)groups,
						(long long)aliases);
			}
			sqlite3_finalize(st);
		}
	}
	/* Recipients first (their addresses and memberships cascade), then
	 * other recipients' aliases in the domain, then the domain. */
	static const char *const deletes[] = {
		"DELETE FROM recipients WHERE domain_id = ?",
		"DELETE FROM addresses WHERE domain_id = ?",
		"DELETE FROM domains WHERE id = ?",
	};
	for (size_t i = 0; ret > 0 && i < sizeof(deletes) / sizeof(deletes[0]); i++)
		if (domain_exec_id(db, deletes[i], id, error_r) < 0)
			ret = -1;
	if (directory_write_end(dir, db, ret > 0, ret > 0 ? error_r : NULL) < 0)
		ret = -1;
	return ret;
}
