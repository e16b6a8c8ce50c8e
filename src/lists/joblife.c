/*
 * joblife.c - the lifecycle of a delivery job (see joblife.h).
 *
 * TRUST: no outside input but job ids; the texts written (pause reasons) are
 * the engine's own and hold no address.
 */
#include "lists/joblife.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/xmalloc.h"

static const char *const EVENTS[] = {"claim", "pause", "resume", "cancel", "relay-down", "finish"};
static const struct nametab job_event_names = NAMETAB(EVENTS);

const char *job_event_name(enum job_event e)
{
	return nametab_name(&job_event_names, (int)e);
}

int job_event_parse(const char *z, enum job_event *out)
{
	int v;
	if (nametab_parse(&job_event_names, z, &v) < 0)
		return -1;
	*out = (enum job_event)v;
	return 0;
}

/* ALLOWED[state][event]: the transitions, and nothing else. */
#define S_ JOB_STATE_CANCELLED + 1
#define E_ JOB_EVENT_FINISH + 1
static const unsigned char ALLOWED[S_][E_] = {
    /*                      claim pause resume cancel down finish */
    [JOB_STATE_SCHEDULED] = {1, 1, 0, 1, 0, 0}, [JOB_STATE_RUNNING] = {1, 1, 0, 1, 1, 1},
    [JOB_STATE_PAUSED] = {1, 1, 1, 1, 0, 0},	[JOB_STATE_DONE] = {0, 0, 0, 0, 0, 0},
    [JOB_STATE_CANCELLED] = {0, 0, 0, 0, 0, 0},
};
#undef S_
#undef E_

int joblife_allowed(enum job_state s, enum job_event e)
{
	return (unsigned)s <= JOB_STATE_CANCELLED && (unsigned)e <= JOB_EVENT_FINISH &&
	       ALLOWED[s][e];
}

int joblife_final(enum job_state s)
{
	return s == JOB_STATE_DONE || s == JOB_STATE_CANCELLED;
}

int joblife_held_by_hand(const struct job_rec *j)
{
	return joblife_final(j->state) || (j->state == JOB_STATE_PAUSED && j->resume_at == 0);
}

int joblife_due(const struct job_rec *j, int64_t now, int64_t *wait)
{
	int64_t at = 0;
	switch (j->state) {
	case JOB_STATE_SCHEDULED:
	case JOB_STATE_RUNNING:
		at = j->not_before;
		break;
	case JOB_STATE_PAUSED:
		at = j->resume_at; /* 0: paused by hand, never by itself */
		break;
	case JOB_STATE_DONE:
	case JOB_STATE_CANCELLED:
		break;
	}
	int due = joblife_allowed(j->state, JOB_EVENT_CLAIM) &&
		  (j->state != JOB_STATE_PAUSED || at > 0) && at <= now;
	if (wait != NULL)
		*wait = due ? now : at;
	return due;
}

static void set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = xstrdup(v);
}

static void to_state(struct job_rec *j, enum job_state s, const char *reason, int64_t resume_at,
		     int64_t now)
{
	j->state = s;
	set_str(&j->pause_reason, reason);
	j->resume_at = resume_at;
	if (joblife_final(s))
		j->finished = now;
	j->updated = now;
}

static void unlease(struct job_rec *j, int64_t now)
{
	set_str(&j->lease_owner, "");
	j->lease_until = 0;
	j->updated = now;
}

static int store_fail(struct lists_ctx *x, int r, struct buf *err)
{
	if (err->len == 0)
		buf_puts(err, store_errmsg(x->st));
	store_rollback(x->st);
	return r;
}

int joblife_claim(struct lists_ctx *x, int64_t only, const char *owner, int64_t lease_secs,
		  struct job_rec *j, int64_t *wait_until, struct buf *err)
{
	int64_t t = clock_now();
	int r = store_begin(x->st);
	if (r != STORE_OK) {
		buf_puts(err, store_errmsg(x->st));
		return r;
	}
	r = only ? store_job_get(x->st, only, j) : store_job_next(x->st, t, j);
	if (r == STORE_NOTFOUND) {
		store_rollback(x->st);
		return 0;
	}
	if (r != STORE_OK)
		return store_fail(x, r, err);
	int leased =
	    j->lease_until > t && j->lease_owner[0] != '\0' && strcmp(j->lease_owner, owner) != 0;
	int64_t when = 0;
	int due = joblife_due(j, t, &when);
	if (leased || !due) {
		if (wait_until != NULL)
			*wait_until = leased ? t + 1 : when;
		store_rollback(x->st);
		job_rec_free(j);
		return 0;
	}
	to_state(j, JOB_STATE_RUNNING, "", 0, t);
	set_str(&j->lease_owner, owner);
	j->lease_until = t + lease_secs;
	r = store_job_update(x->st, j);
	if (r == STORE_OK)
		r = store_commit(x->st);
	if (r == STORE_OK)
		return 1;
	job_rec_free(j);
	return store_fail(x, r, err);
}

void joblife_batch_end(struct job_rec *fresh, int exhausted, int64_t pending, int64_t next_at,
		       int64_t now)
{
	if (!joblife_held_by_hand(fresh)) {
		int finish =
		    exhausted && pending == 0 && joblife_allowed(fresh->state, JOB_EVENT_FINISH);
		to_state(fresh, finish ? JOB_STATE_DONE : JOB_STATE_RUNNING, "", 0, now);
		if (exhausted && !finish)
			fresh->not_before = next_at; /* wait for the retries */
	}
	unlease(fresh, now);
}

/* Re-reads job id in a transaction of its own, lets change alter it, writes
 * it back and commits. */
static int with_job(struct lists_ctx *x, int64_t id, void (*change)(struct job_rec *, void *),
		    void *arg, struct buf *err)
{
	struct job_rec j = {0};
	int r = store_begin(x->st);
	if (r != STORE_OK) {
		buf_puts(err, store_errmsg(x->st));
		return r;
	}
	r = store_job_get(x->st, id, &j);
	if (r == STORE_OK) {
		change(&j, arg);
		r = store_job_update(x->st, &j);
	}
	job_rec_free(&j);
	if (r == STORE_OK)
		r = store_commit(x->st);
	if (r == STORE_NOTFOUND) {
		store_rollback(x->st);
		return r;
	}
	return r == STORE_OK ? r : store_fail(x, r, err);
}

struct down {
	const char *reason;
	int64_t resume_at, now;
};

static void go_down(struct job_rec *j, void *arg)
{
	const struct down *d = arg;
	if (!joblife_held_by_hand(j) && joblife_allowed(j->state, JOB_EVENT_RELAY_DOWN))
		to_state(j, JOB_STATE_PAUSED, d->reason, d->resume_at, d->now);
	unlease(j, d->now);
}

int joblife_relay_down(struct lists_ctx *x, int64_t id, const char *reason, int64_t resume_at,
		       struct buf *err)
{
	struct down d = {reason, resume_at, clock_now()};
	return with_job(x, id, go_down, &d, err);
}

static void go_unleased(struct job_rec *j, void *arg)
{
	unlease(j, *(const int64_t *)arg);
}

int joblife_release(struct lists_ctx *x, int64_t id, struct buf *err)
{
	int64_t t = clock_now();
	return with_job(x, id, go_unleased, &t, err);
}

static void go_orphaned(struct job_rec *j, void *arg)
{
	int64_t t = *(const int64_t *)arg;
	if (joblife_allowed(j->state, JOB_EVENT_CANCEL))
		to_state(j, JOB_STATE_CANCELLED, "", 0, t);
	unlease(j, t);
}

int joblife_orphaned(struct lists_ctx *x, int64_t id, struct buf *err)
{
	int64_t t = clock_now();
	return with_job(x, id, go_orphaned, &t, err);
}

/* Why an admin's event e is refused in state s, for the command line. */
static void refusal(int64_t id, enum job_state s, enum job_event e, struct buf *err)
{
	const char *verb = job_event_name(e);
	if (joblife_final(s))
		buf_printf(err, "job %lld is %s already: a %s job cannot be %s", (long long)id,
			   job_state_name(s), job_state_name(s),
			   e == JOB_EVENT_PAUSE	   ? "paused"
			   : e == JOB_EVENT_RESUME ? "resumed"
						   : "cancelled");
	else
		buf_printf(err, "job %lld is %s, not paused: there is nothing to %s", (long long)id,
			   job_state_name(s), verb);
}

static int by_hand(struct lists_ctx *x, int64_t id, enum job_event e, struct buf *err)
{
	struct job_rec j = {0};
	int r = store_begin(x->st);
	if (r != STORE_OK) {
		buf_puts(err, store_errmsg(x->st));
		return r;
	}
	int64_t t = clock_now();
	r = store_job_get(x->st, id, &j);
	if (r == STORE_OK && !joblife_allowed(j.state, e)) {
		refusal(id, j.state, e, err);
		r = STORE_ERR;
	} else if (r == STORE_OK) {
		if (e == JOB_EVENT_PAUSE)
			to_state(&j, JOB_STATE_PAUSED, "paused by an administrator", 0, t);
		else if (e == JOB_EVENT_RESUME)
			to_state(&j, JOB_STATE_RUNNING, "", 0, t);
		else
			to_state(&j, JOB_STATE_CANCELLED, "", 0, t);
		r = store_job_update(x->st, &j);
	}
	if (r == STORE_OK) {
		char detail[48], action[32];
		bsnprintf(detail, sizeof(detail), "job=%lld", (long long)id);
		bsnprintf(action, sizeof(action), "job-%s", job_event_name(e));
		r = store_audit(x->st, t, x->actor, action, j.list_id, 0, detail);
	}
	job_rec_free(&j);
	if (r == STORE_OK)
		r = store_commit(x->st);
	if (r == STORE_OK)
		return r;
	if (r == STORE_NOTFOUND || err->len > 0) {
		store_rollback(x->st);
		return r;
	}
	return store_fail(x, r, err);
}

int joblife_pause(struct lists_ctx *x, int64_t id, struct buf *err)
{
	return by_hand(x, id, JOB_EVENT_PAUSE, err);
}

int joblife_resume(struct lists_ctx *x, int64_t id, struct buf *err)
{
	return by_hand(x, id, JOB_EVENT_RESUME, err);
}

int joblife_cancel(struct lists_ctx *x, int64_t id, struct buf *err)
{
	return by_hand(x, id, JOB_EVENT_CANCEL, err);
}
