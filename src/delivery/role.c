/*
 * role.c - the delivery thread of `listkeeper serve` (see role.h).
 *
 * TRUST: no outside input of its own; see engine.c.
 */
#include "delivery/role.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "delivery/engine.h"
#include "store/store.h"

struct delivery_role {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	struct store *st;
	struct engine *e;
};

static void *run(void *arg)
{
	struct delivery_role *d = arg;
	struct buf err;
	buf_init(&err, 1024);
	int errors = 0;
	for (;;) {
		pthread_mutex_lock(&d->mu);
		int stop = d->stop;
		pthread_mutex_unlock(&d->mu);
		if (stop)
			break;
		int64_t wait_until = 0;
		buf_reset(&err);
		int r = engine_step(d->e, 0, &wait_until, &err);
		if (r > 0) {
			errors = 0;
			continue;
		}
		if (r < 0) {
			log_warnx("delivery: %s", buf_cstr(&err));
			errors++;
		}
		/* Nothing due (or a store error): sleep up to a second, longer after
		 * repeated errors; a stop request wakes us. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += errors > 0 ? (errors < 30 ? errors : 30) : 1;
		pthread_mutex_lock(&d->mu);
		if (!d->stop)
			pthread_cond_timedwait(&d->cv, &d->mu, &ts);
		pthread_mutex_unlock(&d->mu);
	}
	buf_free(&err);
	return NULL;
}

struct delivery_role *delivery_role_start(const struct conf *c, const struct keys *k,
					  struct buf *err)
{
	struct delivery_role *d = xcalloc(1, sizeof(*d));
	d->st = store_open(c, 0, err);
	if (d->st == NULL) {
		free(d);
		return NULL;
	}
	d->e = engine_new(c, d->st, k, err);
	if (d->e == NULL) {
		store_close(d->st);
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	if (pthread_create(&d->thread, NULL, run, d) != 0) {
		buf_puts(err, "cannot start the delivery thread");
		engine_free(d->e);
		store_close(d->st);
		free(d);
		return NULL;
	}
	return d;
}

void delivery_role_stop(struct delivery_role *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	d->stop = 1;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->thread, NULL);
	engine_free(d->e);
	store_close(d->st);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}
