/*
 * test_engine.c - the delivery engine over the Maildir relay: who receives a
 * campaign (active, not no-mail, not suppressed; never pending), confirmation
 * requests reach pending people only, the cursor and counters, a cancelled
 * job sends nothing.
 */
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/conf.h"
#include "crypto/keys.h"
#include "crypto/pii.h"
#include "delivery/engine.h"
#include "crypto/token.h"
#include "lists/joblife.h"
#include "lists/jobs.h"
#include "lists/lists.h"
#include "lists/person.h"
#include "lists/person_int.h" /* AD_DATA */
#include "store/store.h"

struct fx {
	char dir[64];
	char maildir[128];
	struct conf *c;
	struct keys k;
	struct store *st;
	struct lists_ctx x;
	struct list_rec l;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct buf err;
	buf_init(&err, 1024);
	snprintf(f->dir, sizeof(f->dir), "/tmp/lk-engine-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->maildir, sizeof(f->maildir), "%s/outbox", f->dir);
	char db[128], relay[160];
	snprintf(db, sizeof(db), "%s/t.db", f->dir);
	snprintf(relay, sizeof(relay), "maildir:%s", f->maildir);
	f->c = conf_load(NULL, &err);
	assert_non_null(f->c);
	assert_int_equal(conf_set(f->c, "store", "path", db, &err), 0);
	assert_int_equal(conf_set(f->c, "delivery", "relay", relay, &err), 0);
	assert_int_equal(conf_set(f->c, "general", "base_url", "https://lists.example.org", &err),
			 0);
	assert_int_equal(crypto_init(), 0);
	keys_generate(&f->k);
	f->st = store_open(f->c, 1, &err);
	assert_non_null(f->st);
	f->x.st = f->st;
	f->x.keys = &f->k;
	f->x.policy_version = "1";
	f->x.actor = "test";
	lists_defaults(&f->l, "news", "lists.example.org");
	assert_int_equal(lists_create(&f->x, &f->l, &err), STORE_OK);
	buf_free(&err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_close(f->st);
	conf_free(f->c);
	list_rec_free(&f->l);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static int64_t add(struct fx *f, const char *addr, const char *name, int confirmed)
{
	struct buf err;
	buf_init(&err, 1024);
	struct subscribe_req rq = {0};
	rq.address = addr;
	rq.name = name;
	rq.source = "test";
	rq.confirmed = confirmed;
	rq.note = "test";
	int64_t id = 0;
	enum subscribe_result r = lists_subscribe(&f->x, &f->l, &rq, &id, &err);
	assert_true(r == SUBSCRIBE_ACTIVE || r == SUBSCRIBE_PENDING);
	buf_free(&err);
	return id;
}

/* Concatenates every message in the Maildir's new/ into out; returns the count. */
static int read_maildir(struct fx *f, struct buf *out)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/new", f->maildir);
	DIR *d = opendir(path);
	if (d == NULL)
		return 0;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char file[512];
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		FILE *fp = fopen(file, "r");
		assert_non_null(fp);
		char chunk[4096];
		size_t k;
		while ((k = fread(chunk, 1, sizeof(chunk), fp)) > 0)
			buf_append(out, chunk, k);
		fclose(fp);
		buf_puts(out, "\n=====\n");
		n++;
	}
	closedir(d);
	return n;
}

static void run_all(struct fx *f, struct engine *e)
{
	struct buf err;
	buf_init(&err, 1024);
	for (int i = 0; i < 1000; i++) {
		int r = engine_step(e, 0, NULL, &err);
		assert_true(r >= 0);
		if (r == 0)
			break;
	}
	buf_free(&err);
	(void)f;
}

static void test_campaign_recipients(void **state)
{
	struct fx *f = *state;
	struct buf err, mail;
	buf_init(&err, 1024);
	buf_init(&mail, 1 << 24);
	add(f, "active1@example.org", "Active One", 1);
	add(f, "active2@example.org", "Active Two", 1);
	int64_t pend = add(f, "pending@example.org", "Pending Person", 0);
	int64_t nomail = add(f, "nomail@example.org", "No Mail", 1);
	int64_t supp = add(f, "suppressed@example.org", "Suppressed", 1);
	(void)pend;
	/* no-mail, and an all-lists suppression without leaving (e.g. a complaint) */
	struct subscription_rec sub;
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_subscription_get(f->st, f->l.id, nomail, &sub), STORE_OK);
	sub.nomail = 1;
	assert_int_equal(store_subscription_put(f->st, &sub), STORE_OK);
	struct subscriber_rec who = {0};
	assert_int_equal(store_subscriber_get(f->st, supp, &who), STORE_OK);
	assert_int_equal(store_suppression_add(f->st, who.addr_hash, 0, "complaint", 1), STORE_OK);
	subscriber_rec_free(&who);
	assert_int_equal(store_commit(f->st), STORE_OK);

	int64_t id = 0;
	assert_int_equal(jobs_create_campaign(&f->x, &f->l, "Hello {{name}}",
					      "Dear {{name}},\nnews.\n", NULL, 0, &id, &err),
			 STORE_OK);
	struct engine *e = engine_new(f->c, f->st, &f->k, &err);
	assert_non_null(e);
	run_all(f, e);
	engine_free(e);

	int n = read_maildir(f, &mail);
	assert_int_equal(n, 2);
	const char *m = buf_cstr(&mail);
	assert_non_null(strstr(m, "active1@example.org"));
	assert_non_null(strstr(m, "active2@example.org"));
	assert_null(strstr(m, "pending@example.org"));
	assert_null(strstr(m, "nomail@example.org"));
	assert_null(strstr(m, "suppressed@example.org"));
	assert_non_null(strstr(m, "List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
	assert_non_null(strstr(m, "https://lists.example.org/u/"));
	assert_non_null(strstr(m, "Hello Active One"));
	/* The one-click URL carries a token that unsubscribes exactly this
	 * subscriber from exactly this list (the web endpoint checks it so). */
	{
		const char *u = strstr(m, "List-Unsubscribe: <https://lists.example.org/u/");
		assert_non_null(u);
		u += strlen("List-Unsubscribe: <https://lists.example.org/u/");
		size_t tl = strcspn(u, ">");
		assert_int_equal(tl, TOKEN_TEXT_LEN);
		struct token t;
		assert_int_equal(token_decode(&f->k, u, tl, TOKEN_UNSUBSCRIBE, 0, &t), TOKEN_OK);
		assert_int_equal((int64_t)t.list_id, f->l.id);
		assert_int_equal(t.expires, 0);
		struct subscriber_rec who1 = {0};
		assert_int_equal(store_subscriber_get(f->st, (int64_t)t.subscriber_id, &who1),
				 STORE_OK);
		struct person p;
		assert_int_equal(lists_person_load(&f->x, &who1, &p), 0);
		assert_true(strstr(m, p.address) != NULL);
		assert_int_equal(token_decode(&f->k, u, tl, TOKEN_CONFIRM, 0, &t),
				 TOKEN_WRONG_PURPOSE);
		person_free(&p);
		subscriber_rec_free(&who1);
	}

	struct job_rec j = {0};
	assert_int_equal(store_job_get(f->st, id, &j), STORE_OK);
	assert_string_equal(job_state_name(j.state), "done");
	assert_int_equal(j.sent, 2);
	assert_int_equal(j.failed, 0);
	job_rec_free(&j);
	buf_free(&mail);
	buf_free(&err);
}

static void test_confirmation_request(void **state)
{
	struct fx *f = *state;
	struct buf err, mail;
	buf_init(&err, 1024);
	buf_init(&mail, 1 << 22);
	add(f, "active@example.org", "Active", 1);
	int64_t pend = add(f, "newbie@example.org", "New Bie", 0);
	int64_t id = 0;
	assert_int_equal(jobs_create_confirm(&f->x, &f->l, pend, &id, &err), STORE_OK);
	struct engine *e = engine_new(f->c, f->st, &f->k, &err);
	run_all(f, e);
	/* once confirmed, a second request for the same person sends nothing */
	assert_int_equal(lists_confirm(&f->x, &f->l, pend, "test", NULL, &err), STORE_OK);
	int64_t id2 = 0;
	assert_int_equal(jobs_create_confirm(&f->x, &f->l, pend, &id2, &err), STORE_OK);
	run_all(f, e);
	engine_free(e);
	/* the request, and the welcome that followed the confirmation */
	assert_int_equal(read_maildir(f, &mail), 2);
	const char *m = buf_cstr(&mail);
	assert_non_null(strstr(m, "Subject: Welcome to"));
	assert_non_null(strstr(m, "newbie@example.org"));
	assert_null(strstr(m, "active@example.org"));
	assert_non_null(strstr(m, "https://lists.example.org/c/"));
	struct job_rec j = {0};
	assert_int_equal(store_job_get(f->st, id2, &j), STORE_OK);
	assert_string_equal(job_state_name(j.state), "done");
	assert_int_equal(j.sent, 0);
	job_rec_free(&j);
	buf_free(&mail);
	buf_free(&err);
}

/* A data request (web /me): one text mail to the person only, with a /me/
 * link whose REQUEST token names the person and expires. */
static void test_data_request(void **state)
{
	struct fx *f = *state;
	struct buf err, mail;
	buf_init(&err, 1024);
	buf_init(&mail, 1 << 22);
	add(f, "other@example.org", "Other", 1);
	int64_t who = add(f, "asker@example.org", "Asker", 1);
	int64_t id = 0;
	assert_int_equal(jobs_create_request(&f->x, &f->l, who, &id, &err), STORE_OK);
	struct engine *e = engine_new(f->c, f->st, &f->k, &err);
	run_all(f, e);
	engine_free(e);
	assert_int_equal(read_maildir(f, &mail), 1);
	const char *m = buf_cstr(&mail);
	assert_non_null(strstr(m, "<asker@example.org>"));
	assert_null(strstr(m, "other@example.org"));
	assert_null(strstr(m, "text/html"));
	/* quoted-printable soft line breaks undone (the link is ASCII) */
	char *flat = strdup(m);
	size_t k = 0;
	for (size_t i = 0; flat[i] != '\0'; i++) {
		if (flat[i] == '=' && flat[i + 1] == '\r' && flat[i + 2] == '\n') {
			i += 2;
			continue;
		}
		if (flat[i] == '=' && flat[i + 1] == '\n') { /* the Maildir keeps LF ends */
			i += 1;
			continue;
		}
		flat[k++] = flat[i];
	}
	flat[k] = '\0';
	const char *u = strstr(flat, "https://lists.example.org/me/");
	assert_non_null(u);
	u += strlen("https://lists.example.org/me/");
	struct token t;
	assert_int_equal(token_decode(&f->k, u, TOKEN_TEXT_LEN, TOKEN_REQUEST, time(NULL), &t),
			 TOKEN_OK);
	assert_int_equal((int64_t)t.subscriber_id, who);
	assert_int_equal(t.list_id, 0);
	assert_true(t.expires > time(NULL) && t.expires <= time(NULL) + 24 * 3600);
	free(flat);
	struct job_rec j = {0};
	assert_int_equal(store_job_get(f->st, id, &j), STORE_OK);
	assert_string_equal(job_state_name(j.state), "done");
	assert_int_equal(j.sent, 1);
	job_rec_free(&j);
	buf_free(&mail);
	buf_free(&err);
}

static void test_cancelled_and_scheduled(void **state)
{
	struct fx *f = *state;
	struct buf err, mail;
	buf_init(&err, 1024);
	buf_init(&mail, 1 << 22);
	add(f, "a@example.org", "A", 1);
	int64_t id = 0, later = 0;
	assert_int_equal(jobs_create_campaign(&f->x, &f->l, "S", "T", NULL, 0, &id, &err),
			 STORE_OK);
	assert_int_equal(joblife_cancel(&f->x, id, &err), STORE_OK);
	assert_int_equal(
	    jobs_create_campaign(&f->x, &f->l, "S", "T", NULL, 4102444800, &later, &err), STORE_OK);
	struct engine *e = engine_new(f->c, f->st, &f->k, &err);
	run_all(f, e);
	engine_free(e);
	assert_int_equal(read_maildir(f, &mail), 0);
	struct job_rec j = {0};
	assert_int_equal(store_job_get(f->st, later, &j), STORE_OK);
	assert_string_equal(job_state_name(j.state), "scheduled");
	job_rec_free(&j);
	buf_free(&mail);
	buf_free(&err);
}

static void test_many_in_batches(void **state)
{
	struct fx *f = *state;
	struct buf err, mail;
	buf_init(&err, 1024);
	buf_init(&mail, 1 << 26);
	char addr[64];
	for (int i = 0; i < 300; i++) {
		snprintf(addr, sizeof(addr), "r%d@example.org", i);
		add(f, addr, "R", 1);
	}
	int64_t id = 0;
	assert_int_equal(jobs_create_campaign(&f->x, &f->l, "S", "T", NULL, 0, &id, &err),
			 STORE_OK);
	struct engine *e = engine_new(f->c, f->st, &f->k, &err);
	run_all(f, e);
	engine_free(e);
	assert_int_equal(read_maildir(f, &mail), 300);
	struct job_rec j = {0};
	assert_int_equal(store_job_get(f->st, id, &j), STORE_OK);
	assert_int_equal(j.sent, 300);
	assert_string_equal(job_state_name(j.state), "done");
	job_rec_free(&j);
	buf_free(&mail);
	buf_free(&err);
}

/* Starts tests/delivery/fault_relay.py with SIZE size on a free port; sets
 * *pid and points f's relay at it. */
static void smtp_relay(struct fx *f, const char *size, pid_t *pid)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	*pid = fork();
	assert_true(*pid >= 0);
	if (*pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlives the test */
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execlp("python3", "python3", "fault_relay.py", "--max-seconds", "60", "--size",
		       size, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	char line[32] = "";
	size_t got = 0;
	while (got < sizeof(line) - 1 && memchr(line, '\n', got) == NULL) {
		struct pollfd pf = {.fd = fds[0], .events = POLLIN};
		if (poll(&pf, 1, 10000) <= 0)
			break;
		ssize_t r = read(fds[0], line + got, sizeof(line) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		line[got] = '\0';
	}
	close(fds[0]);
	int port = (int)strtol(line, NULL, 10);
	if (port <= 0)
		fail_msg("fault_relay.py did not start");
	char relay[64];
	snprintf(relay, sizeof(relay), "smtp:127.0.0.1:%d", port);
	struct buf err;
	buf_init(&err, 256);
	assert_int_equal(conf_set(f->c, "delivery", "relay", relay, &err), 0);
	assert_int_equal(conf_set(f->c, "delivery", "tls", "none", &err), 0);
	assert_int_equal(conf_set(f->c, "bounce", "threshold", "1", &err), 0);
	buf_free(&err);
}

struct failures {
	char text[256];
};

static int failure_cb(void *ctx, const char *reason, int64_t n)
{
	struct failures *fl = ctx;
	size_t l = strlen(fl->text);
	snprintf(fl->text + l, sizeof(fl->text) - l, "%s%s=%lld", l ? " " : "", reason,
		 (long long)n);
	return 0;
}

/* A stored address that composes (UTF-8 in its local part: stored by no
 * command today, but nothing below the parser forbids it) yet that the SMTP
 * client refuses to write (no SMTPUTF8), and a message over the relay's
 * SIZE: both are the job's failures, with their reason; the subscriber's
 * bounce score stays 0 and the subscription active (threshold 1). A 5xx from
 * the relay is still scored. */
/* Stores addr as subscriber id's address, sealed as lists/person.c seals
 * it but never normalised: an address that lists_subscribe would refuse
 * (a UTF-8 local part: no SMTPUTF8 here), as an older database or another
 * writer of the store could hold it. */
static void store_raw_address(struct fx *f, int64_t id, const char *addr, const char *name)
{
	struct subscriber_rec who = {0};
	assert_int_equal(store_subscriber_get(f->st, id, &who), STORE_OK);
	uint8_t key[PII_KEY_LEN];
	assert_int_equal(pii_key_unwrap(&f->k, who.wrapped_key, PII_WRAPPED_LEN, key), 0);
	char plain[256];
	snprintf(plain, sizeof plain, "{\"a\":\"%s\",\"n\":\"%s\"}", addr, name);
	struct buf sealed;
	buf_init(&sealed, 4096);
	assert_int_equal(pii_seal(key, AD_DATA, plain, strlen(plain), &sealed), 0);
	free(who.data);
	who.data = (uint8_t *)sealed.data;
	who.data_len = sealed.len;
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_subscriber_update(f->st, &who), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	buf_free(&sealed);
	who.data = NULL;
	subscriber_rec_free(&who);
}

static void test_local_failures_not_scored(void **state)
{
	struct fx *f = *state;
	pid_t pid;
	smtp_relay(f, "3000", &pid);
	int64_t utf = add(f, "john@example.org", "John", 1);
	store_raw_address(f, utf, "j\xc3\xb6hn@example.org", "John");
	int64_t ok = add(f, "ok@example.org", "Ok", 1);
	int64_t refused = add(f, "rcpt550-x@example.org", "Refused", 1);
	struct buf err;
	buf_init(&err, 1024);
	struct engine *e = engine_new(f->c, f->st, &f->k, &err);
	assert_non_null(e);
	int64_t small = 0, big = 0;
	assert_int_equal(
	    jobs_create_campaign(&f->x, &f->l, "Small", "Hello {{name}}\n", NULL, 0, &small, &err),
	    STORE_OK);
	run_all(f, e);
	char body[4001];
	memset(body, 'a', sizeof(body) - 1);
	for (size_t i = 70; i < sizeof(body) - 1; i += 71)
		body[i] = '\n';
	body[sizeof(body) - 1] = '\0';
	assert_int_equal(jobs_create_campaign(&f->x, &f->l, "Big", body, NULL, 0, &big, &err),
			 STORE_OK);
	run_all(f, e);
	engine_free(e);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);

	struct job_rec j = {0};
	assert_int_equal(store_job_get(f->st, small, &j), STORE_OK);
	assert_int_equal(j.state, JOB_STATE_DONE);
	assert_int_equal(j.sent, 1);
	assert_int_equal(j.failed, 2);
	job_rec_free(&j);
	struct failures fl = {""};
	assert_int_equal(store_job_failures_each(f->st, small, failure_cb, &fl), STORE_OK);
	assert_string_equal(fl.text, "address-refused=1");
	memset(&fl, 0, sizeof(fl));
	assert_int_equal(store_job_failures_each(f->st, big, failure_cb, &fl), STORE_OK);
	assert_string_equal(fl.text, "address-refused=1 over-size=1");

	struct subscription_rec sub;
	assert_int_equal(store_subscription_get(f->st, f->l.id, utf, &sub), STORE_OK);
	assert_int_equal(sub.bounce_score, 0);
	assert_int_equal(sub.state, SUB_STATE_ACTIVE);
	assert_int_equal(store_subscription_get(f->st, f->l.id, ok, &sub), STORE_OK);
	assert_int_equal(sub.bounce_score, 0);
	assert_int_equal(sub.state, SUB_STATE_ACTIVE);
	assert_int_equal(store_subscription_get(f->st, f->l.id, refused, &sub), STORE_OK);
	assert_int_equal(sub.state, SUB_STATE_DISABLED); /* the relay's 550: scored */
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_campaign_recipients, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_confirmation_request, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_data_request, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancelled_and_scheduled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_in_batches, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_local_failures_not_scored, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
