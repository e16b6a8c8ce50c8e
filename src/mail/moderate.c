/*
 * moderate.c - distribution of a post and the moderators' decisions
 * (moderate.h).
 *
 * TRUST: see moderate.h. The sender of a held post is parsed again
 * (core/address.c) before a reply goes to it.
 */
#include "mail/moderate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/nametab.h"
#include "core/tmpl.h"
#include "core/xmalloc.h"
#include "lists/held.h"
#include "lists/jobs.h"
#include "core/address.h"
#include "mail/distrib.h"
#include "mail/dmarc.h"
#include "mail/listaddr.h"

static const char *const ACTION_NAMES[] = {"approve", "reject", "discard"};
static const struct nametab action_names = NAMETAB(ACTION_NAMES);
_Static_assert(sizeof(ACTION_NAMES) / sizeof(ACTION_NAMES[0]) == MODERATE_DISCARD + 1,
	       "one name per moderate_action");

const char *moderate_action_name(enum moderate_action a)
{
	return nametab_name(&action_names, (int)a);
}

int moderate_action_parse(const char *z, enum moderate_action *out)
{
	int v = 0;
	if (nametab_parse(&action_names, z, &v) < 0)
		return -1;
	*out = (enum moderate_action)v;
	return 0;
}

int moderate_distribute(struct lists_ctx *x, const struct conf *conf, const struct list_rec *l,
			const char *msg, size_t len, const struct moderate_hook *hook, int64_t *job,
			int *unfit, struct buf *err)
{
	*unfit = 0;
	int rt = DISTRIB_REPLY_NONE;
	if (nametab_parse(&distrib_reply_to_names, conf_get(conf, "post", "reply_to"), &rt) < 0)
		rt = DISTRIB_REPLY_NONE; /* CT_ENUM: conf.c has checked it */
	struct buf mid, post;
	buf_init(&mid, LK_MAX_ADDRESS + 64);
	buf_init(&post, LK_MAX_MESSAGE);
	struct distrib_list dl = {
	    .name = l->name,
	    .domain = l->domain,
	    .title = l->title != NULL ? l->title : "",
	    .subject_prefix = conf_get_bool(conf, "post", "subject_prefix"),
	    .reply_to = (enum distrib_reply_to)rt,
	    .archive_url = NULL,
	    .footer = l->footer,
	    .postal = l->postal_address,
	};
	char dom[LK_MAX_DOMAIN + 1];
	if (strcmp(conf_get(conf, "dmarc", "mitigation"), "munge") == 0 &&
	    distrib_from_domain(msg, len, dom, sizeof(dom)) == 0) {
		enum dmarc_policy p = dmarc_policy(conf, dom);
		dl.munge_from = p != DMARC_NONE;
		if (dl.munge_from)
			log_info("event=dmarc-munge list=%s policy=%s", l->name,
				 dmarc_policy_name(p));
	}
	int r = STORE_ERR;
	if (listaddr_message_id(&mid, 0, 0, l->domain) < 0) {
		buf_puts(err, "no Message-ID can be made for the list's domain");
	} else {
		dl.message_id = buf_cstr(&mid);
		if (distrib_prepare(&dl, msg, len, &post, err) == 0) {
			r = jobs_create_distribution(x, l, post.data, post.len, job, err);
			if (r == STORE_OK && hook != NULL && hook->distributed != NULL)
				r = hook->distributed(hook->ctx, x, l, post.data, post.len, err);
		} else
			*unfit = 1;
	}
	buf_free(&mid);
	buf_free(&post);
	return r;
}

int moderate_reject_text(struct lists_ctx *x, const struct list_rec *l, const char *reason,
			 char **subject, char **text, struct buf *err)
{
	*subject = *text = NULL;
	struct buf to, owners;
	buf_init(&to, LK_MAX_ADDRESS + 1);
	buf_init(&owners, LK_MAX_ADDRESS + 1);
	int r = STORE_ERR;
	if (listaddr_build(&to, LISTADDR_POST, l->name, l->domain, NULL) == 0 &&
	    listaddr_build(&owners, LISTADDR_OWNER, l->name, l->domain, NULL) == 0) {
		struct tmpl_vars *v = tmpl_vars_new();
		tmpl_put(v, "list", l->name);
		tmpl_put(v, "list_title", l->title != NULL && l->title[0] ? l->title : l->name);
		tmpl_put(v, "to", buf_cstr(&to));
		tmpl_put(v, "owners_address", buf_cstr(&owners));
		tmpl_put(v, "reason", reason != NULL ? reason : "");
		r = jobs_mail_text(x, "mail_post_rejected.txt", v, subject, text, err);
		tmpl_vars_free(v);
	} else {
		buf_puts(err, "the list's addresses cannot be built");
	}
	buf_free(&to);
	buf_free(&owners);
	return r;
}

/* The reply to the sender of a rejected post (a moderator's decision: no
 * reply limit). */
static int reject_reply(struct lists_ctx *x, const struct list_rec *l, const char *sender,
			const char *reason, struct buf *err)
{
	struct address a;
	struct buf e;
	buf_init(&e, 256);
	int ok = address_parse(sender, strlen(sender), &a, &e) == 0;
	buf_free(&e);
	if (!ok)
		return STORE_OK; /* nobody to tell */
	char *subject = NULL, *text = NULL;
	int64_t id = 0;
	int r = moderate_reject_text(x, l, reason, &subject, &text, err);
	if (r == STORE_OK)
		r = jobs_create_single(x, l->id, JOB_KIND_REPLY, a.addr, NULL, subject, text, &id,
				       err);
	free(subject);
	if (text != NULL)
		xfree_wipe(text, strlen(text));
	address_free(&a);
	return r;
}

int moderate_decide(struct lists_ctx *x, const struct conf *conf, const struct list_rec *l,
		    int64_t held_id, enum moderate_action a, const char *reason,
		    const struct moderate_hook *hook, int64_t *job, struct buf *err)
{
	*job = 0;
	if (a == MODERATE_REJECT && !jobs_reason_valid(reason, err))
		return STORE_ERR;
	struct held_rec h;
	memset(&h, 0, sizeof(h));
	struct buf sender, msg;
	buf_init(&sender, LK_MAX_ADDRESS + 1);
	buf_init(&msg, LK_MAX_MESSAGE);
	int r = store_begin(x->st);
	if (r == STORE_OK)
		r = store_held_get(x->st, held_id, &h);
	if (r == STORE_OK && h.list_id != l->id)
		r = STORE_NOTFOUND;
	if (r == STORE_OK && held_open(x->keys, &h, &sender, &msg) < 0) {
		buf_printf(err, "held post %lld does not open", (long long)held_id);
		r = STORE_ERR;
	}
	if (r == STORE_OK && a == MODERATE_APPROVE) {
		int unfit = 0;
		r = moderate_distribute(x, conf, l, msg.data != NULL ? msg.data : "", msg.len, hook,
					job, &unfit, err);
	} else if (r == STORE_OK && a == MODERATE_REJECT) {
		r = reject_reply(x, l, buf_cstr(&sender), reason, err);
	}
	if (r == STORE_OK)
		r = store_held_delete(x->st, held_id);
	if (r == STORE_OK) {
		char detail[96];
		bsnprintf(detail, sizeof(detail), "held=%lld job=%lld", (long long)held_id,
			  (long long)*job);
		char action[32];
		bsnprintf(action, sizeof(action), "mod-%s", moderate_action_name(a));
		r = store_audit(x->st, clock_now(), x->actor, action, l->id, 0, detail);
	}
	r = lists_end_txn(x, r, err);
	if (r == STORE_OK)
		log_info("event=mod-%s list=%s held=%lld job=%lld", moderate_action_name(a),
			 l->name, (long long)held_id, (long long)*job);
	held_rec_free(&h);
	buf_free(&sender);
	buf_free(&msg);
	return r;
}
