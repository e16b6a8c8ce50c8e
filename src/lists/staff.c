/*
 * staff.c - staff accounts, roles, sessions and API tokens (staff.h).
 *
 * TRUST: see staff.h. Passwords are bounded (LK_MAX_PASSWORD) before
 * hashing; secrets are checked for length and hex before their hash is
 * looked up; the look-up is by keyed hash, so its timing says nothing about
 * the secret.
 */
#include "lists/staff.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/limits.h"
#include "crypto/hash.h"
#include "crypto/password.h"
#include "crypto/rand.h"

static const char SESSION_LABEL[] = "lk-admin-session";
static const char TOKEN_LABEL[] = "lk-api-token";

int staff_name_valid(const char *name, struct buf *err)
{
	size_t n = strlen(name);
	if (n == 0 || n > STAFF_NAME_MAX) {
		buf_printf(err, "an account name has 1 to %d characters (%zu given)",
			   STAFF_NAME_MAX, n);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      (i > 0 && (c == '-' || c == '_' || c == '.')))) {
			buf_puts(err, "an account name is lower-case letters, digits, '-', '_' and "
				      "'.', starting with a letter or digit");
			return 0;
		}
	}
	return 1;
}

static int hash_password(const char *pw, size_t pwlen, char out[PASSWORD_HASH_MAX], struct buf *err)
{
	if (pwlen < LK_MIN_PASSWORD || pwlen > LK_MAX_PASSWORD) {
		buf_printf(err, "a password has %d to %d bytes (%zu given)", LK_MIN_PASSWORD,
			   LK_MAX_PASSWORD, pwlen);
		return -1;
	}
	if (password_hash(pw, pwlen, out) < 0) {
		buf_puts(err, "cannot hash the password (out of memory)");
		return -1;
	}
	return 0;
}

int staff_add(struct lists_ctx *x, const char *name, const char *pw, size_t pwlen, int64_t *id,
	      struct buf *err)
{
	char h[PASSWORD_HASH_MAX];
	if (!staff_name_valid(name, err) || hash_password(pw, pwlen, h, err) < 0)
		return STAFF_INVALID;
	struct staff_rec r = {.name = (char *)name, .pw_hash = h, .created = clock_now()};
	int rc = store_begin(x->st);
	if (rc == STORE_OK)
		rc = store_staff_insert(x->st, &r);
	if (rc == STORE_OK)
		rc = store_audit(x->st, clock_now(), x->actor, "staff-add", 0, 0, name);
	if (rc == STORE_EXISTS)
		buf_printf(err, "there is an account named %s already", name);
	rc = lists_end_txn(x, rc, err);
	explicit_bzero(h, sizeof(h));
	if (rc == STORE_OK && id != NULL)
		*id = r.id;
	return rc;
}

int staff_remove(struct lists_ctx *x, const char *name, struct buf *err)
{
	struct staff_rec r;
	int rc = store_begin(x->st);
	if (rc == STORE_OK && (rc = store_staff_get(x->st, name, 0, &r)) == STORE_OK) {
		rc = store_staff_delete(x->st, r.id);
		staff_rec_free(&r);
	}
	if (rc == STORE_OK)
		rc = store_audit(x->st, clock_now(), x->actor, "staff-remove", 0, 0, name);
	if (rc == STORE_NOTFOUND)
		buf_printf(err, "no account named %s", name);
	return lists_end_txn(x, rc, err);
}

int staff_passwd(struct lists_ctx *x, const char *name, const char *pw, size_t pwlen,
		 struct buf *err)
{
	char h[PASSWORD_HASH_MAX];
	if (hash_password(pw, pwlen, h, err) < 0)
		return STAFF_INVALID;
	struct staff_rec r;
	int64_t n = 0;
	int rc = store_begin(x->st);
	if (rc == STORE_OK && (rc = store_staff_get(x->st, name, 0, &r)) == STORE_OK) {
		rc = store_staff_set_password(x->st, r.id, h);
		if (rc == STORE_OK)
			rc = store_session_delete_staff(x->st, r.id, &n);
		staff_rec_free(&r);
	}
	if (rc == STORE_OK)
		rc = store_audit(x->st, clock_now(), x->actor, "staff-password", 0, 0, name);
	if (rc == STORE_NOTFOUND)
		buf_printf(err, "no account named %s", name);
	explicit_bzero(h, sizeof(h));
	return lists_end_txn(x, rc, err);
}

static int change_grant(struct lists_ctx *x, int64_t staff_id, enum staff_role role,
			int64_t list_id, int on, struct buf *err)
{
	if ((role == STAFF_ROLE_ADMIN) != (list_id == 0)) {
		buf_puts(err, role == STAFF_ROLE_ADMIN
				  ? "admin is a role of the site, not of a list"
				  : "owner, moderator and editor are roles "
				    "of one list: name it");
		return STAFF_INVALID;
	}
	struct staff_grant g = {.staff_id = staff_id, .role = role, .list_id = list_id};
	char detail[96];
	bsnprintf(detail, sizeof(detail), "%s staff=%lld", staff_role_name(role),
		  (long long)staff_id);
	int rc = store_begin(x->st);
	if (rc == STORE_OK)
		rc = on ? store_grant_put(x->st, &g) : store_grant_delete(x->st, &g);
	if (rc == STORE_OK)
		rc = store_audit(x->st, clock_now(), x->actor, on ? "staff-grant" : "staff-revoke",
				 list_id, 0, detail);
	if (rc == STORE_EXISTS)
		buf_printf(err, "the account holds that role already");
	else if (rc == STORE_NOTFOUND)
		buf_printf(err, "the account does not hold that role");
	return lists_end_txn(x, rc, err);
}

int staff_grant(struct lists_ctx *x, int64_t staff_id, enum staff_role role, int64_t list_id,
		struct buf *err)
{
	return change_grant(x, staff_id, role, list_id, 1, err);
}

int staff_revoke(struct lists_ctx *x, int64_t staff_id, enum staff_role role, int64_t list_id,
		 struct buf *err)
{
	return change_grant(x, staff_id, role, list_id, 0, err);
}

static int add_grant(void *ctx, const struct staff_grant *g)
{
	struct staff_access *a = ctx;
	if (g->role == STAFF_ROLE_ADMIN)
		a->admin = 1;
	if (a->n < STAFF_MAX_GRANTS)
		a->g[a->n++] = *g;
	return 0;
}

int staff_access_load(struct store *st, int64_t id, struct staff_access *a)
{
	memset(a, 0, sizeof(*a));
	struct staff_rec r;
	int rc = store_staff_get(st, NULL, id, &r);
	if (rc != STORE_OK)
		return rc;
	a->id = r.id;
	bsnprintf(a->name, sizeof(a->name), "%s", r.name);
	staff_rec_free(&r);
	return store_grants_of(st, id, add_grant, a);
}

int staff_may(const struct staff_access *a, enum staff_role role, int64_t list_id)
{
	if (a->admin)
		return 1;
	for (size_t i = 0; i < a->n; i++)
		if (a->g[i].role == role && a->g[i].list_id == list_id && list_id != 0)
			return 1;
	return 0;
}

int staff_sees_list(const struct staff_access *a, int64_t list_id)
{
	if (a->admin)
		return 1;
	for (size_t i = 0; i < a->n; i++)
		if (a->g[i].list_id == list_id && list_id != 0)
			return 1;
	return 0;
}

/* A hash of a random password, made once: what a name without an account is
 * checked against, so that its answer takes as long as a wrong password. */
static char dummy_hash[PASSWORD_HASH_MAX];
static int dummy_ok;
static void dummy_make(void)
{
	uint8_t pw[32];
	char hex[65];
	rand_bytes(pw, sizeof(pw));
	hex_encode(pw, sizeof(pw), hex);
	dummy_ok = password_hash(hex, 64, dummy_hash) == 0;
	explicit_bzero(hex, sizeof(hex));
	explicit_bzero(pw, sizeof(pw));
}

int staff_sign_in(struct lists_ctx *x, const char *name, size_t namelen, const char *pw,
		  size_t pwlen, int64_t *id)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, dummy_make);
	char nm[STAFF_NAME_MAX + 1];
	struct staff_rec r;
	int rc = STORE_NOTFOUND;
	memset(&r, 0, sizeof(r));
	if (namelen <= STAFF_NAME_MAX && memchr(name, '\0', namelen) == NULL) {
		memcpy(nm, name, namelen);
		nm[namelen] = '\0';
		rc = store_staff_get(x->st, nm, 0, &r);
	}
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	int found = rc == STORE_OK;
	const char *h = found ? r.pw_hash : (dummy_ok ? dummy_hash : "");
	int good = password_verify(h, pw, pwlen) && found;
	if (good && password_needs_rehash(r.pw_hash)) {
		char nh[PASSWORD_HASH_MAX];
		if (password_hash(pw, pwlen, nh) == 0 && store_begin(x->st) == STORE_OK) {
			if (store_staff_set_password(x->st, r.id, nh) == STORE_OK)
				store_commit(x->st);
			else
				store_rollback(x->st);
		}
		explicit_bzero(nh, sizeof(nh));
	}
	if (good)
		*id = r.id;
	staff_rec_free(&r);
	return good;
}

int staff_session_open(struct lists_ctx *x, int64_t id, char out[STAFF_SECRET_HEX + 1])
{
	uint8_t secret[STAFF_SECRET_HEX / 2];
	struct session_rec s = {.staff_id = id, .created = clock_now(), .seen = clock_now()};
	rand_bytes(secret, sizeof(secret));
	hex_encode(secret, sizeof(secret), out);
	secret_hash(x->keys, SESSION_LABEL, out, STAFF_SECRET_HEX, s.hash);
	explicit_bzero(secret, sizeof(secret));
	int rc = store_begin(x->st);
	if (rc == STORE_OK)
		rc = store_session_put(x->st, &s);
	if (rc == STORE_OK)
		rc = store_commit(x->st);
	else
		store_rollback(x->st);
	if (rc != STORE_OK)
		explicit_bzero(out, STAFF_SECRET_HEX + 1);
	return rc;
}

/* 1 if p (len bytes) is exactly STAFF_SECRET_HEX lower-case hex digits. */
static int secret_syntax(const char *p, size_t len)
{
	if (len != STAFF_SECRET_HEX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return 1;
}

int staff_session_check(struct lists_ctx *x, const char *secret, size_t len, int64_t idle,
			int64_t max, struct session_rec *out)
{
	uint8_t h[HASH_LEN];
	memset(out, 0, sizeof(*out));
	if (!secret_syntax(secret, len))
		return STORE_NOTFOUND;
	secret_hash(x->keys, SESSION_LABEL, secret, len, h);
	int rc = store_session_get(x->st, h, out);
	if (rc != STORE_OK)
		return rc;
	int64_t now = clock_now();
	int live = now - out->seen <= idle && now - out->created <= max;
	if (store_begin(x->st) == STORE_OK) {
		int w = live ? store_session_seen(x->st, h, now) : store_session_delete(x->st, h);
		if (w == STORE_OK)
			store_commit(x->st);
		else
			store_rollback(x->st);
	}
	return live ? STORE_OK : STORE_NOTFOUND;
}

int staff_session_close(struct lists_ctx *x, const uint8_t hash[HASH_LEN])
{
	int rc = store_begin(x->st);
	if (rc == STORE_OK)
		rc = store_session_delete(x->st, hash);
	if (rc == STORE_OK || rc == STORE_NOTFOUND)
		return store_commit(x->st);
	store_rollback(x->st);
	return rc;
}

int staff_session_close_all(struct lists_ctx *x, int64_t staff_id, int64_t *n)
{
	int rc = store_begin(x->st);
	if (rc == STORE_OK)
		rc = store_session_delete_staff(x->st, staff_id, n);
	if (rc == STORE_OK)
		return store_commit(x->st);
	store_rollback(x->st);
	return rc;
}

int staff_token_add(struct lists_ctx *x, int64_t id, enum api_scope scope,
		    char out[STAFF_TOKEN_LEN + 1], struct buf *err)
{
	uint8_t secret[STAFF_SECRET_HEX / 2];
	struct apitoken_rec t = {.staff_id = id, .scope = scope, .created = clock_now()};
	memcpy(out, STAFF_TOKEN_PREFIX, 3);
	rand_bytes(secret, sizeof(secret));
	hex_encode(secret, sizeof(secret), out + 3);
	explicit_bzero(secret, sizeof(secret));
	secret_hash(x->keys, TOKEN_LABEL, out + 3, STAFF_SECRET_HEX, t.hash);
	char detail[64];
	bsnprintf(detail, sizeof(detail), "scope=%s staff=%lld", api_scope_name(scope),
		  (long long)id);
	int rc = store_begin(x->st);
	if (rc == STORE_OK)
		rc = store_apitoken_put(x->st, &t);
	if (rc == STORE_OK)
		rc = store_audit(x->st, clock_now(), x->actor, "token-add", 0, 0, detail);
	rc = lists_end_txn(x, rc, err);
	if (rc != STORE_OK)
		explicit_bzero(out, STAFF_TOKEN_LEN + 1);
	return rc;
}

int staff_token_check(struct lists_ctx *x, const char *text, size_t len, struct apitoken_rec *out)
{
	uint8_t h[HASH_LEN];
	memset(out, 0, sizeof(*out));
	if (len != STAFF_TOKEN_LEN || memcmp(text, STAFF_TOKEN_PREFIX, 3) != 0 ||
	    !secret_syntax(text + 3, len - 3))
		return STORE_NOTFOUND;
	secret_hash(x->keys, TOKEN_LABEL, text + 3, STAFF_SECRET_HEX, h);
	return store_apitoken_get(x->st, h, out);
}
