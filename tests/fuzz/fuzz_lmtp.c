/*
 * fuzz_lmtp.c - libFuzzer driver for intake/lmtp_session.c, the LMTP
 * protocol state machine, fed from memory with a stub handler (recipients
 * whose local part starts with "ok" are accepted, "tmp" get 451, others
 * 550).
 *
 * The first input byte picks the chunk size (1..256) the rest is fed in, so
 * that lines and CR LF pairs are split across feeds. Checks: never a crash
 * or a leak; every reply is whole lines, each ending in CR LF, each starting
 * with three digits; a message handed to deliver has only CR LF line ends
 * (no bare CR or LF: SMTP smuggling), ends in CR LF, and stays within
 * LK_MAX_MESSAGE; once the session says close, it stays closed and answers
 * nothing more; deliver sees only recipients that rcpt accepted.
 * Seeds: corpus/fuzz_lmtp/.
 *
 * TRUST: the whole input is untrusted; each chunk is copied to an
 * exact-size heap block so that ASan catches any read past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/limits.h"
#include "intake/lmtp_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int live_cookies;

static int stub_rcpt(void *ctx, const char *addr, size_t len, void **cookie, struct buf *reply)
{
	(void)ctx;
	if (strlen(addr) != len || len == 0 || len > LK_MAX_ADDRESS)
		abort();
	if (len >= 2 && memcmp(addr, "ok", 2) == 0) {
		char *c = malloc(1);
		c[0] =
		    len >= 3 ? addr[2] : '\0'; /* "okX@...": recipients with one X are the same */
		*cookie = c;
		live_cookies++;
		buf_puts(reply, "250 2.1.5 Ok");
		return 1;
	}
	buf_puts(reply, len >= 3 && memcmp(addr, "tmp", 3) == 0 ? "451 4.3.0 Later"
								: "550 5.1.1 No such recipient");
	return 0;
}

static void stub_deliver(void *ctx, void *cookie, const char *msg, size_t len, struct buf *reply)
{
	(void)ctx;
	if (cookie == NULL || len > LK_MAX_MESSAGE)
		abort();
	for (size_t i = 0; i < len; i++) {
		if (msg[i] == '\r' && (i + 1 >= len || msg[i + 1] != '\n'))
			abort();
		if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
			abort();
	}
	if (len > 0 && (len < 2 || msg[len - 2] != '\r' || msg[len - 1] != '\n'))
		abort();
	buf_puts(reply, "250 2.0.0 Ok");
}

static void stub_drop(void *ctx, void *cookie)
{
	(void)ctx;
	if (cookie == NULL)
		abort();
	live_cookies--;
	free(cookie);
}

static int stub_same(void *ctx, const void *a, const void *b)
{
	(void)ctx;
	if (a == NULL || b == NULL)
		abort();
	return *(const char *)a == *(const char *)b;
}

static const struct lmtp_handler H = {stub_rcpt, stub_deliver, stub_drop, stub_same};

static void check_replies(const struct buf *out)
{
	size_t i = 0;
	while (i < out->len) {
		const char *p = out->data + i;
		const char *e = memchr(p, '\n', out->len - i);
		if (e == NULL || e == p || e[-1] != '\r')
			abort();
		size_t n = (size_t)(e - p) + 1;
		if (n < 5 || p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '9' || p[2] < '0' ||
		    p[2] > '9' || (p[3] != ' ' && p[3] != '-'))
			abort();
		for (size_t k = 0; k + 2 < n; k++)
			if (p[k] == '\r' || p[k] == '\n')
				abort();
		i += n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t chunk = (size_t)data[0] + 1;
	data++;
	size--;
	live_cookies = 0;
	struct lmtp_session *s = lmtp_session_new(&H, NULL, "fuzz.example");
	struct buf out;
	buf_init(&out, 1 << 20);
	lmtp_session_greet(s, &out);
	int closed = 0;
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		char *copy = malloc(n);
		memcpy(copy, data + off, n);
		buf_reset(&out);
		int r = lmtp_session_feed(s, copy, n, &out);
		free(copy);
		if (out.err)
			abort();
		check_replies(&out);
		if (closed && (r != 1 || out.len != 0))
			abort();
		closed = r;
	}
	if (!closed)
		lmtp_session_eof(s);
	lmtp_session_free(s);
	if (live_cookies != 0)
		abort();
	buf_free(&out);
	return 0;
}
