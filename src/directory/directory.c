/* The directory handle: opening, schema migrations, the connection pool,
 * write transactions, error reporting, and the lazily set up pieces
 * (dummy hash, MD4). */
#include "directory/auth_cache.h"
#include "directory/directory_private.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/utf.h"
#include "core/xalloc.h"

/* One thread's last error message (see directory.h: Errors). */
static _Thread_local char directory_errbuf[512];

int directory_error(const char **error_r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(directory_errbuf, sizeof(directory_errbuf), fmt, ap);
	va_end(ap);
	if (error_r != NULL)
		*error_r = directory_errbuf;
	return -1;
}

int directory_db_error(sqlite3 *db, const char **error_r, const char *what)
{
	return directory_error(error_r, "%s: %s", what, sqlite3_errmsg(db));
}

/* Schema migrations: entry i takes user_version i to i + 1. Append, never
 * edit a released entry: databases in the field are at every version. */
static const char *const directory_migrations[] = {
	/* 0 -> 1: the first schema. Addresses (primary, alias, group) share
	 * one table so that the primary key makes each address name at most
	 * one recipient; key is the lower-cased canonical address. */
	"CREATE TABLE domains ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  name TEXT NOT NULL UNIQUE,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE recipients ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  kind INTEGER NOT NULL,"
	"  domain_id INTEGER NOT NULL REFERENCES domains(id),"
	"  address TEXT NOT NULL,"
	"  display_name TEXT NOT NULL DEFAULT '',"
	"  legacy_dn TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  created INTEGER NOT NULL,"
	"  enabled INTEGER NOT NULL DEFAULT 1,"
	"  quota INTEGER NOT NULL DEFAULT 0,"
	"  mailbox_guid BLOB UNIQUE,"
	"  password_hash TEXT,"
	"  nt_hash BLOB);"
	"CREATE INDEX recipients_domain ON recipients(domain_id);"
	"CREATE TABLE addresses ("
	"  key TEXT PRIMARY KEY,"
	"  address TEXT NOT NULL,"
	"  recipient_id INTEGER NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,"
	"  domain_id INTEGER NOT NULL REFERENCES domains(id),"
	"  is_primary INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX addresses_recipient ON addresses(recipient_id);"
	"CREATE INDEX addresses_domain ON addresses(domain_id);"
	"CREATE TABLE group_members ("
	"  group_id INTEGER NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,"
	"  member_id INTEGER NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,"
	"  PRIMARY KEY (group_id, member_id)) WITHOUT ROWID;"
	"CREATE INDEX group_members_member ON group_members(member_id);",
	/* 1 -> 2: Send As grants (user_id may send as target_id, a user or
	 * a group). Deleting either end removes the grant. */
	"CREATE TABLE send_as ("
	"  user_id INTEGER NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,"
	"  target_id INTEGER NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,"
	"  PRIMARY KEY (user_id, target_id)) WITHOUT ROWID;"
	"CREATE INDEX send_as_target ON send_as(target_id);",
};
_Static_assert(sizeof(directory_migrations) / sizeof(directory_migrations[0]) ==
		       DIRECTORY_SCHEMA_VERSION,
	"one migration per schema version");

static sqlite3 *directory_db_open(struct directory *dir, const char **error_r)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(dir->path, &db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		directory_error(error_r, "%s: %s", dir->path,
			db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, (int)dir->set.busy_timeout_ms);
	/* synchronous=FULL: a change the CLI reported is on disk. */
	if (sqlite3_exec(db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;", NULL, NULL,
		    NULL) != SQLITE_OK) {
		directory_db_error(db, error_r, dir->path);
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

sqlite3 *directory_db_get(struct directory *dir, const char **error_r)
{
	sqlite3 *db = NULL;
	pthread_mutex_lock(&dir->pool_lock);
	if (dir->n_idle > 0)
		db = dir->idle[--dir->n_idle];
	pthread_mutex_unlock(&dir->pool_lock);
	if (db == NULL)
		db = directory_db_open(dir, error_r);
	return db;
}

void directory_db_put(struct directory *dir, sqlite3 *db)
{
	pthread_mutex_lock(&dir->pool_lock);
	if (dir->n_idle < dir->set.max_idle_connections) {
		dir->idle[dir->n_idle++] = db;
		db = NULL;
	}
	pthread_mutex_unlock(&dir->pool_lock);
	if (db != NULL)
		sqlite3_close(db);
}

sqlite3 *directory_write_begin(struct directory *dir, const char **error_r)
{
	pthread_mutex_lock(&dir->write_lock);
	sqlite3 *db = directory_db_get(dir, error_r);
	if (db == NULL) {
		pthread_mutex_unlock(&dir->write_lock);
		return NULL;
	}
	/* IMMEDIATE: take the write lock now, so that reads made inside the
	 * transaction stay true until the commit. */
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		directory_db_error(db, error_r, "cannot start a transaction");
		directory_db_put(dir, db);
		pthread_mutex_unlock(&dir->write_lock);
		return NULL;
	}
	return db;
}

int directory_write_end(struct directory *dir, sqlite3 *db, bool commit, const char **error_r)
{
	int ret = 0;
	if (commit && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		ret = directory_db_error(db, error_r, "commit failed");
		commit = false;
	}
	if (!commit && sqlite3_get_autocommit(db) == 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	directory_db_put(dir, db);
	pthread_mutex_unlock(&dir->write_lock);
	return ret;
}

sqlite3_stmt *directory_prepare(sqlite3 *db, const char *sql, const char **error_r)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		directory_db_error(db, error_r, "SQL error");
		return NULL;
	}
	return st;
}

const char *directory_column_text(sqlite3_stmt *st, int i, pool_t *pool)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return pool_strdup(pool, t != NULL ? (const char *)t : "");
}

static int directory_user_version(sqlite3 *db, int *version_r, const char **error_r)
{
	sqlite3_stmt *st = directory_prepare(db, "PRAGMA user_version", error_r);
	if (st == NULL)
		return -1;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return directory_db_error(db, error_r, "cannot read the schema version");
	}
	*version_r = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/* Brings the schema to DIRECTORY_SCHEMA_VERSION. The version is read
 * again inside the write transaction: another process may have migrated
 * meanwhile. */
static int directory_migrate(struct directory *dir, const char **error_r)
{
	sqlite3 *db = directory_db_get(dir, error_r);
	if (db == NULL)
		return -1;
	int version;
	int ret = directory_user_version(db, &version, error_r);
	if (ret == 0 && version > DIRECTORY_SCHEMA_VERSION)
		ret = directory_error(error_r,
			"schema version %d is newer than this hermod knows (%d)", version,
			DIRECTORY_SCHEMA_VERSION);
	if (ret == 0) {
		/* WAL: readers never wait for the writer. It is a property of
		 * the file, set outside any transaction. */
		sqlite3_stmt *st = directory_prepare(db, "PRAGMA journal_mode = WAL", error_r);
		if (st == NULL || sqlite3_step(st) != SQLITE_ROW ||
			strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0)
			ret = directory_db_error(db, error_r, "cannot switch to WAL mode");
		sqlite3_finalize(st);
	}
	directory_db_put(dir, db);
	if (ret < 0 || version == DIRECTORY_SCHEMA_VERSION)
		return ret;

	db = directory_write_begin(dir, error_r);
	if (db == NULL)
		return -1;
	if (directory_user_version(db, &version, error_r) < 0)
		return directory_write_end(dir, db, false, NULL), -1;
	for (int v = version; v < DIRECTORY_SCHEMA_VERSION; v++) {
		if (sqlite3_exec(db, directory_migrations[v], NULL, NULL, NULL) != SQLITE_OK) {
			directory_error(error_r, "migration to schema version %d failed: %s", v + 1,
				sqlite3_errmsg(db));
			directory_write_end(dir, db, false, NULL);
			return -1;
		}
	}
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", DIRECTORY_SCHEMA_VERSION);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		directory_db_error(db, error_r, "cannot set the schema version");
		directory_write_end(dir, db, false, NULL);
		return -1;
	}
	return directory_write_end(dir, db, true, error_r);
}

int directory_open(const char *path, const struct directory_settings *set,
	struct directory **dir_r, const char **error_r)
{
	struct directory_settings s = {0};
	if (set != NULL)
		s = *set;
	if (s.password_hash_cost > DIRECTORY_HASH_COST_MAX)
		return directory_error(error_r, "password hash cost %u out of range (1-%d)",
			s.password_hash_cost, DIRECTORY_HASH_COST_MAX);
	if (s.password_hash_cost == 0)
		s.password_hash_cost = DIRECTORY_HASH_COST_DEFAULT;
	if (s.busy_timeout_ms == 0)
		s.busy_timeout_ms = 5000;
	if (s.max_idle_connections == 0)
		s.max_idle_connections = 8;

	/* The file holds password hashes: create it private. SQLite gives
	 * its -wal and -shm files the same mode. */
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return directory_error(error_r, "%s: %s", path, strerror(errno));
	close(fd);

	struct directory *dir = xcalloc(1, sizeof(*dir));
	dir->path = xstrdup(path);
	dir->set = s;
	dir->idle = xcalloc(s.max_idle_connections, sizeof(*dir->idle));
	dir->auth_cache =
		directory_auth_cache_new(s.auth_cache_entries, s.auth_cache_ttl_s, NULL, NULL);
	pthread_mutex_init(&dir->pool_lock, NULL);
	pthread_mutex_init(&dir->write_lock, NULL);
	pthread_mutex_init(&dir->lazy_lock, NULL);
	if (directory_migrate(dir, error_r) < 0) {
		char msg[400];
		snprintf(msg, sizeof(msg), "%s", *error_r);
		directory_close(&dir);
		return directory_error(error_r, "%s: %s", path, msg);
	}
	*dir_r = dir;
	return 0;
}

void directory_close(struct directory **dirp)
{
	struct directory *dir = *dirp;
	if (dir == NULL)
		return;
	for (size_t i = 0; i < dir->n_idle; i++)
		sqlite3_close(dir->idle[i]);
	free(dir->idle);
	directory_auth_cache_free(&dir->auth_cache);
	EVP_MD_free(dir->md4);
	if (dir->ossl_legacy != NULL)
		OSSL_PROVIDER_unload(dir->ossl_legacy);
	OSSL_LIB_CTX_free(dir->ossl);
	if (dir->dummy_hash != NULL)
		free(dir->dummy_hash);
	pthread_mutex_destroy(&dir->pool_lock);
	pthread_mutex_destroy(&dir->write_lock);
	pthread_mutex_destroy(&dir->lazy_lock);
	free(dir->path);
	free(dir);
	*dirp = NULL;
}

int directory_nt_hash_compute(struct directory *dir, const char *password,
	uint8_t out[DIRECTORY_NT_HASH_LEN], const char **error_r)
{
	/* MD4 lives in OpenSSL 3's legacy provider. It is loaded into a
	 * library context of our own, so the process-wide default context
	 * (used for TLS) keeps only modern algorithms. */
	pthread_mutex_lock(&dir->lazy_lock);
	if (dir->md4 == NULL) {
		if (dir->ossl == NULL)
			dir->ossl = OSSL_LIB_CTX_new();
		if (dir->ossl != NULL && dir->ossl_legacy == NULL)
			dir->ossl_legacy = OSSL_PROVIDER_load(dir->ossl, "legacy");
		if (dir->ossl_legacy != NULL)
			dir->md4 = EVP_MD_fetch(dir->ossl, "MD4", NULL);
	}
	EVP_MD *md4 = dir->md4;
	pthread_mutex_unlock(&dir->lazy_lock);
	if (md4 == NULL)
		return directory_error(error_r,
			"MD4 is unavailable (OpenSSL's legacy provider did not load): "
			"cannot compute the NT hash");

	/* MS-NLMP 3.3.1: NTOWFv1 = MD4(UNICODE(Passwd)). */
	struct buf u16;
	buf_init(&u16, NULL);
	buf_reserve(&u16, strlen(password) * 4 + 4);
	int ret = 0;
	unsigned int len = 0;
	if (utf8_to_utf16le(password, strlen(password), &u16) < 0)
		ret = directory_error(error_r, "password is not valid UTF-8");
	else if (EVP_Digest(u16.data, u16.len, out, &len, md4, NULL) != 1 ||
		 len != DIRECTORY_NT_HASH_LEN)
		ret = directory_error(error_r, "MD4 failed");
	if (u16.len > 0)
		explicit_bzero(u16.data, u16.len);
	buf_deinit(&u16);
	return ret;
}

const char *directory_dummy_hash(struct directory *dir, const char **error_r)
{
	pthread_mutex_lock(&dir->lazy_lock);
	if (dir->dummy_hash == NULL) {
		char pw[33];
		directory_password_generate(pw, sizeof(pw) - 1);
		dir->dummy_hash = directory_password_hash(pw, dir->set.password_hash_cost, error_r);
		explicit_bzero(pw, sizeof(pw));
	}
	const char *h = dir->dummy_hash;
	pthread_mutex_unlock(&dir->lazy_lock);
	return h;
}

int directory_address_lookup(sqlite3 *db, const char *key, int64_t *id_r, int *kind_r,
	const char **error_r)
{
	sqlite3_stmt *st = directory_prepare(db,
		"SELECT r.id, r.kind FROM addresses a JOIN recipients r ON r.id = a.recipient_id "
		"WHERE a.key = ?",
		error_r);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st), ret;
	if (rc == SQLITE_ROW) {
		*id_r = sqlite3_column_int64(st, 0);
		*kind_r = sqlite3_column_int(st, 1);
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		ret = directory_db_error(db, error_r, "address lookup failed");
	}
	sqlite3_finalize(st);
	return ret;
}
