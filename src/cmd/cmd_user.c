/* hermod user ...: users, their passwords, aliases and Send As grants. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd_directory.h"
#include "core/hm_time.h"
#include "core/pool.h"
#include "directory/auth.h"

enum user_opt { O_PW, O_PW_STDIN, O_NAME, O_QUOTA, O_NT, O_NO_NT, O_DISABLED, O_END };

/* Length of generated passwords: 20 symbols of 57, about 116 bits. */
#define USER_GENERATED_PASSWORD_LEN 20

static int user_usage_error(const char *msg)
{
	fprintf(stderr, "hermod: user: %s\n", msg);
	return cmd_usage(&cmd_user);
}

/* The password from --password, --password-stdin or, with neither, a
 * generated one (*generated_r set). Heap string, NULL after an error
 * message (exit status in *rc_r). */
static char *user_password(struct cmd_opt *pw, struct cmd_opt *pw_stdin, bool *generated_r,
	int *rc_r)
{
	*generated_r = false;
	if (pw->set)
		return strdup(pw->value);
	if (pw_stdin->set) {
		char *p = cmd_read_password_stdin();
		if (p == NULL)
			*rc_r = 1;
		return p;
	}
	char *p = malloc(USER_GENERATED_PASSWORD_LEN + 1);
	directory_password_generate(p, USER_GENERATED_PASSWORD_LEN);
	*generated_r = true;
	return p;
}

static void user_password_free(char *p)
{
	if (p != NULL) {
		explicit_bzero(p, strlen(p));
		free(p);
	}
}

/* Finds the user named on the command line, or prints why not. */
static struct directory_user *user_find(struct directory *dir, const char *address, pool_t *pool)
{
	struct directory_user *u = NULL;
	const char *error;
	int r = directory_user_get(dir, address, pool, &u, &error);
	if (r < 0)
		cmd_fail("%s", error);
	else if (r == 0)
		cmd_fail("no such user: %s", address);
	return r > 0 ? u : NULL;
}

static int user_add(struct cmd_ctx *ctx, struct directory *dir, pool_t *pool, const char *address,
	struct cmd_opt *o, uint64_t quota)
{
	bool generated;
	int rc = 0;
	char *password = user_password(&o[O_PW], &o[O_PW_STDIN], &generated, &rc);
	if (password == NULL)
		return rc;
	struct directory_user_spec spec = {
		.address = address,
		.display_name = o[O_NAME].set ? o[O_NAME].value : NULL,
		.password = password,
		.quota = quota,
		.nt_hash = o[O_NT].set,
		.disabled = o[O_DISABLED].set,
	};
	struct directory_user *u;
	const char *error;
	if (directory_user_add(dir, &spec, pool, &u, &error) < 0) {
		rc = cmd_fail("%s", error);
	} else if (cmd_mailbox_create(ctx, u, &error) < 0) {
		/* Keep directory and store in step: no user without a mailbox. */
		char *msg = strdup(error);
		const char *e2;
		if (directory_user_del(dir, u->id, &e2) < 0)
			cmd_fail("%s: cannot delete the user again: %s", u->address, e2);
		rc = cmd_fail("%s: cannot create the mailbox: %s", u->address, msg);
		free(msg);
	} else {
		printf("user %s added (id %lld)\n", u->address, (long long)u->id);
		if (generated)
			printf("password: %s\n", password);
	}
	user_password_free(password);
	return rc;
}

static int user_show(struct directory *dir, pool_t *pool, const char *address)
{
	struct directory_user *u = user_find(dir, address, pool);
	if (u == NULL)
		return 1;
	const char **aliases;
	size_t n;
	const char *error;
	if (directory_alias_list(dir, u->id, pool, &aliases, &n, &error) < 0)
		return cmd_fail("%s", error);
	char guid[GUID_STR_LEN + 1], quota[64], created[TIME_ISO8601_MAX];
	guid_format(&u->mailbox_guid, guid);
	cmd_format_quota(u->quota, quota, sizeof(quota));
	time_format_iso8601(u->created, -1, created);
	printf("address:       %s\n", u->address);
	printf("display name:  %s\n", u->display_name);
	printf("id:            %lld\n", (long long)u->id);
	printf("status:        %s\n", u->enabled ? "enabled" : "disabled");
	printf("quota:         %s\n", quota);
	printf("password:      %s\n", u->has_password ? "set" : "none");
	printf("nt hash:       %s\n", u->has_nt_hash ? "stored" : "none");
	printf("mailbox guid:  %s\n", guid);
	printf("legacy dn:     %s\n", u->legacy_dn);
	printf("created:       %s\n", created);
	printf("aliases:      ");
	for (size_t i = 0; i < n; i++)
		printf(" %s", aliases[i]);
	printf("%s\n", n == 0 ? " none" : "");
	return 0;
}

static int user_list(struct directory *dir, pool_t *pool, const char *domain)
{
	struct directory_user *users;
	size_t n;
	const char *error;
	if (directory_user_list(dir, domain, pool, &users, &n, &error) < 0)
		return cmd_fail("%s", error);
	for (size_t i = 0; i < n; i++) {
		char quota[64];
		cmd_format_quota(users[i].quota, quota, sizeof(quota));
		printf("%s\t%s\t%s\t%s\n", users[i].address, users[i].display_name,
			users[i].enabled ? "enabled" : "disabled", quota);
	}
	return 0;
}

static int user_passwd(struct directory *dir, pool_t *pool, const char *address,
	struct cmd_opt *o)
{
	struct directory_user *u = user_find(dir, address, pool);
	if (u == NULL)
		return 1;
	bool generated;
	int rc = 0;
	char *password = user_password(&o[O_PW], &o[O_PW_STDIN], &generated, &rc);
	if (password == NULL)
		return rc;
	enum directory_nt_hash nt = o[O_NT].set	     ? DIRECTORY_NT_HASH_STORE
				    : o[O_NO_NT].set ? DIRECTORY_NT_HASH_REMOVE
						     : DIRECTORY_NT_HASH_KEEP;
	const char *error;
	int r = directory_user_set_password(dir, u->id, password, nt, &error);
	if (r < 0)
		rc = cmd_fail("%s", error);
	else if (r == 0)
		rc = cmd_fail("no such user: %s", address);
	else {
		printf("password of %s changed\n", u->address);
		if (generated)
			printf("password: %s\n", password);
	}
	user_password_free(password);
	return rc;
}

static int user_set(struct directory *dir, pool_t *pool, const char *address, struct cmd_opt *o,
	uint64_t quota)
{
	struct directory_user *u = user_find(dir, address, pool);
	if (u == NULL)
		return 1;
	const char *error;
	int r = 1;
	if (o[O_NAME].set)
		r = directory_user_set_display_name(dir, u->id, o[O_NAME].value, &error);
	if (r > 0 && o[O_QUOTA].set)
		r = directory_user_set_quota(dir, u->id, quota, &error);
	if (r < 0)
		return cmd_fail("%s", error);
	if (r == 0)
		return cmd_fail("no such user: %s", address);
	printf("user %s changed\n", u->address);
	return 0;
}

static int user_auth(struct cmd_ctx *ctx, struct directory *dir, pool_t *pool, const char *address,
	struct cmd_opt *o)
{
	bool generated;
	int rc = 0;
	char *password = user_password(&o[O_PW], &o[O_PW_STDIN], &generated, &rc);
	if (password == NULL)
		return rc;
	/* The path `hermod serve` takes, throttle included (one attempt is
	 * never throttled, but the [auth] settings are read and used). */
	struct directory_throttle *throttle = cmd_directory_throttle_new(ctx);
	struct directory_user *u;
	const char *error;
	enum directory_auth_result r =
		directory_auth_plain(dir, throttle, address, password, NULL, pool, &u, &error);
	if (r == DIRECTORY_AUTH_OK)
		printf("ok: %s\n", u->address);
	else if (r == DIRECTORY_AUTH_ERROR)
		rc = cmd_fail("%s", error);
	else
		rc = cmd_fail("authentication %s: %s", directory_auth_result_name(r), error);
	directory_throttle_free(&throttle);
	user_password_free(password);
	return rc;
}

static int user_simple(struct cmd_ctx *ctx, struct directory *dir, pool_t *pool,
	const char *action, const char *address)
{
	struct directory_user *u = user_find(dir, address, pool);
	if (u == NULL)
		return 1;
	const char *error;
	int r;
	if (strcmp(action, "del") == 0)
		r = directory_user_del(dir, u->id, &error);
	else
		r = directory_user_set_enabled(dir, u->id, strcmp(action, "enable") == 0, &error);
	if (r < 0)
		return cmd_fail("%s", error);
	if (r == 0)
		return cmd_fail("no such user: %s", address);
	if (strcmp(action, "del") == 0) {
		printf("user %s deleted\n", u->address);
		if (cmd_mailbox_delete(ctx, u, &error) < 0)
			return cmd_fail("%s: cannot delete the mailbox: %s", u->address, error);
	} else {
		printf("user %s %sd\n", u->address, action);
	}
	return 0;
}

static int user_alias(struct directory *dir, pool_t *pool, bool add, const char *address,
	const char *alias)
{
	struct directory_user *u = user_find(dir, address, pool);
	if (u == NULL)
		return 1;
	const char *error;
	int r = add ? directory_alias_add(dir, u->id, alias, &error)
		    : directory_alias_del(dir, u->id, alias, &error);
	if (r < 0)
		return cmd_fail("%s", error);
	if (r == 0)
		return add ? cmd_fail("no such user: %s", address)
			   : cmd_fail("%s is not an alias of %s", alias, u->address);
	printf("alias %s %s %s\n", alias, add ? "added to" : "removed from", u->address);
	return 0;
}

/* user send-as add|del USER TARGET, user send-as list USER. */
static int user_send_as(struct directory *dir, pool_t *pool, const char *what, const char *address,
	const char *target)
{
	struct directory_user *u = user_find(dir, address, pool);
	if (u == NULL)
		return 1;
	const char *error;
	if (strcmp(what, "list") == 0) {
		struct directory_recipient *t;
		size_t n;
		if (directory_send_as_list(dir, u->id, pool, &t, &n, &error) < 0)
			return cmd_fail("%s", error);
		for (size_t i = 0; i < n; i++)
			printf("%s\t%s\t%s\n", t[i].address,
				t[i].kind == DIRECTORY_RECIPIENT_GROUP ? "group" : "user",
				t[i].display_name);
		return 0;
	}
	bool add = strcmp(what, "add") == 0;
	int r = add ? directory_send_as_add(dir, u->id, target, &error)
		    : directory_send_as_del(dir, u->id, target, &error);
	if (r < 0)
		return cmd_fail("%s", error);
	if (r == 0)
		return add ? cmd_fail("no such user: %s", address)
			   : cmd_fail("%s may not send as %s", u->address, target);
	printf("%s %s send as %s\n", u->address, add ? "may now" : "may no longer", target);
	return 0;
}

static int cmd_user_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_opt opts[] = {
		[O_PW] = {"password", true, false, NULL},
		[O_PW_STDIN] = {"password-stdin", false, false, NULL},
		[O_NAME] = {"name", true, false, NULL},
		[O_QUOTA] = {"quota", true, false, NULL},
		[O_NT] = {"nt-hash", false, false, NULL},
		[O_NO_NT] = {"no-nt-hash", false, false, NULL},
		[O_DISABLED] = {"disabled", false, false, NULL},
		[O_END] = {NULL, false, false, NULL},
	};
	/* Which options each action takes. */
	static const struct {
		const char *action;
		int args; /* positional arguments after the action */
		unsigned opts;
	} actions[] = {
		{"add", 1,
			1u << O_PW | 1u << O_PW_STDIN | 1u << O_NAME | 1u << O_QUOTA | 1u << O_NT |
				1u << O_DISABLED},
		{"list", -1, 0},
		{"show", 1, 0},
		{"del", 1, 0},
		{"passwd", 1, 1u << O_PW | 1u << O_PW_STDIN | 1u << O_NT | 1u << O_NO_NT},
		{"set", 1, 1u << O_NAME | 1u << O_QUOTA},
		{"enable", 1, 0},
		{"disable", 1, 0},
		{"alias", 3, 0},
		{"send-as", -1, 0}, /* 2 or 3: checked below */
		{"auth", 1, 1u << O_PW | 1u << O_PW_STDIN},
	};
	const char *pos[6];
	int n;
	if (argc < 2)
		return user_usage_error("missing action");
	if (cmd_parse_opts(argc - 1, argv + 1, opts, pos, 6, &n) < 0)
		return cmd_usage(&cmd_user);
	size_t k = 0;
	while (k < sizeof(actions) / sizeof(actions[0]) && strcmp(actions[k].action, pos[0]) != 0)
		k++;
	if (k == sizeof(actions) / sizeof(actions[0]))
		return user_usage_error("unknown action");
	if (actions[k].args >= 0 && n - 1 != actions[k].args)
		return user_usage_error(actions[k].args == 1 ? "expected one ADDRESS"
							     : "wrong number of arguments");
	const char *a = pos[0];
	bool send_as = strcmp(a, "send-as") == 0;
	if (send_as && !(n == 3 && strcmp(pos[1], "list") == 0) &&
		!(n == 4 && (strcmp(pos[1], "add") == 0 || strcmp(pos[1], "del") == 0)))
		return user_usage_error("expected send-as add|del USER TARGET or send-as list USER");
	if (!send_as && actions[k].args < 0 && n > 2)
		return user_usage_error("list takes at most a DOMAIN");
	for (int i = 0; i < O_END; i++) {
		if (opts[i].set && !(actions[k].opts & (1u << i))) {
			fprintf(stderr, "hermod: user %s does not take --%s\n", pos[0],
				opts[i].name);
			return cmd_usage(&cmd_user);
		}
	}
	/* Every usage error is found before the database is opened. */
	if (strcmp(a, "alias") == 0 && strcmp(pos[1], "add") != 0 && strcmp(pos[1], "del") != 0)
		return user_usage_error("expected alias add|del ADDRESS ALIAS");
	if (opts[O_PW].set && opts[O_PW_STDIN].set)
		return user_usage_error("--password and --password-stdin exclude each other");
	if (opts[O_NT].set && opts[O_NO_NT].set)
		return user_usage_error("--nt-hash and --no-nt-hash exclude each other");
	uint64_t quota = 0;
	if (opts[O_QUOTA].set && cmd_parse_quota(opts[O_QUOTA].value, &quota) < 0)
		return user_usage_error("--quota: not a size (a number with optional k, m or g, "
					"or 'unlimited')");
	if (strcmp(a, "set") == 0 && !opts[O_NAME].set && !opts[O_QUOTA].set)
		return user_usage_error("set needs --name or --quota");
	if (strcmp(a, "auth") == 0 && !opts[O_PW].set && !opts[O_PW_STDIN].set)
		return user_usage_error("auth needs --password or --password-stdin");

	struct directory *dir = cmd_directory_open(ctx);
	if (dir == NULL)
		return 1;
	pool_t *pool = pool_new("user", 0);
	int rc;
	if (strcmp(a, "add") == 0)
		rc = user_add(ctx, dir, pool, pos[1], opts, quota);
	else if (strcmp(a, "list") == 0)
		rc = user_list(dir, pool, n > 1 ? pos[1] : NULL);
	else if (strcmp(a, "show") == 0)
		rc = user_show(dir, pool, pos[1]);
	else if (strcmp(a, "passwd") == 0)
		rc = user_passwd(dir, pool, pos[1], opts);
	else if (strcmp(a, "set") == 0)
		rc = user_set(dir, pool, pos[1], opts, quota);
	else if (strcmp(a, "alias") == 0)
		rc = user_alias(dir, pool, strcmp(pos[1], "add") == 0, pos[2], pos[3]);
	else if (send_as)
		rc = user_send_as(dir, pool, pos[1], pos[2], n > 3 ? pos[3] : NULL);
	else if (strcmp(a, "auth") == 0)
		rc = user_auth(ctx, dir, pool, pos[1], opts);
	else
		rc = user_simple(ctx, dir, pool, a, pos[1]);
	pool_free(&pool);
	directory_close(&dir);
	return rc;
}

const struct cmd cmd_user = {"user",
	"user add ADDRESS [--password PW | --password-stdin] [--name NAME] [--quota SIZE] "
	"[--nt-hash] [--disabled]\n"
	"user list [DOMAIN]\n"
	"user show ADDRESS\n"
	"user del ADDRESS\n"
	"user passwd ADDRESS [--password PW | --password-stdin] [--nt-hash | --no-nt-hash]\n"
	"user set ADDRESS [--name NAME] [--quota SIZE]\n"
	"user enable|disable ADDRESS\n"
	"user alias add|del ADDRESS ALIAS\n"
	"user send-as add|del USER TARGET\n"
	"user send-as list USER\n"
	"user auth ADDRESS --password PW | --password-stdin",
	"manage users, their passwords, aliases and Send As grants (no --password: one is "
	"generated and printed)",
	cmd_user_run};
