#include "store_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/xalloc.h"
#include "mapi/propval.h"

struct tstore *tstore_new(void)
{
	struct tstore *t = xcalloc(1, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/hermod-store-test-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	store_settings_default(&t->set);
	t->set.data_dir = t->dir;
	/* Tests do not need to wait for the disk. */
	t->set.default_durability = STORE_DURABILITY_NORMAL;
	const char *error;
	assert_int_equal(store_new(&t->set, &t->store, &error), 0);
	t->pool = pool_new("test", 0);
	return t;
}

void tstore_reopen(struct tstore *t)
{
	store_free(&t->store);
	const char *error;
	assert_int_equal(store_new(&t->set, &t->store, &error), 0);
}

void tstore_free(struct tstore **tp)
{
	struct tstore *t = *tp;
	*tp = NULL;
	store_free(&t->store);
	pool_free(&t->pool);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	assert_int_equal(system(cmd), 0);
	free(t);
}

struct store_mailbox *tstore_mailbox(struct tstore *t, struct guid *g_r, const char *owner)
{
	guid_generate(g_r);
	const char *error = NULL;
	assert_ok(store_mailbox_create(t->store, g_r, owner, owner, &error));
	return tstore_open_as(t, g_r, owner);
}

struct store_mailbox *tstore_open_as(struct tstore *t, const struct guid *g, const char *principal)
{
	struct store_logon logon = {.principal = principal};
	struct store_mailbox *mb = NULL;
	assert_ok(store_mailbox_open(t->store, g, &logon, &mb));
	return mb;
}

mapi_id_t tstore_add_message(struct store_mailbox *mb, mapi_id_t fid, const char *subject,
	uint64_t delivery, bool read)
{
	pool_t *pool = pool_new("add", 0);
	struct store_message *msg;
	assert_ok(store_message_create(mb, fid, 0, &msg));
	struct mapi_propvals v = {0};
	mapi_propvals_set_str(pool, &v, PR_SUBJECT, subject);
	mapi_propvals_set_str(pool, &v, PR_MESSAGE_CLASS, "IPM.Note");
	mapi_propvals_set_systime(pool, &v, PR_MESSAGE_DELIVERY_TIME, delivery);
	mapi_propvals_set_str(pool, &v, PR_SENDER_NAME, "Sender");
	mapi_propvals_set_long(pool, &v, PR_MESSAGE_FLAGS, read ? 1 : 0);
	assert_ok(store_message_set_props(msg, &v, NULL));
	assert_ok(store_message_save(msg, 0));
	mapi_id_t mid = store_message_mid(msg);
	store_message_close(&msg);
	pool_free(&pool);
	return mid;
}

const struct mapi_propval *tprop(const struct mapi_propvals *v, uint32_t tag)
{
	for (uint32_t i = 0; i < v->count; i++) {
		if (PROP_ID(v->vals[i].tag) != PROP_ID(tag))
			continue;
		if (PROP_TYPE(v->vals[i].tag) == PT_ERROR)
			return NULL;
		return &v->vals[i];
	}
	return NULL;
}

const struct mapi_propval *tfolder_prop(struct store_mailbox *mb, mapi_id_t fid, uint32_t tag,
	pool_t *pool)
{
	struct mapi_tags tags = {1, &tag};
	struct mapi_propvals v;
	if (store_folder_get_props(mb, fid, &tags, pool, &v) != ecSuccess)
		return NULL;
	return tprop(&v, tag);
}

const struct mapi_propval *tmsg_prop(struct store_message *msg, uint32_t tag, pool_t *pool)
{
	struct mapi_tags tags = {1, &tag};
	struct mapi_propvals v;
	if (store_message_get_props(msg, &tags, pool, &v) != ecSuccess)
		return NULL;
	return tprop(&v, tag);
}
