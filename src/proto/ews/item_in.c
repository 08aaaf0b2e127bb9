/* Items in: the fields of a <t:Message> (or <t:Item>) of CreateItem,
 * UpdateItem and CreateAttachment read into a message object
 * (mapi/message.h): properties, recipients, bodies (kept coherent with
 * convert_body_sync, MS-OXBBODY), attachments, extended properties, and
 * MimeContent (MS-OXCMAIL through convert/mime.h). Named properties go
 * into the object's own name table; ews_message_store maps them. */
#include <string.h>

#include "convert/body.h"
#include "convert/mime.h"
#include "convert/msgutil.h"
#include "core/base64.h"
#include "core/str.h"
#include "mapi/namedprop.h"
#include "mapi/propval.h"
#include "mapi/tags.h"
#include "proto/ews/items.h"

/* Nesting of ItemAttachments inside items being created. */
#define EWS_MAX_ITEM_NESTING 8

static const char *const importance_names[] = {"Low", "Normal", "High"};
static const char *const sensitivity_names[] = {"Normal", "Personal", "Private", "Confidential"};

static int enum_value(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* The field whose element this is ("t:Subject"), or -1. */
static int field_by_elem(const xmlNode *el)
{
	if (el->type != XML_ELEMENT_NODE || strcmp(http_xml_ns(el), NS_T) != 0)
		return -1;
	for (unsigned i = 0; i < ews_n_item_fields; i++) {
		const char *e = ews_item_fields[i].elem;
		if (ews_item_fields[i].uri != NULL && strcmp(e + 2, (const char *)el->name) == 0)
			return (int)i;
	}
	return -1;
}

/* A field's named property as a tag of msg's own name table. */
static uint32_t named_tag(struct mapi_message *msg, enum mapi_np np)
{
	struct mapi_propname name = mapi_np_name(np);
	uint16_t id = convert_named_id(msg, &name);
	return id != 0 ? PROP_TAG(mapi_named_prop_defs[np].type, id) : 0;
}

uint32_t ews_field_msg_tag(struct mapi_message *msg, const struct ews_field *f)
{
	if (f->tag != 0)
		return f->tag;
	switch (f->aux) {
	case EWS_NP_KEYWORDS:
		return named_tag(msg, MAPI_NP_PidNameKeywords);
	case EWS_NP_REMINDER_SET:
		return named_tag(msg, MAPI_NP_PidLidReminderSet);
	case EWS_NP_REMINDER_TIME:
		return named_tag(msg, MAPI_NP_PidLidReminderTime);
	case EWS_NP_REMINDER_DELTA:
		return named_tag(msg, MAPI_NP_PidLidReminderDelta);
	default:
		return 0;
	}
}

/* A <t:Mailbox> (EmailAddressType) -> name, address, routing type. The
 * display name of one of our users comes from the directory when the
 * client gave none. */
static const char *mailbox_parse(struct ews_req *r, const xmlNode *mbx, const char **name_r,
	const char **addr_r, const char **type_r)
{
	if (mbx == NULL || !http_xml_is(mbx, NS_T, "Mailbox"))
		return "ErrorInvalidRecipients";
	char *name = http_xml_text(r->pool, http_xml_child(mbx, NS_T, "Name"));
	char *addr = http_xml_text(r->pool, http_xml_child(mbx, NS_T, "EmailAddress"));
	char *type = http_xml_text(r->pool, http_xml_child(mbx, NS_T, "RoutingType"));
	if (*addr == '\0')
		return "ErrorInvalidRecipients";
	if (*type == '\0')
		type = pool_strdup(r->pool, "SMTP");
	if (*name == '\0' && str_case_eq(type, "SMTP")) {
		struct directory_recipient rc;
		const char *error;
		if (directory_resolve(r->ews->set.dir, addr, r->pool, &rc, &error) == 1 &&
			rc.display_name != NULL && *rc.display_name != '\0')
			name = (char *)rc.display_name;
	}
	*name_r = *name != '\0' ? name : addr;
	*addr_r = addr;
	*type_r = type;
	return NULL;
}

static void recipients_display(struct ews_req *r, struct mapi_message *msg)
{
	static const uint32_t tags[] = {0, PR_DISPLAY_TO, PR_DISPLAY_CC, PR_DISPLAY_BCC};
	for (int type = 1; type <= 3; type++) {
		struct buf b;
		buf_init(&b, r->pool);
		for (size_t i = 0; i < msg->recipients.n; i++) {
			const struct mapi_propvals *p = &msg->recipients.v[i].props;
			if (mapi_propvals_get_long(p, PR_RECIPIENT_TYPE, 0) != type)
				continue;
			if (b.len > 0)
				buf_append_str(&b, "; ");
			const char *n = mapi_propvals_get_str(p, PR_DISPLAY_NAME);
			buf_append_str(&b, n != NULL ? n : "");
		}
		mapi_propvals_set_str(r->pool, &msg->props, tags[type], buf_cstr(&b));
	}
}

static const char *recipients_parse(struct ews_req *r, const xmlNode *el, uint32_t type,
	struct mapi_message *msg)
{
	/* replaces the recipients of this type */
	for (size_t i = msg->recipients.n; i-- > 0;)
		if ((uint32_t)mapi_propvals_get_long(&msg->recipients.v[i].props, PR_RECIPIENT_TYPE,
			    0) == type)
			array_delete(&msg->recipients, i);
	for (const xmlNode *m = http_xml_first_elem(el); m != NULL; m = http_xml_next_elem(m)) {
		const char *name, *addr, *rt;
		const char *err = mailbox_parse(r, m, &name, &addr, &rt);
		if (err != NULL)
			return err;
		struct mapi_recipient *rc = array_push_new(&msg->recipients);
		mapi_propvals_set_long(r->pool, &rc->props, PR_RECIPIENT_TYPE, (int32_t)type);
		mapi_propvals_set_str(r->pool, &rc->props, PR_DISPLAY_NAME, name);
		mapi_propvals_set_str(r->pool, &rc->props, PR_EMAIL_ADDRESS, addr);
		mapi_propvals_set_str(r->pool, &rc->props, PR_ADDRTYPE, rt);
		if (str_case_eq(rt, "SMTP"))
			mapi_propvals_set_str(r->pool, &rc->props, PR_SMTP_ADDRESS, addr);
		struct buf eid;
		buf_init(&eid, r->pool);
		convert_oneoff_entryid(name, rt, addr, &eid);
		mapi_propvals_set_bin(r->pool, &rc->props, PR_ENTRYID, eid.data, (uint32_t)eid.len);
	}
	recipients_display(r, msg);
	return NULL;
}

static const char *single_mailbox_parse(struct ews_req *r, const xmlNode *el,
	const struct ews_field *f, struct mapi_message *msg)
{
	const char *name, *addr, *rt;
	const char *err = mailbox_parse(r, http_xml_first_elem(el), &name, &addr, &rt);
	if (err != NULL)
		return err;
	const struct ews_mbx_tags *t = &ews_mbx_tags[f->aux];
	mapi_propvals_set_str(r->pool, &msg->props, t->name, name);
	mapi_propvals_set_str(r->pool, &msg->props, t->email, addr);
	mapi_propvals_set_str(r->pool, &msg->props, t->addrtype, rt);
	if (str_case_eq(rt, "SMTP"))
		mapi_propvals_set_str(r->pool, &msg->props, t->smtp, addr);
	struct buf eid;
	buf_init(&eid, r->pool);
	convert_oneoff_entryid(name, rt, addr, &eid);
	mapi_propvals_set_bin(r->pool, &msg->props, t->entryid, eid.data, (uint32_t)eid.len);
	return NULL;
}

/* ReplyTo: PR_REPLY_RECIPIENT_ENTRIES (a FlatEntryList of one-off entry
 * IDs, MS-OXCDATA 2.3.3) and PR_REPLY_RECIPIENT_NAMES. */
static const char *reply_to_parse(struct ews_req *r, const xmlNode *el, struct mapi_message *msg)
{
	struct buf list, names;
	buf_init(&list, r->pool);
	buf_init(&names, r->pool);
	uint32_t count = 0;
	buf_append_u32le(&list, 0);
	buf_append_u32le(&list, 0);
	for (const xmlNode *m = http_xml_first_elem(el); m != NULL; m = http_xml_next_elem(m)) {
		const char *name, *addr, *rt;
		const char *err = mailbox_parse(r, m, &name, &addr, &rt);
		if (err != NULL)
			return err;
		struct buf eid;
		buf_init(&eid, r->pool);
		convert_oneoff_entryid(name, rt, addr, &eid);
		buf_append_u32le(&list, (uint32_t)eid.len);
		buf_append(&list, eid.data, eid.len);
		while (list.len % 4 != 0)
			buf_append_byte(&list, 0);
		if (names.len > 0)
			buf_append_str(&names, ";");
		buf_append_str(&names, name);
		count++;
	}
	uint32_t size = (uint32_t)list.len - 8;
	memcpy(list.data, &count, 4);
	memcpy(list.data + 4, &size, 4);
	mapi_propvals_set_bin(r->pool, &msg->props, PR_REPLY_RECIPIENT_ENTRIES, list.data,
		(uint32_t)list.len);
	mapi_propvals_set_str(r->pool, &msg->props, PR_REPLY_RECIPIENT_NAMES, buf_cstr(&names));
	return NULL;
}

static const char *body_parse(struct ews_req *r, const xmlNode *el, struct mapi_message *msg,
	unsigned *written)
{
	char *type = http_xml_attr(r->pool, el, "BodyType");
	char *text = http_xml_text(r->pool, el);
	if (type == NULL || strcmp(type, "Text") == 0) {
		mapi_propvals_set_str(r->pool, &msg->props, PR_BODY, text);
		*written |= CONVERT_BODY_TEXT;
	} else if (strcmp(type, "HTML") == 0) {
		mapi_propvals_set_bin(r->pool, &msg->props, PR_HTML, text, (uint32_t)strlen(text));
		mapi_propvals_set_long(r->pool, &msg->props, PR_INTERNET_CPID, 65001);
		*written |= CONVERT_BODY_HTML;
	} else {
		return "ErrorSchemaValidation";
	}
	return NULL;
}

static const char *attachments_parse(struct ews_req *r, const xmlNode *el,
	struct mapi_message *msg, unsigned depth);

const char *ews_item_field_in(struct ews_req *r, const xmlNode *el, struct mapi_message *msg,
	unsigned *written, unsigned depth)
{
	if (http_xml_is(el, NS_T, "ExtendedProperty")) {
		struct ews_ext e;
		const char *err =
			ews_ext_parse(r->pool, http_xml_child(el, NS_T, "ExtendedFieldURI"), &e);
		if (err != NULL)
			return err;
		uint32_t tag = e.tag;
		if (e.named) {
			uint16_t id = convert_named_id(msg, &e.name);
			if (id == 0)
				return "ErrorInvalidExtendedProperty";
			tag = PROP_TAG(e.type, id);
		}
		union mapi_pvalue v;
		if (ews_ext_value_parse(r->pool, e.type, el, &v) < 0)
			return "ErrorInvalidExtendedPropertyValue";
		mapi_propvals_set_nocopy(r->pool, &msg->props, tag, v);
		return NULL;
	}
	int i = field_by_elem(el);
	if (i < 0)
		return "ErrorInvalidPropertySet";
	const struct ews_field *f = &ews_item_fields[i];
	if (f->kind == EWS_FK_ATTACHMENTS)
		return attachments_parse(r, el, msg, depth);
	if (f->flags & EWS_FF_RO)
		return "ErrorInvalidPropertySet";
	char *text = http_xml_text(r->pool, el);
	uint32_t tag = ews_field_msg_tag(msg, f);
	bool b;
	int64_t n;
	uint64_t ft;
	switch (f->kind) {
	case EWS_FK_STRING:
		mapi_propvals_set_str(r->pool, &msg->props, tag, text);
		return NULL;
	case EWS_FK_BOOL:
		if (ews_parse_bool(text, &b) < 0)
			return "ErrorInvalidValueForProperty";
		mapi_propvals_set_bool(r->pool, &msg->props, tag, b);
		return NULL;
	case EWS_FK_INT:
		if (str_to_i64(text, &n) < 0 || n < INT32_MIN || n > INT32_MAX)
			return "ErrorInvalidValueForProperty";
		mapi_propvals_set_long(r->pool, &msg->props, tag, (int32_t)n);
		return NULL;
	case EWS_FK_TIME:
		if (ews_parse_time(text, &ft) < 0)
			return "ErrorInvalidValueForProperty";
		mapi_propvals_set_systime(r->pool, &msg->props, tag, ft);
		return NULL;
	case EWS_FK_IMPORTANCE:
	case EWS_FK_SENSITIVITY:
		n = f->kind == EWS_FK_IMPORTANCE ? enum_value(importance_names, 3, text) :
						   enum_value(sensitivity_names, 4, text);
		if (n < 0)
			return "ErrorInvalidValueForProperty";
		mapi_propvals_set_long(r->pool, &msg->props, tag, (int32_t)n);
		return NULL;
	case EWS_FK_MSGFLAG: {
		if (ews_parse_bool(text, &b) < 0)
			return "ErrorInvalidValueForProperty";
		int32_t fl = mapi_propvals_get_long(&msg->props, PR_MESSAGE_FLAGS, 0);
		fl = b ? fl | (int32_t)f->aux : fl & ~(int32_t)f->aux;
		mapi_propvals_set_long(r->pool, &msg->props, PR_MESSAGE_FLAGS, fl);
		return NULL;
	}
	case EWS_FK_CATEGORIES: {
		uint32_t count = 0;
		for (const xmlNode *s = http_xml_first_elem(el); s != NULL; s = http_xml_next_elem(s))
			count++;
		union mapi_pvalue v = {0};
		v.mv.count = count;
		v.mv.str = pool_calloc(r->pool, count + 1, sizeof(char *));
		uint32_t k = 0;
		for (const xmlNode *s = http_xml_first_elem(el); s != NULL; s = http_xml_next_elem(s))
			v.mv.str[k++] = http_xml_text(r->pool, s);
		if (count == 0)
			mapi_propvals_delete(&msg->props, tag);
		else
			mapi_propvals_set_nocopy(r->pool, &msg->props, tag, v);
		return NULL;
	}
	case EWS_FK_FLAG: {
		char *st = http_xml_text(r->pool, http_xml_child(el, NS_T, "FlagStatus"));
		/* MS-OXOFLAG 2.2.1.1 PidTagFlagStatus */
		int32_t v = strcmp(st, "Flagged") == 0 ? 2 : strcmp(st, "Complete") == 0 ? 1 : 0;
		if (v == 0 && strcmp(st, "NotFlagged") != 0)
			return "ErrorInvalidValueForProperty";
		mapi_propvals_set_long(r->pool, &msg->props, PR_FLAG_STATUS, v);
		return NULL;
	}
	case EWS_FK_BODY:
		return body_parse(r, el, msg, written);
	case EWS_FK_MAILBOX:
		return single_mailbox_parse(r, el, f, msg);
	case EWS_FK_RECIPIENTS:
		return recipients_parse(r, el, f->aux, msg);
	case EWS_FK_REPLY_TO:
		return reply_to_parse(r, el, msg);
	default:
		return "ErrorInvalidPropertySet";
	}
}

/* MimeContent: the message as MIME (base64), read by MS-OXCMAIL. */
const char *ews_mime_in(struct ews_req *r, const xmlNode *el, struct mapi_message **msg_r,
	struct slice *raw_r)
{
	char *text = http_xml_text(r->pool, el);
	struct buf raw;
	buf_init(&raw, r->pool);
	if (base64_decode(text, strlen(text), &raw) < 0)
		return "ErrorMimeContentInvalidBase64String";
	const char *error;
	struct mapi_message *m;
	if (mime_to_message(r->pool, raw.data, raw.len, NULL, &m, NULL, &error) < 0)
		return "ErrorMimeContentConversionFailed";
	*msg_r = m;
	*raw_r = buf_slice(&raw);
	return NULL;
}

const char *ews_item_parse(struct ews_req *r, const xmlNode *item, unsigned depth,
	struct mapi_message **msg_r, struct slice *mime_r)
{
	if (depth > EWS_MAX_ITEM_NESTING)
		return "ErrorAttachmentNestLevelLimitExceeded";
	struct mapi_message *msg = NULL;
	struct slice raw = {0};
	const xmlNode *mime = http_xml_child(item, NS_T, "MimeContent");
	if (mime != NULL) {
		const char *err = ews_mime_in(r, mime, &msg, &raw);
		if (err != NULL)
			return err;
	} else {
		msg = convert_message_new(r->pool);
	}
	unsigned written = 0;
	for (const xmlNode *c = http_xml_first_elem(item); c != NULL; c = http_xml_next_elem(c)) {
		if (c == mime)
			continue;
		const char *err = ews_item_field_in(r, c, msg, &written, depth);
		if (err != NULL)
			return err;
	}
	if (mapi_propvals_get(&msg->props, PR_MESSAGE_CLASS) == NULL)
		mapi_propvals_set_str(r->pool, &msg->props, PR_MESSAGE_CLASS,
			http_xml_is(item, NS_T, "Message") ? "IPM.Note" : "IPM.Note");
	if (written != 0) {
		const char *error;
		/* the written body is the source; a text body is derived for
		 * every reader (search, IMAP, previews) */
		if (convert_body_sync(r->pool, &msg->props, written, CONVERT_BODY_TEXT, &error) < 0)
			return "ErrorInvalidPropertySet";
	}
	*msg_r = msg;
	if (mime_r != NULL)
		*mime_r = raw;
	return NULL;
}

void ews_message_merge_props(struct ews_req *r, struct mapi_message *dst,
	const struct mapi_message *src)
{
	for (uint32_t i = 0; i < src->props.count; i++) {
		struct mapi_propval pv = src->props.vals[i];
		uint16_t id = PROP_ID(pv.tag);
		if (id >= PROP_ID_NAMED_MIN) {
			const struct mapi_propname *n = convert_named_get(src, id);
			uint16_t nid = n != NULL ? convert_named_id(dst, n) : 0;
			if (nid == 0)
				continue;
			pv.tag = PROP_TAG(PROP_TYPE(pv.tag), nid);
		}
		mapi_propvals_set_nocopy(r->pool, &dst->props, pv.tag, pv.v);
	}
}

/* The item inside an ItemAttachment (Item, Message, ...). */
static const xmlNode *attached_item(const xmlNode *att)
{
	static const char *const kinds[] = {"Item", "Message", "CalendarItem", "Contact",
		"Task", "PostItem", "MeetingMessage", "MeetingRequest", "MeetingResponse",
		"MeetingCancellation"};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const xmlNode *n = http_xml_child(att, NS_T, kinds[i]);
		if (n != NULL)
			return n;
	}
	return NULL;
}

const char *ews_attachment_parse(struct ews_req *r, const xmlNode *a, struct mapi_message *parent,
	unsigned depth, struct mapi_attachment *out)
{
	memset(out, 0, sizeof(*out));
	char *name = http_xml_text(r->pool, http_xml_child(a, NS_T, "Name"));
	if (*name != '\0') {
		mapi_propvals_set_str(r->pool, &out->props, PR_ATTACH_LONG_FILENAME, name);
		mapi_propvals_set_str(r->pool, &out->props, PR_DISPLAY_NAME, name);
	}
	const xmlNode *ct = http_xml_child(a, NS_T, "ContentType");
	if (ct != NULL)
		mapi_propvals_set_str(r->pool, &out->props, PR_ATTACH_MIME_TAG,
			http_xml_text(r->pool, ct));
	const xmlNode *cid = http_xml_child(a, NS_T, "ContentId");
	if (cid != NULL)
		mapi_propvals_set_str(r->pool, &out->props, PR_ATTACH_CONTENT_ID,
			http_xml_text(r->pool, cid));
	const xmlNode *cl = http_xml_child(a, NS_T, "ContentLocation");
	if (cl != NULL)
		mapi_propvals_set_str(r->pool, &out->props, PR_ATTACH_CONTENT_LOCATION,
			http_xml_text(r->pool, cl));
	const xmlNode *inl = http_xml_child(a, NS_T, "IsInline");
	bool inline_ = false;
	if (inl != NULL && ews_parse_bool(http_xml_text(r->pool, inl), &inline_) < 0)
		return "ErrorInvalidValueForProperty";
	if (inline_) {
		mapi_propvals_set_bool(r->pool, &out->props, PR_ATTACHMENT_HIDDEN, true);
		mapi_propvals_set_long(r->pool, &out->props, PR_ATTACH_FLAGS, ATT_MHTML_REF);
	}
	if (http_xml_is(a, NS_T, "FileAttachment")) {
		struct buf data;
		buf_init(&data, r->pool);
		char *content = http_xml_text(r->pool, http_xml_child(a, NS_T, "Content"));
		if (base64_decode(content, strlen(content), &data) < 0 || data.len > UINT32_MAX)
			return "ErrorInvalidValueForProperty";
		mapi_propvals_set_long(r->pool, &out->props, PR_ATTACH_METHOD, ATTACH_BY_VALUE);
		mapi_propvals_set_bin(r->pool, &out->props, PR_ATTACH_DATA_BIN, data.data,
			(uint32_t)data.len);
		const xmlNode *photo = http_xml_child(a, NS_T, "IsContactPhoto");
		bool ph = false;
		if (photo != NULL && ews_parse_bool(http_xml_text(r->pool, photo), &ph) < 0)
			return "ErrorInvalidValueForProperty";
		if (ph)
			mapi_propvals_set_bool(r->pool, &out->props, PR_ATTACHMENT_CONTACTPHOTO, true);
		return NULL;
	}
	if (!http_xml_is(a, NS_T, "ItemAttachment"))
		return "ErrorSchemaValidation";
	const xmlNode *item = attached_item(a);
	if (item == NULL)
		return "ErrorMissingItemForCreateItemAttachment";
	struct mapi_message *emb;
	const char *err = ews_item_parse(r, item, depth + 1, &emb, NULL);
	if (err != NULL)
		return err;
	/* the embedded message shares the top message's name table */
	struct mapi_message *e = convert_message_new_embedded(parent);
	ews_message_merge_props(r, e, emb);
	e->recipients = emb->recipients;
	e->attachments = emb->attachments;
	out->embedded = e;
	mapi_propvals_set_long(r->pool, &out->props, PR_ATTACH_METHOD, ATTACH_EMBEDDED_MSG);
	if (*name == '\0') {
		const char *subj = mapi_propvals_get_str(&e->props, PR_SUBJECT);
		mapi_propvals_set_str(r->pool, &out->props, PR_DISPLAY_NAME,
			subj != NULL ? subj : "");
	}
	return NULL;
}

static const char *attachments_parse(struct ews_req *r, const xmlNode *el,
	struct mapi_message *msg, unsigned depth)
{
	for (const xmlNode *a = http_xml_first_elem(el); a != NULL; a = http_xml_next_elem(a)) {
		struct mapi_attachment att;
		const char *err = ews_attachment_parse(r, a, msg, depth, &att);
		if (err != NULL)
			return err;
		array_push(&msg->attachments, att);
	}
	return NULL;
}
