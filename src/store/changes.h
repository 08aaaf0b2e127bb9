/* Change tracking and the IMAP state.
 *
 * Every change in a mailbox takes a new value of its one counter (change
 * numbers share it with FIDs and MIDs, MS-OXCDATA 2.2.1). A sync state is
 * such a value: "what changed since state S" returns the objects created
 * or modified (with their change keys), the deletions (tombstones), the
 * read-state changes and the new state to pass next time. That serves ICS
 * (the ROP layer turns states into IDSETs), EWS SyncFolderItems and
 * SyncFolderHierarchy, ActiveSync Sync and IMAP CONDSTORE/QRESYNC. The
 * cost grows with the number of changes (index range scans on change
 * numbers), not with the folder.
 *
 * IMAP: per folder a UIDVALIDITY and UIDNEXT, per message a UID assigned
 * when it enters the folder (creation, move, copy) and a MODSEQ, the last
 * change number of anything IMAP can see on it (content, read state,
 * store flags). HIGHESTMODSEQ is the largest MODSEQ or expunge of the
 * folder. */
#ifndef STORE_CHANGES_H
#define STORE_CHANGES_H

#include <stdbool.h>
#include <stdint.h>

#include "core/pool.h"
#include "mapi/mapi.h"
#include "store/store.h"

/* --- sync --- */

struct store_change {
	mapi_id_t id;     /* MID, or FID for hierarchy changes */
	mapi_id_t parent; /* the message's folder, the folder's parent */
	uint64_t cn;      /* change number (global counter) of the change */
	bool created;     /* it came into being (or into the folder) after the state */
	bool associated;  /* an FAI message */
	uint32_t uid;     /* messages: IMAP UID */
	uint32_t message_flags;
	uint8_t change_key[22]; /* PR_CHANGE_KEY */
};

struct store_deletion {
	mapi_id_t id;
	mapi_id_t parent;
	uint64_t cn;
	uint32_t uid;
	bool associated;
};

struct store_read_change {
	mapi_id_t mid;
	uint64_t cn;
	uint32_t uid;
	bool read;
};

struct store_changes {
	uint32_t n_changed, n_deleted, n_read;
	struct store_change *changed;   /* in change-number order */
	struct store_deletion *deleted; /* in change-number order */
	struct store_read_change *read; /* read-state only changes */
	uint64_t state; /* pass as since next time */
	bool more;      /* max reached: call again from state */
	bool reset;     /* since is older than the tombstones kept: start over from 0 */
};

#define STORE_SYNC_NORMAL 0x1u /* normal messages */
#define STORE_SYNC_FAI 0x2u    /* associated messages */
#define STORE_SYNC_READ 0x4u   /* report read-state-only changes apart (else as changes) */

/* What changed among the messages of fid since state since (0: all).
 * max > 0 limits the changes returned (whole change numbers are never
 * split). ecAccessDenied without frightsReadAny. */
uint32_t store_changes_folder(struct store_mailbox *mb, mapi_id_t fid, uint64_t since,
	uint32_t flags, uint32_t max, pool_t *pool, struct store_changes *out);
/* What changed among the folders below root (root itself excluded) since
 * since. */
uint32_t store_changes_hierarchy(struct store_mailbox *mb, mapi_id_t root, uint64_t since,
	pool_t *pool, struct store_changes *out);
/* The mailbox's current state (the last change number). */
uint32_t store_changes_state(struct store_mailbox *mb, uint64_t *state_r);
/* A number that changes whenever a folder is created, changed, moved or
 * deleted, and not when messages change: for callers that cache the
 * folder hierarchy. */
uint32_t store_folders_state(struct store_mailbox *mb, uint64_t *state_r);
/* Removes tombstones made before the FILETIME before (0: now minus the
 * [store] tombstone_days setting); syncs from states before the newest
 * removed one then get reset. The number removed goes to *n_r
 * (optional). */
uint32_t store_purge_tombstones(struct store_mailbox *mb, uint64_t before, uint32_t *n_r);

/* --- IMAP --- */

struct store_imap_folder {
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	uint32_t exists;  /* normal messages */
	uint32_t unseen;  /* without \Seen */
	uint32_t deleted; /* with \Deleted */
};

uint32_t store_imap_folder(struct store_mailbox *mb, mapi_id_t fid, struct store_imap_folder *st);

struct store_imap_msg {
	uint32_t uid;
	mapi_id_t mid;
	uint64_t modseq;
	uint32_t flags; /* STORE_IMAP_* (store/imap_flags.h) */
	char **keywords;
	uint32_t n_keywords;
	uint64_t internal_date; /* FILETIME: delivery time, else creation time */
	uint64_t size;          /* the MIME's size, else PR_MESSAGE_SIZE */
	uint64_t store_size;    /* PR_MESSAGE_SIZE: what the message counts against the quota */
	bool has_mime;
	struct store_blob_ref mime;
};

/* The normal messages of fid with uid_lo <= UID <= uid_hi (0 for hi:
 * no upper bound) and, when changedsince > 0, MODSEQ > changedsince;
 * in UID order. */
uint32_t store_imap_list(struct store_mailbox *mb, mapi_id_t fid, uint32_t uid_lo,
	uint32_t uid_hi, uint64_t changedsince, pool_t *pool, struct store_imap_msg **msgs_r,
	uint32_t *count_r);

enum store_imap_op {
	STORE_IMAP_REPLACE, /* FLAGS */
	STORE_IMAP_ADD,     /* +FLAGS */
	STORE_IMAP_REMOVE,  /* -FLAGS */
};

/* STORE on the listed UIDs (missing ones are ignored). keywords are
 * keyword names (store_imap_flag_parse() == 0), case kept. With
 * unchangedsince > 0 (RFC 7162 3.1.3), messages whose MODSEQ is above it
 * are left alone and their UIDs returned in *modified_r (pool). Each
 * changed message gets a new MODSEQ. ecInvalidParam for bad flags. */
uint32_t store_imap_store(struct store_mailbox *mb, mapi_id_t fid, const uint32_t *uids,
	uint32_t count, enum store_imap_op op, uint32_t flags, const char *const *keywords,
	uint32_t n_keywords, uint64_t unchangedsince, pool_t *pool, uint32_t **modified_r,
	uint32_t *n_modified_r);
/* Deletes the messages with \Deleted (all of them, or only those among
 * uids when uids is not NULL: UID EXPUNGE), leaving tombstones with their
 * UIDs; the expunged UIDs (ascending) go to *expunged_r. */
uint32_t store_imap_expunge(struct store_mailbox *mb, mapi_id_t fid, const uint32_t *uids,
	uint32_t count, pool_t *pool, uint32_t **expunged_r, uint32_t *n_r);
/* UIDs expunged (or moved away) since modseq (RFC 7162 QRESYNC VANISHED),
 * ascending; *reset_r when modseq is older than the tombstones kept. */
uint32_t store_imap_vanished(struct store_mailbox *mb, mapi_id_t fid, uint64_t modseq,
	pool_t *pool, uint32_t **uids_r, uint32_t *n_r, bool *reset_r);
/* The MID of a UID in fid: ecNotFound. */
uint32_t store_imap_uid_to_mid(struct store_mailbox *mb, mapi_id_t fid, uint32_t uid,
	mapi_id_t *mid_r);
/* The UID of a message of fid by its MID (for APPENDUID after an import):
 * ecNotFound. */
uint32_t store_imap_mid_to_uid(struct store_mailbox *mb, mapi_id_t fid, mapi_id_t mid,
	uint32_t *uid_r);

#endif
