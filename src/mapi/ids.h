/* Identifiers of [MS-OXCDATA] 2.2 and [MS-OXCFXICS] 2.2.2: global counters,
 * LongTermIDs, XIDs (source keys and change keys), predecessor change lists
 * and folder/message EntryIDs. FID/MID/CN packing is in mapi/mapi.h
 * (mapi_id_make, mapi_id_replid, mapi_id_globcnt).
 *
 * Written by hand: no Debian library knows these structures. */
#ifndef MAPI_IDS_H
#define MAPI_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/guid.h"
#include "core/pool.h"
#include "mapi/mapi.h"

/* GlobalCounter values are 48 bits (2.2.1.1). */
#define MAPI_GLOBCNT_MAX 0xffffffffffffULL

/* The 6 GlobalCounter bytes (big-endian, as in an ID's bytes 2..7). */
void mapi_globcnt_put(uint64_t globcnt, uint8_t out[6]);
uint64_t mapi_globcnt_get(const uint8_t in[6]);

/* --- LongTermID (2.2.1.3.1): DatabaseGuid(16) GlobalCounter(6) Pad(2) --- */
struct mapi_long_term_id {
	struct guid database_guid; /* the replica GUID of the ID's ReplicaId */
	uint64_t globcnt;
};
#define MAPI_LONG_TERM_ID_SIZE 24
void mapi_long_term_id_put(const struct mapi_long_term_id *lt, struct buf *out);
/* Parses exactly MAPI_LONG_TERM_ID_SIZE bytes; the pad must be zero.
 * Returns 0 or -1. */
int mapi_long_term_id_parse(const void *data, size_t len, struct mapi_long_term_id *lt);

/* --- XID ([MS-OXCFXICS] 2.2.2.2): NamespaceGuid(16) + LocalId (1..8
 * bytes, big-endian). A GID is an XID with a 6-byte LocalId. --- */
#define MAPI_XID_MAX_LOCAL 8
struct mapi_xid {
	struct guid guid;
	uint8_t local_len; /* 1..8 */
	uint8_t local[MAPI_XID_MAX_LOCAL];
};

/* The XID of a replica GUID and a GlobalCounter: what PidTagSourceKey
 * (of a FID/MID) and PidTagChangeKey (of a change number) hold. */
void mapi_xid_from_globcnt(const struct guid *replica_guid, uint64_t globcnt,
	struct mapi_xid *xid);
/* 22-byte source key / change key value (GUID + 6-byte GLOBCNT), appended. */
void mapi_xid_put(const struct mapi_xid *xid, struct buf *out);
/* Parses an XID occupying exactly len bytes (17..24). Returns 0 or -1. */
int mapi_xid_parse(const void *data, size_t len, struct mapi_xid *xid);
/* The GlobalCounter of a 6-byte-LocalId XID; -1 for other sizes. */
int mapi_xid_globcnt(const struct mapi_xid *xid, uint64_t *globcnt_r);
/* Orders LocalIds of the same length as big-endian numbers; a shorter one
 * sorts first. Returns <0, 0, >0. */
int mapi_xid_compare_local(const struct mapi_xid *a, const struct mapi_xid *b);

/* --- PredecessorChangeList ([MS-OXCFXICS] 2.2.2.4): SizedXid entries
 * (XidSize(1) + XID), at most one per NamespaceGuid. --- */
struct mapi_pcl {
	uint32_t count;
	struct mapi_xid *xids;
};

/* Bounds for parsing (a PCL from the network). */
#define MAPI_PCL_MAX_ENTRIES 4096

/* Parses a serialized PCL. A repeated NamespaceGuid keeps the larger
 * LocalId. Returns 0, or -1 on malformed input (XidSize outside 17..24,
 * truncation, more than MAPI_PCL_MAX_ENTRIES entries). */
int mapi_pcl_parse(pool_t *pool, const void *data, size_t len, struct mapi_pcl *pcl);
/* Appends the serialized PCL, entries ordered by NamespaceGuid bytes. */
void mapi_pcl_put(const struct mapi_pcl *pcl, struct buf *out);
/* Adds xid (replacing an older LocalId of its namespace, ignoring an older
 * one), allocating from pool. */
void mapi_pcl_add(pool_t *pool, struct mapi_pcl *pcl, const struct mapi_xid *xid);
/* dst becomes the union of dst and src (per namespace the larger LocalId). */
void mapi_pcl_merge(pool_t *pool, struct mapi_pcl *dst, const struct mapi_pcl *src);
/* True when a includes b: every XID of b has an XID in a with the same
 * NamespaceGuid and a LocalId not smaller. Version a then supersedes (or
 * equals) version b; if neither includes the other the changes conflict
 * ([MS-OXCFXICS] 3.1.5.6). */
bool mapi_pcl_includes(const struct mapi_pcl *a, const struct mapi_pcl *b);

enum mapi_pcl_relation {
	MAPI_PCL_EQUAL,
	MAPI_PCL_NEWER,   /* a includes b, not equal */
	MAPI_PCL_OLDER,   /* b includes a, not equal */
	MAPI_PCL_CONFLICT /* neither */
};
enum mapi_pcl_relation mapi_pcl_compare(const struct mapi_pcl *a, const struct mapi_pcl *b);

/* --- EntryIDs (2.2.4) --- */

/* Store object types of the ProviderData (2.2.4). */
enum mapi_eid_type {
	EITLT_PRIVATE_FOLDER = 0x0001,
	EITLT_PUBLIC_FOLDER = 0x0003,
	EITLT_WACKY_FOLDER = 0x0005,
	EITLT_PRIVATE_MESSAGE = 0x0007,
	EITLT_PUBLIC_MESSAGE = 0x0009,
	EITLT_WACKY_MESSAGE = 0x000b,
	EITLT_PUBLIC_FOLDER_BY_NAME = 0x000c,
};

/* Folder EntryID (2.2.4.1): Flags(4)=0, ProviderUID(16), FolderType(2),
 * DatabaseGuid(16), GlobalCounter(6), Pad(2). */
#define MAPI_FOLDER_EID_SIZE 46
struct mapi_folder_eid {
	struct guid provider_uid; /* the mailbox's (logon's) provider UID */
	uint16_t type;            /* EITLT_*_FOLDER */
	struct guid database_guid;
	uint64_t globcnt;
};
void mapi_folder_eid_put(const struct mapi_folder_eid *e, struct buf *out);
int mapi_folder_eid_parse(const void *data, size_t len, struct mapi_folder_eid *e);

/* Message EntryID (2.2.4.2): Flags(4)=0, ProviderUID(16), MessageType(2),
 * FolderDatabaseGuid(16), FolderGlobalCounter(6), Pad(2),
 * MessageDatabaseGuid(16), MessageGlobalCounter(6), Pad(2). */
#define MAPI_MESSAGE_EID_SIZE 70
struct mapi_message_eid {
	struct guid provider_uid;
	uint16_t type; /* EITLT_*_MESSAGE */
	struct guid folder_database_guid;
	uint64_t folder_globcnt;
	struct guid message_database_guid;
	uint64_t message_globcnt;
};
void mapi_message_eid_put(const struct mapi_message_eid *e, struct buf *out);
int mapi_message_eid_parse(const void *data, size_t len, struct mapi_message_eid *e);

/* The ObjectType of a store EntryID (bytes 20..21), or -1 when the data is
 * too short or its Flags are not zero. */
int mapi_eid_object_type(const void *data, size_t len);

#endif
