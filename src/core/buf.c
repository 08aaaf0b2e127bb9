#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "core/xalloc.h"

static const unsigned char buf_empty[1] = {0};

void buf_init(struct buf *b, pool_t *pool)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->pool = pool;
}

void buf_deinit(struct buf *b)
{
	if (b->pool == NULL)
		free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

struct buf *buf_new(pool_t *pool, size_t initial)
{
	struct buf *b = pool_alloc(pool, sizeof(*b));
	buf_init(b, pool);
	if (initial > 0)
		buf_reserve(b, initial);
	return b;
}

void buf_reserve(struct buf *b, size_t extra)
{
	/* +1 keeps room for the terminating NUL. */
	size_t need = xadd(xadd(b->len, extra), 1);
	if (need <= b->cap)
		return;
	size_t ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = xmul(ncap, 2);
	if (b->pool == NULL)
		b->data = xrealloc(b->data, ncap);
	else
		b->data = pool_realloc(b->pool, b->data, b->cap, ncap);
	b->cap = ncap;
}

void buf_append(struct buf *b, const void *data, size_t len)
{
	if (len == 0) {
		if (b->data == NULL)
			buf_reserve(b, 0), b->data[0] = '\0';
		return;
	}
	const unsigned char *src = data;
	/* The source may lie inside this buffer, which reserving can move. */
	if (b->data != NULL && src >= b->data && src < b->data + b->cap) {
		size_t off = (size_t)(src - b->data);
		buf_reserve(b, len);
		src = b->data + off;
	} else {
		buf_reserve(b, len);
	}
	memmove(b->data + b->len, src, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void buf_append_str(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_append_slice(struct buf *b, struct slice s)
{
	buf_append(b, s.ptr, s.len);
}

void buf_append_byte(struct buf *b, unsigned char c)
{
	buf_reserve(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void buf_append_fill(struct buf *b, unsigned char c, size_t n)
{
	buf_reserve(b, n);
	memset(b->data + b->len, c, n);
	b->len += n;
	b->data[b->len] = '\0';
}

unsigned char *buf_append_space(struct buf *b, size_t len)
{
	buf_reserve(b, len);
	unsigned char *p = b->data + b->len;
	memset(p, 0, len);
	b->len += len;
	b->data[b->len] = '\0';
	return p;
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	size_t avail = b->cap > b->len ? b->cap - b->len : 0;
	int n = vsnprintf(avail ? (char *)b->data + b->len : NULL, avail, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	if ((size_t)n >= avail) {
		buf_reserve(b, (size_t)n);
		vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	}
	b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void buf_append_u16le(struct buf *b, uint16_t v)
{
	unsigned char x[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
	buf_append(b, x, 2);
}

void buf_append_u32le(struct buf *b, uint32_t v)
{
	unsigned char x[4];
	for (int i = 0; i < 4; i++)
		x[i] = (unsigned char)(v >> (8 * i));
	buf_append(b, x, 4);
}

void buf_append_u64le(struct buf *b, uint64_t v)
{
	unsigned char x[8];
	for (int i = 0; i < 8; i++)
		x[i] = (unsigned char)(v >> (8 * i));
	buf_append(b, x, 8);
}

void buf_truncate(struct buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_truncate(b, 0);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

const char *buf_cstr(const struct buf *b)
{
	return b->data != NULL ? (const char *)b->data : (const char *)buf_empty;
}

char *buf_steal(struct buf *b)
{
	if (b->data == NULL)
		buf_reserve(b, 0), b->data[0] = '\0';
	char *r = (char *)b->data;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return r;
}

bool slice_eq(struct slice a, struct slice b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool slice_eq_str(struct slice a, const char *s)
{
	return slice_eq(a, SLICE_STR(s));
}

bool slice_case_eq_str(struct slice a, const char *s)
{
	size_t n = strlen(s);
	if (n != a.len)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_tolower(a.ptr[i]) != ascii_tolower((unsigned char)s[i]))
			return false;
	return true;
}

bool slice_starts_with(struct slice a, const char *prefix)
{
	size_t n = strlen(prefix);
	return a.len >= n && memcmp(a.ptr, prefix, n) == 0;
}

bool slice_case_starts_with(struct slice a, const char *prefix)
{
	size_t n = strlen(prefix);
	return a.len >= n && slice_case_eq_str(SLICE(a.ptr, n), prefix);
}

long slice_find(struct slice hay, struct slice needle)
{
	if (needle.len == 0)
		return 0;
	if (needle.len > hay.len)
		return -1;
	const unsigned char *p = memmem(hay.ptr, hay.len, needle.ptr, needle.len);
	return p ? (long)(p - hay.ptr) : -1;
}

static bool slice_is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

struct slice slice_trim(struct slice s)
{
	while (s.len > 0 && slice_is_space(s.ptr[0]))
		s.ptr++, s.len--;
	while (s.len > 0 && slice_is_space(s.ptr[s.len - 1]))
		s.len--;
	return s;
}

char *slice_dup(pool_t *pool, struct slice s)
{
	char *r = pool_alloc(pool, s.len + 1);
	if (s.len)
		memcpy(r, s.ptr, s.len);
	return r;
}
