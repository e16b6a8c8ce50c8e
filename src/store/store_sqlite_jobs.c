/*
 * store_sqlite_jobs.c - delivery jobs and their deferred recipients in the
 * SQLite store.
 *
 * TRUST: records come from the delivery layer; job texts are list owners'
 * input and go only through bound parameters.
 */
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "store/store_sqlite_int.h"

enum {
	J_INSERT,
	J_UPDATE,
	J_GET,
	J_ALL,
	J_NEXT,
	J_RETRY_PUT,
	J_RETRY_DEL,
	J_RETRY_DUE,
	J_RETRY_COUNT,
	J_FAIL_ADD,
	J_FAIL_EACH,
};

#define JOB_COLS                                                                                   \
	"id, list_id, kind, state, priority, subject, body_text, body_html, recipient_id, "        \
	"not_before, cursor, sent, failed, total, pause_reason, resume_at, created, updated, "     \
	"finished, lease_owner, lease_until, rcpt_sealed"

static const char *const JSQL[] = {
    [J_INSERT] = "INSERT INTO jobs(list_id, kind, state, priority, subject, body_text, body_html, "
		 "recipient_id, not_before, cursor, sent, failed, total, pause_reason, resume_at, "
		 "created, updated, finished, rcpt_sealed) "
		 "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [J_UPDATE] = "UPDATE jobs SET state=?, cursor=?, sent=?, failed=?, total=?, pause_reason=?, "
		 "resume_at=?, updated=?, finished=?, not_before=?, lease_owner=?, lease_until=?, "
		 "rcpt_sealed=CASE WHEN ?1 IN ('done','cancelled') THEN NULL ELSE rcpt_sealed END "
		 "WHERE id=?",
    [J_GET] = "SELECT " JOB_COLS " FROM jobs WHERE id=?",
    [J_ALL] = "SELECT " JOB_COLS " FROM jobs ORDER BY id",
    [J_NEXT] = "SELECT " JOB_COLS " FROM jobs WHERE "
	       "((state IN ('scheduled','running') AND not_before <= ?1) OR "
	       "(state = 'paused' AND resume_at > 0 AND resume_at <= ?1)) AND lease_until <= ?1 "
	       "ORDER BY priority DESC, id LIMIT 1",
    [J_RETRY_PUT] = "INSERT OR REPLACE INTO job_retries(job_id, subscriber_id, attempts, first_at, "
		    "next_at, last_error) VALUES (?,?,?,?,?,?)",
    [J_RETRY_DEL] = "DELETE FROM job_retries WHERE job_id=? AND subscriber_id=?",
    [J_RETRY_DUE] = "SELECT job_id, subscriber_id, attempts, first_at, next_at, last_error "
		    "FROM job_retries WHERE job_id=? AND next_at <= ? ORDER BY next_at LIMIT ?",
    [J_RETRY_COUNT] = "SELECT count(*), coalesce(min(next_at), 0) FROM job_retries WHERE job_id=?",
    [J_FAIL_ADD] = "INSERT INTO job_failures(job_id, reason, n) VALUES (?,?,?) "
		   "ON CONFLICT (job_id, reason) DO UPDATE SET n = n + excluded.n",
    [J_FAIL_EACH] = "SELECT reason, n FROM job_failures WHERE job_id=? ORDER BY reason",
};

#define Q(s) ((struct sqlite_store *)(s))

static sqlite3_stmt *jprep(struct sqlite_store *q, int id)
{
	return sqlite_cached(q, &q->jstmt[id], JSQL[id]);
}

/* STORE_ERR when the kind or state has a name this binary does not know. */
static int read_job(struct sqlite_store *q, sqlite3_stmt *st, struct job_rec *j)
{
	int bad = 0;
	j->id = sqlite3_column_int64(st, 0);
	j->list_id = sqlite3_column_int64(st, 1);
	j->kind = (enum job_kind)sqlite_col_enum(st, 2, &job_kind_names, &bad);
	j->state = (enum job_state)sqlite_col_enum(st, 3, &job_state_names, &bad);
	j->priority = sqlite3_column_int(st, 4);
	j->subject = sqlite_col_dup(st, 5);
	j->body_text = sqlite_col_dup(st, 6);
	j->body_html = sqlite3_column_type(st, 7) == SQLITE_NULL ? NULL : sqlite_col_dup(st, 7);
	j->recipient_id = sqlite3_column_int64(st, 8);
	j->not_before = sqlite3_column_int64(st, 9);
	j->cursor = sqlite3_column_int64(st, 10);
	j->sent = sqlite3_column_int64(st, 11);
	j->failed = sqlite3_column_int64(st, 12);
	j->total = sqlite3_column_int64(st, 13);
	j->pause_reason = sqlite_col_dup(st, 14);
	j->resume_at = sqlite3_column_int64(st, 15);
	j->created = sqlite3_column_int64(st, 16);
	j->updated = sqlite3_column_int64(st, 17);
	j->finished = sqlite3_column_int64(st, 18);
	j->lease_owner = sqlite_col_dup(st, 19);
	j->lease_until = sqlite3_column_int64(st, 20);
	j->rcpt_sealed = NULL;
	j->rcpt_sealed_len = 0;
	if (sqlite3_column_type(st, 21) == SQLITE_BLOB && sqlite3_column_bytes(st, 21) > 0) {
		j->rcpt_sealed_len = (size_t)sqlite3_column_bytes(st, 21);
		j->rcpt_sealed =
		    (uint8_t *)xmemdup(sqlite3_column_blob(st, 21), j->rcpt_sealed_len);
	}
	if (!bad)
		return STORE_OK;
	bsnprintf(q->err, sizeof(q->err), "job %lld: a kind or state this version does not know",
		  (long long)j->id);
	return STORE_ERR;
}

int sq_job_insert(struct store *s, struct job_rec *j)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = jprep(q, J_INSERT)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, j->list_id);
	sqlite_bind_text(st, 2, job_kind_name(j->kind));
	sqlite_bind_text(st, 3, job_state_name(j->state));
	sqlite3_bind_int(st, 4, j->priority);
	sqlite_bind_text(st, 5, j->subject);
	sqlite_bind_text(st, 6, j->body_text);
	if (j->body_html != NULL)
		sqlite_bind_text(st, 7, j->body_html);
	else
		sqlite3_bind_null(st, 7);
	sqlite3_bind_int64(st, 8, j->recipient_id);
	sqlite3_bind_int64(st, 9, j->not_before);
	sqlite3_bind_int64(st, 10, j->cursor);
	sqlite3_bind_int64(st, 11, j->sent);
	sqlite3_bind_int64(st, 12, j->failed);
	sqlite3_bind_int64(st, 13, j->total);
	sqlite_bind_text(st, 14, j->pause_reason);
	sqlite3_bind_int64(st, 15, j->resume_at);
	sqlite3_bind_int64(st, 16, j->created);
	sqlite3_bind_int64(st, 17, j->updated);
	sqlite3_bind_int64(st, 18, j->finished);
	if (j->rcpt_sealed != NULL)
		sqlite3_bind_blob(st, 19, j->rcpt_sealed, (int)j->rcpt_sealed_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 19);
	int r = sqlite_run(q, st, "insert job");
	if (r == STORE_OK)
		j->id = sqlite3_last_insert_rowid(q->db);
	return r;
}

int sq_job_update(struct store *s, const struct job_rec *j)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = jprep(q, J_UPDATE)) == NULL)
		return STORE_ERR;
	sqlite_bind_text(st, 1, job_state_name(j->state));
	sqlite3_bind_int64(st, 2, j->cursor);
	sqlite3_bind_int64(st, 3, j->sent);
	sqlite3_bind_int64(st, 4, j->failed);
	sqlite3_bind_int64(st, 5, j->total);
	sqlite_bind_text(st, 6, j->pause_reason);
	sqlite3_bind_int64(st, 7, j->resume_at);
	sqlite3_bind_int64(st, 8, j->updated);
	sqlite3_bind_int64(st, 9, j->finished);
	sqlite3_bind_int64(st, 10, j->not_before);
	sqlite_bind_text(st, 11, j->lease_owner);
	sqlite3_bind_int64(st, 12, j->lease_until);
	sqlite3_bind_int64(st, 13, j->id);
	int r = sqlite_run(q, st, "update job");
	if (r == STORE_OK && sqlite3_changes(q->db) == 0)
		return STORE_NOTFOUND;
	return r;
}

static int one_job(struct sqlite_store *q, sqlite3_stmt *st, struct job_rec *out, const char *what)
{
	int rc = sqlite3_step(st), r = STORE_OK;
	if (rc == SQLITE_ROW) {
		r = read_job(q, st, out);
		if (r != STORE_OK)
			job_rec_free(out);
	} else if (rc == SQLITE_DONE)
		r = STORE_NOTFOUND;
	else
		r = sqlite_fail(q, what);
	sqlite3_reset(st);
	return r;
}

int sq_job_get(struct store *s, int64_t id, struct job_rec *out)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st = jprep(q, J_GET);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, id);
	return one_job(q, st, out, "get job");
}

int sq_job_next(struct store *s, int64_t now, struct job_rec *out)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st = jprep(q, J_NEXT);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, now);
	return one_job(q, st, out, "next job");
}

int sq_job_each(struct store *s, int (*cb)(void *, const struct job_rec *), void *ctx)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st = jprep(q, J_ALL);
	if (st == NULL)
		return STORE_ERR;
	int rc, r = STORE_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct job_rec j = {0};
		r = read_job(q, st, &j);
		int stop = r != STORE_OK || cb(ctx, &j);
		job_rec_free(&j);
		if (stop)
			break;
	}
	if (r == STORE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sqlite_fail(q, "list jobs");
	sqlite3_reset(st);
	return r;
}

int sq_retry_put(struct store *s, const struct retry_rec *rr)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = jprep(q, J_RETRY_PUT)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, rr->job_id);
	sqlite3_bind_int64(st, 2, rr->subscriber_id);
	sqlite3_bind_int(st, 3, rr->attempts);
	sqlite3_bind_int64(st, 4, rr->first_at);
	sqlite3_bind_int64(st, 5, rr->next_at);
	sqlite_bind_text(st, 6, rr->last_error);
	return sqlite_run(q, st, "put retry");
}

int sq_retry_delete(struct store *s, int64_t job_id, int64_t sub_id)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = jprep(q, J_RETRY_DEL)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, sub_id);
	return sqlite_run(q, st, "delete retry");
}

int sq_retry_due(struct store *s, int64_t job_id, int64_t now, int limit,
		 int (*cb)(void *, const struct retry_rec *), void *ctx)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st = jprep(q, J_RETRY_DUE);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int(st, 3, limit);
	int rc, r = STORE_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct retry_rec rr;
		rr.job_id = sqlite3_column_int64(st, 0);
		rr.subscriber_id = sqlite3_column_int64(st, 1);
		rr.attempts = sqlite3_column_int(st, 2);
		rr.first_at = sqlite3_column_int64(st, 3);
		rr.next_at = sqlite3_column_int64(st, 4);
		rr.last_error = (const char *)sqlite3_column_text(st, 5);
		if (cb(ctx, &rr))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sqlite_fail(q, "due retries");
	sqlite3_reset(st);
	return r;
}

int sq_retry_count(struct store *s, int64_t job_id, int64_t *n, int64_t *next_at)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st = jprep(q, J_RETRY_COUNT);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, job_id);
	int rc = sqlite3_step(st), r = STORE_OK;
	if (rc == SQLITE_ROW) {
		*n = sqlite3_column_int64(st, 0);
		*next_at = sqlite3_column_int64(st, 1);
	} else {
		r = sqlite_fail(q, "count retries");
	}
	sqlite3_reset(st);
	return r;
}

int sq_job_failure_add(struct store *s, int64_t job_id, const char *reason, int64_t n)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = jprep(q, J_FAIL_ADD)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite_bind_text(st, 2, reason);
	sqlite3_bind_int64(st, 3, n);
	return sqlite_run(q, st, "count a job's failure");
}

int sq_job_failures_each(struct store *s, int64_t job_id, int (*cb)(void *, const char *, int64_t),
			 void *ctx)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st = jprep(q, J_FAIL_EACH);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, job_id);
	int rc, r = STORE_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (cb(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1)))
			break;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sqlite_fail(q, "a job's failures");
	sqlite3_reset(st);
	return r;
}
