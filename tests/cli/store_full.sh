#!/usr/bin/env bash
# A full disk (tests/cli/full_lib.bash: the store's writes fail with ENOSPC,
# and SQLite takes its own path for it, SQLITE_FULL, rolling the transaction
# back itself): every path names the cause, "database or disk is full",
# never the failed ROLLBACK after it ("no transaction is active"), and keeps
# nothing half done; once the disk has room again, everything works.
LK=$1
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/full_lib.bash"
. "$(dirname "$0")/intake_lib.bash" # lmtp_serve, q
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
rc=0; cmd bob@example.org subscribe | lkf inject --recipient news-request@lists.example.org \
  --sender bob@example.org >"$T/o" 2>"$T/e" || rc=$?
check "inject on a full disk: 75, try again later" [ "$rc" = 75 ]
check "... and it says the disk is full" grep -q 'disk is full' "$T/e"
if rolled "$T/e"; then bad "... it names the rollback"; else ok "... not the rollback"; fi
unfull
rc=0; cmd bob@example.org subscribe | lk inject --recipient news-request@lists.example.org \
  --sender bob@example.org >"$T/o" 2>"$T/e" || rc=$?
check "with room again, inject works" [ "$rc" = 0 ]

finish
