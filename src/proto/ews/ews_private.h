/* Internal to src/proto/ews: the request context, the dispatcher's table,
 * response helpers, ids, and the shared property mapping. */
#ifndef PROTO_EWS_EWS_PRIVATE_H
#define PROTO_EWS_EWS_PRIVATE_H

#include <stdatomic.h>
#include <stdio.h>

#include "mapi/mapi.h"
#include "proto/ews/ews.h"
#include "proto/http/xml.h"

#define NS_SOAP "http://schemas.xmlsoap.org/soap/envelope/"
#define NS_M "http://schemas.microsoft.com/exchange/services/2006/messages"
#define NS_T "http://schemas.microsoft.com/exchange/services/2006/types"
#define NS_XSI "http://www.w3.org/2001/XMLSchema-instance"

/* What the server reports in ServerVersionInfo (Exchange 2016 CU23). */
#define EWS_MAJOR_VERSION 15
#define EWS_MINOR_VERSION 1
#define EWS_MAJOR_BUILD 2507
#define EWS_MINOR_BUILD 6

/* MS-OXWSCDATA 2.2.5.12 ExchangeVersionType, in order. */
enum ews_version {
	EWS_V2007 = 0,
	EWS_V2007_SP1,
	EWS_V2010,
	EWS_V2010_SP1,
	EWS_V2010_SP2,
	EWS_V2013,
	EWS_V2013_SP1,
	EWS_V2016,
};

struct ews {
	struct ews_settings set;
	atomic_uint_fast64_t dump_seq;
};

struct ews_req {
	struct ews *ews;
	struct http_request *http;
	pool_t *pool;
	const struct directory_user *user;
	enum ews_version version;
	struct store_mailbox *mb; /* the user's mailbox, opened by ews_mailbox */
	xmlTextWriterPtr w;
	FILE *dump;
	const char *op_name;
	/* named properties of the item fields (items.h enum ews_np) */
	uint32_t np_tag[8];
	uint8_t np_state[8];
};

/* One operation: reads its request element and writes its response
 * element (<m:XResponse>...) with the helpers below. Returns 0, or -1 when
 * the connection is gone. */
typedef int ews_op_fn(struct ews_req *r, xmlNode *op);

struct ews_op {
	const char *name; /* the request element: "GetFolder" */
	ews_op_fn *fn;
};

/* The operation tables of each file. */
extern const struct ews_op ews_folder_ops[];
extern const struct ews_op ews_folder_write_ops[];
extern const struct ews_op ews_convertid_ops[];
extern const struct ews_op ews_item_ops[];
extern const struct ews_op ews_item_write_ops[];
extern const struct ews_op ews_attach_ops[];
extern const struct ews_op ews_sync_ops[];
extern const struct ews_op ews_resolve_ops[];

/* --- responses (soap.c) --- */

/* <m:{op}Response><m:ResponseMessages> ... */
void ews_response_begin(struct ews_req *r, const char *op);
void ews_response_end(struct ews_req *r);
/* <m:{msg} ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>;
 * close with ews_msg_end after the payload. */
void ews_msg_ok(struct ews_req *r, const char *msg);
/* A whole error message element: ResponseClass="Error", MessageText,
 * ResponseCode, DescriptiveLinkKey. */
void ews_msg_error(struct ews_req *r, const char *msg, const char *code, const char *text);
/* <m:{msg} ResponseClass="Warning"> with MessageText and ResponseCode;
 * the payload follows, then ews_msg_end (ResolveNames' several matches). */
void ews_msg_warning(struct ews_req *r, const char *msg, const char *code, const char *text);
void ews_msg_end(struct ews_req *r);
/* The ResponseCode for a store error about a folder or an item. */
const char *ews_code_for_ec(uint32_t ec, bool folder);

/* Element writers with the t:/m: prefixes. */
void ews_elem(struct ews_req *r, const char *name, const char *text);
void ews_elem_int(struct ews_req *r, const char *name, long long v);
void ews_elem_bool(struct ews_req *r, const char *name, bool v);
void ews_start(struct ews_req *r, const char *name);
void ews_end(struct ews_req *r);
void ews_attr(struct ews_req *r, const char *name, const char *value);

/* The user's own mailbox, opened on first use. 0 or an ec. */
uint32_t ews_mailbox(struct ews_req *r, struct store_mailbox **mb_r);

/* --- ids (ids.c) --- */

enum ews_id_kind {
	EWS_ID_FOLDER = 'F',
	EWS_ID_ITEM = 'M',
	EWS_ID_ATTACH = 'A',
};

struct ews_id {
	enum ews_id_kind kind;
	struct guid mailbox;
	mapi_id_t fid;
	mapi_id_t mid;          /* items and attachments */
	uint32_t attach_num;    /* attachments */
};

/* The Id attribute text of an id (base64), from pool. */
const char *ews_id_format(pool_t *pool, const struct ews_id *id);
/* Parses an Id. 0, or -1 when it is not one of ours (malformed). */
int ews_id_parse(const char *text, struct ews_id *id);
/* A ChangeKey from a PR_CHANGE_KEY value (base64). */
const char *ews_change_key(pool_t *pool, const struct mapi_binary *ck);

/* A SyncState (MS-OXWSSYNC): the store's change state a client has
 * seen, bound to the mailbox, the kind of sync ('H' hierarchy, 'I' items)
 * and the folder, so a state is never replayed elsewhere:
 *   base64( 0x01 | 'S' | kind | mailbox GUID (16) | FID (8) | state (8) ) */
struct ews_sync_state {
	char kind;
	struct guid mailbox;
	mapi_id_t fid;
	uint64_t state;
};
const char *ews_sync_state_format(pool_t *pool, const struct ews_sync_state *s);
/* 0, or -1 when text is not a sync state of ours. */
int ews_sync_state_parse(const char *text, struct ews_sync_state *s);

/* Resolves a <t:FolderId>, <t:DistinguishedFolderId> (or any element
 * naming a folder) to a FID of the user's mailbox. Returns NULL on
 * success or the ResponseCode to answer. */
const char *ews_folder_ref(struct ews_req *r, xmlNode *ref, mapi_id_t *fid_r);
/* The Id/ChangeKey pair of a folder written as <t:FolderId>. */
void ews_write_folder_id(struct ews_req *r, const char *elem, mapi_id_t fid,
	const struct mapi_binary *ck);

/* --- folders (folders.c) --- */

enum ews_shape {
	EWS_SHAPE_ID_ONLY,
	EWS_SHAPE_DEFAULT,
	EWS_SHAPE_ALL,
};

/* Which folder fields a response carries (FolderShape + additional). */
struct ews_folder_shape {
	enum ews_shape base;
	bool parent, folder_class, display_name, total, child_count, unread;
	struct ews_ext *ext; /* extended properties asked for */
	uint32_t n_ext;
	struct mapi_tags tags; /* what to read */
	const char *error;     /* a ResponseCode for a bad shape */
};

/* Parses a FolderShape (BaseShape, AdditionalProperties); a bad
 * extended property leaves its ResponseCode in fs->error. */
void ews_folder_shape_parse(struct ews_req *r, const xmlNode *shape, struct ews_folder_shape *fs);
/* Writes one folder element (<t:Folder>...) of fid from its properties pv
 * (read with fs->tags) as fs says. */
void ews_folder_write(struct ews_req *r, mapi_id_t fid, const struct mapi_propvals *pv,
	const struct ews_folder_shape *fs);

/* The element name of a folder by class and type (MS-OXWSFOLD 2.2.4):
 * "t:CalendarFolder", "t:Folder"... */
const char *ews_folder_elem(const char *container_class, int32_t folder_type);
/* <t:{Kind}><t:FolderId Id ChangeKey/></t:{Kind}> for fid, as the write
 * operations answer. */
void ews_write_folder_brief(struct ews_req *r, mapi_id_t fid);
/* DeleteType (MS-OXWSCDATA 2.2.5.8 DisposalType). */
enum ews_delete_type {
	EWS_DELETE_HARD,
	EWS_DELETE_SOFT, /* hermod has no recoverable items: a hard delete */
	EWS_DELETE_TO_DELETED_ITEMS,
	EWS_DELETE_INVALID,
};
enum ews_delete_type ews_delete_type(const char *s);

/* True when fid is one of the mailbox's special folders (MS-OXOSFLD). */
bool ews_folder_is_special(struct store_mailbox *mb, mapi_id_t fid);

/* --- extended properties and text forms (props.c) --- */

/* An ExtendedFieldURI (MS-OXWSXPROP 2.2.4.1), as given (to echo back) and
 * resolved to a tag of the mailbox. */
struct ews_ext {
	const char *dist_set, *set_id, *prop_tag, *prop_name, *prop_id, *type_name;
	uint16_t type;
	bool named;
	struct mapi_propname name; /* when named */
	uint32_t tag;              /* 0: a name the mailbox has never mapped */
};

/* Parses an ExtendedFieldURI element. NULL, or the ResponseCode
 * (ErrorInvalidExtendedProperty) for an invalid combination, type or tag. */
const char *ews_ext_parse(pool_t *pool, const xmlNode *uri, struct ews_ext *e);
/* Maps a named property to the mailbox's id (creating the mapping with
 * create). NULL or the ResponseCode. */
const char *ews_ext_resolve(struct ews_req *r, struct ews_ext *e, bool create);
/* <t:ExtendedFieldURI .../> as the client named it. */
void ews_ext_write_uri(struct ews_req *r, const struct ews_ext *e);
/* <t:ExtendedProperty> with the URI and the value of pv. */
void ews_ext_write(struct ews_req *r, const struct ews_ext *e, const struct mapi_propval *pv);
/* Parses the Value (or Values for a multi-valued type) of an
 * ExtendedProperty element into v (from pool). 0, or -1 when missing or
 * not of the type. */
int ews_ext_value_parse(pool_t *pool, uint16_t type, const xmlNode *prop, union mapi_pvalue *v);

/* xs:dateTime <-> FILETIME (UTC, whole seconds). */
const char *ews_format_time(pool_t *pool, uint64_t filetime);
int ews_parse_time(const char *s, uint64_t *ft_r);
/* xs:boolean: 0 or -1. */
int ews_parse_bool(const char *s, bool *b_r);

#endif
