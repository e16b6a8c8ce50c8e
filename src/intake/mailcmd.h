/*
 * mailcmd.h - carrying out email commands (parsed by command.c) for the
 * sender of a message, and writing what was done into one reply text.
 *
 *   mailcmd_run    every command of a message
 *   mailcmd_token  a confirmation token (CONFIRM token, or a reply to
 *                  LIST-confirm+TOKEN@)
 *
 * Rules (DESIGN.md section 2, P1, P4):
 *   - nothing changes a subscription on the strength of the From header:
 *     SUBSCRIBE queues the double opt-in request (a confirm job, limited by
 *     [web] confirm_per_address like the web form); SIGNOFF and SET queue a
 *     request to confirm (mail_command_confirm.txt of the context's
 *     templates: a single confirm job to the sender, whose
 *     Reply-To carries the token: LIST-unsubscribe+TOKEN@ for SIGNOFF,
 *     LIST-confirm+TOKEN@ for SET, expiring after [tokens]
 *     confirm_ttl_hours); only a valid token acts at once;
 *   - every answer is about the sender's own address: QUERY tells only the
 *     sender's own subscriptions, Mailman's address=X is refused when X
 *     is not the sender, and a token of another subscriber acts but is
 *     answered with one neutral line, whatever the outcome;
 *   - the reply text never quotes the message: a command is named by its
 *     verb and list (a checked list name), errors by line number and a
 *     static reason.
 *
 * Everything runs inside the caller's transaction; a store error returns
 * -1 and the caller rolls back (and the MTA tries again later).
 *
 * TRUST: commands come from untrusted mail (command.c bounds them); tokens
 * are authenticated by crypto/token.c before anything changes.
 */
#ifndef LK_INTAKE_MAILCMD_H
#define LK_INTAKE_MAILCMD_H

#include <stddef.h>

#include "core/buf.h"
#include "core/conf.h"
#include "crypto/token.h"
#include "lists/lists.h"
#include "core/address.h"

struct mailcmd_env {
	struct lists_ctx *x;
	const struct conf *conf;
	const char *domain;	    /* the domain the mail came to */
	const char *implied;	    /* LIST of LIST-request@, or NULL */
	const struct address *from; /* the sender, normalised */
	int erased;		    /* out: someone's data was erased (scrub after commit) */
	int unclear;		    /* out: a line was not understood (mailcmd_run) */
};

/* Runs the commands in subject (read only with an implied list) and text,
 * appending what each did to out (the lines of the answer; its frame is
 * mail_answer.txt, rendered by the caller) and setting env->unclear when a
 * line was not understood. Returns 0, or -1 on a store error (reason in
 * err). */
int mailcmd_run(struct mailcmd_env *env, const char *subject, const char *text, size_t text_len,
		struct buf *out, struct buf *err);

/* Decodes a token that confirms something by mail: purpose confirm, a
 * SET (set-*), and unsubscribe when with_unsubscribe is set. The token is
 * the URL form, or, when list_id is not 0 (the list of LIST-confirm+), the
 * expiring address form (token.h) for that list. TOKEN_OK and *t filled, or
 * the first status that is not TOKEN_WRONG_PURPOSE. */
enum token_status mailcmd_token_decode(const struct keys *k, const char *tok, size_t len,
				       uint64_t list_id, int64_t now, int with_unsubscribe,
				       struct token *t);

/* Acts on a token (len bytes) of purpose confirm, unsubscribe or set-*;
 * want_list, when not 0, is the list it must be for. Appends one result
 * line to out. Returns 0, or -1 on a store error. */
int mailcmd_token(struct mailcmd_env *env, const char *tok, size_t len, int64_t want_list,
		  struct buf *out, struct buf *err);

#endif
