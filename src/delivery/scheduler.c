/*
 * scheduler.c - the scheduler role of `listkeeper serve` (see scheduler.h).
 *
 * It looks at the clock once a minute (a stop request wakes it at once).
 * Whether a day's summaries went out is kept in the store
 * (lists_summary_daily), so a restart, or two servers, send a day once.
 *
 * TRUST: no outside input.
 */
#include "delivery/scheduler.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "lists/summary.h"
#include "store/store.h"

#define SCHEDULER_TICK_SECONDS 60

struct scheduler {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	int hour; /* [summary] hour */
	struct store *st;
	struct lists_ctx x;
};

static void *run(void *arg)
{
	struct scheduler *s = arg;
	struct buf err;
	buf_init(&err, 1024);
	int64_t done = 0;
	for (;;) {
		pthread_mutex_lock(&s->mu);
		int stop = s->stop;
		pthread_mutex_unlock(&s->mu);
		if (stop)
			break;
		buf_reset(&err);
		int r = lists_summary_daily(&s->x, s->hour, &done, &err);
		if (r > 0)
			log_info("scheduler: event=summary day=%lld", (long long)done);
		else if (r < 0)
			log_warnx("scheduler: summary: %s", buf_cstr(&err));
		log_debug("scheduler: tick summary=%s", r > 0	 ? "sent"
							: r == 0 ? "none"
								 : "failed");
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += SCHEDULER_TICK_SECONDS;
		pthread_mutex_lock(&s->mu);
		if (!s->stop)
			pthread_cond_timedwait(&s->cv, &s->mu, &ts);
		pthread_mutex_unlock(&s->mu);
	}
	buf_free(&err);
	return NULL;
}

struct scheduler *scheduler_start(const struct conf *c, const struct keys *k, struct buf *err)
{
	struct scheduler *s = xcalloc(1, sizeof(*s));
	s->st = store_open(c, 0, err);
	if (s->st == NULL) {
		free(s);
		return NULL;
	}
	s->hour = (int)conf_get_int(c, "summary", "hour");
	s->x.st = s->st;
	s->x.keys = k;
	s->x.policy_version = conf_get(c, "general", "consent_version");
	s->x.actor = "scheduler";
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (pthread_create(&s->thread, NULL, run, s) != 0) {
		buf_puts(err, "cannot start the scheduler thread");
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		store_close(s->st);
		free(s);
		return NULL;
	}
	return s;
}

void scheduler_stop(struct scheduler *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	store_close(s->st);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
