/* Fuzzes the property value parsers of [MS-OXCDATA]: TaggedPropertyValue
 * lists, property rows, PropertyName, SortOrderSet and TypedString, in both
 * count widths. Accepted input must re-encode stably (parse, write, parse,
 * write gives the same bytes) and format without crashing. The first byte
 * selects the width and the structure. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mapi/namedprop.h"
#include "mapi/propval.h"
#include "mapi/restriction.h"
#include "mapi/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void stable(struct buf *first, pool_t *pool, enum mapi_wire_width width,
	int (*reparse_write)(struct mapi_reader *, struct mapi_writer *))
{
	struct mapi_reader r;
	struct buf second;
	struct mapi_writer w = {.out = &second, .width = width};

	buf_init(&second, NULL);
	mapi_reader_init(&r, first->data, first->len, pool, width);
	if (reparse_write(&r, &w) != 0 || r.pos != first->len ||
		!slice_eq(buf_slice(first), buf_slice(&second)))
		abort();
	buf_deinit(&second);
}

static int rw_propvals(struct mapi_reader *r, struct mapi_writer *w)
{
	struct mapi_propvals v;

	return mapi_get_propvals(r, &v) == 0 ? mapi_put_propvals(w, &v) : -1;
}

static int rw_propname(struct mapi_reader *r, struct mapi_writer *w)
{
	struct mapi_propname n;

	return mapi_get_propname(r, &n) == 0 ? mapi_put_propname(w, &n) : -1;
}

static int rw_sort(struct mapi_reader *r, struct mapi_writer *w)
{
	struct mapi_sort_order so;

	return mapi_get_sort_order(r, &so) == 0 ? mapi_put_sort_order(w, &so) : -1;
}

static uint32_t row_cols[] = {PROP_TAG(PT_UNICODE, 0x0037), PROP_TAG(PT_LONG, 0x0e07),
	PROP_TAG(PT_UNSPECIFIED, 0x0e08), PROP_TAG(PT_MV_BINARY, 0x8000),
	PROP_TAG(PT_SYSTIME, 0x0e06)};
static const struct mapi_tags row_tags = {5, row_cols};

static int rw_row(struct mapi_reader *r, struct mapi_writer *w)
{
	struct mapi_propvals row;
	const struct mapi_propval *vals[5];

	if (mapi_get_row(r, &row_tags, &row) != 0)
		return -1;
	for (uint32_t i = 0; i < 5; i++)
		vals[i] = PROP_TYPE(row.vals[i].tag) == PT_NULL ? NULL : &row.vals[i];
	return mapi_put_row(w, &row_tags, vals);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum mapi_wire_width width = (data[0] & 1) ? MAPI_WIRE_EXT : MAPI_WIRE_ROP;
	unsigned mode = (data[0] >> 1) % 5;
	pool_t *pool = pool_new("fuzz", 0);
	struct mapi_reader r;
	struct buf out, text;
	struct mapi_writer w = {.out = &out, .width = width};
	int (*rw)(struct mapi_reader *, struct mapi_writer *) = NULL;

	buf_init(&out, NULL);
	buf_init(&text, NULL);
	mapi_reader_init(&r, data + 1, size - 1, pool, width);
	switch (mode) {
	case 0: {
		struct mapi_propvals v;

		if (mapi_get_propvals(&r, &v) == 0) {
			for (uint32_t i = 0; i < v.count; i++) {
				struct mapi_propval copy;

				mapi_propval_format(&v.vals[i], 16, &text);
				(void)mapi_pvalue_size(PROP_TYPE(v.vals[i].tag), &v.vals[i].v);
				if (mapi_propval_copy(pool, &copy, &v.vals[i]) == 0 &&
					mapi_pvalue_compare(PROP_TYPE(copy.tag), &copy.v, &v.vals[i].v,
						MAPI_CMP_IGNORECASE) != 0 &&
					PROP_TYPE(copy.tag) != PT_DOUBLE &&
					PROP_TYPE(copy.tag) != PT_FLOAT &&
					PROP_TYPE(copy.tag) != PT_APPTIME)
					abort();
			}
			if (mapi_put_propvals(&w, &v) == 0)
				rw = rw_propvals;
		}
		break;
	}
	case 1: {
		struct mapi_propname n;

		if (mapi_get_propname(&r, &n) == 0) {
			mapi_propname_key(&n, &text);
			(void)mapi_np_lookup(&n);
			if (mapi_put_propname(&w, &n) == 0 && n.kind != MNID_NONE)
				rw = rw_propname;
		}
		break;
	}
	case 2: {
		struct mapi_sort_order so;

		if (mapi_get_sort_order(&r, &so) == 0) {
			(void)mapi_sort_order_validate(&so, NULL);
			if (mapi_put_sort_order(&w, &so) == 0)
				rw = rw_sort;
		}
		break;
	}
	case 3:
		if (rw_row(&r, &w) == 0)
			rw = rw_row;
		break;
	default: {
		char *s;

		while (mapi_reader_left(&r) > 0 && mapi_get_typed_string(&r, &s) == 0)
			(void)mapi_put_typed_string(&w, s);
		break;
	}
	}
	if (rw != NULL)
		stable(&out, pool, width, rw);
	buf_deinit(&out);
	buf_deinit(&text);
	pool_free(&pool);
	return 0;
}
