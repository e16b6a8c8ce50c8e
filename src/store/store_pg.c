/*
 * store_pg.c - the PostgreSQL store (libpq): [store] backend = postgresql,
 * [store] dsn = a libpq connection string.
 *
 * One connection per store handle (the web role opens one per worker, as
 * with SQLite). Statements are prepared once per connection, on first use.
 * Write transactions take turns: the outermost begin takes a transaction
 * advisory lock that every writer takes, which is what SQLite's BEGIN
 * IMMEDIATE gives (one writer at a time; reads never wait), so the layers
 * above see the same behaviour on both stores; waiting longer than [store]
 * busy_timeout_ms is STORE_BUSY. Nested begins are savepoints.
 *
 * Errors: an unreachable server, a lost connection, a lock or statement
 * timeout and a serialization failure are STORE_BUSY (try again: inject
 * exits 75, the web answers 503); the connection is made anew at the next
 * statement outside a transaction. A statement that fails inside a
 * transaction aborts it (PostgreSQL's rule): the rest of it is refused with
 * the first error until it is rolled back (to a savepoint, or whole).
 *
 * The SQLite-specific calls have these meanings here (docs/privacy.md):
 * store_scrub runs VACUUM on the tables that hold sealed personal data, so
 * that the dead row versions of an erasure are pruned (the erasure itself is
 * the row delete, and the person's data key goes with the row: what is left
 * of it in free space or old WAL segments is sealed under a key no one has);
 * store_checkpoint does nothing (PostgreSQL checkpoints by itself).
 * Commits are asynchronous (synchronous_commit off), as SQLite's
 * synchronous=NORMAL: a crash of the process loses nothing, one of the
 * machine may lose the last ones, never more; store_set_durable(on) syncs
 * every commit (the intake's 250), store_sync commits a write of its own
 * synchronously, which makes every earlier commit durable (PostgreSQL
 * flushes the WAL in order), and store_scrub does that first too.
 *
 * The password never comes from the configuration: a DSN with password= is
 * refused; libpq reads it from PGPASSFILE or ~/.pgpass (mode 0600).
 *
 * TRUST: sees only records from the layers above (personal data already
 * sealed); everything goes through bound parameters, never into SQL text.
 * The DSN is the operator's; its errors are reported without it.
 */
#include <stdlib.h>
#include <string.h>

#include "core/num.h"
#include "core/xmalloc.h"
#include "store/migrations_pg.h"
#include "store/store_pg_int.h"

/* Advisory lock keys ("lk" and a number). */
#define LOCK_MIGRATE 0x6c6b0001LL
#define LOCK_WRITE 0x6c6b0002LL

/* --- parameters and results ------------------------------------------------ */

void pgp_i64(struct pgp *p, int64_t x)
{
	if (p->n >= PGP_MAX)
		abort();
	bsnprintf(p->num[p->n], sizeof(p->num[0]), "%lld", (long long)x);
	p->v[p->n] = p->num[p->n];
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

void pgp_text(struct pgp *p, const char *z)
{
	if (p->n >= PGP_MAX)
		abort();
	p->v[p->n] = z != NULL ? z : "";
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

void pgp_blob(struct pgp *p, const void *b, size_t len)
{
	if (p->n >= PGP_MAX || len > INT32_MAX)
		abort();
	p->v[p->n] = b != NULL ? (const char *)b : "";
	p->len[p->n] = (int)len;
	p->fmt[p->n] = 1;
	p->n++;
}

void pgp_null(struct pgp *p)
{
	if (p->n >= PGP_MAX)
		abort();
	p->v[p->n] = NULL;
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

int64_t pg_i64(const PGresult *r, int row, int col)
{
	int64_t v = 0;
	const char *z = PQgetvalue(r, row, col);
	if (z == NULL || num_parse_i64(z, strlen(z), INT64_MIN, INT64_MAX, &v) < 0)
		return 0;
	return v;
}

const char *pg_str(const PGresult *r, int row, int col)
{
	const char *z = PQgetvalue(r, row, col);
	return z != NULL ? z : "";
}

char *pg_dup(const PGresult *r, int row, int col)
{
	return xstrdup(pg_str(r, row, col));
}

int pg_null(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col);
}

/* bytea in text results: "\x" and two hex digits a byte */
static int blob_hex(const PGresult *r, int row, int col, const char **hex, size_t *n)
{
	const char *z = PQgetvalue(r, row, col);
	size_t len = (size_t)PQgetlength(r, row, col);
	if (z == NULL || len < 2 || z[0] != '\\' || z[1] != 'x' || (len - 2) % 2 != 0) {
		*hex = "";
		*n = 0;
		return -1;
	}
	*hex = z + 2;
	*n = (len - 2) / 2;
	return 0;
}

void pg_blob(const PGresult *r, int row, int col, uint8_t *out, size_t len)
{
	const char *hex;
	size_t n;
	memset(out, 0, len);
	if (blob_hex(r, row, col, &hex, &n) < 0)
		return;
	if (n > len)
		n = len;
	if (hex_decode(hex, 2 * n, out, n) < 0)
		memset(out, 0, len);
}

uint8_t *pg_blob_dup(const PGresult *r, int row, int col, size_t *len)
{
	const char *hex;
	size_t n;
	blob_hex(r, row, col, &hex, &n);
	uint8_t *p = xmalloc(n ? n : 1);
	if (n && hex_decode(hex, 2 * n, p, n) < 0)
		n = 0;
	*len = n;
	return p;
}

int pg_enum(const PGresult *r, int row, int col, const struct nametab *t, int *bad)
{
	int v = 0;
	const char *z = PQgetvalue(r, row, col);
	if (z == NULL || pg_null(r, row, col) || nametab_parse_len(t, z, strlen(z), &v) < 0) {
		*bad = 1;
		return 0;
	}
	return v;
}

/* --- running statements ---------------------------------------------------- */

/* libpq's message on one line: its newlines and tabs as single spaces. */
static void one_line(char *dst, size_t cap, const char *src)
{
	size_t o = 0;
	for (; *src != '\0' && o + 1 < cap; src++) {
		char c = *src == '\n' || *src == '\t' || *src == '\r' ? ' ' : *src;
		if (c == ' ' && (o == 0 || dst[o - 1] == ' '))
			continue;
		dst[o++] = c;
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
}

static void set_conn_error(struct pg_store *q, const char *what)
{
	char m[400];
	one_line(m, sizeof(m), q->conn != NULL ? PQerrorMessage(q->conn) : "out of memory");
	bsnprintf(q->err, sizeof(q->err), "%s: the PostgreSQL server is unreachable: %s", what, m);
}

static int conn_setup(struct pg_store *q);

/* Outside a transaction, a lost connection is made anew (its prepared
 * statements and settings with it). 0 if connected. */
static int ensure_conn(struct pg_store *q, const char *what)
{
	if (q->conn != NULL && PQstatus(q->conn) == CONNECTION_OK)
		return 0;
	if (q->depth > 0) {
		set_conn_error(q, what);
		q->aborted = 1;
		return -1;
	}
	PQreset(q->conn);
	memset(q->prepared, 0, sizeof(q->prepared));
	if (PQstatus(q->conn) != CONNECTION_OK) {
		set_conn_error(q, what);
		return -1;
	}
	return conn_setup(q) == STORE_OK ? 0 : -1;
}

/* The store result of a failed statement, its message in q->err. */
static int fail_result(struct pg_store *q, PGresult *res, const char *what)
{
	if (q->conn == NULL || PQstatus(q->conn) != CONNECTION_OK) {
		set_conn_error(q, what);
		if (q->depth > 0)
			q->aborted = 1;
		return STORE_BUSY;
	}
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (msg == NULL)
		msg = PQerrorMessage(q->conn);
	bsnprintf(q->err, sizeof(q->err), "%s: %s", what, msg);
	if (q->depth > 0)
		q->aborted = 1;
	if (state == NULL)
		return STORE_ERR;
	if (strcmp(state, "23505") == 0)
		return STORE_EXISTS;
	/* serialization failure, deadlock, lock or statement timeout, too many
	 * connections, the server shutting down or starting: try again */
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	    strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0 ||
	    strcmp(state, "53300") == 0 || strncmp(state, "57P0", 4) == 0 ||
	    strncmp(state, "08", 2) == 0)
		return STORE_BUSY;
	return STORE_ERR;
}

static int pg_exec(struct pg_store *q, const char *sql, const char *what);

int pg_need_txn(struct pg_store *q)
{
	if (q->depth <= 0) {
		bsnprintf(q->err, sizeof(q->err), "bug: write outside a transaction");
		return STORE_ERR;
	}
	return q->aborted ? STORE_ERR : STORE_OK;
}

PGresult *pg_q(struct pg_store *q, int slot, const char *sql, const struct pgp *p, int *rc,
	       const char *what)
{
	static const struct pgp none = {0};
	char name[16];
	if (p == NULL)
		p = &none;
	*rc = STORE_ERR;
	if (q->depth > 0 && q->aborted) /* q->err holds the error that did it */
		return NULL;
	if (ensure_conn(q, what) < 0) {
		*rc = STORE_BUSY;
		return NULL;
	}
	bsnprintf(name, sizeof(name), "lk%d", slot);
	if (!q->prepared[slot]) {
		PGresult *pr = PQprepare(q->conn, name, sql, 0, NULL);
		if (PQresultStatus(pr) != PGRES_COMMAND_OK) {
			*rc = fail_result(q, pr, what);
			PQclear(pr);
			return NULL;
		}
		PQclear(pr);
		q->prepared[slot] = 1;
	}
	/* A write inside a transaction runs in a savepoint of its own, so that
	 * its failure (a CHECK, a foreign key) undoes only it and the caller can
	 * go on, as with SQLite. Batch mode does without: there a failed write
	 * dooms the batch anyway. */
	int guard = q->depth > 0 && !q->batch &&
		    (strncmp(sql, "INSERT", 6) == 0 || strncmp(sql, "UPDATE", 6) == 0 ||
		     strncmp(sql, "DELETE", 6) == 0);
	if (guard && pg_exec(q, "SAVEPOINT lk_stmt", what) != STORE_OK) {
		*rc = STORE_ERR;
		return NULL;
	}
	PGresult *res = PQexecPrepared(q->conn, name, p->n, p->v, p->len, p->fmt, 0);
	ExecStatusType st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		*rc = fail_result(q, res, what);
		PQclear(res);
		if (guard && PQstatus(q->conn) == CONNECTION_OK) {
			char first[sizeof(q->err)];
			memcpy(first, q->err, sizeof(first));
			q->aborted = 0;
			if (pg_exec(q, "ROLLBACK TO SAVEPOINT lk_stmt", what) != STORE_OK ||
			    pg_exec(q, "RELEASE SAVEPOINT lk_stmt", what) != STORE_OK)
				q->aborted = 1;
			memcpy(q->err, first, sizeof(first));
		}
		return NULL;
	}
	if (guard && pg_exec(q, "RELEASE SAVEPOINT lk_stmt", what) != STORE_OK) {
		PQclear(res);
		*rc = STORE_ERR;
		return NULL;
	}
	const char *cmd = PQcmdStatus(res);
	if (strncmp(cmd, "INSERT", 6) == 0 || strncmp(cmd, "UPDATE", 6) == 0 ||
	    strncmp(cmd, "DELETE", 6) == 0) {
		int64_t n = 0;
		const char *t = PQcmdTuples(res);
		if (num_parse_i64(t, strlen(t), 0, INT64_MAX, &n) == 0)
			q->changes += n;
	}
	*rc = STORE_OK;
	return res;
}

int pg_run(struct pg_store *q, int slot, const char *sql, const struct pgp *p, int64_t *n,
	   const char *what)
{
	int rc;
	PGresult *res = pg_q(q, slot, sql, p, &rc, what);
	if (n != NULL)
		*n = 0;
	if (res == NULL)
		return rc;
	if (n != NULL) {
		const char *t = PQcmdTuples(res);
		if (num_parse_i64(t, strlen(t), 0, INT64_MAX, n) < 0)
			*n = PQntuples(res);
	}
	PQclear(res);
	return STORE_OK;
}

/* A statement of our own text, not prepared (transaction control, SET). */
static int pg_exec(struct pg_store *q, const char *sql, const char *what)
{
	if (ensure_conn(q, what) < 0)
		return STORE_BUSY;
	PGresult *res = PQexec(q->conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int r = STORE_OK;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		r = fail_result(q, res, what);
	PQclear(res);
	return r;
}

/* --- statements of this file ------------------------------------------------ */

enum {
	C_META_GET,
	C_META_PUT,
	C_LEDGER_LAST,
	C_LEDGER_INSERT,
	C_LEDGER_ALL,
	C_LEDGER_SUB,
	C_SUPP_ADD,
	C_SUPP_CHECK,
	C_SUPP_REMOVE,
	C_SUPP_COUNT,
	C_AUDIT,
	C_WRITE_LOCK,
	C_AUDIT_EACH,
	C_AUDIT_PRUNE,
	C_COUNT
};
_Static_assert(PG_BASE_CORE + C_COUNT <= PG_BASE_ROWS, "slots");

#define LEDGER_COLS                                                                                \
	"id, list_id, subscriber_id, action, time, source, policy_version, details, prev_hash, "   \
	"hash"
#define LEDGER_PAGE 1000

static const char *const CSQL[C_COUNT] = {
    [C_META_GET] = "SELECT value FROM meta WHERE key=$1",
    [C_META_PUT] = "INSERT INTO meta(key, value) VALUES ($1, $2) "
		   "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [C_LEDGER_LAST] = "SELECT id, hash FROM consent_events ORDER BY id DESC LIMIT 1",
    [C_LEDGER_INSERT] =
	"INSERT INTO consent_events(" LEDGER_COLS ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
    [C_LEDGER_ALL] = "SELECT " LEDGER_COLS " FROM consent_events WHERE id > $1 ORDER BY id "
		     "LIMIT $2",
    [C_LEDGER_SUB] = "SELECT " LEDGER_COLS " FROM consent_events WHERE subscriber_id=$3 AND "
		     "id > $1 ORDER BY id LIMIT $2",
    [C_SUPP_ADD] = "INSERT INTO suppressions(addr_hash, list_id, reason, time) VALUES "
		   "($1,$2,$3,$4) ON CONFLICT (addr_hash, list_id) DO UPDATE SET "
		   "reason = excluded.reason, time = excluded.time",
    [C_SUPP_CHECK] = "SELECT 1 FROM suppressions WHERE addr_hash=$1 AND list_id IN (0, $2) "
		     "LIMIT 1",
    [C_SUPP_REMOVE] = "DELETE FROM suppressions WHERE addr_hash=$1 AND list_id=$2",
    [C_SUPP_COUNT] = "SELECT count(*) FROM suppressions WHERE list_id=$1",
    [C_AUDIT] = "INSERT INTO audit_log(time, actor, action, list_id, subscriber_id, detail) "
		"VALUES ($1,$2,$3,$4,$5,$6)",
    [C_WRITE_LOCK] = "SELECT pg_advisory_xact_lock($1)",
    [C_AUDIT_EACH] = "SELECT id, time, actor, action, list_id, subscriber_id, detail FROM "
		     "audit_log WHERE $1::bigint = 0 OR id < $1 ORDER BY id DESC LIMIT $2",
    [C_AUDIT_PRUNE] = "DELETE FROM audit_log WHERE time < $1",
};

static PGresult *cq(struct pg_store *q, int id, const struct pgp *p, int *rc, const char *what)
{
	return pg_q(q, PG_BASE_CORE + id, CSQL[id], p, rc, what);
}

static int crun(struct pg_store *q, int id, const struct pgp *p, int64_t *n, const char *what)
{
	return pg_run(q, PG_BASE_CORE + id, CSQL[id], p, n, what);
}

/* --- lifecycle --------------------------------------------------------------- */

static void pg_close(struct store *s)
{
	struct pg_store *q = P(s);
	if (q->depth > 0)
		pg_exec(q, "ROLLBACK", "close");
	PQfinish(q->conn);
	free(q->dsn);
	free(q);
}

static const char *pg_errmsg(const struct store *s)
{
	return ((const struct pg_store *)s)->err;
}

static void pg_set_error(struct store *s, const char *msg)
{
	bsnprintf(P(s)->err, sizeof(P(s)->err), "%s", msg);
}

/* The schema version: 0 in a database without our tables. */
static int schema_version(struct pg_store *q, int64_t *v)
{
	int rc;
	*v = 0;
	PGresult *res = pg_q(q, PG_BASE_CORE + C_COUNT, "SELECT to_regclass('meta') IS NOT NULL",
			     NULL, &rc, "schema version");
	if (res == NULL)
		return rc;
	int have = PQntuples(res) == 1 && strcmp(pg_str(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!have)
		return STORE_OK;
	struct pgp p = {0};
	pgp_text(&p, "schema_version");
	if ((res = cq(q, C_META_GET, &p, &rc, "schema version")) == NULL)
		return rc;
	if (PQntuples(res) == 1)
		*v = pg_i64(res, 0, 0);
	PQclear(res);
	return STORE_OK;
}

static int pg_schema_version(struct store *s, int64_t *v)
{
	return schema_version(P(s), v);
}

static int pg_sync(struct store *s);

static int pg_scrub(struct store *s)
{
	struct pg_store *q = P(s);
	if (q->depth > 0) {
		q->scrub_due = 1;
		return STORE_OK;
	}
	q->scrub_due = 0;
	int rs = pg_sync(s); /* the erasure durable first */
	if (rs != STORE_OK)
		return rs;
	/* VACUUM cannot run inside a transaction block: each on its own */
	static const char *const T[] = {"VACUUM subscribers",	 "VACUUM subscriptions",
					"VACUUM consent_events", "VACUUM held",
					"VACUUM intake_spool",	 "VACUUM jobs"};
	for (size_t i = 0; i < sizeof(T) / sizeof(T[0]); i++) {
		int r = pg_exec(q, T[i], "scrub");
		if (r != STORE_OK)
			return r;
	}
	return STORE_OK;
}

static int pg_checkpoint(struct store *s)
{
	struct pg_store *q = P(s);
	if (q->depth > 0) {
		bsnprintf(q->err, sizeof(q->err), "checkpoint: inside a transaction");
		return STORE_ERR;
	}
	return STORE_OK;
}

static int pg_set_durable(struct store *s, int on)
{
	struct pg_store *q = P(s);
	q->durable = on != 0;
	return pg_exec(q, on ? "SET synchronous_commit = on" : "SET synchronous_commit = off",
		       "set durable");
}

static int pg_write_check(struct store *s);

/* A write of our own committed synchronously: its commit record is flushed
 * with everything before it. */
static int pg_sync(struct store *s)
{
	struct pg_store *q = P(s);
	if (q->depth > 0) {
		bsnprintf(q->err, sizeof(q->err), "sync: inside a transaction");
		return STORE_ERR;
	}
	if (q->durable)
		return STORE_OK;
	int r = pg_exec(q, "SET synchronous_commit = on", "sync");
	if (r == STORE_OK)
		r = pg_write_check(s);
	int r2 = pg_exec(q, "SET synchronous_commit = off", "sync");
	return r != STORE_OK ? r : r2;
}

static int pg_set_batch(struct store *s, int on)
{
	struct pg_store *q = P(s);
	if (q->depth > 0) {
		bsnprintf(q->err, sizeof(q->err), "bug: batch mode changed inside a transaction");
		return STORE_ERR;
	}
	q->batch = on;
	return STORE_OK;
}

static int savepoint(struct pg_store *q, const char *verb, int depth)
{
	char sql[64];
	bsnprintf(sql, sizeof(sql), "%s sp%d", verb, depth);
	return pg_exec(q, sql, "savepoint");
}

static int pg_begin(struct store *s)
{
	struct pg_store *q = P(s);
	int r;
	if (q->depth == 0) {
		q->aborted = 0;
		r = pg_exec(q, "BEGIN", "begin");
		if (r == STORE_OK) {
			q->depth = 1; /* so that a failure below is the transaction's */
			struct pgp p = {0};
			pgp_i64(&p, LOCK_WRITE);
			r = crun(q, C_WRITE_LOCK, &p, NULL, "wait for the writer before us");
			q->depth = 0;
			if (r != STORE_OK) {
				char first[sizeof(q->err)];
				memcpy(first, q->err, sizeof(first));
				pg_exec(q, "ROLLBACK", "rollback");
				memcpy(q->err, first, sizeof(first));
				q->aborted = 0;
				return r;
			}
		}
		q->ledger_dirty = 0;
		q->head_known = 0;
		q->tail_known = 0;
		q->doomed = 0;
	} else if (q->aborted) {
		return STORE_ERR;
	} else if (q->batch) {
		if (q->depth >= (int)(sizeof(q->at_begin) / sizeof(q->at_begin[0]))) {
			bsnprintf(q->err, sizeof(q->err), "bug: transactions nested too deep");
			return STORE_ERR;
		}
		q->at_begin[q->depth] = q->changes;
		r = STORE_OK;
	} else {
		r = savepoint(q, "SAVEPOINT", q->depth);
	}
	if (r == STORE_OK)
		q->depth++;
	return r;
}

static int write_ledger_head(struct pg_store *q);

static int pg_commit(struct store *s)
{
	struct pg_store *q = P(s);
	if (q->depth <= 0) {
		bsnprintf(q->err, sizeof(q->err), "bug: commit without begin");
		return STORE_ERR;
	}
	if (q->aborted) /* the caller rolls back */
		return STORE_ERR;
	if (q->depth > 1) {
		q->depth--;
		return q->batch ? STORE_OK : savepoint(q, "RELEASE SAVEPOINT", q->depth);
	}
	if (q->doomed) {
		bsnprintf(q->err, sizeof(q->err),
			  "a step of this batch failed after writing; the batch is not committed");
		return STORE_ERR;
	}
	if (q->ledger_dirty && write_ledger_head(q) != STORE_OK)
		return STORE_ERR;
	if (ensure_conn(q, "commit") < 0)
		return STORE_BUSY;
	PGresult *res = PQexec(q->conn, "COMMIT");
	int r = STORE_OK;
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		r = fail_result(q, res, "commit");
	else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		bsnprintf(q->err, sizeof(q->err), "commit: the transaction was rolled back");
		r = STORE_ERR;
	}
	PQclear(res);
	if (r == STORE_OK || PQtransactionStatus(q->conn) == PQTRANS_IDLE) {
		q->depth = 0;
		q->aborted = 0;
		q->ledger_dirty = 0;
		if (r == STORE_OK && q->scrub_due)
			pg_scrub(s);
		q->scrub_due = 0;
	}
	return r;
}

static void pg_rollback(struct store *s)
{
	struct pg_store *q = P(s);
	if (q->depth <= 0)
		return;
	char first[sizeof(q->err)];
	memcpy(first, q->err, sizeof(first));
	q->depth--;
	q->tail_known = 0;
	if (q->depth == 0) {
		if (q->conn != NULL && PQstatus(q->conn) == CONNECTION_OK)
			pg_exec(q, "ROLLBACK", "rollback");
		q->aborted = 0;
		q->ledger_dirty = 0;
		q->scrub_due = 0;
		q->doomed = 0;
	} else if (q->batch) {
		if (q->aborted || q->changes != q->at_begin[q->depth])
			q->doomed = 1;
	} else {
		int was = q->aborted;
		q->aborted = 0;
		if (savepoint(q, "ROLLBACK TO SAVEPOINT", q->depth) == STORE_OK)
			savepoint(q, "RELEASE SAVEPOINT", q->depth);
		else
			q->aborted = was || 1;
	}
	if (first[0] != '\0')
		memcpy(q->err, first, sizeof(first));
}

static int pg_write_check(struct store *s)
{
	struct pg_store *q = P(s);
	if (q->depth > 0) {
		bsnprintf(q->err, sizeof(q->err), "bug: write check inside a transaction");
		return STORE_ERR;
	}
	int r = pg_begin(s);
	if (r != STORE_OK)
		return r;
	struct pgp p = {0};
	char val[32];
	bsnprintf(val, sizeof(val), "%lld", (long long)q->changes);
	pgp_text(&p, "write_check");
	pgp_text(&p, val);
	r = crun(q, C_META_PUT, &p, NULL, "write check");
	if (r == STORE_OK)
		r = pg_commit(s);
	if (r != STORE_OK)
		pg_rollback(s);
	return r;
}

/* --- ledger ------------------------------------------------------------------ */

static int pg_ledger_head(struct store *s, int64_t *id, uint8_t hash[HASH_LEN]);

static int ledger_last(struct pg_store *q, int64_t *id, uint8_t hash[HASH_LEN])
{
	if (q->tail_known) {
		*id = q->tail_id;
		memcpy(hash, q->tail_hash, HASH_LEN);
		return STORE_OK;
	}
	int rc;
	PGresult *res = cq(q, C_LEDGER_LAST, NULL, &rc, "ledger head");
	if (res == NULL)
		return rc;
	*id = 0;
	memset(hash, 0, HASH_LEN);
	if (PQntuples(res) == 1) {
		*id = pg_i64(res, 0, 0);
		pg_blob(res, 0, 1, hash, HASH_LEN);
	}
	PQclear(res);
	return STORE_OK;
}

static int write_ledger_head(struct pg_store *q)
{
	int64_t id;
	uint8_t hash[HASH_LEN];
	char val[32 + 2 * HASH_LEN], hex[2 * HASH_LEN + 1];
	int r = ledger_last(q, &id, hash);
	if (r != STORE_OK)
		return r;
	hex_encode(hash, HASH_LEN, hex);
	bsnprintf(val, sizeof(val), "%lld:%s", (long long)id, hex);
	struct pgp p = {0};
	pgp_text(&p, "ledger_head");
	pgp_text(&p, val);
	return crun(q, C_META_PUT, &p, NULL, "ledger head");
}

static int pg_ledger_append(struct store *s, struct ledger_rec *r, const uint8_t key[KEYS_LEN])
{
	struct pg_store *q = P(s);
	int64_t last;
	int rc;
	if (pg_need_txn(q) != STORE_OK)
		return STORE_ERR;
	if ((rc = ledger_last(q, &last, r->prev_hash)) != STORE_OK)
		return rc;
	if (!q->head_known) {
		if ((rc = pg_ledger_head(s, &q->head_id, q->head_hash)) != STORE_OK)
			return rc;
		q->head_known = 1;
	}
	if (q->head_id > last) { /* rows removed from the end: keep the gap visible */
		last = q->head_id;
		memcpy(r->prev_hash, q->head_hash, HASH_LEN);
	}
	r->id = last + 1;
	ledger_rec_hash(r, key, r->hash);
	struct pgp p = {0};
	pgp_i64(&p, r->id);
	pgp_i64(&p, r->list_id);
	pgp_i64(&p, r->subscriber_id);
	pgp_text(&p, r->action);
	pgp_i64(&p, r->time);
	pgp_text(&p, r->source);
	pgp_text(&p, r->policy_version);
	if (r->details != NULL)
		pgp_blob(&p, r->details, r->details_len);
	else
		pgp_null(&p);
	pgp_blob(&p, r->prev_hash, HASH_LEN);
	pgp_blob(&p, r->hash, HASH_LEN);
	rc = crun(q, C_LEDGER_INSERT, &p, NULL, "append ledger");
	if (rc == STORE_OK) {
		q->ledger_dirty = 1;
		q->tail_known = 1;
		q->tail_id = r->id;
		memcpy(q->tail_hash, r->hash, HASH_LEN);
	}
	return rc;
}

/* In pages by id, so that a long ledger is never held in memory whole. */
static int pg_ledger_each(struct store *s, int64_t sub_id,
			  int (*cb)(void *, const struct ledger_rec *), void *ctx)
{
	struct pg_store *q = P(s);
	int64_t after = 0;
	for (;;) {
		struct pgp p = {0};
		int rc;
		pgp_i64(&p, after);
		pgp_i64(&p, LEDGER_PAGE);
		if (sub_id)
			pgp_i64(&p, sub_id);
		PGresult *res = cq(q, sub_id ? C_LEDGER_SUB : C_LEDGER_ALL, &p, &rc, "read ledger");
		if (res == NULL)
			return rc;
		int n = PQntuples(res), stop = 0;
		for (int i = 0; i < n && !stop; i++) {
			struct ledger_rec e = {0};
			size_t dlen = 0;
			uint8_t *d = NULL;
			e.id = pg_i64(res, i, 0);
			e.list_id = pg_i64(res, i, 1);
			e.subscriber_id = pg_i64(res, i, 2);
			e.action = pg_str(res, i, 3);
			e.time = pg_i64(res, i, 4);
			e.source = pg_str(res, i, 5);
			e.policy_version = pg_str(res, i, 6);
			if (!pg_null(res, i, 7)) {
				d = pg_blob_dup(res, i, 7, &dlen);
				e.details = d;
				e.details_len = dlen;
			}
			pg_blob(res, i, 8, e.prev_hash, HASH_LEN);
			pg_blob(res, i, 9, e.hash, HASH_LEN);
			after = e.id;
			stop = cb(ctx, &e);
			free(d);
		}
		PQclear(res);
		if (stop || n < LEDGER_PAGE)
			return STORE_OK;
	}
}

static int pg_ledger_head(struct store *s, int64_t *id, uint8_t hash[HASH_LEN])
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	*id = 0;
	memset(hash, 0, HASH_LEN);
	pgp_text(&p, "ledger_head");
	PGresult *res = cq(q, C_META_GET, &p, &rc, "ledger head");
	if (res == NULL)
		return rc;
	int r = STORE_OK;
	if (PQntuples(res) == 1) {
		const char *v = pg_str(res, 0, 0);
		const char *colon = strchr(v, ':');
		int64_t n = 0;
		if (colon == NULL || num_parse_i64(v, (size_t)(colon - v), 0, INT64_MAX, &n) < 0 ||
		    hex_decode(colon + 1, strlen(colon + 1), hash, HASH_LEN) < 0) {
			bsnprintf(q->err, sizeof(q->err), "ledger head in meta is malformed");
			r = STORE_ERR;
		}
		*id = n;
	}
	PQclear(res);
	return r;
}

/* --- suppressions and audit -------------------------------------------------- */

static int pg_suppression_add(struct store *s, const uint8_t hash[HASH_LEN], int64_t list_id,
			      const char *reason, int64_t time)
{
	struct pg_store *q = P(s);
	if (pg_need_txn(q) != STORE_OK)
		return STORE_ERR;
	struct pgp p = {0};
	pgp_blob(&p, hash, HASH_LEN);
	pgp_i64(&p, list_id);
	pgp_text(&p, reason);
	pgp_i64(&p, time);
	return crun(q, C_SUPP_ADD, &p, NULL, "add suppression");
}

static int pg_suppression_check(struct store *s, const uint8_t hash[HASH_LEN], int64_t list_id)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	pgp_blob(&p, hash, HASH_LEN);
	pgp_i64(&p, list_id);
	PGresult *res = cq(q, C_SUPP_CHECK, &p, &rc, "check suppression");
	if (res == NULL)
		return rc;
	rc = PQntuples(res) > 0 ? STORE_OK : STORE_NOTFOUND;
	PQclear(res);
	return rc;
}

static int pg_suppression_remove(struct store *s, const uint8_t hash[HASH_LEN], int64_t list_id)
{
	struct pg_store *q = P(s);
	if (pg_need_txn(q) != STORE_OK)
		return STORE_ERR;
	struct pgp p = {0};
	pgp_blob(&p, hash, HASH_LEN);
	pgp_i64(&p, list_id);
	return crun(q, C_SUPP_REMOVE, &p, NULL, "remove suppression");
}

static int pg_suppression_count(struct store *s, int64_t list_id, int64_t *n)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	pgp_i64(&p, list_id);
	PGresult *res = cq(q, C_SUPP_COUNT, &p, &rc, "count suppressions");
	if (res == NULL)
		return rc;
	*n = pg_i64(res, 0, 0);
	PQclear(res);
	return STORE_OK;
}

static int pg_audit(struct store *s, int64_t time, const char *actor, const char *action,
		    int64_t list_id, int64_t sub_id, const char *detail)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	/* written even outside a transaction: a view must be logged */
	pgp_i64(&p, time);
	pgp_text(&p, actor);
	pgp_text(&p, action);
	pgp_i64(&p, list_id);
	pgp_i64(&p, sub_id);
	pgp_text(&p, detail);
	return crun(q, C_AUDIT, &p, NULL, "audit");
}

/* Audit rows newest first with id < before (0: from the newest). */
static int pg_audit_each(struct store *s, int64_t before, int limit,
			 int (*cb)(void *, const struct audit_rec *), void *ctx)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	pgp_i64(&p, before);
	pgp_i64(&p, limit);
	PGresult *res = cq(q, C_AUDIT_EACH, &p, &rc, "read the audit log");
	if (res == NULL)
		return rc;
	for (int i = 0; i < PQntuples(res); i++) {
		struct audit_rec a = {.id = pg_i64(res, i, 0),
				      .time = pg_i64(res, i, 1),
				      .actor = pg_str(res, i, 2),
				      .action = pg_str(res, i, 3),
				      .list_id = pg_i64(res, i, 4),
				      .subscriber_id = pg_i64(res, i, 5),
				      .detail = pg_str(res, i, 6)};
		if (cb(ctx, &a))
			break;
	}
	PQclear(res);
	return STORE_OK;
}

static int pg_audit_prune(struct store *s, int64_t time, int64_t *n)
{
	struct pgp p = {0};
	pgp_i64(&p, time);
	return crun(P(s), C_AUDIT_PRUNE, &p, n, "prune the audit log");
}

static const struct store_ops PG_OPS = {
    .name = "postgresql",
    .close = pg_close,
    .errmsg = pg_errmsg,
    .set_error = pg_set_error,
    .schema_version = pg_schema_version,
    .scrub = pg_scrub,
    .checkpoint = pg_checkpoint,
    .set_durable = pg_set_durable,
    .sync = pg_sync,
    .write_check = pg_write_check,
    .set_batch = pg_set_batch,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .list_insert = pgr_list_insert,
    .list_update = pgr_list_update,
    .list_delete = pgr_list_delete,
    .list_get = pgr_list_get,
    .list_each = pgr_list_each,
    .subscriber_insert = pgr_subscriber_insert,
    .subscriber_update = pgr_subscriber_update,
    .subscriber_delete = pgr_subscriber_delete,
    .subscriber_get = pgr_subscriber_get,
    .subscription_put = pgr_subscription_put,
    .subscription_get = pgr_subscription_get,
    .subscription_delete = pgr_subscription_delete,
    .subscription_count = pgr_subscription_count,
    .subscriptions_of = pgr_subscriptions_of,
    .list_counts = pgr_list_counts,
    .members_page = pgr_members_page,
    .ledger_append = pg_ledger_append,
    .ledger_each = pg_ledger_each,
    .ledger_head = pg_ledger_head,
    .suppression_add = pg_suppression_add,
    .suppression_check = pg_suppression_check,
    .suppression_remove = pg_suppression_remove,
    .suppression_count = pg_suppression_count,
    .job_insert = pgr_job_insert,
    .job_update = pgr_job_update,
    .job_get = pgr_job_get,
    .job_each = pgr_job_each,
    .job_next = pgr_job_next,
    .retry_put = pgr_retry_put,
    .retry_delete = pgr_retry_delete,
    .retry_due = pgr_retry_due,
    .retry_count = pgr_retry_count,
    .job_failure_add = pgr_job_failure_add,
    .job_failures_each = pgr_job_failures_each,
    .confirm_limit_hit = pgm_confirm_limit_hit,
    .confirm_limit_prune = pgm_confirm_limit_prune,
    .reply_limit_hit = pgm_reply_limit_hit,
    .reply_limit_prune = pgm_reply_limit_prune,
    .spool_insert = pgm_spool_insert,
    .spool_get = pgm_spool_get,
    .spool_each = pgm_spool_each,
    .spool_set = pgm_spool_set,
    .spool_delete = pgm_spool_delete,
    .spool_claim = pgm_spool_claim,
    .spool_unclaim = pgm_spool_unclaim,
    .spool_marks = pgm_spool_marks,
    .spool_unclaim_tag = pgm_spool_unclaim_tag,
    .held_insert = pgm_held_insert,
    .held_get = pgm_held_get,
    .held_each = pgm_held_each,
    .held_delete = pgm_held_delete,
    .held_expire = pgm_held_expire,
    .held_delete_sender = pgm_held_delete_sender,
    .ledger_counts = pgm_ledger_counts,
    .stats_add = pgm_stats_add,
    .stats_get = pgm_stats_get,
    .stats_each = pgm_stats_each,
    .stats_total = pgm_stats_total,
    .audit = pg_audit,
    .audit_each = pg_audit_each,
    .audit_prune = pg_audit_prune,
    /* the rest of the archive (archive_insert, _get, _each, _search...) and
     * the staff operations: NULL, "not supported by the postgresql store yet" */
    .archive_by_author = pgm_archive_by_author,
    .archive_containing = pgm_archive_containing,
};

/* --- opening ----------------------------------------------------------------- */

/* Applies the pending migrations, each in its own transaction, under a
 * session advisory lock: a second node starting at once waits, then finds
 * nothing left to do. */
static int migrate(struct pg_store *q, int allowed, struct buf *err)
{
	int64_t v;
	int newest = migrations_pg_count();
	if (schema_version(q, &v) != STORE_OK) {
		buf_puts(err, q->err);
		return -1;
	}
	int g = store_version_gate(v, newest, allowed, err);
	if (g <= 0)
		return g;
	char sql[64];
	bsnprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%lld)", LOCK_MIGRATE);
	if (pg_exec(q, sql, "wait for another node's migration") != STORE_OK) {
		buf_puts(err, q->err);
		return -1;
	}
	int r = 0;
	if (schema_version(q, &v) != STORE_OK) { /* another node may have done it */
		buf_puts(err, q->err);
		r = -1;
	}
	for (int n = (int)v + 1; r == 0 && n <= newest; n++) {
		char put[128];
		bsnprintf(
		    put, sizeof(put),
		    "INSERT INTO meta(key, value) VALUES ('schema_version', '%d') ON CONFLICT "
		    "(key) DO UPDATE SET value = excluded.value",
		    n);
		if (pg_exec(q, "BEGIN", "migrate") != STORE_OK ||
		    pg_exec(q, migrations_pg_get(n), "migrate") != STORE_OK ||
		    pg_exec(q, put, "migrate") != STORE_OK ||
		    pg_exec(q, "COMMIT", "migrate") != STORE_OK) {
			buf_printf(err, "migration %d failed: %s", n, q->err);
			pg_exec(q, "ROLLBACK", "migrate");
			r = -1;
		}
	}
	bsnprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%lld)", LOCK_MIGRATE);
	pg_exec(q, sql, "migrate");
	return r;
}

/* A DSN that names a password is refused: the password lives in PGPASSFILE
 * or ~/.pgpass (mode 0600), never in the configuration. */
static int check_dsn(const char *dsn, struct buf *err)
{
	char *perr = NULL;
	if (dsn[0] == '\0') {
		buf_puts(err, "[store] backend = postgresql needs [store] dsn (a libpq connection "
			      "string such as \"host=/run/postgresql dbname=listkeeper\")");
		return -1;
	}
	PQconninfoOption *opts = PQconninfoParse(dsn, &perr);
	if (opts == NULL) {
		char m[300];
		one_line(m, sizeof(m), perr != NULL ? perr : "out of memory");
		buf_printf(err, "[store] dsn is not a libpq connection string: %s", m);
		PQfreemem(perr);
		return -1;
	}
	int bad = 0;
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL && o->val[0] != '\0')
			bad = 1;
	PQconninfoFree(opts);
	if (bad) {
		buf_puts(err, "[store] dsn holds a password: remove it and put it in a password "
			      "file (PGPASSFILE or ~/.pgpass, mode 0600)");
		return -1;
	}
	return 0;
}

/* The session's settings (again after a reconnect). */
static int conn_setup(struct pg_store *q)
{
	char sql[200];
	bsnprintf(sql, sizeof(sql),
		  "SET lock_timeout = %lld; SET statement_timeout = %lld; "
		  "SET synchronous_commit = %s; SET client_min_messages = warning",
		  (long long)q->lock_timeout_ms, (long long)q->statement_timeout_ms,
		  q->durable ? "on" : "off");
	return pg_exec(q, sql, "set up the connection");
}

static struct pg_store *pg_connect(const struct conf *c, struct buf *err)
{
	const char *dsn = conf_get(c, "store", "dsn");
	if (check_dsn(dsn, err) < 0)
		return NULL;
	struct pg_store *q = xcalloc(1, sizeof(*q));
	q->base.ops = &PG_OPS;
	q->dsn = xstrdup(dsn);
	q->lock_timeout_ms = conf_get_int(c, "store", "busy_timeout_ms");
	q->statement_timeout_ms = conf_get_int(c, "store", "statement_timeout_ms");
	/* connect_timeout unless the DSN gives one; the DSN wins over ours */
	const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *vals[] = {"10", "listkeeper", dsn, NULL};
	q->conn = PQconnectdbParams(keys, vals, 1);
	if (q->conn == NULL || PQstatus(q->conn) != CONNECTION_OK) {
		set_conn_error(q, "[store] dsn");
		buf_puts(err, q->err);
		PQfinish(q->conn);
		free(q->dsn);
		free(q);
		return NULL;
	}
	if (conn_setup(q) != STORE_OK) {
		buf_puts(err, q->err);
		pg_close(&q->base);
		return NULL;
	}
	return q;
}

struct store *store_pg_open(const struct conf *c, int migrate_ok, struct buf *err)
{
	struct pg_store *q = pg_connect(c, err);
	if (q == NULL)
		return NULL;
	if (migrate(q, migrate_ok, err) < 0) {
		if (err->len == 0)
			buf_puts(err, q->err);
		pg_close(&q->base);
		return NULL;
	}
	return &q->base;
}

/* The spool's rows are a table of the same database: every commit there is
 * synced anyway. A connection of its own, as with SQLite. */
struct store *store_pg_spool_open(const struct conf *c, struct buf *err)
{
	struct pg_store *q = pg_connect(c, err);
	if (q == NULL)
		return NULL;
	if (migrate(q, 0, err) < 0) {
		buf_printf(err, " (the intake spool)");
		pg_close(&q->base);
		return NULL;
	}
	return &q->base;
}
