#!/usr/bin/env bash
# The subscribe form on /l/NAME, end to end through a live `serve` (web and
# delivery roles) with the Maildir relay: GET the page, take its CSRF field,
# POST -> "check your mailbox" and the confirmation mail lands (P1). The
# answer is the same, byte for byte and in time, for a new, a subscribed and
# a suppressed address (P4: no enumeration): it is sent before the store
# is asked about the address. One confirmation mail per
# address per window, whoever asks; per-client limit -> 429. No CSRF -> 403
# and nothing queued; markup in a name comes back escaped; oversized -> 413.
LK=$1
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/mail_lib.bash"

lk init --dir "$T" >/dev/null
export LISTKEEPER_DELIVERY_RELAY="maildir:$T/out" LISTKEEPER_HTTP_LISTEN=127.0.0.1:0
export LISTKEEPER_LOG_LEVEL=info
# The timing runs below send hundreds of requests from one client.
export LISTKEEPER_WEB_SUBSCRIBE_PER_CLIENT=0 LISTKEEPER_WEB_SUBSCRIBE_PER_LIST=0
lk list create news --title "News & <b>views</b>" >/dev/null
lk list set news tracking yes >/dev/null
lk list create plain --title "Plain" >/dev/null
lk sub add news sub@example.org --confirmed --consent-note test >/dev/null
lk sub add news supp@example.org --confirmed --consent-note test >/dev/null
lk sub add plain supp@example.org --confirmed --consent-note test >/dev/null
lk sub rm news supp@example.org >/dev/null # suppressed for news, still on plain

start() { must_serve --role web --role delivery; }
start

# sub ADDR [NAME]: POST the form; status out, headers in $T/h, body in $T/b
sub() {
  req /l/news --data-urlencode "csrf=$csrf" --data-urlencode "address=$1" \
    --data-urlencode "name=${2:-}" --data-urlencode country= --data-urlencode format=text
}

# --- the page ----------------------------------------------------------------
check "GET /l/news is 200" [ "$(req /l/news)" = 200 ]
check "it has a POST form to itself" contains "$T/b" '<form method="post" action="/l/news">'
csrf=$(csrf_of)
check "with a CSRF field" [ -n "$csrf" ]
for f in address name country; do
  check "the $f input has a label" contains "$T/b" "<label for=\"$f\">"
  check "the $f input is there" contains "$T/b" "id=\"$f\" name=\"$f\""
done
check "plain text or HTML" contains "$T/b" 'name="format" value="html"'
check "the tracking box is there, unticked" contains "$T/b" '<input type="checkbox" name="tracking" value="1">'
check "the consent wording shows its version" contains "$T/b" 'Consent wording, version 1.'
if grep -qi '<script' "$T/b"; then bad "the page has a script"; else ok "no script"; fi
if hdr "Set-Cookie"; then bad "the page sets a cookie"; else ok "no cookie"; fi
check "GET /l/plain is 200" [ "$(req /l/plain)" = 200 ]
if grep -qF 'name="tracking"' "$T/b"; then bad "a list without tracking offers the box"; else
  ok "a list without tracking has no tracking box"; fi
check "GET /l/nosuch is 404" [ "$(req /l/nosuch)" = 404 ]

# --- subscribe (P1) ----------------------------------------------------------
check "POST a new address: 200" [ "$(sub new0@example.org 'New Zero')" = 200 ]
check "it says: check your mailbox" contains "$T/b" "Check your mailbox"
if grep -aqF 'new0@' "$T/b"; then bad "the answer names the address"; else
  ok "the answer never names the address"; fi
# The store work follows the answer (so that its timing tells nothing).
check "the person is pending" eventually '[ "$(state_of news new0@example.org)" = pending ]'
check "the confirmation mail lands in the Maildir" wait_mails_to new0@example.org 1
check "the second request for it is 200 too" [ "$(sub new0@example.org)" = 200 ]
sleep 1.5
check "... and sends no second mail" [ "$(mails_to new0@example.org)" = 1 ]

# --- no enumeration (P4) -----------------------------------------------------
sub new1@example.org >/dev/null; cp "$T/h" "$T/h.new"; cp "$T/b" "$T/b.new"
s_sub=$(sub sub@example.org); cp "$T/h" "$T/h.sub"; cp "$T/b" "$T/b.sub"
s_supp=$(sub supp@example.org); cp "$T/h" "$T/h.supp"; cp "$T/b" "$T/b.supp"
check "subscribed: 200" [ "$s_sub" = 200 ]
check "suppressed: 200" [ "$s_supp" = 200 ]
check "new and subscribed: the same body" cmp -s "$T/b.new" "$T/b.sub"
check "new and suppressed: the same body" cmp -s "$T/b.new" "$T/b.supp"
heads() { tr -d '\r' <"$1" | grep -iE '^(HTTP/|Content-Type|Content-Length|Cache-Control):' ; }
check "new and subscribed: the same headers" [ "$(heads "$T/h.new")" = "$(heads "$T/h.sub")" ]
check "new and suppressed: the same headers" [ "$(heads "$T/h.new")" = "$(heads "$T/h.supp")" ]
check "the subscribed person is still active" [ "$(state_of news sub@example.org)" = active ]
check "the subscribed person got no mail" [ "$(mails_to sub@example.org)" = 0 ]

# Median times over 200 tries each, interleaved so that drift hits all three.
t0=$(date +%s)
: >"$T/t.new"; : >"$T/t.sub"; : >"$T/t.supp"
post_t() {
  curl -s --max-time 5 -o /dev/null -w '%{time_total}\n' --data-urlencode "csrf=$csrf" \
    --data-urlencode "address=$1" --data-urlencode name= --data-urlencode format=text \
    "$url/l/news"
}
for i in $(seq 200); do
  post_t "t$i@example.org" >>"$T/t.new"
  post_t sub@example.org >>"$T/t.sub"
  post_t supp@example.org >>"$T/t.supp"
done
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
m_new=$(median "$T/t.new"); m_sub=$(median "$T/t.sub"); m_supp=$(median "$T/t.supp")
echo "# medians: new $m_new s, subscribed $m_sub s, suppressed $m_supp s ($(($(date +%s) - t0)) s)"
within5ms() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 0.005) }'; }
check "median times: new vs subscribed within 5 ms" within5ms "$m_new" "$m_sub"
check "median times: new vs suppressed within 5 ms" within5ms "$m_new" "$m_supp"
check "median times: subscribed vs suppressed within 5 ms" within5ms "$m_sub" "$m_supp"

# --- refusals ----------------------------------------------------------------
check "POST without a CSRF field is 403" \
  [ "$(req /l/news --data-urlencode address=nocsrf@example.org)" = 403 ]
check "POST with a forged CSRF field is 403" \
  [ "$(req /l/news --data 'csrf=QzXuTJR6RanLsEI3Va_RNB9TOW1AM8EnuoWfvLt9-S8' --data-urlencode address=nocsrf@example.org)" = 403 ]
check "the CSRF field of another page is 403" [ "$(req /l/plain --data-urlencode "csrf=$csrf" --data-urlencode address=nocsrf@example.org)" = 403 ]
sleep 1
check "nothing was queued for it" [ "$(mails_to nocsrf@example.org)" = 0 ]
check "nobody was created" [ -z "$(state_of news nocsrf@example.org)" ]

xss='<script>alert(1)</script>'
check "a bad address is 400" [ "$(sub 'not an address' "$xss")" = 400 ]
check "the page says what is wrong" contains "$T/b" 'does not look like an email address'
check "the name comes back escaped" contains "$T/b" 'value="&lt;script&gt;alert(1)&lt;/script&gt;"'
if grep -aqF "$xss" "$T/b"; then bad "the name comes back raw"; else ok "never raw"; fi
check "the address comes back filled in" contains "$T/b" 'value="not an address"'
long=$(head -c 300 /dev/zero | tr '\0' a)
check "an over-long name is 400" [ "$(sub ok@example.org "$long")" = 400 ]
check "... saying so" contains "$T/b" 'The name is too long.'
check "an over-long address is 400" [ "$(sub "$long@example.org")" = 400 ]
check "a form with no address is 400" [ "$(req /l/news --data-urlencode "csrf=$csrf")" = 400 ]
head -c 70000 /dev/zero | tr '\0' a >"$T/big"
check "an oversized body is 413" \
  [ "$(req /l/news -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "@$T/big")" = 413 ]
# The same body chunked (no length declared): the 413 comes once the body is
# in, not a cut connection; past LK_HTTP_MAX_DISCARD (1 MiB) it is cut.
rc=0; s=$(req /l/news -H 'Content-Type: application/x-www-form-urlencoded' \
  -H 'Transfer-Encoding: chunked' --data-binary "@$T/big") || rc=$?
check "an oversized chunked body is 413 too" [ "$s:$rc" = 413:0 ]
check "... and the connection closes" hdr "Connection: close"
check "... with the page that says why" contains "$T/b" "Too much data"
check "the server still answers" [ "$(req /l/news)" = 200 ]
check "PUT /l/news is 405" [ "$(req /l/news -X PUT --data x)" = 405 ]

# --- the per-client limit ----------------------------------------------------
stop
LISTKEEPER_WEB_SUBSCRIBE_PER_CLIENT=2 start
req /l/news >/dev/null
csrf=$(csrf_of)
check "1st request from one client: 200" [ "$(sub lim1@example.org)" = 200 ]
check "2nd request: 200" [ "$(sub lim2@example.org)" = 200 ]
check "3rd request in the hour: 429" [ "$(sub lim3@example.org)" = 429 ]
check "nobody was created by it" [ -z "$(state_of news lim3@example.org)" ]

if grep -aE '127\.0\.0\.1|@example\.org|curl/' "$T/log" | grep -v 'level=info serve: '; then
  bad "the log holds an address, an IP or a user agent"
else
  ok "the log holds no address, IP or user agent"
fi
stop
finish
