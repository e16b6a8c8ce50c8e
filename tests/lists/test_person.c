/*
 * test_person.c - the domain: the subscriber lifecycle (P1), opt-out and
 * suppression (P2), erasure on leaving the last list (P3), the export (P4),
 * personal data sealed at rest (P10), and the consent ledger's tamper
 * evidence. Each case runs on a fresh SQLite store in a temporary directory
 * with freshly generated keys and a fixed clock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/buf.h"
#include "core/conf.h"
#include "core/limits.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "lists/lists.h"
#include "lists/person.h"
#include "store/store.h"

#define NOW 1700000000

struct fx {
	char dir[256];
	char db[300];
	struct conf *conf;
	struct store *st;
	struct keys keys;
	struct lists_ctx x;
	struct list_rec news, talk;
	struct buf err;
};

static int make_list(struct fx *f, struct list_rec *l, const char *name)
{
	lists_defaults(l, name, "example.org");
	return lists_create(&f->x, l, &f->err);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (f == NULL || crypto_init() < 0)
		return -1;
	buf_init(&f->err, 4096);
	bsnprintf(f->dir, sizeof(f->dir), "/tmp/lk-person-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	bsnprintf(f->db, sizeof(f->db), "%s/t.db", f->dir);
	f->conf = conf_load(NULL, &f->err);
	if (f->conf == NULL || conf_set(f->conf, "store", "path", f->db, &f->err) < 0)
		goto fail;
	f->st = store_open(f->conf, 1, &f->err);
	if (f->st == NULL)
		goto fail;
	keys_generate(&f->keys);
	f->x.st = f->st;
	f->x.keys = &f->keys;
	f->x.policy_version = "7";
	f->x.actor = "test";
	clock_set(NOW);
	if (make_list(f, &f->news, "news") != STORE_OK ||
	    make_list(f, &f->talk, "talk") != STORE_OK)
		goto fail;
	*state = f;
	return 0;
fail:
	fprintf(stderr, "setup: %s\n", buf_cstr(&f->err));
	return -1;
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		bsnprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	list_rec_free(&f->news);
	list_rec_free(&f->talk);
	store_close(f->st);
	conf_free(f->conf);
	keys_wipe(&f->keys);
	buf_free(&f->err);
	remove_dir(f->dir);
	free(f);
	return 0;
}

/* --- helpers --------------------------------------------------------------- */

struct sub_opts {
	const char *name;
	const char *source;
	int confirmed;
	int self;
	const char *ip;
	const char *wording;
	const char *note;
};

static enum subscribe_result subscribe_with(struct fx *f, const struct list_rec *l,
					    const char *addr, const struct sub_opts *o, int64_t *id)
{
	struct subscribe_req rq = {0};
	rq.address = addr;
	rq.name = o->name;
	rq.source = o->source ? o->source : "cli";
	rq.confirmed = o->confirmed;
	rq.self = o->self;
	rq.ip = o->ip;
	rq.wording = o->wording;
	rq.note = o->note;
	buf_reset(&f->err);
	*id = 0;
	return lists_subscribe(&f->x, l, &rq, id, &f->err);
}

/* An admin's subscribe (confirmed or not). */
static enum subscribe_result subscribe(struct fx *f, const struct list_rec *l, const char *addr,
				       int confirmed, int64_t *id)
{
	struct sub_opts o = {.confirmed = confirmed};
	return subscribe_with(f, l, addr, &o, id);
}

/* The person's own request (web form, mail command). */
static enum subscribe_result subscribe_self(struct fx *f, const struct list_rec *l,
					    const char *addr, int64_t *id)
{
	struct sub_opts o = {.self = 1, .source = "web", .ip = "192.0.2.1"};
	return subscribe_with(f, l, addr, &o, id);
}

static int64_t active(struct fx *f, const struct list_rec *l, const char *addr)
{
	int64_t id;
	assert_int_equal(subscribe(f, l, addr, 1, &id), SUBSCRIBE_ACTIVE);
	assert_true(id > 0);
	return id;
}

static int confirm(struct fx *f, const struct list_rec *l, int64_t id)
{
	buf_reset(&f->err);
	return lists_confirm(&f->x, l, id, "web", "198.51.100.9", &f->err);
}

static int unsubscribe(struct fx *f, const struct list_rec *l, int64_t id, int *erased)
{
	buf_reset(&f->err);
	return lists_unsubscribe(&f->x, l, id, "web", erased, &f->err);
}

struct rcpt {
	int64_t want;
	int found;
};

static int rcpt_cb(void *ctx, const struct subscription_rec *sub, const struct subscriber_rec *who)
{
	struct rcpt *r = ctx;
	(void)sub;
	if (who->id == r->want)
		r->found = 1;
	return 0;
}

static int is_recipient(struct fx *f, const struct list_rec *l, int64_t id)
{
	struct rcpt r = {id, 0};
	assert_int_equal(store_recipients_page(f->st, l->id, 0, 1000, rcpt_cb, &r), STORE_OK);
	return r.found;
}

static enum sub_state state_of(struct fx *f, const struct list_rec *l, int64_t id)
{
	struct subscription_rec s;
	assert_int_equal(store_subscription_get(f->st, l->id, id, &s), STORE_OK);
	return s.state;
}

static int has_sub(struct fx *f, const struct list_rec *l, int64_t id)
{
	struct subscription_rec s;
	return store_subscription_get(f->st, l->id, id, &s) == STORE_OK;
}

/* STORE_OK if addr is suppressed for list_id (or all lists). */
static int suppressed(struct fx *f, const char *addr, int64_t list_id)
{
	uint8_t h[HASH_LEN];
	addr_hash(&f->keys, addr, strlen(addr), h);
	return store_suppression_check(f->st, h, list_id) == STORE_OK;
}

static int exists(struct fx *f, int64_t id)
{
	struct subscriber_rec r = {0};
	int rc = store_subscriber_get(f->st, id, &r);
	subscriber_rec_free(&r);
	assert_true(rc == STORE_OK || rc == STORE_NOTFOUND);
	return rc == STORE_OK;
}

static int count_cb(void *ctx, const struct ledger_rec *r)
{
	(void)r;
	(*(int *)ctx)++;
	return 0;
}

static int ledger_rows(struct fx *f, int64_t sub_id)
{
	int n = 0;
	assert_int_equal(store_ledger_each(f->st, sub_id, count_cb, &n), STORE_OK);
	return n;
}

static int64_t verify(struct fx *f)
{
	buf_reset(&f->err);
	return lists_ledger_verify(&f->x, &f->err);
}

static void sql(struct fx *f, const char *q)
{
	sqlite3 *db;
	char *msg = NULL;
	assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	int rc = sqlite3_exec(db, q, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fprintf(stderr, "%s: %s\n", q, msg ? msg : "?");
	sqlite3_free(msg);
	sqlite3_close(db);
	assert_int_equal(rc, SQLITE_OK);
}

/* Reads a whole file; a missing file reads as empty. */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *p = NULL;
	size_t n = 0, cap = 0;
	*len = 0;
	if (fp == NULL) {
		assert_int_equal(errno, ENOENT);
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			p = realloc(p, cap);
			assert_non_null(p);
		}
		size_t got = fread(p + n, 1, cap - n, fp);
		n += got;
		if (got == 0)
			break;
	}
	fclose(fp);
	*len = n;
	return p;
}

/* 1 if the database or its WAL holds the string. */
static int raw_holds(struct fx *f, const char *needle)
{
	static const char *const sfx[] = {"", "-wal", "-journal"};
	int found = 0;
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		char path[512];
		size_t n;
		bsnprintf(path, sizeof(path), "%s%s", f->db, sfx[i]);
		uint8_t *p = slurp(path, &n);
		if (p != NULL && memmem(p, n, needle, strlen(needle)) != NULL)
			found = 1;
		free(p);
	}
	return found;
}

/* --- the lifecycle --------------------------------------------------------- */

static void test_subscribe_confirm(void **state)
{
	struct fx *f = *state;
	int64_t id, again;

	assert_int_equal(subscribe_self(f, &f->news, "ann@example.org", &id), SUBSCRIBE_PENDING);
	assert_true(id > 0);
	assert_int_equal(state_of(f, &f->news, id), SUB_STATE_PENDING);
	assert_false(is_recipient(f, &f->news, id)); /* P1 */

	/* Asking again: still pending, nothing changes, same person. */
	assert_int_equal(subscribe_self(f, &f->news, "ann@example.org", &again),
			 SUBSCRIBE_STILL_PENDING);
	assert_int_equal(again, id);
	assert_int_equal(
	    lists_find(&f->x, &(struct person_addr){"ann@example.org", "ann@example.org"}, &again),
	    STORE_OK);
	assert_int_equal(again, id);

	assert_int_equal(confirm(f, &f->news, id), STORE_OK);
	assert_int_equal(state_of(f, &f->news, id), SUB_STATE_ACTIVE);
	assert_true(is_recipient(f, &f->news, id));
	assert_false(is_recipient(f, &f->talk, id));
	/* A second confirmation changes nothing. */
	assert_int_equal(confirm(f, &f->news, id), STORE_EXISTS);
	assert_int_equal(state_of(f, &f->news, id), SUB_STATE_ACTIVE);

	assert_int_equal(subscribe_self(f, &f->news, "ann@example.org", &again), SUBSCRIBE_ALREADY);
	assert_int_equal(subscribe(f, &f->news, "ann@example.org", 1, &again), SUBSCRIBE_ALREADY);
	assert_int_equal(again, id);

	/* Confirming where there is nothing to confirm. */
	assert_int_equal(confirm(f, &f->talk, id), STORE_NOTFOUND);
	assert_int_equal(confirm(f, &f->news, 9999), STORE_NOTFOUND);

	/* The ledger: request and confirmation, chained. */
	assert_int_equal(ledger_rows(f, id), 2);
	assert_int_equal(verify(f), 2);
}

/* A request carries the address as written; lists normalises it once
 * (core/address.h): a name-addr with an upper-case domain is the same
 * person as its plain form, the display name is kept when no name is
 * given, and what is not an address is refused with the parser's reason. */
static void test_subscribe_raw_address(void **state)
{
	struct fx *f = *state;
	int64_t id, again, found = 0;
	assert_int_equal(subscribe(f, &f->news, "  Ann Smith <Ann@EXAMPLE.org> ", 1, &id),
			 SUBSCRIBE_ACTIVE);
	assert_int_equal(subscribe(f, &f->news, "ann@example.org", 1, &again), SUBSCRIBE_ALREADY);
	assert_int_equal(again, id);
	struct person_addr pa = {"Ann@example.org", "ann@example.org"};
	assert_int_equal(lists_find(&f->x, &pa, &found), STORE_OK);
	assert_int_equal(found, id);
	struct subscriber_rec who = {0};
	assert_int_equal(store_subscriber_get(f->st, id, &who), STORE_OK);
	struct person p = {0};
	assert_int_equal(lists_person_load(&f->x, &who, &p), 0);
	assert_string_equal(p.address, "Ann@example.org");
	assert_string_equal(p.name, "Ann Smith");
	person_free(&p);
	subscriber_rec_free(&who);
	assert_int_equal(subscribe(f, &f->news, "not an address", 1, &id), SUBSCRIBE_INVALID);
	assert_non_null(strstr(buf_cstr(&f->err), "@"));
}

static void test_subscribe_by_admin(void **state)
{
	struct fx *f = *state;
	int64_t id, again;

	assert_int_equal(subscribe(f, &f->news, "bob@example.org", 1, &id), SUBSCRIBE_ACTIVE);
	assert_int_equal(state_of(f, &f->news, id), SUB_STATE_ACTIVE);
	assert_true(is_recipient(f, &f->news, id));
	assert_int_equal(subscribe(f, &f->news, "bob@example.org", 0, &again), SUBSCRIBE_ALREADY);
	assert_int_equal(again, id);

	/* The same person on a second list: one subscriber, two subscriptions. */
	assert_int_equal(subscribe(f, &f->talk, "bob@example.org", 0, &again), SUBSCRIBE_PENDING);
	assert_int_equal(again, id);
	assert_int_equal(subscribe(f, &f->talk, "bob@example.org", 0, &again),
			 SUBSCRIBE_STILL_PENDING);
	assert_false(is_recipient(f, &f->talk, id));
	/* An admin's confirmed subscribe activates a pending one. */
	assert_int_equal(subscribe(f, &f->talk, "bob@example.org", 1, &again), SUBSCRIBE_ACTIVE);
	assert_true(is_recipient(f, &f->talk, id));
	assert_int_equal(verify(f), 3);
}

static void test_owner_policy_holds(void **state)
{
	struct fx *f = *state;
	struct list_rec mod;
	int64_t id;

	lists_defaults(&mod, "moderated", "example.org");
	assert_int_equal(lists_set_field(&mod, "subscription_policy", "owner", &f->err), 0);
	assert_int_equal(lists_create(&f->x, &mod, &f->err), STORE_OK);
	assert_int_equal(subscribe_self(f, &mod, "cat@example.org", &id), SUBSCRIBE_PENDING);
	assert_int_equal(confirm(f, &mod, id), STORE_OK);
	assert_int_equal(state_of(f, &mod, id), SUB_STATE_HELD);
	assert_false(is_recipient(f, &mod, id));
	/* A pending request is not the owners' to approve (P1). */
	enum sub_state st;
	int64_t job = 0, pend;
	assert_int_equal(subscribe_self(f, &mod, "pen@example.org", &pend), SUBSCRIBE_PENDING);
	assert_int_equal(lists_approve(&f->x, &mod, pend, "cli", &st, &job, &f->err), STORE_EXISTS);
	assert_int_equal(st, SUB_STATE_PENDING);
	assert_int_equal(state_of(f, &mod, pend), SUB_STATE_PENDING);
	/* Nor does a held request leave the queue but by the owners' decision. */
	assert_int_equal(lists_set_state(&f->x, &mod, id, SUB_STATE_ACTIVE, "cli", &f->err),
			 STORE_ERR);
	assert_int_equal(state_of(f, &mod, id), SUB_STATE_HELD);
	/* Nor is a subscription to another list. */
	assert_int_equal(lists_approve(&f->x, &f->news, id, "cli", &st, &job, &f->err),
			 STORE_NOTFOUND);
	/* The owner approves: active, and the welcome is queued. */
	assert_int_equal(lists_approve(&f->x, &mod, id, "cli", &st, &job, &f->err), STORE_OK);
	assert_true(job > 0);
	assert_true(is_recipient(f, &mod, id));
	struct job_rec j = {0};
	assert_int_equal(store_job_get(f->st, job, &j), STORE_OK);
	assert_string_equal(job_kind_name(j.kind), "notice");
	assert_int_equal(j.recipient_id, id);
	job_rec_free(&j);
	/* Once. */
	assert_int_equal(lists_approve(&f->x, &mod, id, "cli", &st, &job, &f->err), STORE_EXISTS);
	assert_int_equal(st, SUB_STATE_ACTIVE);
	list_rec_free(&mod);
}

static void test_owner_rejects(void **state)
{
	struct fx *f = *state;
	struct list_rec mod;
	enum sub_state st;
	int64_t lone, both, job;
	int erased;

	lists_defaults(&mod, "moderated", "example.org");
	assert_int_equal(lists_set_field(&mod, "subscription_policy", "owner", &f->err), 0);
	assert_int_equal(lists_create(&f->x, &mod, &f->err), STORE_OK);
	assert_int_equal(subscribe_self(f, &mod, "lone@example.org", &lone), SUBSCRIBE_PENDING);
	assert_int_equal(confirm(f, &mod, lone), STORE_OK);
	both = active(f, &f->news, "both@example.org");
	assert_int_equal(subscribe_self(f, &mod, "both@example.org", &both), SUBSCRIBE_PENDING);
	assert_int_equal(confirm(f, &mod, both), STORE_OK);

	/* A reason with a line break is refused, and nothing changes. */
	assert_int_equal(lists_reject(&f->x, &mod, lone, "cli", "no\r\nBcc: x@example.org", 1, &st,
				      &erased, &job, &f->err),
			 STORE_ERR);
	assert_int_equal(state_of(f, &mod, lone), SUB_STATE_HELD);

	/* On no other list: erased, with the notice queued; no opt-out kept. */
	assert_int_equal(
	    lists_reject(&f->x, &mod, lone, "cli", "members only", 1, &st, &erased, &job, &f->err),
	    STORE_OK);
	assert_int_equal(erased, 1);
	assert_true(job > 0);
	struct subscriber_rec who = {0};
	assert_int_equal(store_subscriber_get(f->st, lone, &who), STORE_NOTFOUND);
	int64_t again;
	assert_int_equal(subscribe(f, &mod, "lone@example.org", 0, &again), SUBSCRIBE_PENDING);

	/* On another list: stays there; quiet: no notice. */
	assert_int_equal(
	    lists_reject(&f->x, &mod, both, "cli", NULL, 0, &st, &erased, &job, &f->err), STORE_OK);
	assert_int_equal(erased, 0);
	assert_int_equal(job, 0);
	assert_int_equal(state_of(f, &f->news, both), SUB_STATE_ACTIVE);
	assert_int_equal(
	    lists_reject(&f->x, &mod, both, "cli", NULL, 0, &st, &erased, &job, &f->err),
	    STORE_NOTFOUND);
	list_rec_free(&mod);
}

static void test_closed_list(void **state)
{
	struct fx *f = *state;
	struct list_rec closed;
	int64_t id;

	lists_defaults(&closed, "closed", "example.org");
	assert_int_equal(lists_set_field(&closed, "subscription_policy", "closed", &f->err), 0);
	assert_int_equal(lists_create(&f->x, &closed, &f->err), STORE_OK);
	assert_int_equal(subscribe_self(f, &closed, "dan@example.org", &id), SUBSCRIBE_CLOSED);
	assert_int_equal(subscribe(f, &closed, "dan@example.org", 1, &id), SUBSCRIBE_ACTIVE);
	list_rec_free(&closed);
}

static void test_set_state(void **state)
{
	struct fx *f = *state;
	int64_t p, a;

	assert_int_equal(subscribe(f, &f->news, "pending@example.org", 0, &p), SUBSCRIBE_PENDING);
	a = active(f, &f->news, "active@example.org");

	/* P1: only the person's confirmation makes a pending subscription active,
	 * also not by a detour through held or disabled. */
	static const enum sub_state to[] = {SUB_STATE_ACTIVE, SUB_STATE_HELD, SUB_STATE_DISABLED,
					    SUB_STATE_PENDING};
	for (size_t i = 0; i < sizeof(to) / sizeof(to[0]); i++) {
		buf_reset(&f->err);
		assert_int_equal(lists_set_state(&f->x, &f->news, p, to[i], "cli", &f->err),
				 STORE_ERR);
		assert_true(f->err.len > 0);
		assert_int_equal(state_of(f, &f->news, p), SUB_STATE_PENDING);
		assert_false(is_recipient(f, &f->news, p));
	}

	/* held is the owners' queue of confirmed requests only: an active
	 * subscription is not put there (approving it would welcome it again). */
	buf_reset(&f->err);
	assert_int_equal(lists_set_state(&f->x, &f->news, a, SUB_STATE_HELD, "cli", &f->err),
			 STORE_ERR);
	assert_true(f->err.len > 0);
	assert_int_equal(state_of(f, &f->news, a), SUB_STATE_ACTIVE);
	/* active <-> disabled */
	assert_int_equal(lists_set_state(&f->x, &f->news, a, SUB_STATE_DISABLED, "cli", &f->err),
			 STORE_OK);
	assert_int_equal(state_of(f, &f->news, a), SUB_STATE_DISABLED);
	assert_false(is_recipient(f, &f->news, a));
	assert_int_equal(lists_set_state(&f->x, &f->news, a, SUB_STATE_ACTIVE, "cli", &f->err),
			 STORE_OK);
	assert_true(is_recipient(f, &f->news, a));
	/* An active one cannot go back to pending either. */
	buf_reset(&f->err);
	assert_int_equal(lists_set_state(&f->x, &f->news, a, SUB_STATE_PENDING, "cli", &f->err),
			 STORE_ERR);
	assert_int_equal(state_of(f, &f->news, a), SUB_STATE_ACTIVE);

	/* No such subscription */
	assert_int_equal(lists_set_state(&f->x, &f->talk, a, SUB_STATE_DISABLED, "cli", &f->err),
			 STORE_NOTFOUND);
	/* Refusals leave no ledger events and no open transaction. */
	assert_int_equal(verify(f), 2 + 2);
	assert_int_equal(subscribe(f, &f->talk, "x@example.org", 1, &p), SUBSCRIBE_ACTIVE);
}

/* --- opt-out and suppression ----------------------------------------------- */

static void test_unsubscribe_suppresses(void **state)
{
	struct fx *f = *state;
	int64_t id, again;
	int erased = -1;

	id = active(f, &f->news, "eve@example.org");
	assert_int_equal(subscribe(f, &f->talk, "eve@example.org", 1, &again), SUBSCRIBE_ACTIVE);

	assert_int_equal(unsubscribe(f, &f->news, id, &erased), STORE_OK);
	assert_int_equal(erased, 0);
	assert_false(has_sub(f, &f->news, id));
	assert_false(is_recipient(f, &f->news, id));
	assert_true(is_recipient(f, &f->talk, id));
	assert_true(suppressed(f, "eve@example.org", f->news.id));
	assert_false(suppressed(f, "eve@example.org", f->talk.id));
	/* Unsubscribing again: there is nothing to end. */
	assert_int_equal(unsubscribe(f, &f->news, id, &erased), STORE_NOTFOUND);
	assert_int_equal(erased, 0);

	/* Nobody but the person can put them back. */
	assert_int_equal(subscribe(f, &f->news, "eve@example.org", 1, &again),
			 SUBSCRIBE_SUPPRESSED);
	assert_int_equal(subscribe(f, &f->news, "eve@example.org", 0, &again),
			 SUBSCRIBE_SUPPRESSED);
	assert_false(has_sub(f, &f->news, id));

	/* The person's own request: pending, and still suppressed until confirmed. */
	assert_int_equal(subscribe_self(f, &f->news, "eve@example.org", &again), SUBSCRIBE_PENDING);
	assert_int_equal(again, id);
	assert_false(is_recipient(f, &f->news, id));
	assert_true(suppressed(f, "eve@example.org", f->news.id));
	assert_int_equal(confirm(f, &f->news, id), STORE_OK);
	assert_false(suppressed(f, "eve@example.org", f->news.id));
	assert_true(is_recipient(f, &f->news, id));
	assert_true(verify(f) > 0);
}

static void test_leave_last_list_erases(void **state)
{
	struct fx *f = *state;
	int64_t id, again, found;
	int erased = 0;
	struct subscriber_rec r = {0};
	struct person_addr pa = {"fay@example.org", "fay@example.org"};

	id = active(f, &f->news, "fay@example.org");
	int before = ledger_rows(f, id);
	assert_int_equal(unsubscribe(f, &f->news, id, &erased), STORE_OK);
	assert_int_equal(erased, 1);
	assert_int_equal(store_scrub(f->st), STORE_OK);

	/* P3: the data and the key are gone. */
	assert_int_equal(store_subscriber_get(f->st, id, &r), STORE_NOTFOUND);
	assert_int_equal(lists_find(&f->x, &pa, &found), STORE_NOTFOUND);
	buf_reset(&f->err);
	struct buf out;
	buf_init(&out, LK_MAX_EXPORT);
	assert_int_equal(lists_person_export(&f->x, id, &out, &f->err), STORE_NOTFOUND);
	assert_int_equal(out.len, 0);
	buf_free(&out);

	/* Only the keyed hash stays, as an all-lists suppression. */
	assert_true(suppressed(f, "fay@example.org", 0));
	assert_true(suppressed(f, "fay@example.org", f->talk.id));
	/* A re-import is refused, even with an admin's word for consent. */
	struct sub_opts imp = {.confirmed = 1, .source = "import", .note = "old list"};
	assert_int_equal(subscribe_with(f, &f->talk, "fay@example.org", &imp, &again),
			 SUBSCRIBE_SUPPRESSED);
	assert_int_equal(subscribe_with(f, &f->news, "fay@example.org", &imp, &again),
			 SUBSCRIBE_SUPPRESSED);
	assert_int_equal(lists_find(&f->x, &pa, &found), STORE_NOTFOUND);

	/* The ledger keeps its rows (unsubscribe and erase added) and its chain. */
	assert_int_equal(ledger_rows(f, id), before + 2);
	assert_true(verify(f) > 0);

	/* Their own new request works, under a new id. */
	assert_int_equal(subscribe_self(f, &f->news, "fay@example.org", &again), SUBSCRIBE_PENDING);
	assert_true(again > id);
	assert_int_equal(confirm(f, &f->news, again), STORE_OK);
	assert_false(suppressed(f, "fay@example.org", f->talk.id));
	assert_true(is_recipient(f, &f->news, again));
}

static void test_leave_one_of_two_keeps_data(void **state)
{
	struct fx *f = *state;
	int64_t id, again;
	int erased = -1;
	struct subscriber_rec r = {0};
	struct person p;

	struct sub_opts o = {.confirmed = 1, .name = "Gil"};
	assert_int_equal(subscribe_with(f, &f->news, "gil@example.org", &o, &id), SUBSCRIBE_ACTIVE);
	assert_int_equal(subscribe(f, &f->talk, "gil@example.org", 0, &again), SUBSCRIBE_PENDING);
	/* A pending subscription counts as a list too. */
	assert_int_equal(unsubscribe(f, &f->news, id, &erased), STORE_OK);
	assert_int_equal(erased, 0);
	assert_int_equal(store_subscriber_get(f->st, id, &r), STORE_OK);
	assert_int_equal(lists_person_load(&f->x, &r, &p), 0);
	assert_string_equal(p.address, "gil@example.org");
	assert_string_equal(p.name, "Gil");
	assert_string_equal(p.country, "");
	person_free(&p);
	subscriber_rec_free(&r);
	assert_false(suppressed(f, "gil@example.org", 0));

	/* Leaving the pending one, the last, erases. */
	assert_int_equal(unsubscribe(f, &f->talk, id, &erased), STORE_OK);
	assert_int_equal(erased, 1);
	assert_false(exists(f, id));
}

static void test_erase(void **state)
{
	struct fx *f = *state;
	int64_t id, other, n = -1;

	id = active(f, &f->news, "hal@example.org");
	assert_int_equal(subscribe(f, &f->talk, "hal@example.org", 0, &id), SUBSCRIBE_PENDING);
	other = active(f, &f->news, "ida@example.org");

	buf_reset(&f->err);
	assert_int_equal(lists_erase(&f->x, id, "cli", "erasure-request", &f->err), STORE_OK);
	assert_int_equal(store_scrub(f->st), STORE_OK);
	assert_false(exists(f, id));
	assert_false(has_sub(f, &f->news, id));
	assert_false(has_sub(f, &f->talk, id));
	assert_int_equal(store_subscription_count(f->st, id, &n), STORE_OK);
	assert_int_equal(n, 0);
	assert_true(suppressed(f, "hal@example.org", 0));
	/* Nobody else was touched. */
	assert_true(exists(f, other));
	assert_true(is_recipient(f, &f->news, other));
	assert_false(suppressed(f, "ida@example.org", f->news.id));
	assert_true(verify(f) > 0);

	/* Erasing nobody */
	assert_int_equal(lists_erase(&f->x, id, "cli", "erasure-request", &f->err), STORE_NOTFOUND);
	assert_int_equal(lists_erase(&f->x, 9999, "cli", NULL, &f->err), STORE_NOTFOUND);
}

/* --- export (P4) ----------------------------------------------------------- */

static json_t *find_event(json_t *events, const char *action)
{
	size_t i;
	json_t *e;
	json_array_foreach(events, i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "action")), action) == 0)
			return e;
	}
	return NULL;
}

static void test_export(void **state)
{
	struct fx *f = *state;
	int64_t id, again;
	struct buf out;
	json_error_t jerr;

	struct sub_opts o = {.name = "Jo Ann \xc3\x9f",
			     .self = 1,
			     .source = "web",
			     .ip = "203.0.113.5",
			     .wording = "Yes, send me the news"};
	assert_int_equal(subscribe_with(f, &f->news, "jo@example.org", &o, &id), SUBSCRIBE_PENDING);
	assert_int_equal(confirm(f, &f->news, id), STORE_OK);
	struct sub_opts admin = {.confirmed = 1, .note = "signed up at the fair"};
	assert_int_equal(subscribe_with(f, &f->talk, "jo@example.org", &admin, &again),
			 SUBSCRIBE_ACTIVE);

	buf_init(&out, LK_MAX_EXPORT);
	buf_reset(&f->err);
	assert_int_equal(lists_person_export(&f->x, id, &out, &f->err), STORE_OK);
	json_t *doc = json_loadb(out.data, out.len, 0, &jerr);
	assert_non_null(doc);

	json_t *me = json_object_get(doc, "subscriber");
	assert_int_equal(json_integer_value(json_object_get(me, "id")), id);
	assert_string_equal(json_string_value(json_object_get(me, "address")), "jo@example.org");
	assert_string_equal(json_string_value(json_object_get(me, "name")), "Jo Ann \xc3\x9f");

	json_t *subs = json_object_get(doc, "subscriptions");
	assert_int_equal(json_array_size(subs), 2);
	json_t *s0 = json_array_get(subs, 0), *s1 = json_array_get(subs, 1);
	assert_string_equal(json_string_value(json_object_get(s0, "list")), "news");
	assert_string_equal(json_string_value(json_object_get(s0, "state")), "active");
	assert_string_equal(json_string_value(json_object_get(s1, "list")), "talk");
	assert_string_equal(json_string_value(json_object_get(s1, "state")), "active");
	assert_string_equal(json_string_value(json_object_get(s0, "since")),
			    "2023-11-14T22:13:20Z");

	json_t *ev = json_object_get(doc, "consent_events");
	assert_int_equal(json_array_size(ev), 3);
	json_t *req = find_event(ev, "subscribe-request");
	assert_non_null(req);
	json_t *d = json_object_get(req, "details");
	assert_string_equal(json_string_value(json_object_get(d, "ip")), "203.0.113.5");
	assert_string_equal(json_string_value(json_object_get(d, "wording")),
			    "Yes, send me the news");
	assert_string_equal(json_string_value(json_object_get(req, "list")), "news");
	assert_string_equal(json_string_value(json_object_get(req, "source")), "web");
	assert_string_equal(json_string_value(json_object_get(req, "consent_wording_version")),
			    "7");
	json_t *conf = find_event(ev, "confirm");
	assert_non_null(conf);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(conf, "details"), "ip")),
	    "198.51.100.9");
	json_t *adm = find_event(ev, "subscribe-confirmed-by-admin");
	assert_non_null(adm);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(adm, "details"), "note")),
	    "signed up at the fair");
	json_decref(doc);

	/* Nobody to export */
	buf_reset(&out);
	assert_int_equal(lists_person_export(&f->x, 9999, &out, &f->err), STORE_NOTFOUND);
	buf_free(&out);
}

/* --- the person's own settings (preferences page, mail commands) -------- */

static void test_person_update(void **state)
{
	struct fx *f = *state;
	int64_t id = active(f, &f->news, "pat@example.org");
	int changed = -1;
	struct subscriber_rec who = {0};
	struct person p;

	/* Nothing asked: nothing changes, nothing is written. */
	int rows = ledger_rows(f, id);
	struct person_change none = {NULL, -1, -1, NULL};
	assert_int_equal(lists_person_update(&f->x, id, &none, "web", &changed, &f->err), STORE_OK);
	assert_int_equal(changed, 0);
	assert_int_equal(ledger_rows(f, id), rows);

	/* Name and format: sealed again, no ledger event (not consent). */
	struct person_change c1 = {"Pat \xc3\x9f", 1, -1, NULL};
	assert_int_equal(lists_person_update(&f->x, id, &c1, "web", &changed, &f->err), STORE_OK);
	assert_int_equal(changed, PERSON_CHANGED_NAME | PERSON_CHANGED_FORMAT);
	assert_int_equal(ledger_rows(f, id), rows);
	assert_false(raw_holds(f, "Pat \xc3\x9f"));
	assert_int_equal(store_subscriber_get(f->st, id, &who), STORE_OK);
	assert_int_equal(who.html, 1);
	assert_int_equal(lists_person_load(&f->x, &who, &p), 0);
	assert_string_equal(p.name, "Pat \xc3\x9f");
	assert_string_equal(p.address, "pat@example.org");
	person_free(&p);
	subscriber_rec_free(&who);

	/* Tracking consent is a ledger event with the wording, both ways. */
	struct person_change c2 = {NULL, -1, 1, "Count my opens"};
	assert_int_equal(lists_person_update(&f->x, id, &c2, "web", &changed, &f->err), STORE_OK);
	assert_int_equal(changed, PERSON_CHANGED_TRACKING);
	assert_int_equal(ledger_rows(f, id), rows + 1);
	c2.tracking = 0;
	assert_int_equal(lists_person_update(&f->x, id, &c2, "web", &changed, &f->err), STORE_OK);
	assert_int_equal(ledger_rows(f, id), rows + 2);
	assert_int_equal(verify(f) > 0, 1);
	struct buf out;
	buf_init(&out, LK_MAX_EXPORT);
	assert_int_equal(lists_person_export(&f->x, id, &out, &f->err), STORE_OK);
	json_t *doc = json_loadb(out.data, out.len, 0, NULL);
	assert_non_null(doc);
	json_t *ev = json_object_get(doc, "consent_events");
	json_t *on = find_event(ev, "tracking-consent");
	assert_non_null(on);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(on, "details"), "wording")),
	    "Count my opens");
	assert_non_null(find_event(ev, "tracking-withdrawn"));
	json_decref(doc);
	buf_free(&out);

	/* A bad name is refused and changes nothing; an unknown person is NOTFOUND. */
	struct person_change bad = {"a\nb", 0, -1, NULL};
	buf_reset(&f->err);
	assert_int_equal(lists_person_update(&f->x, id, &bad, "web", &changed, &f->err), STORE_ERR);
	assert_non_null(strstr(buf_cstr(&f->err), "control character"));
	assert_int_equal(store_subscriber_get(f->st, id, &who), STORE_OK);
	assert_int_equal(who.html, 1);
	subscriber_rec_free(&who);
	assert_int_equal(lists_person_update(&f->x, 9999, &c1, "web", &changed, &f->err),
			 STORE_NOTFOUND);
}

static void test_set_options(void **state)
{
	struct fx *f = *state;
	int64_t id = active(f, &f->news, "opt@example.org");
	struct subscription_rec sub;

	assert_int_equal(lists_set_options(&f->x, &f->news, id, 0, 1, "web", &f->err), STORE_OK);
	assert_int_equal(store_subscription_get(f->st, f->news.id, id, &sub), STORE_OK);
	assert_int_equal(sub.nomail, 1);
	assert_false(is_recipient(f, &f->news, id)); /* no mail for now */
	assert_int_equal(state_of(f, &f->news, id), SUB_STATE_ACTIVE);
	assert_int_equal(lists_set_options(&f->x, &f->news, id, 0, 0, "web", &f->err), STORE_OK);
	assert_true(is_recipient(f, &f->news, id));

	/* A digest only where the list offers one. */
	buf_reset(&f->err);
	assert_int_equal(lists_set_options(&f->x, &f->news, id, 1, 0, "web", &f->err), STORE_ERR);
	assert_non_null(strstr(buf_cstr(&f->err), "no digest"));
	f->news.digest = 1;
	assert_int_equal(lists_set_options(&f->x, &f->news, id, 1, 0, "web", &f->err), STORE_OK);
	assert_int_equal(store_subscription_get(f->st, f->news.id, id, &sub), STORE_OK);
	assert_int_equal(sub.digest, 1);
	f->news.digest = 0;

	assert_int_equal(lists_set_options(&f->x, &f->talk, id, 0, 1, "web", &f->err),
			 STORE_NOTFOUND);
}

/* --- lists_delete ---------------------------------------------------------- */

static void test_list_delete(void **state)
{
	struct fx *f = *state;
	int64_t only, both, pending, again;
	struct list_rec gone = {0};

	only = active(f, &f->news, "only@example.org");
	both = active(f, &f->news, "both@example.org");
	assert_int_equal(subscribe(f, &f->talk, "both@example.org", 1, &again), SUBSCRIBE_ACTIVE);
	assert_int_equal(subscribe(f, &f->news, "pend@example.org", 0, &pending),
			 SUBSCRIBE_PENDING);

	buf_reset(&f->err);
	assert_int_equal(lists_delete(&f->x, &f->news, &f->err), 2);
	assert_int_equal(store_list_get(f->st, "news", &gone), STORE_NOTFOUND);
	assert_false(exists(f, only));
	assert_false(exists(f, pending));
	assert_true(exists(f, both));
	assert_true(has_sub(f, &f->talk, both));
	assert_true(is_recipient(f, &f->talk, both));
	/* The owner's deletion is no opt-out by the people on it. */
	assert_false(suppressed(f, "both@example.org", f->talk.id));
	assert_false(suppressed(f, "only@example.org", f->talk.id));
	assert_true(verify(f) > 0);
}

/* --- input checks ---------------------------------------------------------- */

static void test_name_checks(void **state)
{
	struct fx *f = *state;
	int64_t id, found;
	char name[LK_MAX_NAME + 2];
	static const char *const bad[] = {"Kim\nBcc: x", "Kim\r", "Kim\x01",
					  "Kim\x7f",	 "tab\t", "bad \xff utf8"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sub_opts o = {.confirmed = 1, .name = bad[i]};
		assert_int_equal(subscribe_with(f, &f->news, "kim@example.org", &o, &id),
				 SUBSCRIBE_INVALID); /* bad data, not a store error */
		assert_true(f->err.len > 0);
	}
	memset(name, 'n', LK_MAX_NAME + 1);
	name[LK_MAX_NAME + 1] = '\0';
	struct sub_opts o = {.confirmed = 1, .name = name};
	assert_int_equal(subscribe_with(f, &f->news, "kim@example.org", &o, &id),
			 SUBSCRIBE_INVALID);
	assert_true(f->err.len > 0);
	assert_int_equal(
	    lists_find(&f->x, &(struct person_addr){"kim@example.org", "kim@example.org"}, &found),
	    STORE_NOTFOUND);

	/* Addresses arrive normalised; what JSON cannot hold is refused, not lost. */
	static const char *const bad_addr[] = {"", "bad\xff@example.org", "a\nb@example.org"};
	for (size_t i = 0; i < sizeof(bad_addr) / sizeof(bad_addr[0]); i++) {
		struct sub_opts plain = {.confirmed = 1};
		assert_int_equal(subscribe_with(f, &f->news, bad_addr[i], &plain, &id),
				 SUBSCRIBE_INVALID);
		assert_true(f->err.len > 0);
	}

	/* Exactly the limit is fine. */
	name[LK_MAX_NAME] = '\0';
	assert_int_equal(subscribe_with(f, &f->news, "kim@example.org", &o, &id), SUBSCRIBE_ACTIVE);
	assert_int_equal(verify(f), 1);
}

static void test_list_create(void **state)
{
	struct fx *f = *state;
	struct list_rec l, got = {0};

	lists_defaults(&l, "news", "example.org");
	buf_reset(&f->err);
	assert_int_equal(lists_create(&f->x, &l, &f->err), STORE_EXISTS);
	assert_non_null(strstr(buf_cstr(&f->err), "exists"));
	list_rec_free(&l);

	static const char *const bad[] = {"", "News", "-x", "a b", "a/b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lists_defaults(&l, bad[i], "example.org");
		buf_reset(&f->err);
		assert_int_equal(lists_create(&f->x, &l, &f->err), STORE_ERR);
		assert_true(f->err.len > 0);
		list_rec_free(&l);
	}

	lists_defaults(&l, "ok.list-1", "example.org");
	assert_int_equal(lists_set_field(&l, "kind", "discussion", &f->err), 0);
	assert_int_equal(lists_set_field(&l, "tracking", "yes", &f->err), 0);
	assert_int_equal(lists_set_field(&l, "kind", "other", &f->err), -1);
	assert_int_equal(lists_set_field(&l, "title", "a\nb", &f->err), -1);
	assert_int_equal(lists_set_field(&l, "footer", "a\x01", &f->err), -1);
	assert_int_equal(lists_set_field(&l, "nope", "x", &f->err), -1);
	assert_int_equal(lists_create(&f->x, &l, &f->err), STORE_OK);
	assert_int_equal(store_list_get(f->st, "ok.list-1", &got), STORE_OK);
	assert_string_equal(list_kind_name(got.kind), "discussion");
	assert_int_equal(got.tracking, 1);
	assert_int_equal(got.created, NOW);
	list_rec_free(&got);
	list_rec_free(&l);
}

/* --- at rest (P10) --------------------------------------------------------- */

static void test_sealed_at_rest(void **state)
{
	struct fx *f = *state;
	int64_t id;
	int erased = 0;
	static const char *const secrets[] = {"zq-distinct-7731@example.org", "zq-distinct-7731",
					      "Zqname Distinct 7731",	      "203.0.113.231",
					      "I agree zq-wording-7731",      "zq-note-7731"};

	struct sub_opts o = {.name = "Zqname Distinct 7731",
			     .self = 1,
			     .source = "web",
			     .ip = "203.0.113.231",
			     .wording = "I agree zq-wording-7731"};
	assert_int_equal(subscribe_with(f, &f->news, "zq-distinct-7731@example.org", &o, &id),
			 SUBSCRIBE_PENDING);
	struct sub_opts adm = {.confirmed = 1, .note = "zq-note-7731"};
	int64_t again;
	assert_int_equal(subscribe_with(f, &f->talk, "zq-distinct-7731@example.org", &adm, &again),
			 SUBSCRIBE_ACTIVE);
	assert_int_equal(confirm(f, &f->news, id), STORE_OK);
	struct buf out;
	buf_init(&out, LK_MAX_EXPORT);
	assert_int_equal(lists_person_export(&f->x, id, &out, &f->err), STORE_OK);
	assert_non_null(strstr(buf_cstr(&out), "zq-distinct-7731@example.org"));
	buf_free(&out);

	/* The scan finds what is there in the clear... */
	assert_true(raw_holds(f, "news"));
	/* ...and none of the personal data, before erasure too. */
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		assert_false(raw_holds(f, secrets[i]));

	assert_int_equal(unsubscribe(f, &f->news, id, &erased), STORE_OK);
	assert_int_equal(unsubscribe(f, &f->talk, id, &erased), STORE_OK);
	assert_int_equal(erased, 1);
	assert_int_equal(store_scrub(f->st), STORE_OK);
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		assert_false(raw_holds(f, secrets[i]));
}

/* --- the ledger's tamper evidence ------------------------------------------ */

/* Five events by three people. */
static void five_events(struct fx *f)
{
	int64_t a, b, c;
	struct sub_opts o = {.self = 1, .ip = "192.0.2.7", .wording = "w"};
	assert_int_equal(subscribe_with(f, &f->news, "l1@example.org", &o, &a), SUBSCRIBE_PENDING);
	assert_int_equal(confirm(f, &f->news, a), STORE_OK);
	b = active(f, &f->news, "l2@example.org");
	c = active(f, &f->talk, "l3@example.org");
	assert_int_equal(lists_set_state(&f->x, &f->talk, c, SUB_STATE_DISABLED, "cli", &f->err),
			 STORE_OK);
	(void)b;
	assert_int_equal(verify(f), 5);
	assert_int_equal(f->err.len, 0);
}

static void expect_broken(struct fx *f, const char *where)
{
	assert_int_equal(verify(f), -1);
	if (strstr(buf_cstr(&f->err), where) == NULL)
		fail_msg("'%s' does not name %s", buf_cstr(&f->err), where);
}

static void test_verify_changed_row(void **state)
{
	struct fx *f = *state;
	five_events(f);
	sql(f, "UPDATE consent_events SET action='x' WHERE id=2");
	expect_broken(f, "event 2");
}

static void test_verify_changed_time(void **state)
{
	struct fx *f = *state;
	five_events(f);
	sql(f, "UPDATE consent_events SET time=time+1 WHERE id=4");
	expect_broken(f, "event 4");
}

static void test_verify_removed_middle(void **state)
{
	struct fx *f = *state;
	five_events(f);
	sql(f, "DELETE FROM consent_events WHERE id=3");
	expect_broken(f, "event 4");
	assert_non_null(strstr(buf_cstr(&f->err), "event 3"));
}

static void test_verify_removed_first(void **state)
{
	struct fx *f = *state;
	five_events(f);
	sql(f, "DELETE FROM consent_events WHERE id=1");
	expect_broken(f, "event 2");
}

static void test_verify_removed_last(void **state)
{
	struct fx *f = *state;
	five_events(f);
	sql(f, "DELETE FROM consent_events WHERE id=5");
	expect_broken(f, "event 5");

	/* A later event does not hide the removal. */
	int64_t id;
	assert_int_equal(subscribe(f, &f->talk, "later@example.org", 1, &id), SUBSCRIBE_ACTIVE);
	assert_int_equal(verify(f), -1);
	assert_true(f->err.len > 0);
}

static void test_verify_swapped(void **state)
{
	struct fx *f = *state;
	five_events(f);
	sql(f, "CREATE TEMP TABLE t AS SELECT * FROM consent_events WHERE id IN (2,3);"
	       "UPDATE consent_events SET (list_id, subscriber_id, action, time, source, "
	       "policy_version, details, prev_hash, hash) = (SELECT list_id, subscriber_id, "
	       "action, time, source, policy_version, details, prev_hash, hash FROM t WHERE "
	       "t.id = 5 - consent_events.id) WHERE id IN (2,3);");
	expect_broken(f, "event 2");
}

static void test_verify_changed_sealed_details(void **state)
{
	struct fx *f = *state;
	five_events(f);
	sql(f, "UPDATE consent_events SET details=zeroblob(length(details)) WHERE id=1");
	expect_broken(f, "event 1");
}

static void test_verify_empty_and_erased(void **state)
{
	struct fx *f = *state;
	int64_t id;
	int erased;
	assert_int_equal(verify(f), 0);
	id = active(f, &f->news, "mo@example.org");
	assert_int_equal(unsubscribe(f, &f->news, id, &erased), STORE_OK);
	assert_int_equal(erased, 1);
	/* subscribe, unsubscribe, erase */
	assert_int_equal(ledger_rows(f, id), 3);
	assert_int_equal(verify(f), 3);
}

/* A store that stays locked is "busy, try again", kept apart from an error
 * all the way up: lists_subscribe says SUBSCRIBE_BUSY (not SUBSCRIBE_ERROR),
 * the other calls STORE_BUSY, and nothing is changed. */
static void test_busy_is_not_an_error(void **state)
{
	struct fx *f = *state;
	int64_t id = active(f, &f->news, "kept@example.org");
	assert_int_equal(conf_set(f->conf, "store", "busy_timeout_ms", "50", &f->err), 0);
	struct store *other = store_open(f->conf, 0, &f->err);
	assert_non_null(other);
	struct store *mine = store_open(f->conf, 0, &f->err);
	assert_non_null(mine);
	assert_int_equal(store_begin(other), STORE_OK); /* holds the write lock */
	struct lists_ctx x = f->x;
	x.st = mine;
	struct subscribe_req rq = {0};
	rq.address = "new@example.org";
	rq.source = "cli";
	rq.confirmed = 1;
	int64_t nid = 0;
	buf_reset(&f->err);
	assert_int_equal(lists_subscribe(&x, &f->news, &rq, &nid, &f->err), SUBSCRIBE_BUSY);
	assert_true(f->err.len > 0);
	int erased = 0;
	buf_reset(&f->err);
	assert_int_equal(lists_unsubscribe(&x, &f->news, id, "web", &erased, &f->err), STORE_BUSY);
	buf_reset(&f->err);
	assert_int_equal(lists_erase(&x, id, "cli", "erased-on-request", &f->err), STORE_BUSY);
	store_rollback(other);
	/* nothing changed; with the lock gone, the same calls go through */
	struct subscription_rec sub;
	assert_int_equal(store_subscription_get(mine, f->news.id, id, &sub), STORE_OK);
	assert_int_equal(sub.state, SUB_STATE_ACTIVE);
	buf_reset(&f->err);
	assert_int_equal(lists_subscribe(&x, &f->news, &rq, &nid, &f->err), SUBSCRIBE_ACTIVE);
	store_close(mine);
	store_close(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_subscribe_confirm, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_subscribe_by_admin, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_subscribe_raw_address, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_owner_policy_holds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_owner_rejects, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_closed_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_state, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unsubscribe_suppresses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_leave_last_list_erases, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_leave_one_of_two_keeps_data, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_erase, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_export, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_person_update, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_options, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_name_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_create, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sealed_at_rest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_changed_row, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_changed_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_removed_middle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_removed_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_removed_last, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_swapped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_changed_sealed_details, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_empty_and_erased, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_busy_is_not_an_error, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
