/*
 * cmd_postfix.c - `listkeeper postfix maps`: the relay_recipient_maps
 * source for Postfix (docs/postfix.md): one line per address a list
 * receives mail at, without the +TOKEN part (Postfix's
 * recipient_delimiter = + makes LIST-bounces+TOKEN@ match LIST-bounces@),
 * and the server-wide command address at every list domain. Run it after
 * each `list create` or `list delete`, then `postmap` the file.
 *
 * The local parts are those intake/route.c accepts (LIST, LIST-request,
 * LIST-owner, LIST-confirm+, LIST-bounces+, LIST-unsubscribe+ and
 * [intake] command_address).
 *
 * TRUST: arguments are the operator's; list names and domains come from
 * the store, where list create checked them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static const char USAGE[] =
    "usage: listkeeper postfix maps [--output FILE]\n\n"
    "Prints the source of Postfix's relay_recipient_maps: every address of every\n"
    "list (LIST, LIST-request, LIST-owner, LIST-confirm, LIST-bounces,\n"
    "LIST-unsubscribe, without +TOKEN) and the command address at each list\n"
    "domain, one per line as ADDRESS TAB x. With --output FILE it replaces FILE\n"
    "at once (a temporary file renamed over it); then run `postmap FILE`. Run it\n"
    "after each list create or delete, e.g.\n"
    "  listkeeper postfix maps --output /etc/postfix/list_recipients &&\n"
    "    postmap /etc/postfix/list_recipients\n";

static const char *const SUFFIXES[] = {"",	   "-request", "-owner",
				       "-confirm", "-bounces", "-unsubscribe"};

struct maps {
	struct buf out;
	struct buf domains; /* "d1\nd2\n": the domains the command address was written for */
	const char *command;
};

static int one_list(void *ctx, const struct list_rec *l)
{
	struct maps *m = ctx;
	for (size_t i = 0; i < sizeof(SUFFIXES) / sizeof(SUFFIXES[0]); i++)
		buf_printf(&m->out, "%s%s@%s\tx\n", l->name, SUFFIXES[i], l->domain);
	/* the command address once per domain */
	struct buf line;
	buf_init(&line, 512);
	buf_printf(&line, "\n%s\n", l->domain);
	struct str all = buf_str(&m->domains), want = buf_str(&line);
	int seen = 0;
	for (size_t i = 0; !seen && all.len >= want.len && i <= all.len - want.len; i++)
		seen = memcmp(all.ptr + i, want.ptr, want.len) == 0;
	if (!seen) {
		buf_printf(&m->domains, "%s\n", l->domain);
		buf_printf(&m->out, "%s@%s\tx\n", m->command, l->domain);
	}
	buf_free(&line);
	return 0;
}

/* Writes p (len bytes) to path through path.tmp and a rename. */
static int write_file(const char *path, const char *p, size_t len)
{
	struct buf tmp;
	buf_init(&tmp, 4096);
	buf_printf(&tmp, "%s.tmp", path);
	FILE *f = fopen(buf_cstr(&tmp), "w");
	int ok = f != NULL && fwrite(p, 1, len, f) == len;
	if (f != NULL && fclose(f) != 0)
		ok = 0;
	if (ok && rename(buf_cstr(&tmp), path) != 0)
		ok = 0;
	if (!ok) {
		perror(buf_cstr(&tmp));
		unlink(buf_cstr(&tmp));
	}
	buf_free(&tmp);
	return ok ? 0 : -1;
}

int cmd_postfix(struct cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(USAGE, stdout);
		return 0;
	}
	const char *output = NULL;
	if (argc == 4 && !strcmp(argv[1], "maps") && !strcmp(argv[2], "--output"))
		output = argv[3];
	else if (argc != 2 || strcmp(argv[1], "maps") != 0) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	int r = cli_open(c);
	if (r)
		return r;
	struct maps m;
	buf_init(&m.out, 64u << 20);
	buf_init(&m.domains, 16u << 20);
	buf_putc(&m.domains, '\n');
	m.command = conf_get(c->conf, "intake", "command_address");
	int sr = store_list_each(c->st, one_list, &m);
	if (sr != STORE_OK) {
		r = cli_store_fail(c, "postfix maps", sr, NULL);
	} else if (m.out.err) {
		fputs("listkeeper postfix maps: too many lists for one map\n", stderr);
		r = EX_SOFTWARE;
	} else if (output != NULL) {
		r = write_file(output, m.out.data != NULL ? m.out.data : "", m.out.len) < 0
			? EX_CANTCREAT
			: 0;
	} else {
		fwrite(m.out.data != NULL ? m.out.data : "", 1, m.out.len, stdout);
	}
	buf_free(&m.out);
	buf_free(&m.domains);
	return r;
}
