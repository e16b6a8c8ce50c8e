/*
 * ratelimit.c - fixed-size table of fixed-window counters (see ratelimit.h).
 *
 * Open addressing with RATELIMIT_PROBES linear probes from the key's hash.
 * A slot is free when its window has ended; when none of the probed slots is
 * free or the key's own, the oldest is taken over.
 *
 * TRUST: key bytes are untrusted and only hashed (crypto_shorthash, keyed).
 */
#include "web/ratelimit.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

#define RATELIMIT_PROBES 8

struct slot {
	uint64_t key; /* 0: never used */
	int64_t start;
	int64_t count;
};

struct ratelimit {
	pthread_mutex_t mu;
	uint8_t hkey[crypto_shorthash_KEYBYTES];
	int64_t max[3]; /* by kind */
	int64_t window;
	struct slot slot[RATELIMIT_SLOTS];
};

struct ratelimit *ratelimit_new(int64_t client_max, int64_t list_max, int64_t window)
{
	struct ratelimit *rl = xcalloc(1, sizeof(*rl));
	pthread_mutex_init(&rl->mu, NULL);
	randombytes_buf(rl->hkey, sizeof(rl->hkey));
	rl->max[RATELIMIT_CLIENT] = client_max;
	rl->max[RATELIMIT_LIST] = list_max;
	rl->window = window > 0 ? window : 1;
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->mu);
	sodium_memzero(rl, sizeof(*rl));
	free(rl);
}

static uint64_t key_of(const struct ratelimit *rl, enum ratelimit_kind kind, const void *p,
		       size_t len)
{
	uint8_t in[1 + 64];
	uint8_t out[crypto_shorthash_BYTES];
	if (len > sizeof(in) - 1)
		len = sizeof(in) - 1;
	in[0] = (uint8_t)kind;
	if (len > 0)
		memcpy(in + 1, p, len);
	crypto_shorthash(out, in, 1 + len, rl->hkey);
	sodium_memzero(in, sizeof(in));
	uint64_t k;
	memcpy(&k, out, sizeof(k));
	return k != 0 ? k : 1; /* 0 marks a slot never used */
}

int ratelimit_hit(struct ratelimit *rl, enum ratelimit_kind kind, const void *p, size_t len,
		  int64_t now)
{
	int64_t max = rl->max[kind];
	if (max <= 0)
		return 1;
	uint64_t k = key_of(rl, kind, p, len);
	pthread_mutex_lock(&rl->mu);
	struct slot *use = NULL, *oldest = NULL;
	for (size_t i = 0; i < RATELIMIT_PROBES; i++) {
		struct slot *s = &rl->slot[(k + i) & (RATELIMIT_SLOTS - 1)];
		int live = s->key != 0 && s->start <= now && now - s->start < rl->window;
		if (s->key == k && live) {
			use = s;
			break;
		}
		if (!live && use == NULL)
			use = s; /* free, unless the key turns up further on */
		if (oldest == NULL || s->start < oldest->start)
			oldest = s;
	}
	if (use == NULL)
		use = oldest;
	if (use->key != k || use->start > now || now - use->start >= rl->window) {
		use->key = k;
		use->start = now;
		use->count = 0;
	}
	int ok = use->count < max;
	if (ok)
		use->count++;
	pthread_mutex_unlock(&rl->mu);
	return ok;
}
