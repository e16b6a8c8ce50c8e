/*
 * bounces.c - bounce scores with decay, and the counts of the bounces that
 * are not the subscriber's (see bounces.h).
 *
 * TRUST: the receiving domain of lists_bounce_refused comes from a bounce
 * report or a recipient address: read by its length, compared with the
 * table only, never stored unless it is the table's.
 */
#include "lists/bounces.h"

#include "core/clock.h"

#include <string.h>
#include <strings.h>

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

/* The big mailbox providers, by the domains their users' addresses have
 * (sorted by nothing; looked up by a linear scan, at most once a bounce). A
 * domain here is named in the counts; any other is "other" (bounces.h). */
static const char *const PROVIDERS[] = {
    "gmail.com",      "googlemail.com", "yahoo.com",	  "yahoo.co.uk",    "yahoo.fr",
    "yahoo.de",	      "yahoo.co.jp",	"ymail.com",	  "rocketmail.com", "aol.com",
    "outlook.com",    "hotmail.com",	"hotmail.co.uk",  "hotmail.fr",	    "hotmail.de",
    "hotmail.it",     "live.com",	"live.fr",	  "msn.com",	    "icloud.com",
    "me.com",	      "mac.com",	"gmx.de",	  "gmx.net",	    "gmx.com",
    "web.de",	      "t-online.de",	"freenet.de",	  "mail.ru",	    "bk.ru",
    "list.ru",	      "inbox.ru",	"yandex.ru",	  "yandex.com",	    "proton.me",
    "protonmail.com", "comcast.net",	"att.net",	  "verizon.net",    "sbcglobal.net",
    "orange.fr",      "wanadoo.fr",	"free.fr",	  "laposte.net",    "sfr.fr",
    "libero.it",      "virgilio.it",	"qq.com",	  "163.com",	    "126.com",
    "naver.com",      "seznam.cz",	"wp.pl",	  "o2.pl",	    "interia.pl",
    "zoho.com",	      "fastmail.com",	"btinternet.com", "mail.com",	    "rediffmail.com",
};

const char *lists_bounce_provider(const char *domain, size_t len)
{
	if (domain == NULL)
		return "other";
	while (len > 0 && domain[len - 1] == '.') /* the root's dot */
		len--;
	for (size_t i = 0; i < sizeof PROVIDERS / sizeof PROVIDERS[0]; i++)
		if (strlen(PROVIDERS[i]) == len && strncasecmp(PROVIDERS[i], domain, len) == 0)
			return PROVIDERS[i];
	return "other";
}

int lists_bounce_refused(struct lists_ctx *x, int64_t list_id, int64_t job_id, const char *counter,
			 const char *domain, size_t domain_len)
{
	int64_t day = clock_now() / 86400;
	char key[24] = "";
	if (job_id > 0)
		bsnprintf(key, sizeof key, "%lld", (long long)job_id);
	int r = store_stats_add(
	    x->st, &(struct stat_rec){
		       .day = day, .list_id = list_id, .counter = counter, .key = key, .value = 1});
	if (r != STORE_OK || (strcmp(counter, STORE_STAT_BOUNCE_SENDER_POLICY) != 0 &&
			      strcmp(counter, STORE_STAT_BOUNCE_REJECTED_CONTENT) != 0))
		return r;
	char dkey[96];
	bsnprintf(dkey, sizeof dkey, "%lld/%s", (long long)(job_id > 0 ? job_id : 0),
		  lists_bounce_provider(domain, domain_len));
	return store_stats_add(x->st,
			       &(struct stat_rec){.day = day,
						  .list_id = list_id,
						  .counter = STORE_STAT_BOUNCE_REFUSED_DOMAIN,
						  .key = dkey,
						  .value = 1});
}
