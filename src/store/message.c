/* Messages (MS-OXCMSG): the message tree in memory and in the database,
 * open/create/save, properties, recipients, attachments, embedded
 * messages, read flags, move, copy, delete. */
#include <string.h>

#include "core/log.h"
#include "core/utf.h"
#include "core/xalloc.h"
#include "store/acl.h"
#include "mapi/propval.h"
#include "store/message_int.h"

/* Indexed properties: stored in columns of the messages row (for sorting
 * and restrictions in SQL), nowhere else. */
static const struct {
	uint32_t tag;
	const char *col;
} msg_cols[] = {
	{PR_MESSAGE_CLASS, "msg_class"},
	{PR_SUBJECT, "subject"},
	{PR_NORMALIZED_SUBJECT, "norm_subject"},
	{PR_SENDER_NAME, "sender_name"},
	{PR_MESSAGE_DELIVERY_TIME, "delivery_time"},
	{PR_CLIENT_SUBMIT_TIME, "submit_time"},
	{PR_CREATION_TIME, "created"},
	{PR_LAST_MODIFICATION_TIME, "modified"},
	{PR_IMPORTANCE, "importance"},
	{PR_FLAG_STATUS, "flag_status"},
	{PR_ICON_INDEX, "icon_index"},
	{PR_LAST_VERB_EXECUTED, "last_verb"},
};
#define N_MSG_COLS (sizeof(msg_cols) / sizeof(msg_cols[0]))

/* Column order of MSG_SELECT, shared by the loaders. */
#define MSG_SELECT                                                                                 \
	"SELECT id, mid, fid, fai, uid, cn, created_cn, read_cn, pcl, creator, flags,"             \
	" store_flags, size, top, parent_att, mime, mime_size, msg_class, subject, norm_subject,"  \
	" sender_name, delivery_time, submit_time, created, modified, importance, flag_status,"   \
	" icon_index, last_verb FROM messages"
#define MSG_COL0 17 /* first of msg_cols in MSG_SELECT */

/* Computed message properties (read-only to clients). */
static const uint32_t msg_computed[] = {
	PR_MID,
	PR_FOLDER_ID,
	PR_ENTRYID,
	PR_PARENT_ENTRYID,
	PR_RECORD_KEY,
	PR_SOURCE_KEY,
	PR_PARENT_SOURCE_KEY,
	PR_CHANGE_KEY,
	PR_PREDECESSOR_CHANGE_LIST,
	PR_CHANGE_NUMBER,
	PR_MESSAGE_SIZE,
	PR_HASATTACH,
	PR_ACCESS,
	PR_ACCESS_LEVEL,
	PR_OBJECT_TYPE,
	PR_ASSOCIATED,
	PR_INTERNET_ARTICLE_NUMBER,
	PR_READ,
	PR_MESSAGE_FLAGS,
	PR_MESSAGE_RECIPIENTS,
	PR_MESSAGE_ATTACHMENTS,
	PR_STORE_RECORD_KEY,
};
#define N_MSG_COMPUTED (sizeof(msg_computed) / sizeof(msg_computed[0]))

/* PR_ATTACH_DATA_OBJ last: it shares its ID with PR_ATTACH_DATA_BIN, so
 * it is only listed for "get all", never refused on set. */
static const uint32_t att_computed[] = {
	PR_ATTACH_NUM,
	PR_ATTACH_SIZE,
	PR_RECORD_KEY,
	PR_OBJECT_TYPE,
	PR_ACCESS,
	PR_ACCESS_LEVEL,
	PR_ATTACH_DATA_OBJ,
};
#define N_ATT_COMPUTED (sizeof(att_computed) / sizeof(att_computed[0]))

static const uint32_t rcpt_computed[] = {PR_ROWID, PR_INSTANCE_KEY};

const char *store_msg_column(uint32_t tag)
{
	for (size_t i = 0; i < N_MSG_COLS; i++)
		if (msg_cols[i].tag == store_tag_canon(tag))
			return msg_cols[i].col;
	return NULL;
}

bool store_message_computed(uint32_t tag);
uint32_t store_msg_indexed_tag(uint16_t id);
bool store_message_computed(uint32_t tag)
{
	return store_tag_in(tag, msg_computed, N_MSG_COMPUTED);
}

/* The type an indexed property must have; 0 if tag is not indexed. */
static uint32_t col_tag(uint32_t tag)
{
	for (size_t i = 0; i < N_MSG_COLS; i++)
		if (PROP_ID(msg_cols[i].tag) == PROP_ID(tag))
			return msg_cols[i].tag;
	return 0;
}

/* --- handles --- */

struct store_message {
	pool_t *pool;
	struct store_mailbox *mb;
	struct mtree *tree;
	struct msgmeta meta;
	bool is_new, read_write, embedded;
	int depth;
	uint64_t cn_open;
	bool set_modtime; /* the client set PR_LAST_MODIFICATION_TIME since the last save */
	struct store_attach *parent_att; /* embedded: the attachment handle holding it */
	ARRAY(struct store_attach *) open_atts;
};

struct store_attach {
	pool_t *pool;
	struct store_message *msg;
	uint32_t num;
	struct sprops work;
	bool read_write, is_new;
	/* An embedded message saved into this attachment, waiting for
	 * store_attach_save. */
	struct mtree *emb_pending;
	bool emb_set;
	struct store_message *emb_open;
};

static uint64_t sprops_size(const struct sprops *p);

/* --- loading --- */

static uint32_t load_props_rows(struct dbconn *c, pool_t *pool, int64_t id, struct sprops *p)
{
	sqlite3_stmt *st =
		store_db_prep(c, "SELECT propid, type, value, blob FROM message_props WHERE id = ?");
	sqlite3_bind_int64(st, 1, id);
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
		ec = store_db_ec(c, rc, "message props");
	return ec;
}

/* Fills tree and meta from a MSG_SELECT row. */
static uint32_t row_to_tree(sqlite3_stmt *st, pool_t *pool, struct mtree *tree,
	struct msgmeta *meta)
{
	tree->id = sqlite3_column_int64(st, 0);
	meta->mid = (uint64_t)sqlite3_column_int64(st, 1);
	meta->fid = (uint64_t)sqlite3_column_int64(st, 2);
	meta->fai = sqlite3_column_int(st, 3) != 0;
	meta->uid = (uint32_t)sqlite3_column_int64(st, 4);
	meta->cn = (uint64_t)sqlite3_column_int64(st, 5);
	meta->created_cn = (uint64_t)sqlite3_column_int64(st, 6);
	meta->read_cn = (uint64_t)sqlite3_column_int64(st, 7);
	meta->pcl_len = (size_t)sqlite3_column_bytes(st, 8);
	meta->pcl = pool_memdup(pool, sqlite3_column_blob(st, 8), meta->pcl_len);
	const unsigned char *creator = sqlite3_column_text(st, 9);
	meta->creator = creator != NULL ? pool_strdup(pool, (const char *)creator) : NULL;
	tree->flags = (uint32_t)sqlite3_column_int64(st, 10);
	meta->store_flags = (uint32_t)sqlite3_column_int64(st, 11);
	meta->size = (uint64_t)sqlite3_column_int64(st, 12);
	meta->top = sqlite3_column_int64(st, 13);
	meta->parent_att = sqlite3_column_int64(st, 14);
	if (sqlite3_column_bytes(st, 15) == 32) {
		tree->has_mime = true;
		memcpy(tree->mime.sha256, sqlite3_column_blob(st, 15), 32);
		tree->mime.size = (uint64_t)sqlite3_column_int64(st, 16);
	}
	for (size_t i = 0; i < N_MSG_COLS; i++) {
		int col = MSG_COL0 + (int)i;
		if (sqlite3_column_type(st, col) == SQLITE_NULL)
			continue;
		struct sprop sp = {.tag = msg_cols[i].tag};
		uint32_t ec = store_column_value(st, col, sp.tag, pool, &sp.v);
		if (ec != ecSuccess)
			return ec;
		array_push(&tree->props.a, sp);
	}
	return ecSuccess;
}

static struct mtree *mtree_new(pool_t *pool)
{
	struct mtree *t = pool_alloc(pool, sizeof(*t));
	array_init(&t->props.a, pool);
	array_init(&t->rcpts, pool);
	array_init(&t->atts, pool);
	return t;
}

uint32_t store_mtree_load_rcpts(struct dbconn *c, pool_t *pool, struct mtree *tree)
{
	if (tree->rcpts_loaded)
		return ecSuccess;
	array_clear(&tree->rcpts);
	if (tree->id == 0) {
		tree->rcpts_loaded = true;
		return ecSuccess;
	}
	sqlite3_stmt *st =
		store_db_prep(c, "SELECT row, props FROM recipients WHERE msg = ? ORDER BY row");
	sqlite3_bind_int64(st, 1, tree->id);
	int rc;
	uint32_t ec = ecSuccess;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct mrcpt *r = array_push_new(&tree->rcpts);
		r->row = (uint32_t)sqlite3_column_int64(st, 0);
		ec = store_bag_decode(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
			pool, &r->props);
		if (ec != ecSuccess)
			break;
	}
	sqlite3_reset(st);
	if (ec == ecSuccess && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ec = store_db_ec(c, rc, "recipients");
	if (ec == ecSuccess)
		tree->rcpts_loaded = true;
	return ec;
}

uint32_t store_mtree_load_atts(struct dbconn *c, pool_t *pool, struct mtree *tree)
{
	if (tree->atts_loaded)
		return ecSuccess;
	array_clear(&tree->atts);
	tree->next_num = 0;
	if (tree->id == 0) {
		tree->atts_loaded = true;
		return ecSuccess;
	}
	sqlite3_stmt *st = store_db_prep(c,
		"SELECT id, num, size, props FROM attachments WHERE msg = ? ORDER BY num");
	sqlite3_bind_int64(st, 1, tree->id);
	int rc;
	uint32_t ec = ecSuccess;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct matt *a = array_push_new(&tree->atts);
		a->id = sqlite3_column_int64(st, 0);
		a->num = (uint32_t)sqlite3_column_int64(st, 1);
		a->size = (uint64_t)sqlite3_column_int64(st, 2);
		ec = store_bag_decode(sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3),
			pool, &a->props);
		if (ec != ecSuccess)
			break;
		uint64_t own = sprops_size(&a->props);
		a->emb_size_db = a->size > own ? a->size - own : 0;
		if (a->num >= tree->next_num)
			tree->next_num = a->num + 1;
	}
	sqlite3_reset(st);
	if (ec == ecSuccess && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ec = store_db_ec(c, rc, "attachments");
	if (ec == ecSuccess)
		tree->atts_loaded = true;
	return ec;
}

uint32_t store_mtree_load_emb(struct dbconn *c, pool_t *pool, struct matt *att, int depth)
{
	if (att->emb_loaded)
		return ecSuccess;
	att->emb = NULL;
	if (att->id == 0) {
		att->emb_loaded = true;
		return ecSuccess;
	}
	sqlite3_stmt *st = store_db_prep(c, "SELECT id FROM messages WHERE parent_att = ?");
	sqlite3_bind_int64(st, 1, att->id);
	int64_t id = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (id != 0) {
		struct msgmeta meta;
		uint32_t ec = store_mtree_load(c, pool, id, true, depth + 1, &att->emb, &meta);
		if (ec != ecSuccess)
			return ec;
	}
	att->emb_loaded = true;
	return ecSuccess;
}

uint32_t store_mtree_load(struct dbconn *c, pool_t *pool, int64_t id, bool full, int depth,
	struct mtree **tree_r, struct msgmeta *meta_r)
{
	if (depth > 64)
		return ecCorruptData;
	struct mtree *tree = mtree_new(pool);
	memset(meta_r, 0, sizeof(*meta_r));
	sqlite3_stmt *st = store_db_prep(c, MSG_SELECT " WHERE id = ?");
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	uint32_t ec;
	if (rc == SQLITE_ROW)
		ec = row_to_tree(st, pool, tree, meta_r);
	else
		ec = rc == SQLITE_DONE ? ecNotFound : store_db_ec(c, rc, "message");
	sqlite3_reset(st);
	if (ec == ecSuccess)
		ec = load_props_rows(c, pool, id, &tree->props);
	if (ec == ecSuccess && full) {
		ec = store_mtree_load_rcpts(c, pool, tree);
		if (ec == ecSuccess)
			ec = store_mtree_load_atts(c, pool, tree);
		for (size_t i = 0; ec == ecSuccess && i < tree->atts.n; i++)
			ec = store_mtree_load_emb(c, pool, &tree->atts.v[i], depth);
	}
	if (ec == ecSuccess)
		*tree_r = tree;
	return ec;
}

static void sprops_copy(pool_t *pool, struct sprops *dst, const struct sprops *src)
{
	array_init(&dst->a, pool);
	for (size_t i = 0; i < src->a.n; i++) {
		struct sprop *d = array_push_new(&dst->a);
		d->tag = src->a.v[i].tag;
		d->in_blob = src->a.v[i].in_blob;
		d->blob = src->a.v[i].blob;
		if (!d->in_blob)
			store_propval_copy(pool, d->tag, &src->a.v[i].v, &d->v);
	}
}

struct mtree *store_mtree_copy(pool_t *pool, const struct mtree *src)
{
	struct mtree *t = mtree_new(pool);
	t->id = src->id;
	sprops_copy(pool, &t->props, &src->props);
	t->flags = src->flags;
	t->has_mime = src->has_mime;
	t->mime = src->mime;
	t->rcpts_loaded = src->rcpts_loaded;
	t->rcpts_dirty = src->rcpts_dirty;
	for (size_t i = 0; i < src->rcpts.n; i++) {
		struct mrcpt *r = array_push_new(&t->rcpts);
		r->row = src->rcpts.v[i].row;
		sprops_copy(pool, &r->props, &src->rcpts.v[i].props);
	}
	t->atts_loaded = src->atts_loaded;
	t->next_num = src->next_num;
	for (size_t i = 0; i < src->atts.n; i++) {
		const struct matt *sa = &src->atts.v[i];
		struct matt *a = array_push_new(&t->atts);
		*a = *sa;
		sprops_copy(pool, &a->props, &sa->props);
		a->emb = sa->emb != NULL ? store_mtree_copy(pool, sa->emb) : NULL;
	}
	return t;
}

/* --- sizes --- */

static uint64_t sprops_size(const struct sprops *p)
{
	uint64_t n = 0;
	for (size_t i = 0; i < p->a.n; i++)
		n += store_propval_size(&p->a.v[i]) + 8;
	return n;
}

static uint64_t att_size(const struct matt *a)
{
	uint64_t n = sprops_size(&a->props);
	if (!a->emb_loaded)
		n += a->emb_size_db;
	else if (a->emb != NULL)
		n += store_mtree_size(NULL, a->emb);
	return n;
}

uint64_t store_mtree_size(struct dbconn *c, const struct mtree *tree)
{
	uint64_t n = sprops_size(&tree->props);
	if (tree->has_mime)
		n += tree->mime.size;
	if (tree->rcpts_loaded) {
		for (size_t i = 0; i < tree->rcpts.n; i++)
			n += sprops_size(&tree->rcpts.v[i].props);
	} else if (c != NULL && tree->id != 0) {
		sqlite3_stmt *st = store_db_prep(c,
			"SELECT coalesce(sum(length(props)), 0) FROM recipients WHERE msg = ?");
		sqlite3_bind_int64(st, 1, tree->id);
		if (sqlite3_step(st) == SQLITE_ROW)
			n += (uint64_t)sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	if (tree->atts_loaded) {
		for (size_t i = 0; i < tree->atts.n; i++) {
			const struct matt *a = &tree->atts.v[i];
			if (a->deleted)
				continue;
			n += att_size(a);
		}
	} else if (c != NULL && tree->id != 0) {
		sqlite3_stmt *st = store_db_prep(c,
			"SELECT coalesce(sum(size), 0) FROM attachments WHERE msg = ?");
		sqlite3_bind_int64(st, 1, tree->id);
		if (sqlite3_step(st) == SQLITE_ROW)
			n += (uint64_t)sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	return n;
}

static bool tree_has_atts(struct dbconn *c, const struct mtree *tree)
{
	if (tree->atts_loaded) {
		for (size_t i = 0; i < tree->atts.n; i++)
			if (!tree->atts.v[i].deleted)
				return true;
		return false;
	}
	if (tree->id == 0)
		return false;
	sqlite3_stmt *st = store_db_prep(c, "SELECT 1 FROM attachments WHERE msg = ? LIMIT 1");
	sqlite3_bind_int64(st, 1, tree->id);
	bool r = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return r;
}

/* --- writing --- */

static void add_blob_ref(struct wtx *t, int64_t owner, int64_t part, const uint8_t sha[32])
{
	sqlite3_stmt *st =
		store_db_prep(t->c, "INSERT INTO blob_refs (owner, part, sha) VALUES (?, ?, ?)");
	sqlite3_bind_int64(st, 1, owner);
	sqlite3_bind_int64(st, 2, part);
	sqlite3_bind_blob(st, 3, sha, 32, SQLITE_TRANSIENT);
	store_db_step_done(t->c, st);
}

static uint32_t clear_blob_refs(struct wtx *t, int64_t part)
{
	sqlite3_stmt *st = store_db_prep(t->c, "DELETE FROM blob_refs WHERE part = ?");
	sqlite3_bind_int64(st, 1, part);
	return store_db_step_done(t->c, st);
}

static void sprops_blob_refs(struct wtx *t, int64_t owner, int64_t part, const struct sprops *p)
{
	for (size_t i = 0; i < p->a.n; i++)
		if (p->a.v[i].in_blob)
			add_blob_ref(t, owner, part, p->a.v[i].blob.sha256);
}

/* Writes the message's non-indexed properties as rows. */
static uint32_t write_prop_rows(struct wtx *t, int64_t id, const struct sprops *p, bool fresh,
	struct buf *scratch)
{
	sqlite3_stmt *st;
	uint32_t ec = ecSuccess;
	if (!fresh) {
		st = store_db_prep(t->c, "DELETE FROM message_props WHERE id = ?");
		sqlite3_bind_int64(st, 1, id);
		ec = store_db_step_done(t->c, st);
	}
	for (size_t i = 0; ec == ecSuccess && i < p->a.n; i++) {
		const struct sprop *sp = &p->a.v[i];
		if (store_msg_column(sp->tag) != NULL)
			continue;
		st = store_db_prep(t->c, "INSERT INTO message_props (id, propid, type, value, blob)"
					 " VALUES (?, ?, ?, ?, ?)");
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int(st, 2, PROP_ID(sp->tag));
		sqlite3_bind_int(st, 3, PROP_TYPE(sp->tag));
		if (sp->in_blob) {
			sqlite3_bind_int64(st, 4, (int64_t)sp->blob.size);
			sqlite3_bind_blob(st, 5, sp->blob.sha256, 32, SQLITE_TRANSIENT);
		} else {
			store_bind_value(st, 4, sp->tag, &sp->v, scratch);
		}
		ec = store_db_step_done(t->c, st);
	}
	return ec;
}

static uint32_t write_rcpts(struct wtx *t, int64_t id, int64_t top, const struct mtree *tree,
	bool fresh, struct buf *scratch)
{
	sqlite3_stmt *st;
	uint32_t ec = ecSuccess;
	if (!fresh) {
		st = store_db_prep(t->c, "DELETE FROM recipients WHERE msg = ?");
		sqlite3_bind_int64(st, 1, id);
		ec = store_db_step_done(t->c, st);
	}
	for (size_t i = 0; ec == ecSuccess && i < tree->rcpts.n; i++) {
		buf_reset(scratch);
		store_bag_encode(&tree->rcpts.v[i].props, scratch);
		st = store_db_prep(t->c,
			"INSERT INTO recipients (msg, top, row, props) VALUES (?, ?, ?, ?)");
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, top);
		sqlite3_bind_int64(st, 3, tree->rcpts.v[i].row);
		sqlite3_bind_blob(st, 4, scratch->data, (int)scratch->len, SQLITE_TRANSIENT);
		ec = store_db_step_done(t->c, st);
	}
	return ec;
}

static void bind_columns(sqlite3_stmt *st, int first, const struct mtree *tree,
	struct buf *scratch)
{
	for (size_t i = 0; i < N_MSG_COLS; i++) {
		struct sprop *sp = store_sprops_find((struct sprops *)&tree->props, msg_cols[i].tag);
		if (sp != NULL && !sp->in_blob && PROP_TYPE(sp->tag) == PROP_TYPE(msg_cols[i].tag))
			store_bind_value(st, first + (int)i, sp->tag, &sp->v, scratch);
	}
}

static uint32_t delete_emb_under(struct wtx *t, int64_t att_id, int depth);

/* Deletes one message row of an embedded tree and everything under it. */
static uint32_t delete_msg_rows(struct wtx *t, int64_t id, int depth)
{
	if (depth > 64)
		return ecCorruptData;
	ARRAY(int64_t) atts;
	array_init(&atts, NULL);
	sqlite3_stmt *st = store_db_prep(t->c, "SELECT id FROM attachments WHERE msg = ?");
	sqlite3_bind_int64(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW)
		array_push(&atts, sqlite3_column_int64(st, 0));
	sqlite3_reset(st);
	uint32_t ec = ecSuccess;
	for (size_t i = 0; i < atts.n && ec == ecSuccess; i++) {
		ec = delete_emb_under(t, atts.v[i], depth + 1);
		if (ec == ecSuccess)
			ec = clear_blob_refs(t, -atts.v[i]);
	}
	array_free(&atts);
	static const char *const sql[] = {
		"DELETE FROM attachments WHERE msg = ?",
		"DELETE FROM recipients WHERE msg = ?",
		"DELETE FROM message_props WHERE id = ?",
		"DELETE FROM blob_refs WHERE part = ?",
		"DELETE FROM messages WHERE id = ?",
	};
	for (size_t i = 0; i < 5 && ec == ecSuccess; i++) {
		st = store_db_prep(t->c, sql[i]);
		sqlite3_bind_int64(st, 1, id);
		ec = store_db_step_done(t->c, st);
	}
	return ec;
}

static uint32_t delete_emb_under(struct wtx *t, int64_t att_id, int depth)
{
	sqlite3_stmt *st = store_db_prep(t->c, "SELECT id FROM messages WHERE parent_att = ?");
	sqlite3_bind_int64(st, 1, att_id);
	int64_t id = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return id != 0 ? delete_msg_rows(t, id, depth) : ecSuccess;
}

static uint32_t insert_att(struct wtx *t, int64_t msg_id, int64_t top, struct matt *a,
	struct buf *scratch, int64_t *id_r);

/* Writes an attachment's row (insert or update) and its embedded message. */
static uint32_t write_att(struct wtx *t, int64_t msg_id, int64_t top, struct matt *a,
	struct buf *scratch)
{
	if (a->deleted) {
		if (a->id == 0)
			return ecSuccess;
		uint32_t ec = delete_emb_under(t, a->id, 0);
		if (ec == ecSuccess)
			ec = clear_blob_refs(t, -a->id);
		if (ec == ecSuccess) {
			sqlite3_stmt *st = store_db_prep(t->c, "DELETE FROM attachments WHERE id = ?");
			sqlite3_bind_int64(st, 1, a->id);
			ec = store_db_step_done(t->c, st);
		}
		return ec;
	}
	if (a->id == 0)
		return insert_att(t, msg_id, top, a, scratch, &a->id);
	if (!a->dirty && !a->emb_dirty)
		return ecSuccess;
	a->size = att_size(a);
	buf_reset(scratch);
	store_bag_encode(&a->props, scratch);
	sqlite3_stmt *st =
		store_db_prep(t->c, "UPDATE attachments SET props = ?, size = ? WHERE id = ?");
	sqlite3_bind_blob(st, 1, scratch->data, (int)scratch->len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (int64_t)a->size);
	sqlite3_bind_int64(st, 3, a->id);
	uint32_t ec = store_db_step_done(t->c, st);
	if (ec == ecSuccess)
		ec = clear_blob_refs(t, -a->id);
	if (ec == ecSuccess)
		sprops_blob_refs(t, top, -a->id, &a->props);
	if (ec == ecSuccess && a->emb_dirty) {
		ec = delete_emb_under(t, a->id, 0);
		if (ec == ecSuccess && a->emb != NULL) {
			struct msgmeta meta = {.top = top, .parent_att = a->id};
			int64_t eid;
			ec = store_mtree_insert(t, a->emb, &meta, &eid);
		}
	}
	return ec;
}

static uint32_t insert_att(struct wtx *t, int64_t msg_id, int64_t top, struct matt *a,
	struct buf *scratch, int64_t *id_r)
{
	a->size = att_size(a);
	buf_reset(scratch);
	store_bag_encode(&a->props, scratch);
	sqlite3_stmt *st = store_db_prep(t->c,
		"INSERT INTO attachments (msg, top, num, size, props) VALUES (?, ?, ?, ?, ?)");
	sqlite3_bind_int64(st, 1, msg_id);
	sqlite3_bind_int64(st, 2, top);
	sqlite3_bind_int64(st, 3, a->num);
	sqlite3_bind_int64(st, 4, (int64_t)a->size);
	sqlite3_bind_blob(st, 5, scratch->data, (int)scratch->len, SQLITE_TRANSIENT);
	uint32_t ec = store_db_step_done(t->c, st);
	if (ec != ecSuccess)
		return ec;
	int64_t aid = sqlite3_last_insert_rowid(t->c->db);
	sprops_blob_refs(t, top, -aid, &a->props);
	if (a->emb != NULL) {
		struct msgmeta meta = {.top = top, .parent_att = aid};
		int64_t eid;
		ec = store_mtree_insert(t, a->emb, &meta, &eid);
	}
	if (ec == ecSuccess)
		*id_r = aid;
	return ec;
}

static uint32_t insert_row(struct wtx *t, int64_t id, const struct mtree *tree,
	const struct msgmeta *meta, struct buf *scratch)
{
	sqlite3_stmt *st = store_db_prep(t->c,
		"INSERT INTO messages (id, mid, fid, top, parent_att, fai, uid, cn, created_cn,"
		" read_cn, pcl, creator, flags, store_flags, size, has_attach, mime, mime_size,"
		" msg_class, subject, norm_subject, sender_name, delivery_time, submit_time, created,"
		" modified, importance, flag_status, icon_index, last_verb) VALUES (?, ?, ?, ?, ?, ?,"
		" ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	sqlite3_bind_int64(st, 1, id);
	if (meta->mid != 0)
		sqlite3_bind_int64(st, 2, (int64_t)meta->mid);
	if (meta->fid != 0)
		sqlite3_bind_int64(st, 3, (int64_t)meta->fid);
	sqlite3_bind_int64(st, 4, meta->top != 0 ? meta->top : id);
	if (meta->parent_att != 0)
		sqlite3_bind_int64(st, 5, meta->parent_att);
	sqlite3_bind_int(st, 6, meta->fai);
	if (meta->uid != 0)
		sqlite3_bind_int64(st, 7, meta->uid);
	sqlite3_bind_int64(st, 8, (int64_t)meta->cn);
	sqlite3_bind_int64(st, 9, (int64_t)meta->created_cn);
	sqlite3_bind_int64(st, 10, (int64_t)meta->read_cn);
	if (meta->pcl_len > 0)
		sqlite3_bind_blob(st, 11, meta->pcl, (int)meta->pcl_len, SQLITE_TRANSIENT);
	if (meta->creator != NULL)
		sqlite3_bind_text(st, 12, meta->creator, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 13, tree->flags);
	sqlite3_bind_int64(st, 14, meta->store_flags);
	sqlite3_bind_int64(st, 15, (int64_t)meta->size);
	sqlite3_bind_int(st, 16, (tree->flags & MSGFLAG_HASATTACH) != 0);
	if (tree->has_mime) {
		sqlite3_bind_blob(st, 17, tree->mime.sha256, 32, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 18, (int64_t)tree->mime.size);
	}
	bind_columns(st, 19, tree, scratch);
	return store_db_step_done(t->c, st);
}

uint32_t store_mtree_insert(struct wtx *t, struct mtree *tree, struct msgmeta *meta,
	int64_t *id_r)
{
	/* A top-level message's row id is its MID (both from the global
	 * counter); embedded messages draw their own value. */
	uint64_t id = meta->mid;
	uint32_t ec = ecSuccess;
	if (meta->top != 0 || id == 0)
		ec = store_alloc_ids(t, 1, &id);
	if (ec != ecSuccess)
		return ec;
	int64_t top = meta->top != 0 ? meta->top : (int64_t)id;
	bool has_atts = false;
	for (size_t i = 0; i < tree->atts.n; i++)
		has_atts |= !tree->atts.v[i].deleted;
	tree->flags = has_atts ? tree->flags | MSGFLAG_HASATTACH : tree->flags & ~MSGFLAG_HASATTACH;
	meta->size = store_mtree_size(NULL, tree);
	struct buf scratch;
	buf_init(&scratch, NULL);
	ec = insert_row(t, (int64_t)id, tree, meta, &scratch);
	if (ec == ecSuccess)
		ec = write_prop_rows(t, (int64_t)id, &tree->props, true, &scratch);
	if (ec == ecSuccess && tree->rcpts.n > 0)
		ec = write_rcpts(t, (int64_t)id, top, tree, true, &scratch);
	for (size_t i = 0; ec == ecSuccess && i < tree->atts.n; i++) {
		struct matt *a = &tree->atts.v[i];
		if (a->deleted)
			continue;
		int64_t aid;
		ec = insert_att(t, (int64_t)id, top, a, &scratch, &aid);
	}
	buf_deinit(&scratch);
	if (ec != ecSuccess)
		return ec;
	sprops_blob_refs(t, top, (int64_t)id, &tree->props);
	if (tree->has_mime)
		add_blob_ref(t, top, (int64_t)id, tree->mime.sha256);
	*id_r = (int64_t)id;
	return ecSuccess;
}

/* --- counters --- */

uint32_t store_folder_counts(struct wtx *t, uint64_t fid, int d_msgs, int d_unread, int d_fai,
	int64_t d_size)
{
	sqlite3_stmt *st = store_db_prep(t->c,
		"UPDATE folders SET n_msgs = n_msgs + ?, n_unread = n_unread + ?, n_fai = n_fai + ?,"
		" size = size + ? WHERE fid = ?");
	sqlite3_bind_int(st, 1, d_msgs);
	sqlite3_bind_int(st, 2, d_unread);
	sqlite3_bind_int(st, 3, d_fai);
	sqlite3_bind_int64(st, 4, d_size);
	sqlite3_bind_int64(st, 5, (int64_t)fid);
	return store_db_step_done(t->c, st);
}

/* Adds delta to the mailbox size, refusing growth over the hard quota. */
uint32_t store_mailbox_grow(struct wtx *t, int64_t delta)
{
	if (delta == 0)
		return ecSuccess;
	struct mailbox *m = t->mb->m;
	if (!m->size_loaded) {
		int64_t size = 0;
		uint32_t ec = store_meta_get_int(t->c, "size", &size);
		if (ec != ecSuccess)
			return ec;
		m->size = size;
		m->size_loaded = true;
	}
	uint64_t hard = t->mb->quota_hard;
	if (delta > 0 && hard > 0 && (uint64_t)(m->size + delta) > hard)
		return ecQuotaExceeded;
	m->size = m->size + delta < 0 ? 0 : m->size + delta;
	m->size_dirty = true;
	return ecSuccess;
}

uint32_t store_next_uid(struct wtx *t, uint64_t fid, uint32_t *uid_r)
{
	sqlite3_stmt *st = store_db_prep(t->c,
		"UPDATE folders SET uidnext = uidnext + 1 WHERE fid = ? RETURNING uidnext - 1");
	sqlite3_bind_int64(st, 1, (int64_t)fid);
	int rc = sqlite3_step(st);
	uint32_t ec = ecSuccess;
	if (rc == SQLITE_ROW) {
		int64_t uid = sqlite3_column_int64(st, 0);
		/* RFC 3501 2.3.1.1: UIDs are 32-bit; past that, the folder would
		 * need a new UIDVALIDITY. */
		if (uid <= 0 || uid > UINT32_MAX)
			ec = ecNotEnoughResources;
		else
			*uid_r = (uint32_t)uid;
	} else {
		ec = rc == SQLITE_DONE ? ecNotFound : store_db_ec(t->c, rc, "uidnext");
	}
	sqlite3_reset(st);
	return ec;
}

/* --- create / open / close --- */

static struct store_message *msg_new(struct store_mailbox *mb)
{
	pool_t *pool = pool_new("message", 0);
	struct store_message *msg = pool_alloc(pool, sizeof(*msg));
	msg->pool = pool;
	msg->mb = mb;
	array_init(&msg->open_atts, NULL);
	return msg;
}

uint32_t store_message_create(struct store_mailbox *mb, mapi_id_t fid_id, uint32_t flags,
	struct store_message **msg_r)
{
	uint64_t fid = store_gc(fid_id);
	if ((flags & ~STORE_MSG_ASSOCIATED) != 0)
		return ecUnknownFlags;
	struct rtx t;
	uint32_t ec = store_rtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct folder_row r;
	ec = store_folder_row(t.c, fid, &r);
	if (ec == ecSuccess && r.type == STORE_FOLDER_SEARCH)
		ec = ecNotSupported;
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, fid, frightsCreate);
	store_rtx_end(&t);
	if (ec != ecSuccess)
		return ec;
	struct store_message *msg = msg_new(mb);
	msg->tree = mtree_new(msg->pool);
	msg->tree->rcpts_loaded = msg->tree->atts_loaded = true;
	msg->is_new = true;
	msg->read_write = true;
	msg->meta.fid = fid;
	msg->meta.fai = (flags & STORE_MSG_ASSOCIATED) != 0;
	msg->meta.creator = mb->principal != NULL ? pool_strdup(msg->pool, mb->principal) : NULL;
	/* MS-OXCMSG 3.2.5.2: a new message is unsent and read until told
	 * otherwise; FAI messages carry mfFAI. */
	msg->tree->flags = MSGFLAG_READ | MSGFLAG_UNSENT;
	if (msg->meta.fai)
		msg->tree->flags |= MSGFLAG_ASSOCIATED;
	*msg_r = msg;
	return ecSuccess;
}

bool store_may_edit(struct store_mailbox *mb, uint32_t rights, const char *creator)
{
	if (rights & frightsEditAny)
		return true;
	return (rights & frightsEditOwned) && creator != NULL && mb->principal != NULL &&
		strcmp(creator, mb->principal) == 0;
}

bool store_may_delete(struct store_mailbox *mb, uint32_t rights, const char *creator)
{
	if (rights & frightsDeleteAny)
		return true;
	return (rights & frightsDeleteOwned) && creator != NULL && mb->principal != NULL &&
		strcmp(creator, mb->principal) == 0;
}

/* Row id of a top-level message in fid; ecNotFound. */
uint32_t store_find_msg(struct dbconn *c, uint64_t fid, uint64_t mid, int64_t *id_r)
{
	if (mid == 0)
		return ecNotFound;
	sqlite3_stmt *st = store_db_prep(c, "SELECT id, fid FROM messages WHERE mid = ?");
	sqlite3_bind_int64(st, 1, (int64_t)mid);
	uint32_t ec = ecNotFound;
	if (sqlite3_step(st) == SQLITE_ROW && (uint64_t)sqlite3_column_int64(st, 1) == fid) {
		*id_r = sqlite3_column_int64(st, 0);
		ec = ecSuccess;
	}
	sqlite3_reset(st);
	return ec;
}

uint32_t store_message_open(struct store_mailbox *mb, mapi_id_t fid_id, mapi_id_t mid_id,
	uint32_t flags, struct store_message **msg_r)
{
	uint64_t fid = store_gc(fid_id), mid = store_gc(mid_id);
	if ((flags & ~STORE_OPEN_READ_WRITE) != 0)
		return ecUnknownFlags;
	struct rtx t;
	uint32_t ec = store_rtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	int64_t id = 0;
	uint32_t rights = 0;
	ec = store_find_msg(t.c, fid, mid, &id);
	if (ec == ecSuccess)
		ec = store_acl_rights(mb, t.c, fid, &rights);
	if (ec == ecSuccess && !(rights & frightsReadAny))
		ec = ecAccessDenied;
	struct store_message *msg = NULL;
	if (ec == ecSuccess) {
		msg = msg_new(mb);
		ec = store_mtree_load(t.c, msg->pool, id, false, 0, &msg->tree, &msg->meta);
	}
	if (ec == ecSuccess && (flags & STORE_OPEN_READ_WRITE) &&
		!store_may_edit(mb, rights, msg->meta.creator))
		ec = ecAccessDenied;
	store_rtx_end(&t);
	if (ec != ecSuccess) {
		if (msg != NULL)
			store_message_close(&msg);
		return ec;
	}
	msg->read_write = (flags & STORE_OPEN_READ_WRITE) != 0;
	msg->cn_open = msg->meta.cn;
	*msg_r = msg;
	return ecSuccess;
}

void store_message_close(struct store_message **mp)
{
	struct store_message *msg = *mp;
	if (msg == NULL)
		return;
	*mp = NULL;
	/* Attachment handles still open die with the message. */
	while (msg->open_atts.n > 0) {
		struct store_attach *a = msg->open_atts.v[msg->open_atts.n - 1];
		store_attach_close(&a);
	}
	array_free(&msg->open_atts);
	if (msg->parent_att != NULL)
		msg->parent_att->emb_open = NULL;
	pool_free(&msg->pool);
}

struct store_mailbox *store_message_mailbox(const struct store_message *msg)
{
	return msg->mb;
}

mapi_id_t store_message_mid(const struct store_message *msg)
{
	return msg->meta.mid != 0 ? store_id(msg->meta.mid) : 0;
}

mapi_id_t store_message_fid(const struct store_message *msg)
{
	return msg->meta.fid != 0 ? store_id(msg->meta.fid) : 0;
}

/* --- properties --- */

struct mctx {
	struct store_message *msg;
	struct store_mailbox *mb;
	struct mtree *tree;
	struct msgmeta *meta;
	struct dbconn *c;
	uint32_t rights;
	bool embedded;
};

static void bin_out(struct mapi_propval *o, uint32_t tag, pool_t *pool, const void *p, size_t n)
{
	o->tag = tag;
	o->v.bin.cb = (uint32_t)n;
	o->v.bin.pb = n > 0 ? pool_memdup(pool, p, n) : NULL;
}

static int msg_compute(void *ctx, uint32_t tag, pool_t *pool, struct mapi_propval *o)
{
	struct mctx *x = ctx;
	struct mailbox *m = x->mb->m;
	const struct msgmeta *meta = x->meta;
	uint8_t xid[22];
	struct buf b;
	bool saved = meta->mid != 0 && !x->embedded;
	switch (PROP_ID(tag)) {
	case PROP_ID(PR_MID):
		if (!saved)
			return -1;
		o->tag = PR_MID;
		o->v.li = (int64_t)store_id(meta->mid);
		return 1;
	case PROP_ID(PR_FOLDER_ID):
		if (x->embedded)
			return -1;
		o->tag = PR_FOLDER_ID;
		o->v.li = (int64_t)store_id(meta->fid);
		return 1;
	case PROP_ID(PR_ENTRYID):
	case PROP_ID(PR_RECORD_KEY):
		if (!saved)
			return -1;
		buf_init(&b, pool);
		store_eid_message(m, meta->fid, meta->mid, &b);
		o->tag = PROP_ID(tag) == PROP_ID(PR_ENTRYID) ? PR_ENTRYID : PR_RECORD_KEY;
		o->v.bin.cb = (uint32_t)b.len;
		o->v.bin.pb = b.data;
		return 1;
	case PROP_ID(PR_PARENT_ENTRYID):
		if (x->embedded)
			return -1;
		buf_init(&b, pool);
		store_eid_folder(m, meta->fid, &b);
		o->tag = PR_PARENT_ENTRYID;
		o->v.bin.cb = (uint32_t)b.len;
		o->v.bin.pb = b.data;
		return 1;
	case PROP_ID(PR_SOURCE_KEY):
		if (!saved)
			return -1;
		store_xid(m, meta->mid, xid);
		bin_out(o, PR_SOURCE_KEY, pool, xid, 22);
		return 1;
	case PROP_ID(PR_PARENT_SOURCE_KEY):
		if (x->embedded)
			return -1;
		store_xid(m, meta->fid, xid);
		bin_out(o, PR_PARENT_SOURCE_KEY, pool, xid, 22);
		return 1;
	case PROP_ID(PR_CHANGE_KEY):
		if (!saved)
			return -1;
		store_xid(m, meta->cn, xid);
		bin_out(o, PR_CHANGE_KEY, pool, xid, 22);
		return 1;
	case PROP_ID(PR_PREDECESSOR_CHANGE_LIST):
		if (!saved)
			return -1;
		bin_out(o, PR_PREDECESSOR_CHANGE_LIST, pool, meta->pcl, meta->pcl_len);
		return 1;
	case PROP_ID(PR_CHANGE_NUMBER):
		if (!saved)
			return -1;
		o->tag = PR_CHANGE_NUMBER;
		o->v.li = (int64_t)store_id(meta->cn > meta->read_cn ? meta->cn : meta->read_cn);
		return 1;
	case PROP_ID(PR_MESSAGE_SIZE):
		o->tag = PR_MESSAGE_SIZE;
		o->v.l = (int32_t)(x->msg != NULL ? store_mtree_size(x->c, x->tree) : meta->size);
		return 1;
	case PROP_ID(PR_HASATTACH):
		o->tag = PR_HASATTACH;
		o->v.b = x->msg != NULL ? tree_has_atts(x->c, x->tree)
					: (x->tree->flags & MSGFLAG_HASATTACH) != 0;
		return 1;
	case PROP_ID(PR_MESSAGE_FLAGS): {
		uint32_t f = x->tree->flags;
		if (x->msg != NULL) {
			if (tree_has_atts(x->c, x->tree))
				f |= MSGFLAG_HASATTACH;
			else
				f &= ~MSGFLAG_HASATTACH;
		}
		if (x->msg != NULL && x->msg->is_new)
			f |= MSGFLAG_UNMODIFIED;
		o->tag = PR_MESSAGE_FLAGS;
		o->v.l = (int32_t)f;
		return 1;
	}
	case PROP_ID(PR_READ):
		o->tag = PR_READ;
		o->v.b = (x->tree->flags & MSGFLAG_READ) != 0;
		return 1;
	case PROP_ID(PR_ACCESS): {
		uint32_t a = 0x2; /* read */
		if (store_may_edit(x->mb, x->rights, meta->creator))
			a |= 0x1;
		if (store_may_delete(x->mb, x->rights, meta->creator))
			a |= 0x4;
		o->tag = PR_ACCESS;
		o->v.l = (int32_t)a;
		return 1;
	}
	case PROP_ID(PR_ACCESS_LEVEL):
		o->tag = PR_ACCESS_LEVEL;
		o->v.l = x->msg != NULL && x->msg->read_write ? 1 : 0;
		return 1;
	case PROP_ID(PR_OBJECT_TYPE):
		o->tag = PR_OBJECT_TYPE;
		o->v.l = MAPI_MESSAGE;
		return 1;
	case PROP_ID(PR_ASSOCIATED):
		o->tag = PR_ASSOCIATED;
		o->v.b = meta->fai;
		return 1;
	case PROP_ID(PR_INTERNET_ARTICLE_NUMBER):
		if (meta->uid == 0)
			return -1;
		o->tag = PR_INTERNET_ARTICLE_NUMBER;
		o->v.l = (int32_t)meta->uid;
		return 1;
	case PROP_ID(PR_STORE_RECORD_KEY):
		bin_out(o, PR_STORE_RECORD_KEY, pool, m->guid.b, 16);
		return 1;
	case PROP_ID(PR_MESSAGE_RECIPIENTS):
	case PROP_ID(PR_MESSAGE_ATTACHMENTS):
		/* Objects, opened through their own calls (MS-OXCPRPT). */
		return -1;
	default:
		return 0;
	}
}

uint32_t store_message_get_props(struct store_message *msg, const struct mapi_tags *tags,
	pool_t *pool, struct mapi_propvals *out)
{
	struct rtx t;
	uint32_t ec = store_rtx_begin(msg->mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct mctx x = {.msg = msg,
		.mb = msg->mb,
		.tree = msg->tree,
		.meta = &msg->meta,
		.c = t.c,
		.embedded = msg->embedded};
	if (!msg->embedded && msg->meta.fid != 0)
		store_acl_rights(msg->mb, t.c, msg->meta.fid, &x.rights);
	ec = store_props_get(msg->mb->store, &msg->tree->props, tags, msg_compute, &x, msg_computed,
		N_MSG_COMPUTED, pool, out);
	store_rtx_end(&t);
	return ec;
}

uint32_t store_message_props_read(struct store_mailbox *mb, struct dbconn *c, int64_t id,
	const struct mapi_tags *tags, pool_t *pool, struct mapi_propvals *out)
{
	struct mtree *tree;
	struct msgmeta meta;
	uint32_t ec = store_mtree_load(c, pool, id, false, 0, &tree, &meta);
	if (ec != ecSuccess)
		return ec;
	struct mctx x = {.mb = mb, .tree = tree, .meta = &meta, .c = c};
	store_acl_rights(mb, c, meta.fid, &x.rights);
	return store_props_get(mb->store, &tree->props, tags, msg_compute, &x, msg_computed,
		N_MSG_COMPUTED, pool, out);
}

/* Checks the types of indexed properties; the rest is generic. */
uint32_t store_msg_indexed_tag(uint16_t id)
{
	return col_tag(PROP_TAG(PT_UNSPECIFIED, id));
}

static uint32_t check_indexed(const struct mapi_propval *pv)
{
	uint32_t want = col_tag(pv->tag);
	if (want != 0 && store_tag_canon(pv->tag) != want)
		return ecInvalidParam;
	return ecSuccess;
}

/* Column-backed strings are never blob-stored: bring them back inline. */
static uint32_t unblob_columns(struct store *store, pool_t *pool, struct sprops *p)
{
	for (size_t i = 0; i < p->a.n; i++) {
		struct sprop *sp = &p->a.v[i];
		if (sp->in_blob && store_msg_column(sp->tag) != NULL) {
			uint32_t ec = store_blob_load(store, sp->tag, &sp->blob, pool, &sp->v);
			if (ec != ecSuccess)
				return ec;
			sp->in_blob = false;
		}
	}
	return ecSuccess;
}

uint32_t store_message_set_props(struct store_message *msg, const struct mapi_propvals *props,
	struct store_problems *probs)
{
	if (props == NULL)
		return ecInvalidParam;
	if (!msg->read_write)
		return ecAccessDenied;
	pool_t *tmp = pool_new("msg set", 0);
	struct mapi_propvals rest = {0, pool_calloc(tmp, props->count + 1, sizeof(*rest.vals))};
	uint32_t *rest_index = pool_calloc(tmp, props->count + 1, sizeof(uint32_t));
	uint32_t ec = ecSuccess;
	bool set_flags = false;
	uint32_t new_flags = 0;
	for (uint32_t i = 0; i < props->count; i++) {
		const struct mapi_propval *pv = &props->vals[i];
		uint32_t e = check_indexed(pv);
		if (e == ecSuccess && PROP_ID(pv->tag) == PROP_ID(PR_MESSAGE_FLAGS)) {
			/* Settable until the first save (MS-OXCMSG 2.2.1.6); ignored
			 * afterwards, as Exchange does. */
			if (PROP_TYPE(pv->tag) != PT_LONG)
				e = ecInvalidParam;
			else if (msg->is_new || msg->embedded) {
				set_flags = true;
				new_flags = (uint32_t)pv->v.l;
			}
			if (e == ecSuccess)
				continue;
		}
		if (e != ecSuccess) {
			if (probs == NULL) {
				ec = e;
				break;
			}
			store_problem_add(probs, (uint16_t)i, pv->tag, e);
			continue;
		}
		if (PROP_ID(pv->tag) == PROP_ID(PR_LAST_MODIFICATION_TIME))
			msg->set_modtime = true;
		/* A new subject makes the normalized one stale unless the client
		 * sets that too. */
		if (PROP_ID(pv->tag) == PROP_ID(PR_SUBJECT) &&
			mapi_propvals_get(props, PR_NORMALIZED_SUBJECT) == NULL)
			store_sprops_del(&msg->tree->props, PR_NORMALIZED_SUBJECT);
		rest_index[rest.count] = i;
		rest.vals[rest.count++] = *pv;
	}
	size_t before = probs != NULL ? probs->count : 0;
	if (ec == ecSuccess)
		ec = store_props_set(msg->mb->store, &msg->tree->props, msg->pool, &rest,
			msg_computed, N_MSG_COMPUTED, probs);
	if (probs != NULL)
		for (size_t k = before; k < probs->count; k++)
			probs->v[k].index = (uint16_t)rest_index[probs->v[k].index];
	if (ec == ecSuccess)
		ec = unblob_columns(msg->mb->store, msg->pool, &msg->tree->props);
	if (ec == ecSuccess && set_flags) {
		uint32_t keep = msg->tree->flags & (MSGFLAG_ASSOCIATED | MSGFLAG_HASATTACH);
		msg->tree->flags = (new_flags & ~(MSGFLAG_ASSOCIATED | MSGFLAG_HASATTACH |
							 MSGFLAG_UNMODIFIED)) |
			keep;
	}
	pool_free(&tmp);
	return ec;
}

uint32_t store_message_delete_props(struct store_message *msg, const struct mapi_tags *tags,
	struct store_problems *probs)
{
	if (tags == NULL)
		return ecInvalidParam;
	if (!msg->read_write)
		return ecAccessDenied;
	return store_props_delete(&msg->tree->props, tags, msg_computed, N_MSG_COMPUTED, probs);
}

uint32_t store_message_set_mime(struct store_message *msg, const struct store_blob_ref *ref)
{
	if (!msg->read_write)
		return ecAccessDenied;
	if (ref == NULL)
		return ecInvalidParam;
	/* The blob must exist now; refreshing it also starts its grace
	 * period for the save to come. */
	uint32_t ec = store_blob_pin(msg->mb->store, ref);
	if (ec != ecSuccess)
		return ec == ecNotFound ? ecInvalidParam : ec;
	msg->tree->has_mime = true;
	msg->tree->mime = *ref;
	return ecSuccess;
}

uint32_t store_message_get_mime(struct store_message *msg, struct store_blob_ref *ref_r)
{
	if (!msg->tree->has_mime)
		return ecNotFound;
	*ref_r = msg->tree->mime;
	return ecSuccess;
}

/* --- recipients --- */

static uint32_t need_rcpts(struct store_message *msg)
{
	if (msg->tree->rcpts_loaded)
		return ecSuccess;
	struct rtx t;
	uint32_t ec = store_rtx_begin(msg->mb, &t);
	if (ec != ecSuccess)
		return ec;
	ec = store_mtree_load_rcpts(t.c, msg->pool, msg->tree);
	store_rtx_end(&t);
	return ec;
}

static struct mrcpt *find_rcpt(struct mtree *tree, uint32_t row, size_t *index_r)
{
	for (size_t i = 0; i < tree->rcpts.n; i++) {
		if (tree->rcpts.v[i].row == row) {
			if (index_r != NULL)
				*index_r = i;
			return &tree->rcpts.v[i];
		}
	}
	return NULL;
}

uint32_t store_message_modify_recipients(struct store_message *msg,
	const struct mapi_propvals *rows, uint32_t count)
{
	if (!msg->read_write)
		return ecAccessDenied;
	if (rows == NULL && count > 0)
		return ecInvalidParam;
	uint32_t ec = need_rcpts(msg);
	if (ec != ecSuccess)
		return ec;
	const struct store_settings *s = &msg->mb->store->set;
	/* Validate every row before changing anything. */
	uint32_t adds = 0;
	for (uint32_t i = 0; i < count; i++) {
		const struct mapi_propvals *r = &rows[i];
		bool have_row = false;
		if (r->count > s->max_props_per_object + 1 || (r->count > 0 && r->vals == NULL))
			return ecInvalidParam;
		for (uint32_t k = 0; k < r->count; k++) {
			const struct mapi_propval *pv = &r->vals[k];
			if (PROP_ID(pv->tag) == PROP_ID(PR_ROWID)) {
				if (pv->tag != PR_ROWID)
					return ecInvalidParam;
				have_row = true;
				continue;
			}
			if (PROP_ID(pv->tag) == PROP_ID(PR_INSTANCE_KEY))
				return ecInvalidParam;
			ec = store_propval_check(s, pv);
			if (ec != ecSuccess)
				return ec;
		}
		if (!have_row)
			return ecInvalidParam;
		if (r->count > 1)
			adds++;
	}
	if (msg->tree->rcpts.n + adds > s->max_recipients)
		return ecTooBig;
	for (uint32_t i = 0; i < count; i++) {
		const struct mapi_propvals *r = &rows[i];
		uint32_t row = 0;
		for (uint32_t k = 0; k < r->count; k++)
			if (r->vals[k].tag == PR_ROWID)
				row = (uint32_t)r->vals[k].v.l;
		size_t idx;
		struct mrcpt *rc = find_rcpt(msg->tree, row, &idx);
		if (r->count == 1) {
			/* MS-OXCMSG 2.2.3.5: a row with only its RowId is removed. */
			if (rc != NULL)
				array_delete(&msg->tree->rcpts, idx);
			continue;
		}
		if (rc == NULL) {
			rc = array_push_new(&msg->tree->rcpts);
			rc->row = row;
		}
		array_init(&rc->props.a, msg->pool);
		for (uint32_t k = 0; k < r->count; k++) {
			const struct mapi_propval *pv = &r->vals[k];
			if (pv->tag == PR_ROWID)
				continue;
			struct sprop sp = {.tag = store_tag_canon(pv->tag), .v = pv->v};
			store_sprops_set(&rc->props, msg->pool, &sp);
		}
	}
	/* Keep PR_ROWID order. */
	for (size_t i = 1; i < msg->tree->rcpts.n; i++) {
		struct mrcpt x = msg->tree->rcpts.v[i];
		size_t j = i;
		while (j > 0 && msg->tree->rcpts.v[j - 1].row > x.row) {
			msg->tree->rcpts.v[j] = msg->tree->rcpts.v[j - 1];
			j--;
		}
		msg->tree->rcpts.v[j] = x;
	}
	msg->tree->rcpts_dirty = true;
	return ecSuccess;
}

uint32_t store_message_remove_all_recipients(struct store_message *msg)
{
	if (!msg->read_write)
		return ecAccessDenied;
	array_clear(&msg->tree->rcpts);
	msg->tree->rcpts_loaded = true;
	msg->tree->rcpts_dirty = true;
	return ecSuccess;
}

static int rcpt_compute(void *ctx, uint32_t tag, pool_t *pool, struct mapi_propval *o)
{
	const struct mrcpt *r = ctx;
	switch (PROP_ID(tag)) {
	case PROP_ID(PR_ROWID):
		o->tag = PR_ROWID;
		o->v.l = (int32_t)r->row;
		return 1;
	case PROP_ID(PR_INSTANCE_KEY): {
		uint8_t k[4] = {(uint8_t)r->row, (uint8_t)(r->row >> 8), (uint8_t)(r->row >> 16),
			(uint8_t)(r->row >> 24)};
		bin_out(o, PR_INSTANCE_KEY, pool, k, 4);
		return 1;
	}
	default:
		return 0;
	}
}

uint32_t store_message_get_recipients(struct store_message *msg, pool_t *pool,
	struct mapi_propvals **rows_r, uint32_t *count_r)
{
	uint32_t ec = need_rcpts(msg);
	if (ec != ecSuccess)
		return ec;
	uint32_t n = (uint32_t)msg->tree->rcpts.n;
	struct mapi_propvals *rows = pool_calloc(pool, n ? n : 1, sizeof(*rows));
	for (uint32_t i = 0; i < n; i++) {
		struct mrcpt *r = &msg->tree->rcpts.v[i];
		ec = store_props_get(msg->mb->store, &r->props, NULL, rcpt_compute, r, rcpt_computed,
			2, pool, &rows[i]);
		if (ec != ecSuccess)
			return ec;
	}
	*rows_r = rows;
	*count_r = n;
	return ecSuccess;
}

/* For tables: rows of one message's recipients or attachments. */
uint32_t store_msg_rcpt_rows(struct store_message *msg, const struct mapi_tags *tags,
	pool_t *pool, struct mapi_propvals **rows_r, uint32_t *count_r);
uint32_t store_msg_rcpt_rows(struct store_message *msg, const struct mapi_tags *tags,
	pool_t *pool, struct mapi_propvals **rows_r, uint32_t *count_r)
{
	uint32_t ec = need_rcpts(msg);
	if (ec != ecSuccess)
		return ec;
	uint32_t n = (uint32_t)msg->tree->rcpts.n;
	struct mapi_propvals *rows = pool_calloc(pool, n ? n : 1, sizeof(*rows));
	for (uint32_t i = 0; i < n; i++) {
		struct mrcpt *r = &msg->tree->rcpts.v[i];
		ec = store_props_get(msg->mb->store, &r->props, tags, rcpt_compute, r, rcpt_computed,
			2, pool, &rows[i]);
		if (ec != ecSuccess)
			return ec;
	}
	*rows_r = rows;
	*count_r = n;
	return ecSuccess;
}

/* --- attachments --- */

static uint32_t need_atts(struct store_message *msg)
{
	if (msg->tree->atts_loaded)
		return ecSuccess;
	struct rtx t;
	uint32_t ec = store_rtx_begin(msg->mb, &t);
	if (ec != ecSuccess)
		return ec;
	ec = store_mtree_load_atts(t.c, msg->pool, msg->tree);
	store_rtx_end(&t);
	return ec;
}

static struct matt *find_att(struct mtree *tree, uint32_t num)
{
	for (size_t i = 0; i < tree->atts.n; i++)
		if (tree->atts.v[i].num == num && !tree->atts.v[i].deleted)
			return &tree->atts.v[i];
	return NULL;
}

static size_t live_atts(const struct mtree *tree)
{
	size_t n = 0;
	for (size_t i = 0; i < tree->atts.n; i++)
		n += !tree->atts.v[i].deleted;
	return n;
}

static struct store_attach *att_handle(struct store_message *msg, uint32_t num)
{
	pool_t *pool = pool_new("attach", 0);
	struct store_attach *a = pool_alloc(pool, sizeof(*a));
	a->pool = pool;
	a->msg = msg;
	a->num = num;
	array_init(&a->work.a, pool);
	array_push(&msg->open_atts, a);
	return a;
}

uint32_t store_message_create_attach(struct store_message *msg, struct store_attach **att_r)
{
	if (!msg->read_write)
		return ecAccessDenied;
	uint32_t ec = need_atts(msg);
	if (ec != ecSuccess)
		return ec;
	if (live_atts(msg->tree) >= msg->mb->store->set.max_attachments)
		return ecMaxAttachmentExceeded;
	struct store_attach *a = att_handle(msg, msg->tree->next_num++);
	a->read_write = true;
	a->is_new = true;
	*att_r = a;
	return ecSuccess;
}

uint32_t store_message_open_attach(struct store_message *msg, uint32_t num, uint32_t flags,
	struct store_attach **att_r)
{
	if ((flags & ~STORE_OPEN_READ_WRITE) != 0)
		return ecUnknownFlags;
	if ((flags & STORE_OPEN_READ_WRITE) && !msg->read_write)
		return ecAccessDenied;
	uint32_t ec = need_atts(msg);
	if (ec != ecSuccess)
		return ec;
	struct matt *ma = find_att(msg->tree, num);
	if (ma == NULL)
		return ecNotFound;
	struct store_attach *a = att_handle(msg, num);
	sprops_copy(a->pool, &a->work, &ma->props);
	a->read_write = (flags & STORE_OPEN_READ_WRITE) != 0;
	*att_r = a;
	return ecSuccess;
}

uint32_t store_message_delete_attach(struct store_message *msg, uint32_t num)
{
	if (!msg->read_write)
		return ecAccessDenied;
	uint32_t ec = need_atts(msg);
	if (ec != ecSuccess)
		return ec;
	struct matt *ma = find_att(msg->tree, num);
	if (ma == NULL)
		return ecNotFound;
	ma->deleted = true;
	return ecSuccess;
}

uint32_t store_message_attach_nums(struct store_message *msg, pool_t *pool, uint32_t **nums_r,
	uint32_t *count_r)
{
	uint32_t ec = need_atts(msg);
	if (ec != ecSuccess)
		return ec;
	uint32_t *v = pool_calloc(pool, msg->tree->atts.n + 1, sizeof(uint32_t));
	uint32_t n = 0;
	for (size_t i = 0; i < msg->tree->atts.n; i++)
		if (!msg->tree->atts.v[i].deleted)
			v[n++] = msg->tree->atts.v[i].num;
	*nums_r = v;
	*count_r = n;
	return ecSuccess;
}

uint32_t store_attach_num(const struct store_attach *att)
{
	return att->num;
}

struct actx {
	struct store_attach *att;
	struct matt *ma;
};

static int att_compute(void *ctx, uint32_t tag, pool_t *pool, struct mapi_propval *o)
{
	struct actx *x = ctx;
	uint32_t num = x->att != NULL ? x->att->num : x->ma->num;
	switch (PROP_ID(tag)) {
	case PROP_ID(PR_ATTACH_NUM):
		o->tag = PR_ATTACH_NUM;
		o->v.l = (int32_t)num;
		return 1;
	case PROP_ID(PR_ATTACH_SIZE): {
		uint64_t n;
		if (x->att != NULL) {
			struct matt tmp = {.props = x->att->work, .emb_loaded = true};
			struct matt *ma = find_att(x->att->msg->tree, num);
			if (x->att->emb_set) {
				tmp.emb = x->att->emb_pending;
			} else if (ma != NULL) {
				tmp.emb = ma->emb;
				tmp.emb_loaded = ma->emb_loaded;
				tmp.emb_size_db = ma->emb_size_db;
			}
			n = att_size(&tmp);
		} else {
			n = x->ma->size;
		}
		o->tag = PR_ATTACH_SIZE;
		o->v.l = (int32_t)n;
		return 1;
	}
	case PROP_ID(PR_RECORD_KEY): {
		uint8_t k[4] = {(uint8_t)num, (uint8_t)(num >> 8), (uint8_t)(num >> 16),
			(uint8_t)(num >> 24)};
		bin_out(o, PR_RECORD_KEY, pool, k, 4);
		return 1;
	}
	case PROP_ID(PR_OBJECT_TYPE):
		o->tag = PR_OBJECT_TYPE;
		o->v.l = MAPI_ATTACH;
		return 1;
	case PROP_ID(PR_ACCESS):
		o->tag = PR_ACCESS;
		o->v.l = x->att != NULL && x->att->read_write ? 0x7 : 0x2;
		return 1;
	case PROP_ID(PR_ACCESS_LEVEL):
		o->tag = PR_ACCESS_LEVEL;
		o->v.l = x->att != NULL && x->att->read_write ? 1 : 0;
		return 1;
	case PROP_ID(PR_ATTACH_DATA_OBJ):
		if (PROP_TYPE(tag) == PT_OBJECT)
			return -1;
		return 0; /* PR_ATTACH_DATA_BIN shares the ID: a stored property */
	default:
		return 0;
	}
}

uint32_t store_attach_get_props(struct store_attach *att, const struct mapi_tags *tags,
	pool_t *pool, struct mapi_propvals *out)
{
	struct actx x = {.att = att};
	return store_props_get(att->msg->mb->store, &att->work, tags, att_compute, &x, att_computed,
		N_ATT_COMPUTED - 1, pool, out);
}

/* Attachment table rows. */
uint32_t store_msg_att_rows(struct store_message *msg, const struct mapi_tags *tags,
	pool_t *pool, struct mapi_propvals **rows_r, uint32_t *count_r);
uint32_t store_msg_att_rows(struct store_message *msg, const struct mapi_tags *tags,
	pool_t *pool, struct mapi_propvals **rows_r, uint32_t *count_r)
{
	uint32_t ec = need_atts(msg);
	if (ec != ecSuccess)
		return ec;
	struct mapi_propvals *rows = pool_calloc(pool, msg->tree->atts.n + 1, sizeof(*rows));
	uint32_t n = 0;
	for (size_t i = 0; i < msg->tree->atts.n; i++) {
		struct matt *ma = &msg->tree->atts.v[i];
		if (ma->deleted)
			continue;
		if (ma->dirty || ma->id == 0)
			ma->size = att_size(ma);
		struct actx x = {.ma = ma};
		ec = store_props_get(msg->mb->store, &ma->props, tags, att_compute, &x, att_computed,
			N_ATT_COMPUTED - 1, pool, &rows[n++]);
		if (ec != ecSuccess)
			return ec;
	}
	*rows_r = rows;
	*count_r = n;
	return ecSuccess;
}

uint32_t store_attach_set_props(struct store_attach *att, const struct mapi_propvals *props,
	struct store_problems *probs)
{
	if (props == NULL)
		return ecInvalidParam;
	if (!att->read_write)
		return ecAccessDenied;
	return store_props_set(att->msg->mb->store, &att->work, att->pool, props, att_computed,
		N_ATT_COMPUTED - 1, probs);
}

uint32_t store_attach_delete_props(struct store_attach *att, const struct mapi_tags *tags,
	struct store_problems *probs)
{
	if (tags == NULL)
		return ecInvalidParam;
	if (!att->read_write)
		return ecAccessDenied;
	return store_props_delete(&att->work, tags, att_computed, N_ATT_COMPUTED - 1, probs);
}

uint32_t store_attach_save(struct store_attach *att)
{
	if (!att->read_write)
		return ecAccessDenied;
	struct store_message *msg = att->msg;
	struct matt *ma = find_att(msg->tree, att->num);
	if (ma == NULL) {
		if (!att->is_new)
			return ecObjectDeleted;
		if (live_atts(msg->tree) >= msg->mb->store->set.max_attachments)
			return ecMaxAttachmentExceeded;
		ma = array_push_new(&msg->tree->atts);
		ma->num = att->num;
		ma->emb_loaded = true;
		att->is_new = false;
	}
	sprops_copy(msg->pool, &ma->props, &att->work);
	ma->dirty = true;
	if (att->emb_set) {
		ma->emb = att->emb_pending != NULL ? store_mtree_copy(msg->pool, att->emb_pending)
						   : NULL;
		ma->emb_loaded = true;
		ma->emb_dirty = true;
		att->emb_set = false;
	}
	ma->size = att_size(ma);
	return ecSuccess;
}

void store_attach_close(struct store_attach **ap)
{
	struct store_attach *a = *ap;
	if (a == NULL)
		return;
	*ap = NULL;
	if (a->emb_open != NULL) {
		struct store_message *e = a->emb_open;
		store_message_close(&e);
	}
	struct store_message *msg = a->msg;
	for (size_t i = 0; i < msg->open_atts.n; i++) {
		if (msg->open_atts.v[i] == a) {
			array_delete(&msg->open_atts, i);
			break;
		}
	}
	pool_free(&a->pool);
}

uint32_t store_attach_open_embedded(struct store_attach *att, bool create,
	struct store_message **emb_r)
{
	struct store_message *msg = att->msg;
	if (create && !att->read_write)
		return ecAccessDenied;
	if (att->emb_open != NULL)
		return ecInvalidParam; /* one handle at a time */
	if (msg->depth + 1 > (int)msg->mb->store->set.max_embed_depth)
		return ecTooComplex;
	struct store_message *e = msg_new(msg->mb);
	e->embedded = true;
	e->depth = msg->depth + 1;
	e->read_write = att->read_write;
	e->parent_att = att;
	if (create) {
		e->tree = mtree_new(e->pool);
		e->tree->rcpts_loaded = e->tree->atts_loaded = true;
		e->tree->flags = MSGFLAG_READ | MSGFLAG_UNSENT;
		e->is_new = true;
	} else {
		struct mtree *src = NULL;
		if (att->emb_set) {
			src = att->emb_pending;
		} else {
			struct matt *ma = find_att(msg->tree, att->num);
			if (ma != NULL && !ma->emb_loaded) {
				struct rtx t;
				uint32_t ec = store_rtx_begin(msg->mb, &t);
				if (ec == ecSuccess) {
					ec = store_mtree_load_emb(t.c, msg->pool, ma, msg->depth);
					store_rtx_end(&t);
				}
				if (ec != ecSuccess) {
					store_message_close(&e);
					return ec;
				}
			}
			src = ma != NULL ? ma->emb : NULL;
		}
		if (src == NULL) {
			store_message_close(&e);
			return ecNotFound;
		}
		e->tree = store_mtree_copy(e->pool, src);
	}
	att->emb_open = e;
	*emb_r = e;
	return ecSuccess;
}

/* --- save --- */

static void derive_props(struct store_message *msg)
{
	struct mtree *tree = msg->tree;
	uint64_t now = store_now_filetime();
	/* PR_NORMALIZED_SUBJECT (MS-OXCMSG 2.2.1.10): the subject without
	 * its prefix, when the client did not set it. */
	struct sprop *subj = store_sprops_find(&tree->props, PR_SUBJECT);
	struct sprop *norm = store_sprops_find(&tree->props, PR_NORMALIZED_SUBJECT);
	if (subj != NULL && !subj->in_blob && norm == NULL) {
		const char *s = subj->v.str;
		struct sprop *pre = store_sprops_find(&tree->props, PR_SUBJECT_PREFIX);
		if (pre != NULL && !pre->in_blob && PROP_TYPE(pre->tag) == PT_UNICODE &&
			strncmp(s, pre->v.str, strlen(pre->v.str)) == 0) {
			s += strlen(pre->v.str);
		} else {
			/* MS-OXCMSG 2.2.1.9: a prefix is 1-3 characters, no digits
			 * or spaces, then ": ". */
			const char *colon = strchr(s, ':');
			if (colon != NULL && colon > s && colon - s <= 3 && colon[1] == ' ') {
				bool ok = true;
				for (const char *c = s; c < colon; c++)
					if (*c == ' ' || (*c >= '0' && *c <= '9'))
						ok = false;
				if (ok)
					s = colon + 2;
			}
		}
		struct sprop n = {.tag = PR_NORMALIZED_SUBJECT, .v.str = (char *)s};
		store_sprops_set(&tree->props, msg->pool, &n);
	}
	if (store_sprops_find(&tree->props, PR_CREATION_TIME) == NULL) {
		struct sprop c = {.tag = PR_CREATION_TIME, .v.ft = now};
		store_sprops_set(&tree->props, msg->pool, &c);
	}
	if (!msg->set_modtime) {
		struct sprop c = {.tag = PR_LAST_MODIFICATION_TIME, .v.ft = now};
		store_sprops_set(&tree->props, msg->pool, &c);
	}
	msg->set_modtime = false;
}

/* Saves an embedded message into its attachment handle. */
static uint32_t save_embedded(struct store_message *msg)
{
	struct store_attach *att = msg->parent_att;
	if (att == NULL)
		return ecObjectDeleted;
	derive_props(msg);
	if (live_atts(msg->tree) > 0)
		msg->tree->flags |= MSGFLAG_HASATTACH;
	else
		msg->tree->flags &= ~MSGFLAG_HASATTACH;
	att->emb_pending = store_mtree_copy(att->pool, msg->tree);
	att->emb_set = true;
	/* Saving an embedded message makes the attachment one
	 * (MS-OXCMSG 2.2.2.9 ATTACH_EMBEDDED_MSG). */
	struct sprop m = {.tag = PR_ATTACH_METHOD, .v.l = ATTACH_EMBEDDED_MSG};
	store_sprops_set(&att->work, att->pool, &m);
	msg->is_new = false;
	return ecSuccess;
}

uint32_t store_message_save(struct store_message *msg, uint32_t flags)
{
	if (!msg->read_write)
		return ecAccessDenied;
	if ((flags & ~(STORE_SAVE_FORCE | STORE_SAVE_DELIVERY)) != 0)
		return ecUnknownFlags;
	if (msg->embedded)
		return save_embedded(msg);
	struct store_mailbox *mb = msg->mb;
	struct mtree *tree = msg->tree;
	struct wtx t;
	uint32_t ec = store_wtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct folder_row fr;
	uint32_t rights = 0;
	uint64_t old_size = 0;
	uint32_t old_flags = 0;
	ec = store_folder_row(t.c, msg->meta.fid, &fr);
	if (ec == ecNotFound)
		ec = ecObjectDeleted;
	if (ec == ecSuccess)
		ec = store_acl_rights(mb, t.c, msg->meta.fid, &rights);
	if (ec == ecSuccess && !msg->is_new) {
		/* Conflict check: the row as it is now. */
		sqlite3_stmt *st = store_db_prep(t.c,
			"SELECT cn, size, flags, fid FROM messages WHERE id = ?");
		sqlite3_bind_int64(st, 1, tree->id);
		if (sqlite3_step(st) == SQLITE_ROW &&
			(uint64_t)sqlite3_column_int64(st, 3) == msg->meta.fid) {
			uint64_t cn = (uint64_t)sqlite3_column_int64(st, 0);
			old_size = (uint64_t)sqlite3_column_int64(st, 1);
			old_flags = (uint32_t)sqlite3_column_int64(st, 2);
			if (cn != msg->cn_open && !(flags & STORE_SAVE_FORCE))
				ec = ecObjectModified;
		} else {
			ec = ecObjectDeleted;
		}
		sqlite3_reset(st);
		if (ec == ecSuccess && !store_may_edit(mb, rights, msg->meta.creator))
			ec = ecAccessDenied;
	} else if (ec == ecSuccess && !(rights & frightsCreate)) {
		ec = ecAccessDenied;
	}
	if (ec != ecSuccess)
		return store_wtx_end(&t, ec);

	derive_props(msg);
	bool has_atts = tree_has_atts(t.c, tree);
	tree->flags = has_atts ? tree->flags | MSGFLAG_HASATTACH : tree->flags & ~MSGFLAG_HASATTACH;
	uint64_t cn = 0;
	ec = store_alloc_cn(&t, &cn);
	struct msgmeta meta = msg->meta;
	uint8_t xid[22];
	struct buf pcl, scratch;
	buf_init(&pcl, NULL);
	buf_init(&scratch, NULL);
	store_xid(mb->m, cn, xid);
	store_pcl_merge(meta.pcl, meta.pcl_len, xid, &pcl);
	meta.pcl = pcl.data;
	meta.pcl_len = pcl.len;
	meta.cn = cn;
	uint64_t size = store_mtree_size(t.c, tree);
	meta.size = size;
	int64_t id = tree->id;
	if (ec == ecSuccess)
		ec = store_mailbox_grow(&t, (int64_t)size - (int64_t)old_size);
	if (ec == ecSuccess && msg->is_new) {
		meta.created_cn = cn;
		ec = store_next_uid(&t, meta.fid, &meta.uid);
		if (ec == ecSuccess) {
			/* MID and row id: one value of the global counter. */
			uint64_t mid = 0;
			ec = store_alloc_ids(&t, 1, &mid);
			meta.mid = mid;
		}
		if (ec == ecSuccess) {
			id = (int64_t)meta.mid;
			meta.top = id;
			ec = insert_row(&t, id, tree, &meta, &scratch);
		}
		if (ec == ecSuccess)
			ec = store_folder_counts(&t, meta.fid, meta.fai ? 0 : 1,
				(!meta.fai && !(tree->flags & MSGFLAG_READ)) ? 1 : 0, meta.fai ? 1 : 0,
				(int64_t)size);
	} else if (ec == ecSuccess) {
		sqlite3_stmt *st = store_db_prep(t.c,
			"UPDATE messages SET cn = ?, pcl = ?, flags = ?, size = ?, has_attach = ?,"
			" mime = ?, mime_size = ?, msg_class = ?, subject = ?, norm_subject = ?,"
			" sender_name = ?, delivery_time = ?, submit_time = ?, created = ?,"
			" modified = ?, importance = ?, flag_status = ?, icon_index = ?,"
			" last_verb = ? WHERE id = ?");
		sqlite3_bind_int64(st, 1, (int64_t)cn);
		sqlite3_bind_blob(st, 2, pcl.data, (int)pcl.len, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, tree->flags);
		sqlite3_bind_int64(st, 4, (int64_t)size);
		sqlite3_bind_int(st, 5, has_atts);
		if (tree->has_mime) {
			sqlite3_bind_blob(st, 6, tree->mime.sha256, 32, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 7, (int64_t)tree->mime.size);
		}
		bind_columns(st, 8, tree, &scratch);
		sqlite3_bind_int64(st, 20, id);
		ec = store_db_step_done(t.c, st);
		int unread_delta = 0;
		if (!meta.fai && ((old_flags ^ tree->flags) & MSGFLAG_READ))
			unread_delta = (tree->flags & MSGFLAG_READ) ? -1 : 1;
		if (ec == ecSuccess)
			ec = store_folder_counts(&t, meta.fid, 0, unread_delta, 0,
				(int64_t)size - (int64_t)old_size);
	}
	if (ec == ecSuccess)
		ec = write_prop_rows(&t, id, &tree->props, msg->is_new, &scratch);
	if (ec == ecSuccess && (msg->is_new || tree->rcpts_dirty))
		ec = write_rcpts(&t, id, id, tree, msg->is_new, &scratch);
	/* Attachments inserted now get row ids that a rollback voids. */
	bool *was_new = xcalloc(tree->atts.n + 1, sizeof(bool));
	for (size_t i = 0; tree->atts_loaded && i < tree->atts.n; i++)
		was_new[i] = tree->atts.v[i].id == 0;
	for (size_t i = 0; ec == ecSuccess && tree->atts_loaded && i < tree->atts.n; i++)
		ec = write_att(&t, id, id, &tree->atts.v[i], &scratch);
	if (ec == ecSuccess) {
		if (!msg->is_new)
			ec = clear_blob_refs(&t, id);
		sprops_blob_refs(&t, id, id, &tree->props);
		if (tree->has_mime)
			add_blob_ref(&t, id, id, tree->mime.sha256);
	}
	if (ec == ecSuccess) {
		struct store_event ev = {.type = msg->is_new ? STORE_EVENT_CREATED : STORE_EVENT_MODIFIED,
			.is_message = true,
			.fid = store_id(meta.fid),
			.mid = store_id(meta.mid),
			.uid = meta.uid,
			.cn = cn,
			.message_flags = tree->flags,
			.associated = meta.fai};
		store_event_queue(&t, &ev);
		if (msg->is_new && (flags & STORE_SAVE_DELIVERY)) {
			ev.type = STORE_EVENT_NEW_MAIL;
			store_event_queue(&t, &ev);
		}
	}
	ec = store_wtx_end(&t, ec);
	if (ec == ecSuccess) {
		/* The handle now mirrors the saved message. */
		tree->id = id;
		meta.pcl = pool_memdup(msg->pool, pcl.data, pcl.len);
		msg->meta = meta;
		msg->cn_open = cn;
		msg->is_new = false;
		tree->rcpts_dirty = false;
		if (tree->atts_loaded) {
			for (size_t i = 0; i < tree->atts.n;) {
				struct matt *a = &tree->atts.v[i];
				if (a->deleted) {
					array_delete(&tree->atts, i);
					continue;
				}
				a->dirty = a->emb_dirty = false;
				i++;
			}
		}
	} else if (tree->atts_loaded) {
		for (size_t i = 0; i < tree->atts.n; i++)
			if (was_new[i])
				tree->atts.v[i].id = 0;
	}
	free(was_new);
	buf_deinit(&pcl);
	buf_deinit(&scratch);
	return ec;
}

uint32_t store_message_set_read_impl(struct store_mailbox *mb, int64_t id, bool read,
	uint32_t *flags_r);

uint32_t store_message_set_read(struct store_message *msg, bool read)
{
	if (msg->embedded)
		return ecNotSupported;
	if (msg->is_new) {
		/* Not in the store yet: only the pending flags change. */
		msg->tree->flags = read ? msg->tree->flags | MSGFLAG_READ
					: msg->tree->flags & ~MSGFLAG_READ;
		return ecSuccess;
	}
	uint32_t flags = 0;
	uint32_t ec = store_message_set_read_impl(msg->mb, msg->tree->id, read, &flags);
	if (ec == ecSuccess)
		msg->tree->flags = read ? msg->tree->flags | MSGFLAG_READ
					: msg->tree->flags & ~MSGFLAG_READ;
	return ec;
}

uint32_t store_stream_open_on(struct store *store, struct sprops *props, pool_t *pool,
	uint32_t tag, bool writable, bool column, enum store_stream_mode mode,
	struct store_stream **st_r);

uint32_t store_message_open_stream(struct store_message *msg, uint32_t tag,
	enum store_stream_mode mode, struct store_stream **st_r)
{
	if (store_tag_in(tag, msg_computed, N_MSG_COMPUTED))
		return mode == STORE_STREAM_WRITE ? ecComputed : ecNotSupported;
	return store_stream_open_on(msg->mb->store, &msg->tree->props, msg->pool, tag,
		msg->read_write, store_msg_column(tag) != NULL, mode, st_r);
}

uint32_t store_attach_open_stream(struct store_attach *att, uint32_t tag,
	enum store_stream_mode mode, struct store_stream **st_r)
{
	if (PROP_TYPE(tag) == PT_OBJECT)
		return ecNotSupported;
	return store_stream_open_on(att->msg->mb->store, &att->work, att->pool, tag,
		att->read_write, false, mode, st_r);
}
