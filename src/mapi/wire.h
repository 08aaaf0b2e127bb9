/* Wire encodings of [MS-OXCDATA]: property values (2.11), restrictions
 * (2.12), sort order sets (2.13), property names (2.6.1), property rows
 * (2.8) — as ROP buffers, FastTransfer streams, extended rules and the
 * MAPI/HTTP address book carry them.
 *
 * Written by hand: no Debian library speaks these formats.
 *
 * Count widths differ by context ([MS-OXCDATA] 2.11.1.1): in ROP buffers
 * binary byte counts and restriction child counts are 16 bits; in extended
 * rules ([MS-OXORULE] 2.2.4) and MAPI/HTTP they are 32 bits. Multi-value
 * counts are 32 bits in both. PT_UNICODE travels as NUL-terminated
 * UTF-16LE, PT_STRING8 as NUL-terminated text in the session's code page;
 * in memory both are UTF-8.
 *
 * Every parser is bounded: lengths and counts are checked against the bytes
 * left before anything is allocated, nesting is limited to
 * MAPI_RES_MAX_DEPTH and MAPI_RES_MAX_NODES, and malformed input is an
 * error, never a crash. */
#ifndef MAPI_WIRE_H
#define MAPI_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/pool.h"
#include "mapi/mapi.h"

enum mapi_wire_width {
	MAPI_WIRE_ROP = 0, /* 16-bit byte and restriction counts */
	MAPI_WIRE_EXT = 1, /* 32-bit counts: extended rules, MAPI/HTTP */
};

/* A cursor over received bytes. Values parsed from it are allocated from
 * pool. */
struct mapi_reader {
	const uint8_t *data;
	size_t len;
	size_t pos;
	pool_t *pool;
	enum mapi_wire_width width;
	/* Code page of PT_STRING8 values (Windows code page number, e.g.
	 * 1252); 0 or 65001 means UTF-8. */
	uint32_t codepage;
	/* Set on error (static string), with pos at the failing field. */
	const char *error;
	/* Nesting state of restrictions being parsed (callers leave 0). */
	unsigned depth;
	uint32_t nodes;
};

/* Initialises a reader over data[0..len). */
void mapi_reader_init(struct mapi_reader *r, const void *data, size_t len, pool_t *pool,
	enum mapi_wire_width width);
/* Bytes not yet consumed. */
static inline size_t mapi_reader_left(const struct mapi_reader *r)
{
	return r->len - r->pos;
}

/* Primitive reads: 0, or -1 (r->error set) when the buffer is too short. */
int mapi_read_u8(struct mapi_reader *r, uint8_t *v);
int mapi_read_u16(struct mapi_reader *r, uint16_t *v);
int mapi_read_u32(struct mapi_reader *r, uint32_t *v);
int mapi_read_u64(struct mapi_reader *r, uint64_t *v);
int mapi_read_guid(struct mapi_reader *r, struct guid *g);
/* Points *p_r at the next n bytes (not copied) and skips them. */
int mapi_read_bytes(struct mapi_reader *r, size_t n, const uint8_t **p_r);

/* Output: appended to a buf. width as for readers; codepage for PT_STRING8
 * output (0/65001: UTF-8). Writers return 0, or -1 for values that have no
 * wire form (unknown types, PT_OBJECT, PT_UNSPECIFIED, a binary too long for
 * a 16-bit count, a restriction over the limits); out then holds a partial
 * result the caller discards. */
struct mapi_writer {
	struct buf *out;
	enum mapi_wire_width width;
	uint32_t codepage;
	const char *error;
};

/* --- property values (2.11) --- */

/* A value of type type (no tag). PT_NULL has no bytes. */
int mapi_put_value(struct mapi_writer *w, uint16_t type, const union mapi_pvalue *v);
int mapi_get_value(struct mapi_reader *r, uint16_t type, union mapi_pvalue *v);

/* PropertyValue / TaggedPropertyValue (2.11.2.1, 2.11.4): PropertyTag(4)
 * then the value. */
int mapi_put_tagged(struct mapi_writer *w, const struct mapi_propval *pv);
int mapi_get_tagged(struct mapi_reader *r, struct mapi_propval *pv);

/* TypedPropertyValue (2.11.3): PropertyType(2) then the value; the result's
 * tag has property ID 0. */
int mapi_put_typed(struct mapi_writer *w, const struct mapi_propval *pv);
int mapi_get_typed(struct mapi_reader *r, struct mapi_propval *pv);

/* FlaggedPropertyValue (2.11.5): Flag(1), then the value (flag 0x00), no
 * value (0x01) or a PtypErrorCode (0x0A). The type comes from the column
 * (type). On output a PT_ERROR value (pv->tag's type) is written as flag
 * 0x0A, pv == NULL as 0x01. On input *pv gets the column's tag type, or
 * PT_ERROR for flag 0x0A, or PT_NULL for 0x01. */
#define MAPI_FLAG_VALUE 0x00
#define MAPI_FLAG_ABSENT 0x01
#define MAPI_FLAG_ERROR 0x0a
int mapi_put_flagged(struct mapi_writer *w, uint32_t column_tag, const struct mapi_propval *pv);
int mapi_get_flagged(struct mapi_reader *r, uint32_t column_tag, struct mapi_propval *pv);

/* FlaggedPropertyValueWithType (2.11.6): PropertyType(2), Flag(1), value. */
int mapi_put_flagged_typed(struct mapi_writer *w, const struct mapi_propval *pv);
int mapi_get_flagged_typed(struct mapi_reader *r, struct mapi_propval *pv);

/* TypedString (2.11.7): StringType(1) then nothing (0x00 absent, 0x01
 * empty), an 8-bit string (0x02), "reduced Unicode" 8-bit (0x03) or
 * UTF-16LE (0x04). put chooses 0x01 for "", 0x04 otherwise; s == NULL is
 * 0x00. get returns NULL for 0x00. */
int mapi_put_typed_string(struct mapi_writer *w, const char *s);
int mapi_get_typed_string(struct mapi_reader *r, char **s_r);

/* A property row (2.8.1): Flag(1) 0x00 (StandardPropertyRow: one value per
 * column, types from the columns) or 0x01 (FlaggedPropertyRow: one
 * FlaggedPropertyValue per column). A column of type PT_UNSPECIFIED carries
 * TypedPropertyValues. put writes a standard row unless a column's value is
 * missing (NULL entry) or an error, then a flagged row. */
int mapi_put_row(struct mapi_writer *w, const struct mapi_tags *columns,
	const struct mapi_propval *const *values);
int mapi_get_row(struct mapi_reader *r, const struct mapi_tags *columns,
	struct mapi_propvals *row);

/* A PropertyTagArray (count(2) + tags) and a list of TaggedPropertyValues
 * with a 16-bit count (RopSetProperties, RopGetPropertiesAll). Counts are
 * bounded by the bytes left. */
int mapi_put_tags(struct mapi_writer *w, const struct mapi_tags *tags);
int mapi_get_tags(struct mapi_reader *r, struct mapi_tags *tags);
int mapi_put_propvals(struct mapi_writer *w, const struct mapi_propvals *vals);
int mapi_get_propvals(struct mapi_reader *r, struct mapi_propvals *vals);

/* --- restrictions (2.12), sort orders (2.13), names (2.6.1) --- */

/* A restriction tree; depth and node limits of mapi/restriction.h apply in
 * both directions (ecTooComplex-sized trees are refused). */
int mapi_put_restriction(struct mapi_writer *w, const struct mapi_restriction *res);
int mapi_get_restriction(struct mapi_reader *r, struct mapi_restriction **res_r);

/* SortOrderSet: SortOrderCount(2), CategorizedCount(2), ExpandedCount(2),
 * then SortOrder entries (PropertyType(2), PropertyId(2), Order(1)). */
int mapi_put_sort_order(struct mapi_writer *w, const struct mapi_sort_order *so);
int mapi_get_sort_order(struct mapi_reader *r, struct mapi_sort_order *so);

/* PropertyName: Kind(1), GUID(16), then LID(4) for MNID_ID or
 * NameSize(1) + UTF-16LE name for MNID_STRING. Names are written with a
 * terminating NUL counted in NameSize; a name without one is accepted.
 * Kind 0xFF (no name) parses to kind 0xFF. */
#define MNID_NONE 0xff
int mapi_put_propname(struct mapi_writer *w, const struct mapi_propname *n);
int mapi_get_propname(struct mapi_reader *r, struct mapi_propname *n);

#endif
