#!/usr/bin/env bash
# A full disk (tests/cli/full_lib.bash: the store's writes fail with ENOSPC,
# and SQLite takes its own path for it, SQLITE_FULL, rolling the transaction
# back itself): every path names the cause, "database or disk is full",
# never the failed ROLLBACK after it ("no transaction is active"), and keeps
# nothing half done; a page whose write fails answers 503 with Retry-After,
# never its success page (the subscribe form said "check your mailbox" and
# kept nothing); the intake spool counts no handler crash for a store error
# (three would quarantine good mail); once the disk has room again,
# everything works.
LK=$1
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/full_lib.bash"
. "$(dirname "$0")/intake_lib.bash" # lmtp_serve, q
. "$(dirname "$0")/mail_lib.bash"   # web_serve, req, hdr, csrf_of, body_path
kill_at_exit serve_pid

lk init --dir "$T" --domain lists.example.org >/dev/null
export LISTKEEPER_DELIVERY_RELAY="maildir:$T/out" LISTKEEPER_LOG_LEVEL=info
lk list create news >/dev/null
SPOOL="$T/listkeeper-spool.db"
qs() { sqlite3 "$SPOOL" "$1"; }
rolled() { grep -aqiE 'cannot rollback|no transaction is active' "$@"; } # rolled FILE...: the wrong cause

# --- the command line -----------------------------------------------------
full "$DB"
rc=0; lkf sub add news ada@example.org --confirmed --consent-note test >"$T/o" 2>"$T/e" || rc=$?
check "sub add on a full disk: 70" [ "$rc" = 70 ]
check "... and it says the disk is full" grep -q 'disk is full' "$T/e"
if rolled "$T/e"; then bad "... it names the rollback"; else ok "... not the rollback"; fi
rc=0; lkf list create other >"$T/o" 2>"$T/e" || rc=$?
check "list create on a full disk: 70 (not 65, a taken name)" [ "$rc" = 70 ]
check "... and it says the disk is full" grep -q 'disk is full' "$T/e"
unfull
check "nothing of it was kept" [ "$(q 'SELECT count(*) FROM subscribers')" = 0 ]
check "with room again, sub add works" lk sub add news ada@example.org --confirmed --consent-note test

# --- inject ---------------------------------------------------------------
cmd() { printf 'From: %s\r\nTo: news-request@lists.example.org\r\nSubject: x\r\nMessage-ID: <%s@example.org>\r\n\r\n%s\r\n' "$1" "$RANDOM$RANDOM" "$2"; }
full "$DB"
# --verbose: the operator's view (the log on stderr); run by an MTA, stderr
# holds only the SMTP-style reason, as pipe(8) copies it into bounces
rc=0; cmd bob@example.org subscribe | lkf inject --verbose --recipient news-request@lists.example.org \
  --sender bob@example.org >"$T/o" 2>"$T/e" || rc=$?
check "inject on a full disk: 75, try again later" [ "$rc" = 75 ]
check "... and it says the disk is full" grep -q 'disk is full' "$T/e"
rc=0; cmd bob@example.org subscribe | lkf inject --recipient news-request@lists.example.org \
  --sender bob@example.org >"$T/o" 2>"$T/e2" || rc=$?
check "... without --verbose: 75 and the SMTP reply alone" \
  [ "$rc:$(cat "$T/e2")" = "75:451 4.3.0 Temporary local problem, try again later" ]
if rolled "$T/e"; then bad "... it names the rollback"; else ok "... not the rollback"; fi
unfull
rc=0; cmd bob@example.org subscribe | lk inject --recipient news-request@lists.example.org \
  --sender bob@example.org >"$T/o" 2>"$T/e" || rc=$?
check "with room again, inject works" [ "$rc" = 0 ]

# --- the intake spool (serve --role intake; the database full, the spool not) --
full "$DB"
LD_PRELOAD="$ENOSPC" lmtp_serve intake || bad "serve --role intake starts"
cmd carol@example.org help >"$T/help.eml"
check "LMTP on a full database: 250 once spooled" \
  grep -q "<-  *250 2.0.0" <<<"$(lmtp news-request@lists.example.org "$T/help.eml" carol@example.org)"
deferred() { grep -c 'deferred' "$T/serve.log" || true; }
check "its handling fails and is deferred" eventually '[ "$(deferred)" -ge 1 ]'
check "... its attempt not counted (a store error is no crash)" \
  [ "$(qs 'SELECT attempts FROM intake_spool')" = 0 ]
check "the log names the cause" grep -q 'disk is full' "$T/serve.log"
if rolled "$T/serve.log"; then bad "the log names the rollback"; else ok "the log does not name the rollback"; fi
for round in 2 3; do # tried again (made due at once), and failing again
  qs "UPDATE intake_spool SET updated = 0"
  check "try $round fails too" eventually "[ \"\$(deferred)\" -ge $round ]"
done
check "... still no attempt counted, nothing quarantined" \
  [ "$(qs 'SELECT attempts, quarantined FROM intake_spool')" = "0|0" ]
unfull
qs "UPDATE intake_spool SET updated = 0"
check "with room again, it is handled and leaves the spool" \
  eventually '[ "$(qs "SELECT count(*) FROM intake_spool")" = 0 ]'
check "... and its answer is queued" [ "$(q "SELECT count(*) FROM jobs WHERE kind = 'reply'")" -ge 1 ]
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=

# --- the web pages (serve on the same disk) ---------------------------------
export LISTKEEPER_HTTP_LISTEN=127.0.0.1:0
LD_PRELOAD="$ENOSPC" must_serve --role web --role delivery
unavailable() { # unavailable STATUS: the store error page, with Retry-After
  [ "$1" = 503 ] && hdr "Retry-After: 60" && grep -q "cannot reach its data" "$T/b"
}
req /l/news >/dev/null; csrf=$(csrf_of)
subscribe() { req /l/news --data-urlencode "csrf=$csrf" --data-urlencode "address=$1" \
  --data-urlencode name= --data-urlencode country= --data-urlencode format=text; }
lk sub add news pend@example.org >/dev/null # its confirmation mail: a /c/ link
wait_mails_to pend@example.org 1
c=$(body_path "$(newest_to pend@example.org)" c)
req "$c" >/dev/null; ccsrf=$(csrf_of)
full "$DB"
s=$(subscribe carol@example.org)
check "subscribe on a full disk: 503 with Retry-After, not \"check your mailbox\"" unavailable "$s"
if grep -q "Check your mailbox" "$T/b"; then bad "... it says check your mailbox"; else ok "... it does not say check your mailbox"; fi
s=$(req "$c" --data "csrf=$ccsrf")
check "confirm on a full disk: 503 with Retry-After" unavailable "$s"
req /me >/dev/null; mcsrf=$(csrf_of)
s=$(req /me --data-urlencode "csrf=$mcsrf" --data-urlencode address=ada@example.org)
check "a data request on a full disk: 503 with Retry-After" unavailable "$s"
check "the log names the cause" eventually "grep -q 'disk is full' '$T/log'"
if rolled "$T/log"; then bad "the log names the rollback"; else ok "the log does not name the rollback"; fi
unfull
check "nothing was kept of the subscribe" [ -z "$(state_of news carol@example.org)" ]
check "the pending person is still pending" [ "$(state_of news pend@example.org)" = pending ]
check "with room again, subscribe says check your mailbox" [ "$(subscribe carol@example.org)" = 200 ]
check "... and carol is pending" eventually '[ "$(state_of news carol@example.org)" = pending ]'
check "... and confirm works" [ "$(req "$c" --data "csrf=$ccsrf")" = 200 ]
check "... pend is active" [ "$(state_of news pend@example.org)" = active ]
stop

finish
