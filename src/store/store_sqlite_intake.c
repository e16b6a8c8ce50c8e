/*
 * store_sqlite_intake.c - the intake's tables in the SQLite store
 * (migration 6): the spool of accepted messages, the per-list daily
 * counters, and the ledger counts of the owners' daily summary.
 *
 *   sq_spool_insert / get / each / set / delete   intake_spool
 *   sq_count_add / sq_count_get                   daily_counts
 *   sq_ledger_counts                              consent_events by action
 *
 * A spool row holds one accepted message for one recipient, sealed by the
 * caller under a key of its own (wrapped_key); this file never sees the
 * plaintext. daily_counts holds aggregates only: a list, a day, a name, a
 * number.
 *
 * TRUST: records come from the intake layer; everything is bound, never
 * put into SQL text.
 */
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "store/store_sqlite_int.h"

enum {
	I_SPOOL_INSERT,
	I_SPOOL_GET,
	I_SPOOL_EACH,
	I_SPOOL_SET,
	I_SPOOL_DELETE,
	I_COUNT_ADD,
	I_COUNT_GET,
	I_LEDGER_COUNTS,
};

#define SPOOL_COLS "id, received, size, attempts, quarantined, updated"

static const char *const ISQL[SQLITE_INTAKE_STMTS] = {
    [I_SPOOL_INSERT] = "INSERT INTO intake_spool(received, wrapped_key, data, size, attempts, "
		       "quarantined, updated) VALUES (?,?,?,?,?,?,?)",
    [I_SPOOL_GET] = "SELECT " SPOOL_COLS ", wrapped_key, data FROM intake_spool WHERE id=?",
    [I_SPOOL_EACH] = "SELECT " SPOOL_COLS " FROM intake_spool WHERE (quarantined <> 0) = ?1 "
		     "AND id > ?2 AND updated <= ?3 ORDER BY id LIMIT ?4",
    [I_SPOOL_SET] = "UPDATE intake_spool SET attempts=?, quarantined=?, updated=? WHERE id=?",
    [I_SPOOL_DELETE] = "DELETE FROM intake_spool WHERE id=?",
    [I_COUNT_ADD] = "INSERT INTO daily_counts(list_id, day, name, n) VALUES (?1,?2,?3,?4) "
		    "ON CONFLICT(list_id, day, name) DO UPDATE SET n = n + ?4",
    [I_COUNT_GET] = "SELECT n FROM daily_counts WHERE list_id=? AND day=? AND name=?",
    [I_LEDGER_COUNTS] = "SELECT action, source, count(*) FROM consent_events WHERE list_id=? "
			"AND time >= ? AND time < ? GROUP BY action, source ORDER BY action, "
			"source",
};

static sqlite3_stmt *iprep(struct sqlite_store *q, int id)
{
	return sqlite_cached(q, &q->istmt[id], ISQL[id]);
}

static void read_spool(sqlite3_stmt *st, struct spool_rec *r)
{
	r->id = sqlite3_column_int64(st, 0);
	r->received = sqlite3_column_int64(st, 1);
	r->size = sqlite3_column_int64(st, 2);
	r->attempts = sqlite3_column_int(st, 3);
	r->quarantined = sqlite3_column_int64(st, 4);
	r->updated = sqlite3_column_int64(st, 5);
}

int sq_spool_insert(struct store *s, struct spool_rec *r)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = iprep(q, I_SPOOL_INSERT)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, r->received);
	sqlite3_bind_blob(st, 2, r->wrapped_key, PII_WRAPPED_LEN, SQLITE_STATIC);
	sqlite3_bind_blob64(st, 3, r->data, r->data_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, r->size);
	sqlite3_bind_int(st, 5, r->attempts);
	sqlite3_bind_int64(st, 6, r->quarantined);
	sqlite3_bind_int64(st, 7, r->updated);
	int rc = sqlite_run(q, st, "spool a message");
	if (rc == STORE_OK)
		r->id = sqlite3_last_insert_rowid(q->db);
	return rc;
}

int sq_spool_get(struct store *s, int64_t id, struct spool_rec *out)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = iprep(q, I_SPOOL_GET);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st), r = STORE_OK;
	if (rc == SQLITE_ROW) {
		read_spool(st, out);
		sqlite_col_blob(st, 6, out->wrapped_key, PII_WRAPPED_LEN);
		out->data_len = (size_t)sqlite3_column_bytes(st, 7);
		out->data = xmalloc(out->data_len ? out->data_len : 1);
		if (out->data_len)
			memcpy(out->data, sqlite3_column_blob(st, 7), out->data_len);
	} else if (rc == SQLITE_DONE) {
		r = STORE_NOTFOUND;
	} else {
		r = sqlite_fail(q, "read the spool");
	}
	sqlite3_reset(st);
	return r;
}

int sq_spool_each(struct store *s, int quarantined, int64_t after, int64_t due, int limit,
		  int (*cb)(void *, const struct spool_rec *), void *ctx)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = iprep(q, I_SPOOL_EACH);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int(st, 1, quarantined != 0);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_int64(st, 3, due);
	sqlite3_bind_int(st, 4, limit);
	int rc, r = STORE_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct spool_rec rec = {0};
		read_spool(st, &rec);
		if (cb(ctx, &rec))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sqlite_fail(q, "list the spool");
	sqlite3_reset(st);
	return r;
}

int sq_spool_set(struct store *s, int64_t id, int attempts, int64_t quarantined, int64_t updated)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = iprep(q, I_SPOOL_SET)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int(st, 1, attempts);
	sqlite3_bind_int64(st, 2, quarantined);
	sqlite3_bind_int64(st, 3, updated);
	sqlite3_bind_int64(st, 4, id);
	int r = sqlite_run(q, st, "update the spool");
	if (r == STORE_OK && sqlite3_changes(q->db) == 0)
		return STORE_NOTFOUND;
	return r;
}

int sq_spool_delete(struct store *s, int64_t id)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = iprep(q, I_SPOOL_DELETE)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, id);
	int r = sqlite_run(q, st, "delete from the spool");
	if (r == STORE_OK && sqlite3_changes(q->db) == 0)
		return STORE_NOTFOUND;
	return r;
}

int sq_count_add(struct store *s, int64_t list_id, int64_t day, const char *name, int64_t n)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = iprep(q, I_COUNT_ADD)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, list_id);
	sqlite3_bind_int64(st, 2, day);
	sqlite_bind_text(st, 3, name);
	sqlite3_bind_int64(st, 4, n);
	return sqlite_run(q, st, "count");
}

int sq_count_get(struct store *s, int64_t list_id, int64_t day, const char *name, int64_t *n)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = iprep(q, I_COUNT_GET);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, list_id);
	sqlite3_bind_int64(st, 2, day);
	sqlite_bind_text(st, 3, name);
	int rc = sqlite3_step(st), r = STORE_OK;
	*n = 0;
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		r = sqlite_fail(q, "read a count");
	sqlite3_reset(st);
	return r;
}

int sq_ledger_counts(struct store *s, int64_t list_id, int64_t from, int64_t to,
		     int (*cb)(void *, const char *, const char *, int64_t), void *ctx)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = iprep(q, I_LEDGER_COUNTS);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, list_id);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, to);
	int rc, r = STORE_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *action = (const char *)sqlite3_column_text(st, 0);
		const char *source = (const char *)sqlite3_column_text(st, 1);
		if (cb(ctx, action ? action : "", source ? source : "",
		       sqlite3_column_int64(st, 2)))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sqlite_fail(q, "count ledger events");
	sqlite3_reset(st);
	return r;
}
