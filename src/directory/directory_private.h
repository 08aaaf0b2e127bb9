/* Internal to src/directory: the handle, its connection pool, write
 * transactions and error reporting. */
#ifndef DIRECTORY_DIRECTORY_PRIVATE_H
#define DIRECTORY_DIRECTORY_PRIVATE_H

#include <pthread.h>
#include <sqlite3.h>

#include "directory/directory.h"

struct evp_md_st;
struct ossl_lib_ctx_st;
struct ossl_provider_st;

struct directory {
	char *path;
	struct directory_settings set;

	pthread_mutex_t pool_lock; /* protects idle */
	sqlite3 **idle;
	size_t n_idle;

	struct directory_auth_cache *auth_cache; /* NULL: none */

	/* Serializes write transactions within the process. */
	pthread_mutex_t write_lock;

	/* Set up on first use, under lazy_lock. */
	pthread_mutex_t lazy_lock;
	char *dummy_hash; /* verified against for unknown users */
	struct ossl_lib_ctx_st *ossl;
	struct ossl_provider_st *ossl_legacy;
	struct evp_md_st *md4;
};

/* Sets the thread-local error message and points *error_r at it (when
 * error_r is not NULL). Returns -1. */
int directory_error(const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The same with sqlite3_errmsg(db) appended after ": ". */
int directory_db_error(sqlite3 *db, const char **error_r, const char *what);

/* Borrows a connection (opening one if none is idle). NULL with *error_r
 * on failure. */
sqlite3 *directory_db_get(struct directory *dir, const char **error_r);
/* Returns a borrowed connection. */
void directory_db_put(struct directory *dir, sqlite3 *db);

/* Takes the write lock and a connection and starts BEGIN IMMEDIATE.
 * NULL with *error_r (nothing held) on failure. */
sqlite3 *directory_write_begin(struct directory *dir, const char **error_r);
/* Commits (commit true) or rolls back, returns the connection and
 * releases the write lock. Returns 0, or -1 if the commit failed (the
 * transaction is then rolled back). */
int directory_write_end(struct directory *dir, sqlite3 *db, bool commit, const char **error_r);

/* Prepares sql on db; NULL with *error_r on failure. */
sqlite3_stmt *directory_prepare(sqlite3 *db, const char *sql, const char **error_r);

/* Lists the recipients of one kind (1 users, 2 groups), of one domain or
 * of all when domain is NULL, in address order: runs
 * "SELECT columns FROM recipients ..." and calls row(st, pool, ctx) for
 * each row. what names the list in the error message. 0, or -1 with
 * *error_r (an invalid domain name or a database error). */
int directory_list_kind(struct directory *dir, int kind, const char *columns,
	const char *domain, const char *what, pool_t *pool,
	void (*row)(sqlite3_stmt *st, pool_t *pool, void *ctx), void *ctx, const char **error_r);

/* The NT hash of password (MD4 of its UTF-16LE form), loading OpenSSL's
 * legacy provider on first use. 0 or -1. */
int directory_nt_hash_compute(struct directory *dir, const char *password,
	uint8_t out[DIRECTORY_NT_HASH_LEN], const char **error_r);
/* A hash to verify against when the user is unknown, made on first use
 * with the configured cost. NULL with *error_r on failure. */
const char *directory_dummy_hash(struct directory *dir, const char **error_r);

/* Looks up a recipient id by address key (lower-cased canonical address):
 * 1 with *id_r and *kind_r, 0 none, -1 error. */
int directory_address_lookup(sqlite3 *db, const char *key, int64_t *id_r, int *kind_r,
	const char **error_r);

/* The id of a domain given in lower case: 1 with *id_r, 0 none, -1 error. */
int directory_domain_id(sqlite3 *db, const char *name, int64_t *id_r, const char **error_r);

/* Parses an address for a new user, alias or group: valid, not quoted
 * (a mailbox name must survive every protocol unquoted). 0 or -1. */
int directory_new_address_parse(const char *address, struct directory_address *a,
	const char **error_r);
/* Checks a display name: at most DIRECTORY_DISPLAY_NAME_MAX octets of
 * UTF-8 without control characters. 0 or -1. */
int directory_display_name_check(const char *name, const char **error_r);

/* A recipient row to insert. */
struct directory_new_recipient {
	int kind;
	const struct directory_address *addr;
	const char *display_name;
	int64_t created;
	/* Users only. */
	uint64_t quota;
	bool enabled;
	const struct guid *mailbox_guid;
	const char *password_hash;
	const uint8_t *nt_hash;
};
/* Inside a write transaction: checks the domain exists and the address is
 * free, inserts the recipient and its primary address, and assigns the
 * legacy DN. Returns 0 with *id_r and *legacy_dn_r (from pool), or -1. */
int directory_recipient_insert(sqlite3 *db, const struct directory_new_recipient *n,
	pool_t *pool, int64_t *id_r, const char **legacy_dn_r, const char **error_r);
/* Inside a write transaction: adds addr as a further address of
 * recipient id. 0 or -1 (unknown domain, taken). */
int directory_recipient_add_address(sqlite3 *db, int64_t id, const struct directory_address *addr,
	bool primary, const char **error_r);

/* Builds a user from a row of DIRECTORY_USER_COLUMNS starting at column 0. */
struct directory_user *directory_user_from_row(sqlite3_stmt *st, pool_t *pool);
#define DIRECTORY_USER_COLUMNS                                                                     \
	"r.id, r.address, d.name, r.display_name, r.legacy_dn, r.quota, r.enabled, "           \
	"r.password_hash IS NOT NULL, r.nt_hash IS NOT NULL, r.created, r.mailbox_guid"
#define DIRECTORY_USER_FROM "recipients r JOIN domains d ON d.id = r.domain_id"

/* Recipient kinds as stored. */
#define DIRECTORY_KIND_USER 1
#define DIRECTORY_KIND_GROUP 2

/* Fills r from a row of DIRECTORY_RECIPIENT_COLUMNS starting at column 0
 * (from "recipients r"); strings from pool. */
void directory_recipient_from_row(sqlite3_stmt *st, pool_t *pool, struct directory_recipient *r);
#define DIRECTORY_RECIPIENT_COLUMNS                                                                \
	"r.kind, r.id, r.address, r.display_name, r.legacy_dn, r.enabled"

/* Steps st (prepared on db, parameters bound) once and finalizes it: 1 a
 * row came, 0 none, -1 with *error_r ("what: <sqlite's message>"). */
int directory_step_exists(sqlite3 *db, sqlite3_stmt *st, const char *what, const char **error_r);

/* 1 if recipient id exists and is of kind (DIRECTORY_KIND_*), 0 if not,
 * -1 error. */
int directory_recipient_exists(sqlite3 *db, int64_t id, int kind, const char **error_r);

/* A link from one recipient (the owner) to another named by address:
 * group membership, Send As grants. The SQL statements take (?1 owner,
 * ?2 other); insert_sql is an INSERT OR IGNORE. */
struct directory_link {
	int owner_kind;           /* DIRECTORY_KIND_* the owner must be */
	const char *insert_sql;
	const char *delete_sql;
	const char *self_error;   /* adding a link from the owner to itself */
	const char *exists_error; /* follows the address when the link exists */
};
/* Adds (add) or removes the link from owner to the recipient at address
 * (primary or alias, any case), both looked up inside one write
 * transaction. 1 done, 0 no such owner (or, removing: the address names
 * nobody or is not linked), -1 error (invalid address; adding: nobody
 * has it, the owner itself, already linked). */
int directory_link_change(struct directory *dir, const struct directory_link *l, int64_t owner,
	const char *address, bool add, const char **error_r);

/* Runs sql ("SELECT " DIRECTORY_RECIPIENT_COLUMNS " ... ?1 ...", with id
 * bound as ?1) into a pool array of recipients. 0 or -1. */
int directory_recipient_list(struct directory *dir, const char *sql, int64_t id, pool_t *pool,
	struct directory_recipient **list_r, size_t *count_r, const char **error_r);

/* A pool copy of column i as text ("" for NULL). */
const char *directory_column_text(sqlite3_stmt *st, int i, pool_t *pool);

#endif
