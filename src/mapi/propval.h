/* Property values: copy, compare, size and format, and property-value sets
 * (get/set/delete by tag).
 *
 * Memory: values live in a pool_t owned by the caller; copies are deep
 * (strings, binaries, GUIDs, multi-value arrays and restrictions are
 * duplicated), so nothing is "freed" one by one: clearing or freeing the
 * pool releases them. In memory every string is UTF-8 (mapi/mapi.h). */
#ifndef MAPI_PROPVAL_H
#define MAPI_PROPVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/pool.h"
#include "mapi/mapi.h"

/* Deep-copies the value of type type from src into dst, allocating from
 * pool. Returns 0, or -1 for a type that has no value representation
 * (PT_UNSPECIFIED, unknown types): dst is then zeroed. PT_NULL copies
 * nothing and succeeds. */
int mapi_pvalue_copy(pool_t *pool, uint16_t type, union mapi_pvalue *dst,
	const union mapi_pvalue *src);
/* Deep copy of a tagged value; same rules. */
int mapi_propval_copy(pool_t *pool, struct mapi_propval *dst, const struct mapi_propval *src);

/* Comparison flags for mapi_pvalue_compare. */
#define MAPI_CMP_IGNORECASE 0x1 /* strings: fold case (Unicode simple folding) */

/* Compares two values of the same type the way tables sort them
 * ([MS-OXCTABL] 2.2.2.1.1): integers, times, currency numerically (signed);
 * floating point numerically, NaN last; booleans false < true; strings by
 * code point after optional case folding; binaries byte-wise with the
 * shorter one first on a common prefix; GUIDs byte-wise in wire order;
 * multi-valued values element by element, then by count. Returns <0, 0 or
 * >0. Values of types that have no order (PT_OBJECT, PT_SRESTRICTION,
 * PT_ACTIONS, PT_NULL) compare equal. */
int mapi_pvalue_compare(uint16_t type, const union mapi_pvalue *a, const union mapi_pvalue *b,
	unsigned flags);

/* True when both values are equal under mapi_pvalue_compare with flags. */
bool mapi_pvalue_equal(uint16_t type, const union mapi_pvalue *a, const union mapi_pvalue *b,
	unsigned flags);

/* The size a size restriction ([MS-OXCDATA] 2.12.8) and PidTagMessageSize
 * accounting see: fixed types their width, strings the UTF-16 byte count
 * including the terminator for PT_UNICODE (bytes + 1 for PT_STRING8),
 * binaries cb, multi-valued the sum over elements. */
uint32_t mapi_pvalue_size(uint16_t type, const union mapi_pvalue *v);

/* Appends a one-line human-readable form of the value (for the CLI and
 * debug logs): numbers in decimal, booleans true/false, times ISO 8601 UTC,
 * strings quoted with C escapes, binaries as hex (cut after max_bytes bytes
 * with "..." when max_bytes > 0), GUIDs canonical, MV values in braces,
 * errors by ec name. */
void mapi_pvalue_format(uint16_t type, const union mapi_pvalue *v, size_t max_bytes,
	struct buf *out);
/* "PR_SUBJECT = \"hello\"". */
void mapi_propval_format(const struct mapi_propval *pv, size_t max_bytes, struct buf *out);

/* Element i (< mv->count) of a multi-valued value of type mv_type, as a
 * value of the base type (strings and binaries are not copied). */
union mapi_pvalue mapi_mv_element(uint16_t mv_type, const struct mapi_mv *mv, uint32_t i);

/* --- Property-value sets --- */

/* The value for tag, or NULL. The match is on the whole tag, except that a
 * tag of type PT_UNSPECIFIED matches any type with that ID, and PT_STRING8
 * and PT_UNICODE (and their MV forms) match each other. */
struct mapi_propval *mapi_propvals_get(const struct mapi_propvals *set, uint32_t tag);
/* Index of the value with tag's property ID (any type), or -1. */
long mapi_propvals_find_id(const struct mapi_propvals *set, uint16_t prop_id);

/* Sets tag to a deep copy of v (allocated from pool), replacing any value
 * with the same property ID whatever its type. Grows the set from pool.
 * Returns 0, or -1 if the value cannot be copied (see mapi_pvalue_copy). */
int mapi_propvals_set(pool_t *pool, struct mapi_propvals *set, uint32_t tag,
	const union mapi_pvalue *v);
/* Same, taking the value without copying (the caller keeps it alive). */
void mapi_propvals_set_nocopy(pool_t *pool, struct mapi_propvals *set, uint32_t tag,
	union mapi_pvalue v);
/* Convenience setters (copying). */
void mapi_propvals_set_long(pool_t *pool, struct mapi_propvals *set, uint32_t tag, int32_t v);
void mapi_propvals_set_i8(pool_t *pool, struct mapi_propvals *set, uint32_t tag, int64_t v);
void mapi_propvals_set_bool(pool_t *pool, struct mapi_propvals *set, uint32_t tag, bool v);
void mapi_propvals_set_systime(pool_t *pool, struct mapi_propvals *set, uint32_t tag,
	uint64_t filetime);
void mapi_propvals_set_str(pool_t *pool, struct mapi_propvals *set, uint32_t tag,
	const char *utf8);
void mapi_propvals_set_bin(pool_t *pool, struct mapi_propvals *set, uint32_t tag,
	const void *data, uint32_t len);

/* Removes the value with tag's property ID (any type). Returns true if one
 * was removed. Order of the remaining values is kept. */
bool mapi_propvals_delete(struct mapi_propvals *set, uint32_t tag);

/* Deep copy of a whole set. */
void mapi_propvals_copy(pool_t *pool, struct mapi_propvals *dst, const struct mapi_propvals *src);

/* Typed getters: return the value, or def when the property is absent or
 * of another type. Strings: NULL when absent. */
int32_t mapi_propvals_get_long(const struct mapi_propvals *set, uint32_t tag, int32_t def);
int64_t mapi_propvals_get_i8(const struct mapi_propvals *set, uint32_t tag, int64_t def);
bool mapi_propvals_get_bool(const struct mapi_propvals *set, uint32_t tag, bool def);
const char *mapi_propvals_get_str(const struct mapi_propvals *set, uint32_t tag);
const struct mapi_binary *mapi_propvals_get_bin(const struct mapi_propvals *set, uint32_t tag);

/* Case folding used by MAPI_CMP_IGNORECASE and FL_IGNORECASE: appends
 * UTF-8 text with every code point mapped to lower case (GLib's Unicode
 * tables, g_unichar_tolower); invalid bytes are kept as they are. */
void mapi_utf8_fold(const char *s, size_t len, struct buf *out);

#endif
