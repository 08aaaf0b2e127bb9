/* The special folders of a private mailbox (MS-OXOSFLD 2.2.1) and the
 * store object's properties (MS-OXCSTOR 2.2.2). */
#include <string.h>

#include "core/log.h"
#include "store/acl.h"
#include "store/store_int.h"

struct special_def {
	enum store_special which;
	int parent; /* enum store_special, or -1 for none */
	const char *name;
	const char *cls; /* PR_CONTAINER_CLASS, or NULL */
	enum store_folder_type type;
	bool hidden;
};

/* Parents come before their children. */
static const struct special_def specials[] = {
	{STORE_SPECIAL_ROOT, -1, "Root", NULL, STORE_FOLDER_ROOT, false},
	{STORE_SPECIAL_DEFERRED_ACTION, STORE_SPECIAL_ROOT, "Deferred Action", NULL,
		STORE_FOLDER_GENERIC, false},
	{STORE_SPECIAL_SPOOLER_QUEUE, STORE_SPECIAL_ROOT, "Spooler Queue", NULL, STORE_FOLDER_GENERIC,
		false},
	{STORE_SPECIAL_IPM_SUBTREE, STORE_SPECIAL_ROOT, "Top of Information Store", NULL,
		STORE_FOLDER_GENERIC, false},
	{STORE_SPECIAL_COMMON_VIEWS, STORE_SPECIAL_ROOT, "Common Views", NULL, STORE_FOLDER_GENERIC,
		false},
	{STORE_SPECIAL_SCHEDULE, STORE_SPECIAL_ROOT, "Schedule", NULL, STORE_FOLDER_GENERIC, false},
	{STORE_SPECIAL_FINDER, STORE_SPECIAL_ROOT, "Finder", NULL, STORE_FOLDER_GENERIC, false},
	{STORE_SPECIAL_VIEWS, STORE_SPECIAL_ROOT, "Views", NULL, STORE_FOLDER_GENERIC, false},
	{STORE_SPECIAL_SHORTCUTS, STORE_SPECIAL_ROOT, "Shortcuts", NULL, STORE_FOLDER_GENERIC, false},
	{STORE_SPECIAL_FREEBUSY_DATA, STORE_SPECIAL_ROOT, "Freebusy Data", NULL,
		STORE_FOLDER_GENERIC, false},
	{STORE_SPECIAL_REMINDERS, STORE_SPECIAL_ROOT, "Reminders", "Outlook.Reminder",
		STORE_FOLDER_SEARCH, false},
	{STORE_SPECIAL_TODO_SEARCH, STORE_SPECIAL_FINDER, "To-Do Search", "IPF.Task",
		STORE_FOLDER_SEARCH, false},
	{STORE_SPECIAL_INBOX, STORE_SPECIAL_IPM_SUBTREE, "Inbox", "IPF.Note", STORE_FOLDER_GENERIC,
		false},
	{STORE_SPECIAL_OUTBOX, STORE_SPECIAL_IPM_SUBTREE, "Outbox", "IPF.Note", STORE_FOLDER_GENERIC,
		false},
	{STORE_SPECIAL_SENT_ITEMS, STORE_SPECIAL_IPM_SUBTREE, "Sent Items", "IPF.Note",
		STORE_FOLDER_GENERIC, false},
	{STORE_SPECIAL_DELETED_ITEMS, STORE_SPECIAL_IPM_SUBTREE, "Deleted Items", "IPF.Note",
		STORE_FOLDER_GENERIC, false},
	{STORE_SPECIAL_CALENDAR, STORE_SPECIAL_IPM_SUBTREE, "Calendar", "IPF.Appointment",
		STORE_FOLDER_GENERIC, false},
	{STORE_SPECIAL_CONTACTS, STORE_SPECIAL_IPM_SUBTREE, "Contacts", "IPF.Contact",
		STORE_FOLDER_GENERIC, false},
	{STORE_SPECIAL_JOURNAL, STORE_SPECIAL_IPM_SUBTREE, "Journal", "IPF.Journal",
		STORE_FOLDER_GENERIC, false},
	{STORE_SPECIAL_NOTES, STORE_SPECIAL_IPM_SUBTREE, "Notes", "IPF.StickyNote",
		STORE_FOLDER_GENERIC, false},
	{STORE_SPECIAL_TASKS, STORE_SPECIAL_IPM_SUBTREE, "Tasks", "IPF.Task", STORE_FOLDER_GENERIC,
		false},
	{STORE_SPECIAL_DRAFTS, STORE_SPECIAL_IPM_SUBTREE, "Drafts", "IPF.Note", STORE_FOLDER_GENERIC,
		false},
	{STORE_SPECIAL_JUNK, STORE_SPECIAL_IPM_SUBTREE, "Junk Email", "IPF.Note",
		STORE_FOLDER_GENERIC, false},
	{STORE_SPECIAL_SYNC_ISSUES, STORE_SPECIAL_IPM_SUBTREE, "Sync Issues", "IPF.Note",
		STORE_FOLDER_GENERIC, false},
	{STORE_SPECIAL_CONFLICTS, STORE_SPECIAL_SYNC_ISSUES, "Conflicts", "IPF.Note",
		STORE_FOLDER_GENERIC, false},
	{STORE_SPECIAL_LOCAL_FAILURES, STORE_SPECIAL_SYNC_ISSUES, "Local Failures", "IPF.Note",
		STORE_FOLDER_GENERIC, false},
	{STORE_SPECIAL_SERVER_FAILURES, STORE_SPECIAL_SYNC_ISSUES, "Server Failures", "IPF.Note",
		STORE_FOLDER_GENERIC, false},
	{STORE_SPECIAL_RSS_FEEDS, STORE_SPECIAL_IPM_SUBTREE, "RSS Feeds", "IPF.Note.OutlookHomepage",
		STORE_FOLDER_GENERIC, false},
	{STORE_SPECIAL_TRACKED_MAIL, STORE_SPECIAL_IPM_SUBTREE, "Tracked Mail Processing",
		"IPF.Note", STORE_FOLDER_GENERIC, false},
	{STORE_SPECIAL_CONVERSATION_ACTIONS, STORE_SPECIAL_IPM_SUBTREE,
		"Conversation Action Settings", "IPF.Configuration", STORE_FOLDER_GENERIC, true},
	{STORE_SPECIAL_QUICK_STEPS, STORE_SPECIAL_IPM_SUBTREE, "Quick Step Settings",
		"IPF.Configuration", STORE_FOLDER_GENERIC, true},
	{STORE_SPECIAL_SUGGESTED_CONTACTS, STORE_SPECIAL_IPM_SUBTREE, "Suggested Contacts",
		"IPF.Contact", STORE_FOLDER_GENERIC, false},
};
#define N_SPECIALS (sizeof(specials) / sizeof(specials[0]))

const char *store_special_name(enum store_special which)
{
	for (size_t i = 0; i < N_SPECIALS; i++)
		if (specials[i].which == which)
			return specials[i].name;
	return NULL;
}

static void eid(struct mailbox *m, enum store_special which, pool_t *pool,
	struct mapi_binary *out)
{
	struct buf b;
	buf_init(&b, pool);
	store_eid_folder(m, m->special[which], &b);
	out->cb = (uint32_t)b.len;
	out->pb = b.data;
}

/* MS-OXOSFLD 2.2.5 PidTagAdditionalRenEntryIdsEx: PersistData blocks,
 * each with one RSF_ELID_ENTRYID element, then PERSIST_SENTINEL. */
static void ren_ex(struct mailbox *m, pool_t *pool, struct mapi_binary *out)
{
	static const struct {
		uint16_t persist_id;
		enum store_special which;
	} blocks[] = {
		{0x8001, STORE_SPECIAL_RSS_FEEDS},            /* RSF_PID_RSS_SUBSCRIPTION */
		{0x8002, STORE_SPECIAL_TRACKED_MAIL},         /* RSF_PID_SEND_AND_TRACK */
		{0x8004, STORE_SPECIAL_TODO_SEARCH},          /* RSF_PID_TODO_SEARCH */
		{0x8006, STORE_SPECIAL_CONVERSATION_ACTIONS}, /* RSF_PID_CONV_ACTIONS */
		{0x8008, STORE_SPECIAL_SUGGESTED_CONTACTS},   /* RSF_PID_SUGGESTED_CONTACTS */
	};
	struct buf b;
	buf_init(&b, pool);
	for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
		struct buf e;
		buf_init(&e, pool);
		store_eid_folder(m, m->special[blocks[i].which], &e);
		buf_append_u16le(&b, blocks[i].persist_id);
		buf_append_u16le(&b, (uint16_t)(4 + e.len));
		buf_append_u16le(&b, 0x0001); /* RSF_ELID_ENTRYID */
		buf_append_u16le(&b, (uint16_t)e.len);
		buf_append(&b, e.data, e.len);
	}
	buf_append_u16le(&b, 0x0000); /* PERSIST_SENTINEL */
	buf_append_u16le(&b, 0);
	out->cb = (uint32_t)b.len;
	out->pb = b.data;
}

/* The special-folder EntryIDs that clients read on the Root folder and the
 * Inbox (MS-OXOSFLD 2.2.2-2.2.6, 3.1.4.1). */
static void finder_props(struct mailbox *m, pool_t *pool, struct sprops *p)
{
	static const struct {
		uint32_t tag;
		enum store_special which;
	} single[] = {
		{PR_IPM_APPOINTMENT_ENTRYID, STORE_SPECIAL_CALENDAR},
		{PR_IPM_CONTACT_ENTRYID, STORE_SPECIAL_CONTACTS},
		{PR_IPM_JOURNAL_ENTRYID, STORE_SPECIAL_JOURNAL},
		{PR_IPM_NOTE_ENTRYID, STORE_SPECIAL_NOTES},
		{PR_IPM_TASK_ENTRYID, STORE_SPECIAL_TASKS},
		{PR_REM_ONLINE_ENTRYID, STORE_SPECIAL_REMINDERS},
		{PR_IPM_DRAFTS_ENTRYID, STORE_SPECIAL_DRAFTS},
	};
	array_init(&p->a, pool);
	for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++) {
		struct sprop *sp = array_push_new(&p->a);
		sp->tag = single[i].tag;
		eid(m, single[i].which, pool, &sp->v.bin);
	}
	/* MS-OXOSFLD 2.2.4: Conflicts, Sync Issues, Local Failures, Server
	 * Failures, Junk Email. */
	static const enum store_special ren[] = {STORE_SPECIAL_CONFLICTS, STORE_SPECIAL_SYNC_ISSUES,
		STORE_SPECIAL_LOCAL_FAILURES, STORE_SPECIAL_SERVER_FAILURES, STORE_SPECIAL_JUNK};
	struct sprop *sp = array_push_new(&p->a);
	sp->tag = PR_ADDITIONAL_REN_ENTRYIDS;
	sp->v.mv.count = 5;
	sp->v.mv.bin = pool_calloc(pool, 5, sizeof(struct mapi_binary));
	for (size_t i = 0; i < 5; i++)
		eid(m, ren[i], pool, &sp->v.mv.bin[i]);
	sp = array_push_new(&p->a);
	sp->tag = PR_ADDITIONAL_REN_ENTRYIDS_EX;
	ren_ex(m, pool, &sp->v.bin);
	/* MS-OXOSFLD 2.2.6 PidTagFreeBusyEntryIds: index 3 is the Freebusy
	 * Data folder; 0-2 name messages that do not exist yet. */
	sp = array_push_new(&p->a);
	sp->tag = PR_FREEBUSY_ENTRYIDS;
	sp->v.mv.count = 4;
	sp->v.mv.bin = pool_calloc(pool, 4, sizeof(struct mapi_binary));
	eid(m, STORE_SPECIAL_FREEBUSY_DATA, pool, &sp->v.mv.bin[3]);
}

static uint32_t put_props(struct wtx *t, uint64_t fid, const struct sprops *p)
{
	struct buf scratch;
	buf_init(&scratch, NULL);
	uint32_t ec = ecSuccess;
	for (size_t i = 0; i < p->a.n && ec == ecSuccess; i++) {
		sqlite3_stmt *st = store_db_prep(t->c,
			"INSERT OR REPLACE INTO folder_props (fid, propid, type, value)"
			" VALUES (?, ?, ?, ?)");
		sqlite3_bind_int64(st, 1, (int64_t)fid);
		sqlite3_bind_int(st, 2, PROP_ID(p->a.v[i].tag));
		sqlite3_bind_int(st, 3, PROP_TYPE(p->a.v[i].tag));
		store_bind_value(st, 4, p->a.v[i].tag, &p->a.v[i].v, &scratch);
		ec = store_db_step_done(t->c, st);
	}
	buf_deinit(&scratch);
	return ec;
}

uint32_t store_special_create_all(struct store_mailbox *mb, struct wtx *t, const char *owner_name);
uint32_t store_special_create_all(struct store_mailbox *mb, struct wtx *t, const char *owner_name)
{
	struct mailbox *m = mb->m;
	pool_t *pool = pool_new("specials", 0);
	uint32_t ec = ecSuccess;
	for (size_t i = 0; i < N_SPECIALS && ec == ecSuccess; i++) {
		const struct special_def *d = &specials[i];
		struct sprops p;
		array_init(&p.a, pool);
		if (d->cls != NULL) {
			struct sprop *sp = array_push_new(&p.a);
			sp->tag = PR_CONTAINER_CLASS;
			sp->v.str = (char *)d->cls;
		}
		if (d->hidden) {
			struct sprop *sp = array_push_new(&p.a);
			sp->tag = PR_ATTR_HIDDEN;
			sp->v.b = true;
		}
		uint64_t parent = d->parent >= 0 ? m->special[d->parent] : 0;
		uint64_t fid;
		ec = store_folder_insert(t, parent, d->name, d->type, (int)d->which, &p, &fid);
		if (ec != ecSuccess)
			break;
		m->special[d->which] = fid;
		sqlite3_stmt *st = store_db_prep(t->c,
			"INSERT INTO special_folders (which, fid) VALUES (?, ?)");
		sqlite3_bind_int(st, 1, (int)d->which);
		sqlite3_bind_int64(st, 2, (int64_t)fid);
		ec = store_db_step_done(t->c, st);
	}
	if (ec == ecSuccess) {
		struct sprops p;
		finder_props(m, pool, &p);
		ec = put_props(t, m->special[STORE_SPECIAL_ROOT], &p);
		if (ec == ecSuccess)
			ec = put_props(t, m->special[STORE_SPECIAL_INBOX], &p);
	}
	if (ec == ecSuccess) {
		/* Exchange's default: everybody sees the owner's free/busy. */
		sqlite3_stmt *st = store_db_prep(t->c,
			"INSERT INTO permissions (fid, member, principal, name, rights)"
			" VALUES (?, 0, NULL, 'Default', ?)");
		sqlite3_bind_int64(st, 1, (int64_t)m->special[STORE_SPECIAL_CALENDAR]);
		sqlite3_bind_int64(st, 2, frightsFreeBusySimple);
		ec = store_db_step_done(t->c, st);
	}
	(void)owner_name;
	pool_free(&pool);
	return ec;
}

/* --- the store object --- */

static const uint32_t store_props_all[] = {
	PR_DISPLAY_NAME,
	PR_MAILBOX_OWNER_NAME,
	PR_OBJECT_TYPE,
	PR_RECORD_KEY,
	PR_STORE_RECORD_KEY,
	PR_MAPPING_SIGNATURE,
	PR_STORE_SUPPORT_MASK,
	PR_MESSAGE_SIZE_EXTENDED,
	PR_STORAGE_QUOTA_LIMIT,
	PR_PROHIBIT_RECEIVE_QUOTA,
	PR_PROHIBIT_SEND_QUOTA,
	PR_IPM_SUBTREE_ENTRYID,
	PR_IPM_OUTBOX_ENTRYID,
	PR_IPM_WASTEBASKET_ENTRYID,
	PR_IPM_SENTMAIL_ENTRYID,
	PR_VIEWS_ENTRYID,
	PR_COMMON_VIEWS_ENTRYID,
	PR_FINDER_ENTRYID,
};
#define N_STORE_PROPS (sizeof(store_props_all) / sizeof(store_props_all[0]))

struct sctx {
	struct store_mailbox *mb;
	char *name;
	int64_t size;
};

static int store_compute(void *ctx, uint32_t tag, pool_t *pool, struct mapi_propval *o)
{
	struct sctx *x = ctx;
	struct mailbox *m = x->mb->m;
	enum store_special which;
	switch (PROP_ID(tag)) {
	case PROP_ID(PR_DISPLAY_NAME):
		o->tag = PR_DISPLAY_NAME;
		o->v.str = pool_printf(pool, "Mailbox - %s", x->name);
		return 1;
	case PROP_ID(PR_MAILBOX_OWNER_NAME):
		o->tag = PR_MAILBOX_OWNER_NAME;
		o->v.str = pool_strdup(pool, x->name);
		return 1;
	case PROP_ID(PR_OBJECT_TYPE):
		o->tag = PR_OBJECT_TYPE;
		o->v.l = MAPI_STORE;
		return 1;
	case PROP_ID(PR_RECORD_KEY):
	case PROP_ID(PR_STORE_RECORD_KEY):
	case PROP_ID(PR_MAPPING_SIGNATURE):
		o->tag = store_props_all[PROP_ID(tag) == PROP_ID(PR_RECORD_KEY) ? 3
				: PROP_ID(tag) == PROP_ID(PR_STORE_RECORD_KEY) ? 4 : 5];
		o->v.bin.cb = 16;
		o->v.bin.pb = pool_memdup(pool,
			PROP_ID(tag) == PROP_ID(PR_MAPPING_SIGNATURE) ? m->replica_guid.b : m->guid.b,
			16);
		return 1;
	case PROP_ID(PR_STORE_SUPPORT_MASK):
		/* STORE_ENTRYID_UNIQUE | SEARCH_OK | MODIFY_OK | CREATE_OK |
		 * ATTACH_OK | OLE_OK | SUBMIT_OK | NOTIFY_OK | MV_PROPS_OK |
		 * CATEGORIZE_OK | RTF_OK | RESTRICTION_OK | SORT_OK |
		 * UNCOMPRESSED_RTF | HTML_OK | UNICODE_OK | HAS_SEARCHES */
		o->tag = PR_STORE_SUPPORT_MASK;
		o->v.l = 0x0105bffd;
		return 1;
	case PROP_ID(PR_MESSAGE_SIZE_EXTENDED):
		o->tag = PR_MESSAGE_SIZE_EXTENDED;
		o->v.li = x->size;
		return 1;
	case PROP_ID(PR_STORAGE_QUOTA_LIMIT):
	case PROP_ID(PR_PROHIBIT_RECEIVE_QUOTA):
		/* In KiB (MS-OXCSTOR 2.2.2.1.1). */
		if (x->mb->quota_hard == 0)
			return -1;
		o->tag = PROP_ID(tag) == PROP_ID(PR_STORAGE_QUOTA_LIMIT)
			? PR_STORAGE_QUOTA_LIMIT
			: PR_PROHIBIT_RECEIVE_QUOTA;
		o->v.l = (int32_t)(x->mb->quota_hard / 1024);
		return 1;
	case PROP_ID(PR_PROHIBIT_SEND_QUOTA):
		if (x->mb->quota_warn == 0)
			return -1;
		o->tag = PR_PROHIBIT_SEND_QUOTA;
		o->v.l = (int32_t)(x->mb->quota_warn / 1024);
		return 1;
	case PROP_ID(PR_IPM_SUBTREE_ENTRYID):
		which = STORE_SPECIAL_IPM_SUBTREE;
		break;
	case PROP_ID(PR_IPM_OUTBOX_ENTRYID):
		which = STORE_SPECIAL_OUTBOX;
		break;
	case PROP_ID(PR_IPM_WASTEBASKET_ENTRYID):
		which = STORE_SPECIAL_DELETED_ITEMS;
		break;
	case PROP_ID(PR_IPM_SENTMAIL_ENTRYID):
		which = STORE_SPECIAL_SENT_ITEMS;
		break;
	case PROP_ID(PR_VIEWS_ENTRYID):
		which = STORE_SPECIAL_VIEWS;
		break;
	case PROP_ID(PR_COMMON_VIEWS_ENTRYID):
		which = STORE_SPECIAL_COMMON_VIEWS;
		break;
	case PROP_ID(PR_FINDER_ENTRYID):
		which = STORE_SPECIAL_FINDER;
		break;
	default:
		return 0;
	}
	o->tag = CHANGE_PROP_TYPE(tag, PT_BINARY);
	eid(m, which, pool, &o->v.bin);
	return 1;
}

uint32_t store_mailbox_get_props(struct store_mailbox *mb, const struct mapi_tags *tags,
	pool_t *pool, struct mapi_propvals *out)
{
	struct rtx t;
	uint32_t ec = store_rtx_begin(mb, &t);
	if (ec != ecSuccess)
		return ec;
	struct sctx x = {.mb = mb, .name = pool_strdup(pool, "")};
	sqlite3_stmt *st = store_db_prep(t.c, "SELECT value FROM meta WHERE key = 'display_name'");
	if (sqlite3_step(st) == SQLITE_ROW)
		x.name = pool_strdup(pool, (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	store_meta_get_int(t.c, "size", &x.size);
	store_rtx_end(&t);
	struct sprops none;
	array_init(&none.a, pool);
	return store_props_get(mb->store, &none, tags, store_compute, &x, store_props_all,
		N_STORE_PROPS, pool, out);
}
