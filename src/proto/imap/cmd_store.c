/* STORE (RFC 3501 6.4.6, RFC 7162 3.1.3 UNCHANGEDSINCE), COPY (RFC 3501
 * 6.4.7) and MOVE (RFC 6851), with UIDPLUS's COPYUID (RFC 4315). */
#include <string.h>

#include "core/str.h"
#include "mapi/errors.h"
#include "proto/imap/imap_int.h"

int imap_cmd_store(struct imap_session *s, struct imap_arg *args)
{
	struct imap_selected *sel = s->sel;
	struct imap_seqset set;
	if (imap_seqset_parse(s, &args[0], s->uid_cmd, &set) < 0) {
		imap_bad(s, "Invalid sequence set");
		return 0;
	}
	struct imap_arg *a = &args[1];
	uint64_t unchanged_since = 0;
	if (a->type == IMAP_ARG_LIST) {
		if (a->list_count != 2 || a->list[0].type != IMAP_ARG_ATOM ||
			!slice_case_eq_str(a->list[0].s, "UNCHANGEDSINCE") ||
			a->list[1].type != IMAP_ARG_ATOM ||
			str_to_u64(slice_dup(s->cmd_pool, a->list[1].s), INT64_MAX, &unchanged_since) <
				0) {
			imap_bad(s, "Invalid STORE modifier");
			return 0;
		}
		s->condstore = true;
		a++;
	}
	if (a->type != IMAP_ARG_ATOM) {
		imap_bad(s, "STORE needs FLAGS, +FLAGS or -FLAGS");
		return 0;
	}
	struct slice op = a->s;
	enum store_imap_op fop = STORE_IMAP_REPLACE;
	if (op.len > 0 && (op.ptr[0] == '+' || op.ptr[0] == '-')) {
		fop = op.ptr[0] == '+' ? STORE_IMAP_ADD : STORE_IMAP_REMOVE;
		op.ptr++, op.len--;
	}
	bool silent = false;
	if (slice_case_eq_str(op, "FLAGS.SILENT"))
		silent = true;
	else if (!slice_case_eq_str(op, "FLAGS")) {
		imap_bad(s, "STORE needs FLAGS, +FLAGS or -FLAGS");
		return 0;
	}
	a++;
	uint32_t flags, nkw;
	const char **kw;
	int pr;
	if (a->type == IMAP_ARG_LIST)
		pr = a[1].type == IMAP_ARG_EOL ? imap_parse_flags(s->cmd_pool, a->list, &flags, &kw,
							 &nkw)
					       : -1;
	else
		pr = imap_parse_flags(s->cmd_pool, a, &flags, &kw, &nkw);
	if (pr < 0) {
		imap_bad(s, "Invalid flags");
		return 0;
	}
	if (!s->uid_cmd) {
		for (uint32_t i = 0; i < set.count; i++) {
			if (set.hi[i] > sel->count) {
				imap_bad(s, "Invalid message sequence number");
				return 0;
			}
		}
	}
	if (sel->readonly) {
		imap_no(s, "[READ-ONLY] Mailbox is read-only");
		return 0;
	}
	uint32_t n;
	uint32_t *idx = imap_seqset_indexes(s, &set, s->uid_cmd, &n);
	uint32_t *uids = pool_calloc(s->cmd_pool, n ? n : 1, sizeof(*uids));
	for (uint32_t i = 0; i < n; i++)
		uids[i] = sel->msgs[idx[i]].uid;
	uint32_t *modified = NULL, nmod = 0;
	uint64_t commits = store_mailbox_commits(s->mb);
	uint32_t ec = n ? store_imap_store(s->mb, sel->fid, uids, n, fop, flags,
				(const char *const *)kw, nkw, unchanged_since, s->cmd_pool, &modified,
				&nmod)
			: ecSuccess;
	if (ec != ecSuccess) {
		imap_no_ec(s, ec, "STORE");
		return 0;
	}
	if (silent && !s->condstore && nmod == 0) {
		/* Nothing to answer per message. The view takes the new system
		 * flags; MODSEQ 0 marks the session's own change, which the
		 * next sync takes in without reporting it (RFC 3501 6.4.6:
		 * .SILENT). */
		for (uint32_t i = 0; i < n; i++) {
			struct imap_msg *x = &sel->msgs[idx[i]];
			x->flags = fop == STORE_IMAP_REPLACE ? flags
				: fop == STORE_IMAP_ADD   ? x->flags | flags
							  : x->flags & ~flags;
			x->modseq = 0;
		}
		if (n > 0)
			imap_sync_own_commit(s, commits);
		imap_ok(s, "STORE completed");
		return 0;
	}
	/* What the messages look like now (one read over the range). */
	struct store_imap_msg *now = NULL;
	uint32_t nnow = 0;
	if (n > 0 && store_imap_list(s->mb, sel->fid, uids[0], uids[n - 1], 0, s->cmd_pool, &now,
			     &nnow) != ecSuccess) {
		imap_no(s, "[SERVERBUG] STORE failed");
		return 0;
	}
	uint32_t j = 0, mi = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct imap_msg *x = &sel->msgs[idx[i]];
		while (mi < nmod && modified[mi] < x->uid)
			mi++;
		if (mi < nmod && modified[mi] == x->uid) {
			/* reported in [MODIFIED] below, as sequence numbers for
			 * STORE and UIDs for UID STORE */
			modified[mi] = s->uid_cmd ? x->uid : idx[i] + 1;
			continue;
		}
		while (j < nnow && now[j].uid < x->uid)
			j++;
		if (j >= nnow || now[j].uid != x->uid)
			continue; /* expunged meanwhile */
		bool changed = now[j].modseq != x->modseq;
		x->flags = now[j].flags;
		x->modseq = now[j].modseq;
		if (silent && !(changed && s->condstore))
			continue;
		buf_printf(&s->out, "* %u FETCH (", idx[i] + 1);
		if (s->uid_cmd)
			buf_printf(&s->out, "UID %u ", x->uid);
		if (!silent) {
			buf_append_str(&s->out, "FLAGS (");
			imap_write_flags(&s->out, now[j].flags, now[j].keywords, now[j].n_keywords);
			buf_append_str(&s->out, s->condstore ? ") " : ")");
		}
		if (s->condstore)
			buf_printf(&s->out, "MODSEQ (%llu)", (unsigned long long)x->modseq);
		buf_append_str(&s->out, ")\r\n");
	}
	if (nmod > 0) {
		struct buf *b = buf_new(s->cmd_pool, 64);
		for (uint32_t i = 0; i < nmod; i++)
			buf_printf(b, "%s%u", i ? "," : "", modified[i]);
		imap_ok(s, "[MODIFIED %s] Conditional STORE failed for some", buf_cstr(b));
		return 0;
	}
	imap_ok(s, "STORE completed");
	return 0;
}

static int imap_copy_move(struct imap_session *s, struct imap_arg *args, bool move)
{
	struct imap_selected *sel = s->sel;
	struct imap_seqset set;
	if (imap_seqset_parse(s, &args[0], s->uid_cmd, &set) < 0 ||
		!imap_arg_is_astring(&args[1]) || args[2].type != IMAP_ARG_EOL) {
		imap_bad(s, "%s needs a sequence set and a mailbox", s->name);
		return 0;
	}
	if (!s->uid_cmd) {
		for (uint32_t i = 0; i < set.count; i++) {
			if (set.hi[i] > sel->count) {
				imap_bad(s, "Invalid message sequence number");
				return 0;
			}
		}
	}
	if (move && sel->readonly) {
		imap_no(s, "[READ-ONLY] Mailbox is read-only");
		return 0;
	}
	const char *name = imap_arg_str(s->cmd_pool, &args[1]);
	mapi_id_t dst;
	uint32_t ec = name ? imap_mailbox_find(s, name, &dst) : ecInvalidParam;
	if (ec == ecNotFound) {
		imap_no(s, "[TRYCREATE] No such mailbox");
		return 0;
	}
	struct store_imap_folder dst_state;
	if (ec == ecSuccess)
		ec = store_imap_folder(s->mb, dst, &dst_state);
	if (ec != ecSuccess) {
		imap_no_ec(s, ec, s->name);
		return 0;
	}
	uint32_t n;
	uint32_t *idx = imap_seqset_indexes(s, &set, s->uid_cmd, &n);
	if (n == 0) {
		imap_ok(s, "%s completed (nothing to do)", s->name);
		return 0;
	}
	struct store_imap_msg *all;
	uint32_t nall;
	ec = store_imap_list(s->mb, sel->fid, sel->msgs[idx[0]].uid, sel->msgs[idx[n - 1]].uid, 0,
		s->cmd_pool, &all, &nall);
	if (ec != ecSuccess) {
		imap_no_ec(s, ec, s->name);
		return 0;
	}
	mapi_id_t *mids = pool_calloc(s->cmd_pool, n, sizeof(*mids));
	uint32_t *src_uids = pool_calloc(s->cmd_pool, n, sizeof(*src_uids));
	uint32_t k = 0, ai = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t uid = sel->msgs[idx[i]].uid;
		while (ai < nall && all[ai].uid < uid)
			ai++;
		if (ai < nall && all[ai].uid == uid) {
			mids[k] = all[ai].mid;
			src_uids[k++] = uid;
		}
	}
	mapi_id_t *new_mids = pool_calloc(s->cmd_pool, k ? k : 1, sizeof(*new_mids));
	uint32_t partial = 0;
	ec = k ? store_messages_move(s->mb, sel->fid, dst, mids, k, !move, new_mids, &partial)
	       : ecSuccess;
	if (ec != ecSuccess) {
		imap_no_ec(s, ec, s->name);
		return 0;
	}
	/* The new UIDs: the destination's messages from its old UIDNEXT. */
	uint32_t *dst_uids = pool_calloc(s->cmd_pool, k ? k : 1, sizeof(*dst_uids));
	struct store_imap_msg *fresh = NULL;
	uint32_t nfresh = 0;
	if (k > 0)
		store_imap_list(s->mb, dst, dst_state.uidnext, 0, 0, s->cmd_pool, &fresh, &nfresh);
	for (uint32_t i = 0; i < k; i++)
		for (uint32_t f = 0; f < nfresh && dst_uids[i] == 0; f++)
			if (fresh[f].mid == new_mids[i])
				dst_uids[i] = fresh[f].uid;
	/* COPYUID lists source and destination UIDs pairwise, in order. */
	struct buf *code = buf_new(s->cmd_pool, 64);
	uint32_t m = 0;
	uint32_t *su = pool_calloc(s->cmd_pool, k ? k : 1, sizeof(*su));
	uint32_t *du = pool_calloc(s->cmd_pool, k ? k : 1, sizeof(*du));
	for (uint32_t i = 0; i < k; i++)
		if (dst_uids[i] != 0)
			su[m] = src_uids[i], du[m++] = dst_uids[i];
	if (m > 0) {
		buf_printf(code, "[COPYUID %u ", dst_state.uidvalidity);
		for (uint32_t i = 0; i < m; i++)
			buf_printf(code, "%s%u", i ? "," : "", su[i]);
		buf_append_byte(code, ' ');
		for (uint32_t i = 0; i < m; i++)
			buf_printf(code, "%s%u", i ? "," : "", du[i]);
		buf_append_str(code, "] ");
	}
	if (move) {
		/* RFC 6851 4.3: COPYUID in an untagged OK before the expunges. */
		if (m > 0)
			imap_untagged(s, "OK %sMoved", buf_cstr(code));
		imap_ok(s, "MOVE completed");
	} else {
		imap_ok(s, "%sCOPY completed", buf_cstr(code));
	}
	return 0;
}

int imap_cmd_copy(struct imap_session *s, struct imap_arg *args)
{
	return imap_copy_move(s, args, false);
}

int imap_cmd_move(struct imap_session *s, struct imap_arg *args)
{
	return imap_copy_move(s, args, true);
}
