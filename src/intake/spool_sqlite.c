/*
 * spool_sqlite.c - the spool's rows in a SQLite file of their own
 * (store_spool_open), beside the database that their handling writes: the
 * two-file protocol behind spool_queue.h.
 *
 * A handled row is marked in the database in its handling's transaction
 * (claim: store_spool_claim), then deleted from the spool with others later
 * (gone); its marker is forgotten once that deletion is synced (unsynced,
 * then forget). A crash between the two leaves a marked row, which is not
 * handled again. Deletions are grouped: a deletion in the spool file must
 * not reach the disk before the handling it stands for (two files: no
 * order between them otherwise), so the database is synced first, once for
 * the group. In the server the committer's synced commits carry the
 * worker's deletions to the disk; without mail the worker syncs them
 * itself (tidy, quiet). Markers whose removal was lost are swept at start.
 *
 * The worker (sq) and the committer (cq) write the same file from two
 * connections and take turns (struct wturn); `inject` has no committer and
 * syncs its one row's deletion at once.
 *
 * TRUST: rows are sealed already (spool.c); nothing here opens them.
 */
#include "intake/spool_queue.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

#define SPOOL_DELETE_GROUP 256 /* handled rows deleted together while mail flows */
#define SWEEP_BATCH 512	       /* handled markers looked at in one transaction */
#define UNSYNCED_MAX 65536     /* deletions left unsynced at most, mail or not */

/* The worker and the committer take turns at writing the spool (w, NULL
 * when there is no committer): SQLite's own busy handler would have one
 * sleep up to tens of milliseconds, and every session's 250 with it. The
 * handling itself writes the database, another file: no turn needed. The
 * committer goes first: a worker waits while the committer holds the turn
 * or waits for it (a mutex and a condition variable; nobody spins). */
struct wturn {
	pthread_mutex_t mu;
	pthread_cond_t cv;   /* the turn was given back */
	int held;	     /* someone writes */
	int committer_waits; /* the worker lets it go first */
	atomic_ulong synced; /* the committer's synced commits so far */
};

static void wturn_init(struct wturn *w)
{
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->held = w->committer_waits = 0;
	atomic_init(&w->synced, 0);
}

static void wturn_destroy(struct wturn *w)
{
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
}

/* The worker's turn. */
static void wlock(struct wturn *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	while (w->held || w->committer_waits)
		pthread_cond_wait(&w->cv, &w->mu);
	w->held = 1;
	pthread_mutex_unlock(&w->mu);
}

/* The committer's turn, before any waiting worker. */
static void wlock_committer(struct wturn *w)
{
	pthread_mutex_lock(&w->mu);
	w->committer_waits = 1;
	while (w->held)
		pthread_cond_wait(&w->cv, &w->mu);
	w->committer_waits = 0;
	w->held = 1;
	pthread_mutex_unlock(&w->mu);
}

static void wunlock(struct wturn *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->held = 0;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* A list of spool row ids. */
struct ids {
	int64_t *v;
	size_t n, cap;
};

static void ids_add(struct ids *a, int64_t id)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 64;
		a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
	}
	a->v[a->n++] = id;
}

static void ids_move(struct ids *to, struct ids *from)
{
	for (size_t i = 0; i < from->n; i++)
		ids_add(to, from->v[i]);
	from->n = 0;
}

/* The queue: the spool's connections, the database, and the handled rows
 * on their way out. */
struct spool_queue {
	struct store *sq, *cq, *st;
	struct wturn turn;
	struct wturn *w;	   /* &turn in the server, NULL alone (inject) */
	struct ids gone;	   /* handled: to delete from the spool */
	struct ids unsynced;	   /* deleted from the spool, the deletion maybe not synced */
	unsigned long unsynced_at; /* w->synced when the last of them was deleted */
	struct ids forget;	   /* deleted and synced: markers to forget */
};

/* One row's change of attempts/quarantine/time, in its own transaction. */
static int set_row(struct spool_queue *x, int64_t id, int attempts, int64_t quarantined,
		   int64_t updated)
{
	wlock(x->w);
	int r = store_begin(x->sq);
	if (r == STORE_OK) {
		r = store_spool_set(x->sq, id, attempts, quarantined, updated);
		if (r == STORE_OK)
			r = store_commit(x->sq);
		if (r != STORE_OK)
			store_rollback(x->sq);
	}
	wunlock(x->w);
	return r;
}

/* The markers of x->forget, inside the database's open transaction. */
static int unclaim_all(struct spool_queue *x)
{
	int r = STORE_OK;
	for (size_t i = 0; r == STORE_OK && i < x->forget.n; i++)
		r = store_spool_unclaim(x->st, x->forget.v[i]);
	return r;
}

/* The same in a transaction of its own. */
static int forget(struct spool_queue *x)
{
	if (x->forget.n == 0)
		return STORE_OK;
	int r = store_begin(x->st);
	if (r != STORE_OK)
		return r;
	r = unclaim_all(x);
	if (r == STORE_OK)
		r = store_commit(x->st);
	if (r != STORE_OK)
		store_rollback(x->st);
	else
		x->forget.n = 0;
	return r;
}

/* One transaction of the spool: deletes the handled rows (x->gone; their
 * keys with them: the messages are gone) and counts an attempt for each
 * row of mark (fresh rows about to be handled). The handlings were
 * committed in the database without a sync, and a deletion in the spool
 * file must not reach the disk before them (two files: no order between
 * them otherwise): the database is synced first (one sync for the group).
 * Alone (inject) the spool's commit is synced and the markers of the
 * deleted rows can go at once; in the server (x->w set) the deletion is not
 * synced here (the worker's spool connection never checkpoints either), and
 * their markers are kept until a synced commit of the committer came after
 * (or settle). */
static int spool_write(struct spool_queue *x, const int64_t *mark, int nmark, int64_t now,
		       int deletes)
{
	size_t ndel = deletes ? x->gone.n : 0;
	if (ndel == 0 && nmark == 0)
		return STORE_OK;
	int r = ndel > 0 ? store_sync(x->st) : STORE_OK;
	if (r != STORE_OK)
		return r;
	wlock(x->w);
	if (x->w != NULL && x->unsynced.n > 0 && atomic_load(&x->w->synced) != x->unsynced_at)
		ids_move(&x->forget, &x->unsynced);
	r = store_begin(x->sq);
	for (size_t i = 0; r == STORE_OK && i < ndel; i++) {
		r = store_spool_delete(x->sq, x->gone.v[i]);
		if (r == STORE_NOTFOUND)
			r = STORE_OK;
	}
	for (int i = 0; r == STORE_OK && i < nmark; i++) {
		r = store_spool_set(x->sq, mark[i], 1, 0, now);
		if (r == STORE_NOTFOUND)
			r = STORE_OK;
	}
	if (r == STORE_OK)
		r = store_commit(x->sq);
	if (r != STORE_OK || ndel == 0) {
		if (r != STORE_OK)
			store_rollback(x->sq);
	} else if (x->w == NULL) {
		ids_move(&x->forget, &x->gone);
	} else {
		ids_move(&x->unsynced, &x->gone);
		x->unsynced_at = atomic_load(&x->w->synced);
	}
	wunlock(x->w);
	return r;
}

/* In the server, when no commit of the committer comes (no mail): syncs the
 * spool's deletions and forgets their markers. */
static int settle(struct spool_queue *x)
{
	if (x->unsynced.n == 0)
		return forget(x);
	wlock(x->w);
	int r = store_sync(x->sq);
	wunlock(x->w);
	if (r == STORE_OK) {
		ids_move(&x->forget, &x->unsynced);
		r = forget(x);
	}
	return r;
}

/* The markers of one transaction of the sweep. */
struct marks {
	int64_t id[SWEEP_BATCH];
	uint8_t tag[SWEEP_BATCH][STORE_SPOOL_TAG_LEN];
	int n;
};

static int collect_mark(void *ctx, int64_t id, const uint8_t tag[STORE_SPOOL_TAG_LEN])
{
	struct marks *m = ctx;
	m->id[m->n] = id;
	memcpy(m->tag[m->n], tag, STORE_SPOOL_TAG_LEN);
	m->n++;
	return m->n == SWEEP_BATCH;
}

/* Forgets the stray markers: those whose row is no longer in the spool
 * (its deletion done, the marker's removal lost: a kill -9 before the
 * sync, or a failed removal in `inject`), or whose row with that id is
 * another (a spool file made anew). A marker whose row is still in the
 * spool (handled, deletion pending) stays: it is what keeps that row from
 * being handled twice. Each batch of SWEEP_BATCH markers in one transaction
 * of the database: no claim comes between the look into the spool and the
 * removal (spool ids are never reused), and the spool is synced first so
 * that a deletion seen (another process's, maybe unsynced) is durable
 * before its marker goes. Run by the worker before its first pass, while
 * it has no deletion of its own unsynced. The markers forgotten (>= 0), or
 * a store error (< 0). */
static long sweep(struct spool_queue *x)
{
	struct marks *m = xmalloc(sizeof(*m));
	int64_t after = 0;
	long swept = 0;
	int rc = STORE_OK;
	for (;;) {
		m->n = 0;
		rc = store_begin(x->st);
		if (rc != STORE_OK)
			break;
		rc = store_spool_marks(x->st, after, SWEEP_BATCH, collect_mark, m);
		int stray[SWEEP_BATCH], ns = 0;
		for (int i = 0; rc == STORE_OK && i < m->n; i++) {
			struct spool_rec r;
			memset(&r, 0, sizeof(r));
			int g = store_spool_get(x->sq, m->id[i], &r);
			if (g == STORE_NOTFOUND ||
			    (g == STORE_OK &&
			     memcmp(r.wrapped_key, m->tag[i], STORE_SPOOL_TAG_LEN) != 0))
				stray[ns++] = i;
			else if (g != STORE_OK)
				rc = g;
			spool_rec_free(&r);
		}
		if (rc == STORE_OK && ns > 0) {
			wlock(x->w);
			rc = store_sync(x->sq);
			wunlock(x->w);
		}
		for (int i = 0; rc == STORE_OK && i < ns; i++)
			rc = store_spool_unclaim_tag(x->st, m->id[stray[i]], m->tag[stray[i]]);
		if (rc == STORE_OK)
			rc = store_commit(x->st);
		if (rc != STORE_OK) {
			store_rollback(x->st);
			break;
		}
		swept += ns;
		if (m->n < SWEEP_BATCH)
			break;
		after = m->id[m->n - 1];
	}
	free(m);
	return rc == STORE_OK ? swept : rc;
}

/* --- the operations ---------------------------------------------------------- */

/* In the server the committer's commit is synced (synchronous=FULL) and
 * also carries the worker's deletions of handled rows (committed unsynced,
 * after a sync of their handlings) to the disk. Alone, the one connection's
 * commit. */
static int q_put(struct spool_queue *x, struct spool_rec *const *r, size_t n)
{
	struct store *s = x->cq != NULL ? x->cq : x->sq;
	if (x->w != NULL)
		wlock_committer(x->w);
	int rc = store_begin(s);
	for (size_t i = 0; rc == STORE_OK && i < n; i++)
		rc = store_spool_insert(s, r[i]);
	if (rc == STORE_OK)
		rc = store_commit(s);
	if (rc == STORE_OK && x->w != NULL)
		atomic_fetch_add(&x->w->synced, 1);
	if (rc != STORE_OK)
		store_rollback(s);
	if (x->w != NULL)
		wunlock(x->w);
	return rc;
}

static long q_start(struct spool_queue *x)
{
	return sweep(x);
}

struct due_ctx {
	const struct ids *gone;
	int (*cb)(void *ctx, const struct spool_rec *r);
	void *ctx;
	int *seen;
	int64_t *last;
};

/* Rows handled, their deletion to come, are not handed out again (but
 * counted as seen: the caller pages on after them). */
static int due_one(void *ctx, const struct spool_rec *r)
{
	struct due_ctx *d = ctx;
	++*d->seen;
	*d->last = r->id;
	for (size_t i = 0; i < d->gone->n; i++)
		if (d->gone->v[i] == r->id)
			return 0;
	return d->cb(d->ctx, r);
}

static int q_due(struct spool_queue *x, int64_t after, int64_t due, int limit,
		 int (*cb)(void *ctx, const struct spool_rec *r), void *ctx, int *seen,
		 int64_t *last)
{
	struct due_ctx d = {&x->gone, cb, ctx, seen, last};
	*seen = 0;
	return store_spool_each(x->sq, 0, after, due, limit, due_one, &d);
}

static int q_get(struct spool_queue *x, int64_t id, struct spool_rec *out)
{
	return store_spool_get(x->sq, id, out);
}

/* The attempts go with the deletions gathered so far, once there are
 * SPOOL_DELETE_GROUP of them (one sync of the database for all). */
static int q_attempt(struct spool_queue *x, const int64_t *ids, int n, int64_t now)
{
	return spool_write(x, ids, n, now, x->gone.n >= SPOOL_DELETE_GROUP);
}

static int q_set(struct spool_queue *x, int64_t id, int attempts, int64_t quarantined,
		 int64_t updated)
{
	return set_row(x, id, attempts, quarantined, updated);
}

/* The markers whose rows' deletion is synced go in the group's
 * transaction. */
static int q_group_begin(struct spool_queue *x)
{
	return unclaim_all(x);
}

static void q_group_end(struct spool_queue *x, int committed)
{
	if (committed)
		x->forget.n = 0;
}

static int q_claim(struct spool_queue *x, const struct spool_rec *r)
{
	return store_spool_claim(x->st, r->id, r->wrapped_key);
}

static void q_handled(struct spool_queue *x, int64_t id)
{
	ids_add(&x->gone, id);
}

/* After a pass: the handled rows deleted (and, alone, their markers
 * forgotten): in the server, while mail flows, once SPOOL_DELETE_GROUP of
 * them gathered, else by the first pass that finds nothing new. When no
 * mail came for a while (no synced commit of the committer), or many
 * deletions wait for one: synced here. At the end: all of it. */
static int q_tidy(struct spool_queue *x, enum spool_tidy when)
{
	int r = STORE_OK;
	switch (when) {
	case SPOOL_TIDY_BUSY:
	case SPOOL_TIDY_EMPTY: {
		int deletes =
		    when == SPOOL_TIDY_EMPTY || x->w == NULL || x->gone.n >= SPOOL_DELETE_GROUP;
		r = spool_write(x, NULL, 0, 0, deletes);
		if (r == STORE_OK && x->w == NULL)
			r = forget(x);
		break;
	}
	case SPOOL_TIDY_KICKED:
	case SPOOL_TIDY_QUIET:
		if ((when == SPOOL_TIDY_QUIET && (x->unsynced.n > 0 || x->forget.n > 0)) ||
		    x->unsynced.n >= UNSYNCED_MAX)
			r = settle(x);
		break;
	case SPOOL_TIDY_FINAL:
		r = spool_write(x, NULL, 0, 0, 1);
		if (r == STORE_OK)
			r = x->w != NULL ? settle(x) : forget(x);
		break;
	}
	return r;
}

static const char *q_errmsg(struct spool_queue *x)
{
	return store_errmsg(x->sq);
}

static void q_free(struct spool_queue *x)
{
	if (x == NULL)
		return;
	if (x->w != NULL)
		wturn_destroy(x->w);
	free(x->gone.v);
	free(x->unsynced.v);
	free(x->forget.v);
	free(x);
}

const struct spool_queue_ops spool_queue_sqlite = {
    .name = "sqlite",
    .put = q_put,
    .start = q_start,
    .due = q_due,
    .get = q_get,
    .attempt = q_attempt,
    .set = q_set,
    .group_begin = q_group_begin,
    .group_end = q_group_end,
    .claim = q_claim,
    .handled = q_handled,
    .tidy = q_tidy,
    .errmsg = q_errmsg,
    .free = q_free,
};

struct spool_queue *spool_sqlite_new(struct store *sq, struct store *cq, struct store *db)
{
	struct spool_queue *x = xcalloc(1, sizeof(*x));
	x->sq = sq;
	x->cq = cq;
	x->st = db;
	if (cq != NULL) {
		wturn_init(&x->turn);
		x->w = &x->turn;
	}
	return x;
}
