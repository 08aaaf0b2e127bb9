/* Restrictions ([MS-OXCDATA] 2.12) and sort orders (2.13) over property
 * values: deep copy, validation, evaluation, formatting.
 *
 * The evaluator works on any object through a getter callback, so the store
 * can evaluate over a row it has in memory, a message it loads lazily, or a
 * recipient/attachment sub-table. Restriction size and depth are bounded
 * (MAPI_RES_MAX_DEPTH, MAPI_RES_MAX_NODES): deeper or bigger trees are
 * ecTooComplex, never a stack overflow. */
#ifndef MAPI_RESTRICTION_H
#define MAPI_RESTRICTION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/pool.h"
#include "mapi/mapi.h"

/* Nesting depth (a leaf alone is depth 1) and total node count accepted by
 * the validator, the evaluator and the wire parser. */
#define MAPI_RES_MAX_DEPTH 64
#define MAPI_RES_MAX_NODES 10000

/* Deep copy (all values duplicated) into pool; NULL for NULL. */
struct mapi_restriction *mapi_restriction_copy(pool_t *pool, const struct mapi_restriction *res);

/* Checks a restriction against [MS-OXCDATA] 2.12: known types and relational
 * operators, content restrictions only on string, binary or multi-valued
 * string/binary properties with a value of the matching type, property
 * restrictions whose value type matches the tag's (PT_STRING8/PT_UNICODE are
 * interchangeable; a multi-valued tag takes a single or multi value),
 * bitmask only on PT_LONG, subrestrictions only on PR_MESSAGE_RECIPIENTS or
 * PR_MESSAGE_ATTACHMENTS, comment restrictions with their values, non-NULL
 * children, and the depth and node limits. Returns ecSuccess, ecTooComplex
 * (limits) or ecInvalidParam, with *error_r (may be NULL) naming the
 * problem (static string). */
uint32_t mapi_restriction_validate(const struct mapi_restriction *res, const char **error_r);

/* Returns the value of prop_tag on the object being evaluated. The tag's
 * type may be PT_UNSPECIFIED; the getter then returns the value with any
 * type. Return 1 with *pv_r set (the value must stay valid until the
 * evaluation returns), 0 if the object has no such property, or -1 on
 * error (the evaluation stops with ecError). */
typedef int mapi_res_getter_fn(void *ctx, uint32_t prop_tag, const struct mapi_propval **pv_r);

struct mapi_res_eval;

/* Evaluates a subrestriction: for each row of the sub-table named by
 * subobject (PR_MESSAGE_RECIPIENTS or PR_MESSAGE_ATTACHMENTS) the callback
 * evaluates res (typically by calling mapi_restriction_eval with a getter
 * for that row) and sets *match_r when one row matches. Returns an ec. */
typedef uint32_t mapi_res_sub_fn(void *ctx, uint32_t subobject,
	const struct mapi_restriction *res, const struct mapi_res_eval *parent, bool *match_r);

struct mapi_res_eval {
	mapi_res_getter_fn *get;
	mapi_res_sub_fn *sub; /* NULL: subrestrictions never match */
	void *ctx;
	/* Called for RELOP_MEMBER_OF_DL: is the value (an address book entry
	 * ID or address) a member of the distribution list dl? NULL: never. */
	bool (*member_of_dl)(void *ctx, const struct mapi_propval *value,
		const struct mapi_propval *dl);
	/* Node budget per mapi_restriction_eval call: 0 means
	 * MAPI_RES_MAX_NODES. */
	uint32_t max_nodes;
	/* Count restrictions keep how many objects matched them in tallies,
	 * allocated from pool: reuse one context over the rows of a table.
	 * Without a pool a count restriction is its child. */
	pool_t *pool;
	struct mapi_res_tally {
		const struct mapi_restriction *node;
		uint32_t matched;
	} *tallies;
	uint32_t n_tallies, cap_tallies;
	/* Internal state: callers zero it. */
	uint32_t nodes_used;
	unsigned depth;
};

/* Evaluates res on the object e->get describes ([MS-OXCDATA] 2.12 and
 * [MS-OXCTABL] semantics):
 *  - a missing property fails content, property, bitmask, size and
 *    compare-properties restrictions (also for RELOP_NE);
 *  - on a multi-valued property, property and content restrictions match
 *    when any value matches (a multi-valued restriction value compares
 *    whole against a multi-valued property);
 *  - content: FL_FULLSTRING/FL_SUBSTRING/FL_PREFIX with FL_IGNORECASE on
 *    strings (UTF-8, case folded per code point) and binaries (byte-wise);
 *    FL_IGNORENONSPACE and FL_LOOSE are accepted and treated as
 *    FL_IGNORECASE;
 *  - RELOP_RE: the value is a Perl-compatible regular expression (GLib's
 *    GRegex), matched case-insensitively against a string property;
 *  - count: the child's result while fewer than count objects have
 *    matched this node in this context (see pool above);
 *  - comment: the child restriction, or TRUE without one;
 *  - exist: the property is present.
 * Returns ecSuccess with *match_r set, ecTooComplex when the depth or node
 * limit is passed, ecInvalidParam for malformed input, ecError when the
 * getter fails. */
uint32_t mapi_restriction_eval(const struct mapi_restriction *res, struct mapi_res_eval *e,
	bool *match_r);

/* Appends a readable one-line form ("(AND (EQ PR_SUBJECT \"x\") (EXIST
 * PR_BODY))") to out. */
void mapi_restriction_format(const struct mapi_restriction *res, struct buf *out);

/* --- Sort orders --- */

/* Compares two rows for sort order so: each sort key in turn by
 * mapi_pvalue_compare (strings case-insensitively, as tables do), a missing
 * value sorting before any present value, TABLE_SORT_DESCEND reversing the
 * key. get_a/get_b follow mapi_res_getter_fn. Returns <0, 0, >0. */
int mapi_sort_compare(const struct mapi_sort_order *so, mapi_res_getter_fn *get_a, void *ctx_a,
	mapi_res_getter_fn *get_b, void *ctx_b);

/* Checks a sort order set ([MS-OXCDATA] 2.13.2): orders are 0x00, 0x01 or
 * 0x04 (MaximumCategory only in a categorized sort), categories <= count
 * and expanded <= categories, no multi-valued key without MVI_FLAG. Returns
 * ecSuccess or ecInvalidParam with *error_r. */
uint32_t mapi_sort_order_validate(const struct mapi_sort_order *so, const char **error_r);

#endif
