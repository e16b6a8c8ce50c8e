#!/usr/bin/env bash
# P3: after `person erase`, and after leaving the last list, the raw bytes of
# the database, its WAL and the log hold neither the address, nor the name,
# nor the IP recorded at opt-in; `ledger verify` still passes; a re-import of
# the address without new consent is refused.
LK=$1
. "$(dirname "$0")/lib.bash"

lk init --dir "$T" >/dev/null
export LISTKEEPER_LOG_DEST="$T/listkeeper.log" LISTKEEPER_LOG_LEVEL=debug
lk list create news --title "News" >/dev/null
lk list create events >/dev/null

A1=zq-erase-one-5501@example.org; N1="Quintus Zebulon-Erasme"; IP1=203.0.113.177
A2=zq-leave-two-8812@example.net; N2="Xanthippe Leavington"; IP2=2001:db8::7f3e:91
lk sub add news "$A1" --name "$N1" --confirmed --consent-note "paper form 2026" --source-ip $IP1 >/dev/null
lk sub add events "$A1" --confirmed --consent-note "paper form 2026" >/dev/null
lk sub add news "$A2" --name "$N2" --confirmed --consent-note "paper form 2026" --source-ip $IP2 >/dev/null
lk sub add news keep-me@example.org --name "Kept Person" --confirmed --consent-note "paper" >/dev/null

db="$T/listkeeper.db"
files=("$db" "$db-wal" "$T/listkeeper.log")
out=$(lk person show "$A1")
check "person show decrypts the address and name" grep -q "name: $N1" <<<"$out"
exp=$(lk person export "$A1")
check "person export holds the IP recorded at opt-in" grep -q "$IP1" <<<"$exp"
check "person export lists both lists" grep -q '"events"' <<<"$exp"
for f in "${files[@]}"; do
  for s in "$A1" "$N1" "$IP1" "$A2" "$N2" "$IP2"; do
    if contains "$f" "$s"; then bad "$(basename "$f") holds '$s' in plaintext before erasure"; fi
  done
done
ok "no plaintext personal data in the database, WAL or log before erasure"

check "person erase succeeds" lk person erase "$A1" --yes
out=$(lk sub rm news "$A2")
check "leaving the last list erases" grep -q "personal data was erased" <<<"$out"
for f in "${files[@]}"; do
  for s in "$A1" "$N1" "$IP1" "$A2" "$N2" "$IP2"; do
    if contains "$f" "$s"; then bad "$(basename "$f") still holds '$s' after erasure"; fi
  done
done
ok "after erasure no trace of address, name or IP in the database, WAL or log"
check "person show finds nothing" grep -q "nothing is held" <<<"$(lk person show "$A1")"
check "the other subscriber is intact" grep -q "Kept Person" <<<"$(lk person show keep-me@example.org)"
check "ledger verify passes after erasure" lk ledger verify

printf 'email,name\n%s,Someone Else\n%s,Other\nfresh@example.org,Fresh\n' "$A1" "$A2" > "$T/re.csv"
out=$(lk import news "$T/re.csv" --confirmed --consent-note "bought list" 2>&1)
check "re-import skips both erased addresses" grep -q "1 added .* 2 skipped (opted out or erased)" <<<"$out"
if lk sub add news "$A1" --confirmed --consent-note x >/dev/null 2>&1; then
  bad "sub add of an erased address was accepted"
else ok "sub add of an erased address is refused"; fi
check "erased address still not held" grep -q "nothing is held" <<<"$(lk person show "$A1")"
check "ledger verify passes at the end" lk ledger verify
finish
