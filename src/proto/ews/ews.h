/* Exchange Web Services at /EWS/Exchange.asmx: SOAP 1.1 with the
 * MS-OXWSCDATA types, over the shared HTTP core. Every operation answers
 * per item with a ResponseMessage carrying the ResponseCode the specs
 * name; a request that is not a SOAP envelope of ours gets a SOAP fault.
 *
 * Operations live one group per file: folders (MS-OXWSFOLD), items
 * (MS-OXWSCORE, MS-OXWSMSG), attachments (MS-OXWSATT), sync
 * (MS-OXWSSYNC), resolve (MS-OXWSRSLNM, MS-OXWSDLIST), convertid
 * (MS-OXWSCVTID). EWS ids are encodings of the store's IDs, in ids.c. */
#ifndef PROTO_EWS_EWS_H
#define PROTO_EWS_EWS_H

#include "directory/directory.h"
#include "proto/http/http.h"
#include "store/store.h"

#define EWS_PATH "/EWS/Exchange.asmx"

struct transport;

struct ews_settings {
	struct store *store;
	struct directory *dir;
	size_t max_request;      /* request body limit (attachments are base64) */
	unsigned max_page;       /* most items or folders one Find returns */
	/* Sending (CreateItem SendOnly/SendAndSaveCopy, SendItem) goes
	 * through its submit path (transport/submit.h); NULL: the server has
	 * no transport and sending is ErrorInvalidOperation. */
	struct transport *transport;
	/* Tests only: every response body is also written to a file here. */
	const char *dump_dir;
};

/* Registers the EWS route on srv. s is copied; store and dir must outlive
 * the server. */
void ews_register(struct http_server *srv, const struct ews_settings *s);

#endif
