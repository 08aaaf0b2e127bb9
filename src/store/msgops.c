/* Operations on saved messages without an open handle: move, copy,
 * delete, read flags (RopMoveCopyMessages, RopDeleteMessages,
 * RopSetReadFlags, RopSetMessageReadFlag). */
#include <string.h>

#include "core/log.h"
#include "core/xalloc.h"
#include "store/acl.h"
#include "store/message_int.h"

struct msginfo {
	int64_t id;
	uint64_t mid, fid;
	bool fai;
	uint32_t uid, flags;
	uint64_t size;
	char creator[512];
	bool has_creator;
	const uint8_t *pcl;
	size_t pcl_len;
	struct buf pclbuf;
};

static uint32_t msg_info(struct dbconn *c, int64_t id, struct msginfo *mi)
{
	sqlite3_stmt *st = store_db_prep(c,
		"SELECT mid, fid, fai, uid, flags, size, creator, pcl FROM messages WHERE id = ?");
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	uint32_t ec = ecSuccess;
	if (rc == SQLITE_ROW) {
		mi->id = id;
		mi->mid = (uint64_t)sqlite3_column_int64(st, 0);
		mi->fid = (uint64_t)sqlite3_column_int64(st, 1);
		mi->fai = sqlite3_column_int(st, 2) != 0;
		mi->uid = (uint32_t)sqlite3_column_int64(st, 3);
		mi->flags = (uint32_t)sqlite3_column_int64(st, 4);
		mi->size = (uint64_t)sqlite3_column_int64(st, 5);
		const unsigned char *cr = sqlite3_column_text(st, 6);
		mi->has_creator = cr != NULL;
		if (cr != NULL)
			snprintf(mi->creator, sizeof(mi->creator), "%s", (const char *)cr);
		buf_init(&mi->pclbuf, NULL);
		buf_append(&mi->pclbuf, sqlite3_column_blob(st, 7), (size_t)sqlite3_column_bytes(st, 7));
		mi->pcl = mi->pclbuf.data;
		mi->pcl_len = mi->pclbuf.len;
	} else {
		ec = rc == SQLITE_DONE ? ecNotFound : store_db_ec(c, rc, "message info");
	}
	sqlite3_reset(st);
	return ec;
}

static void msg_info_done(struct msginfo *mi)
{
	buf_deinit(&mi->pclbuf);
}

uint32_t store_msg_remove(struct wtx *t, int64_t id, bool tombstone, uint64_t cn, bool event)
{
	struct msginfo mi;
	uint32_t ec = msg_info(t->c, id, &mi);
	if (ec != ecSuccess)
		return ec;
	msg_info_done(&mi);
	static const char *const sql[] = {
		"DELETE FROM message_props WHERE id IN (SELECT id FROM messages WHERE top = ?)",
		"DELETE FROM recipients WHERE top = ?",
		"DELETE FROM attachments WHERE top = ?",
		"DELETE FROM blob_refs WHERE owner = ?",
		"DELETE FROM messages WHERE top = ?",
	};
	for (size_t i = 0; i < 5 && ec == ecSuccess; i++) {
		sqlite3_stmt *st = store_db_prep(t->c, sql[i]);
		sqlite3_bind_int64(st, 1, id);
		ec = store_db_step_done(t->c, st);
	}
	if (ec == ecSuccess)
		ec = store_folder_counts(t, mi.fid, mi.fai ? 0 : -1,
			(!mi.fai && !(mi.flags & MSGFLAG_READ)) ? -1 : 0, mi.fai ? -1 : 0,
			-(int64_t)mi.size);
	if (ec == ecSuccess)
		ec = store_mailbox_grow(t, -(int64_t)mi.size);
	if (ec == ecSuccess && tombstone) {
		sqlite3_stmt *st = store_db_prep(t->c,
			"INSERT INTO tombstones (mid, fid, uid, fai, cn, deleted) VALUES (?, ?, ?, ?, ?, ?)");
		sqlite3_bind_int64(st, 1, (int64_t)mi.mid);
		sqlite3_bind_int64(st, 2, (int64_t)mi.fid);
		sqlite3_bind_int64(st, 3, mi.uid);
		sqlite3_bind_int(st, 4, mi.fai);
		sqlite3_bind_int64(st, 5, (int64_t)cn);
		sqlite3_bind_int64(st, 6, (int64_t)store_now_filetime());
		ec = store_db_step_done(t->c, st);
	}
	if (ec == ecSuccess && event) {
		struct store_event ev = {.type = STORE_EVENT_DELETED,
			.is_message = true,
			.fid = store_id(mi.fid),
			.mid = store_id(mi.mid),
			.uid = mi.uid,
			.cn = cn,
			.associated = mi.fai};
		store_event_queue(t, &ev);
	}
	return ec;
}

uint32_t store_msg_copy(struct wtx *t, int64_t id, uint64_t fid, uint64_t *mid_r, uint32_t *uid_r)
{
	pool_t *pool = pool_new("msg copy", 0);
	struct mtree *tree;
	struct msgmeta meta;
	uint32_t ec = store_mtree_load(t->c, pool, id, true, 0, &tree, &meta);
	uint64_t old_mid = meta.mid, old_fid = meta.fid;
	uint64_t cn = 0, mid = 0;
	if (ec == ecSuccess)
		ec = store_alloc_cn(t, &cn);
	if (ec == ecSuccess)
		ec = store_alloc_ids(t, 1, &mid);
	struct buf pcl;
	buf_init(&pcl, pool);
	if (ec == ecSuccess) {
		uint8_t xid[22];
		store_xid(t->mb->m, cn, xid);
		store_pcl_merge(NULL, 0, xid, &pcl);
		meta.mid = mid;
		meta.fid = fid;
		meta.cn = meta.created_cn = cn;
		meta.read_cn = 0;
		meta.pcl = pcl.data;
		meta.pcl_len = pcl.len;
		meta.top = 0;
		meta.parent_att = 0;
		meta.creator = t->mb->principal;
		ec = store_next_uid(t, fid, &meta.uid);
	}
	int64_t nid = 0;
	if (ec == ecSuccess)
		ec = store_mtree_insert(t, tree, &meta, &nid);
	if (ec == ecSuccess)
		ec = store_mailbox_grow(t, (int64_t)meta.size);
	if (ec == ecSuccess)
		ec = store_folder_counts(t, fid, meta.fai ? 0 : 1,
			(!meta.fai && !(tree->flags & MSGFLAG_READ)) ? 1 : 0, meta.fai ? 1 : 0,
			(int64_t)meta.size);
	if (ec == ecSuccess) {
		struct store_event ev = {.type = STORE_EVENT_COPIED,
			.is_message = true,
			.fid = store_id(fid),
			.mid = store_id(mid),
			.old_fid = store_id(old_fid),
			.old_mid = store_id(old_mid),
			.uid = meta.uid,
			.cn = cn,
			.message_flags = tree->flags,
			.associated = meta.fai};
		store_event_queue(t, &ev);
		if (mid_r != NULL)
			*mid_r = mid;
		if (uid_r != NULL)
			*uid_r = meta.uid;
	}
	pool_free(&pool);
	return ec;
}

/* Moves message id (in src) to dst with a new MID and UID. */
static uint32_t msg_move(struct wtx *t, int64_t id, uint64_t dst, uint64_t cn, uint64_t *mid_r)
{
	struct msginfo mi;
	uint32_t ec = msg_info(t->c, id, &mi);
	if (ec != ecSuccess)
		return ec;
	uint64_t mid = 0;
	uint32_t uid = 0;
	ec = store_alloc_ids(t, 1, &mid);
	if (ec == ecSuccess)
		ec = store_next_uid(t, dst, &uid);
	struct buf pcl;
	buf_init(&pcl, NULL);
	if (ec == ecSuccess) {
		uint8_t xid[22];
		store_xid(t->mb->m, cn, xid);
		store_pcl_merge(mi.pcl, mi.pcl_len, xid, &pcl);
		sqlite3_stmt *st = store_db_prep(t->c,
			"UPDATE messages SET mid = ?, fid = ?, uid = ?, cn = ?, created_cn = ?, pcl = ?"
			" WHERE id = ?");
		sqlite3_bind_int64(st, 1, (int64_t)mid);
		sqlite3_bind_int64(st, 2, (int64_t)dst);
		sqlite3_bind_int64(st, 3, uid);
		sqlite3_bind_int64(st, 4, (int64_t)cn);
		sqlite3_bind_int64(st, 5, (int64_t)cn);
		sqlite3_bind_blob(st, 6, pcl.data, (int)pcl.len, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 7, id);
		ec = store_db_step_done(t->c, st);
	}
	buf_deinit(&pcl);
	int unread = (!mi.fai && !(mi.flags & MSGFLAG_READ)) ? 1 : 0;
	if (ec == ecSuccess)
		ec = store_folder_counts(t, mi.fid, mi.fai ? 0 : -1, -unread, mi.fai ? -1 : 0,
			-(int64_t)mi.size);
	if (ec == ecSuccess)
		ec = store_folder_counts(t, dst, mi.fai ? 0 : 1, unread, mi.fai ? 1 : 0,
			(int64_t)mi.size);
	if (ec == ecSuccess) {
		/* The source keeps a tombstone under the old MID and UID (IMAP
		 * QRESYNC VANISHED, ICS deletions). */
		sqlite3_stmt *st = store_db_prep(t->c,
			"INSERT INTO tombstones (mid, fid, uid, fai, cn, deleted) VALUES (?, ?, ?, ?, ?, ?)");
		sqlite3_bind_int64(st, 1, (int64_t)mi.mid);
		sqlite3_bind_int64(st, 2, (int64_t)mi.fid);
		sqlite3_bind_int64(st, 3, mi.uid);
		sqlite3_bind_int(st, 4, mi.fai);
		sqlite3_bind_int64(st, 5, (int64_t)cn);
		sqlite3_bind_int64(st, 6, (int64_t)store_now_filetime());
		ec = store_db_step_done(t->c, st);
	}
	if (ec == ecSuccess) {
		struct store_event ev = {.type = STORE_EVENT_MOVED,
			.is_message = true,
			.fid = store_id(dst),
			.mid = store_id(mid),
			.old_fid = store_id(mi.fid),
			.old_mid = store_id(mi.mid),
			.uid = uid,
			.cn = cn,
			.message_flags = mi.flags,
			.associated = mi.fai};
		store_event_queue(t, &ev);
		*mid_r = mid;
	}
	msg_info_done(&mi);
	return ec;
}

uint32_t store_messages_move(struct store_mailbox *mb, mapi_id_t src_id, mapi_id_t dst_id,
	const mapi_id_t *mids, uint32_t count, bool copy, mapi_id_t *new_mids_r,
	uint32_t *partial_r)
{
	uint64_t src = store_gc(src_id), dst = store_gc(dst_id);
	if (mids == NULL && count > 0)
		return ecInvalidParam;
	if (partial_r != NULL)
		*partial_r = 0;
	struct wtx t;
	uint32_t ec = store_wtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct folder_row sr, dr;
	uint32_t srights = 0;
	ec = store_folder_row(t.c, src, &sr);
	if (ec == ecSuccess)
		ec = store_folder_row(t.c, dst, &dr);
	if (ec == ecSuccess && dr.type == STORE_FOLDER_SEARCH)
		ec = ecNotSupported;
	if (ec == ecSuccess)
		ec = store_acl_rights(mb, t.c, src, &srights);
	if (ec == ecSuccess && !(srights & frightsReadAny))
		ec = ecAccessDenied;
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, dst, frightsCreate);
	uint64_t cn = 0;
	if (ec == ecSuccess && !copy && count > 0)
		ec = store_alloc_cn(&t, &cn);
	uint32_t partial = 0;
	for (uint32_t i = 0; ec == ecSuccess && i < count; i++) {
		if (new_mids_r != NULL)
			new_mids_r[i] = 0;
		int64_t id;
		if (store_find_msg(t.c, src, store_gc(mids[i]), &id) != ecSuccess) {
			partial++;
			continue;
		}
		uint64_t nm = 0;
		if (copy) {
			ec = store_msg_copy(&t, id, dst, &nm, NULL);
		} else {
			struct msginfo mi;
			ec = msg_info(t.c, id, &mi);
			if (ec == ecSuccess) {
				bool ok = store_may_delete(mb, srights, mi.has_creator ? mi.creator : NULL);
				msg_info_done(&mi);
				if (!ok) {
					partial++;
					continue;
				}
			}
			if (ec == ecSuccess)
				ec = src == dst ? store_msg_copy(&t, id, dst, &nm, NULL) : ecSuccess;
			if (ec == ecSuccess && src == dst) {
				/* A move into the same folder: a copy then the delete
				 * keeps the semantics (new MID, tombstone). */
				ec = store_msg_remove(&t, id, true, cn, true);
			} else if (ec == ecSuccess) {
				ec = msg_move(&t, id, dst, cn, &nm);
			}
		}
		if (ec == ecSuccess && new_mids_r != NULL)
			new_mids_r[i] = store_id(nm);
	}
	ec = store_wtx_end(&t, ec);
	if (ec == ecSuccess && partial_r != NULL)
		*partial_r = partial;
	return ec;
}

uint32_t store_messages_delete(struct store_mailbox *mb, mapi_id_t fid_id, const mapi_id_t *mids,
	uint32_t count, uint32_t *partial_r)
{
	uint64_t fid = store_gc(fid_id);
	if (mids == NULL && count > 0)
		return ecInvalidParam;
	if (partial_r != NULL)
		*partial_r = 0;
	struct wtx t;
	uint32_t ec = store_wtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct folder_row r;
	uint32_t rights = 0;
	ec = store_folder_row(t.c, fid, &r);
	if (ec == ecSuccess)
		ec = store_acl_rights(mb, t.c, fid, &rights);
	uint64_t cn = 0;
	if (ec == ecSuccess && count > 0)
		ec = store_alloc_cn(&t, &cn);
	uint32_t partial = 0;
	for (uint32_t i = 0; ec == ecSuccess && i < count; i++) {
		int64_t id;
		if (store_find_msg(t.c, fid, store_gc(mids[i]), &id) != ecSuccess) {
			partial++;
			continue;
		}
		struct msginfo mi;
		ec = msg_info(t.c, id, &mi);
		if (ec != ecSuccess)
			break;
		bool ok = store_may_delete(mb, rights, mi.has_creator ? mi.creator : NULL);
		msg_info_done(&mi);
		if (!ok) {
			partial++;
			continue;
		}
		ec = store_msg_remove(&t, id, true, cn, true);
	}
	ec = store_wtx_end(&t, ec);
	if (ec == ecSuccess && partial_r != NULL)
		*partial_r = partial;
	if (ec == ecSuccess && partial == count && count > 0 && !(rights & frightsDeleteAny) &&
		!(rights & frightsDeleteOwned))
		return ecAccessDenied;
	return ec;
}

/* Sets or clears MSGFLAG_READ on row id; *changed_r says whether it did. */
static uint32_t set_read_one(struct wtx *t, int64_t id, bool read, uint64_t cn, bool *changed_r)
{
	struct msginfo mi;
	uint32_t ec = msg_info(t->c, id, &mi);
	if (ec != ecSuccess)
		return ec;
	msg_info_done(&mi);
	*changed_r = false;
	bool is_read = (mi.flags & MSGFLAG_READ) != 0;
	if (is_read == read)
		return ecSuccess;
	uint32_t flags = read ? mi.flags | MSGFLAG_READ : mi.flags & ~MSGFLAG_READ;
	/* MS-OXCFXICS: a read-state change has its own change number and
	 * leaves the change key alone. */
	sqlite3_stmt *st = store_db_prep(t->c, "UPDATE messages SET flags = ?, read_cn = ? WHERE id = ?");
	sqlite3_bind_int64(st, 1, flags);
	sqlite3_bind_int64(st, 2, (int64_t)cn);
	sqlite3_bind_int64(st, 3, id);
	ec = store_db_step_done(t->c, st);
	if (ec == ecSuccess && !mi.fai)
		ec = store_folder_counts(t, mi.fid, 0, read ? -1 : 1, 0, 0);
	if (ec == ecSuccess) {
		struct store_event ev = {.type = STORE_EVENT_MODIFIED,
			.is_message = true,
			.fid = store_id(mi.fid),
			.mid = store_id(mi.mid),
			.uid = mi.uid,
			.cn = cn,
			.message_flags = flags,
			.associated = mi.fai};
		store_event_queue(t, &ev);
		*changed_r = true;
	}
	return ec;
}

uint32_t store_messages_set_read(struct store_mailbox *mb, mapi_id_t fid_id, const mapi_id_t *mids,
	uint32_t count, bool read, uint32_t *partial_r)
{
	uint64_t fid = store_gc(fid_id);
	if (mids == NULL && count > 0)
		return ecInvalidParam;
	if (partial_r != NULL)
		*partial_r = 0;
	struct wtx t;
	uint32_t ec = store_wtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct folder_row r;
	ec = store_folder_row(t.c, fid, &r);
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, fid, frightsReadAny);
	uint64_t cn = 0;
	if (ec == ecSuccess && count > 0)
		ec = store_alloc_cn(&t, &cn);
	uint32_t partial = 0;
	for (uint32_t i = 0; ec == ecSuccess && i < count; i++) {
		int64_t id;
		if (store_find_msg(t.c, fid, store_gc(mids[i]), &id) != ecSuccess) {
			partial++;
			continue;
		}
		bool changed;
		ec = set_read_one(&t, id, read, cn, &changed);
	}
	ec = store_wtx_end(&t, ec);
	if (ec == ecSuccess && partial_r != NULL)
		*partial_r = partial;
	return ec;
}

/* The handle's side of RopSetMessageReadFlag. Declared in store.h. */
uint32_t store_message_set_read_impl(struct store_mailbox *mb, int64_t id, bool read,
	uint32_t *flags_r);
uint32_t store_message_set_read_impl(struct store_mailbox *mb, int64_t id, bool read,
	uint32_t *flags_r)
{
	struct wtx t;
	uint32_t ec = store_wtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct msginfo mi;
	ec = msg_info(t.c, id, &mi);
	if (ec == ecNotFound)
		ec = ecObjectDeleted;
	if (ec == ecSuccess) {
		msg_info_done(&mi);
		ec = store_acl_check(mb, t.c, mi.fid, frightsReadAny);
	}
	uint64_t cn = 0;
	if (ec == ecSuccess)
		ec = store_alloc_cn(&t, &cn);
	bool changed = false;
	if (ec == ecSuccess)
		ec = set_read_one(&t, id, read, cn, &changed);
	ec = store_wtx_end(&t, ec);
	if (ec == ecSuccess)
		*flags_r = read ? mi.flags | MSGFLAG_READ : mi.flags & ~MSGFLAG_READ;
	return ec;
}
