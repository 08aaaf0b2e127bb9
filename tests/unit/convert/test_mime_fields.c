/* Header fields for SORT, THREAD and SEARCH: the first address of From,
 * To and Cc (groups, encoded names, no name, missing), Message-ID,
 * References (order, the cap, In-Reply-To as the fallback, junk), folded
 * lines, and RFC 2047 text decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "convert/mime_fields.h"
#include "core/buf.h"

static void parse(pool_t *pool, const char *hdr, unsigned what, struct mime_fields *f)
{
	mime_fields_parse(pool, (const unsigned char *)hdr, strlen(hdr), what, f);
}

static void test_addresses(void **state)
{
	(void)state;
	pool_t *pool = pool_new("t", 0);
	struct mime_fields f;
	parse(pool,
	        "From: \"Zed Zulu\" <zed@b.example>, other@x\r\n"
	        "To: undisclosed:;, team: Ann <ann@t.example>, bo@t.example;\r\n"
	        "Cc: =?utf-8?q?=C3=89mile?= <Emile@C.example>\r\n"
	        "\r\nFrom: body@not.header\r\n",
	        MIME_FIELDS_ADDRS, &f);
	assert_true(f.has_from && f.has_to && f.has_cc);
	assert_string_equal(f.from.name, "Zed Zulu");
	assert_string_equal(f.from.mailbox, "zed");
	assert_string_equal(f.from.host, "b.example");
	/* The first mailbox, inside a group if need be. */
	assert_string_equal(f.to.name, "Ann");
	assert_string_equal(f.to.mailbox, "ann");
	assert_string_equal(f.cc.name, "\xc3\x89mile");
	assert_string_equal(f.cc.mailbox, "Emile");
	assert_string_equal(f.cc.host, "C.example");
	/* Not asked for. */
	assert_null(f.message_id);
	assert_int_equal(f.nrefs, 0);

	parse(pool, "From: plain@x.example\r\nTo:\r\nSubject: x\r\n\r\n", MIME_FIELDS_ADDRS, &f);
	assert_true(f.has_from);
	assert_string_equal(f.from.name, "");
	assert_string_equal(f.from.mailbox, "plain");
	assert_false(f.has_to);
	assert_false(f.has_cc);
	assert_string_equal(f.to.mailbox, "");
	assert_string_equal(f.cc.name, "");
	/* A folded field, LF line ends, no domain. */
	parse(pool, "From: Long\n Name <local>\n\n", MIME_FIELDS_ADDRS, &f);
	assert_string_equal(f.from.name, "Long Name");
	assert_string_equal(f.from.mailbox, "local");
	assert_string_equal(f.from.host, "");
	/* Nothing at all. */
	parse(pool, "", MIME_FIELDS_ADDRS | MIME_FIELDS_THREAD, &f);
	assert_false(f.has_from);
	assert_null(f.message_id);
	pool_free(&pool);
}

static void test_thread_fields(void **state)
{
	(void)state;
	pool_t *pool = pool_new("t", 0);
	struct mime_fields f;
	parse(pool,
	        "Message-ID: <abc@x.example>\r\n"
	        "References: <r1@x> <r2@x>\r\n <r3@x>\r\n"
	        "In-Reply-To: <ignored@x>\r\n\r\n",
	        MIME_FIELDS_THREAD, &f);
	assert_string_equal(f.message_id, "abc@x.example");
	assert_int_equal(f.nrefs, 3);
	assert_string_equal(f.refs[0], "r1@x");
	assert_string_equal(f.refs[2], "r3@x");
	assert_false(f.has_from);
	/* In-Reply-To's first ID when there are no References. */
	parse(pool, "In-Reply-To: <p1@x> <p2@x>\r\nReferences: junk\r\n\r\n", MIME_FIELDS_THREAD,
	        &f);
	assert_null(f.message_id);
	assert_int_equal(f.nrefs, 1);
	assert_string_equal(f.refs[0], "p1@x");
	/* An invalid Message-ID is none. */
	parse(pool, "Message-ID: no brackets or at\r\n\r\n", MIME_FIELDS_THREAD, &f);
	assert_null(f.message_id);
	assert_int_equal(f.nrefs, 0);
	/* Only the last MIME_FIELDS_MAX_REFS references are kept. */
	struct buf h;
	buf_init(&h, pool);
	buf_append_str(&h, "References:");
	for (int i = 0; i < MIME_FIELDS_MAX_REFS + 20; i++)
		buf_printf(&h, " <id%d@x>\r\n", i);
	buf_append_str(&h, "\r\n");
	mime_fields_parse(pool, h.data, h.len, MIME_FIELDS_THREAD, &f);
	assert_int_equal(f.nrefs, MIME_FIELDS_MAX_REFS);
	assert_string_equal(f.refs[0], "id20@x");
	assert_string_equal(f.refs[MIME_FIELDS_MAX_REFS - 1], "id119@x");
	pool_free(&pool);
}

static void test_decode_text(void **state)
{
	(void)state;
	pool_t *pool = pool_new("t", 0);
	assert_null(mime_fields_decode_text(pool, NULL));
	assert_string_equal(mime_fields_decode_text(pool, "plain"), "plain");
	assert_string_equal(
	        mime_fields_decode_text(pool, "=?UTF-8?B?w6lsw6h2ZQ==?="), "\xc3\xa9l\xc3\xa8ve");
	assert_string_equal(
	        mime_fields_decode_text(pool, "x =?iso-8859-1?q?caf=E9?= y"), "x caf\xc3\xa9 y");
	/* Adjacent encoded words join without their space. */
	assert_string_equal(mime_fields_decode_text(pool, "=?utf-8?q?a?= =?utf-8?q?b?="), "ab");
	/* Raw 8-bit text that is not UTF-8 is read as windows-1252. */
	assert_string_equal(mime_fields_decode_text(pool, "caf\xe9"), "caf\xc3\xa9");
	/* Broken words stay as they are. */
	assert_string_equal(mime_fields_decode_text(pool, "=?utf-8?q?broken"), "=?utf-8?q?broken");
	pool_free(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_addresses),
	        cmocka_unit_test(test_thread_fields),
	        cmocka_unit_test(test_decode_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
