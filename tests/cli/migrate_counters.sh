#!/usr/bin/env bash
# Migration 9: the intake's daily counters (daily_counts, migration 6) move
# into the statistics table (stats_daily, migration 8). A database of schema
# 8 with rows in both tables is migrated by `listkeeper init`; afterwards
# `listkeeper stats` and `summary show` print the numbers the rows held, and
# a summary marked sent stays sent.
LK=$1
. "$(dirname "$0")/lib.bash"
lk init --dir "$T" --domain lists.example.org >/dev/null
lk list create news --owner boss@example.org >/dev/null
q() { sqlite3 "$T/listkeeper.db" "$1"; }
news=$(q "SELECT id FROM lists WHERE name = 'news'")
today=$(date -u +%F)
yesterday=$(date -u -d yesterday +%F)
day=$(( $(date -u +%s) / 86400 ))

# Back to schema 8: daily_counts as migration 6 made it, and rows in both tables
# (and the tables of later migrations gone).
q "DROP TABLE intake_handled; DROP TABLE job_failures; ALTER TABLE subscriptions DROP COLUMN soft_score; DROP TABLE held;
   DROP TABLE api_tokens; DROP TABLE staff_sessions; DROP TRIGGER staff_roles_list; DROP TABLE staff_roles; DROP TABLE staff; DROP INDEX audit_log_time;
   DROP TABLE archive_fts; DROP TABLE archive_parts; DROP TABLE archive; ALTER TABLE lists DROP COLUMN archive_erase;
   CREATE TABLE daily_counts(list_id INTEGER NOT NULL, day INTEGER NOT NULL, name TEXT NOT NULL,
   n INTEGER NOT NULL, PRIMARY KEY (list_id, day, name)) WITHOUT ROWID;
   PRAGMA user_version = 8;
   INSERT INTO daily_counts VALUES ($news, $day, 'bounce-unparsable', 3),
     ($news, $((day - 1)), 'bounce-unparsable', 1), ($news, $((day - 1)), 'summary-sent', 1),
     (0, $day, 'intake-quarantined', 2);
   INSERT INTO stats_daily(day, list_id, counter, key, value) VALUES
     ('$today', $news, 'view', '/l/NAME', 7), ('$today', 0, 'view', '/', 5),
     ('$yesterday', 0, 'view', '/', 4), ('$today', 0, 'browser', 'firefox', 9),
     ('$today', 0, 'country', 'DE', 2);"
check "schema 8 is refused before the migration" bash -c "! '$LK' stats 2>/dev/null"

lk init --dir "$T" >/dev/null
check "migrated to schema 9 and on" [ "$(q 'PRAGMA user_version')" -ge 9 ]
check "daily_counts is gone" [ "$(q "SELECT count(*) FROM sqlite_master WHERE name = 'daily_counts'")" = 0 ]
check "the quarantine count moved" \
  [ "$(q "SELECT value FROM stats_daily WHERE day = '$today' AND list_id = 0 AND counter = 'intake-quarantined' AND key = ''")" = 2 ]

out=$(lk stats)
check "stats: / today 5" grep -Eq "^  $today  / +5$" <<<"$out"
check "stats: / yesterday 4" grep -Eq "^  $yesterday  / +4$" <<<"$out"
check "stats: /l/NAME today 7" grep -Eq "^  $today  /l/NAME +7$" <<<"$out"
check "stats: total 16" grep -Eq "^  total +16$" <<<"$out"
check "stats: firefox 9" grep -Eq "^  firefox +9$" <<<"$out"
check "stats: DE 2" grep -Eq "^  DE +2$" <<<"$out"
check "stats: the intake's counters are no page views" bash -c "! sed -n '/^page views/,/^browsers/p' <<<'$out' | grep -q 'unparsable\|quarantined\|summary'"
check "stats: 4 unparsable bounces (3 today, 1 yesterday)" grep -Eq "^  unparsable +4$" <<<"$out"
check "stats: 2 messages quarantined" grep -Eq "^  quarantined +2$" <<<"$out"
check "stats: the summaries sent are not shown" bash -c "! grep -q summary <<<'$out'"
out=$(lk stats news)
check "stats news: 7 views" grep -Eq "^  total +7$" <<<"$out"
check "stats news: its 4 unparsable bounces" grep -Eq "^  unparsable +4$" <<<"$out"
check "stats news: no quarantine (it is the server's, not the list's)" bash -c "! grep -q quarantined <<<'$out'"

check "summary today: three unparsable bounces" \
  grep -Eq "could not be understood +3$" <<<"$(lk summary show news --day "$today")"
check "summary yesterday: one unparsable bounce" \
  grep -Eq "could not be understood +1$" <<<"$(lk summary show news --day "$yesterday")"
check "yesterday's summary stays sent" \
  grep -q "^news: sent already" <<<"$(lk summary send --day "$yesterday")"
check "no notice job" [ "$(q "SELECT count(*) FROM jobs WHERE kind = 'notice'")" = 0 ]
finish
