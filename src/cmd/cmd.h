/* The hermod binary: a table of subcommands sharing option parsing,
 * configuration loading and error reporting. Internal to src/cmd. */
#ifndef CMD_CMD_H
#define CMD_CMD_H

#include <stdbool.h>

#include "core/config.h"

/* What every subcommand gets. */
struct cmd_ctx {
	struct config *cfg;      /* defaults overlaid with the -c file, if any */
	const char *config_path; /* NULL: embedded defaults */
	const char *data_dir;    /* [server] data_dir, absolute or relative to cwd */
	const char *argv0;
};

struct cmd {
	const char *name;  /* "user" */
	const char *usage; /* "user add ADDRESS [--password PW] ..." (lines separated by \n) */
	const char *summary;
	/* argv[0] is the subcommand name. Returns the exit status: 0 ok,
	 * 1 failure, 2 bad usage (after printing the usage). */
	int (*run)(struct cmd_ctx *ctx, int argc, char **argv);
};

/* Prints "usage: hermod <usage>" for c to stderr and returns 2. */
int cmd_usage(const struct cmd *c);
/* Prints "hermod: <message>" to stderr and returns 1. */
int cmd_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The settings table (settings.c), declared once. */
extern const struct config_setting hermod_settings[];

/* The subcommands, each defined in its own cmd_<name>.c. */
extern const struct cmd cmd_version;
extern const struct cmd cmd_help;
extern const struct cmd cmd_check_config;
extern const struct cmd cmd_store;
extern const struct cmd cmd_serve;
extern const struct cmd cmd_domain;
extern const struct cmd cmd_user;
extern const struct cmd cmd_group;
extern const struct cmd cmd_convert;
extern const struct cmd cmd_queue;
extern const struct cmd cmd_send;

#endif
