#!/usr/bin/env bash
# Email commands end to end: messages go in with swaks over LMTP (to
# `serve --role intake`) and through `listkeeper inject`; the delivery role
# of the same serve sends the replies and confirmation requests into a
# Maildir, where they are read back and checked. Covers LISTSERV and Mailman
# commands, confirmation by reply, forged senders, robots that must not be
# answered, the per-address reply limit, posts to an announcement list and
# inject's exit codes.
LK=$1
. "$(dirname "$0")/lib.bash"
kill_at_exit lock_pid

lk init --dir "$T" --domain lists.example.org >/dev/null
export LISTKEEPER_DELIVERY_RELAY="maildir:$T/out" LISTKEEPER_LOG_LEVEL=info
export LISTKEEPER_DELIVERY_RETRY_BASE_SECONDS=1
lk list create news --title "News" --postal-address "1 Main St" >/dev/null
lk list create club --title "Club" --postal-address "1 Main St" --kind discussion >/dev/null
printf 'email,name\nkeep@example.org,Keep\n' > "$T/p.csv"
lk import news "$T/p.csv" --confirmed --consent-note test >/dev/null
. "$(dirname "$0")/intake_lib.bash"
intake_serve

# HELP through inject, to LIST-request@: one plain reply from LIST-request@.
rc=$(inject news-request@lists.example.org "$(msg 'Helen <helen@example.org>' help '')")
check "inject HELP: exit 0" [ "$rc" = 0 ]
wait_for 1
r=$(last helen@example.org || true)
check "HELP: reply from news-request@" grep -q "^From: News <news-request@lists.example.org>" <<<"$r"
check "HELP: reply says the commands" grep -q "SIGNOFF list | SIGNOFF \*" <<<"$r"
check "HELP: reply is marked Auto-Submitted: auto-replied" grep -q "^Auto-Submitted: auto-replied" <<<"$r"
check "HELP: reply has the null envelope sender" grep -q "^Return-Path: <>" <<<"$r"
check "HELP: the reply is not list mail (no List-Id)" bash -c "! grep -q '^List-Id' <<<'$r'"

# SUBSCRIBE over LMTP to the server-wide address: pending + a confirmation.
out=$(lmtp listkeeper@lists.example.org "$(msg 'Ada L <ada@example.org>' hi 'SUBSCRIBE news Ada Lovelace')")
check "LMTP to listkeeper@: 250" grep -q "<-  *250 2.0.0" <<<"$out"
wait_for 3
check "SUBSCRIBE: pending, not active" [ "$(state news ada)" = pending ]
check "SUBSCRIBE: two messages to ada (the answer and the request)" [ "$(to_count ada@example.org)" = 2 ]
answer=$(python3 - "$T/out/new" <<'PY'
import email, email.policy, os, sys
d = sys.argv[1]
for f in os.listdir(d):
    m = email.message_from_binary_file(open(os.path.join(d, f), "rb"), policy=email.policy.default)
    if "ada@" in str(m["To"]) and m["Subject"] == "The answer to your commands":
        print(m.get_body(("plain",)).get_content())
PY
)
check "SUBSCRIBE: the answer says a request was sent" grep -q "^SUBSCRIBE news: we sent you a request to confirm" <<<"$answer"
check "SUBSCRIBE: the answer comes from listkeeper@" grep -q "listkeeper@lists.example.org" <<<"$answer"
conf=$(reply_to ada@example.org)
check "the confirmation's Reply-To is news-confirm+TOKEN@ (32 base32 characters)" grep -q "^news-confirm+[a-z2-7]\{32\}@lists.example.org$" <<<"$conf"
local=${conf%@*}
check "its local part is at most 64 octets" [ "${#local}" -le 64 ]
# A vacation reply to the confirmation confirms nothing.
lmtp "$conf" "$(msg 'ada@example.org' 'Re: confirm' 'away' 'Auto-Submitted: auto-replied')" >/dev/null
settle probe0@example.org # the auto-reply has been handled
check "an auto-reply to the confirmation confirms nothing" [ "$(state news ada)" = pending ]
# Her reply confirms at once.
before=$(count)
out=$(lmtp "$conf" "$(msg 'ada@example.org' 'Re: Please confirm' '> quoted')")
check "reply to news-confirm+TOKEN: 250" grep -q "<-  *250 2.0.0" <<<"$out"
check "reply to the confirmation: active" eventually '[ "$(state news ada)" = active ]'
wait_for $((before + 2)) # her welcome, then the answer (queued after it)
check "confirmation by reply: answered 'subscribed'" grep -q "CONFIRM: news confirmed: you are subscribed" <<<"$(last ada@example.org)"

# QUERY: only the sender's own subscriptions.
lmtp news-request@lists.example.org "$(msg 'ada@example.org' 'query' 'QUERY news\nQUERY *\nLISTS\nINFO news\nfrobnicate')" >/dev/null
# Since before: the answer to her confirmation, her welcome mail, this answer.
wait_for $((before + 3))
r=$(last ada@example.org)
check "QUERY news: subscribed, settings" grep -q "^QUERY news: subscribed (active), NODIGEST, MAIL, TEXT" <<<"$r"
check "LISTS: names the lists of this domain" grep -q "news@lists.example.org  News" <<<"$r"
check "INFO news: how to join" grep -q "send SUBSCRIBE news to news-request@lists.example.org" <<<"$r"
check "an unknown command: its line and why" grep -q "^Line 5: unknown command" <<<"$r"
check "the answer never quotes the message" bash -c "! grep -q frobnicate <<<'$r'"
before=$(count)
lmtp listkeeper@lists.example.org "$(msg 'bob@example.org' 'q' 'QUERY news\nQUERY *')" >/dev/null
wait_for $((before + 1))
r=$(last bob@example.org)
check "QUERY from a stranger: not subscribed" grep -q "^QUERY news: this address is not subscribed" <<<"$r"
check "QUERY from a stranger: says nothing of anyone else" bash -c "! grep -q 'ada@\\|keep@' <<<'$r'"
# Mailman: subscribe address=someone-else is refused; nothing goes to them.
lmtp news-request@lists.example.org "$(msg 'mallory@example.org' 'x' 'subscribe address=carol@example.org')" >/dev/null
wait_for $((before + 2))
check "Mailman address= another: refused" grep -q "can only subscribe itself" <<<"$(last mallory@example.org)"
check "Mailman address= another: nothing sent to that address" [ "$(to_count carol@example.org)" = 0 ]
check "Mailman address= another: not even pending" [ -z "$(state news carol)" ]

# A forged From can neither unsubscribe nor subscribe anyone.
before=$(count)
lmtp news-request@lists.example.org "$(msg 'keep@example.org' 'x' 'SIGNOFF news')" mallory@example.org >/dev/null
wait_for $((before + 2))
check "forged SIGNOFF: still active" [ "$(state news keep)" = active ]
unsub=$(reply_to keep@example.org)
check "forged SIGNOFF: a request to confirm went to the address itself" grep -q "^news-unsubscribe+" <<<"$unsub"
r=$(last keep@example.org rt)
check "the request to leave has a link" grep -q "/u/[A-Za-z0-9_-]\{56\}" <<<"$r"
check "... and says what it is for (mail_command_confirm.txt)" \
  grep -q '^Subject: Please confirm: leave the list news$' <<<"$r"
check "... in the text too" grep -q 'asked by mail to leave the list news\.$' <<<"$r"
lmtp news@lists.example.org "$(msg 'dan@example.org' 'x' 'SUBSCRIBE news')" >/dev/null
rc=$(inject listkeeper@lists.example.org "$(msg 'dan@example.org' 'x' 'SUBSCRIBE news')")
check "forged SUBSCRIBE: pending only" eventually '[ "$(state news dan)" = pending ]'
# Keep really wants to leave: his reply to the request does it at once.
lmtp "$unsub" "$(msg 'keep@example.org' 'Re: x' 'yes')" >/dev/null
check "reply to the request to leave: unsubscribed (and erased)" eventually 'lk person show keep@example.org | grep -q "nothing is held"'

# SET asks first, a reply sets it; Mailman unsubscribe asks too. Dan's
# requests and the answer to Keep may still be on their way: settle first,
# or they would count as the two messages waited for here.
settle probe-set@example.org
before=$(count)
lmtp news-request@lists.example.org "$(msg 'ada@example.org' 'set nomail' '')" >/dev/null
wait_for $((before + 2)) || bad "SET: not two messages to ada in 20 s"
news_nomail() { q "SELECT nomail FROM subscriptions WHERE list_id = (SELECT id FROM lists WHERE name = 'news') AND state = 1"; }
check "SET NOMAIL: asked, not yet set" [ "$(news_nomail)" = 0 ]
setc=$(reply_to ada@example.org)
check "SET: the request names the setting" \
  grep -q "^Subject: Please confirm: set NOMAIL for the list news$" <<<"$(last ada@example.org rt)"
check "SET: its confirmation is news-confirm+TOKEN@" grep -q "^news-confirm+[a-z2-7]\{32\}@lists.example.org$" <<<"$setc"
# An MTA may change the case of the local part: the token reads the same.
lmtp "${setc^^}" "$(msg 'ada@example.org' 'Re: x' 'ok')" >/dev/null
check "SET NOMAIL confirmed by reply" eventually '[ "$(news_nomail)" = 1 ]'

# Robots and lists are never answered, and their commands do nothing.
settle probe@example.org
before=$(count)
lmtp news-request@lists.example.org "$(msg 'r1@example.org' help '' 'Auto-Submitted: auto-replied')" >/dev/null
lmtp news-request@lists.example.org "$(msg 'r2@example.org' help '' 'Precedence: bulk')" >/dev/null
lmtp news-request@lists.example.org "$(msg 'r3@example.org' help '' 'List-Id: <other.example.net>')" >/dev/null
lmtp news-request@lists.example.org "$(msg 'MAILER-DAEMON@example.org' help '')" >/dev/null
lmtp news-request@lists.example.org "$(msg 'r5@example.org' 'subscribe' 'SUBSCRIBE news')" '<>' >/dev/null
settle probe2@example.org
check "no answer to auto-submitted, bulk, list, MAILER-DAEMON or null-sender mail" [ "$(count)" = $((before + 1)) ]
check "the null sender's SUBSCRIBE did nothing" [ -z "$(state news r5)" ]
check "the log says why" grep -q "outcome=not-answered reason=auto-submitted" "$T/serve.log"

# At most [intake] replies_per_hour (5) answers per address per hour.
before=$(count)
for i in 1 2 3 4 5 6 7; do lmtp news-request@lists.example.org "$(msg 'eve@example.org' help '')" >/dev/null; done
settle probe3@example.org
check "reply limit: 5 answers for 7 messages" [ "$(to_count eve@example.org)" = 5 ]
check "reply limit: the log says so" grep -q "outcome=reply-limited" "$T/serve.log"
check "reply limit: keyed hashes only" [ "$(q "SELECT count(*) FROM reply_limits WHERE length(addr_hash) = 32")" -ge 1 ]

# A post to an announcement list from anyone: refused, with the owners' address.
before=$(count)
out=$(lmtp news@lists.example.org "$(msg 'fan@example.org' 'Hello all' 'Hi everyone')")
check "post to an announcement list: 250 (answered, not bounced)" grep -q "<-  *250 2.0.0" <<<"$out"
wait_for $((before + 1))
r=$(last fan@example.org)
check "post refused: says how to reach the owners" grep -q "write to news-owner@lists.example.org" <<<"$r"
check "post refused: nothing went to the list" [ "$(to_count ada@example.org)" -lt 10 ]

# LIST-owner@ reaches the owners (a copy each, Reply-To the sender); an
# owner's post is not taken by mail either.
lk list set news --owner boss@example.org,deputy@example.org >/dev/null
before=$(count)
lmtp news-owner@lists.example.org "$(msg 'fan@example.org' 'A question' 'Who runs this?')" >/dev/null
wait_for $((before + 2))
r=$(last boss@example.org)
check "owner mail: forwarded to each owner" [ "$(to_count boss@example.org):$(to_count deputy@example.org)" = 1:1 ]
check "owner mail: the sender's text inside" grep -q "Who runs this?" <<<"$r"
check "owner mail: Reply-To the sender" grep -q "^Reply-To: fan@example.org" <<<"$r"
lmtp news@lists.example.org "$(msg 'boss@example.org' 'Issue 2' 'news')" >/dev/null
wait_for $((before + 3))
check "an owner's post by mail: not taken, says how" grep -q "not taken by mail" <<<"$(last boss@example.org)"
check "a list without owners: its -owner address is unknown" grep -q "<\*\*  *550 5.1.1" <<<"$(lmtp club-owner@lists.example.org "$T/m1.eml")"

# Unknown addresses at RCPT time.
check "unknown local part: 550" grep -q "<\*\*  *550 5.1.1" <<<"$(lmtp nobody@lists.example.org "$T/m1.eml")"
check "command address at a foreign domain: 550" grep -q "<\*\*  *550 5.1.1" <<<"$(lmtp listkeeper@elsewhere.example "$T/m1.eml")"
check "a forged confirm token: 550" grep -q "<\*\*  *550 5.1.1" <<<"$(lmtp "news-confirm+$(printf 'A%.0s' $(seq 56))@lists.example.org" "$T/m1.eml")"
check "a forged confirm token (address form): 550" grep -q "<\*\*  *550 5.1.1" <<<"$(lmtp "news-confirm+$(printf 'a%.0s' $(seq 32))@lists.example.org" "$T/m1.eml")"
check "a confirm token of another list: 550" grep -q "<\*\*  *550 5.1.1" <<<"$(lmtp "club-confirm+${conf#news-confirm+}" "$T/m1.eml")"

# inject's exit codes: 0, 65, 67, 75.
check "inject: unknown address exits 67" [ "$(inject nobody@lists.example.org "$T/m1.eml")" = 67 ]
: > "$T/empty.eml"
check "inject: an empty message exits 65" [ "$(inject news-request@lists.example.org "$T/empty.eml")" = 65 ]
python3 -c 'import sys; sys.stdout.write("Subject: x\n\n" + ("x" * 999 + "\n") * 27000)' > "$T/big.eml"
check "inject: an oversized message exits 65" [ "$(inject news-request@lists.example.org "$T/big.eml")" = 65 ]
# Another process holds the store's lock: a sqlite3 fed through a FIFO takes
# it (waiting out a write of serve's), says so (a file), and lets it go when
# told (COMMIT, end of input). (Killing a background pipeline's $! did not
# stop its sqlite3: the lock was held for the whole sleep 20 of the pipe.)
mkfifo "$T/lock.fifo"
sqlite3 -bail "$DB" <"$T/lock.fifo" >/dev/null &
lock_pid=$!
exec 4>"$T/lock.fifo"
printf '%s\n' '.timeout 10000' 'BEGIN EXCLUSIVE;' ".system touch '$T/locked'" >&4
check "another process holds the store's lock" eventually '[ -e "$T/locked" ]'
lockmsg=$(msg 'lock@example.org' help '')
rc=$(LISTKEEPER_STORE_BUSY_TIMEOUT_MS=200 inject news-request@lists.example.org "$lockmsg")
check "inject: the store locked by another process exits 75" [ "$rc" = 75 ]
if kill -0 $lock_pid 2>/dev/null; then echo 'COMMIT;' >&4; fi; exec 4>&-
wait $lock_pid 2>/dev/null || true; lock_pid=
check "inject: the same message once the lock is gone exits 0" [ "$(inject news-request@lists.example.org "$lockmsg")" = 0 ]

kill $serve_pid; wait $serve_pid; rc=$?; serve_pid=
check "serve exits 0 on SIGTERM" [ "$rc" -eq 0 ]
check "the log names no address" bash -c "! grep -q '@example.org' '$T/serve.log'"
check "no sealed recipient left in finished jobs" [ "$(q "SELECT count(*) FROM jobs WHERE state = 'done' AND rcpt_sealed IS NOT NULL")" = 0 ]
finish
