/* What the store's files include for tags and property values: the
 * generated tags (mapi/proptags.h) and the shared constants (mapi/flags.h). */
#ifndef STORE_PTAGS_H
#define STORE_PTAGS_H

#include "mapi/flags.h"
#include "mapi/mapi.h"
#include "mapi/proptags.h"

#endif
