/* The selected mailbox: SELECT/EXAMINE (with CONDSTORE and QRESYNC, RFC
 * 7162), the session's view of it (UID -> sequence number, flags, MODSEQ;
 * the store is the truth), reporting changes made elsewhere (EXISTS,
 * EXPUNGE or VANISHED, FETCH FLAGS), EXPUNGE/CLOSE/UNSELECT, IDLE (RFC
 * 2177), sequence sets and flag names. */
#include <stdlib.h>
#include <string.h>

#include "core/hm_time.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "mapi/errors.h"
#include "proto/imap/imap_int.h"
#include "store/acl.h"

/* --- Flags --- */

#define IMAP_FLAG_LIST "\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded"
static const uint32_t flag_order[] = {STORE_IMAP_SEEN, STORE_IMAP_ANSWERED, STORE_IMAP_FLAGGED,
	STORE_IMAP_DELETED, STORE_IMAP_DRAFT, STORE_IMAP_FORWARDED};

void imap_write_flags(struct buf *out, uint32_t flags, char *const *keywords, uint32_t n)
{
	bool first = true;
	for (size_t i = 0; i < sizeof(flag_order) / sizeof(flag_order[0]); i++) {
		if (!(flags & flag_order[i]))
			continue;
		if (!first)
			buf_append_byte(out, ' ');
		buf_append_str(out, store_imap_flag_name(flag_order[i]));
		first = false;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (!first)
			buf_append_byte(out, ' ');
		buf_append_str(out, keywords[i]);
		first = false;
	}
}

int imap_parse_flags(pool_t *pool, const struct imap_arg *list, uint32_t *flags_r,
	const char ***keywords_r, uint32_t *n_r)
{
	uint32_t f = 0;
	size_t max = imap_args_count(list);
	const char **kw = pool_calloc(pool, max ? max : 1, sizeof(*kw));
	uint32_t n = 0;
	for (const struct imap_arg *a = list; a->type != IMAP_ARG_EOL; a++) {
		if (a->type != IMAP_ARG_ATOM || a->s.len == 0 || a->s.len > 255)
			return -1;
		char *name = slice_dup(pool, a->s);
		/* \Recent cannot be stored (RFC 3501 2.3.2); clients send it
		 * in APPEND anyway: ignore it. */
		if (str_case_eq(name, "\\Recent"))
			continue;
		uint32_t bit;
		int r = store_imap_flag_parse(name, &bit);
		if (r < 0)
			return -1;
		if (r == 1) {
			f |= bit;
			continue;
		}
		bool dup = false;
		for (uint32_t i = 0; i < n && !dup; i++)
			dup = str_case_eq(kw[i], name);
		if (!dup)
			kw[n++] = name;
	}
	*flags_r = f;
	if (keywords_r != NULL)
		*keywords_r = kw;
	if (n_r != NULL)
		*n_r = n;
	return 0;
}

void imap_write_fetch_flags(struct imap_session *s, uint32_t seq, const struct store_imap_msg *m,
	bool with_uid)
{
	buf_printf(&s->out, "* %u FETCH (", seq);
	if (with_uid)
		buf_printf(&s->out, "UID %u ", m->uid);
	buf_append_str(&s->out, "FLAGS (");
	imap_write_flags(&s->out, m->flags, m->keywords, m->n_keywords);
	buf_append_byte(&s->out, ')');
	if (s->condstore)
		buf_printf(&s->out, " MODSEQ (%llu)", (unsigned long long)m->modseq);
	buf_append_str(&s->out, ")\r\n");
}

uint32_t imap_store_msg(struct imap_session *s, uint32_t uid, struct store_imap_msg *m)
{
	struct store_imap_msg *v;
	uint32_t n;
	uint32_t ec = store_imap_list(s->mb, s->sel->fid, uid, uid, 0, s->cmd_pool, &v, &n);
	if (ec != ecSuccess)
		return ec;
	if (n != 1 || v[0].uid != uid)
		return ecNotFound;
	*m = v[0];
	return ecSuccess;
}

/* --- The session's view --- */

static void sel_push(struct imap_selected *sel, const struct store_imap_msg *m)
{
	if (sel->count == sel->cap) {
		sel->cap = sel->cap ? sel->cap * 2 : 256;
		sel->msgs = xrealloc(sel->msgs, xmul(sel->cap, sizeof(*sel->msgs)));
	}
	sel->msgs[sel->count++] = (struct imap_msg){m->uid, m->flags, m->modseq, false};
}

/* Index of uid, or -1. */
static long sel_find(const struct imap_selected *sel, uint32_t uid)
{
	size_t lo = 0, hi = sel->count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (sel->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < sel->count && sel->msgs[lo].uid == uid ? (long)lo : -1;
}

void imap_unselect(struct imap_session *s)
{
	struct imap_selected *sel = s->sel;
	if (sel == NULL)
		return;
	store_unsubscribe(&sel->sub);
	free(sel->msgs);
	free(sel->name);
	free(sel->searchres);
	free(sel);
	s->sel = NULL;
}

int imap_sync(struct imap_session *s, bool allow_expunge)
{
	struct imap_selected *sel = s->sel;
	if (sel == NULL)
		return 0;
	/* Every command ends with a sync; most find nothing new. When this
	 * process committed nothing to the mailbox since the last complete
	 * sync, the store is not read. Commits by other processes (the
	 * command line tools) are not counted: those are found by the sync
	 * that runs at least every IMAP_SYNC_MAX_MS, and after imap_sync_poll
	 * (NOOP, CHECK, IDLE). */
	uint64_t commits = store_mailbox_commits(s->mb);
	uint64_t now = time_mono_ms();
	if (commits == sel->synced_commits && now - sel->synced_ms < IMAP_SYNC_MAX_MS &&
		!(allow_expunge && sel->expunge_pending))
		return 0;
	struct store_imap_folder st;
	uint32_t ec = store_imap_folder(s->mb, sel->fid, &st);
	if (ec == ecNotFound || ec == ecAccessDenied) {
		/* The mailbox was deleted (or our rights removed) under us. */
		imap_untagged(s, "BYE [UNAVAILABLE] The selected mailbox is gone");
		s->state = IMAP_STATE_LOGOUT;
		return -1;
	}
	if (ec != ecSuccess)
		return -1;
	pool_t *pool = s->cmd_pool;
	/* Expunges first, highest sequence number first so that each
	 * number is still right when the client applies it. */
	if (allow_expunge && st.highestmodseq > sel->vanish_seen) {
		uint32_t *uids, n;
		bool reset = false;
		if (store_imap_vanished(s->mb, sel->fid, sel->vanish_seen, pool, &uids, &n, &reset) !=
			ecSuccess)
			return -1;
		if (reset) {
			/* Tombstones older than our state are gone: compare the
			 * whole UID list instead. */
			struct store_imap_msg *all;
			uint32_t na;
			if (store_imap_list(s->mb, sel->fid, 1, 0, 0, pool, &all, &na) != ecSuccess)
				return -1;
			uids = pool_calloc(pool, sel->count ? sel->count : 1, sizeof(*uids));
			n = 0;
			uint32_t j = 0;
			for (uint32_t i = 0; i < sel->count; i++) {
				while (j < na && all[j].uid < sel->msgs[i].uid)
					j++;
				if (j >= na || all[j].uid != sel->msgs[i].uid)
					uids[n++] = sel->msgs[i].uid;
			}
		}
		uint32_t *gone = pool_calloc(pool, n ? n : 1, sizeof(*gone));
		uint32_t ngone = 0;
		for (uint32_t i = n; i > 0; i--) {
			long idx = sel_find(sel, uids[i - 1]);
			if (idx < 0)
				continue;
			if (s->qresync)
				gone[ngone++] = uids[i - 1];
			else
				imap_untagged(s, "%ld EXPUNGE", idx + 1);
			memmove(&sel->msgs[idx], &sel->msgs[idx + 1],
				(sel->count - (size_t)idx - 1) * sizeof(*sel->msgs));
			sel->count--;
		}
		if (ngone > 0) {
			/* RFC 7162 3.2.10: VANISHED replaces EXPUNGE. */
			for (uint32_t i = 0; i < ngone / 2; i++) {
				uint32_t t = gone[i];
				gone[i] = gone[ngone - 1 - i];
				gone[ngone - 1 - i] = t;
			}
			buf_append_str(&s->out, "* VANISHED ");
			imap_write_uidset(&s->out, gone, ngone);
			buf_append_str(&s->out, "\r\n");
		}
		sel->vanish_seen = st.highestmodseq;
	}
	/* New messages. */
	uint32_t last = sel->count ? sel->msgs[sel->count - 1].uid : 0;
	if (st.uidnext > last + 1 && st.uidnext > sel->uidnext) {
		struct store_imap_msg *m;
		uint32_t n;
		if (store_imap_list(s->mb, sel->fid, last + 1, 0, 0, pool, &m, &n) != ecSuccess)
			return -1;
		for (uint32_t i = 0; i < n; i++)
			sel_push(sel, &m[i]);
		if (n > 0)
			imap_untagged(s, "%u EXISTS", sel->count);
		sel->uidnext = st.uidnext;
	}
	/* Flag (and keyword) changes: any new MODSEQ is reported. */
	if (st.highestmodseq > sel->modseq_seen) {
		struct store_imap_msg *m;
		uint32_t n;
		if (store_imap_list(s->mb, sel->fid, 1, last, sel->modseq_seen, pool, &m, &n) !=
			ecSuccess)
			return -1;
		for (uint32_t i = 0; i < n; i++) {
			long idx = sel_find(sel, m[i].uid);
			if (idx < 0)
				continue;
			struct imap_msg *x = &sel->msgs[idx];
			/* MODSEQ 0: the session's own silent STORE (cmd_store.c). */
			bool changed = x->modseq != 0 &&
				(x->modseq != m[i].modseq || x->flags != m[i].flags);
			x->flags = m[i].flags;
			x->modseq = m[i].modseq;
			if (changed)
				imap_write_fetch_flags(s, (uint32_t)idx + 1, &m[i], true);
		}
		sel->modseq_seen = st.highestmodseq;
	}
	/* Complete but for the expunges a command may not report (RFC 3501
	 * 7.4.1): they may be among the changes past vanish_seen. */
	sel->expunge_pending = st.highestmodseq > sel->vanish_seen;
	sel->synced_commits = commits;
	sel->synced_ms = now;
	return 0;
}

void imap_sync_poll(struct imap_session *s)
{
	if (s->sel != NULL)
		s->sel->synced_ms = 0;
}

void imap_sync_own_commit(struct imap_session *s, uint64_t before)
{
	struct imap_selected *sel = s->sel;
	if (sel != NULL && sel->synced_commits == before &&
		store_mailbox_commits(s->mb) == before + 1)
		sel->synced_commits = before + 1;
}

/* --- Sequence sets --- */

static int parse_num(const unsigned char **p, const unsigned char *end, uint32_t star,
	uint32_t *v)
{
	if (*p < end && **p == '*') {
		(*p)++;
		*v = star;
		return 0;
	}
	uint64_t n = 0;
	const unsigned char *start = *p;
	while (*p < end && **p >= '0' && **p <= '9') {
		n = n * 10 + (uint64_t)(**p - '0');
		if (n > UINT32_MAX)
			return -1;
		(*p)++;
	}
	if (*p == start || n == 0)
		return -1;
	*v = (uint32_t)n;
	return 0;
}

int imap_seqset_parse(struct imap_session *s, const struct imap_arg *a, bool uid,
	struct imap_seqset *set)
{
	struct imap_selected *sel = s->sel;
	memset(set, 0, sizeof(*set));
	if (a->type != IMAP_ARG_ATOM || a->s.len == 0)
		return -1;
	if (slice_eq_str(a->s, "$")) {
		/* RFC 5182: the last SEARCH result, as UIDs. */
		if (sel == NULL)
			return -1;
		uint32_t n = sel->searchres_count;
		set->lo = pool_calloc(s->cmd_pool, n ? n : 1, sizeof(uint32_t));
		set->hi = pool_calloc(s->cmd_pool, n ? n : 1, sizeof(uint32_t));
		for (uint32_t i = 0; i < n; i++) {
			uint32_t v = sel->searchres[i];
			if (!uid) {
				long idx = sel_find(sel, v);
				if (idx < 0)
					continue;
				v = (uint32_t)idx + 1;
			}
			set->lo[set->count] = set->hi[set->count] = v;
			set->count++;
		}
		return 0;
	}
	uint32_t star = 0;
	if (sel != NULL && sel->count > 0)
		star = uid ? sel->msgs[sel->count - 1].uid : sel->count;
	size_t ranges = 1;
	for (size_t i = 0; i < a->s.len; i++)
		ranges += a->s.ptr[i] == ',';
	if (ranges > IMAP_MAX_SEQ_RANGES)
		return -1;
	set->lo = pool_calloc(s->cmd_pool, ranges, sizeof(uint32_t));
	set->hi = pool_calloc(s->cmd_pool, ranges, sizeof(uint32_t));
	const unsigned char *p = a->s.ptr, *end = a->s.ptr + a->s.len;
	for (;;) {
		uint32_t x, y;
		if (parse_num(&p, end, star, &x) < 0)
			return -1;
		y = x;
		if (p < end && *p == ':') {
			p++;
			if (parse_num(&p, end, star, &y) < 0)
				return -1;
		}
		if (x > y) {
			uint32_t t = x;
			x = y;
			y = t;
		}
		set->lo[set->count] = x;
		set->hi[set->count] = y;
		set->count++;
		if (p == end)
			break;
		if (*p != ',')
			return -1;
		p++;
	}
	/* "*" in an empty mailbox is 0: matches nothing. */
	return 0;
}

uint32_t *imap_seqset_indexes(struct imap_session *s, const struct imap_seqset *set, bool uid,
	uint32_t *count_r)
{
	struct imap_selected *sel = s->sel;
	uint32_t n = sel->count;
	uint8_t *mark = pool_calloc(s->cmd_pool, n ? n : 1, 1);
	uint32_t total = 0;
	for (uint32_t r = 0; r < set->count; r++) {
		uint32_t lo = set->lo[r], hi = set->hi[r];
		if (lo == 0)
			continue;
		if (uid) {
			/* First index with uid >= lo. */
			size_t a = 0, b = n;
			while (a < b) {
				size_t m = (a + b) / 2;
				if (sel->msgs[m].uid < lo)
					a = m + 1;
				else
					b = m;
			}
			for (size_t i = a; i < n && sel->msgs[i].uid <= hi; i++)
				if (!mark[i]++)
					total++;
		} else {
			if (hi > n)
				hi = n;
			for (uint32_t i = lo; i <= hi; i++)
				if (!mark[i - 1]++)
					total++;
		}
	}
	uint32_t *idx = pool_calloc(s->cmd_pool, total ? total : 1, sizeof(*idx));
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++)
		if (mark[i])
			idx[k++] = i;
	*count_r = k;
	return idx;
}

void imap_write_uidset(struct buf *out, const uint32_t *uids, uint32_t n)
{
	for (uint32_t i = 0; i < n;) {
		uint32_t j = i;
		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		if (i > 0)
			buf_append_byte(out, ',');
		if (j > i)
			buf_printf(out, "%u:%u", uids[i], uids[j]);
		else
			buf_printf(out, "%u", uids[i]);
		i = j + 1;
	}
}

/* --- SELECT / EXAMINE --- */

/* RFC 7162 3.2.5.2: what the client says it knows after QRESYNC. */
static int qresync_report(struct imap_session *s, struct imap_arg *q)
{
	struct imap_selected *sel = s->sel;
	if (q->type != IMAP_ARG_LIST || q->list_count < 2 || q->list[0].type != IMAP_ARG_ATOM ||
		q->list[1].type != IMAP_ARG_ATOM)
		return -1;
	uint64_t uidvalidity, modseq;
	char *v = slice_dup(s->cmd_pool, q->list[0].s);
	char *m = slice_dup(s->cmd_pool, q->list[1].s);
	if (str_to_u64(v, UINT32_MAX, &uidvalidity) < 0 || str_to_u64(m, INT64_MAX, &modseq) < 0 ||
		uidvalidity == 0)
		return -1;
	struct imap_seqset known = {0};
	if (q->list_count >= 3 && imap_seqset_parse(s, &q->list[2], true, &known) < 0)
		return -1;
	if (uidvalidity != sel->uidvalidity)
		return 0; /* the client must resynchronize from scratch */
	uint32_t *uids, n;
	bool reset = false;
	if (store_imap_vanished(s->mb, sel->fid, modseq, s->cmd_pool, &uids, &n, &reset) !=
			ecSuccess ||
		reset)
		return 0; /* RFC 7162 3.2.5.2: the client falls back to a full sync */
	uint32_t *keep = pool_calloc(s->cmd_pool, n ? n : 1, sizeof(*keep));
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++) {
		bool in = known.count == 0;
		for (uint32_t r = 0; r < known.count && !in; r++)
			in = uids[i] >= known.lo[r] && uids[i] <= known.hi[r];
		if (in && sel_find(sel, uids[i]) < 0)
			keep[k++] = uids[i];
	}
	if (k > 0) {
		buf_append_str(&s->out, "* VANISHED (EARLIER) ");
		imap_write_uidset(&s->out, keep, k);
		buf_append_str(&s->out, "\r\n");
	}
	struct store_imap_msg *ch;
	if (store_imap_list(s->mb, sel->fid, 1, 0, modseq, s->cmd_pool, &ch, &n) == ecSuccess) {
		for (uint32_t i = 0; i < n; i++) {
			long idx = sel_find(sel, ch[i].uid);
			if (idx >= 0)
				imap_write_fetch_flags(s, (uint32_t)idx + 1, &ch[i], true);
		}
	}
	return 0;
}

int imap_select(struct imap_session *s, mapi_id_t fid, const char *name, bool readonly,
	struct imap_arg *qresync)
{
	struct store_imap_folder st;
	uint32_t ec = store_imap_folder(s->mb, fid, &st);
	struct store_imap_msg *m = NULL;
	uint32_t n = 0;
	if (ec == ecSuccess)
		ec = store_imap_list(s->mb, fid, 1, 0, 0, s->cmd_pool, &m, &n);
	if (ec != ecSuccess) {
		imap_no_ec(s, ec, s->name);
		return 0;
	}
	if (!readonly) {
		uint32_t rights = 0;
		if (store_acl_my_rights(s->mb, fid, &rights) == ecSuccess &&
			!(rights & (frightsEditAny | frightsEditOwned | frightsDeleteAny |
				      frightsCreate)))
			readonly = true;
	}
	struct imap_selected *sel = xcalloc(1, sizeof(*sel));
	sel->fid = fid;
	sel->name = xstrdup(name);
	sel->readonly = readonly;
	sel->uidvalidity = st.uidvalidity;
	sel->uidnext = st.uidnext;
	sel->modseq_seen = st.highestmodseq;
	sel->vanish_seen = st.highestmodseq;
	sel->cap = n ? n : 16;
	sel->msgs = xmalloc(xmul(sel->cap, sizeof(*sel->msgs)));
	uint32_t first_unseen = 0;
	uint64_t top = 0;
	for (uint32_t i = 0; i < n; i++) {
		sel_push(sel, &m[i]);
		if (!first_unseen && !(m[i].flags & STORE_IMAP_SEEN))
			first_unseen = i + 1;
		if (m[i].modseq > top)
			top = m[i].modseq;
	}
	/* A message changed after the state was read shows up at the next
	 * sync rather than being lost. */
	if (top > sel->modseq_seen) {
		sel->modseq_seen = top;
	}
	s->sel = sel;
	s->state = IMAP_STATE_SELECTED;
	sel->sub = store_subscribe(s->mb, STORE_EVENT_ALL, fid, 0, imap_session_notify, s);
	imap_untagged(s, "FLAGS (" IMAP_FLAG_LIST ")");
	imap_untagged(s, "OK [PERMANENTFLAGS (%s)] Flags permitted",
		readonly ? "" : IMAP_FLAG_LIST " \\*");
	imap_untagged(s, "%u EXISTS", sel->count);
	if (!s->rev2) {
		imap_untagged(s, "0 RECENT");
		if (first_unseen)
			imap_untagged(s, "OK [UNSEEN %u] First unseen", first_unseen);
	}
	imap_untagged(s, "OK [UIDVALIDITY %u] UIDs valid", sel->uidvalidity);
	imap_untagged(s, "OK [UIDNEXT %u] Predicted next UID", sel->uidnext);
	imap_untagged(s, "OK [HIGHESTMODSEQ %llu] Highest", (unsigned long long)st.highestmodseq);
	if (s->rev2) {
		buf_append_str(&s->out, "* LIST () \"/\" ");
		imap_mailbox_write(s, &s->out, name);
		buf_append_str(&s->out, "\r\n");
	}
	if (qresync != NULL && qresync_report(s, qresync) < 0) {
		imap_bad(s, "Invalid QRESYNC parameters");
		return 0;
	}
	imap_ok(s, "[%s] %s completed", readonly ? "READ-ONLY" : "READ-WRITE", s->name);
	return 0;
}

int imap_cmd_select(struct imap_session *s, struct imap_arg *args)
{
	if (!imap_arg_is_astring(&args[0])) {
		imap_bad(s, "%s needs a mailbox name", s->name);
		return 0;
	}
	struct imap_arg *qresync = NULL;
	if (args[1].type == IMAP_ARG_LIST) {
		/* RFC 4466 select parameters: CONDSTORE, QRESYNC (...). */
		for (struct imap_arg *p = args[1].list; p->type != IMAP_ARG_EOL; p++) {
			if (p->type == IMAP_ARG_ATOM && slice_case_eq_str(p->s, "CONDSTORE")) {
				s->condstore = true;
			} else if (p->type == IMAP_ARG_ATOM && slice_case_eq_str(p->s, "QRESYNC") &&
				s->qresync && p[1].type == IMAP_ARG_LIST) {
				qresync = ++p;
			} else {
				imap_bad(s, "Invalid SELECT parameter");
				return 0;
			}
		}
		if (args[2].type != IMAP_ARG_EOL) {
			imap_bad(s, "Too many arguments");
			return 0;
		}
	} else if (args[1].type != IMAP_ARG_EOL) {
		imap_bad(s, "Too many arguments");
		return 0;
	}
	/* RFC 3501 6.3.1: a failed SELECT leaves no mailbox selected. */
	if (s->sel != NULL) {
		imap_unselect(s);
		s->state = IMAP_STATE_AUTH;
		if (s->qresync)
			imap_untagged(s, "OK [CLOSED] Previous mailbox closed");
	}
	const char *name = imap_arg_str(s->cmd_pool, &args[0]);
	mapi_id_t fid;
	uint32_t ec = name ? imap_mailbox_find(s, name, &fid) : ecInvalidParam;
	if (ec != ecSuccess) {
		imap_no_ec(s, ec, s->name);
		return 0;
	}
	const char *utf8 = imap_mailbox_decode(s, name);
	return imap_select(s, fid, str_case_eq(utf8, "INBOX") ? "INBOX" : utf8,
		strcmp(s->name, "EXAMINE") == 0, qresync);
}

/* --- EXPUNGE / CLOSE / UNSELECT --- */

int imap_expunge(struct imap_session *s, const uint32_t *uids, uint32_t nuids, bool report)
{
	uint32_t *gone, n;
	uint32_t ec = store_imap_expunge(s->mb, s->sel->fid, uids, uids ? nuids : 0, s->cmd_pool,
		&gone, &n);
	if (ec != ecSuccess)
		return (int)ec;
	if (report)
		return imap_sync(s, true) < 0 ? (int)ecError : 0;
	return 0;
}

int imap_cmd_expunge(struct imap_session *s, struct imap_arg *args)
{
	uint32_t *uids = NULL, n = 0;
	if (s->uid_cmd) {
		/* RFC 4315 2.1: UID EXPUNGE sequence-set */
		struct imap_seqset set;
		if (imap_seqset_parse(s, &args[0], true, &set) < 0 || args[1].type != IMAP_ARG_EOL) {
			imap_bad(s, "UID EXPUNGE needs a UID set");
			return 0;
		}
		uint32_t *idx = imap_seqset_indexes(s, &set, true, &n);
		uids = pool_calloc(s->cmd_pool, n ? n : 1, sizeof(*uids));
		for (uint32_t i = 0; i < n; i++)
			uids[i] = s->sel->msgs[idx[i]].uid;
	} else if (args[0].type != IMAP_ARG_EOL) {
		imap_bad(s, "EXPUNGE takes no arguments");
		return 0;
	}
	if (s->sel->readonly) {
		imap_no(s, "[READ-ONLY] Mailbox is read-only");
		return 0;
	}
	int r = imap_expunge(s, uids, n, true);
	if (r != 0) {
		imap_no_ec(s, (uint32_t)r, "EXPUNGE");
		return 0;
	}
	imap_ok(s, "EXPUNGE completed");
	return 0;
}

int imap_cmd_close(struct imap_session *s, struct imap_arg *args)
{
	(void)args;
	/* RFC 3501 6.4.2: expunge silently, then unselect. */
	if (!s->sel->readonly)
		imap_expunge(s, NULL, 0, false);
	imap_unselect(s);
	s->state = IMAP_STATE_AUTH;
	imap_ok(s, "CLOSE completed");
	return 0;
}

int imap_cmd_unselect(struct imap_session *s, struct imap_arg *args)
{
	(void)args;
	imap_unselect(s);
	s->state = IMAP_STATE_AUTH;
	imap_ok(s, "UNSELECT completed");
	return 0;
}

/* --- IDLE (RFC 2177) --- */

static int imap_idle_line(struct imap_session *s, const unsigned char *line, size_t len)
{
	atomic_store(&s->idling, false);
	s->frame_mode = IMAP_FRAME_COMMAND;
	s->line_fn = NULL;
	s->tag = pool_strdup(s->cmd_pool, s->line_tag);
	free((char *)s->line_tag);
	s->line_tag = NULL;
	if (len == 4 && str_ncasecmp((const char *)line, "DONE", 4) == 0)
		imap_ok(s, "IDLE terminated");
	else
		imap_bad(s, "Expected DONE");
	return 0;
}

int imap_cmd_idle(struct imap_session *s, struct imap_arg *args)
{
	if (args[0].type != IMAP_ARG_EOL) {
		imap_bad(s, "IDLE takes no arguments");
		return 0;
	}
	/* Idling before the sync reads the store: a commit the sync misses
	 * finds the flag set and posts its change (imap_session_notify). */
	atomic_store(&s->idling, true);
	imap_sync_poll(s);
	if (s->sel != NULL)
		imap_sync(s, true);
	buf_append_str(&s->out, "+ idling\r\n");
	s->line_tag = xstrdup(s->tag);
	s->line_fn = imap_idle_line;
	s->frame_mode = IMAP_FRAME_LINE;
	return 0;
}
