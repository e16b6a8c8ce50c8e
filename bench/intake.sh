#!/usr/bin/env bash
# bench/intake.sh: Postfix's smtp-source sends 50,000 bounces (a realistic
# Postfix DSN) over LMTP to `serve --role intake`, and counts them done only
# when every one was spooled, parsed and scored (the spool empty, the score
# counted); in the same run the same messages go to Postfix's smtp-sink over
# LMTP (the raw limit of this machine). Loopback only; bounded by timeouts.
#   usage: bench/intake.sh PATH/TO/listkeeper [MESSAGES] [SESSIONS (<= 16)]
set -euo pipefail
lk=$(readlink -f "${1:?listkeeper binary}")
n=${2:-50000}
sessions=${3:-16}
here=$(dirname "$(readlink -f "$0")")
w=$(mktemp -d)
serve_pid= sink_pid=
trap 'for p in $serve_pid $sink_pid; do kill $p 2>/dev/null || true; done; [ -n "${KEEP:-}" ] || rm -rf "$w"' EXIT
find_tool() { for d in /usr/sbin /usr/lib/postfix/sbin /usr/libexec/postfix; do
  [ -x "$d/$1" ] && { echo "$d/$1"; return; }; done; command -v "$1" || true; }
source_bin=$(find_tool smtp-source); sink_bin=$(find_tool smtp-sink)
[ -n "$source_bin" ] && [ -n "$sink_bin" ] || {
  echo "bench: smtp-source/smtp-sink missing (scripts/deps.sh installs postfix)"; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }

# An instance with one subscriber, and its real VERP address from a campaign.
export LISTKEEPER_CONFIG="$w/lk/listkeeper.conf" LISTKEEPER_LOG_LEVEL=warn
"$lk" init --dir "$w/lk" --domain lists.example.org >/dev/null
"$lk" list create news >/dev/null
printf 'email\nbob@example.net\n' > "$w/p.csv"
"$lk" import news "$w/p.csv" --confirmed --consent-note bench >/dev/null
printf 'Hello\n' > "$w/body.txt"
LISTKEEPER_DELIVERY_RELAY="maildir:$w/out" timeout 60 "$lk" send news --subject x \
  --text "$w/body.txt" --wait >/dev/null
verp=$(sed -n 's/^Return-Path: <\(.*\)>\r\{0,1\}$/\1/p' "$w"/out/new/* | head -1)
[ -n "$verp" ] || { echo "bench: no VERP address"; exit 1; }
sed -e "s/news-bounces+[A-Za-z0-9_-]*@lists.example.org/$verp/g" \
  "$here/../tests/intake/bounces/postfix-dsn-hard.eml" > "$w/dsn.eml"
size=$(stat -c %s "$w/dsn.eml")
export LISTKEEPER_BOUNCE_THRESHOLD=1000 LISTKEEPER_BOUNCE_DECAY_DAYS=0

# the raw limit: smtp-sink over LMTP
port=$(free_port)
timeout 600 "$sink_bin" -L -u nobody "127.0.0.1:$port" 256 &
sink_pid=$!
sleep 0.3
t0=$(now)
timeout 600 "$source_bin" -L -d -s "$sessions" -m "$n" -f '' -t "$verp" -F "$w/dsn.eml" "127.0.0.1:$port"
t1=$(now)
kill $sink_pid 2>/dev/null || true; wait $sink_pid 2>/dev/null || true; sink_pid=

# listkeeper serve --role intake
port=$(free_port)
LISTKEEPER_LMTP_LISTEN="127.0.0.1:$port" timeout 900 "$lk" serve --role intake > "$w/serve.out" 2> "$w/serve.log" &
serve_pid=$!
for _ in $(seq 100); do grep -q "^listkeeper: lmtp on" "$w/serve.out" && break; sleep 0.05; done
q() { sqlite3 "$w/lk/listkeeper.db" "$1"; }
t2=$(now)
timeout 900 "$source_bin" -L -d -s "$sessions" -m "$n" -f '' -t "$verp" -F "$w/dsn.eml" "127.0.0.1:$port"
t3=$(now)
# done when every bounce was handled: the spool empty (the spool's own file
# since it left the database; the database's table for older binaries)
spooled() { local f="$w/lk/listkeeper-spool.db"
  if [ -e "$f" ]; then sqlite3 "$f" "SELECT count(*) FROM intake_spool"; else q "SELECT count(*) FROM intake_spool"; fi; }
for _ in $(seq 6000); do
  [ "$(spooled)" = 0 ] && break; sleep 0.1
done
t4=$(now)
score=$(q "SELECT bounce_score FROM subscriptions")
kill $serve_pid; wait $serve_pid 2>/dev/null || true; serve_pid=
[ "$score" = "$n" ] || { echo "bench: $n bounces sent, score $score (some not handled)"; tail -5 "$w/serve.log"; exit 1; }

awk -v n="$n" -v s="$sessions" -v z="$size" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v e="$t4" 'BEGIN {
  raw = n / (b - a); acc = n / (d - c); lk = n / (e - c);
  printf "\n%d bounces of %d bytes over LMTP, %d sessions\n", n, z, s;
  printf "%-48s %10s %9s\n", "", "msgs/s", "seconds";
  printf "%-48s %10.0f %9.2f\n", "smtp-sink (raw limit)", raw, b - a;
  printf "%-48s %10.0f %9.2f\n", "listkeeper: accepted (250, spooled and synced)", acc, d - c;
  printf "%-48s %10.0f %9.2f\n", "listkeeper: every bounce parsed and scored", lk, e - c;
  printf "ratio listkeeper / raw: %.1f%% (target >= 25%%)\n", 100 * lk / raw;
}'
