/*
 * prefs.c - the preferences page (see prefs.h).
 *
 * TRUST: the token in the path is authenticated before the store is asked
 * anything. Form values are length-checked against core/limits.h, compared
 * against a fixed set of choices, and come back to the page only as
 * template values (templates/prefs.html, escaped). A list is acted on only if it was on the form
 * the person was shown (loaded again for the POST), so that a forged field cannot join a closed
 * list.
 */
#include "web/prefs.h"
#include "web/scrub.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/num.h"
#include "core/xmalloc.h"
#include "crypto/hash.h"
#include "crypto/token.h"
#include "lists/jobs.h"
#include "lists/lists.h"
#include "lists/person.h"
#include "core/address.h"
#include "web/csrf.h"
#include "web/mine.h"

int prefs_match(const char *path)
{
	return strncmp(path, "/p/", 3) == 0;
}

/* Authenticates the token of path. Returns 0 and *id, or -1 with the error
 * page in p. */
static int load_token(const struct listpage_env *env, const char *path, int64_t *id, struct page *p)
{
	struct token t;
	const char *text = path + 3;
	if (token_decode(env->keys, text, strlen(text), TOKEN_PREFS, clock_now(), &t) != TOKEN_OK) {
		page_error(p, env->site, 400, "This link is not valid",
			   "It may have been cut short or changed on its way. Please copy the "
			   "whole link from the message, or use the preferences link of a newer "
			   "message.");
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
		   "about it has been deleted. There is nothing to change.");
}

/* Loads the person and their lists and writes the audit row for showing
 * them. Returns 0, or -1 with the error page in p. */
static int load_person(const struct listpage_env *env, int64_t id, struct mine *m, struct page *p)
{
	struct lists_ctx x;
	mine_ctx(env, &x);
	int r = mine_load(&x, id, 1, PREFS_MAX_LISTS, m);
	if (r == STORE_NOTFOUND) {
		gone(env, p);
		return -1;
	}
	if (r == STORE_OK)
		r = mine_audit_view(&x, id, "preferences page");
	if (r != STORE_OK) {
		page_store_failed(p, env->site, env->st, r);
		return -1;
	}
	return 0;
}

/* --- what a POST did, for the page --------------------------------------- */

struct outcome {
	int changed; /* PERSON_CHANGED_* */
	const char *joined[PREFS_MAX_LISTS];
	size_t n_joined;
	int mailed; /* the confirmation of the joined lists was sent */
	const char *left[PREFS_MAX_LISTS];
	size_t n_left;
	size_t n_options; /* subscriptions whose delivery changed */
	int erased;
};

/* The person's choices, checked. */
struct choice {
	struct mine_list *e;
	const char *v; /* each, digest, nomail, leave, join, off, pending */
};

struct wanted {
	const char *name; /* NULL: unchanged */
	int html;	  /* -1: unchanged */
	int tracking;
	struct choice c[PREFS_MAX_LISTS];
	size_t n;
};

static int has_control(const char *z)
{
	for (; *z; z++)
		if ((unsigned char)*z < 0x20 || *z == 0x7f)
			return 1;
	return 0;
}

static int one_of(const char *v, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(v, *set) == 0)
			return 1;
	return 0;
}

/* The choices a list's field may take, by what the person is to it. */
static const char *const ON[] = {"each", "digest", "nomail", "leave", NULL};
static const char *const PENDING[] = {"pending", "leave", NULL};
static const char *const OFF[] = {"off", "join", NULL};

/* Reads and checks the form against the lists in m. Returns NULL, or the
 * message to show. */
static const char *read_form(const struct form *f, const struct mine *m, struct wanted *w)
{
	memset(w, 0, sizeof(*w));
	const char *fmt = form_get(f, "format");
	w->name = form_get(f, "name");
	enum sub_format sf = SUB_FORMAT_TEXT;
	int bad_fmt = fmt != NULL && sub_format_parse(fmt, &sf) < 0;
	w->html = fmt == NULL ? -1 : sf == SUB_FORMAT_HTML;
	w->tracking = form_get(f, "tracking") != NULL;
	if (bad_fmt)
		return "Please choose plain text or HTML.";
	if (form_count(f, "name") > 1 || form_count(f, "format") > 1)
		return "The form could not be read; please reload the page.";
	if (w->name != NULL && strlen(w->name) > LK_MAX_NAME)
		return "The name is too long.";
	if (w->name != NULL && has_control(w->name))
		return "The name may hold only printable characters.";
	for (size_t i = 0; i < form_len(f); i++) {
		const char *n = form_name(f, i), *v = form_value(f, i);
		int64_t id;
		if (strncmp(n, "l.", 2) != 0)
			continue;
		struct mine_list *e = NULL;
		if (num_parse_i64_z(n + 2, 1, INT64_MAX, &id) == 0)
			e = mine_find(m, id);
		for (size_t k = 0; e != NULL && k < w->n; k++)
			if (w->c[k].e == e)
				e = NULL; /* twice */
		if (e == NULL || w->n == PREFS_MAX_LISTS)
			return "The form does not match your lists any more; please look at "
			       "them again and save.";
		const char *const *set = !e->subscribed			     ? OFF
					 : e->sub.state == SUB_STATE_PENDING ? PENDING
									     : ON;
		if (!one_of(v, set) || (strcmp(v, "digest") == 0 && !e->digest) ||
		    (strcmp(v, "join") == 0 && !e->public))
			return "Please choose one of the options offered for each list.";
		w->c[w->n].e = e;
		w->c[w->n].v = v;
		w->n++;
	}
	return NULL;
}

/* Queues the goodbye to a person who left lists with the form, as the
 * unsubscribe button of /u/ does (web/tokpages.c): one for all of them when
 * they left every list they were on (more than one), else one per list
 * left; the last says their data is deleted when it is. to and name are
 * read before an erasure made them unreadable. */
static int goodbyes(struct lists_ctx *x, const int64_t *left, size_t n_left, int erased,
		    const char *to, const char *name, struct buf *err)
{
	int all = erased && n_left > 1;
	int r = STORE_OK;
	for (size_t i = 0; r == STORE_OK && i < (all ? 1 : n_left); i++) {
		struct list_rec l = {0};
		int64_t job = 0;
		r = store_list_get_id(x->st, left[i], &l);
		if (r == STORE_OK)
			r = jobs_create_goodbye(x, &l, to, name, all, erased && i + 1 == n_left,
						&job, err);
		list_rec_free(&l);
	}
	return r;
}

/* Does what w asks, in one transaction. a is the person's address (parsed
 * again from their data: lists_subscribe finds people by address); p their
 * data as the form showed it (the goodbye's address and name). Returns a
 * STORE_* code; o says what was done. */
static int save(const struct listpage_env *env, int64_t id, const struct address *a,
		const struct person *p, const struct wanted *w, struct outcome *o, struct buf *err)
{
	struct lists_ctx x;
	mine_ctx(env, &x);
	memset(o, 0, sizeof(*o));
	int64_t now = clock_now();
	int64_t joins[PREFS_MAX_LISTS], left[PREFS_MAX_LISTS];
	int r = store_begin(env->st);
	if (r != STORE_OK) {
		buf_puts(err, store_errmsg(env->st));
		return r;
	}
	struct person_change ch = {w->name, w->html, w->tracking, env->site->tracking};
	r = lists_person_update(&x, id, &ch, "web", &o->changed, err);
	/* delivery options, then joins, then leaves (see prefs.h) */
	for (size_t i = 0; r == STORE_OK && i < w->n; i++) {
		const struct choice *c = &w->c[i];
		int digest = strcmp(c->v, "digest") == 0, nomail = strcmp(c->v, "nomail") == 0;
		if (!c->e->subscribed || !one_of(c->v, ON) || strcmp(c->v, "leave") == 0 ||
		    (!digest == !c->e->sub.digest && !nomail == !c->e->sub.nomail))
			continue;
		struct list_rec l = {0};
		r = store_list_get_id(env->st, c->e->id, &l);
		if (r == STORE_OK)
			r = lists_set_options(&x, &l, id, digest, nomail, "web", err);
		if (r == STORE_OK)
			o->n_options++;
		if (r == STORE_NOTFOUND) /* gone meanwhile */
			r = STORE_OK;
		list_rec_free(&l);
	}
	for (size_t i = 0; r == STORE_OK && i < w->n; i++) {
		const struct choice *c = &w->c[i];
		if (strcmp(c->v, "join") != 0)
			continue;
		struct list_rec l = {0};
		r = store_list_get_id(env->st, c->e->id, &l);
		if (r == STORE_NOTFOUND) {
			r = STORE_OK;
			continue;
		}
		struct subscribe_req rq = {0};
		rq.address = a->addr;
		rq.source = "web";
		rq.wording = env->site->consent;
		rq.self = 1;
		int64_t sid = 0;
		enum subscribe_result res =
		    r == STORE_OK ? lists_subscribe(&x, &l, &rq, &sid, err) : SUBSCRIBE_ERROR;
		if (res == SUBSCRIBE_ERROR || res == SUBSCRIBE_INVALID || res == SUBSCRIBE_BUSY) {
			r = r != STORE_OK ? r : res == SUBSCRIBE_BUSY ? STORE_BUSY : STORE_ERR;
		} else if ((res == SUBSCRIBE_PENDING || res == SUBSCRIBE_STILL_PENDING) &&
			   sid == id) {
			joins[o->n_joined] = l.id;
			o->joined[o->n_joined++] = c->e->title;
		}
		list_rec_free(&l);
	}
	/* One confirmation request per saved form, whatever it joined: the same
	 * per-address limit as the list pages (P1, against mail bombing with a
	 * forwarded link). */
	if (r == STORE_OK && o->n_joined > 0) {
		uint8_t hash[HASH_LEN];
		addr_hash(env->keys, a->key, strlen(a->key), hash);
		r = store_confirm_limit_hit(env->st, hash, now, env->confirm_window,
					    env->confirm_max, &o->mailed);
		for (size_t i = 0; r == STORE_OK && o->mailed && i < o->n_joined; i++) {
			struct list_rec l = {0};
			int64_t job = 0;
			r = store_list_get_id(env->st, joins[i], &l);
			if (r == STORE_OK)
				r = jobs_create_confirm(&x, &l, id, &job, err);
			list_rec_free(&l);
		}
		if (r == STORE_OK)
			r = store_confirm_limit_prune(env->st, now - env->confirm_window);
	}
	for (size_t i = 0; r == STORE_OK && i < w->n && !o->erased; i++) {
		const struct choice *c = &w->c[i];
		if (strcmp(c->v, "leave") != 0)
			continue;
		struct list_rec l = {0};
		r = store_list_get_id(env->st, c->e->id, &l);
		if (r == STORE_OK)
			r = lists_unsubscribe(&x, &l, id, "web", &o->erased, err);
		if (r == STORE_OK) {
			left[o->n_left] = l.id;
			o->left[o->n_left++] = c->e->title;
		}
		if (r == STORE_NOTFOUND)
			r = STORE_OK;
		list_rec_free(&l);
	}
	if (r == STORE_OK && o->n_left > 0)
		r = goodbyes(&x, left, o->n_left, o->erased, p->address,
			     w->name != NULL ? w->name : p->name, err);
	r = lists_end_txn(&x, r, err);
	if (r != STORE_OK) {
		memset(o, 0, sizeof(*o));
		return r;
	}
	if (o->erased)
		web_scrub_soon(); /* the WAL checkpoint, within LK_WEB_SCRUB_MS */
	log_info("web: event=preferences subscriber=%lld changed=%d options=%zu joined=%zu "
		 "mailed=%d left=%zu erased=%d",
		 (long long)id, o->changed, o->n_options, o->n_joined, o->mailed, o->n_left,
		 o->erased);
	return STORE_OK;
}

/* --- the page -------------------------------------------------------------- */

static void option(struct tmpl_vars *list, const char *value, const char *label, int selected)
{
	struct tmpl_vars *o = tmpl_add_item(list, "options");
	tmpl_put(o, "value", value);
	tmpl_put(o, "label", label);
	tmpl_put_bool(o, "selected", selected);
}

static void list_field(struct tmpl_vars *v, const struct mine_list *e)
{
	struct tmpl_vars *it = tmpl_add_item(v, "lists");
	tmpl_put_int(it, "id", (long long)e->id);
	tmpl_put(it, "title", e->title);
	tmpl_put(it, "state", e->subscribed ? mine_state_text(e->sub.state) : "");
	if (!e->subscribed) {
		option(it, "off", "Not subscribed", 1);
		option(it, "join", "Join (we mail you a link to confirm)", 0);
	} else if (e->sub.state == SUB_STATE_PENDING) {
		option(it, "pending", "Waiting for your confirmation", 1);
		option(it, "leave", "Cancel: do not subscribe me", 0);
	} else {
		option(it, "each", "Every message", !e->sub.digest && !e->sub.nomail);
		if (e->digest)
			option(it, "digest", "A digest", e->sub.digest && !e->sub.nomail);
		option(it, "nomail", "No mail for now (stay on the list)", e->sub.nomail);
		option(it, "leave", "Leave this list", 0);
	}
}

/* What a saved form did: left and joined (title each), for prefs.html and
 * prefs_erased.html. */
static void outcome_vars(struct tmpl_vars *v, const struct listpage_env *env,
			 const struct outcome *o)
{
	tmpl_put_bool(v, "done", 1);
	tmpl_put_bool(v, "changed", o->changed != 0 || o->n_options || o->n_joined || o->n_left);
	tmpl_put_list(v, "left");
	for (size_t i = 0; i < o->n_left; i++)
		tmpl_put(tmpl_add_item(v, "left"), "title", o->left[i]);
	tmpl_put_list(v, "joined");
	for (size_t i = 0; i < o->n_joined; i++)
		tmpl_put(tmpl_add_item(v, "joined"), "title", o->joined[i]);
	tmpl_put_bool(v, "mailed", o->mailed);
	tmpl_put_int(v, "confirm_max", (long long)env->confirm_max);
	tmpl_put_int(v, "confirm_hours", (long long)(env->confirm_window / 3600));
}

static void render_form(const struct listpage_env *env, const char *path, const struct mine *m,
			const struct outcome *o, const char *error, struct page *p)
{
	struct tmpl_vars *v = tmpl_vars_new();
	char csrf[CSRF_LEN + 1];
	csrf_make(env->keys, path, clock_now(), csrf);
	tmpl_put(v, "title", "Your preferences");
	tmpl_put(v, "action", path);
	tmpl_put(v, "csrf", csrf);
	tmpl_put(v, "error", error);
	if (o != NULL)
		outcome_vars(v, env, o);
	tmpl_put(v, "address", m->p.address);
	tmpl_put(v, "name", m->p.name);
	tmpl_put_int(v, "max_name", LK_MAX_NAME);
	tmpl_put_bool(v, "html", m->who.html);
	tmpl_put_bool(v, "tracking", m->who.tracking);
	tmpl_put(v, "tracking_text", env->site->tracking);
	tmpl_put_list(v, "lists");
	for (size_t i = 0; i < m->n; i++)
		list_field(v, &m->v[i]);
	tmpl_put_bool(v, "more", m->more);
	tmpl_put(v, "consent", env->site->consent);
	tmpl_put(v, "consent_version", env->consent_version);
	page_render(p, env->site, "prefs.html", v);
	tmpl_vars_free(v);
}

static void render_erased(const struct listpage_env *env, const struct outcome *o, struct page *p)
{
	struct tmpl_vars *v = tmpl_vars_new();
	page_begin(p, 200, "no-store");
	tmpl_put(v, "title", "You are unsubscribed");
	outcome_vars(v, env, o);
	page_render(p, env->site, "prefs_erased.html", v);
	tmpl_vars_free(v);
}

void prefs_get(const struct listpage_env *env, const char *path, struct page *out)
{
	int64_t id;
	struct mine m = {0};
	page_begin(out, 200, "no-store");
	if (load_token(env, path, &id, out) == 0 && load_person(env, id, &m, out) == 0)
		render_form(env, path, &m, NULL, NULL, out);
	mine_free(&m);
}

void prefs_post(const struct listpage_env *env, const char *path, const struct form *f,
		struct page *out)
{
	int64_t id;
	struct mine m = {0};
	page_begin(out, 200, "no-store");
	if (load_token(env, path, &id, out) < 0)
		return;
	if (!csrf_check_form(env->keys, path, clock_now(), f)) {
		page_error(out, env->site, 403, "Please save the form again",
			   "This form is stale or did not come from this site. Please open the "
			   "preferences link from the message again and save there.");
		return;
	}
	struct lists_ctx x;
	mine_ctx(env, &x);
	int r = mine_load(&x, id, 1, PREFS_MAX_LISTS, &m);
	if (r == STORE_NOTFOUND) {
		gone(env, out);
		mine_free(&m);
		return;
	}
	if (r != STORE_OK) {
		page_store_failed(out, env->site, env->st, r);
		mine_free(&m);
		return;
	}
	struct wanted w;
	struct address a;
	struct outcome o;
	struct buf err;
	memset(&a, 0, sizeof(a));
	buf_init(&err, 1024);
	const char *msg = read_form(f, &m, &w);
	if (msg == NULL && address_parse(m.p.address, strlen(m.p.address), &a, &err) < 0) {
		log_warnx("web: subscriber=%lld: the held address does not parse", (long long)id);
		msg = "Your address cannot be used to join a list; please write to the list owner.";
	}
	if (msg != NULL) {
		/* Shown with what is held, not with what was sent: nothing changed. */
		page_free(out);
		page_begin(out, 400, "no-store");
		render_form(env, path, &m, NULL, msg, out);
	} else if ((r = save(env, id, &a, &m.p, &w, &o, &err)) != STORE_OK) {
		log_warnx("web: preferences subscriber=%lld failed: %s", (long long)id,
			  buf_cstr(&err));
		page_store_failed(out, env->site, env->st, r);
	} else if (o.erased) {
		page_free(out);
		render_erased(env, &o, out);
	} else {
		/* The titles in o point into m; the form shows the state as it is now. */
		struct mine fresh = {0};
		if (load_person(env, id, &fresh, out) == 0)
			render_form(env, path, &fresh, &o, NULL, out);
		mine_free(&fresh);
	}
	address_free(&a);
	buf_free(&err);
	mine_free(&m);
}
