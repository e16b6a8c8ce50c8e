/*
 * store_sqlite_staff.c - staff accounts in the SQLite store (migration 14):
 * accounts (staff), their roles (staff_roles), sign-in sessions
 * (staff_sessions), API tokens (api_tokens), and the reading and pruning of
 * the audit log (audit_log; store_sqlite.c writes it).
 *
 * TRUST: the rows are ours; secrets are only ever keyed hashes here.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_sqlite_int.h"

enum {
	F_INSERT,
	F_PASSWORD,
	F_DELETE,
	F_BY_NAME,
	F_BY_ID,
	F_ALL,
	F_GRANT_PUT,
	F_GRANT_DELETE,
	F_GRANTS_OF,
	F_SESS_PUT,
	F_SESS_GET,
	F_SESS_SEEN,
	F_SESS_DELETE,
	F_SESS_DELETE_STAFF,
	F_SESS_PRUNE,
	F_TOKEN_PUT,
	F_TOKEN_GET,
	F_AUDIT_EACH,
	F_AUDIT_PRUNE,
};
_Static_assert(F_AUDIT_PRUNE + 1 == SQLITE_STAFF_STMTS, "one slot per statement");

static const char *const FSQL[SQLITE_STAFF_STMTS] = {
    [F_INSERT] = "INSERT INTO staff(name, pw_hash, created) VALUES (?,?,?)",
    [F_PASSWORD] = "UPDATE staff SET pw_hash=? WHERE id=?",
    [F_DELETE] = "DELETE FROM staff WHERE id=?",
    [F_BY_NAME] = "SELECT id, name, pw_hash, created FROM staff WHERE name=?",
    [F_BY_ID] = "SELECT id, name, pw_hash, created FROM staff WHERE id=?",
    [F_ALL] = "SELECT id, name, pw_hash, created FROM staff ORDER BY name",
    [F_GRANT_PUT] = "INSERT INTO staff_roles(staff_id, role, list_id) VALUES (?,?,?)",
    [F_GRANT_DELETE] = "DELETE FROM staff_roles WHERE staff_id=? AND role=? AND list_id=?",
    [F_GRANTS_OF] = "SELECT staff_id, role, list_id FROM staff_roles WHERE staff_id=? "
		    "ORDER BY role, list_id",
    [F_SESS_PUT] = "INSERT INTO staff_sessions(hash, staff_id, created, seen) VALUES (?,?,?,?)",
    [F_SESS_GET] = "SELECT staff_id, created, seen FROM staff_sessions WHERE hash=?",
    [F_SESS_SEEN] = "UPDATE staff_sessions SET seen=? WHERE hash=?",
    [F_SESS_DELETE] = "DELETE FROM staff_sessions WHERE hash=?",
    [F_SESS_DELETE_STAFF] = "DELETE FROM staff_sessions WHERE staff_id=?",
    [F_SESS_PRUNE] = "DELETE FROM staff_sessions WHERE seen < ? OR created < ?",
    [F_TOKEN_PUT] = "INSERT INTO api_tokens(hash, staff_id, scope, created) VALUES (?,?,?,?)",
    [F_TOKEN_GET] = "SELECT id, staff_id, scope, created FROM api_tokens WHERE hash=?",
    [F_AUDIT_EACH] = "SELECT id, time, actor, action, list_id, subscriber_id, detail "
		     "FROM audit_log WHERE ?1 = 0 OR id < ?1 ORDER BY id DESC LIMIT ?2",
    [F_AUDIT_PRUNE] = "DELETE FROM audit_log WHERE time < ?",
};

static sqlite3_stmt *fprep(struct sqlite_store *q, int id)
{
	return sqlite_cached(q, &q->fstmt[id], FSQL[id]);
}

/* A write statement prepared inside a transaction, or NULL. */
static sqlite3_stmt *fwrite_prep(struct sqlite_store *q, int id)
{
	return sqlite_need_txn(q) ? NULL : fprep(q, id);
}

static void read_staff(sqlite3_stmt *st, struct staff_rec *r)
{
	r->id = sqlite3_column_int64(st, 0);
	r->name = sqlite_col_dup(st, 1);
	r->pw_hash = sqlite_col_dup(st, 2);
	r->created = sqlite3_column_int64(st, 3);
}

/* Runs an insert; STORE_EXISTS for a taken unique key. */
static int run_insert(struct sqlite_store *q, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return STORE_EXISTS;
	return sqlite_fail(q, what);
}

/* Runs a delete or update; STORE_NOTFOUND when it touched no row. */
static int run_change(struct sqlite_store *q, sqlite3_stmt *st, const char *what)
{
	int r = sqlite_run(q, st, what);
	if (r == STORE_OK && sqlite3_changes(q->db) == 0)
		r = STORE_NOTFOUND;
	return r;
}

int sq_staff_insert(struct store *s, struct staff_rec *r)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = fwrite_prep(q, F_INSERT);
	if (st == NULL)
		return STORE_ERR;
	sqlite_bind_text(st, 1, r->name);
	sqlite_bind_text(st, 2, r->pw_hash);
	sqlite3_bind_int64(st, 3, r->created);
	int rc = run_insert(q, st, "add an account");
	if (rc == STORE_OK)
		r->id = sqlite3_last_insert_rowid(q->db);
	return rc;
}

int sq_staff_set_password(struct store *s, int64_t id, const char *pw_hash)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = fwrite_prep(q, F_PASSWORD);
	if (st == NULL)
		return STORE_ERR;
	sqlite_bind_text(st, 1, pw_hash);
	sqlite3_bind_int64(st, 2, id);
	return run_change(q, st, "set a password");
}

int sq_staff_delete(struct store *s, int64_t id)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = fwrite_prep(q, F_DELETE);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, id);
	return run_change(q, st, "delete an account");
}

int sq_staff_get(struct store *s, const char *name, int64_t id, struct staff_rec *out)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = fprep(q, name != NULL ? F_BY_NAME : F_BY_ID);
	if (st == NULL)
		return STORE_ERR;
	if (name != NULL)
		sqlite_bind_text(st, 1, name);
	else
		sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st), r = STORE_OK;
	if (rc == SQLITE_ROW)
		read_staff(st, out);
	else if (rc == SQLITE_DONE)
		r = STORE_NOTFOUND;
	else
		r = sqlite_fail(q, "read an account");
	sqlite3_reset(st);
	return r;
}

int sq_staff_each(struct store *s, int (*cb)(void *, const struct staff_rec *), void *ctx)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = fprep(q, F_ALL);
	if (st == NULL)
		return STORE_ERR;
	int rc, r = STORE_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct staff_rec a;
		memset(&a, 0, sizeof(a));
		read_staff(st, &a);
		int stop = cb(ctx, &a);
		staff_rec_free(&a);
		if (stop)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sqlite_fail(q, "list the accounts");
	sqlite3_reset(st);
	return r;
}

static void bind_grant(sqlite3_stmt *st, const struct staff_grant *g)
{
	sqlite3_bind_int64(st, 1, g->staff_id);
	sqlite_bind_text(st, 2, staff_role_name(g->role));
	sqlite3_bind_int64(st, 3, g->list_id);
}

int sq_grant_put(struct store *s, const struct staff_grant *g)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = fwrite_prep(q, F_GRANT_PUT);
	if (st == NULL)
		return STORE_ERR;
	bind_grant(st, g);
	return run_insert(q, st, "grant a role");
}

int sq_grant_delete(struct store *s, const struct staff_grant *g)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = fwrite_prep(q, F_GRANT_DELETE);
	if (st == NULL)
		return STORE_ERR;
	bind_grant(st, g);
	return run_change(q, st, "take a role back");
}

int sq_grants_of(struct store *s, int64_t staff_id, int (*cb)(void *, const struct staff_grant *),
		 void *ctx)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = fprep(q, F_GRANTS_OF);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, staff_id);
	int rc, r = STORE_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct staff_grant g = {.staff_id = sqlite3_column_int64(st, 0),
					.list_id = sqlite3_column_int64(st, 2)};
		int bad = 0;
		g.role = (enum staff_role)sqlite_col_enum(st, 1, &staff_role_names, &bad);
		if (bad) /* a role of a newer binary grants nothing here */
			continue;
		if (cb(ctx, &g))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sqlite_fail(q, "read an account's roles");
	sqlite3_reset(st);
	return r;
}

int sq_session_put(struct store *s, const struct session_rec *r)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = fwrite_prep(q, F_SESS_PUT);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(st, 1, r->hash, HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->staff_id);
	sqlite3_bind_int64(st, 3, r->created);
	sqlite3_bind_int64(st, 4, r->seen);
	return run_insert(q, st, "open a session");
}

int sq_session_get(struct store *s, const uint8_t hash[HASH_LEN], struct session_rec *out)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = fprep(q, F_SESS_GET);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(st, 1, hash, HASH_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(st), r = STORE_OK;
	if (rc == SQLITE_ROW) {
		memcpy(out->hash, hash, HASH_LEN);
		out->staff_id = sqlite3_column_int64(st, 0);
		out->created = sqlite3_column_int64(st, 1);
		out->seen = sqlite3_column_int64(st, 2);
	} else if (rc == SQLITE_DONE) {
		r = STORE_NOTFOUND;
	} else {
		r = sqlite_fail(q, "read a session");
	}
	sqlite3_reset(st);
	return r;
}

int sq_session_seen(struct store *s, const uint8_t hash[HASH_LEN], int64_t seen)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = fwrite_prep(q, F_SESS_SEEN);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, seen);
	sqlite3_bind_blob(st, 2, hash, HASH_LEN, SQLITE_STATIC);
	return run_change(q, st, "touch a session");
}

int sq_session_delete(struct store *s, const uint8_t hash[HASH_LEN])
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = fwrite_prep(q, F_SESS_DELETE);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(st, 1, hash, HASH_LEN, SQLITE_STATIC);
	return run_change(q, st, "end a session");
}

int sq_session_delete_staff(struct store *s, int64_t staff_id, int64_t *n)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = fwrite_prep(q, F_SESS_DELETE_STAFF);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, staff_id);
	int r = sqlite_run(q, st, "end an account's sessions");
	if (r == STORE_OK)
		*n = sqlite3_changes(q->db);
	return r;
}

int sq_session_prune(struct store *s, int64_t idle_before, int64_t created_before)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = fwrite_prep(q, F_SESS_PRUNE);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, idle_before);
	sqlite3_bind_int64(st, 2, created_before);
	return sqlite_run(q, st, "end expired sessions");
}

int sq_apitoken_put(struct store *s, struct apitoken_rec *r)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = fwrite_prep(q, F_TOKEN_PUT);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(st, 1, r->hash, HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->staff_id);
	sqlite_bind_text(st, 3, api_scope_name(r->scope));
	sqlite3_bind_int64(st, 4, r->created);
	int rc = run_insert(q, st, "add an API token");
	if (rc == STORE_OK)
		r->id = sqlite3_last_insert_rowid(q->db);
	return rc;
}

int sq_apitoken_get(struct store *s, const uint8_t hash[HASH_LEN], struct apitoken_rec *out)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = fprep(q, F_TOKEN_GET);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(st, 1, hash, HASH_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(st), r = STORE_OK;
	if (rc == SQLITE_ROW) {
		int bad = 0;
		memcpy(out->hash, hash, HASH_LEN);
		out->id = sqlite3_column_int64(st, 0);
		out->staff_id = sqlite3_column_int64(st, 1);
		out->scope = (enum api_scope)sqlite_col_enum(st, 2, &api_scope_names, &bad);
		out->created = sqlite3_column_int64(st, 3);
		if (bad) /* a scope of a newer binary: read only */
			out->scope = API_SCOPE_READ;
	} else if (rc == SQLITE_DONE) {
		r = STORE_NOTFOUND;
	} else {
		r = sqlite_fail(q, "read an API token");
	}
	sqlite3_reset(st);
	return r;
}

int sq_audit_each(struct store *s, int64_t before, int limit,
		  int (*cb)(void *, const struct audit_rec *), void *ctx)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = fprep(q, F_AUDIT_EACH);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, before);
	sqlite3_bind_int(st, 2, limit);
	int rc, r = STORE_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_rec a = {
		    .id = sqlite3_column_int64(st, 0),
		    .time = sqlite3_column_int64(st, 1),
		    .actor = (const char *)sqlite3_column_text(st, 2),
		    .action = (const char *)sqlite3_column_text(st, 3),
		    .list_id = sqlite3_column_int64(st, 4),
		    .subscriber_id = sqlite3_column_int64(st, 5),
		    .detail = (const char *)sqlite3_column_text(st, 6),
		};
		if (a.actor == NULL || a.action == NULL || a.detail == NULL)
			continue;
		if (cb(ctx, &a))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sqlite_fail(q, "read the audit log");
	sqlite3_reset(st);
	return r;
}

int sq_audit_prune(struct store *s, int64_t time, int64_t *n)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = fwrite_prep(q, F_AUDIT_PRUNE);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, time);
	int r = sqlite_run(q, st, "prune the audit log");
	if (r == STORE_OK)
		*n = sqlite3_changes(q->db);
	return r;
}
