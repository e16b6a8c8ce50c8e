/*
 * netio.c - a client TCP connection with poll() deadlines and optional TLS.
 *
 * The socket is non-blocking from the start; every read, write, connect and
 * TLS handshake step waits with poll() for at most the connection's timeout.
 * Reads go through a fixed buffer from which whole CRLF lines are cut.
 *
 * TRUST: peer bytes are untrusted: lines are bounded by the caller's max
 * (LK_MAX_SMTP_LINE for SMTP) and must end in CRLF; a bare CR or LF is a
 * protocol error. Error texts are ours (strerror, OpenSSL reasons), never
 * peer data.
 */
#include "delivery/netio.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/xmalloc.h"

/* Read buffer: a whole reply line must fit, with room for pipelined ones. */
#define NETIO_RBUF 8192
_Static_assert(NETIO_RBUF > LK_MAX_SMTP_LINE, "a reply line must fit the read buffer");

struct netio {
	int fd;
	SSL *ssl;
	int timeout_ms;
	enum netio_status status;
	char err[160];
	size_t rstart, rend;
	char rbuf[NETIO_RBUF];
};

static void set_err(struct netio *io, enum netio_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(struct netio *io, enum netio_status st, const char *fmt, ...)
{
	va_list ap;
	io->status = st;
	va_start(ap, fmt);
	vsnprintf(io->err, sizeof(io->err), fmt, ap);
	va_end(ap);
}

static long long now_ms(void)
{
	return clock_mono_ns() / 1000000;
}

/* Waits until fd is ready for events or the deadline passes. 0, or -1 (status set). */
static int wait_fd(struct netio *io, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0) {
			set_err(io, NETIO_TIMEOUT, "timed out after %d s", io->timeout_ms / 1000);
			return -1;
		}
		struct pollfd p = {.fd = io->fd, .events = events};
		int n = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR) {
			set_err(io, NETIO_IOERR, "poll: %s", strerror(errno));
			return -1;
		}
	}
}

static int connect_one(const struct addrinfo *ai, int timeout_ms, int *out, int *err)
{
	int fd =
	    socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0) {
		*err = errno;
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			*err = errno;
			close(fd);
			return -1;
		}
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int n;
		do
			n = poll(&p, 1, timeout_ms);
		while (n < 0 && errno == EINTR);
		if (n == 0) {
			*err = ETIMEDOUT;
			close(fd);
			return -1;
		}
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
			*err = n < 0 ? errno : soerr != 0 ? soerr : errno;
			close(fd);
			return -1;
		}
	}
	/* Commands go out in whole pipelined groups: no reason to wait for Nagle. */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*out = fd;
	return 0;
}

struct netio *netio_connect(const char *host, const char *port, int timeout_ms, struct buf *why)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		buf_printf(why, "resolve %s: %s", host,
			   rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return NULL;
	}
	int fd = -1, err = 0;
	char shown[INET6_ADDRSTRLEN + 8] = "?";
	for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, shown, sizeof(shown), NULL, 0,
				NI_NUMERICHOST) != 0)
			bsnprintf(shown, sizeof(shown), "%s", host);
		connect_one(ai, timeout_ms, &fd, &err);
	}
	freeaddrinfo(res);
	if (fd < 0) {
		buf_printf(why, "connect %s:%s: %s", shown, port, strerror(err));
		return NULL;
	}
	struct netio *io = xcalloc(1, sizeof(*io));
	io->fd = fd;
	io->timeout_ms = timeout_ms;
	return io;
}

void netio_free(struct netio *io)
{
	if (io == NULL)
		return;
	if (io->ssl != NULL) {
		ERR_clear_error();
		SSL_shutdown(io->ssl); /* non-blocking: one attempt, no wait for the peer */
		SSL_free(io->ssl);
		ERR_clear_error();
	}
	close(io->fd);
	xfree_wipe(io, sizeof(*io));
}

/* After an SSL call returned r <= 0: 1 to retry after waiting (events set), 0 on EOF, -1 on error.
 */
static int ssl_wait(struct netio *io, int r, long long deadline, const char *what)
{
	int e = SSL_get_error(io->ssl, r);
	short ev;
	switch (e) {
	case SSL_ERROR_WANT_READ:
		ev = POLLIN;
		break;
	case SSL_ERROR_WANT_WRITE:
		ev = POLLOUT;
		break;
	case SSL_ERROR_ZERO_RETURN:
		set_err(io, NETIO_EOF, "connection closed by the relay");
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno == 0 || errno == ECONNRESET || errno == EPIPE) {
			set_err(io, NETIO_EOF, "connection closed by the relay");
			return 0;
		}
		set_err(io, NETIO_IOERR, "%s: %s", what, strerror(errno));
		return -1;
	default: {
		unsigned long le = ERR_peek_last_error();
		if (ERR_GET_REASON(le) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			set_err(io, NETIO_EOF, "connection closed by the relay");
			ERR_clear_error();
			return 0;
		}
		char reason[120];
		ERR_error_string_n(le, reason, sizeof(reason));
		set_err(io, NETIO_IOERR, "%s: %s", what, reason);
		ERR_clear_error();
		return -1;
	}
	}
	return wait_fd(io, ev, deadline) < 0 ? -1 : 1;
}

static int is_ip_literal(const char *host)
{
	unsigned char tmp[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, host, tmp) == 1 || inet_pton(AF_INET6, host, tmp) == 1;
}

int netio_starttls(struct netio *io, SSL_CTX *ctx, const char *host, int verify, struct buf *why)
{
	if (io->rend > io->rstart) {
		buf_printf(why, "the relay sent data before the TLS handshake");
		return -1;
	}
	ERR_clear_error();
	io->ssl = SSL_new(ctx);
	if (io->ssl == NULL || SSL_set_fd(io->ssl, io->fd) != 1) {
		buf_printf(why, "TLS: cannot set up a session");
		return -1;
	}
	int ip = is_ip_literal(host);
	if (!ip)
		SSL_set_tlsext_host_name(io->ssl, host);
	if (verify) {
		SSL_set_verify(io->ssl, SSL_VERIFY_PEER, NULL);
		X509_VERIFY_PARAM *param = SSL_get0_param(io->ssl);
		int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host)
			    : X509_VERIFY_PARAM_set1_host(param, host, 0);
		if (ok != 1) {
			buf_printf(why, "TLS: cannot set the name to verify");
			return -1;
		}
	} else {
		SSL_set_verify(io->ssl, SSL_VERIFY_NONE, NULL);
	}
	long long deadline = now_ms() + io->timeout_ms;
	for (;;) {
		int r = SSL_connect(io->ssl);
		if (r == 1)
			return 0;
		long vr = SSL_get_verify_result(io->ssl);
		int w = ssl_wait(io, r, deadline, "TLS handshake");
		if (w == 1)
			continue;
		if (verify && vr != X509_V_OK)
			buf_printf(why, "TLS: certificate verify failed: %s",
				   X509_verify_cert_error_string(vr));
		else
			buf_printf(why, "TLS handshake: %s", io->err);
		return -1;
	}
}

int netio_is_tls(const struct netio *io)
{
	return io->ssl != NULL;
}

int netio_write(struct netio *io, const void *p, size_t len)
{
	const char *s = p;
	long long deadline = now_ms() + io->timeout_ms;
	while (len > 0) {
		size_t chunk = len > (1u << 30) ? (1u << 30) : len;
		if (io->ssl != NULL) {
			ERR_clear_error();
			int r = SSL_write(io->ssl, s, (int)chunk);
			if (r > 0) {
				s += r;
				len -= (size_t)r;
				deadline = now_ms() + io->timeout_ms;
				continue;
			}
			if (ssl_wait(io, r, deadline, "TLS write") != 1) {
				if (io->status == NETIO_EOF)
					set_err(io, NETIO_EOF, "connection closed by the relay");
				return -1;
			}
			continue;
		}
		ssize_t w = send(io->fd, s, chunk, MSG_NOSIGNAL);
		if (w > 0) {
			s += w;
			len -= (size_t)w;
			deadline = now_ms() + io->timeout_ms;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(io, POLLOUT, deadline) < 0)
				return -1;
			continue;
		}
		if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
			set_err(io, NETIO_EOF, "connection closed by the relay");
		else
			set_err(io, NETIO_IOERR, "write: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Reads what is available into the buffer, waiting until the deadline. 0 or -1. */
static int fill(struct netio *io, long long deadline)
{
	if (io->rstart > 0) {
		memmove(io->rbuf, io->rbuf + io->rstart, io->rend - io->rstart);
		io->rend -= io->rstart;
		io->rstart = 0;
	}
	size_t room = sizeof(io->rbuf) - io->rend;
	for (;;) {
		if (io->ssl != NULL) {
			ERR_clear_error();
			int r = SSL_read(io->ssl, io->rbuf + io->rend, (int)room);
			if (r > 0) {
				io->rend += (size_t)r;
				return 0;
			}
			if (ssl_wait(io, r, deadline, "TLS read") != 1)
				return -1;
			continue;
		}
		ssize_t n = recv(io->fd, io->rbuf + io->rend, room, 0);
		if (n > 0) {
			io->rend += (size_t)n;
			return 0;
		}
		if (n == 0) {
			set_err(io, NETIO_EOF, "connection closed by the relay");
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(io, POLLIN, deadline) < 0)
				return -1;
			continue;
		}
		if (errno == ECONNRESET)
			set_err(io, NETIO_EOF, "connection reset by the relay");
		else
			set_err(io, NETIO_IOERR, "read: %s", strerror(errno));
		return -1;
	}
}

int netio_read_line(struct netio *io, size_t max, struct str *line)
{
	long long deadline = now_ms() + io->timeout_ms;
	size_t scanned = 0; /* bytes after rstart already known to hold no LF */
	for (;;) {
		const char *start = io->rbuf + io->rstart;
		size_t avail = io->rend - io->rstart;
		const char *lf = memchr(start + scanned, '\n', avail - scanned);
		if (lf != NULL) {
			size_t n = (size_t)(lf - start) + 1; /* with the LF */
			if (n > max) {
				set_err(io, NETIO_PROTO, "reply line longer than %zu bytes", max);
				return -1;
			}
			if (n < 2 || start[n - 2] != '\r') {
				set_err(io, NETIO_PROTO, "reply line ended by a bare LF");
				return -1;
			}
			if (memchr(start, '\r', n - 2) != NULL) {
				set_err(io, NETIO_PROTO, "bare CR in a reply line");
				return -1;
			}
			*line = (struct str){start, n - 2};
			io->rstart += n;
			return 0;
		}
		scanned = avail;
		if (avail >= max) {
			set_err(io, NETIO_PROTO, "reply line longer than %zu bytes", max);
			return -1;
		}
		if (fill(io, deadline) < 0)
			return -1;
	}
}

int netio_peer_spoke(struct netio *io)
{
	if (io->rend > io->rstart)
		return 1;
	if (io->ssl != NULL && SSL_pending(io->ssl) > 0)
		return 1;
	struct pollfd p = {.fd = io->fd, .events = POLLIN};
	int n = poll(&p, 1, 0);
	return n != 0; /* readable, hung up, or poll failed: do not reuse */
}

enum netio_status netio_status(const struct netio *io)
{
	return io->status;
}

const char *netio_error(const struct netio *io)
{
	return io->err;
}
