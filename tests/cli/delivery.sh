#!/usr/bin/env bash
# Delivery end to end through the project's fault-injecting relay
# (tests/delivery/fault_relay.py): every recipient ends delivered,
# deferred-then-delivered, or failed; none lost, none twice. A relay that is
# down pauses the job with that reason, and it resumes by itself.
LK=$1
. "$(dirname "$0")/lib.bash"
FR="$(dirname "$(readlink -f "$0")")/../delivery/fault_relay.py"
relay_pid= serve_pid=
trap 'rc=$?; rm -rf "$T"; for p in $relay_pid $serve_pid; do kill $p 2>/dev/null || true; done; exit $rc' EXIT

start_relay() { # start_relay RECORD [ARGS...]; sets PORT
  local rec=$1; shift
  # The port file is emptied first: the new relay truncates it only once it
  # runs, and the last relay's port (or an empty PORT, read just as it was
  # truncated) sent the jobs to nothing.
  : >"$T/relay.port"
  python3 "$FR" --record "$rec" --max-seconds 120 "$@" > "$T/relay.port" 2>"$T/relay.err" &
  relay_pid=$!
  for _ in $(seq 200); do [ -s "$T/relay.port" ] && break; sleep 0.1; done
  PORT=$(head -1 "$T/relay.port")
}
count() { # count RECORD: "address count" per accepted recipient
  python3 -c '
import json, sys, collections
c = collections.Counter()
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "message":
        for r in e["rcpt"]: c[r] += 1
for r, n in sorted(c.items()): print(r, n)' "$1"
}

lk init --dir "$T" --domain lists.example.org >/dev/null
export LISTKEEPER_DELIVERY_TLS=none LISTKEEPER_DELIVERY_RETRY_BASE_SECONDS=1 LISTKEEPER_LOG_LEVEL=warn
lk list create news --title "News" --postal-address "1 Main St" >/dev/null
{
  echo email,name
  for i in $(seq 1 40); do echo "ok$i@example.org,Reader $i"; done
  echo "rcpt550-a@example.org,Refused"
  echo "dot554-b@example.org,Refused after data"
  echo "oncercpt451-c@example.org,Deferred once"
  echo "oncedot452-d@example.org,Deferred once after data"
  echo "oncedropdata-e@example.org,Dropped mid-data once"
} > "$T/people.csv"
lk import news "$T/people.csv" --confirmed --consent-note test >/dev/null
printf 'Hello {{name}}\n' > "$T/body.txt"

start_relay "$T/rec1.jsonl"
export LISTKEEPER_DELIVERY_RELAY="smtp:127.0.0.1:$PORT"
out=$(timeout 60 "$LK" send news --subject "Test" --text "$T/body.txt" --wait)
check "job done" grep -q "done: 43 sent, 2 failed" <<<"$out"
count "$T/rec1.jsonl" > "$T/c1"
check "43 recipients received the message" [ "$(wc -l < "$T/c1")" -eq 43 ]
check "none twice" bash -c "! awk '\$2 != 1' '$T/c1' | grep -q ."
for a in oncercpt451-c oncedot452-d oncedropdata-e ok1 ok40; do
  check "$a delivered (after deferral where scripted)" grep -q "^$a@example.org 1$" "$T/c1"
done
check "5xx recipients not delivered" bash -c "! grep -qE '^(rcpt550-a|dot554-b)@' '$T/c1'"
show=$(lk job show 1)
check "job show: 2 failed, 0 deferred" bash -c "grep -q '^failed: 2' <<<'$show' && grep -q '^deferred: 0' <<<'$show'"
# a 5xx at the relay is a hard bounce scored as intake scores a DSN
# (lists/bounces.h): the score with its decay reference time
check "5xx: two scores of 1, each with its decay reference time" [ "$(sqlite3 "$T/listkeeper.db" "SELECT count(*) FROM subscriptions WHERE bounce_score = 1 AND bounce_at > 0")" = 2 ]
check "5xx: no other score" [ "$(sqlite3 "$T/listkeeper.db" "SELECT sum(bounce_score) FROM subscriptions")" = 2 ]
check "pipelining was used" python3 -c '
import json, sys
assert any(json.loads(l).get("pipelined") for l in open(sys.argv[1]) if "\"message\"" in l)' "$T/rec1.jsonl"
kill $relay_pid; wait $relay_pid 2>/dev/null || true; relay_pid=

# The relay is down: the job pauses with the reason, then resumes by itself.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export LISTKEEPER_DELIVERY_RELAY="smtp:127.0.0.1:$port"
timeout 90 "$LK" send news --subject "Second" --text "$T/body.txt" --wait > "$T/send2.out" 2>&1 &
send_pid=$!
for _ in $(seq 150); do lk job show 2 2>/dev/null | grep -q "relay down" && break; sleep 0.2; done
check "job paused because the relay is down" grep -q "paused because: relay down" <<<"$(lk job show 2)"
start_relay "$T/rec2.jsonl" --port "$port"
if wait $send_pid; then ok "send --wait finished after the relay came back"; else bad "send --wait failed: $(cat "$T/send2.out")"; fi
check "second job done" grep -q "done: 43 sent, 2 failed" "$T/send2.out"
check "43 received the second message once" [ "$(count "$T/rec2.jsonl" | awk '$2 == 1' | wc -l)" -eq 43 ]
kill $relay_pid; wait $relay_pid 2>/dev/null || true; relay_pid=

# Two senders on one store take turns: serve's delivery role and send --wait
# work the same job at once, and nobody receives it twice.
lk list create big >/dev/null
awk 'BEGIN { print "email,name"; for (i = 1; i <= 3000; i++) printf "b%d@example.org,B %d\n", i, i }' > "$T/big.csv"
lk import big "$T/big.csv" --confirmed --consent-note test >/dev/null
start_relay "$T/rec3.jsonl"
export LISTKEEPER_DELIVERY_RELAY="smtp:127.0.0.1:$PORT"
"$LK" serve --role delivery > "$T/serve.out" 2>&1 &
serve_pid=$!
timeout 120 "$LK" send big --subject "Both" --text "$T/body.txt" --wait > "$T/send3.out" 2>&1 || true
for _ in $(seq 100); do lk job show 3 | grep -q "^state: done" && break; sleep 0.1; done
kill $serve_pid; wait $serve_pid 2>/dev/null || true
check "shared job done" grep -q "^state: done" <<<"$(lk job show 3)"
count "$T/rec3.jsonl" > "$T/c3"
check "3000 received it" [ "$(wc -l < "$T/c3")" -eq 3000 ]
check "none twice with two senders" bash -c "! awk '\$2 != 1' '$T/c3' | grep -q ."
check "job show counts 3000 sent" grep -q "^sent: 3000" <<<"$(lk job show 3)"
kill $relay_pid; wait $relay_pid 2>/dev/null || true; relay_pid=

# A cancel given while a batch hangs at the relay holds when the batch ends.
start_relay "$T/rec4.jsonl" --hang DOT
export LISTKEEPER_DELIVERY_RELAY="smtp:127.0.0.1:$PORT" LISTKEEPER_DELIVERY_TIMEOUT_SECONDS=3
timeout 60 "$LK" send news --subject "Cancel me" --text "$T/body.txt" --wait > "$T/send4.out" 2>&1 &
send_pid=$!
# Cancel once the batch is at the relay: the message has been sent and its
# final dot waits for an answer that does not come.
for _ in $(seq 300); do grep -q '"event": "hung"' "$T/rec4.jsonl" 2>/dev/null && break; sleep 0.1; done
check "the batch hangs at the final dot" grep -q '"event": "hung"' "$T/rec4.jsonl"
lk job cancel 4 >/dev/null
wait $send_pid || true
check "cancelled during a batch stays cancelled" grep -q "^state: cancelled" <<<"$(lk job show 4)"
finish
