/* Synchronization (MS-OXWSSYNC): SyncFolderHierarchy and SyncFolderItems
 * over the store's change tracking (store/changes.h). A SyncState is the
 * last change number the client has seen, bound to the mailbox and the
 * folder (ids.c); what changed since is index range scans, so a sync costs
 * the number of changes, not the folder's size. */
#include <string.h>

#include "core/str.h"
#include "mapi/propval.h"
#include "mapi/tags.h"
#include "proto/ews/items.h"
#include "store/changes.h"

/* MaxChangesReturned is 1 to 512 (the EWS reference of the element). A batch can
 * pass it when several changes share one change number (the store never
 * splits one). */
#define EWS_SYNC_MAX_CHANGES 512

/* Reads a SyncState (absent or empty: from the beginning). NULL or the
 * ResponseCode. */
static const char *sync_state_in(struct ews_req *r, xmlNode *op, char kind, mapi_id_t fid,
	uint64_t *since_r)
{
	*since_r = 0;
	xmlNode *st = http_xml_child(op, NS_M, "SyncState");
	char *text = st != NULL ? http_xml_text(r->pool, st) : NULL;
	if (text == NULL || *text == '\0')
		return NULL;
	struct ews_sync_state s;
	if (ews_sync_state_parse(text, &s) < 0 || s.kind != kind ||
		!guid_eq(&s.mailbox, &r->user->mailbox_guid) || s.fid != fid)
		return "ErrorInvalidSyncStateData";
	*since_r = s.state;
	return NULL;
}

static void sync_state_out(struct ews_req *r, char kind, mapi_id_t fid, uint64_t state)
{
	struct ews_sync_state s = {
		.kind = kind, .mailbox = r->user->mailbox_guid, .fid = fid, .state = state};
	ews_elem(r, "m:SyncState", ews_sync_state_format(r->pool, &s));
}

static int ews_sync_folder_hierarchy(struct ews_req *r, xmlNode *op)
{
	const char *msgname = "SyncFolderHierarchyResponseMessage";
	struct ews_folder_shape fs;
	ews_folder_shape_parse(r, http_xml_child(op, NS_M, "FolderShape"), &fs);
	xmlNode *ref = http_xml_first_elem(http_xml_child(op, NS_M, "SyncFolderId"));
	mapi_id_t root = 0;
	const char *err = fs.error;
	struct store_mailbox *mb;
	if (err == NULL && ews_mailbox(r, &mb) != ecSuccess)
		err = "ErrorMailboxStoreUnavailable";
	if (err == NULL && ref != NULL)
		err = ews_folder_ref(r, ref, &root);
	else if (err == NULL)
		/* no folder: the whole mailbox (its root) */
		root = store_mailbox_special_fid(r->mb, STORE_SPECIAL_ROOT);
	if (err != NULL && strcmp(err, "ErrorFolderNotFound") == 0)
		err = "ErrorSyncFolderNotFound";
	uint64_t since = 0;
	if (err == NULL)
		err = sync_state_in(r, op, 'H', root, &since);
	struct store_changes ch = {0};
	if (err == NULL) {
		uint32_t ec = store_changes_hierarchy(r->mb, root, since, r->pool, &ch);
		if (ec != ecSuccess)
			err = ews_code_for_ec(ec, true);
		else if (ch.reset)
			err = "ErrorInvalidSyncStateData";
	}
	ews_response_begin(r, "SyncFolderHierarchy");
	if (err != NULL) {
		ews_msg_error(r, msgname, err, "The folder hierarchy cannot be synchronized.");
		ews_response_end(r);
		return 0;
	}
	ews_msg_ok(r, msgname);
	sync_state_out(r, 'H', root, ch.state);
	ews_elem_bool(r, "m:IncludesLastFolderInRange", !ch.more);
	ews_start(r, "m:Changes");
	for (uint32_t i = 0; i < ch.n_changed; i++) {
		struct mapi_propvals pv = {0};
		/* a folder the principal may no longer see is left out */
		if (store_folder_get_props(r->mb, ch.changed[i].id, &fs.tags, r->pool, &pv) !=
			ecSuccess)
			continue;
		ews_start(r, ch.changed[i].created || since == 0 ? "t:Create" : "t:Update");
		ews_folder_write(r, ch.changed[i].id, &pv, &fs);
		ews_end(r);
	}
	for (uint32_t i = 0; since != 0 && i < ch.n_deleted; i++) {
		ews_start(r, "t:Delete");
		ews_write_folder_id(r, "t:FolderId", ch.deleted[i].id, NULL);
		ews_end(r);
	}
	ews_end(r);
	ews_msg_end(r);
	ews_response_end(r);
	return 0;
}

/* The ItemIds a SyncFolderItems says to leave out. */
static bool ignored(const mapi_id_t *ign, uint32_t n, mapi_id_t mid)
{
	for (uint32_t i = 0; i < n; i++)
		if (ign[i] == mid)
			return true;
	return false;
}

static int ews_sync_folder_items(struct ews_req *r, xmlNode *op)
{
	const char *msgname = "SyncFolderItemsResponseMessage";
	struct ews_item_shape s;
	ews_item_shape_parse(r, http_xml_child(op, NS_M, "ItemShape"), false, &s);
	xmlNode *ref = http_xml_first_elem(http_xml_child(op, NS_M, "SyncFolderId"));
	mapi_id_t fid = 0;
	const char *err = s.error;
	if (err == NULL)
		err = ref != NULL ? ews_folder_ref(r, ref, &fid) : "ErrorSchemaValidation";
	if (err != NULL && strcmp(err, "ErrorFolderNotFound") == 0)
		err = "ErrorSyncFolderNotFound";
	uint64_t max = 0;
	char *mc = http_xml_text(r->pool, http_xml_child(op, NS_M, "MaxChangesReturned"));
	if (err == NULL && (str_to_u64(mc, EWS_SYNC_MAX_CHANGES, &max) < 0 || max == 0))
		err = "ErrorInvalidArgument";
	char *scope = http_xml_text(r->pool, http_xml_child(op, NS_M, "SyncScope"));
	uint32_t flags = STORE_SYNC_NORMAL | STORE_SYNC_READ;
	if (strcmp(scope, "NormalAndAssociatedItems") == 0)
		flags |= STORE_SYNC_FAI;
	else if (*scope != '\0' && strcmp(scope, "NormalItems") != 0)
		err = "ErrorInvalidRequest";
	uint64_t since = 0;
	if (err == NULL)
		err = sync_state_in(r, op, 'I', fid, &since);
	/* Ignore: items the client changed itself */
	xmlNode *ign = http_xml_child(op, NS_M, "Ignore");
	uint32_t n_ign = 0;
	for (xmlNode *i = http_xml_first_elem(ign); i != NULL; i = http_xml_next_elem(i))
		n_ign++;
	mapi_id_t *ign_ids = pool_calloc(r->pool, n_ign + 1, sizeof(mapi_id_t));
	n_ign = 0;
	for (xmlNode *i = http_xml_first_elem(ign); err == NULL && i != NULL;
		i = http_xml_next_elem(i)) {
		char *text = http_xml_attr(r->pool, i, "Id");
		struct ews_id id;
		if (text == NULL || ews_id_parse(text, &id) < 0 || id.kind != EWS_ID_ITEM)
			err = "ErrorInvalidIdMalformed";
		else
			ign_ids[n_ign++] = id.mid;
	}
	struct store_changes ch = {0};
	if (err == NULL) {
		uint32_t ec = store_changes_folder(r->mb, fid, since, flags, (uint32_t)max, r->pool,
			&ch);
		if (ec != ecSuccess)
			err = ews_code_for_ec(ec, true);
		else if (ch.reset)
			err = "ErrorInvalidSyncStateData";
	}
	ews_response_begin(r, "SyncFolderItems");
	if (err != NULL) {
		ews_msg_error(r, msgname, err, "The folder's items cannot be synchronized.");
		ews_response_end(r);
		return 0;
	}
	ews_msg_ok(r, msgname);
	sync_state_out(r, 'I', fid, ch.state);
	ews_elem_bool(r, "m:IncludesLastItemInRange", !ch.more);
	ews_start(r, "m:Changes");
	/* in change-number order, as the store gives them */
	uint32_t ic = 0, id = 0, ir = 0;
	for (;;) {
		uint64_t cc = ic < ch.n_changed ? ch.changed[ic].cn : UINT64_MAX;
		uint64_t cd = since != 0 && id < ch.n_deleted ? ch.deleted[id].cn : UINT64_MAX;
		uint64_t cr = ir < ch.n_read ? ch.read[ir].cn : UINT64_MAX;
		if (cc == UINT64_MAX && cd == UINT64_MAX && cr == UINT64_MAX)
			break;
		if (cc <= cd && cc <= cr) {
			const struct store_change *c = &ch.changed[ic++];
			if (ignored(ign_ids, n_ign, c->id))
				continue;
			struct store_message *m = NULL;
			struct mapi_propvals pv = {0};
			/* gone since: its deletion comes with a later state */
			if (store_message_open(r->mb, fid, c->id, 0, &m) != ecSuccess ||
				ews_message_props(m, &s.tags, r->pool, &pv) != ecSuccess) {
				store_message_close(&m);
				continue;
			}
			ews_start(r, c->created || since == 0 ? "t:Create" : "t:Update");
			ews_item_write(r, &s, fid, c->id, &pv, s.open ? m : NULL);
			ews_end(r);
			store_message_close(&m);
		} else if (cd <= cr) {
			const struct store_deletion *d = &ch.deleted[id++];
			if (ignored(ign_ids, n_ign, d->id))
				continue;
			ews_start(r, "t:Delete");
			ews_write_item_id(r, "t:ItemId", fid, d->id, NULL);
			ews_end(r);
		} else {
			const struct store_read_change *rc = &ch.read[ir++];
			if (ignored(ign_ids, n_ign, rc->mid))
				continue;
			ews_start(r, "t:ReadFlagChange");
			ews_write_item_id(r, "t:ItemId", fid, rc->mid, NULL);
			ews_elem_bool(r, "t:IsRead", rc->read);
			ews_end(r);
		}
	}
	ews_end(r);
	ews_msg_end(r);
	ews_response_end(r);
	return 0;
}

const struct ews_op ews_sync_ops[] = {
	{"SyncFolderHierarchy", ews_sync_folder_hierarchy},
	{"SyncFolderItems", ews_sync_folder_items},
	{NULL, NULL},
};
