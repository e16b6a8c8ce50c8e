/*
 * tokpages.c - confirm and unsubscribe pages (see tokpages.h).
 *
 * TRUST: the token in the path is authenticated before the store is asked
 * anything; a token only ever names ids, and the pages show only the list's
 * title (escaped), never the person's address or name. Form values are
 * compared, never echoed.
 */
#include "web/tokpages.h"
#include "web/scrub.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "crypto/token.h"
#include "lists/jobs.h"
#include "lists/lists.h"
#include "lists/person.h"
#include "web/csrf.h"
#include "web/writer.h"

int tokpages_match(const char *path)
{
	return strncmp(path, "/c/", 3) == 0 || strncmp(path, "/u/", 3) == 0;
}

static void ctx_of(const struct tokpages_env *env, struct lists_ctx *x)
{
	memset(x, 0, sizeof(*x));
	x->st = env->st;
	x->keys = env->keys;
	x->policy_version = env->policy_version;
	x->tmpl = env->site->tmpl;
	x->actor = "web";
}

/* What a token names, loaded. */
struct target {
	struct token t;
	struct list_rec l;
	struct subscription_rec sub;
	int subscribed; /* sub holds the subscription */
};

static void target_free(struct target *tg)
{
	list_rec_free(&tg->l);
}

/* The token of path ("/x/TOKEN") for purpose, into tg (cleared first). */
static enum token_status token_of(const struct tokpages_env *env, const char *path,
				  enum token_purpose purpose, struct target *tg)
{
	memset(tg, 0, sizeof(*tg));
	const char *text = path + 3;
	return token_decode(env->keys, text, strlen(text), purpose, clock_now(), &tg->t);
}

/* Authenticates the token of path for purpose. Returns 0, or -1 with the
 * error page in p (begun). */
static int decode(const struct tokpages_env *env, const char *path, enum token_purpose purpose,
		  struct target *tg, struct page *p)
{
	enum token_status ts = token_of(env, path, purpose, tg);
	if (ts == TOKEN_EXPIRED) {
		page_error(p, env->site, 410, "This link has expired",
			   "Confirmation links work for a limited time. Please subscribe again "
			   "on the list's page: a new link will be mailed to you.");
		return -1;
	}
	if (ts != TOKEN_OK) {
		page_error(p, env->site, 400, "This link is not valid",
			   purpose == TOKEN_CONFIRM
			       ? "It may have been cut short or changed on its way. Please "
				 "subscribe again on the list's page: a new link will be mailed "
				 "to you."
			       : "It may have been cut short or changed on its way. Please copy "
				 "the whole link from the message, or use the unsubscribe link of "
				 "a newer message.");
		return -1;
	}
	return 0;
}

/* decode, then loads the list and the subscription. Returns 0, or -1 with
 * the error page in p (begun). */
static int load(const struct tokpages_env *env, const char *path, enum token_purpose purpose,
		struct target *tg, struct page *p)
{
	if (decode(env, path, purpose, tg, p) < 0)
		return -1;
	if (env->st == NULL) {
		page_store_unavailable(p, env->site);
		return -1;
	}
	int r = store_list_get_id(env->st, (int64_t)tg->t.list_id, &tg->l);
	if (r == STORE_NOTFOUND) {
		page_error(p, env->site, 410, "This list no longer exists",
			   "The list this link was for has been closed. There is nothing more "
			   "to do.");
		return -1;
	}
	if (r == STORE_OK) {
		r = store_subscription_get(env->st, (int64_t)tg->t.list_id,
					   (int64_t)tg->t.subscriber_id, &tg->sub);
		tg->subscribed = r == STORE_OK;
		if (r == STORE_NOTFOUND)
			r = STORE_OK;
	}
	if (r != STORE_OK) {
		page_store_failed(p, env->site, env->st, r);
		return -1;
	}
	return 0;
}

static void csrf_refused(const struct tokpages_env *env, struct page *p)
{
	page_error(p, env->site, 403, "Please press the button again",
		   "This form is stale or did not come from this site. Please open the link "
		   "from the message again and press the button there.");
}

/* Values of a page with a form: its list's title, and the form that posts
 * to exactly the path the page was fetched at, with its CSRF field. */
static struct tmpl_vars *form_vars(const struct tokpages_env *env, const char *path,
				   const struct target *tg, const char *title)
{
	char csrf[CSRF_LEN + 1];
	csrf_make(env->keys, path, clock_now(), csrf);
	struct tmpl_vars *v = tmpl_vars_new();
	tmpl_put(v, "title", title);
	tmpl_put(v, "list_title", page_list_title(&tg->l));
	tmpl_put(v, "action", path);
	tmpl_put(v, "csrf", csrf);
	return v;
}

/* Renders name, a page about the list of tg, with a title and flags. */
static void show(const struct tokpages_env *env, const struct target *tg, const char *name,
		 const char *title, const char *flag, struct page *p)
{
	struct tmpl_vars *v = tmpl_vars_new();
	tmpl_put(v, "title", title);
	tmpl_put(v, "list_title", page_list_title(&tg->l));
	if (flag != NULL)
		tmpl_put_bool(v, flag, 1);
	page_begin(p, 200, "no-store");
	page_render(p, env->site, name, v);
	tmpl_vars_free(v);
}

/* --- /c/TOKEN ------------------------------------------------------------ */

static void confirm_done(const struct tokpages_env *env, const struct target *tg, int already,
			 struct page *p)
{
	/* A request confirmed on an owner-policy list waits for the owners: the
	 * page says so, when it is fresh and when the link is opened again. */
	int held = already ? tg->sub.state == SUB_STATE_HELD : tg->l.sub_policy == LIST_SUB_OWNER;
	if (held)
		show(env, tg, "confirmed.html", "Thank you", "held", p);
	else if (already)
		show(env, tg, "confirmed.html", "Already confirmed", "already", p);
	else
		show(env, tg, "confirmed.html", "You are subscribed", "subscribed", p);
}

static void confirm_gone(const struct tokpages_env *env, struct page *p)
{
	page_error(p, env->site, 410, "Nothing to confirm",
		   "This subscription request is no longer open. Please subscribe again on the "
		   "list's page: a new link will be mailed to you.");
}

static void confirm_get(const struct tokpages_env *env, const char *path, struct page *p)
{
	struct target tg;
	if (load(env, path, TOKEN_CONFIRM, &tg, p) < 0) {
		target_free(&tg);
		return;
	}
	if (!tg.subscribed) {
		confirm_gone(env, p);
	} else if (tg.sub.state != SUB_STATE_PENDING) {
		confirm_done(env, &tg, 1, p);
	} else {
		struct tmpl_vars *v = form_vars(env, path, &tg, "Confirm your subscription");
		page_begin(p, 200, "no-store");
		page_render(p, env->site, "confirm.html", v);
		tmpl_vars_free(v);
	}
	target_free(&tg);
}

static void confirm_post(const struct tokpages_env *env, const char *path, const struct form *f,
			 struct page *p)
{
	struct target tg;
	if (load(env, path, TOKEN_CONFIRM, &tg, p) < 0) {
		target_free(&tg);
		return;
	}
	if (!csrf_check_form(env->keys, path, clock_now(), f)) {
		csrf_refused(env, p);
		target_free(&tg);
		return;
	}
	struct lists_ctx x;
	ctx_of(env, &x);
	struct buf err;
	buf_init(&err, 1024);
	/* No IP is passed: none is stored yet (P6). */
	int r = lists_confirm(&x, &tg.l, (int64_t)tg.t.subscriber_id, "web", NULL, &err);
	if (r == STORE_OK || r == STORE_EXISTS) {
		if (r == STORE_OK)
			log_info("web: event=confirm list=%lld subscriber=%lld", (long long)tg.l.id,
				 (long long)tg.t.subscriber_id);
		confirm_done(env, &tg, r == STORE_EXISTS, p);
	} else if (r == STORE_NOTFOUND) {
		confirm_gone(env, p);
	} else {
		page_store_failed(p, env->site, env->st, r);
	}
	buf_free(&err);
	target_free(&tg);
}

/* --- /u/TOKEN ------------------------------------------------------------ */

static void not_subscribed(const struct tokpages_env *env, const struct target *tg, struct page *p)
{
	show(env, tg, "not_subscribed.html", "You are not subscribed", NULL, p);
}

static void unsub_get(const struct tokpages_env *env, const char *path, struct page *p)
{
	struct target tg;
	if (load(env, path, TOKEN_UNSUBSCRIBE, &tg, p) < 0) {
		target_free(&tg);
		return;
	}
	if (!tg.subscribed) {
		not_subscribed(env, &tg, p);
		target_free(&tg);
		return;
	}
	struct tmpl_vars *v = form_vars(env, path, &tg, "Unsubscribe");
	page_begin(p, 200, "no-store");
	page_render(p, env->site, "unsubscribe.html", v);
	tmpl_vars_free(v);
	target_free(&tg);
}

struct ids {
	int64_t *v;
	size_t n, cap;
};

static int collect(void *ctx, const struct subscription_rec *r)
{
	struct ids *ids = ctx;
	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? 2 * ids->cap : 8;
		ids->v = xreallocarray(ids->v, ids->cap, sizeof(*ids->v));
	}
	ids->v[ids->n++] = r->list_id;
	return 0;
}

/* The unsubscribe work, a job of the web's writer (web/writer.h): it may
 * run twice, so it starts afresh each time. */
struct unsub_job {
	const struct tokpages_env *env;
	struct target *tg;
	int load; /* read the list and the subscription of tg->t first (one-click) */
	int all, goodbye;
	size_t left; /* out: how many subscriptions were ended */
	int erased;  /* out: the person's data is gone */
};

/* Reads the list and the subscription that tg->t names. */
static int load_in(struct store *st, struct target *tg)
{
	list_rec_free(&tg->l);
	memset(&tg->l, 0, sizeof(tg->l));
	tg->subscribed = 0;
	int r = store_list_get_id(st, (int64_t)tg->t.list_id, &tg->l);
	if (r == STORE_OK) {
		r = store_subscription_get(st, (int64_t)tg->t.list_id, (int64_t)tg->t.subscriber_id,
					   &tg->sub);
		tg->subscribed = r == STORE_OK;
		if (r == STORE_NOTFOUND)
			r = STORE_OK;
	}
	return r;
}

/* Ends the subscriptions (one transaction, nested in the writer's). Returns
 * a STORE_* code; STORE_NOTFOUND when load finds the list gone. */
static int unsub_run(struct store *st, void *arg)
{
	struct unsub_job *j = arg;
	const struct tokpages_env *env = j->env;
	struct target *tg = j->tg;
	struct lists_ctx x;
	ctx_of(env, &x);
	x.st = st;
	int64_t who = (int64_t)tg->t.subscriber_id;
	struct ids ids = {0};
	struct buf err;
	buf_init(&err, 1024);
	j->left = 0;
	j->erased = 0;
	struct person p = {0};
	int r = store_begin(st);
	if (r == STORE_OK && j->load)
		r = load_in(st, tg);
	if (r == STORE_OK && j->goodbye && tg->subscribed) {
		/* the address, read before an erasure makes it unreadable */
		struct subscriber_rec rec = {0};
		if (store_subscriber_get(st, who, &rec) == STORE_OK &&
		    lists_person_load(&x, &rec, &p) < 0)
			memset(&p, 0, sizeof(p));
		subscriber_rec_free(&rec);
	}
	if (r == STORE_OK && j->all)
		r = store_subscriptions_of(st, who, collect, &ids);
	else if (r == STORE_OK && tg->subscribed)
		collect(&ids, &tg->sub);
	for (size_t i = 0; r == STORE_OK && i < ids.n && !j->erased; i++) {
		struct list_rec l;
		memset(&l, 0, sizeof(l));
		r = store_list_get_id(st, ids.v[i], &l);
		if (r == STORE_OK)
			r = lists_unsubscribe(&x, &l, who, "web", &j->erased, &err);
		if (r == STORE_NOTFOUND) /* gone meanwhile: nothing to end */
			r = STORE_OK;
		else if (r == STORE_OK)
			j->left++;
		list_rec_free(&l);
	}
	int64_t job = 0;
	if (r == STORE_OK && j->left > 0 && p.address != NULL)
		r = jobs_create_goodbye(&x, &tg->l, p.address, p.name, j->all, j->erased, &job,
					&err);
	person_free(&p);
	if (r == STORE_OK)
		r = store_commit(st);
	if (r != STORE_OK) {
		if (err.len)
			log_warnx("web: unsubscribe subscriber=%lld: %s", (long long)who,
				  buf_cstr(&err));
		store_rollback(st);
		j->left = 0;
		j->erased = 0;
	}
	free(ids.v);
	buf_free(&err);
	return r;
}

/* What follows a run of j that returned r (err: its message): a failure is
 * logged, an erasure asks for the scrub. Returns r. */
static int unsubscribed(struct unsub_job *j, int r, const struct buf *err)
{
	if (r < 0) {
		log_warnx("web: unsubscribe subscriber=%lld: %s", (long long)j->tg->t.subscriber_id,
			  err->len ? buf_cstr(err) : "store error");
		j->left = 0;
		j->erased = 0;
	}
	if (j->erased)
		web_scrub_soon(); /* the WAL checkpoint, within LK_WEB_SCRUB_MS */
	return r;
}

/* Runs j by the writer (on the store alone without one) and asks for the
 * scrub after an erasure. Returns a STORE_* code; a failure is logged. */
static int unsubscribe(struct unsub_job *j)
{
	const struct tokpages_env *env = j->env;
	struct buf err;
	buf_init(&err, 1024);
	int r;
	if (env->writer != NULL)
		r = writer_run(env->writer, unsub_run, j, &err);
	else if (env->st != NULL)
		r = unsub_run(env->st, j);
	else {
		r = STORE_ERR;
		buf_puts(&err, "the store cannot be opened");
	}
	r = unsubscribed(j, r, &err);
	buf_free(&err);
	return r;
}

/* RFC 8058 section 3.1: the body is "List-Unsubscribe=One-Click". Mail
 * providers send exactly that; white space around the value is forgiven. */
static int one_click(const struct form *f)
{
	const char *v = form_get(f, "List-Unsubscribe");
	return v != NULL && str_eq_z(str_trim(str_from_z(v)), "One-Click");
}

/* A short text answer for a machine. */
static void one_click_answer(struct page *p, unsigned status)
{
	const char *msg = status == 200	  ? "Unsubscribed.\n"
			  : status == 400 ? "This unsubscribe link is not valid.\n"
			  : status == 410 ? "This list no longer exists.\n"
			  : status == 503 ? "Unavailable just now; please try again later.\n"
					  : "Something went wrong; please try again later.\n";
	page_free(p);
	page_text(p, status, "no-store", "text/plain; charset=utf-8", msg, strlen(msg));
}

static unsigned one_click_status(int r)
{
	return r == STORE_OK ? 200 : r == STORE_NOTFOUND ? 410 : 503; /* page_store_error */
}

/* The list and the subscription are read by the job, in the writer's
 * transaction: no read of its own on this worker's connection. */
static void one_click_post(const struct tokpages_env *env, const char *path, struct page *p)
{
	struct target tg;
	if (decode(env, path, TOKEN_UNSUBSCRIBE, &tg, p) < 0) {
		one_click_answer(p, p->status);
		target_free(&tg);
		return;
	}
	/* no goodbye: a machine asked */
	struct unsub_job j = {env, &tg, 1, 0, 0, 0, 0};
	one_click_answer(p, one_click_status(unsubscribe(&j)));
	target_free(&tg);
}

/* A one-click POST handed to the writer (tokpages.h). */
struct tokpages_oneclick {
	struct tokpages_env env; /* a copy: the request's is gone by the time it runs */
	struct target tg;
	struct unsub_job j;
	struct buf err;
	int code;
	void (*done)(void *arg);
	void *done_arg;
};

static int oneclick_run(struct store *st, void *arg)
{
	struct tokpages_oneclick *oc = arg;
	return unsub_run(st, &oc->j);
}

static void oneclick_ran(void *arg, int code)
{
	struct tokpages_oneclick *oc = arg;
	oc->code = code;
	oc->done(oc->done_arg);
}

struct tokpages_oneclick *tokpages_oneclick_start(const struct tokpages_env *env, const char *path,
						  const struct form *form)
{
	if (env->writer == NULL || strncmp(path, "/u/", 3) != 0 || !one_click(form))
		return NULL;
	struct tokpages_oneclick *oc = xcalloc(1, sizeof(*oc));
	if (token_of(env, path, TOKEN_UNSUBSCRIBE, &oc->tg) != TOKEN_OK) {
		free(oc); /* tokpages_post says what is wrong */
		return NULL;
	}
	oc->env = *env;
	oc->env.st = NULL; /* the job runs on the writer's */
	/* no goodbye: a machine asked */
	oc->j = (struct unsub_job){&oc->env, &oc->tg, 1, 0, 0, 0, 0};
	buf_init(&oc->err, 1024);
	oc->code = STORE_ERR;
	return oc;
}

void tokpages_oneclick_submit(struct tokpages_oneclick *oc, void (*done)(void *arg), void *arg)
{
	oc->done = done;
	oc->done_arg = arg;
	writer_submit(oc->env.writer, oneclick_run, oc, &oc->err, oneclick_ran);
}

void tokpages_oneclick_finish(struct tokpages_oneclick *oc, struct page *out)
{
	/* never submitted: nothing ran, nothing to log */
	int r = oc->done != NULL ? unsubscribed(&oc->j, oc->code, &oc->err) : STORE_ERR;
	if (out != NULL) {
		page_begin(out, 200, "no-store");
		one_click_answer(out, one_click_status(r));
	}
	target_free(&oc->tg);
	buf_free(&oc->err);
	free(oc);
}

static void unsub_post(const struct tokpages_env *env, const char *path, const struct form *f,
		       struct page *p)
{
	struct target tg;
	if (load(env, path, TOKEN_UNSUBSCRIBE, &tg, p) < 0) {
		target_free(&tg);
		return;
	}
	if (!csrf_check_form(env->keys, path, clock_now(), f)) {
		csrf_refused(env, p);
		target_free(&tg);
		return;
	}
	int all = form_get(f, "all") != NULL;
	struct unsub_job j = {env, &tg, 0, all, 1, 0, 0};
	int r = unsubscribe(&j);
	if (r != STORE_OK) {
		page_store_error(p, env->site, r); /* logged by unsubscribe */
	} else if (j.left == 0) {
		not_subscribed(env, &tg, p);
	} else {
		struct tmpl_vars *v = tmpl_vars_new();
		tmpl_put(v, "title", "You are unsubscribed");
		tmpl_put(v, "list_title", page_list_title(&tg.l));
		tmpl_put_bool(v, "all", all);
		tmpl_put_int(v, "left", (long long)j.left);
		tmpl_put_bool(v, "erased", j.erased);
		page_begin(p, 200, "no-store");
		page_render(p, env->site, "unsubscribed.html", v);
		tmpl_vars_free(v);
	}
	target_free(&tg);
}

void tokpages_get(const struct tokpages_env *env, const char *path, struct page *out)
{
	page_begin(out, 404, "no-store");
	if (strncmp(path, "/c/", 3) == 0)
		confirm_get(env, path, out);
	else if (strncmp(path, "/u/", 3) == 0)
		unsub_get(env, path, out);
	else
		page_error(out, env->site, 404, "Not found", "There is no page at this address.");
}

void tokpages_post(const struct tokpages_env *env, const char *path, const struct form *form,
		   struct page *out)
{
	page_begin(out, 404, "no-store");
	if (strncmp(path, "/c/", 3) == 0)
		confirm_post(env, path, form, out);
	else if (strncmp(path, "/u/", 3) == 0 && one_click(form))
		one_click_post(env, path, out);
	else if (strncmp(path, "/u/", 3) == 0)
		unsub_post(env, path, form, out);
	else
		page_error(out, env->site, 404, "Not found", "There is no page at this address.");
}
