/*
 * archive.h - the web archive of a list: /a/LIST/ (docs/archives.md).
 *
 *   /a/LIST/                  the months, with the search form
 *   /a/LIST/YYYY-MM/          one month's posts by date (?page=N)
 *   /a/LIST/YYYY-MM.mbox      that month as an mbox download
 *   /a/LIST/m/HASH            one post (HASH: its Message-ID-Hash), prev/next
 *                             in its thread, its attachments
 *   /a/LIST/m/HASH/N/NAME     attachment N, always a download
 *   /a/LIST/t/HASH            the thread of that post
 *   /a/LIST/search?q=&order=&page=   full-text search (rank or date)
 *
 * A list whose archive is none has no such pages (404); a members archive
 * answers every reader the same members-only page (sign-in is not built
 * yet). Every value is escaped by the templates; a post's text is shown
 * as text, HTML parts only as text, attachments only as downloads
 * (application/octet-stream, Content-Disposition: attachment).
 *
 * TRUST: the path and the query arguments are untrusted: the list name goes
 * through lists_name_valid, a month and a hash are checked character by
 * character, a query must be UTF-8 of at most LK_ARCHIVE_MAX_QUERY bytes
 * and its syntax errors are shown, never a 500.
 */
#ifndef LK_WEB_ARCHIVE_H
#define LK_WEB_ARCHIVE_H

#include "web/pages.h"

struct archive_env {
	const struct site *site;
	struct store *st;   /* NULL: 503 */
	int hide_addresses; /* [archive] addresses = hide */
};

/* The query arguments of the request (NULL when absent). */
struct archive_args {
	const char *q;
	size_t q_len;
	const char *order;
	const char *page;
};

int archive_match(const char *path);
void archive_get(const struct archive_env *env, const char *path, const struct archive_args *a,
		 struct page *out);

#endif
