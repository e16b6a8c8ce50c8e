/*
 * pii.c - sealing personal data: per-subscriber data keys wrapped by the
 * master key, blobs sealed with XChaCha20-Poly1305 (IETF), layout
 * nonce(24) || ciphertext || tag(16) (pii.h).
 *
 *   pii_key_new / pii_key_wrap / pii_key_unwrap   the data key
 *   pii_seal / pii_open                           a blob, bound to its ad string
 *   pii_seal_fresh / pii_open_wrapped             the blob codec: new key, wrap,
 *                                                 seal, wipe (and back)
 *
 * A wrapped key is sealed like any blob, with the fixed associated data
 * WRAP_AD, so a wrapped key can never be opened as personal data nor a
 * blob as a key.
 *
 * TRUST: pii_open and pii_key_unwrap see bytes from the store, which may be
 * corrupt or planted. Lengths are checked before anything is touched and
 * the room in `out` before anything is appended; the tag is verified before
 * any plaintext is produced. On failure `out` is exactly as it was. Plain
 * text is written straight into the caller's buffer (no extra heap copy)
 * and local key copies are wiped with sodium_memzero.
 */
#include "crypto/pii.h"

#include "crypto/rand.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(PII_KEY_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key length");
_Static_assert(PII_NONCE_LEN == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce length");
_Static_assert(PII_TAG_LEN == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag length");
_Static_assert(KEYS_LEN == PII_KEY_LEN, "the master key wraps with the same cipher");

static const char WRAP_AD[] = "listkeeper:data-key:v1";

void pii_key_new(uint8_t key[PII_KEY_LEN])
{
	rand_bytes(key, PII_KEY_LEN);
}

/* Is there room in out for n more bytes? Sets the sticky error if not. */
static int room(struct buf *out, size_t n)
{
	if (out->len > out->max || n > out->max - out->len) {
		out->err = 1;
		return -1;
	}
	return 0;
}

static void seal_into(const uint8_t key[PII_KEY_LEN], const unsigned char *ad, size_t adlen,
		      const void *plain, size_t len, uint8_t *dst)
{
	uint8_t *nonce = dst, *ct = dst + PII_NONCE_LEN, *tag = ct + len;
	rand_bytes(nonce, PII_NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt_detached(ct, tag, NULL, plain, len, ad, adlen,
							    NULL, nonce, key);
}

void pii_key_wrap(const struct keys *k, const uint8_t key[PII_KEY_LEN],
		  uint8_t out[PII_WRAPPED_LEN])
{
	seal_into(k->master, (const unsigned char *)WRAP_AD, sizeof(WRAP_AD) - 1, key, PII_KEY_LEN,
		  out);
}

int pii_key_unwrap(const struct keys *k, const uint8_t *wrapped, size_t wrapped_len,
		   uint8_t key[PII_KEY_LEN])
{
	uint8_t tmp[PII_KEY_LEN];
	if (wrapped == NULL || wrapped_len != PII_WRAPPED_LEN)
		return -1;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
		tmp, NULL, wrapped + PII_NONCE_LEN, PII_KEY_LEN,
		wrapped + PII_NONCE_LEN + PII_KEY_LEN, (const unsigned char *)WRAP_AD,
		sizeof(WRAP_AD) - 1, wrapped, k->master) != 0) {
		sodium_memzero(tmp, sizeof(tmp));
		return -1;
	}
	memcpy(key, tmp, PII_KEY_LEN);
	sodium_memzero(tmp, sizeof(tmp));
	return 0;
}

int pii_seal(const uint8_t key[PII_KEY_LEN], const char *ad, const void *plain, size_t len,
	     struct buf *out)
{
	if (ad == NULL)
		abort(); /* a bug: every blob names its owner */
	if (len > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX ||
	    len > SIZE_MAX - PII_OVERHEAD || room(out, len + PII_OVERHEAD) < 0)
		return -1;

	/* Reserve nonce||plain||tag in out, then encrypt in place (libsodium
	 * allows m == c). The copy of plain is overwritten at once. */
	size_t start = out->len;
	uint8_t zero[PII_NONCE_LEN] = {0}; /* placeholder for the nonce and the tag */
	_Static_assert(PII_NONCE_LEN >= PII_TAG_LEN, "placeholder size");
	if (buf_append(out, zero, PII_NONCE_LEN) < 0 || buf_append(out, plain, len) < 0 ||
	    buf_append(out, zero, PII_TAG_LEN) < 0) {
		buf_truncate(out, start); /* not reached: room() checked */
		return -1;
	}
	uint8_t *dst = (uint8_t *)out->data + start;
	seal_into(key, (const unsigned char *)ad, strlen(ad), dst + PII_NONCE_LEN, len, dst);
	return 0;
}

int pii_open(const uint8_t key[PII_KEY_LEN], const char *ad, const void *sealed, size_t len,
	     struct buf *out)
{
	if (ad == NULL)
		abort(); /* a bug: every blob names its owner */
	if (sealed == NULL || len < PII_OVERHEAD)
		return -1;
	const uint8_t *nonce = sealed, *ct = nonce + PII_NONCE_LEN;
	size_t plen = len - PII_OVERHEAD;
	const uint8_t *tag = ct + plen;
	if (room(out, plen) < 0)
		return -1;

	/* Reserve plen bytes (filled with the ciphertext), then decrypt into
	 * them; on a bad tag libsodium writes nothing and we take them back. */
	size_t start = out->len;
	if (buf_append(out, ct, plen) < 0)
		return -1;
	uint8_t *dst = (uint8_t *)out->data + start;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
		dst, NULL, ct, plen, tag, (const unsigned char *)ad, strlen(ad), nonce, key) != 0) {
		buf_truncate(out, start);
		return -1;
	}
	return 0;
}

int pii_seal_fresh(const struct keys *k, uint8_t wrapped[PII_WRAPPED_LEN],
		   const struct pii_part *parts, size_t n)
{
	uint8_t key[PII_KEY_LEN];
	int rc = 0;
	pii_key_new(key);
	pii_key_wrap(k, key, wrapped);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = pii_seal(key, parts[i].ad, parts[i].plain, parts[i].len, parts[i].out);
	sodium_memzero(key, sizeof(key));
	return rc;
}

int pii_open_wrapped(const struct keys *k, const uint8_t *wrapped, size_t wrapped_len,
		     const char *ad, const void *sealed, size_t len, struct buf *out)
{
	uint8_t key[PII_KEY_LEN];
	int rc = pii_key_unwrap(k, wrapped, wrapped_len, key) == 0 &&
			 pii_open(key, ad, sealed, len, out) == 0
		     ? 0
		     : -1;
	sodium_memzero(key, sizeof(key));
	return rc;
}
