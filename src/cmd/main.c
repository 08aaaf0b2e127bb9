/* hermod: one binary, many subcommands.
 *
 *   hermod [-c FILE] <command> [arguments]
 *
 * Options common to all commands come before the command name. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "convert/convert.h"
#include "core/log.h"
#include "hermod_version.h"
#include "store/store.h"

/* Generated from the list in meson.build: extern declarations and the
 * table of commands. */
#include "cmd_table.h"

int cmd_usage(const struct cmd *c)
{
	const char *u = c->usage;
	fprintf(stderr, "usage:");
	while (*u != '\0') {
		const char *nl = strchr(u, '\n');
		size_t n = nl ? (size_t)(nl - u) : strlen(u);
		fprintf(stderr, " hermod %.*s\n", (int)n, u);
		u += n + (nl != NULL);
		if (*u != '\0')
			fprintf(stderr, "      ");
	}
	return 2;
}

int cmd_fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "hermod: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static void main_usage(FILE *out)
{
	fprintf(out, "hermod %s: a mail and groupware server speaking the Exchange protocols\n\n"
		     "usage: hermod [-c FILE] <command> [arguments]\n\n"
		     "  -c FILE   read the configuration from FILE (default: built-in defaults)\n\n"
		     "commands:\n",
		HERMOD_VERSION);
	for (size_t i = 0; cmd_table[i] != NULL; i++)
		fprintf(out, "  %-14s %s\n", cmd_table[i]->name, cmd_table[i]->summary);
	fprintf(out, "\n'hermod help COMMAND' shows a command's usage; 'hermod help config' "
		     "lists every setting.\n");
}

static int cmd_help_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	if (argc == 1) {
		main_usage(stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "config") == 0) {
		config_dump(ctx->cfg, stdout);
		return 0;
	}
	if (argc == 2) {
		for (size_t i = 0; cmd_table[i] != NULL; i++) {
			if (strcmp(cmd_table[i]->name, argv[1]) == 0) {
				printf("%s\n\n", cmd_table[i]->summary);
				const char *u = cmd_table[i]->usage;
				printf("usage: hermod ");
				for (; *u; u++) {
					putchar(*u);
					if (*u == '\n')
						printf("       hermod ");
				}
				putchar('\n');
				return 0;
			}
		}
		return cmd_fail("no such command: %s (try 'hermod help')", argv[1]);
	}
	return cmd_usage(&cmd_help);
}

const struct cmd cmd_help = {"help", "help [COMMAND | config]", "show usage", cmd_help_run};

static int cmd_version_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	if (argc != 1)
		return cmd_usage(&cmd_version);
	printf("hermod %s\n", HERMOD_VERSION);
	return 0;
}

const struct cmd cmd_version = {"version", "version", "print the version", cmd_version_run};

int main(int argc, char **argv)
{
	store_process_init();
	struct cmd_ctx ctx = {.argv0 = argv[0]};
	int i = 1;
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			ctx.config_path = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			main_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("hermod %s\n", HERMOD_VERSION);
			return 0;
		} else {
			fprintf(stderr, "hermod: unknown option %s\n\n", argv[i]);
			main_usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		main_usage(stderr);
		return 2;
	}
	const struct cmd *c = NULL;
	for (size_t k = 0; cmd_table[k] != NULL; k++)
		if (strcmp(cmd_table[k]->name, argv[i]) == 0)
			c = cmd_table[k];
	if (c == NULL) {
		fprintf(stderr, "hermod: unknown command '%s' (try 'hermod help')\n", argv[i]);
		return 2;
	}

	ctx.cfg = config_new(hermod_settings);
	if (ctx.config_path != NULL) {
		const char *error;
		if (config_load_file(ctx.cfg, ctx.config_path, &error) < 0) {
			fprintf(stderr, "hermod: %s\n", error);
			config_free(&ctx.cfg);
			return 1;
		}
	}
	ctx.data_dir = config_get_str(ctx.cfg, "server", "data_dir");
	enum log_level level = LOG_LEVEL_INFO;
	if (log_level_parse(config_get_str(ctx.cfg, "server", "log_level"), &level) < 0) {
		fprintf(stderr, "hermod: [server] log_level: unknown level '%s'\n",
			config_get_str(ctx.cfg, "server", "log_level"));
		config_free(&ctx.cfg);
		return 1;
	}
	log_set_level(level);
	/* GMime, once per process, before any thread converts (convert.h). */
	convert_init();
	int rc = c->run(&ctx, argc - i, argv + i);
	convert_deinit();
	config_free(&ctx.cfg);
	return rc;
}
