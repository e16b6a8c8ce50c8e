/*
 * hash.h - keyed hashes.
 *
 * addr_hash: the keyed BLAKE2b-256 (libsodium crypto_generichash, key = the
 * hash key) of a normalised address. It is how the store finds a subscriber
 * and how suppressions outlive erasure: without the key file nobody can test
 * an address against it.
 *
 * chain_hash: incremental BLAKE2b-256 for the consent ledger's
 * prev_hash/hash chain; the ledger feeds the MAC key in first (store.h
 * ledger_rec_hash), so that the chain cannot be recomputed without the key file.
 */
#ifndef LK_CRYPTO_HASH_H
#define LK_CRYPTO_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/keys.h"

#define HASH_LEN 32

void addr_hash(const struct keys *k, const char *addr, size_t len, uint8_t out[HASH_LEN]);

/* The keyed BLAKE2b-256 (key = the MAC key) of a secret handed to a client
 * (a session cookie, an API token), under a label that keeps each use
 * apart: what the store keeps instead of the secret, so that a copy of the
 * database signs nobody in. */
void secret_hash(const struct keys *k, const char *label, const void *p, size_t len,
		 uint8_t out[HASH_LEN]);

/* Incremental unkeyed hash for the ledger chain. */
struct chain_hash {
	uint8_t state[384] __attribute__((aligned(64))); /* crypto_generichash_state */
};
void chain_hash_init(struct chain_hash *h);
void chain_hash_update(struct chain_hash *h, const void *p, size_t len);
/* Adds a 64-bit integer in a fixed (big-endian) encoding. */
void chain_hash_u64(struct chain_hash *h, uint64_t v);
/* Adds a length-prefixed byte string, so that field boundaries are unambiguous. */
void chain_hash_bytes(struct chain_hash *h, const void *p, size_t len);
void chain_hash_final(struct chain_hash *h, uint8_t out[HASH_LEN]);

/* Constant-time comparison of two secrets of equal length; 1 if equal. */
int secret_eq(const void *a, const void *b, size_t len);

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void hex_encode(const uint8_t *p, size_t len, char *out);
/* Decodes exactly 2*len hex characters; -1 on any other input. */
int hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t len);

#endif
