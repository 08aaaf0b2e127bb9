/* hermod send USER FILE.eml: sends a message as USER through the submit
 * path (transport/submit.h): the .eml is read into a message object
 * (convert/mime.h), saved in USER's Outbox, and submitted — recipients
 * from its To, Cc and Bcc headers, the original moved to Sent Items. Local
 * recipients are delivered by this process; remote ones are queued for
 * the server's queue runner (`hermod queue list`). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd_directory.h"
#include "cmd/cmd_store.h"
#include "convert/convert.h"
#include "convert/mime.h"
#include "core/buf.h"
#include "core/config.h"
#include "transport/submit.h"

void serve_transport_settings(const struct cmd_ctx *ctx, struct transport_settings *s);

static int read_file(const char *path, struct buf *out)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL)
		return -1;
	for (;;) {
		unsigned char *p = buf_append_space(out, 65536);
		size_t n = fread(p, 1, 65536, f);
		buf_truncate(out, out->len - 65536 + n);
		if (n < 65536)
			break;
	}
	int err = ferror(f);
	if (f != stdin)
		fclose(f);
	return err ? -1 : 0;
}

static int cmd_send_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	if (argc != 3)
		return cmd_usage(&cmd_send);
	const char *error;
	pool_t *pool = pool_new("send", 0);
	struct buf eml;
	buf_init(&eml, pool);
	if (read_file(argv[2], &eml) < 0) {
		pool_free(&pool);
		return cmd_fail("cannot read %s: %s", argv[2], strerror(errno));
	}
	struct directory *dir = cmd_directory_open(ctx);
	if (dir == NULL) {
		pool_free(&pool);
		return 1;
	}
	int rc = 1;
	struct store *store = NULL;
	struct transport *t = NULL;
	struct store_mailbox *mb = NULL;
	struct store_message *m = NULL;
	struct directory_user *user;
	int found = directory_user_get(dir, argv[1], pool, &user, &error);
	if (found <= 0) {
		cmd_fail("%s", found < 0 ? error : "no such user");
		goto out;
	}
	convert_init();
	struct mapi_message *msg;
	struct mime_import_opts opts = {.max_size = eml.len + 1};
	if (mime_to_message(pool, eml.data, eml.len, &opts, &msg, NULL, &error) < 0) {
		cmd_fail("%s: %s", argv[2], error);
		goto out;
	}
	store = cmd_store_open(ctx);
	if (store == NULL)
		goto out;
	struct transport_settings ts;
	serve_transport_settings(ctx, &ts);
	if (transport_new(&ts, store, dir, &t, &error) < 0) {
		cmd_fail("%s", error);
		goto out;
	}
	struct store_logon logon = {.principal = user->address, .quota_hard = user->quota};
	uint32_t ec = store_mailbox_open(store, &user->mailbox_guid, &logon, &mb);
	mapi_id_t outbox = 0;
	if (ec == ecSuccess) {
		outbox = store_mailbox_special_fid(mb, STORE_SPECIAL_OUTBOX);
		ec = store_message_create(mb, outbox, 0, &m);
	}
	if (ec == ecSuccess)
		ec = transport_message_write(mb, m, msg);
	if (ec == ecSuccess)
		ec = store_message_save(m, 0);
	if (ec != ecSuccess) {
		cmd_fail("cannot put the message in the Outbox: %s", mapi_ec_name(ec));
		goto out;
	}
	mapi_id_t mid = store_message_mid(m);
	store_message_close(&m);
	struct transport_submit_result res;
	if (transport_submit(t, mb, user, outbox, mid, &res, pool, &error) < 0) {
		cmd_fail("not sent: %s (the message stays in the Outbox)", error);
		goto out;
	}
	printf("sent as %s: %zu recipient%s%s\n", res.id, res.delivered,
		res.delivered == 1 ? "" : "s",
		res.undeliverable ? " (unknown recipients reported to the sender)" : "");
	rc = 0;
out:
	store_message_close(&m);
	store_mailbox_close(&mb);
	transport_free(&t);
	store_free(&store);
	directory_close(&dir);
	pool_free(&pool);
	return rc;
}

const struct cmd cmd_send = {"send", "send USER FILE.eml",
	"send a message (RFC 5322 file, - for stdin) as USER: recipients from its headers, "
	"a copy in Sent Items", cmd_send_run};
