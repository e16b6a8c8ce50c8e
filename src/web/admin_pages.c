/*
 * admin_pages.c - the staff pages of the admin listener (web/admin.h):
 *
 *   /                        dashboard: the account's lists with counts, held
 *                            posts, the last jobs, an SVG chart drawn here
 *   /lists/NAME              a list's counts and settings (owners, admins);
 *                            POST saves, every field checked by
 *                            lists_set_field, each error naming its field
 *   /lists/NAME/subscribers  one page of members, decrypted (audited)
 *   /lists/NAME/find         one member by exact address (audited)
 *   /lists/NAME/held         the held posts (moderators, owners, admins)
 *   /audit                   the audit log (admins)
 *
 * Need to know (P8): a list the account has no role on is a 404, as if it
 * did not exist (no telling the names of others' lists); a moderator's
 * request for an owner's page is a 403; subscribers are shown to owners and
 * admins only, and every page of them is written to the audit log with the
 * ids shown, never the addresses.
 *
 * TRUST: the path, the query and the form are untrusted: a list name is
 * checked (lists_name_valid) before it is looked up, numbers parsed with
 * bounds (core/num.h), field values checked by the lists layer. Everything
 * shown is escaped by the templates.
 */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/num.h"
#include "core/utc.h"
#include "lists/lists.h"
#include "lists/person.h"
#include "core/address.h"
#include "web/admin_int.h"

#define PAGE_ROWS 50   /* members per page */
#define AUDIT_ROWS 100 /* audit rows per page */
#define LAST_JOBS 10   /* jobs on the dashboard */

static void not_found(struct admin_req *r)
{
	page_begin(&r->p, 404, "no-store");
	page_error(&r->p, r->site, 404, "Not found", "There is no such page.");
}

static void forbidden(struct admin_req *r, const char *text)
{
	page_begin(&r->p, 403, "no-store");
	page_error(&r->p, r->site, 403, "Forbidden", text);
}

static void render(struct admin_req *r, unsigned status, const char *name, struct tmpl_vars *v)
{
	page_begin(&r->p, status, "no-store");
	page_render(&r->p, r->site, name, v);
	tmpl_vars_free(v);
}

static void when(int64_t t, char out[32])
{
	utc_format(t, "%Y-%m-%d %H:%M", out, 32);
}

/* --- the dashboard -------------------------------------------------------- */

struct dash {
	struct admin_req *r;
	struct tmpl_vars *v;
	int64_t ids[256];
	char names[256][LK_MAX_LIST_NAME + 1];
	int64_t active[256];
	size_t n;
	int njobs;
	int rc;
};

static int count_held(void *ctx, const struct held_rec *h)
{
	(void)h;
	(*(int64_t *)ctx)++;
	return 0;
}

static int dash_list(void *ctx, const struct list_rec *l)
{
	struct dash *d = ctx;
	if (!staff_sees_list(&d->r->acc, l->id) || d->n >= 256)
		return 0;
	int owner = staff_may(&d->r->acc, STAFF_ROLE_OWNER, l->id);
	int64_t c[4] = {0}, held = 0;
	if (owner && (d->rc = store_list_counts(d->r->st, l->id, c)) != STORE_OK)
		return 1;
	if ((d->rc = store_held_each(d->r->st, l->id, count_held, &held)) != STORE_OK)
		return 1;
	struct tmpl_vars *it = tmpl_add_item(d->v, "lists");
	tmpl_put(it, "name", l->name);
	tmpl_put(it, "title", lists_title(l));
	tmpl_put_bool(it, "owner", owner);
	tmpl_put_int(it, "active", c[SUB_STATE_ACTIVE]);
	tmpl_put_int(it, "pending", c[SUB_STATE_PENDING]);
	tmpl_put_int(it, "held", c[SUB_STATE_HELD]);
	tmpl_put_int(it, "disabled", c[SUB_STATE_DISABLED]);
	tmpl_put_int(it, "held_posts", held);
	if (owner) {
		d->ids[d->n] = l->id;
		bsnprintf(d->names[d->n], sizeof(d->names[0]), "%s", l->name);
		d->active[d->n] = c[SUB_STATE_ACTIVE];
		d->n++;
	}
	return 0;
}

/* Jobs come oldest first: the last LAST_JOBS of the lists shown are kept. */
struct jobs_seen {
	struct dash *d;
	struct job_rec keep[LAST_JOBS];
	char list[LAST_JOBS][LK_MAX_LIST_NAME + 1];
	size_t n, next;
};

static int dash_job(void *ctx, const struct job_rec *j)
{
	struct jobs_seen *js = ctx;
	size_t k;
	for (k = 0; k < js->d->n; k++)
		if (js->d->ids[k] == j->list_id)
			break;
	if (k == js->d->n)
		return 0;
	struct job_rec *slot = &js->keep[js->next];
	memset(slot, 0, sizeof(*slot));
	slot->id = j->id;
	slot->kind = j->kind;
	slot->state = j->state;
	slot->sent = j->sent;
	slot->failed = j->failed;
	slot->total = j->total;
	slot->created = j->created;
	bsnprintf(js->list[js->next], sizeof(js->list[0]), "%s", js->d->names[k]);
	js->next = (js->next + 1) % LAST_JOBS;
	if (js->n < LAST_JOBS)
		js->n++;
	return 0;
}

static void dashboard(struct admin_req *r)
{
	struct dash *d = calloc(1, sizeof(*d));
	struct jobs_seen *js = calloc(1, sizeof(*js));
	if (d == NULL || js == NULL) {
		free(d);
		free(js);
		page_begin(&r->p, 500, "no-store");
		page_error(&r->p, r->site, 500, "Error", "Out of memory.");
		return;
	}
	d->r = r;
	d->v = admin_vars(r, "Dashboard");
	tmpl_put_list(d->v, "lists");
	int rc = store_list_each(r->st, dash_list, d);
	if (rc == STORE_OK)
		rc = d->rc;
	js->d = d;
	if (rc == STORE_OK)
		rc = store_job_each(r->st, dash_job, js);
	if (rc != STORE_OK) {
		tmpl_vars_free(d->v);
		page_begin(&r->p, 503, "no-store");
		page_store_failed(&r->p, r->site, r->st, rc);
		free(d);
		free(js);
		return;
	}
	tmpl_put_bool(d->v, "has_lists",
		      tmpl_set_has(r->site->tmpl, "admin_dashboard.html") &&
			  (d->n > 0 || r->acc.n > 0 || r->acc.admin));
	/* the chart: one bar per list, scaled to the largest */
	int64_t top = 1;
	for (size_t i = 0; i < d->n; i++)
		if (d->active[i] > top)
			top = d->active[i];
	tmpl_put_list(d->v, "bars");
	for (size_t i = 0; i < d->n; i++) {
		struct tmpl_vars *b = tmpl_add_item(d->v, "bars");
		long long w = (long long)(d->active[i] * 260 / top);
		tmpl_put(b, "name", d->names[i]);
		tmpl_put_int(b, "count", d->active[i]);
		tmpl_put_int(b, "y", (long long)(8 + 24 * i));
		tmpl_put_int(b, "ty", (long long)(21 + 24 * i));
		tmpl_put_int(b, "w", w);
		tmpl_put_int(b, "tx", 162 + w);
	}
	tmpl_put_int(d->v, "chart_h", (long long)(16 + 24 * (d->n ? d->n : 1)));
	tmpl_put_list(d->v, "jobs");
	for (size_t i = 0; i < js->n; i++) {
		size_t k = (js->next + LAST_JOBS - 1 - i) % LAST_JOBS; /* newest first */
		const struct job_rec *j = &js->keep[k];
		struct tmpl_vars *it = tmpl_add_item(d->v, "jobs");
		char t[32];
		when(j->created, t);
		tmpl_put_int(it, "id", j->id);
		tmpl_put(it, "list", js->list[k]);
		tmpl_put(it, "kind", job_kind_name(j->kind));
		tmpl_put(it, "state", job_state_name(j->state));
		tmpl_put_int(it, "sent", j->sent);
		tmpl_put_int(it, "failed", j->failed);
		tmpl_put_int(it, "total", j->total);
		tmpl_put(it, "created", t);
	}
	tmpl_put_bool(d->v, "has_jobs", js->n > 0);
	render(r, 200, "admin_dashboard.html", d->v);
	free(d);
	free(js);
}

/* --- one list --------------------------------------------------------------- */

/* Help for each setting; the choices come from the store's name tables. */
static const struct {
	const char *name;
	const struct nametab *choices; /* NULL: yes/no when yesno, else text */
	int yesno, textarea;
	const char *help;
} FIELDS[] = {
    {"title", NULL, 0, 0, "Shown on the pages and in List-Id."},
    {"description", NULL, 0, 1, "Shown on the list's public page."},
    {"kind", &list_kind_names, 0, 0, "announce: only the owners send; discussion: members post."},
    {"subscription_policy", &list_sub_policy_names, 0, 0,
     "confirm: double opt-in; owner: the owners approve each confirmed request; closed: no "
     "one subscribes."},
    {"posting_policy", &list_post_policy_names, 0, 0, "Who may post to a discussion list."},
    {"moderation", &list_moderation_names, 0, 0,
     "Which posts wait for a moderator: none, new members', all."},
    {"archive", &list_archive_names, 0, 0, "Who may read the archive."},
    {"digest", NULL, 1, 0, "Whether members may choose digests."},
    {"footer", NULL, 0, 1, "Added to every message."},
    {"postal_address", NULL, 0, 0, "The sender's postal address (CAN-SPAM), in the footer."},
    {"tracking", NULL, 1, 0, "Open tracking allowed, only for members who agree."},
    {"domain", NULL, 0, 0, "The list's mail domain."},
    {"owners", NULL, 0, 0,
     "The owners' addresses, separated by commas (LIST-owner@ goes to them)."},
    {"bounce_action", &list_bounce_action_names, 0, 0,
     "What happens past the bounce threshold: disable or remove."},
    {"archive_erase", &list_archive_erase_names, 0, 0,
     "What a person's erasure does to their archived posts: redact or remove."},
};
#define NFIELDS (sizeof(FIELDS) / sizeof(FIELDS[0]))

/* The list of the path /lists/NAME[/...]: sets *rest to what follows NAME.
 * STORE_NOTFOUND (a 404) for a bad name, no list, or a list the account has
 * no role on. */
static int path_list(struct admin_req *r, struct list_rec *l, const char **rest)
{
	const char *name = r->path + 7; /* "/lists/" */
	const char *slash = strchr(name, '/');
	size_t len = slash != NULL ? (size_t)(slash - name) : strlen(name);
	*rest = slash != NULL ? slash : "";
	return admin_list(r, name, len, l);
}

static void put_counts(struct admin_req *r, struct tmpl_vars *v, const struct list_rec *l)
{
	int64_t c[4] = {0};
	store_list_counts(r->st, l->id, c);
	tmpl_put_int(v, "active", c[SUB_STATE_ACTIVE]);
	tmpl_put_int(v, "pending", c[SUB_STATE_PENDING]);
	tmpl_put_int(v, "held", c[SUB_STATE_HELD]);
	tmpl_put_int(v, "disabled", c[SUB_STATE_DISABLED]);
}

/* The settings page of l; errs[i]: the error of field i, or NULL. */
static void list_page(struct admin_req *r, const struct list_rec *l, int saved,
		      char *const errs[NFIELDS], unsigned status)
{
	struct tmpl_vars *v = admin_vars(r, lists_title(l));
	char csrf[CSRF_LEN + 1], path[LK_MAX_LIST_NAME + 8];
	bsnprintf(path, sizeof(path), "/lists/%s", l->name);
	admin_csrf(r, path, csrf);
	tmpl_put(v, "name", l->name);
	tmpl_put(v, "list_title", lists_title(l));
	tmpl_put(v, "csrf", csrf);
	tmpl_put_bool(v, "saved", saved);
	put_counts(r, v, l);
	int any = 0;
	tmpl_put_list(v, "fields");
	for (size_t i = 0; i < NFIELDS; i++) {
		char tmp[32];
		struct tmpl_vars *it = tmpl_add_item(v, "fields");
		const char *val = lists_get_field(l, FIELDS[i].name, tmp);
		tmpl_put(it, "name", FIELDS[i].name);
		tmpl_put(it, "help", FIELDS[i].help);
		tmpl_put(it, "value", val);
		if (errs != NULL && errs[i] != NULL) {
			tmpl_put(it, "error", errs[i]);
			any = 1;
		}
		if (FIELDS[i].choices != NULL || FIELDS[i].yesno) {
			static const char *const YN[] = {"yes", "no"};
			const char *const *names = FIELDS[i].yesno ? YN : FIELDS[i].choices->names;
			int n = FIELDS[i].yesno ? 2 : FIELDS[i].choices->n;
			tmpl_put_bool(it, "select", 1);
			tmpl_put_list(it, "options");
			for (int k = 0; k < n; k++) {
				struct tmpl_vars *o = tmpl_add_item(it, "options");
				tmpl_put(o, "value", names[k]);
				tmpl_put_bool(o, "selected", strcmp(names[k], val) == 0);
			}
		} else {
			tmpl_put_bool(it, FIELDS[i].textarea ? "textarea" : "text", 1);
		}
	}
	tmpl_put_bool(v, "has_errors", any);
	render(r, status, "admin_list.html", v);
}

static void list_post(struct admin_req *r, struct list_rec *l)
{
	char path[LK_MAX_LIST_NAME + 8];
	bsnprintf(path, sizeof(path), "/lists/%s", l->name);
	if (!admin_csrf_ok(r, path, r->form)) {
		forbidden(r, "The form had expired; open the page again.");
		return;
	}
	char *errs[NFIELDS] = {0};
	struct buf err, changed;
	buf_init(&err, 1024);
	buf_init(&changed, 1024);
	int bad = 0;
	for (size_t i = 0; i < NFIELDS; i++) {
		if (form_count(r->form, FIELDS[i].name) > 1) {
			errs[i] = strdup("given more than once");
			bad = 1;
			continue;
		}
		const char *val = form_get(r->form, FIELDS[i].name);
		char tmp[32];
		if (val == NULL || strcmp(val, lists_get_field(l, FIELDS[i].name, tmp)) == 0)
			continue;
		buf_reset(&err);
		if (lists_set_field_typed(l, FIELDS[i].name, val, &err) < 0) {
			struct buf m;
			buf_init(&m, 1200);
			buf_printf(&m, "%s: %s", FIELDS[i].name, buf_cstr(&err));
			errs[i] = strdup(buf_cstr(&m));
			buf_free(&m);
			bad = 1;
		} else {
			buf_printf(&changed, "%s%s", changed.len ? "," : "", FIELDS[i].name);
		}
	}
	if (bad) {
		struct list_rec fresh;
		if (store_list_get_id(r->st, l->id, &fresh) == STORE_OK) {
			list_page(r, &fresh, 0, errs, 422);
			list_rec_free(&fresh);
		}
	} else {
		int rc = changed.len ? admin_list_save(r, l, buf_cstr(&changed)) : STORE_OK;
		if (rc != STORE_OK) {
			page_begin(&r->p, 503, "no-store");
			page_store_failed(&r->p, r->site, r->st, rc);
		} else {
			char loc[LK_MAX_LIST_NAME + 16];
			bsnprintf(loc, sizeof(loc), "%s?saved=1", path);
			admin_redirect(r, loc);
		}
	}
	for (size_t i = 0; i < NFIELDS; i++)
		free(errs[i]);
	buf_free(&err);
	buf_free(&changed);
}

/* --- subscribers ----------------------------------------------------------- */

struct members {
	struct admin_req *r;
	struct tmpl_vars *v;
	int64_t first, last;
	int n;
	int failed;
};

static void put_member(struct admin_req *r, struct tmpl_vars *it,
		       const struct subscription_rec *sub, const struct subscriber_rec *who,
		       int *failed)
{
	struct person pe;
	char t[32];
	memset(&pe, 0, sizeof(pe));
	when(sub->created, t);
	tmpl_put_int(it, "id", who->id);
	if (lists_person_load(&r->x, who, &pe) == STORE_OK) {
		tmpl_put(it, "address", pe.address);
		tmpl_put(it, "person", pe.name);
	} else {
		tmpl_put(it, "address", "(cannot be opened)");
		*failed = 1;
	}
	person_free(&pe);
	tmpl_put(it, "state", sub_state_name(sub->state));
	tmpl_put(it, "since", t);
}

static int member_row(void *ctx, const struct subscription_rec *sub,
		      const struct subscriber_rec *who)
{
	struct members *m = ctx;
	struct tmpl_vars *it = tmpl_add_item(m->v, "rows");
	put_member(m->r, it, sub, who, &m->failed);
	if (m->n++ == 0)
		m->first = who->id;
	m->last = who->id;
	return 0;
}

static void subscribers(struct admin_req *r, const struct list_rec *l, int find)
{
	struct tmpl_vars *v = admin_vars(r, "Subscribers");
	tmpl_put(v, "name", l->name);
	tmpl_put(v, "list_title", lists_title(l));
	tmpl_put_list(v, "rows");
	char detail[160];
	int rc = STORE_OK;
	if (find) {
		const char *q = admin_query(r, "address");
		struct address a;
		struct buf err;
		buf_init(&err, 512);
		tmpl_put(v, "address", q != NULL ? q : "");
		tmpl_put_bool(v, "looked_up", 1);
		int64_t id = 0;
		int found = 0;
		if (q != NULL && strlen(q) <= LK_MAX_ADDRESS &&
		    address_parse(q, strlen(q), &a, &err) == 0) {
			struct person_addr pa = {a.addr, a.key};
			rc = lists_find(&r->x, &pa, &id);
			address_free(&a);
			struct subscription_rec sub;
			struct subscriber_rec who;
			if (rc == STORE_OK &&
			    (rc = store_subscription_get(r->st, l->id, id, &sub)) == STORE_OK &&
			    (rc = store_subscriber_get(r->st, id, &who)) == STORE_OK) {
				struct tmpl_vars *it = tmpl_add_item(v, "found");
				int failed = 0;
				put_member(r, it, &sub, &who, &failed);
				subscriber_rec_free(&who);
				found = 1;
			}
			if (rc == STORE_NOTFOUND)
				rc = STORE_OK;
		}
		buf_free(&err);
		/* audited whether or not someone was found: a look-up is a view */
		bsnprintf(detail, sizeof(detail), "find by address: %s",
			  found ? "found" : "not found");
		if (rc == STORE_OK)
			rc = admin_audit(r, "subscriber-find", l->id, found ? id : 0, detail);
	} else {
		int64_t after = 0;
		const char *a = admin_query(r, "after");
		if (a != NULL && num_parse_i64_z(a, 0, INT64_MAX, &after) < 0)
			after = 0;
		struct members m = {.r = r, .v = v};
		rc = store_members_page(r->st, l->id, -1, after, PAGE_ROWS, member_row, &m);
		tmpl_put_bool(v, "has_rows", m.n > 0);
		if (m.n == PAGE_ROWS)
			tmpl_put_int(v, "next", m.last);
		bsnprintf(detail, sizeof(detail), "page after=%lld: %d shown, ids %lld-%lld",
			  (long long)after, m.n, (long long)m.first, (long long)m.last);
		if (rc == STORE_OK && m.n > 0)
			rc = admin_audit(r, "subscribers-view", l->id, 0, detail);
	}
	if (rc != STORE_OK) { /* not shown if it could not be audited */
		tmpl_vars_free(v);
		page_begin(&r->p, 503, "no-store");
		page_store_failed(&r->p, r->site, r->st, rc);
		return;
	}
	render(r, 200, "admin_subscribers.html", v);
}

/* --- held posts --------------------------------------------------------------- */

static int held_row(void *ctx, const struct held_rec *h)
{
	struct tmpl_vars *it = tmpl_add_item(ctx, "posts");
	char a[32], b[32];
	when(h->created, a);
	when(h->expires, b);
	tmpl_put_int(it, "id", h->id);
	tmpl_put(it, "created", a);
	tmpl_put(it, "expires", b);
	tmpl_put(it, "reason", h->reason);
	tmpl_put_int(it, "size", h->size);
	tmpl_put_bool(ctx, "has_posts", 1);
	return 0;
}

static void held(struct admin_req *r, const struct list_rec *l)
{
	struct tmpl_vars *v = admin_vars(r, "Held posts");
	tmpl_put(v, "name", l->name);
	tmpl_put(v, "list_title", lists_title(l));
	tmpl_put_list(v, "posts");
	int rc = store_held_each(r->st, l->id, held_row, v);
	if (rc != STORE_OK) {
		tmpl_vars_free(v);
		page_begin(&r->p, 503, "no-store");
		page_store_failed(&r->p, r->site, r->st, rc);
		return;
	}
	render(r, 200, "admin_held.html", v);
}

/* --- the audit log -------------------------------------------------------------- */

struct audit_page {
	struct tmpl_vars *v;
	int n;
	int64_t last;
};

static int audit_row(void *ctx, const struct audit_rec *a)
{
	struct audit_page *ap = ctx;
	struct tmpl_vars *it = tmpl_add_item(ap->v, "rows");
	char t[32];
	when(a->time, t);
	tmpl_put_int(it, "id", a->id);
	tmpl_put(it, "time", t);
	tmpl_put(it, "actor", a->actor);
	tmpl_put(it, "action", a->action);
	if (a->list_id)
		tmpl_put_int(it, "list", a->list_id);
	if (a->subscriber_id)
		tmpl_put_int(it, "subscriber", a->subscriber_id);
	tmpl_put(it, "detail", a->detail);
	ap->n++;
	ap->last = a->id;
	return 0;
}

static void audit(struct admin_req *r)
{
	if (!r->acc.admin) {
		forbidden(r, "The audit log is for admins.");
		return;
	}
	int64_t before = 0;
	const char *b = admin_query(r, "before");
	if (b != NULL && num_parse_i64_z(b, 0, INT64_MAX, &before) < 0)
		before = 0;
	struct audit_page ap = {.v = admin_vars(r, "Audit log")};
	tmpl_put_list(ap.v, "rows");
	int rc = store_audit_each(r->st, before, AUDIT_ROWS, audit_row, &ap);
	if (rc != STORE_OK) {
		tmpl_vars_free(ap.v);
		page_begin(&r->p, 503, "no-store");
		page_store_failed(&r->p, r->site, r->st, rc);
		return;
	}
	tmpl_put_bool(ap.v, "has_rows", ap.n > 0);
	if (ap.n == AUDIT_ROWS)
		tmpl_put_int(ap.v, "next", ap.last);
	render(r, 200, "admin_audit.html", ap.v);
}

void admin_pages(struct admin_req *r)
{
	int post = !strcmp(r->method, "POST");
	if (!strcmp(r->path, "/") && !post) {
		dashboard(r);
		return;
	}
	if (!strcmp(r->path, "/audit") && !post) {
		audit(r);
		return;
	}
	if (strncmp(r->path, "/lists/", 7) != 0) {
		not_found(r);
		return;
	}
	struct list_rec l;
	const char *rest;
	int rc = path_list(r, &l, &rest);
	if (rc == STORE_NOTFOUND) {
		not_found(r);
		return;
	}
	if (rc != STORE_OK) {
		page_begin(&r->p, 503, "no-store");
		page_store_failed(&r->p, r->site, r->st, rc);
		return;
	}
	int owner = staff_may(&r->acc, STAFF_ROLE_OWNER, l.id);
	int moderator = owner || staff_may(&r->acc, STAFF_ROLE_MODERATOR, l.id);
	if (!strcmp(rest, "/held") && !post) {
		if (moderator)
			held(r, &l);
		else
			forbidden(r, "Held posts are for the list's moderators and owners.");
	} else if (!owner &&
		   (!strcmp(rest, "") || !strcmp(rest, "/subscribers") || !strcmp(rest, "/find"))) {
		forbidden(r, "This page is for the list's owners.");
	} else if (!strcmp(rest, "") && post) {
		list_post(r, &l);
	} else if (!strcmp(rest, "") && !post) {
		const char *saved = admin_query(r, "saved");
		list_page(r, &l, saved != NULL && !strcmp(saved, "1"), NULL, 200);
	} else if (!strcmp(rest, "/subscribers") && !post) {
		subscribers(r, &l, 0);
	} else if (!strcmp(rest, "/find") && !post) {
		subscribers(r, &l, 1);
	} else {
		not_found(r);
	}
	list_rec_free(&l);
}
