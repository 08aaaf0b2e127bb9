#include "core/str.h"

#include <string.h>

int str_casecmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		int ca = ascii_tolower((unsigned char)*a), cb = ascii_tolower((unsigned char)*b);
		if (ca != cb || ca == 0)
			return ca - cb;
	}
}

int str_ncasecmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int ca = ascii_tolower((unsigned char)a[i]), cb = ascii_tolower((unsigned char)b[i]);
		if (ca != cb || ca == 0)
			return ca - cb;
	}
	return 0;
}

bool str_case_eq(const char *a, const char *b)
{
	return str_casecmp(a, b) == 0;
}

bool str_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_case_starts_with(const char *s, const char *prefix)
{
	return str_ncasecmp(s, prefix, strlen(prefix)) == 0;
}

bool str_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

char *str_lower(char *s)
{
	for (char *p = s; *p; p++)
		*p = (char)ascii_tolower((unsigned char)*p);
	return s;
}

int str_to_u64_n(const char *s, size_t len, uint64_t max, uint64_t *r)
{
	if (len == 0)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*r = v;
	return 0;
}

int str_to_u64(const char *s, uint64_t max, uint64_t *r)
{
	return str_to_u64_n(s, strlen(s), max, r);
}

int str_to_i64(const char *s, int64_t *r)
{
	uint64_t v;
	if (*s == '-') {
		if (str_to_u64(s + 1, (uint64_t)INT64_MAX + 1, &v) < 0)
			return -1;
		*r = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
		return 0;
	}
	if (str_to_u64(s, INT64_MAX, &v) < 0)
		return -1;
	*r = (int64_t)v;
	return 0;
}

size_t str_lcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);
	if (size > 0) {
		size_t m = n < size - 1 ? n : size - 1;
		memcpy(dst, src, m);
		dst[m] = '\0';
	}
	return n;
}

bool str_const_eq(const void *a, const void *b, size_t len)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;
	for (size_t i = 0; i < len; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}
