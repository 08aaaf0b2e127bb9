/* hermod check-config FILE: validates a configuration file. */
#include <stdio.h>

#include "cmd/cmd.h"

static int cmd_check_config_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	if (argc != 2)
		return cmd_usage(&cmd_check_config);
	struct config *cfg = config_new(hermod_settings);
	const char *error;
	int rc = config_load_file(cfg, argv[1], &error);
	if (rc < 0) {
		fprintf(stderr, "hermod: %s\n", error);
	} else {
		printf("%s: ok\n", argv[1]);
	}
	config_free(&cfg);
	return rc < 0 ? 1 : 0;
}

const struct cmd cmd_check_config = {"check-config", "check-config FILE",
	"validate a configuration file", cmd_check_config_run};
