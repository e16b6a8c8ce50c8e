/*
 * cmd_sub.c - `listkeeper sub add|rm|ls`.
 *
 * TRUST: addresses and names are the operator's but treated as untrusted
 * text (mail/address.c, lists/person.c check them). `sub ls` shows personal
 * data and writes an audit row (P8).
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lists/jobs.h"

static const char USAGE[] =
    "usage: listkeeper sub add LIST ADDRESS [--name NAME] [--country CC]\n"
    "                          [--format text|html] [--tracking]\n"
    "                          [--confirmed --consent-note TEXT] [--source-ip IP]\n"
    "       listkeeper sub rm LIST ADDRESS\n"
    "       listkeeper sub ls LIST [--state pending|active|held|disabled]\n\n"
    "add: the person is pending until they confirm from their own mailbox\n"
    "     (double opt-in). --confirmed makes them active at once and needs\n"
    "     --consent-note saying where their consent was given; it is kept in the\n"
    "     consent ledger. --source-ip records the address the person subscribed\n"
    "     from (when migrating from another system), encrypted, as proof of consent.\n"
    "     Addresses that opted out are refused.\n"
    "rm:  unsubscribes; a person on no other list is erased (their data destroyed).\n"
    "ls:  prints id, state and address; every listing is written to the audit log.\n";

static int add(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
					     {"country", required_argument, NULL, 'C'},
					     {"format", required_argument, NULL, 'f'},
					     {"tracking", no_argument, NULL, 't'},
					     {"confirmed", no_argument, NULL, 'y'},
					     {"consent-note", required_argument, NULL, 'N'},
					     {"source-ip", required_argument, NULL, 'I'},
					     {NULL, 0, NULL, 0}};
	struct subscribe_req rq = {0};
	int o;
	rq.source = "cli";
	if (argc < 4 || argv[2][0] == '-' || argv[3][0] == '-') {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	optind = 4; /* options follow LIST ADDRESS */
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'n':
			rq.name = optarg;
			break;
		case 'C':
			rq.country = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "text") && strcmp(optarg, "html")) {
				fprintf(stderr, "listkeeper sub add: --format is text or html\n");
				return EX_USAGE;
			}
			rq.html = !strcmp(optarg, "html");
			break;
		case 't':
			rq.tracking = 1;
			break;
		case 'y':
			rq.confirmed = 1;
			break;
		case 'N':
			rq.note = optarg;
			break;
		case 'I': {
			unsigned char tmp[16];
			if (inet_pton(AF_INET, optarg, tmp) != 1 &&
			    inet_pton(AF_INET6, optarg, tmp) != 1) {
				fprintf(stderr,
					"listkeeper sub add: --source-ip: not an IP address\n");
				return EX_USAGE;
			}
			rq.ip = optarg;
			break;
		}
		default:
			fputs(USAGE, stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	if (rq.confirmed && (rq.note == NULL || rq.note[0] == '\0')) {
		fprintf(stderr, "listkeeper sub add: --confirmed needs --consent-note saying where "
				"the person gave their consent\n");
		return EX_USAGE;
	}
	struct address a = {0};
	struct list_rec l = {0};
	int r = cli_address(argv[3], &a);
	if (r == 0 && !rq.confirmed) /* a pending person gets the confirmation mail */
		r = cli_templates(c);
	if (r == 0)
		r = cli_list(c, argv[2], &l);
	if (r) {
		address_free(&a);
		return r;
	}
	if (rq.name == NULL && a.display != NULL)
		rq.name = a.display;
	rq.who.addr = a.addr;
	rq.who.key = a.key;
	struct buf err;
	buf_init(&err, 4096);
	int64_t id = 0;
	enum subscribe_result res = lists_subscribe(&c->x, &l, &rq, &id, &err);
	switch (res) {
	case SUBSCRIBE_PENDING: {
		int64_t job = 0;
		if (jobs_create_confirm(&c->x, &l, id, &job, &err) != STORE_OK) {
			r = cli_store_fail(c, "sub add", &err);
			break;
		}
		printf(
		    "subscriber %lld pending on %s: a confirmation request is queued (job %lld)\n",
		    (long long)id, l.name, (long long)job);
		break;
	}
	case SUBSCRIBE_ACTIVE:
		printf("subscriber %lld active on %s\n", (long long)id, l.name);
		break;
	case SUBSCRIBE_ALREADY:
		printf("subscriber %lld is on %s already\n", (long long)id, l.name);
		break;
	case SUBSCRIBE_STILL_PENDING:
		printf("subscriber %lld is pending on %s already\n", (long long)id, l.name);
		break;
	case SUBSCRIBE_SUPPRESSED:
		fprintf(stderr,
			"listkeeper sub add: this address opted out or was erased; only the "
			"person can subscribe again, by confirming from their own mailbox\n");
		r = EX_DATAERR;
		break;
	case SUBSCRIBE_CLOSED:
		fprintf(stderr, "listkeeper sub add: %s takes no subscriptions\n", l.name);
		r = EX_DATAERR;
		break;
	case SUBSCRIBE_ERROR:
		r = cli_store_fail(c, "sub add", &err);
		break;
	}
	address_free(&a);
	list_rec_free(&l);
	buf_free(&err);
	return r;
}

static int rm(struct cli *c, int argc, char **argv)
{
	if (argc != 4) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	struct address a = {0};
	struct list_rec l = {0};
	int r = cli_address(argv[3], &a);
	if (r == 0)
		r = cli_list(c, argv[2], &l);
	int64_t id = 0;
	if (r == 0) {
		struct person_addr pa = {a.addr, a.key};
		int f = lists_find(&c->x, &pa, &id);
		if (f == STORE_NOTFOUND) {
			fprintf(stderr, "listkeeper sub rm: that address is not on %s\n", l.name);
			r = EX_DATAERR;
		} else if (f != STORE_OK) {
			r = cli_store_fail(c, "sub rm", NULL);
		}
	}
	if (r == 0) {
		struct buf err;
		buf_init(&err, 4096);
		int erased = 0;
		int u = lists_unsubscribe(&c->x, &l, id, "cli", &erased, &err);
		if (u == STORE_NOTFOUND) {
			fprintf(stderr, "listkeeper sub rm: that address is not on %s\n", l.name);
			r = EX_DATAERR;
		} else if (u != STORE_OK) {
			r = cli_store_fail(c, "sub rm", &err);
		} else {
			printf("subscriber %lld removed from %s%s\n", (long long)id, l.name,
			       erased ? "; on no other list, so their personal data was erased"
				      : "");
			if (erased)
				store_scrub(c->st);
		}
		buf_free(&err);
	}
	address_free(&a);
	list_rec_free(&l);
	return r;
}

struct ls_ctx {
	struct cli *c;
	int64_t n, last;
};

static int ls_one(void *ctx, const struct subscription_rec *sub, const struct subscriber_rec *who)
{
	struct ls_ctx *lc = ctx;
	struct person p;
	lc->last = sub->subscriber_id;
	lc->n++;
	if (lists_person_load(&lc->c->x, who, &p) < 0) {
		printf("%lld\t%s\t(unreadable)\n", (long long)who->id, sub_state_name(sub->state));
		return 0;
	}
	printf("%lld\t%s\t%s\t%s\n", (long long)who->id, sub_state_name(sub->state), p.address,
	       p.name);
	person_free(&p);
	return 0;
}

static int ls(struct cli *c, int argc, char **argv)
{
	int state = -1;
	if (argc == 5 && !strcmp(argv[3], "--state")) {
		enum sub_state s;
		if (sub_state_parse(argv[4], &s) < 0) {
			fprintf(stderr, "listkeeper sub ls: --state is pending, active, held or "
					"disabled\n");
			return EX_USAGE;
		}
		state = (int)s;
	} else if (argc != 3) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	struct list_rec l = {0};
	int r = cli_list(c, argv[2], &l);
	if (r)
		return r;
	struct ls_ctx lc = {c, 0, 0};
	for (;;) {
		int64_t before = lc.n;
		if (store_members_page(c->st, l.id, state, lc.last, 1000, ls_one, &lc) !=
		    STORE_OK) {
			r = cli_store_fail(c, "sub ls", NULL);
			break;
		}
		if (lc.n == before)
			break;
	}
	char detail[64];
	bsnprintf(detail, sizeof(detail), "rows=%lld", (long long)lc.n);
	store_audit(c->st, lists_now(&c->x), c->actor, "sub-ls", l.id, 0, detail);
	list_rec_free(&l);
	return r;
}

int cmd_sub(struct cli *c, int argc, char **argv)
{
	if (argc < 2 || cli_wants_help(argc, argv)) {
		fputs(USAGE, argc < 2 ? stderr : stdout);
		return argc < 2 ? EX_USAGE : 0;
	}
	const char *verb = argv[1];
	if (strcmp(verb, "add") && strcmp(verb, "rm") && strcmp(verb, "ls")) {
		fprintf(stderr, "listkeeper sub: unknown command '%s'\n", verb);
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	if (argc < 3) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	int r = cli_open(c);
	if (r)
		return r;
	if (!strcmp(verb, "add"))
		return add(c, argc, argv);
	if (!strcmp(verb, "rm"))
		return rm(c, argc, argv);
	return ls(c, argc, argv);
}
