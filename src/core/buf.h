/* A binary-safe growable byte buffer and a non-owning slice.
 *
 * struct buf keeps a NUL byte after its data (not counted in len) so that
 * buf_cstr() is always a valid C string for text. Appending may move the
 * data: never keep a pointer into a buffer across an append.
 *
 * A buffer allocates from a pool when given one (and then needs no deinit)
 * or from the heap (then buf_deinit frees it). */
#ifndef CORE_BUF_H
#define CORE_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pool.h"

struct buf {
	unsigned char *data;
	size_t len;
	size_t cap;
	pool_t *pool; /* NULL: heap */
};

/* A view of bytes owned by someone else. */
struct slice {
	const unsigned char *ptr;
	size_t len;
};

#define SLICE(p, n) ((struct slice){(const unsigned char *)(p), (n)})
#define SLICE_STR(s) ((struct slice){(const unsigned char *)(s), strlen(s)})
#define SLICE_LIT(s) ((struct slice){(const unsigned char *)("" s), sizeof(s) - 1})

void buf_init(struct buf *b, pool_t *pool);
/* Frees heap memory (no-op for pool buffers) and empties the buffer. */
void buf_deinit(struct buf *b);
/* A new buffer allocated from pool (never NULL). */
struct buf *buf_new(pool_t *pool, size_t initial);

/* Makes room for at least extra more bytes. */
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_append_str(struct buf *b, const char *s);
void buf_append_slice(struct buf *b, struct slice s);
void buf_append_byte(struct buf *b, unsigned char c);
/* Appends n copies of c. */
void buf_append_fill(struct buf *b, unsigned char c, size_t n);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Little-endian fixed-width integers (MAPI wire order). */
void buf_append_u16le(struct buf *b, uint16_t v);
void buf_append_u32le(struct buf *b, uint32_t v);
void buf_append_u64le(struct buf *b, uint64_t v);
/* Returns a pointer to len new, zeroed bytes at the end (valid until the
 * next append). */
unsigned char *buf_append_space(struct buf *b, size_t len);

/* Removes everything from len on; len beyond the end is ignored. */
void buf_truncate(struct buf *b, size_t len);
/* Removes the first n bytes (all if n >= len). */
void buf_consume(struct buf *b, size_t n);
static inline void buf_reset(struct buf *b)
{
	buf_truncate(b, 0);
}
/* The contents as a NUL-terminated string (binary data may hold NULs). */
const char *buf_cstr(const struct buf *b);
static inline struct slice buf_slice(const struct buf *b)
{
	return SLICE(b->data, b->len);
}
/* Transfers the heap data to the caller (who frees it) and empties b.
 * The result is NUL-terminated. Only for heap buffers. */
char *buf_steal(struct buf *b);

/* Slice helpers. */
bool slice_eq(struct slice a, struct slice b);
bool slice_eq_str(struct slice a, const char *s);
bool slice_case_eq_str(struct slice a, const char *s);
bool slice_starts_with(struct slice a, const char *prefix);
bool slice_case_starts_with(struct slice a, const char *prefix);
/* Returns the index of the first occurrence of needle, or -1. */
long slice_find(struct slice hay, struct slice needle);
/* Removes ASCII whitespace at both ends. */
struct slice slice_trim(struct slice s);
/* A NUL-terminated copy in pool. */
char *slice_dup(pool_t *pool, struct slice s);

#endif
