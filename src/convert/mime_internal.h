/* Shared between mime_import.c and mime_export.c; not a public contract. */
#ifndef CONVERT_MIME_INTERNAL_H
#define CONVERT_MIME_INTERNAL_H

#include <stdint.h>

#include "core/pool.h"
#include "mapi/mapi.h"

/* Sets PR_SUBJECT, PR_SUBJECT_PREFIX and PR_NORMALIZED_SUBJECT from a
 * full subject (MS-OXCMSG 2.2.1.9, 2.2.1.10). */
void mime_subject_props(pool_t *pool, struct mapi_propvals *p, const char *subject);
/* Content-Language tag <-> LCID (PR_MESSAGE_LOCALE_ID); 0 / NULL if unknown. */
int32_t mime_language_to_lcid(const char *tag);
const char *mime_lcid_to_language(int32_t lcid);

#endif
