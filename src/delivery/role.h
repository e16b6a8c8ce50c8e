/*
 * role.h - the delivery role of `listkeeper serve`: a thread that runs the
 * engine over every runnable job, with its own store connection (roles share
 * nothing but the store). It sleeps when nothing is due, never spins, and
 * stops at the end of the current batch.
 */
#ifndef LK_DELIVERY_ROLE_H
#define LK_DELIVERY_ROLE_H

#include "core/buf.h"
#include "core/conf.h"
#include "crypto/keys.h"

struct delivery_role;

/* NULL with the reason in err (store or relay configuration). */
struct delivery_role *delivery_role_start(const struct conf *c, const struct keys *k,
					  struct buf *err);
/* Stops after the batch in flight and frees. NULL is a no-op. */
void delivery_role_stop(struct delivery_role *d);

#endif
