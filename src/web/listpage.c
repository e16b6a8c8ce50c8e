/*
 * listpage.c - a list's page and its subscribe form (see listpage.h).
 *
 * TRUST: the path's name is checked with lists_name_valid before the store
 * is asked; form values are length-checked against core/limits.h before they
 * are parsed, and come back to the page only as template values (escaped). The answer
 * to an accepted request never names the address, so that it is the same for
 * every address; and it is sent before the store is asked anything about the
 * address (listpage_run runs after it), so that its timing is the same too.
 */
#include "web/listpage.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "lists/jobs.h"
#include "lists/lists.h"
#include "lists/person.h"
#include "core/address.h"
#include "web/csrf.h"

int listpage_match(const char *path)
{
	return strncmp(path, "/l/", 3) == 0;
}

/* What the person typed, for the form filled in again after an error. */
struct fields {
	const char *address, *name, *country;
	int html, tracking;
};

static void not_found(const struct listpage_env *env, struct page *p)
{
	page_error(p, env->site, 404, "Not found", "There is no page at this address.");
}

/* Loads the public list named by path into l. Returns 0, or -1 with the
 * error page in p. */
static int load(const struct listpage_env *env, const char *path, struct list_rec *l,
		struct page *p)
{
	memset(l, 0, sizeof(*l));
	struct buf err;
	buf_init(&err, 256);
	int valid = lists_name_valid(path + 3, &err);
	buf_free(&err);
	if (!valid) {
		not_found(env, p);
		return -1;
	}
	if (env->st == NULL) {
		page_store_unavailable(p, env->site);
		return -1;
	}
	int r = store_list_get(env->st, path + 3, l);
	if (r == STORE_NOTFOUND || (r == STORE_OK && !page_list_public(l))) {
		/* A closed list is not shown: it looks as absent as one that is. */
		not_found(env, p);
		return -1;
	}
	if (r != STORE_OK) {
		page_store_failed(p, env->site, env->st, r);
		return -1;
	}
	return 0;
}

static void render_form(const struct listpage_env *env, const char *path, const struct list_rec *l,
			const struct fields *fv, const char *error, struct page *p)
{
	char csrf[CSRF_LEN + 1];
	csrf_make(env->keys, path, clock_now(), csrf);
	struct tmpl_vars *v = tmpl_vars_new();
	tmpl_put(v, "title", page_list_title(l));
	tmpl_put(v, "description", l->description);
	tmpl_put(v, "action", path);
	tmpl_put(v, "csrf", csrf);
	tmpl_put(v, "error", error);
	tmpl_put(v, "address", fv->address);
	tmpl_put(v, "name", fv->name);
	tmpl_put(v, "country", fv->country);
	tmpl_put_bool(v, "html", fv->html);
	tmpl_put_bool(v, "tracking_offered", l->tracking);
	tmpl_put_bool(v, "tracking", fv->tracking);
	tmpl_put(v, "tracking_text", env->site->tracking);
	tmpl_put(v, "consent", env->site->consent);
	tmpl_put(v, "consent_version", env->consent_version);
	tmpl_put_int(v, "max_address", LK_MAX_ADDRESS);
	tmpl_put_int(v, "max_name", LK_MAX_NAME);
	tmpl_put_int(v, "max_country", LK_MAX_COUNTRY);
	page_render(p, env->site, "list.html", v);
	tmpl_vars_free(v);
}

void listpage_get(const struct listpage_env *env, const char *path, struct page *out)
{
	struct list_rec l;
	page_begin(out, 200, "no-store");
	if (load(env, path, &l, out) == 0) {
		struct fields fv = {"", "", "", 0, 0};
		render_form(env, path, &l, &fv, NULL, out);
	}
	list_rec_free(&l);
}

static int has_control(const char *z)
{
	for (; *z; z++)
		if ((unsigned char)*z < 0x20 || *z == 0x7f)
			return 1;
	return 0;
}

/* Checks the values. Returns NULL, or the message to show. */
static const char *check(const struct form *f, struct fields *fv)
{
	const char *fmt = form_get(f, "format");
	fv->address = form_get(f, "address");
	fv->name = form_get(f, "name");
	fv->country = form_get(f, "country");
	fv->tracking = form_get(f, "tracking") != NULL;
	enum sub_format sf = SUB_FORMAT_TEXT;
	int bad_fmt = fmt != NULL && sub_format_parse(fmt, &sf) < 0;
	fv->html = sf == SUB_FORMAT_HTML;
	if (fv->address == NULL)
		fv->address = "";
	if (fv->name == NULL)
		fv->name = "";
	if (fv->country == NULL)
		fv->country = "";
	if (bad_fmt)
		return "Please choose plain text or HTML.";
	if (strlen(fv->name) > LK_MAX_NAME)
		return "The name is too long.";
	if (strlen(fv->country) > LK_MAX_COUNTRY)
		return "The country is too long.";
	if (has_control(fv->name) || has_control(fv->country))
		return "The name and the country may hold only printable characters.";
	if (fv->address[0] == '\0')
		return "Please enter your email address.";
	if (strlen(fv->address) > LK_MAX_ADDRESS)
		return "The email address is too long.";
	return NULL;
}

static void check_mailbox(const struct listpage_env *env, const struct list_rec *l, struct page *p)
{
	page_begin(p, 200, "no-store");
	struct tmpl_vars *v = tmpl_vars_new();
	tmpl_put(v, "title", "Check your mailbox");
	tmpl_put(v, "list_title", page_list_title(l));
	tmpl_put_int(v, "confirm_max", env->confirm_max);
	tmpl_put_int(v, "confirm_hours", env->confirm_window / 3600);
	page_render(p, env->site, "check_mailbox.html", v);
	tmpl_vars_free(v);
}

/* An accepted request, with copies of what it needs (see listpage_run). */
struct listpage_deferred {
	struct list_rec l;
	struct address a;
	char *name, *country; /* NULL: none */
	int html, tracking;
};

void listpage_deferred_free(struct listpage_deferred *d)
{
	if (d == NULL)
		return;
	list_rec_free(&d->l);
	address_free(&d->a);
	if (d->name != NULL) {
		sodium_memzero(d->name, strlen(d->name));
		free(d->name);
	}
	if (d->country != NULL) {
		sodium_memzero(d->country, strlen(d->country));
		free(d->country);
	}
	free(d);
}

/* Subscribes and, where a confirmation is due and the address's limit
 * allows it, queues it; all in one transaction. Returns a STORE_* code. */
static int subscribe(const struct listpage_env *env, const struct listpage_deferred *d,
		     struct buf *err)
{
	const struct list_rec *l = &d->l;
	const struct address *a = &d->a;
	struct lists_ctx x;
	memset(&x, 0, sizeof(x));
	x.st = env->st;
	x.keys = env->keys;
	x.policy_version = env->consent_version;
	x.tmpl = env->site->tmpl;
	x.actor = "web";
	int tracking = d->tracking && l->tracking;
	struct buf wording;
	buf_init(&wording, 2 * LK_MAX_CONSENT + 16);
	buf_puts(&wording, env->site->consent);
	if (tracking) {
		buf_puts(&wording, " [ticked] ");
		buf_puts(&wording, env->site->tracking);
	}
	struct subscribe_req rq;
	memset(&rq, 0, sizeof(rq));
	rq.address = a->addr;
	rq.name = d->name != NULL ? d->name : a->display;
	rq.country = d->country;
	rq.html = d->html;
	rq.tracking = tracking;
	rq.source = "web";
	rq.wording = buf_cstr(&wording);
	rq.self = 1;
	rq.ip = NULL; /* never stored (P6) */

	int64_t now = clock_now(), id = 0, job = 0;
	int allowed = 0;
	int r = store_begin(env->st);
	if (r != STORE_OK) {
		buf_puts(err, store_errmsg(env->st));
		buf_free(&wording);
		return r;
	}
	enum subscribe_result res = lists_subscribe(&x, l, &rq, &id, err);
	if (res == SUBSCRIBE_ERROR || res == SUBSCRIBE_INVALID || res == SUBSCRIBE_BUSY) {
		r = res == SUBSCRIBE_BUSY ? STORE_BUSY : STORE_ERR;
	} else if (res == SUBSCRIBE_PENDING || res == SUBSCRIBE_STILL_PENDING) {
		uint8_t hash[HASH_LEN];
		addr_hash(env->keys, a->key, strlen(a->key), hash);
		r = store_confirm_limit_hit(env->st, hash, now, env->confirm_window,
					    env->confirm_max, &allowed);
		if (r == STORE_OK && allowed)
			r = jobs_create_confirm(&x, l, id, &job, err);
	}
	/* Rows of ended windows go at once (an index range, usually empty), so
	 * that a hash is kept no longer than its window and the next request. */
	if (r == STORE_OK)
		r = store_confirm_limit_prune(env->st, now - env->confirm_window);
	r = lists_end_txn(&x, r, err);
	if (r == STORE_OK && job != 0) {
		log_info("web: event=subscribe-request list=%lld subscriber=%lld job=%lld",
			 (long long)l->id, (long long)id, (long long)job);
	}
	buf_free(&wording);
	return r;
}

void listpage_run(const struct listpage_env *env, struct listpage_deferred *d)
{
	if (d == NULL)
		return;
	struct buf err;
	buf_init(&err, 1024);
	int r = env->st != NULL ? subscribe(env, d, &err) : STORE_ERR;
	/* err may name the subscriber id, never the address. */
	if (r != STORE_OK)
		log_warnx("web: subscribe list=%lld failed: %s", (long long)d->l.id,
			  env->st != NULL ? buf_cstr(&err) : "no store");
	buf_free(&err);
	listpage_deferred_free(d);
}

void listpage_post(const struct listpage_env *env, const char *path, const struct form *f,
		   struct page *out, struct listpage_deferred **later)
{
	struct list_rec l;
	*later = NULL;
	page_begin(out, 200, "no-store");
	if (load(env, path, &l, out) < 0) {
		list_rec_free(&l);
		return;
	}
	if (!csrf_check_form(env->keys, path, clock_now(), f)) {
		page_error(out, env->site, 403, "Please send the form again",
			   "This form is stale or did not come from this site. Please reload the "
			   "list's page and fill in the form there.");
		list_rec_free(&l);
		return;
	}
	struct fields fv;
	struct address a;
	memset(&a, 0, sizeof(a));
	struct buf err;
	buf_init(&err, 1024);
	const char *msg = check(f, &fv);
	/* The parser's reason may quote the address: it is not shown. */
	if (msg == NULL && mailbox_parse(fv.address, strlen(fv.address), &a, &err) < 0)
		msg = "That does not look like an email address; please check it.";
	if (msg != NULL) {
		page_free(out);
		page_begin(out, 400, "no-store");
		render_form(env, path, &l, &fv, msg, out);
	} else if (env->rl != NULL &&
		   (!ratelimit_hit(env->rl, RATELIMIT_CLIENT, env->client, env->client_len,
				   clock_now()) ||
		    !ratelimit_hit(env->rl, RATELIMIT_LIST, &l.id, sizeof(l.id), clock_now()))) {
		page_error(out, env->site, 429, "Too many requests",
			   "Too many subscriptions were asked for just now. Please try again in "
			   "an hour.");
	} else if (page_write_check(out, env->site, env->st, "subscribe") == 0) {
		check_mailbox(env, &l, out);
		struct listpage_deferred *d = xcalloc(1, sizeof(*d));
		d->l = l; /* moved */
		memset(&l, 0, sizeof(l));
		d->a = a;
		memset(&a, 0, sizeof(a));
		d->name = fv.name[0] ? xstrdup(fv.name) : NULL;
		d->country = fv.country[0] ? xstrdup(fv.country) : NULL;
		d->html = fv.html;
		d->tracking = fv.tracking;
		*later = d;
	}
	address_free(&a);
	buf_free(&err);
	list_rec_free(&l);
}
