/*
 * test_tmpl.c - the template renderer (core/tmpl.c).
 *
 * Table cases (template and values -> output, or the error with its line)
 * cover escaping of & < > " ' (and NUL) in text and in attributes, raw
 * output only by name ({{{x}}}; {{&x}} is refused), text mode for .txt,
 * missing values, sections over flags and lists (nested, with outer values
 * seen from inside), inverted sections, comments, standalone lines, and the
 * errors: unclosed tags and sections, mismatched closes, bad names, invalid
 * UTF-8, nesting past the bound. Then includes (a shared layout, unknown
 * templates, self-inclusion), the work bound against includes that multiply
 * work without output, the output bound, a folder overriding the built-ins
 * file by file, and every built-in template parsing and including only
 * templates that exist. Runs in tests/core.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/limits.h"
#include "core/tmpl.h"

/* Values used by the table: name="<b>Ada & 'Bob'</b>", url with a quote,
 * empty="", flag="1", items=[{n:"1",v:"<i>"},{n:"2",v:"b"}], none=[],
 * nested=[{inner=[{x:"a"},{x:"b"}]},{inner=[]}]. */
static struct tmpl_vars *values(void)
{
	struct tmpl_vars *v = tmpl_vars_new();
	tmpl_put(v, "name", "<b>Ada & 'Bob'</b>");
	tmpl_put(v, "url", "/x?a=1\"onmouseover=\"alert(1)");
	tmpl_put(v, "empty", "");
	tmpl_put_bool(v, "flag", 1);
	tmpl_put_bool(v, "off", 0);
	tmpl_put_int(v, "count", -42);
	tmpl_putn(v, "nul", "a\0b", 3);
	struct tmpl_vars *it = tmpl_add_item(v, "items");
	tmpl_put(it, "n", "1");
	tmpl_put(it, "v", "<i>");
	it = tmpl_add_item(v, "items");
	tmpl_put(it, "n", "2");
	tmpl_put(it, "v", "b");
	tmpl_put_list(v, "none");
	struct tmpl_vars *outer = tmpl_add_item(v, "nested");
	tmpl_put(tmpl_add_item(outer, "inner"), "x", "a");
	tmpl_put(tmpl_add_item(outer, "inner"), "x", "b");
	tmpl_put_list(tmpl_add_item(v, "nested"), "inner");
	return v;
}

struct case_ {
	const char *name; /* the template's name: .txt renders as text */
	const char *in;
	const char *out; /* NULL: an error is expected */
	const char *err; /* a part of the error */
};

static const struct case_ cases[] = {
    /* escaping by default, in text and in attributes */
    {"a.html", "<p>{{name}}</p>", "<p>&lt;b&gt;Ada &amp; &#39;Bob&#39;&lt;/b&gt;</p>", NULL},
    {"a.html", "<a href=\"{{url}}\">x</a>",
     "<a href=\"/x?a=1&quot;onmouseover=&quot;alert(1)\">x</a>", NULL},
    {"a.html", "<a title='{{name}}'>", "<a title='&lt;b&gt;Ada &amp; &#39;Bob&#39;&lt;/b&gt;'>",
     NULL},
    {"a.html", "[{{nul}}]", "[a&#xFFFD;b]", NULL},
    {"a.html", "{{ name }}", "&lt;b&gt;Ada &amp; &#39;Bob&#39;&lt;/b&gt;", NULL},
    /* raw only by name */
    {"a.html", "{{{name}}}", "<b>Ada & 'Bob'</b>", NULL},
    {"a.html", "{{{ name }}}", "<b>Ada & 'Bob'</b>", NULL},
    {"a.html", "{{&name}}", NULL, "a.html:1: raw output is written {{{name}}}"},
    {"a.html", "{{{name}}", NULL, "a.html:1: \"{{{\" must be closed by \"}}}\""},
    /* text mode: nothing escaped */
    {"m.txt", "Hi {{name}}", "Hi <b>Ada & 'Bob'</b>", NULL},
    {"s.css", "a{{{{x}}}}", NULL, "s.css:1: unclosed tag"},
    /* missing and empty values */
    {"a.html", "[{{missing}}][{{{missing}}}][{{empty}}]", "[][][]", NULL},
    {"a.html", "[{{items}}]", "[]", NULL},
    {"a.html", "{{count}}", "-42", NULL},
    /* sections */
    {"a.html", "{{#flag}}on{{/flag}}{{#off}}OFF{{/off}}{{#missing}}M{{/missing}}", "on", NULL},
    {"a.html", "{{^flag}}no{{/flag}}{{^off}}off{{/off}}{{^missing}}m{{/missing}}", "offm", NULL},
    {"a.html", "{{#name}}[{{name}}]{{/name}}", "[&lt;b&gt;Ada &amp; &#39;Bob&#39;&lt;/b&gt;]",
     NULL},
    {"a.html", "{{#items}}{{n}}={{v}};{{/items}}", "1=&lt;i&gt;;2=b;", NULL},
    {"a.html", "{{#items}}{{count}}{{/items}}", "-42-42", NULL},
    {"a.html", "{{#none}}x{{/none}}{{^none}}empty{{/none}}{{^items}}y{{/items}}", "empty", NULL},
    {"a.html", "{{#nested}}({{#inner}}{{x}}{{/inner}}{{^inner}}-{{/inner}}){{/nested}}", "(ab)(-)",
     NULL},
    {"a.html", "{{! a comment {{ with braces\nover lines }}x", "x", NULL},
    /* standalone lines go with their tags; inline tags keep theirs */
    {"m.txt", "a\n{{#flag}}\nb\n{{/flag}}\nc\n", "a\nb\nc\n", NULL},
    {"m.txt", "a\n  {{^flag}}  \nb\n  {{/flag}}\r\nc", "a\nc", NULL},
    {"m.txt", "a {{#flag}}b{{/flag}} c\n", "a b c\n", NULL},
    {"m.txt", "{{! note }}\nline\n", "line\n", NULL},
    {"m.txt", "x\n{{#items}}\n{{n}}\n{{/items}}\n", "x\n1\n2\n", NULL},
    {"m.txt", "x{{#items}}\n{{n}}{{/items}}\n", "x\n1\n2\n", NULL},
    /* text that only looks like a tag */
    {"a.html", "a { b } {x} }} c", "a { b } {x} }} c", NULL},
    /* errors, with their lines */
    {"a.html", "line\n{{name", NULL, "a.html:2: unclosed tag"},
    {"a.html", "{{na\nme}}", NULL, "a.html:1: unclosed tag"},
    {"a.html", "{{}}", NULL, "a.html:1: a tag without a name"},
    {"a.html", "{{#}}", NULL, "a.html:1: a tag without a name"},
    {"a.html", "{{na me}}", NULL, "a.html:1: a tag name may hold only"},
    {"a.html", "{{<script>}}", NULL, "a.html:1: a tag name may hold only"},
    {"a.html", "{{=<% %>=}}", NULL, "a.html:1: changing the delimiters"},
    {"a.html", "\n\n{{#a}}\n{{/b}}", NULL,
     "a.html:4: \"{{/b}}\" closes the section \"a\" opened on line 3"},
    {"a.html", "x\n{{/a}}", NULL, "a.html:2: a section is closed that was not opened: \"a\""},
    {"a.html", "{{#a}}\n\n", NULL, "a.html:3: the section \"a\" opened on line 1 is not closed"},
    {"a.html", "ok\n\xff", NULL, "a.html:2: not valid UTF-8"},
};

static void test_cases(void **state)
{
	(void)state;
	struct tmpl_vars *v = values();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct case_ *c = &cases[i];
		struct tmpl_set *s = tmpl_set_new();
		struct buf out, err;
		buf_init(&out, 1 << 20);
		buf_init(&err, 1024);
		int rc = tmpl_set_add(s, c->name, c->in, strlen(c->in), c->name, &err);
		if (rc == 0)
			rc = tmpl_render(s, c->name, v, &out, &err);
		if (c->out != NULL) {
			if (rc != 0 || strcmp(buf_cstr(&out), c->out) != 0)
				fail_msg("case %zu: %s -> [%s] (err %s), wanted [%s]", i, c->in,
					 buf_cstr(&out), buf_cstr(&err), c->out);
		} else if (rc == 0 || strstr(buf_cstr(&err), c->err) == NULL) {
			fail_msg("case %zu: %s -> rc %d [%s], wanted an error [%s]", i, c->in, rc,
				 buf_cstr(&err), c->err);
		}
		buf_free(&out);
		buf_free(&err);
		tmpl_set_free(s);
	}
	tmpl_vars_free(v);
}

static int add(struct tmpl_set *s, const char *name, const char *text)
{
	struct buf err;
	buf_init(&err, 1024);
	int rc = tmpl_set_add(s, name, text, strlen(text), name, &err);
	if (rc != 0)
		print_error("%s\n", buf_cstr(&err));
	buf_free(&err);
	return rc;
}

/* Renders name; returns the output (to free) or NULL with the error in err. */
static char *render(const struct tmpl_set *s, const char *name, const struct tmpl_vars *v,
		    size_t max, struct buf *err)
{
	struct buf out;
	buf_init(&out, max);
	if (tmpl_render(s, name, v, &out, err) < 0) {
		buf_free(&out);
		return NULL;
	}
	return buf_steal(&out, NULL);
}

static void test_includes(void **state)
{
	(void)state;
	struct tmpl_set *s = tmpl_set_new();
	assert_int_equal(add(s, "head.html", "<title>{{title}}</title>\n"), 0);
	assert_int_equal(add(s, "foot.html", "</body>\n"), 0);
	assert_int_equal(add(s, "page.html",
			     "{{> head.html}}\n<p>{{#items}}{{> item.html}}{{/items}}"
			     "</p>\n{{> foot.html}}\n"),
			 0);
	assert_int_equal(add(s, "item.html", "[{{v}}]"), 0);
	struct buf err;
	buf_init(&err, 1024);
	assert_int_equal(tmpl_set_check(s, &err), 0);
	struct tmpl_vars *v = tmpl_vars_new();
	tmpl_put(v, "title", "A&B");
	tmpl_put(tmpl_add_item(v, "items"), "v", "<1>");
	tmpl_put(tmpl_add_item(v, "items"), "v", "2");
	char *o = render(s, "page.html", v, 4096, &err);
	assert_non_null(o);
	assert_string_equal(o, "<title>A&amp;B</title>\n<p>[&lt;1&gt;][2]</p>\n</body>\n");
	free(o);
	/* an include of a template that does not exist */
	assert_int_equal(add(s, "bad.html", "x\n{{> nothing.html}}"), 0);
	assert_int_equal(tmpl_set_check(s, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "bad.html:2: includes \"nothing.html\""));
	buf_reset(&err);
	assert_null(render(s, "bad.html", v, 4096, &err));
	assert_non_null(strstr(buf_cstr(&err), "bad.html:2: includes \"nothing.html\""));
	buf_reset(&err);
	/* a template that includes itself is stopped, not followed for ever */
	assert_int_equal(add(s, "loop.html", "a{{> loop.html}}"), 0);
	assert_null(render(s, "loop.html", v, 4096, &err));
	assert_non_null(strstr(buf_cstr(&err), "loop.html:1: includes nested too deeply"));
	buf_reset(&err);
	/* no such template */
	assert_null(render(s, "nope.html", v, 4096, &err));
	assert_non_null(strstr(buf_cstr(&err), "no template named"));
	buf_free(&err);
	tmpl_vars_free(v);
	tmpl_set_free(s);
}

/* Includes that multiply work without writing anything: 200 includes per
 * level, 8 levels, would be 200^8 nodes; the work bound stops it at once. */
static void test_work_bound(void **state)
{
	(void)state;
	struct tmpl_set *s = tmpl_set_new();
	struct buf t;
	buf_init(&t, 1 << 20);
	for (int level = 0; level < LK_TMPL_MAX_INCLUDES; level++) {
		char name[32], next[32];
		snprintf(name, sizeof(name), "l%d.html", level);
		snprintf(next, sizeof(next), "l%d.html", level + 1);
		buf_reset(&t);
		for (int k = 0; k < 200; k++)
			buf_printf(&t, "{{> %s}}{{missing}}", next);
		assert_int_equal(add(s, name, buf_cstr(&t)), 0);
	}
	char last[32];
	snprintf(last, sizeof(last), "l%d.html", LK_TMPL_MAX_INCLUDES);
	assert_int_equal(add(s, last, ""), 0);
	struct buf err;
	buf_init(&err, 1024);
	assert_null(render(s, "l0.html", NULL, 4096, &err));
	assert_non_null(strstr(buf_cstr(&err), "too much work"));
	buf_free(&err);
	buf_free(&t);
	tmpl_set_free(s);
}

static void test_output_bound(void **state)
{
	(void)state;
	struct tmpl_set *s = tmpl_set_new();
	assert_int_equal(add(s, "big.html", "{{#items}}0123456789{{/items}}"), 0);
	struct tmpl_vars *v = tmpl_vars_new();
	for (int i = 0; i < 100; i++)
		tmpl_add_item(v, "items");
	struct buf err;
	buf_init(&err, 1024);
	char *o = render(s, "big.html", v, 1000, &err);
	assert_non_null(o);
	assert_int_equal(strlen(o), 1000);
	free(o);
	assert_null(render(s, "big.html", v, 999, &err));
	assert_non_null(strstr(buf_cstr(&err), "big.html:1: the output is too large"));
	buf_free(&err);
	tmpl_vars_free(v);
	tmpl_set_free(s);
}

/* Nesting: LK_TMPL_MAX_NESTING sections parse, one more does not. */
static void test_nesting(void **state)
{
	(void)state;
	for (int extra = 0; extra <= 1; extra++) {
		int n = LK_TMPL_MAX_NESTING + extra;
		struct buf t, err;
		buf_init(&t, 1 << 16);
		buf_init(&err, 1024);
		for (int i = 0; i < n; i++)
			buf_puts(&t, "{{#flag}}");
		buf_puts(&t, "x");
		for (int i = 0; i < n; i++)
			buf_puts(&t, "{{/flag}}");
		struct tmpl_set *s = tmpl_set_new();
		int rc = tmpl_set_add(s, "n.html", t.data, t.len, "n.html", &err);
		if (extra == 0) {
			assert_int_equal(rc, 0);
			struct tmpl_vars *v = tmpl_vars_new();
			tmpl_put_bool(v, "flag", 1);
			char *o = render(s, "n.html", v, 100, &err);
			assert_non_null(o);
			assert_string_equal(o, "x");
			free(o);
			tmpl_vars_free(v);
		} else {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(buf_cstr(&err), "nested too deeply"));
		}
		tmpl_set_free(s);
		buf_free(&t);
		buf_free(&err);
	}
}

/* Values: replacing a value by a list and back; a list value is not text. */
static void test_values(void **state)
{
	(void)state;
	struct tmpl_set *s = tmpl_set_new();
	assert_int_equal(add(s, "v.html", "[{{x}}]{{#x}}<{{y}}>{{/x}}"), 0);
	struct tmpl_vars *v = tmpl_vars_new();
	tmpl_put(v, "x", "one");
	tmpl_put(v, "x", "two");
	struct buf err;
	buf_init(&err, 1024);
	char *o = render(s, "v.html", v, 100, &err);
	assert_string_equal(o, "[two]<>");
	free(o);
	tmpl_put(tmpl_add_item(v, "x"), "y", "i");
	o = render(s, "v.html", v, 100, &err);
	assert_string_equal(o, "[]<i>");
	free(o);
	tmpl_put(v, "x", NULL);
	o = render(s, "v.html", v, 100, &err);
	assert_string_equal(o, "[]");
	free(o);
	buf_free(&err);
	tmpl_vars_free(v);
	tmpl_vars_free(NULL);
	tmpl_set_free(s);
	tmpl_set_free(NULL);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A folder overrides the built-ins one file at a time and may add partials;
 * other files are ignored; an error names the file and line. */
static void test_load_dir(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_tmpl.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char p[256];
	snprintf(p, sizeof(p), "%s/footer.html", dir);
	write_file(p, "<footer>{{> extra.html}}</footer>\n");
	snprintf(p, sizeof(p), "%s/extra.html", dir);
	write_file(p, "Ours");
	snprintf(p, sizeof(p), "%s/notes.md", dir);
	write_file(p, "{{ignored");
	snprintf(p, sizeof(p), "%s/.hidden.html", dir);
	write_file(p, "{{ignored");

	struct tmpl_set *s = tmpl_set_new();
	struct buf err;
	buf_init(&err, 1024);
	assert_int_equal(tmpl_set_add_builtins(s, &err), 0);
	assert_int_equal(tmpl_set_load_dir(s, dir, &err), 0);
	assert_int_equal(tmpl_set_check(s, &err), 0);
	assert_true(tmpl_set_has(s, "header.html")); /* a built-in that stays */
	assert_false(tmpl_set_has(s, "notes.md"));
	char *o = render(s, "footer.html", NULL, 100, &err);
	assert_non_null(o);
	assert_string_equal(o, "<footer>Ours</footer>\n");
	free(o);

	snprintf(p, sizeof(p), "%s/index.html", dir);
	write_file(p, "<p>\n{{#lists}}\n");
	assert_int_equal(tmpl_set_load_dir(s, dir, &err), -1);
	char want[300];
	snprintf(want, sizeof(want), "%s/index.html:3: the section \"lists\" opened on line 2",
		 dir);
	assert_non_null(strstr(buf_cstr(&err), want));
	buf_reset(&err);
	assert_int_equal(tmpl_set_load_dir(s, "/nonexistent-dir", &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "/nonexistent-dir"));

	buf_free(&err);
	tmpl_set_free(s);
	const char *names[] = {"footer.html", "extra.html", "notes.md", ".hidden.html",
			       "index.html"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

/* tmpl_set_load_conf: the built-ins without [web] templates; with it, the
 * folder's files win (a mail template too) and the others stay; a broken
 * file gives NULL and an error naming the file and the key. */
static void test_load_conf(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_tmpl_conf.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cpath[256], tpath[256], text[512];
	snprintf(cpath, sizeof(cpath), "%s/lk.conf", dir);
	snprintf(tpath, sizeof(tpath), "%s/mail_welcome.txt", dir);
	unsetenv("LISTKEEPER_WEB_TEMPLATES");
	struct buf err;
	buf_init(&err, 1024);
	for (int with = 0; with < 3; with++) {
		snprintf(text, sizeof(text), "[web]\ntemplates = %s\n", with ? dir : "");
		write_file(cpath, text);
		write_file(tpath, with == 2 ? "Subject: x\n{{#a}}\n" : "Subject: Ours\n\nHi\n");
		struct conf *c = conf_load(cpath, &err);
		if (c == NULL)
			fail_msg("%s", buf_cstr(&err));
		struct tmpl_set *s = tmpl_set_load_conf(c, &err);
		if (with == 2) {
			assert_null(s);
			assert_non_null(strstr(buf_cstr(&err), "mail_welcome.txt:3:"));
			assert_non_null(strstr(buf_cstr(&err), "[web] templates"));
		} else {
			assert_non_null(s);
			char *o = render(s, "mail_welcome.txt", NULL, 4096, &err);
			assert_non_null(o);
			assert_int_equal(strncmp(o, "Subject: Ours", 13) == 0, with);
			free(o);
			assert_true(tmpl_set_has(s, "mail_confirm.txt")); /* still the built-in */
		}
		tmpl_set_free(s);
		conf_free(c);
		buf_reset(&err);
	}
	buf_free(&err);
	unlink(cpath);
	unlink(tpath);
	rmdir(dir);
}

/* Every built-in parses, and includes only built-ins. */
static void test_builtins(void **state)
{
	(void)state;
	struct tmpl_set *s = tmpl_set_new();
	struct buf err;
	buf_init(&err, 1024);
	if (tmpl_set_add_builtins(s, &err) < 0 || tmpl_set_check(s, &err) < 0)
		fail_msg("%s", buf_cstr(&err));
	assert_true(tmpl_set_has(s, "index.html"));
	buf_free(&err);
	tmpl_set_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),      cmocka_unit_test(test_includes),
	    cmocka_unit_test(test_work_bound), cmocka_unit_test(test_output_bound),
	    cmocka_unit_test(test_nesting),    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_load_dir),   cmocka_unit_test(test_builtins),
	    cmocka_unit_test(test_load_conf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
