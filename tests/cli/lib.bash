# Shared set-up for the CLI scenario tests: a fresh instance in a temp dir.
# Source it after setting LK to the binary under test.
set -euo pipefail
LK=$(readlink -f "${LK:?}")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
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
