/* Fuzzes the SOAP/XML reader (src/proto/http/xml.c): libxml2 with DTDs
 * refused and a depth limit. A document that parses must have no DTD and
 * respect the depth limit; walking it with the DOM helpers must be safe. */
#include <stdint.h>
#include <stdlib.h>

#include "proto/http/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned walk(const xmlNode *n, unsigned depth)
{
	unsigned max = depth;
	for (const xmlNode *c = http_xml_first_elem(n); c != NULL; c = http_xml_next_elem(c)) {
		unsigned d = walk(c, depth + 1);
		if (d > max)
			max = d;
		(void)http_xml_ns(c);
	}
	return max;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *error;
	xmlDocPtr doc = http_xml_parse(data, size, 16, &error);
	if (doc == NULL)
		return 0;
	if (doc->intSubset != NULL || doc->extSubset != NULL)
		abort();
	xmlNode *root = xmlDocGetRootElement(doc);
	if (walk(root, 1) > 16)
		abort();
	pool_t *pool = pool_new("fuzz", 0);
	(void)http_xml_text(pool, root);
	pool_free(&pool);
	xmlFreeDoc(doc);
	return 0;
}
