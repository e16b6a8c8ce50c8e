/*
 * test_bounces.c - bounce scores: the decay in whole periods, and what a hard
 * bounce does at the threshold (disable, or remove and erase on the last
 * list), with the ledger events the owners' summary counts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/buf.h"
#include "core/conf.h"
#include "lists/bounces.h"
#include "lists/lists.h"
#include "lists/person.h"
#include "store/store.h"

#define DAY 86400
#define WEEK (7 * DAY)
#define NOW 1700000000

static void test_decay(void **state)
{
	(void)state;
	int64_t at;
	/* nothing kept: no decay, the reference becomes now */
	assert_int_equal(lists_bounce_decayed(0, 0, NOW, WEEK, &at), 0);
	assert_int_equal(at, NOW);
	assert_int_equal(lists_bounce_decayed(3, 0, NOW, WEEK, &at), 3); /* at unknown */
	assert_int_equal(at, NOW);
	/* less than a period: unchanged, the reference stays */
	assert_int_equal(lists_bounce_decayed(4, NOW - WEEK + 1, NOW, WEEK, &at), 4);
	assert_int_equal(at, NOW - WEEK + 1);
	/* one, two, three periods: halved each time, reference moved by whole periods */
	assert_int_equal(lists_bounce_decayed(4, NOW - WEEK - 5, NOW, WEEK, &at), 2);
	assert_int_equal(at, NOW - 5);
	assert_int_equal(lists_bounce_decayed(4, NOW - 2 * WEEK, NOW, WEEK, &at), 1);
	assert_int_equal(at, NOW);
	assert_int_equal(lists_bounce_decayed(4, NOW - 3 * WEEK, NOW, WEEK, &at), 0);
	assert_int_equal(at, NOW);
	assert_int_equal(lists_bounce_decayed(5, NOW - WEEK, NOW, WEEK, &at), 2); /* rounds down */
	/* a century: zero, no overflow */
	assert_int_equal(lists_bounce_decayed(1000, 1, NOW, DAY, &at), 0);
	/* no decay configured */
	assert_int_equal(lists_bounce_decayed(4, 1, NOW, 0, &at), 4);
	assert_int_equal(at, 1);
	/* a clock gone back: no decay, the reference becomes now */
	assert_int_equal(lists_bounce_decayed(4, NOW + 100, NOW, WEEK, &at), 4);
	assert_int_equal(at, NOW);
}

struct fx {
	char dir[64];
	char db[128];
	struct conf *conf;
	struct store *st;
	struct keys keys;
	struct lists_ctx x;
	struct list_rec news, talk;
	struct buf err;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (f == NULL || crypto_init() < 0)
		return -1;
	buf_init(&f->err, 4096);
	bsnprintf(f->dir, sizeof(f->dir), "/tmp/lk-bounces-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	bsnprintf(f->db, sizeof(f->db), "%s/t.db", f->dir);
	f->conf = conf_load(NULL, &f->err);
	if (f->conf == NULL || conf_set(f->conf, "store", "path", f->db, &f->err) < 0)
		return -1;
	f->st = store_open(f->conf, 1, &f->err);
	if (f->st == NULL)
		return -1;
	keys_generate(&f->keys);
	f->x.st = f->st;
	f->x.keys = &f->keys;
	f->x.policy_version = "1";
	f->x.actor = "test";
	clock_set(NOW);
	lists_defaults(&f->news, "news", "example.org");
	lists_defaults(&f->talk, "talk", "example.org");
	if (lists_create(&f->x, &f->news, &f->err) != STORE_OK ||
	    lists_create(&f->x, &f->talk, &f->err) != STORE_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char path[160];
	list_rec_free(&f->news);
	list_rec_free(&f->talk);
	store_close(f->st);
	conf_free(f->conf);
	keys_wipe(&f->keys);
	buf_free(&f->err);
	const char *side[] = {"t.db", "t.db-wal", "t.db-shm"};
	for (int i = 0; i < 3; i++) {
		bsnprintf(path, sizeof(path), "%s/%s", f->dir, side[i]);
		unlink(path);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static int64_t sub_active(struct fx *f, const struct list_rec *l, const char *addr)
{
	struct subscribe_req rq = {0};
	rq.address = addr;
	rq.source = "cli";
	rq.confirmed = 1;
	int64_t id = 0;
	assert_int_equal(lists_subscribe(&f->x, l, &rq, &id, &f->err), SUBSCRIBE_ACTIVE);
	return id;
}

/* One hard bounce at the time clock_set fixed, in its own transaction. */
static enum lists_bounce_outcome bounce(struct fx *f, const struct list_rec *l, int64_t id,
					int64_t *score, int *erased)
{
	struct lists_bounce_policy p = {3, WEEK, 2};
	enum lists_bounce_outcome o;
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(lists_hard_bounce(&f->x, l, id, &p, &o, score, erased, &f->err), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	return o;
}

/* One soft bounce (two make a point), as bounce(). */
static enum lists_bounce_outcome soft(struct fx *f, const struct list_rec *l, int64_t id,
				      int64_t *score, int *erased)
{
	struct lists_bounce_policy p = {3, WEEK, 2};
	enum lists_bounce_outcome o;
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(lists_soft_bounce(&f->x, l, id, &p, &o, score, erased, &f->err), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	return o;
}

static enum sub_state state_of(struct fx *f, const struct list_rec *l, int64_t id)
{
	struct subscription_rec s;
	assert_int_equal(store_subscription_get(f->st, l->id, id, &s), STORE_OK);
	return s.state;
}

static void test_disable_at_threshold(void **state)
{
	struct fx *f = *state;
	int64_t id = sub_active(f, &f->news, "a@example.org"), score;
	int erased;
	assert_int_equal(bounce(f, &f->news, id, &score, &erased), LB_SCORED);
	assert_int_equal(score, 1);
	assert_int_equal(bounce(f, &f->news, id, &score, &erased), LB_SCORED);
	assert_int_equal(score, 2);
	/* two weeks later the 2 has decayed to 0: this bounce makes 1 */
	clock_set(NOW + 2 * WEEK);
	assert_int_equal(bounce(f, &f->news, id, &score, &erased), LB_SCORED);
	assert_int_equal(score, 1);
	assert_int_equal(state_of(f, &f->news, id), SUB_STATE_ACTIVE);
	assert_int_equal(bounce(f, &f->news, id, &score, &erased), LB_SCORED);
	assert_int_equal(bounce(f, &f->news, id, &score, &erased), LB_DISABLED);
	assert_int_equal(score, 3);
	assert_int_equal(erased, 0);
	assert_int_equal(state_of(f, &f->news, id), SUB_STATE_DISABLED);
	/* a disabled subscription keeps scoring, but is not disabled twice */
	assert_int_equal(bounce(f, &f->news, id, &score, &erased), LB_SCORED);
	assert_int_equal(score, 4);
	/* unknown subscription */
	assert_int_equal(bounce(f, &f->talk, id, &score, &erased), LB_NOT_SUBSCRIBED);
}

/* Soft bounces (a full mailbox) add up slowly: two make one point, they
 * decay with the score, and enough of them disable like hard ones. */
static void test_soft(void **state)
{
	struct fx *f = *state;
	int64_t id = sub_active(f, &f->news, "s@example.org"), score;
	int erased;
	assert_int_equal(soft(f, &f->news, id, &score, &erased), LB_SOFT);
	assert_int_equal(score, 0);
	struct subscription_rec s;
	assert_int_equal(store_subscription_get(f->st, f->news.id, id, &s), STORE_OK);
	assert_int_equal(s.soft_score, 1);
	assert_int_equal(soft(f, &f->news, id, &score, &erased), LB_SCORED);
	assert_int_equal(score, 1);
	assert_int_equal(store_subscription_get(f->st, f->news.id, id, &s), STORE_OK);
	assert_int_equal(s.soft_score, 0);
	/* one soft bounce, then a week: the soft 1 halves to 0, the score 1 to 0 */
	assert_int_equal(soft(f, &f->news, id, &score, &erased), LB_SOFT);
	clock_set(NOW + WEEK);
	assert_int_equal(soft(f, &f->news, id, &score, &erased), LB_SOFT);
	assert_int_equal(score, 0);
	/* a hard one and four soft ones: 3, disabled */
	assert_int_equal(bounce(f, &f->news, id, &score, &erased), LB_SCORED);
	assert_int_equal(soft(f, &f->news, id, &score, &erased), LB_SCORED);
	assert_int_equal(score, 2);
	assert_int_equal(soft(f, &f->news, id, &score, &erased), LB_SOFT);
	assert_int_equal(state_of(f, &f->news, id), SUB_STATE_ACTIVE);
	assert_int_equal(soft(f, &f->news, id, &score, &erased), LB_DISABLED);
	assert_int_equal(score, 3);
	assert_int_equal(state_of(f, &f->news, id), SUB_STATE_DISABLED);
}

static void test_remove_and_erase(void **state)
{
	struct fx *f = *state;
	f->news.bounce_action = LIST_BOUNCE_REMOVE;
	int64_t a = sub_active(f, &f->news, "a@example.org");
	int64_t b = sub_active(f, &f->news, "b@example.org");
	sub_active(f, &f->talk, "b@example.org");
	int64_t score;
	int erased;
	for (int i = 0; i < 2; i++) {
		bounce(f, &f->news, a, &score, &erased);
		bounce(f, &f->news, b, &score, &erased);
	}
	/* a: news was the last list: removed and erased */
	assert_int_equal(bounce(f, &f->news, a, &score, &erased), LB_REMOVED);
	assert_int_equal(erased, 1);
	struct subscriber_rec who;
	assert_int_equal(store_subscriber_get(f->st, a, &who), STORE_NOTFOUND);
	/* b: removed from news, kept on talk */
	assert_int_equal(bounce(f, &f->news, b, &score, &erased), LB_REMOVED);
	assert_int_equal(erased, 0);
	struct subscription_rec s;
	assert_int_equal(store_subscription_get(f->st, f->news.id, b, &s), STORE_NOTFOUND);
	assert_int_equal(store_subscription_get(f->st, f->talk.id, b, &s), STORE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decay),
	    cmocka_unit_test_setup_teardown(test_disable_at_threshold, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_soft, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove_and_erase, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
