/* What the CLI and `hermod serve` share to reach the store. Internal to
 * src/cmd. */
#ifndef CMD_CMD_STORE_H
#define CMD_CMD_STORE_H

#include "cmd/cmd.h"
#include "store/store.h"

/* Fills s from the [store] settings and ctx->data_dir. Returns 0, or -1
 * with *error_r for a bad value. */
int cmd_store_settings(const struct cmd_ctx *ctx, struct store_settings *s,
	const char **error_r);
/* Opens the store over ctx->data_dir. On failure prints the reason and
 * returns NULL. */
struct store *cmd_store_open(struct cmd_ctx *ctx);

#endif
