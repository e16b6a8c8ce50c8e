/*
 * writer.c - group commit for the web role (see writer.h).
 *
 * A job lives on the stack of the worker that waits for it; the queue links
 * them in arrival order. The thread takes at most LK_WEB_WRITER_BATCH jobs
 * at a time, so that a long queue is answered in steps.
 *
 * TRUST: no outside input.
 */
#include "web/writer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "web/scrub.h"

struct job {
	writer_fn fn;
	void *arg;
	struct buf *err;
	int result;
	int done;		/* under mu */
	writer_done_fn on_done; /* writer_submit: called, then the job freed */
	struct job *next;
};

struct writer {
	const struct conf *conf;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work; /* a job was queued, or stopping */
	pthread_cond_t done; /* a batch or a scrub ended */
	struct job *head, **tail;
	int stopping;
	/* writer_scrub: asked and done so far, and the code of the last one */
	unsigned long scrubs_asked, scrubs_done;
	int scrub_result;
	char scrub_err[256]; /* the store's message when scrub_result is not STORE_OK */
	struct store *st;    /* the writer thread's own; opened on first use */
};

static void set_err(struct job *j, struct store *st)
{
	if (j->err != NULL && j->result < 0 && st != NULL) {
		j->err->len = 0;
		buf_puts(j->err, store_errmsg(st));
	}
}

/* The store, opened now if it is not yet; NULL (logged) if it cannot be:
 * the next batch tries again. */
static struct store *writer_store(struct writer *w)
{
	if (w->st != NULL)
		return w->st;
	struct buf err;
	buf_init(&err, 4096);
	w->st = store_open(w->conf, 0, &err);
	if (w->st == NULL)
		log_warnx("web: the writer cannot open the store: %s", buf_cstr(&err));
	else if (store_set_batch(w->st, 1) != STORE_OK) {
		log_warnx("web: the writer's store: %s", store_errmsg(w->st));
		store_close(w->st);
		w->st = NULL;
	}
	buf_free(&err);
	return w->st;
}

/* Runs the n jobs from first: in one transaction when there are several;
 * if that fails, each in a transaction of its own. */
static void run_batch(struct writer *w, struct job *first, size_t n)
{
	struct store *st = writer_store(w);
	struct job *j;
	size_t i;
	if (st == NULL) {
		for (j = first, i = 0; i < n; j = j->next, i++) {
			j->result = STORE_ERR;
			if (j->err != NULL) {
				j->err->len = 0;
				buf_puts(j->err, "the store cannot be opened");
			}
		}
		return;
	}
	int r = STORE_ERR;
	if (n > 1 && (r = store_begin(st)) == STORE_OK) {
		for (j = first, i = 0; i < n; j = j->next, i++)
			j->result = j->fn(st, j->arg);
		r = store_commit(st);
		if (r != STORE_OK)
			store_rollback(st);
	}
	if (n > 1 && r == STORE_BUSY) { /* the lock did not come: nobody else would get it */
		for (j = first, i = 0; i < n; j = j->next, i++) {
			j->result = r;
			set_err(j, st);
		}
		return;
	}
	if (n == 1 || r != STORE_OK) {
		for (j = first, i = 0; i < n; j = j->next, i++) {
			j->result = j->fn(st, j->arg);
			set_err(j, st);
		}
	}
	web_scrub_soon(); /* the checkpoint this connection leaves to the scrubber */
}

/* store_scrub on the writer's connection, between two batches; the
 * message of a failure in msg. */
static int run_scrub(struct writer *w, char *msg, size_t cap)
{
	struct store *st = writer_store(w);
	int r = st != NULL ? store_scrub(st) : STORE_ERR;
	if (r != STORE_OK)
		bsnprintf(msg, cap, "%s",
			  st != NULL ? store_errmsg(st) : "the store cannot be opened");
	return r;
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	pthread_setname_np(pthread_self(), "lk-web-writer");
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->head == NULL && w->scrubs_asked == w->scrubs_done && !w->stopping)
			pthread_cond_wait(&w->work, &w->mu);
		if (w->head != NULL) {
			struct job *first = w->head, *last = first;
			size_t n = 1;
			while (n < LK_WEB_WRITER_BATCH && last->next != NULL) {
				last = last->next;
				n++;
			}
			w->head = last->next;
			if (w->head == NULL)
				w->tail = &w->head;
			pthread_mutex_unlock(&w->mu);
			run_batch(w, first, n);
			struct job *later = NULL, **later_tail = &later; /* writer_submit's */
			pthread_mutex_lock(&w->mu);
			for (size_t i = 0; i < n; i++) {
				struct job *j = first;
				first = j->next; /* read before the worker may go */
				if (j->on_done != NULL) {
					j->next = NULL;
					*later_tail = j;
					later_tail = &j->next;
				} else
					j->done = 1;
			}
			pthread_cond_broadcast(&w->done);
			pthread_mutex_unlock(&w->mu);
			while (later != NULL) {
				struct job *j = later;
				later = j->next;
				j->on_done(j->arg, j->result);
				free(j);
			}
			pthread_mutex_lock(&w->mu);
		}
		/* A scrub asked for comes after the batch in hand (its answers
		 * do not wait for it), before the next. */
		if (w->scrubs_asked != w->scrubs_done) {
			unsigned long asked = w->scrubs_asked;
			char msg[sizeof(w->scrub_err)] = "";
			pthread_mutex_unlock(&w->mu);
			int r = run_scrub(w, msg, sizeof(msg));
			pthread_mutex_lock(&w->mu);
			w->scrub_result = r;
			memcpy(w->scrub_err, msg, sizeof(msg));
			w->scrubs_done = asked;
			pthread_cond_broadcast(&w->done);
		}
		if (w->head == NULL && w->scrubs_asked == w->scrubs_done && w->stopping)
			break; /* nothing left */
	}
	pthread_mutex_unlock(&w->mu);
	if (w->st != NULL) {
		store_set_batch(w->st, 0); /* checkpoints and truncates the WAL */
		store_close(w->st);
		w->st = NULL;
	}
	return NULL;
}

struct writer *writer_new(const struct conf *c, struct buf *err)
{
	struct writer *w = xcalloc(1, sizeof(*w));
	w->conf = c;
	w->tail = &w->head;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->done, NULL);
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		buf_puts(err, "cannot start the web server's writer thread");
		pthread_cond_destroy(&w->done);
		pthread_cond_destroy(&w->work);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return NULL;
	}
	return w;
}

/* Queues j and wakes the thread; returns with w->mu held. */
static void enqueue(struct writer *w, struct job *j)
{
	pthread_mutex_lock(&w->mu);
	*w->tail = j;
	w->tail = &j->next;
	pthread_cond_signal(&w->work);
}

int writer_run(struct writer *w, writer_fn fn, void *arg, struct buf *err)
{
	struct job j = {fn, arg, err, STORE_ERR, 0, NULL, NULL};
	enqueue(w, &j);
	while (!j.done)
		pthread_cond_wait(&w->done, &w->mu);
	pthread_mutex_unlock(&w->mu);
	return j.result;
}

void writer_submit(struct writer *w, writer_fn fn, void *arg, struct buf *err,
		   writer_done_fn on_done)
{
	struct job *j = xcalloc(1, sizeof(*j));
	j->fn = fn;
	j->arg = arg;
	j->err = err;
	j->result = STORE_ERR;
	j->on_done = on_done;
	enqueue(w, j);
	pthread_mutex_unlock(&w->mu);
}

int writer_scrub(struct writer *w, struct buf *err)
{
	pthread_mutex_lock(&w->mu);
	unsigned long mine = ++w->scrubs_asked;
	pthread_cond_signal(&w->work);
	while (w->scrubs_done < mine)
		pthread_cond_wait(&w->done, &w->mu);
	int r = w->scrub_result;
	if (r != STORE_OK && err != NULL) {
		err->len = 0;
		buf_puts(err, w->scrub_err);
	}
	pthread_mutex_unlock(&w->mu);
	return r;
}

void writer_free(struct writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->done);
	pthread_cond_destroy(&w->work);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
