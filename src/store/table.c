/* Tables (MS-OXCTABL).
 *
 * Contents tables run in SQL: a position is a point in the sort order (the
 * sort key values and row id of a row, and whether the position is before
 * or after it), and every read is a keyset query from that point ("rows
 * after these keys, in order, LIMIT n"). Nothing is materialized, so the
 * first page of a 100,000-message folder costs an index walk of a page,
 * and positions and bookmarks stay valid while the folder changes.
 * Restrictions are translated to SQL where that is exact
 * (restrict_sql.c); otherwise SQL narrows and C decides, row by row.
 *
 * Hierarchy, attachment and recipient tables are small: they are loaded
 * into memory, restricted and sorted there with the mapi evaluator, and
 * reloaded when the mailbox changes. */
#include <string.h>

#include "core/log.h"
#include "core/xalloc.h"
#include "mapi/propval.h"
#include "mapi/restriction.h"
#include "store/acl.h"
#include "store/message_int.h"
#include "store/restrict_sql.h"
#include "store/table.h"

enum ttype {
	T_CONTENTS,
	T_HIERARCHY,
	T_ATTACHMENTS,
	T_RECIPIENTS,
};

enum tpos_kind {
	TP_BEGIN,
	TP_END,
	TP_ROW,
};

/* A position between rows. SQL tables: the row's id and sort keys; memory
 * tables: an index (the position before row index) anchored by the id of
 * the row after it. */
struct tpos {
	enum tpos_kind kind;
	bool after; /* TP_ROW: just after the row (else just before) */
	int64_t id;
	sqlite3_value **keys;
	uint32_t index;
};

struct mrow {
	uint64_t id;
	struct mapi_propvals props;
};

struct bookmark {
	uint32_t id;
	struct tpos pos;
};

struct store_table {
	enum ttype type;
	struct store_mailbox *mb;
	struct store_message *msg;
	pool_t *pool;  /* the table's lifetime */
	pool_t *spool; /* restriction and sort state, cleared when they change */
	uint64_t fid;
	bool fai, deep, search;
	struct mapi_tags cols;
	struct mapi_restriction *res;
	struct mapi_sort_order sort;

	/* SQL tables */
	struct store_sqlb where; /* base conditions, search criteria, restriction */
	struct mapi_restriction *c_res; /* to evaluate in C, or NULL */
	size_t nkeys;
	char **key_sql;
	bool *key_desc;
	bool id_desc;

	/* memory tables */
	ARRAY(struct mrow) rows;
	bool loaded;
	uint64_t stamp;

	struct tpos cur;
	ARRAY(struct bookmark) bms;
	uint32_t next_bm;
};

/* --- positions --- */

static void tpos_clear(struct tpos *p, size_t nkeys)
{
	if (p->keys != NULL) {
		for (size_t i = 0; i < nkeys; i++)
			sqlite3_value_free(p->keys[i]);
		free(p->keys);
	}
	memset(p, 0, sizeof(*p));
}

static void tpos_copy(struct tpos *dst, const struct tpos *src, size_t nkeys)
{
	*dst = *src;
	dst->keys = NULL;
	if (src->keys != NULL) {
		dst->keys = xcalloc(nkeys ? nkeys : 1, sizeof(sqlite3_value *));
		for (size_t i = 0; i < nkeys; i++)
			dst->keys[i] = sqlite3_value_dup(src->keys[i]);
	}
}

/* Position at a row of a keyset query result (columns: id, mid, keys). */
static void tpos_from_stmt(struct tpos *p, sqlite3_stmt *st, size_t nkeys, bool after)
{
	tpos_clear(p, nkeys);
	p->kind = TP_ROW;
	p->after = after;
	p->id = sqlite3_column_int64(st, 0);
	p->keys = xcalloc(nkeys ? nkeys : 1, sizeof(sqlite3_value *));
	for (size_t i = 0; i < nkeys; i++)
		p->keys[i] = sqlite3_value_dup(sqlite3_column_value(st, 2 + (int)i));
}

static void set_begin(struct store_table *t)
{
	tpos_clear(&t->cur, t->nkeys);
	t->cur.kind = TP_BEGIN;
}

/* --- opening --- */

static struct store_table *table_new(struct store_mailbox *mb, enum ttype type)
{
	pool_t *pool = pool_new("table", 0);
	struct store_table *t = pool_alloc(pool, sizeof(*t));
	t->pool = pool;
	t->spool = pool_new("table state", 0);
	t->mb = mb;
	t->type = type;
	array_init(&t->rows, NULL);
	array_init(&t->bms, NULL);
	t->next_bm = 3;
	t->cur.kind = TP_BEGIN;
	return t;
}

static uint32_t default_columns(struct store_table *t)
{
	static uint32_t contents[] = {PR_INSTANCE_KEY, PR_MID};
	static uint32_t hierarchy[] = {PR_INSTANCE_KEY, PR_FOLDER_ID};
	static uint32_t atts[] = {PR_INSTANCE_KEY, PR_ATTACH_NUM};
	static uint32_t rcpts[] = {PR_INSTANCE_KEY, PR_ROWID};
	struct mapi_tags c = {2, t->type == T_CONTENTS ? contents
			: t->type == T_HIERARCHY   ? hierarchy
			: t->type == T_ATTACHMENTS ? atts
						   : rcpts};
	return store_table_set_columns(t, &c);
}

static uint32_t build_sql(struct store_table *t);

uint32_t store_table_open_contents(struct store_mailbox *mb, mapi_id_t fid_id, bool associated,
	struct store_table **t_r)
{
	uint64_t fid = store_gc(fid_id);
	struct rtx x;
	uint32_t ec = store_rtx_begin(mb, &x);
	if (ec != ecSuccess)
		return ec;
	struct folder_row r;
	ec = store_folder_row(x.c, fid, &r);
	if (ec == ecSuccess)
		ec = store_acl_check(mb, x.c, fid, frightsReadAny);
	store_rtx_end(&x);
	if (ec != ecSuccess)
		return ec;
	struct store_table *t = table_new(mb, T_CONTENTS);
	t->fid = fid;
	t->fai = associated;
	t->search = r.type == STORE_FOLDER_SEARCH;
	if (t->search && associated) {
		store_table_close(&t);
		return ecNotSupported;
	}
	default_columns(t);
	ec = build_sql(t);
	if (ec != ecSuccess) {
		store_table_close(&t);
		return ec;
	}
	*t_r = t;
	return ecSuccess;
}

uint32_t store_table_open_hierarchy(struct store_mailbox *mb, mapi_id_t fid_id, bool deep,
	struct store_table **t_r)
{
	uint64_t fid = store_gc(fid_id);
	struct rtx x;
	uint32_t ec = store_rtx_begin(mb, &x);
	if (ec != ecSuccess)
		return ec;
	struct folder_row r;
	ec = store_folder_row(x.c, fid, &r);
	if (ec == ecSuccess)
		ec = store_acl_check(mb, x.c, fid, frightsVisible);
	store_rtx_end(&x);
	if (ec != ecSuccess)
		return ec;
	struct store_table *t = table_new(mb, T_HIERARCHY);
	t->fid = fid;
	t->deep = deep;
	default_columns(t);
	*t_r = t;
	return ecSuccess;
}

uint32_t store_table_open_attachments(struct store_message *msg, struct store_table **t_r)
{
	struct store_table *t = table_new(store_message_mailbox(msg), T_ATTACHMENTS);
	t->msg = msg;
	default_columns(t);
	*t_r = t;
	return ecSuccess;
}

uint32_t store_table_open_recipients(struct store_message *msg, struct store_table **t_r)
{
	struct store_table *t = table_new(store_message_mailbox(msg), T_RECIPIENTS);
	t->msg = msg;
	default_columns(t);
	*t_r = t;
	return ecSuccess;
}

void store_table_close(struct store_table **tp)
{
	struct store_table *t = *tp;
	if (t == NULL)
		return;
	*tp = NULL;
	tpos_clear(&t->cur, t->nkeys);
	for (size_t i = 0; i < t->bms.n; i++)
		tpos_clear(&t->bms.v[i].pos, t->nkeys);
	array_free(&t->bms);
	array_free(&t->rows);
	pool_free(&t->spool);
	pool_free(&t->pool);
}

/* --- columns, restriction, sort --- */

uint32_t store_table_set_columns(struct store_table *t, const struct mapi_tags *cols)
{
	if (cols == NULL || (cols->count > 0 && cols->tags == NULL))
		return ecInvalidParam;
	if (cols->count > t->mb->store->set.max_props_per_object)
		return ecTooBig;
	for (uint32_t i = 0; i < cols->count; i++) {
		uint16_t ty = PROP_TYPE(cols->tags[i]);
		if (ty == PT_ERROR || PROP_ID(cols->tags[i]) == 0)
			return ecInvalidParam;
	}
	t->cols.count = cols->count;
	t->cols.tags = pool_memdup(t->pool, cols->tags, (cols->count ? cols->count : 1) *
								sizeof(uint32_t));
	return ecSuccess;
}

static void forget_positions(struct store_table *t)
{
	set_begin(t);
	for (size_t i = 0; i < t->bms.n; i++)
		tpos_clear(&t->bms.v[i].pos, t->nkeys);
	array_clear(&t->bms);
}

uint32_t store_restriction_check(const struct store_settings *s, const struct mapi_restriction *res)
{
	const char *why;
	uint32_t ec = mapi_restriction_validate(res, &why);
	if (ec != ecSuccess)
		return ec;
	/* Our own, configurable depth limit. */
	struct frame {
		const struct mapi_restriction *r;
		uint32_t depth;
	};
	struct frame stack[128];
	size_t n = 0;
	stack[n++] = (struct frame){res, 1};
	while (n > 0) {
		struct frame f = stack[--n];
		if (f.depth > s->max_restriction_depth)
			return ecTooComplex;
		const struct mapi_restriction *r = f.r;
		switch (r->type) {
		case RES_AND:
		case RES_OR:
			for (uint32_t i = 0; i < r->and_or.count; i++) {
				if (n >= 128)
					return ecTooComplex;
				stack[n++] = (struct frame){&r->and_or.res[i], f.depth + 1};
			}
			break;
		case RES_NOT:
			stack[n++] = (struct frame){r->not_.res, f.depth + 1};
			break;
		case RES_SUBRESTRICTION:
			stack[n++] = (struct frame){r->sub.res, f.depth + 1};
			break;
		case RES_COUNT:
			stack[n++] = (struct frame){r->count.res, f.depth + 1};
			break;
		case RES_COMMENT:
			if (r->comment.res != NULL)
				stack[n++] = (struct frame){r->comment.res, f.depth + 1};
			break;
		default:
			break;
		}
	}
	return ecSuccess;
}

uint32_t store_table_restrict(struct store_table *t, const struct mapi_restriction *res)
{
	if (res != NULL) {
		uint32_t ec = store_restriction_check(&t->mb->store->set, res);
		if (ec != ecSuccess)
			return ec;
	}
	t->res = res != NULL ? mapi_restriction_copy(t->pool, res) : NULL;
	forget_positions(t);
	t->loaded = false;
	return t->type == T_CONTENTS ? build_sql(t) : ecSuccess;
}

uint32_t store_table_sort(struct store_table *t, const struct mapi_sort_order *so)
{
	if (so != NULL) {
		const char *why;
		uint32_t ec = mapi_sort_order_validate(so, &why);
		if (ec != ecSuccess)
			return ec;
		if (so->categories > 0)
			return ecNotSupported;
		if (so->count > 0 && so->sorts == NULL)
			return ecInvalidParam;
		for (uint16_t i = 0; i < so->count; i++)
			if (PROP_TYPE(so->sorts[i].proptag) & PT_MV_FLAG)
				return ecNotSupported;
	}
	forget_positions(t);
	t->sort.count = so != NULL ? so->count : 0;
	t->sort.categories = t->sort.expanded = 0;
	t->sort.sorts = t->sort.count > 0
		? pool_memdup(t->pool, so->sorts, t->sort.count * sizeof(struct mapi_sort))
		: NULL;
	t->loaded = false;
	return t->type == T_CONTENTS ? build_sql(t) : ecSuccess;
}

/* --- SQL tables --- */

static uint32_t build_sql(struct store_table *t)
{
	forget_positions(t);
	pool_clear(t->spool);
	t->nkeys = 0;
	t->key_sql = NULL;
	t->key_desc = NULL;
	t->c_res = NULL;
	store_sqlb_init(&t->where, t->spool);
	struct store_sqlb *w = &t->where;
	bool exact = true;
	struct mapi_restriction *search_res = NULL;
	if (t->search) {
		struct rtx x;
		uint32_t ec = store_rtx_begin(t->mb, &x);
		if (ec != ecSuccess)
			return ec;
		struct search_criteria sc;
		uint64_t *fids = NULL;
		uint32_t n = 0;
		ec = store_search_load(x.c, t->fid, t->spool, &sc);
		if (ec == ecSuccess)
			ec = store_search_expand(x.c, &sc, t->spool, &fids, &n);
		store_rtx_end(&x);
		if (ec != ecSuccess)
			return ec;
		buf_append_str(&w->sql, "m.fai = 0 AND m.fid IN (");
		for (uint32_t i = 0; i < n; i++)
			buf_printf(&w->sql, "%s%lld", i > 0 ? "," : "", (long long)fids[i]);
		buf_append_str(&w->sql, n == 0 ? "NULL)" : ")");
		search_res = sc.res;
		if (search_res == NULL) {
			/* No criteria yet: an empty folder. */
			buf_append_str(&w->sql, " AND 0");
		} else {
			bool ex;
			buf_append_str(&w->sql, " AND ");
			store_res_to_sql(search_res, w, &ex);
			exact &= ex;
		}
	} else {
		buf_printf(&w->sql, "m.fid = %lld AND m.fai = %d", (long long)t->fid, t->fai ? 1 : 0);
	}
	if (t->res != NULL) {
		bool ex;
		buf_append_str(&w->sql, " AND ");
		store_res_to_sql(t->res, w, &ex);
		exact &= ex;
	}
	if (!exact) {
		/* Evaluate both restrictions in C on what SQL lets through. */
		if (search_res != NULL && t->res != NULL) {
			struct mapi_restriction *and = pool_alloc(t->spool, sizeof(*and));
			and->type = RES_AND;
			and->and_or.count = 2;
			and->and_or.res = pool_calloc(t->spool, 2, sizeof(struct mapi_restriction));
			and->and_or.res[0] = *search_res;
			and->and_or.res[1] = *t->res;
			t->c_res = and;
		} else {
			t->c_res = search_res != NULL ? search_res : t->res;
		}
	}
	/* Sort keys; the row id breaks ties in the direction of the last key
	 * so that an index on (.., last key) serves the whole order. */
	t->key_sql = pool_calloc(t->spool, t->sort.count + 1, sizeof(char *));
	t->key_desc = pool_calloc(t->spool, t->sort.count + 1, sizeof(bool));
	for (uint16_t i = 0; i < t->sort.count; i++) {
		struct buf e;
		buf_init(&e, t->spool);
		if (store_sort_expr(t->sort.sorts[i].proptag, &e) != STORE_SORT_SQL_OK)
			return ecNotSupported;
		t->key_sql[t->nkeys] = (char *)buf_cstr(&e);
		t->key_desc[t->nkeys] = t->sort.sorts[i].order == TABLE_SORT_DESCEND;
		t->nkeys++;
	}
	t->id_desc = t->nkeys > 0 && t->key_desc[t->nkeys - 1];
	return ecSuccess;
}

/* Appends "row comes after (forward) or before the position" to b. */
static void keyset(struct store_table *t, const struct tpos *p, bool forward, struct store_sqlb *b)
{
	if (p->kind == TP_BEGIN) {
		buf_append_str(&b->sql, forward ? "1" : "0");
		return;
	}
	if (p->kind == TP_END) {
		buf_append_str(&b->sql, forward ? "0" : "1");
		return;
	}
	buf_append_str(&b->sql, "(");
	for (size_t i = 0; i <= t->nkeys; i++) {
		if (i > 0)
			buf_append_str(&b->sql, " OR ");
		buf_append_str(&b->sql, "(");
		for (size_t j = 0; j < i && j < t->nkeys; j++) {
			buf_printf(&b->sql, "%s IS ? AND ", t->key_sql[j]);
			struct store_sqlbind *x = array_push_new(&b->binds);
			x->kind = STORE_BIND_VALUE;
			x->v = p->keys[j];
		}
		if (i == t->nkeys) {
			/* All keys equal: the row id decides. Later rows have a
			 * larger id unless the order is descending; the
			 * position's own row counts when it lies on our side. */
			bool larger = forward != t->id_desc;
			bool inclusive = forward ? !p->after : p->after;
			const char *op = larger ? (inclusive ? ">=" : ">") : (inclusive ? "<=" : "<");
			buf_printf(&b->sql, "m.id %s %lld)", op, (long long)p->id);
			continue;
		}
		bool null = sqlite3_value_type(p->keys[i]) == SQLITE_NULL;
		/* Does the row come later on key i (in table order)? NULL is the
		 * smallest value, as in mapi_sort_compare. */
		bool later = forward;
		bool larger = later != t->key_desc[i];
		const char *k = t->key_sql[i];
		if (larger) {
			if (null) {
				buf_printf(&b->sql, "%s IS NOT NULL)", k);
			} else {
				buf_printf(&b->sql, "%s > ?)", k);
				struct store_sqlbind *x = array_push_new(&b->binds);
				x->kind = STORE_BIND_VALUE;
				x->v = p->keys[i];
			}
		} else {
			if (null) {
				buf_append_str(&b->sql, "0)");
			} else {
				buf_printf(&b->sql, "(%s < ? OR %s IS NULL))", k, k);
				struct store_sqlbind *x = array_push_new(&b->binds);
				x->kind = STORE_BIND_VALUE;
				x->v = p->keys[i];
			}
		}
	}
	buf_append_str(&b->sql, ")");
}

/* Getter over a row's properties for the C evaluator. */
struct rowget {
	struct mapi_propvals *props;
	struct store_mailbox *mb;
	struct dbconn *c;
	int64_t id;
	pool_t *pool;
};

static int row_get(void *ctx, uint32_t tag, const struct mapi_propval **pv_r)
{
	struct rowget *g = ctx;
	const struct mapi_propval *pv = NULL;
	if (PROP_TYPE(tag) == PT_UNSPECIFIED) {
		long i = mapi_propvals_find_id(g->props, PROP_ID(tag));
		pv = i >= 0 ? &g->props->vals[i] : NULL;
	} else {
		pv = mapi_propvals_get(g->props, tag);
	}
	if (pv == NULL || PROP_TYPE(pv->tag) == PT_ERROR)
		return 0;
	*pv_r = pv;
	return 1;
}

/* Subrestrictions: each recipient or attachment of the message in turn. */
static uint32_t row_sub(void *ctx, uint32_t subobject, const struct mapi_restriction *res,
	const struct mapi_res_eval *parent, bool *match_r)
{
	struct rowget *g = ctx;
	*match_r = false;
	if (g->c == NULL)
		return ecSuccess;
	struct mtree *tree;
	struct msgmeta meta;
	uint32_t ec = store_mtree_load(g->c, g->pool, g->id, false, 0, &tree, &meta);
	if (ec != ecSuccess)
		return ec;
	bool rcpts = PROP_ID(subobject) == PROP_ID(PR_MESSAGE_RECIPIENTS);
	if (!rcpts && PROP_ID(subobject) != PROP_ID(PR_MESSAGE_ATTACHMENTS))
		return ecSuccess;
	ec = rcpts ? store_mtree_load_rcpts(g->c, g->pool, tree)
		   : store_mtree_load_atts(g->c, g->pool, tree);
	if (ec != ecSuccess)
		return ec;
	size_t n = rcpts ? tree->rcpts.n : tree->atts.n;
	for (size_t i = 0; i < n && !*match_r; i++) {
		struct sprops *sp = rcpts ? &tree->rcpts.v[i].props : &tree->atts.v[i].props;
		struct mapi_propvals pv;
		ec = store_props_get(g->mb->store, sp, NULL, NULL, NULL, NULL, 0, g->pool, &pv);
		if (ec != ecSuccess)
			return ec;
		if (rcpts)
			mapi_propvals_set_long(g->pool, &pv, PR_ROWID, (int32_t)tree->rcpts.v[i].row);
		else
			mapi_propvals_set_long(g->pool, &pv, PR_ATTACH_NUM, (int32_t)tree->atts.v[i].num);
		struct rowget sub = {.props = &pv};
		struct mapi_res_eval e = {.get = row_get, .ctx = &sub, .pool = g->pool};
		ec = mapi_restriction_eval(res, &e, match_r);
		if (ec != ecSuccess)
			return ec;
	}
	(void)parent;
	return ecSuccess;
}

/* Evaluates res in C on message row id. */
static uint32_t eval_row(struct store_table *t, struct dbconn *c, int64_t id,
	const struct mapi_restriction *res, struct mapi_res_eval *e, pool_t *pool, bool *m)
{
	struct mapi_propvals props;
	uint32_t ec = store_message_props_read(t->mb, c, id, NULL, pool, &props);
	if (ec != ecSuccess)
		return ec;
	struct rowget g = {.props = &props, .mb = t->mb, .c = c, .id = id, .pool = pool};
	e->get = row_get;
	e->sub = row_sub;
	e->ctx = &g;
	e->nodes_used = 0;
	e->depth = 0;
	return mapi_restriction_eval(res, e, m);
}

/* Visits the rows after (forward) or before the position p in table order
 * that match the table's restriction and extra (may be NULL), calling fn
 * until it returns 0. *last_r (optional) is set to the last row visited. */
typedef int visit_fn(void *ctx, sqlite3_stmt *st);

static uint32_t sql_walk(struct store_table *t, struct dbconn *c, const struct tpos *p,
	bool forward, const struct mapi_restriction *extra, visit_fn *fn, void *ctx)
{
	struct store_sqlb extra_sql;
	bool extra_exact = true;
	store_sqlb_init(&extra_sql, t->spool);
	if (extra != NULL)
		store_res_to_sql(extra, &extra_sql, &extra_exact);
	struct tpos from;
	tpos_copy(&from, p, t->nkeys);
	pool_t *rowpool = pool_new("walk", 0);
	struct mapi_res_eval e = {.pool = rowpool};
	struct mapi_res_eval e2 = {.pool = rowpool};
	uint32_t ec = ecSuccess;
	bool done = false;
	/* SQL does the LIMIT when it decides alone; otherwise batches. */
	const int64_t batch = (t->c_res == NULL && extra_exact) ? 64 : 256;
	while (!done && ec == ecSuccess) {
		struct store_sqlb q;
		store_sqlb_init(&q, rowpool);
		buf_append_str(&q.sql, "SELECT m.id, m.mid");
		for (size_t i = 0; i < t->nkeys; i++)
			buf_printf(&q.sql, ", %s", t->key_sql[i]);
		buf_append_str(&q.sql, " FROM messages m WHERE ");
		store_sqlb_append(&q, &t->where);
		if (extra != NULL) {
			buf_append_str(&q.sql, " AND ");
			store_sqlb_append(&q, &extra_sql);
		}
		buf_append_str(&q.sql, " AND ");
		keyset(t, &from, forward, &q);
		buf_append_str(&q.sql, " ORDER BY ");
		for (size_t i = 0; i < t->nkeys; i++)
			buf_printf(&q.sql, "%s %s, ", t->key_sql[i],
				(t->key_desc[i] != !forward) ? "DESC" : "ASC");
		buf_printf(&q.sql, "m.id %s LIMIT %lld", (t->id_desc != !forward) ? "DESC" : "ASC",
			(long long)batch);
		sqlite3_stmt *st = NULL;
		int rc = sqlite3_prepare_v2(c->db, buf_cstr(&q.sql), (int)q.sql.len, &st, NULL);
		if (rc != SQLITE_OK) {
			log_error(NULL, "store: table query: %s: %s", sqlite3_errmsg(c->db),
				buf_cstr(&q.sql));
			ec = ecError;
			break;
		}
		store_sqlb_bind(&q, st, 1);
		int64_t got = 0;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			got++;
			tpos_from_stmt(&from, st, t->nkeys, forward);
			int64_t id = sqlite3_column_int64(st, 0);
			bool match = true;
			if (t->c_res != NULL)
				ec = eval_row(t, c, id, t->c_res, &e, rowpool, &match);
			if (ec == ecSuccess && match && extra != NULL && !extra_exact)
				ec = eval_row(t, c, id, extra, &e2, rowpool, &match);
			if (ec != ecSuccess)
				break;
			if (match && fn(ctx, st) == 0) {
				done = true;
				break;
			}
		}
		if (ec == ecSuccess && rc != SQLITE_ROW && rc != SQLITE_DONE)
			ec = store_db_ec(c, rc, "table walk");
		sqlite3_finalize(st);
		if (got < batch)
			done = true;
	}
	tpos_clear(&from, t->nkeys);
	pool_free(&rowpool);
	return ec;
}

/* --- memory tables --- */

static int mrow_cmp(const void *a, const void *b, void *arg)
{
	const struct mrow *ra = a, *rb = b;
	const struct mapi_sort_order *so = arg;
	struct rowget ga = {.props = (struct mapi_propvals *)&ra->props};
	struct rowget gb = {.props = (struct mapi_propvals *)&rb->props};
	int c = so->count > 0 ? mapi_sort_compare(so, row_get, &ga, row_get, &gb) : 0;
	if (c == 0)
		c = ra->id < rb->id ? -1 : ra->id > rb->id;
	return c;
}

static uint32_t load_hierarchy(struct store_table *t, pool_t *pool)
{
	struct rtx x;
	uint32_t ec = store_rtx_begin(t->mb, &x);
	if (ec != ecSuccess)
		return ec;
	ARRAY(uint64_t) fids;
	ARRAY(uint32_t) depths;
	array_init(&fids, pool);
	array_init(&depths, pool);
	sqlite3_stmt *st;
	if (t->deep) {
		st = store_db_prep(x.c,
			"WITH RECURSIVE sub(f, d) AS (SELECT fid, 1 FROM folders WHERE parent = ?"
			" UNION ALL SELECT fid, d + 1 FROM folders, sub WHERE parent = sub.f AND d < ?)"
			" SELECT f, d FROM sub");
		sqlite3_bind_int64(st, 2, STORE_MAX_FOLDER_DEPTH);
	} else {
		st = store_db_prep(x.c, "SELECT fid, 1 FROM folders WHERE parent = ?");
	}
	sqlite3_bind_int64(st, 1, (int64_t)t->fid);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		array_push(&fids, (uint64_t)sqlite3_column_int64(st, 0));
		array_push(&depths, (uint32_t)sqlite3_column_int64(st, 1));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		ec = store_db_ec(x.c, rc, "hierarchy");
	for (size_t i = 0; ec == ecSuccess && i < fids.n; i++) {
		struct mapi_propvals props;
		uint32_t e = store_folder_props_read(t->mb, x.c, fids.v[i], NULL, pool, &props);
		if (e == ecAccessDenied || e == ecNotFound)
			continue; /* not visible to this principal */
		if (e != ecSuccess) {
			ec = e;
			break;
		}
		mapi_propvals_set_long(pool, &props, PR_DEPTH, (int32_t)depths.v[i]);
		struct mrow *r = array_push_new(&t->rows);
		r->id = store_id(fids.v[i]);
		r->props = props;
	}
	t->stamp = t->mb->m->last_cn;
	store_rtx_end(&x);
	return ec;
}

uint32_t store_msg_att_rows(struct store_message *msg, const struct mapi_tags *tags,
	pool_t *pool, struct mapi_propvals **rows_r, uint32_t *count_r);
uint32_t store_msg_rcpt_rows(struct store_message *msg, const struct mapi_tags *tags,
	pool_t *pool, struct mapi_propvals **rows_r, uint32_t *count_r);

/* (Re)loads a memory table if needed, keeping the cursor on its row. */
static uint32_t mem_load(struct store_table *t)
{
	if (t->loaded && t->type == T_HIERARCHY && t->stamp == t->mb->m->last_cn)
		return ecSuccess;
	uint64_t anchor = 0;
	bool have_anchor = false;
	if (t->loaded && t->cur.kind == TP_ROW && t->cur.index < t->rows.n) {
		anchor = t->rows.v[t->cur.index].id;
		have_anchor = true;
	}
	array_clear(&t->rows);
	pool_clear(t->spool);
	uint32_t ec = ecSuccess;
	if (t->type == T_HIERARCHY) {
		ec = load_hierarchy(t, t->spool);
	} else {
		struct mapi_propvals *rows;
		uint32_t n;
		ec = t->type == T_ATTACHMENTS ? store_msg_att_rows(t->msg, NULL, t->spool, &rows, &n)
					      : store_msg_rcpt_rows(t->msg, NULL, t->spool, &rows, &n);
		for (uint32_t i = 0; ec == ecSuccess && i < n; i++) {
			struct mrow *r = array_push_new(&t->rows);
			r->props = rows[i];
			r->id = (uint32_t)mapi_propvals_get_long(&rows[i],
				t->type == T_ATTACHMENTS ? PR_ATTACH_NUM : PR_ROWID, 0);
		}
	}
	if (ec != ecSuccess)
		return ec;
	/* Restrict. */
	if (t->res != NULL) {
		pool_t *ep = pool_new("eval", 0);
		struct mapi_res_eval e = {.pool = ep};
		size_t k = 0;
		for (size_t i = 0; i < t->rows.n; i++) {
			struct rowget g = {.props = &t->rows.v[i].props};
			e.get = row_get;
			e.ctx = &g;
			e.nodes_used = e.depth = 0;
			bool m = false;
			ec = mapi_restriction_eval(t->res, &e, &m);
			if (ec != ecSuccess)
				break;
			if (m)
				t->rows.v[k++] = t->rows.v[i];
		}
		t->rows.n = k;
		pool_free(&ep);
		if (ec != ecSuccess)
			return ec;
	}
	qsort_r(t->rows.v, t->rows.n, sizeof(struct mrow), mrow_cmp, &t->sort);
	t->loaded = true;
	if (have_anchor) {
		for (size_t i = 0; i < t->rows.n; i++) {
			if (t->rows.v[i].id == anchor) {
				t->cur.index = (uint32_t)i;
				break;
			}
		}
	}
	if (t->cur.kind == TP_ROW && t->cur.index > t->rows.n)
		t->cur.index = (uint32_t)t->rows.n;
	return ecSuccess;
}

/* Index of a memory position. */
static uint32_t mem_index(const struct store_table *t, const struct tpos *p)
{
	if (p->kind == TP_BEGIN)
		return 0;
	if (p->kind == TP_END)
		return (uint32_t)t->rows.n;
	return p->index <= t->rows.n ? p->index : (uint32_t)t->rows.n;
}

static void mem_set(struct tpos *p, uint32_t index)
{
	memset(p, 0, sizeof(*p));
	p->kind = TP_ROW;
	p->index = index;
}

/* --- columns of a row --- */

static void instance_key(pool_t *pool, uint64_t id, struct mapi_propval *o)
{
	uint8_t k[8];
	for (int i = 0; i < 8; i++)
		k[i] = (uint8_t)(id >> (8 * i));
	o->tag = PR_INSTANCE_KEY;
	o->v.bin.cb = 8;
	o->v.bin.pb = pool_memdup(pool, k, 8);
}

static void project(struct store_table *t, const struct mapi_propvals *all, uint64_t id,
	pool_t *pool, struct mapi_propvals *out)
{
	out->count = out->cap = t->cols.count;
	out->vals = pool_calloc(pool, t->cols.count ? t->cols.count : 1, sizeof(*out->vals));
	for (uint32_t i = 0; i < t->cols.count; i++) {
		uint32_t tag = t->cols.tags[i];
		struct mapi_propval *o = &out->vals[i];
		if (PROP_ID(tag) == PROP_ID(PR_INSTANCE_KEY)) {
			instance_key(pool, id, o);
			continue;
		}
		const struct mapi_propval *pv;
		if (PROP_TYPE(tag) == PT_UNSPECIFIED) {
			long k = mapi_propvals_find_id(all, PROP_ID(tag));
			pv = k >= 0 ? &all->vals[k] : NULL;
		} else {
			pv = mapi_propvals_get(all, tag);
		}
		if (pv == NULL || PROP_TYPE(pv->tag) == PT_ERROR) {
			o->tag = CHANGE_PROP_TYPE(tag, PT_ERROR);
			o->v.err = pv != NULL ? pv->v.err : ecNotFound;
			continue;
		}
		mapi_propval_copy(pool, o, pv);
		if (PROP_TYPE(tag) != PT_UNSPECIFIED)
			o->tag = tag;
	}
}

/* Row columns of contents rows, by row id. */
static uint32_t contents_rows(struct store_table *t, struct dbconn *c, const int64_t *ids,
	const uint64_t *mids, uint32_t n, pool_t *pool, struct store_rows *out)
{
	out->count = n;
	out->rows = pool_calloc(pool, n ? n : 1, sizeof(*out->rows));
	out->ids = pool_calloc(pool, n ? n : 1, sizeof(*out->ids));
	struct mapi_tags want = t->cols;
	for (uint32_t i = 0; i < n; i++) {
		struct mapi_propvals got;
		uint32_t ec = store_message_props_read(t->mb, c, ids[i], &want, pool, &got);
		if (ec != ecSuccess)
			return ec;
		for (uint32_t k = 0; k < got.count; k++)
			if (PROP_ID(t->cols.tags[k]) == PROP_ID(PR_INSTANCE_KEY))
				instance_key(pool, mids[i], &got.vals[k]);
		out->rows[i] = got;
		out->ids[i] = store_id(mids[i]);
	}
	return ecSuccess;
}

/* --- reading --- */

/* Collects up to want rows; reading forward it also looks at the row after
 * them, so that the cursor can sit just before it (a bookmark then names
 * the next row to read, as in MS-OXCTABL). */
struct collect {
	uint32_t want;
	bool forward;
	ARRAY(int64_t) ids;
	ARRAY(uint64_t) mids;
	struct tpos last; /* forward: after the last row (or before the next);
			     backward: before the earliest */
	size_t nkeys;
};

static int collect_fn(void *ctx, sqlite3_stmt *st)
{
	struct collect *cl = ctx;
	if (cl->forward && cl->ids.n == cl->want) {
		tpos_from_stmt(&cl->last, st, cl->nkeys, false);
		return 0;
	}
	array_push(&cl->ids, sqlite3_column_int64(st, 0));
	array_push(&cl->mids, (uint64_t)sqlite3_column_int64(st, 1));
	tpos_from_stmt(&cl->last, st, cl->nkeys, cl->forward);
	return cl->forward || cl->ids.n < cl->want;
}

uint32_t store_table_query_rows(struct store_table *t, uint32_t count, bool forward,
	uint32_t flags, pool_t *pool, struct store_rows *out, bool *at_edge_r)
{
	if ((flags & ~STORE_QUERY_NO_ADVANCE) != 0)
		return ecUnknownFlags;
	memset(out, 0, sizeof(*out));
	if (at_edge_r != NULL)
		*at_edge_r = false;
	if (count == 0)
		return ecInvalidParam;
	bool advance = !(flags & STORE_QUERY_NO_ADVANCE);
	if (t->type != T_CONTENTS) {
		uint32_t ec = mem_load(t);
		if (ec != ecSuccess)
			return ec;
		uint32_t at = mem_index(t, &t->cur);
		uint32_t lo, hi;
		if (forward) {
			lo = at;
			hi = count > t->rows.n - at ? (uint32_t)t->rows.n : at + count;
		} else {
			hi = at;
			lo = count > at ? 0 : at - count;
		}
		out->count = hi - lo;
		out->rows = pool_calloc(pool, out->count ? out->count : 1, sizeof(*out->rows));
		out->ids = pool_calloc(pool, out->count ? out->count : 1, sizeof(*out->ids));
		for (uint32_t i = lo; i < hi; i++) {
			project(t, &t->rows.v[i].props, t->rows.v[i].id, pool, &out->rows[i - lo]);
			out->ids[i - lo] = t->rows.v[i].id;
		}
		if (at_edge_r != NULL)
			*at_edge_r = forward ? hi == t->rows.n : lo == 0;
		if (advance)
			mem_set(&t->cur, forward ? hi : lo);
		return ecSuccess;
	}
	struct rtx x;
	uint32_t ec = store_rtx_begin(t->mb, &x);
	if (ec != ecSuccess)
		return ec;
	struct collect cl = {.want = count, .nkeys = t->nkeys, .forward = forward};
	array_init(&cl.ids, NULL);
	array_init(&cl.mids, NULL);
	ec = sql_walk(t, x.c, &t->cur, forward, NULL, collect_fn, &cl);
	if (ec == ecSuccess) {
		uint32_t n = (uint32_t)cl.ids.n;
		if (!forward) {
			/* Collected backward: table order is the reverse, and the
			 * positions swap. */
			for (uint32_t i = 0; i < n / 2; i++) {
				int64_t a = cl.ids.v[i];
				cl.ids.v[i] = cl.ids.v[n - 1 - i];
				cl.ids.v[n - 1 - i] = a;
				uint64_t b = cl.mids.v[i];
				cl.mids.v[i] = cl.mids.v[n - 1 - i];
				cl.mids.v[n - 1 - i] = b;
			}
		}
		ec = contents_rows(t, x.c, cl.ids.v, cl.mids.v, n, pool, out);
		if (at_edge_r != NULL)
			*at_edge_r = n < count;
		if (ec == ecSuccess && advance && n > 0) {
			tpos_clear(&t->cur, t->nkeys);
			tpos_copy(&t->cur, &cl.last, t->nkeys);
		} else if (ec == ecSuccess && advance && n == 0) {
			tpos_clear(&t->cur, t->nkeys);
			t->cur.kind = forward ? TP_END : TP_BEGIN;
		}
	}
	tpos_clear(&cl.last, t->nkeys);
	array_free(&cl.ids);
	array_free(&cl.mids);
	store_rtx_end(&x);
	return ec;
}

/* --- seeking --- */

/* Skips want rows; forward, the position ends just before the next row
 * when there is one. */
struct skip {
	int64_t want;
	int64_t moved;
	struct tpos pos;
	size_t nkeys;
	bool forward;
};

static int skip_fn(void *ctx, sqlite3_stmt *st)
{
	struct skip *s = ctx;
	if (s->forward && s->moved == s->want) {
		tpos_from_stmt(&s->pos, st, s->nkeys, false);
		return 0;
	}
	s->moved++;
	tpos_from_stmt(&s->pos, st, s->nkeys, s->forward);
	return s->forward || s->moved < s->want;
}

/* Moves offset rows from position from; the result goes to t->cur. */
static uint32_t seek_from(struct store_table *t, const struct tpos *from, int32_t offset,
	int32_t *moved_r)
{
	if (t->type != T_CONTENTS) {
		uint32_t ec = mem_load(t);
		if (ec != ecSuccess)
			return ec;
		int64_t at = mem_index(t, from);
		int64_t to = at + offset;
		if (to < 0)
			to = 0;
		if (to > (int64_t)t->rows.n)
			to = (int64_t)t->rows.n;
		mem_set(&t->cur, (uint32_t)to);
		if (moved_r != NULL)
			*moved_r = (int32_t)(to - at);
		return ecSuccess;
	}
	struct tpos start;
	tpos_copy(&start, from, t->nkeys);
	if (offset == 0) {
		tpos_clear(&t->cur, t->nkeys);
		t->cur = start;
		if (moved_r != NULL)
			*moved_r = 0;
		return ecSuccess;
	}
	struct rtx x;
	uint32_t ec = store_rtx_begin(t->mb, &x);
	if (ec != ecSuccess) {
		tpos_clear(&start, t->nkeys);
		return ec;
	}
	bool forward = offset > 0;
	struct skip s = {.want = forward ? offset : -(int64_t)offset,
		.nkeys = t->nkeys,
		.forward = forward};
	ec = sql_walk(t, x.c, &start, forward, NULL, skip_fn, &s);
	store_rtx_end(&x);
	if (ec == ecSuccess) {
		tpos_clear(&t->cur, t->nkeys);
		if (s.moved == 0)
			t->cur = start;
		else {
			t->cur = s.pos;
			tpos_clear(&start, t->nkeys);
		}
		if (moved_r != NULL)
			*moved_r = (int32_t)(forward ? s.moved : -s.moved);
	} else {
		tpos_clear(&s.pos, t->nkeys);
		tpos_clear(&start, t->nkeys);
	}
	return ec;
}

static const struct tpos *origin_pos(struct store_table *t, uint32_t origin, struct tpos *tmp)
{
	memset(tmp, 0, sizeof(*tmp));
	switch (origin) {
	case STORE_BOOKMARK_BEGINNING:
		tmp->kind = TP_BEGIN;
		return tmp;
	case STORE_BOOKMARK_END:
		tmp->kind = TP_END;
		return tmp;
	case STORE_BOOKMARK_CURRENT:
		return &t->cur;
	default:
		for (size_t i = 0; i < t->bms.n; i++)
			if (t->bms.v[i].id == origin)
				return &t->bms.v[i].pos;
		return NULL;
	}
}

uint32_t store_table_seek(struct store_table *t, uint32_t origin, int32_t offset,
	int32_t *moved_r)
{
	if (origin > STORE_BOOKMARK_END)
		return ecInvalidParam;
	struct tpos tmp;
	const struct tpos *from = origin_pos(t, origin, &tmp);
	struct tpos copy;
	tpos_copy(&copy, from, t->nkeys);
	uint32_t ec = seek_from(t, &copy, offset, moved_r);
	tpos_clear(&copy, t->nkeys);
	return ec;
}

uint32_t store_table_create_bookmark(struct store_table *t, uint32_t *bookmark_r)
{
	if (t->type != T_CONTENTS) {
		uint32_t ec = mem_load(t);
		if (ec != ecSuccess)
			return ec;
	}
	struct bookmark *b = array_push_new(&t->bms);
	b->id = t->next_bm++;
	tpos_copy(&b->pos, &t->cur, t->nkeys);
	if (t->type != T_CONTENTS) {
		uint32_t at = mem_index(t, &t->cur);
		mem_set(&b->pos, at);
		/* Anchor memory bookmarks on the row after them. */
		b->pos.id = at < t->rows.n ? (int64_t)t->rows.v[at].id : -1;
	}
	*bookmark_r = b->id;
	return ecSuccess;
}

uint32_t store_table_free_bookmark(struct store_table *t, uint32_t bookmark)
{
	for (size_t i = 0; i < t->bms.n; i++) {
		if (t->bms.v[i].id == bookmark) {
			tpos_clear(&t->bms.v[i].pos, t->nkeys);
			array_delete(&t->bms, i);
			return ecSuccess;
		}
	}
	return ecInvalidBookmark;
}

uint32_t store_table_seek_bookmark(struct store_table *t, uint32_t bookmark, int32_t offset,
	int32_t *moved_r, bool *row_gone_r)
{
	struct tpos tmp;
	const struct tpos *bp = bookmark <= STORE_BOOKMARK_END ? NULL : origin_pos(t, bookmark, &tmp);
	if (bp == NULL)
		return ecInvalidBookmark;
	struct tpos from;
	tpos_copy(&from, bp, t->nkeys);
	bool gone = false;
	if (t->type != T_CONTENTS) {
		uint32_t ec = mem_load(t);
		if (ec != ecSuccess) {
			tpos_clear(&from, t->nkeys);
			return ec;
		}
		if (from.id >= 0) {
			gone = true;
			for (size_t i = 0; i < t->rows.n; i++) {
				if ((int64_t)t->rows.v[i].id == from.id) {
					from.index = (uint32_t)i;
					gone = false;
					break;
				}
			}
		}
	} else if (from.kind == TP_ROW && !from.after) {
		/* Is the bookmarked row (the one after the position) still in
		 * the table? */
		struct rtx x;
		uint32_t ec = store_rtx_begin(t->mb, &x);
		if (ec != ecSuccess) {
			tpos_clear(&from, t->nkeys);
			return ec;
		}
		struct store_sqlb q;
		pool_t *p = pool_new("bm", 0);
		store_sqlb_init(&q, p);
		buf_printf(&q.sql, "SELECT 1 FROM messages m WHERE m.id = %lld AND ",
			(long long)from.id);
		store_sqlb_append(&q, &t->where);
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(x.c->db, buf_cstr(&q.sql), -1, &st, NULL) == SQLITE_OK) {
			store_sqlb_bind(&q, st, 1);
			gone = sqlite3_step(st) != SQLITE_ROW;
		}
		sqlite3_finalize(st);
		pool_free(&p);
		store_rtx_end(&x);
	}
	if (row_gone_r != NULL)
		*row_gone_r = gone;
	uint32_t ec = seek_from(t, &from, offset, moved_r);
	tpos_clear(&from, t->nkeys);
	return ec;
}

struct counter {
	uint32_t n;
};

static int count_fn(void *ctx, sqlite3_stmt *st)
{
	((struct counter *)ctx)->n++;
	return 1;
}

/* Rows between the beginning and p (backward walk) or all of them. */
static uint32_t sql_count(struct store_table *t, struct dbconn *c, const struct tpos *upto,
	uint32_t *n_r)
{
	if (t->c_res == NULL) {
		struct store_sqlb q;
		pool_t *p = pool_new("count", 0);
		store_sqlb_init(&q, p);
		buf_append_str(&q.sql, "SELECT count(*) FROM messages m WHERE ");
		store_sqlb_append(&q, &t->where);
		if (upto != NULL) {
			buf_append_str(&q.sql, " AND ");
			keyset(t, upto, false, &q);
		}
		sqlite3_stmt *st = NULL;
		uint32_t ec = ecSuccess;
		if (sqlite3_prepare_v2(c->db, buf_cstr(&q.sql), -1, &st, NULL) != SQLITE_OK) {
			ec = store_db_ec(c, sqlite3_errcode(c->db), "table count");
		} else {
			store_sqlb_bind(&q, st, 1);
			int rc = sqlite3_step(st);
			if (rc == SQLITE_ROW)
				*n_r = (uint32_t)sqlite3_column_int64(st, 0);
			else
				ec = store_db_ec(c, rc, "table count");
		}
		sqlite3_finalize(st);
		pool_free(&p);
		return ec;
	}
	struct counter cn = {0};
	struct tpos end = {.kind = TP_END};
	uint32_t ec = sql_walk(t, c, upto != NULL ? upto : &end, false, NULL, count_fn, &cn);
	*n_r = cn.n;
	return ec;
}

uint32_t store_table_row_count(struct store_table *t, uint32_t *count_r)
{
	if (t->type != T_CONTENTS) {
		uint32_t ec = mem_load(t);
		if (ec == ecSuccess)
			*count_r = (uint32_t)t->rows.n;
		return ec;
	}
	struct rtx x;
	uint32_t ec = store_rtx_begin(t->mb, &x);
	if (ec != ecSuccess)
		return ec;
	if (t->res == NULL && !t->search) {
		/* The folder's maintained counts. */
		struct folder_row r;
		ec = store_folder_row(x.c, t->fid, &r);
		if (ec == ecSuccess)
			*count_r = t->fai ? r.n_fai : r.n_msgs;
	} else {
		ec = sql_count(t, x.c, NULL, count_r);
	}
	store_rtx_end(&x);
	return ec;
}

uint32_t store_table_position(struct store_table *t, uint32_t *num_r, uint32_t *den_r)
{
	uint32_t ec = store_table_row_count(t, den_r);
	if (ec != ecSuccess)
		return ec;
	if (t->type != T_CONTENTS) {
		*num_r = mem_index(t, &t->cur);
		return ecSuccess;
	}
	if (t->cur.kind == TP_BEGIN) {
		*num_r = 0;
		return ecSuccess;
	}
	if (t->cur.kind == TP_END) {
		*num_r = *den_r;
		return ecSuccess;
	}
	struct rtx x;
	ec = store_rtx_begin(t->mb, &x);
	if (ec != ecSuccess)
		return ec;
	ec = sql_count(t, x.c, &t->cur, num_r);
	store_rtx_end(&x);
	if (ec == ecSuccess && *num_r > *den_r)
		*den_r = *num_r;
	return ec;
}

uint32_t store_table_seek_fraction(struct store_table *t, uint32_t num, uint32_t den)
{
	if (den == 0 || num > den)
		return ecInvalidParam;
	uint32_t total;
	uint32_t ec = store_table_row_count(t, &total);
	if (ec != ecSuccess)
		return ec;
	uint64_t target = (uint64_t)total * num / den;
	struct tpos begin = {.kind = TP_BEGIN};
	return seek_from(t, &begin, (int32_t)(target > INT32_MAX ? INT32_MAX : target), NULL);
}

/* --- find row --- */

struct finder {
	bool found;
	int64_t id;
	uint64_t mid;
	struct tpos pos;
	size_t nkeys;
};

static int find_fn(void *ctx, sqlite3_stmt *st)
{
	struct finder *f = ctx;
	f->found = true;
	f->id = sqlite3_column_int64(st, 0);
	f->mid = (uint64_t)sqlite3_column_int64(st, 1);
	tpos_from_stmt(&f->pos, st, f->nkeys, false);
	return 0;
}

uint32_t store_table_find_row(struct store_table *t, const struct mapi_restriction *res,
	uint32_t origin, bool backward, pool_t *pool, struct store_rows *out)
{
	memset(out, 0, sizeof(*out));
	if (res == NULL)
		return ecInvalidParam;
	uint32_t ec = store_restriction_check(&t->mb->store->set, res);
	if (ec != ecSuccess)
		return ec;
	struct tpos tmp;
	const struct tpos *from = origin_pos(t, origin, &tmp);
	if (from == NULL)
		return ecInvalidBookmark;
	if (t->type != T_CONTENTS) {
		ec = mem_load(t);
		if (ec != ecSuccess)
			return ec;
		uint32_t at = mem_index(t, from);
		pool_t *ep = pool_new("find", 0);
		struct mapi_res_eval e = {.pool = ep};
		int64_t hit = -1;
		for (int64_t i = backward ? (int64_t)at - 1 : at;
			backward ? i >= 0 : i < (int64_t)t->rows.n; i += backward ? -1 : 1) {
			struct rowget g = {.props = &t->rows.v[i].props};
			e.get = row_get;
			e.ctx = &g;
			e.nodes_used = e.depth = 0;
			bool m = false;
			ec = mapi_restriction_eval(res, &e, &m);
			if (ec != ecSuccess)
				break;
			if (m) {
				hit = i;
				break;
			}
		}
		pool_free(&ep);
		if (ec != ecSuccess)
			return ec;
		if (hit < 0)
			return ecNotFound;
		mem_set(&t->cur, (uint32_t)hit);
		out->count = 1;
		out->rows = pool_calloc(pool, 1, sizeof(*out->rows));
		out->ids = pool_calloc(pool, 1, sizeof(*out->ids));
		project(t, &t->rows.v[hit].props, t->rows.v[hit].id, pool, &out->rows[0]);
		out->ids[0] = t->rows.v[hit].id;
		return ecSuccess;
	}
	struct rtx x;
	ec = store_rtx_begin(t->mb, &x);
	if (ec != ecSuccess)
		return ec;
	struct tpos start;
	tpos_copy(&start, from, t->nkeys);
	struct finder f = {.nkeys = t->nkeys};
	ec = sql_walk(t, x.c, &start, !backward, res, find_fn, &f);
	tpos_clear(&start, t->nkeys);
	if (ec == ecSuccess && !f.found)
		ec = ecNotFound;
	if (ec == ecSuccess)
		ec = contents_rows(t, x.c, &f.id, &f.mid, 1, pool, out);
	store_rtx_end(&x);
	if (ec == ecSuccess) {
		/* MS-OXCTABL 3.2.5.13: the cursor is on the found row. */
		tpos_clear(&t->cur, t->nkeys);
		t->cur = f.pos;
	} else {
		tpos_clear(&f.pos, t->nkeys);
	}
	return ec;
}

/* --- search folder counts --- */

uint32_t store_search_counts(struct store_mailbox *mb, struct dbconn *c, uint64_t fid,
	uint32_t *total_r, uint32_t *unread_r)
{
	*total_r = *unread_r = 0;
	struct store_table *t = table_new(mb, T_CONTENTS);
	t->fid = fid;
	t->search = true;
	/* Criteria from this connection's snapshot. */
	struct search_criteria sc;
	uint64_t *fids = NULL;
	uint32_t n = 0;
	uint32_t ec = store_search_load(c, fid, t->spool, &sc);
	if (ec == ecSuccess)
		ec = store_search_expand(c, &sc, t->spool, &fids, &n);
	if (ec == ecSuccess && sc.res != NULL) {
		store_sqlb_init(&t->where, t->spool);
		buf_append_str(&t->where.sql, "m.fai = 0 AND m.fid IN (");
		for (uint32_t i = 0; i < n; i++)
			buf_printf(&t->where.sql, "%s%lld", i > 0 ? "," : "", (long long)fids[i]);
		buf_append_str(&t->where.sql, n == 0 ? "NULL) AND " : ") AND ");
		bool exact;
		store_res_to_sql(sc.res, &t->where, &exact);
		t->c_res = exact ? NULL : sc.res;
		ec = sql_count(t, c, NULL, total_r);
		if (ec == ecSuccess) {
			buf_append_str(&t->where.sql, " AND (m.flags & 1) = 0");
			ec = sql_count(t, c, NULL, unread_r);
		}
	}
	store_table_close(&t);
	return ec;
}
