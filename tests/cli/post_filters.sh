#!/usr/bin/env bash
# Posts to a discussion list through the real clamd and spamd
# (filters_lib.bash), by `listkeeper inject` and LMTP to `serve --role
# intake --role delivery`, whose notices and distributions go into a
# Maildir: GTUBE from a member is held for its spam score; EICAR is refused
# (552, inject 65), the owner is told without anything of it and nothing is
# kept; with clamd stopped a post waits (inject 75, nothing goes out
# unscanned) and goes out once clamd is back.
LK=$1
. "$(dirname "$0")/lib.bash"
kill_at_exit lock_pid
. "$(dirname "$0")/filters_lib.bash"

lk init --dir "$T" --domain lists.example.org >/dev/null
export LISTKEEPER_DELIVERY_RELAY="maildir:$T/out" LISTKEEPER_LOG_LEVEL=info
check "clamd starts" clamd_start
check "spamd starts" spamd_start
export LISTKEEPER_FILTER_CLAMD="unix:$CLAMD_SOCK" LISTKEEPER_FILTER_SPAM="spamd:127.0.0.1:$SPAMD_PORT"
. "$(dirname "$0")/post_lib.bash"
post_setup

# GTUBE from a member: held with its spam score.
f=$(msg 'ann@example.org' 'Spammy' "$GTUBE")
check "inject GTUBE: exit 0" [ "$(inject club@lists.example.org "$f")" = 0 ]
check "GTUBE is held for its spam score" eventually "[ \"\$(q \"SELECT count(*) FROM held WHERE reason = 'spam score'\")\" = 1 ]"

# EICAR: refused (inject 65), the owner told without any of it, nothing kept.
f=$(msg 'ann@example.org' 'Virus inside' "$EICAR")
check "inject EICAR: exit 65" [ "$(inject club@lists.example.org "$f")" = 65 ]
check "the owner is told of the virus" eventually '[ "$(n_got "with a virus was discarded")" = 1 ]'
check "the notice names the signature, not the sender" bash -c "grep -l 'with a virus' '$T'/out/new/* | xargs grep -q 'Eicar-Test-Signature' && ! grep -l 'with a virus' '$T'/out/new/* | xargs grep -q 'ann@example.org.*Virus\|EICAR-STANDARD'"
check "the virus is not held (GTUBE alone is)" [ "$(q "SELECT count(*) FROM held")" = 1 ]
out=$(lmtp club@lists.example.org "$f")
check "LMTP EICAR: accepted into the spool (250), then discarded" grep -q "<-  *250" <<<"$out"

# clamd stopped: the post waits (75), nothing goes out unscanned.
clamd_stop
f=$(msg 'ann@example.org' 'While clamd sleeps' 'zzz')
check "clamd down: inject exits 75" [ "$(inject club@lists.example.org "$f")" = 75 ]
check "clamd back" clamd_start
check "clamd back: the same post is taken (exit 0)" [ "$(inject club@lists.example.org "$f")" = 0 ]
check "and reaches both members" eventually '[ "$(n_got "While clamd sleeps")" = 2 ]'

finish
