/* Whole messages in and out of the store as struct mapi_message
 * (mapi/message.h): what content conversion produces and consumes (MIME,
 * TNEF, iCalendar, vCard), what transport delivers. */
#ifndef STORE_MESSAGE_IMPORT_H
#define STORE_MESSAGE_IMPORT_H

#include "mapi/message.h"
#include "store/store.h"

/* Creates and saves a message in fid from m: its properties (named ones
 * mapped from m's name table to this mailbox's IDs), recipients (numbered
 * in order when they carry no PR_ROWID), attachments and embedded
 * messages, and the original MIME when mime is not NULL (a blob from
 * store_blob_put). Properties the store computes (PR_MESSAGE_SIZE,
 * PR_HASATTACH, PR_ATTACH_NUM, IDs and keys, ...) are left out; any other
 * bad value fails the import and nothing is written. flags:
 * STORE_MSG_ASSOCIATED, STORE_SAVE_DELIVERY (publishes NEW_MAIL). Works
 * inside a batch like any save. *mid_r (optional) gets the new MID. */
uint32_t store_message_import(struct store_mailbox *mb, mapi_id_t fid,
	const struct mapi_message *m, const struct store_blob_ref *mime, uint32_t flags,
	mapi_id_t *mid_r);

/* The open message (its pending state included) as a mapi_message in
 * pool: every property, computed ones too, with values of any size (read
 * through streams), named properties as indexes into the message's name
 * table, recipients, attachments and embedded messages. */
uint32_t store_message_export(struct store_message *msg, pool_t *pool, struct mapi_message **m_r);

#endif
