/* MS-OXBBODY body coherence over the RTF (rtfcp.h, rtf_html.h) and HTML
 * (html_text.h) conversions. */
#include "convert/body.h"

#include <string.h>

#include "convert/charset.h"
#include "convert/html_text.h"
#include "convert/msgutil.h"
#include "convert/rtf_html.h"
#include "convert/rtfcp.h"
#include "core/utf.h"
#include "mapi/propval.h"
#include "mapi/tags.h"

static bool has(const struct mapi_propvals *p, uint32_t tag)
{
	return mapi_propvals_get(p, tag) != NULL;
}

int convert_body_best(const struct mapi_propvals *props)
{
	const struct mapi_propval *nb = mapi_propvals_get(props, PR_NATIVE_BODY_INFO);
	if (nb != NULL && nb->v.l >= NATIVE_BODY_PLAIN && nb->v.l <= NATIVE_BODY_SIGNED)
		return nb->v.l;
	bool text = has(props, PR_BODY), html = has(props, PR_HTML),
	     rtf = has(props, PR_RTF_COMPRESSED);
	bool in_sync = mapi_propvals_get_bool(props, PR_RTF_IN_SYNC, false);
	/* MS-OXBBODY 2.1.3.1 step 2: which bodies exist, and whether the
	 * RTF was kept in sync with the text. */
	if (rtf && (in_sync || (!text && !html)))
		return NATIVE_BODY_RTF;
	if (html)
		return NATIVE_BODY_HTML;
	if (text)
		return NATIVE_BODY_PLAIN;
	if (rtf)
		return NATIVE_BODY_RTF;
	return NATIVE_BODY_UNDEFINED;
}

static unsigned kind_bit(int native)
{
	switch (native) {
	case NATIVE_BODY_PLAIN:
		return CONVERT_BODY_TEXT;
	case NATIVE_BODY_RTF:
		return CONVERT_BODY_RTF;
	case NATIVE_BODY_HTML:
		return CONVERT_BODY_HTML;
	default:
		return 0;
	}
}

/* The charset PR_HTML is in. */
static const char *html_charset(const struct mapi_propvals *props)
{
	int32_t cpid = mapi_propvals_get_long(props, PR_INTERNET_CPID, (int32_t)CONVERT_CPID_UTF8);
	const char *cs = convert_cpid_to_charset((uint32_t)cpid);
	return cs != NULL ? cs : "utf-8";
}

static int rtf_plain(const struct mapi_propvals *props, struct buf *rtf, const char **error_r)
{
	const struct mapi_binary *b = mapi_propvals_get_bin(props, PR_RTF_COMPRESSED);
	if (b == NULL)
		return 0;
	if (rtfcp_decompress(b->pb, b->cb, CONVERT_BODY_MAX, 0, rtf, error_r) < 0)
		return -1;
	return 1;
}

/* Appends the UTF-8 HTML of props's own bodies in order of preference;
 * *from_r tells which kind it came from. */
static int html_of(const struct mapi_propvals *props, int native, struct buf *out, int *from_r,
	const char **error_r)
{
	const struct mapi_binary *h = mapi_propvals_get_bin(props, PR_HTML);
	if (h != NULL && (native == NATIVE_BODY_HTML || native == NATIVE_BODY_UNDEFINED ||
				 !has(props, PR_RTF_COMPRESSED))) {
		convert_to_utf8(html_charset(props), h->pb, h->cb, out);
		*from_r = NATIVE_BODY_HTML;
		return 1;
	}
	struct buf rtf;
	buf_init(&rtf, NULL);
	int r = rtf_plain(props, &rtf, error_r);
	if (r > 0) {
		r = rtf_extract_html(rtf.data, rtf.len, CONVERT_BODY_MAX, out, error_r);
		if (r == 0) {
			/* Native RTF (or \fromtext): HTML from its text. */
			struct buf text;
			buf_init(&text, NULL);
			r = rtf_to_text(rtf.data, rtf.len, CONVERT_BODY_MAX, &text, error_r);
			if (r > 0)
				text_to_html(text.data, text.len, 0, out);
			buf_deinit(&text);
		}
		buf_deinit(&rtf);
		*from_r = NATIVE_BODY_RTF;
		return r < 0 ? -1 : 1;
	}
	buf_deinit(&rtf);
	if (r < 0)
		return -1;
	if (h != NULL) {
		convert_to_utf8(html_charset(props), h->pb, h->cb, out);
		*from_r = NATIVE_BODY_HTML;
		return 1;
	}
	const char *text = mapi_propvals_get_str(props, PR_BODY);
	if (text != NULL) {
		text_to_html(text, strlen(text), 0, out);
		*from_r = NATIVE_BODY_PLAIN;
		return 1;
	}
	return 0;
}

int convert_body_html(const struct mapi_propvals *props, struct buf *out, const char **error_r)
{
	int from;
	return html_of(props, convert_body_best(props), out, &from, error_r);
}

/* Text from the body of kind native (which must exist). */
static int text_from(const struct mapi_propvals *props, int native, struct buf *out,
	const char **error_r)
{
	if (native == NATIVE_BODY_PLAIN) {
		const char *t = mapi_propvals_get_str(props, PR_BODY);
		if (t == NULL)
			return 0;
		buf_append_str(out, t);
		return 1;
	}
	if (native == NATIVE_BODY_RTF) {
		struct buf rtf;
		buf_init(&rtf, NULL);
		int r = rtf_plain(props, &rtf, error_r);
		if (r > 0)
			r = rtf_to_text(rtf.data, rtf.len, CONVERT_BODY_MAX, out, error_r);
		buf_deinit(&rtf);
		return r;
	}
	if (native == NATIVE_BODY_HTML) {
		const struct mapi_binary *h = mapi_propvals_get_bin(props, PR_HTML);
		if (h == NULL)
			return 0;
		struct buf html;
		buf_init(&html, NULL);
		convert_to_utf8(html_charset(props), h->pb, h->cb, &html);
		int r = html_to_text(html.data, html.len, CONVERT_BODY_MAX, HTML_TEXT_CRLF, out,
			error_r);
		buf_deinit(&html);
		return r < 0 ? -1 : 1;
	}
	return 0;
}

int convert_body_text(const struct mapi_propvals *props, struct buf *out, const char **error_r)
{
	const char *t = mapi_propvals_get_str(props, PR_BODY);
	if (t != NULL) {
		buf_append_str(out, t);
		return 1;
	}
	int best = convert_body_best(props);
	if (best == NATIVE_BODY_SIGNED || best == NATIVE_BODY_UNDEFINED)
		best = has(props, PR_HTML) ? NATIVE_BODY_HTML : NATIVE_BODY_RTF;
	return text_from(props, best, out, error_r);
}

static void set_html(pool_t *pool, struct mapi_propvals *props, const struct buf *utf8)
{
	/* PR_HTML follows PR_INTERNET_CPID; when the text does not fit that
	 * code page the message becomes UTF-8 (PR_BODY is Unicode anyway). */
	const char *cs = html_charset(props);
	struct buf enc;
	buf_init(&enc, NULL);
	if (convert_from_utf8(cs, utf8->data, utf8->len, &enc) == 1) {
		mapi_propvals_set_bin(pool, props, PR_HTML, enc.data, (uint32_t)enc.len);
	} else {
		mapi_propvals_set_long(pool, props, PR_INTERNET_CPID, (int32_t)CONVERT_CPID_UTF8);
		mapi_propvals_set_bin(pool, props, PR_HTML, utf8->data, (uint32_t)utf8->len);
	}
	buf_deinit(&enc);
}

int convert_body_sync(pool_t *pool, struct mapi_propvals *props, unsigned written, unsigned want,
	const char **error_r)
{
	written &= CONVERT_BODY_ALL;
	unsigned present = (has(props, PR_BODY) ? CONVERT_BODY_TEXT : 0) |
		(has(props, PR_HTML) ? CONVERT_BODY_HTML : 0) |
		(has(props, PR_RTF_COMPRESSED) ? CONVERT_BODY_RTF : 0);
	written &= present;
	if (present == 0)
		return 1;

	int native;
	if (written == CONVERT_BODY_TEXT)
		native = NATIVE_BODY_PLAIN;
	else if (written == CONVERT_BODY_HTML)
		native = NATIVE_BODY_HTML;
	else if (written == CONVERT_BODY_RTF)
		native = NATIVE_BODY_RTF;
	else if (written != 0) {
		/* Several written at once: the best among them. */
		struct mapi_propvals sub;
		memset(&sub, 0, sizeof(sub));
		struct mapi_propval vals[4];
		sub.vals = vals;
		sub.cap = 4;
		static const uint32_t tags[3] = {PR_BODY, PR_HTML, PR_RTF_COMPRESSED};
		for (unsigned i = 0; i < 3; i++)
			if ((written & (1u << i)) != 0) {
				vals[sub.count++] = *mapi_propvals_get(props, tags[i]);
			}
		const struct mapi_propval *is = mapi_propvals_get(props, PR_RTF_IN_SYNC);
		if (is != NULL)
			vals[sub.count++] = *is;
		native = convert_body_best(&sub);
	} else {
		native = convert_body_best(props);
		if ((kind_bit(native) & present) == 0) {
			/* PR_NATIVE_BODY_INFO names a body that is not there. */
			native = NATIVE_BODY_UNDEFINED;
		}
		if (native == NATIVE_BODY_SIGNED || native == NATIVE_BODY_UNDEFINED) {
			mapi_propvals_delete(props, PR_NATIVE_BODY_INFO);
			native = convert_body_best(props);
		}
	}
	unsigned source = kind_bit(native);
	/* Bodies that are valid as they stand. */
	unsigned valid = written != 0 ? written : present;
	unsigned stale = present & ~valid;
	unsigned need = (want & ~valid) | (stale & want);

	struct buf text, html, rtf;
	buf_init(&text, NULL);
	buf_init(&html, NULL);
	buf_init(&rtf, NULL);
	int ret = 1;
	bool have_text = false, have_html = false, have_rtf = false;

	if ((need & CONVERT_BODY_TEXT) != 0) {
		int r = text_from(props, native, &text, error_r);
		if (r < 0) {
			ret = -1;
			goto out;
		}
		have_text = r > 0;
	}
	if ((need & CONVERT_BODY_HTML) != 0) {
		int from;
		/* Derive from the source only (stale bodies must not leak). */
		struct mapi_propvals only;
		memset(&only, 0, sizeof(only));
		struct mapi_propval v[2];
		only.vals = v;
		only.cap = 2;
		static const uint32_t src_tag[4] = {0, PR_BODY, PR_RTF_COMPRESSED, PR_HTML};
		const struct mapi_propval *sp = mapi_propvals_get(props, src_tag[native & 3]);
		if (sp != NULL)
			v[only.count++] = *sp;
		const struct mapi_propval *cp = mapi_propvals_get(props, PR_INTERNET_CPID);
		if (cp != NULL)
			v[only.count++] = *cp;
		int r = html_of(&only, native, &html, &from, error_r);
		if (r < 0) {
			ret = -1;
			goto out;
		}
		have_html = r > 0;
	}
	if ((need & CONVERT_BODY_RTF) != 0) {
		struct buf raw;
		buf_init(&raw, NULL);
		int r = 0;
		if (native == NATIVE_BODY_HTML) {
			struct buf h;
			buf_init(&h, NULL);
			const struct mapi_binary *hb = mapi_propvals_get_bin(props, PR_HTML);
			convert_to_utf8(html_charset(props), hb->pb, hb->cb, &h);
			r = rtf_encapsulate_html(h.data, h.len, &raw, error_r);
			buf_deinit(&h);
		} else if (native == NATIVE_BODY_PLAIN) {
			const char *t = mapi_propvals_get_str(props, PR_BODY);
			r = rtf_encapsulate_text(t, strlen(t), &raw, error_r);
		}
		if (r > 0)
			r = rtfcp_compress(raw.data, raw.len, &rtf, error_r);
		buf_deinit(&raw);
		if (r < 0) {
			ret = -1;
			goto out;
		}
		have_rtf = r > 0;
	}

	/* Commit: nothing above touched props. */
	if (have_text)
		mapi_propvals_set_str(pool, props, PR_BODY, buf_cstr(&text));
	else if ((stale & CONVERT_BODY_TEXT) != 0)
		mapi_propvals_delete(props, PR_BODY);
	if (have_html)
		set_html(pool, props, &html);
	else if ((stale & CONVERT_BODY_HTML) != 0)
		mapi_propvals_delete(props, PR_HTML);
	if (have_rtf)
		mapi_propvals_set_bin(pool, props, PR_RTF_COMPRESSED, rtf.data, (uint32_t)rtf.len);
	else if ((stale & CONVERT_BODY_RTF) != 0)
		mapi_propvals_delete(props, PR_RTF_COMPRESSED);
	if (source != 0)
		mapi_propvals_set_long(pool, props, PR_NATIVE_BODY_INFO, native);
	if (has(props, PR_RTF_COMPRESSED))
		mapi_propvals_set_bool(pool, props, PR_RTF_IN_SYNC, true);
	else
		mapi_propvals_delete(props, PR_RTF_IN_SYNC);
out:
	buf_deinit(&text);
	buf_deinit(&html);
	buf_deinit(&rtf);
	return ret;
}
