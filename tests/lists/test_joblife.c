/*
 * test_joblife.c - the job lifecycle (lists/joblife.h): the transitions an
 * admin may make and the ones refused without a change; the store's job
 * queries agree with the module (store_job_next picks exactly the due and
 * unleased jobs, an update drops the sealed recipient exactly when the job is
 * final); every name of every kind and state table passes the schema's CHECKs.
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
#include "lists/joblife.h"
#include "lists/jobs.h"
#include "lists/lists.h"
#include "store/store.h"

#define NOW 1700000000

struct fx {
	char dir[64];
	char db[128];
	struct conf *conf;
	struct store *st;
	struct keys keys;
	struct lists_ctx x;
	struct list_rec news;
	struct buf err;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (f == NULL || crypto_init() < 0)
		return -1;
	buf_init(&f->err, 4096);
	bsnprintf(f->dir, sizeof(f->dir), "/tmp/lk-joblife-XXXXXX");
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
	if (lists_create(&f->x, &f->news, &f->err) != STORE_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char path[160];
	list_rec_free(&f->news);
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

/* A job written as it is given (state, times, lease), bypassing the module. */
static int64_t put_job(struct fx *f, enum job_state s, int64_t not_before, int64_t resume_at,
		       const char *lease_owner, int64_t lease_until)
{
	static uint8_t blob[64];
	struct job_rec j = {0};
	j.list_id = f->news.id;
	j.kind = JOB_KIND_REPLY;
	j.state = JOB_STATE_SCHEDULED;
	j.subject = "s";
	j.body_text = "t";
	j.pause_reason = "";
	j.not_before = not_before;
	j.rcpt_sealed = blob;
	j.rcpt_sealed_len = sizeof(blob);
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_job_insert(f->st, &j), STORE_OK);
	j.state = s;
	j.resume_at = resume_at;
	j.lease_owner = (char *)lease_owner;
	j.lease_until = lease_until;
	j.pause_reason = s == JOB_STATE_PAUSED ? "why" : "";
	assert_int_equal(store_job_update(f->st, &j), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	return j.id;
}

static void cancel_all(struct fx *f)
{
	struct job_rec j = {0};
	while (store_job_next(f->st, INT64_MAX / 2, &j) == STORE_OK) {
		j.state = JOB_STATE_CANCELLED;
		j.lease_until = 0;
		assert_int_equal(store_begin(f->st), STORE_OK);
		assert_int_equal(store_job_update(f->st, &j), STORE_OK);
		assert_int_equal(store_commit(f->st), STORE_OK);
		job_rec_free(&j);
	}
}

/* For every state, time and lease: store_job_next returns the job exactly
 * when joblife_due says it is due and nobody holds a lease on it. */
static void test_store_next_agrees(void **state)
{
	struct fx *f = *state;
	const int64_t times[] = {0, NOW - 10, NOW, NOW + 10};
	int seen_due = 0, seen_not = 0;
	for (int s = JOB_STATE_SCHEDULED; s <= JOB_STATE_CANCELLED; s++)
		for (size_t nb = 0; nb < 4; nb++)
			for (size_t ra = 0; ra < 4; ra++)
				for (int leased = 0; leased < 2; leased++) {
					int64_t id = put_job(f, (enum job_state)s, times[nb],
							     times[ra], leased ? "other:1:x" : "",
							     leased ? NOW + 100 : 0);
					struct job_rec j = {0};
					assert_int_equal(store_job_get(f->st, id, &j), STORE_OK);
					int want = joblife_due(&j, NOW, NULL) && !leased;
					job_rec_free(&j);
					int got = store_job_next(f->st, NOW, &j) == STORE_OK;
					if (got)
						assert_int_equal(j.id, id);
					job_rec_free(&j);
					if (got != want)
						fail_msg("state %s not_before %lld resume_at %lld "
							 "leased %d: store %d, joblife %d",
							 job_state_name((enum job_state)s),
							 (long long)times[nb], (long long)times[ra],
							 leased, got, want);
					seen_due += want;
					seen_not += !want;
					cancel_all(f);
				}
	assert_true(seen_due > 0 && seen_not > 0);
}

/* An update drops the sealed recipient exactly when the state is final. */
static void test_store_final_agrees(void **state)
{
	struct fx *f = *state;
	for (int s = JOB_STATE_SCHEDULED; s <= JOB_STATE_CANCELLED; s++) {
		int64_t id = put_job(f, (enum job_state)s, NOW, 0, "", 0);
		struct job_rec j = {0};
		assert_int_equal(store_job_get(f->st, id, &j), STORE_OK);
		assert_int_equal(j.rcpt_sealed == NULL, joblife_final((enum job_state)s));
		job_rec_free(&j);
	}
}

/* Every name of every table is one the schema accepts, and comes back. */
static void test_names_pass_the_schema(void **state)
{
	struct fx *f = *state;
	const struct nametab *lt[] = {&list_kind_names,		&list_sub_policy_names,
				      &list_post_policy_names,	&list_moderation_names,
				      &list_archive_names,	&list_bounce_action_names,
				      &list_archive_erase_names};
	char tmp[32];
	for (size_t t = 0; t < sizeof(lt) / sizeof(lt[0]); t++)
		for (int v = 0; v < lt[t]->n; v++) {
			struct list_rec l;
			char name[32];
			bsnprintf(name, sizeof(name), "l%zu-%d", t, v);
			lists_defaults(&l, name, "example.org");
			const char *fields[] = {
			    "kind",    "subscription_policy", "posting_policy", "moderation",
			    "archive", "bounce_action",	      "archive_erase"};
			buf_reset(&f->err);
			assert_int_equal(lists_set_field(&l, fields[t], lt[t]->names[v], &f->err),
					 0);
			assert_int_equal(lists_create(&f->x, &l, &f->err), STORE_OK);
			struct list_rec got = {0};
			assert_int_equal(store_list_get(f->st, name, &got), STORE_OK);
			assert_string_equal(lists_get_field(&got, fields[t], tmp), lt[t]->names[v]);
			list_rec_free(&got);
			list_rec_free(&l);
		}
	for (int k = 0; k < job_kind_names.n; k++)
		for (int s = 0; s < job_state_names.n; s++) {
			struct job_rec j = {0}, got = {0};
			j.list_id = f->news.id;
			j.kind = (enum job_kind)k;
			j.state = (enum job_state)s;
			j.subject = j.body_text = j.pause_reason = "";
			assert_int_equal(store_begin(f->st), STORE_OK);
			assert_int_equal(store_job_insert(f->st, &j), STORE_OK);
			assert_int_equal(store_commit(f->st), STORE_OK);
			assert_int_equal(store_job_get(f->st, j.id, &got), STORE_OK);
			assert_int_equal(got.kind, k);
			assert_int_equal(got.state, s);
			job_rec_free(&got);
		}
	/* one name table each: every value has a name and parses back */
	for (int s = 0; s < job_state_names.n; s++) {
		enum job_state back;
		assert_int_equal(job_state_parse(job_state_name((enum job_state)s), &back), 0);
		assert_int_equal(back, s);
	}
	enum job_kind k = JOB_KIND_NOTICE;
	assert_int_equal(job_kind_parse("Campaign", &k), -1); /* case matters */
	assert_int_equal(k, JOB_KIND_NOTICE);
	assert_string_equal(job_state_name((enum job_state)99), "?");
}

/* The job as the store has it now. */
static void get(struct fx *f, int64_t id, struct job_rec *j)
{
	memset(j, 0, sizeof(*j));
	assert_int_equal(store_job_get(f->st, id, j), STORE_OK);
}

/* An admin's refused transition changes nothing, and says why. */
static void expect_refused(struct fx *f, int64_t id,
			   int (*op)(struct lists_ctx *, int64_t, struct buf *), const char *why)
{
	struct job_rec before, after;
	get(f, id, &before);
	clock_set(NOW + 50);
	buf_reset(&f->err);
	assert_int_equal(op(&f->x, id, &f->err), STORE_ERR);
	assert_non_null(strstr(buf_cstr(&f->err), why));
	get(f, id, &after);
	assert_int_equal(after.state, before.state);
	assert_int_equal(after.updated, before.updated);
	assert_int_equal(after.finished, before.finished);
	assert_string_equal(after.pause_reason, before.pause_reason);
	job_rec_free(&before);
	job_rec_free(&after);
	clock_set(NOW);
}

static void test_admin_transitions(void **state)
{
	struct fx *f = *state;
	int64_t id = 0;
	struct job_rec j;
	assert_int_equal(
	    jobs_create_campaign(&f->x, &f->news, "Hello", "Hi", NULL, NOW, &id, &f->err),
	    STORE_OK);
	/* scheduled: resume refused; pause, resume, cancel go */
	expect_refused(f, id, joblife_resume, "is scheduled, not paused");
	assert_int_equal(joblife_pause(&f->x, id, &f->err), STORE_OK);
	get(f, id, &j);
	assert_int_equal(j.state, JOB_STATE_PAUSED);
	assert_int_equal(j.resume_at, 0);
	assert_true(joblife_held_by_hand(&j));
	assert_false(joblife_due(&j, NOW + 1000000, NULL));
	job_rec_free(&j);
	assert_int_equal(joblife_resume(&f->x, id, &f->err), STORE_OK);
	get(f, id, &j);
	assert_int_equal(j.state, JOB_STATE_RUNNING);
	job_rec_free(&j);
	expect_refused(f, id, joblife_resume, "is running, not paused");
	assert_int_equal(joblife_cancel(&f->x, id, &f->err), STORE_OK);
	get(f, id, &j);
	assert_int_equal(j.state, JOB_STATE_CANCELLED);
	assert_int_equal(j.finished, NOW);
	job_rec_free(&j);
	/* cancelled is final: resume a cancelled job, pause or cancel it again */
	expect_refused(f, id, joblife_resume, "a cancelled job cannot be resumed");
	expect_refused(f, id, joblife_pause, "a cancelled job cannot be paused");
	expect_refused(f, id, joblife_cancel, "is cancelled already");

	/* done is final: cancel a done one */
	int64_t done = put_job(f, JOB_STATE_DONE, NOW, 0, "", 0);
	expect_refused(f, done, joblife_cancel, "a done job cannot be cancelled");
	expect_refused(f, done, joblife_resume, "a done job cannot be resumed");
	assert_int_equal(joblife_cancel(&f->x, 999999, &f->err), STORE_NOTFOUND);
}

/* The engine's steps: claim leases and runs a due job; relay down pauses it
 * to resume by itself; an admin's pause wins over the end of a batch. */
static void test_engine_steps(void **state)
{
	struct fx *f = *state;
	struct job_rec j = {0};
	int64_t wait = 0;
	int64_t later = put_job(f, JOB_STATE_SCHEDULED, NOW + 60, 0, "", 0);
	assert_int_equal(joblife_claim(&f->x, 0, "me:1:a", 100, &j, &wait, &f->err), 0);
	assert_int_equal(joblife_claim(&f->x, later, "me:1:a", 100, &j, &wait, &f->err), 0);
	assert_int_equal(wait, NOW + 60);
	clock_set(NOW + 60);
	assert_int_equal(joblife_claim(&f->x, 0, "me:1:a", 100, &j, &wait, &f->err), 1);
	assert_int_equal(j.id, later);
	assert_int_equal(j.state, JOB_STATE_RUNNING);
	assert_int_equal(j.lease_until, NOW + 160);
	job_rec_free(&j);
	/* leased: another sender waits */
	assert_int_equal(joblife_claim(&f->x, later, "you:2:b", 100, &j, &wait, &f->err), 0);
	assert_int_equal(wait, NOW + 61);
	/* relay down: paused with the reason, resumes by itself */
	assert_int_equal(joblife_relay_down(&f->x, later, "relay down: x", NOW + 90, &f->err),
			 STORE_OK);
	get(f, later, &j);
	assert_int_equal(j.state, JOB_STATE_PAUSED);
	assert_string_equal(j.pause_reason, "relay down: x");
	assert_string_equal(j.lease_owner, "");
	assert_false(joblife_held_by_hand(&j));
	job_rec_free(&j);
	assert_int_equal(joblife_claim(&f->x, later, "me:1:a", 100, &j, &wait, &f->err), 0);
	assert_int_equal(wait, NOW + 90);
	clock_set(NOW + 90);
	assert_int_equal(joblife_claim(&f->x, later, "me:1:a", 100, &j, &wait, &f->err), 1);
	assert_int_equal(j.state, JOB_STATE_RUNNING);
	assert_string_equal(j.pause_reason, "");
	job_rec_free(&j);
	/* paused by an admin during the batch: the batch's end keeps it paused */
	assert_int_equal(joblife_pause(&f->x, later, &f->err), STORE_OK);
	get(f, later, &j);
	joblife_batch_end(&j, 1, 0, 0, NOW + 91);
	assert_int_equal(j.state, JOB_STATE_PAUSED);
	assert_string_equal(j.lease_owner, "");
	job_rec_free(&j);
	/* running, exhausted: done, or waiting for the retries */
	int64_t run = put_job(f, JOB_STATE_RUNNING, NOW, 0, "me:1:a", NOW + 100);
	get(f, run, &j);
	joblife_batch_end(&j, 1, 2, NOW + 500, NOW + 91);
	assert_int_equal(j.state, JOB_STATE_RUNNING);
	assert_int_equal(j.not_before, NOW + 500);
	joblife_batch_end(&j, 1, 0, 0, NOW + 92);
	assert_int_equal(j.state, JOB_STATE_DONE);
	assert_int_equal(j.finished, NOW + 92);
	job_rec_free(&j);
	/* the list is gone: cancelled */
	assert_int_equal(joblife_orphaned(&f->x, run, &f->err), STORE_OK);
	get(f, run, &j);
	assert_int_equal(j.state, JOB_STATE_CANCELLED);
	job_rec_free(&j);
	clock_set(NOW);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_store_next_agrees, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_final_agrees, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_names_pass_the_schema, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_admin_transitions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_engine_steps, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
