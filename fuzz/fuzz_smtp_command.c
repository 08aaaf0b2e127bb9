/* Fuzzes the SMTP command-line parser: verbs, MAIL/RCPT paths with their
 * parameters (with and without SMTPUTF8), xtext. Checks its promises: a
 * parsed path is NUL-free, within RFC 5321 limits, and its domain is the
 * tail of its address. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/smtp/smtp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > SMTP_COMMAND_MAX)
		return 0;
	pool_t *pool = pool_new("fuzz", 0);
	struct slice args;
	(void)smtp_verb_parse((const char *)data, size, &args);
	if (args.ptr < data || args.ptr + args.len > data + size)
		abort();
	for (int mode = 0; mode < 4; mode++) {
		struct smtp_path p;
		const char *err = NULL;
		bool rcpt = mode & 1, utf8 = mode & 2;
		int r = smtp_path_parse(pool, SLICE(data, size), rcpt ? "TO:" : "FROM:", rcpt, utf8,
			&p, &err);
		if (r < 0) {
			if (err == NULL)
				abort();
			continue;
		}
		size_t al = strlen(p.address), dl = strlen(p.domain);
		if (al > 256 || dl > al || (dl > 0 && strcmp(p.address + al - dl, p.domain) != 0))
			abort();
		if (p.null_path && (rcpt || al != 0))
			abort();
		if (p.utf8 && !utf8)
			abort();
		if (p.param_count > SMTP_PARAMS_MAX)
			abort();
		for (unsigned i = 0; i < p.param_count; i++) {
			if (p.params[i].keyword[0] == '\0')
				abort();
			if (p.params[i].value != NULL) {
				bool v = smtp_xtext_valid(p.params[i].value, 1024);
				char *d = smtp_xtext_decode(pool, p.params[i].value);
				if (v != (d != NULL))
					abort();
			}
		}
	}
	pool_free(&pool);
	return 0;
}
