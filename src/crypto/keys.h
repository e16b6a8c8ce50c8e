/*
 * keys.h - the key file: master key, MAC key, hash key.
 *
 * The key file is written once by `listkeeper init` with mode 0600. Loading
 * refuses a file that the group or others may read or write, with a message
 * that says how to fix it (chmod 600). The file format is a small text file:
 *
 *     # listkeeper key file: keep secret, back up apart from the database
 *     version = 1
 *     master = <64 hex>
 *     mac = <64 hex>
 *     hash = <64 hex>
 *
 * TRUST: the file is operator input; every line is length-checked.
 */
#ifndef LK_CRYPTO_KEYS_H
#define LK_CRYPTO_KEYS_H

#include <stdint.h>

#include "core/buf.h"

#define KEYS_LEN 32

struct keys {
	uint8_t master[KEYS_LEN]; /* wraps per-subscriber data keys */
	uint8_t mac[KEYS_LEN];	  /* authenticates tokens */
	uint8_t hash[KEYS_LEN];	  /* keys the address hash (look-ups, suppressions, ledger) */
};

/* Initialises libsodium; call once before anything else in crypto/. Returns 0 or -1. */
int crypto_init(void);

/* Fills k with fresh random keys. */
void keys_generate(struct keys *k);
/* Writes k to path with mode 0600, refusing to overwrite an existing file
 * (O_EXCL). Returns 0, or -1 with a message in err. */
int keys_write(const struct keys *k, const char *path, struct buf *err);
/* Loads path into k. Refuses (-1, message in err) a file with any group or
 * other permission bit, a missing or malformed key, or an unknown version. */
int keys_load(struct keys *k, const char *path, struct buf *err);
/* Zeroes k. */
void keys_wipe(struct keys *k);

#endif
