/* Search folders (MS-OXOSRCH): the criteria (a restriction and scope
 * folders) are stored on the folder; its contents are evaluated whenever
 * they are read (table.c), so a search folder is always complete and never
 * stale. The restriction is kept in the wire form of [MS-OXCDATA] 2.12
 * (32-bit counts), the scope as 8-byte global counters. */
#include <string.h>

#include "mapi/restriction.h"
#include "mapi/wire.h"
#include "store/acl.h"
#include "store/store_int.h"

#define SEARCH_RECURSIVE 0x1
#define SEARCH_MAX_SCOPE 10000

uint32_t store_search_load(struct dbconn *c, uint64_t fid, pool_t *pool,
	struct search_criteria *sc)
{
	memset(sc, 0, sizeof(*sc));
	sqlite3_stmt *st = store_db_prep(c,
		"SELECT search_res, search_scope, search_flags FROM folders WHERE fid = ?");
	sqlite3_bind_int64(st, 1, (int64_t)fid);
	int rc = sqlite3_step(st);
	uint32_t ec = ecSuccess;
	if (rc != SQLITE_ROW) {
		ec = rc == SQLITE_DONE ? ecNotFound : store_db_ec(c, rc, "search criteria");
		sqlite3_reset(st);
		return ec;
	}
	if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
		struct mapi_reader r;
		mapi_reader_init(&r, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
			pool, MAPI_WIRE_EXT);
		if (mapi_get_restriction(&r, &sc->res) < 0 || mapi_reader_left(&r) != 0)
			ec = ecCorruptData;
	}
	size_t n = (size_t)sqlite3_column_bytes(st, 1);
	const uint8_t *p = sqlite3_column_blob(st, 1);
	if (ec == ecSuccess && n % 8 == 0 && n / 8 <= SEARCH_MAX_SCOPE) {
		sc->n_scope = (uint32_t)(n / 8);
		sc->scope = pool_calloc(pool, sc->n_scope + 1, sizeof(uint64_t));
		for (uint32_t i = 0; i < sc->n_scope; i++) {
			uint64_t v = 0;
			for (int k = 7; k >= 0; k--)
				v = v << 8 | p[i * 8 + k];
			sc->scope[i] = v;
		}
	} else if (ec == ecSuccess) {
		ec = ecCorruptData;
	}
	sc->recursive = (sqlite3_column_int(st, 2) & SEARCH_RECURSIVE) != 0;
	sqlite3_reset(st);
	return ec;
}

uint32_t store_search_expand(struct dbconn *c, const struct search_criteria *sc, pool_t *pool,
	uint64_t **fids_r, uint32_t *n_r)
{
	ARRAY(uint64_t) out;
	array_init(&out, pool);
	for (uint32_t i = 0; i < sc->n_scope; i++) {
		sqlite3_stmt *st;
		if (sc->recursive) {
			st = store_db_prep(c,
				"WITH RECURSIVE sub(f, d) AS (SELECT ?, 0 UNION ALL"
				" SELECT fid, d + 1 FROM folders, sub WHERE parent = sub.f AND d < ?)"
				" SELECT f FROM sub, folders WHERE fid = sub.f AND type != 2");
			sqlite3_bind_int64(st, 2, STORE_MAX_FOLDER_DEPTH);
		} else {
			st = store_db_prep(c, "SELECT fid FROM folders WHERE fid = ? AND type != 2");
		}
		sqlite3_bind_int64(st, 1, (int64_t)sc->scope[i]);
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			uint64_t f = (uint64_t)sqlite3_column_int64(st, 0);
			bool dup = false;
			for (size_t k = 0; k < out.n && !dup; k++)
				dup = out.v[k] == f;
			if (!dup)
				array_push(&out, f);
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return store_db_ec(c, rc, "search scope");
	}
	*fids_r = out.v;
	*n_r = (uint32_t)out.n;
	return ecSuccess;
}

uint32_t store_search_set_criteria(struct store_mailbox *mb, mapi_id_t fid_id,
	const struct mapi_restriction *res, const mapi_id_t *scope, uint32_t scope_count,
	bool recursive)
{
	uint64_t fid = store_gc(fid_id);
	if (res == NULL || (scope == NULL && scope_count > 0) || scope_count > SEARCH_MAX_SCOPE)
		return ecInvalidParam;
	uint32_t ec = store_restriction_check(&mb->store->set, res);
	if (ec != ecSuccess)
		return ec;
	pool_t *pool = pool_new("search", 0);
	struct buf wire;
	buf_init(&wire, pool);
	struct mapi_writer w = {.out = &wire, .width = MAPI_WIRE_EXT};
	if (mapi_put_restriction(&w, res) < 0) {
		pool_free(&pool);
		return ecInvalidParam;
	}
	struct buf sb;
	buf_init(&sb, pool);
	struct wtx t;
	ec = store_wtx_begin(mb, &t);
	if (ec != ecSuccess) {
		pool_free(&pool);
		return ec;
	}
	struct folder_row r;
	ec = store_folder_row(t.c, fid, &r);
	if (ec == ecSuccess && r.type != STORE_FOLDER_SEARCH)
		ec = ecNotSupported;
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, fid, frightsOwner);
	for (uint32_t i = 0; ec == ecSuccess && i < scope_count; i++) {
		/* MS-OXOSRCH 2.2.1.1: scope folders are generic folders the
		 * principal may read. */
		struct folder_row sr;
		ec = store_folder_row(t.c, store_gc(scope[i]), &sr);
		if (ec == ecSuccess && sr.type == STORE_FOLDER_SEARCH)
			ec = ecInvalidParam;
		if (ec == ecSuccess)
			ec = store_acl_check(mb, t.c, sr.fid, frightsReadAny);
		buf_append_u64le(&sb, store_gc(scope[i]));
	}
	if (ec == ecSuccess) {
		sqlite3_stmt *st = store_db_prep(t.c,
			"UPDATE folders SET search_res = ?, search_scope = ?, search_flags = ?"
			" WHERE fid = ?");
		sqlite3_bind_blob(st, 1, wire.data, (int)wire.len, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 2, sb.len > 0 ? (const void *)sb.data : "", (int)sb.len,
			SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 3, recursive ? SEARCH_RECURSIVE : 0);
		sqlite3_bind_int64(st, 4, (int64_t)fid);
		ec = store_db_step_done(t.c, st);
	}
	if (ec == ecSuccess)
		ec = store_folder_touch(&t, fid);
	if (ec == ecSuccess) {
		/* Evaluated when read: the search is complete at once
		 * (MS-OXCNOTIF SearchComplete). */
		struct store_event ev = {.type = STORE_EVENT_SEARCH_COMPLETE, .fid = fid_id};
		store_event_queue(&t, &ev);
	}
	ec = store_wtx_end(&t, ec);
	pool_free(&pool);
	return ec;
}

uint32_t store_search_get_criteria(struct store_mailbox *mb, mapi_id_t fid_id, pool_t *pool,
	struct mapi_restriction **res_r, mapi_id_t **scope_r, uint32_t *scope_count_r,
	bool *recursive_r)
{
	uint64_t fid = store_gc(fid_id);
	struct rtx t;
	uint32_t ec = store_rtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct folder_row r;
	struct search_criteria sc;
	ec = store_folder_row(t.c, fid, &r);
	if (ec == ecSuccess && r.type != STORE_FOLDER_SEARCH)
		ec = ecNotSupported;
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, fid, frightsVisible);
	if (ec == ecSuccess)
		ec = store_search_load(t.c, fid, pool, &sc);
	store_rtx_end(&t);
	if (ec != ecSuccess)
		return ec;
	if (sc.res == NULL)
		return ecNotInitialized;
	*res_r = sc.res;
	*scope_r = pool_calloc(pool, sc.n_scope + 1, sizeof(mapi_id_t));
	for (uint32_t i = 0; i < sc.n_scope; i++)
		(*scope_r)[i] = store_id(sc.scope[i]);
	*scope_count_r = sc.n_scope;
	*recursive_r = sc.recursive;
	return ecSuccess;
}
