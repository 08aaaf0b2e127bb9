/* Private to src/store: restrictions and sort keys as SQL over the
 * messages table (alias m), and the SQL functions the store registers on
 * its connections. */
#ifndef STORE_RESTRICT_SQL_H
#define STORE_RESTRICT_SQL_H

#include "store/store_int.h"

enum store_bind_kind {
	STORE_BIND_INT,
	STORE_BIND_TEXT,
	STORE_BIND_BLOB,
	STORE_BIND_VALUE, /* an sqlite3_value (sort keys of a position) */
};

struct store_sqlbind {
	enum store_bind_kind kind;
	int64_t i;
	const void *p;
	size_t n;
	sqlite3_value *v;
};

/* SQL text with its parameters, in order. */
struct store_sqlb {
	struct buf sql;
	ARRAY(struct store_sqlbind) binds;
	pool_t *pool;
};

void store_sqlb_init(struct store_sqlb *b, pool_t *pool);
void store_sqlb_append(struct store_sqlb *dst, const struct store_sqlb *src);
/* Binds b's parameters from index first on. */
void store_sqlb_bind(const struct store_sqlb *b, sqlite3_stmt *st, int first);

/* Appends a 0/1 expression for res (see restrict_sql.c); *exact_r tells
 * whether the C evaluation can be skipped. */
void store_res_to_sql(const struct mapi_restriction *res, struct store_sqlb *b, bool *exact_r);

enum store_sort_sql {
	STORE_SORT_SQL_NONE, /* not sortable in SQL */
	STORE_SORT_SQL_OK,
};
/* Appends the sort expression of a message property (with COLLATE MAPI
 * for strings). */
enum store_sort_sql store_sort_expr(uint32_t tag, struct buf *out);

/* Registers the MAPI collation and mapi_content() on a connection. */
int store_sql_register(sqlite3 *db);

/* From message.c: whether tag is a computed message property, and the
 * indexed tag of a property ID (0 if none). */
bool store_message_computed(uint32_t tag);
uint32_t store_msg_indexed_tag(uint16_t id);

#endif
