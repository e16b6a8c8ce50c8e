#!/usr/bin/env bash
# The token pages of the web role, end to end through a live `serve` (web and
# delivery roles) with the Maildir relay: `sub add` queues a confirmation,
# serve delivers it; a GET of its /c/ link only shows a button (P1); a POST
# without the CSRF field is refused, with it the person is subscribed. A
# campaign's List-Unsubscribe URL takes the RFC 8058 one-click POST exactly
# as mail providers send it (urlencoded and multipart): 200, no redirect,
# and on the last list the person's data is gone (P2, P3). The /u/ page with
# its button and "leave every list" box; tampered tokens, oversized bodies
# and GETs change nothing.
LK=$1
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/mail_lib.bash"

lk init --dir "$T" >/dev/null
export LISTKEEPER_DELIVERY_RELAY="maildir:$T/out" LISTKEEPER_HTTP_LISTEN=127.0.0.1:0
export LISTKEEPER_LMTP_LISTEN=127.0.0.1:0 # serve runs every role: any free port
export LISTKEEPER_LOG_LEVEL=info
lk list create news --title "News & <b>views</b>" >/dev/null
lk list create other --title "Other" >/dev/null

must_serve

# unsub_url FILE: the https/http URL of the List-Unsubscribe header
unsub_url() {
  python3 - "$1" <<'EOF'
import email, re, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
h = " ".join(str(m["List-Unsubscribe"]).split())
print(re.search(r"<(https?://[^>]+)>", h).group(1))
EOF
}

# --- confirm (P1) --------------------------------------------------------
lk sub add news alice@example.org >/dev/null
check "the confirmation mail is delivered" wait_mails 1
m=$(newest_to alice@example.org)
c=$(body_path "$m" c)
check "the mail holds a /c/ link" [ -n "$c" ]
check "GET /c/ is 200" [ "$(req "$c")" = 200 ]
check "the page names the list, escaped" contains "$T/b" 'News &amp; &lt;b&gt;views&lt;/b&gt;'
if grep -aqF 'alice@' "$T/b"; then bad "the page shows the address"; else
  ok "the page never shows the address"; fi
check "the page has a POST form to itself" contains "$T/b" "<form method=\"post\" action=\"$c\">"
csrf=$(csrf_of)
check "the form carries a CSRF field" [ -n "$csrf" ]
if hdr "Set-Cookie"; then bad "GET /c/ sets a cookie"; else ok "GET /c/ sets no cookie"; fi
check "HEAD /c/ is 200" [ "$(req "$c" -I)" = 200 ]
check "after GET and HEAD the person is still pending" [ "$(state_of news alice@example.org)" = pending ]
check "POST /c/ without CSRF is 403" [ "$(req "$c" -X POST --data 'x=1')" = 403 ]
check "POST /c/ with a forged CSRF is 403" \
  [ "$(req "$c" --data 'csrf=QzXuTJR6RanLsEI3Va_RNB9TOW1AM8EnuoWfvLt9-S8')" = 403 ]
check "POST /c/ with an empty body is 403" [ "$(req "$c" -X POST -H 'Content-Type: application/x-www-form-urlencoded')" = 403 ]
check "still pending after refused POSTs" [ "$(state_of news alice@example.org)" = pending ]
tamp=${c:0:20}$( [ "${c:20:1}" = A ] && echo B || echo A )${c:21}
check "GET of a tampered /c/ token is 400" [ "$(req "$tamp")" = 400 ]
check "the bad-link page says to subscribe again" contains "$T/b" "subscribe again"
check "POST of a tampered /c/ token is 400" [ "$(req "$tamp" --data "csrf=$csrf")" = 400 ]
check "POST /c/ with the CSRF field is 200" [ "$(req "$c" --data "csrf=$csrf")" = 200 ]
check "it says: you are subscribed" contains "$T/b" "You are subscribed"
check "the person is active" [ "$(state_of news alice@example.org)" = active ]
check "a second POST is friendly" [ "$(req "$c" --data "csrf=$csrf")" = 200 ]
check "it says: already confirmed" contains "$T/b" "Already confirmed"
check "GET after confirming: already confirmed" [ "$(req "$c")" = 200 ] 
check "... says so" contains "$T/b" "Already confirmed"

# --- the one-click unsubscribe (RFC 8058, P2, P3) ------------------------
printf 'Hello\n' >"$T/f"
lk send news --subject s --text "$T/f" >/dev/null
check "the campaign is delivered" wait_mails 2
m=$(newest_to alice@example.org)
check "it has List-Unsubscribe-Post" grep -q '^List-Unsubscribe-Post: List-Unsubscribe=One-Click' "$m"
u=$(unsub_url "$m")
up=/${u#*://*/}
check "List-Unsubscribe holds a /u/ URL" [ "${up:0:3}" = /u/ ]
check "GET /u/ is 200" [ "$(req "$up")" = 200 ]
check "the page has the unsubscribe button" contains "$T/b" '<button type="submit">Unsubscribe</button>'
check "the page has the leave-every-list box" contains "$T/b" 'name="all"'
check "GET /u/ changes nothing" [ "$(state_of news alice@example.org)" = active ]
utamp=${up:0:20}$( [ "${up:20:1}" = A ] && echo B || echo A )${up:21}
check "one-click with a tampered token is 400" \
  [ "$(req "$utamp" -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data 'List-Unsubscribe=One-Click')" = 400 ]
check "a /c/ token at /u/ is 400" \
  [ "$(req "/u/${c#/c/}" --data 'List-Unsubscribe=One-Click')" = 400 ]
check "nothing changed" [ "$(state_of news alice@example.org)" = active ]
head -c 70000 /dev/zero | tr '\0' a >"$T/big"
check "an oversized body is 413" \
  [ "$(req "$up" -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "@$T/big")" = 413 ]
check "an oversized chunked body is refused" \
  bash -c "! curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' --data-binary @$T/big '$url$up' | grep -q '^200$'"
check "an unsupported Content-Type is 415" \
  [ "$(req "$up" -X POST -H 'Content-Type: text/plain' --data 'List-Unsubscribe=One-Click')" = 415 ]
check "a malformed body is 400" \
  [ "$(req "$up" -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data 'List-Unsubscribe=One%ZZClick')" = 400 ]
check "PUT /u/ is 405" [ "$(req "$up" -X PUT --data 'x')" = 405 ]
check "405 on /u/ allows POST" hdr "Allow: GET, HEAD, POST"
check "the person is still active" [ "$(state_of news alice@example.org)" = active ]

code=$(curl -s --max-time 5 -D "$T/h" -o "$T/b" -w '%{http_code}' -X POST \
  -H 'Content-Type: application/x-www-form-urlencoded' --data 'List-Unsubscribe=One-Click' "$url$up")
check "the one-click POST is 200" [ "$code" = 200 ]
if hdr "Location:"; then bad "the one-click answer redirects"; else ok "no Location header"; fi
if hdr "Set-Cookie"; then bad "the one-click answer sets a cookie"; else ok "no cookie"; fi
check "the body is tiny" [ "$(wc -c <"$T/b")" -lt 100 ]
check "alice is no longer on news" [ -z "$(state_of news alice@example.org)" ]
check "nothing is held about alice (last list: erased)" \
  grep -q "nothing is held about that address" <<<"$(lk person show alice@example.org)"
check "a repeated one-click is still 200" \
  [ "$(req "$up" -H 'Content-Type: application/x-www-form-urlencoded' --data 'List-Unsubscribe=One-Click')" = 200 ]
check "GET /u/ now says not subscribed" [ "$(req "$up")" = 200 ]
check "... in words" contains "$T/b" "You are not subscribed"

# The multipart form of the one-click (curl -F), for bob.
lk sub add news bob@example.org --confirmed --consent-note test >/dev/null
lk send news --subject s2 --text "$T/f" >/dev/null
wait_mails_to bob@ 1 || true
m=$(newest_to bob@example.org)
u=$(unsub_url "$m")
up=/${u#*://*/}
check "bob is active" [ "$(state_of news bob@example.org)" = active ]
code=$(curl -s --max-time 5 -D "$T/h" -o "$T/b" -w '%{http_code}' -F 'List-Unsubscribe=One-Click' "$url$up")
check "the multipart one-click POST is 200" [ "$code" = 200 ]
if hdr "Location:"; then bad "it redirects"; else ok "no Location header (multipart)"; fi
check "bob is erased" grep -q "nothing is held about that address" <<<"$(lk person show bob@example.org)"

# --- the /u/ page: one list, then every list ----------------------------
# two_lists WHO SUBJECT: WHO@example.org joins news and other, and a campaign
# SUBJECT goes to news; up is the /u/ path in the text of WHO's copy
two_lists() {
  lk sub add news "$1@example.org" --confirmed --consent-note test >/dev/null
  lk sub add other "$1@example.org" --confirmed --consent-note test >/dev/null
  lk send news --subject "$2" --text "$T/f" >/dev/null
  wait_mails_to "$1@" 1 || true
  up=$(body_path "$(newest_to "$1@example.org")" u)
}
two_lists carol s3
check "GET carol's /u/ is 200" [ "$(req "$up")" = 200 ]
csrf=$(csrf_of)
check "POST /u/ without CSRF is 403" [ "$(req "$up" --data 'all=1')" = 403 ]
check "carol is still on news" [ "$(state_of news carol@example.org)" = active ]
check "POST /u/ with CSRF is 200" [ "$(req "$up" --data "csrf=$csrf")" = 200 ]
check "it says: you are unsubscribed" contains "$T/b" "You are unsubscribed"
if grep -aqF "personal data has been deleted" "$T/b"; then bad "it says data deleted while on another list"; else
  ok "it does not claim an erasure (carol is on another list)"; fi
check "carol left news" [ -z "$(state_of news carol@example.org)" ]
check "carol is still on other" [ "$(state_of other carol@example.org)" = active ]

two_lists dave s4
req "$up" >/dev/null
csrf=$(csrf_of)
check "POST /u/ with all=1 is 200" [ "$(req "$up" --data "csrf=$csrf&all=1")" = 200 ]
check "it says the data has been deleted" contains "$T/b" "personal data has been deleted"
check "dave left news" [ -z "$(state_of news dave@example.org)" ]
check "dave left other" [ -z "$(state_of other dave@example.org)" ]
check "nothing is held about dave" \
  grep -q "nothing is held about that address" <<<"$(lk person show dave@example.org)"

# --- concurrent one-click POSTs (web/writer.h: committed together) -------
# Sixteen readers of a list "burst" unsubscribe at once, one of them twice;
# the writer runs such requests in shared transactions: each must still be
# answered 200 only for a committed change, and all of them erased.
{
  echo "email,name"
  for i in $(seq 16); do echo "burst$i@example.org,Reader $i"; done
} >"$T/burst.csv"
lk list create burst --title "Burst" >/dev/null
lk import burst "$T/burst.csv" --confirmed --consent-note test >/dev/null
lk send burst --subject s5 --text "$T/f" >/dev/null
for _ in $(seq 200); do
  [ "$(grep -l '^To: .*<burst' "$T"/out/new/* 2>/dev/null | wc -l)" -ge 16 ] && break
  sleep 0.1
done
: >"$T/burst.paths"
for m in $(grep -l '^To: .*<burst' "$T"/out/new/*); do
  u=$(unsub_url "$m")
  echo "/${u#*://*/}" >>"$T/burst.paths"
done
check "sixteen unsubscribe links" [ "$(sort -u "$T/burst.paths" | wc -l)" -eq 16 ]
head -1 "$T/burst.paths" >>"$T/burst.paths" # one link twice in the burst
n=0
cpids=()
while read -r p; do
  n=$((n + 1))
  curl -s --max-time 10 -o /dev/null -w '%{http_code}\n' -X POST \
    -H 'Content-Type: application/x-www-form-urlencoded' --data 'List-Unsubscribe=One-Click' \
    "$url$p" >"$T/burst.$n" &
  cpids+=($!)
done <"$T/burst.paths"
wait "${cpids[@]}" # not plain wait: serve runs in the background too
check "every concurrent one-click POST is 200" \
  [ "$(cat "$T"/burst.[0-9]* | grep -c '^200$')" -eq 17 ]
check "nobody is left on burst" [ -z "$(lk sub ls burst | grep '@example.org')" ]
check "every burst reader is erased" \
  [ "$(for i in $(seq 16); do lk person show "burst$i@example.org"; done | grep -c "nothing is held about that address")" -eq 16 ]
check "the ledger verifies after the burst" lk ledger verify

# A one-click link of a list deleted since: 410, nothing else happens.
lk list create gone --title "Gone" >/dev/null
lk sub add gone erin@example.org --confirmed --consent-note test >/dev/null
lk send gone --subject s6 --text "$T/f" >/dev/null
wait_mails_to erin@ 1 || true
u=$(unsub_url "$(newest_to erin@example.org)")
lk list delete gone --yes >/dev/null
check "one-click for a deleted list is 410" \
  [ "$(req "/${u#*://*/}" -H 'Content-Type: application/x-www-form-urlencoded' --data 'List-Unsubscribe=One-Click')" = 410 ]

if grep -aqE 'example\.org|curl/|127\.0\.0\.1:[0-9]+ ' "$T/log"; then
  bad "the log holds an address, IP or user agent"; grep -aE 'example\.org|curl/' "$T/log" | head -3
else
  ok "no address, IP or user agent in the log"; fi
check "serve is still running" kill -0 "$pid"
kill -TERM "$pid"
set +e; wait "$pid"; rc=$?; set -e
pid=
check "serve exits 0 after SIGTERM" [ "$rc" -eq 0 ]
finish
