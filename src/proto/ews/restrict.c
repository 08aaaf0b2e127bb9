/* Restriction and SortOrder (MS-OXWSSRCH 2.2.4 search expressions over
 * MS-OXWSCDATA paths) -> MAPI restrictions and sort orders (MS-OXCDATA
 * 2.12, 2.13), which the store evaluates in SQL where it can. The
 * translation is bounded (depth and node count as mapi/restriction.h)
 * and every restriction it returns passes mapi_restriction_validate (the
 * fuzz target checks that). */
#include <string.h>

#include "core/base64.h"
#include "core/str.h"
#include "mapi/restriction.h"
#include "mapi/tags.h"
#include "proto/ews/items.h"

#define EWS_SORT_MAX_KEYS 8

struct rparse {
	pool_t *pool;
	ews_path_resolve_fn *resolve;
	void *ctx;
	uint32_t nodes;
};

static const char *const importance_names[] = {"Low", "Normal", "High"};
static const char *const sensitivity_names[] = {"Normal", "Personal", "Private", "Confidential"};

static int enum_value(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* A constant's text as a value of the property's type. NULL or the
 * ResponseCode. */
static const char *constant_value(struct rparse *p, const struct ews_path_target *t,
	const char *text, struct mapi_propval *pv)
{
	uint16_t type = PROP_TYPE(t->tag);
	uint16_t base = type & (uint16_t)~PT_MV_FLAG;
	pv->tag = PROP_TAG(base, PROP_ID(t->tag));
	int64_t i;
	bool b;
	switch (t->kind) {
	case EWS_FK_IMPORTANCE:
		i = enum_value(importance_names, 3, text);
		if (i < 0)
			return "ErrorInvalidValueForProperty";
		pv->v.l = (int32_t)i;
		return NULL;
	case EWS_FK_SENSITIVITY:
		i = enum_value(sensitivity_names, 4, text);
		if (i < 0)
			return "ErrorInvalidValueForProperty";
		pv->v.l = (int32_t)i;
		return NULL;
	default:
		break;
	}
	switch (base) {
	case PT_STRING8:
	case PT_UNICODE:
		pv->v.str = pool_strdup(p->pool, text);
		return NULL;
	case PT_BOOLEAN:
		if (ews_parse_bool(text, &b) < 0)
			return "ErrorInvalidValueForProperty";
		pv->v.b = b;
		return NULL;
	case PT_SHORT:
	case PT_LONG:
	case PT_I8:
	case PT_CURRENCY:
		if (str_to_i64(text, &i) < 0)
			return "ErrorInvalidValueForProperty";
		if (base == PT_SHORT && (i < INT16_MIN || i > INT16_MAX))
			return "ErrorInvalidValueForProperty";
		if (base == PT_LONG && (i < INT32_MIN || i > INT32_MAX))
			return "ErrorInvalidValueForProperty";
		if (base == PT_SHORT)
			pv->v.i = (int16_t)i;
		else if (base == PT_LONG)
			pv->v.l = (int32_t)i;
		else if (base == PT_I8)
			pv->v.li = i;
		else
			pv->v.cur = i;
		return NULL;
	case PT_SYSTIME:
		if (ews_parse_time(text, &pv->v.ft) < 0)
			return "ErrorInvalidValueForProperty";
		return NULL;
	case PT_BINARY: {
		struct buf bb;
		buf_init(&bb, p->pool);
		if (base64_decode(text, strlen(text), &bb) < 0 || bb.len > UINT32_MAX)
			return "ErrorInvalidValueForProperty";
		pv->v.bin = (struct mapi_binary){(uint32_t)bb.len, bb.data};
		return NULL;
	}
	default:
		return "ErrorUnsupportedPathForQuery";
	}
}

static bool is_path(const xmlNode *n)
{
	return http_xml_is(n, NS_T, "FieldURI") || http_xml_is(n, NS_T, "ExtendedFieldURI") ||
		http_xml_is(n, NS_T, "IndexedFieldURI");
}

static const char *resolve_path(struct rparse *p, const xmlNode *path, struct ews_path_target *t)
{
	if (path == NULL || !is_path(path))
		return "ErrorInvalidRestriction";
	memset(t, 0, sizeof(*t));
	const char *err = p->resolve(p->ctx, path, t);
	if (err == NULL && t->tag == 0)
		return "ErrorUnsupportedPathForQuery";
	return err;
}

static const char *parse_expr(struct rparse *p, const xmlNode *n, unsigned depth,
	struct mapi_restriction *res);

static const char *parse_compare(struct rparse *p, const xmlNode *n, enum mapi_relop relop,
	struct mapi_restriction *res)
{
	const xmlNode *path = http_xml_first_elem(n);
	struct ews_path_target t;
	const char *err = resolve_path(p, path, &t);
	if (err != NULL)
		return err;
	const xmlNode *foc = http_xml_next_elem(path);
	if (foc == NULL || !http_xml_is(foc, NS_T, "FieldURIOrConstant"))
		return "ErrorInvalidRestriction";
	const xmlNode *what = http_xml_first_elem(foc);
	if (what == NULL)
		return "ErrorInvalidRestriction";
	if (is_path(what)) {
		struct ews_path_target t2;
		err = resolve_path(p, what, &t2);
		if (err != NULL)
			return err;
		if (t.kind == EWS_FK_MSGFLAG || t2.kind == EWS_FK_MSGFLAG ||
			PROP_TYPE(t.tag) != PROP_TYPE(t2.tag))
			return "ErrorUnsupportedPathForQuery";
		res->type = RES_COMPAREPROPS;
		res->compare_props.relop = relop;
		res->compare_props.proptag1 = t.tag;
		res->compare_props.proptag2 = t2.tag;
		return NULL;
	}
	if (!http_xml_is(what, NS_T, "Constant"))
		return "ErrorInvalidRestriction";
	char *text = http_xml_attr(p->pool, what, "Value");
	if (text == NULL)
		return "ErrorInvalidRestriction";
	if (t.kind == EWS_FK_MSGFLAG) {
		/* IsRead and the other flag fields are bits of
		 * PR_MESSAGE_FLAGS: equality is a bitmask test. */
		bool b;
		if (ews_parse_bool(text, &b) < 0)
			return "ErrorInvalidValueForProperty";
		if (relop != RELOP_EQ && relop != RELOP_NE)
			return "ErrorUnsupportedPathForQuery";
		res->type = RES_BITMASK;
		res->bitmask.proptag = t.tag;
		res->bitmask.mask = t.aux;
		res->bitmask.relop = (b == (relop == RELOP_EQ)) ? BMR_NEZ : BMR_EQZ;
		return NULL;
	}
	res->type = RES_PROPERTY;
	res->property.relop = relop;
	res->property.proptag = t.tag;
	return constant_value(p, &t, text, &res->property.prop);
}

/* MS-OXWSSRCH ContainmentMode / ContainmentComparison -> FuzzyLevel. */
static const char *parse_contains(struct rparse *p, const xmlNode *n, struct mapi_restriction *res)
{
	const xmlNode *path = http_xml_first_elem(n);
	struct ews_path_target t;
	const char *err = resolve_path(p, path, &t);
	if (err != NULL)
		return err;
	uint16_t base = PROP_TYPE(t.tag) & (uint16_t)~PT_MV_FLAG;
	if (!mapi_ptype_is_string(base) && base != PT_BINARY)
		return "ErrorUnsupportedPathForQuery";
	const xmlNode *c = http_xml_next_elem(path);
	char *text = c != NULL && http_xml_is(c, NS_T, "Constant") ?
		http_xml_attr(p->pool, c, "Value") :
		NULL;
	if (text == NULL)
		return "ErrorInvalidRestriction";
	char *mode = http_xml_attr(p->pool, n, "ContainmentMode");
	char *cmp = http_xml_attr(p->pool, n, "ContainmentComparison");
	uint32_t fl = FL_FULLSTRING;
	if (mode == NULL || strcmp(mode, "FullString") == 0 || strcmp(mode, "ExactPhrase") == 0)
		fl = FL_FULLSTRING;
	else if (strcmp(mode, "Prefixed") == 0 || strcmp(mode, "PrefixOnWords") == 0)
		fl = FL_PREFIX;
	else if (strcmp(mode, "Substring") == 0)
		fl = FL_SUBSTRING;
	else
		return "ErrorInvalidRestriction";
	if (cmp == NULL || strcmp(cmp, "Exact") == 0)
		;
	else if (strcmp(cmp, "IgnoreCase") == 0)
		fl |= FL_IGNORECASE;
	else if (strcmp(cmp, "IgnoreNonSpacingCharacters") == 0)
		fl |= FL_IGNORENONSPACE;
	else if (strcmp(cmp, "Loose") == 0)
		fl |= FL_LOOSE;
	else if (strcmp(cmp, "IgnoreCaseAndNonSpacingCharacters") == 0)
		fl |= FL_IGNORECASE | FL_IGNORENONSPACE;
	else if (strcmp(cmp, "LooseAndIgnoreCase") == 0)
		fl |= FL_LOOSE | FL_IGNORECASE;
	else if (strcmp(cmp, "LooseAndIgnoreNonSpace") == 0)
		fl |= FL_LOOSE | FL_IGNORENONSPACE;
	else if (strcmp(cmp, "LooseAndIgnoreCaseAndIgnoreNonSpace") == 0)
		fl |= FL_LOOSE | FL_IGNORECASE | FL_IGNORENONSPACE;
	else
		return "ErrorInvalidRestriction";
	res->type = RES_CONTENT;
	res->content.fuzzy_level = fl;
	res->content.proptag = t.tag;
	struct ews_path_target tb = t;
	tb.tag = PROP_TAG(base, PROP_ID(t.tag));
	tb.kind = EWS_FK_STRING;
	return constant_value(p, &tb, text, &res->content.prop);
}

static const char *parse_expr(struct rparse *p, const xmlNode *n, unsigned depth,
	struct mapi_restriction *res)
{
	if (depth > MAPI_RES_MAX_DEPTH || ++p->nodes > MAPI_RES_MAX_NODES)
		return "ErrorRestrictionTooComplex";
	memset(res, 0, sizeof(*res));
	if (http_xml_is(n, NS_T, "And") || http_xml_is(n, NS_T, "Or")) {
		uint32_t count = 0;
		for (const xmlNode *c = http_xml_first_elem(n); c != NULL; c = http_xml_next_elem(c))
			if (++count > MAPI_RES_MAX_NODES)
				return "ErrorRestrictionTooComplex";
		if (count == 0)
			return "ErrorInvalidRestriction";
		res->type = http_xml_is(n, NS_T, "And") ? RES_AND : RES_OR;
		res->and_or.count = count;
		res->and_or.res = pool_calloc(p->pool, count, sizeof(struct mapi_restriction));
		uint32_t i = 0;
		for (const xmlNode *c = http_xml_first_elem(n); c != NULL;
			c = http_xml_next_elem(c)) {
			const char *err = parse_expr(p, c, depth + 1, &res->and_or.res[i++]);
			if (err != NULL)
				return err;
		}
		return NULL;
	}
	if (http_xml_is(n, NS_T, "Not")) {
		const xmlNode *c = http_xml_first_elem(n);
		if (c == NULL || http_xml_next_elem(c) != NULL)
			return "ErrorInvalidRestriction";
		res->type = RES_NOT;
		res->not_.res = pool_calloc(p->pool, 1, sizeof(struct mapi_restriction));
		return parse_expr(p, c, depth + 1, res->not_.res);
	}
	if (http_xml_is(n, NS_T, "Exists")) {
		struct ews_path_target t;
		const char *err = resolve_path(p, http_xml_first_elem(n), &t);
		if (err != NULL)
			return err;
		res->type = RES_EXIST;
		res->exist.proptag = t.tag;
		return NULL;
	}
	if (http_xml_is(n, NS_T, "Excludes")) {
		const xmlNode *path = http_xml_first_elem(n);
		struct ews_path_target t;
		const char *err = resolve_path(p, path, &t);
		if (err != NULL)
			return err;
		const xmlNode *bm = http_xml_next_elem(path);
		char *v = bm != NULL && http_xml_is(bm, NS_T, "Bitmask") ?
			http_xml_attr(p->pool, bm, "Value") :
			NULL;
		uint64_t mask;
		if (v == NULL)
			return "ErrorInvalidRestriction";
		if (str_case_starts_with(v, "0x")) {
			mask = 0;
			const char *h = v + 2;
			if (*h == '\0' || strlen(h) > 8)
				return "ErrorInvalidRestriction";
			for (; *h != '\0'; h++) {
				int d = (*h >= '0' && *h <= '9') ? *h - '0' :
					(*h >= 'a' && *h <= 'f') ? *h - 'a' + 10 :
					(*h >= 'A' && *h <= 'F') ? *h - 'A' + 10 :
									   -1;
				if (d < 0)
					return "ErrorInvalidRestriction";
				mask = mask << 4 | (uint64_t)d;
			}
		} else if (str_to_u64(v, UINT32_MAX, &mask) < 0) {
			return "ErrorInvalidRestriction";
		}
		if (PROP_TYPE(t.tag) != PT_LONG)
			return "ErrorUnsupportedPathForQuery";
		/* Excludes: none of the bits are set (MS-OXWSSRCH 2.2.4.?). */
		res->type = RES_BITMASK;
		res->bitmask.relop = BMR_EQZ;
		res->bitmask.proptag = t.tag;
		res->bitmask.mask = (uint32_t)mask;
		return NULL;
	}
	if (http_xml_is(n, NS_T, "Contains"))
		return parse_contains(p, n, res);
	static const struct {
		const char *name;
		enum mapi_relop relop;
	} cmps[] = {
		{"IsEqualTo", RELOP_EQ},
		{"IsNotEqualTo", RELOP_NE},
		{"IsGreaterThan", RELOP_GT},
		{"IsGreaterThanOrEqualTo", RELOP_GE},
		{"IsLessThan", RELOP_LT},
		{"IsLessThanOrEqualTo", RELOP_LE},
	};
	for (size_t i = 0; i < sizeof(cmps) / sizeof(cmps[0]); i++)
		if (http_xml_is(n, NS_T, cmps[i].name))
			return parse_compare(p, n, cmps[i].relop, res);
	return "ErrorInvalidRestriction";
}

const char *ews_restriction_parse(pool_t *pool, const xmlNode *restriction,
	ews_path_resolve_fn *resolve, void *ctx, struct mapi_restriction **res_r)
{
	struct rparse p = {.pool = pool, .resolve = resolve, .ctx = ctx};
	const xmlNode *top = http_xml_first_elem(restriction);
	if (top == NULL || http_xml_next_elem(top) != NULL)
		return "ErrorInvalidRestriction";
	struct mapi_restriction *res = pool_calloc(pool, 1, sizeof(*res));
	const char *err = parse_expr(&p, top, 1, res);
	if (err != NULL)
		return err;
	const char *why;
	uint32_t ec = mapi_restriction_validate(res, &why);
	if (ec == ecTooComplex)
		return "ErrorRestrictionTooComplex";
	if (ec != ecSuccess)
		return "ErrorInvalidRestriction";
	*res_r = res;
	return NULL;
}

const char *ews_sort_parse(pool_t *pool, const xmlNode *sort, ews_path_resolve_fn *resolve,
	void *ctx, struct mapi_sort_order *so_r)
{
	struct rparse p = {.pool = pool, .resolve = resolve, .ctx = ctx};
	memset(so_r, 0, sizeof(*so_r));
	so_r->sorts = pool_calloc(pool, EWS_SORT_MAX_KEYS, sizeof(struct mapi_sort));
	for (const xmlNode *fo = http_xml_first_elem(sort); fo != NULL; fo = http_xml_next_elem(fo)) {
		if (!http_xml_is(fo, NS_T, "FieldOrder"))
			return "ErrorInvalidRequest";
		if (so_r->count >= EWS_SORT_MAX_KEYS)
			return "ErrorUnsupportedPathForSortGroup";
		char *order = http_xml_attr(pool, fo, "Order");
		uint8_t o;
		if (order == NULL || strcmp(order, "Ascending") == 0)
			o = TABLE_SORT_ASCEND;
		else if (strcmp(order, "Descending") == 0)
			o = TABLE_SORT_DESCEND;
		else
			return "ErrorInvalidRequest";
		struct ews_path_target t;
		const char *err = resolve_path(&p, http_xml_first_elem(fo), &t);
		if (err != NULL)
			return strcmp(err, "ErrorUnsupportedPathForQuery") == 0 ?
				"ErrorUnsupportedPathForSortGroup" :
				err;
		if (mapi_ptype_is_mv(PROP_TYPE(t.tag)))
			return "ErrorUnsupportedPathForSortGroup";
		so_r->sorts[so_r->count].proptag = t.tag;
		so_r->sorts[so_r->count].order = o;
		so_r->count++;
	}
	return NULL;
}

const char *ews_path_resolve(void *ctx, const xmlNode *path, struct ews_path_target *t)
{
	struct ews_req *r = ctx;
	memset(t, 0, sizeof(*t));
	if (http_xml_is(path, NS_T, "ExtendedFieldURI")) {
		struct ews_ext e;
		const char *err = ews_ext_parse(r->pool, path, &e);
		if (err == NULL)
			err = ews_ext_resolve(r, &e, false);
		if (err != NULL)
			return err;
		/* A name the mailbox never used: nothing has it. A fresh
		 * mapping keeps the restriction meaningful (Exists is false,
		 * NOT Exists true) at the cost of one row in named_props. */
		if (e.tag == 0 && (err = ews_ext_resolve(r, &e, true)) != NULL)
			return err;
		t->tag = e.tag;
		t->kind = EWS_FK_EXTENDED;
		return NULL;
	}
	if (!http_xml_is(path, NS_T, "FieldURI"))
		return "ErrorUnsupportedPathForQuery";
	char *uri = http_xml_attr(r->pool, path, "FieldURI");
	int i = uri != NULL ? ews_field_find(uri) : -1;
	if (i < 0)
		return "ErrorUnsupportedPathForQuery";
	const struct ews_field *f = &ews_item_fields[i];
	t->kind = f->kind;
	t->aux = f->aux;
	switch (f->kind) {
	case EWS_FK_BODY:
		t->tag = PR_BODY;
		t->kind = EWS_FK_STRING;
		return NULL;
	case EWS_FK_MAILBOX:
		/* the address: what clients filter senders by */
		t->tag = ews_mbx_tags[f->aux].smtp;
		t->kind = EWS_FK_STRING;
		return NULL;
	case EWS_FK_STRING:
	case EWS_FK_BOOL:
	case EWS_FK_INT:
	case EWS_FK_TIME:
	case EWS_FK_BINARY:
	case EWS_FK_SENSITIVITY:
	case EWS_FK_IMPORTANCE:
	case EWS_FK_CATEGORIES:
	case EWS_FK_MSGFLAG:
	case EWS_FK_FLAG:
	case EWS_FK_CONVERSATION_ID:
		t->tag = ews_field_tag(r, f, true);
		if (f->kind == EWS_FK_FLAG)
			t->kind = EWS_FK_INT;
		return t->tag != 0 ? NULL : "ErrorUnsupportedPathForQuery";
	default:
		return "ErrorUnsupportedPathForQuery";
	}
}
