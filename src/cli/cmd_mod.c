/*
 * cmd_mod.c - `listkeeper mod ls|show|approve|reject|discard LIST [ID...]`:
 * the moderation queue of a discussion list (lists/held.h), and the
 * moderators' decisions (mail/moderate.h): approve distributes the post,
 * reject tells its sender (with --reason), discard deletes it.
 *
 * TRUST: a held post is opened from the store; `mod show` prints its sender
 * and its message as they came (to the operator's terminal) and writes the
 * view to the audit log (P8). ls prints no address.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/num.h"
#include "intake/postin.h"
#include "lists/held.h"
#include "mail/moderate.h"

static const char USAGE[] =
    "usage: listkeeper mod ls LIST\n"
    "       listkeeper mod show LIST ID\n"
    "       listkeeper mod approve LIST ID...\n"
    "       listkeeper mod reject LIST ID... [--reason TEXT]\n"
    "       listkeeper mod discard LIST ID...\n\n"
    "The posts to the discussion list LIST held for the moderators (non-member,\n"
    "spam score, moderated member...). ls: one line per post (id, when, size,\n"
    "expiry, reason); show: its sender and the message (written to the audit\n"
    "log); approve: it is distributed to the list; reject: it is deleted and its\n"
    "sender told, with the reason if given; discard: it is deleted. A moderator\n"
    "may also reply to the notice of a held post: that approves it, or rejects\n"
    "or discards it when the reply's first word says so.\n";

static void day(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%d %H:%M", &tm);
}

static int ls_one(void *ctx, const struct held_rec *r)
{
	int *n = ctx;
	char c[32], e[32];
	day(r->created, c);
	day(r->expires, e);
	printf("%-6" PRId64 " %s  %8" PRId64 "  expires %s  %s%s%s%s\n", r->id, c, r->size, e,
	       r->reason, r->detail[0] ? " (" : "", r->detail, r->detail[0] ? ")" : "");
	(*n)++;
	return 0;
}

static int show(struct cli *c, const struct list_rec *l, int64_t id)
{
	struct held_rec h;
	memset(&h, 0, sizeof(h));
	int r = store_held_get(c->st, id, &h);
	if (r == STORE_OK && h.list_id != l->id)
		r = STORE_NOTFOUND;
	if (r == STORE_NOTFOUND) {
		fprintf(stderr, "listkeeper mod: %s has no held post %" PRId64 "\n", l->name, id);
		held_rec_free(&h);
		return EX_DATAERR;
	}
	struct buf err;
	buf_init(&err, 256);
	if (r != STORE_OK) {
		held_rec_free(&h);
		return cli_store_fail(c, "mod show", r, &err);
	}
	struct buf sender, msg;
	buf_init(&sender, LK_MAX_ADDRESS + 1);
	buf_init(&msg, LK_MAX_MESSAGE);
	int rc = 0;
	if (held_open(&c->keys, &h, &sender, &msg) < 0) {
		fprintf(stderr, "listkeeper mod: held post %" PRId64 " does not open\n", id);
		rc = EX_DATAERR;
	} else {
		char detail[64];
		bsnprintf(detail, sizeof(detail), "held=%" PRId64, id);
		r = store_audit(c->st, clock_now(), c->actor, "mod-show", l->id, 0, detail);
		if (r != STORE_OK) {
			rc = cli_store_fail(c, "mod show", r, &err); /* not shown unaudited */
		} else {
			char when[32];
			day(h.created, when);
			printf("post %" PRId64 " to %s, held %s: %s%s%s%s\nsender: %s\n\n", id,
			       l->name, when, h.reason, h.detail[0] ? " (" : "", h.detail,
			       h.detail[0] ? ")" : "", buf_cstr(&sender));
			fwrite(msg.data != NULL ? msg.data : "", 1, msg.len, stdout);
		}
	}
	buf_free(&sender);
	buf_free(&msg);
	buf_free(&err);
	held_rec_free(&h);
	return rc;
}

int cmd_mod(struct cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(USAGE, stdout);
		return 0;
	}
	enum moderate_action a = MODERATE_APPROVE;
	int is_ls = argc == 3 && strcmp(argv[1], "ls") == 0;
	int is_show = argc == 4 && strcmp(argv[1], "show") == 0;
	const char *reason = NULL;
	int nids = 0;
	if (!is_ls && !is_show) {
		if (argc < 4 || moderate_action_parse(argv[1], &a) < 0) {
			fputs(USAGE, stderr);
			return EX_USAGE;
		}
		for (int i = 3; i < argc; i++) {
			if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc &&
			    a == MODERATE_REJECT) {
				reason = argv[++i];
				continue;
			}
			int64_t v;
			if (num_parse_i64(argv[i], strlen(argv[i]), 1, INT64_MAX, &v) < 0) {
				fprintf(stderr, "listkeeper mod: %s is not a held post's number\n",
					argv[i]);
				return EX_USAGE;
			}
			nids++;
		}
		if (nids == 0) {
			fputs(USAGE, stderr);
			return EX_USAGE;
		}
	}
	int rc = cli_open(c);
	if (rc != 0)
		return rc;
	if (!is_ls && !is_show && (rc = cli_templates(c)) != 0)
		return rc;
	struct list_rec l;
	rc = cli_list(c, argv[2], &l);
	if (rc != 0)
		return rc;
	if (l.kind != LIST_KIND_DISCUSSION) {
		fprintf(stderr, "listkeeper mod: %s is an announcement list (kind announce)\n",
			l.name);
		list_rec_free(&l);
		return EX_DATAERR;
	}
	struct buf err;
	buf_init(&err, 1024);
	if (is_ls) {
		int n = 0;
		int r = store_held_each(c->st, l.id, ls_one, &n);
		if (r != STORE_OK)
			rc = cli_store_fail(c, "mod ls", r, &err);
		else if (n == 0)
			printf("no post of %s is held\n", l.name);
	} else if (is_show) {
		int64_t id;
		if (num_parse_i64(argv[3], strlen(argv[3]), 1, INT64_MAX, &id) < 0) {
			fprintf(stderr, "listkeeper mod: %s is not a held post's number\n",
				argv[3]);
			rc = EX_USAGE;
		} else {
			rc = show(c, &l, id);
		}
	} else {
		for (int i = 3; i < argc; i++) {
			if (strcmp(argv[i], "--reason") == 0) {
				i++;
				continue;
			}
			int64_t id = 0, job = 0;
			num_parse_i64(argv[i], strlen(argv[i]), 1, INT64_MAX, &id);
			buf_reset(&err);
			int r = moderate_decide(&c->x, c->conf, &l, id, a, reason,
						&postin_archive_hook, &job, &err);
			if (r == STORE_OK && a == MODERATE_APPROVE)
				printf("post %" PRId64 " approved: job %" PRId64
				       " sends it to %s\n",
				       id, job, l.name);
			else if (r == STORE_OK)
				printf("post %" PRId64 " %s\n", id,
				       a == MODERATE_REJECT ? "rejected: its sender is told"
							    : "discarded");
			else if (r == STORE_NOTFOUND) {
				fprintf(stderr, "listkeeper mod: %s has no held post %" PRId64 "\n",
					l.name, id);
				rc = EX_DATAERR;
			} else if (r == STORE_ERR && err.len > 0) {
				fprintf(stderr, "listkeeper mod: post %" PRId64 ": %s\n", id,
					buf_cstr(&err));
				rc = EX_DATAERR;
			} else {
				rc = cli_store_fail(c, "mod", r, &err);
			}
		}
	}
	buf_free(&err);
	list_rec_free(&l);
	return rc;
}
