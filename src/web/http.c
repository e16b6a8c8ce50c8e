/*
 * http.c - the HTTP listener (see http.h): libmicrohttpd with an epoll
 * thread pool, one store connection per worker thread.
 *
 * TRUST: sees untrusted requests. libmicrohttpd enforces the bounds below
 * and answers malformed or oversized requests itself (400, 414, 431) before
 * our handler runs. A POST body is collected into a buffer bounded by
 * LK_HTTP_MAX_BODY (a declared Content-Length past it is a 413 before the
 * body is read) and decoded by web/form.c. The only request headers we read
 * are Content-Length and Content-Type; never the user agent. The peer's
 * address is read only for a subscribe POST, as a rate limit key that is
 * hashed at once (web/ratelimit.c) and never stored or logged.
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
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/num.h"
#include "core/xmalloc.h"
#include "store/store.h"
#include "web/form.h"
#include "web/listpage.h"
#include "web/me.h"
#include "web/pages.h"
#include "web/prefs.h"
#include "web/ratelimit.h"
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
	char *site_name;
	struct tmpl_set *tmpl;
	struct site site;	 /* points to the two above */
	struct ratelimit *rl;	 /* subscribe requests per client and per list */
	pthread_key_t store_key; /* this worker's store, opened on first use */
	char url[128];
};

static void store_key_free(void *p)
{
	store_close(p);
}

/* The calling worker's store, or NULL (logged) if it cannot be opened now;
 * the next request tries again. */
static struct store *thread_store(struct http_server *s)
{
	struct store *st = pthread_getspecific(s->store_key);
	if (st != NULL)
		return st;
	struct buf err;
	buf_init(&err, 4096);
	st = store_open(s->conf, 0, &err);
	if (st == NULL)
		log_warnx("web: cannot open the store: %s", buf_cstr(&err));
	else if (pthread_setspecific(s->store_key, st) != 0) {
		store_close(st);
		st = NULL;
	}
	buf_free(&err);
	return st;
}

static int add_headers(struct MHD_Response *r, const struct page *p, const char *allow, int close)
{
	int ok =
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, p->content_type) == MHD_YES &&
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, p->cache_control) ==
		MHD_YES &&
	    MHD_add_response_header(r, "Content-Security-Policy", CSP) == MHD_YES &&
	    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES &&
	    MHD_add_response_header(r, "Referrer-Policy", "no-referrer") == MHD_YES;
	if (ok && p->disposition != NULL)
		ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION,
					     p->disposition) == MHD_YES;
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
	size_t len = 0;
	char *body = buf_steal(&p->body, &len);
	struct MHD_Response *r =
	    MHD_create_response_from_buffer_with_free_callback(len, body, free);
	if (r == NULL) {
		free(body);
		page_free(p);
		return MHD_NO;
	}
	enum MHD_Result ret = MHD_NO;
	if (add_headers(r, p, allow, close) == 0)
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
};

static void listpage_env_of(struct http_server *s, struct listpage_env *env);

/* Called once the answer has been sent (or the client has gone). An accepted
 * subscribe request is done here, after its answer, so that the answer's
 * timing says nothing about the address (web/listpage.h); it is done even if
 * the client hung up, as it would have been before the answer. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)conn;
	(void)toe;
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

/* The client's address as a rate limit key: the IPv4 address, or the /64 of
 * an IPv6 address (one host usually has the whole /64). Never stored or
 * logged; web/ratelimit.c keeps only a keyed hash of it. */
static size_t client_key(struct MHD_Connection *conn, uint8_t out[8])
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return 0;
	if (ci->client_addr->sa_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, 4);
		return 4;
	}
	if (ci->client_addr->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, 8);
		return 8;
	}
	return 0;
}

static void listpage_env_of(struct http_server *s, struct listpage_env *env)
{
	memset(env, 0, sizeof(*env));
	env->site = &s->site;
	env->st = thread_store(s);
	env->keys = s->keys;
	env->consent_version = conf_get(s->conf, "general", "consent_version");
	env->confirm_max = conf_get_int(s->conf, "web", "confirm_per_address");
	env->confirm_window = conf_get_int(s->conf, "web", "confirm_window_hours") * 3600;
	env->request_ttl = conf_get_int(s->conf, "tokens", "request_ttl_hours") * 3600;
	env->rl = s->rl;
}

/* The POST is complete: decode the body and answer. */
static enum MHD_Result post_done(struct http_server *s, struct MHD_Connection *conn,
				 const char *url, struct post *pp)
{
	struct page p;
	struct form *f = form_new();
	const char *ctype =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	enum form_status fs = form_parse(f, ctype, pp->body.data, pp->body.len);
	if (fs != FORM_OK) {
		form_refused(&s->site, fs, &p);
	} else if (listpage_match(url) || me_match(url)) {
		struct listpage_env env;
		uint8_t ck[8];
		listpage_env_of(s, &env);
		env.client_len = client_key(conn, ck);
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
		struct tokpages_env env = {&s->site, thread_store(s), s->keys,
					   conf_get(s->conf, "general", "consent_version"), 0};
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
			pages_method_not_allowed(&s->site, &p);
			return respond(conn, &p, allow, 1);
		}
		/* A declared length past the bound is refused before any byte of
		 * the body is read. */
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		int64_t n;
		if (cl != NULL && num_parse_i64_z(cl, 0, INT64_MAX, &n) == 0 &&
		    n > (int64_t)LK_HTTP_MAX_BODY) {
			simple_error(&s->site, 413, "Too much data",
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
		if (tokpages_match(url)) {
			struct tokpages_env env = {&s->site, thread_store(s), s->keys,
						   conf_get(s->conf, "general", "consent_version"),
						   0};
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
		} else {
			pages_get(&s->site, thread_store(s), url, &p);
		}
		return respond(conn, &p, allow, 0);
	}
	struct post *pp = *req_cls;
	if (*upload_data_size != 0) {
		if (buf_append(&pp->body, upload_data, *upload_data_size) < 0)
			/* A body without a declared length that outgrew the bound:
			 * the library cannot answer in the middle of a body, so the
			 * connection is closed without one. */
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	return post_done(s, conn, url, pp);
}

/* Binds and listens ourselves, so that a taken port or a missing address is
 * reported plainly (libmicrohttpd would only return NULL), and so that port
 * 0 tells us which port we got. Fills url. Returns the socket or -1. */
static int open_listener(const char *listen_z, char *url, size_t url_cap, struct buf *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	if (netaddr_parse_listen("[http] listen", listen_z, &ss, &sslen, err) < 0)
		return -1;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		buf_printf(err, "[http] listen = %s: socket: %s", listen_z, strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, HTTP_BACKLOG) < 0) {
		int e = errno;
		buf_printf(err, "[http] listen = %s: cannot listen there: %s%s", listen_z,
			   strerror(e),
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
		buf_printf(err, "[http] listen = %s: getsockname: %s", listen_z, strerror(errno));
		close(fd);
		return -1;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof(host));
		port = ntohs(a6->sin6_port);
		bsnprintf(url, url_cap, "http://[%s]:%u/", host, port);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a4->sin_addr, host, sizeof(host));
		port = ntohs(a4->sin_port);
		bsnprintf(url, url_cap, "http://%s:%u/", host, port);
	}
	return fd;
}

int http_listen_check(const char *listen_z, struct buf *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	return netaddr_parse_listen("[http] listen", listen_z, &ss, &sslen, err);
}

/* The site's name and its templates: the built-ins, checked. */
static int site_load(struct http_server *s, struct buf *err)
{
	s->tmpl = tmpl_set_new();
	if (tmpl_set_add_builtins(s->tmpl, err) < 0 || tmpl_set_check(s->tmpl, err) < 0) {
		tmpl_set_free(s->tmpl);
		return -1;
	}
	s->site_name = xstrdup(conf_get(s->conf, "general", "site_name"));
	s->site.name = s->site_name;
	s->site.tmpl = s->tmpl;
	return 0;
}

static void site_free(struct http_server *s)
{
	free(s->site_name);
	tmpl_set_free(s->tmpl);
}

struct http_server *http_server_start(const struct conf *conf, const struct keys *keys,
				      struct buf *err)
{
	struct http_server *s = xcalloc(1, sizeof(*s));
	s->conf = conf;
	s->keys = keys;
	if (site_load(s, err) < 0) {
		free(s);
		return NULL;
	}
	s->rl = ratelimit_new(conf_get_int(conf, "web", "subscribe_per_client"),
			      conf_get_int(conf, "web", "subscribe_per_list"), 3600);
	if (pthread_key_create(&s->store_key, store_key_free) != 0) {
		buf_puts(err, "cannot create thread-local storage");
		ratelimit_free(s->rl);
		site_free(s);
		free(s);
		return NULL;
	}
	int fd = open_listener(conf_get(conf, "http", "listen"), s->url, sizeof(s->url), err);
	if (fd >= 0) {
		unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD;
		errno = 0;
		s->d = MHD_start_daemon(
		    flags, 0, NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
		    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)HTTP_THREADS,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_CONNECTIONS,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_TIMEOUT_SECONDS,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
		    MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
		    s, MHD_OPTION_END);
		if (s->d == NULL) {
			buf_printf(err, "[http] listen = %s: the HTTP library failed to start%s%s",
				   conf_get(conf, "http", "listen"), errno ? ": " : "",
				   errno ? strerror(errno) : "");
			if (fcntl(fd, F_GETFD) >= 0) /* unless the library closed it */
				close(fd);
		}
	}
	if (s->d == NULL) {
		pthread_key_delete(s->store_key);
		ratelimit_free(s->rl);
		site_free(s);
		free(s);
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
	/* Joins the workers; each closes its store in store_key_free on the way out. */
	MHD_stop_daemon(s->d);
	pthread_key_delete(s->store_key);
	ratelimit_free(s->rl);
	site_free(s);
	free(s);
}
