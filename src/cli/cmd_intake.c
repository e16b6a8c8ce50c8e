/*
 * cmd_intake.c - `listkeeper intake spool|quarantine ...`: the intake spool
 * and the messages set aside in quarantine (intake/spool.h).
 *
 * A quarantined message is personal data (a bounce quotes the recipient's
 * address, a command message its sender's): `show` decrypts it and writes an
 * audit row; `drop` deletes it (the row's key with it) and audits.
 *
 * `classify FILE...` prints what the bounce classifier (intake/bounce.h)
 * makes of each message file, as the intake would act on it: no store, no
 * keys, no addresses printed.
 *
 * TRUST: arguments are the operator's; the stored message is untrusted and
 * printed as it is (bytes to stdout, as `person export` prints data); a
 * classified file is untrusted mail, read up to LK_MAX_MESSAGE.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/utc.h"
#include "core/limits.h"
#include "core/num.h"
#include "intake/bounce.h"
#include "intake/mimetext.h"
#include "intake/spool.h"

static const char USAGE[] =
    "usage: listkeeper intake spool\n"
    "       listkeeper intake quarantine ls\n"
    "       listkeeper intake quarantine show ID\n"
    "       listkeeper intake quarantine drop ID\n"
    "       listkeeper intake quarantine retry ID\n"
    "       listkeeper intake classify FILE...\n\n"
    "Every message the intake accepts is first stored (sealed) in the intake spool,\n"
    "then handled by `serve --role intake`. A message whose handling crashed the\n"
    "server three times is set aside in quarantine and never tried again on its own.\n\n"
    "  spool             counts of pending and quarantined messages\n"
    "  quarantine ls     the quarantined messages: id, received, size, attempts\n"
    "  quarantine show   prints the recipient and the message (audited)\n"
    "  quarantine drop   deletes it for good (audited)\n"
    "  quarantine retry  puts it back in the spool with its attempts reset (audited),\n"
    "                    once the fault is fixed\n"
    "  classify          what the bounce classifier makes of each message file: one\n"
    "                    line each, FILE CLASS final|- FORMAT STATUS JOB FAMILY\n"
    "                    (CLASS: gone, full, rejected-content, sender-policy,\n"
    "                    temporary, unknown, complaint; no addresses printed)\n";

struct tally {
	int64_t n, bytes, last;
	int print;
};

static void when(int64_t t, char out[32])
{
	utc_format(t, UTC_ISO, out, 32);
}

static int tally_one(void *ctx, const struct spool_rec *r)
{
	struct tally *t = ctx;
	t->n++;
	t->bytes += r->size;
	t->last = r->id;
	if (t->print) {
		char rec[32], q[32];
		when(r->received, rec);
		when(r->quarantined, q);
		printf("%-8lld received %s  quarantined %s  %10lld bytes  %d attempts\n",
		       (long long)r->id, rec, q, (long long)r->size, r->attempts);
	}
	return 0;
}

/* A failure of the spool store sq (its own file: store_spool_open). */
static int spool_fail(struct cli *c, struct store *sq, int rs, const char *what)
{
	struct buf e;
	buf_init(&e, 1024);
	buf_puts(&e, store_errmsg(sq));
	int r = cli_store_fail(c, what, rs, &e);
	buf_free(&e);
	return r;
}

/* Walks every row of one kind (pending or quarantined), a page at a time. */
static int walk(struct store *sq, int quarantined, struct tally *t)
{
	for (;;) {
		int64_t before = t->n;
		int r = store_spool_each(sq, quarantined, t->last, INT64_MAX, 1000, tally_one, t);
		if (r != STORE_OK || t->n - before < 1000)
			return r;
	}
}

static int get_row(struct cli *c, struct store *sq, const char *arg, struct spool_rec *out)
{
	int64_t id;
	if (num_parse_i64_z(arg, 1, INT64_MAX, &id) < 0) {
		fprintf(stderr, "listkeeper intake quarantine: '%s' is not a message id\n", arg);
		return EX_USAGE;
	}
	memset(out, 0, sizeof(*out));
	int r = store_spool_get(sq, id, out);
	if (r == STORE_OK && out->quarantined == 0) {
		spool_rec_free(out);
		r = STORE_NOTFOUND;
	}
	if (r == STORE_NOTFOUND) {
		fprintf(stderr,
			"listkeeper intake quarantine: no quarantined message %lld "
			"(see `listkeeper intake quarantine ls`)\n",
			(long long)id);
		return EX_DATAERR;
	}
	if (r != STORE_OK)
		return spool_fail(c, sq, r, "intake quarantine");
	return 0;
}

/* The audit row and the change of the spool (its own file, its own
 * transaction, inside the database's). */
static int audited(struct cli *c, struct store *sq, const char *action, const struct spool_rec *row,
		   int (*change)(struct cli *c, struct store *sq, const struct spool_rec *row))
{
	char detail[48];
	bsnprintf(detail, sizeof(detail), "spool=%lld", (long long)row->id);
	int r = store_begin(c->st);
	if (r == STORE_OK && change != NULL) {
		r = store_begin(sq);
		if (r == STORE_OK)
			r = change(c, sq, row);
		if (r == STORE_OK)
			r = store_commit(sq);
		if (r != STORE_OK) {
			store_rollback(sq);
			store_rollback(c->st);
			return spool_fail(c, sq, r, "intake quarantine");
		}
	}
	if (r == STORE_OK)
		r = store_audit(c->st, clock_now(), c->actor, action, 0, 0, detail);
	if (r == STORE_OK)
		r = store_commit(c->st);
	if (r != STORE_OK) {
		store_rollback(c->st);
		return cli_store_fail(c, "intake quarantine", r, NULL);
	}
	return 0;
}

static int do_drop(struct cli *c, struct store *sq, const struct spool_rec *row)
{
	(void)c;
	return store_spool_delete(sq, row->id);
}

static int do_retry(struct cli *c, struct store *sq, const struct spool_rec *row)
{
	(void)c;
	return store_spool_set(sq, row->id, 0, 0, clock_now());
}

static int quarantine_cmd(struct cli *c, struct store *sq, int argc, char **argv)
{
	const char *verb = argc > 2 ? argv[2] : "";
	if (!strcmp(verb, "ls") && argc == 3) {
		struct tally t = {0, 0, 0, 1};
		int w = walk(sq, 1, &t);
		if (w != STORE_OK)
			return spool_fail(c, sq, w, "intake quarantine ls");
		printf("%lld quarantined\n", (long long)t.n);
		return 0;
	}
	if (argc != 4 || (strcmp(verb, "show") && strcmp(verb, "drop") && strcmp(verb, "retry"))) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	struct spool_rec row;
	int r = get_row(c, sq, argv[3], &row);
	if (r)
		return r;
	if (!strcmp(verb, "show")) {
		struct buf rcpt, msg;
		buf_init(&rcpt, LK_MAX_ADDRESS + 1);
		buf_init(&msg, LK_MAX_MESSAGE);
		if (intake_spool_open(&c->keys, &row, &rcpt, &msg) < 0) {
			fprintf(stderr,
				"listkeeper intake quarantine show: message %lld does not "
				"open (corrupt, or sealed under another key file)\n",
				(long long)row.id);
			r = EX_DATAERR;
		} else if ((r = audited(c, sq, "intake-quarantine-show", &row, NULL)) == 0) {
			printf("recipient: %.*s\n\n", (int)rcpt.len, rcpt.data);
			fwrite(msg.data != NULL ? msg.data : "", 1, msg.len, stdout);
		}
		if (rcpt.data != NULL)
			explicit_bzero(rcpt.data, rcpt.len);
		if (msg.data != NULL)
			explicit_bzero(msg.data, msg.len);
		buf_free(&rcpt);
		buf_free(&msg);
	} else if (!strcmp(verb, "drop")) {
		r = audited(c, sq, "intake-quarantine-drop", &row, do_drop);
		if (r == 0) {
			store_scrub(sq);
			printf("dropped quarantined message %lld\n", (long long)row.id);
		}
	} else {
		r = audited(c, sq, "intake-quarantine-retry", &row, do_retry);
		if (r == 0)
			printf("message %lld is back in the spool; `serve --role intake` handles "
			       "it\n",
			       (long long)row.id);
	}
	spool_rec_free(&row);
	return r;
}

static const char *const FORMAT_NAME[] = {"none", "dsn", "arf", "qmail", "text"};

/* `intake classify FILE...`: no configuration needed. Exit 0, or EX_NOINPUT
 * when a file could not be read (the others are still classified). */
static int classify(int argc, char **argv)
{
	int rc = 0;
	mimetext_init();
	for (int i = 2; i < argc; i++) {
		struct buf msg, err;
		buf_init(&msg, LK_MAX_MESSAGE);
		buf_init(&err, 1024);
		if (buf_read_file(&msg, argv[i], &err) < 0) {
			fprintf(stderr, "listkeeper intake classify: %s\n", buf_cstr(&err));
			rc = EX_NOINPUT;
		} else {
			struct bounce b;
			bounce_parse(msg.data != NULL ? msg.data : "", msg.len, NULL, 0, &b);
			const char *st = "-";
			for (size_t k = 0; k < b.nrcpt; k++)
				if (b.rcpt[k].cls == b.cls && b.rcpt[k].status[0] != '\0') {
					st = b.rcpt[k].status;
					break;
				}
			printf("%s\t%s\t%s\t%s\t%s\t%lld\t%s\n", argv[i], bounce_class_name(b.cls),
			       b.final ? "final" : "-", FORMAT_NAME[b.format], st,
			       (long long)b.job_id, b.family != NULL ? b.family : "-");
			bounce_free(&b);
		}
		buf_free(&msg);
		buf_free(&err);
	}
	return rc;
}

int cmd_intake(struct cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(USAGE, stdout);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "classify"))
		return classify(argc, argv);
	int spool = argc == 2 && !strcmp(argv[1], "spool");
	if (!spool && (argc < 3 || strcmp(argv[1], "quarantine") != 0)) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	int r = cli_open(c);
	if (r)
		return r;
	struct buf err;
	buf_init(&err, 1024);
	struct store *sq = store_spool_open(c->conf, &err);
	if (sq == NULL) {
		r = cli_store_fail(c, "intake", STORE_ERR, &err);
		buf_free(&err);
		return r;
	}
	buf_free(&err);
	if (!spool) {
		r = quarantine_cmd(c, sq, argc, argv);
		store_close(sq);
		return r;
	}
	struct tally p = {0}, q = {0};
	int w = walk(sq, 0, &p);
	if (w == STORE_OK)
		w = walk(sq, 1, &q);
	if (w != STORE_OK)
		r = spool_fail(c, sq, w, "intake spool");
	else
		printf("pending: %lld (%lld bytes)\nquarantined: %lld (%lld bytes)\n",
		       (long long)p.n, (long long)p.bytes, (long long)q.n, (long long)q.bytes);
	store_close(sq);
	return r;
}
