/* Internal to src/proto/ews: the item layer shared by the item, attachment
 * and sync operations - the field table (fields.c), item shapes and the
 * item writer (item_out.c), the reader of items in requests (item_in.c),
 * restrictions and sort orders (restrict.c). */
#ifndef PROTO_EWS_ITEMS_H
#define PROTO_EWS_ITEMS_H

#include "mapi/flags.h"
#include "proto/ews/ews_private.h"


/* How a field's value is written and read. */
enum ews_fkind {
	EWS_FK_MIME,
	EWS_FK_ITEMID,
	EWS_FK_PARENT,
	EWS_FK_STRING,
	EWS_FK_BOOL,
	EWS_FK_INT,
	EWS_FK_TIME,
	EWS_FK_BINARY,
	EWS_FK_SENSITIVITY,
	EWS_FK_IMPORTANCE,
	EWS_FK_BODY,
	EWS_FK_TEXTBODY,
	EWS_FK_ATTACHMENTS,
	EWS_FK_CATEGORIES,
	EWS_FK_MSGFLAG, /* a PR_MESSAGE_FLAGS bit (aux) */
	EWS_FK_HEADERS,
	EWS_FK_EXTENDED, /* the position of ExtendedProperty in the sequence */
	EWS_FK_CONVERSATION_ID,
	EWS_FK_FLAG,
	EWS_FK_MAILBOX,    /* one address; aux is an enum ews_mbx */
	EWS_FK_RECIPIENTS, /* aux is the PR_RECIPIENT_TYPE */
	EWS_FK_REPLY_TO,
};

/* Field flags. */
#define EWS_FF_DEFAULT 0x01u /* in the Default shape of GetItem */
#define EWS_FF_FIND 0x02u    /* in the Default shape of FindItem */
#define EWS_FF_ALL 0x04u     /* in AllProperties */
#define EWS_FF_MSG 0x08u     /* MessageType only */
#define EWS_FF_RO 0x10u      /* computed: cannot be set */
#define EWS_FF_OPEN 0x20u    /* needs the message opened, not a table row */

/* Named properties a field uses (resolved per request). */
enum ews_np {
	EWS_NP_NONE = 0,
	EWS_NP_KEYWORDS,       /* PidNameKeywords: Categories */
	EWS_NP_REMINDER_SET,   /* PidLidReminderSet */
	EWS_NP_REMINDER_TIME,  /* PidLidReminderTime */
	EWS_NP_REMINDER_DELTA, /* PidLidReminderDelta */
	EWS_NP_COUNT
};

enum ews_mbx {
	EWS_MBX_SENDER,
	EWS_MBX_FROM,
	EWS_MBX_RECEIVED_BY,
	EWS_MBX_RECEIVED_REPRESENTING,
	EWS_MBX_COUNT
};

struct ews_mbx_tags {
	uint32_t name, email, addrtype, smtp, entryid;
};
extern const struct ews_mbx_tags ews_mbx_tags[EWS_MBX_COUNT];

struct ews_field {
	const char *uri;  /* "item:Subject"; NULL for the ExtendedProperty slot */
	const char *elem; /* "t:Subject" */
	enum ews_fkind kind;
	uint32_t tag;
	uint32_t aux; /* flag bit, recipient type, enum ews_mbx or enum ews_np */
	unsigned flags;
};

extern const struct ews_field ews_item_fields[];
extern const unsigned ews_n_item_fields;
/* Index of the field with this FieldURI, or -1. */
int ews_field_find(const char *uri);

/* The tag of a field in this mailbox (named properties resolved, with
 * create when writing); 0 when the mailbox has never used the name. */
uint32_t ews_field_tag(struct ews_req *r, const struct ews_field *f, bool create);

/* --- shapes (item_out.c) --- */

enum ews_body_type {
	EWS_BODY_BEST,
	EWS_BODY_HTML,
	EWS_BODY_TEXT,
};

#define EWS_MAX_FIELDS 64

struct ews_item_shape {
	bool want[EWS_MAX_FIELDS]; /* by index into ews_item_fields */
	enum ews_body_type body_type;
	bool mime; /* IncludeMimeContent */
	struct ews_ext *ext;
	uint32_t n_ext;
	bool open;             /* some wanted field needs the message opened */
	struct mapi_tags tags; /* the properties the wanted fields read */
	const char *error;     /* ResponseCode for a bad shape */
};

/* Parses an ItemShape (or the shape of an attachment's item, or a sync's
 * ItemShape). find: FindItem semantics (Default and AllProperties leave
 * out what needs the whole message). */
void ews_item_shape_parse(struct ews_req *r, const xmlNode *shape, bool find,
	struct ews_item_shape *s);

/* Writes one item (<t:Message>...) of fid/mid: props hold at least
 * s->tags (a table row or the message's properties); msg is the open
 * message when s->open (else NULL). Returns 0, or the ec of a read that
 * failed before anything was written. */
uint32_t ews_item_write(struct ews_req *r, const struct ews_item_shape *s, mapi_id_t fid,
	mapi_id_t mid, const struct mapi_propvals *props, struct store_message *msg);

/* The element of an item by its message class ("t:Message", "t:Item"...). */
const char *ews_item_elem(const char *message_class);

/* The whole value of a property of an open message, read through a
 * stream when it is too large for a property read. ecNotFound. */
uint32_t ews_message_read_prop(struct store_message *msg, uint32_t tag, pool_t *pool,
	struct mapi_propval *pv_r);
/* The properties of an open message with large values read whole. */
uint32_t ews_message_props(struct store_message *msg, const struct mapi_tags *tags, pool_t *pool,
	struct mapi_propvals *out);

/* <t:ItemId Id ChangeKey/> (elem names the element). */
void ews_write_item_id(struct ews_req *r, const char *elem, mapi_id_t fid, mapi_id_t mid,
	const struct mapi_binary *change_key);

/* Resolves a <t:ItemId> of the caller's mailbox. NULL or the ResponseCode
 * (ErrorInvalidIdMalformed, ErrorAccessDenied for another mailbox's id,
 * ErrorItemNotFound when the message is not there). */
const char *ews_item_ref(struct ews_req *r, const xmlNode *ref, mapi_id_t *fid_r,
	mapi_id_t *mid_r);

/* <t:FileAttachment> / <t:ItemAttachment> with the attachment's metadata
 * (AttachmentId ... IsInline, IsContactPhoto) from its properties a;
 * with leave_open the element stays open for Content or the item. */
void ews_attachment_write_meta(struct ews_req *r, mapi_id_t fid, mapi_id_t mid,
	const struct mapi_propvals *a, bool leave_open);

/* --- items in (item_in.c) --- */

struct mapi_message;
struct mapi_attachment;
/* Reads an item element (<t:Message>, <t:Item>; MimeContent first, the
 * other fields over it) into a new message object from r->pool; bodies
 * are made coherent. depth counts ItemAttachment nesting. *mime_r (may
 * be NULL) gets the MimeContent's bytes (empty without one). NULL or the
 * ResponseCode (ErrorInvalidPropertySet for computed fields,
 * ErrorInvalidValueForProperty, ErrorInvalidRecipients,
 * ErrorMimeContentInvalidBase64String...). */
const char *ews_item_parse(struct ews_req *r, const xmlNode *item, unsigned depth,
	struct mapi_message **msg_r, struct slice *mime_r);
/* Reads one field element (or ExtendedProperty) into msg; *written gets
 * the CONVERT_BODY_* bit of a body. NULL or the ResponseCode. */
const char *ews_item_field_in(struct ews_req *r, const xmlNode *el, struct mapi_message *msg,
	unsigned *written, unsigned depth);
/* Reads a MimeContent element: the message object and the raw bytes.
 * NULL or the ResponseCode. */
const char *ews_mime_in(struct ews_req *r, const xmlNode *el, struct mapi_message **msg_r,
	struct slice *raw_r);
/* Copies src's properties into dst, named properties renamed into dst's
 * name table. */
void ews_message_merge_props(struct ews_req *r, struct mapi_message *dst,
	const struct mapi_message *src);
/* The tag of a field in msg's own name table (named fields entered). */
uint32_t ews_field_msg_tag(struct mapi_message *msg, const struct ews_field *f);
/* Reads a <t:FileAttachment> or <t:ItemAttachment> into out (an
 * embedded message shares parent's name table). NULL or the code. */
const char *ews_attachment_parse(struct ews_req *r, const xmlNode *a, struct mapi_message *parent,
	unsigned depth, struct mapi_attachment *out);

/* --- MIME and message objects (mime.c) --- */

/* The whole message (properties, recipients, attachments, embedded
 * messages) as a message object from r->pool, named properties in its own
 * name table. An ec. */
uint32_t ews_message_load(struct ews_req *r, struct store_message *m, struct mapi_message **out);
/* Writes a message object into a new (unsaved) store message, named
 * properties mapped into the mailbox. Values the store refuses are left
 * out. An ec. */
uint32_t ews_message_store(struct ews_req *r, struct store_message *m,
	const struct mapi_message *msg);
/* Adds msg's attachments to m (with replace: instead of m's). An ec. */
uint32_t ews_message_add_attachments(struct ews_req *r, struct store_message *m,
	const struct mapi_message *msg, bool replace);
/* The message's MIME: its original (a delivery, IMAP APPEND, MimeContent
 * in) or written from its properties (MS-OXCMAIL). Appended to out. */
uint32_t ews_message_mime(struct ews_req *r, struct store_message *m, struct buf *out);
/* Writes msg as MIME into a blob and makes it m's MIME (what IMAP and POP3
 * serve), so that an item made or changed through EWS reads the same
 * everywhere. */
uint32_t ews_message_set_mime(struct ews_req *r, struct store_message *m,
	const struct mapi_message *msg);
/* <t:MimeContent CharacterSet="UTF-8">base64</t:MimeContent>. */
uint32_t ews_item_write_mime(struct ews_req *r, struct store_message *m);

/* --- restrictions and sort orders (restrict.c) --- */

/* What a property path (FieldURI / ExtendedFieldURI / IndexedFieldURI)
 * names for a restriction or a sort: a tag and how its constants are
 * typed. The resolver is the store-backed one in requests and a fixed one
 * in the fuzz target. */
struct ews_path_target {
	uint32_t tag;
	enum ews_fkind kind; /* how constants are read */
	uint32_t aux;        /* EWS_FK_MSGFLAG: the bit */
};
/* Returns NULL with *t filled, or the ResponseCode
 * (ErrorUnsupportedPathForQuery, ErrorInvalidExtendedProperty...). */
typedef const char *ews_path_resolve_fn(void *ctx, const xmlNode *path, struct ews_path_target *t);

/* Translates a <m:Restriction> (its one child) into a MAPI restriction
 * from pool. NULL, or the ResponseCode (ErrorInvalidRestriction,
 * ErrorRestrictionTooComplex past MAPI_RES_MAX_DEPTH / MAPI_RES_MAX_NODES,
 * ErrorUnsupportedPathForQuery...). */
const char *ews_restriction_parse(pool_t *pool, const xmlNode *restriction,
	ews_path_resolve_fn *resolve, void *ctx, struct mapi_restriction **res_r);
/* Translates a <m:SortOrder> into a sort order. NULL or the ResponseCode
 * (ErrorUnsupportedPathForSortGroup). */
const char *ews_sort_parse(pool_t *pool, const xmlNode *sort, ews_path_resolve_fn *resolve,
	void *ctx, struct mapi_sort_order *so_r);
/* The store-backed resolver (ctx: the struct ews_req). */
const char *ews_path_resolve(void *ctx, const xmlNode *path, struct ews_path_target *t);

#endif
