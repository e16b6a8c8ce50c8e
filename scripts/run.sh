#!/usr/bin/env bash
# `make run`: an embedded SQLite setup in RUNDIR with a demo list, then the
# server in the foreground with every role: the web pages, intake (LMTP), the
# scheduler, and delivery into the
# demo Maildir RUNDIR/outbox (the default [delivery] relay, maildir:outbox).
# Ctrl-C stops it; run again to continue where you were.
#   usage: scripts/run.sh PATH/TO/listkeeper RUNDIR
set -euo pipefail
lk=$(readlink -f "${1:?listkeeper binary}")
dir=${2:-run}
mkdir -p "$dir"
dir=$(readlink -f "$dir")
export LISTKEEPER_CONFIG="$dir/listkeeper.conf"
port=${LISTKEEPER_HTTP_PORT:-8080}
"$lk" init --dir "$dir" --domain lists.example.org --base-url "http://127.0.0.1:$port" >/dev/null
if ! "$lk" list show demo >/dev/null 2>&1; then
  "$lk" list create demo --title "Demo announcements" \
    --description "A demo list made by make run. Nobody receives anything from it." \
    --postal-address "Example Org, 1 Demo Street, 00000 Nowhere" >/dev/null
  printf 'email,name,format\nada@example.org,Ada Lovelace,html\ngrace@example.org,Grace Hopper,text\n' \
    > "$dir/demo.csv"
  "$lk" import demo "$dir/demo.csv" --confirmed --consent-note "demo data made by make run" >/dev/null
fi
echo "listkeeper demo in $dir"
echo "  config:   $LISTKEEPER_CONFIG"
echo "  try:      LISTKEEPER_CONFIG=$LISTKEEPER_CONFIG $lk list show demo"
echo "  send:     echo 'Hello {{name}}' | LISTKEEPER_CONFIG=$LISTKEEPER_CONFIG $lk send demo --subject Hi --text -"
# The demo relay is the default one, maildir:outbox, unless the configuration
# or the environment names another.
if [ -z "${LISTKEEPER_DELIVERY_RELAY:-}" ] && ! grep -Eq '^[[:space:]]*relay[[:space:]]*=' "$LISTKEEPER_CONFIG"; then
  echo "  mail:     serve sends queued jobs into the Maildir $dir/outbox/new (no real mail); read them with less or mutt -f $dir/outbox"
else
  echo "  mail:     serve sends queued jobs to the relay named in [delivery] relay"
fi
echo "  open:     http://127.0.0.1:$port/   and   http://127.0.0.1:$port/l/demo"
echo "  stop:     Ctrl-C"
export LISTKEEPER_HTTP_LISTEN="127.0.0.1:$port"
exec "$lk" serve
