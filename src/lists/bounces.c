/*
 * bounces.c - bounce scores with decay (see bounces.h).
 *
 * TRUST: no outside input.
 */
#include "lists/bounces.h"

#include "core/clock.h"

#include <string.h>

#include "lists/person.h"

int64_t lists_bounce_decayed(int64_t score, int64_t at, int64_t now, int64_t period,
			     int64_t *at_out)
{
	*at_out = at;
	if (score <= 0 || at <= 0 || at > now) { /* nothing kept, or a clock gone back */
		*at_out = now;
		return score > 0 ? score : 0;
	}
	if (period <= 0)
		return score;
	int64_t periods = (now - at) / period;
	if (periods >= 62) {
		*at_out = now;
		return 0;
	}
	score >>= periods;
	*at_out = score > 0 ? at + periods * period : now;
	return score;
}

const char *lists_bounce_outcome_name(enum lists_bounce_outcome o)
{
	switch (o) {
	case LB_SCORED:
		return "scored";
	case LB_SOFT:
		return "soft-scored";
	case LB_DISABLED:
		return "disabled";
	case LB_REMOVED:
		return "removed";
	case LB_NOT_SUBSCRIBED:
		break;
	}
	return "not-subscribed";
}

/* One bounce: hard adds a point, soft adds to the soft score (both decayed
 * first, from their one reference time). */
static int bump(struct lists_ctx *x, const struct list_rec *l, int64_t id,
		const struct lists_bounce_policy *p, int hard, enum lists_bounce_outcome *outcome,
		int64_t *score, int *erased, struct buf *err)
{
	struct subscription_rec sub;
	int64_t now = clock_now();
	*outcome = LB_NOT_SUBSCRIBED;
	*score = 0;
	*erased = 0;
	int r = store_subscription_get(x->st, l->id, id, &sub);
	if (r == STORE_NOTFOUND)
		return STORE_OK;
	if (r != STORE_OK)
		return r;
	int64_t at_h, at_s;
	int64_t h =
	    lists_bounce_decayed(sub.bounce_score, sub.bounce_at, now, p->decay_seconds, &at_h);
	int64_t s =
	    lists_bounce_decayed(sub.soft_score, sub.bounce_at, now, p->decay_seconds, &at_s);
	sub.bounce_at = h > 0 ? at_h : s > 0 ? at_s : now;
	int64_t per = p->soft_per_hard < 1 ? 1 : p->soft_per_hard;
	*outcome = LB_SCORED;
	if (hard) {
		h++;
	} else if (++s >= per) {
		s -= per;
		h++;
	} else {
		*outcome = LB_SOFT;
	}
	sub.bounce_score = h;
	sub.soft_score = s;
	sub.updated = now;
	*score = h;
	r = store_subscription_put(x->st, &sub);
	if (r != STORE_OK || *outcome == LB_SOFT || sub.bounce_score < p->threshold ||
	    sub.state != SUB_STATE_ACTIVE)
		return r;
	if (l->bounce_action == LIST_BOUNCE_REMOVE) {
		*outcome = LB_REMOVED;
		return lists_unsubscribe(x, l, id, "bounce", erased, err);
	}
	*outcome = LB_DISABLED;
	return lists_set_state(x, l, id, SUB_STATE_DISABLED, "bounce", err);
}

int lists_hard_bounce(struct lists_ctx *x, const struct list_rec *l, int64_t id,
		      const struct lists_bounce_policy *p, enum lists_bounce_outcome *outcome,
		      int64_t *score, int *erased, struct buf *err)
{
	return bump(x, l, id, p, 1, outcome, score, erased, err);
}

int lists_soft_bounce(struct lists_ctx *x, const struct list_rec *l, int64_t id,
		      const struct lists_bounce_policy *p, enum lists_bounce_outcome *outcome,
		      int64_t *score, int *erased, struct buf *err)
{
	return bump(x, l, id, p, 0, outcome, score, erased, err);
}
