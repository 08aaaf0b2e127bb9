/* The CLI's hooks into the store: creating and deleting a user's mailbox.
 * `hermod user add` calls cmd_mailbox_create once the directory holds the
 * user (and deletes the user again if it fails); `hermod user del` calls
 * cmd_mailbox_delete after removing the user. The mailbox is keyed by
 * user->mailbox_guid; its owner principal is the user's primary address
 * (what protocols pass to store_mailbox_open after authentication). */
#include "cmd/cmd_directory.h"
#include "cmd/cmd_store.h"
#include "mapi/errors.h"

int cmd_mailbox_create(struct cmd_ctx *ctx, const struct directory_user *user,
	const char **error_r)
{
	struct store *store = cmd_store_open(ctx);
	if (store == NULL) {
		*error_r = "cannot open the store";
		return -1;
	}
	const char *name = user->display_name != NULL && user->display_name[0] != '\0'
		? user->display_name
		: user->address;
	uint32_t ec = store_mailbox_create(store, &user->mailbox_guid, user->address, name, error_r);
	store_free(&store);
	return ec == ecSuccess ? 0 : -1;
}

int cmd_mailbox_delete(struct cmd_ctx *ctx, const struct directory_user *user,
	const char **error_r)
{
	struct store *store = cmd_store_open(ctx);
	if (store == NULL) {
		*error_r = "cannot open the store";
		return -1;
	}
	uint32_t ec = store_mailbox_destroy(store, &user->mailbox_guid);
	store_free(&store);
	if (ec != ecSuccess && ec != ecNotFound) {
		*error_r = mapi_ec_name(ec);
		return -1;
	}
	/* The blobs it referenced go with the next blob collection. */
	return 0;
}
