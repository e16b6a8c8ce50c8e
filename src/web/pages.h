/*
 * pages.h - the public pages of the web role, rendered to a buffer.
 *
 *   /            the lists that are open to subscription (policy not closed)
 *   /l/NAME      one list and its subscribe form: web/listpage.h
 *   /c/TOKEN, /u/TOKEN  confirm and unsubscribe: web/tokpages.h
 *   /p/TOKEN     a person's preferences: web/prefs.h
 *   /me, /me/TOKEN  "what do you hold about me": web/me.h
 *   /style.css   the one stylesheet (the template style.css)
 *   /logo        the image of [web] logo, when there is one
 *   /healthz     "ok" while the store answers
 *   anything else 404
 *
 * Pages are plain HTML5 with no script and no third-party asset; every value
 * from the store or the request is a template value, escaped (core/tmpl.h,
 * templates/). The HTTP layer
 * (web/http.c) adds the headers that every response carries.
 *
 * TRUST: path is untrusted (already percent-decoded by the HTTP library);
 * list fields come from the store and are escaped like any other input.
 */
#ifndef LK_WEB_PAGES_H
#define LK_WEB_PAGES_H

#include "core/buf.h"
#include "core/conf.h"
#include "core/tmpl.h"
#include "store/store.h"

/* The largest page the renderer builds; a bigger one is a 500. */
#define PAGES_MAX_BODY (4u << 20)

/* What every page shows of the site, loaded once at start-up and read-only
 * after (shared by the worker threads): its name, the templates (built-ins
 * overridden by [web] templates, core/tmpl.h), the stylesheet and the
 * consent wording rendered from them, and the logo of [web] logo. */
struct site {
	const char *name;	     /* [general] site_name */
	const struct tmpl_set *tmpl; /* page_render's templates */
	const char *logo_url;	     /* "/logo" with a logo, else "" */
	const char *consent;	     /* consent.txt: the wording shown and recorded */
	const char *tracking;	     /* tracking.txt: the open-tracking box's label */
	struct str css;		     /* style.css */
	struct str logo;	     /* the logo's bytes; logo_type its media type */
	const char *logo_type;
};

/* Loads the site from the configuration: the built-in templates, the folder
 * of [web] templates over them, the logo of [web] logo. Returns NULL with
 * the reason in err ("FILE:LINE: ..." for a broken template): a start-up
 * error for the operator to fix. */
struct site *site_new(const struct conf *conf, struct buf *err);
void site_free(struct site *site);

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

/* The page frame, for the other page modules (web/listpage.c,
 * web/tokpages.c). A page is begun (page_begin), then rendered from a
 * template (page_render), which turns one that outgrew PAGES_MAX_BODY or
 * whose template failed into a 500. page_error replaces whatever a begun
 * page holds with error.html: a title and one line of text (both escaped).
 * page_text replaces nothing: it starts a non-HTML page. */
void page_begin(struct page *p, unsigned status, const char *cache);
/* Renders template name with values v (site_name and logo_url are added to
 * them) as the body of a begun page. A template that fails (too large a
 * page, includes too deep) is logged and the page becomes a 500. */
void page_render(struct page *p, const struct site *site, const char *name, struct tmpl_vars *v);
void page_error(struct page *p, const struct site *site, unsigned status, const char *title,
		const char *text);
/* 503 "Unavailable": the request's store connection could not be opened. */
void page_store_unavailable(struct page *p, const struct site *site);
/* A begun page becomes the 503 "Busy" (STORE_BUSY) or the 503 "Unavailable"
 * (any other store error: a full disk is not the person's fault, nor for
 * good) for store result r:
 * page_store_failed logs the error of st; page_store_error logs nothing
 * (the caller did). */
void page_store_failed(struct page *p, const struct site *site, struct store *st, int r);
void page_store_error(struct page *p, const struct site *site, int r);
/* For a page that answers before the write it promises (a subscribe, a data
 * request: their timing must not tell whether the address is known): 0 if
 * st takes writes now (store_write_check, the same for every request), or
 * -1 with the store error page (503) in p, logged with what. A write that
 * fails after the check, between the answer and the work, is logged. */
int page_write_check(struct page *p, const struct site *site, struct store *st, const char *what);
void page_text(struct page *p, unsigned status, const char *cache, const char *type,
	       const char *text, size_t len);
/* 1 if a list is shown and takes subscriptions (its policy is not closed). */
int page_list_public(const struct list_rec *l);
/* A list's title, or its name when it has none. */
const char *page_list_title(const struct list_rec *l);

#endif
