/*
 * response.c - libmicrohttpd responses whose body is wiped before it is
 * freed (see response.h).
 *
 * The body's struct buf moves to the heap and rides along as the free
 * callback's argument (MHD_create_response_from_buffer_with_free_callback_cls,
 * libmicrohttpd 0.9.73 or later; Debian 12 has 0.9.75): the plain free
 * callback would get the pointer without its length.
 *
 * TRUST: no input; the bytes are whatever a page rendered.
 */
#include "web/response.h"

#include <stdlib.h>

#include "core/xmalloc.h"

/* libmicrohttpd's free callback: the whole capacity is wiped, not only the
 * bytes sent. */
static void body_free(void *cls)
{
	struct buf *b = cls;
	xfree_wipe(b->data, b->cap);
	free(b);
}

struct MHD_Response *response_from_buf(struct buf *body)
{
	struct buf *b = xmalloc(sizeof(*b));
	*b = *body;
	buf_init(body, b->max);
	if (b->data == NULL)
		buf_append(b, "", 0); /* an empty page: the library wants a buffer */
	struct MHD_Response *r =
	    MHD_create_response_from_buffer_with_free_callback_cls(b->len, b->data, body_free, b);
	if (r == NULL)
		body_free(b);
	return r;
}
