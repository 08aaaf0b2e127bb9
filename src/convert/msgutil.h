/* Helpers over the in-memory message object (mapi/message.h) that MIME,
 * TNEF and the other converters share: creating messages, the
 * message-local named-property table, one-off entry IDs and search keys
 * (MS-OXCDATA 2.2.5.1, MS-OXCMSG), and a readable dump for the CLI and
 * the tests. */
#ifndef CONVERT_MSGUTIL_H
#define CONVERT_MSGUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/pool.h"
#include "mapi/flags.h"
#include "mapi/message.h"


/* A new, empty top-level message allocated from pool, with its own name
 * table. */
struct mapi_message *convert_message_new(pool_t *pool);
/* A new, empty message that shares parent's name table (for embedded
 * messages). */
struct mapi_message *convert_message_new_embedded(struct mapi_message *parent);

/* The property ID (>= 0x8000) of name in msg's name table, entered if it
 * is not there. Returns 0 when the table is full. */
uint16_t convert_named_id(struct mapi_message *msg, const struct mapi_propname *name);
/* The ID of name if the table holds it, else 0 (never adds). */
uint16_t convert_named_find(const struct mapi_message *msg, const struct mapi_propname *name);
/* The name of a named property ID, or NULL. */
const struct mapi_propname *convert_named_get(const struct mapi_message *msg, uint16_t id);
/* A PS_INTERNET_HEADERS name for header (the string is not copied). */
struct mapi_propname convert_internet_header_name(const char *header);

/* Appends a one-off entry ID (MS-OXCDATA 2.2.5.1, Unicode strings) for
 * an address of type addrtype ("SMTP"). */
void convert_oneoff_entryid(const char *display_name, const char *addrtype, const char *address,
	struct buf *out);
/* Parses a one-off entry ID. Returns 1 with the three strings allocated
 * from pool, 0 if the entry ID is not a one-off, -1 if it is malformed. */
int convert_oneoff_parse(pool_t *pool, const void *data, size_t len, char **name_r,
	char **addrtype_r, char **address_r);
/* Appends a search key "ADDRTYPE:ADDRESS" upper-cased with its NUL
 * (MS-OXCPRPT PidTagSearchKey for address book entries). */
void convert_search_key(const char *addrtype, const char *address, struct buf *out);

/* Flags for convert_message_dump. */
enum convert_dump_flags {
	/* Print binary values in full instead of cutting them at 64 bytes. */
	CONVERT_DUMP_FULL_BINARY = 0x1,
	/* Leave out PR_ATTACH_DATA_BIN bytes: print only their size and
	 * SHA-256. */
	CONVERT_DUMP_DATA_DIGEST = 0x2,
};

/* Appends a readable, stable dump of msg: one "KEY = VALUE" line per
 * property sorted by tag, KEY being the PR_ name (or the named
 * property's set and name, or the hex tag), prefixed by "recipient[i]."
 * and "attachment[i]." (and "attachment[i].embedded.") for sub-objects;
 * strings quoted with C escapes. What `hermod convert mime2mapi` prints
 * and the corpus expectations match against. */
void convert_message_dump(const struct mapi_message *msg, unsigned flags, struct buf *out);

#endif
