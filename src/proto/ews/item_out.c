/* Items out: ItemShape (BaseShape IdOnly / Default / AllProperties,
 * AdditionalProperties, BodyType, IncludeMimeContent) and the writer of
 * one item in the schema's element order (MS-OXWSCORE 2.2.4.24 ItemType,
 * MS-OXWSMSG 2.2.4.1 MessageType), bodies through convert/body.h
 * (MS-OXBBODY). */
#include <string.h>

#include "convert/body.h"
#include "convert/msgutil.h"
#include "core/base64.h"
#include "core/str.h"
#include "mapi/namedprop.h"
#include "mapi/propval.h"
#include "mapi/tags.h"
#include "proto/ews/items.h"
#include "store/table.h"

/* --- named properties of the fields --- */

static struct mapi_propname ews_np_name(enum ews_np np)
{
	switch (np) {
	case EWS_NP_KEYWORDS:
		return mapi_np_name(MAPI_NP_PidNameKeywords);
	case EWS_NP_REMINDER_SET:
		return mapi_np_name(MAPI_NP_PidLidReminderSet);
	case EWS_NP_REMINDER_TIME:
		return mapi_np_name(MAPI_NP_PidLidReminderTime);
	default:
		return mapi_np_name(MAPI_NP_PidLidReminderDelta);
	}
}

static uint16_t ews_np_type(enum ews_np np)
{
	switch (np) {
	case EWS_NP_KEYWORDS:
		return PT_MV_UNICODE;
	case EWS_NP_REMINDER_SET:
		return PT_BOOLEAN;
	case EWS_NP_REMINDER_TIME:
		return PT_SYSTIME;
	default:
		return PT_LONG;
	}
}

uint32_t ews_field_tag(struct ews_req *r, const struct ews_field *f, bool create)
{
	if (f->tag != 0)
		return f->tag;
	if (f->kind != EWS_FK_CATEGORIES && f->aux == EWS_NP_NONE)
		return 0;
	if ((f->kind != EWS_FK_CATEGORIES && f->kind != EWS_FK_BOOL && f->kind != EWS_FK_TIME &&
		    f->kind != EWS_FK_INT) ||
		f->aux >= EWS_NP_COUNT)
		return 0;
	enum ews_np np = (enum ews_np)f->aux;
	/* 0 unknown, 1 resolved (tag may be 0: never mapped), 2 created */
	if (r->np_state[np] == 2 || (r->np_state[np] == 1 && !create))
		return r->np_tag[np];
	struct store_mailbox *mb;
	if (ews_mailbox(r, &mb) != ecSuccess)
		return 0;
	struct mapi_propname name = ews_np_name(np);
	uint16_t id = 0;
	if (store_named_to_ids(mb, &name, 1, create, &id) != ecSuccess)
		return 0;
	r->np_tag[np] = id != 0 ? PROP_TAG(ews_np_type(np), id) : 0;
	r->np_state[np] = create ? 2 : 1;
	return r->np_tag[np];
}

/* --- shapes --- */

static void shape_add_tag(struct ews_req *r, struct ews_item_shape *s, uint32_t tag)
{
	if (tag == 0)
		return;
	for (uint32_t i = 0; i < s->tags.count; i++)
		if (s->tags.tags[i] == tag)
			return;
	s->tags.tags[s->tags.count++] = tag;
	(void)r;
}

void ews_item_shape_parse(struct ews_req *r, const xmlNode *shape, bool find,
	struct ews_item_shape *s)
{
	memset(s, 0, sizeof(*s));
	char *base = http_xml_text(r->pool, http_xml_child(shape, NS_T, "BaseShape"));
	unsigned mask = 0;
	if (strcmp(base, "IdOnly") == 0)
		mask = 0;
	else if (strcmp(base, "AllProperties") == 0)
		mask = EWS_FF_ALL;
	else if (strcmp(base, "Default") == 0 || *base == '\0')
		mask = find ? EWS_FF_FIND : EWS_FF_DEFAULT;
	else
		s->error = "ErrorSchemaValidation";
	for (unsigned i = 0; i < ews_n_item_fields && i < EWS_MAX_FIELDS; i++) {
		const struct ews_field *f = &ews_item_fields[i];
		if (f->kind == EWS_FK_ITEMID || (f->flags & mask) != 0)
			s->want[i] = !(find && (f->flags & EWS_FF_OPEN) != 0 && mask == EWS_FF_ALL);
	}
	char *bt = http_xml_text(r->pool, http_xml_child(shape, NS_T, "BodyType"));
	if (strcmp(bt, "HTML") == 0)
		s->body_type = EWS_BODY_HTML;
	else if (strcmp(bt, "Text") == 0)
		s->body_type = EWS_BODY_TEXT;
	else
		s->body_type = EWS_BODY_BEST;
	bool mime = false;
	char *im = http_xml_text(r->pool, http_xml_child(shape, NS_T, "IncludeMimeContent"));
	if (*im != '\0' && ews_parse_bool(im, &mime) < 0)
		s->error = "ErrorSchemaValidation";
	s->mime = mime;
	const xmlNode *add = http_xml_child(shape, NS_T, "AdditionalProperties");
	uint32_t n = 0;
	for (const xmlNode *p = http_xml_first_elem(add); p != NULL; p = http_xml_next_elem(p))
		n++;
	s->ext = pool_calloc(r->pool, n + 1, sizeof(*s->ext));
	for (const xmlNode *p = http_xml_first_elem(add); p != NULL; p = http_xml_next_elem(p)) {
		if (http_xml_is(p, NS_T, "ExtendedFieldURI")) {
			struct ews_ext *e = &s->ext[s->n_ext];
			const char *err = ews_ext_parse(r->pool, p, e);
			if (err == NULL)
				err = ews_ext_resolve(r, e, false);
			if (err != NULL)
				s->error = err;
			else
				s->n_ext++;
			continue;
		}
		if (!http_xml_is(p, NS_T, "FieldURI"))
			continue; /* IndexedFieldURI: no indexed fields on messages */
		char *uri = http_xml_attr(r->pool, p, "FieldURI");
		int i = uri != NULL ? ews_field_find(uri) : -1;
		/* Fields of other item types (calendar:Start on a message...)
		 * are valid requests with nothing to show. */
		if (i >= 0 && i < EWS_MAX_FIELDS)
			s->want[i] = true;
	}
	int mime_i = ews_field_find("item:MimeContent");
	if (s->mime && mime_i >= 0)
		s->want[mime_i] = true;
	/* the tags to read */
	s->tags.tags = pool_calloc(r->pool, 3 * EWS_MAX_FIELDS + s->n_ext + 16, sizeof(uint32_t));
	shape_add_tag(r, s, PR_CHANGE_KEY);
	shape_add_tag(r, s, PR_MESSAGE_CLASS);
	shape_add_tag(r, s, PR_FOLDER_ID);
	for (unsigned i = 0; i < ews_n_item_fields && i < EWS_MAX_FIELDS; i++) {
		if (!s->want[i])
			continue;
		const struct ews_field *f = &ews_item_fields[i];
		if (f->flags & EWS_FF_OPEN)
			s->open = true;
		if (f->kind == EWS_FK_MAILBOX) {
			const struct ews_mbx_tags *t = &ews_mbx_tags[f->aux];
			shape_add_tag(r, s, t->name);
			shape_add_tag(r, s, t->email);
			shape_add_tag(r, s, t->addrtype);
			shape_add_tag(r, s, t->smtp);
		} else if (f->kind == EWS_FK_REPLY_TO) {
			shape_add_tag(r, s, PR_REPLY_RECIPIENT_ENTRIES);
			shape_add_tag(r, s, PR_REPLY_RECIPIENT_NAMES);
		} else if (f->kind == EWS_FK_FLAG) {
			shape_add_tag(r, s, PR_FLAG_STATUS);
			shape_add_tag(r, s, PR_FLAG_COMPLETE_TIME);
		} else if (f->kind == EWS_FK_BODY || f->kind == EWS_FK_TEXTBODY) {
			/* read whole by the writer */
		} else {
			shape_add_tag(r, s, ews_field_tag(r, f, false));
		}
	}
	for (uint32_t i = 0; i < s->n_ext; i++)
		shape_add_tag(r, s, s->ext[i].tag);
}

/* --- reading values --- */

uint32_t ews_message_read_prop(struct store_message *msg, uint32_t tag, pool_t *pool,
	struct mapi_propval *pv_r)
{
	struct store_stream *st = NULL;
	uint32_t ec = store_message_open_stream(msg, tag, STORE_STREAM_READ, &st);
	if (ec != ecSuccess)
		return ec;
	struct buf b;
	buf_init(&b, pool);
	uint64_t size = store_stream_size(st);
	if (size > CONVERT_BODY_MAX) {
		store_stream_close(&st);
		return ecTooBig;
	}
	size_t got;
	do {
		ec = store_stream_read(st, 65536, &b, &got);
	} while (ec == ecSuccess && got > 0);
	store_stream_close(&st);
	if (ec != ecSuccess)
		return ec;
	pv_r->tag = tag;
	if (mapi_ptype_is_string(PROP_TYPE(tag)))
		pv_r->v.str = (char *)buf_cstr(&b);
	else {
		pv_r->v.bin.cb = (uint32_t)b.len;
		pv_r->v.bin.pb = b.data;
	}
	return ecSuccess;
}

uint32_t ews_message_props(struct store_message *msg, const struct mapi_tags *tags, pool_t *pool,
	struct mapi_propvals *out)
{
	uint32_t ec = store_message_get_props(msg, tags, pool, out);
	if (ec != ecSuccess)
		return ec;
	for (uint32_t i = 0; i < out->count; i++) {
		struct mapi_propval *pv = &out->vals[i];
		if (PROP_TYPE(pv->tag) != PT_ERROR || pv->v.err != ecMAPIOOM)
			continue;
		/* too large for a property read: the stream has it */
		uint32_t want = tags != NULL ? tags->tags[i] : 0;
		if (want == 0 || PROP_ID(want) != PROP_ID(pv->tag))
			continue;
		struct mapi_propval whole;
		if (ews_message_read_prop(msg, want, pool, &whole) == ecSuccess)
			*pv = whole;
	}
	return ecSuccess;
}

static const struct mapi_propval *prop(const struct mapi_propvals *pv, uint32_t tag)
{
	if (tag == 0)
		return NULL;
	const struct mapi_propval *v = mapi_propvals_get(pv, tag);
	if (v == NULL || PROP_TYPE(v->tag) == PT_ERROR)
		return NULL;
	return v;
}

/* --- ids --- */

void ews_write_item_id(struct ews_req *r, const char *elem, mapi_id_t fid, mapi_id_t mid,
	const struct mapi_binary *ck)
{
	struct ews_id id = {
		.kind = EWS_ID_ITEM, .mailbox = r->user->mailbox_guid, .fid = fid, .mid = mid};
	ews_start(r, elem);
	ews_attr(r, "Id", ews_id_format(r->pool, &id));
	if (ck != NULL)
		ews_attr(r, "ChangeKey", ews_change_key(r->pool, ck));
	ews_end(r);
}

const char *ews_item_ref(struct ews_req *r, const xmlNode *ref, mapi_id_t *fid_r,
	mapi_id_t *mid_r)
{
	struct store_mailbox *mb;
	if (ews_mailbox(r, &mb) != ecSuccess)
		return "ErrorMailboxStoreUnavailable";
	if (!http_xml_is(ref, NS_T, "ItemId"))
		return http_xml_is(ref, NS_T, "OccurrenceItemId") ||
				       http_xml_is(ref, NS_T, "RecurringMasterItemId") ?
			       "ErrorItemNotFound" :
			       "ErrorSchemaValidation";
	char *text = http_xml_attr(r->pool, ref, "Id");
	struct ews_id id;
	if (text == NULL || ews_id_parse(text, &id) < 0 || id.kind != EWS_ID_ITEM)
		return "ErrorInvalidIdMalformed";
	if (!guid_eq(&id.mailbox, &r->user->mailbox_guid))
		return "ErrorAccessDenied";
	mapi_id_t fid = 0;
	if (store_object_kind(mb, id.mid, &fid) != 2 || fid != id.fid)
		return "ErrorItemNotFound";
	*fid_r = id.fid;
	*mid_r = id.mid;
	return NULL;
}

/* --- the element --- */

const char *ews_item_elem(const char *cls)
{
	if (cls == NULL)
		return "t:Message";
	if (str_case_eq(cls, "IPM.Note") || str_case_starts_with(cls, "IPM.Note.") ||
		str_case_starts_with(cls, "REPORT.") || str_case_eq(cls, "IPM") ||
		str_case_starts_with(cls, "IPM.Schedule.Meeting."))
		return "t:Message";
	if (str_case_starts_with(cls, "IPM.Appointment"))
		return "t:CalendarItem";
	if (str_case_starts_with(cls, "IPM.Contact"))
		return "t:Contact";
	if (str_case_starts_with(cls, "IPM.DistList"))
		return "t:DistributionList";
	if (str_case_starts_with(cls, "IPM.Task"))
		return "t:Task";
	if (str_case_starts_with(cls, "IPM.Post"))
		return "t:PostItem";
	return "t:Item";
}

/* --- field writers --- */

static void write_mailbox_parts(struct ews_req *r, const char *name, const char *email,
	const char *addrtype, const char *smtp)
{
	ews_start(r, "t:Mailbox");
	if (name != NULL && *name != '\0')
		ews_elem(r, "t:Name", name);
	/* SMTP addresses are what EWS clients expect; an EX address without
	 * an SMTP one is given as it is. */
	const char *addr = smtp;
	const char *rt = "SMTP";
	if (addr == NULL || *addr == '\0') {
		addr = email;
		if (addrtype != NULL && *addrtype != '\0')
			rt = addrtype;
	}
	if (addr != NULL && *addr != '\0') {
		ews_elem(r, "t:EmailAddress", addr);
		ews_elem(r, "t:RoutingType", rt);
	}
	ews_end(r);
}

static void write_mailbox_field(struct ews_req *r, const struct ews_field *f,
	const struct mapi_propvals *pv)
{
	const struct ews_mbx_tags *t = &ews_mbx_tags[f->aux];
	const char *name = mapi_propvals_get_str(pv, t->name);
	const char *email = mapi_propvals_get_str(pv, t->email);
	const char *smtp = mapi_propvals_get_str(pv, t->smtp);
	if (name == NULL && email == NULL && smtp == NULL)
		return;
	ews_start(r, f->elem);
	write_mailbox_parts(r, name, email, mapi_propvals_get_str(pv, t->addrtype), smtp);
	ews_end(r);
}

static uint32_t write_recipients(struct ews_req *r, const struct ews_field *f,
	struct store_message *msg)
{
	struct mapi_propvals *rows;
	uint32_t n;
	uint32_t ec = store_message_get_recipients(msg, r->pool, &rows, &n);
	if (ec != ecSuccess)
		return ec;
	bool any = false;
	for (uint32_t i = 0; i < n; i++) {
		if ((uint32_t)mapi_propvals_get_long(&rows[i], PR_RECIPIENT_TYPE, 1) != f->aux)
			continue;
		if (!any)
			ews_start(r, f->elem);
		any = true;
		write_mailbox_parts(r, mapi_propvals_get_str(&rows[i], PR_DISPLAY_NAME),
			mapi_propvals_get_str(&rows[i], PR_EMAIL_ADDRESS),
			mapi_propvals_get_str(&rows[i], PR_ADDRTYPE),
			mapi_propvals_get_str(&rows[i], PR_SMTP_ADDRESS));
	}
	if (any)
		ews_end(r);
	return ecSuccess;
}

/* ReplyTo from the one-off entries of PR_REPLY_RECIPIENT_ENTRIES
 * (MS-OXOMSG 2.2.1.45: a FlatEntryList). */
static void write_reply_to(struct ews_req *r, const struct mapi_propvals *pv)
{
	const struct mapi_binary *b = mapi_propvals_get_bin(pv, PR_REPLY_RECIPIENT_ENTRIES);
	if (b == NULL || b->cb < 8)
		return;
	const uint8_t *p = b->pb;
	uint32_t count = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
	size_t off = 8;
	bool any = false;
	for (uint32_t i = 0; i < count && off + 4 <= b->cb; i++) {
		uint32_t len = (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 |
			(uint32_t)p[off + 2] << 16 | (uint32_t)p[off + 3] << 24;
		off += 4;
		if (len > b->cb - off)
			break;
		char *name, *type, *addr;
		if (convert_oneoff_parse(r->pool, p + off, len, &name, &type, &addr) == 1) {
			if (!any)
				ews_start(r, "t:ReplyTo");
			any = true;
			write_mailbox_parts(r, name, addr, type,
				str_case_eq(type, "SMTP") ? addr : NULL);
		}
		/* entries are padded to 4 bytes */
		off += (len + 3u) & ~3u;
	}
	if (any)
		ews_end(r);
}

/* Headers of PR_TRANSPORT_MESSAGE_HEADERS, unfolded (RFC 5322 2.2.3). */
static void write_headers(struct ews_req *r, const char *h)
{
	if (h == NULL || *h == '\0')
		return;
	ews_start(r, "t:InternetMessageHeaders");
	const char *p = h;
	while (*p != '\0' && *p != '\r' && *p != '\n') {
		const char *colon = strchr(p, ':');
		const char *eol = strpbrk(p, "\r\n");
		if (colon == NULL || (eol != NULL && colon > eol)) {
			/* not a header line: skip it */
			p = eol != NULL ? eol : p + strlen(p);
			while (*p == '\r' || *p == '\n')
				p++;
			continue;
		}
		char *name = pool_strndup(r->pool, p, (size_t)(colon - p));
		struct buf v;
		buf_init(&v, r->pool);
		p = colon + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		for (;;) {
			const char *e = strpbrk(p, "\r\n");
			size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
			buf_append(&v, p, len);
			p += len;
			if (*p == '\r')
				p++;
			if (*p == '\n')
				p++;
			if (*p != ' ' && *p != '\t')
				break;
			buf_append_byte(&v, ' ');
			while (*p == ' ' || *p == '\t')
				p++;
		}
		if (*name != '\0' && strpbrk(name, " \t") == NULL) {
			ews_start(r, "t:InternetMessageHeader");
			ews_attr(r, "HeaderName", name);
			http_xml_write_text(r->w, (const char *)v.data, v.len);
			ews_end(r);
		}
	}
	ews_end(r);
}

static const uint32_t body_tags_v[] = {
	PR_BODY, PR_HTML, PR_RTF_COMPRESSED, PR_NATIVE_BODY_INFO, PR_INTERNET_CPID, PR_RTF_IN_SYNC,
};

static uint32_t write_body(struct ews_req *r, const struct ews_field *f,
	const struct ews_item_shape *s, struct store_message *msg)
{
	const struct mapi_tags tags = {6, (uint32_t *)body_tags_v};
	struct mapi_propvals pv = {0};
	uint32_t ec = ews_message_props(msg, &tags, r->pool, &pv);
	if (ec != ecSuccess)
		return ec;
	bool html = f->kind == EWS_FK_BODY && s->body_type == EWS_BODY_HTML;
	if (f->kind == EWS_FK_BODY && s->body_type == EWS_BODY_BEST) {
		int best = convert_body_best(&pv);
		html = best == NATIVE_BODY_HTML || best == NATIVE_BODY_RTF;
	}
	struct buf out;
	buf_init(&out, r->pool);
	const char *error;
	int rc = html ? convert_body_html(&pv, &out, &error) : convert_body_text(&pv, &out, &error);
	if (rc < 0)
		buf_reset(&out); /* an unreadable body reads as empty */
	ews_start(r, f->elem);
	ews_attr(r, "BodyType", html ? "HTML" : "Text");
	ews_attr(r, "IsTruncated", "false");
	http_xml_write_text(r->w, (const char *)out.data, out.len);
	ews_end(r);
	return ecSuccess;
}

static const uint32_t att_cols_v[] = {
	PR_ATTACH_NUM, PR_ATTACH_METHOD, PR_ATTACH_LONG_FILENAME, PR_ATTACH_FILENAME,
	PR_DISPLAY_NAME, PR_ATTACH_MIME_TAG, PR_ATTACH_CONTENT_ID, PR_ATTACH_CONTENT_LOCATION,
	PR_ATTACH_SIZE, PR_LAST_MODIFICATION_TIME, PR_ATTACHMENT_HIDDEN, PR_ATTACH_FLAGS,
	PR_ATTACHMENT_CONTACTPHOTO,
};

void ews_attachment_write_meta(struct ews_req *r, mapi_id_t fid, mapi_id_t mid,
	const struct mapi_propvals *a, bool leave_open)
{
	bool item = mapi_propvals_get_long(a, PR_ATTACH_METHOD, 1) == ATTACH_EMBEDDED_MSG;
	ews_start(r, item ? "t:ItemAttachment" : "t:FileAttachment");
	struct ews_id id = {.kind = EWS_ID_ATTACH, .mailbox = r->user->mailbox_guid, .fid = fid,
		.mid = mid, .attach_num = (uint32_t)mapi_propvals_get_long(a, PR_ATTACH_NUM, 0)};
	ews_start(r, "t:AttachmentId");
	ews_attr(r, "Id", ews_id_format(r->pool, &id));
	ews_end(r);
	const char *name = mapi_propvals_get_str(a, PR_ATTACH_LONG_FILENAME);
	if (name == NULL)
		name = mapi_propvals_get_str(a, PR_ATTACH_FILENAME);
	if (name == NULL)
		name = mapi_propvals_get_str(a, PR_DISPLAY_NAME);
	ews_elem(r, "t:Name", name != NULL ? name : "");
	const char *ct = mapi_propvals_get_str(a, PR_ATTACH_MIME_TAG);
	ews_elem(r, "t:ContentType",
		ct != NULL ? ct : item ? "message/rfc822" : "application/octet-stream");
	const char *cid = mapi_propvals_get_str(a, PR_ATTACH_CONTENT_ID);
	if (cid != NULL)
		ews_elem(r, "t:ContentId", cid);
	const char *cl = mapi_propvals_get_str(a, PR_ATTACH_CONTENT_LOCATION);
	if (cl != NULL)
		ews_elem(r, "t:ContentLocation", cl);
	ews_elem_int(r, "t:Size", mapi_propvals_get_long(a, PR_ATTACH_SIZE, 0));
	const struct mapi_propval *lm = prop(a, PR_LAST_MODIFICATION_TIME);
	if (lm != NULL)
		ews_elem(r, "t:LastModifiedTime", ews_format_time(r->pool, lm->v.ft));
	bool hidden = mapi_propvals_get_bool(a, PR_ATTACHMENT_HIDDEN, false);
	bool mhtml = (mapi_propvals_get_long(a, PR_ATTACH_FLAGS, 0) & ATT_MHTML_REF) != 0;
	ews_elem_bool(r, "t:IsInline", hidden || (cid != NULL && mhtml));
	if (!item)
		ews_elem_bool(r, "t:IsContactPhoto",
			mapi_propvals_get_bool(a, PR_ATTACHMENT_CONTACTPHOTO, false));
	if (!leave_open)
		ews_end(r);
}

static uint32_t write_attachments(struct ews_req *r, mapi_id_t fid, mapi_id_t mid,
	struct store_message *msg)
{
	struct store_table *t = NULL;
	uint32_t ec = store_table_open_attachments(msg, &t);
	const struct mapi_tags cols = {sizeof(att_cols_v) / sizeof(att_cols_v[0]),
		(uint32_t *)att_cols_v};
	struct store_rows rows = {0};
	if (ec == ecSuccess)
		ec = store_table_set_columns(t, &cols);
	if (ec == ecSuccess)
		ec = store_table_query_rows(t, 10000, true, 0, r->pool, &rows, NULL);
	store_table_close(&t);
	if (ec != ecSuccess)
		return ec;
	if (rows.count == 0)
		return ecSuccess;
	ews_start(r, "t:Attachments");
	for (uint32_t i = 0; i < rows.count; i++)
		ews_attachment_write_meta(r, fid, mid, &rows.rows[i], false);
	ews_end(r);
	return ecSuccess;
}

static void write_categories(struct ews_req *r, const struct ews_field *f,
	const struct mapi_propvals *pv)
{
	const struct mapi_propval *v = prop(pv, ews_field_tag(r, f, false));
	if (v == NULL || PROP_TYPE(v->tag) != PT_MV_UNICODE || v->v.mv.count == 0)
		return;
	ews_start(r, f->elem);
	for (uint32_t i = 0; i < v->v.mv.count; i++)
		ews_elem(r, "t:String", v->v.mv.str[i]);
	ews_end(r);
}

static const char *const importance_names[] = {"Low", "Normal", "High"};
static const char *const sensitivity_names[] = {"Normal", "Personal", "Private", "Confidential"};

uint32_t ews_item_write(struct ews_req *r, const struct ews_item_shape *s, mapi_id_t fid,
	mapi_id_t mid, const struct mapi_propvals *pv, struct store_message *msg)
{
	const char *cls = mapi_propvals_get_str(pv, PR_MESSAGE_CLASS);
	const char *elem = ews_item_elem(cls);
	bool is_msg = strcmp(elem, "t:Message") == 0;
	ews_start(r, elem);
	for (unsigned i = 0; i < ews_n_item_fields && i < EWS_MAX_FIELDS; i++) {
		const struct ews_field *f = &ews_item_fields[i];
		if (f->kind == EWS_FK_EXTENDED) {
			for (uint32_t k = 0; k < s->n_ext; k++) {
				const struct mapi_propval *v = prop(pv, s->ext[k].tag);
				if (v != NULL)
					ews_ext_write(r, &s->ext[k], v);
			}
			continue;
		}
		if (!s->want[i] || ((f->flags & EWS_FF_MSG) && !is_msg))
			continue;
		if ((f->flags & EWS_FF_OPEN) && msg == NULL)
			continue;
		const struct mapi_propval *v = prop(pv, ews_field_tag(r, f, false));
		uint32_t ec = ecSuccess;
		switch (f->kind) {
		case EWS_FK_MIME:
			ec = ews_item_write_mime(r, msg);
			break;
		case EWS_FK_ITEMID:
			if (mid == 0) /* an attachment's item has no id of its own */
				break;
			ews_write_item_id(r, f->elem, fid, mid, mapi_propvals_get_bin(pv, PR_CHANGE_KEY));
			break;
		case EWS_FK_PARENT:
			if (fid == 0)
				break;
			ews_write_folder_id(r, f->elem, fid, NULL);
			break;
		case EWS_FK_STRING:
			if (v != NULL)
				ews_elem(r, f->elem, v->v.str);
			break;
		case EWS_FK_BOOL:
			if (v != NULL && PROP_TYPE(v->tag) == PT_BOOLEAN)
				ews_elem_bool(r, f->elem, v->v.b);
			break;
		case EWS_FK_INT:
			if (v != NULL && PROP_TYPE(v->tag) == PT_LONG)
				ews_elem_int(r, f->elem, v->v.l);
			break;
		case EWS_FK_TIME:
			if (v != NULL && PROP_TYPE(v->tag) == PT_SYSTIME)
				ews_elem(r, f->elem, ews_format_time(r->pool, v->v.ft));
			break;
		case EWS_FK_BINARY:
			if (v != NULL && PROP_TYPE(v->tag) == PT_BINARY)
				ews_elem(r, f->elem, ews_change_key(r->pool, &v->v.bin));
			break;
		case EWS_FK_CONVERSATION_ID:
			if (v != NULL && PROP_TYPE(v->tag) == PT_BINARY) {
				ews_start(r, f->elem);
				ews_attr(r, "Id", ews_change_key(r->pool, &v->v.bin));
				ews_end(r);
			}
			break;
		case EWS_FK_IMPORTANCE:
			ews_elem(r, f->elem,
				importance_names[v != NULL && v->v.l >= 0 && v->v.l <= 2 ? v->v.l : 1]);
			break;
		case EWS_FK_SENSITIVITY:
			ews_elem(r, f->elem,
				sensitivity_names[v != NULL && v->v.l >= 0 && v->v.l <= 3 ? v->v.l : 0]);
			break;
		case EWS_FK_MSGFLAG:
			ews_elem_bool(r, f->elem, v != NULL && (v->v.l & (int32_t)f->aux) != 0);
			break;
		case EWS_FK_FLAG: {
			int32_t st = v != NULL ? v->v.l : 0;
			ews_start(r, f->elem);
			ews_elem(r, "t:FlagStatus",
				st == 2 ? "Flagged" : st == 1 ? "Complete" : "NotFlagged");
			const struct mapi_propval *ct = prop(pv, PR_FLAG_COMPLETE_TIME);
			if (st == 1 && ct != NULL)
				ews_elem(r, "t:CompleteDate", ews_format_time(r->pool, ct->v.ft));
			ews_end(r);
			break;
		}
		case EWS_FK_CATEGORIES:
			write_categories(r, f, pv);
			break;
		case EWS_FK_HEADERS: {
			struct mapi_propval h;
			if (ews_message_read_prop(msg, PR_TRANSPORT_MESSAGE_HEADERS, r->pool, &h) ==
				ecSuccess)
				write_headers(r, h.v.str);
			break;
		}
		case EWS_FK_BODY:
		case EWS_FK_TEXTBODY:
			ec = write_body(r, f, s, msg);
			break;
		case EWS_FK_ATTACHMENTS:
			ec = write_attachments(r, fid, mid, msg);
			break;
		case EWS_FK_MAILBOX:
			write_mailbox_field(r, f, pv);
			break;
		case EWS_FK_RECIPIENTS:
			ec = write_recipients(r, f, msg);
			break;
		case EWS_FK_REPLY_TO:
			write_reply_to(r, pv);
			break;
		case EWS_FK_EXTENDED:
			break;
		}
		if (ec != ecSuccess)
			log_warning(http_request_log(r->http), "ews: item field %s: %s", f->uri,
				mapi_ec_name(ec));
	}
	ews_end(r);
	return ecSuccess;
}
