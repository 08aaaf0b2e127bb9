/* APPEND (RFC 3501 6.3.11) with MULTIAPPEND (RFC 3502), literal8 (RFC
 * 3516), UIDPLUS's APPENDUID (RFC 4315) and APPENDLIMIT (RFC 7889). The
 * literal arrives whole (the framer raised the command limit for it after
 * checking the announced size); the MIME is kept byte for byte as the
 * message's blob. All or nothing (RFC 3502 4): every message of the
 * command, with its flags, is stored in one store batch - one transaction
 * on the mailbox, rolled back if any message fails. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/hm_time.h"
#include "core/str.h"
#include "core/utf.h"
#include "mapi/errors.h"
#include "mapi/proptags.h"
#include "proto/imap/imap_int.h"
#include "convert/mime.h"
#include "core/log.h"
#include "mapi/flags.h"
#include "mapi/propval.h"
#include "store/message_import.h"

static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
	"sep", "oct", "nov", "dec"};

/* RFC 3501 date-time: "dd-Mon-yyyy hh:mm:ss +zzzz" (day may be " d"). */
static int parse_date_time(const struct slice s, int64_t *t_r)
{
	if (s.len != 26)
		return -1;
	char b[27];
	memcpy(b, s.ptr, 26);
	b[26] = '\0';
	int d, y, h, mi, se, zone;
	char mon[4] = {0}, sign;
	if (sscanf(b, "%2d-%3c-%4d %2d:%2d:%2d %c%4d", &d, mon, &y, &h, &mi, &se, &sign, &zone) != 8)
		return -1;
	if (d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || (sign != '+' && sign != '-') ||
		zone % 100 > 59)
		return -1;
	for (int m = 0; m < 12; m++) {
		if (str_case_eq(mon, months[m])) {
			int64_t off = (int64_t)(zone / 100 * 60 + zone % 100) * 60;
			*t_r = time_from_civil(y, m + 1, d, h, mi, se) - (sign == '+' ? off : -off);
			return 0;
		}
	}
	return -1;
}

/* One message of the command. */
struct item {
	uint32_t flags, nkw;
	const char **kw;
	int64_t date;
	struct slice mime;
	struct mapi_message *m; /* converted */
	struct store_blob_ref ref;
};

/* Converts one message: MIME -> MAPI through src/convert (MS-OXCMAIL),
 * and keeps the original MIME as a blob. Done before anything is written,
 * so that the mailbox's write lock is not held while converting. */
static uint32_t append_prepare(struct imap_session *s, struct item *it)
{
	uint64_t ft = time_unix_to_filetime(it->date, 0);
	struct mime_import_opts opts = {
		.max_size = (size_t)s->srv->set.limits.max_append,
		.now = ft,
	};
	struct mapi_message *m;
	const char *error;
	if (mime_to_message(s->cmd_pool, it->mime.ptr, it->mime.len, &opts, &m, NULL, &error) <
		0) {
		log_info(net_conn_log(s->conn), "APPEND: not a message: %s", error);
		return ecInvalidParam;
	}
	/* RFC 3501 6.3.11: the internal date is the delivery time; the
	 * flags that live in PR_MESSAGE_FLAGS are set before the first save. */
	mapi_propvals_set_systime(s->cmd_pool, &m->props, PR_MESSAGE_DELIVERY_TIME, ft);
	uint32_t mflags = (uint32_t)mapi_propvals_get_long(&m->props, PR_MESSAGE_FLAGS, 0);
	mflags &= ~(MSGFLAG_READ | MSGFLAG_UNSENT);
	if (it->flags & STORE_IMAP_SEEN)
		mflags |= MSGFLAG_READ;
	if (it->flags & STORE_IMAP_DRAFT)
		mflags |= MSGFLAG_UNSENT;
	mapi_propvals_set_long(s->cmd_pool, &m->props, PR_MESSAGE_FLAGS, (int32_t)mflags);
	it->m = m;
	/* A blob not referenced in the end (the command failed) is collected
	 * after its grace period. */
	return store_blob_put(s->srv->store, it->mime.ptr, it->mime.len, &it->ref);
}

/* Stores one converted message in fid (inside the command's batch) with
 * its other flags and keywords; *uid_r its UID. */
static uint32_t append_store(struct imap_session *s, mapi_id_t fid, const struct item *it,
	uint32_t *uid_r)
{
	mapi_id_t mid = 0;
	uint32_t ec = store_message_import(s->mb, fid, it->m, &it->ref, 0, &mid);
	if (ec != ecSuccess)
		return ec;
	*uid_r = 0;
	ec = store_imap_mid_to_uid(s->mb, fid, mid, uid_r);
	if (ec == ecNotFound)
		ec = ecError; /* just saved in this transaction */
	uint32_t rest = it->flags & ~(STORE_IMAP_SEEN | STORE_IMAP_DRAFT);
	if (ec == ecSuccess && (rest != 0 || it->nkw > 0)) {
		uint32_t *modified, nmod;
		ec = store_imap_store(s->mb, fid, uid_r, 1, STORE_IMAP_ADD, rest,
			(const char *const *)it->kw, it->nkw, 0, s->cmd_pool, &modified, &nmod);
	}
	return ec;
}

int imap_cmd_append(struct imap_session *s, struct imap_arg *args)
{
	if (!imap_arg_is_astring(&args[0])) {
		imap_bad(s, "APPEND needs a mailbox");
		return 0;
	}
	const char *name = imap_arg_str(s->cmd_pool, &args[0]);
	/* Check the whole command before storing anything. */
	size_t max = imap_args_count(args);
	struct item *items = pool_calloc(s->cmd_pool, max ? max : 1, sizeof(*items));
	size_t n = 0;
	const struct imap_arg *a = &args[1];
	while (a->type != IMAP_ARG_EOL) {
		struct item *it = &items[n];
		it->date = time(NULL);
		if (a->type == IMAP_ARG_LIST) {
			if (imap_parse_flags(s->cmd_pool, a->list, &it->flags, &it->kw, &it->nkw) < 0) {
				imap_bad(s, "Invalid flags");
				return 0;
			}
			a++;
		}
		if (a->type == IMAP_ARG_STRING) {
			if (parse_date_time(a->s, &it->date) < 0) {
				imap_bad(s, "Invalid date-time");
				return 0;
			}
			a++;
		}
		if (a->type != IMAP_ARG_LITERAL) {
			imap_bad(s, "APPEND needs the message as a literal");
			return 0;
		}
		it->mime = a->s;
		if (it->mime.len == 0) {
			imap_no(s, "Empty message");
			return 0;
		}
		if (!a->literal8 && memchr(it->mime.ptr, '\0', it->mime.len) != NULL) {
			/* RFC 3516 4.2: NUL needs literal8. */
			imap_no(s, "[UNKNOWN-CTE] NUL octets need a literal8");
			return 0;
		}
		n++;
		a++;
	}
	if (n == 0) {
		imap_bad(s, "APPEND needs a message");
		return 0;
	}
	mapi_id_t fid;
	uint32_t ec = name ? imap_mailbox_find(s, name, &fid) : ecInvalidParam;
	if (ec == ecNotFound) {
		imap_no(s, "[TRYCREATE] No such mailbox");
		return 0;
	}
	struct store_imap_folder st;
	if (ec == ecSuccess)
		ec = store_imap_folder(s->mb, fid, &st);
	if (ec != ecSuccess) {
		imap_no_ec(s, ec, "APPEND");
		return 0;
	}
	for (size_t i = 0; i < n && ec == ecSuccess; i++)
		ec = append_prepare(s, &items[i]);
	uint32_t *uids = pool_calloc(s->cmd_pool, n, sizeof(*uids));
	struct store_batch *batch = NULL;
	if (ec == ecSuccess) {
		batch = store_batch_new(s->srv->store, STORE_DURABILITY_DEFAULT);
		ec = store_batch_join(batch, s->mb);
	}
	uint64_t commits = store_mailbox_commits(s->mb);
	for (size_t i = 0; i < n && ec == ecSuccess; i++)
		ec = append_store(s, fid, &items[i], &uids[i]);
	if (ec == ecSuccess)
		ec = store_batch_commit(&batch);
	else
		store_batch_abort(&batch);
	if (ec != ecSuccess) {
		imap_no_ec(s, ec, "APPEND");
		return 0;
	}
	/* Into another folder than the selected one: nothing in the view
	 * changed (the batch committed once, on this one mailbox). */
	if (s->sel != NULL && s->sel->fid != fid)
		imap_sync_own_commit(s, commits);
	/* UIDs are given in order, so they ascend (RFC 4315 uid-set). */
	struct buf *set = buf_new(s->cmd_pool, 32);
	imap_write_uidset(set, uids, (uint32_t)n);
	imap_ok(s, "[APPENDUID %u %s] APPEND completed", st.uidvalidity, buf_cstr(set));
	return 0;
}
