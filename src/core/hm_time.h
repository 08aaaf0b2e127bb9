/* Time: FILETIME conversion, RFC 5322 and ISO 8601 formatting and parsing,
 * monotonic clocks. (Named hm_time.h so it never shadows <time.h>.) */
#ifndef CORE_HM_TIME_H
#define CORE_HM_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* 100-ns intervals between 1601-01-01 and 1970-01-01 (MS-DTYP 2.3.3). */
#define TIME_FILETIME_UNIX_EPOCH 116444736000000000ULL

/* Unix seconds + nanoseconds to FILETIME; times before 1601 clamp to 0. */
uint64_t time_unix_to_filetime(int64_t sec, uint32_t nsec);
/* FILETIME to Unix seconds (floor); nsec_r (optional) gets the remainder. */
int64_t time_filetime_to_unix(uint64_t ft, uint32_t *nsec_r);
uint64_t time_filetime_now(void);

/* Monotonic milliseconds and microseconds, for timeouts and measurement. */
uint64_t time_mono_ms(void);
uint64_t time_mono_us(void);

/* "Tue, 24 Nov 2026 10:00:00 +0100" into out (at least 32 bytes). tz_min is
 * the offset from UTC in minutes to display. Returns out. */
#define TIME_RFC5322_MAX 32
char *time_format_rfc5322(int64_t t, int tz_min, char *out);
/* Parses an RFC 5322 date-time, accepting the obsolete forms of 4.3 (named
 * zones, two-digit years, missing day name, comments) as real mail has
 * them. Returns 0 with the UTC time and the zone offset, or -1. */
int time_parse_rfc5322(const char *s, int64_t *t_r, int *tz_min_r);

/* "2026-11-24T10:00:00Z" (UTC) or with fraction ".123Z" when ms >= 0. */
#define TIME_ISO8601_MAX 32
char *time_format_iso8601(int64_t t, int ms, char *out);
/* Parses ISO 8601 / RFC 3339 date-times: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM),
 * also a bare date (midnight UTC) and no zone (taken as UTC). */
int time_parse_iso8601(const char *s, int64_t *t_r);

/* Days-from-civil: seconds since the epoch for a UTC broken-down date,
 * valid for any year (no timegm locale issues). */
int64_t time_from_civil(int year, int month, int day, int hour, int min, int sec);
/* The reverse; fields as in struct tm but year is the real year, month 1-12. */
void time_to_civil(int64_t t, int *year, int *month, int *day, int *hour, int *min, int *sec,
	int *wday);

#endif
