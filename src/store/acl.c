/* Folder permissions (MS-OXCPERM) and their checks. */
#include <string.h>

#include "store/acl.h"
#include "store/store_int.h"

uint32_t store_acl_rights(struct store_mailbox *mb, struct dbconn *c, uint64_t fid,
	uint32_t *rights_r)
{
	if (mb->owner) {
		*rights_r = STORE_RIGHTS_ALL;
		return ecSuccess;
	}
	/* The principal's own entry, else Default; anonymous logons get the
	 * Anonymous entry (MS-OXCPERM 3.1.4.1). */
	sqlite3_stmt *st;
	if (mb->principal != NULL) {
		st = store_db_prep(c, "SELECT rights FROM permissions WHERE fid = ? AND"
				      " (principal = ? OR member = 0) ORDER BY member = 0 LIMIT 1");
		sqlite3_bind_int64(st, 1, (int64_t)fid);
		sqlite3_bind_text(st, 2, mb->principal, -1, SQLITE_STATIC);
	} else {
		st = store_db_prep(c, "SELECT rights FROM permissions WHERE fid = ? AND member = -1");
		sqlite3_bind_int64(st, 1, (int64_t)fid);
	}
	int rc = sqlite3_step(st);
	uint32_t ec = ecSuccess;
	if (rc == SQLITE_ROW)
		*rights_r = (uint32_t)sqlite3_column_int64(st, 0) & STORE_RIGHTS_ALL;
	else if (rc == SQLITE_DONE)
		*rights_r = 0;
	else
		ec = store_db_ec(c, rc, "permissions");
	sqlite3_reset(st);
	return ec;
}

uint32_t store_acl_check(struct store_mailbox *mb, struct dbconn *c, uint64_t fid, uint32_t need)
{
	uint32_t rights;
	uint32_t ec = store_acl_rights(mb, c, fid, &rights);
	if (ec != ecSuccess)
		return ec;
	return (rights & need) == need ? ecSuccess : ecAccessDenied;
}

uint32_t store_acl_my_rights(struct store_mailbox *mb, mapi_id_t fid, uint32_t *rights_r)
{
	struct rtx t;
	uint32_t ec = store_rtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct folder_row r;
	ec = store_folder_row(t.c, store_gc(fid), &r);
	if (ec == ecSuccess)
		ec = store_acl_rights(mb, t.c, r.fid, rights_r);
	store_rtx_end(&t);
	return ec;
}

uint32_t store_acl_list(struct store_mailbox *mb, mapi_id_t fid_id, pool_t *pool,
	struct store_permission **perms_r, uint32_t *count_r)
{
	uint64_t fid = store_gc(fid_id);
	struct rtx t;
	uint32_t ec = store_rtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct folder_row r;
	uint32_t rights = 0;
	ec = store_folder_row(t.c, fid, &r);
	if (ec == ecSuccess)
		ec = store_acl_rights(mb, t.c, fid, &rights);
	if (ec == ecSuccess && !(rights & (frightsOwner | frightsVisible)))
		ec = ecAccessDenied;
	if (ec != ecSuccess) {
		store_rtx_end(&t);
		return ec;
	}
	ARRAY(struct store_permission) v;
	array_init(&v, pool);
	/* Default and Anonymous always exist (MS-OXCPERM 2.2.4). */
	struct store_permission *d = array_push_new(&v);
	d->member_id = STORE_MEMBER_DEFAULT;
	d->name = "";
	struct store_permission *a = array_push_new(&v);
	a->member_id = STORE_MEMBER_ANONYMOUS;
	a->name = "Anonymous";
	sqlite3_stmt *st = store_db_prep(t.c,
		"SELECT member, principal, name, rights FROM permissions WHERE fid = ? ORDER BY member");
	sqlite3_bind_int64(st, 1, (int64_t)fid);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t member = sqlite3_column_int64(st, 0);
		uint32_t rr = (uint32_t)sqlite3_column_int64(st, 3);
		if (member == STORE_MEMBER_DEFAULT) {
			v.v[0].rights = rr;
			continue;
		}
		if (member == STORE_MEMBER_ANONYMOUS) {
			v.v[1].rights = rr;
			continue;
		}
		struct store_permission *p = array_push_new(&v);
		p->member_id = member;
		const unsigned char *pr = sqlite3_column_text(st, 1);
		const unsigned char *nm = sqlite3_column_text(st, 2);
		p->principal = pr != NULL ? pool_strdup(pool, (const char *)pr) : NULL;
		p->name = pool_strdup(pool, nm != NULL ? (const char *)nm : "");
		p->rights = rr;
	}
	sqlite3_reset(st);
	store_rtx_end(&t);
	*perms_r = v.v;
	*count_r = (uint32_t)v.n;
	return ecSuccess;
}

uint32_t store_acl_set(struct store_mailbox *mb, mapi_id_t fid_id, int64_t member_id,
	const char *principal, const char *name, uint32_t rights)
{
	uint64_t fid = store_gc(fid_id);
	if ((rights & ~STORE_RIGHTS_ALL) != 0)
		return ecInvalidParam;
	if (principal == NULL && member_id != STORE_MEMBER_DEFAULT &&
		member_id != STORE_MEMBER_ANONYMOUS)
		return ecInvalidParam;
	if (principal != NULL && principal[0] == '\0')
		return ecInvalidParam;
	struct wtx t;
	uint32_t ec = store_wtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct folder_row r;
	ec = store_folder_row(t.c, fid, &r);
	if (ec == ecSuccess)
		ec = store_acl_check(mb, t.c, fid, frightsOwner);
	int64_t member = member_id;
	if (ec == ecSuccess && principal != NULL) {
		/* One member id per principal across the mailbox. */
		sqlite3_stmt *st = store_db_prep(t.c,
			"SELECT member FROM permissions WHERE principal = ? LIMIT 1");
		sqlite3_bind_text(st, 1, principal, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			member = sqlite3_column_int64(st, 0);
			sqlite3_reset(st);
		} else {
			sqlite3_reset(st);
			st = store_db_prep(t.c, "SELECT coalesce(max(member), 0) + 1 FROM permissions");
			member = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 1;
			sqlite3_reset(st);
			if (member < 1)
				member = 1;
		}
	}
	if (ec == ecSuccess) {
		sqlite3_stmt *st;
		if (rights == 0 && principal != NULL) {
			st = store_db_prep(t.c, "DELETE FROM permissions WHERE fid = ? AND member = ?");
			sqlite3_bind_int64(st, 1, (int64_t)fid);
			sqlite3_bind_int64(st, 2, member);
		} else {
			st = store_db_prep(t.c, "INSERT OR REPLACE INTO permissions (fid, member,"
						" principal, name, rights) VALUES (?, ?, ?, ?, ?)");
			sqlite3_bind_int64(st, 1, (int64_t)fid);
			sqlite3_bind_int64(st, 2, member);
			if (principal != NULL)
				sqlite3_bind_text(st, 3, principal, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 4, name != NULL ? name : principal != NULL ? principal : "",
				-1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 5, rights);
		}
		ec = store_db_step_done(t.c, st);
	}
	if (ec == ecSuccess)
		ec = store_folder_touch(&t, fid);
	return store_wtx_end(&t, ec);
}
