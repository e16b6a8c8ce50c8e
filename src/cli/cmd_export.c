/*
 * cmd_export.c - `listkeeper export LIST [--json] [--state S] [-o FILE]`.
 *
 * CSV cells that a spreadsheet would run as a formula (they begin with = + -
 * @, tab or CR) get a leading apostrophe (OWASP "CSV injection"). Every export
 * is written to the audit log (P8).
 *
 * TRUST: writes personal data out; reads only the store.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/utc.h"
#include "core/xmalloc.h"

static const char USAGE[] =
    "usage: listkeeper export LIST [--json] [--state STATE] [-o FILE]\n\n"
    "Writes the list's subscribers (email, name, country, format, state, since)\n"
    "as CSV, or as JSON lines with --json, to FILE or standard output. Cells that\n"
    "a spreadsheet would take for a formula are prefixed with an apostrophe.\n"
    "Every export is written to the audit log.\n";

struct exp_ctx {
	struct cli *c;
	FILE *fp;
	int json;
	int64_t n, last, bad;
};

static void csv_cell(FILE *fp, const char *v, int last)
{
	int quote = strpbrk(v, ",\"\r\n") != NULL;
	int formula = v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' ||
		      v[0] == '\r';
	if (quote || formula)
		fputc('"', fp);
	if (formula)
		fputc('\'', fp);
	for (const char *p = v; *p; p++) {
		if (*p == '"')
			fputc('"', fp);
		fputc(*p, fp);
	}
	if (quote || formula)
		fputc('"', fp);
	fputc(last ? '\n' : ',', fp);
}

static int exp_one(void *ctx, const struct subscription_rec *sub, const struct subscriber_rec *who)
{
	struct exp_ctx *e = ctx;
	struct person p;
	e->last = sub->subscriber_id;
	if (lists_person_load(&e->c->x, who, &p) < 0) {
		e->bad++;
		return 0;
	}
	char since[32];
	utc_format(sub->created, UTC_ISO, since, sizeof(since));
	const char *fmt = who->html ? "html" : "text";
	if (e->json) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "email", p.address, "name",
				      p.name, "country", p.country, "format", fmt, "state",
				      sub_state_name(sub->state), "since", since);
		char *txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
		if (txt != NULL) {
			fputs(txt, e->fp);
			fputc('\n', e->fp);
			xfree_wipe(txt, strlen(txt)); /* an address and a name */
		}
		json_decref(o);
	} else {
		csv_cell(e->fp, p.address, 0);
		csv_cell(e->fp, p.name, 0);
		csv_cell(e->fp, p.country, 0);
		csv_cell(e->fp, fmt, 0);
		csv_cell(e->fp, sub_state_name(sub->state), 0);
		csv_cell(e->fp, since, 1);
	}
	e->n++;
	person_free(&p);
	return 0;
}

int cmd_export(struct cli *c, int argc, char **argv)
{
	const char *list = NULL, *out = NULL;
	int json = 0, state = -1;
	if (cli_wants_help(argc, argv)) {
		fputs(USAGE, stdout);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) &&
			   i + 1 < argc) {
			out = argv[++i];
		} else if (!strcmp(argv[i], "--state") && i + 1 < argc) {
			enum sub_state s;
			if (sub_state_parse(argv[++i], &s) < 0) {
				fprintf(stderr, "listkeeper export: --state is pending, active, "
						"held or disabled\n");
				return EX_USAGE;
			}
			state = (int)s;
		} else if (argv[i][0] != '-' && list == NULL) {
			list = argv[i];
		} else {
			fputs(USAGE, stderr);
			return EX_USAGE;
		}
	}
	if (list == NULL) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	int r = cli_open(c);
	if (r)
		return r;
	struct list_rec l = {0};
	if ((r = cli_list(c, list, &l)) != 0)
		return r;
	FILE *fp = stdout;
	if (out != NULL && (fp = fopen(out, "wx")) == NULL) {
		fprintf(stderr, "listkeeper export: %s: cannot create it (%m); it must not exist\n",
			out);
		list_rec_free(&l);
		return EX_CANTCREAT;
	}
	struct exp_ctx e = {c, fp, json, 0, 0, 0};
	if (!json)
		fputs("email,name,country,format,state,since\n", fp);
	for (;;) {
		int64_t before = e.n + e.bad;
		int m = store_members_page(c->st, l.id, state, e.last, 1000, exp_one, &e);
		if (m != STORE_OK) {
			r = cli_store_fail(c, "export", m, NULL);
			break;
		}
		if (e.n + e.bad == before)
			break;
	}
	char detail[64];
	bsnprintf(detail, sizeof(detail), "rows=%lld format=%s", (long long)e.n,
		  json ? "json" : "csv");
	store_audit(c->st, clock_now(), c->actor, "export", l.id, 0, detail);
	if ((fp != stdout ? fclose(fp) != 0 : fflush(fp) != 0 || ferror(fp)) && r == 0) {
		fprintf(stderr, "listkeeper export: cannot write %s: %m\n",
			out != NULL ? out : "the output");
		r = EX_IOERR;
	}
	if (e.bad)
		fprintf(stderr, "listkeeper export: %lld subscribers could not be decrypted\n",
			(long long)e.bad);
	if (r == 0)
		fprintf(stderr, "exported %lld subscribers of %s\n", (long long)e.n, l.name);
	list_rec_free(&l);
	return r;
}
