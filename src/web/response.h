/*
 * response.h - the one way the web role makes a libmicrohttpd response from
 * a rendered body: the library takes the body over and, when it lets the
 * response go (after the last byte is sent, or when the client is gone),
 * the body is wiped before it is freed (STYLE.md 6).
 *
 * Pages show names and addresses (/me/TOKEN and its JSON download, /p/TOKEN,
 * the confirmation pages), so every body goes this way: a wipe of a few
 * kilobytes costs less than telling which pages hold personal data.
 */
#ifndef LK_WEB_RESPONSE_H
#define LK_WEB_RESPONSE_H

#include <microhttpd.h>

#include "core/buf.h"

/* A response whose body is body's bytes, taken over: body is left empty
 * (buf_init with its max). Returns NULL when the library refuses; the bytes
 * are wiped and freed then too. */
struct MHD_Response *response_from_buf(struct buf *body);

#endif
