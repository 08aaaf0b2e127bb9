/* The IMAP structure cache (imap_cache.h). */
#include <stdlib.h>
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

/* Fills out[i] from a row if its blob is the one asked for. */
static void cache_row(sqlite3_stmt *st, const uint8_t sha[32], pool_t *pool,
	struct store_imap_cached *out)
{
	if (sqlite3_column_bytes(st, 1) != 32 || memcmp(sqlite3_column_blob(st, 1), sha, 32) != 0)
		return;
	out->envelope = col_text(st, 2, pool);
	out->body = col_text(st, 3, pool);
	out->bodystructure = col_text(st, 4, pool);
}

struct by_mid {
	uint64_t mid;
	uint32_t i;
};

static int by_mid_cmp(const void *a, const void *b)
{
	const struct by_mid *x = a, *y = b;
	return x->mid < y->mid ? -1 : x->mid > y->mid;
}

uint32_t store_imap_cache_get(struct store_mailbox *mb, mapi_id_t fid, const mapi_id_t *mids,
	const uint8_t (*shas)[32], uint32_t n, pool_t *pool, struct store_imap_cached *out)
{
	memset(out, 0, n * sizeof(*out));
	if (n == 0)
		return ecSuccess;
	struct by_mid *order = pool_calloc(pool, n, sizeof(*order));
	for (uint32_t i = 0; i < n; i++)
		order[i] = (struct by_mid){store_gc(mids[i]), i};
	qsort(order, n, sizeof(*order), by_mid_cmp);
	uint64_t lo = order[0].mid, hi = order[n - 1].mid;
	struct rtx t;
	uint32_t ec = store_rtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	ec = store_acl_check(mb, t.c, store_gc(fid), frightsReadAny);
	if (ec == ecSuccess && hi - lo < 4 * (uint64_t)n) {
		/* Dense (a folder's messages listed together): one pass over the
		 * MID range instead of a lookup per message. CROSS JOIN keeps
		 * SQLite from scanning the whole folder by fid instead. */
		sqlite3_stmt *st = store_db_prep(t.c,
			"SELECT c.mid, c.sha, c.envelope, c.body, c.bodystructure FROM imap_cache c"
			" CROSS JOIN messages m ON m.mid = c.mid WHERE c.mid BETWEEN ? AND ?"
			" AND m.fid = ?");
		sqlite3_bind_int64(st, 1, (int64_t)lo);
		sqlite3_bind_int64(st, 2, (int64_t)hi);
		sqlite3_bind_int64(st, 3, (int64_t)store_gc(fid));
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct by_mid key = {(uint64_t)sqlite3_column_int64(st, 0), 0};
			const struct by_mid *f = bsearch(&key, order, n, sizeof(*order), by_mid_cmp);
			/* Duplicates in mids share the first match's entry. */
			for (; f != NULL && f > order && f[-1].mid == key.mid; f--)
				;
			for (; f != NULL && f < order + n && f->mid == key.mid; f++)
				cache_row(st, shas[f->i], pool, &out[f->i]);
		}
		if (rc != SQLITE_DONE)
			ec = store_db_ec(t.c, rc, "imap cache");
		sqlite3_reset(st);
	} else if (ec == ecSuccess) {
		sqlite3_stmt *st = store_db_prep(t.c,
			"SELECT c.mid, c.sha, c.envelope, c.body, c.bodystructure FROM imap_cache c"
			" JOIN messages m ON m.mid = c.mid WHERE c.mid = ? AND m.fid = ?");
		for (uint32_t i = 0; ec == ecSuccess && i < n; i++) {
			sqlite3_bind_int64(st, 1, (int64_t)store_gc(mids[i]));
			sqlite3_bind_int64(st, 2, (int64_t)store_gc(fid));
			int rc = sqlite3_step(st);
			if (rc == SQLITE_ROW)
				cache_row(st, shas[i], pool, &out[i]);
			else if (rc != SQLITE_DONE)
				ec = store_db_ec(t.c, rc, "imap cache");
			sqlite3_reset(st);
		}
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
