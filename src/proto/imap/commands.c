/* The command table and the small commands: CAPABILITY, NOOP, LOGOUT, ID
 * (RFC 2971), ENABLE (RFC 5161), NAMESPACE (RFC 2342), CHECK, STARTTLS,
 * COMPRESS (RFC 4978). */
#include <string.h>

#include "core/str.h"
#include "proto/imap/imap_int.h"

#define S_ANY IMAP_CMD_ANY
#define S_AUTH (IMAP_CMD_AUTH | IMAP_CMD_SELECTED)
#define S_SEL IMAP_CMD_SELECTED

static const struct imap_command imap_commands[] = {
	{"APPEND", imap_cmd_append, S_AUTH},
	{"AUTHENTICATE", imap_cmd_authenticate, IMAP_CMD_NOAUTH},
	{"CAPABILITY", imap_cmd_capability, S_ANY},
	{"CHECK", imap_cmd_check, S_SEL},
	{"CLOSE", imap_cmd_close, S_SEL},
	{"COMPRESS", imap_cmd_compress, S_AUTH},
	{"COPY", imap_cmd_copy, S_SEL | IMAP_CMD_UID},
	{"CREATE", imap_cmd_create, S_AUTH},
	{"DELETE", imap_cmd_delete, S_AUTH},
	{"ENABLE", imap_cmd_enable, S_AUTH},
	{"EXAMINE", imap_cmd_select, S_AUTH},
	{"EXPUNGE", imap_cmd_expunge, S_SEL | IMAP_CMD_UID},
	{"FETCH", imap_cmd_fetch, S_SEL | IMAP_CMD_UID | IMAP_CMD_NO_EXPUNGE},
	{"GETQUOTA", imap_cmd_getquota, S_AUTH},
	{"GETQUOTAROOT", imap_cmd_getquotaroot, S_AUTH},
	{"ID", imap_cmd_id, S_ANY},
	{"IDLE", imap_cmd_idle, S_AUTH},
	{"LIST", imap_cmd_list, S_AUTH},
	{"LOGIN", imap_cmd_login, IMAP_CMD_NOAUTH},
	{"LOGOUT", imap_cmd_logout, S_ANY},
	{"LSUB", imap_cmd_lsub, S_AUTH},
	{"MOVE", imap_cmd_move, S_SEL | IMAP_CMD_UID},
	{"NAMESPACE", imap_cmd_namespace, S_AUTH},
	{"NOOP", imap_cmd_noop, S_ANY},
	{"RENAME", imap_cmd_rename, S_AUTH},
	{"SEARCH", imap_cmd_search, S_SEL | IMAP_CMD_UID | IMAP_CMD_NO_EXPUNGE},
	{"SELECT", imap_cmd_select, S_AUTH},
	{"SETQUOTA", imap_cmd_setquota, S_AUTH},
	{"SORT", imap_cmd_sort, S_SEL | IMAP_CMD_UID | IMAP_CMD_NO_EXPUNGE},
	{"STARTTLS", imap_cmd_starttls, IMAP_CMD_NOAUTH},
	{"STATUS", imap_cmd_status, S_AUTH},
	{"STORE", imap_cmd_store, S_SEL | IMAP_CMD_UID | IMAP_CMD_NO_EXPUNGE},
	{"SUBSCRIBE", imap_cmd_subscribe, S_AUTH},
	{"THREAD", imap_cmd_thread, S_SEL | IMAP_CMD_UID | IMAP_CMD_NO_EXPUNGE},
	{"UNSELECT", imap_cmd_unselect, S_SEL},
	{"UNSUBSCRIBE", imap_cmd_subscribe, S_AUTH},
};

const struct imap_command *imap_command_find(const char *name)
{
	size_t lo = 0, hi = sizeof(imap_commands) / sizeof(imap_commands[0]);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(name, imap_commands[mid].name);
		if (c == 0)
			return &imap_commands[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int imap_cmd_capability(struct imap_session *s, struct imap_arg *args)
{
	if (args[0].type != IMAP_ARG_EOL) {
		imap_bad(s, "CAPABILITY takes no arguments");
		return 0;
	}
	imap_untagged(s, "CAPABILITY %s", imap_capabilities(s));
	imap_ok(s, "CAPABILITY completed");
	return 0;
}

int imap_cmd_noop(struct imap_session *s, struct imap_arg *args)
{
	(void)args;
	imap_sync_poll(s);
	imap_ok(s, "NOOP completed");
	return 0;
}

int imap_cmd_check(struct imap_session *s, struct imap_arg *args)
{
	(void)args;
	imap_sync_poll(s);
	imap_ok(s, "CHECK completed");
	return 0;
}

int imap_cmd_logout(struct imap_session *s, struct imap_arg *args)
{
	(void)args;
	imap_untagged(s, "BYE Logging out");
	imap_ok(s, "LOGOUT completed");
	s->state = IMAP_STATE_LOGOUT;
	return 0;
}

int imap_cmd_id(struct imap_session *s, struct imap_arg *args)
{
	/* RFC 2971 3.3: NIL or a list of at most 30 field/value pairs, fields
	 * at most 30 octets, values at most 1024. */
	if (!imap_arg_is_nil(&args[0])) {
		if (args[0].type != IMAP_ARG_LIST || args[0].list_count % 2 != 0 ||
			args[0].list_count > 60) {
			imap_bad(s, "Invalid ID parameters");
			return 0;
		}
		for (size_t i = 0; i < args[0].list_count; i += 2) {
			const struct imap_arg *f = &args[0].list[i], *v = &args[0].list[i + 1];
			if (!imap_arg_is_string(f) || f->s.len > 30 ||
				(!imap_arg_is_string(v) && !imap_arg_is_nil(v)) || v->s.len > 1024) {
				imap_bad(s, "Invalid ID parameters");
				return 0;
			}
		}
	}
	imap_untagged(s, "ID (\"name\" \"hermod\" \"vendor\" \"hermod\")");
	imap_ok(s, "ID completed");
	return 0;
}

int imap_cmd_enable(struct imap_session *s, struct imap_arg *args)
{
	/* RFC 5161: ENABLE names capabilities; the response lists those that
	 * were enabled by this command. */
	if (args[0].type == IMAP_ARG_EOL) {
		imap_bad(s, "ENABLE needs capabilities");
		return 0;
	}
	struct buf *en = buf_new(s->cmd_pool, 64);
	for (struct imap_arg *a = args; a->type != IMAP_ARG_EOL; a++) {
		if (a->type != IMAP_ARG_ATOM) {
			imap_bad(s, "Invalid capability");
			return 0;
		}
		if (slice_case_eq_str(a->s, "CONDSTORE") && !s->condstore) {
			s->condstore = true;
			buf_append_str(en, " CONDSTORE");
		} else if (slice_case_eq_str(a->s, "QRESYNC") && !s->qresync) {
			s->qresync = s->condstore = true;
			buf_append_str(en, " QRESYNC");
		} else if (slice_case_eq_str(a->s, "UTF8=ACCEPT") && !s->utf8) {
			s->utf8 = true;
			buf_append_str(en, " UTF8=ACCEPT");
		} else if (slice_case_eq_str(a->s, "IMAP4rev2") && !s->rev2) {
			s->rev2 = true;
			s->utf8 = true;
			buf_append_str(en, " IMAP4rev2");
		}
	}
	imap_untagged(s, "ENABLED%s", buf_cstr(en));
	imap_ok(s, "ENABLE completed");
	return 0;
}

int imap_cmd_namespace(struct imap_session *s, struct imap_arg *args)
{
	(void)args;
	/* One personal namespace, the mailbox itself, delimiter "/". Other
	 * users' mailboxes are reached by logging on to them (MS-OXIMAP4
	 * 2.2.2), not through a namespace. */
	imap_untagged(s, "NAMESPACE ((\"\" \"/\")) NIL NIL");
	imap_ok(s, "NAMESPACE completed");
	return 0;
}

int imap_cmd_starttls(struct imap_session *s, struct imap_arg *args)
{
	(void)args;
	if (net_conn_is_tls(s->conn)) {
		imap_bad(s, "TLS is already active");
		return 0;
	}
	if (!net_conn_tls_available(s->conn)) {
		imap_no(s, "TLS is not available");
		return 0;
	}
	imap_ok(s, "Begin TLS negotiation now");
	if (imap_flush_out(s) < 0)
		return -1;
	if (net_conn_starttls(s->conn) < 0)
		return -1;
	return 0;
}

/* Deflate level for COMPRESS: zlib's default, the usual balance between
 * CPU on the event loop and bytes on the wire. */
#define IMAP_DEFLATE_LEVEL 6

int imap_cmd_compress(struct imap_session *s, struct imap_arg *args)
{
	/* RFC 4978 3 */
	if (args[0].type != IMAP_ARG_ATOM || args[1].type != IMAP_ARG_EOL) {
		imap_bad(s, "COMPRESS needs a mechanism");
		return 0;
	}
	if (!slice_case_eq_str(args[0].s, "DEFLATE")) {
		imap_bad(s, "Unknown compression mechanism");
		return 0;
	}
	if (net_conn_is_compressed(s->conn)) {
		imap_no(s, "[COMPRESSIONACTIVE] DEFLATE is active already");
		return 0;
	}
	imap_ok(s, "DEFLATE active");
	/* The OK goes out uncompressed; everything after it is deflated. */
	if (net_conn_compress(s->conn, IMAP_DEFLATE_LEVEL) < 0)
		return -1;
	return 0;
}
