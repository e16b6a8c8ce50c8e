#!/usr/bin/env bash
# What `listkeeper inject` shows the MTA that runs it (docs/postfix.md): a
# pipe transport copies its stderr into the bounce sent to a possibly
# forged sender, so with stderr not a terminal and no --verbose stderr gets
# the SMTP-style reason alone, one line, and the log (a refused token,
# which step failed) goes to syslog; --verbose puts the log back on stderr.
# Then `listkeeper postfix maps`, checked with Postfix's own postmap.
LK=$1
. "$(dirname "$0")/lib.bash"

lk init --dir "$T" --domain lists.example.org >/dev/null
lk list create news >/dev/null
lk list create other --domain other.example.org >/dev/null
export LISTKEEPER_LOG_LEVEL=info
msg="$T/m.eml"
printf 'From: mailer-daemon@example.net\nTo: x\nSubject: x\n\nx\n' >"$msg"
forged=news-bounces+aaaaaaaaaaaaaaaaaaaaaaaaaaaa@lists.example.org

# inject as an MTA runs it: stdin a file, stderr a file (not a terminal)
rc=0; "$LK" inject --recipient "$forged" <"$msg" 2>"$T/err" || rc=$?
check "forged token: exit 67" [ "$rc" = 67 ]
check "forged token: stderr is one line" [ "$(wc -l <"$T/err")" = 1 ]
check "forged token: that line is the SMTP reply alone" [ "$(cat "$T/err")" = "550 5.1.1 No such recipient" ]
check "forged token: no log line on stderr" bash -c "! grep -q 'level=\|refused\|intake:' '$T/err'"

# --verbose: the log on stderr too, and the reason still last
rc=0; "$LK" inject --verbose --recipient "$forged" <"$msg" 2>"$T/err" || rc=$?
check "--verbose: exit 67" [ "$rc" = 67 ]
check "--verbose: the log is on stderr" grep -q "level=info .*intake: rcpt list=news kind=bounces refused" "$T/err"
check "--verbose: the reason is the last line" [ "$(tail -1 "$T/err")" = "550 5.1.1 No such recipient" ]

# a terminal gets the log without --verbose (script(1) gives inject a pty)
if command -v script >/dev/null; then
  script -qec "'$LK' inject --recipient '$forged' <'$msg'" /dev/null >"$T/tty" 2>&1 || true
  check "on a terminal: the log is shown" grep -q "kind=bounces refused" "$T/tty"
fi

# the other refusals: one SMTP-style line each
rc=0; "$LK" inject --recipient news-request@lists.example.org </dev/null 2>"$T/err" || rc=$?
check "empty message: 65, one line" [ "$rc:$(cat "$T/err")" = "65:554 5.6.0 No message" ]
rc=0; "$LK" inject <"$msg" 2>"$T/err" || rc=$?
check "no recipient: 65, one line" [ "$rc:$(cat "$T/err")" = "65:554 5.1.3 No usable recipient" ]
# a broken setup: the config path must not leave the site
rc=0; LISTKEEPER_CONFIG="$T/nosuch/listkeeper.conf" "$LK" inject --recipient news@lists.example.org <"$msg" 2>"$T/err" || rc=$?
check "broken setup: 75, one line, no path" \
  [ "$rc:$(cat "$T/err")" = "75:451 4.3.0 Temporary local problem, try again later" ]
rc=0; LISTKEEPER_CONFIG="$T/nosuch/listkeeper.conf" "$LK" inject --verbose --recipient news@lists.example.org <"$msg" 2>"$T/err" || rc=$?
check "broken setup with --verbose: says why" grep -q "nosuch/listkeeper.conf" "$T/err"
# a message taken: nothing at all on stderr
printf 'From: ada@example.org\nTo: news-request@lists.example.org\nSubject: help\nMessage-ID: <h1@example.org>\n\nhelp\n' >"$T/help.eml"
rc=0; "$LK" inject --recipient news-request@lists.example.org --sender ada@example.org <"$T/help.eml" 2>"$T/err" || rc=$?
check "a message taken: 0, stderr empty" [ "$rc:$(wc -c <"$T/err")" = "0:0" ]

# postfix maps: every address of every list, the command address per domain
lk postfix maps >"$T/maps"
check "maps: 6 addresses a list and a command address a domain" [ "$(wc -l <"$T/maps")" = 14 ]
check "maps: news-bounces without its token" grep -qx "news-bounces@lists.example.org	x" "$T/maps"
check "maps: the command address at the other domain" grep -qx "listkeeper@other.example.org	x" "$T/maps"
lk postfix maps --output "$T/list_recipients"
check "--output writes the same" cmp -s "$T/maps" "$T/list_recipients"
if command -v postmap >/dev/null; then
  mkdir -p "$T/pf"; : >"$T/pf/main.cf" # postmap wants a configuration directory
  postmap -c "$T/pf" "hash:$T/list_recipients"
  check "postmap: the VERP address's base is found" \
    [ "$(postmap -c "$T/pf" -q news-bounces@lists.example.org "hash:$T/list_recipients")" = x ]
  check "postmap: an unknown address is not" \
    bash -c "! postmap -c '$T/pf' -q nosuch@lists.example.org 'hash:$T/list_recipients'"
fi
lk list delete other --yes >/dev/null
lk postfix maps --output "$T/list_recipients"
check "after list delete: the list is gone from the map" bash -c "! grep -q other.example.org '$T/list_recipients'"
finish
