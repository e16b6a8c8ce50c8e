/*
 * route.c - intake routing and handling (see route.h): which address a
 * recipient is, and what a message to it does.
 *
 * TRUST: the recipient and the message are untrusted. A recipient is acted
 * on only after its token is authenticated for the list its address names;
 * list names are checked with lists_name_valid before the store is asked.
 */
#include "intake/route.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "crypto/token.h"
#include "intake/bounce.h"
#include "lists/bounces.h"
#include "lists/lists.h"
#include "lists/person.h"

enum target_kind {
	T_BOUNCES,
	T_UNSUBSCRIBE,
};

struct intake_target {
	enum target_kind kind;
	int64_t list_id;
	int64_t subscriber_id;
	char list[LK_MAX_LIST_NAME + 1];
	char *addr; /* the envelope recipient, for bounce_parse; wiped */
};

struct intake {
	const struct conf *conf;
	const struct keys *keys;
	struct store *st;
	struct lists_ctx x;
};

struct intake *intake_new(const struct conf *conf, const struct keys *keys, struct store *st)
{
	struct intake *in = xcalloc(1, sizeof(*in));
	in->conf = conf;
	in->keys = keys;
	in->st = st;
	in->x.st = st;
	in->x.keys = keys;
	in->x.policy_version = conf_get(conf, "general", "consent_version");
	in->x.actor = "intake";
	return in;
}

void intake_free(struct intake *in)
{
	free(in);
}

void intake_set_now(struct intake *in, int64_t now)
{
	in->x.now = now;
}

void intake_target_free(struct intake_target *t)
{
	if (t == NULL)
		return;
	if (t->addr != NULL)
		xfree_wipe(t->addr, strlen(t->addr));
	free(t);
}

static enum intake_verdict say(struct intake_result *res, enum intake_verdict v, const char *line)
{
	res->verdict = v;
	bsnprintf(res->line, sizeof(res->line), "%s", line);
	return v;
}

static enum intake_verdict unknown(struct intake_result *res)
{
	return say(res, INTAKE_UNKNOWN, "550 5.1.1 No such recipient");
}

static enum intake_verdict tempfail(struct intake_result *res)
{
	return say(res, INTAKE_TEMPFAIL, "451 4.3.0 Temporary local problem, try again later");
}

/* --- recipients ------------------------------------------------------------- */

/* Looks up a list by name and checks that it lives at domain.
 * STORE_OK (l filled), STORE_NOTFOUND, or a store error. */
static int list_at(struct intake *in, const char *name, size_t name_len, const char *domain,
		   struct list_rec *l)
{
	char z[LK_MAX_LIST_NAME + 1];
	if (name_len == 0 || name_len > LK_MAX_LIST_NAME)
		return STORE_NOTFOUND;
	memcpy(z, name, name_len);
	z[name_len] = '\0';
	struct buf err;
	buf_init(&err, 256);
	int valid = lists_name_valid(z, &err);
	buf_free(&err);
	if (!valid)
		return STORE_NOTFOUND;
	memset(l, 0, sizeof(*l));
	int r = store_list_get(in->st, z, l);
	if (r == STORE_OK && (l->domain == NULL || strcasecmp(l->domain, domain) != 0)) {
		list_rec_free(l);
		memset(l, 0, sizeof(*l));
		r = STORE_NOTFOUND;
	}
	return r;
}

/* Ends with suffix (case already folded)? Then *n is the length before it. */
static int ends_with(const char *p, size_t len, const char *suffix, size_t *n)
{
	size_t sl = strlen(suffix);
	if (len <= sl || memcmp(p + len - sl, suffix, sl) != 0)
		return 0;
	*n = len - sl;
	return 1;
}

enum intake_verdict intake_rcpt(struct intake *in, const char *addr, size_t len,
				struct intake_target **out, struct intake_result *res)
{
	*out = NULL;
	const char *at = memrchr(addr, '@', len);
	/* Our own VERP and mailto local parts (LIST-bounces+ and 56 characters
	 * of token) pass RFC 5321's 64 octets (section 4.5.3.1.1); MTAs take
	 * them, and so do we, up to the whole address bound. */
	if (at == NULL || at == addr || len > LK_MAX_ADDRESS)
		return unknown(res);
	char domain[LK_MAX_ADDRESS + 1];
	size_t dl = len - (size_t)(at + 1 - addr);
	memcpy(domain, at + 1, dl);
	domain[dl] = '\0';
	char local[LK_MAX_ADDRESS + 1];
	size_t ll = (size_t)(at - addr);
	for (size_t i = 0; i < ll; i++)
		local[i] = (char)tolower((unsigned char)addr[i]);
	local[ll] = '\0';

	if (strcmp(local, "listkeeper") == 0)
		return say(res, INTAKE_TEMPFAIL, "451 4.3.0 Commands by mail are not handled yet");

	/* LIST-bounces+TOKEN, LIST-unsubscribe+TOKEN: the token decides. */
	const char *plus = memchr(local, '+', ll);
	if (plus != NULL) {
		size_t base = (size_t)(plus - local), n;
		enum target_kind kind;
		enum token_purpose purpose;
		if (ends_with(local, base, "-bounces", &n)) {
			kind = T_BOUNCES;
			purpose = TOKEN_BOUNCE;
		} else if (ends_with(local, base, "-unsubscribe", &n)) {
			kind = T_UNSUBSCRIBE;
			purpose = TOKEN_UNSUBSCRIBE;
		} else {
			return unknown(res);
		}
		struct list_rec l;
		int r = list_at(in, local, n, domain, &l);
		if (r == STORE_NOTFOUND)
			return unknown(res);
		if (r != STORE_OK)
			return tempfail(res);
		/* The token keeps its case: base64url (take it from addr, not local). */
		const char *tok = addr + (plus - local) + 1;
		size_t tok_len = (size_t)(at - tok);
		struct token t;
		enum token_status ts =
		    token_decode(in->keys, tok, tok_len, purpose, lists_now(&in->x), &t);
		if (ts != TOKEN_OK || t.list_id != (uint64_t)l.id) {
			log_info("intake: rcpt list=%s kind=%s refused: %s", l.name,
				 kind == T_BOUNCES ? "bounces" : "unsubscribe",
				 ts != TOKEN_OK ? token_status_str(ts) : "token for another list");
			list_rec_free(&l);
			return unknown(res);
		}
		struct intake_target *tg = xcalloc(1, sizeof(*tg));
		tg->kind = kind;
		tg->list_id = l.id;
		tg->subscriber_id = (int64_t)t.subscriber_id;
		bsnprintf(tg->list, sizeof(tg->list), "%s", l.name);
		tg->addr = xmemdup(addr, len);
		*out = tg;
		list_rec_free(&l);
		return say(res, INTAKE_OK, "250 2.1.5 Ok");
	}

	/* LIST@, LIST-request@, LIST-owner@: known, handled in a later release. */
	struct list_rec l;
	int r = list_at(in, local, ll, domain, &l);
	size_t n;
	if (r == STORE_NOTFOUND && ends_with(local, ll, "-request", &n))
		r = list_at(in, local, n, domain, &l);
	if (r == STORE_NOTFOUND && ends_with(local, ll, "-owner", &n))
		r = list_at(in, local, n, domain, &l);
	if (r == STORE_OK) {
		list_rec_free(&l);
		return say(res, INTAKE_TEMPFAIL, "451 4.3.0 Not yet handled here, try again later");
	}
	if (r == STORE_NOTFOUND)
		return unknown(res);
	return tempfail(res);
}

/* --- bounces and unsubscribes ------------------------------------------------ */

/* Ends one subscription (complaint or mailto), in its own transaction. */
static int unsubscribe(struct intake *in, const struct intake_target *tg, const char *source)
{
	struct list_rec l;
	memset(&l, 0, sizeof(l));
	struct buf err;
	buf_init(&err, 1024);
	int erased = 0;
	int r = store_begin(in->st);
	if (r == STORE_OK)
		r = store_list_get_id(in->st, tg->list_id, &l);
	if (r == STORE_OK)
		r = lists_unsubscribe(&in->x, &l, tg->subscriber_id, source, &erased, &err);
	if (r == STORE_NOTFOUND) { /* gone already: nothing to do */
		log_info("intake: %s list=%s subscriber=%lld outcome=not-subscribed", source,
			 tg->list, (long long)tg->subscriber_id);
		r = STORE_OK;
	}
	if (r == STORE_OK)
		r = store_commit(in->st);
	if (r != STORE_OK) {
		log_warnx("intake: %s list=%s subscriber=%lld failed: %s", source, tg->list,
			  (long long)tg->subscriber_id,
			  err.len ? buf_cstr(&err) : store_errmsg(in->st));
		store_rollback(in->st);
	} else if (erased && store_scrub(in->st) != STORE_OK) {
		log_warnx("intake: store_scrub after an erasure failed: %s", store_errmsg(in->st));
	}
	list_rec_free(&l);
	buf_free(&err);
	return r;
}

/* A hard bounce: the score decays and rises; at the threshold an active
 * subscription is disabled or removed (lists/bounces.h). */
static int hard_bounce(struct intake *in, const struct intake_target *tg)
{
	struct lists_bounce_policy p = {
	    conf_get_int(in->conf, "bounce", "threshold"),
	    conf_get_int(in->conf, "bounce", "decay_days") * 86400,
	};
	struct list_rec l;
	memset(&l, 0, sizeof(l));
	struct buf err;
	buf_init(&err, 1024);
	enum lists_bounce_outcome outcome = LB_NOT_SUBSCRIBED;
	int64_t score = 0;
	int erased = 0;
	int r = store_begin(in->st);
	if (r == STORE_OK)
		r = store_list_get_id(in->st, tg->list_id, &l);
	if (r == STORE_OK)
		r = lists_hard_bounce(&in->x, &l, tg->subscriber_id, &p, &outcome, &score, &erased,
				      &err);
	if (r == STORE_NOTFOUND) /* the list is gone */
		r = STORE_OK;
	if (r == STORE_OK)
		r = store_commit(in->st);
	if (r != STORE_OK) {
		log_warnx("intake: bounce list=%s subscriber=%lld failed: %s", tg->list,
			  (long long)tg->subscriber_id,
			  err.len ? buf_cstr(&err) : store_errmsg(in->st));
		store_rollback(in->st);
	} else {
		log_info("intake: bounce list=%s subscriber=%lld kind=hard outcome=%s score=%lld",
			 tg->list, (long long)tg->subscriber_id, lists_bounce_outcome_name(outcome),
			 (long long)score);
		if (erased && store_scrub(in->st) != STORE_OK)
			log_warnx("intake: store_scrub after an erasure failed: %s",
				  store_errmsg(in->st));
	}
	list_rec_free(&l);
	buf_free(&err);
	return r;
}

/* A bounce nobody could read: counted for the list and the day (an
 * aggregate, no person), and dropped; never answered. */
static int unparsable(struct intake *in, const struct intake_target *tg)
{
	int64_t day = lists_now(&in->x) / 86400;
	int r = store_begin(in->st);
	if (r == STORE_OK)
		r = store_count_add(in->st, tg->list_id, day, "bounce-unparsable", 1);
	if (r == STORE_OK)
		r = store_commit(in->st);
	if (r != STORE_OK) {
		log_warnx("intake: counting an unparsable bounce failed: %s", store_errmsg(in->st));
		store_rollback(in->st);
	} else {
		log_info("intake: bounce list=%s kind=unknown outcome=dropped", tg->list);
	}
	return r;
}

static int bounce(struct intake *in, const struct intake_target *tg, const char *msg, size_t len)
{
	int r = STORE_OK;
	struct bounce b;
	bounce_parse(msg, len, tg->addr, strlen(tg->addr), &b);
	switch (b.kind) {
	case BOUNCE_HARD:
		r = hard_bounce(in, tg);
		break;
	case BOUNCE_COMPLAINT:
		r = unsubscribe(in, tg, "complaint");
		break;
	case BOUNCE_SOFT:
		log_info("intake: bounce list=%s subscriber=%lld kind=soft outcome=none", tg->list,
			 (long long)tg->subscriber_id);
		break;
	case BOUNCE_UNKNOWN:
		r = unparsable(in, tg);
		break;
	}
	bounce_free(&b);
	return r;
}

/* --- messages ---------------------------------------------------------------- */

enum intake_verdict intake_deliver(struct intake *in, struct intake_target *t, const char *msg,
				   size_t len, struct intake_result *res)
{
	int r = STORE_OK;
	switch (t->kind) {
	case T_UNSUBSCRIBE:
		r = unsubscribe(in, t, "email");
		break;
	case T_BOUNCES:
		r = bounce(in, t, msg, len);
		break;
	}
	if (r != STORE_OK)
		return tempfail(res);
	return say(res, INTAKE_OK, "250 2.0.0 Ok");
}
