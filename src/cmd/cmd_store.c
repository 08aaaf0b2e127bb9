/* The store from the CLI: settings from [store], opening it. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd_store.h"
#include "core/config.h"

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
