/* The mailbox list: the IPM subtree as IMAP mailboxes with the hierarchy
 * delimiter "/", INBOX for the Inbox, SPECIAL-USE attributes (RFC 6154),
 * non-mail folders hidden as Exchange hides them (a container class other
 * than IPF.Note), names in modified UTF-7 (RFC 3501 5.1.3) unless UTF-8
 * was enabled (RFC 6855). Commands: LIST (RFC 3501, LIST-EXTENDED RFC
 * 5258, LIST-STATUS RFC 5819), LSUB, STATUS, CREATE, DELETE, RENAME,
 * SUBSCRIBE, UNSUBSCRIBE. */
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/str.h"
#include "core/utf.h"
#include "core/xalloc.h"
#include "mapi/errors.h"
#include "mapi/propval.h"
#include "mapi/proptags.h"
#include "proto/imap/imap_int.h"
#include "store/store.h"
#include "store/table.h"

/* --- Modified UTF-7 --- */

static const char mb64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

const char *imap_mutf7_encode(pool_t *pool, const char *s)
{
	struct buf out;
	buf_init(&out, pool);
	size_t len = strlen(s);
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f) {
			buf_append_byte(&out, c);
			if (c == '&')
				buf_append_byte(&out, '-');
			i++;
			continue;
		}
		/* A run of non-printable characters as base64 of UTF-16BE. */
		struct buf u16;
		buf_init(&u16, pool);
		while (i < len && !((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f)) {
			uint32_t cp;
			int n = utf8_decode((const unsigned char *)s + i, len - i, &cp);
			if (n < 0)
				return NULL;
			i += (size_t)n;
			if (cp >= 0x10000) {
				cp -= 0x10000;
				uint16_t hi = (uint16_t)(0xd800 + (cp >> 10)), lo = (uint16_t)(0xdc00 + (cp & 0x3ff));
				buf_append_byte(&u16, hi >> 8), buf_append_byte(&u16, hi & 0xff);
				buf_append_byte(&u16, lo >> 8), buf_append_byte(&u16, lo & 0xff);
			} else {
				buf_append_byte(&u16, (unsigned char)(cp >> 8));
				buf_append_byte(&u16, cp & 0xff);
			}
		}
		buf_append_byte(&out, '&');
		uint32_t bits = 0;
		int nbits = 0;
		for (size_t k = 0; k < u16.len; k++) {
			bits = (bits << 8) | u16.data[k];
			nbits += 8;
			while (nbits >= 6) {
				nbits -= 6;
				buf_append_byte(&out, (unsigned char)mb64[(bits >> nbits) & 0x3f]);
			}
		}
		if (nbits > 0)
			buf_append_byte(&out, (unsigned char)mb64[(bits << (6 - nbits)) & 0x3f]);
		buf_append_byte(&out, '-');
	}
	return buf_cstr(&out);
}

const char *imap_mutf7_decode(pool_t *pool, const char *s)
{
	struct buf out;
	buf_init(&out, pool);
	for (size_t i = 0; s[i] != '\0';) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f)
			return NULL;
		if (c != '&') {
			buf_append_byte(&out, c);
			i++;
			continue;
		}
		i++;
		if (s[i] == '-') {
			buf_append_byte(&out, '&');
			i++;
			continue;
		}
		struct buf u16;
		buf_init(&u16, pool);
		uint32_t bits = 0;
		int nbits = 0;
		for (; s[i] != '-'; i++) {
			const char *p = s[i] ? strchr(mb64, s[i]) : NULL;
			if (p == NULL)
				return NULL;
			bits = (bits << 6) | (uint32_t)(p - mb64);
			nbits += 6;
			if (nbits >= 8) {
				nbits -= 8;
				buf_append_byte(&u16, (unsigned char)((bits >> nbits) & 0xff));
			}
		}
		i++;
		/* RFC 3501 5.1.3: no leftover bits set, an even octet count, no
		 * empty run. */
		if (u16.len == 0 || u16.len % 2 != 0 || (bits & ((1u << nbits) - 1)) != 0)
			return NULL;
		struct buf le;
		buf_init(&le, pool);
		for (size_t k = 0; k < u16.len; k += 2) {
			buf_append_byte(&le, u16.data[k + 1]);
			buf_append_byte(&le, u16.data[k]);
		}
		size_t before = out.len;
		if (utf16le_to_utf8(le.data, le.len, &out) < 0)
			return NULL;
		/* A run encoding printable ASCII is not the canonical form. */
		for (size_t k = before; k < out.len; k++)
			if (out.data[k] >= 0x20 && out.data[k] < 0x7f)
				return NULL;
	}
	return buf_cstr(&out);
}

const char *imap_mailbox_decode(struct imap_session *s, const char *name)
{
	if (s->utf8)
		return utf8_valid(name, strlen(name)) ? name : NULL;
	return imap_mutf7_decode(s->cmd_pool, name);
}

void imap_mailbox_write(struct imap_session *s, struct buf *out, const char *utf8)
{
	const char *n = s->utf8 ? utf8 : imap_mutf7_encode(s->cmd_pool, utf8);
	if (n == NULL)
		n = utf8;
	imap_write_string(out, n, strlen(n));
}

/* --- The mailbox list --- */

struct mbox {
	mapi_id_t fid;
	const char *path; /* UTF-8, "/"-separated, INBOX for the Inbox */
	const char *special_use;
	uint32_t children;
	bool inbox;
};

static bool is_mail_class(const char *cls)
{
	/* Exchange shows folders of class IPF.Note (and its subclasses) or
	 * with no class over IMAP; calendars, contacts, tasks, notes and
	 * journals stay hidden. */
	return cls == NULL || cls[0] == '\0' || str_case_eq(cls, "IPF.Note") ||
		str_case_starts_with(cls, "IPF.Note.") || str_case_eq(cls, "IPF.Imap");
}

/* A folder of the IPM subtree as the hierarchy table gives it. */
struct hrow {
	mapi_id_t fid, parent;
	const char *name, *cls;
	int special;
	uint32_t depth;
	const char *path; /* NULL: hidden */
	uint32_t children;
	bool done;
};

static int hrow_cmp(const void *a, const void *b)
{
	const struct hrow *x = a, *y = b;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return str_casecmp(x->name, y->name);
}

static int mbox_cmp(const void *a, const void *b)
{
	/* INBOX first, then by path with "/" sorting before any character
	 * (a folder's children right after it). */
	const struct mbox *x = a, *y = b;
	if (x->inbox != y->inbox)
		return x->inbox ? -1 : 1;
	const unsigned char *p = (const unsigned char *)x->path, *q = (const unsigned char *)y->path;
	for (;; p++, q++) {
		int c1 = *p == '/' ? 1 : ascii_tolower(*p), c2 = *q == '/' ? 1 : ascii_tolower(*q);
		if (c1 != c2 || *p == '\0')
			return c1 - c2;
	}
}

/* Every visible mail folder with its IMAP path, read from the store. */
static uint32_t mailboxes_read(struct imap_session *s, struct mbox **list_r, uint32_t *count_r)
{
	mapi_id_t ipm = store_mailbox_special_fid(s->mb, STORE_SPECIAL_IPM_SUBTREE);
	struct store_table *t;
	uint32_t ec = store_table_open_hierarchy(s->mb, ipm, true, &t);
	if (ec != ecSuccess)
		return ec;
	uint32_t cols[] = {PR_FOLDER_ID, PR_PARENT_FOLDER_ID, PR_DISPLAY_NAME, PR_CONTAINER_CLASS,
		PR_DEPTH};
	struct mapi_tags tags = {.count = 5, .tags = cols};
	ec = store_table_set_columns(t, &tags);
	struct store_rows rows = {0};
	if (ec == ecSuccess)
		ec = store_table_query_rows(t, 100000, true, 0, s->cmd_pool, &rows, NULL);
	store_table_close(&t);
	if (ec != ecSuccess)
		return ec;
	uint32_t n = rows.count;
	struct hrow *h = pool_calloc(s->cmd_pool, n ? n : 1, sizeof(*h));
	mapi_id_t specials[STORE_SPECIAL_COUNT];
	for (int i = 0; i < STORE_SPECIAL_COUNT; i++)
		specials[i] = store_mailbox_special_fid(s->mb, (enum store_special)i);
	for (uint32_t i = 0; i < n; i++) {
		const struct mapi_propvals *r = &rows.rows[i];
		h[i].fid = (mapi_id_t)mapi_propvals_get_i8(r, PR_FOLDER_ID, 0);
		h[i].parent = (mapi_id_t)mapi_propvals_get_i8(r, PR_PARENT_FOLDER_ID, 0);
		h[i].name = mapi_propvals_get_str(r, PR_DISPLAY_NAME);
		h[i].cls = mapi_propvals_get_str(r, PR_CONTAINER_CLASS);
		h[i].depth = (uint32_t)mapi_propvals_get_long(r, PR_DEPTH, 1);
		h[i].special = -1;
		for (int k = 0; k < STORE_SPECIAL_COUNT; k++)
			if (specials[k] == h[i].fid)
				h[i].special = k;
		if (h[i].name == NULL)
			h[i].name = "";
	}
	/* Parents before children; a hidden folder hides its subtree. */
	qsort(h, n, sizeof(*h), hrow_cmp);
	struct mbox *list = pool_calloc(s->cmd_pool, n ? n : 1, sizeof(*list));
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++) {
		const char *parent_path = "";
		if (h[i].parent != ipm) {
			const struct hrow *par = NULL;
			for (uint32_t j = 0; j < i && par == NULL; j++)
				if (h[j].fid == h[i].parent)
					par = &h[j];
			if (par == NULL || par->path == NULL)
				continue;
			parent_path = par->path;
		}
		if (!is_mail_class(h[i].cls) || strchr(h[i].name, '/') != NULL ||
			h[i].name[0] == '\0')
			continue;
		bool inbox = h[i].special == STORE_SPECIAL_INBOX;
		h[i].path = inbox ? "INBOX"
			: parent_path[0] ? pool_printf(s->cmd_pool, "%s/%s", parent_path, h[i].name)
					 : h[i].name;
		struct mbox *m = &list[k++];
		m->fid = h[i].fid;
		m->path = h[i].path;
		m->inbox = inbox;
		switch (h[i].special) {
		case STORE_SPECIAL_SENT_ITEMS:
			m->special_use = "\\Sent";
			break;
		case STORE_SPECIAL_DRAFTS:
			m->special_use = "\\Drafts";
			break;
		case STORE_SPECIAL_DELETED_ITEMS:
			m->special_use = "\\Trash";
			break;
		case STORE_SPECIAL_JUNK:
			m->special_use = "\\Junk";
			break;
		default:
			if (h[i].parent == ipm && str_case_eq(h[i].name, "Archive"))
				m->special_use = "\\Archive";
			break;
		}
	}
	/* Children that are shown. */
	for (uint32_t i = 0; i < k; i++) {
		for (uint32_t j = 0; j < n; j++) {
			if (h[j].path != NULL && h[j].parent == list[i].fid)
				list[i].children++;
		}
	}
	qsort(list, k, sizeof(*list), mbox_cmp);
	*list_r = list;
	*count_r = k;
	return ecSuccess;
}

/* The list of the last read, kept while the hierarchy's state is the
 * same: APPEND, SELECT, STATUS, COPY and LIST would otherwise read the
 * whole hierarchy for every command. */
struct imap_mbox_cache {
	pool_t *pool;
	uint64_t state;
	struct mbox *list;
	uint32_t n;
};

void imap_mailbox_cache_free(struct imap_session *s)
{
	if (s->mboxes == NULL)
		return;
	pool_free(&s->mboxes->pool);
	free(s->mboxes);
	s->mboxes = NULL;
}

/* Every visible mail folder with its IMAP path, valid until the end of
 * the command. */
static uint32_t imap_mailboxes(struct imap_session *s, struct mbox **list_r, uint32_t *count_r)
{
	/* Only the owner's list is cached: a delegate's also depends on
	 * group memberships in the directory, which the state misses. */
	uint64_t state = 0;
	bool cacheable = store_mailbox_is_owner(s->mb) &&
		store_folders_state(s->mb, &state) == ecSuccess;
	struct imap_mbox_cache *c = s->mboxes;
	if (cacheable && c != NULL && c->state == state) {
		*list_r = c->list;
		*count_r = c->n;
		return ecSuccess;
	}
	imap_mailbox_cache_free(s);
	uint32_t ec = mailboxes_read(s, list_r, count_r);
	if (ec != ecSuccess || !cacheable)
		return ec;
	c = xcalloc(1, sizeof(*c));
	c->pool = pool_new("imap-mailboxes", 0);
	c->state = state;
	c->n = *count_r;
	c->list = pool_calloc(c->pool, c->n ? c->n : 1, sizeof(*c->list));
	for (uint32_t i = 0; i < c->n; i++) {
		const struct mbox *m = &(*list_r)[i];
		c->list[i] = *m;
		c->list[i].path = pool_strdup(c->pool, m->path);
		/* special_use points at string literals. */
	}
	s->mboxes = c;
	return ecSuccess;
}

static bool path_eq(const char *a, const char *b)
{
	/* INBOX is case-insensitive (RFC 3501 5.1); Exchange folder names are
	 * unique case-insensitively, so the rest is too. */
	return str_case_eq(a, b);
}

uint32_t imap_mailbox_find(struct imap_session *s, const char *name, mapi_id_t *fid_r)
{
	const char *utf8 = imap_mailbox_decode(s, name);
	if (utf8 == NULL)
		return ecInvalidParam;
	struct mbox *list;
	uint32_t n;
	uint32_t ec = imap_mailboxes(s, &list, &n);
	if (ec != ecSuccess)
		return ec;
	for (uint32_t i = 0; i < n; i++) {
		if (path_eq(list[i].path, utf8)) {
			*fid_r = list[i].fid;
			return ecSuccess;
		}
	}
	return ecNotFound;
}

/* RFC 3501 6.3.8: "*" matches anything, "%" anything but the delimiter.
 * Recursion is bounded by the pattern's wildcards (at most 20). */
static bool pattern_match(const char *p, const char *s, int budget)
{
	for (; *p; p++) {
		if (*p == '*' || *p == '%') {
			if (budget <= 0)
				return false;
			for (const char *t = s;; t++) {
				if (pattern_match(p + 1, t, budget - 1))
					return true;
				if (*t == '\0' || (*p == '%' && *t == '/'))
					return false;
			}
		}
		if (ascii_toupper((unsigned char)*p) != ascii_toupper((unsigned char)*s))
			return false;
		s++;
	}
	return *s == '\0';
}

static bool pattern_matches(const char *pattern, const char *path)
{
	/* INBOX matches case-insensitively; so do the other names. */
	return pattern_match(pattern, path, 20);
}

/* A folder's STATUS data: the IMAP state and its size. */
struct imap_status {
	struct store_imap_folder st;
	uint64_t size;
	uint64_t deleted_storage; /* store size (what counts against the quota) of \Deleted messages */
};

static bool items_have(const struct imap_arg *items, const char *name)
{
	for (const struct imap_arg *a = items; a->type != IMAP_ARG_EOL; a++)
		if (slice_case_eq_str(a->s, name))
			return true;
	return false;
}

/* items: the STATUS items asked for (some cost a read of the folder). */
static uint32_t imap_status_get(struct imap_session *s, mapi_id_t fid,
	const struct imap_arg *items, struct imap_status *r)
{
	uint32_t ec = store_imap_folder(s->mb, fid, &r->st);
	r->size = 0;
	r->deleted_storage = 0;
	if (ec == ecSuccess && r->st.deleted > 0 && items_have(items, "DELETED-STORAGE")) {
		/* RFC 9208 4.2: what an EXPUNGE would free. */
		struct store_imap_msg *v;
		uint32_t n;
		ec = store_imap_list(s->mb, fid, 1, 0, 0, s->cmd_pool, &v, &n);
		for (uint32_t i = 0; ec == ecSuccess && i < n; i++)
			if (v[i].flags & STORE_IMAP_DELETED)
				r->deleted_storage += v[i].store_size;
	}
	if (ec == ecSuccess) {
		uint32_t tag = PR_MESSAGE_SIZE_EXTENDED;
		struct mapi_tags tags = {.count = 1, .tags = &tag};
		struct mapi_propvals v;
		if (store_folder_get_props(s->mb, fid, &tags, s->cmd_pool, &v) == ecSuccess)
			r->size = (uint64_t)mapi_propvals_get_i8(&v, PR_MESSAGE_SIZE_EXTENDED, 0);
	}
	return ec;
}

static void write_status_items(struct imap_session *s, const struct imap_status *status,
	const struct imap_arg *items, struct buf *out)
{
	const struct store_imap_folder *st = &status->st;
	bool first = true;
	for (const struct imap_arg *a = items; a->type != IMAP_ARG_EOL; a++) {
		if (!first)
			buf_append_byte(out, ' ');
		first = false;
		if (slice_case_eq_str(a->s, "MESSAGES"))
			buf_printf(out, "MESSAGES %u", st->exists);
		else if (slice_case_eq_str(a->s, "RECENT"))
			buf_append_str(out, "RECENT 0");
		else if (slice_case_eq_str(a->s, "UIDNEXT"))
			buf_printf(out, "UIDNEXT %u", st->uidnext);
		else if (slice_case_eq_str(a->s, "UIDVALIDITY"))
			buf_printf(out, "UIDVALIDITY %u", st->uidvalidity);
		else if (slice_case_eq_str(a->s, "UNSEEN"))
			buf_printf(out, "UNSEEN %u", st->unseen);
		else if (slice_case_eq_str(a->s, "HIGHESTMODSEQ"))
			buf_printf(out, "HIGHESTMODSEQ %llu", (unsigned long long)st->highestmodseq);
		else if (slice_case_eq_str(a->s, "SIZE"))
			buf_printf(out, "SIZE %llu", (unsigned long long)status->size);
		else if (slice_case_eq_str(a->s, "APPENDLIMIT"))
			buf_printf(out, "APPENDLIMIT %llu",
				(unsigned long long)s->srv->set.limits.max_append);
		else if (slice_case_eq_str(a->s, "DELETED"))
			buf_printf(out, "DELETED %u", st->deleted);
		else if (slice_case_eq_str(a->s, "DELETED-STORAGE"))
			/* RFC 9208: units of 1024 octets, as STORAGE. */
			buf_printf(out, "DELETED-STORAGE %llu",
				(unsigned long long)((status->deleted_storage + 1023) / 1024));
	}
}

static bool status_items_ok(const struct imap_arg *a)
{
	if (a->type != IMAP_ARG_LIST || a->list_count == 0)
		return false;
	static const char *const known[] = {"MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY",
		"UNSEEN", "HIGHESTMODSEQ", "SIZE", "APPENDLIMIT", "DELETED", "DELETED-STORAGE"};
	for (const struct imap_arg *i = a->list; i->type != IMAP_ARG_EOL; i++) {
		bool ok = false;
		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]) && !ok; k++)
			ok = i->type == IMAP_ARG_ATOM && slice_case_eq_str(i->s, known[k]);
		if (!ok)
			return false;
	}
	return true;
}

static int imap_list(struct imap_session *s, struct imap_arg *args, bool lsub)
{
	struct imap_arg *a = args;
	bool sel_special = false, ret_special = true, ret_children = true;
	const struct imap_arg *ret_status = NULL;
	bool extended = false;
	if (!lsub && a->type == IMAP_ARG_LIST) {
		/* RFC 5258 selection options. */
		extended = true;
		for (struct imap_arg *o = a->list; o->type != IMAP_ARG_EOL; o++) {
			if (o->type != IMAP_ARG_ATOM) {
				imap_bad(s, "Invalid LIST selection option");
				return 0;
			}
			if (slice_case_eq_str(o->s, "SPECIAL-USE"))
				sel_special = true;
			else if (!slice_case_eq_str(o->s, "SUBSCRIBED") &&
				!slice_case_eq_str(o->s, "REMOTE") &&
				!slice_case_eq_str(o->s, "RECURSIVEMATCH")) {
				imap_bad(s, "Unknown LIST selection option");
				return 0;
			}
		}
		a++;
	}
	if (!imap_arg_is_astring(&a[0]) ||
		!(imap_arg_is_astring(&a[1]) || (!lsub && a[1].type == IMAP_ARG_LIST))) {
		imap_bad(s, "LIST needs a reference and a mailbox pattern");
		return 0;
	}
	const char *ref = imap_arg_str(s->cmd_pool, &a[0]);
	struct imap_arg *pats = &a[1];
	size_t npats = 1;
	if (a[1].type == IMAP_ARG_LIST) {
		extended = true;
		pats = a[1].list;
		npats = a[1].list_count;
	}
	a += 2;
	if (!lsub && a->type == IMAP_ARG_ATOM && slice_case_eq_str(a->s, "RETURN") &&
		a[1].type == IMAP_ARG_LIST) {
		extended = true;
		for (struct imap_arg *o = a[1].list; o->type != IMAP_ARG_EOL; o++) {
			if (o->type == IMAP_ARG_ATOM && slice_case_eq_str(o->s, "STATUS") &&
				status_items_ok(&o[1])) {
				ret_status = &o[1];
				o++;
			} else if (o->type == IMAP_ARG_ATOM &&
				(slice_case_eq_str(o->s, "SPECIAL-USE") ||
					slice_case_eq_str(o->s, "CHILDREN") ||
					slice_case_eq_str(o->s, "SUBSCRIBED") ||
					slice_case_eq_str(o->s, "MYRIGHTS"))) {
				/* returned anyway */
			} else {
				imap_bad(s, "Invalid LIST return option");
				return 0;
			}
		}
		a += 2;
	}
	if (a->type != IMAP_ARG_EOL || ref == NULL) {
		imap_bad(s, "Invalid LIST arguments");
		return 0;
	}
	(void)extended;
	(void)ret_children;
	(void)ret_special;
	const char *ref8 = imap_mailbox_decode(s, ref);
	/* RFC 3501 6.3.8: LIST "" "" asks for the delimiter. */
	if (npats == 1 && pats[0].s.len == 0 && imap_arg_is_astring(&pats[0])) {
		imap_untagged(s, "%s (\\Noselect) \"/\" \"\"", lsub ? "LSUB" : "LIST");
		imap_ok(s, "%s completed", lsub ? "LSUB" : "LIST");
		return 0;
	}
	struct mbox *list;
	uint32_t n;
	uint32_t ec = imap_mailboxes(s, &list, &n);
	if (ec != ecSuccess) {
		imap_no_ec(s, ec, "LIST");
		return 0;
	}
	const char **pat8 = pool_calloc(s->cmd_pool, npats, sizeof(*pat8));
	for (size_t i = 0; i < npats; i++) {
		const char *p = imap_arg_str(s->cmd_pool, &pats[i]);
		const char *d = p ? imap_mailbox_decode(s, p) : NULL;
		if (d == NULL || ref8 == NULL) {
			imap_bad(s, "Invalid mailbox pattern");
			return 0;
		}
		pat8[i] = ref8[0] ? pool_printf(s->cmd_pool, "%s%s", ref8, d) : d;
	}
	struct buf *out = &s->out;
	for (uint32_t i = 0; i < n; i++) {
		bool match = false;
		for (size_t k = 0; k < npats && !match; k++)
			match = pattern_matches(pat8[k], list[i].path);
		if (!match || (sel_special && list[i].special_use == NULL))
			continue;
		buf_printf(out, "* %s (%s%s%s) \"/\" ", lsub ? "LSUB" : "LIST",
			list[i].children ? "\\HasChildren" : "\\HasNoChildren",
			list[i].special_use ? " " : "",
			list[i].special_use ? list[i].special_use : "");
		imap_mailbox_write(s, out, list[i].path);
		buf_append_str(out, "\r\n");
		if (ret_status != NULL) {
			struct imap_status st;
			if (imap_status_get(s, list[i].fid, ret_status->list, &st) == ecSuccess) {
				buf_append_str(out, "* STATUS ");
				imap_mailbox_write(s, out, list[i].path);
				buf_append_str(out, " (");
				write_status_items(s, &st, ret_status->list, out);
				buf_append_str(out, ")\r\n");
			}
		}
		if (out->len > 65536 && imap_flush_out(s) < 0)
			return -1;
	}
	imap_ok(s, "%s completed", lsub ? "LSUB" : "LIST");
	return 0;
}

int imap_cmd_list(struct imap_session *s, struct imap_arg *args)
{
	return imap_list(s, args, false);
}

int imap_cmd_lsub(struct imap_session *s, struct imap_arg *args)
{
	/* Every mail folder counts as subscribed (as on Exchange, which keeps
	 * no IMAP subscription list). */
	return imap_list(s, args, true);
}

int imap_cmd_subscribe(struct imap_session *s, struct imap_arg *args)
{
	if (!imap_arg_is_astring(&args[0]) || args[1].type != IMAP_ARG_EOL) {
		imap_bad(s, "Missing mailbox name");
		return 0;
	}
	mapi_id_t fid;
	const char *name = imap_arg_str(s->cmd_pool, &args[0]);
	uint32_t ec = name ? imap_mailbox_find(s, name, &fid) : ecInvalidParam;
	if (ec != ecSuccess && strcmp(s->name, "SUBSCRIBE") == 0) {
		imap_no_ec(s, ec, s->name);
		return 0;
	}
	imap_ok(s, "%s completed", s->name);
	return 0;
}

int imap_cmd_status(struct imap_session *s, struct imap_arg *args)
{
	if (!imap_arg_is_astring(&args[0]) || !status_items_ok(&args[1]) ||
		args[2].type != IMAP_ARG_EOL) {
		imap_bad(s, "STATUS needs a mailbox and a list of items");
		return 0;
	}
	const char *name = imap_arg_str(s->cmd_pool, &args[0]);
	mapi_id_t fid;
	uint32_t ec = name ? imap_mailbox_find(s, name, &fid) : ecInvalidParam;
	struct imap_status st;
	if (ec == ecSuccess)
		ec = imap_status_get(s, fid, args[1].list, &st);
	if (ec != ecSuccess) {
		imap_no_ec(s, ec, "STATUS");
		return 0;
	}
	for (const struct imap_arg *i = args[1].list; i->type != IMAP_ARG_EOL; i++)
		if (slice_case_eq_str(i->s, "HIGHESTMODSEQ"))
			s->condstore = true;
	buf_append_str(&s->out, "* STATUS ");
	imap_write_string(&s->out, name, strlen(name));
	buf_append_str(&s->out, " (");
	write_status_items(s, &st, args[1].list, &s->out);
	buf_append_str(&s->out, ")\r\n");
	imap_ok(s, "STATUS completed");
	return 0;
}

/* Splits "a/b/c" into its parent's FID and the last component; the parent
 * must exist (create_parents: created as needed). */
static uint32_t imap_parent_of(struct imap_session *s, const char *path, bool create_parents,
	mapi_id_t *parent_r, const char **leaf_r)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL) {
		*parent_r = store_mailbox_special_fid(s->mb, STORE_SPECIAL_IPM_SUBTREE);
		*leaf_r = path;
		return ecSuccess;
	}
	const char *parent = pool_strndup(s->cmd_pool, path, (size_t)(slash - path));
	*leaf_r = slash + 1;
	if (parent[0] == '\0' || (*leaf_r)[0] == '\0')
		return ecInvalidParam;
	uint32_t ec = imap_mailbox_find(s, parent, parent_r);
	if (ec == ecNotFound && create_parents) {
		mapi_id_t pp;
		const char *pleaf;
		ec = imap_parent_of(s, parent, true, &pp, &pleaf);
		if (ec == ecSuccess)
			ec = store_folder_create(s->mb, pp, pleaf, STORE_FOLDER_GENERIC, NULL,
				STORE_CREATE_OPEN_IF_EXISTS, parent_r);
	}
	return ec;
}

static const char *imap_name_arg(struct imap_session *s, const struct imap_arg *a)
{
	const char *name = imap_arg_str(s->cmd_pool, a);
	if (name == NULL)
		return NULL;
	/* The client's encoding: the parent lookups decode again, so keep
	 * the original form and decode only to validate. */
	return imap_mailbox_decode(s, name) ? name : NULL;
}

int imap_cmd_create(struct imap_session *s, struct imap_arg *args)
{
	if (!imap_arg_is_astring(&args[0]) ||
		(args[1].type != IMAP_ARG_EOL && args[1].type != IMAP_ARG_LIST)) {
		imap_bad(s, "CREATE needs a mailbox name");
		return 0;
	}
	const char *name = imap_name_arg(s, &args[0]);
	if (name == NULL || name[0] == '\0') {
		imap_no(s, "[CANNOT] Invalid mailbox name");
		return 0;
	}
	/* RFC 3501 6.3.3: a trailing delimiter only says the name will have
	 * children. */
	size_t len = strlen(name);
	if (name[len - 1] == '/')
		name = pool_strndup(s->cmd_pool, name, len - 1);
	mapi_id_t fid;
	if (str_case_eq(name, "INBOX") || imap_mailbox_find(s, name, &fid) == ecSuccess) {
		imap_no(s, "[ALREADYEXISTS] Mailbox exists");
		return 0;
	}
	mapi_id_t parent;
	const char *leaf;
	uint32_t ec = imap_parent_of(s, name, true, &parent, &leaf);
	const char *leaf8 = ec == ecSuccess ? imap_mailbox_decode(s, leaf) : NULL;
	if (ec == ecSuccess && leaf8 == NULL)
		ec = ecInvalidParam;
	if (ec == ecSuccess) {
		struct mapi_propval pv = {.tag = PR_CONTAINER_CLASS};
		pv.v.str = (char *)"IPF.Note";
		struct mapi_propvals props = {.count = 1, .vals = &pv, .cap = 1};
		ec = store_folder_create(s->mb, parent, leaf8, STORE_FOLDER_GENERIC, &props, 0, &fid);
	}
	if (ec != ecSuccess) {
		imap_no_ec(s, ec, "CREATE");
		return 0;
	}
	imap_ok(s, "CREATE completed");
	return 0;
}

int imap_cmd_delete(struct imap_session *s, struct imap_arg *args)
{
	if (!imap_arg_is_astring(&args[0]) || args[1].type != IMAP_ARG_EOL) {
		imap_bad(s, "DELETE needs a mailbox name");
		return 0;
	}
	const char *name = imap_name_arg(s, &args[0]);
	mapi_id_t fid;
	uint32_t ec = name ? imap_mailbox_find(s, name, &fid) : ecInvalidParam;
	if (ec == ecSuccess && str_case_eq(name, "INBOX"))
		ec = ecAccessDenied;
	if (ec == ecSuccess && s->sel != NULL && s->sel->fid == fid)
		imap_unselect(s), s->state = IMAP_STATE_AUTH;
	/* RFC 3501 6.3.4: the messages go with it; a mailbox with children
	 * is refused (we cannot keep it as \Noselect). */
	if (ec == ecSuccess)
		ec = store_folder_delete(s->mb, fid, STORE_DEL_MESSAGES);
	if (ec != ecSuccess) {
		imap_no_ec(s, ec, "DELETE");
		return 0;
	}
	imap_ok(s, "DELETE completed");
	return 0;
}

int imap_cmd_rename(struct imap_session *s, struct imap_arg *args)
{
	if (!imap_arg_is_astring(&args[0]) || !imap_arg_is_astring(&args[1]) ||
		args[2].type != IMAP_ARG_EOL) {
		imap_bad(s, "RENAME needs two mailbox names");
		return 0;
	}
	const char *from = imap_name_arg(s, &args[0]);
	const char *to = imap_name_arg(s, &args[1]);
	mapi_id_t fid, exists;
	uint32_t ec = from && to ? imap_mailbox_find(s, from, &fid) : ecInvalidParam;
	if (ec == ecSuccess && (str_case_eq(from, "INBOX") || to[0] == '\0')) {
		/* Renaming INBOX moves its messages in RFC 3501; Exchange's
		 * Inbox is a fixed folder, so we refuse. */
		imap_no(s, "[CANNOT] Cannot rename INBOX");
		return 0;
	}
	if (ec == ecSuccess && imap_mailbox_find(s, to, &exists) == ecSuccess) {
		imap_no(s, "[ALREADYEXISTS] Target mailbox exists");
		return 0;
	}
	mapi_id_t parent;
	const char *leaf;
	if (ec == ecSuccess)
		ec = imap_parent_of(s, to, true, &parent, &leaf);
	const char *leaf8 = ec == ecSuccess ? imap_mailbox_decode(s, leaf) : NULL;
	if (ec == ecSuccess && leaf8 == NULL)
		ec = ecInvalidParam;
	if (ec == ecSuccess)
		ec = store_folder_move(s->mb, fid, parent, leaf8);
	if (ec != ecSuccess) {
		imap_no_ec(s, ec, "RENAME");
		return 0;
	}
	imap_ok(s, "RENAME completed");
	return 0;
}
