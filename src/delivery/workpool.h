/*
 * workpool.h - a fixed set of threads that run one function over the items
 * of a batch (the engine's composition and DKIM signing, DESIGN.md section
 * 5: signing on every core).
 *
 *   workpool_new    starts n threads, each with its index 0..n-1
 *   workpool_post   hands one item (a number the caller gives meaning to)
 *                   to the next free thread; the caller goes on at once
 *   workpool_wait   returns when every posted item is done
 *   workpool_free   stops and joins the threads
 *
 * The caller posts while it still gathers the rest of the batch (from the
 * store, on its own thread), so that gathering and composing overlap, then
 * waits once. One thread owns a pool (posts and waits); fn runs on the pool's
 * threads, worker says which (for per-thread state such as a DKIM signer).
 * A mutex and two condition variables, no spinning.
 *
 * TRUST: none; items are the caller's.
 */
#ifndef LK_DELIVERY_WORKPOOL_H
#define LK_DELIVERY_WORKPOOL_H

#include <stddef.h>

struct workpool;

typedef void workpool_fn(void *ctx, size_t worker, size_t item);

/* n >= 1 threads; at most cap items posted between two waits. Aborts when a
 * thread cannot be started (as out of memory does). */
struct workpool *workpool_new(size_t n, size_t cap, workpool_fn *fn, void *ctx);
/* Stops the threads after the posted items are done; NULL does nothing. */
void workpool_free(struct workpool *p);
size_t workpool_threads(const struct workpool *p);
void workpool_post(struct workpool *p, size_t item);
void workpool_wait(struct workpool *p);

#endif
