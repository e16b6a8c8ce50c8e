/*
 * test_command.c - the email command parser: a table of bodies (LISTSERV
 * and Mailman style, case, subjects, signatures, quoted text, garbage,
 * over-long lines, the line limit), each with the commands and errors it
 * must give, written out as one line; and whole messages through GMime
 * (quoted-printable, base64, Latin-1, multipart).
 *
 * Runs in tests/intake (CMakeLists.txt sets the working directory).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/limits.h"
#include "intake/command.h"
#include "intake/mimetext.h"

/* "LINE VERB list [opt=N] [arg=A] [addr=A]; LINE !reason; ... .stop" */
static char *render(const struct command_set *s)
{
	static const char *const stops[] = {".eot", ".sig", ".end", ".limit"};
	struct buf b;
	buf_init(&b, 1 << 20);
	for (size_t i = 0; i < s->n; i++) {
		const struct command *c = &s->cmd[i];
		buf_printf(&b, "%u %s %s", c->line, command_verb_name(c->verb), c->list);
		if (c->option)
			buf_printf(&b, " opt=%d", (int)c->option);
		if (c->arg)
			buf_printf(&b, " arg=%s", c->arg);
		if (c->address)
			buf_printf(&b, " addr=%s", c->address);
		buf_puts(&b, "; ");
	}
	for (size_t i = 0; i < s->nerr; i++)
		buf_printf(&b, "%u !%s; ", s->err[i].line, s->err[i].reason);
	buf_puts(&b, stops[s->stop]);
	size_t n;
	char *r = buf_steal(&b, &n);
	buf_free(&b);
	return r;
}

static const struct {
	const char *implied, *subject, *body, *want;
} cases[] = {
    /* LISTSERV style at the server-wide address */
    {NULL, NULL, "SUBSCRIBE news John Smith\n", "1 SUBSCRIBE news arg=John Smith; .eot"},
    {NULL, NULL, "sub NEWS\r\n", "1 SUBSCRIBE news; .eot"},
    {NULL, NULL, "  Subscribe   news   Ana\t Lopez  \n", "1 SUBSCRIBE news arg=Ana Lopez; .eot"},
    {NULL, NULL, "SUBSCRIBE news Zoë Ångström\n", "1 SUBSCRIBE news arg=Zoë Ångström; .eot"},
    {NULL, NULL, "SIGNOFF news\nsignoff *\nUNSUBSCRIBE other\n",
     "1 SIGNOFF news; 2 SIGNOFF *; 3 SIGNOFF other; .eot"},
    {NULL, NULL, "SET news DIGEST\nset news nomail\nSET news html\nSET news TEXT\n",
     "1 SET news opt=1; 2 SET news opt=4; 3 SET news opt=5; 4 SET news opt=6; .eot"},
    {NULL, NULL, "SET news\nSET\nSET news LOUD\n",
     "1 !SET needs a list and an option; 2 !SET needs a list and an option; 3 !unknown SET "
     "option; .eot"},
    {NULL, NULL, "QUERY news\nquery *\nQUERY\n",
     "1 QUERY news; 2 QUERY *; 3 !QUERY needs a list or *; .eot"},
    {NULL, NULL, "LISTS\nINDEX\nINDEX news\nINFO news\nINFO\nHELP\nhelp me please\n",
     "1 LISTS ; 2 INDEX ; 3 INDEX news; 4 INFO news; 6 HELP ; 5 !INFO needs a list; .eot"},
    {NULL, NULL, "SUBSCRIBE\nSIGNOFF\nSUBSCRIBE *\nSIGNOFF n/a\n",
     "1 !SUBSCRIBE needs a list; 2 !SIGNOFF needs a list or *; 3 !bad list name; 4 !bad list "
     "name; .eot"},
    {NULL, NULL, "CONFIRM AbC-_09\nconfirm\nCONFIRM a+b\n",
     "1 CONFIRM  arg=AbC-_09; 2 !CONFIRM needs a token; 3 !bad token; .eot"},
    /* CONFIRM takes what the confirmation mail shows: link, address */
    {NULL, NULL,
     "CONFIRM https://lists.example.org/c/AbC-_09\nconfirm <http://x.example/l/u/Tok?x=1>\n"
     "CONFIRM News-Confirm+abcd2345@lists.example.org\n"
     "confirm <mailto:news-unsubscribe+wxyz@lists.example.org>.\n",
     "1 CONFIRM  arg=AbC-_09; 2 CONFIRM  arg=Tok; 3 CONFIRM news arg=abcd2345; "
     "4 CONFIRM news arg=wxyz; .eot"},
    {NULL, NULL,
     "CONFIRM https://lists.example.org/\nCONFIRM news+abc@x.example\n"
     "CONFIRM news-owner+abc@x\nCONFIRM -confirm+abc@x\nCONFIRM news-confirm+@x\n"
     "CONFIRM ftp://x/c/abc\nCONFIRM news-confirm+a.b@x\n",
     "1 !bad token; 2 !bad token; 3 !bad token; 4 !bad token; 5 !bad token; 6 !bad token; "
     "7 !bad token; .eot"},
    /* stops */
    {NULL, NULL, "HELP\nEND\nLISTS\n", "1 HELP ; .end"},
    {NULL, NULL, "help\nquit\nLISTS\n", "1 HELP ; .end"},
    {NULL, NULL, "LISTS\nexit\nLISTS\n", "1 LISTS ; .end"},
    {NULL, NULL, "HELP\n-- \nJohn\nSIGNOFF news\n", "1 HELP ; .sig"},
    {NULL, NULL, "HELP\r\n--\r\nSIGNOFF news\r\n", "1 HELP ; .sig"},
    {NULL, NULL, "HELP\n---\n", "1 HELP ; 2 !unknown command; .eot"},
    /* quoted and empty lines are skipped, and not counted */
    {NULL, NULL, "\n\n> SIGNOFF news\n>SIGNOFF *\n  > QUERY *\nHELP\n\n", "6 HELP ; .eot"},
    /* garbage */
    {NULL, NULL, "Hello, please remove me\nthanks!\n",
     "1 !unknown command; 2 !unknown command; .eot"},
    {NULL, NULL, "HELP\xff\nHELP\x01\nSUB news J\xc3\n",
     "1 !not UTF-8 text; 2 !control character in line; 3 !not UTF-8 text; .eot"},
    {NULL, NULL, "\xef\xbb\xbfHELP", "1 HELP ; .eot"},
    {NULL, NULL, "", ".eot"},
    {NULL, NULL, "\n\r\n  \t\n", ".eot"},
    /* repeated commands are kept once */
    {NULL, NULL, "HELP\nhelp\nSIGNOFF news\nsignoff NEWS\n", "1 HELP ; 3 SIGNOFF news; .eot"},
    /* Mailman style on LIST-request@ */
    {"news", NULL, "subscribe\n", "1 SUBSCRIBE news; .eot"},
    {"news", NULL, "subscribe address=<bob@Example.NET>\n",
     "1 SUBSCRIBE news addr=bob@example.net; .eot"},
    {"news", NULL, "subscribe news Bob Jones address=bob@example.net\n",
     "1 SUBSCRIBE news arg=Bob Jones addr=bob@example.net; .eot"},
    {"news", NULL, "subscribe address=nope\n", "1 !bad address; .eot"},
    {"news", NULL, "unsubscribe\nunsubscribe oldpassword\nunsubscribe *\n",
     "1 SIGNOFF news; 3 SIGNOFF *; .eot"},
    {"news", NULL, "set digest\nSET news NODIGEST\nSET other DIGEST\n",
     "1 SET news opt=1; 2 SET news opt=2; 3 !wrong list for this address; .eot"},
    {"news", NULL, "info\nquery\nQUERY other\n",
     "1 INFO news; 2 QUERY news; 3 !wrong list for this address; .eot"},
    {"news", "Re: confirm T0k3n", "> confirm T0k3n\n", "0 CONFIRM  arg=T0k3n; .eot"},
    {"news", "RE: AW: Fwd:  Confirm T0k3n", "confirm T0k3n\n", "0 CONFIRM  arg=T0k3n; .eot"},
    {"news", "subscribe", "", "0 SUBSCRIBE news; .eot"},
    /* a subject that is not a command is just a subject */
    {"news", "Question about the list", "help\n", "1 HELP ; .eot"},
    {"news", "end", "help\n", "1 HELP ; .eot"},
    /* the server-wide address ignores nothing of the body, but gets no subject */
    {NULL, "help", "", "0 HELP ; .eot"},
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct command_set s;
		size_t bl = strlen(cases[i].body);
		char *body = malloc(bl ? bl : 1); /* exact size: no NUL to lean on */
		assert_non_null(body);
		memcpy(body, cases[i].body, bl);
		command_parse_text(cases[i].subject,
				   cases[i].subject ? strlen(cases[i].subject) : 0, body, bl,
				   cases[i].implied, &s);
		char *got = render(&s);
		if (strcmp(got, cases[i].want) != 0)
			print_error("case %zu: got  %s\n         want %s\n", i, got, cases[i].want);
		assert_string_equal(got, cases[i].want);
		free(got);
		command_set_free(&s);
		free(body);
	}
}

static void test_limits(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1 << 20);
	/* LK_MAX_COMMANDS lines are read, quoted and empty ones not counted */
	for (int i = 0; i < LK_MAX_COMMANDS + 5; i++)
		buf_printf(&b, "> quoted\n\nINFO list%d\n", i);
	struct command_set s;
	command_parse_text("Re: confirm T", 13, b.data, b.len, NULL, &s);
	assert_int_equal(s.n, LK_MAX_COMMANDS + 1); /* and the subject's */
	assert_int_equal(s.stop, CMD_STOP_LIMIT);
	command_set_free(&s);
	command_parse_text("confirm T", 9, b.data, b.len, "list0", &s);
	assert_int_equal(s.n, 2); /* the subject's and INFO list0; the others are errors */
	assert_int_equal(s.nerr, LK_MAX_COMMANDS - 1);
	command_set_free(&s);
	/* over-long lines, a long name, a long token */
	buf_reset(&b);
	for (int i = 0; i < LK_MAX_LINE_OCTETS; i++)
		buf_putc(&b, 'x');
	buf_puts(&b, "\nHELP ");
	for (int i = 0; i < LK_MAX_LINE_OCTETS - 5; i++)
		buf_putc(&b, 'y');
	buf_puts(&b, "\nHELP ");
	for (int i = 0; i < LK_MAX_LINE_OCTETS - 4; i++)
		buf_putc(&b, 'y');
	buf_puts(&b, "\nSUB news ");
	for (int i = 0; i < LK_MAX_NAME + 1; i++)
		buf_putc(&b, 'n');
	buf_puts(&b, "\nCONFIRM ");
	for (int i = 0; i < LK_MAX_TOKEN + 1; i++)
		buf_putc(&b, 't');
	buf_puts(&b, "\nSUB ");
	for (int i = 0; i < LK_MAX_LIST_NAME + 1; i++)
		buf_putc(&b, 'l');
	buf_putc(&b, '\n');
	command_parse_text(NULL, 0, b.data, b.len, NULL, &s);
	char *got = render(&s);
	assert_string_equal(got, "2 HELP ; 1 !unknown command; 3 !line too long; 4 !name too long; "
				 "5 !bad token; 6 !bad list name; .eot");
	free(got);
	command_set_free(&s);
	buf_free(&b);
}

static void test_message(void **state)
{
	(void)state;
	static const struct {
		const char *implied, *msg, *want;
		int r;
	} m[] = {
	    {NULL,
	     "From: a@example.net\nSubject: whatever\nContent-Type: text/plain; charset=utf-8\n"
	     "Content-Transfer-Encoding: quoted-printable\n\nSUBSCRIBE news Zo=C3=AB=20\nHE=\nLP\n",
	     "1 SUBSCRIBE news arg=Zoë; 2 HELP ; .eot", 0},
	    {NULL,
	     "From: a@example.net\nContent-Type: text/plain; charset=iso-8859-1\n"
	     "Content-Transfer-Encoding: quoted-printable\n\nSUBSCRIBE news Ren=E9\n",
	     "1 SUBSCRIBE news arg=René; .eot", 0},
	    {"news",
	     "From: a@example.net\nSubject: =?UTF-8?Q?Re=3A_confirm_Tok?=\nMIME-Version: 1.0\n"
	     "Content-Type: multipart/alternative; boundary=X\n\n--X\nContent-Type: text/html\n\n"
	     "<p>unsubscribe</p>\n--X\nContent-Type: text/plain\nContent-Transfer-Encoding: "
	     "base64\n\nc2V0IGRpZ2VzdAo=\n--X--\n",
	     "0 CONFIRM  arg=Tok; 1 SET news opt=1; .eot", 0},
	    {NULL,
	     "From: a@example.net\nContent-Type: text/plain; "
	     "charset=x-unknown-thing\n\nHELP\n\xe9\n",
	     "1 HELP ; 2 !not UTF-8 text; .eot", 0},
	    {NULL, "From: a@example.net\nContent-Type: image/png\n\nHELP\n", ".eot", -1},
	    {NULL, "HELP\n", ".eot", -1}, /* no header, no body */
	};
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
		struct command_set s;
		int r = command_parse_message(m[i].msg, strlen(m[i].msg), m[i].implied, &s);
		char *got = render(&s);
		if (r != m[i].r || strcmp(got, m[i].want) != 0)
			print_error("message %zu: r=%d got %s\n", i, r, got);
		assert_int_equal(r, m[i].r);
		assert_string_equal(got, m[i].want);
		free(got);
		command_set_free(&s);
	}
	struct command_set s;
	assert_int_equal(command_parse_message("x", (size_t)LK_MAX_MESSAGE + 1, NULL, &s), -1);
	command_set_free(&s);
}

int main(void)
{
	mimetext_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_message),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return r;
}
