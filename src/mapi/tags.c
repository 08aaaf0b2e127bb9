/* Property tag name lookup over the generated table (mapi/tags.h). */
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "mapi/tags.h"

static const struct mapi_tag_info *tag_find_exact(uint32_t tag)
{
	size_t lo = 0, hi = mapi_tag_table_count;

	/* Leftmost match: the data file's first name for the tag wins. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mapi_tag_table[mid].tag < tag)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < mapi_tag_table_count && mapi_tag_table[lo].tag == tag)
		return &mapi_tag_table[lo];
	return NULL;
}

static const struct mapi_tag_info *tag_find_id(uint16_t id)
{
	/* The table is sorted by tag, so an ID's entries are contiguous. */
	size_t lo = 0, hi = mapi_tag_table_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (PROP_ID(mapi_tag_table[mid].tag) < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < mapi_tag_table_count && PROP_ID(mapi_tag_table[lo].tag) == id)
		return &mapi_tag_table[lo];
	return NULL;
}

const struct mapi_tag_info *mapi_tag_lookup(uint32_t tag)
{
	const struct mapi_tag_info *e = tag_find_exact(tag);
	uint16_t type = PROP_TYPE(tag);

	if (e != NULL)
		return e;
	if (mapi_ptype_is_string(type)) {
		uint16_t other = type ^ (PT_STRING8 ^ PT_UNICODE);

		return tag_find_exact(CHANGE_PROP_TYPE(tag, other));
	}
	if (type == PT_UNSPECIFIED || type == PT_ERROR)
		return tag_find_id(PROP_ID(tag));
	return NULL;
}

const char *mapi_tag_name(uint32_t tag)
{
	const struct mapi_tag_info *e = tag_find_exact(tag);

	if (e == NULL)
		return NULL;
	return e->name != NULL ? e->name : e->canonical;
}

int mapi_tag_parse(const char *text, uint32_t *tag_r)
{
	size_t len = strlen(text);
	uint64_t v;

	if (len > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
		if (len > 10)
			return -1;
		v = 0;
		for (size_t i = 2; i < len; i++) {
			int d = (text[i] >= '0' && text[i] <= '9') ? text[i] - '0'
				: (text[i] >= 'a' && text[i] <= 'f') ? text[i] - 'a' + 10
				: (text[i] >= 'A' && text[i] <= 'F') ? text[i] - 'A' + 10
				: -1;
			if (d < 0)
				return -1;
			v = v * 16 + (uint64_t)d;
		}
		*tag_r = (uint32_t)v;
		return 0;
	}
	if (str_to_u64(text, 0xffffffffu, &v) == 0) {
		*tag_r = (uint32_t)v;
		return 0;
	}
	for (unsigned i = 0; i < mapi_tag_table_count; i++) {
		const struct mapi_tag_info *e = &mapi_tag_table[i];

		if ((e->name != NULL && strcmp(e->name, text) == 0) ||
			(e->canonical != NULL && strcmp(e->canonical, text) == 0)) {
			*tag_r = e->tag;
			return 0;
		}
	}
	/* PR_FOO_A: the 8-bit form of a Unicode property. */
	if (len > 2 && strcmp(text + len - 2, "_A") == 0) {
		for (unsigned i = 0; i < mapi_tag_table_count; i++) {
			const struct mapi_tag_info *e = &mapi_tag_table[i];

			if (e->name != NULL && strlen(e->name) == len - 2 &&
				strncmp(e->name, text, len - 2) == 0 &&
				PROP_TYPE(e->tag) == PT_UNICODE) {
				*tag_r = CHANGE_PROP_TYPE(e->tag, PT_STRING8);
				return 0;
			}
		}
	}
	return -1;
}

void mapi_tag_format(uint32_t tag, struct buf *out)
{
	const char *name = mapi_tag_name(tag);

	if (name != NULL)
		buf_printf(out, "%s (0x%08x)", name, tag);
	else
		buf_printf(out, "0x%08x", tag);
}

static const struct {
	uint16_t type;
	const char *name;
	const char *spec;
} ptype_names[] = {
	{PT_UNSPECIFIED, "PT_UNSPECIFIED", "PtypUnspecified"},
	{PT_NULL, "PT_NULL", "PtypNull"},
	{PT_SHORT, "PT_SHORT", "PtypInteger16"},
	{PT_LONG, "PT_LONG", "PtypInteger32"},
	{PT_FLOAT, "PT_FLOAT", "PtypFloating32"},
	{PT_DOUBLE, "PT_DOUBLE", "PtypFloating64"},
	{PT_CURRENCY, "PT_CURRENCY", "PtypCurrency"},
	{PT_APPTIME, "PT_APPTIME", "PtypFloatingTime"},
	{PT_ERROR, "PT_ERROR", "PtypErrorCode"},
	{PT_BOOLEAN, "PT_BOOLEAN", "PtypBoolean"},
	{PT_OBJECT, "PT_OBJECT", "PtypObject"},
	{PT_I8, "PT_I8", "PtypInteger64"},
	{PT_STRING8, "PT_STRING8", "PtypString8"},
	{PT_UNICODE, "PT_UNICODE", "PtypString"},
	{PT_SYSTIME, "PT_SYSTIME", "PtypTime"},
	{PT_CLSID, "PT_CLSID", "PtypGuid"},
	{PT_SVREID, "PT_SVREID", "PtypServerId"},
	{PT_SRESTRICTION, "PT_SRESTRICTION", "PtypRestriction"},
	{PT_ACTIONS, "PT_ACTIONS", "PtypRuleAction"},
	{PT_BINARY, "PT_BINARY", "PtypBinary"},
	{PT_MV_SHORT, "PT_MV_SHORT", "PtypMultipleInteger16"},
	{PT_MV_LONG, "PT_MV_LONG", "PtypMultipleInteger32"},
	{PT_MV_FLOAT, "PT_MV_FLOAT", "PtypMultipleFloating32"},
	{PT_MV_DOUBLE, "PT_MV_DOUBLE", "PtypMultipleFloating64"},
	{PT_MV_CURRENCY, "PT_MV_CURRENCY", "PtypMultipleCurrency"},
	{PT_MV_APPTIME, "PT_MV_APPTIME", "PtypMultipleFloatingTime"},
	{PT_MV_I8, "PT_MV_I8", "PtypMultipleInteger64"},
	{PT_MV_STRING8, "PT_MV_STRING8", "PtypMultipleString8"},
	{PT_MV_UNICODE, "PT_MV_UNICODE", "PtypMultipleString"},
	{PT_MV_SYSTIME, "PT_MV_SYSTIME", "PtypMultipleTime"},
	{PT_MV_CLSID, "PT_MV_CLSID", "PtypMultipleGuid"},
	{PT_MV_BINARY, "PT_MV_BINARY", "PtypMultipleBinary"},
};

const char *mapi_ptype_name(uint16_t type)
{
	for (size_t i = 0; i < sizeof(ptype_names) / sizeof(ptype_names[0]); i++)
		if (ptype_names[i].type == type)
			return ptype_names[i].name;
	return NULL;
}

const char *mapi_ptype_spec_name(uint16_t type)
{
	for (size_t i = 0; i < sizeof(ptype_names) / sizeof(ptype_names[0]); i++)
		if (ptype_names[i].type == type)
			return ptype_names[i].spec;
	return NULL;
}
