/* Streams on message and attachment properties (MS-OXCPRPT 2.2.9-2.2.17,
 * RopOpenStream and friends). A write stream keeps small values in memory
 * and spills to a blob file once they reach blob_threshold; committing
 * sets the property on the object's pending changes. */
#include <string.h>

#include "core/utf.h"
#include "core/xalloc.h"
#include "store/store_int.h"

struct store_stream {
	struct store *store;
	struct sprops *props; /* the object's property set */
	pool_t *pool;         /* the object's pool */
	uint32_t tag;         /* canonical */
	bool is_string;
	bool column;          /* a message's indexed property: keep inline */
	enum store_stream_mode mode;
	uint64_t pos, size;
	/* read */
	bool in_blob;
	struct store_blob_ref blob;
	const uint8_t *mem;
	/* write */
	struct buf wbuf;
	struct store_blob_writer *w;
	uint8_t carry[4];
	size_t ncarry;
	bool bad_utf8;
	bool committed;
};

uint32_t store_stream_open_on(struct store *store, struct sprops *props, pool_t *pool,
	uint32_t tag, bool writable, bool column, enum store_stream_mode mode,
	struct store_stream **st_r);

uint32_t store_stream_open_on(struct store *store, struct sprops *props, pool_t *pool,
	uint32_t tag, bool writable, bool column, enum store_stream_mode mode,
	struct store_stream **st_r)
{
	uint32_t ctag = store_tag_canon(tag);
	uint16_t t = PROP_TYPE(ctag);
	if (t != PT_BINARY && t != PT_UNICODE)
		return ecNotSupported;
	if (mode != STORE_STREAM_READ && mode != STORE_STREAM_WRITE)
		return ecInvalidParam;
	if (mode == STORE_STREAM_WRITE && !writable)
		return ecAccessDenied;
	struct store_stream *st = xcalloc(1, sizeof(*st));
	st->store = store;
	st->props = props;
	st->pool = pool;
	st->tag = ctag;
	st->is_string = t == PT_UNICODE;
	st->column = column;
	st->mode = mode;
	buf_init(&st->wbuf, NULL);
	if (mode == STORE_STREAM_READ) {
		struct sprop *sp = store_sprops_find(props, ctag);
		if (sp == NULL || PROP_TYPE(sp->tag) != t) {
			free(st);
			return ecNotFound;
		}
		if (sp->in_blob) {
			st->in_blob = true;
			st->blob = sp->blob;
			st->size = sp->blob.size;
		} else if (st->is_string) {
			st->mem = (const uint8_t *)sp->v.str;
			st->size = strlen(sp->v.str);
		} else {
			st->mem = sp->v.bin.pb;
			st->size = sp->v.bin.cb;
		}
	}
	*st_r = st;
	return ecSuccess;
}

uint64_t store_stream_size(const struct store_stream *st)
{
	return st->size;
}

uint32_t store_stream_seek(struct store_stream *st, uint64_t pos)
{
	/* Write streams only append (a new value is being built). */
	if (st->mode == STORE_STREAM_WRITE ? pos != st->size : pos > st->size)
		return ecInvalidParam;
	st->pos = pos;
	return ecSuccess;
}

uint32_t store_stream_read(struct store_stream *st, size_t len, struct buf *out, size_t *read_r)
{
	*read_r = 0;
	if (st->mode != STORE_STREAM_READ)
		return ecAccessDenied;
	if (st->pos >= st->size)
		return ecSuccess;
	if (len > st->size - st->pos)
		len = (size_t)(st->size - st->pos);
	if (st->in_blob) {
		uint32_t ec = store_blob_read(st->store, &st->blob, st->pos, len, out);
		if (ec != ecSuccess)
			return ec;
	} else {
		buf_append(out, st->mem + st->pos, len);
	}
	st->pos += len;
	*read_r = len;
	return ecSuccess;
}

/* Incremental UTF-8 check: validates what is complete, keeps an unfinished
 * trailing sequence (at most 3 bytes) for the next piece. */
static void utf8_feed(struct store_stream *st, const uint8_t *p, size_t n)
{
	if (st->bad_utf8)
		return;
	if (memchr(p, '\0', n) != NULL) {
		st->bad_utf8 = true;
		return;
	}
	struct buf b;
	buf_init(&b, NULL);
	buf_append(&b, st->carry, st->ncarry);
	buf_append(&b, p, n);
	size_t cut = b.len;
	/* Find a lead byte in the last three whose sequence is unfinished. */
	for (size_t back = 1; back <= 3 && back <= b.len; back++) {
		uint8_t c = b.data[b.len - back];
		if ((c & 0xc0) == 0x80)
			continue;
		size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		if (need > back)
			cut = b.len - back;
		break;
	}
	if (!utf8_valid(b.data, cut))
		st->bad_utf8 = true;
	st->ncarry = b.len - cut;
	memcpy(st->carry, b.data + cut, st->ncarry);
	buf_deinit(&b);
}

uint32_t store_stream_write(struct store_stream *st, const void *data, size_t len)
{
	if (st->mode != STORE_STREAM_WRITE || st->committed)
		return ecAccessDenied;
	if (data == NULL && len > 0)
		return ecInvalidParam;
	if (st->size + len > st->store->set.max_value_size)
		return ecTooBig;
	if (st->is_string)
		utf8_feed(st, data, len);
	if (st->w == NULL && !st->column && st->size + len >= st->store->set.blob_threshold) {
		st->w = store_blob_writer_new(st->store, NULL);
		if (st->w == NULL)
			return ecError;
		uint32_t ec = store_blob_writer_write(st->w, st->wbuf.data, st->wbuf.len);
		if (ec != ecSuccess)
			return ec;
		buf_deinit(&st->wbuf);
	}
	if (st->w != NULL) {
		uint32_t ec = store_blob_writer_write(st->w, data, len);
		if (ec != ecSuccess)
			return ec;
	} else {
		buf_append(&st->wbuf, data, len);
	}
	st->size += len;
	st->pos = st->size;
	return ecSuccess;
}

uint32_t store_stream_commit(struct store_stream *st)
{
	if (st->mode != STORE_STREAM_WRITE || st->committed)
		return ecAccessDenied;
	if (st->is_string && (st->bad_utf8 || st->ncarry > 0))
		return ecInvalidParam;
	if (store_sprops_find(st->props, st->tag) == NULL &&
		st->props->a.n >= st->store->set.max_props_per_object)
		return ecTooBig;
	struct sprop sp = {.tag = st->tag};
	if (st->w != NULL) {
		uint32_t ec = store_blob_writer_finish(&st->w, &sp.blob);
		if (ec != ecSuccess)
			return ec;
		sp.in_blob = true;
	} else if (st->is_string) {
		sp.v.str = pool_strndup(st->pool, (const char *)(st->wbuf.data ? st->wbuf.data
									: (uint8_t *)""),
			st->wbuf.len);
	} else {
		sp.v.bin.cb = (uint32_t)st->wbuf.len;
		sp.v.bin.pb = st->wbuf.data;
	}
	store_sprops_set(st->props, st->pool, &sp);
	st->committed = true;
	return ecSuccess;
}

void store_stream_close(struct store_stream **stp)
{
	struct store_stream *st = *stp;
	if (st == NULL)
		return;
	*stp = NULL;
	store_blob_writer_abort(&st->w);
	buf_deinit(&st->wbuf);
	free(st);
}
