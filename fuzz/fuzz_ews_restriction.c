/* Fuzzes the EWS Restriction and SortOrder translators (src/proto/ews/
 * restrict.c) over any XML: the first Restriction and SortOrder elements
 * (any depth) are translated with a resolver that needs no store; an
 * accepted restriction must pass mapi_restriction_validate and an accepted
 * sort order mapi_sort_order_validate. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mapi/restriction.h"
#include "proto/ews/items.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *resolve(void *ctx, const xmlNode *path, struct ews_path_target *t)
{
	pool_t *pool = ctx;
	memset(t, 0, sizeof(*t));
	if (http_xml_is(path, NS_T, "ExtendedFieldURI")) {
		struct ews_ext e;
		const char *err = ews_ext_parse(pool, path, &e);
		if (err != NULL)
			return err;
		t->tag = e.named ? PROP_TAG(e.type, 0x8002) : e.tag;
		t->kind = EWS_FK_EXTENDED;
		return NULL;
	}
	char *uri = http_xml_attr(pool, path, "FieldURI");
	int i = uri != NULL ? ews_field_find(uri) : -1;
	if (i < 0)
		return "ErrorUnsupportedPathForQuery";
	const struct ews_field *f = &ews_item_fields[i];
	t->kind = f->kind;
	t->aux = f->aux;
	t->tag = f->tag != 0 ? f->tag : f->kind == EWS_FK_CATEGORIES ? PROP_TAG(PT_MV_UNICODE, 0x8001) : 0;
	return NULL;
}

static const xmlNode *find(const xmlNode *n, const char *name)
{
	for (const xmlNode *c = n; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (strcmp((const char *)c->name, name) == 0)
			return c;
		const xmlNode *in = find(c->children, name);
		if (in != NULL)
			return in;
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *error;
	http_xml_init();
	xmlDocPtr doc = http_xml_parse(data, size, 0, &error);
	if (doc == NULL)
		return 0;
	pool_t *pool = pool_new("fuzz", 0);
	const xmlNode *root = xmlDocGetRootElement(doc);
	const xmlNode *res = find(root, "Restriction");
	struct mapi_restriction *r = NULL;
	if (res != NULL && ews_restriction_parse(pool, res, resolve, pool, &r) == NULL &&
		mapi_restriction_validate(r, &error) != ecSuccess)
		abort();
	const xmlNode *sort = find(root, "SortOrder");
	struct mapi_sort_order so;
	if (sort != NULL && ews_sort_parse(pool, sort, resolve, pool, &so) == NULL &&
		mapi_sort_order_validate(&so, &error) != ecSuccess)
		abort();
	pool_free(&pool);
	xmlFreeDoc(doc);
	return 0;
}
