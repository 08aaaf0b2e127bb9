/* EWS ids: every FolderId, ItemId and AttachmentId is an encoding of the
 * store's IDs (ARCHITECTURE.md section 3: never a second numbering), and
 * every ChangeKey is the object's PR_CHANGE_KEY.
 *
 *   Id = base64( 0x01 version | kind ('F','M','A') | mailbox GUID (16) |
 *                FID (8, LE) [| MID (8, LE) [| attachment number (4, LE)]] )
 *
 * The mailbox GUID makes an id from another mailbox recognisable (it is
 * refused, never looked up in the caller's mailbox); the store checks
 * that the FID and MID exist, so a forged id is ErrorItemNotFound. */
#include <string.h>

#include "core/base64.h"
#include "core/str.h"
#include "proto/ews/ews_private.h"

#define EWS_ID_VERSION 1
#define EWS_ID_MAX_TEXT 128

static void put_u64le(struct buf *b, uint64_t v)
{
	buf_append_u64le(b, v);
}

static uint64_t get_u64le(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

const char *ews_id_format(pool_t *pool, const struct ews_id *id)
{
	struct buf raw, out;
	buf_init(&raw, pool);
	buf_init(&out, pool);
	buf_append_byte(&raw, EWS_ID_VERSION);
	buf_append_byte(&raw, (unsigned char)id->kind);
	buf_append(&raw, id->mailbox.b, 16);
	put_u64le(&raw, id->fid);
	if (id->kind != EWS_ID_FOLDER)
		put_u64le(&raw, id->mid);
	if (id->kind == EWS_ID_ATTACH)
		buf_append_u32le(&raw, id->attach_num);
	base64_encode(raw.data, raw.len, &out);
	return buf_cstr(&out);
}

int ews_id_parse(const char *text, struct ews_id *id)
{
	size_t len = strlen(text);
	if (len == 0 || len > EWS_ID_MAX_TEXT)
		return -1;
	unsigned char tmp[EWS_ID_MAX_TEXT];
	struct buf raw;
	buf_init(&raw, NULL);
	int rc = base64_decode(text, len, &raw);
	if (rc < 0 || raw.len < 2 || raw.len > sizeof(tmp)) {
		buf_deinit(&raw);
		return -1;
	}
	memcpy(tmp, raw.data, raw.len);
	size_t n = raw.len;
	buf_deinit(&raw);
	memset(id, 0, sizeof(*id));
	if (tmp[0] != EWS_ID_VERSION)
		return -1;
	id->kind = (enum ews_id_kind)tmp[1];
	size_t want;
	switch (id->kind) {
	case EWS_ID_FOLDER:
		want = 2 + 16 + 8;
		break;
	case EWS_ID_ITEM:
		want = 2 + 16 + 16;
		break;
	case EWS_ID_ATTACH:
		want = 2 + 16 + 16 + 4;
		break;
	default:
		return -1;
	}
	if (n != want)
		return -1;
	memcpy(id->mailbox.b, tmp + 2, 16);
	id->fid = get_u64le(tmp + 18);
	if (id->kind != EWS_ID_FOLDER)
		id->mid = get_u64le(tmp + 26);
	if (id->kind == EWS_ID_ATTACH)
		id->attach_num = (uint32_t)tmp[34] | (uint32_t)tmp[35] << 8 |
			(uint32_t)tmp[36] << 16 | (uint32_t)tmp[37] << 24;
	if (id->fid == 0 || (id->kind != EWS_ID_FOLDER && id->mid == 0))
		return -1;
	return 0;
}

#define EWS_SYNC_STATE_LEN (3 + 16 + 8 + 8)

const char *ews_sync_state_format(pool_t *pool, const struct ews_sync_state *s)
{
	struct buf raw, out;
	buf_init(&raw, pool);
	buf_init(&out, pool);
	buf_append_byte(&raw, EWS_ID_VERSION);
	buf_append_byte(&raw, 'S');
	buf_append_byte(&raw, (unsigned char)s->kind);
	buf_append(&raw, s->mailbox.b, 16);
	put_u64le(&raw, s->fid);
	put_u64le(&raw, s->state);
	base64_encode(raw.data, raw.len, &out);
	return buf_cstr(&out);
}

int ews_sync_state_parse(const char *text, struct ews_sync_state *s)
{
	size_t len = strlen(text);
	/* the base64 of EWS_SYNC_STATE_LEN octets, nothing longer */
	if (len == 0 || len > EWS_ID_MAX_TEXT)
		return -1;
	unsigned char tmp[EWS_SYNC_STATE_LEN];
	struct buf raw;
	buf_init(&raw, NULL);
	int rc = base64_decode(text, len, &raw);
	if (rc < 0 || raw.len != EWS_SYNC_STATE_LEN) {
		buf_deinit(&raw);
		return -1;
	}
	memcpy(tmp, raw.data, raw.len);
	buf_deinit(&raw);
	if (tmp[0] != EWS_ID_VERSION || tmp[1] != 'S' || (tmp[2] != 'H' && tmp[2] != 'I'))
		return -1;
	memset(s, 0, sizeof(*s));
	s->kind = (char)tmp[2];
	memcpy(s->mailbox.b, tmp + 3, 16);
	s->fid = get_u64le(tmp + 19);
	s->state = get_u64le(tmp + 27);
	return s->fid != 0 ? 0 : -1;
}

const char *ews_change_key(pool_t *pool, const struct mapi_binary *ck)
{
	struct buf out;
	buf_init(&out, pool);
	if (ck != NULL)
		base64_encode(ck->pb, ck->cb, &out);
	return buf_cstr(&out);
}

/* MS-OXWSCDATA 2.2.5.10 DistinguishedFolderIdNameType -> the special
 * folders the store creates (MS-OXOSFLD). Names without a folder here
 * (public folders, archive, recoverable items, voice mail...) are
 * ErrorFolderNotFound. */
static const struct {
	const char *name;
	enum store_special which;
} ews_distinguished[] = {
	{"root", STORE_SPECIAL_ROOT},
	{"msgfolderroot", STORE_SPECIAL_IPM_SUBTREE},
	{"inbox", STORE_SPECIAL_INBOX},
	{"outbox", STORE_SPECIAL_OUTBOX},
	{"sentitems", STORE_SPECIAL_SENT_ITEMS},
	{"deleteditems", STORE_SPECIAL_DELETED_ITEMS},
	{"drafts", STORE_SPECIAL_DRAFTS},
	{"calendar", STORE_SPECIAL_CALENDAR},
	{"contacts", STORE_SPECIAL_CONTACTS},
	{"journal", STORE_SPECIAL_JOURNAL},
	{"notes", STORE_SPECIAL_NOTES},
	{"tasks", STORE_SPECIAL_TASKS},
	{"junkemail", STORE_SPECIAL_JUNK},
	{"syncissues", STORE_SPECIAL_SYNC_ISSUES},
	{"conflicts", STORE_SPECIAL_CONFLICTS},
	{"localfailures", STORE_SPECIAL_LOCAL_FAILURES},
	{"serverfailures", STORE_SPECIAL_SERVER_FAILURES},
	{"searchfolders", STORE_SPECIAL_FINDER},
	{"reminders", STORE_SPECIAL_REMINDERS},
	{"todosearch", STORE_SPECIAL_TODO_SEARCH},
	{"quickcontacts", STORE_SPECIAL_SUGGESTED_CONTACTS},
	{"conversationhistory", STORE_SPECIAL_CONVERSATION_ACTIONS},
};

const char *ews_folder_ref(struct ews_req *r, xmlNode *ref, mapi_id_t *fid_r)
{
	struct store_mailbox *mb;
	if (ews_mailbox(r, &mb) != ecSuccess)
		return "ErrorMailboxStoreUnavailable";
	if (http_xml_is(ref, NS_T, "DistinguishedFolderId")) {
		char *name = http_xml_attr(r->pool, ref, "Id");
		/* A Mailbox child names another user's folder: delegate
		 * access is not offered yet, so only the caller's own. */
		xmlNode *mbx = http_xml_child(ref, NS_T, "Mailbox");
		if (mbx != NULL) {
			char *addr = http_xml_text(r->pool, http_xml_child(mbx, NS_T, "EmailAddress"));
			struct directory_user *u = NULL;
			const char *error;
			if (*addr != '\0' &&
				(directory_user_get(r->ews->set.dir, addr, r->pool, &u, &error) != 1 ||
					u->id != r->user->id))
				return "ErrorAccessDenied";
		}
		for (size_t i = 0; name != NULL && i < sizeof(ews_distinguished) /
					sizeof(ews_distinguished[0]);
			i++)
			if (strcmp(ews_distinguished[i].name, name) == 0) {
				*fid_r = store_mailbox_special_fid(mb, ews_distinguished[i].which);
				return *fid_r != 0 ? NULL : "ErrorFolderNotFound";
			}
		return name == NULL ? "ErrorSchemaValidation" : "ErrorFolderNotFound";
	}
	if (http_xml_is(ref, NS_T, "FolderId")) {
		char *text = http_xml_attr(r->pool, ref, "Id");
		struct ews_id id;
		if (text == NULL || ews_id_parse(text, &id) < 0 || id.kind != EWS_ID_FOLDER)
			return "ErrorInvalidIdMalformed";
		if (!guid_eq(&id.mailbox, &r->user->mailbox_guid))
			return "ErrorAccessDenied";
		uint32_t ec = store_folder_open(mb, id.fid);
		if (ec != ecSuccess)
			return ews_code_for_ec(ec, true);
		*fid_r = id.fid;
		return NULL;
	}
	return "ErrorSchemaValidation";
}

void ews_write_folder_id(struct ews_req *r, const char *elem, mapi_id_t fid,
	const struct mapi_binary *ck)
{
	struct ews_id id = {.kind = EWS_ID_FOLDER, .mailbox = r->user->mailbox_guid, .fid = fid};
	ews_start(r, elem);
	ews_attr(r, "Id", ews_id_format(r->pool, &id));
	if (ck != NULL)
		ews_attr(r, "ChangeKey", ews_change_key(r->pool, ck));
	ews_end(r);
}
