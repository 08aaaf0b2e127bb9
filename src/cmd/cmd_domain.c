/* hermod domain add|list|del: the domains the directory hosts. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd_directory.h"
#include "core/pool.h"

static int domain_usage_error(const char *msg)
{
	fprintf(stderr, "hermod: domain: %s\n", msg);
	return cmd_usage(&cmd_domain);
}

static int cmd_domain_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_opt opts[] = {{"force", false, false, NULL}, {NULL, false, false, NULL}};
	const char *pos[3];
	int n;
	if (argc < 2)
		return domain_usage_error("missing action");
	if (cmd_parse_opts(argc - 1, argv + 1, opts, pos, 3, &n) < 0)
		return cmd_usage(&cmd_domain);
	const char *action = pos[0];
	bool is_add = strcmp(action, "add") == 0, is_del = strcmp(action, "del") == 0,
	     is_list = strcmp(action, "list") == 0;
	if (!is_add && !is_del && !is_list)
		return domain_usage_error("unknown action");
	if ((is_list && n != 1) || (!is_list && n != 2))
		return domain_usage_error(is_list ? "list takes no argument" : "expected one NAME");
	if (opts[0].set && !is_del)
		return domain_usage_error("--force is for del");

	struct directory *dir = cmd_directory_open(ctx);
	if (dir == NULL)
		return 1;
	const char *error;
	int rc = 0;
	if (is_add) {
		char name[DIRECTORY_DOMAIN_MAX + 1];
		if (directory_domain_add(dir, pos[1], &error) < 0)
			rc = cmd_fail("%s", error);
		else if (directory_domain_parse(pos[1], strlen(pos[1]), name, &error) == 0)
			printf("domain %s added\n", name);
	} else if (is_del) {
		/* With --force the domain's users go too: note them first, to
		 * drop their mailboxes afterwards. */
		pool_t *pool = pool_new("domain del", 0);
		struct directory_user *users = NULL;
		size_t n_users = 0;
		if (opts[0].set &&
			directory_user_list(dir, pos[1], pool, &users, &n_users, &error) < 0)
			n_users = 0;
		int r = directory_domain_del(dir, pos[1], opts[0].set, &error);
		if (r < 0)
			rc = cmd_fail("%s%s", error,
				strstr(error, "still in use") != NULL
					? " (delete them first, or use --force)"
					: "");
		else if (r == 0)
			rc = cmd_fail("no such domain: %s", pos[1]);
		else
			printf("domain %s deleted\n", pos[1]);
		for (size_t i = 0; r > 0 && i < n_users; i++) {
			printf("user %s deleted\n", users[i].address);
			if (cmd_mailbox_delete(ctx, &users[i], &error) < 0)
				rc = cmd_fail("%s: %s", users[i].address, error);
		}
		pool_free(&pool);
	} else {
		pool_t *pool = pool_new("domain list", 0);
		struct directory_domain *d;
		size_t count;
		if (directory_domain_list(dir, pool, &d, &count, &error) < 0)
			rc = cmd_fail("%s", error);
		for (size_t i = 0; rc == 0 && i < count; i++)
			printf("%s\t%u user%s\n", d[i].name, d[i].users,
				d[i].users == 1 ? "" : "s");
		pool_free(&pool);
	}
	directory_close(&dir);
	return rc;
}

const struct cmd cmd_domain = {"domain",
	"domain add NAME\n"
	"domain list\n"
	"domain del NAME [--force]",
	"manage the mail domains this server hosts", cmd_domain_run};
