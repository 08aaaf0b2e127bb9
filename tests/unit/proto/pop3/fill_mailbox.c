/* hermod-test-fill: puts messages into a user's Inbox through the store
 * API, for the POP3 integration tests and bench/pop3 (until delivery has
 * a command of its own). Not installed.
 *
 *   hermod-test-fill DATA_DIR ADDRESS FILE...            each file is one message
 *   hermod-test-fill DATA_DIR ADDRESS --generate N SIZE  N messages of about SIZE octets
 *   hermod-test-fill DATA_DIR --users PREFIX DOMAIN U --generate N SIZE
 *                                                         the same for PREFIX1..PREFIXU@DOMAIN
 *
 * Messages get IPM.Note, a subject and a delivery time, and their MIME as
 * given (generated ones have CRLF lines, some starting with "."). Prints
 * nothing on success; exit 1 with a reason otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/hm_time.h"
#include "directory/directory.h"
#include "mapi/propval.h"
#include "mapi/tags.h"
#include "store/store.h"

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "hermod-test-fill: %s: %s\n", what, detail ? detail : "");
	exit(1);
}

static void failec(const char *what, uint32_t ec)
{
	char b[32];
	snprintf(b, sizeof(b), "ec 0x%x", ec);
	fail(what, b);
}

static void add_message(struct store *store, struct store_mailbox *mb, mapi_id_t inbox,
	const void *mime, size_t len, const char *subject)
{
	pool_t *pool = pool_new("fill", 0);
	struct store_blob_ref ref;
	uint32_t ec = store_blob_put(store, mime, len, &ref);
	if (ec != ecSuccess)
		failec("blob", ec);
	struct store_message *msg;
	ec = store_message_create(mb, inbox, 0, &msg);
	if (ec != ecSuccess)
		failec("create", ec);
	struct mapi_propvals v = {0};
	mapi_propvals_set_str(pool, &v, PR_SUBJECT, subject);
	mapi_propvals_set_str(pool, &v, PR_MESSAGE_CLASS, "IPM.Note");
	mapi_propvals_set_systime(pool, &v, PR_MESSAGE_DELIVERY_TIME, time_filetime_now());
	if ((ec = store_message_set_props(msg, &v, NULL)) != ecSuccess)
		failec("props", ec);
	if ((ec = store_message_set_mime(msg, &ref)) != ecSuccess)
		failec("mime", ec);
	if ((ec = store_message_save(msg, STORE_SAVE_DELIVERY)) != ecSuccess)
		failec("save", ec);
	store_message_close(&msg);
	pool_free(&pool);
}

static void generate(struct buf *b, const char *to, unsigned i, size_t size)
{
	buf_reset(b);
	buf_printf(b,
		"From: Sender <sender@example.test>\r\n"
		"To: <%s>\r\n"
		"Subject: message %u\r\n"
		"Date: Mon, 2 Jan 2006 15:04:05 +0000\r\n"
		"Message-ID: <fill.%u.%ld@example.test>\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: text/plain; charset=us-ascii\r\n"
		"\r\n",
		to, i, i, (long)time(NULL));
	unsigned line = 0;
	while (b->len + 2 < size) {
		if (line % 10 == 3)
			buf_append_str(b, ".a line that starts with a dot\r\n");
		else
			buf_printf(b, "line %u of message %u: the quick brown fox jumps over the lazy dog\r\n",
				line, i);
		line++;
	}
}

static void fill_user(struct directory *dir, struct store *store, const char *address,
	int argc, char **argv)
{
	pool_t *pool = pool_new("user", 0);
	struct directory_user *user;
	const char *error;
	if (directory_user_get(dir, address, pool, &user, &error) != 1)
		fail(address, "no such user");
	struct store_logon logon = {.principal = user->address, .flags = STORE_LOGON_SYSTEM};
	struct store_mailbox *mb;
	uint32_t ec = store_mailbox_open(store, &user->mailbox_guid, &logon, &mb);
	if (ec != ecSuccess)
		failec("open mailbox", ec);
	mapi_id_t inbox = store_mailbox_special_fid(mb, STORE_SPECIAL_INBOX);
	struct store_batch *batch = store_batch_new(store, STORE_DURABILITY_NORMAL);
	store_batch_join(batch, mb);
	if (argc >= 3 && strcmp(argv[0], "--generate") == 0) {
		unsigned n = (unsigned)strtoul(argv[1], NULL, 10);
		size_t size = strtoul(argv[2], NULL, 10);
		struct buf b;
		buf_init(&b, NULL);
		for (unsigned i = 1; i <= n; i++) {
			generate(&b, user->address, i, size);
			char subject[32];
			snprintf(subject, sizeof(subject), "message %u", i);
			add_message(store, mb, inbox, b.data, b.len, subject);
		}
		buf_deinit(&b);
	} else {
		for (int i = 0; i < argc; i++) {
			FILE *f = fopen(argv[i], "rb");
			if (f == NULL)
				fail(argv[i], "cannot open");
			struct buf b;
			buf_init(&b, NULL);
			char tmp[65536];
			size_t r;
			while ((r = fread(tmp, 1, sizeof(tmp), f)) > 0)
				buf_append(&b, tmp, r);
			fclose(f);
			add_message(store, mb, inbox, b.data, b.len, argv[i]);
			buf_deinit(&b);
		}
	}
	if ((ec = store_batch_commit(&batch)) != ecSuccess)
		failec("commit", ec);
	store_mailbox_close(&mb);
	pool_free(&pool);
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: hermod-test-fill DATA_DIR ADDRESS FILE...|--generate N SIZE\n"
				"       hermod-test-fill DATA_DIR --users PREFIX DOMAIN U --generate N SIZE\n");
		return 2;
	}
	const char *data_dir = argv[1];
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", data_dir, DIRECTORY_DB_NAME);
	struct directory *dir;
	const char *error;
	if (directory_open(path, NULL, &dir, &error) < 0)
		fail("directory", error);
	struct store_settings set;
	store_settings_default(&set);
	set.data_dir = data_dir;
	set.default_durability = STORE_DURABILITY_NORMAL;
	struct store *store;
	if (store_new(&set, &store, &error) < 0)
		fail("store", error);
	if (strcmp(argv[2], "--users") == 0) {
		if (argc < 6)
			fail("usage", "--users PREFIX DOMAIN U --generate N SIZE");
		unsigned users = (unsigned)strtoul(argv[5], NULL, 10);
		for (unsigned u = 1; u <= users; u++) {
			char address[512];
			snprintf(address, sizeof(address), "%s%u@%s", argv[3], u, argv[4]);
			fill_user(dir, store, address, argc - 6, argv + 6);
		}
	} else {
		fill_user(dir, store, argv[2], argc - 3, argv + 3);
	}
	store_free(&store);
	directory_close(&dir);
	return 0;
}
