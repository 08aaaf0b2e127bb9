/* Fuzzes the INI configuration reader with a representative settings table. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct config_setting fuzz_settings[] = {
	{"server", "hostname", CONFIG_TYPE_STRING, "localhost", 0, 0, "h"},
	{"server", "workers", CONFIG_TYPE_INT, "4", 1, 256, "w"},
	{"server", "debug", CONFIG_TYPE_BOOL, "no", 0, 0, "d"},
	{"imap", "max_literal", CONFIG_TYPE_SIZE, "50m", 1, 1LL << 40, "m"},
	{"imap", "timeout", CONFIG_TYPE_TIME, "30m", 0, 0, "t"},
	{"imap", "listen", CONFIG_TYPE_LIST, "127.0.0.1:1143", 0, 0, "l"},
	{NULL, NULL, 0, NULL, 0, 0, NULL},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct config *cfg = config_new(fuzz_settings);
	const char *error;
	if (config_load_string(cfg, "fuzz.ini", text, &error) == 0) {
		(void)config_get_str(cfg, "server", "hostname");
		(void)config_get_list(cfg, "imap", "listen");
	}
	config_free(&cfg);
	free(text);
	return 0;
}
