#!/usr/bin/env bash
# Every subcommand's exit status against the man page (EXIT STATUS, and
# *inject*'s own for the MTA): one row of the table below a case, "CODE
# | what the man page says it is | the command (eval'd)". A row fails when
# the command exits with another status; the table covers each status and
# each subcommand (a command to give bad data as bad data, 65, not as an
# internal error, 70).
LK=$1
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/full_lib.bash"

lk init --dir "$T" --domain lists.example.org >/dev/null
export LISTKEEPER_DELIVERY_RELAY="maildir:$T/out"
lk list create news >/dev/null
lk list create held --subscription-policy owner >/dev/null
lk sub add news ada@example.org --confirmed --consent-note test >/dev/null
lk sub add news gone@example.org --confirmed --consent-note test >/dev/null
lk sub rm news gone@example.org >/dev/null # opted out of news
printf 'Hello\n' >"$T/body.txt"
printf 'email\nok@example.org\nnot an address\n' >"$T/some-bad.csv"
lk send news --subject Hi --text "$T/body.txt" >/dev/null
lk job cancel 1 >/dev/null 2>&1 || lk job cancel 2 >/dev/null
cancelled=$(sqlite3 "$T/listkeeper.db" "SELECT id FROM jobs WHERE state = 'cancelled' LIMIT 1")
: >"$T/exists.csv"
msg() { printf 'From: ada@example.org\r\nTo: %s\r\nSubject: x\r\nMessage-ID: <%s@example.org>\r\n\r\n%s\r\n' "$1" "$RANDOM$RANDOM" "${2:-help}"; }
long=$(head -c 300 /dev/zero | tr '\0' a)
ctl=$(printf 'Ada\001Lovelace')
# busy: the database write-locked by another process for the command's run
busy() {
  python3 -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close(); time.sleep(10)' "$T/listkeeper.db" "$T/locked" &
  local locker=$!
  for _ in $(seq 200); do [ -f "$T/locked" ] && break; sleep 0.05; done
  local rc=0
  LISTKEEPER_STORE_BUSY_TIMEOUT_MS=100 "$@" || rc=$?
  kill $locker; wait $locker 2>/dev/null || true; rm -f "$T/locked"
  return $rc
}
# on_full_disk CMD...: CMD with the database's disk full (full_lib.bash)
on_full_disk() { full "$T/listkeeper.db"; local rc=0; LD_PRELOAD="$ENOSPC" "$@" || rc=$?; unfull; return $rc; }

while IFS='|' read -r code what cmd; do
  code=${code// /}
  [ -z "$code" ] || [ "${code:0:1}" = "#" ] && continue
  rc=0
  eval "$cmd" >"$T/out" 2>"$T/err" </dev/null || rc=$?
  if [ "$rc" = "$code" ]; then ok "$code:$what:$cmd"; else
    bad "$code:$what:$cmd exited $rc: $(head -c 300 "$T/err")"; fi
done <<'TABLE'
0  | done                          | lk list ls
0  | done                          | lk sub ls news
0  | done                          | lk ledger verify
0  | done                          | lk job ls
0  | done                          | lk stats news
0  | done                          | lk intake spool
0  | done                          | lk postfix maps
0  | done                          | lk intake classify ../intake/bounces/postfix-dsn-hard.eml
64 | bad arguments                 | lk
64 | bad arguments                 | lk nosuch
64 | bad arguments                 | lk list create
64 | bad arguments                 | lk list nosuch
64 | bad arguments (no --yes)      | lk list delete news
64 | bad arguments                 | lk sub add news
64 | bad arguments (no note)       | lk sub add news x@example.org --confirmed
64 | bad arguments                 | lk sub add news x@example.org --format pdf
64 | bad arguments                 | lk sub nosuch news
64 | bad arguments                 | lk import news
64 | bad arguments                 | lk export
64 | bad arguments                 | lk person show
64 | bad arguments (no --yes)      | lk person erase ada@example.org
64 | bad arguments                 | lk send news --text "$T/body.txt"
64 | bad arguments                 | lk job show
64 | bad arguments                 | lk job show x
64 | bad arguments                 | lk ledger
64 | bad arguments                 | lk stats --days x
64 | bad arguments                 | lk dkim keygen
64 | bad arguments                 | lk intake quarantine show
64 | bad arguments                 | lk postfix nosuch
66 | no input: a file not there    | lk intake classify "$T/nosuch.eml"
64 | bad arguments                 | lk summary
64 | bad arguments                 | lk serve --role nosuch
64 | bad arguments                 | lk inject --nosuch
64 | bad arguments                 | lk filter
64 | bad arguments                 | lk post check news
65 | an address that is not one    | lk sub add news 'not an address'
65 | bad data: a control character in the name | lk sub add news x@example.org --name "$ctl" --confirmed --consent-note t
65 | bad data: a name over 256 bytes | lk sub add news x@example.org --name "$long" --confirmed --consent-note t
65 | bad data: a display name over 256 bytes | lk sub add news "$long <x@example.org>" --confirmed --consent-note t
65 | bad data: a control character in the name, pending | lk sub add news y@example.org --name "$ctl"
65 | no such list                  | lk sub add nosuch x@example.org
65 | an address that opted out     | lk sub add news gone@example.org
65 | not on the list               | lk sub rm news nobody@example.org
65 | not held for approval         | lk sub approve held nobody@example.org
65 | not held for approval         | lk sub reject held nobody@example.org
65 | no such list                  | lk sub ls nosuch
65 | a list name taken             | lk list create news
65 | no such list                  | lk list show nosuch
65 | no such list                  | lk export nosuch
65 | some import rows refused      | lk import news "$T/some-bad.csv"
65 | no such list                  | lk send nosuch --subject Hi --text "$T/body.txt"
65 | a subject refused by send     | lk send news --subject '' --text "$T/body.txt"
65 | no such job                   | lk job show 999
65 | a job cancelled already       | lk job cancel "$cancelled"
65 | no such list                  | lk stats nosuch
65 | post check: an announcement list | lk post check news "$T/body.txt"
65 | inject: no recipient          | msg news@lists.example.org | lk inject
67 | inject: not our address       | msg nosuch@lists.example.org | lk inject --recipient nosuch@lists.example.org
66 | filter: the message file cannot be opened | LISTKEEPER_FILTER_CLAMD=unix:$T/no.sock lk filter check "$T/nosuch.eml"
66 | the import file cannot be opened | lk import news "$T/nosuch.csv"
66 | a body file of send cannot be opened | lk send news --subject Hi --text "$T/nosuch.txt"
69 | the store cannot be opened    | LISTKEEPER_STORE_PATH="$T/nosuch/x.db" lk list ls
70 | a store error (a full disk)   | on_full_disk "$LK" sub add news z@example.org --confirmed --consent-note t
70 | a store error (a full disk)   | on_full_disk "$LK" list create other
71 | serve: a bad [http] trusted_proxies | LISTKEEPER_HTTP_LISTEN=127.0.0.1:0 LISTKEEPER_HTTP_TRUSTED_PROXIES=nonsense timeout 20 "$LK" serve --role web
73 | an output file exists already | lk export news -o "$T/exists.csv"
73 | a file cannot be created      | lk init --dir /proc/nosuch
0  | init again: safe to run again | lk init --dir "$T"
74 | a write failed                | lk export news >/dev/full
74 | a write failed                | lk sub ls news >/dev/full
74 | a write failed                | lk person export ada@example.org >/dev/full
75 | the database stayed locked    | busy "$LK" sub add news w@example.org --confirmed --consent-note t
75 | filter: clamd down            | LISTKEEPER_FILTER_CLAMD=unix:$T/no.sock lk filter check "$T/body.txt"
75 | inject: the store locked      | msg news-request@lists.example.org | busy "$LK" inject --recipient news-request@lists.example.org
75 | job: the store locked         | busy "$LK" job pause $cancelled
75 | list set: the store locked    | busy "$LK" list set news title Locked
75 | import: the store locked      | busy "$LK" import news "$T/some-bad.csv"
78 | the configuration cannot be loaded | LISTKEEPER_CONFIG="$T/nosuch.conf" lk list ls
78 | filter: none configured       | lk filter check "$T/body.txt"
78 | filter: a bad endpoint        | LISTKEEPER_FILTER_CLAMD=nonsense lk filter check "$T/body.txt"
78 | the key file cannot be loaded | LISTKEEPER_KEYS_FILE="$T/nosuch.keys" lk list ls
TABLE

finish
