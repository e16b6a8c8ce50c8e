/*
 * store.c - the store interface: backend choice, dispatch, shared helpers.
 *
 * TRUST: no outside input; records come from the layers above or from the
 * backend.
 */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "store/store_impl.h"

struct store *store_open(const struct conf *c, int migrate, struct buf *err)
{
	const char *backend = conf_get(c, "store", "backend");
	if (strcmp(backend, "sqlite") == 0)
		return store_sqlite_open(c, migrate, err);
	if (strcmp(backend, "postgresql") == 0)
		return store_pg_open(c, migrate, err);
	buf_printf(err, "[store] backend = %s is not supported (sqlite or postgresql)", backend);
	return NULL;
}

struct store *store_spool_open(const struct conf *c, struct buf *err)
{
	const char *backend = conf_get(c, "store", "backend");
	if (strcmp(backend, "sqlite") == 0)
		return store_sqlite_spool_open(c, err);
	if (strcmp(backend, "postgresql") == 0)
		return store_pg_spool_open(c, err);
	buf_printf(err, "[store] backend = %s is not supported (sqlite or postgresql)", backend);
	return NULL;
}

int store_version_gate(int64_t v, int newest, int allowed, struct buf *err)
{
	if (v > newest) {
		buf_printf(err,
			   "database schema version %lld is newer than this listkeeper (%d); "
			   "upgrade listkeeper",
			   (long long)v, newest);
		return -1;
	}
	if (v == newest)
		return 0;
	if (!allowed) {
		buf_printf(err,
			   "database schema version %lld is older than this listkeeper (%d); "
			   "run `listkeeper init` (it migrates) or start `listkeeper serve`",
			   (long long)v, newest);
		return -1;
	}
	return 1;
}

void list_rec_free(struct list_rec *l)
{
	char **f[] = {&l->name,	  &l->domain,	      &l->title, &l->description,
		      &l->footer, &l->postal_address, &l->owners};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		free(*f[i]);
		*f[i] = NULL;
	}
}

void subscriber_rec_free(struct subscriber_rec *s)
{
	if (s->data != NULL) {
		explicit_bzero(s->data, s->data_len);
		free(s->data);
	}
	s->data = NULL;
	s->data_len = 0;
	explicit_bzero(s->wrapped_key, sizeof(s->wrapped_key));
}

static void hash_z(struct chain_hash *h, const char *z)
{
	chain_hash_bytes(h, z != NULL ? z : "", z != NULL ? strlen(z) : 0);
}

void ledger_rec_hash(const struct ledger_rec *r, const uint8_t key[KEYS_LEN], uint8_t out[HASH_LEN])
{
	struct chain_hash h;
	chain_hash_init(&h);
	chain_hash_bytes(&h, "listkeeper-ledger-v1", 20);
	chain_hash_bytes(&h, key, KEYS_LEN);
	chain_hash_bytes(&h, r->prev_hash, HASH_LEN);
	chain_hash_u64(&h, (uint64_t)r->id);
	chain_hash_u64(&h, (uint64_t)r->list_id);
	chain_hash_u64(&h, (uint64_t)r->subscriber_id);
	hash_z(&h, r->action);
	chain_hash_u64(&h, (uint64_t)r->time);
	hash_z(&h, r->source);
	hash_z(&h, r->policy_version);
	chain_hash_bytes(&h, r->details != NULL ? r->details : (const uint8_t *)"", r->details_len);
	chain_hash_final(&h, out);
	explicit_bzero(&h, sizeof(h));
}

/* --- dispatch ------------------------------------------------------------ */

/* An operation a backend does not have yet (its slot in store_ops is NULL):
 * STORE_ERR with a message that names it, never a crash. */
static int unsupported(struct store *s, const char *op)
{
	char msg[160];
	bsnprintf(msg, sizeof(msg), "%s: not supported by the %s store yet", op, s->ops->name);
	s->ops->set_error(s, msg);
	return STORE_ERR;
}

#define NEED_OP(s, op)                                                                             \
	do {                                                                                       \
		if ((s)->ops->op == NULL)                                                          \
			return unsupported((s), #op);                                              \
	} while (0)

void store_close(struct store *s)
{
	if (s != NULL)
		s->ops->close(s);
}
const char *store_errmsg(const struct store *s)
{
	return s->ops->errmsg(s);
}
int store_schema_version(struct store *s, int64_t *v)
{
	NEED_OP(s, schema_version);
	return s->ops->schema_version(s, v);
}
int store_scrub(struct store *s)
{
	NEED_OP(s, scrub);
	return s->ops->scrub(s);
}
int store_checkpoint(struct store *s)
{
	NEED_OP(s, checkpoint);
	return s->ops->checkpoint(s);
}
int store_set_durable(struct store *s, int on)
{
	NEED_OP(s, set_durable);
	return s->ops->set_durable(s, on);
}
int store_sync(struct store *s)
{
	NEED_OP(s, sync);
	return s->ops->sync(s);
}
int store_write_check(struct store *s)
{
	NEED_OP(s, write_check);
	return s->ops->write_check(s);
}
int store_set_batch(struct store *s, int on)
{
	NEED_OP(s, set_batch);
	return s->ops->set_batch(s, on);
}
int store_begin(struct store *s)
{
	NEED_OP(s, begin);
	return s->ops->begin(s);
}
int store_commit(struct store *s)
{
	NEED_OP(s, commit);
	return s->ops->commit(s);
}
void store_rollback(struct store *s)
{
	s->ops->rollback(s);
}
int store_list_insert(struct store *s, struct list_rec *l)
{
	NEED_OP(s, list_insert);
	return s->ops->list_insert(s, l);
}
int store_list_update(struct store *s, const struct list_rec *l)
{
	NEED_OP(s, list_update);
	return s->ops->list_update(s, l);
}
int store_list_delete(struct store *s, int64_t id)
{
	NEED_OP(s, list_delete);
	return s->ops->list_delete(s, id);
}
int store_list_get(struct store *s, const char *name, struct list_rec *out)
{
	NEED_OP(s, list_get);
	return s->ops->list_get(s, name, 0, out);
}
int store_list_get_id(struct store *s, int64_t id, struct list_rec *out)
{
	NEED_OP(s, list_get);
	return s->ops->list_get(s, NULL, id, out);
}
int store_list_each(struct store *s, int (*cb)(void *, const struct list_rec *), void *ctx)
{
	NEED_OP(s, list_each);
	return s->ops->list_each(s, cb, ctx);
}
int store_subscriber_insert(struct store *s, struct subscriber_rec *r)
{
	NEED_OP(s, subscriber_insert);
	return s->ops->subscriber_insert(s, r);
}
int store_subscriber_update(struct store *s, const struct subscriber_rec *r)
{
	NEED_OP(s, subscriber_update);
	return s->ops->subscriber_update(s, r);
}
int store_subscriber_delete(struct store *s, int64_t id)
{
	NEED_OP(s, subscriber_delete);
	return s->ops->subscriber_delete(s, id);
}
int store_subscriber_get(struct store *s, int64_t id, struct subscriber_rec *out)
{
	NEED_OP(s, subscriber_get);
	return s->ops->subscriber_get(s, id, NULL, out);
}
int store_subscriber_find(struct store *s, const uint8_t hash[HASH_LEN], struct subscriber_rec *out)
{
	NEED_OP(s, subscriber_get);
	return s->ops->subscriber_get(s, 0, hash, out);
}
int store_subscription_put(struct store *s, const struct subscription_rec *r)
{
	NEED_OP(s, subscription_put);
	return s->ops->subscription_put(s, r);
}
int store_subscription_get(struct store *s, int64_t list_id, int64_t sub_id,
			   struct subscription_rec *out)
{
	NEED_OP(s, subscription_get);
	return s->ops->subscription_get(s, list_id, sub_id, out);
}
int store_subscription_delete(struct store *s, int64_t list_id, int64_t sub_id)
{
	NEED_OP(s, subscription_delete);
	return s->ops->subscription_delete(s, list_id, sub_id);
}
int store_subscription_count(struct store *s, int64_t sub_id, int64_t *n)
{
	NEED_OP(s, subscription_count);
	return s->ops->subscription_count(s, sub_id, n);
}
int store_subscriptions_of(struct store *s, int64_t sub_id,
			   int (*cb)(void *, const struct subscription_rec *), void *ctx)
{
	NEED_OP(s, subscriptions_of);
	return s->ops->subscriptions_of(s, sub_id, cb, ctx);
}
int store_list_counts(struct store *s, int64_t list_id, int64_t counts[4])
{
	NEED_OP(s, list_counts);
	return s->ops->list_counts(s, list_id, counts);
}
int store_members_page(struct store *s, int64_t list_id, int state, int64_t after, int limit,
		       store_member_cb cb, void *ctx)
{
	NEED_OP(s, members_page);
	return s->ops->members_page(s, list_id, state, 0, after, limit, cb, ctx);
}
int store_recipients_page(struct store *s, int64_t list_id, int64_t after, int limit,
			  store_member_cb cb, void *ctx)
{
	NEED_OP(s, members_page);
	return s->ops->members_page(s, list_id, SUB_STATE_ACTIVE, 1, after, limit, cb, ctx);
}
int store_ledger_append(struct store *s, struct ledger_rec *r, const uint8_t key[KEYS_LEN])
{
	NEED_OP(s, ledger_append);
	return s->ops->ledger_append(s, r, key);
}
int store_ledger_each(struct store *s, int64_t sub_id, int (*cb)(void *, const struct ledger_rec *),
		      void *ctx)
{
	NEED_OP(s, ledger_each);
	return s->ops->ledger_each(s, sub_id, cb, ctx);
}
int store_ledger_head(struct store *s, int64_t *id, uint8_t hash[HASH_LEN])
{
	NEED_OP(s, ledger_head);
	return s->ops->ledger_head(s, id, hash);
}
int store_suppression_add(struct store *s, const uint8_t hash[HASH_LEN], int64_t list_id,
			  const char *reason, int64_t time)
{
	NEED_OP(s, suppression_add);
	return s->ops->suppression_add(s, hash, list_id, reason, time);
}
int store_suppression_check(struct store *s, const uint8_t hash[HASH_LEN], int64_t list_id)
{
	NEED_OP(s, suppression_check);
	return s->ops->suppression_check(s, hash, list_id);
}
int store_suppression_remove(struct store *s, const uint8_t hash[HASH_LEN], int64_t list_id)
{
	NEED_OP(s, suppression_remove);
	return s->ops->suppression_remove(s, hash, list_id);
}
int store_suppression_count(struct store *s, int64_t list_id, int64_t *n)
{
	NEED_OP(s, suppression_count);
	return s->ops->suppression_count(s, list_id, n);
}
int store_confirm_limit_hit(struct store *s, const uint8_t hash[HASH_LEN], int64_t now,
			    int64_t window, int64_t max, int *allowed)
{
	NEED_OP(s, confirm_limit_hit);
	return s->ops->confirm_limit_hit(s, hash, now, window, max, allowed);
}

int store_confirm_limit_prune(struct store *s, int64_t before)
{
	NEED_OP(s, confirm_limit_prune);
	return s->ops->confirm_limit_prune(s, before);
}

void spool_rec_free(struct spool_rec *r)
{
	if (r->data != NULL) {
		explicit_bzero(r->data, r->data_len);
		free(r->data);
	}
	r->data = NULL;
	r->data_len = 0;
	explicit_bzero(r->wrapped_key, sizeof(r->wrapped_key));
}
int store_spool_insert(struct store *s, struct spool_rec *r)
{
	NEED_OP(s, spool_insert);
	return s->ops->spool_insert(s, r);
}
void held_rec_free(struct held_rec *r)
{
	if (r->data != NULL) {
		explicit_bzero(r->data, r->data_len);
		free(r->data);
	}
	free(r->reason);
	free(r->detail);
	memset(r, 0, sizeof(*r));
}
int store_held_insert(struct store *s, struct held_rec *r)
{
	NEED_OP(s, held_insert);
	return s->ops->held_insert(s, r);
}
int store_held_get(struct store *s, int64_t id, struct held_rec *out)
{
	NEED_OP(s, held_get);
	return s->ops->held_get(s, id, out);
}
int store_held_each(struct store *s, int64_t list_id,
		    int (*cb)(void *ctx, const struct held_rec *r), void *ctx)
{
	NEED_OP(s, held_each);
	return s->ops->held_each(s, list_id, cb, ctx);
}
int store_held_delete(struct store *s, int64_t id)
{
	NEED_OP(s, held_delete);
	return s->ops->held_delete(s, id);
}
int store_held_expire(struct store *s, int64_t now, int64_t *n)
{
	NEED_OP(s, held_expire);
	return s->ops->held_expire(s, now, n);
}
int store_held_delete_sender(struct store *s, const uint8_t hash[HASH_LEN], int64_t *n)
{
	NEED_OP(s, held_delete_sender);
	return s->ops->held_delete_sender(s, hash, n);
}
int store_spool_get(struct store *s, int64_t id, struct spool_rec *out)
{
	NEED_OP(s, spool_get);
	return s->ops->spool_get(s, id, out);
}
int store_spool_each(struct store *s, int quarantined, int64_t after, int64_t due, int limit,
		     int (*cb)(void *ctx, const struct spool_rec *r), void *ctx)
{
	NEED_OP(s, spool_each);
	return s->ops->spool_each(s, quarantined, after, due, limit, cb, ctx);
}
int store_spool_set(struct store *s, int64_t id, int attempts, int64_t quarantined, int64_t updated)
{
	NEED_OP(s, spool_set);
	return s->ops->spool_set(s, id, attempts, quarantined, updated);
}
int store_spool_delete(struct store *s, int64_t id)
{
	NEED_OP(s, spool_delete);
	return s->ops->spool_delete(s, id);
}
int store_spool_claim(struct store *s, int64_t id, const uint8_t tag[STORE_SPOOL_TAG_LEN])
{
	NEED_OP(s, spool_claim);
	return s->ops->spool_claim(s, id, tag);
}
int store_spool_unclaim(struct store *s, int64_t id)
{
	NEED_OP(s, spool_unclaim);
	return s->ops->spool_unclaim(s, id);
}
int store_spool_marks(struct store *s, int64_t after, int limit,
		      int (*cb)(void *ctx, int64_t id, const uint8_t tag[STORE_SPOOL_TAG_LEN]),
		      void *ctx)
{
	NEED_OP(s, spool_marks);
	return s->ops->spool_marks(s, after, limit, cb, ctx);
}
int store_spool_unclaim_tag(struct store *s, int64_t id, const uint8_t tag[STORE_SPOOL_TAG_LEN])
{
	NEED_OP(s, spool_unclaim_tag);
	return s->ops->spool_unclaim_tag(s, id, tag);
}
int store_ledger_counts(struct store *s, int64_t list_id, int64_t from, int64_t to,
			int (*cb)(void *ctx, const char *action, const char *source, int64_t n),
			void *ctx)
{
	NEED_OP(s, ledger_counts);
	return s->ops->ledger_counts(s, list_id, from, to, cb, ctx);
}

int store_reply_limit_hit(struct store *s, const uint8_t hash[HASH_LEN], int64_t now,
			  int64_t window, int64_t max, int *allowed)
{
	NEED_OP(s, reply_limit_hit);
	return s->ops->reply_limit_hit(s, hash, now, window, max, allowed);
}

int store_reply_limit_prune(struct store *s, int64_t before)
{
	NEED_OP(s, reply_limit_prune);
	return s->ops->reply_limit_prune(s, before);
}

int store_stats_add(struct store *s, const struct stat_rec *r)
{
	NEED_OP(s, stats_add);
	return s->ops->stats_add(s, r);
}

int store_stats_get(struct store *s, int64_t day, int64_t list_id, const char *counter,
		    const char *key, int64_t *value)
{
	NEED_OP(s, stats_get);
	return s->ops->stats_get(s, day, list_id, counter, key, value);
}

int store_stats_each(struct store *s, int64_t from_day, int64_t to_day, int64_t list_id,
		     int (*cb)(void *ctx, const struct stat_rec *r), void *ctx)
{
	NEED_OP(s, stats_each);
	return s->ops->stats_each(s, from_day, to_day, list_id, cb, ctx);
}

int store_stats_total(struct store *s, const char *counter, int64_t *value)
{
	NEED_OP(s, stats_total);
	return s->ops->stats_total(s, counter, value);
}

int store_audit(struct store *s, int64_t time, const char *actor, const char *action,
		int64_t list_id, int64_t sub_id, const char *detail)
{
	NEED_OP(s, audit);
	return s->ops->audit(s, time, actor, action, list_id, sub_id, detail);
}

void job_rec_free(struct job_rec *j)
{
	char **f[] = {&j->subject, &j->body_text, &j->body_html, &j->pause_reason, &j->lease_owner};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		free(*f[i]);
		*f[i] = NULL;
	}
	if (j->rcpt_sealed != NULL)
		xfree_wipe(j->rcpt_sealed, j->rcpt_sealed_len);
	j->rcpt_sealed = NULL;
	j->rcpt_sealed_len = 0;
}
int store_job_insert(struct store *s, struct job_rec *j)
{
	NEED_OP(s, job_insert);
	return s->ops->job_insert(s, j);
}
int store_job_update(struct store *s, const struct job_rec *j)
{
	NEED_OP(s, job_update);
	return s->ops->job_update(s, j);
}
int store_job_get(struct store *s, int64_t id, struct job_rec *out)
{
	NEED_OP(s, job_get);
	return s->ops->job_get(s, id, out);
}
int store_job_each(struct store *s, int (*cb)(void *, const struct job_rec *), void *ctx)
{
	NEED_OP(s, job_each);
	return s->ops->job_each(s, cb, ctx);
}
int store_job_next(struct store *s, int64_t now, struct job_rec *out)
{
	NEED_OP(s, job_next);
	return s->ops->job_next(s, now, out);
}
int store_retry_put(struct store *s, const struct retry_rec *r)
{
	NEED_OP(s, retry_put);
	return s->ops->retry_put(s, r);
}
int store_retry_delete(struct store *s, int64_t job_id, int64_t sub_id)
{
	NEED_OP(s, retry_delete);
	return s->ops->retry_delete(s, job_id, sub_id);
}
int store_retry_due(struct store *s, int64_t job_id, int64_t now, int limit,
		    int (*cb)(void *, const struct retry_rec *), void *ctx)
{
	NEED_OP(s, retry_due);
	return s->ops->retry_due(s, job_id, now, limit, cb, ctx);
}
int store_retry_count(struct store *s, int64_t job_id, int64_t *n, int64_t *next_at)
{
	NEED_OP(s, retry_count);
	return s->ops->retry_count(s, job_id, n, next_at);
}

int store_job_failure_add(struct store *s, int64_t job_id, const char *reason, int64_t n)
{
	NEED_OP(s, job_failure_add);
	return s->ops->job_failure_add(s, job_id, reason, n);
}

int store_job_failures_each(struct store *s, int64_t job_id,
			    int (*cb)(void *, const char *, int64_t), void *ctx)
{
	NEED_OP(s, job_failures_each);
	return s->ops->job_failures_each(s, job_id, cb, ctx);
}

/* --- staff (a backend without them answers STORE_ERR) ------------------- */
void staff_rec_free(struct staff_rec *r)
{
	free(r->name);
	if (r->pw_hash != NULL) {
		explicit_bzero(r->pw_hash, strlen(r->pw_hash));
		free(r->pw_hash);
	}
	memset(r, 0, sizeof(*r));
}
#define STAFF_OP(op, ...) (s->ops->op != NULL ? s->ops->op(s, __VA_ARGS__) : unsupported(s, #op))
int store_staff_insert(struct store *s, struct staff_rec *r)
{
	return STAFF_OP(staff_insert, r);
}
int store_staff_set_password(struct store *s, int64_t id, const char *pw_hash)
{
	return STAFF_OP(staff_set_password, id, pw_hash);
}
int store_staff_delete(struct store *s, int64_t id)
{
	return STAFF_OP(staff_delete, id);
}
int store_staff_get(struct store *s, const char *name, int64_t id, struct staff_rec *out)
{
	memset(out, 0, sizeof(*out));
	return STAFF_OP(staff_get, name, id, out);
}
int store_staff_each(struct store *s, int (*cb)(void *, const struct staff_rec *), void *ctx)
{
	return STAFF_OP(staff_each, cb, ctx);
}
int store_grant_put(struct store *s, const struct staff_grant *g)
{
	return STAFF_OP(grant_put, g);
}
int store_grant_delete(struct store *s, const struct staff_grant *g)
{
	return STAFF_OP(grant_delete, g);
}
int store_grants_of(struct store *s, int64_t staff_id,
		    int (*cb)(void *, const struct staff_grant *), void *ctx)
{
	return STAFF_OP(grants_of, staff_id, cb, ctx);
}
int store_session_put(struct store *s, const struct session_rec *r)
{
	return STAFF_OP(session_put, r);
}
int store_session_get(struct store *s, const uint8_t hash[HASH_LEN], struct session_rec *out)
{
	memset(out, 0, sizeof(*out));
	return STAFF_OP(session_get, hash, out);
}
int store_session_seen(struct store *s, const uint8_t hash[HASH_LEN], int64_t seen)
{
	return STAFF_OP(session_seen, hash, seen);
}
int store_session_delete(struct store *s, const uint8_t hash[HASH_LEN])
{
	return STAFF_OP(session_delete, hash);
}
int store_session_delete_staff(struct store *s, int64_t staff_id, int64_t *n)
{
	*n = 0;
	return STAFF_OP(session_delete_staff, staff_id, n);
}
int store_session_prune(struct store *s, int64_t idle_before, int64_t created_before)
{
	return STAFF_OP(session_prune, idle_before, created_before);
}
int store_apitoken_put(struct store *s, struct apitoken_rec *r)
{
	return STAFF_OP(apitoken_put, r);
}
int store_apitoken_get(struct store *s, const uint8_t hash[HASH_LEN], struct apitoken_rec *out)
{
	memset(out, 0, sizeof(*out));
	return STAFF_OP(apitoken_get, hash, out);
}
int store_audit_each(struct store *s, int64_t before, int limit,
		     int (*cb)(void *, const struct audit_rec *), void *ctx)
{
	return STAFF_OP(audit_each, before, limit, cb, ctx);
}
int store_audit_prune(struct store *s, int64_t time, int64_t *n)
{
	*n = 0;
	return STAFF_OP(audit_prune, time, n);
}

/* --- archive ------------------------------------------------------------- */

void archive_rec_free(struct archive_rec *r)
{
	char **f[] = {&r->message_id, &r->subject,     &r->thread_key,
		      &r->author,     &r->author_addr, &r->body};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		free(*f[i]);
		*f[i] = NULL;
	}
	free(r->raw);
	r->raw = NULL;
	r->raw_len = 0;
}

void archive_part_free(struct archive_part *p)
{
	free(p->filename);
	free(p->ctype);
	free(p->data);
	p->filename = p->ctype = NULL;
	p->data = NULL;
	p->len = 0;
}

/* A backend without an archive yet (its ops NULL) answers STORE_ERR, as
 * for staff (STAFF_OP). */

int store_archive_insert(struct store *s, struct archive_rec *r,
			 const char (*parents)[STORE_ARCHIVE_HASH_LEN + 1], size_t n)
{
	return STAFF_OP(archive_insert, r, parents, n);
}
int store_archive_part_add(struct store *s, const struct archive_part *p)
{
	return STAFF_OP(archive_part_add, p);
}
int store_archive_get(struct store *s, int64_t list_id, const char *hash, int with_raw,
		      struct archive_rec *out)
{
	return STAFF_OP(archive_get, list_id, hash, with_raw, out);
}
int store_archive_months(struct store *s, int64_t list_id,
			 int (*cb)(void *ctx, const char *month, int64_t n), void *ctx)
{
	return STAFF_OP(archive_months, list_id, cb, ctx);
}
int store_archive_each(struct store *s, const struct archive_query *aq,
		       int (*cb)(void *ctx, const struct archive_rec *r), void *ctx)
{
	return STAFF_OP(archive_each, aq, cb, ctx);
}
int store_archive_count(struct store *s, int64_t list_id, int64_t *n)
{
	return STAFF_OP(archive_count, list_id, n);
}
int store_archive_search(struct store *s, int64_t list_id, const char *query, int by_date,
			 int64_t offset, int64_t limit,
			 int (*cb)(void *ctx, const struct archive_rec *r, const char *snippet),
			 void *ctx, int64_t *total, int *bad_query)
{
	*bad_query = 0;
	if (total != NULL)
		*total = 0;
	return STAFF_OP(archive_search, list_id, query, by_date, offset, limit, cb, ctx, total,
			bad_query);
}
int store_archive_parts(struct store *s, int64_t post_id,
			int (*cb)(void *ctx, const struct archive_part *p), void *ctx)
{
	return STAFF_OP(archive_parts, post_id, cb, ctx);
}
int store_archive_part_get(struct store *s, int64_t post_id, int n, struct archive_part *out)
{
	return STAFF_OP(archive_part_get, post_id, n, out);
}
int store_archive_by_author(struct store *s, const uint8_t hash[HASH_LEN],
			    int (*cb)(void *ctx, const struct archive_rec *r), void *ctx)
{
	return STAFF_OP(archive_by_author, hash, cb, ctx);
}
int store_archive_containing(struct store *s, const char *needle,
			     int (*cb)(void *ctx, const struct archive_rec *r), void *ctx)
{
	return STAFF_OP(archive_containing, needle, cb, ctx);
}
int store_archive_update(struct store *s, const struct archive_rec *r)
{
	return STAFF_OP(archive_update, r);
}
int store_archive_parts_delete(struct store *s, int64_t post_id)
{
	return STAFF_OP(archive_parts_delete, post_id);
}
int store_archive_delete(struct store *s, int64_t id)
{
	return STAFF_OP(archive_delete, id);
}
int store_archive_compact(struct store *s)
{
	NEED_OP(s, archive_compact);
	return s->ops->archive_compact(s);
}
