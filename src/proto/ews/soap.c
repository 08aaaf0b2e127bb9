/* The EWS endpoint: reads the SOAP envelope (RequestServerVersion,
 * ExchangeImpersonation), dispatches the body's operation, and writes the
 * response envelope with ServerVersionInfo, streamed through the HTTP
 * core (and, in tests, teed into [ews] dump_dir). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlIO.h>

#include "core/str.h"
#include "core/xalloc.h"
#include "proto/ews/ews_private.h"

static const char *const ews_version_names[] = {
	"Exchange2007", "Exchange2007_SP1", "Exchange2010", "Exchange2010_SP1",
	"Exchange2010_SP2", "Exchange2013", "Exchange2013_SP1", "Exchange2016",
};

static const struct ews_op *const ews_op_tables[] = {
	ews_folder_ops,
	ews_folder_write_ops,
	ews_convertid_ops,
	ews_item_ops,
	ews_item_write_ops,
	ews_attach_ops,
	ews_sync_ops,
	ews_resolve_ops,
};

static const struct ews_op *ews_find_op(const char *name)
{
	for (size_t t = 0; t < sizeof(ews_op_tables) / sizeof(ews_op_tables[0]); t++)
		for (const struct ews_op *op = ews_op_tables[t]; op->name != NULL; op++)
			if (strcmp(op->name, name) == 0)
				return op;
	return NULL;
}

/* --- output --- */

static int ews_out_write(void *ctx, const char *data, int len)
{
	struct ews_req *r = ctx;
	if (len <= 0)
		return 0;
	if (r->dump != NULL)
		fwrite(data, 1, (size_t)len, r->dump);
	return http_response_write(r->http, data, (size_t)len) < 0 ? -1 : len;
}

static int ews_out_close(void *ctx)
{
	(void)ctx;
	return 0;
}

static void ews_open_dump(struct ews_req *r)
{
	const char *dir = r->ews->set.dump_dir;
	if (dir == NULL || *dir == '\0')
		return;
	uint64_t n = atomic_fetch_add(&r->ews->dump_seq, 1);
	char *path = pool_printf(r->pool, "%s/%06llu-%s.xml", dir, (unsigned long long)n,
		r->op_name != NULL ? r->op_name : "fault");
	r->dump = fopen(path, "w");
	if (r->dump == NULL)
		log_warning(http_request_log(r->http), "ews: cannot write %s: %s", path,
			strerror(errno));
}

/* Starts the envelope: header with ServerVersionInfo, then <s:Body>. */
static void ews_envelope_begin(struct ews_req *r)
{
	http_response_header(r->http, "Content-Type", "text/xml; charset=utf-8");
	ews_open_dump(r);
	xmlOutputBufferPtr out = xmlOutputBufferCreateIO(ews_out_write, ews_out_close, r, NULL);
	r->w = xmlNewTextWriter(out);
	xmlTextWriterStartDocument(r->w, NULL, "utf-8", NULL);
	xmlTextWriterStartElementNS(r->w, BAD_CAST "s", BAD_CAST "Envelope", BAD_CAST NS_SOAP);
	xmlTextWriterStartElement(r->w, BAD_CAST "s:Header");
	xmlTextWriterStartElementNS(r->w, BAD_CAST "h", BAD_CAST "ServerVersionInfo",
		BAD_CAST NS_T);
	xmlTextWriterWriteFormatAttribute(r->w, BAD_CAST "MajorVersion", "%d", EWS_MAJOR_VERSION);
	xmlTextWriterWriteFormatAttribute(r->w, BAD_CAST "MinorVersion", "%d", EWS_MINOR_VERSION);
	xmlTextWriterWriteFormatAttribute(
		r->w, BAD_CAST "MajorBuildNumber", "%d", EWS_MAJOR_BUILD);
	xmlTextWriterWriteFormatAttribute(
		r->w, BAD_CAST "MinorBuildNumber", "%d", EWS_MINOR_BUILD);
	/* The version the client asked for is the one we answer in. */
	xmlTextWriterWriteAttribute(
		r->w, BAD_CAST "Version", BAD_CAST ews_version_names[r->version]);
	xmlTextWriterEndElement(r->w);
	xmlTextWriterEndElement(r->w);
	xmlTextWriterStartElement(r->w, BAD_CAST "s:Body");
	xmlTextWriterWriteAttribute(r->w, BAD_CAST "xmlns:m", BAD_CAST NS_M);
	xmlTextWriterWriteAttribute(r->w, BAD_CAST "xmlns:t", BAD_CAST NS_T);
	xmlTextWriterWriteAttribute(r->w, BAD_CAST "xmlns:xsi", BAD_CAST NS_XSI);
}

static int ews_envelope_end(struct ews_req *r)
{
	xmlTextWriterEndElement(r->w); /* Body */
	xmlTextWriterEndElement(r->w); /* Envelope */
	int rc = xmlTextWriterEndDocument(r->w) < 0 ? -1 : 0;
	if (xmlTextWriterFlush(r->w) < 0)
		rc = -1;
	xmlFreeTextWriter(r->w);
	r->w = NULL;
	if (r->dump != NULL) {
		fclose(r->dump);
		r->dump = NULL;
	}
	if (http_response_finish(r->http) < 0)
		rc = -1;
	return rc;
}

/* A SOAP fault (HTTP 500), with the EWS ResponseCode in the detail as
 * Exchange gives it (ErrorSchemaValidation, ErrorInvalidServerVersion,
 * ErrorInvalidRequest, ErrorImpersonationDenied...). */
static int ews_fault(struct ews_req *r, const char *faultcode, const char *code,
	const char *text)
{
	http_response_status(r->http, 500);
	ews_envelope_begin(r);
	xmlTextWriterStartElement(r->w, BAD_CAST "s:Fault");
	xmlTextWriterStartElement(r->w, BAD_CAST "faultcode");
	xmlTextWriterWriteAttribute(r->w, BAD_CAST "xmlns:a", BAD_CAST NS_T);
	xmlTextWriterWriteString(r->w, BAD_CAST faultcode);
	xmlTextWriterEndElement(r->w);
	xmlTextWriterStartElement(r->w, BAD_CAST "faultstring");
	xmlTextWriterWriteAttribute(r->w, BAD_CAST "xml:lang", BAD_CAST "en-US");
	http_xml_write_text(r->w, text, strlen(text));
	xmlTextWriterEndElement(r->w);
	xmlTextWriterStartElement(r->w, BAD_CAST "detail");
	xmlTextWriterStartElementNS(r->w, BAD_CAST "e", BAD_CAST "ResponseCode",
		BAD_CAST "http://schemas.microsoft.com/exchange/services/2006/errors");
	xmlTextWriterWriteString(r->w, BAD_CAST code);
	xmlTextWriterEndElement(r->w);
	xmlTextWriterStartElementNS(r->w, BAD_CAST "e", BAD_CAST "Message",
		BAD_CAST "http://schemas.microsoft.com/exchange/services/2006/errors");
	http_xml_write_text(r->w, text, strlen(text));
	xmlTextWriterEndElement(r->w);
	xmlTextWriterEndElement(r->w); /* detail */
	xmlTextWriterEndElement(r->w); /* Fault */
	return ews_envelope_end(r);
}

/* --- response helpers --- */

void ews_response_begin(struct ews_req *r, const char *op)
{
	xmlTextWriterStartElement(r->w, BAD_CAST pool_printf(r->pool, "m:%sResponse", op));
	xmlTextWriterStartElement(r->w, BAD_CAST "m:ResponseMessages");
}

void ews_response_end(struct ews_req *r)
{
	xmlTextWriterEndElement(r->w);
	xmlTextWriterEndElement(r->w);
}

void ews_msg_ok(struct ews_req *r, const char *msg)
{
	xmlTextWriterStartElement(r->w, BAD_CAST pool_printf(r->pool, "m:%s", msg));
	xmlTextWriterWriteAttribute(r->w, BAD_CAST "ResponseClass", BAD_CAST "Success");
	xmlTextWriterWriteElement(r->w, BAD_CAST "m:ResponseCode", BAD_CAST "NoError");
}

void ews_msg_warning(struct ews_req *r, const char *msg, const char *code, const char *text)
{
	xmlTextWriterStartElement(r->w, BAD_CAST pool_printf(r->pool, "m:%s", msg));
	xmlTextWriterWriteAttribute(r->w, BAD_CAST "ResponseClass", BAD_CAST "Warning");
	xmlTextWriterStartElement(r->w, BAD_CAST "m:MessageText");
	http_xml_write_text(r->w, text, strlen(text));
	xmlTextWriterEndElement(r->w);
	xmlTextWriterWriteElement(r->w, BAD_CAST "m:ResponseCode", BAD_CAST code);
	xmlTextWriterWriteElement(r->w, BAD_CAST "m:DescriptiveLinkKey", BAD_CAST "0");
}

void ews_msg_error(struct ews_req *r, const char *msg, const char *code, const char *text)
{
	xmlTextWriterStartElement(r->w, BAD_CAST pool_printf(r->pool, "m:%s", msg));
	xmlTextWriterWriteAttribute(r->w, BAD_CAST "ResponseClass", BAD_CAST "Error");
	xmlTextWriterStartElement(r->w, BAD_CAST "m:MessageText");
	http_xml_write_text(r->w, text, strlen(text));
	xmlTextWriterEndElement(r->w);
	xmlTextWriterWriteElement(r->w, BAD_CAST "m:ResponseCode", BAD_CAST code);
	xmlTextWriterWriteElement(r->w, BAD_CAST "m:DescriptiveLinkKey", BAD_CAST "0");
	/* ItemInfoResponseMessageType and AttachmentInfoResponseMessageType
	 * require their (then empty) array even on error, as Exchange
	 * sends it. */
	static const char *const with_items[] = {"CreateItemResponseMessage",
		"GetItemResponseMessage", "MoveItemResponseMessage", "CopyItemResponseMessage",
		"UpdateItemResponseMessage"};
	for (size_t i = 0; i < sizeof(with_items) / sizeof(with_items[0]); i++)
		if (strcmp(msg, with_items[i]) == 0)
			xmlTextWriterWriteElement(r->w, BAD_CAST "m:Items", BAD_CAST "");
	if (strcmp(msg, "CreateAttachmentResponseMessage") == 0 ||
		strcmp(msg, "GetAttachmentResponseMessage") == 0)
		xmlTextWriterWriteElement(r->w, BAD_CAST "m:Attachments", BAD_CAST "");
	xmlTextWriterEndElement(r->w);
}

void ews_msg_end(struct ews_req *r)
{
	xmlTextWriterEndElement(r->w);
}

const char *ews_code_for_ec(uint32_t ec, bool folder)
{
	switch (ec) {
	case ecSuccess:
		return "NoError";
	case ecNotFound:
	case ecObjectDeleted:
		return folder ? "ErrorFolderNotFound" : "ErrorItemNotFound";
	case ecAccessDenied:
		return "ErrorAccessDenied";
	case ecDuplicateName:
		return "ErrorFolderExists";
	case ecQuotaExceeded:
		return "ErrorQuotaExceeded";
	case ecObjectModified:
		return "ErrorIrresolvableConflict";
	case ecInvalidParam:
		return "ErrorInvalidPropertyRequest";
	case ecTooComplex:
		return "ErrorRestrictionTooComplex";
	case ecFolderCycle:
		return "ErrorMoveCopyFailed";
	case ecFolderHasChildren:
	case ecFolderHasContents:
		return "ErrorDeleteDistinguishedFolder";
	default:
		return "ErrorInternalServerError";
	}
}

void ews_elem(struct ews_req *r, const char *name, const char *text)
{
	http_xml_write_elem(r->w, name, text);
}

void ews_elem_int(struct ews_req *r, const char *name, long long v)
{
	xmlTextWriterWriteFormatElement(r->w, BAD_CAST name, "%lld", v);
}

void ews_elem_bool(struct ews_req *r, const char *name, bool v)
{
	xmlTextWriterWriteElement(r->w, BAD_CAST name, BAD_CAST(v ? "true" : "false"));
}

void ews_start(struct ews_req *r, const char *name)
{
	xmlTextWriterStartElement(r->w, BAD_CAST name);
}

void ews_end(struct ews_req *r)
{
	xmlTextWriterEndElement(r->w);
}

void ews_attr(struct ews_req *r, const char *name, const char *value)
{
	http_xml_write_attr(r->w, name, value);
}

uint32_t ews_mailbox(struct ews_req *r, struct store_mailbox **mb_r)
{
	if (r->mb == NULL) {
		struct store_logon logon = {
			/* the owner principal is the primary address (cmd_mailbox.c) */
			.principal = r->user->address,
			.quota_hard = r->user->quota,
		};
		uint32_t ec = store_mailbox_open(
			r->ews->set.store, &r->user->mailbox_guid, &logon, &r->mb);
		if (ec != ecSuccess)
			return ec;
	}
	*mb_r = r->mb;
	return ecSuccess;
}

/* --- the request --- */

static int ews_version_parse(const char *s, enum ews_version *v)
{
	for (size_t i = 0; i < sizeof(ews_version_names) / sizeof(ews_version_names[0]); i++)
		if (strcmp(ews_version_names[i], s) == 0) {
			*v = (enum ews_version)i;
			return 0;
		}
	return -1;
}

/* ExchangeImpersonation naming the caller itself is harmless (exchangelib
 * sends it when asked to); anyone else needs rights hermod does not grant
 * yet. Returns true when the request may go on. */
static bool ews_impersonation_ok(struct ews_req *r, xmlNode *imp)
{
	xmlNode *sid = http_xml_child(imp, NS_T, "ConnectingSID");
	xmlNode *who = http_xml_first_elem(sid);
	if (who == NULL)
		return false;
	const char *name = (const char *)who->name;
	char *v = http_xml_text(r->pool, who);
	if (strcmp(name, "PrimarySmtpAddress") == 0 || strcmp(name, "SmtpAddress") == 0 ||
		strcmp(name, "PrincipalName") == 0) {
		struct directory_user *u = NULL;
		const char *error;
		if (directory_user_get(r->ews->set.dir, v, r->pool, &u, &error) == 1)
			return u->id == r->user->id;
	}
	return false;
}

static int ews_handler(struct http_request *req, void *ctx)
{
	struct ews *ews = ctx;
	struct ews_req r = {
		.ews = ews,
		.http = req,
		.pool = http_request_pool(req),
		.user = http_request_user(req),
		.version = EWS_V2007,
	};
	struct slice body = http_request_body(req);
	const char *error;
	xmlDocPtr doc = http_xml_parse(body.ptr, body.len, 64, &error);
	if (doc == NULL) {
		log_info(http_request_log(req), "ews: bad request: %s", error);
		return ews_fault(&r, "a:ErrorSchemaValidation", "ErrorSchemaValidation",
			"The request failed schema validation: the XML is not well-formed or "
			"carries a DTD.");
	}
	int rc;
	xmlNode *env = xmlDocGetRootElement(doc);
	xmlNode *header = http_xml_child(env, NS_SOAP, "Header");
	xmlNode *sbody = http_xml_child(env, NS_SOAP, "Body");
	xmlNode *op = http_xml_first_elem(sbody);
	if (!http_xml_is(env, NS_SOAP, "Envelope") || op == NULL) {
		rc = ews_fault(&r, "a:ErrorSchemaValidation", "ErrorSchemaValidation",
			"The request is not a SOAP 1.1 envelope with a body.");
		goto out;
	}
	xmlNode *rsv = http_xml_child(header, NS_T, "RequestServerVersion");
	if (rsv != NULL) {
		char *v = http_xml_attr(r.pool, rsv, "Version");
		if (v == NULL || ews_version_parse(v, &r.version) < 0) {
			r.version = EWS_V2016;
			rc = ews_fault(&r, "a:ErrorInvalidServerVersion", "ErrorInvalidServerVersion",
				"The specified server version is invalid.");
			goto out;
		}
	}
	xmlNode *imp = http_xml_child(header, NS_T, "ExchangeImpersonation");
	if (imp != NULL && !ews_impersonation_ok(&r, imp)) {
		rc = ews_fault(&r, "a:ErrorImpersonationDenied", "ErrorImpersonationDenied",
			"The account does not have permission to impersonate the requested user.");
		goto out;
	}
	const struct ews_op *o = http_xml_is(op, NS_M, (const char *)op->name) ?
		ews_find_op((const char *)op->name) :
		NULL;
	if (o == NULL) {
		log_info(http_request_log(req), "ews: unknown operation {%s}%s", http_xml_ns(op),
			(const char *)op->name);
		rc = ews_fault(&r, "a:ErrorInvalidRequest", "ErrorInvalidRequest",
			"The request is invalid: unknown operation or namespace.");
		goto out;
	}
	r.op_name = o->name;
	http_request_log(req)->action = pool_printf(r.pool, "EWS %s", o->name);
	ews_envelope_begin(&r);
	rc = o->fn(&r, op);
	if (ews_envelope_end(&r) < 0)
		rc = -1;
out:
	xmlFreeDoc(doc);
	store_mailbox_close(&r.mb);
	if (r.dump != NULL)
		fclose(r.dump);
	return rc;
}

void ews_register(struct http_server *srv, const struct ews_settings *s)
{
	struct ews *ews = xcalloc(1, sizeof(*ews));
	ews->set = *s;
	if (s->dump_dir != NULL)
		ews->set.dump_dir = xstrdup(s->dump_dir);
	if (ews->set.max_page == 0)
		ews->set.max_page = 1000;
	struct http_route route = {.path = EWS_PATH, .flags = HTTP_ROUTE_AUTH,
		.methods = HTTP_M_POST, .max_body = s->max_request, .handler = ews_handler,
		.ctx = ews};
	http_server_add_route(srv, &route);
}
