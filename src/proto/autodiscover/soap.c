/* SOAP Autodiscover (MS-OXWSADISC): GetUserSettings and GetDomainSettings
 * over SOAP 1.1 with WS-Addressing actions. */
#include <string.h>

#include "core/str.h"
#include "proto/autodiscover/autodiscover_private.h"

#define NS_SOAP "http://schemas.xmlsoap.org/soap/envelope/"
#define NS_WSA "http://www.w3.org/2005/08/addressing"
#define NS_AD "http://schemas.microsoft.com/exchange/2010/Autodiscover"
#define NS_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define ACTION_PREFIX "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/"

/* Most users and settings one request may name (MS-OXWSADISC 3.1.4.2
 * allows 100 users). */
#define AD_MAX_USERS 100
#define AD_MAX_SETTINGS 200

static xmlTextWriterPtr soap_begin(struct http_request *req, const char *action)
{
	http_response_header(req, "Content-Type", "text/xml; charset=utf-8");
	xmlTextWriterPtr w = http_xml_writer_new(req);
	xmlTextWriterStartElementNS(w, BAD_CAST "s", BAD_CAST "Envelope", BAD_CAST NS_SOAP);
	xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns:a", BAD_CAST NS_WSA);
	http_xml_start(w, "s:Header");
	if (action != NULL) {
		http_xml_start(w, "a:Action");
		http_xml_write_attr(w, "s:mustUnderstand", "1");
		xmlTextWriterWriteFormatString(w, "%s%s", ACTION_PREFIX, action);
		http_xml_end(w);
		xmlTextWriterStartElementNS(
			w, BAD_CAST "h", BAD_CAST "ServerVersionInfo", BAD_CAST NS_AD);
		xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns:i", BAD_CAST NS_XSI);
		xmlTextWriterWriteFormatElement(w, BAD_CAST "h:MajorVersion", "%d", AD_MAJOR_VERSION);
		xmlTextWriterWriteFormatElement(w, BAD_CAST "h:MinorVersion", "%d", AD_MINOR_VERSION);
		xmlTextWriterWriteFormatElement(w, BAD_CAST "h:MajorBuildNumber", "%d", AD_MAJOR_BUILD);
		xmlTextWriterWriteFormatElement(w, BAD_CAST "h:MinorBuildNumber", "%d", AD_MINOR_BUILD);
		http_xml_write_elem(w, "h:Version", AD_API_VERSION);
		http_xml_end(w);
	}
	http_xml_end(w);
	http_xml_start(w, "s:Body");
	return w;
}

static int soap_finish(struct http_request *req, xmlTextWriterPtr w)
{
	http_xml_end(w); /* Body */
	http_xml_end(w); /* Envelope */
	return http_xml_writer_finish(&w, req);
}

/* A SOAP 1.1 fault, as WCF answers an action it does not serve or an
 * envelope it cannot read. */
static int soap_fault(struct http_request *req, const char *code, const char *text)
{
	http_response_status(req, 500);
	xmlTextWriterPtr w = soap_begin(req, NULL);
	http_xml_start(w, "s:Fault");
	http_xml_write_elem(w, "faultcode", code);
	http_xml_start(w, "faultstring");
	http_xml_write_attr(w, "xml:lang", "en-US");
	http_xml_write_text(w, text, strlen(text));
	http_xml_end(w);
	http_xml_end(w);
	return soap_finish(req, w);
}

struct ad_setting {
	const char *name;
	/* NULL value: not available on this server. */
	const char *(*value)(struct autodiscover *ad, struct http_request *req,
		const struct directory_user *u);
};

static const char *sv_display_name(struct autodiscover *ad, struct http_request *req,
	const struct directory_user *u)
{
	(void)ad;
	(void)req;
	return *u->display_name ? u->display_name : u->address;
}
static const char *sv_user_dn(struct autodiscover *ad, struct http_request *req,
	const struct directory_user *u)
{
	(void)ad;
	(void)req;
	return u->legacy_dn;
}
static const char *sv_deployment(struct autodiscover *ad, struct http_request *req,
	const struct directory_user *u)
{
	(void)req;
	(void)u;
	return ad->deployment_id;
}
static const char *sv_smtp(struct autodiscover *ad, struct http_request *req,
	const struct directory_user *u)
{
	(void)ad;
	(void)req;
	return u->address;
}
static const char *sv_mailbox_dn(struct autodiscover *ad, struct http_request *req,
	const struct directory_user *u)
{
	return ad_mailbox_dn(ad, http_request_pool(req), u);
}
static const char *sv_mailbox_server(struct autodiscover *ad, struct http_request *req,
	const struct directory_user *u)
{
	(void)ad;
	return ad_mailbox_server(http_request_pool(req), u);
}
static const char *sv_host(struct autodiscover *ad, struct http_request *req,
	const struct directory_user *u)
{
	(void)req;
	(void)u;
	return ad->hostname;
}
static const char *sv_ews_url(struct autodiscover *ad, struct http_request *req,
	const struct directory_user *u)
{
	(void)u;
	if (ad->ews_path == NULL)
		return NULL;
	return pool_printf(http_request_pool(req), "%s%s", ad_base_url(ad, req), ad->ews_path);
}
static const char *sv_eas_url(struct autodiscover *ad, struct http_request *req,
	const struct directory_user *u)
{
	(void)u;
	if (ad->eas_path == NULL)
		return NULL;
	return pool_printf(http_request_pool(req), "%s%s", ad_base_url(ad, req), ad->eas_path);
}
static const char *sv_schemas(struct autodiscover *ad, struct http_request *req,
	const struct directory_user *u)
{
	(void)ad;
	(void)req;
	(void)u;
	return AD_EWS_SCHEMAS;
}
static const char *sv_cas_version(struct autodiscover *ad, struct http_request *req,
	const struct directory_user *u)
{
	(void)ad;
	(void)u;
	return pool_printf(http_request_pool(req), "%d.%02d.%04d.%03d", AD_MAJOR_VERSION,
		AD_MINOR_VERSION, AD_MAJOR_BUILD, AD_MINOR_BUILD);
}
static const char *sv_ews_version(struct autodiscover *ad, struct http_request *req,
	const struct directory_user *u)
{
	return sv_cas_version(ad, req, u);
}
static const char *sv_false(struct autodiscover *ad, struct http_request *req,
	const struct directory_user *u)
{
	(void)ad;
	(void)req;
	(void)u;
	return "False";
}
static const char *sv_ssl(struct autodiscover *ad, struct http_request *req,
	const struct directory_user *u)
{
	(void)u;
	return strncmp(ad_base_url(ad, req), "https:", 6) == 0 ? "True" : "False";
}

/* MS-OXWSADISC 2.2.4.4 UserSettingName: the settings this server can
 * answer. Names it knows but cannot serve (OWA, ECP, UM, OAB, RPC) get
 * SettingIsNotAvailable; unknown names InvalidSetting. */
static const struct ad_setting ad_settings[] = {
	{"UserDisplayName", sv_display_name},
	{"UserDN", sv_user_dn},
	{"UserDeploymentId", sv_deployment},
	{"AutoDiscoverSMTPAddress", sv_smtp},
	{"MailboxDN", sv_mailbox_dn},
	{"InternalMailboxServer", sv_mailbox_server},
	{"InternalMailboxServerDN", sv_mailbox_dn},
	{"ExternalMailboxServer", sv_host},
	{"ExternalMailboxServerRequiresSSL", sv_ssl},
	{"ExternalMailboxServerAuthenticationMethods", NULL},
	{"ActiveDirectoryServer", sv_host},
	{"InternalEwsUrl", sv_ews_url},
	{"ExternalEwsUrl", sv_ews_url},
	{"InternalMobileSyncUrl", sv_eas_url},
	{"ExternalMobileSyncUrl", sv_eas_url},
	{"EwsSupportedSchemas", sv_schemas},
	{"CasVersion", sv_cas_version},
	{"ExternalEwsVersion", sv_ews_version},
	{"CrossOrganizationSharingEnabled", sv_false},
	{"UserMSOnline", sv_false},
	{"MapiHttpEnabled", sv_false},
	{"ShowGalAsDefaultView", NULL},
	{"InternalRpcClientServer", NULL},
	{"InternalEcpUrl", NULL},
	{"ExternalEcpUrl", NULL},
	{"InternalOABUrl", NULL},
	{"ExternalOABUrl", NULL},
	{"InternalUMUrl", NULL},
	{"ExternalUMUrl", NULL},
	{"InternalWebClientUrls", NULL},
	{"ExternalWebClientUrls", NULL},
	{"PublicFolderServer", NULL},
	{"ExchangeRpcUrl", NULL},
	{"AlternateMailboxes", NULL},
	{"InternalPop3Connections", NULL},
	{"ExternalPop3Connections", NULL},
	{"InternalImap4Connections", NULL},
	{"ExternalImap4Connections", NULL},
	{"InternalSmtpConnections", NULL},
	{"ExternalSmtpConnections", NULL},
	{"GroupingInformation", NULL},
	{"MobileMailboxPolicy", NULL},
};

static const struct ad_setting *ad_setting_find(const char *name)
{
	for (size_t i = 0; i < sizeof(ad_settings) / sizeof(ad_settings[0]); i++)
		if (strcmp(ad_settings[i].name, name) == 0)
			return &ad_settings[i];
	return NULL;
}

static void ad_write_nil(xmlTextWriterPtr w, const char *name)
{
	http_xml_start(w, name);
	http_xml_write_attr(w, "i:nil", "true");
	http_xml_end(w);
}

static void ad_user_response(struct autodiscover *ad, struct http_request *req,
	xmlTextWriterPtr w, const char *mailbox, char **settings, size_t n_settings)
{
	struct directory_user *u = NULL;
	int rc = mailbox != NULL && *mailbox != '\0' ? ad_lookup_user(ad, req, mailbox, &u) : 0;
	http_xml_start(w, "UserResponse");
	if (rc <= 0 || !u->enabled) {
		http_xml_write_elem(w, "ErrorCode", rc < 0 ? "InternalServerError" : "InvalidUser");
		http_xml_write_elem(w, "ErrorMessage",
			rc < 0 ? "The directory could not be read." :
				 pool_printf(http_request_pool(req), "Invalid user: '%s'",
					 mailbox != NULL ? mailbox : ""));
		ad_write_nil(w, "RedirectTarget");
		http_xml_write_elem(w, "UserSettingErrors", NULL);
		http_xml_write_elem(w, "UserSettings", NULL);
		http_xml_end(w);
		return;
	}
	http_xml_write_elem(w, "ErrorCode", "NoError");
	http_xml_write_elem(w, "ErrorMessage", "No error.");
	ad_write_nil(w, "RedirectTarget");
	http_xml_start(w, "UserSettingErrors");
	for (size_t i = 0; i < n_settings; i++) {
		const struct ad_setting *s = ad_setting_find(settings[i]);
		const char *v = s != NULL && s->value != NULL ? s->value(ad, req, u) : NULL;
		if (v != NULL)
			continue;
		http_xml_start(w, "UserSettingError");
		http_xml_write_elem(w, "ErrorCode", s == NULL ? "InvalidSetting" : "SettingIsNotAvailable");
		http_xml_write_elem(w, "ErrorMessage",
			s == NULL ? "The requested setting is not valid." :
				    "The requested setting is not available on this server.");
		http_xml_write_elem(w, "SettingName", settings[i]);
		http_xml_end(w);
	}
	http_xml_end(w);
	http_xml_start(w, "UserSettings");
	for (size_t i = 0; i < n_settings; i++) {
		const struct ad_setting *s = ad_setting_find(settings[i]);
		const char *v = s != NULL && s->value != NULL ? s->value(ad, req, u) : NULL;
		if (v == NULL)
			continue;
		http_xml_start(w, "UserSetting");
		http_xml_write_attr(w, "i:type", "StringSetting");
		http_xml_write_elem(w, "Name", settings[i]);
		http_xml_write_elem(w, "Value", v);
		http_xml_end(w);
	}
	http_xml_end(w);
	http_xml_end(w);
}

/* Collects the text of every child element named name under parent. */
static size_t ad_collect(pool_t *pool, xmlNode *parent, const char *name, char **out,
	size_t max, bool *too_many)
{
	size_t n = 0;
	for (xmlNode *c = http_xml_first_elem(parent); c != NULL; c = http_xml_next_elem(c)) {
		if (!http_xml_is(c, NS_AD, name))
			continue;
		if (n == max) {
			*too_many = true;
			break;
		}
		out[n++] = http_xml_text(pool, c);
	}
	return n;
}

static int ad_response_error(struct http_request *req, const char *op, const char *code,
	const char *message)
{
	xmlTextWriterPtr w = soap_begin(req, pool_printf(http_request_pool(req), "%sResponse", op));
	xmlTextWriterStartElementNS(w, NULL,
		BAD_CAST pool_printf(http_request_pool(req), "%sResponseMessage", op), BAD_CAST NS_AD);
	http_xml_start(w, "Response");
	xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns:i", BAD_CAST NS_XSI);
	http_xml_write_elem(w, "ErrorCode", code);
	http_xml_write_elem(w, "ErrorMessage", message);
	http_xml_end(w);
	http_xml_end(w);
	return soap_finish(req, w);
}

static int ad_get_user_settings(struct autodiscover *ad, struct http_request *req,
	xmlNode *msg)
{
	pool_t *pool = http_request_pool(req);
	xmlNode *request = http_xml_child(msg, NS_AD, "Request");
	xmlNode *users = http_xml_child(request, NS_AD, "Users");
	xmlNode *reqset = http_xml_child(request, NS_AD, "RequestedSettings");
	if (users == NULL || reqset == NULL)
		return ad_response_error(req, "GetUserSettings", "InvalidRequest",
			"The request is missing Users or RequestedSettings.");
	char **mailboxes = pool_calloc(pool, AD_MAX_USERS, sizeof(char *));
	size_t n_users = 0;
	bool too_many = false;
	for (xmlNode *u = http_xml_first_elem(users); u != NULL; u = http_xml_next_elem(u)) {
		if (!http_xml_is(u, NS_AD, "User"))
			continue;
		if (n_users == AD_MAX_USERS) {
			too_many = true;
			break;
		}
		mailboxes[n_users++] = http_xml_text(pool, http_xml_child(u, NS_AD, "Mailbox"));
	}
	char **settings = pool_calloc(pool, AD_MAX_SETTINGS, sizeof(char *));
	size_t n_settings = ad_collect(pool, reqset, "Setting", settings, AD_MAX_SETTINGS,
		&too_many);
	if (too_many)
		return ad_response_error(req, "GetUserSettings", "InvalidRequest",
			"Too many users or settings in one request.");
	if (n_users == 0 || n_settings == 0)
		return ad_response_error(req, "GetUserSettings", "InvalidRequest",
			"No users or no settings were requested.");
	xmlTextWriterPtr w = soap_begin(req, "GetUserSettingsResponse");
	xmlTextWriterStartElementNS(w, NULL, BAD_CAST "GetUserSettingsResponseMessage",
		BAD_CAST NS_AD);
	http_xml_start(w, "Response");
	xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns:i", BAD_CAST NS_XSI);
	http_xml_write_elem(w, "ErrorCode", "NoError");
	http_xml_write_elem(w, "ErrorMessage", NULL);
	http_xml_start(w, "UserResponses");
	for (size_t i = 0; i < n_users; i++)
		ad_user_response(ad, req, w, mailboxes[i], settings, n_settings);
	http_xml_end(w);
	http_xml_end(w);
	http_xml_end(w);
	return soap_finish(req, w);
}

static int ad_get_domain_settings(struct autodiscover *ad, struct http_request *req,
	xmlNode *msg)
{
	pool_t *pool = http_request_pool(req);
	xmlNode *request = http_xml_child(msg, NS_AD, "Request");
	xmlNode *domains = http_xml_child(request, NS_AD, "Domains");
	xmlNode *reqset = http_xml_child(request, NS_AD, "RequestedSettings");
	if (domains == NULL || reqset == NULL)
		return ad_response_error(req, "GetDomainSettings", "InvalidRequest",
			"The request is missing Domains or RequestedSettings.");
	bool too_many = false;
	char **names = pool_calloc(pool, AD_MAX_USERS, sizeof(char *));
	size_t n_domains = ad_collect(pool, domains, "Domain", names, AD_MAX_USERS, &too_many);
	char **settings = pool_calloc(pool, AD_MAX_SETTINGS, sizeof(char *));
	size_t n_settings = ad_collect(pool, reqset, "Setting", settings, AD_MAX_SETTINGS,
		&too_many);
	if (too_many || n_domains == 0 || n_settings == 0)
		return ad_response_error(req, "GetDomainSettings", "InvalidRequest",
			"No domains or settings, or too many.");
	xmlTextWriterPtr w = soap_begin(req, "GetDomainSettingsResponse");
	xmlTextWriterStartElementNS(w, NULL, BAD_CAST "GetDomainSettingsResponseMessage",
		BAD_CAST NS_AD);
	http_xml_start(w, "Response");
	xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns:i", BAD_CAST NS_XSI);
	http_xml_write_elem(w, "ErrorCode", "NoError");
	http_xml_write_elem(w, "ErrorMessage", NULL);
	http_xml_start(w, "DomainResponses");
	for (size_t i = 0; i < n_domains; i++) {
		const char *error;
		int rc = directory_domain_exists(ad->dir, names[i], &error);
		http_xml_start(w, "DomainResponse");
		if (rc <= 0) {
			http_xml_write_elem(w, "ErrorCode", rc < 0 ? "InternalServerError" : "InvalidDomain");
			http_xml_write_elem(w, "ErrorMessage",
				rc < 0 ? "The directory could not be read." :
					 "The domain is not served here.");
			http_xml_write_elem(w, "DomainSettingErrors", NULL);
			http_xml_write_elem(w, "DomainSettings", NULL);
			ad_write_nil(w, "RedirectTarget");
			http_xml_end(w);
			continue;
		}
		http_xml_write_elem(w, "ErrorCode", "NoError");
		http_xml_write_elem(w, "ErrorMessage", "No error.");
		/* MS-OXWSADISC 2.2.4.1: ExternalEwsUrl and ExternalEwsVersion
		 * are the domain settings there are. */
		http_xml_start(w, "DomainSettingErrors");
		for (size_t j = 0; j < n_settings; j++) {
			if (strcmp(settings[j], "ExternalEwsUrl") == 0 ||
				strcmp(settings[j], "ExternalEwsVersion") == 0)
				continue;
			http_xml_start(w, "DomainSettingError");
			http_xml_write_elem(w, "ErrorCode", "InvalidSetting");
			http_xml_write_elem(w, "ErrorMessage", "The requested setting is not valid.");
			http_xml_write_elem(w, "SettingName", settings[j]);
			http_xml_end(w);
		}
		http_xml_end(w);
		http_xml_start(w, "DomainSettings");
		for (size_t j = 0; j < n_settings; j++) {
			const char *v = NULL;
			if (strcmp(settings[j], "ExternalEwsUrl") == 0)
				v = sv_ews_url(ad, req, NULL);
			else if (strcmp(settings[j], "ExternalEwsVersion") == 0)
				v = sv_ews_version(ad, req, NULL);
			if (v == NULL)
				continue;
			http_xml_start(w, "DomainSetting");
			http_xml_write_attr(w, "i:type", "DomainStringSetting");
			http_xml_write_elem(w, "Name", settings[j]);
			http_xml_write_elem(w, "Value", v);
			http_xml_end(w);
		}
		http_xml_end(w);
		ad_write_nil(w, "RedirectTarget");
		http_xml_end(w);
	}
	http_xml_end(w);
	http_xml_end(w);
	http_xml_end(w);
	return soap_finish(req, w);
}

int ad_soap_handler(struct http_request *req, void *ctx)
{
	struct autodiscover *ad = ctx;
	struct slice body = http_request_body(req);
	const char *error;
	xmlDocPtr doc = http_xml_parse(body.ptr, body.len, 32, &error);
	if (doc == NULL) {
		log_info(http_request_log(req), "autodiscover: bad SOAP request: %s", error);
		return soap_fault(req, "s:Client", "The request is not well-formed XML.");
	}
	xmlNode *env = xmlDocGetRootElement(doc);
	xmlNode *sbody = http_xml_is(env, NS_SOAP, "Envelope") ? http_xml_child(env, NS_SOAP, "Body")
							     : NULL;
	xmlNode *msg = http_xml_first_elem(sbody);
	int rc;
	if (sbody == NULL || msg == NULL) {
		rc = soap_fault(req, "s:Client", "The request is not a SOAP 1.1 envelope.");
	} else if (http_xml_is(msg, NS_AD, "GetUserSettingsRequestMessage")) {
		rc = ad_get_user_settings(ad, req, msg);
	} else if (http_xml_is(msg, NS_AD, "GetDomainSettingsRequestMessage")) {
		rc = ad_get_domain_settings(ad, req, msg);
	} else {
		rc = soap_fault(req, "a:ActionNotSupported",
			"The message with Action '' cannot be processed at the receiver, due to a "
			"ContractFilter mismatch at the EndpointDispatcher.");
	}
	xmlFreeDoc(doc);
	return rc;
}
