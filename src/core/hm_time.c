#include "core/hm_time.h"

#include <stdio.h>
#include <string.h>

#include "core/str.h"

uint64_t time_unix_to_filetime(int64_t sec, uint32_t nsec)
{
	const int64_t min_sec = -(int64_t)(TIME_FILETIME_UNIX_EPOCH / 10000000ULL);
	if (sec < min_sec)
		return 0;
	return (uint64_t)(sec - min_sec) * 10000000ULL + nsec / 100;
}

int64_t time_filetime_to_unix(uint64_t ft, uint32_t *nsec_r)
{
	int64_t rel = (int64_t)(ft / 10000000ULL) - (int64_t)(TIME_FILETIME_UNIX_EPOCH / 10000000ULL);
	if (nsec_r != NULL)
		*nsec_r = (uint32_t)(ft % 10000000ULL) * 100;
	return rel;
}

uint64_t time_filetime_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return time_unix_to_filetime(ts.tv_sec, (uint32_t)ts.tv_nsec);
}

uint64_t time_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t time_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Howard Hinnant's days_from_civil / civil_from_days algorithms. */
static int64_t time_days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int64_t time_from_civil(int year, int month, int day, int hour, int min, int sec)
{
	return time_days_from_civil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec;
}

void time_to_civil(int64_t t, int *year, int *month, int *day, int *hour, int *min, int *sec,
	int *wday)
{
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int64_t rem = t - days * 86400;
	*hour = (int)(rem / 3600);
	*min = (int)(rem % 3600 / 60);
	*sec = (int)(rem % 60);
	/* 1970-01-01 was a Thursday (4). */
	*wday = (int)(((days % 7) + 11) % 7);
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = (int)(mp < 10 ? mp + 3 : mp - 9);
	*year = (int)(y + (*month <= 2));
}

static const char *const time_wdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const time_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	"Aug", "Sep", "Oct", "Nov", "Dec"};

char *time_format_rfc5322(int64_t t, int tz_min, char *out)
{
	int y, mo, d, h, mi, s, wd;
	time_to_civil(t + (int64_t)tz_min * 60, &y, &mo, &d, &h, &mi, &s, &wd);
	int off = tz_min < 0 ? -tz_min : tz_min;
	snprintf(out, TIME_RFC5322_MAX, "%s, %d %s %04d %02d:%02d:%02d %c%02d%02d", time_wdays[wd],
		d, time_months[mo - 1], y, h, mi, s, tz_min < 0 ? '-' : '+', off / 60, off % 60);
	return out;
}

char *time_format_iso8601(int64_t t, int ms, char *out)
{
	int y, mo, d, h, mi, s, wd;
	time_to_civil(t, &y, &mo, &d, &h, &mi, &s, &wd);
	if (ms >= 0)
		snprintf(out, TIME_ISO8601_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, mo, d, h,
			mi, s, ms % 1000);
	else
		snprintf(out, TIME_ISO8601_MAX, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi,
			s);
	return out;
}

/* RFC 5322 parsing: a tiny scanner that skips CFWS (comments nest). */
struct time_scan {
	const char *p;
};

static void time_skip_cfws(struct time_scan *sc)
{
	for (;;) {
		while (*sc->p == ' ' || *sc->p == '\t' || *sc->p == '\r' || *sc->p == '\n')
			sc->p++;
		if (*sc->p != '(')
			return;
		int depth = 0;
		do {
			if (*sc->p == '\\' && sc->p[1] != '\0')
				sc->p++;
			else if (*sc->p == '(')
				depth++;
			else if (*sc->p == ')')
				depth--;
			sc->p++;
		} while (depth > 0 && *sc->p != '\0');
	}
}

static int time_scan_num(struct time_scan *sc, int min_digits, int max_digits, int *r)
{
	int n = 0, v = 0;
	/* Stops after max_digits: the caller's next expectation rejects junk. */
	while (n < max_digits && sc->p[n] >= '0' && sc->p[n] <= '9') {
		v = v * 10 + (sc->p[n] - '0');
		n++;
	}
	if (n < min_digits)
		return -1;
	sc->p += n;
	*r = v;
	return n;
}

static int time_scan_word(struct time_scan *sc, char *w, size_t size)
{
	size_t n = 0;
	while ((*sc->p >= 'a' && *sc->p <= 'z') || (*sc->p >= 'A' && *sc->p <= 'Z')) {
		if (n + 1 < size)
			w[n++] = *sc->p;
		sc->p++;
	}
	w[n] = '\0';
	return (int)n;
}

static int time_zone_name(const char *w, int *tz_r)
{
	static const struct {
		const char *name;
		int min;
	} zones[] = {{"UT", 0}, {"UTC", 0}, {"GMT", 0}, {"Z", 0}, {"EST", -300}, {"EDT", -240},
		{"CST", -360}, {"CDT", -300}, {"MST", -420}, {"MDT", -360}, {"PST", -480},
		{"PDT", -420}};
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		if (str_case_eq(w, zones[i].name)) {
			*tz_r = zones[i].min;
			return 0;
		}
	}
	/* RFC 5322 4.3: military zones are unreliable; treat them as -0000. */
	if (strlen(w) == 1 && w[0] != 'j' && w[0] != 'J') {
		*tz_r = 0;
		return 0;
	}
	return -1;
}

int time_parse_rfc5322(const char *s, int64_t *t_r, int *tz_min_r)
{
	struct time_scan sc = {s};
	char w[16];
	int day, mon = 0, year, hour, min, sec = 0, tz = 0;

	time_skip_cfws(&sc);
	if ((*sc.p >= 'a' && *sc.p <= 'z') || (*sc.p >= 'A' && *sc.p <= 'Z')) {
		/* Day of week, not checked against the date (RFC 5322 3.3). */
		time_scan_word(&sc, w, sizeof(w));
		time_skip_cfws(&sc);
		if (*sc.p == ',')
			sc.p++;
		time_skip_cfws(&sc);
	}
	if (time_scan_num(&sc, 1, 2, &day) < 0 || day < 1 || day > 31)
		return -1;
	time_skip_cfws(&sc);
	if (*sc.p == '-') /* "24-Nov-2026" seen in the wild */
		sc.p++;
	if (time_scan_word(&sc, w, sizeof(w)) < 3)
		return -1;
	for (int i = 0; i < 12; i++)
		if (str_ncasecmp(w, time_months[i], 3) == 0)
			mon = i + 1;
	if (mon == 0)
		return -1;
	time_skip_cfws(&sc);
	if (*sc.p == '-')
		sc.p++;
	int ydigits = time_scan_num(&sc, 2, 4, &year);
	if (ydigits < 0)
		return -1;
	/* RFC 5322 4.3: two-digit years 00-49 are 2000-2049, 50-99 and three
	 * digits are 1900 + n. */
	if (ydigits == 2)
		year += year < 50 ? 2000 : 1900;
	else if (ydigits == 3)
		year += 1900;
	time_skip_cfws(&sc);
	if (time_scan_num(&sc, 1, 2, &hour) < 0 || hour > 23)
		return -1;
	time_skip_cfws(&sc);
	if (*sc.p++ != ':')
		return -1;
	time_skip_cfws(&sc);
	if (time_scan_num(&sc, 2, 2, &min) < 0 || min > 59)
		return -1;
	time_skip_cfws(&sc);
	if (*sc.p == ':') {
		sc.p++;
		time_skip_cfws(&sc);
		if (time_scan_num(&sc, 2, 2, &sec) < 0 || sec > 60)
			return -1;
	}
	time_skip_cfws(&sc);
	if (*sc.p == '+' || *sc.p == '-') {
		int sign = *sc.p == '-' ? -1 : 1, hhmm;
		sc.p++;
		if (time_scan_num(&sc, 4, 4, &hhmm) < 0 || hhmm % 100 > 59)
			return -1;
		tz = sign * (hhmm / 100 * 60 + hhmm % 100);
	} else if (*sc.p != '\0') {
		if (time_scan_word(&sc, w, sizeof(w)) == 0 || time_zone_name(w, &tz) < 0)
			return -1;
	}
	/* Anything else after the zone (comments aside) is ignored, as
	 * mainstream readers do. */
	if (day > 28) {
		static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
		if (day > mdays[mon - 1])
			return -1;
	}
	if (sec == 60)
		sec = 59;
	*t_r = time_from_civil(year, mon, day, hour, min, sec) - (int64_t)tz * 60;
	if (tz_min_r != NULL)
		*tz_min_r = tz;
	return 0;
}

int time_parse_iso8601(const char *s, int64_t *t_r)
{
	struct time_scan sc = {s};
	int y, mo, d, h = 0, mi = 0, se = 0, tz = 0;
	if (time_scan_num(&sc, 4, 4, &y) < 0 || *sc.p++ != '-')
		return -1;
	if (time_scan_num(&sc, 2, 2, &mo) < 0 || *sc.p++ != '-' || mo < 1 || mo > 12)
		return -1;
	if (time_scan_num(&sc, 2, 2, &d) < 0 || d < 1 || d > 31)
		return -1;
	if (*sc.p == 'T' || *sc.p == 't' || *sc.p == ' ') {
		sc.p++;
		if (time_scan_num(&sc, 2, 2, &h) < 0 || *sc.p++ != ':' || h > 23)
			return -1;
		if (time_scan_num(&sc, 2, 2, &mi) < 0 || mi > 59)
			return -1;
		if (*sc.p == ':') {
			sc.p++;
			if (time_scan_num(&sc, 2, 2, &se) < 0 || se > 60)
				return -1;
			if (*sc.p == '.' || *sc.p == ',') {
				sc.p++;
				if (*sc.p < '0' || *sc.p > '9')
					return -1;
				while (*sc.p >= '0' && *sc.p <= '9')
					sc.p++;
			}
		}
		if (*sc.p == 'Z' || *sc.p == 'z') {
			sc.p++;
		} else if (*sc.p == '+' || *sc.p == '-') {
			int sign = *sc.p == '-' ? -1 : 1, th, tm = 0;
			sc.p++;
			if (time_scan_num(&sc, 2, 2, &th) < 0 || th > 23)
				return -1;
			if (*sc.p == ':')
				sc.p++;
			if (*sc.p >= '0' && *sc.p <= '9' &&
				(time_scan_num(&sc, 2, 2, &tm) < 0 || tm > 59))
				return -1;
			tz = sign * (th * 60 + tm);
		}
	}
	if (*sc.p != '\0')
		return -1;
	if (se == 60)
		se = 59;
	*t_r = time_from_civil(y, mo, d, h, mi, se) - (int64_t)tz * 60;
	return 0;
}
