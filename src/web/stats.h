/*
 * stats.h - visit statistics kept only as daily aggregates (P6), the open
 * pixel (P5) and /metrics (P12).
 *
 *   stats_new / stats_free   the in-memory aggregator and its flush thread
 *   stats_count              count one answered GET (a page view, if it was
 *                            an HTML page): route, browser family, country
 *   stats_pixel_match/stats_pixel      /o/JOB-TOKEN.gif: count an open, answer
 *                            the 43-byte GIF
 *   stats_metrics_match/stats_metrics  /metrics in Prometheus text format
 *   stats_flush              write what was counted to the store now
 *
 * What is counted, per UTC day: page views by route pattern ("/l/NAME",
 * "/c/TOKEN", never the path with its token), by browser family
 * (web/useragent.h) and, with [stats] geoip, by country; each under the list
 * the page is about (0 when none). Open-pixel hits per job, with the unique
 * opens in a HyperLogLog sketch (core/hll.h) fed with a keyed hash of the
 * pixel's recipient hash: no person, address, user agent or visit is
 * recorded anywhere, in memory past the request or in the store.
 *
 * Counting takes a mutex for a few comparisons: page answers never wait for
 * the store. A thread writes the counts to the store (stats_daily, through
 * store_stats_add) every [stats] flush_seconds and at stats_free; if the
 * store is busy they stay in memory for the next try. The table in memory is
 * bounded (STATS_MAX_ENTRIES counters, STATS_MAX_SKETCHES sketches); past
 * it, counts are dropped and the drops counted (listkeeper_stats_dropped_total).
 *
 * Open pixels of jobs that do not exist are dropped at the flush; the pixel
 * URL is not authenticated (it names a job and a keyed hash of the
 * recipient, made by delivery/engine.c), so a forged URL for a real job can
 * add to its count: the figure is an indication, not a proof.
 *
 * Thread-safe. TRUST: urls, user agents and addresses are untrusted; they
 * are classified into bounded keys and dropped.
 */
#ifndef LK_WEB_STATS_H
#define LK_WEB_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/conf.h"
#include "crypto/keys.h"
#include "store/store.h"
#include "web/pages.h"

#define STATS_MAX_ENTRIES 1024
#define STATS_MAX_SKETCHES 64

struct stats;

/* Reads [stats] (opens the GeoIP database when configured) and starts the
 * flush thread. conf and keys must outlive it. NULL with what to fix in err. */
struct stats *stats_new(const struct conf *conf, const struct keys *keys, struct buf *err);
/* Stops the thread, flushes what is left, frees. NULL does nothing. */
void stats_free(struct stats *s);

/* Counts a GET of url answered with status and content_type: a page view
 * when the answer is an HTML page. ua (ua_len bytes, may be NULL) and client
 * (may be NULL) are read and dropped. */
void stats_count(struct stats *s, const char *url, unsigned status, const char *content_type,
		 const char *ua, size_t ua_len, const struct sockaddr *client);

int stats_pixel_match(const char *url);
/* Counts the open if url is a well-formed pixel URL, and always fills out
 * with the same GIF (no-store): a bad token is not told apart. */
void stats_pixel(struct stats *s, const char *url, struct page *out);

int stats_metrics_match(const char *url);
/* The metrics for a client in [stats] metrics_allow, else a 404 page. st may
 * be NULL (the gauges from the store are left out). */
void stats_metrics(struct stats *s, struct store *st, const struct sockaddr *client,
		   const struct site *site, struct page *out);

/* Writes the counts to st in one transaction. 0, or -1 (logged) with the
 * counts kept for the next try. */
int stats_flush(struct stats *s, struct store *st);

#endif
