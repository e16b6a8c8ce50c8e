/*
 * pages.h - the public pages of the web role, rendered to a buffer.
 *
 *   /            the lists that are open to subscription (policy not closed)
 *   /l/NAME      one list and its subscribe form: web/listpage.h
 *   /c/TOKEN, /u/TOKEN  confirm and unsubscribe: web/tokpages.h
 *   /p/TOKEN     a person's preferences: web/prefs.h
 *   /me, /me/TOKEN  "what do you hold about me": web/me.h
 *   /style.css   the one stylesheet
 *   /healthz     "ok" while the store answers
 *   anything else 404
 *
 * Pages are plain HTML5 with no script and no third-party asset; every value
 * from the store or the request goes through web/html.h. The HTTP layer
 * (web/http.c) adds the headers that every response carries.
 *
 * TRUST: path is untrusted (already percent-decoded by the HTTP library);
 * list fields come from the store and are escaped like any other input.
 */
#ifndef LK_WEB_PAGES_H
#define LK_WEB_PAGES_H

#include "core/buf.h"
#include "core/tmpl.h"
#include "store/store.h"

/* The largest page the renderer builds; a bigger one is a 500. */
#define PAGES_MAX_BODY (4u << 20)

/* What every page shows of the site: its name and the templates (built-ins
 * overridden by [web] templates, core/tmpl.h). Read-only, shared by the
 * worker threads. */
struct site {
	const char *name; /* [general] site_name */
	const struct tmpl_set *tmpl;
};

struct page {
	unsigned status;
	const char *content_type;  /* a static string */
	const char *cache_control; /* a static string */
	const char *disposition;   /* Content-Disposition: a static string, or NULL */
	struct buf body;	   /* owned; free with page_free */
};

/* Renders the page for a GET (or HEAD) of path. st may be NULL when the
 * store could not be opened: pages that need it answer 503. site is the
 * site name shown in every page. Always fills out (status 200, 404, 500 or
 * 503); the caller frees it with page_free. */
void pages_get(const struct site *site, struct store *st, const char *path, struct page *out);
/* The page for a method the server does not accept (405). */
void pages_method_not_allowed(const struct site *site, struct page *out);
void page_free(struct page *p);

/* The page frame, for the other page modules (web/tokpages.c). A page is
 * begun (page_begin), then either rendered from a template (page_render)
 * or given its head, body and foot by hand; then page_finish turns
 * one that outgrew PAGES_MAX_BODY into a 500. page_error replaces whatever
 * a begun page holds with a short page: a title and one line of text (both
 * escaped). page_text replaces nothing: it starts a non-HTML page. */
void page_begin(struct page *p, unsigned status, const char *cache);
/* Renders template name with values v (site_name is added to them) as the
 * body of a begun page, then page_finish. A template that fails (a broken
 * override, too large a page) is logged and the page becomes a 500. */
void page_render(struct page *p, const struct site *site, const char *name, struct tmpl_vars *v);
void page_head(struct page *p, const struct site *site, const char *title);
void page_foot(struct page *p);
void page_finish(struct page *p, const struct site *site);
void page_error(struct page *p, const struct site *site, unsigned status, const char *title,
		const char *text);
/* A begun page becomes the 503 (STORE_BUSY) or 500 for store result r (logged). */
void page_store_failed(struct page *p, const struct site *site, struct store *st, int r);
void page_text(struct page *p, unsigned status, const char *cache, const char *type,
	       const char *text, size_t len);
/* 1 if a list is shown and takes subscriptions (its policy is not closed). */
int page_list_public(const struct list_rec *l);
/* A list's title, or its name when it has none. */
const char *page_list_title(const struct list_rec *l);

#endif
