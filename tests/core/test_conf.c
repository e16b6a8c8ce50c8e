/*
 * test_conf.c - the configuration: the committed example file is exactly
 * what conf_write_example() prints and loads cleanly; unknown keys and
 * sections, bad numbers and bad choices are refused with file and line; the
 * environment overrides the file; relative paths follow the file; and
 * listkeeper(1) documents every key (conf.h promises all three in step).
 *
 * Runs in tests/core (CMakeLists.txt sets the working directory).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/conf.h"

#define EXAMPLE "../../conf/listkeeper.conf.example"
#define MANPAGE "../../docs/listkeeper.1.scd"

/* Reads a whole file into a NUL-terminated allocation; NULL if it cannot. */
static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "re");
	if (fp == NULL)
		return NULL;
	struct buf b;
	buf_init(&b, 1u << 20);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		assert_int_equal(buf_append(&b, chunk, n), 0);
	fclose(fp);
	return buf_steal(&b, len);
}

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	memcpy(f->dir, "/tmp/lk-test-conf-XXXXXX", sizeof("/tmp/lk-test-conf-XXXXXX"));
	assert_non_null(mkdtemp(f->dir));
	assert_true(snprintf(f->path, sizeof(f->path), "%s/listkeeper.conf", f->dir) > 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	unsetenv("LISTKEEPER_LOG_LEVEL");
	unsetenv("LISTKEEPER_IMPORT_BATCH");
	return 0;
}

static void put_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "we");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* (a) The committed example is byte for byte what the code prints. */
static void test_example_matches_code(void **state)
{
	(void)state;
	char *want = NULL;
	size_t want_len = 0;
	FILE *mem = open_memstream(&want, &want_len);
	assert_non_null(mem);
	conf_write_example(mem);
	assert_int_equal(fclose(mem), 0);

	size_t have_len = 0;
	char *have = slurp(EXAMPLE, &have_len);
	if (have == NULL)
		fail_msg("%s is missing: regenerate conf/listkeeper.conf.example from "
			 "conf_write_example() (src/core/conf.c)",
			 EXAMPLE);
	if (have_len != want_len || memcmp(have, want, want_len) != 0) {
		size_t i = 0;
		while (i < have_len && i < want_len && have[i] == want[i])
			i++;
		size_t line = 1;
		for (size_t k = 0; k < i; k++)
			line += want[k] == '\n';
		fail_msg("%s differs from conf_write_example() from line %zu on: regenerate "
			 "conf/listkeeper.conf.example (the KEYS table in src/core/conf.c "
			 "changed)",
			 EXAMPLE, line);
	}
	free(have);
	free(want);
}

/* (b) The example loads, and its values are the defaults. */
static void test_example_loads(void **state)
{
	(void)state;
	struct buf err;
	buf_init(&err, 4096);
	struct conf *c = conf_load(EXAMPLE, &err);
	if (c == NULL)
		fail_msg("%s does not load: %s", EXAMPLE, buf_cstr(&err));
	assert_string_equal(conf_file(c), EXAMPLE);
	assert_string_equal(conf_get(c, "store", "backend"), "sqlite");
	assert_string_equal(conf_get(c, "log", "level"), "info");
	assert_int_equal(conf_get_int(c, "store", "busy_timeout_ms"), 5000);
	assert_int_equal(conf_get_int(c, "import", "batch"), 10000);
	assert_int_equal(conf_get_int(c, "tokens", "confirm_ttl_hours"), 168);
	conf_free(c);
	buf_free(&err);
}

/* (c) Refusals name the file and the line, and say what is wrong. */
static void test_refusals_name_file_and_line(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *text;
		int line;
		const char *says;
	} cases[] = {
	    {"[general]\ndomain = example.org\nsite_nam = x\n", 3, "unknown key 'site_nam'"},
	    {"[general]\ndomain = example.org\n\n[stor]\npath = x.db\n", 5,
	     "unknown section [stor]"},
	    {"[import]\nbatch = 0\n", 2, "not a whole number from 1 to 100000"},
	    {"[import]\nbatch = 12abc\n", 2, "not a whole number"},
	    {"[import]\nbatch = 100001\n", 2, "not a whole number"},
	    {"[store]\nbusy_timeout_ms = -1\n", 2, "not a whole number"},
	    {"# comment\n[log]\nlevel = loud\n", 3, "not one of debug|info|warn|error"},
	    {"[store]\nbackend = mysql\n", 2, "not one of sqlite"},
	    {"domain = before any section\n", 1, "unknown section"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put_text(f->path, cases[i].text);
		struct buf err;
		buf_init(&err, 4096);
		struct conf *c = conf_load(f->path, &err);
		if (c != NULL)
			fail_msg("case %zu was accepted:\n%s", i, cases[i].text);
		char where[192];
		assert_true(snprintf(where, sizeof(where), "%s:%d: ", f->path, cases[i].line) > 0);
		if (strncmp(buf_cstr(&err), where, strlen(where)) != 0 ||
		    strstr(buf_cstr(&err), cases[i].says) == NULL)
			fail_msg("case %zu: want '%s...%s', got '%s'", i, where, cases[i].says,
				 buf_cstr(&err));
		buf_free(&err);
	}

	/* A missing file says how to make one. */
	struct buf err;
	buf_init(&err, 4096);
	assert_null(conf_load("/nonexistent/listkeeper.conf", &err));
	assert_non_null(strstr(buf_cstr(&err), "/nonexistent/listkeeper.conf"));
	assert_non_null(strstr(buf_cstr(&err), "listkeeper init"));
	buf_free(&err);
}

/* (d) LISTKEEPER_<SECTION>_<KEY> overrides the file; a bad value is refused. */
static void test_environment_overrides(void **state)
{
	struct fixture *f = *state;
	put_text(f->path, "[log]\nlevel = warn\n[import]\nbatch = 10\n");
	struct buf err;
	buf_init(&err, 4096);

	setenv("LISTKEEPER_LOG_LEVEL", "debug", 1);
	struct conf *c = conf_load(f->path, &err);
	assert_non_null(c);
	assert_string_equal(conf_get(c, "log", "level"), "debug");
	assert_int_equal(conf_get_int(c, "import", "batch"), 10); /* the file, not the default */
	conf_free(c);

	c = conf_load(NULL, &err); /* no file: defaults and environment */
	assert_non_null(c);
	assert_string_equal(conf_get(c, "log", "level"), "debug");
	assert_null(conf_file(c));
	conf_free(c);

	setenv("LISTKEEPER_LOG_LEVEL", "loud", 1);
	assert_null(conf_load(f->path, &err));
	assert_non_null(strstr(buf_cstr(&err), "LISTKEEPER_LOG_LEVEL"));
	assert_non_null(strstr(buf_cstr(&err), "'loud'"));
	unsetenv("LISTKEEPER_LOG_LEVEL");

	buf_reset(&err);
	setenv("LISTKEEPER_IMPORT_BATCH", "lots", 1);
	assert_null(conf_load(NULL, &err));
	assert_non_null(strstr(buf_cstr(&err), "LISTKEEPER_IMPORT_BATCH"));
	unsetenv("LISTKEEPER_IMPORT_BATCH");
	buf_free(&err);
}

/* (e) Relative paths are taken from the configuration file's directory. */
static void test_paths_follow_the_file(void **state)
{
	struct fixture *f = *state;
	put_text(f->path, "[store]\npath = data/lists.db\n[keys]\nfile = /etc/lk/keys\n");
	struct buf err;
	buf_init(&err, 4096);
	struct conf *c = conf_load(f->path, &err);
	assert_non_null(c);
	char want[192];
	assert_true(snprintf(want, sizeof(want), "%s/data/lists.db", f->dir) > 0);
	char *p = conf_get_path(c, "store", "path");
	assert_string_equal(p, want);
	free(p);
	p = conf_get_path(c, "keys", "file");
	assert_string_equal(p, "/etc/lk/keys");
	free(p);
	conf_free(c);

	c = conf_load(EXAMPLE, &err);
	assert_non_null(c);
	p = conf_get_path(c, "keys", "file");
	assert_string_equal(p, "../../conf/listkeeper.keys");
	free(p);
	conf_free(c);

	c = conf_load(NULL, &err); /* no file: the current directory */
	assert_non_null(c);
	p = conf_get_path(c, "store", "path");
	assert_string_equal(p, "./listkeeper.db");
	free(p);
	conf_free(c);
	buf_free(&err);
}

/* conf_set checks values as the file does. */
static void test_set(void **state)
{
	(void)state;
	struct buf err;
	buf_init(&err, 4096);
	struct conf *c = conf_load(NULL, &err);
	assert_non_null(c);
	assert_int_equal(conf_set(c, "import", "batch", "7", &err), 0);
	assert_int_equal(conf_get_int(c, "import", "batch"), 7);
	assert_int_equal(conf_set(c, "import", "batch", "0", &err), -1);
	assert_int_equal(conf_get_int(c, "import", "batch"), 7);
	assert_int_equal(conf_set(c, "import", "rows", "7", &err), -1);
	assert_int_equal(conf_set(c, "general", "domain", "a\nb", &err), -1);
	conf_free(c);
	buf_free(&err);
}

/* listkeeper(1) documents every key of the example as "*[section] key*". */
static void test_manpage_documents_every_key(void **state)
{
	(void)state;
	char *ex = slurp(EXAMPLE, NULL);
	char *man = slurp(MANPAGE, NULL);
	assert_non_null(ex);
	if (man == NULL)
		fail_msg("%s is missing", MANPAGE);
	char section[64] = "";
	int keys = 0;
	for (char *line = ex; *line;) {
		char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (len > 2 && line[0] == '[' && line[len - 1] == ']' &&
		    len - 2 < sizeof(section)) {
			memcpy(section, line + 1, len - 2);
			section[len - 2] = '\0';
		} else if (len > 0 && line[0] != '#') {
			const char *eq = memchr(line, '=', len);
			assert_non_null(eq);
			size_t klen = (size_t)(eq - line);
			while (klen > 0 && line[klen - 1] == ' ')
				klen--;
			char want[160];
			assert_true(snprintf(want, sizeof(want), "*[%s] %.*s*", section, (int)klen,
					     line) > 0);
			if (strstr(man, want) == NULL)
				fail_msg("%s does not document %s (add it under CONFIGURATION)",
					 MANPAGE, want);
			keys++;
		}
		line = end ? end + 1 : line + len;
	}
	assert_true(keys > 0);
	free(ex);
	free(man);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_example_matches_code),
	    cmocka_unit_test(test_example_loads),
	    cmocka_unit_test_setup_teardown(test_refusals_name_file_and_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_environment_overrides, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_paths_follow_the_file, setup, teardown),
	    cmocka_unit_test(test_set),
	    cmocka_unit_test(test_manpage_documents_every_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
