/* Named properties ([MS-OXCDATA] 2.6 PropertyName, [MS-OXPROPS] 1.3.2
 * property sets): a (property set GUID, LID) or (GUID, name) pair that a
 * store maps to a property ID from 0x8000 up.
 *
 * Names in PS_INTERNET_HEADERS are compared without regard to case
 * ([MS-OXCDATA] 2.6.1: internet header names are case-insensitive); all
 * other names are case-sensitive. */
#ifndef MAPI_NAMEDPROP_H
#define MAPI_NAMEDPROP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/guid.h"
#include "core/pool.h"
#include "mapi/mapi.h"
#include "mapi/namedprops.h"

/* struct mapi_propname, MNID_ID and MNID_STRING are in mapi/mapi.h. */

/* Property sets ([MS-OXPROPS] 1.3.2 and the sets its properties name). */
extern const struct guid PS_MAPI;
extern const struct guid PS_PUBLIC_STRINGS;
extern const struct guid PS_INTERNET_HEADERS;
extern const struct guid PSETID_Common;
extern const struct guid PSETID_Address;
extern const struct guid PSETID_Appointment;
extern const struct guid PSETID_Meeting;
extern const struct guid PSETID_Task;
extern const struct guid PSETID_Log;
extern const struct guid PSETID_Note;
extern const struct guid PSETID_PostRss;
extern const struct guid PSETID_Sharing;
extern const struct guid PSETID_Messaging;
extern const struct guid PSETID_UnifiedMessaging;
extern const struct guid PSETID_AirSync;
extern const struct guid PSETID_Attachment;
extern const struct guid PSETID_CalendarAssistant;
extern const struct guid PSETID_Report;
extern const struct guid PSETID_Remote;
extern const struct guid PSETID_XmlExtractedEntities;

/* The name of a well-known property set ("PSETID_Appointment"), or NULL. */
const char *mapi_propset_name(const struct guid *g);
/* The GUID of a property set by name; NULL if unknown. */
const struct guid *mapi_propset_by_name(const char *name);

/* A well-known named property ([MS-OXPROPS] section 2), generated from
 * src/mapi/namedprops.tsv; indexed by enum mapi_np (MAPI_NP_<name>). */
struct mapi_named_prop_def {
	const char *canonical; /* "PidLidAppointmentStartWhole" */
	const struct guid *set;
	uint8_t kind;     /* MNID_ID or MNID_STRING */
	uint32_t lid;     /* MNID_ID */
	const char *name; /* MNID_STRING */
	uint16_t type;    /* the property's type */
};
extern const struct mapi_named_prop_def mapi_named_prop_defs[MAPI_NP_COUNT];

/* The PropertyName of a well-known named property (name not copied: it
 * points into the static table). */
struct mapi_propname mapi_np_name(enum mapi_np np);
/* The well-known definition matching name, or NULL. */
const struct mapi_named_prop_def *mapi_np_lookup(const struct mapi_propname *name);
/* The definition with that canonical name ("PidLidTaskDueDate"), or NULL. */
const struct mapi_named_prop_def *mapi_np_by_canonical(const char *canonical);

/* Orders property names: by GUID bytes, then kind, then LID or name
 * (case-insensitively in PS_INTERNET_HEADERS). Returns <0, 0, >0. */
int mapi_propname_compare(const struct mapi_propname *a, const struct mapi_propname *b);
bool mapi_propname_equal(const struct mapi_propname *a, const struct mapi_propname *b);

/* A key that is equal for equal names (lower-cased names in
 * PS_INTERNET_HEADERS), for hash tables: appends GUID(16) kind(1) then
 * LID(4, little-endian) or the name bytes. */
void mapi_propname_key(const struct mapi_propname *n, struct buf *out);

/* Deep copy into pool. */
void mapi_propname_copy(pool_t *pool, struct mapi_propname *dst, const struct mapi_propname *src);

/* "{00062002-0000-0000-c000-000000000046}:0x820d" or ...:"name"; the set's
 * name is used instead of the GUID when known ("PSETID_Appointment:0x820d"). */
void mapi_propname_format(const struct mapi_propname *n, struct buf *out);

#endif
