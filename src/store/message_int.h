/* Private to src/store: a message as a tree in memory (properties,
 * recipients, attachments, embedded messages), how it is loaded from and
 * written to the database. */
#ifndef STORE_MESSAGE_INT_H
#define STORE_MESSAGE_INT_H

#include "store/store_int.h"

struct mtree;

struct mrcpt {
	uint32_t row; /* PR_ROWID */
	struct sprops props;
};

struct matt {
	uint32_t num;     /* PR_ATTACH_NUM */
	int64_t id;       /* attachments.id; 0: not in the database yet */
	uint64_t size;    /* as last computed */
	uint64_t emb_size_db; /* size of the embedded message in the database */
	struct sprops props;
	bool emb_loaded;  /* emb reflects the database (or a pending save) */
	struct mtree *emb; /* embedded message, or NULL */
	bool dirty, emb_dirty, deleted;
};

struct mtree {
	int64_t id; /* messages.id; 0: new */
	struct sprops props;
	uint32_t flags; /* PR_MESSAGE_FLAGS */
	bool has_mime;
	struct store_blob_ref mime;
	bool rcpts_loaded, rcpts_dirty;
	ARRAY(struct mrcpt) rcpts;
	bool atts_loaded;
	ARRAY(struct matt) atts;
	uint32_t next_num;
};

/* What the messages row holds beyond the tree. */
struct msgmeta {
	uint64_t mid, fid; /* global counters; 0 for embedded */
	bool fai;
	uint32_t uid;
	uint64_t cn, created_cn, read_cn;
	const uint8_t *pcl;
	size_t pcl_len;
	const char *creator;
	uint32_t store_flags;
	uint64_t size;
	int64_t top, parent_att;
};

/* Loads message row id into a tree (and its meta); with full, also the
 * recipients, attachments and embedded messages (down to depth). */
uint32_t store_mtree_load(struct dbconn *c, pool_t *pool, int64_t id, bool full, int depth,
	struct mtree **tree_r, struct msgmeta *meta_r);
uint32_t store_mtree_load_rcpts(struct dbconn *c, pool_t *pool, struct mtree *tree);
uint32_t store_mtree_load_atts(struct dbconn *c, pool_t *pool, struct mtree *tree);
uint32_t store_mtree_load_emb(struct dbconn *c, pool_t *pool, struct matt *att, int depth);
/* Deep copy (the source must be fully loaded). */
struct mtree *store_mtree_copy(pool_t *pool, const struct mtree *src);
/* Inserts a whole tree as new rows (new internal ids). meta->top 0 makes
 * the message its own top. Sets *id_r to the new row id. */
uint32_t store_mtree_insert(struct wtx *t, struct mtree *tree, struct msgmeta *meta,
	int64_t *id_r);
/* Size of a tree for PR_MESSAGE_SIZE (unloaded parts read from c). */
uint64_t store_mtree_size(struct dbconn *c, const struct mtree *tree);

/* Folder counters and mailbox size (inside a write). mailbox_grow fails
 * with ecQuotaExceeded when growth would pass the handle's hard quota. */
uint32_t store_folder_counts(struct wtx *t, uint64_t fid, int d_msgs, int d_unread, int d_fai,
	int64_t d_size);
uint32_t store_mailbox_grow(struct wtx *t, int64_t delta);
/* Takes the folder's next IMAP UID. */
uint32_t store_next_uid(struct wtx *t, uint64_t fid, uint32_t *uid_r);
bool store_may_edit(struct store_mailbox *mb, uint32_t rights, const char *creator);
bool store_may_delete(struct store_mailbox *mb, uint32_t rights, const char *creator);
/* Row id of top-level message mid in folder fid: ecNotFound. */
uint32_t store_find_msg(struct dbconn *c, uint64_t fid, uint64_t mid, int64_t *id_r);

#endif
