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
#include <sched.h>
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
#define SPOOL_DELETE_GROUP 256 /* handled rows deleted together while mail flows */
#define SWEEP_BATCH 512	       /* handled markers looked at in one transaction */
#define SEALED_MAX (LK_MAX_MESSAGE + LK_MAX_ADDRESS + 1 + PII_OVERHEAD)

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* Seals rcpt LF msg under a fresh key into r (r->data allocated: free with
 * spool_rec_free). STORE_OK or STORE_ERR. */
static int seal(const struct keys *keys, const char *rcpt, size_t rcpt_len, const char *msg,
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

/* --- handling ---------------------------------------------------------------- */

/* The worker and the committer take turns at writing the spool (w, NULL
 * when there is no committer): SQLite's own busy handler would have one
 * sleep up to tens of milliseconds, and every session's 250 with it. The
 * handling itself writes the database, another file: no turn needed. */
struct wturn {
	pthread_mutex_t mu;
	atomic_int committer_waits; /* the worker lets it go first */
	atomic_ulong synced;	    /* the committer's synced commits so far */
};

static void wlock(struct wturn *w)
{
	if (w == NULL)
		return;
	while (atomic_load(&w->committer_waits))
		sched_yield();
	pthread_mutex_lock(&w->mu);
}

static void wunlock(struct wturn *w)
{
	if (w != NULL)
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

/* What handling needs: the spool (sq) and the database (st, that of in).
 * A handled row is marked in the database in its handling's transaction
 * (store_spool_claim), then deleted from the spool with others later
 * (gone); its marker is forgotten once that deletion is synced (unsynced,
 * then forget). A crash between the two leaves a marked row, which is not
 * handled again. */
struct run {
	struct intake *in;
	const struct keys *keys;
	struct store *sq, *st;
	struct wturn *w;
	struct ids gone;	   /* handled: to delete from the spool */
	struct ids unsynced;	   /* deleted from the spool, the deletion maybe not synced */
	unsigned long unsynced_at; /* w->synced when the last of them was deleted */
	struct ids forget;	   /* deleted and synced: markers to forget */
};

static void run_free(struct run *x)
{
	intake_free(x->in);
	free(x->gone.v);
	free(x->unsynced.v);
	free(x->forget.v);
}

/* One row's change of attempts/quarantine/time, in its own transaction. */
static int set_row(struct run *x, int64_t id, int attempts, int64_t quarantined, int64_t updated)
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

/* Set aside in the spool inside the database's transaction that counts and
 * audits it (two files: a failed commit of the database after the spool's
 * leaves it set aside without its count). */
static int quarantine(struct run *x, const struct spool_rec *r, const char *why)
{
	int64_t now = now_s();
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
		rc = set_row(x, r->id, r->attempts, now, now);
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

/* The markers of x->forget, inside the database's open transaction. */
static int unclaim_all(struct run *x)
{
	int r = STORE_OK;
	for (size_t i = 0; r == STORE_OK && i < x->forget.n; i++)
		r = store_spool_unclaim(x->st, x->forget.v[i]);
	return r;
}

/* The same in a transaction of its own. */
static int forget(struct run *x)
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
static int spool_write(struct run *x, const int64_t *mark, int nmark, int64_t now, int deletes)
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
static int settle(struct run *x)
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

/* Hands one opened row to route.c in a transaction of the database (a
 * savepoint when the caller has one open) that first marks it handled
 * (store_spool_claim): a row marked already (handled before a crash took
 * its deletion, or by another process) is not handled again (*again set).
 * What became of it in *v. A temporary failure rolls its transaction back
 * and defers the row (its attempt undone); otherwise the row is to be
 * deleted once the outermost transaction is committed. STORE_OK, or the
 * store error that stopped it. */
static int handle(struct run *x, const struct spool_rec *r, const struct buf *rcpt,
		  const struct buf *msg, enum intake_verdict *v, int *again,
		  struct intake_result *res)
{
	*v = INTAKE_TEMPFAIL;
	*again = 0;
	int rc = store_begin(x->st);
	int begun = rc == STORE_OK;
	if (begun)
		rc = store_spool_claim(x->st, r->id, r->wrapped_key);
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
		return set_row(x, r->id, r->attempts, 0, now_s() + LK_INTAKE_RETRY_SECONDS);
	}
	return STORE_OK;
}

/* A row handled now (not again) and committed: its deletion to come. */
static void handled(struct run *x, const struct spool_rec *r, const struct buf *msg, int again)
{
	ids_add(&x->gone, r->id);
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
static int load(struct run *x, int64_t id, struct spool_rec *r, struct buf *rcpt, struct buf *msg)
{
	memset(r, 0, sizeof(*r));
	buf_init(rcpt, LK_MAX_ADDRESS + 1);
	buf_init(msg, LK_MAX_MESSAGE);
	int rc = store_spool_get(x->sq, id, r);
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
static int run_one(struct run *x, int64_t id)
{
	struct spool_rec r;
	struct buf rcpt, msg;
	int rc = load(x, id, &r, &rcpt, &msg);
	if (rc == 1) {
		r.attempts++;
		rc = set_row(x, r.id, r.attempts, 0, now_s());
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
};

/* Fresh rows (never tried), as a group: one commit of the spool counts an
 * attempt for each (and deletes the rows handled before), then all are
 * handled in one transaction of the database. A crash charges every row of
 * the group one attempt; from then on they go one by one (run_one), so only
 * the row that crashes again is quarantined. A store error leaves the rest
 * of the group to run_one. */
static int run_group(struct run *x, const int64_t *ids, int n)
{
	int rc = spool_write(x, ids, n, now_s(), x->gone.n >= SPOOL_DELETE_GROUP);
	if (rc != STORE_OK)
		return rc;
	struct slot *s = xcalloc((size_t)n, sizeof(*s));
	for (int i = 0; i < n; i++) {
		s[i].loaded = load(x, ids[i], &s[i].r, &s[i].rcpt, &s[i].msg);
		if (s[i].loaded < 0)
			rc = s[i].loaded;
	}
	if (rc == STORE_OK)
		rc = store_begin(x->st);
	if (rc == STORE_OK) {
		rc = unclaim_all(x);
		for (int i = 0; rc == STORE_OK && i < n; i++) {
			struct intake_result res;
			s[i].v = INTAKE_TEMPFAIL;
			if (s[i].loaded == 1)
				rc = handle(x, &s[i].r, &s[i].rcpt, &s[i].msg, &s[i].v, &s[i].again,
					    &res);
		}
		if (rc == STORE_OK)
			rc = store_commit(x->st);
		if (rc != STORE_OK) {
			store_rollback(x->st);
		} else {
			x->forget.n = 0;
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
	const struct ids *gone; /* handled, deletion to come: skipped */
	int64_t id[SPOOL_BATCH];
	int attempts[SPOOL_BATCH];
	int n, seen;
	int64_t last; /* the last row seen */
};

static int collect(void *ctx, const struct spool_rec *r)
{
	struct batch *b = ctx;
	b->seen++;
	b->last = r->id;
	for (size_t i = 0; i < b->gone->n; i++)
		if (b->gone->v[i] == r->id)
			return 0;
	b->id[b->n] = r->id;
	b->attempts[b->n] = r->attempts;
	b->n++;
	return b->n == SPOOL_BATCH;
}

/* Handles the pending rows with updated <= due: fresh ones first, as a
 * group, then those tried before, one by one, so that a message that
 * crashes its handler does not hold up the others. */
static int drain_rows(struct run *x, int64_t due, const atomic_int *stop)
{
	int64_t after = 0;
	int done = 0;
	for (;;) {
		struct batch b = {.gone = &x->gone};
		if (store_spool_each(x->sq, 0, after, due, SPOOL_BATCH, collect, &b) != STORE_OK)
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
				  nf, store_errmsg(x->sq), store_errmsg(x->st));
		for (int i = 0; i < b.n; i++) {
			if (b.attempts[i] == 0 && group_ok)
				continue;
			if (stop != NULL && atomic_load(stop))
				return done;
			int rc = run_one(x, b.id[i]);
			if (rc != STORE_OK) {
				log_warnx("intake: spool=%lld: %s / %s", (long long)b.id[i],
					  store_errmsg(x->sq), store_errmsg(x->st));
				return -1;
			}
		}
		done += b.n;
	}
}

/* drain_rows, then the handled rows deleted (and, alone, their markers
 * forgotten): in the server, while mail flows, once SPOOL_DELETE_GROUP of
 * them gathered (one sync of the database for all), else by the first
 * pass that finds nothing new. */
static int drain(struct run *x, int64_t due, const atomic_int *stop)
{
	int n = drain_rows(x, due, stop);
	int deletes = n <= 0 || x->w == NULL || x->gone.n >= SPOOL_DELETE_GROUP;
	if (spool_write(x, NULL, 0, 0, deletes) != STORE_OK ||
	    (x->w == NULL && forget(x) != STORE_OK)) {
		log_warnx("intake: cannot delete handled messages from the spool: %s / %s",
			  store_errmsg(x->sq), store_errmsg(x->st));
		return -1;
	}
	return n;
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
static long sweep(struct run *x)
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

enum intake_verdict intake_spool_inject(const struct conf *conf, const struct keys *keys,
					struct store *sq, struct store *st,
					const struct tmpl_set *tmpl, const char *rcpt,
					size_t rcpt_len, const char *msg, size_t len,
					struct intake_result *res)
{
	struct run x = {.in = intake_new(conf, keys, st, tmpl), .keys = keys, .sq = sq, .st = st};
	struct intake_target *t = NULL;
	enum intake_verdict v = intake_rcpt(x.in, rcpt, rcpt_len, &t, res);
	intake_target_free(t);
	struct spool_rec r;
	int rc = STORE_OK;
	if (v == INTAKE_OK) {
		/* Spooled as begun once: a crash while we handle it leaves it to
		 * the intake worker, counted. */
		rc = seal(keys, rcpt, rcpt_len, msg, len, now_s(), &r);
		r.attempts = 1;
		if (rc == STORE_OK && (rc = store_begin(sq)) == STORE_OK) {
			rc = store_spool_insert(sq, &r);
			if (rc == STORE_OK)
				rc = store_commit(sq);
			if (rc != STORE_OK)
				store_rollback(sq);
		}
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
			 * worker, which finds it marked if it was handled. */
			if (rc == STORE_OK && v != INTAKE_TEMPFAIL)
				handled(&x, &r, &mb, again);
			else
				ids_add(&x.gone, r.id);
			if (spool_write(&x, NULL, 0, 0, 1) != STORE_OK)
				log_warnx("intake: spool=%lld: cannot delete it from the spool "
					  "(left to the intake worker): %s / %s",
					  (long long)r.id, store_errmsg(sq), store_errmsg(st));
			else if (forget(&x) != STORE_OK)
				log_warnx("intake: spool=%lld: deleted from the spool, but its "
					  "handled marker stays until the intake worker sweeps it "
					  "at its start: %s",
					  (long long)r.id, store_errmsg(st));
		}
		spool_rec_free(&r);
		if (rc != STORE_OK) {
			bsnprintf(res->line, sizeof(res->line),
				  "451 4.3.0 The store is busy or unavailable: %s / %s",
				  store_errmsg(sq), store_errmsg(st));
			v = INTAKE_TEMPFAIL;
		}
	}
	run_free(&x);
	return v;
}

/* --- the worker ---------------------------------------------------------------- */

/* A message waiting for the committer: sealed by its session. */
struct pending {
	struct spool_rec r;
	int rc;		   /* the outcome, once done */
	int done;	   /* under the committer's mutex */
	pthread_cond_t cv; /* done: its session alone is woken */
	struct pending *next;
};

struct intake_spool {
	const struct conf *conf;
	const struct keys *keys;
	struct tmpl_set *tmpl; /* the mails that commands queue (tmpl_set_load_conf) */
	struct store *st;      /* the worker's: the database */
	struct store *wsq;     /* the worker's: the spool, synchronous=NORMAL */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int kicked;
	atomic_int stop;
	/* Group commit: the sessions' messages, inserted and synced together. */
	struct store *cst; /* the committer's: the spool, synchronous=FULL */
	pthread_t cthread;
	pthread_mutex_t cmu;
	struct wturn wmu; /* writes of the worker and the committer take turns */
	pthread_cond_t cnew;
	struct pending *queue;
	int cstop;
};

/* Takes what the sessions queued, inserts it all in one transaction, one
 * sync for all of them, and wakes the sessions. */
static void *committer_main(void *arg)
{
	struct intake_spool *sp = arg;
	pthread_mutex_lock(&sp->cmu);
	for (;;) {
		while (sp->queue == NULL && !sp->cstop)
			pthread_cond_wait(&sp->cnew, &sp->cmu);
		if (sp->queue == NULL)
			break;
		struct pending *batch = sp->queue;
		sp->queue = NULL;
		pthread_mutex_unlock(&sp->cmu);
		atomic_store(&sp->wmu.committer_waits, 1);
		pthread_mutex_lock(&sp->wmu.mu);
		atomic_store(&sp->wmu.committer_waits, 0);
		/* This commit also syncs the worker's deletions of handled rows
		 * (committed unsynced, after a sync of their handlings). */
		int rc = store_begin(sp->cst);
		for (struct pending *p = batch; rc == STORE_OK && p != NULL; p = p->next)
			rc = store_spool_insert(sp->cst, &p->r);
		if (rc == STORE_OK)
			rc = store_commit(sp->cst);
		if (rc == STORE_OK)
			atomic_fetch_add(&sp->wmu.synced, 1);
		if (rc != STORE_OK) {
			log_warnx("intake: cannot spool messages: %s", store_errmsg(sp->cst));
			store_rollback(sp->cst);
		}
		pthread_mutex_unlock(&sp->wmu.mu);
		pthread_mutex_lock(&sp->cmu);
		for (struct pending *p = batch, *next; p != NULL; p = next) {
			next = p->next; /* p is its session's once done */
			p->rc = rc;
			p->done = 1;
			pthread_cond_signal(&p->cv);
		}
	}
	pthread_mutex_unlock(&sp->cmu);
	return NULL;
}

int intake_spool_submit(struct intake_spool *sp, const char *rcpt, size_t rcpt_len, const char *msg,
			size_t len)
{
	struct pending p;
	memset(&p, 0, sizeof(p));
	int rc = seal(sp->keys, rcpt, rcpt_len, msg, len, now_s(), &p.r);
	if (rc == STORE_OK) {
		pthread_cond_init(&p.cv, NULL);
		pthread_mutex_lock(&sp->cmu);
		p.next = sp->queue;
		sp->queue = &p;
		pthread_cond_signal(&sp->cnew);
		while (!p.done)
			pthread_cond_wait(&p.cv, &sp->cmu);
		pthread_mutex_unlock(&sp->cmu);
		pthread_cond_destroy(&p.cv);
		rc = p.rc;
	}
	spool_rec_free(&p.r);
	return rc;
}

static void *worker_main(void *arg)
{
	struct intake_spool *sp = arg;
	struct run x = {.in = intake_new(sp->conf, sp->keys, sp->st, sp->tmpl),
			.keys = sp->keys,
			.sq = sp->wsq,
			.st = sp->st,
			.w = &sp->wmu};
	/* The first pass takes everything an earlier run left. After that, a
	 * kick (a session's 250 is out) takes every row due now, and a pass on
	 * the timer only rows a few seconds old: those spooled by another
	 * process (inject) or deferred. A row of ours is never handled before
	 * its 250 was written, so a crash cannot take the 250 with it. */
	int kicked = 1;
	long swept = sweep(&x);
	if (swept > 0)
		log_info("intake: forgot %ld stray handled markers (their rows left the spool)",
			 swept);
	else if (swept < 0)
		log_warnx("intake: cannot sweep the stray handled markers: %s / %s",
			  store_errmsg(x.sq), store_errmsg(x.st));
	while (!atomic_load(&sp->stop)) {
		int64_t now = now_s();
		int n = drain(&x, kicked ? now : now - 2, &sp->stop);
		/* No mail for a second (no synced commit of the committer), or
		 * many deletions waiting for one: sync them ourselves. */
		if ((!kicked && (x.unsynced.n > 0 || x.forget.n > 0)) || x.unsynced.n >= 65536) {
			if (settle(&x) != STORE_OK)
				log_warnx("intake: cannot sync the spool: %s / %s",
					  store_errmsg(x.sq), store_errmsg(x.st));
		}
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
	if (spool_write(&x, NULL, 0, 0, 1) != STORE_OK || settle(&x) != STORE_OK)
		log_warnx("intake: cannot sync the spool: %s / %s", store_errmsg(x.sq),
			  store_errmsg(x.st));
	run_free(&x);
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
	pthread_mutex_destroy(&sp->cmu);
	pthread_mutex_destroy(&sp->wmu.mu);
	pthread_cond_destroy(&sp->cnew);
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
	atomic_init(&sp->stop, 0);
	pthread_mutex_init(&sp->mu, NULL);
	pthread_cond_init(&sp->cv, NULL);
	pthread_mutex_init(&sp->cmu, NULL);
	pthread_mutex_init(&sp->wmu.mu, NULL);
	atomic_init(&sp->wmu.committer_waits, 0);
	atomic_init(&sp->wmu.synced, 0);
	pthread_cond_init(&sp->cnew, NULL);
	int worker = pthread_create(&sp->thread, NULL, worker_main, sp) == 0;
	int committer = worker && pthread_create(&sp->cthread, NULL, committer_main, sp) == 0;
	if (!committer) {
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
	pthread_mutex_lock(&sp->cmu);
	sp->cstop = 1; /* what is queued is committed first */
	pthread_cond_signal(&sp->cnew);
	pthread_mutex_unlock(&sp->cmu);
	pthread_join(sp->cthread, NULL);
	stop_worker(sp);
	spool_free(sp);
}
