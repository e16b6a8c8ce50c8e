#!/usr/bin/env bash
# bench/import.sh: 1,000,000 subscribers imported (confirmed) into a fresh
# SQLite store, against the raw limit of this machine: the same CSV loaded by
# the sqlite3 shell's .import into a plain table, in the same run.
#   usage: bench/import.sh PATH/TO/listkeeper [ROWS]
set -euo pipefail
lk=$(readlink -f "${1:?listkeeper binary}")
rows=${2:-1000000}
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
command -v /usr/bin/time >/dev/null || { echo "bench: /usr/bin/time missing (scripts/deps.sh installs it)"; exit 1; }

echo "bench/import: generating $rows rows"
awk -v n="$rows" 'BEGIN {
  print "email,name,country,format";
  for (i = 1; i <= n; i++)
    printf "person%d@example%d.org,Person Number %d,DE,%s\n", i, i % 97, i, (i % 3 ? "text" : "html");
}' > "$w/people.csv"
size=$(stat -c %s "$w/people.csv")

secs() { awk -F: '/Elapsed \(wall clock\)/ { t = $NF; n = split($0, a, ":"); if (n == 6) print a[5] * 60 + a[6]; else print a[5] * 3600 + a[6] * 60 + a[7] }' "$1"; }
rss() { awk '/Maximum resident set size/ { print int($NF / 1024) }' "$1"; }

# listkeeper
export LISTKEEPER_CONFIG="$w/lk/listkeeper.conf"
"$lk" init --dir "$w/lk" >/dev/null
"$lk" list create bench >/dev/null
/usr/bin/time -v -o "$w/lk.time" "$lk" import bench "$w/people.csv" --confirmed \
  --consent-note "benchmark" > "$w/lk.out"
cat "$w/lk.out"

# the raw limit: sqlite3 .import into a plain table
sqlite3 "$w/raw.db" "PRAGMA journal_mode=WAL; CREATE TABLE people(email TEXT, name TEXT, country TEXT, format TEXT);" >/dev/null
/usr/bin/time -v -o "$w/raw.time" sqlite3 "$w/raw.db" ".mode csv" ".import --skip 1 $w/people.csv people" >/dev/null
n_raw=$(sqlite3 "$w/raw.db" "SELECT count(*) FROM people")
n_lk=$(sqlite3 "$w/lk/listkeeper.db" "SELECT count(*) FROM subscriptions WHERE state = 1")
[ "$n_raw" -eq "$rows" ] && [ "$n_lk" -eq "$rows" ] || { echo "bench: row counts differ: raw=$n_raw listkeeper=$n_lk"; exit 1; }

t_lk=$(secs "$w/lk.time"); t_raw=$(secs "$w/raw.time")
awk -v r="$rows" -v a="$t_lk" -v b="$t_raw" -v ma="$(rss "$w/lk.time")" -v mb="$(rss "$w/raw.time")" -v s="$size" 'BEGIN {
  printf "\n%-34s %12s %10s %12s\n", "import of " r " rows (" int(s / 1048576) " MiB CSV)", "rows/s", "seconds", "peak RSS";
  printf "%-34s %12.0f %10.2f %9d MiB\n", "listkeeper import --confirmed", r / a, a, ma;
  printf "%-34s %12.0f %10.2f %9d MiB\n", "sqlite3 .import (raw limit)", r / b, b, mb;
  printf "ratio listkeeper / raw: %.1f%% (target >= 10%%); peak RSS target < 64 MiB\n", 100 * b / a;
}'
