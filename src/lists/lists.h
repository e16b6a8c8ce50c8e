/*
 * lists.h - the domain: lists and the context every domain call takes.
 *
 * The domain layer holds the rules (DESIGN.md section 1, promises P1-P4, P8):
 * which states a subscription may take, when personal data is destroyed,
 * what goes into the consent ledger. It sees addresses only in their
 * normalised forms (core/address.h parses them: a subscribe request carries
 * the address as written, and lists_subscribe_prepare normalises it once) and
 * stores personal data only sealed.
 */
#ifndef LK_LISTS_LISTS_H
#define LK_LISTS_LISTS_H

#include <stdint.h>

#include "core/buf.h"
#include "core/tmpl.h"
#include "crypto/keys.h"
#include "store/store.h"

struct lists_ctx {
	struct store *st;
	const struct keys *keys;
	const char *policy_version;  /* consent wording version ([general] consent_version) */
	const char *actor;	     /* who acts, for the audit log: "cli:root", "web", ... */
	const struct tmpl_set *tmpl; /* mail templates (lists/jobs.h); NULL: the built-ins */
};

/* Ends the transaction begun for one operation: commits when r is STORE_OK,
 * else rolls back. On a store failure (STORE_ERR or STORE_BUSY, the commit's
 * own included) an empty err gets the store's message; other results
 * (STORE_NOTFOUND, STORE_EXISTS) are the caller's to explain. Returns the
 * final result. */
int lists_end_txn(struct lists_ctx *x, int r, struct buf *err);

/* 1 if name is a valid list name: 1-64 of [a-z0-9._-], starting with a
 * letter or digit. Otherwise 0 and the reason in err. */
int lists_name_valid(const char *name, struct buf *err);

/* A list's title, or its name when it has none (not owned). */
const char *lists_title(const struct list_rec *l);

/* Fills l with the defaults for a new list called name in domain. */
void lists_defaults(struct list_rec *l, const char *name, const char *domain);
/* Sets one field by its name (as `listkeeper list set` and `list create`
 * options spell it): title, description, kind, subscription_policy,
 * posting_policy, moderation, archive, digest, footer, postal_address,
 * tracking, domain, owners ("owner" too), bounce_action. Validates the value;
 * -1 with the reason in err. owners takes addresses already normalised
 * (core/address.h), separated by commas. */
int lists_set_field(struct list_rec *l, const char *field, const char *value, struct buf *err);
/* Calls fn for each address of owners ("a@x,b@y", as lists_set_field
 * keeps them), a NUL-terminated copy that is wiped after the call; stops at
 * the first non-zero return and returns it (0 when every call returned 0). */
int lists_each_owner(const char *owners, int (*fn)(void *ctx, const char *addr), void *ctx);
/* lists_set_field for a value as a person types it (the command line, the
 * admin pages, the API): "owners" (or "owner") is a comma-separated list of
 * addresses, each parsed by address_parse (core/address.h; blanks around it
 * dropped) and kept in its delivery form; every other field goes through as
 * it is. 0, or -1 with the reason in err. */
int lists_set_field_typed(struct list_rec *l, const char *field, const char *value,
			  struct buf *err);
/* The names of the settable fields, NULL-terminated. */
extern const char *const lists_fields[];
/* The value of a field as text (for `list show`); "" for an unknown field. */
const char *lists_get_field(const struct list_rec *l, const char *field, char tmp[32]);

/* Creates the list (its own transaction). STORE_EXISTS if the name is taken. */
int lists_create(struct lists_ctx *x, struct list_rec *l, struct buf *err);
/* Deletes a list and its subscriptions; people left on no list are erased
 * (their data destroyed, P3). Returns the number of people erased, or, below
 * 0, STORE_BUSY (try again) or STORE_ERR with the reason in err. */
int64_t lists_delete(struct lists_ctx *x, const struct list_rec *l, struct buf *err);

#endif
