/*
 * tokpages.h - the pages reached by a token from a mail: confirm and
 * unsubscribe.
 *
 *   /c/TOKEN  GET: what is being confirmed (the list's title, never the
 *             address) and a button: a form that POSTs to the same URL with
 *             a CSRF field. The GET changes nothing, so that link scanners
 *             and prefetchers confirm nothing (P1). POST with a valid CSRF
 *             field confirms (lists_confirm, source "web").
 *   /u/TOKEN  GET: the unsubscribe page with a button and a "leave every
 *             list" box; changes nothing. POST with a valid CSRF field
 *             unsubscribes from this list or, with "all", from every list;
 *             the page says plainly when that erased the person's data (P3).
 *             The same URL takes the RFC 8058 one-click POST: a body with
 *             List-Unsubscribe=One-Click, no cookie, no CSRF field (the
 *             token authenticates it); it answers 200 with a one-line text
 *             body and never redirects (RFC 8058 section 3.2) (P2).
 *
 * An invalid token is a 400, an expired confirmation a 410; both pages say
 * what to do (subscribe again). A CSRF field that is missing or stale is a
 * 403. No IP address is passed to the ledger (none is stored yet), and
 * nothing about the visitor is logged: events name list and subscriber ids.
 *
 * TRUST: path and form are untrusted. The token is checked by
 * crypto/token.c (length first, MAC in constant time) before the store is
 * asked anything; the CSRF field by web/csrf.c.
 */
#ifndef LK_WEB_TOKPAGES_H
#define LK_WEB_TOKPAGES_H

#include <stdint.h>

#include "crypto/keys.h"
#include "store/store.h"
#include "web/writer.h"
#include "web/form.h"
#include "web/pages.h"

struct tokpages_env {
	const struct site *site;
	struct store *st; /* NULL when the store cannot be opened: 503 */
	const struct keys *keys;
	const char *policy_version; /* [general] consent_version, for the ledger */
	/* The unsubscribes go through it (web/writer.h); NULL: on st. */
	struct writer *writer;
};

/* 1 if path is one of these pages (they also accept POST). */
int tokpages_match(const char *path);
/* GET or HEAD of path. Always fills out; free it with page_free. */
void tokpages_get(const struct tokpages_env *env, const char *path, struct page *out);
/* POST of path with its decoded body. Always fills out. */
void tokpages_post(const struct tokpages_env *env, const char *path, const struct form *form,
		   struct page *out);

/* The one-click POST without a worker waiting for the writer: when env has
 * a writer, path is /u/ with a valid token and form is the one-click body,
 * tokpages_oneclick_start returns the unsubscribe to run (else NULL: answer
 * with tokpages_post). tokpages_oneclick_submit hands it to the writer,
 * which calls done(arg) on its own thread once it is committed or has
 * failed; only then may tokpages_oneclick_finish fill out (200 only if
 * committed, as tokpages_post would) and free it. out may be NULL when the
 * answer can no longer be sent, or when oc is let go without being
 * submitted. */
struct tokpages_oneclick;
struct tokpages_oneclick *tokpages_oneclick_start(const struct tokpages_env *env, const char *path,
						  const struct form *form);
void tokpages_oneclick_submit(struct tokpages_oneclick *oc, void (*done)(void *arg), void *arg);
void tokpages_oneclick_finish(struct tokpages_oneclick *oc, struct page *out);

#endif
