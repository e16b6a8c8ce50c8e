/*
 * mailcmd.c - email commands carried out (see mailcmd.h).
 *
 * TRUST: the commands and the token are untrusted (command.c parsed them
 * within its bounds; token_decode authenticates). The reply text is built
 * only from our own words, checked list names, list titles and numbers.
 */
#include "intake/mailcmd.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "crypto/hash.h"
#include "crypto/token.h"
#include "intake/answer.h"
#include "intake/command.h"
#include "lists/jobs.h"
#include "lists/person.h"
#include "mail/compose.h"
#include "mail/listaddr.h"

/* The consent wording of a subscription asked for by mail. */
static const char CONSENT_EMAIL[] =
    "Asked by mail (SUBSCRIBE) to receive this list's mail at this address; confirmed from "
    "the mailbox. I can leave at any time; when I leave my last list, my data is deleted.";

static const char HELP[] =
    "Commands, one per line (any case); the list may be left out when you\n"
    "write to LIST-request@:\n\n"
    "  SUBSCRIBE list [your name]   join (we ask you to confirm first)\n"
    "  SIGNOFF list | SIGNOFF *     leave (we ask you to confirm first)\n"
    "  SET list DIGEST | NODIGEST | MAIL | NOMAIL | HTML | TEXT\n"
    "                               change how you get the list (confirmed first)\n"
    "  QUERY list | QUERY *         your subscriptions and settings\n"
    "  LISTS                        the lists here\n"
    "  INFO list                    about a list\n"
    "  CONFIRM token                confirm a request\n"
    "  HELP                         this text\n\n"
    "Mailman style works too: subscribe, unsubscribe, help, confirm.\n"
    "Everything we answer goes to the address you write from, and only\n"
    "ever tells about that address.\n";

static const char *opt_name(enum command_option o)
{
	switch (o) {
	case CMD_OPT_DIGEST:
		return "DIGEST";
	case CMD_OPT_NODIGEST:
		return "NODIGEST";
	case CMD_OPT_MAIL:
		return "MAIL";
	case CMD_OPT_NOMAIL:
		return "NOMAIL";
	case CMD_OPT_HTML:
		return "HTML";
	case CMD_OPT_TEXT:
		return "TEXT";
	case CMD_OPT_NONE:
		break;
	}
	return "";
}

/* "VERB list: " */
static void head(struct buf *out, const char *verb, const char *list)
{
	buf_printf(out, "%s%s%s: ", verb, list[0] ? " " : "", list);
}

static int store_err(struct mailcmd_env *env, struct buf *err)
{
	if (err->len == 0)
		buf_puts(err, store_errmsg(env->x->st));
	return -1;
}

/* The list by name: 1 found, 0 not (a line written), -1 store error. */
static int get_list(struct mailcmd_env *env, const char *name, struct list_rec *l, struct buf *out,
		    struct buf *err)
{
	memset(l, 0, sizeof(*l));
	int r = store_list_get(env->x->st, name, l);
	if (r == STORE_NOTFOUND) {
		buf_puts(out, "there is no list of that name here.\n");
		return 0;
	}
	return r == STORE_OK ? 1 : store_err(env, err);
}

/* The sender as a subscriber: 1 and *id, 0 when unknown, -1 store error. */
static int sender_id(struct mailcmd_env *env, int64_t *id, struct buf *err)
{
	struct person_addr pa = {env->from->addr, env->from->key};
	int r = lists_find(env->x, &pa, id);
	if (r == STORE_NOTFOUND)
		return 0;
	return r == STORE_OK ? 1 : store_err(env, err);
}

/* The sender's subscription to l: 1, 0 none, -1 store error. */
static int sender_sub(struct mailcmd_env *env, const struct list_rec *l, int64_t *id,
		      struct subscription_rec *sub, struct buf *err)
{
	int r = sender_id(env, id, err);
	if (r <= 0)
		return r;
	r = store_subscription_get(env->x->st, l->id, *id, sub);
	if (r == STORE_NOTFOUND)
		return 0;
	return r == STORE_OK ? 1 : store_err(env, err);
}

/* --- SUBSCRIBE ------------------------------------------------------------- */

static int do_subscribe(struct mailcmd_env *env, const struct command *c, struct buf *out,
			struct buf *err)
{
	struct list_rec l;
	head(out, "SUBSCRIBE", c->list);
	if (c->address != NULL && strcasecmp(c->address, env->from->key) != 0) {
		buf_puts(out, "by mail an address can only subscribe itself: that address "
			      "must write to us itself.\n");
		return 0;
	}
	int r = get_list(env, c->list, &l, out, err);
	if (r <= 0)
		return r;
	struct subscribe_req rq;
	memset(&rq, 0, sizeof(rq));
	rq.address = env->from->addr;
	rq.name = c->arg;
	rq.source = "email";
	rq.wording = CONSENT_EMAIL;
	rq.self = 1;
	int64_t id = 0, job = 0;
	int ret = 0;
	switch (lists_subscribe(env->x, &l, &rq, &id, err)) {
	case SUBSCRIBE_PENDING:
	case SUBSCRIBE_STILL_PENDING: {
		uint8_t h[HASH_LEN];
		int allowed = 0;
		int64_t now = clock_now(),
			window = conf_get_int(env->conf, "web", "confirm_window_hours") * 3600;
		addr_hash(env->x->keys, env->from->key, strlen(env->from->key), h);
		r = store_confirm_limit_hit(env->x->st, h, now, window,
					    conf_get_int(env->conf, "web", "confirm_per_address"),
					    &allowed);
		if (r == STORE_OK && allowed)
			r = jobs_create_confirm(env->x, &l, id, &job, err);
		if (r != STORE_OK) {
			ret = store_err(env, err);
			break;
		}
		if (job != 0) {
			buf_puts(out, "we sent you a request to confirm, in a separate message: "
				      "reply to it or follow its link.\n");
			log_info("intake: event=subscribe-request list=%s subscriber=%lld job=%lld",
				 l.name, (long long)id, (long long)job);
		} else {
			buf_puts(out, "we sent you a request to confirm recently: look for it in "
				      "your mailbox.\n");
		}
		break;
	}
	case SUBSCRIBE_ACTIVE:
	case SUBSCRIBE_ALREADY:
		buf_puts(out, "you are subscribed already.\n");
		break;
	case SUBSCRIBE_CLOSED:
		buf_puts(out, "this list takes no subscriptions.\n");
		break;
	case SUBSCRIBE_SUPPRESSED:
		buf_puts(out, "this address cannot be subscribed by mail.\n");
		break;
	case SUBSCRIBE_INVALID: /* e.g. a control character in the name given */
		buf_puts(out, "the name or address given cannot be used; nothing was changed.\n");
		break;
	case SUBSCRIBE_BUSY: /* the message is handled again later, as on any store error */
	case SUBSCRIBE_ERROR:
		ret = store_err(env, err);
		break;
	}
	list_rec_free(&l);
	return ret;
}

/* --- SIGNOFF and SET: a request to confirm ------------------------------ */

/* Queues the request to confirm (mail_command_confirm.txt): Reply-To
 * LIST-KIND+TOKEN@DOMAIN. setting: SET's option, or NULL for SIGNOFF;
 * lists: for SIGNOFF * (TOKEN_SIGNOFF_ALL, carried by l's address), the
 * names of the lists it leaves, else NULL. */
static int ask(struct mailcmd_env *env, const struct list_rec *l, int64_t id, enum token_purpose p,
	       const char *setting, const char *lists, struct buf *out, struct buf *err)
{
	const struct keys *k = env->x->keys;
	int64_t exp =
	    p == TOKEN_UNSUBSCRIBE
		? 0
		: clock_now() + conf_get_int(env->conf, "tokens", "confirm_ttl_hours") * 3600;
	struct buf reply_to, url;
	buf_init(&reply_to, LK_MAX_ADDRESS + 1);
	buf_init(&url, 8192);
	/* LIST-unsubscribe+ takes token.h's address form, as in the
	 * List-Unsubscribe mailto; LIST-confirm+ its expiring variant. */
	if (listaddr_token_build(&reply_to, k, p, l->name, l->id, l->domain, id, exp) < 0)
		reply_to.err = 1;
	if (p == TOKEN_UNSUBSCRIBE &&
	    listaddr_url(&url, k, conf_get(env->conf, "general", "base_url"), TOKEN_UNSUBSCRIBE,
			 l->id, id, 0) < 0)
		url.err = 1;
	struct tmpl_vars *v = tmpl_vars_new();
	tmpl_put(v, "email", env->from->addr);
	tmpl_put(v, "list", l->name);
	tmpl_put(v, "list_title", lists_title(l));
	tmpl_put_bool(v, "signoff", p == TOKEN_UNSUBSCRIBE);
	tmpl_put_bool(v, "all", p == TOKEN_SIGNOFF_ALL);
	tmpl_put(v, "lists", lists != NULL ? lists : "");
	tmpl_put(v, "setting", setting);
	tmpl_put(v, "unsubscribe_url", buf_cstr(&url));
	char *subject = NULL, *text = NULL;
	int r = reply_to.err || url.err
		    ? STORE_ERR
		    : jobs_mail_text(env->x, "mail_command_confirm.txt", v, &subject, &text, err);
	tmpl_vars_free(v);
	int sent = 0;
	if (r == STORE_OK)
		r = answer_queue(env->x, env->conf, l->id, JOB_KIND_CONFIRM, env->from,
				 buf_cstr(&reply_to), subject, text, &sent, err);
	if (r == STORE_OK)
		buf_puts(out, sent ? "we sent you a request to confirm, in a separate message: "
				     "reply to it.\n"
				   : "not now: too many messages to this address in the last "
				     "hour; try again later.\n");
	buf_free(&reply_to);
	buf_free(&url);
	free(subject);
	if (text != NULL)
		xfree_wipe(text, strlen(text)); /* it holds the address */
	return r == STORE_OK ? 0 : store_err(env, err);
}

static int signoff_one(struct mailcmd_env *env, const char *name, struct buf *out, struct buf *err)
{
	struct list_rec l;
	struct subscription_rec sub;
	int64_t id = 0;
	head(out, "SIGNOFF", name);
	int r = get_list(env, name, &l, out, err);
	if (r <= 0)
		return r;
	r = sender_sub(env, &l, &id, &sub, err);
	if (r == 0)
		buf_puts(out, "this address is not subscribed to this list.\n");
	if (r == 1)
		r = ask(env, &l, id, TOKEN_UNSUBSCRIBE, NULL, NULL, out, err);
	list_rec_free(&l);
	return r < 0 ? -1 : 0;
}

struct sub_ids {
	int64_t list[64];
	size_t n;
};

static int collect(void *ctx, const struct subscription_rec *s)
{
	struct sub_ids *ids = ctx;
	if (ids->n < sizeof(ids->list) / sizeof(ids->list[0]))
		ids->list[ids->n++] = s->list_id;
	return 0;
}

/* The sender's subscriptions (list ids): 1, 0 when not a subscriber, -1. */
static int sender_lists(struct mailcmd_env *env, struct sub_ids *ids, struct buf *err)
{
	int64_t id = 0;
	ids->n = 0;
	int r = sender_id(env, &id, err);
	if (r <= 0)
		return r;
	if (store_subscriptions_of(env->x->st, id, collect, ids) != STORE_OK)
		return store_err(env, err);
	return ids->n > 0;
}

static int do_signoff(struct mailcmd_env *env, const struct command *c, struct buf *out,
		      struct buf *err)
{
	if (strcmp(c->list, "*") != 0)
		return signoff_one(env, c->list, out, err);
	struct sub_ids ids;
	int64_t id = 0;
	int r = sender_lists(env, &ids, err);
	if (r == 1)
		r = sender_id(env, &id, err);
	if (r <= 0) {
		if (r == 0)
			buf_puts(out, "SIGNOFF *: this address is on no list here.\n");
		return r;
	}
	/* One request for them all (the reply limit would stop one per list),
	 * its token carried by the first list's LIST-confirm+ address. */
	struct list_rec first = {0};
	struct buf names;
	buf_init(&names, 64 * (LK_MAX_LIST_NAME + 2));
	for (size_t i = 0; r >= 0 && i < ids.n; i++) {
		struct list_rec l = {0};
		if (store_list_get_id(env->x->st, ids.list[i], &l) != STORE_OK) {
			r = store_err(env, err);
		} else {
			buf_printf(&names, "%s%s", i ? ", " : "", l.name);
			if (i == 0)
				first = l;
			else
				list_rec_free(&l);
		}
	}
	if (r >= 0) {
		buf_puts(out, "SIGNOFF *: ");
		r = ask(env, &first, id, TOKEN_SIGNOFF_ALL, NULL, buf_cstr(&names), out, err);
	}
	list_rec_free(&first);
	buf_free(&names);
	return r < 0 ? -1 : 0;
}

static int do_set(struct mailcmd_env *env, const struct command *c, struct buf *out,
		  struct buf *err)
{
	struct list_rec l;
	struct subscription_rec sub;
	int64_t id = 0;
	buf_printf(out, "SET %s %s: ", c->list, opt_name(c->option));
	int r = get_list(env, c->list, &l, out, err);
	if (r <= 0)
		return r;
	r = sender_sub(env, &l, &id, &sub, err);
	if (r == 0)
		buf_puts(out, "this address is not subscribed to this list.\n");
	if (r == 1 && c->option == CMD_OPT_DIGEST && !l.digest) {
		buf_puts(out, "this list offers no digest.\n");
		r = 0;
	}
	if (r == 1) {
		enum token_purpose p = TOKEN_SET_DIGEST + (c->option - CMD_OPT_DIGEST);
		r = ask(env, &l, id, p, opt_name(c->option), NULL, out, err);
	}
	list_rec_free(&l);
	return r < 0 ? -1 : 0;
}

/* --- QUERY, LISTS, INFO ----------------------------------------------------- */

static int query_one(struct mailcmd_env *env, const struct list_rec *l, int64_t id, struct buf *out,
		     struct buf *err)
{
	struct subscription_rec sub;
	struct subscriber_rec who = {0};
	int r = store_subscription_get(env->x->st, l->id, id, &sub);
	if (r == STORE_NOTFOUND) {
		buf_printf(out, "QUERY %s: this address is not subscribed to this list.\n",
			   l->name);
		return 0;
	}
	if (r != STORE_OK || store_subscriber_get(env->x->st, id, &who) != STORE_OK)
		return store_err(env, err);
	buf_printf(out, "QUERY %s: subscribed (%s), %s, %s, %s.\n", l->name,
		   sub_state_name(sub.state), sub.digest ? "DIGEST" : "NODIGEST",
		   sub.nomail ? "NOMAIL" : "MAIL", who.html ? "HTML" : "TEXT");
	subscriber_rec_free(&who);
	return 0;
}

static int do_query(struct mailcmd_env *env, const struct command *c, struct buf *out,
		    struct buf *err)
{
	int64_t id = 0;
	if (strcmp(c->list, "*") == 0) {
		struct sub_ids ids;
		int r = sender_lists(env, &ids, err);
		if (r == 0)
			buf_puts(out, "QUERY *: this address is on no list here.\n");
		if (r <= 0)
			return r;
		if (sender_id(env, &id, err) < 0)
			return -1;
		for (size_t i = 0; i < ids.n; i++) {
			struct list_rec l = {0};
			if (store_list_get_id(env->x->st, ids.list[i], &l) != STORE_OK)
				return store_err(env, err);
			r = query_one(env, &l, id, out, err);
			list_rec_free(&l);
			if (r < 0)
				return -1;
		}
		return 0;
	}
	struct list_rec l = {0};
	int r = store_list_get(env->x->st, c->list, &l);
	if (r == STORE_NOTFOUND) {
		head(out, "QUERY", c->list);
		buf_puts(out, "there is no list of that name here.\n");
		return 0;
	}
	if (r != STORE_OK)
		return store_err(env, err);
	r = sender_id(env, &id, err);
	if (r == 0)
		buf_printf(out, "QUERY %s: this address is not subscribed to this list.\n", l.name);
	if (r == 1)
		r = query_one(env, &l, id, out, err);
	list_rec_free(&l);
	return r < 0 ? -1 : 0;
}

struct lists_out {
	const char *domain;
	struct buf *out;
	int n;
};

static int one_list(void *ctx, const struct list_rec *l)
{
	struct lists_out *o = ctx;
	if (l->domain == NULL || strcasecmp(l->domain, o->domain) != 0)
		return 0;
	buf_printf(o->out, "  %s@%s  %s\n", l->name, l->domain, l->title ? l->title : "");
	o->n++;
	return 0;
}

static int do_lists(struct mailcmd_env *env, const char *verb, struct buf *out, struct buf *err)
{
	buf_printf(out, "%s: the lists here:\n", verb);
	struct lists_out o = {env->domain, out, 0};
	if (store_list_each(env->x->st, one_list, &o) != STORE_OK)
		return store_err(env, err);
	if (o.n == 0)
		buf_puts(out, "  (none)\n");
	return 0;
}

static int do_info(struct mailcmd_env *env, const struct command *c, struct buf *out,
		   struct buf *err)
{
	struct list_rec l;
	head(out, "INFO", c->list);
	int r = get_list(env, c->list, &l, out, err);
	if (r <= 0)
		return r;
	buf_printf(out, "%s\n", lists_title(&l));
	if (l.description != NULL && l.description[0] != '\0')
		buf_printf(out, "  %s\n", l.description);
	buf_printf(out, "  %s list. To join, send SUBSCRIBE %s to ",
		   l.kind == LIST_KIND_ANNOUNCE ? "An announcement" : "A discussion", l.name);
	listaddr_build(out, LISTADDR_REQUEST, l.name, l.domain, NULL);
	buf_puts(out, ".\n");
	list_rec_free(&l);
	return 0;
}

/* --- tokens ------------------------------------------------------------------ */

enum token_status mailcmd_token_decode(const struct keys *k, const char *tok, size_t len,
				       uint64_t list_id, int64_t now, int with_unsubscribe,
				       struct token *t)
{
	static const enum token_purpose P[] = {
	    TOKEN_CONFIRM,  TOKEN_SET_DIGEST,  TOKEN_SET_NODIGEST,
	    TOKEN_SET_MAIL, TOKEN_SET_NOMAIL,  TOKEN_SET_HTML,
	    TOKEN_SET_TEXT, TOKEN_SIGNOFF_ALL, TOKEN_UNSUBSCRIBE,
	};
	size_t n = sizeof(P) / sizeof(P[0]) - (with_unsubscribe ? 0 : 1);
	enum token_status ts = TOKEN_MALFORMED;
	if (list_id != 0 && len == TOKEN_ADDR_LEN) {
		/* LIST-unsubscribe+TOKEN's form: it does not expire */
		uint64_t id = 0;
		if (!with_unsubscribe)
			return TOKEN_MALFORMED;
		ts = token_addr_decode(k, tok, len, TOKEN_UNSUBSCRIBE, list_id, &id);
		if (ts == TOKEN_OK)
			*t = (struct token){TOKEN_UNSUBSCRIBE, list_id, id, 0};
		return ts;
	}
	for (size_t i = 0; i < n; i++) {
		ts = list_id != 0 && len == TOKEN_ADDR_EXP_LEN
			 ? token_addr_decode_exp(k, tok, len, P[i], list_id, now, t)
			 : token_decode(k, tok, len, P[i], now, t);
		if (ts != TOKEN_WRONG_PURPOSE)
			break;
	}
	return ts;
}

int mailcmd_token(struct mailcmd_env *env, const char *tok, size_t len, int64_t want_list,
		  struct buf *out, struct buf *err)
{
	struct token t = {0};
	enum token_status ts =
	    mailcmd_token_decode(env->x->keys, tok, len, (uint64_t)want_list, clock_now(), 1, &t);
	buf_puts(out, "CONFIRM: ");
	if (ts == TOKEN_EXPIRED) {
		buf_puts(out, "this request has expired, and nothing was changed. Send your "
			      "command again (or HELP) to get a new request to confirm.\n");
		return 0;
	}
	struct list_rec l = {0};
	int r =
	    ts == TOKEN_OK ? store_list_get_id(env->x->st, (int64_t)t.list_id, &l) : STORE_NOTFOUND;
	if (r == STORE_OK && want_list != 0 && l.id != want_list)
		r = STORE_NOTFOUND;
	if (r == STORE_NOTFOUND) {
		buf_puts(out, "this is not a valid confirmation.\n");
		list_rec_free(&l);
		return 0;
	}
	if (r != STORE_OK)
		return store_err(env, err);
	int64_t id = (int64_t)t.subscriber_id, sid = 0;
	/* A token acts whoever sends it (it proves the mailbox it was sent
	 * to), but the answer goes to the sender: when that is another address,
	 * it says nothing of the token's subscriber (subscribed or not, done
	 * before or not). Asked before acting: leaving may erase the sender. */
	int own = sender_id(env, &sid, err);
	if (own < 0) {
		list_rec_free(&l);
		return -1;
	}
	own = own == 1 && sid == id;
	const char *done = NULL;
	if (t.purpose == TOKEN_CONFIRM) {
		r = lists_confirm(env->x, &l, id, "email", NULL, err);
		done = r == STORE_EXISTS		? "confirmed already."
		       : r == STORE_NOTFOUND		? "there is nothing to confirm any more."
		       : l.sub_policy == LIST_SUB_OWNER ? "confirmed; the list's owners will "
							  "approve your subscription."
							: "confirmed: you are subscribed.";
		if (r == STORE_OK)
			log_info("intake: event=confirm list=%s subscriber=%lld source=email",
				 l.name, (long long)id);
	} else if (t.purpose == TOKEN_SIGNOFF_ALL) {
		/* every list of the token's subscriber (l only carried it) */
		struct sub_ids ids = {.n = 0};
		int left = 0;
		r = store_subscriptions_of(env->x->st, id, collect, &ids);
		for (size_t i = 0; r == STORE_OK && i < ids.n; i++) {
			struct list_rec one = {0};
			int erased = 0;
			r = store_list_get_id(env->x->st, ids.list[i], &one);
			if (r == STORE_OK)
				r = lists_unsubscribe(env->x, &one, id, "email", &erased, err);
			if (r == STORE_OK) {
				left++;
				log_info("intake: event=unsubscribe list=%s subscriber=%lld "
					 "source=email",
					 one.name, (long long)id);
			}
			if (r == STORE_NOTFOUND)
				r = STORE_OK;
			env->erased |= erased;
			list_rec_free(&one);
		}
		done = left > 0 ? "done: you have left every list here."
				: "this address is on no list here.";
		if (r == STORE_OK && left == 0)
			r = STORE_NOTFOUND;
	} else if (t.purpose == TOKEN_UNSUBSCRIBE) {
		int erased = 0;
		r = lists_unsubscribe(env->x, &l, id, "email", &erased, err);
		env->erased |= erased;
		done = r == STORE_NOTFOUND ? "this address is not subscribed to this list."
					   : "done: you have left the list.";
		if (r == STORE_OK)
			log_info("intake: event=unsubscribe list=%s subscriber=%lld source=email",
				 l.name, (long long)id);
	} else {
		int digest = -1, nomail = -1, html = -1;
		switch (t.purpose) {
		case TOKEN_SET_DIGEST:
		case TOKEN_SET_NODIGEST:
			digest = t.purpose == TOKEN_SET_DIGEST;
			break;
		case TOKEN_SET_MAIL:
		case TOKEN_SET_NOMAIL:
			nomail = t.purpose == TOKEN_SET_NOMAIL;
			break;
		default:
			html = t.purpose == TOKEN_SET_HTML;
			break;
		}
		struct subscription_rec sub;
		r = store_subscription_get(env->x->st, l.id, id, &sub);
		if (r == STORE_OK && html >= 0) {
			struct person_change ch = {NULL, html, -1, NULL};
			r = lists_person_update(env->x, id, &ch, "email", NULL, err);
		} else if (r == STORE_OK) {
			r = lists_set_options(env->x, &l, id, digest >= 0 ? digest : sub.digest,
					      nomail >= 0 ? nomail : sub.nomail, "email", err);
		}
		done = r == STORE_NOTFOUND ? "this address is not subscribed to this list."
					   : "done: your setting is changed.";
	}
	if (!own)
		done = "request carried out, if it still applied; we tell the answer only to the "
		       "address it was sent to.";
	if (r == STORE_OK || r == STORE_EXISTS || r == STORE_NOTFOUND)
		buf_printf(out, "%s%s%s\n", t.purpose == TOKEN_SIGNOFF_ALL ? "" : l.name,
			   t.purpose == TOKEN_SIGNOFF_ALL ? "" : " ", done);
	list_rec_free(&l);
	if (r == STORE_OK || r == STORE_EXISTS || r == STORE_NOTFOUND)
		return 0;
	return store_err(env, err);
}

struct token_list {
	const struct keys *k;
	const char *domain, *tok;
	size_t len;
	int64_t now, list_id;
};

static int token_list_cb(void *ctx, const struct list_rec *l)
{
	struct token_list *f = ctx;
	struct token t;
	if (l->domain == NULL || strcasecmp(l->domain, f->domain) != 0)
		return 0;
	/* The MAC binds the list: any answer but "forged" names it. */
	if (mailcmd_token_decode(f->k, f->tok, f->len, (uint64_t)l->id, f->now, 1, &t) ==
	    TOKEN_BAD_MAC)
		return 0;
	f->list_id = l->id;
	return 1;
}

/* CONFIRM: the token of a link (it names its list) or of an address form,
 * whose list is the one its address named, or else the list of this domain
 * whose MAC it carries (the list of LIST-request@ need not be the one). */
static int do_confirm(struct mailcmd_env *env, const struct command *c, struct buf *out,
		      struct buf *err)
{
	size_t len = strlen(c->arg);
	const char *name = c->list[0] ? c->list : NULL;
	struct token_list f = {env->x->keys, env->domain, c->arg, len, clock_now(), 0};
	if (len == TOKEN_TEXT_LEN)
		return mailcmd_token(env, c->arg, len, 0, out, err);
	if (name != NULL) {
		struct list_rec l = {0};
		int r = store_list_get(env->x->st, name, &l);
		if (r != STORE_OK && r != STORE_NOTFOUND)
			return store_err(env, err);
		f.list_id = r == STORE_OK ? l.id : 0;
		list_rec_free(&l);
	} else if (len == TOKEN_ADDR_LEN || len == TOKEN_ADDR_EXP_LEN) {
		if (store_list_each(env->x->st, token_list_cb, &f) != STORE_OK)
			return store_err(env, err);
	}
	if (f.list_id == 0) {
		buf_puts(out, "CONFIRM: this is not a valid confirmation.\n");
		return 0;
	}
	return mailcmd_token(env, c->arg, len, f.list_id, out, err);
}

/* --- the whole message -------------------------------------------------------- */

int mailcmd_run(struct mailcmd_env *env, const char *subject, const char *text, size_t text_len,
		struct buf *out, struct buf *err)
{
	struct command_set cs;
	command_parse_text(env->implied ? subject : NULL,
			   env->implied && subject ? strlen(subject) : 0, text ? text : "",
			   text ? text_len : 0, env->implied, &cs);
	int r = 0;
	for (size_t i = 0; r == 0 && i < cs.n; i++) {
		const struct command *c = &cs.cmd[i];
		switch (c->verb) {
		case CMD_SUBSCRIBE:
			r = do_subscribe(env, c, out, err);
			break;
		case CMD_SIGNOFF:
			r = do_signoff(env, c, out, err);
			break;
		case CMD_SET:
			r = do_set(env, c, out, err);
			break;
		case CMD_QUERY:
			r = do_query(env, c, out, err);
			break;
		case CMD_LISTS:
		case CMD_INDEX:
			r = do_lists(env, c->verb == CMD_LISTS ? "LISTS" : "INDEX", out, err);
			break;
		case CMD_INFO:
			r = do_info(env, c, out, err);
			break;
		case CMD_HELP:
			buf_puts(out, "HELP:\n");
			buf_puts(out, HELP);
			break;
		case CMD_CONFIRM:
			r = c->arg != NULL ? do_confirm(env, c, out, err) : 0;
			break;
		}
	}
	for (size_t i = 0; r == 0 && i < cs.nerr; i++) {
		if (cs.err[i].line == 0)
			buf_printf(out, "Subject: %s.\n", cs.err[i].reason);
		else
			buf_printf(out, "Line %u: %s.\n", cs.err[i].line, cs.err[i].reason);
	}
	if (r == 0 && cs.n == 0 && cs.nerr == 0)
		buf_puts(out, "No command found.\n");
	if (r == 0 && cs.nerr > 0)
		env->unclear = 1;
	command_set_free(&cs);
	return r;
}
