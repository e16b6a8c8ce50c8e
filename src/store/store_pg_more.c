/*
 * store_pg_more.c - the rate limits, the intake spool and its handled
 * markers, the moderation queue, the ledger counts of the owners' summary
 * and the daily statistics in the PostgreSQL store: the same rows as
 * store_sqlite_limits.c, _intake.c, _held.c and _stats.c (the spool is a
 * table of the same database here; its commits are synced like all).
 *
 * TRUST: records come from the layers above; everything is bound, never
 * put into SQL text; the sealed blobs are never opened here.
 */
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "store/store_pg_int.h"

enum {
	M_CLIMIT_GET,
	M_CLIMIT_PUT,
	M_CLIMIT_PRUNE,
	M_RLIMIT_GET,
	M_RLIMIT_PUT,
	M_RLIMIT_PRUNE,
	M_SPOOL_INSERT,
	M_SPOOL_GET,
	M_SPOOL_EACH,
	M_SPOOL_SET,
	M_SPOOL_DELETE,
	M_SPOOL_CLAIM,
	M_SPOOL_UNCLAIM,
	M_SPOOL_MARKS,
	M_SPOOL_UNCLAIM_TAG,
	M_LEDGER_COUNTS,
	M_HELD_INSERT,
	M_HELD_GET,
	M_HELD_EACH,
	M_HELD_DELETE,
	M_HELD_EXPIRE,
	M_HELD_DELETE_SENDER,
	M_STATS_SKETCH,
	M_STATS_PUT,
	M_STATS_GET,
	M_STATS_RANGE,
	M_STATS_RANGE_LIST,
	M_STATS_TOTAL,
	M_COUNT
};
_Static_assert(PG_BASE_MORE + M_COUNT <= PG_SLOTS, "slots");

#define SPOOL_COLS "id, received, size, attempts, quarantined, updated"
#define HELD_COLS "id, list_id, created, expires, reason, detail, sender_hash, size"
#define ROW_KEY "day = $1 AND list_id = $2 AND counter = $3 AND key = $4"
#define STAT_COLS "day, list_id, counter, key, value, sketch"

static const char *const MSQL[M_COUNT] = {
    /* FOR UPDATE: the writer lock already serializes; this keeps it so
     * should that lock ever go */
    [M_CLIMIT_GET] = "SELECT window_start, count FROM confirm_limits WHERE addr_hash=$1 FOR UPDATE",
    [M_CLIMIT_PUT] = "INSERT INTO confirm_limits(addr_hash, window_start, count) VALUES "
		     "($1,$2,$3) ON CONFLICT (addr_hash) DO UPDATE SET window_start = "
		     "excluded.window_start, count = excluded.count",
    [M_CLIMIT_PRUNE] = "DELETE FROM confirm_limits WHERE window_start < $1",
    [M_RLIMIT_GET] = "SELECT window_start, count FROM reply_limits WHERE addr_hash=$1 FOR UPDATE",
    [M_RLIMIT_PUT] = "INSERT INTO reply_limits(addr_hash, window_start, count) VALUES "
		     "($1,$2,$3) ON CONFLICT (addr_hash) DO UPDATE SET window_start = "
		     "excluded.window_start, count = excluded.count",
    [M_RLIMIT_PRUNE] = "DELETE FROM reply_limits WHERE window_start < $1",
    [M_SPOOL_INSERT] = "INSERT INTO intake_spool(received, wrapped_key, data, size, attempts, "
		       "quarantined, updated) VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id",
    [M_SPOOL_GET] = "SELECT " SPOOL_COLS ", wrapped_key, data FROM intake_spool WHERE id=$1",
    [M_SPOOL_EACH] = "SELECT " SPOOL_COLS " FROM intake_spool WHERE "
		     "(CASE WHEN quarantined <> 0 THEN 1 ELSE 0 END) = $1::int "
		     "AND id > $2 AND updated <= $3 ORDER BY id LIMIT $4",
    [M_SPOOL_SET] = "UPDATE intake_spool SET attempts=$1, quarantined=$2, updated=$3 WHERE id=$4",
    [M_SPOOL_DELETE] = "DELETE FROM intake_spool WHERE id=$1",
    [M_SPOOL_CLAIM] = "INSERT INTO intake_handled(spool_id, tag) VALUES ($1,$2) "
		      "ON CONFLICT (spool_id) DO UPDATE SET tag = excluded.tag "
		      "WHERE intake_handled.tag <> excluded.tag",
    [M_SPOOL_UNCLAIM] = "DELETE FROM intake_handled WHERE spool_id=$1",
    [M_SPOOL_MARKS] = "SELECT spool_id, tag FROM intake_handled WHERE spool_id > $1 "
		      "ORDER BY spool_id LIMIT $2",
    [M_SPOOL_UNCLAIM_TAG] = "DELETE FROM intake_handled WHERE spool_id=$1 AND "
			    "(tag=$2 OR length(tag) <> $3::int)",
    [M_LEDGER_COUNTS] = "SELECT action, source, count(*) FROM consent_events WHERE list_id=$1 "
			"AND time >= $2 AND time < $3 GROUP BY action, source ORDER BY action "
			"COLLATE \"C\", source COLLATE \"C\"",
    [M_HELD_INSERT] = "INSERT INTO held(list_id, created, expires, reason, detail, sender_hash, "
		      "wrapped_key, data, size) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING id",
    [M_HELD_GET] = "SELECT " HELD_COLS ", wrapped_key, data FROM held WHERE id=$1",
    [M_HELD_EACH] = "SELECT " HELD_COLS " FROM held WHERE $1::bigint = 0 OR list_id = $1 "
		    "ORDER BY id",
    [M_HELD_DELETE] = "DELETE FROM held WHERE id=$1",
    [M_HELD_EXPIRE] = "DELETE FROM held WHERE expires <= $1",
    [M_HELD_DELETE_SENDER] = "DELETE FROM held WHERE sender_hash = $1",
    [M_STATS_SKETCH] = "SELECT sketch FROM stats_daily WHERE " ROW_KEY,
    [M_STATS_PUT] = "INSERT INTO stats_daily(day, list_id, counter, key, value, sketch) VALUES "
		    "($1,$2,$3,$4,$5,$6) ON CONFLICT (day, list_id, counter, key) DO UPDATE SET "
		    "value = stats_daily.value + excluded.value, "
		    "sketch = coalesce(excluded.sketch, stats_daily.sketch)",
    [M_STATS_GET] = "SELECT value FROM stats_daily WHERE " ROW_KEY,
    [M_STATS_RANGE] = "SELECT " STAT_COLS " FROM stats_daily WHERE day >= $1 AND day <= $2 "
		      "ORDER BY day, list_id, counter, key",
    [M_STATS_RANGE_LIST] = "SELECT " STAT_COLS " FROM stats_daily WHERE day >= $1 AND day <= $2 "
			   "AND list_id = $3 ORDER BY day, list_id, counter, key",
    [M_STATS_TOTAL] = "SELECT coalesce(sum(value), 0) FROM stats_daily WHERE counter = $1",
};

static PGresult *mq(struct pg_store *q, int id, const struct pgp *p, int *rc, const char *what)
{
	return pg_q(q, PG_BASE_MORE + id, MSQL[id], p, rc, what);
}

static int mrun(struct pg_store *q, int id, const struct pgp *p, int64_t *n, const char *what)
{
	if (pg_need_txn(q) != STORE_OK)
		return STORE_ERR;
	return pg_run(q, PG_BASE_MORE + id, MSQL[id], p, n, what);
}

static int minsert(struct pg_store *q, int id, const struct pgp *p, int64_t *out, const char *what)
{
	int rc;
	if (pg_need_txn(q) != STORE_OK)
		return STORE_ERR;
	PGresult *res = mq(q, id, p, &rc, what);
	if (res == NULL)
		return rc;
	*out = PQntuples(res) == 1 ? pg_i64(res, 0, 0) : 0;
	PQclear(res);
	return STORE_OK;
}

/* --- rate limits ------------------------------------------------------------- */

static int limit_hit(struct store *s, int base, const uint8_t hash[HASH_LEN], int64_t now,
		     int64_t window, int64_t max, int *allowed)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	*allowed = 0;
	if (pg_need_txn(q) != STORE_OK)
		return STORE_ERR;
	pgp_blob(&p, hash, HASH_LEN);
	PGresult *res = mq(q, base + M_CLIMIT_GET, &p, &rc, "read limit");
	if (res == NULL)
		return rc;
	int64_t start = now, count = 0;
	if (PQntuples(res) == 1) {
		start = pg_i64(res, 0, 0);
		count = pg_i64(res, 0, 1);
	}
	PQclear(res);
	if (start > now || now - start >= window) {
		start = now;
		count = 0;
	}
	if (count >= max)
		return STORE_OK;
	struct pgp w = {0};
	pgp_blob(&w, hash, HASH_LEN);
	pgp_i64(&w, start);
	pgp_i64(&w, count + 1);
	rc = mrun(q, base + M_CLIMIT_PUT, &w, NULL, "count limit");
	if (rc == STORE_OK)
		*allowed = 1;
	return rc;
}

static int limit_prune(struct store *s, int base, int64_t before)
{
	struct pgp p = {0};
	pgp_i64(&p, before);
	return mrun(P(s), base + M_CLIMIT_PRUNE, &p, NULL, "prune limits");
}

int pgm_confirm_limit_hit(struct store *s, const uint8_t hash[HASH_LEN], int64_t now,
			  int64_t window, int64_t max, int *allowed)
{
	return limit_hit(s, 0, hash, now, window, max, allowed);
}

int pgm_confirm_limit_prune(struct store *s, int64_t before)
{
	return limit_prune(s, 0, before);
}

int pgm_reply_limit_hit(struct store *s, const uint8_t hash[HASH_LEN], int64_t now, int64_t window,
			int64_t max, int *allowed)
{
	return limit_hit(s, M_RLIMIT_GET - M_CLIMIT_GET, hash, now, window, max, allowed);
}

int pgm_reply_limit_prune(struct store *s, int64_t before)
{
	return limit_prune(s, M_RLIMIT_GET - M_CLIMIT_GET, before);
}

/* --- the intake spool ----------------------------------------------------------- */

static void read_spool(const PGresult *r, int i, struct spool_rec *out)
{
	out->id = pg_i64(r, i, 0);
	out->received = pg_i64(r, i, 1);
	out->size = pg_i64(r, i, 2);
	out->attempts = (int)pg_i64(r, i, 3);
	out->quarantined = pg_i64(r, i, 4);
	out->updated = pg_i64(r, i, 5);
}

int pgm_spool_insert(struct store *s, struct spool_rec *r)
{
	struct pgp p = {0};
	pgp_i64(&p, r->received);
	pgp_blob(&p, r->wrapped_key, PII_WRAPPED_LEN);
	pgp_blob(&p, r->data, r->data_len);
	pgp_i64(&p, r->size);
	pgp_i64(&p, r->attempts);
	pgp_i64(&p, r->quarantined);
	pgp_i64(&p, r->updated);
	return minsert(P(s), M_SPOOL_INSERT, &p, &r->id, "spool a message");
}

int pgm_spool_get(struct store *s, int64_t id, struct spool_rec *out)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	pgp_i64(&p, id);
	PGresult *res = mq(q, M_SPOOL_GET, &p, &rc, "read the spool");
	if (res == NULL)
		return rc;
	rc = STORE_NOTFOUND;
	if (PQntuples(res) == 1) {
		read_spool(res, 0, out);
		pg_blob(res, 0, 6, out->wrapped_key, PII_WRAPPED_LEN);
		out->data = pg_blob_dup(res, 0, 7, &out->data_len);
		rc = STORE_OK;
	}
	PQclear(res);
	return rc;
}

int pgm_spool_each(struct store *s, int quarantined, int64_t after, int64_t due, int limit,
		   int (*cb)(void *, const struct spool_rec *), void *ctx)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	pgp_i64(&p, quarantined != 0);
	pgp_i64(&p, after);
	pgp_i64(&p, due);
	pgp_i64(&p, limit);
	PGresult *res = mq(q, M_SPOOL_EACH, &p, &rc, "list the spool");
	if (res == NULL)
		return rc;
	for (int i = 0; i < PQntuples(res); i++) {
		struct spool_rec r = {0};
		read_spool(res, i, &r);
		if (cb(ctx, &r))
			break;
	}
	PQclear(res);
	return STORE_OK;
}

static int must_change(struct pg_store *q, int id, const struct pgp *p, const char *what)
{
	int64_t n;
	int r = mrun(q, id, p, &n, what);
	return r == STORE_OK && n == 0 ? STORE_NOTFOUND : r;
}

int pgm_spool_set(struct store *s, int64_t id, int attempts, int64_t quarantined, int64_t updated)
{
	struct pgp p = {0};
	pgp_i64(&p, attempts);
	pgp_i64(&p, quarantined);
	pgp_i64(&p, updated);
	pgp_i64(&p, id);
	return must_change(P(s), M_SPOOL_SET, &p, "update the spool");
}

int pgm_spool_delete(struct store *s, int64_t id)
{
	struct pgp p = {0};
	pgp_i64(&p, id);
	return must_change(P(s), M_SPOOL_DELETE, &p, "delete from the spool");
}

int pgm_spool_claim(struct store *s, int64_t id, const uint8_t *tag)
{
	struct pgp p = {0};
	int64_t n;
	pgp_i64(&p, id);
	pgp_blob(&p, tag, STORE_SPOOL_TAG_LEN);
	int r = mrun(P(s), M_SPOOL_CLAIM, &p, &n, "mark a spooled message handled");
	return r == STORE_OK && n == 0 ? STORE_EXISTS : r;
}

int pgm_spool_unclaim(struct store *s, int64_t id)
{
	struct pgp p = {0};
	pgp_i64(&p, id);
	return mrun(P(s), M_SPOOL_UNCLAIM, &p, NULL, "forget a handled mark");
}

int pgm_spool_marks(struct store *s, int64_t after, int limit,
		    int (*cb)(void *, int64_t, const uint8_t *), void *ctx)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	pgp_i64(&p, after);
	pgp_i64(&p, limit);
	PGresult *res = mq(q, M_SPOOL_MARKS, &p, &rc, "list the handled marks");
	if (res == NULL)
		return rc;
	for (int i = 0; i < PQntuples(res); i++) {
		uint8_t tag[STORE_SPOOL_TAG_LEN];
		pg_blob(res, i, 1, tag, sizeof(tag));
		if (cb(ctx, pg_i64(res, i, 0), tag))
			break;
	}
	PQclear(res);
	return STORE_OK;
}

int pgm_spool_unclaim_tag(struct store *s, int64_t id, const uint8_t *tag)
{
	struct pgp p = {0};
	pgp_i64(&p, id);
	pgp_blob(&p, tag, STORE_SPOOL_TAG_LEN);
	pgp_i64(&p, STORE_SPOOL_TAG_LEN);
	return mrun(P(s), M_SPOOL_UNCLAIM_TAG, &p, NULL, "forget a stray handled mark");
}

int pgm_ledger_counts(struct store *s, int64_t list_id, int64_t from, int64_t to,
		      int (*cb)(void *, const char *, const char *, int64_t), void *ctx)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	pgp_i64(&p, list_id);
	pgp_i64(&p, from);
	pgp_i64(&p, to);
	PGresult *res = mq(q, M_LEDGER_COUNTS, &p, &rc, "count ledger events");
	if (res == NULL)
		return rc;
	for (int i = 0; i < PQntuples(res); i++)
		if (cb(ctx, pg_str(res, i, 0), pg_str(res, i, 1), pg_i64(res, i, 2)))
			break;
	PQclear(res);
	return STORE_OK;
}

/* --- the moderation queue ---------------------------------------------------------- */

static void read_held(const PGresult *r, int i, struct held_rec *out)
{
	out->id = pg_i64(r, i, 0);
	out->list_id = pg_i64(r, i, 1);
	out->created = pg_i64(r, i, 2);
	out->expires = pg_i64(r, i, 3);
	out->reason = pg_dup(r, i, 4);
	out->detail = pg_dup(r, i, 5);
	pg_blob(r, i, 6, out->sender_hash, HASH_LEN);
	out->size = pg_i64(r, i, 7);
}

int pgm_held_insert(struct store *s, struct held_rec *r)
{
	struct pgp p = {0};
	pgp_i64(&p, r->list_id);
	pgp_i64(&p, r->created);
	pgp_i64(&p, r->expires);
	pgp_text(&p, r->reason);
	pgp_text(&p, r->detail);
	pgp_blob(&p, r->sender_hash, HASH_LEN);
	pgp_blob(&p, r->wrapped_key, PII_WRAPPED_LEN);
	pgp_blob(&p, r->data, r->data_len);
	pgp_i64(&p, r->size);
	return minsert(P(s), M_HELD_INSERT, &p, &r->id, "hold a post");
}

int pgm_held_get(struct store *s, int64_t id, struct held_rec *out)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	memset(out, 0, sizeof(*out));
	pgp_i64(&p, id);
	PGresult *res = mq(q, M_HELD_GET, &p, &rc, "read a held post");
	if (res == NULL)
		return rc;
	rc = STORE_NOTFOUND;
	if (PQntuples(res) == 1) {
		read_held(res, 0, out);
		pg_blob(res, 0, 8, out->wrapped_key, PII_WRAPPED_LEN);
		out->data = pg_blob_dup(res, 0, 9, &out->data_len);
		rc = STORE_OK;
	}
	PQclear(res);
	return rc;
}

int pgm_held_each(struct store *s, int64_t list_id, int (*cb)(void *, const struct held_rec *),
		  void *ctx)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	pgp_i64(&p, list_id);
	PGresult *res = mq(q, M_HELD_EACH, &p, &rc, "list the held posts");
	if (res == NULL)
		return rc;
	for (int i = 0; i < PQntuples(res); i++) {
		struct held_rec h;
		memset(&h, 0, sizeof(h));
		read_held(res, i, &h);
		int stop = cb(ctx, &h);
		held_rec_free(&h);
		if (stop)
			break;
	}
	PQclear(res);
	return STORE_OK;
}

int pgm_held_delete(struct store *s, int64_t id)
{
	struct pgp p = {0};
	pgp_i64(&p, id);
	return must_change(P(s), M_HELD_DELETE, &p, "delete a held post");
}

int pgm_held_expire(struct store *s, int64_t now, int64_t *n)
{
	struct pgp p = {0};
	pgp_i64(&p, now);
	return mrun(P(s), M_HELD_EXPIRE, &p, n, "delete expired held posts");
}

int pgm_held_delete_sender(struct store *s, const uint8_t hash[HASH_LEN], int64_t *n)
{
	struct pgp p = {0};
	pgp_blob(&p, hash, HASH_LEN);
	return mrun(P(s), M_HELD_DELETE_SENDER, &p, n, "delete a person's held posts");
}

/* --- statistics ------------------------------------------------------------------- */

static void bind_row_key(struct pgp *p, int64_t day, int64_t list_id, const char *counter,
			 const char *key)
{
	pgp_i64(p, day);
	pgp_i64(p, list_id);
	pgp_text(p, counter);
	pgp_text(p, key);
}

int pgm_stats_add(struct store *s, const struct stat_rec *r)
{
	struct pg_store *q = P(s);
	uint8_t *merged = NULL;
	int rc;
	if (pg_need_txn(q) != STORE_OK)
		return STORE_ERR;
	if (r->sketch != NULL && r->sketch_len > 0) {
		struct pgp k = {0};
		bind_row_key(&k, r->day, r->list_id, r->counter, r->key);
		PGresult *res = mq(q, M_STATS_SKETCH, &k, &rc, "read statistics sketch");
		if (res == NULL)
			return rc;
		merged = xmalloc(r->sketch_len);
		memcpy(merged, r->sketch, r->sketch_len);
		if (PQntuples(res) == 1 && !pg_null(res, 0, 0)) {
			size_t n;
			uint8_t *old = pg_blob_dup(res, 0, 0, &n);
			if (n == r->sketch_len)
				for (size_t i = 0; i < n; i++)
					if (old[i] > merged[i])
						merged[i] = old[i];
			free(old);
		}
		PQclear(res);
	}
	struct pgp p = {0};
	bind_row_key(&p, r->day, r->list_id, r->counter, r->key);
	pgp_i64(&p, r->value);
	if (merged != NULL)
		pgp_blob(&p, merged, r->sketch_len);
	else
		pgp_null(&p);
	rc = mrun(q, M_STATS_PUT, &p, NULL, "add statistics");
	free(merged);
	return rc;
}

int pgm_stats_get(struct store *s, int64_t day, int64_t list_id, const char *counter,
		  const char *key, int64_t *value)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	*value = 0;
	bind_row_key(&p, day, list_id, counter, key);
	PGresult *res = mq(q, M_STATS_GET, &p, &rc, "read a counter");
	if (res == NULL)
		return rc;
	if (PQntuples(res) == 1)
		*value = pg_i64(res, 0, 0);
	PQclear(res);
	return STORE_OK;
}

int pgm_stats_each(struct store *s, int64_t from, int64_t to, int64_t list_id,
		   int (*cb)(void *, const struct stat_rec *), void *ctx)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	pgp_i64(&p, from);
	pgp_i64(&p, to);
	if (list_id >= 0)
		pgp_i64(&p, list_id);
	PGresult *res =
	    mq(q, list_id < 0 ? M_STATS_RANGE : M_STATS_RANGE_LIST, &p, &rc, "read statistics");
	if (res == NULL)
		return rc;
	for (int i = 0; i < PQntuples(res); i++) {
		struct stat_rec r = {0};
		uint8_t *sk = NULL;
		size_t n = 0;
		r.day = pg_i64(res, i, 0);
		r.list_id = pg_i64(res, i, 1);
		r.counter = pg_str(res, i, 2);
		r.key = pg_str(res, i, 3);
		r.value = pg_i64(res, i, 4);
		if (!pg_null(res, i, 5)) {
			sk = pg_blob_dup(res, i, 5, &n);
			r.sketch = sk;
			r.sketch_len = n;
		}
		int stop = cb(ctx, &r);
		free(sk);
		if (stop)
			break;
	}
	PQclear(res);
	return STORE_OK;
}

int pgm_stats_total(struct store *s, const char *counter, int64_t *value)
{
	struct pg_store *q = P(s);
	struct pgp p = {0};
	int rc;
	*value = 0;
	pgp_text(&p, counter);
	PGresult *res = mq(q, M_STATS_TOTAL, &p, &rc, "sum a counter");
	if (res == NULL)
		return rc;
	*value = pg_i64(res, 0, 0);
	PQclear(res);
	return STORE_OK;
}

/* --- the archive ------------------------------------------------------------------- */

/* The PostgreSQL store has no archive yet: archive_insert is not supported
 * (store.c answers so), so no post is ever in it, and a person's erasure
 * finds none of theirs and none about them. */
int pgm_archive_by_author(struct store *s, const uint8_t hash[HASH_LEN],
			  int (*cb)(void *, const struct archive_rec *), void *ctx)
{
	(void)s;
	(void)hash;
	(void)cb;
	(void)ctx;
	return STORE_OK;
}

int pgm_archive_containing(struct store *s, const char *needle,
			   int (*cb)(void *, const struct archive_rec *), void *ctx)
{
	(void)s;
	(void)needle;
	(void)cb;
	(void)ctx;
	return STORE_OK;
}
