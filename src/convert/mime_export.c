/* Message object -> MIME (MS-OXCMAIL 2.1). GMime builds and writes the
 * MIME: header folding and RFC 2047, RFC 2231 parameters, transfer
 * encodings and line lengths are its; the mapping from properties is
 * ours. */
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

#define EXP_MAX_DEPTH 32

struct exp {
	struct mime_export_opts o;
	pool_t *pool; /* scratch, freed at the end */
	uint64_t now;
	const struct mapi_message *top;
	const char *error;
	struct slice raw_entity; /* a signed entity written as it is */
	bool have_raw_entity;
};

static const char *gs(const struct mapi_propvals *p, uint32_t tag)
{
	const char *s = mapi_propvals_get_str(p, tag);
	return s != NULL && *s != '\0' ? s : NULL;
}

/* The SMTP address of an address triple (smtp, addrtype, email). */
static const char *smtp_of(struct exp *e, const char *smtp, const char *type, const char *email)
{
	if (smtp != NULL)
		return smtp;
	if (email != NULL && (type == NULL || str_case_eq(type, "SMTP")))
		return email;
	if (email != NULL && e->o.resolve != NULL)
		return e->o.resolve(e->o.resolve_ctx, type, email);
	return NULL;
}

struct addr_tags {
	uint32_t name, addrtype, email, smtp;
};

static const struct addr_tags t_repr = {PR_SENT_REPRESENTING_NAME, PR_SENT_REPRESENTING_ADDRTYPE,
	PR_SENT_REPRESENTING_EMAIL_ADDRESS, PR_SENT_REPRESENTING_SMTP_ADDRESS};
static const struct addr_tags t_sender = {PR_SENDER_NAME, PR_SENDER_ADDRTYPE,
	PR_SENDER_EMAIL_ADDRESS, PR_SENDER_SMTP_ADDRESS};
static const struct addr_tags t_rr = {PR_READ_RECEIPT_NAME, PR_READ_RECEIPT_ADDRTYPE,
	PR_READ_RECEIPT_EMAIL_ADDRESS, PR_READ_RECEIPT_SMTP_ADDRESS};
static const struct addr_tags t_recip = {PR_DISPLAY_NAME, PR_ADDRTYPE, PR_EMAIL_ADDRESS,
	PR_SMTP_ADDRESS};

static const char *one_line(struct exp *e, const char *v);

static bool get_addr(struct exp *e, const struct mapi_propvals *p, const struct addr_tags *t,
	const char **name_r, const char **addr_r)
{
	*addr_r = one_line(e, smtp_of(e, gs(p, t->smtp), gs(p, t->addrtype), gs(p, t->email)));
	*name_r = one_line(e, gs(p, t->name));
	if (*addr_r == NULL)
		return false;
	/* A display name that only repeats the address adds nothing. */
	if (*name_r != NULL && str_case_eq(*name_r, *addr_r))
		*name_r = NULL;
	return true;
}

static void add_mailbox(GMimeMessage *gm, GMimeAddressType type, const char *name,
	const char *addr)
{
	g_mime_message_add_mailbox(gm, type, name != NULL ? name : "", addr);
}

/* MS-OXCDATA 2.3.3 FlatEntryList of one-off entry IDs -> Reply-To. */
static void exp_reply_to(struct exp *e, const struct mapi_propvals *p, GMimeMessage *gm)
{
	const struct mapi_binary *b = mapi_propvals_get_bin(p, PR_REPLY_RECIPIENT_ENTRIES);
	if (b == NULL || b->cb < 8)
		return;
	const uint8_t *d = b->pb;
	uint32_t count = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 |
		(uint32_t)d[3] << 24;
	size_t pos = 8;
	for (uint32_t i = 0; i < count && pos + 4 <= b->cb; i++) {
		uint32_t sz = (uint32_t)d[pos] | (uint32_t)d[pos + 1] << 8 |
			(uint32_t)d[pos + 2] << 16 | (uint32_t)d[pos + 3] << 24;
		pos += 4;
		if (sz > b->cb - pos)
			break;
		char *name, *type, *addr;
		if (convert_oneoff_parse(e->pool, d + pos, sz, &name, &type, &addr) == 1) {
			const char *smtp = smtp_of(e, NULL, type, addr);
			if (smtp != NULL)
				add_mailbox(gm, GMIME_ADDRESS_TYPE_REPLY_TO,
					str_case_eq(name, smtp) ? NULL : name, smtp);
		}
		pos += sz;
		pos += (4 - sz % 4) % 4;
	}
}

/* A header value from a property, on one line: CR and LF (which would
 * start a header of the sender's choosing) and other controls become
 * spaces. NULL for an empty value. */
static const char *one_line(struct exp *e, const char *v)
{
	if (v == NULL || *v == '\0')
		return NULL;
	if (strpbrk(v, "\r\n\t\v\f") == NULL)
		return v;
	char *c = pool_strdup(e->pool, v);
	for (char *p = c; *p != '\0'; p++)
		if (*p == '\r' || *p == '\n' || *p == '\t' || *p == '\v' || *p == '\f')
			*p = ' ';
	return c;
}

static void set_hdr(struct exp *e, GMimeObject *obj, const char *name, const char *value)
{
	value = one_line(e, value);
	if (value != NULL)
		g_mime_object_set_header(obj, name, value, "utf-8");
}

static void set_raw_hdr(struct exp *e, GMimeObject *obj, const char *name, const char *value)
{
	value = one_line(e, value);
	if (value != NULL)
		g_mime_object_set_header(obj, name, value, NULL);
}

/* Headers this module writes itself; PS_INTERNET_HEADERS properties with
 * these names are not written again. */
static bool own_header(const char *name)
{
	static const char *const own[] = {"From", "Sender", "Reply-To", "To", "Cc", "Bcc",
		"Subject", "Date", "Message-ID", "In-Reply-To", "References", "Importance",
		"Priority", "X-Priority", "Sensitivity", "Thread-Index", "Thread-Topic",
		"Content-Language", "Disposition-Notification-To", "Return-Receipt-To",
		"Keywords", "List-Help", "List-Subscribe", "List-Unsubscribe", "Organization",
		"MIME-Version", "Received", "Return-Path", NULL};
	for (size_t i = 0; own[i] != NULL; i++)
		if (str_case_eq(name, own[i]))
			return true;
	return str_case_starts_with(name, "Content-") || str_case_starts_with(name, "X-MS-TNEF");
}

static void exp_headers(struct exp *e, const struct mapi_message *msg, GMimeMessage *gm)
{
	const struct mapi_propvals *p = &msg->props;
	GMimeObject *obj = GMIME_OBJECT(gm);
	const char *name, *addr, *v;

	const char *from_addr = NULL;
	bool have_from = get_addr(e, p, &t_repr, &name, &addr);
	if (have_from) {
		add_mailbox(gm, GMIME_ADDRESS_TYPE_FROM, name, addr);
		from_addr = addr;
	}
	if (get_addr(e, p, &t_sender, &name, &addr)) {
		if (!have_from) {
			add_mailbox(gm, GMIME_ADDRESS_TYPE_FROM, name, addr);
			from_addr = addr;
		} else if (!str_case_eq(addr, from_addr)) {
			/* MS-OXCMAIL (Sender header): Sender only when someone sends on
			 * behalf of the From. */
			add_mailbox(gm, GMIME_ADDRESS_TYPE_SENDER, name, addr);
		}
	}
	exp_reply_to(e, p, gm);
	for (size_t i = 0; i < msg->recipients.n; i++) {
		const struct mapi_propvals *rp = &msg->recipients.v[i].props;
		int32_t type = mapi_propvals_get_long(rp, PR_RECIPIENT_TYPE, MAPI_TO);
		/* The high bits are flags (MAPI_P1, submitted). */
		type &= 0xf;
		if (!get_addr(e, rp, &t_recip, &name, &addr))
			continue;
		if (type == MAPI_CC)
			add_mailbox(gm, GMIME_ADDRESS_TYPE_CC, name, addr);
		else if (type == MAPI_BCC) {
			/* MS-OXCMAIL (Bcc): Bcc lives in the envelope only. */
			if ((e->o.flags & MIME_EXPORT_BCC) != 0)
				add_mailbox(gm, GMIME_ADDRESS_TYPE_BCC, name, addr);
		} else
			add_mailbox(gm, GMIME_ADDRESS_TYPE_TO, name, addr);
	}

	v = gs(p, PR_SUBJECT);
	if (v == NULL) {
		const char *pre = gs(p, PR_SUBJECT_PREFIX), *ns = gs(p, PR_NORMALIZED_SUBJECT);
		if (ns != NULL)
			v = pool_printf(e->pool, "%s%s", pre != NULL ? pre : "", ns);
	}
	if ((v = one_line(e, v)) != NULL)
		g_mime_message_set_subject(gm, v, "utf-8");

	const struct mapi_propval *t = mapi_propvals_get(p, PR_CLIENT_SUBMIT_TIME);
	uint64_t ft = t != NULL ? t->v.ft : e->now;
	uint32_t nsec;
	int64_t unix_t = time_filetime_to_unix(ft, &nsec);
	char date[TIME_RFC5322_MAX];
	time_format_rfc5322(unix_t, 0, date);
	g_mime_object_set_header(obj, "Date", date, NULL);

	v = gs(p, PR_INTERNET_MESSAGE_ID);
	if (v != NULL) {
		set_raw_hdr(e, obj, "Message-ID", v);
	} else {
		/* MS-OXCMAIL (Message-ID header): one is made when there is none. */
		const char *dom = e->o.domain;
		const char *at = from_addr != NULL ? strrchr(from_addr, '@') : NULL;
		if (at != NULL && at[1] != '\0')
			dom = at + 1;
		char *id = g_mime_utils_generate_message_id(dom != NULL ? dom : "localhost");
		g_mime_message_set_message_id(gm, id);
		g_free(id);
	}
	set_raw_hdr(e, obj, "In-Reply-To", gs(p, PR_IN_REPLY_TO_ID));
	set_raw_hdr(e, obj, "References", gs(p, PR_INTERNET_REFERENCES));

	const struct mapi_propval *pv;
	if ((pv = mapi_propvals_get(p, PR_IMPORTANCE)) != NULL) {
		static const char *const names[] = {"Low", "Normal", "High"};
		if (pv->v.l >= 0 && pv->v.l <= 2)
			g_mime_object_set_header(obj, "Importance", names[pv->v.l], NULL);
	}
	if ((pv = mapi_propvals_get(p, PR_PRIORITY)) != NULL) {
		if (pv->v.l > 0)
			g_mime_object_set_header(obj, "Priority", "urgent", NULL);
		else if (pv->v.l < 0)
			g_mime_object_set_header(obj, "Priority", "non-urgent", NULL);
		else
			g_mime_object_set_header(obj, "Priority", "normal", NULL);
	}
	if ((pv = mapi_propvals_get(p, PR_SENSITIVITY)) != NULL) {
		static const char *const names[] = {NULL, "Personal", "Private",
			"Company-Confidential"};
		if (pv->v.l >= 1 && pv->v.l <= 3)
			g_mime_object_set_header(obj, "Sensitivity", names[pv->v.l], NULL);
	}
	const struct mapi_binary *ci = mapi_propvals_get_bin(p, PR_CONVERSATION_INDEX);
	if (ci != NULL && ci->cb > 0) {
		struct buf b;
		buf_init(&b, NULL);
		base64_encode(ci->pb, ci->cb, &b);
		g_mime_object_set_header(obj, "Thread-Index", buf_cstr(&b), NULL);
		buf_deinit(&b);
	}
	set_hdr(e, obj, "Thread-Topic", gs(p, PR_CONVERSATION_TOPIC));
	if ((pv = mapi_propvals_get(p, PR_MESSAGE_LOCALE_ID)) != NULL) {
		const char *lang = mime_lcid_to_language(pv->v.l);
		if (lang != NULL) {
			char *l = pool_strdup(e->pool, lang);
			char *dash = strchr(l, '-');
			for (char *c = dash; c != NULL && *c != '\0'; c++)
				*c = (char)ascii_toupper(*c);
			g_mime_object_set_header(obj, "Content-Language", l, NULL);
		}
	}
	if (mapi_propvals_get_bool(p, PR_READ_RECEIPT_REQUESTED, false)) {
		const char *rn = NULL, *ra = NULL;
		if (!get_addr(e, p, &t_rr, &rn, &ra)) {
			ra = from_addr;
			rn = NULL;
		}
		if (ra != NULL) {
			InternetAddressList *l = internet_address_list_new();
			InternetAddress *ia = internet_address_mailbox_new(rn != NULL ? rn : "", ra);
			internet_address_list_add(l, ia);
			g_object_unref(ia);
			char *s = internet_address_list_to_string(l, NULL, TRUE);
			g_mime_object_set_header(obj, "Disposition-Notification-To", s, NULL);
			g_free(s);
			g_object_unref(l);
		}
	}
	if (mapi_propvals_get_bool(p, PR_ORIGINATOR_DELIVERY_REPORT_REQUESTED, false) &&
		from_addr != NULL)
		g_mime_object_set_header(obj, "Return-Receipt-To", from_addr, NULL);

	struct mapi_propname kw = mapi_np_name(MAPI_NP_PidNameKeywords);
	uint16_t kid = convert_named_find(e->top, &kw);
	if (kid != 0 && (pv = mapi_propvals_get(p, PROP_TAG(PT_MV_UNICODE, kid))) != NULL &&
		pv->v.mv.count > 0) {
		struct buf b;
		buf_init(&b, NULL);
		for (uint32_t i = 0; i < pv->v.mv.count; i++) {
			if (i > 0)
				buf_append_str(&b, ", ");
			buf_append_str(&b, pv->v.mv.str[i]);
		}
		set_hdr(e, obj, "Keywords", buf_cstr(&b));
		buf_deinit(&b);
	}
	set_hdr(e, obj, "List-Help", gs(p, PR_LIST_HELP));
	set_hdr(e, obj, "List-Subscribe", gs(p, PR_LIST_SUBSCRIBE));
	set_hdr(e, obj, "List-Unsubscribe", gs(p, PR_LIST_UNSUBSCRIBE));
	set_hdr(e, obj, "Organization", gs(p, PR_INTERNET_ORGANIZATION));

	/* Internet headers kept as named properties (MS-OXCMAIL, PS_INTERNET_HEADERS). */
	for (uint32_t i = 0; i < p->count; i++) {
		uint16_t id = PROP_ID(p->vals[i].tag);
		if (id < PROP_ID_NAMED_MIN || !mapi_ptype_is_string(PROP_TYPE(p->vals[i].tag)) ||
			mapi_ptype_is_mv(PROP_TYPE(p->vals[i].tag)))
			continue;
		const struct mapi_propname *n = convert_named_get(e->top, id);
		if (n == NULL || n->kind != MNID_STRING || !guid_eq(&n->guid, &PS_INTERNET_HEADERS) ||
			n->name == NULL || own_header(n->name))
			continue;
		/* A header name is printable ASCII without a colon. */
		bool ok = *n->name != '\0';
		for (const char *c = n->name; *c != '\0'; c++)
			if (*c <= 32 || *c >= 127 || *c == ':')
				ok = false;
		if (ok)
			set_hdr(e, obj, n->name, p->vals[i].v.str);
	}
}

/* --- parts --- */

/* Frees an array header that only borrowed its bytes. */
static void byte_array_release(void *ctx)
{
	g_byte_array_free(ctx, FALSE);
}

/* A data wrapper over bytes that stay valid until the export ends. */
static GMimeDataWrapper *wrap(struct exp *e, const void *data, size_t len)
{
	GByteArray *arr = g_byte_array_new_take((guint8 *)data, len);
	GMimeStream *s = g_mime_stream_mem_new_with_byte_array(arr);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(s), FALSE);
	GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(s, GMIME_CONTENT_ENCODING_DEFAULT);
	g_object_unref(s);
	/* The stream does not own the array: it is released (header only,
	 * never the borrowed bytes) after the message is written. */
	pool_add_cleanup(e->pool, byte_array_release, arr);
	return w;
}

static bool ascii_only(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 0x80)
			return false;
	return true;
}

/* A text/<subtype> part holding UTF-8 text, written in the message's
 * charset when it can hold the text (else UTF-8), LF line ends (the
 * writer makes them CRLF), with the smallest safe transfer encoding. */
static GMimeObject *text_part(struct exp *e, const char *subtype, const unsigned char *text,
	size_t len, const char *charset)
{
	struct buf *lf = buf_new(e->pool, len + 1);
	for (size_t i = 0; i < len; i++)
		if (!(text[i] == '\r' && i + 1 < len && text[i + 1] == '\n'))
			buf_append_byte(lf, text[i]);
	const char *cs = "utf-8";
	struct buf *enc = lf;
	if (ascii_only(lf->data, lf->len)) {
		cs = "us-ascii";
	} else if (charset != NULL && !str_case_eq(charset, "utf-8")) {
		struct buf *b = buf_new(e->pool, lf->len + 16);
		if (convert_from_utf8(charset, lf->data, lf->len, b) == 1) {
			enc = b;
			cs = charset;
		}
	}
	GMimeTextPart *tp = g_mime_text_part_new_with_subtype(subtype);
	GMimeDataWrapper *w = wrap(e, enc->data, enc->len);
	g_mime_part_set_content(GMIME_PART(tp), w);
	g_object_unref(w);
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(tp), "charset", cs);
	GMimeContentEncoding ce =
		g_mime_part_get_best_content_encoding(GMIME_PART(tp), GMIME_ENCODING_CONSTRAINT_7BIT);
	/* Text that does not end with a line break would gain one before the
	 * boundary (GMime's quoted-printable ends with a hard break too):
	 * base64 keeps it exact. */
	if (enc->len > 0 && enc->data[enc->len - 1] != '\n' &&
		(ce == GMIME_CONTENT_ENCODING_DEFAULT || ce == GMIME_CONTENT_ENCODING_7BIT ||
			ce == GMIME_CONTENT_ENCODING_8BIT || ce == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE))
		ce = GMIME_CONTENT_ENCODING_BASE64;
	g_mime_part_set_content_encoding(GMIME_PART(tp), ce);
	return GMIME_OBJECT(tp);
}

static GMimeMessage *exp_message(struct exp *e, const struct mapi_message *msg, unsigned depth);

static const char *attach_name(const struct mapi_propvals *p)
{
	const char *n = gs(p, PR_ATTACH_LONG_FILENAME);
	if (n == NULL)
		n = gs(p, PR_ATTACH_FILENAME);
	return n;
}

static GMimeObject *attachment_part(struct exp *e, const struct mapi_attachment *a, bool inline_,
	unsigned depth)
{
	const struct mapi_propvals *p = &a->props;
	int32_t method = mapi_propvals_get_long(p, PR_ATTACH_METHOD, ATTACH_BY_VALUE);
	const char *fname = attach_name(p);
	GMimeObject *obj;
	if (method == ATTACH_EMBEDDED_MSG && a->embedded != NULL) {
		if (depth >= EXP_MAX_DEPTH) {
			e->error = "embedded messages nested too deep";
			return NULL;
		}
		GMimeMessage *inner = exp_message(e, a->embedded, depth + 1);
		if (inner == NULL)
			return NULL;
		GMimeMessagePart *mp = g_mime_message_part_new_with_message("rfc822", inner);
		g_object_unref(inner);
		obj = GMIME_OBJECT(mp);
		const struct mapi_propval *hid = mapi_propvals_get(p, PR_ATTACHMENT_HIDDEN);
		g_mime_object_set_disposition(obj, hid != NULL && !hid->v.b ? "inline" : "attachment");
		if (fname != NULL)
			g_mime_object_set_content_disposition_parameter(obj, "filename", fname);
	} else {
		const struct mapi_binary *data = mapi_propvals_get_bin(p, PR_ATTACH_DATA_BIN);
		const char *tag = gs(p, PR_ATTACH_MIME_TAG);
		char *type = pool_strdup(e->pool, tag != NULL && strchr(tag, '/') != NULL
				? tag
				: "application/octet-stream");
		char *slash = strchr(type, '/');
		*slash = '\0';
		GMimePart *part = g_mime_part_new_with_type(type, slash + 1);
		obj = GMIME_OBJECT(part);
		GMimeDataWrapper *w = wrap(e, data != NULL ? data->pb : (const uint8_t *)"",
			data != NULL ? data->cb : 0);
		g_mime_part_set_content(part, w);
		g_object_unref(w);
		const char *cs = gs(p, PR_TEXT_ATTACHMENT_CHARSET);
		if (cs != NULL && str_case_eq(type, "text"))
			g_mime_object_set_content_type_parameter(obj, "charset", cs);
		/* inline: shown by the HTML, or an inline part that the sender
		 * marked so without the HTML using it (PR_ATTACHMENT_HIDDEN
		 * present and false). */
		const struct mapi_propval *hid = mapi_propvals_get(p, PR_ATTACHMENT_HIDDEN);
		bool shown_inline = inline_ || (hid != NULL && !hid->v.b);
		g_mime_object_set_disposition(obj, shown_inline ? "inline" : "attachment");
		if (fname != NULL)
			g_mime_part_set_filename(part, fname);
		/* base64 keeps a file's bytes exactly, line ends included. */
		g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
	}
	const char *cid = gs(p, PR_ATTACH_CONTENT_ID);
	if ((cid = one_line(e, cid)) != NULL)
		g_mime_object_set_content_id(obj, cid);
	const char *loc = gs(p, PR_ATTACH_CONTENT_LOCATION);
	set_raw_hdr(e, obj, "Content-Location", loc);
	const char *base = gs(p, PR_ATTACH_CONTENT_BASE);
	set_raw_hdr(e, obj, "Content-Base", base);
	return obj;
}

/* An attachment the HTML shows in place (MS-OXCMAIL, inline attachments): it has a
 * Content-ID or Content-Location the HTML refers to, and it is marked
 * hidden or as an MHTML reference. */
static bool is_inline(const struct mapi_attachment *a, const struct buf *html)
{
	const struct mapi_propvals *p = &a->props;
	if (html == NULL || html->len == 0 || a->embedded != NULL)
		return false;
	int32_t flags = mapi_propvals_get_long(p, PR_ATTACH_FLAGS, 0);
	bool hidden = mapi_propvals_get_bool(p, PR_ATTACHMENT_HIDDEN, false);
	if (!hidden && (flags & ATT_MHTML_REF) == 0)
		return false;
	const char *cid = gs(p, PR_ATTACH_CONTENT_ID);
	const char *loc = gs(p, PR_ATTACH_CONTENT_LOCATION);
	if (cid != NULL) {
		char *needle = g_strdup_printf("cid:%s", cid);
		bool found = g_strstr_len((const char *)html->data, (gssize)html->len, needle) != NULL;
		g_free(needle);
		if (found)
			return true;
	}
	return loc != NULL &&
		g_strstr_len((const char *)html->data, (gssize)html->len, loc) != NULL;
}

static GMimeObject *multipart(const char *subtype)
{
	return GMIME_OBJECT(g_mime_multipart_new_with_subtype(subtype));
}

static void add_part(GMimeObject *mp, GMimeObject *part)
{
	g_mime_multipart_add(GMIME_MULTIPART(mp), part);
	g_object_unref(part);
}

/* S/MIME (MS-OXOSMIME 2.1): the one attachment is the protected entity. */
static GMimeObject *exp_smime(struct exp *e, const struct mapi_message *msg, bool *raw_r,
	struct slice *entity_r)
{
	const char *cls = gs(&msg->props, PR_MESSAGE_CLASS);
	*raw_r = false;
	if (cls == NULL || !str_case_starts_with(cls, "IPM.Note.SMIME") || msg->attachments.n == 0)
		return NULL;
	const struct mapi_attachment *a = &msg->attachments.v[0];
	const char *tag = gs(&a->props, PR_ATTACH_MIME_TAG);
	const struct mapi_binary *d = mapi_propvals_get_bin(&a->props, PR_ATTACH_DATA_BIN);
	if (tag == NULL || d == NULL)
		return NULL;
	if (str_case_eq(tag, "multipart/signed")) {
		*raw_r = true;
		*entity_r = SLICE(d->pb, d->cb);
		return NULL;
	}
	if (!str_case_eq(tag, "application/pkcs7-mime") &&
		!str_case_eq(tag, "application/x-pkcs7-mime"))
		return NULL;
	static const unsigned char oid_signed[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
		0x01, 0x07, 0x02};
	bool is_signed = false;
	for (size_t i = 0; i + sizeof(oid_signed) <= d->cb && i < 64; i++)
		if (memcmp(d->pb + i, oid_signed, sizeof(oid_signed)) == 0)
			is_signed = true;
	GMimePart *part = g_mime_part_new_with_type("application", "pkcs7-mime");
	GMimeObject *obj = GMIME_OBJECT(part);
	g_mime_object_set_content_type_parameter(obj, "smime-type",
		is_signed ? "signed-data" : "enveloped-data");
	GMimeDataWrapper *w = wrap(e, d->pb, d->cb);
	g_mime_part_set_content(part, w);
	g_object_unref(w);
	g_mime_part_set_filename(part, "smime.p7m");
	g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
	return obj;
}

/* The body and attachments of msg as one MIME entity. */
static GMimeObject *exp_content(struct exp *e, const struct mapi_message *msg, unsigned depth)
{
	const struct mapi_propvals *p = &msg->props;
	const char *err = NULL;
	struct buf *text = buf_new(e->pool, 0), *html = buf_new(e->pool, 0);
	int best = convert_body_best(p);
	bool has_html = mapi_propvals_get(p, PR_HTML) != NULL ||
		(mapi_propvals_get(p, PR_RTF_COMPRESSED) != NULL &&
			(best == NATIVE_BODY_RTF || best == NATIVE_BODY_HTML));
	if (has_html && convert_body_html(p, html, &err) < 0) {
		buf_reset(html);
		has_html = false;
	}
	if (convert_body_text(p, text, &err) < 0)
		buf_reset(text);
	int32_t cpid = mapi_propvals_get_long(p, PR_INTERNET_CPID, 0);
	const char *cs = cpid != 0 ? convert_cpid_to_charset((uint32_t)cpid) : NULL;

	GMimeObject *body = text_part(e, "plain", text->data, text->len, cs);
	if (has_html) {
		GMimeObject *alt = multipart("alternative");
		add_part(alt, body);
		GMimeObject *hp = text_part(e, "html", html->data, html->len, cs);
		bool any_inline = false;
		for (size_t i = 0; i < msg->attachments.n && !any_inline; i++)
			any_inline = is_inline(&msg->attachments.v[i], html);
		if (any_inline) {
			GMimeObject *rel = multipart("related");
			g_mime_object_set_content_type_parameter(rel, "type", "text/html");
			add_part(rel, hp);
			for (size_t i = 0; i < msg->attachments.n; i++) {
				if (!is_inline(&msg->attachments.v[i], html))
					continue;
				GMimeObject *ap = attachment_part(e, &msg->attachments.v[i], true, depth);
				if (ap == NULL) {
					g_object_unref(rel);
					g_object_unref(alt);
					return NULL;
				}
				add_part(rel, ap);
			}
			hp = rel;
		}
		add_part(alt, hp);
		body = alt;
	}
	bool any_other = false;
	for (size_t i = 0; i < msg->attachments.n; i++)
		if (!is_inline(&msg->attachments.v[i], has_html ? html : NULL))
			any_other = true;
	if (!any_other)
		return body;
	GMimeObject *mixed = multipart("mixed");
	add_part(mixed, body);
	for (size_t i = 0; i < msg->attachments.n; i++) {
		const struct mapi_attachment *a = &msg->attachments.v[i];
		if (is_inline(a, has_html ? html : NULL))
			continue;
		GMimeObject *ap = attachment_part(e, a, false, depth);
		if (ap == NULL) {
			g_object_unref(mixed);
			return NULL;
		}
		add_part(mixed, ap);
	}
	return mixed;
}

/* MS-OXCMAIL (TNEF): a text body for readers without TNEF, and the
 * whole message object as winmail.dat. */
static GMimeObject *exp_tnef(struct exp *e, const struct mapi_message *msg)
{
	const char *err = NULL;
	struct buf *text = buf_new(e->pool, 0);
	if (convert_body_text(&msg->props, text, &err) < 0)
		buf_reset(text);
	struct buf *tnef = buf_new(e->pool, 0);
	if (tnef_encode(msg, 0, 0, tnef, &err) < 0) {
		e->error = err;
		return NULL;
	}
	GMimeObject *mixed = multipart("mixed");
	add_part(mixed, text_part(e, "plain", text->data, text->len, NULL));
	GMimePart *part = g_mime_part_new_with_type("application", "ms-tnef");
	GMimeDataWrapper *w = wrap(e, tnef->data, tnef->len);
	g_mime_part_set_content(part, w);
	g_object_unref(w);
	g_mime_part_set_filename(part, "winmail.dat");
	g_mime_object_set_disposition(GMIME_OBJECT(part), "attachment");
	g_mime_object_set_content_disposition_parameter(GMIME_OBJECT(part), "filename",
		"winmail.dat");
	g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
	add_part(mixed, GMIME_OBJECT(part));
	return mixed;
}

static GMimeMessage *exp_message(struct exp *e, const struct mapi_message *msg, unsigned depth)
{
	GMimeMessage *gm = g_mime_message_new(TRUE);
	exp_headers(e, msg, gm);
	bool raw = false;
	struct slice entity;
	GMimeObject *content = exp_smime(e, msg, &raw, &entity);
	if (raw && depth == 0) {
		/* The signed entity goes out byte for byte after the headers
		 * (message_to_mime splices it in). */
		e->raw_entity = entity;
		e->have_raw_entity = true;
		return gm;
	}
	if (raw) {
		/* Nested: GMime keeps a parsed multipart/signed's content as
		 * it was read. */
		GMimeStream *s = g_mime_stream_mem_new_with_buffer((const char *)entity.ptr,
			entity.len);
		GMimeParser *parser = g_mime_parser_new_with_stream(s);
		content = g_mime_parser_construct_part(parser, NULL);
		g_object_unref(parser);
		g_object_unref(s);
	}
	if (content == NULL && depth == 0 && (e->o.flags & MIME_EXPORT_TNEF) != 0) {
		content = exp_tnef(e, msg);
		if (content == NULL) {
			g_object_unref(gm);
			return NULL;
		}
	}
	if (content == NULL)
		content = exp_content(e, msg, depth);
	if (content == NULL) {
		g_object_unref(gm);
		return NULL;
	}
	g_mime_message_set_mime_part(gm, content);
	g_object_unref(content);
	return gm;
}

int message_to_mime(const struct mapi_message *msg, const struct mime_export_opts *opts,
	struct buf *out, const char **error_r)
{
	struct exp e;
	memset(&e, 0, sizeof(e));
	if (opts != NULL)
		e.o = *opts;
	e.now = e.o.now != 0 ? e.o.now : time_filetime_now();
	e.pool = pool_new("message_to_mime", 0);
	e.top = msg;
	GMimeMessage *gm = exp_message(&e, msg, 0);
	if (gm == NULL) {
		*error_r = e.error != NULL ? e.error : "cannot write the message";
		pool_free(&e.pool);
		return -1;
	}
	GMimeFormatOptions *fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, (e.o.flags & MIME_EXPORT_LF) != 0
			? GMIME_NEWLINE_FORMAT_UNIX
			: GMIME_NEWLINE_FORMAT_DOS);
	g_mime_format_options_set_param_encoding_method(fo, GMIME_PARAM_ENCODING_METHOD_RFC2231);
	if (e.have_raw_entity) {
		/* Our headers without any Content-* of GMime's, then the entity
		 * (its own Content-* headers, blank line and body). */
		char *h = g_mime_object_get_headers(GMIME_OBJECT(gm), fo);
		const char *nl = (e.o.flags & MIME_EXPORT_LF) != 0 ? "\n" : "\r\n";
		const char *p = h;
		bool skip = false;
		while (*p != '\0') {
			const char *le = strchr(p, '\n');
			le = le != NULL ? le + 1 : p + strlen(p);
			if (*p != ' ' && *p != '\t')
				skip = str_case_starts_with(p, "Content-") ||
					str_case_starts_with(p, "MIME-Version:");
			if (!skip)
				buf_append(out, p, (size_t)(le - p));
			p = le;
		}
		g_free(h);
		buf_printf(out, "MIME-Version: 1.0%s", nl);
		buf_append(out, e.raw_entity.ptr, e.raw_entity.len);
	} else {
		GByteArray *arr = g_byte_array_new();
		GMimeStream *s = g_mime_stream_mem_new_with_byte_array(arr);
		g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(s), FALSE);
		g_mime_object_write_to_stream(GMIME_OBJECT(gm), fo, s);
		g_object_unref(s);
		buf_append(out, arr->data, arr->len);
		g_byte_array_unref(arr);
	}
	g_mime_format_options_free(fo);
	g_object_unref(gm);
	pool_free(&e.pool);
	return 1;
}
