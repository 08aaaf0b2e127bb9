/* XIDs, predecessor change lists and EntryIDs of our objects.
 * (mapi/ will carry the general encoders; these are the store's few.) */
#include <string.h>

#include "store/store_int.h"

static void put_globcnt(uint64_t gc, uint8_t out[6])
{
	/* MS-OXCDATA 2.2.1.1: the global counter is big-endian. */
	for (int i = 0; i < 6; i++)
		out[i] = (uint8_t)(gc >> (8 * (5 - i)));
}

void store_xid(const struct mailbox *m, uint64_t globcnt, uint8_t out[22])
{
	/* MS-OXCDATA 2.2.2.2 XID: NamespaceGuid (16) + LocalId (6 here). */
	memcpy(out, m->replica_guid.b, 16);
	put_globcnt(globcnt, out + 16);
}

void store_pcl_merge(const void *pcl, size_t len, const uint8_t xid[22], struct buf *out)
{
	/* MS-OXCFXICS 2.2.2.4: a PCL is a list of SizedXid (1-byte size +
	 * XID); at most one XID per namespace, the latest. Ours replaces the
	 * entry of its namespace; malformed input is dropped. */
	const uint8_t *p = pcl;
	size_t start = out->len;
	bool placed = false;
	while (p != NULL && len > 0) {
		uint8_t sz = p[0];
		if (sz < 17 || sz > 24 || (size_t)sz + 1 > len) {
			buf_truncate(out, start);
			placed = false;
			break;
		}
		if (memcmp(p + 1, xid, 16) == 0) {
			if (!placed) {
				buf_append_byte(out, 22);
				buf_append(out, xid, 22);
				placed = true;
			}
		} else {
			buf_append(out, p, (size_t)sz + 1);
		}
		p += sz + 1;
		len -= (size_t)sz + 1;
	}
	if (!placed) {
		buf_append_byte(out, 22);
		buf_append(out, xid, 22);
	}
}

void store_eid_folder(const struct mailbox *m, uint64_t fid_gc, struct buf *out)
{
	/* MS-OXCDATA 2.2.4.1 Folder EntryID: Flags, ProviderUID (the
	 * mailbox GUID), FolderType eitLTPrivateFolder, DatabaseGuid (the
	 * replica GUID), GlobalCounter, Pad. */
	uint8_t gc[6];
	buf_append_u32le(out, 0);
	buf_append(out, m->guid.b, 16);
	buf_append_u16le(out, 0x0001);
	buf_append(out, m->replica_guid.b, 16);
	put_globcnt(fid_gc, gc);
	buf_append(out, gc, 6);
	buf_append_u16le(out, 0);
}

void store_eid_message(const struct mailbox *m, uint64_t fid_gc, uint64_t mid_gc,
	struct buf *out)
{
	/* MS-OXCDATA 2.2.4.2 Message EntryID: eitLTPrivateMessage. */
	uint8_t gc[6];
	buf_append_u32le(out, 0);
	buf_append(out, m->guid.b, 16);
	buf_append_u16le(out, 0x0007);
	buf_append(out, m->replica_guid.b, 16);
	put_globcnt(fid_gc, gc);
	buf_append(out, gc, 6);
	buf_append_u16le(out, 0);
	buf_append(out, m->replica_guid.b, 16);
	put_globcnt(mid_gc, gc);
	buf_append(out, gc, 6);
	buf_append_u16le(out, 0);
}

void store_entryid_make(const struct store_mailbox *mb, mapi_id_t fid, mapi_id_t mid,
	struct buf *out)
{
	if (mid == 0)
		store_eid_folder(mb->m, store_gc(fid), out);
	else
		store_eid_message(mb->m, store_gc(fid), store_gc(mid), out);
}

static uint64_t get_globcnt(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 6; i++)
		v = v << 8 | p[i];
	return v;
}

uint32_t store_entryid_resolve(struct store_mailbox *mb, const void *eid, size_t len,
	mapi_id_t *fid_r, mapi_id_t *mid_r)
{
	const uint8_t *p = eid;
	if (p == NULL || (len != 46 && len != 70))
		return ecInvalidEntryId;
	uint16_t type = (uint16_t)(p[20] | p[21] << 8);
	if (p[0] | p[1] | p[2] | p[3])
		return ecInvalidEntryId;
	if ((len == 46 && type != 0x0001) || (len == 70 && type != 0x0007))
		return ecInvalidEntryId;
	/* Another mailbox's object, or another replica's. */
	if (memcmp(p + 4, mb->m->guid.b, 16) != 0 || memcmp(p + 22, mb->m->replica_guid.b, 16) != 0)
		return ecNotFound;
	uint64_t fgc = get_globcnt(p + 38);
	uint64_t mgc = 0;
	if (len == 70) {
		if (memcmp(p + 46, mb->m->replica_guid.b, 16) != 0)
			return ecNotFound;
		mgc = get_globcnt(p + 62);
	}
	if (fgc == 0 || (len == 70 && mgc == 0))
		return ecInvalidEntryId;
	mapi_id_t kf = 0;
	int kind = store_object_kind(mb, store_id(len == 70 ? mgc : fgc), &kf);
	if (len == 46 && kind != 1)
		return ecNotFound;
	if (len == 70 && (kind != 2 || store_gc(kf) != fgc))
		return ecNotFound;
	*fid_r = store_id(fgc);
	*mid_r = len == 70 ? store_id(mgc) : 0;
	return ecSuccess;
}
