/* Folder changes (MS-OXWSFOLD): CreateFolder, UpdateFolder, DeleteFolder,
 * MoveFolder, CopyFolder, EmptyFolder. Each folder of a request gets its
 * own response message; one that fails does not stop the others. */
#include <string.h>

#include "core/str.h"
#include "mapi/propval.h"
#include "mapi/tags.h"
#include "proto/ews/ews_private.h"
#include "store/table.h"

/* Names tried when a folder moved to Deleted Items meets a namesake. */
#define EWS_RENAME_TRIES 100

/* The properties a folder element of a request carries: DisplayName,
 * FolderClass and ExtendedProperty (the rest of FolderType is computed
 * or not offered). NULL or the ResponseCode. */
static const char *folder_elem_props(struct ews_req *r, const xmlNode *folder,
	struct mapi_propvals *props, const char **name_r)
{
	*name_r = NULL;
	for (xmlNode *c = http_xml_first_elem(folder); c != NULL; c = http_xml_next_elem(c)) {
		if (http_xml_is(c, NS_T, "DisplayName")) {
			char *name = http_xml_text(r->pool, c);
			if (*name == '\0')
				return "ErrorInvalidPropertySet";
			*name_r = name;
		} else if (http_xml_is(c, NS_T, "FolderClass")) {
			mapi_propvals_set_str(r->pool, props, PR_CONTAINER_CLASS,
				http_xml_text(r->pool, c));
		} else if (http_xml_is(c, NS_T, "ExtendedProperty")) {
			struct ews_ext e;
			const char *err = ews_ext_parse(r->pool,
				http_xml_child(c, NS_T, "ExtendedFieldURI"), &e);
			if (err == NULL)
				err = ews_ext_resolve(r, &e, true);
			if (err != NULL)
				return err;
			union mapi_pvalue v;
			if (ews_ext_value_parse(r->pool, e.type, c, &v) < 0)
				return "ErrorInvalidExtendedPropertyValue";
			mapi_propvals_set_nocopy(r->pool, props, e.tag, v);
		} else if (http_xml_is(c, NS_T, "FolderId") ||
			http_xml_is(c, NS_T, "ParentFolderId") ||
			http_xml_is(c, NS_T, "TotalCount") ||
			http_xml_is(c, NS_T, "ChildFolderCount") ||
			http_xml_is(c, NS_T, "UnreadCount")) {
			return "ErrorInvalidPropertySet";
		}
	}
	return NULL;
}

static const char *folder_default_class(const xmlNode *folder)
{
	if (http_xml_is(folder, NS_T, "CalendarFolder"))
		return "IPF.Appointment";
	if (http_xml_is(folder, NS_T, "ContactsFolder"))
		return "IPF.Contact";
	if (http_xml_is(folder, NS_T, "TasksFolder"))
		return "IPF.Task";
	/* A plain Folder keeps no class, as on Exchange (clients such as
	 * exchangelib then read it back as the generic kind they made). */
	return NULL;
}

static int ews_create_folder(struct ews_req *r, xmlNode *op)
{
	const char *msg = "CreateFolderResponseMessage";
	xmlNode *pref = http_xml_first_elem(http_xml_child(op, NS_M, "ParentFolderId"));
	mapi_id_t parent = 0;
	const char *perr = pref != NULL ? ews_folder_ref(r, pref, &parent) : "ErrorSchemaValidation";
	ews_response_begin(r, "CreateFolder");
	xmlNode *folders = http_xml_child(op, NS_M, "Folders");
	for (xmlNode *f = http_xml_first_elem(folders); f != NULL; f = http_xml_next_elem(f)) {
		if (perr != NULL) {
			ews_msg_error(r, msg, perr, "The parent folder cannot be found.");
			continue;
		}
		if (http_xml_is(f, NS_T, "SearchFolder")) {
			ews_msg_error(r, msg, "ErrorInvalidRequest",
				"Search folders are not offered yet.");
			continue;
		}
		struct mapi_propvals props = {0};
		const char *name;
		const char *err = folder_elem_props(r, f, &props, &name);
		if (err == NULL && name == NULL)
			err = "ErrorRequiredPropertyMissing";
		if (err != NULL) {
			ews_msg_error(r, msg, err, "The folder's properties are invalid.");
			continue;
		}
		if (mapi_propvals_get(&props, PR_CONTAINER_CLASS) == NULL &&
			folder_default_class(f) != NULL)
			mapi_propvals_set_str(r->pool, &props, PR_CONTAINER_CLASS,
				folder_default_class(f));
		mapi_id_t fid;
		uint32_t ec = store_folder_create(
			r->mb, parent, name, STORE_FOLDER_GENERIC, &props, 0, &fid);
		if (ec != ecSuccess) {
			ews_msg_error(r, msg,
				ec == ecAccessDenied ? "ErrorCreateSubfolderAccessDenied" :
						       ews_code_for_ec(ec, true),
				"The folder cannot be created.");
			continue;
		}
		ews_msg_ok(r, msg);
		ews_start(r, "m:Folders");
		ews_write_folder_brief(r, fid);
		ews_end(r);
		ews_msg_end(r);
	}
	ews_response_end(r);
	return 0;
}

/* One Set/Append/DeleteFolderField. Adds to the properties to set or the
 * tags to delete. NULL or the ResponseCode. */
static const char *folder_change(struct ews_req *r, const xmlNode *upd,
	struct mapi_propvals *set, uint32_t *del, uint32_t *n_del)
{
	bool is_set = http_xml_is(upd, NS_T, "SetFolderField");
	bool is_del = http_xml_is(upd, NS_T, "DeleteFolderField");
	if (http_xml_is(upd, NS_T, "AppendToFolderField"))
		return "ErrorInvalidPropertyAppend";
	if (!is_set && !is_del)
		return "ErrorSchemaValidation";
	xmlNode *path = http_xml_first_elem(upd);
	if (path == NULL)
		return "ErrorSchemaValidation";
	xmlNode *folder = is_set ? http_xml_next_elem(path) : NULL;
	if (is_set && folder == NULL)
		return "ErrorSchemaValidation";
	if (http_xml_is(path, NS_T, "ExtendedFieldURI")) {
		struct ews_ext e;
		const char *err = ews_ext_parse(r->pool, path, &e);
		if (err == NULL)
			err = ews_ext_resolve(r, &e, is_set);
		if (err != NULL)
			return err;
		if (is_del) {
			if (e.tag != 0)
				del[(*n_del)++] = e.tag;
			return NULL;
		}
		xmlNode *xp = http_xml_child(folder, NS_T, "ExtendedProperty");
		union mapi_pvalue v;
		if (xp == NULL || ews_ext_value_parse(r->pool, e.type, xp, &v) < 0)
			return "ErrorInvalidExtendedPropertyValue";
		mapi_propvals_set_nocopy(r->pool, set, e.tag, v);
		return NULL;
	}
	if (!http_xml_is(path, NS_T, "FieldURI"))
		return "ErrorInvalidPropertyRequest";
	char *uri = http_xml_attr(r->pool, path, "FieldURI");
	if (uri == NULL)
		return "ErrorSchemaValidation";
	if (strcmp(uri, "folder:DisplayName") == 0) {
		if (is_del)
			return "ErrorInvalidPropertyDelete";
		char *name = http_xml_text(r->pool, http_xml_child(folder, NS_T, "DisplayName"));
		if (*name == '\0')
			return "ErrorInvalidPropertySet";
		mapi_propvals_set_str(r->pool, set, PR_DISPLAY_NAME, name);
		return NULL;
	}
	if (strcmp(uri, "folder:FolderClass") == 0) {
		if (is_del) {
			del[(*n_del)++] = PR_CONTAINER_CLASS;
			return NULL;
		}
		xmlNode *c = http_xml_child(folder, NS_T, "FolderClass");
		if (c == NULL)
			return "ErrorInvalidPropertySet";
		mapi_propvals_set_str(r->pool, set, PR_CONTAINER_CLASS, http_xml_text(r->pool, c));
		return NULL;
	}
	/* exchangelib clears every writable field it does not hold on an
	 * update, PermissionSet included; permissions are not offered
	 * through EWS (store/acl.h keeps them), so clearing it changes
	 * nothing and setting it is refused. */
	if (is_del && strcmp(uri, "folder:PermissionSet") == 0)
		return NULL;
	return is_del ? "ErrorInvalidPropertyDelete" : "ErrorInvalidPropertySet";
}

static int ews_update_folder(struct ews_req *r, xmlNode *op)
{
	const char *msg = "UpdateFolderResponseMessage";
	ews_response_begin(r, "UpdateFolder");
	xmlNode *changes = http_xml_child(op, NS_M, "FolderChanges");
	for (xmlNode *ch = http_xml_first_elem(changes); ch != NULL; ch = http_xml_next_elem(ch)) {
		xmlNode *ref = http_xml_first_elem(ch);
		xmlNode *updates = http_xml_child(ch, NS_T, "Updates");
		mapi_id_t fid;
		const char *err = ref != NULL ? ews_folder_ref(r, ref, &fid) : "ErrorSchemaValidation";
		uint32_t n = 0;
		for (xmlNode *u = http_xml_first_elem(updates); u != NULL; u = http_xml_next_elem(u))
			n++;
		struct mapi_propvals set = {0};
		uint32_t *del = pool_calloc(r->pool, n + 1, sizeof(uint32_t));
		uint32_t n_del = 0;
		for (xmlNode *u = http_xml_first_elem(updates); err == NULL && u != NULL;
			u = http_xml_next_elem(u))
			err = folder_change(r, u, &set, del, &n_del);
		uint32_t ec = ecSuccess;
		if (err == NULL && set.count > 0)
			ec = store_folder_set_props(r->mb, fid, &set, NULL);
		if (err == NULL && ec == ecSuccess && n_del > 0) {
			struct mapi_tags t = {n_del, del};
			ec = store_folder_delete_props(r->mb, fid, &t, NULL);
		}
		if (err == NULL && ec != ecSuccess)
			err = ec == ecInvalidParam ? "ErrorInvalidPropertySet" :
						     ews_code_for_ec(ec, true);
		if (err != NULL) {
			ews_msg_error(r, msg, err, "The folder cannot be updated.");
			continue;
		}
		ews_msg_ok(r, msg);
		ews_start(r, "m:Folders");
		ews_write_folder_brief(r, fid);
		ews_end(r);
		ews_msg_end(r);
	}
	ews_response_end(r);
	return 0;
}

/* True if fid is below (or is) ancestor. */
static bool folder_is_below(struct ews_req *r, mapi_id_t fid, mapi_id_t ancestor)
{
	static const uint32_t tv[] = {PR_PARENT_FOLDER_ID};
	const struct mapi_tags tags = {1, (uint32_t *)tv};
	for (int depth = 0; fid != 0 && depth < 1000; depth++) {
		if (fid == ancestor)
			return true;
		struct mapi_propvals pv = {0};
		if (store_folder_get_props(r->mb, fid, &tags, r->pool, &pv) != ecSuccess)
			return false;
		mapi_id_t parent = (mapi_id_t)mapi_propvals_get_i8(&pv, PR_PARENT_FOLDER_ID, 0);
		if (parent == fid)
			return false;
		fid = parent;
	}
	return false;
}

/* Moves fid under dst, renaming "Name", "Name 1", "Name 2"... when dst
 * holds a namesake (moving to Deleted Items must not fail on a name). */
static uint32_t folder_move_renaming(struct ews_req *r, mapi_id_t fid, mapi_id_t dst)
{
	uint32_t ec = store_folder_move(r->mb, fid, dst, NULL);
	if (ec != ecDuplicateName)
		return ec;
	static const uint32_t tv[] = {PR_DISPLAY_NAME};
	const struct mapi_tags tags = {1, (uint32_t *)tv};
	struct mapi_propvals pv = {0};
	ec = store_folder_get_props(r->mb, fid, &tags, r->pool, &pv);
	const char *name = mapi_propvals_get_str(&pv, PR_DISPLAY_NAME);
	if (ec != ecSuccess || name == NULL)
		return ecDuplicateName;
	for (int i = 1; i < EWS_RENAME_TRIES; i++) {
		ec = store_folder_move(r->mb, fid, dst, pool_printf(r->pool, "%s %d", name, i));
		if (ec != ecDuplicateName)
			return ec;
	}
	return ecDuplicateName;
}

enum ews_delete_type ews_delete_type(const char *s)
{
	if (s == NULL)
		return EWS_DELETE_INVALID;
	if (strcmp(s, "HardDelete") == 0)
		return EWS_DELETE_HARD;
	if (strcmp(s, "SoftDelete") == 0)
		return EWS_DELETE_SOFT;
	if (strcmp(s, "MoveToDeletedItems") == 0)
		return EWS_DELETE_TO_DELETED_ITEMS;
	return EWS_DELETE_INVALID;
}

static int ews_delete_folder(struct ews_req *r, xmlNode *op)
{
	const char *msg = "DeleteFolderResponseMessage";
	enum ews_delete_type dt = ews_delete_type(http_xml_attr(r->pool, op, "DeleteType"));
	ews_response_begin(r, "DeleteFolder");
	xmlNode *ids = http_xml_child(op, NS_M, "FolderIds");
	for (xmlNode *ref = http_xml_first_elem(ids); ref != NULL; ref = http_xml_next_elem(ref)) {
		mapi_id_t fid;
		const char *err = dt == EWS_DELETE_INVALID ? "ErrorInvalidRequest" :
							 ews_folder_ref(r, ref, &fid);
		if (err == NULL && ews_folder_is_special(r->mb, fid))
			err = "ErrorDeleteDistinguishedFolder";
		if (err == NULL) {
			mapi_id_t deleted = store_mailbox_special_fid(r->mb,
				STORE_SPECIAL_DELETED_ITEMS);
			uint32_t ec;
			/* SoftDelete goes to the recoverable items on Exchange;
			 * hermod has none, so it is a hard delete. A folder
			 * already in Deleted Items is deleted for good. */
			if (dt == EWS_DELETE_TO_DELETED_ITEMS && !folder_is_below(r, fid, deleted))
				ec = folder_move_renaming(r, fid, deleted);
			else
				ec = store_folder_delete(r->mb, fid,
					STORE_DEL_MESSAGES | STORE_DEL_FOLDERS);
			if (ec != ecSuccess)
				err = ews_code_for_ec(ec, true);
		}
		if (err != NULL) {
			ews_msg_error(r, msg, err, "The folder cannot be deleted.");
			continue;
		}
		ews_msg_ok(r, msg);
		ews_msg_end(r);
	}
	ews_response_end(r);
	return 0;
}

static int ews_move_copy_folder(struct ews_req *r, xmlNode *op, bool copy)
{
	const char *name = copy ? "CopyFolder" : "MoveFolder";
	const char *msg = copy ? "CopyFolderResponseMessage" : "MoveFolderResponseMessage";
	xmlNode *tref = http_xml_first_elem(http_xml_child(op, NS_M, "ToFolderId"));
	mapi_id_t dst = 0;
	const char *derr = tref != NULL ? ews_folder_ref(r, tref, &dst) : "ErrorSchemaValidation";
	if (derr != NULL && strcmp(derr, "ErrorFolderNotFound") == 0)
		derr = "ErrorToFolderNotFound";
	ews_response_begin(r, name);
	xmlNode *ids = http_xml_child(op, NS_M, "FolderIds");
	for (xmlNode *ref = http_xml_first_elem(ids); ref != NULL; ref = http_xml_next_elem(ref)) {
		mapi_id_t fid, out = 0;
		const char *err = derr != NULL ? derr : ews_folder_ref(r, ref, &fid);
		if (err == NULL && !copy && ews_folder_is_special(r->mb, fid))
			err = "ErrorMoveDistinguishedFolder";
		if (err == NULL) {
			uint32_t ec = copy ? store_folder_copy(r->mb, fid, dst, NULL, true, &out) :
					     store_folder_move(r->mb, fid, dst, NULL);
			if (!copy)
				out = fid;
			if (ec == ecFolderCycle || ec == ecDuplicateName)
				err = ec == ecDuplicateName ? "ErrorFolderExists" :
							      "ErrorMoveCopyFailed";
			else if (ec != ecSuccess)
				err = ews_code_for_ec(ec, true);
		}
		if (err != NULL) {
			ews_msg_error(r, msg, err, "The folder cannot be moved or copied.");
			continue;
		}
		ews_msg_ok(r, msg);
		ews_start(r, "m:Folders");
		ews_write_folder_brief(r, out);
		ews_end(r);
		ews_msg_end(r);
	}
	ews_response_end(r);
	return 0;
}

static int ews_move_folder(struct ews_req *r, xmlNode *op)
{
	return ews_move_copy_folder(r, op, false);
}

static int ews_copy_folder(struct ews_req *r, xmlNode *op)
{
	return ews_move_copy_folder(r, op, true);
}

/* Every normal message of fid, for EmptyFolder without subfolders. */
static uint32_t folder_all_mids(struct ews_req *r, mapi_id_t fid, mapi_id_t **mids_r,
	uint32_t *n_r)
{
	struct store_table *t = NULL;
	uint32_t ec = store_table_open_contents(r->mb, fid, false, &t);
	uint32_t total = 0;
	if (ec == ecSuccess)
		ec = store_table_row_count(t, &total);
	struct store_rows rows = {0};
	if (ec == ecSuccess && total > 0)
		ec = store_table_query_rows(t, total, true, 0, r->pool, &rows, NULL);
	store_table_close(&t);
	*mids_r = rows.ids;
	*n_r = rows.count;
	return ec;
}

static int ews_empty_folder(struct ews_req *r, xmlNode *op)
{
	const char *msg = "EmptyFolderResponseMessage";
	enum ews_delete_type dt = ews_delete_type(http_xml_attr(r->pool, op, "DeleteType"));
	bool subfolders = false;
	char *sub = http_xml_attr(r->pool, op, "DeleteSubFolders");
	bool bad = dt == EWS_DELETE_INVALID || (sub != NULL && ews_parse_bool(sub, &subfolders) < 0);
	ews_response_begin(r, "EmptyFolder");
	xmlNode *ids = http_xml_child(op, NS_M, "FolderIds");
	for (xmlNode *ref = http_xml_first_elem(ids); ref != NULL; ref = http_xml_next_elem(ref)) {
		mapi_id_t fid;
		const char *err = bad ? "ErrorInvalidRequest" : ews_folder_ref(r, ref, &fid);
		if (err == NULL) {
			mapi_id_t deleted = store_mailbox_special_fid(r->mb,
				STORE_SPECIAL_DELETED_ITEMS);
			uint32_t ec;
			if (dt == EWS_DELETE_TO_DELETED_ITEMS && fid != deleted) {
				mapi_id_t *mids;
				uint32_t n;
				ec = folder_all_mids(r, fid, &mids, &n);
				if (ec == ecSuccess && n > 0)
					ec = store_messages_move(r->mb, fid, deleted, mids, n,
						false, NULL, NULL);
				if (ec == ecSuccess && subfolders) {
					struct store_table *t = NULL;
					struct store_rows rows = {0};
					ec = store_table_open_hierarchy(r->mb, fid, false, &t);
					if (ec == ecSuccess)
						ec = store_table_query_rows(t, 100000, true, 0,
							r->pool, &rows, NULL);
					store_table_close(&t);
					for (uint32_t i = 0; ec == ecSuccess && i < rows.count; i++)
						ec = folder_move_renaming(r, rows.ids[i], deleted);
				}
			} else if (subfolders) {
				ec = store_folder_empty(r->mb, fid, false);
			} else {
				mapi_id_t *mids;
				uint32_t n;
				ec = folder_all_mids(r, fid, &mids, &n);
				if (ec == ecSuccess && n > 0)
					ec = store_messages_delete(r->mb, fid, mids, n, NULL);
			}
			if (ec != ecSuccess)
				err = ec == ecAccessDenied ? "ErrorAccessDenied" :
							     ews_code_for_ec(ec, true);
		}
		if (err != NULL) {
			ews_msg_error(r, msg, err, "The folder cannot be emptied.");
			continue;
		}
		ews_msg_ok(r, msg);
		ews_msg_end(r);
	}
	ews_response_end(r);
	return 0;
}

const struct ews_op ews_folder_write_ops[] = {
	{"CreateFolder", ews_create_folder},
	{"UpdateFolder", ews_update_folder},
	{"DeleteFolder", ews_delete_folder},
	{"MoveFolder", ews_move_folder},
	{"CopyFolder", ews_copy_folder},
	{"EmptyFolder", ews_empty_folder},
	{NULL, NULL},
};
