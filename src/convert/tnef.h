/* TNEF (MS-OXTNEF): winmail.dat / application/ms-tnef, decoded into the
 * neutral message structure of mapi/message.h and encoded from it.
 *
 * Decoding maps the legacy attributes onto their MAPI properties
 * (attSubject -> PR_SUBJECT, attAttachData -> PR_ATTACH_DATA_BIN, ...;
 * MS-OXTNEF 2.1.3.3) and reads attMsgProps, attRecipTable and
 * attAttachment property blocks of every type, named properties included
 * (entered into the message's name table, mapi/message.h), and PT_OBJECT
 * embedded messages recursively. Encapsulated properties win over legacy
 * attributes that map to the same property (2.1.3). Strings come out
 * UTF-8: PT_STRING8 and legacy strings are converted from the stream's
 * attOemCodepage (1252 when absent).
 *
 * Checksums: an attribute whose checksum does not match is still used (as
 * Outlook does); the mismatch is counted in tnef_info.checksum_errors so
 * that callers can report it. */
#ifndef CONVERT_TNEF_H
#define CONVERT_TNEF_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/pool.h"
#include "mapi/message.h"

#define TNEF_SIGNATURE 0x223e9f78u

/* Attribute levels (MS-OXTNEF 2.1.3.1). */
#define TNEF_LVL_MESSAGE 0x01
#define TNEF_LVL_ATTACHMENT 0x02

/* Attribute IDs with their type in the high word (MS-OXTNEF 2.1.3.3). */
#define ATT_OWNER 0x00060000u
#define ATT_SENT_FOR 0x00060001u
#define ATT_DELEGATE 0x00060002u
#define ATT_DATE_START 0x00030006u
#define ATT_DATE_END 0x00030007u
#define ATT_AID_OWNER 0x00050008u
#define ATT_REQUEST_RES 0x00040009u
#define ATT_FROM 0x00008000u
#define ATT_SUBJECT 0x00018004u
#define ATT_DATE_SENT 0x00038005u
#define ATT_DATE_RECD 0x00038006u
#define ATT_MESSAGE_STATUS 0x00068007u
#define ATT_MESSAGE_CLASS 0x00078008u
#define ATT_MESSAGE_ID 0x00018009u
#define ATT_PARENT_ID 0x0001800au
#define ATT_CONVERSATION_ID 0x0001800bu
#define ATT_BODY 0x0002800cu
#define ATT_PRIORITY 0x0004800du
#define ATT_ATTACH_DATA 0x0006800fu
#define ATT_ATTACH_TITLE 0x00018010u
#define ATT_ATTACH_META_FILE 0x00068011u
#define ATT_ATTACH_CREATE_DATE 0x00038012u
#define ATT_ATTACH_MODIFY_DATE 0x00038013u
#define ATT_DATE_MODIFIED 0x00038020u
#define ATT_ATTACH_TRANSPORT_FILENAME 0x00069001u
#define ATT_ATTACH_REND_DATA 0x00069002u
#define ATT_MSG_PROPS 0x00069003u
#define ATT_RECIP_TABLE 0x00069004u
#define ATT_ATTACHMENT 0x00069005u
#define ATT_TNEF_VERSION 0x00089006u
#define ATT_OEM_CODEPAGE 0x00069007u
#define ATT_ORIGINAL_MESSAGE_CLASS 0x00079008u

/* Bounds on what a stream may make us allocate. Zero fields take the
 * defaults below. */
struct tnef_limits {
	size_t max_size;          /* input bytes (default 256 MiB) */
	unsigned max_attachments; /* per message (default 1024) */
	unsigned max_recipients;  /* per message (default 10000) */
	unsigned max_props;       /* per property block (default 65536) */
	unsigned max_depth;       /* embedded messages (default 8) */
};

/* What the decoder saw besides the message. */
struct tnef_info {
	uint16_t key;              /* the legacy attachment key */
	uint32_t version;          /* attTnefVersion, 0 if absent */
	uint32_t oem_codepage;     /* attOemCodepage primary, 0 if absent */
	unsigned checksum_errors;  /* attributes used despite a bad checksum */
	unsigned ignored;          /* attributes with no mapping, skipped */
};

/* Decodes a TNEF stream into a new message allocated from pool (which
 * owns everything reachable from *msg_r). limits and info_r may be NULL.
 * Returns 1, or -1 with *error_r (static text) for a bad signature,
 * truncation, counts beyond the data or the limits, or nesting too deep;
 * nothing useful is left in *msg_r then. */
int tnef_decode(pool_t *pool, const void *data, size_t len, const struct tnef_limits *limits,
	struct mapi_message **msg_r, struct tnef_info *info_r, const char **error_r);

/* Encodes msg as a TNEF stream appended to out: attTnefVersion,
 * attOemCodepage (oem_codepage, 0 meaning 1252; PT_STRING8 values are
 * converted to it, unconvertible characters becoming '?'),
 * attMessageClass, attMsgProps, attRecipTable, and for each attachment
 * attAttachRendData, attAttachTitle, attAttachData and attAttachment
 * (embedded messages as PT_OBJECT with a nested stream). key 0 means 1.
 * PT_ERROR values and empty multi-valued properties are left out (they
 * carry no value, and decoders such as Debian's tnef reject them); every
 * other property is written.
 * Returns 1, or -1 with *error_r when a named property has no entry in
 * msg->names, a value's type cannot be encoded, or nesting is deeper than
 * the default max_depth. */
int tnef_encode(const struct mapi_message *msg, uint16_t key, uint32_t oem_codepage,
	struct buf *out, const char **error_r);

#endif
