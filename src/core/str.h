/* Small string helpers that the C library lacks or gets wrong for protocols
 * (locale-independent case folding, bounded number parsing). */
#ifndef CORE_STR_H
#define CORE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ASCII-only case-insensitive comparisons (never locale dependent). */
int str_casecmp(const char *a, const char *b);
int str_ncasecmp(const char *a, const char *b, size_t n);
bool str_case_eq(const char *a, const char *b);
bool str_starts_with(const char *s, const char *prefix);
bool str_case_starts_with(const char *s, const char *prefix);
bool str_ends_with(const char *s, const char *suffix);
static inline int ascii_tolower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}
static inline int ascii_toupper(int c)
{
	return (c >= 'a' && c <= 'z') ? c - 32 : c;
}
/* Lower-cases ASCII letters in place; returns s. */
char *str_lower(char *s);

/* Parses a whole string of decimal digits into [0, max]; no sign, no
 * spaces, no leading '+'. 0 or -1 (empty, junk, overflow, above max). */
int str_to_u64(const char *s, uint64_t max, uint64_t *r);
/* The same over exactly len bytes. */
int str_to_u64_n(const char *s, size_t len, uint64_t max, uint64_t *r);
int str_to_i64(const char *s, int64_t *r);

/* Copies src into dst[size] with truncation and NUL; returns strlen(src). */
size_t str_lcpy(char *dst, const char *src, size_t size);

/* Constant-time comparison of two byte strings of equal length. */
bool str_const_eq(const void *a, const void *b, size_t len);

#endif
