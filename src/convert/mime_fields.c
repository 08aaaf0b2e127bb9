/* Header fields for sorting, threading and searching (mime_fields.h),
 * parsed by GMime: addresses (internet_address_list_parse), message IDs
 * (g_mime_references_parse, g_mime_utils_decode_message_id) and RFC 2047
 * text (g_mime_utils_header_decode_text). */
#include <gmime/gmime.h>
#include <pthread.h>
#include <string.h>

#include "convert/mime_fields.h"
#include "convert/mime_struct.h"

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;
static void gmime_init_once(void)
{
	g_mime_init();
}

static GMimeParserOptions *options_new(void)
{
	GMimeParserOptions *po = g_mime_parser_options_new();
	g_mime_parser_options_set_address_compliance_mode(po, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_rfc2047_compliance_mode(po, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_allow_addresses_without_domain(po, TRUE);
	static const char *fallback[] = {"UTF-8", "windows-1252", NULL};
	g_mime_parser_options_set_fallback_charsets(po, fallback);
	return po;
}

/* The first mailbox of a list (descending into groups). */
static InternetAddressMailbox *first_mailbox(InternetAddressList *list, int depth)
{
	int n = list != NULL ? internet_address_list_length(list) : 0;
	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);
		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			return INTERNET_ADDRESS_MAILBOX(ia);
		if (INTERNET_ADDRESS_IS_GROUP(ia) && depth < 2) {
			InternetAddressMailbox *m = first_mailbox(
			        internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
			        depth + 1);
			if (m != NULL)
				return m;
		}
	}
	return NULL;
}

static bool parse_addr(
        pool_t *pool, GMimeParserOptions *po, const char *value, struct mime_addr *out)
{
	out->name = out->mailbox = out->host = "";
	if (value == NULL || *value == '\0')
		return false;
	InternetAddressList *list = internet_address_list_parse(po, value);
	InternetAddressMailbox *m = first_mailbox(list, 0);
	bool found = m != NULL;
	if (m != NULL) {
		const char *name = internet_address_get_name(INTERNET_ADDRESS(m));
		const char *addr = internet_address_mailbox_get_addr(m);
		if (name != NULL)
			out->name = pool_strdup(pool, name);
		if (addr != NULL) {
			const char *at = strrchr(addr, '@');
			if (at != NULL) {
				out->mailbox = pool_strndup(pool, addr, (size_t)(at - addr));
				out->host = pool_strdup(pool, at + 1);
			} else {
				out->mailbox = pool_strdup(pool, addr);
			}
		}
	}
	if (list != NULL)
		g_object_unref(list);
	return found;
}

/* The message IDs of a References or In-Reply-To value, the last max. */
static size_t parse_ids(pool_t *pool, GMimeParserOptions *po, const char *value, size_t max,
        bool first_only, const char ***ids_r)
{
	*ids_r = NULL;
	if (value == NULL || *value == '\0')
		return 0;
	GMimeReferences *refs = g_mime_references_parse(po, value);
	int n = refs != NULL ? g_mime_references_length(refs) : 0;
	size_t from = 0, cnt = 0;
	if (n > 0) {
		cnt = first_only ? 1 : (size_t)n;
		if (cnt > max) {
			from = cnt - max;
			cnt = max;
		}
		*ids_r = pool_calloc(pool, cnt, sizeof(**ids_r));
		size_t k = 0;
		for (size_t i = from; i < from + cnt; i++) {
			const char *id = g_mime_references_get_message_id(refs, (int)i);
			if (id != NULL && *id != '\0')
				(*ids_r)[k++] = pool_strdup(pool, id);
		}
		cnt = k;
	}
	if (refs != NULL)
		g_mime_references_free(refs);
	return cnt;
}

void mime_fields_parse(
        pool_t *pool, const unsigned char *hdr, size_t len, unsigned what, struct mime_fields *out)
{
	pthread_once(&gmime_once, gmime_init_once);
	memset(out, 0, sizeof(*out));
	out->from.name = out->from.mailbox = out->from.host = "";
	out->to = out->cc = out->from;
	size_t end = mime_struct_header_end(hdr, len);
	GMimeParserOptions *po = options_new();
	if (what & MIME_FIELDS_ADDRS) {
		out->has_from = parse_addr(
		        pool, po, mime_struct_header(pool, hdr, 0, end, "From"), &out->from);
		out->has_to =
		        parse_addr(pool, po, mime_struct_header(pool, hdr, 0, end, "To"), &out->to);
		out->has_cc =
		        parse_addr(pool, po, mime_struct_header(pool, hdr, 0, end, "Cc"), &out->cc);
	}
	if (what & MIME_FIELDS_THREAD) {
		const char *mid = mime_struct_header(pool, hdr, 0, end, "Message-ID");
		const char **ids;
		/* RFC 5256 3: an invalid Message-ID is as good as none. */
		if (parse_ids(pool, po, mid, 1, true, &ids) == 1)
			out->message_id = ids[0];
		out->nrefs =
		        parse_ids(pool, po, mime_struct_header(pool, hdr, 0, end, "References"),
		                MIME_FIELDS_MAX_REFS, false, &out->refs);
		if (out->nrefs == 0)
			out->nrefs = parse_ids(pool, po,
			        mime_struct_header(pool, hdr, 0, end, "In-Reply-To"), 1, true,
			        &out->refs);
	}
	g_mime_parser_options_free(po);
}

const char *mime_fields_decode_text(pool_t *pool, const char *raw)
{
	if (raw == NULL)
		return NULL;
	pthread_once(&gmime_once, gmime_init_once);
	GMimeParserOptions *po = options_new();
	char *d = g_mime_utils_header_decode_text(po, raw);
	g_mime_parser_options_free(po);
	const char *r = pool_strdup(pool, d != NULL ? d : raw);
	g_free(d);
	return r;
}
