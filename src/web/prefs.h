/*
 * prefs.h - a person's preferences page: /p/TOKEN (the preferences link in
 * the footer of every mail; a PREFS token names the subscriber and the list
 * the mail came from).
 *
 *   GET   a form: the address (shown, not editable), the name, plain text or
 *         HTML, consent to open tracking (the list page's wording), and the
 *         lists: each list the person is on with its delivery (every
 *         message, a digest where the list offers one, no mail for now) or
 *         "leave", and each public list they are not on with "join". At most
 *         PREFS_MAX_LISTS lists (those they are on first), so that the form
 *         stays within LK_HTTP_MAX_FIELDS; the page says when some are left
 *         out. Changes nothing; an audit row records that the person's data
 *         was shown.
 *   POST  with a valid CSRF field saves, in one transaction: name and format
 *         (audited), tracking consent (a ledger event with the wording),
 *         delivery options (audited), joins and leaves (ledger events). A
 *         list joined here is pending like one joined on its page: the
 *         confirmation mail goes to the person's address (P1), within the
 *         same per-address limit ([web] confirm_per_address), counted once
 *         per saved form; the page says whether it was sent. Joins are done
 *         before leaves, so that someone who moves from one list to another
 *         keeps their data; leaving the last list erases the person and the
 *         page says plainly that their personal data has been deleted (P3).
 *         A leave queues the goodbye (mail_goodbye.txt) as the unsubscribe
 *         button of /u/ does: one per list left, or one for all when the
 *         person left every list they were on, saying so when their data is
 *         deleted. Otherwise the form comes back with what was done.
 *
 * An invalid token is a 400; a person who is no longer held (erased) gets a
 * 410 that says so. A missing or stale CSRF field is a 403; a value that
 * does not pass (name too long or with control characters, an unknown
 * format or choice) gives the form back with the message (400) and changes
 * nothing. Nothing about the person is logged: events name ids.
 *
 * TRUST: path and form are untrusted; the token is authenticated
 * (crypto/token.c) before the store is asked anything; form values are
 * bounded, checked, and echoed only as template values (templates/prefs.html).
 */
#ifndef LK_WEB_PREFS_H
#define LK_WEB_PREFS_H

#include "core/limits.h"
#include "web/form.h"
#include "web/listpage.h"
#include "web/pages.h"

/* Lists on one form: the other fields (csrf, name, format, tracking) and
 * room to spare. */
#define PREFS_MAX_LISTS (LK_HTTP_MAX_FIELDS - 8)

/* 1 if path is a preferences page (it also accepts POST). */
int prefs_match(const char *path);
/* GET or HEAD. Always fills out; free it with page_free. */
void prefs_get(const struct listpage_env *env, const char *path, struct page *out);
/* POST with its decoded body. Always fills out. */
void prefs_post(const struct listpage_env *env, const char *path, const struct form *form,
		struct page *out);

#endif
