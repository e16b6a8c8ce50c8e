/*
 * spool_queue.h - what the spool's committer and worker need from the place
 * where spooled rows live (internal to src/intake): a struct of function
 * pointers, as the relay's and the store's backends (STYLE.md sections 2
 * and 10). About a dozen operations, none of which names a file, a sync or
 * a checkpoint: those belong inside a backend.
 *
 *   spool_queue_sqlite   the spool file of its own (store_spool_open) beside
 *                        the database, two files: handled markers in the
 *                        database, deletions grouped after a sync of it
 *                        (spool_sqlite.c)
 *
 * A PostgreSQL store would keep the rows in a table of the database itself:
 * put is an INSERT committed, claim deletes the row inside the handling's
 * transaction (STORE_EXISTS when it is gone: handled already), and start,
 * group_begin, group_end, handled and tidy have nothing to do.
 *
 * The worker's protocol (spool_worker.c), per row: get, attempt (or set for
 * a row tried before) committed before the handling; then, in one
 * transaction of the database, claim and the handling; after its commit,
 * handled. A group's transaction is opened and closed with group_begin and
 * group_end. A temporary failure sets the row back (set); a row tried too
 * often is set aside (set, quarantined, inside the database's transaction
 * that counts it). Return values are STORE_* codes.
 */
#ifndef LK_INTAKE_SPOOL_QUEUE_H
#define LK_INTAKE_SPOOL_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct spool_queue;

/* When the worker tidies up (tidy): after a pass that handled rows (busy)
 * or found nothing new (empty); before it sleeps, woken by new mail
 * (kicked) or not for a while (quiet); when the spool stops (final). */
enum spool_tidy {
	SPOOL_TIDY_BUSY,
	SPOOL_TIDY_EMPTY,
	SPOOL_TIDY_KICKED,
	SPOOL_TIDY_QUIET,
	SPOOL_TIDY_FINAL,
};

struct spool_queue_ops {
	const char *name;
	/* The committer: inserts the n rows (ids set) in one transaction,
	 * durable when it returns STORE_OK (the sessions answer 250 then). */
	int (*put)(struct spool_queue *q, struct spool_rec *const *r, size_t n);
	/* The worker, before its first pass: clears what an earlier run left
	 * half done. The number of things cleared (>= 0), or < 0. */
	long (*start)(struct spool_queue *q);
	/* Pending rows (not quarantined, updated <= due) with id > after, in id
	 * order, at most limit looked at, as store_spool_each (cb returns
	 * nonzero to stop); rows handled and awaiting their removal are looked
	 * at but not handed to cb. *seen: the rows looked at, *last: the last
	 * one's id (to page on). */
	int (*due)(struct spool_queue *q, int64_t after, int64_t due, int limit,
		   int (*cb)(void *ctx, const struct spool_rec *r), void *ctx, int *seen,
		   int64_t *last);
	int (*get)(struct spool_queue *q, int64_t id, struct spool_rec *out);
	/* One attempt counted (attempts 1, updated now) for each of n fresh rows,
	 * committed before they are handled. */
	int (*attempt)(struct spool_queue *q, const int64_t *ids, int n, int64_t now);
	/* A row's attempts, quarantine time and next time, committed. */
	int (*set)(struct spool_queue *q, int64_t id, int attempts, int64_t quarantined,
		   int64_t updated);
	/* Inside a transaction of the database that handles a group, before
	 * its claims; group_end after it, committed or not. */
	int (*group_begin)(struct spool_queue *q);
	void (*group_end)(struct spool_queue *q, int committed);
	/* Inside the handling's transaction of the database: takes row r so
	 * that it is handled once. STORE_EXISTS: handled already. */
	int (*claim)(struct spool_queue *q, const struct spool_rec *r);
	/* Row id is done with (handled and committed, or not to be kept). */
	void (*handled)(struct spool_queue *q, int64_t id);
	/* The backend's housekeeping, at the moments of enum spool_tidy. */
	int (*tidy)(struct spool_queue *q, enum spool_tidy when);
	const char *(*errmsg)(struct spool_queue *q);
	void (*free)(struct spool_queue *q);
};

extern const struct spool_queue_ops spool_queue_sqlite;

/* The SQLite spool: sq the worker's connection to the spool file, cq the
 * committer's (NULL when there is none: `inject`, which puts and handles
 * alone), db the database that the handling writes (markers). The stores
 * stay the caller's. */
struct spool_queue *spool_sqlite_new(struct store *sq, struct store *cq, struct store *db);

#endif
