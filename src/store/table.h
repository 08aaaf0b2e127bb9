/* Tables with MS-OXCTABL semantics: contents (normal and associated,
 * search folders included), hierarchy (flat and deep), attachments and
 * recipients of an open message.
 *
 * A table has columns, a restriction and a sort order; rows are read from
 * a cursor that sits between rows. Reading forward returns rows from the
 * cursor on; reading backward returns the rows before the cursor (in table
 * order, MS-OXCTABL 3.2.5.5); both move the cursor unless told not to.
 * Tables are live views: rows added or removed meanwhile show up in later
 * reads (contents tables never copy the folder; the cursor and bookmarks
 * are positions in the sort order, so they survive changes).
 *
 * Restrictions of every type (mapi/mapi.h) are accepted: what SQL can
 * evaluate runs in SQLite, the rest in C over the row's properties, with
 * the same semantics (mapi/restriction.h). Categorized sorts
 * (sort.categories > 0) give ecNotSupported for now; the row interface
 * (rows as property values, PR_INSTANCE_KEY identities) leaves room for
 * header rows later. */
#ifndef STORE_TABLE_H
#define STORE_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/pool.h"
#include "mapi/mapi.h"

struct store_mailbox;
struct store_message;
struct store_table;

/* Contents of a folder: normal messages, or with associated the
 * folder-associated (FAI) ones. Needs frightsReadAny (ecAccessDenied). */
uint32_t store_table_open_contents(struct store_mailbox *mb, mapi_id_t fid, bool associated,
	struct store_table **t_r);
/* Subfolders of fid; with deep all descendants (PR_DEPTH: 1 for
 * children, 2 for grandchildren, ...). Folders the principal may not see
 * (no frightsVisible) are left out. */
uint32_t store_table_open_hierarchy(struct store_mailbox *mb, mapi_id_t fid, bool deep,
	struct store_table **t_r);
/* The attachments / recipients of an open message (its pending state);
 * the message must outlive the table. */
uint32_t store_table_open_attachments(struct store_message *msg, struct store_table **t_r);
uint32_t store_table_open_recipients(struct store_message *msg, struct store_table **t_r);
void store_table_close(struct store_table **t);

/* Columns of the rows returned (copied). Default: PR_INSTANCE_KEY plus
 * the row's ID (PR_MID, PR_FOLDER_ID, PR_ATTACH_NUM or PR_ROWID). Missing
 * values come back as PT_ERROR ecNotFound. */
uint32_t store_table_set_columns(struct store_table *t, const struct mapi_tags *cols);
/* Restricts the rows (copied; NULL removes the restriction). ecTooComplex
 * past [store] max_restriction_depth, ecInvalidParam for a malformed one.
 * Moves the cursor to the beginning. */
uint32_t store_table_restrict(struct store_table *t, const struct mapi_restriction *res);
/* Sorts (copied; NULL or no keys: the table's natural order). Moves the
 * cursor to the beginning. */
uint32_t store_table_sort(struct store_table *t, const struct mapi_sort_order *so);

/* Result of a read. ids[i] is row i's identity: the MID, FID, attachment
 * number or recipient row id. */
struct store_rows {
	uint32_t count;
	struct mapi_propvals *rows;
	uint64_t *ids;
};

#define STORE_QUERY_NO_ADVANCE 0x1u
/* Reads up to count rows forward from the cursor, or backward the count
 * rows before it; all from pool. *at_edge_r (optional) is true when the
 * read reached the end (forward) or the beginning (backward). */
uint32_t store_table_query_rows(struct store_table *t, uint32_t count, bool forward,
	uint32_t flags, pool_t *pool, struct store_rows *out, bool *at_edge_r);

/* Predefined bookmarks (MS-OXCTABL 2.2.2.1.1). */
#define STORE_BOOKMARK_BEGINNING 0u
#define STORE_BOOKMARK_CURRENT 1u
#define STORE_BOOKMARK_END 2u

/* Moves the cursor offset rows (negative: backward) from origin (one of
 * the three above); *moved_r (optional) gets how far it went. */
uint32_t store_table_seek(struct store_table *t, uint32_t origin, int32_t offset,
	int32_t *moved_r);
/* Moves to the row at num/den of the table (RopSeekRowFractional). */
uint32_t store_table_seek_fraction(struct store_table *t, uint32_t num, uint32_t den);
/* Bookmarks are positions (MS-OXCTABL 2.2.2.10-12): create gives a new
 * one (>= 3) at the cursor; seek_bookmark moves from it, with
 * *row_gone_r (optional) true if its row has gone since (the cursor is
 * then where the row was); free releases it. ecInvalidBookmark. */
uint32_t store_table_create_bookmark(struct store_table *t, uint32_t *bookmark_r);
uint32_t store_table_seek_bookmark(struct store_table *t, uint32_t bookmark, int32_t offset,
	int32_t *moved_r, bool *row_gone_r);
uint32_t store_table_free_bookmark(struct store_table *t, uint32_t bookmark);
/* Cursor position (rows before it) and row count (RopQueryPosition). */
uint32_t store_table_position(struct store_table *t, uint32_t *numerator_r,
	uint32_t *denominator_r);
uint32_t store_table_row_count(struct store_table *t, uint32_t *count_r);
/* Finds the first row from origin (a predefined or created bookmark) in
 * the direction given that also matches res, moves the cursor to it and
 * returns it in out (count 0 and ecNotFound when there is none; the
 * cursor then stays). */
uint32_t store_table_find_row(struct store_table *t, const struct mapi_restriction *res,
	uint32_t origin, bool backward, pool_t *pool, struct store_rows *out);

#endif
