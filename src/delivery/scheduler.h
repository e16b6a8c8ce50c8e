/*
 * scheduler.h - the scheduler role of `listkeeper serve`: timed work, in a
 * thread with its own store connection (roles share nothing but the store).
 * Today one task: the owners' daily summary (lists/summary.h), queued once a
 * day from [summary] hour on; the delivery role sends it. It lives beside
 * the delivery role (role.h), as the web and intake roles live in their
 * layers: a role of serve, started by cli/cmd_serve.c.
 */
#ifndef LK_DELIVERY_SCHEDULER_H
#define LK_DELIVERY_SCHEDULER_H

#include "core/buf.h"
#include "core/conf.h"
#include "crypto/keys.h"

struct scheduler;

/* NULL with the reason in err (the store does not open). */
struct scheduler *scheduler_start(const struct conf *c, const struct keys *k, struct buf *err);
/* Stops after the task in flight and frees. NULL is a no-op. */
void scheduler_stop(struct scheduler *s);

#endif
