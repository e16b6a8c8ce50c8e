/*
 * pii.h - personal data encryption (DESIGN.md section 5, crypto-shredding).
 *
 * Each subscriber has a random 32-byte data key. The data key is stored only
 * wrapped by the master key; personal data is sealed with the data key.
 * Deleting the wrapped key makes every sealed blob of that subscriber in the
 * store and its WAL unreadable, and the ledger copies that stay behind. A
 * database backup taken before the erasure still holds the wrapped key:
 * keep backups short-lived, or back the key file up apart and rotate it.
 *
 * Algorithm: XChaCha20-Poly1305 (IETF) from libsodium; a fresh random 24-byte
 * nonce per seal, stored in front of the ciphertext:
 *     sealed = nonce(24) || ciphertext || tag(16)
 * The associated data binds a blob to its purpose and owner (e.g.
 * "sub:42" or "ledger:42"), so that a blob moved to another row fails to open.
 *
 * TRUST: pii_open sees bytes from the store, which may be corrupt: it checks
 * lengths and the tag and fails cleanly.
 */
#ifndef LK_CRYPTO_PII_H
#define LK_CRYPTO_PII_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "crypto/keys.h"

#define PII_KEY_LEN 32
#define PII_NONCE_LEN 24
#define PII_TAG_LEN 16
#define PII_OVERHEAD (PII_NONCE_LEN + PII_TAG_LEN)
#define PII_WRAPPED_LEN (PII_KEY_LEN + PII_OVERHEAD) /* 72 bytes */

/* A fresh random data key. */
void pii_key_new(uint8_t key[PII_KEY_LEN]);
/* Wraps a data key with the master key; out holds PII_WRAPPED_LEN bytes. */
void pii_key_wrap(const struct keys *k, const uint8_t key[PII_KEY_LEN],
		  uint8_t out[PII_WRAPPED_LEN]);
/* Unwraps; returns 0, or -1 if the length or tag is wrong. */
int pii_key_unwrap(const struct keys *k, const uint8_t *wrapped, size_t wrapped_len,
		   uint8_t key[PII_KEY_LEN]);

/* Seals len bytes of plain under key with associated data ad; appends
 * nonce||ct||tag to out. Returns 0, or -1 if out's maximum would be passed. */
int pii_seal(const uint8_t key[PII_KEY_LEN], const char *ad, const void *plain, size_t len,
	     struct buf *out);
/* Opens a sealed blob; appends the plaintext to out. Returns 0, or -1 if the
 * blob is too short, was altered, or belongs to another ad/key. */
int pii_open(const uint8_t key[PII_KEY_LEN], const char *ad, const void *sealed, size_t len,
	     struct buf *out);

/* The codec of a blob under its own data key, in one place (spool rows,
 * sealed job recipients, a new subscriber's data and details):
 *
 * pii_seal_fresh makes a fresh data key, wraps it with the master key into
 * wrapped, seals each of the n parts (plain, len, under its ad) with it,
 * appending to its out, and wipes the key. Returns 0, or -1 when an out's
 * maximum would be passed (the outs appended before keep their blobs; the
 * caller discards them). */
struct pii_part {
	const char *ad;
	const void *plain;
	size_t len;
	struct buf *out;
};
int pii_seal_fresh(const struct keys *k, uint8_t wrapped[PII_WRAPPED_LEN],
		   const struct pii_part *parts, size_t n);
/* Opens a blob sealed by pii_seal_fresh: unwraps its key (wrapped_len bytes
 * at wrapped), opens the blob under ad appending the plain text to out, and
 * wipes the key. 0, or -1 (a wrong or altered key or blob; out as it was). */
int pii_open_wrapped(const struct keys *k, const uint8_t *wrapped, size_t wrapped_len,
		     const char *ad, const void *sealed, size_t len, struct buf *out);

#endif
