/*
 * joblife.h - the lifecycle of a delivery job: the one module that moves a
 * job from one state to another (STYLE.md section 10; OpenSMTPD's enum
 * mta_state). The engine asks it, the command line asks it; neither sets a
 * job's state by itself.
 *
 *   scheduled --claim--> running --finish (nothing left)--> done
 *   scheduled | running | paused --pause (an admin)--> paused, resume_at 0
 *   running --relay down (the engine)--> paused, resume_at set
 *   paused --resume (an admin)--> running
 *   paused, resume_at due --claim--> running
 *   scheduled | running | paused --cancel (an admin, or its list is gone)-->
 *   cancelled
 *   done and cancelled are final: every event on them is refused.
 *
 * A job that an admin paused, or that is final, stays so even when a batch
 * of it was in flight: the engine's events (finish, relay down) then change
 * only its counters and lease (joblife_held_by_hand).
 *
 * The store's job queries agree with this module: store_job_next returns
 * exactly the jobs joblife_due calls due and not leased, and a job update
 * drops its sealed recipient exactly when joblife_final (tests/lists/
 * test_joblife.c checks both for every state).
 *
 * Return values: STORE_OK, STORE_NOTFOUND (no such job), STORE_ERR with the
 * reason in err (a transition the state refuses, or the store failed), or
 * STORE_BUSY (the store stayed locked: try again).
 *
 * TRUST: no outside input but job ids; reasons are the engine's own text.
 */
#ifndef LK_LISTS_JOBLIFE_H
#define LK_LISTS_JOBLIFE_H

#include <stdint.h>

#include "core/buf.h"
#include "lists/lists.h"

enum job_event {
	JOB_EVENT_CLAIM,      /* the engine takes the job for one batch */
	JOB_EVENT_PAUSE,      /* an admin pauses it */
	JOB_EVENT_RESUME,     /* an admin resumes it */
	JOB_EVENT_CANCEL,     /* an admin cancels it, or its list is gone */
	JOB_EVENT_RELAY_DOWN, /* the engine pauses it until the relay is back */
	JOB_EVENT_FINISH,     /* the engine has sent everything */
};
const char *job_event_name(enum job_event e);
int job_event_parse(const char *z, enum job_event *out);

/* 1 when event e may happen to a job in state s. */
int joblife_allowed(enum job_state s, enum job_event e);
/* 1 for done and cancelled. */
int joblife_final(enum job_state s);
/* 1 when the engine must not change the job's state: final, or paused by an
 * admin (resume_at 0). */
int joblife_held_by_hand(const struct job_rec *j);
/* 1 when the engine may claim j at now (leases aside): scheduled or running
 * and not_before <= now, or paused by the engine with resume_at <= now.
 * Otherwise 0 and, when wait is not NULL, when it will be (0: never by
 * itself). */
int joblife_due(const struct job_rec *j, int64_t now, int64_t *wait);

/* Takes the next due job (job `only`, when not 0) and leases it to owner for
 * lease_secs: it is running from now on. 1 and *j filled (free it with
 * job_rec_free); 0 when there is nothing due (*wait_until: when to look
 * again, if not NULL); STORE_ERR or STORE_BUSY with the reason in err. */
int joblife_claim(struct lists_ctx *x, int64_t only, const char *owner, int64_t lease_secs,
		  struct job_rec *j, int64_t *wait_until, struct buf *err);
/* The end of a batch, on the job as the caller has just re-read it in its own
 * transaction (it writes it): the lease is given back; unless an admin holds
 * it, the job goes on running, or is done (finish) when exhausted and no
 * retry is pending, or waits for the first retry (next_at) when exhausted
 * with retries pending. */
void joblife_batch_end(struct job_rec *fresh, int exhausted, int64_t pending, int64_t next_at,
		       int64_t now);
/* The relay is down: the job is paused with reason until resume_at (unless
 * an admin holds it) and its lease given back. Its own transaction. */
int joblife_relay_down(struct lists_ctx *x, int64_t id, const char *reason, int64_t resume_at,
		       struct buf *err);
/* Gives back the lease of a sender that died (the engine decides which);
 * the state stays. Its own transaction. */
int joblife_release(struct lists_ctx *x, int64_t id, struct buf *err);
/* The job's list was deleted: nothing is left to send; it is cancelled. */
int joblife_orphaned(struct lists_ctx *x, int64_t id, struct buf *err);

/* An admin's pause, resume and cancel, written to the audit log. A state
 * that refuses the event (resume a cancelled job, cancel a done one, resume
 * a running one) changes nothing: STORE_ERR with a sentence for the user in
 * err. STORE_NOTFOUND for an unknown job. */
int joblife_pause(struct lists_ctx *x, int64_t id, struct buf *err);
int joblife_resume(struct lists_ctx *x, int64_t id, struct buf *err);
int joblife_cancel(struct lists_ctx *x, int64_t id, struct buf *err);

#endif
