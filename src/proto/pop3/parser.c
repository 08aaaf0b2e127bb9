/* POP3 command lines and message output; see parser.h. Written by hand:
 * no Debian library parses POP3. */
#include "proto/pop3/parser.h"

#include <string.h>

#include "core/str.h"

static const struct {
	const char *name;
	enum pop3_cmd cmd;
} pop3_keywords[] = {
	{"USER", POP3_CMD_USER}, {"PASS", POP3_CMD_PASS}, {"APOP", POP3_CMD_APOP},
	{"AUTH", POP3_CMD_AUTH}, {"STLS", POP3_CMD_STLS}, {"CAPA", POP3_CMD_CAPA},
	{"QUIT", POP3_CMD_QUIT}, {"STAT", POP3_CMD_STAT}, {"LIST", POP3_CMD_LIST},
	{"RETR", POP3_CMD_RETR}, {"DELE", POP3_CMD_DELE}, {"NOOP", POP3_CMD_NOOP},
	{"RSET", POP3_CMD_RSET}, {"TOP", POP3_CMD_TOP},   {"UIDL", POP3_CMD_UIDL},
	{"LAST", POP3_CMD_LAST},
};

struct slice pop3_line_strip(const void *line, size_t len)
{
	const unsigned char *p = line;
	if (len > 0 && p[len - 1] == '\n')
		len--;
	if (len > 0 && p[len - 1] == '\r')
		len--;
	return SLICE(p, len);
}

int pop3_command_parse(const void *line, size_t len, struct pop3_command *cmd,
	const char **error_r)
{
	memset(cmd, 0, sizeof(*cmd));
	struct slice l = pop3_line_strip(line, len);
	if (l.len == 0) {
		*error_r = "Empty command";
		return -1;
	}
	/* RFC 2449 section 3: commands are printable ASCII separated by
	 * single spaces; passwords may hold 8-bit text, so only control
	 * characters are refused. */
	for (size_t i = 0; i < l.len; i++) {
		if (l.ptr[i] < 0x20 || l.ptr[i] == 0x7f) {
			*error_r = "Control character in command";
			return -1;
		}
	}
	size_t k = 0;
	while (k < l.len && l.ptr[k] != ' ')
		k++;
	if (k == 0 || k > POP3_KEYWORD_MAX) {
		*error_r = "Invalid command keyword";
		return -1;
	}
	for (size_t i = 0; i < k; i++) {
		if (l.ptr[i] > 0x7e) {
			*error_r = "Invalid command keyword";
			return -1;
		}
	}
	cmd->keyword = SLICE(l.ptr, k);
	for (size_t i = 0; i < sizeof(pop3_keywords) / sizeof(pop3_keywords[0]); i++) {
		if (slice_case_eq_str(cmd->keyword, pop3_keywords[i].name)) {
			cmd->cmd = pop3_keywords[i].cmd;
			break;
		}
	}
	if (k < l.len)
		cmd->rest = SLICE(l.ptr + k + 1, l.len - k - 1);
	else
		cmd->rest = SLICE(l.ptr + k, 0);
	const unsigned char *p = cmd->rest.ptr, *end = p + cmd->rest.len;
	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		const unsigned char *a = p;
		while (p < end && *p != ' ')
			p++;
		if (cmd->argc < POP3_MAX_ARGS)
			cmd->argv[cmd->argc] = SLICE(a, (size_t)(p - a));
		cmd->argc++;
	}
	return 0;
}

int pop3_parse_number(struct slice s, uint32_t max, uint32_t *r)
{
	if (s.len == 0 || s.len > 10)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < s.len; i++) {
		if (s.ptr[i] < '0' || s.ptr[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s.ptr[i] - '0');
	}
	if (v > max)
		return -1;
	*r = (uint32_t)v;
	return 0;
}

void pop3_msgout_init(struct pop3_msgout *m, bool top, uint64_t body_lines)
{
	memset(m, 0, sizeof(*m));
	m->bol = true;
	m->limited = top;
	m->lines_left = body_lines;
}

/* The end of a line was reached (its LF consumed): account for TOP. */
static void pop3_msgout_eol(struct pop3_msgout *m)
{
	bool empty = m->line_len == 0 || (m->line_len == 1 && m->last == '\r');
	m->bol = true;
	m->line_len = 0;
	if (!m->in_body) {
		if (empty) {
			m->in_body = true;
			if (m->limited && m->lines_left == 0)
				m->done = true;
		}
		return;
	}
	if (m->limited && --m->lines_left == 0)
		m->done = true;
}

bool pop3_msgout_feed(struct pop3_msgout *m, const void *in, size_t len, struct buf *out)
{
	const unsigned char *p = in, *end = p + len;
	while (p < end && !m->done) {
		const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
		const unsigned char *seg = nl != NULL ? nl : end;
		if (seg > p) {
			/* RFC 1939 section 3: byte-stuff a leading "." */
			if (m->bol && *p == '.')
				buf_append_byte(out, '.');
			buf_append(out, p, (size_t)(seg - p));
			m->line_len += (uint64_t)(seg - p);
			m->last = seg[-1];
			m->bol = false;
		}
		if (nl == NULL)
			break;
		/* A bare LF becomes CRLF: POP3 lines end in CRLF. */
		if (m->line_len == 0 || m->last != '\r')
			buf_append(out, "\r\n", 2);
		else
			buf_append_byte(out, '\n');
		p = nl + 1;
		pop3_msgout_eol(m);
	}
	return !m->done;
}

void pop3_msgout_finish(struct pop3_msgout *m, struct buf *out)
{
	if (!m->bol)
		buf_append_str(out, m->last == '\r' ? "\n" : "\r\n");
	buf_append(out, ".\r\n", 3);
	m->bol = true;
	m->line_len = 0;
}
