/* What users and groups share: addresses, legacy DNs, resolution and
 * search. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/array.h"
#include "core/buf.h"
#include "core/utf.h"
#include "directory/directory_private.h"

int directory_new_address_parse(const char *address, struct directory_address *a,
	const char **error_r)
{
	const char *err;
	if (directory_address_parse(address, strlen(address), a, &err) < 0)
		return directory_error(error_r, "invalid address '%.300s': %s", address, err);
	if (a->quoted)
		return directory_error(error_r,
			"invalid address '%.300s': quoted local parts are not accepted here",
			address);
	return 0;
}

int directory_display_name_check(const char *name, const char **error_r)
{
	size_t len = strlen(name);
	if (len > DIRECTORY_DISPLAY_NAME_MAX)
		return directory_error(error_r, "display name longer than %d bytes",
			DIRECTORY_DISPLAY_NAME_MAX);
	if (!utf8_valid(name, len))
		return directory_error(error_r, "display name is not valid UTF-8");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c == 0x7f)
			return directory_error(error_r, "control character in display name");
	}
	return 0;
}

/* MS-OXOABK 2.2.1.1: the object RDN is at most 64 characters of the
 * teletex set; "<hex id>-<local part>" with the local part reduced to
 * letters, digits, '.' and '-' (all in that set) and cut to fit. The id
 * alone makes it unique; the local part makes it readable. */
static const char *recipient_legacy_dn(pool_t *pool, int64_t id,
	const struct directory_address *a)
{
	char rdn[65];
	int n = snprintf(rdn, sizeof(rdn), "%08" PRIx64, (uint64_t)id);
	size_t o = (size_t)n;
	bool dash = false;
	for (size_t i = 0; i < a->local_len && o < sizeof(rdn) - 1; i++) {
		char c = a->address[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '.' || c == '-'))
			continue;
		if (!dash) {
			rdn[o++] = '-';
			dash = true;
			if (o >= sizeof(rdn) - 1)
				break;
		}
		rdn[o++] = c;
	}
	/* An RDN ends in a non-space character; '-' and '.' qualify. */
	rdn[o] = '\0';
	return pool_printf(pool, "%s%s", DIRECTORY_LEGACY_DN_PREFIX, rdn);
}

int directory_recipient_add_address(sqlite3 *db, int64_t id, const struct directory_address *addr,
	bool primary, const char **error_r)
{
	const char *domain = directory_address_domain(addr);
	int64_t domain_id;
	int rc = directory_domain_id(db, domain, &domain_id, error_r);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return directory_error(error_r, "domain %s does not exist", domain);
	int64_t other;
	int kind;
	rc = directory_address_lookup(db, addr->key, &other, &kind, error_r);
	if (rc < 0)
		return -1;
	if (rc > 0)
		return directory_error(error_r, "address %s is already taken by a %s",
			addr->address, kind == DIRECTORY_KIND_GROUP ? "group" : "user");
	sqlite3_stmt *st = directory_prepare(db,
		"INSERT INTO addresses (key, address, recipient_id, domain_id, is_primary) "
		"VALUES (?, ?, ?, ?, ?)",
		error_r);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, addr->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, addr->address, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, id);
	sqlite3_bind_int64(st, 4, domain_id);
	sqlite3_bind_int(st, 5, primary);
	int ret = sqlite3_step(st) == SQLITE_DONE
			  ? 0
			  : directory_db_error(db, error_r, "cannot add the address");
	sqlite3_finalize(st);
	return ret;
}

int directory_recipient_insert(sqlite3 *db, const struct directory_new_recipient *n,
	pool_t *pool, int64_t *id_r, const char **legacy_dn_r, const char **error_r)
{
	const char *domain = directory_address_domain(n->addr);
	int64_t domain_id;
	int rc = directory_domain_id(db, domain, &domain_id, error_r);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return directory_error(error_r, "domain %s does not exist", domain);

	/* The legacy DN needs the id, which the insert assigns: insert with
	 * a placeholder that cannot collide (the address key is unique, and
	 * a real DN starts with '/'), then set it. */
	sqlite3_stmt *st = directory_prepare(db,
		"INSERT INTO recipients (kind, domain_id, address, display_name, legacy_dn, "
		"created, enabled, quota, mailbox_guid, password_hash, nt_hash) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		error_r);
	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 1, n->kind);
	sqlite3_bind_int64(st, 2, domain_id);
	sqlite3_bind_text(st, 3, n->addr->address, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, n->display_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, n->addr->key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, n->created);
	sqlite3_bind_int(st, 7, n->enabled);
	sqlite3_bind_int64(st, 8, (int64_t)n->quota);
	if (n->mailbox_guid != NULL)
		sqlite3_bind_blob(st, 9, n->mailbox_guid->b, 16, SQLITE_STATIC);
	if (n->password_hash != NULL)
		sqlite3_bind_text(st, 10, n->password_hash, -1, SQLITE_STATIC);
	if (n->nt_hash != NULL)
		sqlite3_bind_blob(st, 11, n->nt_hash, DIRECTORY_NT_HASH_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return directory_db_error(db, error_r, "cannot add the recipient");
	int64_t id = sqlite3_last_insert_rowid(db);

	if (directory_recipient_add_address(db, id, n->addr, true, error_r) < 0)
		return -1;

	const char *dn = recipient_legacy_dn(pool, id, n->addr);
	st = directory_prepare(db, "UPDATE recipients SET legacy_dn = ? WHERE id = ?", error_r);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, dn, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return directory_db_error(db, error_r, "cannot set the legacy DN");
	*id_r = id;
	*legacy_dn_r = dn;
	return 0;
}

void directory_recipient_from_row(sqlite3_stmt *st, pool_t *pool, struct directory_recipient *r)
{
	r->kind = sqlite3_column_int(st, 0) == DIRECTORY_KIND_GROUP ? DIRECTORY_RECIPIENT_GROUP
								   : DIRECTORY_RECIPIENT_USER;
	r->id = sqlite3_column_int64(st, 1);
	r->address = directory_column_text(st, 2, pool);
	r->display_name = directory_column_text(st, 3, pool);
	r->legacy_dn = directory_column_text(st, 4, pool);
	r->enabled = sqlite3_column_int(st, 5) != 0;
}

int directory_step_exists(sqlite3 *db, sqlite3_stmt *st, const char *what, const char **error_r)
{
	int rc = sqlite3_step(st), ret;
	if (rc == SQLITE_ROW)
		ret = 1;
	else if (rc == SQLITE_DONE)
		ret = 0;
	else
		ret = directory_db_error(db, error_r, what);
	sqlite3_finalize(st);
	return ret;
}

int directory_recipient_exists(sqlite3 *db, int64_t id, int kind, const char **error_r)
{
	sqlite3_stmt *st = directory_prepare(db,
		"SELECT 1 FROM recipients WHERE id = ? AND kind = ?", error_r);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, kind);
	return directory_step_exists(db, st, "recipient lookup failed", error_r);
}

int directory_link_change(struct directory *dir, const struct directory_link *l, int64_t owner,
	const char *address, bool add, const char **error_r)
{
	struct directory_address a;
	const char *err;
	if (directory_address_parse(address, strlen(address), &a, &err) < 0)
		return directory_error(error_r, "invalid address '%.300s': %s", address, err);
	sqlite3 *db = directory_write_begin(dir, error_r);
	if (db == NULL)
		return -1;
	int64_t other = 0;
	int kind;
	/* Both ends are looked up inside the write transaction: neither can
	 * vanish before the link is written. */
	int ret = directory_recipient_exists(db, owner, l->owner_kind, error_r);
	if (ret > 0) {
		int rc = directory_address_lookup(db, a.key, &other, &kind, error_r);
		if (rc < 0)
			ret = -1;
		else if (rc == 0 && add)
			ret = directory_error(error_r, "no user or group has the address %s",
				a.address);
		else if (rc == 0)
			ret = 0;
		else if (add && other == owner)
			ret = directory_error(error_r, "%s", l->self_error);
	}
	if (ret > 0) {
		sqlite3_stmt *st =
			directory_prepare(db, add ? l->insert_sql : l->delete_sql, error_r);
		if (st == NULL) {
			ret = -1;
		} else {
			sqlite3_bind_int64(st, 1, owner);
			sqlite3_bind_int64(st, 2, other);
			if (sqlite3_step(st) != SQLITE_DONE)
				ret = directory_db_error(db, error_r, "cannot change the directory");
			else if (sqlite3_changes(db) == 0 && add)
				ret = directory_error(error_r, "%s %s", a.address, l->exists_error);
			else if (sqlite3_changes(db) == 0)
				ret = 0;
			sqlite3_finalize(st);
		}
	}
	if (directory_write_end(dir, db, ret > 0, ret > 0 ? error_r : NULL) < 0)
		ret = -1;
	return ret;
}

int directory_recipient_list(struct directory *dir, const char *sql, int64_t id, pool_t *pool,
	struct directory_recipient **list_r, size_t *count_r, const char **error_r)
{
	*list_r = NULL;
	*count_r = 0;
	sqlite3 *db = directory_db_get(dir, error_r);
	if (db == NULL)
		return -1;
	sqlite3_stmt *st = directory_prepare(db, sql, error_r);
	int ret = st == NULL ? -1 : 0;
	ARRAY(struct directory_recipient) a;
	array_init(&a, pool);
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, id);
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			directory_recipient_from_row(st, pool, array_push_new(&a));
		if (rc != SQLITE_DONE)
			ret = directory_db_error(db, error_r, "cannot list recipients");
		sqlite3_finalize(st);
	}
	directory_db_put(dir, db);
	*list_r = a.v;
	*count_r = a.n;
	return ret;
}

int directory_resolve(struct directory *dir, const char *address, pool_t *pool,
	struct directory_recipient *r, const char **error_r)
{
	struct directory_address a;
	const char *err;
	if (directory_address_parse(address, strlen(address), &a, &err) < 0)
		return 0;
	sqlite3 *db = directory_db_get(dir, error_r);
	if (db == NULL)
		return -1;
	sqlite3_stmt *st = directory_prepare(db,
		"SELECT " DIRECTORY_RECIPIENT_COLUMNS " FROM addresses a "
		"JOIN recipients r ON r.id = a.recipient_id WHERE a.key = ?",
		error_r);
	int ret = -1;
	if (st != NULL) {
		sqlite3_bind_text(st, 1, a.key, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			directory_recipient_from_row(st, pool, r);
			ret = 1;
		} else if (rc == SQLITE_DONE) {
			ret = 0;
		} else {
			directory_db_error(db, error_r, "address lookup failed");
		}
		sqlite3_finalize(st);
	}
	directory_db_put(dir, db);
	return ret;
}

/* text as a LIKE pattern body, with the wildcards escaped by '\'. */
static void recipient_like_escape(struct buf *b, const char *text)
{
	for (; *text != '\0'; text++) {
		if (*text == '%' || *text == '_' || *text == '\\')
			buf_append_byte(b, '\\');
		buf_append_byte(b, (unsigned char)*text);
	}
}

int directory_search(struct directory *dir, const char *text, size_t max, pool_t *pool,
	struct directory_recipient **results_r, size_t *count_r, const char **error_r)
{
	*results_r = NULL;
	*count_r = 0;
	size_t len = strlen(text);
	if (len == 0)
		return directory_error(error_r, "empty search text");
	if (len > DIRECTORY_SEARCH_TEXT_MAX)
		return directory_error(error_r, "search text longer than %d bytes",
			DIRECTORY_SEARCH_TEXT_MAX);
	if (!utf8_valid(text, len))
		return directory_error(error_r, "search text is not valid UTF-8");
	if (max > DIRECTORY_SEARCH_RESULTS_MAX)
		max = DIRECTORY_SEARCH_RESULTS_MAX;
	if (max == 0)
		return 0;

	struct buf esc, prefix, word, substr;
	buf_init(&esc, pool);
	recipient_like_escape(&esc, text);
	buf_init(&prefix, pool);
	buf_printf(&prefix, "%s%%", buf_cstr(&esc));
	buf_init(&word, pool);
	buf_printf(&word, "%% %s%%", buf_cstr(&esc));
	buf_init(&substr, pool);
	buf_printf(&substr, "%%%s%%", buf_cstr(&esc));

	sqlite3 *db = directory_db_get(dir, error_r);
	if (db == NULL)
		return -1;
	/* One row per recipient, ranked by its best-matching address:
	 * 0 exact address, 1 prefix of an address, the display name or a
	 * word in it, 2 anywhere. LIKE folds ASCII case. */
	sqlite3_stmt *st = directory_prepare(db,
		"SELECT " DIRECTORY_RECIPIENT_COLUMNS ", min(CASE "
		"  WHEN a.key = lower(?1) THEN 0 "
		"  WHEN a.key LIKE ?2 ESCAPE '\\' OR r.display_name LIKE ?2 ESCAPE '\\' "
		"    OR r.display_name LIKE ?3 ESCAPE '\\' THEN 1 "
		"  ELSE 2 END) AS rank "
		"FROM recipients r JOIN addresses a ON a.recipient_id = r.id "
		"WHERE a.key LIKE ?4 ESCAPE '\\' OR r.display_name LIKE ?4 ESCAPE '\\' "
		"GROUP BY r.id ORDER BY rank, r.display_name COLLATE NOCASE, r.address LIMIT ?5",
		error_r);
	int ret = st == NULL ? -1 : 0;
	ARRAY(struct directory_recipient) a;
	array_init(&a, pool);
	if (st != NULL) {
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, buf_cstr(&prefix), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, buf_cstr(&word), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, buf_cstr(&substr), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, (int64_t)max);
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			directory_recipient_from_row(st, pool, array_push_new(&a));
		if (rc != SQLITE_DONE)
			ret = directory_db_error(db, error_r, "search failed");
		sqlite3_finalize(st);
	}
	directory_db_put(dir, db);
	*results_r = a.v;
	*count_r = a.n;
	return ret;
}
