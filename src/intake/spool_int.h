/*
 * spool_int.h - the parts of the intake spool (internal to src/intake; the
 * public side is spool.h):
 *
 *   spool.c         sealing a row (spool_seal, intake_spool_open) and the
 *                   intake role's spool: its worker thread and its start
 *                   and stop
 *   spool_commit.c  the committer: a thread that puts what all sessions
 *                   queued in one durable commit of the queue (group commit)
 *   spool_worker.c  the worker: handles the pending rows, crash-counted;
 *                   and `inject`
 *   spool_queue.h   the operations both need from where rows live, with the
 *                   SQLite backend in spool_sqlite.c
 */
#ifndef LK_INTAKE_SPOOL_INT_H
#define LK_INTAKE_SPOOL_INT_H

#include <stdatomic.h>

#include "intake/spool.h"
#include "intake/spool_queue.h"

/* Seals rcpt LF msg under a fresh key into r (r->data allocated: free with
 * spool_rec_free). STORE_OK, or STORE_ERR for a recipient that is empty,
 * too long or holds a LF, or a message over LK_MAX_MESSAGE. */
int spool_seal(const struct keys *keys, const char *rcpt, size_t rcpt_len, const char *msg,
	       size_t len, int64_t now, struct spool_rec *r);

/* The committer: a thread of its own. NULL when it cannot be started. */
struct spool_committer;
struct spool_committer *spool_committer_start(const struct spool_queue_ops *ops,
					      struct spool_queue *q);
/* Queues r for the next commit and waits for it: STORE_OK once it is
 * durable (r->id set), or the queue's error. Many callers share a commit. */
int spool_committer_put(struct spool_committer *c, struct spool_rec *r);
/* Commits what is queued, then stops the thread. NULL: no-op. */
void spool_committer_stop(struct spool_committer *c);

/* The worker's handling, on the caller's thread: the database st (the
 * mails it queues rendered from tmpl) and the queue stay the caller's. */
struct spool_worker;
struct spool_worker *spool_worker_new(const struct conf *conf, const struct keys *keys,
				      struct store *st, const struct tmpl_set *tmpl,
				      const struct spool_queue_ops *ops, struct spool_queue *q);
void spool_worker_free(struct spool_worker *w);
/* Before the first pass: the queue's start (stray markers swept), logged. */
void spool_worker_begin(struct spool_worker *w);
/* Handles the pending rows with updated <= due: fresh ones first, as a
 * group, then those tried before, one by one; then the queue tidies up
 * (busy or empty). The rows looked at (>= 0), or -1 on a store error. Stops
 * early when *stop is set. */
int spool_worker_drain(struct spool_worker *w, int64_t due, const atomic_int *stop);
/* The queue's housekeeping at another moment (kicked, quiet, final), its
 * failure logged. */
void spool_worker_tidy(struct spool_worker *w, enum spool_tidy when);

#endif
