/*
 * admin_int.h - what the admin listener (web/admin.c) shares with its pages
 * (web/admin_pages.c) and the JSON API (web/api.c): one request, its
 * signed-in account, and its answer. Internal to src/web.
 */
#ifndef LK_WEB_ADMIN_INT_H
#define LK_WEB_ADMIN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/keys.h"
#include "lists/staff.h"
#include "web/csrf.h"
#include "web/form.h"
#include "web/pages.h"

struct MHD_Connection;

struct admin_req {
	/* the request */
	struct MHD_Connection *conn;
	const char *method; /* GET, HEAD, POST, PATCH, PUT, DELETE */
	const char *path;
	const char *body;
	size_t body_len;
	const struct form *form; /* a page's POST, decoded */
	const struct site *site;
	const struct keys *keys;
	struct store *st; /* NULL: the store could not be opened */
	struct lists_ctx x;
	char net[64]; /* the client's network, for the audit log ("" if unknown) */
	/* who: a session (pages) or a token (API) */
	int signed_in;
	struct staff_access acc;
	uint8_t session[HASH_LEN]; /* the session's hash, the CSRF binding */
	enum api_scope scope;	   /* an API token's */
	char actor[96];		   /* "staff:NAME" */
	int64_t audit_days;
	/* the answer */
	struct page p;
	char cookie[256];   /* a Set-Cookie value, or "" */
	char location[512]; /* a Location (303 after a form), or "" */
	char etag[80];	    /* an ETag, or "" */
	const char *allow;  /* Allow for a 405 */
};

/* The CSRF field of a form that posts to path, bound to the session. */
void admin_csrf(const struct admin_req *r, const char *path, char out[CSRF_LEN + 1]);
/* 1 if form f carries the right CSRF field for path. */
int admin_csrf_ok(const struct admin_req *r, const char *path, const struct form *f);
/* A query argument of the request, or NULL. */
const char *admin_query(const struct admin_req *r, const char *key);
/* The list named by the len bytes at name (a path segment), if the account
 * holds a role on it: STORE_OK, or STORE_NOTFOUND (a 404) for a bad name, no
 * such list, or a list the account may not see (need to know: the same
 * answer), or a store error. */
int admin_list(struct admin_req *r, const char *name, size_t len, struct list_rec *l);
/* Saves l's settings with the audit row "list-set" (detail: the fields
 * changed), in one transaction. STORE_OK or the store's error. */
int admin_list_save(struct admin_req *r, const struct list_rec *l, const char *changed);
/* The values every admin page starts with: the account, its role, the
 * sign-out form's CSRF field. */
struct tmpl_vars *admin_vars(const struct admin_req *r, const char *title);
/* An answer 303 See Other to location. */
void admin_redirect(struct admin_req *r, const char *location);
/* Writes an audit row as the signed-in account (errors logged). */
int admin_audit(struct admin_req *r, const char *action, int64_t list_id, int64_t sub_id,
		const char *detail);

/* The pages (web/admin_pages.c): everything but /login, /logout and the
 * stylesheets, for a signed-in account. */
void admin_pages(struct admin_req *r);
/* The JSON API (web/api.c): a path under /api/v1/. */
void api_handle(struct admin_req *r);

#endif
