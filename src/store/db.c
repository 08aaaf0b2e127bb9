/* SQLite connections, the statement cache and the mailbox schema. */
#include <string.h>

#include "core/log.h"
#include "core/xalloc.h"
#include "store/restrict_sql.h"
#include "store/store_int.h"

/* The schema of one mailbox (docs/store.md explains each table).
 *
 * IDs are stored as global counters (48 bits); the replica id is always
 * STORE_REPLID. Times are FILETIMEs. Messages have an internal row id
 * (id) separate from their MID because a move gives the message a new MID
 * while its recipients, attachments and properties stay where they are;
 * embedded messages have no MID at all. */
/* IMAP's MIME structure of a message (store/imap_cache.h), keyed by MID
 * and the MIME blob it was computed from; it goes with the message. */
#define IMAP_CACHE_DDL_TABLE                                                                       \
	"CREATE TABLE imap_cache (mid INTEGER PRIMARY KEY, sha BLOB NOT NULL, envelope TEXT,"     \
	" body TEXT, bodystructure TEXT)"
/* STATUS/SELECT count \Deleted messages often: a partial index keeps that
 * from reading the folder. */
#define IMAP_DELETED_DDL_INDEX                                                                     \
	"CREATE INDEX messages_imap_deleted ON messages (fid) WHERE fai = 0"                      \
	" AND (store_flags & 1) != 0"
#define IMAP_CACHE_DDL_TRIGGER                                                                     \
	"CREATE TRIGGER imap_cache_gone AFTER DELETE ON messages WHEN old.mid IS NOT NULL"         \
	" BEGIN DELETE FROM imap_cache WHERE mid = old.mid; END"

static const char *const schema_sql[] = {
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID",
	"CREATE TABLE special_folders (which INTEGER PRIMARY KEY, fid INTEGER NOT NULL)",
	"CREATE TABLE named_props (propid INTEGER PRIMARY KEY, guid BLOB NOT NULL,"
	" kind INTEGER NOT NULL, lid INTEGER NOT NULL, name TEXT NOT NULL,"
	" UNIQUE (guid, kind, lid, name))",
	"CREATE TABLE folders ("
	" fid INTEGER PRIMARY KEY,"
	" parent INTEGER,"
	" name TEXT NOT NULL COLLATE NOCASE,"
	" type INTEGER NOT NULL,"
	" special INTEGER,"
	" cn INTEGER NOT NULL,"
	" pcl BLOB,"
	" created INTEGER NOT NULL,"
	" modified INTEGER NOT NULL,"
	" uidvalidity INTEGER NOT NULL,"
	" uidnext INTEGER NOT NULL,"
	" n_msgs INTEGER NOT NULL DEFAULT 0,"
	" n_unread INTEGER NOT NULL DEFAULT 0,"
	" n_fai INTEGER NOT NULL DEFAULT 0,"
	" size INTEGER NOT NULL DEFAULT 0,"
	" search_res BLOB,"
	" search_scope BLOB,"
	" search_flags INTEGER NOT NULL DEFAULT 0)",
	"CREATE UNIQUE INDEX folders_name ON folders (parent, name)",
	"CREATE INDEX folders_cn ON folders (cn)",
	"CREATE TABLE folder_props (fid INTEGER NOT NULL, propid INTEGER NOT NULL,"
	" type INTEGER NOT NULL, value, blob BLOB, PRIMARY KEY (fid, propid)) WITHOUT ROWID",
	"CREATE TABLE messages ("
	" id INTEGER PRIMARY KEY,"
	" mid INTEGER,"
	" fid INTEGER,"
	" top INTEGER NOT NULL,"
	" parent_att INTEGER,"
	" fai INTEGER NOT NULL DEFAULT 0,"
	" uid INTEGER,"
	" cn INTEGER NOT NULL,"
	" created_cn INTEGER NOT NULL,"
	" read_cn INTEGER NOT NULL DEFAULT 0,"
	" imap_cn INTEGER NOT NULL DEFAULT 0,"
	" pcl BLOB,"
	" creator TEXT,"
	" flags INTEGER NOT NULL DEFAULT 0,"
	" store_flags INTEGER NOT NULL DEFAULT 0,"
	" msg_class TEXT,"
	" subject TEXT,"
	" norm_subject TEXT,"
	" sender_name TEXT,"
	" delivery_time INTEGER,"
	" submit_time INTEGER,"
	" created INTEGER,"
	" modified INTEGER,"
	" size INTEGER NOT NULL DEFAULT 0,"
	" importance INTEGER,"
	" flag_status INTEGER,"
	" icon_index INTEGER,"
	" last_verb INTEGER,"
	" has_attach INTEGER NOT NULL DEFAULT 0,"
	" mime BLOB,"
	" mime_size INTEGER)",
	"CREATE UNIQUE INDEX messages_mid ON messages (mid)",
	"CREATE UNIQUE INDEX messages_uid ON messages (fid, uid)",
	"CREATE INDEX messages_delivery ON messages (fid, fai, delivery_time)",
	"CREATE INDEX messages_cn ON messages (fid, cn)",
	"CREATE INDEX messages_read_cn ON messages (fid, read_cn)",
	"CREATE INDEX messages_imap_cn ON messages (fid, imap_cn)",
	"CREATE INDEX messages_top ON messages (top)",
	"CREATE INDEX messages_parent_att ON messages (parent_att)",
	"CREATE TABLE message_props (id INTEGER NOT NULL, propid INTEGER NOT NULL,"
	" type INTEGER NOT NULL, value, blob BLOB, PRIMARY KEY (id, propid)) WITHOUT ROWID",
	"CREATE TABLE recipients (id INTEGER PRIMARY KEY, msg INTEGER NOT NULL,"
	" top INTEGER NOT NULL, row INTEGER NOT NULL, props BLOB NOT NULL)",
	"CREATE INDEX recipients_msg ON recipients (msg, row)",
	"CREATE INDEX recipients_top ON recipients (top)",
	"CREATE TABLE attachments (id INTEGER PRIMARY KEY, msg INTEGER NOT NULL,"
	" top INTEGER NOT NULL, num INTEGER NOT NULL, size INTEGER NOT NULL,"
	" props BLOB NOT NULL)",
	"CREATE UNIQUE INDEX attachments_msg ON attachments (msg, num)",
	"CREATE INDEX attachments_top ON attachments (top)",
	/* Every blob a row references: the blob GC's mark phase reads only
	 * this. owner: a top-level message's row id (deleting the message
	 * drops all), or minus a folder's id; part: the message row (its id)
	 * or attachment (minus its id) whose save rewrites the entries, 0 for
	 * folders. */
	"CREATE TABLE blob_refs (owner INTEGER NOT NULL, part INTEGER NOT NULL,"
	" sha BLOB NOT NULL)",
	"CREATE INDEX blob_refs_owner ON blob_refs (owner)",
	"CREATE INDEX blob_refs_part ON blob_refs (part)",
	"CREATE TABLE tombstones (mid INTEGER NOT NULL, fid INTEGER NOT NULL, uid INTEGER,"
	" fai INTEGER NOT NULL, cn INTEGER NOT NULL, deleted INTEGER NOT NULL)",
	"CREATE INDEX tombstones_fid ON tombstones (fid, cn)",
	"CREATE INDEX tombstones_cn ON tombstones (cn)",
	"CREATE TABLE folder_tombstones (fid INTEGER PRIMARY KEY, parent INTEGER,"
	" cn INTEGER NOT NULL, deleted INTEGER NOT NULL)",
	"CREATE INDEX folder_tombstones_cn ON folder_tombstones (cn)",
	IMAP_CACHE_DDL_TABLE,
	IMAP_CACHE_DDL_TRIGGER,
	IMAP_DELETED_DDL_INDEX,
	"CREATE TABLE permissions (fid INTEGER NOT NULL, member INTEGER NOT NULL,"
	" principal TEXT, name TEXT, rights INTEGER NOT NULL, PRIMARY KEY (fid, member))",
	"CREATE INDEX permissions_principal ON permissions (principal, fid)",
	NULL,
};

static void stmt_free(struct dbconn *c)
{
	struct hash_iter it;
	hash_iter_init(&it);
	while (hash_iter_next(c->stmts, &it))
		sqlite3_finalize(it.value);
	hash_free(&c->stmts);
}

struct dbconn *store_db_open(const char *path, bool create, const char **error_r)
{
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	int rc = sqlite3_open_v2(path, &db, flags, NULL);
	if (rc != SQLITE_OK) {
		static __thread char msg[512];
		snprintf(msg, sizeof(msg), "%s: %s", path,
			db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		*error_r = msg;
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 10000);
	if (store_sql_register(db) != SQLITE_OK) {
		*error_r = "cannot register the store's SQL functions";
		sqlite3_close(db);
		return NULL;
	}
	struct dbconn *c = xcalloc(1, sizeof(*c));
	c->db = db;
	c->stmts = hash_new(64);
	c->sync = 0;
	/* WAL: one writer and many readers at once; the mode is persistent,
	 * but asking again is cheap and covers a database created elsewhere. */
	char *err = NULL;
	rc = sqlite3_exec(db,
		"PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;"
		" PRAGMA temp_store=MEMORY; PRAGMA cache_size=-8000",
		NULL, NULL, &err);
	if (rc != SQLITE_OK) {
		static __thread char msg[256];
		snprintf(msg, sizeof(msg), "%s: %s", path, err != NULL ? err : sqlite3_errstr(rc));
		sqlite3_free(err);
		*error_r = msg;
		store_db_close(&c);
		return NULL;
	}
	c->sync = 2;
	return c;
}

void store_db_close(struct dbconn **cp)
{
	struct dbconn *c = *cp;
	if (c == NULL)
		return;
	*cp = NULL;
	stmt_free(c);
	sqlite3_close(c->db);
	free(c);
}

sqlite3_stmt *store_db_prep(struct dbconn *c, const char *sql)
{
	/* Callers pass string literals: a slot keyed by the pointer finds
	 * most statements without hashing their text. */
	size_t slot = ((uintptr_t)sql >> 3) % STORE_STMT_FAST;
	sqlite3_stmt *st = c->fast[slot].sql == sql ? c->fast[slot].st : NULL;
	if (st != NULL) {
		HERMOD_ASSERT(!sqlite3_stmt_busy(st));
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	size_t n = strlen(sql);
	st = hash_get(c->stmts, sql, n, NULL);
	if (st != NULL) {
		c->fast[slot].sql = sql;
		c->fast[slot].st = st;
		/* A statement still stepping here is a bug in the caller: the
		 * same SQL is in use twice at once. */
		HERMOD_ASSERT(!sqlite3_stmt_busy(st));
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	int rc = sqlite3_prepare_v3(c->db, sql, (int)n, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK)
		log_panic(NULL, "store: cannot prepare \"%s\": %s", sql, sqlite3_errmsg(c->db));
	hash_put(c->stmts, sql, n, st, NULL);
	c->fast[slot].sql = sql;
	c->fast[slot].st = st;
	return st;
}

uint32_t store_db_ec(struct dbconn *c, int rc, const char *what)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return ecSuccess;
	case SQLITE_FULL:
		log_error(NULL, "store: %s: disk full", what);
		return ecNotEnoughDisk;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		log_warning(NULL, "store: %s: database busy", what);
		return ecBusy;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		log_error(NULL, "store: %s: database corrupt: %s", what,
			c != NULL ? sqlite3_errmsg(c->db) : "");
		return ecCorruptData;
	case SQLITE_NOMEM:
		return ecServerOOM;
	case SQLITE_CONSTRAINT:
		return ecDuplicateName;
	default:
		log_error(NULL, "store: %s: %s", what,
			c != NULL ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		return ecError;
	}
}

uint32_t store_db_exec(struct dbconn *c, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, &err);
	sqlite3_free(err);
	return store_db_ec(c, rc, sql);
}

uint32_t store_db_step_done(struct dbconn *c, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	uint32_t ec = rc == SQLITE_DONE || rc == SQLITE_ROW ? ecSuccess
							      : store_db_ec(c, rc, sqlite3_sql(st));
	sqlite3_reset(st);
	return ec;
}

uint32_t store_db_create_schema(struct dbconn *c)
{
	for (size_t i = 0; schema_sql[i] != NULL; i++) {
		uint32_t ec = store_db_exec(c, schema_sql[i]);
		if (ec != ecSuccess)
			return ec;
	}
	return store_meta_set_int(c, "schema_version", STORE_SCHEMA_VERSION);
}

/* Upgrades older schemas in place, one version at a time, each step in
 * its own transaction. */
static const char *const migrate_v2[] = {
	/* Changes IMAP sees but MAPI does not (the \Deleted store flag). */
	"ALTER TABLE messages ADD COLUMN imap_cn INTEGER NOT NULL DEFAULT 0",
	"CREATE INDEX messages_imap_cn ON messages (fid, imap_cn)",
	NULL,
};

static const char *const migrate_v3[] = {
	IMAP_CACHE_DDL_TABLE,
	IMAP_CACHE_DDL_TRIGGER,
	IMAP_DELETED_DDL_INDEX,
	NULL,
};

uint32_t store_db_migrate(struct dbconn *c)
{
	int64_t v = 0;
	uint32_t ec = store_meta_get_int(c, "schema_version", &v);
	if (ec != ecSuccess)
		return ec == ecNotFound ? ecCorruptData : ec;
	while (v < STORE_SCHEMA_VERSION) {
		const char *const *steps = v == 1 ? migrate_v2 : v == 2 ? migrate_v3 : NULL;
		if (steps == NULL)
			return ecVersionMismatch;
		ec = store_db_exec(c, "BEGIN IMMEDIATE");
		for (size_t i = 0; ec == ecSuccess && steps[i] != NULL; i++)
			ec = store_db_exec(c, steps[i]);
		if (ec == ecSuccess)
			ec = store_meta_set_int(c, "schema_version", v + 1);
		if (ec == ecSuccess)
			ec = store_db_exec(c, "COMMIT");
		if (ec != ecSuccess) {
			store_db_exec(c, "ROLLBACK");
			return ec;
		}
		v++;
	}
	return v == STORE_SCHEMA_VERSION ? ecSuccess : ecVersionMismatch;
}

uint32_t store_meta_get_int(struct dbconn *c, const char *key, int64_t *v_r)
{
	sqlite3_stmt *st = store_db_prep(c, "SELECT value FROM meta WHERE key = ?");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	uint32_t ec = ecSuccess;
	if (rc == SQLITE_ROW)
		*v_r = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		ec = ecNotFound;
	else
		ec = store_db_ec(c, rc, "meta");
	sqlite3_reset(st);
	return ec;
}

uint32_t store_meta_set_int(struct dbconn *c, const char *key, int64_t v)
{
	sqlite3_stmt *st = store_db_prep(c, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, v);
	return store_db_step_done(c, st);
}

uint32_t store_meta_set_blob(struct dbconn *c, const char *key, const void *p, size_t n)
{
	sqlite3_stmt *st = store_db_prep(c, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, p, (int)n, SQLITE_STATIC);
	return store_db_step_done(c, st);
}

uint32_t store_meta_set_text(struct dbconn *c, const char *key, const char *s)
{
	sqlite3_stmt *st = store_db_prep(c, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, s, -1, SQLITE_STATIC);
	return store_db_step_done(c, st);
}
