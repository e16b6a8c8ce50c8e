/*
 * engine.h - the delivery engine: turns jobs into one message per recipient
 * and hands them to the relay (DESIGN.md sections 2 and 5).
 *
 * One step takes the next runnable job and one batch of it: due retries
 * first, then recipients after the job's cursor, at most relay_batch_max()
 * of them (connections x pipeline). It composes each message, signs it when
 * DKIM is configured, sends the batch, and commits the outcome and the new
 * cursor in one transaction. So after a crash at any moment nobody is missed
 * and at most one batch, the messages in flight, is sent twice.
 *
 * Outcomes: 2xx sent; 4xx, timeouts and lost connections defer the recipient
 * (job_retries, exponential backoff from [delivery] retry_base_seconds; after
 * retry_max_hours it fails); 5xx fails at once and counts a hard bounce. When
 * the relay cannot be reached at all the job is paused with that reason and
 * resumes by itself after a backoff (30 s, or [delivery] retry_base_seconds
 * when that is less, doubling up to 10 min).
 *
 * Personal data is decrypted for composition only and wiped after the batch.
 */
#ifndef LK_DELIVERY_ENGINE_H
#define LK_DELIVERY_ENGINE_H

#include <stdint.h>

#include "core/buf.h"
#include "core/conf.h"
#include "crypto/keys.h"
#include "store/store.h"

struct engine;

/* Opens the relay and the DKIM signer (if configured). The store and keys
 * must outlive the engine. NULL with the reason in err. */
struct engine *engine_new(const struct conf *c, struct store *st, const struct keys *k,
			  struct buf *err);
void engine_free(struct engine *e);

/* One step of the next runnable job, or of job `only` when non-zero.
 * Returns 1 when it did some work, 0 when nothing is due now (then
 * *wait_until, if not NULL, says when something will be), -1 on a store
 * error (reason in err). */
int engine_step(struct engine *e, int64_t only, int64_t *wait_until, struct buf *err);

#endif
