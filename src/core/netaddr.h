/*
 * netaddr.h - network addresses in the configuration and in requests.
 *
 *   netaddr_parse_listen      a listen setting ("IPV4:PORT" or "[IPV6]:PORT")
 *                             as a socket address ([http] listen, [lmtp] listen)
 *   netaddr_cidr_list_parse   a list of address blocks ("10.0.0.0/8, ::1")
 *   netaddr_cidr_match        is an address in one of the blocks?
 *   netaddr_forwarded_client  the client behind trusted proxies, from
 *                             X-Forwarded-For
 *
 * TRUST: the configuration is the operator's; an X-Forwarded-For value is
 * untrusted (any client can send one) and is believed only as far as the
 * chain of trusted proxies reaches (see netaddr_forwarded_client).
 */
#ifndef LK_CORE_NETADDR_H
#define LK_CORE_NETADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/buf.h"

/* Parses v; port 0 asks for any free port. Returns 0, or -1 with a message
 * that names the setting (key, e.g. "[http] listen") appended to err. */
int netaddr_parse_listen(const char *key, const char *v, struct sockaddr_storage *ss,
			 socklen_t *sslen, struct buf *err);

/* One address block. */
struct netaddr_cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned bits; /* prefix length */
};

/* Parses a list of blocks separated by commas or blanks: "ADDR/BITS" or a
 * bare address (one host). An empty value is an empty list (*out NULL, *n 0).
 * At most LK_MAX_CIDRS blocks. Returns 0 with *out allocated (free() it), or
 * -1 with a message naming key appended to err. */
int netaddr_cidr_list_parse(const char *key, const char *v, struct netaddr_cidr **out, size_t *n,
			    struct buf *err);
/* 1 if sa (AF_INET or AF_INET6; an IPv4-mapped IPv6 address counts as its
 * IPv4 address) is in one of the n blocks, else 0. */
int netaddr_cidr_match(const struct netaddr_cidr *list, size_t n, const struct sockaddr *sa);

/* The client's address for a request that came from peer with the
 * X-Forwarded-For value xff (len bytes; several header lines joined by
 * commas; NULL or empty when there was none). Only when peer is one of the
 * trusted blocks are the hops read, from the right (the hop each proxy
 * appended): a trusted hop is passed over, the first untrusted one is the
 * client; if every hop is trusted the leftmost is. A hop that is not an
 * address ("unknown", junk) ends the walk at the last address reached, and
 * at most LK_HTTP_MAX_HOPS hops are read. Hops may carry a port
 * ("1.2.3.4:80", "[2001:db8::1]:80"). Always fills out (port 0). */
void netaddr_forwarded_client(const struct netaddr_cidr *trusted, size_t n,
			      const struct sockaddr *peer, const char *xff, size_t len,
			      struct sockaddr_storage *out);

#endif
