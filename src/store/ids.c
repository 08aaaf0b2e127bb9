/* XIDs, predecessor change lists and EntryIDs of this mailbox's objects,
 * over the encoders of mapi/ids.h. */
#include <string.h>

#include "mapi/ids.h"
#include "store/store_int.h"

void store_xid(const struct mailbox *m, uint64_t globcnt, uint8_t out[22])
{
	/* [MS-OXCFXICS] 2.2.2.2 XID: NamespaceGuid (16) + LocalId (6 here). */
	memcpy(out, m->replica_guid.b, 16);
	mapi_globcnt_put(globcnt, out + 16);
}

void store_pcl_merge(const void *pcl, size_t len, const uint8_t xid[22], struct buf *out)
{
	/* [MS-OXCFXICS] 2.2.2.4: at most one XID per namespace, the latest.
	 * A stored PCL that does not parse is replaced by the new XID. */
	pool_t *pool = pool_new("pcl", 0);
	struct mapi_pcl p = {0};
	if (pcl == NULL || len == 0 || mapi_pcl_parse(pool, pcl, len, &p) < 0)
		memset(&p, 0, sizeof(p));
	struct mapi_xid x;
	if (mapi_xid_parse(xid, 22, &x) == 0)
		mapi_pcl_add(pool, &p, &x);
	mapi_pcl_put(&p, out);
	pool_free(&pool);
}

void store_eid_folder(const struct mailbox *m, uint64_t fid_gc, struct buf *out)
{
	/* [MS-OXCDATA] 2.2.4.1: the provider UID is the mailbox GUID, the
	 * database GUID the replica GUID of replica id 1. */
	struct mapi_folder_eid e = {.provider_uid = m->guid,
		.type = EITLT_PRIVATE_FOLDER,
		.database_guid = m->replica_guid,
		.globcnt = fid_gc};
	mapi_folder_eid_put(&e, out);
}

void store_eid_message(const struct mailbox *m, uint64_t fid_gc, uint64_t mid_gc,
	struct buf *out)
{
	struct mapi_message_eid e = {.provider_uid = m->guid,
		.type = EITLT_PRIVATE_MESSAGE,
		.folder_database_guid = m->replica_guid,
		.folder_globcnt = fid_gc,
		.message_database_guid = m->replica_guid,
		.message_globcnt = mid_gc};
	mapi_message_eid_put(&e, out);
}

void store_entryid_make(const struct store_mailbox *mb, mapi_id_t fid, mapi_id_t mid,
	struct buf *out)
{
	if (mid == 0)
		store_eid_folder(mb->m, store_gc(fid), out);
	else
		store_eid_message(mb->m, store_gc(fid), store_gc(mid), out);
}

uint32_t store_entryid_resolve(struct store_mailbox *mb, const void *eid, size_t len,
	mapi_id_t *fid_r, mapi_id_t *mid_r)
{
	if (eid == NULL)
		return ecInvalidEntryId;
	uint64_t fgc = 0, mgc = 0;
	const struct mailbox *m = mb->m;
	if (len == MAPI_FOLDER_EID_SIZE) {
		struct mapi_folder_eid e;
		if (mapi_folder_eid_parse(eid, len, &e) < 0 || e.type != EITLT_PRIVATE_FOLDER)
			return ecInvalidEntryId;
		/* Another mailbox's object, or another replica's. */
		if (!guid_eq(&e.provider_uid, &m->guid) || !guid_eq(&e.database_guid, &m->replica_guid))
			return ecNotFound;
		fgc = e.globcnt;
	} else if (len == MAPI_MESSAGE_EID_SIZE) {
		struct mapi_message_eid e;
		if (mapi_message_eid_parse(eid, len, &e) < 0 || e.type != EITLT_PRIVATE_MESSAGE)
			return ecInvalidEntryId;
		if (!guid_eq(&e.provider_uid, &m->guid) ||
			!guid_eq(&e.folder_database_guid, &m->replica_guid) ||
			!guid_eq(&e.message_database_guid, &m->replica_guid))
			return ecNotFound;
		fgc = e.folder_globcnt;
		mgc = e.message_globcnt;
		if (mgc == 0)
			return ecInvalidEntryId;
	} else {
		return ecInvalidEntryId;
	}
	if (fgc == 0)
		return ecInvalidEntryId;
	mapi_id_t kf = 0;
	int kind = store_object_kind(mb, store_id(mgc != 0 ? mgc : fgc), &kf);
	if (mgc == 0 && kind != 1)
		return ecNotFound;
	if (mgc != 0 && (kind != 2 || store_gc(kf) != fgc))
		return ecNotFound;
	*fid_r = store_id(fgc);
	*mid_r = mgc != 0 ? store_id(mgc) : 0;
	return ecSuccess;
}
