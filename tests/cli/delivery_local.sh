#!/usr/bin/env bash
# A message that is never sent for a reason of ours is the job's failure,
# never the subscriber's (delivery/relay.h, origin local): a message over the
# relay's SIZE, and a stored address that cannot be written into the message
# (a quoted local part with a space: RFC 5321 allows it and sub add takes it,
# but neither the To header nor the SMTP client writes it). They leave the
# bounce score at 0 and show in job show with their reason; a 5xx from the
# relay is still scored. (A stored address that composes but that the SMTP
# client refuses is tests/delivery/test_engine.c's: no command stores one.)
LK=$1
. "$(dirname "$0")/lib.bash"
FR="$(dirname "$(readlink -f "$0")")/../delivery/fault_relay.py"
kill_at_exit relay_pid

lk init --dir "$T" --domain lists.example.org >/dev/null
: >"$T/relay.port"
python3 "$FR" --record "$T/rec.jsonl" --max-seconds 120 --size 3000 >"$T/relay.port" 2>"$T/relay.err" &
relay_pid=$!
for _ in $(seq 200); do [ -s "$T/relay.port" ] && break; sleep 0.1; done
export LISTKEEPER_DELIVERY_RELAY="smtp:127.0.0.1:$(head -1 "$T/relay.port")"
export LISTKEEPER_DELIVERY_TLS=none LISTKEEPER_LOG_LEVEL=warn LISTKEEPER_BOUNCE_THRESHOLD=1
lk list create news --title "News" --postal-address "1 Main St" >/dev/null
lk sub add news ok@example.org --name Ok --confirmed --consent-note test >/dev/null
lk sub add news '"john smith"@example.org' --name John --confirmed --consent-note test >/dev/null
lk sub add news rcpt550-x@example.org --name Refused --confirmed --consent-note test >/dev/null
db() { sqlite3 "$T/listkeeper.db" "$1"; }
score() { db "SELECT coalesce(sum(bounce_score), 0) FROM subscriptions WHERE subscriber_id <> $refused"; }
refused=$(db "SELECT max(subscriber_id) FROM subscriptions")

# job 1: small; the quoted address cannot be written
printf 'Hello {{name}}\n' > "$T/small.txt"
out=$(timeout 60 "$LK" send news --subject "Small" --text "$T/small.txt" --wait)
check "small job done: 1 sent, 2 failed" grep -q "done: 1 sent, 2 failed" <<<"$out"
show=$(lk job show 1)
check "job show: failed 2" grep -q "^failed: 2$" <<<"$show"
check "job show: the unwritable address is the job's failure" \
  grep -q "^failed, not the recipient's: not-composed 1$" <<<"$show"
check "refused address: bounce score 0, still active" [ "$(score)" = 0 ]
check "refused address: both still subscribed" \
  [ "$(db "SELECT count(*) FROM subscriptions WHERE state = 1")" = 2 ]
check "the relay's 550 is still scored (threshold 1: disabled)" \
  [ "$(db "SELECT state FROM subscriptions WHERE subscriber_id = $refused")" = 3 ]

# job 2: over the relay's SIZE for ok@, the unwritable address again
head -c 4000 /dev/zero | tr '\0' 'a' | fold -w 70 > "$T/big.txt"
out=$(timeout 60 "$LK" send news --subject "Big" --text "$T/big.txt" --wait)
check "big job done: 0 sent, 2 failed" grep -q "done: 0 sent, 2 failed" <<<"$out"
show=$(lk job show 2)
check "job show: both reasons" \
  grep -q "^failed, not the recipient's: not-composed 1, over-size 1$" <<<"$show"
check "over SIZE: bounce score 0" [ "$(score)" = 0 ]
check "over SIZE: nobody disabled" [ "$(db "SELECT count(*) FROM subscriptions WHERE state = 1")" = 2 ]
check "the relay never saw the big message" bash -c "! grep -q '\"Big\"' '$T/rec.jsonl'"
finish
