/* MIME <-> message object (MS-OXCMAIL) and body coherence (MS-OXBBODY):
 * the shapes the corpus cannot hold as files (10,000 headers, 50-level
 * nesting, a 30 MB attachment), limits, export rules, and a round trip
 * over every corpus message under the sanitizers. */
#include <dirent.h>
#include <glib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "convert/body.h"
#include "convert/convert.h"
#include "convert/mime.h"
#include "convert/msgutil.h"
#include "convert/rtf_html.h"
#include "convert/rtfcp.h"
#include "core/base64.h"
#include "mapi/propval.h"
#include "mapi/tags.h"
#include "test_util.h"

static struct mapi_message *import(pool_t *pool, const void *data, size_t len,
	const struct mime_import_opts *o, struct mime_import_info *info)
{
	struct mapi_message *msg = NULL;
	const char *err = NULL;
	assert_int_equal(mime_to_message(pool, data, len, o, &msg, info, &err), 1);
	assert_non_null(msg);
	return msg;
}

static void export(const struct mapi_message *msg, unsigned flags, struct buf *out)
{
	struct mime_export_opts o;
	memset(&o, 0, sizeof(o));
	o.flags = flags;
	o.domain = "test.invalid";
	const char *err = NULL;
	assert_int_equal(message_to_mime(msg, &o, out, &err), 1);
}

static size_t max_line(const struct buf *b)
{
	size_t max = 0, cur = 0;
	for (size_t i = 0; i < b->len; i++) {
		if (b->data[i] == '\n') {
			if (cur > max)
				max = cur;
			cur = 0;
		} else if (b->data[i] != '\r') {
			cur++;
		}
	}
	return cur > max ? cur : max;
}

static void test_many_headers(void **state)
{
	struct buf in;
	buf_init(&in, NULL);
	buf_append_str(&in, "From: a@example.com\r\n");
	for (int i = 0; i < 10000; i++)
		buf_printf(&in, "X-Filler-%d: value %d\r\n", i, i);
	buf_append_str(&in, "Subject: after ten thousand\r\n\r\nbody\r\n");
	pool_t *pool = pool_new("t", 0);
	struct mapi_message *msg = import(pool, in.data, in.len, NULL, NULL);
	assert_string_equal(mapi_propvals_get_str(&msg->props, PR_SUBJECT), "after ten thousand");
	const char *th = mapi_propvals_get_str(&msg->props, PR_TRANSPORT_MESSAGE_HEADERS);
	assert_non_null(th);
	assert_non_null(strstr(th, "X-Filler-9999: value 9999\r\n"));
	assert_string_equal(mapi_propvals_get_str(&msg->props, PR_BODY), "body\r\n");
	pool_free(&pool);
	buf_deinit(&in);
}

static void build_nested(struct buf *in, int levels)
{
	buf_append_str(in, "From: a@example.com\r\nSubject: deep\r\nMIME-Version: 1.0\r\n");
	for (int i = 0; i < levels; i++)
		buf_printf(in, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i);
	buf_append_str(in, "Content-Type: text/plain\r\n\r\nat the bottom\r\n");
	for (int i = levels - 1; i >= 0; i--)
		buf_printf(in, "--b%d\r\nContent-Type: application/x-level; name=\"l%d.bin\"\r\n\r\n"
			       "level %d\r\n--b%d--\r\n",
			i, i, i, i);
}

static void test_nesting_50(void **state)
{
	struct buf in;
	buf_init(&in, NULL);
	build_nested(&in, 50);
	pool_t *pool = pool_new("t", 0);
	struct mime_import_info info;
	struct mapi_message *msg = import(pool, in.data, in.len, NULL, &info);
	assert_string_equal(mapi_propvals_get_str(&msg->props, PR_BODY), "at the bottom");
	assert_int_equal(msg->attachments.n, 50);
	assert_int_equal(info.skipped, 0);
	/* The innermost level's attachment comes first. */
	assert_string_equal(mapi_propvals_get_str(&msg->attachments.v[0].props,
				    PR_ATTACH_LONG_FILENAME),
		"l49.bin");
	/* A lower limit skips what is deeper, without failing. */
	struct mime_import_opts o;
	memset(&o, 0, sizeof(o));
	o.max_depth = 10;
	msg = import(pool, in.data, in.len, &o, &info);
	assert_true(info.skipped > 0);
	assert_true(msg->attachments.n < 50);
	pool_free(&pool);
	buf_deinit(&in);
}

static void test_nesting_absurd(void **state)
{
	/* Far beyond any limit: read without crashing or recursing away. */
	struct buf in;
	buf_init(&in, NULL);
	build_nested(&in, 3000);
	pool_t *pool = pool_new("t", 0);
	struct mime_import_info info;
	(void)import(pool, in.data, in.len, NULL, &info);
	pool_free(&pool);
	buf_deinit(&in);
}

static void test_attachment_30mb(void **state)
{
	size_t n = 30u * 1024u * 1024u;
	unsigned char *data = malloc(n);
	assert_non_null(data);
	uint32_t x = 12345;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (unsigned char)(x >> 16);
	}
	struct buf b64, in;
	buf_init(&b64, NULL);
	base64_encode(data, n, &b64);
	buf_init(&in, NULL);
	buf_append_str(&in, "From: a@example.com\r\nSubject: big\r\nMIME-Version: 1.0\r\n"
			    "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
			    "Content-Type: text/plain\r\n\r\nsee attached\r\n--B\r\n"
			    "Content-Type: application/octet-stream; name=big.bin\r\n"
			    "Content-Transfer-Encoding: base64\r\n\r\n");
	for (size_t i = 0; i < b64.len; i += 76) {
		buf_append(&in, b64.data + i, b64.len - i < 76 ? b64.len - i : 76);
		buf_append_str(&in, "\r\n");
	}
	buf_append_str(&in, "--B--\r\n");
	buf_deinit(&b64);

	pool_t *pool = pool_new("t", 0);
	struct mapi_message *msg = import(pool, in.data, in.len, NULL, NULL);
	assert_int_equal(msg->attachments.n, 1);
	const struct mapi_binary *bin =
		mapi_propvals_get_bin(&msg->attachments.v[0].props, PR_ATTACH_DATA_BIN);
	assert_non_null(bin);
	assert_int_equal(bin->cb, n);
	assert_memory_equal(bin->pb, data, n);
	struct buf out;
	buf_init(&out, NULL);
	export(msg, 0, &out);
	assert_true(max_line(&out) <= 998);
	struct mapi_message *again = import(pool, out.data, out.len, NULL, NULL);
	bin = mapi_propvals_get_bin(&again->attachments.v[0].props, PR_ATTACH_DATA_BIN);
	assert_int_equal(bin->cb, n);
	assert_memory_equal(bin->pb, data, n);
	buf_deinit(&out);
	pool_free(&pool);
	buf_deinit(&in);
	free(data);
}

static void test_limits(void **state)
{
	pool_t *pool = pool_new("t", 0);
	struct mime_import_opts o;
	memset(&o, 0, sizeof(o));
	o.max_size = 10;
	struct mapi_message *msg;
	const char *err = NULL;
	const char *m = "Subject: too long for the limit\r\n\r\nx";
	assert_int_equal(mime_to_message(pool, m, strlen(m), &o, &msg, NULL, &err), -1);
	assert_non_null(err);
	/* A part limit keeps the first parts and counts the rest. */
	struct buf in;
	buf_init(&in, NULL);
	buf_append_str(&in, "Subject: parts\r\nContent-Type: multipart/mixed; boundary=P\r\n\r\n");
	for (int i = 0; i < 50; i++)
		buf_printf(&in, "--P\r\nContent-Type: application/x-n; name=n%d\r\n\r\n%d\r\n", i, i);
	buf_append_str(&in, "--P--\r\n");
	memset(&o, 0, sizeof(o));
	o.max_parts = 10;
	struct mime_import_info info;
	msg = import(pool, in.data, in.len, &o, &info);
	assert_true(msg->attachments.n < 10);
	assert_true(info.skipped > 0);
	buf_deinit(&in);
	pool_free(&pool);
}

static void test_export_rules(void **state)
{
	pool_t *pool = pool_new("t", 0);
	struct mapi_message *msg = convert_message_new(pool);
	mapi_propvals_set_str(pool, &msg->props, PR_SUBJECT, "Grüße aus Köln – 日本語");
	mapi_propvals_set_str(pool, &msg->props, PR_SENT_REPRESENTING_NAME, "Zoë");
	mapi_propvals_set_str(pool, &msg->props, PR_SENT_REPRESENTING_SMTP_ADDRESS, "zoe@example.org");
	struct buf body;
	buf_init(&body, NULL);
	for (int i = 0; i < 3000; i++)
		buf_append_str(&body, "long ");
	buf_append_str(&body, "\r\n");
	mapi_propvals_set_str(pool, &msg->props, PR_BODY, buf_cstr(&body));
	static const int types[] = {MAPI_TO, MAPI_CC, MAPI_BCC};
	static const char *const addrs[] = {"to@example.org", "cc@example.org", "bcc@example.org"};
	for (int i = 0; i < 3; i++) {
		struct mapi_recipient *r = array_push_new(&msg->recipients);
		mapi_propvals_set_long(pool, &r->props, PR_RECIPIENT_TYPE, types[i]);
		mapi_propvals_set_str(pool, &r->props, PR_SMTP_ADDRESS, addrs[i]);
	}
	struct mapi_attachment *a = array_push_new(&msg->attachments);
	mapi_propvals_set_long(pool, &a->props, PR_ATTACH_METHOD, ATTACH_BY_VALUE);
	mapi_propvals_set_str(pool, &a->props, PR_ATTACH_LONG_FILENAME, "Übersicht 2026.xlsx");
	mapi_propvals_set_bin(pool, &a->props, PR_ATTACH_DATA_BIN, "\x00\x01\x02", 3);

	struct buf out;
	buf_init(&out, NULL);
	export(msg, 0, &out);
	const char *s = buf_cstr(&out);
	/* Headers are 7-bit: RFC 2047 words and RFC 2231 parameters. */
	const char *hend = strstr(s, "\r\n\r\n");
	assert_non_null(hend);
	for (const char *p = s; p < hend; p++)
		assert_true((unsigned char)*p < 0x80);
	assert_non_null(strstr(s, "filename*="));
	assert_non_null(strcasestr(s, "Message-ID: <"));
	assert_non_null(strstr(s, "@example.org>"));
	assert_null(strstr(s, "bcc@example.org"));
	assert_true(max_line(&out) <= 998);
	struct mapi_message *back = import(pool, out.data, out.len, NULL, NULL);
	assert_string_equal(mapi_propvals_get_str(&back->props, PR_SUBJECT),
		"Grüße aus Köln – 日本語");
	assert_string_equal(mapi_propvals_get_str(&back->props, PR_BODY), buf_cstr(&body));
	assert_string_equal(mapi_propvals_get_str(&back->attachments.v[0].props,
				    PR_ATTACH_LONG_FILENAME),
		"Übersicht 2026.xlsx");
	assert_int_equal(back->recipients.n, 2);

	buf_reset(&out);
	export(msg, MIME_EXPORT_BCC, &out);
	assert_non_null(strstr(buf_cstr(&out), "Bcc: bcc@example.org"));
	buf_deinit(&out);
	buf_deinit(&body);
	pool_free(&pool);
}

static void test_headerless(void **state)
{
	/* No header block: the whole input is the body (as readers show it). */
	pool_t *pool = pool_new("t", 0);
	const char *bare = "just some text\nwithout headers\n";
	struct mapi_message *msg = import(pool, bare, strlen(bare), NULL, NULL);
	assert_string_equal(mapi_propvals_get_str(&msg->props, PR_BODY),
		"just some text\r\nwithout headers\r\n");
	assert_null(mapi_propvals_get(&msg->props, PR_SUBJECT));
	msg = import(pool, "", 0, NULL, NULL);
	assert_non_null(msg);
	pool_free(&pool);
}

static void test_export_header_injection(void **state)
{
	/* Property values with line breaks cannot add headers. */
	pool_t *pool = pool_new("t", 0);
	struct mapi_message *msg = convert_message_new(pool);
	mapi_propvals_set_str(pool, &msg->props, PR_SUBJECT, "hi\r\nBcc: evil@example.org");
	mapi_propvals_set_str(pool, &msg->props, PR_SENT_REPRESENTING_NAME, "x\r\nX-Evil: 1");
	mapi_propvals_set_str(pool, &msg->props, PR_SENT_REPRESENTING_SMTP_ADDRESS, "a@example.org");
	mapi_propvals_set_str(pool, &msg->props, PR_IN_REPLY_TO_ID, "<a@b>\r\nX-Evil: 2");
	mapi_propvals_set_str(pool, &msg->props, PR_LIST_HELP, "<mailto:h@b>\nX-Evil: 3");
	struct buf out;
	buf_init(&out, NULL);
	export(msg, 0, &out);
	assert_null(strstr(buf_cstr(&out), "\nBcc:"));
	assert_null(strstr(buf_cstr(&out), "\nX-Evil:"));
	struct mapi_message *back = import(pool, out.data, out.len, NULL, NULL);
	assert_int_equal(back->recipients.n, 0);
	buf_deinit(&out);
	pool_free(&pool);
}

static void test_export_charset(void **state)
{
	/* PR_INTERNET_CPID picks the charset when it can hold the text. */
	pool_t *pool = pool_new("t", 0);
	struct mapi_message *msg = convert_message_new(pool);
	mapi_propvals_set_str(pool, &msg->props, PR_BODY, "café\r\n");
	mapi_propvals_set_long(pool, &msg->props, PR_INTERNET_CPID, 1252);
	struct buf out;
	buf_init(&out, NULL);
	export(msg, 0, &out);
	assert_non_null(strstr(buf_cstr(&out), "charset=windows-1252"));
	/* ... and falls back to UTF-8 when it cannot. */
	mapi_propvals_set_str(pool, &msg->props, PR_BODY, "café 日本\r\n");
	buf_reset(&out);
	export(msg, 0, &out);
	assert_non_null(strstr(buf_cstr(&out), "charset=utf-8"));
	struct mapi_message *back = import(pool, out.data, out.len, NULL, NULL);
	assert_string_equal(mapi_propvals_get_str(&back->props, PR_BODY), "café 日本\r\n");
	buf_deinit(&out);
	pool_free(&pool);
}

static void test_body_sync_text(void **state)
{
	pool_t *pool = pool_new("t", 0);
	struct mapi_propvals p;
	memset(&p, 0, sizeof(p));
	const char *err = NULL;
	mapi_propvals_set_str(pool, &p, PR_BODY, "Hello <world> & you\r\n");
	assert_int_equal(convert_body_best(&p), NATIVE_BODY_PLAIN);
	assert_int_equal(convert_body_sync(pool, &p, CONVERT_BODY_TEXT, CONVERT_BODY_ALL, &err), 1);
	assert_int_equal(mapi_propvals_get_long(&p, PR_NATIVE_BODY_INFO, 0), NATIVE_BODY_PLAIN);
	assert_true(mapi_propvals_get_bool(&p, PR_RTF_IN_SYNC, false));
	const struct mapi_binary *h = mapi_propvals_get_bin(&p, PR_HTML);
	assert_non_null(h);
	assert_non_null(g_strstr_len((const char *)h->pb, h->cb, "&lt;world&gt;"));
	/* The RTF encapsulates the text and gives it back. */
	const struct mapi_binary *r = mapi_propvals_get_bin(&p, PR_RTF_COMPRESSED);
	assert_non_null(r);
	struct buf rtf, text;
	buf_init(&rtf, NULL);
	buf_init(&text, NULL);
	assert_int_equal(rtfcp_decompress(r->pb, r->cb, 1 << 20, 0, &rtf, &err), 1);
	assert_int_equal(rtf_encapsulation(rtf.data, rtf.len), RTF_ENCAP_TEXT);
	assert_int_equal(rtf_to_text(rtf.data, rtf.len, 1 << 20, &text, &err), 1);
	assert_string_equal(buf_cstr(&text), "Hello <world> & you\r\n");
	buf_deinit(&rtf);
	buf_deinit(&text);
	pool_free(&pool);
}

static void test_body_sync_html_written(void **state)
{
	/* A client rewrote the HTML: the old text and RTF are stale. */
	pool_t *pool = pool_new("t", 0);
	struct mapi_propvals p;
	memset(&p, 0, sizeof(p));
	const char *err = NULL;
	mapi_propvals_set_str(pool, &p, PR_BODY, "old text");
	mapi_propvals_set_bin(pool, &p, PR_RTF_COMPRESSED, "junk", 4);
	const char *html = "<html><body><p>New <b>text</b></p></body></html>";
	mapi_propvals_set_bin(pool, &p, PR_HTML, html, (uint32_t)strlen(html));
	assert_int_equal(convert_body_sync(pool, &p, CONVERT_BODY_HTML, CONVERT_BODY_TEXT, &err), 1);
	assert_int_equal(mapi_propvals_get_long(&p, PR_NATIVE_BODY_INFO, 0), NATIVE_BODY_HTML);
	const char *t = mapi_propvals_get_str(&p, PR_BODY);
	assert_non_null(t);
	assert_non_null(strstr(t, "New text"));
	assert_null(mapi_propvals_get(&p, PR_RTF_COMPRESSED));
	assert_null(mapi_propvals_get(&p, PR_RTF_IN_SYNC));
	/* Then asking for RTF encapsulates the HTML, which comes back out. */
	assert_int_equal(convert_body_sync(pool, &p, 0, CONVERT_BODY_ALL, &err), 1);
	const struct mapi_binary *r = mapi_propvals_get_bin(&p, PR_RTF_COMPRESSED);
	assert_non_null(r);
	struct buf rtf, out;
	buf_init(&rtf, NULL);
	buf_init(&out, NULL);
	assert_int_equal(rtfcp_decompress(r->pb, r->cb, 1 << 20, 0, &rtf, &err), 1);
	assert_int_equal(rtf_extract_html(rtf.data, rtf.len, 1 << 20, &out, &err), 1);
	assert_string_equal(buf_cstr(&out), html);
	buf_deinit(&rtf);
	buf_deinit(&out);
	pool_free(&pool);
}

static void test_body_sync_rtf_only(void **state)
{
	/* An RTF-only message (a MAPI client): HTML and text come from it. */
	pool_t *pool = pool_new("t", 0);
	struct mapi_propvals p;
	memset(&p, 0, sizeof(p));
	const char *err = NULL;
	struct buf raw, comp;
	buf_init(&raw, NULL);
	buf_init(&comp, NULL);
	const char *html = "<html><body>From <i>RTF</i></body></html>";
	assert_int_equal(rtf_encapsulate_html(html, strlen(html), &raw, &err), 1);
	assert_int_equal(rtfcp_compress(raw.data, raw.len, &comp, &err), 1);
	mapi_propvals_set_bin(pool, &p, PR_RTF_COMPRESSED, comp.data, (uint32_t)comp.len);
	assert_int_equal(convert_body_best(&p), NATIVE_BODY_RTF);
	assert_int_equal(convert_body_sync(pool, &p, CONVERT_BODY_RTF, CONVERT_BODY_ALL, &err), 1);
	const struct mapi_binary *h = mapi_propvals_get_bin(&p, PR_HTML);
	assert_non_null(h);
	assert_int_equal(h->cb, strlen(html));
	assert_memory_equal(h->pb, html, h->cb);
	assert_non_null(strstr(mapi_propvals_get_str(&p, PR_BODY), "From RTF"));
	assert_int_equal(mapi_propvals_get_long(&p, PR_NATIVE_BODY_INFO, 0), NATIVE_BODY_RTF);
	/* Broken RTF is an error and leaves the properties alone. */
	struct mapi_propvals q;
	memset(&q, 0, sizeof(q));
	mapi_propvals_set_bin(pool, &q, PR_RTF_COMPRESSED, "not rtf at all, really", 22);
	assert_int_equal(convert_body_sync(pool, &q, 0, CONVERT_BODY_ALL, &err), -1);
	assert_int_equal(q.count, 1);
	buf_deinit(&raw);
	buf_deinit(&comp);
	pool_free(&pool);
}

static void test_body_best(void **state)
{
	pool_t *pool = pool_new("t", 0);
	struct mapi_propvals p;
	memset(&p, 0, sizeof(p));
	assert_int_equal(convert_body_best(&p), NATIVE_BODY_UNDEFINED);
	mapi_propvals_set_str(pool, &p, PR_BODY, "x");
	mapi_propvals_set_bin(pool, &p, PR_RTF_COMPRESSED, "y", 1);
	/* MS-OXBBODY 2.1.3.1: RTF only when it is in sync with the text. */
	assert_int_equal(convert_body_best(&p), NATIVE_BODY_PLAIN);
	mapi_propvals_set_bool(pool, &p, PR_RTF_IN_SYNC, true);
	assert_int_equal(convert_body_best(&p), NATIVE_BODY_RTF);
	mapi_propvals_set_long(pool, &p, PR_NATIVE_BODY_INFO, NATIVE_BODY_HTML);
	assert_int_equal(convert_body_best(&p), NATIVE_BODY_HTML);
	pool_free(&pool);
}

static void test_oneoff(void **state)
{
	pool_t *pool = pool_new("t", 0);
	struct buf b;
	buf_init(&b, NULL);
	convert_oneoff_entryid("Zoë Ä", "SMTP", "zoe@example.org", &b);
	char *n, *t, *a;
	assert_int_equal(convert_oneoff_parse(pool, b.data, b.len, &n, &t, &a), 1);
	assert_string_equal(n, "Zoë Ä");
	assert_string_equal(t, "SMTP");
	assert_string_equal(a, "zoe@example.org");
	assert_int_equal(convert_oneoff_parse(pool, b.data, b.len - 3, &n, &t, &a), -1);
	b.data[5] ^= 1;
	assert_int_equal(convert_oneoff_parse(pool, b.data, b.len, &n, &t, &a), 0);
	buf_deinit(&b);
	pool_free(&pool);
}

/* Every corpus message survives MIME -> MAPI -> MIME -> MAPI with its
 * properties (the dump, less what only the first trip's transport
 * knows and Bcc, which lives in the envelope). */
static void strip_exempt(struct buf *dump)
{
	struct buf o;
	buf_init(&o, NULL);
	const char *s = buf_cstr(dump);
	while (*s != '\0') {
		const char *nl = strchr(s, '\n');
		size_t n = nl != NULL ? (size_t)(nl - s) + 1 : strlen(s);
		const char *eq = strstr(s, " = ");
		size_t kl = eq != NULL && eq < s + n ? (size_t)(eq - s) : 0;
		bool exempt = false;
		static const char *const names[] = {"PR_TRANSPORT_MESSAGE_HEADERS",
			"PR_MESSAGE_DELIVERY_TIME", "PR_DISPLAY_BCC"};
		for (size_t i = 0; i < 3; i++) {
			size_t nl2 = strlen(names[i]);
			if (kl >= nl2 && memcmp(s + kl - nl2, names[i], nl2) == 0)
				exempt = true;
		}
		if (!exempt)
			buf_append(&o, s, n);
		s += n;
	}
	buf_reset(dump);
	buf_append(dump, o.data, o.len);
	buf_deinit(&o);
}

static void test_corpus_round_trip(void **state)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/mime", TEST_DATA_DIR);
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".eml") != 0)
			continue;
		char rel[512];
		snprintf(rel, sizeof(rel), "mime/%s", de->d_name);
		struct buf in, out, d1, d2;
		test_read_data(rel, &in);
		buf_init(&out, NULL);
		buf_init(&d1, NULL);
		buf_init(&d2, NULL);
		pool_t *pool = pool_new("t", 0);
		struct mime_import_opts o;
		memset(&o, 0, sizeof(o));
		o.now = 133000000000000000ull;
		struct mime_import_info info;
		struct mapi_message *m1 = import(pool, in.data, in.len, &o, &info);
		bool has_bcc = false;
		for (size_t i = 0; i < m1->recipients.n; i++)
			has_bcc |= mapi_propvals_get_long(&m1->recipients.v[i].props,
					   PR_RECIPIENT_TYPE, 0) == MAPI_BCC;
		/* What came as winmail.dat goes back as TNEF: it carries
		 * properties MIME has no header for. */
		export(m1, (has_bcc ? MIME_EXPORT_BCC : 0) | (info.tnef_merged ? MIME_EXPORT_TNEF : 0),
			&out);
		struct mapi_message *m2 = import(pool, out.data, out.len, &o, NULL);
		convert_message_dump(m1, CONVERT_DUMP_DATA_DIGEST, &d1);
		convert_message_dump(m2, CONVERT_DUMP_DATA_DIGEST, &d2);
		strip_exempt(&d1);
		strip_exempt(&d2);
		if (strcmp(buf_cstr(&d1), buf_cstr(&d2)) != 0) {
			/* Every property of the first trip is in the second. */
			const char *s = buf_cstr(&d1);
			while (*s != '\0') {
				const char *nl = strchr(s, '\n');
				char *line = strndup(s, (size_t)(nl - s) + 1);
				if (strstr(buf_cstr(&d2), line) == NULL) {
					fprintf(stderr, "%s: lost %s", de->d_name, line);
					fail();
				}
				free(line);
				s = nl + 1;
			}
		}
		pool_free(&pool);
		buf_deinit(&in);
		buf_deinit(&out);
		buf_deinit(&d1);
		buf_deinit(&d2);
		n++;
	}
	closedir(d);
	assert_true(n >= 100);
}

static int setup(void **state)
{
	convert_init();
	return 0;
}

static int teardown(void **state)
{
	convert_deinit();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_headers),
		cmocka_unit_test(test_nesting_50),
		cmocka_unit_test(test_nesting_absurd),
		cmocka_unit_test(test_attachment_30mb),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_export_rules),
		cmocka_unit_test(test_headerless),
		cmocka_unit_test(test_export_header_injection),
		cmocka_unit_test(test_export_charset),
		cmocka_unit_test(test_body_sync_text),
		cmocka_unit_test(test_body_sync_html_written),
		cmocka_unit_test(test_body_sync_rtf_only),
		cmocka_unit_test(test_body_best),
		cmocka_unit_test(test_oneoff),
		cmocka_unit_test(test_corpus_round_trip),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
