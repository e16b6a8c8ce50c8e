/*
 * cmd_summary.c - `listkeeper summary show|send`: the owners' daily summary
 * (lists/summary.h). Run `summary send` once a day from cron, after
 * midnight UTC: it queues yesterday's summary of every list with owners as
 * notice jobs, which serve's delivery role sends. Running it twice for a
 * day queues nothing more.
 *
 * TRUST: arguments are the operator's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/xmalloc.h"
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

struct send_ctx {
	struct cli *c;
	int64_t day;
	int failed;
	int64_t *ids; /* the lists, collected first: no write inside the walk */
	size_t n, cap;
};

static int collect(void *ctx, const struct list_rec *l)
{
	struct send_ctx *s = ctx;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->ids = xreallocarray(s->ids, s->cap, sizeof(*s->ids));
	}
	s->ids[s->n++] = l->id;
	return 0;
}

static int send_one(void *ctx, const struct list_rec *l)
{
	struct send_ctx *s = ctx;
	struct buf err;
	buf_init(&err, 1024);
	int jobs = 0;
	enum lists_summary_result r = lists_summary_queue(&s->c->x, l, s->day, &jobs, &err);
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
		fprintf(stderr, "listkeeper summary send: %s: %s\n", l->name, buf_cstr(&err));
		s->failed = 1;
		break;
	}
	buf_free(&err);
	return 0;
}

int cmd_summary(struct cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(USAGE, stdout);
		return 0;
	}
	const char *verb = argc > 1 ? argv[1] : "";
	const char *list = NULL;
	int64_t day = (int64_t)time(NULL) / 86400 - 1;
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
		if (lists_summary_counts(&c->x, &l, day, &s) != STORE_OK) {
			list_rec_free(&l);
			return cli_store_fail(c, "summary show", NULL);
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
	struct send_ctx s = {c, day, 0, NULL, 0, 0};
	if (list != NULL) {
		send_one(&s, &l);
		list_rec_free(&l);
	} else if (store_list_each(c->st, collect, &s) != STORE_OK) {
		free(s.ids);
		return cli_store_fail(c, "summary send", NULL);
	}
	for (size_t k = 0; k < s.n; k++) {
		struct list_rec one = {0};
		if (store_list_get_id(c->st, s.ids[k], &one) == STORE_OK)
			send_one(&s, &one);
		list_rec_free(&one);
	}
	free(s.ids);
	return s.failed ? EX_TEMPFAIL : 0;
}
