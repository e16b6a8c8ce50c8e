/*
 * cmd_summary.c - `listkeeper summary show|send`: the owners' daily summary
 * (lists/summary.h). serve's scheduler role queues yesterday's summaries
 * every day at [summary] hour; `summary send` does the same from cron
 * (lists_summary_send_all, one code path) for those who set the hour to -1
 * or run no scheduler. The delivery role sends them. Running it twice for
 * a day queues nothing more.
 *
 * TRUST: arguments are the operator's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

#include "core/clock.h"
#include "lists/summary.h"

static const char USAGE[] =
    "usage: listkeeper summary show LIST [--day YYYY-MM-DD]\n"
    "       listkeeper summary send [--list LIST] [--day YYYY-MM-DD]\n\n"
    "The owners' daily summary of a list: new subscriptions, confirmed, left,\n"
    "disabled and removed by bounces, complaints, bounces that could not be\n"
    "understood. Counts only, never an address.\n\n"
    "  show  prints the counts of one day (default: yesterday, UTC)\n"
    "  send  queues the summary of that day to the owners of every list (or of\n"
    "        LIST), once per list and day; a day with nothing to tell sends nothing.\n"
    "        Run it daily from cron after midnight UTC, e.g.\n"
    "          15 0 * * *  listkeeper -c /srv/lists/listkeeper.conf summary send\n";

static int parse_day(const char *z, int64_t *day)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(z, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*day = (int64_t)t / 86400;
	return 0;
}

/* What `summary send` prints for one list. */
static void said(void *ctx, const struct list_rec *l, enum lists_summary_result r, int jobs,
		 const char *err)
{
	(void)ctx;
	switch (r) {
	case SUMMARY_QUEUED:
		printf("%s: summary queued to %d owner%s\n", l->name, jobs, jobs == 1 ? "" : "s");
		break;
	case SUMMARY_NO_OWNERS:
		printf("%s: no owners (list set %s --owner ADDR)\n", l->name, l->name);
		break;
	case SUMMARY_NOTHING:
		printf("%s: nothing happened, nothing sent\n", l->name);
		break;
	case SUMMARY_SENT_ALREADY:
		printf("%s: sent already for that day\n", l->name);
		break;
	case SUMMARY_ERROR:
		fprintf(stderr, "listkeeper summary send: %s: %s\n", l->name, err);
		break;
	}
}

int cmd_summary(struct cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(USAGE, stdout);
		return 0;
	}
	const char *verb = argc > 1 ? argv[1] : "";
	const char *list = NULL;
	int64_t day = clock_now() / 86400 - 1;
	int i = 2;
	if (!strcmp(verb, "show") && argc > 2 && argv[2][0] != '-')
		list = argv[i++];
	for (; i < argc; i += 2) {
		if (i + 1 >= argc) {
			fputs(USAGE, stderr);
			return EX_USAGE;
		}
		if (!strcmp(argv[i], "--day")) {
			if (parse_day(argv[i + 1], &day) < 0) {
				fprintf(stderr, "listkeeper summary: '%s' is not YYYY-MM-DD\n",
					argv[i + 1]);
				return EX_USAGE;
			}
		} else if (!strcmp(argv[i], "--list") && !strcmp(verb, "send")) {
			list = argv[i + 1];
		} else {
			fputs(USAGE, stderr);
			return EX_USAGE;
		}
	}
	if ((strcmp(verb, "show") && strcmp(verb, "send")) || (!strcmp(verb, "show") && !list)) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	int r = cli_open(c);
	if (r)
		return r;
	struct list_rec l = {0};
	if (list != NULL && (r = cli_list(c, list, &l)) != 0)
		return r;
	if (!strcmp(verb, "show")) {
		struct lists_summary s;
		struct buf subject, text;
		int sc = lists_summary_counts(&c->x, &l, day, &s);
		if (sc != STORE_OK) {
			list_rec_free(&l);
			return cli_store_fail(c, "summary show", sc, NULL);
		}
		buf_init(&subject, 1024);
		buf_init(&text, 4096);
		lists_summary_text(&l, &s, &subject, &text);
		printf("Subject: %s\n\n%s", buf_cstr(&subject), buf_cstr(&text));
		buf_free(&subject);
		buf_free(&text);
		list_rec_free(&l);
		return 0;
	}
	int failed = 0;
	if (list != NULL) {
		struct buf err;
		buf_init(&err, 1024);
		int jobs = 0;
		enum lists_summary_result res = lists_summary_queue(&c->x, &l, day, &jobs, &err);
		failed = res == SUMMARY_ERROR;
		said(NULL, &l, res, jobs, buf_cstr(&err));
		buf_free(&err);
		list_rec_free(&l);
	} else {
		struct buf err;
		buf_init(&err, 1024);
		int r2 = lists_summary_send_all(&c->x, day, said, NULL, &failed, &err);
		if (r2 != STORE_OK)
			r2 = cli_store_fail(c, "summary send", r2, &err);
		buf_free(&err);
		if (r2 != STORE_OK)
			return r2;
	}
	return failed ? EX_TEMPFAIL : 0;
}
