/* The information store: mailboxes, folders, messages, recipients,
 * attachments, properties, streams and blobs (MS-OXCSTOR, MS-OXCFOLD,
 * MS-OXCMSG, MS-OXCPRPT, MS-OXOSFLD). Every protocol is a view onto it.
 *
 * The other parts of the contract:
 *   store/table.h       contents, hierarchy, attachment and recipient tables (MS-OXCTABL)
 *   store/changes.h     change tracking (ICS, EWS/EAS sync) and the IMAP state (UIDs, MODSEQ)
 *   store/imap_flags.h  IMAP flags <-> MAPI properties, in one place
 *   store/notify.h      in-process notifications (MS-OXCNOTIF events)
 *   store/acl.h         folder permissions (MS-OXCPERM)
 *
 * Conventions.
 * - Functions that can fail for a reason a client may see return a MAPI
 *   error code (uint32_t, ecSuccess == 0; mapi/mapi.h). Bad input of any
 *   kind is an error code, never a crash and never a half-written object:
 *   every write is one SQLite transaction (or a savepoint in a batch).
 * - IDs are MS-OXCDATA 2.2.1 values (mapi_id_t: replica id 1 + 48-bit
 *   global counter). FIDs, MIDs and change numbers come from one counter
 *   per mailbox. An ID that is not in the mailbox (another mailbox's, a
 *   deleted one, a made-up one) gives ecNotFound.
 * - Strings are UTF-8 in memory whatever their type; PT_STRING8 and
 *   PT_UNICODE name the same property (a value set as one is read as
 *   either). Strings that are not valid UTF-8 give ecInvalidParam.
 * - Values returned to the caller are allocated from the pool the caller
 *   passes; nothing returned needs freeing otherwise.
 * - Handles (struct store_mailbox and what is opened from it) are used by
 *   one thread at a time; any number of handles on the same mailbox may be
 *   used from different threads at once. struct store is shared by all
 *   threads.
 * - The store never touches the network or the directory: the caller
 *   names the authenticated principal and passes the quota (from the
 *   directory) when it opens a mailbox. */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/guid.h"
#include "core/pool.h"
#include "mapi/mapi.h"

struct store;
struct store_mailbox;
struct store_message;
struct store_attach;
struct store_stream;
struct store_batch;

/* --- The process-wide store --- */

/* How a commit reaches the disk. FULL: the WAL is fsynced at every commit
 * (deliveries: SMTP may say 250 only after it). NORMAL: no fsync at commit;
 * a killed process loses nothing, a power failure may lose the last
 * commits (never corrupts). */
enum store_durability {
	STORE_DURABILITY_DEFAULT = 0, /* the store's default_durability */
	STORE_DURABILITY_NORMAL,
	STORE_DURABILITY_FULL,
};

/* Limits and tuning; store_settings_default() fills in the defaults that
 * src/cmd/settings.c also declares in section [store]. */
struct store_settings {
	const char *data_dir;            /* mailboxes/ and blobs/ live below it */
	uint64_t max_value_size;         /* one property value, bytes */
	uint32_t max_props_per_object;   /* properties on one folder, message, attachment, recipient */
	uint32_t max_recipients;         /* per message */
	uint32_t max_attachments;        /* per message (each level of embedding) */
	uint32_t max_embed_depth;        /* embedded messages inside embedded messages */
	uint32_t max_restriction_depth;  /* nesting of restrictions */
	uint32_t max_mv_count;           /* values in one multi-valued property */
	uint64_t blob_threshold;         /* values at least this long go to the blob store */
	uint64_t max_inline_get;         /* larger values are returned as PT_ERROR ecMAPIOOM by
					    get_props: read them with a stream */
	uint32_t read_connections;       /* idle read connections kept per open mailbox */
	uint32_t tombstone_days;         /* tombstones older than this may be purged */
	enum store_durability default_durability;
};

void store_settings_default(struct store_settings *s);

/* Process-wide SQLite settings, for the daemon's and the tools' start
 * (before any thread or database): SQLite's allocation statistics off, so
 * that its allocator takes no global lock (every thread's queries
 * serialised on it). Harmless if SQLite was already initialised. */
void store_process_init(void);

/* Creates the store over s->data_dir (creating mailboxes/ and blobs/ if
 * needed). s is copied (data_dir too). Returns 0, or -1 with *error_r set
 * (static or owned by nothing: valid until the next call in this thread). */
int store_new(const struct store_settings *s, struct store **store_r, const char **error_r);
/* Frees the store. Every mailbox handle must have been closed. */
void store_free(struct store **store);
const struct store_settings *store_get_settings(const struct store *store);

/* --- Mailboxes --- */

/* Creates the mailbox with its special folders (MS-OXOSFLD 2.2.1), owned
 * by owner (the principal id the directory gives the user; also what
 * store_logon.principal must equal to be the owner). display_name is the
 * owner's name (PR_DISPLAY_NAME of the store object). ecDuplicateName if
 * the mailbox exists; on any error nothing is left behind. */
uint32_t store_mailbox_create(struct store *store, const struct guid *mailbox_guid,
	const char *owner, const char *display_name, const char **error_r);
/* Deletes a mailbox's database (not its blobs: the blob GC reclaims
 * them). The mailbox must not be open. ecNotFound if there is none. */
uint32_t store_mailbox_destroy(struct store *store, const struct guid *mailbox_guid);
/* 1 if the mailbox exists, 0 if not. */
int store_mailbox_exists(struct store *store, const struct guid *mailbox_guid);

/* Who opens a mailbox. */
#define STORE_LOGON_SYSTEM 0x1u /* the server itself (delivery, admin tools): every right */
struct store_logon {
	const char *principal; /* authenticated principal id; NULL: anonymous */
	uint32_t flags;        /* STORE_LOGON_* */
	uint64_t quota_hard;   /* bytes; a write that would go over fails ecQuotaExceeded; 0: none */
	uint64_t quota_warn;   /* bytes; reported by store_mailbox_quota_state; 0: none */
};

/* Opens a handle on a mailbox for logon (copied). Anybody may open; what
 * they may do is checked per folder (store/acl.h). ecNotFound if the
 * mailbox does not exist, ecCorruptData if its database cannot be read. */
uint32_t store_mailbox_open(struct store *store, const struct guid *mailbox_guid,
	const struct store_logon *logon, struct store_mailbox **mb_r);
/* Closes the handle. A batch it joined must have been committed or
 * aborted. Accepts NULL. */
void store_mailbox_close(struct store_mailbox **mb);

const struct guid *store_mailbox_guid(const struct store_mailbox *mb);
/* The replica GUID of replica id 1 (MS-OXCDATA 2.2.1.3): the namespace of
 * source keys, change keys and EntryIDs' DatabaseGuid. */
const struct guid *store_mailbox_replica_guid(const struct store_mailbox *mb);
/* True if the handle's principal owns the mailbox (or is STORE_LOGON_SYSTEM). */
bool store_mailbox_is_owner(const struct store_mailbox *mb);
struct store *store_mailbox_store(const struct store_mailbox *mb);

/* The special folders (MS-OXOSFLD 2.2.1, MS-OXCSTOR 2.2.1.1.3). The first
 * thirteen are in RopLogon's FolderIds order. */
enum store_special {
	STORE_SPECIAL_ROOT = 0,
	STORE_SPECIAL_DEFERRED_ACTION,
	STORE_SPECIAL_SPOOLER_QUEUE,
	STORE_SPECIAL_IPM_SUBTREE,
	STORE_SPECIAL_INBOX,
	STORE_SPECIAL_OUTBOX,
	STORE_SPECIAL_SENT_ITEMS,
	STORE_SPECIAL_DELETED_ITEMS,
	STORE_SPECIAL_COMMON_VIEWS,
	STORE_SPECIAL_SCHEDULE,
	STORE_SPECIAL_FINDER,
	STORE_SPECIAL_VIEWS,
	STORE_SPECIAL_SHORTCUTS,
	/* the rest of the MS-OXOSFLD folders */
	STORE_SPECIAL_CALENDAR,
	STORE_SPECIAL_CONTACTS,
	STORE_SPECIAL_JOURNAL,
	STORE_SPECIAL_NOTES,
	STORE_SPECIAL_TASKS,
	STORE_SPECIAL_DRAFTS,
	STORE_SPECIAL_JUNK,
	STORE_SPECIAL_SYNC_ISSUES,
	STORE_SPECIAL_CONFLICTS,
	STORE_SPECIAL_LOCAL_FAILURES,
	STORE_SPECIAL_SERVER_FAILURES,
	STORE_SPECIAL_REMINDERS,
	STORE_SPECIAL_TODO_SEARCH,
	STORE_SPECIAL_RSS_FEEDS,
	STORE_SPECIAL_TRACKED_MAIL,
	STORE_SPECIAL_CONVERSATION_ACTIONS,
	STORE_SPECIAL_QUICK_STEPS,
	STORE_SPECIAL_SUGGESTED_CONTACTS,
	STORE_SPECIAL_FREEBUSY_DATA,
	STORE_SPECIAL_COUNT
};

/* The FID of a special folder (0 if which is out of range). */
mapi_id_t store_mailbox_special_fid(const struct store_mailbox *mb, enum store_special which);
/* How many commits this process has made to the mailbox, through any
 * handle. A session that read the count before reading the mailbox, and
 * finds it unchanged later, knows nothing changed here meanwhile (changes
 * by other processes, such as the command line tools, do not count).
 * A successful write call commits exactly once unless it runs in a batch. */
uint64_t store_mailbox_commits(const struct store_mailbox *mb);
/* Its English display name as created ("Inbox", "Sent Items", ...). */
const char *store_special_name(enum store_special which);

/* Properties of the store object (PR_DISPLAY_NAME, PR_MAILBOX_OWNER_NAME,
 * PR_IPM_SUBTREE_ENTRYID and the other special-folder EntryIDs,
 * PR_MESSAGE_SIZE_EXTENDED, PR_STORAGE_QUOTA_LIMIT, ...): tags NULL means
 * all. Missing properties come back as PT_ERROR ecNotFound. */
uint32_t store_mailbox_get_props(struct store_mailbox *mb, const struct mapi_tags *tags,
	pool_t *pool, struct mapi_propvals *out);

/* The mailbox's size in bytes (sum of its messages' PR_MESSAGE_SIZE) and
 * whether it is over the handle's warning / hard quota. */
uint32_t store_mailbox_size(struct store_mailbox *mb, uint64_t *size_r, bool *over_warn_r,
	bool *over_hard_r);

/* --- Batches: several writes, possibly in several mailboxes, committed
 * together so that they share the fsync (group commit for deliveries). ---
 *
 * A mailbox handle that joined a batch runs its writes inside the batch's
 * transaction on that mailbox; each write is still all-or-nothing (a
 * savepoint), so one failed message does not undo the others. Nothing is
 * durable, and no notification is published, until store_batch_commit.
 * To avoid deadlocks a batch never waits for a mailbox's write lock while
 * it holds another: it commits what it has first. So a batch is a
 * durability unit, not an atomicity unit across mailboxes. */
struct store_batch *store_batch_new(struct store *store, enum store_durability durability);
/* Routes mb's writes into batch until the batch ends. 0, or ecInvalidParam
 * if mb is already in another batch. */
uint32_t store_batch_join(struct store_batch *batch, struct store_mailbox *mb);
/* Commits every mailbox's transaction, publishes the notifications, frees
 * the batch and detaches its handles. Returns ecSuccess if everything was
 * committed; otherwise the first error (mailboxes whose commit failed are
 * rolled back entirely). */
uint32_t store_batch_commit(struct store_batch **batch);
/* Rolls everything back and frees the batch. */
void store_batch_abort(struct store_batch **batch);

/* --- Blobs: immutable, content-addressed (SHA-256) values --- */

struct store_blob_ref {
	uint8_t sha256[32];
	uint64_t size;
};

/* Writes data as a blob (tmp file, fsync, rename) or refreshes an existing
 * identical one. A blob is kept at least one grace period (24 h) after its
 * last put or reference, so reference it within that time. 0 or
 * ecNotEnoughDisk / ecError. */
uint32_t store_blob_put(struct store *store, const void *data, size_t len,
	struct store_blob_ref *ref_r);
/* Reads up to len bytes from offset into out (appended). ecNotFound if the
 * blob does not exist. */
uint32_t store_blob_read(struct store *store, const struct store_blob_ref *ref, uint64_t offset,
	size_t len, struct buf *out);
/* Opens the blob for reading; the caller closes the fd. ecNotFound. */
uint32_t store_blob_open_fd(struct store *store, const struct store_blob_ref *ref, int *fd_r);

/* Deletes blobs that no mailbox references and that nothing has put or
 * referenced for a grace period (see docs/store.md for why this is safe
 * against concurrent writers, in this process or another). Returns the
 * number of blobs removed, or -1. */
long store_blob_gc(struct store *store, int64_t grace_seconds, const char **error_r);

/* --- Named properties (MS-OXCDATA 2.6, 2.9) --- */

/* Maps names to this mailbox's property IDs (0x8000 and up), creating
 * mappings when create is true (otherwise unknown names get 0).
 * ecInvalidParam for bad names, ecNotEnoughResources when the
 * 0x8000-0xFFFE space is full. */
uint32_t store_named_to_ids(struct store_mailbox *mb, const struct mapi_propname *names,
	uint32_t count, bool create, uint16_t *ids_r);
/* The name behind a property ID (copied into pool); ecNotFound if the ID
 * is not mapped. */
uint32_t store_id_to_named(struct store_mailbox *mb, uint16_t id, pool_t *pool,
	struct mapi_propname *name_r);

/* Per-property failures of a set or delete (MS-OXCDATA 2.7 PropertyProblem). */
struct store_problem {
	uint16_t index; /* into the values or tags passed */
	uint32_t tag;
	uint32_t err; /* ec */
};
struct store_problems {
	uint32_t count;
	struct store_problem *v; /* from the pool passed with it */
	pool_t *pool;
};

/* --- Folders (MS-OXCFOLD) --- */

enum store_folder_type {
	STORE_FOLDER_ROOT = 0,    /* FOLDER_ROOT */
	STORE_FOLDER_GENERIC = 1, /* FOLDER_GENERIC */
	STORE_FOLDER_SEARCH = 2,  /* FOLDER_SEARCH */
};

#define STORE_CREATE_OPEN_IF_EXISTS 0x1u /* RopCreateFolder OpenExisting */

/* Creates a folder under parent. Names are unique among siblings (ASCII
 * case-insensitively): ecDuplicateName, or with
 * STORE_CREATE_OPEN_IF_EXISTS the existing folder's FID. props (may be
 * NULL) are set on the new folder (PR_CONTAINER_CLASS, PR_COMMENT, ...);
 * any bad one fails the whole create. Needs frightsCreateSubfolder. */
uint32_t store_folder_create(struct store_mailbox *mb, mapi_id_t parent, const char *name,
	enum store_folder_type type, const struct mapi_propvals *props, uint32_t flags,
	mapi_id_t *fid_r);
/* Finds a child folder by name (case-insensitive): ecNotFound. */
uint32_t store_folder_find(struct store_mailbox *mb, mapi_id_t parent, const char *name,
	mapi_id_t *fid_r);
/* Resolves "Top of Information Store/Inbox/sub"-style paths from parent,
 * components separated by sep. */
uint32_t store_folder_find_path(struct store_mailbox *mb, mapi_id_t parent, const char *path,
	char sep, mapi_id_t *fid_r);
/* Checks that the folder exists and is visible to the principal. */
uint32_t store_folder_open(struct store_mailbox *mb, mapi_id_t fid);

/* Reads properties, computed ones included (PR_FID, PR_PARENT_FID,
 * PR_ENTRYID, PR_PARENT_ENTRYID, PR_SOURCE_KEY, PR_CHANGE_KEY,
 * PR_PREDECESSOR_CHANGE_LIST, PR_CHANGE_NUMBER, PR_CONTENT_COUNT,
 * PR_CONTENT_UNREAD, PR_ASSOC_CONTENT_COUNT, PR_FOLDER_CHILD_COUNT,
 * PR_SUBFOLDERS, PR_FOLDER_TYPE, PR_MESSAGE_SIZE_EXTENDED, PR_RIGHTS,
 * PR_ACCESS, PR_ACCESS_LEVEL, PR_CREATION_TIME, PR_LAST_MODIFICATION_TIME,
 * PR_HIERARCHY_CHANGE_NUM ...). tags NULL: every property. Missing ones are
 * PT_ERROR ecNotFound; over-large ones PT_ERROR ecMAPIOOM. */
uint32_t store_folder_get_props(struct store_mailbox *mb, mapi_id_t fid,
	const struct mapi_tags *tags, pool_t *pool, struct mapi_propvals *out);
/* Sets properties; PR_DISPLAY_NAME renames (unique among siblings).
 * Computed properties fail with ecComputed, bad values with
 * ecInvalidParam. With probs NULL any problem fails the whole call and
 * nothing is written; with probs the good values are written and the
 * problems listed. Bumps the folder's change number. */
uint32_t store_folder_set_props(struct store_mailbox *mb, mapi_id_t fid,
	const struct mapi_propvals *props, struct store_problems *probs);
uint32_t store_folder_delete_props(struct store_mailbox *mb, mapi_id_t fid,
	const struct mapi_tags *tags, struct store_problems *probs);
/* Moves fid (keeping its FID) under new_parent, renaming it when new_name
 * is not NULL. ecFolderCycle if new_parent is fid or below it;
 * ecDuplicateName; ecAccessDenied for special folders. */
uint32_t store_folder_move(struct store_mailbox *mb, mapi_id_t fid, mapi_id_t new_parent,
	const char *new_name);
/* Copies fid under new_parent as new_name (NULL: same name): its
 * properties, normal and associated messages, and with recursive its
 * subfolders, all with new IDs. */
uint32_t store_folder_copy(struct store_mailbox *mb, mapi_id_t fid, mapi_id_t new_parent,
	const char *new_name, bool recursive, mapi_id_t *new_fid_r);

#define STORE_DEL_MESSAGES 0x01u /* DEL_MESSAGES: delete contents too */
#define STORE_DEL_FOLDERS 0x04u  /* DEL_FOLDERS: delete subfolders too */
/* Deletes a folder for good, leaving tombstones for it, its subfolders and
 * its messages. Without STORE_DEL_MESSAGES a folder with messages gives
 * ecFolderHasContents; without STORE_DEL_FOLDERS one with subfolders
 * ecFolderHasChildren. Special folders: ecAccessDenied. */
uint32_t store_folder_delete(struct store_mailbox *mb, mapi_id_t fid, uint32_t flags);
/* Deletes every normal message (and with associated, every FAI message),
 * and the subfolders (RopEmptyFolder), leaving tombstones. */
uint32_t store_folder_empty(struct store_mailbox *mb, mapi_id_t fid, bool associated);

/* Search folders (MS-OXOSRCH, RopSetSearchCriteria): the folder's contents
 * are the messages in the scope folders (and their subfolders when
 * recursive) that match res, evaluated whenever the contents are read. */
uint32_t store_search_set_criteria(struct store_mailbox *mb, mapi_id_t fid,
	const struct mapi_restriction *res, const mapi_id_t *scope, uint32_t scope_count,
	bool recursive);
uint32_t store_search_get_criteria(struct store_mailbox *mb, mapi_id_t fid, pool_t *pool,
	struct mapi_restriction **res_r, mapi_id_t **scope_r, uint32_t *scope_count_r,
	bool *recursive_r);

/* --- Messages (MS-OXCMSG) ---
 *
 * A message is opened into a struct store_message; property, recipient and
 * attachment changes stay in the handle until store_message_save writes
 * them all in one transaction (assigning the MID on the first save, a new
 * change number, change key and PCL, and in folders an IMAP UID). */

#define STORE_MSG_ASSOCIATED 0x1u /* create a folder-associated (FAI) message */
#define STORE_OPEN_READ_WRITE 0x1u

uint32_t store_message_create(struct store_mailbox *mb, mapi_id_t fid, uint32_t flags,
	struct store_message **msg_r);
uint32_t store_message_open(struct store_mailbox *mb, mapi_id_t fid, mapi_id_t mid,
	uint32_t flags, struct store_message **msg_r);
/* Discards unsaved changes and frees the handle (and the attachment and
 * embedded handles opened from it). Accepts NULL. */
void store_message_close(struct store_message **msg);

/* The mailbox handle the message was opened from. */
struct store_mailbox *store_message_mailbox(const struct store_message *msg);
/* MID and folder (0 before the first save of a new message). */
mapi_id_t store_message_mid(const struct store_message *msg);
mapi_id_t store_message_fid(const struct store_message *msg);

/* Like the folder functions; PR_MESSAGE_FLAGS is settable until the first
 * save (afterwards through store_message_set_read and the IMAP flags). */
uint32_t store_message_get_props(struct store_message *msg, const struct mapi_tags *tags,
	pool_t *pool, struct mapi_propvals *out);
uint32_t store_message_set_props(struct store_message *msg, const struct mapi_propvals *props,
	struct store_problems *probs);
uint32_t store_message_delete_props(struct store_message *msg, const struct mapi_tags *tags,
	struct store_problems *probs);

/* The message's original MIME (set by deliveries and IMAP APPEND, served
 * byte for byte by IMAP and POP3). set: ref must name an existing blob
 * (store_blob_put); one blob may back many messages. get: ecNotFound if
 * the message has none. */
uint32_t store_message_set_mime(struct store_message *msg, const struct store_blob_ref *ref);
uint32_t store_message_get_mime(struct store_message *msg, struct store_blob_ref *ref_r);

/* Recipients (RopModifyRecipients, RopReadRecipients). Each row is the
 * recipient's properties and carries PR_ROWID; a row with PR_ROWID alone
 * removes that recipient, any other row adds or replaces it. */
uint32_t store_message_modify_recipients(struct store_message *msg,
	const struct mapi_propvals *rows, uint32_t count);
uint32_t store_message_remove_all_recipients(struct store_message *msg);
/* The recipients in PR_ROWID order. */
uint32_t store_message_get_recipients(struct store_message *msg, pool_t *pool,
	struct mapi_propvals **rows_r, uint32_t *count_r);

/* Attachments. Changes to an attachment become part of the message when
 * store_attach_save is called, and durable when the message is saved. */
uint32_t store_message_create_attach(struct store_message *msg, struct store_attach **att_r);
uint32_t store_message_open_attach(struct store_message *msg, uint32_t attach_num,
	uint32_t flags, struct store_attach **att_r);
uint32_t store_message_delete_attach(struct store_message *msg, uint32_t attach_num);
/* The PR_ATTACH_NUM values in order. */
uint32_t store_message_attach_nums(struct store_message *msg, pool_t *pool, uint32_t **nums_r,
	uint32_t *count_r);
uint32_t store_attach_num(const struct store_attach *att);
uint32_t store_attach_get_props(struct store_attach *att, const struct mapi_tags *tags,
	pool_t *pool, struct mapi_propvals *out);
uint32_t store_attach_set_props(struct store_attach *att, const struct mapi_propvals *props,
	struct store_problems *probs);
uint32_t store_attach_delete_props(struct store_attach *att, const struct mapi_tags *tags,
	struct store_problems *probs);
/* Makes the attachment's changes part of its message. */
uint32_t store_attach_save(struct store_attach *att);
/* Opens (or with create, creates, replacing any data) the attachment's
 * embedded message (PR_ATTACH_METHOD = ATTACH_EMBEDDED_MSG).
 * store_message_save on it saves it into the attachment. ecTooComplex past
 * max_embed_depth. */
uint32_t store_attach_open_embedded(struct store_attach *att, bool create,
	struct store_message **emb_r);
/* Frees the handle; unsaved changes are lost. Accepts NULL. */
void store_attach_close(struct store_attach **att);

#define STORE_SAVE_FORCE 0x1u    /* overwrite changes made by others since open */
#define STORE_SAVE_DELIVERY 0x2u /* a delivery: also publish STORE_EVENT_NEW_MAIL */
/* Saves the message (for an embedded message: into its attachment).
 * ecObjectModified if another handle saved it since it was opened (unless
 * STORE_SAVE_FORCE), ecObjectDeleted if it was deleted, ecQuotaExceeded
 * over the hard quota. The handle stays open and up to date. */
uint32_t store_message_save(struct store_message *msg, uint32_t flags);

/* Read flags (RopSetMessageReadFlag / RopSetReadFlags): sets or clears
 * MSGFLAG_READ, tracked as a read-state change. Saved messages only; takes
 * effect at once (no save needed). */
uint32_t store_message_set_read(struct store_message *msg, bool read);
/* Same for many messages of one folder; unknown MIDs are skipped and
 * counted in *partial_r (optional). */
uint32_t store_messages_set_read(struct store_mailbox *mb, mapi_id_t fid, const mapi_id_t *mids,
	uint32_t count, bool read, uint32_t *partial_r);

/* Moves or copies messages from src_fid to dst_fid. Moved and copied
 * messages get new MIDs (returned in new_mids_r, optional, count entries,
 * 0 for a MID that was not found) and new IMAP UIDs in the destination;
 * the source keeps tombstones of moved ones. Missing MIDs are skipped and
 * counted in *partial_r (optional). */
uint32_t store_messages_move(struct store_mailbox *mb, mapi_id_t src_fid, mapi_id_t dst_fid,
	const mapi_id_t *mids, uint32_t count, bool copy, mapi_id_t *new_mids_r,
	uint32_t *partial_r);
/* Deletes messages for good, leaving tombstones. */
uint32_t store_messages_delete(struct store_mailbox *mb, mapi_id_t fid, const mapi_id_t *mids,
	uint32_t count, uint32_t *partial_r);

/* --- Streams (RopOpenStream): large property values read or written in
 * pieces. Written data goes to a blob file as it arrives; committing sets
 * the property on the object's pending changes. --- */

enum store_stream_mode {
	STORE_STREAM_READ,
	STORE_STREAM_WRITE, /* replaces the value */
};

/* Opens a stream on a message's or an attachment's property. Binary and
 * string types only (strings are UTF-8). A read stream on a missing
 * property: ecNotFound. */
uint32_t store_message_open_stream(struct store_message *msg, uint32_t tag,
	enum store_stream_mode mode, struct store_stream **st_r);
uint32_t store_attach_open_stream(struct store_attach *att, uint32_t tag,
	enum store_stream_mode mode, struct store_stream **st_r);
uint64_t store_stream_size(const struct store_stream *st);
/* Reads up to len bytes from the current position into out (appended);
 * *read_r is 0 at the end. */
uint32_t store_stream_read(struct store_stream *st, size_t len, struct buf *out, size_t *read_r);
/* Appends at the end; ecTooBig past max_value_size. */
uint32_t store_stream_write(struct store_stream *st, const void *data, size_t len);
uint32_t store_stream_seek(struct store_stream *st, uint64_t pos);
/* Finishes a write stream: the value becomes the property's pending value
 * (ecInvalidParam for a string that is not UTF-8). */
uint32_t store_stream_commit(struct store_stream *st);
/* Frees the stream; an uncommitted write is discarded. Accepts NULL. */
void store_stream_close(struct store_stream **st);

/* --- Object lookup by EntryID --- */

/* Decodes a folder or message EntryID (MS-OXCDATA 2.2.4) of this mailbox.
 * ecInvalidEntryId for malformed ones, ecNotFound for another mailbox's or
 * a missing object. *mid_r is 0 for a folder. */
uint32_t store_entryid_resolve(struct store_mailbox *mb, const void *eid, size_t len,
	mapi_id_t *fid_r, mapi_id_t *mid_r);
/* Encodes the folder (mid 0) or message EntryID into out (appended). */
void store_entryid_make(const struct store_mailbox *mb, mapi_id_t fid, mapi_id_t mid,
	struct buf *out);

/* --- Admin helpers --- */

/* Which kind of object an ID is: 1 folder, 2 message, 0 none. Also the
 * folder holding a message. */
int store_object_kind(struct store_mailbox *mb, mapi_id_t id, mapi_id_t *fid_r);

#endif
