/*
 * store_impl.h - what a store implementation provides (internal to store/).
 *
 * An implementation defines a `struct store_ops` and a struct whose first
 * member is `struct store`; store.c dispatches through ops. Nothing outside
 * src/store includes this header.
 *
 * close, errmsg, set_error, begin, commit and rollback are required. Any
 * other slot may be NULL while a backend does not have that operation yet
 * (a new operation lands in one backend first): store.c then answers
 * STORE_ERR with "OP: not supported by the NAME store yet".
 */
#ifndef LK_STORE_STORE_IMPL_H
#define LK_STORE_STORE_IMPL_H

#include "store/store.h"

struct store_ops {
	const char *name;
	void (*close)(struct store *s);
	const char *(*errmsg)(const struct store *s);
	/* Sets the message store_errmsg returns (store.c's own errors). */
	void (*set_error)(struct store *s, const char *msg);
	int (*schema_version)(struct store *s, int64_t *v);
	int (*scrub)(struct store *s);
	int (*checkpoint)(struct store *s);
	int (*set_durable)(struct store *s, int on);
	int (*sync)(struct store *s);
	int (*write_check)(struct store *s);
	int (*set_batch)(struct store *s, int on);
	int (*begin)(struct store *s);
	int (*commit)(struct store *s);
	void (*rollback)(struct store *s);

	int (*list_insert)(struct store *s, struct list_rec *l);
	int (*list_update)(struct store *s, const struct list_rec *l);
	int (*list_delete)(struct store *s, int64_t id);
	int (*list_get)(struct store *s, const char *name, int64_t id, struct list_rec *out);
	int (*list_each)(struct store *s, int (*cb)(void *, const struct list_rec *), void *ctx);

	int (*subscriber_insert)(struct store *s, struct subscriber_rec *r);
	int (*subscriber_update)(struct store *s, const struct subscriber_rec *r);
	int (*subscriber_delete)(struct store *s, int64_t id);
	int (*subscriber_get)(struct store *s, int64_t id, const uint8_t *hash,
			      struct subscriber_rec *out);

	int (*subscription_put)(struct store *s, const struct subscription_rec *r);
	int (*subscription_get)(struct store *s, int64_t list_id, int64_t sub_id,
				struct subscription_rec *out);
	int (*subscription_delete)(struct store *s, int64_t list_id, int64_t sub_id);
	int (*subscription_count)(struct store *s, int64_t sub_id, int64_t *n);
	int (*subscriptions_of)(struct store *s, int64_t sub_id,
				int (*cb)(void *, const struct subscription_rec *), void *ctx);
	int (*list_counts)(struct store *s, int64_t list_id, int64_t counts[4]);
	int (*members_page)(struct store *s, int64_t list_id, int state, int recipients,
			    int64_t after, int limit, store_member_cb cb, void *ctx);

	int (*ledger_append)(struct store *s, struct ledger_rec *r, const uint8_t key[KEYS_LEN]);
	int (*ledger_each)(struct store *s, int64_t sub_id,
			   int (*cb)(void *, const struct ledger_rec *), void *ctx);
	int (*ledger_head)(struct store *s, int64_t *id, uint8_t hash[HASH_LEN]);

	int (*suppression_add)(struct store *s, const uint8_t hash[HASH_LEN], int64_t list_id,
			       const char *reason, int64_t time);
	int (*suppression_check)(struct store *s, const uint8_t hash[HASH_LEN], int64_t list_id);
	int (*suppression_remove)(struct store *s, const uint8_t hash[HASH_LEN], int64_t list_id);
	int (*suppression_count)(struct store *s, int64_t list_id, int64_t *n);

	int (*job_insert)(struct store *s, struct job_rec *j);
	int (*job_update)(struct store *s, const struct job_rec *j);
	int (*job_get)(struct store *s, int64_t id, struct job_rec *out);
	int (*job_each)(struct store *s, int (*cb)(void *, const struct job_rec *), void *ctx);
	int (*job_next)(struct store *s, int64_t now, struct job_rec *out);
	int (*retry_put)(struct store *s, const struct retry_rec *r);
	int (*retry_delete)(struct store *s, int64_t job_id, int64_t sub_id);
	int (*retry_due)(struct store *s, int64_t job_id, int64_t now, int limit,
			 int (*cb)(void *, const struct retry_rec *), void *ctx);
	int (*retry_count)(struct store *s, int64_t job_id, int64_t *n, int64_t *next_at);
	int (*job_failure_add)(struct store *s, int64_t job_id, const char *reason, int64_t n);
	int (*job_failures_each)(struct store *s, int64_t job_id,
				 int (*cb)(void *, const char *, int64_t), void *ctx);

	int (*confirm_limit_hit)(struct store *s, const uint8_t hash[HASH_LEN], int64_t now,
				 int64_t window, int64_t max, int *allowed);
	int (*confirm_limit_prune)(struct store *s, int64_t before);
	int (*reply_limit_hit)(struct store *s, const uint8_t hash[HASH_LEN], int64_t now,
			       int64_t window, int64_t max, int *allowed);
	int (*reply_limit_prune)(struct store *s, int64_t before);

	int (*spool_insert)(struct store *s, struct spool_rec *r);
	int (*spool_get)(struct store *s, int64_t id, struct spool_rec *out);
	int (*spool_each)(struct store *s, int quarantined, int64_t after, int64_t due, int limit,
			  int (*cb)(void *, const struct spool_rec *), void *ctx);
	int (*spool_set)(struct store *s, int64_t id, int attempts, int64_t quarantined,
			 int64_t updated);
	int (*spool_delete)(struct store *s, int64_t id);
	int (*spool_claim)(struct store *s, int64_t id, const uint8_t *tag);
	int (*spool_unclaim)(struct store *s, int64_t id);
	int (*spool_marks)(struct store *s, int64_t after, int limit,
			   int (*cb)(void *, int64_t, const uint8_t *), void *ctx);
	int (*spool_unclaim_tag)(struct store *s, int64_t id, const uint8_t *tag);
	int (*held_insert)(struct store *s, struct held_rec *r);
	int (*held_get)(struct store *s, int64_t id, struct held_rec *out);
	int (*held_each)(struct store *s, int64_t list_id,
			 int (*cb)(void *, const struct held_rec *), void *ctx);
	int (*held_delete)(struct store *s, int64_t id);
	int (*held_expire)(struct store *s, int64_t now, int64_t *n);
	int (*held_delete_sender)(struct store *s, const uint8_t hash[HASH_LEN], int64_t *n);
	int (*ledger_counts)(struct store *s, int64_t list_id, int64_t from, int64_t to,
			     int (*cb)(void *, const char *, const char *, int64_t), void *ctx);

	int (*stats_add)(struct store *s, const struct stat_rec *r);
	int (*stats_get)(struct store *s, int64_t day, int64_t list_id, const char *counter,
			 const char *key, int64_t *value);
	int (*stats_each)(struct store *s, int64_t from, int64_t to, int64_t list_id,
			  int (*cb)(void *, const struct stat_rec *), void *ctx);
	int (*stats_total)(struct store *s, const char *counter, int64_t *value);

	int (*archive_insert)(struct store *s, struct archive_rec *r,
			      const char (*parents)[STORE_ARCHIVE_HASH_LEN + 1], size_t n);
	int (*archive_part_add)(struct store *s, const struct archive_part *p);
	int (*archive_get)(struct store *s, int64_t list_id, const char *hash, int with_raw,
			   struct archive_rec *out);
	int (*archive_months)(struct store *s, int64_t list_id,
			      int (*cb)(void *, const char *, int64_t), void *ctx);
	int (*archive_each)(struct store *s, const struct archive_query *aq,
			    int (*cb)(void *, const struct archive_rec *), void *ctx);
	int (*archive_count)(struct store *s, int64_t list_id, int64_t *n);
	int (*archive_search)(struct store *s, int64_t list_id, const char *query, int by_date,
			      int64_t offset, int64_t limit,
			      int (*cb)(void *, const struct archive_rec *, const char *),
			      void *ctx, int64_t *total, int *bad_query);
	int (*archive_parts)(struct store *s, int64_t post_id,
			     int (*cb)(void *, const struct archive_part *), void *ctx);
	int (*archive_part_get)(struct store *s, int64_t post_id, int n, struct archive_part *out);
	int (*archive_by_author)(struct store *s, const uint8_t hash[HASH_LEN],
				 int (*cb)(void *, const struct archive_rec *), void *ctx);
	int (*archive_containing)(struct store *s, const char *needle,
				  int (*cb)(void *, const struct archive_rec *), void *ctx);
	int (*archive_update)(struct store *s, const struct archive_rec *r);
	int (*archive_parts_delete)(struct store *s, int64_t post_id);
	int (*archive_delete)(struct store *s, int64_t id);
	int (*archive_compact)(struct store *s);

	int (*audit)(struct store *s, int64_t time, const char *actor, const char *action,
		     int64_t list_id, int64_t sub_id, const char *detail);
	int (*staff_insert)(struct store *s, struct staff_rec *r);
	int (*staff_set_password)(struct store *s, int64_t id, const char *pw_hash);
	int (*staff_delete)(struct store *s, int64_t id);
	int (*staff_get)(struct store *s, const char *name, int64_t id, struct staff_rec *out);
	int (*staff_each)(struct store *s, int (*cb)(void *, const struct staff_rec *), void *ctx);
	int (*grant_put)(struct store *s, const struct staff_grant *g);
	int (*grant_delete)(struct store *s, const struct staff_grant *g);
	int (*grants_of)(struct store *s, int64_t staff_id,
			 int (*cb)(void *, const struct staff_grant *), void *ctx);
	int (*session_put)(struct store *s, const struct session_rec *r);
	int (*session_get)(struct store *s, const uint8_t hash[HASH_LEN], struct session_rec *out);
	int (*session_seen)(struct store *s, const uint8_t hash[HASH_LEN], int64_t seen);
	int (*session_delete)(struct store *s, const uint8_t hash[HASH_LEN]);
	int (*session_delete_staff)(struct store *s, int64_t staff_id, int64_t *n);
	int (*session_prune)(struct store *s, int64_t idle_before, int64_t created_before);
	int (*apitoken_put)(struct store *s, struct apitoken_rec *r);
	int (*apitoken_get)(struct store *s, const uint8_t hash[HASH_LEN],
			    struct apitoken_rec *out);
	int (*audit_each)(struct store *s, int64_t before, int limit,
			  int (*cb)(void *, const struct audit_rec *), void *ctx);
	int (*audit_prune)(struct store *s, int64_t time, int64_t *n);
};

struct store {
	const struct store_ops *ops;
};

/* A database at schema version v, this binary knowing `newest`: -1 with
 * the refusal in err (newer than we know; older and migrating not
 * allowed), 0 up to date, 1 to be migrated. */
int store_version_gate(int64_t v, int newest, int allowed, struct buf *err);

/* Implementations: each returns NULL with a message in err on failure. */
struct store *store_sqlite_open(const struct conf *c, int migrate, struct buf *err);
struct store *store_sqlite_spool_open(const struct conf *c, struct buf *err);
struct store *store_pg_open(const struct conf *c, int migrate, struct buf *err);
struct store *store_pg_spool_open(const struct conf *c, struct buf *err);

#endif
