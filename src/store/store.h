/*
 * store.h - the store interface: every durable state of listkeeper.
 *
 * One interface, several implementations chosen by name (STYLE.md section 2,
 * OpenSMTPD queue backends): "sqlite" (store_sqlite.c) today, "postgresql"
 * next. Nothing above this layer sees SQL. Records carry only what the store
 * keeps: personal data arrives already sealed (crypto/pii.h) and addresses
 * only as keyed hashes (crypto/hash.h).
 *
 * Return values: STORE_OK (0), STORE_NOTFOUND (1), STORE_EXISTS (2) where a
 * unique key is taken, STORE_ERR (-1) with the reason in store_errmsg(),
 * STORE_BUSY (-2) when the database stayed locked past the busy timeout.
 *
 * Transactions: store_begin/commit/rollback nest. The outermost begin starts
 * a write transaction; inner ones are savepoints, so that one failed row of a
 * batch can be undone alone. Writes outside a transaction are refused.
 *
 * Ownership: record getters fill caller-owned structs whose pointer fields
 * the store allocates; free them with the matching *_rec_free. Callbacks
 * receive records that live only for the call.
 */
#ifndef LK_STORE_STORE_H
#define LK_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/conf.h"
#include "core/nametab.h"
#include "crypto/hash.h"
#include "crypto/pii.h"

enum {
	STORE_OK = 0,
	STORE_NOTFOUND = 1,
	STORE_EXISTS = 2,
	STORE_ERR = -1,
	STORE_BUSY = -2,
};

struct store;

/* --- kinds and states ------------------------------------------------ */

/* Every kind, state and policy of a record is an enum with one name table
 * (store/names.c, core/nametab.h): FOO_name gives the name ("?" for a value
 * out of range), FOO_parse takes one (0, or -1 and *out untouched). The
 * store writes the names; the migrations' CHECKs accept the same ones
 * (tests/lists/test_joblife.c inserts every name of every table). Nothing
 * else compares a kind or a state as text. */
enum list_kind { LIST_KIND_ANNOUNCE, LIST_KIND_DISCUSSION };
enum list_sub_policy { LIST_SUB_CONFIRM, LIST_SUB_OWNER, LIST_SUB_CLOSED };
enum list_post_policy { LIST_POST_OWNERS, LIST_POST_MEMBERS, LIST_POST_ANYONE };
enum list_moderation { LIST_MODERATION_NONE, LIST_MODERATION_NEW, LIST_MODERATION_ALL };
enum list_archive { LIST_ARCHIVE_PUBLIC, LIST_ARCHIVE_MEMBERS, LIST_ARCHIVE_NONE };
enum list_bounce_action { LIST_BOUNCE_DISABLE, LIST_BOUNCE_REMOVE };
/* What `person erase` does to a person's archived posts (lists/archive.h). */
enum list_archive_erase { LIST_ARCHIVE_ERASE_REDACT, LIST_ARCHIVE_ERASE_REMOVE };
enum sub_state { SUB_STATE_PENDING, SUB_STATE_ACTIVE, SUB_STATE_HELD, SUB_STATE_DISABLED };
/* A subscriber's preferred format (subscriber_rec.html: 0 text, 1 html). */
enum sub_format { SUB_FORMAT_TEXT, SUB_FORMAT_HTML };
/* campaign: to a list's recipients; confirm: the double opt-in request (or a
 * command's confirmation request, sealed); reply: the answer to a command;
 * request: the link to a person's data page; notice: welcome, goodbye,
 * not accepted (lists/jobs.h); distribution: a post to a discussion list, to
 * its recipients (the post sealed in rcpt_sealed). */
enum job_kind {
	JOB_KIND_CAMPAIGN,
	JOB_KIND_CONFIRM,
	JOB_KIND_REPLY,
	JOB_KIND_REQUEST,
	JOB_KIND_NOTICE,
	JOB_KIND_DISTRIBUTION
};
/* The transitions between them live in lists/joblife.h. */
enum job_state {
	JOB_STATE_SCHEDULED,
	JOB_STATE_RUNNING,
	JOB_STATE_PAUSED,
	JOB_STATE_DONE,
	JOB_STATE_CANCELLED
};

extern const struct nametab list_kind_names, list_sub_policy_names, list_post_policy_names,
    list_moderation_names, list_archive_names, list_bounce_action_names, list_archive_erase_names,
    sub_state_names, sub_format_names, job_kind_names, job_state_names;

const char *list_kind_name(enum list_kind v);
int list_kind_parse(const char *z, enum list_kind *out);
const char *list_sub_policy_name(enum list_sub_policy v);
int list_sub_policy_parse(const char *z, enum list_sub_policy *out);
const char *list_post_policy_name(enum list_post_policy v);
int list_post_policy_parse(const char *z, enum list_post_policy *out);
const char *list_moderation_name(enum list_moderation v);
int list_moderation_parse(const char *z, enum list_moderation *out);
const char *list_archive_name(enum list_archive v);
int list_archive_parse(const char *z, enum list_archive *out);
const char *list_bounce_action_name(enum list_bounce_action v);
int list_bounce_action_parse(const char *z, enum list_bounce_action *out);
const char *list_archive_erase_name(enum list_archive_erase v);
int list_archive_erase_parse(const char *z, enum list_archive_erase *out);
const char *sub_state_name(enum sub_state s);
int sub_state_parse(const char *z, enum sub_state *out);
const char *sub_format_name(enum sub_format v); /* "text", "html" */
int sub_format_parse(const char *z, enum sub_format *out);
const char *job_kind_name(enum job_kind v);
int job_kind_parse(const char *z, enum job_kind *out);
const char *job_state_name(enum job_state v);
int job_state_parse(const char *z, enum job_state *out);

/* --- records ----------------------------------------------------------- */

struct list_rec {
	int64_t id;
	char *name;
	char *domain;
	char *title;
	char *description;
	enum list_kind kind;
	enum list_sub_policy sub_policy;
	enum list_post_policy post_policy;
	enum list_moderation moderation;
	enum list_archive archive;
	int digest; /* digests offered */
	char *footer;
	char *postal_address;
	int tracking; /* open tracking allowed on this list */
	int64_t created;
	char *owners;			       /* "a@x,b@y": staff addresses, "" when none */
	enum list_bounce_action bounce_action; /* past the bounce threshold */
	enum list_archive_erase archive_erase; /* a person's posts on erasure */
};
void list_rec_free(struct list_rec *l);

struct subscriber_rec {
	int64_t id;
	uint8_t addr_hash[HASH_LEN];
	uint8_t wrapped_key[PII_WRAPPED_LEN];
	uint8_t *data; /* sealed personal data (address, name, country) */
	size_t data_len;
	int html;     /* format: 0 text, 1 html */
	int tracking; /* consented to open tracking */
	int64_t created;
};
void subscriber_rec_free(struct subscriber_rec *s);

struct subscription_rec {
	int64_t list_id;
	int64_t subscriber_id;
	enum sub_state state;
	int digest;
	int nomail;
	int64_t bounce_score;
	int64_t created;
	int64_t updated;
	int64_t bounce_at;  /* the score's reference time for its decay (0: none) */
	int64_t soft_score; /* full mailboxes, final 4xx: [bounce] soft_per_hard make one
			       point of bounce_score; decays with it (lists/bounces.h) */
};

struct ledger_rec {
	int64_t id;	 /* set by append */
	int64_t list_id; /* 0 when the event concerns no one list (erasure) */
	int64_t subscriber_id;
	const char *action; /* e.g. subscribe-request, confirm, import, unsubscribe, erase */
	int64_t time;
	const char *source; /* cli, import, web, email, api */
	const char *policy_version;
	const uint8_t *details; /* sealed with the subscriber's data key, or NULL */
	size_t details_len;
	uint8_t prev_hash[HASH_LEN]; /* set by append */
	uint8_t hash[HASH_LEN];	     /* set by append */
};

/* The chain hash of one ledger row: BLAKE2b over a domain-separation tag, the
 * chain key, and every field but hash itself, in a fixed order. Keyed, so that
 * someone with the database but without the key file cannot rewrite history
 * and recompute the chain. Used by append and by `ledger verify`. */
void ledger_rec_hash(const struct ledger_rec *r, const uint8_t key[KEYS_LEN],
		     uint8_t out[HASH_LEN]);

/* A delivery job: a campaign to a list, or a confirmation request. */
struct job_rec {
	int64_t id;
	int64_t list_id;
	enum job_kind kind;
	enum job_state state;
	int priority; /* higher first: confirmations jump the queue */
	char *subject;
	char *body_text;
	char *body_html;      /* NULL: text only */
	int64_t recipient_id; /* a single recipient (confirm), or 0: the list's recipients */
	int64_t not_before;   /* scheduled time */
	int64_t cursor;	      /* the last subscriber id done */
	int64_t sent, failed, total;
	char *pause_reason;  /* "" when not paused */
	int64_t resume_at;   /* a job paused by the engine resumes then; 0: by hand only */
	char *lease_owner;   /* the sender working a batch of it ("" when none) */
	int64_t lease_until; /* the lease ends then, even if its owner died */
	int64_t created, updated, finished;
	/* The one recipient of a job to someone who may not be a subscriber (a
	 * reply to a command), or the post a distribution sends: sealed by the
	 * lists layer (lists/jobs.h), or NULL.
	 * Written by insert only; the store deletes it when an update ends the
	 * job (done or cancelled). */
	uint8_t *rcpt_sealed;
	size_t rcpt_sealed_len;
};
void job_rec_free(struct job_rec *j);

/* A recipient deferred by a job (4xx, timeout, lost connection). */
struct retry_rec {
	int64_t job_id;
	int64_t subscriber_id;
	int attempts;
	int64_t first_at;
	int64_t next_at;
	const char *last_error;
};

/* --- opening ----------------------------------------------------------- */

/* Opens the store that [store] backend names. Runs pending migrations when
 * `migrate` is set; otherwise refuses a database whose schema is older or
 * newer than this binary (with a message that says what to run). */
struct store *store_open(const struct conf *c, int migrate, struct buf *err);
void store_close(struct store *s);
const char *store_errmsg(const struct store *s);
/* The schema version in the database. */
int store_schema_version(struct store *s, int64_t *version);
/* After erasures: make deleted bytes unrecoverable from side files (SQLite:
 * checkpoint and truncate the WAL; secure_delete is always on). Inside a
 * transaction it is done right after the outermost commit (and not at all
 * after a rollback). */
int store_scrub(struct store *s);
/* Copies what is committed into the database file without waiting for other
 * connections or holding up their writes (SQLite: a passive checkpoint), so
 * that a store_scrub that follows soon has little left to do while it holds
 * the writers back. It scrubs nothing by itself. Not inside a transaction. */
int store_checkpoint(struct store *s);
/* Intake answers 250 only for durable data: sync every commit when set. */
int store_set_durable(struct store *s, int on);
/* Makes the transactions committed so far durable at once (one sync), when
 * they were committed without store_set_durable: before a change elsewhere
 * (the spool) that must not outlive them in a power loss. Not inside a
 * transaction. */
int store_sync(struct store *s);
/* A write of its own, committed in its own transaction, that no reader
 * sees (SQLite: the meta row "write_check"): STORE_OK if the store takes
 * writes now; STORE_BUSY, or STORE_ERR with the cause (a full disk) in
 * store_errmsg, if not. For an answer that must come before the write it
 * promises (the web's subscribe, web/listpage.c). Not inside a
 * transaction. */
int store_write_check(struct store *s);
/* Batch mode, for bulk work such as an import: inner begin/commit cost
 * nothing (no savepoints). An inner rollback that comes after the inner part
 * wrote something cannot be undone alone: it dooms the whole transaction,
 * whose commit then fails (STORE_ERR) and must be rolled back. Inner
 * rollbacks with nothing written are free, as before. */
int store_set_batch(struct store *s, int on);

int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/* --- lists ------------------------------------------------------------- */
int store_list_insert(struct store *s, struct list_rec *l); /* sets l->id */
int store_list_update(struct store *s, const struct list_rec *l);
int store_list_delete(struct store *s, int64_t id);
int store_list_get(struct store *s, const char *name, struct list_rec *out);
int store_list_get_id(struct store *s, int64_t id, struct list_rec *out);
int store_list_each(struct store *s, int (*cb)(void *ctx, const struct list_rec *l), void *ctx);

/* --- subscribers ------------------------------------------------------- */
int store_subscriber_insert(struct store *s, struct subscriber_rec *r); /* sets r->id */
int store_subscriber_update(struct store *s, const struct subscriber_rec *r);
/* Deletes the subscriber row (and so its wrapped key) and every subscription. */
int store_subscriber_delete(struct store *s, int64_t id);
int store_subscriber_get(struct store *s, int64_t id, struct subscriber_rec *out);
int store_subscriber_find(struct store *s, const uint8_t hash[HASH_LEN],
			  struct subscriber_rec *out);

/* --- subscriptions ----------------------------------------------------- */
int store_subscription_put(struct store *s,
			   const struct subscription_rec *r); /* insert or replace */
int store_subscription_get(struct store *s, int64_t list_id, int64_t subscriber_id,
			   struct subscription_rec *out);
int store_subscription_delete(struct store *s, int64_t list_id, int64_t subscriber_id);
int store_subscription_count(struct store *s, int64_t subscriber_id, int64_t *n);
int store_subscriptions_of(struct store *s, int64_t subscriber_id,
			   int (*cb)(void *ctx, const struct subscription_rec *r), void *ctx);
/* Counts a list's subscriptions by state: counts[SUB_STATE_*]. */
int store_list_counts(struct store *s, int64_t list_id, int64_t counts[4]);

/* Members of a list in subscriber id order, after `after`, at most `limit`:
 * state < 0 means any state. The callback returns 0 to go on, non-zero to stop. */
typedef int (*store_member_cb)(void *ctx, const struct subscription_rec *sub,
			       const struct subscriber_rec *who);
int store_members_page(struct store *s, int64_t list_id, int state, int64_t after, int limit,
		       store_member_cb cb, void *ctx);
/* Recipients: active, not nomail, and not suppressed for this list or all
 * lists. The delivery cursor walks this in id order. */
int store_recipients_page(struct store *s, int64_t list_id, int64_t after, int limit,
			  store_member_cb cb, void *ctx);

/* --- consent ledger ---------------------------------------------------- */
/* Appends r, chaining it to the current head with ledger_rec_hash under key:
 * sets r->id, prev_hash, hash. */
int store_ledger_append(struct store *s, struct ledger_rec *r, const uint8_t key[KEYS_LEN]);
int store_ledger_each(struct store *s, int64_t subscriber_id /* 0 = all */,
		      int (*cb)(void *ctx, const struct ledger_rec *r), void *ctx);
/* The head recorded at the last commit: id 0 and a zero hash when empty. */
int store_ledger_head(struct store *s, int64_t *id, uint8_t hash[HASH_LEN]);

/* --- suppressions ------------------------------------------------------ */
/* list_id 0 = every list. */
int store_suppression_add(struct store *s, const uint8_t hash[HASH_LEN], int64_t list_id,
			  const char *reason, int64_t time);
/* STORE_OK if suppressed for list_id or for every list, STORE_NOTFOUND if not. */
int store_suppression_check(struct store *s, const uint8_t hash[HASH_LEN], int64_t list_id);
int store_suppression_remove(struct store *s, const uint8_t hash[HASH_LEN], int64_t list_id);
int store_suppression_count(struct store *s, int64_t list_id, int64_t *n);

/* --- jobs and retries ------------------------------------------------- */
int store_job_insert(struct store *s, struct job_rec *j); /* sets j->id */
/* Writes state, cursor, counters, pause fields, lease, updated, finished. */
int store_job_update(struct store *s, const struct job_rec *j);
int store_job_get(struct store *s, int64_t id, struct job_rec *out);
int store_job_each(struct store *s, int (*cb)(void *ctx, const struct job_rec *j), void *ctx);
/* The job to work on at `now`: scheduled or running with not_before <= now,
 * or paused by the engine with resume_at <= now, and not leased by a sender
 * (lease_until <= now); highest priority first, then oldest. STORE_NOTFOUND
 * when there is none. */
int store_job_next(struct store *s, int64_t now, struct job_rec *out);
int store_retry_put(struct store *s, const struct retry_rec *r); /* insert or replace */
int store_retry_delete(struct store *s, int64_t job_id, int64_t subscriber_id);
/* Retries of a job due at `now`, in next_at order, at most limit. */
int store_retry_due(struct store *s, int64_t job_id, int64_t now, int limit,
		    int (*cb)(void *ctx, const struct retry_rec *r), void *ctx);
/* How many retries a job has, and the earliest next_at (0 if none). */
int store_retry_count(struct store *s, int64_t job_id, int64_t *n, int64_t *next_at);
/* The job's failures that are not the recipient's (delivery/relay.h: a
 * local reason, or a connection that never came): n more for reason (a
 * name of the delivery layer's table), in the caller's transaction; and
 * each reason with its count, in name order. */
int store_job_failure_add(struct store *s, int64_t job_id, const char *reason, int64_t n);
int store_job_failures_each(struct store *s, int64_t job_id,
			    int (*cb)(void *ctx, const char *reason, int64_t n), void *ctx);

/* --- rate limits ----------------------------------------------------- */
/* Counts one confirmation mail for the address whose keyed hash is hash, at
 * most max per window seconds: a window starts with the first mail and lasts
 * window seconds. Sets *allowed to 1 and counts the mail when fewer than max
 * were counted in the window that holds now (a window that has ended starts
 * afresh at now); otherwise sets *allowed to 0 and changes nothing. Needs a
 * transaction, so that two requests at once cannot both pass. */
int store_confirm_limit_hit(struct store *s, const uint8_t hash[HASH_LEN], int64_t now,
			    int64_t window, int64_t max, int *allowed);
/* Deletes the rows whose window started before `before`. */
int store_confirm_limit_prune(struct store *s, int64_t before);
/* The same for the replies that intake sends to an address (table
 * reply_limits): at most max per window seconds, whatever the mail was. */
int store_reply_limit_hit(struct store *s, const uint8_t hash[HASH_LEN], int64_t now,
			  int64_t window, int64_t max, int *allowed);
int store_reply_limit_prune(struct store *s, int64_t before);

/* --- intake ---------------------------------------------------------- */
/* The intake spool is a store of its own (store_spool_open): a file next to
 * the database whose commits are synced (synchronous=FULL), so that syncing
 * accepted messages does not hold up the database. On a spool store only
 * the spool_* calls, begin/commit/rollback, scrub, errmsg and close work,
 * and set_durable: off, it also leaves checkpoints to the durable ones.
 * Rows an earlier version left in the database are moved there on open.
 * NULL with the reason in err. */
struct store *store_spool_open(const struct conf *c, struct buf *err);
/* One accepted message for one recipient, kept until it is handled: the
 * intake answers 250 only once the row is committed (a spool store).
 * data is sealed by the intake under a data key of its own, wrapped with the
 * master key (wrapped_key); deleting the row destroys it. */
struct spool_rec {
	int64_t id;
	int64_t received;
	uint8_t wrapped_key[PII_WRAPPED_LEN];
	uint8_t *data; /* sealed envelope recipient and message; NULL from spool_each */
	size_t data_len;
	int64_t size;	     /* the message's bytes, for listings */
	int attempts;	     /* handlings begun and not finished (crashes) */
	int64_t quarantined; /* when it was set aside, or 0: pending */
	int64_t updated;     /* pending: not to be handled before then */
};
void spool_rec_free(struct spool_rec *r);

/* --- the moderation queue: posts held for the moderators ----------------- */
/* A held post (table held): the sender's address and the message are sealed
 * together under a data key of the row's own (lists/held.h); the sender's
 * keyed hash finds a person's held posts for erasure. */
struct held_rec {
	int64_t id;
	int64_t list_id;
	int64_t created;
	int64_t expires; /* deleted with its data from then on */
	char *reason;	 /* the hold reason's name (intake/post.h); owned */
	char *detail;	 /* our words ("spam score 7.5"), never an address; owned */
	uint8_t sender_hash[HASH_LEN];
	uint8_t wrapped_key[PII_WRAPPED_LEN];
	uint8_t *data; /* sealed; NULL from store_held_each */
	size_t data_len;
	int64_t size; /* the message's bytes, for listings */
};
void held_rec_free(struct held_rec *r);
int store_held_insert(struct store *s, struct held_rec *r); /* sets r->id */
int store_held_get(struct store *s, int64_t id, struct held_rec *out);
/* A list's held posts in id order (data not read); list_id 0: every list's. */
int store_held_each(struct store *s, int64_t list_id,
		    int (*cb)(void *ctx, const struct held_rec *r), void *ctx);
int store_held_delete(struct store *s, int64_t id); /* STORE_NOTFOUND if none */
/* Deletes the posts whose expiry is at or before now; *n how many. */
int store_held_expire(struct store *s, int64_t now, int64_t *n);
/* Deletes every post of the sender with this keyed hash; *n how many. */
int store_held_delete_sender(struct store *s, const uint8_t hash[HASH_LEN], int64_t *n);
int store_spool_insert(struct store *s, struct spool_rec *r); /* sets r->id */
int store_spool_get(struct store *s, int64_t id, struct spool_rec *out);
/* Pending (quarantined = 0) or quarantined (1) rows after id `after` with
 * updated <= due, in id order, at most limit; data is not read. */
int store_spool_each(struct store *s, int quarantined, int64_t after, int64_t due, int limit,
		     int (*cb)(void *ctx, const struct spool_rec *r), void *ctx);
int store_spool_set(struct store *s, int64_t id, int attempts, int64_t quarantined,
		    int64_t updated);
int store_spool_delete(struct store *s, int64_t id);
/* Handled markers, in the database (not the spool store), written in the
 * transaction of a row's handling: claim marks spool row id (tag: the first
 * STORE_SPOOL_TAG_LEN bytes of its wrapped key) handled: STORE_OK when it
 * was not yet (a marker of another row with that id, from a spool file made
 * anew, is replaced), STORE_EXISTS when it was (by this process or
 * another: write transactions take turns, so one of two claims wins). unclaim forgets
 * the marker once the row's deletion from the spool is durable. */
#define STORE_SPOOL_TAG_LEN 8
int store_spool_claim(struct store *s, int64_t id, const uint8_t tag[STORE_SPOOL_TAG_LEN]);
int store_spool_unclaim(struct store *s, int64_t id);
/* The markers with spool_id > after, in id order, at most limit (the
 * sweep of markers whose row is gone: intake/spool.c); cb returns nonzero
 * to stop. unclaim_tag forgets the marker of id only while it still has
 * tag (a claim of the row now in the spool with that id, made meanwhile,
 * stays). */
int store_spool_marks(struct store *s, int64_t after, int limit,
		      int (*cb)(void *ctx, int64_t id, const uint8_t tag[STORE_SPOOL_TAG_LEN]),
		      void *ctx);
int store_spool_unclaim_tag(struct store *s, int64_t id, const uint8_t tag[STORE_SPOOL_TAG_LEN]);

/* The ledger events of a list with from <= time < to, counted by action and
 * source (the owners' daily summary). */
int store_ledger_counts(struct store *s, int64_t list_id, int64_t from, int64_t to,
			int (*cb)(void *ctx, const char *action, const char *source, int64_t n),
			void *ctx);

/* --- daily counters and aggregate statistics (P6) ------------------ */
/* One counter of one day: nothing per visit or per person. The web role's
 * statistics (view, browser, country, opens) and the intake's and owners'
 * counts (bounce-unparsable, intake-quarantined, summary-sent; key "") are
 * all kept this way. */
/* The intake's counters (key ""), written by intake and read by `listkeeper
 * stats`, the owners' summary and /metrics: one spelling for all. */
#define STORE_STAT_BOUNCE_UNPARSABLE "bounce-unparsable"
/* Bounces that are the sender's problem, not the subscriber's
 * (mail/bounce_class.h), read by intake or answered by the relay at send
 * time (delivery/engine.c): per list and day, key "" or the job's id. */
#define STORE_STAT_BOUNCE_SENDER_POLICY "bounce-sender-policy"
#define STORE_STAT_BOUNCE_REJECTED_CONTENT "bounce-rejected-content"
/* The two above by receiving domain: key "JOB/DOMAIN" ("0/DOMAIN" without a
 * job), DOMAIN a big provider's or "other" (lists/bounces.h,
 * lists_bounce_provider). */
#define STORE_STAT_BOUNCE_REFUSED_DOMAIN "bounce-refused-domain"
#define STORE_STAT_INTAKE_QUARANTINED "intake-quarantined"
struct stat_rec {
	int64_t day;	       /* days since the epoch, UTC */
	int64_t list_id;       /* 0: not about one list (the server as a whole) */
	const char *counter;   /* e.g. view, browser, country, opens, bounce-unparsable */
	const char *key;       /* e.g. a route pattern, a family, a country code, a job id; or "" */
	int64_t value;	       /* a count */
	const uint8_t *sketch; /* NULL, or a HyperLogLog sketch (core/hll.h) */
	size_t sketch_len;
};
/* Adds r->value to the row (day, list_id, counter, key), made if missing. A
 * sketch is merged into the row's by byte-wise maximum (the union of two
 * HyperLogLog sketches); a stored sketch of another length is replaced. Needs
 * a transaction. */
int store_stats_add(struct store *s, const struct stat_rec *r);
/* The value of one counter in *value: 0 when it has no row. */
int store_stats_get(struct store *s, int64_t day, int64_t list_id, const char *counter,
		    const char *key, int64_t *value);
/* The rows with from_day <= day <= to_day, of one list or of every list
 * (list_id < 0), ordered by day, list, counter and key. */
int store_stats_each(struct store *s, int64_t from_day, int64_t to_day, int64_t list_id,
		     int (*cb)(void *ctx, const struct stat_rec *r), void *ctx);
/* The sum of one counter over every day, list and key in *value (0 when it
 * has no row): a total that only grows, as the rows are never deleted. */
int store_stats_total(struct store *s, const char *counter, int64_t *value);

/* --- the archive of discussion lists (lists/archive.h) ------------------- */
/* A Message-ID-Hash: 32 characters of RFC 4648 base32 (SHA-1 of the
 * Message-ID without <>, as Mailman 3's), NUL-terminated. */
#define STORE_ARCHIVE_HASH_LEN 32
struct archive_rec {
	int64_t id;
	int64_t list_id;
	char hash[STORE_ARCHIVE_HASH_LEN + 1];
	char parent_hash[STORE_ARCHIVE_HASH_LEN + 1]; /* In-Reply-To's, or "" */
	int64_t parent_id;			      /* 0: none (a thread's first post) */
	int64_t thread_id;			      /* the thread's first post */
	int64_t date;				      /* seconds since the epoch */
	char month[8];				      /* "YYYY-MM", UTC */
	char *message_id;			      /* without <>; owned */
	char *subject;				      /* UTF-8, decoded; owned */
	char *thread_key;	       /* the subject without Re:/Fwd:/[tags], lower case; owned */
	char *author;		       /* display name, or ""; owned */
	char *author_addr;	       /* normalised address, or ""; owned */
	uint8_t author_hash[HASH_LEN]; /* keyed hash of the address's look-up form */
	char *body;		       /* the text shown and searched (UTF-8); owned */
	uint8_t *raw;		       /* the message as stored; NULL unless asked for; owned */
	size_t raw_len;
	int subject_reply; /* insert: the subject says it is a reply (Re:), so that it
			      may be threaded by subject */
};
void archive_rec_free(struct archive_rec *r);
/* One attachment of a post, decoded. */
struct archive_part {
	int64_t post_id;
	int n;
	char *filename; /* owned */
	char *ctype;	/* "type/subtype"; owned */
	uint8_t *data;	/* NULL from store_archive_parts; owned */
	size_t len;
};
void archive_part_free(struct archive_part *p);
/* Stores a post (a transaction is needed): STORE_EXISTS when the list has a
 * post with r->hash already. Sets r->id, parent_id and thread_id: the parent
 * is the first of parents[0..n) archived in the list (In-Reply-To, then
 * References from the last), else, for a subject_reply, the latest post of
 * the list with the same thread_key in the 30 days before r->date that is
 * not itself a reply to r (the subject fallback). Posts
 * archived earlier whose parent_hash is r->hash and that had no parent are
 * adopted, with their threads. */
int store_archive_insert(struct store *s, struct archive_rec *r,
			 const char (*parents)[STORE_ARCHIVE_HASH_LEN + 1], size_t n);
int store_archive_part_add(struct store *s, const struct archive_part *p);
/* One post by list and hash (with_raw: read raw too); STORE_NOTFOUND. */
int store_archive_get(struct store *s, int64_t list_id, const char *hash, int with_raw,
		      struct archive_rec *out);
/* The months of a list that have posts, newest first, with their counts. */
int store_archive_months(struct store *s, int64_t list_id,
			 int (*cb)(void *ctx, const char *month, int64_t n), void *ctx);
/* Posts of a list, by date: of one month (month non-NULL), of one thread
 * (thread_id > 0), or all (export: by id); skipping offset, at most limit
 * (< 0: no limit). The body is not read unless with_raw. cb returns
 * nonzero to stop. */
struct archive_query {
	int64_t list_id;
	const char *month;
	int64_t thread_id;
	int64_t offset;
	int64_t limit;
	int with_raw;
};
int store_archive_each(struct store *s, const struct archive_query *aq,
		       int (*cb)(void *ctx, const struct archive_rec *r), void *ctx);
int store_archive_count(struct store *s, int64_t list_id, int64_t *n);
/* Full-text search of a list's posts over subject, author and body
 * (diacritics folded): query in the search syntax of the backend (SQLite:
 * FTS5's). by_date: newest first, else by relevance. cb gets each post
 * (no body) with a snippet where the matches are between \x01 and \x02 (the
 * caller escapes the text and marks them). *total: how many matched
 * (total NULL: not counted, which saves a second pass over the matches). A
 * query the backend cannot read is STORE_ERR with *bad_query set and the
 * reason in store_errmsg (the user's error, not the store's). */
int store_archive_search(struct store *s, int64_t list_id, const char *query, int by_date,
			 int64_t offset, int64_t limit,
			 int (*cb)(void *ctx, const struct archive_rec *r, const char *snippet),
			 void *ctx, int64_t *total, int *bad_query);
/* Attachments of a post in order, without data; and one with its data. */
int store_archive_parts(struct store *s, int64_t post_id,
			int (*cb)(void *ctx, const struct archive_part *p), void *ctx);
int store_archive_part_get(struct store *s, int64_t post_id, int n, struct archive_part *out);
/* For erasure: the posts (every list) whose author_hash is hash, or whose
 * raw message holds needle (ASCII case-insensitive), with raw. */
int store_archive_by_author(struct store *s, const uint8_t hash[HASH_LEN],
			    int (*cb)(void *ctx, const struct archive_rec *r), void *ctx);
int store_archive_containing(struct store *s, const char *needle,
			     int (*cb)(void *ctx, const struct archive_rec *r), void *ctx);
/* Rewrites a post's subject, author, author_addr, author_hash, body, raw and
 * its attachments' file names (the search index with them: its rows are
 * deleted with the old text first). */
int store_archive_update(struct store *s, const struct archive_rec *r);
/* Deletes a post's attachments (a redacted post keeps none: they may name
 * its author in ways no scan finds). */
int store_archive_parts_delete(struct store *s, int64_t post_id);
/* Deletes a post, its attachments and its index rows. */
int store_archive_delete(struct store *s, int64_t id);
/* After erasures: rewrites the search index so that the words of deleted
 * rows leave the file (SQLite: FTS5 'optimize'; store_scrub after it). */
int store_archive_compact(struct store *s);

/* --- copying a store ------------------------------------------------------ */
/* Copies the SQLite store that `from` names into the empty PostgreSQL store
 * that `to` names (migrated first), every table row for row with its ids,
 * sealed blobs as they are (nothing is opened), in one transaction: a copy
 * that fails leaves the target as it was. Refuses a target that holds
 * lists, subscribers or ledger events, and a source with rows in a table
 * the target cannot hold. progress (may be NULL) is called now and then
 * with a table's name and its rows copied so far of total. Then compares
 * every table's row count in both. STORE_OK, or STORE_ERR / STORE_BUSY with
 * the reason in err. */
int store_copy_to_pg(const struct conf *from, const struct conf *to,
		     void (*progress)(void *ctx, const char *table, int64_t done, int64_t total),
		     void *ctx, struct buf *err);

/* --- audit log (P8) ---------------------------------------------------- */
int store_audit(struct store *s, int64_t time, const char *actor, const char *action,
		int64_t list_id, int64_t subscriber_id, const char *detail);

/* --- staff: accounts, roles, sessions, API tokens (lists/staff.h) -------- */
/* A role: admin of the site (list_id 0), or owner, moderator or editor of
 * one list. An API token's scope: read, or write (read and change). */
enum staff_role { STAFF_ROLE_ADMIN, STAFF_ROLE_OWNER, STAFF_ROLE_MODERATOR, STAFF_ROLE_EDITOR };
enum api_scope { API_SCOPE_READ, API_SCOPE_WRITE };
extern const struct nametab staff_role_names, api_scope_names;
const char *staff_role_name(enum staff_role v);
int staff_role_parse(const char *z, enum staff_role *out);
const char *api_scope_name(enum api_scope v);
int api_scope_parse(const char *z, enum api_scope *out);

struct staff_rec {
	int64_t id;
	char *name;
	char *pw_hash; /* crypto/password.h */
	int64_t created;
};
void staff_rec_free(struct staff_rec *r);
struct staff_grant {
	int64_t staff_id;
	enum staff_role role;
	int64_t list_id; /* 0 for admin */
};
/* A session or an API token, found by the keyed hash of its secret. */
struct session_rec {
	uint8_t hash[HASH_LEN];
	int64_t staff_id;
	int64_t created, seen;
};
struct apitoken_rec {
	int64_t id;
	uint8_t hash[HASH_LEN];
	int64_t staff_id;
	enum api_scope scope;
	int64_t created;
};
/* One row of the audit log, as store_audit wrote it. */
struct audit_rec {
	int64_t id, time;
	const char *actor, *action;
	int64_t list_id, subscriber_id;
	const char *detail;
};

int store_staff_insert(struct store *s, struct staff_rec *r); /* sets id; STORE_EXISTS */
int store_staff_set_password(struct store *s, int64_t id, const char *pw_hash);
/* Deletes the account and its roles, sessions and tokens; STORE_NOTFOUND. */
int store_staff_delete(struct store *s, int64_t id);
/* By name (id 0) or by id (name NULL). */
int store_staff_get(struct store *s, const char *name, int64_t id, struct staff_rec *out);
int store_staff_each(struct store *s, int (*cb)(void *ctx, const struct staff_rec *r), void *ctx);
int store_grant_put(struct store *s, const struct staff_grant *g);    /* STORE_EXISTS if held */
int store_grant_delete(struct store *s, const struct staff_grant *g); /* STORE_NOTFOUND */
/* The roles of one account in role, list order. */
int store_grants_of(struct store *s, int64_t staff_id,
		    int (*cb)(void *ctx, const struct staff_grant *g), void *ctx);
int store_session_put(struct store *s, const struct session_rec *r);
int store_session_get(struct store *s, const uint8_t hash[HASH_LEN], struct session_rec *out);
int store_session_seen(struct store *s, const uint8_t hash[HASH_LEN], int64_t seen);
int store_session_delete(struct store *s, const uint8_t hash[HASH_LEN]);
/* Every session of an account ("sign out everywhere"); *n how many. */
int store_session_delete_staff(struct store *s, int64_t staff_id, int64_t *n);
/* Sessions last seen before idle_before or made before created_before. */
int store_session_prune(struct store *s, int64_t idle_before, int64_t created_before);
int store_apitoken_put(struct store *s, struct apitoken_rec *r); /* sets id */
int store_apitoken_get(struct store *s, const uint8_t hash[HASH_LEN], struct apitoken_rec *out);
/* Audit rows newest first with id < before (0: from the newest), at most limit. */
int store_audit_each(struct store *s, int64_t before, int limit,
		     int (*cb)(void *ctx, const struct audit_rec *r), void *ctx);
/* Deletes the rows older than time; *n how many. */
int store_audit_prune(struct store *s, int64_t time, int64_t *n);

#endif
