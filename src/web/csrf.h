/*
 * csrf.h - stateless CSRF fields for the forms of the web role.
 *
 *   csrf_make   the hidden field value for a form that posts to path
 *   csrf_check  1 if a posted value is one that csrf_make gave for path in
 *               this hour or the one before
 *   csrf_check_form  csrf_check of a form's one "csrf" field
 *
 * value = base64url(HMAC-SHA-256(mac key, "lk-csrf" 0 path 0 hour))
 * without padding, where hour = floor(now / 3600) as 8 bytes big-endian.
 * Nothing is stored and no cookie is set (P7): the field binds a form to
 * its own path (which carries the person's token) and to a short window,
 * so that a page fetched by a link scanner cannot be replayed a day later
 * and a form on another path cannot be reused here. The label keeps these
 * MACs apart from every other use of the MAC key.
 *
 * TRUST: csrf_check sees the untrusted posted value; it checks the length
 * first and compares in constant time (crypto/hash.h secret_eq).
 */
#ifndef LK_WEB_CSRF_H
#define LK_WEB_CSRF_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/keys.h"
#include "web/form.h"

#define CSRF_LEN 43 /* base64url of 32 bytes, unpadded */

/* Writes the value (NUL-terminated) into out. */
void csrf_make(const struct keys *k, const char *path_z, int64_t now, char out[CSRF_LEN + 1]);
/* 1 if value (len bytes; NULL is refused) is valid for path at now. */
int csrf_check(const struct keys *k, const char *path_z, int64_t now, const char *value,
	       size_t len);

/* 1 if form f has exactly one "csrf" field and csrf_check accepts it. */
int csrf_check_form(const struct keys *k, const char *path_z, int64_t now, const struct form *f);

#endif
