/*
 * store_pg_rows.c - lists, subscribers, subscriptions, jobs, retries and a
 * job's failures in the PostgreSQL store: the same rows and orders as
 * store_sqlite_members.c and store_sqlite_jobs.c.
 *
 * Inserts that may meet a taken unique key say ON CONFLICT DO NOTHING and
 * count the rows: a failed statement would abort the whole transaction in
 * PostgreSQL, where SQLite lets the caller go on (STORE_EXISTS).
 *
 * TRUST: sees only records from the layers above (personal data already
 * sealed); everything goes through bound parameters, never into SQL text.
 */
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "store/store_pg_int.h"

enum {
	R_LIST_INSERT,
	R_LIST_UPDATE,
	R_LIST_DELETE,
	R_LIST_BY_NAME,
	R_LIST_BY_ID,
	R_LIST_ALL,
	R_SUBR_INSERT,
	R_SUBR_UPDATE,
	R_SUBR_DELETE,
	R_SUBR_BY_ID,
	R_SUBR_BY_HASH,
	R_SUBN_PUT,
	R_SUBN_GET,
	R_SUBN_DELETE,
	R_SUBN_COUNT,
	R_SUBN_OF,
	R_LIST_COUNTS,
	R_MEMBERS,
	R_RECIPIENTS,
	R_JOB_INSERT,
	R_JOB_UPDATE,
	R_JOB_GET,
	R_JOB_ALL,
	R_JOB_NEXT,
	R_RETRY_PUT,
	R_RETRY_DEL,
	R_RETRY_DUE,
	R_RETRY_COUNT,
	R_FAIL_ADD,
	R_FAIL_EACH,
	R_COUNT
};
_Static_assert(PG_BASE_ROWS + R_COUNT <= PG_BASE_MORE, "slots");

#define LIST_COLS                                                                                  \
	"id, name, domain, title, description, kind, sub_policy, post_policy, moderation, "        \
	"archive, digest, footer, postal_address, tracking, created, owners, bounce_action"
#define SUBR_COLS "id, addr_hash, wrapped_key, data, html, tracking, created"
#define SUBN_COLS                                                                                  \
	"list_id, subscriber_id, state, digest, nomail, bounce_score, created, updated, "          \
	"bounce_at, soft_score"
#define MEMBER_SQL                                                                                 \
	"SELECT su.list_id, su.subscriber_id, su.state, su.digest, su.nomail, su.bounce_score, "   \
	"su.created, su.updated, su.bounce_at, su.soft_score, s.id, s.addr_hash, s.wrapped_key, "  \
	"s.data, s.html, s.tracking, s.created FROM subscriptions su JOIN subscribers s ON s.id "  \
	"= su.subscriber_id WHERE su.list_id = $1 AND su.subscriber_id > $2 "
#define JOB_COLS                                                                                   \
	"id, list_id, kind, state, priority, subject, body_text, body_html, recipient_id, "        \
	"not_before, cursor, sent, failed, total, pause_reason, resume_at, created, updated, "     \
	"finished, lease_owner, lease_until, rcpt_sealed"

static const char *const RSQL[R_COUNT] = {
    [R_LIST_INSERT] = "INSERT INTO lists(name, domain, title, description, kind, sub_policy, "
		      "post_policy, moderation, archive, digest, footer, postal_address, "
		      "tracking, created, owners, bounce_action) "
		      "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16) "
		      "ON CONFLICT (name) DO NOTHING RETURNING id",
    [R_LIST_UPDATE] = "UPDATE lists SET name=$1, domain=$2, title=$3, description=$4, kind=$5, "
		      "sub_policy=$6, post_policy=$7, moderation=$8, archive=$9, digest=$10, "
		      "footer=$11, postal_address=$12, tracking=$13, created=$14, owners=$15, "
		      "bounce_action=$16 WHERE id=$17",
    [R_LIST_DELETE] = "DELETE FROM lists WHERE id=$1",
    [R_LIST_BY_NAME] = "SELECT " LIST_COLS " FROM lists WHERE name=$1",
    [R_LIST_BY_ID] = "SELECT " LIST_COLS " FROM lists WHERE id=$1",
    [R_LIST_ALL] = "SELECT " LIST_COLS " FROM lists ORDER BY name COLLATE \"C\"",
    [R_SUBR_INSERT] = "INSERT INTO subscribers(addr_hash, wrapped_key, data, html, tracking, "
		      "created) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (addr_hash) DO NOTHING "
		      "RETURNING id",
    [R_SUBR_UPDATE] = "UPDATE subscribers SET data=$1, html=$2, tracking=$3 WHERE id=$4",
    [R_SUBR_DELETE] = "DELETE FROM subscribers WHERE id=$1",
    [R_SUBR_BY_ID] = "SELECT " SUBR_COLS " FROM subscribers WHERE id=$1",
    [R_SUBR_BY_HASH] = "SELECT " SUBR_COLS " FROM subscribers WHERE addr_hash=$1",
    [R_SUBN_PUT] = "INSERT INTO subscriptions(" SUBN_COLS ") VALUES "
		   "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (list_id, subscriber_id) DO "
		   "UPDATE SET state=excluded.state, digest=excluded.digest, "
		   "nomail=excluded.nomail, bounce_score=excluded.bounce_score, "
		   "created=excluded.created, updated=excluded.updated, "
		   "bounce_at=excluded.bounce_at, soft_score=excluded.soft_score",
    [R_SUBN_GET] = "SELECT " SUBN_COLS " FROM subscriptions WHERE list_id=$1 AND subscriber_id=$2",
    [R_SUBN_DELETE] = "DELETE FROM subscriptions WHERE list_id=$1 AND subscriber_id=$2",
    [R_SUBN_COUNT] = "SELECT count(*) FROM subscriptions WHERE subscriber_id=$1",
    [R_SUBN_OF] = "SELECT " SUBN_COLS " FROM subscriptions WHERE subscriber_id=$1 ORDER BY list_id",
    [R_LIST_COUNTS] = "SELECT count(*) FILTER (WHERE state=0), count(*) FILTER (WHERE state=1), "
		      "count(*) FILTER (WHERE state=2), count(*) FILTER (WHERE state=3) "
		      "FROM subscriptions WHERE list_id=$1",
    [R_MEMBERS] = MEMBER_SQL "AND ($3::int < 0 OR su.state = $3::int) ORDER BY su.subscriber_id "
			     "LIMIT $4",
    [R_RECIPIENTS] = MEMBER_SQL
    "AND su.state = 1 AND su.nomail = 0 AND NOT EXISTS (SELECT 1 FROM suppressions x "
    "WHERE x.addr_hash = s.addr_hash AND x.list_id IN (0, $1)) "
    "ORDER BY su.subscriber_id LIMIT $3",
    [R_JOB_INSERT] = "INSERT INTO jobs(list_id, kind, state, priority, subject, body_text, "
		     "body_html, recipient_id, not_before, cursor, sent, failed, total, "
		     "pause_reason, resume_at, created, updated, finished, rcpt_sealed) VALUES "
		     "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19) "
		     "RETURNING id",
    [R_JOB_UPDATE] = "UPDATE jobs SET state=$1, cursor=$2, sent=$3, failed=$4, total=$5, "
		     "pause_reason=$6, resume_at=$7, updated=$8, finished=$9, not_before=$10, "
		     "lease_owner=$11, lease_until=$12, rcpt_sealed=CASE WHEN $1 IN "
		     "('done','cancelled') THEN NULL ELSE rcpt_sealed END WHERE id=$13",
    [R_JOB_GET] = "SELECT " JOB_COLS " FROM jobs WHERE id=$1",
    [R_JOB_ALL] = "SELECT " JOB_COLS " FROM jobs ORDER BY id",
    [R_JOB_NEXT] =
	"SELECT " JOB_COLS " FROM jobs WHERE "
	"((state IN ('scheduled','running') AND not_before <= $1) OR "
	"(state = 'paused' AND resume_at > 0 AND resume_at <= $1)) AND lease_until <= $1 "
	"ORDER BY priority DESC, id LIMIT 1",
    [R_RETRY_PUT] = "INSERT INTO job_retries(job_id, subscriber_id, attempts, first_at, next_at, "
		    "last_error) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (job_id, subscriber_id) "
		    "DO UPDATE SET attempts=excluded.attempts, first_at=excluded.first_at, "
		    "next_at=excluded.next_at, last_error=excluded.last_error",
    [R_RETRY_DEL] = "DELETE FROM job_retries WHERE job_id=$1 AND subscriber_id=$2",
    [R_RETRY_DUE] = "SELECT job_id, subscriber_id, attempts, first_at, next_at, last_error "
		    "FROM job_retries WHERE job_id=$1 AND next_at <= $2 ORDER BY next_at LIMIT $3",
    [R_RETRY_COUNT] = "SELECT count(*), coalesce(min(next_at), 0) FROM job_retries WHERE job_id=$1",
    [R_FAIL_ADD] = "INSERT INTO job_failures(job_id, reason, n) VALUES ($1,$2,$3) "
		   "ON CONFLICT (job_id, reason) DO UPDATE SET n = job_failures.n + excluded.n",
    [R_FAIL_EACH] = "SELECT reason, n FROM job_failures WHERE job_id=$1 ORDER BY reason",
};

static PGresult *rq(struct pg_store *q, int id, const struct pgp *p, int *rc, const char *what)
{
	return pg_q(q, PG_BASE_ROWS + id, RSQL[id], p, rc, what);
}

static int rrun(struct pg_store *q, int id, const struct pgp *p, int64_t *n, const char *what)
{
	return pg_run(q, PG_BASE_ROWS + id, RSQL[id], p, n, what);
}

/* A write that must change a row: STORE_NOTFOUND when it changed none. */
static int rwrite(struct pg_store *q, int id, const struct pgp *p, const char *what)
{
	int64_t n;
	if (pg_need_txn(q) != STORE_OK)
		return STORE_ERR;
	int r = rrun(q, id, p, &n, what);
	return r == STORE_OK && n == 0 ? STORE_NOTFOUND : r;
}

/* An insert ... RETURNING id: the id, or STORE_EXISTS when ON CONFLICT
 * DO NOTHING returned no row. */
static int rinsert(struct pg_store *q, int id, const struct pgp *p, int64_t *out, const char *what)
{
	int rc;
	if (pg_need_txn(q) != STORE_OK)
		return STORE_ERR;
	PGresult *res = rq(q, id, p, &rc, what);
	if (res == NULL)
		return rc;
	if (PQntuples(res) == 1) {
		*out = pg_i64(res, 0, 0);
		rc = STORE_OK;
	} else {
		bsnprintf(q->err, sizeof(q->err), "%s: the key is taken", what);
		rc = STORE_EXISTS;
	}
	PQclear(res);
	return rc;
}

/* --- lists ---------------------------------------------------------------- */

static void bind_list(struct pgp *p, const struct list_rec *l)
{
	pgp_text(p, l->name);
	pgp_text(p, l->domain);
	pgp_text(p, l->title);
	pgp_text(p, l->description);
	pgp_text(p, list_kind_name(l->kind));
	pgp_text(p, list_sub_policy_name(l->sub_policy));
	pgp_text(p, list_post_policy_name(l->post_policy));
	pgp_text(p, list_moderation_name(l->moderation));
	pgp_text(p, list_archive_name(l->archive));
	pgp_i64(p, l->digest);
	pgp_text(p, l->footer);
	pgp_text(p, l->postal_address);
	pgp_i64(p, l->tracking);
	pgp_i64(p, l->created);
	pgp_text(p, l->owners);
	pgp_text(p, list_bounce_action_name(l->bounce_action));
}

static int read_list(struct pg_store *q, const PGresult *r, int i, struct list_rec *l)
{
	int bad = 0;
	l->id = pg_i64(r, i, 0);
	l->name = pg_dup(r, i, 1);
	l->domain = pg_dup(r, i, 2);
	l->title = pg_dup(r, i, 3);
	l->description = pg_dup(r, i, 4);
	l->kind = (enum list_kind)pg_enum(r, i, 5, &list_kind_names, &bad);
	l->sub_policy = (enum list_sub_policy)pg_enum(r, i, 6, &list_sub_policy_names, &bad);
	l->post_policy = (enum list_post_policy)pg_enum(r, i, 7, &list_post_policy_names, &bad);
	l->moderation = (enum list_moderation)pg_enum(r, i, 8, &list_moderation_names, &bad);
	l->archive = (enum list_archive)pg_enum(r, i, 9, &list_archive_names, &bad);
	l->digest = (int)pg_i64(r, i, 10);
	l->footer = pg_dup(r, i, 11);
	l->postal_address = pg_dup(r, i, 12);
	l->tracking = (int)pg_i64(r, i, 13);
	l->created = pg_i64(r, i, 14);
	l->owners = pg_dup(r, i, 15);
	l->bounce_action =
	    (enum list_bounce_action)pg_enum(r, i, 16, &list_bounce_action_names, &bad);
	if (!bad)
		return STORE_OK;
	bsnprintf(q->err, sizeof(q->err), "list %lld: a kind or policy this version does not know",
		  (long long)l->id);
	return STORE_ERR;
}

int pgr_list_insert(struct store *s, struct list_rec *l)
{
	struct pgp p = {0};
	bind_list(&p, l);
	return rinsert(P(s), R_LIST_INSERT, &p, &l->id, "insert list");
}

int pgr_list_update(struct store *s, const struct list_rec *l)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	if (pg_need_txn(q) != STORE_OK)
		return STORE_ERR;
	bind_list(&p, l);
	pgp_i64(&p, l->id);
	return rrun(q, R_LIST_UPDATE, &p, NULL, "update list");
}

int pgr_list_delete(struct store *s, int64_t id)
{
	struct pgp p = {0};
	pgp_i64(&p, id);
	return rwrite(P(s), R_LIST_DELETE, &p, "delete list");
}

int pgr_list_get(struct store *s, const char *name, int64_t id, struct list_rec *out)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	if (name != NULL)
		pgp_text(&p, name);
	else
		pgp_i64(&p, id);
	PGresult *res = rq(q, name != NULL ? R_LIST_BY_NAME : R_LIST_BY_ID, &p, &rc, "get list");
	if (res == NULL)
		return rc;
	rc = STORE_NOTFOUND;
	if (PQntuples(res) == 1) {
		rc = read_list(q, res, 0, out);
		if (rc != STORE_OK)
			list_rec_free(out);
	}
	PQclear(res);
	return rc;
}

int pgr_list_each(struct store *s, int (*cb)(void *, const struct list_rec *), void *ctx)
{
	struct pg_store *q = P(s);
	int rc;
	PGresult *res = rq(q, R_LIST_ALL, NULL, &rc, "list lists");
	if (res == NULL)
		return rc;
	rc = STORE_OK;
	for (int i = 0; i < PQntuples(res); i++) {
		struct list_rec l = {0};
		rc = read_list(q, res, i, &l);
		int stop = rc != STORE_OK || cb(ctx, &l);
		list_rec_free(&l);
		if (stop)
			break;
	}
	PQclear(res);
	return rc;
}

/* --- subscribers ------------------------------------------------------------ */

static void read_subscriber(const PGresult *r, int i, int base, struct subscriber_rec *out)
{
	out->id = pg_i64(r, i, base);
	pg_blob(r, i, base + 1, out->addr_hash, HASH_LEN);
	pg_blob(r, i, base + 2, out->wrapped_key, PII_WRAPPED_LEN);
	out->data = pg_blob_dup(r, i, base + 3, &out->data_len);
	out->html = (int)pg_i64(r, i, base + 4);
	out->tracking = (int)pg_i64(r, i, base + 5);
	out->created = pg_i64(r, i, base + 6);
}

int pgr_subscriber_insert(struct store *s, struct subscriber_rec *r)
{
	struct pgp p = {0};
	pgp_blob(&p, r->addr_hash, HASH_LEN);
	pgp_blob(&p, r->wrapped_key, PII_WRAPPED_LEN);
	pgp_blob(&p, r->data, r->data_len);
	pgp_i64(&p, r->html);
	pgp_i64(&p, r->tracking);
	pgp_i64(&p, r->created);
	return rinsert(P(s), R_SUBR_INSERT, &p, &r->id, "insert subscriber");
}

int pgr_subscriber_update(struct store *s, const struct subscriber_rec *r)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	if (pg_need_txn(q) != STORE_OK)
		return STORE_ERR;
	pgp_blob(&p, r->data, r->data_len);
	pgp_i64(&p, r->html);
	pgp_i64(&p, r->tracking);
	pgp_i64(&p, r->id);
	return rrun(q, R_SUBR_UPDATE, &p, NULL, "update subscriber");
}

int pgr_subscriber_delete(struct store *s, int64_t id)
{
	struct pgp p = {0};
	pgp_i64(&p, id);
	return rwrite(P(s), R_SUBR_DELETE, &p, "delete subscriber"); /* subscriptions cascade */
}

int pgr_subscriber_get(struct store *s, int64_t id, const uint8_t *hash, struct subscriber_rec *out)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	if (hash != NULL)
		pgp_blob(&p, hash, HASH_LEN);
	else
		pgp_i64(&p, id);
	PGresult *res =
	    rq(q, hash != NULL ? R_SUBR_BY_HASH : R_SUBR_BY_ID, &p, &rc, "get subscriber");
	if (res == NULL)
		return rc;
	rc = STORE_NOTFOUND;
	if (PQntuples(res) == 1) {
		read_subscriber(res, 0, 0, out);
		rc = STORE_OK;
	}
	PQclear(res);
	return rc;
}

/* --- subscriptions ---------------------------------------------------------- */

static void read_subscription(const PGresult *r, int i, struct subscription_rec *out)
{
	out->list_id = pg_i64(r, i, 0);
	out->subscriber_id = pg_i64(r, i, 1);
	out->state = (enum sub_state)pg_i64(r, i, 2);
	out->digest = (int)pg_i64(r, i, 3);
	out->nomail = (int)pg_i64(r, i, 4);
	out->bounce_score = pg_i64(r, i, 5);
	out->created = pg_i64(r, i, 6);
	out->updated = pg_i64(r, i, 7);
	out->bounce_at = pg_i64(r, i, 8);
	out->soft_score = pg_i64(r, i, 9);
}

int pgr_subscription_put(struct store *s, const struct subscription_rec *r)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	if (pg_need_txn(q) != STORE_OK)
		return STORE_ERR;
	pgp_i64(&p, r->list_id);
	pgp_i64(&p, r->subscriber_id);
	pgp_i64(&p, (int64_t)r->state);
	pgp_i64(&p, r->digest);
	pgp_i64(&p, r->nomail);
	pgp_i64(&p, r->bounce_score);
	pgp_i64(&p, r->created);
	pgp_i64(&p, r->updated);
	pgp_i64(&p, r->bounce_at);
	pgp_i64(&p, r->soft_score);
	return rrun(q, R_SUBN_PUT, &p, NULL, "put subscription");
}

int pgr_subscription_get(struct store *s, int64_t list_id, int64_t sub_id,
			 struct subscription_rec *out)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	pgp_i64(&p, list_id);
	pgp_i64(&p, sub_id);
	PGresult *res = rq(q, R_SUBN_GET, &p, &rc, "get subscription");
	if (res == NULL)
		return rc;
	rc = STORE_NOTFOUND;
	if (PQntuples(res) == 1) {
		read_subscription(res, 0, out);
		rc = STORE_OK;
	}
	PQclear(res);
	return rc;
}

int pgr_subscription_delete(struct store *s, int64_t list_id, int64_t sub_id)
{
	struct pgp p = {0};
	pgp_i64(&p, list_id);
	pgp_i64(&p, sub_id);
	return rwrite(P(s), R_SUBN_DELETE, &p, "delete subscription");
}

static int count1(struct pg_store *q, int id, int64_t key, int64_t *n, const char *what)
{
	struct pgp p = {0};
	int rc;
	pgp_i64(&p, key);
	PGresult *res = rq(q, id, &p, &rc, what);
	if (res == NULL)
		return rc;
	*n = pg_i64(res, 0, 0);
	PQclear(res);
	return STORE_OK;
}

int pgr_subscription_count(struct store *s, int64_t sub_id, int64_t *n)
{
	return count1(P(s), R_SUBN_COUNT, sub_id, n, "count subscriptions");
}

int pgr_subscriptions_of(struct store *s, int64_t sub_id,
			 int (*cb)(void *, const struct subscription_rec *), void *ctx)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	pgp_i64(&p, sub_id);
	PGresult *res = rq(q, R_SUBN_OF, &p, &rc, "subscriptions of");
	if (res == NULL)
		return rc;
	for (int i = 0; i < PQntuples(res); i++) {
		struct subscription_rec r;
		read_subscription(res, i, &r);
		if (cb(ctx, &r))
			break;
	}
	PQclear(res);
	return STORE_OK;
}

int pgr_list_counts(struct store *s, int64_t list_id, int64_t counts[4])
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	memset(counts, 0, 4 * sizeof(counts[0]));
	pgp_i64(&p, list_id);
	PGresult *res = rq(q, R_LIST_COUNTS, &p, &rc, "list counts");
	if (res == NULL)
		return rc;
	for (int i = 0; i < 4; i++)
		counts[i] = pg_i64(res, 0, i);
	PQclear(res);
	return STORE_OK;
}

int pgr_members_page(struct store *s, int64_t list_id, int state, int recipients, int64_t after,
		     int limit, store_member_cb cb, void *ctx)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	pgp_i64(&p, list_id);
	pgp_i64(&p, after);
	if (!recipients)
		pgp_i64(&p, state);
	pgp_i64(&p, limit);
	PGresult *res = rq(q, recipients ? R_RECIPIENTS : R_MEMBERS, &p, &rc, "members");
	if (res == NULL)
		return rc;
	for (int i = 0; i < PQntuples(res); i++) {
		struct subscription_rec sub;
		struct subscriber_rec who = {0};
		read_subscription(res, i, &sub);
		read_subscriber(res, i, 10, &who);
		int stop = cb(ctx, &sub, &who);
		subscriber_rec_free(&who);
		if (stop)
			break;
	}
	PQclear(res);
	return STORE_OK;
}

/* --- jobs --------------------------------------------------------------------- */

static int read_job(struct pg_store *q, const PGresult *r, int i, struct job_rec *j)
{
	int bad = 0;
	j->id = pg_i64(r, i, 0);
	j->list_id = pg_i64(r, i, 1);
	j->kind = (enum job_kind)pg_enum(r, i, 2, &job_kind_names, &bad);
	j->state = (enum job_state)pg_enum(r, i, 3, &job_state_names, &bad);
	j->priority = (int)pg_i64(r, i, 4);
	j->subject = pg_dup(r, i, 5);
	j->body_text = pg_dup(r, i, 6);
	j->body_html = pg_null(r, i, 7) ? NULL : pg_dup(r, i, 7);
	j->recipient_id = pg_i64(r, i, 8);
	j->not_before = pg_i64(r, i, 9);
	j->cursor = pg_i64(r, i, 10);
	j->sent = pg_i64(r, i, 11);
	j->failed = pg_i64(r, i, 12);
	j->total = pg_i64(r, i, 13);
	j->pause_reason = pg_dup(r, i, 14);
	j->resume_at = pg_i64(r, i, 15);
	j->created = pg_i64(r, i, 16);
	j->updated = pg_i64(r, i, 17);
	j->finished = pg_i64(r, i, 18);
	j->lease_owner = pg_dup(r, i, 19);
	j->lease_until = pg_i64(r, i, 20);
	j->rcpt_sealed = NULL;
	j->rcpt_sealed_len = 0;
	if (!pg_null(r, i, 21)) {
		size_t n;
		uint8_t *b = pg_blob_dup(r, i, 21, &n);
		if (n > 0) {
			j->rcpt_sealed = b;
			j->rcpt_sealed_len = n;
		} else {
			free(b);
		}
	}
	if (!bad)
		return STORE_OK;
	bsnprintf(q->err, sizeof(q->err), "job %lld: a kind or state this version does not know",
		  (long long)j->id);
	return STORE_ERR;
}

int pgr_job_insert(struct store *s, struct job_rec *j)
{
	struct pgp p = {0};
	pgp_i64(&p, j->list_id);
	pgp_text(&p, job_kind_name(j->kind));
	pgp_text(&p, job_state_name(j->state));
	pgp_i64(&p, j->priority);
	pgp_text(&p, j->subject);
	pgp_text(&p, j->body_text);
	if (j->body_html != NULL)
		pgp_text(&p, j->body_html);
	else
		pgp_null(&p);
	pgp_i64(&p, j->recipient_id);
	pgp_i64(&p, j->not_before);
	pgp_i64(&p, j->cursor);
	pgp_i64(&p, j->sent);
	pgp_i64(&p, j->failed);
	pgp_i64(&p, j->total);
	pgp_text(&p, j->pause_reason);
	pgp_i64(&p, j->resume_at);
	pgp_i64(&p, j->created);
	pgp_i64(&p, j->updated);
	pgp_i64(&p, j->finished);
	if (j->rcpt_sealed != NULL)
		pgp_blob(&p, j->rcpt_sealed, j->rcpt_sealed_len);
	else
		pgp_null(&p);
	return rinsert(P(s), R_JOB_INSERT, &p, &j->id, "insert job");
}

int pgr_job_update(struct store *s, const struct job_rec *j)
{
	struct pgp p = {0};
	pgp_text(&p, job_state_name(j->state));
	pgp_i64(&p, j->cursor);
	pgp_i64(&p, j->sent);
	pgp_i64(&p, j->failed);
	pgp_i64(&p, j->total);
	pgp_text(&p, j->pause_reason);
	pgp_i64(&p, j->resume_at);
	pgp_i64(&p, j->updated);
	pgp_i64(&p, j->finished);
	pgp_i64(&p, j->not_before);
	pgp_text(&p, j->lease_owner);
	pgp_i64(&p, j->lease_until);
	pgp_i64(&p, j->id);
	return rwrite(P(s), R_JOB_UPDATE, &p, "update job");
}

static int one_job(struct pg_store *q, int id, const struct pgp *p, struct job_rec *out,
		   const char *what)
{
	int rc;
	PGresult *res = rq(q, id, p, &rc, what);
	if (res == NULL)
		return rc;
	rc = STORE_NOTFOUND;
	if (PQntuples(res) == 1) {
		rc = read_job(q, res, 0, out);
		if (rc != STORE_OK)
			job_rec_free(out);
	}
	PQclear(res);
	return rc;
}

int pgr_job_get(struct store *s, int64_t id, struct job_rec *out)
{
	struct pgp p = {0};
	pgp_i64(&p, id);
	return one_job(P(s), R_JOB_GET, &p, out, "get job");
}

int pgr_job_next(struct store *s, int64_t now, struct job_rec *out)
{
	struct pgp p = {0};
	pgp_i64(&p, now);
	return one_job(P(s), R_JOB_NEXT, &p, out, "next job");
}

int pgr_job_each(struct store *s, int (*cb)(void *, const struct job_rec *), void *ctx)
{
	struct pg_store *q = P(s);
	int rc;
	PGresult *res = rq(q, R_JOB_ALL, NULL, &rc, "list jobs");
	if (res == NULL)
		return rc;
	rc = STORE_OK;
	for (int i = 0; i < PQntuples(res); i++) {
		struct job_rec j = {0};
		rc = read_job(q, res, i, &j);
		int stop = rc != STORE_OK || cb(ctx, &j);
		job_rec_free(&j);
		if (stop)
			break;
	}
	PQclear(res);
	return rc;
}

int pgr_retry_put(struct store *s, const struct retry_rec *r)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	if (pg_need_txn(q) != STORE_OK)
		return STORE_ERR;
	pgp_i64(&p, r->job_id);
	pgp_i64(&p, r->subscriber_id);
	pgp_i64(&p, r->attempts);
	pgp_i64(&p, r->first_at);
	pgp_i64(&p, r->next_at);
	pgp_text(&p, r->last_error);
	return rrun(q, R_RETRY_PUT, &p, NULL, "put retry");
}

int pgr_retry_delete(struct store *s, int64_t job_id, int64_t sub_id)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	if (pg_need_txn(q) != STORE_OK)
		return STORE_ERR;
	pgp_i64(&p, job_id);
	pgp_i64(&p, sub_id);
	return rrun(q, R_RETRY_DEL, &p, NULL, "delete retry");
}

int pgr_retry_due(struct store *s, int64_t job_id, int64_t now, int limit,
		  int (*cb)(void *, const struct retry_rec *), void *ctx)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	pgp_i64(&p, job_id);
	pgp_i64(&p, now);
	pgp_i64(&p, limit);
	PGresult *res = rq(q, R_RETRY_DUE, &p, &rc, "due retries");
	if (res == NULL)
		return rc;
	for (int i = 0; i < PQntuples(res); i++) {
		struct retry_rec r;
		r.job_id = pg_i64(res, i, 0);
		r.subscriber_id = pg_i64(res, i, 1);
		r.attempts = (int)pg_i64(res, i, 2);
		r.first_at = pg_i64(res, i, 3);
		r.next_at = pg_i64(res, i, 4);
		r.last_error = pg_str(res, i, 5);
		if (cb(ctx, &r))
			break;
	}
	PQclear(res);
	return STORE_OK;
}

int pgr_retry_count(struct store *s, int64_t job_id, int64_t *n, int64_t *next_at)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	pgp_i64(&p, job_id);
	PGresult *res = rq(q, R_RETRY_COUNT, &p, &rc, "count retries");
	if (res == NULL)
		return rc;
	*n = pg_i64(res, 0, 0);
	*next_at = pg_i64(res, 0, 1);
	PQclear(res);
	return STORE_OK;
}

int pgr_job_failure_add(struct store *s, int64_t job_id, const char *reason, int64_t n)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	if (pg_need_txn(q) != STORE_OK)
		return STORE_ERR;
	pgp_i64(&p, job_id);
	pgp_text(&p, reason);
	pgp_i64(&p, n);
	return rrun(q, R_FAIL_ADD, &p, NULL, "count a job's failure");
}

int pgr_job_failures_each(struct store *s, int64_t job_id, int (*cb)(void *, const char *, int64_t),
			  void *ctx)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	pgp_i64(&p, job_id);
	PGresult *res = rq(q, R_FAIL_EACH, &p, &rc, "a job's failures");
	if (res == NULL)
		return rc;
	for (int i = 0; i < PQntuples(res); i++)
		if (cb(ctx, pg_str(res, i, 0), pg_i64(res, i, 1)))
			break;
	PQclear(res);
	return STORE_OK;
}
