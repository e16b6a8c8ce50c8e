/*
 * ratelimit.h - in-memory rate limits of the web role: subscribe requests
 * per client address and per list, in fixed windows.
 *
 *   ratelimit_new / ratelimit_free  a table of RATELIMIT_SLOTS counters
 *   ratelimit_hit                   count one request for a key; 1 if allowed
 *
 * A key is a kind (RATELIMIT_CLIENT, RATELIMIT_LIST) and some bytes (the
 * client's address, a list id). The bytes are never kept: the table holds a
 * 64-bit SipHash of them under a key drawn at random when the table is made,
 * so that no IP address lives in memory past the request (P6) and an
 * attacker cannot aim keys at one slot. The table is fixed in size; when the
 * slots a key may use are all live, the one whose window started first is
 * given up, so that a flood of addresses can at worst reset some counters,
 * never grow memory. The limits are per process: with several web nodes
 * each counts for itself (the per-address limit on mail is in the store).
 *
 * Thread-safe: one mutex around the table (held for a few probes).
 *
 * TRUST: the key bytes are untrusted; only their hash is used.
 */
#ifndef LK_WEB_RATELIMIT_H
#define LK_WEB_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_SLOTS 4096 /* a power of two */

enum ratelimit_kind { RATELIMIT_CLIENT = 1, RATELIMIT_LIST = 2 };

struct ratelimit;

/* max requests per window seconds for each kind; 0: no limit for it. */
struct ratelimit *ratelimit_new(int64_t client_max, int64_t list_max, int64_t window);
/* NULL does nothing. */
void ratelimit_free(struct ratelimit *rl);
/* Counts one request for (kind, p, len) at now. Returns 1 if it is within
 * the limit (and counted), 0 if over it (not counted). */
int ratelimit_hit(struct ratelimit *rl, enum ratelimit_kind kind, const void *p, size_t len,
		  int64_t now);

#endif
