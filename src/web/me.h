/*
 * me.h - "what do you hold about me?" on the web (P4): /me and /me/TOKEN.
 *
 *   GET /me        a form asking for an address (CSRF field, label, no
 *                  script).
 *   POST /me       with a valid CSRF field and an address that parses: the
 *                  answer is always the same "if we hold anything about this
 *                  address, we have sent a link to it" page, byte for byte,
 *                  and it is sent before the store is asked anything about
 *                  the address (me_run runs after it, as the subscribe form
 *                  does), so that neither its content nor its timing says
 *                  whether the address is held. Then, for an address that is
 *                  held, a `request` job mails that address, and only it, a
 *                  link to /me/TOKEN (a REQUEST token that expires after
 *                  [tokens] request_ttl_hours); at most [web]
 *                  confirm_per_address such mails per confirm_window_hours
 *                  for one address, counted in the store apart from the
 *                  confirmation mails (so that asking for one's data does
 *                  not use up a subscription's confirmation). For an address
 *                  that is not held nothing is sent and nothing is written:
 *                  no mail to a stranger's mailbox, no trace of the address.
 *                  A missing or stale CSRF field is a 403; a value that is
 *                  not an address gives the form back with a message (400);
 *                  past the per-client limit (web/ratelimit.h, counted with
 *                  the subscribe requests) a 429. None depends on whether the
 *                  address is held.
 *   GET /me/TOKEN  the person's data page: their address, name, country,
 *                  format and tracking consent, the lists they are on with
 *                  the state of each and links to its preferences (/p/) and
 *                  unsubscribe (/u/) pages, and a button to download
 *                  everything held as JSON. An audit row records the view.
 *   POST /me/TOKEN with a valid CSRF field: the download, the JSON export of
 *                  lists/person.h (lists_person_export, which writes its own
 *                  audit row), as an attachment, never cached.
 *
 * An invalid token is a 400 and an expired one a 410 (both say: ask again on
 * /me); a person who is no longer held gets a 410 that says their data has
 * been deleted. Nothing about the address or the visitor is logged.
 *
 * TRUST: path and form are untrusted. The address is bounded and parsed by
 * core/address.c; the token is authenticated (crypto/token.c) before the
 * store is asked anything; values are shown only as template values
 * (templates/me.html, me_sent.html, me_data.html).
 */
#ifndef LK_WEB_ME_H
#define LK_WEB_ME_H

#include "web/form.h"
#include "web/listpage.h"
#include "web/pages.h"

/* 1 if path is /me or /me/TOKEN (both also accept POST). */
int me_match(const char *path);
/* GET or HEAD. Always fills out; free it with page_free. */
void me_get(const struct listpage_env *env, const char *path, struct page *out);

struct me_deferred;
/* POST with its decoded body. Always fills out. For an accepted request on
 * /me the store work is returned in *later, to be done with me_run once the
 * answer has been sent; *later is NULL for every other answer. */
void me_post(const struct listpage_env *env, const char *path, const struct form *form,
	     struct page *out, struct me_deferred **later);
/* Looks the address up and, if it is held and within its limit, queues the
 * mail; then frees d (the address wiped). Failures are logged (ids only).
 * NULL does nothing. */
void me_run(const struct listpage_env *env, struct me_deferred *d);
/* Frees (wipes the address) without running; NULL is fine. */
void me_deferred_free(struct me_deferred *d);

#endif
