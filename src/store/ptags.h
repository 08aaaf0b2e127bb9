/* Constants the store uses that are not property tags (those are in
 * mapi/proptags.h): message flags, attachment methods, object types. */
#ifndef STORE_PTAGS_H
#define STORE_PTAGS_H

#include "mapi/mapi.h"
#include "mapi/proptags.h"

/* PR_MESSAGE_FLAGS bits (MS-OXCMSG 2.2.1.6) */
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

/* PR_ATTACH_METHOD values */
#define ATTACH_BY_VALUE 1
#define ATTACH_EMBEDDED_MSG 5

/* PR_OBJECT_TYPE values */
#define MAPI_STORE 1
#define MAPI_FOLDER 3
#define MAPI_MESSAGE 5
#define MAPI_MAILUSER 6
#define MAPI_ATTACH 7

#endif
