/* SEARCH (RFC 3501 6.4.4) with ESEARCH's RETURN options (RFC 4731),
 * SEARCHRES's SAVE and "$" (RFC 5182) and CONDSTORE's MODSEQ key (RFC 7162
 * 3.1.5). Keys on flags, sizes, dates and UIDs are answered from the
 * session's view and the store's message rows; header and text keys read
 * the message's MIME (only its header when no key needs the body) and
 * match through convert/mime_search.h: the strings, in any CHARSET iconv
 * knows, against header values with RFC 2047 words decoded and text parts
 * with their transfer encoding and charset undone, case-insensitively
 * (Unicode case folding). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert/mime_search.h"
#include "core/hm_time.h"
#include "core/str.h"
#include "mapi/errors.h"
#include "proto/imap/imap_int.h"

enum skey_type {
	SK_ALL,
	SK_AND,
	SK_OR,
	SK_NOT,
	SK_FLAG_SET,
	SK_FLAG_UNSET,
	SK_NONE, /* RECENT, NEW: never true (\Recent is not kept) */
	SK_KEYWORD,
	SK_UNKEYWORD,
	SK_SET,  /* sequence set or UID set */
	SK_LARGER,
	SK_SMALLER,
	SK_BEFORE,
	SK_ON,
	SK_SINCE,
	SK_SENTBEFORE,
	SK_SENTON,
	SK_SENTSINCE,
	SK_HEADER,
	SK_BODY,
	SK_TEXT,
	SK_MODSEQ,
};

struct skey {
	enum skey_type type;
	uint32_t flag;
	uint64_t num;
	int64_t date;
	const char *header;
	struct mime_search_key key; /* header and text keys */
	struct imap_seqset set;
	bool uid;
	struct skey *kids; /* AND: n kids; OR: 2; NOT: 1 */
	size_t n;
};

#define SEARCH_MAX_DEPTH 32
#define SEARCH_MAX_KEYS 1000

struct sparse {
	struct imap_session *s;
	const struct imap_arg *a;
	const char *charset; /* NULL: UTF-8 (a superset of US-ASCII) */
	unsigned keys;
	bool need_store, need_mime, need_body;
};

/* A search string in the command's charset, folded for matching. */
static int parse_string(struct sparse *p, const struct imap_arg *a, struct skey *k)
{
	if (!imap_arg_is_astring(a))
		return -1;
	return mime_search_key_init(p->s->cmd_pool, p->charset, a->s.ptr, a->s.len, &k->key);
}

static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
	"sep", "oct", "nov", "dec"};

/* RFC 3501 date: d-Mon-yyyy (quoted or not). */
static int parse_date(const struct imap_arg *a, int64_t *t)
{
	if (!imap_arg_is_astring(a) || a->s.len < 10 || a->s.len > 11)
		return -1;
	char b[12];
	memcpy(b, a->s.ptr, a->s.len);
	b[a->s.len] = '\0';
	int d = 0, y = 0;
	char mon[4] = {0};
	if (sscanf(b, "%2d-%3c-%4d", &d, mon, &y) != 3 || d < 1 || d > 31 || y < 1900)
		return -1;
	for (int m = 0; m < 12; m++) {
		if (str_case_eq(mon, months[m])) {
			*t = time_from_civil(y, m + 1, d, 0, 0, 0);
			return 0;
		}
	}
	return -1;
}

static int parse_key(struct sparse *p, struct skey *k, unsigned depth);

static int parse_num_arg(const struct imap_arg *a, uint64_t *v)
{
	if (a->type != IMAP_ARG_ATOM || a->s.len == 0 || a->s.len > 20)
		return -1;
	char b[24];
	memcpy(b, a->s.ptr, a->s.len);
	b[a->s.len] = '\0';
	return str_to_u64(b, INT64_MAX, v);
}

static int parse_key(struct sparse *p, struct skey *k, unsigned depth)
{
	const struct imap_arg *a = p->a;
	memset(k, 0, sizeof(*k));
	if (depth > SEARCH_MAX_DEPTH || ++p->keys > SEARCH_MAX_KEYS || a->type == IMAP_ARG_EOL)
		return -1;
	p->a++;
	if (a->type == IMAP_ARG_LIST) {
		if (a->list_count == 0)
			return -1;
		const struct imap_arg *save = p->a;
		p->a = a->list;
		k->type = SK_AND;
		k->kids = pool_calloc(p->s->cmd_pool, a->list_count, sizeof(*k->kids));
		while (p->a->type != IMAP_ARG_EOL) {
			if (parse_key(p, &k->kids[k->n++], depth + 1) < 0)
				return -1;
		}
		p->a = save;
		return 0;
	}
	if (a->type != IMAP_ARG_ATOM)
		return -1;
	struct slice w = a->s;
	static const struct {
		const char *name;
		enum skey_type type;
		uint32_t flag;
	} simple[] = {
		{"ALL", SK_ALL, 0},
		{"ANSWERED", SK_FLAG_SET, STORE_IMAP_ANSWERED},
		{"DELETED", SK_FLAG_SET, STORE_IMAP_DELETED},
		{"DRAFT", SK_FLAG_SET, STORE_IMAP_DRAFT},
		{"FLAGGED", SK_FLAG_SET, STORE_IMAP_FLAGGED},
		{"SEEN", SK_FLAG_SET, STORE_IMAP_SEEN},
		{"OLD", SK_ALL, 0},
		{"UNANSWERED", SK_FLAG_UNSET, STORE_IMAP_ANSWERED},
		{"UNDELETED", SK_FLAG_UNSET, STORE_IMAP_DELETED},
		{"UNDRAFT", SK_FLAG_UNSET, STORE_IMAP_DRAFT},
		{"UNFLAGGED", SK_FLAG_UNSET, STORE_IMAP_FLAGGED},
		{"UNSEEN", SK_FLAG_UNSET, STORE_IMAP_SEEN},
		{"RECENT", SK_NONE, 0},
		{"NEW", SK_NONE, 0},
	};
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		if (slice_case_eq_str(w, simple[i].name)) {
			k->type = simple[i].type;
			k->flag = simple[i].flag;
			return 0;
		}
	}
	if (slice_case_eq_str(w, "KEYWORD") || slice_case_eq_str(w, "UNKEYWORD")) {
		if (p->a->type != IMAP_ARG_ATOM)
			return -1;
		char *kw = slice_dup(p->s->cmd_pool, p->a->s);
		p->a++;
		bool un = w.ptr[0] == 'U' || w.ptr[0] == 'u';
		uint32_t bit;
		int r = store_imap_flag_parse(kw, &bit);
		if (r < 0)
			return -1;
		if (r == 1) {
			k->type = un ? SK_FLAG_UNSET : SK_FLAG_SET;
			k->flag = bit;
		} else {
			k->type = un ? SK_UNKEYWORD : SK_KEYWORD;
			k->header = kw;
			p->need_store = true;
		}
		return 0;
	}
	if (slice_case_eq_str(w, "NOT")) {
		k->type = SK_NOT;
		k->kids = pool_calloc(p->s->cmd_pool, 1, sizeof(*k->kids));
		k->n = 1;
		return parse_key(p, &k->kids[0], depth + 1);
	}
	if (slice_case_eq_str(w, "OR")) {
		k->type = SK_OR;
		k->kids = pool_calloc(p->s->cmd_pool, 2, sizeof(*k->kids));
		k->n = 2;
		if (parse_key(p, &k->kids[0], depth + 1) < 0)
			return -1;
		return parse_key(p, &k->kids[1], depth + 1);
	}
	if (slice_case_eq_str(w, "LARGER") || slice_case_eq_str(w, "SMALLER")) {
		k->type = (w.ptr[0] == 'L' || w.ptr[0] == 'l') ? SK_LARGER : SK_SMALLER;
		p->need_store = true;
		return parse_num_arg(p->a++, &k->num);
	}
	if (slice_case_eq_str(w, "MODSEQ")) {
		/* RFC 7162: MODSEQ [entry-name entry-type] mod-sequence */
		k->type = SK_MODSEQ;
		p->s->condstore = true;
		if (imap_arg_is_string(p->a) && p->a[1].type == IMAP_ARG_ATOM &&
			p->a[2].type == IMAP_ARG_ATOM)
			p->a += 2;
		return parse_num_arg(p->a++, &k->num);
	}
	static const struct {
		const char *name;
		enum skey_type type;
	} dates[] = {
		{"BEFORE", SK_BEFORE},
		{"ON", SK_ON},
		{"SINCE", SK_SINCE},
		{"SENTBEFORE", SK_SENTBEFORE},
		{"SENTON", SK_SENTON},
		{"SENTSINCE", SK_SENTSINCE},
	};
	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		if (slice_case_eq_str(w, dates[i].name)) {
			k->type = dates[i].type;
			if (k->type >= SK_SENTBEFORE)
				p->need_mime = true;
			p->need_store = true;
			return parse_date(p->a++, &k->date);
		}
	}
	static const char *const hdrs[] = {"FROM", "TO", "CC", "BCC", "SUBJECT"};
	for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		if (slice_case_eq_str(w, hdrs[i])) {
			if (parse_string(p, p->a, k) < 0)
				return -1;
			k->type = SK_HEADER;
			k->header = hdrs[i];
			p->a++;
			p->need_mime = p->need_store = true;
			return 0;
		}
	}
	if (slice_case_eq_str(w, "HEADER")) {
		if (!imap_arg_is_astring(p->a) || parse_string(p, &p->a[1], k) < 0)
			return -1;
		k->type = SK_HEADER;
		k->header = slice_dup(p->s->cmd_pool, p->a->s);
		p->a += 2;
		p->need_mime = p->need_store = true;
		return 0;
	}
	if (slice_case_eq_str(w, "BODY") || slice_case_eq_str(w, "TEXT")) {
		if (parse_string(p, p->a, k) < 0)
			return -1;
		k->type = (w.ptr[0] == 'B' || w.ptr[0] == 'b') ? SK_BODY : SK_TEXT;
		p->a++;
		p->need_mime = p->need_store = p->need_body = true;
		return 0;
	}
	if (slice_case_eq_str(w, "UID")) {
		k->type = SK_SET;
		k->uid = true;
		return imap_seqset_parse(p->s, p->a++, true, &k->set);
	}
	/* A sequence set. */
	k->type = SK_SET;
	return imap_seqset_parse(p->s, a, false, &k->set);
}

/* --- Evaluation --- */

struct smsg {
	uint32_t seq;
	const struct imap_msg *x;
	const struct store_imap_msg *m;
	const unsigned char *mime; /* the message, or only its header */
	size_t len, hdr_end;
	struct mime_search_msg ms;
	bool sent_parsed;
	int64_t sent;
};

static int64_t sent_date(struct smsg *sm, struct buf *scratch)
{
	if (sm->sent_parsed)
		return sm->sent;
	sm->sent_parsed = true;
	sm->sent = sm->m ? time_filetime_to_unix(sm->m->internal_date, NULL) : 0;
	const unsigned char *h = sm->mime;
	size_t len = sm->hdr_end, i = 0;
	while (i < len) {
		const unsigned char *nl = memchr(h + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - h) + 1 : len;
		if (end - i > 5 && str_ncasecmp((const char *)h + i, "Date:", 5) == 0) {
			buf_reset(scratch);
			buf_append(scratch, h + i + 5, end - i - 5);
			int64_t t;
			int tz;
			if (time_parse_rfc5322(buf_cstr(scratch), &t, &tz) == 0)
				sm->sent = t + (int64_t)tz * 60; /* the date as the sender saw it */
			break;
		}
		i = end;
	}
	return sm->sent;
}

static int64_t day_of(int64_t t)
{
	return t >= 0 ? t / 86400 : (t - 86399) / 86400;
}

static bool eval(const struct skey *k, struct smsg *sm, struct buf *scratch)
{
	switch (k->type) {
	case SK_ALL:
		return true;
	case SK_NONE:
		return false;
	case SK_AND:
		for (size_t i = 0; i < k->n; i++)
			if (!eval(&k->kids[i], sm, scratch))
				return false;
		return true;
	case SK_OR:
		return eval(&k->kids[0], sm, scratch) || eval(&k->kids[1], sm, scratch);
	case SK_NOT:
		return !eval(&k->kids[0], sm, scratch);
	case SK_FLAG_SET:
		return (sm->x->flags & k->flag) != 0;
	case SK_FLAG_UNSET:
		return (sm->x->flags & k->flag) == 0;
	case SK_SET: {
		uint32_t v = k->uid ? sm->x->uid : sm->seq;
		for (uint32_t i = 0; i < k->set.count; i++)
			if (v >= k->set.lo[i] && v <= k->set.hi[i])
				return true;
		return false;
	}
	case SK_LARGER:
		return sm->m && sm->m->size > k->num;
	case SK_SMALLER:
		return sm->m && sm->m->size < k->num;
	case SK_BEFORE:
		return sm->m && day_of(time_filetime_to_unix(sm->m->internal_date, NULL)) < day_of(k->date);
	case SK_ON:
		return sm->m && day_of(time_filetime_to_unix(sm->m->internal_date, NULL)) == day_of(k->date);
	case SK_SINCE:
		return sm->m && day_of(time_filetime_to_unix(sm->m->internal_date, NULL)) >= day_of(k->date);
	case SK_SENTBEFORE:
		return day_of(sent_date(sm, scratch)) < day_of(k->date);
	case SK_SENTON:
		return day_of(sent_date(sm, scratch)) == day_of(k->date);
	case SK_SENTSINCE:
		return day_of(sent_date(sm, scratch)) >= day_of(k->date);
	case SK_HEADER:
		return sm->mime && mime_search_header(&sm->ms, k->header, &k->key);
	case SK_BODY:
		return sm->mime && mime_search_body(&sm->ms, &k->key);
	case SK_TEXT:
		return sm->mime && mime_search_text(&sm->ms, &k->key);
	case SK_MODSEQ:
		return sm->x->modseq >= k->num;
	case SK_KEYWORD:
	case SK_UNKEYWORD: {
		bool has = false;
		for (uint32_t i = 0; sm->m && i < sm->m->n_keywords && !has; i++)
			has = str_case_eq(sm->m->keywords[i], k->header);
		return has == (k->type == SK_KEYWORD);
	}
	}
	return false;
}

static size_t header_end(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != '\n')
			continue;
		if (i + 1 < len && p[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && p[i + 1] == '\r' && p[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

struct imap_search {
	struct skey root;
	bool need_store, need_mime, need_body;
	bool modseq_key; /* a MODSEQ key at the top level (RFC 7162 3.1.5) */
};

struct imap_search *imap_search_parse(struct imap_session *s, const struct imap_arg *keys,
	const char *charset)
{
	if (charset != NULL && !mime_search_charset_known(charset)) {
		/* RFC 3501 6.4.4: any charset iconv knows is fine; these are
		 * the usual ones. */
		imap_no(s, "[BADCHARSET (UTF-8 US-ASCII ISO-8859-1 ISO-8859-15 WINDOWS-1252 KOI8-R"
			   " SHIFT_JIS EUC-JP ISO-2022-JP GB18030 BIG5 EUC-KR)] Unknown charset");
		return NULL;
	}
	if (keys->type == IMAP_ARG_EOL) {
		imap_bad(s, "Missing search keys");
		return NULL;
	}
	struct imap_search *q = pool_alloc(s->cmd_pool, sizeof(*q));
	struct sparse p = {.s = s, .a = keys, .charset = charset};
	q->root.type = SK_AND;
	q->root.kids = pool_calloc(s->cmd_pool, imap_args_count(keys) + 1, sizeof(*q->root.kids));
	while (p.a->type != IMAP_ARG_EOL) {
		if (parse_key(&p, &q->root.kids[q->root.n++], 1) < 0) {
			imap_bad(s, "Invalid search key");
			return NULL;
		}
	}
	q->need_store = p.need_store;
	q->need_mime = p.need_mime;
	q->need_body = p.need_body;
	for (size_t i = 0; i < q->root.n; i++)
		q->modseq_key |= q->root.kids[i].type == SK_MODSEQ;
	return q;
}

bool imap_search_has_modseq(const struct imap_search *q)
{
	return q->modseq_key;
}

int imap_search_run(struct imap_session *s, struct imap_search *q, uint32_t **idx_r,
	uint32_t *n_r, uint64_t *max_modseq_r)
{
	struct imap_selected *sel = s->sel;
	struct store_imap_msg *all = NULL;
	uint32_t nall = 0;
	if (q->need_store &&
		store_imap_list(s->mb, sel->fid, 1, 0, 0, s->cmd_pool, &all, &nall) != ecSuccess) {
		imap_no(s, "[SERVERBUG] SEARCH failed");
		return -1;
	}
	uint32_t *hits = pool_calloc(s->cmd_pool, sel->count ? sel->count : 1, sizeof(*hits));
	uint32_t nhits = 0;
	uint64_t max_modseq = 0;
	struct buf scratch, hdr;
	buf_init(&scratch, NULL);
	buf_init(&hdr, NULL);
	/* What one message's matching allocates dies with it. */
	pool_t *mp = pool_new("imap-search-msg", 0);
	uint32_t ai = 0;
	for (uint32_t i = 0; i < sel->count; i++) {
		struct smsg sm = {.seq = i + 1, .x = &sel->msgs[i]};
		if (all != NULL) {
			while (ai < nall && all[ai].uid < sm.x->uid)
				ai++;
			if (ai < nall && all[ai].uid == sm.x->uid)
				sm.m = &all[ai];
		}
		struct imap_mime mm = {0};
		if (q->need_mime && sm.m != NULL && sm.m->has_mime && sm.m->mime.size > 0) {
			if (!q->need_body) {
				/* Header keys only: the header is enough. */
				if (imap_read_header(s, &sm.m->mime, &hdr) == 0) {
					sm.mime = hdr.data;
					sm.len = header_end(hdr.data, hdr.len);
				}
			} else if (imap_mime_open(s, &sm.m->mime, &hdr, &mm) == 0) {
				sm.mime = mm.p;
				sm.len = mm.len;
			}
			if (sm.mime != NULL) {
				sm.hdr_end = header_end(sm.mime, sm.len);
				pool_clear(mp);
				mime_search_msg_init(&sm.ms, mp, sm.mime, sm.len);
			}
		}
		if (eval(&q->root, &sm, &scratch)) {
			hits[nhits++] = i;
			if (sm.x->modseq > max_modseq)
				max_modseq = sm.x->modseq;
		}
		imap_mime_close(&mm);
	}
	buf_deinit(&scratch);
	buf_deinit(&hdr);
	pool_free(&mp);
	*idx_r = hits;
	*n_r = nhits;
	if (max_modseq_r != NULL)
		*max_modseq_r = max_modseq;
	return 0;
}

int imap_cmd_search(struct imap_session *s, struct imap_arg *args)
{
	struct imap_selected *sel = s->sel;
	const struct imap_arg *a = args;
	bool esearch = false, r_min = false, r_max = false, r_all = false, r_count = false,
	     r_save = false;
	if (a->type == IMAP_ARG_ATOM && slice_case_eq_str(a->s, "RETURN")) {
		/* RFC 4731 */
		if (a[1].type != IMAP_ARG_LIST) {
			imap_bad(s, "Invalid RETURN options");
			return 0;
		}
		esearch = true;
		for (const struct imap_arg *o = a[1].list; o->type != IMAP_ARG_EOL; o++) {
			if (o->type != IMAP_ARG_ATOM) {
				imap_bad(s, "Invalid RETURN option");
				return 0;
			}
			if (slice_case_eq_str(o->s, "MIN"))
				r_min = true;
			else if (slice_case_eq_str(o->s, "MAX"))
				r_max = true;
			else if (slice_case_eq_str(o->s, "ALL"))
				r_all = true;
			else if (slice_case_eq_str(o->s, "COUNT"))
				r_count = true;
			else if (slice_case_eq_str(o->s, "SAVE"))
				r_save = true;
			else {
				imap_bad(s, "Unknown RETURN option");
				return 0;
			}
		}
		if (!r_min && !r_max && !r_count && !r_save)
			r_all = true;
		a += 2;
	}
	const char *charset = NULL;
	if (a->type == IMAP_ARG_ATOM && slice_case_eq_str(a->s, "CHARSET")) {
		charset = imap_arg_str(s->cmd_pool, &a[1]);
		if (charset == NULL) {
			imap_bad(s, "Missing charset");
			return 0;
		}
		a += 2;
	}
	struct imap_search *q = imap_search_parse(s, a, charset);
	if (q == NULL)
		return 0;
	uint32_t *hits, nhits;
	uint64_t max_modseq;
	if (imap_search_run(s, q, &hits, &nhits, &max_modseq) < 0)
		return 0;
	/* Indexes to what the client asked for. */
	for (uint32_t i = 0; i < nhits; i++)
		hits[i] = s->uid_cmd ? sel->msgs[hits[i]].uid : hits[i] + 1;
	bool modseq_key = q->modseq_key;
	if (r_save) {
		/* RFC 5182: "$" is kept as UIDs. */
		free(sel->searchres);
		sel->searchres = malloc(sizeof(uint32_t) * (nhits ? nhits : 1));
		sel->searchres_count = 0;
		for (uint32_t i = 0; i < nhits; i++) {
			uint32_t v = s->uid_cmd ? hits[i] : sel->msgs[hits[i] - 1].uid;
			sel->searchres[sel->searchres_count++] = v;
		}
		if ((r_min || r_max) && !r_all && !r_count && nhits > 0) {
			/* RFC 5182 2.4: SAVE with MIN/MAX keeps only those. */
			uint32_t lo = sel->searchres[0], hi = sel->searchres[nhits - 1];
			sel->searchres_count = 0;
			if (r_min)
				sel->searchres[sel->searchres_count++] = lo;
			if (r_max && (!r_min || hi != lo))
				sel->searchres[sel->searchres_count++] = hi;
		}
	}
	if (esearch) {
		buf_printf(&s->out, "* ESEARCH (TAG \"%s\")%s", s->tag, s->uid_cmd ? " UID" : "");
		if (r_min && nhits)
			buf_printf(&s->out, " MIN %u", hits[0]);
		if (r_max && nhits)
			buf_printf(&s->out, " MAX %u", hits[nhits - 1]);
		if (r_count)
			buf_printf(&s->out, " COUNT %u", nhits);
		if (r_all && nhits) {
			buf_append_str(&s->out, " ALL ");
			imap_write_uidset(&s->out, hits, nhits);
		}
		if (modseq_key && nhits)
			buf_printf(&s->out, " MODSEQ %llu", (unsigned long long)max_modseq);
		buf_append_str(&s->out, "\r\n");
	} else {
		buf_append_str(&s->out, "* SEARCH");
		for (uint32_t i = 0; i < nhits; i++)
			buf_printf(&s->out, " %u", hits[i]);
		if (modseq_key && nhits)
			buf_printf(&s->out, " (MODSEQ %llu)", (unsigned long long)max_modseq);
		buf_append_str(&s->out, "\r\n");
	}
	imap_ok(s, "SEARCH completed");
	return 0;
}
