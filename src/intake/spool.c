/*
 * spool.c - the intake spool (see spool.h and, for its parts, spool_int.h):
 * the sealed form of a row, and the intake role's spool, which runs the
 * committer (spool_commit.c) and a worker thread (spool_worker.c) over the
 * SQLite queue (spool_sqlite.c).
 *
 * Sealed form: the envelope recipient, LF, the message. The associated data
 * "intake-spool" binds it to its purpose; the per-row key binds it to its
 * row (a blob moved to another row does not open under that row's key).
 *
 * TRUST: see spool.h. Bounds: LK_MAX_ADDRESS, LK_MAX_MESSAGE.
 */
#include "intake/spool_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "crypto/pii.h"

#define SPOOL_AD "intake-spool"
#define SEALED_MAX (LK_MAX_MESSAGE + LK_MAX_ADDRESS + 1 + PII_OVERHEAD)

int spool_seal(const struct keys *keys, const char *rcpt, size_t rcpt_len, const char *msg,
	       size_t len, int64_t now, struct spool_rec *r)
{
	memset(r, 0, sizeof(*r));
	if (rcpt_len == 0 || rcpt_len > LK_MAX_ADDRESS || memchr(rcpt, '\n', rcpt_len) != NULL ||
	    len > LK_MAX_MESSAGE)
		return STORE_ERR;
	struct buf plain, sealed;
	buf_init(&plain, LK_MAX_MESSAGE + LK_MAX_ADDRESS + 1);
	buf_init(&sealed, SEALED_MAX);
	buf_append(&plain, rcpt, rcpt_len);
	buf_putc(&plain, '\n');
	buf_append(&plain, msg, len);
	struct pii_part part = {SPOOL_AD, plain.data, plain.len, &sealed};
	int rc = pii_seal_fresh(keys, r->wrapped_key, &part, 1) == 0 ? STORE_OK : STORE_ERR;
	explicit_bzero(plain.data, plain.len);
	buf_free(&plain);
	r->received = r->updated = now;
	r->data = (uint8_t *)sealed.data;
	r->data_len = sealed.len;
	r->size = (int64_t)len;
	return rc;
}

int intake_spool_open(const struct keys *keys, const struct spool_rec *r, struct buf *rcpt,
		      struct buf *msg)
{
	struct buf plain;
	buf_init(&plain, LK_MAX_MESSAGE + LK_MAX_ADDRESS + 1);
	int ok = r->data != NULL && pii_open_wrapped(keys, r->wrapped_key, PII_WRAPPED_LEN,
						     SPOOL_AD, r->data, r->data_len, &plain) == 0;
	const char *nl = ok ? memchr(plain.data, '\n', plain.len) : NULL;
	if (nl != NULL) {
		size_t rl = (size_t)(nl - plain.data);
		buf_append(rcpt, plain.data, rl);
		buf_append(msg, nl + 1, plain.len - rl - 1);
	}
	if (plain.data != NULL)
		explicit_bzero(plain.data, plain.len);
	buf_free(&plain);
	return nl != NULL ? 0 : -1;
}

/* --- the intake role's spool ---------------------------------------------------- */

struct intake_spool {
	const struct conf *conf;
	const struct keys *keys;
	struct tmpl_set *tmpl; /* the mails that commands queue (tmpl_set_load_conf) */
	struct store *st;      /* the worker's: the database */
	struct store *wsq;     /* the worker's: the spool, synchronous=NORMAL */
	struct store *cst;     /* the committer's: the spool, synchronous=FULL */
	struct spool_queue *q;
	struct spool_committer *committer;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int kicked;
	atomic_int stop;
};

int intake_spool_submit(struct intake_spool *sp, const char *rcpt, size_t rcpt_len, const char *msg,
			size_t len)
{
	struct spool_rec r;
	int rc = spool_seal(sp->keys, rcpt, rcpt_len, msg, len, clock_now(), &r);
	if (rc == STORE_OK)
		rc = spool_committer_put(sp->committer, &r);
	spool_rec_free(&r);
	return rc;
}

static void *worker_main(void *arg)
{
	struct intake_spool *sp = arg;
	struct spool_worker *w =
	    spool_worker_new(sp->conf, sp->keys, sp->st, sp->tmpl, &spool_queue_sqlite, sp->q);
	/* The first pass takes everything an earlier run left. After that, a
	 * kick (a session's 250 is out) takes every row due now, and a pass on
	 * the timer only rows a few seconds old: those spooled by another
	 * process (inject) or deferred. A row of ours is never handled before
	 * its 250 was written, so a crash cannot take the 250 with it. */
	int kicked = 1;
	spool_worker_begin(w);
	while (!atomic_load(&sp->stop)) {
		int64_t now = clock_now();
		int n = spool_worker_drain(w, kicked ? now : now - 2, &sp->stop);
		spool_worker_tidy(w, kicked ? SPOOL_TIDY_KICKED : SPOOL_TIDY_QUIET);
		pthread_mutex_lock(&sp->mu);
		if (!sp->kicked && !atomic_load(&sp->stop)) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += n < 0 ? 5 : 1;
			pthread_cond_timedwait(&sp->cv, &sp->mu, &ts);
		}
		kicked = sp->kicked;
		sp->kicked = 0;
		pthread_mutex_unlock(&sp->mu);
	}
	/* the committer has stopped: the handled rows deleted, synced */
	spool_worker_tidy(w, SPOOL_TIDY_FINAL);
	spool_worker_free(w);
	return NULL;
}

static void stop_worker(struct intake_spool *sp)
{
	atomic_store(&sp->stop, 1);
	intake_spool_kick(sp);
	pthread_join(sp->thread, NULL);
}

static void spool_free(struct intake_spool *sp)
{
	tmpl_set_free(sp->tmpl);
	pthread_mutex_destroy(&sp->mu);
	pthread_cond_destroy(&sp->cv);
	spool_queue_sqlite.free(sp->q);
	store_close(sp->st);
	store_close(sp->wsq);
	store_close(sp->cst);
	free(sp);
}

struct intake_spool *intake_spool_start(const struct conf *conf, const struct keys *keys,
					struct buf *err)
{
	/* The worker's marks and deletions in the spool are not synced: a
	 * process crash keeps them (WAL), a power loss at worst loses an
	 * attempt's count (a deleted row comes back with its handling's marker,
	 * synced before the deletion). The committer's inserts are (the 250
	 * waits for it). */
	struct tmpl_set *tmpl = tmpl_set_load_conf(conf, err);
	struct store *st = tmpl != NULL ? store_open(conf, 0, err) : NULL;
	struct store *wsq = st != NULL ? store_spool_open(conf, err) : NULL;
	struct store *cst = wsq != NULL ? store_spool_open(conf, err) : NULL;
	if (cst == NULL || store_set_durable(wsq, 0) != STORE_OK) {
		tmpl_set_free(tmpl);
		store_close(st);
		store_close(wsq);
		store_close(cst);
		return NULL;
	}
	struct intake_spool *sp = xcalloc(1, sizeof(*sp));
	sp->conf = conf;
	sp->keys = keys;
	sp->tmpl = tmpl;
	sp->st = st;
	sp->wsq = wsq;
	sp->cst = cst;
	sp->q = spool_sqlite_new(wsq, cst, st);
	atomic_init(&sp->stop, 0);
	pthread_mutex_init(&sp->mu, NULL);
	pthread_cond_init(&sp->cv, NULL);
	int worker = pthread_create(&sp->thread, NULL, worker_main, sp) == 0;
	sp->committer = worker ? spool_committer_start(&spool_queue_sqlite, sp->q) : NULL;
	if (sp->committer == NULL) {
		buf_puts(err, "cannot start the intake spool threads");
		if (worker)
			stop_worker(sp);
		spool_free(sp);
		return NULL;
	}
	return sp;
}

void intake_spool_kick(struct intake_spool *sp)
{
	pthread_mutex_lock(&sp->mu);
	sp->kicked = 1;
	pthread_cond_signal(&sp->cv);
	pthread_mutex_unlock(&sp->mu);
}

void intake_spool_stop(struct intake_spool *sp)
{
	if (sp == NULL)
		return;
	spool_committer_stop(sp->committer); /* what is queued is committed first */
	stop_worker(sp);
	spool_free(sp);
}
