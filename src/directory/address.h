/* E-mail addresses and domain names as the directory stores and looks them
 * up: RFC 5321 4.1.2 Mailbox syntax (Local-part "@" Domain), with the
 * length limits of RFC 5321 4.5.3.1.
 *
 * Parsing yields a canonical form: unnecessary quoting of the local part
 * removed ("john"@x is john@x, RFC 5321 4.1.2), the domain lower-cased
 * (DNS names are case-insensitive), the local part's case kept for display.
 * The lookup key lower-cases the local part too: Exchange matches SMTP
 * addresses case-insensitively, so John@x and john@x are one mailbox.
 *
 * Not accepted: address literals ([192.0.2.1]) and non-ASCII (SMTPUTF8,
 * RFC 6531) addresses; a directory entry needs a domain it hosts. */
#ifndef DIRECTORY_ADDRESS_H
#define DIRECTORY_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 5321 4.5.3.1.1: local part at most 64 octets. */
#define DIRECTORY_LOCAL_PART_MAX 64
/* RFC 1035 2.3.4: 255 octets on the wire, 253 characters written out;
 * RFC 5321 4.5.3.1.2 and 4.1.2: labels of at most 63. */
#define DIRECTORY_DOMAIN_MAX 253
#define DIRECTORY_DOMAIN_LABEL_MAX 63
/* RFC 5321 4.5.3.1.3: a path is at most 256 octets including "<" and ">". */
#define DIRECTORY_ADDRESS_MAX 254
/* Input longer than this is refused before it is looked at. */
#define DIRECTORY_ADDRESS_INPUT_MAX 1024

struct directory_address {
	/* Canonical form: local@domain, NUL-terminated. */
	char address[DIRECTORY_ADDRESS_MAX + 1];
	/* The lookup key: the canonical form entirely in lower case. */
	char key[DIRECTORY_ADDRESS_MAX + 1];
	/* address[0 .. local_len) is the local part (with its quotes, if
	 * quoted); the domain starts at address + local_len + 1. */
	size_t local_len;
	/* The local part is a Quoted-string that cannot be written as a
	 * Dot-string (it holds spaces, "@", two dots...). */
	bool quoted;
};

/* Parses len bytes of s as a Mailbox (no angle brackets, no comments, no
 * surrounding spaces). Returns 0 with *addr_r filled, or -1 with *error_r
 * set to a static description. */
int directory_address_parse(const char *s, size_t len, struct directory_address *addr_r,
	const char **error_r);

/* Parses a domain name (RFC 5321 Domain: LDH labels separated by dots, no
 * trailing dot). Writes the lower-cased name to out (at least
 * DIRECTORY_DOMAIN_MAX + 1 bytes). 0, or -1 with a static *error_r. */
int directory_domain_parse(const char *s, size_t len, char *out, const char **error_r);

/* The domain part of a parsed address. */
static inline const char *directory_address_domain(const struct directory_address *a)
{
	return a->address + a->local_len + 1;
}

#endif
