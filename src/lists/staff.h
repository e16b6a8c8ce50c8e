/*
 * staff.h - the staff side: accounts with roles (need to know, P8), their
 * sign-in sessions and API tokens.
 *
 *   staff_name_valid      1-64 of [a-z0-9._-], starting with a letter or digit
 *   staff_add / staff_remove / staff_passwd   accounts (Argon2id, crypto/password.h)
 *   staff_grant / staff_revoke                roles
 *   staff_access_load / staff_may / staff_sees_list   what an account may do
 *   staff_sign_in         checks a name and password with the same work
 *                         whether or not the account exists
 *   staff_session_open / check / close / close_all   sessions
 *   staff_token_add / staff_token_check      API tokens
 *
 * Roles: admin (the site: every list, accounts, the audit log); owner of a
 * list (its settings and subscribers); moderator of a list (its held posts
 * and requests only); editor of a list (campaigns; nothing personal).
 * Secrets handed out (a session cookie, an API token) are 32 random bytes
 * in hex; the store keeps only their keyed hash (crypto/hash.h
 * secret_hash), so that a copy of the database signs nobody in.
 *
 * TRUST: names and passwords come from the command line and from the sign-in
 * form (untrusted: bounded, checked here); secrets from a cookie or an
 * Authorization header (untrusted: checked for length and hex first).
 */
#ifndef LK_LISTS_STAFF_H
#define LK_LISTS_STAFF_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "lists/lists.h"

#define STAFF_NAME_MAX 64
#define STAFF_SECRET_HEX 64 /* 32 random bytes in hex */
#define STAFF_TOKEN_PREFIX "lk_"
#define STAFF_TOKEN_LEN (3 + STAFF_SECRET_HEX)
#define STAFF_MAX_GRANTS 256 /* roles of one account that are read */
/* What staff_add, staff_passwd, staff_grant and staff_revoke return for bad
 * input (a name, a password, a role without its list): the reason in err,
 * nothing changed. Apart from the store's results (store.h). */
#define STAFF_INVALID (-10)

int staff_name_valid(const char *name, struct buf *err);

/* A new account; STORE_EXISTS if the name is taken (err says so). */
int staff_add(struct lists_ctx *x, const char *name, const char *pw, size_t pwlen, int64_t *id,
	      struct buf *err);
/* Deletes the account with its roles, sessions and tokens. STORE_NOTFOUND. */
int staff_remove(struct lists_ctx *x, const char *name, struct buf *err);
/* A new password; every session of the account ends. STORE_NOTFOUND. */
int staff_passwd(struct lists_ctx *x, const char *name, const char *pw, size_t pwlen,
		 struct buf *err);
/* Grants or takes back a role (list_id 0 for admin; a list for the others).
 * STORE_EXISTS (grant: held already), STORE_NOTFOUND (revoke: not held). */
int staff_grant(struct lists_ctx *x, int64_t staff_id, enum staff_role role, int64_t list_id,
		struct buf *err);
int staff_revoke(struct lists_ctx *x, int64_t staff_id, enum staff_role role, int64_t list_id,
		 struct buf *err);

/* What one account may do, loaded once per request. */
struct staff_access {
	int64_t id;
	char name[STAFF_NAME_MAX + 1];
	int admin;
	size_t n;
	struct staff_grant g[STAFF_MAX_GRANTS];
};
int staff_access_load(struct store *st, int64_t id, struct staff_access *a);
/* 1 if a holds role on list_id; an admin holds every role on every list. */
int staff_may(const struct staff_access *a, enum staff_role role, int64_t list_id);
/* 1 if a holds any role on list_id (or is an admin). */
int staff_sees_list(const struct staff_access *a, int64_t list_id);

/* 1 and *id if name and pw match an account; 0 if not (the same Argon2id
 * work is done for a name that has no account); STORE_ERR or STORE_BUSY. A
 * hash made with older parameters is made anew. */
int staff_sign_in(struct lists_ctx *x, const char *name, size_t namelen, const char *pw,
		  size_t pwlen, int64_t *id);

/* A new session for account id: its secret (hex, NUL-terminated) in out. */
int staff_session_open(struct lists_ctx *x, int64_t id, char out[STAFF_SECRET_HEX + 1]);
/* The session of a secret that is live: seen within idle seconds and made
 * within max seconds (then it is touched: seen = now). STORE_OK with *out
 * (out->hash is the key for close), STORE_NOTFOUND for anything else (an
 * expired session is deleted). */
int staff_session_check(struct lists_ctx *x, const char *secret, size_t len, int64_t idle,
			int64_t max, struct session_rec *out);
int staff_session_close(struct lists_ctx *x, const uint8_t hash[HASH_LEN]);
/* Ends every session of an account; *n how many. */
int staff_session_close_all(struct lists_ctx *x, int64_t staff_id, int64_t *n);

/* A new API token for account id: "lk_" and the secret in hex, in out. */
int staff_token_add(struct lists_ctx *x, int64_t id, enum api_scope scope,
		    char out[STAFF_TOKEN_LEN + 1], struct buf *err);
/* STORE_OK with *out for a known token, else STORE_NOTFOUND. */
int staff_token_check(struct lists_ctx *x, const char *text, size_t len, struct apitoken_rec *out);

#endif
