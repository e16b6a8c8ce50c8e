/*
 * cmd_sub.c - `listkeeper sub add|rm|ls|held|approve|reject`.
 *
 * TRUST: addresses and names are the operator's but treated as untrusted
 * text (core/address.c, lists/person.c check them). `sub ls` and `sub held`
 * show personal data and write an audit row (P8).
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/utc.h"
#include "core/xmalloc.h"
#include "lists/jobs.h"

static const char USAGE[] =
    "usage: listkeeper sub add LIST ADDRESS [--name NAME] [--country CC]\n"
    "                          [--format text|html] [--tracking]\n"
    "                          [--confirmed --consent-note TEXT] [--source-ip IP]\n"
    "       listkeeper sub rm LIST ADDRESS\n"
    "       listkeeper sub ls LIST [--state pending|active|held|disabled]\n"
    "       listkeeper sub held LIST\n"
    "       listkeeper sub approve LIST ADDRESS... | --all\n"
    "       listkeeper sub reject LIST ADDRESS... | --all [--reason TEXT] [--quiet]\n\n"
    "add: the person is pending until they confirm from their own mailbox\n"
    "     (double opt-in). --confirmed makes them active at once and needs\n"
    "     --consent-note saying where their consent was given; it is kept in the\n"
    "     consent ledger. --source-ip records the address the person subscribed\n"
    "     from (when migrating from another system), encrypted, as proof of consent.\n"
    "     Addresses that opted out are refused.\n"
    "rm:  unsubscribes; a person on no other list is erased (their data destroyed).\n"
    "ls:  prints id, state and address; every listing is written to the audit log.\n"
    "held: on a list whose subscription_policy is owner, a confirmed request waits\n"
    "     for the owners: prints id, when it was requested and confirmed, address\n"
    "     and name of each (audited, as ls).\n"
    "approve: makes held requests active and queues each person's welcome.\n"
    "reject: deletes held requests and queues a short \"not accepted\" mail (with\n"
    "     --reason, one line; none with --quiet); a person on no other list is\n"
    "     erased. No opt-out is recorded: they may ask again.\n"
    "     An address that is not held (pending, active, not on the list) is\n"
    "     reported and the others are done; the exit status is then 65.\n";

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
		case 'f': {
			enum sub_format sf;
			if (sub_format_parse(optarg, &sf) < 0) {
				fprintf(stderr, "listkeeper sub add: --format is text or html\n");
				return EX_USAGE;
			}
			rq.html = sf == SUB_FORMAT_HTML;
			break;
		}
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
	struct list_rec l = {0};
	int r = 0;
	if (!rq.confirmed) /* a pending person gets the confirmation mail */
		r = cli_templates(c);
	if (r == 0)
		r = cli_list(c, argv[2], &l);
	if (r)
		return r;
	rq.address = argv[3]; /* lists_subscribe parses it */
	struct buf err;
	buf_init(&err, 4096);
	int64_t id = 0;
	enum subscribe_result res = lists_subscribe(&c->x, &l, &rq, &id, &err);
	switch (res) {
	case SUBSCRIBE_PENDING: {
		int64_t job = 0;
		int jr = jobs_create_confirm(&c->x, &l, id, &job, &err);
		if (jr != STORE_OK) {
			r = cli_store_fail(c, "sub add", jr, &err);
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
	case SUBSCRIBE_INVALID: /* bad data: the address, the name, the country */
		fprintf(stderr, "listkeeper sub add: %s\n", buf_cstr(&err));
		r = EX_DATAERR;
		break;
	case SUBSCRIBE_BUSY:
	case SUBSCRIBE_ERROR:
		r = cli_store_fail(c, "sub add", res == SUBSCRIBE_BUSY ? STORE_BUSY : STORE_ERR,
				   &err);
		break;
	}
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
			r = cli_store_fail(c, "sub rm", f, NULL);
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
			r = cli_store_fail(c, "sub rm", u, &err);
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

/* The ids of a list's held requests (--all), collected before any changes. */
struct ids {
	int64_t *v;
	size_t n, cap;
};

/* The walk over a list's members: each callback counts its row (n) and
 * remembers the id it reached (last), where the next page starts. */
struct ls_ctx {
	struct cli *c;
	int64_t n, last;
	struct ids *ids; /* collect_id */
};

/* Calls cb for every member of list_id in state (-1: any), page by page. */
static int each_member(struct cli *c, int64_t list_id, int state, store_member_cb cb,
		       struct ls_ctx *lc)
{
	for (;;) {
		int64_t before = lc->n;
		int r = store_members_page(c->st, list_id, state, lc->last, 1000, cb, lc);
		if (r != STORE_OK || lc->n == before)
			return r;
	}
}

/* Prints the members of list name in state with cb (`sub ls`, `sub held`):
 * personal data, so the listing is written to the audit log ("sub-VERB"). */
static int show_members(struct cli *c, const char *name, int state, store_member_cb cb,
			const char *verb)
{
	struct list_rec l = {0};
	int r = cli_list(c, name, &l);
	if (r)
		return r;
	struct ls_ctx lc = {c, 0, 0, NULL};
	char what[32], detail[64];
	bsnprintf(what, sizeof(what), "sub %s", verb);
	int m = each_member(c, l.id, state, cb, &lc);
	if (m != STORE_OK)
		r = cli_store_fail(c, what, m, NULL);
	if (r == 0 && lc.n == 0 && !strcmp(verb, "held"))
		fprintf(stderr, "listkeeper sub held: no requests wait on %s\n", l.name);
	bsnprintf(what, sizeof(what), "sub-%s", verb);
	bsnprintf(detail, sizeof(detail), "rows=%lld", (long long)lc.n);
	store_audit(c->st, clock_now(), c->actor, what, l.id, 0, detail);
	list_rec_free(&l);
	return r;
}

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
	return show_members(c, argv[2], state, ls_one, "ls");
}

/* --- held, approve, reject ------------------------------------------------ */

static int held_one(void *ctx, const struct subscription_rec *sub, const struct subscriber_rec *who)
{
	struct ls_ctx *lc = ctx;
	struct person p;
	char asked[32], confirmed[32];
	lc->last = sub->subscriber_id;
	lc->n++;
	utc_format(sub->created, UTC_ISO, asked, sizeof(asked));
	utc_format(sub->updated, UTC_ISO, confirmed, sizeof(confirmed));
	if (lists_person_load(&lc->c->x, who, &p) < 0) {
		printf("%lld\t%s\t%s\t(unreadable)\n", (long long)who->id, asked, confirmed);
		return 0;
	}
	printf("%lld\t%s\t%s\t%s\t%s\n", (long long)who->id, asked, confirmed, p.address, p.name);
	person_free(&p);
	return 0;
}

static int held(struct cli *c, int argc, char **argv)
{
	if (argc != 3) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	return show_members(c, argv[2], SUB_STATE_HELD, held_one, "held");
}

static int collect_id(void *ctx, const struct subscription_rec *sub,
		      const struct subscriber_rec *who)
{
	(void)who;
	struct ls_ctx *lc = ctx;
	struct ids *ids = lc->ids;
	lc->last = sub->subscriber_id;
	lc->n++;
	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? 2 * ids->cap : 64;
		ids->v = xreallocarray(ids->v, ids->cap, sizeof(*ids->v));
	}
	ids->v[ids->n++] = sub->subscriber_id;
	return 0;
}

/* Why who (an address as typed, or "subscriber N") cannot be decided on. */
static void not_held(const char *verb, const char *who, const struct list_rec *l, int found,
		     enum sub_state st)
{
	if (!found)
		fprintf(stderr, "listkeeper sub %s: %s: no request on %s\n", verb, who, l->name);
	else if (st == SUB_STATE_PENDING)
		fprintf(stderr,
			"listkeeper sub %s: %s: not confirmed yet; a request is held for the "
			"owners only once the person has confirmed it from their own mailbox\n",
			verb, who);
	else
		fprintf(stderr, "listkeeper sub %s: %s: not waiting for approval (%s on %s)\n",
			verb, who, sub_state_name(st), l->name);
}

struct decision {
	int reject, quiet;
	const char *reason;
	int failed, erased;
};

/* Approves or rejects subscriber id; who names them in messages. Returns 0,
 * or an exit code for a store failure (the rest is not done). */
static int decide_one(struct cli *c, const struct list_rec *l, int64_t id, const char *who,
		      struct decision *d)
{
	const char *verb = d->reject ? "reject" : "approve";
	struct buf err;
	buf_init(&err, 4096);
	enum sub_state st = SUB_STATE_PENDING;
	int64_t job = 0;
	int erased = 0, r;
	if (d->reject)
		r = lists_reject(&c->x, l, id, "cli", d->reason, !d->quiet, &st, &erased, &job,
				 &err);
	else
		r = lists_approve(&c->x, l, id, "cli", &st, &job, &err);
	int rc = 0;
	if (r == STORE_NOTFOUND || r == STORE_EXISTS) {
		not_held(verb, who, l, r == STORE_EXISTS, st);
		d->failed = 1;
	} else if (r != STORE_OK) {
		char what[32];
		bsnprintf(what, sizeof(what), "sub %s", verb);
		rc = cli_store_fail(c, what, r, &err);
	} else if (!d->reject) {
		printf("subscriber %lld approved on %s: active; welcome queued (job %lld)\n",
		       (long long)id, l->name, (long long)job);
	} else {
		printf("subscriber %lld rejected on %s", (long long)id, l->name);
		if (job)
			printf("; \"not accepted\" mail queued (job %lld)", (long long)job);
		printf("%s\n",
		       erased ? "; on no other list, so their personal data was erased" : "");
		d->erased |= erased;
	}
	buf_free(&err);
	return rc;
}

static int decide(struct cli *c, int argc, char **argv, int reject)
{
	static const struct option opts[] = {{"all", no_argument, NULL, 'a'},
					     {"reason", required_argument, NULL, 'r'},
					     {"quiet", no_argument, NULL, 'q'},
					     {NULL, 0, NULL, 0}};
	struct decision d = {reject, 0, NULL, 0, 0};
	int all = 0, o;
	optind = 3; /* options and addresses follow LIST */
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'a') {
			all = 1;
		} else if (o == 'r' && reject) {
			d.reason = optarg;
		} else if (o == 'q' && reject) {
			d.quiet = 1;
		} else {
			fputs(USAGE, stderr);
			return EX_USAGE;
		}
	}
	if (argv[2][0] == '-' || all == (optind < argc)) {
		fprintf(stderr, "listkeeper sub %s: give the addresses, or --all\n", argv[1]);
		return EX_USAGE;
	}
	if (d.quiet && d.reason != NULL) {
		fprintf(stderr, "listkeeper sub reject: --reason goes into the mail that --quiet "
				"does not send\n");
		return EX_USAGE;
	}
	struct buf err;
	buf_init(&err, 1024);
	if (!jobs_reason_valid(d.reason, &err)) {
		fprintf(stderr, "listkeeper sub reject: --reason: %s\n", buf_cstr(&err));
		buf_free(&err);
		return EX_USAGE;
	}
	buf_free(&err);
	struct list_rec l = {0};
	int r = d.quiet ? 0 : cli_templates(c); /* the welcome, or the "not accepted" mail */
	if (r == 0)
		r = cli_list(c, argv[2], &l);
	if (r)
		return r;
	if (all) {
		struct ids ids = {0};
		struct ls_ctx lc = {c, 0, 0, &ids};
		int m = each_member(c, l.id, SUB_STATE_HELD, collect_id, &lc);
		if (m != STORE_OK)
			r = cli_store_fail(c, reject ? "sub reject" : "sub approve", m, NULL);
		if (r == 0 && ids.n == 0)
			fprintf(stderr, "listkeeper sub %s: no requests wait on %s\n", argv[1],
				l.name);
		for (size_t i = 0; r == 0 && i < ids.n; i++) {
			char who[32];
			bsnprintf(who, sizeof(who), "subscriber %lld", (long long)ids.v[i]);
			r = decide_one(c, &l, ids.v[i], who, &d);
		}
		free(ids.v);
	}
	for (int i = optind; !all && r == 0 && i < argc; i++) {
		struct address a = {0};
		int64_t id = 0;
		if (cli_address(argv[i], &a) != 0) {
			d.failed = 1;
			continue;
		}
		struct person_addr pa = {a.addr, a.key};
		int f = lists_find(&c->x, &pa, &id);
		if (f == STORE_NOTFOUND) {
			not_held(argv[1], argv[i], &l, 0, SUB_STATE_PENDING);
			d.failed = 1;
		} else if (f != STORE_OK) {
			r = cli_store_fail(c, reject ? "sub reject" : "sub approve", f, NULL);
		} else {
			r = decide_one(c, &l, id, argv[i], &d);
		}
		address_free(&a);
	}
	if (d.erased)
		store_scrub(c->st);
	list_rec_free(&l);
	return r ? r : d.failed ? EX_DATAERR : 0;
}

int cmd_sub(struct cli *c, int argc, char **argv)
{
	if (argc < 2 || cli_wants_help(argc, argv)) {
		fputs(USAGE, argc < 2 ? stderr : stdout);
		return argc < 2 ? EX_USAGE : 0;
	}
	const char *verb = argv[1];
	static const char *const verbs[] = {"add", "rm", "ls", "held", "approve", "reject"};
	size_t v = 0;
	while (v < sizeof(verbs) / sizeof(verbs[0]) && strcmp(verb, verbs[v]) != 0)
		v++;
	if (v == sizeof(verbs) / sizeof(verbs[0])) {
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
	if (!strcmp(verb, "held"))
		return held(c, argc, argv);
	if (!strcmp(verb, "approve") || !strcmp(verb, "reject"))
		return decide(c, argc, argv, !strcmp(verb, "reject"));
	return ls(c, argc, argv);
}
