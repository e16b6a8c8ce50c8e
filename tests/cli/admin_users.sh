#!/usr/bin/env bash
# Accounts of the admin interface: `user add|ls|rm|passwd|role` and
# `token add`. Passwords come on stdin and are kept only as Argon2id hashes;
# roles need their list (admin none); removing an account or a list takes
# its roles, sessions and tokens with it; tokens are kept as keyed hashes.
LK=$1
. "$(dirname "$0")/lib.bash"
lk init --dir "$T" >/dev/null
lk list create news >/dev/null
lk list create other >/dev/null
q() { sqlite3 "$T/listkeeper.db" "$1"; }

check "user add reads the password from stdin" bash -c "echo 'correct horse battery' | '$LK' user add alice >/dev/null"
check "the hash is Argon2id, not the password" [ "$(q "SELECT substr(pw_hash,1,10) FROM staff WHERE name='alice'")" = '$argon2id$' ]
if q "SELECT pw_hash FROM staff" | grep -q 'correct horse'; then bad "the password is stored"; else ok "the password is not stored"; fi
set +e
echo 'another long password' | "$LK" user add alice >/dev/null 2>"$T/err"; rc=$?
set -e
check "a taken name is 65" [ "$rc" -eq 65 ]
check "... saying so" grep -q "already" "$T/err"
set +e
echo 'short' | "$LK" user add bob >/dev/null 2>"$T/err"; rc=$?
set -e
check "a short password is 65" [ "$rc" -eq 65 ]
check "... naming the bound" grep -q "10 to 1024 bytes" "$T/err"
set +e
echo 'a long enough one' | "$LK" user add 'Bob Smith' >/dev/null 2>"$T/err"; rc=$?
set -e
check "a bad name is 65" [ "$rc" -eq 65 ]
set +e
"$LK" user add carol </dev/null >/dev/null 2>&1; rc=$?
set -e
check "no password on stdin is 64" [ "$rc" -eq 64 ]
check "carol was not added" [ "$(q "SELECT count(*) FROM staff WHERE name='carol'")" = 0 ]

echo 'owner password 1' | lk user add olga >/dev/null
echo 'moderator pass 1' | lk user add mo >/dev/null
check "role add admin" lk user role alice add admin
check "role add owner of news" lk user role olga add owner news
check "role add moderator of other" lk user role mo add moderator other
set +e
lk user role olga add owner news >/dev/null 2>&1; rc1=$?
lk user role olga add owner >/dev/null 2>&1; rc2=$?
lk user role alice add admin news >/dev/null 2>&1; rc3=$?
lk user role olga add owner nolist >/dev/null 2>&1; rc4=$?
lk user role olga add king news >/dev/null 2>&1; rc5=$?
lk user role nobody add owner news >/dev/null 2>&1; rc6=$?
set -e
check "a role held already is 65" [ "$rc1" -eq 65 ]
check "owner without a list is 64" [ "$rc2" -eq 64 ]
check "admin of a list is 64" [ "$rc3" -eq 64 ]
check "a list that does not exist is 65" [ "$rc4" -eq 65 ]
check "an unknown role is 64" [ "$rc5" -eq 64 ]
check "an unknown account is 65" [ "$rc6" -eq 65 ]
out=$(lk user ls)
check "ls shows alice as admin" grep -qx "alice admin" <<<"$out"
check "ls shows olga as owner of news" grep -qx "olga owner:news" <<<"$out"
check "ls shows mo as moderator of other" grep -qx "mo moderator:other" <<<"$out"

tok=$(lk token add --user olga --scope read)
check "token add prints an lk_ token" grep -Eqx 'lk_[0-9a-f]{64}' <<<"$tok"
check "the token is kept hashed" [ "$(q "SELECT count(*) FROM api_tokens WHERE hex(hash) LIKE '%${tok#lk_}%'")" = 0 ]
check "... with its scope" [ "$(q "SELECT scope FROM api_tokens")" = read ]
set +e
lk token add --user olga --scope admin >/dev/null 2>&1; rc=$?
set -e
check "an unknown scope is 64" [ "$rc" -eq 64 ]

old=$(q "SELECT pw_hash FROM staff WHERE name='olga'")
q "INSERT INTO staff_sessions VALUES (randomblob(32), (SELECT id FROM staff WHERE name='olga'), 0, 0)"
echo 'a new owner password' | lk user passwd olga >/dev/null
check "passwd changes the hash" [ "$(q "SELECT pw_hash FROM staff WHERE name='olga'")" != "$old" ]
check "passwd ends the account's sessions" [ "$(q "SELECT count(*) FROM staff_sessions")" = 0 ]

lk list delete other --yes >/dev/null
check "deleting a list takes its roles" [ "$(q "SELECT count(*) FROM staff_roles WHERE role='moderator'")" = 0 ]
check "user rm" lk user rm olga
check "... takes its roles and tokens" [ "$(q "SELECT (SELECT count(*) FROM staff_roles WHERE role='owner') + (SELECT count(*) FROM api_tokens)")" = 0 ]
set +e
lk user rm olga >/dev/null 2>&1; rc=$?
set -e
check "rm of an unknown account is 65" [ "$rc" -eq 65 ]
check "the audit log has the account changes" [ "$(q "SELECT count(*) FROM audit_log WHERE action LIKE 'staff-%' OR action = 'token-add'")" -ge 8 ]
if q "SELECT detail FROM audit_log" | grep -q 'horse'; then bad "a password reached the audit log"; else ok "no password in the audit log"; fi
finish
