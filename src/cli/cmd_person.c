/*
 * cmd_person.c - `listkeeper person show|export|erase ADDRESS` (P3, P4).
 *
 * TRUST: the address argument goes through core/address.c. Each view or
 * export is written to the audit log.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#include "core/clock.h"
#include "lists/archive.h"

static const char USAGE[] =
    "usage: listkeeper person show ADDRESS\n"
    "       listkeeper person export ADDRESS [-o FILE]\n"
    "       listkeeper person erase ADDRESS --yes\n\n"
    "show:   the lists the address is on, and its personal data\n"
    "export: everything held about the address, as JSON (GDPR art. 15/20)\n"
    "erase:  destroys it all (GDPR art. 17): subscriptions, personal data and the\n"
    "        data key, so that copies in the consent ledger and in backups can no\n"
    "        longer be read. The keyed hash of the address stays in the\n"
    "        suppression list, so that no import can add it again. Their posts\n"
    "        in the archives are redacted or removed, as each list's\n"
    "        archive_erase says (docs/privacy.md).\n";

struct show_ctx {
	struct cli *c;
};

static int show_sub(void *ctx, const struct subscription_rec *s)
{
	struct show_ctx *sc = ctx;
	struct list_rec l = {0};
	if (store_list_get_id(sc->c->st, s->list_id, &l) == STORE_OK) {
		printf("  %-24s %s%s%s\n", l.name, sub_state_name(s->state),
		       s->digest ? ", digest" : "", s->nomail ? ", no mail" : "");
		list_rec_free(&l);
	}
	return 0;
}

/* The person's posts in the archives (lists/archive.h: redacted or removed
 * as each list says), before their subscriber data goes: their name is
 * read from it (id 0: not a subscriber). Prints what was done. */
static int erase_archive(struct cli *c, const struct address *a, int64_t id)
{
	struct person p = {0};
	struct subscriber_rec who = {0};
	if (id > 0 && store_subscriber_get(c->st, id, &who) == STORE_OK)
		lists_person_load(&c->x, &who, &p);
	subscriber_rec_free(&who);
	struct buf err;
	buf_init(&err, 1024);
	int64_t removed = 0, redacted = 0;
	int e = archive_erase_person(&c->x, a->addr, a->key, p.name, &removed, &redacted, &err);
	person_free(&p);
	int r = 0;
	if (e != STORE_OK) {
		r = cli_store_fail(c, "person erase", e, &err);
	} else if (removed > 0 || redacted > 0) {
		store_audit(c->st, clock_now(), c->actor, "archive-erase", 0, id, "");
		store_scrub(c->st);
		printf("archive: %lld posts removed, %lld redacted\n", (long long)removed,
		       (long long)redacted);
	}
	buf_free(&err);
	return r;
}

int cmd_person(struct cli *c, int argc, char **argv)
{
	if (argc < 3 || cli_wants_help(argc, argv)) {
		fputs(USAGE, argc < 3 ? stderr : stdout);
		return argc < 3 ? EX_USAGE : 0;
	}
	const char *verb = argv[1];
	const char *out = NULL;
	int yes = 0;
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--yes") && !strcmp(verb, "erase"))
			yes = 1;
		else if (!strcmp(argv[i], "-o") && i + 1 < argc && !strcmp(verb, "export"))
			out = argv[++i];
		else {
			fputs(USAGE, stderr);
			return EX_USAGE;
		}
	}
	if (strcmp(verb, "show") && strcmp(verb, "export") && strcmp(verb, "erase")) {
		fprintf(stderr, "listkeeper person: unknown command '%s'\n", verb);
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	if (!strcmp(verb, "erase") && !yes) {
		fprintf(stderr, "listkeeper person erase: this destroys everything held about "
				"the address and cannot be undone; add --yes to do it\n");
		return EX_USAGE;
	}
	struct address a = {0};
	int r = cli_address(argv[2], &a);
	if (r)
		return r;
	if ((r = cli_open(c)) != 0) {
		address_free(&a);
		return r;
	}
	struct person_addr pa = {a.addr, a.key};
	int64_t id = 0;
	int f = lists_find(&c->x, &pa, &id);
	if (!strcmp(verb, "erase") && (f == STORE_OK || f == STORE_NOTFOUND)) {
		r = erase_archive(c, &a, f == STORE_OK ? id : 0);
		if (r != 0 || f == STORE_NOTFOUND) {
			address_free(&a);
			return r;
		}
	}
	address_free(&a);
	if (f == STORE_NOTFOUND) {
		printf("nothing is held about that address\n");
		return 0;
	}
	if (f != STORE_OK)
		return cli_store_fail(c, "person", f, NULL);
	struct buf err, doc;
	buf_init(&err, 4096);
	buf_init(&doc, 16u << 20);
	if (!strcmp(verb, "show")) {
		struct subscriber_rec who = {0};
		struct person p;
		int g = store_subscriber_get(c->st, id, &who);
		if (g != STORE_OK || lists_person_load(&c->x, &who, &p) < 0) {
			r = cli_store_fail(c, "person show", g, NULL);
		} else {
			printf("subscriber %lld\naddress: %s\nname: %s\ncountry: %s\nformat: %s\n"
			       "open tracking: %s\nlists:\n",
			       (long long)id, p.address, p.name, p.country,
			       who.html ? "html" : "text", who.tracking ? "agreed" : "not agreed");
			struct show_ctx sc = {c};
			store_subscriptions_of(c->st, id, show_sub, &sc);
			store_audit(c->st, clock_now(), c->actor, "person-show", 0, id, "");
			person_free(&p);
		}
		subscriber_rec_free(&who);
	} else if (!strcmp(verb, "export")) {
		int e = lists_person_export(&c->x, id, &doc, &err);
		if (e != STORE_OK) {
			r = cli_store_fail(c, "person export", e, &err);
		} else {
			FILE *fp = out ? fopen(out, "wx") : stdout;
			if (fp == NULL) {
				fprintf(stderr, "listkeeper person export: %s: cannot create it\n",
					out);
				r = EX_CANTCREAT;
			} else {
				fwrite(doc.data, 1, doc.len, fp);
				if (fp != stdout && fclose(fp) != 0)
					r = EX_IOERR;
			}
		}
	} else {
		int e = lists_erase(&c->x, id, "cli", "erased-on-request", &err);
		if (e != STORE_OK) {
			r = cli_store_fail(c, "person erase", e, &err);
		} else {
			store_audit(c->st, clock_now(), c->actor, "person-erase", 0, id, "");
			store_scrub(c->st);
			printf("subscriber %lld erased: their personal data is destroyed; the "
			       "address stays suppressed\n",
			       (long long)id);
		}
	}
	buf_free(&doc);
	buf_free(&err);
	return r;
}
