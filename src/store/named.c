/* Named properties ([MS-OXCDATA] 2.6, [MS-OXCPRPT] 3.1.4.2 GetIDsFromNames):
 * per mailbox, a (property set, LID or name) maps to a property ID from
 * 0x8000 up, assigned on first use and never changed. Names in
 * PS_INTERNET_HEADERS are case-insensitive (their first spelling is
 * kept). */
#include <string.h>

#include "core/utf.h"
#include "mapi/namedprop.h"
#include "store/store_int.h"

#define NAMED_MAX_NAME 1024

static uint32_t check_name(const struct mapi_propname *n)
{
	if (n->kind == MNID_ID)
		return ecSuccess;
	if (n->kind != MNID_STRING || n->name == NULL || n->name[0] == '\0')
		return ecInvalidParam;
	size_t len = strlen(n->name);
	if (len > NAMED_MAX_NAME || !utf8_valid(n->name, len))
		return ecInvalidParam;
	return ecSuccess;
}

static bool headers(const struct mapi_propname *n)
{
	return n->kind == MNID_STRING && guid_eq(&n->guid, &PS_INTERNET_HEADERS);
}

/* The ID of a name, 0 if unmapped. */
static uint32_t lookup(struct dbconn *c, const struct mapi_propname *n, uint16_t *id_r)
{
	sqlite3_stmt *st;
	if (n->kind == MNID_ID) {
		st = store_db_prep(c, "SELECT propid FROM named_props WHERE guid = ? AND kind = 0"
				      " AND lid = ?");
		sqlite3_bind_blob(st, 1, n->guid.b, 16, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, n->lid);
	} else if (headers(n)) {
		st = store_db_prep(c, "SELECT propid FROM named_props WHERE guid = ? AND kind = 1"
				      " AND lower(name) = lower(?) ORDER BY propid LIMIT 1");
		sqlite3_bind_blob(st, 1, n->guid.b, 16, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, n->name, -1, SQLITE_STATIC);
	} else {
		st = store_db_prep(c, "SELECT propid FROM named_props WHERE guid = ? AND kind = 1"
				      " AND name = ?");
		sqlite3_bind_blob(st, 1, n->guid.b, 16, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, n->name, -1, SQLITE_STATIC);
	}
	int rc = sqlite3_step(st);
	uint32_t ec = ecSuccess;
	*id_r = 0;
	if (rc == SQLITE_ROW)
		*id_r = (uint16_t)sqlite3_column_int(st, 0);
	else if (rc != SQLITE_DONE)
		ec = store_db_ec(c, rc, "named property");
	sqlite3_reset(st);
	return ec;
}

uint32_t store_named_ids_in(struct wtx *t, const struct mapi_propname *names, uint32_t count,
	uint16_t *ids_r);
uint32_t store_named_ids_in(struct wtx *t, const struct mapi_propname *names, uint32_t count,
	uint16_t *ids_r)
{
	for (uint32_t i = 0; i < count; i++) {
		uint32_t ec = lookup(t->c, &names[i], &ids_r[i]);
		if (ec != ecSuccess)
			return ec;
		if (ids_r[i] != 0)
			continue;
		sqlite3_stmt *st = store_db_prep(t->c,
			"SELECT coalesce(max(propid), 32767) + 1 FROM named_props");
		int64_t next = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_reset(st);
		if (next < PROP_ID_NAMED_MIN || next > PROP_ID_NAMED_MAX)
			return ecNotEnoughResources;
		st = store_db_prep(t->c, "INSERT INTO named_props (propid, guid, kind, lid, name)"
					 " VALUES (?, ?, ?, ?, ?)");
		sqlite3_bind_int64(st, 1, next);
		sqlite3_bind_blob(st, 2, names[i].guid.b, 16, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, names[i].kind);
		sqlite3_bind_int64(st, 4, names[i].kind == MNID_ID ? names[i].lid : 0);
		sqlite3_bind_text(st, 5, names[i].kind == MNID_STRING ? names[i].name : "", -1,
			SQLITE_STATIC);
		ec = store_db_step_done(t->c, st);
		if (ec != ecSuccess)
			return ec;
		ids_r[i] = (uint16_t)next;
	}
	return ecSuccess;
}

uint32_t store_named_to_ids(struct store_mailbox *mb, const struct mapi_propname *names,
	uint32_t count, bool create, uint16_t *ids_r)
{
	if (names == NULL && count > 0)
		return ecInvalidParam;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t ec = check_name(&names[i]);
		if (ec != ecSuccess)
			return ec;
	}
	/* Reads first: most names are mapped already. */
	struct rtx r;
	uint32_t ec = store_rtx_begin(mb, &r);
	if (ec != ecSuccess)
		return ec;
	bool missing = false;
	for (uint32_t i = 0; i < count && ec == ecSuccess; i++) {
		ec = lookup(r.c, &names[i], &ids_r[i]);
		missing |= ids_r[i] == 0;
	}
	store_rtx_end(&r);
	if (ec != ecSuccess || !missing || !create)
		return ec;
	struct wtx t;
	ec = store_wtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	return store_wtx_end(&t, store_named_ids_in(&t, names, count, ids_r));
}

uint32_t store_id_to_named(struct store_mailbox *mb, uint16_t id, pool_t *pool,
	struct mapi_propname *name_r)
{
	if (id < PROP_ID_NAMED_MIN)
		return ecNotFound;
	struct rtx r;
	uint32_t ec = store_rtx_begin(mb, &r);
	if (ec != ecSuccess)
		return ec;
	sqlite3_stmt *st =
		store_db_prep(r.c, "SELECT guid, kind, lid, name FROM named_props WHERE propid = ?");
	sqlite3_bind_int(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 16) {
		memset(name_r, 0, sizeof(*name_r));
		memcpy(name_r->guid.b, sqlite3_column_blob(st, 0), 16);
		name_r->kind = (uint8_t)sqlite3_column_int(st, 1);
		name_r->lid = (uint32_t)sqlite3_column_int64(st, 2);
		if (name_r->kind == MNID_STRING)
			name_r->name = pool_strdup(pool, (const char *)sqlite3_column_text(st, 3));
	} else {
		ec = rc == SQLITE_ROW || rc == SQLITE_DONE ? ecNotFound : store_db_ec(r.c, rc, "named");
	}
	sqlite3_reset(st);
	store_rtx_end(&r);
	return ec;
}
