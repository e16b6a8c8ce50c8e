/*
 * store_pg_copy.c - `listkeeper store migrate --to postgresql`: a SQLite
 * store copied into an empty PostgreSQL store, table by table with COPY,
 * ids kept, sealed blobs as they are (nothing is decrypted), in one
 * transaction; then every table's rows counted on both sides.
 *
 * Each table's identity sequence is set past the highest id SQLite ever
 * gave (its sqlite_sequence, which outlives deleted rows), so that an id is
 * never reused after the move either.
 *
 * TRUST: the SQLite file is ours (it may be damaged: errors are reported);
 * values go into COPY's text format escaped, never into SQL text.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "store/store_pg_int.h"
#include "store/store_sqlite_int.h"

struct table {
	const char *name;   /* in PostgreSQL (and SQLite, unless src says) */
	const char *cols;   /* PostgreSQL's columns, in COPY's order */
	const char *select; /* SQLite's query of the same values */
	int identity;	    /* an id column with a sequence to move on */
};

static const struct table TABLES[] = {
    {"lists",
     "id, name, domain, title, description, kind, sub_policy, post_policy, moderation, archive, "
     "digest, footer, postal_address, tracking, created, owners, bounce_action",
     "SELECT id, name, domain, title, description, kind, sub_policy, post_policy, moderation, "
     "archive, digest, footer, postal_address, tracking, created, owners, bounce_action FROM "
     "lists ORDER BY id",
     1},
    {"subscribers", "id, addr_hash, wrapped_key, data, html, tracking, created",
     "SELECT id, addr_hash, wrapped_key, data, html, tracking, created FROM subscribers ORDER BY "
     "id",
     1},
    {"subscriptions",
     "list_id, subscriber_id, state, digest, nomail, bounce_score, created, updated, bounce_at, "
     "soft_score",
     "SELECT list_id, subscriber_id, state, digest, nomail, bounce_score, created, updated, "
     "bounce_at, soft_score FROM subscriptions",
     0},
    {"consent_events",
     "id, list_id, subscriber_id, action, time, source, policy_version, details, prev_hash, hash",
     "SELECT id, list_id, subscriber_id, action, time, source, policy_version, details, "
     "prev_hash, hash FROM consent_events ORDER BY id",
     0},
    {"suppressions", "addr_hash, list_id, reason, time",
     "SELECT addr_hash, list_id, reason, time FROM suppressions", 0},
    {"audit_log", "id, time, actor, action, list_id, subscriber_id, detail",
     "SELECT id, time, actor, action, list_id, subscriber_id, detail FROM audit_log ORDER BY id",
     1},
    {"jobs",
     "id, list_id, kind, state, priority, subject, body_text, body_html, recipient_id, "
     "not_before, cursor, sent, failed, total, pause_reason, resume_at, created, updated, "
     "finished, lease_owner, lease_until, rcpt_sealed",
     "SELECT id, list_id, kind, state, priority, subject, body_text, body_html, recipient_id, "
     "not_before, cursor, sent, failed, total, pause_reason, resume_at, created, updated, "
     "finished, lease_owner, lease_until, rcpt_sealed FROM jobs ORDER BY id",
     1},
    {"job_retries", "job_id, subscriber_id, attempts, first_at, next_at, last_error",
     "SELECT job_id, subscriber_id, attempts, first_at, next_at, last_error FROM job_retries", 0},
    {"job_failures", "job_id, reason, n", "SELECT job_id, reason, n FROM job_failures", 0},
    {"confirm_limits", "addr_hash, window_start, count",
     "SELECT addr_hash, window_start, count FROM confirm_limits", 0},
    {"reply_limits", "addr_hash, window_start, count",
     "SELECT addr_hash, window_start, count FROM reply_limits", 0},
    /* SQLite keeps the day as a UTC date, PostgreSQL as days since the epoch */
    {"stats_daily", "day, list_id, counter, key, value, sketch",
     "SELECT CAST(strftime('%s', day) AS INTEGER) / 86400, list_id, counter, key, value, sketch "
     "FROM stats_daily",
     0},
    {"held", "id, list_id, created, expires, reason, detail, sender_hash, wrapped_key, data, size",
     "SELECT id, list_id, created, expires, reason, detail, sender_hash, wrapped_key, data, size "
     "FROM held ORDER BY id",
     1},
    {"intake_handled", "spool_id, tag", "SELECT spool_id, tag FROM intake_handled", 0},
    /* from the spool's own file, attached as sp */
    {"intake_spool", "id, received, wrapped_key, data, size, attempts, quarantined, updated",
     "SELECT id, received, wrapped_key, data, size, attempts, quarantined, updated FROM "
     "sp.intake_spool ORDER BY id",
     1},
    /* the target's schema_version is its own */
    {"meta", "key, value",
     "SELECT key, value FROM meta WHERE key NOT IN ('schema_version', 'write_check')", 0},
};
#define NTABLES (sizeof(TABLES) / sizeof(TABLES[0]))

/* SQLite tables that are not copied and may hold rows: none may. Tables
 * the list names are copied; sqlite_sequence is read for the sequences. */
static int copied(const char *name)
{
	if (strncmp(name, "sqlite_", 7) == 0) /* SQLite's own: the schema, sequences */
		return 1;
	for (size_t i = 0; i < NTABLES; i++)
		if (strcmp(TABLES[i].name, name) == 0 && strcmp(name, "intake_spool") != 0)
			return 1;
	return 0;
}

struct copy {
	sqlite3 *db;
	PGconn *pg;
	struct buf *err;
	struct buf line;
	void (*progress)(void *, const char *, int64_t, int64_t);
	void *ctx;
	int no_spool; /* no spool file: its table is empty */
};

static int sq_err(struct copy *c, const char *what)
{
	buf_printf(c->err, "%s: %s", what, sqlite3_errmsg(c->db));
	return STORE_ERR;
}

static int pg_err(struct copy *c, const char *what, PGresult *r)
{
	const char *m = r != NULL ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	buf_printf(c->err, "%s: %s", what, m != NULL ? m : PQerrorMessage(c->pg));
	return PQstatus(c->pg) == CONNECTION_OK ? STORE_ERR : STORE_BUSY;
}

static int sq_count(struct copy *c, const char *sql, int64_t *n)
{
	sqlite3_stmt *st;
	*n = 0;
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sq_err(c, sql);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? STORE_OK : sq_err(c, sql);
}

static int pg_count(struct copy *c, const char *table, int64_t *n)
{
	char sql[128];
	bsnprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	PGresult *r = PQexec(c->pg, sql);
	int rc = STORE_OK;
	*n = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = pg_err(c, sql, r);
	else
		*n = pg_i64(r, 0, 0);
	PQclear(r);
	return rc;
}

/* One value in COPY's text format. */
static void put_value(struct buf *b, sqlite3_stmt *st, int i)
{
	static const char HEX[] = "0123456789abcdef";
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		buf_puts(b, "\\N");
		break;
	case SQLITE_INTEGER:
		buf_printf(b, "%lld", (long long)sqlite3_column_int64(st, i));
		break;
	case SQLITE_BLOB: {
		const uint8_t *p = sqlite3_column_blob(st, i);
		int n = sqlite3_column_bytes(st, i);
		buf_puts(b, "\\\\x");
		for (int k = 0; k < n; k++) {
			char h[2] = {HEX[p[k] >> 4], HEX[p[k] & 15]};
			buf_append(b, h, 2);
		}
		break;
	}
	default: {
		const unsigned char *t = sqlite3_column_text(st, i);
		int n = sqlite3_column_bytes(st, i);
		for (int k = 0; t != NULL && k < n; k++) {
			switch (t[k]) {
			case '\\':
				buf_puts(b, "\\\\");
				break;
			case '\t':
				buf_puts(b, "\\t");
				break;
			case '\n':
				buf_puts(b, "\\n");
				break;
			case '\r':
				buf_puts(b, "\\r");
				break;
			default:
				buf_append(b, &t[k], 1);
			}
		}
	}
	}
}

static int copy_table(struct copy *c, const struct table *t, int64_t total)
{
	char sql[512];
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(c->db, t->select, -1, &st, NULL) != SQLITE_OK)
		return sq_err(c, t->name);
	bsnprintf(sql, sizeof(sql), "COPY %s(%s) FROM STDIN", t->name, t->cols);
	PGresult *r = PQexec(c->pg, sql);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		int rc = pg_err(c, t->name, r);
		PQclear(r);
		sqlite3_finalize(st);
		return rc;
	}
	PQclear(r);
	int rc = STORE_OK, step;
	int64_t done = 0;
	buf_reset(&c->line);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int n = sqlite3_column_count(st);
		for (int i = 0; i < n; i++) {
			if (i)
				buf_append(&c->line, "\t", 1);
			put_value(&c->line, st, i);
		}
		buf_append(&c->line, "\n", 1);
		if (c->line.err) {
			buf_printf(c->err, "%s: a row too large to copy", t->name);
			rc = STORE_ERR;
			break;
		}
		done++;
		if (c->line.len >= 1 << 16) {
			if (PQputCopyData(c->pg, c->line.data, (int)c->line.len) != 1) {
				rc = pg_err(c, t->name, NULL);
				break;
			}
			buf_reset(&c->line);
		}
		if (c->progress != NULL && done % 50000 == 0)
			c->progress(c->ctx, t->name, done, total);
	}
	if (rc == STORE_OK && step != SQLITE_DONE)
		rc = sq_err(c, t->name);
	sqlite3_finalize(st);
	if (rc == STORE_OK && c->line.len > 0 &&
	    PQputCopyData(c->pg, c->line.data, (int)c->line.len) != 1)
		rc = pg_err(c, t->name, NULL);
	if (PQputCopyEnd(c->pg, rc == STORE_OK ? NULL : "the copy failed") != 1 && rc == STORE_OK)
		rc = pg_err(c, t->name, NULL);
	while ((r = PQgetResult(c->pg)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == STORE_OK)
			rc = pg_err(c, t->name, r);
		PQclear(r);
	}
	if (rc == STORE_OK && c->progress != NULL)
		c->progress(c->ctx, t->name, done, total);
	return rc;
}

/* The sequence of t's id goes past both its highest id and the highest
 * SQLite ever gave. */
static int move_sequence(struct copy *c, const struct table *t)
{
	char sql[256];
	int64_t seq = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(c->db, "SELECT seq FROM sqlite_sequence WHERE name = ?", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, strcmp(t->name, "intake_spool") == 0 ? "" : t->name, -1,
				  SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			seq = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	bsnprintf(sql, sizeof(sql),
		  "SELECT setval(pg_get_serial_sequence('%s', 'id'), greatest((SELECT "
		  "coalesce(max(id), 0) FROM %s), %lld) + 1, false)",
		  t->name, t->name, (long long)seq);
	PGresult *r = PQexec(c->pg, sql);
	int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? STORE_OK : pg_err(c, "sequence", r);
	PQclear(r);
	return rc;
}

/* A SQLite table this copy does not know, with rows: refused, so that
 * nothing is lost without a word. */
static int unknown_tables(struct copy *c)
{
	sqlite3_stmt *st;
	int rc = STORE_OK;
	/* tables and virtual tables (an FTS5 index counts its rows); not the
	 * shadow tables a virtual table keeps its data in */
	if (sqlite3_prepare_v2(c->db,
			       "SELECT name FROM pragma_table_list WHERE schema = 'main' AND "
			       "type IN ('table', 'virtual')",
			       -1, &st, NULL) != SQLITE_OK)
		return sq_err(c, "tables");
	while (rc == STORE_OK && sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		char sql[160];
		int64_t n = 0;
		if (name == NULL || copied(name))
			continue;
		bsnprintf(sql, sizeof(sql), "SELECT count(*) FROM main.\"%s\"", name);
		if (strchr(name, '"') != NULL || sq_count(c, sql, &n) != STORE_OK)
			rc = STORE_ERR;
		else if (n > 0) {
			buf_printf(c->err,
				   "table %s holds %lld rows, which the postgresql store cannot "
				   "hold yet: nothing copied",
				   name, (long long)n);
			rc = STORE_ERR;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

static int target_empty(struct copy *c)
{
	static const char *const T[] = {"lists", "subscribers", "consent_events", "jobs"};
	for (size_t i = 0; i < sizeof(T) / sizeof(T[0]); i++) {
		int64_t n;
		if (pg_count(c, T[i], &n) != STORE_OK)
			return STORE_ERR;
		if (n > 0) {
			buf_printf(c->err, "the target database is not empty (%s has %lld rows)",
				   T[i], (long long)n);
			return STORE_ERR;
		}
	}
	return STORE_OK;
}

static int run_copy(struct copy *c, int64_t counts[NTABLES])
{
	int rc = unknown_tables(c);
	for (size_t i = 0; rc == STORE_OK && i < NTABLES; i++) {
		char sql[600];
		const char *from = strstr(TABLES[i].select, " FROM ");
		bsnprintf(sql, sizeof(sql), "SELECT count(*)%s", from);
		counts[i] = 0;
		if (!(c->no_spool && strstr(from, "sp.") != NULL))
			rc = sq_count(c, sql, &counts[i]);
	}
	if (rc == STORE_OK)
		rc = target_empty(c);
	if (rc != STORE_OK)
		return rc;
	PGresult *r = PQexec(c->pg, "BEGIN");
	rc = PQresultStatus(r) == PGRES_COMMAND_OK ? STORE_OK : pg_err(c, "begin", r);
	PQclear(r);
	for (size_t i = 0; rc == STORE_OK && i < NTABLES; i++) {
		if (!(c->no_spool && strstr(TABLES[i].select, " sp.") != NULL))
			rc = copy_table(c, &TABLES[i], counts[i]);
		if (rc == STORE_OK && TABLES[i].identity)
			rc = move_sequence(c, &TABLES[i]);
	}
	r = PQexec(c->pg, rc == STORE_OK ? "COMMIT" : "ROLLBACK");
	if (rc == STORE_OK &&
	    (PQresultStatus(r) != PGRES_COMMAND_OK || strcmp(PQcmdStatus(r), "COMMIT") != 0))
		rc = pg_err(c, "commit", r);
	PQclear(r);
	/* every table's rows, counted on both sides */
	for (size_t i = 0; rc == STORE_OK && i < NTABLES; i++) {
		int64_t n;
		rc = pg_count(c, TABLES[i].name, &n);
		if (rc == STORE_OK && strcmp(TABLES[i].name, "meta") == 0)
			n--; /* the target's own schema_version */
		if (rc == STORE_OK && n != counts[i]) {
			buf_printf(c->err, "%s: %lld rows in SQLite, %lld in PostgreSQL",
				   TABLES[i].name, (long long)counts[i], (long long)n);
			rc = STORE_ERR;
		}
	}
	return rc;
}

int store_copy_to_pg(const struct conf *from, const struct conf *to,
		     void (*progress)(void *ctx, const char *table, int64_t done, int64_t total),
		     void *ctx, struct buf *err)
{
	/* the source at this binary's schema version, the target migrated */
	struct store *src = store_sqlite_open(from, 0, err);
	if (src == NULL)
		return STORE_ERR;
	store_close(src);
	struct store *dst = store_pg_open(to, 1, err);
	if (dst == NULL)
		return STORE_ERR;
	struct copy c = {.pg = P(dst)->conn, .err = err, .progress = progress, .ctx = ctx};
	buf_init(&c.line, (size_t)256 << 20); /* a row of at most that much */
	char *path = conf_get_path(from, "store", "path");
	char *spool = sqlite_spool_path(path);
	int rc = STORE_OK;
	if (sqlite3_open_v2(path, &c.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		rc = sq_err(&c, path);
	} else {
		/* the spool's own file, if there is one */
		sqlite3_stmt *st;
		c.no_spool = access(spool, F_OK) != 0;
		if (!c.no_spool) {
			if (sqlite3_prepare_v2(c.db, "ATTACH DATABASE ? AS sp", -1, &st, NULL) !=
			    SQLITE_OK) {
				rc = sq_err(&c, "attach the spool");
			} else {
				sqlite3_bind_text(st, 1, spool, -1, SQLITE_STATIC);
				if (sqlite3_step(st) != SQLITE_DONE)
					rc = sq_err(&c, "attach the spool");
				sqlite3_finalize(st);
			}
		}
	}
	int64_t counts[NTABLES] = {0};
	if (rc == STORE_OK)
		rc = run_copy(&c, counts);
	sqlite3_close(c.db);
	buf_free(&c.line);
	free(path);
	free(spool);
	store_close(dst);
	return rc;
}
