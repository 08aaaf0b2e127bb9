/* Shared by the directory subcommands: opening the directory from the
 * configuration, option parsing, passwords from stdin, quotas. */
#include "cmd/cmd_directory.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/xalloc.h"

/* mkdir -p, the last component with mode. */
static int cmd_mkdirs(const char *path, mode_t mode)
{
	char *p = xstrdup(path);
	int ret = 0;
	for (char *s = p + 1; ret == 0 && *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			ret = -1;
		*s = '/';
	}
	if (ret == 0 && mkdir(p, mode) < 0 && errno != EEXIST)
		ret = -1;
	free(p);
	return ret;
}

struct directory *cmd_directory_open(struct cmd_ctx *ctx)
{
	if (cmd_mkdirs(ctx->data_dir, 0700) < 0) {
		cmd_fail("cannot create data directory %s: %s", ctx->data_dir, strerror(errno));
		return NULL;
	}
	char *path = xasprintf("%s/%s", ctx->data_dir, DIRECTORY_DB_NAME);
	struct directory_settings set = {
		.password_hash_cost =
			(unsigned)config_get_int(ctx->cfg, "auth", "password_hash_cost"),
		.auth_cache_entries = (unsigned)config_get_int(ctx->cfg, "auth", "cache_size"),
		.auth_cache_ttl_s = (unsigned)config_get_time(ctx->cfg, "auth", "cache_ttl"),
	};
	struct directory *dir = NULL;
	const char *error;
	if (directory_open(path, &set, &dir, &error) < 0) {
		cmd_fail("%s", error);
		dir = NULL;
	}
	free(path);
	return dir;
}

struct directory_throttle *cmd_directory_throttle_new(struct cmd_ctx *ctx)
{
	struct directory_throttle_settings set = {
		.max_failures_per_ip =
			(unsigned)config_get_int(ctx->cfg, "auth", "max_failures_per_ip"),
		.max_failures_per_user =
			(unsigned)config_get_int(ctx->cfg, "auth", "max_failures_per_user"),
		.window_secs = (unsigned)config_get_time(ctx->cfg, "auth", "failure_window"),
	};
	return directory_throttle_new(&set);
}

int cmd_parse_opts(int argc, char **argv, struct cmd_opt *opts, const char **pos, int max_pos,
	int *n_pos_r)
{
	int n = 0;
	bool options_done = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (options_done || a[0] != '-' || a[1] == '\0') {
			if (n >= max_pos) {
				fprintf(stderr, "hermod: unexpected argument '%s'\n", a);
				return -1;
			}
			pos[n++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			options_done = true;
			continue;
		}
		if (a[1] != '-') {
			fprintf(stderr, "hermod: unknown option %s\n", a);
			return -1;
		}
		const char *name = a + 2, *eq = strchr(name, '=');
		size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
		struct cmd_opt *o = opts;
		while (o->name != NULL &&
			(strlen(o->name) != len || strncmp(o->name, name, len) != 0))
			o++;
		if (o->name == NULL) {
			fprintf(stderr, "hermod: unknown option --%.*s\n", (int)len, name);
			return -1;
		}
		if (o->set) {
			fprintf(stderr, "hermod: option --%s given twice\n", o->name);
			return -1;
		}
		o->set = true;
		if (!o->has_value) {
			if (eq != NULL) {
				fprintf(stderr, "hermod: option --%s takes no value\n", o->name);
				return -1;
			}
		} else if (eq != NULL) {
			o->value = eq + 1;
		} else if (i + 1 < argc) {
			o->value = argv[++i];
		} else {
			fprintf(stderr, "hermod: option --%s needs a value\n", o->name);
			return -1;
		}
	}
	*n_pos_r = n;
	return 0;
}

char *cmd_read_password_stdin(void)
{
	/* One byte more than allowed, plus the line end, to tell "too long". */
	size_t cap = DIRECTORY_PASSWORD_MAX + 3;
	char *buf = xmalloc(cap + 1);
	size_t len = 0;
	int c;
	while (len < cap && (c = getchar()) != EOF && c != '\n')
		buf[len++] = (char)c;
	buf[len] = '\0';
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (len > DIRECTORY_PASSWORD_MAX) {
		explicit_bzero(buf, cap + 1);
		free(buf);
		cmd_fail("password on stdin is longer than %d bytes", DIRECTORY_PASSWORD_MAX);
		return NULL;
	}
	if (len == 0) {
		free(buf);
		cmd_fail("no password on stdin");
		return NULL;
	}
	return buf;
}

int cmd_parse_quota(const char *s, uint64_t *quota_r)
{
	if (strcmp(s, "unlimited") == 0) {
		*quota_r = 0;
		return 0;
	}
	if (config_parse_size(s, quota_r) < 0 || *quota_r > INT64_MAX)
		return -1;
	return 0;
}

void cmd_format_quota(uint64_t quota, char *out, size_t size)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	if (quota == 0) {
		snprintf(out, size, "unlimited");
		return;
	}
	double v = (double)quota;
	int u = -1;
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(out, size, "%" PRIu64 " bytes", quota);
	else
		snprintf(out, size, "%" PRIu64 " bytes (%.4g %s)", quota, v, units[u]);
}
