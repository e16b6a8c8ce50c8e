/*
 * listpage.h - a list's page and its subscribe form: /l/NAME.
 *
 *   GET   the list's title and description and the subscribe form: address,
 *         name, optional country, plain text or HTML, an unticked box for
 *         open tracking (only where the list allows tracking), the consent
 *         wording with its version ([general] consent_version) and a CSRF
 *         field. Labels on every input; no script.
 *   POST  subscribes (lists_subscribe, self, source "web", the wording shown,
 *         no IP), after the answer has been sent (listpage_run). A value that does not pass (bad
 * address, over-long field) gives the form back with the message and the values filled in (400).
 * Otherwise the answer is always the same "check your mailbox" page, byte for byte, whether the
 * address is new, pending, subscribed or suppressed (P4: no enumeration); the confirmation mail is
 * queued only where one is due (new or still pending) and the address's store limit allows it
 * ([web] confirm_per_address per confirm_window_hours, whoever asks). A missing or stale CSRF field
 *         is a 403; past the per-client or per-list limit (web/ratelimit.h)
 *         a 429. Neither depends on the address.
 *
 * A closed list, an unknown one and an invalid name are the same 404.
 * Nothing about the person or the visitor is logged: events name ids only.
 *
 * TRUST: path and form are untrusted. The name is checked as a list name;
 * form values are bounded (core/limits.h) and checked before use, and echoed
 * only as template values, escaped (core/tmpl.h).
 */
#ifndef LK_WEB_LISTPAGE_H
#define LK_WEB_LISTPAGE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/keys.h"
#include "store/store.h"
#include "web/form.h"
#include "web/pages.h"
#include "web/ratelimit.h"

/* The environment of the pages that take a form: also the preferences
 * (web/prefs.h) and data request pages (web/me.h). */
struct listpage_env {
	const struct site *site;
	struct store *st; /* NULL when the store cannot be opened: 503 */
	const struct keys *keys;
	const char *consent_version; /* [general] consent_version */
	int64_t confirm_max;	     /* [web] confirm_per_address */
	int64_t confirm_window;	     /* [web] confirm_window_hours, in seconds */
	int64_t request_ttl;	     /* [tokens] request_ttl_hours, in seconds (web/me.h) */
	struct ratelimit *rl;	     /* per client and per list; NULL: none */
	const void *client;	     /* the client's address: a rate limit key only */
	size_t client_len;
};

/* 1 if path is a list's page (it also accepts POST). */
int listpage_match(const char *path);
/* GET or HEAD. Always fills out; free it with page_free. */
void listpage_get(const struct listpage_env *env, const char *path, struct page *out);
struct listpage_deferred;

/* POST with its decoded body. Always fills out. For an accepted request the
 * answer is the "check your mailbox" page and the store work (subscribe,
 * limit, queue the confirmation) is returned in *later, to be done with
 * listpage_run once the answer has been sent: the time of the answer then
 * cannot tell whether the address was new, pending, subscribed or
 * suppressed (P4). *later is NULL for every other answer. */
void listpage_post(const struct listpage_env *env, const char *path, const struct form *form,
		   struct page *out, struct listpage_deferred **later);
/* Does the store work of an accepted request (env->st is the calling thread's
 * store) and frees it; failures are logged (ids only). NULL does nothing. */
void listpage_run(const struct listpage_env *env, struct listpage_deferred *d);
/* Frees (wipes the address, name and country) without running; NULL is fine. */
void listpage_deferred_free(struct listpage_deferred *d);

#endif
