#!/usr/bin/env bash
# Crash safety: kill -9 of the sender at a random point of a 20,000-recipient
# job, then a restart: every recipient received the message, and the
# duplicates are within the documented bound ([delivery] connections x
# pipeline: the messages that were in flight).
LK=$1
. "$(dirname "$0")/lib.bash"
FR="$(dirname "$(readlink -f "$0")")/../delivery/fault_relay.py"
N=${CRASH_RECIPIENTS:-20000}
relay_pid= serve_pid=
trap 'rc=$?; rm -rf "$T"; for p in $relay_pid $serve_pid; do kill -9 $p 2>/dev/null || true; done; exit $rc' EXIT

lk init --dir "$T" --domain lists.example.org >/dev/null
export LISTKEEPER_DELIVERY_TLS=none LISTKEEPER_LOG_LEVEL=warn
export LISTKEEPER_DELIVERY_CONNECTIONS=4 LISTKEEPER_DELIVERY_PIPELINE=8
bound=32
lk list create news >/dev/null
awk -v n="$N" 'BEGIN { print "email,name"; for (i = 1; i <= n; i++) printf "r%d@example.org,R %d\n", i, i }' > "$T/p.csv"
lk import news "$T/p.csv" --confirmed --consent-note test >/dev/null
printf 'Hello {{name}}\n' > "$T/body.txt"

python3 "$FR" --record "$T/rec.jsonl" --max-seconds 300 > "$T/port" 2>"$T/relay.err" &
relay_pid=$!
for _ in $(seq 200); do [ -s "$T/port" ] && break; sleep 0.1; done
export LISTKEEPER_DELIVERY_RELAY="smtp:127.0.0.1:$(head -1 "$T/port")"

"$LK" send news --subject "Crash test" --text "$T/body.txt" --wait > "$T/send.out" 2>&1 &
send_pid=$!
# kill at a random moment once sending has begun
for _ in $(seq 400); do [ -s "$T/rec.jsonl" ] && break; sleep 0.05; done
sleep "0.$(( RANDOM % 9 + 1 ))"
kill -9 $send_pid; wait $send_pid 2>/dev/null || true
before=$(grep -c '"message"' "$T/rec.jsonl" || true)
echo "killed after $before messages"
check "killed mid-job" bash -c '[ "$1" -gt 0 ] && [ "$1" -lt "$2" ]' _ "$before" "$N"

# restart: the delivery role picks the job up where its cursor was
"$LK" serve --role delivery > "$T/serve.out" 2>&1 &
serve_pid=$!
for _ in $(seq 600); do lk job show 1 | grep -q "^state: done" && break; sleep 0.2; done
kill $serve_pid; wait $serve_pid 2>/dev/null || true; serve_pid=
check "job done after the restart" grep -q "^state: done" <<<"$(lk job show 1)"
v=0
python3 - "$T/rec.jsonl" "$N" "$bound" > "$T/verdict" <<'PY' || v=1
import json, sys, collections
rec, n, bound = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
c = collections.Counter()
for line in open(rec):
    e = json.loads(line)
    if e.get("event") == "message":
        for r in e["rcpt"]:
            c[r] += 1
missing = [f"r{i}@example.org" for i in range(1, n + 1) if c[f"r{i}@example.org"] == 0]
dups = sum(v - 1 for v in c.values() if v > 1)
print(f"received={len(c)} missing={len(missing)} duplicates={dups} bound={bound}")
sys.exit(0 if not missing and dups <= bound else 1)
PY
cat "$T/verdict"
check "nobody missed, duplicates within connections x pipeline" [ $v -eq 0 ]
finish
