/*
 * cmd_import.c - `listkeeper import LIST FILE.csv`.
 *
 * Streams the file through core/csv.c, one transaction per batch of rows
 * (see grow_batch); never holds the file in memory. Each bad row is reported as
 * FILE:LINE: reason and skipped; the rest is imported. Addresses that opted
 * out or were erased are skipped and counted: an import is not consent.
 *
 * TRUST: the file is untrusted: every cell goes through the CSV reader's
 * limits, the address parser and the domain's checks.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/clock.h"
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

/* A batch grows to at most this many times [import] batch. */
#define BATCH_GROWTH 10

struct counts {
	uint64_t added, already, suppressed, bad, rows;
};

/*
 * The size of the next batch. Each commit writes every index page the batch
 * touched to the WAL, and the keyed address hashes are random: past about
 * 300,000 rows the subscribers' hash index outgrows the page cache and a
 * batch of 10,000 rows rewrites most of it (3.6 GB written for a 1,000,000
 * row import of 500 MB). So a batch starts at [import] batch rows (a small
 * import commits as before), doubles each time the rows imported reach four
 * batches, up to BATCH_GROWTH times [import] batch; and import() commits a
 * batch early once it has held the write lock for half of [store]
 * busy_timeout_ms, so that a writer waiting on the lock (the web, the
 * server) is not refused for an import: the price of the larger batches is
 * that such a writer may wait that long, where it waited for 10,000 rows.
 */
static int64_t grow_batch(int64_t batch, int64_t first, uint64_t rows)
{
	if (batch < first * BATCH_GROWTH && rows >= 4 * (uint64_t)batch)
		batch = batch * 2 < first * BATCH_GROWTH ? batch * 2 : first * BATCH_GROWTH;
	return batch;
}

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

/*
 * Two threads: a reader parses the file, checks each row and seals it
 * (lists_subscribe_prepare: the address hash, a new data key, the sealed
 * data and ledger details), and the calling thread does the store's part
 * in row order (lists_subscribe_prepared), one transaction per batch. They
 * meet in a ring of NCHUNK chunks of CHUNK rows, so that at most that many
 * rows are in memory, whatever the size of the file; messages are printed
 * by the store thread, in file order.
 */
#define CHUNK 64
#define NCHUNK 8

enum item_kind { IT_ROW, IT_BAD, IT_CSVBAD, IT_END, IT_FATAL };

struct item {
	enum item_kind kind;
	uint64_t line;
	uint64_t offset;		 /* of the reader after this row, for the progress line */
	int code;			 /* IT_FATAL: the exit status */
	struct buf msg;			 /* IT_BAD, IT_CSVBAD, IT_FATAL: what is wrong */
	struct buf email, name, country; /* the cells, for rq */
	struct subscribe_req rq;
	struct subscribe_prep *prep;
};

struct chunk {
	struct item it[CHUNK];
	int n;
};

struct pipe {
	/* set before the reader starts, then the reader's alone */
	struct csv *csv;
	const struct keys *keys;
	int idx[NCOLS];
	int confirmed;
	const char *note;
	/* shared, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct chunk ring[NCHUNK];
	unsigned head, tail; /* chunks filled by the reader / taken by the store thread */
	int stop;	     /* the store thread gave up: the reader ends */
};

/* Copies the trimmed cell into b (emptied first); 0 if there is none. A
 * quoted cell may span lines; a name or country is one line. */
static int cell(struct csv_row *row, int idx, struct buf *b)
{
	buf_reset(b);
	if (idx < 0 || (size_t)idx >= row->nfields)
		return 0;
	struct str s = str_trim(row->fields[idx]);
	if (s.len == 0 || buf_append_str(b, s) < 0)
		return 0; /* cannot fail: cells are bounded by LK_MAX_CSV_FIELD */
	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] == '\r' || b->data[i] == '\n' || b->data[i] == '\t')
			b->data[i] = ' ';
	return 1;
}

/* The reader's part of one row: parse and check it, and seal it. */
static void read_row(struct pipe *pp, struct csv_row *row, struct item *it)
{
	struct buf format;
	buf_init(&format, LK_MAX_CSV_FIELD);
	enum sub_format sf;
	struct buf *err = &it->msg;
	struct subscribe_req *rq = &it->rq;
	it->kind = IT_BAD;
	memset(rq, 0, sizeof(*rq));
	rq->name = cell(row, pp->idx[COL_NAME], &it->name) ? buf_cstr(&it->name) : NULL;
	rq->country = cell(row, pp->idx[COL_COUNTRY], &it->country) ? buf_cstr(&it->country) : NULL;
	const char *fmt = cell(row, pp->idx[COL_FORMAT], &format) ? buf_cstr(&format) : NULL;
	if (!cell(row, pp->idx[COL_EMAIL], &it->email) || it->email.len == 0)
		buf_puts(err, "no email address");
	else if (memchr(it->email.data, '\0', it->email.len) != NULL)
		buf_puts(err, "NUL byte in address");  /* rq->address is a C string */
	else if (fmt == NULL || !strcmp(fmt, "plain")) /* "plain": an alias of text */
		rq->html = 0;
	else if (sub_format_parse(fmt, &sf) == 0)
		rq->html = sf == SUB_FORMAT_HTML;
	else
		buf_puts(err, "format must be text or html");
	buf_free(&format);
	if (err->len)
		return;
	rq->address = buf_cstr(&it->email); /* parsed by lists_subscribe_prepare */
	rq->source = "import";
	rq->confirmed = pp->confirmed;
	rq->note = pp->note;
	if (lists_subscribe_prepare(pp->keys, rq, it->prep, err) == 0)
		it->kind = IT_ROW;
}

static void *reader(void *arg)
{
	struct pipe *pp = arg;
	struct csv_row row;
	int done = 0;
	while (!done) {
		pthread_mutex_lock(&pp->mu);
		while (pp->head - pp->tail == NCHUNK && !pp->stop)
			pthread_cond_wait(&pp->cv, &pp->mu);
		int stop = pp->stop;
		pthread_mutex_unlock(&pp->mu);
		if (stop)
			break;
		struct chunk *ch = &pp->ring[pp->head % NCHUNK];
		for (ch->n = 0; ch->n < CHUNK && !done; ch->n++) {
			struct item *it = &ch->it[ch->n];
			buf_reset(&it->email); /* wipes the last row's address */
			buf_reset(&it->msg);
			enum csv_result cr = csv_next(pp->csv, &row);
			it->line = row.line;
			it->offset = csv_offset(pp->csv);
			if (cr == CSV_ROW) {
				read_row(pp, &row, it);
			} else if (cr == CSV_BAD) {
				it->kind = IT_CSVBAD;
				buf_puts(&it->msg, csv_error(pp->csv));
			} else {
				it->kind = cr == CSV_EOF ? IT_END : IT_FATAL;
				if (cr == CSV_IOERR)
					buf_printf(&it->msg, "read error (%m)");
				done = 1;
			}
		}
		pthread_mutex_lock(&pp->mu);
		pp->head++;
		pthread_cond_broadcast(&pp->cv);
		pthread_mutex_unlock(&pp->mu);
	}
	return NULL;
}

/* The store's part of one row; returns 0, or the exit status of a store
 * failure that stops the import: EX_TEMPFAIL when the store stayed locked
 * (busy, try again), EX_SOFTWARE for any other store error. The lists layer
 * says which (SUBSCRIBE_BUSY, STORE_BUSY): nothing is read from the text. */
static int import_row(struct cli *c, const struct list_rec *l, struct item *it, const char *file,
		      struct counts *n)
{
	struct buf err;
	buf_init(&err, 1024);
	int r = 0;
	int64_t id = 0;
	enum subscribe_result res =
	    lists_subscribe_prepared(&c->x, l, &it->rq, it->prep, &id, &err);
	switch (res) {
	case SUBSCRIBE_PENDING: {
		/* An import is not consent: each pending person gets the request. */
		int64_t job = 0;
		int jr = jobs_create_confirm(&c->x, l, id, &job, &err);
		if (jr != STORE_OK) {
			fprintf(stderr, "%s:%llu: store error: %s\n", file,
				(unsigned long long)it->line, buf_cstr(&err));
			r = jr == STORE_BUSY ? EX_TEMPFAIL : EX_SOFTWARE;
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
	case SUBSCRIBE_INVALID: /* not returned once prepared; a bad row if it were */
		fprintf(stderr, "%s:%llu: %s\n", file, (unsigned long long)it->line,
			buf_cstr(&err));
		n->bad++;
		break;
	case SUBSCRIBE_BUSY:
	case SUBSCRIBE_ERROR:
		fprintf(stderr, "%s:%llu: store error%s: %s\n", file, (unsigned long long)it->line,
			res == SUBSCRIBE_BUSY ? " (busy, try again)" : "", buf_cstr(&err));
		r = res == SUBSCRIBE_BUSY ? EX_TEMPFAIL : EX_SOFTWARE;
		break;
	}
	buf_free(&err);
	return r;
}

static void pipe_init(struct pipe *pp)
{
	pthread_mutex_init(&pp->mu, NULL);
	pthread_cond_init(&pp->cv, NULL);
	for (int k = 0; k < NCHUNK; k++)
		for (int i = 0; i < CHUNK; i++) {
			struct item *it = &pp->ring[k].it[i];
			buf_init(&it->msg, 1024);
			buf_init(&it->email, LK_MAX_CSV_FIELD);
			buf_init(&it->name, LK_MAX_CSV_FIELD);
			buf_init(&it->country, LK_MAX_CSV_FIELD);
			it->prep = subscribe_prep_new();
		}
}

static void pipe_free(struct pipe *pp)
{
	for (int k = 0; k < NCHUNK; k++)
		for (int i = 0; i < CHUNK; i++) {
			struct item *it = &pp->ring[k].it[i];
			buf_free(&it->email);
			buf_free(&it->msg);
			buf_free(&it->name);
			buf_free(&it->country);
			subscribe_prep_free(it->prep);
		}
	pthread_cond_destroy(&pp->cv);
	pthread_mutex_destroy(&pp->mu);
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
	if (r == 0 && !confirmed) /* pending people get the confirmation mail */
		r = cli_templates(c);
	if (r == 0)
		r = cli_list(c, list, &l);
	if (r) {
		if (fp != stdin)
			fclose(fp);
		return r;
	}
	struct stat sb;
	uint64_t size =
	    fstat(fileno(fp), &sb) == 0 && S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
	struct csv *csv = csv_open(fp);
	struct csv_row row;
	struct counts n = {0};
	int failed = 0;
	static struct pipe pp; /* large: not on the stack */
	memset(&pp, 0, sizeof(pp));
	/* The header, here: it decides the columns before the reader starts. */
	for (;;) {
		enum csv_result cr = csv_next(csv, &row);
		if (cr == CSV_EOF)
			break;
		if (cr == CSV_IOERR) {
			fprintf(stderr, "%s: read error (%m)\n", file);
			failed = EX_IOERR;
		} else if (cr == CSV_BAD) {
			fprintf(stderr, "%s:%llu: %s\n", file, (unsigned long long)row.line,
				csv_error(csv));
			failed = EX_DATAERR;
		} else if (header(&row, pp.idx, file) < 0) {
			failed = EX_DATAERR;
		}
		break;
	}
	int64_t first = conf_get_int(c->conf, "import", "batch"), batch = first, in_batch = 0;
	double hold = (double)conf_get_int(c->conf, "store", "busy_timeout_ms") / 2000.0, began = 0;
	struct progress *pg = progress_new("import", size);
	pthread_t th;
	int started = 0;
	if (!failed) {
		pp.csv = csv;
		pp.keys = c->x.keys;
		pp.confirmed = confirmed;
		pp.note = note;
		pipe_init(&pp);
		if (pthread_create(&th, NULL, reader, &pp) != 0) {
			fprintf(stderr, "listkeeper import: cannot start the reader thread\n");
			failed = EX_OSERR;
		} else {
			started = 1;
		}
	}
	/* One transaction per batch and no savepoint per row: a row that fails
	 * after writing dooms its batch, and the import stops (cli/import.c). */
	if (started)
		store_set_batch(c->st, 1);
	uint64_t offset = 0;
	for (int end = !started; !end;) {
		pthread_mutex_lock(&pp.mu);
		while (pp.head == pp.tail)
			pthread_cond_wait(&pp.cv, &pp.mu);
		pthread_mutex_unlock(&pp.mu);
		struct chunk *ch = &pp.ring[pp.tail % NCHUNK];
		for (int i = 0; i < ch->n && !end; i++) {
			struct item *it = &ch->it[i];
			if (it->kind == IT_END) {
				end = 1;
				break;
			}
			if (it->kind == IT_FATAL) {
				fprintf(stderr, "%s: %s\n", file, buf_cstr(&it->msg));
				failed = EX_IOERR;
				end = 1;
				break;
			}
			if (it->kind == IT_CSVBAD) {
				fprintf(stderr, "%s:%llu: %s\n", file, (unsigned long long)it->line,
					buf_cstr(&it->msg));
				n.bad++;
				continue;
			}
			if (in_batch == 0) {
				int rb = store_begin(c->st);
				if (rb != STORE_OK) {
					failed = cli_store_fail(c, "import", rb, NULL);
					end = 1;
					break;
				}
				began = clock_mono_s();
			}
			n.rows++;
			if (it->kind == IT_BAD) {
				fprintf(stderr, "%s:%llu: %s\n", file, (unsigned long long)it->line,
					buf_cstr(&it->msg));
				n.bad++;
			} else if ((failed = import_row(c, &l, it, file, &n)) != 0) {
				end = 1;
				break;
			}
			offset = it->offset;
			/* the clock is read once per CHUNK rows */
			if (++in_batch >= batch || (i == ch->n - 1 && in_batch > first &&
						    clock_mono_s() - began >= hold)) {
				int rc = store_commit(c->st);
				if (rc != STORE_OK) {
					failed = cli_store_fail(c, "import", rc, NULL);
					end = 1;
					break;
				}
				in_batch = 0;
				batch = grow_batch(batch, first, n.rows);
				progress_update(pg, offset);
			}
		}
		pthread_mutex_lock(&pp.mu);
		pp.tail++;
		if (end)
			pp.stop = 1;
		pthread_cond_broadcast(&pp.cv);
		pthread_mutex_unlock(&pp.mu);
	}
	if (started)
		pthread_join(th, NULL);
	if (in_batch > 0) {
		int rc = failed ? STORE_OK : store_commit(c->st);
		if (failed || rc != STORE_OK) {
			if (!failed)
				failed = cli_store_fail(c, "import", rc, NULL);
			store_rollback(c->st);
			fprintf(stderr, "listkeeper import: the last %lld rows were not imported\n",
				(long long)in_batch);
		}
	}
	if (started) {
		store_set_batch(c->st, 0);
		pipe_free(&pp);
	}
	progress_finish(pg, csv_offset(csv));
	csv_free(csv);
	if (fp != stdin)
		fclose(fp);
	char detail[128];
	bsnprintf(detail, sizeof(detail), "added=%llu bad=%llu", (unsigned long long)n.added,
		  (unsigned long long)n.bad);
	store_audit(c->st, clock_now(), c->actor, "import", l.id, 0, detail);
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
