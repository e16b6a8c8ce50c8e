/*
 * archive.h - the archive of discussion lists: storing a post, and what an
 * erasure does to a person's posts (docs/archives.md, docs/privacy.md).
 *
 *   archive_store         one accepted post into its list's archive
 *   archive_thread_key    the subject as threads compare it
 *   archive_erase_person  redact or remove a person's posts (P3)
 *
 * The message is parsed by the caller (intake/archmsg.h: archmsg_parse fills
 * a struct archive_msg from the bytes), since MIME is not this layer's.
 *
 * What is archived is what the list distributed: the caller passes the
 * message as sent to the members, without any member's footer or token.
 * Archived posts are published text (to the list's members, or to anyone
 * when archive = public): unlike subscriber data they are not sealed, so
 * that they can be shown and searched; the author's address is kept with
 * its keyed hash, by which an erasure finds their posts.
 *
 * TRUST: the fields come from mail (untrusted) through the parser, which
 * bounds them; here they only go to the store as bound values.
 */
#ifndef LK_LISTS_ARCHIVE_H
#define LK_LISTS_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "lists/lists.h"

/* An attachment of a post, decoded (borrowed). */
struct archive_att {
	const char *filename; /* as the message names it (UTF-8), or "" */
	const char *ctype;    /* "type/subtype" */
	const uint8_t *data;
	size_t len;
};

/* A post as the parser read it; every pointer is borrowed. */
struct archive_msg {
	const char *message_id;		       /* without <>; never empty */
	char hash[STORE_ARCHIVE_HASH_LEN + 1]; /* its Message-ID-Hash */
	/* The possible parents' hashes, best first: In-Reply-To, then References
	 * from the last. */
	const char (*parents)[STORE_ARCHIVE_HASH_LEN + 1];
	size_t nparents;
	int64_t date;		 /* from Date:, or 0: the time of storing */
	const char *subject;	 /* decoded, UTF-8 */
	const char *author;	 /* display name, or "" */
	const char *author_addr; /* normalised address, or "" when none parsed */
	const char *author_key;	 /* its look-up form (core/address.h), or "" */
	const char *body;	 /* the text part (or an HTML part as text), UTF-8 */
	const uint8_t *raw;	 /* the message as distributed */
	size_t raw_len;
	int no_archive; /* X-No-Archive: yes or X-Archive: no */
	const struct archive_att *atts;
	size_t natts;
};

enum archive_outcome {
	ARCHIVE_STORED,
	ARCHIVE_DUPLICATE,  /* the list has a post with that Message-ID */
	ARCHIVE_NOT_WANTED, /* X-No-Archive / X-Archive: no */
	ARCHIVE_LIST_NONE   /* the list keeps no archive (archive = none) */
};

/* Stores m in l's archive, threaded (store_archive_insert), in a
 * transaction of its own or as part of the caller's. *out says what
 * happened; *id the post's id when stored. Returns STORE_OK (whatever *out
 * says), or STORE_BUSY / STORE_ERR with the reason in err. The post path
 * calls it for each accepted post, with the message as distributed; the
 * import calls it for each message of an mbox. */
int archive_store(struct lists_ctx *x, const struct list_rec *l, const struct archive_msg *m,
		  enum archive_outcome *out, int64_t *id, struct buf *err);

/* The subject as threads compare it: Re:/Fwd:/Fw:/Aw:/Sv: and [tags] off
 * the front, white space collapsed, ASCII lower-cased; into out (cleared).
 * Returns 1 if a reply prefix was taken off (the subject says "reply"). */
int archive_thread_key(const char *subject, struct buf *out);

/* The erasure of a person from every archive (`person erase`): their posts
 * (found by the keyed hash of key, the address's look-up form) are removed
 * on lists with archive_erase = remove and redacted on the others: author,
 * address, the From/Sender/Reply-To headers and their attachments go, the
 * rest stays. Then every post that still holds the address or one of the
 * person's names (names: those of their posts and `name` when given;
 * names under 3 bytes are left alone) anywhere has each occurrence replaced
 * by "[redacted]" (the address by redacted@invalid). The search index
 * rows go with the old text and the index is rewritten (store_archive_compact),
 * the caller scrubs the store after. *removed and *redacted count posts.
 * Returns STORE_OK, or STORE_BUSY / STORE_ERR with the reason in err. */
int archive_erase_person(struct lists_ctx *x, const char *addr, const char *key, const char *name,
			 int64_t *removed, int64_t *redacted, struct buf *err);

#endif
