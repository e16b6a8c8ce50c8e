/*
 * summary.c - the owners' daily summary (see summary.h).
 *
 * TRUST: no outside input.
 */
#include "lists/summary.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/utc.h"
#include "core/limits.h"
#include "core/xmalloc.h"
#include "lists/jobs.h"

static int count_event(void *ctx, const char *action, const char *source, int64_t n)
{
	struct lists_summary *s = ctx;
	if (!strcmp(action, "subscribe-request") || !strcmp(action, "subscribe-confirmed-by-admin"))
		s->added += n;
	else if (!strcmp(action, "confirm"))
		s->confirmed += n;
	else if (!strcmp(action, "approve"))
		s->approved += n;
	else if (!strcmp(action, "reject"))
		s->rejected += n;
	else if (!strcmp(action, "state-disabled") && !strcmp(source, "bounce"))
		s->bounce_disabled += n;
	else if (!strcmp(action, "unsubscribe") && !strcmp(source, "bounce"))
		s->bounce_removed += n;
	else if (!strcmp(action, "unsubscribe") && !strcmp(source, "complaint"))
		s->complaints += n;
	else if (!strcmp(action, "unsubscribe") && strcmp(source, "list-delete") != 0)
		s->left += n;
	return 0;
}

/* The sender-side bounce counters of one day, over every key (the job ids). */
static int sender_side(void *ctx, const struct stat_rec *r)
{
	struct lists_summary *s = ctx;
	if (!strcmp(r->counter, STORE_STAT_BOUNCE_SENDER_POLICY))
		s->sender_policy += r->value;
	else if (!strcmp(r->counter, STORE_STAT_BOUNCE_REJECTED_CONTENT))
		s->rejected_content += r->value;
	return 0;
}

int lists_summary_counts(struct lists_ctx *x, const struct list_rec *l, int64_t day,
			 struct lists_summary *out)
{
	memset(out, 0, sizeof(*out));
	out->day = day;
	int r = store_ledger_counts(x->st, l->id, day * 86400, (day + 1) * 86400, count_event, out);
	if (r == STORE_OK)
		r = store_stats_get(x->st, day, l->id, STORE_STAT_BOUNCE_UNPARSABLE, "",
				    &out->unparsable);
	if (r == STORE_OK)
		r = store_stats_each(x->st, day, day, l->id, sender_side, out);
	int64_t n[4] = {0};
	if (r == STORE_OK)
		r = store_list_counts(x->st, l->id, n);
	out->waiting = n[SUB_STATE_HELD];
	return r;
}

void lists_summary_text(const struct list_rec *l, const struct lists_summary *s,
			struct buf *subject, struct buf *text)
{
	char date[16];
	if (utc_format(s->day * 86400, UTC_DAY, date, sizeof(date)) < 0)
		bsnprintf(date, sizeof(date), "day %lld", (long long)s->day);
	buf_printf(subject, "Daily summary of %s@%s for %s", l->name, l->domain, date);
	buf_printf(text,
		   "What happened on the list %s@%s on %s (UTC):\n\n"
		   "  new subscriptions (requested or added)   %8lld\n"
		   "  confirmed                                %8lld\n"
		   "  approved by the owners                   %8lld\n"
		   "  not accepted by the owners               %8lld\n"
		   "  left                                     %8lld\n"
		   "  disabled by bounces                      %8lld\n"
		   "  removed by bounces                       %8lld\n"
		   "  complaints (unsubscribed at once)        %8lld\n"
		   "  bounces that could not be understood     %8lld\n\n",
		   l->name, l->domain, date, (long long)s->added, (long long)s->confirmed,
		   (long long)s->approved, (long long)s->rejected, (long long)s->left,
		   (long long)s->bounce_disabled, (long long)s->bounce_removed,
		   (long long)s->complaints, (long long)s->unparsable);
	if (s->sender_policy + s->rejected_content > 0)
		buf_printf(text,
			   "Bounces that are our problem, not the subscribers' (nobody's bounce\n"
			   "score changed):\n"
			   "  refused for our sending (sender-policy)  %8lld\n"
			   "  refused for the message (rejected-content) %6lld\n"
			   "Receivers refused mail for a blocklisted address, SPF, DKIM or DMARC,\n"
			   "a missing PTR record or a rate limit: check the DNS records and the\n"
			   "relay's reputation (`listkeeper job show ID` counts them per job).\n\n",
			   (long long)s->sender_policy, (long long)s->rejected_content);
	if (s->waiting > 0)
		buf_printf(text,
			   "Subscription requests waiting for your approval now: %lld.\n"
			   "`listkeeper sub held %s` lists them; `listkeeper sub approve` and\n"
			   "`listkeeper sub reject` decide.\n\n",
			   (long long)s->waiting, l->name);
	buf_printf(text,
		   "Counts only: this summary names no one. `listkeeper list show %s` shows the\n"
		   "list as it is now.\n",
		   l->name);
}

enum lists_summary_result lists_summary_queue(struct lists_ctx *x, const struct list_rec *l,
					      int64_t day, int *jobs, struct buf *err)
{
	*jobs = 0;
	if (l->owners == NULL || l->owners[0] == '\0')
		return SUMMARY_NO_OWNERS;
	int r = store_begin(x->st);
	if (r != STORE_OK) {
		buf_puts(err, store_errmsg(x->st));
		return SUMMARY_ERROR;
	}
	int64_t sent = 0;
	struct lists_summary s;
	enum lists_summary_result res = SUMMARY_QUEUED;
	r = store_stats_get(x->st, day, l->id, "summary-sent", "", &sent);
	if (r == STORE_OK && sent > 0)
		res = SUMMARY_SENT_ALREADY;
	if (r == STORE_OK && res == SUMMARY_QUEUED)
		r = lists_summary_counts(x, l, day, &s);
	if (r == STORE_OK && res == SUMMARY_QUEUED &&
	    s.added + s.confirmed + s.approved + s.rejected + s.left + s.bounce_disabled +
		    s.bounce_removed + s.complaints + s.unparsable + s.sender_policy +
		    s.rejected_content + s.waiting ==
		0)
		res = SUMMARY_NOTHING;
	struct buf subject, text;
	buf_init(&subject, LK_MAX_LINE_OCTETS);
	buf_init(&text, 4096);
	if (r == STORE_OK && res == SUMMARY_QUEUED) {
		lists_summary_text(l, &s, &subject, &text);
		for (const char *p = l->owners; r == STORE_OK && *p;) {
			const char *e = strchr(p, ',');
			size_t len = e ? (size_t)(e - p) : strlen(p);
			char to[LK_MAX_ADDRESS + 1];
			bsnprintf(to, sizeof(to), "%.*s", (int)len, p);
			int64_t id;
			r = jobs_create_single(x, l->id, JOB_KIND_NOTICE, to, NULL,
					       buf_cstr(&subject), buf_cstr(&text), &id, err);
			if (r == STORE_OK)
				(*jobs)++;
			p += len + (e != NULL);
		}
	}
	/* Remembered for empty days too: a day is looked at once. */
	if (r == STORE_OK && res != SUMMARY_SENT_ALREADY)
		r = store_stats_add(x->st, &(struct stat_rec){.day = day,
							      .list_id = l->id,
							      .counter = "summary-sent",
							      .key = "",
							      .value = 1});
	buf_free(&subject);
	buf_free(&text);
	if (lists_end_txn(x, r, err) != STORE_OK) {
		*jobs = 0;
		return SUMMARY_ERROR;
	}
	return res;
}

struct all_ctx {
	int64_t *ids; /* the lists, collected first: no write inside the walk */
	size_t n, cap;
};

static int collect(void *ctx, const struct list_rec *l)
{
	struct all_ctx *a = ctx;
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->ids = xreallocarray(a->ids, a->cap, sizeof(*a->ids));
	}
	a->ids[a->n++] = l->id;
	return 0;
}

int lists_summary_send_all(struct lists_ctx *x, int64_t day, lists_summary_fn *fn, void *ctx,
			   int *failed, struct buf *err)
{
	struct all_ctx a = {NULL, 0, 0};
	*failed = 0;
	int r = store_list_each(x->st, collect, &a);
	struct buf e;
	buf_init(&e, 1024);
	for (size_t k = 0; r == STORE_OK && k < a.n; k++) {
		struct list_rec l = {0};
		r = store_list_get_id(x->st, a.ids[k], &l);
		if (r == STORE_NOTFOUND) { /* deleted meanwhile */
			r = STORE_OK;
			continue;
		}
		if (r != STORE_OK)
			break;
		int jobs = 0;
		buf_reset(&e);
		enum lists_summary_result res = lists_summary_queue(x, &l, day, &jobs, &e);
		if (res == SUMMARY_ERROR)
			(*failed)++;
		if (fn != NULL)
			fn(ctx, &l, res, jobs, buf_cstr(&e));
		list_rec_free(&l);
	}
	if (r != STORE_OK && err->len == 0)
		buf_puts(err, store_errmsg(x->st));
	buf_free(&e);
	free(a.ids);
	return r;
}

int64_t lists_summary_due_day(int64_t now, int hour)
{
	if (hour < 0 || hour > 23 || now < 0)
		return -1;
	int64_t today = now / 86400;
	return now % 86400 >= (int64_t)hour * 3600 ? today - 1 : today - 2;
}

int lists_summary_daily(struct lists_ctx *x, int hour, int64_t *done, struct buf *err)
{
	int64_t day = lists_summary_due_day(clock_now(), hour);
	if (day < 0 || day <= *done)
		return 0;
	int64_t ran = 0;
	int r = store_stats_get(x->st, day, 0, "summary-run", "", &ran);
	if (r == STORE_OK && ran > 0) {
		*done = day;
		return 0;
	}
	int failed = 0;
	if (r == STORE_OK)
		r = lists_summary_send_all(x, day, NULL, NULL, &failed, err);
	if (r != STORE_OK) {
		if (err->len == 0)
			buf_puts(err, store_errmsg(x->st));
		return -1;
	}
	/* A list that failed is tried again at the next call; the others
	 * remember their day themselves. */
	if (failed > 0) {
		buf_printf(err, "the summary of %d list%s could not be queued", failed,
			   failed == 1 ? "" : "s");
		return -1;
	}
	r = store_begin(x->st);
	if (r == STORE_OK)
		r = store_stats_add(
		    x->st,
		    &(struct stat_rec){
			.day = day, .list_id = 0, .counter = "summary-run", .key = "", .value = 1});
	if (lists_end_txn(x, r, err) != STORE_OK)
		return -1;
	*done = day;
	return 1;
}
