/* Groups (distribution lists) and their expansion. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/array.h"
#include "directory/directory_private.h"

#define GROUP_COLUMNS                                                                              \
	"r.id, r.address, d.name, r.display_name, r.legacy_dn, r.created, "                        \
	"(SELECT count(*) FROM group_members m WHERE m.group_id = r.id)"

static struct directory_group *group_from_row(sqlite3_stmt *st, pool_t *pool)
{
	struct directory_group *g = pool_alloc(pool, sizeof(*g));
	g->id = sqlite3_column_int64(st, 0);
	g->address = directory_column_text(st, 1, pool);
	g->domain = directory_column_text(st, 2, pool);
	g->display_name = directory_column_text(st, 3, pool);
	g->legacy_dn = directory_column_text(st, 4, pool);
	g->created = sqlite3_column_int64(st, 5);
	g->members = (unsigned)sqlite3_column_int64(st, 6);
	return g;
}

int directory_group_add(struct directory *dir, const char *address, const char *display_name,
	pool_t *pool, struct directory_group **group_r, const char **error_r)
{
	struct directory_address addr;
	const char *display = display_name != NULL ? display_name : "";
	if (directory_new_address_parse(address, &addr, error_r) < 0 ||
		directory_display_name_check(display, error_r) < 0)
		return -1;
	struct directory_new_recipient n = {
		.kind = DIRECTORY_KIND_GROUP,
		.addr = &addr,
		.display_name = display,
		.created = (int64_t)time(NULL),
		.enabled = true,
	};
	sqlite3 *db = directory_write_begin(dir, error_r);
	if (db == NULL)
		return -1;
	pool_t *p = pool != NULL ? pool : pool_new("directory_group_add", 0);
	int64_t id = 0;
	const char *dn = NULL;
	int ret = directory_recipient_insert(db, &n, p, &id, &dn, error_r);
	if (directory_write_end(dir, db, ret == 0, ret == 0 ? error_r : NULL) < 0)
		ret = -1;
	if (ret == 0 && group_r != NULL) {
		struct directory_group *g = pool_alloc(p, sizeof(*g));
		g->id = id;
		g->address = pool_strdup(p, addr.address);
		g->domain = pool_strdup(p, directory_address_domain(&addr));
		g->display_name = pool_strdup(p, display);
		g->legacy_dn = dn;
		g->created = n.created;
		*group_r = g;
	}
	if (p != pool)
		pool_free(&p);
	return ret;
}

static int group_query_one(struct directory *dir, const char *where, const char *text,
	int64_t num, pool_t *pool, struct directory_group **group_r, const char **error_r)
{
	sqlite3 *db = directory_db_get(dir, error_r);
	if (db == NULL)
		return -1;
	char sql[512];
	snprintf(sql, sizeof(sql),
		"SELECT " GROUP_COLUMNS " FROM " DIRECTORY_USER_FROM " WHERE r.kind = 2 AND %s",
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
			*group_r = group_from_row(st, pool);
			ret = 1;
		} else if (rc == SQLITE_DONE) {
			ret = 0;
		} else {
			directory_db_error(db, error_r, "group lookup failed");
		}
		sqlite3_finalize(st);
	}
	directory_db_put(dir, db);
	return ret;
}

int directory_group_get(struct directory *dir, const char *address, pool_t *pool,
	struct directory_group **group_r, const char **error_r)
{
	struct directory_address a;
	const char *err;
	if (directory_address_parse(address, strlen(address), &a, &err) < 0)
		return 0;
	return group_query_one(dir, "r.id = (SELECT recipient_id FROM addresses WHERE key = ?1)",
		a.key, 0, pool, group_r, error_r);
}

int directory_group_get_by_id(struct directory *dir, int64_t id, pool_t *pool,
	struct directory_group **group_r, const char **error_r)
{
	return group_query_one(dir, "r.id = ?1", NULL, id, pool, group_r, error_r);
}

/* One named type for the list and its row callback. */
typedef ARRAY(struct directory_group) group_array;

static void group_list_row(sqlite3_stmt *st, pool_t *pool, void *ctx)
{
	group_array *a = ctx;
	array_push(a, *group_from_row(st, pool));
}

int directory_group_list(struct directory *dir, const char *domain, pool_t *pool,
	struct directory_group **groups_r, size_t *count_r, const char **error_r)
{
	group_array a;
	array_init(&a, pool);
	int ret = directory_list_kind(dir, 2, GROUP_COLUMNS, domain, "groups", pool,
		group_list_row, &a, error_r);
	*groups_r = ret < 0 ? NULL : a.v;
	*count_r = ret < 0 ? 0 : a.n;
	return ret;
}

int directory_group_del(struct directory *dir, int64_t id, const char **error_r)
{
	sqlite3 *db = directory_write_begin(dir, error_r);
	if (db == NULL)
		return -1;
	sqlite3_stmt *st = directory_prepare(db,
		"DELETE FROM recipients WHERE id = ? AND kind = 2", error_r);
	int ret = -1;
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_DONE)
			ret = sqlite3_changes(db) > 0 ? 1 : 0;
		else
			directory_db_error(db, error_r, "cannot delete the group");
		sqlite3_finalize(st);
	}
	if (directory_write_end(dir, db, ret > 0, ret > 0 ? error_r : NULL) < 0)
		ret = -1;
	return ret;
}

/* Membership: (?1 group, ?2 member). */
static const struct directory_link group_member_link = {
	.owner_kind = DIRECTORY_KIND_GROUP,
	.insert_sql = "INSERT OR IGNORE INTO group_members (group_id, member_id) VALUES (?1, ?2)",
	.delete_sql = "DELETE FROM group_members WHERE group_id = ?1 AND member_id = ?2",
	.self_error = "a group cannot be a member of itself",
	.exists_error = "is already a member",
};

int directory_group_member_add(struct directory *dir, int64_t group_id, const char *member_address,
	const char **error_r)
{
	return directory_link_change(dir, &group_member_link, group_id, member_address, true,
		error_r);
}

int directory_group_member_del(struct directory *dir, int64_t group_id,
	const char *member_address, const char **error_r)
{
	return directory_link_change(dir, &group_member_link, group_id, member_address, false,
		error_r);
}

int directory_group_members(struct directory *dir, int64_t group_id, pool_t *pool,
	struct directory_recipient **members_r, size_t *count_r, const char **error_r)
{
	return directory_recipient_list(dir,
		"SELECT " DIRECTORY_RECIPIENT_COLUMNS " FROM group_members m "
		"JOIN recipients r ON r.id = m.member_id "
		"WHERE m.group_id = ?1 ORDER BY r.address COLLATE NOCASE",
		group_id, pool, members_r, count_r, error_r);
}

int directory_group_expand(struct directory *dir, int64_t group_id, pool_t *pool,
	struct directory_user **users_r, size_t *count_r, const char **error_r)
{
	*users_r = NULL;
	*count_r = 0;
	sqlite3 *db = directory_db_get(dir, error_r);
	if (db == NULL)
		return -1;
	int ret = directory_recipient_exists(db, group_id, DIRECTORY_KIND_GROUP, error_r);
	if (ret <= 0) {
		directory_db_put(dir, db);
		return ret < 0 ? -1 : directory_error(error_r, "no such group");
	}
	/* The recursive CTE is the cycle protection: UNION (not UNION ALL)
	 * adds a group's id once, so a group already reached is not walked
	 * again, and the walk ends after at most one visit per group. */
	sqlite3_stmt *st = directory_prepare(db,
		"WITH RECURSIVE reach(id) AS ("
		"  SELECT ?1 UNION"
		"  SELECT m.member_id FROM group_members m JOIN reach ON m.group_id = reach.id)"
		"SELECT " DIRECTORY_USER_COLUMNS " FROM " DIRECTORY_USER_FROM
		" WHERE r.kind = 1 AND r.id IN (SELECT id FROM reach)"
		" ORDER BY r.address COLLATE NOCASE",
		error_r);
	ret = st == NULL ? -1 : 0;
	ARRAY(struct directory_user) a;
	array_init(&a, pool);
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, group_id);
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			array_push(&a, *directory_user_from_row(st, pool));
		if (rc != SQLITE_DONE)
			ret = directory_db_error(db, error_r, "cannot expand the group");
		sqlite3_finalize(st);
	}
	directory_db_put(dir, db);
	*users_r = a.v;
	*count_r = a.n;
	return ret;
}
