/*
 * http.c - the HTTP listener (see http.h): libmicrohttpd with an epoll
 * thread pool, one store connection per worker thread.
 *
 * TRUST: sees untrusted requests. libmicrohttpd enforces the bounds below
 * and answers malformed or oversized requests itself (400, 414, 431) before
 * our handler runs. A POST body is collected into a buffer bounded by
 * LK_HTTP_MAX_BODY (a declared Content-Length past it is a 413 before the
 * body is read; a chunked body that outgrows it is read on and dropped, to
 * LK_HTTP_MAX_DISCARD, for the same 413 at its end) and decoded by
 * web/form.c. The request headers we read are
 * Content-Length and Content-Type; User-Agent, only classified into a
 * browser family and dropped (web/useragent.c); X-Forwarded-For, only from
 * a trusted proxy (core/netaddr.c, bounded by LK_HTTP_MAX_FORWARDED). The
 * client's address is a rate limit key hashed at once (web/ratelimit.c), a
 * country look-up and the /metrics check; never stored or logged.
 * libmicrohttpd's own error log stays off, so that no IP address or user
 * agent can reach a log (house rule, P6).
 */
#include "web/http.h"

#include "core/limits.h"
#include "core/netaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <sodium.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/num.h"
#include "core/xmalloc.h"
#include "store/store.h"
#include "web/archive.h"
#include "web/connguard.h"
#include "web/form.h"
#include "web/listpage.h"
#include "web/me.h"
#include "web/pages.h"
#include "web/prefs.h"
#include "core/secretfile.h"
#include "web/ratelimit.h"
#include "web/response.h"
#include "web/scrub.h"
#include "web/writer.h"
#include "web/stats.h"
#include "web/tokpages.h"

/* Bounds on the listener: core/limits.h. */
#define HTTP_THREADS LK_HTTP_THREADS
#define HTTP_MAX_CONNECTIONS LK_HTTP_MAX_CONNECTIONS
#define HTTP_TIMEOUT_SECONDS LK_HTTP_TIMEOUT_SECONDS
#define HTTP_CONN_MEMORY LK_HTTP_CONN_MEMORY
#define HTTP_BACKLOG LK_HTTP_BACKLOG

/* The token pages and the list pages also take POST (web/tokpages.h,
 * web/listpage.h). */
#define POST_ALLOW "GET, HEAD, POST"

static const char CSP[] = "default-src 'none'; style-src 'self'; img-src 'self'; "
			  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

struct http_server {
	struct MHD_Daemon *d;
	const struct conf *conf;
	const struct keys *keys;
	struct site *site;	      /* name, templates, stylesheet, logo */
	struct ratelimit *rl;	      /* subscribe requests per client and per list */
	struct stats *stats;	      /* daily aggregates, the open pixel, /metrics */
	struct netaddr_cidr *proxies; /* [http] trusted_proxies */
	size_t n_proxies;
	int tls;		  /* HTTPS on [http] listen */
	char *tls_cert, *tls_key; /* PEM, for the library (key wiped at stop) */
	pthread_key_t store_key;  /* this worker's store, opened on first use */
	pthread_t scrubber;	  /* web/scrub.h: the WAL checkpoint after erasures */
	struct writer *writer;	  /* web/writer.h: the group commit of unsubscribes */
	struct connguard *guard;  /* web/connguard.h: per-network caps, request deadline */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stopping, scrubbing; /* under mu; scrubbing: the thread runs */
	/* One-click POSTs whose connection is suspended until the writer is
	 * done (oneclick_suspend); none may be left when the library stops. */
	pthread_cond_t resumed; /* suspended went down to 0 */
	size_t suspended;	/* under mu */
	int quiescing;		/* under mu: stopping; no more suspending */
	char url[128];
};

void http_store_key_free(void *p)
{
	store_close(p);
}

struct store *http_thread_store(pthread_key_t key, const struct conf *conf, const char *role)
{
	struct store *st = pthread_getspecific(key);
	if (st != NULL)
		return st;
	struct buf err;
	buf_init(&err, 4096);
	st = store_open(conf, 0, &err);
	if (st == NULL)
		log_warnx("%s: cannot open the store: %s", role, buf_cstr(&err));
	else if (pthread_setspecific(key, st) != 0) {
		store_close(st);
		st = NULL;
	}
	buf_free(&err);
	return st;
}

static struct store *thread_store(struct http_server *s)
{
	return http_thread_store(s->store_key, s->conf, "web");
}

static int add_headers(struct MHD_Response *r, const struct page *p, const char *allow, int close,
		       int tls)
{
	int ok =
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, p->content_type) == MHD_YES &&
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, p->cache_control) ==
		MHD_YES &&
	    MHD_add_response_header(r, "Content-Security-Policy", CSP) == MHD_YES &&
	    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES &&
	    MHD_add_response_header(r, "Referrer-Policy", "no-referrer") == MHD_YES &&
	    MHD_add_response_header(r, "X-Frame-Options", "DENY") == MHD_YES;
	if (ok && tls) /* RFC 6797: only over HTTPS, where it is believed */
		ok = MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000") ==
		     MHD_YES;
	if (ok && p->disposition != NULL)
		ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION,
					     p->disposition) == MHD_YES;
	if (ok && p->status == MHD_HTTP_SERVICE_UNAVAILABLE) /* RFC 9110 10.2.3 */
		ok = MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, LK_HTTP_RETRY_AFTER) ==
		     MHD_YES;
	if (ok && p->status == MHD_HTTP_METHOD_NOT_ALLOWED)
		ok = MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow) == MHD_YES;
	if (ok && close)
		ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close") == MHD_YES;
	return ok ? 0 : -1;
}

/* Queues p (and frees it). close: the body was not read, so the connection
 * ends after this answer (OpenSMTPD: answer once and close). */
static enum MHD_Result respond(struct MHD_Connection *conn, struct page *p, const char *allow,
			       int close)
{
	struct MHD_Response *r = response_from_buf(&p->body); /* wiped when let go */
	if (r == NULL) {
		page_free(p);
		return MHD_NO;
	}
	enum MHD_Result ret = MHD_NO;
	/* The library tells the protocol of TLS connections only. */
	int tls = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_PROTOCOL) != NULL;
	if (add_headers(r, p, allow, close, tls) == 0)
		ret = MHD_queue_response(conn, p->status, r);
	MHD_destroy_response(r);
	page_free(p);
	return ret;
}

/* A POST body being collected: at most LK_HTTP_MAX_BODY bytes. */
struct post {
	struct buf body;
	struct listpage_deferred *later; /* a subscribe to do once answered */
	struct me_deferred *me_later;	 /* a data request to do once answered */
	/* A one-click POST at the writer, its connection suspended meanwhile */
	struct tokpages_oneclick *oc;
	atomic_int oc_done; /* the writer is done with oc */
	int too_big;	    /* the body outgrew LK_HTTP_MAX_BODY: a 413 at its end */
	size_t dropped;	    /* bytes of it read and dropped since */
	struct http_server *s;
	struct MHD_Connection *conn;
};

static void listpage_env_of(struct http_server *s, struct listpage_env *env);

/* The guard's record of conn (connguard.h), set when it was accepted. */
static struct guarded *guarded_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

/* The request of conn is in: its deadline stops while it is answered. */
static void answering(struct http_server *s, struct MHD_Connection *conn)
{
	connguard_answering(s->guard, guarded_of(conn));
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	(void)addrlen;
	struct http_server *s = cls;
	return connguard_admit(s->guard, addr) ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *s = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *a =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		const union MHD_ConnectionInfo *fd =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_context = connguard_open(s->guard, a != NULL ? a->client_addr : NULL,
						 fd != NULL ? fd->connect_fd : -1);
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		connguard_close(s->guard, *socket_context); /* before the socket closes */
		*socket_context = NULL;
	}
}

/* Called once the answer has been sent (or the client has gone). An accepted
 * subscribe request is done here, after its answer, so that the answer's
 * timing says nothing about the address (web/listpage.h); it is done even if
 * the client hung up, as it would have been before the answer. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)toe;
	if (cls != NULL) /* the next request on this connection has its own deadline */
		connguard_next(((struct http_server *)cls)->guard, guarded_of(conn));
	struct post *pp = cls != NULL ? *req_cls : NULL;
	if (pp != NULL && pp != cls) {
		if (pp->later != NULL || pp->me_later != NULL) {
			struct listpage_env env;
			listpage_env_of(cls, &env);
			listpage_run(&env, pp->later);
			me_run(&env, pp->me_later);
			pp->later = NULL;
			pp->me_later = NULL;
		}
		if (pp->oc != NULL) /* resumed, then gone before its answer */
			tokpages_oneclick_finish(pp->oc, NULL);
		buf_free(&pp->body); /* wiped: it may hold a person's form */
		free(pp);
	}
	*req_cls = NULL;
}

static void simple_error(const struct site *site, unsigned status, const char *title,
			 const char *text, struct page *p)
{
	page_begin(p, status, "no-store");
	page_error(p, site, status, title, text);
}

static void form_refused(const struct site *site, enum form_status fs, struct page *p)
{
	if (fs == FORM_TOO_BIG)
		simple_error(site, 413, "Too much data", "The form sent more than this page takes.",
			     p);
	else if (fs == FORM_UNSUPPORTED)
		simple_error(site, 415, "Unsupported form",
			     "This page takes a form sent as application/x-www-form-urlencoded or "
			     "multipart/form-data, with text fields only.",
			     p);
	else
		simple_error(site, 400, "Bad request", "The form could not be read.", p);
}

/* Every X-Forwarded-For line, joined by commas in order (RFC 9110 5.3),
 * at most LK_HTTP_MAX_FORWARDED bytes: past that the leftmost hops are cut
 * (the rightmost, which the trusted proxies wrote, are what count). */
static enum MHD_Result xff_line(void *cls, enum MHD_ValueKind kind, const char *key,
				const char *value)
{
	(void)kind;
	struct buf *b = cls;
	if (value == NULL || strcasecmp(key, "X-Forwarded-For") != 0)
		return MHD_YES;
	size_t len = strlen(value);
	if (b->len > 0)
		len++;
	while (b->len + len > LK_HTTP_MAX_FORWARDED && b->len > 0) {
		/* drop the oldest hops to make room */
		const char *comma = memchr(b->data, ',', b->len);
		size_t cut = comma != NULL ? (size_t)(comma - b->data) + 1 : b->len;
		memmove(b->data, b->data + cut, b->len - cut);
		b->len -= cut;
	}
	if (len > LK_HTTP_MAX_FORWARDED)
		return MHD_YES; /* one line past the bound: ignored */
	if (b->len > 0)
		buf_putc(b, ',');
	buf_puts(b, value);
	return MHD_YES;
}

int http_client_addr(struct MHD_Connection *conn, const struct netaddr_cidr *proxies,
		     size_t n_proxies, struct sockaddr_storage *out)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	memset(out, 0, sizeof(*out));
	if (ci == NULL || ci->client_addr == NULL)
		return -1;
	struct buf xff;
	buf_init(&xff, LK_HTTP_MAX_FORWARDED + 1);
	if (n_proxies > 0 && netaddr_cidr_match(proxies, n_proxies, ci->client_addr))
		MHD_get_connection_values(conn, MHD_HEADER_KIND, xff_line, &xff);
	netaddr_forwarded_client(proxies, n_proxies, ci->client_addr, xff.data, xff.len, out);
	buf_free(&xff);
	return out->ss_family == AF_INET || out->ss_family == AF_INET6 ? 0 : -1;
}

static int client_addr(struct http_server *s, struct MHD_Connection *conn,
		       struct sockaddr_storage *out)
{
	return http_client_addr(conn, s->proxies, s->n_proxies, out);
}

/* The client's address as a rate limit key: the IPv4 address, or the /64 of
 * an IPv6 address (one host usually has the whole /64). Never stored or
 * logged; web/ratelimit.c keeps only a keyed hash of it. */
static size_t client_key(struct http_server *s, struct MHD_Connection *conn, uint8_t out[8])
{
	struct sockaddr_storage ss;
	size_t n = 0;
	if (client_addr(s, conn, &ss) < 0)
		return 0;
	if (ss.ss_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)&ss)->sin_addr, 4);
		n = 4;
	} else if (ss.ss_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)&ss)->sin6_addr, 8);
		n = 8;
	}
	sodium_memzero(&ss, sizeof(ss));
	return n;
}

/* Counts an answered GET in the daily aggregates: the User-Agent and the
 * address are read here and dropped (web/stats.h). */
static void count_visit(struct http_server *s, struct MHD_Connection *conn, const char *url,
			const struct page *p)
{
	struct sockaddr_storage ss;
	int have = client_addr(s, conn, &ss) == 0;
	const char *ua =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
	stats_count(s->stats, url, p->status, p->content_type, ua, ua != NULL ? strlen(ua) : 0,
		    have ? (struct sockaddr *)&ss : NULL);
	sodium_memzero(&ss, sizeof(ss));
}

/* An archive page (web/archive.h) with the request's query arguments. */
static void archive_page(struct http_server *s, struct MHD_Connection *conn, const char *url,
			 struct page *p)
{
	struct archive_env env = {s->site, thread_store(s),
				  strcmp(conf_get(s->conf, "archive", "addresses"), "hide") == 0};
	struct archive_args a = {0};
	if (MHD_lookup_connection_value_n(conn, MHD_GET_ARGUMENT_KIND, "q", 1, &a.q, &a.q_len) !=
	    MHD_YES)
		a.q = NULL, a.q_len = 0;
	a.order = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "order");
	a.page = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "page");
	archive_get(&env, url, &a, p);
}

static void listpage_env_of(struct http_server *s, struct listpage_env *env)
{
	memset(env, 0, sizeof(*env));
	env->site = s->site;
	env->st = thread_store(s);
	env->keys = s->keys;
	env->consent_version = conf_get(s->conf, "general", "consent_version");
	env->confirm_max = conf_get_int(s->conf, "web", "confirm_per_address");
	env->confirm_window = conf_get_int(s->conf, "web", "confirm_window_hours") * 3600;
	env->request_ttl = conf_get_int(s->conf, "tokens", "request_ttl_hours") * 3600;
	env->rl = s->rl;
}

static void tokpages_env_of(struct http_server *s, struct tokpages_env *env)
{
	memset(env, 0, sizeof(*env));
	env->site = s->site;
	env->st = thread_store(s);
	env->keys = s->keys;
	env->policy_version = conf_get(s->conf, "general", "consent_version");
	env->writer = s->writer;
}

/* Called by the writer when the one-click POST of pp is done: the
 * connection goes on, and its handler answers (on_request). */
static void oneclick_resume(void *arg)
{
	struct post *pp = arg;
	struct http_server *s = pp->s;
	struct MHD_Connection *conn = pp->conn;
	atomic_store(&pp->oc_done, 1);
	MHD_resume_connection(conn); /* pp may be freed from here on */
	pthread_mutex_lock(&s->mu);
	if (--s->suspended == 0)
		pthread_cond_broadcast(&s->resumed);
	pthread_mutex_unlock(&s->mu);
}

/* A one-click POST (RFC 8058) goes to the writer without this worker
 * waiting for it: the connection is suspended until the writer's batch is
 * committed, and the worker serves other connections meanwhile; so every
 * one-click POST in flight can join one batch, not one per worker. 1 if so
 * (the answer comes on resume), 0 if the request is to be answered as any
 * other (an invalid token, or the server stopping). */
static int oneclick_suspend(struct http_server *s, struct MHD_Connection *conn, struct post *pp,
			    const struct tokpages_env *env, const char *url, const struct form *f)
{
	struct tokpages_oneclick *oc = tokpages_oneclick_start(env, url, f);
	if (oc == NULL)
		return 0;
	pthread_mutex_lock(&s->mu);
	int ok = !s->quiescing;
	if (ok)
		s->suspended++;
	pthread_mutex_unlock(&s->mu);
	if (!ok) {
		tokpages_oneclick_finish(oc, NULL); /* nothing ran: nothing to say */
		return 0;
	}
	pp->oc = oc;
	pp->s = s;
	pp->conn = conn;
	MHD_suspend_connection(conn); /* before the writer may resume it */
	tokpages_oneclick_submit(oc, oneclick_resume, pp);
	return 1;
}

/* The POST is complete: decode the body and answer. */
static enum MHD_Result post_done(struct http_server *s, struct MHD_Connection *conn,
				 const char *url, struct post *pp)
{
	struct page p;
	answering(s, conn);
	struct form *f = form_new();
	const char *ctype =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	enum form_status fs = form_parse(f, ctype, pp->body.data, pp->body.len);
	if (fs != FORM_OK) {
		form_refused(s->site, fs, &p);
	} else if (listpage_match(url) || me_match(url)) {
		struct listpage_env env;
		uint8_t ck[8];
		listpage_env_of(s, &env);
		env.client_len = client_key(s, conn, ck);
		env.client = ck;
		if (listpage_match(url))
			listpage_post(&env, url, f, &p, &pp->later);
		else
			me_post(&env, url, f, &p, &pp->me_later);
		sodium_memzero(ck, sizeof(ck));
	} else if (prefs_match(url)) {
		struct listpage_env env;
		listpage_env_of(s, &env);
		prefs_post(&env, url, f, &p);
	} else {
		struct tokpages_env env;
		tokpages_env_of(s, &env);
		if (oneclick_suspend(s, conn, pp, &env, url, f)) {
			form_free(f);
			return MHD_YES;
		}
		tokpages_post(&env, url, f, &p);
	}
	form_free(f);
	return respond(conn, &p, POST_ALLOW, 0);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct http_server *s = cls;
	(void)version;
	struct page p;
	int get =
	    strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	int posts = tokpages_match(url) || listpage_match(url) || prefs_match(url) || me_match(url);
	int post = strcmp(method, MHD_HTTP_METHOD_POST) == 0 && posts;
	const char *allow = posts ? POST_ALLOW : "GET, HEAD";
	if (*req_cls == NULL) {
		/* The first call comes when the headers are in. Answering a GET on
		 * the next one, with the request complete, keeps the connection
		 * open for the next request; any body a GET carries is dropped. */
		if (get) {
			*req_cls = s; /* a marker: "headers seen", nothing to free */
			return MHD_YES;
		}
		if (!post) { /* answered at once: the body is never read, the connection closes */
			pages_method_not_allowed(s->site, &p);
			return respond(conn, &p, allow, 1);
		}
		/* A declared length past the bound is refused before any byte of
		 * the body is read. */
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		int64_t n;
		if (cl != NULL && num_parse_i64_z(cl, 0, INT64_MAX, &n) == 0 &&
		    n > (int64_t)LK_HTTP_MAX_BODY) {
			simple_error(s->site, 413, "Too much data",
				     "The form sent more than this page takes.", &p);
			return respond(conn, &p, allow, 1);
		}
		struct post *pp = xcalloc(1, sizeof(*pp));
		buf_init(&pp->body, LK_HTTP_MAX_BODY);
		*req_cls = pp;
		return MHD_YES;
	}
	if (get) {
		if (*upload_data_size != 0) {
			*upload_data_size = 0;
			return MHD_YES;
		}
		answering(s, conn);
		if (tokpages_match(url)) {
			struct tokpages_env env;
			tokpages_env_of(s, &env);
			tokpages_get(&env, url, &p);
		} else if (listpage_match(url) || prefs_match(url) || me_match(url)) {
			struct listpage_env env;
			listpage_env_of(s, &env);
			if (listpage_match(url))
				listpage_get(&env, url, &p);
			else if (prefs_match(url))
				prefs_get(&env, url, &p);
			else
				me_get(&env, url, &p);
		} else if (archive_match(url)) {
			archive_page(s, conn, url, &p);
		} else if (stats_pixel_match(url)) {
			stats_pixel(s->stats, url, &p);
		} else if (stats_metrics_match(url)) {
			struct sockaddr_storage ss;
			int have = client_addr(s, conn, &ss) == 0;
			stats_metrics(s->stats, thread_store(s),
				      have ? (struct sockaddr *)&ss : NULL, s->site, &p);
		} else {
			pages_get(s->site, thread_store(s), url, &p);
		}
		if (strcmp(method, MHD_HTTP_METHOD_GET) == 0)
			count_visit(s, conn, url, &p);
		return respond(conn, &p, allow, 0);
	}
	struct post *pp = *req_cls;
	if (pp->oc != NULL) { /* resumed (oneclick_suspend) */
		if (!atomic_load(&pp->oc_done))
			return MHD_YES;
		tokpages_oneclick_finish(pp->oc, &p);
		pp->oc = NULL;
		return respond(conn, &p, allow, 0);
	}
	if (*upload_data_size != 0) {
		if (pp->too_big) {
			/* Read and dropped, so that the 413 can be sent once the
			 * body is in (the library answers only then); a body
			 * past LK_HTTP_MAX_DISCARD is cut without an answer. */
			pp->dropped += *upload_data_size;
			*upload_data_size = 0;
			return pp->dropped > LK_HTTP_MAX_DISCARD ? MHD_NO : MHD_YES;
		}
		if (buf_append(&pp->body, upload_data, *upload_data_size) < 0) {
			/* A body without a declared length (chunked) that outgrew
			 * the bound: the same 413 as a declared length gets. */
			pp->too_big = 1;
			buf_free(&pp->body); /* wiped: it may hold a person's form */
			pp->dropped = *upload_data_size;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (pp->too_big) { /* answered once, and the connection closes */
		simple_error(s->site, 413, "Too much data",
			     "The form sent more than this page takes.", &p);
		return respond(conn, &p, allow, 1);
	}
	return post_done(s, conn, url, pp);
}

/* Binds and listens ourselves, so that a taken port or a missing address is
 * reported plainly (libmicrohttpd would only return NULL), and so that port
 * 0 tells us which port we got. Fills url. Returns the socket or -1. */
int http_open_listener(const char *key, const char *listen_z, const char *scheme, char *url,
		       size_t url_cap, struct buf *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	if (netaddr_parse_listen(key, listen_z, &ss, &sslen, err) < 0)
		return -1;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		buf_printf(err, "%s = %s: socket: %s", key, listen_z, strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, HTTP_BACKLOG) < 0) {
		int e = errno;
		buf_printf(err, "%s = %s: cannot listen there: %s%s", key, listen_z, strerror(e),
			   e == EADDRINUSE ? " (another server holds the port; stop it or "
					     "choose another port)"
					   : "");
		close(fd);
		return -1;
	}
	sslen = sizeof(ss);
	char host[INET6_ADDRSTRLEN];
	unsigned port;
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) < 0) {
		buf_printf(err, "%s = %s: getsockname: %s", key, listen_z, strerror(errno));
		close(fd);
		return -1;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof(host));
		port = ntohs(a6->sin6_port);
		bsnprintf(url, url_cap, "%s://[%s]:%u/", scheme, host, port);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a4->sin_addr, host, sizeof(host));
		port = ntohs(a4->sin_port);
		bsnprintf(url, url_cap, "%s://%s:%u/", scheme, host, port);
	}
	return fd;
}

int http_listen_check(const char *listen_z, struct buf *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	return netaddr_parse_listen("[http] listen", listen_z, &ss, &sslen, err);
}

/* The certificate chain: a public file, read whole (bounded). */
static char *read_cert(const char *path, struct buf *err)
{
	FILE *fp = fopen(path, "re");
	if (fp == NULL) {
		buf_printf(err, "[http] tls_cert = %s: %s", path, strerror(errno));
		return NULL;
	}
	char *text = xmalloc(LK_MAX_TLS_FILE + 1);
	size_t n = fread(text, 1, LK_MAX_TLS_FILE + 1, fp);
	int bad = ferror(fp);
	fclose(fp);
	if (bad || n == 0 || n > LK_MAX_TLS_FILE || memchr(text, '\0', n) != NULL) {
		buf_printf(err, "[http] tls_cert = %s: %s", path,
			   bad ? "cannot read it"
			       : "expected a PEM certificate chain of at most 64 KiB");
		free(text);
		return NULL;
	}
	text[n] = '\0';
	return text;
}

/* [http] tls_cert and tls_key: both or neither. 0 (s->tls set if both), or -1. */
static int load_tls(struct http_server *s, const struct conf *conf, struct buf *err)
{
	int has_cert = conf_get(conf, "http", "tls_cert")[0] != '\0';
	int has_key = conf_get(conf, "http", "tls_key")[0] != '\0';
	if (!has_cert && !has_key)
		return 0;
	if (!has_cert || !has_key) {
		buf_puts(err, "[http] tls_cert and tls_key go together: set both for HTTPS, or "
			      "neither for plain HTTP");
		return -1;
	}
	char *cert = conf_get_path(conf, "http", "tls_cert");
	char *key = conf_get_path(conf, "http", "tls_key");
	s->tls_cert = read_cert(cert, err);
	s->tls_key = xmalloc(LK_MAX_TLS_FILE + 1);
	size_t len = 0;
	int r = -1;
	if (s->tls_cert != NULL &&
	    secret_file_read("[http] tls_key", key, s->tls_key, LK_MAX_TLS_FILE, &len, err) == 0) {
		s->tls_key[len] = '\0';
		s->tls = 1;
		r = 0;
	}
	free(cert);
	free(key);
	return r;
}

/* One scrub (web/scrub.h): a passive checkpoint on this thread's connection,
 * which copies the WAL into the database while the writer goes on, then the
 * truncating one by the writer between two batches, with little left to
 * copy. 0, or -1 (logged). */
static int scrub_once(struct http_server *s)
{
	struct store *st = thread_store(s);
	if (st == NULL)
		return -1;
	struct buf err;
	buf_init(&err, 1024);
	int r = store_checkpoint(st); /* busy is no failure: the scrub copies it all */
	if (r != STORE_OK && r != STORE_BUSY)
		log_warnx("web: checkpoint before a scrub failed: %s", store_errmsg(st));
	r = writer_scrub(s->writer, &err);
	if (r != STORE_OK)
		log_warnx("web: store_scrub after an erasure failed: %s", buf_cstr(&err));
	buf_free(&err);
	return r == STORE_OK ? 0 : -1;
}

/* Scrubs at most every LK_WEB_SCRUB_MS when a page erased someone, and once
 * more on the way out. */
static void *scrubber_main(void *arg)
{
	struct http_server *s = arg;
	pthread_setname_np(pthread_self(), "lk-web-scrub");
	pthread_mutex_lock(&s->mu);
	for (;;) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long)(LK_WEB_SCRUB_MS % 1000) * 1000000L;
		until.tv_sec += LK_WEB_SCRUB_MS / 1000 + until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		while (!s->stopping && pthread_cond_timedwait(&s->cv, &s->mu, &until) != ETIMEDOUT)
			;
		int stop = s->stopping;
		pthread_mutex_unlock(&s->mu);
		if (web_scrub_take() && scrub_once(s) < 0)
			web_scrub_soon(); /* the next round tries again */
		if (stop)
			break;
		pthread_mutex_lock(&s->mu);
	}
	return NULL; /* http_store_key_free closes this thread's store */
}

static void scrubber_stop(struct http_server *s)
{
	if (!s->scrubbing)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->scrubber, NULL);
	s->scrubbing = 0;
}

/* No connection may be suspended when the library stops: the one-click
 * POSTs at the writer are let finish, and later ones are answered by their
 * worker waiting for the writer (tokpages_post), as before this began. */
static void drain_suspended(struct http_server *s)
{
	pthread_mutex_lock(&s->mu);
	s->quiescing = 1;
	while (s->suspended > 0)
		pthread_cond_wait(&s->resumed, &s->mu);
	pthread_mutex_unlock(&s->mu);
}

static void server_free(struct http_server *s)
{
	connguard_free(s->guard); /* every connection is closed; it borrows proxies */
	stats_free(s->stats);
	ratelimit_free(s->rl);
	free(s->proxies);
	free(s->tls_cert);
	if (s->tls_key != NULL) {
		sodium_memzero(s->tls_key, LK_MAX_TLS_FILE + 1);
		free(s->tls_key);
	}
	site_free(s->site);
	free(s);
}

struct http_server *http_server_start(const struct conf *conf, const struct keys *keys,
				      struct buf *err)
{
	struct http_server *s = xcalloc(1, sizeof(*s));
	s->conf = conf;
	s->keys = keys;
	if ((s->site = site_new(conf, err)) == NULL) {
		free(s);
		return NULL;
	}
	s->rl = ratelimit_new(conf_get_int(conf, "web", "subscribe_per_client"),
			      conf_get_int(conf, "web", "subscribe_per_list"), 3600);
	if (netaddr_cidr_list_parse("[http] trusted_proxies",
				    conf_get(conf, "http", "trusted_proxies"), &s->proxies,
				    &s->n_proxies, err) < 0 ||
	    load_tls(s, conf, err) < 0 || (s->stats = stats_new(conf, keys, err)) == NULL) {
		server_free(s);
		return NULL;
	}
	if (s->tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		buf_puts(err, "[http] tls_cert: this libmicrohttpd was built without TLS; use a "
			      "TLS-terminating proxy instead");
		server_free(s);
		return NULL;
	}
	if (pthread_key_create(&s->store_key, http_store_key_free) != 0) {
		buf_puts(err, "cannot create thread-local storage");
		server_free(s);
		return NULL;
	}
	if ((s->writer = writer_new(conf, err)) == NULL) {
		pthread_key_delete(s->store_key);
		server_free(s);
		return NULL;
	}
	s->guard = connguard_new((size_t)conf_get_int(conf, "http", "max_conns_per_ip"),
				 (int)conf_get_int(conf, "http", "request_timeout"), s->proxies,
				 s->n_proxies);
	if (s->guard == NULL) {
		buf_puts(err, "cannot start the web server's reaper thread");
		writer_free(s->writer);
		pthread_key_delete(s->store_key);
		server_free(s);
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL); /* before the first request */
	pthread_cond_init(&s->cv, NULL);
	pthread_cond_init(&s->resumed, NULL);
	int fd = http_open_listener("[http] listen", conf_get(conf, "http", "listen"),
				    s->tls ? "https" : "http", s->url, sizeof(s->url), err);
	if (fd >= 0) {
		unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
				     (s->tls ? MHD_USE_TLS : 0);
		/* The certificate and key, when HTTPS is on (the library copies neither). */
		struct MHD_OptionItem tls_opts[] = {
		    {s->tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, s->tls_key},
		    {MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert},
		    {MHD_OPTION_END, 0, NULL},
		};
		errno = 0;
		s->d = MHD_start_daemon(
		    flags, 0, on_accept, s, on_request, s, MHD_OPTION_ARRAY, tls_opts,
		    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_THREAD_POOL_SIZE,
		    (unsigned int)HTTP_THREADS, MHD_OPTION_CONNECTION_LIMIT,
		    (unsigned int)HTTP_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
		    (unsigned int)HTTP_TIMEOUT_SECONDS, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		    (size_t)HTTP_CONN_MEMORY, MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
		    on_connection, s, MHD_OPTION_END);
		if (s->d == NULL) {
			buf_printf(err, "[http] listen = %s: the HTTP library failed to start%s%s",
				   conf_get(conf, "http", "listen"), errno ? ": " : "",
				   errno ? strerror(errno) : "");
			if (fcntl(fd, F_GETFD) >= 0) /* unless the library closed it */
				close(fd);
		}
	}
	if (s->d != NULL && pthread_create(&s->scrubber, NULL, scrubber_main, s) != 0) {
		buf_puts(err, "cannot start the web server's scrubber thread");
		drain_suspended(s);
		MHD_stop_daemon(s->d);
		s->d = NULL;
	} else if (s->d != NULL)
		s->scrubbing = 1;
	if (s->d == NULL) {
		writer_free(s->writer);
		pthread_key_delete(s->store_key);
		pthread_cond_destroy(&s->resumed);
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		server_free(s);
		return NULL;
	}
	return s;
}

const char *http_server_url(const struct http_server *s)
{
	return s->url;
}

void http_server_stop(struct http_server *s)
{
	if (s == NULL)
		return;
	drain_suspended(s);
	/* Joins the workers; each closes its store in http_store_key_free on the way out. */
	MHD_stop_daemon(s->d);
	scrubber_stop(s);	/* after the workers: a last erasure is scrubbed too */
	writer_free(s->writer); /* after the scrubber, whose last scrub it runs */
	pthread_key_delete(s->store_key);
	pthread_cond_destroy(&s->resumed);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	server_free(s); /* the counts of the last interval are written here */
}
