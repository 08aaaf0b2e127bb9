/* The MIME structure for IMAP: part ranges, BODYSTRUCTURE and ENVELOPE
 * forms, sections, BINARY decoding, and malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "convert/mime_struct.h"

static const char multi[] =
	"From: =?utf-8?q?J=C3=B6rg?= <joerg@example.org>\r\n"
	"To: a@example.test, Group: b@example.test, c@example.test;\r\n"
	"Subject: test\r\n"
	"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
	"Message-ID: <m1@example.org>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"XX\"\r\n"
	"\r\n"
	"preamble\r\n"
	"--XX\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"\r\n"
	"hello\r\n"
	"world\r\n"
	"--XX\r\n"
	"Content-Type: application/octet-stream; name=a.bin\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"Content-Disposition: attachment; filename=a.bin\r\n"
	"\r\n"
	"AAECAw==\r\n"
	"--XX\r\n"
	"Content-Type: message/rfc822\r\n"
	"\r\n"
	"Subject: inner\r\n"
	"From: x@example.net\r\n"
	"\r\n"
	"inner body\r\n"
	"--XX--\r\n"
	"epilogue\r\n";

static void test_structure(void **state)
{
	(void)state;
	pool_t *pool = pool_new("t", 0);
	const unsigned char *d = (const unsigned char *)multi;
	struct mime_part *root = mime_struct_parse(pool, d, sizeof(multi) - 1);
	assert_true(root->multipart);
	assert_int_equal(root->nchildren, 3);
	const struct mime_part *p1 = &root->children[0];
	assert_string_equal(p1->subtype, "plain");
	assert_int_equal(p1->body_end - p1->body_start, strlen("hello\r\nworld"));
	assert_int_equal(p1->lines, 2);
	size_t s, e;
	assert_int_equal(mime_struct_section(root, "1", MIME_SECTION_ALL, &s, &e, NULL), 0);
	assert_int_equal(memcmp(d + s, "hello\r\nworld", e - s), 0);
	assert_int_equal(mime_struct_section(root, "2", MIME_SECTION_MIME, &s, &e, NULL), 0);
	assert_true(strncmp((const char *)d + s, "Content-Type: application/octet-stream", 38) == 0);
	assert_int_equal(memcmp(d + e - 4, "\r\n\r\n", 4), 0);
	assert_int_equal(mime_struct_section(root, "3", MIME_SECTION_HEADER, &s, &e, NULL), 0);
	assert_int_equal(memcmp(d + s, "Subject: inner\r\nFrom: x@example.net\r\n\r\n", e - s), 0);
	assert_int_equal(mime_struct_section(root, "3", MIME_SECTION_TEXT, &s, &e, NULL), 0);
	assert_int_equal(memcmp(d + s, "inner body", e - s), 0);
	assert_int_equal(mime_struct_section(root, "3.1", MIME_SECTION_ALL, &s, &e, NULL), 0);
	assert_int_equal(memcmp(d + s, "inner body", e - s), 0);
	assert_int_equal(mime_struct_section(root, "", MIME_SECTION_TEXT, &s, &e, NULL), 0);
	assert_true(strncmp((const char *)d + s, "preamble", 8) == 0);
	assert_int_equal(mime_struct_section(root, "4", MIME_SECTION_ALL, &s, &e, NULL), -1);
	assert_int_equal(mime_struct_section(root, "1", MIME_SECTION_HEADER, &s, &e, NULL), -1);
	assert_int_equal(mime_struct_section(root, "0", MIME_SECTION_ALL, &s, &e, NULL), -1);
	/* BINARY */
	struct buf b;
	buf_init(&b, pool);
	assert_int_equal(mime_struct_decode(&root->children[1], d, &b), 0);
	assert_int_equal(b.len, 4);
	assert_int_equal(memcmp(b.data, "\0\1\2\3", 4), 0);
	/* BODYSTRUCTURE */
	buf_reset(&b);
	mime_struct_write_body(root, d, true, &b);
	const char *bs = buf_cstr(&b);
	assert_non_null(strstr(bs, "(\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 12 2 NIL NIL NIL NIL)"));
	assert_non_null(strstr(bs, "\"base64\" 8 NIL (\"attachment\" (\"filename\" \"a.bin\")) NIL NIL)"));
	assert_non_null(strstr(bs, "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 49 (NIL \"inner\""));
	assert_non_null(strstr(bs, " \"mixed\" (\"boundary\" \"XX\") NIL NIL NIL)"));
	buf_reset(&b);
	mime_struct_write_body(root, d, false, &b);
	assert_null(strstr(buf_cstr(&b), "boundary"));
	/* ENVELOPE */
	buf_reset(&b);
	mime_struct_write_envelope(root, d, &b);
	const char *env = buf_cstr(&b);
	assert_true(strncmp(env, "(\"Mon, 1 Jan 2024 10:00:00 +0000\" \"test\" ((", 43) == 0);
	assert_non_null(strstr(env, "\"joerg\" \"example.org\")"));
	assert_non_null(strstr(env, "\"=?UTF-8?b?SsO2cmc=?=\" NIL \"joerg\""));
	assert_non_null(strstr(env, "((NIL NIL \"a\" \"example.test\")(NIL NIL \"Group\" NIL)"
				    "(NIL NIL \"b\" \"example.test\")(NIL NIL \"c\" \"example.test\")"
				    "(NIL NIL NIL NIL))"));
	assert_non_null(strstr(env, " NIL NIL NIL \"<m1@example.org>\")"));
	pool_free(&pool);
}

static void test_single_and_defaults(void **state)
{
	(void)state;
	pool_t *pool = pool_new("t", 0);
	const char *m = "Subject: x\n\nbody\nline2";
	struct mime_part *root = mime_struct_parse(pool, (const unsigned char *)m, strlen(m));
	assert_false(root->multipart);
	assert_string_equal(root->type, "text");
	assert_int_equal(root->lines, 2);
	size_t s, e;
	assert_int_equal(mime_struct_section(root, "1", MIME_SECTION_ALL, &s, &e, NULL), 0);
	assert_int_equal(e - s, strlen("body\nline2"));
	assert_int_equal(mime_struct_section(root, "1", MIME_SECTION_MIME, &s, &e, NULL), 0);
	struct buf b;
	buf_init(&b, pool);
	mime_struct_write_body(root, (const unsigned char *)m, true, &b);
	assert_string_equal(buf_cstr(&b), "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
					  "\"7bit\" 10 2 NIL NIL NIL NIL)");
	/* No header at all, no blank line, empty input. */
	root = mime_struct_parse(pool, (const unsigned char *)"just text", 9);
	assert_int_equal(root->body_start, 9);
	root = mime_struct_parse(pool, (const unsigned char *)"", 0);
	assert_int_equal(root->body_end, 0);
	buf_reset(&b);
	mime_struct_write_envelope(root, (const unsigned char *)"", &b);
	assert_string_equal(buf_cstr(&b), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
	pool_free(&pool);
}

static void test_malformed(void **state)
{
	(void)state;
	pool_t *pool = pool_new("t", 0);
	/* A multipart without its boundary still has one part. */
	const char *m = "Content-Type: multipart/mixed; boundary=zz\r\n\r\nno parts here\r\n";
	struct mime_part *root = mime_struct_parse(pool, (const unsigned char *)m, strlen(m));
	assert_int_equal(root->nchildren, 1);
	/* No closing boundary: the last part runs to the end. */
	m = "Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n\r\nunclosed";
	root = mime_struct_parse(pool, (const unsigned char *)m, strlen(m));
	assert_int_equal(root->nchildren, 1);
	assert_int_equal(root->children[0].body_end, strlen(m));
	/* Deep nesting stops at the limit. */
	struct buf deep;
	buf_init(&deep, pool);
	for (int i = 0; i < 200; i++)
		buf_printf(&deep, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i);
	root = mime_struct_parse(pool, deep.data, deep.len);
	int depth = 0;
	for (const struct mime_part *p = root; p->multipart; p = &p->children[0])
		depth++;
	assert_true(depth <= MIME_STRUCT_MAX_DEPTH + 1);
	struct buf b;
	buf_init(&b, pool);
	mime_struct_write_body(root, deep.data, true, &b);
	/* Unknown encodings refuse BINARY. */
	m = "Content-Transfer-Encoding: x-weird\r\n\r\nabc";
	root = mime_struct_parse(pool, (const unsigned char *)m, strlen(m));
	buf_reset(&b);
	assert_int_equal(mime_struct_decode(root, (const unsigned char *)m, &b), -1);
	pool_free(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_single_and_defaults),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
