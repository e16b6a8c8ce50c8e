#!/bin/bash
# pg_run.sh PROGRAM [ARG...]: runs a test program against a PostgreSQL of
# its own (tests/pg_lib.bash), started before and removed after, the whole
# run bounded to 10 minutes. The program finds the server in PGHOST.
set -uo pipefail
. "$(dirname "$0")/pg_lib.bash"
trap pg_stop EXIT
pg_start || exit 1
timeout 600 "$@"
