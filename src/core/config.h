/* Configuration: INI files read with libinih, checked against one table of
 * declared settings.
 *
 * Every setting is declared once (section, name, type, default, bounds, help)
 * in a struct config_setting table that the program hands to config_new.
 * Reading a file rejects unknown sections and keys, values of the wrong type
 * and values out of bounds, naming the file, the line and the reason. */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum config_type {
	CONFIG_TYPE_STRING,
	CONFIG_TYPE_INT,   /* signed 64-bit, within [min, max] */
	CONFIG_TYPE_BOOL,  /* yes/no, true/false, on/off, 1/0 */
	CONFIG_TYPE_SIZE,  /* bytes, with optional k/m/g suffix (powers of 1024) */
	CONFIG_TYPE_TIME,  /* seconds, with optional s/m/h/d suffix */
	CONFIG_TYPE_LIST,  /* comma- or space-separated strings */
};

struct config_setting {
	const char *section;
	const char *name;
	enum config_type type;
	const char *def; /* default, written as it would be in the file; NULL: unset */
	int64_t min, max; /* bounds for INT, SIZE, TIME; min == max == 0: unbounded */
	const char *help;
};

struct config;

/* A configuration holding the defaults of settings[] (terminated by an
 * entry with name NULL). The table must outlive the configuration. Never
 * returns NULL; aborts if a default itself is invalid (a bug). */
struct config *config_new(const struct config_setting *settings);
void config_free(struct config **cfg);

/* Reads an INI file over the current values. Returns 0, or -1 with *error_r
 * set to "FILE:LINE: reason" (owned by cfg, valid until the next call). */
int config_load_file(struct config *cfg, const char *path, const char **error_r);
/* Same for INI text already in memory; name is used in error messages. */
int config_load_string(struct config *cfg, const char *name, const char *text,
	const char **error_r);
/* Sets one value as if it came from a file ("section", "name", "value"). */
int config_set(struct config *cfg, const char *section, const char *name, const char *value,
	const char **error_r);

/* Getters panic if the setting is not declared with that type (a bug). */
const char *config_get_str(const struct config *cfg, const char *section, const char *name);
int64_t config_get_int(const struct config *cfg, const char *section, const char *name);
bool config_get_bool(const struct config *cfg, const char *section, const char *name);
uint64_t config_get_size(const struct config *cfg, const char *section, const char *name);
int64_t config_get_time(const struct config *cfg, const char *section, const char *name);
/* A NULL-terminated array of the list's items, owned by cfg. */
const char *const *config_get_list(const struct config *cfg, const char *section,
	const char *name);

/* Writes every setting with its help line and current value, as INI. */
void config_dump(const struct config *cfg, FILE *out);

/* Parsers shared with other code (command-line flags). 0 or -1. */
int config_parse_size(const char *s, uint64_t *r);
int config_parse_time(const char *s, int64_t *r);
int config_parse_bool(const char *s, bool *r);

#endif
