/*
 * cmd_list.c - `listkeeper list create|ls|show|set|delete`.
 *
 * TRUST: values are the operator's; lists/lists.c validates every field.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/limits.h"

static const char USAGE[] =
    "usage: listkeeper list create NAME [--SETTING VALUE ...]\n"
    "       listkeeper list ls\n"
    "       listkeeper list show NAME\n"
    "       listkeeper list set NAME SETTING VALUE   (or --SETTING VALUE)\n"
    "       listkeeper list delete NAME --yes\n\n"
    "Settings (for create as --SETTING VALUE, for set as SETTING VALUE):\n"
    "  title TEXT                            shown on pages and in List-Id\n"
    "  description TEXT\n"
    "  kind announce|discussion              (default announce)\n"
    "  subscription_policy confirm|owner|closed   (default confirm: double opt-in)\n"
    "  posting_policy owners|members|anyone  (default owners)\n"
    "  moderation none|new|all               (default none)\n"
    "  archive public|members|none           (default members)\n"
    "  digest yes|no                         digests offered (default no)\n"
    "  footer TEXT                           added to every message\n"
    "  postal_address TEXT                   required by CAN-SPAM in the footer\n"
    "  tracking yes|no                       open tracking allowed (default no);\n"
    "                                        only for subscribers who agree\n"
    "  domain DOMAIN                         mail domain (default [general] domain)\n"
    "  owner ADDR[,ADDR...]                  the owners (LIST-owner@ goes to them, and the\n"
    "                                        daily summary); \"\" for none\n"
    "  bounce_action disable|remove          past the bounce threshold (default disable)\n\n"
    "Deleting a list unsubscribes everyone on it; people left on no list are\n"
    "erased (their personal data destroyed).\n";

static int ls_one(void *ctx, const struct list_rec *l)
{
	struct cli *c = ctx;
	int64_t n[4] = {0};
	store_list_counts(c->st, l->id, n);
	printf("%-24s %-10s %8lld active %8lld pending  %s@%s\n", l->name, list_kind_name(l->kind),
	       (long long)n[SUB_STATE_ACTIVE], (long long)n[SUB_STATE_PENDING], l->name, l->domain);
	return 0;
}

static int create(struct cli *c, int argc, char **argv)
{
	struct buf err;
	struct list_rec l;
	if (argc < 3 || argv[2][0] == '-') {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	buf_init(&err, 4096);
	if (!lists_name_valid(argv[2], &err)) {
		fprintf(stderr, "listkeeper list create: %s\n", buf_cstr(&err));
		buf_free(&err);
		return EX_USAGE;
	}
	lists_defaults(&l, argv[2], conf_get(c->conf, "general", "domain"));
	int r = 0;
	for (int i = 3; i < argc; i += 2) {
		if (strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc) {
			fprintf(stderr,
				"listkeeper list create: expected --SETTING VALUE at '%s'\n",
				argv[i]);
			r = EX_USAGE;
			break;
		}
		char field[64];
		bsnprintf(field, sizeof(field), "%s", argv[i] + 2);
		for (char *p = field; *p; p++)
			if (*p == '-')
				*p = '_';
		if (lists_set_field_typed(&l, field, argv[i + 1], &err) < 0) {
			fprintf(stderr, "listkeeper list create: %s\n", buf_cstr(&err));
			r = EX_USAGE;
			break;
		}
	}
	int made = r == 0 ? lists_create(&c->x, &l, &err) : STORE_OK;
	if (made == STORE_EXISTS) { /* the name is valid (above): taken is bad data */
		fprintf(stderr, "listkeeper list create: %s\n", buf_cstr(&err));
		r = EX_DATAERR;
	} else if (made != STORE_OK) { /* the store's: 70, or 75 when busy */
		r = cli_store_fail(c, "list create", made, &err);
	}
	if (r == 0)
		printf("created list %s (%s@%s)\n", l.name, l.name, l.domain);
	list_rec_free(&l);
	buf_free(&err);
	return r;
}

static int show(struct cli *c, const char *name)
{
	struct list_rec l = {0};
	int r = cli_list(c, name, &l);
	if (r)
		return r;
	int64_t n[4] = {0}, supp = 0;
	store_list_counts(c->st, l.id, n);
	store_suppression_count(c->st, l.id, &supp);
	printf("name: %s\naddress: %s@%s\n", l.name, l.name, l.domain);
	char tmp[32];
	for (size_t i = 0; lists_fields[i]; i++)
		printf("%s: %s\n", lists_fields[i], lists_get_field(&l, lists_fields[i], tmp));
	printf("subscribers: %lld active, %lld pending, %lld held, %lld disabled\n",
	       (long long)n[0 + SUB_STATE_ACTIVE], (long long)n[SUB_STATE_PENDING],
	       (long long)n[SUB_STATE_HELD], (long long)n[SUB_STATE_DISABLED]);
	printf("opted out of this list: %lld\n", (long long)supp);
	list_rec_free(&l);
	return 0;
}

static int set(struct cli *c, int argc, char **argv)
{
	if (argc != 5) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	struct list_rec l = {0};
	struct buf err;
	int r = cli_list(c, argv[2], &l);
	if (r)
		return r;
	buf_init(&err, 4096);
	char field[64];
	bsnprintf(field, sizeof(field), "%s", argv[3] + (strncmp(argv[3], "--", 2) ? 0 : 2));
	for (char *p = field; *p; p++)
		if (*p == '-')
			*p = '_';
	if (!strcmp(field, "owner"))
		memcpy(field, "owners", sizeof("owners"));
	int s = STORE_OK;
	if (lists_set_field_typed(&l, field, argv[4], &err) < 0) {
		fprintf(stderr, "listkeeper list set: %s\n", buf_cstr(&err));
		r = EX_USAGE;
	} else if ((s = store_begin(c->st)) != STORE_OK ||
		   (s = store_list_update(c->st, &l)) != STORE_OK ||
		   (s = store_audit(c->st, clock_now(), c->actor, "list-set", l.id, 0, field)) !=
		       STORE_OK ||
		   (s = store_commit(c->st)) != STORE_OK) {
		r = cli_store_fail(c, "list set", s, NULL);
		store_rollback(c->st);
	} else {
		char tmp[32];
		printf("%s: %s = %s\n", l.name, field, lists_get_field(&l, field, tmp));
	}
	list_rec_free(&l);
	buf_free(&err);
	return r;
}

static int del(struct cli *c, int argc, char **argv)
{
	if (argc < 3) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	int yes = argc == 4 && !strcmp(argv[3], "--yes");
	struct list_rec l = {0};
	int r = cli_list(c, argv[2], &l);
	if (r)
		return r;
	if (!yes) {
		fprintf(stderr,
			"listkeeper list delete: this unsubscribes everyone on '%s' and erases "
			"people on no other list; add --yes to do it\n",
			l.name);
		list_rec_free(&l);
		return EX_USAGE;
	}
	struct buf err;
	buf_init(&err, 4096);
	int64_t erased = lists_delete(&c->x, &l, &err);
	if (erased < 0)
		r = cli_store_fail(c, "list delete", (int)erased, &err);
	else
		printf("deleted list %s; %lld people erased (on no other list)\n", l.name,
		       (long long)erased);
	list_rec_free(&l);
	buf_free(&err);
	return r;
}

int cmd_list(struct cli *c, int argc, char **argv)
{
	if (argc < 2 || cli_wants_help(argc, argv)) {
		fputs(USAGE, argc < 2 ? stderr : stdout);
		return argc < 2 ? EX_USAGE : 0;
	}
	const char *verb = argv[1];
	if (strcmp(verb, "create") && strcmp(verb, "ls") && strcmp(verb, "show") &&
	    strcmp(verb, "set") && strcmp(verb, "delete")) {
		fprintf(stderr, "listkeeper list: unknown command '%s'\n", verb);
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	int r = cli_open(c);
	if (r)
		return r;
	if (!strcmp(verb, "create"))
		return create(c, argc, argv);
	if (!strcmp(verb, "ls")) {
		int e = store_list_each(c->st, ls_one, c);
		if (e != STORE_OK)
			return cli_store_fail(c, "list ls", e, NULL);
		return 0;
	}
	if (!strcmp(verb, "show")) {
		if (argc != 3) {
			fputs(USAGE, stderr);
			return EX_USAGE;
		}
		return show(c, argv[2]);
	}
	if (!strcmp(verb, "set"))
		return set(c, argc, argv);
	return del(c, argc, argv);
}
