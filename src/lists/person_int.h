/*
 * person_int.h - internals shared by the person files (person.c: the
 * subscriber lifecycle and the consent ledger; person_export.c: reading a
 * person back, the export). Nothing outside src/lists includes this header.
 */
#ifndef LK_LISTS_PERSON_INT_H
#define LK_LISTS_PERSON_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "crypto/pii.h"
#include "lists/lists.h"

/* The associated data of a subscriber's sealed personal data and of a
 * ledger event's sealed details. */
#define AD_DATA "listkeeper-subscriber-v1"
#define AD_LEDGER "listkeeper-ledger-details-v1"

/* Puts the store's error in err unless err says something already; returns
 * STORE_BUSY when r is (the store stayed locked: try again), else STORE_ERR. */
int person_fail_store(struct lists_ctx *x, int r, struct buf *err);
/* Unwraps r's data key into key; -1 if it does not open. */
int person_data_key(struct lists_ctx *x, const struct subscriber_rec *r, uint8_t key[PII_KEY_LEN]);
/* Loads the subscriber and unwraps the data key. */
int person_load_with_key(struct lists_ctx *x, int64_t id, struct subscriber_rec *who,
			 uint8_t key[PII_KEY_LEN], struct buf *err);

#endif
