/*
 * answer.h - whether and how intake answers a message: what the message
 * says about itself (sender, robot signals), and queueing one answer to
 * the sender's own address under the per-address reply limit.
 *
 *   inmail_read       the facts intake needs from a received message
 *   inmail_no_answer  why a message must not be answered, or NULL
 *   answer_queue      a reply or confirmation job to one address, counted
 *                     by [intake] replies_per_hour (table reply_limits)
 *
 * Never answered (RFC 3834 section 2, RFC 2369, RFC 2919): Auto-Submitted
 * other than "no"; Precedence bulk, list or junk; any List-Id or List-*
 * header (mail from a list, ours or another's); the null envelope sender
 * (Return-Path: <>); a From of MAILER-DAEMON; no From, or more than one
 * address in it.
 *
 * Ownership: struct inmail owns its strings; inmail_free wipes them (the
 * sender's address).
 *
 * TRUST: the message is untrusted: parsed with GMime (mimetext.c) within
 * LK_MAX_MESSAGE; the From address is normalised by core/address.c before
 * anything uses it.
 */
#ifndef LK_INTAKE_ANSWER_H
#define LK_INTAKE_ANSWER_H

#include <stddef.h>

#include "core/buf.h"
#include "core/conf.h"
#include "lists/lists.h"
#include "core/address.h"

struct inmail {
	struct address from; /* normalised; from.addr NULL when absent or unusable */
	int null_sender;     /* Return-Path: <> */
	const char *robot;   /* why not to answer (static), or NULL */
	char *subject;	     /* decoded, or NULL */
	char *text;	     /* the first text/plain part, UTF-8, at most LK_MAX_COMMAND_TEXT */
	size_t text_len;
};

/* Reads msg (len bytes). Returns 0, or -1 when GMime finds no message (m is
 * then empty but may be freed). */
int inmail_read(const char *msg, size_t len, struct inmail *m);
void inmail_free(struct inmail *m);
/* The reason (static text for the log) not to answer, or NULL. */
const char *inmail_no_answer(const struct inmail *m);

/* Queues a single job (lists/jobs.h; kind "reply" or "confirm") to `to`
 * (normalised), if the address's reply limit allows: *sent is 1 if queued,
 * 0 if the limit held it back. Within the caller's transaction. Returns
 * STORE_OK or a store error (reason in err). */
int answer_queue(struct lists_ctx *x, const struct conf *conf, int64_t list_id, enum job_kind kind,
		 const struct address *to, const char *reply_to, const char *subject,
		 const char *text, int *sent, struct buf *err);

#endif
