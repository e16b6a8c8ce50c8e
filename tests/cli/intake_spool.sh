#!/usr/bin/env bash
# The intake spool: a message is answered 250 once stored, handled after.
# With the test build of the binary (listkeeper-testhooks, built next to
# listkeeper), a marked message crashes its handler (SIGABRT): three crashes
# and it is set aside in quarantine, the next messages flow; and after a
# kill -9 of serve with messages waiting in the spool, nothing accepted is
# lost; a crash after a handling, before its row leaves the spool, does not
# have it handled twice, nor do two servers on one store.
LK=$1
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/intake_lib.bash" # for lmtp_serve; q, settle and send are defined again below
B="$(dirname "$(readlink -f "$0")")/../intake/bounces"
LKT="$(dirname "$LK")/listkeeper-testhooks"
kill_at_exit other_pid
[ -x "$LKT" ] || { echo "FAIL - no $LKT (built by the listkeeper-testhooks target)"; exit 1; }

lk init --dir "$T" --domain lists.example.org >/dev/null
export LISTKEEPER_DELIVERY_RELAY="maildir:$T/out" LISTKEEPER_LOG_LEVEL=info
lk list create news >/dev/null
{ echo email; for w in a b c d e; do echo "$w@example.org"; done; } > "$T/people.csv"
lk import news "$T/people.csv" --confirmed --consent-note test >/dev/null
printf 'Hello\n' > "$T/body.txt"
timeout 60 "$LK" send news --subject "Issue 1" --text "$T/body.txt" --wait >/dev/null
verp_map # who, subscriber id and VERP address of each recipient
check "five VERP addresses" [ "$(wc -l < "$T/map")" -eq 5 ]
q() { sqlite3 "$T/listkeeper.db" "$1"; }
SPOOL="$T/listkeeper-spool.db" # the spool's own file (synced), next to the database
qs() { sqlite3 "$SPOOL" "$1"; }
total() { q "SELECT coalesce(sum(bounce_score), 0) FROM subscriptions"; }
pending() { qs "SELECT count(*) FROM intake_spool WHERE quarantined = 0"; }

start() { LK=$1 lmtp_serve intake; } # start BINARY: serve --role intake on a free port, wait until it listens
# send WHO FILE [MARK]: a bounce for WHO's VERP address (with MARK in it), over LMTP
send() {
  local v; v=$(verp "$1")
  sed -e "s/news-bounces+[A-Za-z0-9_-]*@lists.example.org/$v/g" -e "s/^Subject: .*/&${3:+ $3}/" \
    "$2" > "$T/msg.eml"
  swaks --server 127.0.0.1 --port "$port" --protocol LMTP --helo test.example \
    --from '<>' --to "$v" --data "@$T/msg.eml" --timeout 20 </dev/null 2>&1 || true
}
ws=
waitdead() { # waitdead: serve ended by itself within 20 s; its exit status in $ws
  for _ in $(seq 400); do kill -0 $serve_pid 2>/dev/null || break; sleep 0.05; done
  ws=0; wait $serve_pid 2>/dev/null || ws=$?; serve_pid=
}
launch() { # launch BINARY: serve --role intake, without waiting (it may crash at once)
  : >"$T/serve.out" # now: the wait below must not read an old file, or none (serve truncates it only once it runs)
  LISTKEEPER_LMTP_LISTEN=127.0.0.1:0 "$1" serve --role intake > "$T/serve.out" 2>> "$T/serve.log" &
  serve_pid=$!
}
settle() { # until the spool is empty: every message handled and deleted (20 s at most)
  eventually '[ "$(pending)" = 0 ]'
}
quarantined() { qs "SELECT count(*) FROM intake_spool WHERE quarantined > 0"; }
audits() { q "SELECT count(*) FROM audit_log WHERE action = '$1'"; }

# --- a message that crashes its handler --------------------------------
export LISTKEEPER_TEST_CRASH_ON=POISON-7f3a
check "serve (test build) starts" start "$LKT"
out=$(send a "$B/postfix-dsn-hard.eml" POISON-7f3a)
check "poison message: 250 (stored before it is handled)" grep -q "<-  *250 2.0.0" <<<"$out"
waitdead; check "crash 1: serve died of SIGABRT" [ "$ws" = 134 ]
check "the poison message is still in the spool, one attempt" [ "$(qs "SELECT attempts FROM intake_spool")" = 1 ]
launch "$LKT"; waitdead; check "crash 2 (on start: the spool is handled first)" [ "$ws" = 134 ]
launch "$LKT"; waitdead; check "crash 3" [ "$ws" = 134 ]
check "three attempts counted" [ "$(qs "SELECT attempts FROM intake_spool")" = 3 ]
check "restart after three crashes stays up" start "$LKT"
# The worker's first pass sets it aside: the spool row, then the audit row
# and the count in the database's transaction.
check "poison message quarantined" eventually '[ "$(quarantined)" = 1 ]'
check "quarantine audited" eventually '[ "$(audits intake-quarantine)" = 1 ]'
check "quarantine counted" [ "$(q "SELECT value FROM stats_daily WHERE counter = 'intake-quarantined'")" = 1 ]
check "serve still running" kill -0 $serve_pid
check "quarantined message is sealed (no marker in the database or the spool)" bash -c "! grep -aq POISON-7f3a '$T/listkeeper.db' '$T/listkeeper.db-wal' '$SPOOL' '$SPOOL-wal'"
check "the spool file is ours alone (0600)" [ "$(stat -c %a "$SPOOL")" = 600 ]
check "the database's old spool table is not written" [ "$(q "SELECT count(*) FROM intake_spool")" = 0 ]
out=$(send b "$B/postfix-dsn-hard.eml"); settle
check "the next message flows: 250" grep -q "<-  *250 2.0.0" <<<"$out"
check "the next message was handled (score 1)" [ "$(total)" = 1 ]
check "serve still running after it" kill -0 $serve_pid

# --- the quarantine, for the administrator -------------------------------
out=$(lk intake quarantine ls)
check "quarantine ls: one message" grep -q "^1 quarantined" <<<"$out"
id=$(awk 'NR == 1 { print $1 }' <<<"$out")
check "intake spool: counts" grep -q "^quarantined: 1 " <<<"$(lk intake spool)"
out=$(lk intake quarantine show "$id")
check "quarantine show: the recipient" grep -q "^recipient: news-bounces+" <<<"$out"
check "quarantine show: the message" grep -q "POISON-7f3a" <<<"$out"
check "quarantine show audited" [ "$(audits intake-quarantine-show)" = 1 ]
if lk intake quarantine show 999 2>/dev/null; then bad "show of no message"; else ok "show of an unknown id refused"; fi
kill $serve_pid; wait $serve_pid || true; serve_pid=
unset LISTKEEPER_TEST_CRASH_ON
check "quarantine retry" lk intake quarantine retry "$id"
check "retried message back in the spool, attempts 0" [ "$(qs "SELECT attempts, quarantined FROM intake_spool")" = "0|0" ]
start "$LK"; settle
check "retried message handled once the fault is gone (score 2)" [ "$(total)" = 2 ]
kill $serve_pid; wait $serve_pid || true; serve_pid=

# --- kill -9 with accepted messages waiting in the spool ------------------
export LISTKEEPER_TEST_SLOW_MS=300
start "$LKT"
n=0
for w in a b c d e a b c d e; do
  out=$(send "$w" "$B/gmail-dsn-hard.eml")
  grep -q "<-  *250 2.0.0" <<<"$out" && n=$((n + 1))
done
check "ten bounces accepted" [ "$n" = 10 ]
kill -9 $serve_pid; wait $serve_pid 2>/dev/null || true; serve_pid=
left=$(pending)
check "kill -9 left accepted messages in the spool ($left)" [ "$left" -gt 0 ]
unset LISTKEEPER_TEST_SLOW_MS
start "$LK"
check "after the restart the spool empties" settle
check "every accepted bounce was handled (score 2 + 10)" [ "$(total)" = 12 ]
check "nothing quarantined by the kill" [ "$(qs "SELECT count(*) FROM intake_spool")" = 0 ]

# --- a crash after the handling, before the row leaves the spool ----------
# The handling marks the row handled in its own transaction (intake_handled,
# in the database): a restart finds the row and does not score it twice.
kill $serve_pid; wait $serve_pid || true; serve_pid=
export LISTKEEPER_TEST_CRASH_AFTER=AFTER-51c2
start "$LKT"
send d "$B/postfix-dsn-hard.eml" AFTER-51c2 >/dev/null
waitdead
check "crash after the handling was committed (SIGABRT)" [ "$ws" = 134 ]
check "the handled message is still in the spool" [ "$(pending)" = 1 ]
check "its bounce was scored once (score 13)" [ "$(total)" = 13 ]
sid=$(qs "SELECT id FROM intake_spool")
marked() { q "SELECT count(*) FROM intake_handled WHERE spool_id = $sid"; }
check "the row is marked handled in the database" [ "$(marked)" = 1 ]
# A stray marker (its row gone from the spool: a kill -9 took its removal)
# is swept when the worker starts; the marker of the row still in the spool
# is not (swept, the row would be handled again: a crash and a score of 14).
stray=$(( $(qs "SELECT seq FROM sqlite_sequence WHERE name = 'intake_spool'") + 1000 ))
q "INSERT INTO intake_handled(spool_id, tag) VALUES ($stray, randomblob(8))"
logn=$(wc -l < "$T/serve.log")
start "$LKT" # the same fault: it would crash again if the row were handled again
check "the stray marker is swept" eventually '[ "$(q "SELECT count(*) FROM intake_handled WHERE spool_id = $stray")" = 0 ]'
check "the sweep is logged with its count (the pending row's marker kept)" eventually 'tail -n +$((logn + 1)) "$T/serve.log" | grep -q "forgot 1 stray handled marker"' 
check "after the restart the handled row leaves the spool" settle
check "not scored twice (still 13)" [ "$(total)" = 13 ]
check "serve still running" kill -0 $serve_pid
check "its marker forgotten once the deletion is synced" eventually '[ "$(marked)" = 0 ]'
out=$(send e "$B/postfix-dsn-hard.eml"); settle
check "the next bounce is scored (14)" [ "$(total)" = 14 ]
unset LISTKEEPER_TEST_CRASH_AFTER

# --- a quarantined message can be dropped ---------------------------------
kill $serve_pid; wait $serve_pid || true; serve_pid=
export LISTKEEPER_TEST_CRASH_ON=POISON-7f3a
start "$LKT"
send c "$B/postfix-dsn-hard.eml" POISON-7f3a >/dev/null
waitdead
for i in 2 3; do launch "$LKT"; waitdead; done
start "$LKT"
check "quarantined again" eventually '[ "$(quarantined)" = 1 ] && [ "$(audits intake-quarantine)" = 2 ]'
id=$(qs "SELECT id FROM intake_spool")
# a row an earlier version left in the database's own table is moved into
# the spool file when it is opened
sqlite3 -cmd '.timeout 10000' "$T/listkeeper.db" "ATTACH '$SPOOL' AS sp; INSERT INTO intake_spool SELECT * FROM sp.intake_spool; DELETE FROM sp.intake_spool;"
check "a row left in the database's table by an earlier version is moved" grep -q "^1 quarantined" <<<"$(lk intake quarantine ls)"
check "moved: the database's table is empty" [ "$(q "SELECT count(*) FROM intake_spool")" = 0 ]
id=$(qs "SELECT id FROM intake_spool")
check "quarantine drop" lk intake quarantine drop "$id"
check "dropped: gone" [ "$(qs "SELECT count(*) FROM intake_spool")" = 0 ]
check "drop audited" [ "$(audits intake-quarantine-drop)" = 1 ]
kill $serve_pid; wait $serve_pid || true; serve_pid=

# --- two intake servers on one store -----------------------------------------
# The second one's pass on its timer takes the rows the first has not
# finished within two seconds (the first is slow here); the handled markers
# keep the two from scoring a bounce twice.
before=$(total)
export LISTKEEPER_TEST_SLOW_MS=400
start "$LKT"; other_pid=$serve_pid
n=0
for w in a b c d e a b c; do
  out=$(send "$w" "$B/gmail-dsn-hard.eml")
  grep -q "<-  *250 2.0.0" <<<"$out" && n=$((n + 1))
done
check "eight bounces accepted by the first server" [ "$n" = 8 ]
unset LISTKEEPER_TEST_SLOW_MS
start "$LK"
check "the two servers emptied the spool" settle
check "every bounce scored once ($before + 8)" [ "$(total)" = $((before + 8)) ]
check "both servers still running" kill -0 $serve_pid $other_pid
kill $serve_pid $other_pid; wait $serve_pid $other_pid || true; serve_pid= other_pid=
check "the log names no address" bash -c "! grep -q '@example.org' '$T/serve.log'"
finish
