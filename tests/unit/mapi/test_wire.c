/* Wire encodings: byte layouts from [MS-OXCDATA] 2.6.1, 2.11, 2.12, 2.13,
 * round trips of every type in both count widths, and malformed input
 * (truncation at every byte, huge counts, deep nesting). */
/* Tests assign string literals to value unions (char *) for brevity. */
#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "mapi/namedprop.h"
#include "mapi/propval.h"
#include "mapi/restriction.h"
#include "mapi/tags.h"
#include "core/utf.h"
#include "mapi/wire.h"

static pool_t *pool;

static int setup(void **state)
{
	pool = pool_new("test", 0);
	return 0;
}

static int teardown(void **state)
{
	pool_free(&pool);
	return 0;
}

static void check_bytes(const struct buf *b, const void *want, size_t len)
{
	assert_int_equal(b->len, len);
	assert_memory_equal(b->data, want, len);
}

static void test_layouts(void **state)
{
	struct buf b;
	struct mapi_writer w = {.out = &b, .width = MAPI_WIRE_ROP};
	struct mapi_propval pv;

	buf_init(&b, NULL);
	/* TaggedPropertyValue: tag LE, then UTF-16LE with a NUL terminator. */
	pv = (struct mapi_propval){.tag = PR_SUBJECT, .v.str = "ab"};
	assert_int_equal(mapi_put_tagged(&w, &pv), 0);
	check_bytes(&b, "\x1f\x00\x37\x00" "a\0b\0\0\0", 10);
	/* PtypBinary in a ROP buffer: 16-bit count. */
	buf_reset(&b);
	pv = (struct mapi_propval){.tag = PR_SOURCE_KEY, .v.bin = {3, (uint8_t *)"\x01\x02\x03"}};
	assert_int_equal(mapi_put_tagged(&w, &pv), 0);
	check_bytes(&b, "\x02\x01\xe0\x65\x03\x00\x01\x02\x03", 9);
	/* ... and 32-bit in extended rules. */
	buf_reset(&b);
	w.width = MAPI_WIRE_EXT;
	assert_int_equal(mapi_put_tagged(&w, &pv), 0);
	check_bytes(&b, "\x02\x01\xe0\x65\x03\x00\x00\x00\x01\x02\x03", 11);
	w.width = MAPI_WIRE_ROP;
	/* Multi-valued: 32-bit value count even in ROP buffers. */
	buf_reset(&b);
	int16_t shorts[] = {1, -1};
	pv = (struct mapi_propval){.tag = PROP_TAG(PT_MV_SHORT, 0x8000),
		.v.mv = {.count = 2, .i = shorts}};
	assert_int_equal(mapi_put_tagged(&w, &pv), 0);
	check_bytes(&b, "\x02\x10\x00\x80\x02\x00\x00\x00\x01\x00\xff\xff", 12);
	/* Boolean: one byte. */
	buf_reset(&b);
	pv = (struct mapi_propval){.tag = PR_READ, .v.b = true};
	assert_int_equal(mapi_put_tagged(&w, &pv), 0);
	check_bytes(&b, "\x0b\x00\x69\x0e\x01", 5);
	/* Restriction: (AND (EXIST PR_SUBJECT) (BITMASK NEZ PR_MESSAGE_FLAGS 1)). */
	buf_reset(&b);
	struct mapi_restriction kids[2] = {
		{.type = RES_EXIST, .exist = {PR_SUBJECT}},
		{.type = RES_BITMASK, .bitmask = {BMR_NEZ, PR_MESSAGE_FLAGS, 1}},
	};
	struct mapi_restriction r = {.type = RES_AND, .and_or = {2, kids}};
	assert_int_equal(mapi_put_restriction(&w, &r), 0);
	check_bytes(&b, "\x00\x02\x00" "\x08\x1f\x00\x37\x00" "\x06\x01\x03\x00\x07\x0e\x01\x00\x00\x00",
		18);
	/* ... with a 32-bit RestrictCount in extended rules. */
	buf_reset(&b);
	w.width = MAPI_WIRE_EXT;
	assert_int_equal(mapi_put_restriction(&w, &r), 0);
	assert_int_equal(b.len, 20);
	assert_memory_equal(b.data, "\x00\x02\x00\x00\x00\x08", 6);
	w.width = MAPI_WIRE_ROP;
	/* Content restriction: FuzzyLevelLow then FuzzyLevelHigh. */
	buf_reset(&b);
	struct mapi_restriction c = {.type = RES_CONTENT, .content = {FL_SUBSTRING | FL_IGNORECASE,
		PR_SUBJECT, {PR_SUBJECT, .v.str = "x"}}};
	assert_int_equal(mapi_put_restriction(&w, &c), 0);
	check_bytes(&b, "\x03\x01\x00\x01\x00\x1f\x00\x37\x00\x1f\x00\x37\x00x\0\0\0", 17);
	/* SortOrderSet. */
	buf_reset(&b);
	struct mapi_sort keys[1] = {{PR_MESSAGE_DELIVERY_TIME, TABLE_SORT_DESCEND}};
	struct mapi_sort_order so = {.count = 1, .sorts = keys};
	assert_int_equal(mapi_put_sort_order(&w, &so), 0);
	check_bytes(&b, "\x01\x00\x00\x00\x00\x00\x40\x00\x06\x0e\x01", 11);
	/* PropertyName, LID form: Kind, GUID, LID. */
	buf_reset(&b);
	struct mapi_propname n = mapi_np_name(MAPI_NP_PidLidAppointmentStartWhole);
	assert_int_equal(mapi_put_propname(&w, &n), 0);
	check_bytes(&b, "\x00\x02\x20\x06\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46"
			"\x0d\x82\x00\x00", 21);
	/* Name form: NameSize counts the UTF-16 bytes with the terminator. */
	buf_reset(&b);
	n = mapi_np_name(MAPI_NP_PidNameKeywords);
	assert_int_equal(mapi_put_propname(&w, &n), 0);
	assert_int_equal(b.len, 1 + 16 + 1 + 18);
	assert_int_equal(b.data[17], 18);
	assert_memory_equal(b.data + 18, "K\0e\0y\0w\0o\0r\0d\0s\0\0\0", 18);
	/* Flagged values. */
	buf_reset(&b);
	struct mapi_propval err = {.tag = PROP_TAG(PT_ERROR, 0x0037), .v.err = ecNotFound};
	assert_int_equal(mapi_put_flagged(&w, PR_SUBJECT, &err), 0);
	assert_int_equal(mapi_put_flagged(&w, PR_SUBJECT, NULL), 0);
	check_bytes(&b, "\x0a\x0f\x01\x04\x80\x01", 6);
	buf_deinit(&b);
}

/* Writes pv in width, reads it back, compares. */
static void round_trip(const struct mapi_propval *pv, enum mapi_wire_width width)
{
	struct buf b;
	struct mapi_writer w = {.out = &b, .width = width};
	struct mapi_reader r;
	struct mapi_propval back;

	buf_init(&b, NULL);
	assert_int_equal(mapi_put_tagged(&w, pv), 0);
	mapi_reader_init(&r, b.data, b.len, pool, width);
	assert_int_equal(mapi_get_tagged(&r, &back), 0);
	assert_int_equal(r.pos, b.len);
	assert_int_equal(back.tag, pv->tag);
	assert_true(mapi_pvalue_equal(PROP_TYPE(pv->tag), &pv->v, &back.v, 0));
	/* Every truncation is an error, never a crash or a partial success. */
	for (size_t cut = 0; cut < b.len; cut++) {
		mapi_reader_init(&r, b.data, cut, pool, width);
		assert_int_equal(mapi_get_tagged(&r, &back), -1);
		assert_non_null(r.error);
	}
	buf_deinit(&b);
}

static void test_round_trips(void **state)
{
	struct guid g;
	int16_t s[] = {-3, 7};
	int32_t l[] = {1, -2, 3};
	float f[] = {1.5f};
	double d[] = {-2.25, 1e10};
	int64_t i8[] = {INT64_MIN, 5};
	uint64_t ft[] = {116444736000000000ULL};
	char *strs[] = {"", "Grüße", "\xf0\x9f\x98\x80"};
	struct guid gs[2];
	struct mapi_binary bins[] = {{0, NULL}, {2, (uint8_t *)"\x00\xff"}};

	guid_generate(&g);
	guid_generate(&gs[0]);
	guid_generate(&gs[1]);
	struct mapi_propval vals[] = {
		{PROP_TAG(PT_SHORT, 1), .v.i = -12345},
		{PROP_TAG(PT_LONG, 2), .v.l = INT32_MIN},
		{PROP_TAG(PT_FLOAT, 3), .v.flt = 3.25f},
		{PROP_TAG(PT_DOUBLE, 4), .v.dbl = -1.0 / 3},
		{PROP_TAG(PT_CURRENCY, 5), .v.cur = -123456789},
		{PROP_TAG(PT_APPTIME, 6), .v.at = 45000.5},
		{PROP_TAG(PT_ERROR, 7), .v.err = ecAccessDenied},
		{PROP_TAG(PT_BOOLEAN, 8), .v.b = true},
		{PROP_TAG(PT_I8, 9), .v.li = INT64_MAX},
		{PROP_TAG(PT_STRING8, 10), .v.str = "plain"},
		{PROP_TAG(PT_UNICODE, 11), .v.str = "Ünïcödé ✓"},
		{PROP_TAG(PT_SYSTIME, 12), .v.ft = 0x01d9000000000000ULL},
		{PROP_TAG(PT_CLSID, 13), .v.guid = &g},
		{PROP_TAG(PT_SVREID, 14), .v.bin = {3, (uint8_t *)"\x01\x02\x03"}},
		{PROP_TAG(PT_BINARY, 15), .v.bin = {0, NULL}},
		{PROP_TAG(PT_NULL, 16)},
		{PROP_TAG(PT_MV_SHORT, 17), .v.mv = {.count = 2, .i = s}},
		{PROP_TAG(PT_MV_LONG, 18), .v.mv = {.count = 3, .l = l}},
		{PROP_TAG(PT_MV_FLOAT, 19), .v.mv = {.count = 1, .flt = f}},
		{PROP_TAG(PT_MV_DOUBLE, 20), .v.mv = {.count = 2, .dbl = d}},
		{PROP_TAG(PT_MV_CURRENCY, 21), .v.mv = {.count = 2, .cur = i8}},
		{PROP_TAG(PT_MV_APPTIME, 22), .v.mv = {.count = 2, .at = d}},
		{PROP_TAG(PT_MV_I8, 23), .v.mv = {.count = 2, .li = i8}},
		{PROP_TAG(PT_MV_STRING8, 24), .v.mv = {.count = 3, .str = strs}},
		{PROP_TAG(PT_MV_UNICODE, 25), .v.mv = {.count = 3, .str = strs}},
		{PROP_TAG(PT_MV_SYSTIME, 26), .v.mv = {.count = 1, .ft = ft}},
		{PROP_TAG(PT_MV_CLSID, 27), .v.mv = {.count = 2, .guid = gs}},
		{PROP_TAG(PT_MV_BINARY, 28), .v.mv = {.count = 2, .bin = bins}},
		{PROP_TAG(PT_MV_LONG, 29), .v.mv = {.count = 0}},
	};
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		round_trip(&vals[i], MAPI_WIRE_ROP);
		round_trip(&vals[i], MAPI_WIRE_EXT);
	}
}

static void test_restriction_round_trip(void **state)
{
	struct mapi_propval cv = {.tag = PR_DISPLAY_NAME, .v.str = "why"};
	struct mapi_restriction leaf[] = {
		{.type = RES_CONTENT, .content = {FL_PREFIX, PR_SUBJECT, {PR_SUBJECT, .v.str = "Re"}}},
		{.type = RES_PROPERTY, .property = {RELOP_GE, PR_IMPORTANCE, {PR_IMPORTANCE, .v.l = 1}}},
		{.type = RES_COMPAREPROPS, .compare_props = {RELOP_NE, PR_IMPORTANCE, PR_PRIORITY}},
		{.type = RES_SIZE, .size = {RELOP_LT, PR_BODY, 4096}},
		{.type = RES_EXIST, .exist = {PR_BODY}},
		{.type = RES_BITMASK, .bitmask = {BMR_EQZ, PR_MESSAGE_FLAGS, 0x10}},
	};
	struct mapi_restriction sub_inner = {.type = RES_OR, .and_or = {6, leaf}};
	struct mapi_restriction sub = {.type = RES_SUBRESTRICTION,
		.sub = {PR_MESSAGE_RECIPIENTS, &sub_inner}};
	struct mapi_restriction com = {.type = RES_COMMENT, .comment = {1, &cv, &sub}};
	struct mapi_restriction cnt = {.type = RES_COUNT, .count = {5, &com}};
	struct mapi_restriction top = {.type = RES_NOT, .not_ = {&cnt}};
	/* A restriction nested in a property value (PtypRestriction). */
	struct mapi_propval rv = {.tag = PR_RULE_CONDITION, .v.res = &top};

	for (int width = MAPI_WIRE_ROP; width <= MAPI_WIRE_EXT; width++) {
		struct buf b, b2, f1, f2;
		struct mapi_writer w = {.out = &b, .width = width};
		struct mapi_reader r;
		struct mapi_propval back;

		buf_init(&b, NULL);
		buf_init(&b2, NULL);
		buf_init(&f1, NULL);
		buf_init(&f2, NULL);
		assert_int_equal(mapi_put_tagged(&w, &rv), 0);
		mapi_reader_init(&r, b.data, b.len, pool, width);
		assert_int_equal(mapi_get_tagged(&r, &back), 0);
		assert_int_equal(r.pos, b.len);
		assert_int_equal(mapi_restriction_validate(back.v.res, NULL), ecSuccess);
		mapi_restriction_format(&top, &f1);
		mapi_restriction_format(back.v.res, &f2);
		assert_string_equal(buf_cstr(&f1), buf_cstr(&f2));
		w.out = &b2;
		assert_int_equal(mapi_put_tagged(&w, &back), 0);
		assert_true(slice_eq(buf_slice(&b), buf_slice(&b2)));
		for (size_t cut = 0; cut < b.len; cut++) {
			mapi_reader_init(&r, b.data, cut, pool, width);
			assert_int_equal(mapi_get_tagged(&r, &back), -1);
		}
		buf_deinit(&b);
		buf_deinit(&b2);
		buf_deinit(&f1);
		buf_deinit(&f2);
	}
}

static void test_malformed(void **state)
{
	struct mapi_reader r;
	struct mapi_propval pv;
	struct mapi_restriction *res;
	struct buf b;

	/* Huge multi-value count with no data. */
	static const uint8_t huge_mv[] = {0x03, 0x10, 0x00, 0x80, 0xff, 0xff, 0xff, 0xff, 0, 0};
	mapi_reader_init(&r, huge_mv, sizeof(huge_mv), pool, MAPI_WIRE_ROP);
	assert_int_equal(mapi_get_tagged(&r, &pv), -1);
	/* Binary longer than the buffer. */
	static const uint8_t long_bin[] = {0x02, 0x01, 0x00, 0x80, 0xff, 0xff, 1, 2};
	mapi_reader_init(&r, long_bin, sizeof(long_bin), pool, MAPI_WIRE_ROP);
	assert_int_equal(mapi_get_tagged(&r, &pv), -1);
	/* Unterminated strings. */
	static const uint8_t no_nul16[] = {0x1f, 0x00, 0x37, 0x00, 'a', 0, 'b'};
	mapi_reader_init(&r, no_nul16, sizeof(no_nul16), pool, MAPI_WIRE_ROP);
	assert_int_equal(mapi_get_tagged(&r, &pv), -1);
	static const uint8_t no_nul8[] = {0x1e, 0x00, 0x37, 0x00, 'a', 'b'};
	mapi_reader_init(&r, no_nul8, sizeof(no_nul8), pool, MAPI_WIRE_ROP);
	assert_int_equal(mapi_get_tagged(&r, &pv), -1);
	/* Types without a wire form. */
	static const uint8_t obj[] = {0x0d, 0x00, 0x01, 0x37, 0, 0, 0, 0};
	mapi_reader_init(&r, obj, sizeof(obj), pool, MAPI_WIRE_ROP);
	assert_int_equal(mapi_get_tagged(&r, &pv), -1);
	static const uint8_t unk[] = {0x99, 0x00, 0x01, 0x37};
	mapi_reader_init(&r, unk, sizeof(unk), pool, MAPI_WIRE_ROP);
	assert_int_equal(mapi_get_tagged(&r, &pv), -1);
	/* Restrictions: unknown type, huge child count, bad flag. */
	static const uint8_t bad_type[] = {0x0c};
	mapi_reader_init(&r, bad_type, 1, pool, MAPI_WIRE_ROP);
	assert_int_equal(mapi_get_restriction(&r, &res), -1);
	static const uint8_t huge_and[] = {0x00, 0xff, 0xff, 0x08, 0, 0, 0, 0};
	mapi_reader_init(&r, huge_and, sizeof(huge_and), pool, MAPI_WIRE_ROP);
	assert_int_equal(mapi_get_restriction(&r, &res), -1);
	/* Deep nesting: NOT NOT ... EXIST, deeper than the limit. */
	buf_init(&b, NULL);
	for (int i = 0; i < MAPI_RES_MAX_DEPTH; i++)
		buf_append_byte(&b, RES_NOT);
	buf_append_byte(&b, RES_EXIST);
	buf_append_u32le(&b, PR_SUBJECT);
	mapi_reader_init(&r, b.data, b.len, pool, MAPI_WIRE_ROP);
	assert_int_equal(mapi_get_restriction(&r, &res), -1);
	assert_string_equal(r.error, "restriction nested too deeply");
	/* One level less parses. */
	mapi_reader_init(&r, b.data + 1, b.len - 1, pool, MAPI_WIRE_ROP);
	assert_int_equal(mapi_get_restriction(&r, &res), 0);
	/* Too many nodes: an OR of MAX_NODES EXISTs. */
	buf_reset(&b);
	buf_append_byte(&b, RES_OR);
	buf_append_u32le(&b, MAPI_RES_MAX_NODES);
	for (int i = 0; i < MAPI_RES_MAX_NODES; i++) {
		buf_append_byte(&b, RES_EXIST);
		buf_append_u32le(&b, PR_SUBJECT);
	}
	mapi_reader_init(&r, b.data, b.len, pool, MAPI_WIRE_EXT);
	assert_int_equal(mapi_get_restriction(&r, &res), -1);
	assert_string_equal(r.error, "restriction has too many nodes");
	buf_deinit(&b);
	/* Row with a bad flag; flagged value with a bad flag. */
	uint32_t cols[] = {PR_SUBJECT};
	struct mapi_tags tags = {1, cols};
	struct mapi_propvals row;
	static const uint8_t bad_row[] = {0x02};
	mapi_reader_init(&r, bad_row, 1, pool, MAPI_WIRE_ROP);
	assert_int_equal(mapi_get_row(&r, &tags, &row), -1);
	static const uint8_t bad_flag[] = {0x01, 0x05};
	mapi_reader_init(&r, bad_flag, 2, pool, MAPI_WIRE_ROP);
	assert_int_equal(mapi_get_row(&r, &tags, &row), -1);
	/* PropertyName: bad kind, odd size. */
	struct mapi_propname n;
	uint8_t pn[1 + 16 + 1 + 3] = {MNID_STRING};
	pn[17] = 3;
	mapi_reader_init(&r, pn, sizeof(pn), pool, MAPI_WIRE_ROP);
	assert_int_equal(mapi_get_propname(&r, &n), -1);
	pn[0] = 0x02;
	mapi_reader_init(&r, pn, sizeof(pn), pool, MAPI_WIRE_ROP);
	assert_int_equal(mapi_get_propname(&r, &n), -1);
	/* A 16-bit count cannot carry a 70000-byte binary. */
	struct mapi_writer w = {.out = &b, .width = MAPI_WIRE_ROP};
	buf_init(&b, NULL);
	pv.tag = PR_BODY_HTML;
	pv.tag = PROP_TAG(PT_BINARY, 0x1013);
	pv.v.bin.cb = 70000;
	pv.v.bin.pb = pool_alloc(pool, 70000);
	assert_int_equal(mapi_put_tagged(&w, &pv), -1);
	assert_non_null(w.error);
	buf_deinit(&b);
}

static void test_rows_and_lists(void **state)
{
	uint32_t cols[] = {PR_SUBJECT, PR_MESSAGE_FLAGS, PROP_TAG(PT_UNSPECIFIED, 0x0e08)};
	struct mapi_tags tags = {3, cols};
	struct mapi_propval subj = {PR_SUBJECT, .v.str = "s"};
	struct mapi_propval flags = {PR_MESSAGE_FLAGS, .v.l = 3};
	struct mapi_propval size = {PR_MESSAGE_SIZE, .v.l = 99};
	struct mapi_propval nf = {PROP_TAG(PT_ERROR, 0x0e07), .v.err = ecNotFound};
	const struct mapi_propval *v1[] = {&subj, &flags, &size};
	const struct mapi_propval *v2[] = {&subj, &nf, NULL};
	struct buf b;
	struct mapi_writer w = {.out = &b};
	struct mapi_reader r;
	struct mapi_propvals row;

	buf_init(&b, NULL);
	assert_int_equal(mapi_put_row(&w, &tags, v1), 0);
	assert_int_equal(b.data[0], 0x00);
	mapi_reader_init(&r, b.data, b.len, pool, MAPI_WIRE_ROP);
	assert_int_equal(mapi_get_row(&r, &tags, &row), 0);
	assert_int_equal(row.count, 3);
	assert_string_equal(row.vals[0].v.str, "s");
	assert_int_equal(row.vals[1].v.l, 3);
	assert_int_equal(row.vals[2].tag, PR_MESSAGE_SIZE);
	assert_int_equal(row.vals[2].v.l, 99);
	buf_reset(&b);
	assert_int_equal(mapi_put_row(&w, &tags, v2), 0);
	assert_int_equal(b.data[0], 0x01);
	mapi_reader_init(&r, b.data, b.len, pool, MAPI_WIRE_ROP);
	assert_int_equal(mapi_get_row(&r, &tags, &row), 0);
	assert_int_equal(row.vals[1].tag, PROP_TAG(PT_ERROR, 0x0e07));
	assert_int_equal(row.vals[1].v.err, ecNotFound);
	assert_int_equal(PROP_TYPE(row.vals[2].tag), PT_NULL);
	/* Tag arrays and value lists. */
	buf_reset(&b);
	assert_int_equal(mapi_put_tags(&w, &tags), 0);
	struct mapi_tags back;
	mapi_reader_init(&r, b.data, b.len, pool, MAPI_WIRE_ROP);
	assert_int_equal(mapi_get_tags(&r, &back), 0);
	assert_int_equal(back.count, 3);
	assert_int_equal(back.tags[1], PR_MESSAGE_FLAGS);
	struct mapi_propvals set = {0}, got;
	mapi_propvals_set_str(pool, &set, PR_SUBJECT, "x");
	mapi_propvals_set_long(pool, &set, PR_IMPORTANCE, 2);
	buf_reset(&b);
	assert_int_equal(mapi_put_propvals(&w, &set), 0);
	mapi_reader_init(&r, b.data, b.len, pool, MAPI_WIRE_ROP);
	assert_int_equal(mapi_get_propvals(&r, &got), 0);
	assert_int_equal(got.count, 2);
	assert_int_equal(mapi_propvals_get_long(&got, PR_IMPORTANCE, 0), 2);
	/* Typed strings. */
	buf_reset(&b);
	assert_int_equal(mapi_put_typed_string(&w, NULL), 0);
	assert_int_equal(mapi_put_typed_string(&w, ""), 0);
	assert_int_equal(mapi_put_typed_string(&w, "hé"), 0);
	buf_append_str(&b, "\x02" "ab");
	buf_append_byte(&b, 0);
	buf_append_str(&b, "\x03" "\xe9x");
	buf_append_byte(&b, 0);
	char *s;
	mapi_reader_init(&r, b.data, b.len, pool, MAPI_WIRE_ROP);
	assert_int_equal(mapi_get_typed_string(&r, &s), 0);
	assert_null(s);
	assert_int_equal(mapi_get_typed_string(&r, &s), 0);
	assert_string_equal(s, "");
	assert_int_equal(mapi_get_typed_string(&r, &s), 0);
	assert_string_equal(s, "hé");
	assert_int_equal(mapi_get_typed_string(&r, &s), 0);
	assert_string_equal(s, "ab");
	assert_int_equal(mapi_get_typed_string(&r, &s), 0);
	assert_string_equal(s, "éx");
	assert_int_equal(mapi_reader_left(&r), 0);
	buf_deinit(&b);
}

static void test_codepage_and_names(void **state)
{
	struct buf b;
	struct mapi_writer w = {.out = &b, .codepage = 1252};
	struct mapi_reader r;
	struct mapi_propval pv = {PROP_TAG(PT_STRING8, 0x0037), .v.str = "café €"}, back;

	buf_init(&b, NULL);
	assert_int_equal(mapi_put_tagged(&w, &pv), 0);
	/* Windows-1252: é = 0xE9, € = 0x80. */
	check_bytes(&b, "\x1e\x00\x37\x00" "caf\xe9 \x80\x00", 11);
	mapi_reader_init(&r, b.data, b.len, pool, MAPI_WIRE_ROP);
	r.codepage = 1252;
	assert_int_equal(mapi_get_tagged(&r, &back), 0);
	assert_string_equal(back.v.str, "café €");
	/* The same bytes read as UTF-8 are sanitised, not rejected. */
	mapi_reader_init(&r, b.data, b.len, pool, MAPI_WIRE_ROP);
	assert_int_equal(mapi_get_tagged(&r, &back), 0);
	assert_true(utf8_valid(back.v.str, strlen(back.v.str)));
	/* Property names round trip; a name without a terminator is taken. */
	buf_reset(&b);
	struct mapi_propname n = {.guid = PS_INTERNET_HEADERS, .kind = MNID_STRING,
		.name = "X-Custom"}, nb;
	w.codepage = 0;
	assert_int_equal(mapi_put_propname(&w, &n), 0);
	mapi_reader_init(&r, b.data, b.len, pool, MAPI_WIRE_ROP);
	assert_int_equal(mapi_get_propname(&r, &nb), 0);
	assert_true(mapi_propname_equal(&n, &nb));
	b.data[17] -= 2;
	mapi_reader_init(&r, b.data, b.len - 2, pool, MAPI_WIRE_ROP);
	assert_int_equal(mapi_get_propname(&r, &nb), 0);
	assert_string_equal(nb.name, "X-Custom");
	buf_deinit(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_restriction_round_trip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_rows_and_lists),
		cmocka_unit_test(test_codepage_and_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
