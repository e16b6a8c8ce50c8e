/*
 * cmd_ledger.c - `listkeeper ledger verify`.
 *
 * TRUST: reads the store, which someone may have tampered with: that is what
 * it looks for.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char USAGE[] =
    "usage: listkeeper ledger verify\n\n"
    "Recomputes the consent ledger's hash chain and reports the first event that\n"
    "was changed, removed or reordered. Exits 0 when the chain is intact, 65 when\n"
    "it is not.\n";

int cmd_ledger(struct cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(USAGE, stdout);
		return 0;
	}
	if (argc != 2 || strcmp(argv[1], "verify") != 0) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	int r = cli_open(c);
	if (r)
		return r;
	struct buf err;
	buf_init(&err, 4096);
	int64_t n = lists_ledger_verify(&c->x, &err);
	if (n < 0) {
		printf("ledger verify: FAILED: %s\n", buf_cstr(&err));
		r = EX_DATAERR;
	} else {
		printf("ledger verify: %lld events, chain intact\n", (long long)n);
	}
	buf_free(&err);
	return r;
}
