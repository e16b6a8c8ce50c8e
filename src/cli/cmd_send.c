/*
 * cmd_send.c - `listkeeper send` (a campaign) and `listkeeper job ...`.
 *
 * TRUST: the subject and the body files are the list owner's; delivery/jobs.c
 * checks them and mail/compose.c encodes them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/num.h"
#include "core/progress.h"
#include "delivery/engine.h"
#include "lists/joblife.h"
#include "lists/jobs.h"

static const char SEND_USAGE[] =
    "usage: listkeeper send LIST --subject SUBJECT --text FILE [--html FILE]\n"
    "                      [--at TIME] [--wait]\n\n"
    "Creates a campaign to every active subscriber of LIST. `listkeeper serve`\n"
    "sends it; --wait sends it here and now, in the foreground, with a progress\n"
    "line, and returns when it is done (for cron and scripts).\n\n"
    "  --subject TEXT  the subject ({{name}} and other merge fields work)\n"
    "  --text FILE     the plain-text body, UTF-8 (always sent; - for stdin)\n"
    "  --html FILE     an HTML body for subscribers who chose HTML\n"
    "  --at TIME       not before TIME: 2026-12-01T09:00 (local time),\n"
    "                  2026-12-01T09:00Z (UTC) or @UNIXSECONDS\n"
    "  --wait          send in the foreground until the job is done\n\n"
    "Merge fields: {{name}} {{email}} {{list}} {{list_title}} {{unsubscribe_url}}\n"
    "{{preferences_url}}. Every message carries one-click unsubscribe headers and a\n"
    "footer with the unsubscribe link and the list's postal address.\n";

static const char JOB_USAGE[] =
    "usage: listkeeper job ls\n"
    "       listkeeper job show ID\n"
    "       listkeeper job pause ID\n"
    "       listkeeper job resume ID\n"
    "       listkeeper job cancel ID\n\n"
    "show: sent, deferred, failed, remaining, the rate, and why a job is\n"
    "paused. A job paused because the relay was down resumes by itself.\n";

static char *read_file(const char *path, struct buf *err)
{
	FILE *fp = !strcmp(path, "-") ? stdin : fopen(path, "re");
	if (fp == NULL) {
		buf_printf(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct buf b;
	buf_init(&b, LK_MAX_MESSAGE / 4);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_append(&b, chunk, n) < 0) {
			buf_printf(err, "%s: larger than %u bytes", path, LK_MAX_MESSAGE / 4);
			break;
		}
	int bad = ferror(fp);
	if (fp != stdin)
		fclose(fp);
	if (bad || b.err) {
		if (bad)
			buf_printf(err, "%s: read error", path);
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}

static int parse_time(const char *s, int64_t *out)
{
	if (s[0] == '@')
		return num_parse_i64_z(s + 1, 0, INT64_MAX / 2, out);
	static const char *fmts[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S",
				     "%Y-%m-%d %H:%M", "%Y-%m-%d"};
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		struct tm tm;
		memset(&tm, 0, sizeof(tm));
		const char *end = strptime(s, fmts[i], &tm);
		if (end == NULL)
			continue;
		if (end[0] == 'Z' && end[1] == '\0') {
			*out = (int64_t)timegm(&tm);
			return 0;
		}
		if (end[0] == '\0') {
			tm.tm_isdst = -1;
			*out = (int64_t)mktime(&tm);
			return 0;
		}
	}
	return -1;
}

/* Runs one job in the foreground until it is done or cancelled. */
static int run_job(struct cli *c, struct engine *e, int64_t id)
{
	struct buf err;
	buf_init(&err, 1024);
	struct job_rec j = {0};
	store_job_get(c->st, id, &j);
	struct progress *pg = progress_new("send", (uint64_t)j.total);
	job_rec_free(&j);
	int r = 0;
	char last_reason[300] = "";
	for (;;) {
		int64_t wait_until = 0;
		int s = engine_step(e, id, &wait_until, &err);
		if (s < 0) {
			fprintf(stderr, "listkeeper send: %s\n", buf_cstr(&err));
			r = EX_TEMPFAIL;
			break;
		}
		memset(&j, 0, sizeof(j));
		if (store_job_get(c->st, id, &j) != STORE_OK) {
			r = EX_SOFTWARE;
			break;
		}
		progress_update(pg, (uint64_t)(j.sent + j.failed));
		int done = joblife_final(j.state);
		int by_hand = !done && joblife_held_by_hand(&j);
		if (j.pause_reason[0] && strcmp(j.pause_reason, last_reason) != 0) {
			fprintf(stderr, "\njob %lld paused: %s\n", (long long)id, j.pause_reason);
			bsnprintf(last_reason, sizeof(last_reason), "%s", j.pause_reason);
		}
		if (done || by_hand) {
			progress_finish(pg, (uint64_t)(j.sent + j.failed));
			pg = NULL;
			printf("job %lld %s: %lld sent, %lld failed\n", (long long)id,
			       job_state_name(j.state), (long long)j.sent, (long long)j.failed);
			if (by_hand)
				r = EX_TEMPFAIL;
			job_rec_free(&j);
			break;
		}
		job_rec_free(&j);
		if (s == 0) {
			int64_t now = clock_now();
			int64_t w = wait_until > now ? wait_until - now : 1;
			sleep((unsigned)(w > 5 ? 5 : w));
		}
	}
	progress_finish(pg, 0);
	buf_free(&err);
	return r;
}

int cmd_send(struct cli *c, int argc, char **argv)
{
	const char *list = NULL, *subject = NULL, *text_path = NULL, *html_path = NULL, *at = NULL;
	int wait = 0;
	if (cli_wants_help(argc, argv)) {
		fputs(SEND_USAGE, stdout);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--subject") && i + 1 < argc)
			subject = argv[++i];
		else if (!strcmp(a, "--text") && i + 1 < argc)
			text_path = argv[++i];
		else if (!strcmp(a, "--html") && i + 1 < argc)
			html_path = argv[++i];
		else if (!strcmp(a, "--at") && i + 1 < argc)
			at = argv[++i];
		else if (!strcmp(a, "--wait"))
			wait = 1;
		else if (a[0] != '-' && list == NULL)
			list = a;
		else {
			fputs(SEND_USAGE, stderr);
			return EX_USAGE;
		}
	}
	if (list == NULL || subject == NULL || text_path == NULL) {
		fputs(SEND_USAGE, stderr);
		return EX_USAGE;
	}
	int64_t not_before = 0;
	if (at != NULL && parse_time(at, &not_before) < 0) {
		fprintf(stderr,
			"listkeeper send: --at '%s': use 2026-12-01T09:00, "
			"2026-12-01T09:00Z or @UNIXSECONDS\n",
			at);
		return EX_USAGE;
	}
	struct buf err;
	buf_init(&err, 1024);
	char *text = read_file(text_path, &err);
	char *html = html_path && text ? read_file(html_path, &err) : NULL;
	if (text == NULL || (html_path != NULL && html == NULL)) {
		fprintf(stderr, "listkeeper send: %s\n", buf_cstr(&err));
		free(text);
		buf_free(&err);
		return EX_NOINPUT;
	}
	int r = cli_open(c);
	struct list_rec l = {0};
	if (r == 0)
		r = cli_list(c, list, &l);
	int64_t id = 0;
	struct engine *e = NULL;
	/* With --wait, a relay or DKIM setting that is wrong stops us before
	 * the job exists. */
	if (r == 0 && wait && (e = engine_new(c->conf, c->st, &c->keys, &err)) == NULL) {
		fprintf(stderr, "listkeeper send: %s\n", buf_cstr(&err));
		r = EX_CONFIG;
	}
	if (r == 0 && jobs_create_campaign(&c->x, &l, subject, text, html, not_before, &id, &err) !=
			  STORE_OK) {
		fprintf(stderr, "listkeeper send: %s\n", buf_cstr(&err));
		r = EX_DATAERR;
	}
	if (r == 0) {
		printf("job %lld created for %s\n", (long long)id, l.name);
		fflush(stdout);
		if (wait)
			r = run_job(c, e, id);
	}
	engine_free(e);
	free(text);
	free(html);
	list_rec_free(&l);
	buf_free(&err);
	return r;
}

static int ls_one(void *ctx, const struct job_rec *j)
{
	struct cli *c = ctx;
	struct list_rec l = {0};
	int have = store_list_get_id(c->st, j->list_id, &l) == STORE_OK;
	printf("%-6lld %-9s %-10s %-16s %8lld/%-8lld  %s\n", (long long)j->id,
	       job_kind_name(j->kind), job_state_name(j->state), have ? l.name : "(deleted)",
	       (long long)j->sent, (long long)j->total,
	       j->kind == JOB_KIND_CONFIRM ? "(confirmation request)" : j->subject);
	list_rec_free(&l);
	return 0;
}

/* "address-refused 1, over-size 2": the job's failures of its own. */
static int failure_one(void *ctx, const char *reason, int64_t n)
{
	struct buf *b = ctx;
	buf_printf(b, "%s%s %lld", b->len ? ", " : "", reason, (long long)n);
	return 0;
}

/* The sender-side bounces counted under one job (intake/route.c and the
 * relay's replies, delivery/engine.c: key = the job's id). */
struct dom_count {
	char domain[64];
	int64_t n;
};

struct job_bounces {
	const char *key;
	int64_t policy, content;
	struct dom_count dom[80]; /* by receiving domain: lists_bounce_provider's
				     names and "other", fewer than 80 */
	size_t ndom;
};

static void job_bounce_domain(struct job_bounces *b, const char *domain, int64_t n)
{
	size_t i = 0;
	while (i < b->ndom && strcmp(b->dom[i].domain, domain) != 0)
		i++;
	if (i == b->ndom) {
		if (b->ndom == sizeof b->dom / sizeof b->dom[0])
			return; /* not one of lists_bounce_provider's names */
		bsnprintf(b->dom[b->ndom++].domain, sizeof b->dom[0].domain, "%s", domain);
	}
	b->dom[i].n += n;
}

static int job_bounce_row(void *ctx, const struct stat_rec *r)
{
	struct job_bounces *b = ctx;
	size_t kl = strlen(b->key);
	if (!strcmp(r->counter, STORE_STAT_BOUNCE_REFUSED_DOMAIN) && !strncmp(r->key, b->key, kl) &&
	    r->key[kl] == '/')
		job_bounce_domain(b, r->key + kl + 1, r->value);
	if (strcmp(r->key, b->key) != 0)
		return 0;
	if (!strcmp(r->counter, STORE_STAT_BOUNCE_SENDER_POLICY))
		b->policy += r->value;
	else if (!strcmp(r->counter, STORE_STAT_BOUNCE_REJECTED_CONTENT))
		b->content += r->value;
	return 0;
}

static int by_count(const void *x, const void *y)
{
	const struct dom_count *a = x, *b = y;
	return a->n < b->n ? 1 : a->n > b->n ? -1 : strcmp(a->domain, b->domain);
}

static int show(struct cli *c, int64_t id)
{
	struct job_rec j = {0};
	int r = store_job_get(c->st, id, &j);
	if (r == STORE_NOTFOUND) {
		fprintf(stderr, "listkeeper job: no job %lld (see `listkeeper job ls`)\n",
			(long long)id);
		return EX_DATAERR;
	}
	if (r != STORE_OK)
		return cli_store_fail(c, "job show", r, NULL);
	int64_t deferred = 0, next_at = 0;
	store_retry_count(c->st, id, &deferred, &next_at);
	struct list_rec l = {0};
	int have = store_list_get_id(c->st, j.list_id, &l) == STORE_OK;
	int64_t remaining = j.total - j.sent - j.failed - deferred;
	if (joblife_final(j.state) || remaining < 0)
		remaining = 0;
	int64_t span = (j.finished ? j.finished : j.updated) - j.created;
	printf("job %lld\nkind: %s\nlist: %s\nstate: %s\n", (long long)id, job_kind_name(j.kind),
	       have ? l.name : "(deleted)", job_state_name(j.state));
	if (j.kind != JOB_KIND_CONFIRM)
		printf("subject: %s\n", j.subject);
	printf("sent: %lld\ndeferred: %lld\nfailed: %lld\nremaining: %lld\n", (long long)j.sent,
	       (long long)deferred, (long long)j.failed, (long long)remaining);
	struct buf fl;
	buf_init(&fl, 1024);
	if (store_job_failures_each(c->st, id, failure_one, &fl) == STORE_OK && fl.len > 0)
		printf("failed, not the recipient's: %s\n", buf_cstr(&fl));
	buf_free(&fl);
	printf("rate: %.1f messages/s\n", span > 0 ? (double)j.sent / (double)span : 0.0);
	char key[24];
	bsnprintf(key, sizeof(key), "%lld", (long long)id);
	struct job_bounces jb = {.key = key};
	if (store_stats_each(c->st, j.created / 86400, clock_now() / 86400 + 1, j.list_id,
			     job_bounce_row, &jb) == STORE_OK &&
	    jb.policy + jb.content > 0)
		printf(
		    "refused by receivers: %lld for our sending (sender-policy: check SPF, DKIM, "
		    "DMARC, PTR, blocklists), %lld for the message (rejected-content); no "
		    "subscriber was scored\n",
		    (long long)jb.policy, (long long)jb.content);
	if (jb.ndom > 0) {
		qsort(jb.dom, jb.ndom, sizeof jb.dom[0], by_count);
		printf("refused by receiving domain:");
		for (size_t i = 0; i < jb.ndom; i++)
			printf("%s %s %lld", i ? "," : "", jb.dom[i].domain,
			       (long long)jb.dom[i].n);
		printf("\n");
	}
	if (j.pause_reason[0])
		printf("paused because: %s%s\n", j.pause_reason,
		       j.resume_at ? " (resumes by itself)" : "");
	if (deferred && next_at)
		printf("next retry: in %llds\n", (long long)(next_at - clock_now()));
	list_rec_free(&l);
	job_rec_free(&j);
	return 0;
}

int cmd_job(struct cli *c, int argc, char **argv)
{
	if (argc < 2 || cli_wants_help(argc, argv)) {
		fputs(JOB_USAGE, argc < 2 ? stderr : stdout);
		return argc < 2 ? EX_USAGE : 0;
	}
	const char *verb = argv[1];
	int64_t id = 0;
	int is_ls = !strcmp(verb, "ls");
	if (!is_ls && (argc != 3 || num_parse_i64_z(argv[2], 1, INT64_MAX, &id) < 0 ||
		       (strcmp(verb, "show") && strcmp(verb, "pause") && strcmp(verb, "resume") &&
			strcmp(verb, "cancel")))) {
		fputs(JOB_USAGE, stderr);
		return EX_USAGE;
	}
	if (is_ls && argc != 2) {
		fputs(JOB_USAGE, stderr);
		return EX_USAGE;
	}
	int r = cli_open(c);
	if (r)
		return r;
	if (is_ls) {
		int e = store_job_each(c->st, ls_one, c);
		return e == STORE_OK ? 0 : cli_store_fail(c, "job ls", e, NULL);
	}
	if (!strcmp(verb, "show"))
		return show(c, id);
	enum job_event ev = JOB_EVENT_CANCEL;
	job_event_parse(verb, &ev); /* pause, resume or cancel: checked above */
	struct buf err;
	buf_init(&err, 1024);
	int s = ev == JOB_EVENT_PAUSE	 ? joblife_pause(&c->x, id, &err)
		: ev == JOB_EVENT_RESUME ? joblife_resume(&c->x, id, &err)
					 : joblife_cancel(&c->x, id, &err);
	if (s == STORE_NOTFOUND) {
		fprintf(stderr, "listkeeper job: no job %lld\n", (long long)id);
		r = EX_DATAERR;
	} else if (s == STORE_BUSY) {
		char what[32];
		bsnprintf(what, sizeof(what), "job %s", verb);
		r = cli_store_fail(c, what, s, &err);
	} else if (s != STORE_OK) {
		fprintf(stderr, "listkeeper job %s: %s\n", verb, buf_cstr(&err));
		r = EX_DATAERR;
	} else {
		printf("job %lld: %s\n", (long long)id,
		       ev == JOB_EVENT_PAUSE	? "paused"
		       : ev == JOB_EVENT_RESUME ? "resumed"
						: "cancelled");
	}
	buf_free(&err);
	return r;
}
