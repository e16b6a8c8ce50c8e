/*
 * lmtp.c - the LMTP listener of the intake role (see lmtp.h): the accept
 * thread and a thread per session.
 *
 * The protocol itself is lmtp_session.c; this file feeds it socket bytes
 * and answers its handler calls with intake/route.c (which `inject` uses
 * too), over the session's own store connection.
 *
 * TRUST: client bytes only reach lmtp_session.c and intake/route.c.
 * Bounds: LK_LMTP_MAX_CONNECTIONS, LK_LMTP_TIMEOUT_SECONDS, LK_LMTP_BACKLOG
 * (and those of lmtp_session.h).
 */
#include "intake/lmtp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/limits.h"
#include "core/netaddr.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "intake/lmtp_session.h"
#include "intake/route.h"
#include "intake/spool.h"
#include "store/store.h"

struct lmtp_server {
	const struct conf *conf;
	const struct keys *keys;
	int fd;
	int wake[2]; /* a byte here stops the accept thread */
	char addr[80];
	pthread_t accept_thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stopping;
	int nconn;
	int conn_fd[LK_LMTP_MAX_CONNECTIONS]; /* -1: free slot */
	struct intake_spool *spool;	      /* handles what the sessions spooled */
};

/* --- [lmtp] listen --------------------------------------------------------- */

int lmtp_listen_check(const char *listen_z, struct buf *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	return netaddr_parse_listen("[lmtp] listen", listen_z, &ss, &sslen, err);
}

/* --- recipients and messages: intake/route.c ------------------------------- */

struct conn {
	struct lmtp_server *srv;
	int fd;
	struct store *st;
	struct intake *in;
	int spooled; /* kick the spool worker once the replies are written */
};

/* An accepted recipient: judged now, handled from the spool (spool.h). */
struct rcpt {
	struct intake_target *t;
	char *addr; /* wiped */
	size_t len;
};

static int on_rcpt(void *ctx, const char *addr, size_t len, void **cookie, struct buf *reply)
{
	struct conn *c = ctx;
	struct intake_target *t = NULL;
	struct intake_result res;
	enum intake_verdict v = intake_rcpt(c->in, addr, len, &t, &res);
	buf_puts(reply, res.line);
	if (v == INTAKE_OK) {
		struct rcpt *r = xcalloc(1, sizeof(*r));
		r->t = t;
		r->addr = xmemdup(addr, len);
		r->len = len;
		*cookie = r;
	} else {
		intake_target_free(t);
	}
	return v == INTAKE_OK;
}

/* 250 once the message is in the spool, synced (intake_spool_submit: one
 * commit for all sessions at once); the spool worker handles it after. */
static void on_deliver(void *ctx, void *cookie, const char *msg, size_t len, struct buf *reply)
{
	struct conn *c = ctx;
	struct rcpt *r = cookie;
	if (intake_spool_submit(c->srv->spool, r->addr, r->len, msg, len) != STORE_OK) {
		buf_puts(reply, "451 4.3.0 Temporary local problem, try again later");
		return;
	}
	c->spooled = 1;
	buf_puts(reply, "250 2.0.0 Ok");
}

static void on_drop(void *ctx, void *cookie)
{
	(void)ctx;
	struct rcpt *r = cookie;
	if (r == NULL)
		return;
	intake_target_free(r->t);
	xfree_wipe(r->addr, r->len);
	free(r);
}

/* Two recipients of one transaction that are one handling (route.h). */
static int on_same(void *ctx, const void *a, const void *b)
{
	(void)ctx;
	return intake_target_same(((const struct rcpt *)a)->t, ((const struct rcpt *)b)->t);
}

static const struct lmtp_handler HANDLER = {on_rcpt, on_deliver, on_drop, on_same};

/* --- sessions ----------------------------------------------------------------- */

/* Writes all of p: sent at once when the socket has room (a reply almost
 * always has), polled for room otherwise. Returns 0 or -1. */
static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = {fd, POLLOUT, 0};
			int pr = poll(&pfd, 1, LK_LMTP_TIMEOUT_SECONDS * 1000);
			if (pr < 0 && errno == EINTR)
				continue;
			if (pr <= 0)
				return -1;
			continue;
		}
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void session(struct conn *c)
{
	struct buf out, err;
	buf_init(&out, 64 << 10);
	buf_init(&err, 1024);
	c->st = store_open(c->srv->conf, 0, &err);
	if (c->st == NULL) {
		log_warnx("intake: cannot open the store: %s", buf_cstr(&err));
		static const char busy[] = "421 4.3.0 Store unavailable, try again later\r\n";
		write_all(c->fd, busy, sizeof(busy) - 1);
		goto done;
	}
	c->in = intake_new(c->srv->conf, c->srv->keys, c->st, NULL); /* recipients only */
	struct lmtp_session *s =
	    lmtp_session_new(&HANDLER, c, conf_get(c->srv->conf, "general", "domain"));
	lmtp_session_greet(s, &out);
	/* recv waits at most the idle timeout (no poll before each read: one
	 * system call less per round trip, four a message) */
	struct timeval tv = {LK_LMTP_TIMEOUT_SECONDS, 0};
	int closing = 0;
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		log_warn("intake: cannot set the idle timeout");
		static const char busy[] = "421 4.3.0 Local problem, try again later\r\n";
		write_all(c->fd, busy, sizeof(busy) - 1);
		closing = 1;
	}
	char in[16384];
	while (!closing) {
		if (out.len > 0 && write_all(c->fd, out.data, out.len) < 0)
			break;
		buf_reset(&out);
		if (c->spooled) { /* handled only after its 250 is out */
			intake_spool_kick(c->srv->spool);
			c->spooled = 0;
		}
		ssize_t n = recv(c->fd, in, sizeof(in), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			static const char idle[] = "421 4.4.2 Idle too long, closing\r\n";
			write_all(c->fd, idle, sizeof(idle) - 1);
			break;
		}
		if (n <= 0) {
			if (lmtp_session_eof(s))
				log_info(
				    "intake: the client left during DATA; that message is lost");
			break;
		}
		closing = lmtp_session_feed(s, in, (size_t)n, &out);
		if (closing && out.len > 0)
			write_all(c->fd, out.data, out.len);
	}
	if (c->spooled)
		intake_spool_kick(c->srv->spool);
	explicit_bzero(in, sizeof(in));
	lmtp_session_free(s);
done:
	intake_free(c->in);
	store_close(c->st);
	buf_free(&out);
	buf_free(&err);
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct lmtp_server *srv = c->srv;
	session(c);
	pthread_mutex_lock(&srv->mu);
	for (int i = 0; i < LK_LMTP_MAX_CONNECTIONS; i++)
		if (srv->conn_fd[i] == c->fd)
			srv->conn_fd[i] = -1;
	close(c->fd);
	srv->nconn--;
	pthread_cond_broadcast(&srv->cv);
	pthread_mutex_unlock(&srv->mu);
	free(c);
	return NULL;
}

static void refuse(int fd, const char *line)
{
	/* Best effort, never blocking the accept loop. */
	ssize_t n = send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)n;
	close(fd);
}

static void *accept_main(void *arg)
{
	struct lmtp_server *srv = arg;
	for (;;) {
		struct pollfd pfd[2] = {{srv->fd, POLLIN, 0}, {srv->wake[0], POLLIN, 0}};
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("intake: poll");
			break;
		}
		if (pfd[1].revents)
			break;
		int fd = accept4(srv->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("intake: accept");
			if (errno == EMFILE || errno == ENFILE)
				usleep(100000);
			continue;
		}
		pthread_mutex_lock(&srv->mu);
		int slot = -1;
		for (int i = 0; i < LK_LMTP_MAX_CONNECTIONS && slot < 0; i++)
			if (srv->conn_fd[i] < 0)
				slot = i;
		if (srv->stopping || slot < 0) {
			pthread_mutex_unlock(&srv->mu);
			refuse(fd, "421 4.3.2 Too many connections, try again later\r\n");
			continue;
		}
		struct conn *c = xcalloc(1, sizeof(*c));
		c->srv = srv;
		c->fd = fd;
		pthread_t t;
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, conn_main, c) != 0) {
			pthread_mutex_unlock(&srv->mu);
			free(c);
			refuse(fd, "421 4.3.2 Cannot start a session, try again later\r\n");
		} else {
			srv->conn_fd[slot] = fd;
			srv->nconn++;
			pthread_mutex_unlock(&srv->mu);
		}
		pthread_attr_destroy(&attr);
	}
	return NULL;
}

/* --- start and stop ------------------------------------------------------------ */

struct lmtp_server *lmtp_server_start(const struct conf *conf, const struct keys *keys,
				      struct buf *err)
{
	const char *listen_z = conf_get(conf, "lmtp", "listen");
	struct sockaddr_storage ss;
	socklen_t sslen;
	if (netaddr_parse_listen("[lmtp] listen", listen_z, &ss, &sslen, err) < 0)
		return NULL;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		buf_printf(err, "[lmtp] listen = %s: socket: %s", listen_z, strerror(errno));
		return NULL;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, LK_LMTP_BACKLOG) < 0) {
		buf_printf(err, "[lmtp] listen = %s: cannot listen there: %s", listen_z,
			   strerror(errno));
		close(fd);
		return NULL;
	}
	struct sockaddr_storage got;
	socklen_t gotlen = sizeof(got);
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (getsockname(fd, (struct sockaddr *)&got, &gotlen) == 0) {
		if (got.ss_family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&got;
			inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
			port = ntohs(a->sin_port);
		} else {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&got;
			inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
			port = ntohs(a->sin6_port);
		}
	}
	struct lmtp_server *s = xcalloc(1, sizeof(*s));
	s->conf = conf;
	s->keys = keys;
	s->fd = fd;
	bsnprintf(s->addr, sizeof(s->addr), got.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host,
		  port);
	for (int i = 0; i < LK_LMTP_MAX_CONNECTIONS; i++)
		s->conn_fd[i] = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	/* The spool worker first: it handles what an earlier run left. */
	s->spool = intake_spool_start(conf, keys, err);
	if (s->spool == NULL || pipe2(s->wake, O_CLOEXEC) < 0 ||
	    pthread_create(&s->accept_thread, NULL, accept_main, s) != 0) {
		if (err->len == 0)
			buf_printf(err, "[lmtp] cannot start the listener thread");
		intake_spool_stop(s->spool);
		close(fd);
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
		free(s);
		return NULL;
	}
	return s;
}

const char *lmtp_server_addr(const struct lmtp_server *s)
{
	return s->addr;
}

void lmtp_server_stop(struct lmtp_server *s)
{
	if (s == NULL)
		return;
	char b = 1;
	if (write(s->wake[1], &b, 1) != 1)
		log_warn("intake: cannot wake the listener");
	pthread_join(s->accept_thread, NULL);
	close(s->fd);
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	for (int i = 0; i < LK_LMTP_MAX_CONNECTIONS; i++)
		if (s->conn_fd[i] >= 0)
			shutdown(s->conn_fd[i], SHUT_RDWR);
	while (s->nconn > 0)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	close(s->wake[0]);
	close(s->wake[1]);
	intake_spool_stop(s->spool);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
