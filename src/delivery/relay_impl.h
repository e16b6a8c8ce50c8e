/*
 * relay_impl.h - what a relay implementation provides (internal to
 * src/delivery): a struct of function pointers chosen by the scheme of
 * [delivery] relay (STYLE.md section 2, as OpenSMTPD's queue backends).
 *
 *   relay_smtp_ops     smtp:HOST:PORT   (relay_smtp.c)
 *   relay_maildir_ops  maildir:PATH     (relay_maildir.c)
 *
 * relay.c parses the setting, resolves a relative maildir PATH against the
 * configuration file's directory, fills every status with "not sent"
 * (RELAY_DEFER, code 0) before send, and enforces n <= batch_max.
 */
#ifndef LK_DELIVERY_RELAY_IMPL_H
#define LK_DELIVERY_RELAY_IMPL_H

#include "delivery/relay.h"

struct relay_ops {
	const char *scheme;
	/* arg: the text after "scheme:" (for maildir, the resolved path). NULL
	 * with the reason in err when the settings are wrong. */
	void *(*open)(const struct conf *c, const char *arg, struct buf *err);
	void (*close)(void *impl);
	size_t (*batch_max)(const void *impl);
	/* As relay_send; n >= 1 and n <= batch_max. */
	int (*send)(void *impl, const struct relay_msg *m, size_t n, struct relay_status *st,
		    struct buf *why);
};

extern const struct relay_ops relay_smtp_ops;
extern const struct relay_ops relay_maildir_ops;

#endif
