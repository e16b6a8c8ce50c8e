/*
 * netio.h - one outgoing TCP connection with deadlines and optional TLS
 * (internal to src/delivery; the SMTP client sits on top of it).
 *
 *   netio_connect    resolves HOST, connects (non-blocking, poll() timeout)
 *   netio_starttls   TLS over the open socket (OpenSSL), peer verified or not
 *   netio_write      writes all bytes or fails
 *   netio_read_line  one CRLF-terminated line, bounded
 *   netio_free       closes
 *
 * Every wait is a poll() bounded by the timeout given at connect time: a
 * silent peer costs at most that long per step, never a hang.
 *
 * TRUST: the peer is untrusted. A line longer than the bound, a bare LF or a
 * bare CR is a protocol error (STYLE.md section 4: only CRLF ends a line).
 * Errors are kept as text in the object (netio_error), never with peer data.
 *
 * Threads: one netio is used by one thread at a time. SIGPIPE: plain writes use
 * MSG_NOSIGNAL; OpenSSL writes with write(2), so the threads that use TLS
 * connections must block SIGPIPE (relay_smtp.c does).
 */
#ifndef LK_DELIVERY_NETIO_H
#define LK_DELIVERY_NETIO_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "core/buf.h"

enum netio_status {
	NETIO_OK = 0,
	NETIO_EOF,     /* the peer closed the connection */
	NETIO_TIMEOUT, /* no progress within the timeout */
	NETIO_IOERR,   /* a system or TLS error */
	NETIO_PROTO,   /* a line too long, or not ended by CRLF */
};

struct netio;

/* Connects to host:port, trying each address in turn. NULL with the reason in
 * why ("connect 127.0.0.1:25: Connection refused"). The caller frees. */
struct netio *netio_connect(const char *host, const char *port, int timeout_ms, struct buf *why);
/* Closes the connection (a TLS close_notify is attempted, not awaited). NULL: no-op. */
void netio_free(struct netio *io);

/* Starts TLS as a client. verify: check the certificate chain against ctx's
 * trust store and that it names host (a DNS name or an IP literal). Returns 0,
 * or -1 with the reason in why (e.g. "certificate verify failed: self-signed
 * certificate"). Bytes already buffered from the peer make it fail: they
 * would have been sent before the handshake (CVE-2011-0411). */
int netio_starttls(struct netio *io, SSL_CTX *ctx, const char *host, int verify, struct buf *why);
int netio_is_tls(const struct netio *io);

/* Writes len bytes. Returns 0 or -1 (status and netio_error say why). */
int netio_write(struct netio *io, const void *p, size_t len);
/* Reads one line of at most max bytes including its CRLF. On success *line
 * is the line without CRLF, valid until the next call. Returns 0 or -1. */
int netio_read_line(struct netio *io, size_t max, struct str *line);
/* 1 if the peer has sent something or closed while we were not expecting it
 * (a connection kept idle must then not be reused); 0 otherwise. Never blocks. */
int netio_peer_spoke(struct netio *io);

enum netio_status netio_status(const struct netio *io);
/* The last error as text (no peer data), "" if none. */
const char *netio_error(const struct netio *io);

#endif
