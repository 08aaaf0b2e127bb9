/* MS-OXRTFCP: the specification's examples byte for byte, CRC and size
 * checks, truncation, limits and round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "convert/rtfcp.h"
#include "test_util.h"

static void check_example(const char *bin, const char *rtf)
{
	struct buf c, r, out;
	const char *error = NULL;
	test_read_data(bin, &c);
	test_read_data(rtf, &r);
	buf_init(&out, NULL);
	assert_true(rtfcp_is_compressed(c.data, c.len));
	assert_int_equal(rtfcp_decompress(c.data, c.len, RTFCP_DEFAULT_MAX_OUT, 0, &out, &error), 1);
	assert_int_equal(out.len, r.len);
	assert_memory_equal(out.data, r.data, r.len);
	/* The compressor follows 2.3.3.2 and must reproduce the example. */
	buf_reset(&out);
	assert_int_equal(rtfcp_compress(r.data, r.len, &out, &error), 1);
	assert_int_equal(out.len, c.len);
	assert_memory_equal(out.data, c.data, c.len);
	buf_deinit(&c);
	buf_deinit(&r);
	buf_deinit(&out);
}

static void test_spec_example1(void **state)
{
	check_example("rtf/spec-example1.bin", "rtf/spec-example1.rtf");
}

static void test_spec_example2_crossing(void **state)
{
	check_example("rtf/spec-example2.bin", "rtf/spec-example2.rtf");
}

static void test_crc(void **state)
{
	/* 3.1.1.2: the example's CRC over its contents. */
	struct buf c;
	test_read_data("rtf/spec-example1.bin", &c);
	assert_int_equal(rtfcp_crc(0, c.data + 16, c.len - 16), 0xa7c7c5f1u);
	/* Continuing a CRC equals computing it in one go. */
	uint32_t part = rtfcp_crc(0, c.data + 16, 10);
	assert_int_equal(rtfcp_crc(part, c.data + 26, c.len - 26), 0xa7c7c5f1u);
	assert_int_equal(rtfcp_crc(0, "", 0), 0);
	buf_deinit(&c);
}

static void test_crc_mismatch(void **state)
{
	struct buf c, out;
	const char *error = NULL;
	test_read_data("rtf/spec-example1.bin", &c);
	buf_init(&out, NULL);
	c.data[21] ^= 0x01; /* a literal changes: CRC no longer matches */
	assert_int_equal(rtfcp_decompress(c.data, c.len, 1 << 20, 0, &out, &error), -1);
	assert_string_equal(error, "compressed RTF: CRC mismatch");
	/* Forensic mode decodes anyway. */
	buf_reset(&out);
	assert_int_equal(rtfcp_decompress(c.data, c.len, 1 << 20, RTFCP_IGNORE_CRC, &out, &error),
		1);
	assert_int_equal(out.len, 43);
	buf_deinit(&c);
	buf_deinit(&out);
}

static void test_truncated(void **state)
{
	struct buf c, out;
	const char *error = NULL;
	test_read_data("rtf/spec-example1.bin", &c);
	buf_init(&out, NULL);
	for (size_t n = 0; n < c.len; n++) {
		buf_reset(&out);
		assert_int_equal(rtfcp_decompress(c.data, n, 1 << 20, 0, &out, &error), -1);
	}
	/* COMPSIZE honest about a truncation, CRC ignored: no end marker. */
	c.data[0] = 0x2d - 3;
	buf_reset(&out);
	assert_int_equal(rtfcp_decompress(c.data, c.len - 3, 1 << 20, RTFCP_IGNORE_CRC, &out,
				 &error),
		-1);
	assert_string_equal(error, "compressed RTF: data ends without the end marker");
	buf_deinit(&c);
	buf_deinit(&out);
}

static void test_limits(void **state)
{
	struct buf c, out;
	const char *error = NULL;
	test_read_data("rtf/spec-example1.bin", &c);
	buf_init(&out, NULL);
	/* RAWSIZE 43: a 42-byte limit refuses, 43 accepts. */
	assert_int_equal(rtfcp_decompress(c.data, c.len, 42, 0, &out, &error), -1);
	assert_string_equal(error, "compressed RTF: RAWSIZE above the limit");
	assert_int_equal(out.len, 0);
	assert_int_equal(rtfcp_decompress(c.data, c.len, 43, 0, &out, &error), 1);
	/* RAWSIZE lying low: the output must not exceed it. */
	c.data[4] = 40;
	buf_reset(&out);
	assert_int_equal(rtfcp_decompress(c.data, c.len, 1 << 20, 0, &out, &error), -1);
	assert_string_equal(error, "compressed RTF: output longer than RAWSIZE");
	assert_true(out.len <= 40);
	/* RAWSIZE lying high: the end marker comes early. */
	c.data[4] = 50;
	buf_reset(&out);
	assert_int_equal(rtfcp_decompress(c.data, c.len, 1 << 20, 0, &out, &error), -1);
	assert_string_equal(error, "compressed RTF: output size differs from RAWSIZE");
	/* Bad COMPTYPE, bad COMPSIZE. */
	c.data[4] = 0x2b;
	c.data[8] = 'X';
	assert_false(rtfcp_is_compressed(c.data, c.len));
	assert_int_equal(rtfcp_decompress(c.data, c.len, 1 << 20, 0, &out, &error), -1);
	assert_string_equal(error, "compressed RTF: unknown COMPTYPE");
	c.data[8] = 'L';
	c.data[0] = 4;
	assert_int_equal(rtfcp_decompress(c.data, c.len, 1 << 20, 0, &out, &error), -1);
	assert_string_equal(error, "compressed RTF: COMPSIZE smaller than the header");
	buf_deinit(&c);
	buf_deinit(&out);
}

static void test_uncompressed(void **state)
{
	struct buf c, out;
	const char *error = NULL;
	buf_init(&c, NULL);
	buf_init(&out, NULL);
	assert_int_equal(rtfcp_wrap_uncompressed("{\\rtf1 x}", 9, &c, &error), 1);
	assert_int_equal(c.len, 25);
	assert_memory_equal(c.data + 8, "MELA", 4);
	assert_true(rtfcp_is_compressed(c.data, c.len));
	assert_int_equal(rtfcp_decompress(c.data, c.len, 100, 0, &out, &error), 1);
	assert_int_equal(out.len, 9);
	assert_memory_equal(out.data, "{\\rtf1 x}", 9);
	/* RAWSIZE beyond the data. */
	c.data[4] = 10;
	buf_reset(&out);
	assert_int_equal(rtfcp_decompress(c.data, c.len, 100, 0, &out, &error), -1);
	buf_deinit(&c);
	buf_deinit(&out);
}

static void roundtrip(const unsigned char *data, size_t len)
{
	struct buf c, out;
	const char *error = NULL;
	buf_init(&c, NULL);
	buf_init(&out, NULL);
	assert_int_equal(rtfcp_compress(data, len, &c, &error), 1);
	assert_int_equal(rtfcp_decompress(c.data, c.len, len, 0, &out, &error), 1);
	assert_int_equal(out.len, len);
	if (len > 0)
		assert_memory_equal(out.data, data, len);
	buf_deinit(&c);
	buf_deinit(&out);
}

static void test_roundtrip(void **state)
{
	roundtrip((const unsigned char *)"", 0);
	roundtrip((const unsigned char *)"a", 1);
	/* Longer than the dictionary, repetitive (wraps, long chains) and
	 * random (literals), and every byte value. */
	size_t n = 100000;
	unsigned char *d = malloc(n);
	for (size_t i = 0; i < n; i++)
		d[i] = (unsigned char)"{\\rtf1\\ansi \\par hello}"[i % 23];
	roundtrip(d, n);
	memset(d, ' ', n);
	roundtrip(d, n);
	uint32_t x = 12345;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		d[i] = (unsigned char)(x >> 16);
	}
	roundtrip(d, n);
	for (size_t i = 0; i < n; i++)
		d[i] = (unsigned char)((x >> (i % 7)) % 5 + 'a');
	roundtrip(d, n);
	free(d);
}

static void test_compresses(void **state)
{
	/* A typical RTF body shrinks. */
	struct buf src, c;
	const char *error = NULL;
	buf_init(&src, NULL);
	buf_init(&c, NULL);
	buf_append_str(&src, "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\fswiss Arial;}}");
	for (int i = 0; i < 200; i++)
		buf_printf(&src, "\\pard\\plain\\f0\\fs20 Line %d of the message body.\\par\r\n", i);
	buf_append_str(&src, "}");
	assert_int_equal(rtfcp_compress(src.data, src.len, &c, &error), 1);
	assert_true(c.len < src.len / 3);
	buf_deinit(&src);
	buf_deinit(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_example1),
		cmocka_unit_test(test_spec_example2_crossing),
		cmocka_unit_test(test_crc),
		cmocka_unit_test(test_crc_mismatch),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_uncompressed),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_compresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
