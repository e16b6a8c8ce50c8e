/*
 * held.c - the moderation queue, sealed (held.h).
 *
 * The sender's address and the message are one blob "ADDRESS\nMESSAGE",
 * sealed under the row's own data key with the associated data
 * "held:LIST:CREATED", so a blob moved to another list's row fails to open.
 *
 * TRUST: the message is stored as it came; only its length is checked.
 */
#include "lists/held.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "crypto/hash.h"
#include "crypto/pii.h"

static void held_ad(char *ad, size_t cap, int64_t list_id, int64_t created)
{
	snprintf(ad, cap, "held:%lld:%lld", (long long)list_id, (long long)created);
}

int held_put(struct lists_ctx *x, int64_t list_id, const char *reason, const char *detail,
	     const char *sender, const char *sender_key, const char *msg, size_t len, int days,
	     int64_t *id, struct buf *err)
{
	size_t sl = strlen(sender);
	if (len > LK_MAX_MESSAGE || sl > LK_MAX_ADDRESS || memchr(sender, '\n', sl) != NULL) {
		buf_printf(err, "a post to hold must be at most %u bytes from one address",
			   LK_MAX_MESSAGE);
		return STORE_ERR;
	}
	struct held_rec r;
	memset(&r, 0, sizeof(r));
	r.list_id = list_id;
	r.created = clock_now();
	r.expires = r.created + (int64_t)days * 86400;
	r.reason = (char *)reason;
	r.detail = (char *)(detail != NULL ? detail : "");
	r.size = (int64_t)len;
	addr_hash(x->keys, sender_key, strlen(sender_key), r.sender_hash);
	struct buf plain, sealed;
	buf_init(&plain, LK_MAX_MESSAGE + LK_MAX_ADDRESS + 2);
	buf_init(&sealed, LK_MAX_MESSAGE + LK_MAX_ADDRESS + 256);
	buf_append(&plain, sender, sl);
	buf_putc(&plain, '\n');
	buf_append(&plain, msg, len);
	char ad[64];
	held_ad(ad, sizeof(ad), list_id, r.created);
	struct pii_part part = {ad, plain.data, plain.len, &sealed};
	int rc = STORE_ERR;
	if (plain.err || pii_seal_fresh(x->keys, r.wrapped_key, &part, 1) < 0) {
		buf_puts(err, "the post could not be sealed");
	} else {
		r.data = (uint8_t *)sealed.data;
		r.data_len = sealed.len;
		rc = store_held_insert(x->st, &r);
		if (rc != STORE_OK && err->len == 0)
			buf_puts(err, store_errmsg(x->st));
		*id = r.id;
	}
	explicit_bzero(r.wrapped_key, sizeof(r.wrapped_key));
	buf_free(&plain);
	buf_free(&sealed);
	if (rc == STORE_OK)
		log_info("event=held post=%lld list_id=%lld reason=\"%s\"", (long long)*id,
			 (long long)list_id, reason);
	return rc;
}

int held_open(const struct keys *k, const struct held_rec *r, struct buf *sender, struct buf *msg)
{
	char ad[64];
	held_ad(ad, sizeof(ad), r->list_id, r->created);
	struct buf plain;
	buf_init(&plain, LK_MAX_MESSAGE + LK_MAX_ADDRESS + 2);
	int rc = -1;
	if (r->data != NULL && pii_open_wrapped(k, r->wrapped_key, PII_WRAPPED_LEN, ad, r->data,
						r->data_len, &plain) == 0) {
		const char *nl = plain.len ? memchr(plain.data, '\n', plain.len) : NULL;
		if (nl != NULL) {
			size_t sl = (size_t)(nl - plain.data);
			if (buf_append(sender, plain.data, sl) == 0 &&
			    buf_append(msg, nl + 1, plain.len - sl - 1) == 0)
				rc = 0;
		}
	}
	buf_free(&plain);
	return rc;
}

int held_expire(struct lists_ctx *x, int64_t *n, struct buf *err)
{
	*n = 0;
	int r = store_begin(x->st);
	if (r == STORE_OK)
		r = store_held_expire(x->st, clock_now(), n);
	r = lists_end_txn(x, r, err);
	if (r == STORE_OK && *n > 0)
		log_info("event=held-expired posts=%lld", (long long)*n);
	return r;
}
