# Shared set-up for the CLI scenario tests: a fresh instance in a temp dir.
# Source it after setting LK to the binary under test.
set -euo pipefail
LK=$(readlink -f "${LK:?}")
T=$(mktemp -d)
# kill_at_exit VAR...: sets VAR... empty; at exit, kills (SIGKILL) the
# processes whose ids they hold then
exit_kill=
kill_at_exit() { local v; for v; do printf -v "$v" ''; done; exit_kill="$exit_kill $*"; }
at_exit() {
  local rc=$? v
  for v in $exit_kill; do
    [ -z "${!v:-}" ] || { kill -KILL ${!v}; wait ${!v}; } 2>/dev/null || true
  done
  rm -rf "$T"
  exit $rc
}
trap at_exit EXIT
export LISTKEEPER_CONFIG="$T/listkeeper.conf"
unset LISTKEEPER_STORE_PATH LISTKEEPER_KEYS_FILE LISTKEEPER_LOG_DEST LISTKEEPER_LOG_LEVEL
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
check() { # check DESCRIPTION COMMAND...
  local d=$1; shift
  if "$@"; then ok "$d"; else bad "$d"; fi
}
lk() { "$LK" "$@"; }
# eventually 'SHELL TEST': true once the test holds, retried for up to 20 s.
# For state that a server changes after it has answered (intake handles a
# message after its 250; the writer commits after the page).
eventually() {
  local i
  for i in $(seq 400); do eval "$1" && return 0; sleep 0.05; done
  return 1
}
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
# contains FILE STRING: the raw bytes of FILE hold STRING (binary-safe)
contains() { [ -f "$1" ] && grep -aqF -- "$2" "$1"; }
# free_port: a TCP port on 127.0.0.1 that was free a moment ago
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
