#!/usr/bin/env bash
# `ledger verify` passes on an honest ledger and names the event when a row
# was changed, removed, or two rows were swapped.
LK=$1
. "$(dirname "$0")/lib.bash"
command -v sqlite3 >/dev/null || { echo "sqlite3 shell missing"; exit 1; }

lk init --dir "$T" >/dev/null
lk list create news >/dev/null
for i in 1 2 3 4 5; do lk sub add news "p$i@example.org" >/dev/null; done
check "intact ledger verifies" lk ledger verify
db="$T/listkeeper.db"
cp "$db" "$T/clean.db"
restore() { cp "$T/clean.db" "$db"; rm -f "$db-wal" "$db-shm"; }

sqlite3 "$db" "UPDATE consent_events SET action = 'subscribe-confirmed-by-admin' WHERE id = 3"
out=$(lk ledger verify) && bad "changed row not detected" || check "changed row: event 3 named" grep -q "event 3" <<<"$out"
restore
sqlite3 "$db" "UPDATE consent_events SET time = time + 1 WHERE id = 2"
out=$(lk ledger verify) && bad "changed time not detected" || check "changed time: event 2 named" grep -q "event 2" <<<"$out"
restore
sqlite3 "$db" "DELETE FROM consent_events WHERE id = 2"
out=$(lk ledger verify) && bad "removed row not detected" || check "removed row detected" grep -q "removed" <<<"$out"
restore
sqlite3 "$db" "DELETE FROM consent_events WHERE id = 5"
out=$(lk ledger verify) && bad "removed last row not detected" || check "removed last row detected" grep -q "removed" <<<"$out"
restore
sqlite3 "$db" "UPDATE consent_events SET id = -2 WHERE id = 2; UPDATE consent_events SET id = 2 WHERE id = 4; UPDATE consent_events SET id = 4 WHERE id = -2;"
out=$(lk ledger verify) && bad "reordered rows not detected" || check "reordered rows detected" grep -q "event 2" <<<"$out"
restore
check "restored ledger verifies" lk ledger verify
finish
