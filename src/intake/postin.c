/*
 * postin.c - a post to a discussion list taken in (postin.h).
 *
 * TRUST: the message is untrusted; it goes to post_check (post.c), to
 * distrib_prepare (mail/distrib.c), or sealed into the held table
 * (lists/held.c) as it came. The owners' notice shows the sender's address
 * and the subject (control characters made spaces, at most 200 bytes); logs
 * show neither.
 */
#include "intake/postin.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/nametab.h"
#include "core/tmpl.h"
#include "core/utf8.h"
#include "core/xmalloc.h"
#include "intake/answer.h"
#include "intake/archmsg.h"
#include "lists/archive.h"
#include "intake/post.h"
#include "lists/held.h"
#include "lists/jobs.h"
#include "mail/moderate.h"
#include "mail/listaddr.h"

/* The archive of every distributed post (lists/archive.h): parsed by
 * archmsg.h; one that does not parse is distributed all the same, and
 * logged. */
static int archive_one(void *ctx, struct lists_ctx *x, const struct list_rec *l, const char *post,
		       size_t len, struct buf *err)
{
	(void)ctx;
	struct archmsg a;
	struct buf why;
	buf_init(&why, 256);
	if (archmsg_parse(post, len, &a, &why) < 0) {
		log_warnx("intake: post list=%s not archived: %s", l->name, buf_cstr(&why));
		buf_free(&why);
		return STORE_OK;
	}
	buf_free(&why);
	enum archive_outcome out = ARCHIVE_STORED;
	int64_t id = 0;
	int r = archive_store(x, l, &a.m, &out, &id, err);
	archmsg_free(&a);
	if (r == STORE_OK && out == ARCHIVE_STORED)
		log_info("intake: post list=%s archived=%lld", l->name, (long long)id);
	else if (r == STORE_OK)
		log_info("intake: post list=%s not archived: %s", l->name,
			 out == ARCHIVE_DUPLICATE    ? "a duplicate Message-ID"
			 : out == ARCHIVE_NOT_WANTED ? "X-No-Archive"
						     : "the list keeps no archive");
	return r;
}

const struct moderate_hook postin_archive_hook = {archive_one, NULL};

static enum intake_verdict say(struct intake_result *res, enum intake_verdict v, const char *line)
{
	res->verdict = v;
	bsnprintf(res->line, sizeof(res->line), "%s", line);
	return v;
}

static enum intake_verdict tempfail(struct intake_result *res)
{
	return say(res, INTAKE_TEMPFAIL, "451 4.3.0 Temporary local problem, try again later");
}

/* A copy of the post's subject fit for a line of text. */
static void one_line(const char *z, struct buf *out)
{
	if (z == NULL || !utf8_valid(z, strlen(z), NULL)) {
		buf_puts(out, z == NULL ? "(none)" : "(a subject that is not UTF-8)");
		return;
	}
	/* cut at a character's start, past 200 bytes */
	for (const char *p = z; *p && (out->len < 200 || ((unsigned char)*p & 0xC0) == 0x80); p++)
		buf_putc(out, (unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p);
}

struct notice {
	struct lists_ctx *x;
	int64_t list_id;
	const char *reply_to; /* NULL: none */
	const char *subject, *text;
	int r, n;
	struct buf *err;
};

static int notice_one(void *ctx, const char *addr)
{
	struct notice *nt = ctx;
	int64_t id = 0;
	nt->r = jobs_create_single(nt->x, nt->list_id, JOB_KIND_NOTICE, addr, nt->reply_to,
				   nt->subject, nt->text, &id, nt->err);
	nt->n += nt->r == STORE_OK;
	return nt->r != STORE_OK;
}

/* Mail template name rendered with v, one notice to each owner of l (staff:
 * no reply limit), Reply-To reply_to (NULL: none). STORE_OK or a store
 * error. */
static int tell_owners(struct lists_ctx *x, const struct list_rec *l, const char *name,
		       const struct tmpl_vars *v, const char *reply_to, int *n, struct buf *err)
{
	*n = 0;
	if (l->owners == NULL || l->owners[0] == '\0')
		return STORE_OK;
	char *subject = NULL, *text = NULL;
	int r = jobs_mail_text(x, name, v, &subject, &text, err);
	if (r == STORE_OK) {
		struct notice nt = {x, l->id, reply_to, subject, text, STORE_OK, 0, err};
		lists_each_owner(l->owners, notice_one, &nt);
		r = nt.r;
		*n = nt.n;
	}
	free(subject);
	if (text != NULL)
		xfree_wipe(text, strlen(text));
	return r;
}

static struct tmpl_vars *list_vars(const struct list_rec *l)
{
	struct tmpl_vars *v = tmpl_vars_new();
	tmpl_put(v, "list", l->name);
	tmpl_put(v, "list_title", l->title != NULL && l->title[0] ? l->title : l->name);
	return v;
}

/* Into the moderation queue, and the owners told. */
static int hold(struct lists_ctx *x, const struct conf *conf, const struct list_rec *l,
		const struct post_decision *d, const char *msg, size_t len, int64_t *id,
		struct buf *err)
{
	struct inmail m;
	if (inmail_read(msg, len, &m) < 0 || m.from.addr == NULL) {
		inmail_free(&m);
		buf_puts(err, "the post has no usable From");
		return STORE_ERR;
	}
	int days = (int)conf_get_int(conf, "post", "hold_days");
	int r = held_put(x, l->id, post_reason_name(d->reason), d->detail, m.from.addr, m.from.key,
			 msg, len, days, id, err);
	struct buf rt;
	buf_init(&rt, LK_MAX_ADDRESS + 1);
	/* a reply to the notice decides (route.c): LIST-confirm+TOKEN@, the
	 * token naming this post, expiring with it */
	if (r == STORE_OK &&
	    listaddr_token_build(&rt, x->keys, TOKEN_MOD_APPROVE, l->name, l->id, l->domain, *id,
				 clock_now() + (int64_t)days * 86400) < 0)
		buf_reset(&rt); /* the commands still decide */
	if (r == STORE_OK) {
		struct buf subj;
		buf_init(&subj, 256);
		one_line(m.subject, &subj);
		struct tmpl_vars *v = list_vars(l);
		tmpl_put_int(v, "id", (long long)*id);
		tmpl_put(v, "reason", post_reason_name(d->reason));
		tmpl_put(v, "detail", d->detail);
		tmpl_put(v, "sender", m.from.addr);
		tmpl_put(v, "subject", buf_cstr(&subj));
		tmpl_put_int(v, "days", days);
		tmpl_put_bool(v, "by_reply", rt.len > 0);
		int n = 0;
		r = tell_owners(x, l, "mail_post_held.txt", v, rt.len ? buf_cstr(&rt) : NULL, &n,
				err);
		tmpl_vars_free(v);
		buf_free(&subj);
	}
	buf_free(&rt);
	inmail_free(&m);
	return r;
}

/* The sender told that the list does not take their post. */
static int reject(struct lists_ctx *x, const struct conf *conf, const struct list_rec *l,
		  const char *msg, size_t len, const char *reason, int *sent, struct buf *err)
{
	*sent = 0;
	struct inmail m;
	if (inmail_read(msg, len, &m) < 0 || m.from.addr == NULL || inmail_no_answer(&m) != NULL) {
		inmail_free(&m); /* a robot, a list, nobody: never answered (RFC 3834) */
		return STORE_OK;
	}
	char *subject = NULL, *text = NULL;
	int r = moderate_reject_text(x, l, reason, &subject, &text, err);
	if (r == STORE_OK)
		r = answer_queue(x, conf, l->id, JOB_KIND_REPLY, &m.from, NULL, subject, text, sent,
				 err);
	free(subject);
	if (text != NULL)
		xfree_wipe(text, strlen(text));
	inmail_free(&m);
	return r;
}

enum intake_verdict postin_handle(struct lists_ctx *x, const struct conf *conf,
				  const struct filter_conf *fc, const struct list_rec *l,
				  const char *msg, size_t len, struct intake_result *res)
{
	struct buf err;
	buf_init(&err, 1024);
	struct post_rules rules;
	struct post_scan scan;
	struct post_decision d;
	if (post_rules_load(conf, l, &rules, &err) < 0 ||
	    post_check(&rules, fc, x->keys, x->st, l, msg, len, &scan, &d, &err) < 0) {
		log_warnx("intake: post list=%s failed: %s", l->name, buf_cstr(&err));
		buf_free(&err);
		return tempfail(res);
	}
	enum intake_verdict v = INTAKE_OK;
	int r = STORE_OK, n = 0;
	int64_t id = 0;
	const char *outcome = post_action_name(d.action);
	switch (d.action) {
	case POST_ACCEPT: {
		int unfit = 0;
		r = moderate_distribute(x, conf, l, msg, len, &postin_archive_hook, &id, &unfit,
					&err);
		if (unfit) {
			/* a post distrib_prepare does not take: for the moderators */
			log_info("intake: post list=%s not distributable: %s", l->name,
				 buf_cstr(&err));
			buf_reset(&err);
			d.action = POST_HOLD;
			d.reason = POST_REASON_MALFORMED;
			bsnprintf(d.detail, sizeof(d.detail), "its header cannot be distributed");
			outcome = "hold";
			r = hold(x, conf, l, &d, msg, len, &id, &err);
		}
		break;
	}
	case POST_HOLD:
		r = hold(x, conf, l, &d, msg, len, &id, &err);
		break;
	case POST_DISCARD:
		if (d.reason == POST_REASON_VIRUS) {
			struct tmpl_vars *tv = list_vars(l);
			tmpl_put(tv, "signature", d.detail);
			r = tell_owners(x, l, "mail_post_virus.txt", tv, NULL, &n, &err);
			tmpl_vars_free(tv);
			v = say(res, INTAKE_BAD_DATA,
				"552 5.7.0 Message refused: it contains a virus");
		}
		break;
	case POST_REJECT: {
		int sent = 0;
		r = reject(x, conf, l, msg, len, NULL, &sent, &err);
		break;
	}
	case POST_REFUSE:
		v = say(res, INTAKE_BAD_DATA,
			d.reason == POST_REASON_TOO_BIG ? "552 5.3.4 Message too big for the list"
							: "554 5.6.0 Malformed message refused");
		break;
	case POST_RETRY:
		v = say(res, INTAKE_TEMPFAIL,
			"451 4.7.1 The content filter is unavailable, try again later");
		break;
	}
	if (r != STORE_OK) {
		log_warnx("intake: post list=%s failed: %s", l->name,
			  err.len ? buf_cstr(&err) : store_errmsg(x->st));
		buf_free(&err);
		return tempfail(res);
	}
	if (id > 0)
		log_info("intake: post list=%s outcome=%s reason=\"%s\" %s=%lld", l->name, outcome,
			 post_reason_name(d.reason), d.action == POST_HOLD ? "held" : "job",
			 (long long)id);
	else
		log_info("intake: post list=%s outcome=%s reason=\"%s\" detail=\"%s\"", l->name,
			 outcome, post_reason_name(d.reason), d.detail);
	buf_free(&err);
	if (v == INTAKE_OK)
		say(res, INTAKE_OK, "250 2.0.0 Ok");
	return v;
}

/* The moderator's choice in a reply: the first word of its first line that
 * is not empty or quoted ("reject", "discard"); anything else approves. */
static enum moderate_action reply_action(const char *text, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t e = i;
		while (e < n && text[e] != '\n')
			e++;
		struct str line = str_trim((struct str){text + i, e - i});
		i = e + 1;
		if (line.len == 0 || line.ptr[0] == '>')
			continue;
		size_t w = 0;
		while (w < line.len && line.ptr[w] != ' ' && line.ptr[w] != '\t' &&
		       line.ptr[w] != '.' && line.ptr[w] != ',' && line.ptr[w] != ':')
			w++;
		struct str word = {line.ptr, w};
		if (str_eq_nocase_z(word, "reject"))
			return MODERATE_REJECT;
		if (str_eq_nocase_z(word, "discard"))
			return MODERATE_DISCARD;
		break;
	}
	return MODERATE_APPROVE;
}

enum intake_verdict postin_reply(struct lists_ctx *x, const struct conf *conf, int64_t list_id,
				 int64_t held_id, const char *msg, size_t len,
				 struct intake_result *res)
{
	struct inmail m;
	if (inmail_read(msg, len, &m) < 0 || inmail_no_answer(&m) != NULL) {
		/* a vacation reply to the notice decides nothing (RFC 3834) */
		log_info("intake: mod-reply held=%lld outcome=ignored reason=%s",
			 (long long)held_id, m.robot != NULL ? m.robot : "unreadable or a robot");
		inmail_free(&m);
		return say(res, INTAKE_OK, "250 2.0.0 Ok");
	}
	enum moderate_action a = reply_action(m.text != NULL ? m.text : "", m.text_len);
	inmail_free(&m);
	struct list_rec l;
	memset(&l, 0, sizeof(l));
	struct buf err;
	buf_init(&err, 1024);
	int64_t job = 0;
	int r = store_list_get_id(x->st, list_id, &l);
	if (r == STORE_OK)
		r = moderate_decide(x, conf, &l, held_id, a, NULL, &postin_archive_hook, &job,
				    &err);
	enum intake_verdict v = INTAKE_OK;
	if (r == STORE_NOTFOUND)
		log_info("intake: mod-reply held=%lld outcome=decided-already", (long long)held_id);
	else if (r == STORE_ERR && err.len > 0)
		log_warnx("intake: mod-reply held=%lld failed: %s", (long long)held_id,
			  buf_cstr(&err));
	else if (r != STORE_OK)
		v = tempfail(res);
	list_rec_free(&l);
	buf_free(&err);
	if (v == INTAKE_OK)
		say(res, INTAKE_OK, "250 2.0.0 Ok");
	return v;
}
