/*
 * workpool.c - a fixed set of threads over a batch (see workpool.h).
 *
 * The queue is an array of cap item numbers filled by workpool_post and
 * read in order by the threads; `taken` and `done` count up to `posted`.
 * workpool_wait empties it once done == posted, so that every batch starts
 * at 0. One mutex guards the counters; `work` wakes threads when an item is
 * posted (or the pool stops), `idle` wakes the waiter when the last one is
 * done.
 */
#include "delivery/workpool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"

struct workpool {
	pthread_mutex_t mu;
	pthread_cond_t work, idle;
	workpool_fn *fn;
	void *ctx;
	size_t *items, cap;
	size_t posted, taken, done;
	int stop;
	size_t n;
	pthread_t *tid;
	struct thread_arg {
		struct workpool *p;
		size_t index;
	} * args;
};

static void *run(void *arg)
{
	struct thread_arg *a = arg;
	struct workpool *p = a->p;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->taken == p->posted && !p->stop)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->taken == p->posted) /* stopping, and nothing left */
			break;
		size_t item = p->items[p->taken++];
		pthread_mutex_unlock(&p->mu);
		p->fn(p->ctx, a->index, item);
		pthread_mutex_lock(&p->mu);
		if (++p->done == p->posted)
			pthread_cond_signal(&p->idle);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct workpool *workpool_new(size_t n, size_t cap, workpool_fn *fn, void *ctx)
{
	struct workpool *p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->idle, NULL);
	p->fn = fn;
	p->ctx = ctx;
	p->cap = cap ? cap : 1;
	p->items = xcalloc(p->cap, sizeof(*p->items));
	p->n = n ? n : 1;
	p->tid = xcalloc(p->n, sizeof(*p->tid));
	p->args = xcalloc(p->n, sizeof(*p->args));
	for (size_t i = 0; i < p->n; i++) {
		p->args[i].p = p;
		p->args[i].index = i;
		int e = pthread_create(&p->tid[i], NULL, run, &p->args[i]);
		if (e != 0) {
			log_error("cannot start a delivery worker thread: %s", strerror(e));
			abort();
		}
	}
	return p;
}

void workpool_free(struct workpool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < p->n; i++)
		pthread_join(p->tid[i], NULL);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->idle);
	pthread_mutex_destroy(&p->mu);
	free(p->items);
	free(p->tid);
	free(p->args);
	free(p);
}

size_t workpool_threads(const struct workpool *p)
{
	return p->n;
}

void workpool_post(struct workpool *p, size_t item)
{
	pthread_mutex_lock(&p->mu);
	if (p->posted >= p->cap) { /* a bug in the caller: more than it said */
		log_error("workpool: more than %zu items posted in one batch", p->cap);
		abort();
	}
	p->items[p->posted++] = item;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
}

void workpool_wait(struct workpool *p)
{
	pthread_mutex_lock(&p->mu);
	while (p->done < p->posted)
		pthread_cond_wait(&p->idle, &p->mu);
	p->posted = p->taken = p->done = 0;
	pthread_mutex_unlock(&p->mu);
}
