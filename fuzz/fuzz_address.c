/* Fuzzes the RFC 5321 mailbox and domain parsers, checking that what they
 * accept is within the limits and canonical: parsing the canonical form
 * again gives it back unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "directory/address.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct directory_address a, b;
	const char *err;
	if (directory_address_parse((const char *)data, size, &a, &err) == 0) {
		size_t len = strlen(a.address);
		if (len > DIRECTORY_ADDRESS_MAX || a.local_len > DIRECTORY_LOCAL_PART_MAX ||
			a.local_len >= len || a.address[a.local_len] != '@' ||
			strlen(a.key) != len)
			abort();
		if (directory_address_parse(a.address, len, &b, &err) != 0 ||
			strcmp(a.address, b.address) != 0 || strcmp(a.key, b.key) != 0 ||
			a.quoted != b.quoted || a.local_len != b.local_len)
			abort();
		/* The key is a fixed point too (it is all lower case). */
		if (directory_address_parse(a.key, len, &b, &err) != 0 ||
			strcmp(b.key, a.key) != 0)
			abort();
	} else if (err == NULL) {
		abort();
	}
	char dom[DIRECTORY_DOMAIN_MAX + 1];
	if (directory_domain_parse((const char *)data, size, dom, &err) == 0) {
		if (strlen(dom) != size || size > DIRECTORY_DOMAIN_MAX)
			abort();
	}
	return 0;
}
