/* Change tracking (ICS, EWS/ActiveSync sync) and the IMAP state: UIDs,
 * MODSEQ, STORE, EXPUNGE, VANISHED. */
#include <string.h>

#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "mapi/namedprop.h"
#include "store/acl.h"
#include "store/changes.h"
#include "store/imap_flags.h"
#include "store/message_int.h"

/* The tombstone floor: syncs from before it cannot be served. */
static uint64_t tombstone_floor(struct dbconn *c)
{
	int64_t v = 0;
	if (store_meta_get_int(c, "tombstone_floor", &v) != ecSuccess)
		return 0;
	return (uint64_t)v;
}

uint32_t store_changes_state(struct store_mailbox *mb, uint64_t *state_r)
{
	struct rtx t;
	uint32_t ec = store_rtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	int64_t v = 0;
	ec = store_meta_get_int(t.c, "last_cn", &v);
	store_rtx_end(&t);
	if (ec == ecSuccess)
		*state_r = (uint64_t)v;
	return ec;
}

uint32_t store_folders_state(struct store_mailbox *mb, uint64_t *state_r)
{
	struct rtx t;
	uint32_t ec = store_rtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	/* Creating, changing, moving and deleting a folder each take a new
	 * change number (a deletion's goes to its tombstone); message changes
	 * leave folders.cn alone. */
	sqlite3_stmt *st = store_db_prep(t.c, "SELECT max(coalesce((SELECT max(cn) FROM folders), 0),"
					      " coalesce((SELECT max(cn) FROM folder_tombstones), 0))");
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*state_r = (uint64_t)sqlite3_column_int64(st, 0);
	else
		ec = store_db_ec(t.c, rc, "folders state");
	sqlite3_reset(st);
	store_rtx_end(&t);
	return ec;
}

/* Items of the three kinds merged in change-number order, for the max
 * cut. */
static int cmp_cn(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

uint32_t store_changes_folder(struct store_mailbox *mb, mapi_id_t fid_id, uint64_t since,
	uint32_t flags, uint32_t max, pool_t *pool, struct store_changes *out)
{
	uint64_t fid = store_gc(fid_id);
	memset(out, 0, sizeof(*out));
	if ((flags & ~(STORE_SYNC_NORMAL | STORE_SYNC_FAI | STORE_SYNC_READ)) != 0)
		return ecUnknownFlags;
	if ((flags & (STORE_SYNC_NORMAL | STORE_SYNC_FAI)) == 0)
		flags |= STORE_SYNC_NORMAL;
	struct rtx t;
	uint32_t ec = store_rtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct folder_row r;
	ec = store_folder_row(t.c, fid, &r);
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, fid, frightsReadAny);
	int64_t last = 0;
	if (ec == ecSuccess)
		ec = store_meta_get_int(t.c, "last_cn", &last);
	if (ec != ecSuccess) {
		store_rtx_end(&t);
		return ec;
	}
	out->state = (uint64_t)last;
	if (since > 0 && since < tombstone_floor(t.c)) {
		out->reset = true;
		store_rtx_end(&t);
		return ecSuccess;
	}
	/* fai filter: 0, 1 or both. */
	int fai_lo = (flags & STORE_SYNC_NORMAL) ? 0 : 1, fai_hi = (flags & STORE_SYNC_FAI) ? 1 : 0;
	ARRAY(struct store_change) ch;
	ARRAY(struct store_deletion) del;
	ARRAY(struct store_read_change) rd;
	array_init(&ch, pool);
	array_init(&del, pool);
	array_init(&rd, pool);
	sqlite3_stmt *st = store_db_prep(t.c,
		"SELECT mid, cn, created_cn, fai, uid, flags FROM messages"
		" WHERE fid = ? AND cn > ? AND fai BETWEEN ? AND ? ORDER BY cn, id");
	sqlite3_bind_int64(st, 1, (int64_t)fid);
	sqlite3_bind_int64(st, 2, (int64_t)since);
	sqlite3_bind_int(st, 3, fai_lo);
	sqlite3_bind_int(st, 4, fai_hi);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_change *c = array_push_new(&ch);
		c->id = store_id((uint64_t)sqlite3_column_int64(st, 0));
		c->parent = fid_id;
		c->cn = (uint64_t)sqlite3_column_int64(st, 1);
		c->created = (uint64_t)sqlite3_column_int64(st, 2) > since;
		c->associated = sqlite3_column_int(st, 3) != 0;
		c->uid = (uint32_t)sqlite3_column_int64(st, 4);
		c->message_flags = (uint32_t)sqlite3_column_int64(st, 5);
		store_xid(mb->m, c->cn, c->change_key);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		ec = store_db_ec(t.c, rc, "changes");
	/* Read-state changes of messages whose content did not change. */
	if (ec == ecSuccess && since > 0) {
		st = store_db_prep(t.c, "SELECT mid, read_cn, uid, flags, fai, cn FROM messages"
					" WHERE fid = ? AND read_cn > ? AND cn <= ? AND fai BETWEEN ? AND ?"
					" ORDER BY read_cn, id");
		sqlite3_bind_int64(st, 1, (int64_t)fid);
		sqlite3_bind_int64(st, 2, (int64_t)since);
		sqlite3_bind_int64(st, 3, (int64_t)since);
		sqlite3_bind_int(st, 4, fai_lo);
		sqlite3_bind_int(st, 5, fai_hi);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			uint64_t mid = (uint64_t)sqlite3_column_int64(st, 0);
			uint64_t rcn = (uint64_t)sqlite3_column_int64(st, 1);
			uint32_t uid = (uint32_t)sqlite3_column_int64(st, 2);
			uint32_t mflags = (uint32_t)sqlite3_column_int64(st, 3);
			if (flags & STORE_SYNC_READ) {
				struct store_read_change *x = array_push_new(&rd);
				x->mid = store_id(mid);
				x->cn = rcn;
				x->uid = uid;
				x->read = (mflags & MSGFLAG_READ) != 0;
			} else {
				struct store_change *c = array_push_new(&ch);
				c->id = store_id(mid);
				c->parent = fid_id;
				c->cn = rcn;
				c->associated = sqlite3_column_int(st, 4) != 0;
				c->uid = uid;
				c->message_flags = mflags;
				/* The change key stays the content's. */
				store_xid(mb->m, (uint64_t)sqlite3_column_int64(st, 5), c->change_key);
			}
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			ec = store_db_ec(t.c, rc, "read changes");
	}
	if (ec == ecSuccess && since > 0) {
		st = store_db_prep(t.c, "SELECT mid, cn, uid, fai FROM tombstones"
					" WHERE fid = ? AND cn > ? AND fai BETWEEN ? AND ? ORDER BY cn");
		sqlite3_bind_int64(st, 1, (int64_t)fid);
		sqlite3_bind_int64(st, 2, (int64_t)since);
		sqlite3_bind_int(st, 3, fai_lo);
		sqlite3_bind_int(st, 4, fai_hi);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct store_deletion *d = array_push_new(&del);
			d->id = store_id((uint64_t)sqlite3_column_int64(st, 0));
			d->parent = fid_id;
			d->cn = (uint64_t)sqlite3_column_int64(st, 1);
			d->uid = (uint32_t)sqlite3_column_int64(st, 2);
			d->associated = sqlite3_column_int(st, 3) != 0;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			ec = store_db_ec(t.c, rc, "tombstones");
	}
	store_rtx_end(&t);
	if (ec != ecSuccess)
		return ec;
	if (!(flags & STORE_SYNC_READ) && ch.n > 1) {
		/* Read changes were appended: back to change-number order. */
		for (size_t i = 1; i < ch.n; i++) {
			struct store_change x = ch.v[i];
			size_t j = i;
			while (j > 0 && ch.v[j - 1].cn > x.cn) {
				ch.v[j] = ch.v[j - 1];
				j--;
			}
			ch.v[j] = x;
		}
	}
	size_t total = ch.n + del.n + rd.n;
	if (max > 0 && total > max) {
		/* Cut after the max-th change number, keeping every item that
		 * shares it. */
		uint64_t *cns = xcalloc(total, sizeof(uint64_t));
		size_t k = 0;
		for (size_t i = 0; i < ch.n; i++)
			cns[k++] = ch.v[i].cn;
		for (size_t i = 0; i < del.n; i++)
			cns[k++] = del.v[i].cn;
		for (size_t i = 0; i < rd.n; i++)
			cns[k++] = rd.v[i].cn;
		qsort(cns, total, sizeof(uint64_t), cmp_cn);
		uint64_t cut = cns[max - 1];
		free(cns);
		size_t n = 0;
		for (size_t i = 0; i < ch.n; i++)
			if (ch.v[i].cn <= cut)
				ch.v[n++] = ch.v[i];
		ch.n = n;
		n = 0;
		for (size_t i = 0; i < del.n; i++)
			if (del.v[i].cn <= cut)
				del.v[n++] = del.v[i];
		del.n = n;
		n = 0;
		for (size_t i = 0; i < rd.n; i++)
			if (rd.v[i].cn <= cut)
				rd.v[n++] = rd.v[i];
		rd.n = n;
		out->state = cut;
		out->more = true;
	}
	out->changed = ch.v;
	out->n_changed = (uint32_t)ch.n;
	out->deleted = del.v;
	out->n_deleted = (uint32_t)del.n;
	out->read = rd.v;
	out->n_read = (uint32_t)rd.n;
	return ecSuccess;
}

uint32_t store_changes_hierarchy(struct store_mailbox *mb, mapi_id_t root_id, uint64_t since,
	pool_t *pool, struct store_changes *out)
{
	uint64_t root = store_gc(root_id);
	memset(out, 0, sizeof(*out));
	struct rtx t;
	uint32_t ec = store_rtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct folder_row r;
	ec = store_folder_row(t.c, root, &r);
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, root, frightsVisible);
	int64_t last = 0;
	if (ec == ecSuccess)
		ec = store_meta_get_int(t.c, "last_cn", &last);
	if (ec != ecSuccess) {
		store_rtx_end(&t);
		return ec;
	}
	out->state = (uint64_t)last;
	if (since > 0 && since < tombstone_floor(t.c)) {
		out->reset = true;
		store_rtx_end(&t);
		return ecSuccess;
	}
	ARRAY(struct store_change) ch;
	ARRAY(uint64_t) below; /* every folder below root, for the tombstones */
	array_init(&ch, pool);
	array_init(&below, pool);
	sqlite3_stmt *st = store_db_prep(t.c,
		"WITH RECURSIVE sub(f) AS (SELECT fid FROM folders WHERE parent = ?"
		" UNION ALL SELECT fid FROM folders, sub WHERE parent = sub.f)"
		" SELECT folders.fid, parent, cn FROM sub, folders WHERE folders.fid = sub.f"
		" ORDER BY cn");
	sqlite3_bind_int64(st, 1, (int64_t)root);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t f = (uint64_t)sqlite3_column_int64(st, 0);
		uint64_t cn = (uint64_t)sqlite3_column_int64(st, 2);
		array_push(&below, f);
		if (cn <= since)
			continue;
		uint32_t rights = 0;
		if (store_acl_rights(mb, t.c, f, &rights) != ecSuccess || !(rights & frightsVisible))
			continue;
		struct store_change *c = array_push_new(&ch);
		c->id = store_id(f);
		c->parent = store_id((uint64_t)sqlite3_column_int64(st, 1));
		c->cn = cn;
		store_xid(mb->m, cn, c->change_key);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		ec = store_db_ec(t.c, rc, "hierarchy changes");
	/* Creation: a folder is new if its FID (allocated with it) is above
	 * the state. */
	for (size_t i = 0; i < ch.n; i++)
		ch.v[i].created = store_gc(ch.v[i].id) > since;
	ARRAY(struct store_deletion) del;
	array_init(&del, pool);
	if (ec == ecSuccess && since > 0) {
		st = store_db_prep(t.c, "SELECT fid, parent, cn FROM folder_tombstones WHERE cn > ?"
					" ORDER BY cn");
		sqlite3_bind_int64(st, 1, (int64_t)since);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct store_deletion *d = array_push_new(&del);
			d->id = store_id((uint64_t)sqlite3_column_int64(st, 0));
			d->parent = store_id((uint64_t)sqlite3_column_int64(st, 1));
			d->cn = (uint64_t)sqlite3_column_int64(st, 2);
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			ec = store_db_ec(t.c, rc, "folder tombstones");
	}
	store_rtx_end(&t);
	if (ec != ecSuccess)
		return ec;
	/* Keep deletions of folders that were below root: their parent is
	 * root, a live folder below it, or another such deletion. */
	bool *keep = xcalloc(del.n + 1, sizeof(bool));
	for (bool grew = true; grew;) {
		grew = false;
		for (size_t i = 0; i < del.n; i++) {
			if (keep[i])
				continue;
			uint64_t p = store_gc(del.v[i].parent);
			bool ok = p == root;
			for (size_t k = 0; !ok && k < below.n; k++)
				ok = below.v[k] == p;
			for (size_t k = 0; !ok && k < del.n; k++)
				ok = keep[k] && store_gc(del.v[k].id) == p;
			if (ok)
				keep[i] = grew = true;
		}
	}
	size_t n = 0;
	for (size_t i = 0; i < del.n; i++)
		if (keep[i])
			del.v[n++] = del.v[i];
	del.n = n;
	free(keep);
	out->changed = ch.v;
	out->n_changed = (uint32_t)ch.n;
	out->deleted = del.v;
	out->n_deleted = (uint32_t)del.n;
	return ecSuccess;
}

uint32_t store_purge_tombstones(struct store_mailbox *mb, uint64_t before, uint32_t *n_r)
{
	uint64_t cutoff = before != 0 ? before
		: store_now_filetime() -
			(uint64_t)mb->store->set.tombstone_days * 86400ULL * 10000000ULL;
	struct wtx t;
	uint32_t ec = store_wtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	uint64_t floor = tombstone_floor(t.c);
	static const char *const q[2][2] = {
		{"SELECT max(cn) FROM tombstones WHERE deleted < ?",
			"DELETE FROM tombstones WHERE deleted < ?"},
		{"SELECT max(cn) FROM folder_tombstones WHERE deleted < ?",
			"DELETE FROM folder_tombstones WHERE deleted < ?"},
	};
	uint32_t removed = 0;
	for (int i = 0; i < 2 && ec == ecSuccess; i++) {
		sqlite3_stmt *st = store_db_prep(t.c, q[i][0]);
		sqlite3_bind_int64(st, 1, (int64_t)cutoff);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
			uint64_t m = (uint64_t)sqlite3_column_int64(st, 0);
			if (m > floor)
				floor = m;
		}
		sqlite3_reset(st);
		st = store_db_prep(t.c, q[i][1]);
		sqlite3_bind_int64(st, 1, (int64_t)cutoff);
		ec = store_db_step_done(t.c, st);
		removed += (uint32_t)sqlite3_changes(t.c->db);
	}
	if (ec == ecSuccess)
		ec = store_meta_set_int(t.c, "tombstone_floor", (int64_t)floor);
	ec = store_wtx_end(&t, ec);
	if (ec == ecSuccess && n_r != NULL)
		*n_r = removed;
	return ec;
}

/* --- IMAP --- */

uint32_t store_imap_folder(struct store_mailbox *mb, mapi_id_t fid_id, struct store_imap_folder *s)
{
	uint64_t fid = store_gc(fid_id);
	memset(s, 0, sizeof(*s));
	struct rtx t;
	uint32_t ec = store_rtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct folder_row r;
	ec = store_folder_row(t.c, fid, &r);
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, fid, frightsReadAny);
	if (ec == ecSuccess) {
		/* The Deleted-flag count names its partial index: without
		 * statistics the planner prefers messages_delivery and reads
		 * every row of the folder. */
		sqlite3_stmt *st = store_db_prep(t.c,
			"SELECT uidvalidity, uidnext, cn,"
			" (SELECT max(cn) FROM messages WHERE fid = ?1),"
			" (SELECT max(read_cn) FROM messages WHERE fid = ?1),"
			" (SELECT max(imap_cn) FROM messages WHERE fid = ?1),"
			" (SELECT max(cn) FROM tombstones WHERE fid = ?1),"
			" (SELECT count(*) FROM messages INDEXED BY messages_imap_deleted"
			"  WHERE fid = ?1 AND fai = 0"
			"  AND (store_flags & 1) != 0)"
			" FROM folders WHERE fid = ?1");
		sqlite3_bind_int64(st, 1, (int64_t)fid);
		if (sqlite3_step(st) == SQLITE_ROW) {
			s->uidvalidity = (uint32_t)sqlite3_column_int64(st, 0);
			s->uidnext = (uint32_t)sqlite3_column_int64(st, 1);
			uint64_t m = 0;
			for (int i = 2; i <= 6; i++) {
				uint64_t v = (uint64_t)sqlite3_column_int64(st, i);
				if (v > m)
					m = v;
			}
			s->highestmodseq = m > 0 ? m : 1;
			s->deleted = (uint32_t)sqlite3_column_int64(st, 7);
		}
		sqlite3_reset(st);
		s->exists = r.n_msgs;
		s->unseen = r.n_unread;
	}
	store_rtx_end(&t);
	return ec;
}

/* The Keywords named property's ID (0 if never used and !create). */
uint32_t store_named_ids_in(struct wtx *t, const struct mapi_propname *names, uint32_t count,
	uint16_t *ids_r);

static uint32_t keywords_id(struct store_mailbox *mb, struct wtx *w, struct dbconn *c,
	uint16_t *id_r)
{
	struct mapi_propname n = mapi_np_name(MAPI_NP_PidNameKeywords);
	if (w != NULL)
		return store_named_ids_in(w, &n, 1, id_r);
	sqlite3_stmt *st = store_db_prep(c, "SELECT propid FROM named_props WHERE guid = ? AND"
					    " kind = 1 AND name = ?");
	sqlite3_bind_blob(st, 1, n.guid.b, 16, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, n.name, -1, SQLITE_STATIC);
	*id_r = sqlite3_step(st) == SQLITE_ROW ? (uint16_t)sqlite3_column_int(st, 0) : 0;
	sqlite3_reset(st);
	return ecSuccess;
}

#define IMAP_SELECT                                                                                \
	"SELECT m.uid, m.mid, max(m.cn, m.read_cn, m.imap_cn), m.flags, m.store_flags,"            \
	" m.flag_status, m.last_verb, m.icon_index, coalesce(m.delivery_time, m.created),"         \
	" m.size, m.mime, m.mime_size, k.value, m.id, m.cn, m.read_cn, m.imap_cn"                  \
	" FROM messages m LEFT JOIN message_props k ON k.id = m.id AND k.propid = ?"               \
	" AND k.type = 4127"

/* store_imap_list's queries: the columns of IMAP_SELECT with the
 * keywords' value (or NULL); parameters ?1 the Keywords property ID, ?2
 * the folder, ?3 and ?4 the UID range, ?5 CHANGEDSINCE (0: none). With
 * changedsince, the three change-number indexes find the changed rows
 * without reading the folder (RFC 7162 clients ask this after every
 * change). */
#define IMAP_LIST_COLS(kwcol)                                                                      \
	"SELECT m.uid, m.mid, max(m.cn, m.read_cn, m.imap_cn), m.flags, m.store_flags,"            \
	" m.flag_status, m.last_verb, m.icon_index, coalesce(m.delivery_time, m.created),"         \
	" m.size, m.mime, m.mime_size, " kwcol ", m.id, m.cn, m.read_cn, m.imap_cn"
#define IMAP_LIST_KW                                                                               \
	" FROM messages m LEFT JOIN message_props k ON k.id = m.id AND k.propid = ?1"              \
	" AND k.type = 4127"
#define IMAP_LIST_RANGE                                                                            \
	" WHERE m.fid = ?2 AND m.fai = 0 AND m.uid BETWEEN ?3 AND ?4 AND ?5 = 0 ORDER BY m.uid"
#define IMAP_LIST_CHANGED                                                                          \
	" WHERE +m.fid = ?2 AND m.fai = 0 AND +m.uid BETWEEN ?3 AND ?4"                           \
	" AND m.id IN (SELECT id FROM messages WHERE fid = ?2 AND cn > ?5"                         \
	" UNION SELECT id FROM messages WHERE fid = ?2 AND read_cn > ?5"                           \
	" UNION SELECT id FROM messages WHERE fid = ?2 AND imap_cn > ?5) ORDER BY m.uid"

static void row_mapi(sqlite3_stmt *st, struct store_imap_mapi *m)
{
	m->message_flags = (uint32_t)sqlite3_column_int64(st, 3);
	m->store_flags = (uint32_t)sqlite3_column_int64(st, 4);
	m->flag_status = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 5);
	m->last_verb = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 6);
	m->icon_index = sqlite3_column_type(st, 7) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 7);
}

static uint32_t row_keywords(sqlite3_stmt *st, pool_t *pool, char ***kw_r, uint32_t *n_r)
{
	*kw_r = NULL;
	*n_r = 0;
	if (sqlite3_column_type(st, 12) == SQLITE_NULL)
		return ecSuccess;
	union mapi_pvalue v;
	uint32_t ec = store_value_decode(PROP_TAG(PT_MV_UNICODE, 1), sqlite3_column_blob(st, 12),
		(size_t)sqlite3_column_bytes(st, 12), pool, &v);
	if (ec != ecSuccess)
		return ec;
	*kw_r = v.mv.str;
	*n_r = v.mv.count;
	return ecSuccess;
}

uint32_t store_imap_list(struct store_mailbox *mb, mapi_id_t fid_id, uint32_t uid_lo,
	uint32_t uid_hi, uint64_t changedsince, pool_t *pool, struct store_imap_msg **msgs_r,
	uint32_t *count_r)
{
	uint64_t fid = store_gc(fid_id);
	struct rtx t;
	uint32_t ec = store_rtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct folder_row r;
	ec = store_folder_row(t.c, fid, &r);
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, fid, frightsReadAny);
	uint16_t kw = 0;
	if (ec == ecSuccess)
		ec = keywords_id(mb, NULL, t.c, &kw);
	ARRAY(struct store_imap_msg) v;
	array_init(&v, pool);
	if (ec == ecSuccess) {
		/* A mailbox whose messages never had keywords skips the join
		 * (one index lookup per message less). */
		static const char *const q[2][2] = {
			{IMAP_LIST_COLS("NULL") " FROM messages m" IMAP_LIST_RANGE,
				IMAP_LIST_COLS("NULL") " FROM messages m" IMAP_LIST_CHANGED},
			{IMAP_LIST_COLS("k.value") IMAP_LIST_KW IMAP_LIST_RANGE,
				IMAP_LIST_COLS("k.value") IMAP_LIST_KW IMAP_LIST_CHANGED},
		};
		sqlite3_stmt *st = store_db_prep(t.c, q[kw != 0][changedsince != 0]);
		sqlite3_bind_int(st, 1, kw != 0 ? kw : -1);
		sqlite3_bind_int64(st, 2, (int64_t)fid);
		sqlite3_bind_int64(st, 3, uid_lo);
		sqlite3_bind_int64(st, 4, uid_hi != 0 ? uid_hi : UINT32_MAX);
		sqlite3_bind_int64(st, 5, (int64_t)changedsince);
		int rc;
		while (ec == ecSuccess && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct store_imap_msg *m = array_push_new(&v);
			m->uid = (uint32_t)sqlite3_column_int64(st, 0);
			m->mid = store_id((uint64_t)sqlite3_column_int64(st, 1));
			m->modseq = (uint64_t)sqlite3_column_int64(st, 2);
			struct store_imap_mapi mm;
			row_mapi(st, &mm);
			m->flags = store_imap_flags_get(&mm);
			m->internal_date = (uint64_t)sqlite3_column_int64(st, 8);
			m->size = (uint64_t)sqlite3_column_int64(st, 9);
			m->store_size = m->size;
			if (sqlite3_column_bytes(st, 10) == 32) {
				m->has_mime = true;
				memcpy(m->mime.sha256, sqlite3_column_blob(st, 10), 32);
				m->mime.size = (uint64_t)sqlite3_column_int64(st, 11);
				m->size = m->mime.size;
			}
			ec = row_keywords(st, pool, &m->keywords, &m->n_keywords);
		}
		if (ec == ecSuccess && rc != SQLITE_DONE)
			ec = store_db_ec(t.c, rc, "imap list");
		sqlite3_reset(st);
	}
	store_rtx_end(&t);
	if (ec == ecSuccess) {
		*msgs_r = v.v;
		*count_r = (uint32_t)v.n;
	}
	return ec;
}

/* One column of the message with key (uid or mid) in folder fid: sql
 * selects it with ?1 the folder and ?2 the key. ecNotFound. */
static uint32_t imap_lookup(struct store_mailbox *mb, mapi_id_t fid_id, const char *sql,
	int64_t key, int64_t *value_r)
{
	struct rtx t;
	uint32_t ec = store_rtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	sqlite3_stmt *st = store_db_prep(t.c, sql);
	sqlite3_bind_int64(st, 1, (int64_t)store_gc(fid_id));
	sqlite3_bind_int64(st, 2, key);
	if (sqlite3_step(st) == SQLITE_ROW)
		*value_r = sqlite3_column_int64(st, 0);
	else
		ec = ecNotFound;
	sqlite3_reset(st);
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, store_gc(fid_id), frightsReadAny);
	store_rtx_end(&t);
	return ec;
}

uint32_t store_imap_uid_to_mid(struct store_mailbox *mb, mapi_id_t fid_id, uint32_t uid,
	mapi_id_t *mid_r)
{
	int64_t v;
	uint32_t ec = imap_lookup(mb, fid_id, "SELECT mid FROM messages WHERE fid = ?1 AND uid = ?2",
		uid, &v);
	if (ec == ecSuccess)
		*mid_r = store_id((uint64_t)v);
	return ec;
}

uint32_t store_imap_mid_to_uid(struct store_mailbox *mb, mapi_id_t fid_id, mapi_id_t mid,
	uint32_t *uid_r)
{
	int64_t v;
	uint32_t ec = imap_lookup(mb, fid_id, "SELECT uid FROM messages WHERE mid = ?2 AND fid = ?1",
		(int64_t)store_gc(mid), &v);
	if (ec == ecSuccess)
		*uid_r = (uint32_t)v;
	return ec;
}

static bool kw_has(char **v, uint32_t n, const char *k)
{
	for (uint32_t i = 0; i < n; i++)
		if (str_casecmp(v[i], k) == 0)
			return true;
	return false;
}

static bool kw_same(char **a, uint32_t na, char **b, uint32_t nb)
{
	if (na != nb)
		return false;
	for (uint32_t i = 0; i < na; i++)
		if (!kw_has(b, nb, a[i]))
			return false;
	return true;
}

static void bind_opt(sqlite3_stmt *st, int idx, int32_t v)
{
	if (v < 0)
		sqlite3_bind_null(st, idx);
	else
		sqlite3_bind_int64(st, idx, v);
}

uint32_t store_imap_store(struct store_mailbox *mb, mapi_id_t fid_id, const uint32_t *uids,
	uint32_t count, enum store_imap_op op, uint32_t flags, const char *const *keywords,
	uint32_t n_keywords, uint64_t unchangedsince, pool_t *pool, uint32_t **modified_r,
	uint32_t *n_modified_r)
{
	uint64_t fid = store_gc(fid_id);
	if ((uids == NULL && count > 0) || (keywords == NULL && n_keywords > 0) ||
		(flags & ~STORE_IMAP_ALL) != 0 || op > STORE_IMAP_REMOVE)
		return ecInvalidParam;
	for (uint32_t i = 0; i < n_keywords; i++) {
		uint32_t bit;
		if (keywords[i] == NULL || store_imap_flag_parse(keywords[i], &bit) != 0)
			return ecInvalidParam;
	}
	if (n_keywords > mb->store->set.max_mv_count)
		return ecTooBig;
	ARRAY(uint32_t) modified;
	array_init(&modified, pool);
	struct wtx t;
	uint32_t ec = store_wtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct folder_row r;
	uint32_t rights = 0;
	ec = store_folder_row(t.c, fid, &r);
	if (ec == ecSuccess)
		ec = store_acl_rights(mb, t.c, fid, &rights);
	if (ec == ecSuccess && !(rights & frightsReadAny))
		ec = ecAccessDenied;
	uint16_t kw = 0;
	if (ec == ecSuccess)
		ec = keywords_id(mb, (n_keywords > 0 || op == STORE_IMAP_REPLACE) ? &t : NULL, t.c, &kw);
	uint64_t cn = 0;
	if (ec == ecSuccess && count > 0)
		ec = store_alloc_cn(&t, &cn);
	pool_t *rp = pool_new("imap store", 0);
	struct buf scratch;
	buf_init(&scratch, rp);
	for (uint32_t i = 0; ec == ecSuccess && i < count; i++) {
		pool_clear(rp);
		buf_init(&scratch, rp);
		sqlite3_stmt *st = store_db_prep(t.c, IMAP_SELECT " WHERE m.fid = ? AND m.uid = ?"
								  " AND m.fai = 0");
		sqlite3_bind_int(st, 1, kw != 0 ? kw : -1);
		sqlite3_bind_int64(st, 2, (int64_t)fid);
		sqlite3_bind_int64(st, 3, uids[i]);
		int rc = sqlite3_step(st);
		if (rc != SQLITE_ROW) {
			sqlite3_reset(st);
			if (rc != SQLITE_DONE)
				ec = store_db_ec(t.c, rc, "imap store");
			continue;
		}
		uint64_t modseq = (uint64_t)sqlite3_column_int64(st, 2);
		int64_t id = sqlite3_column_int64(st, 13);
		uint64_t mid = (uint64_t)sqlite3_column_int64(st, 1);
		struct store_imap_mapi old;
		row_mapi(st, &old);
		char **okw;
		uint32_t nokw;
		ec = row_keywords(st, rp, &okw, &nokw);
		sqlite3_reset(st);
		if (ec != ecSuccess)
			break;
		if (unchangedsince > 0 && modseq > unchangedsince) {
			array_push(&modified, uids[i]);
			continue;
		}
		/* The new IMAP state. */
		uint32_t of = store_imap_flags_get(&old);
		uint32_t nf = op == STORE_IMAP_REPLACE ? flags : op == STORE_IMAP_ADD ? of | flags
										     : of & ~flags;
		ARRAY(char *) nkw;
		array_init(&nkw, rp);
		if (op != STORE_IMAP_REPLACE)
			for (uint32_t k = 0; k < nokw; k++)
				if (op != STORE_IMAP_REMOVE ||
					!kw_has((char **)keywords, n_keywords, okw[k]))
					array_push(&nkw, okw[k]);
		if (op != STORE_IMAP_REMOVE)
			for (uint32_t k = 0; k < n_keywords; k++)
				if (!kw_has(nkw.v, (uint32_t)nkw.n, keywords[k]))
					array_push(&nkw, pool_strdup(rp, keywords[k]));
		struct store_imap_mapi nm = old;
		store_imap_flags_set(&nm, nf);
		bool read_changed = (old.message_flags ^ nm.message_flags) & MSGFLAG_READ;
		bool kw_changed = !kw_same(okw, nokw, nkw.v, (uint32_t)nkw.n);
		bool content = ((old.message_flags ^ nm.message_flags) & ~MSGFLAG_READ) != 0 ||
			old.flag_status != nm.flag_status || old.last_verb != nm.last_verb ||
			old.icon_index != nm.icon_index || kw_changed;
		bool sf_changed = old.store_flags != nm.store_flags;
		if (!read_changed && !content && !sf_changed)
			continue;
		/* Content changes take a new change number and change key (ICS
		 * sees them); the read state has its own; store flags only
		 * IMAP sees. */
		if (content) {
			sqlite3_stmt *q = store_db_prep(t.c, "SELECT pcl FROM messages WHERE id = ?");
			sqlite3_bind_int64(q, 1, id);
			struct buf pcl;
			buf_init(&pcl, rp);
			uint8_t xid[22];
			store_xid(mb->m, cn, xid);
			if (sqlite3_step(q) == SQLITE_ROW)
				store_pcl_merge(sqlite3_column_blob(q, 0), (size_t)sqlite3_column_bytes(q, 0),
					xid, &pcl);
			sqlite3_reset(q);
			q = store_db_prep(t.c, "UPDATE messages SET cn = ?, pcl = ?, modified = ?"
					       " WHERE id = ?");
			sqlite3_bind_int64(q, 1, (int64_t)cn);
			sqlite3_bind_blob(q, 2, pcl.data, (int)pcl.len, SQLITE_TRANSIENT);
			sqlite3_bind_int64(q, 3, (int64_t)store_now_filetime());
			sqlite3_bind_int64(q, 4, id);
			ec = store_db_step_done(t.c, q);
		}
		if (ec == ecSuccess) {
			sqlite3_stmt *q = store_db_prep(t.c,
				"UPDATE messages SET flags = ?, store_flags = ?, flag_status = ?,"
				" last_verb = ?, icon_index = ?,"
				" read_cn = CASE WHEN ? THEN ? ELSE read_cn END,"
				" imap_cn = CASE WHEN ? THEN ? ELSE imap_cn END WHERE id = ?");
			sqlite3_bind_int64(q, 1, nm.message_flags);
			sqlite3_bind_int64(q, 2, nm.store_flags);
			bind_opt(q, 3, nm.flag_status);
			bind_opt(q, 4, nm.last_verb);
			bind_opt(q, 5, nm.icon_index);
			sqlite3_bind_int(q, 6, read_changed);
			sqlite3_bind_int64(q, 7, (int64_t)cn);
			sqlite3_bind_int(q, 8, sf_changed);
			sqlite3_bind_int64(q, 9, (int64_t)cn);
			sqlite3_bind_int64(q, 10, id);
			ec = store_db_step_done(t.c, q);
		}
		if (ec == ecSuccess && kw_changed) {
			sqlite3_stmt *q;
			if (nkw.n == 0) {
				q = store_db_prep(t.c, "DELETE FROM message_props WHERE id = ? AND propid = ?");
				sqlite3_bind_int64(q, 1, id);
				sqlite3_bind_int(q, 2, kw);
			} else {
				union mapi_pvalue v = {.mv = {.count = (uint32_t)nkw.n, .str = nkw.v}};
				q = store_db_prep(t.c, "INSERT OR REPLACE INTO message_props (id, propid,"
						       " type, value) VALUES (?, ?, ?, ?)");
				sqlite3_bind_int64(q, 1, id);
				sqlite3_bind_int(q, 2, kw);
				sqlite3_bind_int(q, 3, PT_MV_UNICODE);
				store_bind_value(q, 4, PROP_TAG(PT_MV_UNICODE, kw), &v, &scratch);
			}
			ec = store_db_step_done(t.c, q);
		}
		if (ec == ecSuccess && read_changed)
			ec = store_folder_counts(&t, fid, 0,
				(nm.message_flags & MSGFLAG_READ) ? -1 : 1, 0, 0);
		if (ec == ecSuccess) {
			struct store_event ev = {.type = STORE_EVENT_MODIFIED,
				.is_message = true,
				.fid = fid_id,
				.mid = store_id(mid),
				.uid = uids[i],
				.cn = cn,
				.message_flags = nm.message_flags};
			store_event_queue(&t, &ev);
		}
	}
	pool_free(&rp);
	ec = store_wtx_end(&t, ec);
	if (ec == ecSuccess && modified_r != NULL) {
		*modified_r = modified.v;
		*n_modified_r = (uint32_t)modified.n;
	}
	return ec;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

uint32_t store_imap_expunge(struct store_mailbox *mb, mapi_id_t fid_id, const uint32_t *uids,
	uint32_t count, pool_t *pool, uint32_t **expunged_r, uint32_t *n_r)
{
	uint64_t fid = store_gc(fid_id);
	if (uids == NULL && count > 0)
		return ecInvalidParam;
	struct wtx t;
	uint32_t ec = store_wtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct folder_row r;
	uint32_t rights = 0;
	ec = store_folder_row(t.c, fid, &r);
	if (ec == ecSuccess)
		ec = store_acl_rights(mb, t.c, fid, &rights);
	ARRAY(int64_t) ids;
	ARRAY(uint32_t) out;
	array_init(&ids, pool);
	array_init(&out, pool);
	if (ec == ecSuccess) {
		/* The partial index: the planner would read the folder. */
		sqlite3_stmt *st = store_db_prep(t.c, "SELECT id, uid, creator FROM messages"
						      " INDEXED BY messages_imap_deleted"
						      " WHERE fid = ? AND fai = 0 AND (store_flags & 1) != 0"
						      " ORDER BY uid");
		sqlite3_bind_int64(st, 1, (int64_t)fid);
		while (sqlite3_step(st) == SQLITE_ROW) {
			uint32_t uid = (uint32_t)sqlite3_column_int64(st, 1);
			if (uids != NULL) {
				bool listed = false;
				for (uint32_t i = 0; i < count && !listed; i++)
					listed = uids[i] == uid;
				if (!listed)
					continue;
			}
			const char *creator = (const char *)sqlite3_column_text(st, 2);
			if (!store_may_delete(mb, rights, creator))
				continue;
			array_push(&ids, sqlite3_column_int64(st, 0));
			array_push(&out, uid);
		}
		sqlite3_reset(st);
	}
	uint64_t cn = 0;
	if (ec == ecSuccess && ids.n > 0)
		ec = store_alloc_cn(&t, &cn);
	for (size_t i = 0; ec == ecSuccess && i < ids.n; i++)
		ec = store_msg_remove(&t, ids.v[i], true, cn, true);
	ec = store_wtx_end(&t, ec);
	if (ec == ecSuccess) {
		qsort(out.v, out.n, sizeof(uint32_t), cmp_u32);
		*expunged_r = out.v;
		*n_r = (uint32_t)out.n;
	}
	return ec;
}

uint32_t store_imap_vanished(struct store_mailbox *mb, mapi_id_t fid_id, uint64_t modseq,
	pool_t *pool, uint32_t **uids_r, uint32_t *n_r, bool *reset_r)
{
	uint64_t fid = store_gc(fid_id);
	struct rtx t;
	uint32_t ec = store_rtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct folder_row r;
	ec = store_folder_row(t.c, fid, &r);
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, fid, frightsReadAny);
	ARRAY(uint32_t) out;
	array_init(&out, pool);
	if (ec == ecSuccess) {
		if (reset_r != NULL)
			*reset_r = modseq > 0 && modseq < tombstone_floor(t.c);
		sqlite3_stmt *st = store_db_prep(t.c, "SELECT uid FROM tombstones WHERE fid = ?"
						      " AND cn > ? AND fai = 0 AND uid IS NOT NULL"
						      " ORDER BY uid");
		sqlite3_bind_int64(st, 1, (int64_t)fid);
		sqlite3_bind_int64(st, 2, (int64_t)modseq);
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			array_push(&out, (uint32_t)sqlite3_column_int64(st, 0));
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			ec = store_db_ec(t.c, rc, "vanished");
	}
	store_rtx_end(&t);
	if (ec == ecSuccess) {
		*uids_r = out.v;
		*n_r = (uint32_t)out.n;
	}
	return ec;
}
