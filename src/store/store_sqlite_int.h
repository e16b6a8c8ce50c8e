/*
 * store_sqlite_int.h - internals shared by the SQLite store's files
 * (store_sqlite.c: connection, transactions, ledger, suppressions, audit;
 * store_sqlite_members.c: lists, subscribers, subscriptions;
 * store_sqlite_jobs.c: jobs; store_sqlite_limits.c: rate limits;
 * store_sqlite_stats.c: statistics).
 * Nothing outside src/store includes this header.
 */
#ifndef LK_STORE_STORE_SQLITE_INT_H
#define LK_STORE_STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "store/store_impl.h"

#define SQLITE_JOB_STMTS 24
#define SQLITE_LIMIT_STMTS 6
#define SQLITE_INTAKE_STMTS 10
#define SQLITE_STATS_STMTS 6
#define SQLITE_HELD_STMTS 6
#define SQLITE_STAFF_STMTS 19
#define SQLITE_ARCHIVE_STMTS 24

/* The cached statements of store_sqlite.c and store_sqlite_members.c
 * (their SQL is in store_sqlite.c). */
enum stmt_id {
	Q_LIST_INSERT,
	Q_LIST_UPDATE,
	Q_LIST_DELETE,
	Q_LIST_BY_NAME,
	Q_LIST_BY_ID,
	Q_LIST_ALL,
	Q_SUBR_INSERT,
	Q_SUBR_UPDATE,
	Q_SUBR_DELETE,
	Q_SUBR_BY_ID,
	Q_SUBR_BY_HASH,
	Q_SUBN_PUT,
	Q_SUBN_UPDATE,
	Q_SUBN_GET,
	Q_SUBN_DELETE,
	Q_SUBN_COUNT,
	Q_SUBN_OF,
	Q_LIST_COUNTS,
	Q_MEMBERS,
	Q_RECIPIENTS,
	Q_LEDGER_LAST,
	Q_LEDGER_INSERT,
	Q_LEDGER_ALL,
	Q_LEDGER_SUB,
	Q_META_GET,
	Q_META_PUT,
	Q_SUPP_ADD,
	Q_SUPP_CHECK,
	Q_SUPP_REMOVE,
	Q_SUPP_COUNT,
	Q_AUDIT,
	Q_COUNT
};

#define SP_CACHED 8

struct sqlite_store {
	struct store base;
	sqlite3 *db;
	sqlite3_stmt *stmt[Q_COUNT];
	sqlite3_stmt *sp[SP_CACHED][2]; /* SAVEPOINT, RELEASE per depth */
	int depth;			/* transaction nesting */
	int ledger_dirty;		/* appended in the current transaction */
	int batch;			/* store_set_batch: inner levels without savepoints */
	int doomed;			/* batch mode: an inner rollback came after a write */
	int scrub_due; /* store_scrub inside a transaction: done after its commit */
	int spool;     /* a spool store (store_spool_open) */
	int64_t changes[SP_CACHED * 8]; /* batch mode: total_changes at each inner begin */
	int head_known;			/* head_id/head_hash read in this transaction */
	int tail_known; /* tail_id/tail_hash: the row we appended last, still there */
	int64_t tail_id;
	uint8_t tail_hash[HASH_LEN];
	int64_t head_id; /* the ledger head recorded at the last commit */
	uint8_t head_hash[HASH_LEN];
	sqlite3_stmt *jstmt[SQLITE_JOB_STMTS];	   /* store_sqlite_jobs.c */
	sqlite3_stmt *lstmt[SQLITE_LIMIT_STMTS];   /* store_sqlite_limits.c */
	sqlite3_stmt *istmt[SQLITE_INTAKE_STMTS];  /* store_sqlite_intake.c */
	sqlite3_stmt *sstmt[SQLITE_STATS_STMTS];   /* store_sqlite_stats.c */
	sqlite3_stmt *hstmt[SQLITE_HELD_STMTS];	   /* store_sqlite_held.c */
	sqlite3_stmt *fstmt[SQLITE_STAFF_STMTS];   /* store_sqlite_staff.c */
	sqlite3_stmt *astmt[SQLITE_ARCHIVE_STMTS]; /* store_sqlite_archive.c */
	char err[512];
};

#define S(s) ((struct sqlite_store *)(s))

/* A connection to the SQLite file at path, set up (WAL, synchronous=NORMAL,
 * secure_delete...), not migrated; create: make the file if missing. NULL
 * with the reason in err. */
struct sqlite_store *sqlite_connect(const char *path, const struct conf *c, int create,
				    struct buf *err);

/* The spool file of the database at db (DB-spool.db for DB.db). Allocated. */
char *sqlite_spool_path(const char *db);

/* Records the SQLite error in q->err; STORE_BUSY for a locked database. */
int sqlite_fail(struct sqlite_store *q, const char *what);
/* STORE_ERR unless a transaction is open (writes need one). */
int sqlite_need_txn(struct sqlite_store *q);
void sqlite_bind_text(sqlite3_stmt *st, int i, const char *z);
char *sqlite_col_dup(sqlite3_stmt *st, int i);
/* The enum value whose name (t) is in column i; a name the table lacks
 * (a newer binary wrote it) is value 0 and sets *bad. */
int sqlite_col_enum(sqlite3_stmt *st, int i, const struct nametab *t, int *bad);
void sqlite_col_blob(sqlite3_stmt *st, int i, uint8_t *out, size_t len);
/* Steps a statement that returns no rows, then resets it. */
int sqlite_run(struct sqlite_store *q, sqlite3_stmt *st, const char *what);
int sqlite_exec(struct sqlite_store *q, const char *sql);
/* A cached prepared statement in *slot, prepared on first use; NULL on error. */
sqlite3_stmt *sqlite_cached(struct sqlite_store *q, sqlite3_stmt **slot, const char *sql);
/* The cached statement id of store_sqlite.c, prepared on first use; NULL on error. */
sqlite3_stmt *sqlite_prep(struct sqlite_store *q, enum stmt_id id);
/* Runs the count statement id with key bound to ?1 and reads the count into *n. */
int sqlite_count(struct sqlite_store *q, enum stmt_id id, int64_t key, int64_t *n);

/* Lists, subscribers and subscriptions (store_sqlite_members.c). */
int sq_list_insert(struct store *s, struct list_rec *l);
int sq_list_update(struct store *s, const struct list_rec *l);
int sq_list_delete(struct store *s, int64_t id);
int sq_list_get(struct store *s, const char *name, int64_t id, struct list_rec *out);
int sq_list_each(struct store *s, int (*cb)(void *, const struct list_rec *), void *ctx);
int sq_subscriber_insert(struct store *s, struct subscriber_rec *r);
int sq_subscriber_update(struct store *s, const struct subscriber_rec *r);
int sq_subscriber_delete(struct store *s, int64_t id);
int sq_subscriber_get(struct store *s, int64_t id, const uint8_t *hash, struct subscriber_rec *out);
int sq_subscription_put(struct store *s, const struct subscription_rec *r);
int sq_subscription_get(struct store *s, int64_t list_id, int64_t sub_id,
			struct subscription_rec *out);
int sq_subscription_delete(struct store *s, int64_t list_id, int64_t sub_id);
int sq_subscription_count(struct store *s, int64_t sub_id, int64_t *n);
int sq_subscriptions_of(struct store *s, int64_t sub_id,
			int (*cb)(void *, const struct subscription_rec *), void *ctx);
int sq_list_counts(struct store *s, int64_t list_id, int64_t counts[4]);
int sq_members_page(struct store *s, int64_t list_id, int state, int recipients, int64_t after,
		    int limit, store_member_cb cb, void *ctx);

/* The job operations (store_sqlite_jobs.c), for the ops table. */
int sq_job_insert(struct store *s, struct job_rec *j);
int sq_job_update(struct store *s, const struct job_rec *j);
int sq_job_get(struct store *s, int64_t id, struct job_rec *out);
int sq_job_each(struct store *s, int (*cb)(void *, const struct job_rec *), void *ctx);
int sq_job_next(struct store *s, int64_t now, struct job_rec *out);
int sq_retry_put(struct store *s, const struct retry_rec *r);
int sq_retry_delete(struct store *s, int64_t job_id, int64_t sub_id);
int sq_retry_due(struct store *s, int64_t job_id, int64_t now, int limit,
		 int (*cb)(void *, const struct retry_rec *), void *ctx);
int sq_retry_count(struct store *s, int64_t job_id, int64_t *n, int64_t *next_at);
int sq_job_failure_add(struct store *s, int64_t job_id, const char *reason, int64_t n);
int sq_job_failures_each(struct store *s, int64_t job_id, int (*cb)(void *, const char *, int64_t),
			 void *ctx);

/* The rate limit operations (store_sqlite_limits.c). */
int sq_confirm_limit_hit(struct store *s, const uint8_t hash[HASH_LEN], int64_t now, int64_t window,
			 int64_t max, int *allowed);
int sq_confirm_limit_prune(struct store *s, int64_t before);
int sq_reply_limit_hit(struct store *s, const uint8_t hash[HASH_LEN], int64_t now, int64_t window,
		       int64_t max, int *allowed);
int sq_reply_limit_prune(struct store *s, int64_t before);

/* The intake operations (store_sqlite_intake.c). */
int sq_spool_insert(struct store *s, struct spool_rec *r);
int sq_spool_get(struct store *s, int64_t id, struct spool_rec *out);
int sq_held_insert(struct store *s, struct held_rec *r);
int sq_held_get(struct store *s, int64_t id, struct held_rec *out);
int sq_held_each(struct store *s, int64_t list_id, int (*cb)(void *, const struct held_rec *),
		 void *ctx);
int sq_held_delete(struct store *s, int64_t id);
int sq_held_expire(struct store *s, int64_t now, int64_t *n);
int sq_held_delete_sender(struct store *s, const uint8_t hash[HASH_LEN], int64_t *n);
int sq_spool_each(struct store *s, int quarantined, int64_t after, int64_t due, int limit,
		  int (*cb)(void *, const struct spool_rec *), void *ctx);
int sq_spool_set(struct store *s, int64_t id, int attempts, int64_t quarantined, int64_t updated);
int sq_spool_delete(struct store *s, int64_t id);
int sq_spool_claim(struct store *s, int64_t id, const uint8_t *tag);
int sq_spool_unclaim(struct store *s, int64_t id);
int sq_spool_marks(struct store *s, int64_t after, int limit,
		   int (*cb)(void *, int64_t, const uint8_t *), void *ctx);
int sq_spool_unclaim_tag(struct store *s, int64_t id, const uint8_t *tag);
int sq_ledger_counts(struct store *s, int64_t list_id, int64_t from, int64_t to,
		     int (*cb)(void *, const char *, const char *, int64_t), void *ctx);

/* The aggregate statistics (store_sqlite_stats.c). */
int sq_stats_add(struct store *s, const struct stat_rec *r);
int sq_stats_get(struct store *s, int64_t day, int64_t list_id, const char *counter,
		 const char *key, int64_t *value);
int sq_stats_each(struct store *s, int64_t from, int64_t to, int64_t list_id,
		  int (*cb)(void *, const struct stat_rec *), void *ctx);
int sq_stats_total(struct store *s, const char *counter, int64_t *value);

/* Staff accounts, roles, sessions, API tokens, audit reads (store_sqlite_staff.c). */
int sq_staff_insert(struct store *s, struct staff_rec *r);
int sq_staff_set_password(struct store *s, int64_t id, const char *pw_hash);
int sq_staff_delete(struct store *s, int64_t id);
int sq_staff_get(struct store *s, const char *name, int64_t id, struct staff_rec *out);
int sq_staff_each(struct store *s, int (*cb)(void *, const struct staff_rec *), void *ctx);
int sq_grant_put(struct store *s, const struct staff_grant *g);
int sq_grant_delete(struct store *s, const struct staff_grant *g);
int sq_grants_of(struct store *s, int64_t staff_id, int (*cb)(void *, const struct staff_grant *),
		 void *ctx);
int sq_session_put(struct store *s, const struct session_rec *r);
int sq_session_get(struct store *s, const uint8_t hash[HASH_LEN], struct session_rec *out);
int sq_session_seen(struct store *s, const uint8_t hash[HASH_LEN], int64_t seen);
int sq_session_delete(struct store *s, const uint8_t hash[HASH_LEN]);
int sq_session_delete_staff(struct store *s, int64_t staff_id, int64_t *n);
int sq_session_prune(struct store *s, int64_t idle_before, int64_t created_before);
int sq_apitoken_put(struct store *s, struct apitoken_rec *r);
int sq_apitoken_get(struct store *s, const uint8_t hash[HASH_LEN], struct apitoken_rec *out);
int sq_audit_each(struct store *s, int64_t before, int limit,
		  int (*cb)(void *, const struct audit_rec *), void *ctx);
int sq_audit_prune(struct store *s, int64_t time, int64_t *n);
/* The archive (store_sqlite_archive.c). */
int sq_archive_insert(struct store *s, struct archive_rec *r,
		      const char (*parents)[STORE_ARCHIVE_HASH_LEN + 1], size_t n);
int sq_archive_part_add(struct store *s, const struct archive_part *p);
int sq_archive_get(struct store *s, int64_t list_id, const char *hash, int with_raw,
		   struct archive_rec *out);
int sq_archive_months(struct store *s, int64_t list_id, int (*cb)(void *, const char *, int64_t),
		      void *ctx);
int sq_archive_each(struct store *s, const struct archive_query *aq,
		    int (*cb)(void *, const struct archive_rec *), void *ctx);
int sq_archive_count(struct store *s, int64_t list_id, int64_t *n);
int sq_archive_search(struct store *s, int64_t list_id, const char *query, int by_date,
		      int64_t offset, int64_t limit,
		      int (*cb)(void *, const struct archive_rec *, const char *), void *ctx,
		      int64_t *total, int *bad_query);
int sq_archive_parts(struct store *s, int64_t post_id,
		     int (*cb)(void *, const struct archive_part *), void *ctx);
int sq_archive_part_get(struct store *s, int64_t post_id, int n, struct archive_part *out);
int sq_archive_by_author(struct store *s, const uint8_t hash[HASH_LEN],
			 int (*cb)(void *, const struct archive_rec *), void *ctx);
int sq_archive_containing(struct store *s, const char *needle,
			  int (*cb)(void *, const struct archive_rec *), void *ctx);
int sq_archive_update(struct store *s, const struct archive_rec *r);
int sq_archive_parts_delete(struct store *s, int64_t post_id);
int sq_archive_delete(struct store *s, int64_t id);
int sq_archive_compact(struct store *s);
/* The index rows of a list's posts, deleted before the list (and so its
 * posts) is. */
int sq_archive_unindex_list(struct store *s, int64_t list_id);

#endif
