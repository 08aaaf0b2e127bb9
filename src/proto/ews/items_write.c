/* Changing items (MS-OXWSCORE, MS-OXWSMSG): CreateItem (SaveOnly,
 * SendOnly, SendAndSaveCopy), UpdateItem (Set/Append/DeleteItemField with
 * change-key conflict detection), DeleteItem, MoveItem, CopyItem,
 * SendItem, MarkAllItemsAsRead. Every item gets its own response message.
 *
 * An item created or changed here gets MIME written from its properties
 * (ews_message_set_mime), so IMAP and POP3, which serve MIME, show it as
 * EWS does. */
#include <string.h>

#include "convert/body.h"
#include "convert/msgutil.h"
#include "core/str.h"
#include "mapi/propval.h"
#include "mapi/tags.h"
#include "proto/ews/items.h"
#include "store/table.h"
#include "transport/submit.h"

enum disposition {
	DISP_SAVE_ONLY,
	DISP_SEND_ONLY,
	DISP_SEND_AND_SAVE,
	DISP_NONE,
	DISP_INVALID,
};

static enum disposition disposition_parse(const char *s)
{
	if (s == NULL)
		return DISP_NONE;
	if (strcmp(s, "SaveOnly") == 0)
		return DISP_SAVE_ONLY;
	if (strcmp(s, "SendOnly") == 0)
		return DISP_SEND_ONLY;
	if (strcmp(s, "SendAndSaveCopy") == 0)
		return DISP_SEND_AND_SAVE;
	return DISP_INVALID;
}

/* <t:Message><t:ItemId .../></t:Message> of a saved message. */
static void write_item_brief(struct ews_req *r, mapi_id_t fid, mapi_id_t mid)
{
	static const uint32_t tv[] = {PR_MESSAGE_CLASS, PR_CHANGE_KEY};
	const struct mapi_tags tags = {2, (uint32_t *)tv};
	struct store_message *m = NULL;
	struct mapi_propvals pv = {0};
	if (store_message_open(r->mb, fid, mid, 0, &m) == ecSuccess)
		store_message_get_props(m, &tags, r->pool, &pv);
	store_message_close(&m);
	ews_start(r, ews_item_elem(mapi_propvals_get_str(&pv, PR_MESSAGE_CLASS)));
	ews_write_item_id(r, "t:ItemId", fid, mid, mapi_propvals_get_bin(&pv, PR_CHANGE_KEY));
	ews_end(r);
}

static bool is_mail(const struct mapi_message *msg)
{
	const char *cls = mapi_propvals_get_str(&msg->props, PR_MESSAGE_CLASS);
	return cls == NULL || str_case_eq(cls, "IPM.Note") || str_case_starts_with(cls, "IPM.Note.");
}

/* Submits a saved message through the transport. NULL or the code. */
/* Sends message mid of fid through the transport's submit path
 * (MS-OXOMSG 3.2.4.1): delivered durably to every local recipient and
 * queued for the others before this returns. With keep_copy the original
 * ends in Sent Items (or copy_fid when given), else it is deleted
 * (PidTagDeleteAfterSubmit). NULL or the ResponseCode (ErrorSendAsDenied:
 * a From the user may not send as). */
static const char *submit(struct ews_req *r, mapi_id_t fid, mapi_id_t mid, bool keep_copy,
	mapi_id_t copy_fid)
{
	struct transport *t = r->ews->set.transport;
	if (t == NULL)
		return "ErrorInvalidOperation"; /* no transport configured */
	if (!keep_copy) {
		struct store_message *m = NULL;
		uint32_t ec = store_message_open(r->mb, fid, mid, STORE_OPEN_READ_WRITE, &m);
		if (ec == ecSuccess) {
			struct mapi_propvals pv = {0};
			mapi_propvals_set_bool(r->pool, &pv, PR_DELETE_AFTER_SUBMIT, true);
			ec = store_message_set_props(m, &pv, NULL);
			if (ec == ecSuccess)
				ec = store_message_save(m, STORE_SAVE_FORCE);
		}
		store_message_close(&m);
		if (ec != ecSuccess)
			return ews_code_for_ec(ec, false);
	}
	struct transport_submit_result res;
	const char *error;
	if (transport_submit(t, r->mb, r->user, fid, mid, &res, r->pool, &error) < 0) {
		log_info(http_request_log(r->http), "ews: submit failed: %s", error);
		if (res.send_as_denied)
			return "ErrorSendAsDenied";
		if (strstr(error, "no recipients") != NULL)
			return "ErrorInvalidRecipients";
		if (strstr(error, "no such message") != NULL)
			return "ErrorItemNotFound";
		return "ErrorInternalServerError";
	}
	log_info(http_request_log(r->http), "ews: sent as %s to %zu recipients", res.id,
		res.delivered + res.undeliverable);
	/* The transport keeps the copy in Sent Items; a SavedItemFolderId
	 * elsewhere gets it moved there. */
	mapi_id_t sent_items = store_mailbox_special_fid(r->mb, STORE_SPECIAL_SENT_ITEMS);
	if (keep_copy && res.sent_mid != 0 && copy_fid != 0 && copy_fid != sent_items)
		store_messages_move(r->mb, sent_items, copy_fid, &res.sent_mid, 1, false, NULL, NULL);
	return NULL;
}

static int ews_create_item(struct ews_req *r, xmlNode *op)
{
	const char *msgname = "CreateItemResponseMessage";
	enum disposition disp = disposition_parse(http_xml_attr(r->pool, op, "MessageDisposition"));
	xmlNode *sref = http_xml_first_elem(http_xml_child(op, NS_M, "SavedItemFolderId"));
	mapi_id_t dest = 0;
	const char *derr = NULL;
	if (disp == DISP_INVALID)
		derr = "ErrorInvalidRequest";
	else if (sref != NULL)
		derr = ews_folder_ref(r, sref, &dest);
	if (derr != NULL && strcmp(derr, "ErrorFolderNotFound") == 0)
		derr = "ErrorSavedItemFolderNotFound";
	struct store_mailbox *mb;
	if (derr == NULL && ews_mailbox(r, &mb) != ecSuccess)
		derr = "ErrorMailboxStoreUnavailable";
	ews_response_begin(r, "CreateItem");
	xmlNode *items = http_xml_child(op, NS_M, "Items");
	for (xmlNode *it = http_xml_first_elem(items); it != NULL; it = http_xml_next_elem(it)) {
		const char *err = derr;
		struct mapi_message *msg = NULL;
		struct slice mime = {0};
		if (err == NULL && !http_xml_is(it, NS_T, "Message") && !http_xml_is(it, NS_T, "Item"))
			err = "ErrorInvalidItemForOperationCreateItem";
		if (err == NULL)
			err = ews_item_parse(r, it, 0, &msg, &mime);
		bool mail = err == NULL && http_xml_is(it, NS_T, "Message");
		enum disposition d = disp;
		if (err == NULL && mail && d == DISP_NONE)
			err = "ErrorMessageDispositionRequired";
		if (err == NULL && !mail)
			d = DISP_SAVE_ONLY;
		bool send = d == DISP_SEND_ONLY || d == DISP_SEND_AND_SAVE;
		if (err == NULL && send && msg->recipients.n == 0)
			err = "ErrorInvalidRecipients";
		mapi_id_t fid = dest;
		if (err == NULL && (send || fid == 0))
			fid = store_mailbox_special_fid(r->mb, STORE_SPECIAL_DRAFTS);
		if (err == NULL && mail) {
			int32_t fl = mapi_propvals_get_long(&msg->props, PR_MESSAGE_FLAGS, -1);
			/* a new message is a draft, read unless said otherwise */
			if (fl < 0)
				fl = MSGFLAG_READ;
			mapi_propvals_set_long(r->pool, &msg->props, PR_MESSAGE_FLAGS,
				fl | (int32_t)MSGFLAG_UNSENT);
		}
		struct store_message *m = NULL;
		uint32_t ec = ecSuccess;
		if (err == NULL)
			ec = store_message_create(r->mb, fid, 0, &m);
		if (err == NULL && ec == ecSuccess)
			ec = ews_message_store(r, m, msg);
		if (err == NULL && ec == ecSuccess && mime.len > 0) {
			/* the MIME given is the MIME kept (IMAP serves it as is) */
			struct store_blob_ref ref;
			ec = store_blob_put(r->ews->set.store, mime.ptr, mime.len, &ref);
			if (ec == ecSuccess)
				ec = store_message_set_mime(m, &ref);
		} else if (err == NULL && ec == ecSuccess && is_mail(msg)) {
			ec = ews_message_set_mime(r, m, msg);
		}
		if (err == NULL && ec == ecSuccess)
			ec = store_message_save(m, 0);
		mapi_id_t mid = m != NULL ? store_message_mid(m) : 0;
		store_message_close(&m);
		if (err == NULL && ec != ecSuccess)
			err = ec == ecAccessDenied ? "ErrorCreateItemAccessDenied" :
			      ec == ecQuotaExceeded ? "ErrorQuotaExceeded" :
						      "ErrorItemSave";
		if (err == NULL && send) {
			err = submit(r, fid, mid, d == DISP_SEND_AND_SAVE, dest);
			if (err != NULL)
				/* nothing was sent: leave no stray draft behind */
				store_messages_delete(r->mb, fid, &mid, 1, NULL);
		}
		if (err != NULL) {
			ews_msg_error(r, msgname, err, "The item cannot be created.");
			continue;
		}
		ews_msg_ok(r, msgname);
		ews_start(r, "m:Items");
		if (!send)
			write_item_brief(r, fid, mid);
		ews_end(r);
		ews_msg_end(r);
	}
	ews_response_end(r);
	return 0;
}

/* --- UpdateItem --- */

enum conflict {
	CONFLICT_NEVER,
	CONFLICT_AUTO,
	CONFLICT_ALWAYS,
};

/* Which parts of the message an update touched. */
struct update {
	struct mapi_message *tmp; /* the new values, own name table */
	uint32_t *del;            /* tags to delete (tmp's name table) */
	uint32_t n_del;
	unsigned body_written;
	bool delete_body;
	bool recip_set[4];    /* by recipient type: replace */
	bool recip_append[4]; /* by recipient type: add */
	bool recip_clear[4];  /* by recipient type: remove all */
	int read;             /* -1 unchanged, 0/1 */
	struct mapi_message *mime; /* SetItemField MimeContent: replaces the content */
	bool content;         /* something MIME carries changed */
};

/* The path of an update as a field index, or -1 for an extended property
 * (e filled) or -2 for something else. */
static int update_path(struct ews_req *r, const xmlNode *path, struct ews_ext *e,
	const char **err_r)
{
	*err_r = NULL;
	if (http_xml_is(path, NS_T, "ExtendedFieldURI")) {
		*err_r = ews_ext_parse(r->pool, path, e);
		return -1;
	}
	if (!http_xml_is(path, NS_T, "FieldURI")) {
		*err_r = "ErrorInvalidPropertyRequest";
		return -2;
	}
	char *uri = http_xml_attr(r->pool, path, "FieldURI");
	int i = uri != NULL ? ews_field_find(uri) : -1;
	if (i < 0)
		*err_r = "ErrorInvalidPropertyRequest";
	return i;
}

static bool field_is_content(const struct ews_field *f)
{
	switch (f->kind) {
	case EWS_FK_BODY:
	case EWS_FK_RECIPIENTS:
	case EWS_FK_MAILBOX:
	case EWS_FK_REPLY_TO:
	case EWS_FK_IMPORTANCE:
	case EWS_FK_SENSITIVITY:
		return true;
	case EWS_FK_STRING:
	case EWS_FK_BOOL:
		return f->tag == PR_SUBJECT || f->tag == PR_INTERNET_MESSAGE_ID ||
			f->tag == PR_IN_REPLY_TO_ID || f->tag == PR_INTERNET_REFERENCES ||
			f->tag == PR_READ_RECEIPT_REQUESTED ||
			f->tag == PR_ORIGINATOR_DELIVERY_REPORT_REQUESTED;
	default:
		return false;
	}
}

static const char *update_one(struct ews_req *r, const xmlNode *u, struct update *up)
{
	bool set = http_xml_is(u, NS_T, "SetItemField");
	bool append = http_xml_is(u, NS_T, "AppendToItemField");
	bool del = http_xml_is(u, NS_T, "DeleteItemField");
	if (!set && !append && !del)
		return "ErrorSchemaValidation";
	const xmlNode *path = http_xml_first_elem(u);
	if (path == NULL)
		return "ErrorSchemaValidation";
	struct ews_ext e;
	const char *err;
	int fi = update_path(r, path, &e, &err);
	if (err != NULL)
		return err;
	const xmlNode *item = http_xml_next_elem(path);
	if (!del && item == NULL)
		return "ErrorSchemaValidation";
	if (fi == -1) {
		if (append)
			return "ErrorInvalidPropertyAppend";
		uint32_t tag = e.tag;
		if (e.named) {
			uint16_t id = convert_named_id(up->tmp, &e.name);
			tag = id != 0 ? PROP_TAG(e.type, id) : 0;
		}
		if (del) {
			up->del[up->n_del++] = tag;
			return NULL;
		}
		const xmlNode *xp = http_xml_child(item, NS_T, "ExtendedProperty");
		if (xp == NULL)
			return "ErrorInvalidExtendedPropertyValue";
		unsigned w = 0;
		return ews_item_field_in(r, xp, up->tmp, &w, 0);
	}
	const struct ews_field *f = &ews_item_fields[fi];
	if (f->kind == EWS_FK_MIME && set) {
		/* the message's content replaced by the MIME's (exchangelib
		 * sends back the MimeContent it read on every full save) */
		const xmlNode *mc = http_xml_child(item, NS_T, "MimeContent");
		struct slice raw;
		if (mc == NULL)
			return "ErrorIncorrectUpdatePropertyCount";
		const char *merr = ews_mime_in(r, mc, &up->mime, &raw);
		if (merr != NULL)
			return merr;
		ews_message_merge_props(r, up->tmp, up->mime);
		for (size_t i = 0; i < up->mime->recipients.n; i++)
			array_push(&up->tmp->recipients, up->mime->recipients.v[i]);
		for (int t = 1; t <= 3; t++) {
			up->recip_set[t] = true;
			up->recip_clear[t] = false;
		}
		if (mapi_propvals_get(&up->mime->props, PR_BODY) != NULL)
			up->body_written |= CONVERT_BODY_TEXT;
		if (mapi_propvals_get(&up->mime->props, PR_HTML) != NULL)
			up->body_written |= CONVERT_BODY_HTML;
		up->content = true;
		return NULL;
	}
	if (f->flags & EWS_FF_RO)
		return del ? "ErrorInvalidPropertyDelete" : "ErrorInvalidPropertySet";
	if (field_is_content(f))
		up->content = true;
	if (del) {
		switch (f->kind) {
		case EWS_FK_BODY:
			up->delete_body = true;
			return NULL;
		case EWS_FK_RECIPIENTS:
			up->recip_clear[f->aux] = true;
			up->recip_set[f->aux] = false;
			return NULL;
		case EWS_FK_MAILBOX: {
			const struct ews_mbx_tags *t = &ews_mbx_tags[f->aux];
			up->del[up->n_del++] = t->name;
			up->del[up->n_del++] = t->email;
			up->del[up->n_del++] = t->addrtype;
			up->del[up->n_del++] = t->smtp;
			up->del[up->n_del++] = t->entryid;
			return NULL;
		}
		case EWS_FK_REPLY_TO:
			up->del[up->n_del++] = PR_REPLY_RECIPIENT_ENTRIES;
			up->del[up->n_del++] = PR_REPLY_RECIPIENT_NAMES;
			return NULL;
		case EWS_FK_MSGFLAG:
			return "ErrorInvalidPropertyDelete";
		case EWS_FK_ITEMID:
			return "ErrorInvalidPropertyDelete";
		default: {
			uint32_t tag = ews_field_msg_tag(up->tmp, f);
			if (tag == 0)
				return "ErrorInvalidPropertyDelete";
			up->del[up->n_del++] = tag;
			return NULL;
		}
		}
	}
	/* the value: the item's child element of the field */
	const xmlNode *val = NULL;
	for (const xmlNode *c = http_xml_first_elem(item); c != NULL; c = http_xml_next_elem(c))
		if (strcmp((const char *)c->name, f->elem + 2) == 0)
			val = c;
	if (val == NULL)
		return "ErrorIncorrectUpdatePropertyCount";
	if (append && f->kind != EWS_FK_RECIPIENTS)
		return "ErrorInvalidPropertyAppend";
	if (f->kind == EWS_FK_RECIPIENTS) {
		if (append)
			up->recip_append[f->aux] = true;
		else
			up->recip_set[f->aux] = true;
		up->recip_clear[f->aux] = false;
	}
	if (f->kind == EWS_FK_MSGFLAG) {
		if (f->aux != MSGFLAG_READ)
			return "ErrorInvalidPropertySet";
		bool b;
		if (ews_parse_bool(http_xml_text(r->pool, val), &b) < 0)
			return "ErrorInvalidValueForProperty";
		up->read = b;
		return NULL;
	}
	return ews_item_field_in(r, val, up->tmp, &up->body_written, 0);
}

static const uint32_t body_tags_v[] = {
	PR_BODY, PR_HTML, PR_RTF_COMPRESSED, PR_NATIVE_BODY_INFO, PR_INTERNET_CPID, PR_RTF_IN_SYNC,
};

/* Applies an update to the open message. An ec, or ecInvalidParam for
 * values the store refuses. */
/* True when the update changes nothing but the read state: no save then,
 * so the change key stays and a sync sees a ReadFlagChange
 * (MS-OXCFXICS: read state is not a content change). */
static bool update_only_read(const struct update *up)
{
	if (up->tmp->props.count != 0 || up->n_del != 0 || up->body_written != 0 ||
		up->delete_body || up->mime != NULL)
		return false;
	for (int i = 0; i < 4; i++)
		if (up->recip_set[i] || up->recip_append[i] || up->recip_clear[i])
			return false;
	return true;
}

static uint32_t update_apply(struct ews_req *r, struct store_message *m, struct update *up)
{
	struct mapi_message *tmp = up->tmp;
	/* named properties of tmp -> the mailbox */
	size_t nn = tmp->names != NULL ? tmp->names->n : 0;
	uint16_t *ids = NULL;
	if (nn > 0) {
		ids = pool_calloc(r->pool, nn, sizeof(*ids));
		uint32_t ec = store_named_to_ids(store_message_mailbox(m), tmp->names->v,
			(uint32_t)nn, true, ids);
		if (ec != ecSuccess)
			return ec;
	}
	struct mapi_propvals set = {0};
	for (uint32_t i = 0; i < tmp->props.count; i++) {
		struct mapi_propval pv = tmp->props.vals[i];
		uint16_t id = PROP_ID(pv.tag);
		if (id >= PROP_ID_NAMED_MIN) {
			size_t k = (size_t)(id - PROP_ID_NAMED_MIN);
			if (k >= nn || ids[k] == 0)
				continue;
			pv.tag = PROP_TAG(PROP_TYPE(pv.tag), ids[k]);
		}
		/* the recipients' display strings are written below */
		if (pv.tag == PR_DISPLAY_TO || pv.tag == PR_DISPLAY_CC || pv.tag == PR_DISPLAY_BCC ||
			PROP_ID(pv.tag) == PROP_ID(PR_BODY) || PROP_ID(pv.tag) == PROP_ID(PR_HTML) ||
			pv.tag == PR_INTERNET_CPID)
			continue;
		mapi_propvals_set_nocopy(r->pool, &set, pv.tag, pv.v);
	}
	/* bodies: the written one is the source, the others follow */
	if (up->body_written != 0 || up->delete_body) {
		const struct mapi_tags bt = {6, (uint32_t *)body_tags_v};
		struct mapi_propvals bodies = {0};
		uint32_t ec = ews_message_props(m, &bt, r->pool, &bodies);
		if (ec != ecSuccess)
			return ec;
		struct mapi_propvals before = {0};
		for (uint32_t i = 0; i < bodies.count; i++)
			if (PROP_TYPE(bodies.vals[i].tag) != PT_ERROR)
				mapi_propvals_set_nocopy(
					r->pool, &before, bodies.vals[i].tag, bodies.vals[i].v);
		struct mapi_propvals after = {0};
		if (!up->delete_body || up->body_written != 0) {
			mapi_propvals_copy(r->pool, &after, &before);
			static const uint32_t src[] = {PR_BODY, PR_HTML, PR_INTERNET_CPID};
			for (size_t i = 0; i < 3; i++) {
				const struct mapi_propval *v = mapi_propvals_get(&tmp->props, src[i]);
				if (v != NULL)
					mapi_propvals_set_nocopy(r->pool, &after, v->tag, v->v);
			}
			const char *error;
			if (convert_body_sync(r->pool, &after, up->body_written, CONVERT_BODY_TEXT,
				    &error) < 0)
				return ecInvalidParam;
		}
		for (uint32_t i = 0; i < after.count; i++)
			mapi_propvals_set_nocopy(r->pool, &set, after.vals[i].tag, after.vals[i].v);
		for (size_t i = 0; i < 6; i++)
			if (mapi_propvals_get(&before, body_tags_v[i]) != NULL &&
				mapi_propvals_get(&after, body_tags_v[i]) == NULL)
				up->del[up->n_del++] = body_tags_v[i];
	}
	uint32_t ec = ecSuccess;
	if (set.count > 0)
		ec = store_message_set_props(m, &set, NULL);
	if (ec == ecSuccess && up->n_del > 0) {
		uint32_t *tags = pool_calloc(r->pool, up->n_del, sizeof(uint32_t));
		uint32_t n = 0;
		for (uint32_t i = 0; i < up->n_del; i++) {
			uint32_t t = up->del[i];
			uint16_t id = PROP_ID(t);
			if (t == 0)
				continue;
			if (id >= PROP_ID_NAMED_MIN) {
				size_t k = (size_t)(id - PROP_ID_NAMED_MIN);
				if (k >= nn || ids[k] == 0)
					continue;
				t = PROP_TAG(PROP_TYPE(t), ids[k]);
			}
			tags[n++] = t;
		}
		struct mapi_tags dt = {n, tags};
		struct store_problems probs = {.pool = r->pool};
		if (n > 0)
			ec = store_message_delete_props(m, &dt, &probs);
	}
	/* recipients: replace, append or clear per type */
	bool any = false;
	for (int t = 1; t <= 3; t++)
		any |= up->recip_set[t] || up->recip_append[t] || up->recip_clear[t];
	if (ec == ecSuccess && any) {
		struct mapi_propvals *cur;
		uint32_t n;
		ec = store_message_get_recipients(m, r->pool, &cur, &n);
		if (ec != ecSuccess)
			return ec;
		struct mapi_propvals *rows =
			pool_calloc(r->pool, n + tmp->recipients.n + 1, sizeof(*rows));
		uint32_t k = 0;
		int32_t max_row = -1;
		struct mapi_message shown = {.pool = r->pool};
		array_init(&shown.recipients, r->pool);
		for (uint32_t i = 0; i < n; i++) {
			int32_t row = mapi_propvals_get_long(&cur[i], PR_ROWID, 0);
			if (row > max_row)
				max_row = row;
			int32_t type = mapi_propvals_get_long(&cur[i], PR_RECIPIENT_TYPE, 1);
			if (type >= 1 && type <= 3 && (up->recip_set[type] || up->recip_clear[type]))
				mapi_propvals_set_long(r->pool, &rows[k++], PR_ROWID, row);
			else
				array_push(&shown.recipients, ((struct mapi_recipient){cur[i]}));
		}
		for (size_t i = 0; i < tmp->recipients.n; i++) {
			struct mapi_propvals *p = &tmp->recipients.v[i].props;
			mapi_propvals_copy(r->pool, &rows[k], p);
			mapi_propvals_set_long(r->pool, &rows[k], PR_ROWID, ++max_row);
			k++;
			array_push(&shown.recipients, tmp->recipients.v[i]);
		}
		ec = store_message_modify_recipients(m, rows, k);
		if (ec == ecSuccess && up->mime != NULL)
			ec = ews_message_add_attachments(r, m, up->mime, true);
		/* PR_DISPLAY_TO/CC/BCC from the recipients now */
		if (ec == ecSuccess) {
			static const uint32_t dtags[] = {0, PR_DISPLAY_TO, PR_DISPLAY_CC, PR_DISPLAY_BCC};
			struct mapi_propvals disp = {0};
			for (int type = 1; type <= 3; type++) {
				struct buf b;
				buf_init(&b, r->pool);
				for (size_t i = 0; i < shown.recipients.n; i++) {
					const struct mapi_propvals *p = &shown.recipients.v[i].props;
					if (mapi_propvals_get_long(p, PR_RECIPIENT_TYPE, 0) != type)
						continue;
					if (b.len > 0)
						buf_append_str(&b, "; ");
					const char *nm = mapi_propvals_get_str(p, PR_DISPLAY_NAME);
					buf_append_str(&b, nm != NULL ? nm : "");
				}
				mapi_propvals_set_str(r->pool, &disp, dtags[type], buf_cstr(&b));
			}
			ec = store_message_set_props(m, &disp, NULL);
		}
	}
	return ec;
}

static int ews_update_item(struct ews_req *r, xmlNode *op)
{
	const char *msgname = "UpdateItemResponseMessage";
	char *cr = http_xml_attr(r->pool, op, "ConflictResolution");
	enum conflict conflict = CONFLICT_AUTO;
	const char *operr = NULL;
	if (cr == NULL || strcmp(cr, "AutoResolve") == 0)
		conflict = CONFLICT_AUTO;
	else if (strcmp(cr, "NeverOverwrite") == 0)
		conflict = CONFLICT_NEVER;
	else if (strcmp(cr, "AlwaysOverwrite") == 0)
		conflict = CONFLICT_ALWAYS;
	else
		operr = "ErrorInvalidRequest";
	enum disposition disp = disposition_parse(http_xml_attr(r->pool, op, "MessageDisposition"));
	if (disp == DISP_INVALID)
		operr = "ErrorInvalidRequest";
	xmlNode *sref = http_xml_first_elem(http_xml_child(op, NS_M, "SavedItemFolderId"));
	mapi_id_t copy_fid = 0;
	if (operr == NULL && sref != NULL)
		operr = ews_folder_ref(r, sref, &copy_fid);
	ews_response_begin(r, "UpdateItem");
	xmlNode *changes = http_xml_child(op, NS_M, "ItemChanges");
	for (xmlNode *ch = http_xml_first_elem(changes); ch != NULL; ch = http_xml_next_elem(ch)) {
		xmlNode *ref = http_xml_first_elem(ch);
		xmlNode *updates = http_xml_child(ch, NS_T, "Updates");
		mapi_id_t fid = 0, mid = 0;
		const char *err = operr;
		if (err == NULL)
			err = ref != NULL ? ews_item_ref(r, ref, &fid, &mid) : "ErrorSchemaValidation";
		struct store_message *m = NULL;
		uint32_t ec = ecSuccess;
		if (err == NULL) {
			ec = store_message_open(r->mb, fid, mid, STORE_OPEN_READ_WRITE, &m);
			if (ec != ecSuccess)
				err = ec == ecAccessDenied ? "ErrorAccessDenied" : "ErrorItemNotFound";
		}
		/* MS-OXWSCORE 3.1.4.9: a stale ChangeKey is a conflict unless
		 * the client says AlwaysOverwrite. */
		char *ck = ref != NULL ? http_xml_attr(r->pool, ref, "ChangeKey") : NULL;
		if (err == NULL && ck != NULL && conflict != CONFLICT_ALWAYS) {
			static const uint32_t tv[] = {PR_CHANGE_KEY};
			const struct mapi_tags tags = {1, (uint32_t *)tv};
			struct mapi_propvals pv = {0};
			store_message_get_props(m, &tags, r->pool, &pv);
			const char *cur = ews_change_key(r->pool, mapi_propvals_get_bin(&pv, PR_CHANGE_KEY));
			if (strcmp(cur, ck) != 0)
				err = "ErrorIrresolvableConflict";
		}
		struct update up = {.tmp = convert_message_new(r->pool), .read = -1};
		uint32_t n = 0;
		for (xmlNode *u = http_xml_first_elem(updates); u != NULL; u = http_xml_next_elem(u))
			n++;
		up.del = pool_calloc(r->pool, 5 * n + 8, sizeof(uint32_t));
		for (xmlNode *u = http_xml_first_elem(updates); err == NULL && u != NULL;
			u = http_xml_next_elem(u))
			err = update_one(r, u, &up);
		if (err == NULL && update_only_read(&up)) {
			ec = up.read >= 0 ? store_message_set_read(m, up.read == 1) : ecSuccess;
			if (ec != ecSuccess)
				err = ews_code_for_ec(ec, false);
		} else if (err == NULL) {
			ec = update_apply(r, m, &up);
			if (ec == ecSuccess && up.content && is_mail(up.tmp)) {
				/* MIME follows the properties (IMAP, POP3) */
				struct mapi_message *whole;
				ec = ews_message_load(r, m, &whole);
				if (ec == ecSuccess)
					ec = ews_message_set_mime(r, m, whole);
			}
			if (ec == ecSuccess)
				ec = store_message_save(m, conflict == CONFLICT_ALWAYS ? STORE_SAVE_FORCE : 0);
			if (ec == ecSuccess && up.read >= 0)
				ec = store_message_set_read(m, up.read == 1);
			if (ec != ecSuccess)
				err = ec == ecObjectModified ? "ErrorIrresolvableConflict" :
				      ec == ecInvalidParam ? "ErrorInvalidPropertySet" :
				      ec == ecAccessDenied ? "ErrorAccessDenied" :
							     ews_code_for_ec(ec, false);
		}
		store_message_close(&m);
		if (err == NULL && (disp == DISP_SEND_ONLY || disp == DISP_SEND_AND_SAVE))
			err = submit(r, fid, mid, disp == DISP_SEND_AND_SAVE, copy_fid);
		if (err != NULL) {
			ews_msg_error(r, msgname, err, "The item cannot be updated.");
			continue;
		}
		ews_msg_ok(r, msgname);
		ews_start(r, "m:Items");
		if (disp != DISP_SEND_ONLY && disp != DISP_SEND_AND_SAVE)
			write_item_brief(r, fid, mid);
		ews_end(r);
		ews_start(r, "m:ConflictResults");
		ews_elem_int(r, "t:Count", 0);
		ews_end(r);
		ews_msg_end(r);
	}
	ews_response_end(r);
	return 0;
}

/* --- DeleteItem, MoveItem, CopyItem --- */

static int ews_delete_item(struct ews_req *r, xmlNode *op)
{
	const char *msgname = "DeleteItemResponseMessage";
	enum ews_delete_type dt = ews_delete_type(http_xml_attr(r->pool, op, "DeleteType"));
	ews_response_begin(r, "DeleteItem");
	xmlNode *ids = http_xml_child(op, NS_M, "ItemIds");
	for (xmlNode *ref = http_xml_first_elem(ids); ref != NULL; ref = http_xml_next_elem(ref)) {
		mapi_id_t fid, mid;
		const char *err = dt == EWS_DELETE_INVALID ? "ErrorInvalidRequest" :
							     ews_item_ref(r, ref, &fid, &mid);
		if (err == NULL) {
			mapi_id_t deleted =
				store_mailbox_special_fid(r->mb, STORE_SPECIAL_DELETED_ITEMS);
			uint32_t partial = 0, ec;
			if (dt == EWS_DELETE_TO_DELETED_ITEMS && fid != deleted)
				ec = store_messages_move(r->mb, fid, deleted, &mid, 1, false, NULL,
					&partial);
			else
				ec = store_messages_delete(r->mb, fid, &mid, 1, &partial);
			if (ec != ecSuccess)
				err = ec == ecAccessDenied ? "ErrorAccessDenied" :
							     ews_code_for_ec(ec, false);
			else if (partial > 0)
				err = "ErrorItemNotFound";
		}
		if (err != NULL) {
			ews_msg_error(r, msgname, err, "The item cannot be deleted.");
			continue;
		}
		ews_msg_ok(r, msgname);
		ews_msg_end(r);
	}
	ews_response_end(r);
	return 0;
}

static int ews_move_copy_item(struct ews_req *r, xmlNode *op, bool copy)
{
	const char *name = copy ? "CopyItem" : "MoveItem";
	const char *msgname = copy ? "CopyItemResponseMessage" : "MoveItemResponseMessage";
	xmlNode *tref = http_xml_first_elem(http_xml_child(op, NS_M, "ToFolderId"));
	mapi_id_t dst = 0;
	const char *derr = tref != NULL ? ews_folder_ref(r, tref, &dst) : "ErrorSchemaValidation";
	if (derr != NULL && strcmp(derr, "ErrorFolderNotFound") == 0)
		derr = "ErrorToFolderNotFound";
	bool return_ids = true;
	char *rn = http_xml_text(r->pool, http_xml_child(op, NS_M, "ReturnNewItemIds"));
	if (*rn != '\0')
		ews_parse_bool(rn, &return_ids);
	ews_response_begin(r, name);
	xmlNode *ids = http_xml_child(op, NS_M, "ItemIds");
	for (xmlNode *ref = http_xml_first_elem(ids); ref != NULL; ref = http_xml_next_elem(ref)) {
		mapi_id_t fid, mid, new_mid = 0;
		const char *err = derr != NULL ? derr : ews_item_ref(r, ref, &fid, &mid);
		if (err == NULL) {
			uint32_t partial = 0;
			uint32_t ec = store_messages_move(
				r->mb, fid, dst, &mid, 1, copy, &new_mid, &partial);
			if (ec != ecSuccess)
				err = ec == ecAccessDenied ? "ErrorAccessDenied" :
				      ec == ecQuotaExceeded ? "ErrorQuotaExceeded" :
							      "ErrorMoveCopyFailed";
			else if (partial > 0 || new_mid == 0)
				err = "ErrorItemNotFound";
		}
		if (err != NULL) {
			ews_msg_error(r, msgname, err, "The item cannot be moved or copied.");
			continue;
		}
		ews_msg_ok(r, msgname);
		ews_start(r, "m:Items");
		if (return_ids)
			write_item_brief(r, dst, new_mid);
		ews_end(r);
		ews_msg_end(r);
	}
	ews_response_end(r);
	return 0;
}

static int ews_move_item(struct ews_req *r, xmlNode *op)
{
	return ews_move_copy_item(r, op, false);
}

static int ews_copy_item(struct ews_req *r, xmlNode *op)
{
	return ews_move_copy_item(r, op, true);
}

/* --- SendItem, MarkAllItemsAsRead --- */

static int ews_send_item(struct ews_req *r, xmlNode *op)
{
	const char *msgname = "SendItemResponseMessage";
	bool save = true;
	char *s = http_xml_attr(r->pool, op, "SaveItemToFolder");
	const char *operr = s == NULL || ews_parse_bool(s, &save) < 0 ? "ErrorInvalidRequest" : NULL;
	xmlNode *sref = http_xml_first_elem(http_xml_child(op, NS_M, "SavedItemFolderId"));
	mapi_id_t copy_fid = 0;
	if (operr == NULL && sref != NULL) {
		operr = ews_folder_ref(r, sref, &copy_fid);
		if (operr != NULL && strcmp(operr, "ErrorFolderNotFound") == 0)
			operr = "ErrorSavedItemFolderNotFound";
	}
	ews_response_begin(r, "SendItem");
	xmlNode *ids = http_xml_child(op, NS_M, "ItemIds");
	for (xmlNode *ref = http_xml_first_elem(ids); ref != NULL; ref = http_xml_next_elem(ref)) {
		mapi_id_t fid, mid;
		const char *err = operr != NULL ? operr : ews_item_ref(r, ref, &fid, &mid);
		if (err == NULL)
			err = submit(r, fid, mid, save, copy_fid);
		if (err != NULL) {
			ews_msg_error(r, msgname, err, "The item cannot be sent.");
			continue;
		}
		ews_msg_ok(r, msgname);
		ews_msg_end(r);
	}
	ews_response_end(r);
	return 0;
}

static int ews_mark_all_read(struct ews_req *r, xmlNode *op)
{
	const char *msgname = "MarkAllItemsAsReadResponseMessage";
	bool read = true;
	char *rf = http_xml_text(r->pool, http_xml_child(op, NS_M, "ReadFlag"));
	const char *operr = ews_parse_bool(rf, &read) < 0 ? "ErrorInvalidRequest" : NULL;
	ews_response_begin(r, "MarkAllItemsAsRead");
	xmlNode *ids = http_xml_child(op, NS_M, "FolderIds");
	for (xmlNode *ref = http_xml_first_elem(ids); ref != NULL; ref = http_xml_next_elem(ref)) {
		mapi_id_t fid;
		const char *err = operr != NULL ? operr : ews_folder_ref(r, ref, &fid);
		if (err == NULL) {
			/* only the messages whose state changes */
			struct mapi_restriction res = {.type = RES_BITMASK};
			res.bitmask.relop = read ? BMR_EQZ : BMR_NEZ;
			res.bitmask.proptag = PR_MESSAGE_FLAGS;
			res.bitmask.mask = MSGFLAG_READ;
			struct store_table *t = NULL;
			struct store_rows rows = {0};
			uint32_t total = 0;
			uint32_t ec = store_table_open_contents(r->mb, fid, false, &t);
			if (ec == ecSuccess)
				ec = store_table_restrict(t, &res);
			if (ec == ecSuccess)
				ec = store_table_row_count(t, &total);
			if (ec == ecSuccess && total > 0)
				ec = store_table_query_rows(t, total, true, 0, r->pool, &rows, NULL);
			store_table_close(&t);
			if (ec == ecSuccess && rows.count > 0)
				ec = store_messages_set_read(
					r->mb, fid, rows.ids, rows.count, read, NULL);
			if (ec != ecSuccess)
				err = ews_code_for_ec(ec, true);
		}
		if (err != NULL) {
			ews_msg_error(r, msgname, err, "The folder's items cannot be marked.");
			continue;
		}
		ews_msg_ok(r, msgname);
		ews_msg_end(r);
	}
	ews_response_end(r);
	return 0;
}

const struct ews_op ews_item_write_ops[] = {
	{"CreateItem", ews_create_item},
	{"UpdateItem", ews_update_item},
	{"DeleteItem", ews_delete_item},
	{"MoveItem", ews_move_item},
	{"CopyItem", ews_copy_item},
	{"SendItem", ews_send_item},
	{"MarkAllItemsAsRead", ews_mark_all_read},
	{NULL, NULL},
};
