/* The store from the CLI: settings from [store], opening it. */
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "cmd/cmd_directory.h"
#include "cmd/cmd_store.h"
#include "core/config.h"
#include "core/hm_time.h"
#include "mapi/namedprop.h"
#include "mapi/propval.h"
#include "mapi/tags.h"
#include "store/table.h"

int cmd_store_settings(const struct cmd_ctx *ctx, struct store_settings *s, const char **error_r)
{
	const struct config *cfg = ctx->cfg;
	store_settings_default(s);
	s->data_dir = ctx->data_dir;
	const char *d = config_get_str(cfg, "store", "durability");
	if (strcmp(d, "full") == 0) {
		s->default_durability = STORE_DURABILITY_FULL;
	} else if (strcmp(d, "normal") == 0) {
		s->default_durability = STORE_DURABILITY_NORMAL;
	} else {
		*error_r = "[store] durability must be full or normal";
		return -1;
	}
	s->max_value_size = config_get_size(cfg, "store", "max_value_size");
	s->max_props_per_object = (uint32_t)config_get_int(cfg, "store", "max_props_per_object");
	s->max_recipients = (uint32_t)config_get_int(cfg, "store", "max_recipients");
	s->max_attachments = (uint32_t)config_get_int(cfg, "store", "max_attachments");
	s->max_embed_depth = (uint32_t)config_get_int(cfg, "store", "max_embed_depth");
	s->max_restriction_depth = (uint32_t)config_get_int(cfg, "store", "max_restriction_depth");
	s->max_mv_count = (uint32_t)config_get_int(cfg, "store", "max_mv_count");
	s->blob_threshold = config_get_size(cfg, "store", "blob_threshold");
	s->max_inline_get = config_get_size(cfg, "store", "max_inline_get");
	s->read_connections = (uint32_t)config_get_int(cfg, "store", "read_connections");
	s->tombstone_days = (uint32_t)config_get_int(cfg, "store", "tombstone_days");
	return 0;
}

struct store *cmd_store_open(struct cmd_ctx *ctx)
{
	struct store_settings s;
	const char *error;
	if (cmd_store_settings(ctx, &s, &error) < 0) {
		cmd_fail("%s", error);
		return NULL;
	}
	struct store *store;
	if (store_new(&s, &store, &error) < 0) {
		cmd_fail("cannot open the store in %s: %s", ctx->data_dir, error);
		return NULL;
	}
	return store;
}

/* --- hermod store ls | show --- */

static void fmt_id(mapi_id_t id, char *out, size_t n)
{
	snprintf(out, n, "%u-%012llx", mapi_id_replid(id), (unsigned long long)mapi_id_globcnt(id));
}

/* "1-00000000000c", "0x..." (the whole 64-bit ID) or a decimal global
 * counter. 0 or -1. */
static int parse_id(const char *s, mapi_id_t *id_r)
{
	char *end;
	if (strncmp(s, "0x", 2) == 0) {
		unsigned long long v = strtoull(s + 2, &end, 16);
		if (*end != '\0' || end == s + 2)
			return -1;
		*id_r = v;
		return 0;
	}
	const char *dash = strchr(s, '-');
	if (dash != NULL) {
		unsigned long r = strtoul(s, &end, 10);
		if (end != dash || r == 0 || r > 0xffff)
			return -1;
		unsigned long long g = strtoull(dash + 1, &end, 16);
		if (*end != '\0' || end == dash + 1 || g > 0xffffffffffffULL)
			return -1;
		*id_r = mapi_id_make((uint16_t)r, g);
		return 0;
	}
	unsigned long long g = strtoull(s, &end, 10);
	if (*end != '\0' || end == s || g == 0 || g > 0xffffffffffffULL)
		return -1;
	*id_r = mapi_id_make(1, g);
	return 0;
}

/* Opens USER's mailbox with the system logon. */
static struct store_mailbox *open_user(struct cmd_ctx *ctx, struct store **store_r,
	const char *address)
{
	struct directory *dir = cmd_directory_open(ctx);
	if (dir == NULL)
		return NULL;
	pool_t *pool = pool_new("store cli", 0);
	struct directory_user *u = NULL;
	const char *error = NULL;
	int r = directory_user_get(dir, address, pool, &u, &error);
	struct guid g = {0};
	if (r > 0)
		g = u->mailbox_guid;
	directory_close(&dir);
	pool_free(&pool);
	if (r < 0) {
		cmd_fail("%s: %s", address, error != NULL ? error : "directory error");
		return NULL;
	}
	if (r == 0) {
		cmd_fail("%s: no such user", address);
		return NULL;
	}
	struct store *store = cmd_store_open(ctx);
	if (store == NULL)
		return NULL;
	struct store_logon logon = {.principal = address, .flags = STORE_LOGON_SYSTEM};
	struct store_mailbox *mb;
	uint32_t ec = store_mailbox_open(store, &g, &logon, &mb);
	if (ec != ecSuccess) {
		cmd_fail("%s: cannot open the mailbox: %s", address, mapi_ec_name(ec));
		store_free(&store);
		return NULL;
	}
	*store_r = store;
	return mb;
}

static const char *pstr(const struct mapi_propval *pv)
{
	return pv != NULL && mapi_ptype_is_string(PROP_TYPE(pv->tag)) ? pv->v.str : "";
}

static int32_t plong(const struct mapi_propval *pv)
{
	return pv != NULL && PROP_TYPE(pv->tag) == PT_LONG ? pv->v.l : 0;
}

static int ls_folders(struct store_mailbox *mb, pool_t *pool)
{
	mapi_id_t root = store_mailbox_special_fid(mb, STORE_SPECIAL_ROOT);
	struct store_table *t;
	uint32_t ec = store_table_open_hierarchy(mb, root, true, &t);
	if (ec != ecSuccess)
		return cmd_fail("cannot list folders: %s", mapi_ec_name(ec));
	uint32_t cols[] = {PR_DISPLAY_NAME, PR_DEPTH, PR_CONTAINER_CLASS, PR_CONTENT_COUNT,
		PR_CONTENT_UNREAD, PR_ASSOC_CONTENT_COUNT, PR_FOLDER_TYPE, PR_PARENT_FOLDER_ID};
	struct mapi_tags ct = {8, cols};
	store_table_set_columns(t, &ct);
	struct store_rows rows;
	ec = store_table_query_rows(t, 100000, true, 0, pool, &rows, NULL);
	store_table_close(&t);
	if (ec != ecSuccess)
		return cmd_fail("cannot list folders: %s", mapi_ec_name(ec));
	/* Depth-first order from the flat list: children after parents. */
	char id[32];
	fmt_id(root, id, sizeof(id));
	printf("%-16s %6s %6s %5s  %s\n", "FID", "MSGS", "UNREAD", "FAI", "FOLDER");
	printf("%-16s %6d %6d %5d  %s\n", id, 0, 0, 0, "Root");
	bool *done = calloc(rows.count + 1, sizeof(bool));
	mapi_id_t stack[256];
	int top = 0;
	stack[top++] = root;
	while (top > 0) {
		mapi_id_t parent = stack[top - 1];
		int next = -1;
		for (uint32_t i = 0; i < rows.count && next < 0; i++) {
			if (done[i])
				continue;
			const struct mapi_propval *p = &rows.rows[i].vals[7];
			if (PROP_TYPE(p->tag) == PT_I8 && (mapi_id_t)p->v.li == parent)
				next = (int)i;
		}
		if (next < 0) {
			top--;
			continue;
		}
		done[next] = true;
		struct mapi_propvals *r = &rows.rows[next];
		fmt_id(rows.ids[next], id, sizeof(id));
		int depth = plong(&r->vals[1]);
		printf("%-16s %6d %6d %5d  %*s%s", id, plong(&r->vals[3]), plong(&r->vals[4]),
			plong(&r->vals[5]), 2 * depth, "", pstr(&r->vals[0]));
		if (pstr(&r->vals[2])[0] != '\0')
			printf(" [%s]", pstr(&r->vals[2]));
		if (plong(&r->vals[6]) == STORE_FOLDER_SEARCH)
			printf(" (search)");
		putchar('\n');
		if (top < 256)
			stack[top++] = rows.ids[next];
	}
	free(done);
	return 0;
}

static int ls_messages(struct store_mailbox *mb, mapi_id_t fid, pool_t *pool)
{
	struct store_table *t;
	uint32_t ec = store_table_open_contents(mb, fid, false, &t);
	if (ec != ecSuccess)
		return cmd_fail("cannot list messages: %s", mapi_ec_name(ec));
	uint32_t cols[] = {PR_INTERNET_ARTICLE_NUMBER, PR_MESSAGE_DELIVERY_TIME, PR_MESSAGE_FLAGS,
		PR_MESSAGE_SIZE, PR_SENDER_NAME, PR_SUBJECT};
	struct mapi_tags ct = {6, cols};
	store_table_set_columns(t, &ct);
	struct mapi_sort s = {PR_INTERNET_ARTICLE_NUMBER, TABLE_SORT_ASCEND};
	struct mapi_sort_order so = {1, 0, 0, &s};
	store_table_sort(t, &so);
	printf("%-6s %-16s %-20s %-5s %8s  %-20s %s\n", "UID", "MID", "RECEIVED", "READ", "SIZE",
		"FROM", "SUBJECT");
	for (;;) {
		struct store_rows rows;
		ec = store_table_query_rows(t, 500, true, 0, pool, &rows, NULL);
		if (ec != ecSuccess || rows.count == 0)
			break;
		for (uint32_t i = 0; i < rows.count; i++) {
			struct mapi_propvals *r = &rows.rows[i];
			char id[32], when[TIME_ISO8601_MAX] = "-";
			fmt_id(rows.ids[i], id, sizeof(id));
			if (PROP_TYPE(r->vals[1].tag) == PT_SYSTIME)
				time_format_iso8601(time_filetime_to_unix(r->vals[1].v.ft, NULL), -1, when);
			printf("%-6d %-16s %-20s %-5s %8d  %-20.20s %s\n", plong(&r->vals[0]), id, when,
				(plong(&r->vals[2]) & 1) ? "yes" : "no", plong(&r->vals[3]),
				pstr(&r->vals[4]), pstr(&r->vals[5]));
		}
		pool_clear(pool);
	}
	store_table_close(&t);
	return ec == ecSuccess ? 0 : cmd_fail("cannot list messages: %s", mapi_ec_name(ec));
}

/* Prints properties one a line: name, type, value. */
static void print_props(struct store_mailbox *mb, const struct mapi_propvals *v, const char *indent,
	pool_t *pool)
{
	for (uint32_t i = 0; i < v->count; i++) {
		const struct mapi_propval *pv = &v->vals[i];
		struct buf name, val;
		buf_init(&name, pool);
		buf_init(&val, pool);
		struct mapi_propname pn;
		if (PROP_ID(pv->tag) >= PROP_ID_NAMED_MIN &&
			store_id_to_named(mb, PROP_ID(pv->tag), pool, &pn) == ecSuccess) {
			mapi_propname_format(&pn, &name);
			buf_printf(&name, " (0x%08x)", pv->tag);
		} else {
			mapi_tag_format(pv->tag, &name);
		}
		mapi_pvalue_format(PROP_TYPE(pv->tag), &pv->v, 96, &val);
		const char *tn = mapi_ptype_name(PROP_TYPE(pv->tag));
		printf("%s%-44s %-14s %s\n", indent, buf_cstr(&name), tn != NULL ? tn : "?",
			buf_cstr(&val));
	}
}

static int show_message(struct store_mailbox *mb, mapi_id_t fid, mapi_id_t mid, pool_t *pool)
{
	struct store_message *msg;
	uint32_t ec = store_message_open(mb, fid, mid, 0, &msg);
	if (ec != ecSuccess)
		return cmd_fail("cannot open the message: %s", mapi_ec_name(ec));
	char id[32], fidtxt[32];
	fmt_id(mid, id, sizeof(id));
	fmt_id(fid, fidtxt, sizeof(fidtxt));
	printf("message %s in folder %s\n", id, fidtxt);
	struct mapi_propvals v;
	ec = store_message_get_props(msg, NULL, pool, &v);
	if (ec == ecSuccess)
		print_props(mb, &v, "  ", pool);
	struct store_blob_ref mime;
	if (store_message_get_mime(msg, &mime) == ecSuccess)
		printf("  MIME: %llu bytes\n", (unsigned long long)mime.size);
	struct mapi_propvals *rcpts;
	uint32_t n;
	if (store_message_get_recipients(msg, pool, &rcpts, &n) == ecSuccess && n > 0) {
		printf("recipients:\n");
		for (uint32_t i = 0; i < n; i++) {
			printf("  recipient %u\n", i);
			print_props(mb, &rcpts[i], "    ", pool);
		}
	}
	uint32_t *nums;
	if (store_message_attach_nums(msg, pool, &nums, &n) == ecSuccess && n > 0) {
		printf("attachments:\n");
		for (uint32_t i = 0; i < n; i++) {
			struct store_attach *att;
			if (store_message_open_attach(msg, nums[i], 0, &att) != ecSuccess)
				continue;
			printf("  attachment %u\n", nums[i]);
			struct mapi_propvals av;
			if (store_attach_get_props(att, NULL, pool, &av) == ecSuccess)
				print_props(mb, &av, "    ", pool);
			store_attach_close(&att);
		}
	}
	store_message_close(&msg);
	return ec == ecSuccess ? 0 : cmd_fail("cannot read the message: %s", mapi_ec_name(ec));
}

static int cmd_store_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	if (argc < 3 || argc > 4)
		return cmd_usage(&cmd_store);
	bool ls = strcmp(argv[1], "ls") == 0, show = strcmp(argv[1], "show") == 0;
	if (!ls && !show)
		return cmd_usage(&cmd_store);
	if (show && argc != 4)
		return cmd_usage(&cmd_store);
	struct store *store = NULL;
	struct store_mailbox *mb = open_user(ctx, &store, argv[2]);
	if (mb == NULL)
		return 1;
	pool_t *pool = pool_new("store cli", 0);
	int rc = 0;
	if (ls && argc == 3) {
		rc = ls_folders(mb, pool);
	} else if (ls) {
		/* Paths are relative to the Top of Information Store, else to
		 * the Root. */
		mapi_id_t fid;
		uint32_t ec = store_folder_find_path(mb,
			store_mailbox_special_fid(mb, STORE_SPECIAL_IPM_SUBTREE), argv[3], '/', &fid);
		if (ec == ecNotFound)
			ec = store_folder_find_path(mb, store_mailbox_special_fid(mb, STORE_SPECIAL_ROOT),
				argv[3], '/', &fid);
		rc = ec == ecSuccess ? ls_messages(mb, fid, pool)
				     : cmd_fail("%s: no such folder", argv[3]);
	} else {
		mapi_id_t id, fid = 0;
		if (parse_id(argv[3], &id) < 0) {
			rc = cmd_fail("%s: not an ID (1-00000000000c, 0x..., or a number)", argv[3]);
		} else {
			int kind = store_object_kind(mb, id, &fid);
			if (kind == 1) {
				char txt[32];
				fmt_id(id, txt, sizeof(txt));
				printf("folder %s\n", txt);
				struct mapi_propvals v;
				uint32_t ec = store_folder_get_props(mb, id, NULL, pool, &v);
				if (ec == ecSuccess)
					print_props(mb, &v, "  ", pool);
				else
					rc = cmd_fail("cannot read the folder: %s", mapi_ec_name(ec));
			} else if (kind == 2) {
				rc = show_message(mb, fid, id, pool);
			} else {
				rc = cmd_fail("%s: no such folder or message", argv[3]);
			}
		}
	}
	pool_free(&pool);
	store_mailbox_close(&mb);
	store_free(&store);
	return rc;
}

const struct cmd cmd_store = {"store", "store ls USER [FOLDER-PATH]\nstore show USER ID",
	"list a mailbox's folders or messages, show an object's properties", cmd_store_run};
