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
extern const struct ews_op ews_convertid_ops[];

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

/* Resolves a <t:FolderId>, <t:DistinguishedFolderId> (or any element
 * naming a folder) to a FID of the user's mailbox. Returns NULL on
 * success or the ResponseCode to answer. */
const char *ews_folder_ref(struct ews_req *r, xmlNode *ref, mapi_id_t *fid_r);
/* The Id/ChangeKey pair of a folder written as <t:FolderId>. */
void ews_write_folder_id(struct ews_req *r, const char *elem, mapi_id_t fid,
	const struct mapi_binary *ck);

#endif
