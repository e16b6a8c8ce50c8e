#!/usr/bin/env bash
# `listkeeper serve`: a live web role on a free loopback port, driven with
# curl. List text is escaped, closed lists stay hidden, every response has
# the security headers and no cookie, other methods get 405, unknown paths
# 404, nothing about the visitor reaches the log, and SIGTERM stops it
# cleanly (exit 0) within 5 s.
LK=$1
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/mail_lib.bash" # for must_serve and hdr: no mail here

quiet() { "$@" >/dev/null 2>&1; }
check "serve --help exits 0" quiet lk serve --help
set +e; lk serve --role bogus >/dev/null 2>&1; rc=$?; set -e
check "an unknown role is a usage error" [ "$rc" -eq 64 ]

lk init --dir "$T" >/dev/null
xss='<script>alert(1)</script>'
lk list create news --title "News $xss" --description "Tom & Jerry's \"quotes\"" >/dev/null
lk list create hidden --title "Hidden list" --subscription-policy closed >/dev/null

# Port 0: the kernel picks a free port and serve prints the one it got.
export LISTKEEPER_HTTP_LISTEN=127.0.0.1:0
export LISTKEEPER_LOG_LEVEL=debug
must_serve --role web
url=$url/

up=0
for _ in $(seq 50); do
  if [ "$(curl -s --max-time 1 "${url}healthz" 2>/dev/null)" = ok ]; then up=1; break; fi
  sleep 0.1
done
check "/healthz answers ok within 5 s" [ "$up" -eq 1 ]

# get PATH [CURL ARGS...]: status code on stdout; headers and body in $T/h, $T/b
get() {
  local p=$1; shift
  curl -s --max-time 5 -D "$T/h" -o "$T/b" -w '%{http_code}' "$@" "${url}${p#/}"
}
headers_ok() {
  local what=$1
  check "$what: CSP" hdr "Content-Security-Policy: default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
  check "$what: nosniff" hdr "X-Content-Type-Options: nosniff"
  check "$what: no referrer" hdr "Referrer-Policy: no-referrer"
  check "$what: Cache-Control" hdr "Cache-Control: "
  if hdr "Set-Cookie"; then bad "$what: sets a cookie"; else ok "$what: no cookie"; fi
}
raw_absent() { ! grep -aqF -- "$xss" "$T/b" && ! grep -aqiF -- "<script" "$T/b"; }

check "/ is 200" [ "$(get /)" = 200 ]
headers_ok "/"
check "/ is HTML5 with lang" contains "$T/b" '<!DOCTYPE html>'
check "/ has lang" grep -aqF '<html lang="en">' "$T/b"
check "/ has viewport meta" grep -aqF 'name="viewport"' "$T/b"
check "/ shows the title escaped" contains "$T/b" 'News &lt;script&gt;alert(1)&lt;/script&gt;'
check "/ never shows it raw" raw_absent
check "/ escapes & and quotes" contains "$T/b" 'Tom &amp; Jerry&#39;s &quot;quotes&quot;'
check "/ links the list" contains "$T/b" 'href="/l/news"'
if grep -aqF -e 'Hidden list' -e '/l/hidden' "$T/b"; then bad "/ shows a closed list"; else
  ok "/ hides a closed list"; fi

check "/l/news is 200" [ "$(get /l/news)" = 200 ]
headers_ok "/l/news"
check "/l/news shows the title escaped" contains "$T/b" '<h1>News &lt;script&gt;alert(1)&lt;/script&gt;</h1>'
check "/l/news never shows it raw" raw_absent
check "/l/news has the subscribe form" contains "$T/b" '<form method="post" action="/l/news">'

check "/style.css is 200" [ "$(get /style.css)" = 200 ]
check "/style.css is CSS" hdr "Content-Type: text/css"
headers_ok "/style.css"

check "/l/hidden (closed) is 404" [ "$(get /l/hidden)" = 404 ]
check "/l/nosuch is 404" [ "$(get /l/nosuch)" = 404 ]
check "/nosuch is 404" [ "$(get /nosuch)" = 404 ]
headers_ok "404"
check "/l/%3Cscript%3E is 404" [ "$(get /l/%3Cscript%3E)" = 404 ]
check "the 404 page does not echo the path" raw_absent

check "POST / is 405" [ "$(get / -X POST --data 'a=b')" = 405 ]
check "405 names the allowed methods" hdr "Allow: GET, HEAD"
headers_ok "405"
check "DELETE /l/news is 405" [ "$(get /l/news -X DELETE)" = 405 ]
check "HEAD / is 200" [ "$(get / -I)" = 200 ]

set +e
hp=${url#http://}; LISTKEEPER_HTTP_LISTEN="${hp%/}" lk serve >/dev/null 2>"$T/err2"; rc=$?
set -e
check "a taken port exits 71" [ "$rc" -eq 71 ]
check "a taken port is explained" grep -q "another server holds the port" "$T/err2"
set +e; LISTKEEPER_HTTP_LISTEN=localhost:http lk serve >/dev/null 2>&1; rc=$?; set -e
check "a bad [http] listen exits 78" [ "$rc" -eq 78 ]
check "serve is still running" kill -0 "$pid"
if grep -aqiE 'curl/|user-agent' "$T/log"; then bad "the log holds a user agent"; else
  ok "no user agent in the log"; fi

kill -TERM "$pid"
gone=0
for _ in $(seq 50); do
  kill -0 "$pid" 2>/dev/null || { gone=1; break; }
  sleep 0.1
done
check "SIGTERM stops serve within 5 s" [ "$gone" -eq 1 ]
set +e; wait "$pid"; rc=$?; set -e
pid=
check "serve exits 0 after SIGTERM" [ "$rc" -eq 0 ]
finish
