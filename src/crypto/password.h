/*
 * password.h - Argon2id password hashing for admin accounts.
 *
 * Stored as libsodium's crypto_pwhash_str string (it carries the algorithm,
 * parameters and salt). Verification is constant-time inside libsodium.
 */
#ifndef LK_CRYPTO_PASSWORD_H
#define LK_CRYPTO_PASSWORD_H

#include <stddef.h>

#define PASSWORD_HASH_MAX 128

/* Hashes pw (len bytes, at most LK_MAX_PASSWORD) into out (NUL-terminated).
 * Returns 0, or -1 if pw is too long or memory is short. */
int password_hash(const char *pw, size_t len, char out[PASSWORD_HASH_MAX]);
/* 1 if pw matches the stored hash, 0 if not or if the hash is malformed. */
int password_verify(const char *stored, const char *pw, size_t len);
/* 1 if the stored hash uses weaker parameters than today's and should be redone. */
int password_needs_rehash(const char *stored);

#endif
