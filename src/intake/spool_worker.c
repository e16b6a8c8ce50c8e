/*
 * spool_worker.c - the worker of the intake spool (see spool.h): handles
 * the pending rows in id order, crash-counted, through the queue's
 * operations (spool_queue.h) and the database's transactions; and `inject`,
 * which spools and handles one message alone.
 *
 * Per row: its attempt counted and committed in the queue, then, in one
 * transaction of the database, the queue's claim and the handling
 * (intake/route.c); after the commit the row is handled. Fresh rows go as a
 * group (one count, one transaction); a row tried before goes alone, so
 * that only a message that crashes its handler again is set aside.
 *
 * TRUST: see spool.h. The rows are opened here (intake_spool_open).
 */
#include "intake/spool_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "intake/route.h"

#define SPOOL_BATCH 64

/* What handling needs: the queue, and the database (st, that of in). */
struct spool_worker {
	struct intake *in;
	const struct keys *keys;
	struct store *st;
	const struct spool_queue_ops *ops;
	struct spool_queue *q;
};

/* Set aside in the spool inside the database's transaction that counts and
 * audits it (two files: a failed commit of the database after the spool's
 * leaves it set aside without its count). */
static int quarantine(struct spool_worker *x, const struct spool_rec *r, const char *why)
{
	int64_t now = clock_now();
	char detail[96];
	bsnprintf(detail, sizeof(detail), "spool=%lld attempts=%d reason=%s", (long long)r->id,
		  r->attempts, why);
	int rc = store_begin(x->st);
	if (rc != STORE_OK)
		return rc;
	rc = store_stats_add(x->st, &(struct stat_rec){.day = now / 86400,
						       .counter = STORE_STAT_INTAKE_QUARANTINED,
						       .key = "",
						       .value = 1});
	if (rc == STORE_OK)
		rc = store_audit(x->st, now, "intake", "intake-quarantine", 0, 0, detail);
	if (rc == STORE_OK)
		rc = x->ops->set(x->q, r->id, r->attempts, now, now);
	if (rc == STORE_OK)
		rc = store_commit(x->st);
	if (rc != STORE_OK)
		store_rollback(x->st);
	else
		log_warnx("intake: spool=%lld set aside in quarantine (%s) after %d attempts; "
			  "see `listkeeper intake quarantine ls`",
			  (long long)r->id, why, r->attempts);
	return rc;
}

/* Hands one opened row to route.c in a transaction of the database (a
 * savepoint when the caller has one open) that first marks it handled
 * (the queue's claim): a row marked already (handled before a crash took
 * its deletion, or by another process) is not handled again (*again set).
 * What became of it in *v. A temporary failure rolls its transaction back
 * and defers the row (its attempt undone); otherwise the row is to be
 * deleted once the outermost transaction is committed. STORE_OK, or the
 * store error that stopped it. */
static int handle(struct spool_worker *x, const struct spool_rec *r, const struct buf *rcpt,
		  const struct buf *msg, enum intake_verdict *v, int *again,
		  struct intake_result *res)
{
	*v = INTAKE_TEMPFAIL;
	*again = 0;
	int rc = store_begin(x->st);
	int begun = rc == STORE_OK;
	if (begun)
		rc = x->ops->claim(x->q, r);
	if (rc == STORE_EXISTS) {
		log_info("intake: spool=%lld handled already", (long long)r->id);
		*again = 1;
		*v = res->verdict = INTAKE_OK;
		bsnprintf(res->line, sizeof(res->line), "250 2.0.0 Ok");
		rc = STORE_OK;
	} else if (rc == STORE_OK) {
		if (lk_test_intake_hook)
			lk_test_intake_hook(msg->data != NULL ? msg->data : "", msg->len);
		struct intake_target *t = NULL;
		const char *m = msg->data != NULL ? msg->data : "";
		*v = intake_rcpt(x->in, rcpt->data, rcpt->len, &t, res);
		if (*v == INTAKE_OK)
			*v = intake_deliver(x->in, t, m, msg->len, res);
		intake_target_free(t);
	}
	if (rc == STORE_OK && *v != INTAKE_TEMPFAIL)
		rc = store_commit(x->st);
	if (rc != STORE_OK || *v == INTAKE_TEMPFAIL) {
		if (begun)
			store_rollback(x->st);
		if (rc != STORE_OK) {
			log_info("intake: spool=%lld: %s", (long long)r->id, store_errmsg(x->st));
			bsnprintf(res->line, sizeof(res->line),
				  "451 4.3.0 Temporary local problem, try again later");
			res->verdict = *v = INTAKE_TEMPFAIL;
		}
	}
	switch (*v) {
	case INTAKE_OK:
		break;
	case INTAKE_UNKNOWN:
	case INTAKE_BAD_DATA:
		log_info("intake: spool=%lld dropped: %s", (long long)r->id, res->line);
		break;
	case INTAKE_TEMPFAIL:
		log_info("intake: spool=%lld deferred %ds: %s", (long long)r->id,
			 LK_INTAKE_RETRY_SECONDS, res->line);
		return x->ops->set(x->q, r->id, r->attempts, 0,
				   clock_now() + LK_INTAKE_RETRY_SECONDS);
	}
	return STORE_OK;
}

/* A row handled now (not again) and committed: its deletion to come. */
static void handled(struct spool_worker *x, const struct spool_rec *r, const struct buf *msg,
		    int again)
{
	x->ops->handled(x->q, r->id);
	if (!again && lk_test_intake_handled_hook)
		lk_test_intake_handled_hook(msg->data != NULL ? msg->data : "", msg->len);
}

static void wipe(struct buf *b)
{
	if (b->data != NULL)
		explicit_bzero(b->data, b->len);
	buf_free(b);
}

/* Reads and opens row id for handling: 1 when it is to be handled (r, rcpt
 * and msg filled), 0 when there is nothing to do (gone, quarantined now),
 * or a store error (< 0). Quarantines a row tried too often or that does
 * not open. */
static int load(struct spool_worker *x, int64_t id, struct spool_rec *r, struct buf *rcpt,
		struct buf *msg)
{
	memset(r, 0, sizeof(*r));
	buf_init(rcpt, LK_MAX_ADDRESS + 1);
	buf_init(msg, LK_MAX_MESSAGE);
	int rc = x->ops->get(x->q, id, r);
	if (rc != STORE_OK)
		return rc == STORE_NOTFOUND ? 0 : rc;
	if (r->quarantined != 0)
		return 0;
	if (r->attempts >= LK_INTAKE_MAX_ATTEMPTS) {
		rc = quarantine(x, r, "crashed");
		return rc == STORE_OK ? 0 : rc;
	}
	if (intake_spool_open(x->keys, r, rcpt, msg) < 0) {
		rc = quarantine(x, r, "does-not-open");
		return rc == STORE_OK ? 0 : rc;
	}
	return 1;
}

/* One row tried before (a crash or a failed group): alone, its attempt
 * counted and committed first. */
static int run_one(struct spool_worker *x, int64_t id)
{
	struct spool_rec r;
	struct buf rcpt, msg;
	int rc = load(x, id, &r, &rcpt, &msg);
	if (rc == 1) {
		r.attempts++;
		rc = x->ops->set(x->q, r.id, r.attempts, 0, clock_now());
		r.attempts--; /* what a deferral goes back to */
		enum intake_verdict v = INTAKE_TEMPFAIL;
		int again = 0;
		struct intake_result res;
		if (rc == STORE_OK)
			rc = handle(x, &r, &rcpt, &msg, &v, &again, &res);
		if (rc == STORE_OK && v != INTAKE_TEMPFAIL)
			handled(x, &r, &msg, again);
	}
	wipe(&rcpt);
	wipe(&msg);
	spool_rec_free(&r);
	return rc < 0 ? rc : STORE_OK;
}

/* A row of a group, opened. */
struct slot {
	struct spool_rec r;
	struct buf rcpt, msg;
	int loaded; /* load's answer: 1 to handle, 0 nothing to do, < 0 a store error */
	enum intake_verdict v;
	int again;
	int ran; /* handle was called: v is its verdict */
};

/* Fresh rows (never tried), as a group: one commit of the spool counts an
 * attempt for each (and deletes the rows handled before), then all are
 * handled in one transaction of the database. A crash charges every row of
 * the group one attempt; from then on they go one by one (run_one), so only
 * the row that crashes again is quarantined. A store error leaves the rest
 * of the group to run_one. */
static int run_group(struct spool_worker *x, const int64_t *ids, int n)
{
	int rc = x->ops->attempt(x->q, ids, n, clock_now());
	if (rc != STORE_OK)
		return rc;
	struct slot *s = xcalloc((size_t)n, sizeof(*s));
	for (int i = 0; i < n; i++) {
		s[i].loaded = load(x, ids[i], &s[i].r, &s[i].rcpt, &s[i].msg);
		if (s[i].loaded < 0)
			rc = s[i].loaded;
		else if (s[i].loaded == 1)
			s[i].r.attempts--; /* what a deferral goes back to: the count undone */
	}
	if (rc == STORE_OK)
		rc = store_begin(x->st);
	if (rc == STORE_OK) {
		rc = x->ops->group_begin(x->q);
		for (int i = 0; rc == STORE_OK && i < n; i++) {
			struct intake_result res;
			s[i].v = INTAKE_TEMPFAIL;
			if (s[i].loaded == 1) {
				rc = handle(x, &s[i].r, &s[i].rcpt, &s[i].msg, &s[i].v, &s[i].again,
					    &res);
				s[i].ran = 1;
			}
		}
		if (rc == STORE_OK)
			rc = store_commit(x->st);
		if (rc != STORE_OK)
			store_rollback(x->st);
		x->ops->group_end(x->q, rc == STORE_OK);
		/* A store error is no crash: the attempt counted for each row not
		 * deferred already (handle undid those) is undone, and they go one
		 * by one next (run_one), each counted again. */
		for (int i = 0; rc != STORE_OK && i < n; i++)
			if (s[i].loaded == 1 && !(s[i].ran && s[i].v == INTAKE_TEMPFAIL) &&
			    x->ops->set(x->q, s[i].r.id, s[i].r.attempts, 0, clock_now()) != STORE_OK)
				log_warnx("intake: spool=%lld: cannot undo its attempt",
					  (long long)s[i].r.id);
		if (rc == STORE_OK) {
			for (int i = 0; i < n; i++)
				if (s[i].loaded == 1 && s[i].v != INTAKE_TEMPFAIL)
					handled(x, &s[i].r, &s[i].msg, s[i].again);
		}
	}
	for (int i = 0; i < n; i++) {
		wipe(&s[i].rcpt);
		wipe(&s[i].msg);
		spool_rec_free(&s[i].r);
	}
	free(s);
	return rc;
}

struct batch {
	int64_t id[SPOOL_BATCH];
	int attempts[SPOOL_BATCH];
	int n, seen;
	int64_t last; /* the last row seen */
};

static int collect(void *ctx, const struct spool_rec *r)
{
	struct batch *b = ctx;
	b->id[b->n] = r->id;
	b->attempts[b->n] = r->attempts;
	b->n++;
	return b->n == SPOOL_BATCH;
}

/* Handles the pending rows with updated <= due: fresh ones first, as a
 * group, then those tried before, one by one, so that a message that
 * crashes its handler does not hold up the others. */
static int drain_rows(struct spool_worker *x, int64_t due, const atomic_int *stop)
{
	int64_t after = 0;
	int done = 0;
	for (;;) {
		struct batch b = {0};
		if (x->ops->due(x->q, after, due, SPOOL_BATCH, collect, &b, &b.seen, &b.last) !=
		    STORE_OK)
			return -1;
		if (b.seen == 0)
			return done;
		after = b.last;
		int64_t fresh[SPOOL_BATCH];
		int nf = 0;
		for (int i = 0; i < b.n; i++)
			if (b.attempts[i] == 0)
				fresh[nf++] = b.id[i];
		int group_ok = nf == 0 || run_group(x, fresh, nf) == STORE_OK;
		if (!group_ok)
			log_warnx("intake: a group of %d spooled messages failed (%s / %s); they "
				  "are tried one by one",
				  nf, x->ops->errmsg(x->q), store_errmsg(x->st));
		for (int i = 0; i < b.n; i++) {
			if (b.attempts[i] == 0 && group_ok)
				continue;
			if (stop != NULL && atomic_load(stop))
				return done;
			int rc = run_one(x, b.id[i]);
			if (rc != STORE_OK) {
				log_warnx("intake: spool=%lld: %s / %s", (long long)b.id[i],
					  x->ops->errmsg(x->q), store_errmsg(x->st));
				return -1;
			}
		}
		done += b.n;
	}
}

/* drain_rows, then the queue's housekeeping after a pass that handled rows
 * or found nothing new (SQLite: the handled rows deleted, in groups while
 * mail flows). */
static int drain(struct spool_worker *x, int64_t due, const atomic_int *stop)
{
	int n = drain_rows(x, due, stop);
	if (x->ops->tidy(x->q, n <= 0 ? SPOOL_TIDY_EMPTY : SPOOL_TIDY_BUSY) != STORE_OK) {
		log_warnx("intake: cannot delete handled messages from the spool: %s / %s",
			  x->ops->errmsg(x->q), store_errmsg(x->st));
		return -1;
	}
	return n;
}

struct spool_worker *spool_worker_new(const struct conf *conf, const struct keys *keys,
				      struct store *st, const struct tmpl_set *tmpl,
				      const struct spool_queue_ops *ops, struct spool_queue *q)
{
	struct spool_worker *x = xcalloc(1, sizeof(*x));
	x->in = intake_new(conf, keys, st, tmpl);
	x->keys = keys;
	x->st = st;
	x->ops = ops;
	x->q = q;
	return x;
}

void spool_worker_free(struct spool_worker *w)
{
	struct spool_worker *x = w;
	if (x == NULL)
		return;
	intake_free(x->in);
	free(x);
}

void spool_worker_begin(struct spool_worker *w)
{
	struct spool_worker *x = w;
	long swept = x->ops->start(x->q);
	if (swept > 0)
		log_info("intake: forgot %ld stray handled markers (their rows left the spool)",
			 swept);
	else if (swept < 0)
		log_warnx("intake: cannot sweep the stray handled markers: %s / %s",
			  x->ops->errmsg(x->q), store_errmsg(x->st));
}

int spool_worker_drain(struct spool_worker *w, int64_t due, const atomic_int *stop)
{
	return drain(w, due, stop);
}

void spool_worker_tidy(struct spool_worker *w, enum spool_tidy when)
{
	struct spool_worker *x = w;
	if (x->ops->tidy(x->q, when) != STORE_OK)
		log_warnx("intake: cannot sync the spool: %s / %s", x->ops->errmsg(x->q),
			  store_errmsg(x->st));
}

enum intake_verdict intake_spool_inject(const struct conf *conf, const struct keys *keys,
					struct store *sq, struct store *st,
					const struct tmpl_set *tmpl, const char *rcpt,
					size_t rcpt_len, const char *msg, size_t len,
					struct intake_result *res)
{
	struct spool_worker x = {.in = intake_new(conf, keys, st, tmpl),
				 .keys = keys,
				 .st = st,
				 .ops = &spool_queue_sqlite,
				 .q = spool_sqlite_new(sq, NULL, st)};
	struct intake_target *t = NULL;
	enum intake_verdict v = intake_rcpt(x.in, rcpt, rcpt_len, &t, res);
	intake_target_free(t);
	struct spool_rec r;
	int rc = STORE_OK;
	if (v == INTAKE_OK) {
		/* Spooled as begun once: a crash while we handle it leaves it to
		 * the intake worker, counted. */
		rc = spool_seal(keys, rcpt, rcpt_len, msg, len, clock_now(), &r);
		r.attempts = 1;
		struct spool_rec *one = &r;
		if (rc == STORE_OK)
			rc = x.ops->put(x.q, &one, 1);
		if (rc == STORE_OK) {
			struct buf rb = {.data = (char *)rcpt, .len = rcpt_len};
			struct buf mb = {.data = (char *)msg, .len = len};
			int again = 0;
			r.attempts = 0;
			v = INTAKE_TEMPFAIL;
			rc = handle(&x, &r, &rb, &mb, &v, &again, res);
			/* Handled (here or by the worker: again): deleted. A
			 * temporary failure is the MTA's to retry (75): not kept
			 * either. A row that cannot be deleted is left to the
			 * worker, which finds it marked if it was handled; a
			 * marker left behind is swept when the worker starts. */
			if (rc == STORE_OK && v != INTAKE_TEMPFAIL)
				handled(&x, &r, &mb, again);
			else
				x.ops->handled(x.q, r.id);
			if (x.ops->tidy(x.q, SPOOL_TIDY_FINAL) != STORE_OK)
				log_warnx("intake: spool=%lld: cannot delete it from the spool or "
					  "forget its handled marker (left to the intake worker): "
					  "%s / %s",
					  (long long)r.id, x.ops->errmsg(x.q), store_errmsg(st));
		}
		spool_rec_free(&r);
		if (rc != STORE_OK) {
			bsnprintf(res->line, sizeof(res->line),
				  "451 4.3.0 The store is busy or unavailable: %s / %s",
				  store_errmsg(sq), store_errmsg(st));
			v = INTAKE_TEMPFAIL;
		}
	}
	intake_free(x.in);
	x.ops->free(x.q);
	return v;
}
