/*
 * spool.c - the intake spool (see spool.h): seal and store, then handle in
 * a worker thread, crash-counted.
 *
 * Sealed form: the envelope recipient, LF, the message. The associated data
 * "intake-spool" binds it to its purpose; the per-row key binds it to its
 * row (a blob moved to another row does not open under that row's key).
 *
 * TRUST: see spool.h. Bounds: LK_MAX_ADDRESS, LK_MAX_MESSAGE.
 */
#include "intake/spool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "crypto/pii.h"
#include "intake/route.h"

#define SPOOL_AD "intake-spool"
#define SPOOL_BATCH 64
#define SEALED_MAX (LK_MAX_MESSAGE + LK_MAX_ADDRESS + 1 + PII_OVERHEAD)

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

int intake_spool_put(struct store *st, const struct keys *keys, const char *rcpt, size_t rcpt_len,
		     const char *msg, size_t len, int64_t now, int64_t *id)
{
	if (rcpt_len == 0 || rcpt_len > LK_MAX_ADDRESS || memchr(rcpt, '\n', rcpt_len) != NULL ||
	    len > LK_MAX_MESSAGE)
		return STORE_ERR;
	uint8_t key[PII_KEY_LEN];
	struct spool_rec r;
	memset(&r, 0, sizeof(r));
	struct buf plain, sealed;
	buf_init(&plain, LK_MAX_MESSAGE + LK_MAX_ADDRESS + 1);
	buf_init(&sealed, SEALED_MAX);
	buf_append(&plain, rcpt, rcpt_len);
	buf_putc(&plain, '\n');
	buf_append(&plain, msg, len);
	pii_key_new(key);
	pii_key_wrap(keys, key, r.wrapped_key);
	int rc =
	    pii_seal(key, SPOOL_AD, plain.data, plain.len, &sealed) == 0 ? STORE_OK : STORE_ERR;
	explicit_bzero(key, sizeof(key));
	explicit_bzero(plain.data, plain.len);
	buf_free(&plain);
	r.received = r.updated = now;
	r.data = (uint8_t *)sealed.data;
	r.data_len = sealed.len;
	r.size = (int64_t)len;
	if (rc == STORE_OK)
		rc = store_begin(st);
	if (rc == STORE_OK) {
		rc = store_spool_insert(st, &r);
		if (rc == STORE_OK)
			rc = store_commit(st);
		if (rc != STORE_OK)
			store_rollback(st);
	}
	if (rc == STORE_OK)
		*id = r.id;
	buf_free(&sealed);
	return rc;
}

int intake_spool_open(const struct keys *keys, const struct spool_rec *r, struct buf *rcpt,
		      struct buf *msg)
{
	uint8_t key[PII_KEY_LEN];
	struct buf plain;
	buf_init(&plain, LK_MAX_MESSAGE + LK_MAX_ADDRESS + 1);
	int ok = r->data != NULL &&
		 pii_key_unwrap(keys, r->wrapped_key, PII_WRAPPED_LEN, key) == 0 &&
		 pii_open(key, SPOOL_AD, r->data, r->data_len, &plain) == 0;
	explicit_bzero(key, sizeof(key));
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

/* --- handling ---------------------------------------------------------------- */

/* One row's change of attempts/quarantine/time, in its own transaction. */
static int set_row(struct store *st, int64_t id, int attempts, int64_t quarantined, int64_t updated)
{
	int r = store_begin(st);
	if (r != STORE_OK)
		return r;
	r = store_spool_set(st, id, attempts, quarantined, updated);
	if (r == STORE_OK)
		r = store_commit(st);
	if (r != STORE_OK)
		store_rollback(st);
	return r;
}

static int quarantine(struct store *st, const struct spool_rec *r, const char *why)
{
	int64_t now = now_s();
	char detail[96];
	bsnprintf(detail, sizeof(detail), "spool=%lld attempts=%d reason=%s", (long long)r->id,
		  r->attempts, why);
	int rc = store_begin(st);
	if (rc != STORE_OK)
		return rc;
	rc = store_spool_set(st, r->id, r->attempts, now, now);
	if (rc == STORE_OK)
		rc = store_count_add(st, 0, now / 86400, "intake-quarantined", 1);
	if (rc == STORE_OK)
		rc = store_audit(st, now, "intake", "intake-quarantine", 0, 0, detail);
	if (rc == STORE_OK)
		rc = store_commit(st);
	if (rc != STORE_OK)
		store_rollback(st);
	else
		log_warnx("intake: spool=%lld set aside in quarantine (%s) after %d attempts; "
			  "see `listkeeper intake quarantine ls`",
			  (long long)r->id, why, r->attempts);
	return rc;
}

static int drop(struct store *st, int64_t id)
{
	int r = store_begin(st);
	if (r != STORE_OK)
		return r;
	r = store_spool_delete(st, id);
	if (r == STORE_OK || r == STORE_NOTFOUND)
		r = store_commit(st);
	if (r != STORE_OK)
		store_rollback(st);
	return r;
}

/* Handles one row. Returns STORE_OK when the row is done with (handled,
 * dropped or quarantined), or the store error that stopped it. */
static int run_one(struct intake *in, const struct keys *keys, struct store *st, int64_t id)
{
	struct spool_rec r;
	memset(&r, 0, sizeof(r));
	int rc = store_spool_get(st, id, &r);
	if (rc != STORE_OK)
		return rc == STORE_NOTFOUND ? STORE_OK : rc;
	if (r.quarantined != 0) {
		spool_rec_free(&r);
		return STORE_OK;
	}
	if (r.attempts >= LK_INTAKE_MAX_ATTEMPTS) {
		rc = quarantine(st, &r, "crashed");
		spool_rec_free(&r);
		return rc;
	}
	struct buf rcpt, msg;
	buf_init(&rcpt, LK_MAX_ADDRESS + 1);
	buf_init(&msg, LK_MAX_MESSAGE);
	if (intake_spool_open(keys, &r, &rcpt, &msg) < 0) {
		rc = quarantine(st, &r, "does-not-open");
		goto done;
	}
	/* Counted before it is tried: a crash from here on is remembered. */
	rc = set_row(st, r.id, r.attempts + 1, 0, now_s());
	if (rc != STORE_OK)
		goto done;
	if (lk_test_intake_hook)
		lk_test_intake_hook(msg.data != NULL ? msg.data : "", msg.len);
	struct intake_target *t = NULL;
	struct intake_result res;
	enum intake_verdict v = intake_rcpt(in, rcpt.data, rcpt.len, &t, &res);
	if (v == INTAKE_OK)
		v = intake_deliver(in, t, msg.data != NULL ? msg.data : "", msg.len, &res);
	intake_target_free(t);
	switch (v) {
	case INTAKE_OK:
		rc = drop(st, r.id);
		break;
	case INTAKE_UNKNOWN:
	case INTAKE_BAD_DATA:
		log_info("intake: spool=%lld dropped: %s", (long long)r.id, res.line);
		rc = drop(st, r.id);
		break;
	case INTAKE_TEMPFAIL:
		log_info("intake: spool=%lld deferred %ds: %s", (long long)r.id,
			 LK_INTAKE_RETRY_SECONDS, res.line);
		rc = set_row(st, r.id, r.attempts, 0, now_s() + LK_INTAKE_RETRY_SECONDS);
		break;
	}
done:
	if (rcpt.data != NULL)
		explicit_bzero(rcpt.data, rcpt.len);
	if (msg.data != NULL)
		explicit_bzero(msg.data, msg.len);
	buf_free(&rcpt);
	buf_free(&msg);
	spool_rec_free(&r);
	return rc;
}

struct batch {
	int64_t id[SPOOL_BATCH];
	int attempts[SPOOL_BATCH];
	int n;
};

static int collect(void *ctx, const struct spool_rec *r)
{
	struct batch *b = ctx;
	b->id[b->n] = r->id;
	b->attempts[b->n] = r->attempts;
	b->n++;
	return b->n == SPOOL_BATCH;
}

/* Handles the pending rows with updated <= due. */
static int drain(struct intake *in, const struct keys *keys, struct store *st, int64_t due,
		 const atomic_int *stop)
{
	int64_t after = 0;
	int done = 0;
	for (;;) {
		struct batch b = {0};
		if (store_spool_each(st, 0, after, due, SPOOL_BATCH, collect, &b) != STORE_OK)
			return -1;
		if (b.n == 0)
			return done;
		after = b.id[b.n - 1];
		/* Fresh rows first, then those that were tried already: a message
		 * that crashes its handler does not hold up the others. */
		for (int pass = 0; pass < 2; pass++)
			for (int i = 0; i < b.n; i++) {
				if ((b.attempts[i] == 0) != (pass == 0))
					continue;
				if (stop != NULL && atomic_load(stop))
					return done;
				if (run_one(in, keys, st, b.id[i]) != STORE_OK) {
					log_warnx("intake: spool=%lld: %s", (long long)b.id[i],
						  store_errmsg(st));
					return -1;
				}
				done++;
			}
	}
}

int intake_spool_drain(const struct conf *conf, const struct keys *keys, struct store *st)
{
	struct intake *in = intake_new(conf, keys, st);
	int n = drain(in, keys, st, now_s(), NULL);
	intake_free(in);
	return n;
}

/* --- the worker ---------------------------------------------------------------- */

struct intake_spool {
	const struct conf *conf;
	const struct keys *keys;
	struct store *st;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int kicked;
	atomic_int stop;
};

static void *worker_main(void *arg)
{
	struct intake_spool *sp = arg;
	struct intake *in = intake_new(sp->conf, sp->keys, sp->st);
	/* The first pass takes everything an earlier run left. After that, a
	 * kick (a session's 250 is out) takes every row due now, and a pass on
	 * the timer only rows a few seconds old: those spooled by another
	 * process (inject) or deferred. A row of ours is never handled before
	 * its 250 was written, so a crash cannot take the 250 with it. */
	int kicked = 1;
	while (!atomic_load(&sp->stop)) {
		int64_t now = now_s();
		int n = drain(in, sp->keys, sp->st, kicked ? now : now - 2, &sp->stop);
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
	intake_free(in);
	return NULL;
}

struct intake_spool *intake_spool_start(const struct conf *conf, const struct keys *keys,
					struct buf *err)
{
	struct store *st = store_open(conf, 0, err);
	if (st == NULL)
		return NULL;
	struct intake_spool *sp = xcalloc(1, sizeof(*sp));
	sp->conf = conf;
	sp->keys = keys;
	sp->st = st;
	atomic_init(&sp->stop, 0);
	pthread_mutex_init(&sp->mu, NULL);
	pthread_cond_init(&sp->cv, NULL);
	if (pthread_create(&sp->thread, NULL, worker_main, sp) != 0) {
		buf_puts(err, "cannot start the intake spool worker");
		pthread_mutex_destroy(&sp->mu);
		pthread_cond_destroy(&sp->cv);
		store_close(st);
		free(sp);
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
	atomic_store(&sp->stop, 1);
	intake_spool_kick(sp);
	pthread_join(sp->thread, NULL);
	pthread_mutex_destroy(&sp->mu);
	pthread_cond_destroy(&sp->cv);
	store_close(sp->st);
	free(sp);
}
