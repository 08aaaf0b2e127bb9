/* Folders (MS-OXCFOLD): create, open, properties, move, copy, delete,
 * empty, counts. */
#include <string.h>

#include "core/log.h"
#include "core/utf.h"
#include "core/xalloc.h"
#include "store/acl.h"
#include "store/store_int.h"

/* Properties the store computes for folders (read-only). */
static const uint32_t folder_computed[] = {
	PR_FOLDER_ID,
	PR_PARENT_FOLDER_ID,
	PR_ENTRYID,
	PR_PARENT_ENTRYID,
	PR_RECORD_KEY,
	PR_SOURCE_KEY,
	PR_PARENT_SOURCE_KEY,
	PR_CHANGE_KEY,
	PR_PREDECESSOR_CHANGE_LIST,
	PR_CHANGE_NUMBER,
	PR_DISPLAY_NAME,
	PR_FOLDER_TYPE,
	PR_CONTENT_COUNT,
	PR_CONTENT_UNREAD,
	PR_ASSOC_CONTENT_COUNT,
	PR_FOLDER_CHILD_COUNT,
	PR_SUBFOLDERS,
	PR_MESSAGE_SIZE_EXTENDED,
	PR_RIGHTS,
	PR_ACCESS,
	PR_ACCESS_LEVEL,
	PR_OBJECT_TYPE,
	PR_CREATION_TIME,
	PR_LAST_MODIFICATION_TIME,
	PR_HIERARCHY_CHANGE_NUM,
};
#define N_FOLDER_COMPUTED (sizeof(folder_computed) / sizeof(folder_computed[0]))

uint32_t store_folder_row(struct dbconn *c, uint64_t fid, struct folder_row *r)
{
	if (fid == 0)
		return ecNotFound;
	sqlite3_stmt *st = store_db_prep(c,
		"SELECT parent, type, special, cn, n_msgs, n_unread, n_fai, size"
		" FROM folders WHERE fid = ?");
	sqlite3_bind_int64(st, 1, (int64_t)fid);
	int rc = sqlite3_step(st);
	uint32_t ec = ecSuccess;
	if (rc == SQLITE_ROW) {
		r->fid = fid;
		r->parent = (uint64_t)sqlite3_column_int64(st, 0);
		r->type = sqlite3_column_int(st, 1);
		r->special = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 2);
		r->cn = (uint64_t)sqlite3_column_int64(st, 3);
		r->n_msgs = (uint32_t)sqlite3_column_int64(st, 4);
		r->n_unread = (uint32_t)sqlite3_column_int64(st, 5);
		r->n_fai = (uint32_t)sqlite3_column_int64(st, 6);
		r->size = (uint64_t)sqlite3_column_int64(st, 7);
	} else {
		ec = rc == SQLITE_DONE ? ecNotFound : store_db_ec(c, rc, "folder row");
	}
	sqlite3_reset(st);
	return ec;
}

static uint32_t check_name(const char *name)
{
	if (name == NULL || name[0] == '\0')
		return ecInvalidParam;
	size_t n = strlen(name);
	if (n > STORE_MAX_FOLDER_NAME || !utf8_valid(name, n))
		return ecInvalidParam;
	return ecSuccess;
}

/* Writes one folder property row (and its blob reference). */
static uint32_t folder_prop_put(struct wtx *t, uint64_t fid, const struct sprop *sp,
	struct buf *scratch)
{
	sqlite3_stmt *st = store_db_prep(t->c,
		"INSERT OR REPLACE INTO folder_props (fid, propid, type, value, blob)"
		" VALUES (?, ?, ?, ?, ?)");
	sqlite3_bind_int64(st, 1, (int64_t)fid);
	sqlite3_bind_int(st, 2, PROP_ID(sp->tag));
	sqlite3_bind_int(st, 3, PROP_TYPE(sp->tag));
	if (sp->in_blob) {
		sqlite3_bind_int64(st, 4, (int64_t)sp->blob.size);
		sqlite3_bind_blob(st, 5, sp->blob.sha256, 32, SQLITE_TRANSIENT);
	} else {
		store_bind_value(st, 4, sp->tag, &sp->v, scratch);
	}
	return store_db_step_done(t->c, st);
}

static uint32_t folder_blob_refs(struct wtx *t, uint64_t fid)
{
	sqlite3_stmt *st = store_db_prep(t->c, "DELETE FROM blob_refs WHERE owner = ?");
	sqlite3_bind_int64(st, 1, -(int64_t)fid);
	uint32_t ec = store_db_step_done(t->c, st);
	if (ec != ecSuccess)
		return ec;
	st = store_db_prep(t->c, "INSERT INTO blob_refs (owner, part, sha)"
				 " SELECT ?, 0, blob FROM folder_props"
				 " WHERE fid = ? AND blob IS NOT NULL");
	sqlite3_bind_int64(st, 1, -(int64_t)fid);
	sqlite3_bind_int64(st, 2, (int64_t)fid);
	return store_db_step_done(t->c, st);
}

/* Loads a folder's stored properties (not the computed ones). */
static uint32_t folder_load_props(struct dbconn *c, uint64_t fid, pool_t *pool,
	struct sprops *p)
{
	array_init(&p->a, pool);
	sqlite3_stmt *st =
		store_db_prep(c, "SELECT propid, type, value, blob FROM folder_props WHERE fid = ?");
	sqlite3_bind_int64(st, 1, (int64_t)fid);
	int rc;
	uint32_t ec = ecSuccess;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sprop sp = {.tag = PROP_TAG(sqlite3_column_int(st, 1),
					   sqlite3_column_int(st, 0))};
		if (sqlite3_column_type(st, 3) == SQLITE_BLOB && sqlite3_column_bytes(st, 3) == 32) {
			sp.in_blob = true;
			memcpy(sp.blob.sha256, sqlite3_column_blob(st, 3), 32);
			sp.blob.size = (uint64_t)sqlite3_column_int64(st, 2);
		} else if ((ec = store_column_value(st, 2, sp.tag, pool, &sp.v)) != ecSuccess) {
			break;
		}
		array_push(&p->a, sp);
	}
	sqlite3_reset(st);
	if (ec == ecSuccess && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ec = store_db_ec(c, rc, "folder props");
	return ec;
}

uint32_t store_folder_insert(struct wtx *t, uint64_t parent, const char *name,
	enum store_folder_type type, int special, const struct sprops *props, uint64_t *fid_r)
{
	uint32_t ec = check_name(name);
	if (ec != ecSuccess)
		return ec;
	uint64_t fid, cn;
	if ((ec = store_alloc_ids(t, 1, &fid)) != ecSuccess || (ec = store_alloc_cn(t, &cn)) != ecSuccess)
		return ec;
	uint8_t xid[22];
	struct buf pcl;
	buf_init(&pcl, NULL);
	store_xid(t->mb->m, cn, xid);
	store_pcl_merge(NULL, 0, xid, &pcl);
	uint64_t now = store_now_filetime();
	sqlite3_stmt *st = store_db_prep(t->c,
		"INSERT INTO folders (fid, parent, name, type, special, cn, pcl, created, modified,"
		" uidvalidity, uidnext) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)");
	sqlite3_bind_int64(st, 1, (int64_t)fid);
	if (parent != 0)
		sqlite3_bind_int64(st, 2, (int64_t)parent);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 4, type);
	if (special >= 0)
		sqlite3_bind_int(st, 5, special);
	sqlite3_bind_int64(st, 6, (int64_t)cn);
	sqlite3_bind_blob(st, 7, pcl.data, (int)pcl.len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 8, (int64_t)now);
	sqlite3_bind_int64(st, 9, (int64_t)now);
	/* RFC 3501 2.3.1.1: UIDVALIDITY must change when a name is reused for
	 * a new folder; FIDs are never reused, so the FID's low bits do. */
	uint32_t uidvalidity = (uint32_t)fid;
	sqlite3_bind_int64(st, 10, uidvalidity != 0 ? uidvalidity : 1);
	buf_deinit(&pcl);
	ec = store_db_step_done(t->c, st);
	if (ec != ecSuccess)
		return ec; /* ecDuplicateName from the unique (parent, name) index */
	struct buf scratch;
	buf_init(&scratch, NULL);
	bool blobs = false;
	for (size_t i = 0; props != NULL && i < props->a.n && ec == ecSuccess; i++) {
		ec = folder_prop_put(t, fid, &props->a.v[i], &scratch);
		blobs |= props->a.v[i].in_blob;
	}
	buf_deinit(&scratch);
	if (ec == ecSuccess && blobs)
		ec = folder_blob_refs(t, fid);
	if (ec != ecSuccess)
		return ec;
	struct store_event ev = {.type = STORE_EVENT_CREATED,
		.fid = store_id(fid),
		.parent = parent != 0 ? store_id(parent) : 0,
		.cn = cn};
	store_event_queue(t, &ev);
	*fid_r = fid;
	return ecSuccess;
}

/* New change number, PCL and modification time for a folder. */
uint32_t store_folder_touch(struct wtx *t, uint64_t fid)
{
	uint64_t cn;
	uint32_t ec = store_alloc_cn(t, &cn);
	if (ec != ecSuccess)
		return ec;
	sqlite3_stmt *st = store_db_prep(t->c, "SELECT pcl, parent FROM folders WHERE fid = ?");
	sqlite3_bind_int64(st, 1, (int64_t)fid);
	struct buf pcl;
	buf_init(&pcl, NULL);
	uint8_t xid[22];
	store_xid(t->mb->m, cn, xid);
	uint64_t parent = 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		store_pcl_merge(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), xid,
			&pcl);
		parent = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	st = store_db_prep(t->c, "UPDATE folders SET cn = ?, pcl = ?, modified = ? WHERE fid = ?");
	sqlite3_bind_int64(st, 1, (int64_t)cn);
	sqlite3_bind_blob(st, 2, pcl.data, (int)pcl.len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (int64_t)store_now_filetime());
	sqlite3_bind_int64(st, 4, (int64_t)fid);
	buf_deinit(&pcl);
	ec = store_db_step_done(t->c, st);
	if (ec != ecSuccess)
		return ec;
	struct store_event ev = {.type = STORE_EVENT_MODIFIED,
		.fid = store_id(fid),
		.parent = parent != 0 ? store_id(parent) : 0,
		.cn = cn};
	store_event_queue(t, &ev);
	return ecSuccess;
}

uint32_t store_folder_create(struct store_mailbox *mb, mapi_id_t parent_id, const char *name,
	enum store_folder_type type, const struct mapi_propvals *props, uint32_t flags,
	mapi_id_t *fid_r)
{
	uint64_t parent = store_gc(parent_id);
	uint32_t ec = check_name(name);
	if (ec != ecSuccess)
		return ec;
	if (type != STORE_FOLDER_GENERIC && type != STORE_FOLDER_SEARCH)
		return ecInvalidParam;
	if ((flags & ~STORE_CREATE_OPEN_IF_EXISTS) != 0)
		return ecUnknownFlags;
	pool_t *pool = pool_new("folder create", 0);
	struct sprops sp;
	array_init(&sp.a, pool);
	if (props != NULL) {
		/* Validate now: a bad property fails the whole create. */
		ec = store_props_set(mb->store, &sp, pool, props, folder_computed,
			N_FOLDER_COMPUTED, NULL);
		if (ec != ecSuccess) {
			pool_free(&pool);
			return ec;
		}
	}
	struct wtx t;
	ec = store_wtx_begin(mb, &t);
	if (ec != ecSuccess) {
		pool_free(&pool);
		return ec;
	}
	struct folder_row pr;
	uint64_t fid = 0;
	ec = store_folder_row(t.c, parent, &pr);
	if (ec == ecSuccess && pr.type == STORE_FOLDER_SEARCH)
		ec = ecNotSupported; /* MS-OXCFOLD: no subfolders in search folders */
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, parent, frightsCreateSubfolder);
	if (ec == ecSuccess) {
		ec = store_folder_insert(&t, parent, name, type, -1, &sp, &fid);
		if (ec == ecDuplicateName && (flags & STORE_CREATE_OPEN_IF_EXISTS)) {
			/* The unique-name failure left nothing behind; look it up. */
			sqlite3_stmt *st = store_db_prep(t.c,
				"SELECT fid FROM folders WHERE parent = ? AND name = ?");
			sqlite3_bind_int64(st, 1, (int64_t)parent);
			sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW) {
				fid = (uint64_t)sqlite3_column_int64(st, 0);
				ec = ecSuccess;
			}
			sqlite3_reset(st);
		}
	}
	ec = store_wtx_end(&t, ec);
	pool_free(&pool);
	if (ec == ecSuccess)
		*fid_r = store_id(fid);
	return ec;
}

uint32_t store_folder_find(struct store_mailbox *mb, mapi_id_t parent_id, const char *name,
	mapi_id_t *fid_r)
{
	if (name == NULL)
		return ecInvalidParam;
	struct rtx t;
	uint32_t ec = store_rtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	uint64_t parent = store_gc(parent_id);
	struct folder_row pr;
	ec = store_folder_row(t.c, parent, &pr);
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, parent, frightsVisible);
	if (ec == ecSuccess) {
		sqlite3_stmt *st =
			store_db_prep(t.c, "SELECT fid FROM folders WHERE parent = ? AND name = ?");
		sqlite3_bind_int64(st, 1, (int64_t)parent);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			*fid_r = store_id((uint64_t)sqlite3_column_int64(st, 0));
		else
			ec = ecNotFound;
		sqlite3_reset(st);
	}
	store_rtx_end(&t);
	return ec;
}

uint32_t store_folder_find_path(struct store_mailbox *mb, mapi_id_t parent, const char *path,
	char sep, mapi_id_t *fid_r)
{
	mapi_id_t cur = parent;
	const char *p = path;
	while (p != NULL && *p != '\0') {
		const char *e = strchr(p, sep);
		size_t n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n > 0) {
			char *comp = xstrndup(p, n);
			uint32_t ec = store_folder_find(mb, cur, comp, &cur);
			free(comp);
			if (ec != ecSuccess)
				return ec;
		}
		p = e != NULL ? e + 1 : NULL;
	}
	*fid_r = cur;
	return ecSuccess;
}

uint32_t store_folder_open(struct store_mailbox *mb, mapi_id_t fid)
{
	struct rtx t;
	uint32_t ec = store_rtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct folder_row r;
	ec = store_folder_row(t.c, store_gc(fid), &r);
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, r.fid, frightsVisible);
	store_rtx_end(&t);
	return ec;
}

/* --- get props --- */

struct fctx {
	struct store_mailbox *mb;
	struct dbconn *c;
	struct folder_row r;
	char *name;
	uint64_t created, modified;
	const uint8_t *pcl;
	size_t pcl_len;
	uint32_t rights;
	bool have_children;
	uint32_t n_children;
	bool search_counted;
	uint32_t s_total, s_unread;
};

static void bin_out(struct mapi_propval *o, uint32_t tag, pool_t *pool, const void *p, size_t n)
{
	o->tag = tag;
	o->v.bin.cb = (uint32_t)n;
	o->v.bin.pb = pool_memdup(pool, p, n);
}

static void search_counts(struct fctx *f)
{
	if (f->search_counted)
		return;
	f->search_counted = true;
	if (store_search_counts(f->mb, f->c, f->r.fid, &f->s_total, &f->s_unread) != ecSuccess)
		f->s_total = f->s_unread = 0;
}

static void children(struct fctx *f)
{
	if (f->have_children)
		return;
	f->have_children = true;
	sqlite3_stmt *st = store_db_prep(f->c, "SELECT count(*) FROM folders WHERE parent = ?");
	sqlite3_bind_int64(st, 1, (int64_t)f->r.fid);
	if (sqlite3_step(st) == SQLITE_ROW)
		f->n_children = (uint32_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
}

static int folder_compute(void *ctx, uint32_t tag, pool_t *pool, struct mapi_propval *o)
{
	struct fctx *f = ctx;
	struct mailbox *m = f->mb->m;
	uint8_t xid[22];
	struct buf b;
	o->tag = tag;
	switch (PROP_ID(tag)) {
	case PROP_ID(PR_FOLDER_ID):
		o->tag = PR_FOLDER_ID;
		o->v.li = (int64_t)store_id(f->r.fid);
		return 1;
	case PROP_ID(PR_PARENT_FOLDER_ID):
		o->tag = PR_PARENT_FOLDER_ID;
		o->v.li = f->r.parent != 0 ? (int64_t)store_id(f->r.parent) : 0;
		return 1;
	case PROP_ID(PR_ENTRYID):
	case PROP_ID(PR_RECORD_KEY):
		buf_init(&b, pool);
		store_eid_folder(m, f->r.fid, &b);
		o->tag = PROP_ID(tag) == PROP_ID(PR_ENTRYID) ? PR_ENTRYID : PR_RECORD_KEY;
		o->v.bin.cb = (uint32_t)b.len;
		o->v.bin.pb = b.data;
		return 1;
	case PROP_ID(PR_PARENT_ENTRYID):
		if (f->r.parent == 0)
			return -1;
		buf_init(&b, pool);
		store_eid_folder(m, f->r.parent, &b);
		o->tag = PR_PARENT_ENTRYID;
		o->v.bin.cb = (uint32_t)b.len;
		o->v.bin.pb = b.data;
		return 1;
	case PROP_ID(PR_SOURCE_KEY):
		store_xid(m, f->r.fid, xid);
		bin_out(o, PR_SOURCE_KEY, pool, xid, 22);
		return 1;
	case PROP_ID(PR_PARENT_SOURCE_KEY):
		if (f->r.parent == 0) {
			bin_out(o, PR_PARENT_SOURCE_KEY, pool, "", 0);
			return 1;
		}
		store_xid(m, f->r.parent, xid);
		bin_out(o, PR_PARENT_SOURCE_KEY, pool, xid, 22);
		return 1;
	case PROP_ID(PR_CHANGE_KEY):
		store_xid(m, f->r.cn, xid);
		bin_out(o, PR_CHANGE_KEY, pool, xid, 22);
		return 1;
	case PROP_ID(PR_PREDECESSOR_CHANGE_LIST):
		bin_out(o, PR_PREDECESSOR_CHANGE_LIST, pool, f->pcl, f->pcl_len);
		return 1;
	case PROP_ID(PR_CHANGE_NUMBER):
		o->tag = PR_CHANGE_NUMBER;
		o->v.li = (int64_t)store_id(f->r.cn);
		return 1;
	case PROP_ID(PR_DISPLAY_NAME):
		o->tag = PR_DISPLAY_NAME;
		o->v.str = pool_strdup(pool, f->name);
		return 1;
	case PROP_ID(PR_FOLDER_TYPE):
		o->tag = PR_FOLDER_TYPE;
		o->v.l = f->r.type;
		return 1;
	case PROP_ID(PR_CONTENT_COUNT):
		o->tag = PR_CONTENT_COUNT;
		if (f->r.type == STORE_FOLDER_SEARCH) {
			search_counts(f);
			o->v.l = (int32_t)f->s_total;
		} else {
			o->v.l = (int32_t)f->r.n_msgs;
		}
		return 1;
	case PROP_ID(PR_CONTENT_UNREAD):
		o->tag = PR_CONTENT_UNREAD;
		if (f->r.type == STORE_FOLDER_SEARCH) {
			search_counts(f);
			o->v.l = (int32_t)f->s_unread;
		} else {
			o->v.l = (int32_t)f->r.n_unread;
		}
		return 1;
	case PROP_ID(PR_ASSOC_CONTENT_COUNT):
		o->tag = PR_ASSOC_CONTENT_COUNT;
		o->v.l = (int32_t)f->r.n_fai;
		return 1;
	case PROP_ID(PR_FOLDER_CHILD_COUNT):
		children(f);
		o->tag = PR_FOLDER_CHILD_COUNT;
		o->v.l = (int32_t)f->n_children;
		return 1;
	case PROP_ID(PR_SUBFOLDERS):
		children(f);
		o->tag = PR_SUBFOLDERS;
		o->v.b = f->n_children > 0;
		return 1;
	case PROP_ID(PR_MESSAGE_SIZE_EXTENDED):
		o->tag = PR_MESSAGE_SIZE_EXTENDED;
		o->v.li = (int64_t)f->r.size;
		return 1;
	case PROP_ID(PR_RIGHTS):
		o->tag = PR_RIGHTS;
		o->v.l = (int32_t)f->rights;
		return 1;
	case PROP_ID(PR_ACCESS): {
		/* MS-OXCPRPT 2.2.1.1 PidTagAccess bits from the rights. */
		uint32_t a = 0;
		if (f->rights & frightsOwner)
			a |= 0x1 | 0x4; /* modify, delete */
		if (f->rights & (frightsReadAny | frightsVisible))
			a |= 0x2; /* read */
		if (f->rights & frightsCreateSubfolder)
			a |= 0x8; /* create hierarchy */
		if (f->rights & frightsCreate)
			a |= 0x10; /* create contents */
		if (f->rights & frightsOwner)
			a |= 0x20; /* create associated */
		o->tag = PR_ACCESS;
		o->v.l = (int32_t)a;
		return 1;
	}
	case PROP_ID(PR_ACCESS_LEVEL):
		o->tag = PR_ACCESS_LEVEL;
		o->v.l = (f->rights & frightsOwner) ? 1 : 0;
		return 1;
	case PROP_ID(PR_OBJECT_TYPE):
		o->tag = PR_OBJECT_TYPE;
		o->v.l = MAPI_FOLDER;
		return 1;
	case PROP_ID(PR_CREATION_TIME):
		o->tag = PR_CREATION_TIME;
		o->v.ft = f->created;
		return 1;
	case PROP_ID(PR_LAST_MODIFICATION_TIME):
		o->tag = PR_LAST_MODIFICATION_TIME;
		o->v.ft = f->modified;
		return 1;
	case PROP_ID(PR_HIERARCHY_CHANGE_NUM):
		o->tag = PR_HIERARCHY_CHANGE_NUM;
		o->v.l = (int32_t)(f->r.cn & 0x7fffffff);
		return 1;
	default:
		return 0;
	}
}

uint32_t store_folder_props_read(struct store_mailbox *mb, struct dbconn *c, uint64_t fid,
	const struct mapi_tags *tags, pool_t *pool, struct mapi_propvals *out)
{
	struct fctx f = {.mb = mb, .c = c};
	uint32_t ec = store_folder_row(c, fid, &f.r);
	if (ec != ecSuccess)
		return ec;
	if ((ec = store_acl_rights(mb, c, fid, &f.rights)) != ecSuccess)
		return ec;
	if (!(f.rights & frightsVisible))
		return ecAccessDenied;
	sqlite3_stmt *st =
		store_db_prep(c, "SELECT name, created, modified, pcl FROM folders WHERE fid = ?");
	sqlite3_bind_int64(st, 1, (int64_t)fid);
	if (sqlite3_step(st) == SQLITE_ROW) {
		f.name = pool_strdup(pool, (const char *)sqlite3_column_text(st, 0));
		f.created = (uint64_t)sqlite3_column_int64(st, 1);
		f.modified = (uint64_t)sqlite3_column_int64(st, 2);
		f.pcl_len = (size_t)sqlite3_column_bytes(st, 3);
		f.pcl = pool_memdup(pool, sqlite3_column_blob(st, 3), f.pcl_len);
	}
	sqlite3_reset(st);
	struct sprops p;
	ec = folder_load_props(c, fid, pool, &p);
	if (ec != ecSuccess)
		return ec;
	return store_props_get(mb->store, &p, tags, folder_compute, &f, folder_computed,
		N_FOLDER_COMPUTED, pool, out);
}

uint32_t store_folder_get_props(struct store_mailbox *mb, mapi_id_t fid,
	const struct mapi_tags *tags, pool_t *pool, struct mapi_propvals *out)
{
	struct rtx t;
	uint32_t ec = store_rtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	ec = store_folder_props_read(mb, t.c, store_gc(fid), tags, pool, out);
	store_rtx_end(&t);
	return ec;
}

/* --- set / delete props --- */

static uint32_t rename_folder(struct wtx *t, uint64_t fid, uint64_t parent, const char *name)
{
	uint32_t ec = check_name(name);
	if (ec != ecSuccess)
		return ec;
	sqlite3_stmt *st = store_db_prep(t->c,
		"SELECT 1 FROM folders WHERE parent IS ? AND name = ? AND fid != ?");
	if (parent != 0)
		sqlite3_bind_int64(st, 1, (int64_t)parent);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)fid);
	bool dup = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	if (dup)
		return ecDuplicateName;
	st = store_db_prep(t->c, "UPDATE folders SET name = ? WHERE fid = ?");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (int64_t)fid);
	return store_db_step_done(t->c, st);
}

uint32_t store_folder_set_props(struct store_mailbox *mb, mapi_id_t fid_id,
	const struct mapi_propvals *props, struct store_problems *probs)
{
	uint64_t fid = store_gc(fid_id);
	if (props == NULL)
		return ecInvalidParam;
	struct wtx t;
	uint32_t ec = store_wtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	pool_t *pool = pool_new("folder set", 0);
	struct folder_row r;
	struct sprops p;
	ec = store_folder_row(t.c, fid, &r);
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, fid, frightsOwner);
	if (ec == ecSuccess)
		ec = folder_load_props(t.c, fid, pool, &p);
	/* PR_DISPLAY_NAME is a column: handle it apart from the rest. */
	struct mapi_propvals rest = {0, pool_calloc(pool, props->count + 1, sizeof(*rest.vals))};
	uint32_t *rest_index = pool_calloc(pool, props->count + 1, sizeof(uint32_t));
	for (uint32_t i = 0; ec == ecSuccess && i < props->count; i++) {
		const struct mapi_propval *pv = &props->vals[i];
		if (PROP_ID(pv->tag) == PROP_ID(PR_DISPLAY_NAME)) {
			uint32_t e = store_propval_check(&mb->store->set, pv);
			if (e == ecSuccess && store_tag_canon(pv->tag) != PR_DISPLAY_NAME)
				e = ecInvalidParam;
			if (e == ecSuccess && r.parent == 0)
				e = ecAccessDenied;
			if (e == ecSuccess)
				e = rename_folder(&t, fid, r.parent, pv->v.str);
			if (e != ecSuccess) {
				if (probs == NULL)
					ec = e;
				else
					store_problem_add(probs, (uint16_t)i, pv->tag, e);
			}
			continue;
		}
		rest_index[rest.count] = i;
		rest.vals[rest.count++] = *pv;
	}
	size_t before = probs != NULL ? probs->count : 0;
	if (ec == ecSuccess)
		ec = store_props_set(mb->store, &p, pool, &rest, folder_computed, N_FOLDER_COMPUTED,
			probs);
	if (probs != NULL) /* indexes into rest -> into props */
		for (size_t k = before; k < probs->count; k++)
			probs->v[k].index = (uint16_t)rest_index[probs->v[k].index];
	if (ec == ecSuccess) {
		/* Rewrite the set (small for folders) so deletes of replaced
		 * types leave nothing behind. */
		sqlite3_stmt *st = store_db_prep(t.c, "DELETE FROM folder_props WHERE fid = ?");
		sqlite3_bind_int64(st, 1, (int64_t)fid);
		ec = store_db_step_done(t.c, st);
		struct buf scratch;
		buf_init(&scratch, pool);
		for (size_t i = 0; ec == ecSuccess && i < p.a.n; i++)
			ec = folder_prop_put(&t, fid, &p.a.v[i], &scratch);
		if (ec == ecSuccess)
			ec = folder_blob_refs(&t, fid);
	}
	if (ec == ecSuccess)
		ec = store_folder_touch(&t, fid);
	ec = store_wtx_end(&t, ec);
	pool_free(&pool);
	return ec;
}

uint32_t store_folder_delete_props(struct store_mailbox *mb, mapi_id_t fid_id,
	const struct mapi_tags *tags, struct store_problems *probs)
{
	uint64_t fid = store_gc(fid_id);
	if (tags == NULL)
		return ecInvalidParam;
	struct wtx t;
	uint32_t ec = store_wtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	pool_t *pool = pool_new("folder delprops", 0);
	struct folder_row r;
	struct sprops p;
	ec = store_folder_row(t.c, fid, &r);
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, fid, frightsOwner);
	if (ec == ecSuccess)
		ec = folder_load_props(t.c, fid, pool, &p);
	if (ec == ecSuccess)
		ec = store_props_delete(&p, tags, folder_computed, N_FOLDER_COMPUTED, probs);
	for (uint32_t i = 0; ec == ecSuccess && i < tags->count; i++) {
		if (store_tag_in(tags->tags[i], folder_computed, N_FOLDER_COMPUTED))
			continue;
		sqlite3_stmt *st =
			store_db_prep(t.c, "DELETE FROM folder_props WHERE fid = ? AND propid = ?");
		sqlite3_bind_int64(st, 1, (int64_t)fid);
		sqlite3_bind_int(st, 2, PROP_ID(tags->tags[i]));
		ec = store_db_step_done(t.c, st);
	}
	if (ec == ecSuccess)
		ec = folder_blob_refs(&t, fid);
	if (ec == ecSuccess)
		ec = store_folder_touch(&t, fid);
	ec = store_wtx_end(&t, ec);
	pool_free(&pool);
	return ec;
}

/* --- move, copy --- */

/* True if anc is fid or one of its ancestors... i.e. whether fid lies at
 * or below anc. */
static bool is_below(struct dbconn *c, uint64_t fid, uint64_t anc)
{
	for (int guard = 0; fid != 0 && guard < 100000; guard++) {
		if (fid == anc)
			return true;
		struct folder_row r;
		if (store_folder_row(c, fid, &r) != ecSuccess)
			return false;
		fid = r.parent;
	}
	return false;
}

uint32_t store_folder_move(struct store_mailbox *mb, mapi_id_t fid_id, mapi_id_t parent_id,
	const char *new_name)
{
	uint64_t fid = store_gc(fid_id), parent = store_gc(parent_id);
	if (new_name != NULL && check_name(new_name) != ecSuccess)
		return ecInvalidParam;
	struct wtx t;
	uint32_t ec = store_wtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct folder_row r, pr;
	ec = store_folder_row(t.c, fid, &r);
	if (ec == ecSuccess)
		ec = store_folder_row(t.c, parent, &pr);
	if (ec == ecSuccess && r.special >= 0)
		ec = ecAccessDenied;
	if (ec == ecSuccess && pr.type == STORE_FOLDER_SEARCH)
		ec = ecNotSupported;
	if (ec == ecSuccess && is_below(t.c, parent, fid))
		ec = ecFolderCycle;
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, fid, frightsOwner);
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, parent, frightsCreateSubfolder);
	if (ec == ecSuccess) {
		sqlite3_stmt *st = store_db_prep(t.c,
			"UPDATE folders SET parent = ?, name = coalesce(?, name) WHERE fid = ?");
		sqlite3_bind_int64(st, 1, (int64_t)parent);
		if (new_name != NULL)
			sqlite3_bind_text(st, 2, new_name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, (int64_t)fid);
		ec = store_db_step_done(t.c, st);
	}
	if (ec == ecSuccess)
		ec = store_folder_touch(&t, fid);
	if (ec == ecSuccess) {
		/* The touch queued a MODIFIED event; a move is reported as MOVED. */
		struct mailbox *m = mb->m;
		struct store_event *ev = &m->pending.v[m->pending.n - 1];
		ev->type = STORE_EVENT_MOVED;
		ev->parent = store_id(parent);
		ev->old_fid = store_id(fid);
		ev->old_parent = store_id(r.parent);
	}
	return store_wtx_end(&t, ec);
}

static uint32_t copy_folder_rec(struct wtx *t, uint64_t src, uint64_t dst_parent, const char *name,
	bool recursive, int depth, uint64_t *new_r)
{
	if (depth > STORE_MAX_FOLDER_DEPTH)
		return ecTooComplex;
	pool_t *pool = pool_new("folder copy", 0);
	struct sprops p;
	uint32_t ec = folder_load_props(t->c, src, pool, &p);
	char *src_name = NULL;
	int type = STORE_FOLDER_GENERIC;
	if (ec == ecSuccess) {
		sqlite3_stmt *st = store_db_prep(t->c, "SELECT name, type FROM folders WHERE fid = ?");
		sqlite3_bind_int64(st, 1, (int64_t)src);
		if (sqlite3_step(st) == SQLITE_ROW) {
			src_name = pool_strdup(pool, (const char *)sqlite3_column_text(st, 0));
			type = sqlite3_column_int(st, 1);
		} else {
			ec = ecNotFound;
		}
		sqlite3_reset(st);
	}
	uint64_t nf = 0;
	if (ec == ecSuccess)
		ec = store_folder_insert(t, dst_parent, name != NULL ? name : src_name,
			type == STORE_FOLDER_ROOT ? STORE_FOLDER_GENERIC : type, -1, &p, &nf);
	if (ec == ecSuccess && type == STORE_FOLDER_SEARCH) {
		sqlite3_stmt *st = store_db_prep(t->c,
			"UPDATE folders SET (search_res, search_scope, search_flags) ="
			" (SELECT search_res, search_scope, search_flags FROM folders WHERE fid = ?)"
			" WHERE fid = ?");
		sqlite3_bind_int64(st, 1, (int64_t)src);
		sqlite3_bind_int64(st, 2, (int64_t)nf);
		ec = store_db_step_done(t->c, st);
	}
	if (ec == ecSuccess && type != STORE_FOLDER_SEARCH) {
		/* Normal and associated messages. */
		ARRAY(int64_t) ids;
		array_init(&ids, pool);
		sqlite3_stmt *st = store_db_prep(t->c, "SELECT id FROM messages WHERE fid = ?");
		sqlite3_bind_int64(st, 1, (int64_t)src);
		while (sqlite3_step(st) == SQLITE_ROW)
			array_push(&ids, sqlite3_column_int64(st, 0));
		sqlite3_reset(st);
		for (size_t i = 0; i < ids.n && ec == ecSuccess; i++)
			ec = store_msg_copy(t, ids.v[i], nf, NULL, NULL);
	}
	if (ec == ecSuccess && recursive) {
		ARRAY(uint64_t) subs;
		array_init(&subs, pool);
		sqlite3_stmt *st = store_db_prep(t->c, "SELECT fid FROM folders WHERE parent = ?");
		sqlite3_bind_int64(st, 1, (int64_t)src);
		while (sqlite3_step(st) == SQLITE_ROW)
			array_push(&subs, (uint64_t)sqlite3_column_int64(st, 0));
		sqlite3_reset(st);
		for (size_t i = 0; i < subs.n && ec == ecSuccess; i++) {
			uint64_t ignored;
			/* The copy itself may be among the children when copying a
			 * folder into itself: skip it. */
			if (subs.v[i] == nf)
				continue;
			ec = copy_folder_rec(t, subs.v[i], nf, NULL, true, depth + 1, &ignored);
		}
	}
	pool_free(&pool);
	if (ec == ecSuccess)
		*new_r = nf;
	return ec;
}

uint32_t store_folder_copy(struct store_mailbox *mb, mapi_id_t fid_id, mapi_id_t parent_id,
	const char *new_name, bool recursive, mapi_id_t *new_fid_r)
{
	uint64_t fid = store_gc(fid_id), parent = store_gc(parent_id);
	if (new_name != NULL && check_name(new_name) != ecSuccess)
		return ecInvalidParam;
	struct wtx t;
	uint32_t ec = store_wtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct folder_row r, pr;
	ec = store_folder_row(t.c, fid, &r);
	if (ec == ecSuccess)
		ec = store_folder_row(t.c, parent, &pr);
	if (ec == ecSuccess && r.parent == 0)
		ec = ecAccessDenied; /* the root */
	if (ec == ecSuccess && pr.type == STORE_FOLDER_SEARCH)
		ec = ecNotSupported;
	if (ec == ecSuccess && recursive && is_below(t.c, parent, fid) && parent != fid)
		ec = ecFolderCycle;
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, fid, frightsReadAny | frightsVisible);
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, parent, frightsCreateSubfolder);
	uint64_t nf = 0;
	if (ec == ecSuccess)
		ec = copy_folder_rec(&t, fid, parent, new_name, recursive, 0, &nf);
	ec = store_wtx_end(&t, ec);
	if (ec == ecSuccess && new_fid_r != NULL)
		*new_fid_r = store_id(nf);
	return ec;
}

/* --- delete, empty --- */

/* Deletes every message of fid (normal, or associated) leaving tombstones. */
static uint32_t delete_contents(struct wtx *t, uint64_t fid, bool fai, bool tombstones)
{
	pool_t *pool = pool_new("empty", 0);
	ARRAY(int64_t) ids;
	array_init(&ids, pool);
	sqlite3_stmt *st = store_db_prep(t->c, "SELECT id FROM messages WHERE fid = ? AND fai = ?");
	sqlite3_bind_int64(st, 1, (int64_t)fid);
	sqlite3_bind_int(st, 2, fai);
	while (sqlite3_step(st) == SQLITE_ROW)
		array_push(&ids, sqlite3_column_int64(st, 0));
	sqlite3_reset(st);
	uint32_t ec = ecSuccess;
	uint64_t cn = 0;
	if (ids.n > 0 && tombstones)
		ec = store_alloc_cn(t, &cn);
	for (size_t i = 0; i < ids.n && ec == ecSuccess; i++)
		ec = store_msg_remove(t, ids.v[i], tombstones, cn, true);
	pool_free(&pool);
	return ec;
}

static uint32_t delete_folder_rec(struct wtx *t, uint64_t fid, uint64_t cn, int depth)
{
	if (depth > STORE_MAX_FOLDER_DEPTH)
		return ecTooComplex;
	pool_t *pool = pool_new("folder delete", 0);
	ARRAY(uint64_t) subs;
	array_init(&subs, pool);
	sqlite3_stmt *st = store_db_prep(t->c, "SELECT fid FROM folders WHERE parent = ?");
	sqlite3_bind_int64(st, 1, (int64_t)fid);
	while (sqlite3_step(st) == SQLITE_ROW)
		array_push(&subs, (uint64_t)sqlite3_column_int64(st, 0));
	sqlite3_reset(st);
	uint32_t ec = ecSuccess;
	for (size_t i = 0; i < subs.n && ec == ecSuccess; i++)
		ec = delete_folder_rec(t, subs.v[i], cn, depth + 1);
	pool_free(&pool);
	if (ec == ecSuccess)
		ec = delete_contents(t, fid, false, false);
	if (ec == ecSuccess)
		ec = delete_contents(t, fid, true, false);
	struct folder_row r;
	if (ec == ecSuccess)
		ec = store_folder_row(t->c, fid, &r);
	static const char *const sql[] = {
		"DELETE FROM folder_props WHERE fid = ?",
		"DELETE FROM permissions WHERE fid = ?",
		"DELETE FROM tombstones WHERE fid = ?",
		"DELETE FROM folders WHERE fid = ?",
	};
	for (size_t i = 0; i < 4 && ec == ecSuccess; i++) {
		st = store_db_prep(t->c, sql[i]);
		sqlite3_bind_int64(st, 1, (int64_t)fid);
		ec = store_db_step_done(t->c, st);
	}
	if (ec == ecSuccess) {
		st = store_db_prep(t->c, "DELETE FROM blob_refs WHERE owner = ?");
		sqlite3_bind_int64(st, 1, -(int64_t)fid);
		ec = store_db_step_done(t->c, st);
	}
	if (ec == ecSuccess) {
		st = store_db_prep(t->c, "INSERT OR REPLACE INTO folder_tombstones (fid, parent, cn,"
					 " deleted) VALUES (?, ?, ?, ?)");
		sqlite3_bind_int64(st, 1, (int64_t)fid);
		sqlite3_bind_int64(st, 2, (int64_t)r.parent);
		sqlite3_bind_int64(st, 3, (int64_t)cn);
		sqlite3_bind_int64(st, 4, (int64_t)store_now_filetime());
		ec = store_db_step_done(t->c, st);
	}
	if (ec == ecSuccess) {
		struct store_event ev = {.type = STORE_EVENT_DELETED,
			.fid = store_id(fid),
			.parent = store_id(r.parent),
			.cn = cn};
		store_event_queue(t, &ev);
	}
	return ec;
}

uint32_t store_folder_delete(struct store_mailbox *mb, mapi_id_t fid_id, uint32_t flags)
{
	uint64_t fid = store_gc(fid_id);
	if ((flags & ~(STORE_DEL_MESSAGES | STORE_DEL_FOLDERS)) != 0)
		return ecUnknownFlags;
	struct wtx t;
	uint32_t ec = store_wtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct folder_row r;
	ec = store_folder_row(t.c, fid, &r);
	if (ec == ecSuccess && (r.special >= 0 || r.parent == 0))
		ec = ecAccessDenied;
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, fid, frightsOwner);
	if (ec == ecSuccess && !(flags & STORE_DEL_MESSAGES) && (r.n_msgs > 0 || r.n_fai > 0))
		ec = ecFolderHasContents;
	if (ec == ecSuccess && !(flags & STORE_DEL_FOLDERS)) {
		sqlite3_stmt *st = store_db_prep(t.c, "SELECT 1 FROM folders WHERE parent = ?");
		sqlite3_bind_int64(st, 1, (int64_t)fid);
		if (sqlite3_step(st) == SQLITE_ROW)
			ec = ecFolderHasChildren;
		sqlite3_reset(st);
	}
	if (ec == ecSuccess && (flags & STORE_DEL_FOLDERS) && (flags & STORE_DEL_MESSAGES) == 0) {
		/* Subfolders with messages need DEL_MESSAGES too. */
		sqlite3_stmt *st = store_db_prep(t.c,
			"WITH RECURSIVE sub(f) AS (SELECT fid FROM folders WHERE parent = ?"
			" UNION ALL SELECT fid FROM folders, sub WHERE parent = sub.f)"
			" SELECT 1 FROM sub, folders WHERE fid = sub.f AND n_msgs + n_fai > 0");
		sqlite3_bind_int64(st, 1, (int64_t)fid);
		if (sqlite3_step(st) == SQLITE_ROW)
			ec = ecFolderHasContents;
		sqlite3_reset(st);
	}
	if (ec == ecSuccess) {
		/* Any special folder below (moved there by nobody: they cannot
		 * move) would be caught by the parent check; rights on the
		 * subtree are the folder owner's. */
		uint64_t cn;
		ec = store_alloc_cn(&t, &cn);
		if (ec == ecSuccess)
			ec = delete_folder_rec(&t, fid, cn, 0);
	}
	return store_wtx_end(&t, ec);
}

uint32_t store_folder_empty(struct store_mailbox *mb, mapi_id_t fid_id, bool associated)
{
	uint64_t fid = store_gc(fid_id);
	struct wtx t;
	uint32_t ec = store_wtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct folder_row r;
	ec = store_folder_row(t.c, fid, &r);
	if (ec == ecSuccess && r.type == STORE_FOLDER_SEARCH)
		ec = ecNotSupported;
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, fid, frightsDeleteAny);
	if (ec == ecSuccess)
		ec = delete_contents(&t, fid, false, true);
	if (ec == ecSuccess && associated)
		ec = delete_contents(&t, fid, true, true);
	if (ec == ecSuccess) {
		/* RopEmptyFolder also removes the subfolders (MS-OXCFOLD
		 * 2.2.1.9), except special ones. */
		pool_t *pool = pool_new("empty subs", 0);
		ARRAY(uint64_t) subs;
		array_init(&subs, pool);
		sqlite3_stmt *st = store_db_prep(t.c,
			"SELECT fid FROM folders WHERE parent = ? AND special IS NULL");
		sqlite3_bind_int64(st, 1, (int64_t)fid);
		while (sqlite3_step(st) == SQLITE_ROW)
			array_push(&subs, (uint64_t)sqlite3_column_int64(st, 0));
		sqlite3_reset(st);
		uint64_t cn = 0;
		if (subs.n > 0)
			ec = store_alloc_cn(&t, &cn);
		for (size_t i = 0; i < subs.n && ec == ecSuccess; i++)
			ec = delete_folder_rec(&t, subs.v[i], cn, 0);
		pool_free(&pool);
	}
	return store_wtx_end(&t, ec);
}

int store_object_kind(struct store_mailbox *mb, mapi_id_t id, mapi_id_t *fid_r)
{
	uint64_t gc = store_gc(id);
	if (gc == 0)
		return 0;
	struct rtx t;
	if (store_rtx_begin(mb, &t) != ecSuccess)
		return 0;
	int kind = 0;
	sqlite3_stmt *st = store_db_prep(t.c, "SELECT parent FROM folders WHERE fid = ?");
	sqlite3_bind_int64(st, 1, (int64_t)gc);
	if (sqlite3_step(st) == SQLITE_ROW) {
		kind = 1;
		if (fid_r != NULL)
			*fid_r = store_id((uint64_t)sqlite3_column_int64(st, 0));
	}
	sqlite3_reset(st);
	if (kind == 0) {
		st = store_db_prep(t.c, "SELECT fid FROM messages WHERE mid = ?");
		sqlite3_bind_int64(st, 1, (int64_t)gc);
		if (sqlite3_step(st) == SQLITE_ROW) {
			kind = 2;
			if (fid_r != NULL)
				*fid_r = store_id((uint64_t)sqlite3_column_int64(st, 0));
		}
		sqlite3_reset(st);
	}
	store_rtx_end(&t);
	return kind;
}
