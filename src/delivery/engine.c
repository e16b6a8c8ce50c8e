/*
 * engine.c - the delivery engine (see engine.h).
 *
 * TRUST: recipients' personal data is decrypted here, used to compose their
 * message and wiped with the batch; the relay's replies are untrusted and
 * reach the store only as codes and printable text (delivery/relay.c). Logs
 * name jobs, lists and counts, never a recipient.
 */
#include "delivery/engine.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <errno.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "crypto/hash.h"
#include "crypto/rand.h"
#include "crypto/token.h"
#include "delivery/relay.h"
#include "delivery/workpool.h"
#include "lists/bounces.h"
#include "lists/jobs.h"
#include "lists/joblife.h"
#include "lists/lists.h"
#include "lists/person.h"
#include "mail/bounce_class.h"
#include "mail/compose.h"
#include "mail/dkim.h"
#include "mail/distrib.h"
#include "mail/listaddr.h"

/* One slot of a batch. The engine's thread fills the first fields from the
 * store and posts the slot to the pool; a worker composes and signs it into
 * msg and sets mail_from and rcpt, or sets failed. */
struct recip {
	int64_t sub_id;
	int from_retry;
	int attempts; /* -1: no longer wanted, nothing to compose (dropped) */
	int64_t first_at;
	int sealed;		   /* the job's sealed recipient (prepare_sealed) */
	struct subscriber_rec who; /* a copy for composition, wiped with the batch */
	int failed;		   /* could not be composed: not sent, counted failed */
	char *mail_from;
	char *rcpt;
	struct buf msg;
};

#define DKIM_MAX_SIGNERS 2 /* [dkim] selector, and selector2 (dual signing) */

/* What one pool thread owns: its composition buffer and its DKIM signers
 * (thread-compatible, so one set per thread). */
struct worker {
	struct buf tmp;
	struct dkim_signer *dkim[DKIM_MAX_SIGNERS];
	char *dkim_domain; /* the d= of its current signers */
};

struct engine {
	const struct conf *c;
	struct store *st;
	const struct keys *k;
	struct lists_ctx x;
	struct relay *relay;
	size_t ndkim;			  /* signatures per message: 0, 1 or 2 */
	char *dkim_key[DKIM_MAX_SIGNERS]; /* [dkim] key_file(2), resolved */
	const char *dkim_sel[DKIM_MAX_SIGNERS];
	int dkim_fixed; /* [dkim] domain is set: always sign with it */
	struct worker *w;
	size_t nw;
	struct workpool *pool;
	const struct job_rec *job; /* the batch being composed, for the workers */
	const struct list_rec *list;
	size_t bmax;
	int down_count;
	const char *base_url;
	int64_t retry_base, retry_max, confirm_ttl, request_ttl;
	char owner[128]; /* this sender, for job leases: host:pid:random */
	int64_t lease_secs;
	struct recip *r;
	size_t n;
	struct buf post; /* a distribution's post, opened once per batch (wiped) */
	int post_ok;
	struct relay_msg *m;
	struct relay_status *s;
};

struct stale {
	const char *host; /* this host's part of e->owner, with its ':' */
	size_t host_len;
	int64_t ids[64];
	size_t n;
};

/* A lease held by a process of this host that no longer exists (killed -9):
 * its batch may have been sent or not; the cursor says what was committed. */
static int find_stale(void *ctx, const struct job_rec *j)
{
	struct stale *st = ctx;
	if (j->lease_until == 0 || strncmp(j->lease_owner, st->host, st->host_len) != 0)
		return 0;
	size_t hl = st->host_len - 1;
	long pid = strtol(j->lease_owner + hl + 1, NULL, 10);
	if (pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH && st->n < 64)
		st->ids[st->n++] = j->id;
	return 0;
}

static void reap_stale_leases(struct engine *e)
{
	/* e->owner is "host:pid:random"; a lease of ours names the same host. */
	const char *colon = strchr(e->owner, ':');
	struct stale st = {e->owner, colon ? (size_t)(colon - e->owner) + 1 : 0, {0}, 0};
	if (st.host_len == 0)
		return;
	if (store_job_each(e->st, find_stale, &st) != STORE_OK || st.n == 0)
		return;
	struct buf err;
	buf_init(&err, 512);
	for (size_t i = 0; i < st.n; i++) {
		buf_reset(&err);
		if (joblife_release(&e->x, st.ids[i], &err) == STORE_OK)
			log_info("job=%lld: lease of a sender that died is released",
				 (long long)st.ids[i]);
	}
	buf_free(&err);
}

/* (Re)makes worker w's signers for domain. 0, or -1 with the reason in err
 * (the old signers kept). */
static int worker_signers(struct engine *e, struct worker *w, const char *domain, struct buf *err)
{
	struct dkim_signer *ns[DKIM_MAX_SIGNERS] = {0};
	for (size_t k = 0; k < e->ndkim; k++) {
		ns[k] = dkim_signer_new(e->dkim_key[k], e->dkim_sel[k], domain, err);
		if (ns[k] == NULL) {
			for (size_t i = 0; i < k; i++)
				dkim_signer_free(ns[i]);
			return -1;
		}
	}
	for (size_t k = 0; k < DKIM_MAX_SIGNERS; k++) {
		dkim_signer_free(w->dkim[k]);
		w->dkim[k] = ns[k];
	}
	free(w->dkim_domain);
	w->dkim_domain = xstrdup(domain);
	return 0;
}

/* The signers of [dkim] selector (and selector2, for a second signature on
 * every message, e.g. Ed25519 beside RSA: RFC 8463 section 1), made now for
 * every worker so that a bad key stops the start. With no [dkim] domain each
 * list's messages are signed with the list's own domain (DMARC alignment),
 * a worker's signers made again when the domain changes. */
static int dkim_setup(struct engine *e, const struct conf *c, struct buf *err)
{
	static const char *const sel_key[DKIM_MAX_SIGNERS][2] = {{"selector", "key_file"},
								 {"selector2", "key_file2"}};
	for (size_t k = 0; k < DKIM_MAX_SIGNERS; k++) {
		const char *sel = conf_get(c, "dkim", sel_key[k][0]);
		if (sel[0] == '\0')
			continue;
		if (k > 0 && e->ndkim == 0) {
			buf_printf(err, "[dkim] selector2 is set but selector is not: set selector "
					"first (selector2 adds a second signature)");
			return -1;
		}
		e->dkim_sel[e->ndkim] = sel;
		e->dkim_key[e->ndkim] = conf_get_path(c, "dkim", sel_key[k][1]);
		e->ndkim++;
	}
	if (e->ndkim == 0)
		return 0;
	const char *dom = conf_get(c, "dkim", "domain");
	e->dkim_fixed = dom[0] != '\0';
	if (!e->dkim_fixed)
		dom = conf_get(c, "general", "domain");
	for (size_t i = 0; i < e->nw; i++)
		if (worker_signers(e, &e->w[i], dom, err) < 0)
			return -1;
	return 0;
}

static void compose_one(void *ctx, size_t worker, size_t item);

struct engine *engine_new(const struct conf *c, struct store *st, const struct keys *k,
			  struct buf *err)
{
	struct engine *e = xcalloc(1, sizeof(*e));
	e->c = c;
	e->st = st;
	e->k = k;
	e->x.st = st;
	e->x.keys = k;
	e->x.policy_version = conf_get(c, "general", "consent_version");
	e->x.actor = "delivery";
	e->base_url = conf_get(c, "general", "base_url");
	e->retry_base = conf_get_int(c, "delivery", "retry_base_seconds");
	e->retry_max = conf_get_int(c, "delivery", "retry_max_hours") * 3600;
	e->confirm_ttl = conf_get_int(c, "tokens", "confirm_ttl_hours") * 3600;
	e->request_ttl = conf_get_int(c, "tokens", "request_ttl_hours") * 3600;
	/* A lease outlives one batch with room to spare: a batch takes at most a
	 * few relay timeouts. */
	e->lease_secs = 3 * conf_get_int(c, "delivery", "timeout_seconds") + 60;
	{
		char host[64] = "localhost";
		uint8_t rnd[4];
		char rh[9];
		gethostname(host, sizeof(host) - 1);
		host[sizeof(host) - 1] = '\0';
		rand_bytes(rnd, sizeof(rnd));
		hex_encode(rnd, sizeof(rnd), rh);
		bsnprintf(e->owner, sizeof(e->owner), "%s:%d:%s", host, (int)getpid(), rh);
	}
	e->relay = relay_open(c, err);
	if (e->relay == NULL) {
		free(e);
		return NULL;
	}
	e->bmax = relay_batch_max(e->relay);
	/* [delivery] workers threads compose and sign (0: one per core); more
	 * than a batch's messages would have nothing to do. */
	int64_t nw = conf_get_int(c, "delivery", "workers");
	if (nw <= 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		nw = cores > 0 ? cores : 1;
	}
	e->nw = (size_t)nw < e->bmax ? (size_t)nw : e->bmax;
	e->w = xcalloc(e->nw, sizeof(*e->w));
	for (size_t i = 0; i < e->nw; i++)
		buf_init(&e->w[i].tmp, LK_MAX_MESSAGE);
	if (dkim_setup(e, c, err) < 0) {
		engine_free(e);
		return NULL;
	}
	e->r = xcalloc(e->bmax, sizeof(*e->r));
	e->m = xcalloc(e->bmax, sizeof(*e->m));
	e->s = xcalloc(e->bmax, sizeof(*e->s));
	for (size_t i = 0; i < e->bmax; i++)
		buf_init(&e->r[i].msg, LK_MAX_MESSAGE + 4096 * DKIM_MAX_SIGNERS);
	buf_init(&e->post, LK_MAX_MESSAGE);
	e->pool = workpool_new(e->nw, e->bmax, compose_one, e);
	reap_stale_leases(e);
	return e;
}

static void batch_clear(struct engine *e)
{
	for (size_t i = 0; i < e->n; i++) {
		struct recip *r = &e->r[i];
		buf_reset(&r->msg); /* wipes the composed message */
		free(r->mail_from);
		if (r->rcpt != NULL)
			xfree_wipe(r->rcpt, strlen(r->rcpt));
		r->mail_from = r->rcpt = NULL;
		if (r->who.data != NULL)
			xfree_wipe(r->who.data, r->who.data_len);
		explicit_bzero(&r->who, sizeof(r->who));
		r->sealed = r->failed = 0;
	}
	e->n = 0;
}

void engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	workpool_free(e->pool);
	if (e->r != NULL) {
		batch_clear(e);
		for (size_t i = 0; i < e->bmax; i++)
			buf_free(&e->r[i].msg);
	}
	free(e->r);
	free(e->m);
	free(e->s);
	for (size_t i = 0; i < e->nw; i++) {
		buf_free(&e->w[i].tmp);
		for (size_t k = 0; k < DKIM_MAX_SIGNERS; k++)
			dkim_signer_free(e->w[i].dkim[k]);
		free(e->w[i].dkim_domain);
	}
	free(e->w);
	buf_free(&e->post);
	for (size_t k = 0; k < DKIM_MAX_SIGNERS; k++)
		free(e->dkim_key[k]);
	relay_close(e->relay);
	free(e);
}

struct ctx {
	struct engine *e;
	const struct job_rec *job;
	const struct list_rec *l;
	int64_t last_new; /* the highest subscriber id taken from the list */
	size_t new_count;
	int failed;
};

/* Signs w->tmp (when DKIM is configured: one signature per signer; the
 * signers follow the list's domain unless [dkim] domain fixes it) into
 * r->msg, then the message. */
static int sign_into(struct engine *e, struct worker *w, const char *domain, struct recip *r,
		     struct buf *err)
{
	int rc = 0;
	if (e->ndkim > 0 && !e->dkim_fixed && strcmp(w->dkim_domain, domain) != 0)
		rc = worker_signers(e, w, domain, err);
	for (size_t k = 0; rc == 0 && k < e->ndkim; k++)
		rc = dkim_signer_sign(w->dkim[k], w->tmp.data, w->tmp.len, &r->msg, err);
	if (rc == 0)
		rc = buf_append(&r->msg, w->tmp.data, w->tmp.len);
	return rc;
}

/* Composes the message of a job with a sealed recipient (lists/jobs.h: a
 * reply to a command, or a command's confirmation request) into the next
 * batch slot. Its envelope sender is null (RFC 3834 section 3.3): nothing
 * bounces back to a robot. */
static int prepare_sealed(struct engine *e, struct worker *w, struct recip *r)
{
	const struct job_rec *j = e->job;
	const struct list_rec *l = e->list;
	char *to = NULL, *reply_to = NULL;
	if (jobs_rcpt_open(e->k, j, &to, &reply_to) < 0) {
		log_warnx("job=%lld: the sealed recipient does not open; skipped",
			  (long long)j->id);
		return -1;
	}
	struct buf from, id, err;
	buf_init(&from, 512);
	buf_init(&id, 512);
	buf_init(&err, 512);
	if (l->id != 0)
		listaddr_build(&from, LISTADDR_REQUEST, l->name, l->domain, NULL);
	else
		listaddr_build(&from, LISTADDR_COMMAND, conf_get(e->c, "intake", "command_address"),
			       l->domain, NULL);
	listaddr_message_id(&id, j->id, 0, l->domain);
	int64_t t = clock_now();
	struct compose_reply_in in = {0};
	in.from_name = l->id != 0 ? l->title : conf_get(e->c, "general", "site_name");
	in.from_addr = buf_cstr(&from);
	in.to_addr = to;
	in.reply_to = reply_to;
	in.subject = j->subject;
	in.text = j->body_text;
	in.message_id = buf_cstr(&id);
	in.date = t;
	buf_reset(&w->tmp);
	buf_reset(&r->msg);
	int rc = compose_reply(&in, &w->tmp, &err);
	if (rc == 0)
		rc = sign_into(e, w, l->domain, r, &err);
	if (rc < 0) {
		log_warnx("job=%lld: cannot compose: %s", (long long)j->id, buf_cstr(&err));
		jobs_rcpt_free(to, reply_to);
	} else {
		r->mail_from = xstrdup("");
		r->rcpt = to;
		jobs_rcpt_free(NULL, reply_to);
	}
	buf_free(&from);
	buf_free(&id);
	buf_free(&err);
	return rc;
}

/* Composes the message for one recipient into the next batch slot. */
static int prepare(struct engine *e, struct worker *w, struct recip *r)
{
	const struct job_rec *j = e->job;
	const struct list_rec *l = e->list;
	const struct subscriber_rec *who = &r->who;
	struct person p;
	int confirm = j->kind == JOB_KIND_CONFIRM;
	int request = j->kind == JOB_KIND_REQUEST; /* the link to the person's data page */
	int personal = confirm || request;	   /* about the person: text only, no pixel */
	if (lists_person_load(&e->x, who, &p) < 0) {
		log_warnx("job=%lld subscriber=%lld: personal data does not open; skipped",
			  (long long)j->id, (long long)who->id);
		return -1;
	}
	struct buf text, extra;
	buf_init(&text, LK_MAX_MESSAGE);
	buf_init(&extra, 2048);
	int64_t t = clock_now();
	struct listaddr_links ln;
	listaddr_links_init(&ln);
	/* The pixel names the job and a keyed hash of the recipient, with a MAC:
	 * enough to count unique opens, nothing that says who opened (P5). */
	struct listaddr_rcpt lr = {
	    .list_name = l->name,
	    .domain = l->domain,
	    .list_id = l->id,
	    .job_id = j->id,
	    .subscriber_id = who->id,
	    .pixel = !personal && who->html && who->tracking && l->tracking && j->body_html != NULL,
	    .action = confirm	? TOKEN_CONFIRM
		      : request ? TOKEN_REQUEST
				: 0,
	    .action_expires = t + (confirm ? e->confirm_ttl : e->request_ttl),
	};
	int links = listaddr_links_make(&ln, e->k, e->base_url, &lr);
	const char *body = j->body_text, *subj = j->subject;
	if (confirm) {
		/* A reply confirms too (intake: LIST-confirm+TOKEN@DOMAIN, the
		 * token in its expiring address form). */
		if (ln.reply_to.len)
			buf_printf(&extra, "Reply-To: %s\r\n", buf_cstr(&ln.reply_to));
		const char *names[] = {"confirm_url"};
		const char *vals[] = {buf_cstr(&ln.action_url)};
		compose_merge(&text, body, strlen(body), names, vals, 1, 0);
		body = buf_cstr(&text);
	} else if (request) {
		const char *names[] = {"request_url"};
		const char *vals[] = {buf_cstr(&ln.action_url)};
		compose_merge(&text, body, strlen(body), names, vals, 1, 0);
		body = buf_cstr(&text);
	}
	struct buf err;
	buf_init(&err, 512);
	buf_reset(&w->tmp);
	buf_reset(&r->msg);
	int rc;
	if (j->kind == JOB_KIND_DISTRIBUTION) {
		/* the post as prepared once (mail/distrib.h), with this member's
		 * List-Unsubscribe and footer */
		struct distrib_rcpt dr = {
		    buf_cstr(&ln.unsubscribe_url), buf_cstr(&ln.unsubscribe_mailto),
		    buf_cstr(&ln.preferences_url), l->footer, l->postal_address};
		rc = links < 0 || !e->post_ok
			 ? -1
			 : distrib_compose(e->post.data, e->post.len, &dr, &w->tmp, &err);
		if (links < 0 || !e->post_ok)
			buf_puts(&err, links < 0 ? "its links cannot be made" : "no post");
	} else {
		struct compose_in in = {0};
		in.list_name = l->name;
		in.list_domain = l->domain;
		in.list_title = l->title;
		in.list_footer = l->footer;
		in.postal_address = l->postal_address;
		in.from_addr = buf_cstr(&ln.from);
		in.announce = l->kind == LIST_KIND_ANNOUNCE;
		in.subject = subj;
		in.text = body;
		in.html = personal ? NULL : j->body_html;
		in.message_id = buf_cstr(&ln.message_id);
		in.date = t;
		in.rcpt_addr = p.address;
		in.rcpt_name = p.name;
		in.rcpt_html = who->html;
		in.rcpt_tracking = who->tracking;
		in.list_tracking = l->tracking;
		in.unsubscribe_url = buf_cstr(&ln.unsubscribe_url);
		in.unsubscribe_mailto = buf_cstr(&ln.unsubscribe_mailto);
		in.preferences_url = buf_cstr(&ln.preferences_url);
		in.pixel_url = ln.pixel_url.len ? buf_cstr(&ln.pixel_url) : NULL;
		in.extra_headers = extra.len ? buf_cstr(&extra) : NULL;
		rc = links < 0 ? -1 : compose_message(&in, &w->tmp, &err);
		if (links < 0)
			buf_puts(&err, "its links cannot be made");
	}
	if (rc == 0)
		rc = sign_into(e, w, l->domain, r, &err);
	if (rc < 0)
		log_warnx("job=%lld subscriber=%lld: cannot compose: %s", (long long)j->id,
			  (long long)who->id, buf_cstr(&err));
	if (rc == 0) {
		r->mail_from = buf_steal(&ln.verp, NULL);
		r->rcpt = xstrdup(p.address);
	}
	buf_free(&err);
	buf_free(&text);
	buf_free(&extra);
	listaddr_links_free(&ln);
	person_free(&p);
	return rc;
}

/* A pool thread: composes and signs batch slot `item`. */
static void compose_one(void *ctx, size_t worker, size_t item)
{
	struct engine *e = ctx;
	struct recip *r = &e->r[item];
	int rc = r->sealed ? prepare_sealed(e, &e->w[worker], r) : prepare(e, &e->w[worker], r);
	r->failed = rc < 0;
}

/* Fills the next batch slot and posts it to the pool, which composes it
 * while this thread reads on. who (may be NULL for a sealed recipient) is
 * moved into the slot when own, else copied. */
static void post(struct engine *e, struct subscriber_rec *who, int own, int from_retry,
		 int attempts, int64_t first_at)
{
	struct recip *r = &e->r[e->n];
	r->sub_id = who != NULL ? who->id : 0;
	r->from_retry = from_retry;
	r->attempts = attempts;
	r->first_at = first_at ? first_at : clock_now();
	r->sealed = who == NULL;
	r->failed = 0;
	if (who != NULL) {
		r->who = *who;
		if (own)
			memset(who, 0, sizeof(*who));
		else if (who->data != NULL)
			r->who.data = (uint8_t *)xmemdup(who->data, who->data_len);
	}
	workpool_post(e->pool, e->n);
	e->n++;
}

/* Composed and wanted: handed to the relay. */
static int to_send(const struct recip *r)
{
	return r->attempts >= 0 && !r->failed;
}

static int take_member(void *ctx, const struct subscription_rec *sub,
		       const struct subscriber_rec *who)
{
	struct ctx *cx = ctx;
	cx->last_new = sub->subscriber_id;
	cx->new_count++;
	post(cx->e, (struct subscriber_rec *)who, 0, 0, 0, 0);
	return 0;
}

/* May this subscriber still receive this job's message? */
static int still_wanted(struct engine *e, const struct job_rec *j, const struct list_rec *l,
			const struct subscriber_rec *who)
{
	struct subscription_rec sub;
	if (j->kind == JOB_KIND_REQUEST) /* asked by the person: the subscriber exists */
		return 1;
	if (store_subscription_get(e->st, l->id, who->id, &sub) != STORE_OK)
		return 0;
	if (j->kind == JOB_KIND_CONFIRM)
		return sub.state == SUB_STATE_PENDING;
	if (sub.state != SUB_STATE_ACTIVE || sub.nomail)
		return 0;
	return store_suppression_check(e->st, who->addr_hash, l->id) == STORE_NOTFOUND;
}

static int take_retry(void *ctx, const struct retry_rec *rr)
{
	struct ctx *cx = ctx;
	if (jobs_is_single(cx->job)) {
		post(cx->e, NULL, 0, 1, rr->attempts, rr->first_at);
		return cx->e->n >= cx->e->bmax;
	}
	struct subscriber_rec who = {0};
	int gone = store_subscriber_get(cx->e->st, rr->subscriber_id, &who) != STORE_OK ||
		   !still_wanted(cx->e, cx->job, cx->l, &who);
	if (gone) {
		/* left the list or erased meanwhile: nothing to send; forget it */
		struct recip *r = &cx->e->r[cx->e->n++];
		r->sub_id = rr->subscriber_id;
		r->from_retry = 1;
		r->attempts = -1; /* marker: drop */
	} else {
		post(cx->e, &who, 1, 1, rr->attempts, rr->first_at);
	}
	subscriber_rec_free(&who);
	return cx->e->n >= cx->e->bmax;
}

static int64_t backoff(const struct engine *e, int attempts)
{
	int64_t d = e->retry_base;
	for (int i = 1; i < attempts && d < 4 * 3600; i++)
		d *= 2;
	return d < 4 * 3600 ? d : 4 * 3600;
}

/* A failure the relay's reply gives for one recipient (a 5xx at RCPT or
 * after DATA, or a 4xx deferral that ran out of time), inside commit_batch's
 * transaction, classified as intake classifies a DSN (mail/bounce_class.h:
 * one classifier for both) and scored the same way (lists/bounces.h):
 *   gone                      a hard bounce;
 *   unknown with a 5xx        a hard bounce too: the relay's own permanent
 *                             answer for this recipient, with no reason
 *                             that says it is ours (RFC 5321 4.2.1);
 *   full, temporary, or a 4xx that ran out of time: a soft bounce;
 *   sender-policy, rejected-content: never the subscriber's; counted on the
 *                             list and the day under the job, and by the
 *                             receiving domain when it is a big provider's
 *                             (lists_bounce_refused, as intake counts them:
 *                             job show, stats, summary, /metrics). */
static int relay_bounce(struct engine *e, const struct job_rec *j, const struct list_rec *l,
			int64_t sub_id, const char *rcpt, const struct relay_status *s, int expired,
			struct buf *err)
{
	const char *family = NULL;
	enum bounce_class cls = bounce_classify("", s->code, s->text, strlen(s->text), &family);
	if (cls == BOUNCE_SENDER_POLICY || cls == BOUNCE_REJECTED_CONTENT) {
		log_info(
		    "job=%lld list=%s subscriber=%lld refused at the relay: class=%s family=%s "
		    "outcome=counted",
		    (long long)j->id, l->name, (long long)sub_id, bounce_class_name(cls),
		    family ? family : "-");
		const char *at = rcpt != NULL ? strrchr(rcpt, '@') : NULL;
		return lists_bounce_refused(&e->x, l->id, j->id,
					    cls == BOUNCE_SENDER_POLICY
						? STORE_STAT_BOUNCE_SENDER_POLICY
						: STORE_STAT_BOUNCE_REJECTED_CONTENT,
					    at ? at + 1 : NULL, at ? strlen(at + 1) : 0);
	}
	int hard = !expired && (cls == BOUNCE_GONE || cls == BOUNCE_UNKNOWN);
	struct lists_bounce_policy p = {
	    conf_get_int(e->c, "bounce", "threshold"),
	    conf_get_int(e->c, "bounce", "decay_days") * 86400,
	    conf_get_int(e->c, "bounce", "soft_per_hard"),
	};
	enum lists_bounce_outcome outcome = LB_NOT_SUBSCRIBED;
	int64_t score = 0;
	int erased = 0;
	int r = hard ? lists_hard_bounce(&e->x, l, sub_id, &p, &outcome, &score, &erased, err)
		     : lists_soft_bounce(&e->x, l, sub_id, &p, &outcome, &score, &erased, err);
	if (r == STORE_NOTFOUND)
		return STORE_OK;
	if (r == STORE_OK)
		log_info("job=%lld list=%s subscriber=%lld %s bounce at the relay: class=%s "
			 "outcome=%s score=%lld",
			 (long long)j->id, l->name, (long long)sub_id, hard ? "hard" : "soft",
			 bounce_class_name(cls), lists_bounce_outcome_name(outcome),
			 (long long)score);
	if (r == STORE_OK && erased)
		r = store_scrub(e->st); /* done after the commit */
	return r;
}

/* The reason a failure that is not the recipient's is counted under on
 * the job (store_job_failure_add): the local one, or the origin. */
static const char *failure_reason(const struct relay_status *s)
{
	return s->origin == RELAY_ORIGIN_LOCAL ? relay_local_name(s->local)
					       : relay_origin_name(s->origin);
}

/* Records the outcome of a sent batch and the new cursor, in one transaction,
 * on the job as it is in the store now (re-read: it may have been paused or
 * cancelled meanwhile), and gives the lease back. */
static int commit_batch(struct engine *e, struct job_rec *j, const struct list_rec *l,
			struct ctx *cx, int exhausted, struct buf *err)
{
	int64_t t = clock_now(), ds = 0, df = 0;
	struct job_rec fresh = {0};
	int r = store_begin(e->st);
	if (r == STORE_OK)
		r = store_job_get(e->st, j->id, &fresh);
	for (size_t i = 0; r == STORE_OK && i < e->n; i++) {
		struct recip *rc = &e->r[i];
		if (rc->attempts < 0) { /* no longer wanted */
			r = store_retry_delete(e->st, j->id, rc->sub_id);
			continue;
		}
		if (rc->failed) /* not composed, not sent: counted in cx->failed */
			continue;
		struct relay_status *s = &e->s[i];
		enum relay_result res = s->result;
		if (res == RELAY_DEFER && t - rc->first_at >= e->retry_max)
			res = RELAY_FAIL;
		if (res == RELAY_SENT) {
			ds++;
			if (rc->from_retry)
				r = store_retry_delete(e->st, j->id, rc->sub_id);
		} else if (res == RELAY_DEFER) {
			struct retry_rec rr = {j->id,
					       rc->sub_id,
					       rc->attempts + 1,
					       rc->first_at,
					       t + backoff(e, rc->attempts + 1),
					       s->text};
			r = store_retry_put(e->st, &rr);
		} else {
			df++;
			if (rc->from_retry)
				r = store_retry_delete(e->st, j->id, rc->sub_id);
			/* The relay's 5xx, or a 4xx deferral that ran out of
			 * time: classified and scored as intake does a DSN
			 * (relay_bounce). A failure of ours (origin local) or of
			 * the way to the relay is the job's, counted there with
			 * its reason, never the subscriber's. */
			int expired = s->result == RELAY_DEFER;
			int remote = s->origin ==
				     (expired ? RELAY_ORIGIN_REMOTE_4XX : RELAY_ORIGIN_REMOTE_5XX);
			if (r == STORE_OK && remote &&
			    (j->kind == JOB_KIND_CAMPAIGN || j->kind == JOB_KIND_DISTRIBUTION))
				r = relay_bounce(e, j, l, rc->sub_id, rc->rcpt, s, expired, err);
			else if (r == STORE_OK && !remote)
				r = store_job_failure_add(e->st, j->id, failure_reason(s), 1);
		}
	}
	if (r == STORE_OK && cx->failed > 0)
		r = store_job_failure_add(e->st, j->id, relay_local_name(RELAY_LOCAL_COMPOSE),
					  (int64_t)cx->failed);
	int64_t pending = 0, next_at = 0;
	if (r == STORE_OK)
		r = store_retry_count(e->st, j->id, &pending, &next_at);
	if (r == STORE_OK) {
		fresh.sent += ds;
		fresh.failed += df + cx->failed;
		if (cx->new_count > 0 && cx->last_new > fresh.cursor)
			fresh.cursor = cx->last_new;
		joblife_batch_end(&fresh, exhausted, pending, next_at, t);
		r = store_job_update(e->st, &fresh);
	}
	if (r == STORE_OK)
		r = store_commit(e->st);
	if (r != STORE_OK) {
		buf_puts(err, store_errmsg(e->st));
		store_rollback(e->st);
		job_rec_free(&fresh);
		return -1;
	}
	if (fresh.state == JOB_STATE_DONE)
		log_info("job=%lld list=%s done sent=%lld failed=%lld", (long long)j->id, l->name,
			 (long long)fresh.sent, (long long)fresh.failed);
	job_rec_free(&fresh);
	return 0;
}

static int pause_down(struct engine *e, struct job_rec *j, const char *why, struct buf *err)
{
	int64_t t = clock_now();
	int64_t wait = e->retry_base < 30 ? e->retry_base : 30;
	for (int i = 0; i < e->down_count && wait < 600; i++)
		wait *= 2;
	if (wait > 600)
		wait = 600;
	e->down_count++;
	char reason[300];
	bsnprintf(reason, sizeof(reason), "relay down: %s", why);
	if (joblife_relay_down(&e->x, j->id, reason, t + wait, err) < 0)
		return -1;
	log_warnx("job=%lld paused: %s; resuming in %llds", (long long)j->id, reason,
		  (long long)wait);
	return 0;
}

int engine_step(struct engine *e, int64_t only, int64_t *wait_until, struct buf *err)
{
	struct job_rec j = {0};
	struct list_rec l = {0};
	int64_t t = clock_now();
	int c = joblife_claim(&e->x, only, e->owner, e->lease_secs, &j, wait_until, err);
	if (c <= 0)
		return c;
	int ret = 1, r;
	if (j.list_id == 0 && jobs_is_single(&j)) {
		/* a reply from the server-wide command address */
		l.name = xstrdup("-");
		l.domain = xstrdup(conf_get(e->c, "general", "domain"));
	} else if (store_list_get_id(e->st, j.list_id, &l) != STORE_OK) {
		/* the list was deleted: nothing left to send */
		joblife_orphaned(&e->x, j.id, err);
		buf_reset(err);
		job_rec_free(&j);
		return 1;
	}
	struct ctx cx = {e, &j, &l, 0, 0, 0};
	batch_clear(e);
	buf_reset(&e->post);
	e->post_ok = j.kind != JOB_KIND_DISTRIBUTION || jobs_post_open(e->k, &j, &e->post) == 0;
	if (!e->post_ok)
		log_warnx("job=%lld: the sealed post does not open; its messages fail",
			  (long long)j.id);
	e->job = &j; /* what the pool composes for, until workpool_wait */
	e->list = &l;
	/* retries first, then new recipients after the cursor */
	r = store_retry_due(e->st, j.id, t, (int)e->bmax, take_retry, &cx);
	int exhausted = 0;
	size_t room = e->bmax - e->n;
	if (r == STORE_OK && room > 0) {
		if (jobs_is_single(&j)) {
			if (j.cursor < 1) {
				cx.last_new = 1;
				cx.new_count = 1;
				post(e, NULL, 0, 0, 0, 0);
			}
			exhausted = 1;
		} else if (j.recipient_id != 0) {
			if (j.cursor < j.recipient_id) {
				struct subscriber_rec who = {0};
				cx.last_new = j.recipient_id;
				cx.new_count = 1;
				if (store_subscriber_get(e->st, j.recipient_id, &who) == STORE_OK &&
				    still_wanted(e, &j, &l, &who))
					post(e, &who, 1, 0, 0, 0);
				subscriber_rec_free(&who);
			}
			exhausted = 1;
		} else {
			r = store_recipients_page(e->st, l.id, j.cursor, (int)room, take_member,
						  &cx);
			exhausted = cx.new_count < room;
		}
	}
	/* Every message of the batch composed and signed (or failed) before
	 * any is handed over: the crash bound stays one batch. */
	workpool_wait(e->pool);
	e->job = NULL;
	e->list = NULL;
	for (size_t i = 0; i < e->n; i++)
		cx.failed += e->r[i].failed;
	if (r != STORE_OK) {
		buf_puts(err, store_errmsg(e->st));
		ret = -1;
		goto out;
	}
	/* hand over what there is to send */
	size_t k = 0;
	for (size_t i = 0; i < e->n; i++) {
		if (!to_send(&e->r[i]))
			continue;
		e->m[k].mail_from = e->r[i].mail_from;
		e->m[k].rcpt_to = e->r[i].rcpt;
		e->m[k].data = e->r[i].msg.data;
		e->m[k].len = e->r[i].msg.len;
		k++;
	}
	struct relay_status *st = xcalloc(k ? k : 1, sizeof(*st));
	struct buf why;
	buf_init(&why, 256);
	if (k > 0 && relay_send(e->relay, e->m, k, st, &why) < 0) {
		free(st);
		ret = pause_down(e, &j, buf_cstr(&why), err) < 0 ? -1 : 1;
		buf_free(&why);
		goto out;
	}
	buf_free(&why);
	e->down_count = 0;
	/* spread the statuses back over the batch slots */
	for (size_t i = 0, m = 0; i < e->n; i++)
		if (to_send(&e->r[i]))
			e->s[i] = st[m++];
	free(st);
	if (commit_batch(e, &j, &l, &cx, exhausted, err) < 0)
		ret = -1;
out:
	batch_clear(e);
	buf_reset(&e->post);
	job_rec_free(&j);
	list_rec_free(&l);
	return ret;
}
