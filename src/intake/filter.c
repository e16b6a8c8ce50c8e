/*
 * filter.c - endpoints of the filter daemons and one request/answer
 * exchange with a deadline (see filter.h).
 *
 * The socket is non-blocking; every connect, write and read waits in poll()
 * for what is left of one deadline, so a daemon that accepts and then says
 * nothing costs at most timeout_ms per post, never a hang.
 *
 * TRUST: the answer is untrusted and bounded by the reply buffer's max. The
 * error texts are ours (strerror, gai_strerror).
 */
#include "intake/filter.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/num.h"

int filter_fail(struct filter_error *err, enum filter_origin origin, int temporary, const char *fmt,
		...)
{
	va_list ap;
	err->origin = origin;
	err->temporary = temporary;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	return -1;
}

const char *filter_origin_name(enum filter_origin o)
{
	switch (o) {
	case FILTER_ORIGIN_OURS:
		return "ours";
	case FILTER_ORIGIN_PEER:
		return "peer";
	case FILTER_ORIGIN_NONE:
		break;
	}
	return "";
}

int filter_endpoint_parse(const char *key, const char *spec, struct filter_endpoint *ep,
			  struct buf *err)
{
	memset(ep, 0, sizeof(*ep));
	struct str s = str_from_z(spec);
	if (s.len > 5 && memcmp(s.ptr, "unix:", 5) == 0) {
		s.ptr += 5;
		s.len -= 5;
	}
	if (s.len > 0 && s.ptr[0] == '/') {
		if (s.len >= sizeof(ep->path) || str_has_ctl_line(s)) {
			buf_printf(err, "%s: the socket path is too long (at most %zu bytes)", key,
				   sizeof(ep->path) - 1);
			return -1;
		}
		ep->is_unix = 1;
		memcpy(ep->path, s.ptr, s.len);
		return 0;
	}
	long colon = -1;
	for (size_t i = 0; i < s.len; i++)
		if (s.ptr[i] == ':')
			colon = (long)i;
	struct str host = {s.ptr, colon < 0 ? 0 : (size_t)colon};
	if (host.len >= 2 && host.ptr[0] == '[' && host.ptr[host.len - 1] == ']') {
		host.ptr++;
		host.len -= 2;
	}
	int64_t port = 0;
	if (colon <= 0 || host.len == 0 || host.len >= sizeof(ep->host) ||
	    memchr(host.ptr, ' ', host.len) != NULL || str_has_ctl_line(host) ||
	    num_parse_i64(s.ptr + colon + 1, s.len - (size_t)colon - 1, 1, 65535, &port) < 0) {
		buf_printf(err, "%s: \"%s\" is neither unix:/PATH nor HOST:PORT", key, spec);
		return -1;
	}
	memcpy(ep->host, host.ptr, host.len);
	snprintf(ep->port, sizeof(ep->port), "%d", (int)port);
	return 0;
}

void filter_endpoint_name(const struct filter_endpoint *ep, char *out, size_t cap)
{
	/* Only for messages: a name cut short by a small out still says which endpoint. */
	if (ep->is_unix)
		(void)bsnprintf(out, cap, "unix:%s", ep->path);
	else if (strchr(ep->host, ':') != NULL)
		(void)bsnprintf(out, cap, "[%s]:%s", ep->host, ep->port);
	else
		(void)bsnprintf(out, cap, "%s:%s", ep->host, ep->port);
}

static long long now_ms(void)
{
	return clock_mono_ns() / 1000000;
}

/* Waits for events on fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int wait_until(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = {.fd = fd, .events = events};
		int n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

static int connect_fd(const char *what, const char *name, int family, const struct sockaddr *sa,
		      socklen_t salen, long long deadline, int timeout_ms, int *out,
		      struct filter_error *err)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return filter_fail(err, FILTER_ORIGIN_OURS, 1, "%s %s: socket: %s", what, name,
				   strerror(errno));
	if (connect(fd, sa, salen) < 0) {
		int e = errno;
		if (e != EINPROGRESS) {
			close(fd);
			/* ENOENT, ECONNREFUSED, EAGAIN (a full backlog): the daemon is down or busy
			 */
			return filter_fail(err, FILTER_ORIGIN_PEER, 1, "%s %s: connect: %s", what,
					   name, strerror(e));
		}
		int r = wait_until(fd, POLLOUT, deadline);
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (r <= 0) {
			close(fd);
			return filter_fail(err, FILTER_ORIGIN_PEER, 1,
					   "%s %s: connect: timed out after %d ms", what, name,
					   timeout_ms);
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
			close(fd);
			return filter_fail(err, FILTER_ORIGIN_PEER, 1, "%s %s: connect: %s", what,
					   name, strerror(soerr != 0 ? soerr : errno));
		}
	}
	*out = fd;
	return 0;
}

static int open_conn(const char *what, const struct filter_endpoint *ep, long long deadline,
		     int timeout_ms, int *fd, struct filter_error *err)
{
	char name[sizeof(ep->path) + 8];
	filter_endpoint_name(ep, name, sizeof(name));
	if (ep->is_unix) {
		struct sockaddr_un sun = {.sun_family = AF_UNIX};
		memcpy(sun.sun_path, ep->path, sizeof(sun.sun_path));
		return connect_fd(what, name, AF_UNIX, (struct sockaddr *)&sun, sizeof(sun),
				  deadline, timeout_ms, fd, err);
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(ep->host, ep->port, &hints, &res);
	if (rc != 0)
		return filter_fail(err, FILTER_ORIGIN_OURS, rc == EAI_AGAIN, "%s %s: resolve: %s",
				   what, name,
				   rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	int r = -1;
	for (struct addrinfo *ai = res; ai != NULL && r < 0; ai = ai->ai_next)
		r = connect_fd(what, name, ai->ai_family, ai->ai_addr, ai->ai_addrlen, deadline,
			       timeout_ms, fd, err);
	freeaddrinfo(res);
	return r;
}

/* Writes all of p; 0 done, 1 the daemon closed its end (stop writing, read
 * its answer), -1 error (err filled). */
static int write_all(const char *what, int fd, const char *p, size_t len, long long deadline,
		     int timeout_ms, struct filter_error *err)
{
	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			len -= (size_t)w;
			continue;
		}
		if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
			return 1;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return filter_fail(err, FILTER_ORIGIN_PEER, 1, "%s: write: %s", what,
					   strerror(errno));
		int r = wait_until(fd, POLLOUT, deadline);
		if (r == 0)
			return filter_fail(err, FILTER_ORIGIN_PEER, 1,
					   "%s: no progress writing within %d ms", what,
					   timeout_ms);
		if (r < 0)
			return filter_fail(err, FILTER_ORIGIN_OURS, 1, "%s: poll: %s", what,
					   strerror(errno));
	}
	return 0;
}

int filter_exchange(const char *what, const struct filter_endpoint *ep, int timeout_ms,
		    const struct str *req, size_t n, struct buf *reply, struct filter_error *err)
{
	long long deadline = now_ms() + timeout_ms;
	int fd = -1;
	memset(err, 0, sizeof(*err));
	if (open_conn(what, ep, deadline, timeout_ms, &fd, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int w = write_all(what, fd, req[i].ptr, req[i].len, deadline, timeout_ms, err);
		if (w < 0) {
			close(fd);
			return -1;
		}
		if (w > 0)
			break;
	}
	char chunk[4096];
	for (;;) {
		ssize_t r = recv(fd, chunk, sizeof(chunk), 0);
		if (r == 0)
			break;
		if (r > 0) {
			if (buf_append(reply, chunk, (size_t)r) < 0) {
				close(fd);
				return filter_fail(err, FILTER_ORIGIN_PEER, 1,
						   "%s: answer longer than %zu bytes", what,
						   reply->max);
			}
			continue;
		}
		if (errno == ECONNRESET)
			break; /* what it said before the reset is judged by the parser */
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			int e = errno;
			close(fd);
			return filter_fail(err, FILTER_ORIGIN_PEER, 1, "%s: read: %s", what,
					   strerror(e));
		}
		int w = wait_until(fd, POLLIN, deadline);
		if (w <= 0) {
			close(fd);
			if (w < 0)
				return filter_fail(err, FILTER_ORIGIN_OURS, 1, "%s: poll: %s", what,
						   strerror(errno));
			return filter_fail(err, FILTER_ORIGIN_PEER, 1, "%s: no answer within %d ms",
					   what, timeout_ms);
		}
	}
	close(fd);
	return 0;
}

int filter_conf_load(const struct conf *c, struct filter_conf *out, struct buf *err)
{
	memset(out, 0, sizeof(*out));
	out->timeout_ms = (int)conf_get_int(c, "filter", "timeout_seconds") * 1000;
	const char *v = conf_get(c, "filter", "clamd");
	if (strcmp(v, "none") != 0) {
		if (filter_endpoint_parse("[filter] clamd", v, &out->clamd, err) < 0)
			return -1;
		out->clamd_on = 1;
	}
	v = conf_get(c, "filter", "spam");
	if (strcmp(v, "none") == 0)
		return 0;
	if (strncmp(v, "spamd:", 6) != 0) {
		buf_printf(err,
			   "[filter] spam: \"%s\" is neither spamd:HOST:PORT, spamd:unix:/PATH "
			   "nor none",
			   v);
		return -1;
	}
	if (filter_endpoint_parse("[filter] spam", v + 6, &out->spamd, err) < 0)
		return -1;
	out->spam = FILTER_SPAM_SPAMD;
	return 0;
}
