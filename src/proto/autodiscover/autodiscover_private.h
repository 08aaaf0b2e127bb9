/* Internal to src/proto/autodiscover. */
#ifndef PROTO_AUTODISCOVER_PRIVATE_H
#define PROTO_AUTODISCOVER_PRIVATE_H

#include "proto/autodiscover/autodiscover.h"
#include "proto/http/xml.h"

/* The version this server reports (Exchange 2016 CU23's numbers: what
 * clients compare against to pick features). */
#define AD_MAJOR_VERSION 15
#define AD_MINOR_VERSION 1
#define AD_MAJOR_BUILD 2507
#define AD_MINOR_BUILD 6
#define AD_API_VERSION "Exchange2016"
#define AD_EWS_SCHEMAS                                                                             \
	"Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2, "      \
	"Exchange2013, Exchange2013_SP1, Exchange2016"

struct autodiscover {
	struct directory *dir;
	char *external_url;
	char *hostname;
	char *ews_path;
	char *eas_path;
	char deployment_id[40]; /* a GUID derived from the host name: stable */
};

/* "https://host:port" for this request, from pool. */
const char *ad_base_url(struct autodiscover *ad, struct http_request *req);
/* The user an address names (primary or alias): 1, 0 none, -1 error. */
int ad_lookup_user(struct autodiscover *ad, struct http_request *req, const char *address,
	struct directory_user **user_r);
/* The legacy DN of the user's mailbox database ("MailboxDN"). */
const char *ad_mailbox_dn(struct autodiscover *ad, pool_t *pool, const struct directory_user *u);
/* "<mailbox guid>@<domain>": the Server of the EXCH section (Exchange 2013+). */
const char *ad_mailbox_server(pool_t *pool, const struct directory_user *u);

int ad_pox_handler(struct http_request *req, void *ctx);
int ad_soap_handler(struct http_request *req, void *ctx);

#endif
