/* Scrubbing the store after an erasure, coalesced: a page that erased someone
 * asks for a scrub, and the web server's scrubber thread (web/http.c) scrubs
 * at most every LK_WEB_SCRUB_MS (core/limits.h) for all of them: a passive
 * checkpoint on its own connection, which holds up no write, then the
 * truncating one by the writer between two batches (web/writer.h). A WAL
 * checkpoint per erasure made every one-click unsubscribe of a last list wait
 * for it (about 70 answers a second on the 2-core benchmark machine); one
 * taken by the scrubber itself held the writer lock while the writer slept in
 * SQLite's busy handler, past its end (p99 of the one-click POST 300-500 ms). */
#ifndef WEB_SCRUB_H
#define WEB_SCRUB_H

/* Asks for a scrub soon (async-signal-safe, lock-free). */
void web_scrub_soon(void);
/* 1 if a scrub was asked for since the last call (and clears the request). */
int web_scrub_take(void);

#endif
