/* QUOTA (RFC 9208, which obsoletes RFC 2087): GETQUOTA and GETQUOTAROOT.
 * A mailbox has one quota root, "", with the STORAGE resource: the
 * directory's quota of the mailbox's owner (fixed at login) against the
 * store's size of the mailbox (the sum of its messages' sizes), in units
 * of 1024 octets. A mailbox without a quota has no quota root. Quotas are
 * the administrator's (`hermod user set --quota`): no QUOTASET, and
 * SETQUOTA is refused. */
#include <string.h>

#include "mapi/errors.h"
#include "proto/imap/imap_int.h"

/* The one quota root's name. */
#define QUOTA_ROOT ""

/* Writes "* QUOTA "" (STORAGE used limit)". 0, or -1 with a NO written. */
static int write_quota(struct imap_session *s)
{
	uint64_t size = 0;
	uint32_t ec = store_mailbox_size(s->mb, &size, NULL, NULL);
	if (ec != ecSuccess) {
		imap_no_ec(s, ec, s->name);
		return -1;
	}
	/* RFC 9208 5.1: units of 1024 octets; a part of a unit counts. */
	buf_append_str(&s->out, "* QUOTA ");
	imap_write_string(&s->out, QUOTA_ROOT, strlen(QUOTA_ROOT));
	buf_printf(&s->out, " (STORAGE %llu %llu)\r\n", (unsigned long long)((size + 1023) / 1024),
	        (unsigned long long)(s->quota / 1024));
	return 0;
}

int imap_cmd_getquotaroot(struct imap_session *s, struct imap_arg *args)
{
	const char *name = imap_arg_str(s->cmd_pool, &args[0]);
	if (name == NULL || args[1].type != IMAP_ARG_EOL) {
		imap_bad(s, "GETQUOTAROOT needs a mailbox name");
		return 0;
	}
	mapi_id_t fid;
	uint32_t ec = imap_mailbox_find(s, name, &fid);
	if (ec != ecSuccess) {
		imap_no_ec(s, ec, "GETQUOTAROOT");
		return 0;
	}
	/* RFC 9208 6.2: QUOTAROOT names the mailbox as the client gave it. */
	buf_append_str(&s->out, "* QUOTAROOT ");
	imap_write_string(&s->out, (const char *)args[0].s.ptr, args[0].s.len);
	if (s->quota > 0) {
		buf_append_byte(&s->out, ' ');
		imap_write_string(&s->out, QUOTA_ROOT, strlen(QUOTA_ROOT));
	}
	buf_append_str(&s->out, "\r\n");
	if (s->quota > 0 && write_quota(s) < 0)
		return 0;
	imap_ok(s, "GETQUOTAROOT completed");
	return 0;
}

int imap_cmd_getquota(struct imap_session *s, struct imap_arg *args)
{
	const char *root = imap_arg_str(s->cmd_pool, &args[0]);
	if (root == NULL || args[1].type != IMAP_ARG_EOL) {
		imap_bad(s, "GETQUOTA needs a quota root");
		return 0;
	}
	if (strcmp(root, QUOTA_ROOT) != 0 || s->quota == 0) {
		imap_no(s, "[NONEXISTENT] No such quota root");
		return 0;
	}
	if (write_quota(s) < 0)
		return 0;
	imap_ok(s, "GETQUOTA completed");
	return 0;
}

int imap_cmd_setquota(struct imap_session *s, struct imap_arg *args)
{
	/* RFC 9208 4.1: without QUOTASET, SETQUOTA is an error. */
	if (!imap_arg_is_astring(&args[0]) || args[1].type != IMAP_ARG_LIST) {
		imap_bad(s, "SETQUOTA needs a quota root and resource limits");
		return 0;
	}
	imap_no(s, "[NOPERM] Quotas are set by the administrator");
	return 0;
}
