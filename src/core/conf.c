/*
 * conf.c - INI configuration (inih), declared keys, environment overrides.
 *
 * TRUST: reads an operator's file and environment; values are length-checked
 * (LK_MAX_CONF_VALUE) and typed here, so that later code can rely on them.
 */
#include "core/conf.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/num.h"
#include "core/xmalloc.h"

enum conf_type { CT_STR, CT_INT, CT_BOOL, CT_PATH, CT_ENUM };

struct conf_key {
	const char *section;
	const char *key;
	enum conf_type type;
	const char *def;
	int64_t min, max;    /* CT_INT */
	const char *choices; /* CT_ENUM: "a|b|c" */
	const char *doc;
};

/* The one table of configuration keys. Keep conf/listkeeper.conf.example and
 * docs/listkeeper.1.scd in step (tests/core/test_conf.c checks the example). */
static const struct conf_key KEYS[] = {
    {"general", "site_name", CT_STR, "listkeeper", 0, 0, NULL,
     "Name shown on pages and in mail signatures."},
    {"general", "domain", CT_STR, "localhost", 0, 0, NULL,
     "Default mail domain for new lists (LIST@domain)."},
    {"general", "base_url", CT_STR, "http://127.0.0.1:8080", 0, 0, NULL,
     "Public URL of the web interface, used in links in mail (no trailing slash)."},
    {"general", "consent_version", CT_STR, "1", 0, 0, NULL,
     "Version of the consent wording shown to subscribers; recorded in the ledger."},
    {"store", "backend", CT_ENUM, "sqlite", 0, 0, "sqlite|postgresql",
     "Store implementation: sqlite (one file, one machine) or postgresql (one database that "
     "several nodes share; [store] dsn)."},
    {"store", "dsn", CT_STR, "", 0, 0, NULL,
     "PostgreSQL: a libpq connection string (e.g. host=/run/postgresql dbname=listkeeper). "
     "No password here (refused): libpq reads it from PGPASSFILE or ~/.pgpass (mode 0600)."},
    {"store", "statement_timeout_ms", CT_INT, "60000", 0, 3600000, NULL,
     "PostgreSQL: a statement running longer is cancelled and the store answers busy "
     "(0: no limit)."},
    {"store", "path", CT_PATH, "listkeeper.db", 0, 0, NULL,
     "SQLite database file (relative to this file's directory)."},
    {"store", "busy_timeout_ms", CT_INT, "5000", 0, 600000, NULL,
     "How long to wait for a locked database before giving up, in milliseconds."},
    {"keys", "file", CT_PATH, "listkeeper.keys", 0, 0, NULL,
     "Key file written by `listkeeper init` (mode 0600; refused if others can read it)."},
    {"log", "level", CT_ENUM, "info", 0, 0, "debug|info|warn|error", "Least severe level logged."},
    {"log", "dest", CT_STR, "stderr", 0, 0, NULL,
     "Where log lines go: stderr, syslog, or a file path."},
    {"tokens", "confirm_ttl_hours", CT_INT, "168", 1, 24 * 365, NULL,
     "How long a confirmation link stays valid, in hours."},
    {"tokens", "request_ttl_hours", CT_INT, "24", 1, 24 * 30, NULL,
     "How long a \"what do you hold about me\" link stays valid, in hours."},
    {"http", "listen", CT_STR, "127.0.0.1:8080", 0, 0, NULL,
     "Address and port of the web interface: IPV4:PORT or [IPV6]:PORT (port 0 picks a "
     "free one). Put a TLS-terminating proxy in front for public use."},
    {"http", "tls_cert", CT_PATH, "", 0, 0, NULL,
     "Certificate chain (PEM) for HTTPS on [http] listen (with tls_key). Empty: plain HTTP "
     "(put a TLS-terminating proxy in front)."},
    {"http", "tls_key", CT_PATH, "", 0, 0, NULL,
     "Private key (PEM) of tls_cert; mode 0600 (refused if others can read it)."},
    {"http", "max_conns_per_ip", CT_INT, "32", 0, 256, NULL,
     "Most connections open at once from one client network (an IPv4 address, an IPv6 /64); "
     "more are refused at once. Connections from trusted_proxies are not counted. 0: no cap."},
    {"http", "request_timeout", CT_INT, "20", 1, 3600, NULL,
     "Seconds a client has for a whole request, the request line, headers and body together, "
     "from its connection (or the previous answer on it); then the connection is closed."},
    {"http", "trusted_proxies", CT_STR, "", 0, 0, NULL,
     "Proxies whose X-Forwarded-For is believed (e.g. 127.0.0.1, 10.0.0.0/8): the client is "
     "then the rightmost hop not in this list. Empty: the connecting address."},
    {"web", "confirm_per_address", CT_INT, "1", 1, 1000, NULL,
     "Most confirmation mails sent to one address per confirm_window_hours, whoever asks "
     "(against subscription bombing). Further requests get the same answer and no mail."},
    {"web", "confirm_window_hours", CT_INT, "24", 1, 24 * 30, NULL,
     "The window of confirm_per_address, in hours."},
    {"web", "subscribe_per_client", CT_INT, "20", 0, 1000000, NULL,
     "Most subscribe requests per hour from one client address (IPv6: one /64), counted in "
     "memory only; 0 means no limit. Past it the answer is 429."},
    {"web", "templates", CT_PATH, "", 0, 0, NULL,
     "A folder of templates (.html, .txt, .css) that replace the built-in ones file by file: "
     "pages, mails, the stylesheet, the consent wording (docs/templates.md). Empty: the "
     "built-ins only."},
    {"web", "logo", CT_PATH, "", 0, 0, NULL,
     "An image (.png, .svg, .jpg, .webp or .gif, at most 256 KiB) shown beside the site name "
     "on every page, served from /logo. Empty: no logo."},
    {"web", "subscribe_per_list", CT_INT, "500", 0, 1000000, NULL,
     "Most subscribe requests per hour to one list, counted in memory; 0 means no limit."},
    {"stats", "flush_seconds", CT_INT, "60", 1, 86400, NULL,
     "How often the web role writes its daily counts (page views, browser families, "
     "countries, opens) from memory to the store; also at shutdown."},
    {"stats", "geoip", CT_PATH, "", 0, 0, NULL,
     "A MaxMind DB file (.mmdb, e.g. GeoLite2-Country) to count page views by country; "
     "empty: no country count. The address is looked up and forgotten."},
    {"stats", "metrics_allow", CT_STR, "127.0.0.0/8, ::1", 0, 0, NULL,
     "Client address blocks that may read /metrics (Prometheus text, aggregates only); "
     "others get 404. Empty: /metrics is off."},
    {"delivery", "relay", CT_STR, "maildir:outbox", 0, 0, NULL,
     "Where outgoing mail goes: smtp:HOST:PORT (a relay such as Postfix), or maildir:PATH "
     "(each message written as a file into a Maildir; relative to this file's directory)."},
    {"delivery", "connections", CT_INT, "4", 1, 64, NULL,
     "SMTP connections to the relay, used in parallel and reused across messages."},
    {"delivery", "pipeline", CT_INT, "8", 1, 64, NULL,
     "Messages in flight per connection (the bound on duplicates after a crash is "
     "connections x pipeline)."},
    {"delivery", "rate_limit", CT_INT, "0", 0, 1000000, NULL,
     "Most messages per second handed to the relay; 0 means no limit."},
    {"delivery", "timeout_seconds", CT_INT, "60", 1, 3600, NULL,
     "How long to wait for the relay at each step before deferring."},
    {"delivery", "tls", CT_ENUM, "starttls", 0, 0, "none|starttls|require",
     "STARTTLS to the relay: none; starttls when offered; require (fail without it)."},
    {"delivery", "tls_verify", CT_BOOL, "yes", 0, 0, NULL,
     "Verify the relay's certificate and name. Set to no only for a local relay with a "
     "self-signed certificate."},
    {"delivery", "tls_ca_file", CT_PATH, "", 0, 0, NULL,
     "Extra CA certificates (PEM) to trust for the relay; empty uses the system's."},
    {"delivery", "helo", CT_STR, "", 0, 0, NULL,
     "Name given in EHLO; empty uses [general] domain."},
    {"delivery", "auth_user", CT_STR, "", 0, 0, NULL,
     "SMTP AUTH user name (PLAIN or LOGIN, only over TLS); empty: no AUTH."},
    {"delivery", "auth_password_file", CT_PATH, "", 0, 0, NULL,
     "File holding the SMTP AUTH password (mode 0600)."},
    {"delivery", "retry_max_hours", CT_INT, "72", 1, 720, NULL,
     "A recipient still deferred after this long fails."},
    {"delivery", "retry_base_seconds", CT_INT, "300", 1, 86400, NULL,
     "First wait before a deferred recipient is tried again; each further try waits twice as "
     "long, at most four hours."},
    {"delivery", "workers", CT_INT, "0", 0, 256, NULL,
     "Threads that compose and DKIM-sign a batch in parallel; 0: one per core. A batch is "
     "still sent and committed as one (the crash bound stays)."},
    {"dkim", "selector", CT_STR, "", 0, 0, NULL,
     "DKIM selector; empty: messages are not signed. `listkeeper dkim keygen SELECTOR` makes a "
     "key."},
    {"dkim", "key_file", CT_PATH, "", 0, 0, NULL,
     "The DKIM private key (PEM, RSA or Ed25519), written by `listkeeper dkim keygen`."},
    {"dkim", "selector2", CT_STR, "", 0, 0, NULL,
     "A second DKIM selector: every message then carries two signatures, e.g. Ed25519 beside "
     "RSA (RFC 8463 dual signing); empty: one signature. Needs selector."},
    {"dkim", "key_file2", CT_PATH, "", 0, 0, NULL,
     "The private key (PEM, RSA or Ed25519) of selector2."},
    {"dkim", "domain", CT_STR, "", 0, 0, NULL,
     "The signing domain (d=) for every list; empty signs each list's mail with the list's own "
     "domain."},
    {"lmtp", "listen", CT_STR, "127.0.0.1:2424", 0, 0, NULL,
     "Address and port of the LMTP server of the intake role (the MTA's transport_maps "
     "point here): IPV4:PORT or [IPV6]:PORT. Keep it on a local or private address."},
    {"bounce", "threshold", CT_INT, "5", 1, 1000, NULL,
     "Bounce score at which a subscription is disabled or removed (the list's bounce_action). "
     "An address gone adds 1; soft bounces add 1 per soft_per_hard; delays and policy or "
     "content rejections add 0."},
    {"bounce", "soft_per_hard", CT_INT, "3", 1, 1000, NULL,
     "Soft bounces (a full mailbox, a temporary failure given up on) that make one point of "
     "the bounce score; they decay with it."},
    {"bounce", "decay_days", CT_INT, "7", 0, 3650, NULL,
     "A subscription's bounce score halves every so many days without a hard bounce (0: "
     "never)."},
    {"intake", "command_address", CT_STR, "listkeeper", 0, 0, NULL,
     "Local part of the server-wide command address (LISTSERV style), taken at [general] "
     "domain and at every list's domain."},
    {"intake", "replies_per_hour", CT_INT, "5", 1, 1000, NULL,
     "Answers to mail (replies, requests to confirm a command) sent to one address per "
     "hour, at most; past it, mail from that address is still read but not answered."},
    {"filter", "clamd", CT_STR, "none", 0, 0, NULL,
     "Where clamd (Debian clamav-daemon) listens, for the virus scan of posts: "
     "unix:/run/clamav/clamd.ctl (its Debian socket), HOST:PORT, or none. "
     "`listkeeper filter check FILE` tries it."},
    {"filter", "spam", CT_STR, "none", 0, 0, NULL,
     "The spam scorer of posts: spamd:HOST:PORT or spamd:unix:/PATH (Debian spamd, "
     "SPAMC/1.5), or none."},
    {"filter", "timeout_seconds", CT_INT, "60", 1, 600, NULL,
     "How long one scan of one message may take, connection included; a daemon that is "
     "down or slower counts as unavailable for now (the post waits and is tried again)."},
    {"post", "max_message_kb", CT_INT, "1024", 1, 25600, NULL,
     "Largest post to a discussion list, in KB; a larger one is refused (552 at LMTP DATA, "
     "inject exits 65) and nothing of it is kept."},
    {"post", "spam_hold", CT_STR, "5.0", 0, 0, NULL,
     "A post whose spam score ([filter] spam) is at least this is held for the moderators."},
    {"post", "spam_discard", CT_STR, "none", 0, 0, NULL,
     "A post whose spam score is at least this is discarded, not held; none: never."},
    {"post", "filter_fail", CT_ENUM, "wait", 0, 0, "wait|accept",
     "A post that a filter cannot scan for now (down, too slow): wait (retry: try again "
     "later) or accept (it goes on unscanned)."},
    {"post", "nonmember", CT_ENUM, "hold", 0, 0, "hold|reject|discard",
     "A post from someone the list's posting_policy does not let post: held for the "
     "moderators, rejected (the sender is told) or discarded."},
    {"post", "bulk", CT_ENUM, "hold", 0, 0, "hold|discard",
     "A post marked Precedence: bulk, junk or list, or Auto-Submitted other than no: held "
     "or discarded."},
    {"post", "subject_prefix", CT_BOOL, "yes", 0, 0, NULL,
     "Put \"[LIST] \" before the subject of every distributed post (never twice: a reply "
     "that holds it already keeps its subject)."},
    {"post", "reply_to", CT_ENUM, "none", 0, 0, "none|list|poster",
     "The Reply-To of distributed posts: none (the poster's own, if any), list (the "
     "list's address) or poster (the From address)."},
    {"post", "hold_days", CT_INT, "14", 1, 365, NULL,
     "A held post not approved, rejected or discarded by then is deleted with its data."},
    {"dmarc", "mitigation", CT_ENUM, "munge", 0, 0, "munge|none",
     "What a distributed post From a domain whose DMARC policy is reject or quarantine "
     "gets: munge (From \"NAME via LIST\" <LIST@DOMAIN>, the poster in Reply-To and "
     "X-Original-From) or none."},
    {"dmarc", "override", CT_STR, "", 0, 0, NULL,
     "Policies known here, looked at before DNS: DOMAIN=reject|quarantine|none, comma "
     "separated (for tests and offline sites)."},
    {"dmarc", "dns", CT_BOOL, "yes", 0, 0, NULL,
     "Look the policy up in DNS (the TXT record of _dmarc.DOMAIN and of its parents) when "
     "[dmarc] override does not name the domain."},
    {"summary", "hour", CT_INT, "6", -1, 23, NULL,
     "From this hour (UTC) on, serve's scheduler role queues the owners' daily summary of "
     "the day before, once a day; -1: never (run `listkeeper summary send` from cron)."},
    {"archive", "addresses", CT_ENUM, "obfuscate", 0, 0, "obfuscate|hide",
     "How the web archive shows an author's address beside their name: obfuscate (local at "
     "domain) or hide (the name only)."},
    {"admin", "listen", CT_STR, "127.0.0.1:8081", 0, 0, NULL,
     "Admin interface and JSON API (serve --role admin): IPV4:PORT or [IPV6]:PORT (port 0 "
     "picks a free one). Keep it off the public interface, or behind a TLS proxy."},
    {"admin", "session_idle_minutes", CT_INT, "30", 1, 1440, NULL,
     "A sign-in session ends after this many minutes without a request."},
    {"admin", "session_max_hours", CT_INT, "12", 1, 720, NULL,
     "A sign-in session ends this many hours after the sign-in, however busy."},
    {"admin", "login_per_account", CT_INT, "5", 1, 1000, NULL,
     "Sign-in attempts per account per 15 minutes before each further one is answered only "
     "after login_delay_ms (a delay, never a lockout)."},
    {"admin", "login_per_network", CT_INT, "20", 1, 100000, NULL,
     "Sign-in attempts per client network (an IPv4 address, an IPv6 /64) per 15 minutes "
     "before each further one is delayed by login_delay_ms."},
    {"admin", "login_delay_ms", CT_INT, "2000", 0, 60000, NULL,
     "The delay of a sign-in attempt past login_per_account or login_per_network."},
    {"admin", "audit_days", CT_INT, "365", 1, 3650, NULL,
     "Days the audit log (sign-ins, views and exports of personal data, changes) is kept."},
    {"import", "batch", CT_INT, "10000", 1, 100000, NULL,
     "Rows per store transaction when `listkeeper import` starts; a long import doubles it, "
     "up to ten times, each batch ending by half of [store] busy_timeout_ms."},
};
#define NKEYS (sizeof(KEYS) / sizeof(KEYS[0]))

struct conf {
	char *file;
	char *dir;
	char *values[NKEYS];
};

static int find_key(const char *section, const char *key)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(KEYS[i].section, section) == 0 && strcmp(KEYS[i].key, key) == 0)
			return (int)i;
	return -1;
}

static int section_known(const char *section)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(KEYS[i].section, section) == 0)
			return 1;
	return 0;
}

static int validate(const struct conf_key *k, const char *v, struct buf *err)
{
	if (strlen(v) > LK_MAX_CONF_VALUE) {
		buf_printf(err, "[%s] %s: value longer than %d bytes", k->section, k->key,
			   LK_MAX_CONF_VALUE);
		return -1;
	}
	int64_t n;
	switch (k->type) {
	case CT_INT:
		if (num_parse_i64_z(v, k->min, k->max, &n) < 0) {
			buf_printf(err, "[%s] %s: '%s' is not a whole number from %lld to %lld",
				   k->section, k->key, v, (long long)k->min, (long long)k->max);
			return -1;
		}
		return 0;
	case CT_BOOL:
		if (strcmp(v, "true") && strcmp(v, "false") && strcmp(v, "yes") &&
		    strcmp(v, "no") && strcmp(v, "1") && strcmp(v, "0")) {
			buf_printf(err, "[%s] %s: '%s' is not true or false", k->section, k->key,
				   v);
			return -1;
		}
		return 0;
	case CT_ENUM: {
		size_t vl = strlen(v);
		const char *p = k->choices;
		while (*p) {
			const char *e = strchr(p, '|');
			size_t l = e ? (size_t)(e - p) : strlen(p);
			if (l == vl && strncmp(p, v, l) == 0)
				return 0;
			p += l + (e != NULL);
		}
		buf_printf(err, "[%s] %s: '%s' is not one of %s", k->section, k->key, v,
			   k->choices);
		return -1;
	}
	case CT_STR:
	case CT_PATH:
		for (const char *p = v; *p; p++)
			if ((unsigned char)*p < 0x20 && *p != '\t') {
				buf_printf(err, "[%s] %s: control character in value", k->section,
					   k->key);
				return -1;
			}
		return 0;
	}
	return 0;
}

static int set_value(struct conf *c, int i, const char *v, struct buf *err)
{
	if (validate(&KEYS[i], v, err) < 0)
		return -1;
	free(c->values[i]);
	c->values[i] = xstrdup(v);
	return 0;
}

struct load_ctx {
	struct conf *c;
	struct buf *err;
	int failed;
};

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *lc = user;
	if (lc->failed)
		return 0;
	int i = find_key(section, name);
	if (i < 0) {
		if (!section_known(section))
			buf_printf(lc->err, "unknown section [%s]", section);
		else
			buf_printf(lc->err, "unknown key '%s' in section [%s]", name, section);
		buf_puts(lc->err, " (every key is listed in listkeeper.conf.example)");
		lc->failed = 1;
		return 0;
	}
	if (set_value(lc->c, i, value, lc->err) < 0) {
		lc->failed = 1;
		return 0;
	}
	return 1;
}

struct conf *conf_load(const char *path, struct buf *err)
{
	struct conf *c = xcalloc(1, sizeof(*c));
	for (size_t i = 0; i < NKEYS; i++)
		c->values[i] = xstrdup(KEYS[i].def);
	if (path != NULL) {
		c->file = xstrdup(path);
		char *tmp = xstrdup(path);
		c->dir = xstrdup(dirname(tmp));
		free(tmp);
		FILE *fp = fopen(path, "re");
		if (fp == NULL) {
			buf_printf(err, "%s: cannot open: %s (run `listkeeper init` to create one)",
				   path, strerror(errno));
			conf_free(c);
			return NULL;
		}
		struct load_ctx lc = {c, err, 0};
		int line = ini_parse_file(fp, on_entry, &lc);
		fclose(fp);
		if (line != 0) {
			struct buf msg;
			buf_init(&msg, 1024);
			buf_append(&msg, err->data, err->len);
			buf_reset(err);
			buf_printf(err, "%s:%d: %s", path, line,
				   msg.len ? buf_cstr(&msg) : "syntax error");
			buf_free(&msg);
			conf_free(c);
			return NULL;
		}
	} else {
		c->dir = xstrdup(".");
	}
	/* LISTKEEPER_SECTION_KEY overrides. */
	for (size_t i = 0; i < NKEYS; i++) {
		char name[128];
		size_t o = 0;
		const char *parts[2] = {KEYS[i].section, KEYS[i].key};
		o = (size_t)bsnprintf(name, sizeof(name), "LISTKEEPER_");
		for (int p = 0; p < 2; p++) {
			for (const char *s = parts[p]; *s && o + 2 < sizeof(name); s++)
				name[o++] = (char)toupper((unsigned char)*s);
			if (p == 0)
				name[o++] = '_';
		}
		name[o] = '\0';
		const char *v = getenv(name);
		if (v != NULL && set_value(c, (int)i, v, err) < 0) {
			buf_printf(err, " (from the environment variable %s)", name);
			conf_free(c);
			return NULL;
		}
	}
	return c;
}

void conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < NKEYS; i++)
		free(c->values[i]);
	free(c->file);
	free(c->dir);
	free(c);
}

static int must_find(const char *section, const char *key)
{
	int i = find_key(section, key);
	if (i < 0) {
		fprintf(stderr, "bug: undeclared configuration key [%s] %s\n", section, key);
		abort();
	}
	return i;
}

const char *conf_get(const struct conf *c, const char *section, const char *key)
{
	return c->values[must_find(section, key)];
}

int64_t conf_get_int(const struct conf *c, const char *section, const char *key)
{
	int64_t v = 0;
	int i = must_find(section, key);
	if (num_parse_i64_z(c->values[i], KEYS[i].min, KEYS[i].max, &v) < 0)
		abort(); /* validated when set */
	return v;
}

int conf_get_bool(const struct conf *c, const char *section, const char *key)
{
	const char *v = conf_get(c, section, key);
	return strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "1") == 0;
}

char *conf_get_path(const struct conf *c, const char *section, const char *key)
{
	const char *v = conf_get(c, section, key);
	if (v[0] == '/' || c->dir == NULL)
		return xstrdup(v);
	struct buf b;
	buf_init(&b, LK_MAX_PATH);
	buf_printf(&b, "%s/%s", c->dir, v);
	return buf_steal(&b, NULL);
}

int conf_set(struct conf *c, const char *section, const char *key, const char *value,
	     struct buf *err)
{
	int i = find_key(section, key);
	if (i < 0) {
		buf_printf(err, "unknown key [%s] %s", section, key);
		return -1;
	}
	return set_value(c, i, value, err);
}

const char *conf_file(const struct conf *c)
{
	return c->file;
}

void conf_write_example(FILE *fp)
{
	const char *sec = "";
	fprintf(fp, "# listkeeper.conf - every key, with its default.\n"
		    "# Any key may be overridden by the environment variable\n"
		    "# LISTKEEPER_<SECTION>_<KEY>, e.g. LISTKEEPER_LOG_LEVEL=debug.\n"
		    "# Relative paths are relative to this file's directory.\n");
	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(sec, KEYS[i].section) != 0) {
			sec = KEYS[i].section;
			fprintf(fp, "\n[%s]\n", sec);
		}
		fprintf(fp, "\n# %s\n", KEYS[i].doc);
		if (KEYS[i].type == CT_INT)
			fprintf(fp, "# (a whole number from %lld to %lld)\n",
				(long long)KEYS[i].min, (long long)KEYS[i].max);
		if (KEYS[i].type == CT_ENUM)
			fprintf(fp, "# (one of: %s)\n", KEYS[i].choices);
		fprintf(fp, "%s = %s\n", KEYS[i].key, KEYS[i].def);
	}
}
