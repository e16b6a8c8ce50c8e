/*
 * http.c - the HTTP listener (see http.h): libmicrohttpd with an epoll
 * thread pool, one store connection per worker thread.
 *
 * TRUST: sees untrusted requests. libmicrohttpd enforces the bounds below
 * and answers malformed or oversized requests itself (400, 414, 431) before
 * our handler runs. We never look at the peer's address or any request
 * header, and libmicrohttpd's own error log stays off, so that no IP address
 * or user agent can reach a log (house rule, P6).
 */
#include "web/http.h"

#include "core/limits.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/num.h"
#include "core/xmalloc.h"
#include "store/store.h"
#include "web/pages.h"

/* Bounds on the listener: core/limits.h. */
#define HTTP_THREADS LK_HTTP_THREADS
#define HTTP_MAX_CONNECTIONS LK_HTTP_MAX_CONNECTIONS
#define HTTP_TIMEOUT_SECONDS LK_HTTP_TIMEOUT_SECONDS
#define HTTP_CONN_MEMORY LK_HTTP_CONN_MEMORY
#define HTTP_BACKLOG LK_HTTP_BACKLOG

static const char CSP[] = "default-src 'none'; style-src 'self'; img-src 'self'; "
			  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

struct http_server {
	struct MHD_Daemon *d;
	const struct conf *conf;
	char *site;
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

static int add_headers(struct MHD_Response *r, const struct page *p)
{
	int ok =
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, p->content_type) == MHD_YES &&
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, p->cache_control) ==
		MHD_YES &&
	    MHD_add_response_header(r, "Content-Security-Policy", CSP) == MHD_YES &&
	    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES &&
	    MHD_add_response_header(r, "Referrer-Policy", "no-referrer") == MHD_YES;
	if (ok && p->status == MHD_HTTP_METHOD_NOT_ALLOWED)
		ok = MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") == MHD_YES;
	return ok ? 0 : -1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	static int seen; /* a marker: its address says "headers seen" */
	struct http_server *s = cls;
	(void)version;
	(void)upload_data;
	struct page p;
	int get =
	    strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	if (get && *req_cls == NULL) {
		/* The first call comes when the headers are in. Answering a GET on
		 * the next one, with the request complete, keeps the connection
		 * open for the next request; any body a GET carries is dropped. */
		*req_cls = &seen;
		return MHD_YES;
	}
	if (get && *upload_data_size != 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (get)
		pages_get(s->site, thread_store(s), url, &p);
	else /* answered at once: the body is never read and the connection closes */
		pages_method_not_allowed(s->site, &p);
	size_t len = 0;
	char *body = buf_steal(&p.body, &len);
	struct MHD_Response *r =
	    MHD_create_response_from_buffer_with_free_callback(len, body, free);
	if (r == NULL) {
		free(body);
		page_free(&p);
		return MHD_NO;
	}
	enum MHD_Result ret = MHD_NO;
	if (add_headers(r, &p) == 0)
		ret = MHD_queue_response(conn, p.status, r);
	MHD_destroy_response(r);
	page_free(&p);
	return ret;
}

/* Parses "IPV4:PORT" or "[IPV6]:PORT" into ss. */
static int parse_listen(const char *v, struct sockaddr_storage *ss, socklen_t *sslen,
			struct buf *err)
{
	const char *colon = strrchr(v, ':');
	int64_t port;
	if (colon == NULL || num_parse_i64_z(colon + 1, 0, 65535, &port) < 0) {
		buf_printf(err,
			   "[http] listen = %s: expected ADDRESS:PORT with a port from 0 to "
			   "65535, e.g. 127.0.0.1:8080",
			   v);
		return -1;
	}
	char host[INET6_ADDRSTRLEN + 2];
	size_t hl = (size_t)(colon - v);
	if (hl >= sizeof(host))
		goto bad_host;
	memcpy(host, v, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
			goto bad_host;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*a6);
		return 0;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
		goto bad_host;
	a4->sin_family = AF_INET;
	a4->sin_port = htons((uint16_t)port);
	*sslen = sizeof(*a4);
	return 0;
bad_host:
	buf_printf(err,
		   "[http] listen = %s: the address must be an IPv4 address or an IPv6 "
		   "address in brackets, e.g. 127.0.0.1:8080 or [::1]:8080",
		   v);
	return -1;
}

/* Binds and listens ourselves, so that a taken port or a missing address is
 * reported plainly (libmicrohttpd would only return NULL), and so that port
 * 0 tells us which port we got. Fills url. Returns the socket or -1. */
static int open_listener(const char *listen_z, char *url, size_t url_cap, struct buf *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	if (parse_listen(listen_z, &ss, &sslen, err) < 0)
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
	return parse_listen(listen_z, &ss, &sslen, err);
}

struct http_server *http_server_start(const struct conf *conf, struct buf *err)
{
	struct http_server *s = xcalloc(1, sizeof(*s));
	s->conf = conf;
	s->site = xstrdup(conf_get(conf, "general", "site_name"));
	if (pthread_key_create(&s->store_key, store_key_free) != 0) {
		buf_puts(err, "cannot create thread-local storage");
		free(s->site);
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
		    MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_END);
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
		free(s->site);
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
	free(s->site);
	free(s);
}
