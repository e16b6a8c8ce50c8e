/*
 * hash.c - keyed address hash, ledger chain hash, constant-time comparison
 * and strict hex.
 *
 *   addr_hash        keyed BLAKE2b-256 (key = the hash key) of an address
 *   secret_hash      keyed BLAKE2b-256 (key = the MAC key) of a session or API secret
 *   chain_hash_*     incremental unkeyed BLAKE2b-256 for the consent ledger
 *   secret_eq        constant-time equality (sodium_memcmp)
 *   hex_encode/decode  lower-case out; in: exactly 2*len hex digits, nothing else
 *
 * TRUST: addr_hash and chain_hash see untrusted bytes but only hash them;
 * the caller bounds their length (core/limits.h). hex_decode sees operator
 * and store input: it accepts exactly 2*len hex digits (either case) and
 * nothing else — no white space, no "0x", no trailing bytes — and never
 * relies on a NUL. Its output is zeroed on failure.
 */
#include "crypto/hash.h"

#include <sodium.h>
#include <string.h>

/* The opaque state in hash.h must hold libsodium's. crypto_generichash_statebytes()
 * is a function, so the check is made on the type instead. */
_Static_assert(sizeof(crypto_generichash_state) <= sizeof(((struct chain_hash *)0)->state),
	       "struct chain_hash too small for crypto_generichash_state");
_Static_assert(_Alignof(crypto_generichash_state) <= 64,
	       "struct chain_hash under-aligned for crypto_generichash_state");
_Static_assert(HASH_LEN == crypto_generichash_BYTES, "HASH_LEN is BLAKE2b-256");
_Static_assert(KEYS_LEN >= crypto_generichash_KEYBYTES_MIN &&
		   KEYS_LEN <= crypto_generichash_KEYBYTES_MAX,
	       "hash key length out of BLAKE2b range");

static crypto_generichash_state *chain_state(struct chain_hash *h)
{
	return (crypto_generichash_state *)(void *)h->state;
}

void addr_hash(const struct keys *k, const char *addr, size_t len, uint8_t out[HASH_LEN])
{
	crypto_generichash(out, HASH_LEN, (const unsigned char *)addr, len, k->hash, KEYS_LEN);
}

void secret_hash(const struct keys *k, const char *label, const void *p, size_t len,
		 uint8_t out[HASH_LEN])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, k->mac, KEYS_LEN, HASH_LEN);
	crypto_generichash_update(&st, (const unsigned char *)label, strlen(label) + 1);
	crypto_generichash_update(&st, p, len);
	crypto_generichash_final(&st, out, HASH_LEN);
	sodium_memzero(&st, sizeof(st));
}

void chain_hash_init(struct chain_hash *h)
{
	crypto_generichash_init(chain_state(h), NULL, 0, HASH_LEN);
}

void chain_hash_update(struct chain_hash *h, const void *p, size_t len)
{
	if (len == 0)
		return;
	crypto_generichash_update(chain_state(h), p, len);
}

void chain_hash_u64(struct chain_hash *h, uint64_t v)
{
	uint8_t be[8];
	for (int i = 7; i >= 0; i--) {
		be[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
	chain_hash_update(h, be, sizeof(be));
}

void chain_hash_bytes(struct chain_hash *h, const void *p, size_t len)
{
	chain_hash_u64(h, (uint64_t)len);
	chain_hash_update(h, p, len);
}

void chain_hash_final(struct chain_hash *h, uint8_t out[HASH_LEN])
{
	crypto_generichash_final(chain_state(h), out, HASH_LEN);
	sodium_memzero(h->state, sizeof(h->state));
}

int secret_eq(const void *a, const void *b, size_t len)
{
	if (len == 0)
		return 1;
	return sodium_memcmp(a, b, len) == 0;
}

void hex_encode(const uint8_t *p, size_t len, char *out)
{
	sodium_bin2hex(out, 2 * len + 1, p, len);
}

int hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t len)
{
	size_t bin_len = 0;
	const char *end = NULL;

	if (len > SIZE_MAX / 2 || hexlen != 2 * len)
		goto fail;
	if (len == 0)
		return 0;
	/* No ignore set: the first non-hex byte stops the decoder, and the
	 * end pointer and length checks turn that into a failure. */
	if (sodium_hex2bin(out, len, hex, hexlen, NULL, &bin_len, &end) != 0 || bin_len != len ||
	    end != hex + hexlen)
		goto fail;
	return 0;
fail:
	if (len)
		sodium_memzero(out, len);
	return -1;
}
