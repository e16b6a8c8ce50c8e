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
 * subscriptions by an administrator), confirmed, approved and not accepted
 * by the owners (policy "owner"), left (unsubscribed, any way but a bounce
 * or a complaint), disabled by bounces, removed by bounces, complaints, and
 * bounces that could not be understood; and, from the list as it is now,
 * how many confirmed requests wait for the owners' approval (held): a day
 * when requests wait is never a day with nothing to tell, so the owners
 * are reminded daily (as Mailman's daily reminder of pending requests).
 * Counts only: never an address, never a name, not even a subscriber id.
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
	int64_t added, confirmed, approved, rejected, left, bounce_disabled, bounce_removed,
	    complaints, unparsable,
	    sender_policy,    /* bounces: the receivers refused us (blocklist, SPF/DKIM/DMARC) */
	    rejected_content; /* bounces: the receivers refused the message (spam, size) */
	int64_t waiting;      /* held for the owners now (not on that day) */
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

/* Called by lists_summary_send_all for each list: its result, the number
 * of jobs queued, and the reason of an error (or ""). */
typedef void lists_summary_fn(void *ctx, const struct list_rec *l, enum lists_summary_result r,
			      int jobs, const char *err);
/* Queues the summary of day for every list (lists_summary_queue, each in
 * its own transaction), in the order of their ids, telling fn (when not
 * NULL) the result of each. The one way to send them all: `summary send`
 * (cron) and serve's scheduler role. Returns STORE_OK, or a store error
 * while reading the lists (reason in err); *failed counts the lists whose
 * summary could not be queued. */
int lists_summary_send_all(struct lists_ctx *x, int64_t day, lists_summary_fn *fn, void *ctx,
			   int *failed, struct buf *err);

/* The day (days since the epoch, UTC) whose summary is due at now when the
 * summaries go out at hour o'clock UTC ([summary] hour): yesterday from
 * that hour on, else the day before; -1 when hour is -1 (off). */
int64_t lists_summary_due_day(int64_t now, int hour);

/* The scheduler's daily run: when the summary of lists_summary_due_day is
 * not yet recorded as sent by the server (a counter "summary-run" of list 0
 * for that day, written after every list was tried), sends them all and
 * records it, so that a day is sent once, across restarts too (and the
 * per-list counter "summary-sent" keeps a list from getting two for one
 * day). *done is the last day known done (start at 0): then the store is
 * not asked. Returns 1 when it sent, 0 when nothing was due, -1 on a store
 * error (reason in err; tried again at the next call). */
int lists_summary_daily(struct lists_ctx *x, int hour, int64_t *done, struct buf *err);

#endif
