/*
 * store_sqlite_limits.c - the rate limit on confirmation mails per address
 * in the SQLite store (table confirm_limits, migration 4).
 *
 *   sq_confirm_limit_hit    count one mail if the address's window allows it
 *   sq_confirm_limit_prune  drop the rows of ended windows
 *
 * A row holds only the keyed address hash, when its window started and how
 * many mails were counted in it; no address, no IP. Rows are pruned once
 * their window has ended, so the table never outlives a day of requests.
 *
 * TRUST: the hash is computed by the caller from a normalised address; the
 * numbers are the caller's (configuration and the clock).
 */
#include "store/store_sqlite_int.h"

enum {
	L_GET,
	L_PUT,
	L_PRUNE,
};

static const char *const LSQL[] = {
    [L_GET] = "SELECT window_start, count FROM confirm_limits WHERE addr_hash=?",
    [L_PUT] = ("INSERT OR REPLACE INTO confirm_limits(addr_hash, window_start, count) "
	       "VALUES (?,?,?)"),
    [L_PRUNE] = "DELETE FROM confirm_limits WHERE window_start < ?",
};

static sqlite3_stmt *lprep(struct sqlite_store *q, int id)
{
	return sqlite_cached(q, &q->lstmt[id], LSQL[id]);
}

int sq_confirm_limit_hit(struct store *s, const uint8_t hash[HASH_LEN], int64_t now, int64_t window,
			 int64_t max, int *allowed)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	*allowed = 0;
	if (sqlite_need_txn(q) || (st = lprep(q, L_GET)) == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(st, 1, hash, HASH_LEN, SQLITE_STATIC);
	int64_t start = now, count = 0;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		start = sqlite3_column_int64(st, 0);
		count = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sqlite_fail(q, "read confirm limit");
	/* A window that has ended, or one that starts in the future (the clock
	 * went back), starts afresh now. */
	if (start > now || now - start >= window) {
		start = now;
		count = 0;
	}
	if (count >= max)
		return STORE_OK;
	if ((st = lprep(q, L_PUT)) == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(st, 1, hash, HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, start);
	sqlite3_bind_int64(st, 3, count + 1);
	int r = sqlite_run(q, st, "count confirm limit");
	if (r == STORE_OK)
		*allowed = 1;
	return r;
}

int sq_confirm_limit_prune(struct store *s, int64_t before)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = lprep(q, L_PRUNE)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, before);
	return sqlite_run(q, st, "prune confirm limits");
}
