/* hermod group ...: groups (distribution lists) and their members. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd_directory.h"
#include "core/pool.h"

static int group_usage_error(const char *msg)
{
	fprintf(stderr, "hermod: group: %s\n", msg);
	return cmd_usage(&cmd_group);
}

static struct directory_group *group_find(struct directory *dir, const char *address,
	pool_t *pool)
{
	struct directory_group *g = NULL;
	const char *error;
	int r = directory_group_get(dir, address, pool, &g, &error);
	if (r < 0)
		cmd_fail("%s", error);
	else if (r == 0)
		cmd_fail("no such group: %s", address);
	return r > 0 ? g : NULL;
}

static int group_show(struct directory *dir, pool_t *pool, const char *address)
{
	struct directory_group *g = group_find(dir, address, pool);
	if (g == NULL)
		return 1;
	struct directory_recipient *m;
	struct directory_user *users;
	size_t n, n_users;
	const char *error;
	if (directory_group_members(dir, g->id, pool, &m, &n, &error) < 0 ||
		directory_group_expand(dir, g->id, pool, &users, &n_users, &error) < 0)
		return cmd_fail("%s", error);
	printf("address:       %s\n", g->address);
	printf("display name:  %s\n", g->display_name);
	printf("id:            %lld\n", (long long)g->id);
	printf("legacy dn:     %s\n", g->legacy_dn);
	printf("members:      ");
	for (size_t i = 0; i < n; i++)
		printf(" %s%s", m[i].address,
			m[i].kind == DIRECTORY_RECIPIENT_GROUP ? " (group)" : "");
	printf("%s\n", n == 0 ? " none" : "");
	printf("expands to:   ");
	for (size_t i = 0; i < n_users; i++)
		printf(" %s%s", users[i].address, users[i].enabled ? "" : " (disabled)");
	printf("%s\n", n_users == 0 ? " nobody" : "");
	return 0;
}

static int group_list(struct directory *dir, pool_t *pool, const char *domain)
{
	struct directory_group *groups;
	size_t n;
	const char *error;
	if (directory_group_list(dir, domain, pool, &groups, &n, &error) < 0)
		return cmd_fail("%s", error);
	for (size_t i = 0; i < n; i++)
		printf("%s\t%s\t%u member%s\n", groups[i].address, groups[i].display_name,
			groups[i].members, groups[i].members == 1 ? "" : "s");
	return 0;
}

static int group_member(struct directory *dir, pool_t *pool, bool add, const char *group,
	const char *member)
{
	struct directory_group *g = group_find(dir, group, pool);
	if (g == NULL)
		return 1;
	const char *error;
	int r = add ? directory_group_member_add(dir, g->id, member, &error)
		    : directory_group_member_del(dir, g->id, member, &error);
	if (r < 0)
		return cmd_fail("%s", error);
	if (r == 0)
		return add ? cmd_fail("no such group: %s", group)
			   : cmd_fail("%s is not a member of %s", member, g->address);
	printf("%s %s %s\n", member, add ? "added to" : "removed from", g->address);
	return 0;
}

static int cmd_group_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_opt opts[] = {{"name", true, false, NULL}, {NULL, false, false, NULL}};
	const char *pos[5];
	int n;
	if (argc < 2)
		return group_usage_error("missing action");
	if (cmd_parse_opts(argc - 1, argv + 1, opts, pos, 5, &n) < 0)
		return cmd_usage(&cmd_group);
	const char *a = pos[0];
	bool is_member = strcmp(a, "member") == 0;
	if (strcmp(a, "add") != 0 && strcmp(a, "del") != 0 && strcmp(a, "list") != 0 &&
		strcmp(a, "show") != 0 && !is_member)
		return group_usage_error("unknown action");
	if (opts[0].set && strcmp(a, "add") != 0)
		return group_usage_error("--name is for add");
	if (strcmp(a, "list") == 0 && n > 2)
		return group_usage_error("list takes at most a DOMAIN");
	if (is_member && (n != 4 || (strcmp(pos[1], "add") != 0 && strcmp(pos[1], "del") != 0)))
		return group_usage_error("expected member add|del GROUP MEMBER");
	if (!is_member && strcmp(a, "list") != 0 && n != 2)
		return group_usage_error("expected one ADDRESS");

	struct directory *dir = cmd_directory_open(ctx);
	if (dir == NULL)
		return 1;
	pool_t *pool = pool_new("group", 0);
	const char *error;
	int rc = 0;
	if (strcmp(a, "add") == 0) {
		struct directory_group *g;
		if (directory_group_add(dir, pos[1], opts[0].value, pool, &g, &error) < 0)
			rc = cmd_fail("%s", error);
		else
			printf("group %s added (id %lld)\n", g->address, (long long)g->id);
	} else if (strcmp(a, "del") == 0) {
		struct directory_group *g = group_find(dir, pos[1], pool);
		int r = g == NULL ? 0 : directory_group_del(dir, g->id, &error);
		if (g == NULL)
			rc = 1;
		else if (r < 0)
			rc = cmd_fail("%s", error);
		else if (r == 0)
			rc = cmd_fail("no such group: %s", pos[1]);
		else
			printf("group %s deleted\n", g->address);
	} else if (strcmp(a, "list") == 0) {
		rc = group_list(dir, pool, n > 1 ? pos[1] : NULL);
	} else if (strcmp(a, "show") == 0) {
		rc = group_show(dir, pool, pos[1]);
	} else {
		rc = group_member(dir, pool, strcmp(pos[1], "add") == 0, pos[2], pos[3]);
	}
	pool_free(&pool);
	directory_close(&dir);
	return rc;
}

const struct cmd cmd_group = {"group",
	"group add ADDRESS [--name NAME]\n"
	"group del ADDRESS\n"
	"group list [DOMAIN]\n"
	"group show ADDRESS\n"
	"group member add|del GROUP MEMBER",
	"manage groups (distribution lists); members are users or groups", cmd_group_run};
