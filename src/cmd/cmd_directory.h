/* What the directory subcommands (domain, user, group) share, and the
 * hooks through which they reach the store. Internal to src/cmd. */
#ifndef CMD_CMD_DIRECTORY_H
#define CMD_CMD_DIRECTORY_H

#include "cmd/cmd.h"
#include "directory/directory.h"
#include "directory/throttle.h"

/* Opens data_dir/directory.db with the [auth] settings, creating data_dir
 * (mode 0700) if needed. On failure prints the reason and returns NULL. */
struct directory *cmd_directory_open(struct cmd_ctx *ctx);

/* A login throttle configured from [auth] max_failures_per_ip,
 * max_failures_per_user and failure_window: what `hermod serve` owns
 * and hands to every directory_auth_plain call. */
struct directory_throttle *cmd_directory_throttle_new(struct cmd_ctx *ctx);

/* THE place where `hermod user add` creates a new user's mailbox in the
 * store, keyed by user->mailbox_guid, after the directory has the user
 * (user add deletes the user again if this fails). Returns 0, or -1
 * with *error_r. See cmd_mailbox.c. */
int cmd_mailbox_create(struct cmd_ctx *ctx, const struct directory_user *user,
	const char **error_r);
/* The same for `hermod user del`, called after the directory entry is
 * gone. */
int cmd_mailbox_delete(struct cmd_ctx *ctx, const struct directory_user *user,
	const char **error_r);

/* A subcommand option: "--name" alone (flag) or with a value ("--name V"
 * or "--name=V"). */
struct cmd_opt {
	const char *name; /* without the dashes */
	bool has_value;
	bool set;          /* out: given */
	const char *value; /* out: its value */
};

/* Splits argv[0 .. argc) into options (opts, terminated by a NULL name)
 * and up to max_pos positional arguments; options may come anywhere, "--"
 * ends them. Returns 0, or -1 after printing what is wrong (the caller
 * then prints the usage). */
int cmd_parse_opts(int argc, char **argv, struct cmd_opt *opts, const char **pos, int max_pos,
	int *n_pos_r);

/* Reads a password for --password-stdin: one line, without its line end.
 * Returns a heap string the caller wipes and frees, or NULL after printing
 * why. */
char *cmd_read_password_stdin(void);
/* Parses a quota: a size with optional k/m/g suffix, or "unlimited"
 * (0). 0 or -1. */
int cmd_parse_quota(const char *s, uint64_t *quota_r);
/* Formats a quota ("unlimited", "1073741824 (1 GiB)") into out. */
void cmd_format_quota(uint64_t quota, char *out, size_t size);

#endif
