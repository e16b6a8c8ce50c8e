#!/usr/bin/env bash
# `make run`: an embedded SQLite setup in RUNDIR with a demo list, then the
# server in the foreground. Ctrl-C stops it; run again to continue where you were.
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
if "$lk" serve --help >/dev/null 2>&1; then
  echo "  open:     http://127.0.0.1:$port/   and   http://127.0.0.1:$port/l/demo"
  echo "  stop:     Ctrl-C"
  export LISTKEEPER_HTTP_LISTEN="127.0.0.1:$port"
  exec "$lk" serve
else
  echo "this build has no server yet (serve arrives with the web issue)"
fi
