/* IDs: GlobalCounter packing ([MS-OXCDATA] 2.2.1.1), LongTermID
 * (2.2.1.3.1), XIDs and PCLs ([MS-OXCFXICS] 2.2.2.2, 2.2.2.4), folder and
 * message EntryIDs (2.2.4.1, 2.2.4.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "mapi/ids.h"

static pool_t *pool;
static struct guid g1, g2, g3;

static int setup(void **state)
{
	pool = pool_new("test", 0);
	assert_int_equal(guid_parse("11111111-2222-3333-4444-555555555555", &g1), 0);
	assert_int_equal(guid_parse("22222222-2222-3333-4444-555555555555", &g2), 0);
	assert_int_equal(guid_parse("33333333-2222-3333-4444-555555555555", &g3), 0);
	return 0;
}

static int teardown(void **state)
{
	pool_free(&pool);
	return 0;
}

static void test_id_packing(void **state)
{
	/* FID bytes on the wire: ReplicaId LE (01 00), GlobalCounter BE. */
	mapi_id_t fid = mapi_id_make(1, 0x000000000102ULL);
	uint8_t wire[8];
	uint8_t gc[6];

	for (int i = 0; i < 8; i++)
		wire[i] = (uint8_t)(fid >> (8 * i));
	assert_memory_equal(wire, "\x01\x00\x00\x00\x00\x00\x01\x02", 8);
	assert_int_equal(mapi_id_replid(fid), 1);
	assert_int_equal(mapi_id_globcnt(fid), 0x102);
	mapi_globcnt_put(0x0000a1b2c3d4ULL, gc);
	assert_memory_equal(gc, "\x00\x00\xa1\xb2\xc3\xd4", 6);
	assert_int_equal(mapi_globcnt_get(gc), 0xa1b2c3d4ULL);
	assert_int_equal(mapi_id_globcnt(mapi_id_make(5, MAPI_GLOBCNT_MAX)), MAPI_GLOBCNT_MAX);
}

static void test_long_term_id(void **state)
{
	struct mapi_long_term_id lt = {g1, 0x1234}, back;
	struct buf b;

	buf_init(&b, NULL);
	mapi_long_term_id_put(&lt, &b);
	assert_int_equal(b.len, MAPI_LONG_TERM_ID_SIZE);
	assert_memory_equal(b.data + 16, "\x00\x00\x00\x00\x12\x34\x00\x00", 8);
	assert_int_equal(mapi_long_term_id_parse(b.data, b.len, &back), 0);
	assert_true(guid_eq(&back.database_guid, &g1));
	assert_int_equal(back.globcnt, 0x1234);
	assert_int_equal(mapi_long_term_id_parse(b.data, b.len - 1, &back), -1);
	b.data[23] = 1;
	assert_int_equal(mapi_long_term_id_parse(b.data, b.len, &back), -1);
	buf_deinit(&b);
}

static void test_xid(void **state)
{
	struct mapi_xid x, y;
	struct buf b;
	uint64_t gc;

	/* A source key: replica GUID + the object's 6-byte GlobalCounter. */
	mapi_xid_from_globcnt(&g1, 0x10, &x);
	buf_init(&b, NULL);
	mapi_xid_put(&x, &b);
	assert_int_equal(b.len, 22);
	assert_memory_equal(b.data, g1.b, 16);
	assert_memory_equal(b.data + 16, "\x00\x00\x00\x00\x00\x10", 6);
	assert_int_equal(mapi_xid_parse(b.data, b.len, &y), 0);
	assert_int_equal(mapi_xid_globcnt(&y, &gc), 0);
	assert_int_equal(gc, 0x10);
	assert_int_equal(mapi_xid_compare_local(&x, &y), 0);
	/* LocalId sizes 1..8 only. */
	assert_int_equal(mapi_xid_parse(b.data, 16, &y), -1);
	assert_int_equal(mapi_xid_parse(b.data, 17, &y), 0);
	assert_int_equal(mapi_xid_globcnt(&y, &gc), -1);
	buf_append_fill(&b, 0, 4);
	assert_int_equal(mapi_xid_parse(b.data, 25, &y), -1);
	assert_int_equal(mapi_xid_parse(b.data, 24, &y), 0);
	buf_deinit(&b);
}

static struct mapi_pcl pcl_of(const struct guid *g, uint64_t gc, const struct guid *h,
	uint64_t hc)
{
	struct mapi_pcl p = {0};
	struct mapi_xid x;

	mapi_xid_from_globcnt(g, gc, &x);
	mapi_pcl_add(pool, &p, &x);
	if (h != NULL) {
		mapi_xid_from_globcnt(h, hc, &x);
		mapi_pcl_add(pool, &p, &x);
	}
	return p;
}

static void test_pcl(void **state)
{
	struct mapi_pcl a = pcl_of(&g2, 5, &g1, 7), b = pcl_of(&g1, 6, NULL, 0), c, parsed;
	struct buf out;

	/* Ordered by GUID; one entry per namespace. */
	assert_int_equal(a.count, 2);
	assert_true(guid_eq(&a.xids[0].guid, &g1));
	buf_init(&out, NULL);
	mapi_pcl_put(&a, &out);
	assert_int_equal(out.len, 2 * 23);
	assert_int_equal(out.data[0], 22);
	assert_int_equal(mapi_pcl_parse(pool, out.data, out.len, &parsed), 0);
	assert_int_equal(mapi_pcl_compare(&parsed, &a), MAPI_PCL_EQUAL);
	/* a (g1:7, g2:5) includes b (g1:6): a is newer. */
	assert_true(mapi_pcl_includes(&a, &b));
	assert_false(mapi_pcl_includes(&b, &a));
	assert_int_equal(mapi_pcl_compare(&a, &b), MAPI_PCL_NEWER);
	assert_int_equal(mapi_pcl_compare(&b, &a), MAPI_PCL_OLDER);
	/* A change on a third replica that did not see a: conflict. */
	c = pcl_of(&g1, 6, &g3, 1);
	assert_int_equal(mapi_pcl_compare(&a, &c), MAPI_PCL_CONFLICT);
	/* Merge resolves it: the union includes both. */
	mapi_pcl_merge(pool, &c, &a);
	assert_int_equal(c.count, 3);
	assert_true(mapi_pcl_includes(&c, &a));
	assert_int_equal(mapi_pcl_compare(&c, &a), MAPI_PCL_NEWER);
	/* Adding an older LocalId changes nothing. */
	struct mapi_xid old;
	mapi_xid_from_globcnt(&g1, 1, &old);
	mapi_pcl_add(pool, &c, &old);
	uint64_t gc;
	assert_int_equal(mapi_xid_globcnt(&c.xids[0], &gc), 0);
	assert_int_equal(gc, 7);
	/* Empty PCLs: equal; everything includes the empty one. */
	struct mapi_pcl empty = {0};
	assert_int_equal(mapi_pcl_compare(&empty, &empty), MAPI_PCL_EQUAL);
	assert_true(mapi_pcl_includes(&a, &empty));
	assert_int_equal(mapi_pcl_parse(pool, "", 0, &parsed), 0);
	assert_int_equal(parsed.count, 0);
	/* Malformed: bad XidSize, truncation. */
	assert_int_equal(mapi_pcl_parse(pool, "\x10", 1, &parsed), -1);
	assert_int_equal(mapi_pcl_parse(pool, out.data, out.len - 1, &parsed), -1);
	out.data[0] = 25;
	assert_int_equal(mapi_pcl_parse(pool, out.data, out.len, &parsed), -1);
	/* A repeated namespace keeps the larger LocalId. */
	buf_reset(&out);
	struct mapi_pcl one = pcl_of(&g1, 9, NULL, 0), two = pcl_of(&g1, 3, NULL, 0);
	mapi_pcl_put(&two, &out);
	mapi_pcl_put(&one, &out);
	assert_int_equal(mapi_pcl_parse(pool, out.data, out.len, &parsed), 0);
	assert_int_equal(parsed.count, 1);
	assert_int_equal(mapi_xid_globcnt(&parsed.xids[0], &gc), 0);
	assert_int_equal(gc, 9);
	buf_deinit(&out);
}

static void test_entryids(void **state)
{
	struct mapi_folder_eid f = {g1, EITLT_PRIVATE_FOLDER, g2, 0x0a0b}, fb;
	struct mapi_message_eid m = {g1, EITLT_PRIVATE_MESSAGE, g2, 0x0a0b, g3, 0x77}, mb;
	struct buf b;

	buf_init(&b, NULL);
	mapi_folder_eid_put(&f, &b);
	assert_int_equal(b.len, MAPI_FOLDER_EID_SIZE);
	assert_memory_equal(b.data, "\0\0\0\0", 4);
	assert_memory_equal(b.data + 4, g1.b, 16);
	assert_memory_equal(b.data + 20, "\x01\x00", 2);
	assert_memory_equal(b.data + 22, g2.b, 16);
	assert_memory_equal(b.data + 38, "\x00\x00\x00\x00\x0a\x0b\x00\x00", 8);
	assert_int_equal(mapi_eid_object_type(b.data, b.len), EITLT_PRIVATE_FOLDER);
	assert_int_equal(mapi_folder_eid_parse(b.data, b.len, &fb), 0);
	assert_true(guid_eq(&fb.provider_uid, &g1));
	assert_true(guid_eq(&fb.database_guid, &g2));
	assert_int_equal(fb.globcnt, 0x0a0b);
	/* A folder EntryID is not a message EntryID, nor with bad flags. */
	assert_int_equal(mapi_message_eid_parse(b.data, b.len, &mb), -1);
	b.data[0] = 1;
	assert_int_equal(mapi_folder_eid_parse(b.data, b.len, &fb), -1);
	assert_int_equal(mapi_eid_object_type(b.data, b.len), -1);
	buf_reset(&b);
	mapi_message_eid_put(&m, &b);
	assert_int_equal(b.len, MAPI_MESSAGE_EID_SIZE);
	assert_memory_equal(b.data + 20, "\x07\x00", 2);
	assert_memory_equal(b.data + 46, g3.b, 16);
	assert_memory_equal(b.data + 62, "\x00\x00\x00\x00\x00\x77\x00\x00", 8);
	assert_int_equal(mapi_message_eid_parse(b.data, b.len, &mb), 0);
	assert_int_equal(mb.folder_globcnt, 0x0a0b);
	assert_int_equal(mb.message_globcnt, 0x77);
	assert_true(guid_eq(&mb.message_database_guid, &g3));
	assert_int_equal(mapi_folder_eid_parse(b.data, b.len, &fb), -1);
	assert_int_equal(mapi_message_eid_parse(b.data, b.len - 1, &mb), -1);
	b.data[20] = 0x02;
	assert_int_equal(mapi_message_eid_parse(b.data, b.len, &mb), -1);
	assert_int_equal(mapi_eid_object_type(b.data, 21), -1);
	buf_deinit(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_packing),
		cmocka_unit_test(test_long_term_id),
		cmocka_unit_test(test_xid),
		cmocka_unit_test(test_pcl),
		cmocka_unit_test(test_entryids),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
