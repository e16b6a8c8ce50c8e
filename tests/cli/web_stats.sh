#!/usr/bin/env bash
# Aggregate statistics (P6) and the web role's edges, through a live
# `serve --role web`: page views counted per day by route pattern, browser
# family and (with a GeoIP database made here by mkmmdb.py) country; the open
# pixel of a real campaign mail counts hits and unique opens (a HyperLogLog
# sketch: many hits from one recipient count once) and answers the same
# 43-byte GIF to a bad token; `listkeeper stats` prints it all; /metrics is
# Prometheus text for loopback only, with the intake's counters of the store
# (a garbled bounce through `listkeeper inject`, quarantined messages); X-Forwarded-For is believed only from
# [http] trusted_proxies (a second loopback address, 127.0.0.2, plays the
# untrusted peer); the security headers on every answer; and after the
# browsing session no table, nor the raw database and WAL files, holds a
# client address or a user agent. Last, HTTPS with a self-signed certificate
# made by openssl.
LK=$1
. "$(dirname "$0")/lib.bash"
here=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/mail_lib.bash"

lk init --dir "$T" >/dev/null
export LISTKEEPER_DELIVERY_RELAY="maildir:$T/out" LISTKEEPER_HTTP_LISTEN=127.0.0.1:0
export LISTKEEPER_STATS_GEOIP="$T/geo.mmdb" LISTKEEPER_STATS_FLUSH_SECONDS=1
export LISTKEEPER_HTTP_TRUSTED_PROXIES="127.0.0.1"
export LISTKEEPER_WEB_SUBSCRIBE_PER_CLIENT=2
python3 "$here/mkmmdb.py" "$T/geo.mmdb" 203.0.113.0/24=NL 198.51.100.0/24=DE 127.0.0.0/8=IS

lk list create news --title "News" >/dev/null
lk list set news tracking yes >/dev/null
lk list create hidden --title "Hidden" >/dev/null
lk list set hidden subscription_policy closed >/dev/null
lk sub add news reader@example.org --format html --tracking --confirmed --consent-note t >/dev/null
for i in $(seq 49); do
  lk sub add news "r$i@example.org" --format html --tracking --confirmed --consent-note t >/dev/null
done
echo 'Hello' >"$T/t.txt"
echo '<p>Hello</p>' >"$T/h.html"
lk send news --subject "Issue 1" --text "$T/t.txt" --html "$T/h.html" --wait >/dev/null
# The pixel URL each recipient's mail carries (quoted-printable decoded).
python3 - "$T"/out/new/* >"$T/pixels" <<'PY'
import email, re, sys
for f in sys.argv[1:]:
    m = email.message_from_binary_file(open(f, "rb"))
    for part in m.walk():
        if part.get_content_type() == "text/html":
            h = part.get_payload(decode=True).decode()
            r = re.search(r'/o/[0-9]+-[0-9a-f]{32}\.gif', h)
            if r:
                print(r.group(0))
PY
check "each of the 50 HTML mails carries its own open pixel /o/JOB-TOKEN.gif" \
  test "$(sort -u "$T/pixels" | wc -l)" = 50
pixel=$(head -1 "$T/pixels")
job=$(echo "$pixel" | sed 's|/o/\([0-9]*\)-.*|\1|')

start() { must_serve --role web; }
start

FF='Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
CH='Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36'
ED="$CH Edg/126.0.0.0"
SA='Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15'
get() { curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$@"; }

for _ in 1 2 3; do get -A "$FF" "$url/" >/dev/null; done
for _ in 1 2; do get -A "$CH" "$url/l/news" >/dev/null; done
get -A "$ED" "$url/l/news" >/dev/null
get -A "$SA" "$url/l/news" >/dev/null
get -A 'curl/7.88.1' "$url/l/news" >/dev/null
check "an unknown page is a 404" test "$(get -A "$FF" "$url/no/such/page")" = 404
get -A "$FF" "$url/style.css" >/dev/null # not a page view
# Behind the trusted proxy (127.0.0.1) the client is the forwarded hop: NL.
get -A "$FF" -H 'X-Forwarded-For: 198.51.100.9, 203.0.113.77' "$url/l/news" >/dev/null
# From 127.0.0.2, not a trusted proxy, the header is ignored: the peer, IS.
get --interface 127.0.0.2 -A "$FF" -H 'X-Forwarded-For: 203.0.113.77' "$url/l/news" >/dev/null
# A token page: counted under its route pattern, never the token.
get -A "$FF" "$url/u/AAAAthisisnotatoken" >/dev/null

# --- the open pixel -------------------------------------------------------
curl -s --max-time 5 -D "$T/ph" -o "$T/gif1" "$url$pixel"
check "the pixel is a 43-byte GIF" test "$(wc -c <"$T/gif1")" = 43
check "the pixel is image/gif" grep -qi '^content-type: image/gif' "$T/ph"
check "the pixel is not cached" grep -qi '^cache-control: no-store' "$T/ph"
# Forged pixels: garbage, the old unauthenticated form, a real token with
# its MAC altered, a real token moved to another job.
tok=${pixel#/o/$job-}
tok=${tok%.gif}
forged_mac="/o/$job-${tok:0:16}$(printf '%016x' 48879).gif"
other_job="/o/$((job + 1))-$tok.gif"
for bad_url in "/o/garbage" "/o/$job-zzzz.gif" "/o/999999-0123456789abcdef.gif" \
  "/o/$job-0123456789abcdef.gif" "$forged_mac" "$other_job"; do
  curl -s --max-time 5 -D "$T/bh" -o "$T/gif2" "$url$bad_url"
  check "a bad pixel token ($bad_url) gets the same GIF" cmp -s "$T/gif1" "$T/gif2"
  check "... and the same headers" diff <(tr -d '\r' <"$T/ph" | grep -vi '^date:') \
    <(tr -d '\r' <"$T/bh" | grep -vi '^date:')
done
# One recipient opens 20 times; the 49 others 3 times each; 30 forged hits
# (MACs altered: they would be 30 more unique opens) count nothing.
{
  for _ in $(seq 20); do printf 'url = "%s"\noutput = /dev/null\n' "$url$pixel"; done
  tail -n +2 "$T/pixels" | while read -r p; do
    for _ in 1 2 3; do printf 'url = "%s"\noutput = /dev/null\n' "$url$p"; done
  done
  for i in $(seq 30); do
    printf 'url = "%s"\noutput = /dev/null\n' "$url/o/$job-${tok:0:16}$(printf '%016x' "$i").gif"
  done
} >"$T/pixels.curl"
curl -s --max-time 30 -K "$T/pixels.curl"

# --- the intake's counters, for /metrics -------------------------------------
# A bounce that is not understood, to the VERP address of a campaign mail,
# through `listkeeper inject` (as a pipe transport would hand it over); and
# messages quarantined on two days, written as the intake spool counts them
# (tests/cli/intake_spool.sh makes a real one).
verp=$(sed -n 's/^Return-Path: <\(.*\)>$/\1/p' "$(ls "$T"/out/new/* | head -1)")
garbled() { # garbled: exit status of inject for a garbled bounce to $verp
  local rc=0
  sed "s/news-bounces+[a-z2-7]*@lists.example.org/$verp/g" "$here/../intake/bounces/garbled-truncated.eml" |
    "$LK" inject --recipient "$verp" --sender '' 2>>"$T/log" || rc=$?
  echo $rc
}
check "a garbled bounce to a VERP address ($verp): inject exits 0" [ "$(garbled)" = 0 ]
# and a real Postfix bounce of Gmail's 5.7.26 (unauthenticated mail): sender-policy
rc=0
sed "s/news-bounces+[a-z2-7]*@lists.example.org/$verp/g" "$here/../intake/bounces/postfix/policy-gmail-unauthenticated.eml" |
  "$LK" inject --recipient "$verp" --sender '' 2>>"$T/log" || rc=$?
check "a sender-policy bounce through inject: exit 0" [ "$rc" = 0 ]
check "the sender-policy bounce is counted by receiving domain, a small one as other" \
  [ "$(sqlite3 -cmd '.timeout 10000' "$T/listkeeper.db" "SELECT key || '=' || value FROM stats_daily WHERE counter = 'bounce-refused-domain'")" = "0/other=1" ]
check "the small receiving domain of the report is stored nowhere" \
  bash -c "! sqlite3 -cmd '.timeout 10000' '$T/listkeeper.db' .dump | grep -q d9.example.net"
sqlite3 -cmd '.timeout 10000' "$T/listkeeper.db" "INSERT INTO stats_daily(day, list_id, counter, key, value) VALUES
  (date('now'), 0, 'intake-quarantined', '', 1), (date('now', '-3 days'), 0, 'intake-quarantined', '', 2)"

# --- /metrics ---------------------------------------------------------------
curl -s --max-time 5 -D "$T/mh" -o "$T/metrics" "$url/metrics"
check "/metrics answers loopback" grep -q '^HTTP/1.1 200' "$T/mh"
check "/metrics is Prometheus text" python3 - "$T/metrics" <<'PY'
import re, sys
name = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
lab = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
sample = re.compile(r'^(%s)(\{%s(?:,%s)*\})? (-?[0-9.]+(?:e[+-]?[0-9]+)?|NaN|[+-]Inf)$' % (name, lab, lab))
typed, seen = {}, 0
for line in open(sys.argv[1]).read().split("\n")[:-1]:
    if line.startswith("# HELP "):
        assert re.match(r'^# HELP %s .+$' % name, line), line
    elif line.startswith("# TYPE "):
        m = re.match(r'^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$' % name, line)
        assert m, line
        assert m.group(1) not in typed, "TYPE twice: " + line
        typed[m.group(1)] = m.group(2)
    else:
        m = sample.match(line)
        assert m, "not a sample: %r" % line
        assert m.group(1) in typed, "sample before its TYPE: " + line
        seen += 1
assert seen > 5
PY
# 7 pages of /l/NAME so far: Chrome 2, Edge, Safari, curl, and the two with X-Forwarded-For.
check "/metrics counts page views by route" grep -qx 'listkeeper_page_views_total{route="/l/NAME"} 7' "$T/metrics"
# 1 + 20 + 49 x 3 good pixels: the forged ones are not counted.
check "/metrics counts open-pixel requests" grep -qx 'listkeeper_pixel_requests_total 168' "$T/metrics"
check "/metrics counts browser families" grep -qx 'listkeeper_browser_views_total{family="chrome"} 2' "$T/metrics"
check "/metrics names a public list" grep -q '^listkeeper_list_subscribers{list="news"} 50$' "$T/metrics"
check "/metrics does not name a closed list" bash -c "! grep -q hidden '$T/metrics'"
check "/metrics has the unparsable bounces, a counter" bash -c "grep -qx '# TYPE listkeeper_bounces_unparsable_total counter' '$T/metrics' &&
  grep -qx 'listkeeper_bounces_unparsable_total 1' '$T/metrics'"
check "/metrics has the sender-side bounces, counters" bash -c "grep -qx '# TYPE listkeeper_bounces_sender_policy_total counter' '$T/metrics' &&
  grep -qx 'listkeeper_bounces_sender_policy_total 1' '$T/metrics' && grep -qx 'listkeeper_bounces_rejected_content_total 0' '$T/metrics'"
check "/metrics has the quarantined messages of every day, a counter" bash -c "grep -qx '# TYPE listkeeper_intake_quarantined_total counter' '$T/metrics' &&
  grep -qx 'listkeeper_intake_quarantined_total 3' '$T/metrics'"
check "a second garbled bounce: inject exits 0" [ "$(garbled)" = 0 ]
check "... and /metrics counts it at once" \
  grep -qx 'listkeeper_bounces_unparsable_total 2' <(curl -s --max-time 5 "$url/metrics")
check "/metrics is refused to a forwarded outside client" \
  test "$(get -H 'X-Forwarded-For: 203.0.113.77' "$url/metrics")" = 404

# --- trusted proxies and the per-client rate limit --------------------------
page=$(curl -s --max-time 5 "$url/l/news")
csrf=$(echo "$page" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p')
subpost() { # subpost CURL-ARGS...: POST a subscribe, print the status
  curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$@" --data-urlencode "csrf=$csrf" \
    --data-urlencode "address=x$RANDOM@example.org" --data-urlencode name= \
    --data-urlencode country= --data-urlencode format=text "$url/l/news"
}
a1=$(subpost -H 'X-Forwarded-For: 203.0.113.10'); a2=$(subpost -H 'X-Forwarded-For: 203.0.113.10')
a3=$(subpost -H 'X-Forwarded-For: 203.0.113.10')
b1=$(subpost -H 'X-Forwarded-For: 203.0.113.11')
check "behind the trusted proxy each forwarded client has its own limit ($a1 $a2 $a3 $b1)" \
  test "$a1 $a2 $a3 $b1" = "200 200 429 200"
c1=$(subpost --interface 127.0.0.2 -H 'X-Forwarded-For: 203.0.113.20')
c2=$(subpost --interface 127.0.0.2 -H 'X-Forwarded-For: 203.0.113.21')
c3=$(subpost --interface 127.0.0.2 -H 'X-Forwarded-For: 203.0.113.22')
check "from an untrusted peer the header is ignored: one limit ($c1 $c2 $c3)" \
  test "$c1 $c2 $c3" = "200 200 429"

# --- headers on every answer ------------------------------------------------
for p in / /l/news /no/such/page /style.css /metrics "$pixel"; do
  curl -s --max-time 5 -D "$T/h" -o /dev/null "$url$p"
  h=$(tr -d '\r' <"$T/h")
  check "$p: CSP with frame-ancestors 'none'" grep -q "^Content-Security-Policy: .*frame-ancestors 'none'" <<<"$h"
  check "$p: nosniff, no-referrer, DENY" bash -c 'grep -qi "^X-Content-Type-Options: nosniff" <<<"$1" &&
    grep -qi "^Referrer-Policy: no-referrer" <<<"$1" && grep -qi "^X-Frame-Options: DENY" <<<"$1"' _ "$h"
  check "$p: no cookie, no HSTS over plain HTTP" bash -c '! grep -qiE "^(Set-Cookie|Strict-Transport-Security):" <<<"$1"' _ "$h"
done

stop # the counts of the last interval are written at shutdown
db="$T/listkeeper.db"
q() { sqlite3 "$db" "$1"; }
today=$(date -u +%F)
news=$(q "SELECT id FROM lists WHERE name='news'")
view() { q "SELECT coalesce(sum(value),0) FROM stats_daily WHERE day='$today' AND counter='$1' AND key='$2'${3:+ AND list_id=$3}"; }
# Since /metrics: the CSRF fetch and the header checks (as curl: a bot) added
# /, /l/news, a 404, and the 404 of the refused /metrics.
check "views of / counted (4)" test "$(view view / 0)" = 4
check "views of /l/NAME counted under the list ($(view view /l/NAME "$news"))" test "$(view view /l/NAME "$news")" = 9
check "the 404s counted as route 'other'" test "$(view view other)" = 3
check "a token page counted as /u/TOKEN" test "$(view view /u/TOKEN)" = 1
check "the stylesheet, pixel and metrics are no page views" \
  test "$(q "SELECT count(*) FROM stats_daily WHERE counter='view' AND key NOT IN ('/','/l/NAME','other','/u/TOKEN')")" = 0
fam="$(view browser firefox) $(view browser chrome) $(view browser edge) $(view browser safari) $(view browser bot)"
check "families: firefox 7 chrome 2 edge 1 safari 1 bot 6 ($fam)" test "$fam" = "7 2 1 1 6"
check "country from the trusted proxy's forwarded hop: NL (a page and the refused /metrics)" test "$(view country NL)" = 2
check "country of loopback peers: IS" test "$(view country IS)" -ge 12
# 1 + 20 + 1 (header check) from one recipient, 49 x 3 from the others.
check "opens of the job: 169 hits" test "$(q "SELECT value FROM stats_daily WHERE counter='opens' AND key='$job' AND list_id=$news")" = 169
check "no row for a real pixel moved to another job" test "$(q "SELECT count(*) FROM stats_daily WHERE counter='opens' AND key='$((job + 1))'")" = 0
check "no row for the pixel of a job that does not exist" test "$(q "SELECT count(*) FROM stats_daily WHERE counter='opens' AND key='999999'")" = 0

lk stats news >"$T/stats.out"
check "stats LIST prints the list's views" grep -qE "^  $today  /l/NAME +9$" "$T/stats.out"
check "stats LIST prints the browsers" grep -qE '^  chrome +2$' "$T/stats.out"
check "stats LIST prints the countries" grep -qE '^  NL +1$' "$T/stats.out"
uniq=$(awk -v j="$job" '$1 == j && NF >= 4 { print $3 }' "$T/stats.out")
check "stats: unique opens about 50 (HyperLogLog), not 169 ($uniq)" test "${uniq:-0}" -ge 48 -a "${uniq:-0}" -le 52
check "stats: 169 opens in all" awk -v j="$job" '$1 == j && $2 == 169 { f = 1 } END { exit !f }' "$T/stats.out"
lk stats --days 1 >"$T/all.out"
check "stats without LIST covers every list and none" grep -qE "^  $today  / +4$" "$T/all.out"
check "stats --help" bash -c "'$LK' stats --help | grep -q 'usage: listkeeper stats'"
check "stats of an unknown list fails" bash -c "! '$LK' stats nosuch 2>/dev/null"
check "stats --days 0 is refused" bash -c "! '$LK' stats --days 0 2>/dev/null"

# --- nothing about a visitor in the store -----------------------------------
sqlite3 "$db" .dump >"$T/dump.sql"
check "the dump has the stats table" grep -q 'CREATE TABLE stats_daily' "$T/dump.sql"
for s in 203.0.113.77 203.0.113.10 198.51.100.9 127.0.0.2 "rv:128.0" "Gecko/20100101" "Edg/126" \
  "Version/17.5" "curl/7.88.1" "AppleWebKit"; do
  check "no '$s' in any table" bash -c "! grep -qF -- '$s' '$T/dump.sql'"
  for f in "$db" "$db-wal"; do
    [ -f "$f" ] || continue
    check "no '$s' in $(basename "$f")" bash -c "! grep -aqF -- '$s' '$f'"
  done
done
for f in "$db" "$db-wal"; do
  [ -f "$f" ] || continue
  check "no 203.0.113.77 as 4 raw bytes in $(basename "$f")" \
    python3 -c "import sys; sys.exit(bytes([203,0,113,77]) in open('$f','rb').read())"
done

# --- HTTPS -------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
chmod 600 "$T/key.pem"
export LISTKEEPER_HTTP_TLS_CERT="$T/cert.pem" LISTKEEPER_HTTP_TLS_KEY="$T/key.pem"
start
check "serve prints an https URL" grep -q '^listkeeper: serving https://' "$T/serve.out"
code=$(curl -s --max-time 5 --cacert "$T/cert.pem" -D "$T/h" -o "$T/b" -w '%{http_code}' "$url/l/news")
check "HTTPS page with the self-signed certificate ($code)" test "$code" = 200
h=$(tr -d '\r' <"$T/h")
check "HTTPS: CSP, nosniff, no-referrer" bash -c 'grep -q "^Content-Security-Policy: .*frame-ancestors" <<<"$1" &&
  grep -qi "^X-Content-Type-Options: nosniff" <<<"$1" && grep -qi "^Referrer-Policy: no-referrer" <<<"$1"' _ "$h"
check "HTTPS: Strict-Transport-Security" grep -qi '^Strict-Transport-Security: max-age=' <<<"$h"
check "HTTPS: no cookie" bash -c '! grep -qi "^Set-Cookie:" <<<"$1"' _ "$h"
check "plain HTTP to the HTTPS port gets no page" \
  bash -c "! curl -s --max-time 5 '${url/https/http}/l/news' | grep -q '<html'"
check "an unknown CA is refused by curl" bash -c "! curl -s --max-time 5 -o /dev/null '$url/'"
stop
chmod 644 "$T/key.pem"
check "a key file others can read is refused" bash -c "! '$LK' serve --role web >/dev/null 2>'$T/err'"
check "... saying what to fix" grep -q 'tls_key' "$T/err"
chmod 600 "$T/key.pem"
unset LISTKEEPER_HTTP_TLS_KEY
check "a certificate without a key is refused" bash -c "! '$LK' serve --role web >/dev/null 2>'$T/err'"
check "... saying both go together" grep -q 'go together' "$T/err"
finish
