/* EWS Restriction and SortOrder -> MAPI (src/proto/ews/restrict.c): each
 * expression type, the flag fields as bitmasks, constants typed by the
 * field, and every refusal (bad structure, values, paths, limits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mapi/restriction.h"
#include "mapi/tags.h"
#include "proto/ews/items.h"

#define NS_DECL                                                                                    \
	"xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\" "                \
	"xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\""

static pool_t *pool;

static const char *resolve(void *ctx, const xmlNode *path, struct ews_path_target *t)
{
	(void)ctx;
	memset(t, 0, sizeof(*t));
	if (http_xml_is(path, NS_T, "ExtendedFieldURI")) {
		struct ews_ext e;
		const char *err = ews_ext_parse(pool, path, &e);
		if (err != NULL)
			return err;
		t->tag = e.named ? PROP_TAG(e.type, 0x8002) : e.tag;
		t->kind = EWS_FK_EXTENDED;
		return NULL;
	}
	char *uri = http_xml_attr(pool, path, "FieldURI");
	int i = uri != NULL ? ews_field_find(uri) : -1;
	if (i < 0)
		return "ErrorUnsupportedPathForQuery";
	t->kind = ews_item_fields[i].kind;
	t->aux = ews_item_fields[i].aux;
	t->tag = ews_item_fields[i].tag;
	return NULL;
}

/* Parses <m:Restriction>inner</m:Restriction>; returns the code or NULL. */
static const char *parse(const char *inner, struct mapi_restriction **res)
{
	char *doc = pool_printf(pool, "<m:Restriction " NS_DECL ">%s</m:Restriction>", inner);
	const char *error;
	xmlDocPtr d = http_xml_parse(doc, strlen(doc), 0, &error);
	assert_non_null(d);
	const char *code = ews_restriction_parse(pool, xmlDocGetRootElement(d), resolve, NULL, res);
	xmlFreeDoc(d);
	return code;
}

#define CMP(op, uri, value)                                                                        \
	"<t:" op "><t:FieldURI FieldURI=\"" uri "\"/><t:FieldURIOrConstant><t:Constant Value=\"" value \
	"\"/></t:FieldURIOrConstant></t:" op ">"

static void test_expressions(void **state)
{
	(void)state;
	struct mapi_restriction *r;
	assert_null(parse(CMP("IsEqualTo", "item:Subject", "hi"), &r));
	assert_int_equal(r->type, RES_PROPERTY);
	assert_int_equal(r->property.relop, RELOP_EQ);
	assert_int_equal(r->property.proptag, PR_SUBJECT);
	assert_string_equal(r->property.prop.v.str, "hi");

	assert_null(parse(CMP("IsGreaterThanOrEqualTo", "item:DateTimeReceived",
				  "2024-01-02T03:04:05Z"),
		&r));
	assert_int_equal(r->property.relop, RELOP_GE);
	assert_int_equal(PROP_TYPE(r->property.prop.tag), PT_SYSTIME);
	/* 2024-01-02T03:04:05Z as FILETIME */
	assert_true(r->property.prop.v.ft == 133486382450000000ull);

	assert_null(parse(CMP("IsLessThan", "item:Importance", "High"), &r));
	assert_int_equal(r->property.relop, RELOP_LT);
	assert_int_equal(r->property.prop.v.l, 2);

	/* IsRead is a bit of PR_MESSAGE_FLAGS */
	assert_null(parse(CMP("IsEqualTo", "message:IsRead", "false"), &r));
	assert_int_equal(r->type, RES_BITMASK);
	assert_int_equal(r->bitmask.relop, BMR_EQZ);
	assert_int_equal(r->bitmask.mask, MSGFLAG_READ);
	assert_null(parse(CMP("IsNotEqualTo", "message:IsRead", "false"), &r));
	assert_int_equal(r->bitmask.relop, BMR_NEZ);
	assert_string_equal(parse(CMP("IsGreaterThan", "message:IsRead", "false"), &r),
		"ErrorUnsupportedPathForQuery");

	assert_null(parse("<t:And>" CMP("IsEqualTo", "item:Subject", "a") "<t:Or>" CMP(
				  "IsEqualTo", "item:Subject", "b") "<t:Not><t:Exists><t:FieldURI "
								    "FieldURI=\"item:Subject\"/>"
								    "</t:Exists></t:Not></t:Or></t:And>",
		&r));
	assert_int_equal(r->type, RES_AND);
	assert_int_equal(r->and_or.count, 2);
	assert_int_equal(r->and_or.res[1].type, RES_OR);
	assert_int_equal(r->and_or.res[1].and_or.res[1].type, RES_NOT);
	assert_int_equal(r->and_or.res[1].and_or.res[1].not_.res->type, RES_EXIST);

	assert_null(parse("<t:Contains ContainmentMode=\"Prefixed\" ContainmentComparison="
			  "\"IgnoreCase\"><t:FieldURI FieldURI=\"item:Subject\"/><t:Constant "
			  "Value=\"Re:\"/></t:Contains>",
		&r));
	assert_int_equal(r->type, RES_CONTENT);
	assert_int_equal(r->content.fuzzy_level, FL_PREFIX | FL_IGNORECASE);

	assert_null(parse("<t:Excludes><t:ExtendedFieldURI PropertyTag=\"0x0e07\" "
			  "PropertyType=\"Integer\"/><t:Bitmask Value=\"0x11\"/></t:Excludes>",
		&r));
	assert_int_equal(r->type, RES_BITMASK);
	assert_int_equal(r->bitmask.mask, 0x11);
	assert_int_equal(r->bitmask.relop, BMR_EQZ);

	assert_null(parse("<t:IsEqualTo><t:FieldURI FieldURI=\"item:DateTimeSent\"/>"
			  "<t:FieldURIOrConstant><t:FieldURI FieldURI=\"item:DateTimeCreated\"/>"
			  "</t:FieldURIOrConstant></t:IsEqualTo>",
		&r));
	assert_int_equal(r->type, RES_COMPAREPROPS);
	assert_int_equal(r->compare_props.proptag2, PR_CREATION_TIME);

	assert_null(parse("<t:IsEqualTo><t:ExtendedFieldURI DistinguishedPropertySetId="
			  "\"PublicStrings\" PropertyName=\"n\" PropertyType=\"Boolean\"/>"
			  "<t:FieldURIOrConstant><t:Constant Value=\"1\"/></t:FieldURIOrConstant>"
			  "</t:IsEqualTo>",
		&r));
	assert_int_equal(r->property.proptag, PROP_TAG(PT_BOOLEAN, 0x8002));
	assert_true(r->property.prop.v.b);
}

static void test_refused(void **state)
{
	(void)state;
	struct mapi_restriction *r;
	assert_string_equal(parse("", &r), "ErrorInvalidRestriction");
	assert_string_equal(parse("<t:And/>", &r), "ErrorInvalidRestriction");
	assert_string_equal(parse("<t:Not/>", &r), "ErrorInvalidRestriction");
	assert_string_equal(parse(CMP("IsEqualTo", "item:Subject", "a") CMP("IsEqualTo",
					  "item:Subject", "b"),
				    &r),
		"ErrorInvalidRestriction");
	assert_string_equal(parse("<t:Bogus/>", &r), "ErrorInvalidRestriction");
	assert_string_equal(parse(CMP("IsEqualTo", "item:NoSuchField", "a"), &r),
		"ErrorUnsupportedPathForQuery");
	assert_string_equal(parse(CMP("IsEqualTo", "item:DateTimeReceived", "yesterday"), &r),
		"ErrorInvalidValueForProperty");
	assert_string_equal(parse(CMP("IsEqualTo", "item:Importance", "Huge"), &r),
		"ErrorInvalidValueForProperty");
	assert_string_equal(parse("<t:IsEqualTo><t:FieldURI FieldURI=\"item:Subject\"/>"
				  "</t:IsEqualTo>",
				    &r),
		"ErrorInvalidRestriction");
	assert_string_equal(parse("<t:Contains><t:FieldURI FieldURI=\"item:DateTimeReceived\"/>"
				  "<t:Constant Value=\"x\"/></t:Contains>",
				    &r),
		"ErrorUnsupportedPathForQuery");
	assert_string_equal(parse("<t:Contains ContainmentMode=\"Sideways\"><t:FieldURI "
				  "FieldURI=\"item:Subject\"/><t:Constant Value=\"x\"/></t:Contains>",
				    &r),
		"ErrorInvalidRestriction");
	assert_string_equal(parse("<t:Excludes><t:FieldURI FieldURI=\"item:Subject\"/>"
				  "<t:Bitmask Value=\"1\"/></t:Excludes>",
				    &r),
		"ErrorUnsupportedPathForQuery");
	assert_string_equal(parse("<t:Excludes><t:ExtendedFieldURI PropertyTag=\"0x0e07\" "
				  "PropertyType=\"Integer\"/><t:Bitmask Value=\"0xZZ\"/></t:Excludes>",
				    &r),
		"ErrorInvalidRestriction");
	assert_string_equal(parse(CMP("IsEqualTo", "item:Subject", "a") "", &r) == NULL ? "ok" :
											  "bad",
		"ok");
	/* the node budget: a wide Or */
	struct buf b;
	buf_init(&b, pool);
	buf_append_str(&b, "<t:Or>");
	for (int i = 0; i < MAPI_RES_MAX_NODES + 1; i++)
		buf_append_str(&b, CMP("IsEqualTo", "item:Subject", "a"));
	buf_append_str(&b, "</t:Or>");
	assert_string_equal(parse(buf_cstr(&b), &r), "ErrorRestrictionTooComplex");
}

static const char *sort(const char *inner, struct mapi_sort_order *so)
{
	char *doc = pool_printf(pool, "<m:SortOrder " NS_DECL ">%s</m:SortOrder>", inner);
	const char *error;
	xmlDocPtr d = http_xml_parse(doc, strlen(doc), 0, &error);
	assert_non_null(d);
	const char *code = ews_sort_parse(pool, xmlDocGetRootElement(d), resolve, NULL, so);
	xmlFreeDoc(d);
	return code;
}

static void test_sort(void **state)
{
	(void)state;
	struct mapi_sort_order so;
	assert_null(sort("<t:FieldOrder Order=\"Descending\"><t:FieldURI FieldURI="
			 "\"item:DateTimeReceived\"/></t:FieldOrder><t:FieldOrder "
			 "Order=\"Ascending\"><t:FieldURI FieldURI=\"item:Subject\"/></t:FieldOrder>",
		&so));
	assert_int_equal(so.count, 2);
	assert_int_equal(so.sorts[0].proptag, PR_MESSAGE_DELIVERY_TIME);
	assert_int_equal(so.sorts[0].order, TABLE_SORT_DESCEND);
	assert_int_equal(so.sorts[1].order, TABLE_SORT_ASCEND);
	assert_null(sort("", &so));
	assert_int_equal(so.count, 0);
	assert_string_equal(sort("<t:FieldOrder Order=\"Up\"><t:FieldURI FieldURI=\"item:Subject\"/>"
				 "</t:FieldOrder>",
				    &so),
		"ErrorInvalidRequest");
	assert_string_equal(sort("<t:FieldOrder><t:FieldURI FieldURI=\"item:Nope\"/>"
				 "</t:FieldOrder>",
				    &so),
		"ErrorUnsupportedPathForSortGroup");
	struct buf b;
	buf_init(&b, pool);
	for (int i = 0; i < 9; i++)
		buf_append_str(&b, "<t:FieldOrder><t:FieldURI FieldURI=\"item:Subject\"/>"
				   "</t:FieldOrder>");
	assert_string_equal(sort(buf_cstr(&b), &so), "ErrorUnsupportedPathForSortGroup");
}

static int setup(void **state)
{
	(void)state;
	http_xml_init();
	pool = pool_new("test", 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pool_free(&pool);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expressions),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_sort),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
