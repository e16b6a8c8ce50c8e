/*
 * rand.c - a per-thread pool of random bytes (see rand.h).
 *
 * After fork() the child's copy of the pool is the parent's: it is wiped in
 * the child (pthread_atfork), so that no byte is ever handed out twice.
 *
 * TRUST: no outside input.
 */
#include "crypto/rand.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

#define POOL 4096

static _Thread_local struct {
	unsigned char bytes[POOL];
	size_t used; /* bytes[used..POOL) are fresh */
	int filled;
} pool;

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void after_fork_child(void)
{
	sodium_memzero(&pool, sizeof(pool));
}

static void register_fork_handler(void)
{
	pthread_atfork(NULL, NULL, after_fork_child);
}

void rand_bytes(void *p, size_t n)
{
	unsigned char *out = p;
	pthread_once(&once, register_fork_handler);
	if (n >= POOL / 4) { /* large draws go straight to the source */
		randombytes_buf(p, n);
		return;
	}
	while (n > 0) {
		if (!pool.filled || pool.used == POOL) {
			randombytes_buf(pool.bytes, POOL);
			pool.used = 0;
			pool.filled = 1;
		}
		size_t k = POOL - pool.used;
		if (k > n)
			k = n;
		memcpy(out, pool.bytes + pool.used, k);
		sodium_memzero(pool.bytes + pool.used, k);
		pool.used += k;
		out += k;
		n -= k;
	}
}
