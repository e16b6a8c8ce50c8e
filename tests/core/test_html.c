/*
 * test_html.c - the HTML escaper (core/html.c): the five characters and
 * NUL, line breaks with and without HTML_BR, and a buffer that fills up
 * keeps no later run after the refused one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/html.h"

static const struct {
	const char *in;
	size_t len; /* 0: strlen(in) */
	unsigned flags;
	const char *out;
} CASES[] = {
    {"plain text", 0, 0, "plain text"},
    {"", 0, 0, ""},
    {"a<b>&\"c\"'d'", 0, 0, "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;"},
    {"<script>", 0, 0, "&lt;script&gt;"},
    {"a\0b", 3, 0, "a&#xFFFD;b"},
    {"\0", 1, HTML_BR, "&#xFFFD;"},
    {"one\ntwo\r\nthree\rfour", 0, 0, "one\ntwo\r\nthree\rfour"},
    {"one\ntwo\r\nthree\rfour", 0, HTML_BR, "one<br>\r\ntwo<br>\r\nthree\rfour"},
    {"end\r", 0, HTML_BR, "end\r"},
    {"\n\n", 0, HTML_BR, "<br>\r\n<br>\r\n"},
    {"1 Main St & Co\n<Town>", 0, HTML_BR, "1 Main St &amp; Co<br>\r\n&lt;Town&gt;"},
};

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
		struct buf b;
		buf_init(&b, 1024);
		size_t len = CASES[i].len ? CASES[i].len : strlen(CASES[i].in);
		assert_int_equal(html_escape_buf(&b, CASES[i].in, len, CASES[i].flags), 0);
		assert_int_equal(b.len, strlen(CASES[i].out));
		assert_memory_equal(b.data != NULL ? b.data : "", CASES[i].out, b.len);
		buf_free(&b);
	}
}

struct pieces {
	char out[64];
	size_t len;
	int calls;
};

static void collect(void *ctx, const char *p, size_t n)
{
	struct pieces *c = ctx;
	assert_true(n > 0); /* no empty writes */
	assert_true(n <= sizeof(c->out) - c->len);
	memcpy(c->out + c->len, p, n);
	c->len += n;
	c->calls++;
}

static void test_sink_runs(void **state)
{
	(void)state;
	struct pieces c = {0};
	html_escape(collect, &c, "abc&def", 7, 0);
	assert_int_equal(c.len, 11);
	assert_memory_equal(c.out, "abc&amp;def", 11);
	assert_int_equal(c.calls, 3); /* a run, a reference, a run: not byte by byte */
}

static void test_full_buffer(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 8);
	/* "aaaaaaaaaa" does not fit; the "&lt;" after it would: it must not go in */
	assert_int_equal(html_escape_buf(&b, "aaaaaaaaaa<", 11, 0), -1);
	assert_true(b.err);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_sink_runs),
	    cmocka_unit_test(test_full_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
