/*
 * command.c - the email command parser (command.h: the grammar, where
 * reading stops, and what is owned).
 *
 * API: command_parse_text, command_parse_message, command_set_free,
 * command_verb_name.
 *
 * Shape. The text is cut into lines (LF, with an optional CR before it);
 * each line is checked (length, UTF-8, control characters) before it is
 * split into words at spaces and tabs, and the first word picks the verb
 * from a table. Nothing here looks anything up: whether a list exists, or a
 * token is valid, is for the caller with the store; this only says what
 * was asked, and which lines made no sense and why.
 *
 * TRUST: all input is untrusted mail. Never logs (names and addresses).
 * Bounds: LK_MAX_MESSAGE, LK_MAX_COMMAND_TEXT, LK_MAX_LINE_OCTETS,
 * LK_MAX_COMMANDS, LK_MAX_LIST_NAME, LK_MAX_NAME, LK_MAX_TOKEN,
 * LK_MAX_ADDRESS, all from core/limits.h.
 */
#include "intake/command.h"

#include <string.h>

#include "core/nametab.h"
#include "core/buf.h"
#include "core/utf8.h"
#include "core/xmalloc.h"
#include "intake/mimetext.h"
#include "lists/lists.h"
#include "core/address.h"
#include "mail/listaddr.h"

enum verb_id {
	V_NONE,
	V_SUB,
	V_OFF,
	V_SET,
	V_QUERY,
	V_LISTS,
	V_INDEX,
	V_INFO,
	V_HELP,
	V_CONFIRM,
	V_END
};

static const struct {
	const char *word;
	enum verb_id id;
} verbs[] = {
    {"subscribe", V_SUB},   {"sub", V_SUB},	    {"join", V_SUB},	{"signoff", V_OFF},
    {"unsubscribe", V_OFF}, {"unsub", V_OFF},	    {"leave", V_OFF},	{"set", V_SET},
    {"query", V_QUERY},	    {"lists", V_LISTS},	    {"index", V_INDEX}, {"info", V_INFO},
    {"help", V_HELP},	    {"confirm", V_CONFIRM}, {"end", V_END},	{"exit", V_END},
    {"quit", V_END},
};

static const struct {
	const char *word;
	enum command_option opt;
} options[] = {
    {"digest", CMD_OPT_DIGEST}, {"nodigest", CMD_OPT_NODIGEST}, {"mail", CMD_OPT_MAIL},
    {"nomail", CMD_OPT_NOMAIL}, {"html", CMD_OPT_HTML},		{"text", CMD_OPT_TEXT},
};

struct ctx {
	struct command_set *out;
	const char *implied; /* NULL for the server-wide address */
	unsigned lineno;
	int subject; /* errors on this line are not reported */
};

/* ------------------------------------------------------------------ */

static int is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int next_word(struct str *rest, struct str *w)
{
	size_t i = 0;
	while (i < rest->len && is_wsp((unsigned char)rest->ptr[i]))
		i++;
	size_t start = i;
	while (i < rest->len && !is_wsp((unsigned char)rest->ptr[i]))
		i++;
	*w = (struct str){rest->ptr + start, i - start};
	*rest = (struct str){rest->ptr + i, rest->len - i};
	return w->len > 0;
}

static void error(struct ctx *c, const char *reason)
{
	struct command_set *o = c->out;
	if (c->subject || o->nerr >= sizeof o->err / sizeof o->err[0])
		return;
	o->err[o->nerr].line = c->lineno;
	o->err[o->nerr].reason = reason;
	o->nerr++;
}

/* 1 and the lower-case name in dst if w is a valid list name ("*" too
 * when star is set). */
static int list_word(struct str w, int star, char dst[LK_MAX_LIST_NAME + 1])
{
	if (star && w.len == 1 && w.ptr[0] == '*') {
		dst[0] = '*', dst[1] = '\0';
		return 1;
	}
	if (w.len == 0 || w.len > LK_MAX_LIST_NAME)
		return 0;
	for (size_t i = 0; i < w.len; i++)
		dst[i] = (char)lower((unsigned char)w.ptr[i]);
	dst[w.len] = '\0';
	struct buf err;
	buf_init(&err, 256);
	int ok = lists_name_valid(dst, &err);
	buf_free(&err);
	return ok;
}

static int is_implied(const struct ctx *c, struct str w)
{
	return c->implied != NULL && str_eq_nocase_z(w, c->implied);
}

static int option_word(struct str w, enum command_option *opt)
{
	for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
		if (str_eq_nocase_z(w, options[i].word)) {
			*opt = options[i].opt;
			return 1;
		}
	return 0;
}

static int same(const struct command *a, const struct command *b)
{
	return a->verb == b->verb && a->option == b->option && strcmp(a->list, b->list) == 0 &&
	       (a->arg == NULL ? b->arg == NULL : b->arg != NULL && strcmp(a->arg, b->arg) == 0) &&
	       (a->address == NULL ? b->address == NULL
				   : b->address != NULL && strcmp(a->address, b->address) == 0);
}

static void wipe_str(char **z)
{
	if (*z != NULL)
		xfree_wipe(*z, strlen(*z));
	*z = NULL;
}

static void add(struct ctx *c, struct command *cmd)
{
	struct command_set *o = c->out;
	cmd->line = c->lineno;
	for (size_t i = 0; i < o->n; i++)
		if (same(&o->cmd[i], cmd))
			goto drop;
	if (o->n < sizeof o->cmd / sizeof o->cmd[0]) {
		o->cmd[o->n++] = *cmd;
		return;
	}
drop:
	wipe_str(&cmd->arg);
	wipe_str(&cmd->address);
}

/* ------------------------------------------------------------------ */
/* The verbs                                                           */

/* SUBSCRIBE list [full name] [address=A]; with an implied list the list
 * may be left out (then every word is the name). */
static void do_subscribe(struct ctx *c, struct str rest, struct command *cmd)
{
	struct str w, save = rest;
	if (next_word(&rest, &w) && is_implied(c, w)) {
		list_word(w, 0, cmd->list);
	} else if (c->implied != NULL) {
		list_word(str_from_z(c->implied), 0, cmd->list);
		rest = save;
	} else if (w.len == 0 ||
		   (w.len > 8 && str_eq_nocase_z((struct str){w.ptr, 8}, "address="))) {
		error(c, "SUBSCRIBE needs a list");
		return;
	} else if (!list_word(w, 0, cmd->list)) {
		error(c, "bad list name");
		return;
	}
	struct buf name;
	buf_init(&name, LK_MAX_NAME);
	while (next_word(&rest, &w)) {
		if (w.len > 8 && str_eq_nocase_z((struct str){w.ptr, 8}, "address=")) {
			struct address a;
			struct buf err;
			buf_init(&err, 256);
			int r = cmd->address == NULL ? address_parse(w.ptr + 8, w.len - 8, &a, &err)
						     : -1;
			buf_free(&err);
			if (r < 0) {
				buf_free(&name);
				wipe_str(&cmd->address);
				error(c, "bad address");
				return;
			}
			cmd->address = xstrdup(a.addr);
			address_free(&a);
			continue;
		}
		if (name.len > 0)
			buf_putc(&name, ' ');
		buf_append_str(&name, w);
	}
	if (name.err) {
		buf_free(&name);
		wipe_str(&cmd->address);
		error(c, "name too long");
		return;
	}
	if (name.len > 0) {
		size_t n;
		cmd->arg = buf_steal(&name, &n);
	}
	buf_free(&name);
	add(c, cmd);
}

/* SIGNOFF / QUERY / INFO / INDEX: one list word; what may be left out. */
static void do_list_verb(struct ctx *c, struct str rest, struct command *cmd, int star,
			 int optional, const char *missing)
{
	struct str w;
	if (!next_word(&rest, &w)) {
		if (c->implied != NULL)
			list_word(str_from_z(c->implied), 0, cmd->list);
		else if (!optional) {
			error(c, missing);
			return;
		}
	} else if (c->implied != NULL && !is_implied(c, w) &&
		   !(star && w.len == 1 && *w.ptr == '*')) {
		/* Mailman's "unsubscribe [password]": the word is not a list */
		if (cmd->verb != CMD_SIGNOFF) {
			error(c, "wrong list for this address");
			return;
		}
		list_word(str_from_z(c->implied), 0, cmd->list);
	} else if (!list_word(w, star, cmd->list)) {
		error(c, "bad list name");
		return;
	}
	add(c, cmd);
}

static void do_set(struct ctx *c, struct str rest, struct command *cmd)
{
	struct str a, b;
	int na = next_word(&rest, &a), nb = next_word(&rest, &b);
	if (na && !nb && c->implied != NULL) { /* SET DIGEST, on LIST-request@ */
		b = a;
		a = str_from_z(c->implied);
		nb = 1;
	}
	if (!na || !nb) {
		error(c, "SET needs a list and an option");
		return;
	}
	if (!list_word(a, 0, cmd->list)) {
		error(c, "bad list name");
		return;
	}
	if (c->implied != NULL && !is_implied(c, a)) {
		error(c, "wrong list for this address");
		return;
	}
	if (!option_word(b, &cmd->option)) {
		error(c, "unknown SET option");
		return;
	}
	add(c, cmd);
}

/* Strips a prefix (any case) from w: 1 if it was there. */
static int strip_prefix(struct str *w, const char *prefix)
{
	size_t n = strlen(prefix);
	if (w->len < n || !str_eq_nocase_z((struct str){w->ptr, n}, prefix))
		return 0;
	*w = (struct str){w->ptr + n, w->len - n};
	return 1;
}

/* The token part of what a confirmation mail shows (command.h): the bare
 * token, the link (its last path segment), or the address
 * LIST-confirm+TOKEN@DOMAIN / LIST-unsubscribe+TOKEN@DOMAIN (the list into
 * list). 0 if w is none of these. */
static int confirm_word(struct str w, struct str *tok, char list[LK_MAX_LIST_NAME + 1])
{
	if (w.len > 0 && w.ptr[0] == '<')
		w = (struct str){w.ptr + 1, w.len - 1};
	while (w.len > 0 && (w.ptr[w.len - 1] == '>' || w.ptr[w.len - 1] == '.' ||
			     w.ptr[w.len - 1] == ',' || w.ptr[w.len - 1] == ')'))
		w.len--;
	strip_prefix(&w, "mailto:");
	list[0] = '\0';
	long at = str_find(w, '@');
	struct str url = w;
	if (strip_prefix(&url, "https://") || strip_prefix(&url, "http://")) {
		/* BASE/c/TOKEN, BASE/u/TOKEN: the last segment, without a query */
		size_t end = url.len;
		for (size_t i = 0; i < url.len; i++)
			if (url.ptr[i] == '?' || url.ptr[i] == '#') {
				end = i;
				break;
			}
		size_t start = end;
		while (start > 0 && url.ptr[start - 1] != '/')
			start--;
		if (start == 0)
			return 0;
		w = (struct str){url.ptr + start, end - start};
	} else if (at >= 0) {
		struct listaddr rd[LISTADDR_READINGS];
		if (listaddr_parse(w.ptr, w.len, NULL, rd) != 1 ||
		    (rd[0].role != LISTADDR_CONFIRM && rd[0].role != LISTADDR_UNSUBSCRIBE))
			return 0;
		memcpy(list, rd[0].list, sizeof(rd[0].list));
		w = rd[0].token;
	}
	if (w.len == 0 || w.len > LK_MAX_TOKEN)
		return 0;
	for (size_t i = 0; i < w.len; i++) {
		int ch = lower((unsigned char)w.ptr[i]);
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		      ch == '_'))
			return 0;
	}
	*tok = w;
	return 1;
}

static void do_confirm(struct ctx *c, struct str rest, struct command *cmd)
{
	struct str w, tok;
	if (!next_word(&rest, &w)) {
		error(c, "CONFIRM needs a token");
		return;
	}
	if (!confirm_word(w, &tok, cmd->list)) {
		error(c, "bad token");
		return;
	}
	cmd->arg = xstrndup(tok.ptr, tok.len);
	add(c, cmd);
}

/* One line, already checked and trimmed. Returns 1 if reading stops. */
static int command_line(struct ctx *c, struct str line)
{
	struct str w, rest = line;
	next_word(&rest, &w);
	enum verb_id id = V_NONE;
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (str_eq_nocase_z(w, verbs[i].word))
			id = verbs[i].id;
	struct command cmd;
	memset(&cmd, 0, sizeof cmd);
	switch (id) {
	case V_NONE:
		error(c, "unknown command");
		break;
	case V_END:
		if (c->subject)
			break;
		c->out->stop = CMD_STOP_END;
		return 1;
	case V_SUB:
		cmd.verb = CMD_SUBSCRIBE;
		do_subscribe(c, rest, &cmd);
		break;
	case V_OFF:
		cmd.verb = CMD_SIGNOFF;
		do_list_verb(c, rest, &cmd, 1, 0, "SIGNOFF needs a list or *");
		break;
	case V_SET:
		cmd.verb = CMD_SET;
		do_set(c, rest, &cmd);
		break;
	case V_QUERY:
		cmd.verb = CMD_QUERY;
		do_list_verb(c, rest, &cmd, 1, 0, "QUERY needs a list or *");
		break;
	case V_INFO:
		cmd.verb = CMD_INFO;
		do_list_verb(c, rest, &cmd, 0, 0, "INFO needs a list");
		break;
	case V_INDEX:
		cmd.verb = CMD_INDEX;
		do_list_verb(c, rest, &cmd, 0, 1, NULL);
		break;
	case V_LISTS:
		cmd.verb = CMD_LISTS;
		add(c, &cmd);
		break;
	case V_HELP:
		cmd.verb = CMD_HELP;
		add(c, &cmd);
		break;
	case V_CONFIRM:
		cmd.verb = CMD_CONFIRM;
		do_confirm(c, rest, &cmd);
		break;
	}
	return 0;
}

/* Length, UTF-8 and control characters; NULL if the line may be read. */
static const char *line_problem(struct str line)
{
	if (line.len > LK_MAX_LINE_OCTETS)
		return "line too long";
	if (!utf8_valid(line.ptr, line.len, NULL))
		return "not UTF-8 text";
	for (size_t i = 0; i < line.len; i++) {
		unsigned char ch = (unsigned char)line.ptr[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return "control character in line";
	}
	return NULL;
}

static struct str strip_reply_prefixes(struct str s)
{
	static const char *const prefixes[] = {"re:", "fwd:", "fw:", "aw:", "wg:", "sv:", "antw:"};
	for (int again = 1; again;) {
		again = 0;
		s = str_trim(s);
		for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
			size_t n = strlen(prefixes[i]);
			if (s.len >= n && str_eq_nocase_z((struct str){s.ptr, n}, prefixes[i])) {
				s = (struct str){s.ptr + n, s.len - n};
				again = 1;
			}
		}
	}
	return s;
}

void command_parse_text(const char *subject, size_t subject_len, const char *body, size_t body_len,
			const char *implied_list, struct command_set *out)
{
	memset(out, 0, sizeof *out);
	struct ctx c = {.out = out, .implied = implied_list};
	if (subject != NULL) {
		struct str s = strip_reply_prefixes((struct str){subject, subject_len});
		if (s.len > 0 && line_problem(s) == NULL) {
			c.subject = 1;
			command_line(&c, s);
			c.subject = 0;
		}
	}
	struct str rest = {body ? body : "", body ? body_len : 0};
	if (rest.len >= 3 && memcmp(rest.ptr, "\xef\xbb\xbf", 3) == 0) /* a BOM */
		rest = (struct str){rest.ptr + 3, rest.len - 3};
	unsigned counted = 0;
	while (rest.len > 0) {
		long nl = str_find(rest, '\n');
		size_t n = nl < 0 ? rest.len : (size_t)nl;
		struct str line = {rest.ptr, n};
		rest =
		    (struct str){rest.ptr + (nl < 0 ? n : n + 1), rest.len - (nl < 0 ? n : n + 1)};
		if (line.len && line.ptr[line.len - 1] == '\r')
			line.len--;
		c.lineno++;
		/* RFC 3676 4.3: "-- " alone is the signature separator; many
		 * clients drop the space */
		struct str t = str_trim(line);
		if (t.len == 2 && t.ptr[0] == '-' && t.ptr[1] == '-') {
			out->stop = CMD_STOP_SIGNATURE;
			return;
		}
		if (t.len == 0 || t.ptr[0] == '>')
			continue;
		if (counted == LK_MAX_COMMANDS) {
			out->stop = CMD_STOP_LIMIT;
			return;
		}
		counted++;
		const char *why = line_problem(line);
		if (why != NULL) {
			error(&c, why);
			continue;
		}
		if (command_line(&c, t))
			return;
	}
	out->stop = CMD_STOP_END_OF_TEXT;
}

int command_parse_message(const char *msg, size_t len, const char *implied_list,
			  struct command_set *out)
{
	memset(out, 0, sizeof *out);
	GMimeMessage *m = mimetext_parse(msg, len);
	if (m == NULL)
		return -1;
	GMimeObject *part = mimetext_first_plain(m);
	if (part == NULL) {
		g_object_unref(m);
		return -1;
	}
	struct buf text;
	buf_init(&text, LK_MAX_COMMAND_TEXT);
	mimetext_content(part, 1, &text);
	const char *subj = implied_list ? g_mime_message_get_subject(m) : NULL;
	command_parse_text(subj, subj ? strlen(subj) : 0, text.data, text.len, implied_list, out);
	buf_free(&text);
	g_object_unref(m);
	return 0;
}

void command_set_free(struct command_set *out)
{
	for (size_t i = 0; i < out->n && i < sizeof out->cmd / sizeof out->cmd[0]; i++) {
		wipe_str(&out->cmd[i].arg);
		wipe_str(&out->cmd[i].address);
	}
	memset(out, 0, sizeof *out);
}

static const char *const COMMAND_VERB_NAME[] = {
    "", "SUBSCRIBE", "SIGNOFF", "SET", "QUERY", "LISTS", "INDEX", "INFO", "HELP", "CONFIRM",
};
static const struct nametab command_verb_names = NAMETAB(COMMAND_VERB_NAME);

const char *command_verb_name(enum command_verb v)
{
	return (unsigned)v < (unsigned)command_verb_names.n
		   ? nametab_name(&command_verb_names, (int)v)
		   : "";
}
