#!/usr/bin/env bash
# Owner approval on a list whose subscription_policy is owner, through a live
# `serve` (web and delivery roles) with the Maildir relay: a request is
# confirmed on /c/ (the page says it waits for the owners, and says so again
# when the link is opened later) -> held: not active, no welcome queued ->
# `sub held` shows the address and name with the dates, and writes an audit
# row -> `sub approve` -> active, and the welcome arrives. `sub reject`
# deletes a request: the person on no other list is erased (nothing held,
# no opt-out kept) and gets the "not accepted" mail with the owners'
# reason; with --quiet, a person on another list stays there and gets no
# mail. Approving a pending (unconfirmed), an active or an unknown address
# fails with a clear message and exit 65 and changes nothing. The owners'
# daily summary counts the waiting requests and names no one; --all
# approves every held request; the ledger chain stays whole.
LK=$1
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/mail_lib.bash"

lk init --dir "$T" --domain lists.example.org >/dev/null
export LISTKEEPER_DELIVERY_RELAY="maildir:$T/out" LISTKEEPER_HTTP_LISTEN=127.0.0.1:0
export LISTKEEPER_LOG_LEVEL=warn
lk list create club --title 'The Club' --subscription-policy owner --owner boss@example.org >/dev/null
lk list create news --title 'News' >/dev/null
q() { sqlite3 "$T/listkeeper.db" "$1"; }

check "serve starts" web_serve --role web --role delivery

# ask LIST WHO [N]: `sub add`, then the /c/ link of the (Nth) confirmation
# request to WHO pressed; the confirmation page stays in $T/b
ask() {
  lk sub add "$1" "$2" >/dev/null
  local m c
  m=$(mail "${2##*<}" 'Please confirm' "${3:-1}") || return 1
  c=$(grep -m1 -oE '/c/[A-Za-z0-9_-]+' <<<"$m") || return 1
  echo "$c" >"$T/c.$1"
  req "$c" >/dev/null && [ "$(req "$c" --data-urlencode "csrf=$(csrf_of)")" = 200 ]
}
state() { lk person show "$2" 2>/dev/null | awk -v l="$1" '$1 == l { print $2 }' | tr -d ,; }
id_of() { lk sub ls "$1" | awk -v a="$2" '$3 == a { print $1 }'; }
welcomes() { q "SELECT count(*) FROM jobs WHERE kind = 'notice' AND recipient_id = $1"; }
audits() { q "SELECT count(*) FROM audit_log WHERE action = '$1'"; }

# ada asks, confirms: held, no welcome
check "ada confirms on /c/" ask club 'Ada Lovelace <ada@example.org>'
check "... the page says the request waits for the owners" grep -q "owner approves new members" "$T/b"
check "ada is held, not active" [ "$(state club ada@example.org)" = held ]
ada=$(id_of club ada@example.org)
check "... and no welcome is queued for her" [ "$(welcomes "$ada")" = 0 ]
c=$(cat "$T/c.club")
req "$c" >/dev/null
check "the link opened again still says it waits for the owners" grep -q "owner approves new members" "$T/b"

# bob is asked but has not confirmed: pending, and not the owners' to decide
lk sub add club bob@example.org >/dev/null
before=$(audits sub-held)
out=$(lk sub held club)
check "sub held shows ada's address and name" grep -qP "^$ada\t\d{4}-\d\d-\d\dT[0-9:]+Z\t\d{4}-\d\d-\d\dT[0-9:]+Z\tada@example.org\tAda Lovelace$" <<<"$out"
check "... and nobody else (bob is pending)" [ "$(wc -l <<<"$out")" = 1 ]
check "... and writes an audit row" [ "$(audits sub-held)" = $((before + 1)) ]
check "the audit row holds no address" [ "$(q "SELECT count(*) FROM audit_log WHERE detail LIKE '%@%'")" = 0 ]

rc=0; err=$(lk sub approve club bob@example.org 2>&1 >/dev/null) || rc=$?
check "approving a pending address fails with exit 65" [ "$rc" = 65 ]
check "... saying it is not confirmed yet" grep -q "bob@example.org: not confirmed yet" <<<"$err"
check "... and bob stays pending" [ "$(state club bob@example.org)" = pending ]
rc=0; err=$(lk sub approve club nobody@example.org 2>&1 >/dev/null) || rc=$?
check "approving an unknown address fails with exit 65" [ "$rc" = 65 ]
check "... saying there is no request" grep -q "nobody@example.org: no request on club" <<<"$err"
rc=0; lk sub reject club ada@example.org --reason "$(printf 'a\nBcc: x@example.org')" 2>/dev/null || rc=$?
check "a reason with a line break is refused (exit 64)" [ "$rc" = 64 ]
check "... and ada is still held" [ "$(state club ada@example.org)" = held ]
rc=0; lk sub approve club 2>/dev/null || rc=$?
check "approve without addresses or --all is a usage error" [ "$rc" = 64 ]

# approve ada: active, and the welcome arrives
out=$(lk sub approve club ada@example.org)
check "sub approve says what it did" grep -q "^subscriber $ada approved on club: active; welcome queued" <<<"$out"
check "ada is active" [ "$(state club ada@example.org)" = active ]
m=$(mail ada@example.org 'Welcome to The Club') || m=
check "ada's welcome is in the Maildir relay" grep -q 'you are now subscribed to "The Club" with ada@example.org' <<<"$m"
check "the ledger records the approval" [ "$(q "SELECT count(*) FROM consent_events WHERE action = 'approve' AND subscriber_id = $ada")" = 1 ]
rc=0; err=$(lk sub approve club ada@example.org 2>&1 >/dev/null) || rc=$?
check "approving her again fails with exit 65" [ "$rc" = 65 ]
check "... saying she is not waiting (active)" grep -q "not waiting for approval (active on club)" <<<"$err"
check "... and queues no second welcome" [ "$(welcomes "$ada")" = 1 ]

# cyd asks and is rejected, with a reason: on no other list, so erased
check "cyd confirms" ask club cyd@example.org
cyd=$(id_of club cyd@example.org)
out=$(lk sub reject club cyd@example.org --reason 'Members of the club only.')
check "sub reject says she was erased" grep -q "^subscriber $cyd rejected on club; \"not accepted\" mail queued (job [0-9]*); on no other list, so their personal data was erased" <<<"$out"
check "nothing is held about cyd" grep -q "nothing is held" <<<"$(lk person show cyd@example.org)"
check "... her subscriber row is gone" [ "$(q "SELECT count(*) FROM subscribers WHERE id = $cyd")" = 0 ]
check "... and no opt-out is kept for her" [ "$(q "SELECT count(*) FROM suppressions")" = 0 ]
m=$(mail cyd@example.org 'was not accepted') || m=
check "cyd gets the \"not accepted\" mail" grep -q 'Subject: Your subscription to The Club was not accepted' <<<"$m"
check "... with the owners' reason" grep -q 'Their reason: Members of the club only.' <<<"$m"
check "she may ask again" ask club cyd@example.org 2
check "... and is held again" [ "$(state club cyd@example.org)" = held ]

# dan is on news too: rejected quietly, he stays on news and gets no mail
lk sub add news dan@example.org --confirmed --consent-note test >/dev/null
check "dan confirms on club" ask club dan@example.org
n=$(mails_to dan@example.org)
out=$(lk sub reject club dan@example.org --quiet)
check "sub reject --quiet queues no mail and erases nothing" grep -qx "subscriber [0-9]* rejected on club" <<<"$out"
check "dan is still on news" [ "$(state news dan@example.org)" = active ]
check "... and not on club" [ -z "$(state club dan@example.org)" ]

# the summary counts the waiting requests (cyd again, and eve), naming no one
check "eve confirms" ask club 'Eve <eve@example.org>'
# eve's confirmation request was queued after anything the reject of dan
# could have queued, and the delivery role sends such mails in order
check "... and dan got no mail" [ "$(mails_to dan@example.org)" = "$n" ]
out=$(lk summary show club --day "$(date -u +%F)")
check "the summary counts two waiting requests" grep -q "^Subscription requests waiting for your approval now: 2\.$" <<<"$out"
check "... one approved and two not accepted today" bash -c "grep -Eq '^  approved by the owners +1$' <<<'$out' && grep -Eq '^  not accepted by the owners +2$' <<<'$out'"
check "... and names no one" bash -c "! grep -q '@example.org' <<<'$out'"

out=$(lk sub approve club --all)
check "--all approves both" [ "$(grep -c ' approved on club: active' <<<"$out")" = 2 ]
check "cyd and eve are active" [ "$(state club cyd@example.org)$(state club eve@example.org)" = activeactive ]
check "nothing waits any more" grep -q "no requests wait on club" <<<"$(lk sub held club 2>&1)"
verify() { lk ledger verify >/dev/null; }
check "eve's welcome arrives" has eve@example.org 'Welcome to The Club'
check "the ledger chain is whole" verify
check "reject --all with nothing held says so" grep -q "no requests wait on club" <<<"$(lk sub reject club --all 2>&1)"
finish
