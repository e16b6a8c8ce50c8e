/*
 * migrations_sqlite.c - the SQLite schema, as numbered migrations embedded in
 * the binary. Migration N brings PRAGMA user_version from N-1 to N. Never
 * edit a migration that has shipped: add the next one.
 *
 * TRUST: no outside input.
 */
#include "store/migrations_sqlite.h"

#include <stddef.h>

/* lists and subscribers use AUTOINCREMENT: an id is never reused, so that a
 * new subscriber can never inherit the ledger history or the suppressions of
 * an erased one, nor a new list those of a deleted one. */
static const char M1[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
    "CREATE TABLE lists(\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  name TEXT NOT NULL UNIQUE,\n"
    "  domain TEXT NOT NULL,\n"
    "  title TEXT NOT NULL DEFAULT '',\n"
    "  description TEXT NOT NULL DEFAULT '',\n"
    "  kind TEXT NOT NULL DEFAULT 'announce' CHECK (kind IN ('announce','discussion')),\n"
    "  sub_policy TEXT NOT NULL DEFAULT 'confirm' CHECK (sub_policy IN "
    "('confirm','owner','closed')),\n"
    "  post_policy TEXT NOT NULL DEFAULT 'owners' CHECK (post_policy IN "
    "('owners','members','anyone')),\n"
    "  moderation TEXT NOT NULL DEFAULT 'none' CHECK (moderation IN ('none','new','all')),\n"
    "  archive TEXT NOT NULL DEFAULT 'members' CHECK (archive IN ('public','members','none')),\n"
    "  digest INTEGER NOT NULL DEFAULT 0,\n"
    "  footer TEXT NOT NULL DEFAULT '',\n"
    "  postal_address TEXT NOT NULL DEFAULT '',\n"
    "  tracking INTEGER NOT NULL DEFAULT 0,\n"
    "  created INTEGER NOT NULL\n"
    ");\n"
    "CREATE TABLE subscribers(\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  addr_hash BLOB NOT NULL UNIQUE,\n"
    "  wrapped_key BLOB NOT NULL,\n"
    "  data BLOB NOT NULL,\n"
    "  html INTEGER NOT NULL DEFAULT 0,\n"
    "  tracking INTEGER NOT NULL DEFAULT 0,\n"
    "  created INTEGER NOT NULL\n"
    ");\n"
    "CREATE TABLE subscriptions(\n"
    "  list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,\n"
    "  subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,\n"
    "  state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 3),\n"
    "  digest INTEGER NOT NULL DEFAULT 0,\n"
    "  nomail INTEGER NOT NULL DEFAULT 0,\n"
    "  bounce_score INTEGER NOT NULL DEFAULT 0,\n"
    "  created INTEGER NOT NULL,\n"
    "  updated INTEGER NOT NULL,\n"
    "  PRIMARY KEY (list_id, subscriber_id)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX subscriptions_by_subscriber ON subscriptions(subscriber_id);\n"
    "CREATE TABLE consent_events(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  list_id INTEGER NOT NULL,\n"
    "  subscriber_id INTEGER NOT NULL,\n"
    "  action TEXT NOT NULL,\n"
    "  time INTEGER NOT NULL,\n"
    "  source TEXT NOT NULL,\n"
    "  policy_version TEXT NOT NULL,\n"
    "  details BLOB,\n"
    "  prev_hash BLOB NOT NULL,\n"
    "  hash BLOB NOT NULL\n"
    ");\n"
    "CREATE INDEX consent_events_by_subscriber ON consent_events(subscriber_id);\n"
    "CREATE TABLE suppressions(\n"
    "  addr_hash BLOB NOT NULL,\n"
    "  list_id INTEGER NOT NULL,\n"
    "  reason TEXT NOT NULL,\n"
    "  time INTEGER NOT NULL,\n"
    "  PRIMARY KEY (addr_hash, list_id)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE audit_log(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  time INTEGER NOT NULL,\n"
    "  actor TEXT NOT NULL,\n"
    "  action TEXT NOT NULL,\n"
    "  list_id INTEGER NOT NULL DEFAULT 0,\n"
    "  subscriber_id INTEGER NOT NULL DEFAULT 0,\n"
    "  detail TEXT NOT NULL DEFAULT ''\n"
    ");\n";

/* Delivery: jobs (campaigns, distributions, confirmation requests) and the
 * recipients deferred by a job. A job remembers the last subscriber id done
 * (cursor); recipients are walked in id order (DESIGN.md section 5). */
static const char M2[] =
    "CREATE TABLE jobs(\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  list_id INTEGER NOT NULL,\n"
    "  kind TEXT NOT NULL CHECK (kind IN ('campaign','confirm')),\n"
    "  state TEXT NOT NULL CHECK (state IN ('scheduled','running','paused','done','cancelled')),\n"
    "  priority INTEGER NOT NULL DEFAULT 0,\n"
    "  subject TEXT NOT NULL,\n"
    "  body_text TEXT NOT NULL,\n"
    "  body_html TEXT,\n"
    "  recipient_id INTEGER NOT NULL DEFAULT 0,\n"
    "  not_before INTEGER NOT NULL,\n"
    "  cursor INTEGER NOT NULL DEFAULT 0,\n"
    "  sent INTEGER NOT NULL DEFAULT 0,\n"
    "  failed INTEGER NOT NULL DEFAULT 0,\n"
    "  total INTEGER NOT NULL DEFAULT 0,\n"
    "  pause_reason TEXT NOT NULL DEFAULT '',\n"
    "  resume_at INTEGER NOT NULL DEFAULT 0,\n"
    "  created INTEGER NOT NULL,\n"
    "  updated INTEGER NOT NULL,\n"
    "  finished INTEGER NOT NULL DEFAULT 0\n"
    ");\n"
    "CREATE INDEX jobs_runnable ON jobs(state, priority, id);\n"
    "CREATE TABLE job_retries(\n"
    "  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,\n"
    "  subscriber_id INTEGER NOT NULL,\n"
    "  attempts INTEGER NOT NULL,\n"
    "  first_at INTEGER NOT NULL,\n"
    "  next_at INTEGER NOT NULL,\n"
    "  last_error TEXT NOT NULL DEFAULT '',\n"
    "  PRIMARY KEY (job_id, subscriber_id)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX job_retries_due ON job_retries(job_id, next_at);\n";

/* A lease on a job while one sender works a batch of it, so that two senders
 * on one store (serve and send --wait, or two nodes) never send a batch twice. */
static const char M3[] = "ALTER TABLE jobs ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';\n"
			 "ALTER TABLE jobs ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;\n";

/* Rate limits against subscription bombing: how many confirmation mails an
 * address was sent in its current window, whoever asked. Keyed by the keyed
 * address hash (never the address); a row lives one window and is pruned. */
static const char M4[] = "CREATE TABLE confirm_limits(\n"
			 "  addr_hash BLOB PRIMARY KEY,\n"
			 "  window_start INTEGER NOT NULL,\n"
			 "  count INTEGER NOT NULL\n"
			 ") WITHOUT ROWID;\n"
			 "CREATE INDEX confirm_limits_by_start ON confirm_limits(window_start);\n";

/* Job kinds beyond campaigns and confirmations: a reply to a command message,
 * a reply to a "what do you hold about me?" request, and a notice to a list's
 * owners. A reply may go to someone who is not a subscriber, so a job can carry
 * its one recipient sealed (rcpt_sealed, deleted with the job's end by the
 * lists layer). SQLite cannot change a CHECK, so the tables are rebuilt; the
 * retries table is rebuilt against the new jobs table first, so that dropping
 * the old one cascades into nothing. */
static const char M5[] =
    "CREATE TABLE jobs_new(\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  list_id INTEGER NOT NULL,\n"
    "  kind TEXT NOT NULL CHECK (kind IN ('campaign','confirm','reply','request','notice')),\n"
    "  state TEXT NOT NULL CHECK (state IN ('scheduled','running','paused','done','cancelled')),\n"
    "  priority INTEGER NOT NULL DEFAULT 0,\n"
    "  subject TEXT NOT NULL,\n"
    "  body_text TEXT NOT NULL,\n"
    "  body_html TEXT,\n"
    "  recipient_id INTEGER NOT NULL DEFAULT 0,\n"
    "  not_before INTEGER NOT NULL,\n"
    "  cursor INTEGER NOT NULL DEFAULT 0,\n"
    "  sent INTEGER NOT NULL DEFAULT 0,\n"
    "  failed INTEGER NOT NULL DEFAULT 0,\n"
    "  total INTEGER NOT NULL DEFAULT 0,\n"
    "  pause_reason TEXT NOT NULL DEFAULT '',\n"
    "  resume_at INTEGER NOT NULL DEFAULT 0,\n"
    "  created INTEGER NOT NULL,\n"
    "  updated INTEGER NOT NULL,\n"
    "  finished INTEGER NOT NULL DEFAULT 0,\n"
    "  lease_owner TEXT NOT NULL DEFAULT '',\n"
    "  lease_until INTEGER NOT NULL DEFAULT 0,\n"
    "  rcpt_sealed BLOB\n"
    ");\n"
    "INSERT INTO jobs_new(id, list_id, kind, state, priority, subject, body_text, body_html,\n"
    "  recipient_id, not_before, cursor, sent, failed, total, pause_reason, resume_at, created,\n"
    "  updated, finished, lease_owner, lease_until)\n"
    "  SELECT id, list_id, kind, state, priority, subject, body_text, body_html, recipient_id,\n"
    "  not_before, cursor, sent, failed, total, pause_reason, resume_at, created, updated,\n"
    "  finished, lease_owner, lease_until FROM jobs;\n"
    "CREATE TABLE job_retries_new(\n"
    "  job_id INTEGER NOT NULL REFERENCES jobs_new(id) ON DELETE CASCADE,\n"
    "  subscriber_id INTEGER NOT NULL,\n"
    "  attempts INTEGER NOT NULL,\n"
    "  first_at INTEGER NOT NULL,\n"
    "  next_at INTEGER NOT NULL,\n"
    "  last_error TEXT NOT NULL DEFAULT '',\n"
    "  PRIMARY KEY (job_id, subscriber_id)\n"
    ") WITHOUT ROWID;\n"
    "INSERT INTO job_retries_new SELECT * FROM job_retries;\n"
    "DROP TABLE job_retries;\n"
    "DROP TABLE jobs;\n"
    "ALTER TABLE jobs_new RENAME TO jobs;\n"
    "ALTER TABLE job_retries_new RENAME TO job_retries;\n"
    "CREATE INDEX jobs_runnable ON jobs(state, priority, id);\n"
    "CREATE INDEX job_retries_due ON job_retries(job_id, next_at);\n";

/* Intake: the owners of a list (staff addresses: LIST-owner@ forwarding and
 * the daily summary), what a list does past the bounce threshold, when a
 * subscription last bounced (the score decays from then), the intake spool
 * (a message is answered 250 only once it is here; sealed under a key of its
 * own, deleted once handled, or kept aside when its handling crashed three
 * times) and per-list daily counters (aggregates only, no person). */
static const char M6[] =
    "ALTER TABLE lists ADD COLUMN owners TEXT NOT NULL DEFAULT '';\n"
    "ALTER TABLE lists ADD COLUMN bounce_action TEXT NOT NULL DEFAULT 'disable' CHECK "
    "(bounce_action IN ('disable','remove'));\n"
    "ALTER TABLE subscriptions ADD COLUMN bounce_at INTEGER NOT NULL DEFAULT 0;\n"
    "CREATE TABLE intake_spool(\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  received INTEGER NOT NULL,\n"
    "  wrapped_key BLOB NOT NULL,\n"
    "  data BLOB NOT NULL,\n"
    "  size INTEGER NOT NULL,\n"
    "  attempts INTEGER NOT NULL DEFAULT 0,\n"
    "  quarantined INTEGER NOT NULL DEFAULT 0,\n"
    "  updated INTEGER NOT NULL\n"
    ");\n"
    "CREATE INDEX intake_spool_pending ON intake_spool(quarantined, id);\n"
    "CREATE TABLE daily_counts(\n"
    "  list_id INTEGER NOT NULL,\n"
    "  day INTEGER NOT NULL,\n"
    "  name TEXT NOT NULL,\n"
    "  n INTEGER NOT NULL,\n"
    "  PRIMARY KEY (list_id, day, name)\n"
    ") WITHOUT ROWID;\n";

/* Intake's replies to command mail, counted per address like confirmation
 * mails (confirm_limits), so that forged senders cannot make the server a
 * source of backscatter: keyed address hash only, a row lives one window. */
static const char M7[] = "CREATE TABLE reply_limits(\n"
			 "  addr_hash BLOB PRIMARY KEY,\n"
			 "  window_start INTEGER NOT NULL,\n"
			 "  count INTEGER NOT NULL\n"
			 ") WITHOUT ROWID;\n"
			 "CREATE INDEX reply_limits_by_start ON reply_limits(window_start);\n";

/* Aggregate statistics (P6): one row per day (UTC, YYYY-MM-DD), list (0: no
 * one list), counter and key (a route pattern, a browser family, a country
 * code, a job id), with a count and, for unique opens, a HyperLogLog sketch
 * (core/hll.h). Nothing per visit or per person. */
static const char M8[] = "CREATE TABLE stats_daily(\n"
			 "  day TEXT NOT NULL,\n"
			 "  list_id INTEGER NOT NULL,\n"
			 "  counter TEXT NOT NULL,\n"
			 "  key TEXT NOT NULL,\n"
			 "  value INTEGER NOT NULL DEFAULT 0,\n"
			 "  sketch BLOB,\n"
			 "  PRIMARY KEY (day, list_id, counter, key)\n"
			 ") WITHOUT ROWID;\n";

/* One table of daily counters: the intake's (daily_counts, migration 6:
 * unparsable bounces, quarantined spool rows, summaries sent) move into
 * stats_daily with their name as the counter and an empty key. */
static const char M9[] =
    "INSERT INTO stats_daily(day, list_id, counter, key, value)\n"
    "  SELECT date(day * 86400, 'unixepoch'), list_id, name, '', n FROM daily_counts WHERE 1\n"
    "  ON CONFLICT (day, list_id, counter, key) DO UPDATE SET value = value + excluded.value;\n"
    "DROP TABLE daily_counts;\n";

/* The intake's handled markers: a spool row (its id in the spool file, never
 * reused, and the first bytes of its random wrapped key, so that a row of a
 * spool file made anew is not taken for an old one) marked in the handling's
 * own transaction, so that a handled row whose deletion from the spool was
 * lost in a crash is not handled twice (intake/spool.c). Forgotten once the
 * row's deletion is synced. */
static const char M10[] = "CREATE TABLE intake_handled(\n"
			  "  spool_id INTEGER PRIMARY KEY,\n"
			  "  tag BLOB NOT NULL\n"
			  ");\n";

/* The messages of a job that were never handed to the relay for a reason of
 * ours (an address the SMTP client will not write, a message over the
 * relay's SIZE) or that waited for a connection past retry_max, counted by
 * reason (delivery/relay.h): they are the job's failures, never scored
 * against the recipient. */
static const char M11[] = "CREATE TABLE job_failures(\n"
			  "  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,\n"
			  "  reason TEXT NOT NULL,\n"
			  "  n INTEGER NOT NULL,\n"
			  "  PRIMARY KEY (job_id, reason)\n"
			  ") WITHOUT ROWID;\n";

/* The soft part of a subscription's bounce score (full mailboxes, final
 * temporary failures): [bounce] soft_per_hard of them make one point of
 * bounce_score (lists/bounces.h). */
static const char M12[] =
    "ALTER TABLE subscriptions ADD COLUMN soft_score INTEGER NOT NULL DEFAULT 0;\n";

/* The moderation queue: posts to discussion lists held for the moderators
 * (lists/held.c). The sender's address and the message are sealed together
 * under the row's own data key, wrapped by the master key; the sender's
 * keyed hash finds a person's posts for erasure; expires is when the row and
 * its data are deleted (the days given to held_put). */
static const char M13[] = "CREATE TABLE held(\n"
			  "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
			  "  list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,\n"
			  "  created INTEGER NOT NULL,\n"
			  "  expires INTEGER NOT NULL,\n"
			  "  reason TEXT NOT NULL,\n"
			  "  detail TEXT NOT NULL,\n"
			  "  sender_hash BLOB NOT NULL,\n"
			  "  wrapped_key BLOB NOT NULL,\n"
			  "  data BLOB NOT NULL,\n"
			  "  size INTEGER NOT NULL\n"
			  ");\n"
			  "CREATE INDEX held_list ON held(list_id, id);\n"
			  "CREATE INDEX held_sender ON held(sender_hash);\n"
			  "CREATE INDEX held_expires ON held(expires);\n";

/* Staff accounts for the admin interface (lists/staff.h): the name, the
 * Argon2id hash of the password (crypto/password.h); their roles (admin of
 * the site with list_id 0; owner, moderator or editor of one list); the
 * sign-in sessions and API tokens, each kept only as a keyed hash of the
 * secret the browser or the client holds. Deleting an account or a list
 * deletes what hangs on it. The audit log is read by time (the admin page,
 * pruning after [admin] audit_days). */
static const char M14[] =
    "CREATE TABLE staff(\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  name TEXT NOT NULL UNIQUE,\n"
    "  pw_hash TEXT NOT NULL,\n"
    "  created INTEGER NOT NULL\n"
    ");\n"
    "CREATE TABLE staff_roles(\n"
    "  staff_id INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,\n"
    "  role TEXT NOT NULL CHECK (role IN ('admin','owner','moderator','editor')),\n"
    "  list_id INTEGER NOT NULL,\n"
    "  PRIMARY KEY (staff_id, role, list_id)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TRIGGER staff_roles_list AFTER DELETE ON lists BEGIN\n"
    "  DELETE FROM staff_roles WHERE list_id = old.id;\n"
    "END;\n"
    "CREATE TABLE staff_sessions(\n"
    "  hash BLOB PRIMARY KEY,\n"
    "  staff_id INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,\n"
    "  created INTEGER NOT NULL,\n"
    "  seen INTEGER NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX staff_sessions_staff ON staff_sessions(staff_id);\n"
    "CREATE TABLE api_tokens(\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  hash BLOB NOT NULL UNIQUE,\n"
    "  staff_id INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,\n"
    "  scope TEXT NOT NULL CHECK (scope IN ('read','write')),\n"
    "  created INTEGER NOT NULL\n"
    ");\n"
    "CREATE INDEX audit_log_time ON audit_log(time);\n";
/* A distribution: a post to a discussion list, sent to its recipients, the
 * post sealed in rcpt_sealed (lists/jobs.h). The kind's CHECK takes the new
 * name; SQLite cannot change a CHECK, so jobs is rebuilt as in migration 5,
 * its two dependants (retries, failures) rebuilt against the new table first
 * so that dropping the old one cascades into nothing. */
static const char M15[] =
    "CREATE TABLE jobs_new(\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  list_id INTEGER NOT NULL,\n"
    "  kind TEXT NOT NULL CHECK (kind IN "
    "('campaign','confirm','reply','request','notice','distribution')),\n"
    "  state TEXT NOT NULL CHECK (state IN ('scheduled','running','paused','done','cancelled')),\n"
    "  priority INTEGER NOT NULL DEFAULT 0,\n"
    "  subject TEXT NOT NULL,\n"
    "  body_text TEXT NOT NULL,\n"
    "  body_html TEXT,\n"
    "  recipient_id INTEGER NOT NULL DEFAULT 0,\n"
    "  not_before INTEGER NOT NULL,\n"
    "  cursor INTEGER NOT NULL DEFAULT 0,\n"
    "  sent INTEGER NOT NULL DEFAULT 0,\n"
    "  failed INTEGER NOT NULL DEFAULT 0,\n"
    "  total INTEGER NOT NULL DEFAULT 0,\n"
    "  pause_reason TEXT NOT NULL DEFAULT '',\n"
    "  resume_at INTEGER NOT NULL DEFAULT 0,\n"
    "  created INTEGER NOT NULL,\n"
    "  updated INTEGER NOT NULL,\n"
    "  finished INTEGER NOT NULL DEFAULT 0,\n"
    "  lease_owner TEXT NOT NULL DEFAULT '',\n"
    "  lease_until INTEGER NOT NULL DEFAULT 0,\n"
    "  rcpt_sealed BLOB\n"
    ");\n"
    "INSERT INTO jobs_new SELECT * FROM jobs;\n"
    "CREATE TABLE job_retries_new(\n"
    "  job_id INTEGER NOT NULL REFERENCES jobs_new(id) ON DELETE CASCADE,\n"
    "  subscriber_id INTEGER NOT NULL,\n"
    "  attempts INTEGER NOT NULL,\n"
    "  first_at INTEGER NOT NULL,\n"
    "  next_at INTEGER NOT NULL,\n"
    "  last_error TEXT NOT NULL DEFAULT '',\n"
    "  PRIMARY KEY (job_id, subscriber_id)\n"
    ") WITHOUT ROWID;\n"
    "INSERT INTO job_retries_new SELECT * FROM job_retries;\n"
    "CREATE TABLE job_failures_new(\n"
    "  job_id INTEGER NOT NULL REFERENCES jobs_new(id) ON DELETE CASCADE,\n"
    "  reason TEXT NOT NULL,\n"
    "  n INTEGER NOT NULL,\n"
    "  PRIMARY KEY (job_id, reason)\n"
    ") WITHOUT ROWID;\n"
    "INSERT INTO job_failures_new SELECT * FROM job_failures;\n"
    "DROP TABLE job_retries;\n"
    "DROP TABLE job_failures;\n"
    "DROP TABLE jobs;\n"
    "ALTER TABLE jobs_new RENAME TO jobs;\n"
    "ALTER TABLE job_retries_new RENAME TO job_retries;\n"
    "ALTER TABLE job_failures_new RENAME TO job_failures;\n"
    "CREATE INDEX jobs_runnable ON jobs(state, priority, id);\n"
    "CREATE INDEX job_retries_due ON job_retries(job_id, next_at);\n";

/* The archive of discussion lists (lists/archive.h, docs/archives.md): one
 * row per post and list, found by its Message-ID-Hash (Mailman 3: base32 of
 * the SHA-1 of the Message-ID), with its thread (the root post's id; the
 * parent's hash kept so that a parent archived later adopts its replies),
 * month, author (display name, address, and the address's keyed hash by
 * which an erasure finds their posts), the decoded text for pages and
 * search, and the message as stored. Attachments are kept decoded in
 * archive_parts for their downloads. archive_fts is the search index over
 * subject, author and body with the post's table as its content
 * (external content: the store deletes index rows with their original
 * text before it changes or deletes a post). lists.archive_erase says
 * what `person erase` does to a person's posts: redact or remove. */
static const char M16[] =
    "ALTER TABLE lists ADD COLUMN archive_erase TEXT NOT NULL DEFAULT 'redact' CHECK "
    "(archive_erase IN ('redact','remove'));\n"
    "CREATE TABLE archive(\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,\n"
    "  hash TEXT NOT NULL,\n"
    "  message_id TEXT NOT NULL,\n"
    "  parent_hash TEXT NOT NULL DEFAULT '',\n"
    "  parent_id INTEGER NOT NULL DEFAULT 0,\n"
    "  thread_id INTEGER NOT NULL DEFAULT 0,\n"
    "  date INTEGER NOT NULL,\n"
    "  month TEXT NOT NULL,\n"
    "  subject TEXT NOT NULL,\n"
    "  thread_key TEXT NOT NULL,\n"
    "  author TEXT NOT NULL,\n"
    "  author_addr TEXT NOT NULL,\n"
    "  author_hash BLOB NOT NULL,\n"
    "  body TEXT NOT NULL,\n"
    "  raw BLOB NOT NULL,\n"
    "  UNIQUE (list_id, hash)\n"
    ");\n"
    "CREATE INDEX archive_month ON archive(list_id, month, date);\n"
    "CREATE INDEX archive_list_date ON archive(list_id, date);\n"
    "CREATE INDEX archive_thread ON archive(thread_id, date);\n"
    "CREATE INDEX archive_parent ON archive(list_id, parent_hash);\n"
    "CREATE INDEX archive_subject ON archive(list_id, thread_key, date);\n"
    "CREATE INDEX archive_author ON archive(author_hash);\n"
    "CREATE TABLE archive_parts(\n"
    "  post_id INTEGER NOT NULL REFERENCES archive(id) ON DELETE CASCADE,\n"
    "  n INTEGER NOT NULL,\n"
    "  filename TEXT NOT NULL,\n"
    "  ctype TEXT NOT NULL,\n"
    "  data BLOB NOT NULL,\n"
    "  PRIMARY KEY (post_id, n)\n"
    ") WITHOUT ROWID;\n"
    "CREATE VIRTUAL TABLE archive_fts USING fts5(subject, author, body, content='archive', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2');\n";

static const char *const MIGRATIONS[] = {M1, M2,  M3,  M4,  M5,	 M6,  M7,  M8,
					 M9, M10, M11, M12, M13, M14, M15, M16};

int migrations_sqlite_count(void)
{
	return (int)(sizeof(MIGRATIONS) / sizeof(MIGRATIONS[0]));
}

const char *migrations_sqlite_get(int n)
{
	if (n < 1 || n > migrations_sqlite_count())
		return NULL;
	return MIGRATIONS[n - 1];
}
