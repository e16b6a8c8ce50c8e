#!/usr/bin/env bash
# The intake role's LMTP server end to end: a campaign is sent to a Maildir
# relay to get real VERP envelope senders and List-Unsubscribe mailto
# addresses; then swaks (over LMTP) and raw sockets deliver bounces,
# complaints, mailto unsubscribes, forged tokens and protocol abuse to
# `serve --role intake`, and the store is checked with sqlite3.
LK=$1
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/intake_lib.bash" # for lmtp_serve; q, state, settle and lmtp are defined again below
B="$(dirname "$(readlink -f "$0")")/../intake/bounces"

lk init --dir "$T" --domain lists.example.org >/dev/null
export LISTKEEPER_DELIVERY_RELAY="maildir:$T/out" LISTKEEPER_LOG_LEVEL=info
lk list create news --title "News" --postal-address "1 Main St" >/dev/null
lk list create other --title "Other" --postal-address "1 Main St" >/dev/null
{
  echo email,name
  for w in hard complaint mailto forged keep; do echo "$w@example.org,Reader $w"; done
} > "$T/people.csv"
lk import news "$T/people.csv" --confirmed --consent-note test >/dev/null
printf 'keep@example.org,Keep\n' | { echo email,name; cat; } > "$T/other.csv"
lk import other "$T/other.csv" --confirmed --consent-note test >/dev/null
printf 'Hello {{name}}\n' > "$T/body.txt"
timeout 60 "$LK" send news --subject "Issue 1" --text "$T/body.txt" --wait >/dev/null

# For each recipient: its subscriber id, VERP sender and mailto unsubscribe.
verp_map
check "the campaign reached five people" [ "$(wc -l < "$T/map")" -eq 5 ]
sid() { awk -v w="$1" '$1 == w { print $2 }' "$T/map"; }
mailto() { awk -v w="$1" '$1 == w { print $4 }' "$T/map"; }
check "VERP senders are LIST-bounces+TOKEN@DOMAIN" grep -q '^hard [0-9]* news-bounces+[a-z2-7]\{28\}@lists.example.org ' "$T/map"
check "mailto addresses are LIST-unsubscribe+TOKEN@DOMAIN" grep -q ' news-unsubscribe+[a-z2-7]\{28\}@lists.example.org$' "$T/map"

# List names are bounded so that the list's own local parts stay within
# RFC 5321's 64 octets: 24 characters are refused, 23 give exactly 64.
long=abcdefghijklmnopqrstuvw
out=$("$LK" list create "${long}x" 2>&1) && bad "a 24-character list name was accepted"
check "a 24-character list name is refused, saying why" grep -q "1 to 23 characters (24 given).*64 octets" <<<"$out"
lk list create "$long" >/dev/null
printf 'email,name\nlongest@example.org,L\n' > "$T/long.csv"
lk import "$long" "$T/long.csv" --confirmed --consent-note test >/dev/null
LISTKEEPER_DELIVERY_RELAY="maildir:$T/longout" timeout 60 "$LK" send "$long" --subject x --text "$T/body.txt" --wait >/dev/null
lp=$(python3 - "$T/longout/new" <<'EOF'
import email, os, re, sys
d = sys.argv[1]
m = email.message_from_binary_file(open(os.path.join(d, os.listdir(d)[0]), "rb"))
u = re.search(r"<mailto:([^>?]+)", m["List-Unsubscribe"]).group(1)
print(len(u.split("@")[0]), len(m["Return-Path"].strip("<> ").split("@")[0]))
EOF
)
check "the longest list name: mailto and VERP local parts of 64 and 60 octets" [ "$lp" = "64 60" ]
DB="$T/listkeeper.db"
q() { sqlite3 "$DB" "$1"; }
score() { q "SELECT bounce_score FROM subscriptions s JOIN lists l ON l.id = s.list_id WHERE l.name = 'news' AND s.subscriber_id = $(sid "$1");"; }
state() { q "SELECT state FROM subscriptions s JOIN lists l ON l.id = s.list_id WHERE l.name = 'news' AND s.subscriber_id = $(sid "$1");"; }

# --- serve --role intake on a free port ---------------------------------
check "serve --role intake printed its address" lmtp_serve intake

# settle: wait (at most 20 s) until the spool worker has handled every
# accepted message (the 250 comes once a message is spooled, before that)
# and deleted it (about a second after the last one).
settle() {
  for _ in $(seq 400); do
    [ "$(sqlite3 "$T/listkeeper-spool.db" "SELECT count(*) FROM intake_spool WHERE quarantined = 0")" = 0 ] && return 0
    sleep 0.05
  done
  return 1
}
# lmtp TO FILE: deliver FILE (LF line ends, swaks makes them CR LF) to TO.
lmtp() {
  swaks --server 127.0.0.1 --port "$port" --protocol LMTP --helo test.example \
    --from '<>' --to "$1" --data "@$2" --timeout 20 </dev/null 2>&1 || true
  settle
}
# bounce_for WHO FILE: a copy of FILE whose recipients are WHO's VERP address
bounce_for() {
  local v; v=$(verp "$1")
  sed -e "s/news-bounces+[a-z2-7]*@lists.example.org/$v/g" "$2" > "$T/msg.eml"
}

# A hard bounce raises the score by one; five disable the subscription.
bounce_for hard "$B/postfix-dsn-hard.eml"
out=$(lmtp "$(verp hard)" "$T/msg.eml")
check "hard bounce: RCPT accepted" grep -q "<-  *250 2.1.5" <<<"$out"
check "hard bounce: 250 after the dot" grep -q "<-  *250 2.0.0" <<<"$out"
check "hard bounce: score is 1" [ "$(score hard)" = 1 ]
check "hard bounce: still active" [ "$(state hard)" = 1 ]
for f in gmail-dsn-hard exchange-dsn-hard sendmail-dsn-hard; do
  bounce_for hard "$B/$f.eml"; lmtp "$(verp hard)" "$T/msg.eml" >/dev/null
done
check "four hard bounces: score 4, active" [ "$(score hard):$(state hard)" = 4:1 ]
bounce_for hard "$B/postfix-dsn-hard.eml"; lmtp "$(verp hard)" "$T/msg.eml" >/dev/null
check "five hard bounces: disabled" [ "$(score hard):$(state hard)" = 5:3 ]
check "the log names no address" bash -c "! grep -q '@example.org' '$T/serve.log'"

# A soft bounce and a garbled one change nothing (and are answered 250).
bounce_for keep "$B/postfix-dsn-soft-mailbox-full.eml"
check "soft bounce: 250" grep -q "<-  *250 2.0.0" <<<"$(lmtp "$(verp keep)" "$T/msg.eml")"
bounce_for keep "$B/garbled-truncated.eml"
check "garbled bounce: 250 (dropped)" grep -q "<-  *250 2.0.0" <<<"$(lmtp "$(verp keep)" "$T/msg.eml")"
check "soft and garbled: score 0" [ "$(score keep)" = 0 ]
check "garbled bounce counted (an aggregate for the list and day)" \
  [ "$(q "SELECT sum(value) FROM stats_daily WHERE counter = 'bounce-unparsable'")" = 1 ]

# A sender-side rejection (a real Postfix bounce of "554 5.7.1 ... blocked
# using zen.spamhaus.org", tests/intake/bounces/postfix/) never touches the
# subscriber: counted for the list and under the job that the returned
# Message-ID names. Its report names another recipient (as a forward's
# would): the token's subscriber is kept, and the log says so by id.
keepmsg=$(grep -l "keep@example.org" "$T"/out/new/* | head -1)
mid=$(sed -n 's/^Message-ID: *//p' "$keepmsg" | head -1 | tr -d '\r')
job=${mid#<j}; job=${job%%.*}
bounce_for keep "$B/postfix/policy-spamhaus.eml"
sed -i "s/<j7\.s8\.0123456789ab@lists\.example\.org>/$mid/" "$T/msg.eml"
check "sender-policy bounce: 250" grep -q "<-  *250 2.0.0" <<<"$(lmtp "$(verp keep)" "$T/msg.eml")"
check "sender-policy: the score stays 0" [ "$(score keep)" = 0 ]
check "sender-policy: still active" [ "$(state keep)" = 1 ]
check "sender-policy: counted for the list under the job" \
  [ "$(q "SELECT sum(value) FROM stats_daily WHERE counter = 'bounce-sender-policy' AND key = '$job'")" = 1 ]
check "sender-policy: job show counts it" grep -q "refused by receivers: 1 for our sending" <<<"$(lk job show "$job")"
check "sender-policy: the owners' summary counts it" \
  grep -q "refused for our sending (sender-policy) *1" <<<"$(lk summary show news --day "$(date -u +%F)")"
check "the report names another recipient: logged by subscriber id" \
  grep -q "subscriber=$(sid keep): the report names another recipient" "$T/serve.log"
# A full mailbox that the receiver reports as final (Postfix gave up on a
# 452 4.2.2) is soft: the soft score rises, the score does not yet.
bounce_for keep "$B/postfix/full-gmail-over-quota.eml"
check "final 4.2.2: 250" grep -q "<-  *250 2.0.0" <<<"$(lmtp "$(verp keep)" "$T/msg.eml")"
check "final 4.2.2: soft score 2 (with the delayed full one), score 0" \
  [ "$(q "SELECT soft_score || ':' || bounce_score FROM subscriptions s JOIN lists l ON l.id = s.list_id WHERE l.name = 'news' AND s.subscriber_id = $(sid keep)")" = 2:0 ]
check "the log names no address" bash -c "! grep -q '@example.org\|@d[0-9]*.example.net' '$T/serve.log'"

# An ARF complaint unsubscribes at once; it was the last list: erased.
bounce_for complaint "$B/arf-abuse.eml"
check "complaint: 250" grep -q "<-  *250 2.0.0" <<<"$(lmtp "$(verp complaint)" "$T/msg.eml")"
check "complaint: unsubscribed and erased" grep -q "nothing is held" <<<"$(lk person show complaint@example.org)"

# The List-Unsubscribe mailto unsubscribes at once.
printf 'Subject: unsubscribe\n\nunsubscribe\n' > "$T/unsub.eml"
# Upper-cased on the way, as some MTAs do: the token reads in either case.
check "mailto (upper-cased): 250" grep -q "<-  *250 2.0.0" <<<"$(lmtp "$(mailto mailto | tr a-z A-Z)" "$T/unsub.eml")"
check "mailto: unsubscribed" grep -q "nothing is held" <<<"$(lk person show mailto@example.org)"
check "ledger records source email" lk ledger verify >/dev/null

# A forged or altered token is refused at RCPT and changes nothing.
v=$(verp forged); tok=${v#news-bounces+}; tok=${tok%@*}
alt=$(python3 -c 'import sys; t=sys.argv[1]; print(t[:10] + ("b" if t[10] != "b" else "c") + t[11:])' "$tok")
bounce_for forged "$B/arf-abuse.eml"
out=$(lmtp "news-bounces+$alt@lists.example.org" "$T/msg.eml")
check "altered bounce token: 550 at RCPT" grep -q "<\*\*  *550 5.1.1" <<<"$out"
m=$(mailto forged); mt=${m#news-unsubscribe+}; mt=${mt%@*}
out=$(lmtp "other-unsubscribe+$mt@lists.example.org" "$T/unsub.eml")
check "a token for another list: 550" grep -q "<\*\*  *550 5.1.1" <<<"$out"
out=$(lmtp "news-unsubscribe+$tok@lists.example.org" "$T/unsub.eml")
check "a bounce token as unsubscribe token: 550" grep -q "<\*\*  *550 5.1.1" <<<"$out"
out=$(lmtp "news-unsubscribe+${mt}@elsewhere.example" "$T/unsub.eml")
check "right token, wrong domain: 550" grep -q "<\*\*  *550 5.1.1" <<<"$out"
check "forged: still subscribed, score 0" [ "$(state forged):$(score forged)" = 1:0 ]

# Unknown addresses: 550 at RCPT (commands and posts: tests/cli/intake_commands.sh).
check "unknown address: 550" grep -q "<\*\*  *550 5.1.1" <<<"$(lmtp nobody@lists.example.org "$T/unsub.eml")"
check "unknown list: 550" grep -q "<\*\*  *550 5.1.1" <<<"$(lmtp nolist-request@lists.example.org "$T/unsub.eml")"

# Raw protocol: bare LF, oversized message, bad sequence, hang-up mid-DATA.
raw() { # raw PYTHON-BYTES-EXPR: send, print every reply until the server closes
  python3 - "$port" "$1" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
data = eval(sys.argv[2])
try:
    s.sendall(data)
except (BrokenPipeError, ConnectionResetError):
    pass
out = b""
while True:
    try:
        b = s.recv(65536)
    except (ConnectionResetError, socket.timeout):
        break
    if not b:
        break
    out += b
sys.stdout.write(out.decode("ascii", "replace"))
EOF
}
hv=$(verp keep)
pre="b'LHLO t\r\nMAIL FROM:<>\r\nRCPT TO:<$hv>\r\nDATA\r\n'"
out=$(raw "$pre + b'Subject: x\r\n\r\nsmuggled\n.\nMAIL FROM:<>\r\n.\r\nQUIT\r\n'")
check "bare LF in DATA: refused" grep -q "^500 5.5.2 Bare LF" <<<"$out"
check "bare LF: connection closed (no 221, no 250 after the dot)" bash -c "! grep -qE '^(221|250 2.0.0)' <<<'$out'"
out=$(raw "b'LHLO t\nQUIT\r\n'")
check "bare LF in a command: refused" grep -q "^500 5.5.2 Bare LF" <<<"$out"
out=$(raw "b'LHLO t\r\nNOOP\rQUIT\r\n'")
check "bare CR in a command: refused" grep -q "^500 5.5.2 Bare CR" <<<"$out"
out=$(raw "b'LHLO t\r\nNOOP ' + b'x' * 2000 + b'\r\nQUIT\r\n'")
check "over-long line: refused" grep -q "^500 5.5.2 Line too long" <<<"$out"
out=$(raw "$pre + (b'x' * 990 + b'\r\n') * 27000 + b'.\r\nQUIT\r\n'")
check "oversized message: 552" grep -q "^552 5.3.4" <<<"$out"
check "oversized message: the session goes on (221)" grep -q "^221" <<<"$out"
out=$(raw "b'LHLO t\r\nMAIL FROM:<> SIZE=999999999\r\nQUIT\r\n'")
check "SIZE over the limit: 552 at MAIL" grep -q "^552 5.3.4" <<<"$out"
out=$(raw "b'LHLO t\r\nRCPT TO:<$hv>\r\nDATA\r\nMAIL FROM:<>\r\nDATA\r\nHELO x\r\nQUIT\r\n'")
check "bad sequence: 503 for RCPT, DATA, DATA" [ "$(grep -c '^503' <<<"$out")" -eq 3 ]
check "HELO refused in LMTP" grep -q "^500 5.5.1" <<<"$out"
bounce_for keep "$B/postfix-dsn-hard.eml"
python3 - "$port" "$hv" "$T/msg.eml" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
msg = open(sys.argv[3], "rb").read().replace(b"\n", b"\r\n")
s.sendall(b"LHLO t\r\nMAIL FROM:<>\r\nRCPT TO:<" + sys.argv[2].encode() + b">\r\nDATA\r\n" + msg[: len(msg) // 2])
s.recv(4096)
s.close()
EOF
# Pipelined: two messages in one session, each answered, both counted (and
# the one hung up on mid-DATA before them not).
out=$(raw "b'LHLO t\r\n' + (b'MAIL FROM:<>\r\nRCPT TO:<$hv>\r\nDATA\r\n' + open('$T/msg.eml','rb').read().replace(b'\n', b'\r\n') + b'.\r\n') * 2 + b'QUIT\r\n'")
check "pipelined: two 250 after the dot" [ "$(grep -c '^250 2.0.0' <<<"$out")" -eq 2 ]
settle
check "pipelined: both hard bounces counted, the hang-up mid-DATA not" [ "$(score keep)" = 2 ]
check "keep's other list untouched" [ "$(q "SELECT count(*) FROM subscriptions s JOIN lists l ON l.id = s.list_id WHERE l.name = 'other' AND state = 1")" = 1 ]

kill $serve_pid; wait $serve_pid; rc=$?; serve_pid=
check "serve exits 0 on SIGTERM" [ "$rc" -eq 0 ]
check "the log names no address" bash -c "! grep -q '@example.org' '$T/serve.log'"
finish
