/*
 * store_sqlite.c - the embedded store: SQLite in WAL mode.
 *
 * Prepared statements are cached per connection. secure_delete is always on,
 * so that deleted rows are zeroed in the database file; store_scrub()
 * checkpoints and truncates the WAL so that the deleted bytes leave it too.
 * Write transactions are BEGIN IMMEDIATE (one writer, no upgrade deadlocks);
 * nested begins are savepoints.
 *
 * TRUST: sees only records from the layers above (personal data already
 * sealed); everything goes through bound parameters, never into SQL text.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/limits.h"
#include "core/num.h"
#include "core/xmalloc.h"
#include "store/migrations_sqlite.h"
#include "store/store_sqlite_int.h"

#define SUBR_COLS "id, addr_hash, wrapped_key, data, html, tracking, created"
#define SUBN_COLS                                                                                  \
	"list_id, subscriber_id, state, digest, nomail, bounce_score, created, updated, "          \
	"bounce_at, "                                                                              \
	"soft_score"
#define LIST_COLS                                                                                  \
	"id, name, domain, title, description, kind, sub_policy, post_policy, moderation, "        \
	"archive, digest, footer, postal_address, tracking, created, owners, bounce_action, "      \
	"archive_erase"
#define MEMBER_SQL                                                                                 \
	"SELECT su.list_id, su.subscriber_id, su.state, su.digest, su.nomail, su.bounce_score, "   \
	"su.created, su.updated, su.bounce_at, su.soft_score, s.id, s.addr_hash, s.wrapped_key, "  \
	"s.data, s.html, s.tracking, s.created FROM subscriptions su JOIN subscribers s ON s.id "  \
	"= "                                                                                       \
	"su.subscriber_id "                                                                        \
	"WHERE su.list_id = ?1 AND su.subscriber_id > ?2 "
#define LEDGER_COLS                                                                                \
	"id, list_id, subscriber_id, action, time, source, policy_version, details, prev_hash, "   \
	"hash"

static const char *const SQL[Q_COUNT] = {
    [Q_LIST_INSERT] = "INSERT INTO lists(name, domain, title, description, kind, sub_policy, "
		      "post_policy, moderation, archive, digest, footer, postal_address, "
		      "tracking, created, owners, bounce_action, archive_erase) "
		      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [Q_LIST_UPDATE] = "UPDATE lists SET name=?, domain=?, title=?, description=?, kind=?, "
		      "sub_policy=?, post_policy=?, moderation=?, archive=?, digest=?, "
		      "footer=?, postal_address=?, tracking=?, created=?, owners=?, "
		      "bounce_action=?, archive_erase=? WHERE id=?",
    [Q_LIST_DELETE] = "DELETE FROM lists WHERE id=?",
    [Q_LIST_BY_NAME] = "SELECT " LIST_COLS " FROM lists WHERE name=?",
    [Q_LIST_BY_ID] = "SELECT " LIST_COLS " FROM lists WHERE id=?",
    [Q_LIST_ALL] = "SELECT " LIST_COLS " FROM lists ORDER BY name",
    [Q_SUBR_INSERT] = "INSERT INTO subscribers(addr_hash, wrapped_key, data, html, tracking, "
		      "created) VALUES (?,?,?,?,?,?)",
    [Q_SUBR_UPDATE] = "UPDATE subscribers SET data=?, html=?, tracking=? WHERE id=?",
    [Q_SUBR_DELETE] = "DELETE FROM subscribers WHERE id=?",
    [Q_SUBR_BY_ID] = "SELECT " SUBR_COLS " FROM subscribers WHERE id=?",
    [Q_SUBR_BY_HASH] = "SELECT " SUBR_COLS " FROM subscribers WHERE addr_hash=?",
    /* put = insert, else update: INSERT OR REPLACE may delete (and cascade),
     * so SQLite gave it a statement journal, which cost a fifth of an import. */
    [Q_SUBN_PUT] =
	"INSERT INTO subscriptions(" SUBN_COLS ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
    [Q_SUBN_UPDATE] = "UPDATE subscriptions SET state=?3, digest=?4, nomail=?5, bounce_score=?6, "
		      "created=?7, updated=?8, bounce_at=?9, soft_score=?10 WHERE list_id=?1 AND "
		      "subscriber_id=?2",
    [Q_SUBN_GET] = "SELECT " SUBN_COLS " FROM subscriptions WHERE list_id=? AND subscriber_id=?",
    [Q_SUBN_DELETE] = "DELETE FROM subscriptions WHERE list_id=? AND subscriber_id=?",
    [Q_SUBN_COUNT] = "SELECT count(*) FROM subscriptions WHERE subscriber_id=?",
    [Q_SUBN_OF] = "SELECT " SUBN_COLS " FROM subscriptions WHERE subscriber_id=? ORDER BY list_id",
    /* One pass, no GROUP BY: grouping a list's rows by state sorts them all
     * (in memory: temp_store), 32 MB for a million, kept by the heap. An
     * empty list sums to NULL, read as 0. */
    [Q_LIST_COUNTS] = "SELECT sum(state=0), sum(state=1), sum(state=2), sum(state=3) "
		      "FROM subscriptions WHERE list_id=?",
    [Q_MEMBERS] = MEMBER_SQL "AND (?3 < 0 OR su.state = ?3) ORDER BY su.subscriber_id LIMIT ?4",
    [Q_RECIPIENTS] = MEMBER_SQL
    "AND su.state = 1 AND su.nomail = 0 AND NOT EXISTS (SELECT 1 FROM suppressions x "
    "WHERE x.addr_hash = s.addr_hash AND x.list_id = 0) AND NOT EXISTS (SELECT 1 "
    "FROM suppressions y WHERE y.addr_hash = s.addr_hash AND y.list_id = ?1) "
    "ORDER BY su.subscriber_id LIMIT ?3",
    [Q_LEDGER_LAST] = "SELECT id, hash FROM consent_events ORDER BY id DESC LIMIT 1",
    [Q_LEDGER_INSERT] = "INSERT INTO consent_events(" LEDGER_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?)",
    [Q_LEDGER_ALL] = "SELECT " LEDGER_COLS " FROM consent_events ORDER BY id",
    [Q_LEDGER_SUB] = "SELECT " LEDGER_COLS " FROM consent_events WHERE subscriber_id=? ORDER BY id",
    [Q_META_GET] = "SELECT value FROM meta WHERE key=?",
    [Q_META_PUT] = "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
    [Q_SUPP_ADD] = "INSERT OR REPLACE INTO suppressions(addr_hash, list_id, reason, time) "
		   "VALUES (?,?,?,?)",
    /* Two probes on the primary key: an IN list would build an ephemeral
     * table on every call, which cost a sixth of an import's time. */
    [Q_SUPP_CHECK] = "SELECT EXISTS (SELECT 1 FROM suppressions WHERE addr_hash=?1 AND list_id=0) "
		     "OR EXISTS (SELECT 1 FROM suppressions WHERE addr_hash=?1 AND list_id=?2)",
    [Q_SUPP_REMOVE] = "DELETE FROM suppressions WHERE addr_hash=? AND list_id=?",
    [Q_SUPP_COUNT] = "SELECT count(*) FROM suppressions WHERE list_id=?",
    [Q_AUDIT] = "INSERT INTO audit_log(time, actor, action, list_id, subscriber_id, detail) "
		"VALUES (?,?,?,?,?,?)",
};

int sqlite_fail(struct sqlite_store *q, const char *what)
{
	int code = sqlite3_extended_errcode(q->db);
	bsnprintf(q->err, sizeof(q->err), "%s: %s", what, sqlite3_errmsg(q->db));
	if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
		return STORE_BUSY;
	return STORE_ERR;
}

sqlite3_stmt *sqlite_prep(struct sqlite_store *q, enum stmt_id id)
{
	sqlite3_stmt *st = q->stmt[id];
	if (st == NULL) {
		if (sqlite3_prepare_v3(q->db, SQL[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
		    SQLITE_OK) {
			sqlite_fail(q, "prepare");
			return NULL;
		}
		q->stmt[id] = st;
	}
	return st;
}

/* SQLite rolls the whole transaction back by itself on some errors
 * (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM, SQLITE_INTERRUPT): then our
 * depth says "inside" while SQLite is back in autocommit mode. Nothing may
 * run in the transaction after that (a write would commit on its own, a
 * SAVEPOINT would start a new one), and the error that did it, in q->err,
 * is the one to report: a failed ROLLBACK ("no transaction is active")
 * must not replace it. 1 if so (q->err kept, or filled if empty). */
static int txn_lost(struct sqlite_store *q)
{
	if (q->depth <= 0 || !sqlite3_get_autocommit(q->db))
		return 0;
	if (q->err[0] == '\0')
		bsnprintf(q->err, sizeof(q->err), "the transaction was rolled back by SQLite");
	return 1;
}

int sqlite_need_txn(struct sqlite_store *q)
{
	if (q->depth > 0)
		return txn_lost(q) ? STORE_ERR : 0;
	bsnprintf(q->err, sizeof(q->err), "bug: write outside a transaction");
	return STORE_ERR;
}

void sqlite_bind_text(sqlite3_stmt *st, int i, const char *z)
{
	sqlite3_bind_text(st, i, z != NULL ? z : "", -1, SQLITE_STATIC);
}

char *sqlite_col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return xmemdup(t != NULL ? (const char *)t : "", (size_t)sqlite3_column_bytes(st, i));
}

int sqlite_col_enum(sqlite3_stmt *st, int i, const struct nametab *t, int *bad)
{
	int v = 0;
	const char *z = (const char *)sqlite3_column_text(st, i);
	if (z == NULL || nametab_parse_len(t, z, (size_t)sqlite3_column_bytes(st, i), &v) < 0) {
		*bad = 1;
		return 0;
	}
	return v;
}

void sqlite_col_blob(sqlite3_stmt *st, int i, uint8_t *out, size_t len)
{
	const void *p = sqlite3_column_blob(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	memset(out, 0, len);
	if (p != NULL)
		memcpy(out, p, n < len ? n : len);
}

/* Runs a statement that returns no rows; resets it. Only a taken unique key
 * is STORE_EXISTS: a failed CHECK, NOT NULL or foreign key is an error. */
int sqlite_run(struct sqlite_store *q, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	int r = STORE_OK;
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
		bsnprintf(q->err, sizeof(q->err), "%s: %s", what, sqlite3_errmsg(q->db));
		r = STORE_EXISTS;
	} else if (rc != SQLITE_DONE) {
		r = sqlite_fail(q, what);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}

int sqlite_exec(struct sqlite_store *q, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(q->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int r = sqlite_fail(q, sql);
		sqlite3_free(msg);
		return r;
	}
	return STORE_OK;
}

sqlite3_stmt *sqlite_cached(struct sqlite_store *q, sqlite3_stmt **slot, const char *sql)
{
	if (*slot == NULL && sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot,
						NULL) != SQLITE_OK) {
		sqlite_fail(q, "prepare");
		return NULL;
	}
	return *slot;
}

int sqlite_count(struct sqlite_store *q, enum stmt_id id, int64_t key, int64_t *n)
{
	sqlite3_stmt *st = sqlite_prep(q, id);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, key);
	int rc = sqlite3_step(st), r = STORE_OK;
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	else
		r = sqlite_fail(q, "count");
	sqlite3_reset(st);
	return r;
}

/* --- lifecycle ------------------------------------------------------------ */

static void sq_close(struct store *s)
{
	struct sqlite_store *q = S(s);
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(q->stmt[i]);
	for (int i = 0; i < SQLITE_JOB_STMTS; i++)
		sqlite3_finalize(q->jstmt[i]);
	for (int i = 0; i < SQLITE_LIMIT_STMTS; i++)
		sqlite3_finalize(q->lstmt[i]);
	for (int i = 0; i < SQLITE_INTAKE_STMTS; i++)
		sqlite3_finalize(q->istmt[i]);
	for (size_t i = 0; i < SQLITE_STATS_STMTS; i++)
		sqlite3_finalize(q->sstmt[i]);
	for (int i = 0; i < SQLITE_HELD_STMTS; i++)
		sqlite3_finalize(q->hstmt[i]);
	for (int i = 0; i < SQLITE_STAFF_STMTS; i++)
		sqlite3_finalize(q->fstmt[i]);
	for (int i = 0; i < SQLITE_ARCHIVE_STMTS; i++)
		sqlite3_finalize(q->astmt[i]);
	for (int i = 0; i < SP_CACHED; i++) {
		sqlite3_finalize(q->sp[i][0]);
		sqlite3_finalize(q->sp[i][1]);
	}
	sqlite3_close(q->db);
	free(q);
}

static const char *sq_errmsg(const struct store *s)
{
	return ((const struct sqlite_store *)s)->err;
}

static void sq_set_error(struct store *s, const char *msg)
{
	bsnprintf(S(s)->err, sizeof(S(s)->err), "%s", msg);
}

static int user_version(struct sqlite_store *q, int64_t *v)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(q->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return sqlite_fail(q, "user_version");
	int rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? STORE_OK : sqlite_fail(q, "user_version");
}

static int sq_schema_version(struct store *s, int64_t *v)
{
	return user_version(S(s), v);
}

static int sq_scrub(struct store *s)
{
	struct sqlite_store *q = S(s);
	if (q->depth > 0) { /* after the commit: the deleted rows are still ours */
		q->scrub_due = 1;
		return STORE_OK;
	}
	q->scrub_due = 0;
	int busy = 0, logn = 0, ckpt = 0;
	int rc = sqlite3_wal_checkpoint_v2(q->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &logn, &ckpt);
	(void)busy;
	if (rc != SQLITE_OK)
		return sqlite_fail(q, "wal checkpoint");
	return STORE_OK;
}

static int sq_checkpoint(struct store *s)
{
	struct sqlite_store *q = S(s);
	if (q->depth > 0) {
		bsnprintf(q->err, sizeof(q->err), "checkpoint: inside a transaction");
		return STORE_ERR;
	}
	int rc = sqlite3_wal_checkpoint_v2(q->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return rc == SQLITE_OK ? STORE_OK : sqlite_fail(q, "wal checkpoint");
}

static int sq_set_durable(struct store *s, int on)
{
	struct sqlite_store *q = S(s);
	if (q->spool && !on && sqlite_exec(q, "PRAGMA wal_autocheckpoint=0") != STORE_OK)
		return STORE_ERR;
	return sqlite_exec(q, on ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
}

/* Syncs the WAL file, where every commit of this database is (WAL mode):
 * what synchronous=FULL does at each commit, once for all of them. */
static int sq_sync(struct store *s)
{
	struct sqlite_store *q = S(s);
	if (q->depth > 0) {
		bsnprintf(q->err, sizeof(q->err), "sync: inside a transaction");
		return STORE_ERR;
	}
	sqlite3_file *wal = NULL;
	if (sqlite3_file_control(q->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK)
		return sqlite_fail(q, "find the WAL");
	if (wal == NULL || wal->pMethods == NULL) {
		/* not opened by this connection yet: a read opens it */
		if (sqlite_exec(q, "SELECT count(*) FROM sqlite_master") != STORE_OK ||
		    sqlite3_file_control(q->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) !=
			SQLITE_OK)
			return sqlite_fail(q, "find the WAL");
		if (wal == NULL || wal->pMethods == NULL)
			return STORE_OK; /* no WAL: nothing committed through one */
	}
	if (wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL) != SQLITE_OK) {
		bsnprintf(q->err, sizeof(q->err), "sync the WAL: I/O error");
		return STORE_ERR;
	}
	return STORE_OK;
}

/* SAVEPOINT spN / RELEASE spN as cached statements: an import opens one
 * savepoint per row, and parsing the SQL each time showed in profiles. */
static int savepoint(struct sqlite_store *q, int release, int depth)
{
	char sql[64];
	bsnprintf(sql, sizeof(sql), "%s sp%d", release ? "RELEASE" : "SAVEPOINT", depth);
	if (depth >= SP_CACHED)
		return sqlite_exec(q, sql);
	sqlite3_stmt **st = &q->sp[depth][release];
	if (*st == NULL &&
	    sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
		return sqlite_fail(q, sql);
	int rc = sqlite3_step(*st);
	sqlite3_reset(*st);
	return rc == SQLITE_DONE ? STORE_OK : sqlite_fail(q, sql);
}

static int sq_set_batch(struct store *s, int on)
{
	struct sqlite_store *q = S(s);
	if (q->depth > 0) {
		bsnprintf(q->err, sizeof(q->err), "bug: batch mode changed inside a transaction");
		return STORE_ERR;
	}
	q->batch = on;
	/* Bulk work rewrites the same index pages batch after batch: let the WAL
	 * grow larger between checkpoints (256 MiB) so that each page is copied
	 * back once per checkpoint rather than once per batch or two, and a page
	 * cache that holds a batch's pages (32 MiB; more would pass the 64 MiB
	 * peak RSS of an import), so that each is written to the WAL once, at
	 * commit; 4 MiB otherwise. Back to normal, one checkpoint that truncates
	 * the WAL file (busy readers only leave it for the next one). */
	if (sqlite_exec(q, on ? "PRAGMA cache_size=-32768" : "PRAGMA cache_size=-4096") != STORE_OK)
		return STORE_ERR;
	if (!on)
		sqlite3_wal_checkpoint_v2(q->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	return sqlite_exec(q, on ? "PRAGMA wal_autocheckpoint=65536"
				 : "PRAGMA wal_autocheckpoint=1000");
}

static int sq_begin(struct store *s)
{
	struct sqlite_store *q = S(s);
	int r;
	if (q->depth == 0) {
		r = sqlite_exec(q, "BEGIN IMMEDIATE");
		q->ledger_dirty = 0;
		q->head_known = 0;
		q->tail_known = 0;
		q->doomed = 0;
	} else if (txn_lost(q)) {
		return STORE_ERR;
	} else if (q->batch) {
		if (q->depth < 0 || q->depth >= (int)(sizeof(q->changes) / sizeof(q->changes[0]))) {
			bsnprintf(q->err, sizeof(q->err), "bug: transactions nested too deep");
			return STORE_ERR;
		}
		q->changes[q->depth] = sqlite3_total_changes64(q->db);
		r = STORE_OK;
	} else {
		r = savepoint(q, 0, q->depth);
	}
	if (r == STORE_OK)
		q->depth++;
	return r;
}

static int write_ledger_head(struct sqlite_store *q);
static int sq_ledger_head(struct store *s, int64_t *id, uint8_t hash[HASH_LEN]);

static int sq_commit(struct store *s)
{
	struct sqlite_store *q = S(s);
	if (q->depth <= 0) {
		bsnprintf(q->err, sizeof(q->err), "bug: commit without begin");
		return STORE_ERR;
	}
	if (txn_lost(q)) /* the caller rolls back, which only counts down */
		return STORE_ERR;
	if (q->depth > 1) {
		q->depth--;
		return q->batch ? STORE_OK : savepoint(q, 1, q->depth);
	}
	if (q->doomed) {
		bsnprintf(q->err, sizeof(q->err),
			  "a step of this batch failed after writing; the batch is not committed");
		return STORE_ERR;
	}
	if (q->ledger_dirty && write_ledger_head(q) != STORE_OK) {
		/* leave the transaction open: the caller rolls back */
		return STORE_ERR;
	}
	int r = sqlite_exec(q, "COMMIT");
	if (r == STORE_OK) {
		q->depth = 0;
		if (q->scrub_due)
			sq_scrub(s); /* committed either way; if it fails, the next checkpoint */
	}
	return r;
}

static void sq_rollback(struct store *s)
{
	struct sqlite_store *q = S(s);
	char sql[96];
	if (q->depth <= 0)
		return;
	/* Rolled back by SQLite already: only the count goes down. Else the
	 * rollback runs, and the error that led to it stays the one reported:
	 * that of the rollback, if it fails too, is dropped. */
	int lost = txn_lost(q);
	char first[sizeof(q->err)];
	memcpy(first, q->err, sizeof(first));
	q->depth--;
	q->tail_known = 0; /* an append may have been undone */
	if (q->depth == 0) {
		if (!lost)
			sqlite_exec(q, "ROLLBACK");
		q->ledger_dirty = 0;
		q->scrub_due = 0;
		q->doomed = 0;
	} else if (q->batch) {
		if (sqlite3_total_changes64(q->db) != q->changes[q->depth])
			q->doomed = 1;
	} else if (!lost) {
		bsnprintf(sql, sizeof(sql), "ROLLBACK TO sp%d; RELEASE sp%d", q->depth, q->depth);
		sqlite_exec(q, sql);
	}
	if (first[0] != '\0')
		memcpy(q->err, first, sizeof(first));
}

/* store_write_check: a REPLACE of one meta row writes its page into the
 * WAL at the commit, as every write does; the value changes each time. */
static int sq_write_check(struct store *s)
{
	struct sqlite_store *q = S(s);
	if (q->depth > 0) {
		bsnprintf(q->err, sizeof(q->err), "bug: write check inside a transaction");
		return STORE_ERR;
	}
	int r = sq_begin(s);
	if (r != STORE_OK)
		return r;
	sqlite3_stmt *st = sqlite_prep(q, Q_META_PUT);
	r = st != NULL ? STORE_OK : STORE_ERR;
	if (r == STORE_OK) {
		char val[32];
		bsnprintf(val, sizeof(val), "%lld", (long long)sqlite3_total_changes64(q->db));
		sqlite_bind_text(st, 1, "write_check");
		sqlite3_bind_text(st, 2, val, -1, SQLITE_TRANSIENT);
		r = sqlite_run(q, st, "write check");
	}
	if (r == STORE_OK)
		r = sq_commit(s);
	if (r != STORE_OK)
		sq_rollback(s);
	return r;
}

/* --- ledger --------------------------------------------------------------- */

static int ledger_last(struct sqlite_store *q, int64_t *id, uint8_t hash[HASH_LEN])
{
	if (q->tail_known) { /* our own last append in this transaction */
		*id = q->tail_id;
		memcpy(hash, q->tail_hash, HASH_LEN);
		return STORE_OK;
	}
	sqlite3_stmt *st = sqlite_prep(q, Q_LEDGER_LAST);
	if (st == NULL)
		return STORE_ERR;
	int rc = sqlite3_step(st), r = STORE_OK;
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		sqlite_col_blob(st, 1, hash, HASH_LEN);
	} else if (rc == SQLITE_DONE) {
		*id = 0;
		memset(hash, 0, HASH_LEN);
	} else {
		r = sqlite_fail(q, "ledger head");
	}
	sqlite3_reset(st);
	return r;
}

static int write_ledger_head(struct sqlite_store *q)
{
	int64_t id;
	uint8_t hash[HASH_LEN];
	char val[32 + 2 * HASH_LEN];
	char hex[2 * HASH_LEN + 1];
	if (ledger_last(q, &id, hash) != STORE_OK)
		return STORE_ERR;
	hex_encode(hash, HASH_LEN, hex);
	bsnprintf(val, sizeof(val), "%lld:%s", (long long)id, hex);
	sqlite3_stmt *st = sqlite_prep(q, Q_META_PUT);
	if (st == NULL)
		return STORE_ERR;
	sqlite_bind_text(st, 1, "ledger_head");
	sqlite_bind_text(st, 2, val);
	return sqlite_run(q, st, "ledger head");
}

static int sq_ledger_append(struct store *s, struct ledger_rec *r, const uint8_t key[KEYS_LEN])
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	int64_t last;
	if (sqlite_need_txn(q) || ledger_last(q, &last, r->prev_hash) != STORE_OK ||
	    (st = sqlite_prep(q, Q_LEDGER_INSERT)) == NULL)
		return STORE_ERR;
	/* The committed head cannot change inside our write transaction: read it
	 * once per transaction. */
	if (!q->head_known) {
		if (sq_ledger_head(s, &q->head_id, q->head_hash) != STORE_OK)
			return STORE_ERR;
		q->head_known = 1;
	}
	if (q->head_id > last) {
		/* Rows were removed from the end since the last commit recorded its
		 * head: chain to that head, so that the gap stays visible to
		 * `ledger verify` instead of being papered over by new events. */
		last = q->head_id;
		memcpy(r->prev_hash, q->head_hash, HASH_LEN);
	}
	r->id = last + 1;
	ledger_rec_hash(r, key, r->hash);
	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_int64(st, 2, r->list_id);
	sqlite3_bind_int64(st, 3, r->subscriber_id);
	sqlite_bind_text(st, 4, r->action);
	sqlite3_bind_int64(st, 5, r->time);
	sqlite_bind_text(st, 6, r->source);
	sqlite_bind_text(st, 7, r->policy_version);
	if (r->details != NULL)
		sqlite3_bind_blob(st, 8, r->details, (int)r->details_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 8);
	sqlite3_bind_blob(st, 9, r->prev_hash, HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 10, r->hash, HASH_LEN, SQLITE_STATIC);
	int rc = sqlite_run(q, st, "append ledger");
	if (rc == STORE_OK) {
		q->ledger_dirty = 1;
		q->tail_known = 1;
		q->tail_id = r->id;
		memcpy(q->tail_hash, r->hash, HASH_LEN);
	}
	return rc;
}

static int sq_ledger_each(struct store *s, int64_t sub_id,
			  int (*cb)(void *, const struct ledger_rec *), void *ctx)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = sqlite_prep(q, sub_id ? Q_LEDGER_SUB : Q_LEDGER_ALL);
	if (st == NULL)
		return STORE_ERR;
	if (sub_id)
		sqlite3_bind_int64(st, 1, sub_id);
	int rc, r = STORE_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ledger_rec e = {0};
		e.id = sqlite3_column_int64(st, 0);
		e.list_id = sqlite3_column_int64(st, 1);
		e.subscriber_id = sqlite3_column_int64(st, 2);
		e.action = (const char *)sqlite3_column_text(st, 3);
		e.time = sqlite3_column_int64(st, 4);
		e.source = (const char *)sqlite3_column_text(st, 5);
		e.policy_version = (const char *)sqlite3_column_text(st, 6);
		e.details = sqlite3_column_blob(st, 7);
		e.details_len = (size_t)sqlite3_column_bytes(st, 7);
		sqlite_col_blob(st, 8, e.prev_hash, HASH_LEN);
		sqlite_col_blob(st, 9, e.hash, HASH_LEN);
		if (cb(ctx, &e))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sqlite_fail(q, "read ledger");
	sqlite3_reset(st);
	return r;
}

static int sq_ledger_head(struct store *s, int64_t *id, uint8_t hash[HASH_LEN])
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = sqlite_prep(q, Q_META_GET);
	if (st == NULL)
		return STORE_ERR;
	sqlite_bind_text(st, 1, "ledger_head");
	int rc = sqlite3_step(st), r = STORE_OK;
	*id = 0;
	memset(hash, 0, HASH_LEN);
	if (rc == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		const char *colon = v != NULL ? strchr(v, ':') : NULL;
		int64_t n = 0;
		if (colon == NULL || num_parse_i64(v, (size_t)(colon - v), 0, INT64_MAX, &n) < 0 ||
		    hex_decode(colon + 1, strlen(colon + 1), hash, HASH_LEN) < 0) {
			bsnprintf(q->err, sizeof(q->err), "ledger head in meta is malformed");
			r = STORE_ERR;
		}
		*id = n;
	} else if (rc != SQLITE_DONE) {
		r = sqlite_fail(q, "ledger head");
	}
	sqlite3_reset(st);
	return r;
}

/* --- suppressions --------------------------------------------------------- */

static int supp_op(struct sqlite_store *q, enum stmt_id id, const uint8_t hash[HASH_LEN],
		   int64_t list_id)
{
	sqlite3_stmt *st;
	if ((id != Q_SUPP_CHECK && sqlite_need_txn(q)) || (st = sqlite_prep(q, id)) == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(st, 1, hash, HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, list_id);
	if (id != Q_SUPP_CHECK)
		return sqlite_run(q, st, "suppression");
	int rc = sqlite3_step(st), r;
	if (rc == SQLITE_ROW)
		r = sqlite3_column_int(st, 0) ? STORE_OK : STORE_NOTFOUND;
	else
		r = sqlite_fail(q, "check suppression");
	sqlite3_reset(st);
	return r;
}

static int sq_suppression_add(struct store *s, const uint8_t hash[HASH_LEN], int64_t list_id,
			      const char *reason, int64_t time)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = sqlite_prep(q, Q_SUPP_ADD)) == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(st, 1, hash, HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, list_id);
	sqlite_bind_text(st, 3, reason);
	sqlite3_bind_int64(st, 4, time);
	return sqlite_run(q, st, "add suppression");
}

static int sq_suppression_check(struct store *s, const uint8_t hash[HASH_LEN], int64_t list_id)
{
	return supp_op(S(s), Q_SUPP_CHECK, hash, list_id);
}

static int sq_suppression_remove(struct store *s, const uint8_t hash[HASH_LEN], int64_t list_id)
{
	return supp_op(S(s), Q_SUPP_REMOVE, hash, list_id);
}

static int sq_suppression_count(struct store *s, int64_t list_id, int64_t *n)
{
	return sqlite_count(S(s), Q_SUPP_COUNT, list_id, n);
}

static int sq_audit(struct store *s, int64_t time, const char *actor, const char *action,
		    int64_t list_id, int64_t sub_id, const char *detail)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = sqlite_prep(q, Q_AUDIT);
	if (st == NULL)
		return STORE_ERR;
	/* The audit row is written even outside a transaction: a view must be logged. */
	sqlite3_bind_int64(st, 1, time);
	sqlite_bind_text(st, 2, actor);
	sqlite_bind_text(st, 3, action);
	sqlite3_bind_int64(st, 4, list_id);
	sqlite3_bind_int64(st, 5, sub_id);
	sqlite_bind_text(st, 6, detail);
	return sqlite_run(q, st, "audit");
}

static const struct store_ops SQLITE_OPS = {
    .name = "sqlite",
    .close = sq_close,
    .errmsg = sq_errmsg,
    .set_error = sq_set_error,
    .schema_version = sq_schema_version,
    .scrub = sq_scrub,
    .checkpoint = sq_checkpoint,
    .set_durable = sq_set_durable,
    .sync = sq_sync,
    .write_check = sq_write_check,
    .set_batch = sq_set_batch,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .list_insert = sq_list_insert,
    .list_update = sq_list_update,
    .list_delete = sq_list_delete,
    .list_get = sq_list_get,
    .list_each = sq_list_each,
    .subscriber_insert = sq_subscriber_insert,
    .subscriber_update = sq_subscriber_update,
    .subscriber_delete = sq_subscriber_delete,
    .subscriber_get = sq_subscriber_get,
    .subscription_put = sq_subscription_put,
    .subscription_get = sq_subscription_get,
    .subscription_delete = sq_subscription_delete,
    .subscription_count = sq_subscription_count,
    .subscriptions_of = sq_subscriptions_of,
    .list_counts = sq_list_counts,
    .members_page = sq_members_page,
    .ledger_append = sq_ledger_append,
    .ledger_each = sq_ledger_each,
    .ledger_head = sq_ledger_head,
    .suppression_add = sq_suppression_add,
    .suppression_check = sq_suppression_check,
    .suppression_remove = sq_suppression_remove,
    .suppression_count = sq_suppression_count,
    .job_insert = sq_job_insert,
    .job_update = sq_job_update,
    .job_get = sq_job_get,
    .job_each = sq_job_each,
    .job_next = sq_job_next,
    .retry_put = sq_retry_put,
    .retry_delete = sq_retry_delete,
    .retry_due = sq_retry_due,
    .retry_count = sq_retry_count,
    .job_failure_add = sq_job_failure_add,
    .job_failures_each = sq_job_failures_each,
    .confirm_limit_hit = sq_confirm_limit_hit,
    .confirm_limit_prune = sq_confirm_limit_prune,
    .spool_insert = sq_spool_insert,
    .spool_get = sq_spool_get,
    .held_insert = sq_held_insert,
    .held_get = sq_held_get,
    .held_each = sq_held_each,
    .held_delete = sq_held_delete,
    .held_expire = sq_held_expire,
    .held_delete_sender = sq_held_delete_sender,
    .spool_each = sq_spool_each,
    .spool_set = sq_spool_set,
    .spool_delete = sq_spool_delete,
    .spool_claim = sq_spool_claim,
    .spool_unclaim = sq_spool_unclaim,
    .spool_marks = sq_spool_marks,
    .spool_unclaim_tag = sq_spool_unclaim_tag,
    .ledger_counts = sq_ledger_counts,
    .reply_limit_hit = sq_reply_limit_hit,
    .reply_limit_prune = sq_reply_limit_prune,
    .stats_add = sq_stats_add,
    .stats_get = sq_stats_get,
    .stats_each = sq_stats_each,
    .stats_total = sq_stats_total,
    .archive_insert = sq_archive_insert,
    .archive_part_add = sq_archive_part_add,
    .archive_get = sq_archive_get,
    .archive_months = sq_archive_months,
    .archive_each = sq_archive_each,
    .archive_count = sq_archive_count,
    .archive_search = sq_archive_search,
    .archive_parts = sq_archive_parts,
    .archive_part_get = sq_archive_part_get,
    .archive_by_author = sq_archive_by_author,
    .archive_containing = sq_archive_containing,
    .archive_update = sq_archive_update,
    .archive_parts_delete = sq_archive_parts_delete,
    .archive_delete = sq_archive_delete,
    .archive_compact = sq_archive_compact,
    .audit = sq_audit,
    .staff_insert = sq_staff_insert,
    .staff_set_password = sq_staff_set_password,
    .staff_delete = sq_staff_delete,
    .staff_get = sq_staff_get,
    .staff_each = sq_staff_each,
    .grant_put = sq_grant_put,
    .grant_delete = sq_grant_delete,
    .grants_of = sq_grants_of,
    .session_put = sq_session_put,
    .session_get = sq_session_get,
    .session_seen = sq_session_seen,
    .session_delete = sq_session_delete,
    .session_delete_staff = sq_session_delete_staff,
    .session_prune = sq_session_prune,
    .apitoken_put = sq_apitoken_put,
    .apitoken_get = sq_apitoken_get,
    .audit_each = sq_audit_each,
    .audit_prune = sq_audit_prune,
};

static int migrate(struct sqlite_store *q, int allowed, struct buf *err)
{
	int64_t v;
	int newest = migrations_sqlite_count();
	if (user_version(q, &v) != STORE_OK) {
		buf_puts(err, q->err);
		return -1;
	}
	int g = store_version_gate(v, newest, allowed, err);
	if (g <= 0)
		return g;
	for (int n = (int)v + 1; n <= newest; n++) {
		char pragma[64];
		bsnprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", n);
		if (sqlite_exec(q, "BEGIN IMMEDIATE") != STORE_OK ||
		    sqlite_exec(q, migrations_sqlite_get(n)) != STORE_OK ||
		    sqlite_exec(q, pragma) != STORE_OK || sqlite_exec(q, "COMMIT") != STORE_OK) {
			buf_printf(err, "migration %d failed: %s", n, q->err);
			sqlite_exec(q, "ROLLBACK");
			return -1;
		}
	}
	return 0;
}

/* SQLite's global settings, before its first use. Without the memory
 * statistics every allocation skips a global mutex: an import allocates
 * some twenty times a row. (SQLITE_MISUSE if SQLite was set up already:
 * then it keeps its defaults.) */
static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

struct sqlite_store *sqlite_connect(const char *path, const struct conf *c, int create,
				    struct buf *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sqlite_setup);
	struct sqlite_store *q = xcalloc(1, sizeof(*q));
	q->base.ops = &SQLITE_OPS;
	/* A connection is used by one thread at a time (the web role opens one
	 * per worker), so SQLite's own mutexes are not needed. */
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	if (create)
		flags |= SQLITE_OPEN_CREATE;
	mode_t old = umask(077); /* the database and its WAL are readable by us alone */
	int rc = sqlite3_open_v2(path, &q->db, flags, NULL);
	umask(old);
	if (rc != SQLITE_OK) {
		buf_printf(err, "%s: cannot open the database: %s%s", path,
			   q->db ? sqlite3_errmsg(q->db) : "out of memory",
			   create ? "" : " (run `listkeeper init` first)");
		sqlite3_close(q->db);
		free(q);
		return NULL;
	}
	sqlite3_busy_timeout(q->db, (int)conf_get_int(c, "store", "busy_timeout_ms"));
	sqlite3_extended_result_codes(q->db, 1);
	if (sqlite_exec(q, "PRAGMA journal_mode=WAL") != STORE_OK ||
	    sqlite_exec(q, "PRAGMA synchronous=NORMAL") != STORE_OK ||
	    sqlite_exec(q, "PRAGMA foreign_keys=ON") != STORE_OK ||
	    sqlite_exec(q, "PRAGMA secure_delete=ON") != STORE_OK ||
	    sqlite_exec(q, "PRAGMA trusted_schema=OFF") != STORE_OK ||
	    /* savepoint journals in memory; a small page cache (store_set_batch
	     * makes it larger for bulk work) */
	    sqlite_exec(q, "PRAGMA temp_store=MEMORY") != STORE_OK ||
	    sqlite_exec(q, "PRAGMA cache_size=-4096") != STORE_OK) {
		buf_puts(err, q->err);
		sq_close(&q->base);
		return NULL;
	}
	return q;
}

struct store *store_sqlite_open(const struct conf *c, int migrate_ok, struct buf *err)
{
	char *path = conf_get_path(c, "store", "path");
	struct sqlite_store *q = sqlite_connect(path, c, migrate_ok, err);
	free(path);
	if (q == NULL)
		return NULL;
	if (migrate(q, migrate_ok, err) < 0) {
		if (err->len == 0)
			buf_puts(err, q->err);
		sq_close(&q->base);
		return NULL;
	}
	return &q->base;
}
