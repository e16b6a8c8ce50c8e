#!/usr/bin/env bash
# Installs every Debian package that listkeeper's build, tests and benchmarks
# need. Idempotent, and quick when everything is present (one dpkg query).
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config clang libclang-rt-14-dev scdoc
  libsodium-dev libsqlite3-dev sqlite3 libinih-dev libjansson-dev libidn2-dev
  libcmocka-dev time libmicrohttpd-dev curl
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
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
