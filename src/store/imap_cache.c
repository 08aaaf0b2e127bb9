/* The IMAP structure cache (imap_cache.h). */
#include <string.h>

#include "store/acl.h"
#include "store/imap_cache.h"
#include "store/store_int.h"

static const char *col_text(sqlite3_stmt *st, int i, pool_t *pool)
{
	if (sqlite3_column_type(st, i) != SQLITE_TEXT)
		return NULL;
	return pool_strdup(pool, (const char *)sqlite3_column_text(st, i));
}

uint32_t store_imap_cache_get(struct store_mailbox *mb, mapi_id_t fid, const mapi_id_t *mids,
	const uint8_t (*shas)[32], uint32_t n, pool_t *pool, struct store_imap_cached *out)
{
	memset(out, 0, n * sizeof(*out));
	struct rtx t;
	uint32_t ec = store_rtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	ec = store_acl_check(mb, t.c, store_gc(fid), frightsReadAny);
	sqlite3_stmt *st = store_db_prep(t.c,
		"SELECT c.sha, c.envelope, c.body, c.bodystructure FROM imap_cache c"
		" JOIN messages m ON m.mid = c.mid WHERE c.mid = ? AND m.fid = ?");
	for (uint32_t i = 0; ec == ecSuccess && i < n; i++) {
		sqlite3_bind_int64(st, 1, (int64_t)store_gc(mids[i]));
		sqlite3_bind_int64(st, 2, (int64_t)store_gc(fid));
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32 &&
			memcmp(sqlite3_column_blob(st, 0), shas[i], 32) == 0) {
			out[i].envelope = col_text(st, 1, pool);
			out[i].body = col_text(st, 2, pool);
			out[i].bodystructure = col_text(st, 3, pool);
		} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			ec = store_db_ec(t.c, rc, "imap cache");
		}
		sqlite3_reset(st);
	}
	store_rtx_end(&t);
	return ec;
}

uint32_t store_imap_cache_put(struct store_mailbox *mb, mapi_id_t fid, const mapi_id_t *mids,
	const uint8_t (*shas)[32], const struct store_imap_cached *v, uint32_t n)
{
	if (n == 0)
		return ecSuccess;
	struct wtx t;
	uint32_t ec = store_wtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	ec = store_acl_check(mb, t.c, store_gc(fid), frightsReadAny);
	for (uint32_t i = 0; ec == ecSuccess && i < n; i++) {
		sqlite3_stmt *st = store_db_prep(t.c,
			"INSERT OR REPLACE INTO imap_cache (mid, sha, envelope, body, bodystructure)"
			" SELECT mid, ?, ?, ?, ? FROM messages WHERE mid = ? AND fid = ?");
		sqlite3_bind_blob(st, 1, shas[i], 32, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, v[i].envelope, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, v[i].body, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, v[i].bodystructure, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, (int64_t)store_gc(mids[i]));
		sqlite3_bind_int64(st, 6, (int64_t)store_gc(fid));
		ec = store_db_step_done(t.c, st);
	}
	return store_wtx_end(&t, ec);
}
