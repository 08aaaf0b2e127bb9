/* Throttling of failed logins, per client address and per user.
 *
 * Each key (an IP address, a user) counts its failures in a window that
 * opens at its first failure and lasts window_secs. Once a key reaches its
 * maximum within the window, every further attempt for it is refused until
 * the window ends, even one with the right password: a guesser learns
 * nothing more, and the owner waits out the window.
 *
 * Concurrency: attempts are checked when they begin and judged again when
 * they end. Logins in flight at once are never refused for being many (an
 * IMAP client opens several connections at a time, an office shares one
 * address); but once a key has used up its allowance, the outcome of every
 * attempt that was already in flight is reported as throttled too, a right
 * password included. So however many guesses run at once, at most max
 * failures per window are answered as failures and no success is revealed
 * after them.
 *
 * The state is in memory, owned by whoever creates it (the server: one
 * per process), thread-safe, and bounded: each table keeps at most
 * max_entries keys and evicts the least recently touched when full. */
#ifndef DIRECTORY_THROTTLE_H
#define DIRECTORY_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIRECTORY_THROTTLE_DEFAULT_ENTRIES 16384
/* Keys are cut to this many bytes (longer ones share a counter). */
#define DIRECTORY_THROTTLE_KEY_MAX 256

struct directory_throttle;

struct directory_throttle_settings {
	unsigned max_failures_per_ip;   /* 0: no limit per address */
	unsigned max_failures_per_user; /* 0: no limit per user */
	unsigned window_secs;           /* 0 is taken as 1 */
	size_t max_entries;             /* per table; 0: DIRECTORY_THROTTLE_DEFAULT_ENTRIES */
	/* Monotonic seconds; NULL: CLOCK_MONOTONIC. Tests inject their own. */
	int64_t (*clock)(void *clock_ctx);
	void *clock_ctx;
};

enum directory_throttle_verdict {
	DIRECTORY_THROTTLE_PASS = 0,  /* go on / report the real outcome */
	DIRECTORY_THROTTLE_BY_IP = 1, /* report "throttled" */
	DIRECTORY_THROTTLE_BY_USER = 2,
};

/* A new throttle (never NULL); the settings are copied. */
struct directory_throttle *directory_throttle_new(const struct directory_throttle_settings *set);
/* Frees t and sets *t to NULL; accepts NULL. */
void directory_throttle_free(struct directory_throttle **t);

/* Before checking a password: may an attempt for ip and user (either may
 * be NULL: not counted) go on? Refused attempts must not check the
 * password; the address's limit is named first when both are spent.
 *
 * user should be canonical, so that one account has one counter however
 * it is spelled: the lower-cased primary address for a known user, the
 * lower-cased login name otherwise. */
enum directory_throttle_verdict directory_throttle_begin(struct directory_throttle *t,
	const char *ip, const char *user);
/* After checking it: records the outcome and says whether it may be
 * reported. A failure counts against both keys and is reported as such
 * only while within both allowances. A success is reported only while
 * neither key is spent; it then clears the user's failures (the owner
 * proved the password) but not the address's (one good account must not
 * launder guesses at others). */
enum directory_throttle_verdict directory_throttle_end(struct directory_throttle *t,
	const char *ip, const char *user, bool success);

/* Keys currently held (address and user tables together); for tests and
 * statistics. */
size_t directory_throttle_entries(struct directory_throttle *t);

#endif
