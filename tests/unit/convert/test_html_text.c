/* HTML -> text rendering and text -> HTML. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "convert/html_text.h"
#include "core/utf.h"
#include "test_util.h"

static void check_flags(const char *html, unsigned flags, const char *expect)
{
	struct buf out;
	const char *error = NULL;
	buf_init(&out, NULL);
	int rc = html_to_text(html, strlen(html), 1 << 20, flags, &out, &error);
	if (rc != 1 || strcmp(buf_cstr(&out), expect) != 0) {
		fprintf(stderr, "html: %s\nwant: [%s]\ngot:  [%s] rc=%d\n", html, expect,
			buf_cstr(&out), rc);
		fail();
	}
	buf_deinit(&out);
}

static void check(const char *html, const char *expect)
{
	check_flags(html, 0, expect);
}

static void test_blocks_and_whitespace(void **state)
{
	check("<p>Hello   <b>world</b>\n  again</p><p>Second</p>",
		"Hello world again\n\nSecond");
	check("<div>one</div><div>two</div>three", "one\ntwo\nthree");
	check("  \n <p>  lead and trail  </p>  \n", "lead and trail");
	check("a<br>b<br><br>c", "a\nb\n\nc");
	check("<h1>Title</h1>Body", "Title\n\nBody");
	check("x<span> </span>y", "x y");
	check("word<i>s</i> stay together", "words stay together");
	check("", "");
	check("plain text without tags", "plain text without tags");
	check_flags("<p>a</p><p>b</p>", HTML_TEXT_CRLF, "a\r\n\r\nb");
	check("<pre>  keep\n    this</pre>after", "  keep\n    this\n\nafter");
	check("<blockquote>quoted<br>lines</blockquote>reply", "> quoted\n> lines\n\nreply");
}

static void test_entities(void **state)
{
	check("a &amp; b &lt;c&gt; &quot;d&quot; &#233;&#x20AC; &eacute;", "a & b <c> \"d\" é€ é");
	/* A no-break space does not collapse. */
	check("a&nbsp;&nbsp;b", "a  b");
	check("caf\xc3\xa9 \xe2\x82\xac", "café €");
}

static void test_skipped(void **state)
{
	check("<html><head><title>T</title><style>p{color:red}</style>"
	      "<script>alert(1)</script></head><body>Visible<script>var x='<p>';</script>"
	      "<style>.a{}</style> text<!-- comment --></body></html>",
		"Visible text");
	check("<noscript>shown</noscript><template>hidden</template>", "shown");
}

static void test_lists(void **state)
{
	check("<ul><li>one</li><li>two</li></ul>after", "* one\n* two\nafter");
	check("<ol><li>first<li>second</ol>", "1. first\n2. second");
	check("<ol start=\"3\"><li>c</li><li>d</li></ol>", "3. c\n4. d");
	check("<ul><li>a<ul><li>nested</li></ul></li><li>b</li></ul>", "* a\n  * nested\n* b");
	check("<li>stray</li>", "* stray");
}

static void test_links(void **state)
{
	check("see <a href=\"https://example.com/x\">the page</a>.",
		"see the page <https://example.com/x>.");
	check("<a href=\"https://example.com/\">https://example.com/</a>", "https://example.com/");
	check("<a href=\"https://example.com/\">example.com</a>", "example.com");
	check("<a href=\"mailto:a@b.c\">a@b.c</a>", "a@b.c");
	check("<a href=\"#top\">top</a> <a href=\"javascript:x()\">js</a>", "top js");
	check("<a href=\"http://x.y/\"><img src=\"i.png\"></a>", "<http://x.y/>");
	check("<img alt=\"logo\" src=\"l.png\"> text", "logo text");
	check_flags("<a href=\"https://e.com/x\">page</a>", HTML_TEXT_NO_LINKS, "page");
}

static void test_tables(void **state)
{
	check("<table><tr><th>Name</th><th>Qty</th></tr>"
	      "<tr><td>apple</td><td>3</td></tr><tr><td>pear</td><td></td></tr></table>end",
		"Name\tQty\napple\t3\npear\t\n\nend");
	check("<table><tbody><tr><td><p>cell</p></td></tr></tbody></table>", "cell");
}

static void test_malformed(void **state)
{
	check("<p>unclosed <b>bold <i>both</p>next", "unclosed bold both\n\nnext");
	check("<div", "");
	struct buf out;
	const char *error;
	buf_init(&out, NULL);
	/* Stray markup characters: libxml2 recovers; the text survives. */
	assert_int_equal(html_to_text("<<>>&&;</></p>", 14, 100, 0, &out, &error), 1);
	assert_non_null(strstr(buf_cstr(&out), ">&&;"));
	buf_reset(&out);
	/* Bytes that are not UTF-8 do not break the walk. */
	assert_true(html_to_text("a\xff\xfe b", 6, 100, 0, &out, &error) >= 0);
	buf_reset(&out);
	/* Nesting far deeper than the limit renders what is within it. */
	struct buf deep;
	buf_init(&deep, NULL);
	for (int i = 0; i < 5000; i++)
		buf_append_str(&deep, "<div>");
	buf_append_str(&deep, "deep");
	assert_true(html_to_text(deep.data, deep.len, 100, 0, &out, &error) >= 0);
	buf_deinit(&deep);
	buf_deinit(&out);
}

static void test_limit(void **state)
{
	struct buf out;
	const char *error;
	buf_init(&out, NULL);
	/* Cut at max_out, never inside a UTF-8 sequence. */
	assert_int_equal(html_to_text("<p>abc\xc3\xa9xyz</p>", 15, 4, 0, &out, &error), 0);
	assert_string_equal(buf_cstr(&out), "abc");
	buf_reset(&out);
	assert_int_equal(html_to_text("<p>abc\xc3\xa9xyz</p>", 15, 5, 0, &out, &error), 0);
	assert_string_equal(buf_cstr(&out), "abc\xc3\xa9");
	buf_reset(&out);
	assert_int_equal(html_to_text("<p>abc</p>", 10, 3, 0, &out, &error), 1);
	assert_string_equal(buf_cstr(&out), "abc");
	/* Appends after what the buffer already holds. */
	buf_reset(&out);
	buf_append_str(&out, "pre:");
	assert_int_equal(html_to_text("<b>x</b>", 8, 10, 0, &out, &error), 1);
	assert_string_equal(buf_cstr(&out), "pre:x");
	buf_deinit(&out);
}

static void test_meta_charset_ignored(void **state)
{
	/* The input is UTF-8 whatever the document claims. */
	check("<html><head><meta charset=\"iso-8859-1\"></head><body>caf\xc3\xa9</body></html>",
		"café");
	check("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
	      "charset=windows-1252\"></head><body>\xe2\x82\xac</body></html>",
		"€");
}

static void test_data_files(void **state)
{
	struct buf html, want, out;
	const char *error;
	test_read_data("html/newsletter.html", &html);
	test_read_data("html/newsletter.txt", &want);
	buf_init(&out, NULL);
	assert_int_equal(html_to_text(html.data, html.len, 1 << 20, 0, &out, &error), 1);
	buf_append_byte(&out, '\n'); /* the file ends with a newline */
	if (out.len != want.len || memcmp(out.data, want.data, out.len) != 0) {
		fprintf(stderr, "got:\n%s\n", buf_cstr(&out));
		fail();
	}
	buf_deinit(&html);
	buf_deinit(&want);
	buf_deinit(&out);
}

static void check_t2h(const char *text, unsigned flags, const char *expect)
{
	struct buf out;
	buf_init(&out, NULL);
	text_to_html(text, strlen(text), flags | TEXT_HTML_FRAGMENT, &out);
	if (strcmp(buf_cstr(&out), expect) != 0) {
		fprintf(stderr, "text: %s\nwant: [%s]\ngot:  [%s]\n", text, expect, buf_cstr(&out));
		fail();
	}
	buf_deinit(&out);
}

static void test_text_to_html(void **state)
{
	check_t2h("a < b & \"c\" > d", 0, "a &lt; b &amp; &quot;c&quot; &gt; d");
	check_t2h("line1\nline2\r\nline3\rend", 0, "line1<br>\nline2<br>\nline3<br>\nend");
	check_t2h("a  b", 0, "a&nbsp;&nbsp;b");
	check_t2h("a   b", 0, "a&nbsp; &nbsp;b");
	check_t2h(" indented", 0, "&nbsp;indented");
	check_t2h("x\ty", 0, "x&nbsp; &nbsp; &nbsp; &nbsp;&nbsp;y");
	check_t2h("see https://example.com/a?b=1&c=2.", TEXT_HTML_LINKIFY,
		"see <a href=\"https://example.com/a?b=1&amp;c=2\">https://example.com/a?b=1&amp;c=2</a>.");
	check_t2h("www.example.org and mailto:x@y.z", TEXT_HTML_LINKIFY,
		"<a href=\"http://www.example.org\">www.example.org</a> and "
		"<a href=\"mailto:x@y.z\">mailto:x@y.z</a>");
	check_t2h("http:// alone", TEXT_HTML_LINKIFY, "http:// alone");
	check_t2h("no links https://x.y", 0, "no links https://x.y");
	struct buf out;
	buf_init(&out, NULL);
	text_to_html("hi", 2, 0, &out);
	assert_non_null(strstr(buf_cstr(&out), "charset=utf-8"));
	assert_non_null(strstr(buf_cstr(&out), "<body>\nhi\n</body>"));
	buf_deinit(&out);
}

static void test_text_html_text(void **state)
{
	/* text -> HTML -> text keeps the words, lines and spacing. */
	const char *text = "Hello <you> & \"them\"\n\n  two spaces\tand a tab\nhttps://e.com/x";
	struct buf html, back;
	const char *error;
	buf_init(&html, NULL);
	buf_init(&back, NULL);
	text_to_html(text, strlen(text), TEXT_HTML_LINKIFY, &html);
	assert_int_equal(html_to_text(html.data, html.len, 1 << 20, 0, &back, &error), 1);
	assert_string_equal(buf_cstr(&back),
		"Hello <you> & \"them\"\n\n  two spaces        and a tab\nhttps://e.com/x");
	buf_deinit(&html);
	buf_deinit(&back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_and_whitespace),
		cmocka_unit_test(test_entities),
		cmocka_unit_test(test_skipped),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_meta_charset_ignored),
		cmocka_unit_test(test_data_files),
		cmocka_unit_test(test_text_to_html),
		cmocka_unit_test(test_text_html_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
