/*
 * postin.h - taking a post to a discussion list in (DESIGN.md section 2,
 * "post"): the checks of post.h, then what their decision says.
 *
 *   postin_handle   one message to LIST@ of a discussion list
 *
 *   accept    distributed (mail/moderate.h moderate_distribute: distrib.h
 *             prepares it once, lists/jobs.h queues a distribution job)
 *   hold      into the moderation queue (lists/held.h), sealed, and a notice
 *             to each owner (mail_post_held.txt)
 *   discard   dropped with a log line; for a virus the owners get a notice
 *             without anything of the post (mail_post_virus.txt) and the
 *             sender nothing; the MTA is told 552 (inject exits 65)
 *   reject    dropped, and the sender told (mail_post_rejected.txt) under
 *             the per-address reply limit
 *   refuse    too big (552) or malformed (554): nothing kept
 *   retry     a filter is unavailable: 451, the post stays in the spool (or
 *             with the MTA, for inject: 75) and nothing is accepted unscanned
 *
 * Logs name the list, the decision, a job or held id: never the sender.
 *
 * TRUST: the message is untrusted: post.h and distrib.h say how it is read.
 */
#ifndef LK_INTAKE_POSTIN_H
#define LK_INTAKE_POSTIN_H

#include <stddef.h>

#include "core/conf.h"
#include "intake/filter.h"
#include "intake/route.h"
#include "lists/lists.h"
#include "mail/moderate.h"

/* What every distributed post also goes to: the list's archive
 * (intake/archmsg.h parses it, lists/archive.h stores it, in the
 * distribution's transaction). For moderate_distribute and moderate_decide,
 * by the intake and the command line. */
extern const struct moderate_hook postin_archive_hook;

/* Handles msg (len bytes) to the discussion list l, inside the caller's
 * transaction (x->st). fc: [filter], loaded once. Returns the verdict for
 * the MTA with res->line set; INTAKE_TEMPFAIL when a store error or a filter
 * stops it (nothing of it then stays: the caller rolls back). */
enum intake_verdict postin_handle(struct lists_ctx *x, const struct conf *conf,
				  const struct filter_conf *fc, const struct list_rec *l,
				  const char *msg, size_t len, struct intake_result *res);

/* A moderator's reply to the notice of the held post held_id of list
 * list_id (LIST-confirm+TOKEN@, TOKEN_MOD_APPROVE, route.c): approves it,
 * or rejects or discards it when the reply's first word says so
 * (mail/moderate.h). A robot's reply (a vacation notice) decides nothing;
 * a post decided already is left so. INTAKE_OK, or INTAKE_TEMPFAIL on a
 * store error. */
enum intake_verdict postin_reply(struct lists_ctx *x, const struct conf *conf, int64_t list_id,
				 int64_t held_id, const char *msg, size_t len,
				 struct intake_result *res);

#endif
