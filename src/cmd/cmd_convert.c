/* hermod convert ...: content conversions on files, for administrators and
 * for debugging what clients send.
 *
 *   hermod convert tnef FILE [--extract DIR]   list (and unpack) a winmail.dat
 *   hermod convert rtf FILE [--html | --text]  decode a PR_RTF_COMPRESSED blob
 *
 *   hermod convert mime2mapi FILE.eml          the message object a MIME message becomes
 *   hermod convert mapi2mime FILE              the MIME hermod writes (cmd_convert_mime.c)
 *
 * Each conversion is one entry in convert_subs[]: adding one (mime2mapi,
 * mapi2mime, ...) is a function and a table line. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/cmd_convert.h"
#include "cmd/cmd_directory.h"
#include "convert/rtf_html.h"
#include "convert/rtfcp.h"
#include "convert/tnef.h"
#include "core/buf.h"
#include "core/pool.h"
#include "mapi/namedprop.h"
#include "mapi/propval.h"
#include "mapi/tags.h"

extern const struct cmd cmd_convert;

/* Files given to `convert` are read whole; this bounds them. */
#define CONVERT_MAX_FILE (256u * 1024u * 1024u)

/* Reads path ("-" for stdin) into b (heap). 0, or -1 after printing why. */
static int convert_read_file(const char *path, struct buf *b)
{
	buf_init(b, NULL);
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		cmd_fail("%s: %s", path, strerror(errno));
		return -1;
	}
	unsigned char tmp[65536];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
		if (b->len + n > CONVERT_MAX_FILE) {
			if (f != stdin)
				fclose(f);
			cmd_fail("%s: larger than %u bytes", path, CONVERT_MAX_FILE);
			return -1;
		}
		buf_append(b, tmp, n);
	}
	bool err = ferror(f) != 0;
	if (f != stdin)
		fclose(f);
	if (err) {
		cmd_fail("%s: read error", path);
		return -1;
	}
	return 0;
}

/* --- tnef --- */

static const struct mapi_propval *convert_find(const struct mapi_propvals *pvs, uint32_t tag)
{
	for (uint32_t i = 0; i < pvs->count; i++)
		if (pvs->vals[i].tag == tag)
			return &pvs->vals[i];
	return NULL;
}

static void convert_print_props(const struct mapi_message *msg, const struct mapi_propvals *pvs,
	const char *indent)
{
	struct buf line;
	buf_init(&line, NULL);
	for (uint32_t i = 0; i < pvs->count; i++) {
		const struct mapi_propval *pv = &pvs->vals[i];
		uint16_t id = PROP_ID(pv->tag);
		buf_reset(&line);
		if (id >= PROP_ID_NAMED_MIN && msg->names != NULL &&
			(size_t)(id - PROP_ID_NAMED_MIN) < msg->names->n) {
			const struct mapi_propname *pn = &msg->names->v[id - PROP_ID_NAMED_MIN];
			const struct mapi_named_prop_def *def = mapi_np_lookup(pn);
			const char *set = mapi_propset_name(&pn->guid);
			char g[GUID_STR_LEN + 1];
			if (def != NULL)
				buf_append_str(&line, def->canonical);
			else if (pn->kind == MNID_ID)
				buf_printf(&line, "%s:0x%04x", set != NULL ? set : guid_format(&pn->guid, g),
					pn->lid);
			else
				buf_printf(&line, "%s:\"%s\"", set != NULL ? set : guid_format(&pn->guid, g),
					pn->name != NULL ? pn->name : "");
			buf_printf(&line, " (0x%08x) = ", pv->tag);
			mapi_pvalue_format(PROP_TYPE(pv->tag), &pv->v, 64, &line);
		} else {
			mapi_propval_format(pv, 64, &line);
		}
		printf("%s%s\n", indent, buf_cstr(&line));
	}
	buf_deinit(&line);
}

/* A file name safe to create in the extraction directory: the last path
 * component, no leading dots, never empty. */
static void convert_safe_name(const char *name, size_t index, struct buf *out)
{
	const char *base = name != NULL ? name : "";
	for (const char *p = base; *p != '\0'; p++)
		if (*p == '/' || *p == '\\' || *p == ':')
			base = p + 1;
	while (*base == '.')
		base++;
	for (const char *p = base; *p != '\0'; p++)
		buf_append_byte(out, (unsigned char)*p < 0x20 ? '_' : (unsigned char)*p);
	if (out->len == 0)
		buf_printf(out, "attachment-%zu", index);
}

/* Creates dir/name without overwriting: name, then name-1, name-2, ... */
static int convert_write_new(const char *dir, const char *name, const void *data, size_t len,
	struct buf *path_r)
{
	for (unsigned k = 0; k < 1000; k++) {
		buf_reset(path_r);
		if (k == 0)
			buf_printf(path_r, "%s/%s", dir, name);
		else
			buf_printf(path_r, "%s/%s-%u", dir, name, k);
		int fd = open(buf_cstr(path_r), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			0644);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0)
			return cmd_fail("%s: %s", buf_cstr(path_r), strerror(errno));
		const unsigned char *p = data;
		size_t left = len;
		while (left > 0) {
			ssize_t w = write(fd, p, left);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				int e = errno;
				close(fd);
				return cmd_fail("%s: %s", buf_cstr(path_r), strerror(e));
			}
			p += w;
			left -= (size_t)w;
		}
		if (close(fd) < 0)
			return cmd_fail("%s: %s", buf_cstr(path_r), strerror(errno));
		return 0;
	}
	return cmd_fail("%s/%s: too many files of that name", dir, name);
}


static const char *convert_att_name(const struct mapi_attachment *att)
{
	const struct mapi_propval *pv = convert_find(&att->props, PR_ATTACH_LONG_FILENAME);
	if (pv == NULL)
		pv = convert_find(&att->props, PR_ATTACH_FILENAME);
	if (pv == NULL)
		pv = convert_find(&att->props, PR_DISPLAY_NAME);
	return pv != NULL ? pv->v.str : NULL;
}

static int convert_print_message(const struct mapi_message *msg, unsigned depth,
	const char *extract, size_t *counter)
{
	char indent[64];
	size_t w = depth * 4 < sizeof(indent) - 1 ? depth * 4 : sizeof(indent) - 1;
	memset(indent, ' ', w);
	indent[w] = '\0';
	char sub[72];
	snprintf(sub, sizeof(sub), "%s  ", indent);
	printf("%smessage properties: %u\n", indent, msg->props.count);
	convert_print_props(msg, &msg->props, sub);
	printf("%srecipients: %zu\n", indent, msg->recipients.n);
	for (size_t i = 0; i < msg->recipients.n; i++) {
		printf("%s  [%zu]\n", indent, i + 1);
		char sub2[80];
		snprintf(sub2, sizeof(sub2), "%s    ", indent);
		convert_print_props(msg, &msg->recipients.v[i].props, sub2);
	}
	printf("%sattachments: %zu\n", indent, msg->attachments.n);
	struct buf name, path;
	buf_init(&name, NULL);
	buf_init(&path, NULL);
	int rc = 0;
	for (size_t i = 0; i < msg->attachments.n && rc == 0; i++) {
		const struct mapi_attachment *att = &msg->attachments.v[i];
		const char *n = convert_att_name(att);
		const struct mapi_propval *data = convert_find(&att->props, PR_ATTACH_DATA_BIN);
		size_t index = ++*counter;
		if (att->embedded != NULL) {
			const struct mapi_propval *subj = convert_find(&att->embedded->props, PR_SUBJECT);
			printf("%s  [%zu] embedded message \"%s\"\n", indent, i + 1,
				subj != NULL ? subj->v.str : (n != NULL ? n : ""));
		} else {
			printf("%s  [%zu] %s (%u bytes)\n", indent, i + 1, n != NULL ? n : "(no name)",
				data != NULL ? data->v.bin.cb : 0);
		}
		char sub2[80];
		snprintf(sub2, sizeof(sub2), "%s      ", indent);
		convert_print_props(msg, &att->props, sub2);
		if (extract != NULL) {
			buf_reset(&name);
			convert_safe_name(n, index, &name);
			if (att->embedded != NULL) {
				/* An embedded message is written as a TNEF stream. */
				struct buf enc;
				const char *error;
				buf_init(&enc, NULL);
				buf_append_str(&name, ".tnef");
				if (tnef_encode(att->embedded, 1, 0, &enc, &error) < 0)
					rc = cmd_fail("%s", error);
				else
					rc = convert_write_new(extract, buf_cstr(&name), enc.data, enc.len,
						&path);
				buf_deinit(&enc);
			} else if (data != NULL) {
				rc = convert_write_new(extract, buf_cstr(&name), data->v.bin.pb,
					data->v.bin.cb, &path);
			} else {
				continue;
			}
			if (rc == 0)
				printf("%s      -> %s\n", indent, buf_cstr(&path));
		}
		if (rc == 0 && att->embedded != NULL)
			rc = convert_print_message(att->embedded, depth + 1, extract, counter);
	}
	buf_deinit(&name);
	buf_deinit(&path);
	return rc;
}

static const struct cmd_opt convert_tnef_opts[] = {{"extract", true, false, NULL}, {NULL, false, false, NULL}};

static int convert_tnef(int argc, char **argv)
{
	struct cmd_opt opts[sizeof(convert_tnef_opts) / sizeof(convert_tnef_opts[0])];
	memcpy(opts, convert_tnef_opts, sizeof(opts));
	const char *pos[1];
	int npos;
	if (cmd_parse_opts(argc - 1, argv + 1, opts, pos, 1, &npos) < 0 || npos != 1)
		return cmd_usage(&cmd_convert);
	const char *extract = opts[0].set ? opts[0].value : NULL;
	if (extract != NULL) {
		struct stat st;
		if (stat(extract, &st) < 0 && mkdir(extract, 0755) < 0)
			return cmd_fail("%s: %s", extract, strerror(errno));
	}
	struct buf in;
	if (convert_read_file(pos[0], &in) < 0)
		return 1;
	pool_t *pool = pool_new("convert", 0);
	struct mapi_message *msg;
	struct tnef_info info;
	const char *error;
	int rc;
	if (tnef_decode(pool, in.data, in.len, NULL, &msg, &info, &error) < 0) {
		rc = cmd_fail("%s: %s", pos[0], error);
	} else {
		printf("TNEF key 0x%04x, version 0x%08x, OEM code page %u\n", info.key, info.version,
			info.oem_codepage);
		if (info.checksum_errors > 0)
			fprintf(stderr, "hermod: warning: %u attribute(s) with a bad checksum (used anyway)\n",
				info.checksum_errors);
		if (info.ignored > 0)
			printf("ignored attributes: %u\n", info.ignored);
		size_t counter = 0;
		rc = convert_print_message(msg, 0, extract, &counter);
	}
	pool_free(&pool);
	buf_deinit(&in);
	return rc;
}

/* --- rtf --- */

static const struct cmd_opt convert_rtf_opts[] = {{"html", false, false, NULL},
	{"text", false, false, NULL}, {"ignore-crc", false, false, NULL},
	{"compress", false, false, NULL}, {NULL, false, false, NULL}};

static int convert_rtf(int argc, char **argv)
{
	struct cmd_opt opts[sizeof(convert_rtf_opts) / sizeof(convert_rtf_opts[0])];
	memcpy(opts, convert_rtf_opts, sizeof(opts));
	const char *pos[1];
	int npos;
	if (cmd_parse_opts(argc - 1, argv + 1, opts, pos, 1, &npos) < 0 || npos != 1)
		return cmd_usage(&cmd_convert);
	bool html = opts[0].set, text = opts[1].set, compress = opts[3].set;
	if ((int)html + (int)text + (int)compress > 1) {
		fprintf(stderr, "hermod: convert rtf: --html, --text and --compress exclude each other\n");
		return cmd_usage(&cmd_convert);
	}
	struct buf in, rtf, out;
	if (convert_read_file(pos[0], &in) < 0)
		return 1;
	buf_init(&rtf, NULL);
	buf_init(&out, NULL);
	const char *error;
	int rc = 0;
	if (compress) {
		if (rtfcp_compress(in.data, in.len, &out, &error) < 0)
			rc = cmd_fail("%s: %s", pos[0], error);
	} else {
		/* A PR_RTF_COMPRESSED blob, or plain RTF as a convenience. */
		if (rtfcp_is_compressed(in.data, in.len)) {
			unsigned flags = opts[2].set ? RTFCP_IGNORE_CRC : 0;
			if (rtfcp_decompress(in.data, in.len, RTFCP_DEFAULT_MAX_OUT, flags, &rtf, &error) < 0)
				rc = cmd_fail("%s: %s", pos[0], error);
		} else {
			buf_append(&rtf, in.data, in.len);
		}
		if (rc == 0 && html) {
			int r = rtf_extract_html(rtf.data, rtf.len, RTFCP_DEFAULT_MAX_OUT, &out, &error);
			if (r < 0)
				rc = cmd_fail("%s: %s", pos[0], error);
			else if (r == 0)
				rc = cmd_fail("%s: the RTF does not encapsulate HTML (no \\fromhtml1)", pos[0]);
		} else if (rc == 0 && text) {
			if (rtf_to_text(rtf.data, rtf.len, RTFCP_DEFAULT_MAX_OUT, &out, &error) < 0)
				rc = cmd_fail("%s: %s", pos[0], error);
		} else if (rc == 0) {
			buf_append(&out, rtf.data, rtf.len);
		}
	}
	if (rc == 0 && out.len > 0 && fwrite(out.data, 1, out.len, stdout) != out.len)
		rc = cmd_fail("write error");
	buf_deinit(&in);
	buf_deinit(&rtf);
	buf_deinit(&out);
	return rc;
}

/* --- the command --- */

struct convert_sub {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the conversion's name */
};

static const struct convert_sub convert_subs[] = {
	{"tnef", convert_tnef},
	{"rtf", convert_rtf},
	{"mime2mapi", cmd_convert_mime2mapi},
	{"mapi2mime", cmd_convert_mapi2mime},
};

static int cmd_convert_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return cmd_usage(&cmd_convert);
	for (size_t i = 0; i < sizeof(convert_subs) / sizeof(convert_subs[0]); i++)
		if (strcmp(argv[1], convert_subs[i].name) == 0)
			return convert_subs[i].run(argc - 1, argv + 1);
	fprintf(stderr, "hermod: convert: unknown conversion '%s'\n", argv[1]);
	return cmd_usage(&cmd_convert);
}

const struct cmd cmd_convert = {"convert",
	"convert tnef FILE [--extract DIR]\n"
	"convert rtf FILE [--html | --text | --compress] [--ignore-crc]\n"
	"convert mime2mapi [--full] [--digest] [--now TIME] FILE.eml|-\n"
	"convert mapi2mime [--tnef] [--bcc] [--lf] [--from-tnef] [--now TIME] FILE|-",
	"convert messages: TNEF, compressed RTF, MIME <-> MAPI message object", cmd_convert_run};
