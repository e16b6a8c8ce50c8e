/*
 * spool_commit.c - the committer of the intake spool (spool_int.h): the
 * LMTP sessions queue their sealed rows, one thread puts all that is
 * queued in one durable commit of the queue and wakes each session with
 * the outcome (group commit: one sync for many 250s).
 *
 * TRUST: none of its own; rows are sealed by their sessions.
 */
#include "intake/spool_int.h"

#include <pthread.h>
#include <stdlib.h>

#include "core/log.h"
#include "core/xmalloc.h"

/* A row waiting for the committer: sealed by its session. */
struct pending {
	struct spool_rec *r;
	int rc;		   /* the outcome, once done */
	int done;	   /* under the committer's mutex */
	pthread_cond_t cv; /* done: its session alone is woken */
	struct pending *next;
};

struct spool_committer {
	const struct spool_queue_ops *ops;
	struct spool_queue *q;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cnew; /* a row was queued, or stop */
	struct pending *queue;
	int stop;
};

/* Takes what the sessions queued, puts it all in one commit, and wakes the
 * sessions. */
static void *committer_main(void *arg)
{
	struct spool_committer *c = arg;
	struct spool_rec **rows = NULL;
	size_t cap = 0;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (c->queue == NULL && !c->stop)
			pthread_cond_wait(&c->cnew, &c->mu);
		if (c->queue == NULL)
			break;
		struct pending *batch = c->queue;
		c->queue = NULL;
		pthread_mutex_unlock(&c->mu);
		size_t n = 0;
		for (struct pending *p = batch; p != NULL; p = p->next) {
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				rows = xreallocarray(rows, cap, sizeof(*rows));
			}
			rows[n++] = p->r;
		}
		int rc = c->ops->put(c->q, rows, n);
		if (rc != STORE_OK)
			log_warnx("intake: cannot spool messages: %s", c->ops->errmsg(c->q));
		pthread_mutex_lock(&c->mu);
		for (struct pending *p = batch, *next; p != NULL; p = next) {
			next = p->next; /* p is its session's once done */
			p->rc = rc;
			p->done = 1;
			pthread_cond_signal(&p->cv);
		}
	}
	pthread_mutex_unlock(&c->mu);
	free(rows);
	return NULL;
}

struct spool_committer *spool_committer_start(const struct spool_queue_ops *ops,
					      struct spool_queue *q)
{
	struct spool_committer *c = xcalloc(1, sizeof(*c));
	c->ops = ops;
	c->q = q;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cnew, NULL);
	if (pthread_create(&c->thread, NULL, committer_main, c) != 0) {
		pthread_cond_destroy(&c->cnew);
		pthread_mutex_destroy(&c->mu);
		free(c);
		return NULL;
	}
	return c;
}

int spool_committer_put(struct spool_committer *c, struct spool_rec *r)
{
	struct pending p = {.r = r};
	pthread_cond_init(&p.cv, NULL);
	pthread_mutex_lock(&c->mu);
	p.next = c->queue;
	c->queue = &p;
	pthread_cond_signal(&c->cnew);
	while (!p.done)
		pthread_cond_wait(&p.cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
	pthread_cond_destroy(&p.cv);
	return p.rc;
}

void spool_committer_stop(struct spool_committer *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = 1; /* what is queued is committed first */
	pthread_cond_signal(&c->cnew);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->cnew);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
