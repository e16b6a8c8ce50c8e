/*
 * filter.h - what the content-filter clients share (clamd: filter_clamd.h,
 * spamd: filter_spamd.h): where a filter daemon listens, one connection to
 * it with a deadline, and an error that carries its origin.
 *
 *   filter_endpoint_parse   "unix:/PATH", "/PATH", "HOST:PORT", "[V6]:PORT"
 *   filter_endpoint_name    the endpoint as text, for messages
 *   filter_conf_load        the [filter] section: which daemons, where, how long
 *   filter_exchange         connect, send a request, read the whole answer
 *                           until the daemon closes, all within one deadline
 *
 * TRUST: the endpoint is the operator's configuration. The daemon's answer
 * is untrusted: it is read into a buffer of a fixed maximum, and the parsers
 * of filter_clamd.c and filter_spamd.c take it as (ptr, len).
 */
#ifndef LK_INTAKE_FILTER_H
#define LK_INTAKE_FILTER_H

#include <stddef.h>
#include <sys/un.h>

#include "core/buf.h"
#include "core/conf.h"
#include "core/limits.h"

/* Who caused an error (STYLE.md 10): decided where it happens, never guessed
 * later from the text. */
enum filter_origin {
	FILTER_ORIGIN_NONE = 0,
	FILTER_ORIGIN_OURS, /* our configuration or our host (bad endpoint, out of sockets) */
	FILTER_ORIGIN_PEER, /* the daemon: down, silent, or an answer it should not give */
};

struct filter_error {
	enum filter_origin origin;
	int temporary;	/* 1: try again later (down, timeout, busy); 0: it will not get better */
	char text[256]; /* ours; the daemon's own words only as printable ASCII, never post bytes */
};

/* Fills err (origin, temporary, printf-formatted text); returns -1 so that a
 * caller can `return filter_fail(...)`. */
int filter_fail(struct filter_error *err, enum filter_origin origin, int temporary, const char *fmt,
		...) __attribute__((format(printf, 4, 5)));
/* The origin's name: "ours", "peer" ("" for none). */
const char *filter_origin_name(enum filter_origin o);

struct filter_endpoint {
	int is_unix;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* is_unix */
	char host[LK_MAX_DOMAIN + 1];				/* else */
	char port[6];
};

/* Parses spec: "unix:/PATH" or an absolute "/PATH" (a Unix socket),
 * "HOST:PORT" or "[IPV6]:PORT" (TCP; PORT 1 to 65535). Returns 0, or -1 with
 * a message naming key ("[filter] clamd") appended to err. */
int filter_endpoint_parse(const char *key, const char *spec, struct filter_endpoint *ep,
			  struct buf *err);
/* "unix:/PATH" or "HOST:PORT" into out (cap bytes, truncated). */
void filter_endpoint_name(const struct filter_endpoint *ep, char *out, size_t cap);

/* One request and its answer: connects to ep, writes the n pieces of req in
 * order, shuts down nothing, reads until the daemon closes the connection
 * into reply (whose max bounds the answer: past it is a protocol error of
 * the peer), all within timeout_ms from the call. A write that fails because
 * the daemon closed early (it refuses a stream too big) is not an error in
 * itself: what it answered before closing is returned. Returns 0, or -1 with
 * err filled: connect refused or no socket = the daemon is down (peer,
 * temporary), no progress before the deadline (peer, temporary), out of
 * sockets (ours, temporary). `what` names the daemon in messages ("clamd"). */
int filter_exchange(const char *what, const struct filter_endpoint *ep, int timeout_ms,
		    const struct str *req, size_t n, struct buf *reply, struct filter_error *err);

/* The spam scorer chosen by [filter] spam. */
enum filter_spam_kind {
	FILTER_SPAM_NONE = 0,
	FILTER_SPAM_SPAMD, /* "spamd:ENDPOINT" */
};

/* The [filter] section, read once. */
struct filter_conf {
	int clamd_on; /* [filter] clamd is not "none" */
	struct filter_endpoint clamd;
	enum filter_spam_kind spam;
	struct filter_endpoint spamd;
	int timeout_ms; /* [filter] timeout_seconds */
};

/* Reads [filter] clamd, spam and timeout_seconds. Returns 0, or -1 with a
 * message naming the key appended to err. */
int filter_conf_load(const struct conf *c, struct filter_conf *out, struct buf *err);

#endif
