/* Notifications: in-process publish/subscribe per mailbox (the events of
 * MS-OXCNOTIF 2.2.1.4: new mail, object created, modified, deleted, moved,
 * copied). IMAP IDLE, ActiveSync Ping, EWS subscriptions and MAPI
 * notification waits subscribe; the store publishes after each commit.
 *
 * Callbacks run on the thread that committed, after the commit, outside
 * every store lock except the subscriber list's read lock. They must not
 * block and must not call back into the store or unsubscribe: typically
 * they copy what they need and post to an event loop (net_conn_post). */
#ifndef STORE_NOTIFY_H
#define STORE_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "mapi/mapi.h"

struct store_mailbox;

/* Event types, as bits for subscription masks (MS-OXCNOTIF
 * NotificationType values). */
enum store_event_type {
	STORE_EVENT_NEW_MAIL = 0x0002,
	STORE_EVENT_CREATED = 0x0004,
	STORE_EVENT_DELETED = 0x0008,
	STORE_EVENT_MODIFIED = 0x0010,
	STORE_EVENT_MOVED = 0x0020,
	STORE_EVENT_COPIED = 0x0040,
	STORE_EVENT_SEARCH_COMPLETE = 0x0080,
};
#define STORE_EVENT_ALL 0x00feu

struct store_event {
	enum store_event_type type;
	bool is_message; /* false: a folder */
	mapi_id_t fid;     /* the folder, or the message's folder */
	mapi_id_t mid;     /* 0 for folders */
	mapi_id_t parent;  /* a folder's parent */
	/* moved / copied: where the object was (a message's old MID differs). */
	mapi_id_t old_fid;
	mapi_id_t old_mid;
	mapi_id_t old_parent;
	uint32_t message_flags; /* NEW_MAIL: PR_MESSAGE_FLAGS */
	uint32_t uid;           /* messages: the IMAP UID in fid */
	uint64_t cn;            /* the change number of the event */
	bool associated;        /* an FAI message */
};

/* Called for each matching event. ctx is the subscriber's. */
typedef void store_notify_fn(void *ctx, const struct store_event *ev);

struct store_subscription;

/* Subscribes to mask's events of the handle's mailbox; with fid != 0 only
 * to events about that folder (the folder itself or its messages) and,
 * with mid != 0, that message. Works across every handle on the mailbox.
 * Returns NULL only for bad arguments. */
struct store_subscription *store_subscribe(struct store_mailbox *mb, uint32_t mask,
	mapi_id_t fid, mapi_id_t mid, store_notify_fn *fn, void *ctx);
/* Unsubscribes: when it returns no callback of the subscription is
 * running or will run, so ctx may be freed. Not from inside a callback.
 * Accepts NULL. */
void store_unsubscribe(struct store_subscription **sub);

/* Internal to the store; declared here for its files. */
struct store_notify_hub;
struct store_notify_hub *store_notify_hub_new(void);
void store_notify_hub_free(struct store_notify_hub **hub);
void store_notify_publish(struct store_notify_hub *hub, const struct store_event *evs,
	size_t count);

#endif
