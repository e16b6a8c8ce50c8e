#!/usr/bin/env bash
# `listkeeper store migrate --to postgresql`: a SQLite store with lists,
# subscribers, an erasure, suppressions and a sent campaign is copied into
# a real PostgreSQL (tests/pg_lib.bash: a server of its own on a Unix socket
# in a temporary folder); the copy holds the same rows and a ledger whose
# chain verifies, and listkeeper works on it. A second copy into the same
# database and a DSN with a password are refused.
LK=$1
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/../pg_lib.bash"
unset LISTKEEPER_STORE_BACKEND LISTKEEPER_STORE_DSN
trap 'rc=$?; pg_stop; (exit $rc); at_exit' EXIT
export LK

lk init --dir "$T" >/dev/null
lk list create news >/dev/null
lk list create other >/dev/null
{ echo email,name; for i in $(seq 1 40); do echo "p$i@example.org,Person $i"; done; } > "$T/p.csv"
lk import news "$T/p.csv" >/dev/null
lk sub add other p1@example.org >/dev/null
lk sub rm news p2@example.org >/dev/null
lk person erase p3@example.org --yes >/dev/null
printf 'The first issue.\n' > "$T/msg"
lk send news --subject Hello --text "$T/msg" --wait >/dev/null 2>&1
lk sub ls news > "$T/news.sqlite"
lk sub ls other > "$T/other.sqlite"
check "the SQLite ledger verifies" lk ledger verify

pg_start
dsn=$(pg_newdb lk)
set +e
lk store migrate --to postgresql --dsn "$dsn" > "$T/out" 2> "$T/err"
rc=$?
set -e
cat "$T/out" "$T/err" >&2
check "store migrate exits 0" [ "$rc" -eq 0 ]
check "it says copied and verified" grep -q "copied and verified" "$T/out"
check "it shows progress per table" grep -q "^store migrate: subscribers 38/38" "$T/err"

export LISTKEEPER_STORE_BACKEND=postgresql LISTKEEPER_STORE_DSN="$dsn"
check "the copy's ledger verifies" lk ledger verify
check "the lists are there" bash -c "\"\$LK\" list ls | grep -q news && \"\$LK\" list ls | grep -q other"
lk sub ls news > "$T/news.pg"
lk sub ls other > "$T/other.pg"
check "news has the same members" cmp -s "$T/news.sqlite" "$T/news.pg"
check "other has the same members" cmp -s "$T/other.sqlite" "$T/other.pg"
check "the erased person is gone" bash -c "! grep -q p3@example.org '$T/news.pg'"
check "the erased person stays suppressed" bash -c "! \"\$LK\" sub add news p3@example.org >/dev/null 2>&1"
check "a new subscriber can be added" lk sub add news new@example.org
check "and is listed" bash -c "\"\$LK\" sub ls news | grep -q new@example.org"
check "a person is erased on PostgreSQL" lk person erase p4@example.org --yes
check "and is gone from the list" bash -c "! \"\$LK\" sub ls news | grep -q p4@example.org"
check "the ledger still verifies after new events" lk ledger verify

unset LISTKEEPER_STORE_BACKEND LISTKEEPER_STORE_DSN
set +e
lk store migrate --to postgresql --dsn "$dsn" > /dev/null 2> "$T/err2"
rc=$?
set -e
check "a second copy into the same database is refused (65)" [ "$rc" -eq 65 ]
check "because the target is not empty" grep -q "not empty" "$T/err2"
set +e
lk store migrate --to postgresql --dsn "host=$PGHOST dbname=lk password=x" > /dev/null 2> "$T/err3"
rc=$?
set -e
check "a DSN with a password is refused" [ "$rc" -ne 0 ]
check "saying where the password goes" grep -q "PGPASSFILE" "$T/err3"
finish
