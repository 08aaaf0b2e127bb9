/* The CLI's hooks into the store: creating and deleting a user's mailbox.
 *
 * STORE DEVELOPER: this is the single call site to extend. `hermod user
 * add` calls cmd_mailbox_create once the directory holds the user, and
 * deletes the user again if it fails; `hermod user del` calls
 * cmd_mailbox_delete after removing the user. The mailbox is keyed by
 * user->mailbox_guid.
 *
 * Until src/store exists there is no mailbox to create or delete, so both
 * do nothing and succeed; neither the commands nor their output claim that
 * a mailbox was made. */
#include "cmd/cmd_directory.h"

int cmd_mailbox_create(struct cmd_ctx *ctx, const struct directory_user *user,
	const char **error_r)
{
	/* No store yet: nothing to create. */
	return 0;
}

int cmd_mailbox_delete(struct cmd_ctx *ctx, const struct directory_user *user,
	const char **error_r)
{
	/* No store yet: nothing to delete. */
	return 0;
}
