/* Fuzzes the restriction parser ([MS-OXCDATA] 2.12) in both count widths,
 * then validates, formats and evaluates what it accepts, and checks that
 * writing is stable: parse(write(parse(x))) writes the same bytes. The
 * first input byte selects the width. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mapi/propval.h"
#include "mapi/restriction.h"
#include "mapi/tags.h"
#include "mapi/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mapi_propvals props;
static pool_t *props_pool;

static int get(void *ctx, uint32_t tag, const struct mapi_propval **pv_r)
{
	*pv_r = mapi_propvals_get(&props, tag);
	return *pv_r != NULL ? 1 : 0;
}

static uint32_t sub(void *ctx, uint32_t subobject, const struct mapi_restriction *res,
	const struct mapi_res_eval *parent, bool *match_r)
{
	/* One sub-row: the same properties. */
	struct mapi_res_eval e = {.get = get, .ctx = ctx, .depth = parent->depth,
		.nodes_used = parent->nodes_used};

	return mapi_restriction_eval(res, &e, match_r);
}

static void init_props(void)
{
	static int32_t mvl[] = {1, 2, 3};
	static char s1[] = "alpha", s2[] = "Beta";
	static char *mvs[] = {s1, s2};
	union mapi_pvalue v;

	if (props_pool != NULL)
		return;
	props_pool = pool_new("fuzz-props", 0);
	mapi_propvals_set_str(props_pool, &props, PR_SUBJECT, "Hello World");
	mapi_propvals_set_long(props_pool, &props, PR_MESSAGE_FLAGS, 5);
	mapi_propvals_set_long(props_pool, &props, PR_IMPORTANCE, 1);
	mapi_propvals_set_bin(props_pool, &props, PR_SEARCH_KEY, "SMTP:X", 6);
	mapi_propvals_set_systime(props_pool, &props, PR_CREATION_TIME, 1000);
	v.mv = (struct mapi_mv){.count = 3, .l = mvl};
	mapi_propvals_set(props_pool, &props, PROP_TAG(PT_MV_LONG, 0x8001), &v);
	v.mv = (struct mapi_mv){.count = 2, .str = mvs};
	mapi_propvals_set(props_pool, &props, PROP_TAG(PT_MV_UNICODE, 0x8002), &v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	init_props();
	enum mapi_wire_width width = (data[0] & 1) ? MAPI_WIRE_EXT : MAPI_WIRE_ROP;
	pool_t *pool = pool_new("fuzz", 0);
	struct mapi_reader r;
	struct mapi_restriction *res;

	mapi_reader_init(&r, data + 1, size - 1, pool, width);
	if (mapi_get_restriction(&r, &res) == 0) {
		struct buf out, out2, text;
		struct mapi_writer w = {.out = &out, .width = width};
		struct mapi_res_eval e = {.get = get, .sub = sub, .pool = pool};
		bool m;

		buf_init(&out, NULL);
		buf_init(&out2, NULL);
		buf_init(&text, NULL);
		(void)mapi_restriction_validate(res, NULL);
		mapi_restriction_format(res, &text);
		(void)mapi_restriction_eval(res, &e, &m);
		if (mapi_put_restriction(&w, res) == 0) {
			struct mapi_reader r2;
			struct mapi_restriction *res2;

			mapi_reader_init(&r2, out.data, out.len, pool, width);
			if (mapi_get_restriction(&r2, &res2) != 0 || r2.pos != out.len)
				abort();
			w.out = &out2;
			if (mapi_put_restriction(&w, res2) != 0 || !slice_eq(buf_slice(&out),
									 buf_slice(&out2)))
				abort();
		}
		buf_deinit(&out);
		buf_deinit(&out2);
		buf_deinit(&text);
	}
	pool_free(&pool);
	return 0;
}
