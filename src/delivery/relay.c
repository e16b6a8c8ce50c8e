/*
 * relay.c - [delivery] relay: picks the implementation by its scheme and
 * forwards to it (relay.h is the contract, relay_impl.h the plug).
 *
 *   smtp:HOST:PORT   smtp:[IPV6]:PORT also    -> relay_smtp.c
 *   maildir:PATH     relative to the configuration file's directory
 *                                             -> relay_maildir.c
 *
 * TRUST: the setting is operator input, checked here and by the
 * implementation; nothing from a peer passes through this file.
 */
#include "delivery/relay.h"

#include "core/nametab.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "delivery/relay_impl.h"

struct relay {
	const struct relay_ops *ops;
	void *impl;
};

static const struct relay_ops *const OPS[] = {&relay_smtp_ops, &relay_maildir_ops};

/* PATH as conf_get_path would resolve it: against the configuration file's
 * directory, unless absolute or there is no file. The caller frees. */
static char *resolve_path(const struct conf *c, const char *path)
{
	const char *file = conf_file(c);
	if (path[0] == '/' || file == NULL)
		return xstrdup(path);
	char *tmp = xstrdup(file);
	struct buf b;
	buf_init(&b, LK_MAX_PATH);
	buf_printf(&b, "%s/%s", dirname(tmp), path);
	free(tmp);
	if (b.err) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}

struct relay *relay_open(const struct conf *c, struct buf *err)
{
	const char *spec = conf_get(c, "delivery", "relay");
	const char *colon = strchr(spec, ':');
	const struct relay_ops *ops = NULL;
	for (size_t i = 0; colon != NULL && i < sizeof(OPS) / sizeof(OPS[0]); i++)
		if (strlen(OPS[i]->scheme) == (size_t)(colon - spec) &&
		    memcmp(OPS[i]->scheme, spec, (size_t)(colon - spec)) == 0)
			ops = OPS[i];
	if (ops == NULL || colon[1] == '\0') {
		buf_printf(err, "[delivery] relay = %s: expected smtp:HOST:PORT or maildir:PATH",
			   spec);
		return NULL;
	}
	const char *arg = colon + 1;
	char *resolved = NULL;
	if (ops == &relay_maildir_ops) {
		resolved = resolve_path(c, arg);
		if (resolved == NULL) {
			buf_printf(err, "[delivery] relay: the maildir path is too long");
			return NULL;
		}
		arg = resolved;
	}
	void *impl = ops->open(c, arg, err);
	free(resolved);
	if (impl == NULL)
		return NULL;
	struct relay *r = xcalloc(1, sizeof(*r));
	r->ops = ops;
	r->impl = impl;
	return r;
}

void relay_close(struct relay *r)
{
	if (r == NULL)
		return;
	r->ops->close(r->impl);
	free(r);
}

size_t relay_batch_max(const struct relay *r)
{
	return r->ops->batch_max(r->impl);
}

static const char *const ORIGINS[] = {"none",	    "local",	  "connection",
				      "remote-4xx", "remote-5xx", "remote-sender"};
static const struct nametab relay_origin_names = NAMETAB(ORIGINS);
static const char *const LOCALS[] = {"none", "address-refused", "over-size", "io-error",
				     "not-composed"};
static const struct nametab relay_local_names = NAMETAB(LOCALS);

const char *relay_origin_name(enum relay_origin o)
{
	return nametab_name(&relay_origin_names, (int)o);
}

int relay_origin_parse(const char *z, enum relay_origin *out)
{
	int v;
	if (nametab_parse(&relay_origin_names, z, &v) < 0)
		return -1;
	*out = (enum relay_origin)v;
	return 0;
}

const char *relay_local_name(enum relay_local l)
{
	return nametab_name(&relay_local_names, (int)l);
}

int relay_local_parse(const char *z, enum relay_local *out)
{
	int v;
	if (nametab_parse(&relay_local_names, z, &v) < 0)
		return -1;
	*out = (enum relay_local)v;
	return 0;
}

int relay_send(struct relay *r, const struct relay_msg *m, size_t n, struct relay_status *st,
	       struct buf *why)
{
	if (n > relay_batch_max(r)) {
		/* A bug in the caller: the batch bounds the duplicates after a crash. */
		log_error("relay_send: a batch of %zu is over relay_batch_max %zu", n,
			  relay_batch_max(r));
		abort();
	}
	for (size_t i = 0; i < n; i++) {
		st[i].result = RELAY_DEFER;
		st[i].origin = RELAY_ORIGIN_CONNECTION;
		st[i].local = RELAY_LOCAL_NONE;
		st[i].code = 0;
		bsnprintf(st[i].text, sizeof(st[i].text), "not sent");
	}
	if (n == 0)
		return 0;
	return r->ops->send(r->impl, m, n, st, why);
}
