/*
 * fuzz_headers.c - libFuzzer driver for the request headers the web role
 * reads besides the body: User-Agent (web/useragent.c, for the browser
 * family) and X-Forwarded-For (core/netaddr.c, for the client behind a
 * trusted proxy), and the address-block lists of the configuration.
 *
 * The whole input is given to each parser. Promises checked: the family is
 * one of the known ones; the forwarded client is always an IPv4 or IPv6
 * address with no port, and it is the peer itself when the peer is not
 * trusted; a block list either parses into at most LK_MAX_CIDRS blocks of
 * valid prefix lengths or fails with a message. Seeds:
 * corpus/fuzz_headers/.
 *
 * TRUST: the input is untrusted; copied to an exact-size heap block so that
 * ASan catches any read past len.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/netaddr.h"
#include "web/useragent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sockaddr_in v4(const char *z)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(4242);
	inet_pton(AF_INET, z, &a.sin_addr);
	return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4 * LK_HTTP_MAX_FORWARDED)
		return 0;
	char *p = malloc(size ? size : 1);
	memcpy(p, data, size);

	if ((unsigned)ua_family(p, size) >= UA_COUNT)
		abort();

	struct netaddr_cidr *trusted;
	size_t n;
	struct buf err;
	buf_init(&err, 4096);
	if (netaddr_cidr_list_parse("k", "127.0.0.0/8, 10.0.0.0/8, ::1, 2001:db8::/32", &trusted,
				    &n, &err) < 0)
		abort();
	struct sockaddr_in peer = v4("127.0.0.1"), stranger = v4("198.51.100.1");
	struct sockaddr_storage out;
	netaddr_forwarded_client(trusted, n, (struct sockaddr *)&peer, p, size, &out);
	if (out.ss_family == AF_INET) {
		if (((struct sockaddr_in *)&out)->sin_port != 0)
			abort();
	} else if (out.ss_family == AF_INET6) {
		if (((struct sockaddr_in6 *)&out)->sin6_port != 0)
			abort();
	} else {
		abort();
	}
	netaddr_forwarded_client(trusted, n, (struct sockaddr *)&stranger, p, size, &out);
	if (out.ss_family != AF_INET ||
	    memcmp(&((struct sockaddr_in *)&out)->sin_addr, &stranger.sin_addr, 4) != 0)
		abort();
	free(trusted);

	/* The same bytes as a configured list (a NUL-terminated value). */
	if (size <= LK_MAX_CONF_VALUE && memchr(p, '\0', size) == NULL) {
		char *z = malloc(size + 1);
		memcpy(z, p, size);
		z[size] = '\0';
		struct netaddr_cidr *l;
		if (netaddr_cidr_list_parse("k", z, &l, &n, &err) == 0) {
			if (n > LK_MAX_CIDRS)
				abort();
			for (size_t i = 0; i < n; i++)
				if (l[i].bits > (l[i].family == AF_INET ? 32u : 128u))
					abort();
			netaddr_cidr_match(l, n, (struct sockaddr *)&peer);
			free(l);
		} else if (err.len == 0) {
			abort();
		}
		free(z);
	}
	buf_free(&err);
	free(p);
	return 0;
}
