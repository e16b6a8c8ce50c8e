/*
 * lmtp.h - the intake role of `listkeeper serve`: an LMTP server (RFC 2033)
 * on [lmtp] listen, for the MTA's transport_maps.
 *
 *   lmtp_listen_check  checks an [lmtp] listen value without binding
 *   lmtp_server_start  binds, starts the accept thread
 *   lmtp_server_addr   "HOST:PORT" actually bound
 *   lmtp_server_stop   stops accepting, ends the sessions, joins
 *
 * Recipients are judged at RCPT time and messages handled by intake/route.c
 * (route.h lists the addresses); unknown ones get 550 5.1.1.
 *
 * Each session is a thread with its own store connection (store_open; the
 * 250 waits for the spool's synced commit, intake/spool.h), at most
 * LK_LMTP_MAX_CONNECTIONS at once; past that a client gets 421 at once.
 * Logs name a list and a subscriber id, never an address.
 *
 * TRUST: every byte from the network is untrusted: the protocol is in
 * lmtp_session.c, recipients and messages go to intake/route.c.
 */
#ifndef LK_INTAKE_LMTP_H
#define LK_INTAKE_LMTP_H

#include "core/buf.h"
#include "core/conf.h"
#include "crypto/keys.h"

struct lmtp_server;

/* 0, or -1 with what to fix in err ("[lmtp] listen = ...: ..."). */
int lmtp_listen_check(const char *listen_z, struct buf *err);
/* Binds [lmtp] listen (IPV4:PORT or [IPV6]:PORT; port 0 picks a free one)
 * and serves. conf and keys must outlive the server. NULL with what to fix
 * in err. */
struct lmtp_server *lmtp_server_start(const struct conf *conf, const struct keys *keys,
				      struct buf *err);
/* "HOST:PORT" as bound (owned by the server). */
const char *lmtp_server_addr(const struct lmtp_server *s);
/* Stops accepting, shuts the open sessions down (a message in DATA is lost,
 * never half-handled), joins every thread and frees. NULL: no-op. */
void lmtp_server_stop(struct lmtp_server *s);

#endif
