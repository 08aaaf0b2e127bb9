/* POX Autodiscover (MS-OXDSCLI 2.2.4): the Outlook request and response
 * schemas (2006 / 2006a) and the mobilesync schema ActiveSync clients use
 * (MS-ASCMD 2.2.2.1 Autodiscover). */
#include <string.h>
#include <time.h>

#include "core/str.h"
#include "proto/autodiscover/autodiscover_private.h"

#define NS_RESPONSE "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
#define NS_OUTLOOK_REQ "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
#define NS_OUTLOOK_RESP                                                                            \
	"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
#define NS_MOBILE_REQ                                                                              \
	"http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"
#define NS_MOBILE_RESP                                                                             \
	"http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"

static xmlTextWriterPtr pox_begin(struct http_request *req)
{
	http_response_header(req, "Content-Type", "text/xml; charset=utf-8");
	xmlTextWriterPtr w = http_xml_writer_new(req);
	xmlTextWriterStartElementNS(w, NULL, BAD_CAST "Autodiscover", BAD_CAST NS_RESPONSE);
	return w;
}

/* MS-OXDSCLI 2.2.4.2 error response: 500 (unknown address), 600
 * (invalid request), 601 (no provider for the schema asked). */
static int pox_error(struct http_request *req, int code, const char *message)
{
	xmlTextWriterPtr w = pox_begin(req);
	http_xml_start(w, "Response");
	http_xml_start(w, "Error");
	char t[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(t, sizeof(t), "%H:%M:%S", &tm);
	http_xml_write_attr(w, "Time", t);
	http_xml_write_attr(w, "Id", "0");
	char c[16];
	snprintf(c, sizeof(c), "%d", code);
	http_xml_write_elem(w, "ErrorCode", c);
	http_xml_write_elem(w, "Message", message);
	http_xml_write_elem(w, "DebugData", NULL);
	http_xml_end(w);
	http_xml_end(w);
	http_xml_end(w);
	return http_xml_writer_finish(&w, req);
}

static void pox_url_elem(xmlTextWriterPtr w, const char *name, const char *base,
	const char *path)
{
	if (path == NULL)
		return;
	struct buf b;
	buf_init(&b, NULL);
	buf_printf(&b, "%s%s", base, path);
	http_xml_write_elem(w, name, buf_cstr(&b));
	buf_deinit(&b);
}

/* The EXCH and EXPR sections carry the same web service URLs; what
 * differs is how the client reaches the mailbox for MAPI, which hermod
 * does not offer yet (MS-OXDSCLI 2.2.4.1.1.2.2). */
static void pox_protocol(struct autodiscover *ad, struct http_request *req, xmlTextWriterPtr w,
	const char *type, const char *base, const struct directory_user *u)
{
	pool_t *pool = http_request_pool(req);
	http_xml_start(w, "Protocol");
	http_xml_write_elem(w, "Type", type);
	if (strcmp(type, "EXCH") == 0) {
		http_xml_write_elem(w, "Server", ad_mailbox_server(pool, u));
		http_xml_write_elem(w, "ServerDN",
			pool_printf(pool,
				"/o=hermod/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/"
				"cn=Configuration/cn=Servers/cn=%s",
				ad_mailbox_server(pool, u)));
		/* ServerVersion: 4 bits of structure version (7), 6 of major,
		 * 6 of minor, a flag bit (set), 15 of build, in hex. */
		unsigned v = (0x7u << 28) | (AD_MAJOR_VERSION << 22) | (AD_MINOR_VERSION << 16) |
			0x8000u | AD_MAJOR_BUILD;
		http_xml_write_elem(w, "ServerVersion", pool_printf(pool, "%08X", v));
		http_xml_write_elem(w, "MdbDN", ad_mailbox_dn(ad, pool, u));
		http_xml_write_elem(w, "AD", ad->hostname);
	} else {
		http_xml_write_elem(w, "Server", http_request_host(req) != NULL ?
				http_request_host(req) :
				ad->hostname);
	}
	pox_url_elem(w, "ASUrl", base, ad->ews_path);
	pox_url_elem(w, "EwsUrl", base, ad->ews_path);
	pox_url_elem(w, "EmwsUrl", base, ad->ews_path);
	pox_url_elem(w, "OOFUrl", base, ad->ews_path);
	if (strcmp(type, "EXPR") == 0) {
		http_xml_write_elem(w, "SSL", strncmp(base, "https:", 6) == 0 ? "On" : "Off");
		http_xml_write_elem(w, "AuthPackage", "Basic");
	}
	if (strcmp(type, "EXCH") == 0)
		http_xml_write_elem(w, "ServerExclusiveConnect", "off");
	http_xml_end(w);
}

static int pox_outlook(struct autodiscover *ad, struct http_request *req,
	const struct directory_user *u)
{
	const char *base = ad_base_url(ad, req);
	xmlTextWriterPtr w = pox_begin(req);
	xmlTextWriterStartElementNS(w, NULL, BAD_CAST "Response", BAD_CAST NS_OUTLOOK_RESP);
	http_xml_start(w, "User");
	http_xml_write_elem(w, "DisplayName", *u->display_name ? u->display_name : u->address);
	http_xml_write_elem(w, "LegacyDN", u->legacy_dn);
	http_xml_write_elem(w, "AutoDiscoverSMTPAddress", u->address);
	http_xml_write_elem(w, "DeploymentId", ad->deployment_id);
	http_xml_end(w);
	http_xml_start(w, "Account");
	http_xml_write_elem(w, "AccountType", "email");
	http_xml_write_elem(w, "Action", "settings");
	http_xml_write_elem(w, "MicrosoftOnline", "False");
	pox_protocol(ad, req, w, "EXCH", base, u);
	pox_protocol(ad, req, w, "EXPR", base, u);
	/* WEB: the web services a browser-less client may use. */
	http_xml_start(w, "Protocol");
	http_xml_write_elem(w, "Type", "WEB");
	const char *sides[] = {"External", "Internal"};
	for (int i = 0; i < 2; i++) {
		http_xml_start(w, sides[i]);
		http_xml_start(w, "Protocol");
		http_xml_write_elem(w, "Type", "EXPR");
		pox_url_elem(w, "ASUrl", base, ad->ews_path);
		http_xml_end(w);
		http_xml_end(w);
	}
	http_xml_end(w);
	http_xml_end(w); /* Account */
	http_xml_end(w); /* Response */
	return http_xml_writer_finish(&w, req);
}

static int pox_mobilesync(struct autodiscover *ad, struct http_request *req,
	const struct directory_user *u)
{
	if (ad->eas_path == NULL)
		return pox_error(req, 601, "The requested schema is not available.");
	const char *base = ad_base_url(ad, req);
	xmlTextWriterPtr w = pox_begin(req);
	xmlTextWriterStartElementNS(w, NULL, BAD_CAST "Response", BAD_CAST NS_MOBILE_RESP);
	http_xml_write_elem(w, "Culture", "en:us");
	http_xml_start(w, "User");
	http_xml_write_elem(w, "DisplayName", *u->display_name ? u->display_name : u->address);
	http_xml_write_elem(w, "EMailAddress", u->address);
	http_xml_end(w);
	http_xml_start(w, "Action");
	http_xml_start(w, "Settings");
	http_xml_start(w, "Server");
	http_xml_write_elem(w, "Type", "MobileSync");
	pox_url_elem(w, "Url", base, ad->eas_path);
	pox_url_elem(w, "Name", base, ad->eas_path);
	http_xml_end(w);
	http_xml_end(w);
	http_xml_end(w);
	http_xml_end(w);
	return http_xml_writer_finish(&w, req);
}

int ad_pox_handler(struct http_request *req, void *ctx)
{
	struct autodiscover *ad = ctx;
	pool_t *pool = http_request_pool(req);
	struct slice body = http_request_body(req);
	const char *error;
	xmlDocPtr doc = http_xml_parse(body.ptr, body.len, 16, &error);
	if (doc == NULL) {
		log_info(http_request_log(req), "autodiscover: bad request: %s", error);
		return pox_error(req, 600, "Invalid Request");
	}
	xmlNode *root = xmlDocGetRootElement(doc);
	bool mobile = http_xml_is(root, NS_MOBILE_REQ, "Autodiscover");
	xmlNode *request = NULL;
	if (mobile)
		request = http_xml_child(root, NS_MOBILE_REQ, "Request");
	else if (http_xml_is(root, NS_OUTLOOK_REQ, "Autodiscover"))
		request = http_xml_child(root, NS_OUTLOOK_REQ, "Request");
	const char *ns = mobile ? NS_MOBILE_REQ : NS_OUTLOOK_REQ;
	char *email = request != NULL ?
		http_xml_text(pool, http_xml_child(request, ns, "EMailAddress")) : NULL;
	char *schema = request != NULL ?
		http_xml_text(pool, http_xml_child(request, ns, "AcceptableResponseSchema")) : NULL;
	xmlFreeDoc(doc);
	if (email == NULL || *email == '\0' || schema == NULL) {
		log_info(http_request_log(req), "autodiscover: request without address or schema");
		return pox_error(req, 600, "Invalid Request");
	}
	const char *want = mobile ? NS_MOBILE_RESP : NS_OUTLOOK_RESP;
	if (strcmp(schema, want) != 0)
		return pox_error(req, 601, "The requested schema is not available.");
	struct directory_user *u = NULL;
	int rc = ad_lookup_user(ad, req, email, &u);
	if (rc < 0) {
		http_response_error(req, 503, false);
		return 0;
	}
	if (rc == 0 || !u->enabled)
		return pox_error(req, 500, "The e-mail address cannot be found.");
	return mobile ? pox_mobilesync(ad, req, u) : pox_outlook(ad, req, u);
}
