/*
 * spool.h - the intake spool: an accepted message is stored before it is
 * answered, and handled after (DESIGN.md P-durability; issue 5).
 *
 *   intake_spool_submit  seals one message for one recipient and stores it,
 *                        for a session of the LMTP server: the committer
 *                        thread inserts what all sessions queued in one
 *                        transaction of the spool store (store_spool_open:
 *                        its own file, synchronous=FULL), synced once (group
 *                        commit)
 *   intake_spool_start   the worker thread of the intake role: handles the
 *                        pending rows in id order, on start and on every kick
 *   intake_spool_kick    a row was added
 *   intake_spool_stop    ends the worker (a message being handled finishes)
 *   intake_spool_open    the recipient and the message of a row (quarantine show)
 *
 * Crashes: before a row is handled, its attempts count is raised and
 * committed; after it is handled the row is deleted. A row still there with
 * LK_INTAKE_MAX_ATTEMPTS attempts crashed the process that many times: it
 * is set aside (quarantined: kept sealed, counted, audited) and never tried
 * again, so the rest keeps flowing. An orderly temporary failure (the store
 * busy) undoes its attempt and is tried again LK_INTAKE_RETRY_SECONDS later.
 * Fresh rows are handled in groups: one spool commit counts an attempt for
 * each, one database transaction handles them all (a crash charges each an
 * attempt, and from then on they go one by one, so only the one that
 * crashes again is quarantined). Nothing is handled twice: the handling's
 * transaction marks the row handled in the database (store_spool_claim), and
 * a marked row found again (its deletion lost in a crash, or handled by
 * another process) is only deleted. Handled rows are deleted a group at a
 * time, unsynced, after one sync of the database (a deletion must not reach
 * the disk before the handling it stands for: two files); a marker is
 * forgotten once its row's deletion is synced (the committer's next synced
 * commit, or the worker's own sync after a second without mail). A marker
 * whose removal was lost (a kill -9 before that sync, a busy database in
 * inject) is swept when the worker starts: one whose row is gone from the
 * spool (or is another row with that id); a row still there keeps its.
 * A row whose recipient is no longer known (a list deleted meanwhile) or
 * whose message is refused as bad data is logged and deleted: the MTA has
 * its 250 already, and nothing is answered to a bounce.
 *
 * The data is sealed (crypto/pii.h) under a fresh key per row, wrapped with
 * the master key: deleting the row destroys the message. The spool file is
 * not tied to subscribers: a pending row of a person being erased is not
 * found by the erasure; it is deleted (secure_delete) once handled, which
 * happens within seconds, and a quarantined one stays sealed until an
 * operator drops it (`intake quarantine drop`).
 *
 * TRUST: the message and recipient are untrusted; they go to intake/route.c.
 * A sealed row that does not open (corrupt, or another key file) is
 * quarantined, never handled.
 */
#ifndef LK_INTAKE_SPOOL_H
#define LK_INTAKE_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/conf.h"
#include "crypto/keys.h"
#include "intake/route.h"
#include "store/store.h"

#define LK_INTAKE_MAX_ATTEMPTS 3
#define LK_INTAKE_RETRY_SECONDS 60

/* Test builds only: the listkeeper-testhooks binary (tests/hooks/) defines
 * it, to crash a handler on purpose; the installed binary has none. */
extern void lk_test_intake_hook(const char *msg, size_t len) __attribute__((weak));
/* Likewise, after a message's handling was committed and before its row is
 * deleted from the spool (a crash there leaves a row marked handled). */
extern void lk_test_intake_handled_hook(const char *msg, size_t len) __attribute__((weak));

/* Opens r (read with store_spool_get): the recipient into rcpt, the message
 * into msg. 0, or -1 when the row does not open. */
int intake_spool_open(const struct keys *keys, const struct spool_rec *r, struct buf *rcpt,
		      struct buf *msg);

struct intake_spool;
/* NULL with the reason in err (a store that does not open, templates of
 * [web] templates that do not load: tmpl_set_load_conf). conf and keys must
 * outlive it. */
struct intake_spool *intake_spool_start(const struct conf *conf, const struct keys *keys,
					struct buf *err);
void intake_spool_kick(struct intake_spool *sp);
/* Seals and queues one message for the committer and waits until it is
 * committed and synced: STORE_OK (answer 250) or a store error (451). Many
 * sessions at once share one commit. */
int intake_spool_submit(struct intake_spool *sp, const char *rcpt, size_t rcpt_len, const char *msg,
			size_t len);
/* NULL: no-op. */
void intake_spool_stop(struct intake_spool *sp);

/* `listkeeper inject`: checks the recipient, spools the message in sq
 * (synced), handles it with the database st at once (the mails it queues
 * rendered from tmpl: intake_new), syncs st and deletes the row. The verdict (res filled when not
 * INTAKE_OK): INTAKE_OK once the handling is durable; INTAKE_TEMPFAIL when it could not be spooled
 * or handled now (nothing kept: the MTA retries). A crash while handling leaves the row to the
 * intake worker, its attempt counted. */
enum intake_verdict intake_spool_inject(const struct conf *conf, const struct keys *keys,
					struct store *sq, struct store *st,
					const struct tmpl_set *tmpl, const char *rcpt,
					size_t rcpt_len, const char *msg, size_t len,
					struct intake_result *res);

#endif
