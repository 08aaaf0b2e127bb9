/* hermod convert mime2mapi | mapi2mime.
 *
 * mime2mapi prints the message object a MIME message becomes, as the
 * store keeps it: properties, recipients, attachments and embedded
 * messages, one "KEY = VALUE" line each (convert_message_dump).
 *
 * mapi2mime writes MIME from a message object. Its input is either an
 * .eml (read into a message object first, so the command shows what
 * hermod sends for a message it received) or, with --from-tnef, a TNEF
 * stream (winmail.dat): the one serialized form of a whole message object
 * that other software writes too. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmd_convert.h"
#include "convert/convert.h"
#include "convert/mime.h"
#include "convert/msgutil.h"
#include "core/hm_time.h"
#include "core/pool.h"

#include "convert/tnef.h"

extern const struct cmd cmd_convert;

/* --now TIME (ISO 8601): the time used where a message has none (no
 * Date), for reproducible output. 0 if absent, -1 if malformed. */
static int parse_now(int argc, char **argv, int *i, uint64_t *ft_r)
{
	if (strcmp(argv[*i], "--now") != 0)
		return 0;
	int64_t t;
	if (*i + 1 >= argc || time_parse_iso8601(argv[*i + 1], &t) < 0)
		return -1;
	*ft_r = time_unix_to_filetime(t, 0);
	(*i)++;
	return 1;
}

/* Files are read whole; this bounds them. */
#define CONVERT_MIME_MAX_FILE (512u * 1024u * 1024u)

static int read_file(const char *path, struct buf *out)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		cmd_fail("%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	buf_init(out, NULL);
	char tmp[65536];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
		if (out->len + n > CONVERT_MIME_MAX_FILE) {
			cmd_fail("%s: larger than %u bytes", path, CONVERT_MIME_MAX_FILE);
			break;
		}
		buf_append(out, tmp, n);
	}
	bool err = ferror(f) != 0 || n > 0;
	if (f != stdin)
		fclose(f);
	if (err) {
		if (n == 0)
			cmd_fail("%s: read error", path);
		buf_deinit(out);
		return -1;
	}
	return 0;
}

int cmd_convert_mime2mapi(int argc, char **argv)
{
	unsigned flags = 0;
	const char *path = NULL;
	struct mime_import_opts iopts;
	memset(&iopts, 0, sizeof(iopts));
	for (int i = 1; i < argc; i++) {
		int r = parse_now(argc, argv, &i, &iopts.now);
		if (r < 0)
			return cmd_usage(&cmd_convert);
		if (r > 0)
			continue;
		if (strcmp(argv[i], "--full") == 0)
			flags |= CONVERT_DUMP_FULL_BINARY;
		else if (strcmp(argv[i], "--digest") == 0)
			flags |= CONVERT_DUMP_DATA_DIGEST;
		else if (path == NULL && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
			path = argv[i];
		else
			return cmd_usage(&cmd_convert);
	}
	if (path == NULL)
		return cmd_usage(&cmd_convert);
	convert_init();
	struct buf in;
	if (read_file(path, &in) < 0)
		return 1;
	pool_t *pool = pool_new("mime2mapi", 0);
	struct mapi_message *msg;
	const char *error;
	int rc = 0;
	if (mime_to_message(pool, in.data, in.len, &iopts, &msg, NULL, &error) < 0) {
		rc = cmd_fail("%s: %s", path, error);
	} else {
		struct buf out;
		buf_init(&out, NULL);
		convert_message_dump(msg, flags, &out);
		fwrite(out.data, 1, out.len, stdout);
		buf_deinit(&out);
	}
	pool_free(&pool);
	buf_deinit(&in);
	return rc;
}

int cmd_convert_mapi2mime(int argc, char **argv)
{
	struct mime_export_opts opts;
	memset(&opts, 0, sizeof(opts));
	bool from_tnef = false;
	const char *path = NULL;
	struct mime_import_opts iopts;
	memset(&iopts, 0, sizeof(iopts));
	for (int i = 1; i < argc; i++) {
		int r = parse_now(argc, argv, &i, &iopts.now);
		if (r < 0)
			return cmd_usage(&cmd_convert);
		if (r > 0) {
			opts.now = iopts.now;
			continue;
		}
		if (strcmp(argv[i], "--tnef") == 0)
			opts.flags |= MIME_EXPORT_TNEF;
		else if (strcmp(argv[i], "--bcc") == 0)
			opts.flags |= MIME_EXPORT_BCC;
		else if (strcmp(argv[i], "--lf") == 0)
			opts.flags |= MIME_EXPORT_LF;
		else if (strcmp(argv[i], "--from-tnef") == 0)
			from_tnef = true;
		else if (path == NULL && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
			path = argv[i];
		else
			return cmd_usage(&cmd_convert);
	}
	if (path == NULL)
		return cmd_usage(&cmd_convert);
	convert_init();
	struct buf in;
	if (read_file(path, &in) < 0)
		return 1;
	pool_t *pool = pool_new("mapi2mime", 0);
	struct mapi_message *msg = NULL;
	const char *error = NULL;
	int rc = 0;
	if (from_tnef) {
		if (tnef_decode(pool, in.data, in.len, NULL, &msg, NULL, &error) < 0)
			rc = cmd_fail("%s: %s", path, error);
	} else if (mime_to_message(pool, in.data, in.len, &iopts, &msg, NULL, &error) < 0) {
		rc = cmd_fail("%s: %s", path, error);
	}
	if (rc == 0) {
		struct buf out;
		buf_init(&out, NULL);
		if (message_to_mime(msg, &opts, &out, &error) < 0)
			rc = cmd_fail("%s: %s", path, error);
		else
			fwrite(out.data, 1, out.len, stdout);
		buf_deinit(&out);
	}
	pool_free(&pool);
	buf_deinit(&in);
	return rc;
}
