/*
 * store_sqlite_intake.c - the intake's tables in the SQLite store
 * (migration 6): the spool of accepted messages and the ledger counts of
 * the owners' daily summary (its other counts are statistics rows,
 * store_sqlite_stats.c).
 *
 *   sq_spool_insert / get / each / set / delete   intake_spool
 *   sq_spool_claim / unclaim / marks / unclaim_tag  intake_handled (migration 10)
 *   sq_ledger_counts                              consent_events by action
 *   store_sqlite_spool_open                       the spool's own file
 *
 * The spool lives in a file of its own next to the database (DB-spool.db
 * for DB.db): its commits are synced (synchronous=FULL, the 250 waits for
 * them) while the database stays at synchronous=NORMAL, and the committer
 * of the spool and the handling of bounces no longer take turns on one
 * write lock. The database's intake_spool table (migration 6) is no longer
 * written: rows an earlier version left there are moved into the spool
 * file when it is opened.
 *
 * A spool row holds one accepted message for one recipient, sealed by the
 * caller under a key of its own (wrapped_key); this file never sees the
 * plaintext.
 *
 * TRUST: records come from the intake layer; everything is bound, never
 * put into SQL text.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "store/store_sqlite_int.h"

enum {
	I_SPOOL_INSERT,
	I_SPOOL_GET,
	I_SPOOL_EACH,
	I_SPOOL_SET,
	I_SPOOL_DELETE,
	I_LEDGER_COUNTS,
	I_SPOOL_CLAIM,
	I_SPOOL_UNCLAIM,
	I_SPOOL_MARKS,
	I_SPOOL_UNCLAIM_TAG,
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
    [I_LEDGER_COUNTS] = "SELECT action, source, count(*) FROM consent_events WHERE list_id=? "
			"AND time >= ? AND time < ? GROUP BY action, source ORDER BY action, "
			"source",
    /* a new marker, or one of another row with that id (a spool file made
     * anew) replaced: one change; the same row's marker: none */
    [I_SPOOL_CLAIM] = "INSERT INTO intake_handled(spool_id, tag) VALUES (?1,?2) "
		      "ON CONFLICT(spool_id) DO UPDATE SET tag = ?2 WHERE tag <> ?2",
    [I_SPOOL_UNCLAIM] = "DELETE FROM intake_handled WHERE spool_id=?",
    [I_SPOOL_MARKS] = "SELECT spool_id, tag FROM intake_handled WHERE spool_id > ? "
		      "ORDER BY spool_id LIMIT ?",
    /* (a tag of another length, read as padded: never a claim's) */
    [I_SPOOL_UNCLAIM_TAG] = "DELETE FROM intake_handled WHERE spool_id=?1 AND "
			    "(tag=?2 OR length(tag) <> ?3)",
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

int sq_spool_claim(struct store *s, int64_t id, const uint8_t *tag)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = iprep(q, I_SPOOL_CLAIM)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_blob(st, 2, tag, STORE_SPOOL_TAG_LEN, SQLITE_STATIC);
	int r = sqlite_run(q, st, "mark a spooled message handled");
	if (r == STORE_OK && sqlite3_changes(q->db) == 0)
		return STORE_EXISTS;
	return r;
}

int sq_spool_unclaim(struct store *s, int64_t id)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = iprep(q, I_SPOOL_UNCLAIM)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, id);
	return sqlite_run(q, st, "forget a handled mark");
}

int sq_spool_marks(struct store *s, int64_t after, int limit,
		   int (*cb)(void *, int64_t, const uint8_t *), void *ctx)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = iprep(q, I_SPOOL_MARKS);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, limit);
	int rc, r = STORE_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint8_t tag[STORE_SPOOL_TAG_LEN];
		sqlite_col_blob(st, 1, tag, sizeof(tag));
		if (cb(ctx, sqlite3_column_int64(st, 0), tag))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sqlite_fail(q, "list the handled marks");
	sqlite3_reset(st);
	return r;
}

int sq_spool_unclaim_tag(struct store *s, int64_t id, const uint8_t *tag)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = iprep(q, I_SPOOL_UNCLAIM_TAG)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_blob(st, 2, tag, STORE_SPOOL_TAG_LEN, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, STORE_SPOOL_TAG_LEN);
	return sqlite_run(q, st, "forget a stray handled mark");
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

/* --- the spool's own file -------------------------------------------------- */

#define SPOOL_SCHEMA                                                                               \
	"CREATE TABLE IF NOT EXISTS intake_spool(\n"                                               \
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"                                                \
	"  received INTEGER NOT NULL,\n"                                                           \
	"  wrapped_key BLOB NOT NULL,\n"                                                           \
	"  data BLOB NOT NULL,\n"                                                                  \
	"  size INTEGER NOT NULL,\n"                                                               \
	"  attempts INTEGER NOT NULL DEFAULT 0,\n"                                                 \
	"  quarantined INTEGER NOT NULL DEFAULT 0,\n"                                              \
	"  updated INTEGER NOT NULL\n"                                                             \
	");\n"                                                                                     \
	"CREATE INDEX IF NOT EXISTS intake_spool_pending ON intake_spool(quarantined, id);\n"

#define SPOOL_COPY                                                                                 \
	"INSERT INTO main.intake_spool(received, wrapped_key, data, size, attempts, quarantined, " \
	"updated) SELECT received, wrapped_key, data, size, attempts, quarantined, updated FROM "  \
	"old.intake_spool ORDER BY id; DELETE FROM old.intake_spool;"

/* The spool file of the database at db: DB-spool.db for DB.db, else
 * DB-spool.db for DB. Allocated. */
char *sqlite_spool_path(const char *db)
{
	size_t n = strlen(db);
	if (n > 3 && strcmp(db + n - 3, ".db") == 0)
		n -= 3;
	char *p = xmalloc(n + sizeof("-spool.db"));
	memcpy(p, db, n);
	memcpy(p + n, "-spool.db", sizeof("-spool.db"));
	return p;
}

/* Moves the rows an earlier version spooled in the database at db into
 * the spool file (one transaction over both files; a crash in between can
 * leave a row in both, never in neither: handled twice at worst). */
static int adopt_old_rows(struct sqlite_store *q, const char *db)
{
	if (access(db, F_OK) != 0)
		return STORE_OK; /* no database yet: nothing spooled there */
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(q->db, "ATTACH DATABASE ? AS old", -1, &st, NULL) != SQLITE_OK)
		return sqlite_fail(q, "attach the database");
	sqlite3_bind_text(st, 1, db, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sqlite_fail(q, "attach the database");
	int r = STORE_OK, any = 0;
	if (sqlite3_prepare_v2(q->db,
			       "SELECT EXISTS(SELECT 1 FROM old.sqlite_master WHERE "
			       "name='intake_spool') AND EXISTS(SELECT 1 FROM old.intake_spool)",
			       -1, &st, NULL) == SQLITE_OK) {
		any = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
		sqlite3_finalize(st);
	}
	/* (the SELECT fails on a database without the table: nothing to move) */
	if (any &&
	    (sqlite_exec(q, "BEGIN IMMEDIATE") != STORE_OK ||
	     sqlite_exec(q, SPOOL_COPY) != STORE_OK || sqlite_exec(q, "COMMIT") != STORE_OK)) {
		r = STORE_ERR;
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	}
	if (sqlite3_exec(q->db, "DETACH DATABASE old", NULL, NULL, NULL) != SQLITE_OK &&
	    r == STORE_OK)
		r = sqlite_fail(q, "detach the database");
	return r;
}

struct store *store_sqlite_spool_open(const struct conf *c, struct buf *err)
{
	char *db = conf_get_path(c, "store", "path");
	char *path = sqlite_spool_path(db);
	struct sqlite_store *q = sqlite_connect(path, c, 1, err);
	free(path);
	if (q != NULL)
		q->spool = 1;
	if (q != NULL && (sqlite_exec(q, SPOOL_SCHEMA) != STORE_OK ||
			  sqlite_exec(q, "PRAGMA synchronous=FULL") != STORE_OK ||
			  adopt_old_rows(q, db) != STORE_OK)) {
		buf_printf(err, "the intake spool: %s", q->err);
		store_close(&q->base);
		q = NULL;
	}
	free(db);
	return q != NULL ? &q->base : NULL;
}
