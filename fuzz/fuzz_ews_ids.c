/* Fuzzes the EWS id and SyncState parsers (src/proto/ews/ids.c): an
 * accepted id or state must format back to text that parses to the same
 * values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ews/ews_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct ews_id id, id2;
	if (ews_id_parse(text, &id) == 0) {
		pool_t *pool = pool_new("fuzz", 0);
		const char *again = ews_id_format(pool, &id);
		if (ews_id_parse(again, &id2) != 0 || id2.kind != id.kind || id2.fid != id.fid ||
			id2.mid != id.mid || id2.attach_num != id.attach_num ||
			!guid_eq(&id.mailbox, &id2.mailbox))
			abort();
		pool_free(&pool);
	}
	struct ews_sync_state st, st2;
	if (ews_sync_state_parse(text, &st) == 0) {
		pool_t *pool = pool_new("fuzz", 0);
		if (ews_sync_state_parse(ews_sync_state_format(pool, &st), &st2) != 0 ||
			st2.kind != st.kind || st2.fid != st.fid || st2.state != st.state ||
			!guid_eq(&st.mailbox, &st2.mailbox))
			abort();
		pool_free(&pool);
	}
	free(text);
	return 0;
}
