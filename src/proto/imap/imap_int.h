/* Private to src/proto/imap: the session, the command table, the selected
 * mailbox and the helpers the command handlers share. */
#ifndef PROTO_IMAP_IMAP_INT_H
#define PROTO_IMAP_IMAP_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/pool.h"
#include "proto/imap/imap.h"
#include "proto/imap/parser.h"
#include "store/changes.h"
#include "store/imap_flags.h"
#include "store/notify.h"

enum imap_state {
	IMAP_STATE_NOAUTH = 0,
	IMAP_STATE_AUTH,
	IMAP_STATE_SELECTED,
	IMAP_STATE_LOGOUT,
};

/* How the framer reads the next input. */
enum imap_frame_mode {
	IMAP_FRAME_COMMAND = 0,
	IMAP_FRAME_LINE, /* one line: an AUTHENTICATE response, IDLE's DONE */
};

/* A message of the selected mailbox, at index seq - 1. */
struct imap_msg {
	uint32_t uid;
	uint32_t flags;  /* STORE_IMAP_* */
	uint64_t modseq;
	bool expunged;   /* gone from the store, EXPUNGE not yet sent */
};

struct imap_selected {
	mapi_id_t fid;
	char *name; /* heap */
	bool readonly;
	uint32_t uidvalidity;
	uint32_t uidnext;
	struct imap_msg *msgs; /* heap, by UID = by sequence number */
	uint32_t count, cap;
	uint64_t modseq_seen;   /* changes up to here are known to the client */
	uint64_t vanish_seen;   /* expunges up to here are known to the client */
	/* store_mailbox_commits when the last complete sync began, and when
	 * (time_mono_ms): imap_sync skips the store while neither moved. */
	uint64_t synced_commits;
	uint64_t synced_ms;
	bool expunge_pending; /* that sync could not report expunges */
	uint32_t *searchres;    /* SEARCHRES "$": UIDs (heap) */
	uint32_t searchres_count;
	struct store_subscription *sub;
};

struct imap_session;

/* An AUTHENTICATE or IDLE waiting for a continuation line. */
typedef int imap_line_fn(struct imap_session *s, const unsigned char *line, size_t len);

struct imap_session {
	struct net_conn *conn;
	struct imap_server *srv;
	pool_t *pool;     /* the session's (user names, ...) */
	pool_t *cmd_pool; /* cleared after each command */
	struct imap_parser parser;
	enum imap_frame_mode frame_mode;
	size_t max_line;
	enum imap_state state;
	unsigned bad_count;

	/* After login. */
	const char *user;        /* the authenticated user's primary address */
	const char *mailbox_owner;
	uint64_t quota; /* the mailbox owner's, bytes, fixed at login; 0: none */
	struct store_mailbox *mb;
	bool utf8;      /* ENABLE UTF8=ACCEPT / IMAP4rev2 */
	bool rev2;      /* ENABLE IMAP4rev2 */
	bool condstore; /* a CONDSTORE-enabling command was seen */
	bool qresync;
	struct imap_selected *sel;

	/* The command being run. */
	const char *tag;
	const char *name;
	bool uid_cmd;
	bool no_expunge; /* RFC 3501 7.4.1: no EXPUNGE during this command */
	bool was_bad;    /* the command was answered BAD */
	struct buf out;  /* response being built (heap) */
	const char *fatal_msg; /* why the framer gave up (static) */
	size_t raised_max;     /* the command limit was raised for a literal */

	/* A continuation in progress. */
	imap_line_fn *line_fn;
	const char *line_tag; /* in pool */
	int auth_mech, auth_step;
	char *auth_user;
	struct directory_ntlm *ntlm; /* AUTHENTICATE NTLM in progress */
	/* In IDLE: store changes are posted to the session as they happen
	 * (read by the notification callback on the committer's thread). */
	atomic_bool idling;

	/* A store change was posted and not yet taken. */
	atomic_bool change_posted;

	/* The mailbox list as last read (cmd_list.c), NULL if none. */
	struct imap_mbox_cache *mboxes;
};

/* --- The command table --- */

#define IMAP_CMD_NOAUTH 0x01u   /* valid before login */
#define IMAP_CMD_AUTH 0x02u     /* valid after login */
#define IMAP_CMD_SELECTED 0x04u /* valid with a mailbox selected */
#define IMAP_CMD_ANY (IMAP_CMD_NOAUTH | IMAP_CMD_AUTH | IMAP_CMD_SELECTED)
/* Untagged EXPUNGE may not be sent during this command (RFC 3501 7.4.1). */
#define IMAP_CMD_NO_EXPUNGE 0x10u
#define IMAP_CMD_UID 0x20u /* may follow UID */

/* Returns 0 (the handler wrote the tagged reply) or -1 to close. */
typedef int imap_cmd_fn(struct imap_session *s, struct imap_arg *args);

struct imap_command {
	const char *name;
	imap_cmd_fn *fn;
	unsigned flags;
};

const struct imap_command *imap_command_find(const char *name);

/* --- Replies --- */

/* Tagged: "<tag> OK <text>\r\n" etc. text may start with a [CODE]. */
void imap_ok(struct imap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void imap_no(struct imap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void imap_bad(struct imap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Untagged "* <text>\r\n". */
void imap_untagged(struct imap_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Moves s->out to the connection (back-pressured). -1 when it is gone. */
int imap_flush_out(struct imap_session *s);
/* A NO for a store error code ([TRYCREATE], [NONEXISTENT], [NOPERM], ...). */
void imap_no_ec(struct imap_session *s, uint32_t ec, const char *what);

bool imap_peer_is_loopback(struct imap_session *s);
/* May passwords be sent on this connection (TLS, or allowed)? */
bool imap_plaintext_ok(struct imap_session *s);
/* Logs in as user (opened mailbox and all); writes nothing. 0 or -1 with
 * a NO already written. */
struct directory_user;
int imap_login_done(struct imap_session *s, const struct directory_user *user,
	const char *mailbox_owner);
/* The capability list for the current state (without "CAPABILITY"). */
const char *imap_capabilities(struct imap_session *s);

/* --- Mailbox names (cmd_list.c) --- */

/* Resolves an IMAP mailbox name (INBOX any case; "/"-separated path under
 * the IPM subtree; modified UTF-7 unless UTF-8 was enabled) to a FID.
 * ecNotFound when it does not exist, ecInvalidParam for a bad name. */
uint32_t imap_mailbox_find(struct imap_session *s, const char *name, mapi_id_t *fid_r);
/* Decodes a client's mailbox name into UTF-8 (into pool): NULL if
 * invalid. */
const char *imap_mailbox_decode(struct imap_session *s, const char *name);
/* Appends a mailbox name as the client expects it (quoted or literal,
 * modified UTF-7 unless UTF-8 is on). */
void imap_mailbox_write(struct imap_session *s, struct buf *out, const char *utf8);
/* Modified UTF-7 (RFC 3501 5.1.3) <-> UTF-8; NULL for invalid input. */
const char *imap_mutf7_decode(pool_t *pool, const char *s);
const char *imap_mutf7_encode(pool_t *pool, const char *s);

/* --- The selected mailbox (mailbox.c) --- */

/* Opens fid for SELECT/EXAMINE and writes the untagged replies; for
 * QRESYNC, known_modseq/known_uids may say what the client knows. */
int imap_select(struct imap_session *s, mapi_id_t fid, const char *name, bool readonly,
	struct imap_arg *qresync);
/* Frees the session's cached mailbox list. */
void imap_mailbox_cache_free(struct imap_session *s);
/* Closes the selected mailbox (no expunge). */
void imap_unselect(struct imap_session *s);
/* Reports what changed in the store since the client last heard:
 * EXPUNGE/VANISHED (if allowed), EXISTS, FETCH FLAGS. */
int imap_sync(struct imap_session *s, bool allow_expunge);
/* The longest a selected session goes without reading the store for
 * changes while it keeps sending commands (imap_sync). */
#define IMAP_SYNC_MAX_MS 1000
/* Makes the next imap_sync read the store even if this process committed
 * nothing since the last one: for commands that poll (NOOP, CHECK,
 * IDLE). */
void imap_sync_poll(struct imap_session *s);
/* After a write whose effect the session already applied to its view:
 * before is store_mailbox_commits read just before the write. If the
 * write's commit was the only one since the last complete sync, the view
 * is still complete and the next sync need not read the store. */
void imap_sync_own_commit(struct imap_session *s, uint64_t before);
/* Expunges \Deleted messages (all, or those among uids). */
int imap_expunge(struct imap_session *s, const uint32_t *uids, uint32_t n, bool report);

/* Sequence sets (RFC 3501 9 sequence-set, RFC 5182 "$"). */
struct imap_seqset {
	uint32_t *lo, *hi; /* ranges, in pool */
	uint32_t count;
};
/* Parses a sequence set; uid sets "*" to the largest UID, otherwise to the
 * message count. 0 or -1 (syntax, or more than IMAP_MAX_SEQ_RANGES). */
#define IMAP_MAX_SEQ_RANGES 100000u
int imap_seqset_parse(struct imap_session *s, const struct imap_arg *a, bool uid,
	struct imap_seqset *set);
/* The indexes (seq - 1) of the messages in the set, ascending. */
uint32_t *imap_seqset_indexes(struct imap_session *s, const struct imap_seqset *set, bool uid,
	uint32_t *count_r);
/* Writes a UID set "1:3,7" of sorted uids into out. */
void imap_write_uidset(struct buf *out, const uint32_t *uids, uint32_t n);

/* Flags: system flags (STORE_IMAP_*) and keywords. */
void imap_write_flags(struct buf *out, uint32_t flags, char *const *keywords, uint32_t n);
/* Parses flags (a list's elements, or atoms up to EOL) into system flags
 * and keywords (pool). 0, or -1 for a flag that cannot be stored. */
int imap_parse_flags(pool_t *pool, const struct imap_arg *list, uint32_t *flags_r,
	const char ***keywords_r, uint32_t *n_r);
/* The store's data of one message of the selected folder: ecNotFound. */
uint32_t imap_store_msg(struct imap_session *s, uint32_t uid, struct store_imap_msg *m);
/* A message's FETCH FLAGS response item (and MODSEQ with CONDSTORE). */
void imap_write_fetch_flags(struct imap_session *s, uint32_t seq, const struct store_imap_msg *m,
	bool with_uid);

/* A message's MIME in memory: read into a caller's buffer (small ones:
 * no address-space change, which costs every thread of the process) or
 * mapped (large ones). */
struct imap_mime {
	const unsigned char *p;
	size_t len;
	bool mapped;
};
/* Opens mime into *out (rbuf is reused for reading). 0, or -1 when the
 * blob cannot be read. Release with imap_mime_close. */
int imap_mime_open(struct imap_session *s, const struct store_blob_ref *mime, struct buf *rbuf,
	struct imap_mime *out);
void imap_mime_close(struct imap_mime *m);
/* Reads the start of a message's MIME, at least its whole header, into out
 * (replacing what it held). 0, or -1 when the blob cannot be read. */
int imap_read_header(struct imap_session *s, const struct store_blob_ref *mime, struct buf *out);

/* --- SEARCH (cmd_search.c), shared with SORT and THREAD --- */

struct imap_search;
/* Parses the search keys keys (up to the EOL) given in charset (NULL:
 * none named). Returns the query (cmd_pool), or NULL with a BAD or NO
 * ([BADCHARSET]) written. */
struct imap_search *imap_search_parse(struct imap_session *s, const struct imap_arg *keys,
	const char *charset);
/* Was a MODSEQ key given (RFC 7162 3.1.5: the response carries MODSEQ)? */
bool imap_search_has_modseq(const struct imap_search *q);
/* Runs q over the selected mailbox: *idx_r (cmd_pool) the indexes (seq -
 * 1) of the matching messages, ascending; *max_modseq_r (optional) the
 * highest MODSEQ among them. 0, or -1 with a NO written. */
int imap_search_run(struct imap_session *s, struct imap_search *q, uint32_t **idx_r,
	uint32_t *n_r, uint64_t *max_modseq_r);

/* Called from a store notification: marks the session and posts a job. */
void imap_session_notify(void *ctx, const struct store_event *ev);

/* --- Handlers --- */
int imap_cmd_capability(struct imap_session *s, struct imap_arg *args);
int imap_cmd_noop(struct imap_session *s, struct imap_arg *args);
int imap_cmd_logout(struct imap_session *s, struct imap_arg *args);
int imap_cmd_id(struct imap_session *s, struct imap_arg *args);
int imap_cmd_enable(struct imap_session *s, struct imap_arg *args);
int imap_cmd_namespace(struct imap_session *s, struct imap_arg *args);
int imap_cmd_starttls(struct imap_session *s, struct imap_arg *args);
int imap_cmd_login(struct imap_session *s, struct imap_arg *args);
int imap_cmd_authenticate(struct imap_session *s, struct imap_arg *args);
int imap_cmd_list(struct imap_session *s, struct imap_arg *args);
int imap_cmd_lsub(struct imap_session *s, struct imap_arg *args);
int imap_cmd_status(struct imap_session *s, struct imap_arg *args);
int imap_cmd_create(struct imap_session *s, struct imap_arg *args);
int imap_cmd_delete(struct imap_session *s, struct imap_arg *args);
int imap_cmd_rename(struct imap_session *s, struct imap_arg *args);
int imap_cmd_subscribe(struct imap_session *s, struct imap_arg *args);
int imap_cmd_select(struct imap_session *s, struct imap_arg *args);
int imap_cmd_close(struct imap_session *s, struct imap_arg *args);
int imap_cmd_unselect(struct imap_session *s, struct imap_arg *args);
int imap_cmd_expunge(struct imap_session *s, struct imap_arg *args);
int imap_cmd_check(struct imap_session *s, struct imap_arg *args);
int imap_cmd_fetch(struct imap_session *s, struct imap_arg *args);
int imap_cmd_store(struct imap_session *s, struct imap_arg *args);
int imap_cmd_copy(struct imap_session *s, struct imap_arg *args);
int imap_cmd_move(struct imap_session *s, struct imap_arg *args);
int imap_cmd_search(struct imap_session *s, struct imap_arg *args);
int imap_cmd_sort(struct imap_session *s, struct imap_arg *args);
int imap_cmd_thread(struct imap_session *s, struct imap_arg *args);
int imap_cmd_append(struct imap_session *s, struct imap_arg *args);
int imap_cmd_idle(struct imap_session *s, struct imap_arg *args);
int imap_cmd_compress(struct imap_session *s, struct imap_arg *args);
int imap_cmd_getquota(struct imap_session *s, struct imap_arg *args);
int imap_cmd_getquotaroot(struct imap_session *s, struct imap_arg *args);
int imap_cmd_setquota(struct imap_session *s, struct imap_arg *args);

#endif
