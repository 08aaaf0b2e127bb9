#include "core/config.h"

#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"

struct config_value {
	char *text; /* as written; NULL: unset */
	int64_t i;  /* INT, SIZE, TIME, BOOL */
	char **list; /* LIST: NULL-terminated */
};

struct config {
	const struct config_setting *settings;
	size_t count;
	struct config_value *values;
	char error[512];
};

/* State of one parse: which file and line, and the first error found. */
struct config_parse {
	struct config *cfg;
	const char *name;
	int line;
	int error_line;
	char reason[400];
	/* Reader state for ini_parse_stream. */
	const char *text;
	FILE *fp;
};

static void config_value_clear(struct config_value *v)
{
	free(v->text);
	v->text = NULL;
	if (v->list != NULL) {
		for (char **p = v->list; *p != NULL; p++)
			free(*p);
		free(v->list);
		v->list = NULL;
	}
	v->i = 0;
}

int config_parse_bool(const char *s, bool *r)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (str_case_eq(s, yes[i])) {
			*r = true;
			return 0;
		}
		if (str_case_eq(s, no[i])) {
			*r = false;
			return 0;
		}
	}
	return -1;
}

static int config_parse_suffixed(const char *s, const char *suffixes, const uint64_t *mult,
	uint64_t *r)
{
	size_t len = strlen(s);
	uint64_t m = 1;
	if (len > 0 && s[len - 1] != '\0') {
		const char *p = strchr(suffixes, ascii_tolower((unsigned char)s[len - 1]));
		if (p != NULL && *p != '\0') {
			m = mult[p - suffixes];
			len--;
		}
	}
	uint64_t v;
	if (str_to_u64_n(s, len, UINT64_MAX, &v) < 0)
		return -1;
	if (v != 0 && m > UINT64_MAX / v)
		return -1;
	*r = v * m;
	return 0;
}

int config_parse_size(const char *s, uint64_t *r)
{
	static const uint64_t mult[] = {1, 1024, 1024 * 1024, 1024 * 1024 * 1024ULL};
	return config_parse_suffixed(s, "bkmg", mult, r);
}

int config_parse_time(const char *s, int64_t *r)
{
	static const uint64_t mult[] = {1, 60, 3600, 86400};
	uint64_t v;
	if (config_parse_suffixed(s, "smhd", mult, &v) < 0 || v > INT64_MAX)
		return -1;
	*r = (int64_t)v;
	return 0;
}

static char **config_split_list(const char *s)
{
	size_t n = 0, cap = 4;
	char **list = xcalloc(cap + 1, sizeof(char *));
	const char *p = s;
	while (*p != '\0') {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		const char *start = p;
		while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		if (p > start) {
			if (n == cap) {
				cap *= 2;
				list = xrealloc(list, (cap + 1) * sizeof(char *));
			}
			list[n++] = xstrndup(start, (size_t)(p - start));
		}
	}
	list[n] = NULL;
	return list;
}

/* Parses text for setting s into v. Returns 0, or -1 with reason set. */
static int config_value_parse(const struct config_setting *s, const char *text,
	struct config_value *v, char *reason, size_t reason_size)
{
	struct config_value nv = {0};
	bool b;
	uint64_t u;
	switch (s->type) {
	case CONFIG_TYPE_STRING:
		break;
	case CONFIG_TYPE_INT:
		if (str_to_i64(text, &nv.i) < 0) {
			snprintf(reason, reason_size, "%s: '%s' is not an integer", s->name, text);
			return -1;
		}
		break;
	case CONFIG_TYPE_BOOL:
		if (config_parse_bool(text, &b) < 0) {
			snprintf(reason, reason_size, "%s: '%s' is not yes or no", s->name, text);
			return -1;
		}
		nv.i = b;
		break;
	case CONFIG_TYPE_SIZE:
		if (config_parse_size(text, &u) < 0 || u > INT64_MAX) {
			snprintf(reason, reason_size,
				"%s: '%s' is not a size (a number with optional k, m or g)", s->name,
				text);
			return -1;
		}
		nv.i = (int64_t)u;
		break;
	case CONFIG_TYPE_TIME:
		if (config_parse_time(text, &nv.i) < 0) {
			snprintf(reason, reason_size,
				"%s: '%s' is not a duration (a number with optional s, m, h or d)",
				s->name, text);
			return -1;
		}
		break;
	case CONFIG_TYPE_LIST:
		break;
	}
	if ((s->type == CONFIG_TYPE_INT || s->type == CONFIG_TYPE_SIZE ||
		    s->type == CONFIG_TYPE_TIME) &&
		(s->min != 0 || s->max != 0) && (nv.i < s->min || nv.i > s->max)) {
		snprintf(reason, reason_size, "%s: %s is out of range [%lld, %lld]", s->name, text,
			(long long)s->min, (long long)s->max);
		return -1;
	}
	config_value_clear(v);
	v->i = nv.i;
	v->text = xstrdup(text);
	if (s->type == CONFIG_TYPE_LIST)
		v->list = config_split_list(text);
	return 0;
}

static const struct config_setting *config_find(const struct config *cfg, const char *section,
	const char *name, size_t *idx_r)
{
	for (size_t i = 0; i < cfg->count; i++) {
		const struct config_setting *s = &cfg->settings[i];
		if (str_case_eq(s->section, section) && str_case_eq(s->name, name)) {
			*idx_r = i;
			return s;
		}
	}
	return NULL;
}

static bool config_section_known(const struct config *cfg, const char *section)
{
	for (size_t i = 0; i < cfg->count; i++)
		if (str_case_eq(cfg->settings[i].section, section))
			return true;
	return false;
}

struct config *config_new(const struct config_setting *settings)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	cfg->settings = settings;
	while (settings[cfg->count].name != NULL)
		cfg->count++;
	cfg->values = xcalloc(cfg->count ? cfg->count : 1, sizeof(*cfg->values));
	for (size_t i = 0; i < cfg->count; i++) {
		const struct config_setting *s = &settings[i];
		char reason[400];
		if (s->def != NULL &&
			config_value_parse(s, s->def, &cfg->values[i], reason, sizeof(reason)) < 0)
			log_panic(NULL, "bad default for [%s] %s", s->section, reason);
		if (s->def == NULL && s->type == CONFIG_TYPE_LIST)
			cfg->values[i].list = xcalloc(1, sizeof(char *));
	}
	return cfg;
}

void config_free(struct config **cfgp)
{
	if (cfgp == NULL || *cfgp == NULL)
		return;
	struct config *cfg = *cfgp;
	*cfgp = NULL;
	for (size_t i = 0; i < cfg->count; i++)
		config_value_clear(&cfg->values[i]);
	free(cfg->values);
	free(cfg);
}

int config_set(struct config *cfg, const char *section, const char *name, const char *value,
	const char **error_r)
{
	size_t idx;
	const struct config_setting *s = config_find(cfg, section, name, &idx);
	if (s == NULL) {
		if (!config_section_known(cfg, section))
			snprintf(cfg->error, sizeof(cfg->error), "unknown section [%s]", section);
		else
			snprintf(cfg->error, sizeof(cfg->error), "unknown setting '%s' in [%s]",
				name, section);
		*error_r = cfg->error;
		return -1;
	}
	if (config_value_parse(s, value, &cfg->values[idx], cfg->error, sizeof(cfg->error)) < 0) {
		*error_r = cfg->error;
		return -1;
	}
	return 0;
}

static int config_ini_handler(void *user, const char *section, const char *name,
	const char *value)
{
	struct config_parse *ps = user;
	const char *error;
	if (name == NULL) /* a section header alone (INI_CALL_HANDLER_ON_NEW_SECTION) */
		return 1;
	if (section[0] == '\0') {
		if (ps->error_line == 0) {
			ps->error_line = ps->line;
			snprintf(ps->reason, sizeof(ps->reason),
				"'%s' is outside any [section]", name);
		}
		return 0;
	}
	if (config_set(ps->cfg, section, name, value, &error) < 0) {
		if (ps->error_line == 0) {
			ps->error_line = ps->line;
			snprintf(ps->reason, sizeof(ps->reason), "%s", error);
		}
		return 0;
	}
	return 1;
}

/* Line reader for ini_parse_stream that counts lines, so the handler knows
 * where it is. */
static char *config_ini_reader(char *str, int num, void *stream)
{
	struct config_parse *ps = stream;
	char *r;
	if (ps->fp != NULL) {
		r = fgets(str, num, ps->fp);
	} else {
		if (*ps->text == '\0')
			return NULL;
		int i = 0;
		while (i < num - 1 && ps->text[i] != '\0' && ps->text[i] != '\n')
			i++;
		if (i < num - 1 && ps->text[i] == '\n')
			i++;
		memcpy(str, ps->text, (size_t)i);
		str[i] = '\0';
		ps->text += i;
		r = str;
	}
	if (r != NULL)
		ps->line++;
	return r;
}

static int config_load(struct config *cfg, struct config_parse *ps, const char **error_r)
{
	int rc = ini_parse_stream(config_ini_reader, ps, config_ini_handler, ps);
	if (rc == 0)
		return 0;
	if (rc < 0)
		snprintf(cfg->error, sizeof(cfg->error), "%s: cannot read: %s", ps->name,
			strerror(errno));
	else if (rc == ps->error_line)
		snprintf(cfg->error, sizeof(cfg->error), "%s:%d: %s", ps->name, rc, ps->reason);
	else
		snprintf(cfg->error, sizeof(cfg->error),
			"%s:%d: syntax error (expected '[section]' or 'name = value')", ps->name,
			rc);
	*error_r = cfg->error;
	return -1;
}

int config_load_file(struct config *cfg, const char *path, const char **error_r)
{
	struct config_parse ps = {.cfg = cfg, .name = path};
	ps.fp = fopen(path, "re");
	if (ps.fp == NULL) {
		snprintf(cfg->error, sizeof(cfg->error), "%s: cannot open: %s", path,
			strerror(errno));
		*error_r = cfg->error;
		return -1;
	}
	int rc = config_load(cfg, &ps, error_r);
	fclose(ps.fp);
	return rc;
}

int config_load_string(struct config *cfg, const char *name, const char *text,
	const char **error_r)
{
	struct config_parse ps = {.cfg = cfg, .name = name, .text = text};
	return config_load(cfg, &ps, error_r);
}

static const struct config_value *config_get(const struct config *cfg, const char *section,
	const char *name, enum config_type type)
{
	size_t idx;
	const struct config_setting *s = config_find(cfg, section, name, &idx);
	if (s == NULL || s->type != type)
		log_panic(NULL, "config: [%s] %s is not declared with that type", section, name);
	return &cfg->values[idx];
}

const char *config_get_str(const struct config *cfg, const char *section, const char *name)
{
	return config_get(cfg, section, name, CONFIG_TYPE_STRING)->text;
}

int64_t config_get_int(const struct config *cfg, const char *section, const char *name)
{
	return config_get(cfg, section, name, CONFIG_TYPE_INT)->i;
}

bool config_get_bool(const struct config *cfg, const char *section, const char *name)
{
	return config_get(cfg, section, name, CONFIG_TYPE_BOOL)->i != 0;
}

uint64_t config_get_size(const struct config *cfg, const char *section, const char *name)
{
	return (uint64_t)config_get(cfg, section, name, CONFIG_TYPE_SIZE)->i;
}

int64_t config_get_time(const struct config *cfg, const char *section, const char *name)
{
	return config_get(cfg, section, name, CONFIG_TYPE_TIME)->i;
}

const char *const *config_get_list(const struct config *cfg, const char *section,
	const char *name)
{
	return (const char *const *)config_get(cfg, section, name, CONFIG_TYPE_LIST)->list;
}

void config_dump(const struct config *cfg, FILE *out)
{
	const char *section = NULL;
	for (size_t i = 0; i < cfg->count; i++) {
		const struct config_setting *s = &cfg->settings[i];
		if (section == NULL || !str_case_eq(section, s->section)) {
			fprintf(out, "%s[%s]\n", section ? "\n" : "", s->section);
			section = s->section;
		}
		fprintf(out, "; %s\n", s->help);
		if (cfg->values[i].text != NULL)
			fprintf(out, "%s = %s\n", s->name, cfg->values[i].text);
		else
			fprintf(out, ";%s =\n", s->name);
	}
}
