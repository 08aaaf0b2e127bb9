/* ConvertId (MS-OXWSCVTID): between EWS ids (ours, ids.c), EntryIDs
 * (MS-OXCDATA 2.2.4, base64 "EntryId"/"StoreId" or hex "HexEntryId") of
 * the caller's mailbox. */
#include <string.h>

#include "core/base64.h"
#include "core/hex.h"
#include "proto/ews/ews_private.h"

enum cvt_format {
	CVT_EWS,
	CVT_ENTRY,
	CVT_HEX,
	CVT_UNKNOWN,
};

static enum cvt_format cvt_format_parse(const char *s)
{
	if (s == NULL)
		return CVT_UNKNOWN;
	if (strcmp(s, "EwsId") == 0 || strcmp(s, "EwsLegacyId") == 0)
		return CVT_EWS;
	if (strcmp(s, "EntryId") == 0 || strcmp(s, "StoreId") == 0)
		return CVT_ENTRY;
	if (strcmp(s, "HexEntryId") == 0)
		return CVT_HEX;
	return CVT_UNKNOWN;
}

/* Decodes the source id into a FID/MID of the caller's mailbox. Returns
 * NULL or the ResponseCode. */
static const char *cvt_decode(struct ews_req *r, enum cvt_format f, const char *text,
	mapi_id_t *fid_r, mapi_id_t *mid_r)
{
	struct store_mailbox *mb;
	if (ews_mailbox(r, &mb) != ecSuccess)
		return "ErrorMailboxStoreUnavailable";
	if (f == CVT_EWS) {
		struct ews_id id;
		if (ews_id_parse(text, &id) < 0 || id.kind == EWS_ID_ATTACH)
			return "ErrorInvalidIdMalformed";
		if (!guid_eq(&id.mailbox, &r->user->mailbox_guid))
			return "ErrorItemNotFound";
		*fid_r = id.fid;
		*mid_r = id.kind == EWS_ID_ITEM ? id.mid : 0;
	} else {
		struct buf raw;
		buf_init(&raw, r->pool);
		size_t len = strlen(text);
		if (len > 1024 || (f == CVT_ENTRY ? base64_decode(text, len, &raw) :
						    hex_decode(text, len, &raw)) < 0)
			return "ErrorInvalidIdMalformed";
		uint32_t ec = store_entryid_resolve(mb, raw.data, raw.len, fid_r, mid_r);
		if (ec == ecInvalidEntryId)
			return "ErrorInvalidIdMalformed";
		if (ec != ecSuccess)
			return ews_code_for_ec(ec, false);
		return NULL;
	}
	/* the object must exist */
	mapi_id_t fid = 0;
	int kind = store_object_kind(mb, *mid_r != 0 ? *mid_r : *fid_r, &fid);
	if (kind == 0 || (*mid_r != 0 && fid != *fid_r))
		return *mid_r != 0 ? "ErrorItemNotFound" : "ErrorFolderNotFound";
	return NULL;
}

static int ews_convert_id(struct ews_req *r, xmlNode *op)
{
	enum cvt_format dst = cvt_format_parse(http_xml_attr(r->pool, op, "DestinationFormat"));
	xmlNode *ids = http_xml_child(op, NS_M, "SourceIds");
	ews_response_begin(r, "ConvertId");
	for (xmlNode *a = http_xml_first_elem(ids); a != NULL; a = http_xml_next_elem(a)) {
		const char *msg = "ConvertIdResponseMessage";
		if (!http_xml_is(a, NS_T, "AlternateId")) {
			ews_msg_error(r, msg, "ErrorInvalidIdNotAnItemAttachmentId",
				"Only AlternateId conversions are supported.");
			continue;
		}
		enum cvt_format src = cvt_format_parse(http_xml_attr(r->pool, a, "Format"));
		char *id = http_xml_attr(r->pool, a, "Id");
		char *mailbox = http_xml_attr(r->pool, a, "Mailbox");
		if (src == CVT_UNKNOWN || dst == CVT_UNKNOWN || id == NULL) {
			ews_msg_error(r, msg, "ErrorInvalidIdMalformed",
				"The id format is not supported or the id is missing.");
			continue;
		}
		mapi_id_t fid = 0, mid = 0;
		const char *err = cvt_decode(r, src, id, &fid, &mid);
		if (err != NULL) {
			ews_msg_error(r, msg, err, "The id cannot be converted.");
			continue;
		}
		const char *out;
		if (dst == CVT_EWS) {
			struct ews_id e = {.kind = mid != 0 ? EWS_ID_ITEM : EWS_ID_FOLDER,
				.mailbox = r->user->mailbox_guid, .fid = fid, .mid = mid};
			out = ews_id_format(r->pool, &e);
		} else {
			struct buf eid, txt;
			buf_init(&eid, r->pool);
			buf_init(&txt, r->pool);
			store_entryid_make(r->mb, fid, mid, &eid);
			if (dst == CVT_ENTRY)
				base64_encode(eid.data, eid.len, &txt);
			else
				hex_encode(eid.data, eid.len, 1, &txt);
			out = buf_cstr(&txt);
		}
		ews_msg_ok(r, msg);
		ews_start(r, "m:AlternateId");
		ews_attr(r, "xsi:type", "t:AlternateIdType");
		ews_attr(r, "Format", http_xml_attr(r->pool, op, "DestinationFormat"));
		ews_attr(r, "Id", out);
		ews_attr(r, "Mailbox", mailbox != NULL ? mailbox : r->user->address);
		ews_end(r);
		ews_msg_end(r);
	}
	ews_response_end(r);
	return 0;
}

const struct ews_op ews_convertid_ops[] = {
	{"ConvertId", ews_convert_id},
	{NULL, NULL},
};
