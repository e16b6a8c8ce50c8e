#!/usr/bin/env bash
# The preferences page (/p/TOKEN) and "what do you hold about me" (/me,
# /me/TOKEN), end to end through a live `serve` (web and delivery roles) with
# the Maildir relay, with curl:
#  - a GET of /p/ or /me/TOKEN changes nothing (and is audited: it shows
#    personal data); a POST without a valid CSRF field is refused and changes
#    nothing; bad values give the form back and change nothing;
#  - /p/ saves name, format, tracking consent (a ledger event), delivery
#    options, joins (pending: the confirmation mail goes out, P1) and leaves;
#    a forged field cannot join a closed list; a leave mails the goodbye as
#    /u/ does; leaving the last list says plainly, on the page and in the
#    goodbye, that the personal data has been deleted, and it is (P3);
#  - /me answers byte for byte the same for an address that is held, one that
#    is not and one that was erased; only the held address gets a mail, and
#    only one per window; past the per-client limit the answer is 429;
#  - /me/TOKEN lists the person's lists with working /p/ and /u/ links, and
#    its JSON download is the person's export (lists/person.c);
#  - XSS payloads in a name and a list title come out escaped.
LK=$1
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/mail_lib.bash"

lk init --dir "$T" >/dev/null
export LISTKEEPER_DELIVERY_RELAY="maildir:$T/out" LISTKEEPER_HTTP_LISTEN=127.0.0.1:0
export LISTKEEPER_LOG_LEVEL=info LISTKEEPER_WEB_SUBSCRIBE_PER_CLIENT=12
lk list create news --title "News & <b>views</b>" --digest yes >/dev/null
lk list create other --title "Other" >/dev/null
lk list create secret --title "Secret" --subscription_policy closed >/dev/null
db=$T/listkeeper.db

must_serve --role web --role delivery

held() { ! grep -q "nothing is held about that address" <<<"$(lk person show "$1")"; }
audits() { sqlite3 "$db" "SELECT count(*) FROM audit_log WHERE action = '$1'"; }
ledger() { sqlite3 "$db" "SELECT count(*) FROM consent_events WHERE action = '$1'"; }
secret_id=$(sqlite3 "$db" "SELECT id FROM lists WHERE name = 'secret'")
news_id=$(sqlite3 "$db" "SELECT id FROM lists WHERE name = 'news'")
other_id=$(sqlite3 "$db" "SELECT id FROM lists WHERE name = 'other'")

# --- /p/: the preferences link of a campaign's footer ---------------------
lk sub add news pat@example.org --name 'Pat <script>alert(1)</script>' --confirmed \
  --consent-note test >/dev/null
printf 'Hello\n' >"$T/f"
lk send news --subject s --text "$T/f" >/dev/null
check "the campaign is delivered" wait_mails_to pat@ 1
p=$(body_path "$(newest_to pat@)" p)
check "its footer holds a /p/ link" [ "${p:0:3}" = /p/ ]
views=$(audits person-view)
check "GET /p/ is 200" [ "$(req "$p")" = 200 ]
check "the page shows the address" contains "$T/b" "pat@example.org"
check "the name comes out escaped" contains "$T/b" 'value="Pat &lt;script&gt;alert(1)&lt;/script&gt;"'
if grep -aqF '<script>' "$T/b"; then bad "a <script> element on /p/"; else ok "no <script> on /p/"; fi
check "the list title comes out escaped" contains "$T/b" 'News &amp; &lt;b&gt;views&lt;/b&gt;'
check "news offers every message, digest, no mail and leave" \
  bash -c "grep -q 'value=\"each\" selected' '$T/b' && grep -q 'value=\"digest\"' '$T/b' && grep -q 'value=\"leave\"' '$T/b'"
check "other can be joined" contains "$T/b" "<select id=\"l-$other_id\" name=\"l.$other_id\">"
if grep -aqF "l.$secret_id" "$T/b"; then bad "the closed list is offered"; else
  ok "the closed list is not offered"; fi
check "every select has a label" \
  [ "$(grep -c '<select id=' "$T/b")" = "$(grep -c '<label for="l-' "$T/b")" ]
check "the page carries the security headers" \
  bash -c "grep -qi '^Content-Security-Policy: default-src' '$T/h' && grep -qi '^Referrer-Policy: no-referrer' '$T/h'"
if hdr "Set-Cookie"; then bad "GET /p/ sets a cookie"; else ok "GET /p/ sets no cookie"; fi
check "showing the page is audited (person-view)" [ "$(audits person-view)" -gt "$views" ]
csrf=$(csrf_of)
check "the form carries a CSRF field" [ -n "$csrf" ]
check "GET changes nothing" [ "$(state_of news pat@example.org)" = active ]

check "POST /p/ without CSRF is 403" \
  [ "$(req "$p" --data "name=Evil&format=html&l.$news_id=leave")" = 403 ]
check "POST /p/ with a forged CSRF is 403" \
  [ "$(req "$p" --data "csrf=QzXuTJR6RanLsEI3Va_RNB9TOW1AM8EnuoWfvLt9-S8&l.$news_id=leave")" = 403 ]
check "pat is still on news" [ "$(state_of news pat@example.org)" = active ]
check "a bad format gives the form back (400)" \
  [ "$(req "$p" --data "csrf=$csrf&name=X&format=pdf")" = 400 ]
check "... saying why" contains "$T/b" "Please choose plain text or HTML."
check "a name with a line break is 400" \
  [ "$(req "$p" --data "csrf=$csrf&name=a%0Ab&format=text")" = 400 ]
check "a forged field for the closed list is 400" \
  [ "$(req "$p" --data "csrf=$csrf&format=text&l.$secret_id=join")" = 400 ]
check "a choice not offered (digest on other) is 400" \
  [ "$(req "$p" --data "csrf=$csrf&format=text&l.$other_id=digest")" = 400 ]
check "nothing changed: pat is on news only" \
  bash -c "[ \"\$(\"$LK\" sub ls news | grep -c pat@)\" = 1 ] && [ -z \"\$(\"$LK\" sub ls other | grep pat@)\" ] && [ -z \"\$(\"$LK\" sub ls secret | grep pat@)\" ]"
check "... and the name is unchanged" \
  grep -qF 'Pat <script>' <<<"$(lk person show pat@example.org)"

tr0=$(ledger tracking-consent)
code=$(req "$p" --data-urlencode "name=Pat Smith" --data "csrf=$csrf&format=html&tracking=1&l.$news_id=nomail&l.$other_id=join")
check "saving is 200" [ "$code" = 200 ]
check "it says: saved" contains "$T/b" "Your preferences are saved."
check "it says a confirmation link was sent for other" contains "$T/b" "open the link in the message"
check "the name is saved" grep -qF 'Pat Smith' <<<"$(lk person show pat@example.org)"
check "the form shows the new name" contains "$T/b" 'value="Pat Smith"'
check "the format is saved (html)" \
  [ "$(lk person export pat@example.org | jq -r .subscriber.format)" = html ]
check "tracking consent is saved" \
  [ "$(lk person export pat@example.org | jq -r .subscriber.open_tracking_consent)" = true ]
check "... as a ledger event" [ "$(ledger tracking-consent)" -gt "$tr0" ]
check "news is no-mail now" \
  [ "$(lk person export pat@example.org | jq -r '.subscriptions[] | select(.list == "news") | .nomail')" = true ]
check "other is pending (double opt-in)" [ "$(state_of other pat@example.org)" = pending ]
check "the confirmation for other is mailed" wait_mails_to pat@ 2
c=$(body_path "$(newest_to pat@)" c)
check "... with a /c/ link" [ "${c:0:3}" = /c/ ]
check "the ledger verifies" lk ledger verify

# Leaving one of two lists keeps the data; the last one erases it (P3).
req "$p" >/dev/null
csrf=$(csrf_of)
check "the pending list can be cancelled" contains "$T/b" '<option value="pending" selected>'
check "leaving news (still pending on other) is 200" \
  [ "$(req "$p" --data "csrf=$csrf&format=html&l.$news_id=leave&l.$other_id=pending")" = 200 ]
check "it says: you have left" contains "$T/b" "You have left"
if grep -aqF "personal data has been deleted" "$T/b"; then bad "it claims an erasure"; else
  ok "no erasure claimed while on another list"; fi
check "pat left news" [ -z "$(state_of news pat@example.org)" ]
check "pat is still held" held pat@example.org
# goodbyes N: the files of the goodbyes to pat@, once she has N mails
goodbyes() { wait_mails_to pat@ "$1" && grep -l '^Subject: You have left' $(grep -l '^To: .*pat@' "$T"/out/new/*); }
bye=$(goodbyes 3 || true); bye=${bye:-/dev/null}
check "a goodbye is mailed for news, as after /u/" grep -q '^Subject: You have left News & <b>views</b>' $bye
if grep -q 'personal data has been deleted' $bye; then bad "the goodbye claims an erasure"; else
  ok "the goodbye claims no erasure while on another list"; fi
check "leaving the last list is 200" \
  [ "$(req "$p" --data "csrf=$csrf&format=html&l.$other_id=leave")" = 200 ]
check "it says plainly: personal data has been deleted" \
  contains "$T/b" "Your personal data has been deleted."
bye=$(goodbyes 4 | grep -vxF "$bye" || true); bye=${bye:-/dev/null}
check "a second goodbye is mailed, for other" grep -q '^Subject: You have left Other' $bye
check "it says the personal data has been deleted" grep -q 'personal data has been deleted' $bye
check "nothing is held about pat" \
  grep -q "nothing is held about that address" <<<"$(lk person show pat@example.org)"
check "GET /p/ now says nothing is held (410)" [ "$(req "$p")" = 410 ]

# --- /me -----------------------------------------------------------------
lk sub add news sam@example.org --name 'Sam "<img src=x onerror=alert(1)>"' --confirmed \
  --consent-note test >/dev/null
lk sub add other sam@example.org --confirmed --consent-note test >/dev/null
check "GET /me is 200" [ "$(req /me)" = 200 ]
check "it has a labelled address field" contains "$T/b" '<label for="address">'
csrf=$(csrf_of)
mecsrf=$csrf
check "POST /me without CSRF is 403" [ "$(req /me --data 'address=sam@example.org')" = 403 ]
check "POST /me with a bad address is 400" \
  [ "$(req /me --data "csrf=$csrf&address=not-an-address")" = 400 ]
jobs0=$(sqlite3 "$db" "SELECT count(*) FROM jobs WHERE kind = 'request'")
for who in sam@example.org nobody@example.org pat@example.org; do
  code=$(req /me --data "csrf=$csrf" --data-urlencode "address=$who")
  echo "$code" >"$T/code.$who"
  tr -d '\r' <"$T/h" | grep -iE '^(content-type|cache-control|content-security-policy|set-cookie|content-length):' \
    | sort >"$T/hdr.$who"
  cp "$T/b" "$T/body.$who"
done
check "the answer is 200 for all three" \
  bash -c "[ \"\$(cat '$T/code.sam@example.org' '$T/code.nobody@example.org' '$T/code.pat@example.org' | sort -u)\" = 200 ]"
check "held and not held: the same body" cmp -s "$T/body.sam@example.org" "$T/body.nobody@example.org"
check "held and erased: the same body" cmp -s "$T/body.sam@example.org" "$T/body.pat@example.org"
check "... and the same headers" \
  bash -c "cmp -s '$T/hdr.sam@example.org' '$T/hdr.nobody@example.org' && cmp -s '$T/hdr.sam@example.org' '$T/hdr.pat@example.org'"
check "the answer names no address" bash -c "! grep -aq '@example' '$T/body.sam@example.org'"
check "sam gets the link" wait_mails_to sam@ 1
m=$(newest_to sam@)
check "the mail is the data request" grep -q '^Subject: Your link: what we hold about you' "$m"
me=$(body_path "$m" me)
check "it holds a /me/ link" [ "${me:0:4}" = /me/ ]
sleep 1
check "nobody@ gets nothing" [ "$(mails_to nobody@)" = 0 ]
check "erased pat@ gets nothing more" [ "$(mails_to pat@)" = 4 ]
check "one request job was queued (for sam only)" \
  [ "$(sqlite3 "$db" "SELECT count(*) FROM jobs WHERE kind = 'request'")" = $((jobs0 + 1)) ]
check "asking again for sam: the same answer" \
  bash -c "[ \"\$(curl -s --max-time 5 -o '$T/b2' -w '%{http_code}' --data 'csrf=$csrf&address=sam%40example.org' '$url/me')\" = 200 ] && cmp -s '$T/b2' '$T/body.sam@example.org'"
sleep 1
check "... but no second mail within the window" [ "$(mails_to sam@)" = 1 ]
check "... and no second job" \
  [ "$(sqlite3 "$db" "SELECT count(*) FROM jobs WHERE kind = 'request'")" = $((jobs0 + 1)) ]

views=$(audits person-view)
check "GET /me/TOKEN is 200" [ "$(req "$me")" = 200 ]
check "it shows sam's address" contains "$T/b" "sam@example.org"
check "the name comes out escaped" contains "$T/b" 'Sam &quot;&lt;img src=x onerror=alert(1)&gt;&quot;'
if grep -aqF '<img' "$T/b"; then bad "an <img> element on /me/"; else ok "no <img> on /me/"; fi
check "it lists news (escaped) and other" \
  bash -c "grep -qF 'News &amp; &lt;b&gt;views&lt;/b&gt;' '$T/b' && grep -qF '<strong>Other</strong>' '$T/b'"
check "it links to preferences and unsubscribe" \
  bash -c "[ \$(grep -c 'href=\"/p/' '$T/b') = 2 ] && [ \$(grep -c 'href=\"/u/' '$T/b') = 2 ]"
check "showing it is audited" [ "$(audits person-view)" -gt "$views" ]
pl=$(grep -o 'href="/p/[^"]*"' "$T/b" | head -1 | sed 's/href="//; s/"$//')
check "its preferences link works" [ "$(req "$pl")" = 200 ]
req "$me" >/dev/null
csrf=$(csrf_of)
tamp=${me:0:20}$( [ "${me:20:1}" = A ] && echo B || echo A )${me:21}
check "a tampered /me/ token is 400" [ "$(req "$tamp")" = 400 ]
check "a /p/ token at /me/ is 400" [ "$(req "/me/${pl#/p/}")" = 400 ]
check "POST /me/TOKEN without CSRF is 403" [ "$(req "$me" --data 'x=1')" = 403 ]
exports=$(audits person-export)
check "the download is 200" [ "$(req "$me" --data "csrf=$csrf")" = 200 ]
check "... as JSON" hdr "Content-Type: application/json"
check "... an attachment" hdr 'Content-Disposition: attachment; filename="my-data.json"'
check "... never cached" hdr "Cache-Control: no-store"
check "... audited (person-export)" [ "$(audits person-export)" -gt "$exports" ]
lk person export sam@example.org >"$T/cli.json"
check "it is the person's export (all but the time it was made)" \
  bash -c "diff <(jq -S 'del(.generated)' '$T/b') <(jq -S 'del(.generated)' '$T/cli.json')"
check "it holds sam's address and both lists" \
  [ "$(jq -r '[.subscriber.address, (.subscriptions | length)] | @tsv' "$T/b")" = "$(printf 'sam@example.org\t2')" ]
check "the GETs changed nothing" \
  bash -c "[ \"\$(\"$LK\" sub ls news | grep -c 'active.*sam@')\" = 1 ] && [ \"\$(\"$LK\" sub ls other | grep -c 'active.*sam@')\" = 1 ]"

# The per-client limit (12 an hour here, counted with subscribe requests):
# the requests so far used 4; a 429 comes before the 10th more.
n429=0
for i in $(seq 10); do
  code=$(req /me --data "csrf=$mecsrf" --data-urlencode "address=flood$i@example.org")
  [ "$code" = 429 ] && n429=$((n429 + 1))
done
check "past the per-client limit /me answers 429" [ "$n429" -ge 1 ]
check "no address or name in the log" \
  bash -c "! grep -aE 'example\.org|Pat|Sam' '$T/log'"
check "serve is still running" kill -0 "$pid"
finish
