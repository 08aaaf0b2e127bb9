/* Text search in MIME messages: keys in UTF-8 and ISO-8859-1 (and an
 * unknown charset), Unicode case folding and normalization, header values
 * with RFC 2047 words, bodies in quoted-printable and base64 and in
 * several charsets, parts that are not text, embedded messages, long
 * texts folded piece by piece. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "convert/mime_search.h"
#include "core/buf.h"

static pool_t *pool;

static struct mime_search_key key(const char *charset, const char *s)
{
	struct mime_search_key k;
	assert_int_equal(mime_search_key_init(pool, charset, s, strlen(s), &k), 0);
	return k;
}

static struct mime_search_msg *msg(const char *text)
{
	struct mime_search_msg *m = pool_alloc(pool, sizeof(*m));
	mime_search_msg_init(m, pool, (const unsigned char *)text, strlen(text));
	return m;
}

static int setup(void **state)
{
	(void)state;
	pool = pool_new("t", 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pool_free(&pool);
	return 0;
}

static void test_keys(void **state)
{
	(void)state;
	struct mime_search_key k = key(NULL, "Caf\xc3\xa9");
	assert_string_equal(k.folded, "caf\xc3\xa9");
	assert_false(k.ascii);
	k = key("ISO-8859-1", "CAF\xc9");
	assert_string_equal(k.folded, "caf\xc3\xa9");
	k = key("utf-8", "STRASSE");
	assert_string_equal(k.folded, "strasse");
	assert_true(k.ascii);
	/* Sharp s folds to ss; a decomposed e + acute composes. */
	assert_string_equal(key("UTF-8", "Stra\xc3\x9f"
	                                 "e")
	                            .folded,
	        "strasse");
	assert_string_equal(key("UTF-8", "e\xcc\x81").folded, "\xc3\xa9");
	/* KOI8-R through iconv. */
	assert_string_equal(key("KOI8-R", "\xf0\xd2\xc9\xd7\xc5\xd4").folded,
	        "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
	/* No charset: UTF-8, else windows-1252. */
	assert_string_equal(key(NULL, "caf\xe9").folded, "caf\xc3\xa9");
	struct mime_search_key bad;
	assert_int_equal(mime_search_key_init(pool, "X-NO-SUCH-CHARSET", "a", 1, &bad), -1);
	assert_true(mime_search_charset_known("iso-8859-15"));
	assert_true(mime_search_charset_known("US-ASCII"));
	assert_false(mime_search_charset_known("X-NO-SUCH-CHARSET"));
	assert_false(mime_search_charset_known(""));
	assert_false(mime_search_charset_known(NULL));
	/* The empty key. */
	k = key(NULL, "");
	assert_int_equal(k.len, 0);
}

static const char *const latin1_msg =
        "From: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.org>\r\n"
        "To: Plain Name <plain@example.org>\r\n"
        "Subject: =?iso-8859-1?q?Gr=FC=DFe_aus_K=F6ln?=\r\n"
        "Received: from a by b\r\n"
        "Received: from c by d\r\n"
        "X-Raw: caf\xe9 au lait\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "\r\n"
        "Sch=F6ne Gr=FC=DFe,\r\n"
        "und bis bald =\r\n"
        "im Caf=E9.\r\n";

static void test_headers(void **state)
{
	(void)state;
	struct mime_search_msg *m = msg(latin1_msg);
	struct mime_search_key k = key(NULL, "m\xc3\xbcller");
	assert_true(mime_search_header(m, "From", &k));
	assert_true(mime_search_header(m, "from", &k));
	assert_false(mime_search_header(m, "To", &k));
	k = key("ISO-8859-1", "GR\xdc\xdf"
	                      "E AUS");
	assert_true(mime_search_header(m, "Subject", &k));
	k = key(NULL, "GRUESSE");
	assert_false(mime_search_header(m, "Subject", &k));
	/* Every field of the name counts. */
	k = key(NULL, "from c");
	assert_true(mime_search_header(m, "Received", &k));
	/* Raw 8-bit header text as windows-1252. */
	k = key(NULL, "CAF\xc3\x89 AU");
	assert_true(mime_search_header(m, "X-Raw", &k));
	/* An ASCII field in place. */
	k = key(NULL, "plain name");
	assert_true(mime_search_header(m, "To", &k));
	/* The empty key: the field exists. */
	k = key(NULL, "");
	assert_true(mime_search_header(m, "Subject", &k));
	assert_false(mime_search_header(m, "Cc", &k));
	/* The body is not the header. */
	k = key(NULL, "bald");
	assert_false(mime_search_header(m, "Subject", &k));
}

static void test_bodies(void **state)
{
	(void)state;
	struct mime_search_msg *m = msg(latin1_msg);
	/* Quoted-printable, soft line breaks, ISO-8859-1. */
	struct mime_search_key k = key(NULL, "SCH\xc3\x96NE GR\xc3\x9c\xc3\x9f"
	                                     "E");
	assert_true(mime_search_body(m, &k));
	k = key(NULL, "bald im caf\xc3\xa9");
	assert_true(mime_search_body(m, &k));
	k = key("ISO-8859-1", "schoene");
	assert_false(mime_search_body(m, &k));
	/* BODY is not the header; TEXT is both. */
	k = key(NULL, "k\xc3\xb6ln");
	assert_false(mime_search_body(m, &k));
	assert_true(mime_search_text(m, &k));
	k = key(NULL, "bald");
	assert_true(mime_search_text(m, &k));
	k = key(NULL, "nowhere");
	assert_false(mime_search_text(m, &k));
}

static const char *const multi_msg = "From: a@example.org\r\n"
                                     "Subject: parts\r\n"
                                     "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
                                     "\r\n"
                                     "--b1\r\n"
                                     "Content-Type: multipart/alternative; boundary=\"b2\"\r\n"
                                     "\r\n"
                                     "--b2\r\n"
                                     "Content-Type: text/plain; charset=utf-8\r\n"
                                     "Content-Transfer-Encoding: base64\r\n"
                                     "\r\n"
                                     "0J/RgNC40LLQtdGCINC80LjRgA==\r\n"
                                     "--b2\r\n"
                                     "Content-Type: text/html; charset=utf-16le\r\n"
                                     "Content-Transfer-Encoding: base64\r\n"
                                     "\r\n"
                                     "PABiAD4ASABUAE0ATAA8AC8AYgA+AA==\r\n"
                                     "--b2--\r\n"
                                     "--b1\r\n"
                                     "Content-Type: application/octet-stream\r\n"
                                     "Content-Transfer-Encoding: base64\r\n"
                                     "\r\n"
                                     "c2VjcmV0IGF0dGFjaG1lbnQ=\r\n"
                                     "--b1\r\n"
                                     "Content-Type: message/rfc822\r\n"
                                     "\r\n"
                                     "Subject: =?utf-8?q?inner_=C3=A9t=C3=A9?=\r\n"
                                     "\r\n"
                                     "inner body text\r\n"
                                     "--b1--\r\n";

static void test_parts(void **state)
{
	(void)state;
	struct mime_search_msg *m = msg(multi_msg);
	/* Base64 UTF-8 Cyrillic, matched in another case. */
	struct mime_search_key k = key(NULL, "\xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2");
	assert_true(mime_search_body(m, &k));
	/* UTF-16 HTML (tags included: it is text). */
	k = key(NULL, "<b>html</b>");
	assert_true(mime_search_body(m, &k));
	/* Not text: not searched. */
	k = key(NULL, "secret attachment");
	assert_false(mime_search_body(m, &k));
	/* An embedded message: its header (decoded) and its body. */
	k = key(NULL, "INNER \xc3\x89T\xc3\x89");
	assert_true(mime_search_body(m, &k));
	k = key(NULL, "inner body");
	assert_true(mime_search_body(m, &k));
	/* The top header is not in BODY but in TEXT. */
	k = key(NULL, "subject: parts");
	assert_false(mime_search_body(m, &k));
	assert_true(mime_search_text(m, &k));
	/* Nothing matches across two parts. */
	k = key(NULL, "html</b>secret");
	assert_false(mime_search_text(m, &k));
}

static void test_long_and_odd(void **state)
{
	(void)state;
	/* 300 KiB of non-ASCII text: folded in pieces, the match at the end
	 * and one across a piece boundary are found. */
	struct buf b;
	buf_init(&b, pool);
	buf_append_str(&b, "Content-Type: text/plain; charset=utf-8\r\n\r\n");
	for (int i = 0; i < 100000; i++)
		buf_append_str(&b, "\xc3\x89t");
	buf_append_str(&b, " Nadel\r\n");
	struct mime_search_msg m;
	mime_search_msg_init(&m, pool, b.data, b.len);
	struct mime_search_key k = key(NULL, "\xc3\xa9t\xc3\xa9t nadel");
	assert_true(mime_search_body(&m, &k));
	k = key(NULL, "tt");
	assert_false(mime_search_body(&m, &k));
	/* No header at all, NUL bytes, invalid UTF-8, an unknown encoding. */
	const char odd[] = "\r\nabc\0def \xff\xfe tail";
	mime_search_msg_init(&m, pool, (const unsigned char *)odd, sizeof(odd) - 1);
	k = key(NULL, "def");
	assert_true(mime_search_body(&m, &k));
	k = key(NULL, "tail");
	assert_true(mime_search_text(&m, &k));
	struct mime_search_msg *x =
	        msg("Content-Transfer-Encoding: x-weird\r\n\r\nPlain words\r\n");
	k = key(NULL, "plain words");
	assert_true(mime_search_body(x, &k));
	/* An empty message. */
	mime_search_msg_init(&m, pool, NULL, 0);
	k = key(NULL, "x");
	assert_false(mime_search_text(&m, &k));
	k = key(NULL, "");
	assert_true(mime_search_body(&m, &k));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_headers, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bodies, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_parts, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_long_and_odd, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
