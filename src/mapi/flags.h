/* Values of MAPI properties that every layer uses: message flags,
 * attachment methods and flags, recipient types, native body formats,
 * object types. One place, spec names. */
#ifndef MAPI_FLAGS_H
#define MAPI_FLAGS_H

/* PidTagMessageFlags (MS-OXCMSG 2.2.1.6) */
#define MSGFLAG_READ 0x00000001u
#define MSGFLAG_UNMODIFIED 0x00000002u
#define MSGFLAG_SUBMIT 0x00000004u
#define MSGFLAG_UNSENT 0x00000008u
#define MSGFLAG_HASATTACH 0x00000010u
#define MSGFLAG_FROMME 0x00000020u
#define MSGFLAG_ASSOCIATED 0x00000040u
#define MSGFLAG_RESEND 0x00000080u
#define MSGFLAG_RN_PENDING 0x00000100u
#define MSGFLAG_NRN_PENDING 0x00000200u

/* PidTagAttachMethod (MS-OXCMSG 2.2.2.9) */
#define ATTACH_BY_VALUE 1
#define ATTACH_BY_REFERENCE 2
#define ATTACH_BY_REF_ONLY 4
#define ATTACH_EMBEDDED_MSG 5
#define ATTACH_OLE 6
#define ATTACH_BY_WEB_REFERENCE 7

/* PidTagAttachFlags (MS-OXCMSG 2.2.2.18) */
#define ATT_INVISIBLE_IN_HTML 0x1
#define ATT_INVISIBLE_IN_RTF 0x2
#define ATT_MHTML_REF 0x4

/* PidTagRecipientType (MS-OXOMSG 2.2.3.1) */
#define MAPI_ORIG 0
#define MAPI_TO 1
#define MAPI_CC 2
#define MAPI_BCC 3
#define MAPI_P1 0x10000000u
#define MAPI_SUBMITTED 0x80000000u

/* PidTagNativeBody (MS-OXCMSG 2.2.1.41) */
#define NATIVE_BODY_UNDEFINED 0
#define NATIVE_BODY_PLAIN 1
#define NATIVE_BODY_RTF 2
#define NATIVE_BODY_HTML 3
#define NATIVE_BODY_SIGNED 4

/* PidTagObjectType (MS-OXCPRPT) */
#define MAPI_STORE 1
#define MAPI_ADDRBOOK 2
#define MAPI_FOLDER 3
#define MAPI_ABCONT 4
#define MAPI_MESSAGE 5
#define MAPI_MAILUSER 6
#define MAPI_ATTACH 7
#define MAPI_DISTLIST 8

#endif
