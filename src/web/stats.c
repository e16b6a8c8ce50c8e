/*
 * stats.c - daily aggregate statistics, the open pixel and /metrics (see
 * stats.h).
 *
 * The table in memory is an array of at most STATS_MAX_ENTRIES counters,
 * searched linearly (a day holds a few dozen: routes x families x countries
 * x lists seen); a flush swaps it for an empty one under the mutex and
 * writes the old one outside it, so that counting never waits for the store.
 *
 * TRUST: the url, user agent and client address are untrusted. The url is
 * only compared with fixed prefixes, a list name in it kept only if it is
 * made of list-name characters within LK_MAX_LIST_NAME (and resolved to an
 * id at the flush), a token only authenticated for its list id; the user
 * agent is classified (web/useragent.c) and the address looked up
 * (web/geoip.c), then both forgotten. Nothing here logs a visitor.
 */
#include "web/stats.h"

#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/hll.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/netaddr.h"
#include "core/num.h"
#include "core/xmalloc.h"
#include "crypto/hash.h"
#include "crypto/token.h"
#include "web/geoip.h"
#include "web/useragent.h"

enum route { R_INDEX, R_LIST, R_CONFIRM, R_UNSUB, R_PREFS, R_ME, R_ME_TOKEN, R_OTHER, R_COUNT };
static const char *const ROUTES[R_COUNT] = {"/",	"/l/NAME", "/c/TOKEN",	"/u/TOKEN",
					    "/p/TOKEN", "/me",	   "/me/TOKEN", "other"};

enum counter { C_VIEW, C_BROWSER, C_COUNTRY, C_OPENS };
static const char *const COUNTERS[] = {"view", "browser", "country", "opens"};

struct entry {
	int64_t day;			 /* UTC day number */
	int64_t list_id;		 /* 0 until resolved, for a list name or a job */
	int64_t job;			 /* C_OPENS: the job */
	char list[LK_MAX_LIST_NAME + 1]; /* a list named in the path */
	uint8_t counter;
	char key[24];
	int64_t value;
	uint8_t *sketch; /* C_OPENS: HLL_REGISTERS bytes */
};

struct stats {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int running, stop;
	const struct conf *conf;
	const struct keys *keys;
	struct geoip *geo;
	struct netaddr_cidr *allow; /* [stats] metrics_allow */
	size_t n_allow;
	int64_t flush_seconds;
	uint8_t open_key[crypto_shorthash_KEYBYTES]; /* keys the sketches' input */
	struct entry *e;
	size_t n, sketches;
	struct store *st; /* the flush thread's own */
	/* Since start, for /metrics. */
	uint64_t views[R_COUNT], families[UA_COUNT], opens, dropped, flush_errors;
};

static const unsigned char GIF[43] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

static int64_t today(void)
{
	return clock_now() / 86400;
}

/* The entry for this key, made if missing (value 0, no sketch), or NULL when
 * the table is full (the drop is counted). Called with the mutex held. */
static struct entry *slot(struct stats *s, int64_t day, int64_t list_id, int64_t job,
			  const char *list, enum counter c, const char *key)
{
	for (size_t i = 0; i < s->n; i++) {
		struct entry *e = &s->e[i];
		if (e->day == day && e->counter == c && e->list_id == list_id && e->job == job &&
		    strcmp(e->key, key) == 0 && strcmp(e->list, list) == 0)
			return e;
	}
	if (s->n == STATS_MAX_ENTRIES) {
		s->dropped++;
		return NULL;
	}
	struct entry *e = &s->e[s->n++];
	memset(e, 0, sizeof(*e));
	e->day = day;
	e->list_id = list_id;
	e->job = job;
	bsnprintf(e->list, sizeof(e->list), "%s", list);
	e->counter = (uint8_t)c;
	bsnprintf(e->key, sizeof(e->key), "%s", key);
	return e;
}

static void bump(struct stats *s, int64_t day, int64_t list_id, const char *list, enum counter c,
		 const char *key)
{
	struct entry *e = slot(s, day, list_id, 0, list, c, key);
	if (e != NULL)
		e->value++;
}

/* The list named by /l/NAME, if the name is made of list-name characters. */
static void list_of_path(const char *p, char out[LK_MAX_LIST_NAME + 1])
{
	size_t len = strcspn(p, "/?");
	out[0] = '\0';
	if (len == 0 || len > LK_MAX_LIST_NAME)
		return;
	for (size_t i = 0; i < len; i++) {
		char c = p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.'))
			return;
	}
	memcpy(out, p, len);
	out[len] = '\0';
}

/* The list id in a token of the given purpose, or 0. */
static int64_t list_of_token(const struct stats *s, const char *p, enum token_purpose purpose)
{
	size_t len = strcspn(p, "/?");
	struct token t;
	if (len == 0 || len > LK_MAX_TOKEN ||
	    token_decode(s->keys, p, len, purpose, clock_now(), &t) != TOKEN_OK)
		return 0;
	return (int64_t)t.list_id;
}

static enum route route_of(const struct stats *s, const char *url, unsigned status,
			   char list[LK_MAX_LIST_NAME + 1], int64_t *list_id)
{
	list[0] = '\0';
	*list_id = 0;
	if (status == 404)
		return R_OTHER;
	if (strcmp(url, "/") == 0)
		return R_INDEX;
	if (strncmp(url, "/l/", 3) == 0) {
		if (status < 400)
			list_of_path(url + 3, list);
		return R_LIST;
	}
	static const struct {
		char letter;
		enum route r;
		enum token_purpose purpose;
	} TOK[] = {{'c', R_CONFIRM, TOKEN_CONFIRM},
		   {'u', R_UNSUB, TOKEN_UNSUBSCRIBE},
		   {'p', R_PREFS, TOKEN_PREFS}};
	for (size_t i = 0; i < sizeof(TOK) / sizeof(TOK[0]); i++)
		if (url[0] == '/' && url[1] == TOK[i].letter && url[2] == '/') {
			*list_id = list_of_token(s, url + 3, TOK[i].purpose);
			return TOK[i].r;
		}
	if (strcmp(url, "/me") == 0)
		return R_ME;
	if (strncmp(url, "/me/", 4) == 0)
		return R_ME_TOKEN;
	return R_OTHER;
}

void stats_count(struct stats *s, const char *url, unsigned status, const char *content_type,
		 const char *ua, size_t ua_len, const struct sockaddr *client)
{
	if (s == NULL || content_type == NULL || strncmp(content_type, "text/html", 9) != 0)
		return;
	char list[LK_MAX_LIST_NAME + 1];
	int64_t list_id;
	enum route r = route_of(s, url, status, list, &list_id);
	enum ua_family f = ua_family(ua, ua_len);
	char cc[3] = "";
	int geo = s->geo != NULL;
	if (geo && (client == NULL || geoip_country(s->geo, client, cc) < 0))
		bsnprintf(cc, sizeof(cc), "--");
	int64_t day = today();
	pthread_mutex_lock(&s->mu);
	bump(s, day, list_id, list, C_VIEW, ROUTES[r]);
	bump(s, day, list_id, list, C_BROWSER, ua_family_name(f));
	if (geo)
		bump(s, day, list_id, list, C_COUNTRY, cc);
	s->views[r]++;
	s->families[f]++;
	pthread_mutex_unlock(&s->mu);
}

int stats_pixel_match(const char *url)
{
	return strncmp(url, "/o/", 3) == 0;
}

/* "/o/JOB-TOKEN.gif" (crypto/token.h): only the server's own pixels count. */
static int pixel_parse(const struct keys *k, const char *url, int64_t *job,
		       uint8_t h[TOKEN_PIXEL_WHO])
{
	const char *p = url + 3;
	size_t n = strlen(p);
	if (n < 4 || strcmp(p + n - 4, ".gif") != 0)
		return -1;
	return token_pixel_decode(k, p, n - 4, job, h);
}

void stats_pixel(struct stats *s, const char *url, struct page *out)
{
	int64_t job;
	uint8_t h[TOKEN_PIXEL_WHO];
	if (s != NULL && pixel_parse(s->keys, url, &job, h) == 0) {
		uint8_t in[16], hv[crypto_shorthash_BYTES];
		for (int i = 0; i < 8; i++)
			in[i] = (uint8_t)((uint64_t)job >> (56 - 8 * i));
		memcpy(in + 8, h, 8);
		crypto_shorthash(hv, in, sizeof(in), s->open_key);
		uint64_t x;
		memcpy(&x, hv, sizeof(x));
		char key[24];
		bsnprintf(key, sizeof(key), "%" PRId64, job);
		int64_t day = today();
		pthread_mutex_lock(&s->mu);
		s->opens++;
		struct entry *e = slot(s, day, 0, job, "", C_OPENS, key);
		if (e != NULL && e->sketch == NULL) {
			if (s->sketches < STATS_MAX_SKETCHES) {
				e->sketch = xcalloc(1, HLL_REGISTERS);
				s->sketches++;
			} else {
				s->dropped++;
			}
		}
		if (e != NULL) {
			e->value++;
			if (e->sketch != NULL)
				hll_add(e->sketch, x);
		}
		pthread_mutex_unlock(&s->mu);
		sodium_memzero(in, sizeof(in));
	}
	page_text(out, 200, "no-store", "image/gif", (const char *)GIF, sizeof(GIF));
}

int stats_metrics_match(const char *url)
{
	return strcmp(url, "/metrics") == 0;
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static void label(struct buf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_putc(b, '\\');
		if (*v == '\n') {
			buf_puts(b, "\\n");
			continue;
		}
		buf_putc(b, *v);
	}
}

struct gauge_ctx {
	struct store *st;
	struct buf *b;
	int64_t lists;
	int failed;
};

static int list_gauge(void *ctx, const struct list_rec *l)
{
	struct gauge_ctx *g = ctx;
	if (!page_list_public(l))
		return 0;
	int64_t counts[4];
	if (store_list_counts(g->st, l->id, counts) != STORE_OK) {
		g->failed = 1;
		return 1;
	}
	g->lists++;
	buf_puts(g->b, "listkeeper_list_subscribers{list=\"");
	label(g->b, l->name);
	buf_printf(g->b, "\"} %" PRId64 "\n", counts[SUB_STATE_ACTIVE]);
	return 0;
}

void stats_metrics(struct stats *s, struct store *st, const struct sockaddr *client,
		   const struct site *site, struct page *out)
{
	if (s == NULL || client == NULL || !netaddr_cidr_match(s->allow, s->n_allow, client)) {
		page_begin(out, 404, "no-store");
		page_error(out, site, 404, "Not found", "There is no page at this address.");
		return;
	}
	uint64_t views[R_COUNT], families[UA_COUNT], opens, dropped, errors;
	pthread_mutex_lock(&s->mu);
	memcpy(views, s->views, sizeof(views));
	memcpy(families, s->families, sizeof(families));
	opens = s->opens;
	dropped = s->dropped;
	errors = s->flush_errors;
	pthread_mutex_unlock(&s->mu);

	memset(out, 0, sizeof(*out));
	out->status = 200;
	out->content_type = "text/plain; version=0.0.4; charset=utf-8";
	out->cache_control = "no-store";
	buf_init(&out->body, 1 << 20);
	struct buf *b = &out->body;
	buf_puts(b, "# HELP listkeeper_page_views_total HTML pages served since the server "
		    "started, by route pattern.\n"
		    "# TYPE listkeeper_page_views_total counter\n");
	for (int r = 0; r < R_COUNT; r++)
		buf_printf(b, "listkeeper_page_views_total{route=\"%s\"} %" PRIu64 "\n", ROUTES[r],
			   views[r]);
	buf_puts(b, "# HELP listkeeper_browser_views_total HTML pages served since the server "
		    "started, by browser family.\n"
		    "# TYPE listkeeper_browser_views_total counter\n");
	for (int f = 0; f < UA_COUNT; f++)
		buf_printf(b, "listkeeper_browser_views_total{family=\"%s\"} %" PRIu64 "\n",
			   ua_family_name((enum ua_family)f), families[f]);
	buf_printf(b,
		   "# HELP listkeeper_pixel_requests_total Authentic open-pixel requests since "
		   "the server started.\n"
		   "# TYPE listkeeper_pixel_requests_total counter\n"
		   "listkeeper_pixel_requests_total %" PRIu64 "\n"
		   "# HELP listkeeper_stats_dropped_total Counts dropped because the table in "
		   "memory was full.\n"
		   "# TYPE listkeeper_stats_dropped_total counter\n"
		   "listkeeper_stats_dropped_total %" PRIu64 "\n"
		   "# HELP listkeeper_stats_flush_errors_total Failed writes of the counts to the "
		   "store (retried).\n"
		   "# TYPE listkeeper_stats_flush_errors_total counter\n"
		   "listkeeper_stats_flush_errors_total %" PRIu64 "\n",
		   opens, dropped, errors);
	if (st != NULL) {
		struct buf g;
		buf_init(&g, 1 << 20);
		struct gauge_ctx gc = {st, &g, 0, 0};
		if (store_list_each(st, list_gauge, &gc) == STORE_OK && !gc.failed) {
			buf_printf(
			    b,
			    "# HELP listkeeper_lists Lists open to subscription.\n"
			    "# TYPE listkeeper_lists gauge\n"
			    "listkeeper_lists %" PRId64 "\n"
			    "# HELP listkeeper_list_subscribers Active subscriptions of each "
			    "list open to subscription.\n"
			    "# TYPE listkeeper_list_subscribers gauge\n",
			    gc.lists);
			buf_append(b, g.data, g.len);
		}
		buf_free(&g);
		/* The intake's counters of the store (stats_daily, as `listkeeper
		 * stats` shows them under "mail received"): totals over every day
		 * kept, so they only grow, whichever process counted them. */
		int64_t unparsable, quarantined, policy, content;
		if (store_stats_total(st, STORE_STAT_BOUNCE_SENDER_POLICY, &policy) == STORE_OK &&
		    store_stats_total(st, STORE_STAT_BOUNCE_REJECTED_CONTENT, &content) == STORE_OK)
			buf_printf(
			    b,
			    "# HELP listkeeper_bounces_sender_policy_total Bounces where a "
			    "receiver refused our sending (blocklist, SPF/DKIM/DMARC, PTR, "
			    "rate), never scored on a subscriber.\n"
			    "# TYPE listkeeper_bounces_sender_policy_total counter\n"
			    "listkeeper_bounces_sender_policy_total %" PRId64 "\n"
			    "# HELP listkeeper_bounces_rejected_content_total Bounces where a "
			    "receiver refused the message (spam verdict, size, virus), never "
			    "scored on a subscriber.\n"
			    "# TYPE listkeeper_bounces_rejected_content_total counter\n"
			    "listkeeper_bounces_rejected_content_total %" PRId64 "\n",
			    policy, content);
		if (store_stats_total(st, STORE_STAT_BOUNCE_UNPARSABLE, &unparsable) == STORE_OK &&
		    store_stats_total(st, STORE_STAT_INTAKE_QUARANTINED, &quarantined) == STORE_OK)
			buf_printf(b,
				   "# HELP listkeeper_bounces_unparsable_total Bounces received "
				   "that were not understood (dropped), every list and day.\n"
				   "# TYPE listkeeper_bounces_unparsable_total counter\n"
				   "listkeeper_bounces_unparsable_total %" PRId64 "\n"
				   "# HELP listkeeper_intake_quarantined_total Received messages "
				   "set aside after crashing their handler, every day.\n"
				   "# TYPE listkeeper_intake_quarantined_total counter\n"
				   "listkeeper_intake_quarantined_total %" PRId64 "\n",
				   unparsable, quarantined);
	}
	if (b->err) {
		page_free(out);
		page_begin(out, 500, "no-store");
		page_error(out, site, 500, "Something went wrong", "The metrics are too large.");
	}
}

/* Puts a taken entry back into the live table (after a failed flush). Called
 * with the mutex held; takes over e's sketch or frees it. */
static void put_back(struct stats *s, struct entry *e)
{
	struct entry *d =
	    slot(s, e->day, e->list_id, e->job, e->list, (enum counter)e->counter, e->key);
	if (d == NULL) {
		free(e->sketch);
		return;
	}
	d->value += e->value;
	if (e->sketch != NULL) {
		if (d->sketch == NULL) {
			d->sketch = e->sketch;
			s->sketches++;
			e->sketch = NULL;
		} else {
			hll_merge(d->sketch, e->sketch);
		}
	}
	free(e->sketch);
	e->sketch = NULL;
}

/* Writes one taken entry. STORE_OK also for an entry that is dropped (an
 * open pixel for a job that does not exist). */
static int write_one(struct store *st, struct entry *e)
{
	int64_t list_id = e->list_id;
	int r;
	if (e->counter == C_OPENS) {
		struct job_rec j = {0};
		r = store_job_get(st, e->job, &j);
		list_id = j.list_id;
		job_rec_free(&j);
		if (r == STORE_NOTFOUND)
			return STORE_OK;
		if (r != STORE_OK)
			return r;
	} else if (e->list[0] != '\0') {
		struct list_rec l = {0};
		r = store_list_get(st, e->list, &l);
		list_id = r == STORE_OK ? l.id : 0;
		list_rec_free(&l);
		if (r != STORE_OK && r != STORE_NOTFOUND)
			return r;
	}
	struct stat_rec rec = {e->day,
			       list_id,
			       COUNTERS[e->counter],
			       e->key,
			       e->value,
			       e->sketch,
			       e->sketch != NULL ? HLL_REGISTERS : 0};
	return store_stats_add(st, &rec);
}

int stats_flush(struct stats *s, struct store *st)
{
	pthread_mutex_lock(&s->mu);
	struct entry *taken = s->e;
	size_t n = s->n;
	if (n == 0) {
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	s->e = xcalloc(STATS_MAX_ENTRIES, sizeof(*s->e));
	s->n = 0;
	s->sketches = 0;
	pthread_mutex_unlock(&s->mu);

	int r = st != NULL ? store_begin(st) : STORE_ERR;
	for (size_t i = 0; i < n && r == STORE_OK; i++)
		r = write_one(st, &taken[i]);
	if (r == STORE_OK)
		r = store_commit(st);
	else if (st != NULL)
		store_rollback(st);
	if (r != STORE_OK) {
		if (st != NULL)
			log_warnx("stats: cannot write the counts (kept for the next try): %s",
				  store_errmsg(st));
		pthread_mutex_lock(&s->mu);
		s->flush_errors++;
		for (size_t i = 0; i < n; i++)
			put_back(s, &taken[i]);
		pthread_mutex_unlock(&s->mu);
	} else {
		for (size_t i = 0; i < n; i++)
			free(taken[i].sketch);
	}
	free(taken);
	return r == STORE_OK ? 0 : -1;
}

/* The flush thread's store, opened on first use (the next flush tries again). */
static struct store *flush_store(struct stats *s)
{
	if (s->st == NULL) {
		struct buf err;
		buf_init(&err, 4096);
		s->st = store_open(s->conf, 0, &err);
		if (s->st == NULL)
			log_warnx("stats: cannot open the store: %s", buf_cstr(&err));
		buf_free(&err);
	}
	return s->st;
}

/* Flushes if anything was counted (the store is opened only then). */
static void flush_now(struct stats *s)
{
	pthread_mutex_lock(&s->mu);
	size_t n = s->n;
	pthread_mutex_unlock(&s->mu);
	if (n > 0)
		stats_flush(s, flush_store(s));
}

static void *flusher(void *arg)
{
	struct stats *s = arg;
	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)s->flush_seconds;
		while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
			;
		if (s->stop)
			break;
		pthread_mutex_unlock(&s->mu);
		flush_now(s);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

struct stats *stats_new(const struct conf *conf, const struct keys *keys, struct buf *err)
{
	struct stats *s = xcalloc(1, sizeof(*s));
	s->conf = conf;
	s->keys = keys;
	s->flush_seconds = conf_get_int(conf, "stats", "flush_seconds");
	if (netaddr_cidr_list_parse("[stats] metrics_allow",
				    conf_get(conf, "stats", "metrics_allow"), &s->allow,
				    &s->n_allow, err) < 0) {
		free(s);
		return NULL;
	}
	char *geo = conf_get_path(conf, "stats", "geoip");
	if (geo != NULL && geo[0] != '\0' && conf_get(conf, "stats", "geoip")[0] != '\0' &&
	    (s->geo = geoip_open(geo, err)) == NULL) {
		free(geo);
		free(s->allow);
		free(s);
		return NULL;
	}
	free(geo);
	/* The sketches' input key: derived from the hash key, so that the same
	 * recipient hashes alike across restarts and nodes, and nobody without
	 * the key file can test a recipient against a sketch. */
	static const char LABEL[] = "lk-stats-opens";
	crypto_generichash(s->open_key, sizeof(s->open_key), (const uint8_t *)LABEL,
			   sizeof(LABEL) - 1, keys->hash, sizeof(keys->hash));
	s->e = xcalloc(STATS_MAX_ENTRIES, sizeof(*s->e));
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&s->thread, NULL, flusher, s) != 0) {
		buf_puts(err, "stats: cannot start the flush thread");
		s->running = 0;
		stats_free(s);
		return NULL;
	}
	s->running = 1;
	return s;
}

void stats_free(struct stats *s)
{
	if (s == NULL)
		return;
	if (s->running) {
		pthread_mutex_lock(&s->mu);
		s->stop = 1;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);
	}
	flush_now(s); /* what the last interval counted */
	store_close(s->st);
	for (size_t i = 0; i < s->n; i++)
		free(s->e[i].sketch);
	free(s->e);
	free(s->allow);
	geoip_close(s->geo);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	sodium_memzero(s->open_key, sizeof(s->open_key));
	free(s);
}
