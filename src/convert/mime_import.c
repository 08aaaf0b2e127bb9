/* MIME -> message object (MS-OXCMAIL 2.2). GMime parses the MIME, decodes
 * headers (RFC 2047), parameters (RFC 2231), transfer encodings and
 * uuencode; this file maps what it finds onto MAPI properties. */
#include "convert/mime.h"

#include <gmime/gmime.h>
#include <string.h>

#include "convert/body.h"
#include "convert/charset.h"
#include "convert/mime_internal.h"
#include "convert/msgutil.h"
#include "core/base64.h"
#include "core/hm_time.h"
#include "core/str.h"
#include "core/utf.h"
#include "mapi/namedprop.h"
#include "mapi/propval.h"
#include "mapi/tags.h"

#include "convert/tnef.h"

struct imp {
	pool_t *pool;
	struct mime_import_opts o;
	struct mime_import_info *info;
	GMimeParserOptions *popts;
	uint64_t now;
};

/* Per message (the top one and each embedded one). */
struct imp_msg {
	struct mapi_message *msg;
	GMimeObject *text, *html, *enriched; /* the chosen body parts */
	bool body_taken;
	bool smime;
	unsigned embed_depth;
	/* Raw header block of this message, for PR_TRANSPORT_MESSAGE_HEADERS
	 * and for rebuilding a signed entity. */
	const char *raw_headers;
	size_t raw_headers_len;
	const unsigned char *raw_body;
	size_t raw_body_len;
};

static void imp_attachment(struct imp *im, struct imp_msg *m, GMimeObject *obj, unsigned depth,
	bool related);
static void imp_top(struct imp *im, struct imp_msg *m, GMimeObject *obj);
static void imp_mixed(struct imp *im, struct imp_msg *m, GMimeMultipart *mp, unsigned depth,
	bool want_body, bool related);
static bool imp_limit(struct imp *im, unsigned depth);
static void imp_message(struct imp *im, struct imp_msg *m, GMimeMessage *gm);

/* --- small helpers --- */

static const char *hdr(GMimeObject *obj, const char *name)
{
	const char *v = g_mime_object_get_header(obj, name);
	if (v == NULL)
		return NULL;
	while (*v == ' ' || *v == '\t')
		v++;
	return *v != '\0' ? v : NULL;
}

static char *trimmed(pool_t *pool, const char *s)
{
	struct slice sl = slice_trim(SLICE_STR(s));
	struct buf b;
	buf_init(&b, pool);
	utf8_sanitize(sl.ptr, sl.len, &b);
	return (char *)buf_cstr(&b);
}

static void set_str(struct imp *im, struct mapi_propvals *p, uint32_t tag, const char *s)
{
	if (s == NULL)
		return;
	if (utf8_valid(s, strlen(s))) {
		mapi_propvals_set_str(im->pool, p, tag, s);
	} else {
		struct buf b;
		buf_init(&b, im->pool);
		utf8_sanitize(s, strlen(s), &b);
		mapi_propvals_set_nocopy(im->pool, p, tag, (union mapi_pvalue){.str = (char *)buf_cstr(&b)});
	}
}

static void set_named_str(struct imp *im, struct mapi_message *msg, const char *header,
	const char *value)
{
	struct mapi_propname n = convert_internet_header_name(header);
	uint16_t id = convert_named_id(msg, &n);
	if (id != 0)
		set_str(im, &msg->props, PROP_TAG(PT_UNICODE, id), value);
}

static bool ct_is(GMimeObject *obj, const char *type, const char *sub)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	return ct != NULL && g_mime_content_type_is_type(ct, type, sub);
}

static char *mime_tag(struct imp *im, GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	if (ct == NULL)
		return pool_strdup(im->pool, "application/octet-stream");
	char *t = g_mime_content_type_get_mime_type(ct);
	char *r = pool_strdup(im->pool, t);
	g_free(t);
	str_lower(r);
	return r;
}

static void byte_array_unref(void *ctx)
{
	g_byte_array_unref(ctx);
}

/* Decoded content of a leaf part (transfer encoding undone). The bytes
 * live until the pool is cleared. */
static struct slice part_bytes(struct imp *im, GMimePart *part)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	if (w == NULL)
		return SLICE("", 0);
	/* Decoded data is at most as long as its encoding: one allocation. */
	GMimeStream *src = g_mime_data_wrapper_get_stream(w);
	gint64 enc_len = src != NULL ? g_mime_stream_length(src) : -1;
	GByteArray *arr = g_byte_array_sized_new(enc_len > 0 && enc_len < (1 << 30)
			? (guint)enc_len + 16
			: 256);
	GMimeStream *mem = g_mime_stream_mem_new_with_byte_array(arr);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	g_mime_data_wrapper_write_to_stream(w, mem);
	g_object_unref(mem);
	pool_add_cleanup(im->pool, byte_array_unref, arr);
	return SLICE(arr->data != NULL ? arr->data : (const guint8 *)"", arr->len);
}

/* The charset an HTML document declares in a <meta> near its start. */
static char *html_meta_charset(pool_t *pool, struct slice html)
{
	size_t n = html.len < 4096 ? html.len : 4096;
	for (size_t i = 0; i + 8 < n; i++) {
		if (ascii_tolower(html.ptr[i]) != 'c' || str_ncasecmp((const char *)html.ptr + i, "charset", 7) != 0)
			continue;
		size_t j = i + 7;
		while (j < n && (html.ptr[j] == ' ' || html.ptr[j] == '\t'))
			j++;
		if (j >= n || html.ptr[j] != '=')
			continue;
		j++;
		while (j < n && (html.ptr[j] == ' ' || html.ptr[j] == '"' || html.ptr[j] == '\''))
			j++;
		size_t k = j;
		while (k < n && (g_ascii_isalnum(html.ptr[k]) || html.ptr[k] == '-' ||
				       html.ptr[k] == '_' || html.ptr[k] == '.' || html.ptr[k] == ':'))
			k++;
		if (k > j)
			return pool_strndup(pool, (const char *)html.ptr + j, k - j);
	}
	return NULL;
}

/* Appends the text of a text part as UTF-8. */
static void part_text(struct imp *im, GMimePart *part, bool html, struct buf *out)
{
	struct slice raw = part_bytes(im, part);
	const char *cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
	if (cs == NULL && html)
		cs = html_meta_charset(im->pool, raw);
	if (!convert_to_utf8(cs, raw.ptr, raw.len, out) && cs != NULL)
		im->info->charset_fallbacks++;
}

/* CRLF line ends throughout (PR_BODY convention), from LF, CR or CRLF;
 * NULs (which would end the string) become U+FFFD. Copies runs of
 * ordinary bytes at once: this is on every message's path. */
static void to_crlf(const unsigned char *s, size_t len, struct buf *out)
{
	buf_reserve(out, len + len / 16 + 2);
	size_t run = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		if (c > '\r' || (c != '\r' && c != '\n' && c != '\0'))
			continue;
		buf_append(out, s + run, i - run);
		if (c == '\r') {
			buf_append(out, "\r\n", 2);
			if (i + 1 < len && s[i + 1] == '\n')
				i++;
		} else if (c == '\n') {
			buf_append(out, "\r\n", 2);
		} else {
			buf_append_str(out, "\xef\xbf\xbd");
		}
		run = i + 1;
	}
	buf_append(out, s + run, len - run);
	/* Reserving alone leaves no terminator when there was nothing. */
	out->data[out->len] = '\0';
}

/* --- addresses --- */

struct addr_tags {
	uint32_t name, addrtype, email, smtp, entryid, search_key;
};

static const struct addr_tags tags_sent_repr = {PR_SENT_REPRESENTING_NAME,
	PR_SENT_REPRESENTING_ADDRTYPE, PR_SENT_REPRESENTING_EMAIL_ADDRESS,
	PR_SENT_REPRESENTING_SMTP_ADDRESS, PR_SENT_REPRESENTING_ENTRYID,
	PR_SENT_REPRESENTING_SEARCH_KEY};
static const struct addr_tags tags_sender = {PR_SENDER_NAME, PR_SENDER_ADDRTYPE,
	PR_SENDER_EMAIL_ADDRESS, PR_SENDER_SMTP_ADDRESS, PR_SENDER_ENTRYID, PR_SENDER_SEARCH_KEY};
static const struct addr_tags tags_read_receipt = {PR_READ_RECEIPT_NAME, PR_READ_RECEIPT_ADDRTYPE,
	PR_READ_RECEIPT_EMAIL_ADDRESS, PR_READ_RECEIPT_SMTP_ADDRESS, PR_READ_RECEIPT_ENTRYID,
	PR_READ_RECEIPT_SEARCH_KEY};
static const struct addr_tags tags_recip = {PR_DISPLAY_NAME, PR_ADDRTYPE, PR_EMAIL_ADDRESS,
	PR_SMTP_ADDRESS, PR_ENTRYID, PR_SEARCH_KEY};

struct mailbox {
	const char *name; /* display name, never empty */
	const char *addr;
};

static void set_addr(struct imp *im, struct mapi_propvals *p, const struct addr_tags *t,
	const struct mailbox *mb)
{
	set_str(im, p, t->name, mb->name);
	set_str(im, p, t->addrtype, "SMTP");
	set_str(im, p, t->email, mb->addr);
	set_str(im, p, t->smtp, mb->addr);
	struct buf b;
	buf_init(&b, NULL);
	convert_oneoff_entryid(mb->name, "SMTP", mb->addr, &b);
	mapi_propvals_set_bin(im->pool, p, t->entryid, b.data, (uint32_t)b.len);
	buf_reset(&b);
	convert_search_key("SMTP", mb->addr, &b);
	mapi_propvals_set_bin(im->pool, p, t->search_key, b.data, (uint32_t)b.len);
	buf_deinit(&b);
}

typedef void addr_cb(struct imp *im, void *ctx, const struct mailbox *mb);

/* Calls cb for every mailbox of list, groups flattened. */
static void addr_walk(struct imp *im, InternetAddressList *list, addr_cb *cb, void *ctx,
	unsigned depth)
{
	if (list == NULL || depth > 4)
		return;
	int n = internet_address_list_length(list);
	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			addr_walk(im, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
				cb, ctx, depth + 1);
			continue;
		}
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
			continue;
		const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
		const char *name = internet_address_get_name(ia);
		if (addr == NULL || *addr == '\0')
			continue;
		struct mailbox mb;
		mb.addr = trimmed(im->pool, addr);
		mb.name = name != NULL && *name != '\0' ? trimmed(im->pool, name) : mb.addr;
		if (*mb.name == '\0')
			mb.name = mb.addr;
		cb(im, ctx, &mb);
	}
}

static void first_cb(struct imp *im, void *ctx, const struct mailbox *mb)
{
	struct mailbox *first = ctx;
	if (first->addr == NULL)
		*first = *mb;
}

static bool first_mailbox(struct imp *im, InternetAddressList *list, struct mailbox *mb)
{
	mb->addr = NULL;
	mb->name = NULL;
	addr_walk(im, list, first_cb, mb, 0);
	return mb->addr != NULL;
}

struct recip_ctx {
	struct imp_msg *m;
	int type;
	struct buf *display; /* PR_DISPLAY_TO/CC/BCC */
};

static void recip_cb(struct imp *im, void *ctx, const struct mailbox *mb)
{
	struct recip_ctx *rc = ctx;
	struct mapi_recipient *r = array_push_new(&rc->m->msg->recipients);
	mapi_propvals_set_long(im->pool, &r->props, PR_RECIPIENT_TYPE, rc->type);
	set_addr(im, &r->props, &tags_recip, mb);
	mapi_propvals_set_long(im->pool, &r->props, PR_OBJECT_TYPE, 6);  /* MAPI_MAILUSER */
	mapi_propvals_set_long(im->pool, &r->props, PR_DISPLAY_TYPE, 0); /* DT_MAILUSER */
	mapi_propvals_set_long(im->pool, &r->props, PR_RECIPIENT_FLAGS, 1); /* recipSendable */
	if (rc->display->len > 0)
		buf_append_str(rc->display, "; ");
	buf_append_str(rc->display, mb->name);
}

struct reply_ctx {
	struct buf names;
	struct buf entries; /* FlatEntry structures */
	uint32_t count;
};

static void reply_cb(struct imp *im, void *ctx, const struct mailbox *mb)
{
	struct reply_ctx *rc = ctx;
	if (rc->names.len > 0)
		buf_append_str(&rc->names, ";");
	buf_append_str(&rc->names, mb->name);
	/* MS-OXCDATA 2.3.2 FlatEntry: size, entry ID, padding to 4. */
	struct buf eid;
	buf_init(&eid, NULL);
	convert_oneoff_entryid(mb->name, "SMTP", mb->addr, &eid);
	buf_append_u32le(&rc->entries, (uint32_t)eid.len);
	buf_append(&rc->entries, eid.data, eid.len);
	buf_append_fill(&rc->entries, 0, (4 - eid.len % 4) % 4);
	buf_deinit(&eid);
	rc->count++;
}

/* --- header mapping (MS-OXCMAIL 2.2.3) --- */

/* MS-OXCMSG 2.2.1.9/2.2.1.10: a prefix is one to three letters, a colon
 * and a space. */
static size_t subject_prefix_len(const char *s)
{
	const char *p = s;
	for (int n = 0; n < 4; n++) {
		if (n > 0 && p[0] == ':' && p[1] == ' ')
			return (size_t)(p - s) + 2;
		if (n == 3)
			break;
		gunichar c = g_utf8_get_char_validated(p, -1);
		if (c == (gunichar)-1 || c == (gunichar)-2 || !g_unichar_isalpha(c))
			return 0;
		p = g_utf8_next_char(p);
	}
	return 0;
}

void mime_subject_props(pool_t *pool, struct mapi_propvals *p, const char *subject)
{
	mapi_propvals_set_str(pool, p, PR_SUBJECT, subject);
	size_t pl = subject_prefix_len(subject);
	char *prefix = pool_strndup(pool, subject, pl);
	mapi_propvals_set_str(pool, p, PR_SUBJECT_PREFIX, prefix);
	mapi_propvals_set_str(pool, p, PR_NORMALIZED_SUBJECT, subject + pl);
}

static int64_t parse_date(const char *v, bool *ok_r)
{
	int64_t t;
	int tz;
	*ok_r = v != NULL && time_parse_rfc5322(v, &t, &tz) == 0;
	return *ok_r ? t : 0;
}

/* MS-LCID: the language tags mail carries and their LCIDs; a bare
 * language maps to its primary country. */
static const struct {
	const char *tag;
	int32_t lcid;
} lcids[] = {
	{"en-us", 0x0409}, {"en-gb", 0x0809}, {"en-au", 0x0c09}, {"en-ca", 0x1009},
	{"de-de", 0x0407}, {"de-at", 0x0c07}, {"de-ch", 0x0807}, {"fr-fr", 0x040c},
	{"fr-ca", 0x0c0c}, {"fr-be", 0x080c}, {"fr-ch", 0x100c}, {"es-es", 0x0c0a},
	{"es-mx", 0x080a}, {"it-it", 0x0410}, {"ja-jp", 0x0411}, {"zh-cn", 0x0804},
	{"zh-tw", 0x0404}, {"zh-hk", 0x0c04}, {"ko-kr", 0x0412}, {"ru-ru", 0x0419},
	{"pt-br", 0x0416}, {"pt-pt", 0x0816}, {"nl-nl", 0x0413}, {"nl-be", 0x0813},
	{"sv-se", 0x041d}, {"nb-no", 0x0414}, {"da-dk", 0x0406}, {"fi-fi", 0x040b},
	{"pl-pl", 0x0415}, {"cs-cz", 0x0405}, {"sk-sk", 0x041b}, {"hu-hu", 0x040e},
	{"tr-tr", 0x041f}, {"el-gr", 0x0408}, {"he-il", 0x040d}, {"ar-sa", 0x0401},
	{"uk-ua", 0x0422}, {"ro-ro", 0x0418}, {"bg-bg", 0x0402}, {"hr-hr", 0x041a},
	{"th-th", 0x041e}, {"vi-vn", 0x042a}, {"id-id", 0x0421}, {"hi-in", 0x0439},
	{"en", 0x0409}, {"de", 0x0407}, {"fr", 0x040c}, {"es", 0x0c0a}, {"it", 0x0410},
	{"ja", 0x0411}, {"zh", 0x0804}, {"ko", 0x0412}, {"ru", 0x0419}, {"pt", 0x0416},
	{"nl", 0x0413}, {"sv", 0x041d}, {"nb", 0x0414}, {"no", 0x0414}, {"da", 0x0406},
	{"fi", 0x040b}, {"pl", 0x0415}, {"cs", 0x0405}, {"hu", 0x040e}, {"tr", 0x041f},
	{"el", 0x0408}, {"he", 0x040d}, {"ar", 0x0401}, {"uk", 0x0422},
};

int32_t mime_language_to_lcid(const char *tag)
{
	char t[16];
	size_t n = 0;
	while (tag[n] != '\0' && tag[n] != ',' && tag[n] != ';' && tag[n] != ' ' && n < sizeof(t) - 1) {
		t[n] = (char)ascii_tolower(tag[n] == '_' ? '-' : tag[n]);
		n++;
	}
	t[n] = '\0';
	for (size_t i = 0; i < sizeof(lcids) / sizeof(lcids[0]); i++)
		if (strcmp(t, lcids[i].tag) == 0)
			return lcids[i].lcid;
	char *dash = strchr(t, '-');
	if (dash != NULL) {
		*dash = '\0';
		for (size_t i = 0; i < sizeof(lcids) / sizeof(lcids[0]); i++)
			if (strcmp(t, lcids[i].tag) == 0)
				return lcids[i].lcid;
	}
	return 0;
}

const char *mime_lcid_to_language(int32_t lcid)
{
	for (size_t i = 0; i < sizeof(lcids) / sizeof(lcids[0]); i++)
		if (lcids[i].lcid == lcid)
			return lcids[i].tag;
	return NULL;
}

static void imp_keywords(struct imp *im, struct mapi_message *msg, const char *v)
{
	/* PidNameKeywords (PS_PUBLIC_STRINGS "Keywords"), comma-separated in
	 * the Keywords header (RFC 5322 3.6.5). */
	ARRAY(char *) words;
	array_init(&words, im->pool);
	const char *p = v;
	while (*p != '\0') {
		const char *e = strchr(p, ',');
		size_t n = e != NULL ? (size_t)(e - p) : strlen(p);
		struct slice w = slice_trim(SLICE(p, n));
		if (w.len > 0) {
			struct buf b;
			buf_init(&b, im->pool);
			utf8_sanitize(w.ptr, w.len, &b);
			array_push(&words, (char *)buf_cstr(&b));
		}
		p += n + (e != NULL);
		if (words.n >= 256)
			break;
	}
	if (words.n == 0)
		return;
	struct mapi_propname name = mapi_np_name(MAPI_NP_PidNameKeywords);
	uint16_t id = convert_named_id(msg, &name);
	if (id == 0)
		return;
	union mapi_pvalue val;
	val.mv.count = (uint32_t)words.n;
	val.mv.str = words.v;
	mapi_propvals_set_nocopy(im->pool, &msg->props, PROP_TAG(PT_MV_UNICODE, id), val);
}

static void imp_importance(struct imp *im, GMimeObject *obj, struct mapi_propvals *p)
{
	/* MS-OXCMAIL 2.2.3.2.5: Importance wins over Priority, X-Priority
	 * and X-MSMail-Priority. */
	int imp = -1;
	const char *v;
	if ((v = hdr(obj, "Importance")) != NULL) {
		if (str_case_starts_with(v, "low"))
			imp = 0;
		else if (str_case_starts_with(v, "normal"))
			imp = 1;
		else if (str_case_starts_with(v, "high"))
			imp = 2;
	}
	if ((v = hdr(obj, "Priority")) != NULL) {
		int prio = -2;
		if (str_case_starts_with(v, "non-urgent")) {
			prio = -1;
			if (imp < 0)
				imp = 0;
		} else if (str_case_starts_with(v, "normal")) {
			prio = 0;
			if (imp < 0)
				imp = 1;
		} else if (str_case_starts_with(v, "urgent")) {
			prio = 1;
			if (imp < 0)
				imp = 2;
		}
		if (prio > -2)
			mapi_propvals_set_long(im->pool, p, PR_PRIORITY, prio);
	}
	if (imp < 0 && (v = hdr(obj, "X-Priority")) != NULL) {
		if (*v == '1' || *v == '2')
			imp = 2;
		else if (*v == '3')
			imp = 1;
		else if (*v == '4' || *v == '5')
			imp = 0;
	}
	if (imp < 0 && (v = hdr(obj, "X-MSMail-Priority")) != NULL) {
		if (str_case_starts_with(v, "low"))
			imp = 0;
		else if (str_case_starts_with(v, "normal"))
			imp = 1;
		else if (str_case_starts_with(v, "high"))
			imp = 2;
	}
	if (imp >= 0)
		mapi_propvals_set_long(im->pool, p, PR_IMPORTANCE, imp);
}

/* Internet headers kept as PS_INTERNET_HEADERS named properties so that
 * they survive a round trip (MS-OXCMAIL, PS_INTERNET_HEADERS: "X-" headers and List-*
 * headers without a tag of their own). */
static const char *const kept_headers[] = {"List-Id", "List-Post", "List-Owner", "List-Archive",
	"X-Mailer", "User-Agent", "X-Mailing-List", "Auto-Submitted", "Precedence", NULL};

static void imp_headers(struct imp *im, struct imp_msg *m, GMimeMessage *gm)
{
	GMimeObject *obj = GMIME_OBJECT(gm);
	struct mapi_message *msg = m->msg;
	struct mapi_propvals *p = &msg->props;
	pool_t *pool = im->pool;
	const char *v;

	mapi_propvals_set_str(pool, p, PR_MESSAGE_CLASS, "IPM.Note");

	const char *subject = g_mime_message_get_subject(gm);
	if (subject != NULL) {
		char *s = trimmed(pool, subject);
		/* Folding whitespace inside a subject is one space. */
		for (char *c = s; *c != '\0'; c++)
			if (*c == '\r' || *c == '\n' || *c == '\t')
				*c = ' ';
		mime_subject_props(pool, p, s);
	}

	struct mailbox from, sender;
	bool have_from = first_mailbox(im, g_mime_message_get_from(gm), &from);
	bool have_sender = first_mailbox(im, g_mime_message_get_sender(gm), &sender);
	if (have_from)
		set_addr(im, p, &tags_sent_repr, &from);
	/* MS-OXCMAIL 2.2.3.2.2: without a Sender, the sender is the From. */
	if (have_sender)
		set_addr(im, p, &tags_sender, &sender);
	else if (have_from)
		set_addr(im, p, &tags_sender, &from);

	struct reply_ctx rc;
	buf_init(&rc.names, NULL);
	buf_init(&rc.entries, NULL);
	rc.count = 0;
	addr_walk(im, g_mime_message_get_reply_to(gm), reply_cb, &rc, 0);
	if (rc.count > 0) {
		set_str(im, p, PR_REPLY_RECIPIENT_NAMES, buf_cstr(&rc.names));
		struct buf fl;
		buf_init(&fl, NULL);
		buf_append_u32le(&fl, rc.count);
		buf_append_u32le(&fl, (uint32_t)rc.entries.len);
		buf_append(&fl, rc.entries.data, rc.entries.len);
		mapi_propvals_set_bin(pool, p, PR_REPLY_RECIPIENT_ENTRIES, fl.data, (uint32_t)fl.len);
		buf_deinit(&fl);
	}
	buf_deinit(&rc.names);
	buf_deinit(&rc.entries);

	static const struct {
		GMimeAddressType type;
		int mapi;
		uint32_t display;
	} rtypes[] = {{GMIME_ADDRESS_TYPE_TO, MAPI_TO, PR_DISPLAY_TO},
		{GMIME_ADDRESS_TYPE_CC, MAPI_CC, PR_DISPLAY_CC},
		{GMIME_ADDRESS_TYPE_BCC, MAPI_BCC, PR_DISPLAY_BCC}};
	for (size_t i = 0; i < 3; i++) {
		struct buf disp;
		buf_init(&disp, NULL);
		struct recip_ctx rcx = {m, rtypes[i].mapi, &disp};
		addr_walk(im, g_mime_message_get_addresses(gm, rtypes[i].type), recip_cb, &rcx, 0);
		if (disp.len > 0)
			set_str(im, p, rtypes[i].display, buf_cstr(&disp));
		buf_deinit(&disp);
	}

	/* MS-OXCMAIL (Date header): Date, else the current time. */
	bool ok;
	int64_t t = parse_date(hdr(obj, "Date"), &ok);
	mapi_propvals_set_systime(pool, p, PR_CLIENT_SUBMIT_TIME,
		ok ? time_unix_to_filetime(t, 0) : im->now);
	/* The first (newest) Received header: the time after its last ';'. */
	if ((v = hdr(obj, "Received")) != NULL) {
		const char *semi = strrchr(v, ';');
		if (semi != NULL) {
			t = parse_date(semi + 1, &ok);
			if (ok)
				mapi_propvals_set_systime(pool, p, PR_MESSAGE_DELIVERY_TIME,
					time_unix_to_filetime(t, 0));
		}
	}

	if ((v = hdr(obj, "Message-ID")) != NULL)
		set_str(im, p, PR_INTERNET_MESSAGE_ID, trimmed(pool, v));
	if ((v = hdr(obj, "In-Reply-To")) != NULL)
		set_str(im, p, PR_IN_REPLY_TO_ID, trimmed(pool, v));
	if ((v = hdr(obj, "References")) != NULL) {
		char *r = trimmed(pool, v);
		for (char *c = r; *c != '\0'; c++)
			if (*c == '\r' || *c == '\n' || *c == '\t')
				*c = ' ';
		set_str(im, p, PR_INTERNET_REFERENCES, r);
	}
	imp_importance(im, obj, p);
	if ((v = hdr(obj, "Sensitivity")) != NULL) {
		int s = -1;
		if (str_case_starts_with(v, "personal"))
			s = 1;
		else if (str_case_starts_with(v, "private"))
			s = 2;
		else if (str_case_starts_with(v, "company-confidential") ||
			str_case_starts_with(v, "company confidential"))
			s = 3;
		if (s >= 0)
			mapi_propvals_set_long(pool, p, PR_SENSITIVITY, s);
	}
	if ((v = hdr(obj, "Thread-Index")) != NULL) {
		struct buf b;
		buf_init(&b, NULL);
		if (base64_decode(v, strlen(v), &b) == 0 && b.len > 0)
			mapi_propvals_set_bin(pool, p, PR_CONVERSATION_INDEX, b.data, (uint32_t)b.len);
		buf_deinit(&b);
	}
	if ((v = hdr(obj, "Thread-Topic")) != NULL) {
		char *d = g_mime_utils_header_decode_text(im->popts, v);
		set_str(im, p, PR_CONVERSATION_TOPIC, trimmed(pool, d));
		g_free(d);
	} else {
		const char *ns = mapi_propvals_get_str(p, PR_NORMALIZED_SUBJECT);
		if (ns != NULL)
			set_str(im, p, PR_CONVERSATION_TOPIC, ns);
	}
	/* GMime files Content-* headers under the top MIME part. */
	GMimeObject *top = g_mime_message_get_mime_part(gm);
	v = hdr(obj, "Content-Language");
	if (v == NULL && top != NULL)
		v = hdr(top, "Content-Language");
	if (v != NULL) {
		int32_t lcid = mime_language_to_lcid(v);
		if (lcid != 0)
			mapi_propvals_set_long(pool, p, PR_MESSAGE_LOCALE_ID, lcid);
	}
	/* Read receipt (RFC 8098) and delivery receipt requests. */
	InternetAddressList *dnt = NULL;
	if ((v = hdr(obj, "Disposition-Notification-To")) != NULL) {
		struct mailbox rr;
		dnt = internet_address_list_parse(im->popts, v);
		if (first_mailbox(im, dnt, &rr)) {
			mapi_propvals_set_bool(pool, p, PR_READ_RECEIPT_REQUESTED, true);
			set_addr(im, p, &tags_read_receipt, &rr);
		}
		if (dnt != NULL)
			g_object_unref(dnt);
	}
	if (hdr(obj, "Return-Receipt-To") != NULL)
		mapi_propvals_set_bool(pool, p, PR_ORIGINATOR_DELIVERY_REPORT_REQUESTED, true);
	if ((v = hdr(obj, "Keywords")) != NULL) {
		char *d = g_mime_utils_header_decode_text(im->popts, v);
		imp_keywords(im, msg, d);
		g_free(d);
	}
	if ((v = hdr(obj, "List-Help")) != NULL)
		set_str(im, p, PR_LIST_HELP, trimmed(pool, v));
	if ((v = hdr(obj, "List-Subscribe")) != NULL)
		set_str(im, p, PR_LIST_SUBSCRIBE, trimmed(pool, v));
	if ((v = hdr(obj, "List-Unsubscribe")) != NULL)
		set_str(im, p, PR_LIST_UNSUBSCRIBE, trimmed(pool, v));
	if ((v = hdr(obj, "Organization")) != NULL) {
		char *d = g_mime_utils_header_decode_text(im->popts, v);
		set_str(im, p, PR_INTERNET_ORGANIZATION, trimmed(pool, d));
		g_free(d);
	}
	for (size_t i = 0; kept_headers[i] != NULL; i++)
		if ((v = hdr(obj, kept_headers[i])) != NULL) {
			char *d = g_mime_utils_header_decode_text(im->popts, v);
			set_named_str(im, msg, kept_headers[i], trimmed(pool, d));
			g_free(d);
		}

	/* The whole header block as it came. */
	if (m->raw_headers != NULL && m->raw_headers_len > 0) {
		struct buf b, u;
		buf_init(&b, NULL);
		buf_init(&u, NULL);
		to_crlf((const unsigned char *)m->raw_headers, m->raw_headers_len, &b);
		if (utf8_valid(b.data, b.len))
			buf_append(&u, b.data, b.len);
		else
			convert_to_utf8("windows-1252", b.data, b.len, &u);
		/* A NUL would end the string early; headers have none. */
		for (size_t i = 0; i < u.len; i++)
			if (u.data[i] == 0)
				u.data[i] = ' ';
		set_str(im, p, PR_TRANSPORT_MESSAGE_HEADERS, buf_cstr(&u));
		buf_deinit(&b);
		buf_deinit(&u);
	}
}

/* --- attachments --- */

static struct mapi_attachment *new_attachment(struct imp *im, struct imp_msg *m)
{
	struct mapi_attachment *a = array_push_new(&m->msg->attachments);
	mapi_propvals_set_long(im->pool, &a->props, PR_RENDERING_POSITION, -1);
	return a;
}

static void attach_names(struct imp *im, struct mapi_attachment *a, const char *fn)
{
	if (fn == NULL || *fn == '\0')
		return;
	char *name = trimmed(im->pool, fn);
	/* Only the last path component (C:\fakepath\x.pdf, ../../x). */
	char *slash = strrchr(name, '/');
	char *bslash = strrchr(name, '\\');
	if (bslash != NULL && (slash == NULL || bslash > slash))
		slash = bslash;
	if (slash != NULL && slash[1] != '\0')
		name = slash + 1;
	set_str(im, &a->props, PR_ATTACH_LONG_FILENAME, name);
	set_str(im, &a->props, PR_DISPLAY_NAME, name);
	const char *dot = strrchr(name, '.');
	if (dot != NULL && dot != name && dot[1] != '\0' && strlen(dot) <= 16)
		set_str(im, &a->props, PR_ATTACH_EXTENSION, dot);
}

static void attach_common(struct imp *im, struct mapi_attachment *a, GMimeObject *obj,
	bool related)
{
	set_str(im, &a->props, PR_ATTACH_MIME_TAG, mime_tag(im, obj));
	const char *cid = g_mime_object_get_content_id(obj);
	if (cid != NULL && *cid != '\0')
		set_str(im, &a->props, PR_ATTACH_CONTENT_ID, trimmed(im->pool, cid));
	const char *loc = hdr(obj, "Content-Location");
	if (loc != NULL)
		set_str(im, &a->props, PR_ATTACH_CONTENT_LOCATION, trimmed(im->pool, loc));
	const char *base = hdr(obj, "Content-Base");
	if (base != NULL)
		set_str(im, &a->props, PR_ATTACH_CONTENT_BASE, trimmed(im->pool, base));
	if (related)
		mapi_propvals_set_long(im->pool, &a->props, PR_ATTACH_FLAGS, ATT_MHTML_REF);
	const char *disp = g_mime_object_get_disposition(obj);
	if (disp != NULL && str_case_eq(disp, "inline"))
		mapi_propvals_set_bool(im->pool, &a->props, PR_ATTACHMENT_HIDDEN, related);
}

static void attach_data(struct imp *im, struct mapi_attachment *a, struct slice data)
{
	mapi_propvals_set_long(im->pool, &a->props, PR_ATTACH_METHOD, ATTACH_BY_VALUE);
	mapi_propvals_set_nocopy(im->pool, &a->props, PR_ATTACH_DATA_BIN,
		(union mapi_pvalue){.bin = {(uint32_t)data.len, (uint8_t *)data.ptr}});
	mapi_propvals_set_long(im->pool, &a->props, PR_ATTACH_SIZE, (int32_t)data.len);
}

/* Remaps named-property IDs of a value set from one name table to another. */
static void remap_named(struct imp *im, const struct mapi_message *from_top,
	struct mapi_message *to_top, struct mapi_propvals *p)
{
	for (uint32_t i = 0; i < p->count; i++) {
		uint16_t id = PROP_ID(p->vals[i].tag);
		if (id < PROP_ID_NAMED_MIN)
			continue;
		const struct mapi_propname *n = convert_named_get(from_top, id);
		uint16_t nid = n != NULL ? convert_named_id(to_top, n) : 0;
		if (nid == 0) {
			p->vals[i] = p->vals[p->count - 1];
			p->count--;
			i--;
			continue;
		}
		p->vals[i].tag = PROP_TAG(PROP_TYPE(p->vals[i].tag), nid);
	}
}

static void remap_message(struct imp *im, const struct mapi_message *from_top,
	struct mapi_message *to_top, struct mapi_message *msg, unsigned depth)
{
	remap_named(im, from_top, to_top, &msg->props);
	for (size_t i = 0; i < msg->recipients.n; i++)
		remap_named(im, from_top, to_top, &msg->recipients.v[i].props);
	for (size_t i = 0; i < msg->attachments.n; i++) {
		struct mapi_attachment *a = &msg->attachments.v[i];
		remap_named(im, from_top, to_top, &a->props);
		if (a->embedded != NULL && depth < 32) {
			remap_message(im, from_top, to_top, a->embedded, depth + 1);
			a->embedded->names = to_top->names;
		}
	}
}

/* MS-OXCMAIL (TNEF): a winmail.dat's properties and attachments join the
 * message; the MIME's own transport facts (dates, headers, recipients)
 * win over the TNEF's copies. Returns true if merged. */
static bool imp_tnef(struct imp *im, struct imp_msg *m, struct slice data)
{
	struct mapi_message *t = NULL;
	const char *err = NULL;
	if (tnef_decode(im->pool, data.ptr, data.len, NULL, &t, NULL, &err) < 0)
		return false;
	struct mapi_message *top = m->msg;
	/* Named IDs of the TNEF are its own: enter them in our table (the
	 * message's name table is the top message's). */
	remap_message(im, t, m->msg, t, 0);
	static const uint32_t keep[] = {PR_CLIENT_SUBMIT_TIME, PR_MESSAGE_DELIVERY_TIME,
		PR_TRANSPORT_MESSAGE_HEADERS, PR_INTERNET_MESSAGE_ID, PR_SENDER_NAME,
		PR_SENDER_EMAIL_ADDRESS, PR_SENDER_ADDRTYPE, PR_SENDER_ENTRYID,
		PR_SENDER_SEARCH_KEY, PR_SENDER_SMTP_ADDRESS, PR_SENT_REPRESENTING_NAME,
		PR_SENT_REPRESENTING_EMAIL_ADDRESS, PR_SENT_REPRESENTING_ADDRTYPE,
		PR_SENT_REPRESENTING_ENTRYID, PR_SENT_REPRESENTING_SEARCH_KEY,
		PR_SENT_REPRESENTING_SMTP_ADDRESS, PR_DISPLAY_TO, PR_DISPLAY_CC, PR_DISPLAY_BCC};
	for (uint32_t i = 0; i < t->props.count; i++) {
		const struct mapi_propval *pv = &t->props.vals[i];
		bool skip = false;
		for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++)
			if (PROP_ID(keep[k]) == PROP_ID(pv->tag) &&
				mapi_propvals_get(&top->props, keep[k]) != NULL)
				skip = true;
		if (!skip)
			mapi_propvals_set_nocopy(im->pool, &m->msg->props, pv->tag, pv->v);
	}
	for (size_t i = 0; i < t->attachments.n; i++) {
		struct mapi_attachment *a = array_push_new(&m->msg->attachments);
		*a = t->attachments.v[i];
	}
	/* The TNEF's bodies replace the MIME's text, which is only a
	 * stand-in for non-TNEF readers. */
	if (mapi_propvals_get(&t->props, PR_RTF_COMPRESSED) != NULL ||
		mapi_propvals_get(&t->props, PR_HTML) != NULL) {
		m->text = m->html = m->enriched = NULL;
		if (mapi_propvals_get(&t->props, PR_BODY) == NULL)
			mapi_propvals_delete(&m->msg->props, PR_BODY);
		mapi_propvals_delete(&m->msg->props, PR_NATIVE_BODY_INFO);
	}
	im->info->tnef_merged = true;
	return true;
}

static bool is_tnef(GMimeObject *obj)
{
	if (ct_is(obj, "application", "ms-tnef") || ct_is(obj, "application", "vnd.ms-tnef"))
		return true;
	if (GMIME_IS_PART(obj)) {
		const char *fn = g_mime_part_get_filename(GMIME_PART(obj));
		return fn != NULL && str_case_eq(fn, "winmail.dat");
	}
	return false;
}

/* Serializes an entity (for parts we keep whole). */
static struct slice entity_bytes(struct imp *im, GMimeObject *obj)
{
	GByteArray *arr = g_byte_array_new();
	GMimeStream *mem = g_mime_stream_mem_new_with_byte_array(arr);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	g_mime_object_write_to_stream(obj, NULL, mem);
	g_object_unref(mem);
	pool_add_cleanup(im->pool, byte_array_unref, arr);
	return SLICE(arr->data != NULL ? arr->data : (const guint8 *)"", arr->len);
}

static void imp_embedded(struct imp *im, struct imp_msg *m, GMimeMessagePart *mp, bool related)
{
	GMimeObject *obj = GMIME_OBJECT(mp);
	GMimeMessage *inner = g_mime_message_part_get_message(mp);
	struct mapi_attachment *a = new_attachment(im, m);
	attach_common(im, a, obj, related);
	const char *fn = g_mime_object_get_content_disposition_parameter(obj, "filename");
	if (fn == NULL)
		fn = g_mime_object_get_content_type_parameter(obj, "name");
	attach_names(im, a, fn);
	if (inner == NULL || m->embed_depth + 1 > im->o.max_embedded) {
		/* Too deep (or empty): keep the message as a .eml file. */
		struct slice s = inner != NULL ? entity_bytes(im, GMIME_OBJECT(inner)) : SLICE("", 0);
		attach_data(im, a, s);
		if (fn == NULL)
			attach_names(im, a, "message.eml");
		im->info->skipped += inner != NULL;
		return;
	}
	struct imp_msg sub;
	memset(&sub, 0, sizeof(sub));
	sub.msg = convert_message_new_embedded(m->msg);
	sub.embed_depth = m->embed_depth + 1;
	/* The embedded message's own header block, re-serialized by GMime. */
	char *h = g_mime_object_get_headers(GMIME_OBJECT(inner), NULL);
	if (h != NULL) {
		sub.raw_headers = pool_strdup(im->pool, h);
		sub.raw_headers_len = strlen(h);
		g_free(h);
	}
	imp_message(im, &sub, inner);
	a->embedded = sub.msg;
	mapi_propvals_set_long(im->pool, &a->props, PR_ATTACH_METHOD, ATTACH_EMBEDDED_MSG);
	const char *subj = mapi_propvals_get_str(&sub.msg->props, PR_SUBJECT);
	if (fn == NULL)
		set_str(im, &a->props, PR_DISPLAY_NAME, subj != NULL ? subj : "");
}

static void imp_leaf_attachment(struct imp *im, struct imp_msg *m, GMimePart *part, bool related)
{
	GMimeObject *obj = GMIME_OBJECT(part);
	struct slice data = part_bytes(im, part);
	if (is_tnef(obj) && (im->o.flags & MIME_IMPORT_NO_TNEF) == 0 && imp_tnef(im, m, data))
		return;
	struct mapi_attachment *a = new_attachment(im, m);
	attach_common(im, a, obj, related);
	attach_names(im, a, g_mime_part_get_filename(part));
	attach_data(im, a, data);
	if (g_mime_content_type_is_type(g_mime_object_get_content_type(obj), "text", "*")) {
		const char *cs = g_mime_object_get_content_type_parameter(obj, "charset");
		if (cs != NULL)
			set_str(im, &a->props, PR_TEXT_ATTACHMENT_CHARSET, trimmed(im->pool, cs));
	}
}

/* Any entity that is not (part of) the body becomes attachments. */
static void imp_attachment(struct imp *im, struct imp_msg *m, GMimeObject *obj, unsigned depth,
	bool related)
{
	if (!imp_limit(im, depth))
		return;
	if (GMIME_IS_MESSAGE_PART(obj)) {
		imp_embedded(im, m, GMIME_MESSAGE_PART(obj), related);
	} else if (GMIME_IS_MULTIPART(obj)) {
		/* A multipart after the body: its leaves are attachments. */
		imp_mixed(im, m, GMIME_MULTIPART(obj), depth, false, related);
	} else if (GMIME_IS_PART(obj)) {
		imp_leaf_attachment(im, m, GMIME_PART(obj), related);
	}
}

/* --- bodies --- */

static bool is_attachment_disp(GMimeObject *obj)
{
	const char *d = g_mime_object_get_disposition(obj);
	return d != NULL && str_case_eq(d, "attachment");
}

static bool is_text_body(GMimeObject *obj)
{
	if (!GMIME_IS_PART(obj) || is_attachment_disp(obj))
		return false;
	if (!ct_is(obj, "text", "plain") && !ct_is(obj, "text", "html") &&
		!ct_is(obj, "text", "enriched") && !ct_is(obj, "text", "richtext"))
		return false;
	/* A named text part is a file. */
	return g_mime_part_get_filename(GMIME_PART(obj)) == NULL;
}

static bool is_body_candidate(GMimeObject *obj)
{
	if (is_text_body(obj))
		return true;
	return GMIME_IS_MULTIPART(obj) && !is_attachment_disp(obj) &&
		(ct_is(obj, "multipart", "alternative") || ct_is(obj, "multipart", "related") ||
			ct_is(obj, "multipart", "mixed"));
}

static void take_text(struct imp_msg *m, GMimeObject *obj)
{
	if (ct_is(obj, "text", "html")) {
		if (m->html == NULL)
			m->html = obj;
	} else if (ct_is(obj, "text", "enriched") || ct_is(obj, "text", "richtext")) {
		if (m->enriched == NULL)
			m->enriched = obj;
	} else if (m->text == NULL) {
		m->text = obj;
	}
}

static bool imp_limit(struct imp *im, unsigned depth)
{
	if (++im->info->parts > im->o.max_parts || depth > im->o.max_depth) {
		im->info->skipped++;
		return false;
	}
	return true;
}

static void imp_body(struct imp *im, struct imp_msg *m, GMimeObject *obj, unsigned depth);

/* The children of a multipart/mixed (or any multipart without a meaning
 * of its own): with want_body, the first that can be a body is the body,
 * everything else is an attachment. */
static void imp_mixed(struct imp *im, struct imp_msg *m, GMimeMultipart *mp, unsigned depth,
	bool want_body, bool related)
{
	int n = g_mime_multipart_get_count(mp);
	for (int i = 0; i < n; i++) {
		GMimeObject *c = g_mime_multipart_get_part(mp, i);
		if (want_body && is_body_candidate(c)) {
			want_body = false;
			imp_body(im, m, c, depth + 1);
		} else {
			imp_attachment(im, m, c, depth + 1, related);
		}
	}
}

static void imp_related(struct imp *im, struct imp_msg *m, GMimeMultipart *mp, unsigned depth)
{
	int n = g_mime_multipart_get_count(mp);
	if (n == 0)
		return;
	/* RFC 2387: the root is the part named by start, else the first. */
	int root = 0;
	const char *start = g_mime_object_get_content_type_parameter(GMIME_OBJECT(mp), "start");
	if (start != NULL) {
		char *want = g_mime_utils_decode_message_id(start);
		for (int i = 0; want != NULL && i < n; i++) {
			const char *cid = g_mime_object_get_content_id(g_mime_multipart_get_part(mp, i));
			if (cid != NULL && strcmp(cid, want) == 0)
				root = i;
		}
		g_free(want);
	}
	GMimeObject *r = g_mime_multipart_get_part(mp, root);
	if (is_body_candidate(r))
		imp_body(im, m, r, depth + 1);
	else
		imp_attachment(im, m, r, depth + 1, false);
	for (int i = 0; i < n; i++)
		if (i != root)
			imp_attachment(im, m, g_mime_multipart_get_part(mp, i), depth + 1, true);
}

static void imp_alternative(struct imp *im, struct imp_msg *m, GMimeMultipart *mp,
	unsigned depth)
{
	int n = g_mime_multipart_get_count(mp);
	for (int i = 0; i < n; i++) {
		GMimeObject *c = g_mime_multipart_get_part(mp, i);
		if (is_text_body(c)) {
			if (imp_limit(im, depth + 1))
				take_text(m, c);
		} else if (is_body_candidate(c)) {
			imp_body(im, m, c, depth + 1);
		} else {
			/* text/calendar beside the text of an invitation, and the
			 * like: kept as attachments. */
			imp_attachment(im, m, c, depth + 1, false);
		}
	}
}

/* obj (a body candidate) holds the message's body. */
static void imp_body(struct imp *im, struct imp_msg *m, GMimeObject *obj, unsigned depth)
{
	if (!imp_limit(im, depth))
		return;
	m->body_taken = true;
	if (!GMIME_IS_MULTIPART(obj))
		take_text(m, obj);
	else if (ct_is(obj, "multipart", "alternative"))
		imp_alternative(im, m, GMIME_MULTIPART(obj), depth);
	else if (ct_is(obj, "multipart", "related"))
		imp_related(im, m, GMIME_MULTIPART(obj), depth);
	else
		imp_mixed(im, m, GMIME_MULTIPART(obj), depth, true, false);
}

/* The top entity of a message. */
static void imp_top(struct imp *im, struct imp_msg *m, GMimeObject *obj)
{
	if (is_body_candidate(obj))
		imp_body(im, m, obj, 0);
	else if (GMIME_IS_MULTIPART(obj) && imp_limit(im, 0))
		imp_mixed(im, m, GMIME_MULTIPART(obj), 0, true, false);
	else
		imp_attachment(im, m, obj, 0, false);
}

/* Uuencoded files inside a text body become attachments (Outlook and
 * Exchange do the same); the text keeps what is around them. */
static void imp_uuencode(struct imp *im, struct imp_msg *m, struct buf *text)
{
	const char *s = (const char *)text->data;
	size_t len = text->len;
	struct buf keep;
	buf_init(&keep, NULL);
	size_t pos = 0, copied = 0;
	bool found = false;
	while (pos < len) {
		const char *eol = memchr(s + pos, '\n', len - pos);
		size_t line_end = eol != NULL ? (size_t)(eol - s) + 1 : len;
		const char *l = s + pos;
		unsigned mode;
		int name_at = 0;
		if (line_end - pos > 10 && strncmp(l, "begin ", 6) == 0 &&
			sscanf(l, "begin %o %n", &mode, &name_at) == 1 && name_at > 0 &&
			l[name_at] != '\r' && l[name_at] != '\n') {
			/* Find the "end" line. */
			size_t q = line_end, end_at = 0;
			while (q < len) {
				const char *e2 = memchr(s + q, '\n', len - q);
				size_t qe = e2 != NULL ? (size_t)(e2 - s) + 1 : len;
				struct slice ln = slice_trim(SLICE(s + q, qe - q));
				if (slice_eq_str(ln, "end")) {
					end_at = qe;
					break;
				}
				q = qe;
			}
			if (end_at != 0) {
				size_t nl = line_end - pos - (size_t)name_at;
				struct slice name = slice_trim(SLICE(l + name_at, nl));
				struct buf data;
				buf_init(&data, im->pool);
				size_t enc_len = q - line_end;
				buf_reserve(&data, enc_len);
				int state = GMIME_UUDECODE_STATE_BEGIN;
				guint32 save = 0;
				size_t outn = g_mime_encoding_uudecode_step(
					(const unsigned char *)s + line_end, enc_len, data.data, &state, &save);
				data.len = outn;
				struct mapi_attachment *a = new_attachment(im, m);
				attach_names(im, a, slice_dup(im->pool, name));
				set_str(im, &a->props, PR_ATTACH_MIME_TAG, "application/octet-stream");
				attach_data(im, a, SLICE(data.data, data.len));
				buf_append(&keep, s + copied, pos - copied);
				copied = end_at;
				pos = end_at;
				found = true;
				continue;
			}
		}
		pos = line_end;
	}
	if (!found) {
		buf_deinit(&keep);
		return;
	}
	buf_append(&keep, s + copied, len - copied);
	buf_reset(text);
	buf_append(text, keep.data, keep.len);
	buf_deinit(&keep);
}

static void enriched_to_html(struct imp *im, GMimeObject *obj, struct buf *out)
{
	struct buf text;
	buf_init(&text, NULL);
	part_text(im, GMIME_PART(obj), false, &text);
	/* GMime's text/enriched (RFC 1896) filter writes the HTML. */
	GByteArray *arr = g_byte_array_new();
	GMimeStream *mem = g_mime_stream_mem_new_with_byte_array(arr);
	GMimeStream *f = g_mime_stream_filter_new(mem);
	guint32 flags = ct_is(obj, "text", "richtext") ? GMIME_FILTER_ENRICHED_IS_RICHTEXT : 0;
	GMimeFilter *flt = g_mime_filter_enriched_new(flags);
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(f), flt);
	g_object_unref(flt);
	g_mime_stream_write(f, (const char *)text.data, text.len);
	g_mime_stream_flush(f);
	g_object_unref(f);
	buf_append_str(out, "<html><head><meta charset=\"utf-8\"></head><body>");
	buf_append(out, arr->data, arr->len);
	buf_append_str(out, "</body></html>");
	g_object_unref(mem);
	buf_deinit(&text);
}

static void imp_bodies(struct imp *im, struct imp_msg *m)
{
	struct mapi_propvals *p = &m->msg->props;
	int native = NATIVE_BODY_UNDEFINED;
	if (m->text != NULL) {
		struct buf raw, text;
		buf_init(&raw, NULL);
		buf_init(&text, im->pool);
		part_text(im, GMIME_PART(m->text), false, &raw);
		to_crlf(raw.data, raw.len, &text);
		if ((im->o.flags & MIME_IMPORT_NO_UUENCODE) == 0)
			imp_uuencode(im, m, &text);
		/* Valid UTF-8 already (part_text): kept without a copy. */
		mapi_propvals_set_nocopy(im->pool, p, PR_BODY,
			(union mapi_pvalue){.str = (char *)buf_cstr(&text)});
		native = NATIVE_BODY_PLAIN;
		buf_deinit(&raw);
	}
	if (m->html != NULL || m->enriched != NULL) {
		struct buf raw, html;
		buf_init(&raw, NULL);
		buf_init(&html, im->pool);
		if (m->html != NULL)
			part_text(im, GMIME_PART(m->html), true, &raw);
		else
			enriched_to_html(im, m->enriched, &raw);
		/* Line ends as on the wire, CRLF, whatever the input used. */
		to_crlf(raw.data, raw.len, &html);
		buf_deinit(&raw);
		mapi_propvals_set_nocopy(im->pool, p, PR_HTML,
			(union mapi_pvalue){.bin = {(uint32_t)html.len, html.data}});
		native = NATIVE_BODY_HTML;
	}
	if (native != NATIVE_BODY_UNDEFINED) {
		/* In memory every body is Unicode: PR_HTML is written as UTF-8. */
		mapi_propvals_set_long(im->pool, p, PR_INTERNET_CPID, (int32_t)CONVERT_CPID_UTF8);
		mapi_propvals_set_long(im->pool, p, PR_NATIVE_BODY_INFO, native);
	}
}

/* Hides inline attachments that the HTML body shows (MS-OXCMAIL
 * inline attachments: referenced by cid: or by Content-Location). */
static void imp_mark_inline(struct imp *im, struct imp_msg *m)
{
	const struct mapi_binary *h = mapi_propvals_get_bin(&m->msg->props, PR_HTML);
	for (size_t i = 0; i < m->msg->attachments.n; i++) {
		struct mapi_attachment *a = &m->msg->attachments.v[i];
		const char *cid = mapi_propvals_get_str(&a->props, PR_ATTACH_CONTENT_ID);
		const char *loc = mapi_propvals_get_str(&a->props, PR_ATTACH_CONTENT_LOCATION);
		bool used = false;
		if (h != NULL && cid != NULL && *cid != '\0') {
			char *needle = g_strdup_printf("cid:%s", cid);
			used = g_strstr_len((const char *)h->pb, h->cb, needle) != NULL;
			g_free(needle);
		}
		if (!used && h != NULL && loc != NULL && *loc != '\0')
			used = g_strstr_len((const char *)h->pb, h->cb, loc) != NULL;
		if (used) {
			mapi_propvals_set_bool(im->pool, &a->props, PR_ATTACHMENT_HIDDEN, true);
			int32_t f = mapi_propvals_get_long(&a->props, PR_ATTACH_FLAGS, 0);
			mapi_propvals_set_long(im->pool, &a->props, PR_ATTACH_FLAGS,
				f | ATT_MHTML_REF);
		}
	}
}

/* Signed or encrypted S/MIME: the whole protected content is one
 * attachment, the message class says which (MS-OXOSMIME 2.1). */
static bool imp_smime(struct imp *im, struct imp_msg *m, GMimeObject *top)
{
	struct mapi_propvals *p = &m->msg->props;
	if (GMIME_IS_MULTIPART_SIGNED(top) || ct_is(top, "multipart", "signed")) {
		const char *proto = g_mime_object_get_content_type_parameter(top, "protocol");
		if (proto == NULL || (!str_case_eq(proto, "application/pkcs7-signature") &&
					     !str_case_eq(proto, "application/x-pkcs7-signature")))
			return false;
		mapi_propvals_set_str(im->pool, p, PR_MESSAGE_CLASS, "IPM.Note.SMIME.MultipartSigned");
		struct mapi_attachment *a = new_attachment(im, m);
		set_str(im, &a->props, PR_ATTACH_MIME_TAG, "multipart/signed");
		attach_names(im, a, "smime.p7m");
		struct buf ent;
		buf_init(&ent, im->pool);
		if (m->raw_headers != NULL && m->raw_body != NULL) {
			/* The entity exactly as signed: its Content-* header lines
			 * and its body bytes. */
			const char *h = m->raw_headers, *end = h + m->raw_headers_len;
			bool keep = false;
			while (h < end) {
				const char *nl = memchr(h, '\n', (size_t)(end - h));
				const char *le = nl != NULL ? nl + 1 : end;
				if (*h != ' ' && *h != '\t')
					keep = (size_t)(end - h) > 8 && str_ncasecmp(h, "Content-", 8) == 0;
				if (keep)
					buf_append(&ent, h, (size_t)(le - h));
				h = le;
			}
			if (ent.len > 0 && ent.data[ent.len - 1] != '\n')
				buf_append_str(&ent, "\r\n");
			buf_append_str(&ent, "\r\n");
			buf_append(&ent, m->raw_body, m->raw_body_len);
		} else {
			struct slice s = entity_bytes(im, top);
			buf_append(&ent, s.ptr, s.len);
		}
		attach_data(im, a, SLICE(ent.data, ent.len));
		/* The signed content's text is also the message's body, for
		 * previews and search (nothing else of it is promoted). */
		GMimeObject *content = GMIME_IS_MULTIPART(top) &&
				g_mime_multipart_get_count(GMIME_MULTIPART(top)) > 0
			? g_mime_multipart_get_part(GMIME_MULTIPART(top), 0)
			: NULL;
		if (content != NULL) {
			struct imp_msg tmp = *m;
			struct mapi_message scratch = *m->msg;
			array_init(&scratch.attachments, im->pool);
			tmp.msg = &scratch;
			imp_top(im, &tmp, content);
			m->text = tmp.text;
			m->html = tmp.html;
			m->enriched = tmp.enriched;
		}
		return true;
	}
	if (ct_is(top, "application", "pkcs7-mime") || ct_is(top, "application", "x-pkcs7-mime")) {
		struct slice d = GMIME_IS_PART(top) ? part_bytes(im, GMIME_PART(top)) : SLICE("", 0);
		mapi_propvals_set_str(im->pool, p, PR_MESSAGE_CLASS, "IPM.Note.SMIME");
		struct mapi_attachment *a = new_attachment(im, m);
		set_str(im, &a->props, PR_ATTACH_MIME_TAG, "application/pkcs7-mime");
		attach_names(im, a, "smime.p7m");
		attach_data(im, a, d);
		return true;
	}
	return false;
}

static void imp_message(struct imp *im, struct imp_msg *m, GMimeMessage *gm)
{
	imp_headers(im, m, gm);
	GMimeObject *top = g_mime_message_get_mime_part(gm);
	if (top != NULL && !imp_smime(im, m, top))
		imp_top(im, m, top);
	else if (top != NULL)
		m->smime = true;
	imp_bodies(im, m);
	imp_mark_inline(im, m);
	struct mapi_propvals *p = &m->msg->props;
	if ((im->o.flags & MIME_IMPORT_NO_BODY_DERIVE) == 0 &&
		mapi_propvals_get(p, PR_BODY) == NULL &&
		(mapi_propvals_get(p, PR_HTML) != NULL ||
			mapi_propvals_get(p, PR_RTF_COMPRESSED) != NULL)) {
		const char *err;
		(void)convert_body_sync(im->pool, p, 0, CONVERT_BODY_TEXT, &err);
	}
	bool visible = false;
	for (size_t i = 0; i < m->msg->attachments.n; i++)
		if (!mapi_propvals_get_bool(&m->msg->attachments.v[i].props, PR_ATTACHMENT_HIDDEN, false))
			visible = true;
	mapi_propvals_set_long(im->pool, p, PR_MESSAGE_FLAGS,
		visible ? MSGFLAG_HASATTACH : 0);
}

static void count_warning(gint64 offset, GMimeParserWarning errcode, const gchar *item,
	gpointer user_data)
{
	struct mime_import_info *info = user_data;
	info->warnings++;
}

/* The end of the top header block: the first empty line. */
static size_t header_block_end(const unsigned char *d, size_t len, size_t *body_r)
{
	size_t i = 0;
	while (i < len) {
		const unsigned char *nl = memchr(d + i, '\n', len - i);
		if (nl == NULL)
			break;
		size_t ls = i, le = (size_t)(nl - d);
		if (le == ls || (le == ls + 1 && d[ls] == '\r')) {
			*body_r = le + 1;
			return ls;
		}
		i = le + 1;
	}
	*body_r = len;
	return len;
}

int mime_to_message(pool_t *pool, const void *data, size_t len,
	const struct mime_import_opts *opts, struct mapi_message **msg_r,
	struct mime_import_info *info_r, const char **error_r)
{
	struct imp im;
	memset(&im, 0, sizeof(im));
	struct mime_import_info info_local;
	im.info = info_r != NULL ? info_r : &info_local;
	memset(im.info, 0, sizeof(*im.info));
	im.pool = pool;
	if (opts != NULL)
		im.o = *opts;
	if (im.o.max_size == 0)
		im.o.max_size = MIME_IMPORT_DEFAULT_MAX_SIZE;
	if (im.o.max_parts == 0)
		im.o.max_parts = MIME_IMPORT_DEFAULT_MAX_PARTS;
	if (im.o.max_depth == 0)
		im.o.max_depth = MIME_IMPORT_DEFAULT_MAX_DEPTH;
	if (im.o.max_embedded == 0)
		im.o.max_embedded = MIME_IMPORT_DEFAULT_MAX_EMBEDDED;
	/* Whole seconds: a Date header cannot say more, so a time made up
	 * here survives a round trip. */
	im.now = im.o.now != 0 ? im.o.now : time_filetime_now() / 10000000u * 10000000u;
	if (len > im.o.max_size || len > G_MAXUINT32) {
		*error_r = "message larger than the limit";
		return -1;
	}
	const unsigned char *d = data;
	/* An mbox "From " line before the headers is not a header. */
	if (len > 5 && memcmp(d, "From ", 5) == 0) {
		const unsigned char *nl = memchr(d, '\n', len);
		if (nl != NULL) {
			len -= (size_t)(nl + 1 - d);
			d = nl + 1;
		}
	}

	im.popts = g_mime_parser_options_new();
	g_mime_parser_options_set_address_compliance_mode(im.popts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(im.popts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_rfc2047_compliance_mode(im.popts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_allow_addresses_without_domain(im.popts, TRUE);
	static const char *fallback[] = {"UTF-8", "windows-1252", NULL};
	g_mime_parser_options_set_fallback_charsets(im.popts, fallback);
	g_mime_parser_options_set_warning_callback(im.popts, count_warning, im.info);

	/* The parser reads the caller's bytes in place: no copy of the
	 * message. The GByteArray only borrows the data (owner FALSE, and
	 * freed without its segment below). */
	GByteArray *arr = g_byte_array_new_take((guint8 *)d, len);
	GMimeStream *stream = g_mime_stream_mem_new_with_byte_array(arr);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	g_mime_parser_set_persist_stream(parser, TRUE);
	GMimeMessage *gm = g_mime_parser_construct_message(parser, im.popts);
	bool headerless = false;
	GMimeStream *stream2 = NULL;
	if (gm == NULL) {
		/* No header block at all (empty input, a bare body): read it as
		 * a message without headers whose body is all of it, as mail
		 * readers show such a file. */
		unsigned char *copy = pool_alloc(pool, len + 2);
		memcpy(copy, "\n", 1);
		if (len > 0)
			memcpy(copy + 1, d, len);
		stream2 = g_mime_stream_mem_new_with_buffer((const char *)copy, len + 1);
		g_object_unref(parser);
		parser = g_mime_parser_new_with_stream(stream2);
		g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
		gm = g_mime_parser_construct_message(parser, im.popts);
		headerless = true;
	}
	int ret = 1;
	if (gm == NULL) {
		*error_r = "not a MIME message";
		ret = -1;
	} else {
		struct imp_msg m;
		memset(&m, 0, sizeof(m));
		m.msg = convert_message_new(pool);
		size_t body_at = 0;
		size_t hend = headerless ? 0 : header_block_end(d, len, &body_at);
		m.raw_headers = (const char *)d;
		m.raw_headers_len = hend;
		m.raw_body = d + body_at;
		m.raw_body_len = len - body_at;
		imp_message(&im, &m, gm);
		/* Everything that referenced the input was copied: data the
		 * attachments hold lives in pool. */
		*msg_r = m.msg;
		g_object_unref(gm);
	}
	g_object_unref(parser);
	g_object_unref(stream);
	if (stream2 != NULL)
		g_object_unref(stream2);
	g_byte_array_free(arr, FALSE);
	g_mime_parser_options_free(im.popts);
	return ret;
}
