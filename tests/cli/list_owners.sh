#!/usr/bin/env bash
# List owners and the bounce action: set, normalised, shown, refused when bad.
LK=$1
source "$(dirname "$0")/lib.bash"
lk init --dir "$T" --domain lists.example.org >/dev/null

check "create with --owner" lk list create news --owner 'Boss@Example.ORG, b@example.org' >/dev/null
out=$(lk list show news)
check "owners normalised (domain lower-cased, spaces gone)" \
  grep -qx 'owners: Boss@example.org,b@example.org' <<<"$out"
check "bounce_action defaults to disable" grep -qx 'bounce_action: disable' <<<"$out"
check "set --owner replaces the owners" lk list set news --owner c@example.net >/dev/null
check "show prints the new owner" grep -qx 'owners: c@example.net' <<<"$(lk list show news)"
if lk list set news --owner 'not-an-address' 2>/dev/null; then bad "bad owner accepted"; else
  ok "bad owner refused"; fi
many=$(for i in $(seq 1 17); do printf 'o%d@example.org,' "$i"; done)
if lk list set news owners "${many%,}" 2>/dev/null; then bad "17 owners accepted"; else
  ok "more than 16 owners refused"; fi
check "owners unchanged after refusals" grep -qx 'owners: c@example.net' <<<"$(lk list show news)"
check "bounce_action remove" lk list set news bounce-action remove >/dev/null
check "show prints bounce_action" grep -qx 'bounce_action: remove' <<<"$(lk list show news)"
if lk list set news bounce_action delete 2>/dev/null; then bad "bad bounce_action accepted"; else
  ok "bad bounce_action refused"; fi
check "no owners" lk list set news owners '' >/dev/null
check "show prints no owner" grep -qx 'owners: ' <<<"$(lk list show news)"
finish
