/*
 * me.c - the data request form and the person's data page (see me.h).
 *
 * TRUST: the address from the form is length-checked and parsed before
 * anything else; the answer to an accepted request never names it and is
 * sent before the store is asked about it (me_run runs after it). The
 * token of /me/TOKEN is authenticated before the store is asked anything.
 * What the pages show are template values (templates/me*.html), escaped.
 */
#include "web/me.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/utc.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "crypto/hash.h"
#include "crypto/token.h"
#include "lists/jobs.h"
#include "lists/lists.h"
#include "lists/person.h"
#include "core/address.h"
#include "mail/listaddr.h"
#include "web/csrf.h"
#include "web/mine.h"

/* The data page shows every list the person is on; it has no form per list. */
#define ME_MAX_LISTS 10000

int me_match(const char *path)
{
	return strcmp(path, "/me") == 0 || strncmp(path, "/me/", 4) == 0;
}

/* --- /me: the request form --------------------------------------------- */

static void render_form(const struct listpage_env *env, const char *address, const char *error,
			struct page *p)
{
	struct tmpl_vars *v = tmpl_vars_new();
	char csrf[CSRF_LEN + 1];
	csrf_make(env->keys, "/me", clock_now(), csrf);
	tmpl_put(v, "title", "What do we hold about you?");
	tmpl_put(v, "csrf", csrf);
	tmpl_put(v, "error", error);
	tmpl_put(v, "address", address);
	tmpl_put_int(v, "max_address", LK_MAX_ADDRESS);
	page_render(p, env->site, "me.html", v);
	tmpl_vars_free(v);
}

/* The answer to every accepted request: nothing in it depends on the address. */
static void sent(const struct listpage_env *env, struct page *p)
{
	struct tmpl_vars *v = tmpl_vars_new();
	page_begin(p, 200, "no-store");
	tmpl_put(v, "title", "Check your mailbox");
	tmpl_put_int(v, "ttl_hours", (long long)(env->request_ttl / 3600));
	tmpl_put_int(v, "confirm_max", (long long)env->confirm_max);
	tmpl_put_int(v, "confirm_hours", (long long)(env->confirm_window / 3600));
	page_render(p, env->site, "me_sent.html", v);
	tmpl_vars_free(v);
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
	if (!csrf_check_form(env->keys, "/me", clock_now(), f)) {
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
						     env->client_len, clock_now())) {
		page_error(p, env->site, 429, "Too many requests",
			   "Too many requests came from your network just now. Please try again "
			   "in an hour.");
	} else if (page_write_check(p, env->site, env->st, "data request") == 0) {
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
	mine_ctx(env, &x);
	int64_t now = clock_now(), id = 0, list_id = 0, job = 0;
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
	r = lists_end_txn(&x, r, err);
	if (r == STORE_OK && job != 0) {
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
	    token_decode(env->keys, text, strlen(text), TOKEN_REQUEST, clock_now(), &t);
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
		page_store_unavailable(p, env->site);
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

/* A link to a token page for list_id: "/p/TOKEN" or "/u/TOKEN", put as key. */
static void token_link(const struct listpage_env *env, struct tmpl_vars *v, const char *key,
		       enum token_purpose purpose, int64_t list_id, int64_t id)
{
	struct buf out;
	buf_init(&out, 256);
	listaddr_url(&out, env->keys, "", purpose, list_id, id, 0);
	tmpl_put(v, key, buf_cstr(&out));
	buf_free(&out);
}

static void render_data(const struct listpage_env *env, const char *path, const struct mine *m,
			struct page *p)
{
	char since[32], csrf[CSRF_LEN + 1];
	utc_format(m->who.created, "%Y-%m-%d %H:%M UTC", since, sizeof(since));
	csrf_make(env->keys, path, clock_now(), csrf);
	struct tmpl_vars *v = tmpl_vars_new();
	tmpl_put(v, "title", "What we hold about you");
	tmpl_put(v, "address", m->p.address);
	tmpl_put(v, "name", m->p.name);
	tmpl_put(v, "country", m->p.country);
	tmpl_put_bool(v, "html", m->who.html);
	tmpl_put_bool(v, "tracking", m->who.tracking);
	tmpl_put(v, "since", since);
	tmpl_put_bool(v, "has_lists", m->n > 0);
	tmpl_put_list(v, "lists");
	for (size_t i = 0; i < m->n; i++) {
		const struct mine_list *e = &m->v[i];
		struct tmpl_vars *it = tmpl_add_item(v, "lists");
		tmpl_put(it, "title", e->title);
		tmpl_put(it, "state", mine_state_text(e->sub.state));
		tmpl_put_bool(it, "digest", e->sub.digest);
		tmpl_put_bool(it, "nomail", e->sub.nomail);
		token_link(env, it, "prefs_url", TOKEN_PREFS, e->id, m->who.id);
		token_link(env, it, "unsubscribe_url", TOKEN_UNSUBSCRIBE, e->id, m->who.id);
	}
	tmpl_put(v, "action", path);
	tmpl_put(v, "csrf", csrf);
	page_begin(p, 200, "no-store");
	page_render(p, env->site, "me_data.html", v);
	tmpl_vars_free(v);
}

static void data_get(const struct listpage_env *env, const char *path, struct page *p)
{
	int64_t id;
	struct mine m = {0};
	struct lists_ctx x;
	mine_ctx(env, &x);
	if (load_token(env, path, &id, p) < 0)
		return;
	int r = mine_load(&x, id, 0, ME_MAX_LISTS, &m);
	if (r == STORE_OK)
		r = mine_audit_view(&x, id, "data page");
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
	if (!csrf_check_form(env->keys, path, clock_now(), f)) {
		page_error(p, env->site, 403, "Please press the button again",
			   "This form is stale or did not come from this site. Please open the "
			   "link from the message again and press the button there.");
		return;
	}
	struct lists_ctx x;
	mine_ctx(env, &x);
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
		page_begin(p, 503, "no-store");
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
