/*
 * cmd_store.c - `listkeeper store migrate --to postgresql --dsn DSN`: the
 * SQLite store of the configuration copied into an empty PostgreSQL
 * database (store_copy_to_pg: ids and sealed blobs as they are, one
 * transaction, every table's rows counted on both sides), then the
 * ledger's chain verified in the copy.
 *
 * TRUST: the DSN is the operator's (checked by the store: no password in
 * it); the source may be damaged: errors are reported, nothing is guessed.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char USAGE[] =
    "usage: listkeeper store migrate --to postgresql --dsn DSN\n\n"
    "Copies the SQLite store of the configuration into the empty PostgreSQL\n"
    "database DSN names (a libpq connection string; the password, if any, in\n"
    "PGPASSFILE or ~/.pgpass): every table with its ids, sealed data as it is,\n"
    "in one transaction, with progress on stderr; then compares every table's\n"
    "row count and verifies the consent ledger's chain in the copy. The SQLite\n"
    "store is only read. Then set [store] backend = postgresql and [store] dsn.\n"
    "Exits 0 when the copy is complete and verified, 65 when it is refused or\n"
    "does not verify, 75 when the server is busy or unreachable.\n";

static void progress(void *ctx, const char *table, int64_t done, int64_t total)
{
	(void)ctx;
	fprintf(stderr, "store migrate: %s %lld/%lld\n", table, (long long)done, (long long)total);
}

int cmd_store(struct cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(USAGE, stdout);
		return 0;
	}
	const char *to = NULL, *dsn = NULL;
	if (argc < 2 || strcmp(argv[1], "migrate") != 0) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
			to = argv[++i];
		else if (strcmp(argv[i], "--dsn") == 0 && i + 1 < argc)
			dsn = argv[++i];
		else {
			fputs(USAGE, stderr);
			return EX_USAGE;
		}
	}
	if (to == NULL || dsn == NULL || strcmp(to, "postgresql") != 0) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	int r = cli_open(c);
	if (r)
		return r;
	if (strcmp(conf_get(c->conf, "store", "backend"), "sqlite") != 0) {
		fprintf(stderr,
			"listkeeper: store migrate copies a SQLite store; [store] backend "
			"is %s\n",
			conf_get(c->conf, "store", "backend"));
		return EX_USAGE;
	}
	struct buf err;
	buf_init(&err, 4096);
	struct conf *target = conf_load(cli_config_path(c), &err);
	if (target == NULL || conf_set(target, "store", "backend", "postgresql", &err) < 0 ||
	    conf_set(target, "store", "dsn", dsn, &err) < 0) {
		fprintf(stderr, "listkeeper: %s\n", buf_cstr(&err));
		conf_free(target);
		buf_free(&err);
		return EX_USAGE;
	}
	int rc = store_copy_to_pg(c->conf, target, progress, NULL, &err);
	if (rc != STORE_OK) {
		fprintf(stderr, "listkeeper: store migrate: %s\n", buf_cstr(&err));
		r = rc == STORE_BUSY ? EX_TEMPFAIL : EX_DATAERR;
	} else {
		struct store *dst = store_open(target, 0, &err);
		if (dst == NULL) {
			fprintf(stderr, "listkeeper: store migrate: %s\n", buf_cstr(&err));
			r = EX_TEMPFAIL;
		} else {
			struct lists_ctx x = c->x;
			x.st = dst;
			int64_t n = lists_ledger_verify(&x, &err);
			if (n < 0) {
				printf(
				    "store migrate: copied, but the ledger does not verify: %s\n",
				    buf_cstr(&err));
				r = EX_DATAERR;
			} else {
				printf("store migrate: copied and verified: every table's rows "
				       "counted alike, %lld ledger events, chain intact\n",
				       (long long)n);
			}
			store_close(dst);
		}
	}
	conf_free(target);
	buf_free(&err);
	return r;
}
