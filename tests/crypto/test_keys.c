/*
 * test_keys.c - the key file: write once with mode 0600, load, and refuse
 * loose permissions and malformed contents with a message that says why.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/hash.h"
#include "crypto/keys.h"

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	memcpy(f->dir, "/tmp/lk-test-keys-XXXXXX", sizeof("/tmp/lk-test-keys-XXXXXX"));
	assert_non_null(mkdtemp(f->dir));
	assert_true(snprintf(f->path, sizeof(f->path), "%s/keys", f->dir) > 0);
	assert_int_equal(crypto_init(), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	chmod(f->path, 0600);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Writes text to path with exactly `mode` (umask does not apply). */
static void put_file(const char *path, const char *text, size_t len, mode_t mode)
{
	unlink(path);
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void put_text(const char *path, const char *text)
{
	put_file(path, text, strlen(text), 0600);
}

static const char HEX_A[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char HEX_B[] = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
static const char HEX_C[] = "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f";

static void test_write_then_load(void **state)
{
	struct fixture *f = *state;
	struct keys k, l;
	struct buf err;
	struct stat st;

	buf_init(&err, 1024);
	keys_generate(&k);
	assert_int_equal(keys_write(&k, f->path, &err), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	memset(&l, 0, sizeof(l));
	assert_int_equal(keys_load(&l, f->path, &err), 0);
	assert_memory_equal(&k, &l, sizeof(k));
	assert_int_equal(err.len, 0);
	buf_free(&err);
}

static void test_generate_differs(void **state)
{
	(void)state;
	struct keys k, l;
	keys_generate(&k);
	keys_generate(&l);
	assert_memory_not_equal(k.master, l.master, KEYS_LEN);
	assert_memory_not_equal(k.master, k.mac, KEYS_LEN);
	assert_memory_not_equal(k.mac, k.hash, KEYS_LEN);
	keys_wipe(&k);
	static const uint8_t zero[sizeof(k)];
	assert_memory_equal(&k, zero, sizeof(k));
}

static void test_write_refuses_overwrite(void **state)
{
	struct fixture *f = *state;
	struct keys k, k2, l;
	struct buf err;

	buf_init(&err, 1024);
	keys_generate(&k);
	keys_generate(&k2);
	assert_int_equal(keys_write(&k, f->path, &err), 0);
	assert_int_equal(keys_write(&k2, f->path, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "already exists"));
	assert_int_equal(keys_load(&l, f->path, NULL), 0);
	assert_memory_equal(&k, &l, sizeof(k)); /* the first file is intact */
	buf_free(&err);
}

static void test_write_refuses_symlink(void **state)
{
	struct fixture *f = *state;
	char target[160];
	struct keys k;
	struct buf err;

	assert_true(snprintf(target, sizeof(target), "%s/elsewhere", f->dir) > 0);
	assert_int_equal(symlink(target, f->path), 0);
	buf_init(&err, 1024);
	keys_generate(&k);
	assert_int_equal(keys_write(&k, f->path, &err), -1);
	assert_int_equal(access(target, F_OK), -1);
	buf_free(&err);
}

static void test_write_bad_dir(void **state)
{
	struct fixture *f = *state;
	char path[160];
	struct keys k;
	struct buf err;

	assert_true(snprintf(path, sizeof(path), "%s/no/such/dir/keys", f->dir) > 0);
	buf_init(&err, 1024);
	keys_generate(&k);
	assert_int_equal(keys_write(&k, path, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "cannot create"));
	buf_free(&err);
}

static void test_loose_modes_refused(void **state)
{
	struct fixture *f = *state;
	static const mode_t bad[] = {0640, 0604, 0660, 0644,	   0666,      0620,
				     0602, 0610, 0601, 0700 | 004, 0400 | 040};
	struct keys k, l, before;
	struct buf err;
	char want[64];

	keys_generate(&k);
	assert_int_equal(keys_write(&k, f->path, NULL), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(chmod(f->path, bad[i]), 0);
		buf_init(&err, 1024);
		memset(&l, 0xa5, sizeof(l));
		before = l;
		assert_int_equal(keys_load(&l, f->path, &err), -1);
		assert_memory_equal(&l, &before, sizeof(l)); /* untouched on failure */
		assert_true(snprintf(want, sizeof(want), "(mode %04o)", (unsigned)bad[i]) > 0);
		assert_non_null(strstr(buf_cstr(&err), want));
		assert_non_null(strstr(buf_cstr(&err), "by group or others"));
		assert_non_null(strstr(buf_cstr(&err), "run: chmod 600 "));
		assert_non_null(strstr(buf_cstr(&err), f->path));
		buf_free(&err);
	}
	assert_int_equal(chmod(f->path, 0640), 0);
	buf_init(&err, 1024);
	assert_int_equal(keys_load(&l, f->path, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "readable by group or others (mode 0640)"));
	buf_free(&err);

	/* Owner-only modes load. */
	static const mode_t good[] = {0600, 0400, 0700};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(chmod(f->path, good[i]), 0);
		memset(&l, 0, sizeof(l));
		assert_int_equal(keys_load(&l, f->path, NULL), 0);
		assert_memory_equal(&k, &l, sizeof(k));
	}
}

static void test_missing_file(void **state)
{
	struct fixture *f = *state;
	struct keys l;
	struct buf err;

	buf_init(&err, 1024);
	assert_int_equal(keys_load(&l, f->path, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "cannot open"));
	buf_free(&err);

	/* A directory is not a key file either. */
	buf_init(&err, 1024);
	assert_int_equal(keys_load(&l, f->dir, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "not a regular file"));
	buf_free(&err);

	/* Nor is a FIFO, and opening one does not hang. */
	assert_int_equal(mkfifo(f->path, 0600), 0);
	buf_init(&err, 1024);
	assert_int_equal(keys_load(&l, f->path, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "not a regular file"));
	buf_free(&err);
}

static void test_good_variants(void **state)
{
	struct fixture *f = *state;
	struct keys l;
	char text[1024];
	uint8_t a[KEYS_LEN], b[KEYS_LEN], c[KEYS_LEN];

	assert_int_equal(hex_decode(HEX_A, 64, a, KEYS_LEN), 0);
	assert_int_equal(hex_decode(HEX_B, 64, b, KEYS_LEN), 0);
	assert_int_equal(hex_decode(HEX_C, 64, c, KEYS_LEN), 0);

	/* Another order, comments, blank lines, CRLF, no spaces, no final newline. */
	assert_true(snprintf(text, sizeof(text),
			     "\r\n# comment\r\n  hash=%s\r\n\n\tmac =\t%s  \nversion=1\n"
			     "# another\nmaster = %s",
			     HEX_C, HEX_B, HEX_A) > 0);
	put_text(f->path, text);
	assert_int_equal(keys_load(&l, f->path, NULL), 0);
	assert_memory_equal(l.master, a, KEYS_LEN);
	assert_memory_equal(l.mac, b, KEYS_LEN);
	assert_memory_equal(l.hash, c, KEYS_LEN);
}

struct bad_case {
	const char *text;   /* {A} {B} {C}: three good hex keys; {A:n}: the first n digits of A */
	const char *expect; /* in the message */
};

static const struct bad_case bad_cases[] = {
    {"", "missing 'version'"},
    {"# only a comment\n", "missing 'version'"},
    {"version = 1\n", "missing key 'master'"},
    {"version = 1\nmaster = {A}\nmac = {B}\n", "missing key 'hash'"},
    {"version = 1\nmaster = {A}\nhash = {C}\n", "missing key 'mac'"},
    {"master = {A}\nmac = {B}\nhash = {C}\n", "missing 'version'"},
    {"version = 2\nmaster = {A}\nmac = {B}\nhash = {C}\n", "unsupported key file version"},
    {"version = 01x\nmaster = {A}\nmac = {B}\nhash = {C}\n", "unsupported key file version"},
    {"version = \nmaster = {A}\nmac = {B}\nhash = {C}\n", "unsupported key file version"},
    {"version = 1\nmaster = {A}0\nmac = {B}\nhash = {C}\n", ":2: malformed 'master'"},
    {"version = 1\nmaster = {A}\nmac = 0{B}\nhash = {C}\n", ":3: malformed 'mac'"},
    {"version = 1\nmaster = {A}\nmac = {B}\nhash = {C:63}\n", ":4: malformed 'hash'"},
    {"version = 1\nmaster = {A:62}\nmac = {B}\nhash = {C}\n", "malformed 'master'"},
    {"version = 1\nmaster = {A:63}g\nmac = {B}\nhash = {C}\n", "malformed 'master'"},
    {"version = 1\nmaster = 0x{A:62}\nmac = {B}\nhash = {C}\n", "malformed 'master'"},
    {"version = 1\nmaster = {A:31} {A:32}\nmac = {B}\nhash = {C}\n", "malformed 'master'"},
    {"version = 1\nmaster =\nmac = {B}\nhash = {C}\n", "malformed 'master'"},
    {"version = 1\nmaster = {A}\nmac = {B}\nhash = {C}\nmaster = {A}\n", "field given twice"},
    {"version = 1\nversion = 1\nmaster = {A}\nmac = {B}\nhash = {C}\n", "field given twice"},
    {"version = 1\nmaster = {A}\nmac = {B}\nhash = {C}\nsalt = {A}\n", ":5: unknown field"},
    {"version = 1\nMaster = {A}\nmac = {B}\nhash = {C}\n", "unknown field"},
    {"version = 1\nmaster {A}\nmac = {B}\nhash = {C}\n", ":2: expected 'name = value'"},
    {"version = 1\nmaster = "
     "0000000000000000000000000000000000000000000000000000000000000000\nmac = {B}\nhash = {C}\n",
     "all zeros"},
};

/* Expands the placeholders of a bad_case template into out. */
static void expand(const char *tpl, char *out, size_t cap)
{
	size_t n = 0;
	while (*tpl) {
		const char *hex = NULL;
		size_t take = 64;
		if (tpl[0] == '{' && (tpl[1] == 'A' || tpl[1] == 'B' || tpl[1] == 'C')) {
			hex = tpl[1] == 'A' ? HEX_A : tpl[1] == 'B' ? HEX_B : HEX_C;
			tpl += 2;
			if (*tpl == ':') {
				take = 0;
				for (tpl++; *tpl >= '0' && *tpl <= '9'; tpl++)
					take = take * 10 + (size_t)(*tpl - '0');
			}
			assert_int_equal(*tpl, '}');
			tpl++;
			assert_true(n + take < cap);
			memcpy(out + n, hex, take);
			n += take;
		} else {
			assert_true(n + 1 < cap);
			out[n++] = *tpl++;
		}
	}
	out[n] = '\0';
}

static void test_malformed_refused(void **state)
{
	struct fixture *f = *state;
	struct keys l, before;
	struct buf err;
	char text[1024];

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		expand(bad_cases[i].text, text, sizeof(text));
		put_text(f->path, text);
		buf_init(&err, 1024);
		memset(&l, 0x5a, sizeof(l));
		before = l;
		if (keys_load(&l, f->path, &err) != -1)
			fail_msg("case %zu loaded", i);
		assert_memory_equal(&l, &before, sizeof(l));
		if (strstr(buf_cstr(&err), bad_cases[i].expect) == NULL)
			fail_msg("case %zu: message '%s' lacks '%s'", i, buf_cstr(&err),
				 bad_cases[i].expect);
		/* Never a key, or part of one, in the message. */
		assert_null(strstr(buf_cstr(&err), "0102030405"));
		assert_null(strstr(buf_cstr(&err), "2122232425"));
		buf_free(&err);
	}
}

static void test_nul_and_huge(void **state)
{
	struct fixture *f = *state;
	struct keys l;
	struct buf err;
	char text[1024];

	/* A NUL inside a key. */
	int n = snprintf(text, sizeof(text), "version = 1\nmaster = %s\nmac = %s\nhash = %s\n",
			 HEX_A, HEX_B, HEX_C);
	assert_true(n > 0);
	text[30] = '\0';
	put_file(f->path, text, (size_t)n, 0600);
	buf_init(&err, 1024);
	assert_int_equal(keys_load(&l, f->path, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "malformed 'master'"));
	buf_free(&err);

	/* Far larger than any key file. */
	size_t big = 64 * 1024;
	char *huge = malloc(big);
	assert_non_null(huge);
	memset(huge, '#', big);
	put_file(f->path, huge, big, 0600);
	free(huge);
	buf_init(&err, 1024);
	assert_int_equal(keys_load(&l, f->path, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "too large"));
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_write_then_load, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_generate_differs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_refuses_overwrite, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_refuses_symlink, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_bad_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_loose_modes_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_good_variants, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nul_and_huge, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
