/* Restriction validation and evaluation (every type of [MS-OXCDATA] 2.12,
 * multi-valued semantics, limits) and sort order comparison. */
/* Tests assign string literals to value unions (char *) for brevity. */
#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "mapi/propval.h"
#include "mapi/restriction.h"
#include "mapi/tags.h"

static pool_t *pool;

struct object {
	struct mapi_propvals props;
	struct mapi_propvals *recips;
	uint32_t n_recips;
	bool fail;
};

static int get(void *ctx, uint32_t tag, const struct mapi_propval **pv_r)
{
	struct object *o = ctx;

	if (o->fail)
		return -1;
	*pv_r = mapi_propvals_get(&o->props, tag);
	return *pv_r != NULL ? 1 : 0;
}

static int get_set(void *ctx, uint32_t tag, const struct mapi_propval **pv_r)
{
	*pv_r = mapi_propvals_get(ctx, tag);
	return *pv_r != NULL ? 1 : 0;
}

static uint32_t sub(void *ctx, uint32_t subobject, const struct mapi_restriction *res,
	const struct mapi_res_eval *parent, bool *match_r)
{
	struct object *o = ctx;

	*match_r = false;
	if (subobject != PR_MESSAGE_RECIPIENTS)
		return ecSuccess;
	for (uint32_t i = 0; i < o->n_recips && !*match_r; i++) {
		struct mapi_res_eval e = {.get = get_set, .ctx = &o->recips[i],
			.depth = parent->depth, .nodes_used = parent->nodes_used};
		uint32_t ec = mapi_restriction_eval(res, &e, match_r);

		if (ec != ecSuccess)
			return ec;
	}
	return ecSuccess;
}

static struct object obj;

static int setup(void **state)
{
	pool = pool_new("test", 0);
	memset(&obj, 0, sizeof(obj));
	mapi_propvals_set_str(pool, &obj.props, PR_SUBJECT, "Hello Wörld");
	mapi_propvals_set_long(pool, &obj.props, PR_MESSAGE_FLAGS, 0x05);
	mapi_propvals_set_long(pool, &obj.props, PR_IMPORTANCE, 2);
	mapi_propvals_set_long(pool, &obj.props, PR_PRIORITY, 2);
	mapi_propvals_set_bin(pool, &obj.props, PR_SEARCH_KEY, "SMTP:AB", 7);
	mapi_propvals_set_systime(pool, &obj.props, PR_CREATION_TIME, 1000);
	static char *kw[] = {"Red", "Blue Team"};
	union mapi_pvalue mv = {.mv = {.count = 2, .str = kw}};
	mapi_propvals_set(pool, &obj.props, PROP_TAG(PT_MV_UNICODE, 0x8001), &mv);
	static int32_t nums[] = {3, 9};
	union mapi_pvalue mvl = {.mv = {.count = 2, .l = nums}};
	mapi_propvals_set(pool, &obj.props, PROP_TAG(PT_MV_LONG, 0x8002), &mvl);
	obj.recips = pool_calloc(pool, 2, sizeof(*obj.recips));
	obj.n_recips = 2;
	mapi_propvals_set_str(pool, &obj.recips[0], PR_EMAIL_ADDRESS, "a@example.org");
	mapi_propvals_set_long(pool, &obj.recips[0], PR_RECIPIENT_TYPE, 1);
	mapi_propvals_set_str(pool, &obj.recips[1], PR_EMAIL_ADDRESS, "b@example.org");
	mapi_propvals_set_long(pool, &obj.recips[1], PR_RECIPIENT_TYPE, 2);
	return 0;
}

static int teardown(void **state)
{
	pool_free(&pool);
	return 0;
}

static bool eval_ok(const struct mapi_restriction *r)
{
	struct mapi_res_eval e = {.get = get, .sub = sub, .ctx = &obj};
	bool m = false;

	assert_int_equal(mapi_restriction_validate(r, NULL), ecSuccess);
	assert_int_equal(mapi_restriction_eval(r, &e, &m), ecSuccess);
	return m;
}

static struct mapi_restriction prop_res(uint32_t relop, uint32_t tag, union mapi_pvalue v)
{
	return (struct mapi_restriction){.type = RES_PROPERTY,
		.property = {.relop = relop, .proptag = tag, .prop = {.tag = tag, .v = v}}};
}

static struct mapi_restriction content_res(uint32_t fl, uint32_t tag, union mapi_pvalue v)
{
	return (struct mapi_restriction){.type = RES_CONTENT,
		.content = {.fuzzy_level = fl, .proptag = tag,
			.prop = {.tag = CHANGE_PROP_TYPE(tag, PROP_TYPE(tag) & ~PT_MV_FLAG), .v = v}}};
}

static void test_property(void **state)
{
	union mapi_pvalue two = {.l = 2}, three = {.l = 3};
	struct mapi_restriction r;

	r = prop_res(RELOP_EQ, PR_IMPORTANCE, two);
	assert_true(eval_ok(&r));
	r = prop_res(RELOP_NE, PR_IMPORTANCE, two);
	assert_false(eval_ok(&r));
	r = prop_res(RELOP_LT, PR_IMPORTANCE, three);
	assert_true(eval_ok(&r));
	r = prop_res(RELOP_LE, PR_IMPORTANCE, two);
	assert_true(eval_ok(&r));
	r = prop_res(RELOP_GT, PR_IMPORTANCE, two);
	assert_false(eval_ok(&r));
	r = prop_res(RELOP_GE, PR_IMPORTANCE, two);
	assert_true(eval_ok(&r));
	/* A missing property fails every relop, NE included. */
	r = prop_res(RELOP_NE, PR_SENSITIVITY, two);
	assert_false(eval_ok(&r));
	/* Strings compare case-insensitively. */
	r = prop_res(RELOP_EQ, PR_SUBJECT, (union mapi_pvalue){.str = "hello wÖrld"});
	assert_true(eval_ok(&r));
	/* The 8-bit tag works against a Unicode value. */
	r = prop_res(RELOP_EQ, PR_SUBJECT_A, (union mapi_pvalue){.str = "HELLO WÖRLD"});
	assert_true(eval_ok(&r));
	r = prop_res(RELOP_GT, PR_CREATION_TIME, (union mapi_pvalue){.ft = 999});
	assert_true(eval_ok(&r));
	/* Regular expression. */
	r = prop_res(RELOP_RE, PR_SUBJECT, (union mapi_pvalue){.str = "^hel+o w.rld$"});
	assert_true(eval_ok(&r));
	r = prop_res(RELOP_RE, PR_SUBJECT, (union mapi_pvalue){.str = "^world"});
	assert_false(eval_ok(&r));
	r = prop_res(RELOP_RE, PR_SUBJECT, (union mapi_pvalue){.str = "([unbalanced"});
	assert_false(eval_ok(&r));
}

static void test_property_multivalued(void **state)
{
	/* Single value against a multi-valued property: any element. */
	struct mapi_restriction r = {.type = RES_PROPERTY, .property = {.relop = RELOP_EQ,
		.proptag = PROP_TAG(PT_MV_LONG, 0x8002), .prop = {.tag = PROP_TAG(PT_LONG, 0x8002),
		.v.l = 9}}};

	assert_true(eval_ok(&r));
	r.property.prop.v.l = 4;
	assert_false(eval_ok(&r));
	r.property.relop = RELOP_GT;
	assert_true(eval_ok(&r)); /* 9 > 4 */
	/* Whole multi-value against a multi-valued property. */
	int32_t same[] = {3, 9}, other[] = {9, 3};
	r.property.relop = RELOP_EQ;
	r.property.prop.tag = PROP_TAG(PT_MV_LONG, 0x8002);
	r.property.prop.v.mv = (struct mapi_mv){.count = 2, .l = same};
	assert_true(eval_ok(&r));
	r.property.prop.v.mv.l = other;
	assert_false(eval_ok(&r));
}

static void test_content(void **state)
{
	struct mapi_restriction r;

	r = content_res(FL_SUBSTRING, PR_SUBJECT, (union mapi_pvalue){.str = "lo Wö"});
	assert_true(eval_ok(&r));
	r = content_res(FL_SUBSTRING, PR_SUBJECT, (union mapi_pvalue){.str = "LO WÖ"});
	assert_false(eval_ok(&r));
	r = content_res(FL_SUBSTRING | FL_IGNORECASE, PR_SUBJECT, (union mapi_pvalue){.str = "LO WÖ"});
	assert_true(eval_ok(&r));
	r = content_res(FL_PREFIX, PR_SUBJECT, (union mapi_pvalue){.str = "Hello"});
	assert_true(eval_ok(&r));
	r = content_res(FL_PREFIX, PR_SUBJECT, (union mapi_pvalue){.str = "World"});
	assert_false(eval_ok(&r));
	r = content_res(FL_FULLSTRING, PR_SUBJECT, (union mapi_pvalue){.str = "Hello Wörld"});
	assert_true(eval_ok(&r));
	r = content_res(FL_FULLSTRING, PR_SUBJECT, (union mapi_pvalue){.str = "Hello"});
	assert_false(eval_ok(&r));
	r = content_res(FL_FULLSTRING | FL_LOOSE, PR_SUBJECT, (union mapi_pvalue){.str = "hello wörld"});
	assert_true(eval_ok(&r));
	/* The empty pattern is a substring and prefix of anything. */
	r = content_res(FL_SUBSTRING, PR_SUBJECT, (union mapi_pvalue){.str = ""});
	assert_true(eval_ok(&r));
	/* Binaries: byte-wise, and ASCII-folded with FL_IGNORECASE. */
	r = content_res(FL_PREFIX, PR_SEARCH_KEY,
		(union mapi_pvalue){.bin = {5, (uint8_t *)"SMTP:"}});
	assert_true(eval_ok(&r));
	r = content_res(FL_SUBSTRING, PR_SEARCH_KEY, (union mapi_pvalue){.bin = {2, (uint8_t *)"ab"}});
	assert_false(eval_ok(&r));
	r = content_res(FL_SUBSTRING | FL_IGNORECASE, PR_SEARCH_KEY,
		(union mapi_pvalue){.bin = {2, (uint8_t *)"ab"}});
	assert_true(eval_ok(&r));
	/* Multi-valued strings: any value matches. */
	r = content_res(FL_SUBSTRING | FL_IGNORECASE, PROP_TAG(PT_MV_UNICODE, 0x8001),
		(union mapi_pvalue){.str = "team"});
	assert_true(eval_ok(&r));
	r = content_res(FL_FULLSTRING, PROP_TAG(PT_MV_UNICODE, 0x8001),
		(union mapi_pvalue){.str = "Green"});
	assert_false(eval_ok(&r));
	/* Missing property. */
	r = content_res(FL_SUBSTRING, PR_BODY, (union mapi_pvalue){.str = "x"});
	assert_false(eval_ok(&r));
}

static void test_bitmask_size_exist_compare(void **state)
{
	struct mapi_restriction r;

	r = (struct mapi_restriction){.type = RES_BITMASK,
		.bitmask = {.relop = BMR_NEZ, .proptag = PR_MESSAGE_FLAGS, .mask = 0x04}};
	assert_true(eval_ok(&r));
	r.bitmask.mask = 0x02;
	assert_false(eval_ok(&r));
	r.bitmask.relop = BMR_EQZ;
	assert_true(eval_ok(&r));
	r.bitmask.proptag = PROP_TAG(PT_LONG, 0x7777);
	assert_false(eval_ok(&r)); /* absent: FALSE for EQZ too */
	r = (struct mapi_restriction){.type = RES_SIZE,
		.size = {.relop = RELOP_EQ, .proptag = PR_SEARCH_KEY, .size = 7}};
	assert_true(eval_ok(&r));
	r.size.relop = RELOP_GT;
	assert_false(eval_ok(&r));
	/* PT_UNICODE size is UTF-16 with terminator: 11 chars -> 24 bytes. */
	r = (struct mapi_restriction){.type = RES_SIZE,
		.size = {.relop = RELOP_EQ, .proptag = PR_SUBJECT, .size = 24}};
	assert_true(eval_ok(&r));
	r = (struct mapi_restriction){.type = RES_EXIST, .exist = {PR_SUBJECT}};
	assert_true(eval_ok(&r));
	r.exist.proptag = PR_BODY;
	assert_false(eval_ok(&r));
	r.exist.proptag = PROP_TAG(PT_UNSPECIFIED, 0x0037);
	assert_true(eval_ok(&r));
	r = (struct mapi_restriction){.type = RES_COMPAREPROPS,
		.compare_props = {.relop = RELOP_EQ, .proptag1 = PR_IMPORTANCE,
			.proptag2 = PR_PRIORITY}};
	assert_true(eval_ok(&r));
	r.compare_props.relop = RELOP_LT;
	assert_false(eval_ok(&r));
	r.compare_props.proptag2 = PR_SENSITIVITY;
	r.compare_props.relop = RELOP_NE;
	assert_false(eval_ok(&r)); /* one side missing */
}

static void test_logic_comment_count_sub(void **state)
{
	struct mapi_restriction kids[2] = {
		{.type = RES_EXIST, .exist = {PR_SUBJECT}},
		{.type = RES_EXIST, .exist = {PR_BODY}},
	};
	struct mapi_restriction r = {.type = RES_AND, .and_or = {2, kids}};

	assert_false(eval_ok(&r));
	r.type = RES_OR;
	assert_true(eval_ok(&r));
	r.and_or.count = 0;
	assert_false(eval_ok(&r)); /* empty OR */
	r.type = RES_AND;
	assert_true(eval_ok(&r)); /* empty AND */
	struct mapi_restriction n = {.type = RES_NOT, .not_ = {&kids[1]}};
	assert_true(eval_ok(&n));
	/* Comment: its child, or TRUE without one. */
	struct mapi_propval cv = {.tag = PR_DISPLAY_NAME, .v.str = "note"};
	struct mapi_restriction c = {.type = RES_COMMENT, .comment = {1, &cv, &kids[1]}};
	assert_false(eval_ok(&c));
	c.comment.res = NULL;
	assert_true(eval_ok(&c));
	/* Subrestriction over the recipients. */
	struct mapi_restriction rr = content_res(FL_PREFIX, PR_EMAIL_ADDRESS,
		(union mapi_pvalue){.str = "b@"});
	struct mapi_restriction s = {.type = RES_SUBRESTRICTION,
		.sub = {PR_MESSAGE_RECIPIENTS, &rr}};
	assert_true(eval_ok(&s));
	rr.content.prop.v.str = "c@";
	assert_false(eval_ok(&s));
	s.sub.subobject = PR_MESSAGE_ATTACHMENTS;
	assert_false(eval_ok(&s));
	/* Without a sub callback a subrestriction does not match. */
	struct mapi_res_eval e = {.get = get, .ctx = &obj};
	bool m = true;
	rr.content.prop.v.str = "b@";
	s.sub.subobject = PR_MESSAGE_RECIPIENTS;
	assert_int_equal(mapi_restriction_eval(&s, &e, &m), ecSuccess);
	assert_false(m);
	/* Count: at most N objects match within one context. */
	struct mapi_restriction cnt = {.type = RES_COUNT, .count = {2, &kids[0]}};
	struct mapi_res_eval ce = {.get = get, .ctx = &obj, .pool = pool};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(mapi_restriction_eval(&cnt, &ce, &m), ecSuccess);
		assert_int_equal(m, i < 2);
	}
	/* Without a pool it is just its child. */
	struct mapi_res_eval ne = {.get = get, .ctx = &obj};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(mapi_restriction_eval(&cnt, &ne, &m), ecSuccess);
		assert_true(m);
	}
}

static void test_getter_error(void **state)
{
	struct mapi_restriction r = {.type = RES_EXIST, .exist = {PR_SUBJECT}};
	struct object bad = {.fail = true};
	struct mapi_res_eval e = {.get = get, .ctx = &bad};
	bool m = true;

	assert_int_equal(mapi_restriction_eval(&r, &e, &m), ecError);
	assert_false(m);
	assert_int_equal(mapi_restriction_eval(NULL, &e, &m), ecInvalidParam);
}

static struct mapi_restriction *chain(unsigned depth)
{
	struct mapi_restriction *leaf = pool_alloc(pool, sizeof(*leaf));

	leaf->type = RES_EXIST;
	leaf->exist.proptag = PR_SUBJECT;
	for (unsigned i = 1; i < depth; i++) {
		struct mapi_restriction *n = pool_alloc(pool, sizeof(*n));

		n->type = RES_NOT;
		n->not_.res = leaf;
		leaf = n;
	}
	return leaf;
}

static void test_limits(void **state)
{
	struct mapi_res_eval e = {.get = get, .sub = sub, .ctx = &obj};
	bool m;
	const char *err;

	/* Depth exactly at the limit works; one more is too complex. */
	struct mapi_restriction *ok = chain(MAPI_RES_MAX_DEPTH);
	assert_int_equal(mapi_restriction_validate(ok, NULL), ecSuccess);
	assert_int_equal(mapi_restriction_eval(ok, &e, &m), ecSuccess);
	assert_false(m); /* EXIST under 63 NOTs */
	struct mapi_restriction *deep = chain(MAPI_RES_MAX_DEPTH + 1);
	assert_int_equal(mapi_restriction_validate(deep, &err), ecTooComplex);
	assert_non_null(err);
	assert_int_equal(mapi_restriction_eval(deep, &e, &m), ecTooComplex);
	assert_false(m);
	/* Node count. */
	uint32_t n = MAPI_RES_MAX_NODES;
	struct mapi_restriction *kids = pool_calloc(pool, n, sizeof(*kids));
	for (uint32_t i = 0; i < n; i++) {
		kids[i].type = RES_EXIST;
		kids[i].exist.proptag = PR_BODY;
	}
	struct mapi_restriction big = {.type = RES_OR, .and_or = {n, kids}};
	assert_int_equal(mapi_restriction_validate(&big, NULL), ecTooComplex);
	assert_int_equal(mapi_restriction_eval(&big, &e, &m), ecTooComplex);
	big.and_or.count = n - 1;
	assert_int_equal(mapi_restriction_validate(&big, NULL), ecSuccess);
	assert_int_equal(mapi_restriction_eval(&big, &e, &m), ecSuccess);
	assert_false(m);
	/* A per-evaluation budget. */
	e.max_nodes = 10;
	assert_int_equal(mapi_restriction_eval(&big, &e, &m), ecTooComplex);
	/* Subrestrictions share the depth budget. */
	struct mapi_restriction s = {.type = RES_SUBRESTRICTION,
		.sub = {PR_MESSAGE_RECIPIENTS, chain(MAPI_RES_MAX_DEPTH)}};
	e.max_nodes = 0;
	assert_int_equal(mapi_restriction_eval(&s, &e, &m), ecTooComplex);
}

static void test_validate(void **state)
{
	const char *err;
	struct mapi_restriction r;

	r = prop_res(0x07, PR_IMPORTANCE, (union mapi_pvalue){.l = 1});
	assert_int_equal(mapi_restriction_validate(&r, &err), ecInvalidParam);
	r = prop_res(RELOP_MEMBER_OF_DL, PR_IMPORTANCE, (union mapi_pvalue){.l = 1});
	assert_int_equal(mapi_restriction_validate(&r, NULL), ecSuccess);
	/* Value type differs from the property's. */
	r = prop_res(RELOP_EQ, PR_IMPORTANCE, (union mapi_pvalue){.l = 1});
	r.property.prop.tag = PROP_TAG(PT_I8, 0x0017);
	assert_int_equal(mapi_restriction_validate(&r, &err), ecInvalidParam);
	r = prop_res(RELOP_RE, PR_IMPORTANCE, (union mapi_pvalue){.l = 1});
	assert_int_equal(mapi_restriction_validate(&r, NULL), ecInvalidParam);
	r = content_res(FL_SUBSTRING, PR_IMPORTANCE, (union mapi_pvalue){.l = 1});
	assert_int_equal(mapi_restriction_validate(&r, &err), ecInvalidParam);
	r = content_res(0x3, PR_SUBJECT, (union mapi_pvalue){.str = "x"});
	assert_int_equal(mapi_restriction_validate(&r, NULL), ecInvalidParam);
	r = content_res(0x00080000, PR_SUBJECT, (union mapi_pvalue){.str = "x"});
	assert_int_equal(mapi_restriction_validate(&r, NULL), ecInvalidParam);
	r = content_res(FL_SUBSTRING, PR_SUBJECT, (union mapi_pvalue){.str = NULL});
	assert_int_equal(mapi_restriction_validate(&r, NULL), ecInvalidParam);
	r = (struct mapi_restriction){.type = RES_BITMASK,
		.bitmask = {.relop = 2, .proptag = PR_MESSAGE_FLAGS}};
	assert_int_equal(mapi_restriction_validate(&r, NULL), ecInvalidParam);
	r.bitmask.relop = BMR_EQZ;
	r.bitmask.proptag = PR_SUBJECT;
	assert_int_equal(mapi_restriction_validate(&r, NULL), ecInvalidParam);
	r = (struct mapi_restriction){.type = RES_SUBRESTRICTION, .sub = {PR_SUBJECT, NULL}};
	assert_int_equal(mapi_restriction_validate(&r, NULL), ecInvalidParam);
	r = (struct mapi_restriction){.type = RES_COMMENT, .comment = {0, NULL, NULL}};
	assert_int_equal(mapi_restriction_validate(&r, NULL), ecInvalidParam);
	r = (struct mapi_restriction){.type = RES_NOT, .not_ = {NULL}};
	assert_int_equal(mapi_restriction_validate(&r, NULL), ecInvalidParam);
	r = (struct mapi_restriction){.type = (enum mapi_res_type)0x0c};
	assert_int_equal(mapi_restriction_validate(&r, &err), ecInvalidParam);
	assert_string_equal(err, "unknown restriction type");
	r = (struct mapi_restriction){.type = RES_COMPAREPROPS,
		.compare_props = {RELOP_EQ, PR_SUBJECT, PR_IMPORTANCE}};
	assert_int_equal(mapi_restriction_validate(&r, NULL), ecInvalidParam);
	r = (struct mapi_restriction){.type = RES_AND, .and_or = {3, NULL}};
	assert_int_equal(mapi_restriction_validate(&r, NULL), ecInvalidParam);
}

static void test_copy_and_format(void **state)
{
	struct mapi_restriction kids[2] = {
		prop_res(RELOP_EQ, PR_SUBJECT, (union mapi_pvalue){.str = "x"}),
		{.type = RES_BITMASK, .bitmask = {BMR_NEZ, PR_MESSAGE_FLAGS, 1}},
	};
	struct mapi_restriction r = {.type = RES_OR, .and_or = {2, kids}};
	struct mapi_restriction *c = mapi_restriction_copy(pool, &r);
	struct buf b;

	kids[0].property.prop.v.str = "changed";
	buf_init(&b, NULL);
	mapi_restriction_format(c, &b);
	assert_string_equal(buf_cstr(&b),
		"(OR (EQ PR_SUBJECT \"x\") (BITMASK NEZ PR_MESSAGE_FLAGS 0x00000001))");
	buf_deinit(&b);
	assert_null(mapi_restriction_copy(pool, NULL));
}

static void test_sort(void **state)
{
	struct mapi_propvals a = {0}, b = {0};
	struct mapi_sort keys[2] = {{PR_IMPORTANCE, TABLE_SORT_DESCEND},
		{PR_SUBJECT, TABLE_SORT_ASCEND}};
	struct mapi_sort_order so = {.count = 2, .sorts = keys};
	const char *err;

	mapi_propvals_set_long(pool, &a, PR_IMPORTANCE, 1);
	mapi_propvals_set_long(pool, &b, PR_IMPORTANCE, 2);
	mapi_propvals_set_str(pool, &a, PR_SUBJECT, "b");
	mapi_propvals_set_str(pool, &b, PR_SUBJECT, "A");
	assert_true(mapi_sort_compare(&so, get_set, &a, get_set, &b) > 0);
	mapi_propvals_set_long(pool, &a, PR_IMPORTANCE, 2);
	assert_true(mapi_sort_compare(&so, get_set, &a, get_set, &b) > 0); /* "b" > "A" */
	mapi_propvals_set_str(pool, &a, PR_SUBJECT, "a");
	assert_int_equal(mapi_sort_compare(&so, get_set, &a, get_set, &b), 0);
	/* A missing value sorts first (ascending). */
	mapi_propvals_delete(&a, PR_SUBJECT);
	assert_true(mapi_sort_compare(&so, get_set, &a, get_set, &b) < 0);
	assert_int_equal(mapi_sort_order_validate(&so, NULL), ecSuccess);
	so.categories = 3;
	assert_int_equal(mapi_sort_order_validate(&so, &err), ecInvalidParam);
	so.categories = 1;
	so.expanded = 2;
	assert_int_equal(mapi_sort_order_validate(&so, NULL), ecInvalidParam);
	so.expanded = 1;
	keys[1].order = TABLE_SORT_MAXIMUM_CATEGORY;
	assert_int_equal(mapi_sort_order_validate(&so, NULL), ecSuccess);
	so.categories = 0;
	so.expanded = 0;
	assert_int_equal(mapi_sort_order_validate(&so, NULL), ecInvalidParam);
	keys[1].order = 2;
	assert_int_equal(mapi_sort_order_validate(&so, NULL), ecInvalidParam);
	keys[1].order = TABLE_SORT_ASCEND;
	keys[1].proptag = PROP_TAG(PT_MV_UNICODE, 0x8001);
	assert_int_equal(mapi_sort_order_validate(&so, NULL), ecInvalidParam);
	keys[1].proptag = PROP_TAG(PT_MV_UNICODE | MVI_FLAG, 0x8001);
	assert_int_equal(mapi_sort_order_validate(&so, NULL), ecSuccess);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_property),
		cmocka_unit_test(test_property_multivalued),
		cmocka_unit_test(test_content),
		cmocka_unit_test(test_bitmask_size_exist_compare),
		cmocka_unit_test(test_logic_comment_count_sub),
		cmocka_unit_test(test_getter_error),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_copy_and_format),
		cmocka_unit_test(test_sort),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
