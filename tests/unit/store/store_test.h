/* Shared helpers of the store's unit tests: a temporary data directory, a
 * store over it and mailboxes in it. */
#ifndef TEST_STORE_TEST_H
#define TEST_STORE_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pool.h"
#include "mapi/mapi.h"
#include "mapi/proptags.h"
#include "store/store.h"

struct tstore {
	char dir[256];
	struct store *store;
	struct store_settings set;
	pool_t *pool;
};

/* A fresh data directory and store (settings may be adjusted by calling
 * tstore_reopen after changing t->set). */
struct tstore *tstore_new(void);
void tstore_reopen(struct tstore *t);
void tstore_free(struct tstore **t);

/* Creates mailbox g owned by owner and opens it as the owner. */
struct store_mailbox *tstore_mailbox(struct tstore *t, struct guid *g_r, const char *owner);
/* Opens an existing mailbox as principal (NULL: anonymous). */
struct store_mailbox *tstore_open_as(struct tstore *t, const struct guid *g, const char *principal);

/* A saved message in fid with a subject and a few properties. */
mapi_id_t tstore_add_message(struct store_mailbox *mb, mapi_id_t fid, const char *subject,
	uint64_t delivery, bool read);

/* A property value from a get_props result (NULL if PT_ERROR or absent). */
const struct mapi_propval *tprop(const struct mapi_propvals *v, uint32_t tag);
/* Reads one property of a folder / message. */
const struct mapi_propval *tfolder_prop(struct store_mailbox *mb, mapi_id_t fid, uint32_t tag,
	pool_t *pool);
const struct mapi_propval *tmsg_prop(struct store_message *msg, uint32_t tag, pool_t *pool);

#define assert_ec(x, ec) assert_int_equal((uint32_t)(x), (uint32_t)(ec))
#define assert_ok(x) assert_ec((x), ecSuccess)

#endif
