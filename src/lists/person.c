/*
 * person.c - the subscriber lifecycle: subscribe, confirm, unsubscribe,
 * erase, and the consent ledger (the export: person_export.c).
 *
 * TRUST: a subscribe request's address is text as written, normalised here
 * (core/address.h, mailbox_parse); names and countries
 * are untrusted text, length-checked here and sealed before they reach the
 * store. Nothing here logs personal data: a subscriber is named by id.
 */
#include "lists/person.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/address.h"
#include "core/clock.h"
#include "core/utc.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/utf8.h"
#include "core/xmalloc.h"
#include "crypto/hash.h"
#include "crypto/pii.h"
#include "lists/jobs.h"
#include "lists/person_int.h"

void person_free(struct person *p)
{
	char **f[] = {&p->address, &p->name, &p->country};
	for (int i = 0; i < 3; i++) {
		if (*f[i] != NULL)
			xfree_wipe(*f[i], strlen(*f[i]));
		*f[i] = NULL;
	}
}

int person_fail_store(struct lists_ctx *x, int r, struct buf *err)
{
	if (err->len == 0)
		buf_puts(err, store_errmsg(x->st));
	return r == STORE_BUSY ? STORE_BUSY : STORE_ERR;
}

int person_data_key(struct lists_ctx *x, const struct subscriber_rec *r, uint8_t key[PII_KEY_LEN])
{
	return pii_key_unwrap(x->keys, r->wrapped_key, PII_WRAPPED_LEN, key);
}

/* Appends a ledger event; details (sealed already, may be NULL) go in as they are. */
static int ledger_event(struct lists_ctx *x, int64_t list_id, int64_t sub_id, const char *action,
			const char *source, const struct buf *details)
{
	struct ledger_rec e = {0};
	e.list_id = list_id;
	e.subscriber_id = sub_id;
	e.action = action;
	e.time = clock_now();
	e.source = source;
	e.policy_version = x->policy_version ? x->policy_version : "";
	if (details != NULL && details->len > 0) {
		e.details = (const uint8_t *)details->data;
		e.details_len = details->len;
	}
	return store_ledger_append(x->st, &e, x->keys->mac);
}

/* Appends "k":"v" to the JSON object being written in out (out holds "{"
 * and perhaps members; the caller closes it). Skips a NULL or empty v and
 * one that is not UTF-8, as jansson's json_string would refuse it. The
 * parser on the way back is jansson (open_json in person_export.c). */
static void json_member(struct buf *out, const char *k, const char *v)
{
	static const char HEX[] = "0123456789abcdef";
	size_t n = v != NULL ? strlen(v) : 0;
	if (n == 0 || !utf8_valid(v, n, NULL))
		return;
	if (out->len > 1)
		buf_putc(out, ',');
	buf_putc(out, '"');
	buf_puts(out, k);
	buf_puts(out, "\":\"");
	size_t run = 0; /* bytes of v[run..i) to copy as they are */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_append(out, v + run, i - run);
		run = i + 1;
		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};
			buf_append(out, esc, 2);
		} else {
			char esc[6] = {'\\', 'u', '0', '0', HEX[c >> 4], HEX[c & 15]};
			buf_append(out, esc, 6);
		}
	}
	buf_append(out, v + run, n - run);
	buf_putc(out, '"');
}

/* The plain text of a ledger event's details (IP, consent wording, note):
 * a JSON object in plain, or plain empty when there are none. */
static void details_plain(struct buf *plain, const char *ip, const char *wording, const char *note)
{
	buf_reset(plain);
	buf_putc(plain, '{');
	json_member(plain, "ip", ip);
	json_member(plain, "wording", wording);
	json_member(plain, "note", note);
	if (plain->len > 1)
		buf_putc(plain, '}');
	else
		buf_reset(plain);
}

/* The plain text of a person's data {address, name, country}. */
static void person_plain(struct buf *plain, const char *addr, const char *name, const char *country)
{
	buf_reset(plain);
	buf_putc(plain, '{');
	json_member(plain, "a", addr);
	json_member(plain, "n", name);
	json_member(plain, "c", country);
	buf_putc(plain, '}');
}

/* Seals plain (nothing when it is empty) with key into out; plain is wiped. */
static int seal_plain(const uint8_t key[PII_KEY_LEN], const char *ad, struct buf *plain,
		      struct buf *out)
{
	int r = plain->err	 ? -1
		: plain->len > 0 ? pii_seal(key, ad, plain->data, plain->len, out)
				 : 0;
	buf_reset(plain);
	return r;
}

/* Seals the details of a ledger event (IP, consent wording, note) with the
 * person's key into out (emptied first); nothing when there are none. */
static int seal_details(const uint8_t key[PII_KEY_LEN], const char *ip, const char *wording,
			const char *note, struct buf *scratch, struct buf *out)
{
	buf_reset(out);
	details_plain(scratch, ip, wording, note);
	return seal_plain(key, AD_LEDGER, scratch, out);
}

/* Seals a person's data {address, name, country} with key into out. */
static int seal_person(const uint8_t key[PII_KEY_LEN], const char *addr, const char *name,
		       const char *country, struct buf *scratch, struct buf *out)
{
	person_plain(scratch, addr, name, country);
	return seal_plain(key, AD_DATA, scratch, out);
}

/* Seals details with key into a new buffer the caller frees. */
static int seal_details_new(const uint8_t key[PII_KEY_LEN], const char *ip, struct buf *out)
{
	struct buf scratch;
	buf_init(&scratch, LK_MAX_LEDGER_DETAILS);
	buf_init(out, LK_MAX_LEDGER_DETAILS + PII_OVERHEAD);
	int r = seal_details(key, ip, NULL, NULL, &scratch, out);
	buf_free(&scratch);
	return r;
}

static int text_ok(const char *v, size_t max, const char *what, struct buf *err)
{
	if (v == NULL)
		return 1;
	size_t n = strlen(v);
	if (n > max) {
		buf_printf(err, "%s is longer than %zu bytes", what, max);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
			buf_printf(err, "%s holds a control character", what);
			return 0;
		}
	if (!utf8_valid(v, n, NULL)) {
		buf_printf(err, "%s is not valid UTF-8", what);
		return 0;
	}
	return 1;
}

struct subscribe_prep {
	uint8_t hash[HASH_LEN];
	uint8_t wrapped[PII_WRAPPED_LEN]; /* a new data key, wrapped */
	struct buf data;		  /* {address, name, country} sealed with it */
	struct buf details;		  /* the ledger details sealed with it (or none) */
	struct buf plain;		  /* scratch for the JSON before sealing; wiped */
	struct buf plain2;		  /* the same for the details */
};

struct subscribe_prep *subscribe_prep_new(void)
{
	struct subscribe_prep *p = xcalloc(1, sizeof(*p));
	buf_init(&p->data, 4 * LK_MAX_MAILBOX + PII_OVERHEAD);
	buf_init(&p->details, LK_MAX_LEDGER_DETAILS + PII_OVERHEAD);
	buf_init(&p->plain, LK_MAX_LEDGER_DETAILS);
	buf_init(&p->plain2, LK_MAX_LEDGER_DETAILS);
	return p;
}

void subscribe_prep_free(struct subscribe_prep *p)
{
	if (p == NULL)
		return;
	buf_free(&p->data);
	buf_free(&p->details);
	buf_free(&p->plain);
	buf_free(&p->plain2);
	explicit_bzero(p, sizeof(*p));
	free(p);
}

int lists_subscribe_prepare(const struct keys *k, const struct subscribe_req *rq,
			    struct subscribe_prep *p, struct buf *err)
{
	buf_reset(&p->data);
	buf_reset(&p->details);
	if (rq->address == NULL || rq->address[0] == '\0') {
		buf_puts(err, "no address");
		return -1;
	}
	/* The parser's reason never quotes the address (core/address.h). */
	struct address a;
	if (mailbox_parse(rq->address, strlen(rq->address), &a, err) < 0)
		return -1;
	const char *name = rq->name != NULL ? rq->name : a.display;
	/* Checked again so that an address that JSON cannot hold is refused
	 * rather than sealed as a record without an address. */
	if (!text_ok(a.addr, LK_MAX_ADDRESS, "the address", err) ||
	    !text_ok(name, LK_MAX_NAME, "the name", err) ||
	    !text_ok(rq->country, LK_MAX_COUNTRY, "the country", err)) {
		address_free(&a);
		return -1;
	}
	addr_hash(k, a.key, strlen(a.key), p->hash);
	/* Made for a new subscriber; an existing one keeps their key, and
	 * lists_subscribe_prepared seals the details again with it. */
	person_plain(&p->plain, a.addr, name, rq->country);
	address_free(&a);
	details_plain(&p->plain2, rq->ip, rq->wording, rq->note);
	struct pii_part parts[2] = {{AD_DATA, p->plain.data, p->plain.len, &p->data},
				    {AD_LEDGER, p->plain2.data, p->plain2.len, &p->details}};
	int r = p->plain.err || p->plain2.err
		    ? -1
		    : pii_seal_fresh(k, p->wrapped, parts, p->plain2.len > 0 ? 2 : 1);
	buf_reset(&p->plain);
	buf_reset(&p->plain2);
	if (r < 0)
		buf_puts(err, "the personal data is too long to seal");
	return r;
}

static int create_subscriber(struct lists_ctx *x, const struct subscribe_req *rq,
			     const struct subscribe_prep *p, struct subscriber_rec *r)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->addr_hash, p->hash, HASH_LEN);
	memcpy(r->wrapped_key, p->wrapped, PII_WRAPPED_LEN);
	r->data = (uint8_t *)p->data.data;
	r->data_len = p->data.len;
	r->html = rq->html;
	r->tracking = rq->tracking;
	r->created = clock_now();
	int rc = store_subscriber_insert(x->st, r);
	r->data = NULL; /* p's */
	r->data_len = 0;
	return rc;
}

enum subscribe_result lists_subscribe_prepared(struct lists_ctx *x, const struct list_rec *l,
					       const struct subscribe_req *rq,
					       struct subscribe_prep *p, int64_t *subscriber_id,
					       struct buf *err)
{
	uint8_t key[PII_KEY_LEN];
	struct subscriber_rec who = {0};
	struct subscription_rec sub;
	enum subscribe_result res = SUBSCRIBE_ERROR;
	int r;

	if (rq->self && l->sub_policy == LIST_SUB_CLOSED)
		return SUBSCRIBE_CLOSED;
	r = store_begin(x->st);
	if (r != STORE_OK) {
		person_fail_store(x, r, err);
		return r == STORE_BUSY ? SUBSCRIBE_BUSY : SUBSCRIBE_ERROR;
	}

	r = store_suppression_check(x->st, p->hash, l->id);
	if (r == STORE_OK && !rq->self) {
		/* An opt-out is honoured: only the person's own confirmed request lifts it. */
		res = SUBSCRIBE_SUPPRESSED;
		goto out_rollback;
	}
	if (r != STORE_OK && r != STORE_NOTFOUND)
		goto out_err;

	r = store_subscriber_find(x->st, p->hash, &who);
	int created = r == STORE_NOTFOUND;
	if (created) {
		r = create_subscriber(x, rq, p, &who);
	} else if (r == STORE_OK) {
		if (person_data_key(x, &who, key) < 0) {
			buf_printf(err, "subscriber %lld: data key does not open (wrong key file?)",
				   (long long)who.id);
			r = STORE_ERR;
			goto out_err;
		}
	}
	if (r != STORE_OK)
		goto out_err;

	/* A subscriber created just now has no subscription yet. */
	r = created ? STORE_NOTFOUND : store_subscription_get(x->st, l->id, who.id, &sub);
	if (r == STORE_OK && sub.state != SUB_STATE_PENDING) {
		res = SUBSCRIBE_ALREADY;
		goto out_rollback;
	}
	if (r == STORE_OK && !rq->confirmed) {
		res = SUBSCRIBE_STILL_PENDING; /* the caller may resend the request */
		goto out_rollback;
	}
	if (r != STORE_OK && r != STORE_NOTFOUND)
		goto out_err;
	int64_t now = clock_now();
	if (r == STORE_NOTFOUND) {
		memset(&sub, 0, sizeof(sub));
		sub.list_id = l->id;
		sub.subscriber_id = who.id;
		sub.created = now;
	}
	sub.state = rq->confirmed ? SUB_STATE_ACTIVE : SUB_STATE_PENDING;
	sub.updated = now;
	r = store_subscription_put(x->st, &sub);
	if (r != STORE_OK)
		goto out_err;

	/* The details were sealed for the new key: an existing subscriber's are
	 * sealed again with theirs. */
	if (!created &&
	    seal_details(key, rq->ip, rq->wording, rq->note, &p->plain, &p->details) < 0) {
		buf_puts(err, "the details are too long to seal");
		res = SUBSCRIBE_INVALID; /* bad data in rq, not the store */
		goto out_rollback;
	}
	const char *action = rq->confirmed ? "subscribe-confirmed-by-admin" : "subscribe-request";
	r = ledger_event(x, l->id, who.id, action, rq->source, &p->details);
	if (r == STORE_OK)
		r = store_commit(x->st);
	if (r != STORE_OK)
		goto out_err;
	res = rq->confirmed ? SUBSCRIBE_ACTIVE : SUBSCRIBE_PENDING;
	*subscriber_id = who.id;
	log_debug("event=subscribe list=%s subscriber=%lld state=%s source=%s", l->name,
		  (long long)who.id, sub_state_name(sub.state), rq->source);
	subscriber_rec_free(&who);
	explicit_bzero(key, sizeof(key));
	return res;

out_err: /* r: the store's result, busy kept apart from error */
	res = person_fail_store(x, r, err) == STORE_BUSY ? SUBSCRIBE_BUSY : SUBSCRIBE_ERROR;
out_rollback:
	if (who.id)
		*subscriber_id = who.id;
	store_rollback(x->st);
	subscriber_rec_free(&who);
	explicit_bzero(key, sizeof(key));
	return res;
}

enum subscribe_result lists_subscribe(struct lists_ctx *x, const struct list_rec *l,
				      const struct subscribe_req *rq, int64_t *subscriber_id,
				      struct buf *err)
{
	struct subscribe_prep *p = subscribe_prep_new();
	enum subscribe_result res = SUBSCRIBE_INVALID;
	if (lists_subscribe_prepare(x->keys, rq, p, err) == 0)
		res = lists_subscribe_prepared(x, l, rq, p, subscriber_id, err);
	subscribe_prep_free(p);
	return res;
}

int lists_find(struct lists_ctx *x, const struct person_addr *a, int64_t *id)
{
	uint8_t hash[HASH_LEN];
	struct subscriber_rec who = {0};
	addr_hash(x->keys, a->key, strlen(a->key), hash);
	int r = store_subscriber_find(x->st, hash, &who);
	if (r == STORE_OK)
		*id = who.id;
	subscriber_rec_free(&who);
	return r;
}

/* Loads the subscriber and unwraps the data key. */
int person_load_with_key(struct lists_ctx *x, int64_t id, struct subscriber_rec *who,
			 uint8_t key[PII_KEY_LEN], struct buf *err)
{
	int r = store_subscriber_get(x->st, id, who);
	if (r != STORE_OK)
		return r == STORE_NOTFOUND ? r : person_fail_store(x, r, err);
	if (person_data_key(x, who, key) < 0) {
		buf_printf(err, "subscriber %lld: data key does not open (wrong key file?)",
			   (long long)id);
		subscriber_rec_free(who);
		return STORE_ERR;
	}
	return STORE_OK;
}

int lists_confirm(struct lists_ctx *x, const struct list_rec *l, int64_t id, const char *source,
		  const char *ip, struct buf *err)
{
	struct subscriber_rec who = {0};
	struct subscription_rec sub;
	uint8_t key[PII_KEY_LEN];
	int rb = store_begin(x->st);
	if (rb != STORE_OK)
		return person_fail_store(x, rb, err);
	int r = person_load_with_key(x, id, &who, key, err);
	if (r == STORE_OK)
		r = store_subscription_get(x->st, l->id, id, &sub);
	if (r == STORE_OK && sub.state != SUB_STATE_PENDING)
		r = STORE_EXISTS; /* confirmed already: nothing to do */
	if (r == STORE_OK) {
		sub.state = l->sub_policy == LIST_SUB_OWNER ? SUB_STATE_HELD : SUB_STATE_ACTIVE;
		sub.updated = clock_now();
		r = store_subscription_put(x->st, &sub);
	}
	if (r == STORE_OK) {
		/* The person's own confirmation is new consent: lift their opt-outs. */
		r = store_suppression_remove(x->st, who.addr_hash, l->id);
		if (r == STORE_OK)
			r = store_suppression_remove(x->st, who.addr_hash, 0);
	}
	if (r == STORE_OK) {
		struct buf d;
		r = seal_details_new(key, ip, &d) < 0 ? STORE_ERR : STORE_OK;
		if (r == STORE_OK)
			r = ledger_event(x, l->id, id, "confirm", source, &d);
		buf_free(&d);
	}
	int64_t job;
	if (r == STORE_OK && sub.state == SUB_STATE_ACTIVE) /* held: no welcome (yet) */
		r = jobs_create_welcome(x, l, id, &job, err);
	r = lists_end_txn(x, r, err);
	subscriber_rec_free(&who);
	explicit_bzero(key, sizeof(key));
	return r;
}

int lists_set_state(struct lists_ctx *x, const struct list_rec *l, int64_t id, enum sub_state state,
		    const char *source, struct buf *err)
{
	struct subscription_rec sub;
	int rb = store_begin(x->st);
	if (rb != STORE_OK)
		return person_fail_store(x, rb, err);
	int r = store_subscription_get(x->st, l->id, id, &sub);
	if (r == STORE_OK && (sub.state == SUB_STATE_PENDING || state == SUB_STATE_PENDING)) {
		/* P1: only the person's confirmation makes a pending subscription active,
		 * so a pending one may not be moved at all here (pending -> held -> active
		 * would bypass it), and nothing goes back to pending. */
		buf_puts(err, sub.state == SUB_STATE_PENDING
				  ? "a pending subscription becomes active only by its confirmation"
				  : "a subscription cannot be set back to pending");
		r = STORE_ERR;
	} else if (r == STORE_OK && (sub.state == SUB_STATE_HELD || state == SUB_STATE_HELD)) {
		/* held is the owners' queue of confirmed requests, and nothing else:
		 * only lists_confirm puts one there, and only lists_approve (with its
		 * welcome) or lists_reject takes it out. */
		buf_puts(err, sub.state == SUB_STATE_HELD
				  ? "a held request is approved or rejected by the owners"
				  : "only a confirmed request waiting for the owners is held");
		r = STORE_ERR;
	}
	if (r == STORE_OK) {
		sub.state = state;
		sub.updated = clock_now();
		r = store_subscription_put(x->st, &sub);
	}
	char action[32];
	bsnprintf(action, sizeof(action), "state-%s", sub_state_name(state));
	if (r == STORE_OK)
		r = ledger_event(x, l->id, id, action, source, NULL);
	r = lists_end_txn(x, r, err);
	return r;
}

/* Ends the subscription of id to l with a ledger event `action`, an opt-out
 * for the list when suppress is set, and, on the person's last list, their
 * erasure (P3) with an all-lists suppression for erase_reason (NULL: none).
 * Within the caller's transaction when there is one. */
static int leave(struct lists_ctx *x, const struct list_rec *l, int64_t id, const char *action,
		 const char *source, int suppress, const char *erase_reason, int *erased,
		 struct buf *err)
{
	struct subscriber_rec who = {0};
	int64_t left = 0;
	*erased = 0;
	int rb = store_begin(x->st);
	if (rb != STORE_OK)
		return person_fail_store(x, rb, err);
	int r = store_subscriber_get(x->st, id, &who);
	if (r == STORE_OK)
		r = store_subscription_delete(x->st, l->id, id);
	if (r == STORE_OK)
		r = ledger_event(x, l->id, id, action, source, NULL);
	if (r == STORE_OK && suppress)
		r = store_suppression_add(x->st, who.addr_hash, l->id, "unsubscribed", clock_now());
	if (r == STORE_OK)
		r = store_subscription_count(x->st, id, &left);
	if (r == STORE_OK && left == 0) {
		r = lists_erase(x, id, source, erase_reason, err);
		if (r == STORE_OK)
			*erased = 1;
	}
	r = lists_end_txn(x, r, err);
	if (r != STORE_OK)
		*erased = 0;
	subscriber_rec_free(&who);
	if (r == STORE_OK)
		log_info("event=%s list=%s subscriber=%lld erased=%d source=%s", action, l->name,
			 (long long)id, *erased, source);
	return r;
}

int lists_unsubscribe(struct lists_ctx *x, const struct list_rec *l, int64_t id, const char *source,
		      int *erased, struct buf *err)
{
	/* A list deleted by its owner is no opt-out by the person. */
	int optout = strcmp(source, "list-delete") != 0;
	return leave(x, l, id, "unsubscribe", source, optout, optout ? "left-last-list" : NULL,
		     erased, err);
}

/* The subscription of id to l, which must be held: STORE_EXISTS (and *state)
 * when it is in another state. */
static int get_held(struct lists_ctx *x, const struct list_rec *l, int64_t id,
		    struct subscription_rec *sub, enum sub_state *state)
{
	int r = store_subscription_get(x->st, l->id, id, sub);
	if (r == STORE_OK) {
		*state = sub->state;
		if (sub->state != SUB_STATE_HELD)
			r = STORE_EXISTS;
	}
	return r;
}

int lists_approve(struct lists_ctx *x, const struct list_rec *l, int64_t id, const char *source,
		  enum sub_state *state, int64_t *job, struct buf *err)
{
	struct subscription_rec sub;
	*job = 0;
	int rb = store_begin(x->st);
	if (rb != STORE_OK)
		return person_fail_store(x, rb, err);
	int r = get_held(x, l, id, &sub, state);
	if (r == STORE_OK) {
		sub.state = SUB_STATE_ACTIVE;
		sub.updated = clock_now();
		r = store_subscription_put(x->st, &sub);
	}
	if (r == STORE_OK)
		r = ledger_event(x, l->id, id, "approve", source, NULL);
	if (r == STORE_OK)
		r = store_audit(x->st, clock_now(), x->actor, "sub-approve", l->id, id, "");
	if (r == STORE_OK) /* the welcome the confirmation held back */
		r = jobs_create_welcome(x, l, id, job, err);
	r = lists_end_txn(x, r, err);
	if (r == STORE_OK)
		log_info("event=approve list=%s subscriber=%lld source=%s", l->name, (long long)id,
			 source);
	else
		*job = 0;
	return r;
}

int lists_reject(struct lists_ctx *x, const struct list_rec *l, int64_t id, const char *source,
		 const char *reason, int notify, enum sub_state *state, int *erased, int64_t *job,
		 struct buf *err)
{
	struct subscription_rec sub;
	struct subscriber_rec who = {0};
	struct person p = {0};
	*erased = 0;
	*job = 0;
	int rb = store_begin(x->st);
	if (rb != STORE_OK)
		return person_fail_store(x, rb, err);
	int r = get_held(x, l, id, &sub, state);
	if (r == STORE_OK && notify) {
		/* Read before the erasure that may follow: the notice is sealed
		 * into its job with the address. */
		r = store_subscriber_get(x->st, id, &who);
		if (r == STORE_OK && lists_person_load(x, &who, &p) < 0) {
			buf_printf(err, "subscriber %lld: personal data does not open",
				   (long long)id);
			r = STORE_ERR;
		}
		if (r == STORE_OK)
			r = jobs_create_rejected(x, l, p.address, p.name, reason, job, err);
	}
	if (r == STORE_OK)
		r = store_audit(x->st, clock_now(), x->actor, "sub-reject", l->id, id,
				notify ? "notified" : "quiet");
	/* No opt-out: the person asked to join and may ask again; and no
	 * suppression on erasure, for the same reason. */
	if (r == STORE_OK)
		r = leave(x, l, id, "reject", source, 0, NULL, erased, err);
	r = lists_end_txn(x, r, err);
	if (r != STORE_OK) {
		*erased = 0;
		*job = 0;
	}
	person_free(&p);
	subscriber_rec_free(&who);
	return r;
}

int lists_person_update(struct lists_ctx *x, int64_t id, const struct person_change *ch,
			const char *source, int *changed, struct buf *err)
{
	struct subscriber_rec who = {0};
	uint8_t key[PII_KEY_LEN];
	struct person p = {0};
	struct buf sealed, plain;
	int what = 0;
	if (changed != NULL)
		*changed = 0;
	if (!text_ok(ch->name, LK_MAX_NAME, "the name", err))
		return STORE_ERR;
	int rb = store_begin(x->st);
	if (rb != STORE_OK)
		return person_fail_store(x, rb, err);
	buf_init(&sealed, 4 * LK_MAX_MAILBOX + PII_OVERHEAD);
	buf_init(&plain, LK_MAX_LEDGER_DETAILS);
	int r = person_load_with_key(x, id, &who, key, err);
	if (r == STORE_OK && lists_person_load(x, &who, &p) < 0) {
		buf_printf(err, "subscriber %lld: personal data does not open", (long long)id);
		r = STORE_ERR;
	}
	if (r == STORE_OK && ch->name != NULL && strcmp(ch->name, p.name) != 0) {
		r = seal_person(key, p.address, ch->name, p.country, &plain, &sealed) < 0
			? STORE_ERR
			: STORE_OK;
		if (r == STORE_OK) {
			xfree_wipe(who.data, who.data_len); /* the old sealed data */
			who.data = (uint8_t *)buf_steal(&sealed, &who.data_len);
			what |= PERSON_CHANGED_NAME;
		}
	}
	if (r == STORE_OK && ch->html >= 0 && !ch->html != !who.html) {
		who.html = ch->html != 0;
		what |= PERSON_CHANGED_FORMAT;
	}
	if (r == STORE_OK && ch->tracking >= 0 && !ch->tracking != !who.tracking) {
		who.tracking = ch->tracking != 0;
		what |= PERSON_CHANGED_TRACKING;
		struct buf d;
		buf_init(&d, LK_MAX_LEDGER_DETAILS + PII_OVERHEAD);
		r = seal_details(key, NULL, ch->wording, NULL, &plain, &d) < 0 ? STORE_ERR
									       : STORE_OK;
		if (r == STORE_OK)
			r = ledger_event(x, 0, id,
					 who.tracking ? "tracking-consent" : "tracking-withdrawn",
					 source, &d);
		buf_free(&d);
	}
	if (r == STORE_OK && what != 0)
		r = store_subscriber_update(x->st, &who);
	if (r == STORE_OK && (what & (PERSON_CHANGED_NAME | PERSON_CHANGED_FORMAT))) {
		char detail[32];
		bsnprintf(detail, sizeof(detail), "%s%s", what & PERSON_CHANGED_NAME ? "name " : "",
			  what & PERSON_CHANGED_FORMAT ? "format" : "");
		r = store_audit(x->st, clock_now(), x->actor, "person-update", 0, id, detail);
	}
	r = lists_end_txn(x, r, err);
	if (r == STORE_OK && changed != NULL)
		*changed = what;
	buf_free(&sealed);
	buf_free(&plain);
	person_free(&p);
	subscriber_rec_free(&who);
	explicit_bzero(key, sizeof(key));
	return r;
}

int lists_set_options(struct lists_ctx *x, const struct list_rec *l, int64_t id, int digest,
		      int nomail, const char *source, struct buf *err)
{
	struct subscription_rec sub;
	if (digest && !l->digest) {
		buf_printf(err, "the list %s offers no digest", l->name);
		return STORE_ERR;
	}
	int rb = store_begin(x->st);
	if (rb != STORE_OK)
		return person_fail_store(x, rb, err);
	int r = store_subscription_get(x->st, l->id, id, &sub);
	if (r == STORE_OK && (!sub.digest != !digest || !sub.nomail != !nomail)) {
		sub.digest = digest != 0;
		sub.nomail = nomail != 0;
		sub.updated = clock_now();
		r = store_subscription_put(x->st, &sub);
		char detail[48];
		bsnprintf(detail, sizeof(detail), "digest=%d nomail=%d source=%s", sub.digest,
			  sub.nomail, source);
		if (r == STORE_OK)
			r = store_audit(x->st, clock_now(), x->actor, "options", l->id, id, detail);
	}
	return lists_end_txn(x, r, err);
}

struct drop_ctx {
	struct lists_ctx *x;
	int r;
};

static int drop_one(void *ctx, const struct subscription_rec *s)
{
	struct drop_ctx *d = ctx;
	d->r = store_subscription_delete(d->x->st, s->list_id, s->subscriber_id);
	if (d->r == STORE_OK)
		d->r =
		    ledger_event(d->x, s->list_id, s->subscriber_id, "unsubscribe", "erase", NULL);
	return d->r != STORE_OK;
}

int lists_erase(struct lists_ctx *x, int64_t id, const char *source, const char *reason,
		struct buf *err)
{
	struct subscriber_rec who = {0};
	int rb = store_begin(x->st);
	if (rb != STORE_OK)
		return person_fail_store(x, rb, err);
	int r = store_subscriber_get(x->st, id, &who);
	struct drop_ctx d = {x, STORE_OK};
	if (r == STORE_OK) {
		r = store_subscriptions_of(x->st, id, drop_one, &d);
		if (r == STORE_OK)
			r = d.r;
	}
	if (r == STORE_OK && reason != NULL)
		r = store_suppression_add(x->st, who.addr_hash, 0, reason, clock_now());
	int64_t held = 0; /* their posts held for the moderators (lists/held.h) */
	if (r == STORE_OK)
		r = store_held_delete_sender(x->st, who.addr_hash, &held);
	if (r == STORE_OK)
		r = ledger_event(x, 0, id, "erase", source, NULL);
	if (r == STORE_OK)
		r = store_subscriber_delete(x->st, id); /* the wrapped data key goes with the row */
	r = lists_end_txn(x, r, err);
	subscriber_rec_free(&who);
	if (r == STORE_OK)
		log_info("event=erase subscriber=%lld source=%s", (long long)id, source);
	return r;
}

struct verify_ctx {
	struct lists_ctx *x;
	int64_t n;
	int64_t last_id;
	uint8_t last_hash[HASH_LEN];
	struct buf *err;
	int bad;
};

static int verify_one(void *ctx, const struct ledger_rec *r)
{
	struct verify_ctx *v = ctx;
	uint8_t h[HASH_LEN];
	if (r->id != v->last_id + 1) {
		buf_printf(v->err,
			   "event %lld: expected event %lld next (events removed or reordered)",
			   (long long)r->id, (long long)(v->last_id + 1));
		v->bad = 1;
		return 1;
	}
	if (!secret_eq(r->prev_hash, v->last_hash, HASH_LEN)) {
		buf_printf(v->err,
			   "event %lld: does not chain to event %lld (a row was removed, "
			   "reordered or rewritten)",
			   (long long)r->id, (long long)v->last_id);
		v->bad = 1;
		return 1;
	}
	ledger_rec_hash(r, v->x->keys->mac, h);
	if (!secret_eq(h, r->hash, HASH_LEN)) {
		buf_printf(v->err, "event %lld: contents changed (hash does not match)",
			   (long long)r->id);
		v->bad = 1;
		return 1;
	}
	v->last_id = r->id;
	memcpy(v->last_hash, r->hash, HASH_LEN);
	v->n++;
	return 0;
}

int64_t lists_ledger_verify(struct lists_ctx *x, struct buf *err)
{
	struct verify_ctx v = {x, 0, 0, {0}, err, 0};
	int64_t head_id;
	uint8_t head[HASH_LEN];
	int rl = store_ledger_each(x->st, 0, verify_one, &v);
	if (rl != STORE_OK) {
		person_fail_store(x, rl, err);
		return -1;
	}
	if (v.bad)
		return -1;
	rl = store_ledger_head(x->st, &head_id, head);
	if (rl != STORE_OK) {
		person_fail_store(x, rl, err);
		return -1;
	}
	if (head_id != v.last_id || !secret_eq(head, v.last_hash, HASH_LEN)) {
		buf_printf(err,
			   "the ledger ends at event %lld but its recorded head is event %lld "
			   "(events removed from the end)",
			   (long long)v.last_id, (long long)head_id);
		return -1;
	}
	return v.n;
}
