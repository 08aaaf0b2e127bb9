/* Fuzzes the ID parsers of mapi/ids.h: PredecessorChangeList, XID,
 * LongTermID and folder/message EntryIDs. An accepted PCL must re-encode
 * canonically (parse, write, parse, write gives the same bytes) and include
 * itself; EntryIDs must re-encode to the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mapi/ids.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pool_t *pool = pool_new("fuzz", 0);
	struct mapi_pcl pcl, pcl2;
	struct buf a, b;
	struct mapi_xid xid;
	struct mapi_long_term_id lt;
	struct mapi_folder_eid fe;
	struct mapi_message_eid me;

	buf_init(&a, NULL);
	buf_init(&b, NULL);
	if (mapi_pcl_parse(pool, data, size, &pcl) == 0) {
		mapi_pcl_put(&pcl, &a);
		if (mapi_pcl_parse(pool, a.data, a.len, &pcl2) != 0)
			abort();
		mapi_pcl_put(&pcl2, &b);
		if (!slice_eq(buf_slice(&a), buf_slice(&b)) || !mapi_pcl_includes(&pcl, &pcl2) ||
			mapi_pcl_compare(&pcl, &pcl2) != MAPI_PCL_EQUAL)
			abort();
		mapi_pcl_merge(pool, &pcl2, &pcl);
		if (pcl2.count != pcl.count)
			abort();
	}
	buf_reset(&a);
	if (mapi_xid_parse(data, size, &xid) == 0) {
		mapi_xid_put(&xid, &a);
		if (a.len != size || memcmp(a.data, data, size) != 0)
			abort();
	}
	buf_reset(&a);
	if (mapi_long_term_id_parse(data, size, &lt) == 0) {
		mapi_long_term_id_put(&lt, &a);
		if (a.len != size || memcmp(a.data, data, size) != 0)
			abort();
	}
	buf_reset(&a);
	if (mapi_folder_eid_parse(data, size, &fe) == 0) {
		mapi_folder_eid_put(&fe, &a);
		if (a.len != size || memcmp(a.data, data, size) != 0)
			abort();
	}
	buf_reset(&a);
	if (mapi_message_eid_parse(data, size, &me) == 0) {
		mapi_message_eid_put(&me, &a);
		if (a.len != size || memcmp(a.data, data, size) != 0)
			abort();
	}
	(void)mapi_eid_object_type(data, size);
	buf_deinit(&a);
	buf_deinit(&b);
	pool_free(&pool);
	return 0;
}
