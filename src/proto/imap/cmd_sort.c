/* SORT and THREAD (RFC 5256) with DISPLAYFROM and DISPLAYTO (RFC 5957),
 * plain responses (no ESORT). The messages are chosen by the SEARCH code;
 * arrival date, sent date, size and subject come from the store's
 * indexed columns (store/imap_sort.h) without reading any message; the
 * address keys and THREAD=REFERENCES read the messages' headers
 * (convert/mime_fields.h). Strings compare by i;ascii-casemap, ties by
 * sequence number (RFC 5256 2.2, 3). */
#include <stdlib.h>
#include <string.h>

#include "convert/mime_fields.h"
#include "core/hm_time.h"
#include "core/str.h"
#include "mapi/errors.h"
#include "proto/imap/imap_int.h"
#include "proto/imap/thread.h"
#include "store/imap_sort.h"

enum sort_key {
	SORT_ARRIVAL,
	SORT_CC,
	SORT_DATE,
	SORT_FROM,
	SORT_SIZE,
	SORT_SUBJECT,
	SORT_TO,
	SORT_DISPLAYFROM,
	SORT_DISPLAYTO,
};

/* More would only repeat a key. */
#define SORT_MAX_CRITERIA 16

struct sort_crit {
	enum sort_key key;
	bool reverse;
};

/* One chosen message with what its sort keys or threading need. */
struct sort_msg {
	uint32_t idx; /* seq - 1 */
	uint64_t arrival, date, size;
	const char *subject; /* base subject */
	bool reply;
	const char *from, *to, *cc; /* addr-mailbox of the first address */
	const char *dfrom, *dto;    /* RFC 5957 display keys */
	struct mime_fields f;
};

/* What SORT or THREAD must know of each message. */
#define NEED_SUBJECT 0x1u
#define NEED_ADDRS   0x2u
#define NEED_THREAD  0x4u

/* The display key of an address: its decoded display name, else its
 * addr-spec (RFC 5957 3). */
static const char *display_key(pool_t *pool, const struct mime_addr *a)
{
	if (a->name[0] != '\0')
		return a->name;
	if (a->host[0] != '\0')
		return pool_printf(pool, "%s@%s", a->mailbox, a->host);
	return a->mailbox;
}

/* Gathers the data of the chosen messages (idx ascending). 0, or -1 with
 * a NO written. */
static int gather(struct imap_session *s, const uint32_t *idx, uint32_t n, unsigned need,
        struct sort_msg **out_r)
{
	struct imap_selected *sel = s->sel;
	struct store_imap_sort_row *rows = NULL;
	uint32_t nrows = 0;
	uint32_t ec = store_imap_sort_list(s->mb, sel->fid, s->cmd_pool, &rows, &nrows);
	if (ec != ecSuccess) {
		imap_no_ec(s, ec, s->name);
		return -1;
	}
	struct sort_msg *v = pool_calloc(s->cmd_pool, n ? n : 1, sizeof(*v));
	struct buf hdr;
	buf_init(&hdr, NULL);
	uint32_t ri = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct sort_msg *m = &v[i];
		uint32_t uid = sel->msgs[idx[i]].uid;
		m->idx = idx[i];
		m->subject = m->from = m->to = m->cc = m->dfrom = m->dto = "";
		/* Both lists are in UID order. A message expunged meanwhile
		 * has no row: it sorts with empty keys. */
		while (ri < nrows && rows[ri].uid < uid)
			ri++;
		if (ri >= nrows || rows[ri].uid != uid)
			continue;
		const struct store_imap_sort_row *r = &rows[ri];
		m->arrival = r->internal_date;
		m->date = r->sent_date;
		m->size = r->size;
		if (need & NEED_SUBJECT)
			m->subject = imap_base_subject(s->cmd_pool, r->subject, &m->reply);
		if (!(need & (NEED_ADDRS | NEED_THREAD)) || !r->has_mime || r->mime.size == 0)
			continue;
		if (imap_read_header(s, &r->mime, &hdr) < 0) {
			buf_deinit(&hdr);
			imap_no(s, "[SERVERBUG] %s failed: message data unavailable", s->name);
			return -1;
		}
		unsigned what = ((need & NEED_ADDRS) ? MIME_FIELDS_ADDRS : 0) |
		                ((need & NEED_THREAD) ? MIME_FIELDS_THREAD : 0);
		mime_fields_parse(s->cmd_pool, hdr.data, hdr.len, what, &m->f);
		m->from = m->f.from.mailbox;
		m->to = m->f.to.mailbox;
		m->cc = m->f.cc.mailbox;
		if (m->f.has_from)
			m->dfrom = display_key(s->cmd_pool, &m->f.from);
		if (m->f.has_to)
			m->dto = display_key(s->cmd_pool, &m->f.to);
	}
	buf_deinit(&hdr);
	*out_r = v;
	return 0;
}

/* --- SORT --- */

static int u64_cmp(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/* qsort has no context argument: the criteria travel with each element. */
struct sort_ent {
	const struct sort_msg *m;
	const struct sort_crit *crit;
	size_t ncrit;
};

static int sort_cmp(const void *x, const void *y)
{
	const struct sort_ent *ea = x, *eb = y;
	const struct sort_msg *a = ea->m, *b = eb->m;
	for (size_t i = 0; i < ea->ncrit; i++) {
		int c = 0;
		switch (ea->crit[i].key) {
		case SORT_ARRIVAL:
			c = u64_cmp(a->arrival, b->arrival);
			break;
		case SORT_DATE:
			c = u64_cmp(a->date, b->date);
			break;
		case SORT_SIZE:
			c = u64_cmp(a->size, b->size);
			break;
		case SORT_SUBJECT:
			c = imap_ascii_casemap_cmp(a->subject, b->subject);
			break;
		case SORT_FROM:
			c = imap_ascii_casemap_cmp(a->from, b->from);
			break;
		case SORT_TO:
			c = imap_ascii_casemap_cmp(a->to, b->to);
			break;
		case SORT_CC:
			c = imap_ascii_casemap_cmp(a->cc, b->cc);
			break;
		case SORT_DISPLAYFROM:
			c = imap_ascii_casemap_cmp(a->dfrom, b->dfrom);
			break;
		case SORT_DISPLAYTO:
			c = imap_ascii_casemap_cmp(a->dto, b->dto);
			break;
		}
		if (c != 0)
			return ea->crit[i].reverse ? -c : c;
	}
	/* RFC 5256 3: exact matches stay in mailbox order (REVERSE does not
	 * apply to it). */
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* The charset argument: an astring (RFC 5256 5). NULL with a BAD written. */
static const char *charset_arg(struct imap_session *s, const struct imap_arg *a)
{
	const char *cs = imap_arg_str(s->cmd_pool, a);
	if (cs == NULL || *cs == '\0')
		imap_bad(s, "Missing charset");
	return cs;
}

int imap_cmd_sort(struct imap_session *s, struct imap_arg *args)
{
	static const struct {
		const char *name;
		enum sort_key key;
		unsigned need;
	} keys[] = {
	        {"ARRIVAL", SORT_ARRIVAL, 0},
	        {"CC", SORT_CC, NEED_ADDRS},
	        {"DATE", SORT_DATE, 0},
	        {"FROM", SORT_FROM, NEED_ADDRS},
	        {"SIZE", SORT_SIZE, 0},
	        {"SUBJECT", SORT_SUBJECT, NEED_SUBJECT},
	        {"TO", SORT_TO, NEED_ADDRS},
	        {"DISPLAYFROM", SORT_DISPLAYFROM, NEED_ADDRS},
	        {"DISPLAYTO", SORT_DISPLAYTO, NEED_ADDRS},
	};
	if (args[0].type != IMAP_ARG_LIST || args[0].list_count == 0) {
		imap_bad(s, "SORT needs a list of sort criteria");
		return 0;
	}
	struct sort_crit crit[SORT_MAX_CRITERIA];
	size_t ncrit = 0;
	unsigned need = 0;
	bool reverse = false;
	for (const struct imap_arg *a = args[0].list; a->type != IMAP_ARG_EOL; a++) {
		if (a->type != IMAP_ARG_ATOM) {
			imap_bad(s, "Invalid sort criterion");
			return 0;
		}
		if (slice_case_eq_str(a->s, "REVERSE") && !reverse) {
			reverse = true;
			continue;
		}
		size_t k = 0;
		while (k < sizeof(keys) / sizeof(keys[0]) && !slice_case_eq_str(a->s, keys[k].name))
			k++;
		if (k == sizeof(keys) / sizeof(keys[0]) || ncrit == SORT_MAX_CRITERIA) {
			imap_bad(s, "Invalid sort criterion");
			return 0;
		}
		crit[ncrit++] = (struct sort_crit){keys[k].key, reverse};
		need |= keys[k].need;
		reverse = false;
	}
	if (reverse) {
		/* sort-criterion = ["REVERSE" SP] sort-key */
		imap_bad(s, "REVERSE needs a sort key");
		return 0;
	}
	const char *charset = charset_arg(s, &args[1]);
	if (charset == NULL)
		return 0;
	struct imap_search *q = imap_search_parse(s, &args[2], charset);
	if (q == NULL)
		return 0;
	uint32_t *idx, n;
	uint64_t max_modseq;
	if (imap_search_run(s, q, &idx, &n, &max_modseq) < 0)
		return 0;
	struct sort_msg *msgs;
	if (gather(s, idx, n, need, &msgs) < 0)
		return 0;
	struct sort_ent *ents = pool_calloc(s->cmd_pool, n ? n : 1, sizeof(*ents));
	for (uint32_t i = 0; i < n; i++)
		ents[i] = (struct sort_ent){&msgs[i], crit, ncrit};
	qsort(ents, n, sizeof(*ents), sort_cmp);
	buf_append_str(&s->out, "* SORT");
	for (uint32_t i = 0; i < n; i++) {
		const struct imap_msg *x = &s->sel->msgs[ents[i].m->idx];
		buf_printf(&s->out, " %u", s->uid_cmd ? x->uid : ents[i].m->idx + 1);
	}
	/* RFC 7162 3.1.5 applies to SORT as to SEARCH. */
	if (imap_search_has_modseq(q) && n > 0)
		buf_printf(&s->out, " (MODSEQ %llu)", (unsigned long long)max_modseq);
	buf_append_str(&s->out, "\r\n");
	imap_ok(s, "SORT completed");
	return 0;
}

/* --- THREAD --- */

int imap_cmd_thread(struct imap_session *s, struct imap_arg *args)
{
	if (args[0].type != IMAP_ARG_ATOM) {
		imap_bad(s, "THREAD needs an algorithm");
		return 0;
	}
	bool refs;
	if (slice_case_eq_str(args[0].s, "REFERENCES")) {
		refs = true;
	} else if (slice_case_eq_str(args[0].s, "ORDEREDSUBJECT")) {
		refs = false;
	} else {
		imap_bad(s, "Unknown threading algorithm");
		return 0;
	}
	const char *charset = charset_arg(s, &args[1]);
	if (charset == NULL)
		return 0;
	struct imap_search *q = imap_search_parse(s, &args[2], charset);
	if (q == NULL)
		return 0;
	uint32_t *idx, n;
	if (imap_search_run(s, q, &idx, &n, NULL) < 0)
		return 0;
	struct sort_msg *msgs;
	if (gather(s, idx, n, NEED_SUBJECT | (refs ? NEED_THREAD : 0), &msgs) < 0)
		return 0;
	struct imap_thread_msg *tm = pool_calloc(s->cmd_pool, n ? n : 1, sizeof(*tm));
	for (uint32_t i = 0; i < n; i++) {
		const struct sort_msg *m = &msgs[i];
		tm[i] = (struct imap_thread_msg){
		        .id = s->uid_cmd ? s->sel->msgs[m->idx].uid : m->idx + 1,
		        .seq = m->idx + 1,
		        .date = m->date,
		        .subject = m->subject,
		        .reply = m->reply,
		        .message_id = m->f.message_id,
		        .refs = m->f.refs,
		        .nrefs = m->f.nrefs,
		};
	}
	buf_append_str(&s->out, "* THREAD");
	if (n > 0) {
		buf_append_byte(&s->out, ' ');
		if (refs)
			imap_thread_references(s->cmd_pool, tm, n, &s->out);
		else
			imap_thread_orderedsubject(s->cmd_pool, tm, n, &s->out);
	}
	buf_append_str(&s->out, "\r\n");
	imap_ok(s, "THREAD completed");
	return 0;
}
