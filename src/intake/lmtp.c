/*
 * lmtp.c - the LMTP listener of the intake role and what it does with the
 * mail (see lmtp.h): the accept thread, a thread per session, recipient
 * routing and the handling of bounces, complaints and mailto unsubscribes.
 *
 * The protocol itself is lmtp_session.c; this file feeds it socket bytes
 * and answers its handler calls with the store.
 *
 * TRUST: client bytes only reach lmtp_session.c and bounce_parse; a
 * recipient is acted on only after its token is authenticated for the list
 * its address names. Bounds: LK_LMTP_MAX_CONNECTIONS, LK_LMTP_TIMEOUT_SECONDS,
 * LK_LMTP_BACKLOG (and those of lmtp_session.h).
 */
#include "intake/lmtp.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/limits.h"
#include "core/netaddr.h"
#include "core/log.h"
#include "core/num.h"
#include "core/xmalloc.h"
#include "crypto/token.h"
#include "intake/bounce.h"
#include "intake/lmtp_session.h"
#include "lists/lists.h"
#include "lists/person.h"
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
	atomic_long unknown_bounces;
};

/* --- [lmtp] listen --------------------------------------------------------- */

int lmtp_listen_check(const char *listen_z, struct buf *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	return netaddr_parse_listen("[lmtp] listen", listen_z, &ss, &sslen, err);
}

/* --- recipients ------------------------------------------------------------- */

enum target_kind { T_BOUNCES, T_UNSUBSCRIBE };

struct target {
	enum target_kind kind;
	int64_t list_id;
	int64_t subscriber_id;
	char list[LK_MAX_LIST_NAME + 1];
	char *addr; /* the envelope recipient, for bounce_parse; wiped */
};

struct conn {
	struct lmtp_server *srv;
	int fd;
	struct store *st;
	struct lists_ctx x;
};

static void target_drop(void *ctx, void *cookie)
{
	(void)ctx;
	struct target *t = cookie;
	if (t == NULL)
		return;
	if (t->addr != NULL)
		xfree_wipe(t->addr, strlen(t->addr));
	free(t);
}

/* Looks up a list by name and checks that it lives at domain.
 * STORE_OK (l filled), STORE_NOTFOUND, or a store error. */
static int list_at(struct conn *c, const char *name, size_t name_len, const char *domain,
		   struct list_rec *l)
{
	char z[LK_MAX_LIST_NAME + 1];
	if (name_len == 0 || name_len > LK_MAX_LIST_NAME)
		return STORE_NOTFOUND;
	memcpy(z, name, name_len);
	z[name_len] = '\0';
	struct buf err;
	buf_init(&err, 256);
	int valid = lists_name_valid(z, &err);
	buf_free(&err);
	if (!valid)
		return STORE_NOTFOUND;
	memset(l, 0, sizeof(*l));
	int r = store_list_get(c->st, z, l);
	if (r == STORE_OK && (l->domain == NULL || strcasecmp(l->domain, domain) != 0)) {
		list_rec_free(l);
		memset(l, 0, sizeof(*l));
		r = STORE_NOTFOUND;
	}
	return r;
}

/* Ends with suffix (case already folded)? Then *n is the length before it. */
static int ends_with(const char *p, size_t len, const char *suffix, size_t *n)
{
	size_t sl = strlen(suffix);
	if (len <= sl || memcmp(p + len - sl, suffix, sl) != 0)
		return 0;
	*n = len - sl;
	return 1;
}

static int rcpt_refuse(struct buf *reply, const char *line)
{
	buf_puts(reply, line);
	return 0;
}

static int on_rcpt(void *ctx, const char *addr, size_t len, void **cookie, struct buf *reply)
{
	struct conn *c = ctx;
	const char *at = memrchr(addr, '@', len);
	/* Our own VERP and mailto local parts (LIST-bounces+ and 56 characters
	 * of token) pass RFC 5321's 64 octets (section 4.5.3.1.1); MTAs take
	 * them, and so do we, up to the whole address bound. */
	if (at == NULL || at == addr)
		return rcpt_refuse(reply, "550 5.1.1 No such recipient");
	const char *domain = at + 1;
	char local[LK_MAX_ADDRESS + 1];
	size_t ll = (size_t)(at - addr);
	for (size_t i = 0; i < ll; i++)
		local[i] = (char)tolower((unsigned char)addr[i]);
	local[ll] = '\0';

	if (strcmp(local, "listkeeper") == 0)
		return rcpt_refuse(reply, "451 4.3.0 Commands by mail are not handled yet");

	/* LIST-bounces+TOKEN, LIST-unsubscribe+TOKEN: the token decides. */
	const char *plus = memchr(local, '+', ll);
	if (plus != NULL) {
		size_t base = (size_t)(plus - local), n;
		enum target_kind kind;
		enum token_purpose purpose;
		if (ends_with(local, base, "-bounces", &n)) {
			kind = T_BOUNCES;
			purpose = TOKEN_BOUNCE;
		} else if (ends_with(local, base, "-unsubscribe", &n)) {
			kind = T_UNSUBSCRIBE;
			purpose = TOKEN_UNSUBSCRIBE;
		} else {
			return rcpt_refuse(reply, "550 5.1.1 No such recipient");
		}
		struct list_rec l;
		int r = list_at(c, local, n, domain, &l);
		if (r == STORE_NOTFOUND)
			return rcpt_refuse(reply, "550 5.1.1 No such recipient");
		if (r != STORE_OK)
			return rcpt_refuse(reply,
					   "451 4.3.0 Temporary local problem, try again later");
		/* The token keeps its case: base64url (take it from addr, not local). */
		const char *tok = addr + (plus - local) + 1;
		size_t tok_len = (size_t)(at - tok);
		struct token t;
		enum token_status ts =
		    token_decode(c->x.keys, tok, tok_len, purpose, lists_now(&c->x), &t);
		if (ts != TOKEN_OK || t.list_id != (uint64_t)l.id) {
			log_info("intake: rcpt list=%s kind=%s refused: %s", l.name,
				 kind == T_BOUNCES ? "bounces" : "unsubscribe",
				 ts != TOKEN_OK ? token_status_str(ts) : "token for another list");
			list_rec_free(&l);
			return rcpt_refuse(reply, "550 5.1.1 No such recipient");
		}
		struct target *tg = xcalloc(1, sizeof(*tg));
		tg->kind = kind;
		tg->list_id = l.id;
		tg->subscriber_id = (int64_t)t.subscriber_id;
		bsnprintf(tg->list, sizeof(tg->list), "%s", l.name);
		tg->addr = xmemdup(addr, len);
		*cookie = tg;
		list_rec_free(&l);
		buf_puts(reply, "250 2.1.5 Ok");
		return 1;
	}

	/* LIST@, LIST-request@, LIST-owner@: known, handled in a later release. */
	struct list_rec l;
	int r = list_at(c, local, ll, domain, &l);
	size_t n;
	if (r == STORE_NOTFOUND && ends_with(local, ll, "-request", &n))
		r = list_at(c, local, n, domain, &l);
	if (r == STORE_NOTFOUND && ends_with(local, ll, "-owner", &n))
		r = list_at(c, local, n, domain, &l);
	if (r == STORE_OK) {
		list_rec_free(&l);
		return rcpt_refuse(reply, "451 4.3.0 Not yet handled here, try again later");
	}
	if (r == STORE_NOTFOUND)
		return rcpt_refuse(reply, "550 5.1.1 No such recipient");
	return rcpt_refuse(reply, "451 4.3.0 Temporary local problem, try again later");
}

/* --- messages ---------------------------------------------------------------- */

/* Ends one subscription (complaint or mailto), in its own transaction. */
static int unsubscribe(struct conn *c, const struct target *tg, const char *source)
{
	struct list_rec l;
	memset(&l, 0, sizeof(l));
	struct buf err;
	buf_init(&err, 1024);
	int erased = 0;
	int r = store_begin(c->st);
	if (r == STORE_OK)
		r = store_list_get_id(c->st, tg->list_id, &l);
	if (r == STORE_OK)
		r = lists_unsubscribe(&c->x, &l, tg->subscriber_id, source, &erased, &err);
	if (r == STORE_NOTFOUND) { /* gone already: nothing to do */
		log_info("intake: %s list=%s subscriber=%lld outcome=not-subscribed", source,
			 tg->list, (long long)tg->subscriber_id);
		r = STORE_OK;
	}
	if (r == STORE_OK)
		r = store_commit(c->st);
	if (r != STORE_OK) {
		log_warnx("intake: %s list=%s subscriber=%lld failed: %s", source, tg->list,
			  (long long)tg->subscriber_id,
			  err.len ? buf_cstr(&err) : store_errmsg(c->st));
		store_rollback(c->st);
	} else if (erased && store_scrub(c->st) != STORE_OK) {
		log_warnx("intake: store_scrub after an erasure failed: %s", store_errmsg(c->st));
	}
	list_rec_free(&l);
	buf_free(&err);
	return r;
}

/* A hard bounce: the score rises; at the threshold an active subscription
 * is disabled. */
static int hard_bounce(struct conn *c, const struct target *tg)
{
	int64_t threshold = conf_get_int(c->srv->conf, "lmtp", "bounce_threshold");
	struct subscription_rec sub;
	struct list_rec l;
	memset(&l, 0, sizeof(l));
	struct buf err;
	buf_init(&err, 1024);
	const char *outcome = "scored";
	int r = store_begin(c->st);
	if (r == STORE_OK)
		r = store_subscription_get(c->st, tg->list_id, tg->subscriber_id, &sub);
	if (r == STORE_OK) {
		sub.bounce_score++;
		sub.updated = lists_now(&c->x);
		r = store_subscription_put(c->st, &sub);
	}
	if (r == STORE_OK && sub.bounce_score >= threshold && sub.state == SUB_STATE_ACTIVE) {
		r = store_list_get_id(c->st, tg->list_id, &l);
		if (r == STORE_OK)
			r = lists_set_state(&c->x, &l, tg->subscriber_id, SUB_STATE_DISABLED,
					    "bounce", &err);
		outcome = "disabled";
	}
	if (r == STORE_NOTFOUND) {
		outcome = "not-subscribed";
		r = STORE_OK;
	}
	if (r == STORE_OK)
		r = store_commit(c->st);
	if (r != STORE_OK) {
		log_warnx("intake: bounce list=%s subscriber=%lld failed: %s", tg->list,
			  (long long)tg->subscriber_id,
			  err.len ? buf_cstr(&err) : store_errmsg(c->st));
		store_rollback(c->st);
	} else {
		log_info("intake: bounce list=%s subscriber=%lld kind=hard outcome=%s score=%lld",
			 tg->list, (long long)tg->subscriber_id, outcome,
			 (long long)(strcmp(outcome, "not-subscribed") ? sub.bounce_score : 0));
	}
	list_rec_free(&l);
	buf_free(&err);
	return r;
}

static void on_deliver(void *ctx, void *cookie, const char *msg, size_t len, struct buf *reply)
{
	struct conn *c = ctx;
	struct target *tg = cookie;
	int r = STORE_OK;
	if (tg->kind == T_UNSUBSCRIBE) {
		r = unsubscribe(c, tg, "email");
	} else {
		struct bounce b;
		bounce_parse(msg, len, tg->addr, strlen(tg->addr), &b);
		switch (b.kind) {
		case BOUNCE_HARD:
			r = hard_bounce(c, tg);
			break;
		case BOUNCE_COMPLAINT:
			r = unsubscribe(c, tg, "complaint");
			break;
		case BOUNCE_SOFT:
			log_info("intake: bounce list=%s subscriber=%lld kind=soft outcome=none",
				 tg->list, (long long)tg->subscriber_id);
			break;
		case BOUNCE_UNKNOWN: {
			long n = atomic_fetch_add(&c->srv->unknown_bounces, 1) + 1;
			log_info("intake: bounce list=%s subscriber=%lld kind=unknown "
				 "outcome=dropped unknown_total=%ld",
				 tg->list, (long long)tg->subscriber_id, n);
			break;
		}
		}
		bounce_free(&b);
	}
	if (r == STORE_OK)
		buf_puts(reply, "250 2.0.0 Ok");
	else
		buf_puts(reply, "451 4.3.0 Temporary local problem, try again later");
}

static const struct lmtp_handler HANDLER = {on_rcpt, on_deliver, target_drop};

/* --- sessions ----------------------------------------------------------------- */

/* Writes all of p. Returns 0 or -1. */
static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		struct pollfd pfd = {fd, POLLOUT, 0};
		int pr = poll(&pfd, 1, LK_LMTP_TIMEOUT_SECONDS * 1000);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			return -1;
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
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
	if (c->st == NULL || store_set_durable(c->st, 1) != STORE_OK) {
		log_warnx("intake: cannot open the store: %s", buf_cstr(&err));
		static const char busy[] = "421 4.3.0 Store unavailable, try again later\r\n";
		write_all(c->fd, busy, sizeof(busy) - 1);
		goto done;
	}
	memset(&c->x, 0, sizeof(c->x));
	c->x.st = c->st;
	c->x.keys = c->srv->keys;
	c->x.policy_version = conf_get(c->srv->conf, "general", "consent_version");
	c->x.actor = "intake";
	struct lmtp_session *s =
	    lmtp_session_new(&HANDLER, c, conf_get(c->srv->conf, "general", "domain"));
	lmtp_session_greet(s, &out);
	int closing = 0;
	char in[16384];
	while (!closing) {
		if (out.len > 0 && write_all(c->fd, out.data, out.len) < 0)
			break;
		buf_reset(&out);
		struct pollfd pfd = {c->fd, POLLIN, 0};
		int pr = poll(&pfd, 1, LK_LMTP_TIMEOUT_SECONDS * 1000);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0) {
			static const char idle[] = "421 4.4.2 Idle too long, closing\r\n";
			write_all(c->fd, idle, sizeof(idle) - 1);
		}
		if (pr <= 0)
			break;
		ssize_t n = recv(c->fd, in, sizeof(in), 0);
		if (n < 0 && errno == EINTR)
			continue;
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
	explicit_bzero(in, sizeof(in));
	lmtp_session_free(s);
done:
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
	atomic_init(&s->unknown_bounces, 0);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (pipe2(s->wake, O_CLOEXEC) < 0 ||
	    pthread_create(&s->accept_thread, NULL, accept_main, s) != 0) {
		buf_printf(err, "[lmtp] cannot start the listener thread");
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
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
