/* Restrictions and sort orders: copy, validation, evaluation, formatting
 * (mapi/restriction.h). [MS-OXCDATA] 2.12, 2.13; [MS-OXCTABL] for the
 * table semantics. */
#include <glib.h>
#include <string.h>

#include "core/xalloc.h"
#include "mapi/propval.h"
#include "mapi/proptags.h"
#include "mapi/restriction.h"
#include "mapi/tags.h"

/* Longest RELOP_RE pattern we compile: regcomp/regexec cost grows with it. */
#define MAPI_RES_MAX_REGEX 1024

struct mapi_restriction *mapi_restriction_copy(pool_t *pool, const struct mapi_restriction *res)
{
	if (res == NULL)
		return NULL;
	struct mapi_restriction *r = pool_alloc(pool, sizeof(*r));

	*r = *res;
	switch (res->type) {
	case RES_AND:
	case RES_OR:
		r->and_or.res = res->and_or.count > 0
			? pool_calloc(pool, res->and_or.count, sizeof(*r->and_or.res)) : NULL;
		for (uint32_t i = 0; i < res->and_or.count; i++) {
			struct mapi_restriction *c = mapi_restriction_copy(pool, &res->and_or.res[i]);

			r->and_or.res[i] = *c;
		}
		break;
	case RES_NOT:
		r->not_.res = mapi_restriction_copy(pool, res->not_.res);
		break;
	case RES_CONTENT:
		(void)mapi_propval_copy(pool, &r->content.prop, &res->content.prop);
		break;
	case RES_PROPERTY:
		(void)mapi_propval_copy(pool, &r->property.prop, &res->property.prop);
		break;
	case RES_SUBRESTRICTION:
		r->sub.res = mapi_restriction_copy(pool, res->sub.res);
		break;
	case RES_COMMENT:
		r->comment.props = res->comment.count > 0
			? pool_calloc(pool, res->comment.count, sizeof(*r->comment.props)) : NULL;
		for (unsigned i = 0; i < res->comment.count; i++)
			(void)mapi_propval_copy(pool, &r->comment.props[i], &res->comment.props[i]);
		r->comment.res = mapi_restriction_copy(pool, res->comment.res);
		break;
	case RES_COUNT:
		r->count.res = mapi_restriction_copy(pool, res->count.res);
		break;
	default:
		break;
	}
	return r;
}

/* --- validation --- */

static bool relop_valid(uint32_t relop)
{
	return relop <= RELOP_RE || relop == RELOP_MEMBER_OF_DL;
}

static bool content_type_ok(uint16_t type)
{
	type &= (uint16_t)~(PT_MV_FLAG | PT_MV_INSTANCE);
	return type == PT_STRING8 || type == PT_UNICODE || type == PT_BINARY;
}

/* Base type without the MV and instance flags; strings unified. */
static uint16_t type_key(uint16_t type)
{
	type &= (uint16_t)~PT_MV_INSTANCE;
	if (mapi_ptype_is_string(type))
		return (uint16_t)((type & PT_MV_FLAG) | PT_UNICODE);
	return type;
}

/* Types a property restriction value may have: fixed, string, binary, GUID
 * and their multi-valued forms. */
static bool value_type_ok(uint16_t type)
{
	switch (type & (uint16_t)~(PT_MV_FLAG | PT_MV_INSTANCE)) {
	case PT_SHORT: case PT_LONG: case PT_FLOAT: case PT_DOUBLE: case PT_CURRENCY:
	case PT_APPTIME: case PT_ERROR: case PT_BOOLEAN: case PT_I8: case PT_STRING8:
	case PT_UNICODE: case PT_SYSTIME: case PT_CLSID: case PT_BINARY:
		break;
	case PT_SVREID:
		return (type & PT_MV_FLAG) == 0;
	default:
		return false;
	}
	if ((type & PT_MV_FLAG) != 0) {
		uint16_t base = type & (uint16_t)~(PT_MV_FLAG | PT_MV_INSTANCE);

		return base != PT_ERROR && base != PT_BOOLEAN;
	}
	return true;
}

struct validate_state {
	uint32_t nodes;
	const char *error;
};

static uint32_t validate(const struct mapi_restriction *r, unsigned depth,
	struct validate_state *st)
{
	uint32_t ec;

	if (r == NULL) {
		st->error = "missing restriction";
		return ecInvalidParam;
	}
	if (depth > MAPI_RES_MAX_DEPTH) {
		st->error = "restriction nested too deeply";
		return ecTooComplex;
	}
	if (++st->nodes > MAPI_RES_MAX_NODES) {
		st->error = "restriction has too many nodes";
		return ecTooComplex;
	}
	switch (r->type) {
	case RES_AND:
	case RES_OR:
		if (r->and_or.count > 0 && r->and_or.res == NULL) {
			st->error = "AND/OR without children";
			return ecInvalidParam;
		}
		for (uint32_t i = 0; i < r->and_or.count; i++)
			if ((ec = validate(&r->and_or.res[i], depth + 1, st)) != ecSuccess)
				return ec;
		return ecSuccess;
	case RES_NOT:
		return validate(r->not_.res, depth + 1, st);
	case RES_CONTENT: {
		uint32_t low = r->content.fuzzy_level & 0xffff;
		uint32_t high = r->content.fuzzy_level >> 16;
		uint16_t vt = PROP_TYPE(r->content.prop.tag);

		if (low > FL_PREFIX || (high & ~0x7u) != 0) {
			st->error = "bad FuzzyLevel";
			return ecInvalidParam;
		}
		if (!content_type_ok(PROP_TYPE(r->content.proptag)) || !content_type_ok(vt) ||
			mapi_ptype_is_mv(vt)) {
			st->error = "content restriction needs a string or binary";
			return ecInvalidParam;
		}
		if (type_key(vt) != (type_key(PROP_TYPE(r->content.proptag)) & ~PT_MV_FLAG)) {
			st->error = "content restriction value type differs from the property's";
			return ecInvalidParam;
		}
		if (mapi_ptype_is_string(vt) && r->content.prop.v.str == NULL) {
			st->error = "content restriction without a value";
			return ecInvalidParam;
		}
		return ecSuccess;
	}
	case RES_PROPERTY: {
		uint16_t pt = PROP_TYPE(r->property.proptag), vt = PROP_TYPE(r->property.prop.tag);

		if (!relop_valid(r->property.relop)) {
			st->error = "bad relational operator";
			return ecInvalidParam;
		}
		if (!value_type_ok(vt)) {
			st->error = "property restriction value of an unsupported type";
			return ecInvalidParam;
		}
		if (pt != PT_UNSPECIFIED && type_key(vt) != type_key(pt) &&
			!(mapi_ptype_is_mv(pt) && type_key(vt) == (type_key(pt) & ~PT_MV_FLAG))) {
			st->error = "property restriction value type differs from the property's";
			return ecInvalidParam;
		}
		if (mapi_ptype_is_string(vt) && !mapi_ptype_is_mv(vt) &&
			r->property.prop.v.str == NULL) {
			st->error = "property restriction without a value";
			return ecInvalidParam;
		}
		if (r->property.relop == RELOP_RE && !mapi_ptype_is_string(vt)) {
			st->error = "RELOP_RE needs a string value";
			return ecInvalidParam;
		}
		return ecSuccess;
	}
	case RES_COMPAREPROPS:
		if (!relop_valid(r->compare_props.relop) ||
			r->compare_props.relop == RELOP_RE ||
			r->compare_props.relop == RELOP_MEMBER_OF_DL) {
			st->error = "bad relational operator";
			return ecInvalidParam;
		}
		if (type_key(PROP_TYPE(r->compare_props.proptag1)) !=
			type_key(PROP_TYPE(r->compare_props.proptag2))) {
			st->error = "compared properties have different types";
			return ecInvalidParam;
		}
		return ecSuccess;
	case RES_BITMASK:
		if (r->bitmask.relop != BMR_EQZ && r->bitmask.relop != BMR_NEZ) {
			st->error = "bad bitmask operator";
			return ecInvalidParam;
		}
		if (PROP_TYPE(r->bitmask.proptag) != PT_LONG) {
			st->error = "bitmask restriction needs a PT_LONG property";
			return ecInvalidParam;
		}
		return ecSuccess;
	case RES_SIZE:
		if (!relop_valid(r->size.relop) || r->size.relop == RELOP_RE ||
			r->size.relop == RELOP_MEMBER_OF_DL) {
			st->error = "bad relational operator";
			return ecInvalidParam;
		}
		return ecSuccess;
	case RES_EXIST:
		return ecSuccess;
	case RES_SUBRESTRICTION:
		if (r->sub.subobject != PR_MESSAGE_RECIPIENTS &&
			r->sub.subobject != PR_MESSAGE_ATTACHMENTS) {
			st->error = "subrestriction on something other than recipients/attachments";
			return ecInvalidParam;
		}
		return validate(r->sub.res, depth + 1, st);
	case RES_COMMENT:
		if (r->comment.count == 0 || r->comment.props == NULL) {
			st->error = "comment restriction without values";
			return ecInvalidParam;
		}
		return r->comment.res != NULL ? validate(r->comment.res, depth + 1, st) : ecSuccess;
	case RES_COUNT:
		return validate(r->count.res, depth + 1, st);
	default:
		st->error = "unknown restriction type";
		return ecInvalidParam;
	}
}

uint32_t mapi_restriction_validate(const struct mapi_restriction *res, const char **error_r)
{
	struct validate_state st = {0};
	uint32_t ec = validate(res, 1, &st);

	if (error_r != NULL)
		*error_r = ec == ecSuccess ? NULL : st.error;
	return ec;
}

/* --- evaluation --- */

static bool relop_result(uint32_t relop, int cmp)
{
	switch (relop) {
	case RELOP_LT: return cmp < 0;
	case RELOP_LE: return cmp <= 0;
	case RELOP_GT: return cmp > 0;
	case RELOP_GE: return cmp >= 0;
	case RELOP_EQ: return cmp == 0;
	case RELOP_NE: return cmp != 0;
	default: return false;
	}
}

static void fold_ascii(struct buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] >= 'A' && b->data[i] <= 'Z')
			b->data[i] += 32;
}

/* Content match of one string or binary value against the pattern. */
static bool content_match_one(uint16_t base, const union mapi_pvalue *v,
	const union mapi_pvalue *pat, uint32_t fuzzy)
{
	struct buf hay, needle;
	bool icase = (fuzzy >> 16) != 0; /* IGNORECASE, IGNORENONSPACE, LOOSE */
	bool ok = false;

	buf_init(&hay, NULL);
	buf_init(&needle, NULL);
	if (base == PT_BINARY) {
		buf_append(&hay, v->bin.pb, v->bin.cb);
		buf_append(&needle, pat->bin.pb, pat->bin.cb);
		if (icase) {
			fold_ascii(&hay);
			fold_ascii(&needle);
		}
	} else {
		const char *hs = v->str != NULL ? v->str : "";
		const char *ns = pat->str != NULL ? pat->str : "";

		if (icase) {
			mapi_utf8_fold(hs, strlen(hs), &hay);
			mapi_utf8_fold(ns, strlen(ns), &needle);
		} else {
			buf_append_str(&hay, hs);
			buf_append_str(&needle, ns);
		}
	}
	switch (fuzzy & 0xffff) {
	case FL_FULLSTRING:
		ok = hay.len == needle.len && memcmp(hay.data, needle.data, hay.len) == 0;
		break;
	case FL_PREFIX:
		ok = hay.len >= needle.len && memcmp(hay.data, needle.data, needle.len) == 0;
		break;
	case FL_SUBSTRING:
		ok = slice_find(buf_slice(&hay), buf_slice(&needle)) >= 0;
		break;
	default:
		break;
	}
	buf_deinit(&hay);
	buf_deinit(&needle);
	return ok;
}

/* GLib's PCRE-based regex: UTF-8 aware (a "." is one character, not one
 * byte) and bounded by PCRE's match limit. Invalid patterns and subjects
 * that are not valid UTF-8 do not match. */
static bool regex_match_one(const char *pattern, const char *s)
{
	GRegex *re;
	bool ok;

	if (pattern == NULL || strlen(pattern) > MAPI_RES_MAX_REGEX)
		return false;
	if (s == NULL)
		s = "";
	if (!g_utf8_validate(pattern, -1, NULL) || !g_utf8_validate(s, -1, NULL))
		return false;
	re = g_regex_new(pattern, G_REGEX_CASELESS, 0, NULL);
	if (re == NULL)
		return false;
	ok = g_regex_match(re, s, 0, NULL);
	g_regex_unref(re);
	return ok;
}

/* One comparison of a property value against a restriction value of the
 * same (unified) base type. */
static bool compare_one(uint32_t relop, uint16_t base, const union mapi_pvalue *pv,
	const union mapi_pvalue *rv, struct mapi_res_eval *e, const struct mapi_propval *dl)
{
	if (relop == RELOP_RE)
		return mapi_ptype_is_string(base) && regex_match_one(rv->str, pv->str);
	if (relop == RELOP_MEMBER_OF_DL) {
		struct mapi_propval tmp = {.tag = PROP_TAG(base, 0), .v = *pv};

		return e->member_of_dl != NULL && e->member_of_dl(e->ctx, &tmp, dl);
	}
	/* String comparisons in restrictions ignore case, as in table sorts. */
	return relop_result(relop, mapi_pvalue_compare(base, pv, rv, MAPI_CMP_IGNORECASE));
}

static uint32_t get_prop(struct mapi_res_eval *e, uint32_t tag, const struct mapi_propval **pv_r)
{
	int r = e->get(e->ctx, tag, pv_r);

	if (r < 0)
		return ecError;
	if (r == 0)
		*pv_r = NULL;
	return ecSuccess;
}

static uint32_t eval(const struct mapi_restriction *r, struct mapi_res_eval *e, bool *m);

static uint32_t eval_child(const struct mapi_restriction *r, struct mapi_res_eval *e, bool *m)
{
	uint32_t ec;

	if (r == NULL)
		return ecInvalidParam;
	e->depth++;
	ec = eval(r, e, m);
	e->depth--;
	return ec;
}

static uint32_t eval_property(const struct mapi_restriction *r, struct mapi_res_eval *e,
	bool *m)
{
	const struct mapi_propval *pv;
	const struct mapi_propval *rv = &r->property.prop;
	uint32_t ec = get_prop(e, r->property.proptag, &pv);
	uint16_t rt = type_key(PROP_TYPE(rv->tag));

	*m = false;
	if (ec != ecSuccess || pv == NULL)
		return ec;
	uint16_t pt = type_key(PROP_TYPE(pv->tag));

	if (pt == rt) {
		*m = compare_one(r->property.relop, pt, &pv->v, &rv->v, e, rv);
		return ecSuccess;
	}
	/* Multi-valued property, single value: any element may match. */
	if (mapi_ptype_is_mv(pt) && (pt & ~PT_MV_FLAG) == rt) {
		for (uint32_t i = 0; i < pv->v.mv.count && !*m; i++) {
			union mapi_pvalue el = mapi_mv_element(pt, &pv->v.mv, i);

			*m = compare_one(r->property.relop, rt, &el, &rv->v, e, rv);
		}
	}
	return ecSuccess;
}

static uint32_t eval_content(const struct mapi_restriction *r, struct mapi_res_eval *e, bool *m)
{
	const struct mapi_propval *pv;
	uint32_t ec = get_prop(e, r->content.proptag, &pv);
	uint16_t rt = type_key(PROP_TYPE(r->content.prop.tag));

	*m = false;
	if (ec != ecSuccess || pv == NULL)
		return ec;
	uint16_t pt = type_key(PROP_TYPE(pv->tag));

	if ((pt & ~PT_MV_FLAG) != rt || !content_type_ok(rt))
		return ecSuccess;
	if (!mapi_ptype_is_mv(pt)) {
		*m = content_match_one(rt, &pv->v, &r->content.prop.v, r->content.fuzzy_level);
		return ecSuccess;
	}
	for (uint32_t i = 0; i < pv->v.mv.count && !*m; i++) {
		union mapi_pvalue el = mapi_mv_element(pt, &pv->v.mv, i);

		*m = content_match_one(rt, &el, &r->content.prop.v, r->content.fuzzy_level);
	}
	return ecSuccess;
}

static struct mapi_res_tally *tally_for(struct mapi_res_eval *e, const struct mapi_restriction *r)
{
	for (uint32_t i = 0; i < e->n_tallies; i++)
		if (e->tallies[i].node == r)
			return &e->tallies[i];
	if (e->pool == NULL)
		return NULL;
	if (e->n_tallies == e->cap_tallies) {
		uint32_t ncap = e->cap_tallies < 4 ? 4 : e->cap_tallies * 2;

		e->tallies = pool_realloc(e->pool, e->tallies, xmul(e->cap_tallies, sizeof(*e->tallies)),
			xmul(ncap, sizeof(*e->tallies)));
		e->cap_tallies = ncap;
	}
	struct mapi_res_tally *t = &e->tallies[e->n_tallies++];

	t->node = r;
	t->matched = 0;
	return t;
}

static uint32_t eval(const struct mapi_restriction *r, struct mapi_res_eval *e, bool *m)
{
	uint32_t limit = e->max_nodes != 0 ? e->max_nodes : MAPI_RES_MAX_NODES;
	const struct mapi_propval *p1, *p2;
	uint32_t ec;

	*m = false;
	if (e->depth >= MAPI_RES_MAX_DEPTH || ++e->nodes_used > limit)
		return ecTooComplex;
	switch (r->type) {
	case RES_AND:
		*m = true;
		for (uint32_t i = 0; i < r->and_or.count; i++) {
			bool c;

			if ((ec = eval_child(&r->and_or.res[i], e, &c)) != ecSuccess)
				return ec;
			if (!c) {
				*m = false;
				break;
			}
		}
		return ecSuccess;
	case RES_OR:
		for (uint32_t i = 0; i < r->and_or.count; i++) {
			bool c;

			if ((ec = eval_child(&r->and_or.res[i], e, &c)) != ecSuccess)
				return ec;
			if (c) {
				*m = true;
				break;
			}
		}
		return ecSuccess;
	case RES_NOT:
		if ((ec = eval_child(r->not_.res, e, m)) != ecSuccess)
			return ec;
		*m = !*m;
		return ecSuccess;
	case RES_CONTENT:
		return eval_content(r, e, m);
	case RES_PROPERTY:
		return eval_property(r, e, m);
	case RES_COMPAREPROPS: {
		if ((ec = get_prop(e, r->compare_props.proptag1, &p1)) != ecSuccess ||
			(ec = get_prop(e, r->compare_props.proptag2, &p2)) != ecSuccess)
			return ec;
		if (p1 == NULL || p2 == NULL)
			return ecSuccess;
		uint16_t t1 = type_key(PROP_TYPE(p1->tag)), t2 = type_key(PROP_TYPE(p2->tag));

		if (t1 != t2)
			return ecSuccess;
		*m = relop_result(r->compare_props.relop,
			mapi_pvalue_compare(t1, &p1->v, &p2->v, MAPI_CMP_IGNORECASE));
		return ecSuccess;
	}
	case RES_BITMASK:
		if ((ec = get_prop(e, r->bitmask.proptag, &p1)) != ecSuccess)
			return ec;
		if (p1 == NULL || PROP_TYPE(p1->tag) != PT_LONG)
			return ecSuccess;
		if (r->bitmask.relop == BMR_EQZ)
			*m = ((uint32_t)p1->v.l & r->bitmask.mask) == 0;
		else if (r->bitmask.relop == BMR_NEZ)
			*m = ((uint32_t)p1->v.l & r->bitmask.mask) != 0;
		else
			return ecInvalidParam;
		return ecSuccess;
	case RES_SIZE: {
		if ((ec = get_prop(e, r->size.proptag, &p1)) != ecSuccess)
			return ec;
		if (p1 == NULL)
			return ecSuccess;
		uint32_t sz = mapi_pvalue_size(PROP_TYPE(p1->tag), &p1->v);

		*m = relop_result(r->size.relop, sz < r->size.size ? -1 : sz > r->size.size ? 1 : 0);
		return ecSuccess;
	}
	case RES_EXIST:
		if ((ec = get_prop(e, r->exist.proptag, &p1)) != ecSuccess)
			return ec;
		*m = p1 != NULL;
		return ecSuccess;
	case RES_SUBRESTRICTION:
		if (r->sub.res == NULL)
			return ecInvalidParam;
		if (e->sub == NULL)
			return ecSuccess;
		e->depth++;
		ec = e->sub(e->ctx, r->sub.subobject, r->sub.res, e, m);
		e->depth--;
		return ec;
	case RES_COMMENT:
		if (r->comment.res == NULL) {
			*m = true;
			return ecSuccess;
		}
		return eval_child(r->comment.res, e, m);
	case RES_COUNT: {
		if ((ec = eval_child(r->count.res, e, m)) != ecSuccess || !*m)
			return ec;
		struct mapi_res_tally *t = tally_for(e, r);

		if (t != NULL) {
			if (t->matched >= r->count.count)
				*m = false;
			else
				t->matched++;
		}
		return ecSuccess;
	}
	default:
		return ecInvalidParam;
	}
}

uint32_t mapi_restriction_eval(const struct mapi_restriction *res, struct mapi_res_eval *e,
	bool *match_r)
{
	unsigned saved_depth = e->depth;
	uint32_t saved_nodes = e->nodes_used;
	uint32_t ec;

	*match_r = false;
	if (res == NULL || e->get == NULL)
		return ecInvalidParam;
	/* A nested call (a subrestriction's rows) continues the caller's depth
	 * and node count, so a chain of subrestrictions stays bounded. */
	if (e->depth == 0)
		e->nodes_used = 0;
	ec = eval(res, e, match_r);
	e->depth = saved_depth;
	if (saved_depth == 0)
		e->nodes_used = saved_nodes;
	if (ec != ecSuccess)
		*match_r = false;
	return ec;
}

/* --- formatting --- */

static const char *relop_name(uint32_t relop)
{
	static const char *const names[] = {"LT", "LE", "GT", "GE", "EQ", "NE", "RE"};

	if (relop <= RELOP_RE)
		return names[relop];
	if (relop == RELOP_MEMBER_OF_DL)
		return "MEMBER_OF_DL";
	return "?";
}

static void format_tag(uint32_t tag, struct buf *out)
{
	const char *n = mapi_tag_name(tag);

	if (n != NULL)
		buf_append_str(out, n);
	else
		buf_printf(out, "0x%08x", tag);
}

static void format(const struct mapi_restriction *r, unsigned depth, struct buf *out)
{
	if (r == NULL) {
		buf_append_str(out, "()");
		return;
	}
	if (depth > MAPI_RES_MAX_DEPTH) {
		buf_append_str(out, "(...)");
		return;
	}
	switch (r->type) {
	case RES_AND:
	case RES_OR:
		buf_append_str(out, r->type == RES_AND ? "(AND" : "(OR");
		for (uint32_t i = 0; i < r->and_or.count; i++) {
			buf_append_byte(out, ' ');
			format(&r->and_or.res[i], depth + 1, out);
		}
		buf_append_byte(out, ')');
		return;
	case RES_NOT:
		buf_append_str(out, "(NOT ");
		format(r->not_.res, depth + 1, out);
		buf_append_byte(out, ')');
		return;
	case RES_CONTENT:
		buf_printf(out, "(CONTENT 0x%08x ", r->content.fuzzy_level);
		format_tag(r->content.proptag, out);
		buf_append_byte(out, ' ');
		mapi_pvalue_format(PROP_TYPE(r->content.prop.tag), &r->content.prop.v, 32, out);
		buf_append_byte(out, ')');
		return;
	case RES_PROPERTY:
		buf_printf(out, "(%s ", relop_name(r->property.relop));
		format_tag(r->property.proptag, out);
		buf_append_byte(out, ' ');
		mapi_pvalue_format(PROP_TYPE(r->property.prop.tag), &r->property.prop.v, 32, out);
		buf_append_byte(out, ')');
		return;
	case RES_COMPAREPROPS:
		buf_printf(out, "(COMPARE %s ", relop_name(r->compare_props.relop));
		format_tag(r->compare_props.proptag1, out);
		buf_append_byte(out, ' ');
		format_tag(r->compare_props.proptag2, out);
		buf_append_byte(out, ')');
		return;
	case RES_BITMASK:
		buf_append_str(out, r->bitmask.relop == BMR_EQZ ? "(BITMASK EQZ " : "(BITMASK NEZ ");
		format_tag(r->bitmask.proptag, out);
		buf_printf(out, " 0x%08x)", r->bitmask.mask);
		return;
	case RES_SIZE:
		buf_printf(out, "(SIZE %s ", relop_name(r->size.relop));
		format_tag(r->size.proptag, out);
		buf_printf(out, " %u)", r->size.size);
		return;
	case RES_EXIST:
		buf_append_str(out, "(EXIST ");
		format_tag(r->exist.proptag, out);
		buf_append_byte(out, ')');
		return;
	case RES_SUBRESTRICTION:
		buf_append_str(out, "(SUB ");
		format_tag(r->sub.subobject, out);
		buf_append_byte(out, ' ');
		format(r->sub.res, depth + 1, out);
		buf_append_byte(out, ')');
		return;
	case RES_COMMENT:
		buf_printf(out, "(COMMENT %u", r->comment.count);
		if (r->comment.res != NULL) {
			buf_append_byte(out, ' ');
			format(r->comment.res, depth + 1, out);
		}
		buf_append_byte(out, ')');
		return;
	case RES_COUNT:
		buf_printf(out, "(COUNT %u ", r->count.count);
		format(r->count.res, depth + 1, out);
		buf_append_byte(out, ')');
		return;
	default:
		buf_printf(out, "(UNKNOWN 0x%02x)", (unsigned)r->type);
		return;
	}
}

void mapi_restriction_format(const struct mapi_restriction *res, struct buf *out)
{
	format(res, 1, out);
}

/* --- sort orders --- */

int mapi_sort_compare(const struct mapi_sort_order *so, mapi_res_getter_fn *get_a, void *ctx_a,
	mapi_res_getter_fn *get_b, void *ctx_b)
{
	for (uint16_t i = 0; i < so->count; i++) {
		const struct mapi_sort *s = &so->sorts[i];
		const struct mapi_propval *a = NULL, *b = NULL;
		int r;

		if (get_a(ctx_a, s->proptag, &a) <= 0)
			a = NULL;
		if (get_b(ctx_b, s->proptag, &b) <= 0)
			b = NULL;
		if (a == NULL || b == NULL) {
			r = (a == NULL) == (b == NULL) ? 0 : a == NULL ? -1 : 1;
		} else {
			uint16_t ta = type_key(PROP_TYPE(a->tag)), tb = type_key(PROP_TYPE(b->tag));

			r = ta != tb ? (ta < tb ? -1 : 1)
				     : mapi_pvalue_compare(ta, &a->v, &b->v, MAPI_CMP_IGNORECASE);
		}
		if (r != 0)
			return s->order == TABLE_SORT_DESCEND ? -r : r;
	}
	return 0;
}

uint32_t mapi_sort_order_validate(const struct mapi_sort_order *so, const char **error_r)
{
	const char *err = NULL;

	if (so->categories > so->count)
		err = "more categories than sort keys";
	else if (so->expanded > so->categories)
		err = "more expanded categories than categories";
	else if (so->count > 0 && so->sorts == NULL)
		err = "sort keys missing";
	for (uint16_t i = 0; err == NULL && i < so->count; i++) {
		const struct mapi_sort *s = &so->sorts[i];
		uint16_t type = PROP_TYPE(s->proptag);

		if (s->order == TABLE_SORT_MAXIMUM_CATEGORY) {
			/* Aggregates a category's rows: meaningless without one. */
			if (so->categories == 0)
				err = "MaximumCategory without categories";
		} else if (s->order != TABLE_SORT_ASCEND && s->order != TABLE_SORT_DESCEND) {
			err = "bad sort order";
		}
		if (err == NULL && mapi_ptype_is_mv(type) && (type & PT_MV_INSTANCE) == 0)
			err = "multi-valued sort key without MVI_FLAG";
	}
	if (error_r != NULL)
		*error_r = err;
	return err == NULL ? ecSuccess : ecInvalidParam;
}
