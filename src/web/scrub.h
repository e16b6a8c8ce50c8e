/* Scrubbing the store after an erasure, coalesced: a page that erased someone
 * asks for a scrub, and the web server's scrubber thread checkpoints the WAL at
 * most once every WEB_SCRUB_SECONDS (core/limits.h) for all of them. A WAL
 * checkpoint per erasure made every one-click unsubscribe of a last list wait
 * for it (about 70 answers a second on the 2-core benchmark machine). */
#ifndef WEB_SCRUB_H
#define WEB_SCRUB_H

/* Asks for a scrub soon (async-signal-safe, lock-free). */
void web_scrub_soon(void);
/* 1 if a scrub was asked for since the last call (and clears the request). */
int web_scrub_take(void);

#endif
