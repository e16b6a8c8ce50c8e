/*
 * cmd_init.c - `listkeeper init`: configuration, key file and database in one go.
 *
 * TRUST: arguments are the operator's. Refuses to overwrite an existing key
 * file: losing the keys makes every subscriber's data unreadable.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/limits.h"

static const char USAGE[] =
    "usage: listkeeper init [--dir DIR] [--domain DOMAIN] [--base-url URL]\n\n"
    "Creates DIR/listkeeper.conf, DIR/listkeeper.keys (mode 0600) and the\n"
    "database DIR/listkeeper.db. An existing configuration is kept; an existing\n"
    "key file is never overwritten; the database schema is brought up to date.\n\n"
    "  --dir DIR        where to put them (default: the current directory)\n"
    "  --domain DOMAIN  the mail domain of new lists (default: localhost)\n"
    "  --base-url URL   the public URL of the web interface\n"
    "                   (default: http://127.0.0.1:8080)\n\n"
    "Back up the key file apart from the database: without it nobody, you\n"
    "included, can read the subscribers' data.\n";

int cmd_init(struct cli *c, int argc, char **argv)
{
	const char *dir = ".", *domain = "localhost", *base_url = "http://127.0.0.1:8080";
	static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
					     {"domain", required_argument, NULL, 'm'},
					     {"base-url", required_argument, NULL, 'u'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (o) {
		case 'd':
			dir = optarg;
			break;
		case 'm':
			domain = optarg;
			break;
		case 'u':
			base_url = optarg;
			break;
		case 'h':
			fputs(USAGE, stdout);
			return 0;
		default:
			fputs(USAGE, stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	for (const char *p = domain; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == ' ') {
			fprintf(stderr, "listkeeper init: --domain: not a domain\n");
			return EX_USAGE;
		}
	for (const char *p = base_url; *p; p++)
		if (*p == '\n' || *p == '\r') {
			fprintf(stderr, "listkeeper init: --base-url: not a URL\n");
			return EX_USAGE;
		}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "listkeeper init: %s: %s\n", dir, strerror(errno));
		return EX_CANTCREAT;
	}
	char conf_path[LK_MAX_PATH], key_path[LK_MAX_PATH];
	if (bsnprintf(conf_path, sizeof(conf_path), "%s/listkeeper.conf", dir) < 0 ||
	    bsnprintf(key_path, sizeof(key_path), "%s/listkeeper.keys", dir) < 0) {
		fprintf(stderr, "listkeeper init: --dir: path too long\n");
		return EX_USAGE;
	}
	if (c->config_path != NULL)
		snprintf(conf_path, sizeof(conf_path), "%s", c->config_path); /* -c wins */

	if (access(conf_path, F_OK) < 0) {
		FILE *fp = fopen(conf_path, "wx");
		if (fp == NULL) {
			fprintf(stderr, "listkeeper init: %s: %s\n", conf_path, strerror(errno));
			return EX_CANTCREAT;
		}
		fprintf(fp,
			"# listkeeper configuration, written by `listkeeper init`.\n"
			"# Every key and its default: listkeeper.conf.example, listkeeper(1).\n\n"
			"[general]\ndomain = %s\nbase_url = %s\n\n"
			"[store]\nbackend = sqlite\npath = listkeeper.db\n\n"
			"[keys]\nfile = listkeeper.keys\n",
			domain, base_url);
		if (fclose(fp) != 0) {
			fprintf(stderr, "listkeeper init: %s: %s\n", conf_path, strerror(errno));
			return EX_IOERR;
		}
		printf("wrote %s\n", conf_path);
	} else {
		printf("kept %s\n", conf_path);
	}

	struct buf err;
	buf_init(&err, 4096);
	c->config_path = conf_path;
	c->conf = conf_load(conf_path, &err);
	if (c->conf == NULL) {
		fprintf(stderr, "listkeeper init: %s\n", buf_cstr(&err));
		buf_free(&err);
		return EX_CONFIG;
	}
	if (crypto_init() < 0)
		return EX_SOFTWARE;
	char *kpath = conf_get_path(c->conf, "keys", "file");
	if (access(kpath, F_OK) < 0) {
		keys_generate(&c->keys);
		if (keys_write(&c->keys, kpath, &err) < 0) {
			fprintf(stderr, "listkeeper init: %s\n", buf_cstr(&err));
			free(kpath);
			buf_free(&err);
			return EX_CANTCREAT;
		}
		printf("wrote %s (mode 0600; back it up apart from the database)\n", kpath);
	} else if (keys_load(&c->keys, kpath, &err) < 0) {
		fprintf(stderr, "listkeeper init: %s\n", buf_cstr(&err));
		free(kpath);
		buf_free(&err);
		return EX_CONFIG;
	} else {
		printf("kept %s\n", kpath);
	}
	free(kpath);
	c->st = store_open(c->conf, 1, &err);
	if (c->st == NULL) {
		fprintf(stderr, "listkeeper init: %s\n", buf_cstr(&err));
		buf_free(&err);
		return EX_CANTCREAT;
	}
	int64_t v = 0;
	store_schema_version(c->st, &v);
	char *dbpath = conf_get_path(c->conf, "store", "path");
	printf("database %s at schema version %lld\n", dbpath, (long long)v);
	free(dbpath);
	if (getenv("LISTKEEPER_CONFIG") == NULL && strcmp(conf_path, "listkeeper.conf") != 0 &&
	    strcmp(conf_path, "./listkeeper.conf") != 0)
		printf("\nnext: export LISTKEEPER_CONFIG=%s\n      listkeeper list create NAME\n",
		       conf_path);
	buf_free(&err);
	return 0;
}
