/*
 * person.h - subscribers, subscriptions, consent, erasure and export.
 *
 * The lifecycle (DESIGN.md section 2):
 *
 *   (none) --subscribe--> pending --confirm--> active <--> disabled
 *   policy "owner": pending --confirm--> held --approve--> active
 *                                         held --reject--> gone (no opt-out)
 *      any state --unsubscribe--> gone (+ suppression for that list)
 *   leaving the last list, or an erasure request --> the subscriber's data
 *   key and rows are deleted; an all-lists suppression keeps the keyed hash
 *   so that nobody can re-add the address without the person's new consent.
 *
 * Every change writes a consent ledger event whose details (IP at opt-in,
 * consent wording, note) are sealed with the subscriber's data key.
 *
 * These calls run inside the caller's transaction when there is one (they
 * nest), and in their own otherwise. After an erasure, call store_scrub()
 * once the transaction has committed.
 */
#ifndef LK_LISTS_PERSON_H
#define LK_LISTS_PERSON_H

#include <stdint.h>

#include "core/buf.h"
#include "lists/lists.h"

/* The personal data of a subscriber, in the clear. Owned strings. */
struct person {
	char *address; /* normalised delivery form */
	char *name;    /* may be "" */
	char *country; /* may be "" */
};
void person_free(struct person *p);

/* A normalised address: `addr` to deliver to, `key` to look up by. */
struct person_addr {
	const char *addr;
	const char *key;
};

struct subscribe_req {
	const char *address; /* as written: an addr-spec or a name-addr ("Ann
				<ann@example.org>"); lists_subscribe_prepare
				normalises it (core/address.h mailbox_parse), the one
				place a request's address is parsed */
	const char *name;    /* NULL: the display name of a name-addr, or none */
	const char *country; /* NULL: none */
	int html;	     /* preferred format */
	int tracking;	     /* agreed to open tracking */
	const char *source;  /* cli, import, web, email, api */
	int confirmed;	     /* an admin asserts prior consent: active at once */
	const char *note;    /* where prior consent came from (with confirmed) */
	const char *ip;	     /* the requester's IP, sealed in the ledger; NULL: none */
	const char *wording; /* the consent wording shown; NULL: none */
	int self;	     /* the person asked themself (web form, mail command) */
};

enum subscribe_result {
	SUBSCRIBE_PENDING,	 /* created or still pending: a confirmation is due */
	SUBSCRIBE_ACTIVE,	 /* active now (confirmed by an admin) */
	SUBSCRIBE_ALREADY,	 /* was already active/held/disabled: nothing changed */
	SUBSCRIBE_STILL_PENDING, /* was pending already: nothing changed; resend the request */
	SUBSCRIBE_SUPPRESSED,	 /* opted out or erased: refused without the person's new consent */
	SUBSCRIBE_CLOSED,	 /* the list takes no subscriptions */
	SUBSCRIBE_ERROR = -1,	 /* store error (or stored data that does not open); in err */
	SUBSCRIBE_INVALID = -2,	 /* bad data in rq (address, name, country); reason in err */
	SUBSCRIBE_BUSY = -3,	 /* the store stayed locked: nothing changed, try again */
};

enum subscribe_result lists_subscribe(struct lists_ctx *x, const struct list_rec *l,
				      const struct subscribe_req *rq, int64_t *subscriber_id,
				      struct buf *err);

/* lists_subscribe in two steps, for bulk work (import): the first needs no
 * store and may run on another thread; the second does the store's part.
 *
 * lists_subscribe_prepare checks rq's address, name and country, hashes the
 * address and seals the person's data and the ledger details with a new
 * data key (wrapped at once; the clear key is wiped). Returns 0, or -1 with
 * the reason in err. It reads only k: it is safe on any thread.
 *
 * lists_subscribe_prepared is lists_subscribe for a prepared rq (the same
 * rq): a new subscriber gets the prepared key and blobs; an existing one
 * keeps their key, and the details are sealed again with it.
 *
 * A subscribe_prep is reusable (prepare again) and owns its buffers;
 * subscribe_prep_free wipes them. */
struct subscribe_prep;
struct subscribe_prep *subscribe_prep_new(void);
void subscribe_prep_free(struct subscribe_prep *p);
int lists_subscribe_prepare(const struct keys *k, const struct subscribe_req *rq,
			    struct subscribe_prep *p, struct buf *err);
enum subscribe_result lists_subscribe_prepared(struct lists_ctx *x, const struct list_rec *l,
					       const struct subscribe_req *rq,
					       struct subscribe_prep *p, int64_t *subscriber_id,
					       struct buf *err);

/* Looks a person up by address. STORE_OK and *id, or STORE_NOTFOUND. */
int lists_find(struct lists_ctx *x, const struct person_addr *a, int64_t *id);

/* pending -> active (or held when the list's policy is "owner"); the
 * person's own confirmation also lifts their suppressions for this list. */
int lists_confirm(struct lists_ctx *x, const struct list_rec *l, int64_t id, const char *source,
		  const char *ip, struct buf *err);

/* Ends a subscription: ledger event, suppression for the list; if it was the
 * person's last list their data is erased and *erased is set to 1. Returns
 * STORE_OK, STORE_NOTFOUND (no such subscription) or STORE_ERR. */
int lists_unsubscribe(struct lists_ctx *x, const struct list_rec *l, int64_t id, const char *source,
		      int *erased, struct buf *err);

/* The owners' decision on a subscription held for their approval (a list
 * whose subscription_policy is "owner": the person has confirmed already).
 *
 * lists_approve: held -> active, a ledger event "approve", an audit row
 * "sub-approve", and the welcome the confirmation held back
 * (jobs_create_welcome, *job), in one transaction.
 *
 * lists_reject: the request is deleted, with a ledger event "reject" and an
 * audit row "sub-reject"; no opt-out is recorded (the person did not opt
 * out, and may ask again). A person on no other list is erased (P3; no
 * suppression either) and *erased set. With notify, the "not accepted" mail
 * (jobs_create_rejected, reason may be NULL) is queued first (*job).
 *
 * Both return STORE_OK; STORE_NOTFOUND when id has no subscription to l;
 * STORE_EXISTS when it is not held (*state says what it is: a pending one
 * waits for the person's confirmation, P1); STORE_ERR with the reason in
 * err. */
int lists_approve(struct lists_ctx *x, const struct list_rec *l, int64_t id, const char *source,
		  enum sub_state *state, int64_t *job, struct buf *err);
int lists_reject(struct lists_ctx *x, const struct list_rec *l, int64_t id, const char *source,
		 const char *reason, int notify, enum sub_state *state, int *erased, int64_t *job,
		 struct buf *err);

/* Sets the state of a confirmed subscription (active <-> disabled); ledger
 * event. A pending subscription is refused (STORE_ERR): only the person's
 * confirmation moves it (P1); so are moves into or out of held, the owners'
 * queue (lists_approve, lists_reject). STORE_NOTFOUND if there is no
 * subscription. */
int lists_set_state(struct lists_ctx *x, const struct list_rec *l, int64_t id, enum sub_state state,
		    const char *source, struct buf *err);

/* What a person changes about themself (preferences page, mail commands).
 * NULL or -1: unchanged. */
struct person_change {
	const char *name;    /* "" clears it */
	int html;	     /* preferred format: 0 text, 1 html */
	int tracking;	     /* consent to open tracking */
	const char *wording; /* the tracking wording shown, sealed in the ledger */
};
/* What lists_person_update changed (bits). */
enum { PERSON_CHANGED_NAME = 1, PERSON_CHANGED_FORMAT = 2, PERSON_CHANGED_TRACKING = 4 };

/* Applies ch to subscriber id: the name is sealed again with the person's
 * data key; a change of tracking consent is a ledger event
 * ("tracking-consent" or "tracking-withdrawn", no list, the wording sealed);
 * a change of name or format an audit row (which fields, never the values).
 * *changed (may be NULL) gets the PERSON_CHANGED_* bits. STORE_NOTFOUND if
 * there is no such subscriber; STORE_ERR with the reason in err for a bad
 * name (length, control characters, UTF-8) or a store error. */
int lists_person_update(struct lists_ctx *x, int64_t id, const struct person_change *ch,
			const char *source, int *changed, struct buf *err);

/* Sets the delivery options of a subscription: digest (only where the list
 * offers digests) and no-mail (stay subscribed, receive nothing for now).
 * An audit row when something changed. STORE_NOTFOUND if there is no
 * subscription; STORE_ERR with the reason in err. */
int lists_set_options(struct lists_ctx *x, const struct list_rec *l, int64_t id, int digest,
		      int nomail, const char *source, struct buf *err);

/* Destroys everything held about a person: subscriptions, the sealed data,
 * the data key (crypto-shredding: their ledger details become unreadable).
 * An all-lists suppression with `reason` keeps only the keyed hash. */
int lists_erase(struct lists_ctx *x, int64_t id, const char *source, const char *reason,
		struct buf *err);

/* Opens a subscriber's sealed data. */
int lists_person_load(struct lists_ctx *x, const struct subscriber_rec *r, struct person *out);

/* Everything held about a person as a JSON document (P4), appended to out.
 * Writes an audit row. */
int lists_person_export(struct lists_ctx *x, int64_t id, struct buf *out, struct buf *err);

/* Recomputes the ledger chain. Returns the number of events when it is
 * intact, or -1 with the first problem (row id and what is wrong) in err. */
int64_t lists_ledger_verify(struct lists_ctx *x, struct buf *err);

#endif
