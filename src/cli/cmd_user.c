/*
 * cmd_user.c - `listkeeper user add|ls|rm|passwd|role` (the admin
 * interface's accounts, lists/staff.h) and `listkeeper token add` (API
 * tokens).
 *
 * Passwords are read from standard input (one line; echo off on a
 * terminal), never from the command line, where `ps` shows them.
 *
 * TRUST: arguments are the operator's; lists/staff.c checks names, passwords
 * and roles.
 */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/limits.h"
#include "lists/staff.h"

static const char USAGE[] =
    "usage: listkeeper user add NAME            (password on stdin)\n"
    "       listkeeper user ls\n"
    "       listkeeper user rm NAME\n"
    "       listkeeper user passwd NAME         (password on stdin; ends its sessions)\n"
    "       listkeeper user role NAME add|rm ROLE [LIST]\n\n"
    "Accounts of the admin interface ([admin] listen, `serve --role admin`).\n"
    "Roles: admin (the site: every list, accounts, the audit log), and of one\n"
    "LIST: owner (settings, subscribers), moderator (held posts and requests),\n"
    "editor (campaigns). A password has 10 to 1024 bytes, read as one line from\n"
    "standard input (without echo on a terminal).\n";

static const char TOKEN_USAGE[] =
    "usage: listkeeper token add --user NAME --scope read|write\n\n"
    "Makes a bearer token for the JSON API (/api/v1/ on [admin] listen) that acts\n"
    "as account NAME with its roles; a read token cannot change anything. The\n"
    "token is printed once; only its keyed hash is kept.\n";

/* Reads one line from stdin into pw (without its newline). -1 if none. */
static int read_password(char pw[LK_MAX_PASSWORD + 2], size_t *len)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	if (tty) {
		fputs("password: ", stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	int r = fgets(pw, LK_MAX_PASSWORD + 2, stdin) != NULL ? 0 : -1;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	*len = r == 0 ? strcspn(pw, "\r\n") : 0;
	return r;
}

static int with_password(struct cli *c, const char *what, const char *name, int passwd)
{
	char pw[LK_MAX_PASSWORD + 2];
	size_t len;
	struct buf err;
	if (read_password(pw, &len) < 0) {
		fprintf(stderr, "listkeeper user %s: no password on standard input\n", what);
		return EX_USAGE;
	}
	buf_init(&err, 1024);
	int r = passwd ? staff_passwd(&c->x, name, pw, len, &err)
		       : staff_add(&c->x, name, pw, len, NULL, &err);
	explicit_bzero(pw, sizeof(pw));
	int rc = 0;
	if (r == STORE_OK)
		printf("%s %s\n", passwd ? "new password for" : "added account", name);
	else if (r == STORE_EXISTS || r == STORE_NOTFOUND || r == STAFF_INVALID)
		rc = EX_DATAERR;
	else
		rc = cli_store_fail(c, what, r, &err);
	if (rc == EX_DATAERR)
		fprintf(stderr, "listkeeper user %s: %s\n", what, buf_cstr(&err));
	buf_free(&err);
	return rc;
}

struct ls_ctx {
	struct cli *c;
	int n;
};

static int grant_line(void *ctx, const struct staff_grant *g)
{
	struct ls_ctx *lc = ctx;
	struct list_rec l;
	printf("%s", lc->n++ ? "," : " ");
	if (g->list_id == 0) {
		printf("%s", staff_role_name(g->role));
	} else if (store_list_get_id(lc->c->st, g->list_id, &l) == STORE_OK) {
		printf("%s:%s", staff_role_name(g->role), l.name);
		list_rec_free(&l);
	}
	return 0;
}

static int ls_one(void *ctx, const struct staff_rec *r)
{
	struct ls_ctx lc = {.c = ctx, .n = 0};
	printf("%s", r->name);
	store_grants_of(lc.c->st, r->id, grant_line, &lc);
	if (lc.n == 0)
		printf(" (no role)");
	printf("\n");
	return 0;
}

/* The account named name: 0 and *id, or an exit code (printed). */
static int account(struct cli *c, const char *name, int64_t *id)
{
	struct staff_rec r;
	int rc = store_staff_get(c->st, name, 0, &r);
	if (rc == STORE_NOTFOUND) {
		fprintf(stderr, "listkeeper: no account named '%s' (see `listkeeper user ls`)\n",
			name);
		return EX_DATAERR;
	}
	if (rc != STORE_OK)
		return cli_store_fail(c, "user", rc, NULL);
	*id = r.id;
	staff_rec_free(&r);
	return 0;
}

static int role(struct cli *c, int argc, char **argv)
{
	int on = argc >= 5 && !strcmp(argv[3], "add");
	enum staff_role ro;
	if (argc < 5 || argc > 6 || (!on && strcmp(argv[3], "rm") != 0) ||
	    staff_role_parse(argv[4], &ro) < 0) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	int64_t id, list_id = 0;
	int rc = account(c, argv[2], &id);
	if (rc)
		return rc;
	if (argc == 6) {
		struct list_rec l;
		if ((rc = cli_list(c, argv[5], &l)) != 0)
			return rc;
		list_id = l.id;
		list_rec_free(&l);
	}
	struct buf err;
	buf_init(&err, 1024);
	int r = on ? staff_grant(&c->x, id, ro, list_id, &err)
		   : staff_revoke(&c->x, id, ro, list_id, &err);
	if (r == STORE_OK) {
		printf("%s %s %s%s%s\n", argv[2], on ? "is now" : "is no longer", argv[4],
		       argc == 6 ? " of " : "", argc == 6 ? argv[5] : "");
	} else if (r == STORE_EXISTS || r == STORE_NOTFOUND || r == STAFF_INVALID) {
		fprintf(stderr, "listkeeper user role: %s\n", buf_cstr(&err));
		rc = r == STAFF_INVALID ? EX_USAGE : EX_DATAERR;
	} else {
		rc = cli_store_fail(c, "user role", r, &err);
	}
	buf_free(&err);
	return rc;
}

int cmd_user(struct cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(USAGE, stdout);
		return 0;
	}
	if (argc < 2) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	const char *sub = argv[1];
	int known = !strcmp(sub, "add") || !strcmp(sub, "ls") || !strcmp(sub, "rm") ||
		    !strcmp(sub, "passwd") || !strcmp(sub, "role");
	if (!known || (strcmp(sub, "ls") != 0 && argc < 3) ||
	    ((!strcmp(sub, "ls") && argc != 2) ||
	     ((!strcmp(sub, "add") || !strcmp(sub, "rm") || !strcmp(sub, "passwd")) &&
	      argc != 3))) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	int r = cli_open(c);
	if (r)
		return r;
	if (!strcmp(sub, "ls")) {
		r = store_staff_each(c->st, ls_one, c);
		return r == STORE_OK ? 0 : cli_store_fail(c, "user ls", r, NULL);
	}
	if (!strcmp(sub, "add") || !strcmp(sub, "passwd"))
		return with_password(c, sub, argv[2], !strcmp(sub, "passwd"));
	if (!strcmp(sub, "rm")) {
		struct buf err;
		buf_init(&err, 1024);
		r = staff_remove(&c->x, argv[2], &err);
		int rc = 0;
		if (r == STORE_OK)
			printf("removed account %s\n", argv[2]);
		else if (r == STORE_NOTFOUND) {
			fprintf(stderr, "listkeeper user rm: %s\n", buf_cstr(&err));
			rc = EX_DATAERR;
		} else
			rc = cli_store_fail(c, "user rm", r, &err);
		buf_free(&err);
		return rc;
	}
	return role(c, argc, argv);
}

int cmd_token(struct cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(TOKEN_USAGE, stdout);
		return 0;
	}
	const char *user = NULL, *scope = NULL;
	if (argc < 2 || strcmp(argv[1], "add") != 0) {
		fputs(TOKEN_USAGE, stderr);
		return EX_USAGE;
	}
	for (int i = 2; i < argc; i += 2) {
		if (i + 1 >= argc) {
			fputs(TOKEN_USAGE, stderr);
			return EX_USAGE;
		}
		if (!strcmp(argv[i], "--user"))
			user = argv[i + 1];
		else if (!strcmp(argv[i], "--scope"))
			scope = argv[i + 1];
		else {
			fprintf(stderr, "listkeeper token add: unknown option '%s'\n", argv[i]);
			return EX_USAGE;
		}
	}
	enum api_scope sc;
	if (user == NULL || scope == NULL || api_scope_parse(scope, &sc) < 0) {
		fputs(TOKEN_USAGE, stderr);
		return EX_USAGE;
	}
	int r = cli_open(c);
	if (r)
		return r;
	int64_t id;
	if ((r = account(c, user, &id)) != 0)
		return r;
	char tok[STAFF_TOKEN_LEN + 1];
	struct buf err;
	buf_init(&err, 1024);
	r = staff_token_add(&c->x, id, sc, tok, &err);
	int rc = r == STORE_OK ? 0 : cli_store_fail(c, "token add", r, &err);
	if (rc == 0)
		printf("%s\n", tok);
	explicit_bzero(tok, sizeof(tok));
	buf_free(&err);
	return rc;
}
