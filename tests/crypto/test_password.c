/*
 * test_password.c - Argon2id password hashes: verify, refuse, bounds, and
 * when to hash again. Each hash costs 64 MiB and a fraction of a second, so
 * the cases share hashes where they can.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "crypto/keys.h"
#include "crypto/password.h"

static int setup(void **state)
{
	(void)state;
	return crypto_init();
}

static void test_hash_and_verify(void **state)
{
	(void)state;
	char h[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];

	assert_int_equal(password_hash("correct horse", 13, h), 0);
	assert_non_null(memchr(h, '\0', sizeof(h)));
	assert_memory_equal(h, "$argon2id$v=19$", 15);
	assert_int_equal(password_verify(h, "correct horse", 13), 1);
	assert_int_equal(password_verify(h, "correct horsf", 13), 0);
	assert_int_equal(password_verify(h, "correct hors", 12), 0);
	assert_int_equal(password_verify(h, "correct horse ", 14), 0);
	assert_int_equal(password_verify(h, "Correct horse", 13), 0);
	assert_int_equal(password_verify(h, "", 0), 0);
	/* Only len bytes count. */
	assert_int_equal(password_verify(h, "correct horse battery", 13), 1);
	assert_int_equal(password_needs_rehash(h), 0);

	/* A fresh salt every time. */
	assert_int_equal(password_hash("correct horse", 13, h2), 0);
	assert_string_not_equal(h, h2);
	assert_int_equal(password_verify(h2, "correct horse", 13), 1);

	/* Bytes after a NUL are part of the password. */
	assert_int_equal(password_hash("a\0b", 3, h), 0);
	assert_int_equal(password_verify(h, "a\0b", 3), 1);
	assert_int_equal(password_verify(h, "a\0c", 3), 0);
	assert_int_equal(password_verify(h, "a", 1), 0);
}

static void test_bounds(void **state)
{
	(void)state;
	char h[PASSWORD_HASH_MAX];
	char *big = malloc(LK_MAX_PASSWORD + 1);
	assert_non_null(big);
	memset(big, 'p', LK_MAX_PASSWORD + 1);

	memset(h, 'x', sizeof(h));
	assert_int_equal(password_hash(big, LK_MAX_PASSWORD + 1, h), -1);
	assert_int_equal(h[0], '\0');
	assert_int_equal(password_hash(big, LK_MAX_PASSWORD, h), 0);
	assert_int_equal(password_verify(h, big, LK_MAX_PASSWORD), 1);
	/* Too long to be checked at all, even if the prefix matches. */
	assert_int_equal(password_verify(h, big, LK_MAX_PASSWORD + 1), 0);
	free(big);

	/* The empty password hashes and verifies (refusing it is policy, above us). */
	assert_int_equal(password_hash("", 0, h), 0);
	assert_int_equal(password_verify(h, "", 0), 1);
	assert_int_equal(password_verify(h, "x", 1), 0);
}

static void test_malformed_stored(void **state)
{
	(void)state;
	char h[PASSWORD_HASH_MAX], bad[PASSWORD_HASH_MAX + 8];

	assert_int_equal(password_hash("pw", 2, h), 0);
	static const char *const junk[] = {
	    "",
	    "$argon2id$",
	    "$argon2id$v=19$m=65536,t=2,p=1$",
	    "plaintext-pw",
	    "$2y$10$abcdefghijklmnopqrstuv",
	    "pw",
	};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		assert_int_equal(password_verify(junk[i], "pw", 2), 0);
		assert_int_equal(password_needs_rehash(junk[i]), 1);
	}
	assert_int_equal(password_verify(NULL, "pw", 2), 0);
	assert_int_equal(password_needs_rehash(NULL), 1);

	/* A stored value cut short, or one character altered. */
	memcpy(bad, h, sizeof(h));
	bad[strlen(bad) - 1] = '\0';
	assert_int_equal(password_verify(bad, "pw", 2), 0);
	memcpy(bad, h, sizeof(h));
	size_t n = strlen(bad);
	bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A';
	assert_int_equal(password_verify(bad, "pw", 2), 0);

	/* No NUL within PASSWORD_HASH_MAX bytes: refused without reading past it. */
	memset(bad, 'a', sizeof(bad));
	memcpy(bad, h, strlen(h));
	bad[sizeof(bad) - 1] = '\0';
	assert_int_equal(password_verify(bad, "pw", 2), 0);
	assert_int_equal(password_needs_rehash(bad), 1);
}

static void test_needs_rehash(void **state)
{
	(void)state;
	char weak[crypto_pwhash_STRBYTES], old_alg[crypto_pwhash_STRBYTES];

	/* Weaker parameters than today's. */
	assert_int_equal(crypto_pwhash_str_alg(weak, "pw", 2, crypto_pwhash_OPSLIMIT_MIN,
					       crypto_pwhash_MEMLIMIT_MIN,
					       crypto_pwhash_ALG_ARGON2ID13),
			 0);
	assert_int_equal(password_verify(weak, "pw", 2), 1);
	assert_int_equal(password_needs_rehash(weak), 1);

	/* Argon2i, not Argon2id. */
	assert_int_equal(crypto_pwhash_str_alg(old_alg, "pw", 2,
					       crypto_pwhash_argon2i_OPSLIMIT_INTERACTIVE,
					       crypto_pwhash_argon2i_MEMLIMIT_INTERACTIVE,
					       crypto_pwhash_ALG_ARGON2I13),
			 0);
	assert_int_equal(password_verify(old_alg, "pw", 2), 1);
	assert_int_equal(password_needs_rehash(old_alg), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash_and_verify),
	    cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_malformed_stored),
	    cmocka_unit_test(test_needs_rehash),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
