/* Attachments (MS-OXWSATT): CreateAttachment, GetAttachment,
 * DeleteAttachment, for file attachments and item attachments (embedded
 * messages). An AttachmentId is the parent's FID and MID plus the
 * attachment number (ids.c). Changing attachments changes the message:
 * its change key moves and its MIME is written again. */
#include <string.h>

#include "convert/msgutil.h"
#include "core/base64.h"
#include "mapi/propval.h"
#include "mapi/tags.h"
#include "proto/ews/items.h"

/* Resolves an AttachmentId. NULL or the ResponseCode. */
static const char *attach_ref(struct ews_req *r, const xmlNode *ref, struct ews_id *id)
{
	struct store_mailbox *mb;
	if (ews_mailbox(r, &mb) != ecSuccess)
		return "ErrorMailboxStoreUnavailable";
	char *text = http_xml_attr(r->pool, ref, "Id");
	if (!http_xml_is(ref, NS_T, "AttachmentId") || text == NULL ||
		ews_id_parse(text, id) < 0 || id->kind != EWS_ID_ATTACH)
		return "ErrorInvalidIdMalformed";
	if (!guid_eq(&id->mailbox, &r->user->mailbox_guid))
		return "ErrorAccessDenied";
	mapi_id_t fid = 0;
	if (store_object_kind(mb, id->mid, &fid) != 2 || fid != id->fid)
		return "ErrorItemNotFound";
	return NULL;
}

/* <tag RootItemId= RootItemChangeKey=/> of a saved message. */
static void write_root(struct ews_req *r, const char *elem, struct store_message *m)
{
	static const uint32_t tv[] = {PR_CHANGE_KEY};
	const struct mapi_tags tags = {1, (uint32_t *)tv};
	struct mapi_propvals pv = {0};
	store_message_get_props(m, &tags, r->pool, &pv);
	struct ews_id id = {.kind = EWS_ID_ITEM, .mailbox = r->user->mailbox_guid,
		.fid = store_message_fid(m), .mid = store_message_mid(m)};
	ews_start(r, elem);
	ews_attr(r, "RootItemId", ews_id_format(r->pool, &id));
	ews_attr(r, "RootItemChangeKey",
		ews_change_key(r->pool, mapi_propvals_get_bin(&pv, PR_CHANGE_KEY)));
	ews_end(r);
}

/* Writes the message's MIME again after its attachments changed. */
static uint32_t refresh_mime(struct ews_req *r, struct store_message *m)
{
	struct mapi_message *whole;
	uint32_t ec = ews_message_load(r, m, &whole);
	if (ec == ecSuccess)
		ec = ews_message_set_mime(r, m, whole);
	return ec;
}

static int ews_create_attachment(struct ews_req *r, xmlNode *op)
{
	const char *msgname = "CreateAttachmentResponseMessage";
	xmlNode *pref = http_xml_child(op, NS_M, "ParentItemId");
	mapi_id_t fid = 0, mid = 0;
	const char *perr = NULL;
	struct store_message *m = NULL;
	if (pref == NULL) {
		perr = "ErrorSchemaValidation";
	} else {
		/* ParentItemId is an ItemIdType named otherwise */
		char *text = http_xml_attr(r->pool, pref, "Id");
		struct ews_id id;
		struct store_mailbox *mb;
		if (text == NULL || ews_id_parse(text, &id) < 0 || id.kind != EWS_ID_ITEM)
			perr = "ErrorInvalidIdMalformed";
		else if (!guid_eq(&id.mailbox, &r->user->mailbox_guid))
			perr = "ErrorAccessDenied";
		else if (ews_mailbox(r, &mb) != ecSuccess)
			perr = "ErrorMailboxStoreUnavailable";
		else {
			fid = id.fid;
			mid = id.mid;
		}
	}
	uint32_t ec = ecSuccess;
	if (perr == NULL) {
		ec = store_message_open(r->mb, fid, mid, STORE_OPEN_READ_WRITE, &m);
		if (ec != ecSuccess)
			perr = ec == ecAccessDenied ? "ErrorAccessDenied" : "ErrorItemNotFound";
	}
	ews_response_begin(r, "CreateAttachment");
	xmlNode *atts = http_xml_child(op, NS_M, "Attachments");
	for (xmlNode *a = http_xml_first_elem(atts); a != NULL; a = http_xml_next_elem(a)) {
		const char *err = perr;
		struct mapi_message *holder = NULL;
		struct mapi_attachment att;
		if (err == NULL) {
			holder = convert_message_new(r->pool);
			err = ews_attachment_parse(r, a, holder, 0, &att);
		}
		uint32_t num = 0;
		if (err == NULL) {
			array_push(&holder->attachments, att);
			uint32_t *after, na;
			ec = ews_message_add_attachments(r, m, holder, false);
			if (ec == ecSuccess)
				ec = store_message_attach_nums(m, r->pool, &after, &na);
			if (ec == ecSuccess && na > 0)
				num = after[na - 1]; /* the new one: numbers only grow */
			if (ec == ecSuccess)
				ec = refresh_mime(r, m);
			if (ec == ecSuccess)
				ec = store_message_save(m, 0);
			if (ec != ecSuccess)
				err = ec == ecQuotaExceeded ? "ErrorQuotaExceeded" :
				      ec == ecTooComplex ? "ErrorAttachmentNestLevelLimitExceeded" :
				      ec == ecTooBig ? "ErrorAttachmentSizeLimitExceeded" :
								      "ErrorItemSave";
		}
		if (err != NULL) {
			ews_msg_error(r, msgname, err, "The attachment cannot be created.");
			continue;
		}
		ews_msg_ok(r, msgname);
		ews_start(r, "m:Attachments");
		ews_start(r, http_xml_is(a, NS_T, "ItemAttachment") ? "t:ItemAttachment" :
								       "t:FileAttachment");
		struct ews_id id = {.kind = EWS_ID_ATTACH, .mailbox = r->user->mailbox_guid,
			.fid = fid, .mid = mid, .attach_num = num};
		ews_start(r, "t:AttachmentId");
		ews_attr(r, "Id", ews_id_format(r->pool, &id));
		static const uint32_t tv[] = {PR_CHANGE_KEY};
		const struct mapi_tags tags = {1, (uint32_t *)tv};
		struct mapi_propvals pv = {0};
		store_message_get_props(m, &tags, r->pool, &pv);
		struct ews_id root = {.kind = EWS_ID_ITEM, .mailbox = r->user->mailbox_guid,
			.fid = fid, .mid = mid};
		ews_attr(r, "RootItemId", ews_id_format(r->pool, &root));
		ews_attr(r, "RootItemChangeKey",
			ews_change_key(r->pool, mapi_propvals_get_bin(&pv, PR_CHANGE_KEY)));
		ews_end(r);
		ews_end(r);
		ews_end(r);
		ews_msg_end(r);
	}
	store_message_close(&m);
	ews_response_end(r);
	return 0;
}

static const uint32_t att_tags_v[] = {
	PR_ATTACH_NUM, PR_ATTACH_METHOD, PR_ATTACH_LONG_FILENAME, PR_ATTACH_FILENAME,
	PR_DISPLAY_NAME, PR_ATTACH_MIME_TAG, PR_ATTACH_CONTENT_ID, PR_ATTACH_CONTENT_LOCATION,
	PR_ATTACH_SIZE, PR_LAST_MODIFICATION_TIME, PR_ATTACHMENT_HIDDEN, PR_ATTACH_FLAGS,
	PR_ATTACHMENT_CONTACTPHOTO,
};

/* Writes the attachment's data as base64, read through a stream. */
static uint32_t write_content(struct ews_req *r, struct store_attach *att)
{
	struct store_stream *st = NULL;
	uint32_t ec = store_attach_open_stream(att, PR_ATTACH_DATA_BIN, STORE_STREAM_READ, &st);
	ews_start(r, "t:Content");
	if (ec == ecNotFound) {
		ews_end(r);
		return ecSuccess;
	}
	if (ec != ecSuccess) {
		ews_end(r);
		return ec;
	}
	struct buf in, out;
	buf_init(&in, NULL);
	buf_init(&out, NULL);
	size_t got;
	/* multiples of 3 bytes: the pieces concatenate into one base64 text */
	do {
		buf_reset(&in);
		ec = store_stream_read(st, 48 * 1024, &in, &got);
		if (ec != ecSuccess || got == 0)
			break;
		while (ec == ecSuccess && got > 0 && in.len % 3 != 0)
			ec = store_stream_read(st, 3 - in.len % 3, &in, &got);
		buf_reset(&out);
		base64_encode(in.data, in.len, &out);
		xmlTextWriterWriteRawLen(r->w, (const xmlChar *)out.data, (int)out.len);
	} while (ec == ecSuccess);
	buf_deinit(&in);
	buf_deinit(&out);
	store_stream_close(&st);
	ews_end(r);
	return ec;
}

static int ews_get_attachment(struct ews_req *r, xmlNode *op)
{
	const char *msgname = "GetAttachmentResponseMessage";
	struct ews_item_shape s;
	ews_item_shape_parse(r, http_xml_child(op, NS_M, "AttachmentShape"), false, &s);
	ews_response_begin(r, "GetAttachment");
	xmlNode *ids = http_xml_child(op, NS_M, "AttachmentIds");
	for (xmlNode *ref = http_xml_first_elem(ids); ref != NULL; ref = http_xml_next_elem(ref)) {
		struct ews_id id;
		const char *err = s.error != NULL ? s.error : attach_ref(r, ref, &id);
		struct store_message *m = NULL;
		struct store_attach *att = NULL;
		struct mapi_propvals ap = {0};
		uint32_t ec = ecSuccess;
		if (err == NULL) {
			ec = store_message_open(r->mb, id.fid, id.mid, 0, &m);
			if (ec != ecSuccess)
				err = ews_code_for_ec(ec, false);
		}
		if (err == NULL) {
			ec = store_message_open_attach(m, id.attach_num, 0, &att);
			const struct mapi_tags tags = {sizeof(att_tags_v) / sizeof(att_tags_v[0]),
				(uint32_t *)att_tags_v};
			if (ec == ecSuccess)
				ec = store_attach_get_props(att, &tags, r->pool, &ap);
			if (ec != ecSuccess)
				err = "ErrorInvalidAttachmentId";
		}
		if (err != NULL) {
			store_attach_close(&att);
			store_message_close(&m);
			ews_msg_error(r, msgname, err, "The attachment cannot be read.");
			continue;
		}
		bool item = mapi_propvals_get_long(&ap, PR_ATTACH_METHOD, 1) == ATTACH_EMBEDDED_MSG;
		ews_msg_ok(r, msgname);
		ews_start(r, "m:Attachments");
		ews_attachment_write_meta(r, id.fid, id.mid, &ap, true);
		if (!item) {
			ec = write_content(r, att);
		} else {
			struct store_message *emb = NULL;
			ec = store_attach_open_embedded(att, false, &emb);
			struct mapi_propvals pv = {0};
			if (ec == ecSuccess)
				ec = ews_message_props(emb, &s.tags, r->pool, &pv);
			if (ec == ecSuccess)
				ews_item_write(r, &s, 0, 0, &pv, emb);
			store_message_close(&emb);
		}
		if (ec != ecSuccess)
			log_warning(http_request_log(r->http), "ews: attachment read: %s",
				mapi_ec_name(ec));
		ews_end(r); /* the attachment */
		ews_end(r);
		ews_msg_end(r);
		store_attach_close(&att);
		store_message_close(&m);
	}
	ews_response_end(r);
	return 0;
}

static int ews_delete_attachment(struct ews_req *r, xmlNode *op)
{
	const char *msgname = "DeleteAttachmentResponseMessage";
	ews_response_begin(r, "DeleteAttachment");
	xmlNode *ids = http_xml_child(op, NS_M, "AttachmentIds");
	for (xmlNode *ref = http_xml_first_elem(ids); ref != NULL; ref = http_xml_next_elem(ref)) {
		struct ews_id id;
		const char *err = attach_ref(r, ref, &id);
		struct store_message *m = NULL;
		uint32_t ec = ecSuccess;
		if (err == NULL) {
			ec = store_message_open(r->mb, id.fid, id.mid, STORE_OPEN_READ_WRITE, &m);
			if (ec != ecSuccess)
				err = ec == ecAccessDenied ? "ErrorAccessDenied" : "ErrorItemNotFound";
		}
		if (err == NULL) {
			ec = store_message_delete_attach(m, id.attach_num);
			if (ec != ecSuccess)
				err = "ErrorInvalidAttachmentId";
		}
		if (err == NULL) {
			ec = refresh_mime(r, m);
			if (ec == ecSuccess)
				ec = store_message_save(m, 0);
			if (ec != ecSuccess)
				err = "ErrorItemSave";
		}
		if (err != NULL) {
			store_message_close(&m);
			ews_msg_error(r, msgname, err, "The attachment cannot be deleted.");
			continue;
		}
		ews_msg_ok(r, msgname);
		write_root(r, "m:RootItemId", m);
		ews_msg_end(r);
		store_message_close(&m);
	}
	ews_response_end(r);
	return 0;
}

const struct ews_op ews_attach_ops[] = {
	{"CreateAttachment", ews_create_attachment},
	{"GetAttachment", ews_get_attachment},
	{"DeleteAttachment", ews_delete_attachment},
	{NULL, NULL},
};
