/*
 * moderate.h - what becomes of a post to a discussion list once it is
 * judged: its distribution, and the moderators' decisions on held posts.
 * In the mail layer so that the intake (a post accepted, a moderator's
 * reply), the command line (`listkeeper mod`) and the admin pages share one
 * way of doing it.
 *
 *   moderate_distribute   a post prepared (mail/distrib.h) with the [post]
 *                         settings and queued as a distribution
 *   moderate_decide       approve (distributed), reject (the sender told
 *                         why) or discard a held post (lists/held.h); its
 *                         row and data deleted, the decision audited
 *   moderate_action_name / moderate_action_parse
 *
 * TRUST: a held post is opened from the store (sealed, lists/held.c); the
 * reason of a reject is a moderator's: one line of UTF-8, at most
 * LK_MAX_REASON bytes (jobs_reason_valid). Logs and the audit name the list,
 * the held post and the job, never the sender.
 */
#ifndef LK_MAIL_MODERATE_H
#define LK_MAIL_MODERATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/conf.h"
#include "lists/lists.h"

enum moderate_action { MODERATE_APPROVE, MODERATE_REJECT, MODERATE_DISCARD };

/* What is to happen to every post that is distributed, besides its
 * distribution: the archive (lists/archive.h; its parser is the intake's,
 * so the intake and the command line pass intake/postin.h's
 * postin_archive_hook). distributed gets the post as prepared (as every
 * member gets it but for their headers and footer), in the distribution's
 * transaction: STORE_OK, or a store error that undoes the distribution. */
struct moderate_hook {
	int (*distributed)(void *ctx, struct lists_ctx *x, const struct list_rec *l,
			   const char *post, size_t len, struct buf *err);
	void *ctx;
};
const char *moderate_action_name(enum moderate_action a);
int moderate_action_parse(const char *z, enum moderate_action *out);

/* Distributes msg (len bytes) to l: distrib_prepare with [post]
 * subject_prefix and reply_to, then jobs_create_distribution (the one place
 * where a post becomes a distribution), then hook (NULL: none). *job is set. STORE_OK; STORE_ERR
 * with *unfit set and the reason in err for a post distrib_prepare refuses;
 * or a store error. In the caller's transaction when there is one. */
int moderate_distribute(struct lists_ctx *x, const struct conf *conf, const struct list_rec *l,
			const char *msg, size_t len, const struct moderate_hook *hook, int64_t *job,
			int *unfit, struct buf *err);

/* The reply to the sender of a post that l does not take, rendered from
 * mail_post_rejected.txt with reason (NULL or "": none) into *subject and
 * *text (allocated; the caller frees them). STORE_OK, or STORE_ERR with the
 * reason in err. */
int moderate_reject_text(struct lists_ctx *x, const struct list_rec *l, const char *reason,
			 char **subject, char **text, struct buf *err);

/* Carries out a on the held post held_id of l, in one transaction (a
 * savepoint in the caller's): approve distributes it (*job set; a post that
 * cannot be distributed stays held: STORE_ERR), reject queues the reply
 * mail_post_rejected.txt with reason (NULL: none) to its sender, discard
 * only deletes it. The row goes in each case. STORE_OK; STORE_NOTFOUND when
 * l has no such held post; STORE_ERR with the reason in err (a reason that
 * is not one line, a post that does not open); or a store error. */
int moderate_decide(struct lists_ctx *x, const struct conf *conf, const struct list_rec *l,
		    int64_t held_id, enum moderate_action a, const char *reason,
		    const struct moderate_hook *hook, int64_t *job, struct buf *err);

#endif
