/*
 * command.h - email commands, in LISTSERV and Mailman style.
 *
 * One command per line, any case; the verb first:
 *   SUBSCRIBE | SUB | JOIN list [full name]      (Mailman: subscribe [address=A])
 *   SIGNOFF | UNSUBSCRIBE | UNSUB | LEAVE list | *
 *   SET list DIGEST|NODIGEST|MAIL|NOMAIL|HTML|TEXT
 *   QUERY list | *        LISTS        INDEX [list]        INFO list
 *   HELP                  CONFIRM token
 * CONFIRM takes what a confirmation mail shows: the token, the link
 * (http[s]://.../c/TOKEN or /u/TOKEN: the last path segment is kept), or
 * the address LIST-confirm+TOKEN@DOMAIN or LIST-unsubscribe+TOKEN@DOMAIN
 * (angle brackets and mailto: allowed; the list is kept in `list`).
 * Mail to LIST-request@ names its list already: the caller passes it as
 * implied_list, and a command may then leave the list out (Mailman's
 * "subscribe", "unsubscribe", "set digest"); a list name written anyway
 * must be that one. Mail to the server-wide address passes NULL, and the
 * commands that act on a list must name one.
 *
 * Reading stops at a signature line ("-- ", or "--"), at END, EXIT or QUIT
 * (LISTSERV), or after LK_MAX_COMMANDS lines that were not empty or quoted.
 * Empty lines and quoted lines ("> ...", ">...") are skipped. The Subject
 * (for -request mail) is read first, as line 0, after any "Re:", "Fwd:",
 * "AW:" prefixes; a subject that is not a command is ignored silently (it
 * is usually just a subject). A command repeated (the subject and the body
 * both say "confirm T") is kept once.
 *
 * Each line read yields one command or one error; the reasons are static
 * strings, safe to send back (they never quote the line).
 *
 * Ownership: a struct command_set owns its strings; command_set_free wipes
 * them (a name or an address may be in them).
 *
 * TRUST: all input is untrusted mail. Bounds: LK_MAX_MESSAGE (whole
 * message), LK_MAX_COMMAND_TEXT (decoded body read), LK_MAX_LINE_OCTETS (a
 * longer line is an error), LK_MAX_COMMANDS, LK_MAX_LIST_NAME, LK_MAX_NAME,
 * LK_MAX_TOKEN, LK_MAX_ADDRESS. A line that is not UTF-8, or holds a NUL or
 * another control character, is refused.
 */
#ifndef LK_INTAKE_COMMAND_H
#define LK_INTAKE_COMMAND_H

#include <stddef.h>

#include "core/limits.h"

enum command_verb {
	CMD_SUBSCRIBE = 1,
	CMD_SIGNOFF,
	CMD_SET,
	CMD_QUERY,
	CMD_LISTS,
	CMD_INDEX,
	CMD_INFO,
	CMD_HELP,
	CMD_CONFIRM,
};

enum command_option {
	CMD_OPT_NONE = 0,
	CMD_OPT_DIGEST,
	CMD_OPT_NODIGEST,
	CMD_OPT_MAIL,
	CMD_OPT_NOMAIL,
	CMD_OPT_HTML,
	CMD_OPT_TEXT,
};

enum command_stop {
	CMD_STOP_END_OF_TEXT = 0,
	CMD_STOP_SIGNATURE,
	CMD_STOP_END, /* END, EXIT or QUIT */
	CMD_STOP_LIMIT,
};

struct command {
	enum command_verb verb;
	char list[LK_MAX_LIST_NAME + 1]; /* lower case; "*" for all; "" for none;
					    CONFIRM: the list of an address form */
	enum command_option option;	 /* SET */
	char *arg;     /* SUBSCRIBE full name or CONFIRM token (UTF-8); owned; or NULL */
	char *address; /* Mailman address=..., normalised; owned; or NULL */
	unsigned line; /* 0 = the Subject, then 1.. in the body */
};

struct command_error {
	unsigned line;
	const char *reason; /* static, e.g. "unknown command" */
};

struct command_set {
	size_t n;
	struct command cmd[LK_MAX_COMMANDS + 1]; /* + the Subject's */
	size_t nerr;
	struct command_error err[LK_MAX_COMMANDS + 1];
	enum command_stop stop;
};

/* Reads the commands of subject (may be NULL: none) and body (len bytes,
 * UTF-8 text with LF or CRLF lines; never needs a NUL). implied_list is the
 * list of a -request address or NULL. Always fills *out. */
void command_parse_text(const char *subject, size_t subject_len, const char *body, size_t body_len,
			const char *implied_list, struct command_set *out);

/* The same from a whole message: GMime decodes the Subject and the first
 * text/plain part (quoted-printable or base64, converted to UTF-8 from its
 * charset where iconv can). The Subject is read only when implied_list is
 * set (LISTSERV ignores it). Returns 0, or -1 (with *out empty) when the
 * message is over LK_MAX_MESSAGE or has no text/plain part. */
int command_parse_message(const char *msg, size_t len, const char *implied_list,
			  struct command_set *out);

void command_set_free(struct command_set *out);

const char *command_verb_name(enum command_verb v);

#endif
