/*
 * summary.h - the owners' daily summary of a list: what happened on one day,
 * as counts, queued as a notice job to each owner (lists.owners).
 *
 *   lists_summary_counts  the counts of one list for one day (UTC)
 *   lists_summary_text    the plain text of the notice
 *   lists_summary_queue   queues it once per list and day
 *
 * Counted from the consent ledger (its events carry a list, an action, a
 * source and a time) and the daily counters: new (subscribe requests and
 * subscriptions by an administrator), confirmed, left (unsubscribed, any
 * way but a bounce or a complaint), disabled by bounces, removed by
 * bounces, complaints, and bounces that could not be understood. Counts
 * only: never an address, never a name, not even a subscriber id.
 *
 * TRUST: no outside input; owners' addresses were checked when they were
 * set (lists_set_field).
 */
#ifndef LK_LISTS_SUMMARY_H
#define LK_LISTS_SUMMARY_H

#include <stdint.h>

#include "core/buf.h"
#include "lists/lists.h"

struct lists_summary {
	int64_t day; /* days since the epoch, UTC */
	int64_t added, confirmed, left, bounce_disabled, bounce_removed, complaints, unparsable;
};

int lists_summary_counts(struct lists_ctx *x, const struct list_rec *l, int64_t day,
			 struct lists_summary *out);
/* Subject and body of the notice. */
void lists_summary_text(const struct list_rec *l, const struct lists_summary *s,
			struct buf *subject, struct buf *text);

enum lists_summary_result {
	SUMMARY_QUEUED,	   /* one notice job per owner */
	SUMMARY_NO_OWNERS, /* the list has none */
	SUMMARY_NOTHING,   /* nothing happened that day: nothing sent */
	SUMMARY_SENT_ALREADY,
	SUMMARY_ERROR = -1, /* reason in err */
};
/* Queues the summary of day for l, once: a counter (list, day,
 * "summary-sent") remembers it, in the same transaction as the jobs.
 * *jobs: how many notice jobs were queued. */
enum lists_summary_result lists_summary_queue(struct lists_ctx *x, const struct list_rec *l,
					      int64_t day, int *jobs, struct buf *err);

#endif
