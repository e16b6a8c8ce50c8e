/*
 * connguard.c - per-network connection caps and the request deadline for
 * the web listener (see connguard.h).
 *
 * The open connections are a list under one mutex (at most
 * LK_HTTP_MAX_CONNECTIONS of them): the count of a network is the number of
 * its entries, so nothing is kept about a network that has none open. The
 * reaper wakes every LK_HTTP_REAP_MS and shuts down the connections whose
 * request began more than the deadline ago.
 *
 * TRUST: addresses come from the kernel (accept), not from the request.
 */
#include "web/connguard.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/limits.h"
#include "core/xmalloc.h"

struct guarded {
	uint8_t net[8]; /* IPv4 address or IPv6 /64; len 0: not counted */
	size_t net_len;
	int fd;
	int64_t start_ms; /* when the current request began */
	int answering;	  /* its request is in: no deadline */
	int cut;	  /* shut down already */
	struct guarded *prev, *next;
};

struct connguard {
	size_t max_per_net;
	int64_t timeout_ms;
	const struct netaddr_cidr *proxies;
	size_t n_proxies;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stopping; /* under mu */
	struct guarded *head;
	pthread_t reaper;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The network of addr into net: 4 bytes of IPv4, the /64 of IPv6 (one host
 * usually has the whole /64); 0 for a trusted proxy or another family. */
static size_t net_of(const struct connguard *g, const struct sockaddr *addr, uint8_t net[8])
{
	if (addr == NULL ||
	    (g->n_proxies > 0 && netaddr_cidr_match(g->proxies, g->n_proxies, addr)))
		return 0;
	if (addr->sa_family == AF_INET) {
		memcpy(net, &((const struct sockaddr_in *)addr)->sin_addr, 4);
		return 4;
	}
	if (addr->sa_family == AF_INET6) {
		memcpy(net, &((const struct sockaddr_in6 *)addr)->sin6_addr, 8);
		return 8;
	}
	return 0;
}

/* Connections open from net (under mu). */
static size_t count_of(const struct connguard *g, const uint8_t *net, size_t len)
{
	size_t n = 0;
	for (const struct guarded *c = g->head; c != NULL; c = c->next)
		n += c->net_len == len && memcmp(c->net, net, len) == 0;
	return n;
}

/* Under mu: the stream ends for the library, which then closes it. */
static void cut(struct guarded *c)
{
	if (!c->cut) {
		shutdown(c->fd, SHUT_RDWR);
		c->cut = 1;
	}
}

static void *reaper_main(void *arg)
{
	struct connguard *g = arg;
	pthread_setname_np(pthread_self(), "lk-web-reaper");
	pthread_mutex_lock(&g->mu);
	while (!g->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long)(LK_HTTP_REAP_MS % 1000) * 1000000L;
		until.tv_sec += LK_HTTP_REAP_MS / 1000 + until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&g->cv, &g->mu, &until);
		int64_t now = now_ms();
		for (struct guarded *c = g->head; c != NULL; c = c->next)
			if (!c->answering && now - c->start_ms > g->timeout_ms)
				cut(c);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

struct connguard *connguard_new(size_t max_per_net, int timeout_s,
				const struct netaddr_cidr *proxies, size_t n_proxies)
{
	struct connguard *g = xcalloc(1, sizeof(*g));
	g->max_per_net = max_per_net;
	g->timeout_ms = (int64_t)(timeout_s > 0 ? timeout_s : 1) * 1000;
	g->proxies = proxies;
	g->n_proxies = n_proxies;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	if (pthread_create(&g->reaper, NULL, reaper_main, g) != 0) {
		pthread_cond_destroy(&g->cv);
		pthread_mutex_destroy(&g->mu);
		free(g);
		return NULL;
	}
	return g;
}

void connguard_free(struct connguard *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->stopping = 1;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->reaper, NULL);
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

int connguard_admit(struct connguard *g, const struct sockaddr *addr)
{
	uint8_t net[8];
	size_t len = net_of(g, addr, net);
	if (g->max_per_net == 0 || len == 0)
		return 1;
	pthread_mutex_lock(&g->mu);
	int ok = count_of(g, net, len) < g->max_per_net;
	pthread_mutex_unlock(&g->mu);
	sodium_memzero(net, sizeof(net));
	return ok;
}

struct guarded *connguard_open(struct connguard *g, const struct sockaddr *addr, int fd)
{
	struct guarded *c = xcalloc(1, sizeof(*c));
	c->net_len = net_of(g, addr, c->net);
	c->fd = fd;
	c->start_ms = now_ms();
	pthread_mutex_lock(&g->mu);
	/* Two admits may race; the count is exact here. */
	if (g->max_per_net > 0 && c->net_len > 0 &&
	    count_of(g, c->net, c->net_len) >= g->max_per_net)
		cut(c);
	c->next = g->head;
	if (g->head != NULL)
		g->head->prev = c;
	g->head = c;
	pthread_mutex_unlock(&g->mu);
	return c;
}

void connguard_close(struct connguard *g, struct guarded *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		g->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&g->mu);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

void connguard_answering(struct connguard *g, struct guarded *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	c->answering = 1;
	pthread_mutex_unlock(&g->mu);
}

void connguard_next(struct connguard *g, struct guarded *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	c->answering = 0;
	c->start_ms = now_ms();
	pthread_mutex_unlock(&g->mu);
}
