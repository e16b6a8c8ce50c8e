/*
 * writer.h - group commit for the web role's write transactions.
 *
 * One thread with its own store connection runs the write work of the web
 * workers: a worker hands it a function and waits; the thread takes every
 * job that is waiting, runs them one after the other inside one transaction
 * (BEGIN IMMEDIATE ... COMMIT, the store in batch mode) and wakes each worker
 * once that transaction is committed. So a worker still answers only after
 * its change is committed (the unsubscribe of P2, the erasure of P3), but
 * concurrent requests share one lock, one commit and the pages they both
 * write, and nobody sleeps in SQLite's busy handler waiting for another
 * worker. The one connection also keeps its page cache: no other connection
 * of this process writes behind its back.
 *
 *   writer_new(conf)           starts the thread; the store opens on first use
 *   writer_run(w, fn, arg, e)  runs fn(st, arg) in the next batch, waits
 *   writer_submit(w, fn, arg, e, done)  the same without waiting: the writer
 *                              calls done(arg, code) once it is committed
 *   writer_scrub(w, e)         store_scrub between two batches, waits
 *   writer_free(w)             finishes the queued jobs, stops the thread
 *
 * A job's function must do nothing outside the store before the commit (no
 * log of an event that may yet be undone, no mail, no scrub request): if one
 * job of a batch fails after writing, the whole batch is rolled back and each
 * of its jobs is run again in a transaction of its own, so a function can be
 * called twice and must start afresh (reset its outputs) each time. It opens
 * and ends its own nested transaction (store_begin, store_commit or
 * store_rollback), as every function of the lists layer does.
 *
 * After a committed batch the writer asks the scrubber (web/scrub.h) for a
 * scrub: its connection leaves automatic checkpoints to that thread (batch
 * mode lets the WAL grow). The scrubber copies the WAL into the database
 * with a passive checkpoint, which holds up no batch, and then has the
 * writer truncate it (writer_scrub) between two batches: the truncating
 * checkpoint waits for the writer lock and holds it, and taken by the
 * writer itself it neither waits in SQLite's busy handler (whose sleeps
 * outlast the checkpoint) nor makes a batch wait in it; it is short, for
 * little is left to copy. A batch's answers never wait for a scrub.
 *
 * TRUST: runs only functions of this process; no outside input.
 */
#ifndef LK_WEB_WRITER_H
#define LK_WEB_WRITER_H

#include "core/buf.h"
#include "core/conf.h"
#include "store/store.h"

struct writer;

/* The function of a job: its STORE_* code. */
typedef int (*writer_fn)(struct store *st, void *arg);
/* Called on the writer's thread when a job of writer_submit is done: code is
 * what writer_run would have returned. It must be quick (the next batch
 * waits) and must not call the writer. */
typedef void (*writer_done_fn)(void *arg, int code);

/* Starts the writer thread for the store of c (c must outlive it). NULL
 * with the reason in err if the thread cannot start. */
struct writer *writer_new(const struct conf *c, struct buf *err);
/* Runs fn(st, arg) in the writer's next transaction and returns once it is
 * committed: fn's code, or the commit's error (STORE_BUSY, STORE_ERR) when
 * the transaction failed, with the store's message in err (when not NULL).
 * STORE_ERR without calling fn when the store cannot be opened. */
int writer_run(struct writer *w, writer_fn fn, void *arg, struct buf *err);
/* writer_run without waiting: returns at once, and on_done(arg, code) is
 * called on the writer's thread once the job's transaction is committed (or
 * has failed). arg and err must live until then. */
void writer_submit(struct writer *w, writer_fn fn, void *arg, struct buf *err,
		   writer_done_fn on_done);
/* Runs store_scrub on the writer's connection after the batch in hand (or
 * at once when idle) and returns its code, with the store's message in err
 * (when not NULL) on failure. */
int writer_scrub(struct writer *w, struct buf *err);
/* Runs the jobs still queued (calling their on_done), stops the thread and
 * closes its store. writer_free(NULL) does nothing. No writer_run,
 * writer_submit or writer_scrub may start meanwhile. */
void writer_free(struct writer *w);

#endif
