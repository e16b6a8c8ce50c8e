/*
 * cli.c - shared set-up of the subcommands.
 *
 * TRUST: the configuration and key file are operator input, checked by
 * core/conf.c and crypto/keys.c; addresses given as arguments go through
 * core/address.c.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

const char *cli_config_path(const struct cli *c)
{
	if (c->config_path != NULL)
		return c->config_path;
	const char *env = getenv("LISTKEEPER_CONFIG");
	if (env != NULL && env[0] != '\0')
		return env;
	return "listkeeper.conf";
}

int cli_open(struct cli *c)
{
	struct buf err;
	buf_init(&err, 4096);
	const char *path = cli_config_path(c);
	c->conf = conf_load(path, &err);
	if (c->conf == NULL) {
		fprintf(stderr, "listkeeper: %s\n", buf_cstr(&err));
		buf_free(&err);
		return EX_CONFIG;
	}
	enum log_level lvl = LOG_LEVEL_INFO;
	log_level_parse(conf_get(c->conf, "log", "level"), &lvl);
	if (log_open("listkeeper", lvl, conf_get(c->conf, "log", "dest")) < 0) {
		fprintf(stderr, "listkeeper: [log] dest = %s: cannot open it\n",
			conf_get(c->conf, "log", "dest"));
		buf_free(&err);
		return EX_CONFIG;
	}
	if (crypto_init() < 0) {
		fprintf(stderr, "listkeeper: libsodium failed to initialise\n");
		buf_free(&err);
		return EX_SOFTWARE;
	}
	char *kpath = conf_get_path(c->conf, "keys", "file");
	int r = keys_load(&c->keys, kpath, &err);
	free(kpath);
	if (r < 0) {
		fprintf(stderr, "listkeeper: %s\n", buf_cstr(&err));
		buf_free(&err);
		return EX_CONFIG;
	}
	c->st = store_open(c->conf, c->migrate, &err);
	if (c->st == NULL) {
		fprintf(stderr, "listkeeper: %s\n", buf_cstr(&err));
		buf_free(&err);
		return EX_UNAVAILABLE;
	}
	buf_free(&err);
	bsnprintf(c->actor, sizeof(c->actor), "cli:uid=%u", (unsigned)getuid());
	c->x.st = c->st;
	c->x.keys = &c->keys;
	c->x.policy_version = conf_get(c->conf, "general", "consent_version");
	c->x.actor = c->actor;
	return 0;
}

int cli_templates(struct cli *c)
{
	if (c->tmpl != NULL)
		return 0;
	struct buf err;
	buf_init(&err, 4096);
	c->tmpl = tmpl_set_load_conf(c->conf, &err);
	if (c->tmpl == NULL)
		fprintf(stderr, "listkeeper: %s\n", buf_cstr(&err));
	buf_free(&err);
	c->x.tmpl = c->tmpl;
	return c->tmpl != NULL ? 0 : EX_CONFIG;
}

void cli_close(struct cli *c)
{
	tmpl_set_free(c->tmpl);
	c->tmpl = NULL;
	c->x.tmpl = NULL;
	store_close(c->st);
	c->st = NULL;
	conf_free(c->conf);
	c->conf = NULL;
	keys_wipe(&c->keys);
}

int cli_list(struct cli *c, const char *name, struct list_rec *out)
{
	int r = store_list_get(c->st, name, out);
	if (r == STORE_NOTFOUND) {
		fprintf(stderr, "listkeeper: no list named '%s' (see `listkeeper list ls`)\n",
			name);
		return EX_DATAERR;
	}
	if (r != STORE_OK) {
		fprintf(stderr, "listkeeper: %s\n", store_errmsg(c->st));
		return r == STORE_BUSY ? EX_TEMPFAIL : EX_SOFTWARE;
	}
	return 0;
}

int cli_address(const char *arg, struct address *out)
{
	struct buf err;
	buf_init(&err, 1024);
	if (mailbox_parse(arg, strlen(arg), out, &err) < 0) {
		fprintf(stderr, "listkeeper: not a valid address: %s\n", buf_cstr(&err));
		buf_free(&err);
		return EX_DATAERR;
	}
	buf_free(&err);
	return 0;
}

int cli_store_fail(struct cli *c, const char *what, int r, struct buf *err)
{
	const char *msg = err != NULL && err->len ? buf_cstr(err) : store_errmsg(c->st);
	fprintf(stderr, "listkeeper: %s: %s\n", what, msg);
	return r == STORE_BUSY ? EX_TEMPFAIL : EX_SOFTWARE;
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	}
	return 0;
}
