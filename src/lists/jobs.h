/*
 * jobs.h - delivery jobs: campaigns to a list and confirmation requests.
 *
 *   campaign  a message to every recipient of a list (active, not no-mail,
 *             not suppressed), walked in subscriber id order by the engine
 *   confirm   the double opt-in request to one pending subscriber (P1); it
 *             jumps the queue (priority); or the request to confirm a
 *             command sent by mail (a single job, below)
 *   request   the link to a person's data page (/me/TOKEN, P4), to one
 *             subscriber at their own address only; it jumps the queue too
 *   reply     the answer to a command message (a single job)
 *   distribution  a post to a discussion list, to every recipient of the
 *             list as campaigns are (jobs_create_distribution)
 *
 * The states and the steps between them (pause, resume, cancel, the
 * engine's claim and lease) are lists/joblife.h's.
 */
#ifndef LK_LISTS_JOBS_H
#define LK_LISTS_JOBS_H

#include <stdint.h>

#include "core/buf.h"
#include "lists/lists.h"

#define JOB_PRIORITY_CONFIRM 10
#define JOB_PRIORITY_CAMPAIGN 0
#define JOB_PRIORITY_DISTRIBUTION 5 /* a conversation: ahead of campaigns */

/* Creates a campaign; *id is set. Subject and bodies are checked (UTF-8, no
 * control characters in the subject, sizes). html may be NULL. */
int jobs_create_campaign(struct lists_ctx *x, const struct list_rec *l, const char *subject,
			 const char *text, const char *html, int64_t not_before, int64_t *id,
			 struct buf *err);
/* Queues the confirmation request for a pending subscriber. */
int jobs_create_confirm(struct lists_ctx *x, const struct list_rec *l, int64_t subscriber_id,
			int64_t *id, struct buf *err);
/* Queues the welcome (kind "notice") to a subscriber whose confirmation has
 * just made the subscription active. Its wording is mail_welcome.txt, as
 * the confirmation request's is mail_confirm.txt (x->tmpl: the set every
 * role and command loads with tmpl_set_load_conf; NULL, the built-ins, is
 * for tests; docs/templates.md). */
int jobs_create_welcome(struct lists_ctx *x, const struct list_rec *l, int64_t subscriber_id,
			int64_t *id, struct buf *err);
/* Queues the goodbye (kind "notice", mail_goodbye.txt) to a person who has
 * just left l (all: every list) with the unsubscribe button. It is rendered
 * now with the real values (to, name, erased: their data is gone) and to is
 * sealed into the job (jobs_create_single), so it is sent even when the
 * person has been erased, and the address goes with the job's end. */
int jobs_create_goodbye(struct lists_ctx *x, const struct list_rec *l, const char *to,
			const char *name, int all, int erased, int64_t *id, struct buf *err);
/* Queues the "not accepted" notice (kind "notice", mail_rejected.txt) to a
 * person whose subscription request to l the owners have just refused
 * (lists_reject), rendered now with the real values (to, name, reason: the
 * owners' one-line reason, NULL or "" for none; at most LK_MAX_REASON bytes
 * of UTF-8 without control characters) and sealed into the job, as the
 * goodbye: it is sent even when the person has been erased. */
int jobs_create_rejected(struct lists_ctx *x, const struct list_rec *l, const char *to,
			 const char *name, const char *reason, int64_t *id, struct buf *err);
/* 1 if reason (NULL: none) may go into that mail; else 0 and why in err. */
int jobs_reason_valid(const char *reason, struct buf *err);
/* Queues the mail with the link to the data page of a subscriber who asked
 * for it (web form /me). l is the list it is sent from: one the person is on.
 * Its wording is mail_request.txt (x->tmpl, as the welcome's); the engine
 * fills in {{request_url}} with a REQUEST token that expires after [tokens]
 * request_ttl_hours. */
int jobs_create_request(struct lists_ctx *x, const struct list_rec *l, int64_t subscriber_id,
			int64_t *id, struct buf *err);
/* Renders mail template name of x->tmpl ("Subject: ..." line, empty line,
 * text) with the values given (NULL: the sender's merge fields, each
 * rendered as itself, so that {{email}} stays {{email}} and the engine
 * fills it in for each message, mail/compose.h) into *subject and *text
 * (allocated; the caller frees them, wiping a text that holds an address).
 * STORE_OK, or STORE_ERR with the reason in err (a template that fails, or
 * whose first line is not "Subject: ..."). */
int jobs_mail_text(const struct lists_ctx *x, const char *name, const struct tmpl_vars *given,
		   char **subject, char **text, struct buf *err);

/* A job to one address that need not be a subscriber's (kind "reply" or
 * "confirm"; list_id 0 for the server-wide command address). subject and
 * text are sent as they are (no merge fields). to and reply_to (NULL: none)
 * are sealed into the job with a fresh data key wrapped by the master key;
 * the store deletes the sealed blob when the job ends, so the address is
 * unreadable once the job is done or cancelled. Runs in the caller's
 * transaction when there is one. */
int jobs_create_single(struct lists_ctx *x, int64_t list_id, enum job_kind kind, const char *to,
		       const char *reply_to, const char *subject, const char *text, int64_t *id,
		       struct buf *err);
/* Opens a single job's sealed recipient: *to and *reply_to (NULL when none)
 * are allocated; free them with jobs_rcpt_free. Returns 0, or -1 when the
 * job has none or it does not open. */
int jobs_rcpt_open(const struct keys *k, const struct job_rec *j, char **to, char **reply_to);
void jobs_rcpt_free(char *to, char *reply_to);
/* 1 for a job to one sealed address (jobs_create_single), 0 otherwise. */
int jobs_is_single(const struct job_rec *j);

/* Queues the distribution of a post to the discussion list l: the post
 * (len bytes, at most LK_MAX_MESSAGE: the message as every recipient gets
 * it but for their own headers and footer, mail/distrib.h's
 * distrib_prepare) is sealed into the job under a fresh data key wrapped by
 * the master key; the store deletes it when the job ends. The job walks l's
 * recipients as a campaign does. In the caller's transaction when there is
 * one. This is the one place where a post becomes a distribution: what is
 * to happen to every accepted post (the archive) is called from here. *id
 * is set. STORE_OK, or a store error with the reason in err. */
int jobs_create_distribution(struct lists_ctx *x, const struct list_rec *l, const char *post,
			     size_t len, int64_t *id, struct buf *err);
/* Opens a distribution's sealed post into post. 0, or -1 when the job has
 * none or it does not open. */
int jobs_post_open(const struct keys *k, const struct job_rec *j, struct buf *post);

#endif
