/* Private to src/store: the shared mailbox object, SQLite connections and
 * transactions, the in-memory property set, and helpers shared by the
 * store's files. Nothing outside src/store includes this (protocols never
 * see SQLite). */
#ifndef STORE_STORE_INT_H
#define STORE_STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/array.h"
#include "core/buf.h"
#include "core/hash.h"
#include "store/notify.h"
#include "store/ptags.h"
#include "store/store.h"

#define STORE_SCHEMA_VERSION 3
#define STORE_REPLID 1 /* MS-OXCDATA 2.2.1.1: our one replica */
#define STORE_GLOBCNT_MAX 0xffffffffffffULL
/* Global counter values reserved per persisted high-water mark update. */
#define STORE_ID_RANGE 1024
/* Rights of an owner (MS-OXCPERM 2.2.7 PidTagMemberRights). */
#define STORE_RIGHTS_ALL 0x00001ffbu

/* --- SQLite connections --- */

#define STORE_STMT_FAST 128
struct dbconn {
	sqlite3 *db;
	struct hash *stmts; /* SQL text -> sqlite3_stmt * */
	int sync;           /* current PRAGMA synchronous: 1 NORMAL, 2 FULL */
	struct {
		const char *sql; /* the caller's pointer */
		sqlite3_stmt *st;
	} fast[STORE_STMT_FAST];
};

/* Opens path (creating it when create) in WAL mode with foreign keys off,
 * a busy timeout and our pragmas. NULL on failure (*error_r set). */
struct dbconn *store_db_open(const char *path, bool create, const char **error_r);
void store_db_close(struct dbconn **c);
/* A cached prepared statement, reset and with bindings cleared. Panics on
 * SQL that does not prepare (a bug). The statement must be reset (or
 * stepped to SQLITE_DONE) before the same SQL is prepared again. */
sqlite3_stmt *store_db_prep(struct dbconn *c, const char *sql);
/* Runs SQL without results; returns an ec. */
uint32_t store_db_exec(struct dbconn *c, const char *sql);
/* Maps a SQLite result code to an ec, logging unexpected ones. */
uint32_t store_db_ec(struct dbconn *c, int rc, const char *what);
/* Steps a statement expected to finish (INSERT/UPDATE/DELETE) and resets
 * it. Returns an ec. */
uint32_t store_db_step_done(struct dbconn *c, sqlite3_stmt *st);
/* Creates the schema in a fresh database (inside the caller's transaction). */
uint32_t store_db_create_schema(struct dbconn *c);
/* Brings an existing database to STORE_SCHEMA_VERSION. */
uint32_t store_db_migrate(struct dbconn *c);
/* Meta key/value access. */
uint32_t store_meta_get_int(struct dbconn *c, const char *key, int64_t *v_r);
uint32_t store_meta_set_int(struct dbconn *c, const char *key, int64_t v);
uint32_t store_meta_set_blob(struct dbconn *c, const char *key, const void *p, size_t n);
uint32_t store_meta_set_text(struct dbconn *c, const char *key, const char *s);

/* --- The process-wide store and the shared mailbox --- */

struct mailbox;

struct store {
	struct store_settings set;
	char *data_dir;
	char *mbox_dir;
	char *blob_dir;
	int blob_dir_fd; /* blob_dir, for short relative lookups (O_PATH) */
	char *blob_tmp_dir;
	/* Whether a blob's new directory entries need an fsync of their
	 * directory (store_blob_fs_orders_entries). */
	bool blob_sync_dirs;
	pthread_mutex_t lock; /* mailboxes */
	struct hash *mailboxes; /* guid bytes -> struct mailbox * */
	atomic_uint_fast64_t tmp_seq;
	pthread_mutex_t blob_lock;  /* guards blob_pending and blob_inflight; never held across I/O */
	ARRAY(char *) blob_pending; /* directories with new entries, not yet synced */
	struct hash *blob_inflight; /* blobs renamed into place, not yet fsynced (blob.c) */
	pthread_mutex_t blob_sync_lock; /* one store_blob_sync at a time */
};

/* A mailbox shared by every handle open on it. */
struct mailbox {
	struct store *store;
	struct guid guid;
	char *path;
	int refs; /* under store->lock */

	/* Read at open, immutable afterwards. */
	struct guid replica_guid;
	char *owner;
	uint64_t special[STORE_SPECIAL_COUNT]; /* global counters */

	/* The writer: one connection, one transaction at a time. */
	pthread_mutex_t wlock;
	struct dbconn *w;
	_Atomic(struct store_batch *) wbatch; /* batch holding the open transaction */
	uint64_t gc_next, gc_limit;           /* id allocation (MS-OXCDATA 2.2.1.1) */
	int64_t data_version;
	/* Commits this process made, counted after each is visible
	 * (store_mailbox_commits). */
	_Atomic uint64_t commits;
	uint64_t last_cn, last_cn_saved; /* saved: as in meta */
	int64_t size;                   /* meta "size" within the open transaction */
	bool size_loaded, size_dirty;
	ARRAY(struct store_event) pending; /* events of the open transaction */
	pool_t *pending_pool;

	/* Readers. */
	pthread_mutex_t rlock;
	ARRAY(struct dbconn *) idle;

	struct store_notify_hub *hub;
};

/* A session's handle. */
struct store_mailbox {
	struct store *store;
	struct mailbox *m;
	char *principal; /* NULL: anonymous */
	uint32_t logon_flags;
	uint64_t quota_hard, quota_warn;
	bool owner;
	struct store_batch *batch;
};

struct store_batch {
	struct store *store;
	enum store_durability durability;
	ARRAY(struct mailbox *) held; /* whose wlock we hold, with an open transaction */
	ARRAY(struct store_mailbox *) members;
	uint32_t error;
};

/* Path of a mailbox's database (heap string). */
char *store_mailbox_path(struct store *store, const struct guid *g);

/* A write: a savepoint inside the mailbox's transaction, which is the
 * batch's or our own. */
struct wtx {
	struct store_mailbox *mb;
	struct dbconn *c;
	bool autocommit;
	/* In a batch: what to restore if this write's savepoint rolls back. */
	size_t ev_mark;
	uint64_t last_cn_mark;
	int64_t size_mark;
	bool size_loaded_mark, size_dirty_mark;
};

/* Begins a write on mb: takes the write lock (or joins the batch's
 * transaction). Returns an ec; on success t->c is the connection. */
uint32_t store_wtx_begin(struct store_mailbox *mb, struct wtx *t);
/* Ends it: ec == ecSuccess commits (or releases the savepoint in a
 * batch), anything else rolls back. Returns ec, or the commit's error. */
uint32_t store_wtx_end(struct wtx *t, uint32_t ec);

/* A read: a snapshot on a pooled read connection (or the write connection
 * when the handle's batch has a transaction open on this mailbox). */
struct rtx {
	struct store_mailbox *mb;
	struct dbconn *c;
	bool pooled;
};
uint32_t store_rtx_begin(struct store_mailbox *mb, struct rtx *t);
void store_rtx_end(struct rtx *t);

/* Allocates n consecutive global counter values inside the write
 * transaction; returns the first. ecNotEnoughResources when exhausted. */
uint32_t store_alloc_ids(struct wtx *t, uint32_t n, uint64_t *first_r);
/* Allocates one change number and records it as the mailbox's last. */
uint32_t store_alloc_cn(struct wtx *t, uint64_t *cn_r);

/* Queues an event for publication when the transaction commits. */
void store_event_queue(struct wtx *t, const struct store_event *ev);

/* --- IDs --- */

static inline mapi_id_t store_id(uint64_t globcnt)
{
	return mapi_id_make(STORE_REPLID, globcnt);
}
/* The global counter of an ID of our replica, or 0 for anything else. */
static inline uint64_t store_gc(mapi_id_t id)
{
	if (mapi_id_replid(id) != STORE_REPLID)
		return 0;
	return mapi_id_globcnt(id);
}
/* XID (MS-OXCDATA 2.2.2.2): replica GUID + 6-byte big-endian counter. */
void store_xid(const struct mailbox *m, uint64_t globcnt, uint8_t out[22]);
/* PCL with xid merged in (MS-OXCFXICS 2.2.2.4): entries of other
 * namespaces are kept; ours is replaced by xid. Into out (appended). */
void store_pcl_merge(const void *pcl, size_t len, const uint8_t xid[22], struct buf *out);
/* Folder/message EntryID (MS-OXCDATA 2.2.4.1, 2.2.4.2). */
void store_eid_folder(const struct mailbox *m, uint64_t fid_gc, struct buf *out);
void store_eid_message(const struct mailbox *m, uint64_t fid_gc, uint64_t mid_gc,
	struct buf *out);

/* --- Properties in memory --- */

/* One property of an object being edited or read. Strings are stored as
 * PT_UNICODE (MV too). A value that lives in the blob store is not loaded
 * until asked for. */
struct sprop {
	uint32_t tag;
	bool in_blob;
	struct store_blob_ref blob;
	union mapi_pvalue v;
};

struct sprops {
	ARRAY(struct sprop) a;
};

/* PT_STRING8 -> PT_UNICODE (and the MV form); other tags unchanged. */
uint32_t store_tag_canon(uint32_t tag);
/* The type a tag must have if the store knows it (indexed or computed
 * properties); 0 if any type is acceptable. */
struct sprop *store_sprops_find(struct sprops *p, uint32_t tag);
/* Removes the property with tag's ID; returns true if it was there. */
bool store_sprops_del(struct sprops *p, uint32_t tag);
/* Sets (copying the value into pool). */
void store_sprops_set(struct sprops *p, pool_t *pool, const struct sprop *sp);

/* Validates a value set by a client: type supported, strings UTF-8, size
 * and MV count within limits. Returns ecSuccess or the ec to report. */
uint32_t store_propval_check(const struct store_settings *s, const struct mapi_propval *pv);
/* Encoded size of a value (what PR_MESSAGE_SIZE counts). */
uint64_t store_propval_size(const struct sprop *sp);
/* Deep copy of a value into pool. */
void store_propval_copy(pool_t *pool, uint32_t tag, const union mapi_pvalue *src,
	union mapi_pvalue *dst);
/* Value codec used for MV values in rows, for property bags and blobs:
 * encode appends the bytes; decode reads exactly len bytes (bounded; ec
 * ecCorruptData on malformed data). */
void store_value_encode(uint32_t tag, const union mapi_pvalue *v, struct buf *out);
uint32_t store_value_decode(uint32_t tag, const uint8_t *p, size_t len, pool_t *pool,
	union mapi_pvalue *v);
/* A property bag (recipients, attachments): the properties in order,
 * blob-stored values as references. */
void store_bag_encode(const struct sprops *p, struct buf *out);
uint32_t store_bag_decode(const uint8_t *p, size_t len, pool_t *pool, struct sprops *out);

/* Binds/reads a scalar value as a SQLite value (INTEGER, REAL, TEXT or
 * BLOB by type; MV types as store_value_encode bytes). */
void store_bind_value(sqlite3_stmt *st, int idx, uint32_t tag, const union mapi_pvalue *v,
	struct buf *scratch);
uint32_t store_column_value(sqlite3_stmt *st, int col, uint32_t tag, pool_t *pool,
	union mapi_pvalue *v);

/* Fills out->vals for tags from a property set (NULL tags: all), asking
 * compute(ctx, tag, pool, value) first for computed properties (returns 1
 * if it produced the value, 0 if the tag is not computed, or an ec < 0
 * never). Loads blob values up to max_inline_get. */
typedef int store_compute_fn(void *ctx, uint32_t tag, pool_t *pool, struct mapi_propval *out);
uint32_t store_props_get(struct store *store, struct sprops *p, const struct mapi_tags *tags,
	store_compute_fn *compute, void *ctx, const uint32_t *computed_all, uint32_t n_computed,
	pool_t *pool, struct mapi_propvals *out);
/* Applies client sets to p with validation; computed[] tags are refused
 * with ecComputed. Values of blob_threshold or more are written to the
 * blob store. problems go to probs, or (probs NULL) the first fails the
 * call with p untouched. */
uint32_t store_props_set(struct store *store, struct sprops *p, pool_t *pool,
	const struct mapi_propvals *vals, const uint32_t *computed, uint32_t n_computed,
	struct store_problems *probs);
uint32_t store_props_delete(struct sprops *p, const struct mapi_tags *tags,
	const uint32_t *computed, uint32_t n_computed, struct store_problems *probs);
bool store_tag_in(uint32_t tag, const uint32_t *tags, uint32_t n);
void store_problem_add(struct store_problems *probs, uint16_t index, uint32_t tag, uint32_t err);

/* Loads a blob value into v (for a property whose value is in the blob store). */
uint32_t store_blob_load(struct store *store, uint32_t tag, const struct store_blob_ref *ref,
	pool_t *pool, union mapi_pvalue *v);
/* True if the filesystem holding path makes a file's directory entries
 * durable with the file's own fsync, so that no directory needs one. */
bool store_blob_fs_orders_entries(const char *path);
/* Makes every blob written so far durable; called before each commit. */
uint32_t store_blob_sync(struct store *store);
/* Refreshes a blob's time stamp before a transaction starts referencing it
 * again (copies, moves between mailboxes): ecNotFound if it is gone. */
uint32_t store_blob_pin(struct store *store, const struct store_blob_ref *ref);
void store_blob_path(struct store *store, const uint8_t sha[32], char *out, size_t outlen);
/* Streaming blob writer: data goes to a temporary file as it comes. */
struct store_blob_writer;
struct store_blob_writer *store_blob_writer_new(struct store *store, const char **error_r);
uint32_t store_blob_writer_write(struct store_blob_writer *w, const void *p, size_t n);
uint64_t store_blob_writer_size(const struct store_blob_writer *w);
/* Finishes: fsync, rename into place. Frees w. */
uint32_t store_blob_writer_finish(struct store_blob_writer **w, struct store_blob_ref *ref_r);
void store_blob_writer_abort(struct store_blob_writer **w);

/* --- Folders, shared with tables and sync --- */

struct folder_row {
	uint64_t fid, parent;
	int type;
	int special; /* -1: none */
	uint64_t cn;
	uint32_t n_msgs, n_unread, n_fai;
	uint64_t size;
};
/* Loads a folder row: ecNotFound. */
uint32_t store_folder_row(struct dbconn *c, uint64_t fid, struct folder_row *r);
/* The principal's rights on a folder (MS-OXCPERM). */
uint32_t store_acl_rights(struct store_mailbox *mb, struct dbconn *c, uint64_t fid,
	uint32_t *rights_r);
/* ecSuccess if every bit of need is granted, else ecAccessDenied. */
uint32_t store_acl_check(struct store_mailbox *mb, struct dbconn *c, uint64_t fid,
	uint32_t need);
/* Folder properties as a table row or get_props call. */
uint32_t store_folder_props_read(struct store_mailbox *mb, struct dbconn *c, uint64_t fid,
	const struct mapi_tags *tags, pool_t *pool, struct mapi_propvals *out);

#define STORE_MAX_FOLDER_NAME 1024 /* bytes of a folder name */
#define STORE_MAX_FOLDER_DEPTH 256 /* levels of folders under the root */
/* Inserts a folder row (and props) and queues its CREATED event. */
uint32_t store_folder_insert(struct wtx *t, uint64_t parent, const char *name,
	enum store_folder_type type, int special, const struct sprops *props, uint64_t *fid_r);
/* New change number, PCL and time for a folder; queues MODIFIED. */
uint32_t store_folder_touch(struct wtx *t, uint64_t fid);

/* --- Messages, shared with tables --- */

/* Removes a top-level message (row id id) and everything under it,
 * updating the folder's counters and the mailbox size; with tombstone,
 * records one with change number cn, and queues a DELETED event when
 * event is true. */
uint32_t store_msg_remove(struct wtx *t, int64_t id, bool tombstone, uint64_t cn, bool event);
/* Copies a top-level message (row id id) into folder fid with new IDs;
 * the new MID and UID are returned (optional). */
uint32_t store_msg_copy(struct wtx *t, int64_t id, uint64_t fid, uint64_t *mid_r,
	uint32_t *uid_r);

/* The message column of an indexed property, or NULL. */
const char *store_msg_column(uint32_t tag);
/* Reads message properties of the message whose internal row id is id,
 * computed ones included. */
uint32_t store_message_props_read(struct store_mailbox *mb, struct dbconn *c, int64_t id,
	const struct mapi_tags *tags, pool_t *pool, struct mapi_propvals *out);
/* Search folder criteria loaded for evaluation. */
struct search_criteria {
	struct mapi_restriction *res;
	uint64_t *scope;
	uint32_t n_scope;
	bool recursive;
};
uint32_t store_search_load(struct dbconn *c, uint64_t fid, pool_t *pool,
	struct search_criteria *sc);
/* Expands a search scope to the list of folder global counters. */
uint32_t store_search_expand(struct dbconn *c, const struct search_criteria *sc, pool_t *pool,
	uint64_t **fids_r, uint32_t *n_r);
/* Message counts of a search folder (evaluated). */
uint32_t store_search_counts(struct store_mailbox *mb, struct dbconn *c, uint64_t fid,
	uint32_t *total_r, uint32_t *unread_r);

/* Restriction depth check (ecTooComplex past the limit, ecInvalidParam on
 * malformed trees). */
uint32_t store_restriction_check(const struct store_settings *s,
	const struct mapi_restriction *res);

/* Misc. */
uint64_t store_now_filetime(void);
void store_ec_error(const char **error_r, const char *msg);

#endif
