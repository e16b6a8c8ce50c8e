/*
 * pages.c - the public pages (see pages.h).
 *
 * TRUST: the path is untrusted and only compared against fixed routes or
 * checked as a list name; everything shown goes through html_escape. Bodies
 * are bounded by PAGES_MAX_BODY. Nothing about the visitor is read here.
 */
#include "web/pages.h"

#include <string.h>

#include "core/log.h"
#include "lists/lists.h"
#include "web/html.h"

static const char CSS[] =
    ":root{color-scheme:light dark;--fg:#1b1b1b;--bg:#fdfdfc;--muted:#4a4a4a;"
    "--link:#0b57a4;--rule:#d6d6d2}\n"
    "@media (prefers-color-scheme:dark){:root{--fg:#ececec;--bg:#141414;"
    "--muted:#bdbdbd;--link:#8cc4ff;--rule:#3a3a3a}}\n"
    "*{box-sizing:border-box}\n"
    "html{font-size:100%;-webkit-text-size-adjust:100%;text-size-adjust:100%}\n"
    "body{margin:0;color:var(--fg);background:var(--bg);"
    "font:1.0625rem/1.6 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\","
    "sans-serif}\n"
    "header,main,footer{max-width:42rem;margin:0 auto;padding:1rem 1.25rem}\n"
    "header{border-bottom:1px solid var(--rule)}\n"
    "header a{font-weight:600;text-decoration:none;color:var(--fg)}\n"
    "footer{color:var(--muted);font-size:.875rem;border-top:1px solid var(--rule)}\n"
    "h1{font-size:1.75rem;line-height:1.25;margin:.5rem 0 1rem;overflow-wrap:anywhere}\n"
    "h2{font-size:1.25rem;margin:1.5rem 0 .5rem}\n"
    "a{color:var(--link);text-underline-offset:.15em}\n"
    "a:focus-visible{outline:3px solid var(--link);outline-offset:2px}\n"
    ".lists{list-style:none;padding:0;margin:0}\n"
    ".lists li{padding:.75rem 0;border-bottom:1px solid var(--rule)}\n"
    ".lists a{font-size:1.125rem;font-weight:600;overflow-wrap:anywhere}\n"
    "form{margin:1rem 0}\n"
    "label{display:block;margin:.75rem 0 .25rem}\n"
    "input[type=text],input[type=email]{display:block;width:100%;font:inherit;"
    "padding:.5rem .6rem;color:var(--fg);background:var(--bg);border:1px solid var(--muted);"
    "border-radius:.375rem}\n"
    "fieldset{border:1px solid var(--rule);border-radius:.375rem;margin:1rem 0;"
    "padding:.25rem 1rem .5rem}\n"
    "input[type=radio]{width:1.1rem;height:1.1rem;margin-right:.5rem;vertical-align:-.15em}\n"
    ".opt{color:var(--muted);font-weight:400}\n"
    ".consent{font-size:.9375rem}\n"
    ".error{border-left:4px solid #b3261e;padding:.25rem .75rem;font-weight:600}\n"
    "input[type=checkbox]{width:1.1rem;height:1.1rem;margin-right:.5rem;vertical-align:-.15em}\n"
    "button{font:inherit;font-weight:600;padding:.6rem 1.25rem;border-radius:.375rem;"
    "border:1px solid var(--link);color:#fff;background:var(--link);cursor:pointer}\n"
    "@media (prefers-color-scheme:dark){button{color:#141414}}\n"
    "button:focus-visible,input:focus-visible{outline:3px solid var(--link);"
    "outline-offset:2px}\n"
    ".desc{white-space:pre-line;overflow-wrap:anywhere;margin:.25rem 0 0}\n"
    ".lists .desc{color:var(--muted)}\n"
    "select{display:block;width:100%;font:inherit;padding:.45rem .6rem;color:var(--fg);"
    "background:var(--bg);border:1px solid var(--muted);border-radius:.375rem}\n"
    "select:focus-visible{outline:3px solid var(--link);outline-offset:2px}\n"
    ".done{border-left:4px solid #1e7b34;padding:.25rem .75rem}\n"
    ".facts dt{font-weight:600}\n.facts dd{margin:0 0 .5rem;overflow-wrap:anywhere}\n"
    "@media (prefers-reduced-motion:reduce){*{transition:none!important}}\n";

void page_begin(struct page *p, unsigned status, const char *cache)
{
	memset(p, 0, sizeof(*p));
	p->status = status;
	p->content_type = "text/html; charset=utf-8";
	p->cache_control = cache;
	buf_init(&p->body, PAGES_MAX_BODY);
}

void page_head(struct page *p, const struct site *site, const char *title)
{
	html_printf(&p->body,
		    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		    "<title>%s%s%s</title>\n"
		    "<link rel=\"stylesheet\" href=\"/style.css\">\n</head>\n<body>\n"
		    "<header><a href=\"/\">%s</a></header>\n<main>\n",
		    title != NULL ? title : "", title != NULL ? " | " : "", site->name, site->name);
}

void page_foot(struct page *p)
{
	buf_puts(&p->body, "</main>\n<footer><p>No cookies, no trackers, no third-party "
			   "content.</p></footer>\n</body>\n</html>\n");
}

/* Bodies are bounded: a page that outgrew PAGES_MAX_BODY becomes a 500. */
void page_error(struct page *p, const struct site *site, unsigned status, const char *title,
		const char *text)
{
	page_free(p);
	page_begin(p, status, "no-store");
	page_head(p, site, title);
	html_printf(&p->body, "<h1>%s</h1>\n<p>%s</p>\n<p><a href=\"/\">All lists</a></p>\n", title,
		    text);
	page_foot(p);
}

void page_finish(struct page *p, const struct site *site)
{
	if (p->body.err)
		page_error(p, site, 500, "Something went wrong", "This page is too large to show.");
}

void page_store_failed(struct page *p, const struct site *site, struct store *st, int r)
{
	log_warnx("web: store error: %s", store_errmsg(st));
	if (r == STORE_BUSY)
		page_error(p, site, 503, "Busy", "The server is busy; please try again shortly.");
	else
		page_error(p, site, 500, "Something went wrong",
			   "The server could not read its data; please try again later.");
}

const char *page_list_title(const struct list_rec *l)
{
	return l->title != NULL && l->title[0] != '\0' ? l->title : l->name;
}

int page_list_public(const struct list_rec *l)
{
	return l->sub_policy == NULL || strcmp(l->sub_policy, "closed") != 0;
}

void page_render(struct page *p, const struct site *site, const char *name, struct tmpl_vars *v)
{
	tmpl_put(v, "site_name", site->name);
	struct buf err;
	buf_init(&err, 1024);
	if (tmpl_render(site->tmpl, name, v, &p->body, &err) < 0) {
		if (!p->body.err) /* a page too large is page_finish's to say */
			log_warnx("web: template %s: %s", name, buf_cstr(&err));
		p->body.err = 1;
	}
	buf_free(&err);
	page_finish(p, site);
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
	/* stop early once the page would be too large: page_finish says so */
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
		page_text(out, 200, "public, max-age=3600", "text/css; charset=utf-8", CSS,
			  sizeof(CSS) - 1);
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
		page_error(out, site, 503, "Unavailable",
			   "The server cannot reach its data just now; please try again later.");
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
