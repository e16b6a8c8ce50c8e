/*
 * fuzz_command.c - libFuzzer driver for intake/command.c.
 *
 * The first input byte chooses: bit 0, whether the mail went to
 * LIST-request@ (implied list "news") or the server-wide address; bit 1,
 * whether the rest is a whole message (GMime decodes it) or "subject\0body"
 * text. Checks: never a crash or a leak; at most LK_MAX_COMMANDS (+1 for
 * the subject) commands and as many errors; every list is "", "*" or a
 * valid name; names, tokens and addresses within their limits; line
 * numbers within the text; every error has a reason.
 * Seeds: corpus/fuzz_command/.
 *
 * TRUST: the whole input is untrusted; the pieces are copied to exact-size
 * heap blocks so that ASan catches any read past them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "intake/command.h"
#include "intake/mimetext.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mimetext_init();
	return 0;
}

static char *copy(const void *p, size_t n)
{
	char *q = malloc(n ? n : 1);
	if (q == NULL)
		abort();
	memcpy(q, p, n);
	return q;
}

static void check(const struct command_set *s, size_t lines)
{
	if (s->n > LK_MAX_COMMANDS + 1 || s->nerr > LK_MAX_COMMANDS + 1)
		abort();
	for (size_t i = 0; i < s->n; i++) {
		const struct command *c = &s->cmd[i];
		size_t ll = strnlen(c->list, sizeof c->list);
		if (ll > LK_MAX_LIST_NAME || c->verb < CMD_SUBSCRIBE || c->verb > CMD_CONFIRM)
			abort();
		if (ll > 0 && strcmp(c->list, "*") != 0 &&
		    strspn(c->list, "abcdefghijklmnopqrstuvwxyz0123456789._-") != ll)
			abort();
		if (c->arg != NULL && strlen(c->arg) > LK_MAX_NAME)
			abort();
		if (c->verb == CMD_CONFIRM && (c->arg == NULL || strlen(c->arg) > LK_MAX_TOKEN))
			abort();
		if (c->address != NULL && strlen(c->address) > LK_MAX_ADDRESS)
			abort();
		if (c->line > lines)
			abort();
	}
	for (size_t i = 0; i < s->nerr; i++)
		if (s->err[i].reason == NULL || s->err[i].line == 0 || s->err[i].line > lines)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1u << 18))
		return 0;
	const char *implied = data[0] & 1 ? "news" : NULL;
	const char *p = (const char *)data + 1;
	size_t n = size - 1, lines = 1;
	for (size_t i = 0; i < n; i++)
		lines += p[i] == '\n';
	struct command_set s;
	if (data[0] & 2) {
		char *m = copy(p, n);
		if (command_parse_message(m, n, implied, &s) == 0)
			check(&s, (size_t)-1); /* lines are those of the decoded text */
		else if (s.n != 0 || s.nerr != 0)
			abort();
		command_set_free(&s);
		free(m);
		return 0;
	}
	const char *nul = memchr(p, '\0', n);
	size_t sl = nul ? (size_t)(nul - p) : 0;
	char *subj = nul ? copy(p, sl) : NULL;
	char *body = nul ? copy(nul + 1, n - sl - 1) : copy(p, n);
	size_t bl = nul ? n - sl - 1 : n;
	command_parse_text(subj, sl, body, bl, implied, &s);
	check(&s, lines);
	command_set_free(&s);
	free(subj);
	free(body);
	return 0;
}
