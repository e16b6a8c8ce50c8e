/*
 * me.c - the data request form and the person's data page (see me.h).
 *
 * TRUST: the address from the form is length-checked and parsed before
 * anything else; the answer to an accepted request never names it and is
 * sent before the store is asked about it (me_run runs after it). The
 * token of /me/TOKEN is authenticated before the store is asked anything.
 * What the data page shows goes through html_printf.
 */
#include "web/me.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "crypto/hash.h"
#include "crypto/token.h"
#include "lists/jobs.h"
#include "lists/lists.h"
#include "lists/person.h"
#include "mail/address.h"
#include "web/csrf.h"
#include "web/html.h"
#include "web/mine.h"

/* The data page shows every list the person is on; it has no form per list. */
#define ME_MAX_LISTS 10000

int me_match(const char *path)
{
	return strcmp(path, "/me") == 0 || strncmp(path, "/me/", 4) == 0;
}

static int64_t env_now(const struct listpage_env *env)
{
	return env->now ? env->now : (int64_t)time(NULL);
}

static void ctx_of(const struct listpage_env *env, struct lists_ctx *x)
{
	memset(x, 0, sizeof(*x));
	x->st = env->st;
	x->keys = env->keys;
	x->policy_version = env->consent_version;
	x->actor = "web";
	x->now = env->now;
}

/* --- /me: the request form --------------------------------------------- */

static void render_form(const struct listpage_env *env, const char *address, const char *error,
			struct page *p)
{
	page_head(p, env->site, "What do we hold about you?");
	buf_puts(&p->body, "<h1>What do we hold about you?</h1>\n"
			   "<p>Enter your email address. If we hold anything about it, we send "
			   "a link to that address, and only to it: the link leads to a page "
			   "with the lists you are on and a download of everything we hold "
			   "about you.</p>\n");
	if (error != NULL)
		html_printf(&p->body, "<p class=\"error\" role=\"alert\">%s</p>\n", error);
	char csrf[CSRF_LEN + 1];
	csrf_make(env->keys, "/me", env_now(env), csrf);
	html_printf(&p->body,
		    "<form method=\"post\" action=\"/me\">\n"
		    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n"
		    "<label for=\"address\">Email address</label>\n"
		    "<input id=\"address\" name=\"address\" type=\"email\" required "
		    "maxlength=\"%d\" autocomplete=\"email\" value=\"%s\">\n"
		    "<button type=\"submit\">Send me the link</button>\n</form>\n"
		    "<p>We answer the same whatever the address, so that nobody can learn "
		    "from this page whether someone is on a list here.</p>\n"
		    "<p><a href=\"/\">All lists</a></p>\n",
		    csrf, LK_MAX_ADDRESS, address);
	page_foot(p);
	page_finish(p, env->site);
}

static void sent(const struct listpage_env *env, struct page *p)
{
	page_begin(p, 200, "no-store");
	page_head(p, env->site, "Check your mailbox");
	html_printf(&p->body,
		    "<h1>Check your mailbox</h1>\n<p>If we hold anything about this address, "
		    "we have sent a link to it. The link shows the lists you are on and lets "
		    "you download everything we hold about you; it works for %lld hours.</p>\n"
		    "<p>No message after a few minutes? Look in the spam folder. If there is "
		    "none, we hold nothing about this address. To protect every address from "
		    "unwanted mail, at most %lld such message(s) per %lld hours are sent to "
		    "one address.</p>\n"
		    "<p><a href=\"/\">All lists</a></p>\n",
		    (long long)env->request_ttl / 3600, (long long)env->confirm_max,
		    (long long)(env->confirm_window / 3600));
	page_foot(p);
	page_finish(p, env->site);
}

struct me_deferred {
	struct address a;
};

void me_deferred_free(struct me_deferred *d)
{
	if (d == NULL)
		return;
	address_free(&d->a);
	free(d);
}

static void request_post(const struct listpage_env *env, const struct form *f, struct page *p,
			 struct me_deferred **later)
{
	if (!csrf_check_form(env->keys, "/me", env_now(env), f)) {
		page_error(p, env->site, 403, "Please send the form again",
			   "This form is stale or did not come from this site. Please reload the "
			   "page and fill in the form there.");
		return;
	}
	const char *addr = form_get(f, "address");
	const char *msg = NULL;
	struct address a;
	memset(&a, 0, sizeof(a));
	struct buf err;
	buf_init(&err, 1024);
	if (addr == NULL || addr[0] == '\0')
		msg = "Please enter your email address.";
	else if (strlen(addr) > LK_MAX_ADDRESS)
		msg = "The email address is too long.";
	/* The parser's reason may quote the address: it is not shown. */
	else if (mailbox_parse(addr, strlen(addr), &a, &err) < 0)
		msg = "That does not look like an email address; please check it.";
	if (msg != NULL) {
		page_free(p);
		page_begin(p, 400, "no-store");
		render_form(env, addr != NULL && strlen(addr) <= LK_MAX_ADDRESS ? addr : "", msg,
			    p);
	} else if (env->rl != NULL && !ratelimit_hit(env->rl, RATELIMIT_CLIENT, env->client,
						     env->client_len, env_now(env))) {
		page_error(p, env->site, 429, "Too many requests",
			   "Too many requests came from your network just now. Please try again "
			   "in an hour.");
	} else {
		sent(env, p);
		struct me_deferred *d = xcalloc(1, sizeof(*d));
		d->a = a; /* moved */
		memset(&a, 0, sizeof(a));
		*later = d;
	}
	address_free(&a);
	buf_free(&err);
}

/* The limit's key for data request mails to one address: apart from the
 * confirmation mails' (the same table, another keyed hash). */
static void request_hash(const struct keys *k, const char *key, uint8_t out[HASH_LEN])
{
	static const char LABEL[] = "\0lk-request\0"; /* no address holds a NUL */
	struct buf b;
	buf_init(&b, sizeof(LABEL) + LK_MAX_ADDRESS + 1);
	buf_append(&b, LABEL, sizeof(LABEL) - 1);
	buf_puts(&b, key);
	addr_hash(k, b.data, b.len, out);
	buf_free(&b);
}

static int first_list(void *ctx, const struct subscription_rec *r)
{
	*(int64_t *)ctx = r->list_id;
	return 1;
}

/* Looks the address up; if it is held and its limit allows, queues the
 * mail. One transaction. Returns a STORE_* code. */
static int request(const struct listpage_env *env, const struct address *a, struct buf *err)
{
	struct lists_ctx x;
	ctx_of(env, &x);
	int64_t now = env_now(env), id = 0, list_id = 0, job = 0;
	int allowed = 0;
	struct person_addr pa = {a->addr, a->key};
	int r = store_begin(env->st);
	if (r == STORE_OK)
		r = lists_find(&x, &pa, &id);
	if (r == STORE_NOTFOUND) { /* nothing held: nothing sent, nothing written */
		store_rollback(env->st);
		return STORE_OK;
	}
	if (r == STORE_OK) {
		uint8_t hash[HASH_LEN];
		request_hash(env->keys, a->key, hash);
		r = store_confirm_limit_hit(env->st, hash, now, env->confirm_window,
					    env->confirm_max, &allowed);
	}
	/* The mail is sent in the name of a list the person is on. */
	if (r == STORE_OK && allowed)
		r = store_subscriptions_of(env->st, id, first_list, &list_id);
	if (r == STORE_OK && allowed && list_id != 0) {
		struct list_rec l = {0};
		r = store_list_get_id(env->st, list_id, &l);
		if (r == STORE_OK)
			r = jobs_create_request(&x, &l, id, &job, err);
		list_rec_free(&l);
	}
	if (r == STORE_OK)
		r = store_confirm_limit_prune(env->st, now - env->confirm_window);
	if (r == STORE_OK)
		r = store_commit(env->st);
	if (r != STORE_OK) {
		if (err->len == 0)
			buf_puts(err, store_errmsg(env->st));
		store_rollback(env->st);
	} else if (job != 0) {
		log_info("web: event=data-request subscriber=%lld job=%lld", (long long)id,
			 (long long)job);
	}
	return r;
}

void me_run(const struct listpage_env *env, struct me_deferred *d)
{
	if (d == NULL)
		return;
	struct buf err;
	buf_init(&err, 1024);
	int r = env->st != NULL ? request(env, &d->a, &err) : STORE_ERR;
	/* err may name the subscriber id, never the address. */
	if (r != STORE_OK)
		log_warnx("web: data request failed: %s",
			  env->st != NULL ? buf_cstr(&err) : "no store");
	buf_free(&err);
	me_deferred_free(d);
}

/* --- /me/TOKEN: the data page ---------------------------------------------- */

/* Authenticates the token of path. Returns 0 and *id, or -1 with the error
 * page in p. */
static int load_token(const struct listpage_env *env, const char *path, int64_t *id, struct page *p)
{
	struct token t;
	const char *text = path + 4;
	enum token_status ts =
	    token_decode(env->keys, text, strlen(text), TOKEN_REQUEST, env_now(env), &t);
	if (ts == TOKEN_EXPIRED) {
		page_error(p, env->site, 410, "This link has expired",
			   "Links to your data work for a limited time. Please ask for a new "
			   "one on the page \"What do we hold about you?\" (/me).");
		return -1;
	}
	if (ts != TOKEN_OK) {
		page_error(p, env->site, 400, "This link is not valid",
			   "It may have been cut short or changed on its way. Please copy the "
			   "whole link from the message, or ask for a new one on the page \"What "
			   "do we hold about you?\" (/me).");
		return -1;
	}
	if (env->st == NULL) {
		page_error(p, env->site, 503, "Unavailable",
			   "The server cannot reach its data just now; please try again later.");
		return -1;
	}
	*id = (int64_t)t.subscriber_id;
	return 0;
}

static void gone(const struct listpage_env *env, struct page *p)
{
	page_error(p, env->site, 410, "Nothing is held about you",
		   "This address is on none of our lists any more, and everything we held "
		   "about it has been deleted.");
}

/* A link to a token page for list_id: "/p/TOKEN" or "/u/TOKEN". */
static void token_link(const struct listpage_env *env, struct buf *out, const char *prefix,
		       enum token_purpose purpose, int64_t list_id, int64_t id)
{
	struct token t = {purpose, (uint64_t)list_id, (uint64_t)id, 0};
	buf_reset(out);
	buf_puts(out, prefix);
	token_encode(env->keys, &t, out);
}

static void iso_day(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%d %H:%M UTC", &tm);
}

static void render_data(const struct listpage_env *env, const char *path, const struct mine *m,
			struct page *p)
{
	char since[32];
	iso_day(m->who.created, since);
	page_begin(p, 200, "no-store");
	page_head(p, env->site, "What we hold about you");
	html_printf(
	    &p->body,
	    "<h1>What we hold about you</h1>\n"
	    "<h2>About you</h2>\n<dl class=\"facts\">\n"
	    "<dt>Address</dt><dd>%s</dd>\n"
	    "<dt>Name</dt><dd>%s</dd>\n"
	    "<dt>Country</dt><dd>%s</dd>\n"
	    "<dt>Format of the mail</dt><dd>%s</dd>\n"
	    "<dt>Counting your opens</dt><dd>%s</dd>\n"
	    "<dt>Held since</dt><dd>%s</dd>\n</dl>\n"
	    "<h2>Your lists</h2>\n",
	    m->p.address, m->p.name[0] ? m->p.name : "(none given)",
	    m->p.country[0] ? m->p.country : "(none given)", m->who.html ? "HTML" : "plain text",
	    m->who.tracking ? "yes, you agreed (HTML mail only; counted in total only)" : "no",
	    since);
	struct buf link;
	buf_init(&link, 256);
	if (m->n == 0)
		buf_puts(&p->body, "<p>You are on no list.</p>\n");
	else
		buf_puts(&p->body, "<ul class=\"lists\">\n");
	for (size_t i = 0; i < m->n; i++) {
		const struct mine_list *e = &m->v[i];
		html_printf(&p->body, "<li><strong>%s</strong>: %s%s%s.<br>\n", e->title,
			    mine_state_text(e->sub.state), e->sub.digest ? ", as a digest" : "",
			    e->sub.nomail ? ", no mail for now" : "");
		token_link(env, &link, "/p/", TOKEN_PREFS, e->id, m->who.id);
		html_printf(&p->body, "<a href=\"%s\">Preferences</a> &middot;\n", buf_cstr(&link));
		token_link(env, &link, "/u/", TOKEN_UNSUBSCRIBE, e->id, m->who.id);
		html_printf(&p->body, "<a href=\"%s\">Unsubscribe</a></li>\n", buf_cstr(&link));
	}
	if (m->n > 0)
		buf_puts(&p->body, "</ul>\n");
	buf_free(&link);
	char csrf[CSRF_LEN + 1];
	csrf_make(env->keys, path, env_now(env), csrf);
	html_printf(&p->body,
		    "<h2>Download</h2>\n<p>Everything above, and the history of your consent "
		    "(when and how you subscribed, confirmed, changed or left), as one JSON "
		    "file.</p>\n"
		    "<form method=\"post\" action=\"%s\">\n"
		    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n"
		    "<button type=\"submit\">Download my data (JSON)</button>\n</form>\n"
		    "<p>That is all: opens of our messages are counted only in total, never per "
		    "person, and our web server keeps no record of your visits. When you leave "
		    "your last list, everything here is deleted.</p>\n",
		    path, csrf);
	page_foot(p);
	page_finish(p, env->site);
}

static void data_get(const struct listpage_env *env, const char *path, struct page *p)
{
	int64_t id;
	struct mine m = {0};
	struct lists_ctx x;
	ctx_of(env, &x);
	if (load_token(env, path, &id, p) < 0)
		return;
	int r = mine_load(&x, id, 0, ME_MAX_LISTS, &m);
	if (r == STORE_OK && (r = store_begin(env->st)) == STORE_OK) {
		r = store_audit(env->st, lists_now(&x), "web", "person-view", 0, id, "data page");
		r = r == STORE_OK ? store_commit(env->st) : r;
		if (r != STORE_OK)
			store_rollback(env->st);
	}
	if (r == STORE_NOTFOUND)
		gone(env, p);
	else if (r != STORE_OK)
		page_store_failed(p, env->site, env->st, r);
	else
		render_data(env, path, &m, p);
	mine_free(&m);
}

static void data_post(const struct listpage_env *env, const char *path, const struct form *f,
		      struct page *p)
{
	int64_t id;
	if (load_token(env, path, &id, p) < 0)
		return;
	if (!csrf_check_form(env->keys, path, env_now(env), f)) {
		page_error(p, env->site, 403, "Please press the button again",
			   "This form is stale or did not come from this site. Please open the "
			   "link from the message again and press the button there.");
		return;
	}
	struct lists_ctx x;
	ctx_of(env, &x);
	struct buf err;
	buf_init(&err, 1024);
	page_free(p);
	memset(p, 0, sizeof(*p));
	p->status = 200;
	p->content_type = "application/json; charset=utf-8";
	p->cache_control = "no-store";
	p->disposition = "attachment; filename=\"my-data.json\"";
	buf_init(&p->body, LK_MAX_EXPORT);
	int r = store_begin(env->st);
	if (r == STORE_OK)
		r = lists_person_export(&x, id, &p->body, &err);
	if (r == STORE_OK)
		r = store_commit(env->st);
	if (r != STORE_OK)
		store_rollback(env->st);
	if (r == STORE_OK) {
		log_info("web: event=data-export subscriber=%lld", (long long)id);
	} else if (r == STORE_NOTFOUND) {
		page_free(p);
		page_begin(p, 410, "no-store");
		gone(env, p);
	} else {
		log_warnx("web: data export subscriber=%lld failed: %s", (long long)id,
			  buf_cstr(&err));
		page_free(p);
		page_begin(p, 500, "no-store");
		page_store_failed(p, env->site, env->st, r);
	}
	buf_free(&err);
}

void me_get(const struct listpage_env *env, const char *path, struct page *out)
{
	page_begin(out, 200, "no-store");
	if (strcmp(path, "/me") == 0)
		render_form(env, "", NULL, out);
	else if (path[4] != '\0')
		data_get(env, path, out);
	else
		page_error(out, env->site, 404, "Not found", "There is no page at this address.");
}

void me_post(const struct listpage_env *env, const char *path, const struct form *form,
	     struct page *out, struct me_deferred **later)
{
	*later = NULL;
	page_begin(out, 200, "no-store");
	if (strcmp(path, "/me") == 0)
		request_post(env, form, out, later);
	else if (path[4] != '\0')
		data_post(env, path, form, out);
	else
		page_error(out, env->site, 404, "Not found", "There is no page at this address.");
}
