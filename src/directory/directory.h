/* The directory: domains, users, aliases, groups and credentials, in one
 * SQLite database (data_dir/directory.db, WAL, synchronous=FULL).
 *
 * Addresses are compared case-insensitively, local part included (the
 * Exchange convention); they are validated per directory/address.h and
 * their domain must have been added first. Primary addresses, aliases and
 * group addresses share one namespace: an address names one recipient.
 *
 * Users and groups are "recipients" with one stable numeric id space
 * (never reused after deletion), a primary SMTP address, a display name
 * and a legacy DN (MS-OXOABK 2.2.1.1 x500-dn):
 *   /o=hermod/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=<id>-<local>
 * where <id> is the id as 8+ lower-case hex digits and <local> the local
 * part reduced to [A-Za-z0-9.-]. Users also have a mailbox GUID, drawn at
 * creation, by which the store keys their mailbox.
 *
 * Threads: a struct directory may be used from any number of threads at
 * once. It keeps a pool of SQLite connections (one borrowed per call, so
 * readers run in parallel under WAL) and a mutex that serializes writers
 * within the process (other processes, such as the CLI beside a running
 * server, wait on SQLite's busy timeout). Password hashing runs outside
 * both, so a slow yescrypt never holds a connection or a lock.
 *
 * Results are allocated from the caller's pool. Errors: functions return
 * -1 with *error_r set to a message in a thread-local buffer, valid until
 * the next directory call on the same thread (copy it to keep it).
 *
 * Authentication (directory/auth.h), throttling (directory/throttle.h),
 * the SASL PLAIN parser (directory/sasl.h), address syntax
 * (directory/address.h) and password hashing (directory/password.h) have
 * their own headers. */
#ifndef DIRECTORY_DIRECTORY_H
#define DIRECTORY_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/guid.h"
#include "core/pool.h"
#include "directory/address.h"
#include "directory/password.h"

#define DIRECTORY_DB_NAME "directory.db"
/* The schema version this code writes (PRAGMA user_version). Older
 * databases are migrated on open; newer ones are refused. */
#define DIRECTORY_SCHEMA_VERSION 2
/* MS-OXOABK 2.2.1.1: the organization and administrative group of every
 * legacy DN (the spelling Exchange uses for its default group). */
#define DIRECTORY_LEGACY_DN_PREFIX                                                                 \
	"/o=hermod/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn="
/* Display names: at most this many octets of UTF-8. */
#define DIRECTORY_DISPLAY_NAME_MAX 256
/* directory_search: longest query text and most results. */
#define DIRECTORY_SEARCH_TEXT_MAX 256
#define DIRECTORY_SEARCH_RESULTS_MAX 1000

struct directory;

struct directory_settings {
	unsigned password_hash_cost;   /* yescrypt cost 1..11; 0: DIRECTORY_HASH_COST_DEFAULT */
	unsigned busy_timeout_ms;      /* wait for another process's write; 0: 5000 */
	unsigned max_idle_connections; /* connections kept open for reuse; 0: 8 */
	/* The verified-password cache of directory_auth_plain
	 * (directory/auth_cache.h): entries and seconds each lives; either
	 * 0: no cache. */
	unsigned auth_cache_entries;
	unsigned auth_cache_ttl_s;
};

/* Opens (creating if needed, mode 0600) the directory database at path,
 * applying schema migrations. set may be NULL for the defaults. Returns 0
 * with *dir_r, or -1 with *error_r. */
int directory_open(const char *path, const struct directory_settings *set,
	struct directory **dir_r, const char **error_r);
/* Closes every connection and frees the handle; sets *dir to NULL. No
 * call may be in flight. Accepts NULL. */
void directory_close(struct directory **dir);

/* --- Domains --- */

struct directory_domain {
	int64_t id;
	const char *name; /* lower case */
	int64_t created;  /* Unix seconds */
	unsigned users;   /* how many users have their primary address here */
};

/* Adds a domain (validated, lower-cased). 0, or -1 (invalid, exists). */
int directory_domain_add(struct directory *dir, const char *name, const char **error_r);
/* 1 if the directory hosts name, 0 if not (or name is not a domain), -1
 * on error. For SMTP: is a recipient domain local? */
int directory_domain_exists(struct directory *dir, const char *name, const char **error_r);
/* Every domain, sorted by name, into a pool array. 0 or -1. */
int directory_domain_list(struct directory *dir, pool_t *pool, struct directory_domain **domains_r,
	size_t *count_r, const char **error_r);
/* Removes a domain. It is refused while any address (user, alias, group)
 * is in it, unless force: then those users and groups are deleted and
 * other users' aliases in it removed. 1 deleted, 0 no such domain, -1
 * error (including "still in use"). */
int directory_domain_del(struct directory *dir, const char *name, bool force,
	const char **error_r);

/* --- Users --- */

struct directory_user {
	int64_t id;
	const char *address; /* primary SMTP address */
	const char *domain;
	const char *display_name; /* "" when none */
	const char *legacy_dn;
	uint64_t quota; /* bytes; 0: unlimited */
	bool enabled;
	bool has_password;
	bool has_nt_hash;
	int64_t created; /* Unix seconds */
	struct guid mailbox_guid;
};

struct directory_user_spec {
	const char *address;
	const char *display_name; /* NULL: "" */
	const char *password;     /* NULL: none, the user cannot log in yet */
	uint64_t quota;           /* bytes; 0: unlimited */
	bool nt_hash;             /* also store the NT hash (needs password) */
	bool disabled;
};

/* Creates a user. The address must be a valid dot-atom address in an
 * existing domain and not yet taken by any user, alias or group. Returns
 * 0 with the new user in *user_r (from pool), or -1. user_r and pool may
 * both be NULL when the caller does not need the result. */
int directory_user_add(struct directory *dir, const struct directory_user_spec *spec, pool_t *pool,
	struct directory_user **user_r, const char **error_r);
/* Finds a user by primary address or alias. 1 found, 0 none (or not an
 * address), -1 error. */
int directory_user_get(struct directory *dir, const char *address, pool_t *pool,
	struct directory_user **user_r, const char **error_r);
int directory_user_get_by_id(struct directory *dir, int64_t id, pool_t *pool,
	struct directory_user **user_r, const char **error_r);
/* By legacy DN (case-insensitive), for NSPI and EMSMDB. */
int directory_user_get_by_legacy_dn(struct directory *dir, const char *dn, pool_t *pool,
	struct directory_user **user_r, const char **error_r);
/* Users sorted by address; domain NULL for all. 0 or -1. */
int directory_user_list(struct directory *dir, const char *domain, pool_t *pool,
	struct directory_user **users_r, size_t *count_r, const char **error_r);
/* Deletes a user with its aliases, group memberships and the Send As
 * grants naming it (either end). The mailbox is the caller's business.
 * 1 deleted, 0 no such user, -1 error. */
int directory_user_del(struct directory *dir, int64_t id, const char **error_r);

enum directory_nt_hash {
	DIRECTORY_NT_HASH_KEEP,   /* store one if the user has one now */
	DIRECTORY_NT_HASH_STORE,  /* store one from now on */
	DIRECTORY_NT_HASH_REMOVE, /* store none */
};
/* Sets the password (checked with directory_password_check, hashed with
 * yescrypt). The NT hash follows nt. 1 done, 0 no such user, -1 error. */
int directory_user_set_password(struct directory *dir, int64_t id, const char *password,
	enum directory_nt_hash nt, const char **error_r);
/* Removes the password (and NT hash): the user can no longer log in. */
int directory_user_clear_password(struct directory *dir, int64_t id, const char **error_r);
/* 1 done, 0 no such user, -1 error (display name too long, bad UTF-8). */
int directory_user_set_display_name(struct directory *dir, int64_t id, const char *name,
	const char **error_r);
int directory_user_set_quota(struct directory *dir, int64_t id, uint64_t quota,
	const char **error_r);
int directory_user_set_enabled(struct directory *dir, int64_t id, bool enabled,
	const char **error_r);
/* The user's NT hash (MS-NLMP NTOWFv1), for NTLM. 1 with out filled, 0 if
 * the user has none (not opted in, or no such user), -1 error. */
int directory_user_nt_hash(struct directory *dir, int64_t id, uint8_t out[DIRECTORY_NT_HASH_LEN],
	const char **error_r);
/* The stored crypt hash, for callers that verify themselves (tests,
 * migrations); *hash_r from pool. 1, 0 no such user or no password, -1. */
int directory_user_password_hash(struct directory *dir, int64_t id, pool_t *pool, char **hash_r,
	const char **error_r);

/* --- Aliases (extra addresses of a user) --- */

/* 1 added, 0 no such user, -1 error (invalid, unknown domain, taken). */
int directory_alias_add(struct directory *dir, int64_t user_id, const char *alias,
	const char **error_r);
/* 1 removed, 0 alias is not one of this user's aliases, -1 error. */
int directory_alias_del(struct directory *dir, int64_t user_id, const char *alias,
	const char **error_r);
/* The user's aliases, sorted, as a pool array of pool strings. 0 or -1. */
int directory_alias_list(struct directory *dir, int64_t user_id, pool_t *pool,
	const char ***aliases_r, size_t *count_r, const char **error_r);

/* --- Groups (distribution lists) --- */

enum directory_recipient_kind {
	DIRECTORY_RECIPIENT_USER = 1,
	DIRECTORY_RECIPIENT_GROUP = 2,
};

struct directory_group {
	int64_t id;
	const char *address;
	const char *domain;
	const char *display_name;
	const char *legacy_dn;
	int64_t created;
	unsigned members; /* direct members */
};

/* What an address resolves to, and a group's member. */
struct directory_recipient {
	enum directory_recipient_kind kind;
	int64_t id;
	const char *address; /* primary address */
	const char *display_name;
	const char *legacy_dn;
	bool enabled; /* always true for groups */
};

/* Creates a group; the address follows the user rules. 0 with *group_r
 * (from pool; both may be NULL), or -1. */
int directory_group_add(struct directory *dir, const char *address, const char *display_name,
	pool_t *pool, struct directory_group **group_r, const char **error_r);
/* 1 found, 0 none, -1 error. */
int directory_group_get(struct directory *dir, const char *address, pool_t *pool,
	struct directory_group **group_r, const char **error_r);
int directory_group_get_by_id(struct directory *dir, int64_t id, pool_t *pool,
	struct directory_group **group_r, const char **error_r);
/* Groups sorted by address; domain NULL for all. 0 or -1. */
int directory_group_list(struct directory *dir, const char *domain, pool_t *pool,
	struct directory_group **groups_r, size_t *count_r, const char **error_r);
/* Deletes a group (it leaves the groups it was a member of; the Send As
 * grants on it go). 1, 0, -1. */
int directory_group_del(struct directory *dir, int64_t id, const char **error_r);
/* Adds the user or group at member_address (primary or alias) to group
 * id. Nested groups may form cycles; expansion copes. 1 added, 0 no such
 * group, -1 error (unknown member, already a member, the group itself). */
int directory_group_member_add(struct directory *dir, int64_t group_id, const char *member_address,
	const char **error_r);
/* 1 removed, 0 not a member (or no such group), -1 error. */
int directory_group_member_del(struct directory *dir, int64_t group_id,
	const char *member_address, const char **error_r);
/* Direct members, users and groups, sorted by address. 0 or -1. */
int directory_group_members(struct directory *dir, int64_t group_id, pool_t *pool,
	struct directory_recipient **members_r, size_t *count_r, const char **error_r);
/* Every user reachable from the group through nested groups, each once,
 * sorted by address; disabled users are included (their enabled flag
 * says so). Cycles are harmless: a group is expanded once. 0 or -1. */
int directory_group_expand(struct directory *dir, int64_t group_id, pool_t *pool,
	struct directory_user **users_r, size_t *count_r, const char **error_r);

/* --- Send As grants ---
 * Exchange's Send As permission on a mailbox or a group: the user may
 * send mail whose sender (SMTP MAIL FROM, From:, PR_SENT_REPRESENTING) is
 * the target, as if the target had sent it. Deleting the user or the
 * target removes the grant. */

/* Grants user user_id Send As on the user or group at target (primary or
 * alias, any case). 1 granted, 0 no such user, -1 error (invalid
 * address, nobody has it, the user itself, already granted). */
int directory_send_as_add(struct directory *dir, int64_t user_id, const char *target,
	const char **error_r);
/* Revokes it. 1 revoked, 0 not granted (or no such user or target), -1
 * error (invalid address). */
int directory_send_as_del(struct directory *dir, int64_t user_id, const char *target,
	const char **error_r);
/* The recipients user_id may send as, sorted by address, into a pool
 * array. 0 or -1. */
int directory_send_as_list(struct directory *dir, int64_t user_id, pool_t *pool,
	struct directory_recipient **targets_r, size_t *count_r, const char **error_r);
/* THE check of every protocol's sender: may user user_id send as address
 * (primary or alias, any case)? An alias counts as its owner: 1 when the
 * address is one of the user's own or names a recipient the user has
 * Send As on (a disabled target included: shared mailboxes are disabled
 * users); 0 otherwise, also for a disabled or unknown user and for an
 * invalid or unknown address; -1 error. */
int directory_send_as_allowed(struct directory *dir, int64_t user_id, const char *address,
	const char **error_r);

/* --- Resolution --- */

/* What address (primary or alias, any case) names: 1 with *r filled (from
 * pool), 0 nothing (also for a syntactically invalid address: validate
 * with directory_address_parse first to tell the two apart), -1 error.
 * For SMTP RCPT TO and exact EWS ResolveNames. */
int directory_resolve(struct directory *dir, const char *address, pool_t *pool,
	struct directory_recipient *r, const char **error_r);
/* Recipients whose address, alias or display name contains text (ASCII
 * case-insensitive), for ResolveNames and address book searches: exact
 * address matches first, then prefix matches of address or display name,
 * then the rest, each by display name. At most max results (capped at
 * DIRECTORY_SEARCH_RESULTS_MAX); text of 1 to DIRECTORY_SEARCH_TEXT_MAX
 * octets. 0 or -1. */
int directory_search(struct directory *dir, const char *text, size_t max, pool_t *pool,
	struct directory_recipient **results_r, size_t *count_r, const char **error_r);

#endif
