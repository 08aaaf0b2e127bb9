/* MS-OXTNEF: encode -> decode keeps every property (all types, named,
 * multi-valued), recipient and attachment, embedded messages recurse;
 * legacy attributes map; malformed streams fail cleanly; Debian's `tnef`
 * extracts what we encode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert/tnef.h"
#include "test_util.h"

typedef ARRAY(struct mapi_propval) propset_t;

static struct mapi_message *msg_new(pool_t *pool)
{
	struct mapi_message *m = pool_alloc(pool, sizeof(*m));
	m->pool = pool;
	array_init(&m->recipients, pool);
	array_init(&m->attachments, pool);
	return m;
}

static void add(propset_t *set, uint32_t tag, union mapi_pvalue v)
{
	struct mapi_propval *pv = array_push_new(set);
	pv->tag = tag;
	pv->v = v;
}

static union mapi_pvalue S(const char *s)
{
	union mapi_pvalue v = {0};
	v.str = (char *)s;
	return v;
}

static union mapi_pvalue L(int32_t l)
{
	union mapi_pvalue v = {0};
	v.l = l;
	return v;
}

static union mapi_pvalue B(const void *p, size_t n)
{
	union mapi_pvalue v = {0};
	v.bin.cb = (uint32_t)n;
	v.bin.pb = (uint8_t *)p;
	return v;
}

static struct mapi_propvals fin(propset_t *set)
{
	return (struct mapi_propvals){.count = (uint32_t)set->n, .vals = set->v};
}

static const struct mapi_propval *find(const struct mapi_propvals *pvs, uint32_t tag)
{
	for (uint32_t i = 0; i < pvs->count; i++)
		if (pvs->vals[i].tag == tag)
			return &pvs->vals[i];
	return NULL;
}

/* Like find, but a missing property fails the test. */
static const struct mapi_propval *get(const struct mapi_propvals *pvs, uint32_t tag)
{
	const struct mapi_propval *pv = find(pvs, tag);
	if (pv == NULL) {
		fprintf(stderr, "property 0x%08x missing\n", tag);
		abort();
	}
	return pv;
}

static int16_t mv_i[] = {1, -2, 3};
static int32_t mv_l[] = {10, -20};
static double mv_d[] = {1.5, -2.25};
static int64_t mv_li[] = {1LL << 40, -5};
static uint64_t mv_ft[] = {132000000000000000ULL};
static struct guid mv_g[2] = {{{1, 2, 3}}, {{4, 5, 6}}};
static char s_one[] = "one", s_zwei[] = "zwei \xc3\xbc", s_empty[] = "";
static char s_latin[] = "latin \xc3\xa9", s_b[] = "b";
static char *mv_s[] = {s_one, s_zwei, s_empty};
static char *mv_s8[] = {s_latin, s_b};
static struct mapi_binary mv_b[] = {{3, (uint8_t *)"\x00\x01\x02"}, {0, NULL}};
static struct guid clsid = {{0xde, 0xad, 0xbe, 0xef, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9}};
static struct guid psetid_common = {{0x08, 0x20, 0x06, 0x00, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0x46}};

/* A message exercising every type the encoder supports. */
static struct mapi_message *sample(pool_t *pool, int embed_depth)
{
	struct mapi_message *m = msg_new(pool);
	m->names = pool_alloc(pool, sizeof(*m->names));
	array_init(m->names, pool);
	struct mapi_propname n1 = {.guid = psetid_common, .kind = MNID_ID, .lid = 0x8580};
	struct mapi_propname n2 = {.guid = clsid, .kind = MNID_STRING, .name = pool_strdup(pool, "X-Custom-H\xc3\xa9" "ader")};
	array_push(m->names, n1);
	array_push(m->names, n2);

	propset_t p;
	array_init(&p, pool);
	union mapi_pvalue v = {0};
	add(&p, 0x001a001f, S("IPM.Note"));
	add(&p, 0x0037001f, S("Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x98\x80"));
	add(&p, 0x0e1d001e, S("Latin \xc3\xa9t\xc3\xa9")); /* PT_STRING8, CP1252-safe */
	add(&p, 0x1000001f, S("Body line 1\r\nline 2"));
	add(&p, 0x00170003, L(2));
	v = (union mapi_pvalue){0}; v.i = -7; add(&p, PROP_TAG(PT_SHORT, 0x6601), v);
	v = (union mapi_pvalue){0}; v.b = true; add(&p, PROP_TAG(PT_BOOLEAN, 0x6602), v);
	v = (union mapi_pvalue){0}; v.flt = 1.25f; add(&p, PROP_TAG(PT_FLOAT, 0x6603), v);
	v = (union mapi_pvalue){0}; v.dbl = -3.5; add(&p, PROP_TAG(PT_DOUBLE, 0x6604), v);
	v = (union mapi_pvalue){0}; v.cur = 123456789; add(&p, PROP_TAG(PT_CURRENCY, 0x6605), v);
	v = (union mapi_pvalue){0}; v.at = 45000.5; add(&p, PROP_TAG(PT_APPTIME, 0x6606), v);
	v = (union mapi_pvalue){0}; v.li = -(1LL << 50); add(&p, PROP_TAG(PT_I8, 0x6608), v);
	v = (union mapi_pvalue){0}; v.ft = 133000000000000000ULL; add(&p, 0x00390040, v);
	v = (union mapi_pvalue){0}; v.guid = &clsid; add(&p, PROP_TAG(PT_CLSID, 0x6609), v);
	add(&p, 0x300b0102, B("\x01\x00\xff", 3));
	add(&p, PROP_TAG(PT_BINARY, 0x660a), B(NULL, 0));
	v = (union mapi_pvalue){0}; v.mv.count = 3; v.mv.i = mv_i; add(&p, PROP_TAG(PT_MV_SHORT, 0x6610), v);
	v = (union mapi_pvalue){0}; v.mv.count = 2; v.mv.l = mv_l; add(&p, PROP_TAG(PT_MV_LONG, 0x6611), v);
	v = (union mapi_pvalue){0}; v.mv.count = 2; v.mv.dbl = mv_d; add(&p, PROP_TAG(PT_MV_DOUBLE, 0x6612), v);
	v = (union mapi_pvalue){0}; v.mv.count = 2; v.mv.li = mv_li; add(&p, PROP_TAG(PT_MV_I8, 0x6613), v);
	v = (union mapi_pvalue){0}; v.mv.count = 1; v.mv.ft = mv_ft; add(&p, PROP_TAG(PT_MV_SYSTIME, 0x6614), v);
	v = (union mapi_pvalue){0}; v.mv.count = 2; v.mv.guid = mv_g; add(&p, PROP_TAG(PT_MV_CLSID, 0x6615), v);
	v = (union mapi_pvalue){0}; v.mv.count = 3; v.mv.str = mv_s; add(&p, PROP_TAG(PT_MV_UNICODE, 0x6616), v);
	v = (union mapi_pvalue){0}; v.mv.count = 2; v.mv.str = mv_s8; add(&p, PROP_TAG(PT_MV_STRING8, 0x6617), v);
	v = (union mapi_pvalue){0}; v.mv.count = 2; v.mv.bin = mv_b; add(&p, PROP_TAG(PT_MV_BINARY, 0x6618), v);
	add(&p, PROP_TAG(PT_LONG, 0x8000), L(42));                 /* names[0] */
	add(&p, PROP_TAG(PT_UNICODE, 0x8001), S("named string"));  /* names[1] */
	m->props = fin(&p);

	for (int i = 0; i < 2; i++) {
		propset_t r;
		array_init(&r, pool);
		add(&r, 0x0c150003, L(i + 1));
		add(&r, 0x3001001f, S(i == 0 ? "Alice \xc3\x84" : "Bob"));
		add(&r, 0x3002001f, S("SMTP"));
		add(&r, 0x3003001f, S(i == 0 ? "alice@example.org" : "bob@example.org"));
		struct mapi_recipient *rc = array_push_new(&m->recipients);
		rc->props = fin(&r);
	}
	static const char data1[] = "hello attachment\n";
	static unsigned char data2[3000];
	for (size_t i = 0; i < sizeof(data2); i++)
		data2[i] = (unsigned char)(i * 7);
	for (int i = 0; i < 2; i++) {
		propset_t a;
		array_init(&a, pool);
		add(&a, 0x37050003, L(1));
		add(&a, 0x3704001f, S(i == 0 ? "hello.txt" : "DATA~1.BIN"));
		add(&a, 0x3707001f, S(i == 0 ? "hello.txt" : "data file.bin"));
		add(&a, 0x370e001f, S(i == 0 ? "text/plain" : "application/octet-stream"));
		add(&a, 0x370b0003, L(-1));
		add(&a, 0x37010102, i == 0 ? B(data1, sizeof(data1) - 1) : B(data2, sizeof(data2)));
		struct mapi_attachment *at = array_push_new(&m->attachments);
		at->props = fin(&a);
	}
	if (embed_depth > 0) {
		propset_t a;
		array_init(&a, pool);
		add(&a, 0x37050003, L(5));
		add(&a, 0x3001001f, S("Forwarded message"));
		add(&a, 0x370b0003, L(-1));
		struct mapi_attachment *at = array_push_new(&m->attachments);
		at->props = fin(&a);
		struct mapi_message *inner = sample(pool, embed_depth - 1);
		inner->names = m->names;
		at->embedded = inner;
	}
	return m;
}

static bool value_eq(uint16_t type, const union mapi_pvalue *a, const union mapi_pvalue *b)
{
	switch (type) {
	case PT_SHORT: return a->i == b->i;
	case PT_LONG: return a->l == b->l;
	case PT_FLOAT: return a->flt == b->flt;
	case PT_DOUBLE: return a->dbl == b->dbl;
	case PT_APPTIME: return a->at == b->at;
	case PT_CURRENCY: return a->cur == b->cur;
	case PT_ERROR: return a->err == b->err;
	case PT_BOOLEAN: return a->b == b->b;
	case PT_I8: return a->li == b->li;
	case PT_SYSTIME: return a->ft == b->ft;
	case PT_CLSID: return memcmp(a->guid, b->guid, 16) == 0;
	case PT_STRING8: case PT_UNICODE: return strcmp(a->str, b->str) == 0;
	case PT_BINARY: case PT_OBJECT:
		return a->bin.cb == b->bin.cb && (a->bin.cb == 0 || memcmp(a->bin.pb, b->bin.pb, a->bin.cb) == 0);
	}
	if ((type & PT_MV_FLAG) == 0 || a->mv.count != b->mv.count)
		return false;
	uint16_t base = type & ~PT_MV_FLAG;
	for (uint32_t k = 0; k < a->mv.count; k++) {
		bool eq;
		switch (base) {
		case PT_SHORT: eq = a->mv.i[k] == b->mv.i[k]; break;
		case PT_LONG: eq = a->mv.l[k] == b->mv.l[k]; break;
		case PT_DOUBLE: eq = a->mv.dbl[k] == b->mv.dbl[k]; break;
		case PT_I8: eq = a->mv.li[k] == b->mv.li[k]; break;
		case PT_SYSTIME: eq = a->mv.ft[k] == b->mv.ft[k]; break;
		case PT_CLSID: eq = memcmp(&a->mv.guid[k], &b->mv.guid[k], 16) == 0; break;
		case PT_STRING8: case PT_UNICODE: eq = strcmp(a->mv.str[k], b->mv.str[k]) == 0; break;
		case PT_BINARY:
			eq = a->mv.bin[k].cb == b->mv.bin[k].cb &&
			     (a->mv.bin[k].cb == 0 || memcmp(a->mv.bin[k].pb, b->mv.bin[k].pb, a->mv.bin[k].cb) == 0);
			break;
		default: eq = false;
		}
		if (!eq)
			return false;
	}
	return true;
}

/* Every property of want is in got with the same tag and value. */
static void assert_props_kept(const struct mapi_propvals *want, const struct mapi_propvals *got)
{
	for (uint32_t i = 0; i < want->count; i++) {
		const struct mapi_propval *g = find(got, want->vals[i].tag);
		if (g == NULL || !value_eq(PROP_TYPE(want->vals[i].tag), &want->vals[i].v, &g->v)) {
			fprintf(stderr, "property 0x%08x lost or changed\n", want->vals[i].tag);
			fail();
		}
	}
}

static void assert_message_kept(const struct mapi_message *a, const struct mapi_message *b)
{
	assert_props_kept(&a->props, &b->props);
	assert_int_equal(a->recipients.n, b->recipients.n);
	for (size_t i = 0; i < a->recipients.n; i++)
		assert_props_kept(&a->recipients.v[i].props, &b->recipients.v[i].props);
	assert_int_equal(a->attachments.n, b->attachments.n);
	for (size_t i = 0; i < a->attachments.n; i++) {
		assert_props_kept(&a->attachments.v[i].props, &b->attachments.v[i].props);
		assert_int_equal(a->attachments.v[i].embedded == NULL, b->attachments.v[i].embedded == NULL);
		if (a->attachments.v[i].embedded != NULL)
			assert_message_kept(a->attachments.v[i].embedded, b->attachments.v[i].embedded);
	}
}

/* With TNEF_SEED_DIR set, streams are saved there for fuzz/corpus/tnef. */
static void save_seed(const char *name, const struct buf *b)
{
	const char *dir = getenv("TNEF_SEED_DIR");
	if (dir == NULL)
		return;
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (f != NULL) {
		fwrite(b->data, 1, b->len, f);
		fclose(f);
	}
}

static void test_roundtrip(void **state)
{
	pool_t *pool = pool_new("tnef", 0);
	struct mapi_message *m = sample(pool, 2);
	struct buf out;
	const char *error = NULL;
	buf_init(&out, NULL);
	assert_int_equal(tnef_encode(m, 0x1234, 0, &out, &error), 1);
	struct mapi_message *d = NULL;
	struct tnef_info info;
	assert_int_equal(tnef_decode(pool, out.data, out.len, NULL, &d, &info, &error), 1);
	assert_int_equal(info.key, 0x1234);
	assert_int_equal(info.version, 0x00010000);
	assert_int_equal(info.oem_codepage, 1252);
	assert_int_equal(info.checksum_errors, 0);
	assert_int_equal(info.ignored, 0);
	/* Named properties come back through the decoded name table. */
	assert_int_equal(d->names->n, 2);
	assert_true(guid_eq(&d->names->v[0].guid, &psetid_common));
	assert_int_equal(d->names->v[0].lid, 0x8580);
	assert_int_equal(d->names->v[1].kind, MNID_STRING);
	assert_string_equal(d->names->v[1].name, "X-Custom-H\xc3\xa9" "ader");
	assert_message_kept(m, d);
	/* The embedded message's method is set and its tree shares the names. */
	assert_int_equal(get(&d->attachments.v[2].props, 0x37050003)->v.l, 5);
	assert_ptr_equal(d->attachments.v[2].embedded->names, d->names);
	/* The decoded message encodes again to the same content (property
	 * order within an object may differ). */
	struct buf again;
	buf_init(&again, NULL);
	assert_int_equal(tnef_encode(d, 0x1234, 0, &again, &error), 1);
	struct mapi_message *d2 = NULL;
	assert_int_equal(tnef_decode(pool, again.data, again.len, NULL, &d2, &info, &error), 1);
	assert_message_kept(m, d2);
	assert_int_equal(again.len, out.len);
	/* PT_ERROR and empty multi-values are not written (tnef.h). */
	propset_t e;
	array_init(&e, pool);
	union mapi_pvalue ev = {0};
	ev.err = 0x8004010f;
	add(&e, PROP_TAG(PT_ERROR, 0x6607), ev);
	add(&e, 0x0037001f, S("x"));
	ev = (union mapi_pvalue){0};
	add(&e, PROP_TAG(PT_MV_LONG, 0x6619), ev);
	struct mapi_message *em = msg_new(pool);
	em->props = fin(&e);
	buf_reset(&again);
	assert_int_equal(tnef_encode(em, 1, 0, &again, &error), 1);
	assert_int_equal(tnef_decode(pool, again.data, again.len, NULL, &d2, &info, &error), 1);
	assert_int_equal(d2->props.count, 1);
	save_seed("sample-embedded.tnef", &out);
	buf_deinit(&again);
	buf_deinit(&out);
	pool_free(&pool);
}

static void test_encode_errors(void **state)
{
	pool_t *pool = pool_new("tnef", 0);
	struct mapi_message *m = msg_new(pool);
	propset_t p;
	array_init(&p, pool);
	add(&p, PROP_TAG(PT_LONG, 0x8005), L(1)); /* no name table */
	m->props = fin(&p);
	struct buf out;
	const char *error = NULL;
	buf_init(&out, NULL);
	assert_int_equal(tnef_encode(m, 1, 0, &out, &error), -1);
	assert_string_equal(error, "TNEF: named property missing from the name table");
	buf_reset(&out);
	p.n = 0;
	add(&p, PROP_TAG(PT_SRESTRICTION, 0x6000), L(0));
	m->props = fin(&p);
	assert_int_equal(tnef_encode(m, 1, 0, &out, &error), -1);
	assert_int_equal(tnef_encode(m, 1, 424242, &out, &error), -1);
	assert_string_equal(error, "TNEF: unsupported code page");
	buf_deinit(&out);
	pool_free(&pool);
}

/* Appends a legacy attribute with a correct checksum. */
static void attr(struct buf *b, uint8_t level, uint32_t id, const void *data, size_t n)
{
	const unsigned char *p = data;
	uint16_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum = (uint16_t)(sum + p[i]);
	buf_append_byte(b, level);
	buf_append_u32le(b, id);
	buf_append_u32le(b, (uint32_t)n);
	buf_append(b, data, n);
	buf_append_u16le(b, sum);
}

static void date(unsigned char *d, int y, int mo, int day, int h, int mi, int s)
{
	int v[7] = {y, mo, day, h, mi, s, 2};
	for (int i = 0; i < 7; i++) {
		d[2 * i] = (unsigned char)v[i];
		d[2 * i + 1] = (unsigned char)(v[i] >> 8);
	}
}

static void legacy_stream(struct buf *b)
{
	unsigned char tmp[64];
	buf_append_u32le(b, TNEF_SIGNATURE);
	buf_append_u16le(b, 0x0001);
	attr(b, 1, ATT_TNEF_VERSION, "\x00\x00\x01\x00", 4);
	attr(b, 1, ATT_OEM_CODEPAGE, "\xe3\x04\x00\x00\x00\x00\x00\x00", 8); /* 1251 */
	attr(b, 1, ATT_MESSAGE_CLASS, "IPM.Microsoft Mail.Note", 24);
	attr(b, 1, ATT_PRIORITY, "\x01\x00", 2);
	attr(b, 1, ATT_SUBJECT, "\xcf\xf0\xe8\xe2\xe5\xf2", 7); /* "Привет" in CP1251 */
	date(tmp, 2004, 2, 17, 11, 25, 35);
	attr(b, 1, ATT_DATE_SENT, tmp, 14);
	attr(b, 1, ATT_MESSAGE_ID, "757BB19CDE936A40", 17);
	attr(b, 1, ATT_BODY, "legacy body", 12);
	/* attFrom: TRP with name and "SMTP:address". */
	static const char from[] = "\x04\x00\x20\x00\x05\x00\x11\x00" "Anne\0" "SMTP:a@b.example";
	attr(b, 1, ATT_FROM, from, sizeof(from) - 1);
	attr(b, 1, 0x00061234, "??", 2); /* unknown: ignored */
	attr(b, 2, ATT_ATTACH_REND_DATA, "\x01\x00\x05\x00\x00\x00\xff\xff\xff\xff\x00\x00\x00\x00", 14);
	attr(b, 2, ATT_ATTACH_TITLE, "A.TXT", 6);
	date(tmp, 2020, 12, 31, 23, 59, 58);
	attr(b, 2, ATT_ATTACH_MODIFY_DATE, tmp, 14);
	attr(b, 2, ATT_ATTACH_DATA, "abc", 3);
	attr(b, 2, ATT_ATTACH_REND_DATA, "\x02\x00\x09\x00\x00\x00\xff\xff\xff\xff\x00\x00\x00\x00", 14);
}

static void test_legacy_attributes(void **state)
{
	pool_t *pool = pool_new("tnef", 0);
	struct buf b;
	buf_init(&b, NULL);
	legacy_stream(&b);
	struct mapi_message *m;
	struct tnef_info info;
	const char *error = NULL;
	save_seed("legacy.tnef", &b);
	assert_int_equal(tnef_decode(pool, b.data, b.len, NULL, &m, &info, &error), 1);
	assert_int_equal(info.oem_codepage, 1251);
	assert_int_equal(info.ignored, 1);
	assert_string_equal(get(&m->props, 0x001a001f)->v.str, "IPM.Note");
	assert_string_equal(get(&m->props, 0x0037001f)->v.str, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
	assert_int_equal(get(&m->props, 0x00170003)->v.l, 2);
	/* 2004-02-17 11:25:35 UTC */
	assert_int_equal(get(&m->props, 0x00390040)->v.ft, 127214907350000000ULL);
	assert_int_equal(get(&m->props, 0x300b0102)->v.bin.cb, 8);
	assert_memory_equal(get(&m->props, 0x300b0102)->v.bin.pb, "\x75\x7b\xb1\x9c\xde\x93\x6a\x40", 8);
	assert_string_equal(get(&m->props, 0x1000001f)->v.str, "legacy body");
	assert_string_equal(get(&m->props, 0x0c1a001f)->v.str, "Anne");
	assert_string_equal(get(&m->props, 0x0c1e001f)->v.str, "SMTP");
	assert_string_equal(get(&m->props, 0x0c1f001f)->v.str, "a@b.example");
	assert_int_equal(m->attachments.n, 2);
	const struct mapi_propvals *a = &m->attachments.v[0].props;
	assert_int_equal(get(a, 0x37050003)->v.l, 1);
	assert_int_equal(get(a, 0x370b0003)->v.l, 5);
	assert_string_equal(get(a, 0x3704001f)->v.str, "A.TXT");
	assert_int_equal(get(a, 0x37010102)->v.bin.cb, 3);
	assert_non_null(find(a, 0x30080040));
	assert_int_equal(get(&m->attachments.v[1].props, 0x37050003)->v.l, 6); /* OLE */
	buf_deinit(&b);
	pool_free(&pool);
}

static void test_props_override_legacy(void **state)
{
	/* attMsgProps' PR_SUBJECT wins over attSubject, in either order. */
	pool_t *pool = pool_new("tnef", 0);
	for (int order = 0; order < 2; order++) {
		struct buf b, props;
		buf_init(&b, NULL);
		buf_init(&props, NULL);
		buf_append_u32le(&props, 1);
		buf_append_u32le(&props, 0x0037001f);
		buf_append_u32le(&props, 1);
		buf_append_u32le(&props, 6);
		buf_append(&props, "n\0e\0w\0", 6);
		buf_append_fill(&props, 0, 2);
		buf_append_u32le(&b, TNEF_SIGNATURE);
		buf_append_u16le(&b, 1);
		if (order == 0)
			attr(&b, 1, ATT_SUBJECT, "old", 4);
		attr(&b, 1, ATT_MSG_PROPS, props.data, props.len);
		if (order == 1)
			attr(&b, 1, ATT_SUBJECT, "old", 4);
		struct mapi_message *m;
		const char *error = NULL;
		assert_int_equal(tnef_decode(pool, b.data, b.len, NULL, &m, NULL, &error), 1);
		assert_string_equal(get(&m->props, 0x0037001f)->v.str, "new");
		buf_deinit(&b);
		buf_deinit(&props);
	}
	pool_free(&pool);
}

static void test_embedded_codepage_scoped(void **state)
{
	/* An embedded stream's attOemCodepage (1251) does not leak into the
	 * parent's later attributes (1252). */
	pool_t *pool = pool_new("tnef", 0);
	struct buf inner, props, b;
	buf_init(&inner, NULL);
	buf_init(&props, NULL);
	buf_init(&b, NULL);
	buf_append_u32le(&inner, TNEF_SIGNATURE);
	buf_append_u16le(&inner, 1);
	attr(&inner, 1, ATT_OEM_CODEPAGE, "\xe3\x04\x00\x00\x00\x00\x00\x00", 8);
	attr(&inner, 1, ATT_SUBJECT, "\xe9", 2);
	static const uint8_t iid[16] = {0x07, 0x03, 0x02, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0x46};
	buf_append_u32le(&props, 1);
	buf_append_u32le(&props, 0x3701000d);
	buf_append_u32le(&props, 1);
	buf_append_u32le(&props, (uint32_t)(16 + inner.len));
	buf_append(&props, iid, 16);
	buf_append(&props, inner.data, inner.len);
	buf_append_fill(&props, 0, (4 - (inner.len & 3)) & 3);
	buf_append_u32le(&b, TNEF_SIGNATURE);
	buf_append_u16le(&b, 1);
	attr(&b, 1, ATT_OEM_CODEPAGE, "\xe4\x04\x00\x00\x00\x00\x00\x00", 8);
	attr(&b, 2, ATT_ATTACH_REND_DATA, "\x01\x00\x00\x00\x00\x00\xff\xff\xff\xff\x00\x00\x00\x00", 14);
	attr(&b, 2, ATT_ATTACHMENT, props.data, props.len);
	attr(&b, 1, ATT_SUBJECT, "\xe9", 2);
	struct mapi_message *m;
	const char *error = NULL;
	assert_int_equal(tnef_decode(pool, b.data, b.len, NULL, &m, NULL, &error), 1);
	assert_string_equal(get(&m->props, 0x0037001f)->v.str, "\xc3\xa9");
	assert_non_null(m->attachments.v[0].embedded);
	assert_string_equal(get(&m->attachments.v[0].embedded->props, 0x0037001f)->v.str, "\xd0\xb9");
	assert_int_equal(get(&m->attachments.v[0].props, 0x37050003)->v.l, 5);
	buf_deinit(&inner);
	buf_deinit(&props);
	buf_deinit(&b);
	pool_free(&pool);
}

static void test_checksum_tolerated(void **state)
{
	pool_t *pool = pool_new("tnef", 0);
	struct buf b;
	buf_init(&b, NULL);
	legacy_stream(&b);
	b.data[b.len - 1] ^= 0x55; /* the last attribute's checksum */
	b.data[20] ^= 0x01;         /* inside attTnefVersion's checksum */
	struct mapi_message *m;
	struct tnef_info info;
	const char *error = NULL;
	assert_int_equal(tnef_decode(pool, b.data, b.len, NULL, &m, &info, &error), 1);
	assert_int_equal(info.checksum_errors, 2);
	assert_int_equal(m->attachments.n, 2);
	buf_deinit(&b);
	pool_free(&pool);
}

static void test_malformed(void **state)
{
	pool_t *pool = pool_new("tnef", 0);
	struct mapi_message *m;
	const char *error = NULL;
	assert_int_equal(tnef_decode(pool, "", 0, NULL, &m, NULL, &error), -1);
	assert_string_equal(error, "TNEF: bad signature");
	assert_int_equal(tnef_decode(pool, "\x78\x9f\x3e\x23\x01", 5, NULL, &m, NULL, &error), -1);
	/* Every truncation of a real stream fails cleanly or decodes. */
	struct mapi_message *src = sample(pool, 1);
	struct buf out;
	buf_init(&out, NULL);
	assert_int_equal(tnef_encode(src, 1, 0, &out, &error), 1);
	for (size_t n = 0; n < out.len; n += (n < 400 ? 1 : 97)) {
		pool_t *p2 = pool_new("t", 0);
		int rc = tnef_decode(p2, out.data, n, NULL, &m, NULL, &error);
		assert_true(rc == -1 || rc == 1);
		pool_free(&p2);
	}
	/* A property count far beyond the data. */
	struct buf b, props;
	buf_init(&b, NULL);
	buf_init(&props, NULL);
	buf_append_u32le(&props, 0x7fffffff);
	buf_append_u32le(&b, TNEF_SIGNATURE);
	buf_append_u16le(&b, 1);
	attr(&b, 1, ATT_MSG_PROPS, props.data, props.len);
	assert_int_equal(tnef_decode(pool, b.data, b.len, NULL, &m, NULL, &error), -1);
	assert_string_equal(error, "TNEF: property count beyond the data or the limit");
	/* An attribute length beyond the data. */
	buf_reset(&b);
	buf_append_u32le(&b, TNEF_SIGNATURE);
	buf_append_u16le(&b, 1);
	buf_append_byte(&b, 1);
	buf_append_u32le(&b, ATT_SUBJECT);
	buf_append_u32le(&b, 0xfffffff0);
	assert_int_equal(tnef_decode(pool, b.data, b.len, NULL, &m, NULL, &error), -1);
	assert_string_equal(error, "TNEF: attribute longer than the data");
	/* Recipient rows beyond the data, and a bad single-value count. */
	buf_reset(&b);
	buf_reset(&props);
	buf_append_u32le(&props, 1000);
	buf_append_u32le(&b, TNEF_SIGNATURE);
	buf_append_u16le(&b, 1);
	attr(&b, 1, ATT_RECIP_TABLE, props.data, props.len);
	assert_int_equal(tnef_decode(pool, b.data, b.len, NULL, &m, NULL, &error), -1);
	buf_reset(&b);
	buf_reset(&props);
	buf_append_u32le(&props, 1);
	buf_append_u32le(&props, 0x0037001f);
	buf_append_u32le(&props, 2);
	buf_append_u32le(&b, TNEF_SIGNATURE);
	buf_append_u16le(&b, 1);
	attr(&b, 1, ATT_MSG_PROPS, props.data, props.len);
	assert_int_equal(tnef_decode(pool, b.data, b.len, NULL, &m, NULL, &error), -1);
	assert_string_equal(error, "TNEF: bad value count for a single value");
	buf_deinit(&b);
	buf_deinit(&props);
	buf_deinit(&out);
	pool_free(&pool);
}

static void test_limits(void **state)
{
	pool_t *pool = pool_new("tnef", 0);
	struct mapi_message *src = sample(pool, 3), *m;
	struct buf out;
	const char *error = NULL;
	buf_init(&out, NULL);
	assert_int_equal(tnef_encode(src, 1, 0, &out, &error), 1);
	struct tnef_limits lim = {.max_depth = 2};
	assert_int_equal(tnef_decode(pool, out.data, out.len, &lim, &m, NULL, &error), -1);
	assert_string_equal(error, "TNEF: embedded messages nested too deep");
	lim.max_depth = 3;
	assert_int_equal(tnef_decode(pool, out.data, out.len, &lim, &m, NULL, &error), 1);
	lim = (struct tnef_limits){.max_attachments = 2};
	assert_int_equal(tnef_decode(pool, out.data, out.len, &lim, &m, NULL, &error), -1);
	assert_string_equal(error, "TNEF: too many attachments");
	lim = (struct tnef_limits){.max_recipients = 1};
	assert_int_equal(tnef_decode(pool, out.data, out.len, &lim, &m, NULL, &error), -1);
	lim = (struct tnef_limits){.max_props = 10};
	assert_int_equal(tnef_decode(pool, out.data, out.len, &lim, &m, NULL, &error), -1);
	lim = (struct tnef_limits){.max_size = out.len - 1};
	assert_int_equal(tnef_decode(pool, out.data, out.len, &lim, &m, NULL, &error), -1);
	assert_string_equal(error, "TNEF: stream above the size limit");
	buf_deinit(&out);
	pool_free(&pool);
}

static int read_file(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	buf_init(b, NULL);
	char tmp[4096];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_append(b, tmp, n);
	fclose(f);
	return 0;
}

static void test_tnef_tool_extracts(void **state)
{
	if (system("command -v tnef >/dev/null 2>&1") != 0) {
		fprintf(stderr, "Debian's tnef is not installed (scripts/deps.sh)\n");
		fail();
	}
	pool_t *pool = pool_new("tnef", 0);
	struct mapi_message *m = sample(pool, 1);
	struct buf out;
	const char *error = NULL;
	buf_init(&out, NULL);
	assert_int_equal(tnef_encode(m, 1, 0, &out, &error), 1);
	save_seed("sample.tnef", &out);
	char dir[] = "/tmp/hermod-tnef-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[512], cmd[1200];
	snprintf(path, sizeof(path), "%s/winmail.dat", dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fwrite(out.data, 1, out.len, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && mkdir out && tnef -f winmail.dat -C out", dir);
	assert_int_equal(system(cmd), 0);
	for (int i = 0; i < 2; i++) {
		const struct mapi_propval *name = get(&m->attachments.v[i].props, 0x3707001f);
		const struct mapi_propval *data = get(&m->attachments.v[i].props, 0x37010102);
		char file[700];
		snprintf(file, sizeof(file), "%s/out/%s", dir, name->v.str);
		struct buf got;
		if (read_file(file, &got) < 0) {
			fprintf(stderr, "tnef did not extract %s\n", file);
			fail();
		}
		assert_int_equal(got.len, data->v.bin.cb);
		assert_memory_equal(got.data, data->v.bin.pb, got.len);
		buf_deinit(&got);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	buf_deinit(&out);
	pool_free(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_legacy_attributes),
		cmocka_unit_test(test_props_override_legacy),
		cmocka_unit_test(test_embedded_codepage_scoped),
		cmocka_unit_test(test_checksum_tolerated),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_tnef_tool_extracts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
