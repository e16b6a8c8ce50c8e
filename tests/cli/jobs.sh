#!/usr/bin/env bash
# The job lifecycle from the command line (lists/joblife.h): pause and resume
# go; a transition the state refuses (resume a cancelled job, cancel a done
# one, resume a running one) is a clear error, exit 65, and changes nothing.
LK=$1
. "$(dirname "$0")/lib.bash"

lk init --dir "$T" --domain lists.example.org >/dev/null
export LISTKEEPER_DELIVERY_RELAY="maildir:$T/out" LISTKEEPER_LOG_LEVEL=warn
lk list create news --title "News" --postal-address "1 Main St" >/dev/null
lk sub add news reader@example.org --name Reader --confirmed --consent-note test >/dev/null
printf 'Hello {{name}}\n' > "$T/body.txt"
db() { sqlite3 "$T/listkeeper.db" "$1"; }
row() { db "SELECT state, pause_reason, updated, finished FROM jobs WHERE id = $1"; }

# job 1: scheduled for later; paused, resumed, cancelled by hand
lk send news --subject "Later" --text "$T/body.txt" --at @4102444800 >/dev/null
id=$(db "SELECT max(id) FROM jobs WHERE kind = 'campaign'")
check "pause" grep -q "job $id: paused" <<<"$(lk job pause "$id")"
check "paused by hand" grep -q "^state: paused" <<<"$(lk job show "$id")"
check "resume" grep -q "job $id: resumed" <<<"$(lk job resume "$id")"
before=$(row "$id")
rc=0; out=$(lk job resume "$id" 2>&1) || rc=$?
check "resume a running job: exit 65" [ "$rc" -eq 65 ]
check "resume a running job: says why" grep -q "job $id is running, not paused" <<<"$out"
check "resume a running job: nothing changed" [ "$(row "$id")" = "$before" ]
check "cancel" grep -q "job $id: cancelled" <<<"$(lk job cancel "$id")"
before=$(row "$id")
rc=0; out=$(lk job resume "$id" 2>&1) || rc=$?
check "resume a cancelled job: exit 65" [ "$rc" -eq 65 ]
check "resume a cancelled job: says why" \
  grep -q "listkeeper job resume: job $id is cancelled already: a cancelled job cannot be resumed" <<<"$out"
check "resume a cancelled job: nothing changed" [ "$(row "$id")" = "$before" ]
check "resume a cancelled job: still cancelled" grep -q "^state: cancelled" <<<"$(lk job show "$id")"
check "resume a cancelled job: no audit entry" \
  [ "$(db "SELECT count(*) FROM audit_log WHERE action = 'job-resume'")" = 1 ]

# job 2: sent to the end; cancelling it is refused
out=$(timeout 60 "$LK" send news --subject "Now" --text "$T/body.txt" --wait)
check "sent" grep -q "done: 1 sent, 0 failed" <<<"$out"
id=$(db "SELECT max(id) FROM jobs WHERE kind = 'campaign'")
before=$(row "$id")
rc=0; out=$(lk job cancel "$id" 2>&1) || rc=$?
check "cancel a done job: exit 65" [ "$rc" -eq 65 ]
check "cancel a done job: says why" \
  grep -q "listkeeper job cancel: job $id is done already: a done job cannot be cancelled" <<<"$out"
check "cancel a done job: nothing changed" [ "$(row "$id")" = "$before" ]
check "cancel a done job: still done" grep -q "^state: done" <<<"$(lk job show "$id")"
rc=0; lk job pause 999 2>/dev/null || rc=$?
check "an unknown job: exit 65" [ "$rc" -eq 65 ]
finish
