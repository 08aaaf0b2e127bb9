/* RFC 5256: base subject extraction case by case, i;ascii-casemap, and
 * both threading algorithms: the RFC's rules one at a time (references,
 * dummies and their pruning, duplicates, loops, subject gathering, date
 * and sequence order), deep chains and wide fans (no recursion). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/imap/thread.h"

static void check_base(const char *in, const char *want, bool want_reply)
{
	pool_t *pool = pool_new("t", 0);
	bool reply = !want_reply;
	char *got = imap_base_subject(pool, in, &reply);
	if (strcmp(got, want) != 0 || reply != want_reply)
		fail_msg("base of \"%s\": \"%s\" reply=%d, want \"%s\" reply=%d", in, got, reply,
		        want, want_reply);
	pool_free(&pool);
}

static void test_base_subject(void **state)
{
	(void)state;
	check_base("", "", false);
	check_base(NULL, "", false);
	check_base("Hello", "Hello", false);
	check_base("  Hello   world  ", "Hello world", false);
	check_base("Hello\t\r\n world", "Hello world", false);
	check_base("Re: Hello", "Hello", true);
	check_base("RE:Hello", "Hello", true);
	check_base("re : Hello", "Hello", true);
	check_base("Re: Re: re: Hello", "Hello", true);
	check_base("Fw: Hello", "Hello", true);
	check_base("FWD: Hello", "Hello", true);
	check_base("Fwdd: Hello", "Fwdd: Hello", false);
	check_base("Re[2]: Hello", "Hello", true);
	check_base("Re [2]: Hello", "Hello", true);
	check_base("[list] Re: Hello", "Hello", true);
	check_base("[list][x] Re: [y] Hello", "Hello", true);
	check_base("[list] Hello", "Hello", false);
	check_base("[list]", "[list]", false);
	check_base("[a] [b]", "[b]", false);
	check_base("[unclosed Hello", "[unclosed Hello", false);
	check_base("Hello (fwd)", "Hello", true);
	check_base("Hello (FWD) (fwd)  ", "Hello", true);
	check_base("[Fwd: Hello]", "Hello", true);
	check_base("[fwd: Re: Hello (fwd)]", "Hello", true);
	check_base("[fwd: [fwd: Hello]]", "Hello", true);
	check_base("[fwd: Hello", "[fwd: Hello", false);
	check_base("Reply to me", "Reply to me", false);
	check_base("Re:", "", true);
	check_base("Re: [x]", "[x]", true);
	check_base("Re: Ünïcödé", "Ünïcödé", true);
	check_base("Fw Hello", "Fw Hello", false);
}

static void test_casemap(void **state)
{
	(void)state;
	assert_int_equal(imap_ascii_casemap_cmp("abc", "ABC"), 0);
	assert_true(imap_ascii_casemap_cmp("abc", "abd") < 0);
	assert_true(imap_ascii_casemap_cmp("ab", "abc") < 0);
	assert_true(imap_ascii_casemap_cmp("", "a") < 0);
	assert_true(imap_ascii_casemap_cmp("Z", "a") > 0);
	/* Non-ASCII bytes compare as octets, after every ASCII letter. */
	assert_true(imap_ascii_casemap_cmp("\xc3\x89", "z") > 0);
	assert_int_equal(imap_ascii_casemap_cmp("\xc3\xa9", "\xc3\xa9"), 0);
	assert_true(imap_ascii_casemap_cmp("\xc3\x89", "\xc3\xa9") != 0);
	/* '_' (0x5f) sorts after letters that map up to A-Z. */
	assert_true(imap_ascii_casemap_cmp("_", "a") > 0);
}

/* A message of a test mailbox: id = seq. */
struct tm {
	const char *subject; /* raw: the base is taken here */
	unsigned date;
	const char *id;
	const char *refs[6];
};

static const char *thread(const struct tm *v, size_t n, bool refs)
{
	static char out[4096];
	pool_t *pool = pool_new("t", 0);
	struct imap_thread_msg *m = pool_calloc(pool, n ? n : 1, sizeof(*m));
	for (size_t i = 0; i < n; i++) {
		m[i].id = m[i].seq = (uint32_t)i + 1;
		m[i].date = v[i].date;
		m[i].subject = imap_base_subject(pool, v[i].subject, &m[i].reply);
		m[i].message_id = v[i].id;
		m[i].refs = v[i].refs;
		while (m[i].nrefs < 6 && v[i].refs[m[i].nrefs] != NULL)
			m[i].nrefs++;
	}
	struct buf b;
	buf_init(&b, pool);
	if (refs)
		imap_thread_references(pool, m, n, &b);
	else
		imap_thread_orderedsubject(pool, m, n, &b);
	snprintf(out, sizeof(out), "%s", buf_cstr(&b));
	pool_free(&pool);
	return out;
}

static void test_orderedsubject(void **state)
{
	(void)state;
	assert_string_equal(thread(NULL, 0, false), "");
	const struct tm one[] = {{"x", 1, NULL, {NULL}}};
	assert_string_equal(thread(one, 1, false), "(1)");
	const struct tm v[] = {
	        {"b", 50, NULL, {NULL}}, {"Re: a", 20, NULL, {NULL}}, {"A", 30, NULL, {NULL}},
	        {"re: B", 10, NULL, {NULL}},
	        {"a", 20, NULL, {NULL}}, /* same date as 2: seq order */
	        {"[x] A (fwd)", 40, NULL, {NULL}}, {"", 5, NULL, {NULL}},
	        {"   ", 60, NULL, {NULL}}, /* empty base subject too */
	};
	/* Threads: "" {7,8}, B {4,1}, A {2,5,3,6}; by first date 7, 4, 2.
	 * The second message is the child, the others its siblings. */
	assert_string_equal(thread(v, 8, false), "(7 8)(4 1)(2 (5)(3)(6))");
}

static void test_references_basic(void **state)
{
	(void)state;
	assert_string_equal(thread(NULL, 0, true), "");
	const struct tm v[] = {
	        {"A", 10, "a", {NULL}},
	        {"Re: A", 20, "b", {"a", NULL}},
	        {"Re: A", 30, "c", {"a", "b", NULL}},
	        {"Re: A", 25, "d", {"a", NULL}},
	        {"Other", 5, "e", {NULL}},
	};
	assert_string_equal(thread(v, 5, true), "(5)(1 (2 3)(4))");
	/* A reference to a message that comes later still links. */
	const struct tm w[] = {
	        {"Re: A", 20, "b", {"a", NULL}},
	        {"A", 10, "a", {NULL}},
	};
	assert_string_equal(thread(w, 2, true), "(2 1)");
}

static void test_references_dummies(void **state)
{
	(void)state;
	/* One reply to a missing message: the dummy goes, the reply is a
	 * root. Two replies: the dummy stays at the top with both. */
	const struct tm one[] = {{"Re: A", 10, "b", {"a", NULL}}};
	assert_string_equal(thread(one, 1, true), "(1)");
	const struct tm two[] = {
	        {"Re: A", 20, "b", {"a", NULL}},
	        {"Re: A", 10, "c", {"a", NULL}},
	};
	assert_string_equal(thread(two, 2, true), "((2)(1))");
	/* A missing message in the middle of a chain: its dummy is pruned
	 * below the top, its child promoted. */
	const struct tm mid[] = {
	        {"A", 10, "a", {NULL}},
	        {"Re: A", 30, "c", {"a", "b", NULL}},
	};
	assert_string_equal(thread(mid, 2, true), "(1 2)");
	/* Dummies below the top with several children give them all to
	 * their parent. */
	const struct tm fan[] = {
	        {"A", 10, "a", {NULL}},
	        {"Re: A", 30, "c", {"a", "b", NULL}},
	        {"Re: A", 20, "d", {"a", "b", NULL}},
	};
	assert_string_equal(thread(fan, 3, true), "(1 (3)(2))");
	/* A reference chain of dummies only. */
	const struct tm chain[] = {{"Re: A", 10, "z", {"x", "y", NULL}}};
	assert_string_equal(thread(chain, 1, true), "(1)");
}

static void test_references_rules(void **state)
{
	(void)state;
	/* Duplicate Message-IDs: the first keeps it. */
	const struct tm dup[] = {
	        {"A", 10, "a", {NULL}},
	        {"B", 20, "a", {NULL}},
	        {"Re: A", 30, "c", {"a", NULL}},
	};
	assert_string_equal(thread(dup, 3, true), "(1 3)(2)");
	/* No Message-ID at all: each message is its own. */
	const struct tm none[] = {
	        {"A", 10, NULL, {NULL}},
	        {"B", 20, "", {NULL}},
	};
	assert_string_equal(thread(none, 2, true), "(1)(2)");
	/* An existing parent is not replaced by a later message's
	 * references (1A); the last reference is (1B). */
	const struct tm keep[] = {
	        {"A", 10, "a", {NULL}},
	        {"B", 11, "b", {NULL}},
	        {"Re: A", 20, "c", {"a", NULL}},
	        {"Re: B", 30, "d", {"b", "c", NULL}},
	};
	/* d's references would make b the parent of c; c has a parent. */
	assert_string_equal(thread(keep, 4, true), "(1 3 4)(2)");
	/* Loops are not made. */
	const struct tm loop[] = {
	        {"A", 10, "a", {"b", NULL}},
	        {"B", 20, "b", {"a", NULL}},
	};
	/* a under b (1B for a), then b's parent a would loop: b stays a
	 * root above a. */
	assert_string_equal(thread(loop, 2, true), "(2 1)");
	const struct tm self[] = {{"A", 10, "a", {"a", NULL}}};
	assert_string_equal(thread(self, 1, true), "(1)");
	const struct tm order[] = {
	        {"A", 10, "a", {NULL}}, {"Re: A", 20, "b", {"a", NULL}},
	        {"Re: A", 30, "c", {"b", "a", NULL}}, /* a already above b: c under a */
	};
	assert_string_equal(thread(order, 3, true), "(1 (2)(3))");
}

static void test_references_subjects(void **state)
{
	(void)state;
	/* A reply without references joins the thread of its subject. */
	const struct tm reply[] = {
	        {"Lunch", 10, "a", {NULL}},
	        {"Re: lunch", 20, "b", {NULL}},
	};
	assert_string_equal(thread(reply, 2, true), "(1 2)");
	/* The reply came first: it still goes under the original. */
	const struct tm early[] = {
	        {"Re: Lunch", 5, "b", {NULL}},
	        {"Lunch", 10, "a", {NULL}},
	};
	assert_string_equal(thread(early, 2, true), "(2 1)");
	/* Two originals with one subject: a new dummy above both. */
	const struct tm two[] = {
	        {"Lunch", 10, "a", {NULL}},
	        {"Lunch", 20, "b", {NULL}},
	};
	assert_string_equal(thread(two, 2, true), "((1)(2))");
	/* A dummy thread takes the others of its subject. */
	const struct tm dummy[] = {
	        {"Re: Lunch", 10, "b", {"a", NULL}},
	        {"Re: Lunch", 20, "c", {"a", NULL}},
	        {"Lunch", 30, "d", {NULL}},
	        {"Re: Lunch", 40, "e", {NULL}},
	};
	assert_string_equal(thread(dummy, 4, true), "((1)(2)(3)(4))");
	/* Two dummies of one subject merge. */
	const struct tm dd[] = {
	        {"Re: X", 10, "b", {"a", NULL}},
	        {"Re: X", 20, "c", {"a", NULL}},
	        {"Re: X", 30, "e", {"d", NULL}},
	        {"Re: X", 40, "f", {"d", NULL}},
	};
	assert_string_equal(thread(dd, 4, true), "((1)(2)(3)(4))");
	/* Empty subjects are never gathered. */
	const struct tm empty[] = {
	        {"", 10, "a", {NULL}},
	        {"Re:", 20, "b", {NULL}},
	};
	assert_string_equal(thread(empty, 2, true), "(1)(2)");
	/* Two replies with one subject: a dummy above both. */
	const struct tm rr[] = {
	        {"Re: Y", 10, "a", {NULL}},
	        {"Re: Y", 20, "b", {NULL}},
	};
	assert_string_equal(thread(rr, 2, true), "((1)(2))");
}

static void test_dates_and_ties(void **state)
{
	(void)state;
	const struct tm v[] = {
	        {"A", 30, "a", {NULL}},
	        {"B", 10, "b", {NULL}},
	        {"C", 10, "c", {NULL}}, /* ties with 2: seq order */
	        {"Re: A", 5, "d", {"a", NULL}},
	        {"Re: A", 5, "e", {"a", NULL}},
	};
	assert_string_equal(thread(v, 5, true), "(2)(3)(1 (4)(5))");
}

/* 100,000 messages in one reply chain, and 100,000 replies to one
 * message: nothing recurses. */
static void test_big(void **state)
{
	(void)state;
	const size_t n = 100000;
	pool_t *pool = pool_new("big", 0);
	struct imap_thread_msg *m = pool_calloc(pool, n, sizeof(*m));
	char **ids = pool_calloc(pool, n, sizeof(*ids));
	for (size_t i = 0; i < n; i++)
		ids[i] = pool_printf(pool, "m%zu", i);
	for (int fan = 0; fan < 2; fan++) {
		for (size_t i = 0; i < n; i++) {
			m[i] = (struct imap_thread_msg){.id = (uint32_t)i + 1,
			        .seq = (uint32_t)i + 1,
			        .date = i,
			        .subject = "s",
			        .message_id = ids[i]};
			if (i > 0) {
				m[i].refs = (const char *const *)&ids[fan ? 0 : i - 1];
				m[i].nrefs = 1;
			}
		}
		struct buf b;
		buf_init(&b, NULL);
		imap_thread_references(pool, m, n, &b);
		/* Every message once, lists balanced. */
		size_t open = 0, close = 0, nums = 0;
		for (size_t i = 0; i < b.len; i++) {
			open += b.data[i] == '(';
			close += b.data[i] == ')';
			nums += b.data[i] >= '0' && b.data[i] <= '9' &&
			        (i == 0 || b.data[i - 1] < '0' || b.data[i - 1] > '9');
		}
		assert_int_equal(open, close);
		assert_int_equal(nums, n);
		if (fan)
			assert_memory_equal(b.data, "(1 (2)(3)(4)", 12);
		else
			assert_memory_equal(b.data, "(1 2 3 4 ", 9);
		buf_reset(&b);
		imap_thread_orderedsubject(pool, m, n, &b);
		assert_memory_equal(b.data, "(1 (2)(3)", 9);
		buf_deinit(&b);
	}
	pool_free(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_base_subject),
	        cmocka_unit_test(test_casemap),
	        cmocka_unit_test(test_orderedsubject),
	        cmocka_unit_test(test_references_basic),
	        cmocka_unit_test(test_references_dummies),
	        cmocka_unit_test(test_references_rules),
	        cmocka_unit_test(test_references_subjects),
	        cmocka_unit_test(test_dates_and_ties),
	        cmocka_unit_test(test_big),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
