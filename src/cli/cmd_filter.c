/*
 * cmd_filter.c - `listkeeper filter check FILE`: one message through the
 * content filters of [filter], with each daemon's verdict printed, so that
 * an operator can see clamd and spamd answer before any post depends on it.
 *
 * Needs no store and no key file: it reads the configuration only.
 *
 * TRUST: FILE is the operator's (read up to LK_MAX_MESSAGE); the daemons'
 * answers go through the bounded parsers of intake/filter_clamd.c and
 * intake/filter_spamd.c, and only what they kept is printed.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/limits.h"
#include "intake/filter.h"
#include "intake/filter_clamd.h"
#include "intake/filter_spamd.h"
#include "intake/post.h"

static const char USAGE[] =
    "usage: listkeeper filter check FILE\n\n"
    "Sends the message in FILE to the virus scanner ([filter] clamd) and the spam\n"
    "scorer ([filter] spam) and prints what each answered:\n"
    "  clamd ENDPOINT: clean | infected (SIGNATURE)\n"
    "  spamd ENDPOINT: score S, required R: spam | not spam (RULES)\n"
    "or why it could not answer. Exit 0 when every configured filter answered,\n"
    "75 when one was unavailable for now (down, too slow), 69 when one refused\n"
    "the message for good, 78 when none is configured or the setting is wrong.\n";

static int failed(const char *who, const char *name, const struct filter_error *e)
{
	printf("%s %s: unavailable (%s, %s): %s\n", who, name, e->temporary ? "temporary" : "final",
	       filter_origin_name(e->origin), e->text);
	return e->temporary ? EX_TEMPFAIL : EX_UNAVAILABLE;
}

int cli_print_scan(const struct filter_conf *fc, const struct post_scan *s)
{
	int rc = 0;
	char name[LK_MAX_PATH];
	if (s->clamd_ran) {
		filter_endpoint_name(&fc->clamd, name, sizeof(name));
		if (s->clamd_failed) {
			int r = failed("clamd", name, &s->clamd_err);
			rc = rc == 0 || r == EX_TEMPFAIL ? r : rc;
		} else if (s->virus.infected) {
			printf("clamd %s: infected (%s)\n", name, s->virus.name);
		} else {
			printf("clamd %s: clean\n", name);
		}
	}
	if (s->spamd_ran) {
		filter_endpoint_name(&fc->spamd, name, sizeof(name));
		if (s->spamd_failed) {
			int r = failed("spamd", name, &s->spamd_err);
			rc = rc == 0 || r == EX_TEMPFAIL ? r : rc;
		} else {
			const struct spamd_verdict *v = &s->spam;
			char sc[32], t[32];
			spamd_score_format(v->score, sc, sizeof(sc));
			spamd_score_format(v->threshold, t, sizeof(t));
			printf("spamd %s: score %s, required %s: %s (", name, sc, t,
			       v->is_spam ? "spam" : "not spam");
			for (size_t i = 0; i < v->nsymbols; i++)
				printf("%s%s", i ? "," : "", v->symbols[i]);
			printf("%s)\n", v->more_symbols ? ",..." : "");
		}
	}
	return rc;
}

static int check(const struct filter_conf *fc, const char *msg, size_t len)
{
	struct post_scan s;
	memset(&s, 0, sizeof(s));
	if (fc->clamd_on) {
		s.clamd_ran = 1;
		s.clamd_failed =
		    clamd_scan(&fc->clamd, fc->timeout_ms, msg, len, &s.virus, &s.clamd_err) < 0;
	}
	if (fc->spam == FILTER_SPAM_SPAMD) {
		s.spamd_ran = 1;
		s.spamd_failed =
		    spamd_check(&fc->spamd, fc->timeout_ms, msg, len, 1, &s.spam, &s.spamd_err) < 0;
	}
	return cli_print_scan(fc, &s);
}

int cmd_filter(struct cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(USAGE, stdout);
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "check") != 0) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	struct buf err, msg;
	buf_init(&err, 4096);
	buf_init(&msg, LK_MAX_MESSAGE);
	int rc = 0;
	struct filter_conf fc;
	c->conf = conf_load(cli_config_path(c), &err);
	if (c->conf == NULL || filter_conf_load(c->conf, &fc, &err) < 0) {
		fprintf(stderr, "listkeeper: %s\n", buf_cstr(&err));
		rc = EX_CONFIG;
		goto out;
	}
	if (!fc.clamd_on && fc.spam == FILTER_SPAM_NONE) {
		fputs("listkeeper filter: no filter is configured ([filter] clamd and spam are "
		      "none)\n",
		      stderr);
		rc = EX_CONFIG;
		goto out;
	}
	int r = buf_read_file(&msg, argv[2], &err);
	if (r != 0) {
		if (r > 0)
			buf_printf(&err, "%s: not a regular file", argv[2]);
		fprintf(stderr, "listkeeper filter: %s\n", buf_cstr(&err));
		rc = EX_NOINPUT;
		goto out;
	}
	rc = check(&fc, msg.data ? msg.data : "", msg.len);
out:
	buf_free(&msg);
	buf_free(&err);
	return rc;
}
