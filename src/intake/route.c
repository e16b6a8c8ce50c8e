/*
 * route.c - intake routing and handling (see route.h): which address a
 * recipient is, and what a message to it does.
 *
 * TRUST: the recipient and the message are untrusted. A recipient is acted
 * on only after its token is authenticated for the list its address names;
 * list names are checked with lists_name_valid before the store is asked.
 */
#include "intake/route.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/tmpl.h"
#include "core/log.h"
#include "core/utf8.h"
#include "core/xmalloc.h"
#include "crypto/token.h"
#include "intake/answer.h"
#include "intake/bounce.h"
#include "lists/bounces.h"
#include "intake/filter.h"
#include "intake/mailcmd.h"
#include "intake/postin.h"
#include "lists/jobs.h"
#include "lists/lists.h"
#include "lists/person.h"
#include "core/address.h"
#include "mail/listaddr.h"

struct intake_target {
	enum listaddr_role kind;
	int64_t list_id;       /* 0 for LISTADDR_COMMAND */
	int64_t subscriber_id; /* LISTADDR_BOUNCES, LISTADDR_UNSUBSCRIBE */
	char list[LK_MAX_LIST_NAME + 1];
	char domain[LK_MAX_DOMAIN + 1];
	char token[LK_MAX_TOKEN + 1]; /* LISTADDR_CONFIRM */
	char *owners;	/* LISTADDR_POST, LISTADDR_OWNER: the list's owners, "a@x,b@y" */
	char *title;	/* LISTADDR_POST, LISTADDR_OWNER */
	char *addr;	/* the envelope recipient, for bounce_parse; wiped */
	int discussion; /* LISTADDR_POST: a discussion list (a post), not an announcement list */
	int mod;	/* LISTADDR_CONFIRM: a moderator's reply (TOKEN_MOD_APPROVE), the
			   held post's id in subscriber_id */
};

struct intake {
	const struct conf *conf;
	const struct keys *keys;
	struct store *st;
	struct lists_ctx x;
	struct filter_conf fc; /* [filter], for posts */
	int fc_ok;	       /* read without error (else posts wait: 451) */
};

struct intake *intake_new(const struct conf *conf, const struct keys *keys, struct store *st,
			  const struct tmpl_set *tmpl)
{
	struct intake *in = xcalloc(1, sizeof(*in));
	in->conf = conf;
	in->keys = keys;
	in->st = st;
	in->x.st = st;
	in->x.keys = keys;
	in->x.policy_version = conf_get(conf, "general", "consent_version");
	in->x.actor = "intake";
	in->x.tmpl = tmpl;
	struct buf err;
	buf_init(&err, 512);
	in->fc_ok = filter_conf_load(conf, &in->fc, &err) == 0;
	if (!in->fc_ok)
		log_warnx("intake: [filter]: %s; posts to discussion lists wait", buf_cstr(&err));
	buf_free(&err);
	return in;
}

void intake_free(struct intake *in)
{
	free(in);
}

int intake_target_same(const struct intake_target *a, const struct intake_target *b)
{
	return a->kind == b->kind && a->mod == b->mod && a->list_id == b->list_id &&
	       a->subscriber_id == b->subscriber_id && strcmp(a->token, b->token) == 0 &&
	       strcasecmp(a->domain, b->domain) == 0;
}

void intake_target_free(struct intake_target *t)
{
	if (t == NULL)
		return;
	if (t->addr != NULL)
		xfree_wipe(t->addr, strlen(t->addr));
	if (t->owners != NULL)
		xfree_wipe(t->owners, strlen(t->owners));
	free(t->title);
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

struct domain_scan {
	const char *domain;
	int found;
};

static int domain_cb(void *ctx, const struct list_rec *l)
{
	struct domain_scan *d = ctx;
	d->found = l->domain != NULL && strcasecmp(l->domain, d->domain) == 0;
	return d->found;
}

/* Is domain ours: [general] domain or a list's? STORE_OK, STORE_NOTFOUND. */
static int domain_known(struct intake *in, const char *domain)
{
	if (strcasecmp(domain, conf_get(in->conf, "general", "domain")) == 0)
		return STORE_OK;
	struct domain_scan d = {domain, 0};
	int r = store_list_each(in->st, domain_cb, &d);
	if (r != STORE_OK)
		return r;
	return d.found ? STORE_OK : STORE_NOTFOUND;
}

enum intake_verdict intake_rcpt(struct intake *in, const char *addr, size_t len,
				struct intake_target **out, struct intake_result *res)
{
	*out = NULL;
	/* Our own VERP and mailto local parts fit RFC 5321's 64 octets
	 * (section 4.5.3.1.1; token.h's address form); a list made before that
	 * bound may have longer ones, so the whole address bound applies. */
	struct listaddr rd[LISTADDR_READINGS];
	size_t nrd = listaddr_parse(addr, len, conf_get(in->conf, "intake", "command_address"), rd);
	if (nrd == 0)
		return unknown(res);
	char domain[LK_MAX_DOMAIN + 1];
	memcpy(domain, rd[0].domain.ptr, rd[0].domain.len);
	domain[rd[0].domain.len] = '\0';
	if (rd[0].role == LISTADDR_COMMAND) {
		int r = domain_known(in, domain);
		if (r == STORE_NOTFOUND)
			return unknown(res);
		if (r != STORE_OK)
			return tempfail(res);
		struct intake_target *tg = xcalloc(1, sizeof(*tg));
		tg->kind = LISTADDR_COMMAND;
		bsnprintf(tg->list, sizeof(tg->list), "-");
		bsnprintf(tg->domain, sizeof(tg->domain), "%s", domain);
		*out = tg;
		return say(res, INTAKE_OK, "250 2.1.5 Ok");
	}

	/* LIST-bounces+TOKEN, LIST-unsubscribe+TOKEN, LIST-confirm+TOKEN: the
	 * token decides. */
	if (listaddr_role_has_token(rd[0].role)) {
		enum listaddr_role kind = rd[0].role;
		struct list_rec l;
		int r = list_at(in, rd[0].list, strlen(rd[0].list), domain, &l);
		if (r == STORE_NOTFOUND)
			return unknown(res);
		if (r != STORE_OK)
			return tempfail(res);
		/* LIST-confirm+: the expiring address form (or the URL form of
		 * mails sent before it, which keeps its case). LIST-bounces+ and
		 * LIST-unsubscribe+: the address form. All address forms are
		 * base32, either case, bound by the MAC to this list and
		 * purpose. */
		const char *tok = rd[0].token.ptr;
		size_t tok_len = rd[0].token.len;
		struct token t = {0};
		enum token_status ts;
		int mod = 0;
		if (kind == LISTADDR_CONFIRM) {
			ts = mailcmd_token_decode(in->keys, tok, tok_len, (uint64_t)l.id,
						  clock_now(), 0, &t);
			struct token mt = {0};
			if (ts != TOKEN_OK && ts != TOKEN_EXPIRED &&
			    tok_len == TOKEN_ADDR_EXP_LEN &&
			    token_addr_decode_exp(in->keys, tok, tok_len, TOKEN_MOD_APPROVE,
						  (uint64_t)l.id, clock_now(), &mt) == TOKEN_OK) {
				t = mt;
				ts = TOKEN_OK;
				mod = 1;
			}
		} else {
			uint64_t sub_id = 0;
			ts = token_addr_decode(in->keys, tok, tok_len,
					       kind == LISTADDR_BOUNCES ? TOKEN_BOUNCE
									: TOKEN_UNSUBSCRIBE,
					       (uint64_t)l.id, &sub_id);
			t.list_id = (uint64_t)l.id;
			t.subscriber_id = sub_id;
		}
		/* An expired confirmation is taken, to be answered "expired". */
		if (kind == LISTADDR_CONFIRM && ts == TOKEN_EXPIRED)
			t.list_id = (uint64_t)l.id;
		else if (ts != TOKEN_OK)
			t.list_id = 0;
		if (t.list_id != (uint64_t)l.id) {
			log_info("intake: rcpt list=%s kind=%s refused: %s", l.name,
				 listaddr_role_name(kind),
				 ts != TOKEN_OK ? token_status_name(ts) : "token for another list");
			list_rec_free(&l);
			return unknown(res);
		}
		struct intake_target *tg = xcalloc(1, sizeof(*tg));
		tg->kind = kind;
		tg->list_id = l.id;
		tg->subscriber_id = (int64_t)t.subscriber_id;
		tg->mod = mod;
		bsnprintf(tg->list, sizeof(tg->list), "%s", l.name);
		bsnprintf(tg->domain, sizeof(tg->domain), "%s", l.domain);
		memcpy(tg->token, tok, tok_len); /* listaddr_parse: at most LK_MAX_TOKEN */
		tg->token[tok_len] = '\0';
		tg->addr = xmemdup(addr, len);
		*out = tg;
		list_rec_free(&l);
		return say(res, INTAKE_OK, "250 2.1.5 Ok");
	}

	/* LIST@, LIST-request@, LIST-owner@ (a list may itself be called
	 * x-request: listaddr_parse gives the whole local part first). */
	struct list_rec l;
	enum listaddr_role kind = LISTADDR_POST;
	int r = STORE_NOTFOUND;
	for (size_t i = 0; i < nrd && r == STORE_NOTFOUND; i++) {
		kind = rd[i].role;
		r = list_at(in, rd[i].list, strlen(rd[i].list), domain, &l);
	}
	if (r == STORE_NOTFOUND)
		return unknown(res);
	if (r != STORE_OK)
		return tempfail(res);
	enum intake_verdict v = INTAKE_OK;
	if (kind == LISTADDR_OWNER && (l.owners == NULL || l.owners[0] == '\0')) {
		v = unknown(res); /* nobody to forward to */
	} else {
		struct intake_target *tg = xcalloc(1, sizeof(*tg));
		tg->kind = kind;
		tg->list_id = l.id;
		bsnprintf(tg->list, sizeof(tg->list), "%s", l.name);
		bsnprintf(tg->domain, sizeof(tg->domain), "%s", l.domain);
		tg->owners = xstrdup(l.owners != NULL ? l.owners : "");
		tg->title = xstrdup(l.title != NULL ? l.title : "");
		tg->discussion = kind == LISTADDR_POST && l.kind == LIST_KIND_DISCUSSION;
		*out = tg;
		say(res, INTAKE_OK, "250 2.1.5 Ok");
	}
	list_rec_free(&l);
	return v;
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

/* A hard (gone) or soft (full, a final temporary failure) bounce: the
 * scores decay and rise; at the threshold an active subscription is
 * disabled or removed (lists/bounces.h). */
static int score_bounce(struct intake *in, const struct intake_target *tg, int hard,
			enum bounce_class cls)
{
	struct lists_bounce_policy p = {
	    conf_get_int(in->conf, "bounce", "threshold"),
	    conf_get_int(in->conf, "bounce", "decay_days") * 86400,
	    conf_get_int(in->conf, "bounce", "soft_per_hard"),
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
		r = (hard ? lists_hard_bounce : lists_soft_bounce)(
		    &in->x, &l, tg->subscriber_id, &p, &outcome, &score, &erased, &err);
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
		log_info("intake: bounce list=%s subscriber=%lld kind=%s class=%s outcome=%s "
			 "score=%lld",
			 tg->list, (long long)tg->subscriber_id, hard ? "hard" : "soft",
			 bounce_class_name(cls), lists_bounce_outcome_name(outcome),
			 (long long)score);
		if (erased && store_scrub(in->st) != STORE_OK)
			log_warnx("intake: store_scrub after an erasure failed: %s",
				  store_errmsg(in->st));
	}
	list_rec_free(&l);
	buf_free(&err);
	return r;
}

/* The receiving domain of a report: the domain of its first failed
 * recipient of class cls (else of its first recipient) that names one; NULL
 * when none does. Points into b. */
static const char *report_domain(const struct bounce *b, enum bounce_class cls)
{
	const char *any = NULL;
	for (size_t i = 0; i < b->nrcpt; i++) {
		const char *a =
		    b->rcpt[i].final_rcpt ? b->rcpt[i].final_rcpt : b->rcpt[i].original_rcpt;
		const char *at = a ? strrchr(a, '@') : NULL;
		if (at == NULL)
			continue;
		if (b->rcpt[i].cls == cls)
			return at + 1;
		if (any == NULL)
			any = at + 1;
	}
	return any;
}

/* A bounce that is no fault of the subscriber's (sender-policy,
 * rejected-content), or one nobody could read (unknown): counted for the
 * list and the day (an aggregate, no person), and for the sender-side ones
 * also under the job the returned Message-ID names when it is a job of this
 * list (key: the job's id) and by receiving domain when it is a big
 * provider's (lists_bounce_refused); never answered, nobody's score
 * changes. */
static int count_bounce(struct intake *in, const struct intake_target *tg, const char *counter,
			const struct bounce *b, enum bounce_class cls)
{
	int64_t job = 0;
	int r = store_begin(in->st);
	if (r == STORE_OK && cls != BOUNCE_UNKNOWN && b->job_id > 0) {
		struct job_rec j = {0};
		int g = store_job_get(in->st, b->job_id, &j);
		if (g == STORE_OK && j.list_id == tg->list_id)
			job = b->job_id;
		else if (g != STORE_NOTFOUND && g != STORE_OK)
			r = g;
		job_rec_free(&j);
	}
	const char *domain = cls != BOUNCE_UNKNOWN ? report_domain(b, cls) : NULL;
	if (r == STORE_OK)
		r = lists_bounce_refused(&in->x, tg->list_id, job, counter, domain,
					 domain ? strlen(domain) : 0);
	if (r == STORE_OK)
		r = store_commit(in->st);
	if (r != STORE_OK) {
		log_warnx("intake: counting a bounce failed: %s", store_errmsg(in->st));
		store_rollback(in->st);
	} else if (cls == BOUNCE_UNKNOWN) {
		log_info("intake: bounce list=%s class=unknown outcome=dropped", tg->list);
	} else {
		log_info("intake: bounce list=%s subscriber=%lld class=%s job=%lld outcome=counted",
			 tg->list, (long long)tg->subscriber_id, bounce_class_name(cls),
			 (long long)job);
	}
	return r;
}

/* Which of the report's recipients speaks for the token's subscriber: the
 * one whose address is the subscriber's. When none is (a forward: the
 * report names the address forwarded to), the token still decides, with
 * the report's overall verdict, and the mismatch is logged by id only. */
static void pick_rcpt(struct intake *in, const struct intake_target *tg, const struct bounce *b,
		      enum bounce_class *cls, int *final)
{
	*cls = b->cls;
	*final = b->final;
	if (b->cls == BOUNCE_COMPLAINT || b->nrcpt == 0)
		return;
	int named = 0;
	for (size_t i = 0; i < b->nrcpt; i++) {
		const char *const both[] = {b->rcpt[i].final_rcpt, b->rcpt[i].original_rcpt};
		for (int k = 0; k < 2; k++) {
			if (both[k] == NULL)
				continue;
			named = 1;
			struct address a;
			struct buf err;
			buf_init(&err, 256);
			int64_t id = 0;
			int hit = 0;
			if (address_parse(both[k], strlen(both[k]), &a, &err) == 0) {
				struct person_addr pa = {a.addr, a.key};
				hit = lists_find(&in->x, &pa, &id) == STORE_OK &&
				      id == tg->subscriber_id;
				address_free(&a);
			}
			buf_free(&err);
			if (hit) {
				*cls = b->rcpt[i].cls;
				*final = b->rcpt[i].final;
				return;
			}
		}
	}
	if (named)
		log_info("intake: bounce list=%s subscriber=%lld: the report names another "
			 "recipient (a forward?); the token's subscriber is kept",
			 tg->list, (long long)tg->subscriber_id);
}

static int bounce(struct intake *in, const struct intake_target *tg, const char *msg, size_t len)
{
	int r = STORE_OK;
	struct bounce b;
	bounce_parse(msg, len, tg->addr, strlen(tg->addr), &b);
	enum bounce_class cls;
	int final;
	pick_rcpt(in, tg, &b, &cls, &final);
	switch (cls) {
	case BOUNCE_GONE:
		r = score_bounce(in, tg, 1, cls);
		break;
	case BOUNCE_FULL:
		r = score_bounce(in, tg, 0, cls);
		break;
	case BOUNCE_TEMPORARY:
		if (final)
			r = score_bounce(in, tg, 0, cls);
		else
			log_info("intake: bounce list=%s subscriber=%lld class=temporary "
				 "outcome=none",
				 tg->list, (long long)tg->subscriber_id);
		break;
	case BOUNCE_COMPLAINT:
		r = unsubscribe(in, tg, "complaint");
		break;
	case BOUNCE_SENDER_POLICY:
		r = count_bounce(in, tg, STORE_STAT_BOUNCE_SENDER_POLICY, &b, cls);
		break;
	case BOUNCE_REJECTED_CONTENT:
		r = count_bounce(in, tg, STORE_STAT_BOUNCE_REJECTED_CONTENT, &b, cls);
		break;
	default:
		r = count_bounce(in, tg, STORE_STAT_BOUNCE_UNPARSABLE, &b, BOUNCE_UNKNOWN);
		break;
	}
	bounce_free(&b);
	return r;
}

/* --- commands, confirmations, posts ---------------------------------------- */

static int is_this(void *ctx, const char *addr)
{
	return strcasecmp(addr, ctx) == 0;
}

struct forward {
	struct intake *in;
	const struct intake_target *t;
	const struct inmail *m;
	const char *subject, *text;
	int r, n;
	struct buf *err;
};

/* One owner's copy: a notice job to that owner (sealed), Reply-To the
 * sender, the sender's text inside. Owners are staff: no reply limit. */
static int forward_one(void *ctx, const char *addr)
{
	struct forward *f = ctx;
	struct address a;
	struct buf e;
	buf_init(&e, 256);
	int ok = address_parse(addr, strlen(addr), &a, &e) == 0;
	buf_free(&e);
	if (!ok)
		return 0;
	int64_t id = 0;
	f->r = jobs_create_single(&f->in->x, f->t->list_id, JOB_KIND_NOTICE, a.addr,
				  f->m->from.addr, f->subject, f->text, &id, f->err);
	address_free(&a);
	f->n += f->r == STORE_OK;
	return f->r != STORE_OK;
}

/* LIST-owner@: a copy to each owner; answered by them, not by us. */
static int to_owners(struct intake *in, const struct intake_target *t, const struct inmail *m,
		     struct buf *err)
{
	struct buf subject, text;
	buf_init(&subject, LK_MAX_LINE_OCTETS);
	buf_init(&text, LK_MAX_COMMAND_TEXT + 4096);
	buf_printf(&subject, "[%s-owner] ", t->list);
	/* the subject is the sender's: one line, bounded */
	const char *subj = m->subject != NULL ? m->subject : "";
	if (!utf8_valid(subj, strlen(subj), NULL))
		subj = "(a subject that is not UTF-8)";
	/* cut at a character's start, past 200 bytes */
	for (const char *p = subj; *p && (subject.len < 200 || ((unsigned char)*p & 0xC0) == 0x80);
	     p++)
		buf_putc(&subject, (unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p);
	buf_printf(&text, "A message to the owners of %s (", t->title[0] ? t->title : t->list);
	if (listaddr_build(&text, LISTADDR_OWNER, t->list, t->domain, NULL) < 0)
		text.err = 1;
	buf_printf(&text,
		   "), from\n  %s\n"
		   "Reply to this message to answer its sender.\n\n"
		   "----------------------------------------------------------------\n",
		   m->from.addr);
	if (m->text != NULL && utf8_valid(m->text, m->text_len, NULL))
		buf_append(&text, m->text, m->text_len);
	else if (m->text != NULL)
		buf_puts(&text, "(the text is not UTF-8: ask the sender)\n");
	else
		buf_puts(&text, "(no plain text in the message)\n");
	struct forward f = {in, t, m, buf_cstr(&subject), buf_cstr(&text), STORE_OK, 0, err};
	int r = subject.err || text.err ? STORE_ERR : store_begin(in->st);
	if (r == STORE_OK) {
		lists_each_owner(t->owners, forward_one, &f);
		r = f.r;
	}
	if (r == STORE_OK)
		r = store_commit(in->st);
	if (r != STORE_OK) {
		log_warnx("intake: owner list=%s failed: %s", t->list,
			  err->len ? buf_cstr(err) : store_errmsg(in->st));
		store_rollback(in->st);
	} else {
		log_info("intake: owner list=%s outcome=forwarded owners=%d", t->list, f.n);
	}
	buf_free(&subject);
	buf_free(&text);
	return r;
}

/* Renders mail template name of the intake's templates with v into subject
 * and text. STORE_OK, or STORE_ERR with the reason in err (a template that
 * fails: the MTA tries again). */
static int answer_render(struct intake *in, const char *name, const struct tmpl_vars *v,
			 struct buf *subject, struct buf *text, struct buf *err)
{
	char *subj = NULL, *body = NULL;
	int r = jobs_mail_text(&in->x, name, v, &subj, &body, err);
	if (r == STORE_OK) {
		buf_puts(subject, subj);
		buf_puts(text, body);
		if (subject->err || text->err) {
			buf_printf(err, "template %s: the answer is too long", name);
			r = STORE_ERR;
		}
	}
	free(subj);
	if (body != NULL)
		xfree_wipe(body, strlen(body)); /* it may hold the address */
	return r;
}

/* The reply to a post to an announcement list: mail_post_refused.txt, with
 * owner set when the sender is one of the list's owners. */
static int post_text(struct intake *in, const struct intake_target *t, const struct inmail *m,
		     struct buf *subject, struct buf *text, struct buf *err)
{
	enum { ADDR = LK_MAX_LIST_NAME + sizeof("-request@") + LK_MAX_DOMAIN }; /* room for each */
	struct buf to, owners, request;
	buf_init(&to, ADDR);
	buf_init(&owners, ADDR);
	buf_init(&request, ADDR);
	if (listaddr_build(&to, LISTADDR_POST, t->list, t->domain, NULL) < 0)
		to.err = 1;
	if (listaddr_build(&owners, LISTADDR_OWNER, t->list, t->domain, NULL) < 0)
		owners.err = 1;
	if (listaddr_build(&request, LISTADDR_REQUEST, t->list, t->domain, NULL) < 0)
		request.err = 1;
	struct tmpl_vars *v = tmpl_vars_new();
	tmpl_put(v, "email", m->from.addr);
	tmpl_put(v, "list", t->list);
	tmpl_put(v, "list_title", t->title[0] ? t->title : t->list);
	tmpl_put(v, "to", buf_cstr(&to));
	tmpl_put(v, "owners_address", buf_cstr(&owners));
	tmpl_put(v, "request_address", buf_cstr(&request));
	tmpl_put_bool(v, "owner", lists_each_owner(t->owners, is_this, (void *)m->from.addr));
	int r = to.err || owners.err || request.err
		    ? STORE_ERR
		    : answer_render(in, "mail_post_refused.txt", v, subject, text, err);
	tmpl_vars_free(v);
	buf_free(&to);
	buf_free(&owners);
	buf_free(&request);
	return r;
}

/* The answer to commands: mail_answer.txt of the intake's templates around
 * the lines that mailcmd wrote (env: the sender, and whether a line was not
 * understood). STORE_OK, or STORE_ERR as answer_render. */
static int answer_text(struct intake *in, const struct intake_target *t, const struct inmail *m,
		       const struct mailcmd_env *env, const struct buf *lines, struct buf *subject,
		       struct buf *text, struct buf *err)
{
	struct buf to;
	buf_init(&to, LK_MAX_ADDRESS + 1);
	/* the address the person wrote to (a LIST-confirm+ one with its token) */
	int rc =
	    t->kind == LISTADDR_COMMAND
		? listaddr_build(&to, LISTADDR_COMMAND,
				 conf_get(in->conf, "intake", "command_address"), t->domain, NULL)
		: listaddr_build(&to, t->kind, t->list, t->domain,
				 t->kind == LISTADDR_CONFIRM ? t->token : NULL);
	if (rc < 0)
		to.err = 1;
	size_t n = lines->len;
	if (n > 0 && lines->data[n - 1] == '\n') /* the template ends the line */
		n--;
	struct tmpl_vars *v = tmpl_vars_new();
	tmpl_put(v, "email", m->from.addr);
	tmpl_put(v, "to", buf_cstr(&to));
	tmpl_put(v, "list", t->kind == LISTADDR_COMMAND ? "" : t->list);
	tmpl_putn(v, "answers", lines->data != NULL ? lines->data : "", n);
	tmpl_put_bool(v, "errors", env->unclear);
	int r = to.err ? STORE_ERR : answer_render(in, "mail_answer.txt", v, subject, text, err);
	tmpl_vars_free(v);
	buf_free(&to);
	return r;
}

/* Mail that a person sent us and that gets one answer: commands, a
 * confirmation by reply, a post to an announcement list. All of it in one
 * transaction with the answer, so that a store error changes nothing and
 * the MTA tries again later. */
static int answered(struct intake *in, const struct intake_target *t, const char *msg, size_t len)
{
	struct inmail m;
	if (inmail_read(msg, len, &m) < 0) {
		log_info("intake: %s list=%s outcome=dropped reason=unreadable",
			 listaddr_role_name(t->kind), t->list);
		return STORE_OK;
	}
	const char *why = inmail_no_answer(&m);
	if (why != NULL) {
		/* RFC 3834: never answer a robot, a list, or nobody; and carry out
		 * nothing for them either (a vacation reply must not confirm). */
		log_info("intake: %s list=%s outcome=not-answered reason=%s",
			 listaddr_role_name(t->kind), t->list, why);
		inmail_free(&m);
		return STORE_OK;
	}
	struct buf text, err, subject;
	buf_init(&text, LK_MAX_MESSAGE / 4); /* the frame of mail_answer.txt with 64 KiB of lines */
	buf_init(&err, 1024);
	buf_init(&subject, LK_MAX_LINE_OCTETS);
	if (t->kind == LISTADDR_OWNER) {
		int r = to_owners(in, t, &m, &err);
		buf_free(&text);
		buf_free(&err);
		buf_free(&subject);
		inmail_free(&m);
		return r;
	}
	struct mailcmd_env env = {
	    &in->x,  in->conf, t->domain, t->kind == LISTADDR_REQUEST ? t->list : NULL,
	    &m.from, 0,	       0};
	int r = store_begin(in->st);
	if (r == STORE_OK && t->kind == LISTADDR_POST) {
		r = post_text(in, t, &m, &subject, &text, &err);
	} else if (r == STORE_OK) {
		struct buf lines;
		buf_init(&lines, 64 << 10);
		int rc =
		    t->kind == LISTADDR_CONFIRM
			? mailcmd_token(&env, t->token, strlen(t->token), t->list_id, &lines, &err)
			: mailcmd_run(&env, m.subject, m.text, m.text_len, &lines, &err);
		if (rc < 0)
			r = STORE_ERR;
		else if (lines.err)
			text.err = 1; /* too long to answer; what was done stays done */
		else
			r = answer_text(in, t, &m, &env, &lines, &subject, &text, &err);
		buf_free(&lines);
	}
	int sent = 0;
	if (r == STORE_OK && !text.err)
		r = answer_queue(&in->x, in->conf, t->list_id, JOB_KIND_REPLY, &m.from, NULL,
				 buf_cstr(&subject), buf_cstr(&text), &sent, &err);
	if (r == STORE_OK)
		r = store_commit(in->st);
	if (r != STORE_OK) {
		log_warnx("intake: %s list=%s failed: %s", listaddr_role_name(t->kind), t->list,
			  err.len ? buf_cstr(&err) : store_errmsg(in->st));
		store_rollback(in->st);
	} else {
		log_info("intake: %s list=%s outcome=%s", listaddr_role_name(t->kind), t->list,
			 sent ? "answered" : "reply-limited");
		if (env.erased && store_scrub(in->st) != STORE_OK)
			log_warnx("intake: store_scrub after an erasure failed: %s",
				  store_errmsg(in->st));
	}
	buf_free(&text);
	buf_free(&err);
	buf_free(&subject);
	inmail_free(&m);
	return r;
}

/* --- messages ---------------------------------------------------------------- */

/* A post to a discussion list (intake/postin.h). */
static enum intake_verdict post(struct intake *in, const struct intake_target *t, const char *msg,
				size_t len, struct intake_result *res)
{
	if (!in->fc_ok)
		return tempfail(res);
	struct list_rec l;
	memset(&l, 0, sizeof(l));
	int r = store_list_get_id(in->st, t->list_id, &l);
	if (r == STORE_NOTFOUND) { /* deleted since RCPT */
		list_rec_free(&l);
		return unknown(res);
	}
	if (r != STORE_OK) {
		list_rec_free(&l);
		return tempfail(res);
	}
	enum intake_verdict v = postin_handle(&in->x, in->conf, &in->fc, &l, msg, len, res);
	list_rec_free(&l);
	return v;
}

enum intake_verdict intake_deliver(struct intake *in, struct intake_target *t, const char *msg,
				   size_t len, struct intake_result *res)
{
	int r = STORE_OK;
	if (t->kind == LISTADDR_POST && t->discussion)
		return post(in, t, msg, len, res);
	if (t->kind == LISTADDR_CONFIRM && t->mod)
		return postin_reply(&in->x, in->conf, t->list_id, t->subscriber_id, msg, len, res);
	switch (t->kind) {
	case LISTADDR_UNSUBSCRIBE:
		r = unsubscribe(in, t, "email");
		break;
	case LISTADDR_BOUNCES:
		r = bounce(in, t, msg, len);
		break;
	case LISTADDR_CONFIRM:
	case LISTADDR_REQUEST:
	case LISTADDR_COMMAND:
	case LISTADDR_POST:
	case LISTADDR_OWNER:
		r = answered(in, t, msg, len);
		break;
	}
	if (r != STORE_OK)
		return tempfail(res);
	return say(res, INTAKE_OK, "250 2.0.0 Ok");
}
