/*
 * useragent.h - the browser family of a User-Agent, for the daily counts
 * (P6). The header is read once, classified, and dropped: only the family
 * is counted, never the string.
 *
 *   ua_family       Firefox, Chrome, Safari, Edge, other, or a bot
 *   ua_family_name  "firefox", "chrome", "safari", "edge", "other", "bot"
 *
 * A small bounded parser, not a database: it looks at the first
 * LK_HTTP_MAX_USER_AGENT bytes for a few well-known product tokens, in an
 * order that undoes the way browsers borrow each other's names (Edge says
 * Chrome and Safari; Chrome says Safari). Crawlers, link checkers and
 * libraries (curl, wget, python, headless browsers) count as bots. A
 * missing or empty header is "other".
 *
 * TRUST: the bytes are untrusted; read within (p, len), no NUL needed.
 */
#ifndef LK_WEB_USERAGENT_H
#define LK_WEB_USERAGENT_H

#include <stddef.h>

enum ua_family { UA_OTHER, UA_FIREFOX, UA_CHROME, UA_SAFARI, UA_EDGE, UA_BOT, UA_COUNT };

enum ua_family ua_family(const char *p, size_t len);
const char *ua_family_name(enum ua_family f);

#endif
