/* Autodiscover: registration and what POX and SOAP share. */
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/guid.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "proto/autodiscover/autodiscover_private.h"

void autodiscover_register(struct http_server *srv, struct directory *dir,
	const struct autodiscover_settings *s)
{
	/* Lives as long as the process's HTTP server: freed with nothing,
	 * like the route table itself (one per server start). */
	struct autodiscover *ad = xcalloc(1, sizeof(*ad));
	ad->dir = dir;
	if (s->external_url != NULL && *s->external_url != '\0') {
		ad->external_url = xstrdup(s->external_url);
		size_t n = strlen(ad->external_url);
		while (n > 0 && ad->external_url[n - 1] == '/')
			ad->external_url[--n] = '\0';
	}
	ad->hostname = xstrdup(s->hostname != NULL ? s->hostname : "localhost");
	ad->ews_path = s->ews_path != NULL ? xstrdup(s->ews_path) : NULL;
	ad->eas_path = s->eas_path != NULL ? xstrdup(s->eas_path) : NULL;
	unsigned char h[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)ad->hostname, strlen(ad->hostname), h);
	struct guid g;
	memcpy(g.b, h, 16);
	g.b[7] = (uint8_t)((g.b[7] & 0x0f) | 0x50); /* a name-based GUID */
	g.b[8] = (uint8_t)((g.b[8] & 0x3f) | 0x80);
	guid_format(&g, ad->deployment_id);

	struct http_route pox = {.path = AUTODISCOVER_POX_PATH, .flags = HTTP_ROUTE_AUTH,
		.methods = HTTP_M_POST, .max_body = 64 * 1024, .handler = ad_pox_handler,
		.ctx = ad};
	http_server_add_route(srv, &pox);
	struct http_route soap = {.path = AUTODISCOVER_SOAP_PATH, .flags = HTTP_ROUTE_AUTH,
		.methods = HTTP_M_POST, .max_body = 256 * 1024, .handler = ad_soap_handler,
		.ctx = ad};
	http_server_add_route(srv, &soap);
}

const char *ad_base_url(struct autodiscover *ad, struct http_request *req)
{
	if (ad->external_url != NULL)
		return ad->external_url;
	const char *host = http_request_header(req, "Host");
	bool ok = host != NULL && *host != '\0' && strlen(host) < 256;
	/* Only a plausible authority goes into a URL we hand out. */
	for (const char *p = host; ok && *p != '\0'; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || strchr(".-:[]", *p) != NULL;
	if (!ok)
		host = ad->hostname;
	return pool_printf(http_request_pool(req), "%s://%s",
		http_request_is_tls(req) ? "https" : "http", host);
}

int ad_lookup_user(struct autodiscover *ad, struct http_request *req, const char *address,
	struct directory_user **user_r)
{
	const char *error;
	int rc = directory_user_get(ad->dir, address, http_request_pool(req), user_r, &error);
	if (rc < 0)
		log_error(http_request_log(req), "autodiscover: directory: %s", error);
	return rc;
}

const char *ad_mailbox_server(pool_t *pool, const struct directory_user *u)
{
	char g[GUID_STR_LEN + 1];
	guid_format(&u->mailbox_guid, g);
	return pool_printf(pool, "%s@%s", g, u->domain);
}

const char *ad_mailbox_dn(struct autodiscover *ad, pool_t *pool, const struct directory_user *u)
{
	(void)ad;
	/* MS-OXDSCLI 2.2.4.1.1.2.2.4 MdbDN: the mailbox database's DN, under
	 * the same organization as the users' legacy DNs. */
	return pool_printf(pool,
		"/o=hermod/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/"
		"cn=Servers/cn=%s/cn=Microsoft Private MDB",
		ad_mailbox_server(pool, u));
}
