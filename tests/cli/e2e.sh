#!/usr/bin/env bash
# The web pages in a real browser: Debian's headless Chromium, driven by
# playwright-core (npm) through tests/e2e/flows.mjs, against a live `serve`
# (web and delivery roles) on loopback with the Maildir relay. Set-up and the
# store-side checks are here; the clicks are in flows.mjs, which also calls
# this binary (LK) for `sub ls` and `send` between the pages. Screenshots of
# every page go to $LISTKEEPER_E2E_SHOTS (default build/e2e-shots/ at the top
# of the repository); the absolute path is printed at the end.
#
# Needs /usr/bin/chromium, node and npm (scripts/deps.sh installs them);
# node_modules is installed here with `npm ci` when missing (only the npm
# registry is asked: playwright-core downloads no browser).
LK=$1
. "$(dirname "$0")/lib.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHOTS=${LISTKEEPER_E2E_SHOTS:-$ROOT/build/e2e-shots}

pid=
npid=
cleanup() {
  for p in $npid $pid; do
    if kill -0 "$p" 2>/dev/null; then
      kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
  # The browser runs in a process group of its own (Playwright detaches it);
  # find it by its profile folder, which is this test's own.
  if [ -d "$T/profile" ]; then
    for c in $(pgrep -f -- "--user-data-dir=$T/profil[e]" 2>/dev/null); do
      kill -KILL "$c" 2>/dev/null || true
    done
  fi
  rm -rf "$T"
}
trap cleanup EXIT

for tool in /usr/bin/chromium node npm; do
  if ! command -v "$tool" >/dev/null; then
    bad "$tool is missing: run scripts/deps.sh"; finish; exit 1
  fi
done

# --- node_modules (once; several tests may start together) ---------------
if [ ! -f "$ROOT/node_modules/playwright-core/package.json" ]; then
  t0=$(date +%s%N)
  (
    flock -w 120 9 || exit 1
    if [ ! -f "$ROOT/node_modules/playwright-core/package.json" ]; then
      cd "$ROOT" && timeout 120 npm ci --no-audit --no-fund --loglevel=error
    fi
  ) 9>"${TMPDIR:-/tmp}/listkeeper-npm-ci.lock"
  check "npm ci installed playwright-core ($((($(date +%s%N) - t0) / 1000000)) ms)" \
    [ -f "$ROOT/node_modules/playwright-core/package.json" ]
fi

# --- the instance --------------------------------------------------------
lk init --dir "$T" >/dev/null
export LISTKEEPER_DELIVERY_RELAY="maildir:$T/out" LISTKEEPER_LOG_LEVEL=info
export LISTKEEPER_LMTP_LISTEN=127.0.0.1:0 # serve runs every role: any free port
# The gardener subscribes on the page, then joins a second list from the
# preferences page: two confirmation mails to one address.
export LISTKEEPER_WEB_CONFIRM_PER_ADDRESS=5
lk list create news --title "News & <i>Views</i>" \
  --description "A monthly letter about the garden." \
  --postal_address "1 Main Street, Springfield" >/dev/null
lk list create other --title "Other" >/dev/null

# serve with base_url = its own URL, so that the links in the mail point at
# it: the port is chosen first (bind to 0, read it, close), then serve binds
# it; on the rare race with another program, another port is tried.
url=
for _ in 1 2 3 4 5; do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  export LISTKEEPER_HTTP_LISTEN=127.0.0.1:$port LISTKEEPER_GENERAL_BASE_URL=http://127.0.0.1:$port
  : >"$T/serve.out" # now: the wait below must not read an old file, or none (serve truncates it only once it runs)
  setsid "$LK" serve >"$T/serve.out" 2>"$T/log" &
  pid=$!
  for _ in $(seq 200); do
    url=$(sed -n 's|^listkeeper: serving \(http://127\.0\.0\.1:[0-9]*\)/$|\1|p' "$T/serve.out")
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$url" ] && break
  kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=
done
if [ -z "$url" ]; then
  bad "serve printed its URL"; cat "$T/log"; finish; exit 1
fi
check "serve printed $url/, its base_url" [ "$url" = "$LISTKEEPER_GENERAL_BASE_URL" ]

# sub add queues the confirmation mail; serve delivers it.
lk sub add news reader@example.org --name Reader >/dev/null
state_of() { lk sub ls "$1" | awk -v a="$2" '$3 == a { print $2 }'; }
check "reader is pending" [ "$(state_of news reader@example.org)" = pending ]

# --- the browser ---------------------------------------------------------
mkdir -p "$SHOTS"
SHOTS=$(cd "$SHOTS" && pwd)
rm -f "$SHOTS"/*.png
t0=$(date +%s)
E2E_URL=$url E2E_LK=$LK E2E_MAILDIR="$T/out" E2E_SHOTS="$SHOTS" E2E_PROFILE="$T/profile" \
  setsid timeout -k 5 180 node "$ROOT/tests/e2e/flows.mjs" &
npid=$!
set +e; wait "$npid"; nrc=$?; set -e
npid=
check "the browser flows pass (node exit $nrc, $(($(date +%s) - t0)) s)" [ "$nrc" -eq 0 ]

# --- the store afterwards -------------------------------------------------
check "reader left news" [ -z "$(state_of news reader@example.org)" ]
check "nothing is held about reader (last list: erased)" \
  grep -q "nothing is held about that address" <<<"$(lk person show reader@example.org)"
if [ -f "$T/formflow" ]; then
  check "the person who subscribed by the form is active on news" \
    [ "$(state_of news "$(cat "$T/formflow")")" = active ]
  check "... and pending on the list joined from the preferences page" \
    [ "$(state_of other "$(cat "$T/formflow")")" = pending ]
else
  bad "the form flow ran"
fi
if grep -aqE 'example\.org|HeadlessChrome|Mozilla/' "$T/log"; then
  bad "the log holds an address or a user agent"; grep -aE 'example\.org|Mozilla/' "$T/log" | head -3
else
  ok "no address or user agent in the log"; fi
check "no browser is left running" \
  bash -c "! pgrep -f -- '--user-data-dir=$T/profil[e]' >/dev/null"
check "serve is still running" kill -0 "$pid"
kill -TERM "$pid"
set +e; wait "$pid"; rc=$?; set -e
pid=
check "serve exits 0 after SIGTERM" [ "$rc" -eq 0 ]
n=$(find "$SHOTS" -name '*.png' | wc -l)
echo "screenshots ($n): $SHOTS"
finish
