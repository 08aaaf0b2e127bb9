/* Extended properties (MS-OXWSXPROP): ExtendedFieldURI names a MAPI
 * property by tag or by property set and name or id, with its type;
 * ExtendedProperty carries a value (Value) or a multi-value (Values) in
 * the xs: text forms. Also the scalar text forms every other field uses
 * (xs:dateTime, xs:boolean, base64). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/hm_time.h"
#include "core/str.h"
#include "mapi/namedprop.h"
#include "mapi/propval.h"
#include "proto/ews/ews_private.h"

/* MS-OXWSXPROP 2.2.5.1 DistinguishedPropertySetType. */
static const struct {
	const char *name;
	const struct guid *set;
} ews_dist_sets[] = {
	{"Meeting", &PSETID_Meeting},
	{"Appointment", &PSETID_Appointment},
	{"Common", &PSETID_Common},
	{"PublicStrings", &PS_PUBLIC_STRINGS},
	{"Address", &PSETID_Address},
	{"InternetHeaders", &PS_INTERNET_HEADERS},
	{"CalendarAssistant", &PSETID_CalendarAssistant},
	{"UnifiedMessaging", &PSETID_UnifiedMessaging},
	{"Task", &PSETID_Task},
	{"Sharing", &PSETID_Sharing},
};

/* MS-OXWSXPROP 2.2.5.2 MapiPropertyTypeType. */
static const struct {
	const char *name;
	uint16_t type;
} ews_prop_types[] = {
	{"ApplicationTime", PT_APPTIME},
	{"ApplicationTimeArray", PT_MV_APPTIME},
	{"Binary", PT_BINARY},
	{"BinaryArray", PT_MV_BINARY},
	{"Boolean", PT_BOOLEAN},
	{"CLSID", PT_CLSID},
	{"CLSIDArray", PT_MV_CLSID},
	{"Currency", PT_CURRENCY},
	{"CurrencyArray", PT_MV_CURRENCY},
	{"Double", PT_DOUBLE},
	{"DoubleArray", PT_MV_DOUBLE},
	{"Error", PT_ERROR},
	{"Float", PT_FLOAT},
	{"FloatArray", PT_MV_FLOAT},
	{"Integer", PT_LONG},
	{"IntegerArray", PT_MV_LONG},
	{"Long", PT_I8},
	{"LongArray", PT_MV_I8},
	{"Null", PT_NULL},
	{"Object", PT_OBJECT},
	{"Short", PT_SHORT},
	{"ShortArray", PT_MV_SHORT},
	{"SystemTime", PT_SYSTIME},
	{"SystemTimeArray", PT_MV_SYSTIME},
	{"String", PT_UNICODE},
	{"StringArray", PT_MV_UNICODE},
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

const char *ews_ext_parse(pool_t *pool, const xmlNode *uri, struct ews_ext *e)
{
	memset(e, 0, sizeof(*e));
	e->dist_set = http_xml_attr(pool, uri, "DistinguishedPropertySetId");
	e->set_id = http_xml_attr(pool, uri, "PropertySetId");
	e->prop_tag = http_xml_attr(pool, uri, "PropertyTag");
	e->prop_name = http_xml_attr(pool, uri, "PropertyName");
	e->prop_id = http_xml_attr(pool, uri, "PropertyId");
	e->type_name = http_xml_attr(pool, uri, "PropertyType");
	if (e->type_name == NULL)
		return "ErrorInvalidExtendedProperty";
	bool typed = false;
	for (size_t i = 0; i < N_ELEMS(ews_prop_types); i++)
		if (strcmp(ews_prop_types[i].name, e->type_name) == 0) {
			e->type = ews_prop_types[i].type;
			typed = true;
		}
	if (!typed || e->type == PT_ERROR || e->type == PT_NULL || e->type == PT_OBJECT)
		return "ErrorInvalidExtendedProperty";
	if (e->prop_tag != NULL) {
		/* A tag excludes every naming attribute (MS-OXWSXPROP 2.2.4.1). */
		if (e->dist_set != NULL || e->set_id != NULL || e->prop_name != NULL ||
			e->prop_id != NULL)
			return "ErrorInvalidExtendedProperty";
		uint64_t v;
		const char *t = e->prop_tag;
		int rc = str_case_starts_with(t, "0x") ? -1 : str_to_u64(t, 0xffff, &v);
		if (str_case_starts_with(t, "0x")) {
			char *end;
			if (t[2] == '\0' || strlen(t) > 6)
				return "ErrorInvalidExtendedProperty";
			v = strtoull(t + 2, &end, 16);
			rc = *end == '\0' ? 0 : -1;
		}
		/* Named properties are reached by name, not by their
		 * mailbox-specific id. */
		if (rc < 0 || v == 0 || v >= PROP_ID_NAMED_MIN)
			return "ErrorInvalidExtendedProperty";
		e->tag = PROP_TAG(e->type, v);
		return NULL;
	}
	if ((e->dist_set == NULL) == (e->set_id == NULL))
		return "ErrorInvalidExtendedProperty";
	if ((e->prop_name == NULL) == (e->prop_id == NULL))
		return "ErrorInvalidExtendedProperty";
	if (e->dist_set != NULL) {
		const struct guid *g = NULL;
		for (size_t i = 0; i < N_ELEMS(ews_dist_sets); i++)
			if (strcmp(ews_dist_sets[i].name, e->dist_set) == 0)
				g = ews_dist_sets[i].set;
		if (g == NULL)
			return "ErrorInvalidExtendedProperty";
		e->name.guid = *g;
	} else if (guid_parse(e->set_id, &e->name.guid) < 0) {
		return "ErrorInvalidExtendedProperty";
	}
	if (e->prop_name != NULL) {
		if (*e->prop_name == '\0' || strlen(e->prop_name) > 255)
			return "ErrorInvalidExtendedProperty";
		e->name.kind = MNID_STRING;
		e->name.name = (char *)e->prop_name;
	} else {
		int64_t v;
		if (str_to_i64(e->prop_id, &v) < 0 || v < 0 || v > UINT32_MAX)
			return "ErrorInvalidExtendedProperty";
		e->name.kind = MNID_ID;
		e->name.lid = (uint32_t)v;
	}
	e->named = true;
	return NULL;
}

const char *ews_ext_resolve(struct ews_req *r, struct ews_ext *e, bool create)
{
	if (!e->named)
		return NULL;
	struct store_mailbox *mb;
	if (ews_mailbox(r, &mb) != ecSuccess)
		return "ErrorMailboxStoreUnavailable";
	uint16_t id = 0;
	uint32_t ec = store_named_to_ids(mb, &e->name, 1, create, &id);
	if (ec != ecSuccess)
		return ec == ecInvalidParam ? "ErrorInvalidExtendedProperty" :
					      "ErrorInternalServerError";
	e->tag = id != 0 ? PROP_TAG(e->type, id) : 0;
	return NULL;
}

void ews_ext_write_uri(struct ews_req *r, const struct ews_ext *e)
{
	ews_start(r, "t:ExtendedFieldURI");
	if (e->dist_set != NULL)
		ews_attr(r, "DistinguishedPropertySetId", e->dist_set);
	if (e->set_id != NULL)
		ews_attr(r, "PropertySetId", e->set_id);
	if (e->prop_tag != NULL)
		ews_attr(r, "PropertyTag",
			pool_printf(r->pool, "0x%x", (unsigned)PROP_ID(e->tag)));
	if (e->prop_name != NULL)
		ews_attr(r, "PropertyName", e->prop_name);
	if (e->prop_id != NULL)
		ews_attr(r, "PropertyId", e->prop_id);
	ews_attr(r, "PropertyType", e->type_name);
	ews_end(r);
}

/* --- scalar text forms --- */

const char *ews_format_time(pool_t *pool, uint64_t filetime)
{
	char buf[TIME_ISO8601_MAX];
	return pool_strdup(pool, time_format_iso8601(time_filetime_to_unix(filetime, NULL), -1, buf));
}

int ews_parse_time(const char *s, uint64_t *ft_r)
{
	int64_t t;
	if (s == NULL || time_parse_iso8601(s, &t) < 0)
		return -1;
	*ft_r = time_unix_to_filetime(t, 0);
	return 0;
}

int ews_parse_bool(const char *s, bool *b_r)
{
	if (s == NULL)
		return -1;
	if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
		*b_r = true;
	else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
		*b_r = false;
	else
		return -1;
	return 0;
}

/* One element of an extended value in its text form. */
static const char *ext_format_one(pool_t *pool, uint16_t type, const union mapi_pvalue *v)
{
	struct buf b;
	char g[40];
	switch (type) {
	case PT_SHORT:
		return pool_printf(pool, "%d", v->i);
	case PT_LONG:
		return pool_printf(pool, "%d", v->l);
	case PT_I8:
		return pool_printf(pool, "%lld", (long long)v->li);
	case PT_CURRENCY:
		return pool_printf(pool, "%lld", (long long)v->cur);
	case PT_FLOAT:
		return pool_printf(pool, "%.9g", (double)v->flt);
	case PT_DOUBLE:
		return pool_printf(pool, "%.17g", v->dbl);
	case PT_APPTIME:
		return pool_printf(pool, "%.17g", v->at);
	case PT_BOOLEAN:
		return v->b ? "true" : "false";
	case PT_SYSTIME:
		return ews_format_time(pool, v->ft);
	case PT_CLSID:
		return pool_strdup(pool, guid_format(v->guid, g));
	case PT_STRING8:
	case PT_UNICODE:
		return v->str;
	case PT_BINARY:
		buf_init(&b, pool);
		base64_encode(v->bin.pb, v->bin.cb, &b);
		return buf_cstr(&b);
	default:
		return "";
	}
}

static bool ext_float_ok(double d)
{
	return !isnan(d) && !isinf(d);
}

/* Parses one element's text into v (of the base type). -1 if invalid. */
static int ext_parse_one(pool_t *pool, uint16_t type, const char *s, union mapi_pvalue *v)
{
	int64_t i;
	char *end;
	struct buf b;
	memset(v, 0, sizeof(*v));
	switch (type) {
	case PT_SHORT:
		if (str_to_i64(s, &i) < 0 || i < INT16_MIN || i > INT16_MAX)
			return -1;
		v->i = (int16_t)i;
		return 0;
	case PT_LONG:
		if (str_to_i64(s, &i) < 0 || i < INT32_MIN || i > INT32_MAX)
			return -1;
		v->l = (int32_t)i;
		return 0;
	case PT_I8:
		if (str_to_i64(s, &i) < 0)
			return -1;
		v->li = i;
		return 0;
	case PT_CURRENCY:
		if (str_to_i64(s, &i) < 0)
			return -1;
		v->cur = i;
		return 0;
	case PT_FLOAT:
	case PT_DOUBLE:
	case PT_APPTIME: {
		if (*s == '\0')
			return -1;
		double d = strtod(s, &end);
		if (*end != '\0' || !ext_float_ok(d))
			return -1;
		if (type == PT_FLOAT)
			v->flt = (float)d;
		else if (type == PT_DOUBLE)
			v->dbl = d;
		else
			v->at = d;
		return 0;
	}
	case PT_BOOLEAN:
		return ews_parse_bool(s, &v->b);
	case PT_SYSTIME:
		return ews_parse_time(s, &v->ft);
	case PT_CLSID:
		v->guid = pool_alloc(pool, sizeof(*v->guid));
		return guid_parse(s, v->guid);
	case PT_STRING8:
	case PT_UNICODE:
		v->str = pool_strdup(pool, s);
		return 0;
	case PT_BINARY:
		buf_init(&b, pool);
		if (base64_decode(s, strlen(s), &b) < 0 || b.len > UINT32_MAX)
			return -1;
		v->bin.cb = (uint32_t)b.len;
		v->bin.pb = b.data;
		return 0;
	default:
		return -1;
	}
}

/* Element size of a multi-valued property's array. */
static size_t ext_elem_size(uint16_t base)
{
	switch (base) {
	case PT_SHORT:
		return sizeof(int16_t);
	case PT_LONG:
		return sizeof(int32_t);
	case PT_FLOAT:
		return sizeof(float);
	case PT_DOUBLE:
	case PT_APPTIME:
		return sizeof(double);
	case PT_CURRENCY:
	case PT_I8:
	case PT_SYSTIME:
		return sizeof(int64_t);
	case PT_CLSID:
		return sizeof(struct guid);
	case PT_STRING8:
	case PT_UNICODE:
		return sizeof(char *);
	case PT_BINARY:
		return sizeof(struct mapi_binary);
	default:
		return 0;
	}
}

int ews_ext_value_parse(pool_t *pool, uint16_t type, const xmlNode *prop, union mapi_pvalue *v)
{
	memset(v, 0, sizeof(*v));
	if (!mapi_ptype_is_mv(type)) {
		const xmlNode *val = http_xml_child(prop, NS_T, "Value");
		if (val == NULL)
			return -1;
		return ext_parse_one(pool, type, http_xml_text(pool, val), v);
	}
	const xmlNode *vals = http_xml_child(prop, NS_T, "Values");
	if (vals == NULL)
		return -1;
	uint16_t base = type & (uint16_t)~PT_MV_FLAG;
	size_t es = ext_elem_size(base);
	uint32_t n = 0;
	for (const xmlNode *c = http_xml_first_elem(vals); c != NULL; c = http_xml_next_elem(c))
		if (http_xml_is(c, NS_T, "Value"))
			n++;
	if (n == 0 || es == 0)
		return -1;
	unsigned char *arr = pool_alloc(pool, es * n);
	uint32_t i = 0;
	for (const xmlNode *c = http_xml_first_elem(vals); c != NULL; c = http_xml_next_elem(c)) {
		if (!http_xml_is(c, NS_T, "Value"))
			continue;
		union mapi_pvalue one;
		if (ext_parse_one(pool, base, http_xml_text(pool, c), &one) < 0)
			return -1;
		void *dst = arr + es * i++;
		switch (base) {
		case PT_CLSID:
			memcpy(dst, one.guid, sizeof(struct guid));
			break;
		case PT_STRING8:
		case PT_UNICODE:
			memcpy(dst, &one.str, sizeof(char *));
			break;
		case PT_BINARY:
			memcpy(dst, &one.bin, sizeof(struct mapi_binary));
			break;
		default:
			/* the scalar members of the union start at its beginning */
			memcpy(dst, &one, es);
		}
	}
	v->mv.count = n;
	v->mv.i = (int16_t *)(void *)arr;
	return 0;
}

void ews_ext_write(struct ews_req *r, const struct ews_ext *e, const struct mapi_propval *pv)
{
	ews_start(r, "t:ExtendedProperty");
	ews_ext_write_uri(r, e);
	uint16_t type = PROP_TYPE(pv->tag);
	if (!mapi_ptype_is_mv(type)) {
		ews_elem(r, "t:Value", ext_format_one(r->pool, type, &pv->v));
	} else {
		ews_start(r, "t:Values");
		for (uint32_t i = 0; i < pv->v.mv.count; i++) {
			union mapi_pvalue one = mapi_mv_element(type, &pv->v.mv, i);
			ews_elem(r, "t:Value",
				ext_format_one(r->pool, type & (uint16_t)~PT_MV_FLAG, &one));
		}
		ews_end(r);
	}
	ews_end(r);
}
