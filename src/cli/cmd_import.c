/*
 * cmd_import.c - `listkeeper import LIST FILE.csv`.
 *
 * Streams the file through core/csv.c in batches of [import] batch rows per
 * transaction; never holds the file in memory. Each bad row is reported as
 * FILE:LINE: reason and skipped; the rest is imported. Addresses that opted
 * out or were erased are skipped and counted: an import is not consent.
 *
 * TRUST: the file is untrusted: every cell goes through the CSV reader's
 * limits, the address parser and the domain's checks.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/csv.h"
#include "core/progress.h"
#include "lists/jobs.h"

static const char USAGE[] =
    "usage: listkeeper import LIST FILE.csv [--confirmed --consent-note TEXT]\n\n"
    "The first row names the columns: email (required), name, country, format\n"
    "(text or html). Each bad row is reported as FILE:LINE: reason and skipped;\n"
    "the rest is imported. Addresses that opted out or were erased are skipped\n"
    "and counted.\n\n"
    "Without --confirmed, imported people are pending: they receive a\n"
    "confirmation request and join only when they confirm (double opt-in).\n"
    "--confirmed asserts that they gave their consent elsewhere; --consent-note\n"
    "says where (\"signed up at the 2026 conference desk\") and is kept in the\n"
    "consent ledger for each person.\n\n"
    "Exit status: 0 when every row was imported or skipped as a duplicate or\n"
    "opt-out, 65 when some rows were bad (the others are imported all the same).\n";

enum col { COL_EMAIL, COL_NAME, COL_COUNTRY, COL_FORMAT, NCOLS };

struct counts {
	uint64_t added, already, suppressed, bad, rows;
};

static int header(struct csv_row *row, int idx[NCOLS], const char *file)
{
	static const char *names[NCOLS] = {"email", "name", "country", "format"};
	for (int i = 0; i < NCOLS; i++)
		idx[i] = -1;
	for (size_t f = 0; f < row->nfields; f++) {
		struct str h = str_trim(row->fields[f]);
		int known = 0;
		for (int i = 0; i < NCOLS; i++)
			if (str_eq_nocase_z(h, names[i]) ||
			    (i == COL_EMAIL &&
			     (str_eq_nocase_z(h, "address") || str_eq_nocase_z(h, "e-mail")))) {
				idx[i] = (int)f;
				known = 1;
			}
		if (!known)
			fprintf(stderr,
				"%s:%llu: column '%.*s' is not used (columns: email, name, "
				"country, format)\n",
				file, (unsigned long long)row->line, STR_FMT(h));
	}
	if (idx[COL_EMAIL] < 0) {
		fprintf(stderr,
			"%s:%llu: the first row must name the columns and one must be 'email'\n",
			file, (unsigned long long)row->line);
		return -1;
	}
	return 0;
}

static char *cell(struct csv_row *row, int idx, char *tmp, size_t cap)
{
	if (idx < 0 || (size_t)idx >= row->nfields)
		return NULL;
	struct str s = str_trim(row->fields[idx]);
	if (s.len == 0)
		return NULL;
	if (s.len >= cap)
		s.len = cap - 1; /* cannot happen: cells are bounded by LK_MAX_CSV_FIELD */
	memcpy(tmp, s.ptr, s.len);
	tmp[s.len] = '\0';
	/* A quoted cell may span lines; a name or country is one line. */
	for (char *p = tmp; *p; p++)
		if (*p == '\r' || *p == '\n' || *p == '\t')
			*p = ' ';
	return tmp;
}

/* Imports one row; returns -1 on a store failure that should stop the import. */
static int import_row(struct cli *c, const struct list_rec *l, struct csv_row *row,
		      const int idx[NCOLS], int confirmed, const char *note, const char *file,
		      struct counts *n)
{
	static char email[LK_MAX_CSV_FIELD + 1], name[LK_MAX_CSV_FIELD + 1],
	    country[LK_MAX_CSV_FIELD + 1], format[LK_MAX_CSV_FIELD + 1];
	struct buf err;
	buf_init(&err, 1024);
	struct address a = {0};
	int r = 0;
	const char *e = cell(row, idx[COL_EMAIL], email, sizeof(email));
	struct subscribe_req rq = {0};
	rq.name = cell(row, idx[COL_NAME], name, sizeof(name));
	rq.country = cell(row, idx[COL_COUNTRY], country, sizeof(country));
	const char *fmt = cell(row, idx[COL_FORMAT], format, sizeof(format));
	if (e == NULL) {
		buf_puts(&err, "no email address");
	} else if (mailbox_parse(e, strlen(e), &a, &err) == 0) {
		if (fmt == NULL || !strcmp(fmt, "text") || !strcmp(fmt, "plain"))
			rq.html = 0;
		else if (!strcmp(fmt, "html"))
			rq.html = 1;
		else
			buf_puts(&err, "format must be text or html");
	}
	if (err.len) {
		fprintf(stderr, "%s:%llu: %s\n", file, (unsigned long long)row->line,
			buf_cstr(&err));
		n->bad++;
		goto out;
	}
	if (rq.name == NULL && a.display != NULL)
		rq.name = a.display;
	rq.who.addr = a.addr;
	rq.who.key = a.key;
	rq.source = "import";
	rq.confirmed = confirmed;
	rq.note = note;
	int64_t id = 0;
	switch (lists_subscribe(&c->x, l, &rq, &id, &err)) {
	case SUBSCRIBE_PENDING: {
		/* An import is not consent: each pending person gets the request. */
		int64_t job = 0;
		if (jobs_create_confirm(&c->x, l, id, &job, &err) != STORE_OK) {
			fprintf(stderr, "%s:%llu: store error: %s\n", file,
				(unsigned long long)row->line, buf_cstr(&err));
			r = -1;
			break;
		}
		n->added++;
		break;
	}
	case SUBSCRIBE_ACTIVE:
		n->added++;
		break;
	case SUBSCRIBE_ALREADY:
	case SUBSCRIBE_STILL_PENDING:
		n->already++;
		break;
	case SUBSCRIBE_SUPPRESSED:
		n->suppressed++;
		break;
	case SUBSCRIBE_CLOSED:
		n->bad++;
		break;
	case SUBSCRIBE_ERROR:
		if (strstr(buf_cstr(&err), "locked") || strstr(buf_cstr(&err), "disk") ||
		    strstr(buf_cstr(&err), "bug:")) {
			fprintf(stderr, "%s:%llu: store error: %s\n", file,
				(unsigned long long)row->line, buf_cstr(&err));
			r = -1;
		} else {
			fprintf(stderr, "%s:%llu: %s\n", file, (unsigned long long)row->line,
				buf_cstr(&err));
			n->bad++;
		}
		break;
	}
out:
	address_free(&a);
	buf_free(&err);
	return r;
}

int cmd_import(struct cli *c, int argc, char **argv)
{
	const char *list = NULL, *file = NULL, *note = NULL;
	int confirmed = 0;
	if (cli_wants_help(argc, argv)) {
		fputs(USAGE, stdout);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--confirmed"))
			confirmed = 1;
		else if (!strcmp(argv[i], "--consent-note") && i + 1 < argc)
			note = argv[++i];
		else if (argv[i][0] != '-' && list == NULL)
			list = argv[i];
		else if ((argv[i][0] != '-' || !strcmp(argv[i], "-")) && file == NULL)
			file = argv[i];
		else {
			fputs(USAGE, stderr);
			return EX_USAGE;
		}
	}
	if (list == NULL || file == NULL) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	if (confirmed && (note == NULL || note[0] == '\0')) {
		fprintf(stderr, "listkeeper import: --confirmed needs --consent-note saying where "
				"these people gave their consent\n");
		return EX_USAGE;
	}
	if (!confirmed && note != NULL) {
		fprintf(stderr, "listkeeper import: --consent-note goes with --confirmed\n");
		return EX_USAGE;
	}
	FILE *fp = !strcmp(file, "-") ? stdin : fopen(file, "re");
	if (fp == NULL) {
		fprintf(stderr, "listkeeper import: %s: cannot open it (%m)\n", file);
		return EX_NOINPUT;
	}
	int r = cli_open(c);
	struct list_rec l = {0};
	if (r == 0)
		r = cli_list(c, list, &l);
	if (r) {
		if (fp != stdin)
			fclose(fp);
		return r;
	}
	/* One transaction per batch and no savepoint per row: a row that fails
	 * after writing dooms its batch, and the import stops (cli/import.c). */
	store_set_batch(c->st, 1);
	struct stat sb;
	uint64_t size =
	    fstat(fileno(fp), &sb) == 0 && S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
	struct csv *csv = csv_open(fp);
	struct csv_row row;
	struct counts n = {0};
	int idx[NCOLS];
	int have_header = 0, failed = 0;
	int64_t batch = conf_get_int(c->conf, "import", "batch"), in_batch = 0;
	struct progress *pg = progress_new("import", size);
	for (;;) {
		enum csv_result cr = csv_next(csv, &row);
		if (cr == CSV_EOF)
			break;
		if (cr == CSV_IOERR) {
			fprintf(stderr, "%s: read error (%m)\n", file);
			failed = EX_IOERR;
			break;
		}
		if (cr == CSV_BAD) {
			fprintf(stderr, "%s:%llu: %s\n", file, (unsigned long long)row.line,
				csv_error(csv));
			if (!have_header) {
				failed = EX_DATAERR;
				break;
			}
			n.bad++;
			continue;
		}
		if (!have_header) {
			if (header(&row, idx, file) < 0) {
				failed = EX_DATAERR;
				break;
			}
			have_header = 1;
			continue;
		}
		if (in_batch == 0 && store_begin(c->st) != STORE_OK) {
			failed = cli_store_fail(c, "import", NULL);
			break;
		}
		n.rows++;
		if (import_row(c, &l, &row, idx, confirmed, note, file, &n) < 0) {
			failed = EX_TEMPFAIL;
			break;
		}
		if (++in_batch >= batch) {
			if (store_commit(c->st) != STORE_OK) {
				failed = cli_store_fail(c, "import", NULL);
				break;
			}
			in_batch = 0;
			progress_update(pg, csv_offset(csv));
		}
	}
	if (in_batch > 0) {
		if (failed || store_commit(c->st) != STORE_OK) {
			if (!failed)
				failed = cli_store_fail(c, "import", NULL);
			store_rollback(c->st);
			fprintf(stderr, "listkeeper import: the last %lld rows were not imported\n",
				(long long)in_batch);
		}
	}
	progress_finish(pg, csv_offset(csv));
	csv_free(csv);
	if (fp != stdin)
		fclose(fp);
	char detail[128];
	bsnprintf(detail, sizeof(detail), "added=%llu bad=%llu", (unsigned long long)n.added,
		  (unsigned long long)n.bad);
	store_audit(c->st, lists_now(&c->x), c->actor, "import", l.id, 0, detail);
	printf("%s: %llu rows: %llu added (%s), %llu already on the list, %llu skipped "
	       "(opted out or erased), %llu bad\n",
	       l.name, (unsigned long long)n.rows, (unsigned long long)n.added,
	       confirmed ? "active" : "pending until they confirm", (unsigned long long)n.already,
	       (unsigned long long)n.suppressed, (unsigned long long)n.bad);
	list_rec_free(&l);
	if (failed)
		return failed;
	return n.bad ? EX_DATAERR : 0;
}
