/* Message-object helpers shared by the converters (see msgutil.h). */
#include "convert/msgutil.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "core/utf.h"
#include "mapi/namedprop.h"
#include "mapi/propval.h"
#include "mapi/tags.h"

typedef __typeof__(*((struct mapi_message *)0)->names) convert_names_t;

struct mapi_message *convert_message_new(pool_t *pool)
{
	struct mapi_message *m = pool_alloc(pool, sizeof(*m));
	m->pool = pool;
	array_init(&m->recipients, pool);
	array_init(&m->attachments, pool);
	convert_names_t *names = pool_alloc(pool, sizeof(*names));
	array_init(names, pool);
	m->names = names;
	return m;
}

struct mapi_message *convert_message_new_embedded(struct mapi_message *parent)
{
	struct mapi_message *m = pool_alloc(parent->pool, sizeof(*m));
	m->pool = parent->pool;
	array_init(&m->recipients, parent->pool);
	array_init(&m->attachments, parent->pool);
	m->names = parent->names;
	return m;
}

uint16_t convert_named_find(const struct mapi_message *msg, const struct mapi_propname *name)
{
	if (msg->names == NULL)
		return 0;
	for (size_t i = 0; i < msg->names->n; i++)
		if (mapi_propname_equal(&msg->names->v[i], name))
			return (uint16_t)(PROP_ID_NAMED_MIN + i);
	return 0;
}

uint16_t convert_named_id(struct mapi_message *msg, const struct mapi_propname *name)
{
	uint16_t id = convert_named_find(msg, name);
	if (id != 0)
		return id;
	if (msg->names == NULL) {
		convert_names_t *names = pool_alloc(msg->pool, sizeof(*names));
		array_init(names, msg->pool);
		msg->names = names;
	}
	if (msg->names->n > PROP_ID_NAMED_MAX - PROP_ID_NAMED_MIN)
		return 0;
	struct mapi_propname *e = array_push_new(msg->names);
	mapi_propname_copy(msg->pool, e, name);
	return (uint16_t)(PROP_ID_NAMED_MIN + msg->names->n - 1);
}

const struct mapi_propname *convert_named_get(const struct mapi_message *msg, uint16_t id)
{
	if (msg->names == NULL || id < PROP_ID_NAMED_MIN)
		return NULL;
	size_t i = (size_t)(id - PROP_ID_NAMED_MIN);
	return i < msg->names->n ? &msg->names->v[i] : NULL;
}

struct mapi_propname convert_internet_header_name(const char *header)
{
	struct mapi_propname n;
	memset(&n, 0, sizeof(n));
	n.guid = PS_INTERNET_HEADERS;
	n.kind = MNID_STRING;
	n.name = (char *)header;
	return n;
}

/* MS-OXCDATA 2.2.5.1: the provider UID of one-off entry IDs. */
static const uint8_t oneoff_uid[16] = {0x81, 0x2b, 0x1f, 0xa4, 0xbe, 0xa3, 0x10, 0x19,
	0x9d, 0x6e, 0x00, 0xdd, 0x01, 0x0f, 0x54, 0x02};
#define ONEOFF_MAPI_UNICODE 0x8000
#define ONEOFF_NO_RICH_INFO 0x0001

static void append_utf16z(const char *s, struct buf *out)
{
	utf8_to_utf16le_lossy(s, strlen(s), out);
	buf_append_u16le(out, 0);
}

void convert_oneoff_entryid(const char *display_name, const char *addrtype, const char *address,
	struct buf *out)
{
	buf_append_u32le(out, 0); /* flags */
	buf_append(out, oneoff_uid, sizeof(oneoff_uid));
	buf_append_u16le(out, 0); /* version */
	/* Internet addresses carry no rich (TNEF) formatting preference. */
	buf_append_u16le(out, ONEOFF_MAPI_UNICODE | ONEOFF_NO_RICH_INFO);
	append_utf16z(display_name != NULL ? display_name : "", out);
	append_utf16z(addrtype != NULL ? addrtype : "SMTP", out);
	append_utf16z(address != NULL ? address : "", out);
}

/* Reads a NUL-terminated string (UTF-16LE or 8-bit) at *pos. */
static int oneoff_string(pool_t *pool, const uint8_t *d, size_t len, size_t *pos, bool unicode,
	char **r)
{
	size_t start = *pos;
	struct buf tmp;
	if (unicode) {
		size_t p = start;
		while (p + 1 < len && (d[p] != 0 || d[p + 1] != 0))
			p += 2;
		if (p + 1 >= len)
			return -1;
		buf_init(&tmp, pool);
		utf16le_to_utf8_lossy(d + start, p - start, &tmp);
		*r = (char *)buf_cstr(&tmp);
		*pos = p + 2;
	} else {
		const uint8_t *z = memchr(d + start, 0, len - start);
		if (z == NULL)
			return -1;
		buf_init(&tmp, pool);
		utf8_sanitize(d + start, (size_t)(z - (d + start)), &tmp);
		*r = (char *)buf_cstr(&tmp);
		*pos = (size_t)(z - d) + 1;
	}
	return 0;
}

int convert_oneoff_parse(pool_t *pool, const void *data, size_t len, char **name_r,
	char **addrtype_r, char **address_r)
{
	const uint8_t *d = data;
	if (len < 24 || memcmp(d + 4, oneoff_uid, 16) != 0)
		return 0;
	uint16_t flags = (uint16_t)(d[22] | (d[23] << 8));
	bool unicode = (flags & ONEOFF_MAPI_UNICODE) != 0;
	size_t pos = 24;
	if (oneoff_string(pool, d, len, &pos, unicode, name_r) < 0 ||
		oneoff_string(pool, d, len, &pos, unicode, addrtype_r) < 0 ||
		oneoff_string(pool, d, len, &pos, unicode, address_r) < 0)
		return -1;
	return 1;
}

void convert_search_key(const char *addrtype, const char *address, struct buf *out)
{
	size_t start = out->len;
	buf_printf(out, "%s:%s", addrtype, address);
	for (size_t i = start; i < out->len; i++)
		out->data[i] = (unsigned char)ascii_toupper(out->data[i]);
	buf_append_byte(out, 0);
}

/* --- dump --- */

static int cmp_tag(const void *a, const void *b)
{
	uint32_t x = ((const struct mapi_propval *)a)->tag, y = ((const struct mapi_propval *)b)->tag;
	return x < y ? -1 : x > y;
}

static void dump_key(const struct mapi_message *top, uint32_t tag, struct buf *out)
{
	uint16_t id = PROP_ID(tag);
	const struct mapi_propname *n = id >= PROP_ID_NAMED_MIN ? convert_named_get(top, id) : NULL;
	if (n != NULL) {
		mapi_propname_format(n, out);
		const char *t = mapi_ptype_name(PROP_TYPE(tag));
		buf_printf(out, ":%s", t != NULL ? t : "?");
		return;
	}
	const char *name = mapi_tag_name(tag);
	if (name != NULL && id < PROP_ID_NAMED_MIN)
		buf_append_str(out, name);
	else
		buf_printf(out, "0x%08x", tag);
}

static void dump_props(const struct mapi_message *top, const struct mapi_propvals *props,
	const char *prefix, unsigned flags, struct buf *out)
{
	if (props->count == 0)
		return;
	struct mapi_propval *sorted = malloc(props->count * sizeof(*sorted));
	if (sorted == NULL)
		abort();
	memcpy(sorted, props->vals, props->count * sizeof(*sorted));
	qsort(sorted, props->count, sizeof(*sorted), cmp_tag);
	for (uint32_t i = 0; i < props->count; i++) {
		const struct mapi_propval *pv = &sorted[i];
		buf_append_str(out, prefix);
		dump_key(top, pv->tag, out);
		buf_append_str(out, " = ");
		if (PROP_ID(pv->tag) == PROP_ID(PR_ATTACH_DATA_BIN) &&
			PROP_TYPE(pv->tag) == PT_BINARY && (flags & CONVERT_DUMP_DATA_DIGEST) != 0) {
			gchar *hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
				pv->v.bin.pb != NULL ? pv->v.bin.pb : (const guchar *)"", pv->v.bin.cb);
			buf_printf(out, "<%u bytes sha256 %s>", pv->v.bin.cb, hex);
			g_free(hex);
		} else {
			size_t max = (flags & CONVERT_DUMP_FULL_BINARY) != 0 ? 0 : 64;
			mapi_pvalue_format(PROP_TYPE(pv->tag), &pv->v, max, out);
		}
		buf_append_byte(out, '\n');
	}
	free(sorted);
}

static void dump_message(const struct mapi_message *top, const struct mapi_message *msg,
	const char *prefix, unsigned flags, unsigned depth, struct buf *out)
{
	dump_props(top, &msg->props, prefix, flags, out);
	for (size_t i = 0; i < msg->recipients.n; i++) {
		char *p = g_strdup_printf("%srecipient[%zu].", prefix, i);
		dump_props(top, &msg->recipients.v[i].props, p, flags, out);
		g_free(p);
	}
	for (size_t i = 0; i < msg->attachments.n; i++) {
		const struct mapi_attachment *a = &msg->attachments.v[i];
		char *p = g_strdup_printf("%sattachment[%zu].", prefix, i);
		dump_props(top, &a->props, p, flags, out);
		if (a->embedded != NULL && depth < 64) {
			char *e = g_strdup_printf("%sembedded.", p);
			dump_message(top, a->embedded, e, flags, depth + 1, out);
			g_free(e);
		}
		g_free(p);
	}
}

void convert_message_dump(const struct mapi_message *msg, unsigned flags, struct buf *out)
{
	dump_message(msg, msg, "", flags, 0, out);
}
