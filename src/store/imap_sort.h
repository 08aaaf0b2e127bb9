/* What IMAP's SORT and THREAD (RFC 5256) need of every message of a
 * folder, from the indexed columns of the messages rows (no message is
 * read): the arrival date, the sent date, the size and the subject as
 * MS-OXCMAIL import decoded it. */
#ifndef STORE_IMAP_SORT_H
#define STORE_IMAP_SORT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/pool.h"
#include "mapi/mapi.h"
#include "store/store.h"

struct store_imap_sort_row {
	uint32_t uid;
	uint64_t internal_date; /* FILETIME, as store_imap_list: delivery, else creation */
	uint64_t sent_date;     /* FILETIME: PR_CLIENT_SUBMIT_TIME (the Date header), else
	                           internal_date (RFC 5256 2.2) */
	uint64_t size;          /* as store_imap_list: the MIME's size, else PR_MESSAGE_SIZE */
	const char *subject;    /* PR_SUBJECT (RFC 2047 decoded), "" when none */
	bool has_mime;
	struct store_blob_ref mime;
};

/* The normal messages of fid in UID order, with the fields above (pool).
 * ecAccessDenied without frightsReadAny on fid, ecNotFound for no such
 * folder. */
uint32_t store_imap_sort_list(struct store_mailbox *mb, mapi_id_t fid, pool_t *pool,
        struct store_imap_sort_row **rows_r, uint32_t *n_r);

#endif
