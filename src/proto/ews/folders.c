/* Folder operations (MS-OXWSFOLD): GetFolder, FindFolder. */
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "mapi/propval.h"
#include "mapi/tags.h"
#include "proto/ews/ews_private.h"
#include "store/table.h"

static const uint32_t folder_base_tags[] = {
	PR_FOLDER_ID, PR_PARENT_FOLDER_ID, PR_CONTAINER_CLASS, PR_DISPLAY_NAME, PR_CONTENT_COUNT,
	PR_FOLDER_CHILD_COUNT, PR_CONTENT_UNREAD, PR_CHANGE_KEY, PR_FOLDER_TYPE,
};
#define N_BASE_TAGS (sizeof(folder_base_tags) / sizeof(folder_base_tags[0]))

void ews_folder_shape_parse(struct ews_req *r, const xmlNode *shape_node, struct ews_folder_shape *fs)
{
	memset(fs, 0, sizeof(*fs));
	char *base = http_xml_text(r->pool, http_xml_child(shape_node, NS_T, "BaseShape"));
	if (strcmp(base, "IdOnly") == 0)
		fs->base = EWS_SHAPE_ID_ONLY;
	else if (strcmp(base, "AllProperties") == 0)
		fs->base = EWS_SHAPE_ALL;
	else
		fs->base = EWS_SHAPE_DEFAULT;
	if (fs->base != EWS_SHAPE_ID_ONLY) {
		fs->display_name = fs->total = fs->child_count = fs->unread = true;
	}
	if (fs->base == EWS_SHAPE_ALL)
		fs->parent = fs->folder_class = true;
	xmlNode *add = http_xml_child(shape_node, NS_T, "AdditionalProperties");
	uint32_t n = 0;
	for (xmlNode *p = http_xml_first_elem(add); p != NULL; p = http_xml_next_elem(p))
		n++;
	fs->ext = pool_calloc(r->pool, n + 1, sizeof(*fs->ext));
	fs->tags.tags = pool_calloc(r->pool, N_BASE_TAGS + n, sizeof(uint32_t));
	memcpy(fs->tags.tags, folder_base_tags, sizeof(folder_base_tags));
	fs->tags.count = N_BASE_TAGS;
	for (xmlNode *p = http_xml_first_elem(add); p != NULL; p = http_xml_next_elem(p)) {
		if (http_xml_is(p, NS_T, "ExtendedFieldURI")) {
			struct ews_ext *e = &fs->ext[fs->n_ext];
			const char *err = ews_ext_parse(r->pool, p, e);
			if (err == NULL)
				err = ews_ext_resolve(r, e, false);
			if (err != NULL) {
				fs->error = err;
				continue;
			}
			fs->n_ext++;
			if (e->tag != 0)
				fs->tags.tags[fs->tags.count++] = e->tag;
			continue;
		}
		if (!http_xml_is(p, NS_T, "FieldURI"))
			continue;
		char *uri = http_xml_attr(r->pool, p, "FieldURI");
		if (uri == NULL)
			continue;
		if (strcmp(uri, "folder:ParentFolderId") == 0)
			fs->parent = true;
		else if (strcmp(uri, "folder:FolderClass") == 0)
			fs->folder_class = true;
		else if (strcmp(uri, "folder:DisplayName") == 0)
			fs->display_name = true;
		else if (strcmp(uri, "folder:TotalCount") == 0)
			fs->total = true;
		else if (strcmp(uri, "folder:ChildFolderCount") == 0)
			fs->child_count = true;
		else if (strcmp(uri, "folder:UnreadCount") == 0)
			fs->unread = true;
	}
}

const char *ews_folder_elem(const char *cls, int32_t type)
{
	if (type == STORE_FOLDER_SEARCH)
		return "t:SearchFolder";
	if (cls == NULL)
		return "t:Folder";
	if (str_starts_with(cls, "IPF.Appointment"))
		return "t:CalendarFolder";
	if (str_starts_with(cls, "IPF.Contact"))
		return "t:ContactsFolder";
	if (str_starts_with(cls, "IPF.Task"))
		return "t:TasksFolder";
	return "t:Folder";
}

bool ews_folder_is_special(struct store_mailbox *mb, mapi_id_t fid)
{
	for (int i = 0; i < STORE_SPECIAL_COUNT; i++)
		if (store_mailbox_special_fid(mb, (enum store_special)i) == fid)
			return true;
	return false;
}

void ews_write_folder_brief(struct ews_req *r, mapi_id_t fid)
{
	static const uint32_t tv[] = {PR_CONTAINER_CLASS, PR_FOLDER_TYPE, PR_CHANGE_KEY};
	const struct mapi_tags tags = {3, (uint32_t *)tv};
	struct mapi_propvals pv = {0};
	store_folder_get_props(r->mb, fid, &tags, r->pool, &pv);
	ews_start(r, ews_folder_elem(mapi_propvals_get_str(&pv, PR_CONTAINER_CLASS),
			     mapi_propvals_get_long(&pv, PR_FOLDER_TYPE, STORE_FOLDER_GENERIC)));
	ews_write_folder_id(r, "t:FolderId", fid, mapi_propvals_get_bin(&pv, PR_CHANGE_KEY));
	ews_end(r);
}

void ews_folder_write(struct ews_req *r, mapi_id_t fid, const struct mapi_propvals *pv,
	const struct ews_folder_shape *fs)
{
	const char *cls = mapi_propvals_get_str(pv, PR_CONTAINER_CLASS);
	int32_t type = mapi_propvals_get_long(pv, PR_FOLDER_TYPE, STORE_FOLDER_GENERIC);
	const char *elem = ews_folder_elem(cls, type);
	ews_start(r, elem);
	ews_write_folder_id(r, "t:FolderId", fid, mapi_propvals_get_bin(pv, PR_CHANGE_KEY));
	int64_t parent = mapi_propvals_get_i8(pv, PR_PARENT_FOLDER_ID, 0);
	if (fs->parent && parent != 0)
		ews_write_folder_id(r, "t:ParentFolderId", (mapi_id_t)parent, NULL);
	if (fs->folder_class && cls != NULL)
		ews_elem(r, "t:FolderClass", cls);
	if (fs->display_name)
		ews_elem(r, "t:DisplayName", mapi_propvals_get_str(pv, PR_DISPLAY_NAME) != NULL ?
				mapi_propvals_get_str(pv, PR_DISPLAY_NAME) :
				"");
	if (fs->total)
		ews_elem_int(r, "t:TotalCount", mapi_propvals_get_long(pv, PR_CONTENT_COUNT, 0));
	if (fs->child_count)
		ews_elem_int(r, "t:ChildFolderCount",
			mapi_propvals_get_long(pv, PR_FOLDER_CHILD_COUNT, 0));
	/* MS-OXWSXPROP: only the properties the folder has. */
	for (uint32_t i = 0; i < fs->n_ext; i++) {
		if (fs->ext[i].tag == 0)
			continue;
		const struct mapi_propval *v = mapi_propvals_get(pv, fs->ext[i].tag);
		if (v != NULL && PROP_TYPE(v->tag) != PT_ERROR)
			ews_ext_write(r, &fs->ext[i], v);
	}
	/* UnreadCount belongs to FolderType and its kind (not to the
	 * contacts, tasks or calendar folders' own sequences). */
	if (fs->unread && (strcmp(elem, "t:Folder") == 0 || strcmp(elem, "t:SearchFolder") == 0))
		ews_elem_int(r, "t:UnreadCount", mapi_propvals_get_long(pv, PR_CONTENT_UNREAD, 0));
	ews_end(r);
}

static int ews_get_folder(struct ews_req *r, xmlNode *op)
{
	struct ews_folder_shape fs;
	ews_folder_shape_parse(r, http_xml_child(op, NS_M, "FolderShape"), &fs);
	xmlNode *ids = http_xml_child(op, NS_M, "FolderIds");
	ews_response_begin(r, "GetFolder");
	for (xmlNode *ref = http_xml_first_elem(ids); ref != NULL; ref = http_xml_next_elem(ref)) {
		mapi_id_t fid;
		const char *err = ews_folder_ref(r, ref, &fid);
		if (err != NULL) {
			ews_msg_error(r, "GetFolderResponseMessage", err, "The folder cannot be found.");
			continue;
		}
		if (fs.error != NULL) {
			ews_msg_error(r, "GetFolderResponseMessage", fs.error,
				"The extended property is invalid.");
			continue;
		}
		struct mapi_propvals pv = {0};
		uint32_t ec = store_folder_get_props(r->mb, fid, &fs.tags, r->pool, &pv);
		if (ec != ecSuccess) {
			ews_msg_error(r, "GetFolderResponseMessage", ews_code_for_ec(ec, true),
				"The folder cannot be read.");
			continue;
		}
		ews_msg_ok(r, "GetFolderResponseMessage");
		ews_start(r, "m:Folders");
		ews_folder_write(r, fid, &pv, &fs);
		ews_end(r);
		ews_msg_end(r);
	}
	ews_response_end(r);
	return 0;
}

static int ews_find_folder(struct ews_req *r, xmlNode *op)
{
	struct ews_folder_shape fs;
	ews_folder_shape_parse(r, http_xml_child(op, NS_M, "FolderShape"), &fs);
	char *traversal = http_xml_attr(r->pool, op, "Traversal");
	bool deep = traversal != NULL && strcmp(traversal, "Deep") == 0;
	if (traversal != NULL && !deep && strcmp(traversal, "Shallow") != 0) {
		ews_response_begin(r, "FindFolder");
		ews_msg_error(r, "FindFolderResponseMessage", "ErrorInvalidRequest",
			"Traversal must be Shallow or Deep.");
		ews_response_end(r);
		return 0;
	}
	/* IndexedPageFolderView (MS-OXWSFOLD 3.1.4.6): MaxEntriesReturned,
	 * Offset, BasePoint Beginning/End. */
	uint32_t max = r->ews->set.max_page, offset = 0;
	bool from_end = false;
	xmlNode *view = http_xml_child(op, NS_M, "IndexedPageFolderView");
	if (view != NULL) {
		char *m = http_xml_attr(r->pool, view, "MaxEntriesReturned");
		char *o = http_xml_attr(r->pool, view, "Offset");
		char *b = http_xml_attr(r->pool, view, "BasePoint");
		uint64_t v;
		if (m != NULL && str_to_u64(m, UINT32_MAX, &v) == 0 && v > 0 && v < max)
			max = (uint32_t)v;
		if (o != NULL && str_to_u64(o, UINT32_MAX, &v) == 0)
			offset = (uint32_t)v;
		from_end = b != NULL && strcmp(b, "End") == 0;
	}
	xmlNode *parents = http_xml_child(op, NS_M, "ParentFolderIds");
	ews_response_begin(r, "FindFolder");
	for (xmlNode *ref = http_xml_first_elem(parents); ref != NULL;
		ref = http_xml_next_elem(ref)) {
		mapi_id_t fid;
		const char *err = ews_folder_ref(r, ref, &fid);
		if (err == NULL)
			err = fs.error;
		if (err != NULL) {
			ews_msg_error(r, "FindFolderResponseMessage", err, "The folder cannot be found.");
			continue;
		}
		struct store_table *t = NULL;
		uint32_t ec = store_table_open_hierarchy(r->mb, fid, deep, &t);
		uint32_t total = 0;
		if (ec == ecSuccess)
			ec = store_table_set_columns(t, &fs.tags);
		if (ec == ecSuccess)
			ec = store_table_row_count(t, &total);
		struct store_rows rows = {0};
		uint32_t start = 0;
		if (ec == ecSuccess) {
			start = from_end ? (offset + max >= total ? 0 : total - offset - max) : offset;
			uint32_t want = from_end && offset + max > total ?
				(total > offset ? total - offset : 0) :
				max;
			if (start < total && want > 0) {
				ec = store_table_seek(t, STORE_BOOKMARK_BEGINNING, (int32_t)start, NULL);
				if (ec == ecSuccess)
					ec = store_table_query_rows(t, want, true, 0, r->pool, &rows, NULL);
			}
		}
		store_table_close(&t);
		if (ec != ecSuccess) {
			ews_msg_error(r, "FindFolderResponseMessage", ews_code_for_ec(ec, true),
				"The folders cannot be listed.");
			continue;
		}
		ews_msg_ok(r, "FindFolderResponseMessage");
		ews_start(r, "m:RootFolder");
		uint32_t next = start + rows.count;
		ews_attr(r, "IndexedPagingOffset", pool_printf(r->pool, "%u", from_end ?
				offset + rows.count : next));
		ews_attr(r, "TotalItemsInView", pool_printf(r->pool, "%u", total));
		ews_attr(r, "IncludesLastItemInRange",
			(from_end ? start == 0 : next >= total) ? "true" : "false");
		ews_start(r, "t:Folders");
		for (uint32_t i = 0; i < rows.count; i++)
			ews_folder_write(r, (mapi_id_t)rows.ids[i], &rows.rows[i], &fs);
		ews_end(r);
		ews_end(r);
		ews_msg_end(r);
	}
	ews_response_end(r);
	return 0;
}

const struct ews_op ews_folder_ops[] = {
	{"GetFolder", ews_get_folder},
	{"FindFolder", ews_find_folder},
	{NULL, NULL},
};
