#!/usr/bin/env bash
# The JSON API of `serve --role admin` against its OpenAPI document: the
# document validated by @apidevtools/swagger-parser, every operation called
# and every answer validated against its schema by ajv (tests/e2e/
# api_check.mjs), with the bad input and access cases (unknown fields, wrong
# types, deep nesting, an oversized body, a read token that writes, IDOR, a
# stale ETag); here, what the store holds afterwards: the audit rows by id,
# the tokens' account, the unsubscribe.
LK=$1
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/admin_lib.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
for tool in node npm; do
  command -v "$tool" >/dev/null || { bad "$tool is missing: run scripts/deps.sh"; finish; exit 1; }
done
# node_modules from package-lock.json (once; several tests may start together)
need="$ROOT/node_modules/@apidevtools/swagger-parser/package.json $ROOT/node_modules/ajv/package.json"
missing() { local f; for f in $need; do [ -f "$f" ] || return 0; done; return 1; }
if missing; then
  (
    flock -w 180 9 || exit 1
    if missing; then cd "$ROOT" && timeout 170 npm ci --no-audit --no-fund --loglevel=error; fi
  ) 9>"${TMPDIR:-/tmp}/listkeeper-npm-ci.lock"
  check "npm ci installed swagger-parser and ajv" bash -c "! { $(declare -f missing); need='$need'; missing; }"
fi

lk init --dir "$T" >/dev/null
lk list create news >/dev/null
lk list create other >/dev/null
lk sub add news first@example.org --confirmed --consent-note test >/dev/null
lk sub add other secret@example.net --confirmed --consent-note test >/dev/null
for u in olga:owner:news xavier:owner:other mo:moderator:news; do
  IFS=: read -r name role list <<<"$u"
  echo "password of $name" | lk user add "$name" >/dev/null
  lk user role "$name" add "$role" "$list" >/dev/null
done
read_tok=$(lk token add --user olga --scope read)
write_tok=$(lk token add --user olga --scope write)
other_tok=$(lk token add --user xavier --scope write)
mod_tok=$(lk token add --user mo --scope read)
if admin_serve; then ok "serve --role admin printed its URL"; else
  bad "serve --role admin printed its URL"; cat "$T/alog"; finish; exit 1; fi

set +e
API_URL=$aurl API_SPEC="$ROOT/templates/openapi.json" API_READ=$read_tok API_WRITE=$write_tok \
  API_OTHER=$other_tok API_MOD=$mod_tok timeout -k 5 120 node "$ROOT/tests/e2e/api_check.mjs" >"$T/node.out" 2>&1
nrc=$?
set -e
grep -E "^FAIL|Error" "$T/node.out" || true
check "the API answers as its OpenAPI document says ($(tail -1 "$T/node.out"))" [ "$nrc" -eq 0 ]

check "a method the route does not take is 405" [ "$(areq /api/v1/jobs -X POST -H "Authorization: Bearer $write_tok" -H 'Content-Type: application/json' --data '{}')" = 405 ]
check "... as problem+json with Allow" grep -qi '^Allow: GET, HEAD' "$T/h"
check "... application/problem+json" grep -qi '^Content-Type: application/problem+json' "$T/h"
check "an unknown route is 404 problem+json" [ "$(areq /api/v1/nothing -H "Authorization: Bearer $read_tok")" = 404 ]
check "a 401 says Bearer" bash -c "[ \"\$(curl -s -o /dev/null -D - '$aurl/api/v1/lists' | grep -ci '^WWW-Authenticate: Bearer')\" = 1 ]"
check "the PATCH reached the store" grep -q 'News from the API' <<<"$(lk list show news)"
check "the API's unsubscribe reached the store" bash -c "! '$LK' sub ls news | grep -q api@example.org"
check "the member pages are audited by the token's account" \
  [ "$(q "SELECT count(*) FROM audit_log WHERE action='subscribers-view' AND actor='staff:olga (api)'")" -ge 3 ]
check "the look-ups are audited, found by id" \
  [ "$(q "SELECT count(*) FROM audit_log WHERE action='subscriber-find' AND subscriber_id > 0 AND actor='staff:olga (api)'")" = 1 ]
check "the settings change is audited" \
  [ "$(q "SELECT detail FROM audit_log WHERE action='list-set' AND actor='staff:olga (api)'")" = "title,digest" ]
if q "SELECT actor || detail FROM audit_log" | grep -q '@'; then bad "an address is in the audit log"; else ok "no address in the audit log"; fi
check "the other list was not touched" grep -q 'secret@example.net' <<<"$(lk sub ls other)"
check "the log has no address" bash -c "! grep -aqE 'example\\.(org|net)' '$T/alog'"
kill -TERM "$apid"; set +e; wait "$apid"; rc=$?; set -e; apid=
check "serve --role admin exits 0" [ "$rc" -eq 0 ]
finish
