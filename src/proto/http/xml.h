/* XML for the HTTP protocols (SOAP for EWS and Autodiscover, POX, WebDAV),
 * over libxml2.
 *
 * Reading: a whole request body into a DOM with the defences a network
 * parser needs: no DTD at all (a DOCTYPE is refused before any entity can
 * be declared, which stops XXE and billion-laughs payloads), no network,
 * bounded size (the HTTP body limit) and depth.
 *
 * Writing: libxml2's xmlTextWriter streaming into the HTTP response (in
 * chunks, with back-pressure), never one string for the whole document;
 * text is cleaned to what XML 1.0 allows before it is written. */
#ifndef PROTO_HTTP_XML_H
#define PROTO_HTTP_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>
#include <libxml/xmlwriter.h>

#include "core/pool.h"
#include "proto/http/http.h"

/* Nesting accepted by default (SOAP envelopes with EWS restrictions stay
 * well below). */
#define HTTP_XML_DEFAULT_DEPTH 64

/* Initializes libxml2 once per process (thread-safe to call repeatedly). */
void http_xml_init(void);

/* Parses data as an XML document. Refuses DTDs (any DOCTYPE), entity
 * declarations, non-UTF-8 encodings other than what libxml2 converts,
 * and trees deeper than max_depth (0: HTTP_XML_DEFAULT_DEPTH). Returns
 * the document (free with xmlFreeDoc), or NULL with a static *error_r. */
xmlDocPtr http_xml_parse(const void *data, size_t len, unsigned max_depth,
	const char **error_r);

/* --- DOM helpers (namespace-aware) --- */

/* True if node is an element with this local name in namespace ns (NULL:
 * any namespace). */
bool http_xml_is(const xmlNode *node, const char *ns, const char *name);
/* The first child element with this name and namespace, or NULL. */
xmlNode *http_xml_child(const xmlNode *node, const char *ns, const char *name);
/* The next sibling element after node (any name), or NULL; and the first
 * child element. */
xmlNode *http_xml_next_elem(const xmlNode *node);
xmlNode *http_xml_first_elem(const xmlNode *node);
/* The text content of node, from pool ("" when empty). */
char *http_xml_text(pool_t *pool, const xmlNode *node);
/* An attribute without namespace, from pool, or NULL. */
char *http_xml_attr(pool_t *pool, const xmlNode *node, const char *name);
/* The namespace URI of an element or "" */
const char *http_xml_ns(const xmlNode *node);

/* --- writing --- */

/* A writer streaming into req's response body (http_response_write).
 * Never NULL. End with http_xml_writer_finish, which ends the document,
 * flushes and finishes the response; returns 0 or -1 when the connection
 * went away. */
xmlTextWriterPtr http_xml_writer_new(struct http_request *req);
int http_xml_writer_finish(xmlTextWriterPtr *w, struct http_request *req);
/* Writes text / an attribute value after replacing what XML 1.0 cannot
 * carry (invalid UTF-8, C0 controls other than TAB, LF, CR, U+FFFE/FFFF)
 * with U+FFFD or nothing. */
void http_xml_write_text(xmlTextWriterPtr w, const char *s, size_t len);
void http_xml_write_attr(xmlTextWriterPtr w, const char *name, const char *value);
/* <name>text</name> with the current prefix rules (name may be "t:Subject"). */
void http_xml_write_elem(xmlTextWriterPtr w, const char *name, const char *text);
void http_xml_start(xmlTextWriterPtr w, const char *name);
void http_xml_end(xmlTextWriterPtr w);
/* Appends s cleaned for XML 1.0 to out (as http_xml_write_text does). */
void http_xml_clean(const char *s, size_t len, struct buf *out);

#endif
