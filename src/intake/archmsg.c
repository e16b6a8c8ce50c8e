/*
 * archmsg.c - a message read for the archive (archmsg.h).
 *
 * API: archmsg_parse, archmsg_free, archmsg_hash.
 *
 * The text shown and searched is the first text/plain part (else the first
 * text/html part as text, mimetext_html_text: never its markup); every
 * other leaf part, and every attached message, is an attachment, kept
 * decoded. GMime copes with anything; what is refused is a message with no
 * header at all (not mail), or one over LK_MAX_MESSAGE.
 *
 * TRUST: every byte is untrusted; see archmsg.h for the bounds.
 */
#include "intake/archmsg.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/utf8.h"
#include "core/xmalloc.h"
#include "intake/mimetext.h"
#include "core/address.h"

void archmsg_hash(const char *id, size_t len, char out[STORE_ARCHIVE_HASH_LEN + 1])
{
	static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	EVP_Digest(id, len, d, &dl, EVP_sha1(), NULL);
	/* 160 bits: 32 groups of 5, no padding */
	for (int i = 0; i < STORE_ARCHIVE_HASH_LEN; i++) {
		int bit = i * 5, byte = bit / 8, off = bit % 8;
		unsigned v = (unsigned)d[byte] << 8 | (byte + 1 < 20 ? d[byte + 1] : 0);
		out[i] = B32[(v >> (11 - off)) & 31];
	}
	out[STORE_ARCHIVE_HASH_LEN] = '\0';
}

/* p[0..len) as valid UTF-8 (each bad byte U+FFFD), NUL-free, at most max. */
static char *utf8_clean(const char *p, size_t len, size_t max)
{
	struct buf b;
	buf_init(&b, max);
	size_t bad;
	while (len > 0 && !b.err) {
		if (utf8_valid(p, len, &bad))
			bad = len;
		for (size_t i = 0; i < bad; i++)
			buf_putc(&b, p[i] != '\0' ? p[i] : ' ');
		if (bad == len)
			break;
		buf_puts(&b, "\xef\xbf\xbd");
		p += bad + 1;
		len -= bad + 1;
	}
	/* a cut in the middle of a character: drop the partial one */
	size_t n = b.len;
	while (n > 0 && !utf8_valid(b.data, n, NULL))
		n--;
	buf_truncate(&b, n);
	char *z = b.data != NULL ? xstrndup(b.data, b.len) : xstrdup("");
	buf_free(&b);
	return z;
}

static char *clean_z(const char *z, size_t max)
{
	return z != NULL ? utf8_clean(z, strlen(z), max) : xstrdup("");
}

/* X-No-Archive: yes, or X-Archive: no (its first word). */
static int no_archive(GMimeMessage *gm)
{
	const char *v = g_mime_object_get_header(GMIME_OBJECT(gm), "X-No-Archive");
	while (v != NULL && (*v == ' ' || *v == '\t'))
		v++;
	if (v != NULL && g_ascii_strncasecmp(v, "yes", 3) == 0)
		return 1;
	v = g_mime_object_get_header(GMIME_OBJECT(gm), "X-Archive");
	while (v != NULL && (*v == ' ' || *v == '\t'))
		v++;
	return v != NULL && g_ascii_strncasecmp(v, "no", 2) == 0 &&
	       (v[2] == '\0' || v[2] == ';' || v[2] == ' ' || v[2] == '\t' || v[2] == '\r' ||
		v[2] == '\n');
}

static void add_parents(struct archmsg *a, const char *header, int reverse)
{
	if (header == NULL)
		return;
	GMimeReferences *refs = g_mime_references_parse(NULL, header);
	if (refs == NULL)
		return;
	int n = g_mime_references_length(refs);
	for (int k = 0; k < n && a->m.nparents < LK_ARCHIVE_MAX_PARENTS; k++) {
		const char *id = g_mime_references_get_message_id(refs, reverse ? n - 1 - k : k);
		if (id == NULL || *id == '\0')
			continue;
		archmsg_hash(id, strlen(id), a->parents[a->m.nparents++]);
	}
	g_mime_references_free(refs);
}

static void add_att(struct archmsg *a, const char *name, const char *type, GByteArray *ba)
{
	size_t i = a->m.natts;
	if (i >= LK_ARCHIVE_MAX_ATTS)
		return;
	a->att_names[i] = clean_z(name, 256);
	a->att_types[i] = clean_z(type, 128);
	buf_init(&a->att_data[i], LK_MAX_MESSAGE);
	if (ba != NULL && ba->len > 0)
		buf_append(&a->att_data[i], ba->data, ba->len);
	a->atts[i].filename = a->att_names[i];
	a->atts[i].ctype = a->att_types[i];
	a->atts[i].data = (const uint8_t *)(a->att_data[i].data ? a->att_data[i].data : "");
	a->atts[i].len = a->att_data[i].len;
	a->m.natts++;
}

static GByteArray *object_bytes(GMimeObject *obj, int decode, GMimeStream **keep)
{
	GMimeStream *mem = g_mime_stream_mem_new();
	if (decode && GMIME_IS_PART(obj)) {
		GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));
		if (w != NULL)
			g_mime_data_wrapper_write_to_stream(w, mem);
	} else {
		g_mime_object_write_to_stream(obj, NULL, mem);
	}
	*keep = mem;
	return g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
}

/* Every leaf but the text shown, and every attached message, as an
 * attachment. */
static void walk(struct archmsg *a, GMimeObject *obj, GMimeObject *text, int depth, int *budget)
{
	if (obj == NULL || depth > LK_MAX_MIME_DEPTH || --*budget < 0 ||
	    a->m.natts >= LK_ARCHIVE_MAX_ATTS)
		return;
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);
		for (int i = 0; i<n && * budget> 0; i++)
			walk(a, g_mime_multipart_get_part(mp, i), text, depth + 1, budget);
		return;
	}
	if (obj == text)
		return;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	char *type = ct != NULL ? g_mime_content_type_get_mime_type(ct) : NULL;
	GMimeStream *keep = NULL;
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		if (inner != NULL) {
			GByteArray *ba = object_bytes(GMIME_OBJECT(inner), 0, &keep);
			add_att(a, "message.eml", "message/rfc822", ba);
		}
	} else if (GMIME_IS_PART(obj)) {
		/* an alternative HTML of the text shown is not an attachment */
		int alt_html = text != NULL && mimetext_is(obj, "text", "html") &&
			       g_mime_part_get_filename(GMIME_PART(obj)) == NULL;
		if (!alt_html) {
			GByteArray *ba = object_bytes(obj, 1, &keep);
			const char *name = g_mime_part_get_filename(GMIME_PART(obj));
			add_att(a, name != NULL ? name : "",
				type != NULL ? type : "application/octet-stream", ba);
		}
	}
	if (keep != NULL)
		g_object_unref(keep);
	g_free(type);
}

static void read_body(struct archmsg *a, GMimeMessage *gm, GMimeObject **shown)
{
	struct buf t;
	buf_init(&t, LK_ARCHIVE_MAX_TEXT);
	GMimeObject *plain = mimetext_first_plain(gm);
	*shown = plain;
	if (plain != NULL) {
		mimetext_content(plain, 1, &t);
	} else {
		GMimeObject *h = mimetext_first_html(gm);
		*shown = h;
		struct buf html;
		buf_init(&html, LK_ARCHIVE_MAX_TEXT);
		if (h != NULL && mimetext_content(h, 1, &html) >= 0)
			mimetext_html_text(buf_str(&html), &t);
		buf_free(&html);
	}
	a->body = utf8_clean(t.data != NULL ? t.data : "", t.len, LK_ARCHIVE_MAX_TEXT);
	buf_free(&t);
}

static void read_author(struct archmsg *a, GMimeMessage *gm)
{
	InternetAddressList *from = g_mime_message_get_from(gm);
	InternetAddress *ia = from != NULL && internet_address_list_length(from) > 0
				  ? internet_address_list_get_address(from, 0)
				  : NULL;
	const char *name = ia != NULL ? internet_address_get_name(ia) : NULL;
	a->author = clean_z(name, LK_MAX_NAME);
	const char *addr = ia != NULL && INTERNET_ADDRESS_IS_MAILBOX(ia)
			       ? internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia))
			       : NULL;
	struct address ad = {0};
	struct buf err;
	buf_init(&err, 256);
	if (addr != NULL && address_parse(addr, strlen(addr), &ad, &err) == 0) {
		a->addr = xstrdup(ad.addr);
		a->key = xstrdup(ad.key);
	} else {
		a->addr = xstrdup("");
		a->key = xstrdup("");
	}
	address_free(&ad);
	buf_free(&err);
}

int archmsg_parse(const char *p, size_t len, struct archmsg *a, struct buf *err)
{
	memset(a, 0, sizeof(*a));
	if (len > LK_MAX_MESSAGE) {
		buf_printf(err, "larger than %u bytes", LK_MAX_MESSAGE);
		return -1;
	}
	GMimeMessage *gm = mimetext_parse(p, len);
	GMimeHeaderList *hl = gm != NULL ? g_mime_object_get_header_list(GMIME_OBJECT(gm)) : NULL;
	if (gm == NULL || hl == NULL || g_mime_header_list_get_count(hl) == 0) {
		buf_puts(err, "not a mail message (no header)");
		if (gm != NULL)
			g_object_unref(gm);
		return -1;
	}
	const char *id = g_mime_message_get_message_id(gm);
	if (id != NULL && *id != '\0' && strlen(id) <= LK_MAX_LINE_OCTETS) {
		a->message_id = clean_z(id, LK_MAX_LINE_OCTETS);
	} else {
		char h[STORE_ARCHIVE_HASH_LEN + 1];
		archmsg_hash(p, len, h);
		struct buf b;
		buf_init(&b, 128);
		buf_printf(&b, "%s@archive.invalid", h);
		a->message_id = xstrdup(buf_cstr(&b));
		buf_free(&b);
	}
	archmsg_hash(a->message_id, strlen(a->message_id), a->m.hash);
	a->parents = xcalloc(LK_ARCHIVE_MAX_PARENTS, sizeof(*a->parents));
	add_parents(a, g_mime_object_get_header(GMIME_OBJECT(gm), "In-Reply-To"), 0);
	add_parents(a, g_mime_object_get_header(GMIME_OBJECT(gm), "References"), 1);
	GDateTime *dt = g_mime_message_get_date(gm);
	a->m.date = dt != NULL ? g_date_time_to_unix(dt) : 0;
	if (a->m.date < 0)
		a->m.date = 0;
	a->subject = clean_z(g_mime_message_get_subject(gm), LK_ARCHIVE_MAX_SUBJECT);
	for (char *s = a->subject; *s; s++) /* one line */
		if (*s == '\r' || *s == '\n' || *s == '\t')
			*s = ' ';
	read_author(a, gm);
	GMimeObject *shown = NULL;
	read_body(a, gm, &shown);
	a->atts = xcalloc(LK_ARCHIVE_MAX_ATTS, sizeof(*a->atts));
	a->att_data = xcalloc(LK_ARCHIVE_MAX_ATTS, sizeof(*a->att_data));
	a->att_names = xcalloc(LK_ARCHIVE_MAX_ATTS, sizeof(*a->att_names));
	a->att_types = xcalloc(LK_ARCHIVE_MAX_ATTS, sizeof(*a->att_types));
	int budget = LK_MAX_MIME_PARTS;
	walk(a, g_mime_message_get_mime_part(gm), shown, 0, &budget);
	a->m.no_archive = no_archive(gm);
	g_object_unref(gm);

	a->m.message_id = a->message_id;
	a->m.parents = (const char(*)[STORE_ARCHIVE_HASH_LEN + 1]) a->parents;
	a->m.subject = a->subject;
	a->m.author = a->author;
	a->m.author_addr = a->addr;
	a->m.author_key = a->key;
	a->m.body = a->body;
	a->m.raw = (const uint8_t *)p;
	a->m.raw_len = len;
	a->m.atts = a->atts;
	return 0;
}

void archmsg_free(struct archmsg *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->m.natts; i++) {
		free(a->att_names[i]);
		free(a->att_types[i]);
		buf_free(&a->att_data[i]);
	}
	free(a->att_names);
	free(a->att_types);
	free(a->att_data);
	free(a->atts);
	free(a->parents);
	char **f[] = {&a->message_id, &a->subject, &a->author, &a->addr, &a->key, &a->body};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (*f[i] != NULL)
			explicit_bzero(*f[i], strlen(*f[i]));
		free(*f[i]);
	}
	memset(a, 0, sizeof(*a));
}
