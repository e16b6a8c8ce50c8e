#!/usr/bin/env bash
# The relay's own 5xx at RCPT time goes through the bounce classifier that
# intake uses (mail/bounce_class.h): a real Postfix smtp-sink answering
# "550 5.7.1 ... blocked using" (the receiver refused us) leaves the
# subscriber active with a score of 0 and is counted on the job; the same
# sink answering "550 5.1.1 user unknown" (the address is gone) scores it
# and, at threshold 1, disables it. The sender-side refusals are counted by
# receiving domain for a big provider (gmail.com) and as "other" for any
# other domain, whose name is stored nowhere.
LK=$1
. "$(dirname "$0")/lib.bash"
kill_at_exit sink_pid
SINK=/usr/sbin/smtp-sink

lk init --dir "$T" --domain lists.example.org >/dev/null
export LISTKEEPER_DELIVERY_TLS=none LISTKEEPER_LOG_LEVEL=warn LISTKEEPER_BOUNCE_THRESHOLD=1
lk list create news --title "News" --postal-address "1 Main St" >/dev/null
lk sub add news ann@smith-family.example --name Ann --confirmed --consent-note test >/dev/null
db() { sqlite3 "$T/listkeeper.db" "$1"; }
ann=$(db "SELECT max(subscriber_id) FROM subscriptions")
state() { db "SELECT state || ':' || bounce_score || ':' || soft_score FROM subscriptions WHERE subscriber_id = $ann"; }
printf 'Hello {{name}}\n' >"$T/body.txt"

start_sink() { # start_sink REPLY: every RCPT refused with REPLY
  local port
  port=$(free_port)
  # -u: smtp-sink insists on a user to run as when started as root. Started
  # itself, not under timeout(1): the SIGKILL of stop_sink and of the exit trap
  # must reach smtp-sink (timeout cannot pass a SIGKILL on, and would leave it).
  "$SINK" -u "$(id -un)" -f RCPT -B "$1" "127.0.0.1:$port" 10 >"$T/sink.err" 2>&1 &
  sink_pid=$!
  local up=0
  for _ in $(seq 200); do
    python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1).close()' "$port" 2>/dev/null && { up=1; break; }
    sleep 0.05
  done
  [ "$up" = 1 ] || { cat "$T/sink.err"; echo "FAIL - smtp-sink did not start"; exit 1; }
  export LISTKEEPER_DELIVERY_RELAY="smtp:127.0.0.1:$port"
}
stop_sink() { kill -KILL "$sink_pid" 2>/dev/null || true; wait "$sink_pid" 2>/dev/null || true; sink_pid=; }

start_sink "550 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org"
lk sub add news bob@gmail.com --name Bob --confirmed --consent-note test >/dev/null
lk sub add news cy@gmail.com --name Cy --confirmed --consent-note test >/dev/null
out=$(timeout 60 "$LK" send news --subject "One" --text "$T/body.txt" --wait)
stop_sink
lk sub rm news bob@gmail.com >/dev/null
lk sub rm news cy@gmail.com >/dev/null
check "policy 550: the job ends with 3 failed" grep -q "done: 0 sent, 3 failed" <<<"$out"
check "policy 550: still active, score 0, soft 0" [ "$(state)" = "1:0:0" ]
show=$(lk job show 1)
check "policy 550: job show counts it as refused for our sending" \
  grep -q "^refused by receivers: 3 for our sending (sender-policy" <<<"$show"
check "policy 550: job show by receiving domain: gmail.com 2, other 1" \
  grep -q "^refused by receiving domain: gmail.com 2, other 1$" <<<"$show"
check "policy 550: counted for the list and the day" \
  [ "$(db "SELECT sum(value) FROM stats_daily WHERE counter = 'bounce-sender-policy'")" = 3 ]
st=$(lk stats news)
check "policy 550: stats by day and receiving domain" \
  grep -qE "^  $(date -u +%F) +gmail.com +2$" <<<"$st"
check "the small domain is stored nowhere" bash -c "! sqlite3 '$T/listkeeper.db' .dump | grep -q smith-family"

start_sink "550 5.7.26 Unauthenticated email from example.org is not accepted due to domain's DMARC policy"
timeout 60 "$LK" send news --subject "Two" --text "$T/body.txt" --wait >/dev/null
stop_sink
check "DMARC 550: still active, score 0" [ "$(state)" = "1:0:0" ]
check "DMARC 550: job show by receiving domain: other 1" \
  grep -q "^refused by receiving domain: other 1$" <<<"$(lk job show 2)"

start_sink "550 5.1.1 <ann@example.org>: Recipient address rejected: User unknown in local recipient table"
out=$(timeout 60 "$LK" send news --subject "Three" --text "$T/body.txt" --wait)
stop_sink
check "user-unknown 550: the job ends with 1 failed" grep -q "done: 0 sent, 1 failed" <<<"$out"
check "user-unknown 550: scored and disabled at threshold 1" [ "$(state)" = "3:1:0" ]
show=$(lk job show 3)
check "user-unknown 550: not counted as sender-side" bash -c "! grep -q '^refused by receivers' <<<'$show'"
finish
