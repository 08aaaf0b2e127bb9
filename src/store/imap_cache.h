/* IMAP's MIME structure of a message (ENVELOPE, BODY, BODYSTRUCTURE, RFC
 * 3501 7.4.2), computed once by the IMAP front-end from the message's MIME
 * and kept beside the message, so that listing a folder's envelopes does
 * not read every message again. An entry is tied to the MIME blob it was
 * computed from (a message whose MIME changes gets no stale answer) and
 * is deleted with the message. Filling it is not a change of the message
 * (no change number, no notification). */
#ifndef STORE_IMAP_CACHE_H
#define STORE_IMAP_CACHE_H

#include <stdint.h>

#include "core/pool.h"
#include "mapi/mapi.h"
#include "store/store.h"

struct store_imap_cached {
	const char *envelope;      /* NULL: not kept */
	const char *body;          /* BODY (non-extended) */
	const char *bodystructure; /* BODYSTRUCTURE */
};

/* For each mids[i] of folder fid whose entry was computed from the blob
 * shas[i] (32 bytes each), fills out[i] (strings from pool); others get
 * NULLs. Needs frightsReadAny on fid. */
uint32_t store_imap_cache_get(struct store_mailbox *mb, mapi_id_t fid, const mapi_id_t *mids,
	const uint8_t (*shas)[32], uint32_t n, pool_t *pool, struct store_imap_cached *out);
/* Keeps the entries (replacing older ones) in one transaction; entries of
 * messages that no longer exist are skipped. Needs frightsReadAny. */
uint32_t store_imap_cache_put(struct store_mailbox *mb, mapi_id_t fid, const mapi_id_t *mids,
	const uint8_t (*shas)[32], const struct store_imap_cached *v, uint32_t n);

#endif
