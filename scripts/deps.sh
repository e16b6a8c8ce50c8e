#!/usr/bin/env bash
# Installs every Debian package that listkeeper's build, tests and benchmarks
# need. Idempotent, and quick when everything is present (one dpkg query).
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config clang libclang-rt-14-dev scdoc
  libsodium-dev libsqlite3-dev sqlite3 libinih-dev libjansson-dev libidn2-dev
  libcmocka-dev time libmicrohttpd-dev curl libgmime-3.0-dev
  libssl-dev openssl python3 postfix libmaxminddb-dev
  libopendkim-dev opendkim-tools  # tests only: the independent DKIM verifier
  swaks tidy wrk nginx-light
  # content filters of discussion posts (P9): real clamd and spamd in the tests,
  # clamav-testfiles for a signature the tests make (no database can be downloaded)
  clamav-daemon clamav-testfiles spamd spamassassin
  # the PostgreSQL store: libpq to build, a real server started by the tests
  libpq-dev postgresql
  # tests only: real bounces (flufl.bounce's corpus), DKIM/ARC verifier, PSL
  python3-flufl.bounce python3-dkim publicsuffix
  chromium nodejs $(command -v npm >/dev/null 2>&1 || echo npm)
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "deps: these Debian packages are missing and I am not root: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
# postfix is wanted only for its smtp-sink and smtp-source test tools: answer
# its debconf question with "No configuration" and, for the length of the
# install, forbid invoke-rc.d to start any service (policy-rc.d exit 101),
# so that no Postfix daemon ever runs here.
if printf '%s\n' "${missing[@]}" | grep -qx postfix; then
  echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
fi
policy_made=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 0755 /usr/sbin/policy-rc.d
  policy_made=1
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
# Quiet: apt's chatter goes to a log shown only if the install fails.
aptlog=$(mktemp)
if ! { $SUDO apt-get update -qq && \
       $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$aptlog" 2>&1; then
  cat "$aptlog" >&2
  rm -f "$aptlog"
  exit 1
fi
rm -f "$aptlog"
if [ -n "$policy_made" ]; then
  $SUDO rm -f /usr/sbin/policy-rc.d
  trap - EXIT
fi
