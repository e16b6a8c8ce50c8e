/*
 * connguard.h - the web's guard against slow clients (slowloris): at most
 * [http] max_conns_per_ip connections open at once from one client network
 * (an IPv4 address, an IPv6 /64), and a whole-request deadline, [http]
 * request_timeout, for the request line, the headers and the body together
 * (libmicrohttpd's own timeout counts only idle time, so one header line
 * every few seconds held a connection for good).
 *
 *   connguard_new / connguard_free   the guard and its reaper thread
 *   connguard_admit                  may a connection from addr be accepted?
 *   connguard_open / connguard_close a connection accepted / gone
 *   connguard_answering              its request is in: the clock stops
 *   connguard_next                   its answer is out: the next one's starts
 *
 * A connection past its deadline is shut down (shutdown(2) on its socket,
 * under the guard's lock, which connguard_close takes before the library
 * closes the socket): the library sees the end of the stream and closes it.
 * Connections from [http] trusted_proxies are not counted per network (the
 * proxy carries many clients; it buffers their requests itself), but keep
 * the deadline.
 *
 * TRUST: sees the peer's address only, hashed into nothing: kept in memory
 * as the network prefix for the count, never logged or stored (P6).
 */
#ifndef LK_WEB_CONNGUARD_H
#define LK_WEB_CONNGUARD_H

#include <stddef.h>
#include <sys/socket.h>

#include "core/netaddr.h"

struct connguard;
struct guarded; /* one connection */

/* max_per_net: 0 for no cap. timeout_s: the request deadline (>= 1).
 * proxies: not counted per network (borrowed; must outlive the guard).
 * NULL if the reaper thread cannot start. */
struct connguard *connguard_new(size_t max_per_net, int timeout_s,
				const struct netaddr_cidr *proxies, size_t n_proxies);
/* Stops the reaper. Every connection must be closed first. NULL: no-op. */
void connguard_free(struct connguard *g);

/* 1 if a new connection from addr is under the cap, 0 if not. */
int connguard_admit(struct connguard *g, const struct sockaddr *addr);
/* A connection accepted on socket fd from addr: its clock starts. Over the
 * cap (a race between two admits), it is shut down at once. Never NULL. */
struct guarded *connguard_open(struct connguard *g, const struct sockaddr *addr, int fd);
/* It is gone; frees c. Before the socket is closed. NULL: no-op. */
void connguard_close(struct connguard *g, struct guarded *c);
/* Its request is in and being answered: no deadline until connguard_next. */
void connguard_answering(struct connguard *g, struct guarded *c);
/* Its answer is done: the next request's clock starts now. */
void connguard_next(struct connguard *g, struct guarded *c);

#endif
