/*
 * cmd_stats.c - `listkeeper stats [LIST] [--days N]`: the aggregate
 * statistics the web role counted (web/stats.h): page views by day and
 * route, browser families, countries, and the opens of campaigns with the
 * unique opens estimated from their HyperLogLog sketches.
 *
 * TRUST: reads the store; every figure is an aggregate, nothing names a
 * person, so nothing is audited.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/hll.h"
#include "core/num.h"
#include "core/utc.h"
#include "core/xmalloc.h"

static const char USAGE[] =
    "usage: listkeeper stats [LIST] [--days N]\n\n"
    "Prints the aggregate statistics of the last N days (default 7, today included;\n"
    "days are UTC): page views by day and route, browser families, countries (with\n"
    "[stats] geoip), the mail received that was not understood (unparsable\n"
    "bounces), refused by receivers for our sending or the message (sender-policy,\n"
    "rejected-content bounces; by day and receiving domain, the big mailbox\n"
    "providers by name and all other domains as \"other\") or set aside\n"
    "(quarantined after crashing its handler), and the opens\n"
    "of each campaign: open-pixel hits and unique opens, estimated (about 1% off).\n"
    "With LIST, only what concerns that list; without, everything. The server\n"
    "writes its page counts every [stats] flush_seconds and when it stops. No figure names a "
    "person or a visit (privacy promise P6).\n";

/* A sum under a label pair, e.g. (day, route). */
struct sum {
	char a[24], b[24];
	int64_t v;
};

struct sums {
	struct sum *s;
	size_t n, cap;
};

static void add(struct sums *t, const char *a, const char *b, int64_t v)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->s[i].a, a) && !strcmp(t->s[i].b, b)) {
			t->s[i].v += v;
			return;
		}
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->s = xreallocarray(t->s, t->cap, sizeof(*t->s));
	}
	struct sum *s = &t->s[t->n++];
	bsnprintf(s->a, sizeof(s->a), "%s", a);
	bsnprintf(s->b, sizeof(s->b), "%s", b);
	s->v = v;
}

static int by_value(const void *x, const void *y)
{
	const struct sum *a = x, *b = y;
	return a->v < b->v ? 1 : a->v > b->v ? -1 : strcmp(a->b, b->b);
}

/* newest day first, then the most refused */
static int by_day_value(const void *x, const void *y)
{
	const struct sum *a = x, *b = y;
	int d = strcmp(b->a, a->a);
	return d ? d : by_value(x, y);
}

struct job_opens {
	int64_t job;
	int64_t hits;
	uint8_t *sketch;
};

struct gather {
	struct sums views, browsers, countries, mail, refused;
	struct job_opens *jobs;
	size_t njobs, jcap;
};

static int one(void *ctx, const struct stat_rec *r)
{
	struct gather *g = ctx;
	if (!strcmp(r->counter, "view")) {
		char day[16];
		utc_format(r->day * 86400, UTC_DAY, day, sizeof(day));
		add(&g->views, day, r->key, r->value);
	} else if (!strcmp(r->counter, "browser"))
		add(&g->browsers, "", r->key, r->value);
	else if (!strcmp(r->counter, "country"))
		add(&g->countries, "", r->key, r->value);
	else if (!strcmp(r->counter, STORE_STAT_BOUNCE_UNPARSABLE))
		add(&g->mail, "", "unparsable", r->value);
	else if (!strcmp(r->counter, STORE_STAT_INTAKE_QUARANTINED))
		add(&g->mail, "", "quarantined", r->value);
	else if (!strcmp(r->counter, STORE_STAT_BOUNCE_SENDER_POLICY))
		add(&g->mail, "", "sender-policy", r->value);
	else if (!strcmp(r->counter, STORE_STAT_BOUNCE_REJECTED_CONTENT))
		add(&g->mail, "", "rejected-content", r->value);
	else if (!strcmp(r->counter, STORE_STAT_BOUNCE_REFUSED_DOMAIN)) {
		const char *slash = strchr(r->key, '/'); /* "JOB/DOMAIN" */
		char day[16];
		utc_format(r->day * 86400, UTC_DAY, day, sizeof(day));
		add(&g->refused, day, slash ? slash + 1 : r->key, r->value);
	} else if (!strcmp(r->counter, "opens")) {
		int64_t job;
		if (num_parse_i64_z(r->key, 1, INT64_MAX, &job) < 0)
			return 0;
		struct job_opens *j = NULL;
		for (size_t i = 0; i < g->njobs; i++)
			if (g->jobs[i].job == job)
				j = &g->jobs[i];
		if (j == NULL) {
			if (g->njobs == g->jcap) {
				g->jcap = g->jcap ? 2 * g->jcap : 8;
				g->jobs = xreallocarray(g->jobs, g->jcap, sizeof(*g->jobs));
			}
			j = &g->jobs[g->njobs++];
			j->job = job;
			j->hits = 0;
			j->sketch = xcalloc(1, HLL_REGISTERS);
		}
		j->hits += r->value;
		if (r->sketch != NULL && r->sketch_len == HLL_REGISTERS)
			hll_merge(j->sketch, r->sketch);
	}
	return 0;
}

static void print_totals(const char *title, struct sums *t, const char *none)
{
	printf("\n%s\n", title);
	if (t->n == 0) {
		printf("  %s\n", none);
		return;
	}
	qsort(t->s, t->n, sizeof(*t->s), by_value);
	for (size_t i = 0; i < t->n; i++)
		printf("  %-12s %10" PRId64 "\n", t->s[i].b, t->s[i].v);
}

int cmd_stats(struct cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(USAGE, stdout);
		return 0;
	}
	const char *name = NULL;
	int64_t days = 7;
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		if (!strcmp(argv[i], "--days") && i + 1 < argc)
			v = argv[++i];
		else if (!strncmp(argv[i], "--days=", 7))
			v = argv[i] + 7;
		if (v != NULL) {
			if (num_parse_i64_z(v, 1, 3660, &days) < 0) {
				fprintf(stderr, "listkeeper stats: --days takes 1 to 3660\n");
				return EX_USAGE;
			}
		} else if (argv[i][0] != '-' && name == NULL) {
			name = argv[i];
		} else {
			fprintf(stderr, "listkeeper stats: unexpected argument '%s'\n", argv[i]);
			fputs(USAGE, stderr);
			return EX_USAGE;
		}
	}
	int r = cli_open(c);
	if (r)
		return r;
	struct list_rec l = {0};
	if (name != NULL && (r = cli_list(c, name, &l)) != 0)
		return r;
	int64_t today = clock_now() / 86400;
	char from[16], to[16];
	utc_format((today - days + 1) * 86400, UTC_DAY, from, sizeof(from));
	utc_format(today * 86400, UTC_DAY, to, sizeof(to));
	struct gather g = {0};
	int sr =
	    store_stats_each(c->st, today - days + 1, today, name != NULL ? l.id : -1, one, &g);
	if (sr != STORE_OK) {
		list_rec_free(&l);
		return cli_store_fail(c, "read the statistics", sr, NULL);
	}
	if (name != NULL)
		printf("statistics of list %s, %s to %s (UTC)\n", l.name, from, to);
	else
		printf("statistics, %s to %s (UTC)\n", from, to);

	printf("\npage views\n");
	if (g.views.n == 0)
		printf("  none counted\n");
	int64_t total = 0;
	for (size_t i = 0; i < g.views.n; i++) { /* in day order, as read */
		printf("  %-10s  %-12s %10" PRId64 "\n", g.views.s[i].a, g.views.s[i].b,
		       g.views.s[i].v);
		total += g.views.s[i].v;
	}
	if (g.views.n > 0)
		printf("  %-24s %10" PRId64 "\n", "total", total);
	print_totals("browsers", &g.browsers, "none counted");
	print_totals("countries (-- not in the GeoIP database)", &g.countries,
		     "none counted (no [stats] geoip database)");

	print_totals("mail received (bounces not understood, messages set aside)", &g.mail,
		     "none counted");

	printf("\nrefused by receivers for our sending or the message, by day and receiving "
	       "domain\n(big providers by name, all others as \"other\")\n");
	if (g.refused.n == 0)
		printf("  none counted\n");
	else
		qsort(g.refused.s, g.refused.n, sizeof(*g.refused.s), by_day_value);
	for (size_t i = 0; i < g.refused.n; i++)
		printf("  %-10s  %-16s %10" PRId64 "\n", g.refused.s[i].a, g.refused.s[i].b,
		       g.refused.s[i].v);

	printf("\nopens (HTML mail with the open pixel, recipients who agreed)\n");
	if (g.njobs == 0)
		printf("  none counted\n");
	else
		printf("  %-6s %10s %10s  %s\n", "job", "opens", "unique~", "subject");
	for (size_t i = 0; i < g.njobs; i++) {
		struct job_rec j = {0};
		int jr = store_job_get(c->st, g.jobs[i].job, &j);
		printf("  %-6" PRId64 " %10" PRId64 " %10.0f  %s\n", g.jobs[i].job, g.jobs[i].hits,
		       round(hll_estimate(g.jobs[i].sketch)),
		       jr == STORE_OK && j.subject != NULL ? j.subject : "(job deleted)");
		job_rec_free(&j);
		free(g.jobs[i].sketch);
	}
	free(g.jobs);
	free(g.views.s);
	free(g.browsers.s);
	free(g.countries.s);
	free(g.mail.s);
	free(g.refused.s);
	list_rec_free(&l);
	return 0;
}
