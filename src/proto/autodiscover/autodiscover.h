/* Autodiscover: how a client finds the server from an e-mail address.
 *
 *   POST /autodiscover/autodiscover.xml   POX (MS-OXDSCLI): the Outlook
 *       response schema (2006a) with the EXCH, EXPR and WEB protocol
 *       sections, and the mobilesync schema for ActiveSync clients;
 *   POST /autodiscover/autodiscover.svc   SOAP (MS-OXWSADISC):
 *       GetUserSettings and GetDomainSettings.
 *
 * Answers name only what this server serves: the EWS URL always, the
 * ActiveSync URL only when an ActiveSync route is registered. URLs are
 * built from [http] external_url, or when it is empty from the request's
 * scheme and Host header (so a client reaching the server by any name and
 * port gets URLs that work for it). */
#ifndef PROTO_AUTODISCOVER_AUTODISCOVER_H
#define PROTO_AUTODISCOVER_AUTODISCOVER_H

#include <stdbool.h>

#include "directory/directory.h"
#include "proto/http/http.h"

#define AUTODISCOVER_POX_PATH "/autodiscover/autodiscover.xml"
#define AUTODISCOVER_SOAP_PATH "/autodiscover/autodiscover.svc"

struct autodiscover_settings {
	/* "https://mail.example.com" (no trailing slash); NULL or "": from
	 * each request's scheme and Host. */
	const char *external_url;
	const char *hostname;  /* this server's name ([server] hostname) */
	/* Paths of the services to announce; NULL: not served. */
	const char *ews_path;  /* "/EWS/Exchange.asmx" */
	const char *eas_path;  /* "/Microsoft-Server-ActiveSync" */
};

/* Registers both routes on srv (authenticated). s and dir are copied /
 * kept; dir must outlive the server. */
void autodiscover_register(struct http_server *srv, struct directory *dir,
	const struct autodiscover_settings *s);

#endif
