/* Send As grants: which recipients a user may send as, and the one
 * sender check every protocol asks. */
#include <string.h>

#include "directory/directory_private.h"

/* Grants: (?1 user, ?2 target). */
static const struct directory_link send_as_link = {
	.owner_kind = DIRECTORY_KIND_USER,
	.insert_sql = "INSERT OR IGNORE INTO send_as (user_id, target_id) VALUES (?1, ?2)",
	.delete_sql = "DELETE FROM send_as WHERE user_id = ?1 AND target_id = ?2",
	.self_error = "a user always sends as themself: nothing to grant",
	.exists_error = "is already granted",
};

int directory_send_as_add(struct directory *dir, int64_t user_id, const char *target,
	const char **error_r)
{
	return directory_link_change(dir, &send_as_link, user_id, target, true, error_r);
}

int directory_send_as_del(struct directory *dir, int64_t user_id, const char *target,
	const char **error_r)
{
	return directory_link_change(dir, &send_as_link, user_id, target, false, error_r);
}

int directory_send_as_list(struct directory *dir, int64_t user_id, pool_t *pool,
	struct directory_recipient **targets_r, size_t *count_r, const char **error_r)
{
	return directory_recipient_list(dir,
		"SELECT " DIRECTORY_RECIPIENT_COLUMNS " FROM send_as g "
		"JOIN recipients r ON r.id = g.target_id "
		"WHERE g.user_id = ?1 ORDER BY r.address COLLATE NOCASE",
		user_id, pool, targets_r, count_r, error_r);
}

int directory_send_as_allowed(struct directory *dir, int64_t user_id, const char *address,
	const char **error_r)
{
	struct directory_address a;
	const char *err;
	if (directory_address_parse(address, strlen(address), &a, &err) < 0)
		return 0;
	sqlite3 *db = directory_db_get(dir, error_r);
	if (db == NULL)
		return -1;
	/* One statement: the address's recipient is the user or a target of
	 * one of the user's grants, and the user is an enabled user. */
	sqlite3_stmt *st = directory_prepare(db,
		"SELECT 1 FROM addresses a JOIN recipients u ON u.id = ?1 "
		"WHERE a.key = ?2 AND u.kind = 1 AND u.enabled != 0 AND (a.recipient_id = u.id "
		"OR EXISTS (SELECT 1 FROM send_as g WHERE g.user_id = u.id "
		"AND g.target_id = a.recipient_id))",
		error_r);
	int ret = -1;
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, user_id);
		sqlite3_bind_text(st, 2, a.key, -1, SQLITE_STATIC);
		ret = directory_step_exists(db, st, "send-as check failed", error_r);
	}
	directory_db_put(dir, db);
	return ret;
}
