/* Address book operations over the directory: ResolveNames (MS-OXWSRSLNM)
 * and ExpandDL (MS-OXWSDLIST). Users resolve as mailboxes, groups as
 * public distribution lists; ExpandDL lists a group's direct members.
 * The directory is the only address book: the user's Contacts folder is
 * not searched (SearchScope Contacts alone finds nothing). */
#include <string.h>

#include "core/str.h"
#include "proto/ews/items.h"

/* MS-OXWSRSLNM 3.1.4.1: at most 100 candidates per entry. */
#define EWS_RESOLVE_MAX 100
/* Most UnresolvedEntry elements one request may carry (the schema says
 * one; Exchange answers several, one response message each). */
#define EWS_RESOLVE_MAX_ENTRIES 100

static void write_mailbox(struct ews_req *r, const struct directory_recipient *rc,
	const char *elem)
{
	ews_start(r, elem);
	ews_elem(r, "t:Name", rc->display_name != NULL && *rc->display_name != '\0' ?
			rc->display_name :
			rc->address);
	ews_elem(r, "t:EmailAddress", rc->address);
	ews_elem(r, "t:RoutingType", "SMTP");
	ews_elem(r, "t:MailboxType",
		rc->kind == DIRECTORY_RECIPIENT_GROUP ? "PublicDL" : "Mailbox");
	ews_end(r);
}

/* With ReturnFullContactData: the directory entry as a contact
 * (ContactItemType: DisplayName, EmailAddresses, ContactSource in schema
 * order). */
static void write_contact(struct ews_req *r, const struct directory_recipient *rc)
{
	ews_start(r, "t:Contact");
	ews_elem(r, "t:DisplayName", rc->display_name != NULL ? rc->display_name : "");
	ews_start(r, "t:EmailAddresses");
	ews_start(r, "t:Entry");
	ews_attr(r, "Key", "EmailAddress1");
	http_xml_write_text(r->w, pool_printf(r->pool, "SMTP:%s", rc->address),
		strlen(rc->address) + 5);
	ews_end(r);
	ews_end(r);
	ews_elem(r, "t:ContactSource", "ActiveDirectory");
	ews_end(r);
}

/* Candidates for one entry: an exact address (primary or alias) is the
 * one answer; otherwise every recipient whose address or name contains
 * the text. Disabled users are left out (as hidden from address lists).
 * NULL with the results, or a ResponseCode. */
static const char *resolve_one(struct ews_req *r, char *text, struct directory_recipient **res_r,
	size_t *n_r)
{
	*res_r = NULL;
	*n_r = 0;
	while (*text == ' ' || *text == '\t')
		text++;
	/* "SMTP:alice@example.test" and "smtp:..." name the address */
	if (str_case_starts_with(text, "smtp:"))
		text += 5;
	size_t len = strlen(text);
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
		text[--len] = '\0';
	if (len == 0 || len > DIRECTORY_SEARCH_TEXT_MAX)
		return "ErrorNameResolutionNoResults";
	const char *error;
	struct directory_recipient one;
	struct directory_recipient *res = NULL;
	size_t n = 0;
	int rc = directory_resolve(r->ews->set.dir, text, r->pool, &one, &error);
	if (rc == 1) {
		res = pool_alloc(r->pool, sizeof(*res));
		*res = one;
		n = 1;
	} else if (rc == 0) {
		rc = directory_search(r->ews->set.dir, text, EWS_RESOLVE_MAX + 1, r->pool, &res, &n,
			&error);
	}
	if (rc < 0) {
		log_error(http_request_log(r->http), "ews: ResolveNames: %s", error);
		return "ErrorInternalServerError";
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (res[i].enabled)
			res[k++] = res[i];
	if (k == 0)
		return "ErrorNameResolutionNoResults";
	*res_r = res;
	*n_r = k;
	return NULL;
}

static int ews_resolve_names(struct ews_req *r, xmlNode *op)
{
	const char *msgname = "ResolveNamesResponseMessage";
	bool full = false;
	const char *err = NULL;
	char *rf = http_xml_attr(r->pool, op, "ReturnFullContactData");
	if (rf != NULL && ews_parse_bool(rf, &full) < 0)
		err = "ErrorInvalidRequest";
	/* MS-OXWSRSLNM 2.2.5.1: the directory is searched unless the scope
	 * is the contacts folders alone. */
	char *scope = http_xml_attr(r->pool, op, "SearchScope");
	bool directory = true;
	if (scope != NULL) {
		if (strcmp(scope, "Contacts") == 0)
			directory = false;
		else if (strcmp(scope, "ActiveDirectory") != 0 &&
			strcmp(scope, "ActiveDirectoryContacts") != 0 &&
			strcmp(scope, "ContactsActiveDirectory") != 0)
			err = "ErrorInvalidRequest";
	}
	unsigned entries = 0;
	for (xmlNode *e = http_xml_first_elem(op); e != NULL; e = http_xml_next_elem(e))
		if (http_xml_is(e, NS_M, "UnresolvedEntry"))
			entries++;
	if (entries > EWS_RESOLVE_MAX_ENTRIES)
		err = "ErrorInvalidRequest";
	ews_response_begin(r, "ResolveNames");
	if (entries == 0 || err != NULL) {
		ews_msg_error(r, msgname, err != NULL ? err : "ErrorSchemaValidation",
			"The request is invalid.");
		ews_response_end(r);
		return 0;
	}
	for (xmlNode *e = http_xml_first_elem(op); e != NULL; e = http_xml_next_elem(e)) {
		if (!http_xml_is(e, NS_M, "UnresolvedEntry"))
			continue;
		struct directory_recipient *res = NULL;
		size_t n = 0;
		err = directory ? resolve_one(r, http_xml_text(r->pool, e), &res, &n) :
				  "ErrorNameResolutionNoResults";
		if (err != NULL) {
			ews_msg_error(r, msgname, err, "No results were found.");
			continue;
		}
		bool more = n > EWS_RESOLVE_MAX;
		if (more)
			n = EWS_RESOLVE_MAX;
		/* MS-OXWSRSLNM 3.1.4.1.3: several candidates are a warning
		 * that lists them all. */
		if (n > 1)
			ews_msg_warning(r, msgname, "ErrorNameResolutionMultipleResults",
				"Multiple results were found.");
		else
			ews_msg_ok(r, msgname);
		ews_start(r, "m:ResolutionSet");
		ews_attr(r, "TotalItemsInView", pool_printf(r->pool, "%zu", n));
		ews_attr(r, "IncludesLastItemInRange", more ? "false" : "true");
		for (size_t i = 0; i < n; i++) {
			ews_start(r, "t:Resolution");
			write_mailbox(r, &res[i], "t:Mailbox");
			if (full && res[i].kind == DIRECTORY_RECIPIENT_USER)
				write_contact(r, &res[i]);
			ews_end(r);
		}
		ews_end(r);
		ews_msg_end(r);
	}
	ews_response_end(r);
	return 0;
}

static int ews_expand_dl(struct ews_req *r, xmlNode *op)
{
	const char *msgname = "ExpandDLResponseMessage";
	xmlNode *mbx = http_xml_child(op, NS_M, "Mailbox");
	char *addr = http_xml_text(r->pool, http_xml_child(mbx, NS_T, "EmailAddress"));
	if (str_case_starts_with(addr, "smtp:"))
		addr += 5;
	const char *err = NULL;
	struct directory_group *g = NULL;
	struct directory_recipient *members = NULL;
	size_t n = 0;
	const char *error = NULL;
	if (mbx == NULL)
		err = "ErrorSchemaValidation";
	else if (http_xml_child(mbx, NS_T, "ItemId") != NULL)
		/* private distribution lists (contact groups) are not offered */
		err = "ErrorNameResolutionNoResults";
	else if (*addr == '\0' || strlen(addr) > DIRECTORY_SEARCH_TEXT_MAX)
		err = "ErrorNameResolutionNoResults";
	else {
		int rc = directory_group_get(r->ews->set.dir, addr, r->pool, &g, &error);
		if (rc == 0) {
			/* an alias of the group, or a user (not expandable) */
			struct directory_recipient rcp;
			rc = directory_resolve(r->ews->set.dir, addr, r->pool, &rcp, &error);
			if (rc == 1 && rcp.kind == DIRECTORY_RECIPIENT_GROUP)
				rc = directory_group_get_by_id(r->ews->set.dir, rcp.id, r->pool, &g,
					&error);
			else if (rc == 1)
				rc = 0;
		}
		if (rc < 0)
			err = "ErrorInternalServerError";
		else if (rc == 0)
			err = "ErrorNameResolutionNoResults";
		else if (directory_group_members(r->ews->set.dir, g->id, r->pool, &members, &n,
				 &error) < 0)
			err = "ErrorInternalServerError";
	}
	if (err != NULL && strcmp(err, "ErrorInternalServerError") == 0)
		log_error(http_request_log(r->http), "ews: ExpandDL: %s", error);
	ews_response_begin(r, "ExpandDL");
	if (err != NULL) {
		ews_msg_error(r, msgname, err, "The distribution list cannot be expanded.");
		ews_response_end(r);
		return 0;
	}
	ews_msg_ok(r, msgname);
	ews_start(r, "m:DLExpansion");
	ews_attr(r, "TotalItemsInView", pool_printf(r->pool, "%zu", n));
	ews_attr(r, "IncludesLastItemInRange", "true");
	for (size_t i = 0; i < n; i++)
		write_mailbox(r, &members[i], "t:Mailbox");
	ews_end(r);
	ews_msg_end(r);
	ews_response_end(r);
	return 0;
}

const struct ews_op ews_resolve_ops[] = {
	{"ResolveNames", ews_resolve_names},
	{"ExpandDL", ews_expand_dl},
	{NULL, NULL},
};
