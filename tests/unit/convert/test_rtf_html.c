/* MS-OXRTFEX: recognition, HTML and text de-encapsulation, code pages,
 * Unicode escapes, native RTF text, encapsulation round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "convert/rtf_html.h"
#include "test_util.h"

static void assert_buf_eq_file(const struct buf *got, const char *rel)
{
	struct buf want;
	test_read_data(rel, &want);
	if (got->len != want.len || memcmp(got->data, want.data, want.len) != 0) {
		fprintf(stderr, "want (%zu): [%s]\ngot  (%zu): [%s]\n", want.len, buf_cstr(&want),
			got->len, buf_cstr(got));
		fail();
	}
	buf_deinit(&want);
}

static void test_detect(void **state)
{
	assert_int_equal(rtf_encapsulation("{\\rtf1\\ansi\\ansicpg1252\\fromhtml1 \\deff0{\\fonttbl}}",
				 48),
		RTF_ENCAP_HTML);
	assert_int_equal(rtf_encapsulation("{\\rtf1\\ansi\\fromtext \\deff0}", 28), RTF_ENCAP_TEXT);
	/* \fromhtml needs version 1; after a nested group it no longer counts. */
	assert_int_equal(rtf_encapsulation("{\\rtf1\\fromhtml2 x}", 19), RTF_ENCAP_NONE);
	assert_int_equal(rtf_encapsulation("{\\rtf1{\\fonttbl}\\fromhtml1 x}", 29), RTF_ENCAP_NONE);
	const char *late = "{\\rtf1\\a\\b\\c\\d\\e\\f\\g\\h\\i\\j\\fromhtml1 x}";
	assert_int_equal(rtf_encapsulation(late, strlen(late)), RTF_ENCAP_NONE);
	assert_int_equal(rtf_encapsulation("{\\rtf1 text \\fromhtml1}", 23), RTF_ENCAP_NONE);
	assert_int_equal(rtf_encapsulation("not rtf", 7), RTF_ENCAP_NONE);
	assert_int_equal(rtf_encapsulation("", 0), RTF_ENCAP_NONE);
}

static void test_outlook_html(void **state)
{
	struct buf rtf, out;
	const char *error = NULL;
	test_read_data("rtf/outlook-html.rtf", &rtf);
	buf_init(&out, NULL);
	assert_int_equal(rtf_encapsulation(rtf.data, rtf.len), RTF_ENCAP_HTML);
	assert_int_equal(rtf_extract_html(rtf.data, rtf.len, 1 << 20, &out, &error), 1);
	assert_buf_eq_file(&out, "rtf/outlook-html.html");
	/* Text of an HTML-encapsulated body goes through the HTML renderer. */
	buf_reset(&out);
	assert_int_equal(rtf_to_text(rtf.data, rtf.len, 1 << 20, &out, &error), 1);
	assert_string_equal(buf_cstr(&out),
		"Caf\xc3\xa9 \xe2\x82\xac and \xd0\x94\xd0\xb0 ok \r\n\r\nLine tab\r\n"
		"next link <http://x/>");
	/* The limit holds. */
	buf_reset(&out);
	assert_int_equal(rtf_extract_html(rtf.data, rtf.len, 50, &out, &error), -1);
	assert_string_equal(error, "RTF: extracted content above the size limit");
	buf_deinit(&rtf);
	buf_deinit(&out);
}

static void test_fromtext(void **state)
{
	struct buf rtf, out;
	const char *error = NULL;
	test_read_data("rtf/fromtext.rtf", &rtf);
	buf_init(&out, NULL);
	assert_int_equal(rtf_encapsulation(rtf.data, rtf.len), RTF_ENCAP_TEXT);
	assert_int_equal(rtf_extract_html(rtf.data, rtf.len, 1 << 20, &out, &error), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(rtf_to_text(rtf.data, rtf.len, 1 << 20, &out, &error), 1);
	assert_buf_eq_file(&out, "rtf/fromtext.txt");
	buf_deinit(&rtf);
	buf_deinit(&out);
}

static void test_native_text(void **state)
{
	struct buf rtf, out;
	const char *error = NULL;
	test_read_data("rtf/native.rtf", &rtf);
	buf_init(&out, NULL);
	assert_int_equal(rtf_encapsulation(rtf.data, rtf.len), RTF_ENCAP_NONE);
	assert_int_equal(rtf_to_text(rtf.data, rtf.len, 1 << 20, &out, &error), 1);
	assert_buf_eq_file(&out, "rtf/native.txt");
	buf_deinit(&rtf);
	buf_deinit(&out);
}

static void check_text(const char *rtf, const char *want)
{
	struct buf out;
	const char *error = NULL;
	buf_init(&out, NULL);
	int rc = rtf_to_text(rtf, strlen(rtf), 1 << 20, &out, &error);
	if (rc != 1 || strcmp(buf_cstr(&out), want) != 0) {
		fprintf(stderr, "rtf: %s\nwant: [%s]\ngot:  [%s] rc=%d\n", rtf, want,
			buf_cstr(&out), rc);
		fail();
	}
	buf_deinit(&out);
}

static void test_code_pages(void **state)
{
	/* DBCS through the font's \fcharset, split over two escapes. */
	check_text("{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f0\\fcharset128 MS Gothic;}}\\f0 \\'82\\'a0}",
		"\xe3\x81\x82");
	/* \ansicpg as the default, \cpg on a font, a group restoring the font. */
	check_text("{\\rtf1\\ansi\\ansicpg1251 \\'c4{\\fonttbl{\\f1\\cpg1253 X;}}{\\f1 \\'c4}\\'c4}",
		"\xd0\x94\xce\x94\xd0\x94");
	/* An unknown code page falls back to 1252; bad DBCS bytes become U+FFFD. */
	check_text("{\\rtf1\\ansicpg99999 \\'e9}", "\xc3\xa9");
	check_text("{\\rtf1\\ansicpg932 \\'82}", "\xef\xbf\xbd");
	/* \mac */
	check_text("{\\rtf1\\mac \\'8e}", "\xc3\xa9");
	/* UTF-8 code page (65001) is passed through, sanitised. */
	check_text("{\\rtf1\\ansicpg65001 \\'c3\\'a9\\'ff}", "\xc3\xa9\xef\xbf\xbd");
}

static void test_unicode(void **state)
{
	check_text("{\\rtf1\\uc2 a\\u8364\\'80\\'80b}", "a\xe2\x82\xac" "b");
	check_text("{\\rtf1\\uc0 \\u8364 x}", "\xe2\x82\xacx");
	check_text("{\\rtf1 \\u8364?y}", "\xe2\x82\xacy"); /* \uc1 by default */
	check_text("{\\rtf1\\uc1 \\u-10179?\\u-8704?}", "\xf0\x9f\x98\x80");
	check_text("{\\rtf1\\uc1 \\u-10179?z}", "\xef\xbf\xbdz");
	/* A group end stops fallback skipping. */
	check_text("{\\rtf1\\uc3 {\\u8364}X}", "\xe2\x82\xacX");
	/* A control word counts as one fallback character. */
	check_text("{\\rtf1\\uc1 \\u233\\lquote s}", "\xc3\xa9s");
	check_text("{\\rtf1 \\u65 \\'41B}", "AB");
}

static void test_specials_and_groups(void **state)
{
	check_text("{\\rtf1 a\\~b\\-c\\_d\\emdash e\\endash f\\bullet\\ldblquote g\\rdblquote}",
		"a\xc2\xa0" "bc\xe2\x80\x91" "d\xe2\x80\x94" "e\xe2\x80\x93" "f\xe2\x80\xa2\xe2\x80\x9cg\xe2\x80\x9d");
	/* Unknown \* destinations vanish with their nested groups. */
	check_text("{\\rtf1 a{\\*\\unknown b{c}d}e{\\*\\htmltag64 <p>}f}", "aef");
	/* Raw line ends are not text; \<LF> is a paragraph. */
	check_text("{\\rtf1 a\r\nb\\\nc}", "ab\r\nc");
	/* A plain RTF reader knows nothing of \htmlrtf. */
	check_text("{\\rtf1 a\\htmlrtf b{\\htmlrtf0 c}d\\htmlrtf0 e}", "abcde");
}

static void test_malformed(void **state)
{
	struct buf out;
	const char *error = NULL;
	buf_init(&out, NULL);
	assert_int_equal(rtf_to_text("hello", 5, 100, &out, &error), -1);
	assert_string_equal(error, "RTF: does not start with {\\rtf");
	assert_int_equal(rtf_extract_html("", 0, 100, &out, &error), -1);
	/* Unterminated, unbalanced, bad escapes, huge parameters. */
	check_text("{\\rtf1 abc", "abc");
	check_text("{\\rtf1 a}}}b", "a");
	check_text("{\\rtf1 a\\'zzb\\'4", "azzb4");
	check_text("{\\rtf1 \\u99999999999999?x\\uc999999 \\ansicpg-5 y}", "\xef\xbf\xbdxy");
	check_text("{\\rtf1 \\bin999999 abc}", "");
	check_text("{\\rtf1 \\verylongcontrolwordthatkeepsgoingpastthirtytwoletters x}", "x");
	/* Deep nesting: the part beyond the limit is skipped, the rest kept. */
	struct buf deep;
	buf_init(&deep, NULL);
	buf_append_str(&deep, "{\\rtf1 a");
	for (int i = 0; i < 10000; i++)
		buf_append_str(&deep, "{x");
	for (int i = 0; i < 10000; i++)
		buf_append_str(&deep, "}");
	buf_append_str(&deep, "b}");
	buf_reset(&out);
	assert_int_equal(rtf_to_text(deep.data, deep.len, 1 << 20, &out, &error), 1);
	assert_int_equal(out.data[0], 'a');
	assert_int_equal(out.data[out.len - 1], 'b');
	assert_int_equal(out.len, 2 + RTF_MAX_DEPTH - 1);
	buf_deinit(&deep);
	buf_deinit(&out);
}

static void roundtrip_html(const char *html, size_t len)
{
	struct buf rtf, back;
	const char *error = NULL;
	buf_init(&rtf, NULL);
	buf_init(&back, NULL);
	assert_int_equal(rtf_encapsulate_html(html, len, &rtf, &error), 1);
	assert_int_equal(rtf_encapsulation(rtf.data, rtf.len), RTF_ENCAP_HTML);
	assert_int_equal(rtf_extract_html(rtf.data, rtf.len, 1 << 24, &back, &error), 1);
	if (back.len != len || memcmp(back.data, html, len) != 0) {
		fprintf(stderr, "html: [%.*s]\nrtf: %s\nback: [%s]\n", (int)len, html,
			buf_cstr(&rtf), buf_cstr(&back));
		fail();
	}
	buf_deinit(&rtf);
	buf_deinit(&back);
}

static void test_html_roundtrip(void **state)
{
	static const char *const docs[] = {
		"",
		"plain",
		"<html><head><title>T {1}</title>\r\n<style>p { margin:0 } a\\b</style></head>"
		"<body>\n<p>Caf\xc3\xa9 &amp; &eacute;&#233;&#x1F600; \xf0\x9f\x98\x80 \\ {x}</p>\r\n"
		"<p>2024<br>\r9 lines\n\n\tindented</p><!-- a <comment> -->"
		"<a href=\"x.html?a>b\" title='q\"'>link</a> a < b > c &bogus; & ;"
		"<script>if (a < b && c > d) { x = \"</p>\"; }</script>"
		"<pre>  keep   spaces\r\n\ttab</pre></body></html>\r\n",
		"\t  leading whitespace and trailing  \n",
		"<p>\x01\x7f control chars</p>",
		"<unclosed attr=\"x",
		"<!-- unclosed comment",
		"<",
		"&",
		"&#;&#x;&amp",
		"<P>UPPER</P><BR><TD>cell</TD>",
	};
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		roundtrip_html(docs[i], strlen(docs[i]));
	struct buf f;
	test_read_data("html/newsletter.html", &f);
	roundtrip_html((const char *)f.data, f.len);
	buf_deinit(&f);
	test_read_data("rtf/outlook-html.html", &f);
	roundtrip_html((const char *)f.data, f.len);
	buf_deinit(&f);
}

static void test_html_encapsulated_reads_well(void **state)
{
	/* A plain RTF reader (our native mode, which ignores \htmltag) sees
	 * the text with paragraph breaks and decoded references. */
	const char *html = "<p>One &amp; two</p>\n<p>three<br>four</p>";
	struct buf rtf, out;
	const char *error = NULL;
	buf_init(&rtf, NULL);
	buf_init(&out, NULL);
	assert_int_equal(rtf_encapsulate_html(html, strlen(html), &rtf, &error), 1);
	/* Strip \fromhtml1 so that rtf_to_text reads it as native RTF. */
	char *p = strstr((char *)rtf.data, "\\fromhtml1");
	assert_non_null(p);
	memcpy(p, "\\fromhtml0", 10);
	assert_int_equal(rtf_to_text(rtf.data, rtf.len, 1 << 20, &out, &error), 1);
	assert_string_equal(buf_cstr(&out), "One & two\r\nthree\r\nfour\r\n");
	assert_int_equal(rtf_encapsulate_html("\xff", 1, &rtf, &error), -1);
	buf_deinit(&rtf);
	buf_deinit(&out);
}

static void test_text_roundtrip(void **state)
{
	const char *text = "Hello {world} \\ back\r\nsecond\tline \xce\x94x\nthird\r\rlast \xf0\x9f\x98\x80";
	struct buf rtf, back;
	const char *error = NULL;
	buf_init(&rtf, NULL);
	buf_init(&back, NULL);
	assert_int_equal(rtf_encapsulate_text(text, strlen(text), &rtf, &error), 1);
	assert_int_equal(rtf_encapsulation(rtf.data, rtf.len), RTF_ENCAP_TEXT);
	assert_int_equal(rtf_to_text(rtf.data, rtf.len, 1 << 20, &back, &error), 1);
	assert_string_equal(buf_cstr(&back), "Hello {world} \\ back\r\nsecond\tline \xce\x94x\r\n"
					     "third\r\n\r\nlast \xf0\x9f\x98\x80");
	assert_int_equal(rtf_encapsulate_text("\xc3", 1, &rtf, &error), -1);
	buf_deinit(&rtf);
	buf_deinit(&back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_outlook_html),
		cmocka_unit_test(test_fromtext),
		cmocka_unit_test(test_native_text),
		cmocka_unit_test(test_code_pages),
		cmocka_unit_test(test_unicode),
		cmocka_unit_test(test_specials_and_groups),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_html_roundtrip),
		cmocka_unit_test(test_html_encapsulated_reads_well),
		cmocka_unit_test(test_text_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
