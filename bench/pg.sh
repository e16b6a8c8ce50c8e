#!/usr/bin/env bash
# bench/pg.sh: the same work on the SQLite store and on the PostgreSQL store
# (one node), side by side in one run: `listkeeper import --confirmed` of
# ROWS rows into a fresh store, then one campaign to those ROWS recipients
# over 4 connections to Postfix's smtp-sink. PostgreSQL is a server of its
# own (tests/pg_lib.bash: initdb into a temporary folder, a Unix socket only,
# fsync on as a real one would have it), removed at the end.
#   usage: bench/pg.sh PATH/TO/listkeeper [ROWS]   (default 100000)
set -euo pipefail
lk=$(readlink -f "${1:?listkeeper binary}")
rows=${2:-100000}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/pg_lib.bash"
w=$(mktemp -d)
sink_pid=
cleanup() { [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null; pg_stop; rm -rf "$w"; }
trap cleanup EXIT
for t in /usr/sbin/smtp-sink /usr/bin/time; do
  [ -x "$t" ] || { echo "bench: $t missing (scripts/deps.sh installs it)"; exit 1; }
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/sbin/smtp-sink -u nobody 127.0.0.1:$port 1024 & sink_pid=$!
pg_start
# the test harness turns fsync off; a benchmark keeps PostgreSQL's defaults
psql -X -q -c "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET synchronous_commit = on" \
  -c "ALTER SYSTEM SET full_page_writes = on" -c "SELECT pg_reload_conf()" >/dev/null
dsn=$(pg_newdb bench)

awk -v n="$rows" 'BEGIN { print "email,name"; for (i = 1; i <= n; i++) printf "r%d@sink.example,Reader %d\n", i, i }' > "$w/people.csv"
awk 'BEGIN { for (i = 0; i < 40; i++) print "Line " i " of the weekly newsletter, with some words to make it a normal size." }' > "$w/body.txt"
secs() { awk '/Elapsed \(wall clock\)/ { n = split($NF, a, ":"); if (n == 2) print a[1] * 60 + a[2]; else print a[1] * 3600 + a[2] * 60 + a[3] }' "$1"; }
rss() { awk '/Maximum resident set size/ { print int($NF / 1024) }' "$1"; }

run() { # run TAG BACKEND DSN
  local d="$w/$1"
  export LISTKEEPER_CONFIG="$d/listkeeper.conf"
  "$lk" init --dir "$d" --domain bench.example >/dev/null
  if [ "$2" = postgresql ]; then
    export LISTKEEPER_STORE_BACKEND=postgresql LISTKEEPER_STORE_DSN="$3"
    "$lk" init --dir "$d" --domain bench.example >/dev/null 2>&1 || true # migrates the database
  else
    unset LISTKEEPER_STORE_BACKEND LISTKEEPER_STORE_DSN
  fi
  export LISTKEEPER_DELIVERY_RELAY="smtp:127.0.0.1:$port" LISTKEEPER_DELIVERY_TLS=none
  export LISTKEEPER_DELIVERY_CONNECTIONS=4 LISTKEEPER_LOG_LEVEL=warn
  "$lk" list create news --title News --postal-address "1 Bench St" >/dev/null
  /usr/bin/time -v -o "$w/$1-import.time" "$lk" import news "$w/people.csv" --confirmed \
    --consent-note bench > "$w/$1-import.out"
  /usr/bin/time -v -o "$w/$1-send.time" "$lk" send news --subject "Hello {{name}}" \
    --text "$w/body.txt" --wait > "$w/$1-send.out"
  grep -q " done: " "$w/$1-send.out" || { cat "$w/$1-send.out"; echo "bench: $1 did not finish"; exit 1; }
}
run sqlite sqlite ""
run pg postgresql "$dsn"
n_pg=$(psql -X -At -d bench -c "SELECT count(*) FROM subscriptions WHERE state = 1")
[ "$n_pg" -eq "$rows" ] || { echo "bench: PostgreSQL holds $n_pg active subscriptions, not $rows"; exit 1; }

row() { # row LABEL TIMEFILE
  local t; t=$(secs "$2")
  awk -v l="$1" -v n="$rows" -v t="$t" -v m="$(rss "$2")" 'BEGIN { printf "%-40s %10.0f %9.2f %8d MiB\n", l, n / t, t, m }'
}
echo
printf "%-40s %10s %9s %12s\n" "$rows rows / recipients" "per second" seconds "peak RSS"
row "import --confirmed, SQLite" "$w/sqlite-import.time"
row "import --confirmed, PostgreSQL" "$w/pg-import.time"
row "send --wait to smtp-sink, SQLite" "$w/sqlite-send.time"
row "send --wait to smtp-sink, PostgreSQL" "$w/pg-send.time"
awk -v a="$(secs "$w/sqlite-import.time")" -v b="$(secs "$w/pg-import.time")" \
  -v c="$(secs "$w/sqlite-send.time")" -v d="$(secs "$w/pg-send.time")" 'BEGIN {
  printf "import PostgreSQL / SQLite: %.2f (target >= 1.0)\n", a / b;
  printf "send PostgreSQL one node / SQLite: %.2f (target >= 0.7)\n", c / d }'
echo "$(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
