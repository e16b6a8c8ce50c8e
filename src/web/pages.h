/*
 * pages.h - the public pages of the web role, rendered to a buffer.
 *
 *   /            the lists that are open to subscription (policy not closed)
 *   /l/NAME      one list: title, description, how to subscribe
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
#include "store/store.h"

/* The largest page the renderer builds; a bigger one is a 500. */
#define PAGES_MAX_BODY (4u << 20)

struct page {
	unsigned status;
	const char *content_type;  /* a static string */
	const char *cache_control; /* a static string */
	struct buf body;	   /* owned; free with page_free */
};

/* Renders the page for a GET (or HEAD) of path. st may be NULL when the
 * store could not be opened: pages that need it answer 503. site is the
 * site name shown in every page. Always fills out (status 200, 404, 500 or
 * 503); the caller frees it with page_free. */
void pages_get(const char *site, struct store *st, const char *path, struct page *out);
/* The page for a method the server does not accept (405). */
void pages_method_not_allowed(const char *site, struct page *out);
void page_free(struct page *p);

#endif
