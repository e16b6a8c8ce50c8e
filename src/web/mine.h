/*
 * mine.h - what the pages of one person (preferences /p/, data page /me/)
 * show them: their personal data, opened, and the lists they are on, with
 * the lists they could join.
 *
 *   mine_load / mine_free  load and wipe
 *   mine_find              the entry of a list, by id
 *   mine_state_text        a subscription's state in words
 *   mine_audit_view        the audit row for showing a person their data
 *   mine_ctx               the domain context of a page's env
 *
 * TRUST: the subscriber id comes from an authenticated token; what is
 * loaded is personal data, opened in memory for one request and wiped by
 * mine_free. Loading writes nothing: the caller writes the audit row for
 * what it shows.
 */
#ifndef LK_WEB_MINE_H
#define LK_WEB_MINE_H

#include <stddef.h>
#include <stdint.h>

#include "lists/lists.h"
#include "lists/person.h"
#include "store/store.h"
#include "web/listpage.h"

/* One list on the page. */
struct mine_list {
	int64_t id;
	char *name, *title; /* title: the list's title, or its name */
	int digest;	    /* the list offers digests */
	int public;	    /* shown on the index and open to subscription */
	int subscribed;	    /* sub holds the person's subscription */
	struct subscription_rec sub;
};

struct mine {
	struct subscriber_rec who;
	struct person p;
	struct mine_list *v; /* the lists the person is on first, then the others */
	size_t n;
	int more; /* lists were left out to stay within max */
};

/* Loads subscriber id, their personal data and at most max lists: those they
 * are on, then (with_public) the public lists they are not on. Returns
 * STORE_OK, STORE_NOTFOUND (nothing is held about them: erased, or never),
 * or STORE_ERR / STORE_BUSY. m is always safe to mine_free. */
int mine_load(struct lists_ctx *x, int64_t id, int with_public, size_t max, struct mine *m);
void mine_free(struct mine *m);
/* The entry for list_id, or NULL. */
struct mine_list *mine_find(const struct mine *m, int64_t list_id);
/* "active", "waiting for your confirmation", ... for the pages. */
const char *mine_state_text(enum sub_state s);

/* Writes the audit row "person-view" (detail: what page) for showing person
 * id their data, in a transaction of its own. Returns a STORE_* code. */
int mine_audit_view(struct lists_ctx *x, int64_t id, const char *what);
/* The domain context of a page (actor "web", [general] consent_version). */
void mine_ctx(const struct listpage_env *env, struct lists_ctx *x);

#endif
