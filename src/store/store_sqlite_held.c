/*
 * store_sqlite_held.c - the moderation queue in the SQLite store
 * (migration 13, table held): posts held for the moderators.
 *
 *   sq_held_insert / get / each / delete    one held post
 *   sq_held_expire                          the posts past their expiry
 *   sq_held_delete_sender                   a person's posts (erasure)
 *
 * TRUST: the rows are ours; the sealed blob is never opened here
 * (lists/held.c does, with the master key).
 */
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "store/store_sqlite_int.h"

enum { H_INSERT, H_GET, H_EACH, H_DELETE, H_EXPIRE, H_DELETE_SENDER };
_Static_assert(H_DELETE_SENDER + 1 == SQLITE_HELD_STMTS, "one slot per statement");

#define HELD_COLS "id, list_id, created, expires, reason, detail, sender_hash, size"

static const char *const HSQL[SQLITE_HELD_STMTS] = {
    [H_INSERT] = "INSERT INTO held(list_id, created, expires, reason, detail, sender_hash, "
		 "wrapped_key, data, size) VALUES (?,?,?,?,?,?,?,?,?)",
    [H_GET] = "SELECT " HELD_COLS ", wrapped_key, data FROM held WHERE id=?",
    [H_EACH] = "SELECT " HELD_COLS " FROM held WHERE ?1 = 0 OR list_id = ?1 ORDER BY id",
    [H_DELETE] = "DELETE FROM held WHERE id=?",
    [H_EXPIRE] = "DELETE FROM held WHERE expires <= ?",
    [H_DELETE_SENDER] = "DELETE FROM held WHERE sender_hash = ?",
};

static sqlite3_stmt *hprep(struct sqlite_store *q, int id)
{
	return sqlite_cached(q, &q->hstmt[id], HSQL[id]);
}

static void read_held(sqlite3_stmt *st, struct held_rec *r)
{
	r->id = sqlite3_column_int64(st, 0);
	r->list_id = sqlite3_column_int64(st, 1);
	r->created = sqlite3_column_int64(st, 2);
	r->expires = sqlite3_column_int64(st, 3);
	r->reason = sqlite_col_dup(st, 4);
	r->detail = sqlite_col_dup(st, 5);
	sqlite_col_blob(st, 6, r->sender_hash, HASH_LEN);
	r->size = sqlite3_column_int64(st, 7);
}

int sq_held_insert(struct store *s, struct held_rec *r)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = hprep(q, H_INSERT)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, r->list_id);
	sqlite3_bind_int64(st, 2, r->created);
	sqlite3_bind_int64(st, 3, r->expires);
	sqlite_bind_text(st, 4, r->reason);
	sqlite_bind_text(st, 5, r->detail != NULL ? r->detail : "");
	sqlite3_bind_blob(st, 6, r->sender_hash, HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 7, r->wrapped_key, PII_WRAPPED_LEN, SQLITE_STATIC);
	sqlite3_bind_blob64(st, 8, r->data, r->data_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, r->size);
	int rc = sqlite_run(q, st, "hold a post");
	if (rc == STORE_OK)
		r->id = sqlite3_last_insert_rowid(q->db);
	return rc;
}

int sq_held_get(struct store *s, int64_t id, struct held_rec *out)
{
	struct sqlite_store *q = S(s);
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st = hprep(q, H_GET);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st), r = STORE_OK;
	if (rc == SQLITE_ROW) {
		read_held(st, out);
		sqlite_col_blob(st, 8, out->wrapped_key, PII_WRAPPED_LEN);
		out->data_len = (size_t)sqlite3_column_bytes(st, 9);
		out->data = xmalloc(out->data_len ? out->data_len : 1);
		if (out->data_len)
			memcpy(out->data, sqlite3_column_blob(st, 9), out->data_len);
	} else if (rc == SQLITE_DONE) {
		r = STORE_NOTFOUND;
	} else {
		r = sqlite_fail(q, "read a held post");
	}
	sqlite3_reset(st);
	return r;
}

int sq_held_each(struct store *s, int64_t list_id, int (*cb)(void *, const struct held_rec *),
		 void *ctx)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = hprep(q, H_EACH);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, list_id);
	int rc, r = STORE_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct held_rec h;
		memset(&h, 0, sizeof(h));
		read_held(st, &h);
		int stop = cb(ctx, &h);
		held_rec_free(&h);
		if (stop)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sqlite_fail(q, "list the held posts");
	sqlite3_reset(st);
	return r;
}

int sq_held_delete(struct store *s, int64_t id)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = hprep(q, H_DELETE)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, id);
	int r = sqlite_run(q, st, "delete a held post");
	if (r == STORE_OK && sqlite3_changes(q->db) == 0)
		r = STORE_NOTFOUND;
	return r;
}

int sq_held_expire(struct store *s, int64_t now, int64_t *n)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	*n = 0;
	if (sqlite_need_txn(q) || (st = hprep(q, H_EXPIRE)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, now);
	int r = sqlite_run(q, st, "delete expired held posts");
	if (r == STORE_OK)
		*n = sqlite3_changes(q->db);
	return r;
}

int sq_held_delete_sender(struct store *s, const uint8_t hash[HASH_LEN], int64_t *n)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	*n = 0;
	if (sqlite_need_txn(q) || (st = hprep(q, H_DELETE_SENDER)) == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(st, 1, hash, HASH_LEN, SQLITE_STATIC);
	int r = sqlite_run(q, st, "delete a person's held posts");
	if (r == STORE_OK)
		*n = sqlite3_changes(q->db);
	return r;
}
