/*
 * http.h - the HTTP listener of the web role (libmicrohttpd).
 *
 *   http_server_start  parse [http] listen, bind, start the worker threads
 *   http_server_url    the URL it serves, with the port actually bound
 *   http_server_stop   stop accepting, close connections, join the threads
 *
 * The web role shares nothing with the other roles but the store: each
 * worker thread opens its own store connection on its first request and
 * closes it when the thread ends (SQLite connections are never shared
 * between threads).
 *
 * HTTPS when [http] tls_cert and tls_key are set (libmicrohttpd with GnuTLS).
 * Every response carries Content-Security-Policy, X-Content-Type-Options,
 * Referrer-Policy, X-Frame-Options and Cache-Control, and over HTTPS
 * Strict-Transport-Security; none sets a cookie. GET and HEAD are
 * answered (RFC 9110 section 9.1: a general-purpose server supports both);
 * POST only on the token pages (web/tokpages.h) and the list pages
 * (web/listpage.h), with a body of at most LK_HTTP_MAX_BODY bytes (413 past
 * it); every other method gets 405. Nothing about a visitor (address, user
 * agent, headers) is kept or logged (P6); the client's address is read only
 * for a subscribe POST, as an in-memory rate limit key (web/ratelimit.h), and
 * for a GET, for the country count and the /metrics check (web/stats.h).
 * Behind a proxy in [http] trusted_proxies, the client is taken from
 * X-Forwarded-For (core/netaddr.h). Page views and open-pixel hits are
 * counted as daily aggregates (web/stats.h).
 *
 * TRUST: every byte from the network is untrusted. libmicrohttpd parses the
 * request within the bounds set in http.c (memory per connection, which caps
 * the request line and headers; connection count; idle timeout); pages.c
 * sees only the decoded path.
 */
#ifndef LK_WEB_HTTP_H
#define LK_WEB_HTTP_H

#include <pthread.h>

#include "core/buf.h"
#include "core/conf.h"
#include "crypto/keys.h"

struct http_server;
struct store;

/* Checks an [http] listen value without binding: 0, or -1 with what to fix
 * in err. A value that passes can still fail to bind (port taken). */
int http_listen_check(const char *listen_z, struct buf *err);
/* Binds [http] listen ("IPV4:PORT" or "[IPV6]:PORT"; port 0 picks a free
 * one) and starts serving. conf and keys must outlive the server: worker
 * threads open their stores from conf, and keys check tokens and CSRF
 * fields. On failure returns NULL with what to fix in err. */
struct http_server *http_server_start(const struct conf *conf, const struct keys *keys,
				      struct buf *err);
/* "http://HOST:PORT/" (owned by the server). */
const char *http_server_url(const struct http_server *s);
/* Stops and frees; NULL does nothing. */
void http_server_stop(struct http_server *s);

/* For the other listener of the layer (web/admin.h):
 * http_open_listener binds and listens on listen_z (the value of the key
 * named key, for messages), non-blocking, and writes "SCHEME://HOST:PORT/"
 * with the port bound into url; the socket, or -1 with what to fix in err.
 * http_client_addr is the client of conn: the peer, or behind a proxy of
 * proxies the hop in X-Forwarded-For (core/netaddr.h); 0, or -1. */
struct MHD_Connection;
struct netaddr_cidr;
struct sockaddr_storage;
int http_open_listener(const char *key, const char *listen_z, const char *scheme, char *url,
		       size_t url_cap, struct buf *err);
int http_client_addr(struct MHD_Connection *conn, const struct netaddr_cidr *proxies,
		     size_t n_proxies, struct sockaddr_storage *out);
/* The calling worker thread's store under key (made with http_store_key_free
 * as its destructor), opened on first use; NULL, logged as ROLE's, if it
 * cannot be opened now: the next request tries again. */
struct store *http_thread_store(pthread_key_t key, const struct conf *conf, const char *role);
void http_store_key_free(void *p);

#endif
