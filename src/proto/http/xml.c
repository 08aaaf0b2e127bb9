/* libxml2 with the network defences of xml.h, and a streaming writer. */
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "core/utf.h"
#include "proto/http/xml.h"

static pthread_once_t http_xml_once = PTHREAD_ONCE_INIT;

static void http_xml_init_once(void)
{
	xmlInitParser();
}

void http_xml_init(void)
{
	pthread_once(&http_xml_once, http_xml_init_once);
}

struct http_xml_guard {
	bool refused;
};

/* SAX hooks that stop the parser at a DOCTYPE or entity declaration: a
 * SOAP message must not carry a DTD (SOAP 1.1 section 3), so there is
 * never a reason to read one. */
static void http_xml_refuse_subset(void *ctx, const xmlChar *name, const xmlChar *ext_id,
	const xmlChar *sys_id)
{
	(void)name;
	(void)ext_id;
	(void)sys_id;
	xmlParserCtxtPtr ctxt = ctx;
	struct http_xml_guard *g = ctxt->_private;
	g->refused = true;
	xmlStopParser(ctxt);
}

static void http_xml_refuse_entity(void *ctx, const xmlChar *name, int type,
	const xmlChar *public_id, const xmlChar *system_id, xmlChar *content)
{
	(void)name;
	(void)type;
	(void)public_id;
	(void)system_id;
	(void)content;
	xmlParserCtxtPtr ctxt = ctx;
	struct http_xml_guard *g = ctxt->_private;
	g->refused = true;
	xmlStopParser(ctxt);
}

static void http_xml_silent(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static unsigned http_xml_depth(const xmlNode *root, unsigned limit)
{
	/* Iterative walk: a deep tree must not overflow our stack either. */
	unsigned depth = 1, max = 1;
	const xmlNode *n = root;
	while (n != NULL) {
		if (n->children != NULL) {
			n = n->children;
			depth++;
			if (depth > max)
				max = depth;
			if (max > limit)
				return max;
			continue;
		}
		while (n != NULL && n->next == NULL && n != root) {
			n = n->parent;
			depth--;
		}
		if (n == NULL || n == root)
			break;
		n = n->next;
	}
	return max;
}

xmlDocPtr http_xml_parse(const void *data, size_t len, unsigned max_depth, const char **error_r)
{
	http_xml_init();
	if (max_depth == 0)
		max_depth = HTTP_XML_DEFAULT_DEPTH;
	if (len == 0) {
		*error_r = "empty document";
		return NULL;
	}
	if (len > INT_MAX) {
		*error_r = "document too large";
		return NULL;
	}
	xmlParserCtxtPtr ctxt = xmlCreateMemoryParserCtxt(data, (int)len);
	if (ctxt == NULL) {
		*error_r = "cannot create parser";
		return NULL;
	}
	struct http_xml_guard guard = {0};
	ctxt->_private = &guard;
	ctxt->sax->internalSubset = http_xml_refuse_subset;
	ctxt->sax->externalSubset = http_xml_refuse_subset;
	ctxt->sax->entityDecl = http_xml_refuse_entity;
	ctxt->sax->error = http_xml_silent;
	ctxt->sax->warning = http_xml_silent;
	ctxt->sax->serror = NULL;
	ctxt->vctxt.error = http_xml_silent;
	ctxt->vctxt.warning = http_xml_silent;
	xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
		XML_PARSE_NOCDATA | XML_PARSE_COMPACT);
	/* xmlCtxtUseOptions may reset the SAX handlers' flags; the hooks stay. */
	xmlParseDocument(ctxt);
	xmlDocPtr doc = ctxt->myDoc;
	/* Namespace errors (an undeclared prefix) are not fatal to libxml2;
	 * they are to us: the element names would mean nothing. */
	bool ok = ctxt->wellFormed && ctxt->nsWellFormed && !guard.refused && doc != NULL;
	ctxt->myDoc = NULL;
	xmlFreeParserCtxt(ctxt);
	if (!ok) {
		*error_r = guard.refused ? "DTDs are not allowed" : "malformed XML";
		if (doc != NULL)
			xmlFreeDoc(doc);
		return NULL;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		*error_r = "DTDs are not allowed";
		xmlFreeDoc(doc);
		return NULL;
	}
	xmlNode *root = xmlDocGetRootElement(doc);
	if (root == NULL) {
		*error_r = "no root element";
		xmlFreeDoc(doc);
		return NULL;
	}
	if (http_xml_depth(root, max_depth) > max_depth) {
		*error_r = "XML nested too deeply";
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

bool http_xml_is(const xmlNode *node, const char *ns, const char *name)
{
	if (node == NULL || node->type != XML_ELEMENT_NODE)
		return false;
	if (strcmp((const char *)node->name, name) != 0)
		return false;
	if (ns == NULL)
		return true;
	return node->ns != NULL && node->ns->href != NULL &&
		strcmp((const char *)node->ns->href, ns) == 0;
}

xmlNode *http_xml_child(const xmlNode *node, const char *ns, const char *name)
{
	if (node == NULL)
		return NULL;
	for (xmlNode *c = node->children; c != NULL; c = c->next)
		if (http_xml_is(c, ns, name))
			return c;
	return NULL;
}

xmlNode *http_xml_next_elem(const xmlNode *node)
{
	for (xmlNode *c = node != NULL ? node->next : NULL; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return c;
	return NULL;
}

xmlNode *http_xml_first_elem(const xmlNode *node)
{
	for (xmlNode *c = node != NULL ? node->children : NULL; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return c;
	return NULL;
}

char *http_xml_text(pool_t *pool, const xmlNode *node)
{
	if (node == NULL)
		return pool_strdup(pool, "");
	xmlChar *t = xmlNodeGetContent(node);
	char *r = pool_strdup(pool, t != NULL ? (const char *)t : "");
	xmlFree(t);
	return r;
}

char *http_xml_attr(pool_t *pool, const xmlNode *node, const char *name)
{
	if (node == NULL)
		return NULL;
	xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *)name);
	if (v == NULL)
		return NULL;
	char *r = pool_strdup(pool, (const char *)v);
	xmlFree(v);
	return r;
}

const char *http_xml_ns(const xmlNode *node)
{
	return node != NULL && node->ns != NULL && node->ns->href != NULL ?
		(const char *)node->ns->href :
		"";
}

/* --- writing --- */

static int http_xml_out_write(void *ctx, const char *data, int len)
{
	struct http_request *req = ctx;
	if (len <= 0)
		return 0;
	return http_response_write(req, data, (size_t)len) < 0 ? -1 : len;
}

static int http_xml_out_close(void *ctx)
{
	(void)ctx;
	return 0;
}

xmlTextWriterPtr http_xml_writer_new(struct http_request *req)
{
	http_xml_init();
	xmlOutputBufferPtr out =
		xmlOutputBufferCreateIO(http_xml_out_write, http_xml_out_close, req, NULL);
	xmlTextWriterPtr w = xmlNewTextWriter(out);
	xmlTextWriterStartDocument(w, NULL, "utf-8", NULL);
	return w;
}

int http_xml_writer_finish(xmlTextWriterPtr *w, struct http_request *req)
{
	if (w == NULL || *w == NULL)
		return -1;
	int rc = xmlTextWriterEndDocument(*w) < 0 ? -1 : 0;
	if (xmlTextWriterFlush(*w) < 0)
		rc = -1;
	xmlFreeTextWriter(*w);
	*w = NULL;
	if (http_response_finish(req) < 0)
		rc = -1;
	return rc;
}

void http_xml_clean(const char *s, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		uint32_t cp;
		int n = utf8_decode(p + i, len - i, &cp);
		if (n < 0) {
			buf_append_str(out, "\xef\xbf\xbd");
			i++;
			continue;
		}
		bool ok = cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
			(cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
		if (ok)
			buf_append(out, p + i, (size_t)n);
		i += (size_t)n;
	}
}

static bool http_xml_is_clean(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80)
			return false; /* checked the slow way */
		if (c < 0x20 && c != 0x9 && c != 0xa && c != 0xd)
			return false;
	}
	return true;
}

void http_xml_write_text(xmlTextWriterPtr w, const char *s, size_t len)
{
	if (len == 0) {
		/* an empty buffer may have no storage at all (s NULL) */
		xmlTextWriterWriteString(w, (const xmlChar *)"");
		return;
	}
	if (http_xml_is_clean(s, len) && s[len] == '\0') {
		xmlTextWriterWriteString(w, (const xmlChar *)s);
		return;
	}
	struct buf b;
	buf_init(&b, NULL);
	http_xml_clean(s, len, &b);
	xmlTextWriterWriteString(w, (const xmlChar *)buf_cstr(&b));
	buf_deinit(&b);
}

void http_xml_write_attr(xmlTextWriterPtr w, const char *name, const char *value)
{
	size_t len = strlen(value);
	if (http_xml_is_clean(value, len)) {
		xmlTextWriterWriteAttribute(w, (const xmlChar *)name, (const xmlChar *)value);
		return;
	}
	struct buf b;
	buf_init(&b, NULL);
	http_xml_clean(value, len, &b);
	xmlTextWriterWriteAttribute(w, (const xmlChar *)name, (const xmlChar *)buf_cstr(&b));
	buf_deinit(&b);
}

void http_xml_start(xmlTextWriterPtr w, const char *name)
{
	xmlTextWriterStartElement(w, (const xmlChar *)name);
}

void http_xml_end(xmlTextWriterPtr w)
{
	xmlTextWriterEndElement(w);
}

void http_xml_write_elem(xmlTextWriterPtr w, const char *name, const char *text)
{
	xmlTextWriterStartElement(w, (const xmlChar *)name);
	if (text != NULL)
		http_xml_write_text(w, text, strlen(text));
	xmlTextWriterEndElement(w);
}
