/* Fuzzes the IMAP tokenizer and argument builder: the input is a client's
 * byte stream, fed in growing chunks (the first byte picks the chunk
 * size) as the event loop would, commands taken off as they complete.
 * Checks the parser's promises: a command length never past the input,
 * tokens inside the command, lists balanced when the command is OK. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/imap/parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const struct imap_arg *a, unsigned depth, const uint8_t *cmd, size_t len)
{
	if (depth > IMAP_PARSER_DEFAULT_MAX_DEPTH + 1)
		abort();
	for (; a->type != IMAP_ARG_EOL; a++) {
		if (a->type == IMAP_ARG_LIST)
			walk(a->list, depth + 1, cmd, len);
		else if (a->type != IMAP_ARG_STRING &&
			(a->s.ptr < cmd || a->s.ptr + a->s.len > cmd + len))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t chunk = (size_t)(data[0] % 16) + 1;
	data++, size--;
	const struct imap_parser_limits lim = {
		.max_line = 1024, .max_literal = 512, .max_append = 4096,
		.max_depth = IMAP_PARSER_DEFAULT_MAX_DEPTH, .max_tokens = 1000, .max_literals = 20};
	struct imap_parser p;
	imap_parser_init(&p, &lim);
	pool_t *pool = pool_new("fuzz", 0);
	size_t start = 0, have = 0;
	while (start < size) {
		have = have + chunk > size - start ? size - start : have + chunk;
		int r = imap_parser_feed(&p, data + start, have);
		if (r == IMAP_PARSE_LITERAL)
			continue;
		if (r == IMAP_PARSE_FATAL)
			break;
		if (r == IMAP_PARSE_MORE) {
			if (have == size - start)
				break;
			continue;
		}
		size_t len = imap_parser_length(&p);
		if (len == 0 || len > have)
			abort();
		for (size_t i = 0; i < p.ntoks; i++)
			if (p.toks[i].off + p.toks[i].len > len)
				abort();
		if (p.error == IMAP_PARSE_OK) {
			const char *tag, *name;
			struct imap_arg *args;
			if (imap_args_build(&p, data + start, len, pool, &tag, &name, &args) == 0)
				walk(args, 0, data + start, len);
		}
		pool_clear(pool);
		imap_parser_reset(&p);
		start += len;
		have = 0;
	}
	imap_parser_deinit(&p);
	pool_free(&pool);
	return 0;
}
