/* Property tag names: the PR_* and PidTag* macros (generated from
 * src/mapi/proptags.tsv into mapi/proptags.h) and a name <-> tag table for
 * printing (`hermod store show`) and parsing (EWS, configuration). */
#ifndef MAPI_TAGS_H
#define MAPI_TAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "mapi/mapi.h"
#include "mapi/proptags.h"

struct mapi_tag_info {
	uint32_t tag;
	const char *name;      /* PR_ name, or NULL when the spec gives none */
	const char *canonical; /* PidTag name ([MS-OXPROPS]), or NULL */
};

/* The generated table, sorted by tag (entries with the same tag keep the
 * data file's order). */
extern const struct mapi_tag_info mapi_tag_table[];
extern const unsigned mapi_tag_table_count;

/* The table entry for tag: an exact match first; failing that an entry with
 * the same property ID whose type is the other string type (PT_STRING8 for
 * PT_UNICODE and back, also multi-valued) or, for PT_UNSPECIFIED and
 * PT_ERROR, any entry with that ID. NULL if the ID is unknown. */
const struct mapi_tag_info *mapi_tag_lookup(uint32_t tag);

/* A display name for tag: the PR_ name, else the PidTag name, else NULL.
 * Static storage. */
const char *mapi_tag_name(uint32_t tag);

/* Parses a tag given as a PR_ name, a PidTag name (exact case), or a number
 * ("0x0037001f" or decimal). Names ending in _A give the PT_STRING8 form of
 * a PT_UNICODE property. Returns 0, or -1 if unknown. */
int mapi_tag_parse(const char *text, uint32_t *tag_r);

/* Appends "PR_SUBJECT (0x0037001f)" or "0x80010003" (unknown tags) to out. */
void mapi_tag_format(uint32_t tag, struct buf *out);

/* The PT_ name of a property type ("PT_UNICODE", "PT_MV_LONG"), or NULL. */
const char *mapi_ptype_name(uint16_t type);
/* The [MS-OXCDATA] 2.11.1 name ("PtypString", "PtypMultipleInteger32"), or
 * NULL. */
const char *mapi_ptype_spec_name(uint16_t type);

#endif
