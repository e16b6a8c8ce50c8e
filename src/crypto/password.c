/*
 * password.c - Argon2id password hashes for admin accounts (password.h).
 *
 *   password_hash           crypto_pwhash_str_alg, ARGON2ID13, INTERACTIVE limits
 *   password_verify         crypto_pwhash_str_verify (constant time inside libsodium)
 *   password_needs_rehash   crypto_pwhash_str_needs_rehash against today's limits
 *
 * TRUST: the password comes from a login form (untrusted, at most
 * LK_MAX_PASSWORD bytes, checked before hashing: Argon2 cost does not depend
 * on it, but nothing unbounded goes in). The stored string comes from the
 * store: it must be NUL-terminated within PASSWORD_HASH_MAX bytes, as
 * libsodium reads up to crypto_pwhash_STRBYTES; anything libsodium cannot
 * parse verifies as "no".
 */
#include "crypto/password.h"

#include <sodium.h>
#include <string.h>

#include "core/limits.h"

#define PW_OPSLIMIT crypto_pwhash_OPSLIMIT_INTERACTIVE
#define PW_MEMLIMIT crypto_pwhash_MEMLIMIT_INTERACTIVE
#define PW_ALG crypto_pwhash_ALG_ARGON2ID13

_Static_assert(crypto_pwhash_STRBYTES <= PASSWORD_HASH_MAX, "PASSWORD_HASH_MAX too small");

/* 1 if stored is a NUL-terminated string libsodium may read. */
static int stored_ok(const char *stored)
{
	return stored != NULL && strnlen(stored, PASSWORD_HASH_MAX) < PASSWORD_HASH_MAX;
}

int password_hash(const char *pw, size_t len, char out[PASSWORD_HASH_MAX])
{
	memset(out, 0, PASSWORD_HASH_MAX);
	if (len > LK_MAX_PASSWORD || (pw == NULL && len != 0))
		return -1;
	if (crypto_pwhash_str_alg(out, len ? pw : "", len, PW_OPSLIMIT, PW_MEMLIMIT, PW_ALG) != 0) {
		memset(out, 0, PASSWORD_HASH_MAX);
		return -1;
	}
	return 0;
}

int password_verify(const char *stored, const char *pw, size_t len)
{
	if (!stored_ok(stored) || len > LK_MAX_PASSWORD || (pw == NULL && len != 0))
		return 0;
	return crypto_pwhash_str_verify(stored, len ? pw : "", len) == 0;
}

/* libsodium answers 1 for different (weaker or stronger) parameters or
 * another algorithm (argon2i), -1 for a string it cannot parse; any answer
 * but "0, matches today's" means: hash again at the next login. */
int password_needs_rehash(const char *stored)
{
	if (!stored_ok(stored))
		return 1;
	return crypto_pwhash_str_needs_rehash(stored, PW_OPSLIMIT, PW_MEMLIMIT) != 0;
}
