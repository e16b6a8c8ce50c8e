/*
 * netaddr.c - parse a listen setting into a socket address.
 *
 * TRUST: the value is the operator's configuration; read with explicit
 * lengths and a strict port range.
 */
#include "core/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "core/num.h"

int netaddr_parse_listen(const char *key, const char *v, struct sockaddr_storage *ss,
			 socklen_t *sslen, struct buf *err)
{
	const char *colon = strrchr(v, ':');
	int64_t port;
	if (colon == NULL || num_parse_i64_z(colon + 1, 0, 65535, &port) < 0) {
		buf_printf(err,
			   "%s = %s: expected ADDRESS:PORT with a port from 0 to 65535, e.g. "
			   "127.0.0.1:8080",
			   key, v);
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
		   "%s = %s: the address must be an IPv4 address or an IPv6 address in brackets, "
		   "e.g. 127.0.0.1:8080 or [::1]:8080",
		   key, v);
	return -1;
}
