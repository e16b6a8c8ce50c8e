/*
 * store_sqlite_stats.c - the daily counters and aggregate statistics in the
 * SQLite store (table stats_daily, migration 8; the intake's daily_counts
 * moved in by migration 9).
 *
 *   sq_stats_add   add to a day's counter, merging its sketch
 *   sq_stats_get   one counter of one day
 *   sq_stats_each  the rows of a range of days
 *   sq_stats_total one counter summed over every row (/metrics)
 *
 * A row is a day, a list id, a counter name, a key, a count and maybe a
 * HyperLogLog sketch: nothing per visit or per person (P6). The interface
 * counts days since the epoch; the table keeps them as UTC dates
 * (YYYY-MM-DD), readable in a dump, converted here in SQL.
 *
 * TRUST: the values come from the web role's aggregator, the intake and
 * the CLI; the sketch bytes are opaque here (merged by byte-wise maximum).
 */
#include "store/store_sqlite_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

enum {
	T_SKETCH,
	T_PUT,
	T_GET,
	T_RANGE,
	T_RANGE_LIST,
	T_TOTAL,
};

#define DAY(n) "date(?" #n " * 86400, 'unixepoch')"
#define ROW_KEY "day = " DAY(1) " AND list_id = ?2 AND counter = ?3 AND key = ?4"
#define COLS "CAST(strftime('%s', day) AS INTEGER) / 86400, list_id, counter, key, value, sketch"

static const char *const TSQL[] = {
    [T_SKETCH] = "SELECT sketch FROM stats_daily WHERE " ROW_KEY,
    [T_PUT] = ("INSERT INTO stats_daily(day, list_id, counter, key, value, sketch) "
	       "VALUES (" DAY(
		   1) ", ?2, ?3, ?4, ?5, ?6) "
		      "ON CONFLICT (day, list_id, counter, key) DO UPDATE SET "
		      "value = value + excluded.value, sketch = coalesce(excluded.sketch, sketch)"),
    [T_GET] = "SELECT value FROM stats_daily WHERE " ROW_KEY,
    [T_RANGE] = ("SELECT " COLS " FROM stats_daily WHERE day >= " DAY(1) " AND day <= " DAY(
	2) " ORDER BY day, list_id, counter, key"),
    [T_RANGE_LIST] = ("SELECT " COLS " FROM stats_daily WHERE day >= " DAY(1) " AND day <= " DAY(
	2) " AND list_id = ?3 ORDER BY day, list_id, counter, key"),
    [T_TOTAL] = "SELECT coalesce(sum(value), 0) FROM stats_daily WHERE counter = ?1",
};

static sqlite3_stmt *tprep(struct sqlite_store *q, int id)
{
	return sqlite_cached(q, &q->sstmt[id], TSQL[id]);
}

static void bind_row_key(sqlite3_stmt *st, int64_t day, int64_t list_id, const char *counter,
			 const char *key)
{
	sqlite3_bind_int64(st, 1, day);
	sqlite3_bind_int64(st, 2, list_id);
	sqlite_bind_text(st, 3, counter);
	sqlite_bind_text(st, 4, key);
}

int sq_stats_add(struct store *s, const struct stat_rec *r)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	uint8_t *merged = NULL;
	if (sqlite_need_txn(q))
		return STORE_ERR;
	if (r->sketch != NULL && r->sketch_len > 0) {
		/* Read the stored sketch and merge it into a copy of ours. */
		if ((st = tprep(q, T_SKETCH)) == NULL)
			return STORE_ERR;
		bind_row_key(st, r->day, r->list_id, r->counter, r->key);
		merged = xmalloc(r->sketch_len);
		memcpy(merged, r->sketch, r->sketch_len);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW && (size_t)sqlite3_column_bytes(st, 0) == r->sketch_len) {
			const uint8_t *old = sqlite3_column_blob(st, 0);
			for (size_t i = 0; i < r->sketch_len; i++)
				if (old[i] > merged[i])
					merged[i] = old[i];
		}
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			free(merged);
			return sqlite_fail(q, "read statistics sketch");
		}
	}
	if ((st = tprep(q, T_PUT)) == NULL) {
		free(merged);
		return STORE_ERR;
	}
	bind_row_key(st, r->day, r->list_id, r->counter, r->key);
	sqlite3_bind_int64(st, 5, r->value);
	if (merged != NULL)
		sqlite3_bind_blob(st, 6, merged, (int)r->sketch_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 6);
	int ret = sqlite_run(q, st, "add statistics");
	free(merged);
	return ret;
}

int sq_stats_get(struct store *s, int64_t day, int64_t list_id, const char *counter,
		 const char *key, int64_t *value)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = tprep(q, T_GET);
	*value = 0;
	if (st == NULL)
		return STORE_ERR;
	bind_row_key(st, day, list_id, counter, key);
	int rc = sqlite3_step(st), r = STORE_OK;
	if (rc == SQLITE_ROW)
		*value = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		r = sqlite_fail(q, "read a counter");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}

int sq_stats_each(struct store *s, int64_t from, int64_t to, int64_t list_id,
		  int (*cb)(void *, const struct stat_rec *), void *ctx)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = tprep(q, list_id < 0 ? T_RANGE : T_RANGE_LIST);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	if (list_id >= 0)
		sqlite3_bind_int64(st, 3, list_id);
	int rc, ret = STORE_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct stat_rec r = {0};
		r.day = sqlite3_column_int64(st, 0);
		r.list_id = sqlite3_column_int64(st, 1);
		r.counter = (const char *)sqlite3_column_text(st, 2);
		r.key = (const char *)sqlite3_column_text(st, 3);
		r.value = sqlite3_column_int64(st, 4);
		r.sketch = sqlite3_column_blob(st, 5);
		r.sketch_len = (size_t)sqlite3_column_bytes(st, 5);
		if (r.counter == NULL || r.key == NULL)
			continue;
		if (cb(ctx, &r) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = sqlite_fail(q, "read statistics");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

int sq_stats_total(struct store *s, const char *counter, int64_t *value)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = tprep(q, T_TOTAL);
	*value = 0;
	if (st == NULL)
		return STORE_ERR;
	sqlite_bind_text(st, 1, counter);
	int rc = sqlite3_step(st), r = STORE_OK;
	if (rc == SQLITE_ROW)
		*value = sqlite3_column_int64(st, 0);
	else
		r = sqlite_fail(q, "sum a counter");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}
