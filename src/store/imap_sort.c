/* SORT and THREAD data from the messages rows (imap_sort.h). */
#include <string.h>

#include "core/array.h"
#include "store/acl.h"
#include "store/imap_sort.h"
#include "store/store_int.h"

uint32_t store_imap_sort_list(struct store_mailbox *mb, mapi_id_t fid_id, pool_t *pool,
        struct store_imap_sort_row **rows_r, uint32_t *n_r)
{
	uint64_t fid = store_gc(fid_id);
	struct rtx t;
	uint32_t ec = store_rtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct folder_row fr;
	ec = store_folder_row(t.c, fid, &fr);
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, fid, frightsReadAny);
	ARRAY(struct store_imap_sort_row) v;
	array_init(&v, pool);
	if (ec == ecSuccess) {
		/* The (fid, uid) index gives UID order without a sort. */
		sqlite3_stmt *st = store_db_prep(t.c,
		        "SELECT uid, coalesce(delivery_time, created), submit_time, size, subject,"
		        " mime, mime_size FROM messages WHERE fid = ? AND fai = 0 AND uid > 0"
		        " ORDER BY uid");
		sqlite3_bind_int64(st, 1, (int64_t)fid);
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct store_imap_sort_row *r = array_push_new(&v);
			r->uid = (uint32_t)sqlite3_column_int64(st, 0);
			r->internal_date = (uint64_t)sqlite3_column_int64(st, 1);
			r->sent_date = sqlite3_column_type(st, 2) == SQLITE_NULL
			                       ? r->internal_date
			                       : (uint64_t)sqlite3_column_int64(st, 2);
			r->size = (uint64_t)sqlite3_column_int64(st, 3);
			const unsigned char *subj = sqlite3_column_text(st, 4);
			r->subject = subj != NULL ? pool_strdup(pool, (const char *)subj) : "";
			if (sqlite3_column_bytes(st, 5) == 32) {
				r->has_mime = true;
				memcpy(r->mime.sha256, sqlite3_column_blob(st, 5), 32);
				r->mime.size = (uint64_t)sqlite3_column_int64(st, 6);
				r->size = r->mime.size;
			}
		}
		if (rc != SQLITE_DONE)
			ec = store_db_ec(t.c, rc, "imap sort list");
		sqlite3_reset(st);
	}
	store_rtx_end(&t);
	if (ec == ecSuccess) {
		*rows_r = v.v;
		*n_r = (uint32_t)v.n;
	}
	return ec;
}
