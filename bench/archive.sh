#!/usr/bin/env bash
# bench/archive.sh LISTKEEPER [SECONDS] [MESSAGES]: the archive at scale.
# Generates an mbox of MESSAGES (default 100,000) messages with realistic
# sizes (a log-normal body of about 1.5 KB median, quoted replies, some
# multipart with an attachment) and threads (a third start a thread, the
# rest reply to a recent post by In-Reply-To/References), imports it
# (messages/s; target >= 2,000), then puts `serve --role web` under wrk on
# loopback for a month page, a post page and a search query, each set against
# Debian's nginx serving a static copy of the same month page in the same
# run (targets: month and post >= 0.5 of nginx; search p99 <= 50 ms).
set -euo pipefail
lk=$(readlink -f "${1:?listkeeper binary}")
secs=${2:-5}
nmsg=${3:-100000}
threads=2
conns=32
w=$(mktemp -d)
chmod 755 "$w"
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

python3 - "$w/big.mbox" "$nmsg" <<'PY'
import base64, math, random, sys
random.seed(13)
path, n = sys.argv[1], int(sys.argv[2])
# A Zipf vocabulary of 20,000 words (weight 1/rank), as text has: the query's
# words sit at ranks 40 and 150 (common, not stop words); some accented ones.
syl = ["ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "zi", "po", "da", "fe", "gu", "hi", "jo"]
vocab = []
while len(vocab) < 20000:
    w = "".join(random.choice(syl) for _ in range(random.randint(1, 4)))
    vocab.append(w)
vocab[40], vocab[150] = "privacy", "archive"
for k, w in zip(range(300, 320), "café naïve résumé über façade coöperate jalapeño".split() * 3):
    vocab[k] = w
import itertools
cum = list(itertools.accumulate(1.0 / (r + 1) for r in range(len(vocab))))
def para(k):
    return " ".join(random.choices(vocab, cum_weights=cum, k=k))
out = open(path, "w", encoding="utf-8")
t0 = 1767225600  # 2026-01-01
recent = []
for i in range(n):
    t = t0 + i * 300  # one post every 5 minutes: 100,000 span about 11 months
    mid = f"b{i}@bench.example"
    hdr = [f"From p{i % 5000}@bench.example Thu Jan  1 00:00:00 2026",
           f"Message-ID: <{mid}>", f"From: Person {i % 5000} <p{i % 5000}@bench.example>",
           "Date: " + __import__("email.utils").utils.formatdate(t, usegmt=True)]
    if recent and random.random() < 0.67:
        parent = random.choice(recent[-200:])
        hdr += [f"Subject: Re: Topic {parent[1]}", f"In-Reply-To: <{parent[0]}>",
                f"References: <{parent[0]}>"]
        topic = parent[1]
    else:
        topic = i
        hdr.append(f"Subject: Topic {i}: {para(4)}")
    recent.append((mid, topic))
    size = int(min(60000, random.lognormvariate(math.log(1500), 0.8)))
    text = para(max(8, size // 6))
    body = "\n".join(text[k:k + 72] for k in range(0, len(text), 72)) + "\n"
    if random.random() < 0.05:
        att = base64.encodebytes(random.randbytes(random.randint(2000, 40000))).decode()
        hdr += ["MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=BB"]
        body = ("--BB\nContent-Type: text/plain; charset=utf-8\n\n" + body +
                "--BB\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=\"a.pdf\"\n"
                "Content-Transfer-Encoding: base64\n\n" + att + "--BB--\n")
    else:
        hdr += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8"]
    out.write("\n".join(hdr) + "\n\n" + body + "\n")
PY
mbsize=$(stat -c %s "$w/big.mbox")

export LISTKEEPER_CONFIG="$w/lk/listkeeper.conf" LISTKEEPER_LOG_LEVEL=warn
"$lk" init --dir "$w/lk" --domain bench.example >/dev/null
"$lk" list create bench --title "Bench talk" >/dev/null
"$lk" list set bench archive public >/dev/null
echo "bench/archive: importing $nmsg messages ($((mbsize / 1048576)) MiB of mbox)"
t0=$(date +%s.%N)
"$lk" archive import bench "$w/big.mbox" >"$w/import.out"
t1=$(date +%s.%N)
cat "$w/import.out"
dbsize=$(stat -c %s "$w/lk/listkeeper.db")

port=$(freeport)
LISTKEEPER_HTTP_LISTEN=127.0.0.1:$port "$lk" serve --role web >"$w/serve.out" 2>"$w/serve.log" &
lk_pid=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
base="http://127.0.0.1:$port/a/bench"
month=$(curl -sf "$base/" | grep -o 'href="/a/bench/20[0-9-]*/"' | sed 's|.*/bench/||; s|/"||' | sort | awk '{ m[NR] = $0 } END { print m[int((NR + 1) / 2)] }')
[ -n "$month" ] || { echo "bench: no month on the index"; cat "$w/serve.log"; exit 1; }
curl -sf -o "$w/month.html" "$base/$month/" || { cat "$w/serve.log"; exit 1; }
post=$(grep -o 'href="/a/bench/m/[A-Z2-7]*"' "$w/month.html" | sed -n '10{s/.*m\///;s/"//;p}')
[ -n "$post" ] || { echo "bench: no post on the month page"; exit 1; }
size=$(stat -c %s "$w/month.html")

nport=$(freeport)
mkdir -p "$w/ngx/www" "$w/ngx/tmp"
cp "$w/month.html" "$w/ngx/www/month.html"
chmod -R a+rX "$w/ngx"
cat >"$w/ngx/nginx.conf" <<NGX
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
  server { listen 127.0.0.1:$nport; root $w/ngx/www; }
}
NGX
/usr/sbin/nginx -c "$w/ngx/nginx.conf" -e "$w/ngx/error.log" &
ngx_pid=$!
for _ in $(seq 50); do
  curl -sf -o /dev/null "http://127.0.0.1:$nport/month.html" && break
  sleep 0.1
done

run() {
  local tag=$1; shift
  wrk -t$threads -c$conns -d${secs}s --latency "$@" >"$w/$tag" 2>&1
  if grep -q "Non-2xx" "$w/$tag"; then cat "$w/$tag"; echo "bench: $tag had failed requests"; exit 1; fi
}
rps() { awk '/^Requests\/sec:/ { print $2 }' "$w/$1"; }
p99() {
  awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.2f", v }' "$w/$1"
}
echo "bench/archive: wrk -t$threads -c$conns -d${secs}s on loopback; month page $size bytes; load $(cut -d' ' -f1-3 /proc/loadavg)"
run nginx "http://127.0.0.1:$nport/month.html"
run month "$base/$month/"
run post "$base/m/$post"
run search "$base/search?q=privacy+archive"
run search_date "$base/search?q=privacy+archive&order=date"
n=$(rps nginx); m=$(rps month); p=$(rps post); s=$(rps search); d=$(rps search_date)
awk -v n="$nmsg" -v a="$t0" -v b="$t1" -v db="$dbsize" -v mb="$mbsize" 'BEGIN {
  r = n / (b - a)
  printf "import: %d messages in %.1f s = %.0f messages/s (target >= 2,000) %s; mbox %d MiB, database %d MiB\n",
    n, b - a, r, (r >= 2000 ? "ok" : "BELOW TARGET"), mb / 1048576, db / 1048576 }'
printf '%-40s %12s %10s\n' "" "requests/s" "p99 ms"
printf '%-40s %12.0f %10s\n' "nginx, static month page (reference)" "$n" "$(p99 nginx)"
printf '%-40s %12.0f %10s\n' "listkeeper month page" "$m" "$(p99 month)"
printf '%-40s %12.0f %10s\n' "listkeeper post page" "$p" "$(p99 post)"
printf '%-40s %12.0f %10s\n' "listkeeper search (relevance)" "$s" "$(p99 search)"
printf '%-40s %12.0f %10s\n' "listkeeper search (by date)" "$d" "$(p99 search_date)"
awk -v n="$n" -v m="$m" -v p="$p" -v s99="$(p99 search)" 'BEGIN {
  printf "month / nginx: %5.1f%% (target >= 50%%) %s\n", 100 * m / n, (m >= 0.5 * n ? "ok" : "BELOW TARGET");
  printf "post / nginx:  %5.1f%% (target >= 50%%) %s\n", 100 * p / n, (p >= 0.5 * n ? "ok" : "BELOW TARGET");
  printf "search p99:    %s ms (target <= 50 ms) %s\n", s99, (s99 <= 50 ? "ok" : "ABOVE TARGET");
}'
