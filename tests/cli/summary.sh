#!/usr/bin/env bash
# The owners' daily summary: counts of one day from the ledger and the daily
# counters, queued once per list and day as notice jobs to the owners, sent by
# the delivery role; counts only, no address of a subscriber. serve's
# scheduler role queues yesterday's by itself from [summary] hour on, once a
# day across restarts; hour -1 turns it off.
LK=$1
. "$(dirname "$0")/lib.bash"
kill_at_exit pid
lk init --dir "$T" --domain lists.example.org >/dev/null
export LISTKEEPER_DELIVERY_RELAY="maildir:$T/out" LISTKEEPER_LOG_LEVEL=warn
lk list create news --owner 'boss@example.org,second@example.org' >/dev/null
lk list create quiet --owner 'boss@example.org' >/dev/null
lk list create orphan >/dev/null
{ echo email; for w in a b c; do echo "$w@example.org"; done; } > "$T/p.csv"
lk import news "$T/p.csv" --confirmed --consent-note test >/dev/null
lk sub add news pending@example.org >/dev/null
lk sub rm news c@example.org >/dev/null
q() { sqlite3 "$T/listkeeper.db" "$1"; }
# a complaint, a bounce removal and an unparsable bounce, as the intake records them
news=$(q "SELECT id FROM lists WHERE name = 'news'")
today=$(date -u +%F)
q "INSERT INTO stats_daily(day, list_id, counter, key, value) VALUES ('$today', $news, 'bounce-unparsable', '', 2)"

out=$(lk summary show news --day "$today")
check "show: subject names the list and the day" grep -q "^Subject: Daily summary of news@lists.example.org for $today" <<<"$out"
check "show: four new (three imported, one pending)" grep -Eq "new subscriptions .* 4$" <<<"$out"
check "show: one left" grep -Eq "^  left  +1$" <<<"$out"
check "show: two unparsable bounces" grep -Eq "could not be understood +2$" <<<"$out"
check "show: no subscriber address" bash -c "! grep -q '@example.org' <<<'$out'"
check "show: another day is empty" grep -Eq "new subscriptions .* 0$" <<<"$(lk summary show news --day 2001-01-01)"

out=$(lk summary send --day "$today")
check "send: news queued to two owners" grep -q "^news: summary queued to 2 owners" <<<"$out"
check "send: quiet had nothing" grep -q "^quiet: nothing happened" <<<"$out"
check "send: orphan has no owners" grep -q "^orphan: no owners" <<<"$out"
check "two notice jobs" [ "$(q "SELECT count(*) FROM jobs WHERE kind = 'notice'")" = 2 ]
check "send again: nothing more" grep -q "^news: sent already" <<<"$(lk summary send --day "$today")"
check "still two notice jobs" [ "$(q "SELECT count(*) FROM jobs WHERE kind = 'notice'")" = 2 ]
if lk summary send --day yesterday 2>/dev/null; then bad "bad day accepted"; else ok "bad day refused"; fi

# the delivery role sends them
timeout 60 "$LK" serve --role delivery > "$T/serve.out" 2>&1 &
pid=$!
for _ in $(seq 200); do [ "$(grep -l "Daily summary" "$T"/out/new/* 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.1; done
kill $pid; wait $pid || true; pid=
mapfile -t files < <(grep -l "Daily summary of news" "$T"/out/new/* 2>/dev/null || true)
check "two summaries delivered" [ "${#files[@]}" = 2 ]
cat "${files[@]}" > "$T/summaries"
check "one to boss" grep -q '^To: .*boss@example.org' "$T/summaries"
check "one to second" grep -q '^To: .*second@example.org' "$T/summaries"
check "the summaries name no subscriber" bash -c "! grep -qE '(^|[^a-z])(a|b|c|pending)@example.org' '$T/summaries'"
check "the notice jobs are done and their recipients gone" \
  [ "$(q "SELECT count(*) FROM jobs WHERE kind = 'notice' AND state = 'done' AND rcpt_sealed IS NULL")" = 2 ]

# The scheduler role: yesterday's summary, once, from [summary] hour on.
yesterday=$(date -u -d yesterday +%F)
q "INSERT INTO stats_daily(day, list_id, counter, key, value) VALUES ('$yesterday', $news, 'bounce-unparsable', '', 3)"
notices() { q "SELECT count(*) FROM jobs WHERE kind = 'notice' AND subject LIKE '%$yesterday%'"; }
# sched HOUR: serve --role scheduler with that [summary] hour, until it has
# looked at the clock once (at start; the debug log says so), then stopped.
sched() {
  : > "$T/sched.log"
  LISTKEEPER_SUMMARY_HOUR=$1 LISTKEEPER_LOG_LEVEL=debug timeout 60 "$LK" serve --role scheduler \
    > "$T/sched.out" 2> "$T/sched.log" &
  pid=$!
  for _ in $(seq 400); do grep -q "scheduler: tick" "$T/sched.log" && break; sleep 0.05; done
  kill $pid; wait $pid || true; pid=
  grep -q "scheduler: tick" "$T/sched.log" || bad "the scheduler (hour $1) looked at the clock within 20 s"
}
hour=$((10#$(date -u +%H)))
sched -1
check "hour -1: the scheduler queues nothing" [ "$(notices)" = 0 ]
if [ "$hour" -lt 23 ]; then
  sched $((hour + 1))
  check "before the hour: yesterday's summary not yet queued" [ "$(notices)" = 0 ]
fi
sched "$hour"
check "from the hour on: yesterday's summary queued to both owners" [ "$(notices)" = 2 ]
check "the scheduler logs the day it sent" grep -q "scheduler: event=summary day=" "$T/sched.log"
check "the store records the day as sent" \
  [ "$(q "SELECT value FROM stats_daily WHERE day = '$yesterday' AND list_id = 0 AND counter = 'summary-run'")" = 1 ]
sched "$hour"
check "restarted: not queued twice" [ "$(notices)" = 2 ]
check "summary send (cron) for that day: sent already" grep -q "^news: sent already" <<<"$(lk summary send --day "$yesterday")"
check "still not queued twice" [ "$(notices)" = 2 ]
check "the scheduler's log names no address" bash -c "! grep -q '@example.org' '$T/sched.log'"
finish
