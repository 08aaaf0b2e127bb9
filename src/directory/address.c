/* RFC 5321 4.1.2 Mailbox parsing. Written by hand: no Debian library
 * validates RFC 5321 (not RFC 5322) mailboxes with its length limits and
 * gives a canonical form. */
#include "directory/address.h"

#include <string.h>

#include "core/str.h"

/* RFC 5322 3.2.3 atext, which RFC 5321 4.1.2 Atom uses. */
static bool address_is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool address_is_let_dig(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 5321 Dot-string = Atom *("." Atom). */
static bool address_is_dot_string(const char *s, size_t len)
{
	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return false;
		} else if (!address_is_atext((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

int directory_domain_parse(const char *s, size_t len, char *out, const char **error_r)
{
	if (len == 0) {
		*error_r = "empty domain";
		return -1;
	}
	if (len > DIRECTORY_DOMAIN_MAX) {
		*error_r = "domain longer than 253 characters";
		return -1;
	}
	if (s[0] == '[') {
		*error_r = "address literals are not accepted";
		return -1;
	}
	/* RFC 5321 sub-domain = Let-dig [Ldh-str]; Ldh-str ends in Let-dig. */
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0) {
				*error_r = "empty label in domain";
				return -1;
			}
			if (s[i - 1] == '-') {
				*error_r = "domain label ends with a hyphen";
				return -1;
			}
			label = 0;
		} else if (address_is_let_dig(c) || c == '-') {
			if (label == 0 && c == '-') {
				*error_r = "domain label starts with a hyphen";
				return -1;
			}
			if (++label > DIRECTORY_DOMAIN_LABEL_MAX) {
				*error_r = "domain label longer than 63 characters";
				return -1;
			}
		} else {
			*error_r = c >= 0x80 ? "non-ASCII domain (use the xn-- form)"
					     : "invalid character in domain";
			return -1;
		}
		out[i] = (char)ascii_tolower(c);
	}
	if (label == 0) {
		*error_r = "domain ends with a dot";
		return -1;
	}
	if (s[len - 1] == '-') {
		*error_r = "domain label ends with a hyphen";
		return -1;
	}
	out[len] = '\0';
	return 0;
}

/* Parses a Quoted-string at s[0] == '"' into its unescaped content.
 * Returns the bytes consumed, or -1. */
static long address_parse_quoted(const char *s, size_t len, char *content, size_t *content_len_r,
	const char **error_r)
{
	size_t n = 0;
	for (size_t i = 1; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"') {
			*content_len_r = n;
			return (long)i + 1;
		}
		if (c == '\\') {
			/* RFC 5321 quoted-pairSMTP = %d92 %d32-126 */
			if (i + 1 >= len || (unsigned char)s[i + 1] < 32 ||
				(unsigned char)s[i + 1] > 126) {
				*error_r = "invalid quoted pair in local part";
				return -1;
			}
			c = (unsigned char)s[++i];
		} else if (c < 32 || c > 126) {
			/* qtextSMTP = %d32-33 / %d35-91 / %d93-126 */
			*error_r = c >= 0x80 ? "non-ASCII local part"
					     : "control character in local part";
			return -1;
		}
		if (n >= DIRECTORY_LOCAL_PART_MAX) {
			*error_r = "local part longer than 64 characters";
			return -1;
		}
		content[n++] = (char)c;
	}
	*error_r = "unterminated quoted local part";
	return -1;
}

int directory_address_parse(const char *s, size_t len, struct directory_address *addr_r,
	const char **error_r)
{
	char local[DIRECTORY_LOCAL_PART_MAX + 1];
	size_t local_len, pos;
	bool quoted = false;

	if (len == 0) {
		*error_r = "empty address";
		return -1;
	}
	if (len > DIRECTORY_ADDRESS_INPUT_MAX) {
		*error_r = "address too long";
		return -1;
	}
	if (s[0] == '"') {
		long n = address_parse_quoted(s, len, local, &local_len, error_r);
		if (n < 0)
			return -1;
		pos = (size_t)n;
		/* Quoting that changes nothing is dropped: "john"@x is john@x. */
		quoted = !address_is_dot_string(local, local_len);
	} else {
		const char *at = memchr(s, '@', len);
		if (at == NULL) {
			*error_r = "missing @ in address";
			return -1;
		}
		local_len = (size_t)(at - s);
		if (local_len == 0) {
			*error_r = "empty local part";
			return -1;
		}
		if (local_len > DIRECTORY_LOCAL_PART_MAX) {
			*error_r = "local part longer than 64 characters";
			return -1;
		}
		for (size_t i = 0; i < local_len; i++) {
			unsigned char c = (unsigned char)s[i];
			if (c >= 0x80) {
				*error_r = "non-ASCII local part";
				return -1;
			}
		}
		if (!address_is_dot_string(s, local_len)) {
			*error_r = "invalid local part (not a dot-atom)";
			return -1;
		}
		memcpy(local, s, local_len);
		pos = local_len;
	}
	if (pos >= len || s[pos] != '@') {
		*error_r = "missing @ in address";
		return -1;
	}
	pos++;

	char domain[DIRECTORY_DOMAIN_MAX + 1];
	if (directory_domain_parse(s + pos, len - pos, domain, error_r) < 0)
		return -1;
	size_t domain_len = len - pos;

	/* The canonical local part: bare, or re-quoted escaping only what
	 * must be escaped. */
	char *out = addr_r->address;
	size_t o = 0;
	if (!quoted) {
		memcpy(out, local, local_len);
		o = local_len;
	} else {
		out[o++] = '"';
		for (size_t i = 0; i < local_len; i++) {
			if (local[i] == '"' || local[i] == '\\')
				out[o++] = '\\';
			out[o++] = local[i];
		}
		out[o++] = '"';
		if (o > DIRECTORY_LOCAL_PART_MAX) {
			*error_r = "local part longer than 64 characters";
			return -1;
		}
	}
	if (o + 1 + domain_len > DIRECTORY_ADDRESS_MAX) {
		*error_r = "address longer than 254 characters";
		return -1;
	}
	addr_r->local_len = o;
	addr_r->quoted = quoted;
	out[o++] = '@';
	memcpy(out + o, domain, domain_len);
	o += domain_len;
	out[o] = '\0';
	for (size_t i = 0; i <= o; i++)
		addr_r->key[i] = (char)ascii_tolower((unsigned char)out[i]);
	return 0;
}
