#!/usr/bin/env bash
# The key file: written 0600 by init; refused, with a message saying how to
# fix it, when the group or others may read it; never overwritten by init.
LK=$1
. "$(dirname "$0")/lib.bash"

lk init --dir "$T" >/dev/null
k="$T/listkeeper.keys"
check "key file is mode 600" [ "$(stat -c %a "$k")" = 600 ]
check "database is not readable by others" [ "$(( 0$(stat -c %a "$T/listkeeper.db") & 077 ))" -eq 0 ]
check "a command works with mode 600" lk list ls
for m in 640 604 660 644; do
  chmod $m "$k"
  if err=$(lk list ls 2>&1); then bad "mode $m accepted"; else
    check "mode $m refused with advice" grep -q "chmod 600" <<<"$err"
  fi
done
chmod 600 "$k"
sum=$(sha256sum "$k")
lk init --dir "$T" >/dev/null
check "init again keeps the key file" [ "$sum" = "$(sha256sum "$k")" ]
rm "$k"
if err=$(lk list ls 2>&1); then bad "missing key file accepted"; else ok "missing key file refused"; fi
finish
