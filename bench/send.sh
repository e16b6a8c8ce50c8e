#!/usr/bin/env bash
# bench/send.sh: a job of N personalised recipients sent to Postfix's
# smtp-sink on loopback, against smtp-source sending the same number of
# messages of the same size over the same number of connections to the same
# sink (the raw limit of this machine), in one run. Then the rate with DKIM
# (rsa-2048, ed25519, and both on each message) beside what
# `openssl speed -multi $(nproc)` signs per second on this machine, and the
# time for 10 x N recipients. Composition and signing run on [delivery]
# workers threads (LISTKEEPER_DELIVERY_WORKERS; default one per core).
#   usage: bench/send.sh PATH/TO/listkeeper [N]
set -euo pipefail
lk=$(readlink -f "${1:?listkeeper binary}")
n=${2:-100000}
big=$((n * 10))
conns=4
w=$(mktemp -d)
sink_pid=
cleanup() { [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null; rm -rf "$w"; }
trap cleanup EXIT
for t in /usr/sbin/smtp-sink /usr/sbin/smtp-source /usr/bin/time /usr/bin/openssl; do
  [ -x "$t" ] || { echo "bench: $t missing (scripts/deps.sh installs it)"; exit 1; }
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/sbin/smtp-sink -u nobody 127.0.0.1:$port 1024 & sink_pid=$!
sleep 0.5

export LISTKEEPER_CONFIG="$w/lk/listkeeper.conf"
"$lk" init --dir "$w/lk" --domain bench.example >/dev/null
export LISTKEEPER_DELIVERY_RELAY="smtp:127.0.0.1:$port" LISTKEEPER_DELIVERY_TLS=none
export LISTKEEPER_DELIVERY_CONNECTIONS=$conns LISTKEEPER_LOG_LEVEL=warn
awk 'BEGIN { for (i = 0; i < 40; i++) print "Line " i " of the weekly newsletter, with some words to make it a normal size." }' > "$w/body.txt"

mklist() { # mklist NAME COUNT
  "$lk" list create "$1" --title "Bench $1" --postal-address "1 Bench St" >/dev/null
  awk -v n="$2" 'BEGIN { print "email,name"; for (i = 1; i <= n; i++) printf "r%d@sink.example,Reader %d\n", i, i }' > "$w/$1.csv"
  "$lk" import "$1" "$w/$1.csv" --confirmed --consent-note bench >/dev/null
}
secs() { awk '/Elapsed \(wall clock\)/ { n = split($NF, a, ":"); if (n == 2) print a[1] * 60 + a[2]; else print a[1] * 3600 + a[2] * 60 + a[3] }' "$1"; }
cpu() { awk '/User time/ { u = $NF } /System time/ { s = $NF } END { print u + s }' "$1"; }
rss() { awk '/Maximum resident set size/ { print int($NF / 1024) }' "$1"; }
run_send() { # run_send LIST TAG
  /usr/bin/time -v -o "$w/$2.time" "$lk" send "$1" --subject "Hello {{name}}" --text "$w/body.txt" --wait > "$w/$2.out"
  grep -q " done: " "$w/$2.out" || { cat "$w/$2.out"; echo "bench: $2 did not finish"; exit 1; }
}
row() { # row LABEL COUNT TIMEFILE
  local t; t=$(secs "$3")
  awk -v l="$1" -v n="$2" -v t="$t" -v c="$(cpu "$3")" -v m="$(rss "$3")" 'BEGIN { printf "%-36s %9d %10.0f %8.2f %8.2f %7d MiB\n", l, n, n / t, t, c, m }'
}

mklist news "$n"
# the size of one composed message, for smtp-source
LISTKEEPER_DELIVERY_RELAY="maildir:$w/sample" "$lk" list create sample >/dev/null
printf 'email,name\nr1@sink.example,Reader 1\n' > "$w/s.csv"
"$lk" import sample "$w/s.csv" --confirmed --consent-note bench >/dev/null
LISTKEEPER_DELIVERY_RELAY="maildir:$w/sample" "$lk" send sample --subject "Hello {{name}}" --text "$w/body.txt" --wait >/dev/null
size=$(stat -c %s "$w"/sample/new/* | head -1)

run_send news plain
/usr/bin/time -v -o "$w/source.time" /usr/sbin/smtp-source -s $conns -d -m "$n" -l "$size" \
  -f bench@bench.example -t r1@sink.example 127.0.0.1:$port

"$lk" dkim keygen rsa1 --type rsa --out "$w/rsa.pem" >/dev/null
"$lk" dkim keygen ed1 --type ed25519 --out "$w/ed.pem" >/dev/null
nd=$((n / 5))
mklist dk "$nd"
# What this machine's cores sign per second, the bound for signed sending,
# measured right before the signed sends (on a shared machine the load
# moves).
cores=$(nproc)
ossl_rsa=$(openssl speed -seconds 5 -multi "$cores" rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ { print $(NF - 1) }')
ossl_ed=$(openssl speed -seconds 5 -multi "$cores" ed25519 2>/dev/null | awk '/\(Ed25519\)/ { print $(NF - 1) }')
LISTKEEPER_DKIM_SELECTOR=rsa1 LISTKEEPER_DKIM_KEY_FILE="$w/rsa.pem" run_send dk dkim-rsa
"$lk" list delete dk --yes >/dev/null; mklist dk2 "$nd"
LISTKEEPER_DKIM_SELECTOR=ed1 LISTKEEPER_DKIM_KEY_FILE="$w/ed.pem" run_send dk2 dkim-ed
"$lk" list delete dk2 --yes >/dev/null; mklist dk3 "$nd"
LISTKEEPER_DKIM_SELECTOR=rsa1 LISTKEEPER_DKIM_KEY_FILE="$w/rsa.pem" LISTKEEPER_DKIM_SELECTOR2=ed1 \
  LISTKEEPER_DKIM_KEY_FILE2="$w/ed.pem" run_send dk3 dkim-dual

mklist big "$big"
run_send big big

echo
printf "%-36s %9s %10s %8s %8s %11s\n" "send over $conns connections, ${size} B" messages msgs/s seconds cpu-s "peak RSS"
row "listkeeper send --wait" "$n" "$w/plain.time"
row "smtp-source (raw limit)" "$n" "$w/source.time"
row "listkeeper, DKIM rsa-2048" "$nd" "$w/dkim-rsa.time"
row "listkeeper, DKIM ed25519" "$nd" "$w/dkim-ed.time"
row "listkeeper, DKIM rsa-2048 + ed25519" "$nd" "$w/dkim-dual.time"
row "listkeeper, 10 x recipients" "$big" "$w/big.time"
printf "%-36s %9s %10.0f\n" "openssl speed -multi $cores rsa2048" sign/s "$ossl_rsa"
printf "%-36s %9s %10.0f\n" "openssl speed -multi $cores ed25519" sign/s "$ossl_ed"
echo "[delivery] workers: ${LISTKEEPER_DELIVERY_WORKERS:-0} (0: one per core; $cores cores); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v a="$(secs "$w/plain.time")" -v b="$(secs "$w/source.time")" -v c="$(secs "$w/big.time")" \
  -v rs="$(secs "$w/dkim-rsa.time")" -v es="$(secs "$w/dkim-ed.time")" -v nd="$nd" -v n="$n" \
  -v orsa="$ossl_rsa" 'BEGIN {
  plain = n / a; rsa = nd / rs; ed = nd / es; src = n / b;
  bound = orsa < plain ? orsa : plain;
  printf "unsigned send / smtp-source: %.2f (target >= 1.5)\n", plain / src;
  printf "rsa-2048 signed send / min(openssl rsa2048 sign, unsigned send): %.2f (target >= 0.8)\n", rsa / bound;
  printf "ed25519 signed send / unsigned send: %.2f (target >= 0.8)\n", ed / plain;
  printf "time(10N) / time(N): %.1f (target <= 10.5)\n", c / a }'
echo "peak RSS at 10 x N: $(rss "$w/big.time") MiB (target < 32 MiB at 1,000,000)"
