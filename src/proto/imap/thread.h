/* The algorithms of RFC 5256 that do not depend on a session: base
 * subject extraction (2.1), and threading by ORDEREDSUBJECT and by
 * REFERENCES (3), presented as THREAD response data (4). Pure functions
 * over what the caller gathered from the store and the messages' headers,
 * so that they can be tested and fuzzed apart from the server.
 *
 * Hand-written: no Debian library implements RFC 5256 over our store. */
#ifndef PROTO_IMAP_THREAD_H
#define PROTO_IMAP_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/pool.h"

/* The base subject of a (decoded, UTF-8) subject per RFC 5256 2.1, in
 * pool; NULL is taken as "". *reply_r (optional) is set when a reply or
 * forward marker was removed (a subj-refwd, a "(fwd)" trailer or a
 * "[fwd: ...]" wrapper), which THREAD=REFERENCES step 5 needs. */
char *imap_base_subject(pool_t *pool, const char *subject, bool *reply_r);

/* i;ascii-casemap (RFC 4790 9.2) ordering of two strings: <0, 0, >0. */
int imap_ascii_casemap_cmp(const char *a, const char *b);

/* One message to thread, in mailbox order (seq ascending). */
struct imap_thread_msg {
	uint32_t id;             /* what the response shows: sequence number or UID */
	uint32_t seq;            /* breaks date ties (RFC 5256 2.2) */
	uint64_t date;           /* sent date, any monotonic unit */
	const char *subject;     /* base subject (imap_base_subject), "" when none */
	bool reply;              /* imap_base_subject's *reply_r */
	const char *message_id;  /* NULL when missing or invalid */
	const char *const *refs; /* References, oldest first (or In-Reply-To's first) */
	size_t nrefs;
};

/* Appends the thread lists ("(1 2)(3 (4)(5))", nothing for no messages)
 * of msgs[0..n) threaded by ORDEREDSUBJECT. Uses pool for scratch. */
void imap_thread_orderedsubject(
        pool_t *pool, const struct imap_thread_msg *msgs, size_t n, struct buf *out);

/* The same threaded by REFERENCES (RFC 5256 3, steps 1 to 7). */
void imap_thread_references(
        pool_t *pool, const struct imap_thread_msg *msgs, size_t n, struct buf *out);

#endif
