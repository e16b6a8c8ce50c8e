/*
 * main.c - `listkeeper`: one binary, subcommands as git has them.
 *
 * TRUST: arguments and environment are the operator's; each subcommand
 * checks its own.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/xmalloc.h"
#include "core/log.h"

#define VERSION "0.1.0"

static const struct {
	const char *name;
	cli_cmd_fn fn;
	const char *help;
} CMDS[] = {
    {"init", cmd_init, "create the configuration, the key file and the database"},
    {"list", cmd_list, "create, show, change and delete lists"},
    {"sub", cmd_sub, "add, remove and list subscribers of a list"},
    {"import", cmd_import, "import subscribers from a CSV file"},
    {"export", cmd_export, "export a list's subscribers as CSV or JSON"},
    {"archive", cmd_archive, "import an mbox into a list's archive, or export the archive"},
    {"person", cmd_person, "show, export or erase what is held about an address"},
    {"send", cmd_send, "send a message to a list (a campaign)"},
    {"job", cmd_job, "list, show, pause, resume and cancel delivery jobs"},
    {"ledger", cmd_ledger, "verify the consent ledger's hash chain"},
    {"store", cmd_store, "copy the SQLite store into PostgreSQL (migrate)"},
    {"stats", cmd_stats, "print the daily aggregate statistics (views, browsers, opens)"},
    {"dkim", cmd_dkim, "make a DKIM signing key and print its DNS record"},
    {"inject", cmd_inject, "handle one incoming message on stdin (an MTA's pipe transport)"},
    {"intake", cmd_intake, "the intake spool and its quarantine"},
    {"post", cmd_post, "what would happen to a post to a discussion list (its checks)"},
    {"mod", cmd_mod, "the held posts of a discussion list: ls, show, approve, reject, discard"},
    {"filter", cmd_filter, "send a message through the virus and spam filters ([filter])"},
    {"postfix", cmd_postfix, "write the Postfix relay_recipient_maps source of every list"},
    {"summary", cmd_summary, "the owners' daily summary of a list (show, send)"},
    {"user", cmd_user, "accounts of the admin interface and their roles"},
    {"token", cmd_token, "make a bearer token for the JSON API"},
    {"serve", cmd_serve, "run the server (web pages, delivery) until SIGINT or SIGTERM"},
};

static void usage(FILE *fp)
{
	fprintf(fp, "usage: listkeeper [-c CONFIG] COMMAND [ARGS]\n\n"
		    "A mailing-list server that keeps its privacy promises.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(CMDS) / sizeof(CMDS[0]); i++)
		fprintf(fp, "  %-8s %s\n", CMDS[i].name, CMDS[i].help);
	fprintf(fp, "\noptions:\n"
		    "  -c, --config FILE  configuration file (default: $LISTKEEPER_CONFIG,\n"
		    "                     then ./listkeeper.conf)\n"
		    "  -h, --help         this help; `listkeeper COMMAND --help` for a command\n"
		    "  -V, --version      print the version\n\n"
		    "See listkeeper(1).\n");
}

int main(int argc, char **argv)
{
	struct cli c;
	memset(&c, 0, sizeof(c));
	umask(077);	     /* everything we create holds personal data or keys */
	xmalloc_wipe_json(); /* JSON values hold addresses and names */
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("listkeeper %s\n", VERSION);
			return 0;
		} else if ((!strcmp(a, "-c") || !strcmp(a, "--config")) && i + 1 < argc) {
			c.config_path = argv[++i];
		} else if (!strncmp(a, "--config=", 9)) {
			c.config_path = a + 9;
		} else {
			fprintf(stderr, "listkeeper: unknown option %s\n", a);
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	for (size_t k = 0; k < sizeof(CMDS) / sizeof(CMDS[0]); k++) {
		if (strcmp(argv[i], CMDS[k].name) == 0) {
			int r = CMDS[k].fn(&c, argc - i, argv + i);
			cli_close(&c);
			/* What a command printed must have reached its file: a full
			 * disk, or stdout on /dev/full, is a failed write (74). */
			if ((fflush(stdout) != 0 || ferror(stdout)) && r == 0) {
				fprintf(stderr, "listkeeper %s: cannot write the output: %m\n",
					CMDS[k].name);
				r = EX_IOERR;
			}
			log_close();
			return r;
		}
	}
	fprintf(stderr, "listkeeper: '%s' is not a command; see `listkeeper --help`\n", argv[i]);
	return EX_USAGE;
}
