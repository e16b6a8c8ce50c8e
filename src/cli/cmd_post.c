/*
 * cmd_post.c - `listkeeper post check LIST FILE`: the checks a post to a
 * discussion list goes through (intake/post.h), run on the message in FILE
 * as if it had arrived for LIST@DOMAIN, with the decision printed: accept,
 * hold, discard, reject, refuse or retry, and why. Nothing is kept, sent or
 * changed.
 *
 * TRUST: FILE is the operator's, read up to LK_MAX_MESSAGE and checked as
 * untrusted mail. The sender's address is not printed.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/limits.h"
#include "intake/filter.h"
#include "intake/post.h"

static const char USAGE[] =
    "usage: listkeeper post check LIST FILE\n\n"
    "Runs the checks of a post to the discussion list LIST on the message in\n"
    "FILE: size ([post] max_message_kb), loop and sanity checks, the virus scan\n"
    "and the spam score ([filter]), the posting policy and moderation of LIST\n"
    "and [post]. Prints one line per filter and the decision:\n"
    "  decision: ACTION (REASON: DETAIL)\n"
    "ACTION is accept, hold, discard, reject, refuse (at DATA) or retry (a\n"
    "filter is unavailable for now). Nothing is kept, sent or changed. Exit 0\n"
    "once decided, 75 when a filter was unavailable for now.\n";

int cmd_post(struct cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(USAGE, stdout);
		return 0;
	}
	if (argc != 4 || strcmp(argv[1], "check") != 0) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	int rc = cli_open(c);
	if (rc != 0)
		return rc;
	struct list_rec l;
	rc = cli_list(c, argv[2], &l);
	if (rc != 0)
		return rc;
	struct buf err, msg;
	buf_init(&err, 4096);
	buf_init(&msg, LK_MAX_MESSAGE);
	struct filter_conf fc;
	struct post_rules rules;
	if (l.kind != LIST_KIND_DISCUSSION) {
		fprintf(stderr, "listkeeper post: %s is an announcement list (kind announce)\n",
			l.name);
		rc = EX_DATAERR;
		goto out;
	}
	if (filter_conf_load(c->conf, &fc, &err) < 0 ||
	    post_rules_load(c->conf, &l, &rules, &err) < 0) {
		fprintf(stderr, "listkeeper: %s\n", buf_cstr(&err));
		rc = EX_CONFIG;
		goto out;
	}
	int r = buf_read_file(&msg, argv[3], &err);
	if (r != 0) {
		if (r > 0)
			buf_printf(&err, "%s: not a regular file", argv[3]);
		fprintf(stderr, "listkeeper post: %s\n", buf_cstr(&err));
		rc = EX_NOINPUT;
		goto out;
	}
	struct post_scan scan;
	struct post_decision d;
	if (post_check(&rules, &fc, &c->keys, c->st, &l, msg.data ? msg.data : "", msg.len, &scan,
		       &d, &err) < 0) {
		rc = cli_store_fail(c, "post check", STORE_ERR, &err);
		goto out;
	}
	cli_print_scan(&fc, &scan);
	if (d.reason == POST_REASON_NONE)
		printf("decision: %s\n", post_action_name(d.action));
	else if (d.detail[0] != '\0')
		printf("decision: %s (%s: %s)\n", post_action_name(d.action),
		       post_reason_name(d.reason), d.detail);
	else
		printf("decision: %s (%s)\n", post_action_name(d.action),
		       post_reason_name(d.reason));
	rc = d.action == POST_RETRY ? EX_TEMPFAIL : 0;
out:
	list_rec_free(&l);
	buf_free(&msg);
	buf_free(&err);
	return rc;
}
