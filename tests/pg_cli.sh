#!/bin/bash
# pg_cli.sh SCRIPT LISTKEEPER: runs a CLI scenario test (tests/cli/SCRIPT)
# with the PostgreSQL store: a server of its own (tests/pg_lib.bash), one
# database, and [store] backend and dsn set through the environment
# (LISTKEEPER_STORE_BACKEND, LISTKEEPER_STORE_DSN), which every listkeeper
# the script runs inherits.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/pg_lib.bash"
trap pg_stop EXIT
pg_start || exit 1
dsn=$(pg_newdb lk) || exit 1
export LISTKEEPER_STORE_BACKEND=postgresql LISTKEEPER_STORE_DSN="$dsn"
lk=$(readlink -f "$2")
cd "$here/cli" && timeout 600 bash "$here/cli/$1" "$lk"
