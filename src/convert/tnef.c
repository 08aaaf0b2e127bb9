/* TNEF, MS-OXTNEF. Written by hand: Debian's libtnef-style tools are
 * programs, not libraries we can link, and none produce MAPI values. */
#include "convert/tnef.h"

#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/hex.h"
#include "core/hm_time.h"
#include "core/utf.h"
#include "mapi/tags.h"


#define ATTACH_BY_VALUE 1
#define ATTACH_EMBEDDED_MSG 5
#define ATTACH_OLE 6

/* IID_IMessage {00020307-0000-0000-C000-000000000046}, wire order. */
static const uint8_t tnef_iid_imessage[16] = {0x07, 0x03, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};

/* ------------------------------------------------------------------ */
/* Decoding */

typedef ARRAY(struct mapi_propval) tnef_propset_t;
typedef ARRAY(struct mapi_propname) tnef_names_t;
typedef ARRAY(tnef_propset_t) tnef_propsets_t;

struct tnef_dec {
	pool_t *pool;
	struct tnef_limits lim;
	struct tnef_info *info;
	tnef_names_t *names; /* the top message's table */
	unsigned codepage;
	iconv_t cd; /* codepage -> UTF-8, opened lazily */
	unsigned cd_cp;
	const char *error;
};

struct tnef_rd {
	const unsigned char *p;
	size_t left;
};

static bool rd_take(struct tnef_rd *r, size_t n, const unsigned char **p_r)
{
	if (n > r->left)
		return false;
	*p_r = r->p;
	r->p += n;
	r->left -= n;
	return true;
}

static bool rd_u32(struct tnef_rd *r, uint32_t *v)
{
	const unsigned char *p;
	if (!rd_take(r, 4, &p))
		return false;
	*v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return true;
}

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static size_t pad4(size_t n)
{
	return (4 - (n & 3)) & 3;
}

static void set_error(struct tnef_dec *d, const char *e)
{
	if (d->error == NULL)
		d->error = e;
}

/* Sets tag in the set; when replace is false an existing value with the
 * same property ID wins (legacy attributes yield to encapsulated
 * properties, MS-OXTNEF 2.1.3). */
static void propset_set(tnef_propset_t *set, uint32_t tag, union mapi_pvalue v, bool replace)
{
	for (size_t i = 0; i < set->n; i++) {
		if (PROP_ID(set->v[i].tag) == PROP_ID(tag)) {
			if (replace) {
				set->v[i].tag = tag;
				set->v[i].v = v;
			}
			return;
		}
	}
	struct mapi_propval *pv = array_push_new(set);
	pv->tag = tag;
	pv->v = v;
}

static struct mapi_propvals propset_finish(tnef_propset_t *set)
{
	struct mapi_propvals pv = {.count = (uint32_t)set->n, .vals = set->v};
	return pv;
}

/* Bytes in the stream's code page -> a pool UTF-8 string, trailing NULs
 * dropped. */
static char *dec_string8(struct tnef_dec *d, const unsigned char *s, size_t n)
{
	while (n > 0 && s[n - 1] == '\0')
		n--;
	struct buf out;
	buf_init(&out, d->pool);
	unsigned cp = d->codepage != 0 ? d->codepage : 1252;
	if (cp == 65001 || cp == 20127) {
		utf8_sanitize(s, n, &out);
		return (char *)buf_cstr(&out);
	}
	if (d->cd == (iconv_t)-1 || d->cd_cp != cp) {
		if (d->cd != (iconv_t)-1)
			iconv_close(d->cd);
		char name[24];
		snprintf(name, sizeof(name), "CP%u", cp);
		d->cd = iconv_open("UTF-8", name);
		if (d->cd == (iconv_t)-1)
			d->cd = iconv_open("UTF-8", "CP1252");
		d->cd_cp = cp;
	}
	if (d->cd == (iconv_t)-1) {
		utf8_sanitize(s, n, &out);
		return (char *)buf_cstr(&out);
	}
	iconv(d->cd, NULL, NULL, NULL, NULL);
	char *in = (char *)s;
	size_t inleft = n;
	while (inleft > 0) {
		char tmp[1024];
		char *o = tmp;
		size_t oleft = sizeof(tmp);
		size_t rc = iconv(d->cd, &in, &inleft, &o, &oleft);
		buf_append(&out, tmp, sizeof(tmp) - oleft);
		if (rc == (size_t)-1 && errno != E2BIG) {
			buf_append_str(&out, "\xef\xbf\xbd");
			in++;
			inleft--;
			iconv(d->cd, NULL, NULL, NULL, NULL);
		}
	}
	return (char *)buf_cstr(&out);
}

static char *dec_unicode(struct tnef_dec *d, const unsigned char *s, size_t n)
{
	n &= ~(size_t)1;
	while (n >= 2 && s[n - 1] == 0 && s[n - 2] == 0)
		n -= 2;
	struct buf out;
	buf_init(&out, d->pool);
	utf16le_to_utf8_lossy(s, n, &out);
	return (char *)buf_cstr(&out);
}

/* The named property at r: its index in the name table, added if new. */
static int dec_propname(struct tnef_dec *d, struct tnef_rd *r, uint16_t *id_r)
{
	const unsigned char *g;
	uint32_t kind, v;
	if (!rd_take(r, 16, &g) || !rd_u32(r, &kind) || !rd_u32(r, &v)) {
		set_error(d, "TNEF: truncated property name");
		return -1;
	}
	struct mapi_propname pn = {.kind = (uint8_t)kind};
	memcpy(pn.guid.b, g, 16);
	if (kind == MNID_ID) {
		pn.lid = v;
	} else if (kind == MNID_STRING) {
		const unsigned char *s;
		if (!rd_take(r, v, &s) || !rd_take(r, pad4(v), &g)) {
			set_error(d, "TNEF: truncated property name string");
			return -1;
		}
		pn.name = dec_unicode(d, s, v);
	} else {
		set_error(d, "TNEF: unknown property name kind");
		return -1;
	}
	for (size_t i = 0; i < d->names->n; i++) {
		const struct mapi_propname *e = &d->names->v[i];
		if (guid_eq(&e->guid, &pn.guid) && e->kind == pn.kind &&
			(pn.kind == MNID_ID ? e->lid == pn.lid : strcmp(e->name, pn.name) == 0)) {
			*id_r = (uint16_t)(PROP_ID_NAMED_MIN + i);
			return 0;
		}
	}
	if (d->names->n > PROP_ID_NAMED_MAX - PROP_ID_NAMED_MIN) {
		set_error(d, "TNEF: too many named properties");
		return -1;
	}
	array_push(d->names, pn);
	*id_r = (uint16_t)(PROP_ID_NAMED_MIN + d->names->n - 1);
	return 0;
}

static size_t fixed_size(uint16_t type)
{
	switch (type) {
	case PT_SHORT: case PT_BOOLEAN: return 2;
	case PT_LONG: case PT_FLOAT: case PT_ERROR: return 4;
	case PT_DOUBLE: case PT_APPTIME: case PT_CURRENCY: case PT_I8: case PT_SYSTIME: return 8;
	case PT_CLSID: return 16;
	default: return 0;
	}
}

static bool is_var_type(uint16_t type)
{
	return type == PT_STRING8 || type == PT_UNICODE || type == PT_BINARY ||
	       type == PT_OBJECT || type == PT_SVREID;
}

/* One fixed-size element (padded to 4 bytes on the wire). */
static int dec_fixed(struct tnef_dec *d, struct tnef_rd *r, uint16_t type, void *dst)
{
	size_t sz = fixed_size(type);
	const unsigned char *p, *pad;
	if (!rd_take(r, sz, &p) || !rd_take(r, pad4(sz), &pad)) {
		set_error(d, "TNEF: truncated property value");
		return -1;
	}
	switch (type) {
	case PT_SHORT: *(int16_t *)dst = (int16_t)le16(p); break;
	case PT_BOOLEAN: *(bool *)dst = le16(p) != 0; break;
	case PT_LONG: *(int32_t *)dst = (int32_t)le32(p); break;
	case PT_ERROR: *(uint32_t *)dst = le32(p); break;
	case PT_FLOAT: { uint32_t u = le32(p); memcpy(dst, &u, 4); break; }
	case PT_DOUBLE: case PT_APPTIME: { uint64_t u = le64(p); memcpy(dst, &u, 8); break; }
	case PT_CURRENCY: case PT_I8: *(int64_t *)dst = (int64_t)le64(p); break;
	case PT_SYSTIME: *(uint64_t *)dst = le64(p); break;
	case PT_CLSID: memcpy(dst, p, 16); break;
	}
	return 0;
}

/* One counted element: size, bytes, padding. */
static int dec_counted(struct tnef_dec *d, struct tnef_rd *r, const unsigned char **p_r,
	uint32_t *n_r)
{
	const unsigned char *pad;
	if (!rd_u32(r, n_r) || !rd_take(r, *n_r, p_r) || !rd_take(r, pad4(*n_r), &pad)) {
		set_error(d, "TNEF: truncated property value");
		return -1;
	}
	return 0;
}

static int dec_message(struct tnef_dec *d, const unsigned char *data, size_t len,
	unsigned depth, struct mapi_message **msg_r);
static int dec_attributes(struct tnef_dec *d, const unsigned char *data, size_t len,
	unsigned depth, struct mapi_message *msg, tnef_propset_t *msg_props, tnef_propsets_t *att_props_p);

/* A property block (attMsgProps, attAttachment, one recipient row):
 * count, then tag [name] value for each (MS-OXTNEF 2.1.3.4). */
static int dec_props(struct tnef_dec *d, struct tnef_rd *r, tnef_propset_t *set,
	struct mapi_attachment *att, unsigned depth)
{
	uint32_t count;
	if (!rd_u32(r, &count)) {
		set_error(d, "TNEF: truncated property count");
		return -1;
	}
	/* Every property takes at least 8 bytes. */
	if (count > d->lim.max_props || count > r->left / 8 + 1) {
		set_error(d, "TNEF: property count beyond the data or the limit");
		return -1;
	}
	for (uint32_t k = 0; k < count; k++) {
		uint32_t tag;
		if (!rd_u32(r, &tag)) {
			set_error(d, "TNEF: truncated property tag");
			return -1;
		}
		uint16_t type = PROP_TYPE(tag), id = PROP_ID(tag);
		if (id >= PROP_ID_NAMED_MIN) {
			if (dec_propname(d, r, &id) < 0)
				return -1;
			tag = PROP_TAG(type, id);
		}
		union mapi_pvalue v;
		memset(&v, 0, sizeof(v));
		uint16_t base = type & (uint16_t)~PT_MV_FLAG;
		if ((type & PT_MV_FLAG) == 0) {
			if (fixed_size(type) > 0) {
				void *dst = type == PT_CLSID ? (void *)(v.guid = pool_alloc(d->pool, 16))
							     : (void *)&v;
				if (dec_fixed(d, r, type, dst) < 0)
					return -1;
			} else if (is_var_type(type)) {
				uint32_t nvals;
				const unsigned char *p;
				uint32_t n;
				/* Single-valued variable types carry a count of 1. */
				if (!rd_u32(r, &nvals) || nvals != 1) {
					set_error(d, "TNEF: bad value count for a single value");
					return -1;
				}
				if (dec_counted(d, r, &p, &n) < 0)
					return -1;
				if (type == PT_STRING8) {
					v.str = dec_string8(d, p, n);
				} else if (type == PT_UNICODE) {
					v.str = dec_unicode(d, p, n);
				} else if (type == PT_OBJECT && n >= 16 &&
					   memcmp(p, tnef_iid_imessage, 16) == 0 && att != NULL &&
					   PROP_ID(tag) == PROP_ID(PR_ATTACH_DATA_OBJ)) {
					/* An embedded message: a TNEF stream of its own. */
					if (dec_message(d, p + 16, n - 16, depth + 1, &att->embedded) < 0)
						return -1;
					continue;
				} else {
					v.bin.cb = n;
					v.bin.pb = pool_memdup(d->pool, p, n);
				}
			} else if (type == PT_NULL) {
				const unsigned char *p;
				if (!rd_take(r, 4, &p)) {
					set_error(d, "TNEF: truncated property value");
					return -1;
				}
			} else {
				set_error(d, "TNEF: property of an unknown type");
				return -1;
			}
		} else {
			uint32_t n;
			if (!rd_u32(r, &n) || n > r->left / 4) {
				set_error(d, "TNEF: multi-value count beyond the data");
				return -1;
			}
			v.mv.count = n;
			size_t fs = fixed_size(base);
			if (fs > 0 && (base == PT_BOOLEAN || base == PT_ERROR)) {
				set_error(d, "TNEF: multi-valued type not allowed");
				return -1;
			}
			if (fs > 0) {
				size_t esz = base == PT_SHORT ? 2 : base == PT_LONG || base == PT_FLOAT ? 4
					     : base == PT_CLSID ? sizeof(struct guid) : 8;
				unsigned char *arr = pool_calloc(d->pool, n ? n : 1, esz);
				v.mv.l = (int32_t *)(void *)arr;
				for (uint32_t e = 0; e < n; e++) {
					if (dec_fixed(d, r, base, arr + e * esz) < 0)
						return -1;
				}
			} else if (base == PT_STRING8 || base == PT_UNICODE || base == PT_BINARY) {
				if (base == PT_BINARY)
					v.mv.bin = pool_calloc(d->pool, n ? n : 1, sizeof(*v.mv.bin));
				else
					v.mv.str = pool_calloc(d->pool, n ? n : 1, sizeof(char *));
				for (uint32_t e = 0; e < n; e++) {
					const unsigned char *p;
					uint32_t sz;
					if (dec_counted(d, r, &p, &sz) < 0)
						return -1;
					if (base == PT_STRING8)
						v.mv.str[e] = dec_string8(d, p, sz);
					else if (base == PT_UNICODE)
						v.mv.str[e] = dec_unicode(d, p, sz);
					else {
						v.mv.bin[e].cb = sz;
						v.mv.bin[e].pb = pool_memdup(d->pool, p, sz);
					}
				}
			} else {
				set_error(d, "TNEF: multi-valued property of an unknown type");
				return -1;
			}
		}
		propset_set(set, tag, v, true);
	}
	return 0;
}

/* attDate (MS-OXTNEF 2.1.3.3.5 DTR): year, month, day, hour, minute,
 * second, day of week; taken as UTC. */
static bool dec_date(const unsigned char *p, size_t n, uint64_t *ft_r)
{
	if (n < 12)
		return false;
	int y = le16(p), mo = le16(p + 2), dd = le16(p + 4);
	int h = le16(p + 6), mi = le16(p + 8), s = le16(p + 10);
	if (y < 1601 || y > 30827 || mo < 1 || mo > 12 || dd < 1 || dd > 31 || h > 23 || mi > 59 ||
		s > 60)
		return false;
	int64_t t = time_from_civil(y, mo, dd, h, mi, s);
	*ft_r = time_unix_to_filetime(t, 0);
	return true;
}

static const char *map_message_class(const char *c)
{
	static const char *const map[][2] = {
		{"IPM.Microsoft Mail.Note", "IPM.Note"},
		{"IPM.Microsoft Mail.Read Receipt", "Report.IPM.Note.IPNRN"},
		{"IPM.Microsoft Mail.Non-Delivery", "Report.IPM.Note.NDR"},
		{"IPM.Microsoft Schedule.MtgReq", "IPM.Schedule.Meeting.Request"},
		{"IPM.Microsoft Schedule.MtgRespP", "IPM.Schedule.Meeting.Resp.Pos"},
		{"IPM.Microsoft Schedule.MtgRespN", "IPM.Schedule.Meeting.Resp.Neg"},
		{"IPM.Microsoft Schedule.MtgRespA", "IPM.Schedule.Meeting.Resp.Tent"},
		{"IPM.Microsoft Schedule.MtgCncld", "IPM.Schedule.Meeting.Canceled"},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(c, map[i][0]) == 0)
			return map[i][1];
	return c;
}

static union mapi_pvalue pv_str(char *s)
{
	union mapi_pvalue v;
	memset(&v, 0, sizeof(v));
	v.str = s;
	return v;
}

static union mapi_pvalue pv_long(int32_t l)
{
	union mapi_pvalue v;
	memset(&v, 0, sizeof(v));
	v.l = l;
	return v;
}

static union mapi_pvalue pv_bin(pool_t *pool, const void *p, size_t n)
{
	union mapi_pvalue v;
	memset(&v, 0, sizeof(v));
	v.bin.cb = (uint32_t)n;
	v.bin.pb = pool_memdup(pool, p, n);
	return v;
}

static union mapi_pvalue pv_time(uint64_t ft)
{
	union mapi_pvalue v;
	memset(&v, 0, sizeof(v));
	v.ft = ft;
	return v;
}

/* attFrom: a TRP (MS-OXTNEF 2.1.3.3.1): trpid, cbgrtrp, cch, cbRgb, then
 * the display name (cch bytes) and the address (cbRgb bytes, "TYPE:addr"). */
static void dec_from(struct tnef_dec *d, const unsigned char *p, size_t n, tnef_propset_t *set)
{
	if (n < 8)
		return;
	size_t cch = le16(p + 4), cb = le16(p + 6);
	if (cch > n - 8)
		return;
	propset_set(set, PR_SENDER_NAME, pv_str(dec_string8(d, p + 8, cch)), false);
	size_t at = 8 + cch;
	if (cb > n - at)
		cb = n - at;
	char *addr = dec_string8(d, p + at, cb);
	char *colon = strchr(addr, ':');
	if (colon != NULL && colon != addr) {
		*colon = '\0';
		propset_set(set, PR_SENDER_ADDRTYPE, pv_str(addr), false);
		propset_set(set, PR_SENDER_EMAIL_ADDRESS, pv_str(colon + 1), false);
	} else if (addr[0] != '\0') {
		propset_set(set, PR_SENDER_EMAIL_ADDRESS, pv_str(addr), false);
	}
}

static bool hex_key(struct tnef_dec *d, const unsigned char *p, size_t n, union mapi_pvalue *v)
{
	while (n > 0 && p[n - 1] == '\0')
		n--;
	struct buf b;
	buf_init(&b, d->pool);
	if (hex_decode(p, n, &b) < 0)
		return false;
	v->bin.cb = (uint32_t)b.len;
	v->bin.pb = b.data;
	return true;
}

static int dec_message(struct tnef_dec *d, const unsigned char *data, size_t len,
	unsigned depth, struct mapi_message **msg_r)
{
	if (depth > d->lim.max_depth) {
		set_error(d, "TNEF: embedded messages nested too deep");
		return -1;
	}
	if (len < 6 || le32(data) != TNEF_SIGNATURE) {
		set_error(d, "TNEF: bad signature");
		return -1;
	}
	struct mapi_message *msg = pool_alloc(d->pool, sizeof(*msg));
	msg->pool = d->pool;
	msg->names = (void *)d->names;
	array_init(&msg->recipients, d->pool);
	array_init(&msg->attachments, d->pool);
	tnef_propset_t props;
	array_init(&props, d->pool);
	tnef_propsets_t att_props;
	array_init(&att_props, d->pool);
	if (depth == 0)
		d->info->key = le16(data + 4);

	/* An embedded stream's attOemCodepage applies to it alone. */
	unsigned saved_cp = d->codepage;
	int rc = dec_attributes(d, data, len, depth, msg, &props, &att_props);
	d->codepage = saved_cp;
	if (rc < 0)
		return -1;
	/* An embedded message attachment says so even when only the legacy
	 * attAttachRendData (which knows files and OLE only) gave a method. */
	for (size_t i = 0; i < msg->attachments.n; i++) {
		if (msg->attachments.v[i].embedded != NULL)
			propset_set(&att_props.v[i], PR_ATTACH_METHOD, pv_long(ATTACH_EMBEDDED_MSG),
				true);
		msg->attachments.v[i].props = propset_finish(&att_props.v[i]);
	}
	msg->props = propset_finish(&props);
	*msg_r = msg;
	return 0;
}

static int dec_attributes(struct tnef_dec *d, const unsigned char *data, size_t len,
	unsigned depth, struct mapi_message *msg, tnef_propset_t *msg_props, tnef_propsets_t *att_props_p)
{
	struct tnef_rd r = {data + 6, len - 6};
	while (r.left > 0) {
		const unsigned char *h, *p, *ck;
		if (!rd_take(&r, 9, &h)) {
			set_error(d, "TNEF: truncated attribute header");
			return -1;
		}
		uint8_t level = h[0];
		uint32_t id = le32(h + 1), n = le32(h + 5);
		if (!rd_take(&r, n, &p) || !rd_take(&r, 2, &ck)) {
			set_error(d, "TNEF: attribute longer than the data");
			return -1;
		}
		uint16_t sum = 0;
		for (uint32_t i = 0; i < n; i++)
			sum = (uint16_t)(sum + p[i]);
		if (sum != le16(ck))
			d->info->checksum_errors++;

		tnef_propset_t *set;
		struct mapi_attachment *att = NULL;
		if (level == TNEF_LVL_ATTACHMENT) {
			/* 2.1.3.3.15: attAttachRendData starts each attachment. */
			if (id == ATT_ATTACH_REND_DATA || msg->attachments.n == 0) {
				if (msg->attachments.n >= d->lim.max_attachments) {
					set_error(d, "TNEF: too many attachments");
					return -1;
				}
				(void)array_push_new(&msg->attachments);
				tnef_propset_t *ap = array_push_new(att_props_p);
				array_init(ap, d->pool);
			}
			att = &msg->attachments.v[msg->attachments.n - 1];
			set = &att_props_p->v[att_props_p->n - 1];
		} else if (level == TNEF_LVL_MESSAGE) {
			set = msg_props;
		} else {
			d->info->ignored++;
			continue;
		}
		struct tnef_rd ar = {p, n};
		union mapi_pvalue v;
		uint64_t ft;
		switch (id) {
		case ATT_TNEF_VERSION:
			if (n >= 4 && depth == 0)
				d->info->version = le32(p);
			break;
		case ATT_OEM_CODEPAGE:
			if (n >= 4) {
				if (depth == 0)
					d->info->oem_codepage = le32(p);
				d->codepage = le32(p);
			}
			break;
		case ATT_MESSAGE_CLASS:
		case ATT_ORIGINAL_MESSAGE_CLASS:
			if (id == ATT_MESSAGE_CLASS)
				propset_set(set, PR_MESSAGE_CLASS,
					pv_str((char *)map_message_class(dec_string8(d, p, n))), false);
			else
				d->info->ignored++;
			break;
		case ATT_SUBJECT:
			propset_set(set, PR_SUBJECT, pv_str(dec_string8(d, p, n)), false);
			break;
		case ATT_BODY:
			propset_set(set, PR_BODY, pv_str(dec_string8(d, p, n)), false);
			break;
		case ATT_MESSAGE_ID:
		case ATT_PARENT_ID:
		case ATT_CONVERSATION_ID:
			memset(&v, 0, sizeof(v));
			if (hex_key(d, p, n, &v))
				propset_set(set,
					id == ATT_MESSAGE_ID  ? PR_SEARCH_KEY
					: id == ATT_PARENT_ID ? PR_PARENT_KEY
							      : PR_CONVERSATION_KEY,
					v, false);
			break;
		case ATT_DATE_SENT:
		case ATT_DATE_RECD:
		case ATT_DATE_MODIFIED:
		case ATT_ATTACH_CREATE_DATE:
		case ATT_ATTACH_MODIFY_DATE:
		case ATT_DATE_START:
		case ATT_DATE_END:
			if (dec_date(p, n, &ft)) {
				uint32_t tag = id == ATT_DATE_SENT	     ? PR_CLIENT_SUBMIT_TIME
					       : id == ATT_DATE_RECD	     ? PR_MESSAGE_DELIVERY_TIME
					       : id == ATT_ATTACH_CREATE_DATE ? PR_CREATION_TIME
					       : id == ATT_DATE_START	     ? PR_START_DATE
					       : id == ATT_DATE_END	     ? PR_END_DATE
									     : PR_LAST_MODIFICATION_TIME;
				propset_set(set, tag, pv_time(ft), false);
			}
			break;
		case ATT_PRIORITY:
			/* 1 high, 2 normal, 3 low -> PR_IMPORTANCE 2, 1, 0. */
			if (n >= 2) {
				uint16_t pr = le16(p);
				int32_t imp = pr == 1 ? 2 : pr == 3 ? 0 : 1;
				propset_set(set, PR_IMPORTANCE, pv_long(imp), false);
			}
			break;
		case ATT_AID_OWNER:
			if (n >= 4)
				propset_set(set, PR_OWNER_APPT_ID, pv_long((int32_t)le32(p)), false);
			break;
		case ATT_REQUEST_RES:
			if (n >= 2) {
				memset(&v, 0, sizeof(v));
				v.b = le16(p) != 0;
				propset_set(set, PR_RESPONSE_REQUESTED, v, false);
			}
			break;
		case ATT_FROM:
			dec_from(d, p, n, set);
			break;
		case ATT_ATTACH_DATA:
			propset_set(set, PR_ATTACH_DATA_BIN, pv_bin(d->pool, p, n), false);
			break;
		case ATT_ATTACH_TITLE:
			propset_set(set, PR_ATTACH_FILENAME, pv_str(dec_string8(d, p, n)), false);
			break;
		case ATT_ATTACH_META_FILE:
			propset_set(set, PR_ATTACH_RENDERING, pv_bin(d->pool, p, n), false);
			break;
		case ATT_ATTACH_TRANSPORT_FILENAME:
			propset_set(set, PR_ATTACH_TRANSPORT_NAME, pv_str(dec_string8(d, p, n)), false);
			break;
		case ATT_ATTACH_REND_DATA:
			/* 2.1.3.3.15: AttachType (1 file, 2 OLE), AttachPosition, ... */
			if (n >= 6 && level == TNEF_LVL_ATTACHMENT) {
				uint16_t type = le16(p);
				propset_set(set, PR_ATTACH_METHOD,
					pv_long(type == 2 ? ATTACH_OLE : ATTACH_BY_VALUE), false);
				propset_set(set, PR_RENDERING_POSITION, pv_long((int32_t)le32(p + 2)),
					false);
			}
			break;
		case ATT_MSG_PROPS:
		case ATT_ATTACHMENT:
			if (dec_props(d, &ar, set, att, depth) < 0)
				return -1;
			break;
		case ATT_RECIP_TABLE: {
			uint32_t rows;
			if (!rd_u32(&ar, &rows) || rows > ar.left / 4 ||
				msg->recipients.n + rows > d->lim.max_recipients) {
				set_error(d, "TNEF: recipient count beyond the data or the limit");
				return -1;
			}
			for (uint32_t i = 0; i < rows; i++) {
				tnef_propset_t rp;
				array_init(&rp, d->pool);
				if (dec_props(d, &ar, &rp, NULL, depth) < 0)
					return -1;
				struct mapi_recipient *rc = array_push_new(&msg->recipients);
				rc->props = propset_finish(&rp);
			}
			break;
		}
		default:
			d->info->ignored++;
			break;
		}
	}
	return 0;
}

int tnef_decode(pool_t *pool, const void *data, size_t len, const struct tnef_limits *limits,
	struct mapi_message **msg_r, struct tnef_info *info_r, const char **error_r)
{
	struct tnef_info info_local;
	struct tnef_dec d = {.pool = pool, .cd = (iconv_t)-1};
	if (limits != NULL)
		d.lim = *limits;
	if (d.lim.max_size == 0)
		d.lim.max_size = 256u * 1024 * 1024;
	if (d.lim.max_attachments == 0)
		d.lim.max_attachments = 1024;
	if (d.lim.max_recipients == 0)
		d.lim.max_recipients = 10000;
	if (d.lim.max_props == 0)
		d.lim.max_props = 65536;
	if (d.lim.max_depth == 0)
		d.lim.max_depth = 8;
	d.info = info_r != NULL ? info_r : &info_local;
	memset(d.info, 0, sizeof(*d.info));
	if (len > d.lim.max_size) {
		*error_r = "TNEF: stream above the size limit";
		return -1;
	}
	d.names = pool_alloc(pool, sizeof(*d.names));
	array_init(d.names, pool);
	struct mapi_message *msg = NULL;
	int rc = dec_message(&d, data, len, 0, &msg);
	if (d.cd != (iconv_t)-1)
		iconv_close(d.cd);
	if (rc < 0) {
		*error_r = d.error != NULL ? d.error : "TNEF: malformed stream";
		return -1;
	}
	*msg_r = msg;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Encoding */

struct tnef_enc {
	const struct mapi_message *top;
	unsigned codepage;
	iconv_t cd; /* UTF-8 -> codepage */
	const char *error;
};

static void put_u16(struct buf *b, uint16_t v)
{
	buf_append_u16le(b, v);
}

static void put_u32(struct buf *b, uint32_t v)
{
	buf_append_u32le(b, v);
}

static void put_pad(struct buf *b, size_t n)
{
	buf_append_fill(b, 0, pad4(n));
}

static void enc_attr(struct buf *out, uint8_t level, uint32_t id, const void *data, size_t n)
{
	const unsigned char *p = data;
	uint16_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum = (uint16_t)(sum + p[i]);
	buf_append_byte(out, level);
	put_u32(out, id);
	put_u32(out, (uint32_t)n);
	buf_append(out, data, n);
	put_u16(out, sum);
}

/* UTF-8 -> the stream's code page, NUL-terminated. */
static void enc_string8(struct tnef_enc *e, const char *s, struct buf *out)
{
	size_t n = strlen(s);
	if (e->codepage == 65001 || e->cd == (iconv_t)-1) {
		buf_append(out, s, n);
		buf_append_byte(out, 0);
		return;
	}
	iconv(e->cd, NULL, NULL, NULL, NULL);
	char *in = (char *)s;
	size_t inleft = n;
	while (inleft > 0) {
		char tmp[1024];
		char *o = tmp;
		size_t oleft = sizeof(tmp);
		size_t rc = iconv(e->cd, &in, &inleft, &o, &oleft);
		buf_append(out, tmp, sizeof(tmp) - oleft);
		if (rc == (size_t)-1 && errno != E2BIG) {
			/* Skip the whole UTF-8 character. */
			uint32_t cp;
			int l = utf8_decode((const unsigned char *)in, inleft, &cp);
			size_t skip = l > 0 ? (size_t)l : 1;
			buf_append_byte(out, '?');
			in += skip;
			inleft -= skip;
			iconv(e->cd, NULL, NULL, NULL, NULL);
		}
	}
	buf_append_byte(out, 0);
}

static void enc_unicode(const char *s, struct buf *out)
{
	utf8_to_utf16le_lossy(s, strlen(s), out);
	buf_append_u16le(out, 0);
}

static void enc_counted(struct buf *out, const void *p, size_t n)
{
	put_u32(out, (uint32_t)n);
	buf_append(out, p, n);
	put_pad(out, n);
}

static int enc_message(struct tnef_enc *e, const struct mapi_message *msg, uint16_t key,
	unsigned depth, struct buf *out);

static int enc_fixed(struct buf *out, uint16_t type, const void *src)
{
	switch (type) {
	case PT_SHORT: put_u16(out, (uint16_t)*(const int16_t *)src); put_u16(out, 0); break;
	case PT_BOOLEAN: put_u16(out, *(const bool *)src ? 1 : 0); put_u16(out, 0); break;
	case PT_LONG: put_u32(out, (uint32_t)*(const int32_t *)src); break;
	case PT_ERROR: put_u32(out, *(const uint32_t *)src); break;
	case PT_FLOAT: { uint32_t u; memcpy(&u, src, 4); put_u32(out, u); break; }
	case PT_DOUBLE: case PT_APPTIME: { uint64_t u; memcpy(&u, src, 8); buf_append_u64le(out, u); break; }
	case PT_CURRENCY: case PT_I8: buf_append_u64le(out, (uint64_t)*(const int64_t *)src); break;
	case PT_SYSTIME: buf_append_u64le(out, *(const uint64_t *)src); break;
	case PT_CLSID: buf_append(out, src, 16); break;
	default: return -1;
	}
	return 0;
}

/* One property: tag, name for named IDs, value. */
static int enc_prop(struct tnef_enc *e, const struct mapi_propval *pv, struct buf *out)
{
	uint16_t type = PROP_TYPE(pv->tag), id = PROP_ID(pv->tag);
	uint16_t base = type & (uint16_t)~PT_MV_FLAG;
	put_u32(out, pv->tag);
	if (id >= PROP_ID_NAMED_MIN) {
		const struct mapi_propname *pn = NULL;
		if (e->top->names != NULL && (size_t)(id - PROP_ID_NAMED_MIN) < e->top->names->n)
			pn = &e->top->names->v[id - PROP_ID_NAMED_MIN];
		if (pn == NULL) {
			e->error = "TNEF: named property missing from the name table";
			return -1;
		}
		buf_append(out, pn->guid.b, 16);
		put_u32(out, pn->kind);
		if (pn->kind == MNID_ID) {
			put_u32(out, pn->lid);
		} else {
			struct buf s;
			buf_init(&s, NULL);
			enc_unicode(pn->name != NULL ? pn->name : "", &s);
			enc_counted(out, s.data, s.len);
			buf_deinit(&s);
		}
	}
	const union mapi_pvalue *v = &pv->v;
	if ((type & PT_MV_FLAG) == 0) {
		if (fixed_size(type) > 0) {
			const void *src = type == PT_CLSID ? (const void *)v->guid : (const void *)v;
			if (type == PT_CLSID && v->guid == NULL) {
				e->error = "TNEF: PT_CLSID without a value";
				return -1;
			}
			return enc_fixed(out, type, src);
		}
		if (type == PT_NULL) {
			put_u32(out, 0);
			return 0;
		}
		if (!is_var_type(type)) {
			e->error = "TNEF: property type cannot be encoded";
			return -1;
		}
		put_u32(out, 1);
		struct buf s;
		buf_init(&s, NULL);
		if (type == PT_STRING8)
			enc_string8(e, v->str != NULL ? v->str : "", &s);
		else if (type == PT_UNICODE)
			enc_unicode(v->str != NULL ? v->str : "", &s);
		else if (v->bin.cb > 0)
			buf_append(&s, v->bin.pb, v->bin.cb);
		enc_counted(out, s.data, s.len);
		buf_deinit(&s);
		return 0;
	}
	put_u32(out, v->mv.count);
	for (uint32_t k = 0; k < v->mv.count; k++) {
		size_t fs = fixed_size(base);
		if (fs > 0 && base != PT_BOOLEAN && base != PT_ERROR) {
			const void *src;
			switch (base) {
			case PT_SHORT: src = &v->mv.i[k]; break;
			case PT_LONG: src = &v->mv.l[k]; break;
			case PT_FLOAT: src = &v->mv.flt[k]; break;
			case PT_DOUBLE: src = &v->mv.dbl[k]; break;
			case PT_APPTIME: src = &v->mv.at[k]; break;
			case PT_CURRENCY: src = &v->mv.cur[k]; break;
			case PT_I8: src = &v->mv.li[k]; break;
			case PT_SYSTIME: src = &v->mv.ft[k]; break;
			default: src = &v->mv.guid[k]; break;
			}
			/* Each element padded to 4 bytes, like a single value. */
			if (enc_fixed(out, base, src) < 0)
				return -1;
			continue;
		}
		struct buf s;
		buf_init(&s, NULL);
		if (base == PT_STRING8)
			enc_string8(e, v->mv.str[k] != NULL ? v->mv.str[k] : "", &s);
		else if (base == PT_UNICODE)
			enc_unicode(v->mv.str[k] != NULL ? v->mv.str[k] : "", &s);
		else if (base == PT_BINARY) {
			if (v->mv.bin[k].cb > 0)
				buf_append(&s, v->mv.bin[k].pb, v->mv.bin[k].cb);
		} else {
			buf_deinit(&s);
			e->error = "TNEF: multi-valued type cannot be encoded";
			return -1;
		}
		enc_counted(out, s.data, s.len);
		buf_deinit(&s);
	}
	return 0;
}

/* Properties not written: the one carried elsewhere (skip_tag), the
 * embedded message's object (written last), PT_ERROR values, which say
 * only that a value was unavailable, and multi-valued properties with no
 * values; common decoders (Debian's tnef) reject or crash on the last two. */
static bool enc_skipped(const struct mapi_propval *pv, uint32_t skip_tag,
	const struct mapi_message *embedded)
{
	return pv->tag == skip_tag || PROP_TYPE(pv->tag) == PT_UNSPECIFIED ||
	       PROP_TYPE(pv->tag) == PT_ERROR ||
	       ((PROP_TYPE(pv->tag) & PT_MV_FLAG) != 0 && pv->v.mv.count == 0) ||
	       (embedded != NULL && PROP_ID(pv->tag) == PROP_ID(PR_ATTACH_DATA_OBJ));
}

static int enc_propvals(struct tnef_enc *e, const struct mapi_propvals *pvs, uint32_t skip_tag,
	const struct mapi_message *embedded, unsigned depth, struct buf *out)
{
	uint32_t count = 0;
	for (uint32_t i = 0; i < pvs->count; i++)
		if (!enc_skipped(&pvs->vals[i], skip_tag, embedded))
			count++;
	put_u32(out, count + (embedded != NULL ? 1 : 0));
	for (uint32_t i = 0; i < pvs->count; i++) {
		const struct mapi_propval *pv = &pvs->vals[i];
		if (enc_skipped(pv, skip_tag, embedded))
			continue;
		if (enc_prop(e, pv, out) < 0)
			return -1;
	}
	if (embedded != NULL) {
		/* PR_ATTACH_DATA_OBJ: IID_IMessage then the nested stream. */
		struct buf s;
		buf_init(&s, NULL);
		buf_append(&s, tnef_iid_imessage, 16);
		if (enc_message(e, embedded, 1, depth + 1, &s) < 0) {
			buf_deinit(&s);
			return -1;
		}
		put_u32(out, PR_ATTACH_DATA_OBJ);
		put_u32(out, 1);
		enc_counted(out, s.data, s.len);
		buf_deinit(&s);
	}
	return 0;
}

static const struct mapi_propval *find_prop(const struct mapi_propvals *pvs, uint32_t tag)
{
	for (uint32_t i = 0; i < pvs->count; i++)
		if (PROP_ID(pvs->vals[i].tag) == PROP_ID(tag) &&
			(PROP_TYPE(pvs->vals[i].tag) == PROP_TYPE(tag) ||
				((PROP_TYPE(tag) == PT_UNICODE) &&
					PROP_TYPE(pvs->vals[i].tag) == PT_STRING8)))
			return &pvs->vals[i];
	return NULL;
}

static int enc_message(struct tnef_enc *e, const struct mapi_message *msg, uint16_t key,
	unsigned depth, struct buf *out)
{
	if (depth > 8) {
		e->error = "TNEF: embedded messages nested too deep";
		return -1;
	}
	put_u32(out, TNEF_SIGNATURE);
	put_u16(out, key);
	unsigned char tmp[16];
	/* 2.1.3.3.17 / .18: version 0x00010000, then the code page. */
	tmp[0] = 0; tmp[1] = 0; tmp[2] = 1; tmp[3] = 0;
	enc_attr(out, TNEF_LVL_MESSAGE, ATT_TNEF_VERSION, tmp, 4);
	memset(tmp, 0, 8);
	tmp[0] = (unsigned char)e->codepage;
	tmp[1] = (unsigned char)(e->codepage >> 8);
	tmp[2] = (unsigned char)(e->codepage >> 16);
	tmp[3] = (unsigned char)(e->codepage >> 24);
	enc_attr(out, TNEF_LVL_MESSAGE, ATT_OEM_CODEPAGE, tmp, 8);

	struct buf a;
	buf_init(&a, NULL);
	const struct mapi_propval *cls = find_prop(&msg->props, PR_MESSAGE_CLASS);
	if (cls != NULL && cls->v.str != NULL) {
		enc_string8(e, cls->v.str, &a);
		enc_attr(out, TNEF_LVL_MESSAGE, ATT_MESSAGE_CLASS, a.data, a.len);
		buf_reset(&a);
	}
	int rc = enc_propvals(e, &msg->props, 0, NULL, depth, &a);
	if (rc == 0) {
		enc_attr(out, TNEF_LVL_MESSAGE, ATT_MSG_PROPS, a.data, a.len);
		buf_reset(&a);
	}
	if (rc == 0 && msg->recipients.n > 0) {
		put_u32(&a, (uint32_t)msg->recipients.n);
		for (size_t i = 0; i < msg->recipients.n && rc == 0; i++)
			rc = enc_propvals(e, &msg->recipients.v[i].props, 0, NULL, depth, &a);
		if (rc == 0)
			enc_attr(out, TNEF_LVL_MESSAGE, ATT_RECIP_TABLE, a.data, a.len);
		buf_reset(&a);
	}
	for (size_t i = 0; i < msg->attachments.n && rc == 0; i++) {
		const struct mapi_attachment *att = &msg->attachments.v[i];
		const struct mapi_propval *method = find_prop(&att->props, PR_ATTACH_METHOD);
		const struct mapi_propval *pos = find_prop(&att->props, PR_RENDERING_POSITION);
		/* 2.1.3.3.15 attAttachRendData: type, position, width, height, flags. */
		memset(tmp, 0, 14);
		tmp[0] = method != NULL && method->v.l == ATTACH_OLE ? 2 : 1;
		uint32_t position = pos != NULL ? (uint32_t)pos->v.l : 0xffffffffu;
		tmp[2] = (unsigned char)position;
		tmp[3] = (unsigned char)(position >> 8);
		tmp[4] = (unsigned char)(position >> 16);
		tmp[5] = (unsigned char)(position >> 24);
		tmp[6] = tmp[7] = tmp[8] = tmp[9] = 0xff; /* width, height: -1 */
		enc_attr(out, TNEF_LVL_ATTACHMENT, ATT_ATTACH_REND_DATA, tmp, 14);
		const struct mapi_propval *name = find_prop(&att->props, PR_ATTACH_FILENAME);
		if (name == NULL)
			name = find_prop(&att->props, PR_ATTACH_LONG_FILENAME);
		if (name != NULL && name->v.str != NULL) {
			enc_string8(e, name->v.str, &a);
			enc_attr(out, TNEF_LVL_ATTACHMENT, ATT_ATTACH_TITLE, a.data, a.len);
			buf_reset(&a);
		}
		const struct mapi_propval *bin = find_prop(&att->props, PR_ATTACH_DATA_BIN);
		if (bin != NULL)
			enc_attr(out, TNEF_LVL_ATTACHMENT, ATT_ATTACH_DATA, bin->v.bin.pb,
				bin->v.bin.cb);
		/* The data travels once, in attAttachData; everything else in
		 * attAttachment. */
		rc = enc_propvals(e, &att->props, bin != NULL ? PR_ATTACH_DATA_BIN : 0, att->embedded,
			depth, &a);
		if (rc == 0)
			enc_attr(out, TNEF_LVL_ATTACHMENT, ATT_ATTACHMENT, a.data, a.len);
		buf_reset(&a);
	}
	buf_deinit(&a);
	return rc;
}

int tnef_encode(const struct mapi_message *msg, uint16_t key, uint32_t oem_codepage,
	struct buf *out, const char **error_r)
{
	struct tnef_enc e = {.top = msg, .codepage = oem_codepage != 0 ? oem_codepage : 1252};
	char name[32];
	snprintf(name, sizeof(name), "CP%u", e.codepage);
	e.cd = e.codepage == 65001 ? (iconv_t)-1 : iconv_open(name, "UTF-8");
	if (e.cd == (iconv_t)-1 && e.codepage != 65001) {
		*error_r = "TNEF: unsupported code page";
		return -1;
	}
	int rc = enc_message(&e, msg, key != 0 ? key : 1, 0, out);
	if (e.cd != (iconv_t)-1)
		iconv_close(e.cd);
	if (rc < 0) {
		*error_r = e.error != NULL ? e.error : "TNEF: cannot encode";
		return -1;
	}
	return 1;
}
