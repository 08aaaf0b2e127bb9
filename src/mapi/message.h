/* A message object in memory, before or after it meets the store:
 * properties, recipients, attachments, and embedded messages (recursively).
 *
 * This is the currency between content conversion (MIME, TNEF, iCalendar,
 * vCard -> message and back), the store (which persists and loads it) and
 * the protocols. Everything hangs off one pool owned by the caller.
 *
 * Named properties: a message made outside the store cannot know a
 * mailbox's named-property IDs, so it carries its own name table. A
 * property whose ID is >= 0x8000 refers to names[id - 0x8000]; the store
 * maps these to the mailbox's IDs when it saves the message, and fills the
 * table the same way when it loads one. */
#ifndef MAPI_MESSAGE_H
#define MAPI_MESSAGE_H

#include "core/array.h"
#include "core/pool.h"
#include "mapi/mapi.h"

struct mapi_message;

struct mapi_recipient {
	/* PR_RECIPIENT_TYPE (MAPI_TO, MAPI_CC, MAPI_BCC of mapi/flags.h), PR_DISPLAY_NAME,
	 * PR_EMAIL_ADDRESS, PR_ADDRTYPE, PR_SMTP_ADDRESS, PR_ENTRYID, ... */
	struct mapi_propvals props;
};

struct mapi_attachment {
	/* PR_ATTACH_METHOD, PR_ATTACH_LONG_FILENAME, PR_ATTACH_MIME_TAG,
	 * PR_ATTACH_CONTENT_ID, PR_ATTACH_SIZE, PR_RENDERING_POSITION, ...
	 * For ATTACH_BY_VALUE the data is PR_ATTACH_DATA_BIN in props. */
	struct mapi_propvals props;
	/* For ATTACH_EMBEDDED_MSG (method 5): the embedded message (its
	 * name table is the top-level message's). */
	struct mapi_message *embedded;
};

struct mapi_message {
	pool_t *pool;
	struct mapi_propvals props;
	ARRAY(struct mapi_recipient) recipients;
	ARRAY(struct mapi_attachment) attachments;
	/* Shared by the whole tree: embedded messages point to the top's. */
	ARRAY(struct mapi_propname) *names;
};

#endif
