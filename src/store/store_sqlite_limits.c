/*
 * store_sqlite_limits.c - the rate limits on mails per address in the
 * SQLite store: confirmation mails (table confirm_limits, migration 4) and
 * intake's replies (table reply_limits, migration 7), one shape, one code.
 *
 *   sq_confirm_limit_hit    count one mail if the address's window allows it
 *   sq_confirm_limit_prune  drop the rows of ended windows
 *   sq_reply_limit_hit, sq_reply_limit_prune   the same for replies
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
	L_PER_TABLE,
};

/* confirm_limits, then reply_limits: base 0 or L_PER_TABLE. */
static const char *const LSQL[] = {
    "SELECT window_start, count FROM confirm_limits WHERE addr_hash=?",
    "INSERT OR REPLACE INTO confirm_limits(addr_hash, window_start, count) VALUES (?,?,?)",
    "DELETE FROM confirm_limits WHERE window_start < ?",
    "SELECT window_start, count FROM reply_limits WHERE addr_hash=?",
    "INSERT OR REPLACE INTO reply_limits(addr_hash, window_start, count) VALUES (?,?,?)",
    "DELETE FROM reply_limits WHERE window_start < ?",
};

static sqlite3_stmt *lprep(struct sqlite_store *q, int id)
{
	return sqlite_cached(q, &q->lstmt[id], LSQL[id]);
}

static int limit_hit(struct store *s, int base, const uint8_t hash[HASH_LEN], int64_t now,
		     int64_t window, int64_t max, int *allowed)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	*allowed = 0;
	if (sqlite_need_txn(q) || (st = lprep(q, base + L_GET)) == NULL)
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
		return sqlite_fail(q, "read limit");
	/* A window that has ended, or one that starts in the future (the clock
	 * went back), starts afresh now. */
	if (start > now || now - start >= window) {
		start = now;
		count = 0;
	}
	if (count >= max)
		return STORE_OK;
	if ((st = lprep(q, base + L_PUT)) == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(st, 1, hash, HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, start);
	sqlite3_bind_int64(st, 3, count + 1);
	int r = sqlite_run(q, st, "count limit");
	if (r == STORE_OK)
		*allowed = 1;
	return r;
}

static int limit_prune(struct store *s, int base, int64_t before)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = lprep(q, base + L_PRUNE)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, before);
	return sqlite_run(q, st, "prune limits");
}

int sq_confirm_limit_hit(struct store *s, const uint8_t hash[HASH_LEN], int64_t now, int64_t window,
			 int64_t max, int *allowed)
{
	return limit_hit(s, 0, hash, now, window, max, allowed);
}

int sq_confirm_limit_prune(struct store *s, int64_t before)
{
	return limit_prune(s, 0, before);
}

int sq_reply_limit_hit(struct store *s, const uint8_t hash[HASH_LEN], int64_t now, int64_t window,
		       int64_t max, int *allowed)
{
	return limit_hit(s, L_PER_TABLE, hash, now, window, max, allowed);
}

int sq_reply_limit_prune(struct store *s, int64_t before)
{
	return limit_prune(s, L_PER_TABLE, before);
}
