/*
 * mimetext.c - received mail through GMime: parse from memory, find the
 * first text/plain part, decode a part's content (mimetext.h).
 *
 * API: mimetext_init, mimetext_parse, mimetext_first_plain, mimetext_is,
 * mimetext_content, mimetext_html_text.
 *
 * GMime's parser copes with anything (a missing boundary leaves the rest in
 * the last part, junk becomes a text/plain body), so the checks here are
 * about bounds: the message size before parsing, the depth and count of
 * parts walked, and what is copied out of a part.
 *
 * TRUST: every byte is untrusted (mail from anyone). Bounds: LK_MAX_MESSAGE,
 * LK_MAX_MIME_DEPTH, LK_MAX_MIME_PARTS, and the caller's buffer max.
 */
#include "intake/mimetext.h"

#include <pthread.h>
#include <string.h>

#include "core/limits.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_once(void)
{
	g_mime_init();
}

void mimetext_init(void)
{
	pthread_once(&once, init_once);
}

GMimeMessage *mimetext_parse(const char *p, size_t len)
{
	if (len > LK_MAX_MESSAGE)
		return NULL;
	mimetext_init();
	/* GMime's memory stream copies the bytes: p need not outlive it */
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(p, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(s);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	GMimeMessage *m = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(s);
	return m;
}

int mimetext_is(GMimeObject *obj, const char *type, const char *subtype)
{
	GMimeContentType *ct = obj ? g_mime_object_get_content_type(obj) : NULL;
	return ct != NULL && g_mime_content_type_is_type(ct, type, subtype);
}

/* The first text/SUBTYPE leaf, depth first; a part without a Content-Type is
 * text/plain (RFC 2045 §5.2). */
static GMimeObject *find_text(GMimeObject *obj, const char *subtype, int depth, int *budget)
{
	if (obj == NULL || depth > LK_MAX_MIME_DEPTH || --*budget < 0)
		return NULL;
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);
		for (int i = 0; i<n && * budget> 0; i++) {
			GMimeObject *r =
			    find_text(g_mime_multipart_get_part(mp, i), subtype, depth + 1, budget);
			if (r != NULL)
				return r;
		}
		return NULL;
	}
	if (!GMIME_IS_PART(obj))
		return NULL; /* an attached message is not the text of this one */
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	if (ct == NULL)
		return strcmp(subtype, "plain") == 0 ? obj : NULL;
	return g_mime_content_type_is_type(ct, "text", subtype) ? obj : NULL;
}

static GMimeObject *first_text(GMimeMessage *msg, const char *subtype)
{
	int budget = LK_MAX_MIME_PARTS;
	return find_text(msg ? g_mime_message_get_mime_part(msg) : NULL, subtype, 0, &budget);
}

GMimeObject *mimetext_first_plain(GMimeMessage *msg)
{
	return first_text(msg, "plain");
}

GMimeObject *mimetext_first_html(GMimeMessage *msg)
{
	return first_text(msg, "html");
}

static int is_utf8_name(const char *cs)
{
	return g_ascii_strcasecmp(cs, "utf-8") == 0 || g_ascii_strcasecmp(cs, "utf8") == 0 ||
	       g_ascii_strcasecmp(cs, "us-ascii") == 0;
}

int mimetext_content(GMimeObject *obj, int to_utf8, struct buf *out)
{
	if (obj == NULL || !GMIME_IS_PART(obj))
		return -1;
	GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));
	if (w == NULL)
		return 0;
	GMimeStream *mem = g_mime_stream_mem_new();
	GMimeStream *dst = mem;
	const char *cs = g_mime_object_get_content_type_parameter(obj, "charset");
	if (to_utf8 && cs != NULL && !is_utf8_name(cs)) {
		/* NULL when iconv does not know the charset: leave the bytes */
		GMimeFilter *f = g_mime_filter_charset_new(cs, "UTF-8");
		if (f != NULL) {
			dst = g_mime_stream_filter_new(mem);
			g_mime_stream_filter_add(GMIME_STREAM_FILTER(dst), f);
			g_object_unref(f);
		}
	}
	/* decodes base64 / quoted-printable / uuencode as the part says */
	g_mime_data_wrapper_write_to_stream(w, dst);
	g_mime_stream_flush(dst);
	GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	size_t n = ba ? ba->len : 0, room = out->max > out->len ? out->max - out->len : 0;
	int cut = n > room;
	if (cut)
		n = room;
	if (n > 0)
		buf_append(out, ba->data, n);
	if (dst != mem)
		g_object_unref(dst);
	g_object_unref(mem);
	return cut;
}

/* HTML to text, roughly: tags become line breaks or nothing, the common
 * entities a space; enough for phrases and codes. */
void mimetext_html_text(struct str h, struct buf *out)
{
	int in_tag = 0;
	for (size_t i = 0; i < h.len && out->len < out->max; i++) {
		char c = h.ptr[i];
		if (in_tag) {
			in_tag = c != '>';
		} else if (c == '<') {
			in_tag = 1;
			if (i + 2 < h.len && (g_ascii_tolower(h.ptr[i + 1]) == 'b' ||
					      g_ascii_tolower(h.ptr[i + 1]) == 'p'))
				buf_putc(out, '\n');
		} else if (c == '&') {
			size_t k = i + 1;
			while (k < h.len && k < i + 8 && h.ptr[k] != ';')
				k++;
			if (k < h.len && h.ptr[k] == ';')
				i = k;
			buf_putc(out, ' ');
		} else {
			buf_putc(out, c);
		}
	}
}
