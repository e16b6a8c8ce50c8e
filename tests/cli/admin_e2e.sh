#!/usr/bin/env bash
# The admin pages in a real browser: Debian's headless Chromium driven by
# playwright-core through tests/e2e/admin_flows.mjs, against a live
# `serve --role admin` on loopback: sign-in, the dashboard, list settings with
# a field's error, the members pages and the look-up, held posts, sign-out
# everywhere, the audit log; axe-core on every page (no serious or critical
# violation); screenshots at 1280 and 375 px in $LISTKEEPER_E2E_SHOTS
# (default build/e2e-shots/). node_modules comes from `npm ci` when missing.
LK=$1
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/admin_lib.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHOTS=${LISTKEEPER_E2E_SHOTS:-$ROOT/build/e2e-shots}
npid=
cleanup_browser() {
  if [ -n "$npid" ] && kill -0 "$npid" 2>/dev/null; then kill -KILL -- "-$npid" 2>/dev/null || true; fi
  if [ -d "$T/profile" ]; then
    for c in $(pgrep -f -- "--user-data-dir=$T/profil[e]" 2>/dev/null); do kill -KILL "$c" 2>/dev/null || true; done
  fi
}
trap 'rc=$?; cleanup_browser; (exit $rc); at_exit' EXIT
for tool in /usr/bin/chromium node npm; do
  command -v "$tool" >/dev/null || { bad "$tool is missing: run scripts/deps.sh"; finish; exit 1; }
done
need="$ROOT/node_modules/playwright-core/package.json $ROOT/node_modules/axe-core/package.json"
missing() { local f; for f in $need; do [ -f "$f" ] || return 0; done; return 1; }
if missing; then
  (
    flock -w 180 9 || exit 1
    if missing; then cd "$ROOT" && timeout 170 npm ci --no-audit --no-fund --loglevel=error; fi
  ) 9>"${TMPDIR:-/tmp}/listkeeper-npm-ci.lock"
fi
check "playwright-core and axe-core are installed" bash -c "[ -f '$ROOT/node_modules/playwright-core/package.json' ] && [ -f '$ROOT/node_modules/axe-core/package.json' ]"

lk init --dir "$T" >/dev/null
lk list create news --title 'News <b>&</b> more' >/dev/null
lk list create other >/dev/null
{
  echo "email,name"
  for i in $(seq 1 60); do echo "member$i@example.org,<i>Member $i</i>"; done
} >"$T/members.csv"
lk import news "$T/members.csv" --confirmed --consent-note "e2e test" >/dev/null
echo "password of olga" | lk user add olga >/dev/null
lk user role olga add owner news >/dev/null
echo "password of root" | lk user add root >/dev/null
lk user role root add admin >/dev/null
if admin_serve; then ok "serve --role admin printed its URL"; else
  bad "serve --role admin printed its URL"; cat "$T/alog"; finish; exit 1; fi

mkdir -p "$SHOTS"
SHOTS=$(cd "$SHOTS" && pwd)
rm -f "$SHOTS"/admin-*.png
t0=$(date +%s)
set +e
E2E_URL=$aurl E2E_SHOTS="$SHOTS" E2E_PROFILE="$T/profile" \
  setsid timeout -k 5 240 node "$ROOT/tests/e2e/admin_flows.mjs" &
npid=$!
wait "$npid"; nrc=$?
set -e
npid=
check "the browser flows pass (node exit $nrc, $(($(date +%s) - t0)) s)" [ "$nrc" -eq 0 ]
check "the settings change reached the store" grep -q 'News, renamed' <<<"$(lk list show news)"
check "no browser is left running" bash -c "! pgrep -f -- '--user-data-dir=$T/profil[e]' >/dev/null"
check "the log has no address" bash -c "! grep -aqE 'example\\.org|HeadlessChrome' '$T/alog'"
kill -TERM "$apid"; set +e; wait "$apid"; rc=$?; set -e; apid=
check "serve --role admin exits 0" [ "$rc" -eq 0 ]
n=$(find "$SHOTS" -name 'admin-*.png' | wc -l)
check "screenshots at both widths ($n)" [ "$n" -ge 16 ]
echo "screenshots ($n): $SHOTS"
finish
