/*
 * store_pg_int.h - internals shared by the PostgreSQL store's files
 * (store_pg.c: connection, transactions, migrations, ledger, suppressions,
 * audit; store_pg_rows.c: lists, subscribers, subscriptions, jobs;
 * store_pg_more.c: rate limits, the intake spool and its markers, held
 * posts, statistics). Nothing outside src/store includes this header.
 */
#ifndef LK_STORE_STORE_PG_INT_H
#define LK_STORE_STORE_PG_INT_H

#include <libpq-fe.h>

#include "store/store_impl.h"

/* Prepared statement slots: each file has its own range. */
#define PG_BASE_CORE 0
#define PG_BASE_ROWS 32
#define PG_BASE_MORE 80
#define PG_SLOTS 128

struct pg_store {
	struct store base;
	PGconn *conn;
	char *dsn;
	int64_t lock_timeout_ms, statement_timeout_ms;
	unsigned char prepared[PG_SLOTS];
	int depth;     /* transaction nesting */
	int aborted;   /* a statement failed: PostgreSQL refuses the rest until a rollback */
	int batch;     /* store_set_batch */
	int durable;   /* store_set_durable: every commit synced */
	int doomed;    /* batch mode: an inner rollback came after a write */
	int scrub_due; /* store_scrub inside a transaction: after its commit */
	int ledger_dirty;
	int head_known, tail_known;
	int64_t tail_id, head_id;
	uint8_t tail_hash[HASH_LEN], head_hash[HASH_LEN];
	int64_t changes;      /* rows written so far */
	int64_t at_begin[64]; /* batch mode: changes at each inner begin */
	char err[512];
};

#define P(s) ((struct pg_store *)(s))

/* Parameters of one statement: text for numbers and strings, binary for
 * bytea. */
#define PGP_MAX 24
struct pgp {
	int n;
	const char *v[PGP_MAX];
	int len[PGP_MAX];
	int fmt[PGP_MAX];
	char num[PGP_MAX][24];
};
void pgp_i64(struct pgp *p, int64_t x);
void pgp_text(struct pgp *p, const char *z); /* NULL: "" */
void pgp_blob(struct pgp *p, const void *b, size_t len);
void pgp_null(struct pgp *p);

/* Runs the statement of slot (sql, prepared on first use on this
 * connection) with p. The result (PQclear it), or NULL with *rc set
 * (STORE_EXISTS for a taken unique key, STORE_BUSY for an unreachable
 * server, a lock or statement timeout, a serialization failure; else
 * STORE_ERR) and the reason in q->err. */
PGresult *pg_q(struct pg_store *q, int slot, const char *sql, const struct pgp *p, int *rc,
	       const char *what);
/* The same for a statement whose result is not wanted: its rc, and the rows
 * it changed in *n (may be NULL). */
int pg_run(struct pg_store *q, int slot, const char *sql, const struct pgp *p, int64_t *n,
	   const char *what);
/* STORE_ERR unless a transaction is open and usable (writes need one). */
int pg_need_txn(struct pg_store *q);

int64_t pg_i64(const PGresult *r, int row, int col);
const char *pg_str(const PGresult *r, int row, int col);
char *pg_dup(const PGresult *r, int row, int col);
int pg_null(const PGresult *r, int row, int col);
/* A bytea column into out (len bytes, zero-padded or cut). */
void pg_blob(const PGresult *r, int row, int col, uint8_t *out, size_t len);
/* A bytea column, allocated (at least one byte), its length in *len. */
uint8_t *pg_blob_dup(const PGresult *r, int row, int col, size_t *len);
/* The enum value whose name is in the column; unknown: 0 and *bad set. */
int pg_enum(const PGresult *r, int row, int col, const struct nametab *t, int *bad);

int pgr_list_insert(struct store *s, struct list_rec *l);
int pgr_list_update(struct store *s, const struct list_rec *l);
int pgr_list_delete(struct store *s, int64_t id);
int pgr_list_get(struct store *s, const char *name, int64_t id, struct list_rec *out);
int pgr_list_each(struct store *s, int (*cb)(void *, const struct list_rec *), void *ctx);
int pgr_subscriber_insert(struct store *s, struct subscriber_rec *r);
int pgr_subscriber_update(struct store *s, const struct subscriber_rec *r);
int pgr_subscriber_delete(struct store *s, int64_t id);
int pgr_subscriber_get(struct store *s, int64_t id, const uint8_t *hash,
		       struct subscriber_rec *out);
int pgr_subscription_put(struct store *s, const struct subscription_rec *r);
int pgr_subscription_get(struct store *s, int64_t list_id, int64_t sub_id,
			 struct subscription_rec *out);
int pgr_subscription_delete(struct store *s, int64_t list_id, int64_t sub_id);
int pgr_subscription_count(struct store *s, int64_t sub_id, int64_t *n);
int pgr_subscriptions_of(struct store *s, int64_t sub_id,
			 int (*cb)(void *, const struct subscription_rec *), void *ctx);
int pgr_list_counts(struct store *s, int64_t list_id, int64_t counts[4]);
int pgr_members_page(struct store *s, int64_t list_id, int state, int recipients, int64_t after,
		     int limit, store_member_cb cb, void *ctx);
int pgr_job_insert(struct store *s, struct job_rec *j);
int pgr_job_update(struct store *s, const struct job_rec *j);
int pgr_job_get(struct store *s, int64_t id, struct job_rec *out);
int pgr_job_each(struct store *s, int (*cb)(void *, const struct job_rec *), void *ctx);
int pgr_job_next(struct store *s, int64_t now, struct job_rec *out);
int pgr_retry_put(struct store *s, const struct retry_rec *r);
int pgr_retry_delete(struct store *s, int64_t job_id, int64_t sub_id);
int pgr_retry_due(struct store *s, int64_t job_id, int64_t now, int limit,
		  int (*cb)(void *, const struct retry_rec *), void *ctx);
int pgr_retry_count(struct store *s, int64_t job_id, int64_t *n, int64_t *next_at);
int pgr_job_failure_add(struct store *s, int64_t job_id, const char *reason, int64_t n);
int pgr_job_failures_each(struct store *s, int64_t job_id, int (*cb)(void *, const char *, int64_t),
			  void *ctx);

int pgm_confirm_limit_hit(struct store *s, const uint8_t hash[HASH_LEN], int64_t now,
			  int64_t window, int64_t max, int *allowed);
int pgm_confirm_limit_prune(struct store *s, int64_t before);
int pgm_reply_limit_hit(struct store *s, const uint8_t hash[HASH_LEN], int64_t now, int64_t window,
			int64_t max, int *allowed);
int pgm_reply_limit_prune(struct store *s, int64_t before);
int pgm_spool_insert(struct store *s, struct spool_rec *r);
int pgm_spool_get(struct store *s, int64_t id, struct spool_rec *out);
int pgm_spool_each(struct store *s, int quarantined, int64_t after, int64_t due, int limit,
		   int (*cb)(void *, const struct spool_rec *), void *ctx);
int pgm_spool_set(struct store *s, int64_t id, int attempts, int64_t quarantined, int64_t updated);
int pgm_spool_delete(struct store *s, int64_t id);
int pgm_spool_claim(struct store *s, int64_t id, const uint8_t *tag);
int pgm_spool_unclaim(struct store *s, int64_t id);
int pgm_spool_marks(struct store *s, int64_t after, int limit,
		    int (*cb)(void *, int64_t, const uint8_t *), void *ctx);
int pgm_spool_unclaim_tag(struct store *s, int64_t id, const uint8_t *tag);
int pgm_held_insert(struct store *s, struct held_rec *r);
int pgm_held_get(struct store *s, int64_t id, struct held_rec *out);
int pgm_held_each(struct store *s, int64_t list_id, int (*cb)(void *, const struct held_rec *),
		  void *ctx);
int pgm_held_delete(struct store *s, int64_t id);
int pgm_held_expire(struct store *s, int64_t now, int64_t *n);
int pgm_held_delete_sender(struct store *s, const uint8_t hash[HASH_LEN], int64_t *n);
int pgm_ledger_counts(struct store *s, int64_t list_id, int64_t from, int64_t to,
		      int (*cb)(void *, const char *, const char *, int64_t), void *ctx);
int pgm_stats_add(struct store *s, const struct stat_rec *r);
int pgm_stats_get(struct store *s, int64_t day, int64_t list_id, const char *counter,
		  const char *key, int64_t *value);
int pgm_stats_each(struct store *s, int64_t from, int64_t to, int64_t list_id,
		   int (*cb)(void *, const struct stat_rec *), void *ctx);
int pgm_stats_total(struct store *s, const char *counter, int64_t *value);
int pgm_archive_by_author(struct store *s, const uint8_t hash[HASH_LEN],
			  int (*cb)(void *, const struct archive_rec *), void *ctx);
int pgm_archive_containing(struct store *s, const char *needle,
			   int (*cb)(void *, const struct archive_rec *), void *ctx);

#endif
