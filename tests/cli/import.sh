#!/usr/bin/env bash
# `listkeeper import`: a nasty CSV with a UTF-8 BOM, CRLF line ends, broken
# quoting, bad addresses, duplicates, empty lines and over-long fields: every
# bad row is reported as FILE:LINE: reason, every good row is imported.
LK=$1
. "$(dirname "$0")/lib.bash"

lk init --dir "$T" >/dev/null
lk list create news >/dev/null
csv="$T/people.csv"
long=$(head -c 5000 /dev/zero | tr '\0' x)
{
  printf '\xef\xbb\xbfemail,name,country,format\r\n'      # 1 header with BOM, CRLF
  printf 'good1@example.org,Good One,DE,html\r\n'          # 2 ok
  printf 'not-an-address,Bad Address,,\r\n'                # 3 bad: no @
  printf '\r\n'                                            # 4 empty line
  printf '"good2@example.org","Two, with comma",,text\r\n' # 5 ok, quoted
  printf 'broken"quote@example.org,Broken,,\r\n'           # 6 bad: quote in unquoted field
  printf 'good3@example.org,"Multi\nLine",,\n'             # 7-8 ok: quoted newline, LF end
  printf 'good1@example.org,Duplicate of line 2,,\n'       # 9 duplicate
  printf 'good4@example.org,%s,,\n' "$long"                # 10 bad: over-long field
  printf 'GOOD5@Example.ORG,Five,,\n'                      # 11 ok: domain lower-cased
  printf 'good6@example.org,Six,,pdf\n'                    # 12 bad: format
  printf '"unterminated@example.org,Open quote,,\n'        # 13 bad: unterminated quote
  printf 'good7@example.org,Seven,,\n'                     # 14 ok after the stray quote
  printf '\n'                                              # 15 empty
  printf 'user@bücher.example,IDN,,\n'                     # 16 ok: IDN domain
  printf 'good8@example.org,No newline at end,,'           # 17 ok
} > "$csv"

set +e
lk import news "$csv" > "$T/out" 2> "$T/err"
rc=$?
set -e
cat "$T/err"
check "exit status 65 when some rows were bad" [ "$rc" -eq 65 ]
for line in 3 6 10 12 13; do
  check "bad row at line $line reported" grep -q "^$csv:$line: " "$T/err"
done
check "exactly five rows reported bad" [ "$(grep -c "^$csv:[0-9]*: " "$T/err")" -eq 5 ]
check "summary counts" grep -q "7 added (pending until they confirm), 1 already on the list, 0 skipped (opted out or erased), 5 bad" "$T/out"

lk export news > "$T/export.csv" 2>/dev/null
for a in good1@example.org good2@example.org good3@example.org GOOD5@example.org \
  good7@example.org user@xn--bcher-kva.example good8@example.org; do
  check "$a imported" grep -q "^$a," "$T/export.csv"
done
check "imported people are pending (double opt-in)" [ "$(grep -c ',pending,' "$T/export.csv")" -eq 7 ]
check "the quoted comma survived" grep -q '"Two, with comma"' "$T/export.csv"
check "unterminated row not imported" bash -c "! grep -q unterminated '$T/export.csv'"

# Formula injection: cells that start with = + - @ are escaped on export.
printf 'email,name\nf1@example.org,"=HYPERLINK(""http://evil"")"\nf2@example.org,+1 555\nf3@example.org,@SUM(A1)\nf4@example.org,-2\n' > "$T/f.csv"
lk import news "$T/f.csv" --confirmed --consent-note "test" >/dev/null
lk export news > "$T/export2.csv" 2>/dev/null
check "= escaped" grep -q "^f1@example.org,\"'=HYPERLINK(\"\"http://evil\"\")\"" "$T/export2.csv"
check "+ escaped" grep -q "^f2@example.org,\"'+1 555\"" "$T/export2.csv"
check "@ escaped" grep -q "^f3@example.org,\"'@SUM(A1)\"" "$T/export2.csv"
check "- escaped" grep -q "^f4@example.org,\"'-2\"" "$T/export2.csv"

# A file with no email column is refused at line 1, nothing imported.
printf 'name,country\nX,DE\n' > "$T/nohead.csv"
if lk import news "$T/nohead.csv" 2>"$T/err2"; then bad "file without email column accepted"; else
  check "missing email column reported at line 1" grep -q "nohead.csv:1:" "$T/err2"
fi
# --confirmed without a consent note is refused.
if lk import news "$csv" --confirmed >/dev/null 2>&1; then bad "--confirmed without note accepted"; else ok "--confirmed needs --consent-note"; fi
if lk export news --json 2>/dev/null | python3 -c 'import sys,json; assert len([json.loads(l) for l in sys.stdin]) == 11'; then
  ok "JSON export is one object per line"
else bad "JSON export"; fi
# Batches grow as an import goes on (3, 6, 12, ..., 30 rows here): across
# them every good row is imported and every bad row reported by its line.
lk list create grow >/dev/null
awk 'BEGIN { print "email"; for (i = 1; i <= 200; i++) print (i % 50 ? "g" i "@example.org" : "broken" i) }' > "$T/grow.csv"
rc=0
LISTKEEPER_IMPORT_BATCH=3 lk import grow "$T/grow.csv" --confirmed --consent-note "test" >/dev/null 2>"$T/grow.err" || rc=$?
check "grown batches: bad rows make the exit status 65" test "$rc" -eq 65
check "grown batches: all 196 good rows imported" test "$(lk sub ls grow 2>/dev/null | grep -c '@example.org')" -eq 196
check "grown batches: the bad row at line 201 reported" grep -q "grow.csv:201:" "$T/grow.err"
check "grown batches: 4 bad rows reported" test "$(grep -c 'grow.csv:' "$T/grow.err")" -eq 4
check "ledger verify" lk ledger verify
finish
