/* LongTermIDs, XIDs, predecessor change lists and EntryIDs ([MS-OXCDATA]
 * 2.2, [MS-OXCFXICS] 2.2.2). Written by hand: no Debian library knows
 * these structures. */
#include <string.h>

#include "core/xalloc.h"
#include "mapi/ids.h"

void mapi_globcnt_put(uint64_t globcnt, uint8_t out[6])
{
	for (int i = 0; i < 6; i++)
		out[i] = (uint8_t)(globcnt >> (8 * (5 - i)));
}

uint64_t mapi_globcnt_get(const uint8_t in[6])
{
	uint64_t g = 0;

	for (int i = 0; i < 6; i++)
		g = (g << 8) | in[i];
	return g;
}

static void put_globcnt_pad(uint64_t globcnt, struct buf *out)
{
	uint8_t gc[6];

	mapi_globcnt_put(globcnt, gc);
	buf_append(out, gc, 6);
	buf_append_u16le(out, 0);
}

void mapi_long_term_id_put(const struct mapi_long_term_id *lt, struct buf *out)
{
	buf_append(out, lt->database_guid.b, 16);
	put_globcnt_pad(lt->globcnt, out);
}

int mapi_long_term_id_parse(const void *data, size_t len, struct mapi_long_term_id *lt)
{
	const uint8_t *p = data;

	if (len != MAPI_LONG_TERM_ID_SIZE || p[22] != 0 || p[23] != 0)
		return -1;
	memcpy(lt->database_guid.b, p, 16);
	lt->globcnt = mapi_globcnt_get(p + 16);
	return 0;
}

void mapi_xid_from_globcnt(const struct guid *replica_guid, uint64_t globcnt,
	struct mapi_xid *xid)
{
	memset(xid, 0, sizeof(*xid));
	xid->guid = *replica_guid;
	xid->local_len = 6;
	mapi_globcnt_put(globcnt, xid->local);
}

void mapi_xid_put(const struct mapi_xid *xid, struct buf *out)
{
	buf_append(out, xid->guid.b, 16);
	buf_append(out, xid->local, xid->local_len);
}

int mapi_xid_parse(const void *data, size_t len, struct mapi_xid *xid)
{
	if (len < 17 || len > 16 + MAPI_XID_MAX_LOCAL)
		return -1;
	memset(xid, 0, sizeof(*xid));
	memcpy(xid->guid.b, data, 16);
	xid->local_len = (uint8_t)(len - 16);
	memcpy(xid->local, (const uint8_t *)data + 16, xid->local_len);
	return 0;
}

int mapi_xid_globcnt(const struct mapi_xid *xid, uint64_t *globcnt_r)
{
	if (xid->local_len != 6)
		return -1;
	*globcnt_r = mapi_globcnt_get(xid->local);
	return 0;
}

int mapi_xid_compare_local(const struct mapi_xid *a, const struct mapi_xid *b)
{
	if (a->local_len != b->local_len)
		return a->local_len < b->local_len ? -1 : 1;
	int r = memcmp(a->local, b->local, a->local_len);

	return r < 0 ? -1 : r > 0 ? 1 : 0;
}

static long pcl_find(const struct mapi_pcl *pcl, const struct guid *g)
{
	for (uint32_t i = 0; i < pcl->count; i++)
		if (guid_eq(&pcl->xids[i].guid, g))
			return (long)i;
	return -1;
}

void mapi_pcl_add(pool_t *pool, struct mapi_pcl *pcl, const struct mapi_xid *xid)
{
	long i = pcl_find(pcl, &xid->guid);

	if (i >= 0) {
		if (mapi_xid_compare_local(xid, &pcl->xids[i]) > 0)
			pcl->xids[i] = *xid;
		return;
	}
	/* Keep entries ordered by GUID bytes so serialization is canonical. */
	pcl->xids = pool_realloc(pool, pcl->xids, xmul(pcl->count, sizeof(*pcl->xids)),
		xmul(pcl->count + 1, sizeof(*pcl->xids)));
	uint32_t pos = pcl->count;

	while (pos > 0 && memcmp(pcl->xids[pos - 1].guid.b, xid->guid.b, 16) > 0) {
		pcl->xids[pos] = pcl->xids[pos - 1];
		pos--;
	}
	pcl->xids[pos] = *xid;
	pcl->count++;
}

int mapi_pcl_parse(pool_t *pool, const void *data, size_t len, struct mapi_pcl *pcl)
{
	const uint8_t *p = data;
	size_t pos = 0;

	memset(pcl, 0, sizeof(*pcl));
	while (pos < len) {
		uint8_t size = p[pos++];
		struct mapi_xid xid;

		if (size > len - pos || mapi_xid_parse(p + pos, size, &xid) < 0)
			return -1;
		pos += size;
		if (pcl->count >= MAPI_PCL_MAX_ENTRIES && pcl_find(pcl, &xid.guid) < 0)
			return -1;
		mapi_pcl_add(pool, pcl, &xid);
	}
	return 0;
}

void mapi_pcl_put(const struct mapi_pcl *pcl, struct buf *out)
{
	for (uint32_t i = 0; i < pcl->count; i++) {
		buf_append_byte(out, (uint8_t)(16 + pcl->xids[i].local_len));
		mapi_xid_put(&pcl->xids[i], out);
	}
}

void mapi_pcl_merge(pool_t *pool, struct mapi_pcl *dst, const struct mapi_pcl *src)
{
	for (uint32_t i = 0; i < src->count; i++)
		mapi_pcl_add(pool, dst, &src->xids[i]);
}

bool mapi_pcl_includes(const struct mapi_pcl *a, const struct mapi_pcl *b)
{
	for (uint32_t i = 0; i < b->count; i++) {
		long j = pcl_find(a, &b->xids[i].guid);

		if (j < 0 || mapi_xid_compare_local(&a->xids[j], &b->xids[i]) < 0)
			return false;
	}
	return true;
}

enum mapi_pcl_relation mapi_pcl_compare(const struct mapi_pcl *a, const struct mapi_pcl *b)
{
	bool ab = mapi_pcl_includes(a, b), ba = mapi_pcl_includes(b, a);

	if (ab && ba)
		return MAPI_PCL_EQUAL;
	if (ab)
		return MAPI_PCL_NEWER;
	if (ba)
		return MAPI_PCL_OLDER;
	return MAPI_PCL_CONFLICT;
}

void mapi_folder_eid_put(const struct mapi_folder_eid *e, struct buf *out)
{
	buf_append_u32le(out, 0);
	buf_append(out, e->provider_uid.b, 16);
	buf_append_u16le(out, e->type);
	buf_append(out, e->database_guid.b, 16);
	put_globcnt_pad(e->globcnt, out);
}

static bool folder_type(uint16_t t)
{
	return t == EITLT_PRIVATE_FOLDER || t == EITLT_PUBLIC_FOLDER || t == EITLT_WACKY_FOLDER ||
		t == EITLT_PUBLIC_FOLDER_BY_NAME;
}

static bool message_type(uint16_t t)
{
	return t == EITLT_PRIVATE_MESSAGE || t == EITLT_PUBLIC_MESSAGE || t == EITLT_WACKY_MESSAGE;
}

int mapi_eid_object_type(const void *data, size_t len)
{
	const uint8_t *p = data;

	if (len < 22 || p[0] != 0 || p[1] != 0 || p[2] != 0 || p[3] != 0)
		return -1;
	return p[20] | (p[21] << 8);
}

int mapi_folder_eid_parse(const void *data, size_t len, struct mapi_folder_eid *e)
{
	const uint8_t *p = data;
	int type = mapi_eid_object_type(data, len);

	if (len != MAPI_FOLDER_EID_SIZE || type < 0 || !folder_type((uint16_t)type) ||
		p[44] != 0 || p[45] != 0)
		return -1;
	memcpy(e->provider_uid.b, p + 4, 16);
	e->type = (uint16_t)type;
	memcpy(e->database_guid.b, p + 22, 16);
	e->globcnt = mapi_globcnt_get(p + 38);
	return 0;
}

void mapi_message_eid_put(const struct mapi_message_eid *e, struct buf *out)
{
	buf_append_u32le(out, 0);
	buf_append(out, e->provider_uid.b, 16);
	buf_append_u16le(out, e->type);
	buf_append(out, e->folder_database_guid.b, 16);
	put_globcnt_pad(e->folder_globcnt, out);
	buf_append(out, e->message_database_guid.b, 16);
	put_globcnt_pad(e->message_globcnt, out);
}

int mapi_message_eid_parse(const void *data, size_t len, struct mapi_message_eid *e)
{
	const uint8_t *p = data;
	int type = mapi_eid_object_type(data, len);

	if (len != MAPI_MESSAGE_EID_SIZE || type < 0 || !message_type((uint16_t)type) ||
		p[44] != 0 || p[45] != 0 || p[68] != 0 || p[69] != 0)
		return -1;
	memcpy(e->provider_uid.b, p + 4, 16);
	e->type = (uint16_t)type;
	memcpy(e->folder_database_guid.b, p + 22, 16);
	e->folder_globcnt = mapi_globcnt_get(p + 38);
	memcpy(e->message_database_guid.b, p + 46, 16);
	e->message_globcnt = mapi_globcnt_get(p + 62);
	return 0;
}
