/* The generated property tag, named property and error tables against
 * values read in the specifications ([MS-OXPROPS] section 2, [MS-OXCDATA]
 * 2.4): if the data files or the generator drift, these fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "mapi/errors.h"
#include "mapi/namedprop.h"
#include "mapi/tags.h"

/* Each line: the tag as [MS-OXPROPS] gives it (Property ID, Data type). */
static const struct {
	uint32_t tag;
	uint32_t spec;
	const char *canonical;
} spec_tags[] = {
	{PR_SUBJECT, 0x0037001f, "PidTagSubject"},
	{PR_MESSAGE_CLASS, 0x001a001f, "PidTagMessageClass"},
	{PR_MESSAGE_SIZE, 0x0e080003, "PidTagMessageSize"},
	{PR_MESSAGE_SIZE_EXTENDED, 0x0e080014, "PidTagMessageSizeExtended"},
	{PR_CHANGE_KEY, 0x65e20102, "PidTagChangeKey"},
	{PR_PREDECESSOR_CHANGE_LIST, 0x65e30102, "PidTagPredecessorChangeList"},
	{PR_IPM_DRAFTS_ENTRYID, 0x36d70102, "PidTagIpmDraftsEntryId"},
	{PR_IPM_APPOINTMENT_ENTRYID, 0x36d00102, "PidTagIpmAppointmentEntryId"},
	{PidTagFolderId, 0x67480014, "PidTagFolderId"},
	{PidTagParentFolderId, 0x67490014, "PidTagParentFolderId"},
	{PR_RULE_CONDITION, 0x667900fd, "PidTagRuleCondition"},
	{PR_RULE_PROVIDER_DATA, 0x66840102, "PidTagRuleProviderData"},
	{PR_EXTENDED_RULE_MSG_ACTIONS, 0x0e990102, "PidTagExtendedRuleMessageActions"},
	{PR_INSTANCE_KEY, 0x0ff60102, "PidTagInstanceKey"},
	{PidTagInstanceNum, 0x674e0003, "PidTagInstanceNum"},
	{PR_DEPTH, 0x30050003, "PidTagDepth"},
	{PR_ATTACH_FILENAME, 0x3704001f, "PidTagAttachFilename"},
	{PR_ATTACH_LONG_FILENAME, 0x3707001f, "PidTagAttachLongFilename"},
	{PR_ATTACH_METHOD, 0x37050003, "PidTagAttachMethod"},
	{PR_ATTACH_DATA_OBJ, 0x3701000d, "PidTagAttachDataObject"},
	{PR_ATTACH_DATA_BIN, 0x37010102, "PidTagAttachDataBinary"},
	{PR_ATTACH_EXTENSION, 0x3703001f, "PidTagAttachExtension"},
	{PR_ATTACH_CONTENT_ID, 0x3712001f, "PidTagAttachContentId"},
	{PR_ATTACHMENT_X400_PARAMETERS, 0x37000102, "PidTagAttachmentX400Parameters"},
	{PR_ATTACH_ENCODING, 0x37020102, "PidTagAttachEncoding"},
	{PR_RECIPIENT_ENTRYID, 0x5ff70102, "PidTagRecipientEntryId"},
	{PR_RECIPIENT_DISPLAY_NAME, 0x5ff6001f, "PidTagRecipientDisplayName"},
};

static void test_spec_sample(void **state)
{
	assert_true(sizeof(spec_tags) / sizeof(spec_tags[0]) >= 27);
	for (size_t i = 0; i < sizeof(spec_tags) / sizeof(spec_tags[0]); i++) {
		uint32_t parsed;

		assert_int_equal(spec_tags[i].tag, spec_tags[i].spec);
		const struct mapi_tag_info *e = mapi_tag_lookup(spec_tags[i].spec);

		assert_non_null(e);
		assert_int_equal(e->tag, spec_tags[i].spec);
		assert_string_equal(e->canonical, spec_tags[i].canonical);
		assert_int_equal(mapi_tag_parse(spec_tags[i].canonical, &parsed), 0);
		assert_int_equal(parsed, spec_tags[i].spec);
	}
}

static void test_pidtag_aliases(void **state)
{
	assert_int_equal(PidTagSubject, PR_SUBJECT);
	assert_int_equal(PidTagSourceKey, 0x65e00102);
	assert_int_equal(PR_SUBJECT_A, 0x0037001e);
	assert_int_equal(PR_ADDITIONAL_REN_ENTRYIDS, 0x36d81102);
	assert_int_equal(PidTagChangeNumber, 0x67a40014);
	assert_int_equal(PidTagMid, 0x674a0014);
}

static void test_lookup_and_names(void **state)
{
	uint32_t t;
	struct buf b;

	assert_string_equal(mapi_tag_name(PR_SUBJECT), "PR_SUBJECT");
	/* The 8-bit form resolves to the same entry. */
	assert_string_equal(mapi_tag_lookup(PR_SUBJECT_A)->name, "PR_SUBJECT");
	assert_null(mapi_tag_name(PR_SUBJECT_A));
	/* PT_UNSPECIFIED and PT_ERROR find the ID. */
	assert_int_equal(mapi_tag_lookup(PROP_TAG(PT_ERROR, 0x0037))->tag, PR_SUBJECT);
	assert_int_equal(mapi_tag_lookup(PROP_TAG(PT_UNSPECIFIED, 0x0e08))->tag, PR_MESSAGE_SIZE);
	assert_null(mapi_tag_lookup(PROP_TAG(PT_LONG, 0x0037)));
	assert_null(mapi_tag_lookup(0x80010003));
	/* Parsing: names, _A, hex, decimal; junk refused. */
	assert_int_equal(mapi_tag_parse("PR_BODY", &t), 0);
	assert_int_equal(t, 0x1000001f);
	assert_int_equal(mapi_tag_parse("PR_BODY_A", &t), 0);
	assert_int_equal(t, 0x1000001e);
	assert_int_equal(mapi_tag_parse("0x0E070003", &t), 0);
	assert_int_equal(t, PR_MESSAGE_FLAGS);
	assert_int_equal(mapi_tag_parse("235339779", &t), 0);
	assert_int_equal(t, PR_MESSAGE_FLAGS);
	assert_int_equal(mapi_tag_parse("PR_NO_SUCH", &t), -1);
	assert_int_equal(mapi_tag_parse("0x", &t), -1);
	assert_int_equal(mapi_tag_parse("0x123456789", &t), -1);
	assert_int_equal(mapi_tag_parse("0xzz", &t), -1);
	assert_int_equal(mapi_tag_parse("PR_MESSAGE_FLAGS_A", &t), -1);
	buf_init(&b, NULL);
	mapi_tag_format(PR_SUBJECT, &b);
	assert_string_equal(buf_cstr(&b), "PR_SUBJECT (0x0037001f)");
	buf_reset(&b);
	mapi_tag_format(0x80010003, &b);
	assert_string_equal(buf_cstr(&b), "0x80010003");
	buf_deinit(&b);
	assert_string_equal(mapi_ptype_name(PT_MV_UNICODE), "PT_MV_UNICODE");
	assert_string_equal(mapi_ptype_spec_name(PT_SVREID), "PtypServerId");
	assert_null(mapi_ptype_name(0x0099));
}

static void test_table_sorted(void **state)
{
	assert_int_equal(mapi_tag_table_count, MAPI_PROPTAG_COUNT);
	for (unsigned i = 1; i < mapi_tag_table_count; i++)
		assert_true(mapi_tag_table[i - 1].tag <= mapi_tag_table[i].tag);
}

static void test_named_props(void **state)
{
	/* [MS-OXPROPS] 2.29: PSETID_Appointment, LID 0x820D, PtypTime. */
	const struct mapi_named_prop_def *d = &mapi_named_prop_defs[MAPI_NP_PidLidAppointmentStartWhole];
	struct guid g;

	assert_string_equal(d->canonical, "PidLidAppointmentStartWhole");
	assert_int_equal(guid_parse("{00062002-0000-0000-C000-000000000046}", &g), 0);
	assert_true(guid_eq(d->set, &g));
	assert_int_equal(d->kind, MNID_ID);
	assert_int_equal(d->lid, 0x820d);
	assert_int_equal(d->type, PT_SYSTIME);
	/* [MS-OXPROPS]: PidLidClassification PSETID_Common 0x85B6 string. */
	d = mapi_np_by_canonical("PidLidClassification");
	assert_non_null(d);
	assert_ptr_equal(d->set, &PSETID_Common);
	assert_int_equal(d->lid, 0x85b6);
	assert_int_equal(d->type, PT_UNICODE);
	/* PidNameKeywords: PS_PUBLIC_STRINGS "Keywords", multiple strings. */
	d = &mapi_named_prop_defs[MAPI_NP_PidNameKeywords];
	assert_ptr_equal(d->set, &PS_PUBLIC_STRINGS);
	assert_int_equal(d->kind, MNID_STRING);
	assert_string_equal(d->name, "Keywords");
	assert_int_equal(d->type, PT_MV_UNICODE);
	/* PidNameInternetSubject: PS_INTERNET_HEADERS "Subject", PtypString. */
	d = mapi_np_by_canonical("PidNameInternetSubject");
	assert_ptr_equal(d->set, &PS_INTERNET_HEADERS);
	assert_string_equal(d->name, "Subject");
	assert_int_equal(d->type, PT_UNICODE);
	assert_null(mapi_np_by_canonical("PidLidNoSuchThing"));
}

static void test_error_codes(void **state)
{
	uint32_t ec;

	/* [MS-OXCDATA] 2.4.1 and 2.4.1.1 values. */
	assert_int_equal(ecNotFound, 0x8004010f);
	assert_int_equal(ecInvalidParam, 0x80070057);
	assert_int_equal(ecError, 0x80004005);
	assert_int_equal(ecMAPIOOM, 0x8007000e);
	assert_int_equal(ecAccessDenied, 0x80070005);
	assert_int_equal(ecUnknownUser, 0x3eb);
	assert_int_equal(ecServerOOM, 0x3f0);
	assert_int_equal(ecLoginPerm, 0x3f2);
	assert_int_equal(ecLogonFailed, 0x80040111);
	assert_int_equal(ecLoginFailure, 0x80040111);
	assert_int_equal(ecNoReceiveFolder, 0x463);
	assert_string_equal(mapi_ec_name(0x8004010f), "ecNotFound");
	assert_string_equal(mapi_ec_name(0), "ecSuccess");
	assert_string_equal(mapi_ec_name(ecTooComplex), "ecTooComplex");
	/* Aliases share a value; the name is the primary one. */
	assert_string_equal(mapi_ec_name(0x80040111), "ecLogonFailed");
	assert_null(mapi_ec_name(0x12345678));
	assert_int_equal(mapi_ec_from_name("ecRootFolder", &ec), 0);
	assert_int_equal(ec, 0x8004060b);
	assert_int_equal(mapi_ec_from_name("ecNope", &ec), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_sample),
		cmocka_unit_test(test_pidtag_aliases),
		cmocka_unit_test(test_lookup_and_names),
		cmocka_unit_test(test_table_sorted),
		cmocka_unit_test(test_named_props),
		cmocka_unit_test(test_error_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
