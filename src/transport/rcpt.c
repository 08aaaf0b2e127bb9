/* Recipient resolution: local user, local group (expanded), or remote. */
#include <string.h>

#include "core/log.h"
#include "core/str.h"
#include "transport/transport_int.h"

int transport_domain_is_local(struct transport *t, const char *domain)
{
	const char *error;
	if (domain[0] == '[')
		return 0; /* address literals are never ours (no open relay by IP) */
	return directory_domain_exists(t->dir, domain, &error);
}

/* Is the local user over quota? 1 yes, 0 no, -1 error. */
static int over_quota(struct transport *t, const struct directory_user *u, uint64_t need)
{
	if (u->quota == 0)
		return 0;
	struct store_logon logon = {.flags = STORE_LOGON_SYSTEM, .quota_hard = u->quota};
	struct store_mailbox *mb;
	if (store_mailbox_open(t->store, &u->mailbox_guid, &logon, &mb) != ecSuccess)
		return -1;
	uint64_t size = 0;
	bool warn = false, hard = false;
	uint32_t ec = store_mailbox_size(mb, &size, &warn, &hard);
	store_mailbox_close(&mb);
	if (ec != ecSuccess)
		return -1;
	return hard || size + need > u->quota ? 1 : 0;
}

static void push_user(pool_t *pool, struct transport_rcpt_list *out, const struct directory_user *u, const char *orig)
{
	struct transport_rcpt *r = array_push_new(out);
	r->kind = TRANSPORT_RCPT_LOCAL;
	r->address = pool_strdup(pool, u->address);
	r->orig = pool_strdup(pool, orig);
	r->mailbox_guid = u->mailbox_guid;
	r->quota = u->quota;
	r->user_id = u->id;
}

enum transport_lookup transport_rcpt_lookup(struct transport *t, const char *address,
	uint64_t quota_need, pool_t *pool, struct transport_rcpt_list *out, const char **error_r)
{
	const char *at = strrchr(address, '@');
	*error_r = NULL;
	if (at == NULL || at == address || at[1] == '\0')
		return TRANSPORT_LOOKUP_BAD_SYNTAX;
	int local = transport_domain_is_local(t, at + 1);
	if (local < 0) {
		*error_r = "domain lookup failed";
		return TRANSPORT_LOOKUP_TEMPFAIL;
	}
	if (local == 0) {
		struct transport_rcpt *r = array_push_new(out);
		r->kind = TRANSPORT_RCPT_REMOTE;
		r->address = pool_strdup(pool, address);
		r->orig = r->address;
		return TRANSPORT_LOOKUP_NOT_LOCAL;
	}
	/* Our domain: the local part must name a user or group exactly. A
	 * "%" or "!" in it, or a quoted local part holding "@", is just a
	 * local part nobody has: never a route elsewhere. */
	struct directory_address a;
	if (directory_address_parse(address, strlen(address), &a, error_r) < 0)
		return TRANSPORT_LOOKUP_UNKNOWN;
	struct directory_recipient rec;
	int found = directory_resolve(t->dir, a.address, pool, &rec, error_r);
	if (found < 0)
		return TRANSPORT_LOOKUP_TEMPFAIL;
	if (found == 0)
		return TRANSPORT_LOOKUP_UNKNOWN;
	if (rec.kind == DIRECTORY_RECIPIENT_USER) {
		struct directory_user *u;
		int r = directory_user_get_by_id(t->dir, rec.id, pool, &u, error_r);
		if (r < 0)
			return TRANSPORT_LOOKUP_TEMPFAIL;
		if (r == 0)
			return TRANSPORT_LOOKUP_UNKNOWN;
		if (!u->enabled)
			return TRANSPORT_LOOKUP_DISABLED;
		if (quota_need > 0) {
			int q = over_quota(t, u, quota_need);
			if (q > 0)
				return TRANSPORT_LOOKUP_FULL;
			if (q < 0) {
				*error_r = "cannot open the mailbox";
				return TRANSPORT_LOOKUP_TEMPFAIL;
			}
		}
		push_user(pool, out, u, address);
		return TRANSPORT_LOOKUP_OK;
	}
	/* A group: every enabled member once. A full member's copy bounces
	 * at delivery; the group itself is never "full". */
	struct directory_user *members;
	size_t n;
	if (directory_group_expand(t->dir, rec.id, pool, &members, &n, error_r) < 0)
		return TRANSPORT_LOOKUP_TEMPFAIL;
	size_t before = out->n;
	for (size_t i = 0; i < n; i++)
		if (members[i].enabled)
			push_user(pool, out, &members[i], address);
	if (out->n == before) {
		*error_r = "group has no enabled members";
		return TRANSPORT_LOOKUP_UNKNOWN;
	}
	return TRANSPORT_LOOKUP_OK;
}
