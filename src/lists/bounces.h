/*
 * bounces.h - a subscription's bounce score: rises with each hard bounce,
 * halves every decay period without one, and past the list's threshold the
 * subscription is disabled or removed (lists.bounce_action).
 *
 *   lists_bounce_decayed  the score now, from a score kept at a reference time
 *   lists_hard_bounce     one hard bounce (the address is gone) of one subscription
 *   lists_soft_bounce     one soft bounce (a full mailbox, a final 4.x.x failure)
 *
 * Only an address that is gone (intake/bounce.h's class gone, a 5.1.1 at
 * the relay) is a hard bounce. A full mailbox or a temporary failure the
 * reporting MTA gave up on adds to a soft score (subscriptions.soft_score):
 * every [bounce] soft_per_hard of them make one point of the score, so that a
 * mailbox full for weeks ends up disabled like a dead one, slowly. Both
 * decay together, from the same reference time. Rejections that are the
 * sender's problem (policy, content) never touch a subscription; nor do
 * delays. Complaints are not bounces: they unsubscribe at once (P2).
 *
 * The decay is in whole periods, so that the score stays an integer: kept
 * with its reference time (subscriptions.bounce_at), it is halved (rounding
 * down) once per full period since then, and the reference moves on by the
 * periods used. A score of 4 with a 7-day period is 2 after 7 days, 1 after
 * 14, 0 after 21: five bounces spread over months never disable anyone.
 *
 * TRUST: no outside input; the subscription is named by the caller after
 * authenticating a VERP token.
 */
#ifndef LK_LISTS_BOUNCES_H
#define LK_LISTS_BOUNCES_H

#include <stdint.h>

#include "core/buf.h"
#include "lists/lists.h"

/* score as of now, given it was kept at time at (0: unknown, no decay) with a
 * period of period seconds (<= 0: no decay). *at_out: the new reference time
 * (now when the score fell to 0 or at was unknown). */
int64_t lists_bounce_decayed(int64_t score, int64_t at, int64_t now, int64_t period,
			     int64_t *at_out);

struct lists_bounce_policy {
	int64_t threshold;     /* the score that disables or removes */
	int64_t decay_seconds; /* the score halves every so long */
	int64_t soft_per_hard; /* soft bounces that make one point (< 1: 1) */
};

/* What a hard bounce did. */
enum lists_bounce_outcome {
	LB_SCORED,	   /* the score rose, below the threshold (or not active) */
	LB_SOFT,	   /* the soft score rose, short of a point */
	LB_DISABLED,	   /* disabled at the threshold */
	LB_REMOVED,	   /* unsubscribed at the threshold */
	LB_NOT_SUBSCRIBED, /* no such subscription (left meanwhile) */
};
const char *lists_bounce_outcome_name(enum lists_bounce_outcome o);

/* One hard bounce of subscriber id on list l, inside the caller's
 * transaction: decays and raises the score; at p->threshold an active
 * subscription is disabled (ledger "state-disabled", source "bounce") or,
 * when l->bounce_action is "remove", unsubscribed (ledger "unsubscribe",
 * source "bounce"; *erased set when that was the person's last list: the
 * caller scrubs after committing). *score: the new score. */
int lists_hard_bounce(struct lists_ctx *x, const struct list_rec *l, int64_t id,
		      const struct lists_bounce_policy *p, enum lists_bounce_outcome *outcome,
		      int64_t *score, int *erased, struct buf *err);

/* One soft bounce, as lists_hard_bounce: decays both scores, adds 1 to the
 * soft score, and when it reaches p->soft_per_hard turns that into one point
 * of the score (outcome LB_SCORED, or LB_DISABLED / LB_REMOVED at the
 * threshold); short of it the outcome is LB_SOFT. *score: the score. */
int lists_soft_bounce(struct lists_ctx *x, const struct list_rec *l, int64_t id,
		      const struct lists_bounce_policy *p, enum lists_bounce_outcome *outcome,
		      int64_t *score, int *erased, struct buf *err);

/* A bounce that is no fault of the subscriber's, counted (inside the
 * caller's transaction) for list list_id and today: counter (a
 * STORE_STAT_BOUNCE_* of store.h) under key job_id (or "" when job_id is
 * 0); for the two sender-side counters (sender-policy, rejected-content)
 * also STORE_STAT_BOUNCE_REFUSED_DOMAIN under "JOB/DOMAIN" ("0/..." without
 * a job), where DOMAIN is lists_bounce_provider of the receiving domain
 * (domain: domain_len bytes, or NULL). No address and no subscriber is
 * stored. STORE_OK or a store error. */
int lists_bounce_refused(struct lists_ctx *x, int64_t list_id, int64_t job_id, const char *counter,
			 const char *domain, size_t domain_len);

/* The name under which a receiving domain is counted: the domain itself
 * (lower case, static) when it is one of the big mailbox providers of a
 * built-in table (gmail.com, outlook.com, yahoo.com, ...: a domain shared
 * by millions says nothing about a person), else "other": a small domain
 * (a family's, a one-person business) can name the person, so it is never
 * stored (docs/privacy.md). */
const char *lists_bounce_provider(const char *domain, size_t len);

#endif
