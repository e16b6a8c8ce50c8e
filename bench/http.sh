#!/usr/bin/env bash
# bench/http.sh: the web role under wrk on loopback, against Debian's nginx
# serving a static file of the same size in the same run (the reference).
#   1. nginx: GET of a static copy of the list page (its exact bytes)
#   2. listkeeper: GET /l/NAME (template rendered, CSRF field made, list read
#      from SQLite, for every request)
#   3. listkeeper: the RFC 8058 one-click POST, each request to a fresh
#      /u/TOKEN of a different subscriber, who is on one list only: so each
#      one is a write transaction that unsubscribes and erases the person
#      (P3) and truncates the WAL (store_scrub). The tokens are the real
#      List-Unsubscribe URLs of a campaign delivered into a Maildir first.
# Prints requests/s and p99 latency of each, and the ratios against nginx.
# Targets: list page >= 50% of nginx's rate; one-click POST >= 10%.
#   usage: bench/http.sh PATH/TO/listkeeper [SECONDS] [TOKENS]   (5 s, 200,000:
#   each one-click request needs a fresh token, 15,000-20,000/s here)
set -euo pipefail
lk=$(readlink -f "${1:?listkeeper binary}")
secs=${2:-5}
ntok=${3:-200000}
threads=2
conns=32
here=$(cd "$(dirname "$0")" && pwd)
w=$(mktemp -d)
chmod 755 "$w" # nginx's workers read the static file
lk_pid=
ngx_pid=
cleanup() {
  [ -n "$lk_pid" ] && kill "$lk_pid" 2>/dev/null && wait "$lk_pid" 2>/dev/null
  [ -n "$ngx_pid" ] && kill "$ngx_pid" 2>/dev/null && wait "$ngx_pid" 2>/dev/null
  rm -rf "$w"
}
trap 'rc=$?; cleanup || true; exit $rc' EXIT
for t in /usr/bin/wrk /usr/sbin/nginx /usr/bin/curl; do
  [ -x "$t" ] || { echo "bench: $t missing (scripts/deps.sh installs it)"; exit 1; }
done
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A store with one list of ntok confirmed subscribers, and a campaign to
# them delivered into a Maildir: its List-Unsubscribe URLs are the tokens.
export LISTKEEPER_CONFIG="$w/lk/listkeeper.conf"
"$lk" init --dir "$w/lk" --domain bench.example >/dev/null
export LISTKEEPER_DELIVERY_RELAY="maildir:$w/out" LISTKEEPER_LOG_LEVEL=warn
"$lk" list create bench --title "Bench weekly" \
  --description "A list for the benchmark, with a description of a usual length." \
  --postal-address "1 Bench St" >/dev/null
awk -v n="$ntok" 'BEGIN { print "email,name"; for (i = 1; i <= n; i++) printf "r%d@bench.example,Reader %d\n", i, i }' >"$w/people.csv"
"$lk" import bench "$w/people.csv" --confirmed --consent-note bench >/dev/null
echo "bench/http: $ntok subscribers; mailing them a campaign to collect their unsubscribe tokens"
echo "Hello {{name}}" | "$lk" send bench --subject "Tokens" --text - --wait >/dev/null
find "$w/out/new" -type f -print0 | xargs -0 grep -m1 -ohE '/u/[A-Za-z0-9_-]+' | sort -u >"$w/paths"
got=$(wc -l <"$w/paths")
[ "$got" -eq "$ntok" ] || { echo "bench: $got tokens from $ntok messages"; exit 1; }
rm -rf "$w/out"

port=$(freeport)
LISTKEEPER_HTTP_LISTEN=127.0.0.1:$port "$lk" serve --role web >"$w/serve.out" 2>"$w/serve.log" &
lk_pid=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf -o "$w/list.html" "http://127.0.0.1:$port/l/bench" || { cat "$w/serve.log"; exit 1; }
size=$(stat -c %s "$w/list.html")

# nginx on loopback with its own configuration, the same number of workers
# as cores, no access log.
nport=$(freeport)
mkdir -p "$w/ngx/www" "$w/ngx/tmp"
cp "$w/list.html" "$w/ngx/www/list.html"
chmod -R a+rX "$w/ngx"
cat >"$w/ngx/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $w/ngx/nginx.pid;
error_log $w/ngx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $w/ngx/tmp;
  proxy_temp_path $w/ngx/tmp;
  fastcgi_temp_path $w/ngx/tmp;
  uwsgi_temp_path $w/ngx/tmp;
  scgi_temp_path $w/ngx/tmp;
  types { text/html html; }
  server {
    listen 127.0.0.1:$nport;
    root $w/ngx/www;
  }
}
EOF
/usr/sbin/nginx -c "$w/ngx/nginx.conf" -e "$w/ngx/error.log" &
ngx_pid=$!
for _ in $(seq 50); do
  curl -sf -o /dev/null "http://127.0.0.1:$nport/list.html" && break
  sleep 0.1
done
cmp -s "$w/list.html" <(curl -s "http://127.0.0.1:$nport/list.html") || { echo "bench: nginx does not serve the copy"; exit 1; }

# run TAG WRK-ARGS...: wrk with latency percentiles; the output in $w/TAG
run() {
  local tag=$1; shift
  wrk -t$threads -c$conns -d${secs}s --latency "$@" >"$w/$tag" 2>&1
  if grep -q "Non-2xx" "$w/$tag"; then cat "$w/$tag"; echo "bench: $tag had failed requests"; exit 1; fi
}
rps() { awk '/^Requests\/sec:/ { print $2 }' "$w/$1"; }
# p99 in milliseconds
p99() {
  awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.2f", v }' "$w/$1"
}

echo "bench/http: wrk -t$threads -c$conns -d${secs}s on loopback; page size $size bytes"
run nginx "http://127.0.0.1:$nport/list.html"
run list "http://127.0.0.1:$port/l/bench"
run oneclick -s "$here/oneclick.lua" "http://127.0.0.1:$port/" -- "$w/paths" "$threads"
grep -q "ran out 0 time" "$w/oneclick" || { cat "$w/oneclick"; echo "bench: not enough fresh tokens; pass a larger TOKENS"; exit 1; }
# every one-click POST unsubscribed a different person: they are gone
left=$("$lk" sub ls bench | grep -c "@bench.example" || true)

n=$(rps nginx); l=$(rps list); o=$(rps oneclick)
printf '%-34s %12s %10s\n' "" "requests/s" "p99 ms"
printf '%-34s %12.0f %10s\n' "nginx, static copy (reference)" "$n" "$(p99 nginx)"
printf '%-34s %12.0f %10s\n' "listkeeper GET /l/bench" "$l" "$(p99 list)"
printf '%-34s %12.0f %10s\n' "listkeeper one-click POST" "$o" "$(p99 oneclick)"
awk -v n="$n" -v l="$l" -v o="$o" 'BEGIN {
  printf "list page / nginx:  %5.1f%%  (target >= 50%%) %s\n", 100 * l / n, (l >= 0.5 * n ? "ok" : "BELOW TARGET");
  printf "one-click / nginx:  %5.1f%%  (target >= 10%%) %s\n", 100 * o / n, (o >= 0.1 * n ? "ok" : "BELOW TARGET");
}'
echo "subscribers left after the one-click run: $left of $ntok"
