/*
 * cli.h - what the subcommands share: finding the configuration, opening the
 * keys and the store, parsing an address argument, exit codes.
 *
 * Exit codes follow sysexits.h: 0 done, 64 usage, 65 bad data (some input
 * rows refused), 66 no input, 69 unavailable (the store cannot be opened),
 * 70 internal, 71 system error (a port taken), 73 cannot create, 74 I/O error,
 * 75 try again later (the store is locked), 78 configuration error.
 */
#ifndef LK_CLI_CLI_H
#define LK_CLI_CLI_H

#include <sysexits.h>

#include "core/conf.h"
#include "core/tmpl.h"
#include "crypto/keys.h"
#include "lists/lists.h"
#include "lists/person.h"
#include "core/address.h"
#include "store/store.h"

struct cli {
	const char *config_path; /* -c, $LISTKEEPER_CONFIG, or ./listkeeper.conf */
	struct conf *conf;
	struct keys keys;
	struct store *st;
	struct lists_ctx x;
	struct tmpl_set *tmpl; /* cli_templates; freed by cli_close */
	char actor[64];
	int migrate; /* set before cli_open: bring the schema up to date (serve) */
};

/* Loads the configuration, the key file and the store. On failure prints what
 * to fix on stderr and returns the exit code (non-zero). */
int cli_open(struct cli *c);
void cli_close(struct cli *c);
/* Loads the templates (core/tmpl.h tmpl_set_load_conf: the built-ins and
 * [web] templates) for a command that queues a confirmation, welcome or
 * goodbye mail, and gives them to c->x: the command line sends the same
 * mails as the web role. After cli_open. On failure prints what to fix and
 * returns EX_CONFIG. */
int cli_templates(struct cli *c);
/* Finds the configuration file to use (never NULL). */
const char *cli_config_path(const struct cli *c);

/* Loads a list by name or prints "no list named X (see `listkeeper list ls`)". */
int cli_list(struct cli *c, const char *name, struct list_rec *out);
/* Parses an address argument, or prints why it is not one. */
int cli_address(const char *arg, struct address *out);
/* Maps a failed store result r (as the store or the lists layer returned it)
 * to an exit code, printing err (or the store's message): EX_TEMPFAIL for
 * STORE_BUSY (the store stayed locked: try again), EX_SOFTWARE otherwise.
 * Decided by r, never by the message's text. */
int cli_store_fail(struct cli *c, const char *what, int r, struct buf *err);

/* A subcommand: argc/argv start at the subcommand's name. */
typedef int (*cli_cmd_fn)(struct cli *c, int argc, char **argv);
int cmd_init(struct cli *c, int argc, char **argv);
int cmd_list(struct cli *c, int argc, char **argv);
int cmd_sub(struct cli *c, int argc, char **argv);
int cmd_import(struct cli *c, int argc, char **argv);
int cmd_export(struct cli *c, int argc, char **argv);
int cmd_person(struct cli *c, int argc, char **argv);
int cmd_archive(struct cli *c, int argc, char **argv);
int cmd_ledger(struct cli *c, int argc, char **argv);
int cmd_dkim(struct cli *c, int argc, char **argv);
int cmd_send(struct cli *c, int argc, char **argv);
int cmd_job(struct cli *c, int argc, char **argv);
int cmd_serve(struct cli *c, int argc, char **argv);
int cmd_intake(struct cli *c, int argc, char **argv);
int cmd_postfix(struct cli *c, int argc, char **argv);
int cmd_filter(struct cli *c, int argc, char **argv);
int cmd_post(struct cli *c, int argc, char **argv);
int cmd_mod(struct cli *c, int argc, char **argv);
/* Prints one line per filter that ran in s (cmd_filter.c); returns 0, or
 * EX_TEMPFAIL / EX_UNAVAILABLE when one could not answer for now / at all. */
struct filter_conf;
struct post_scan;
int cli_print_scan(const struct filter_conf *fc, const struct post_scan *s);
int cmd_inject(struct cli *c, int argc, char **argv);
int cmd_stats(struct cli *c, int argc, char **argv);
int cmd_summary(struct cli *c, int argc, char **argv);
int cmd_user(struct cli *c, int argc, char **argv);
int cmd_token(struct cli *c, int argc, char **argv);
int cmd_store(struct cli *c, int argc, char **argv);

/* 1 if argv holds -h or --help before any "--". */
int cli_wants_help(int argc, char **argv);

#endif
