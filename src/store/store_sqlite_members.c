/*
 * store_sqlite_members.c - lists, subscribers and subscriptions in the
 * SQLite store: the rows of the tables lists, subscribers and subscriptions,
 * a list's counts by state and its members page by page. The statements
 * are the cached ones of store_sqlite.c (enum stmt_id).
 *
 * TRUST: sees only records from the layers above (personal data already
 * sealed); everything goes through bound parameters, never into SQL text.
 */
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "store/store_sqlite_int.h"

/* --- lists ---------------------------------------------------------------- */

static void bind_list(sqlite3_stmt *st, const struct list_rec *l)
{
	sqlite_bind_text(st, 1, l->name);
	sqlite_bind_text(st, 2, l->domain);
	sqlite_bind_text(st, 3, l->title);
	sqlite_bind_text(st, 4, l->description);
	sqlite_bind_text(st, 5, list_kind_name(l->kind));
	sqlite_bind_text(st, 6, list_sub_policy_name(l->sub_policy));
	sqlite_bind_text(st, 7, list_post_policy_name(l->post_policy));
	sqlite_bind_text(st, 8, list_moderation_name(l->moderation));
	sqlite_bind_text(st, 9, list_archive_name(l->archive));
	sqlite3_bind_int(st, 10, l->digest);
	sqlite_bind_text(st, 11, l->footer);
	sqlite_bind_text(st, 12, l->postal_address);
	sqlite3_bind_int(st, 13, l->tracking);
	sqlite3_bind_int64(st, 14, l->created);
	sqlite_bind_text(st, 15, l->owners != NULL ? l->owners : "");
	sqlite_bind_text(st, 16, list_bounce_action_name(l->bounce_action));
	sqlite_bind_text(st, 17, list_archive_erase_name(l->archive_erase));
}

/* STORE_ERR when a kind or policy has a name this binary does not know. */
static int read_list(struct sqlite_store *q, sqlite3_stmt *st, struct list_rec *l)
{
	int bad = 0;
	l->id = sqlite3_column_int64(st, 0);
	l->name = sqlite_col_dup(st, 1);
	l->domain = sqlite_col_dup(st, 2);
	l->title = sqlite_col_dup(st, 3);
	l->description = sqlite_col_dup(st, 4);
	l->kind = (enum list_kind)sqlite_col_enum(st, 5, &list_kind_names, &bad);
	l->sub_policy = (enum list_sub_policy)sqlite_col_enum(st, 6, &list_sub_policy_names, &bad);
	l->post_policy =
	    (enum list_post_policy)sqlite_col_enum(st, 7, &list_post_policy_names, &bad);
	l->moderation = (enum list_moderation)sqlite_col_enum(st, 8, &list_moderation_names, &bad);
	l->archive = (enum list_archive)sqlite_col_enum(st, 9, &list_archive_names, &bad);
	l->digest = sqlite3_column_int(st, 10);
	l->footer = sqlite_col_dup(st, 11);
	l->postal_address = sqlite_col_dup(st, 12);
	l->tracking = sqlite3_column_int(st, 13);
	l->created = sqlite3_column_int64(st, 14);
	l->owners = sqlite_col_dup(st, 15);
	l->bounce_action =
	    (enum list_bounce_action)sqlite_col_enum(st, 16, &list_bounce_action_names, &bad);
	l->archive_erase =
	    (enum list_archive_erase)sqlite_col_enum(st, 17, &list_archive_erase_names, &bad);
	if (!bad)
		return STORE_OK;
	bsnprintf(q->err, sizeof(q->err), "list %lld: a kind or policy this version does not know",
		  (long long)l->id);
	return STORE_ERR;
}

int sq_list_insert(struct store *s, struct list_rec *l)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = sqlite_prep(q, Q_LIST_INSERT)) == NULL)
		return STORE_ERR;
	bind_list(st, l);
	int r = sqlite_run(q, st, "insert list");
	if (r == STORE_OK)
		l->id = sqlite3_last_insert_rowid(q->db);
	return r;
}

int sq_list_update(struct store *s, const struct list_rec *l)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = sqlite_prep(q, Q_LIST_UPDATE)) == NULL)
		return STORE_ERR;
	bind_list(st, l);
	sqlite3_bind_int64(st, 18, l->id);
	return sqlite_run(q, st, "update list");
}

static int delete_by_id(struct sqlite_store *q, enum stmt_id id, int64_t key, const char *what)
{
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = sqlite_prep(q, id)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, key);
	int r = sqlite_run(q, st, what);
	if (r == STORE_OK && sqlite3_changes(q->db) == 0)
		return STORE_NOTFOUND;
	return r;
}

int sq_list_delete(struct store *s, int64_t id)
{
	/* the archive's posts go with the list (ON DELETE CASCADE); their rows of
	 * the search index first, which no cascade reaches */
	int r = sqlite_need_txn(S(s)) ? STORE_ERR : sq_archive_unindex_list(s, id);
	if (r != STORE_OK)
		return r;
	return delete_by_id(S(s), Q_LIST_DELETE, id, "delete list");
}

int sq_list_get(struct store *s, const char *name, int64_t id, struct list_rec *out)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = sqlite_prep(q, name != NULL ? Q_LIST_BY_NAME : Q_LIST_BY_ID);
	if (st == NULL)
		return STORE_ERR;
	if (name != NULL)
		sqlite_bind_text(st, 1, name);
	else
		sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st), r = STORE_OK;
	if (rc == SQLITE_ROW) {
		r = read_list(q, st, out);
		if (r != STORE_OK)
			list_rec_free(out);
	} else if (rc == SQLITE_DONE)
		r = STORE_NOTFOUND;
	else
		r = sqlite_fail(q, "get list");
	sqlite3_reset(st);
	return r;
}

int sq_list_each(struct store *s, int (*cb)(void *, const struct list_rec *), void *ctx)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = sqlite_prep(q, Q_LIST_ALL);
	if (st == NULL)
		return STORE_ERR;
	int rc, r = STORE_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct list_rec l = {0};
		r = read_list(q, st, &l);
		int stop = r != STORE_OK || cb(ctx, &l);
		list_rec_free(&l);
		if (stop)
			break;
	}
	if (r == STORE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sqlite_fail(q, "list lists");
	sqlite3_reset(st);
	return r;
}

/* --- subscribers ---------------------------------------------------------- */

static void read_subscriber(sqlite3_stmt *st, int base, struct subscriber_rec *r)
{
	r->id = sqlite3_column_int64(st, base);
	sqlite_col_blob(st, base + 1, r->addr_hash, HASH_LEN);
	sqlite_col_blob(st, base + 2, r->wrapped_key, PII_WRAPPED_LEN);
	r->data_len = (size_t)sqlite3_column_bytes(st, base + 3);
	r->data = xmalloc(r->data_len ? r->data_len : 1);
	if (r->data_len)
		memcpy(r->data, sqlite3_column_blob(st, base + 3), r->data_len);
	r->html = sqlite3_column_int(st, base + 4);
	r->tracking = sqlite3_column_int(st, base + 5);
	r->created = sqlite3_column_int64(st, base + 6);
}

int sq_subscriber_insert(struct store *s, struct subscriber_rec *r)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = sqlite_prep(q, Q_SUBR_INSERT)) == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(st, 1, r->addr_hash, HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, r->wrapped_key, PII_WRAPPED_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, r->data, (int)r->data_len, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, r->html);
	sqlite3_bind_int(st, 5, r->tracking);
	sqlite3_bind_int64(st, 6, r->created);
	int rc = sqlite_run(q, st, "insert subscriber");
	if (rc == STORE_OK)
		r->id = sqlite3_last_insert_rowid(q->db);
	return rc;
}

int sq_subscriber_update(struct store *s, const struct subscriber_rec *r)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = sqlite_prep(q, Q_SUBR_UPDATE)) == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(st, 1, r->data, (int)r->data_len, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, r->html);
	sqlite3_bind_int(st, 3, r->tracking);
	sqlite3_bind_int64(st, 4, r->id);
	return sqlite_run(q, st, "update subscriber");
}

int sq_subscriber_delete(struct store *s, int64_t id)
{
	/* subscriptions go with it (ON DELETE CASCADE) */
	return delete_by_id(S(s), Q_SUBR_DELETE, id, "delete subscriber");
}

int sq_subscriber_get(struct store *s, int64_t id, const uint8_t *hash, struct subscriber_rec *out)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = sqlite_prep(q, hash != NULL ? Q_SUBR_BY_HASH : Q_SUBR_BY_ID);
	if (st == NULL)
		return STORE_ERR;
	if (hash != NULL)
		sqlite3_bind_blob(st, 1, hash, HASH_LEN, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st), r = STORE_OK;
	if (rc == SQLITE_ROW)
		read_subscriber(st, 0, out);
	else if (rc == SQLITE_DONE)
		r = STORE_NOTFOUND;
	else
		r = sqlite_fail(q, "get subscriber");
	sqlite3_reset(st);
	return r;
}

/* --- subscriptions -------------------------------------------------------- */

static void read_subscription(sqlite3_stmt *st, struct subscription_rec *r)
{
	r->list_id = sqlite3_column_int64(st, 0);
	r->subscriber_id = sqlite3_column_int64(st, 1);
	r->state = (enum sub_state)sqlite3_column_int(st, 2);
	r->digest = sqlite3_column_int(st, 3);
	r->nomail = sqlite3_column_int(st, 4);
	r->bounce_score = sqlite3_column_int64(st, 5);
	r->created = sqlite3_column_int64(st, 6);
	r->updated = sqlite3_column_int64(st, 7);
	r->bounce_at = sqlite3_column_int64(st, 8);
	r->soft_score = sqlite3_column_int64(st, 9);
}

static int subscription_write(struct sqlite_store *q, enum stmt_id id,
			      const struct subscription_rec *r)
{
	sqlite3_stmt *st = sqlite_prep(q, id);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, r->list_id);
	sqlite3_bind_int64(st, 2, r->subscriber_id);
	sqlite3_bind_int(st, 3, (int)r->state);
	sqlite3_bind_int(st, 4, r->digest);
	sqlite3_bind_int(st, 5, r->nomail);
	sqlite3_bind_int64(st, 6, r->bounce_score);
	sqlite3_bind_int64(st, 7, r->created);
	sqlite3_bind_int64(st, 8, r->updated);
	sqlite3_bind_int64(st, 9, r->bounce_at);
	sqlite3_bind_int64(st, 10, r->soft_score);
	return sqlite_run(q, st, "put subscription");
}

int sq_subscription_put(struct store *s, const struct subscription_rec *r)
{
	struct sqlite_store *q = S(s);
	if (sqlite_need_txn(q))
		return STORE_ERR;
	/* A taken key is found before anything is written: no statement journal. */
	int rc = subscription_write(q, Q_SUBN_PUT, r);
	if (rc == STORE_EXISTS)
		rc = subscription_write(q, Q_SUBN_UPDATE, r);
	return rc;
}

int sq_subscription_get(struct store *s, int64_t list_id, int64_t sub_id,
			struct subscription_rec *out)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = sqlite_prep(q, Q_SUBN_GET);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, list_id);
	sqlite3_bind_int64(st, 2, sub_id);
	int rc = sqlite3_step(st), r = STORE_OK;
	if (rc == SQLITE_ROW)
		read_subscription(st, out);
	else if (rc == SQLITE_DONE)
		r = STORE_NOTFOUND;
	else
		r = sqlite_fail(q, "get subscription");
	sqlite3_reset(st);
	return r;
}

int sq_subscription_delete(struct store *s, int64_t list_id, int64_t sub_id)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = sqlite_prep(q, Q_SUBN_DELETE)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, list_id);
	sqlite3_bind_int64(st, 2, sub_id);
	int r = sqlite_run(q, st, "delete subscription");
	if (r == STORE_OK && sqlite3_changes(q->db) == 0)
		return STORE_NOTFOUND;
	return r;
}

int sq_subscription_count(struct store *s, int64_t sub_id, int64_t *n)
{
	return sqlite_count(S(s), Q_SUBN_COUNT, sub_id, n);
}

int sq_subscriptions_of(struct store *s, int64_t sub_id,
			int (*cb)(void *, const struct subscription_rec *), void *ctx)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = sqlite_prep(q, Q_SUBN_OF);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, sub_id);
	int rc, r = STORE_OK;
	/* Collect first: the callback may change subscriptions of this subscriber. */
	struct subscription_rec *v = NULL;
	size_t n = 0, cap = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		read_subscription(st, &v[n++]);
	}
	if (rc != SQLITE_DONE)
		r = sqlite_fail(q, "subscriptions of");
	sqlite3_reset(st);
	for (size_t i = 0; r == STORE_OK && i < n; i++)
		if (cb(ctx, &v[i]))
			break;
	free(v);
	return r;
}

int sq_list_counts(struct store *s, int64_t list_id, int64_t counts[4])
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = sqlite_prep(q, Q_LIST_COUNTS);
	if (st == NULL)
		return STORE_ERR;
	memset(counts, 0, 4 * sizeof(counts[0]));
	sqlite3_bind_int64(st, 1, list_id);
	int r = STORE_OK;
	if (sqlite3_step(st) == SQLITE_ROW)
		for (int i = 0; i < 4; i++)
			counts[i] = sqlite3_column_int64(st, i);
	else
		r = sqlite_fail(q, "list counts");
	sqlite3_reset(st);
	return r;
}

int sq_members_page(struct store *s, int64_t list_id, int state, int recipients, int64_t after,
		    int limit, store_member_cb cb, void *ctx)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = sqlite_prep(q, recipients ? Q_RECIPIENTS : Q_MEMBERS);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, list_id);
	sqlite3_bind_int64(st, 2, after);
	if (recipients) {
		sqlite3_bind_int(st, 3, limit);
	} else {
		sqlite3_bind_int(st, 3, state);
		sqlite3_bind_int(st, 4, limit);
	}
	int rc, r = STORE_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct subscription_rec sub;
		struct subscriber_rec who = {0};
		read_subscription(st, &sub);
		read_subscriber(st, 10, &who);
		int stop = cb(ctx, &sub, &who);
		subscriber_rec_free(&who);
		if (stop)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sqlite_fail(q, "members");
	sqlite3_reset(st);
	return r;
}
