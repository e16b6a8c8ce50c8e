/*
 * held.h - the moderation queue: posts to discussion lists held for the
 * moderators, sealed like everything personal (DESIGN.md section 5).
 *
 *   held_put           seals the sender's address and the message together
 *                      under a fresh data key (crypto/pii.h), wrapped by the
 *                      master key, in a row with the reason, our detail, the
 *                      sender's keyed hash and an expiry
 *   held_open          the sender and the message of a held post
 *   held_expire        deletes the posts past their expiry, with their data
 *
 * A person's held posts go with their erasure (lists_erase, person.c).
 *
 * TRUST: the message is untrusted bytes, stored as they came (sealed); the
 * reason and detail are ours. Logs name a held post by its id.
 */
#ifndef LK_LISTS_HELD_H
#define LK_LISTS_HELD_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "lists/lists.h"

/* Holds msg (len bytes, at most LK_MAX_MESSAGE) from sender (normalised;
 * its look-up form key gives the keyed hash) for list_id, for days days
 * from now. reason: the hold reason's name; detail: our words or "". In
 * the caller's transaction if one is open. *id is set. STORE_OK, or a
 * store error (reason in err). */
int held_put(struct lists_ctx *x, int64_t list_id, const char *reason, const char *detail,
	     const char *sender, const char *sender_key, const char *msg, size_t len, int days,
	     int64_t *id, struct buf *err);

/* Opens r (read with store_held_get): the sender's address into sender,
 * the message into msg. 0, or -1 when the blob does not open (a wrong key,
 * an altered row). */
int held_open(const struct keys *k, const struct held_rec *r, struct buf *sender, struct buf *msg);

/* Deletes every post whose expiry has come (its own transaction); *n how
 * many. STORE_OK or a store error. */
int held_expire(struct lists_ctx *x, int64_t *n, struct buf *err);

#endif
