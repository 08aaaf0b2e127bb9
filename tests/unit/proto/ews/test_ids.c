/* EWS ids (src/proto/ews/ids.c): every kind round-trips, and everything
 * that is not exactly one of our ids is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/base64.h"
#include "proto/ews/ews_private.h"

static const struct guid mbx = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}};

static void roundtrip(const struct ews_id *in)
{
	pool_t *pool = pool_new("test", 1024);
	const char *text = ews_id_format(pool, in);
	struct ews_id out;
	assert_int_equal(ews_id_parse(text, &out), 0);
	assert_int_equal(out.kind, in->kind);
	assert_true(guid_eq(&out.mailbox, &in->mailbox));
	assert_true(out.fid == in->fid);
	assert_true(out.mid == (in->kind == EWS_ID_FOLDER ? 0 : in->mid));
	assert_int_equal(out.attach_num, in->kind == EWS_ID_ATTACH ? in->attach_num : 0);
	pool_free(&pool);
}

static void test_roundtrip(void **state)
{
	(void)state;
	struct ews_id f = {.kind = EWS_ID_FOLDER, .mailbox = mbx, .fid = mapi_id_make(1, 0x1c)};
	roundtrip(&f);
	struct ews_id m = {.kind = EWS_ID_ITEM, .mailbox = mbx, .fid = mapi_id_make(1, 0x1c),
		.mid = mapi_id_make(1, 0xffffffffffffull)};
	roundtrip(&m);
	struct ews_id a = m;
	a.kind = EWS_ID_ATTACH;
	a.attach_num = 0;
	roundtrip(&a);
	a.attach_num = UINT32_MAX;
	roundtrip(&a);
	/* a folder id carries no MID even when the struct has one */
	struct ews_id f2 = f;
	f2.mid = 77;
	roundtrip(&f2);
}

/* Encodes raw bytes as an id text. */
static const char *raw_id(pool_t *pool, const void *raw, size_t len)
{
	struct buf b;
	buf_init(&b, pool);
	base64_encode(raw, len, &b);
	return buf_cstr(&b);
}

static void test_refused(void **state)
{
	(void)state;
	pool_t *pool = pool_new("test", 1024);
	struct ews_id id;
	assert_int_equal(ews_id_parse("", &id), -1);
	assert_int_equal(ews_id_parse("!!!!", &id), -1);
	assert_int_equal(ews_id_parse("AA==", &id), -1);
	char big[200];
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(ews_id_parse(big, &id), -1);

	unsigned char raw[64] = {1, 'M'};
	memcpy(raw + 2, mbx.b, 16);
	raw[18] = 1; /* FID replica 1 */
	raw[24] = 5;
	raw[26] = 1; /* MID */
	raw[32] = 9;
	assert_int_equal(ews_id_parse(raw_id(pool, raw, 34), &id), 0);
	assert_int_equal(id.kind, EWS_ID_ITEM);
	/* one byte more or less */
	assert_int_equal(ews_id_parse(raw_id(pool, raw, 33), &id), -1);
	assert_int_equal(ews_id_parse(raw_id(pool, raw, 35), &id), -1);
	/* a folder id must be exactly 26 bytes */
	raw[1] = 'F';
	assert_int_equal(ews_id_parse(raw_id(pool, raw, 26), &id), 0);
	assert_int_equal(ews_id_parse(raw_id(pool, raw, 34), &id), -1);
	/* attachments 38 */
	raw[1] = 'A';
	assert_int_equal(ews_id_parse(raw_id(pool, raw, 38), &id), 0);
	assert_int_equal(ews_id_parse(raw_id(pool, raw, 34), &id), -1);
	/* unknown kind, unknown version */
	raw[1] = 'Z';
	assert_int_equal(ews_id_parse(raw_id(pool, raw, 34), &id), -1);
	raw[1] = 'M';
	raw[0] = 2;
	assert_int_equal(ews_id_parse(raw_id(pool, raw, 34), &id), -1);
	raw[0] = 1;
	/* zero FID or MID */
	unsigned char z[34];
	memcpy(z, raw, 34);
	memset(z + 18, 0, 8);
	assert_int_equal(ews_id_parse(raw_id(pool, z, 34), &id), -1);
	memcpy(z, raw, 34);
	memset(z + 26, 0, 8);
	assert_int_equal(ews_id_parse(raw_id(pool, z, 34), &id), -1);
	pool_free(&pool);
}

static void test_change_key(void **state)
{
	(void)state;
	pool_t *pool = pool_new("test", 1024);
	uint8_t ck[22] = {0xff, 0, 1};
	struct mapi_binary b = {sizeof(ck), ck};
	const char *t = ews_change_key(pool, &b);
	struct buf back;
	buf_init(&back, pool);
	assert_int_equal(base64_decode(t, strlen(t), &back), 0);
	assert_int_equal(back.len, 22);
	assert_memory_equal(back.data, ck, 22);
	assert_string_equal(ews_change_key(pool, NULL), "");
	pool_free(&pool);
}

static void test_sync_state(void **state)
{
	(void)state;
	pool_t *pool = pool_new("test", 1024);
	struct ews_sync_state in = {.kind = 'I', .mailbox = mbx, .fid = mapi_id_make(1, 0x1c),
		.state = 0xffffffffffffffffull};
	const char *text = ews_sync_state_format(pool, &in);
	struct ews_sync_state out;
	assert_int_equal(ews_sync_state_parse(text, &out), 0);
	assert_int_equal(out.kind, 'I');
	assert_true(guid_eq(&out.mailbox, &mbx));
	assert_true(out.fid == in.fid && out.state == in.state);
	in.kind = 'H';
	in.state = 0;
	assert_int_equal(ews_sync_state_parse(ews_sync_state_format(pool, &in), &out), 0);
	assert_int_equal(out.kind, 'H');
	assert_true(out.state == 0);
	/* 35 octets exactly: version 1, 'S', kind H or I, FID not 0 */
	uint8_t raw[36];
	struct buf b;
	buf_init(&b, pool);
	base64_decode(text, strlen(text), &b);
	assert_int_equal(b.len, 35);
	memcpy(raw, b.data, 35);
	raw[35] = 0;
	assert_int_equal(ews_sync_state_parse(raw_id(pool, raw, 34), &out), -1);
	assert_int_equal(ews_sync_state_parse(raw_id(pool, raw, 36), &out), -1);
	uint8_t z[35];
	memcpy(z, raw, 35);
	z[0] = 2;
	assert_int_equal(ews_sync_state_parse(raw_id(pool, z, 35), &out), -1);
	memcpy(z, raw, 35);
	z[1] = 'M';
	assert_int_equal(ews_sync_state_parse(raw_id(pool, z, 35), &out), -1);
	memcpy(z, raw, 35);
	z[2] = 'F';
	assert_int_equal(ews_sync_state_parse(raw_id(pool, z, 35), &out), -1);
	memcpy(z, raw, 35);
	memset(z + 19, 0, 8);
	assert_int_equal(ews_sync_state_parse(raw_id(pool, z, 35), &out), -1);
	assert_int_equal(ews_sync_state_parse("", &out), -1);
	assert_int_equal(ews_sync_state_parse("!!!!", &out), -1);
	/* an item id is not a sync state, nor the other way round */
	struct ews_id m = {.kind = EWS_ID_ITEM, .mailbox = mbx, .fid = 1, .mid = 2};
	assert_int_equal(ews_sync_state_parse(ews_id_format(pool, &m), &out), -1);
	struct ews_id id;
	assert_int_equal(ews_id_parse(text, &id), -1);
	char big[200];
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(ews_sync_state_parse(big, &out), -1);
	pool_free(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_change_key),
		cmocka_unit_test(test_sync_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
