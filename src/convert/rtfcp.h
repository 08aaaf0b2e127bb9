/* Compressed RTF (MS-OXRTFCP): the encoding of PR_RTF_COMPRESSED
 * (PidTagRtfCompressed, MS-OXPROPS 2.942).
 *
 * A 16-byte header (COMPSIZE, RAWSIZE, COMPTYPE, CRC) followed either by the
 * raw RTF ("MELA", UNCOMPRESSED) or by LZ77-style runs over a 4096-byte
 * dictionary preloaded with common RTF ("LZFu", COMPRESSED). Pure byte
 * transformations: no I/O, no global state. */
#ifndef CONVERT_RTFCP_H
#define CONVERT_RTFCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define RTFCP_HEADER_SIZE 16
#define RTFCP_MAGIC_COMPRESSED 0x75465a4cu   /* "LZFu" */
#define RTFCP_MAGIC_UNCOMPRESSED 0x414c454du /* "MELA" */
/* A sensible default for max_out when the caller has no configured limit. */
#define RTFCP_DEFAULT_MAX_OUT (64u * 1024u * 1024u)

enum rtfcp_flags {
	/* Decode even when the CRC of a COMPRESSED stream does not match
	 * (forensic use, `hermod convert rtf --ignore-crc`). */
	RTFCP_IGNORE_CRC = 0x1,
};

/* The MS-OXRTFCP 2.1.3.2 CRC-32 (the reflected 0xEDB88320 polynomial with
 * initial value 0 and no final inversion), continued from crc. */
uint32_t rtfcp_crc(uint32_t crc, const void *data, size_t len);

/* True if data starts like a PR_RTF_COMPRESSED value (header with a known
 * COMPTYPE); says nothing about the rest. */
bool rtfcp_is_compressed(const void *data, size_t len);

/* Decodes a PR_RTF_COMPRESSED value of either COMPTYPE and appends the RTF
 * to out. At most max_out bytes are produced: a RAWSIZE above it is an
 * error before anything is decoded. Verifies COMPSIZE against the input,
 * the CRC of COMPRESSED data (unless RTFCP_IGNORE_CRC), dictionary
 * references and the end marker.
 * Returns 1, or -1 with *error_r (static text) set; out may then hold a
 * partial result. */
int rtfcp_decompress(const void *data, size_t len, size_t max_out, unsigned flags,
	struct buf *out, const char **error_r);

/* Appends the COMPRESSED form of rtf (MS-OXRTFCP 2.3.3.2) to out: header
 * with COMPSIZE, RAWSIZE and CRC filled in. Inputs above 4 GiB - 1 cannot
 * be represented: returns -1 with *error_r set; otherwise 1. */
int rtfcp_compress(const void *rtf, size_t len, struct buf *out, const char **error_r);

/* Appends the UNCOMPRESSED ("MELA") form of rtf to out. Same limits and
 * returns as rtfcp_compress. */
int rtfcp_wrap_uncompressed(const void *rtf, size_t len, struct buf *out,
	const char **error_r);

#endif
