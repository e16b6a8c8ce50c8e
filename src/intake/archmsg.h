/*
 * archmsg.h - a message read for the archive: the fields that
 * lists/archive.h stores (Message-ID and its hash, the possible parents,
 * date, subject, author, the text, the attachments) parsed from its bytes
 * with GMime (intake/mimetext.h).
 *
 *   archmsg_parse      bytes -> struct archmsg (its .m for archive_store)
 *   archmsg_free
 *   archmsg_hash       a Message-ID's Message-ID-Hash (Mailman 3's)
 *
 * The post path (a post accepted for distribution) and `listkeeper archive
 * import` both call archmsg_parse, then archive_store(x, list, &a.m, ...).
 *
 * TRUST: every byte is untrusted. The message is bounded by LK_MAX_MESSAGE,
 * the subject by LK_ARCHIVE_MAX_SUBJECT, the text by LK_ARCHIVE_MAX_TEXT,
 * the parents by LK_ARCHIVE_MAX_PARENTS, attachments by LK_ARCHIVE_MAX_ATTS
 * and the walk by LK_MAX_MIME_DEPTH / LK_MAX_MIME_PARTS. The text and the
 * subject come out as valid UTF-8 (a byte that is not becomes U+FFFD).
 */
#ifndef LK_INTAKE_ARCHMSG_H
#define LK_INTAKE_ARCHMSG_H

#include <stddef.h>

#include "core/buf.h"
#include "lists/archive.h"

struct archmsg {
	struct archive_msg m; /* points into the fields below and the caller's bytes */
	/* owned: */
	char *message_id, *subject, *author, *addr, *key, *body;
	char (*parents)[STORE_ARCHIVE_HASH_LEN + 1];
	struct archive_att *atts;
	struct buf *att_data; /* one per attachment */
	char **att_names, **att_types;
};

/* Parses len bytes (the message as distributed or as found in an mbox;
 * the bytes are borrowed by a.m.raw and must outlive it). 0, or -1 with a
 * one-line reason in err (no message, too large, no header at all). A
 * message without a Message-ID gets one made from the SHA-1 of its bytes
 * (so that a second import of it is a duplicate, not a second post). */
int archmsg_parse(const char *p, size_t len, struct archmsg *a, struct buf *err);
void archmsg_free(struct archmsg *a);

/* The Message-ID-Hash of id (without <>): RFC 4648 base32 of its SHA-1,
 * 32 characters and a NUL into out. */
void archmsg_hash(const char *id, size_t len, char out[STORE_ARCHIVE_HASH_LEN + 1]);

#endif
