/*
 * listaddr.h - the list's addresses and a recipient's links, built and
 * parsed in one place (DESIGN.md section 2; STYLE.md section 10).
 *
 * The address scheme of a list NAME at DOMAIN:
 *     NAME@DOMAIN                     post (List-Post of discussion lists)
 *     NAME-request@DOMAIN             commands about the list (List-Help)
 *     NAME-owner@DOMAIN               the list's owners
 *     NAME-bounces+TOKEN@DOMAIN       the VERP envelope sender (TOKEN_BOUNCE)
 *     NAME-unsubscribe+TOKEN@DOMAIN   the List-Unsubscribe mailto
 *     NAME-confirm+TOKEN@DOMAIN       the Reply-To of a request to confirm
 *     COMMAND@DOMAIN                  the server-wide command address
 *                                     ([intake] command_address)
 * TOKEN is crypto/token.h's address form (bounces, unsubscribe) or its
 * expiring address form (confirm; mails sent before it carry the URL form).
 *
 * A recipient's links: BASE/u/TOKEN (one-click unsubscribe), BASE/p/TOKEN
 * (preferences), BASE/c/TOKEN (confirm), BASE/me/TOKEN (data request),
 * BASE/o/JOB-TOKEN.gif (the open pixel), the mailto and VERP addresses
 * above, and the Message-ID of one message.
 *
 * API: listaddr_role_name / listaddr_role_parse; listaddr_build (an address
 * from its parts), listaddr_token_build (with a fresh token), listaddr_parse
 * (the readings of an address); listaddr_url, listaddr_pixel_url,
 * listaddr_message_id; listaddr_links_* (everything one recipient's message
 * needs, for the delivery engine).
 *
 * TRUST: listaddr_parse sees untrusted envelope recipients, VERP senders
 * found in bounce reports and words of command mail: it reads exactly len
 * bytes, refuses anything over LK_MAX_ADDRESS before copying, and hands out
 * a list name only when lists_name_valid accepts it. The builders refuse a
 * part that would change the address's shape (an '@', '+', space, CR, LF,
 * NUL, angle bracket or any other byte outside their alphabet), so nothing
 * they write can inject a header. Tokens are not verified here (the callers
 * hold the keys and know the list id): only their alphabet and length.
 */
#ifndef LK_MAIL_LISTADDR_H
#define LK_MAIL_LISTADDR_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/limits.h"
#include "crypto/keys.h"
#include "crypto/token.h"

enum listaddr_role {
	LISTADDR_POST,
	LISTADDR_REQUEST,
	LISTADDR_OWNER,
	LISTADDR_BOUNCES,
	LISTADDR_UNSUBSCRIBE,
	LISTADDR_CONFIRM,
	LISTADDR_COMMAND,
};
#define LISTADDR_ROLE_COUNT 7

/* "post", "request", "owner", "bounces", "unsubscribe", "confirm",
 * "command"; "?" for a value outside the enum. */
const char *listaddr_role_name(enum listaddr_role role);
/* The role named by the NUL-terminated s (as listaddr_role_name spells it).
 * Returns 0 and sets *role, or -1. */
int listaddr_role_parse(const char *s, enum listaddr_role *role);
/* 1 for the roles whose address carries +TOKEN. */
int listaddr_role_has_token(enum listaddr_role role);

/* Appends the address of role to out: name is the list's name (for
 * LISTADDR_COMMAND the command address's local part), token the token text
 * for the roles that carry one (else NULL). Returns 0, or -1 with out as it
 * was: an empty name or domain, a name or domain outside [A-Za-z0-9._-], a
 * token missing, empty, over LK_MAX_TOKEN or outside [A-Za-z0-9_-] (or given
 * to a role without one), an address over LK_MAX_ADDRESS, or out full. */
int listaddr_build(struct buf *out, enum listaddr_role role, const char *name, const char *domain,
		   const char *token);

/* Appends the list's address for one subscriber, with a fresh token:
 * NAME-bounces+TOKEN@DOMAIN (TOKEN_BOUNCE) or NAME-unsubscribe+TOKEN@DOMAIN
 * (TOKEN_UNSUBSCRIBE), the token in its address form, expires 0; or
 * NAME-confirm+TOKEN@DOMAIN (TOKEN_CONFIRM, the TOKEN_SET_* purposes and
 * TOKEN_SIGNOFF_ALL), the token in its expiring form, expires (unix seconds)
 * not 0. For a list name of at most LK_MAX_LIST_NAME the local part is at
 * most LK_MAX_LOCAL_PART octets (RFC 5321); a longer name (a list made
 * before that bound) still gets its address. Returns 0, or -1 with out as it
 * was, for another purpose, an expiry missing or where none belongs, a
 * subscriber id the form cannot carry, a name or domain listaddr_build
 * refuses, or out full. */
int listaddr_token_build(struct buf *out, const struct keys *k, enum token_purpose purpose,
			 const char *list_name, int64_t list_id, const char *domain,
			 int64_t subscriber_id, int64_t expires);

/* One reading of an address. */
struct listaddr {
	enum listaddr_role role;
	char list[LK_MAX_LIST_NAME + 1]; /* lower case, lists_name_valid; "" for COMMAND */
	struct str token;		 /* into the input, as spelt; empty for roles without */
	struct str domain;		 /* into the input, as spelt */
};
#define LISTADDR_READINGS 3

/* The readings of addr (len bytes, not NUL-terminated; one pair of angle
 * brackets around it allowed), most specific first, into out; returns how
 * many (0: not an address of ours). Local parts compare without case.
 *   - command_local (NULL: none) as the whole local part: LISTADDR_COMMAND
 *     alone;
 *   - a local part with a '+': NAME-bounces+, NAME-unsubscribe+ or
 *     NAME-confirm+ and a token of 1 to LK_MAX_TOKEN characters of
 *     [A-Za-z0-9_-] (the first '+' splits), one reading;
 *   - else the whole local part as a list (LISTADDR_POST), then, when it
 *     ends so, NAME-request (LISTADDR_REQUEST) or NAME-owner
 *     (LISTADDR_OWNER): a list may itself be called x-request, and only the
 *     store can tell which list exists.
 * A reading is given only for a list name lists_name_valid accepts (so at
 * most LK_MAX_LIST_NAME). The domain is the text after the last '@':
 * 1 to LK_MAX_DOMAIN octets, no space, control character or '@' (compare it
 * with the list's domain without case). Nothing is allocated. */
size_t listaddr_parse(const char *addr, size_t len, const char *command_local,
		      struct listaddr out[LISTADDR_READINGS]);

/* Appends base_url and the token page of purpose with a fresh token to out:
 * /u/ (TOKEN_UNSUBSCRIBE), /p/ (TOKEN_PREFS), /c/ (TOKEN_CONFIRM), /me/
 * (TOKEN_REQUEST). Returns 0, or -1 with out as it was: another purpose,
 * negative ids, or out full. */
int listaddr_url(struct buf *out, const struct keys *k, const char *base_url,
		 enum token_purpose purpose, int64_t list_id, int64_t subscriber_id,
		 int64_t expires);

/* Appends base_url/o/JOB-TOKEN.gif (crypto/token.h: a keyed hash of the
 * recipient, nothing that says who opened). Returns 0, or -1 with out as it
 * was (ids below 1, out full). */
int listaddr_pixel_url(struct buf *out, const struct keys *k, const char *base_url, int64_t job,
		       int64_t subscriber_id);

/* Appends a fresh Message-ID, <jJOB.sSUBSCRIBER.RANDOM@DOMAIN>, or for a
 * message to an address that is not a subscriber (subscriber_id 0: replies,
 * notices) <jJOB.r.RANDOM@DOMAIN>; RANDOM is 12 hex digits. Returns 0, or -1
 * with out as it was (negative ids, a domain listaddr_build refuses, out
 * full). Thread-safe. */
int listaddr_message_id(struct buf *out, int64_t job, int64_t subscriber_id, const char *domain);

/* Everything one recipient's message needs besides its text. */
struct listaddr_links {
	struct buf unsubscribe_url;    /* BASE/u/TOKEN */
	struct buf preferences_url;    /* BASE/p/TOKEN */
	struct buf unsubscribe_mailto; /* NAME-unsubscribe+TOKEN@DOMAIN */
	struct buf verp;	       /* NAME-bounces+TOKEN@DOMAIN: the envelope sender */
	struct buf from;	       /* NAME@DOMAIN */
	struct buf message_id;	       /* <jJOB.sSUB.RANDOM@DOMAIN> */
	struct buf pixel_url;	       /* BASE/o/JOB-TOKEN.gif, or empty */
	struct buf action_url;	       /* BASE/c/TOKEN or BASE/me/TOKEN, or empty */
	struct buf reply_to;	       /* NAME-confirm+TOKEN@DOMAIN with a confirmation, or empty */
};

/* What the links are made for. */
struct listaddr_rcpt {
	const char *list_name, *domain;
	int64_t list_id, job_id, subscriber_id;
	int pixel; /* 1: make pixel_url */
	/* 0, TOKEN_CONFIRM (action_url /c/ and reply_to) or TOKEN_REQUEST
	 * (action_url /me/, list 0), expiring at action_expires */
	enum token_purpose action;
	int64_t action_expires;
};

void listaddr_links_init(struct listaddr_links *ln);
/* Wipes and frees the links (they hold tokens). */
void listaddr_links_free(struct listaddr_links *ln);
/* Makes the links of r into ln (each reset first). Returns 0, or -1 when a
 * link cannot be made (then the message must not be sent: it would lack its
 * way out); a reply_to that cannot be made is left empty (the link still
 * confirms). */
int listaddr_links_make(struct listaddr_links *ln, const struct keys *k, const char *base_url,
			const struct listaddr_rcpt *r);

#endif
