/*
 * netaddr.c - listen settings, address blocks and X-Forwarded-For (see
 * netaddr.h).
 *
 * TRUST: listen settings and blocks are the operator's configuration, read
 * with explicit lengths and strict ranges. X-Forwarded-For is untrusted: it
 * is read backwards within the length given (never relying on a NUL), at
 * most LK_HTTP_MAX_HOPS hops, each copied into a fixed buffer only when it
 * fits.
 */
#include "core/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/num.h"
#include "core/xmalloc.h"

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

static int port_ok(const char *p, size_t len)
{
	int64_t port;
	return num_parse_i64(p, len, 0, 65535, &port) == 0;
}

/* An address of one hop or block, from (p, len): a bare IPv4 or IPv6
 * address, or with allow_port "IPV4:PORT", "[IPV6]" or "[IPV6]:PORT".
 * Returns 0 and fills ss, or -1. */
static int parse_addr(const char *p, size_t len, int allow_port, struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN + 1];
	memset(ss, 0, sizeof(*ss));
	if (len > 0 && p[0] == '[' && allow_port) {
		const char *close = memchr(p, ']', len);
		if (close == NULL)
			return -1;
		size_t rest = len - (size_t)(close + 1 - p);
		if (rest > 0 && (close[1] != ':' || !port_ok(close + 2, rest - 1)))
			return -1;
		p++;
		len = (size_t)(close - p);
	} else if (allow_port && memchr(p, '.', len) != NULL) {
		const char *colon = memchr(p, ':', len);
		/* One colon: IPv4 with a port (IPv6 has at least two). */
		size_t rest = colon != NULL ? len - (size_t)(colon + 1 - p) : 0;
		if (colon != NULL && memchr(colon + 1, ':', rest) == NULL) {
			if (!port_ok(colon + 1, rest))
				return -1;
			len = (size_t)(colon - p);
		}
	}
	if (len == 0 || len >= sizeof(host))
		return -1;
	memcpy(host, p, len);
	host[len] = '\0';
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}

/* The address bytes of sa (4 or 16) and its family, an IPv4-mapped IPv6
 * address taken as IPv4; 0 for another family. */
static size_t addr_bytes(const struct sockaddr *sa, int *family, const uint8_t **bytes)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (sa->sa_family == AF_INET) {
		*family = AF_INET;
		*bytes = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		return 4;
	}
	if (sa->sa_family == AF_INET6) {
		const uint8_t *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (memcmp(b, mapped, sizeof(mapped)) == 0) {
			*family = AF_INET;
			*bytes = b + 12;
			return 4;
		}
		*family = AF_INET6;
		*bytes = b;
		return 16;
	}
	return 0;
}

int netaddr_cidr_list_parse(const char *key, const char *v, struct netaddr_cidr **out, size_t *n,
			    struct buf *err)
{
	*out = NULL;
	*n = 0;
	size_t cap = 0;
	const char *p = v;
	for (;;) {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return 0;
		size_t len = strcspn(p, ", \t");
		const char *slash = memchr(p, '/', len);
		size_t alen = slash != NULL ? (size_t)(slash - p) : len;
		struct sockaddr_storage ss;
		int family;
		const uint8_t *bytes;
		size_t blen;
		int64_t bits = -1;
		if (parse_addr(p, alen, 0, &ss) < 0 ||
		    (blen = addr_bytes((struct sockaddr *)&ss, &family, &bytes)) == 0 ||
		    (slash != NULL &&
		     num_parse_i64(slash + 1, len - alen - 1, 0, (int64_t)blen * 8, &bits) < 0)) {
			buf_printf(err,
				   "%s = %s: '%.*s' is not an address block; write ADDRESS/BITS "
				   "or one address, e.g. 10.0.0.0/8, 127.0.0.1, ::1",
				   key, v, (int)len, p);
			goto fail;
		}
		if (*n == LK_MAX_CIDRS) {
			buf_printf(err, "%s: more than %d address blocks", key, LK_MAX_CIDRS);
			goto fail;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			*out = xreallocarray(*out, cap, sizeof(**out));
		}
		struct netaddr_cidr *c = &(*out)[(*n)++];
		memset(c, 0, sizeof(*c));
		c->family = family;
		memcpy(c->addr, bytes, blen);
		c->bits = bits < 0 ? (unsigned)blen * 8 : (unsigned)bits;
		p += len;
	}
fail:
	free(*out);
	*out = NULL;
	*n = 0;
	return -1;
}

int netaddr_cidr_match(const struct netaddr_cidr *list, size_t n, const struct sockaddr *sa)
{
	int family;
	const uint8_t *b;
	if (sa == NULL || addr_bytes(sa, &family, &b) == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const struct netaddr_cidr *c = &list[i];
		if (c->family != family)
			continue;
		unsigned whole = c->bits / 8, rest = c->bits % 8;
		if (memcmp(c->addr, b, whole) != 0)
			continue;
		if (rest != 0) {
			uint8_t mask = (uint8_t)(0xff << (8 - rest));
			if ((c->addr[whole] & mask) != (b[whole] & mask))
				continue;
		}
		return 1;
	}
	return 0;
}

static void copy_addr(const struct sockaddr *sa, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		memcpy(out, sa, sizeof(struct sockaddr_in));
	else if (sa->sa_family == AF_INET6)
		memcpy(out, sa, sizeof(struct sockaddr_in6));
}

void netaddr_forwarded_client(const struct netaddr_cidr *trusted, size_t n,
			      const struct sockaddr *peer, const char *xff, size_t len,
			      struct sockaddr_storage *out)
{
	copy_addr(peer, out);
	if (out->ss_family == AF_INET)
		((struct sockaddr_in *)out)->sin_port = 0;
	else if (out->ss_family == AF_INET6)
		((struct sockaddr_in6 *)out)->sin6_port = 0;
	if (xff == NULL || len == 0 || !netaddr_cidr_match(trusted, n, (struct sockaddr *)out))
		return;
	size_t end = len;
	for (int hops = 0; hops < LK_HTTP_MAX_HOPS && end > 0; hops++) {
		size_t start = end;
		while (start > 0 && xff[start - 1] != ',')
			start--;
		size_t a = start, b = end;
		while (a < b && (xff[a] == ' ' || xff[a] == '\t'))
			a++;
		while (b > a && (xff[b - 1] == ' ' || xff[b - 1] == '\t'))
			b--;
		end = start > 0 ? start - 1 : 0;
		if (a == b) { /* an empty element ("a,,b"): RFC 9110 5.6.1 lets lists have them */
			if (start == 0)
				break;
			continue;
		}
		struct sockaddr_storage hop;
		if (parse_addr(xff + a, b - a, 1, &hop) < 0)
			return; /* junk: the last address reached stands */
		*out = hop;
		if (!netaddr_cidr_match(trusted, n, (struct sockaddr *)&hop))
			return;
		if (start == 0)
			break;
	}
}
