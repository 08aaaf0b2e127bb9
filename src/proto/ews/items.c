/* Reading items (MS-OXWSCORE, MS-OXWSSRCH): GetItem and FindItem with
 * IndexedPageItemView / FractionalPageItemView, Restriction and SortOrder
 * over the store's contents tables (keyset paging: the first page of a
 * large folder sorted by date is an index walk). */
#include <string.h>

#include "core/str.h"
#include "mapi/propval.h"
#include "mapi/tags.h"
#include "proto/ews/items.h"
#include "store/table.h"

static int ews_get_item(struct ews_req *r, xmlNode *op)
{
	const char *msg = "GetItemResponseMessage";
	struct ews_item_shape s;
	ews_item_shape_parse(r, http_xml_child(op, NS_M, "ItemShape"), false, &s);
	ews_response_begin(r, "GetItem");
	xmlNode *ids = http_xml_child(op, NS_M, "ItemIds");
	for (xmlNode *ref = http_xml_first_elem(ids); ref != NULL; ref = http_xml_next_elem(ref)) {
		mapi_id_t fid, mid;
		const char *err = s.error != NULL ? s.error : ews_item_ref(r, ref, &fid, &mid);
		struct store_message *m = NULL;
		struct mapi_propvals pv = {0};
		uint32_t ec = ecSuccess;
		if (err == NULL)
			ec = store_message_open(r->mb, fid, mid, 0, &m);
		if (err == NULL && ec == ecSuccess)
			ec = ews_message_props(m, &s.tags, r->pool, &pv);
		if (err == NULL && ec != ecSuccess)
			err = ews_code_for_ec(ec, false);
		if (err != NULL) {
			store_message_close(&m);
			ews_msg_error(r, msg, err, "The item cannot be read.");
			continue;
		}
		ews_msg_ok(r, msg);
		ews_start(r, "m:Items");
		ews_item_write(r, &s, fid, mid, &pv, m);
		ews_end(r);
		ews_msg_end(r);
		store_message_close(&m);
	}
	ews_response_end(r);
	return 0;
}

/* The view of a FindItem: which rows, and how the response says where it
 * stopped. */
struct find_view {
	bool fractional;
	uint32_t max;
	uint32_t offset; /* indexed */
	bool from_end;
	uint32_t num, den; /* fractional */
};

static const char *find_view_parse(struct ews_req *r, xmlNode *op, struct find_view *v)
{
	memset(v, 0, sizeof(*v));
	v->max = r->ews->set.max_page;
	xmlNode *iv = http_xml_child(op, NS_M, "IndexedPageItemView");
	xmlNode *fv = http_xml_child(op, NS_M, "FractionalPageItemView");
	if (http_xml_child(op, NS_M, "CalendarView") != NULL ||
		http_xml_child(op, NS_M, "ContactsView") != NULL ||
		http_xml_child(op, NS_M, "SeekToConditionPageItemView") != NULL)
		return "ErrorInvalidRequest";
	xmlNode *view = iv != NULL ? iv : fv;
	if (view == NULL)
		return NULL;
	uint64_t n;
	char *m = http_xml_attr(r->pool, view, "MaxEntriesReturned");
	if (m != NULL) {
		if (str_to_u64(m, UINT32_MAX, &n) < 0 || n == 0)
			return "ErrorInvalidPagingMaxRows";
		if (n < v->max)
			v->max = (uint32_t)n;
	}
	if (iv != NULL) {
		char *o = http_xml_attr(r->pool, iv, "Offset");
		char *b = http_xml_attr(r->pool, iv, "BasePoint");
		if (o == NULL || str_to_u64(o, UINT32_MAX, &n) < 0)
			return "ErrorInvalidIndexedPagingParameters";
		v->offset = (uint32_t)n;
		if (b != NULL && strcmp(b, "End") == 0)
			v->from_end = true;
		else if (b != NULL && strcmp(b, "Beginning") != 0)
			return "ErrorInvalidIndexedPagingParameters";
		return NULL;
	}
	v->fractional = true;
	char *nu = http_xml_attr(r->pool, fv, "Numerator");
	char *de = http_xml_attr(r->pool, fv, "Denominator");
	uint64_t d;
	if (nu == NULL || de == NULL || str_to_u64(nu, UINT32_MAX, &n) < 0 ||
		str_to_u64(de, UINT32_MAX, &d) < 0 || d == 0 || n > d)
		return "ErrorInvalidFractionalPagingParameters";
	v->num = (uint32_t)n;
	v->den = (uint32_t)d;
	return NULL;
}

struct find_query {
	struct mapi_restriction *res;
	struct mapi_sort_order sort;
	bool associated;
};

static const char *find_query_parse(struct ews_req *r, xmlNode *op, struct find_query *q)
{
	memset(q, 0, sizeof(*q));
	char *trav = http_xml_attr(r->pool, op, "Traversal");
	if (trav == NULL || (strcmp(trav, "Shallow") != 0 && strcmp(trav, "Associated") != 0 &&
				    strcmp(trav, "SoftDeleted") != 0))
		return "ErrorInvalidRequest";
	q->associated = strcmp(trav, "Associated") == 0;
	if (http_xml_child(op, NS_M, "GroupBy") != NULL ||
		http_xml_child(op, NS_M, "DistinguishedGroupBy") != NULL)
		return "ErrorInvalidRequest";
	if (http_xml_child(op, NS_M, "QueryString") != NULL)
		return "ErrorUnsupportedQueryFilter";
	xmlNode *res = http_xml_child(op, NS_M, "Restriction");
	if (res != NULL) {
		const char *err = ews_restriction_parse(r->pool, res, ews_path_resolve, r, &q->res);
		if (err != NULL)
			return err;
	}
	xmlNode *sort = http_xml_child(op, NS_M, "SortOrder");
	if (sort != NULL) {
		const char *err = ews_sort_parse(r->pool, sort, ews_path_resolve, r, &q->sort);
		if (err != NULL)
			return err;
	}
	return NULL;
}

static int ews_find_item(struct ews_req *r, xmlNode *op)
{
	const char *msg = "FindItemResponseMessage";
	struct ews_item_shape s;
	ews_item_shape_parse(r, http_xml_child(op, NS_M, "ItemShape"), true, &s);
	struct find_view v;
	struct find_query q;
	const char *qerr = s.error;
	if (qerr == NULL)
		qerr = find_view_parse(r, op, &v);
	if (qerr == NULL)
		qerr = find_query_parse(r, op, &q);
	bool soft = qerr == NULL &&
		strcmp(http_xml_attr(r->pool, op, "Traversal"), "SoftDeleted") == 0;
	ews_response_begin(r, "FindItem");
	xmlNode *parents = http_xml_child(op, NS_M, "ParentFolderIds");
	for (xmlNode *ref = http_xml_first_elem(parents); ref != NULL;
		ref = http_xml_next_elem(ref)) {
		mapi_id_t fid;
		const char *err = qerr != NULL ? qerr : ews_folder_ref(r, ref, &fid);
		if (err != NULL) {
			ews_msg_error(r, msg, err, "The items cannot be found.");
			continue;
		}
		struct store_table *t = NULL;
		uint32_t total = 0, start = 0;
		struct store_rows rows = {0};
		uint32_t ec = store_table_open_contents(r->mb, fid, q.associated, &t);
		if (ec == ecSuccess)
			ec = store_table_set_columns(t, &s.tags);
		if (ec == ecSuccess && q.res != NULL)
			ec = store_table_restrict(t, q.res);
		if (ec == ecSuccess && q.sort.count > 0)
			ec = store_table_sort(t, &q.sort);
		if (ec == ecSuccess && !soft)
			ec = store_table_row_count(t, &total);
		if (ec == ecSuccess && total > 0) {
			uint32_t want = v.max;
			if (v.fractional)
				start = (uint32_t)((uint64_t)total * v.num / v.den);
			else if (v.from_end)
				start = v.offset + v.max >= total ? 0 : total - v.offset - v.max;
			else
				start = v.offset;
			if (!v.fractional && v.from_end)
				want = v.offset >= total ? 0 :
					(total - v.offset < v.max ? total - v.offset : v.max);
			if (start < total && want > 0) {
				if (start > 0)
					ec = store_table_seek(
						t, STORE_BOOKMARK_BEGINNING, (int32_t)start, NULL);
				if (ec == ecSuccess)
					ec = store_table_query_rows(
						t, want, true, 0, r->pool, &rows, NULL);
			}
		}
		store_table_close(&t);
		if (ec != ecSuccess) {
			ews_msg_error(r, msg,
				ec == ecTooComplex ? "ErrorRestrictionTooComplex" :
						     ews_code_for_ec(ec, true),
				"The items cannot be listed.");
			continue;
		}
		ews_msg_ok(r, msg);
		ews_start(r, "m:RootFolder");
		uint32_t next = start + rows.count;
		if (v.fractional) {
			ews_attr(r, "NumeratorOffset", pool_printf(r->pool, "%u", next));
			ews_attr(r, "AbsoluteDenominator", pool_printf(r->pool, "%u", total));
		} else {
			ews_attr(r, "IndexedPagingOffset",
				pool_printf(r->pool, "%u",
					v.from_end ? v.offset + rows.count : next));
		}
		ews_attr(r, "TotalItemsInView", pool_printf(r->pool, "%u", total));
		ews_attr(r, "IncludesLastItemInRange",
			(!v.fractional && v.from_end ? start == 0 : next >= total) ? "true" :
										     "false");
		ews_start(r, "t:Items");
		for (uint32_t i = 0; i < rows.count; i++) {
			struct store_message *m = NULL;
			if (s.open &&
				store_message_open(r->mb, fid, (mapi_id_t)rows.ids[i], 0, &m) != ecSuccess)
				continue; /* gone since the row was read */
			ews_item_write(r, &s, fid, (mapi_id_t)rows.ids[i], &rows.rows[i], m);
			store_message_close(&m);
		}
		ews_end(r);
		ews_end(r);
		ews_msg_end(r);
	}
	ews_response_end(r);
	return 0;
}

const struct ews_op ews_item_ops[] = {
	{"GetItem", ews_get_item},
	{"FindItem", ews_find_item},
	{NULL, NULL},
};
