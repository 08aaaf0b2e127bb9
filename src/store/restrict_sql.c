/* Restrictions and sort keys as SQL over the messages table (alias m).
 *
 * A restriction is translated into an expression E that is 0 or 1 for
 * every row, and a flag "exact". Exact: E holds exactly when the
 * restriction does. Not exact: E holds whenever the restriction does (a
 * necessary condition), and the caller evaluates the restriction in C on
 * the rows E lets through. Leaves SQL cannot evaluate with the semantics
 * of mapi_restriction_eval become TRUE (not exact); NOT of a non-exact
 * expression is TRUE (not exact) too.
 *
 * The semantics follow mapi/restriction.h: a missing property fails every
 * comparison (leaves are coalesced to 0, so NOT works), strings compare
 * case-insensitively through the MAPI collation, content restrictions on
 * strings run the mapi evaluator itself through mapi_content(). */
#include <string.h>

#include "core/utf.h"
#include "mapi/propval.h"
#include "mapi/restriction.h"
#include "store/restrict_sql.h"

void store_sqlb_init(struct store_sqlb *b, pool_t *pool)
{
	buf_init(&b->sql, pool);
	array_init(&b->binds, pool);
	b->pool = pool;
}

static void bind_int(struct store_sqlb *b, int64_t v)
{
	struct store_sqlbind *x = array_push_new(&b->binds);
	x->kind = STORE_BIND_INT;
	x->i = v;
	buf_append_byte(&b->sql, '?');
}

static void bind_text(struct store_sqlb *b, const char *s)
{
	struct store_sqlbind *x = array_push_new(&b->binds);
	x->kind = STORE_BIND_TEXT;
	x->p = pool_strdup(b->pool, s != NULL ? s : "");
	x->n = strlen(x->p);
	buf_append_byte(&b->sql, '?');
}

static void bind_blob(struct store_sqlb *b, const void *p, size_t n)
{
	struct store_sqlbind *x = array_push_new(&b->binds);
	x->kind = STORE_BIND_BLOB;
	x->p = n > 0 ? pool_memdup(b->pool, p, n) : pool_strdup(b->pool, "");
	x->n = n;
	buf_append_byte(&b->sql, '?');
}

void store_sqlb_bind(const struct store_sqlb *b, sqlite3_stmt *st, int first)
{
	for (size_t i = 0; i < b->binds.n; i++) {
		const struct store_sqlbind *x = &b->binds.v[i];
		int idx = first + (int)i;
		switch (x->kind) {
		case STORE_BIND_INT:
			sqlite3_bind_int64(st, idx, x->i);
			break;
		case STORE_BIND_TEXT:
			sqlite3_bind_text(st, idx, x->p, (int)x->n, SQLITE_STATIC);
			break;
		case STORE_BIND_BLOB:
			sqlite3_bind_blob(st, idx, x->p, (int)x->n, SQLITE_STATIC);
			break;
		case STORE_BIND_VALUE:
			sqlite3_bind_value(st, idx, x->v);
			break;
		}
	}
}

void store_sqlb_append(struct store_sqlb *dst, const struct store_sqlb *src)
{
	buf_append(&dst->sql, src->sql.data, src->sql.len);
	for (size_t i = 0; i < src->binds.n; i++)
		array_push(&dst->binds, src->binds.v[i]);
}

/* --- property expressions --- */

/* How SQL can see a property of a message row. */
enum pexpr_kind {
	PEXPR_NONE,    /* not in SQL: evaluate in C */
	PEXPR_MISSING, /* the row never has it with that type */
	PEXPR_EXACT,   /* the expression is the value, NULL when missing */
	PEXPR_INLINE,  /* the value when stored inline; a blob-stored value is NULL here */
};

static bool fixed_sql_type(uint16_t t)
{
	switch (t) {
	case PT_SHORT:
	case PT_LONG:
	case PT_BOOLEAN:
	case PT_I8:
	case PT_CURRENCY:
	case PT_SYSTIME:
	case PT_ERROR:
		return true;
	default:
		return false;
	}
}

/* Appends the SQL for tag's value. */
static enum pexpr_kind prop_expr(uint32_t tag, struct buf *out)
{
	uint32_t ct = store_tag_canon(tag);
	uint16_t t = PROP_TYPE(ct);
	if (t == PT_UNSPECIFIED || (t & PT_MV_INSTANCE))
		return PEXPR_NONE;
	/* Computed properties backed by row columns. */
	static const struct {
		uint32_t tag;
		const char *expr;
	} computed[] = {
		{PR_MESSAGE_FLAGS, "m.flags"},
		{PR_MESSAGE_SIZE, "m.size"},
		{PR_HASATTACH, "m.has_attach"},
		{PR_INTERNET_ARTICLE_NUMBER, "m.uid"},
		{PR_READ, "(m.flags & 1)"},
		{PR_ASSOCIATED, "m.fai"},
	};
	for (size_t i = 0; i < sizeof(computed) / sizeof(computed[0]); i++) {
		if (PROP_ID(computed[i].tag) != PROP_ID(ct))
			continue;
		if (computed[i].tag != ct)
			return PEXPR_MISSING;
		buf_append_str(out, computed[i].expr);
		return PEXPR_EXACT;
	}
	const char *col = store_msg_column(ct);
	if (col != NULL) {
		buf_printf(out, "m.%s", col);
		return PEXPR_EXACT;
	}
	/* Another type of an indexed property's ID: never present. */
	if (store_msg_indexed_tag(PROP_ID(ct)) != 0)
		return PEXPR_MISSING;
	if (store_message_computed(ct))
		return PEXPR_NONE;
	if (fixed_sql_type(t)) {
		buf_printf(out,
			"(SELECT value FROM message_props WHERE id = m.id AND propid = %u AND type = %u)",
			PROP_ID(ct), t);
		return PEXPR_EXACT;
	}
	if (t == PT_UNICODE || t == PT_BINARY) {
		buf_printf(out,
			"(SELECT value FROM message_props WHERE id = m.id AND propid = %u AND type = %u"
			" AND blob IS NULL)",
			PROP_ID(ct), t);
		return PEXPR_INLINE;
	}
	return PEXPR_NONE;
}

/* OR-able clause: the property is blob-stored in this row. */
static void blob_exists(uint32_t tag, struct buf *out)
{
	uint32_t ct = store_tag_canon(tag);
	buf_printf(out,
		" OR EXISTS (SELECT 1 FROM message_props WHERE id = m.id AND propid = %u AND type = %u"
		" AND blob IS NOT NULL)",
		PROP_ID(ct), PROP_TYPE(ct));
}

/* Binds a restriction value of base type t; false if SQL cannot. */
static bool bind_value(struct store_sqlb *b, uint16_t t, const union mapi_pvalue *v)
{
	switch (t) {
	case PT_SHORT:
		bind_int(b, v->i);
		return true;
	case PT_LONG:
		bind_int(b, v->l);
		return true;
	case PT_ERROR:
		bind_int(b, v->err);
		return true;
	case PT_BOOLEAN:
		bind_int(b, v->b ? 1 : 0);
		return true;
	case PT_I8:
	case PT_CURRENCY:
	case PT_SYSTIME:
		bind_int(b, v->li);
		return true;
	case PT_STRING8:
	case PT_UNICODE:
		if (v->str == NULL)
			return false;
		bind_text(b, v->str);
		return true;
	case PT_BINARY:
		bind_blob(b, v->bin.pb, v->bin.cb);
		return true;
	default:
		return false;
	}
}

static const char *relop_sql(enum mapi_relop op)
{
	switch (op) {
	case RELOP_LT:
		return "<";
	case RELOP_LE:
		return "<=";
	case RELOP_GT:
		return ">";
	case RELOP_GE:
		return ">=";
	case RELOP_EQ:
		return "=";
	case RELOP_NE:
		return "!=";
	default:
		return NULL;
	}
}

static bool same_type(uint32_t a, uint32_t b)
{
	return store_tag_canon(a) == store_tag_canon(b) ||
		PROP_TYPE(store_tag_canon(a)) == PROP_TYPE(store_tag_canon(b));
}

static void tr(const struct mapi_restriction *r, struct store_sqlb *b, bool *exact, int depth);

static void tr_true_inexact(struct store_sqlb *b, bool *exact)
{
	buf_append_str(&b->sql, "1");
	*exact = false;
}

static void tr_property(const struct mapi_restriction *r, struct store_sqlb *b, bool *exact)
{
	const char *op = relop_sql(r->property.relop);
	uint32_t tag = r->property.proptag;
	const struct mapi_propval *rv = &r->property.prop;
	uint16_t t = PROP_TYPE(store_tag_canon(tag));
	if (op == NULL || !same_type(tag, rv->tag) || (t & PT_MV_FLAG)) {
		tr_true_inexact(b, exact);
		return;
	}
	struct buf e;
	buf_init(&e, b->pool);
	enum pexpr_kind k = prop_expr(tag, &e);
	if (k == PEXPR_NONE) {
		tr_true_inexact(b, exact);
		return;
	}
	if (k == PEXPR_MISSING) {
		buf_append_str(&b->sql, "0");
		*exact = true;
		return;
	}
	size_t mark = b->sql.len, nb = b->binds.n;
	buf_append_str(&b->sql, "coalesce((");
	buf_append(&b->sql, e.data, e.len);
	if (t == PT_UNICODE)
		buf_append_str(&b->sql, " COLLATE MAPI");
	buf_printf(&b->sql, " %s ", op);
	if (!bind_value(b, t, &rv->v)) {
		buf_truncate(&b->sql, mark);
		b->binds.n = nb;
		tr_true_inexact(b, exact);
		return;
	}
	buf_append_str(&b->sql, ")");
	if (k == PEXPR_INLINE) {
		blob_exists(tag, &b->sql);
		*exact = false;
	} else {
		*exact = true;
	}
	buf_append_str(&b->sql, ", 0)");
}

static void tr_content(const struct mapi_restriction *r, struct store_sqlb *b, bool *exact)
{
	uint32_t tag = r->content.proptag;
	uint16_t t = PROP_TYPE(store_tag_canon(tag));
	const struct mapi_propval *rv = &r->content.prop;
	if (t != PT_UNICODE || PROP_TYPE(store_tag_canon(rv->tag)) != PT_UNICODE ||
		rv->v.str == NULL) {
		tr_true_inexact(b, exact);
		return;
	}
	struct buf e;
	buf_init(&e, b->pool);
	enum pexpr_kind k = prop_expr(tag, &e);
	if (k == PEXPR_NONE) {
		tr_true_inexact(b, exact);
		return;
	}
	if (k == PEXPR_MISSING) {
		buf_append_str(&b->sql, "0");
		*exact = true;
		return;
	}
	buf_append_str(&b->sql, "coalesce(mapi_content(");
	buf_append(&b->sql, e.data, e.len);
	buf_append_str(&b->sql, ", ");
	bind_text(b, rv->v.str);
	buf_append_str(&b->sql, ", ");
	bind_int(b, r->content.fuzzy_level);
	buf_append_str(&b->sql, ")");
	if (k == PEXPR_INLINE) {
		blob_exists(tag, &b->sql);
		*exact = false;
	} else {
		*exact = true;
	}
	buf_append_str(&b->sql, ", 0)");
}

static void tr(const struct mapi_restriction *r, struct store_sqlb *b, bool *exact, int depth)
{
	if (r == NULL || depth > MAPI_RES_MAX_DEPTH) {
		tr_true_inexact(b, exact);
		return;
	}
	switch (r->type) {
	case RES_AND:
	case RES_OR: {
		if (r->and_or.count == 0) {
			/* Empty AND is true, empty OR false ([MS-OXCDATA] 2.12.1). */
			buf_append_str(&b->sql, r->type == RES_AND ? "1" : "0");
			*exact = true;
			return;
		}
		bool all = true;
		buf_append_str(&b->sql, "(");
		for (uint32_t i = 0; i < r->and_or.count; i++) {
			if (i > 0)
				buf_append_str(&b->sql, r->type == RES_AND ? " AND " : " OR ");
			bool ex;
			tr(&r->and_or.res[i], b, &ex, depth + 1);
			all &= ex;
		}
		buf_append_str(&b->sql, ")");
		*exact = all;
		return;
	}
	case RES_NOT: {
		struct store_sqlb sub;
		store_sqlb_init(&sub, b->pool);
		bool ex;
		tr(r->not_.res, &sub, &ex, depth + 1);
		if (!ex) {
			tr_true_inexact(b, exact);
			return;
		}
		buf_append_str(&b->sql, "(NOT ");
		store_sqlb_append(b, &sub);
		buf_append_str(&b->sql, ")");
		*exact = true;
		return;
	}
	case RES_PROPERTY:
		tr_property(r, b, exact);
		return;
	case RES_CONTENT:
		tr_content(r, b, exact);
		return;
	case RES_BITMASK: {
		struct buf e;
		buf_init(&e, b->pool);
		uint32_t tag = r->bitmask.proptag;
		enum pexpr_kind k = PROP_TYPE(tag) == PT_LONG ? prop_expr(tag, &e) : PEXPR_NONE;
		if (k == PEXPR_MISSING) {
			buf_append_str(&b->sql, "0");
			*exact = true;
			return;
		}
		if (k != PEXPR_EXACT || (r->bitmask.relop != BMR_EQZ && r->bitmask.relop != BMR_NEZ)) {
			tr_true_inexact(b, exact);
			return;
		}
		buf_append_str(&b->sql, "coalesce(((");
		buf_append(&b->sql, e.data, e.len);
		buf_append_str(&b->sql, ") & ");
		bind_int(b, r->bitmask.mask);
		buf_printf(&b->sql, ") %s 0, 0)", r->bitmask.relop == BMR_EQZ ? "=" : "!=");
		*exact = true;
		return;
	}
	case RES_EXIST: {
		uint32_t tag = r->exist.proptag;
		struct buf e;
		buf_init(&e, b->pool);
		enum pexpr_kind k = prop_expr(tag, &e);
		if (k == PEXPR_MISSING) {
			buf_append_str(&b->sql, "0");
			*exact = true;
		} else if (k == PEXPR_EXACT && store_msg_column(tag) != NULL) {
			buf_append_str(&b->sql, "(");
			buf_append(&b->sql, e.data, e.len);
			buf_append_str(&b->sql, " IS NOT NULL)");
			*exact = true;
		} else if ((k == PEXPR_EXACT || k == PEXPR_INLINE) && store_msg_column(tag) == NULL &&
			!store_message_computed(tag)) {
			uint32_t ct = store_tag_canon(tag);
			buf_printf(&b->sql,
				"EXISTS (SELECT 1 FROM message_props WHERE id = m.id AND propid = %u"
				" AND type = %u)",
				PROP_ID(ct), PROP_TYPE(ct));
			*exact = true;
		} else {
			tr_true_inexact(b, exact);
		}
		return;
	}
	case RES_COMPAREPROPS: {
		struct buf e1, e2;
		buf_init(&e1, b->pool);
		buf_init(&e2, b->pool);
		const char *op = relop_sql(r->compare_props.relop);
		enum pexpr_kind k1 = prop_expr(r->compare_props.proptag1, &e1);
		enum pexpr_kind k2 = prop_expr(r->compare_props.proptag2, &e2);
		uint16_t t1 = PROP_TYPE(store_tag_canon(r->compare_props.proptag1));
		uint16_t t2 = PROP_TYPE(store_tag_canon(r->compare_props.proptag2));
		if (op == NULL || k1 != PEXPR_EXACT || k2 != PEXPR_EXACT || t1 != t2) {
			tr_true_inexact(b, exact);
			return;
		}
		buf_append_str(&b->sql, "coalesce((");
		buf_append(&b->sql, e1.data, e1.len);
		if (t1 == PT_UNICODE)
			buf_append_str(&b->sql, " COLLATE MAPI");
		buf_printf(&b->sql, " %s ", op);
		buf_append(&b->sql, e2.data, e2.len);
		buf_append_str(&b->sql, "), 0)");
		*exact = true;
		return;
	}
	case RES_COMMENT:
		if (r->comment.res == NULL) {
			buf_append_str(&b->sql, "1");
			*exact = true;
			return;
		}
		tr(r->comment.res, b, exact, depth + 1);
		return;
	case RES_SIZE:
	case RES_SUBRESTRICTION:
	case RES_COUNT:
	default:
		/* Sizes of UTF-16 forms, sub-tables and stateful counts: C. */
		tr_true_inexact(b, exact);
		return;
	}
}

void store_res_to_sql(const struct mapi_restriction *res, struct store_sqlb *b, bool *exact_r)
{
	tr(res, b, exact_r, 0);
}

enum store_sort_sql store_sort_expr(uint32_t tag, struct buf *out)
{
	uint16_t t = PROP_TYPE(store_tag_canon(tag));
	if (t & PT_MV_FLAG)
		return STORE_SORT_SQL_NONE;
	enum pexpr_kind k = prop_expr(tag, out);
	if (k == PEXPR_MISSING) {
		buf_append_str(out, "NULL");
		return STORE_SORT_SQL_OK;
	}
	if (k == PEXPR_NONE)
		return STORE_SORT_SQL_NONE;
	if (t == PT_UNICODE)
		buf_append_str(out, " COLLATE MAPI");
	return STORE_SORT_SQL_OK;
}

/* --- SQL functions and collation, registered on every connection --- */

/* The MAPI string order: mapi_pvalue_compare with MAPI_CMP_IGNORECASE,
 * with a fast path for ASCII (where folding is tolower). */
static int collate_mapi(void *arg, int n1, const void *p1, int n2, const void *p2)
{
	const unsigned char *a = p1, *b = p2;
	int i = 0;
	for (; i < n1 && i < n2; i++) {
		unsigned char ca = a[i], cb = b[i];
		if (ca >= 0x80 || cb >= 0x80)
			break;
		if (ca >= 'A' && ca <= 'Z')
			ca += 32;
		if (cb >= 'A' && cb <= 'Z')
			cb += 32;
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	if (i == n1 || i == n2) {
		if (n1 == n2)
			return 0;
		return n1 < n2 ? -1 : 1;
	}
	/* Non-ASCII from here: fold the rest (both started equal so far). */
	struct buf fa, fb;
	buf_init(&fa, NULL);
	buf_init(&fb, NULL);
	mapi_utf8_fold((const char *)a + i, (size_t)(n1 - i), &fa);
	mapi_utf8_fold((const char *)b + i, (size_t)(n2 - i), &fb);
	size_t m = fa.len < fb.len ? fa.len : fb.len;
	int c = m > 0 ? memcmp(fa.data, fb.data, m) : 0;
	if (c == 0)
		c = fa.len < fb.len ? -1 : fa.len > fb.len ? 1 : 0;
	buf_deinit(&fa);
	buf_deinit(&fb);
	return c < 0 ? -1 : c > 0 ? 1 : 0;
}

struct one_prop {
	struct mapi_propval pv;
};

static int one_get(void *ctx, uint32_t tag, const struct mapi_propval **pv_r)
{
	struct one_prop *o = ctx;
	*pv_r = &o->pv;
	return 1;
}

/* ASCII text: folding is tolower, so a plain search gives the same answer
 * as the evaluator (1 match, 0 none, -1 not ASCII: ask the evaluator). */
static int ascii_content(const unsigned char *hay, int hn, const unsigned char *needle, int nn,
	uint32_t fuzzy)
{
	bool fold = (fuzzy & (FL_IGNORECASE | FL_IGNORENONSPACE | FL_LOOSE)) != 0;
	for (int i = 0; i < hn; i++)
		if (hay[i] >= 0x80)
			return -1;
	for (int i = 0; i < nn; i++)
		if (needle[i] >= 0x80)
			return -1;
#define LOWER(c) (fold && (c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c))
	switch (fuzzy & 0xffff) {
	case FL_FULLSTRING:
		if (hn != nn)
			return 0;
		for (int i = 0; i < nn; i++)
			if (LOWER(hay[i]) != LOWER(needle[i]))
				return 0;
		return 1;
	case FL_PREFIX:
		if (hn < nn)
			return 0;
		for (int i = 0; i < nn; i++)
			if (LOWER(hay[i]) != LOWER(needle[i]))
				return 0;
		return 1;
	case FL_SUBSTRING:
		for (int s = 0; s + nn <= hn; s++) {
			int i = 0;
			while (i < nn && LOWER(hay[s + i]) == LOWER(needle[i]))
				i++;
			if (i == nn)
				return 1;
		}
		return 0;
	default:
		return -1;
	}
#undef LOWER
}

/* mapi_content(value, needle, fuzzy): the content restriction of
 * mapi_restriction_eval on one string value (NULL when value is NULL). */
static void fn_content(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(cx);
		return;
	}
	const char *hay = (const char *)sqlite3_value_text(argv[0]);
	const char *needle = (const char *)sqlite3_value_text(argv[1]);
	if (hay == NULL || needle == NULL) {
		sqlite3_result_int(cx, 0);
		return;
	}
	int fast = ascii_content((const unsigned char *)hay, sqlite3_value_bytes(argv[0]),
		(const unsigned char *)needle, sqlite3_value_bytes(argv[1]),
		(uint32_t)sqlite3_value_int64(argv[2]));
	if (fast >= 0) {
		sqlite3_result_int(cx, fast);
		return;
	}
	struct one_prop o = {.pv = {.tag = PROP_TAG(PT_UNICODE, 1), .v.str = (char *)hay}};
	struct mapi_restriction r = {.type = RES_CONTENT};
	r.content.fuzzy_level = (uint32_t)sqlite3_value_int64(argv[2]);
	r.content.proptag = PROP_TAG(PT_UNICODE, 1);
	r.content.prop.tag = PROP_TAG(PT_UNICODE, 1);
	r.content.prop.v.str = (char *)needle;
	struct mapi_res_eval e = {.get = one_get, .ctx = &o};
	bool m = false;
	if (mapi_restriction_eval(&r, &e, &m) != ecSuccess)
		m = false;
	sqlite3_result_int(cx, m ? 1 : 0);
}

int store_sql_register(sqlite3 *db)
{
	int rc = sqlite3_create_collation_v2(db, "MAPI", SQLITE_UTF8, NULL, collate_mapi, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function_v2(db, "mapi_content", 3,
			SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, fn_content, NULL, NULL, NULL);
	return rc;
}
