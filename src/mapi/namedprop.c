/* Named properties: property set GUIDs, comparison, the well-known table
 * (mapi/namedprop.h). GUID values from [MS-OXPROPS] 1.3.2. */
#include <string.h>

#include "core/str.h"
#include "mapi/namedprop.h"

/* GUIDs in wire order (Data1..3 little-endian). */
#define G(d1, d2, d3, b0, b1, b2, b3, b4, b5, b6, b7)                                              \
	{                                                                                          \
		{(d1)&0xff, ((d1) >> 8) & 0xff, ((d1) >> 16) & 0xff, ((d1) >> 24) & 0xff,          \
			(d2)&0xff, ((d2) >> 8) & 0xff, (d3)&0xff, ((d3) >> 8) & 0xff, b0, b1, b2,  \
			b3, b4, b5, b6, b7}                                                        \
	}
#define MS_GUID(d1) G(d1, 0x0000, 0x0000, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46)

const struct guid PS_MAPI = MS_GUID(0x00020328);
const struct guid PS_PUBLIC_STRINGS = MS_GUID(0x00020329);
const struct guid PS_INTERNET_HEADERS = MS_GUID(0x00020386);
const struct guid PSETID_Appointment = MS_GUID(0x00062002);
const struct guid PSETID_Task = MS_GUID(0x00062003);
const struct guid PSETID_Address = MS_GUID(0x00062004);
const struct guid PSETID_Common = MS_GUID(0x00062008);
const struct guid PSETID_Log = MS_GUID(0x0006200a);
const struct guid PSETID_Note = MS_GUID(0x0006200e);
const struct guid PSETID_Report = MS_GUID(0x00062013);
const struct guid PSETID_Remote = MS_GUID(0x00062014);
const struct guid PSETID_Sharing = MS_GUID(0x00062040);
const struct guid PSETID_PostRss = MS_GUID(0x00062041);
const struct guid PSETID_Meeting =
	G(0x6ed8da90, 0x450b, 0x101b, 0x98, 0xda, 0x00, 0xaa, 0x00, 0x3f, 0x13, 0x05);
const struct guid PSETID_Messaging =
	G(0x41f28f13, 0x83f4, 0x4114, 0xa5, 0x84, 0xee, 0xdb, 0x5a, 0x6b, 0x0b, 0xff);
const struct guid PSETID_UnifiedMessaging =
	G(0x4442858e, 0xa9e3, 0x4e80, 0xb9, 0x00, 0x31, 0x7a, 0x21, 0x0c, 0xc1, 0x5b);
const struct guid PSETID_AirSync =
	G(0x71035549, 0x0739, 0x4dcb, 0x91, 0x63, 0x00, 0xf0, 0x58, 0x0d, 0xbb, 0xdf);
const struct guid PSETID_Attachment =
	G(0x96357f7f, 0x59e1, 0x47d0, 0x99, 0xa7, 0x46, 0x51, 0x5c, 0x18, 0x3b, 0x54);
const struct guid PSETID_CalendarAssistant =
	G(0x11000e07, 0xb51b, 0x40d6, 0xaf, 0x21, 0xca, 0xa8, 0x5e, 0xda, 0xb1, 0xd0);
const struct guid PSETID_XmlExtractedEntities =
	G(0x23239608, 0x685d, 0x4732, 0x9c, 0x55, 0x4c, 0x95, 0xcb, 0x4e, 0x8e, 0x33);

static const struct {
	const char *name;
	const struct guid *g;
} propsets[] = {
	{"PS_MAPI", &PS_MAPI},
	{"PS_PUBLIC_STRINGS", &PS_PUBLIC_STRINGS},
	{"PS_INTERNET_HEADERS", &PS_INTERNET_HEADERS},
	{"PSETID_Common", &PSETID_Common},
	{"PSETID_Address", &PSETID_Address},
	{"PSETID_Appointment", &PSETID_Appointment},
	{"PSETID_Meeting", &PSETID_Meeting},
	{"PSETID_Task", &PSETID_Task},
	{"PSETID_Log", &PSETID_Log},
	{"PSETID_Note", &PSETID_Note},
	{"PSETID_PostRss", &PSETID_PostRss},
	{"PSETID_Sharing", &PSETID_Sharing},
	{"PSETID_Messaging", &PSETID_Messaging},
	{"PSETID_UnifiedMessaging", &PSETID_UnifiedMessaging},
	{"PSETID_AirSync", &PSETID_AirSync},
	{"PSETID_Attachment", &PSETID_Attachment},
	{"PSETID_CalendarAssistant", &PSETID_CalendarAssistant},
	{"PSETID_Report", &PSETID_Report},
	{"PSETID_Remote", &PSETID_Remote},
	{"PSETID_XmlExtractedEntities", &PSETID_XmlExtractedEntities},
};

const char *mapi_propset_name(const struct guid *g)
{
	for (size_t i = 0; i < sizeof(propsets) / sizeof(propsets[0]); i++)
		if (guid_eq(g, propsets[i].g))
			return propsets[i].name;
	return NULL;
}

const struct guid *mapi_propset_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(propsets) / sizeof(propsets[0]); i++)
		if (strcmp(name, propsets[i].name) == 0)
			return propsets[i].g;
	return NULL;
}

static bool names_fold(const struct guid *g)
{
	return guid_eq(g, &PS_INTERNET_HEADERS);
}

int mapi_propname_compare(const struct mapi_propname *a, const struct mapi_propname *b)
{
	int r = memcmp(a->guid.b, b->guid.b, sizeof(a->guid.b));

	if (r != 0)
		return r < 0 ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->kind == MNID_ID)
		return a->lid < b->lid ? -1 : a->lid > b->lid ? 1 : 0;
	const char *na = a->name != NULL ? a->name : "", *nb = b->name != NULL ? b->name : "";

	/* Header names are ASCII (RFC 5322 field names), so ASCII folding is
	 * the whole of their case-insensitivity. */
	r = names_fold(&a->guid) ? str_casecmp(na, nb) : strcmp(na, nb);
	return r < 0 ? -1 : r > 0 ? 1 : 0;
}

bool mapi_propname_equal(const struct mapi_propname *a, const struct mapi_propname *b)
{
	return mapi_propname_compare(a, b) == 0;
}

void mapi_propname_key(const struct mapi_propname *n, struct buf *out)
{
	buf_append(out, n->guid.b, sizeof(n->guid.b));
	buf_append_byte(out, n->kind);
	if (n->kind == MNID_ID) {
		buf_append_u32le(out, n->lid);
		return;
	}
	const char *s = n->name != NULL ? n->name : "";

	if (names_fold(&n->guid)) {
		for (; *s; s++)
			buf_append_byte(out, (unsigned char)ascii_tolower((unsigned char)*s));
	} else {
		buf_append_str(out, s);
	}
}

void mapi_propname_copy(pool_t *pool, struct mapi_propname *dst, const struct mapi_propname *src)
{
	*dst = *src;
	if (src->kind == MNID_STRING && src->name != NULL)
		dst->name = pool_strdup(pool, src->name);
}

void mapi_propname_format(const struct mapi_propname *n, struct buf *out)
{
	const char *set = mapi_propset_name(&n->guid);
	char tmp[GUID_STR_LEN + 1];

	if (set != NULL)
		buf_append_str(out, set);
	else
		buf_printf(out, "{%s}", guid_format(&n->guid, tmp));
	if (n->kind == MNID_ID)
		buf_printf(out, ":0x%04x", n->lid);
	else
		buf_printf(out, ":\"%s\"", n->name != NULL ? n->name : "");
}

struct mapi_propname mapi_np_name(enum mapi_np np)
{
	const struct mapi_named_prop_def *d = &mapi_named_prop_defs[np];
	struct mapi_propname n;

	memset(&n, 0, sizeof(n));
	n.guid = *d->set;
	n.kind = d->kind;
	n.lid = d->lid;
	n.name = (char *)d->name;
	return n;
}

const struct mapi_named_prop_def *mapi_np_lookup(const struct mapi_propname *name)
{
	for (unsigned i = 0; i < MAPI_NP_COUNT; i++) {
		struct mapi_propname n = mapi_np_name((enum mapi_np)i);

		if (mapi_propname_equal(&n, name))
			return &mapi_named_prop_defs[i];
	}
	return NULL;
}

const struct mapi_named_prop_def *mapi_np_by_canonical(const char *canonical)
{
	for (unsigned i = 0; i < MAPI_NP_COUNT; i++)
		if (strcmp(mapi_named_prop_defs[i].canonical, canonical) == 0)
			return &mapi_named_prop_defs[i];
	return NULL;
}
