/*
 * cmd_dkim.c - `listkeeper dkim keygen SELECTOR`: a DKIM key and its DNS record.
 *
 * Writes the private key (PKCS#8 PEM, mode 0600, never over an existing
 * file) next to the configuration unless --out says otherwise, and prints
 * the TXT record to publish and the [dkim] lines for listkeeper.conf. Needs
 * no store and no key file: it reads the configuration only for the default
 * domain.
 *
 * TRUST: arguments are the operator's; the selector becomes part of a file
 * name and of a DNS name, so it must be one (letters, digits, '-', '.').
 */
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/limits.h"
#include "core/xmalloc.h"
#include "mail/dkim.h"

static const char USAGE[] =
    "usage: listkeeper dkim keygen SELECTOR [--type rsa|ed25519] [--domain DOMAIN]\n"
    "                              [--out FILE]\n\n"
    "Generates a DKIM signing key and prints the DNS TXT record to publish at\n"
    "SELECTOR._domainkey.DOMAIN, and the [dkim] lines for listkeeper.conf.\n\n"
    "  --type rsa|ed25519  rsa (2048 bits, the default: every receiver checks it)\n"
    "                      or ed25519 (RFC 8463: short and fast, but not every\n"
    "                      receiver checks it yet; there, mail signed only with\n"
    "                      it counts as unsigned)\n"
    "  --domain DOMAIN     the signing domain (d=); default: [dkim] domain, else\n"
    "                      [general] domain of the configuration\n"
    "  --out FILE          where to write the private key (default:\n"
    "                      dkim-SELECTOR.pem next to the configuration file)\n\n"
    "An existing key file is never overwritten: mail signed with it would stop\n"
    "verifying. To change keys, make a new selector, publish it, switch the\n"
    "configuration to it, and remove the old record after a few days.\n";

/* A DNS name as RFC 6376 section 3.1 wants selector and domain: labels of
 * letters, digits and inner hyphens, joined by dots. */
static int dns_name_ok(const char *z)
{
	size_t n = strlen(z), label = 0;
	if (n == 0 || n > LK_MAX_DOMAIN)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		char c = z[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || z[i - 1] == '-' || z[i - label] == '-')
				return 0;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-') {
			label++;
		} else {
			return 0;
		}
	}
	return 1;
}

/* Prints value as a zone file would hold it: strings of at most 255 octets
 * (RFC 1035 section 3.3.14), which receivers join. */
static void print_zone_line(const char *name, const char *value)
{
	size_t n = strlen(value);
	printf("  %s. IN TXT (", name);
	for (size_t i = 0; i < n; i += 255)
		printf(" \"%.*s\"", (int)(n - i < 255 ? n - i : 255), value + i);
	printf(" )\n");
}

static int keygen(struct cli *c, int argc, char **argv)
{
	const char *type = "rsa", *domain = NULL, *out = NULL;
	static const struct option opts[] = {{"type", required_argument, NULL, 't'},
					     {"domain", required_argument, NULL, 'd'},
					     {"out", required_argument, NULL, 'o'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 't':
			type = optarg;
			break;
		case 'd':
			domain = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			fputs(USAGE, stdout);
			return 0;
		default:
			fputs(USAGE, stderr);
			return EX_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fputs(USAGE, stderr);
		return EX_USAGE;
	}
	const char *selector = argv[optind];
	if (!dns_name_ok(selector)) {
		fprintf(stderr,
			"listkeeper: selector '%s': use letters, digits, '-' and '.' only "
			"(e.g. lk2026)\n",
			selector);
		return EX_USAGE;
	}
	enum dkim_key_type kt;
	if (dkim_key_type_parse(type, &kt) < 0) {
		fprintf(stderr, "listkeeper: --type %s: use rsa or ed25519\n", type);
		return EX_USAGE;
	}

	struct buf err, txt, name;
	buf_init(&err, 4096);
	buf_init(&txt, 1024);
	buf_init(&name, LK_MAX_DOMAIN + 1);
	char *conf_dir = NULL, *out_path = NULL;
	int r = 0;

	if (domain == NULL) {
		c->conf = conf_load(cli_config_path(c), &err);
		if (c->conf == NULL) {
			fprintf(stderr, "listkeeper: %s (or give --domain)\n", buf_cstr(&err));
			r = EX_CONFIG;
			goto out;
		}
		domain = conf_get(c->conf, "dkim", "domain");
		if (domain[0] == '\0')
			domain = conf_get(c->conf, "general", "domain");
	}
	if (!dns_name_ok(domain)) {
		fprintf(stderr,
			"listkeeper: domain '%s': not a DNS name (an international domain in "
			"its xn-- form)\n",
			domain);
		r = EX_USAGE;
		goto out;
	}
	buf_printf(&name, "%s._domainkey.%s", selector, domain);
	if (name.err) {
		fprintf(stderr, "listkeeper: %s._domainkey.%s is longer than a DNS name\n",
			selector, domain);
		r = EX_USAGE;
		goto out;
	}

	if (out == NULL) {
		char *tmp = xstrdup(cli_config_path(c));
		conf_dir = xstrdup(dirname(tmp));
		free(tmp);
		struct buf p;
		buf_init(&p, LK_MAX_PATH);
		buf_printf(&p, "%s/dkim-%s.pem", conf_dir, selector);
		if (p.err) {
			fprintf(stderr, "listkeeper: the key file's path is too long\n");
			buf_free(&p);
			r = EX_USAGE;
			goto out;
		}
		out_path = buf_steal(&p, NULL);
	} else {
		out_path = xstrdup(out);
	}

	enum dkim_keygen_fail why;
	if (dkim_keygen(type, out_path, &txt, &err, &why) < 0) {
		fprintf(stderr, "listkeeper: %s\n", buf_cstr(&err));
		r = why == DKIM_KEYGEN_EXISTS || why == DKIM_KEYGEN_CANTCREATE ? EX_CANTCREAT
		    : why == DKIM_KEYGEN_IOERR				       ? EX_IOERR
									       : EX_SOFTWARE;
		goto out;
	}

	/* key_file in the configuration: relative to its directory when the
	 * key is there (the default), else absolute. */
	char abs[PATH_MAX];
	const char *key_file = out_path;
	if (out == NULL)
		key_file = strrchr(out_path, '/') + 1;
	else if (realpath(out_path, abs) != NULL)
		key_file = abs;

	printf("wrote %s (%s, mode 0600): keep it secret, back it up\n\n", out_path,
	       kt == DKIM_KEY_RSA ? "RSA 2048" : "Ed25519");
	printf("Publish this DNS record:\n"
	       "  name:  %s\n"
	       "  type:  TXT\n"
	       "  value: %s\n\n",
	       buf_cstr(&name), buf_cstr(&txt));
	printf("In a zone file:\n");
	print_zone_line(buf_cstr(&name), buf_cstr(&txt));
	printf("\nThen put these lines into %s:\n"
	       "  [dkim]\n"
	       "  selector = %s\n"
	       "  key_file = %s\n"
	       "  domain = %s\n",
	       cli_config_path(c), selector, key_file, domain);
	if (strcmp(domain, "localhost") == 0)
		printf("\nNote: the domain is 'localhost'; give --domain with the domain your "
		       "lists send from.\n");
out:
	free(conf_dir);
	free(out_path);
	buf_free(&err);
	buf_free(&txt);
	buf_free(&name);
	return r;
}

int cmd_dkim(struct cli *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "keygen") == 0)
		return keygen(c, argc - 1, argv + 1);
	if (cli_wants_help(argc, argv)) {
		fputs(USAGE, stdout);
		return 0;
	}
	fputs(USAGE, stderr);
	return EX_USAGE;
}
