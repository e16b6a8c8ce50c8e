/*
 * cmd_archive.c - `listkeeper archive import LIST FILE.mbox` and
 * `listkeeper archive export LIST [--month YYYY-MM] [-o FILE]`.
 *
 * Import maps the file, splits it (mail/mbox.h), parses each message
 * (intake/archmsg.h) and stores it (lists/archive.h), one transaction per
 * batch of ARCHIVE_BATCH messages in the store's batch mode. A bad message
 * is reported as FILE:LINE: message N: reason and skipped; the rest is
 * imported. A message already archived (same Message-ID) is counted, not
 * stored twice, so an import can be run again.
 *
 * TRUST: the mbox is untrusted: its splitting, parsing and storing are
 * bounded by the modules they go through. Nothing about an author is printed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/limits.h"
#include "core/progress.h"
#include "intake/archmsg.h"
#include "lists/archive.h"
#include "mail/mbox.h"

static const char USAGE[] =
    "usage: listkeeper archive import LIST FILE.mbox\n"
    "       listkeeper archive export LIST [--month YYYY-MM] [-o FILE]\n\n"
    "import: stores every message of an mbox (mboxrd or mboxo, as Mailman 2's\n"
    "        pipermail or HyperKitty export them) in the list's archive, threaded\n"
    "        and indexed for search. Each bad message is reported as\n"
    "        FILE:LINE: message N: reason and skipped; the rest is imported.\n"
    "        A message whose Message-ID is archived already is skipped, so an\n"
    "        import may be run again. Messages with X-No-Archive: yes or\n"
    "        X-Archive: no are left out.\n"
    "export: writes the list's archive (or one month of it) as an mboxrd file,\n"
    "        the messages as stored, oldest first.\n\n"
    "Exit status: 0, or 65 when some messages were bad (the others are imported).\n";

#define ARCHIVE_BATCH 2000

struct import_counts {
	uint64_t stored, duplicate, unwanted, bad, messages;
};

static int import(struct cli *c, const struct list_rec *l, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) != 0) {
		fprintf(stderr, "listkeeper archive import: %s: cannot read it\n", path);
		if (fd >= 0)
			close(fd);
		return EX_NOINPUT;
	}
	size_t size = (size_t)sb.st_size;
	const char *p = "";
	if (size > 0) {
		void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED) {
			fprintf(stderr, "listkeeper archive import: %s: cannot map it\n", path);
			close(fd);
			return EX_IOERR;
		}
		p = m;
		madvise(m, size, MADV_SEQUENTIAL);
	}
	close(fd);
	struct mbox_reader rd;
	mbox_reader_init(&rd, p, size);
	struct buf msg, err;
	buf_init(&msg, LK_MAX_MESSAGE);
	buf_init(&err, 1024);
	struct import_counts n = {0};
	struct progress *pg = progress_new("archive import", size);
	store_set_batch(c->st, 1);
	int rc = 0, in_txn = 0, sr = STORE_OK;
	size_t line;
	enum mbox_result mr;
	while ((mr = mbox_next(&rd, &msg, &line)) != MBOX_END) {
		if (mr == MBOX_JUNK) {
			fprintf(stderr, "%s:%zu: text before the first \"From \" line, skipped\n",
				path, line);
			rc = EX_DATAERR;
			continue;
		}
		n.messages++;
		if (mr == MBOX_TOO_BIG) {
			fprintf(stderr, "%s:%zu: message %llu: larger than %u bytes, skipped\n",
				path, line, (unsigned long long)n.messages, LK_MAX_MESSAGE);
			n.bad++;
			continue;
		}
		struct archmsg a;
		buf_reset(&err);
		if (archmsg_parse(msg.data != NULL ? msg.data : "", msg.len, &a, &err) < 0) {
			fprintf(stderr, "%s:%zu: message %llu: %s, skipped\n", path, line,
				(unsigned long long)n.messages, buf_cstr(&err));
			n.bad++;
			continue;
		}
		if (!in_txn) {
			if ((sr = store_begin(c->st)) != STORE_OK) {
				archmsg_free(&a);
				break;
			}
			in_txn = 1;
		}
		enum archive_outcome out;
		int64_t id;
		sr = archive_store(&c->x, l, &a.m, &out, &id, &err);
		archmsg_free(&a);
		if (sr != STORE_OK)
			break;
		if (out == ARCHIVE_STORED)
			n.stored++;
		else if (out == ARCHIVE_DUPLICATE)
			n.duplicate++;
		else
			n.unwanted++;
		if (n.messages % ARCHIVE_BATCH == 0) {
			in_txn = 0;
			if ((sr = store_commit(c->st)) != STORE_OK) {
				store_rollback(c->st);
				break;
			}
		}
		progress_update(pg, rd.off);
	}
	if (in_txn && sr == STORE_OK && (sr = store_commit(c->st)) != STORE_OK)
		store_rollback(c->st);
	else if (in_txn && sr != STORE_OK)
		store_rollback(c->st);
	store_set_batch(c->st, 0);
	progress_finish(pg, rd.off);
	if (size > 0)
		munmap((void *)p, size);
	buf_free(&msg);
	if (sr != STORE_OK) {
		fprintf(stderr,
			"listkeeper archive import: stopped at message %llu; the batch under way "
			"was not kept (the ones before it are)\n",
			(unsigned long long)n.messages);
		rc = cli_store_fail(c, "archive import", sr, &err);
		buf_free(&err);
		return rc;
	}
	buf_free(&err);
	printf("%llu messages: %llu archived, %llu already there, %llu not to be archived, "
	       "%llu bad\n",
	       (unsigned long long)n.messages, (unsigned long long)n.stored,
	       (unsigned long long)n.duplicate, (unsigned long long)n.unwanted,
	       (unsigned long long)n.bad);
	return n.bad > 0 ? EX_DATAERR : rc;
}

struct export_ctx {
	FILE *fp;
	struct buf out;
	uint64_t n;
	int io;
};

static int export_one(void *ctx, const struct archive_rec *r)
{
	struct export_ctx *e = ctx;
	buf_reset(&e->out);
	mbox_write(&e->out, r->date, (const char *)r->raw, r->raw_len);
	if (e->out.err || fwrite(e->out.data, 1, e->out.len, e->fp) != e->out.len) {
		e->io = 1;
		return 1;
	}
	e->n++;
	return 0;
}

static int month_valid(const char *m)
{
	return strlen(m) == 7 && m[4] == '-' && m[0] >= '0' && m[0] <= '9' && m[1] >= '0' &&
	       m[1] <= '9' && m[2] >= '0' && m[2] <= '9' && m[3] >= '0' && m[3] <= '9' &&
	       ((m[5] == '0' && m[6] >= '1' && m[6] <= '9') ||
		(m[5] == '1' && m[6] >= '0' && m[6] <= '2'));
}

static int export(struct cli *c, const struct list_rec *l, const char *month, const char *path)
{
	struct export_ctx e = {.fp = stdout};
	if (path != NULL && (e.fp = fopen(path, "wx")) == NULL) {
		fprintf(stderr, "listkeeper archive export: %s: cannot create it\n", path);
		return EX_CANTCREAT;
	}
	buf_init(&e.out, 2 * LK_MAX_MESSAGE + 64);
	struct archive_query q = {.list_id = l->id, .month = month, .limit = -1, .with_raw = 1};
	int r = store_archive_each(c->st, &q, export_one, &e);
	buf_free(&e.out);
	int rc = 0;
	if (r != STORE_OK)
		rc = cli_store_fail(c, "archive export", r, NULL);
	if (e.fp != stdout ? fclose(e.fp) != 0 : fflush(stdout) != 0)
		e.io = 1;
	if (e.io) {
		fprintf(stderr, "listkeeper archive export: write error\n");
		rc = EX_IOERR;
	}
	if (rc == 0 && path != NULL)
		printf("%llu messages written to %s\n", (unsigned long long)e.n, path);
	return rc;
}

int cmd_archive(struct cli *c, int argc, char **argv)
{
	if (argc < 3 || cli_wants_help(argc, argv)) {
		fputs(USAGE, argc < 3 ? stderr : stdout);
		return argc < 3 ? EX_USAGE : 0;
	}
	const char *verb = argv[1], *name = argv[2], *file = NULL, *month = NULL, *out = NULL;
	int imp = strcmp(verb, "import") == 0, exp = strcmp(verb, "export") == 0;
	if (!imp && !exp) {
		fprintf(stderr, "listkeeper archive: unknown command '%s'\n", verb);
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	for (int i = 3; i < argc; i++) {
		if (exp && !strcmp(argv[i], "--month") && i + 1 < argc)
			month = argv[++i];
		else if (exp && !strcmp(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else if (imp && file == NULL)
			file = argv[i];
		else {
			fputs(USAGE, stderr);
			return EX_USAGE;
		}
	}
	if (imp && file == NULL) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	if (month != NULL && !month_valid(month)) {
		fprintf(stderr,
			"listkeeper archive export: --month takes YYYY-MM, such as 2026-11\n");
		return EX_USAGE;
	}
	int rc = cli_open(c);
	if (rc)
		return rc;
	struct list_rec l = {0};
	if ((rc = cli_list(c, name, &l)) != 0)
		return rc;
	if (imp && l.archive == LIST_ARCHIVE_NONE) {
		fprintf(stderr,
			"listkeeper archive import: list %s keeps no archive (archive = none); "
			"`listkeeper list set %s archive members` first\n",
			l.name, l.name);
		list_rec_free(&l);
		return EX_DATAERR;
	}
	rc = imp ? import(c, &l, file) : export(c, &l, month, out);
	list_rec_free(&l);
	return rc;
}
