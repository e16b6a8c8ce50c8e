/*
 * pages.c - the public pages (see pages.h).
 *
 * TRUST: the path is untrusted and only compared against fixed routes or
 * checked as a list name; everything shown is a template value, escaped. Bodies
 * are bounded by PAGES_MAX_BODY. Nothing about the visitor is read here.
 */
#include "web/pages.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "lists/lists.h"

/* The owned parts behind struct site's const views. */
struct site_owned {
	struct site site; /* first: site_free casts back */
	struct tmpl_set *tmpl;
	char *name, *consent, *tracking, *css, *logo;
};

/* Renders a text template that needs no values into *out (trailing white
 * space dropped). */
static int render_text(const struct tmpl_set *ts, const char *name, size_t max, char **out,
		       size_t *len, struct buf *err)
{
	struct buf b;
	buf_init(&b, max);
	if (tmpl_render(ts, name, NULL, &b, err) < 0) {
		buf_free(&b);
		return -1;
	}
	while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == ' ' ||
			     b.data[b.len - 1] == '\r' || b.data[b.len - 1] == '\t'))
		buf_truncate(&b, b.len - 1);
	*out = buf_steal(&b, len);
	return 0;
}

static const char *logo_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {{".png", "image/png"},   {".svg", "image/svg+xml"}, {".jpg", "image/jpeg"},
		     {".jpeg", "image/jpeg"}, {".webp", "image/webp"},	 {".gif", "image/gif"}};
	size_t n = strlen(path);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t m = strlen(types[i].ext);
		if (n > m && strcasecmp(path + n - m, types[i].ext) == 0)
			return types[i].type;
	}
	return NULL;
}

static int load_logo(struct site_owned *so, const struct conf *conf, struct buf *err)
{
	if (conf_get(conf, "web", "logo")[0] == '\0')
		return 0;
	char *path = conf_get_path(conf, "web", "logo");
	int rc = 0;
	{
		so->site.logo_type = logo_type(path);
		struct buf b;
		buf_init(&b, LK_MAX_LOGO);
		if (so->site.logo_type == NULL) {
			buf_printf(err,
				   "[web] logo = %s: not a .png, .svg, .jpg, .webp or .gif file",
				   path);
			rc = -1;
		} else if ((rc = buf_read_file(&b, path, err)) > 0 || (rc == 0 && b.len == 0)) {
			buf_printf(err, "[web] logo = %s: not a regular file, or empty", path);
			rc = -1;
		} else if (rc < 0) {
			buf_printf(err, " ([web] logo)");
		} else {
			so->site.logo.len = b.len;
			so->logo = buf_steal(&b, NULL);
			so->site.logo.ptr = so->logo;
			so->site.logo_url = "/logo";
		}
		buf_free(&b);
	}
	free(path);
	return rc;
}

struct site *site_new(const struct conf *conf, struct buf *err)
{
	struct site_owned *so = xcalloc(1, sizeof(*so));
	so->tmpl = tmpl_set_load_conf(conf, err);
	so->site.tmpl = so->tmpl;
	so->site.logo_url = "";
	so->name = xstrdup(conf_get(conf, "general", "site_name"));
	so->site.name = so->name;
	int rc = so->tmpl != NULL ? 0 : -1;
	size_t css_len = 0, n;
	if (rc == 0)
		rc = render_text(so->tmpl, "consent.txt", LK_MAX_CONSENT, &so->consent, &n, err);
	if (rc == 0)
		rc = render_text(so->tmpl, "tracking.txt", LK_MAX_CONSENT, &so->tracking, &n, err);
	if (rc == 0)
		rc = render_text(so->tmpl, "style.css", LK_MAX_TEMPLATE, &so->css, &css_len, err);
	if (rc == 0)
		rc = load_logo(so, conf, err);
	so->site.consent = so->consent;
	so->site.tracking = so->tracking;
	so->site.css = (struct str){so->css, css_len};
	if (rc < 0) {
		site_free(&so->site);
		return NULL;
	}
	return &so->site;
}

void site_free(struct site *site)
{
	if (site == NULL)
		return;
	struct site_owned *so = (struct site_owned *)site;
	tmpl_set_free(so->tmpl);
	free(so->name);
	free(so->consent);
	free(so->tracking);
	free(so->css);
	free(so->logo);
	free(so);
}

void page_begin(struct page *p, unsigned status, const char *cache)
{
	memset(p, 0, sizeof(*p));
	p->status = status;
	p->content_type = "text/html; charset=utf-8";
	p->cache_control = cache;
	buf_init(&p->body, PAGES_MAX_BODY);
}

/* The last resort when error.html itself fails (a broken override): a
 * fixed page that needs nothing. */
static const char FALLBACK[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<title>Error</title>\n</head>\n<body>\n<h1>Something went wrong</h1>\n"
    "<p>This page cannot be shown just now; please try again later.</p>\n</body>\n"
    "</html>\n";

/* Renders name into p; 0, or -1 (logged, p->body holds a partial page). */
static int render(struct page *p, const struct site *site, const char *name, struct tmpl_vars *v)
{
	tmpl_put(v, "site_name", site->name);
	tmpl_put(v, "logo_url", site->logo_url);
	struct buf err;
	buf_init(&err, 1024);
	int rc = tmpl_render(site->tmpl, name, v, &p->body, &err);
	if (rc < 0)
		log_warnx("web: template %s: %s", name, buf_cstr(&err));
	buf_free(&err);
	return rc;
}

void page_error(struct page *p, const struct site *site, unsigned status, const char *title,
		const char *text)
{
	page_free(p);
	page_begin(p, status, "no-store");
	struct tmpl_vars *v = tmpl_vars_new();
	tmpl_put(v, "title", title);
	tmpl_put(v, "text", text);
	tmpl_put_int(v, "status", status);
	if (render(p, site, "error.html", v) < 0) {
		page_free(p);
		page_begin(p, status == 200 ? 500 : status, "no-store");
		buf_append(&p->body, FALLBACK, sizeof(FALLBACK) - 1);
	}
	tmpl_vars_free(v);
}

void page_render(struct page *p, const struct site *site, const char *name, struct tmpl_vars *v)
{
	if (render(p, site, name, v) < 0)
		page_error(p, site, 500, "Something went wrong", "This page cannot be shown.");
}

void page_store_unavailable(struct page *p, const struct site *site)
{
	page_error(p, site, 503, "Unavailable",
		   "The server cannot reach its data just now; please try again later.");
}

void page_store_failed(struct page *p, const struct site *site, struct store *st, int r)
{
	log_warnx("web: store error: %s", store_errmsg(st));
	page_store_error(p, site, r);
}

/* A store that failed (a full disk, a lost connection) is unavailable for
 * now, as a busy one is: 503 with Retry-After (http.c), never a success page
 * nor a 500 that says the fault is for good. */
void page_store_error(struct page *p, const struct site *site, int r)
{
	if (r == STORE_BUSY)
		page_error(p, site, 503, "Busy", "The server is busy; please try again shortly.");
	else
		page_store_unavailable(p, site);
}

int page_write_check(struct page *p, const struct site *site, struct store *st, const char *what)
{
	int r = st != NULL ? store_write_check(st) : STORE_ERR;
	if (r == STORE_OK)
		return 0;
	log_warnx("web: %s refused: the store takes no writes now: %s", what,
		  st != NULL ? store_errmsg(st) : "it cannot be opened");
	page_store_error(p, site, r);
	return -1;
}

const char *page_list_title(const struct list_rec *l)
{
	return lists_title(l);
}

int page_list_public(const struct list_rec *l)
{
	return l->sub_policy != LIST_SUB_CLOSED;
}

struct index_ctx {
	struct tmpl_vars *v;
	size_t shown, bytes;
};

static int index_one(void *ctx, const struct list_rec *l)
{
	struct index_ctx *ic = ctx;
	if (!page_list_public(l))
		return 0;
	struct tmpl_vars *item = tmpl_add_item(ic->v, "lists");
	tmpl_put(item, "name", l->name);
	tmpl_put(item, "title", page_list_title(l));
	tmpl_put(item, "description", l->description);
	ic->shown++;
	ic->bytes += strlen(l->name) + strlen(page_list_title(l)) +
		     (l->description != NULL ? strlen(l->description) : 0);
	/* stop early once the page would be too large: page_render says so */
	return ic->bytes > PAGES_MAX_BODY ? 1 : 0;
}

static void index_page(const struct site *site, struct store *st, struct page *p)
{
	page_begin(p, 200, "no-cache");
	struct tmpl_vars *v = tmpl_vars_new();
	tmpl_put_list(v, "lists");
	struct index_ctx ic = {v, 0, 0};
	int r = store_list_each(st, index_one, &ic);
	if (r != STORE_OK && ic.bytes <= PAGES_MAX_BODY) {
		page_store_failed(p, site, st, r);
	} else {
		tmpl_put_bool(v, "has_lists", ic.shown > 0);
		page_render(p, site, "index.html", v);
	}
	tmpl_vars_free(v);
}

static void not_found(const struct site *site, struct page *p)
{
	page_begin(p, 404, "no-store");
	page_error(p, site, 404, "Not found", "There is no page at this address.");
}

void page_text(struct page *p, unsigned status, const char *cache, const char *type,
	       const char *text, size_t len)
{
	memset(p, 0, sizeof(*p));
	p->status = status;
	p->content_type = type;
	p->cache_control = cache;
	buf_init(&p->body, len + 1);
	buf_append(&p->body, text, len);
}

void pages_get(const struct site *site, struct store *st, const char *path, struct page *out)
{
	if (strcmp(path, "/style.css") == 0) {
		page_text(out, 200, "public, max-age=3600", "text/css; charset=utf-8",
			  site->css.ptr, site->css.len);
		return;
	}
	if (strcmp(path, "/logo") == 0 && site->logo.len > 0) {
		page_text(out, 200, "public, max-age=3600", site->logo_type, site->logo.ptr,
			  site->logo.len);
		return;
	}
	int64_t v;
	if (strcmp(path, "/healthz") == 0) {
		if (st != NULL && store_schema_version(st, &v) == STORE_OK)
			page_text(out, 200, "no-store", "text/plain; charset=utf-8", "ok\n", 3);
		else
			page_text(out, 503, "no-store", "text/plain; charset=utf-8",
				  "store unavailable\n", 18);
		return;
	}
	if (strcmp(path, "/") != 0) {
		not_found(site, out);
		return;
	}
	if (st == NULL) {
		page_begin(out, 503, "no-store");
		page_store_unavailable(out, site);
		return;
	}
	index_page(site, st, out);
}

void pages_method_not_allowed(const struct site *site, struct page *out)
{
	page_begin(out, 405, "no-store");
	page_error(out, site, 405, "Method not allowed",
		   "This server only answers GET requests for now.");
}

void page_free(struct page *p)
{
	if (p == NULL)
		return;
	buf_free(&p->body);
}
