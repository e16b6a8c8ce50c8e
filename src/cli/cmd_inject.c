/*
 * cmd_inject.c - `listkeeper inject [--recipient ADDR] [--sender ADDR]`:
 * one message on stdin, as an MTA's pipe transport delivers it (Postfix
 * pipe(8)), spooled (synced) and handled at once as the LMTP server's
 * worker would (intake/spool.h, intake/route.c); 0 only once that is
 * durable.
 *
 * Exit codes (sysexits.h, which the MTA reads): 0 done; 65 (EX_DATAERR) a
 * message that is empty or over LK_MAX_MESSAGE, or no recipient; 67
 * (EX_NOUSER) an address that is not ours; 75 (EX_TEMPFAIL) try again
 * later: the store is locked or unavailable, or the setup is broken (the
 * MTA keeps the message queued rather than bouncing it).
 *
 * What the MTA sees. A pipe transport copies the command's stderr into the
 * bounce or the delay notice it sends, to a sender who is often forged
 * (Postfix pipe(8)): so when stderr is not a terminal and --verbose is not
 * given, the log goes to syslog (facility mail) where [log] dest says
 * stderr, anything else written to stderr goes to /dev/null, and stderr
 * gets one line only when the message is not taken: the SMTP-style reason
 * ("550 5.1.1 No such recipient"), nothing of the log (a refused token,
 * which step failed, a path).
 *
 * TRUST: stdin is untrusted mail, read up to LK_MAX_MESSAGE + 1 bytes and
 * refused past it; the recipient and sender come from the MTA's command
 * line (argv=... ${recipient} ${sender}) and are length-checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/limits.h"
#include "core/log.h"
#include "intake/spool.h"

static const char USAGE[] =
    "usage: listkeeper inject [--recipient ADDR] [--sender ADDR] [--verbose]\n\n"
    "Reads one message on stdin and handles it for ADDR, as the LMTP server of\n"
    "`serve --role intake` would: for a Postfix pipe transport, e.g. in master.cf\n"
    "  listkeeper unix - n n - - pipe flags=R user=lists\n"
    "    argv=/usr/bin/listkeeper inject --recipient ${recipient} --sender ${sender}\n"
    "  --recipient ADDR  the envelope recipient (default: the message's first\n"
    "                    Delivered-To header, as flags=D writes it)\n"
    "  --sender ADDR     the envelope sender, empty for the null sender (default:\n"
    "                    the message's Return-Path, as flags=R writes it)\n"
    "  --verbose         the log on stderr (as [log] dest says), also when stderr\n"
    "                    is not a terminal; without it and without a terminal\n"
    "                    (an MTA's pipe) the log goes to syslog and stderr gets\n"
    "                    only the SMTP-style reason when the message is refused,\n"
    "                    since the MTA copies it into the bounce it sends\n"
    "Exit status: 0 done, 65 bad message, 67 unknown address, 75 try again later.\n";

/* Where the one reason line goes (stderr, kept aside when stderr itself is
 * sent to /dev/null). */
static int reason_fd = 2;

/* The one line the MTA gets: an SMTP reply, nothing else. */
static int refuse(int code, const char *line)
{
	char b[LK_MAX_LINE_OCTETS];
	bsnprintf(b, sizeof(b), "%s\n", line); /* a reply of ours: never cut */
	ssize_t w = write(reason_fd, b, strlen(b));
	(void)w;
	return code;
}

static const char TEMP[] = "451 4.3.0 Temporary local problem, try again later";

/* Strips <> and white space into out; -1 when too long. */
static int clean_addr(const char *z, char out[LK_MAX_ADDRESS + 1])
{
	size_t n = strlen(z);
	while (n > 0 && (*z == ' ' || *z == '<'))
		z++, n--;
	while (n > 0 &&
	       (z[n - 1] == ' ' || z[n - 1] == '>' || z[n - 1] == '\r' || z[n - 1] == '\n'))
		n--;
	if (n > LK_MAX_ADDRESS)
		return -1;
	memcpy(out, z, n);
	out[n] = '\0';
	return 0;
}

/* The value of the first header `name` (in the header section) into out. */
static int first_header(const struct buf *m, const char *name, char out[LK_MAX_ADDRESS + 1])
{
	size_t nl = strlen(name), i = 0;
	while (i < m->len) {
		const char *eol = memchr(m->data + i, '\n', m->len - i);
		size_t ll = eol ? (size_t)(eol - (m->data + i)) : m->len - i;
		if (ll == 0 || (ll == 1 && m->data[i] == '\r'))
			break; /* end of the header section */
		if (ll > nl && strncasecmp(m->data + i, name, nl) == 0 && m->data[i + nl] == ':') {
			char v[LK_MAX_ADDRESS + 16];
			size_t vl = ll - nl - 1;
			if (vl >= sizeof(v))
				return -1;
			memcpy(v, m->data + i + nl + 1, vl);
			v[vl] = '\0';
			return clean_addr(v, out);
		}
		i += ll + 1;
	}
	return -1;
}

int cmd_inject(struct cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(USAGE, stdout);
		return 0;
	}
	const char *rcpt_arg = NULL, *sender_arg = NULL;
	int verbose = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--recipient") && i + 1 < argc)
			rcpt_arg = argv[++i];
		else if (!strcmp(argv[i], "--sender") && i + 1 < argc)
			sender_arg = argv[++i];
		else if (!strcmp(argv[i], "--verbose"))
			verbose = 1;
		else {
			fputs(USAGE, stderr);
			return EX_USAGE;
		}
	}
	/* run by an MTA: only the reason line reaches the real stderr */
	int quiet = !verbose && !isatty(2);
	if (quiet) {
		int keep = fcntl(2, F_DUPFD_CLOEXEC, 3);
		int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (keep >= 0 && nul >= 0 && dup2(nul, 2) == 2)
			reason_fd = keep;
		else if (keep >= 0)
			close(keep);
		if (nul >= 0)
			close(nul);
	}
	/* Read first: the MTA's pipe wants its message taken. */
	struct buf m;
	buf_init(&m, LK_MAX_MESSAGE + LK_MAX_ADDRESS + 32);
	char sender[LK_MAX_ADDRESS + 1];
	if (sender_arg != NULL) {
		if (clean_addr(sender_arg, sender) < 0) {
			buf_free(&m);
			return refuse(EX_DATAERR, "501 5.1.7 Bad sender address syntax");
		}
		buf_printf(&m, "Return-Path: <%s>\n", sender);
	}
	size_t head = m.len;
	char in[65536];
	for (;;) {
		ssize_t n = read(0, in, sizeof(in));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			buf_free(&m);
			return refuse(EX_TEMPFAIL, TEMP);
		}
		if (n == 0)
			break;
		if ((size_t)n > LK_MAX_MESSAGE - (m.len - head)) {
			explicit_bzero(in, sizeof(in));
			buf_free(&m);
			return refuse(EX_DATAERR, "552 5.3.4 Message too big");
		}
		buf_append(&m, in, (size_t)n);
	}
	explicit_bzero(in, sizeof(in));
	char rcpt[LK_MAX_ADDRESS + 1];
	int bad = m.len == head;
	if (!bad && rcpt_arg != NULL)
		bad = clean_addr(rcpt_arg, rcpt) < 0 || rcpt[0] == '\0';
	else if (!bad)
		bad = first_header(&m, "Delivered-To", rcpt) < 0 || rcpt[0] == '\0';
	if (bad) {
		int empty = m.len == head;
		buf_free(&m);
		return refuse(EX_DATAERR,
			      empty ? "554 5.6.0 No message" : "554 5.1.3 No usable recipient");
	}

	/* Whatever keeps us from the store is temporary for the MTA: 75. */
	int r = cli_open(c);
	if (r == 0 && quiet && strcmp(conf_get(c->conf, "log", "dest"), "stderr") == 0) {
		enum log_level lvl = LOG_LEVEL_INFO;
		log_level_parse(conf_get(c->conf, "log", "level"), &lvl);
		log_open("listkeeper", lvl, "syslog");
	}
	if (r == 0)
		r = cli_templates(c); /* the mails that commands queue */
	if (r != 0) {
		buf_free(&m);
		if (quiet) /* what cli_open said went to /dev/null */
			log_warnx("inject: the setup does not open (exit %d): run `listkeeper "
				  "inject --verbose` by hand to see why",
				  r);
		return refuse(EX_TEMPFAIL, TEMP);
	}
	struct buf err;
	buf_init(&err, 1024);
	struct store *sq = store_spool_open(c->conf, &err);
	if (sq == NULL) {
		log_warnx("inject: the spool does not open: %s", buf_cstr(&err));
		buf_free(&err);
		buf_free(&m);
		return refuse(EX_TEMPFAIL, TEMP);
	}
	buf_free(&err);
	struct intake_result res;
	enum intake_verdict v = intake_spool_inject(c->conf, &c->keys, sq, c->st, c->tmpl, rcpt,
						    strlen(rcpt), m.data, m.len, &res);
	store_close(sq);
	buf_free(&m);
	if (v != INTAKE_OK)
		refuse(0, res.line);
	switch (v) {
	case INTAKE_OK:
		return 0;
	case INTAKE_UNKNOWN:
		return EX_NOUSER;
	case INTAKE_BAD_DATA:
		return EX_DATAERR;
	case INTAKE_TEMPFAIL:
		break;
	}
	return EX_TEMPFAIL;
}
