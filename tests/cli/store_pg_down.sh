#!/usr/bin/env bash
# The PostgreSQL store while its server is down (tests/pg_lib.bash: a server
# of its own, stopped and started again): a command says the server is
# unreachable and exits 69; inject, as an MTA runs it, exits 75 so that the
# MTA tries again; a running `serve` answers its pages 503 with Retry-After
# (the store-unavailable page) and 200 again once the server is back, with
# no restart of its own.
LK=$1
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/mail_lib.bash"
. "$(dirname "$0")/../pg_lib.bash"
trap 'rc=$?; pg_stop; (exit $rc); at_exit' EXIT
pg_start
export LISTKEEPER_STORE_BACKEND=postgresql LISTKEEPER_STORE_DSN=$(pg_newdb lk)
lk init --dir "$T" --domain lists.example.org >/dev/null
export LISTKEEPER_DELIVERY_RELAY="maildir:$T/out" LISTKEEPER_HTTP_LISTEN=127.0.0.1:0
lk list create news --title News >/dev/null
must_serve --role web
check "GET /l/news is 200 with the server up" [ "$(req /l/news)" = 200 ]

pg_down
check "GET /l/news is 503 with the server down" [ "$(req /l/news)" = 503 ]
check "with Retry-After" hdr "Retry-After"
rc=0; lk list ls > /dev/null 2> "$T/err" || rc=$?
check "list ls exits 69" [ "$rc" -eq 69 ]
check "saying the server is unreachable" grep -q "PostgreSQL server is unreachable" "$T/err"
printf 'From: someone@example.net\nTo: news-request@lists.example.org\nSubject: help\n\nhelp\n' > "$T/msg"
rc=0; "$LK" inject --recipient news-request@lists.example.org < "$T/msg" 2> "$T/ierr" || rc=$?
check "inject exits 75 (the MTA tries again)" [ "$rc" -eq 75 ]

pg_up
check "GET /l/news is 200 again once the server is back" eventually '[ "$(req /l/news)" = 200 ]'
check "list ls works again" lk list ls
stop
finish
