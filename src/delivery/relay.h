/*
 * relay.h - where outgoing mail goes: an SMTP relay or a Maildir.
 *
 * An interface with implementations chosen by name (STYLE.md section 2):
 *   smtp:HOST:PORT   ESMTP with PIPELINING, STARTTLS, AUTH, SIZE, 8BITMIME
 *                    over [delivery] connections connections, reused
 *   maildir:PATH     each message a file in PATH/new (the demo relay)
 *
 * The engine hands over a batch; the relay sends it, spreading it over its
 * connections with up to [delivery] pipeline messages in flight on each, and
 * reports each message's fate. A batch is never larger than
 * relay_batch_max(): this is the bound on duplicates after a crash.
 *
 * TRUST: the relay's replies are untrusted: lines are bounded
 * (LK_MAX_SMTP_LINE), codes parsed strictly; reply text is stored only after
 * escaping and never logged with an address in it.
 */
#ifndef LK_DELIVERY_RELAY_H
#define LK_DELIVERY_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/conf.h"

enum relay_result {
	RELAY_SENT = 0,	 /* 2xx after DATA: the relay took it */
	RELAY_DEFER = 1, /* 4xx, a timeout or a lost connection: try again later */
	RELAY_FAIL = 2,	 /* 5xx, or not sendable (origin local): final */
};

/* Where a fate was decided (STYLE.md section 10: decided where it happens,
 * passed up as a value). Only a remote reply says something about the
 * recipient: the engine scores a hard bounce for remote-5xx (and for a
 * remote-4xx deferral past retry_max), never for local or connection. */
enum relay_origin {
	RELAY_ORIGIN_NONE,	    /* sent: nothing went wrong */
	RELAY_ORIGIN_LOCAL,	    /* ours: never handed over; relay_status.local says why */
	RELAY_ORIGIN_CONNECTION,    /* no reply: connect, TLS, a timeout, a lost connection */
	RELAY_ORIGIN_REMOTE_4XX,    /* the relay's temporary refusal (or an odd code) */
	RELAY_ORIGIN_REMOTE_5XX,    /* the relay's final refusal of the recipient or message */
	RELAY_ORIGIN_REMOTE_SENDER, /* the relay refused our MAIL FROM: the sender, the
				       session or the message's size, not the recipient */
};
const char *relay_origin_name(enum relay_origin o);
int relay_origin_parse(const char *z, enum relay_origin *out);

/* Why a message was not handed over, when the origin is local. */
enum relay_local {
	RELAY_LOCAL_NONE,
	RELAY_LOCAL_ADDRESS, /* an envelope address the client will not write */
	RELAY_LOCAL_SIZE,    /* more bytes than the relay's SIZE */
	RELAY_LOCAL_IO,	     /* the maildir could not be written */
	RELAY_LOCAL_COMPOSE, /* the engine could not compose it (never reached a relay) */
};
const char *relay_local_name(enum relay_local l);
int relay_local_parse(const char *z, enum relay_local *out);

struct relay_msg {
	const char *mail_from; /* envelope sender (VERP), no angle brackets */
	const char *rcpt_to;   /* envelope recipient */
	const char *data;      /* the message, CRLF line ends, not dot-stuffed */
	size_t len;
};

struct relay_status {
	enum relay_result result;
	enum relay_origin origin;
	enum relay_local local; /* RELAY_LOCAL_NONE unless origin is local */
	int code;		/* the SMTP reply code, or 0 (no reply: connection problem) */
	char text[200];		/* the reply, printable ASCII only, for `job show` */
};

struct relay;

/* Opens the relay that [delivery] relay names. Connections are made lazily.
 * NULL with the reason in err if the setting is malformed. */
struct relay *relay_open(const struct conf *c, struct buf *err);
void relay_close(struct relay *r);
/* The largest batch relay_send accepts (connections x pipeline). */
size_t relay_batch_max(const struct relay *r);
/* Sends n <= relay_batch_max messages; fills st[0..n). Returns 0, or -1 when
 * the relay cannot be reached at all (every st is RELAY_DEFER and *why says
 * what happened, e.g. "connect 127.0.0.1:25: Connection refused"). */
int relay_send(struct relay *r, const struct relay_msg *m, size_t n, struct relay_status *st,
	       struct buf *why);

#endif
