/* FETCH (RFC 3501 6.4.5, 7.4.2; BINARY RFC 3516; RFC 7162 CHANGEDSINCE,
 * MODSEQ and VANISHED): message data served from the original MIME blob
 * (mapped, and streamed to the client with back-pressure, never copied
 * whole into a string), partial fetches with exact octet counts, the MIME
 * structure (ENVELOPE, BODYSTRUCTURE, sections) from src/convert. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "convert/mime_struct.h"
#include "core/hm_time.h"
#include "core/log.h"
#include "core/str.h"
#include "mapi/errors.h"
#include "proto/imap/imap_int.h"
#include "store/imap_cache.h"

enum fetch_kind {
	F_UID,
	F_FLAGS,
	F_INTERNALDATE,
	F_SIZE,
	F_MODSEQ,
	F_ENVELOPE,
	F_BODYSTRUCTURE,
	F_BODY,         /* BODY without a section: the non-extended structure */
	F_SECTION,      /* BODY[...], BODY.PEEK[...], RFC822, RFC822.HEADER, RFC822.TEXT */
	F_BINARY,       /* BINARY[...], BINARY.PEEK[...] */
	F_BINARY_SIZE,  /* BINARY.SIZE[...] */
};

enum section_what {
	SEC_PLAIN,      /* "" or a part number: per mime_section_kind */
	SEC_FIELDS,     /* HEADER.FIELDS */
	SEC_FIELDS_NOT, /* HEADER.FIELDS.NOT */
};

struct fetch_item {
	enum fetch_kind kind;
	enum section_what what;
	enum mime_section_kind sk;
	const char *path; /* part number path, "" for the message */
	const char *name; /* as echoed: "BODY[HEADER.FIELDS (FROM)]", "RFC822" */
	bool peek;
	bool partial;
	uint64_t start, count;
	const struct imap_arg *fields;
};

struct fetch {
	struct fetch_item *items;
	size_t n;
	bool need_mime, need_struct, need_body, set_seen;
	bool want_cached; /* ENVELOPE, BODY or BODYSTRUCTURE: kept in the store */
	uint64_t changedsince;
	bool vanished;
};

/* Parses the section text between "[" and "]" into it. */
static int parse_section_spec(struct imap_session *s, struct slice sec, struct fetch_item *it,
	bool binary)
{
	/* The part path: digits and dots. */
	size_t i = 0;
	while (i < sec.len && ((sec.ptr[i] >= '0' && sec.ptr[i] <= '9') || sec.ptr[i] == '.')) {
		/* A path ends at a dot followed by a letter. */
		if (sec.ptr[i] == '.' && i + 1 < sec.len &&
			!(sec.ptr[i + 1] >= '0' && sec.ptr[i + 1] <= '9'))
			break;
		i++;
	}
	it->path = pool_strndup(s->cmd_pool, (const char *)sec.ptr, i);
	if (i > 0 && (sec.ptr[0] == '.' || sec.ptr[i - 1] == '.' || strstr(it->path, "..")))
		return -1;
	if (i < sec.len && sec.ptr[i] == '.') {
		if (i == 0)
			return -1;
		i++;
	}
	struct slice rest = SLICE(sec.ptr + i, sec.len - i);
	it->what = SEC_PLAIN;
	if (rest.len == 0) {
		it->sk = MIME_SECTION_ALL;
		return 0;
	}
	/* BINARY takes part numbers only. */
	if (binary)
		return -1;
	if (slice_case_eq_str(rest, "HEADER")) {
		it->sk = MIME_SECTION_HEADER;
	} else if (slice_case_eq_str(rest, "TEXT")) {
		it->sk = MIME_SECTION_TEXT;
	} else if (slice_case_eq_str(rest, "MIME")) {
		if (it->path[0] == '\0')
			return -1;
		it->sk = MIME_SECTION_MIME;
	} else if (slice_case_starts_with(rest, "HEADER.FIELDS")) {
		const unsigned char *q = rest.ptr + 13, *end = rest.ptr + rest.len;
		it->sk = MIME_SECTION_HEADER;
		it->what = SEC_FIELDS;
		if (slice_case_starts_with(SLICE(q, (size_t)(end - q)), ".NOT")) {
			it->what = SEC_FIELDS_NOT;
			q += 4;
		}
		/* " (A B C)": re-parse the list with the IMAP parser. */
		if (q >= end || *q != ' ')
			return -1;
		q++;
		size_t llen = (size_t)(end - q);
		char *cmd = pool_alloc(s->cmd_pool, llen + 8);
		memcpy(cmd, "x X ", 4);
		memcpy(cmd + 4, q, llen);
		memcpy(cmd + 4 + llen, "\r\n", 2);
		struct imap_parser p2;
		imap_parser_init(&p2, &s->srv->set.limits);
		int r = imap_parser_feed(&p2, (const unsigned char *)cmd, llen + 6);
		const char *tag, *nm;
		struct imap_arg *args;
		int ok = r == IMAP_PARSE_DONE && p2.error == IMAP_PARSE_OK &&
			imap_args_build(&p2, (const unsigned char *)cmd, llen + 6, s->cmd_pool, &tag, &nm,
				&args) == 0 &&
			args[0].type == IMAP_ARG_LIST && args[0].list_count > 0 &&
			args[1].type == IMAP_ARG_EOL;
		imap_parser_deinit(&p2);
		if (!ok)
			return -1;
		for (size_t k = 0; k < args[0].list_count; k++)
			if (!imap_arg_is_astring(&args[0].list[k]))
				return -1;
		it->fields = args[0].list;
	} else {
		return -1;
	}
	return 0;
}

/* "BODY[...]<a.b>", "BODY.PEEK[...]", "BINARY[...]", "BINARY.PEEK[...]",
 * "BINARY.SIZE[...]": open is the index of "[". */
static int parse_section(struct imap_session *s, const struct slice atom, size_t open,
	struct fetch_item *it, bool binary)
{
	const unsigned char *p = atom.ptr + open + 1, *end = atom.ptr + atom.len;
	const unsigned char *close = memchr(p, ']', (size_t)(end - p));
	if (close == NULL)
		return -1;
	if (parse_section_spec(s, SLICE(p, (size_t)(close - p)), it, binary) < 0)
		return -1;
	const unsigned char *q = close + 1;
	if (q < end) {
		/* <start.count> */
		if (it->kind == F_BINARY_SIZE || *q != '<' || end[-1] != '>')
			return -1;
		char *num = pool_strndup(s->cmd_pool, (const char *)q + 1, (size_t)(end - q - 2));
		char *dot = strchr(num, '.');
		if (dot == NULL)
			return -1;
		*dot = '\0';
		if (str_to_u64(num, UINT32_MAX, &it->start) < 0 ||
			str_to_u64(dot + 1, UINT32_MAX, &it->count) < 0 || it->count == 0)
			return -1;
		it->partial = true;
	}
	/* The name echoed back: without ".PEEK" and the count (RFC 3501
	 * 7.4.2). */
	struct buf name;
	buf_init(&name, s->cmd_pool);
	const char *prefix = it->kind == F_BINARY ? "BINARY[" : it->kind == F_BINARY_SIZE
		? "BINARY.SIZE["
		: "BODY[";
	buf_append_str(&name, prefix);
	for (const unsigned char *c = p; c < close; c++)
		buf_append_byte(&name, (unsigned char)ascii_toupper(*c));
	buf_append_byte(&name, ']');
	if (it->partial)
		buf_printf(&name, "<%llu>", (unsigned long long)it->start);
	it->name = buf_cstr(&name);
	return 0;
}

static int add_item(struct imap_session *s, struct fetch *f, const struct fetch_item *it)
{
	struct fetch_item *items = pool_calloc(s->cmd_pool, f->n + 1, sizeof(*items));
	if (f->n)
		memcpy(items, f->items, f->n * sizeof(*items));
	items[f->n++] = *it;
	f->items = items;
	return 0;
}

static int parse_item(struct imap_session *s, const struct imap_arg *a, struct fetch *f)
{
	if (a->type != IMAP_ARG_ATOM)
		return -1;
	struct fetch_item it = {.path = ""};
	struct slice x = a->s;
	if (slice_case_eq_str(x, "UID")) {
		it.kind = F_UID;
	} else if (slice_case_eq_str(x, "FLAGS")) {
		it.kind = F_FLAGS;
	} else if (slice_case_eq_str(x, "INTERNALDATE")) {
		it.kind = F_INTERNALDATE;
	} else if (slice_case_eq_str(x, "RFC822.SIZE")) {
		it.kind = F_SIZE;
	} else if (slice_case_eq_str(x, "MODSEQ")) {
		it.kind = F_MODSEQ;
		s->condstore = true;
	} else if (slice_case_eq_str(x, "ENVELOPE")) {
		it.kind = F_ENVELOPE;
		f->want_cached = true;
	} else if (slice_case_eq_str(x, "BODYSTRUCTURE")) {
		it.kind = F_BODYSTRUCTURE;
		f->want_cached = true;
	} else if (slice_case_eq_str(x, "BODY")) {
		it.kind = F_BODY;
		f->want_cached = true;
	} else if (slice_case_eq_str(x, "RFC822")) {
		it.kind = F_SECTION, it.sk = MIME_SECTION_ALL, it.name = "RFC822";
		f->need_mime = f->need_body = f->set_seen = true;
	} else if (slice_case_eq_str(x, "RFC822.HEADER")) {
		it.kind = F_SECTION, it.sk = MIME_SECTION_HEADER, it.name = "RFC822.HEADER";
		it.peek = true;
		f->need_mime = f->need_body = true;
	} else if (slice_case_eq_str(x, "RFC822.TEXT")) {
		it.kind = F_SECTION, it.sk = MIME_SECTION_TEXT, it.name = "RFC822.TEXT";
		f->need_mime = f->need_body = f->set_seen = true;
	} else if (slice_case_starts_with(x, "BODY[") || slice_case_starts_with(x, "BODY.PEEK[")) {
		it.kind = F_SECTION;
		it.peek = slice_case_starts_with(x, "BODY.PEEK[");
		if (parse_section(s, x, it.peek ? 9 : 4, &it, false) < 0)
			return -1;
		f->need_mime = f->need_body = true;
		f->need_struct |= it.path[0] != '\0';
		f->set_seen |= !it.peek;
	} else if (slice_case_starts_with(x, "BINARY[") ||
		slice_case_starts_with(x, "BINARY.PEEK[")) {
		it.kind = F_BINARY;
		it.peek = slice_case_starts_with(x, "BINARY.PEEK[");
		if (parse_section(s, x, it.peek ? 11 : 6, &it, true) < 0)
			return -1;
		f->need_mime = f->need_struct = f->need_body = true;
		f->set_seen |= !it.peek;
	} else if (slice_case_starts_with(x, "BINARY.SIZE[")) {
		it.kind = F_BINARY_SIZE;
		if (parse_section(s, x, 11, &it, true) < 0)
			return -1;
		f->need_mime = f->need_struct = f->need_body = true;
	} else {
		return -1;
	}
	return add_item(s, f, &it);
}

static int parse_macro(struct imap_session *s, const struct slice m, struct fetch *f)
{
	static const char *const fast[] = {"FLAGS", "INTERNALDATE", "RFC822.SIZE", NULL};
	static const char *const all[] = {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", NULL};
	static const char *const full[] = {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE",
		"BODY", NULL};
	const char *const *v = slice_case_eq_str(m, "FAST") ? fast
		: slice_case_eq_str(m, "ALL")               ? all
		: slice_case_eq_str(m, "FULL")              ? full
							    : NULL;
	if (v == NULL)
		return 1;
	for (; *v; v++) {
		struct imap_arg x = {.type = IMAP_ARG_ATOM, .s = SLICE_STR(*v)};
		if (parse_item(s, &x, f) < 0)
			return -1;
	}
	return 0;
}

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
	"Sep", "Oct", "Nov", "Dec"};

/* A message's MIME: read into a buffer reused for every message of the
 * command (small messages), or mapped (large ones, streamed from the
 * mapping). Reading spares the address-space changes that mapping and
 * unmapping cost every thread of the process. */
#define MIME_READ_MAX (1024 * 1024)

struct mime_map {
	const unsigned char *p;
	size_t len;
	bool mapped;
	bool header_only; /* p holds the header (and maybe more), not the body */
	struct mime_part *root;
	struct mime_part hdr; /* the header-only root */
};

static int read_full(int fd, unsigned char *dst, size_t len, size_t off, size_t *got_r)
{
	size_t got = 0;
	while (got < len) {
		ssize_t r = pread(fd, dst + got, len - got, (off_t)(off + got));
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	*got_r = got;
	return 0;
}

static int mime_map_open(struct imap_session *s, const struct store_imap_msg *m,
	struct buf *rbuf, bool header_only, struct mime_map *mm)
{
	memset(mm, 0, sizeof(*mm));
	if (!m->has_mime || m->mime.size == 0)
		return 0;
	int fd;
	if (store_blob_open_fd(s->srv->store, &m->mime, &fd) != ecSuccess)
		return -1;
	size_t size = (size_t)m->mime.size;
	int rc = 0;
	if (header_only) {
		/* Read until the header's end shows up (usually the first
		 * 16 KiB). */
		buf_reset(rbuf);
		size_t off = 0, step = 16384;
		for (;;) {
			size_t want = size - off < step ? size - off : step, got = 0;
			unsigned char *dst = buf_append_space(rbuf, want);
			(void)dst;
			if (read_full(fd, rbuf->data + off, want, off, &got) < 0) {
				rc = -1;
				break;
			}
			buf_truncate(rbuf, off + got);
			off += got;
			size_t he = mime_struct_header_end(rbuf->data, rbuf->len);
			if (he < rbuf->len || off >= size || got < want)
				break;
			step *= 2;
		}
		mm->p = rbuf->data;
		mm->len = rbuf->len;
		mm->header_only = true;
	} else if (size <= MIME_READ_MAX) {
		buf_reset(rbuf);
		buf_append_space(rbuf, size);
		size_t got = 0;
		if (read_full(fd, rbuf->data, size, 0, &got) < 0)
			rc = -1;
		buf_truncate(rbuf, got);
		mm->p = rbuf->data;
		mm->len = got;
	} else {
		void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			rc = -1;
		} else {
			mm->p = p;
			mm->len = size;
			mm->mapped = true;
		}
	}
	close(fd);
	return rc;
}

static void mime_map_close(struct mime_map *mm)
{
	if (mm->mapped && mm->p != NULL)
		munmap((void *)mm->p, mm->len);
	mm->p = NULL;
	mm->root = NULL;
}

int imap_mime_open(struct imap_session *s, const struct store_blob_ref *mime, struct buf *rbuf,
	struct imap_mime *out)
{
	struct store_imap_msg m = {.has_mime = true, .mime = *mime};
	struct mime_map mm;
	memset(out, 0, sizeof(*out));
	if (mime_map_open(s, &m, rbuf, false, &mm) < 0)
		return -1;
	out->p = mm.p;
	out->len = mm.len;
	out->mapped = mm.mapped;
	return 0;
}

void imap_mime_close(struct imap_mime *m)
{
	if (m->mapped && m->p != NULL)
		munmap((void *)m->p, m->len);
	m->p = NULL;
	m->mapped = false;
}

int imap_read_header(struct imap_session *s, const struct store_blob_ref *mime, struct buf *out)
{
	struct store_imap_msg m = {.has_mime = true, .mime = *mime};
	struct mime_map mm;
	buf_reset(out);
	if (mime_map_open(s, &m, out, true, &mm) < 0)
		return -1;
	mime_map_close(&mm);
	return 0;
}

/* The message's structure (the header's range when only the header was
 * read). */
static struct mime_part *mime_root(pool_t *pool, struct mime_map *mm)
{
	if (mm->root != NULL)
		return mm->root;
	if (mm->header_only) {
		mm->hdr.body_start = mime_struct_header_end(mm->p ? mm->p : (const unsigned char *)"",
			mm->len);
		mm->hdr.body_end = mm->len;
		mm->root = &mm->hdr;
		return mm->root;
	}
	mm->root = mime_struct_parse(pool, mm->p ? mm->p : (const unsigned char *)"", mm->len);
	return mm->root;
}

/* The header fields of hdr whose names are (not) in fields, with their
 * continuation lines, and the blank line. */
static void header_fields(const unsigned char *hdr, size_t len, const struct imap_arg *fields,
	bool not, struct buf *out)
{
	size_t i = 0;
	bool keep = false;
	while (i < len) {
		const unsigned char *nl = memchr(hdr + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - hdr) + 1 : len;
		const unsigned char *line = hdr + i;
		size_t llen = end - i;
		if (line[0] == '\n' || (line[0] == '\r' && llen <= 2))
			break; /* the blank line */
		if (line[0] != ' ' && line[0] != '\t') {
			const unsigned char *colon = memchr(line, ':', llen);
			size_t nlen = colon ? (size_t)(colon - line) : 0;
			while (nlen > 0 && (line[nlen - 1] == ' ' || line[nlen - 1] == '\t'))
				nlen--;
			bool match = false;
			for (const struct imap_arg *f = fields; f->type != IMAP_ARG_EOL && !match; f++)
				match = colon && f->s.len == nlen &&
					str_ncasecmp((const char *)f->s.ptr, (const char *)line, nlen) ==
						0;
			keep = colon != NULL && match != not;
		}
		if (keep)
			buf_append(out, line, llen);
		i = end;
	}
	buf_append_str(out, "\r\n");
}

/* Writes a literal of data[0..len) after the partial window; large data
 * is streamed. */
static int write_literal(struct imap_session *s, const struct fetch_item *it,
	const unsigned char *data, size_t len, bool literal8)
{
	if (it->partial) {
		if (it->start >= len) {
			len = 0;
		} else {
			data += it->start;
			len -= (size_t)it->start;
			if (len > it->count)
				len = (size_t)it->count;
		}
	}
	buf_printf(&s->out, "%s %s{%zu}\r\n", it->name, literal8 ? "~" : "", len);
	if (len <= 16384) {
		buf_append(&s->out, data, len);
		return 0;
	}
	if (imap_flush_out(s) < 0)
		return -1;
	/* The mapping is read as the socket takes it; net_conn_write blocks
	 * above the high-water mark. */
	for (size_t off = 0; off < len;) {
		size_t n = len - off > 65536 ? 65536 : len - off;
		if (net_conn_write(s->conn, data + off, n) < 0)
			return -1;
		off += n;
	}
	return 0;
}

/* One BODY[...] / BINARY[...] item. Returns 0, -1 (connection gone), 1
 * (no such part: the item is NIL) or 2 (unknown transfer encoding). */
static int write_section(struct imap_session *s, pool_t *mp, const struct fetch_item *it,
	struct mime_map *mm)
{
	const unsigned char *base = mm->p ? mm->p : (const unsigned char *)"";
	size_t start = 0, end = mm->len;
	if (it->path[0] == '\0' && it->sk == MIME_SECTION_ALL && it->what == SEC_PLAIN &&
		!mm->header_only) {
		/* BODY[], BINARY[], RFC822: the whole message as stored, no
		 * structure needed (most clients' full-message download). */
		if (it->kind == F_BINARY_SIZE) {
			buf_printf(&s->out, "%s %zu", it->name, mm->len);
			return 0;
		}
		bool nul = (it->kind == F_BINARY) && memchr(base, '\0', mm->len) != NULL;
		return write_literal(s, it, base, mm->len, nul);
	}
	const struct mime_part *part = NULL;
	struct mime_part *root = mime_root(mp, mm);
	if (mime_struct_section(root, it->path, it->sk, &start, &end, &part) < 0) {
		buf_printf(&s->out, "%s NIL", it->name);
		return 1;
	}
	if (it->kind == F_BINARY || it->kind == F_BINARY_SIZE) {
		struct buf dec;
		buf_init(&dec, mp);
		const struct mime_part *p = part;
		if (it->path[0] == '\0') {
			/* BINARY[] is the whole message, undecoded. */
			buf_append(&dec, base, mm->len);
		} else if (p->multipart || p->message != NULL) {
			/* Only leaf parts have a transfer encoding to undo. */
			buf_append(&dec, base + start, end - start);
		} else if (mime_struct_decode(p, base, &dec) < 0) {
			return 2;
		}
		if (it->kind == F_BINARY_SIZE) {
			buf_printf(&s->out, "%s %zu", it->name, dec.len);
			return 0;
		}
		bool nul = memchr(dec.data, '\0', dec.len) != NULL;
		return write_literal(s, it, dec.data, dec.len, nul);
	}
	if (it->what != SEC_PLAIN) {
		struct buf tmp;
		buf_init(&tmp, mp);
		header_fields(base + start, end - start, it->fields, it->what == SEC_FIELDS_NOT,
			&tmp);
		return write_literal(s, it, tmp.data, tmp.len, false);
	}
	return write_literal(s, it, base + start, end - start, false);
}

int imap_cmd_fetch(struct imap_session *s, struct imap_arg *args)
{
	struct imap_selected *sel = s->sel;
	struct imap_seqset set;
	if (imap_seqset_parse(s, &args[0], s->uid_cmd, &set) < 0) {
		imap_bad(s, "Invalid sequence set");
		return 0;
	}
	struct fetch f = {0};
	const struct imap_arg *spec = &args[1];
	int r = 0;
	if (spec->type == IMAP_ARG_LIST) {
		for (const struct imap_arg *a = spec->list; a->type != IMAP_ARG_EOL && r == 0; a++)
			r = parse_item(s, a, &f);
	} else if (spec->type == IMAP_ARG_ATOM) {
		r = parse_macro(s, spec->s, &f);
		if (r == 1)
			r = parse_item(s, spec, &f);
	} else {
		r = -1;
	}
	if (r < 0 || f.n == 0) {
		imap_bad(s, "Invalid FETCH items");
		return 0;
	}
	const struct imap_arg *mod = &args[2];
	if (mod->type == IMAP_ARG_LIST) {
		/* RFC 7162 3.1.4 CHANGEDSINCE, 3.2.6 VANISHED */
		for (const struct imap_arg *m = mod->list; m->type != IMAP_ARG_EOL; m++) {
			if (m->type == IMAP_ARG_ATOM && slice_case_eq_str(m->s, "CHANGEDSINCE") &&
				m[1].type == IMAP_ARG_ATOM) {
				char *v = slice_dup(s->cmd_pool, m[1].s);
				if (str_to_u64(v, INT64_MAX, &f.changedsince) < 0) {
					imap_bad(s, "Invalid CHANGEDSINCE");
					return 0;
				}
				s->condstore = true;
				m++;
			} else if (m->type == IMAP_ARG_ATOM && slice_case_eq_str(m->s, "VANISHED") &&
				s->uid_cmd && s->qresync) {
				f.vanished = true;
			} else {
				imap_bad(s, "Invalid FETCH modifier");
				return 0;
			}
		}
		if (f.vanished && f.changedsince == 0) {
			imap_bad(s, "VANISHED needs CHANGEDSINCE");
			return 0;
		}
		mod++;
	}
	if (mod->type != IMAP_ARG_EOL) {
		imap_bad(s, "Too many arguments");
		return 0;
	}
	if (!s->uid_cmd) {
		/* RFC 9051 6.4.5: numbers past the mailbox's end are an error. */
		for (uint32_t i = 0; i < set.count; i++) {
			if (set.hi[i] > sel->count) {
				imap_bad(s, "Invalid message sequence number");
				return 0;
			}
		}
	}
	if (f.vanished) {
		uint32_t *uids, n;
		bool reset = false;
		if (store_imap_vanished(s->mb, sel->fid, f.changedsince, s->cmd_pool, &uids, &n,
			    &reset) == ecSuccess &&
			n > 0) {
			uint32_t *in = pool_calloc(s->cmd_pool, n, sizeof(*in));
			uint32_t k = 0;
			for (uint32_t i = 0; i < n; i++)
				for (uint32_t j = 0; j < set.count; j++)
					if (uids[i] >= set.lo[j] && uids[i] <= set.hi[j]) {
						in[k++] = uids[i];
						break;
					}
			if (k > 0) {
				buf_append_str(&s->out, "* VANISHED (EARLIER) ");
				imap_write_uidset(&s->out, in, k);
				buf_append_str(&s->out, "\r\n");
			}
		}
	}
	bool want_uid = s->uid_cmd, want_modseq = f.changedsince > 0;
	for (size_t i = 0; i < f.n; i++)
		want_modseq |= f.items[i].kind == F_MODSEQ;
	if (f.set_seen && sel->readonly)
		f.set_seen = false;
	uint32_t nidx;
	uint32_t *idx = imap_seqset_indexes(s, &set, s->uid_cmd, &nidx);
	/* Store data: the range in one read. */
	struct store_imap_msg *all = NULL;
	uint32_t nall = 0;
	if (nidx > 0 &&
		store_imap_list(s->mb, sel->fid, sel->msgs[idx[0]].uid, sel->msgs[idx[nidx - 1]].uid,
			f.changedsince, s->cmd_pool, &all, &nall) != ecSuccess) {
		imap_no(s, "[SERVERBUG] FETCH failed");
		return 0;
	}
	/* The kept MIME structures of these messages, and those computed
	 * now to be kept. */
	struct store_imap_cached *cached = NULL;
	bool *fresh = NULL;
	uint32_t nfresh = 0;
	if (f.want_cached && nall > 0) {
		mapi_id_t *mids = pool_calloc(s->cmd_pool, nall, sizeof(*mids));
		uint8_t(*shas)[32] = pool_calloc(s->cmd_pool, nall, 32);
		for (uint32_t i = 0; i < nall; i++) {
			mids[i] = all[i].mid;
			memcpy(shas[i], all[i].mime.sha256, 32);
		}
		cached = pool_calloc(s->cmd_pool, nall, sizeof(*cached));
		fresh = pool_calloc(s->cmd_pool, nall, sizeof(*fresh));
		if (store_imap_cache_get(s->mb, sel->fid, mids, (const uint8_t(*)[32])shas, nall,
			    s->cmd_pool, cached) != ecSuccess)
			memset(cached, 0, nall * sizeof(*cached));
	}
	pool_t *mp = pool_new("imap-fetch-msg", 0);
	struct buf rbuf;
	buf_init(&rbuf, NULL);
	uint32_t ai = 0;
	bool gone_some = false, bad_cte = false;
	for (uint32_t k = 0; k < nidx; k++) {
		struct imap_msg *x = &sel->msgs[idx[k]];
		if (f.changedsince && x->modseq <= f.changedsince)
			continue;
		while (ai < nall && all[ai].uid < x->uid)
			ai++;
		if (ai >= nall || all[ai].uid != x->uid) {
			if (!f.changedsince)
				gone_some = true; /* expunged by someone else; RFC 2180 4.1.3 */
			continue;
		}
		struct store_imap_msg *m = &all[ai];
		pool_clear(mp);
		bool flags_changed = false;
		if (f.set_seen && !(m->flags & STORE_IMAP_SEEN)) {
			uint32_t *modified, nmod;
			struct store_imap_msg now;
			if (store_imap_store(s->mb, sel->fid, &x->uid, 1, STORE_IMAP_ADD,
				    STORE_IMAP_SEEN, NULL, 0, 0, mp, &modified, &nmod) == ecSuccess &&
				imap_store_msg(s, x->uid, &now) == ecSuccess) {
				*m = now;
				x->flags = now.flags;
				x->modseq = now.modseq;
				flags_changed = true;
			}
		}
		/* The structure: kept, or computed from the MIME now. */
		struct store_imap_cached *c = cached ? &cached[ai] : NULL;
		bool compute = c != NULL && m->has_mime &&
			(c->envelope == NULL || c->body == NULL || c->bodystructure == NULL);
		struct mime_map mm = {0};
		if ((f.need_mime || compute) &&
			mime_map_open(s, m, &rbuf, !f.need_body && !compute, &mm) < 0) {
			pool_free(&mp);
			buf_deinit(&rbuf);
			imap_no(s, "[SERVERBUG] Message data unavailable");
			return 0;
		}
		if (compute) {
			const unsigned char *d = mm.p ? mm.p : (const unsigned char *)"";
			struct mime_part *root = mime_root(mp, &mm);
			struct buf t;
			buf_init(&t, s->cmd_pool);
			mime_struct_write_envelope(root, d, &t);
			c->envelope = buf_cstr(&t);
			buf_init(&t, s->cmd_pool);
			mime_struct_write_body(root, d, false, &t);
			c->body = buf_cstr(&t);
			buf_init(&t, s->cmd_pool);
			mime_struct_write_body(root, d, true, &t);
			c->bodystructure = buf_cstr(&t);
			fresh[ai] = true;
			nfresh++;
		}
		buf_printf(&s->out, "* %u FETCH (", idx[k] + 1);
		bool sp = false;
		if (want_uid && f.items[0].kind != F_UID) {
			buf_printf(&s->out, "UID %u", x->uid);
			sp = true;
		}
		bool flags_done = false, modseq_done = false;
		for (size_t i = 0; i < f.n; i++) {
			const struct fetch_item *it = &f.items[i];
			if (sp)
				buf_append_byte(&s->out, ' ');
			sp = true;
			switch (it->kind) {
			case F_UID:
				buf_printf(&s->out, "UID %u", x->uid);
				break;
			case F_FLAGS:
				buf_append_str(&s->out, "FLAGS (");
				imap_write_flags(&s->out, m->flags, m->keywords, m->n_keywords);
				buf_append_byte(&s->out, ')');
				flags_done = true;
				break;
			case F_INTERNALDATE: {
				int y, mo, d, h, mi, se, wd;
				time_to_civil(time_filetime_to_unix(m->internal_date, NULL), &y, &mo, &d,
					&h, &mi, &se, &wd);
				buf_printf(&s->out, "INTERNALDATE \"%02d-%s-%04d %02d:%02d:%02d +0000\"",
					d, months[(mo - 1) % 12], y, h, mi, se);
				break;
			}
			case F_SIZE:
				buf_printf(&s->out, "RFC822.SIZE %llu", (unsigned long long)m->size);
				break;
			case F_MODSEQ:
				buf_printf(&s->out, "MODSEQ (%llu)", (unsigned long long)m->modseq);
				modseq_done = true;
				break;
			case F_ENVELOPE:
				buf_append_str(&s->out, "ENVELOPE ");
				if (c != NULL && c->envelope != NULL)
					buf_append_str(&s->out, c->envelope);
				else
					mime_struct_write_envelope(mime_root(mp, &mm),
						mm.p ? mm.p : (const unsigned char *)"", &s->out);
				break;
			case F_BODYSTRUCTURE:
			case F_BODY: {
				buf_append_str(&s->out,
					it->kind == F_BODY ? "BODY " : "BODYSTRUCTURE ");
				const char *kept = c == NULL ? NULL
					: it->kind == F_BODY ? c->body
							     : c->bodystructure;
				if (kept != NULL)
					buf_append_str(&s->out, kept);
				else
					mime_struct_write_body(mime_root(mp, &mm),
						mm.p ? mm.p : (const unsigned char *)"",
						it->kind != F_BODY, &s->out);
				break;
			}
			case F_SECTION:
			case F_BINARY:
			case F_BINARY_SIZE: {
				int w = write_section(s, mp, it, &mm);
				if (w < 0) {
					mime_map_close(&mm);
					pool_free(&mp);
					buf_deinit(&rbuf);
					return -1;
				}
				if (w == 2) {
					buf_printf(&s->out, "%s NIL", it->name);
					bad_cte = true;
				}
				break;
			}
			}
		}
		mime_map_close(&mm);
		if (flags_changed && !flags_done) {
			buf_append_str(&s->out, " FLAGS (");
			imap_write_flags(&s->out, m->flags, m->keywords, m->n_keywords);
			buf_append_byte(&s->out, ')');
		}
		if ((want_modseq || (flags_changed && s->condstore)) && !modseq_done)
			buf_printf(&s->out, " MODSEQ (%llu)", (unsigned long long)m->modseq);
		buf_append_str(&s->out, ")\r\n");
		if (s->out.len > 65536 && imap_flush_out(s) < 0) {
			pool_free(&mp);
			buf_deinit(&rbuf);
			return -1;
		}
	}
	pool_free(&mp);
	buf_deinit(&rbuf);
	if (nfresh > 0) {
		/* Keep what was computed, in one transaction. */
		mapi_id_t *mids = pool_calloc(s->cmd_pool, nfresh, sizeof(*mids));
		uint8_t(*shas)[32] = pool_calloc(s->cmd_pool, nfresh, 32);
		struct store_imap_cached *v = pool_calloc(s->cmd_pool, nfresh, sizeof(*v));
		uint32_t j = 0;
		for (uint32_t i = 0; i < nall && j < nfresh; i++) {
			if (!fresh[i])
				continue;
			mids[j] = all[i].mid;
			memcpy(shas[j], all[i].mime.sha256, 32);
			v[j++] = cached[i];
		}
		uint32_t ec = store_imap_cache_put(s->mb, sel->fid, mids,
			(const uint8_t(*)[32])shas, v, j);
		if (ec != ecSuccess)
			log_warning(net_conn_log(s->conn), "cannot keep IMAP structures: %s",
				mapi_ec_name(ec));
	}
	if (bad_cte)
		imap_no(s, "[UNKNOWN-CTE] Unknown Content-Transfer-Encoding");
	else if (gone_some)
		imap_no(s, "[EXPUNGEISSUED] Some messages were expunged meanwhile");
	else
		imap_ok(s, "FETCH completed");
	return 0;
}
